/*
 * reader_values.c: decoding a page's values into sluice types: physical to
 * target conversions, and the PLAIN, dictionary, RLE, DELTA_* and
 * BYTE_STREAM_SPLIT value encodings, PQR_STEP values at a time.
 */
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <math.h>
#include <string.h>

const char *pqr_encoding_name(int enc)
{
	static const char *names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
				      "BIT_PACKED", "DELTA_BINARY_PACKED",
				      "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
				      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
	return enc >= 0 && enc < 10 ? names[enc] : "an unknown encoding";
}

size_t pqr_phys_width(const pqr_leaf *l)
{
	switch (l->physical) {
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_INT96: return 12;
	case PQ_FIXED_LEN_BYTE_ARRAY: return (size_t)l->type_length;
	default: return 0;
	}
}

size_t pqr_target_width(sl_type_id id)
{
	switch (id) {
	case SL_INT32: case SL_DATE: return 4;
	case SL_INT64: case SL_TIMESTAMP: case SL_FLOAT64: return 8;
	case SL_DECIMAL: return 16;
	default: return 0;
	}
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
int pqr_be_to_i128(const uint8_t *p, size_t n, sl_i128 *out)
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
int pqr_convert_plain(pqr_conv conv, const uint8_t *src, void *dst, size_t n, size_t pw)
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
			d[i] = pqr_le32(src + 4 * i);
		return 0;
	}
	case PQR_CV_I32_DEC: {
		sl_i128 *d = dst;
		for (size_t i = 0; i < n; i++)
			d[i] = (int32_t)pqr_le32(src + 4 * i);
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
			if (pqr_be_to_i128(src + pw * i, pw, &d[i]) < 0)
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

void pqr_format_uuid(const uint8_t *p, char *out)
{
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexdig[p[i] >> 4];
		out[o++] = hexdig[p[i] & 15];
	}
}

