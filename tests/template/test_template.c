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

/* how often the host was asked for "config.get" */
static int config_get_lookups;

/* The host of the tests: a few globals and some functions. */
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
	/* a callable with attributes, as dbt's config: config(...), config.get(...) */
	if (strcmp(name, "config") == 0 || strcmp(name, "config.get") == 0 ||
	    strcmp(name, "config.require") == 0) {
		if (strcmp(name, "config.get") == 0)
			config_get_lookups++;
		*out = sl_tpl_callable(name, NULL);
		return 1;
	}
	if (strcmp(name, "config.broken") == 0)
		return sl_error_set(err, SL_EINVAL, "config.broken cannot be looked up");
	return 0;
}

/* ref(a[, b], quote=true): "a"."b" ; fail(): an error */
static int host_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		     const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		     sl_error *err)
{
	if (strcmp(fn->u.fn.name, "fail") == 0)
		return sl_error_set(err, SL_EINVAL, "fail() was called");
	if (strcmp(fn->u.fn.name, "config") == 0) { /* config(...) sets, prints nothing */
		*out = sl_tpl_string(a, "", 0);
		return 0;
	}
	if (strncmp(fn->u.fn.name, "config.", 7) == 0) { /* get(key, default) / require(key) */
		const char *key = nargs > 0 && args[0].type == SL_TPL_STRING ? args[0].u.str.s : "";
		if (strcmp(key, "materialized") == 0) {
			*out = sl_tpl_string(a, "table", 5);
			return 0;
		}
		if (strcmp(fn->u.fn.name, "config.require") == 0)
			return sl_error_set(err, SL_EFORMAT, "config '%s' is required", key);
		*out = nargs > 1 ? args[1] : sl_tpl_none();
		return 0;
	}
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

static void test_render_out_of_memory_in_macros_and_filters(void **state)
{
	const char *src = "{% macro m(a, b=2) %}{{ a }}{{ b }}{{ caller() }}{{ varargs }}{% endmacro %}"
			  "{% call m(1, 3, 4) %}x{{ cols|sort|join(',') }}{% endcall %}{{ cfg|tojson }}"
			  "{{ 'a,b'.split(',') }}{% filter upper %}{{ range(3)|list }}{% endfilter %}"
			  "{% set ns = namespace(n=0) %}{% for c in cols if c %}{% set ns.n = ns.n + loop.length %}"
			  "{% endfor %}{{ ns.n }}{{ cols|map('upper')|select|list }}{{ cols[1:]|dictsort if 0 }}";
	const char *want = "13xamount,id,status(4,){\"schema\": \"mart\", \"threads\": 4}['a', 'b'][0, 1, 2]"
			   "9['ID', 'AMOUNT', 'STATUS']";
	for (long n = 0; n < 5000; n++) {
		sl_buf out = SL_BUF_INIT;
		sl_error err = SL_ERROR_INIT;
		sl_alloc_fail_after(n);
		int rc = render_src(src, &out, &err);
		sl_alloc_fail_after(-1);
		if (rc < 0)
			assert_int_equal(rc, SL_ENOMEM);
		else
			assert_string_equal(out.data, want);
		sl_buf_free(&out);
		if (rc == 0) {
			assert_true(n > 3); /* the parse, the arenas and the buffers failed first */
			return;
		}
	}
	fail_msg("never rendered");
}

/* A mistake in the template is SL_EFORMAT (a configuration error to the CLI); the host's code passes through. */
static void test_render_error_codes(void **state)
{
	static const char *const format_errors[] = {
		"{{ no_such_macro('a') }}", "{{ cfg.nope.x }}", "{{ 1 + 'a' }}", "{{ 1 / 0 }}",
		"{{ [1, 'a'] | sort }}", "{{ 'a'.split(1) }}", "{% for x in none %}{% endfor %}",
		"{% macro m() %}{% endmacro %}{{ m(1) }}", "{{ 1 is divisibleby 0 }}", "{{ 'x' | as_bool }}"};
	for (size_t i = 0; i < sizeof format_errors / sizeof format_errors[0]; i++) {
		sl_buf out = SL_BUF_INIT;
		sl_error err = SL_ERROR_INIT;
		int rc = render_src(format_errors[i], &out, &err);
		if (rc != SL_EFORMAT)
			fail_msg("%s: %d %s", format_errors[i], rc, err.message);
		sl_buf_free(&out);
	}
	sl_buf out = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(render_src("{{ fail() }}", &out, &err), SL_EINVAL);
	assert_int_equal(render_src("{{ 'ab' * 40000000 }}", &out, &err), SL_ELIMIT);
	sl_buf_free(&out);
}

/* f.name of a host callable is what the host's lookup says of "f.name" */
static void test_render_attributes_of_host_callables(void **state)
{
	config_get_lookups = 0;
	expect_render("{{ config(materialized='table') }}[{{ config.get('materialized') }}]"
		      "[{{ config.get('unique_key') }}][{{ config.get('unique_key', 'id') }}]"
		      "[{{ config.require('materialized') }}]",
		      "[table][None][id][table]");
	assert_int_equal(config_get_lookups, 1); /* asked once per render */
	expect_render("{{ config.get is defined }} {{ config.nope is defined }} [{{ config.nope }}] "
		      "{{ config['get']('materialized') }} {{ ref.x is defined }}",
		      "True False [] table False");
	expect_render("{% set g = config.get %}{{ g('materialized') | upper }}", "TABLE");
	expect_render_error("{{ config.require('unique_key') }}",
			    "m.sql:1:10: config 'unique_key' is required");
	expect_render_error("{{ config.nope('x') }}", "m.sql:1:10: 'config.nope' is undefined");
	expect_render_error("{{ config.nope.x }}", "m.sql:1:10: 'config.nope' is undefined");
	expect_render_error("{{ config.broken }}", "m.sql:1:10: config.broken cannot be looked up");
	expect_render("[{{ (config.get).x }}]", "[]");
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


/* Each expectation below is what Jinja2 3.1 renders for the same template and context. */
static void test_render_macros_as_jinja(void **state)
{
	expect_render("{% macro greet(who, punct='!') %}Hello {{ who }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', who='c') }}",
		      "Hello a! Hello b? Hello c.");
	expect_render("{% macro m(a, b=a+1, c='x') %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, c='z') }}|{{ m(a=5) }}",
		      "1-2-x|1-2-z|5-6-x");
	expect_render("{% macro m(a) %}[{{ a }}]{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}",
		      "[1](2, 3){'k': 'v'}");
	expect_render("{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }}",
		      "[]");
	/* jinja: ERR: TypeError: macro 'm' takes not more than 1 argument(s) */
	expect_render_error("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
			    "m.sql:1:41: macro 'm' takes not more than 1 argument(s)");
	/* jinja: ERR: TypeError: macro 'm' takes no keyword argument 'z' */
	expect_render_error("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, z=2) }}",
			    "m.sql:1:41: macro 'm' takes no keyword argument 'z'");
	expect_render("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ name }}{% endcall %}",
		      "<b>bold Orders</b>");
	expect_render("{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(x, n) each(cols) %}{{ n }}:{{ x }} {% endcall %}",
		      "1:id 2:amount 3:status ");
	expect_render("{% macro m() %}x{% endmacro %}{{ m }}|{{ m is callable }}|{{ m|string }}",
		      "<Macro 'm'>|True|<Macro 'm'>");
	expect_render("{% macro m() %}x{% endmacro %}{% set f = m %}{% set d = {'fn': m} %}{{ f() }}{{ d.fn() }}{{ d['fn']() }}",
		      "xxx");
	expect_render("{% macro outer(n) %}{% macro inner(x) %}<{{ x }}{{ n }}>{% endmacro %}{{ inner(1) }}{{ inner(2) }}{% endmacro %}{{ outer('z') }}",
		      "<1z><2z>");
	expect_render("{% macro apply(f, v) %}{{ f(v) }}{% endmacro %}{% macro dbl(x) %}{{ x ~ x }}{% endmacro %}{{ apply(dbl, 'ab') }}",
		      "abab");
	expect_render("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}",
		      "120");
	expect_render("{% set x = 1 %}{% macro a() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ a() }}",
		      "2");
	/* jinja: ERR: UndefinedError: 'm' is undefined */
	expect_render_error("{{ m() }}{% macro m() %}x{% endmacro %}",
			    "m.sql:1:4: 'm' is undefined");
	expect_render("{% macro m() -%}\n  select 1\n{%- endmacro %}[{{ m() }}]",
		      "[select 1]");
	/* jinja: ERR: TypeError: macro 'm' takes no keyword argument 'x' */
	expect_render_error("{% macro m(x) %}{{ x }}{% endmacro %}{{ m(x=1) }}{{ m(1, x=2) }}",
			    "m.sql:1:53: macro 'm' takes no keyword argument 'x'");
	expect_render("{% do cols.append('new') %}{{ cols }}",
		      "['id', 'amount', 'status', 'new']");
	expect_render("{% set l = [3, 1] %}{% do l.extend([5, 4]) %}{% do l.insert(0, 9) %}{{ l }} {{ l.pop() }} {{ l.pop(0) }} {{ l }} {{ l.index(5) }} {{ l.count(1) }}",
		      "[9, 3, 1, 5, 4] 4 9 [3, 1, 5] 2 1");
	expect_render("{% set d = {'a': 1} %}{% do d.update({'b': 2}) %}{% do d.update(c=3) %}{{ d }} {{ d.pop('a') }} {{ d }} {{ d.get('z', 'dflt') }} {{ d.get('b') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}",
		      "{'a': 1, 'b': 2, 'c': 3} 1 {'b': 2, 'c': 3} dflt 2 ['b', 'c'] [2, 3] [('b', 2), ('c', 3)]");
	expect_render("{% set ns = namespace(total=0, found=false) %}{% for c in cols %}{% set ns.total = ns.total + 1 %}{% if c == 'amount' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.found }}",
		      "3 True");
	expect_render("{% filter upper %}select {{ name }}{% endfilter %}",
		      "SELECT ORDERS");
	expect_render("{% filter replace('a', 'o') | upper %}banana{% endfilter %}",
		      "BONONO");
	expect_render("{% raw %}{{ not rendered }} {% if %}{% endraw %}",
		      "{{ not rendered }} {% if %}");
	expect_render("a {%- raw %} {{ x }} {% endraw -%} b",
		      "a {{ x }} b");
	expect_render("{% for c in cols %}{{ loop.cycle('odd', 'even') }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.previtem }}/{{ loop.nextitem }} {% endfor %}",
		      "odd32/amount even21id/status odd10amount/ ");
	expect_render("{% for c in cols %}{{ loop.length }}{{ loop.first }}{{ loop.last }}{{ loop.index0 }}{% endfor %}",
		      "3TrueFalse03FalseFalse13FalseTrue2");
	expect_render("{% for i in range(3) %}{{ i }}{% endfor %} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ range(0)|list }}",
		      "012 [1, 4, 7] [5, 3, 1] []");
	expect_render("{{ dict(a=1, b='x') }} {{ dict({'z': 0}, y=1) }}",
		      "{'a': 1, 'b': 'x'} {'z': 0, 'y': 1}");
	expect_render("{% for c in cols if c != 'id' %}{{ loop.index }}{{ c }}{{ loop.length }} {% endfor %}",
		      "1amount2 2status2 ");
	expect_render("{% for c in cols %}{% if c == 'amount' %}{% continue %}{% endif %}{% if loop.index > 2 %}{% break %}{% endif %}{{ c }}{% endfor %}",
		      "id");
	expect_render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]",
		      "3[]");
	expect_render("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = ['x', 'y'] %}{{ c }}{{ d }}\n",
		      "12xy");
}

