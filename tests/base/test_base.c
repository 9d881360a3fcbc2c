/* test_base.c: errors, arenas, buffers, dates/timestamps, parsing, logging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "base/base.h"

static void test_error_prefix_keeps_code_and_message(void **state)
{
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_error_set(&err, SL_EIO, "cannot open %s", "x.csv"), SL_EIO);
	assert_int_equal(sl_error_prefix(&err, "source %s: ", "shop"), SL_EIO);
	assert_string_equal(err.message, "source shop: cannot open x.csv");
	assert_string_equal(sl_error_name(SL_ECONFIG), "config");
}

static void test_cancel_parent_and_deadline(void **state)
{
	sl_cancel run, task;
	sl_error err = SL_ERROR_INIT;
	sl_cancel_init(&run, NULL);
	sl_cancel_init(&task, &run);
	assert_int_equal(sl_cancelled(NULL), 0);
	assert_int_equal(sl_cancelled(&task), 0);
	assert_int_equal(sl_cancel_check(&task, "extract a.b", &err), 0);
	sl_cancel_set_timeout(&task, 1e-9);
	while (sl_monotonic_seconds() <= task.deadline)
		;
	assert_int_equal(sl_cancel_check(&task, "extract a.b", &err), SL_ETIMEOUT);
	assert_string_equal(err.message, "extract a.b: timed out");
	assert_int_equal(sl_cancelled(&run), 0);
	sl_cancel_set_timeout(&task, 0);
	sl_cancel_request(&run);
	assert_int_equal(sl_cancel_check(&task, "load a.b", &err), SL_ECANCELLED);
	assert_string_equal(err.message, "load a.b: cancelled");
	assert_string_equal(sl_error_name(SL_ETIMEOUT), "timeout");
	sl_error_clear(&err);
}

static void test_arena_many_allocations_aligned(void **state)
{
	sl_arena a;
	sl_arena_init(&a, 128);
	for (int i = 0; i < 1000; i++) {
		char *p = sl_arena_alloc(&a, (size_t)(i % 37) + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		memset(p, 'x', (size_t)(i % 37) + 1);
	}
	char *big = sl_arena_alloc(&a, 10000);
	assert_non_null(big);
	assert_string_equal(sl_arena_sprintf(&a, "%d-%s", 42, "x"), "42-x");
	sl_arena_reset(&a);
	assert_non_null(sl_arena_strdup(&a, "after reset"));
	sl_arena_free(&a);
}

static void test_buf_cap_refuses_growth(void **state)
{
	sl_buf b = SL_BUF_INIT;
	b.max = 10;
	assert_int_equal(sl_buf_puts(&b, "0123456789"), 0);
	assert_int_equal(sl_buf_putc(&b, 'x'), SL_ELIMIT);
	assert_int_equal(b.len, 10);
	sl_buf_free(&b);
}

static void test_buf_json_string_escapes(void **state)
{
	sl_buf b = SL_BUF_INIT;
	const char s[] = "a\"b\\c\n\x01";
	assert_int_equal(sl_buf_put_json_string(&b, s, sizeof s - 1), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	sl_buf_free(&b);
}

static void test_date_parse_and_format(void **state)
{
	int32_t d;
	char out[16];
	assert_int_equal(sl_date_parse("1970-01-01", 10, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(sl_date_parse("2024-02-29", 10, &d), 0);
	sl_date_format(d, out);
	assert_string_equal(out, "2024-02-29");
	assert_int_equal(sl_date_parse("2023-02-29", 10, &d), SL_EINVAL);
	assert_int_equal(sl_date_parse("2024-13-01", 10, &d), SL_EINVAL);
	assert_int_equal(sl_date_parse("2024-04-31", 10, &d), SL_EINVAL);
	assert_int_equal(sl_date_parse("1969-12-31", 10, &d), 0);
	assert_int_equal(d, -1);
	sl_date_format(-719162, out);
	assert_string_equal(out, "0001-01-01");
}

static void test_timestamp_parse_offsets_and_fractions(void **state)
{
	int64_t t;
	char out[40];
	const char *s = "2024-03-05T10:20:30.123456Z";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), 0);
	sl_timestamp_format(t, out);
	assert_string_equal(out, "2024-03-05 10:20:30.123456");
	s = "2024-03-05 12:20:30+02:00";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), 0);
	sl_timestamp_format_iso(t, out);
	assert_string_equal(out, "2024-03-05T10:20:30Z");
	s = "2024-03-05 10:20";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), 0);
	sl_timestamp_format(t, out);
	assert_string_equal(out, "2024-03-05 10:20:00");
	s = "2024-03-05";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), 0);
	assert_int_equal(t, (int64_t)19787 * SL_MICROS_PER_DAY);
	s = "1969-12-31 23:59:59.5";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), 0);
	assert_int_equal(t, -500000);
	sl_timestamp_format(t, out);
	assert_string_equal(out, "1969-12-31 23:59:59.500000");
	s = "2024-03-05T25:00:00";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), SL_EINVAL);
	s = "2024-03-05T10:00:00 junk";
	assert_int_equal(sl_timestamp_parse(s, strlen(s), &t), SL_EINVAL);
}

/* Found by tests/fuzz/fuzz_value.c: these parsed into years -1 and 10000,
 * which format as text ("10000-01-01 00:59:59.999999") that never parses. */