/* Borrows nn byte-array values (PLAIN, DELTA_LENGTH or DELTA_BYTE_ARRAY). */
static int gather_bytes(pqr_col *c, size_t nn, const uint8_t **ptr, uint32_t *len, sl_error *err)
{
	size_t w = pqr_phys_width(c->leaf);
	int64_t a[PQR_STEP], b[PQR_STEP];

	switch (c->enc) {
	case PQ_ENC_PLAIN:
		if (c->leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
			if (w && nn > (size_t)(c->vend - c->vp) / w)
				return pqr_col_fail(c, err, "page data is too short");
			for (size_t i = 0; i < nn; i++) {
				ptr[i] = c->vp + i * w;
				len[i] = (uint32_t)w;
			}
			c->vp += nn * w;
			return 0;
		}
		for (size_t i = 0; i < nn; i++) {
			size_t rest = (size_t)(c->vend - c->vp);
			if (rest < 4 || pqr_le32(c->vp) > rest - 4)
				return pqr_col_fail(c, err, "page data is too short");
			len[i] = pqr_le32(c->vp);
			ptr[i] = c->vp + 4;
			c->vp += 4 + len[i];
		}
		return 0;
	case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
		if (pqr_delta_get(&c->d1, a, nn) < 0)
			return pqr_col_fail(c, err, "corrupt DELTA_LENGTH_BYTE_ARRAY lengths");
		for (size_t i = 0; i < nn; i++) {
			if (a[i] < 0 || a[i] > c->vend - c->vp)
				return pqr_col_fail(c, err, "string length %lld overruns the page",
						    (long long)a[i]);
			ptr[i] = c->vp;
			len[i] = (uint32_t)a[i];
			c->vp += a[i];
		}
		return 0;
	case PQ_ENC_DELTA_BYTE_ARRAY: {
		uint32_t off[PQR_STEP + 1];
		if (pqr_delta_get(&c->d1, a, nn) < 0 || pqr_delta_get(&c->d2, b, nn) < 0)
			return pqr_col_fail(c, err, "corrupt DELTA_BYTE_ARRAY lengths");
		sl_buf_reset(&c->scratch);
		c->scratch.max = (size_t)1 << 28;
		off[0] = 0;
		for (size_t i = 0; i < nn; i++) {
			if (a[i] < 0 || (uint64_t)a[i] > c->prev.len || b[i] < 0 ||
			    b[i] > c->vend - c->vp)
				return pqr_col_fail(c, err, "corrupt DELTA_BYTE_ARRAY prefix or suffix");
			size_t start = c->scratch.len;
			if ((a[i] && sl_buf_append(&c->scratch, c->prev.data, (size_t)a[i]) < 0) ||
			    (b[i] && sl_buf_append(&c->scratch, c->vp, (size_t)b[i]) < 0))
				return pqr_col_fail(c, err,
						    "DELTA_BYTE_ARRAY values exceed 256 MiB in one step");
			c->vp += b[i];
			sl_buf_reset(&c->prev);
			if (c->scratch.len > start &&
			    sl_buf_append(&c->prev, c->scratch.data + start, c->scratch.len - start) < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			off[i + 1] = (uint32_t)c->scratch.len;
			if (w && c->leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY && off[i + 1] - off[i] != w)
				return pqr_col_fail(c, err, "value of %u bytes in a %zu-byte column",
						    off[i + 1] - off[i], w);
		}
		for (size_t i = 0; i < nn; i++) {
			ptr[i] = (const uint8_t *)c->scratch.data + off[i];
			len[i] = off[i + 1] - off[i];
		}
		return 0;
	}
	case PQR_ENC_EMPTY:
		if (nn)
			return pqr_col_fail(c, err, "page has no value data");
		return 0;
	default:
		return pqr_col_fail(c, err, "encoding %s is not valid for this type",
				    pqr_encoding_name(c->enc));
	}
}

/* Reads nn dictionary indices, checking each against the dictionary size. */
static int read_indices(pqr_col *c, uint32_t *idx, size_t nn, sl_error *err)
{
	if (c->enc == PQR_ENC_EMPTY) {
		if (nn)
			return pqr_col_fail(c, err, "page has no value data");
		return 0;
	}
	if (pqr_rle_get(&c->idx, idx, nn) < 0)
		return pqr_col_fail(c, err, "corrupt dictionary indices");
	uint32_t max = 0;
	for (size_t i = 0; i < nn; i++)
		max = idx[i] > max ? idx[i] : max;
	if (nn && (int64_t)max >= c->dict_n)
		return pqr_col_fail(c, err, "dictionary index %u out of range (%lld entries)", max,
				    (long long)c->dict_n);
	return 0;
}

/* Decodes nn non-NULL values of a fixed-width sluice type into dst. */
int pqr_read_fixed(pqr_col *c, void *dst, size_t nn, sl_error *err)
{
	const pqr_leaf *l = c->leaf;
	size_t pw = pqr_phys_width(l);
	int rc;

	if (c->enc == PQ_ENC_PLAIN_DICTIONARY || c->enc == PQ_ENC_RLE_DICTIONARY) {
		uint32_t idx[PQR_STEP];
		if ((rc = read_indices(c, idx, nn, err)) < 0)
			return rc;
		switch (pqr_target_width(l->type.id)) {
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
		int64_t v[PQR_STEP];
		if (pqr_delta_get(&c->d1, v, nn) < 0)
			return pqr_col_fail(c, err, "corrupt DELTA_BINARY_PACKED data");
		if (convert_ints(l->conv, v, dst, nn) < 0)
			return pqr_col_fail(c, err, "cannot convert delta-encoded values");
		return 0;
	}
	if (c->enc == PQ_ENC_BYTE_STREAM_SPLIT) {
		uint8_t tmp[PQR_STEP * 16];
		if ((int64_t)nn > c->bss_n - c->bss_i)
			return pqr_col_fail(c, err, "page data is too short");
		for (size_t i = 0; i < nn; i++)
			for (size_t k = 0; k < pw; k++)
				tmp[i * pw + k] = c->vp[k * (size_t)c->bss_n + (size_t)c->bss_i + i];
		c->bss_i += (int64_t)nn;
		if (pqr_convert_plain(l->conv, tmp, dst, nn, pw) < 0)
			return pqr_col_fail(c, err, "decimal value wider than 128 bits");
		return 0;
	}
	if (c->enc == PQ_ENC_PLAIN && l->physical != PQ_BYTE_ARRAY) {
		if (pw == 0 || nn > (size_t)(c->vend - c->vp) / pw)
			return pqr_col_fail(c, err, "page data is too short");
		if (pqr_convert_plain(l->conv, c->vp, dst, nn, pw) < 0)
			return pqr_col_fail(c, err, "decimal value wider than 128 bits");
		c->vp += nn * pw;
		return 0;
	}
	if (c->enc == PQR_ENC_EMPTY && nn == 0)
		return 0;
	/* Byte-array decimals and FLOAT16 from the byte-array encodings. */
	const uint8_t *ptr[PQR_STEP];
	uint32_t len[PQR_STEP];
	if ((rc = gather_bytes(c, nn, ptr, len, err)) < 0)
		return rc;
	for (size_t i = 0; i < nn; i++) {
		if (l->conv == PQR_CV_BIN_DEC) {
			if (pqr_be_to_i128(ptr[i], len[i], (sl_i128 *)dst + i) < 0)
				return pqr_col_fail(c, err, "decimal value wider than 128 bits");
		} else if (l->conv == PQR_CV_HALF && len[i] == 2) {
			((double *)dst)[i] = half_to_double((uint16_t)(ptr[i][0] | ptr[i][1] << 8));
		} else {
			return pqr_col_fail(c, err, "encoding %s is not valid for this type",
					    pqr_encoding_name(c->enc));
		}
	}
	return 0;
}

int pqr_read_bools(pqr_col *c, uint8_t *out, size_t nn, sl_error *err)
{
	if (c->enc == PQ_ENC_PLAIN) {
		uint64_t avail = (uint64_t)(c->vend - c->vp) * 8;
		if (c->bitpos + nn > avail)
			return pqr_col_fail(c, err, "page data is too short");
		for (size_t i = 0; i < nn; i++, c->bitpos++)
			out[i] = (c->vp[c->bitpos >> 3] >> (c->bitpos & 7)) & 1;
		return 0;
	}
	if (c->enc == PQ_ENC_RLE) {
		uint32_t tmp[PQR_STEP];
		if (pqr_rle_get(&c->idx, tmp, nn) < 0)
			return pqr_col_fail(c, err, "corrupt RLE booleans");
		for (size_t i = 0; i < nn; i++)
			out[i] = tmp[i] != 0;
		return 0;
	}
	if (c->enc == PQR_ENC_EMPTY && nn == 0)
		return 0;
	return pqr_col_fail(c, err, "encoding %s is not valid for booleans", pqr_encoding_name(c->enc));
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
int pqr_read_strings(pqr_col *c, sl_column *col, const uint32_t *lv, size_t k, size_t nn,
		     sl_error *err)
{
	const uint8_t *ptr[PQR_STEP];
	uint32_t len[PQR_STEP];
	int rc;

	if (c->enc == PQ_ENC_PLAIN_DICTIONARY || c->enc == PQ_ENC_RLE_DICTIONARY) {
		uint32_t idx[PQR_STEP];
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
		char tmp[PQR_STEP * 36];
		for (size_t i = 0; i < nn; i++) {
			if (len[i] != 16)
				return pqr_col_fail(c, err, "UUID of %u bytes", len[i]);
			pqr_format_uuid(ptr[i], tmp + 36 * i);
			ptr[i] = (const uint8_t *)tmp + 36 * i;
			len[i] = 36;
		}
		return append_strings(c, col, lv, k, nn, ptr, len, err);
	}
	return append_strings(c, col, lv, k, nn, ptr, len, err);
}
