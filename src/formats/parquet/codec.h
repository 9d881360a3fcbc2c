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

#endif