static void test_timestamp_parse_rejects_instants_outside_years_0000_9999(void **state)
{
	static const char *const outside[] = {
		"9999-12-31T23:59:59.999999-01:00", "0000-01-01T00:00:00+01:00",
		"9999-12-31T23:59:60", "0000-01-01 00:59+01"};
	static const char *const edges[] = {
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "0000-01-01T01:00:00+01:00",
		"9999-12-31T22:59:59-01:00"};
	int64_t t = 42, back;
	char out[40];
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(sl_timestamp_parse(outside[i], strlen(outside[i]), &t), SL_EINVAL);
		assert_int_equal(t, 42); /* untouched on failure */
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(sl_timestamp_parse(edges[i], strlen(edges[i]), &t), 0);
		int n = sl_timestamp_format(t, out);
		assert_int_equal(sl_timestamp_parse(out, (size_t)n, &back), 0);
		assert_int_equal(back, t);
	}
	sl_timestamp_parse(edges[1], strlen(edges[1]), &t);
	sl_timestamp_format(t, out);
	assert_string_equal(out, "9999-12-31 23:59:59.999999");
	sl_timestamp_parse(edges[2], strlen(edges[2]), &t);
	sl_timestamp_format_iso(t, out);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
}

static void test_parse_numbers_strictly(void **state)
{
	int64_t v;
	double d;
	assert_int_equal(sl_parse_int64("-9223372036854775808", 20, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(sl_parse_int64("9223372036854775808", 19, &v), SL_EINVAL);
	assert_int_equal(sl_parse_int64("12a", 3, &v), SL_EINVAL);
	assert_int_equal(sl_parse_int64("", 0, &v), SL_EINVAL);
	assert_int_equal(sl_parse_double("1.5e3", 5, &d), 0);
	assert_true(d == 1500.0);
	assert_int_equal(sl_parse_double("0x10", 4, &d), SL_EINVAL);
	assert_int_equal(sl_parse_double("1.5 ", 4, &d), SL_EINVAL);
}

static void test_utf8_validation(void **state)
{
	assert_true(sl_utf8_valid("héllo wörld ✓ 😀", strlen("héllo wörld ✓ 😀")));
	assert_false(sl_utf8_valid("\xff", 1));
	assert_false(sl_utf8_valid("\xc3", 1));          /* truncated */
	assert_false(sl_utf8_valid("\xed\xa0\x80", 3));  /* surrogate */
	assert_false(sl_utf8_valid("\xc0\xaf", 2));      /* overlong */
	assert_true(sl_utf8_valid("plain ascii text longer than eight", 34));
}

static void test_hex_digit(void **state)
{
	assert_int_equal(sl_hex_digit('0'), 0);
	assert_int_equal(sl_hex_digit('9'), 9);
	assert_int_equal(sl_hex_digit('a'), 10);
	assert_int_equal(sl_hex_digit('F'), 15);
	assert_int_equal(sl_hex_digit('g'), -1);
	assert_int_equal(sl_hex_digit('/'), -1);
}

static void test_duration_parse(void **state)
{
	int64_t us;
	assert_int_equal(sl_duration_parse("2h", &us), 0);
	assert_true(us == 2 * 3600 * SL_MICROS_PER_SEC);
	assert_int_equal(sl_duration_parse("1h30m", &us), 0);
	assert_true(us == 5400 * SL_MICROS_PER_SEC);
	assert_int_equal(sl_duration_parse("2 hours", &us), SL_EINVAL);
	/* The largest whole number of days that fits, and the first that does not. */
	assert_int_equal(sl_duration_parse("106751991d", &us), 0);
	assert_true(us == INT64_C(106751991) * SL_MICROS_PER_DAY);
	assert_int_equal(sl_duration_parse("106751992d", &us), SL_EINVAL);
	assert_int_equal(sl_duration_parse("106751991d1d", &us), SL_EINVAL);
	assert_int_equal(sl_duration_parse("9223372036854775s", &us), SL_EINVAL);
	/* A value whose microseconds do not fit in 64 bits is refused, not
	 * wrapped around (a negative or tiny timeout, step or retention). */
	assert_int_equal(sl_duration_parse("99999999999d", &us), SL_EINVAL);
	assert_int_equal(sl_duration_parse("9223372036854s", &us), 0);
	assert_int_equal(sl_duration_parse("9223372036855s", &us), SL_EINVAL);
	assert_int_equal(sl_duration_parse("106751991d106751991d", &us), SL_EINVAL);
}

static void *first_randoms(void *arg)
{
	uint64_t *out = arg;
	for (int i = 0; i < 4; i++)
		out[i] = sl_random_u64();
	return NULL;
}

static void test_timestamp_iso6_keeps_every_digit(void **state)
{
	(void)state;
	char out[48];
	assert_int_equal(sl_timestamp_format_iso6(0, out), 27);
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	sl_timestamp_format_iso6(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
	sl_timestamp_format_iso6(INT64_C(1706695200000000), out);
	assert_string_equal(out, "2024-01-31T10:00:00.000000Z");
	sl_timestamp_format_iso(INT64_C(1706695200000000), out);
	assert_string_equal(out, "2024-01-31T10:00:00Z");
}

/* Jitter: values in [0, 1), and each thread a stream of its own, even
 * threads started in the same microsecond. */
static void test_random_per_thread(void **state)
{
	(void)state;
	for (int i = 0; i < 10000; i++) {
		double d = sl_random01();
		assert_true(d >= 0.0 && d < 1.0);
	}
	enum { N = 8 };
	pthread_t th[N];
	uint64_t got[N][4];
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, first_randoms, got[i]), 0);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			assert_true(memcmp(got[i], got[j], sizeof got[i]) != 0);
}

static void test_log_redacts_secrets(void **state)
{
	char out[128];
	sl_log_add_secret("hunter2secret");
	sl_log_redact(out, sizeof out, "password=hunter2secret and hunter2secret");
	assert_string_equal(out, "password=*** and ***");
	sl_log_clear_secrets();
	sl_log_redact(out, sizeof out, "hunter2secret");
	assert_string_equal(out, "hunter2secret");
}

/* Any number of secrets is kept; one that begins with another is replaced
 * whole, whatever order they came in. */
static void test_log_redacts_many_and_overlapping_secrets(void **state)
{
	(void)state;
	char out[256], name[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "secret-number-%04d", i);
		sl_log_add_secret(name);
	}
	sl_log_redact(out, sizeof out, "a secret-number-0000 b secret-number-0999 c");
	assert_string_equal(out, "a *** b *** c");
	sl_log_clear_secrets();
	sl_log_add_secret("abcd1234");
	sl_log_add_secret("abcd1234-and-more");
	sl_log_redact(out, sizeof out, "k=abcd1234-and-more;j=abcd1234");
	assert_string_equal(out, "k=***;j=***");
	sl_log_clear_secrets();
}

