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

/* The host of the tests: a few globals and two functions. */
static int host_lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	if (strcmp(name, "name") == 0) {
		*out = sl_tpl_string(a, "Orders", 6);
		return 1;
	}
	if (strcmp(name, "cols") == 0) {
		*out = sl_tpl_list_new(a);
		sl_tpl_list_push(a, out->u.list, sl_tpl_string(a, "id", 2));
		sl_tpl_list_push(a, out->u.list, sl_tpl_string(a, "amount", 6));
		sl_tpl_list_push(a, out->u.list, sl_tpl_string(a, "status", 6));
		return 1;
	}
	if (strcmp(name, "cfg") == 0) {
		*out = sl_tpl_dict_new(a);
		sl_tpl_dict_set(a, out->u.dict, "schema", sl_tpl_string(a, "mart", 4));
		sl_tpl_dict_set(a, out->u.dict, "threads", sl_tpl_int(4));
		return 1;
	}
	if (strcmp(name, "ref") == 0 || strcmp(name, "fail") == 0) {
		*out = sl_tpl_callable(strcmp(name, "ref") == 0 ? "ref" : "fail", NULL);
		return 1;
	}
	return 0;
}

/* ref(a[, b], quote=true): "a"."b" ; fail(): an error */
static int host_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		     const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		     sl_error *err)
{
	if (strcmp(fn->u.fn.name, "fail") == 0)
		return sl_error_set(err, SL_EINVAL, "fail() was called");
	bool quote = true;
	for (size_t i = 0; i < nkw; i++)
		if (strcmp(kw[i].name, "quote") == 0)
			quote = sl_tpl_truthy(&kw[i].value);
	const char *schema = nargs == 2 ? args[0].u.str.s : "main";
	const char *rel = args[nargs - 1].u.str.s;
	char *s = quote ? sl_arena_sprintf(a, "\"%s\".\"%s\"", schema, rel)
			: sl_arena_sprintf(a, "%s.%s", schema, rel);
	*out = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {s, strlen(s)}};
	return 0;
}

static const sl_tpl_env host = {NULL, host_lookup, host_call};

static int render_src(const char *src, sl_buf *out, sl_error *err)
{
	sl_tpl *t = NULL;
	int rc = sl_tpl_parse(&t, "m.sql", src, strlen(src), err);
	if (rc == 0)
		rc = sl_tpl_render(t, &host, out, err);
	sl_tpl_free(t);
	return rc;
}

static void expect_render(const char *src, const char *want)
{
	sl_buf out = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	int rc = render_src(src, &out, &err);
	if (rc != 0)
		fail_msg("%s: %s", src, err.message);
	assert_string_equal(out.data ? out.data : "", want);
	sl_buf_free(&out);
}

static void expect_render_error(const char *src, const char *msg)
{
	sl_buf out = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_true(render_src(src, &out, &err) < 0);
	assert_string_equal(err.message, msg);
	sl_buf_free(&out);
}

static void test_render_text_output_and_comments(void **state)
{
	expect_render("select 1", "select 1");
	expect_render("a{# hidden #}b{{ 1 }}c", "ab1c");
	expect_render("{{ name }} {{ 'x' ~ 2 ~ none }} {{ true }} {{ 1.5 }} {{ 2.0 }}",
		      "Orders x2None True 1.5 2.0");
	expect_render("{{ [1, 'a', none] }} {{ {'k': 'v', 'n': 1} }}", "[1, 'a', None] {'k': 'v', 'n': 1}");
	expect_render("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}");
	expect_render("[{{ missing }}]", "[]");
}

static void test_render_whitespace_control(void **state)
{
	expect_render("a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}\n c", "abc");
	expect_render("x   {{- 1 -}}   y", "x1y");
	expect_render("x {#- c -#} y", "xy");
	expect_render("a\n{% if true %}\nb\n{% endif %}\n", "a\n\nb\n"); /* one final newline dropped */
}

static void test_render_expressions(void **state)
{
	expect_render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }}",
		      "7 9 3 -4 1 2");
	expect_render("{{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 0.5 }} {{ 'ab' + 'cd' }} {{ 'ab' * 2 }} {{ -(3) }}",
		      "3.5 1024 1.5 abcd abab -3");
	expect_render("{{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' == 'a' }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ 'b' > 'a' }}",
		      "True False True True True True");
	expect_render("{{ 'id' in cols }} {{ 'x' not in cols }} {{ 'rd' in 'Orders' }} {{ 'schema' in cfg }}",
		      "True True True True");
	expect_render("{{ not 0 }} {{ 0 or 'b' }} {{ 1 and 2 }} {{ none or 0 }} {{ not 1 and 1 }}",
		      "True b 2 0 False");
	expect_render("{{ 'y' if 1 > 0 else 'n' }} {{ 'y' if 0 else 'n' }} [{{ 'y' if 0 }}]", "y n []");
	expect_render("{{ cols[0] }} {{ cols[-1] }} {{ cols.1 }} {{ cfg.schema }} {{ cfg['threads'] }} [{{ cfg.nope }}]",
		      "id status amount mart 4 []");
	expect_render("{{ 'abc'[1] }} {{ 'a' 'b' }}", "b ab");
}

