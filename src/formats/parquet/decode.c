/*
 * decode.c: the Parquet bit-level encodings the reader needs: the RLE /
 * bit-packed hybrid (levels, dictionary indices, booleans) and
 * DELTA_BINARY_PACKED. Both decode incrementally, so a page never needs a
 * buffer proportional to its (attacker-chosen) value count.
 */
#include "formats/parquet/parquet_read_int.h"

#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet reader assumes a little-endian host"
#endif

/* Reads bw (0..64) bits at bit position pos of p[0..n); bits past n read 0. */
static inline uint64_t get_bits(const uint8_t *p, size_t n, uint64_t pos, int bw)
{
	size_t byte = (size_t)(pos >> 3);
	unsigned shift = (unsigned)(pos & 7);
	uint64_t v;
	if (bw == 0)
		return 0;
	if (byte + 8 <= n) {
		memcpy(&v, p + byte, 8);
		v >>= shift;
		if (shift + (unsigned)bw > 64 && byte + 8 < n)
			v |= (uint64_t)p[byte + 8] << (64 - shift);
	} else {
		unsigned __int128 acc = 0;
		for (size_t i = 0; i < 9 && byte + i < n; i++)
			acc |= (unsigned __int128)p[byte + i] << (8 * i);
		v = (uint64_t)(acc >> shift);
	}
	return bw == 64 ? v : v & ((UINT64_C(1) << bw) - 1);
}

static int read_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

void pqr_rle_init(pqr_rle *d, const uint8_t *p, size_t n, int bw)
{
	memset(d, 0, sizeof *d);
	d->p = p;
	d->end = p + n;
	d->bw = bw;
}

/* Starts the next run; -1 at the end of the data or when it is corrupt. */
static int rle_next_run(pqr_rle *d)
{
	uint64_t h;
	if (read_uvarint(&d->p, d->end, &h) < 0)
		return -1;
	if (h & 1) {
		uint64_t groups = h >> 1;
		size_t avail = (size_t)(d->end - d->p);
		uint64_t bytes = groups * (uint64_t)d->bw;
		if (groups == 0 || groups > (UINT32_MAX / 8))
			return -1;
		/* A final run may be cut short: keep only values fully present. */
		if (bytes > avail)
			bytes = avail;
		uint64_t values = d->bw ? bytes * 8 / (uint64_t)d->bw : groups * 8;
		if (values > groups * 8)
			values = groups * 8;
		if (values == 0)
			return -1;
		d->bp = d->p;
		d->bp_bytes = (size_t)bytes;
		d->bp_bit = 0;
		d->bp_left = (uint32_t)values;
		d->p += bytes;
	} else {
		size_t nbytes = ((size_t)d->bw + 7) / 8;
		uint32_t v = 0;
		if (h >> 1 == 0 || (h >> 1) > UINT32_MAX || (size_t)(d->end - d->p) < nbytes)
			return -1;
		for (size_t i = 0; i < nbytes; i++)
			v |= (uint32_t)d->p[i] << (8 * i);
		d->p += nbytes;
		if (d->bw < 32 && (v >> d->bw))
			return -1;
		d->rle_value = v;
		d->rle_left = (uint32_t)(h >> 1);
	}
	return 0;
}

int pqr_rle_get(pqr_rle *d, uint32_t *out, size_t n)
{
	while (n) {
		if (d->rle_left) {
			size_t k = n < d->rle_left ? n : d->rle_left;
			uint32_t v = d->rle_value;
			for (size_t i = 0; i < k; i++)
				out[i] = v;
			out += k;
			n -= k;
			d->rle_left -= (uint32_t)k;
		} else if (d->bp_left) {
			size_t k = n < d->bp_left ? n : d->bp_left;
			int bw = d->bw;
			if (bw == 1) {
				const uint8_t *b = d->bp;
				uint64_t pos = d->bp_bit;
				for (size_t i = 0; i < k; i++, pos++)
					out[i] = (b[pos >> 3] >> (pos & 7)) & 1;
			} else {
				for (size_t i = 0; i < k; i++)
					out[i] = (uint32_t)get_bits(d->bp, d->bp_bytes,
								    d->bp_bit + (uint64_t)i * (uint64_t)bw, bw);
			}
			d->bp_bit += (uint64_t)k * (uint64_t)bw;
			out += k;
			n -= k;
			d->bp_left -= (uint32_t)k;
		} else if (rle_next_run(d) < 0) {
			return -1;
		}
	}
	return 0;
}