/* A secret a server echoes inside a JSON string, escaped as JSON encoders do. */
static void test_log_redacts_json_escaped_secrets(void **state)
{
	(void)state;
	char out[256];
	sl_log_add_secret("CANARY/tok+3\"q");
	sl_log_redact(out, sizeof out,
		      "{\"a\":\"CANARY/tok+3\\\"q\",\"b\":\"CANARY\\/tok+3\\\"q\","
		      "\"c\":\"CANARY\\u002ftok\\u002b3\\u0022q\",\"d\":\"CANARY\\u002Ftok\\u002B3\\u0022q\"}");
	assert_string_equal(out, "{\"a\":\"***\",\"b\":\"***\",\"c\":\"***\",\"d\":\"***\"}");
	sl_log_clear_secrets();
}

/* A secret as it appears percent-encoded in a URL query is redacted too. */
static void test_log_redacts_url_encoded_secrets(void **state)
{
	char out[256];
	sl_log_add_secret("tok en/+=9");
	sl_log_redact(out, sizeof out,
		      "GET /a?k=tok+en%2f%2b%3d9 /b?k=tok%20en%2F%2B%3D9 /c?k=tok+en%2F%2B%3D9");
	assert_string_equal(out, "GET /a?k=*** /b?k=*** /c?k=***");
	assert_true(sl_log_has_secret("x=tok%20en%2F%2B%3D9", 20));
	assert_false(sl_log_has_secret("x=tok%20en", 10));
	char *d = sl_log_redact_dup("plain tok en/+=9 end");
	assert_string_equal(d, "plain *** end");
	sl_free(d);
	/* Too short to be a secret: never registered. */
	sl_log_add_secret("abc");
	sl_log_redact(out, sizeof out, "abc");
	assert_string_equal(out, "abc");
	sl_log_clear_secrets();
}

