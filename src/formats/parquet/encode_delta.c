/*
 * encode_delta.c: the writer's delta encodings: DELTA_BINARY_PACKED for
 * integer pages and DELTA_LENGTH_BYTE_ARRAY for string pages, made from a
 * finished PLAIN page (on the compression thread) and kept only when
 * smaller than the PLAIN values they replace.
 */
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_write_int.h"

#include <string.h>

/* DELTA_BINARY_PACKED layout: blocks of 128 deltas in 4 miniblocks of 32. */
#define DBP_BLOCK 128
#define DBP_MINIS 4
#define DBP_PER_MINI (DBP_BLOCK / DBP_MINIS)

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline uint8_t *put_uvarint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline void store64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Packs 32 values of bit width w (1..64) LSB first into 4 * w bytes. The
 * accumulator holds nb < 64 pending bits; a value that does not fit
 * spills its high bits into the next word.
 */
static uint8_t *pack32(uint8_t *o, const uint64_t *v, int w)
{
	uint64_t acc = 0;
	int nb = 0;
	for (int i = 0; i < DBP_PER_MINI; i++) {
		uint64_t x = v[i];
		acc |= x << nb;
		nb += w;
		if (nb >= 64) {
			store64le(o, acc);
			o += 8;
			nb -= 64;
			acc = nb ? x >> (w - nb) : 0;
		}
	}
	/* 32 * w bits end on a byte boundary */
	for (int k = 0; k < nb; k += 8) {
		*o++ = (uint8_t)acc;
		acc >>= 8;
	}
	return o;
}

/*
 * Encodes one block of nd (1..128) deltas at o: min delta, the four
 * miniblock widths, then the miniblocks that hold deltas (the last one
 * padded to 32 values).
 */
static uint8_t *put_block(uint8_t *o, int64_t *d, int nd)
{
	int64_t mn = d[0];
	for (int i = 1; i < nd; i++)
		mn = d[i] < mn ? d[i] : mn;
	o = put_uvarint(o, zigzag(mn));
	uint64_t rel[DBP_BLOCK];
	for (int i = 0; i < nd; i++)
		rel[i] = (uint64_t)d[i] - (uint64_t)mn;
	for (int i = nd; i < DBP_BLOCK; i++)
		rel[i] = 0;
	int minis = (nd + DBP_PER_MINI - 1) / DBP_PER_MINI;
	uint8_t *widths = o;
	o += DBP_MINIS;
	for (int m = 0; m < DBP_MINIS; m++) {
		if (m >= minis) {
			widths[m] = 0;
			continue;
		}
		uint64_t any = 0;
		for (int i = 0; i < DBP_PER_MINI; i++)
			any |= rel[m * DBP_PER_MINI + i];
		int w = pq_bit_width(any);
		widths[m] = (uint8_t)w;
		if (w)
			o = pack32(o, rel + m * DBP_PER_MINI, w);
	}
	return o;
}

/* Worst-case size of n values of width bytes as DELTA_BINARY_PACKED:
 * the header, then per block a min delta, the widths and the deltas (of
 * at most 32 bits for 4-byte values). */
static size_t dbp_bound(size_t n, int width)
{
	return 4 * 10 + (n / DBP_BLOCK + 1) * (10 + DBP_MINIS + DBP_BLOCK * (size_t)width);
}

/*
 * Appends n >= 1 integers as DELTA_BINARY_PACKED. Values come from the
 * little-endian bytes at p, width bytes each (4 or 8): 4-byte values take
 * their deltas in 32-bit arithmetic, so no width exceeds 32 bits.
 */
