/*
 * codec.c: Parquet page compression and decompression (zstd, snappy, gzip
 * framed deflate, none), plus codec names. Used by the writer and reader.
 */
#include "formats/parquet/codec.h"

#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

int sl_codec_parse(const char *s, sl_codec *out)
{
	if (!s)
		return SL_EINVAL;
	if (!strcasecmp(s, "zstd"))
		*out = SL_CODEC_ZSTD;
	else if (!strcasecmp(s, "snappy"))
		*out = SL_CODEC_SNAPPY;
	else if (!strcasecmp(s, "gzip"))
		*out = SL_CODEC_GZIP;
	else if (!strcasecmp(s, "none") || !strcasecmp(s, "uncompressed"))
		*out = SL_CODEC_UNCOMPRESSED;
	else
		return SL_EINVAL;
	return 0;
}

const char *sl_codec_name(sl_codec c)
{
	switch (c) {
	case SL_CODEC_UNCOMPRESSED: return "uncompressed";
	case SL_CODEC_SNAPPY: return "snappy";
	case SL_CODEC_GZIP: return "gzip";
	case SL_CODEC_ZSTD: return "zstd";
	}
	return "unknown";
}

/*
 * One zstd context pair per thread, reused across pages: creating a context
 * per page costs more than compressing a small page at level 1. A pthread
 * key destructor frees a thread's contexts when it exits; an atexit handler
 * frees the main thread's.
 */
typedef struct zstd_ctxs {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
} zstd_ctxs;

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static bool ctx_key_ok;

static void free_ctxs(void *p)
{
	zstd_ctxs *z = p;
	if (!z)
		return;
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	free(z);
}

static void free_main_ctxs(void)
{
	if (!ctx_key_ok)
		return;
	free_ctxs(pthread_getspecific(ctx_key));
	pthread_setspecific(ctx_key, NULL);
}

static void make_key(void)
{
	if (pthread_key_create(&ctx_key, free_ctxs) == 0) {
		ctx_key_ok = true;
		atexit(free_main_ctxs);
	}
}

/* The calling thread's contexts (created on first use), or NULL on OOM. */
static zstd_ctxs *thread_ctxs(void)
{
	pthread_once(&ctx_once, make_key);
	if (!ctx_key_ok)
		return NULL;
	zstd_ctxs *z = pthread_getspecific(ctx_key);
	if (!z) {
		/* plain calloc: this lives outside sl_malloc's failure injection
		 * and accounting, like libzstd's own allocations */
		z = calloc(1, sizeof *z);
		if (!z)
			return NULL;
		if (pthread_setspecific(ctx_key, z) != 0) {
			free(z);
			return NULL;
		}
	}
	return z;
}

static ZSTD_CCtx *thread_cctx(void)
{
	zstd_ctxs *z = thread_ctxs();
	if (!z)
		return NULL;
	if (!z->c)
		z->c = ZSTD_createCCtx();
	return z->c;
}

static ZSTD_DCtx *thread_dctx(void)
{
	zstd_ctxs *z = thread_ctxs();
	if (!z)
		return NULL;
	if (!z->d)
		z->d = ZSTD_createDCtx();
	return z->d;
}

static int compress_zstd(int level, const void *src, size_t n, sl_buf *out, sl_error *err)
{
	ZSTD_CCtx *cctx = thread_cctx();
	if (!cctx)
		return sl_error_set(err, SL_ENOMEM, "zstd: out of memory");
	size_t bound = ZSTD_compressBound(n);
	if (sl_buf_reserve(out, bound) < 0)
		return sl_error_set(err, SL_ENOMEM, "zstd: out of memory");
	size_t r = ZSTD_compressCCtx(cctx, out->data + out->len, bound, src, n, level);
	if (ZSTD_isError(r))
		return sl_error_set(err, SL_EINTERNAL, "zstd compress: %s", ZSTD_getErrorName(r));
	out->len += r;
	out->data[out->len] = '\0';
	return 0;
}

static int compress_snappy(const void *src, size_t n, sl_buf *out, sl_error *err)
{
	size_t bound = snappy_max_compressed_length(n);
	if (sl_buf_reserve(out, bound) < 0)
		return sl_error_set(err, SL_ENOMEM, "snappy: out of memory");
	size_t olen = bound;
	if (snappy_compress(src, n, out->data + out->len, &olen) != SNAPPY_OK)
		return sl_error_set(err, SL_EINTERNAL, "snappy compress failed");
	out->len += olen;
	out->data[out->len] = '\0';
	return 0;
}

