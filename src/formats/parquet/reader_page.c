/*
 * reader_page.c: the pages of a column chunk: page headers, decompression,
 * the dictionary page, data pages v1/v2 with their definition levels, and
 * setting up each page's value section for its encoding.
 */
#include "formats/parquet/codec.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <stdio.h>
#include <string.h>

/*
 * Decompresses a page body into c->page (or borrows it when stored
 * uncompressed). No ratio to the compressed size is assumed: a repetitive
 * 15 MB value legitimately compresses to a few hundred bytes. The claim is
 * bounded by what the page header's type allows (int32) and by what the
 * codec can encode, and the buffer grows with the bytes actually produced
 * (sl_codec_decompress_grow), so a forged header cannot make the reader
 * allocate more than its data expands to.
 */
static int inflate(pqr_col *c, const uint8_t *src, size_t n, size_t usize, bool compressed,
		   const uint8_t **out, size_t *out_n, sl_error *err)
{
	if (!compressed || c->codec == SL_CODEC_UNCOMPRESSED) {
		*out = src;
		*out_n = n;
		return 0;
	}
	if (usize > (size_t)INT32_MAX)
		return pqr_col_fail(c, err, "page claims %zu uncompressed bytes", usize);
	int rc = sl_codec_decompress_grow((sl_codec)c->codec, src, n, usize, &c->page,
					  &c->page_cap, err);
	if (rc == SL_ENOMEM)
		return sl_error_set(err, rc, "%s: out of memory decompressing a page of %zu bytes",
				    c->file, usize);
	if (rc < 0) {
		char msg[sizeof err->message];
		snprintf(msg, sizeof msg, "%s", err->message);
		return pqr_col_fail(c, err, "%s", msg);
	}
	*out = c->page;
	*out_n = usize;
	return 0;
}

static int load_dict(pqr_col *c, const pqr_page_header *h, const uint8_t *data, sl_error *err)
{
	const pqr_leaf *l = c->leaf;
	const uint8_t *p;
	size_t len;
	int rc;

	if (!h->has_dict)
		return pqr_col_fail(c, err, "dictionary page without a dictionary page header");
	if (c->has_dict)
		return pqr_col_fail(c, err, "more than one dictionary page");
	if (h->dict_encoding != PQ_ENC_PLAIN && h->dict_encoding != PQ_ENC_PLAIN_DICTIONARY)
		return pqr_col_fail(c, err, "dictionary page uses %s",
				    pqr_encoding_name(h->dict_encoding));
	if (h->dict_num_values < 0)
		return pqr_col_fail(c, err, "negative dictionary size");
	if ((rc = inflate(c, data, (size_t)h->compressed_size, (size_t)h->uncompressed_size, true,
			  &p, &len, err)) < 0)
		return rc;
	size_t n = (size_t)h->dict_num_values;
	size_t pw = pqr_phys_width(l);

	if (l->type.id == SL_BOOL)
		return pqr_col_fail(c, err, "dictionary encoding of booleans is not supported");
	if (l->conv == PQR_CV_STR) {
		if (n > len / 4)
			return pqr_col_fail(c, err, "dictionary of %zu strings in %zu bytes", n, len);
		c->dict_off = sl_malloc((n + 1) * sizeof *c->dict_off);
		c->dict_data = sl_malloc(len + 1);
		if (!c->dict_off || !c->dict_data)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		size_t pos = 0, out = 0;
		c->dict_off[0] = 0;
		for (size_t i = 0; i < n; i++) {
			if (len - pos < 4)
				return pqr_col_fail(c, err, "dictionary page is truncated");
			uint32_t sl = pqr_le32(p + pos);
			pos += 4;
			if (sl > len - pos)
				return pqr_col_fail(c, err, "dictionary string overruns the page");
			memcpy(c->dict_data + out, p + pos, sl);
			pos += sl;
			out += sl;
			c->dict_off[i + 1] = (uint32_t)out;
		}
	} else if (l->conv == PQR_CV_UUID) {
		if (n > len / 16)
			return pqr_col_fail(c, err, "dictionary of %zu UUIDs in %zu bytes", n, len);
		c->dict_off = sl_malloc((n + 1) * sizeof *c->dict_off);
		c->dict_data = sl_malloc(n * 36 + 1);
		if (!c->dict_off || !c->dict_data)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		c->dict_off[0] = 0;
		for (size_t i = 0; i < n; i++) {
			pqr_format_uuid(p + 16 * i, c->dict_data + 36 * i);
			c->dict_off[i + 1] = (uint32_t)(36 * (i + 1));
		}
	} else {
		/* Check the count against the page before allocating for it: each
		 * value takes pw bytes, or a 4-byte length prefix at least. */
		size_t tw = pqr_target_width(l->type.id);
		size_t min = l->physical == PQ_BYTE_ARRAY ? 4 : pw;
		if (min == 0 || n > len / min)
			return pqr_col_fail(c, err, "dictionary of %zu values in %zu bytes", n, len);
		c->dict_vals = sl_malloc((n ? n : 1) * tw);
		if (!c->dict_vals)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		if (l->physical == PQ_BYTE_ARRAY) {
			size_t pos = 0;
			sl_i128 *d = c->dict_vals;
			for (size_t i = 0; i < n; i++) {
				if (len - pos < 4)
					return pqr_col_fail(c, err, "dictionary page is truncated");
				uint32_t sl = pqr_le32(p + pos);
				pos += 4;
				if (sl > len - pos)
					return pqr_col_fail(c, err, "dictionary value overruns the page");
				if (pqr_be_to_i128(p + pos, sl, &d[i]) < 0)
					return pqr_col_fail(c, err, "decimal value wider than 128 bits");
				pos += sl;
			}
		} else {
			if (pqr_convert_plain(l->conv, p, c->dict_vals, n, pw) < 0)
				return pqr_col_fail(c, err, "dictionary value cannot be converted");
		}
	}
	c->dict_n = (int64_t)n;
	c->has_dict = true;
	return 0;
}

