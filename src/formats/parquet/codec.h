/*
 * codec.h (private to formats/parquet): page compression with libzstd,
 * libsnappy and zlib (gzip framing, as Parquet's GZIP codec requires).
 */
#ifndef SL_PARQUET_CODEC_H
#define SL_PARQUET_CODEC_H

#include "formats/parquet/parquet.h"

/* Compresses src into out (appended); level applies to zstd. */
int sl_codec_compress(sl_codec codec, int level, const void *src, size_t n, sl_buf *out,
		      sl_error *err);
/*
 * Decompresses src into dst, which must receive exactly dst_len bytes (the
 * page header's uncompressed size); anything else is SL_EFORMAT.
 */
int sl_codec_decompress(sl_codec codec, const void *src, size_t n, void *dst, size_t dst_len,
			sl_error *err);

/*
 * Decompresses src[0..n) into *buf (capacity *cap, reused across calls and
 * freed by the caller with sl_free), which must come out at exactly want
 * bytes. The buffer grows as output is produced, so memory follows the
 * bytes the data really holds, never the size a header claims: a forged
 * page header or zstd frame header costs at most what its compressed bytes
 * expand to. Claims no stream of n bytes can hold (more than snappy's or
 * deflate's largest expansion, a zstd frame whose own content size
 * disagrees) are refused before anything is allocated. On success *cap >
 * want (one spare byte). SL_EFORMAT for corrupt data or a size mismatch,
 * SL_ENOMEM.
 */
int sl_codec_decompress_grow(sl_codec codec, const void *src, size_t n, size_t want,
			     uint8_t **buf, size_t *cap, sl_error *err);

#endif