static int compress_gzip(const void *src, size_t n, sl_buf *out, sl_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	/* windowBits 15 + 16: gzip framing, as Parquet's GZIP codec requires. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return sl_error_set(err, SL_ENOMEM, "gzip: deflateInit2 failed");
	size_t bound = deflateBound(&zs, (uLong)n) + 32;
	if (sl_buf_reserve(out, bound) < 0) {
		deflateEnd(&zs);
		return sl_error_set(err, SL_ENOMEM, "gzip: out of memory");
	}
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)out->data + out->len;
	zs.avail_out = (uInt)bound;
	int zr = deflate(&zs, Z_FINISH);
	size_t produced = bound - zs.avail_out;
	deflateEnd(&zs);
	if (zr != Z_STREAM_END)
		return sl_error_set(err, SL_EINTERNAL, "gzip compress failed (%d)", zr);
	out->len += produced;
	out->data[out->len] = '\0';
	return 0;
}

int sl_codec_compress(sl_codec codec, int level, const void *src, size_t n, sl_buf *out,
		      sl_error *err)
{
	switch (codec) {
	case SL_CODEC_UNCOMPRESSED:
		if (sl_buf_append(out, src, n) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		return 0;
	case SL_CODEC_ZSTD: return compress_zstd(level, src, n, out, err);
	case SL_CODEC_SNAPPY: return compress_snappy(src, n, out, err);
	case SL_CODEC_GZIP: return compress_gzip(src, n, out, err);
	}
	return sl_error_set(err, SL_EINVAL, "unsupported compression codec %d", (int)codec);
}

static int decompress_zstd(const void *src, size_t n, void *dst, size_t dst_len, sl_error *err)
{
	ZSTD_DCtx *dctx = thread_dctx();
	if (!dctx)
		return sl_error_set(err, SL_ENOMEM, "zstd: out of memory");
	/* A page may hold several concatenated frames; decompressDCtx handles
	 * that and fails when the output would exceed dst_len. */
	size_t r = ZSTD_decompressDCtx(dctx, dst, dst_len, src, n);
	if (ZSTD_isError(r))
		return sl_error_set(err, SL_EFORMAT, "zstd: corrupt page: %s",
				    ZSTD_getErrorName(r));
	if (r != dst_len)
		return sl_error_set(err, SL_EFORMAT,
				    "zstd: page decompressed to %zu bytes, header says %zu", r,
				    dst_len);
	return 0;
}

static int decompress_snappy(const void *src, size_t n, void *dst, size_t dst_len,
			     sl_error *err)
{
	size_t ulen = 0;
	if (snappy_uncompressed_length(src, n, &ulen) != SNAPPY_OK)
		return sl_error_set(err, SL_EFORMAT, "snappy: corrupt page header");
	if (ulen != dst_len)
		return sl_error_set(err, SL_EFORMAT,
				    "snappy: page decompresses to %zu bytes, header says %zu", ulen,
				    dst_len);
	size_t olen = dst_len;
	if (snappy_uncompress(src, n, dst, &olen) != SNAPPY_OK || olen != dst_len)
		return sl_error_set(err, SL_EFORMAT, "snappy: corrupt page");
	return 0;
}

static int decompress_gzip(const void *src, size_t n, void *dst, size_t dst_len, sl_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	/* 15 + 32: accept gzip or zlib headers (some writers emit zlib). */
	if (inflateInit2(&zs, 47) != Z_OK)
		return sl_error_set(err, SL_ENOMEM, "gzip: inflateInit2 failed");
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)n;
	zs.next_out = dst;
	zs.avail_out = (uInt)dst_len;
	int zr;
	for (;;) {
		zr = inflate(&zs, Z_FINISH);
		/* Concatenated gzip members: restart after each one. */
		if (zr == Z_STREAM_END && zs.avail_in > 0 && zs.avail_out > 0) {
			if (inflateReset(&zs) != Z_OK)
				break;
			continue;
		}
		break;
	}
	size_t got = dst_len - zs.avail_out;
	bool trailing = zs.avail_in > 0;
	inflateEnd(&zs);
	if (zr == Z_BUF_ERROR && got == dst_len)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page decompresses to more than the %zu bytes the header says",
				    dst_len);
	if (zr != Z_STREAM_END)
		return sl_error_set(err, SL_EFORMAT, "gzip: corrupt page (%s)",
				    zs.msg ? zs.msg : "truncated stream");
	if (got != dst_len)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page decompressed to %zu bytes, header says %zu", got,
				    dst_len);
	if (trailing)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page decompresses to more than the %zu bytes the header says",
				    dst_len);
	return 0;
}