static int dbp_encode(sl_buf *out, const uint8_t *p, size_t n, int width)
{
	if (sl_buf_reserve(out, dbp_bound(n, width)) < 0)
		return SL_ENOMEM;
	uint8_t *o0 = (uint8_t *)out->data + out->len, *o = o0;
	int64_t first;
	if (width == 4) {
		int32_t x;
		memcpy(&x, p, 4);
		first = x;
	} else {
		memcpy(&first, p, 8);
	}
	o = put_uvarint(o, DBP_BLOCK);
	o = put_uvarint(o, DBP_MINIS);
	o = put_uvarint(o, n);
	o = put_uvarint(o, zigzag(first));
	int64_t d[DBP_BLOCK];
	int nd = 0;
	if (width == 4) {
		uint32_t prev = (uint32_t)first;
		for (size_t i = 1; i < n; i++) {
			uint32_t x;
			memcpy(&x, p + 4 * i, 4);
			d[nd++] = (int32_t)(x - prev);
			prev = x;
			if (nd == DBP_BLOCK) {
				o = put_block(o, d, nd);
				nd = 0;
			}
		}
	} else {
		uint64_t prev = (uint64_t)first;
		for (size_t i = 1; i < n; i++) {
			uint64_t x;
			memcpy(&x, p + 8 * i, 8);
			d[nd++] = (int64_t)(x - prev);
			prev = x;
			if (nd == DBP_BLOCK) {
				o = put_block(o, d, nd);
				nd = 0;
			}
		}
	}
	if (nd)
		o = put_block(o, d, nd);
	out->len += (size_t)(o - o0);
	out->data[out->len] = '\0';
	return 0;
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Appends n >= 1 PLAIN byte arrays (p[0..len)) as DELTA_LENGTH_BYTE_ARRAY:
 * the lengths DELTA_BINARY_PACKED, then the bytes back to back.
 */
static int dlba_encode(sl_buf *out, const uint8_t *p, size_t len, size_t n)
{
	/* the lengths, gathered in place of a separate array: as 4-byte
	 * little-endian values they are what dbp_encode reads */
	uint32_t *lens = sl_malloc(n * sizeof *lens);
	if (!lens)
		return SL_ENOMEM;
	size_t at = 0, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (len - at < 4)
			goto corrupt;
		uint32_t l = le32(p + at);
		if (len - at - 4 < l)
			goto corrupt;
		lens[i] = l;
		at += 4 + l;
		bytes += l;
	}
	int rc = dbp_encode(out, (const uint8_t *)lens, n, 4);
	sl_free(lens);
	if (rc < 0)
		return rc;
	if (sl_buf_reserve(out, bytes) < 0)
		return SL_ENOMEM;
	uint8_t *o = (uint8_t *)out->data + out->len;
	at = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t l = le32(p + at);
		memcpy(o, p + at + 4, l);
		o += l;
		at += 4 + l;
	}
	out->len += bytes;
	out->data[out->len] = '\0';
	return 0;
corrupt:
	sl_free(lens);
	return SL_EINTERNAL;
}

int pq_delta_encode(sl_buf *out, const uint8_t *vals, size_t len, size_t n, int width)
{
	if (n == 0)
		return SL_EINVAL;
	if (width == 0)
		return dlba_encode(out, vals, len, n);
	if ((width != 4 && width != 8) || len != n * (size_t)width)
		return SL_EINVAL;
	return dbp_encode(out, vals, n, width);
}

int pq_job_encode(pq_job *j)
{
	if (j->delta == PQ_DELTA_NONE || j->nvals == 0)
		return 0;
	sl_buf *b = &j->body;
	size_t off = j->vals_off, plain = b->len - off;
	int width = j->delta == PQ_DELTA_I32 ? 4 : j->delta == PQ_DELTA_I64 ? 8 : 0;
	/* the encoded page is made in comp (empty until compression) */
	sl_buf *t = &j->comp;
	sl_buf_reset(t);
	if (off && sl_buf_append(t, b->data, off) < 0)
		return SL_ENOMEM;
	int rc = pq_delta_encode(t, (const uint8_t *)b->data + off, plain, j->nvals, width);
	if (rc < 0)
		return rc;
	if (t->len - off >= plain) { /* no gain: stay PLAIN */
		sl_buf_reset(t);
		return 0;
	}
	/* the PLAIN buffer goes: the compressed page, much smaller, gets
	 * a buffer of its own size rather than a page-sized one */
	sl_buf_free(b);
	*b = *t;
	memset(t, 0, sizeof *t);
	j->encoding = width ? PQ_ENC_DELTA_BINARY_PACKED : PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
	return 0;
}