static void test_render_expressions_as_jinja(void **state)
{
	expect_render("{{ [1,2,3,4,5][1:] }} {{ [1,2,3,4,5][:-1] }} {{ [1,2,3,4,5][::2] }} {{ \"hello\"[::-1] }} {{ [1,2,3][-1] }} {{ 'abc'[-2] }} {{ [1,2,3][5:] }} {{ [1,2,3][-10:2] }} {{ 'abcdef'[1:5:2] }} {{ [1,2,3,4][::-2] }}",
		      "[2, 3, 4, 5] [1, 2, 3, 4] [1, 3, 5] olleh 3 b [] [1, 2] bd [4, 2]");
	expect_render("{{ 7//2 }} {{ -7//2 }} {{ 7%3 }} {{ -7 % 3 }} {{ 2**10 }} {{ 2**-1 }} {{ 7.5 // 2 }} {{ 7.5 % 2 }} {{ 2 ** 0.5 }} {{ 1/3 }} {{ 10/2 }}",
		      "3 -4 1 2 1024 0.5 3.0 1.5 1.4142135623730951 0.3333333333333333 5.0");
	expect_render("{{ 'a' not in 'abc' }} {{ 'z' not in cols }} {{ 'id' in cols }} {{ 'schema' in cfg }} {{ 1 is not none }} {{ not 1 in [1] }}",
		      "False True True True True False");
	expect_render("{{ 'AbC'.upper() }} {{ 'AbC'.lower() }} {{ '  x '.strip() }}|{{ '  x '.lstrip() }}|{{ '  x '.rstrip() }}|{{ 'xxaxx'.strip('x') }}",
		      "ABC abc x|x |  x|a");
	expect_render("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'aXbXc'.replace('X', '-') }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} {{ 'abc'.startswith(('x', 'a')) }}",
		      "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] a-b-c True True True");
	expect_render("{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ '{} and {}'.format(1, 'b') }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{a}-{b}'.format(a=1, b=2) }} {{ ', '.join(cols) }} {{ 'banana'.count('a') }} {{ 'banana'.find('n') }} {{ 'banana'.find('z') }}",
		      "Hello World Hello 1 and b xyx 1-2 id, amount, status 3 2 -1");
	expect_render("{{ \"%s-%d\" % (\"a\", 3) }} {{ \"%s\" % \"x\" }} {{ \"100%%\" % () }}",
		      "a-3 x 100%");
	expect_render("{{ 1 if true else 2 }} {{ 'x' if none }}|{{ none or 'dflt' }} {{ 0 and 1 }} {{ 1 and 'y' }}",
		      "1 |dflt 0 y");
	expect_render("{{ (1, 2) }} {{ () }} {{ (1,) }} {{ (1) }} {{ [1, 2] + [3] }} {{ 'ab' ~ 1 ~ none }} {{ 3 * 'ab' }}",
		      "(1, 2) () (1,) 1 [1, 2, 3] ab1None ababab");
	expect_render("{{ 0.1 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 2.0**70 }} {{ 0.1 + 0.2 }} {{ 1/3*3 }} {{ 100.0 }} {{ -0.5 }} {{ 1e16 }} {{ 1e15 }} {{ 123456.789 }}",
		      "0.1 1e+20 1.5e-07 1.1805916207174113e+21 0.30000000000000004 1.0 100.0 -0.5 1e+16 1000000000000000.0 123456.789");
	expect_render("{{ cfg.schema }} {{ cfg['threads'] }} {{ cfg.missing }}|{{ cols.0 }} {{ cols[1] }} {{ cols[10] }}|",
		      "mart 4 |id amount |");
	expect_render("{{ cfg.get('schema') }} {{ cfg.items()|list }} {{ cfg.keys()|list }}",
		      "mart [('schema', 'mart'), ('threads', 4)] ['schema', 'threads']");
	expect_render("{% set x = [] %}{% for i in range(3) %}{% do x.append(i * 2) %}{% endfor %}{{ x }} {{ x|sum }}",
		      "[0, 2, 4] 6");
	expect_render("{{ {'a': 1}.b }}",
		      "");
	/* jinja: ERR: UndefinedError: 'dict object' has no attribute 'b' */
	expect_render_error("{{ {'a': 1}.b.c }}",
			    "m.sql:1:12: 'dict object' has no attribute 'b'");
	/* jinja: ERR: UndefinedError: 'x' is undefined */
	expect_render_error("{{ x.y }}",
			    "m.sql:1:4: 'x' is undefined");
	/* jinja: ERR: UndefinedError: 'x' is undefined */
	expect_render_error("{{ x() }}",
			    "m.sql:1:4: 'x' is undefined");
	/* jinja: ERR: UndefinedError: 'x' is undefined */
	expect_render_error("{{ x[0] }}",
			    "m.sql:1:4: 'x' is undefined");
	/* jinja: ERR: TypeError: 'NoneType' object is not iterable */
	expect_render_error("{% for a in none %}1{% endfor %}",
			    "m.sql:1:13: 'NoneType' object is not iterable");
	/* jinja: ERR: TypeError: unsupported operand type(s) for +: 'int' and 'NoneType' */
	expect_render_error("{{ 1 + none }}",
			    "m.sql:1:6: cannot apply '+' to int and none");
	/* jinja: ERR: UndefinedError: 'undefined_thing' is undefined */
	expect_render_error("{{ undefined_thing + 1 }}",
			    "m.sql:1:20: 'undefined_thing' is undefined");
	/* jinja: ERR: UndefinedError: 'undefined_thing' is undefined */
	expect_render_error("{{ - undefined_thing }}",
			    "m.sql:1:6: 'undefined_thing' is undefined");
	/* jinja: ERR: UndefinedError: 'list object' has no attribute 'nope' */
	expect_render_error("{{ cols.nope() }}",
			    "m.sql:1:8: 'list object' has no attribute 'nope'");
	/* jinja: ERR: UndefinedError: 'str object' has no attribute 'nope' */
	expect_render_error("{{ 'abc'.nope() }}",
			    "m.sql:1:9: 'str object' has no attribute 'nope'");
	/* jinja: ERR: UndefinedError: 'dict object' has no attribute 'nope' */
	expect_render_error("{{ cfg.nope() }}",
			    "m.sql:1:7: 'dict object' has no attribute 'nope'");
	/* jinja: ERR: TypeError: '<' not supported between instances of 'int' and 'str' */
	expect_render_error("{{ 1 < 'a' }}",
			    "m.sql:1:6: cannot compare int and string with '<'");
	/* jinja: ERR: TypeError: argument of type 'int' is not iterable */
	expect_render_error("{{ 'a' in 1 }}",
			    "m.sql:1:8: 'in' needs a string, list or dict on its right, not int");
	/* jinja: ERR: TypeError: 'in <string>' requires string as left operand, not int */
	expect_render_error("{{ 1 in 'abc' }}\n",
			    "m.sql:1:6: 'in <string>' requires string as left operand, not int");
}

