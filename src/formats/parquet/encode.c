/*
 * encode.c: the Parquet writer's building blocks: RLE/bit-packed hybrid
 * encoding (levels and dictionary indices), bitmap copies, decimal byte
 * layout, dictionary hash tables and min/max accumulators.
 */
#include "formats/parquet/parquet_write_int.h"
#include "formats/parquet/thrift_write.h"

#include <math.h>
#include <string.h>

int pq_decimal_flba_len(int precision)
{
	/* smallest n with 2^(8n-1) > 10^p - 1 */
	sl_i128 limit = sl_i128_pow10(precision) - 1;
	for (int n = 1; n < 16; n++) {
		sl_i128 max = ((sl_i128)1 << (8 * n - 1)) - 1;
		if (max >= limit)
			return n;
	}
	return 16;
}

void pq_decimal_to_be(sl_i128 v, int n, uint8_t *out)
{
	unsigned __int128 u = (unsigned __int128)v;
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (uint8_t)u;
		u >>= 8;
	}
}

int pq_bit_width(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

/* Appends a bit-packed run of the values v[0..n) (n padded to groups of 8). */
static int put_bitpacked(sl_buf *out, const uint32_t *v, size_t n, int bw)
{
	size_t groups = (n + 7) / 8;
	int rc = sl_put_uvarint(out, (uint64_t)groups << 1 | 1);
	if (rc < 0)
		return rc;
	size_t nbytes = groups * (size_t)bw;
	rc = sl_buf_reserve(out, nbytes + 8);
	if (rc < 0)
		return rc;
	uint8_t *p = (uint8_t *)out->data + out->len;
	uint64_t acc = 0;
	int nb = 0;
	size_t total = groups * 8;
	for (size_t i = 0; i < total; i++) {
		uint64_t x = i < n ? v[i] : 0;
		acc |= x << nb;
		nb += bw;
		while (nb >= 8) {
			*p++ = (uint8_t)acc;
			acc >>= 8;
			nb -= 8;
		}
	}
	/* groups of 8 values always end on a byte boundary */
	out->len += nbytes;
	out->data[out->len] = '\0';
	return 0;
}

static int put_rle_run(sl_buf *out, uint32_t value, size_t count, int bw)
{
	int rc = sl_put_uvarint(out, (uint64_t)count << 1);
	if (rc < 0)
		return rc;
	uint8_t b[4];
	int nbytes = (bw + 7) / 8;
	for (int i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	return sl_buf_append(out, b, (size_t)nbytes);
}

int pq_rle_encode_u32(sl_buf *out, const uint32_t *v, size_t n, int bw)
{
	size_t lit = 0; /* start of pending literals */
	size_t i = 0;
	int rc;
	while (i < n) {
		size_t j = i + 1;
		uint32_t x = v[i];
		while (j < n && v[j] == x)
			j++;
		size_t run = j - i;
		if (run >= 8) {
			/* literals before a run must fill whole groups of 8: lend
			 * them the run's first values */
			size_t pad = (8 - (i - lit) % 8) % 8;
			if (run - pad >= 8) {
				if (i + pad > lit) {
					rc = put_bitpacked(out, v + lit, i + pad - lit, bw);
					if (rc < 0)
						return rc;
				}
				rc = put_rle_run(out, x, run - pad, bw);
				if (rc < 0)
					return rc;
				lit = j;
			}
		}
		i = j;
	}
	if (lit < n)
		return put_bitpacked(out, v + lit, n - lit, bw);
	return 0;
}

int pq_rle_encode_bitmap(sl_buf *out, const uint8_t *bits, size_t n)
{
	size_t full = n / 8, nbytes = (n + 7) / 8;
	size_t lit = 0, i = 0;
	int rc;
	while (i < full) {
		uint8_t x = bits[i];
		size_t j = i + 1;
		if (x == 0 || x == 0xFF) {
			while (j < full && bits[j] == x)
				j++;
			if (j - i >= 4) {
				if (i > lit) {
					rc = sl_put_uvarint(out, (uint64_t)(i - lit) << 1 | 1);
					if (rc < 0 || (rc = sl_buf_append(out, bits + lit, i - lit)) < 0)
						return rc;
				}
				rc = put_rle_run(out, x ? 1 : 0, (j - i) * 8, 1);
				if (rc < 0)
					return rc;
				lit = j;
			}
		}
		i = j;
	}
	if (lit < nbytes) {
		rc = sl_put_uvarint(out, (uint64_t)(nbytes - lit) << 1 | 1);
		if (rc < 0 || (rc = sl_buf_append(out, bits + lit, nbytes - lit)) < 0)
			return rc;
		if (n % 8) /* zero the padding bits of the last group */
			out->data[out->len - 1] &= (char)((1u << (n % 8)) - 1);
	}
	return 0;
}

void pq_bits_copy(uint8_t *dst, int64_t dof, const uint8_t *src, int64_t so, int64_t n)
{
	if (n <= 0)
		return;
	if ((dof & 7) == 0 && (so & 7) == 0) {
		size_t whole = (size_t)(n / 8);
		memcpy(dst + dof / 8, src + so / 8, whole);
		for (int64_t k = (int64_t)whole * 8; k < n; k++)
			sl_bit_set(dst, dof + k, sl_bit_get(src, so + k));
		return;
	}
	int64_t k = 0;
	/* bring dst to a byte boundary, then assemble whole bytes */
	while (k < n && ((dof + k) & 7)) {
		sl_bit_set(dst, dof + k, sl_bit_get(src, so + k));
		k++;
	}
	int sh = (int)((so + k) & 7);
	for (; k + 8 <= n; k += 8) {
		int64_t sb = (so + k) >> 3;
		unsigned w = src[sb];
		if (sh)
			w = (w >> sh) | ((unsigned)src[sb + 1] << (8 - sh));
		dst[(dof + k) >> 3] = (uint8_t)w;
	}
	for (; k < n; k++)
		sl_bit_set(dst, dof + k, sl_bit_get(src, so + k));
}

/* --------------------------------------------------------- dictionary */

#define DICT_INITIAL_SLOTS 16

int pq_dict_init(pq_dict *d)
{
	memset(d, 0, sizeof *d);
	d->slots = sl_calloc(DICT_INITIAL_SLOTS, sizeof *d->slots);
	if (!d->slots)
		return SL_ENOMEM;
	d->mask = DICT_INITIAL_SLOTS - 1;
	return 0;
}

void pq_dict_reset(pq_dict *d)
{
	if (d->slots)
		memset(d->slots, 0, (d->mask + 1) * sizeof *d->slots);
	d->count = 0;
	sl_buf_reset(&d->plain);
}

void pq_dict_free(pq_dict *d)
{
	sl_free(d->slots);
	sl_free(d->hashes);
	sl_free(d->offs);
	sl_buf_free(&d->plain);
	memset(d, 0, sizeof *d);
}

int pq_dict_grow(pq_dict *d)
{
	size_t nslots = (d->mask + 1) * 2;
	uint64_t *s = sl_calloc(nslots, sizeof *s);
	if (!s)
		return SL_ENOMEM;
	size_t mask = nslots - 1;
	for (uint32_t i = 0; i < d->count; i++) {
		uint64_t h = d->hashes[i];
		size_t pos = h & mask;
		while (s[pos])
			pos = (pos + 1) & mask;
		s[pos] = (h >> 32 << 32) | (uint64_t)(i + 1);
	}
	sl_free(d->slots);
	d->slots = s;
	d->mask = mask;
	return 0;
}

int pq_dict_reserve_entry(pq_dict *d)
{
	if (d->count < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 16;
	uint64_t *h = sl_realloc(d->hashes, cap * sizeof *h);
	if (!h)
		return SL_ENOMEM;
	d->hashes = h;
	uint32_t *o = sl_realloc(d->offs, cap * sizeof *o);
	if (!o)
		return SL_ENOMEM;
	d->offs = o;
	d->cap = cap;
	return 0;
}

/* ------------------------------------------------------------ min/max */

void pq_minmax_reset(pq_minmax *m)
{
	m->has = false;
	m->nan = false;
	sl_buf_reset(&m->smin);
	sl_buf_reset(&m->smax);
}

void pq_minmax_free(pq_minmax *m)
{
	sl_buf_free(&m->smin);
	sl_buf_free(&m->smax);
	m->has = false;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int buf_set(sl_buf *b, const char *s, size_t n)
{
	sl_buf_reset(b);
	if (sl_buf_reserve(b, n) < 0)
		return SL_ENOMEM;
	if (n)
		memcpy(b->data, s, n);
	b->len = n;
	b->data[n] = '\0';
	return 0;
}

int pq_minmax_str(pq_minmax *m, const char *s, size_t n)
{
	if (!m->has) {
		if (buf_set(&m->smin, s, n) < 0 || buf_set(&m->smax, s, n) < 0)
			return SL_ENOMEM;
		m->has = true;
		return 0;
	}
	if (bytes_cmp(s, n, m->smin.data, m->smin.len) < 0 && buf_set(&m->smin, s, n) < 0)
		return SL_ENOMEM;
	if (bytes_cmp(s, n, m->smax.data, m->smax.len) > 0 && buf_set(&m->smax, s, n) < 0)
		return SL_ENOMEM;
	return 0;
}

int pq_minmax_merge(pq_minmax *f, const pq_minmax *a, pq_kind kind)
{
	if (a->nan)
		f->nan = true;
	if (!a->has)
		return 0;
	if (kind == PK_BYTES) {
		if (pq_minmax_str(f, a->smin.data, a->smin.len) < 0 ||
		    pq_minmax_str(f, a->smax.data, a->smax.len) < 0)
			return SL_ENOMEM;
		return 0;
	}
	if (!f->has) {
		f->min = a->min;
		f->max = a->max;
		f->has = true;
		return 0;
	}
	switch (kind) {
	case PK_F64:
		if (a->min.f < f->min.f || (a->min.f == f->min.f && signbit(a->min.f)))
			f->min.f = a->min.f;
		if (a->max.f > f->max.f || (a->max.f == f->max.f && !signbit(a->max.f)))
			f->max.f = a->max.f;
		break;
	case PK_FLBA_DEC:
		if (a->min.d < f->min.d)
			f->min.d = a->min.d;
		if (a->max.d > f->max.d)
			f->max.d = a->max.d;
		break;
	default:
		if (a->min.i < f->min.i)
			f->min.i = a->min.i;
		if (a->max.i > f->max.i)
			f->max.i = a->max.i;
		break;
	}
	return 0;
}
