/* test_store_s3_live.c: the S3 store against a real S3-compatible server named by
 * SL_TEST_S3_ENDPOINT (tests/integration/s3_store.test.mjs runs it against s3rver
 * behind a fault-injecting proxy). SL_TEST_S3_ENDPOINT=skip skips; unset fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sl_store *st;
static char prefix[64]; /* every key of this run lives under it */
/* big test buffers, freed by free_bufs even when an assertion fails */
static unsigned char *buf_a, *buf_b;

static int free_bufs(void **state)
{
	(void)state;
	sl_free(buf_a);
	sl_free(buf_b);
	buf_a = buf_b = NULL;
	return 0;
}

static void fill(void *p, size_t n, uint64_t seed)
{
	unsigned char *c = p;
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		c[i] = (unsigned char)(x >> 24);
	}
}

static char *key(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", prefix, name);
	return buf[i];
}

static size_t uploads_in_progress(void)
{
	size_t n = 99;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_s3_count_uploads(st, prefix, &n, &err);
	if (rc < 0)
		fprintf(stderr, "count uploads: %s\n", err.message);
	assert_int_equal(rc, 0);
	return n;
}

static void expect_object(const char *k, const void *data, size_t n)
{
	sl_buf got = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry e;
	int rc = sl_store_get(st, k, &got, &err);
	if (rc < 0)
		fprintf(stderr, "get %s: %s\n", k, err.message);
	assert_int_equal(rc, 0);
	assert_int_equal(got.len, n);
	assert_true(n == 0 || memcmp(got.data, data, n) == 0);
	assert_int_equal(sl_store_stat(st, k, &e, &err), 0);
	assert_int_equal(e.size, n);
	assert_true(e.etag[0] != '\0');
	assert_true(e.mtime_micros > 0);
	sl_buf_free(&got);
}

static void test_put_get_stat_overwrite(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *k = key("small/hello.txt");
	assert_int_equal(sl_store_put(st, k, "hello, lake", 11, false, &err), 0);
	expect_object(k, "hello, lake", 11);
	assert_int_equal(sl_store_put(st, k, "bye", 3, false, &err), 0);
	expect_object(k, "bye", 3);
	/* an empty object is an object */
	assert_int_equal(sl_store_put(st, key("small/empty"), "", 0, false, &err), 0);
	expect_object(key("small/empty"), "", 0);
}

static void test_missing_key_is_not_found_with_s3_code(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_buf got = SL_BUF_INIT;
	sl_store_entry e;
	sl_input *in = NULL;
	char want[600];
	assert_int_equal(sl_store_get(st, key("nope/missing.bin"), &got, &err), SL_ENOTFOUND);
	snprintf(want, sizeof want, "%s/%s: GET failed: 404 NoSuchKey", st->url,
		 key("nope/missing.bin"));
	assert_memory_equal(err.message, want, strlen(want));
	assert_int_equal(sl_store_stat(st, key("nope/missing.bin"), &e, &err), SL_ENOTFOUND);
	assert_int_equal(sl_store_open_input(st, key("nope/missing.bin"), &in, &err), SL_ENOTFOUND);
	assert_null(in);
	sl_buf_free(&got);
}

static void test_put_if_absent_conflicts(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *k = key("_delta_log/00000000000000000000.json");
	assert_int_equal(sl_store_put(st, k, "{\"v\":0}", 7, true, &err), 0);
	assert_int_equal(sl_store_put(st, k, "{\"v\":1}", 7, true, &err), SL_ECONFLICT);
	assert_non_null(strstr(err.message, "00000000000000000000.json"));
	/* the first writer's bytes stay */
	expect_object(k, "{\"v\":0}", 7);
}