int pqr_delta_init(pqr_delta *d, const uint8_t *p, size_t n)
{
	uint64_t first;
	memset(d, 0, sizeof *d);
	d->end = p + n;
	if (read_uvarint(&p, d->end, &d->block_size) < 0 || read_uvarint(&p, d->end, &d->minis) < 0 ||
	    read_uvarint(&p, d->end, &d->total) < 0 || read_uvarint(&p, d->end, &first) < 0)
		return -1;
	if (d->block_size == 0 || d->block_size > (1u << 20) || d->minis == 0 ||
	    d->block_size % d->minis != 0)
		return -1;
	d->per_mini = d->block_size / d->minis;
	if (d->per_mini % 8 != 0)
		return -1;
	d->p = p;
	d->last = (first >> 1) ^ (0 - (first & 1));
	d->mini = d->minis;
	d->in_mini = d->per_mini;
	return 0;
}

/* Opens the next miniblock, reading a block header when one is due. */
static int delta_next_mini(pqr_delta *d)
{
	uint64_t md;
	d->mini++;
	if (d->mini >= d->minis) {
		if (read_uvarint(&d->p, d->end, &md) < 0)
			return -1;
		if ((size_t)(d->end - d->p) < d->minis)
			return -1;
		d->min_delta = (md >> 1) ^ (0 - (md & 1));
		d->widths = d->p;
		d->p += d->minis;
		d->mini = 0;
	}
	int bw = d->widths[d->mini];
	if (bw > 64)
		return -1;
	size_t full = (size_t)(d->per_mini * (uint64_t)bw / 8);
	uint64_t want = d->total - d->emitted;
	if (want > d->per_mini)
		want = d->per_mini;
	size_t need = (size_t)((want * (uint64_t)bw + 7) / 8);
	size_t avail = (size_t)(d->end - d->p);
	if (need > avail)
		return -1;
	d->mini_p = d->p;
	d->mini_bytes = full < avail ? full : avail;
	d->mini_bw = bw;
	d->in_mini = 0;
	d->p += d->mini_bytes;
	return 0;
}

int pqr_delta_get(pqr_delta *d, int64_t *out, size_t n)
{
	if (n > d->total - d->emitted)
		return -1;
	if (n && d->emitted == 0) {
		*out++ = (int64_t)d->last;
		d->emitted++;
		n--;
	}
	while (n) {
		if (d->in_mini >= d->per_mini && delta_next_mini(d) < 0)
			return -1;
		uint64_t k = d->per_mini - d->in_mini;
		if (k > n)
			k = n;
		uint64_t v = d->last, md = d->min_delta;
		int bw = d->mini_bw;
		uint64_t pos = d->in_mini * (uint64_t)bw;
		for (uint64_t i = 0; i < k; i++, pos += (uint64_t)bw) {
			v += md + get_bits(d->mini_p, d->mini_bytes, pos, bw);
			out[i] = (int64_t)v;
		}
		d->last = v;
		d->in_mini += k;
		d->emitted += k;
		out += k;
		n -= (size_t)k;
	}
	return 0;
}

const uint8_t *pqr_delta_end(const pqr_delta *src)
{
	pqr_delta d = *src;
	if (d.emitted == 0 && d.total > 0)
		d.emitted = 1;
	/* Skip the values left in the current miniblock, then whole miniblocks. */
	uint64_t rest = d.per_mini - d.in_mini;
	if (d.in_mini < d.per_mini) {
		uint64_t k = rest < d.total - d.emitted ? rest : d.total - d.emitted;
		d.emitted += k;
	}
	while (d.emitted < d.total) {
		if (delta_next_mini(&d) < 0)
			return NULL;
		uint64_t k = d.total - d.emitted;
		if (k > d.per_mini)
			k = d.per_mini;
		d.emitted += k;
		d.in_mini = d.per_mini;
	}
	return d.p;
}