static void test_render_host_calls(void **state)
{
	expect_render("select * from {{ ref('orders') }}", "select * from \"main\".\"orders\"");
	expect_render("{{ ref('raw', 'orders', quote=false) }}", "raw.orders");
	expect_render("{{ ref('a' ~ 'b') | upper }}", "\"MAIN\".\"AB\"");
	expect_render("{% for k, v in cfg.items() %}{{ k }}={{ v }};{% endfor %}", "schema=mart;threads=4;");
	expect_render("{{ cfg.keys() | join(',') }} {{ cfg.get('x', 'dflt') }} {{ cfg.get('schema') }}",
		      "schema,threads dflt mart");
}

static void test_render_if_elif_else(void **state)
{
	const char *src = "{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %}";
	char buf[256];
	for (int n = 1; n <= 3; n++) {
		snprintf(buf, sizeof buf, "{%% set n = %d %%}%s", n, src);
		expect_render(buf, n == 1 ? "one" : n == 2 ? "two" : "many");
	}
	expect_render("{% if missing %}a{% endif %}b", "b");
}

static void test_render_for_loop(void **state)
{
	expect_render("{% for c in cols %}{{ loop.index }}/{{ loop.length }}:{{ c }}"
		      "{% if not loop.last %}, {% endif %}{% endfor %}",
		      "1/3:id, 2/3:amount, 3/3:status");
	expect_render("{% for c in cols %}{{ loop.index0 }}{{ loop.first }}{% endfor %}", "0True1False2False");
	expect_render("{% for c in [] %}x{% else %}empty{% endfor %}", "empty");
	expect_render("{% for c in 'ab' %}[{{ c }}]{% endfor %}", "[a][b]");
	expect_render("{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a * b }} {% endfor %}{% endfor %}",
		      "3 4 6 8 ");
	/* a set inside a loop stays in the loop */
	expect_render("{% set x = 1 %}{% for c in cols %}{% set x = 2 %}{% endfor %}{{ x }}", "1");
}

static void test_render_set(void **state)
{
	expect_render("{% set cols2 = cols + ['x'] %}{{ cols2 | length }} {{ cols2 | join(', ') }}",
		      "4 id, amount, status, x");
	expect_render("{% set name = 'shadow' %}{{ name }}", "shadow");
}

static void test_render_is_tests(void **state)
{
	expect_render("{{ name is defined }} {{ missing is defined }} {{ missing is not defined }} "
		      "{{ missing is undefined }}", "True False True True");
	expect_render("{{ none is none }} {{ 1 is number }} {{ 1.5 is number }} {{ 'a' is string }} "
		      "{{ cfg is mapping }} {{ cols is iterable }} {{ 1 is iterable }} {{ ref is callable }}",
		      "True True True True True True False True");
	expect_render("{% if cfg.nope is not defined and cols is not string %}ok{% endif %}", "ok");
	expect_parse_error("{{ 1 is loud }}", "m.sql:1:9: unknown test 'loud'");
}

static void test_render_block_set(void **state)
{
	expect_render("{% set sql %}select {{ cols | join(', ') }}{% endset %}[{{ sql | upper }}]",
		      "[SELECT ID, AMOUNT, STATUS]");
	expect_parse_error("{% set x %}a", "m.sql:1:1: unclosed 'set' block: no '{% endset %}' before the end");
}

static void test_render_out_of_memory_fails_cleanly(void **state)
{
	const char *src = "{% set xs = [] %}{% for c in cols %}{{ loop.index }}{{ c | upper }}"
			  "{% set s %}{{ {'a': [c, 1]} }}{% endset %}{{ s }}{% endfor %}{{ ref('a') }}";
	for (long n = 0; n < 400; n++) {
		sl_buf out = SL_BUF_INIT;
		sl_error err = SL_ERROR_INIT;
		sl_alloc_fail_after(n);
		int rc = render_src(src, &out, &err);
		sl_alloc_fail_after(-1);
		if (rc < 0)
			assert_int_equal(rc, SL_ENOMEM);
		else
			assert_string_equal(out.data, "1ID{'a': ['id', 1]}2AMOUNT{'a': ['amount', 1]}"
						      "3STATUS{'a': ['status', 1]}\"main\".\"a\"");
		sl_buf_free(&out);
		if (rc == 0) {
			assert_true(n > 2); /* some allocations did fail first */
			break;
		}
	}
}