static void test_list_pages_through_continuation(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry *e = NULL;
	size_t n = 0;
	char name[64];
	/* SLUICE_S3_MAX_KEYS=7 makes this four pages */
	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof name, "many/f%02d.csv", 24 - i);
		assert_int_equal(sl_store_put(st, key(name), name, (size_t)i, false, &err), 0);
	}
	assert_int_equal(sl_store_put(st, key("many/odd & <name>.csv"), "x", 1, false, &err), 0);
	assert_int_equal(sl_store_put(st, key("manyother/x"), "x", 1, false, &err), 0);

	assert_int_equal(sl_store_list(st, key("many/"), &e, &n, &err), 0);
	assert_int_equal(n, 26);
	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof name, "many/f%02d.csv", i);
		assert_string_equal(e[i].key, key(name));
		assert_int_equal(e[i].size, 24 - i);
		assert_true(e[i].mtime_micros > INT64_C(1600000000) * 1000000);
		assert_true(e[i].etag[0] != '\0' && e[i].etag[0] != '"');
	}
	assert_string_equal(e[25].key, key("many/odd & <name>.csv"));
	sl_store_entries_free(e, n);

	/* a prefix with no objects lists nothing */
	assert_int_equal(sl_store_list(st, key("none/"), &e, &n, &err), 0);
	assert_int_equal(n, 0);
	sl_store_entries_free(e, n);
}

static void test_multipart_upload_and_ranged_reads(void **state)
{
	(void)state;
	const size_t total = 20u << 20; /* 4 parts of 5 MiB */
	const size_t chunk = (1u << 20) + 7;
	unsigned char *data = buf_a = sl_malloc(total), *back = buf_b = sl_malloc(total);
	sl_error err = SL_ERROR_INIT;
	sl_output *out = NULL;
	sl_input *in = NULL;
	const char *k = key("big/data.parquet");
	assert_non_null(data);
	assert_non_null(back);
	fill(data, total, 42);

	assert_int_equal(sl_store_open_output(st, k, &out, &err), 0);
	for (size_t off = 0; off < total; off += chunk) {
		size_t n = total - off < chunk ? total - off : chunk;
		int rc = sl_output_write(out, data + off, n, &err);
		if (rc < 0)
			fprintf(stderr, "write: %s\n", err.message);
		assert_int_equal(rc, 0);
	}
	assert_int_equal(out->written, total);
	/* not visible before close */
	sl_store_entry e;
	assert_int_equal(sl_store_stat(st, k, &e, &err), SL_ENOTFOUND);
	int rc = out->close(out, &err);
	if (rc < 0)
		fprintf(stderr, "close: %s\n", err.message);
	assert_int_equal(rc, 0);
	assert_int_equal(uploads_in_progress(), 0);
	expect_object(k, data, total);

	assert_int_equal(sl_store_open_input(st, k, &in, &err), 0);
	assert_int_equal(in->size, total);
	static const struct {
		size_t off, n;
	} reads[] = {{0, 4}, {(5u << 20) - 3, 10}, {total - 8, 8}, {123456, 3u << 20}, {17, 1}};
	for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		memset(back, 0, reads[i].n);
		assert_int_equal(in->read_at(in, reads[i].off, back, reads[i].n, &err), 0);
		assert_memory_equal(back, data + reads[i].off, reads[i].n);
	}
	assert_int_equal(in->read_at(in, total - 2, back, 4, &err), SL_EFORMAT);
	in->close(in);
}

static void test_small_output_is_a_single_put(void **state)
{
	(void)state;
	const size_t total = 5u << 20; /* exactly one part: still one PUT */
	unsigned char *data = buf_a = sl_malloc(total);
	sl_error err = SL_ERROR_INIT;
	sl_output *out = NULL;
	fill(data, total, 7);
	assert_int_equal(sl_store_open_output(st, key("one/part.bin"), &out, &err), 0);
	assert_int_equal(sl_output_write(out, data, 1000, &err), 0);
	assert_int_equal(sl_output_write(out, data + 1000, total - 1000, &err), 0);
	assert_int_equal(out->close(out, &err), 0);
	expect_object(key("one/part.bin"), data, total);
	assert_int_equal(sl_store_open_output(st, key("one/empty.bin"), &out, &err), 0);
	assert_int_equal(out->close(out, &err), 0);
	expect_object(key("one/empty.bin"), "", 0);
	assert_int_equal(uploads_in_progress(), 0);
}