static void test_render_filters_and_tests_as_jinja(void **state)
{
	expect_render("{{ 2.5|round }} {{ 3.5|round }} {{ 5|round }} {{ 2.675|round(2) }} {{ 2.5|round(0,\"floor\") }} {{ 2.4|round(0,\"ceil\") }} {{ 5|round(1) }} {{ -2.5|round }} {{ 1234.5678|round(-2) }} {{ 3.14159|round(2, 'floor') }}",
		      "2.0 4.0 5 2.67 2.0 3.0 5 -2.0 1200.0 3.14");
	expect_render("{{ {\"b\":1,\"a\":[1,2.5,None,True,\"x<y'\"]}|tojson }} {{ 'é'|tojson }} {{ [1, {'k': 'v'}]|tojson(2) }}",
		      "{\"a\": [1, 2.5, null, true, \"x\\u003cy\\u0027\"], \"b\": 1} \"\\u00e9\" [\n  1,\n  {\n    \"k\": \"v\"\n  }\n]");
	expect_render("{{ [\"b\",\"A\",\"a\",\"C\"]|sort }} {{ [\"b\",\"A\",\"a\",\"C\"]|sort(case_sensitive=true) }} {{ [\"b\",\"A\",\"a\",\"C\"]|unique|list }} {{ [3,1,2]|sort(reverse=true) }}",
		      "['A', 'a', 'b', 'C'] ['A', 'C', 'a', 'b'] ['b', 'A', 'C'] [3, 2, 1]");
	expect_render("{{ [{'n': 'b', 'v': 2}, {'n': 'a', 'v': 1}]|sort(attribute='n')|map(attribute='v')|list }} {{ [{'n': 'b'}, {'n': 'a'}]|sort(attribute='n', reverse=true)|map(attribute='n')|join(',') }}",
		      "[1, 2] b,a");
	expect_render("{{ \"hello-world foo(bar)\"|title }} {{ \"hELLO wORLD\"|capitalize }} {{ 'abc'|upper }} {{ 'ABC'|lower }} {{ '  x  '|trim }}|{{ 'xxhixx'|trim('x') }}",
		      "Hello-World Foo(Bar) Hello world ABC abc x|hi");
	expect_render("{{ \"a\\nb\\n\\nc\"|indent }}|{{ \"a\\nb\"|indent(2, true) }}|{{ \"a\\n\\nb\"|indent(2, blank=true) }}|{{ \"a\\nb\\n\"|indent(2) }}|{{ \"x\"|indent(first=true) }}|{{ \"a\\nb\"|indent('> ') }}",
		      "a\n    b\n\n    c|  a\n  b|a\n  \n  b|a\n  b\n|    x|a\n> b");
	expect_render("{{ \"3.7\"|int }} {{ \"x\"|int }} {{ \"x\"|int(5) }} {{ 3.9|int }} {{ \"12\"|float }} {{ none|int }} {{ true|int }} {{ \" 42 \"|int }} {{ \"1e3\"|float }} {{ \"abc\"|float }} {{ \"-7\"|int }}",
		      "3 0 5 3 12.0 0 1 42 1000.0 0.0 -7");
	expect_render("{{ [1,2,3,4]|select(\"odd\")|list }} {{ [1,2,3,4]|reject(\"even\")|list }} {{ [{\"a\":1},{\"a\":2}]|map(attribute=\"a\")|list }} {{ [\"a\",\"b\"]|map(\"upper\")|list }} {{ [0, 1, '', 'x', none]|select|list }}",
		      "[1, 3] [1, 3] [1, 2] ['A', 'B'] [1, 'x']");
	expect_render("{{ [{\"a\":1,\"b\":true},{\"a\":2}]|selectattr(\"b\")|list }} {{ [{\"a\":1},{\"a\":2}]|selectattr(\"a\",\"equalto\",2)|list }} {{ [{\"a\":1},{\"a\":2}]|rejectattr(\"a\",\"==\",2)|list }} {{ [1,2,3,4,5]|select('divisibleby', 2)|list }} {{ [1,5,8]|select('gt', 4)|list }}",
		      "[{'a': 1, 'b': True}] [{'a': 2}] [{'a': 1}] [2, 4] [5, 8]");
	expect_render("{{ ['a', 'b']|map('replace', 'a', 'z')|list }} {{ [{'x': none}, {}]|map(attribute='x', default='d')|list }} {{ [[1, 2], [3, 4]]|map(attribute=1)|list }} {{ ['1', '2']|map('int')|sum }}",
		      "['z', 'b'] [None, 'd'] [2, 4] 3");
	expect_render("{{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ \"abc\"|first }} {{ []|first }}|{{ -3|abs }} {{ -2.5|abs }} {{ [1,2]|sum }} {{ [3,1]|min }} {{ [3,1]|max }} {{ \"abc\"|list }} {{ \"abc\"|reverse }} {{ [1,2]|reverse|list }}",
		      "1 3 a |3 2.5 3 1 3 ['a', 'b', 'c'] cba [2, 1]");
	expect_render("{{ [1,2]|string }} {{ none|string }} {{ x|string }}| {{ x|length }} {{ x|list }} {{ cols|length }} {{ cfg|length }} {{ 'abc'|count }}",
		      "[1, 2] None | 0 [] 3 2 3");
	expect_render("{{ x|default('d') }} {{ none|default('d') }} {{ ''|default('d', true) }} {{ 0|d('z', boolean=true) }} {{ x|default }}| {{ cols|join }} {{ cols|join(', ') }} {{ [{'a': 'x'}, {'a': 'y'}]|join('-', attribute='a') }}",
		      "d None d z | idamountstatus id, amount, status x-y");
	expect_render("{{ 'aXbXc'|replace('X', '') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ cfg|items|list }} {{ cfg|tojson }} {{ [1.5, 2]|sum(start=1) }} {{ ['B', 'a']|max }} {{ ['B', 'a']|min(case_sensitive=true) }}",
		      "abc bba [('schema', 'mart'), ('threads', 4)] {\"schema\": \"mart\", \"threads\": 4} 4.5 B B");
	expect_render("{{ 1 is divisibleby 1 }} {{ 3 is divisibleby(2) }} {{ none is sameas none }} {{ \"a\" is lower }} {{ 2 is in [1,2] }} {{ 2 is eq 2 }} {{ 1 is odd }} {{ 2 is even }} {{ true is true }} {{ 1 is true }} {{ 'A' is upper }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 'x' is ne 'y' }}",
		      "True False True True True True True True True False True True False True");
	expect_render("{{ x is defined }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ cols is sequence }} {{ cfg is iterable }} {{ 'a' is in 'abc' }} {{ 1 is ge 1 }} {{ 1 is le 0 }} {{ 5 is greaterthan 4 }} {{ 5 is lessthan 4 }}",
		      "False True True True True True True True False True False");
	/* jinja: ERR: TypeError: 'int' object is not iterable */
	expect_render_error("{{ 'x'|sort }}{{ 1|sort }}",
			    "m.sql:1:20: filter 'sort' needs something to iterate, not int");
	/* jinja: ERR: TypeError: '<' not supported between instances of 'str' and 'int' */
	expect_render_error("{{ [1, 'a']|sort }}",
			    "m.sql:1:13: filter 'sort' cannot order string and int");
	/* jinja: ERR: TemplateRuntimeError: No filter named 'nofilter'. */
	expect_render_error("{{ [1,2]|map('nofilter')|list }}",
			    "m.sql:1:10: unknown filter 'nofilter'");
	/* jinja: ERR: TemplateRuntimeError: No test named 'notest'. */
	expect_render_error("{{ [1,2]|select('notest')|list }}",
			    "m.sql:1:10: unknown test 'notest'");
	/* jinja: ERR: TypeError: type str doesn't define __round__ method */
	expect_render_error("{{ 'x'|round }}\n",
			    "m.sql:1:8: filter 'round' needs a number");
}