static void test_render_filters(void **state)
{
	expect_render("{{ name | lower }} {{ name | upper }} [{{ '  a b \n' | trim }}]", "orders ORDERS [a b]");
	expect_render("{{ 'a-b-c' | replace('-', '_') }} {{ 'x' | replace(old='x', new='y') }}", "a_b_c y");
	expect_render("{{ missing | default('d') }} {{ name | default('d') }} [{{ '' | default('d') }}] "
		      "{{ '' | default('d', true) }} {{ missing | d }}",
		      "d Orders [] d ");
	expect_render("{{ cols | join }} {{ [1, 2] | join(d='+') }} {{ cols | length }} {{ 'abc' | length }}",
		      "idamountstatus 1+2 3 3");
	expect_render("{{ name | lower | replace('o', '0') | upper }}", "0RDERS");
}

static void test_render_errors(void **state)
{
	expect_render_error("{{ missing.x }}", "m.sql:1:4: 'missing' is undefined");
	expect_render_error("\n {{ nofn(1) }}", "m.sql:2:5: 'nofn' is undefined");
	expect_render_error("{{ fail() }}", "m.sql:1:4: fail() was called");
	expect_render_error("{{ 1 / 0 }}", "m.sql:1:6: division by zero");
	expect_render_error("{{ 'a' - 1 }}", "m.sql:1:8: cannot apply '-' to string and int");
	expect_render_error("{{ 'a' < 1 }}", "m.sql:1:8: cannot compare string and int with '<'");
	expect_render_error("{{ 1 | join }}", "m.sql:1:8: filter 'join' needs something to iterate, not int");
	expect_render_error("{{ 'a' | replace('a') }}",
			    "m.sql:1:10: filter 'replace' takes two arguments (old, new)");
	expect_render_error("{{ 'a' | lower(1) }}", "m.sql:1:10: filter 'lower' takes at most 0 arguments");
	expect_render_error("{{ 'a' | trim(x=1) }}", "m.sql:1:10: filter 'trim' has no argument 'x'");
	expect_render("{% for x in nothing %}x{% else %}empty{% endfor %}", "empty"); /* as Jinja */
	expect_render_error("{% for x in none %}{% endfor %}", "m.sql:1:13: 'NoneType' object is not iterable");
	expect_render_error("{% for a, b in cols %}{% endfor %}",
			    "m.sql:1:1: 'for a, b' needs items of two values, got string");
	expect_render_error("{{ cols() }}", "m.sql:1:4: list is not callable");
}

static void test_parse_error_nesting_is_bounded(void **state)
{
	char src[2048] = "{{ ";
	for (int i = 0; i < 300; i++)
		strcat(src, "(");
	strcat(src, " }}");
	expect_parse_error(src, "m.sql:1:204: nested more than 200 deep");
	src[0] = 0;
	for (int i = 0; i < 201; i++)
		strcat(src, "{% if a %}");
	expect_parse_error(src, "m.sql:1:1997: nested more than 200 deep");
	char ok[1200] = "";
	for (int i = 0; i < 50; i++)
		strcat(ok, "{% if 1 %}");
	strcat(ok, "x");
	for (int i = 0; i < 50; i++)
		strcat(ok, "{% endif %}");
	sl_tpl *t = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_tpl_parse(&t, "m.sql", ok, strlen(ok), &err), 0);
	sl_tpl_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_error_unclosed_tag),
		cmocka_unit_test(test_parse_error_unclosed_block),
		cmocka_unit_test(test_parse_error_unknown_filter),
		cmocka_unit_test(test_parse_error_unexpected_token),
		cmocka_unit_test(test_parse_error_nesting_is_bounded),
		cmocka_unit_test(test_render_text_output_and_comments),
		cmocka_unit_test(test_render_whitespace_control),
		cmocka_unit_test(test_render_expressions),
		cmocka_unit_test(test_render_host_calls),
		cmocka_unit_test(test_render_if_elif_else),
		cmocka_unit_test(test_render_for_loop),
		cmocka_unit_test(test_render_set),
		cmocka_unit_test(test_render_filters),
		cmocka_unit_test(test_render_is_tests),
		cmocka_unit_test(test_render_block_set),
		cmocka_unit_test(test_render_out_of_memory_fails_cleanly),
		cmocka_unit_test(test_render_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