/* Redaction comes before the cut, and a secret's beginning left at the cut
 * (or at the end of text cut before) is redacted. */
static void test_log_redact_truncate_never_leaves_a_secret_prefix(void **state)
{
	char body[300];
	sl_buf b = SL_BUF_INIT;
	sl_log_add_secret("CANARYtok3");
	/* The secret crosses the 200-byte cut: redacted, then cut. */
	memset(body, 'x', 190);
	snprintf(body + 190, sizeof body - 190, "Bearer CANARYtok3 and more text");
	assert_int_equal(sl_log_redact_truncate(&b, body, strlen(body), 200), 0);
	assert_null(strstr(b.data, "CANARY"));
	assert_int_equal(strncmp(b.data + 190, "Bearer ***", 10), 0);
	assert_true(sl_str_ends_with(b.data, "..."));
	/* Text that was cut inside the secret before it reached us. */
	sl_buf_reset(&b);
	assert_int_equal(sl_log_redact_truncate(&b, "auth: Bearer CANARYto", 21, 200), 0);
	assert_string_equal(b.data, "auth: Bearer ***");
	/* Fewer than 4 bytes of it are not a secret's prefix. */
	sl_buf_reset(&b);
	assert_int_equal(sl_log_redact_truncate(&b, "ends with CAN", 13, 200), 0);
	assert_string_equal(b.data, "ends with CAN");
	/* The cut lands inside the secret itself: redacted whole. */
	sl_buf_reset(&b);
	assert_int_equal(sl_log_redact_truncate(&b, "0123CANARYtok3", 14, 8), 0);
	assert_string_equal(b.data, "0123***");
	sl_buf_reset(&b);
	assert_int_equal(sl_log_redact_truncate(&b, "0123CANARYtok3 tail", 19, 8), 0);
	assert_string_equal(b.data, "0123*** ...");
	sl_buf_free(&b);
	/* The fixed-size redaction redacts a prefix at its own cut too. */
	char out[16];
	sl_log_redact(out, sizeof out, "header CANARYtok3");
	assert_string_equal(out, "header ***");
	sl_log_redact(out, sizeof out, "header: CANARYtok3 x");
	assert_string_equal(out, "header: *** x");
	sl_log_redact(out, 13, "123456 CANARYtok9");
	assert_string_equal(out, "123456 ***");
	sl_log_clear_secrets();
}

