/* test_codec.c: page compression round trips and corrupt input for every codec. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "formats/parquet/codec.h"

#include <stdio.h>
#include <string.h>

static const sl_codec all_codecs[] = {SL_CODEC_UNCOMPRESSED, SL_CODEC_SNAPPY, SL_CODEC_GZIP,
				      SL_CODEC_ZSTD};

/* Repetitive but not trivial text: compresses well in every codec. */
static void make_input(sl_buf *b, size_t n)
{
	uint32_t x = 12345;
	while (b->len < n) {
		x = x * 1103515245u + 12345u;
		assert_int_equal(sl_buf_printf(b, "order-%u,customer-%u;", (x >> 16) % 1000,
					       (x >> 8) % 50),
				 0);
	}
	b->len = n;
}

static void round_trip(sl_codec c, size_t n)
{
	sl_buf in = SL_BUF_INIT, comp = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	make_input(&in, n);
	/* prefix bytes must be kept: compress appends */
	assert_int_equal(sl_buf_append(&comp, "HDR", 3), 0);
	assert_int_equal(sl_codec_compress(c, 1, in.data, n, &comp, &err), 0);
	assert_memory_equal(comp.data, "HDR", 3);
	if (c != SL_CODEC_UNCOMPRESSED && n > 1000)
		assert_true(comp.len - 3 < n / 2);
	char *out = sl_malloc(n + 1);
	assert_non_null(out);
	assert_int_equal(sl_codec_decompress(c, comp.data + 3, comp.len - 3, out, n, &err), 0);
	if (n)
		assert_memory_equal(out, in.data, n);
	sl_free(out);
	sl_buf_free(&in);
	sl_buf_free(&comp);
}

static void test_round_trip_every_codec(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof all_codecs / sizeof all_codecs[0]; i++) {
		round_trip(all_codecs[i], 0);
		round_trip(all_codecs[i], 1);
		round_trip(all_codecs[i], 100000);
		round_trip(all_codecs[i], 3u << 20);
	}
}

static void test_zstd_levels(void **state)
{
	(void)state;
	sl_buf in = SL_BUF_INIT, c1 = SL_BUF_INIT, c9 = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	make_input(&in, 500000);
	assert_int_equal(sl_codec_compress(SL_CODEC_ZSTD, 1, in.data, in.len, &c1, &err), 0);
	assert_int_equal(sl_codec_compress(SL_CODEC_ZSTD, 9, in.data, in.len, &c9, &err), 0);
	assert_true(c9.len <= c1.len);
	sl_buf_free(&in);
	sl_buf_free(&c1);
	sl_buf_free(&c9);
}

static void test_wrong_size_is_format_error(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof all_codecs / sizeof all_codecs[0]; i++) {
		sl_codec c = all_codecs[i];
		sl_buf in = SL_BUF_INIT, comp = SL_BUF_INIT;
		sl_error err = SL_ERROR_INIT;
		make_input(&in, 10000);
		assert_int_equal(sl_codec_compress(c, 1, in.data, in.len, &comp, &err), 0);
		char *out = sl_malloc(20000);
		/* too small a destination */
		assert_int_equal(sl_codec_decompress(c, comp.data, comp.len, out, 9999, &err),
				 SL_EFORMAT);
		assert_int_equal(err.code, SL_EFORMAT);
		sl_error_clear(&err);
		/* too large a destination */
		assert_int_equal(sl_codec_decompress(c, comp.data, comp.len, out, 10001, &err),
				 SL_EFORMAT);
		assert_true(strlen(err.message) > 0);
		sl_free(out);
		sl_buf_free(&in);
		sl_buf_free(&comp);
	}
}

static void test_corrupt_input_is_format_error(void **state)
{
	(void)state;
	const sl_codec codecs[] = {SL_CODEC_SNAPPY, SL_CODEC_GZIP, SL_CODEC_ZSTD};
	for (size_t i = 0; i < 3; i++) {
		sl_buf in = SL_BUF_INIT, comp = SL_BUF_INIT;
		sl_error err = SL_ERROR_INIT;
		make_input(&in, 10000);
		assert_int_equal(sl_codec_compress(codecs[i], 1, in.data, in.len, &comp, &err), 0);
		char *out = sl_malloc(10000);
		/* garbage */
		char junk[64];
		memset(junk, 0xA5, sizeof junk);
		assert_int_equal(sl_codec_decompress(codecs[i], junk, sizeof junk, out, 10000, &err),
				 SL_EFORMAT);
		/* truncated */
		assert_int_equal(sl_codec_decompress(codecs[i], comp.data, comp.len / 2, out, 10000,
						     &err),
				 SL_EFORMAT);
		/* flipped bytes in the middle (zstd checks offsets, snappy and
		 * gzip their tags/CRC) */
		for (size_t k = comp.len / 3; k < comp.len / 3 + 8; k++)
			comp.data[k] ^= 0x5A;
		int rc = sl_codec_decompress(codecs[i], comp.data, comp.len, out, 10000, &err);
		if (rc == 0) /* a flip may decode; it must not match then */
			assert_true(memcmp(out, in.data, 10000) != 0);
		else
			assert_int_equal(rc, SL_EFORMAT);
		/* empty input */
		assert_int_equal(sl_codec_decompress(codecs[i], "", 0, out, 10000, &err),
				 SL_EFORMAT);
		sl_free(out);
		sl_buf_free(&in);
		sl_buf_free(&comp);
	}
}

