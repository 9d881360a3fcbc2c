/*
 * csv_src.c: the csv reader's byte source. Reads an sl_input front to back
 * in chunks and decompresses gzip (every member of a multi-member file) or
 * zstd on the fly, chosen by the file's magic bytes.
 */
#include "csv_int.h"

#include <string.h>

#define CSV_CBUF_SIZE (1u << 20)

static const unsigned char gzip_magic[2] = {0x1f, 0x8b};
static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

/* Reads the next chunk of raw input into cbuf; *got == 0 at the end. */
static int src_fill_raw(csv_src *s, size_t *got, sl_error *err)
{
	uint64_t left = s->in->size - s->in_off;
	size_t n = left < s->cbuf_cap ? (size_t)left : s->cbuf_cap;
	*got = 0;
	s->cbuf_pos = 0;
	s->cbuf_len = 0;
	if (n == 0)
		return 0;
	int rc = s->in->read_at(s->in, s->in_off, s->cbuf, n, err);
	if (rc < 0)
		return rc;
	s->in_off += n;
	s->cbuf_len = n;
	*got = n;
	return 0;
}

int csv_src_open(csv_src *s, sl_input *in, bool own_in, const char *path, sl_error *err)
{
	unsigned char magic[4] = {0};
	size_t n = in->size < 4 ? (size_t)in->size : 4;
	int rc;

	memset(s, 0, sizeof *s);
	s->in = in;
	s->own_in = own_in;
	if (n) {
		rc = in->read_at(in, 0, magic, n, err);
		if (rc < 0)
			return rc;
	}
	if (n >= 2 && memcmp(magic, gzip_magic, 2) == 0)
		s->codec = CSV_CODEC_GZIP;
	else if (n >= 4 && memcmp(magic, zstd_magic, 4) == 0)
		s->codec = CSV_CODEC_ZSTD;
	else if (n && sl_str_ends_with(path, ".gz"))
		return sl_error_set(err, SL_EFORMAT, "%s: not a gzip file (bad magic bytes)", path);
	else if (n && sl_str_ends_with(path, ".zst"))
		return sl_error_set(err, SL_EFORMAT, "%s: not a zstd file (bad magic bytes)", path);
	if (s->codec == CSV_CODEC_NONE)
		return 0;

	s->cbuf_cap = CSV_CBUF_SIZE;
	s->cbuf = sl_malloc(s->cbuf_cap);
	if (!s->cbuf)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (s->codec == CSV_CODEC_GZIP) {
		/* 15 + 32: the largest window, gzip or zlib header detected. */
		if (inflateInit2(&s->zs, 15 + 32) != Z_OK)
			return sl_error_set(err, SL_ENOMEM, "%s: cannot start gzip decoder", path);
		s->zs_init = true;
	} else {
		s->zd = ZSTD_createDStream();
		if (!s->zd)
			return sl_error_set(err, SL_ENOMEM, "%s: cannot start zstd decoder", path);
		ZSTD_initDStream(s->zd);
		s->zd_last = 0;
	}
	return 0;
}

static int read_gzip(csv_src *s, char *dst, size_t cap, size_t *got, sl_error *err)
{
	z_stream *z = &s->zs;
	size_t out = 0;
	int rc;

	while (out < cap) {
		if (s->cbuf_pos == s->cbuf_len) {
			size_t n;
			rc = src_fill_raw(s, &n, err);
			if (rc < 0)
				return rc;
			if (n == 0) {
				if (!s->member_done && s->in->size > 0)
					return sl_error_set(err, SL_EFORMAT,
							    "%s: truncated gzip data", s->in->name);
				break;
			}
		}
		z->next_in = s->cbuf + s->cbuf_pos;
		z->avail_in = (uInt)(s->cbuf_len - s->cbuf_pos);
		z->next_out = (Bytef *)dst + out;
		z->avail_out = (uInt)(cap - out);
		if (s->member_done) {
			/* Another gzip member follows the one that ended. */
			if (inflateReset(z) != Z_OK)
				return sl_error_set(err, SL_EFORMAT, "%s: gzip reset failed",
						    s->in->name);
			s->member_done = false;
		}
		int zr = inflate(z, Z_NO_FLUSH);
		out = cap - z->avail_out;
		s->cbuf_pos = s->cbuf_len - z->avail_in;
		if (zr == Z_STREAM_END) {
			s->member_done = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return sl_error_set(err, SL_EFORMAT, "%s: corrupt gzip data: %s",
					    s->in->name, z->msg ? z->msg : zError(zr));
		}
	}
	*got = out;
	return 0;
}

static int read_zstd(csv_src *s, char *dst, size_t cap, size_t *got, sl_error *err)
{
	ZSTD_outBuffer ob = {dst, cap, 0};
	int rc;

	while (ob.pos < ob.size) {
		if (s->cbuf_pos == s->cbuf_len) {
			size_t n;
			rc = src_fill_raw(s, &n, err);
			if (rc < 0)
				return rc;
			if (n == 0 && s->zd_last == 0)
				break; /* the last frame is complete */
			if (n == 0) {
				/* Flush what the decoder still holds, then end. */
				ZSTD_inBuffer none = {NULL, 0, 0};
				size_t before = ob.pos;
				size_t zr = ZSTD_decompressStream(s->zd, &ob, &none);
				if (ZSTD_isError(zr))
					return sl_error_set(err, SL_EFORMAT, "%s: corrupt zstd data: %s",
							    s->in->name, ZSTD_getErrorName(zr));
				s->zd_last = zr;
				if (ob.pos > before)
					continue;
				if (s->zd_last != 0)
					return sl_error_set(err, SL_EFORMAT,
							    "%s: truncated zstd data", s->in->name);
				break;
			}
		}
		ZSTD_inBuffer ib = {s->cbuf, s->cbuf_len, s->cbuf_pos};
		size_t zr = ZSTD_decompressStream(s->zd, &ob, &ib);
		if (ZSTD_isError(zr))
			return sl_error_set(err, SL_EFORMAT, "%s: corrupt zstd data: %s",
					    s->in->name, ZSTD_getErrorName(zr));
		s->zd_last = zr;
		s->cbuf_pos = ib.pos;
	}
	*got = ob.pos;
	return 0;
}

int csv_src_read(csv_src *s, char *dst, size_t cap, size_t *got, sl_error *err)
{
	*got = 0;
	if (cap == 0)
		return 0;
	switch (s->codec) {
	case CSV_CODEC_GZIP: return read_gzip(s, dst, cap, got, err);
	case CSV_CODEC_ZSTD: return read_zstd(s, dst, cap, got, err);
	case CSV_CODEC_NONE: break;
	}
	uint64_t left = s->in->size - s->in_off;
	size_t n = left < cap ? (size_t)left : cap;
	if (n == 0)
		return 0;
	int rc = s->in->read_at(s->in, s->in_off, dst, n, err);
	if (rc < 0)
		return rc;
	s->in_off += n;
	*got = n;
	return 0;
}

void csv_src_close(csv_src *s)
{
	if (s->zs_init)
		inflateEnd(&s->zs);
	if (s->zd)
		ZSTD_freeDStream(s->zd);
	sl_free(s->cbuf);
	if (s->own_in && s->in)
		s->in->close(s->in);
	memset(s, 0, sizeof *s);
}