static int open_values(pqr_col *c, int enc, const uint8_t *p, const uint8_t *end, int64_t nvals,
		       sl_error *err)
{
	const pqr_leaf *l = c->leaf;
	size_t n = (size_t)(end - p);

	c->enc = enc;
	c->vp = p;
	c->vend = end;
	c->page_left = nvals;
	c->values_left -= nvals;
	if (n == 0 && enc != PQ_ENC_PLAIN) {
		c->enc = PQR_ENC_EMPTY;
		return 0;
	}
	switch (enc) {
	case PQ_ENC_PLAIN:
		c->bitpos = 0;
		return 0;
	case PQ_ENC_PLAIN_DICTIONARY:
	case PQ_ENC_RLE_DICTIONARY:
		if (!c->has_dict)
			return pqr_col_fail(c, err, "dictionary-encoded page but no dictionary page");
		if (p[0] > 32)
			return pqr_col_fail(c, err, "dictionary index width %d", p[0]);
		pqr_rle_init(&c->idx, p + 1, n - 1, p[0]);
		return 0;
	case PQ_ENC_RLE:
		if (l->physical != PQ_BOOLEAN)
			return pqr_col_fail(c, err, "RLE encoding for a non-boolean column");
		if (n < 4 || pqr_le32(p) > n - 4)
			return pqr_col_fail(c, err, "RLE data length overruns the page");
		pqr_rle_init(&c->idx, p + 4, pqr_le32(p), 1);
		return 0;
	case PQ_ENC_DELTA_BINARY_PACKED:
		if (l->physical != PQ_INT32 && l->physical != PQ_INT64)
			break;
		if (pqr_delta_init(&c->d1, p, n) < 0)
			return pqr_col_fail(c, err, "corrupt DELTA_BINARY_PACKED header");
		return 0;
	case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
		if (l->physical != PQ_BYTE_ARRAY)
			break;
		const uint8_t *e;
		if (pqr_delta_init(&c->d1, p, n) < 0 || !(e = pqr_delta_end(&c->d1)))
			return pqr_col_fail(c, err, "corrupt DELTA_LENGTH_BYTE_ARRAY lengths");
		c->vp = e;
		return 0;
	}
	case PQ_ENC_DELTA_BYTE_ARRAY: {
		if (l->physical != PQ_BYTE_ARRAY && l->physical != PQ_FIXED_LEN_BYTE_ARRAY)
			break;
		const uint8_t *e1, *e2;
		if (pqr_delta_init(&c->d1, p, n) < 0 || !(e1 = pqr_delta_end(&c->d1)) ||
		    pqr_delta_init(&c->d2, e1, (size_t)(end - e1)) < 0 ||
		    !(e2 = pqr_delta_end(&c->d2)) || c->d1.total != c->d2.total)
			return pqr_col_fail(c, err, "corrupt DELTA_BYTE_ARRAY prefix or suffix lengths");
		c->vp = e2;
		c->prev.len = 0;
		return 0;
	}
	case PQ_ENC_BYTE_STREAM_SPLIT: {
		size_t pw = pqr_phys_width(l);
		if (pw == 0 || pw > 16 || l->physical == PQ_INT96)
			break;
		if (n % pw)
			return pqr_col_fail(c, err,
					    "BYTE_STREAM_SPLIT data of %zu bytes for %zu-byte values",
					    n, pw);
		c->bss_n = (int64_t)(n / pw);
		c->bss_i = 0;
		return 0;
	}
	default:
		break;
	}
	return pqr_col_fail(c, err, "uses encoding %s, which sluice does not read for this type",
			    pqr_encoding_name(enc));
}

