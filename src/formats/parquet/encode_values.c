/*
 * encode_values.c: the writer's hot loops. PLAIN and dictionary encoding
 * of a range of one column's rows into the current page, with the chunk's
 * min/max. One specialised loop per (physical type, source) pair: no
 * per-value dispatch or allocation.
 */
#include "formats/parquet/parquet_write_int.h"

#define XXH_INLINE_ALL
/* xxhash's inline code trips gcc's -Warray-bounds at -O2/-O3 (a false
 * positive on its 16-byte tail reads); silence it for the header only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#include <xxhash.h>
#pragma GCC diagnostic pop

#include <math.h>
#include <string.h>

static inline bool valid_at(const uint8_t *v, int64_t i)
{
	return (v[i >> 3] >> (i & 7)) & 1;
}

static int reserve_idx(pq_col *c, size_t n)
{
	if (c->nidx + n <= c->idx_cap)
		return 0;
	size_t cap = c->idx_cap ? c->idx_cap : 64;
	while (cap < c->nidx + n)
		cap *= 2;
	uint32_t *p = sl_realloc(c->idx, cap * sizeof *p);
	if (!p)
		return SL_ENOMEM;
	c->idx = p;
	c->idx_cap = cap;
	return 0;
}

static inline void stat_i(pq_minmax *m, int64_t x)
{
	if (!m->has) {
		m->min.i = m->max.i = x;
		m->has = true;
		return;
	}
	if (x < m->min.i)
		m->min.i = x;
	if (x > m->max.i)
		m->max.i = x;
}

/* Doubles order -0.0 before +0.0 and leave NaN out. */
static inline void stat_f(pq_minmax *m, double x)
{
	if (isnan(x)) {
		m->nan = true;
		return;
	}
	if (!m->has) {
		m->min.f = m->max.f = x;
		m->has = true;
		return;
	}
	if (x < m->min.f || (x == m->min.f && signbit(x)))
		m->min.f = x;
	if (x > m->max.f || (x == m->max.f && !signbit(x)))
		m->max.f = x;
}

static inline void stat_d(pq_minmax *m, sl_i128 x)
{
	if (!m->has) {
		m->min.d = m->max.d = x;
		m->has = true;
		return;
	}
	if (x < m->min.d)
		m->min.d = x;
	if (x > m->max.d)
		m->max.d = x;
}

static inline void stat_bits_f(pq_minmax *m, uint64_t bits)
{
	double x;
	memcpy(&x, &bits, sizeof x);
	stat_f(m, x);
}

static inline void stat_i32(pq_minmax *m, int32_t x) { stat_i(m, x); }
static inline void stat_i64(pq_minmax *m, int64_t x) { stat_i(m, x); }

static inline void finish_vals(pq_col *c, size_t bytes)
{
	c->vals.len += bytes;
	c->vals.data[c->vals.len] = '\0';
}

/* ------------------------------------------------------------- PLAIN */

/*
 * PLAIN integers: T is the stored type, LOAD(i) the source value. Min and
 * max are kept in locals and folded in once.
 */
#define DEFINE_PLAIN_INT(name, T, TMIN, TMAX, LOAD)                                      \
	static int64_t name(pq_col *c, const sl_column *s, int64_t a, int64_t b,         \
			    int64_t *nn)                                                 \
	{                                                                                \
		size_t n = (size_t)(b - a), k = 0;                                       \
		if (sl_buf_reserve(&c->vals, n * sizeof(T)) < 0)                         \
			return SL_ENOMEM;                                                \
		uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;                      \
		T mn = TMAX, mx = TMIN;                                                  \
		if (!s->null_count) {                                                    \
			for (int64_t i = a; i < b; i++) {                                \
				T x = (T)(LOAD(i));                                      \
				memcpy(o + (size_t)(i - a) * sizeof(T), &x, sizeof(T)); \
				mn = x < mn ? x : mn;                                    \
				mx = x > mx ? x : mx;                                    \
			}                                                                \
			k = n;                                                           \
		} else {                                                                 \
			for (int64_t i = a; i < b; i++) {                                \
				if (!valid_at(s->validity, i))                           \
					continue;                                        \
				T x = (T)(LOAD(i));                                      \
				memcpy(o + k * sizeof(T), &x, sizeof(T));                \
				k++;                                                     \
				mn = x < mn ? x : mn;                                    \
				mx = x > mx ? x : mx;                                    \
			}                                                                \
		}                                                                        \
		finish_vals(c, k * sizeof(T));                                           \
		if (k) {                                                                 \
			stat_i(&c->cstat, mn);                                           \
			stat_i(&c->cstat, mx);                                           \
		}                                                                        \
		*nn = (int64_t)k;                                                        \
		return b;                                                                \
	}