static void test_render_dbt_idioms_as_jinja(void **state)
{
	expect_render("a  {%+ if true %}x{% endif %}",
		      "a  x");
	expect_render("{% macro m(a, b, c=3) %}{{a}}{{b}}{{c}}{% endmacro %}{{ m(*[1,2]) }}{{ m(1, **{\"b\": 5, \"c\": 6}) }}{{ m(*[1], b=2) }}",
		      "123156123");
	expect_render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{% set a = [1, 2] %}{% set k = {'x': 1} %}{{ m(*a, **k) }}",
		      "(1, 2){'x': 1}");
	expect_render("{{ {\"b\":1, \"A\":2}|dictsort }} {{ {\"b\":1, \"a\":2}|dictsort(reverse=true) }} {{ {\"b\":1, \"a\":0}|dictsort(by=\"value\") }}",
		      "[('A', 2), ('b', 1)] [('b', 1), ('a', 2)] [('a', 0), ('b', 1)]");
	expect_render("{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}={{ v }};{% endfor %}",
		      "a=2;b=1;");
	expect_render("{% set parts = [] %}{% for c in cols %}{% do parts.append(c ~ ' as ' ~ c|upper) %}{% endfor %}select {{ parts|join(',\\n  ') }}",
		      "select id as ID,\n  amount as AMOUNT,\n  status as STATUS");
	expect_render("{%- set cols2 = cols | reject('equalto', 'id') | list -%}\n{%- for c in cols2 %}\n  {{ c }}{% if not loop.last %},{% endif %}\n{%- endfor %}",
		      "\n  amount,\n  status");
	expect_render("{% macro m(x) -%}\n  {%- if x is string -%}{{ return('s:' ~ x) }}{%- endif -%}\n  other\n{%- endmacro %}[{{ m(1) }}]",
		      "[other]");
	expect_render("{{ \"it's\" }} {{ 'say \"hi\"' }} {{ 'a\\tb' }} {{ ['it\\'s'] }} {{ {'k': \"a'b\\\"c\"} }}",
		      "it's say \"hi\" a\tb [\"it's\"] {'k': 'a\\'b\"c'}");
	expect_render("{{ 'x' ~ 1.5 ~ true ~ [1] }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ true + 1 }}\n",
		      "x1.5True[1] True True True 2");
}