int sl_codec_decompress(sl_codec codec, const void *src, size_t n, void *dst, size_t dst_len,
			sl_error *err)
{
	switch (codec) {
	case SL_CODEC_UNCOMPRESSED:
		if (n != dst_len)
			return sl_error_set(err, SL_EFORMAT,
					    "uncompressed page has %zu bytes, header says %zu", n,
					    dst_len);
		if (n)
			memcpy(dst, src, n);
		return 0;
	case SL_CODEC_ZSTD: return decompress_zstd(src, n, dst, dst_len, err);
	case SL_CODEC_SNAPPY: return decompress_snappy(src, n, dst, dst_len, err);
	case SL_CODEC_GZIP: return decompress_gzip(src, n, dst, dst_len, err);
	}
	return sl_error_set(err, SL_EFORMAT, "unsupported compression codec %d", (int)codec);
}

/* ------------------------------------------------------ growing output */

/*
 * The largest expansion of each format, per compressed byte: snappy's best
 * element is a 3-byte copy of 64 bytes (21.3x); deflate's is 258 bytes from
 * about two bits (1032x, as zlib documents). zstd has no useful bound (an
 * RLE block is 128 KiB from 4 bytes), so it relies on growing output only.
 */
#define SNAPPY_MAX_RATIO 22
#define DEFLATE_MAX_RATIO 1032

/* Grows *buf to at least need bytes (need <= limit + 1); 0 or SL_ENOMEM. */
static int grow_to(uint8_t **buf, size_t *cap, size_t need, sl_error *err)
{
	if (need <= *cap)
		return 0;
	uint8_t *p = sl_realloc(*buf, need);
	if (!p)
		return sl_error_set(err, SL_ENOMEM, "out of memory decompressing a page of %zu "
				    "bytes", need);
	*buf = p;
	*cap = need;
	return 0;
}

/*
 * The next output capacity: the first step is a few times the compressed
 * size (real bytes, already in memory), each later one doubles, and none
 * passes want + 1 (the spare byte lets a stream show it holds more).
 */
static size_t next_cap(size_t have, size_t n, size_t want)
{
	size_t c;
	if (have == 0)
		c = n < ((size_t)1 << 40) ? n * 4 + ((size_t)64 << 10) : want;
	else
		c = have > SIZE_MAX / 2 ? SIZE_MAX : have * 2;
	return c < want + 1 ? c : want + 1;
}

/*
 * Pages up to this size (or a few times their compressed size) are
 * decompressed in one call into a buffer of the claimed size: what a
 * forged header can cost is bounded by it. Larger claims stream into a
 * growing buffer.
 */
#define ONE_SHOT_BYTES ((size_t)8 << 20)

static int grow_zstd(const void *src, size_t n, size_t want, uint8_t **buf, size_t *cap,
		     sl_error *err)
{
	/* A single frame that states its size must state the page's size. */
	if (ZSTD_findFrameCompressedSize(src, n) == n) {
		unsigned long long fcs = ZSTD_getFrameContentSize(src, n);
		if (fcs == ZSTD_CONTENTSIZE_ERROR)
			return sl_error_set(err, SL_EFORMAT, "zstd: corrupt page: bad frame header");
		if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != want)
			return sl_error_set(err, SL_EFORMAT,
					    "zstd: page frame holds %llu bytes, header says %zu", fcs,
					    want);
	}
	int rc;
	if (want <= ONE_SHOT_BYTES || want / 64 <= n) {
		if ((rc = grow_to(buf, cap, want + 1, err)) < 0)
			return rc;
		return decompress_zstd(src, n, *buf, want, err);
	}

	/*
	 * A stream of its own, freed at the end, so its window buffer (at most
	 * zstd's default 128 MiB limit, whatever a frame header asks) is not
	 * kept by the thread's context after a large page.
	 */
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		return sl_error_set(err, SL_ENOMEM, "zstd: out of memory");
	ZSTD_inBuffer in = {src, n, 0};
	size_t got = 0, hint = 1, limit = want + 1;
	rc = grow_to(buf, cap, next_cap(0, n, want), err);
	while (rc == 0) {
		size_t end = *cap < limit ? *cap : limit;
		if (got == end) {
			if (end == limit)
				break; /* one byte more than the header says */
			if ((rc = grow_to(buf, cap, next_cap(*cap, n, want), err)) < 0)
				break;
			continue;
		}
		ZSTD_outBuffer out = {*buf, end, got};
		hint = ZSTD_decompressStream(ds, &out, &in);
		if (ZSTD_isError(hint)) {
			rc = sl_error_set(err, SL_EFORMAT, "zstd: corrupt page: %s",
					  ZSTD_getErrorName(hint));
			break;
		}
		got = out.pos;
		/* Done when the input is used up and the last frame ended; a
		 * frame that wants more input than there is is truncated. */
		if (in.pos == n && (hint == 0 || got < end))
			break;
	}
	ZSTD_freeDStream(ds);
	if (rc < 0)
		return rc;
	if (got > want)
		return sl_error_set(err, SL_EFORMAT,
				    "zstd: page decompresses to more than the %zu bytes the header says",
				    want);
	if (hint != 0)
		return sl_error_set(err, SL_EFORMAT, "zstd: corrupt page: truncated frame");
	if (got != want)
		return sl_error_set(err, SL_EFORMAT,
				    "zstd: page decompressed to %zu bytes, header says %zu", got, want);
	return 0;
}

