/*
 * test_render.c: the logical-date variables of source options — {{ ds }},
 * {{ data_interval_start }}, {{ data_interval_end }} — rendered from the
 * run's values or today's date, {{ watermark }} kept for the http source,
 * unknown names refused with file:line, text without "{{" untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sources/sources_int.h"

static const sl_extract_opts RUN = {
	.ds = "2024-03-05",
	.data_interval_start = "2024-03-05T00:00:00Z",
	.data_interval_end = "2024-03-06T00:00:00Z",
};

static char *render(const char *s, const sl_extract_opts *o, bool keep_wm, int *rc,
		    sl_error *err)
{
	sl_render_vars v;
	sl_buf b = SL_BUF_INIT;
	sl_render_vars_of(&v, o);
	*rc = sl_render(&b, s, &v, keep_wm, err);
	return sl_buf_detach(&b);
}

static void test_render_substitutes_with_optional_spaces(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	int rc;
	char *s = render("day={{ds}}&from={{ data_interval_start }}&to={{  data_interval_end}}",
			 &RUN, false, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "day=2024-03-05&from=2024-03-05T00:00:00Z&to=2024-03-06T00:00:00Z");
	sl_free(s);
	s = render("plain {text} } {", &RUN, false, &rc, &err);
	assert_string_equal(s, "plain {text} } {");
	sl_free(s);
	s = render("", &RUN, false, &rc, &err);
	assert_string_equal(s, "");
	sl_free(s);
	s = render("since={{ watermark }}&d={{ ds }}", &RUN, true, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "since={{ watermark }}&d=2024-03-05");
	sl_free(s);
}

static void test_render_unknown_name_is_a_config_error(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	int rc;
	char *s = render("x={{ dt }}", &RUN, false, &rc, &err);
	sl_free(s);
	assert_int_equal(rc, SL_ECONFIG);
	assert_string_equal(err.message, "unknown variable {{ dt }}; use {{ ds }}, "
			    "{{ data_interval_start }} or {{ data_interval_end }}");
	s = render("x={{ watermark }}", &RUN, false, &rc, &err);
	sl_free(s);
	assert_int_equal(rc, SL_ECONFIG);
	const char *bad = NULL;
	size_t len = 0;
	assert_int_equal(sl_render_check("a {{ ds }} b {{ oops }} c", false, &bad, &len),
			 SL_ECONFIG);
	assert_int_equal(len, strlen("{{ oops }}"));
	assert_memory_equal(bad, "{{ oops }}", len);
	assert_int_equal(sl_render_check("{{ watermark }}", true, &bad, &len), 0);
	assert_int_equal(sl_render_check("{{ unclosed", false, &bad, &len), SL_ECONFIG);
}

static void test_render_without_run_values_uses_today(void **state)
{
	(void)state;
	sl_render_vars v;
	sl_extract_opts none = {0};
	char today[16], start[40], end[40];
	int64_t day = sl_now_micros() / SL_MICROS_PER_DAY;
	sl_render_vars_of(&v, &none);
	sl_date_format((int32_t)day, today);
	sl_timestamp_format_iso(day * SL_MICROS_PER_DAY, start);
	sl_timestamp_format_iso((day + 1) * SL_MICROS_PER_DAY, end);
	if (strcmp(v.ds, today) != 0) /* midnight passed between the two reads */
		return;
	assert_string_equal(v.data_interval_start, start);
	assert_string_equal(v.data_interval_end, end);
	assert_int_equal(strlen(v.ds), 10);
}

static void test_option_render_names_file_and_line(void **state)
{
	(void)state;
	sl_source src = {.name = "db", .file = "sources/db.yml"};
	sl_kv params[2] = {{"day", "{{ ds }}", 9}, {"bad", "{{ nope }}", 10}};
	sl_kvs kvs = {1, params};
	char *url = "http://api/{{ ds }}/x", *plain = "plain";
	const char *plain_before = plain;
	sl_render_vars v;
	sl_arena a;
	sl_error err = SL_ERROR_INIT;
	sl_arena_init(&a, 256);
	sl_render_vars_of(&v, &RUN);
	assert_int_equal(sl_source_render_str(&url, &v, true, &a, &src, 5, &err), 0);
	assert_string_equal(url, "http://api/2024-03-05/x");
	assert_int_equal(sl_source_render_str(&plain, &v, false, &a, &src, 5, &err), 0);
	assert_ptr_equal(plain, plain_before); /* untouched text is shared */
	assert_int_equal(sl_source_render_kvs(&kvs, &v, true, &a, &src, &err), 0);
	assert_string_equal(kvs.items[0].value, "2024-03-05");
	assert_string_equal(params[0].value, "{{ ds }}"); /* the configuration stays */
	sl_kvs both = {2, params};
	assert_int_equal(sl_source_render_kvs(&both, &v, true, &a, &src, &err), SL_ECONFIG);
	assert_string_equal(err.message, "sources/db.yml:10: unknown variable {{ nope }}; use "
			    "{{ ds }}, {{ data_interval_start }} or {{ data_interval_end }} (or "
			    "{{ watermark }})");
	sl_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_substitutes_with_optional_spaces),
		cmocka_unit_test(test_render_unknown_name_is_a_config_error),
		cmocka_unit_test(test_render_without_run_values_uses_today),
		cmocka_unit_test(test_option_render_names_file_and_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