#define LOAD_I32(i) s->v.i32[i]
#define LOAD_I64(i) s->v.i64[i]
#define LOAD_DEC(i) s->v.dec[i]

DEFINE_PLAIN_INT(plain_i32, int32_t, INT32_MIN, INT32_MAX, LOAD_I32)
DEFINE_PLAIN_INT(plain_i32_dec, int32_t, INT32_MIN, INT32_MAX, LOAD_DEC)
DEFINE_PLAIN_INT(plain_i64, int64_t, INT64_MIN, INT64_MAX, LOAD_I64)
DEFINE_PLAIN_INT(plain_i64_dec, int64_t, INT64_MIN, INT64_MAX, LOAD_DEC)

static int64_t plain_f64(pq_col *c, const sl_column *s, int64_t a, int64_t b, int64_t *nn)
{
	size_t n = (size_t)(b - a), k = 0;
	if (sl_buf_reserve(&c->vals, n * 8) < 0)
		return SL_ENOMEM;
	uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;
	const double *v = s->v.f64;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		memcpy(o + k * 8, &v[i], 8);
		k++;
		stat_f(&c->cstat, v[i]);
	}
	finish_vals(c, k * 8);
	*nn = (int64_t)k;
	return b;
}

static int64_t plain_flba(pq_col *c, const sl_column *s, int64_t a, int64_t b, int64_t *nn)
{
	size_t w = (size_t)c->width, n = (size_t)(b - a), k = 0;
	if (sl_buf_reserve(&c->vals, n * w) < 0)
		return SL_ENOMEM;
	uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		pq_decimal_to_be(s->v.dec[i], (int)w, o + k * w);
		k++;
		stat_d(&c->cstat, s->v.dec[i]);
	}
	finish_vals(c, k * w);
	*nn = (int64_t)k;
	return b;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);
	if (r)
		return r;
	return an < bn ? -1 : an > bn;
}

static int64_t plain_bytes(pq_col *c, const sl_column *s, int64_t a, int64_t b, int64_t *nn)
{
	const int32_t *off = s->offsets;
	const char *data = s->data.data ? s->data.data : "";
	size_t total = (size_t)(off[b] - off[a]) + 4 * (size_t)(b - a), k = 0;
	if (sl_buf_reserve(&c->vals, total) < 0)
		return SL_ENOMEM;
	uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;
	/* the extremes point into the batch until the loop ends */
	const char *mn = NULL, *mx = NULL;
	size_t mnl = 0, mxl = 0;
	if (c->cstat.has) {
		mn = c->cstat.smin.data, mnl = c->cstat.smin.len;
		mx = c->cstat.smax.data, mxl = c->cstat.smax.len;
	}
	uint8_t *p = o;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		uint32_t len = (uint32_t)(off[i + 1] - off[i]);
		const char *str = data + off[i];
		p[0] = (uint8_t)len;
		p[1] = (uint8_t)(len >> 8);
		p[2] = (uint8_t)(len >> 16);
		p[3] = (uint8_t)(len >> 24);
		memcpy(p + 4, str, len);
		p += 4 + len;
		k++;
		if (!mn) {
			mn = mx = str;
			mnl = mxl = len;
			continue;
		}
		if (bytes_cmp(str, len, mn, mnl) < 0)
			mn = str, mnl = len;
		else if (bytes_cmp(str, len, mx, mxl) > 0)
			mx = str, mxl = len;
	}
	finish_vals(c, (size_t)(p - o));
	/* mn/mx point into the batch or at the stored extremes; storing one
	 * never moves the other's buffer, and a stored one compares equal */
	if (k && (pq_minmax_str(&c->cstat, mn, mnl) < 0 || pq_minmax_str(&c->cstat, mx, mxl) < 0))
		return SL_ENOMEM;
	*nn = (int64_t)k;
	return b;
}