static int grow_gzip(const void *src, size_t n, size_t want, uint8_t **buf, size_t *cap,
		     sl_error *err)
{
	if (want / DEFLATE_MAX_RATIO > n)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page claims %zu bytes from %zu compressed, more than "
				    "deflate can encode", want, n);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	/* 15 + 32: accept gzip or zlib headers (some writers emit zlib). */
	if (inflateInit2(&zs, 47) != Z_OK)
		return sl_error_set(err, SL_ENOMEM, "gzip: inflateInit2 failed");
	zs.next_in = (Bytef *)(uintptr_t)src;
	size_t in_left = n, got = 0, limit = want + 1;
	int zr = Z_OK;
	int rc = grow_to(buf, cap, next_cap(0, n, want), err);
	while (rc == 0) {
		size_t end = *cap < limit ? *cap : limit;
		if (got == end) {
			if (end == limit)
				break; /* one byte more than the header says */
			if ((rc = grow_to(buf, cap, next_cap(*cap, n, want), err)) < 0)
				break;
			continue;
		}
		/* zlib counts in uInt: feed and drain in pieces below 4 GiB. */
		uInt ain = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
		size_t room = end - got;
		uInt aout = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		zs.avail_in = ain;
		zs.next_out = *buf + got;
		zs.avail_out = aout;
		zr = inflate(&zs, Z_NO_FLUSH);
		size_t used = ain - zs.avail_in, made = aout - zs.avail_out;
		in_left -= used;
		got += made;
		if (zr == Z_STREAM_END) {
			if (in_left == 0)
				break;
			/* Concatenated gzip members: restart after each one. */
			if (inflateReset(&zs) != Z_OK)
				break;
			continue;
		}
		if (zr == Z_BUF_ERROR && used == 0 && made == 0)
			break; /* the input ended inside a member */
		if (zr != Z_OK)
			break;
	}
	const char *msg = zs.msg;
	inflateEnd(&zs);
	if (rc < 0)
		return rc;
	if (got > want)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page decompresses to more than the %zu bytes the header says",
				    want);
	if (zr != Z_STREAM_END)
		return sl_error_set(err, SL_EFORMAT, "gzip: corrupt page (%s)",
				    msg ? msg : "truncated stream");
	if (got != want)
		return sl_error_set(err, SL_EFORMAT,
				    "gzip: page decompressed to %zu bytes, header says %zu", got, want);
	return 0;
}

int sl_codec_decompress_grow(sl_codec codec, const void *src, size_t n, size_t want,
			     uint8_t **buf, size_t *cap, sl_error *err)
{
	int rc;
	switch (codec) {
	case SL_CODEC_ZSTD:
		rc = grow_zstd(src, n, want, buf, cap, err);
		break;
	case SL_CODEC_GZIP:
		rc = grow_gzip(src, n, want, buf, cap, err);
		break;
	case SL_CODEC_SNAPPY: {
		/* snappy states its length up front and its expansion is bounded. */
		size_t ulen = 0;
		if (snappy_uncompressed_length(src, n, &ulen) != SNAPPY_OK)
			return sl_error_set(err, SL_EFORMAT, "snappy: corrupt page header");
		if (ulen != want)
			return sl_error_set(err, SL_EFORMAT,
					    "snappy: page decompresses to %zu bytes, header says %zu",
					    ulen, want);
		if (want / SNAPPY_MAX_RATIO > n)
			return sl_error_set(err, SL_EFORMAT,
					    "snappy: page claims %zu bytes from %zu compressed, more "
					    "than snappy can encode", want, n);
		if ((rc = grow_to(buf, cap, want + 1, err)) < 0)
			return rc;
		rc = decompress_snappy(src, n, *buf, want, err);
		break;
	}
	case SL_CODEC_UNCOMPRESSED:
		if (n != want)
			return sl_error_set(err, SL_EFORMAT,
					    "uncompressed page has %zu bytes, header says %zu", n, want);
		if ((rc = grow_to(buf, cap, want + 1, err)) < 0)
			return rc;
		if (n)
			memcpy(*buf, src, n);
		return 0;
	default:
		return sl_error_set(err, SL_EFORMAT, "unsupported compression codec %d", (int)codec);
	}
	if (rc == 0)
		rc = grow_to(buf, cap, want + 1, err);
	return rc;
}