/* Syntax found in dbt's own macros and packages (dbt-utils, dbt-expectations, dbt-date, adapters). */
static void test_render_syntax_of_dbt_packages(void **state)
{
	expect_render("{% if true: %}yes{% endif %}{% for x in [1]: %}{{ x }}{% endfor %}",
		      "yes1");
	expect_render("{{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|batch(2, 0)|list }}",
		      "[[1, 2], [3, 4], [5]] [[1, 2], [3, 0]]");
	expect_render("{% set d = {'a': 1} %}[{{ d['x', 'y'] }}]",
		      "[]");
	expect_render("{% set ns = namespace(msg='') %}{% set ns.msg %}hello {{ name }}{% endset %}{{ ns.msg }}\n",
		      "hello Orders");
	/* dicts stand for dbt's objects: attr() and numbers find their keys (Jinja: nothing) */
	expect_render("{{ {'database': 'db'}|attr('database') }}|{{ {}|attr('x') }}|{{ {1: 'one'}[1] }}",
		      "db||one");
	expect_render("{{ [1]|is_list }} {{ 'a'|is_list }}", "True False");
	/* a host may list materialization among its named blocks: the header after the name is its own */
	sl_tpl *t = NULL;
	sl_error err = SL_ERROR_INIT;
	static const char *const blocks[] = {"materialization"};
	sl_tpl_syntax syn = {NULL, 0, blocks, 1};
	const char *src = "{% materialization mine, adapter='sqlite' %}x{% endmaterialization %}";
	assert_int_equal(sl_tpl_parse_ex(&t, "m.sql", src, strlen(src), &syn, &err), 0);
	sl_tpl_free(t);
	/* a host that does not list it: the error says what to do */
	expect_parse_error(src, "m.sql:1:4: unsupported tag 'materialization': custom materializations are "
				"not supported; remove this block and configure a built-in one (view, table, "
				"incremental, ephemeral)");
}