static int64_t plain_bool(pq_col *c, const sl_column *s, int64_t a, int64_t b, int64_t *nn)
{
	size_t n = (size_t)(b - a);
	size_t need = (size_t)((c->vals_bits + (int64_t)n + 7) / 8);
	if (need > c->vals.len) {
		size_t extra = need - c->vals.len;
		if (sl_buf_reserve(&c->vals, extra) < 0)
			return SL_ENOMEM;
		memset(c->vals.data + c->vals.len, 0, extra + 1);
	}
	uint8_t *o = (uint8_t *)c->vals.data;
	int64_t k = c->vals_bits;
	bool t = false, f = false;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		bool x = valid_at(s->v.bits, i);
		if (x) {
			o[k >> 3] |= (uint8_t)(1u << (k & 7));
			t = true;
		} else {
			f = true;
		}
		k++;
	}
	*nn = k - c->vals_bits;
	c->vals_bits = k;
	c->vals.len = (size_t)((k + 7) / 8);
	c->vals.data[c->vals.len] = '\0';
	if (t || f) {
		stat_i(&c->cstat, f ? 0 : 1);
		stat_i(&c->cstat, t ? 1 : 0);
	}
	return b;
}

/* -------------------------------------------------------- dictionary */

/*
 * Dictionary loop for fixed-width keys: T the key type (its bytes are the
 * PLAIN value), LOAD(i) the key of row i, STAT(m, key) on insertion only.
 */
#define DEFINE_DICT_FIXED(name, T, LOAD, STAT)                                             \
	static int64_t name(pq_col *c, const sl_column *s, int64_t a, int64_t b,           \
			    size_t dmax, int64_t *nn)                                      \
	{                                                                                  \
		if (reserve_idx(c, (size_t)(b - a)) < 0)                                   \
			return SL_ENOMEM;                                                  \
		pq_dict *d = &c->dict;                                                     \
		uint32_t *out = c->idx + c->nidx;                                          \
		size_t k = 0;                                                              \
		bool nulls = s->null_count > 0;                                            \
		for (int64_t i = a; i < b; i++) {                                          \
			if (nulls && !valid_at(s->validity, i))                            \
				continue;                                                  \
			T x = LOAD(i);                                                     \
			uint64_t h = XXH3_64bits(&x, sizeof x);                            \
			uint64_t tag = h >> 32;                                            \
			size_t pos = h & d->mask;                                          \
			uint32_t id;                                                       \
			for (;;) {                                                         \
				uint64_t sl = d->slots[pos];                               \
				if (!sl) {                                                 \
					if (d->plain.len + sizeof x > dmax) {              \
						c->nidx += k;                              \
						*nn = (int64_t)k;                          \
						return i;                                  \
					}                                                  \
					if (pq_dict_reserve_entry(d) < 0 ||                \
					    sl_buf_append(&d->plain, &x, sizeof x) < 0)    \
						return SL_ENOMEM;                          \
					id = d->count++;                                   \
					d->hashes[id] = h;                                 \
					d->slots[pos] = tag << 32 | (uint64_t)(id + 1);    \
					STAT(&c->cstat, x);                                \
					if ((size_t)d->count * 2 > d->mask + 1 &&          \
					    pq_dict_grow(d) < 0)                           \
						return SL_ENOMEM;                          \
					break;                                             \
				}                                                          \
				if ((sl >> 32) == tag) {                                   \
					id = (uint32_t)sl - 1;                             \
					T y;                                               \
					memcpy(&y, d->plain.data + (size_t)id * sizeof y,  \
					       sizeof y);                                  \
					if (y == x)                                        \
						break;                                     \
				}                                                          \
				pos = (pos + 1) & d->mask;                                 \
			}                                                                  \
			out[k++] = id;                                                     \
		}                                                                          \
		c->nidx += k;                                                              \
		*nn = (int64_t)k;                                                          \
		return b;                                                                  \
	}