static int open_v1(pqr_col *c, const pqr_page_header *h, const uint8_t *data, sl_error *err)
{
	const uint8_t *p;
	size_t n;
	int rc;
	if (!h->has_v1)
		return pqr_col_fail(c, err, "data page without a data page header");
	if (h->num_values < 0 || h->num_values > c->values_left)
		return pqr_col_fail(c, err, "page holds %d values but only %lld are left in the chunk",
				    h->num_values, (long long)c->values_left);
	if ((rc = inflate(c, data, (size_t)h->compressed_size, (size_t)h->uncompressed_size, true,
			  &p, &n, err)) < 0)
		return rc;
	const uint8_t *end = p + n;
	c->has_defs = c->leaf->optional;
	if (c->has_defs) {
		if (h->def_encoding != PQ_ENC_RLE)
			return pqr_col_fail(c, err, "definition levels use %s, which sluice does not read",
					    pqr_encoding_name(h->def_encoding));
		if (n < 4 || pqr_le32(p) > n - 4)
			return pqr_col_fail(c, err, "definition levels overrun the page");
		pqr_rle_init(&c->defs, p + 4, pqr_le32(p), 1);
		p += 4 + pqr_le32(p);
	}
	return open_values(c, h->encoding, p, end, h->num_values, err);
}

static int open_v2(pqr_col *c, const pqr_page_header *h, const uint8_t *data, sl_error *err)
{
	const uint8_t *p;
	size_t n;
	int rc;
	if (!h->has_v2)
		return pqr_col_fail(c, err, "data page v2 without its header");
	if (h->num_values < 0 || h->num_values > c->values_left)
		return pqr_col_fail(c, err, "page holds %d values but only %lld are left in the chunk",
				    h->num_values, (long long)c->values_left);
	int64_t lv = (int64_t)h->rep_len + h->def_len;
	if (h->rep_len < 0 || h->def_len < 0 || lv > h->compressed_size || lv > h->uncompressed_size)
		return pqr_col_fail(c, err, "level lengths overrun the page");
	if ((rc = inflate(c, data + lv, (size_t)(h->compressed_size - lv),
			  (size_t)(h->uncompressed_size - lv), h->is_compressed, &p, &n, err)) < 0)
		return rc;
	c->has_defs = c->leaf->optional;
	if (c->has_defs)
		pqr_rle_init(&c->defs, data + h->rep_len, (size_t)h->def_len, 1);
	return open_values(c, h->encoding, p, p + n, h->num_values, err);
}

/* Moves to the next data page that holds values, loading a dictionary on the way. */
int pqr_next_page(pqr_col *c, sl_error *err)
{
	for (;;) {
		pqr_page_header h;
		size_t used;
		int rc;
		if (c->values_left <= 0 || c->pos >= c->chunk_len)
			return pqr_col_fail(c, err, "column chunk ends before its row group's rows "
					    "(%lld values missing)", (long long)c->values_left);
		rc = pqr_parse_page_header(&h, c->chunk + c->pos, c->chunk_len - c->pos, &used,
					   c->where.data, err);
		if (rc < 0)
			return rc;
		c->pos += used;
		if ((size_t)h.compressed_size > c->chunk_len - c->pos)
			return pqr_col_fail(c, err, "page of %d bytes overruns the column chunk",
					    h.compressed_size);
		const uint8_t *data = c->chunk + c->pos;
		c->pos += (size_t)h.compressed_size;
		switch (h.type) {
		case PQ_PAGE_DICTIONARY: rc = load_dict(c, &h, data, err); break;
		case PQ_PAGE_DATA: rc = open_v1(c, &h, data, err); break;
		case PQ_PAGE_DATA_V2: rc = open_v2(c, &h, data, err); break;
		default: continue;
		}
		if (rc < 0)
			return rc;
		if (c->page_left > 0)
			return 0;
	}
}
