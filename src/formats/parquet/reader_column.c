/*
 * reader_column.c: decoding one column chunk, page by page, into sl_column
 * values: dictionary pages (converted once to the sluice type), data pages
 * v1 and v2, definition levels, and the PLAIN, dictionary, RLE, DELTA_* and
 * BYTE_STREAM_SPLIT value encodings. Rows are decoded in steps of STEP so
 * every scratch array is small and fixed.
 */
#include "formats/parquet/codec.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define STEP 1024
#define ENC_EMPTY (-1) /* a page whose value section is empty */

static int col_fail(pqr_col *c, sl_error *err, const char *fmt, ...) SL_PRINTF(3, 4);
static int col_fail(pqr_col *c, sl_error *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sl_error_set(err, SL_EFORMAT, "%s: column %s (row group %d): %s", c->file,
			    c->leaf->name, c->rg, msg);
}

static const char *codec_name(int codec)
{
	static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
				      "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
	return codec >= 0 && codec < 8 ? names[codec] : "an unknown codec";
}

static const char *encoding_name(int enc)
{
	static const char *names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
				      "BIT_PACKED", "DELTA_BINARY_PACKED",
				      "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
				      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
	return enc >= 0 && enc < 10 ? names[enc] : "an unknown encoding";
}

static size_t phys_width(const pqr_leaf *l)
{
	switch (l->physical) {
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_INT96: return 12;
	case PQ_FIXED_LEN_BYTE_ARRAY: return (size_t)l->type_length;
	default: return 0;
	}
}

static size_t target_width(sl_type_id id)
{
	switch (id) {
	case SL_INT32: case SL_DATE: return 4;
	case SL_INT64: case SL_TIMESTAMP: case SL_FLOAT64: return 8;
	case SL_DECIMAL: return 16;
	default: return 0;
	}
}

static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline int64_t le64(const uint8_t *p)
{
	int64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Big-endian two's complement of n bytes to int128; -1 when it does not fit. */
static inline int be_to_i128(const uint8_t *p, size_t n, sl_i128 *out)
{
	if (n == 0) {
		*out = 0;
		return 0;
	}
	bool neg = p[0] & 0x80;
	while (n > 16) {
		if (p[0] != (neg ? 0xff : 0x00))
			return -1;
		p++;
		n--;
	}
	unsigned __int128 v = neg ? ~(unsigned __int128)0 : 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (n == 16 && (bool)(p[0] & 0x80) != neg)
		return -1;
	*out = (sl_i128)v;
	return 0;
}

static double half_to_double(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;
	if (exp == 0)
		v = ldexp(mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp(mant + 1024, exp - 25);
	return sign ? -v : v;
}

/* Micros since the epoch of an INT96 (nanos of day, Julian day) value. */
static inline int64_t int96_micros(const uint8_t *p)
{
	int64_t nanos = le64(p);
	int32_t jd;
	memcpy(&jd, p + 8, 4);
	uint64_t days = (uint64_t)((int64_t)jd - 2440588);
	return (int64_t)(days * (uint64_t)SL_MICROS_PER_DAY + (uint64_t)floor_div(nanos, 1000));
}

/* Converts n PLAIN-layout values of width pw at src into the target type. */
static int convert_plain(pqr_conv conv, const uint8_t *src, void *dst, size_t n, size_t pw)
{
	switch (conv) {
	case PQR_CV_I32:
		memcpy(dst, src, n * 4);
		return 0;
	case PQR_CV_I64:
	case PQR_CV_DOUBLE:
		memcpy(dst, src, n * 8);
		return 0;
	case PQR_CV_U32_I64: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = le32(src + 4 * i);
		return 0;
	}
	case PQR_CV_I32_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int32_t)le32(src + 4 * i);
		return 0;
	}
	case PQR_CV_I64_MILLIS: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int64_t)((uint64_t)le64(src + 8 * i) * 1000u);
		return 0;
	}
	case PQR_CV_I64_NANOS: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = floor_div(le64(src + 8 * i), 1000);
		return 0;
	}
	case PQR_CV_I64_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = le64(src + 8 * i);
		return 0;
	}
	case PQR_CV_U64_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (sl_i128)(uint64_t)le64(src + 8 * i);
		return 0;
	}
	case PQR_CV_INT96: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = int96_micros(src + 12 * i);
		return 0;
	}
	case PQR_CV_FLOAT: {
		double *d = dst;
		for (size_t i = 0; i < n; i++) {
			float f;
			memcpy(&f, src + 4 * i, 4);
			d[i] = f;
		}
		return 0;
	}
	case PQR_CV_HALF: {
		double *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = half_to_double((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
		return 0;
	}
	case PQR_CV_BIN_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			if (be_to_i128(src + pw * i, pw, &d[i]) < 0)
				return -1;
		return 0;
	}
	default:
		return -1;
	}
}