/*
 * sl_codec_decompress_grow: output that needs many growth steps (a 20 MiB
 * repetitive page from a few KiB), concatenated frames and members, and
 * truncated or oversized streams, for each codec.
 */
static void test_decompress_grow(void **state)
{
	(void)state;
	const sl_codec codecs[] = {SL_CODEC_ZSTD, SL_CODEC_GZIP, SL_CODEC_SNAPPY,
				   SL_CODEC_UNCOMPRESSED};
	size_t n = (size_t)20 << 20;
	char *in = sl_malloc(n);
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + (i / 4096) % 3);
	for (size_t k = 0; k < 4; k++) {
		sl_error err = SL_ERROR_INIT;
		sl_buf comp = SL_BUF_INIT;
		uint8_t *buf = NULL;
		size_t cap = 0;
		assert_int_equal(sl_codec_compress(codecs[k], 1, in, n / 2, &comp, &err), 0);
		assert_int_equal(sl_codec_compress(codecs[k], 1, in + n / 2, n / 2, &comp, &err), 0);
		if (codecs[k] != SL_CODEC_SNAPPY) { /* snappy has no concatenation */
			if (sl_codec_decompress_grow(codecs[k], comp.data, comp.len, n, &buf, &cap,
						     &err) < 0)
				fail_msg("%s: %s", sl_codec_name(codecs[k]), err.message);
			assert_true(cap > n);
			assert_memory_equal(buf, in, n);
			/* One byte short of the stream, or a claim of one byte less. */
			assert_int_equal(sl_codec_decompress_grow(codecs[k], comp.data, comp.len - 1,
								  n, &buf, &cap, &err), SL_EFORMAT);
			assert_int_equal(sl_codec_decompress_grow(codecs[k], comp.data, comp.len,
								  n - 1, &buf, &cap, &err), SL_EFORMAT);
			assert_int_equal(sl_codec_decompress_grow(codecs[k], comp.data, comp.len,
								  n + 1, &buf, &cap, &err), SL_EFORMAT);
		}
		sl_buf_reset(&comp);
		assert_int_equal(sl_codec_compress(codecs[k], 3, in, n, &comp, &err), 0);
		sl_free(buf);
		buf = NULL;
		cap = 0;
		if (sl_codec_decompress_grow(codecs[k], comp.data, comp.len, n, &buf, &cap, &err) < 0)
			fail_msg("%s: %s", sl_codec_name(codecs[k]), err.message);
		assert_memory_equal(buf, in, n);
		sl_free(buf);
		sl_buf_free(&comp);
	}
	sl_free(in);
}

static void test_uncompressed_size_mismatch(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	char out[8];
	assert_int_equal(sl_codec_decompress(SL_CODEC_UNCOMPRESSED, "abc", 3, out, 4, &err),
			 SL_EFORMAT);
	assert_non_null(strstr(err.message, "3 bytes"));
	assert_int_equal(sl_codec_decompress(SL_CODEC_UNCOMPRESSED, "abc", 3, out, 3, &err), 0);
	assert_memory_equal(out, "abc", 3);
}

static void test_unknown_codec(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_buf b = SL_BUF_INIT;
	char out[4];
	assert_int_equal(sl_codec_compress((sl_codec)3, 1, "x", 1, &b, &err), SL_EINVAL);
	assert_int_equal(sl_codec_decompress((sl_codec)5, "x", 1, out, 1, &err), SL_EFORMAT);
	sl_buf_free(&b);
}

static void test_parse_and_name(void **state)
{
	(void)state;
	sl_codec c;
	assert_int_equal(sl_codec_parse("zstd", &c), 0);
	assert_int_equal(c, SL_CODEC_ZSTD);
	assert_int_equal(sl_codec_parse("SNAPPY", &c), 0);
	assert_int_equal(c, SL_CODEC_SNAPPY);
	assert_int_equal(sl_codec_parse("gzip", &c), 0);
	assert_int_equal(c, SL_CODEC_GZIP);
	assert_int_equal(sl_codec_parse("none", &c), 0);
	assert_int_equal(c, SL_CODEC_UNCOMPRESSED);
	assert_int_equal(sl_codec_parse("uncompressed", &c), 0);
	assert_int_equal(c, SL_CODEC_UNCOMPRESSED);
	assert_int_equal(sl_codec_parse("lz4", &c), SL_EINVAL);
	assert_int_equal(sl_codec_parse(NULL, &c), SL_EINVAL);
	assert_string_equal(sl_codec_name(SL_CODEC_ZSTD), "zstd");
	assert_string_equal(sl_codec_name(SL_CODEC_SNAPPY), "snappy");
	assert_string_equal(sl_codec_name(SL_CODEC_GZIP), "gzip");
	assert_string_equal(sl_codec_name(SL_CODEC_UNCOMPRESSED), "uncompressed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_codec),
		cmocka_unit_test(test_zstd_levels),
		cmocka_unit_test(test_wrong_size_is_format_error),
		cmocka_unit_test(test_corrupt_input_is_format_error),
		cmocka_unit_test(test_uncompressed_size_mismatch),
		cmocka_unit_test(test_decompress_grow),
		cmocka_unit_test(test_unknown_codec),
		cmocka_unit_test(test_parse_and_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