static void test_render_scopes_and_whitespace_as_jinja(void **state)
{
	expect_render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
		      "231");
	expect_render("{% set x = 1 %}{% if true %}{% set x = 5 %}{% endif %}{{ x }}",
		      "5");
	expect_render("{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}",
		      "11x 21y 1|12x 22y 2|");
	expect_render("{% macro m() %}{% set x = 2 %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{{ x }}",
		      "21");
	expect_render("  {%- if true %}  a  {% endif -%}  \nb {#- c #} c {# d -#} e",
		      "  a  b c e");
	expect_render("{% for c in cols -%}\n  {{ c }}\n{%- if not loop.last %},{% endif %}\n{% endfor %}",
		      "id,\namount,\nstatus\n");
	expect_render("{%- macro m(a) -%}\nselect\n  {{ a }}\n{%- endmacro -%}\n{{ m('x') }}",
		      "select\n  x");
	expect_render("{{ \"a\" ~ \"b\" if false else \"c\" ~ \"d\" }} {{ 1 + 2 if true }} {{ not true or true }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }}",
		      "cd 3 True 4 64");
	expect_render("{{ [1,2,3]|length > 2 and 'yes' or 'no' }} {{ 'abc' is string and 'abc'|length }}",
		      "yes 3");
	expect_render("{{ cols[0]|upper ~ '_' ~ cols|last }} {{ cfg['schema'] ~ '.' ~ name|lower }}",
		      "ID_status mart.orders");
	expect_render("{%- set cols = ['a', 'b'] -%}\n{%- for c in cols %}\n    {{ c }}{{ \",\" if not loop.last }}\n{%- endfor %}",
		      "\n    a,\n    b");
	expect_render("{% set x %}\n  line1\n  line2\n{% endset %}[{{ x | trim }}] [{{ x | indent(2) }}]",
		      "[line1\n  line2] [\n    line1\n    line2\n]");
	expect_render("{{ 'a' 'b' }} {{ \"x\" \"y\" ~ 'z' }}",
		      "ab xyz");
	expect_render("{% for k, v in cfg.items() %}{{ k }}={{ v }}{% if not loop.last %}&{% endif %}{% endfor %}",
		      "schema=mart&threads=4");
	expect_render("{{ cols|join(', ')|upper|replace('ID', 'key') }} {{ (cols|first).upper() }}",
		      "key, AMOUNT, STATUS ID");
	expect_render("{{ 10 / 4 }} {{ 10 // 4 }} {{ 10.0 // 4 }} {{ -10 % 3 }} {{ 2 ** 62 }} {{ 1.5 * 2 }} {{ 0.1 * 3 }}\n",
		      "2.5 2 2.0 2 4611686018427387904 3.0 0.30000000000000004");
}

static void test_render_percent_format_as_jinja(void **state)
{
	/* jinja: ERR: MemoryError:  */
	expect_render_error("{{ \"%99999999999d\" % 1 }}",
			    "m.sql:1:20: '%' formatting: width or precision over 10000");
	expect_render("{{ \"%20.10f|%-8.3s|\" % (3.5, 'abcdef') }}\n",
		      "        3.5000000000|abc     |");
	expect_render("{{ \"%s-%d\" % (\"a\", 3) }} {{ \"%05.2f|%-4s|%4s|%x|%X|%o|%+d|%e|%g|%%|%.2s|%c\" % (3.14159, 'ab', 'cd', 255, 255, 8, 5, 12345.678, 0.0001, 'xyz', 65) }}",
		      "a-3 03.14|ab  |  cd|ff|FF|10|+5|1.234568e+04|0.0001|%|xy|A");
	expect_render("{{ \"%02d:%02d\" | format(5, 7) }} {{ \"%s and %s\" | format('a', [1]) }} {{ \"%s\" % [1, 2] }} {{ \"%r\" % 'x' }} {{ \"%i\" % 3.9 }} {{ \"%d\" % true }}",
		      "05:07 a and [1] [1, 2] 'x' 3 1");
	/* jinja: ERR: TypeError: not enough arguments for format string */
	expect_render_error("{{ \"%s %s\" % ('a',) }}",
			    "m.sql:1:12: not enough arguments for format string");
	/* jinja: ERR: TypeError: %d format: a real number is required, not str */
	expect_render_error("{{ \"%d\" % 'x' }}\n",
			    "m.sql:1:9: %d format: a number is required, not string");
}

static void test_parse_errors_of_new_constructs(void **state)
{
	expect_parse_error("{% extends 'base.sql' %}",
			   "m.sql:1:4: unsupported tag 'extends': template inheritance is not supported");
	expect_parse_error("x\n  {% include 'a.sql' %}",
			   "m.sql:2:6: unsupported tag 'include': including other templates is not supported");
	expect_parse_error("{% import 'm.sql' as m %}",
			   "m.sql:1:4: unsupported tag 'import': importing other templates is not supported; macros are global");
	expect_parse_error("{% macro m() %}{{ x | shout }}{% endmacro %}", "m.sql:1:23: unknown filter 'shout'");
	expect_parse_error("{% macro m() %}x", "m.sql:1:1: unclosed 'macro' block: no '{% endmacro %}' before the end");
	expect_parse_error("{% macro m(a=1, b) %}{% endmacro %}",
			   "m.sql:1:17: parameter 'b' without a default follows one with a default");
	expect_parse_error("{% break %}", "m.sql:1:4: 'break' outside a loop");
	expect_parse_error("{% for x in y %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}",
			   "m.sql:1:35: 'continue' outside a loop");
	expect_parse_error("{% call 1 %}{% endcall %}", "m.sql:1:9: 'call' needs a macro call");
	expect_parse_error("{% filter nope %}x{% endfilter %}", "m.sql:1:11: unknown filter 'nope'");
	expect_parse_error("{% raw %}x", "m.sql:1:1: unclosed 'raw' block: no '{% endraw %}' before the end");
	expect_parse_error("{% endmacro %}", "m.sql:1:4: unexpected 'endmacro' outside any block");
	expect_parse_error("{% for x in y recursive %}{% endfor %}",
			   "m.sql:1:15: recursive 'for' loops are not supported");
	expect_parse_error("{% test t() %}{% endtest %}", "m.sql:1:4: unknown tag 'test' outside any block");
}

/* ------------------------------------------------------------ the host interface */