/* Converts n integers decoded by DELTA_BINARY_PACKED into the target type. */
static int convert_ints(pqr_conv conv, const int64_t *src, void *dst, size_t n)
{
	switch (conv) {
	case PQR_CV_I32: {
		int32_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int32_t)(uint32_t)(uint64_t)src[i];
		return 0;
	}
	case PQR_CV_U32_I64: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (uint32_t)(uint64_t)src[i];
		return 0;
	}
	case PQR_CV_I32_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int32_t)(uint32_t)(uint64_t)src[i];
		return 0;
	}
	case PQR_CV_I64:
		memcpy(dst, src, n * 8);
		return 0;
	case PQR_CV_I64_MILLIS: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int64_t)((uint64_t)src[i] * 1000u);
		return 0;
	}
	case PQR_CV_I64_NANOS: {
		int64_t *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = floor_div(src[i], 1000);
		return 0;
	}
	case PQR_CV_I64_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = src[i];
		return 0;
	}
	case PQR_CV_U64_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (sl_i128)(uint64_t)src[i];
		return 0;
	}
	default:
		return -1;
	}
}

static const char hexdig[] = "0123456789abcdef";

static void format_uuid(const uint8_t *p, char *out)
{
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexdig[p[i] >> 4];
		out[o++] = hexdig[p[i] & 15];
	}
}

/* ------------------------------------------------------------ the chunk */

static void reset_dict(pqr_col *c)
{
	sl_free(c->dict_vals);
	sl_free(c->dict_off);
	sl_free(c->dict_data);
	c->dict_vals = NULL;
	c->dict_off = NULL;
	c->dict_data = NULL;
	c->has_dict = false;
	c->dict_n = 0;
}

