/*
 * reader_column.c: the column chunk reader's lifecycle and driver: loading a
 * chunk's bytes, then reading rows page by page into sl_column values.
 */
#include "formats/parquet/codec.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <stdio.h>
#include <string.h>

int pqr_col_fail(pqr_col *c, sl_error *err, const char *fmt, ...)
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
	sl_buf_free(&c->where);
	memset(c, 0, sizeof *c);
}

int pqr_grow(uint8_t **buf, size_t *cap, size_t need)
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
	sl_buf_reset(&c->where);
	if (sl_buf_printf(&c->where, "%s: column %s (row group %d)", c->file, leaf->name, rg) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");

	if (m->codec != SL_CODEC_UNCOMPRESSED && m->codec != SL_CODEC_SNAPPY &&
	    m->codec != SL_CODEC_GZIP && m->codec != SL_CODEC_ZSTD)
		return pqr_col_fail(c, err, "compressed with %s, which sluice does not read "
				    "(supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD)",
				    codec_name(m->codec));
	int64_t start = m->data_page_offset;
	if (m->dict_page_offset >= 4 && m->dict_page_offset < start)
		start = m->dict_page_offset;
	int64_t len = m->total_compressed;
	uint64_t size = in->size;
	if (start < 4 || len < 0 || (uint64_t)start > size || (uint64_t)len > size - (uint64_t)start)
		return pqr_col_fail(c, err, "column chunk at offset %lld of %lld bytes lies outside "
				    "the file (%llu bytes; truncated?)", (long long)start,
				    (long long)len, (unsigned long long)size);
	if (m->num_values < 0)
		return pqr_col_fail(c, err, "negative value count");
	if ((rc = pqr_grow(&c->chunk, &c->chunk_cap, (size_t)len + 1)) < 0)
		return sl_error_set(err, rc, "%s: out of memory reading a column chunk of %lld bytes",
				    c->file, (long long)len);
	if ((rc = in->read_at(in, (uint64_t)start, c->chunk, (size_t)len, err)) < 0)
		return rc;
	c->chunk_len = (size_t)len;
	return 0;
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
		return pqr_col_fail(c, err, "value %s does not fit %s", num,
				    sl_type_name(t, tn, sizeof tn));
	}
	return 0;
}

int pqr_col_read(pqr_col *c, sl_column *col, int64_t n, sl_error *err)
{
	uint32_t lv[PQR_STEP];
	int rc;
	size_t tw = pqr_target_width(col->type.id);

	while (n > 0) {
		if (c->page_left == 0 && (rc = pqr_next_page(c, err)) < 0)
			return rc;
		size_t k = PQR_STEP;
		if ((int64_t)k > n)
			k = (size_t)n;
		if ((int64_t)k > c->page_left)
			k = (size_t)c->page_left;
		size_t nn = k;
		if (c->has_defs) {
			if (pqr_rle_get(&c->defs, lv, k) < 0)
				return pqr_col_fail(c, err, "corrupt definition levels");
			uint32_t bad = 0;
			nn = 0;
			for (size_t i = 0; i < k; i++) {
				nn += lv[i];
				bad |= lv[i];
			}
			if (bad > 1)
				return pqr_col_fail(c, err, "definition level above 1 in a flat column");
		}
		const uint32_t *levels = nn < k ? lv : NULL;
		int64_t base = col->length;

		if (col->type.id == SL_STRING) {
			rc = pqr_read_strings(c, col, levels, k, nn, err);
		} else if (col->type.id == SL_BOOL) {
			uint8_t bv[PQR_STEP];
			rc = pqr_read_bools(c, bv, nn, err);
			for (size_t i = 0, j = 0; rc == 0 && i < k; i++)
				sl_bit_set(col->v.bits, base + (int64_t)i,
					   levels ? (levels[i] ? bv[j++] : 0) : bv[i]);
		} else {
			void *dst = (char *)col->v.raw + (size_t)base * tw;
			rc = pqr_read_fixed(c, dst, nn, err);
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