/* A host as models/ builds one: macros from other files, return(), relations, adapter.quote. */
typedef struct mhost {
	sl_arena a;          /* values that outlive renders */
	sl_tpl_value macros; /* dict name -> macro */
	int returns;
} mhost;

static int mhost_lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	mhost *h = ud;
	const sl_tpl_value *m = h->macros.type == SL_TPL_DICT ? sl_tpl_dict_get(h->macros.u.dict, name) : NULL;
	if (m) {
		*out = *m;
		return 1;
	}
	if (!strcmp(name, "return") || !strcmp(name, "target_name")) {
		if (name[0] == 'r')
			*out = sl_tpl_callable("return", NULL);
		else
			*out = sl_tpl_string(a, "dev", 3);
		return 1;
	}
	if (!strcmp(name, "this")) {
		*out = sl_tpl_dict_new(a);
		sl_tpl_dict_set(a, out->u.dict, "schema", sl_tpl_string(a, "main", 4));
		sl_tpl_dict_set(a, out->u.dict, "identifier", sl_tpl_string(a, "orders", 6));
		out->u.dict->repr = "\"main\".\"orders\"";
		return 1;
	}
	if (!strcmp(name, "adapter")) {
		*out = sl_tpl_dict_new(a);
		sl_tpl_dict_set(a, out->u.dict, "quote", sl_tpl_callable("quote", NULL));
		return 1;
	}
	return 0;
}

static int mhost_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		      const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	mhost *h = ud;
	if (!strcmp(fn->u.fn.name, "return")) {
		h->returns++;
		*out = nargs ? args[0] : sl_tpl_none();
		return SL_TPL_RETURN;
	}
	if (!strcmp(fn->u.fn.name, "quote")) {
		char *s = sl_arena_sprintf(a, "\"%s\"", args[0].u.str.s);
		*out = sl_tpl_string(a, s, strlen(s));
		return 0;
	}
	return sl_error_set(err, SL_EINVAL, "no function %s", fn->u.fn.name);
}

static int collect_macro(void *ud, const char *tag, const char *name, const sl_tpl_value *macro)
{
	mhost *h = ud;
	char *key = strcmp(tag, "macro") ? sl_arena_sprintf(&h->a, "%s_%s", tag, name)
					 : sl_arena_strdup(&h->a, name);
	return sl_tpl_dict_set(&h->a, h->macros.u.dict, key, *macro);
}

static const char *const macro_tags[] = {"test"};
static const char *const named_blocks[] = {"snapshot", "docs"};
static const sl_tpl_syntax dbt_syntax = {macro_tags, 1, named_blocks, 2};

static sl_tpl *parse_ok(const char *name, const char *src)
{
	sl_tpl *t = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_tpl_parse_ex(&t, name, src, strlen(src), &dbt_syntax, &err) != 0)
		fail_msg("%s: %s", name, err.message);
	return t;
}

static void expect_host_render(const sl_tpl *t, mhost *h, const char *want)
{
	sl_tpl_env env = {h, mhost_lookup, mhost_call};
	sl_buf out = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	if (sl_tpl_render(t, &env, &out, &err) != 0)
		fail_msg("%s", err.message);
	assert_string_equal(out.data ? out.data : "", want);
	sl_buf_free(&out);
}

static void test_host_macros_from_other_templates(void **state)
{
	mhost h = {0};
	sl_arena_init(&h.a, 4096);
	h.macros = sl_tpl_dict_new(&h.a);
	sl_tpl *lib = parse_ok("macros/lib.sql",
		"{% macro cents_to_dollars(col, scale=2) %}round({{ col }} / 100.0, {{ scale }}){% endmacro %}\n"
		"{% macro pick(x) %}{% if x %}{{ return('yes') }}{% endif %}{% do return(['no', x]) %}{% endmacro %}\n"
		"{% macro uses_sibling() %}<{{ cents_to_dollars('a') }}>{% endmacro %}\n"
		"{% macro where_am_i() %}{{ target_name }}{% endmacro %}\n"
		"{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}\n"
		"{% test not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null{% endtest %}\n");
	assert_int_equal(sl_tpl_each_macro(lib, collect_macro, &h), 0);
	assert_int_equal(h.macros.u.dict->len, 6);
	assert_string_equal(h.macros.u.dict->keys[5], "test_not_null");
	sl_tpl *model = parse_ok("models/orders.sql",
		"select {{ cents_to_dollars('amount') }}, {{ cents_to_dollars('tax', scale=4) }} from {{ this }}"
		" -- {{ this.schema }} {{ pick(1) }} {{ pick(0) }} {{ pick(0)[0] }} {{ uses_sibling() }}"
		" {{ where_am_i() }} {{ adapter.quote('id') }} {{ 'x' ~ this }}"
		" {% call wrap('b') %}{{ this.identifier }}{% endcall %} {{ [this]|join(',') }} {{ this|string }}");
	expect_host_render(model, &h,
		"select round(amount / 100.0, 2), round(tax / 100.0, 4) from \"main\".\"orders\""
		" -- main yes ['no', 0] no <round(a / 100.0, 2)> dev \"id\" x\"main\".\"orders\""
		" <b>orders</b> \"main\".\"orders\" \"main\".\"orders\"");
	assert_int_equal(h.returns, 3);

	/* sl_tpl_call from host code: output as a string, or the returned value */
	sl_arena a;
	sl_arena_init(&a, 4096);
	sl_tpl_env env = {&h, mhost_lookup, mhost_call};
	sl_error err = SL_ERROR_INIT;
	sl_tpl_value out, args[2] = {sl_tpl_string(&a, "orders", 6), sl_tpl_string(&a, "id", 2)};
	const sl_tpl_value *t = sl_tpl_dict_get(h.macros.u.dict, "test_not_null");
	assert_int_equal(sl_tpl_call(t, args, 2, NULL, 0, &env, &a, &out, &err), 0);
	assert_int_equal(out.type, SL_TPL_STRING);
	assert_string_equal(out.u.str.s, "select * from orders where id is null");
	sl_tpl_kwarg kw = {"column_name", sl_tpl_string(&a, "amount", 6)};
	assert_int_equal(sl_tpl_call(t, args, 1, &kw, 1, &env, &a, &out, &err), 0);
	assert_string_equal(out.u.str.s, "select * from orders where amount is null");
	args[0] = sl_tpl_int(0);
	assert_int_equal(sl_tpl_call(sl_tpl_dict_get(h.macros.u.dict, "pick"), args, 1, NULL, 0, &env, &a,
				     &out, &err), 0);
	assert_int_equal(out.type, SL_TPL_LIST);
	assert_int_equal(out.u.list->len, 2);
	/* an error inside a macro names the macro's file */
	sl_tpl *bad = parse_ok("macros/bad.sql", "{% macro boom() %}\n  {{ nope.x }}{% endmacro %}");
	assert_int_equal(sl_tpl_each_macro(bad, collect_macro, &h), 0);
	assert_true(sl_tpl_call(sl_tpl_dict_get(h.macros.u.dict, "boom"), NULL, 0, NULL, 0, &env, &a, &out,
				&err) < 0);
	assert_string_equal(err.message, "macros/bad.sql:2:6: 'nope' is undefined");
	assert_true(sl_tpl_call(sl_tpl_dict_get(h.macros.u.dict, "boom"), args, 1, NULL, 0, &env, &a, &out,
				&err) < 0);
	assert_string_equal(err.message, "macro 'boom' takes not more than 0 argument(s)");

	sl_tpl *calls_bad = parse_ok("models/c.sql", "select\n  {{ boom() }}");
	sl_buf cbuf = SL_BUF_INIT;
	assert_true(sl_tpl_render(calls_bad, &env, &cbuf, &err) < 0);
	assert_string_equal(err.message,
			    "macros/bad.sql:2:6: 'nope' is undefined (in macro 'boom' called at models/c.sql:2:6)");
	sl_buf_free(&cbuf);
	sl_tpl_free(calls_bad);

	/* return outside a macro */
	sl_tpl *top = parse_ok("models/r.sql", "a\n {{ return(1) }}");
	sl_buf buf = SL_BUF_INIT;
	assert_true(sl_tpl_render(top, &env, &buf, &err) < 0);
	assert_string_equal(err.message, "models/r.sql:2:5: return outside a macro");
	sl_buf_free(&buf);

	sl_tpl_free(top);
	sl_tpl_free(bad);
	sl_tpl_free(model);
	sl_tpl_free(lib);
	sl_arena_free(&a);
	sl_arena_free(&h.a);
}

