/*
 * test_s3_source.c: the s3 extractor's checks that need no server — a url
 * without a key pattern, an unknown format, an unreachable endpoint —
 * each a clear error naming the source file, line or URL, never a secret.
 * Reading objects is covered end to end by tests/integration/s3_pipeline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sources/sources_int.h"

#define SECRET "unit-SECRET-3f9a0c1d77"

static int setup(void **state)
{
	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1); /* nothing listens */
	setenv("SLUICE_S3_MAX_RETRIES", "0", 1);
	setenv("SLUICE_S3_CONNECT_TIMEOUT", "2", 1);
	return 0;
}

static int open_table(const char *url, const char *format, sl_error *err)
{
	sl_source_table t = {0};
	sl_file_opts o = {.delimiter = ',', .quote = '"', .escape = '"', .flatten = "columns"};
	sl_source src = {0};
	sl_extract_opts opts = {0};
	sl_extractor *x = NULL;
	t.name = "events";
	t.line = 7;
	t.opts = &o;
	o.location = (char *)url;
	o.format = format;
	o.header = true;
	src.name = "drops";
	src.kind = sl_source_kind_find("s3");
	src.file = "sources/drops.yml";
	src.ntables = 1;
	src.tables = &t;
	opts.project_dir = ".";
	int rc = sl_extractor_open(&x, &src, &t, &opts, err);
	sl_extractor_close(x);
	return rc;
}

static void test_url_without_key_pattern_is_a_config_error(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(open_table("s3://landing", NULL, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "sources/drops.yml:7: url \"s3://landing\" needs a bucket and a key "
			    "pattern, like s3://bucket/events/*.csv.gz");
	sl_error_clear(&err);
	assert_int_equal(open_table("s3:///events/*.csv", NULL, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "sources/drops.yml:7: "));
}

static void test_unsupported_format_is_a_config_error(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	/* jsonl is read now, by the one file source; other formats are not. */
	assert_int_equal(open_table("s3://landing/events/*.avro", "avro", &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "sources/drops.yml:7: format \"avro\" is not supported; use csv, "
			    "parquet or jsonl");
}

static void test_unreachable_endpoint_fails_naming_the_bucket_without_secrets(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	int rc = open_table("s3://landing/events/*.csv", "csv", &err);
	assert_true(rc < 0);
	assert_int_not_equal(rc, SL_ECONFIG);
	assert_non_null(strstr(err.message, "landing"));
	assert_null(strstr(err.message, SECRET));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_without_key_pattern_is_a_config_error),
		cmocka_unit_test(test_unsupported_format_is_a_config_error),
		cmocka_unit_test(test_unreachable_endpoint_fails_naming_the_bucket_without_secrets),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