static void test_alloc_failure_is_reported(void **state)
{
	sl_error err = SL_ERROR_INIT;
	void *p = NULL;
	sl_alloc_fail_after(0);
	assert_int_equal(sl_alloc_zeroed(&p, 16, &err), SL_ENOMEM);
	sl_alloc_fail_after(-1);
	assert_null(p);
	assert_non_null(strstr(err.message, "out of memory"));
}

static void test_file_output_visible_only_after_close(void **state)
{
	char dir[] = "/tmp/sl-base-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = sl_path_join(dir, "out.bin");
	sl_error err = SL_ERROR_INIT;
	sl_output *o;
	assert_int_equal(sl_output_file_open(&o, path, &err), 0);
	assert_int_equal(sl_output_write(o, "hello", 5, &err), 0);
	assert_false(sl_path_exists(path));
	assert_int_equal(o->close(o, &err), 0);
	assert_true(sl_path_exists(path));

	sl_input *in;
	char got[6] = {0};
	assert_int_equal(sl_input_file_open(&in, path, &err), 0);
	assert_int_equal(in->size, 5);
	assert_int_equal(in->read_at(in, 1, got, 4, &err), 0);
	assert_string_equal(got, "ello");
	assert_int_equal(in->read_at(in, 3, got, 4, &err), SL_EFORMAT);
	in->close(in);

	assert_int_equal(sl_output_file_open(&o, path, &err), 0);
	assert_int_equal(sl_output_write(o, "x", 1, &err), 0);
	o->abort(o);
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_file_read_all(&b, path, 0, &err), 0);
	assert_string_equal(b.data, "hello");
	sl_buf_free(&b);
	unlink(path);
	rmdir(dir);
	sl_free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_prefix_keeps_code_and_message),
		cmocka_unit_test(test_arena_many_allocations_aligned),
		cmocka_unit_test(test_cancel_parent_and_deadline),
		cmocka_unit_test(test_buf_cap_refuses_growth),
		cmocka_unit_test(test_buf_json_string_escapes),
		cmocka_unit_test(test_date_parse_and_format),
		cmocka_unit_test(test_timestamp_parse_offsets_and_fractions),
		cmocka_unit_test(test_timestamp_parse_rejects_instants_outside_years_0000_9999),
		cmocka_unit_test(test_parse_numbers_strictly),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_hex_digit),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_random_per_thread),
		cmocka_unit_test(test_timestamp_iso6_keeps_every_digit),
		cmocka_unit_test(test_log_redacts_secrets),
		cmocka_unit_test(test_log_redacts_many_and_overlapping_secrets),
		cmocka_unit_test(test_log_redacts_json_escaped_secrets),
		cmocka_unit_test(test_log_redacts_url_encoded_secrets),
		cmocka_unit_test(test_log_redact_truncate_never_leaves_a_secret_prefix),
		cmocka_unit_test(test_alloc_failure_is_reported),
		cmocka_unit_test(test_file_output_visible_only_after_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
