/* test_site.c: the documentation site — escaping of project text, the
 * lineage SVG, and index.html built from fixture artifacts and a state
 * store (tests/docs/fixtures/). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <libgen.h>
#include <string.h>

#include "../lib/unit_tmp.h"
#include "docs/docs.h"
#include "docs/site_int.h"
#include "state/state.h"

static char fixtures[512];

static json_t *load_fixture(const char *name)
{
	char path[768];
	snprintf(path, sizeof path, "%s/%s", fixtures, name);
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	assert_non_null(j);
	return j;
}

static void copy_fixture(const char *name, const char *dir)
{
	char from[768], to[768];
	sl_buf b = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	snprintf(from, sizeof from, "%s/%s", fixtures, name);
	snprintf(to, sizeof to, "%s/%s", dir, name);
	assert_int_equal(sl_file_read_all(&b, from, 0, &err), 0);
	assert_int_equal(sl_file_write_atomic(to, b.data, b.len, &err), 0);
	sl_buf_free(&b);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Graphviz writes '-' in attributes as "&#45;"; the browser reads it back. */
static void unescape_hyphens(char *s)
{
	char *w = s;
	for (const char *r = s; *r;)
		if (!strncmp(r, "&#45;", 5)) {
			*w++ = '-';
			r += 5;
		} else {
			*w++ = *r++;
		}
	*w = 0;
}

static void test_html_escape_replaces_markup_characters(void **state)
{
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_docs_html_escape(&b, "<a href=\"x\">Tom & 'Jerry'</a>"), 0);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
	sl_buf_reset(&b);
	assert_int_equal(sl_docs_html_escape(&b, "plain"), 0);
	assert_string_equal(b.data, "plain");
	sl_buf_free(&b);
}

static void test_script_json_cannot_close_the_script(void **state)
{
	sl_buf b = SL_BUF_INIT;
	json_t *in = json_pack("{s:s}", "d", "x</script><script>alert(1)</script><!-- y </SCRIPT");
	char *text = json_dumps(in, JSON_COMPACT);
	assert_int_equal(sl_docs_script_json(&b, text), 0);
	assert_null(strstr(b.data, "</"));
	assert_null(strstr(b.data, "<!--"));
	assert_non_null(strstr(b.data, "x<\\/script>"));
	assert_non_null(strstr(b.data, "\\u003c!-- y <\\/SCRIPT"));
	/* The escaped text is the same JSON value. */
	json_t *back = json_loads(b.data, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(in, back));
	json_decref(back);
	json_decref(in);
	free(text);
	sl_buf_free(&b);
}

static void test_url_encode_and_node_href(void **state)
{
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_docs_url_encode(&b, "a b/c\"<'&é"), 0);
	assert_string_equal(b.data, "a%20b%2Fc%22%3C%27%26%C3%A9");
	sl_buf_reset(&b);
	assert_int_equal(sl_docs_node_href(&b, "model", "model.shop.stg_orders"), 0);
	assert_string_equal(b.data, "#!/model/model.shop.stg_orders");
	sl_buf_free(&b);
}

/* Every model, seed, snapshot and source of the manifest is a node of the
 * SVG, linked to its page and classed by type; tests are not in it. */
static void test_lineage_svg_has_every_node(void **state)
{
	json_t *m = load_fixture("manifest.json");
	sl_buf svg = SL_BUF_INIT, want = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_docs_lineage_svg(&svg, m, &err), 0);
	assert_true(sl_str_starts_with(svg.data, "<svg"));
	assert_null(strstr(svg.data, "<?xml"));
	unescape_hyphens(svg.data);
	int in_graph = 0;
	const char *parts[] = {"nodes", "sources"};
	for (int i = 0; i < 2; i++) {
		const char *uid;
		json_t *n;
		json_object_foreach(json_object_get(m, parts[i]), uid, n) {
			const char *type = json_string_value(json_object_get(n, "resource_type"));
			sl_buf_reset(&want);
			sl_buf_printf(&want, "id=\"sl-node-%s\"", uid);
			if (!strcmp(type, "test")) {
				assert_null(strstr(svg.data, want.data));
				continue;
			}
			in_graph++;
			assert_non_null(strstr(svg.data, want.data));
			sl_buf_reset(&want);
			sl_buf_printf(&want, "xlink:href=\"#!/%s/%s\"", type, uid);
			assert_non_null(strstr(svg.data, want.data));
			sl_buf_reset(&want);
			sl_buf_printf(&want, "class=\"node sl-%s\"", type);
			assert_non_null(strstr(svg.data, want.data));
		}
	}
	assert_int_equal(in_graph, 8);
	assert_int_equal(count_of(svg.data, "class=\"node"), 8);
	/* stg_customers <- raw.customers, country_codes; customers <- both
	 * staging models; stg_orders <- raw.orders; weird, orders_snapshot <-
	 * stg_orders. */
	assert_int_equal(count_of(svg.data, "class=\"edge\""), 7);
	json_decref(m);
	sl_buf_free(&svg);
	sl_buf_free(&want);
}