static inline uint64_t f64_bits(const double *v, int64_t i)
{
	uint64_t u;
	memcpy(&u, &v[i], sizeof u);
	return u;
}

#define LOAD_I32_DEC(i) ((int32_t)s->v.dec[i])
#define LOAD_I64_DEC(i) ((int64_t)s->v.dec[i])
#define LOAD_F64_BITS(i) f64_bits(s->v.f64, i)

DEFINE_DICT_FIXED(dict_i32, int32_t, LOAD_I32, stat_i32)
DEFINE_DICT_FIXED(dict_i32_dec, int32_t, LOAD_I32_DEC, stat_i32)
DEFINE_DICT_FIXED(dict_i64, int64_t, LOAD_I64, stat_i64)
DEFINE_DICT_FIXED(dict_i64_dec, int64_t, LOAD_I64_DEC, stat_i64)
DEFINE_DICT_FIXED(dict_f64, uint64_t, LOAD_F64_BITS, stat_bits_f)

static int64_t dict_flba(pq_col *c, const sl_column *s, int64_t a, int64_t b, size_t dmax,
			 int64_t *nn)
{
	if (reserve_idx(c, (size_t)(b - a)) < 0)
		return SL_ENOMEM;
	pq_dict *d = &c->dict;
	size_t w = (size_t)c->width, k = 0;
	uint32_t *out = c->idx + c->nidx;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		uint8_t key[16];
		pq_decimal_to_be(s->v.dec[i], (int)w, key);
		uint64_t h = XXH3_64bits(key, w);
		uint64_t tag = h >> 32;
		size_t pos = h & d->mask;
		uint32_t id;
		for (;;) {
			uint64_t sl = d->slots[pos];
			if (!sl) {
				if (d->plain.len + w > dmax) {
					c->nidx += k;
					*nn = (int64_t)k;
					return i;
				}
				if (pq_dict_reserve_entry(d) < 0 || sl_buf_append(&d->plain, key, w) < 0)
					return SL_ENOMEM;
				id = d->count++;
				d->hashes[id] = h;
				d->slots[pos] = tag << 32 | (uint64_t)(id + 1);
				stat_d(&c->cstat, s->v.dec[i]);
				if ((size_t)d->count * 2 > d->mask + 1 && pq_dict_grow(d) < 0)
					return SL_ENOMEM;
				break;
			}
			if ((sl >> 32) == tag) {
				id = (uint32_t)sl - 1;
				if (!memcmp(d->plain.data + (size_t)id * w, key, w))
					break;
			}
			pos = (pos + 1) & d->mask;
		}
		out[k++] = id;
	}
	c->nidx += k;
	*nn = (int64_t)k;
	return b;
}

