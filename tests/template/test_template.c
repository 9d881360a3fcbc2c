/* test_template.c: the template engine: lexing, parsing, rendering, filters, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template.h"

/* Parses src as "m.sql" and expects it to fail with exactly msg. */
static void expect_parse_error(const char *src, const char *msg)
{
	sl_tpl *t = NULL;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_tpl_parse(&t, "m.sql", src, strlen(src), &err);
	if (rc == 0)
		sl_tpl_free(t);
	assert_int_equal(rc, SL_EFORMAT);
	assert_string_equal(err.message, msg);
}

static void test_parse_error_unclosed_tag(void **state)
{
	expect_parse_error("select 1\n  {{ x ", "m.sql:2:3: unclosed tag '{{': no matching '}}' before the end");
	expect_parse_error("{% if x", "m.sql:1:1: unclosed tag '{%': no matching '%}' before the end");
	expect_parse_error("a {# note", "m.sql:1:3: unclosed comment '{#': no matching '#}' before the end");
}

static void test_parse_error_unclosed_block(void **state)
{
	expect_parse_error("x\n{% if a %}\ny", "m.sql:2:1: unclosed 'if' block: no '{% endif %}' before the end");
	expect_parse_error("{% for a in b %}{% if a %}{% endfor %}",
			   "m.sql:1:30: unexpected 'endfor' inside the 'if' block opened at 1:17, expected '{% endif %}'");
	expect_parse_error("a {% endif %}", "m.sql:1:6: unexpected 'endif' outside any block");
	expect_parse_error("{% if a %}{% else %}{% elif b %}{% endif %}",
			   "m.sql:1:24: unexpected 'elif', expected 'endif' after 'else'");
}

static void test_parse_error_unknown_filter(void **state)
{
	expect_parse_error("select {{ name | shout }}", "m.sql:1:18: unknown filter 'shout'");
}

static void test_parse_error_unexpected_token(void **state)
{
	expect_parse_error("{{ 1 + }}", "m.sql:1:8: unexpected '}}', expected an expression");
	expect_parse_error("{{ a b }}", "m.sql:1:6: unexpected 'b', expected '}}'");
	expect_parse_error("{% set = 1 %}", "m.sql:1:8: unexpected '=', expected a variable name");
	expect_parse_error("{% frobnicate %}", "m.sql:1:4: unknown tag 'frobnicate' outside any block");
	expect_parse_error("{{ 'abc }}", "m.sql:1:4: unterminated string");
	expect_parse_error("{{ f(a=1, 2) }}", "m.sql:1:11: positional argument after keyword argument");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_error_unclosed_tag),
		cmocka_unit_test(test_parse_error_unclosed_block),
		cmocka_unit_test(test_parse_error_unknown_filter),
		cmocka_unit_test(test_parse_error_unexpected_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