static void test_lineage_svg_of_empty_project(void **state)
{
	json_t *m = json_pack("{s:{},s:{}}", "nodes", "sources");
	sl_buf svg = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_docs_lineage_svg(&svg, m, &err), 0);
	assert_true(sl_str_starts_with(svg.data, "<svg"));
	json_decref(m);
	sl_buf_free(&svg);
}

/* Names are text in the SVG: Graphviz escapes them, backslashes stay. */
static void test_lineage_svg_escapes_names(void **state)
{
	json_t *m = json_pack("{s:{s:{s:s,s:s}},s:{}}", "nodes", "model.p.x", "resource_type",
			      "model", "name", "a<b onload=alert(1)>\"c'&d\\N", "sources");
	sl_buf svg = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_docs_lineage_svg(&svg, m, &err), 0);
	assert_null(strstr(svg.data, "<b"));
	assert_non_null(strstr(svg.data, ">a&lt;b onload=alert(1)&gt;&quot;c&#39;&amp;d\\N</text>"));
	json_decref(m);
	sl_buf_free(&svg);
}

/* The JSON between <script type="application/json" id="sluice-data"> and
 * </script>, parsed. */
static json_t *site_data_of(const char *html)
{
	const char *open = "<script type=\"application/json\" id=\"sluice-data\">";
	const char *start = strstr(html, open);
	assert_non_null(start);
	start += strlen(open);
	const char *end = strstr(start, "</script>");
	assert_non_null(end);
	json_t *j = json_loadb(start, (size_t)(end - start), 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_write_site_embeds_data_results_and_graph(void **state)
{
	char target[512], index[600];
	sl_error err = SL_ERROR_INIT;
	sl_state *st = NULL;
	sl_buf html = SL_BUF_INIT;

	snprintf(target, sizeof target, "%s/target", tmp);
	assert_int_equal(sl_mkdirs(target, &err), 0);
	copy_fixture("manifest.json", target);
	copy_fixture("catalog.json", target);
	copy_fixture("column_lineage.json", target);
	/* Two runs: the site shows each test's latest result. */
	assert_int_equal(sl_state_open(&st, tmp, &err), 0);
	assert_int_equal(sl_state_test_result_add(st, "run-1", "model.shop.stg_orders",
						  "test.shop.not_null_stg_orders_order_id.a1b2c3d4e5",
						  "pass", 0, NULL, &err), 0);
	assert_int_equal(sl_state_test_result_add(st, "run-2", "model.shop.stg_orders",
						  "test.shop.not_null_stg_orders_order_id.a1b2c3d4e5",
						  "fail", 3, "Got 3 results, configured to fail if != 0", &err), 0);
	assert_int_equal(sl_state_test_result_add(st, "run-2", "model.shop.customers",
						  "test.shop.unique_customers_customer_id.0f1e2d3c4b",
						  "pass", 0, NULL, &err), 0);
	sl_state_close(st);

	assert_int_equal(sl_docs_write_site(target, tmp, &err), 0);
	snprintf(index, sizeof index, "%s/docs/index.html", target);
	assert_int_equal(sl_file_read_all(&html, index, 0, &err), 0);

	/* The description's </script><script> stays data: only the two
	 * script elements of the page are closed. */
	assert_int_equal(count_of(html.data, "</script>"), 2);
	assert_non_null(strstr(html.data, "<\\/script><script>window.__pwned=1<\\/script>"));
	assert_non_null(strstr(html.data, "<title>shop \xe2\x80\x94 sluice docs</title>"));
	unescape_hyphens(html.data);
	assert_non_null(strstr(html.data, "id=\"sl-node-model.shop.customers\""));

	json_t *d = site_data_of(html.data);
	json_t *nodes = json_object_get(d, "nodes");
	assert_int_equal(json_object_size(nodes), 12);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    nodes, "model.shop.stg_customers"), "description")),
			    "Customers <b>bold</b> & \"quoted\" </script><script>window.__pwned=1</script>");
	json_t *r = json_object_get(json_object_get(d, "results"),
				    "test.shop.not_null_stg_orders_order_id.a1b2c3d4e5");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "fail");
	assert_int_equal(json_integer_value(json_object_get(r, "failures")), 3);
	assert_string_equal(json_string_value(json_object_get(r, "run_id")), "run-2");
	assert_int_equal(json_object_size(json_object_get(d, "results")), 2);
	json_t *cat = json_object_get(json_object_get(d, "catalog"), "model.shop.customers");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
				     cat, "stats"), "row_count"), "value")), 42);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    d, "lineage"), "model.shop.weird"), "error")),
			    "syntax error at or near \"@@@\" at position 8");
	json_t *meta = json_object_get(d, "meta");
	assert_true(json_is_true(json_object_get(meta, "state")));
	assert_true(json_is_true(json_object_get(meta, "catalog")));
	assert_string_equal(json_string_value(json_object_get(meta, "project")), "shop");
	json_decref(d);
	sl_buf_free(&html);
}