static void test_abort_leaves_no_object_and_no_upload(void **state)
{
	(void)state;
	const size_t total = 12u << 20; /* two parts sent before the abort */
	unsigned char *data = buf_a = sl_malloc(total);
	sl_error err = SL_ERROR_INIT;
	sl_output *out = NULL;
	sl_store_entry e;
	fill(data, total, 9);
	assert_int_equal(sl_store_open_output(st, key("aborted/x.parquet"), &out, &err), 0);
	assert_int_equal(sl_output_write(out, data, total, &err), 0);
	assert_true(uploads_in_progress() >= 1);
	out->abort(out);
	assert_int_equal(uploads_in_progress(), 0);
	assert_int_equal(sl_store_stat(st, key("aborted/x.parquet"), &e, &err), SL_ENOTFOUND);
}

static void test_delete_is_idempotent(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry e;
	const char *k = key("del/me");
	assert_int_equal(sl_store_put(st, k, "x", 1, false, &err), 0);
	assert_int_equal(sl_store_delete(st, k, &err), 0);
	assert_int_equal(sl_store_stat(st, k, &e, &err), SL_ENOTFOUND);
	assert_int_equal(sl_store_delete(st, k, &err), 0);
}

static int setup(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	char hex[17], url[512];
	const char *bucket = getenv("SL_TEST_S3_BUCKET");
	sl_random_hex(hex, 8);
	snprintf(prefix, sizeof prefix, "t-%s", hex);
	/* the store is rooted at the bucket; keys carry the run's prefix */
	snprintf(url, sizeof url, "s3://%s", bucket && *bucket ? bucket : "lake");
	if (sl_store_open(&st, url, &err) < 0) {
		fprintf(stderr, "open %s: %s\n", url, err.message);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry *e = NULL;
	size_t n = 0;
	if (!getenv("SL_TEST_S3_KEEP") && sl_store_list(st, prefix, &e, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			sl_store_delete(st, e[i].key, &err);
		sl_store_entries_free(e, n);
	}
	sl_store_free(st);
	return 0;
}

int main(void)
{
	const char *ep = getenv("SL_TEST_S3_ENDPOINT");
	const char *lvl = getenv("SLUICE_LOG_LEVEL");
	const char *filter = getenv("SL_TEST_S3_FILTER");
	if (!ep || !*ep) {
		fprintf(stderr, "test_store_s3_live: set SL_TEST_S3_ENDPOINT to an S3-compatible "
				"endpoint (tests/integration/s3_store.test.mjs does), or to 'skip'\n");
		return 1;
	}
	if (strcmp(ep, "skip") == 0) {
		printf("1..0 # SKIP SL_TEST_S3_ENDPOINT=skip\n");
		return 0;
	}
	setenv("AWS_ENDPOINT_URL", ep, 1);
	setenv("AWS_ACCESS_KEY_ID", getenv("AWS_ACCESS_KEY_ID") ? getenv("AWS_ACCESS_KEY_ID") : "S3RVER", 1);
	setenv("AWS_SECRET_ACCESS_KEY",
	       getenv("AWS_SECRET_ACCESS_KEY") ? getenv("AWS_SECRET_ACCESS_KEY") : "S3RVER", 1);
	setenv("SLUICE_S3_PART_SIZE", "5242880", 0);
	setenv("SLUICE_S3_MAX_KEYS", "7", 0);
	if (lvl && sl_log_level_parse(lvl) >= 0)
		sl_log_set_level((sl_log_level)sl_log_level_parse(lvl));
	if (filter && *filter)
		cmocka_set_test_filter(filter);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_stat_overwrite),
		cmocka_unit_test(test_missing_key_is_not_found_with_s3_code),
		cmocka_unit_test(test_put_if_absent_conflicts),
		cmocka_unit_test(test_list_pages_through_continuation),
		cmocka_unit_test_teardown(test_multipart_upload_and_ranged_reads, free_bufs),
		cmocka_unit_test_teardown(test_small_output_is_a_single_put, free_bufs),
		cmocka_unit_test_teardown(test_abort_leaves_no_object_and_no_upload, free_bufs),
		cmocka_unit_test(test_delete_is_idempotent),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	sl_log_clear_secrets();
	return rc;
}