static int64_t dict_bytes(pq_col *c, const sl_column *s, int64_t a, int64_t b, size_t dmax,
			  int64_t *nn)
{
	if (reserve_idx(c, (size_t)(b - a)) < 0)
		return SL_ENOMEM;
	pq_dict *d = &c->dict;
	const int32_t *off = s->offsets;
	const char *data = s->data.data ? s->data.data : "";
	size_t k = 0;
	uint32_t *out = c->idx + c->nidx;
	for (int64_t i = a; i < b; i++) {
		if (s->null_count && !valid_at(s->validity, i))
			continue;
		const char *str = data + off[i];
		uint32_t len = (uint32_t)(off[i + 1] - off[i]);
		uint64_t h = XXH3_64bits(str, len);
		uint64_t tag = h >> 32;
		size_t pos = h & d->mask;
		uint32_t id;
		for (;;) {
			uint64_t sl = d->slots[pos];
			if (!sl) {
				if (d->plain.len + 4 + len > dmax) {
					c->nidx += k;
					*nn = (int64_t)k;
					return i;
				}
				uint8_t lp[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
						 (uint8_t)(len >> 24)};
				if (pq_dict_reserve_entry(d) < 0)
					return SL_ENOMEM;
				uint32_t at = (uint32_t)d->plain.len;
				if (sl_buf_append(&d->plain, lp, 4) < 0 ||
				    sl_buf_append(&d->plain, str, len) < 0)
					return SL_ENOMEM;
				id = d->count++;
				d->hashes[id] = h;
				d->offs[id] = at;
				d->slots[pos] = tag << 32 | (uint64_t)(id + 1);
				if (pq_minmax_str(&c->cstat, str, len) < 0)
					return SL_ENOMEM;
				if ((size_t)d->count * 2 > d->mask + 1 && pq_dict_grow(d) < 0)
					return SL_ENOMEM;
				break;
			}
			if ((sl >> 32) == tag) {
				id = (uint32_t)sl - 1;
				const uint8_t *e = (const uint8_t *)d->plain.data + d->offs[id];
				uint32_t elen = (uint32_t)e[0] | (uint32_t)e[1] << 8 |
						(uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
				if (elen == len && !memcmp(e + 4, str, len))
					break;
			}
			pos = (pos + 1) & d->mask;
		}
		out[k++] = id;
	}
	c->nidx += k;
	*nn = (int64_t)k;
	return b;
}

int64_t pq_encode_values(pq_col *c, const sl_column *src, int64_t a, int64_t b,
			 size_t dict_max_bytes, int64_t *nonnull)
{
	*nonnull = 0;
	if (a >= b)
		return b;
	bool dm = c->dict_mode;
	switch (c->kind) {
	case PK_BOOL: return plain_bool(c, src, a, b, nonnull);
	case PK_I32:
		return dm ? dict_i32(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_i32(c, src, a, b, nonnull);
	case PK_I32_DEC:
		return dm ? dict_i32_dec(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_i32_dec(c, src, a, b, nonnull);
	case PK_I64:
		return dm ? dict_i64(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_i64(c, src, a, b, nonnull);
	case PK_I64_DEC:
		return dm ? dict_i64_dec(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_i64_dec(c, src, a, b, nonnull);
	case PK_F64:
		return dm ? dict_f64(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_f64(c, src, a, b, nonnull);
	case PK_FLBA_DEC:
		return dm ? dict_flba(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_flba(c, src, a, b, nonnull);
	case PK_BYTES:
		return dm ? dict_bytes(c, src, a, b, dict_max_bytes, nonnull)
			  : plain_bytes(c, src, a, b, nonnull);
	}
	return SL_EINTERNAL;
}

int pq_page_indices_to_plain(pq_col *c)
{
	pq_dict *d = &c->dict;
	if (c->kind == PK_BYTES) {
		size_t total = 0;
		for (size_t i = 0; i < c->nidx; i++) {
			const uint8_t *e = (const uint8_t *)d->plain.data + d->offs[c->idx[i]];
			total += 4 + ((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
				      (uint32_t)e[3] << 24);
		}
		if (sl_buf_reserve(&c->vals, total) < 0)
			return SL_ENOMEM;
		uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;
		for (size_t i = 0; i < c->nidx; i++) {
			const uint8_t *e = (const uint8_t *)d->plain.data + d->offs[c->idx[i]];
			size_t n = 4 + ((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
					(uint32_t)e[3] << 24);
			memcpy(o, e, n);
			o += n;
		}
		finish_vals(c, total);
	} else {
		size_t w = (size_t)c->width;
		if (sl_buf_reserve(&c->vals, c->nidx * w) < 0)
			return SL_ENOMEM;
		uint8_t *o = (uint8_t *)c->vals.data + c->vals.len;
		for (size_t i = 0; i < c->nidx; i++)
			memcpy(o + i * w, d->plain.data + (size_t)c->idx[i] * w, w);
		finish_vals(c, c->nidx * w);
	}
	c->nidx = 0;
	return 0;
}