static void test_write_site_without_catalog_lineage_or_state(void **state)
{
	char target[512], path[600];
	sl_error err = SL_ERROR_INIT;
	sl_buf html = SL_BUF_INIT;

	snprintf(target, sizeof target, "%s/target", tmp);
	assert_int_equal(sl_mkdirs(target, &err), 0);
	copy_fixture("manifest.json", target);
	assert_int_equal(sl_docs_write_site(target, tmp, &err), 0);
	/* No state.db is created for a project that never ran. */
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_false(sl_path_exists(path));
	snprintf(path, sizeof path, "%s/docs/index.html", target);
	assert_int_equal(sl_file_read_all(&html, path, 0, &err), 0);
	json_t *d = site_data_of(html.data);
	json_t *meta = json_object_get(d, "meta");
	assert_true(json_is_false(json_object_get(meta, "state")));
	assert_true(json_is_false(json_object_get(meta, "catalog")));
	assert_int_equal(json_object_size(json_object_get(d, "results")), 0);
	json_decref(d);
	sl_buf_free(&html);
}

static void test_write_site_without_manifest_says_what_to_run(void **state)
{
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_docs_write_site(tmp, NULL, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "manifest.json not found; run `sluice docs generate`"));
}

static void test_write_site_bad_manifest_names_file_and_line(void **state)
{
	char path[600];
	sl_error err = SL_ERROR_INIT;
	snprintf(path, sizeof path, "%s/manifest.json", tmp);
	assert_int_equal(sl_file_write_atomic(path, "{\n\"nodes\": [,\n}", 15, &err), 0);
	assert_int_equal(sl_docs_write_site(tmp, NULL, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "manifest.json:2:"));
}

int main(int argc, char **argv)
{
	char self[512];
	snprintf(self, sizeof self, "%s", __FILE__);
	snprintf(fixtures, sizeof fixtures, "%s/fixtures", dirname(self));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape_replaces_markup_characters),
		cmocka_unit_test(test_script_json_cannot_close_the_script),
		cmocka_unit_test(test_url_encode_and_node_href),
		cmocka_unit_test(test_lineage_svg_has_every_node),
		cmocka_unit_test(test_lineage_svg_of_empty_project),
		cmocka_unit_test(test_lineage_svg_escapes_names),
		cmocka_unit_test_setup_teardown(test_write_site_embeds_data_results_and_graph, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_site_without_catalog_lineage_or_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_site_without_manifest_says_what_to_run,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_site_bad_manifest_names_file_and_line,
						setup, teardown),
	};
	/* `test_site --write-site TARGET PROJECT`: builds a site from fixture
	 * artifacts for the browser test (tests/integration/docs_site). */
	if (argc == 4 && !strcmp(argv[1], "--write-site")) {
		sl_error err = SL_ERROR_INIT;
		if (sl_docs_write_site(argv[2], argv[3], &err) < 0) {
			fprintf(stderr, "%s\n", err.message);
			return 1;
		}
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