void pqr_col_free(pqr_col *c)
{
	if (!c)
		return;
	reset_dict(c);
	sl_free(c->chunk);
	sl_free(c->page);
	sl_buf_free(&c->prev);
	sl_buf_free(&c->scratch);
	memset(c, 0, sizeof *c);
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	uint8_t *p = sl_realloc(*buf, n);
	if (!p)
		return SL_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int pqr_col_load(pqr_col *c, sl_input *in, const pqr_leaf *leaf, const pqr_chunk_meta *m,
		 int rg, sl_error *err)
{
	int rc;
	c->leaf = leaf;
	c->file = in->name;
	c->rg = rg;
	c->codec = m->codec;
	reset_dict(c);
	c->page_left = 0;
	c->pos = 0;
	c->chunk_len = 0;
	c->values_left = m->num_values;

	if (m->codec != SL_CODEC_UNCOMPRESSED && m->codec != SL_CODEC_SNAPPY &&
	    m->codec != SL_CODEC_GZIP && m->codec != SL_CODEC_ZSTD)
		return col_fail(c, err, "compressed with %s, which sluice does not read "
				"(supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD)", codec_name(m->codec));
	int64_t start = m->data_page_offset;
	if (m->dict_page_offset >= 4 && m->dict_page_offset < start)
		start = m->dict_page_offset;
	int64_t len = m->total_compressed;
	uint64_t size = in->size;
	if (start < 4 || len < 0 || (uint64_t)start > size || (uint64_t)len > size - (uint64_t)start)
		return col_fail(c, err, "column chunk at offset %lld of %lld bytes lies outside "
				"the file (%llu bytes; truncated?)", (long long)start,
				(long long)len, (unsigned long long)size);
	if (m->num_values < 0)
		return col_fail(c, err, "negative value count");
	if ((rc = grow(&c->chunk, &c->chunk_cap, (size_t)len + 1)) < 0)
		return sl_error_set(err, rc, "%s: out of memory reading a column chunk of %lld bytes",
				    c->file, (long long)len);
	if ((rc = in->read_at(in, (uint64_t)start, c->chunk, (size_t)len, err)) < 0)
		return rc;
	c->chunk_len = (size_t)len;
	return 0;
}

/*
 * Decompresses a page body into c->page (or borrows it when stored
 * uncompressed). Uncompressed sizes are capped relative to the compressed
 * size so a corrupt header cannot request a huge allocation.
 */
static int inflate(pqr_col *c, const uint8_t *src, size_t n, size_t usize, bool compressed,
		   const uint8_t **out, size_t *out_n, sl_error *err)
{
	if (!compressed || c->codec == SL_CODEC_UNCOMPRESSED) {
		*out = src;
		*out_n = n;
		return 0;
	}
	if (usize > ((size_t)1 << 30) || usize > n * 4096 + ((size_t)8 << 20))
		return col_fail(c, err, "page claims %zu uncompressed bytes from %zu compressed", usize,
				n);
	int rc = grow(&c->page, &c->page_cap, usize + 1);
	if (rc < 0)
		return sl_error_set(err, rc, "%s: out of memory decompressing a page", c->file);
	rc = sl_codec_decompress((sl_codec)c->codec, src, n, c->page, usize, err);
	if (rc < 0) {
		char msg[sizeof err->message];
		snprintf(msg, sizeof msg, "%s", err->message);
		return col_fail(c, err, "%s", msg);
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
		return col_fail(c, err, "dictionary page without a dictionary page header");
	if (c->has_dict)
		return col_fail(c, err, "more than one dictionary page");
	if (h->dict_encoding != PQ_ENC_PLAIN && h->dict_encoding != PQ_ENC_PLAIN_DICTIONARY)
		return col_fail(c, err, "dictionary page uses %s", encoding_name(h->dict_encoding));
	if (h->dict_num_values < 0)
		return col_fail(c, err, "negative dictionary size");
	if ((rc = inflate(c, data, (size_t)h->compressed_size, (size_t)h->uncompressed_size, true,
			  &p, &len, err)) < 0)
		return rc;
	size_t n = (size_t)h->dict_num_values;
	size_t pw = phys_width(l);

	if (l->type.id == SL_BOOL)
		return col_fail(c, err, "dictionary encoding of booleans is not supported");
	if (l->conv == PQR_CV_STR) {
		if (n > len / 4)
			return col_fail(c, err, "dictionary of %zu strings in %zu bytes", n, len);
		c->dict_off = sl_malloc((n + 1) * sizeof *c->dict_off);
		c->dict_data = sl_malloc(len + 1);
		if (!c->dict_off || !c->dict_data)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		size_t pos = 0, out = 0;
		c->dict_off[0] = 0;
		for (size_t i = 0; i < n; i++) {
			if (len - pos < 4)
				return col_fail(c, err, "dictionary page is truncated");
			uint32_t sl = le32(p + pos);
			pos += 4;
			if (sl > len - pos)
				return col_fail(c, err, "dictionary string overruns the page");
			memcpy(c->dict_data + out, p + pos, sl);
			pos += sl;
			out += sl;
			c->dict_off[i + 1] = (uint32_t)out;
		}
	} else if (l->conv == PQR_CV_UUID) {
		if (n > len / 16)
			return col_fail(c, err, "dictionary of %zu UUIDs in %zu bytes", n, len);
		c->dict_off = sl_malloc((n + 1) * sizeof *c->dict_off);
		c->dict_data = sl_malloc(n * 36 + 1);
		if (!c->dict_off || !c->dict_data)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		c->dict_off[0] = 0;
		for (size_t i = 0; i < n; i++) {
			format_uuid(p + 16 * i, c->dict_data + 36 * i);
			c->dict_off[i + 1] = (uint32_t)(36 * (i + 1));
		}
	} else {
		/* Check the count against the page before allocating for it: each
		 * value takes pw bytes, or a 4-byte length prefix at least. */
		size_t tw = target_width(l->type.id);
		size_t min = l->physical == PQ_BYTE_ARRAY ? 4 : pw;
		if (min == 0 || n > len / min)
			return col_fail(c, err, "dictionary of %zu values in %zu bytes", n, len);
		c->dict_vals = sl_malloc((n ? n : 1) * tw);
		if (!c->dict_vals)
			return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a dictionary", c->file);
		if (l->physical == PQ_BYTE_ARRAY) {
			size_t pos = 0;
			sl_i128 *d = c->dict_vals;
			for (size_t i = 0; i < n; i++) {
				if (len - pos < 4)
					return col_fail(c, err, "dictionary page is truncated");
				uint32_t sl = le32(p + pos);
				pos += 4;
				if (sl > len - pos)
					return col_fail(c, err, "dictionary value overruns the page");
				if (be_to_i128(p + pos, sl, &d[i]) < 0)
					return col_fail(c, err, "decimal value wider than 128 bits");
				pos += sl;
			}
		} else {
			if (convert_plain(l->conv, p, c->dict_vals, n, pw) < 0)
				return col_fail(c, err, "dictionary value cannot be converted");
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
		c->enc = ENC_EMPTY;
		return 0;
	}
	switch (enc) {
	case PQ_ENC_PLAIN:
		c->bitpos = 0;
		return 0;
	case PQ_ENC_PLAIN_DICTIONARY:
	case PQ_ENC_RLE_DICTIONARY:
		if (!c->has_dict)
			return col_fail(c, err, "dictionary-encoded page but no dictionary page");
		if (p[0] > 32)
			return col_fail(c, err, "dictionary index width %d", p[0]);
		pqr_rle_init(&c->idx, p + 1, n - 1, p[0]);
		return 0;
	case PQ_ENC_RLE:
		if (l->physical != PQ_BOOLEAN)
			return col_fail(c, err, "RLE encoding for a non-boolean column");
		if (n < 4 || le32(p) > n - 4)
			return col_fail(c, err, "RLE data length overruns the page");
		pqr_rle_init(&c->idx, p + 4, le32(p), 1);
		return 0;
	case PQ_ENC_DELTA_BINARY_PACKED:
		if (l->physical != PQ_INT32 && l->physical != PQ_INT64)
			break;
		if (pqr_delta_init(&c->d1, p, n) < 0)
			return col_fail(c, err, "corrupt DELTA_BINARY_PACKED header");
		return 0;
	case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
		if (l->physical != PQ_BYTE_ARRAY)
			break;
		const uint8_t *e;
		if (pqr_delta_init(&c->d1, p, n) < 0 || !(e = pqr_delta_end(&c->d1)))
			return col_fail(c, err, "corrupt DELTA_LENGTH_BYTE_ARRAY lengths");
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
			return col_fail(c, err, "corrupt DELTA_BYTE_ARRAY prefix or suffix lengths");
		c->vp = e2;
		c->prev.len = 0;
		return 0;
	}
	case PQ_ENC_BYTE_STREAM_SPLIT: {
		size_t pw = phys_width(l);
		if (pw == 0 || pw > 16 || l->physical == PQ_INT96)
			break;
		if (n % pw)
			return col_fail(c, err, "BYTE_STREAM_SPLIT data of %zu bytes for %zu-byte values",
					n, pw);
		c->bss_n = (int64_t)(n / pw);
		c->bss_i = 0;
		return 0;
	}
	default:
		break;
	}
	return col_fail(c, err, "uses encoding %s, which sluice does not read for this type",
			encoding_name(enc));
}

static int open_v1(pqr_col *c, const pqr_page_header *h, const uint8_t *data, sl_error *err)
{
	const uint8_t *p;
	size_t n;
	int rc;
	if (!h->has_v1)
		return col_fail(c, err, "data page without a data page header");
	if (h->num_values < 0 || h->num_values > c->values_left)
		return col_fail(c, err, "page holds %d values but only %lld are left in the chunk",
				h->num_values, (long long)c->values_left);
	if ((rc = inflate(c, data, (size_t)h->compressed_size, (size_t)h->uncompressed_size, true,
			  &p, &n, err)) < 0)
		return rc;
	const uint8_t *end = p + n;
	c->has_defs = c->leaf->optional;
	if (c->has_defs) {
		if (h->def_encoding != PQ_ENC_RLE)
			return col_fail(c, err, "definition levels use %s, which sluice does not read",
					encoding_name(h->def_encoding));
		if (n < 4 || le32(p) > n - 4)
			return col_fail(c, err, "definition levels overrun the page");
		pqr_rle_init(&c->defs, p + 4, le32(p), 1);
		p += 4 + le32(p);
	}
	return open_values(c, h->encoding, p, end, h->num_values, err);
}

static int open_v2(pqr_col *c, const pqr_page_header *h, const uint8_t *data, sl_error *err)
{
	const uint8_t *p;
	size_t n;
	int rc;
	if (!h->has_v2)
		return col_fail(c, err, "data page v2 without its header");
	if (h->num_values < 0 || h->num_values > c->values_left)
		return col_fail(c, err, "page holds %d values but only %lld are left in the chunk",
				h->num_values, (long long)c->values_left);
	int64_t lv = (int64_t)h->rep_len + h->def_len;
	if (h->rep_len < 0 || h->def_len < 0 || lv > h->compressed_size || lv > h->uncompressed_size)
		return col_fail(c, err, "level lengths overrun the page");
	if ((rc = inflate(c, data + lv, (size_t)(h->compressed_size - lv),
			  (size_t)(h->uncompressed_size - lv), h->is_compressed, &p, &n, err)) < 0)
		return rc;
	c->has_defs = c->leaf->optional;
	if (c->has_defs)
		pqr_rle_init(&c->defs, data + h->rep_len, (size_t)h->def_len, 1);
	return open_values(c, h->encoding, p, p + n, h->num_values, err);
}

/* Moves to the next data page that holds values, loading a dictionary on the way. */
static int next_page(pqr_col *c, sl_error *err)
{
	for (;;) {
		pqr_page_header h;
		size_t used;
		int rc;
		if (c->values_left <= 0 || c->pos >= c->chunk_len)
			return col_fail(c, err, "column chunk ends before its row group's rows "
					"(%lld values missing)", (long long)c->values_left);
		char where[600];
		snprintf(where, sizeof where, "%s: column %s (row group %d)", c->file, c->leaf->name,
			 c->rg);
		rc = pqr_parse_page_header(&h, c->chunk + c->pos, c->chunk_len - c->pos, &used, where,
					   err);
		if (rc < 0)
			return rc;
		c->pos += used;
		if ((size_t)h.compressed_size > c->chunk_len - c->pos)
			return col_fail(c, err, "page of %d bytes overruns the column chunk",
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

/* ------------------------------------------------------------ values */

/* Borrows nn byte-array values (PLAIN, DELTA_LENGTH or DELTA_BYTE_ARRAY). */
static int gather_bytes(pqr_col *c, size_t nn, const uint8_t **ptr, uint32_t *len, sl_error *err)
{
	size_t w = phys_width(c->leaf);
	int64_t a[STEP], b[STEP];

	switch (c->enc) {
	case PQ_ENC_PLAIN:
		if (c->leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
			if (w && nn > (size_t)(c->vend - c->vp) / w)
				return col_fail(c, err, "page data is too short");
			for (size_t i = 0; i < nn; i++) {
				ptr[i] = c->vp + i * w;
				len[i] = (uint32_t)w;
			}
			c->vp += nn * w;
			return 0;
		}
		for (size_t i = 0; i < nn; i++) {
			size_t rest = (size_t)(c->vend - c->vp);
			if (rest < 4 || le32(c->vp) > rest - 4)
				return col_fail(c, err, "page data is too short");
			len[i] = le32(c->vp);
			ptr[i] = c->vp + 4;
			c->vp += 4 + len[i];
		}
		return 0;
	case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
		if (pqr_delta_get(&c->d1, a, nn) < 0)
			return col_fail(c, err, "corrupt DELTA_LENGTH_BYTE_ARRAY lengths");
		for (size_t i = 0; i < nn; i++) {
			if (a[i] < 0 || a[i] > c->vend - c->vp)
				return col_fail(c, err, "string length %lld overruns the page",
						(long long)a[i]);
			ptr[i] = c->vp;
			len[i] = (uint32_t)a[i];
			c->vp += a[i];
		}
		return 0;
	case PQ_ENC_DELTA_BYTE_ARRAY: {
		uint32_t off[STEP + 1];
		if (pqr_delta_get(&c->d1, a, nn) < 0 || pqr_delta_get(&c->d2, b, nn) < 0)
			return col_fail(c, err, "corrupt DELTA_BYTE_ARRAY lengths");
		sl_buf_reset(&c->scratch);
		c->scratch.max = (size_t)1 << 28;
		off[0] = 0;
		for (size_t i = 0; i < nn; i++) {
			if (a[i] < 0 || (uint64_t)a[i] > c->prev.len || b[i] < 0 ||
			    b[i] > c->vend - c->vp)
				return col_fail(c, err, "corrupt DELTA_BYTE_ARRAY prefix or suffix");
			size_t start = c->scratch.len;
			if ((a[i] && sl_buf_append(&c->scratch, c->prev.data, (size_t)a[i]) < 0) ||
			    (b[i] && sl_buf_append(&c->scratch, c->vp, (size_t)b[i]) < 0))
				return col_fail(c, err, "DELTA_BYTE_ARRAY values exceed 256 MiB in one step");
			c->vp += b[i];
			sl_buf_reset(&c->prev);
			if (c->scratch.len > start &&
			    sl_buf_append(&c->prev, c->scratch.data + start, c->scratch.len - start) < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			off[i + 1] = (uint32_t)c->scratch.len;
			if (w && c->leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY && off[i + 1] - off[i] != w)
				return col_fail(c, err, "value of %u bytes in a %zu-byte column",
						off[i + 1] - off[i], w);
		}
		for (size_t i = 0; i < nn; i++) {
			ptr[i] = (const uint8_t *)c->scratch.data + off[i];
			len[i] = off[i + 1] - off[i];
		}
		return 0;
	}
	case ENC_EMPTY:
		if (nn)
			return col_fail(c, err, "page has no value data");
		return 0;
	default:
		return col_fail(c, err, "encoding %s is not valid for this type",
				encoding_name(c->enc));
	}
}

/* Reads nn dictionary indices, checking each against the dictionary size. */
static int read_indices(pqr_col *c, uint32_t *idx, size_t nn, sl_error *err)
{
	if (c->enc == ENC_EMPTY) {
		if (nn)
			return col_fail(c, err, "page has no value data");
		return 0;
	}
	if (pqr_rle_get(&c->idx, idx, nn) < 0)
		return col_fail(c, err, "corrupt dictionary indices");
	uint32_t max = 0;
	for (size_t i = 0; i < nn; i++)
		max = idx[i] > max ? idx[i] : max;
	if (nn && (int64_t)max >= c->dict_n)
		return col_fail(c, err, "dictionary index %u out of range (%lld entries)", max,
				(long long)c->dict_n);
	return 0;
}

/* Decodes nn non-NULL values of a fixed-width sluice type into dst. */
static int read_fixed(pqr_col *c, void *dst, size_t nn, sl_error *err)
{
	const pqr_leaf *l = c->leaf;
	size_t pw = phys_width(l);
	int rc;

	if (c->enc == PQ_ENC_PLAIN_DICTIONARY || c->enc == PQ_ENC_RLE_DICTIONARY) {
		uint32_t idx[STEP];
		if ((rc = read_indices(c, idx, nn, err)) < 0)
			return rc;
		switch (target_width(l->type.id)) {
		case 4: {
			const int32_t *d = c->dict_vals;
			int32_t *o = dst;
			for (size_t i = 0; i < nn; i++)
				o[i] = d[idx[i]];
			break;
		}
		case 8: {
			const int64_t *d = c->dict_vals;
			int64_t *o = dst;
			for (size_t i = 0; i < nn; i++)
				o[i] = d[idx[i]];
			break;
		}
		default: {
			const sl_i128 *d = c->dict_vals;
			sl_i128 *o = dst;
			for (size_t i = 0; i < nn; i++)
				o[i] = d[idx[i]];
		}
		}
		return 0;
	}
	if (c->enc == PQ_ENC_DELTA_BINARY_PACKED) {
		int64_t v[STEP];
		if (pqr_delta_get(&c->d1, v, nn) < 0)
			return col_fail(c, err, "corrupt DELTA_BINARY_PACKED data");
		if (convert_ints(l->conv, v, dst, nn) < 0)
			return col_fail(c, err, "cannot convert delta-encoded values");
		return 0;
	}
	if (c->enc == PQ_ENC_BYTE_STREAM_SPLIT) {
		uint8_t tmp[STEP * 16];
		if ((int64_t)nn > c->bss_n - c->bss_i)
			return col_fail(c, err, "page data is too short");
		for (size_t i = 0; i < nn; i++)
			for (size_t k = 0; k < pw; k++)
				tmp[i * pw + k] = c->vp[k * (size_t)c->bss_n + (size_t)c->bss_i + i];
		c->bss_i += (int64_t)nn;
		if (convert_plain(l->conv, tmp, dst, nn, pw) < 0)
			return col_fail(c, err, "decimal value wider than 128 bits");
		return 0;
	}
	if (c->enc == PQ_ENC_PLAIN && l->physical != PQ_BYTE_ARRAY) {
		if (pw == 0 || nn > (size_t)(c->vend - c->vp) / pw)
			return col_fail(c, err, "page data is too short");
		if (convert_plain(l->conv, c->vp, dst, nn, pw) < 0)
			return col_fail(c, err, "decimal value wider than 128 bits");
		c->vp += nn * pw;
		return 0;
	}
	if (c->enc == ENC_EMPTY && nn == 0)
		return 0;
	/* Byte-array decimals and FLOAT16 from the byte-array encodings. */
	const uint8_t *ptr[STEP];
	uint32_t len[STEP];
	if ((rc = gather_bytes(c, nn, ptr, len, err)) < 0)
		return rc;
	for (size_t i = 0; i < nn; i++) {
		if (l->conv == PQR_CV_BIN_DEC) {
			if (be_to_i128(ptr[i], len[i], (sl_i128 *)dst + i) < 0)
				return col_fail(c, err, "decimal value wider than 128 bits");
		} else if (l->conv == PQR_CV_HALF && len[i] == 2) {
			((double *)dst)[i] = half_to_double((uint16_t)(ptr[i][0] | ptr[i][1] << 8));
		} else {
			return col_fail(c, err, "encoding %s is not valid for this type",
					encoding_name(c->enc));
		}
	}
	return 0;
}

static int read_bools(pqr_col *c, uint8_t *out, size_t nn, sl_error *err)
{
	if (c->enc == PQ_ENC_PLAIN) {
		uint64_t avail = (uint64_t)(c->vend - c->vp) * 8;
		if (c->bitpos + nn > avail)
			return col_fail(c, err, "page data is too short");
		for (size_t i = 0; i < nn; i++, c->bitpos++)
			out[i] = (c->vp[c->bitpos >> 3] >> (c->bitpos & 7)) & 1;
		return 0;
	}
	if (c->enc == PQ_ENC_RLE) {
		uint32_t tmp[STEP];
		if (pqr_rle_get(&c->idx, tmp, nn) < 0)
			return col_fail(c, err, "corrupt RLE booleans");
		for (size_t i = 0; i < nn; i++)
			out[i] = tmp[i] != 0;
		return 0;
	}
	if (c->enc == ENC_EMPTY && nn == 0)
		return 0;
	return col_fail(c, err, "encoding %s is not valid for booleans", encoding_name(c->enc));
}

/* Appends k rows whose nn non-NULL values are ptr/len (lv[i] == 0: NULL row). */
static int append_strings(pqr_col *c, sl_column *col, const uint32_t *lv, size_t k, size_t nn,
			  const uint8_t *const *ptr, const uint32_t *len, sl_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < nn; i++)
		total += len[i];
	sl_buf *b = &col->data;
	if (b->len + total > INT32_MAX)
		return sl_error_set(err, SL_ELIMIT, "%s: column %s: more than 2 GiB of strings in "
				    "one batch; read fewer rows at a time", c->file, c->leaf->name);
	if (sl_buf_reserve(b, total) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int32_t *off = col->offsets + col->length;
	char *d = b->data;
	size_t pos = b->len;
	if (!lv) {
		for (size_t i = 0; i < k; i++) {
			memcpy(d + pos, ptr[i], len[i]);
			pos += len[i];
			off[i + 1] = (int32_t)pos;
		}
	} else {
		for (size_t i = 0, j = 0; i < k; i++) {
			if (lv[i]) {
				memcpy(d + pos, ptr[j], len[j]);
				pos += len[j];
				j++;
			}
			off[i + 1] = (int32_t)pos;
		}
	}
	b->len = pos;
	d[pos] = '\0';
	return 0;
}

/* Appends k rows of strings (nn of them not NULL). */
static int read_strings(pqr_col *c, sl_column *col, const uint32_t *lv, size_t k, size_t nn,
			sl_error *err)
{
	const uint8_t *ptr[STEP];
	uint32_t len[STEP];
	int rc;

	if (c->enc == PQ_ENC_PLAIN_DICTIONARY || c->enc == PQ_ENC_RLE_DICTIONARY) {
		uint32_t idx[STEP];
		if ((rc = read_indices(c, idx, nn, err)) < 0)
			return rc;
		const uint32_t *doff = c->dict_off;
		for (size_t i = 0; i < nn; i++) {
			uint32_t o = doff[idx[i]];
			ptr[i] = (const uint8_t *)c->dict_data + o;
			len[i] = doff[idx[i] + 1] - o;
		}
		return append_strings(c, col, lv, k, nn, ptr, len, err);
	}
	if ((rc = gather_bytes(c, nn, ptr, len, err)) < 0)
		return rc;
	if (c->leaf->conv == PQR_CV_UUID) {
		char tmp[STEP * 36];
		for (size_t i = 0; i < nn; i++) {
			if (len[i] != 16)
				return col_fail(c, err, "UUID of %u bytes", len[i]);
			format_uuid(ptr[i], tmp + 36 * i);
			ptr[i] = (const uint8_t *)tmp + 36 * i;
			len[i] = 36;
		}
		return append_strings(c, col, lv, k, nn, ptr, len, err);
	}
	return append_strings(c, col, lv, k, nn, ptr, len, err);
}

/* Moves the nn decoded values at the front of v (width w) to their rows. */
static void spread(void *v, size_t w, const uint32_t *lv, size_t k, size_t nn)
{
	size_t j = nn;
	switch (w) {
	case 4: {
		int32_t *a = v;
		for (size_t i = k; i-- > 0;)
			a[i] = lv[i] ? a[--j] : 0;
		break;
	}
	case 8: {
		int64_t *a = v;
		for (size_t i = k; i-- > 0;)
			a[i] = lv[i] ? a[--j] : 0;
		break;
	}
	default: {
		sl_i128 *a = v;
		for (size_t i = k; i-- > 0;)
			a[i] = lv[i] ? a[--j] : 0;
	}
	}
}

/* Sets bits [from, from + n) of a bitmap. */
static void set_bits(uint8_t *bits, int64_t from, int64_t n)
{
	while (n > 0 && (from & 7)) {
		sl_bit_set(bits, from++, true);
		n--;
	}
	if (n >= 8) {
		memset(bits + (from >> 3), 0xff, (size_t)(n >> 3));
		from += n & ~(int64_t)7;
		n &= 7;
	}
	while (n-- > 0)
		sl_bit_set(bits, from++, true);
}

/*
 * Decimals must fit their declared precision: the physical type holds more
 * (an INT32 holds 10 digits, a 16-byte array 39), and a value beyond the
 * precision would break every later stage (our writer stores decimal(9,s)
 * in an INT32), so such a file is corrupt rather than silently wrapped.
 */
static int check_decimals(pqr_col *c, sl_type t, const sl_i128 *v, size_t nn, sl_error *err)
{
	sl_i128 lim = sl_i128_pow10(t.precision);
	for (size_t i = 0; i < nn; i++) {
		if (v[i] < lim && v[i] > -lim)
			continue;
		char num[48], tn[32];
		sl_decimal_format(v[i], t.scale, num);
		return col_fail(c, err, "value %s does not fit %s", num,
				sl_type_name(t, tn, sizeof tn));
	}
	return 0;
}

int pqr_col_read(pqr_col *c, sl_column *col, int64_t n, sl_error *err)
{
	uint32_t lv[STEP];
	int rc;
	size_t tw = target_width(col->type.id);

	while (n > 0) {
		if (c->page_left == 0 && (rc = next_page(c, err)) < 0)
			return rc;
		size_t k = STEP;
		if ((int64_t)k > n)
			k = (size_t)n;
		if ((int64_t)k > c->page_left)
			k = (size_t)c->page_left;
		size_t nn = k;
		if (c->has_defs) {
			if (pqr_rle_get(&c->defs, lv, k) < 0)
				return col_fail(c, err, "corrupt definition levels");
			uint32_t bad = 0;
			nn = 0;
			for (size_t i = 0; i < k; i++) {
				nn += lv[i];
				bad |= lv[i];
			}
			if (bad > 1)
				return col_fail(c, err, "definition level above 1 in a flat column");
		}
		const uint32_t *levels = nn < k ? lv : NULL;
		int64_t base = col->length;

		if (col->type.id == SL_STRING) {
			rc = read_strings(c, col, levels, k, nn, err);
		} else if (col->type.id == SL_BOOL) {
			uint8_t bv[STEP];
			rc = read_bools(c, bv, nn, err);
			for (size_t i = 0, j = 0; rc == 0 && i < k; i++)
				sl_bit_set(col->v.bits, base + (int64_t)i,
					   levels ? (levels[i] ? bv[j++] : 0) : bv[i]);
		} else {
			void *dst = (char *)col->v.raw + (size_t)base * tw;
			rc = read_fixed(c, dst, nn, err);
			if (rc == 0 && col->type.id == SL_DECIMAL)
				rc = check_decimals(c, col->type, dst, nn, err);
			if (rc == 0 && levels)
				spread(dst, tw, levels, k, nn);
		}
		if (rc < 0)
			return rc;
		if (!levels) {
			set_bits(col->validity, base, (int64_t)k);
		} else {
			for (size_t i = 0; i < k; i++)
				sl_bit_set(col->validity, base + (int64_t)i, levels[i]);
		}
		col->length += (int64_t)k;
		col->null_count += (int64_t)(k - nn);
		c->page_left -= (int64_t)k;
		n -= (int64_t)k;
	}
	return 0;
}