static int collect_block(void *ud, const char *tag, const char *name, int index)
{
	sl_buf *b = ud;
	return sl_buf_printf(b, "%s:%s:%d;", tag, name, index);
}

static void test_host_named_blocks(void **state)
{
	mhost h = {0};
	sl_arena_init(&h.a, 4096);
	h.macros = sl_tpl_dict_new(&h.a);
	sl_tpl *t = parse_ok("snapshots/s.sql",
		"{% macro cols() %}id, status{% endmacro %}"
		"{% snapshot orders_snapshot %}\n{% macro src() %}raw.orders{% endmacro %}"
		"select {{ cols() }} from {{ src() }}\n{% endsnapshot %}"
		"top"
		"{% docs orders %}Orders **placed**.{% enddocs %}");
	expect_host_render(t, &h, "top");
	sl_buf names = SL_BUF_INIT, out = SL_BUF_INIT;
	assert_int_equal(sl_tpl_each_block(t, collect_block, &names), 0);
	assert_string_equal(names.data, "snapshot:orders_snapshot:0;docs:orders:1;");
	sl_tpl_env env = {&h, mhost_lookup, mhost_call};
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_tpl_render_block(t, 0, &env, &out, &err), 0);
	assert_string_equal(out.data, "\nselect id, status from raw.orders\n");
	sl_buf_reset(&out);
	assert_int_equal(sl_tpl_render_block(t, 1, &env, &out, &err), 0);
	assert_string_equal(out.data, "Orders **placed**.");
	assert_int_equal(sl_tpl_render_block(t, 2, &env, &out, &err), SL_ENOTFOUND);
	sl_buf_free(&names);
	sl_buf_free(&out);
	sl_tpl_free(t);
	sl_arena_free(&h.a);
}

/* Endless recursion and huge ranges end with an error, not a crash. */
static void test_host_macro_recursion_is_bounded(void **state)
{
	expect_render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
			    "m.sql:1:20: macro calls nested more than 100 deep (endless recursion?)");
	expect_render_error("{{ range(20000000)|length }}", "m.sql:1:4: range() of more than 10000000 items");
	/* found by fuzzing: joins of joins grow a string multiplicatively */
	expect_render_error("{{ 'abcdefgh'|join('x' * 1000)|join('y' * 1000)|join('z') }}",
			    "m.sql:1:49: filter 'join': string too long to iterate");
	expect_render_error("{{ 'ab' * 40000000 }}", "m.sql:1:9: string longer than 64 MB");
	expect_render_error("{% set s = 'x' * 60000000 %}{{ s ~ s }}", "m.sql:1:34: string longer than 64 MB");
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
		cmocka_unit_test(test_render_attributes_of_host_callables),
		cmocka_unit_test(test_render_if_elif_else),
		cmocka_unit_test(test_render_for_loop),
		cmocka_unit_test(test_render_set),
		cmocka_unit_test(test_render_filters),
		cmocka_unit_test(test_render_is_tests),
		cmocka_unit_test(test_render_block_set),
		cmocka_unit_test(test_render_out_of_memory_fails_cleanly),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_render_error_codes),
		cmocka_unit_test(test_render_out_of_memory_in_macros_and_filters),
		cmocka_unit_test(test_render_macros_as_jinja),
		cmocka_unit_test(test_render_expressions_as_jinja),
		cmocka_unit_test(test_render_filters_and_tests_as_jinja),
		cmocka_unit_test(test_render_dbt_idioms_as_jinja),
		cmocka_unit_test(test_render_syntax_of_dbt_packages),
		cmocka_unit_test(test_render_scopes_and_whitespace_as_jinja),
		cmocka_unit_test(test_render_percent_format_as_jinja),
		cmocka_unit_test(test_parse_errors_of_new_constructs),
		cmocka_unit_test(test_host_macros_from_other_templates),
		cmocka_unit_test(test_host_named_blocks),
		cmocka_unit_test(test_host_macro_recursion_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
