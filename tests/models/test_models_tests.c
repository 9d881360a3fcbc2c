/* test_models_tests.c: data tests as nodes — names and unique_ids exactly
 * as dbt makes them (the expected ids were computed with dbt's own rule:
 * md5 of the name and the test metadata as Python prints it), configs
 * from YAML, dbt_project.yml and config(), test kwargs with ref(),
 * running every built-in test failing and passing in a real SQLite
 * warehouse (severity, where, limit, store_failures, the sample),
 * documentation metadata, and source freshness. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/models.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

#include "../lib/unit_tmp.h"

static bool exists(const char *rel)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	return stat(path, &st) == 0;
}

typedef struct proj {
	sl_project *p;
	sl_models *m;
} proj;

static int open_models(proj *pr, sl_error *err)
{
	memset(pr, 0, sizeof *pr);
	int rc = sl_project_open(&pr->p, tmp, NULL, NULL, err);
	if (rc < 0)
		return rc;
	sl_models_opts o = {0};
	o.project_dir = tmp;
	o.project = pr->p;
	o.target = sl_project_target(pr->p, NULL);
	o.invocation_id = "inv-1";
	o.run_started_at = "2024-05-01T10:00:00Z";
	return sl_models_open(&pr->m, &o, err);
}

static void open_ok(proj *pr)
{
	sl_error err = SL_ERROR_INIT;
	if (open_models(pr, &err) < 0)
		fail_msg("open failed: %s", err.message);
}

static const char *open_fails(proj *pr, sl_error *err)
{
	if (open_models(pr, err) == 0)
		fail_msg("expected an error");
	sl_project_free(pr->p);
	return err->message;
}

static void close_proj(proj *pr)
{
	sl_models_free(pr->m);
	sl_project_free(pr->p);
}

static const sl_node *node(proj *pr, const char *id)
{
	int i = sl_models_find(pr->m, id);
	if (i < 0) {
		for (int k = 0; k < sl_models_count(pr->m); k++)
			print_message("  have %s\n", sl_models_node(pr->m, k)->unique_id);
		fail_msg("no node %s", id);
	}
	return sl_models_node(pr->m, i);
}

static const char *config_of(const sl_node *n, const char *key)
{
	size_t k = strlen(key);
	for (int i = 0; i < n->nconfig; i++)
		if (strncmp(n->config[i], key, k) == 0 && n->config[i][k] == '=')
			return n->config[i] + k + 1;
	return NULL;
}

static bool depends(const sl_node *n, const char *id)
{
	for (int i = 0; i < n->ndepends_on; i++)
		if (strcmp(n->depends_on[i], id) == 0)
			return true;
	return false;
}

static void base_project(void)
{
	write_file("dbt_project.yml", "name: shop\nprofile: shop\n"
			       "data_tests:\n  shop:\n    +tags: ['dq']\n    marts:\n"
			       "      +severity: warn\n");
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
			    "    dev: {type: sqlite, schema: main, path: warehouse.db}\n");
	write_file("models/customers.sql", "{{ config(materialized='table') }}\n"
				    "select 1 as id, 'a' as name union all select 2, 'b' "
				    "union all select 3, null");
	write_file("models/orders.sql", "{{ config(materialized='table') }}\n"
				 "select 10 as order_id, 1 as customer_id, 'placed' as status "
				 "union all select 11, 9, 'lost' union all select 12, 2, 'shipped' "
				 "union all select 12, null, 'returned'");
	write_file("seeds/countries.csv", "code,name\nfr,France\nde,Germany\nfr,Francia\n");
	write_file("seeds/seeds.yml", "seeds:\n  - name: countries\n    columns:\n      - name: code\n"
			       "        tests: [unique]\n");
	write_file("models/docs.md", "{% docs customers %}One row per customer.{% enddocs %}\n");
	write_file("models/schema.yml",
	    "version: 2\n"
	    "models:\n"
	    "  - name: customers\n"                                       /* 3 */
	    "    description: \"{{ doc('customers') }}\"\n"
	    "    meta: {owner: ana}\n"
	    "    columns:\n"
	    "      - name: id\n"
	    "        description: The key\n"
	    "        data_type: integer\n"
	    "        tags: [pk]\n"
	    "        data_tests:\n"
	    "          - unique\n"                                        /* 12 */
	    "          - not_null\n"
	    "      - name: name\n"
	    "        tests:\n"
	    "          - not_null:\n"                                     /* 16 */
	    "              config: {severity: WARN}\n"
	    "  - name: orders\n"
	    "    data_tests:\n"
	    "      - same_count:\n"                                       /* 20 */
	    "          compare_model: ref('customers')\n"
	    "    columns:\n"
	    "      - name: order_id\n"
	    "        data_tests:\n"
	    "          - unique:\n"
	    "              config: {store_failures: true}\n"
	    "      - name: customer_id\n"
	    "        data_tests:\n"
	    "          - relationships:\n"
	    "              to: ref('customers')\n"
	    "              field: id\n"
	    "      - name: status\n"
	    "        data_tests:\n"
	    "          - accepted_values:\n"
	    "              values: ['placed', 'shipped']\n"
	    "              config: {where: \"order_id < 12\", limit: 5}\n"
	    "          - accepted_values:\n"
	    "              name: status_known\n"
	    "              arguments: {values: [placed, shipped, returned, lost]}\n"
	    "          - accepted_values:\n"
	    "              values: [placed, shipped, returned, lost, cancelled, pending]\n"
	    "              enabled: true\n"
	    "sources:\n"
	    "  - name: shop\n"
	    "    schema: main\n"
	    "    description: The shop's tables\n"
	    "    loaded_at_field: loaded_at\n"
	    "    freshness:\n"
	    "      warn_after: {count: 1, period: hour}\n"
	    "      error_after: {count: 1, period: day}\n"
	    "    tables:\n"
	    "      - name: raw_orders\n"
	    "        description: Orders as loaded\n"
	    "        columns:\n"
	    "          - name: id\n"
	    "            tests: [not_null]\n"
	    "      - name: raw_items\n"
	    "        freshness: null\n"
	    "      - name: raw_old\n"
	    "        freshness:\n"
	    "          warn_after: {count: 2, period: minute}\n");
	write_file("tests/generic/same_count.sql",
	    "{% test same_count(model, compare_model) %}\n"
	    "select 1 as diff where (select count(*) from {{ model }}) != "
	    "(select count(*) from {{ compare_model }})\n{% endtest %}\n");
	write_file("tests/marts/assert_no_big_orders.sql",
	    "{{ config(tags=['big']) }}\nselect * from {{ ref('orders') }} where order_id > 11");
}

/* -------------------------------------------------------- names and ids */

static void test_names_ids_and_configs(void **state)
{
	(void)state;
	base_project();
	proj pr;
	open_ok(&pr);
	/* two models and a seed, then the singular test, then the generic ones */
	assert_int_equal(sl_models_count(pr.m), 3 + 1 + 11);
	assert_int_equal(sl_models_node(pr.m, 0)->type, SL_NODE_MODEL);
	assert_int_equal(sl_models_node(pr.m, 1)->type, SL_NODE_MODEL);
	assert_int_equal(sl_models_node(pr.m, 2)->type, SL_NODE_SEED);
	assert_string_equal(sl_models_node(pr.m, 3)->unique_id, "test.shop.assert_no_big_orders");
	for (int i = 3; i < sl_models_count(pr.m); i++)
		assert_int_equal(sl_models_node(pr.m, i)->type, SL_NODE_TEST);

	const sl_node *u = node(&pr, "test.shop.unique_customers_id.70f3d3fd20");
	assert_string_equal(u->name, "unique_customers_id");
	assert_string_equal(u->path, "models/schema.yml");
	assert_string_equal(u->test->test_name, "unique");
	assert_null(u->test->test_namespace);
	assert_string_equal(u->test->column_name, "id");
	assert_string_equal(u->test->kwargs_json, "{\"column_name\":\"id\"}");
	assert_string_equal(u->test->attached_node, "model.shop.customers");
	assert_int_equal(u->test->type, SL_TEST_GENERIC);
	assert_int_equal(u->test->severity, SL_SEVERITY_ERROR);
	assert_string_equal(u->test->warn_if, "!= 0");
	assert_string_equal(u->test->error_if, "!= 0");
	assert_int_equal(u->test->limit, -1);
	assert_false(u->test->store_failures);
	assert_string_equal(u->test->audit_schema, "main_dbt_test__audit");
	assert_string_equal(u->test->audit_relation, "unique_customers_id");
	assert_true(depends(u, "model.shop.customers"));
	assert_int_equal(u->ndepends_on, 1);
	/* the column's tags and the project's tests: tree */
	assert_string_equal(config_of(u, "tags"), "[\"dq\",\"pk\"]");
	assert_string_equal(config_of(u, "materialized"), "test");
	assert_string_equal(u->raw_code, "{{ test_unique(**_dbt_generic_test_kwargs) }}");

	node(&pr, "test.shop.not_null_customers_id.422908bfae");
	const sl_node *nn = node(&pr, "test.shop.not_null_customers_name.1b78bf32b9");
	assert_int_equal(nn->test->severity, SL_SEVERITY_WARN); /* WARN, any case */
	assert_string_equal(nn->raw_code, "{{ test_not_null(**_dbt_generic_test_kwargs) }}"
					  "{{ config(severity=\"WARN\") }}");

	const sl_node *uo = node(&pr, "test.shop.unique_orders_order_id.fed79b3a6e");
	assert_true(uo->test->store_failures);

	const sl_node *r = node(&pr, "test.shop.relationships_orders_customer_id__id__ref_customers_"
				     ".4282b0c525");
	assert_true(depends(r, "model.shop.orders"));
	assert_true(depends(r, "model.shop.customers"));
	assert_string_equal(r->test->kwargs_json,
			    "{\"to\":\"ref('customers')\",\"field\":\"id\",\"column_name\":"
			    "\"customer_id\"}");

	const sl_node *av = node(&pr, "test.shop.accepted_values_orders_status__placed__shipped"
				      ".7de09bf3cd");
	assert_string_equal(av->test->where, "order_id < 12");
	assert_int_equal(av->test->limit, 5);
	/* a custom name, arguments: given apart */
	const sl_node *sk = node(&pr, "test.shop.status_known.6923b9fce2");
	assert_string_equal(sk->name, "status_known");
	assert_string_equal(sk->test->kwargs_json,
			    "{\"values\":[\"placed\",\"shipped\",\"returned\",\"lost\"],"
			    "\"column_name\":\"status\"}");
	/* a name of 64 characters or more: the alias is cut with an md5 */
	const sl_node *lg = node(&pr, "test.shop.accepted_values_orders_status__placed__shipped__"
				      "returned__lost__cancelled__pending.f7a0cc2c5c");
	assert_string_equal(lg->alias, "accepted_values_orders_fadc54a759a8babc2e6b28875ed75e26");
	assert_string_equal(lg->test->audit_relation,
			    "accepted_values_orders_fadc54a759a8babc2e6b28875ed75e26");

	/* a custom generic test with a ref() argument depends on it */
	const sl_node *sc = node(&pr, "test.shop.same_count_orders_ref_customers_.db5e53539b");
	assert_null(sc->test->column_name);
	assert_true(depends(sc, "model.shop.orders"));
	assert_true(depends(sc, "model.shop.customers"));
	assert_string_equal(sc->test->attached_node, "model.shop.orders");

	/* a source's test */
	const sl_node *st = node(&pr, "test.shop.source_not_null_shop_raw_orders_id.d669ceeac9");
	assert_string_equal(st->test->attached_node, "source.shop.shop.raw_orders");
	assert_int_equal(st->nsources, 1);
	assert_string_equal(st->sources[0], "shop.raw_orders");
	assert_int_equal(st->ndepends_on, 0);

	/* the singular test: its file's stem, its folder's configs, config() */
	const sl_node *sg = node(&pr, "test.shop.assert_no_big_orders");
	assert_int_equal(sg->test->type, SL_TEST_SINGULAR);
	assert_null(sg->test->attached_node);
	assert_string_equal(sg->path, "tests/marts/assert_no_big_orders.sql");
	assert_int_equal(sg->test->severity, SL_SEVERITY_WARN);
	assert_string_equal(config_of(sg, "tags"), "[\"dq\",\"big\"]");
	assert_true(depends(sg, "model.shop.orders"));
	assert_int_equal(strlen(sg->checksum), 64);
	close_proj(&pr);
}

/* The unique_ids dbt gave jaffle_shop's tests, in its published
 * manifests (the hash leaves the package out, so "shop" keeps them). */
static void test_jaffle_shop_ids(void **state)
{
	(void)state;
	base_project();
	write_file("models/schema.yml",
	    "version: 2\nmodels:\n  - name: customers\n    columns:\n      - name: customer_id\n"
	    "        tests: [unique, not_null]\n"
	    "  - name: orders\n    columns:\n      - name: order_id\n        tests: [unique]\n"
	    "      - name: customer_id\n        tests:\n          - relationships:\n"
	    "              to: ref('customers')\n              field: customer_id\n"
	    "      - name: status\n        tests:\n          - accepted_values:\n"
	    "              values: ['placed', 'shipped', 'completed', 'return_pending', "
	    "'returned']\n");
	proj pr;
	open_ok(&pr);
	node(&pr, "test.shop.unique_customers_customer_id.c5af1ff4b1");
	node(&pr, "test.shop.not_null_customers_customer_id.5c9bf9911d");
	node(&pr, "test.shop.unique_orders_order_id.fed79b3a6e");
	node(&pr, "test.shop.relationships_orders_customer_id__customer_id__ref_customers_"
		  ".c6ec7f58f2");
	const sl_node *av = node(&pr, "test.shop.accepted_values_orders_status__placed__shipped__"
				      "completed__return_pending__returned.be6b5b5ec3");
	assert_string_equal(av->alias, "accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758");
	close_proj(&pr);
}

/* ----------------------------------------------------- docs, freshness */

static void test_docs_metadata_and_sources(void **state)
{
	(void)state;
	base_project();
	proj pr;
	open_ok(&pr);
	const sl_node *c = node(&pr, "model.shop.customers");
	assert_string_equal(c->description, "One row per customer.");
	assert_string_equal(c->meta_json, "{\"owner\":\"ana\"}");
	assert_string_equal(c->patch_path, "shop://models/schema.yml");
	assert_int_equal(c->ncolumns, 2);
	assert_string_equal(c->columns[0].name, "id");
	assert_string_equal(c->columns[0].description, "The key");
	assert_string_equal(c->columns[0].data_type, "integer");
	assert_int_equal(c->columns[0].ntags, 1);
	assert_string_equal(c->columns[0].tags[0], "pk");
	assert_null(c->columns[1].data_type);
	assert_true(strncmp(c->raw_code, "{{ config(materialized='table') }}", 34) == 0);
	assert_int_equal(strlen(c->checksum), 64);

	assert_int_equal(sl_models_source_count(pr.m), 3);
	const sl_model_source *s = sl_models_source_at(pr.m, 0);
	assert_string_equal(s->unique_id, "source.shop.shop.raw_orders");
	assert_string_equal(s->description, "Orders as loaded");
	assert_string_equal(s->source_description, "The shop's tables");
	assert_string_equal(s->loaded_at_field, "loaded_at");
	assert_true(s->freshness.set);
	assert_int_equal(s->freshness.warn_after.seconds, 3600);
	assert_string_equal(s->freshness.error_after.period, "day");
	assert_int_equal(s->ncolumns, 1);
	/* freshness: null on the table turns the source's off */
	assert_false(sl_models_source_at(pr.m, 1)->freshness.set);
	/* a table's rule over the source's, the other kept */
	const sl_model_source *old = sl_models_source_at(pr.m, 2);
	assert_int_equal(old->freshness.warn_after.seconds, 120);
	assert_int_equal(old->freshness.error_after.seconds, 86400);
	close_proj(&pr);
}

/* description: on a generic test's entry and on a singular test's
 * data_tests: entry reaches the node; it is no argument of the test (its
 * unique_id is the one without it). */
static void test_test_descriptions(void **state)
{
	(void)state;
	base_project();
	write_file("models/schema.yml",
	    "version: 2\nmodels:\n  - name: customers\n    columns:\n      - name: id\n"
	    "        data_tests:\n"
	    "          - unique:\n              description: Each customer once\n"
	    "          - not_null:\n              description: \"{{ doc('customers') }}\"\n"
	    "              config: {severity: warn}\n"
	    "data_tests:\n  - name: assert_no_big_orders\n"
	    "    description: No order above 11\n");
	proj pr;
	open_ok(&pr);
	const sl_node *u = node(&pr, "test.shop.unique_customers_id.70f3d3fd20");
	assert_string_equal(u->description, "Each customer once");
	assert_string_equal(u->test->kwargs_json, "{\"column_name\":\"id\"}");
	const sl_node *nn = node(&pr, "test.shop.not_null_customers_id.422908bfae");
	assert_string_equal(nn->description, "One row per customer.");
	assert_int_equal(nn->test->severity, SL_SEVERITY_WARN);
	const sl_node *sg = node(&pr, "test.shop.assert_no_big_orders");
	assert_string_equal(sg->description, "No order above 11");
	assert_string_equal(node(&pr, "model.shop.customers")->description, "");
	close_proj(&pr);
}

static void test_freshness_judge(void **state)
{
	(void)state;
	sl_freshness f = {0};
	assert_int_equal(sl_freshness_judge(&f, 1e9), SL_FRESH_PASS);
	f.set = true;
	f.warn_after = (sl_freshness_rule){1, "hour", 3600};
	f.error_after = (sl_freshness_rule){1, "day", 86400};
	assert_int_equal(sl_freshness_judge(&f, 60), SL_FRESH_PASS);
	assert_int_equal(sl_freshness_judge(&f, 3600), SL_FRESH_PASS);
	assert_int_equal(sl_freshness_judge(&f, 3601), SL_FRESH_WARN);
	assert_int_equal(sl_freshness_judge(&f, 90000), SL_FRESH_ERROR);
	/* error_after wins even when it is the shorter one */
	f.error_after.seconds = 60;
	assert_int_equal(sl_freshness_judge(&f, 120), SL_FRESH_ERROR);
	f.warn_after.seconds = 0;
	f.error_after.seconds = 0;
	assert_int_equal(sl_freshness_judge(&f, 1e9), SL_FRESH_PASS);
	assert_string_equal(sl_fresh_status_name(SL_FRESH_RUNTIME_ERROR), "runtime error");
	assert_string_equal(sl_test_status_name(SL_TEST_WARN), "warn");
}

/* -------------------------------------------------------------- errors */

static void replace_schema(const char *from, const char *to)
{
	char path[512];
	snprintf(path, sizeof path, "%s/models/schema.yml", tmp);
	sl_buf b = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_file_read_all(&b, path, 0, &err), 0);
	char *at = strstr(b.data, from);
	assert_non_null(at);
	sl_buf o = SL_BUF_INIT;
	sl_buf_append(&o, b.data, (size_t)(at - b.data));
	sl_buf_puts(&o, to);
	sl_buf_puts(&o, at + strlen(from));
	write_file("models/schema.yml", o.data);
	sl_buf_free(&o);
	sl_buf_free(&b);
}

static void test_parse_errors(void **state)
{
	(void)state;
	proj pr;
	sl_error err = SL_ERROR_INIT;
	base_project();
	replace_schema("          - not_null\n", "          - not_nul\n");
	assert_string_equal(open_fails(&pr, &err),
			    "models/schema.yml:13: unknown test \"not_nul\" on column \"id\" of "
			    "model \"customers\"; did you mean \"not_null\"?");
	sl_error_clear(&err);

	base_project();
	replace_schema("              field: id\n", "");
	assert_string_equal(open_fails(&pr, &err),
			    "models/schema.yml:29: test \"relationships\" on column \"customer_id\" "
			    "of model \"orders\" needs \"to\" and \"field\": relationships: {to: "
			    "ref('customers'), field: id}");
	sl_error_clear(&err);

	base_project();
	replace_schema("              values: ['placed', 'shipped']\n", "");
	assert_non_null(strstr(open_fails(&pr, &err),
			       "models/schema.yml:34: test \"accepted_values\" on column \"status\" "
			       "of model \"orders\" needs \"values\""));
	sl_error_clear(&err);

	base_project();
	replace_schema("{severity: WARN}", "{severity: fatal}");
	assert_string_equal(open_fails(&pr, &err),
			    "models/schema.yml:16: severity \"fatal\" of test not_null_customers_name "
			    "is not warn or error; use severity: warn or severity: error");
	sl_error_clear(&err);

	base_project();
	replace_schema("{count: 1, period: day}", "{count: 1, period: week}");
	assert_string_equal(open_fails(&pr, &err),
			    "models/schema.yml:50: freshness error_after period \"week\" is not "
			    "minute, hour or day; use e.g. period: hour");
	sl_error_clear(&err);

	base_project();
	replace_schema("{count: 1, period: hour}", "{count: soon, period: hour}");
	assert_non_null(strstr(open_fails(&pr, &err), "models/schema.yml:49: freshness warn_after "
						      "count \"soon\" is not a whole number"));
	sl_error_clear(&err);

	/* a ref() argument naming nothing, located at the test's line */
	base_project();
	replace_schema("to: ref('customers')", "to: ref('customer')");
	assert_non_null(strstr(open_fails(&pr, &err), "models/schema.yml:29:"));
	assert_non_null(strstr(err.message, "ref('customer') not found; did you mean "
					    "'customers'?"));
	sl_error_clear(&err);

	/* a package's test when the package is not there */
	base_project();
	replace_schema("          - not_null\n", "          - dbt_utils.not_empty\n");
	assert_string_equal(open_fails(&pr, &err),
			    "models/schema.yml:13: test \"dbt_utils.not_empty\" on column \"id\" of "
			    "model \"customers\": package \"dbt_utils\" is not installed; add it to "
			    "packages.yml and install it into dbt_packages/ (dbt deps), or remove "
			    "the test");
	sl_error_clear(&err);

	/* a singular test's template error */
	base_project();
	write_file("tests/marts/assert_no_big_orders.sql", "select 1\nfrom {{ ref('orders') \n");
	assert_non_null(strstr(open_fails(&pr, &err), "tests/marts/assert_no_big_orders.sql:"));
	sl_error_clear(&err);
}

/* ----------------------------------------------------- running them */

static sl_wh *open_wh(proj *pr)
{
	sl_wh_config c = SL_WH_CONFIG_INIT;
	const sl_target *t = sl_project_target(pr->p, NULL);
	c.type = t->type;
	c.path = t->path_abs;
	c.schema = t->schema;
	sl_wh *wh = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_open(&wh, &c, &err) < 0)
		fail_msg("%s", err.message);
	return wh;
}

static void run_one(proj *pr, sl_wh *wh, const char *id, sl_test_result *res)
{
	sl_error err = SL_ERROR_INIT;
	if (sl_models_test(pr->m, sl_models_find(pr->m, id), wh, NULL, res, &err) < 0)
		fail_msg("test %s: %s", id, err.message);
}

static void expect(proj *pr, sl_wh *wh, const char *id, sl_test_status st, int64_t failures,
		   const char *message)
{
	sl_test_result r;
	run_one(pr, wh, id, &r);
	if (r.status != st)
		fail_msg("%s: %s (%s)", id, sl_test_status_name(r.status),
			 r.message ? r.message : "");
	assert_int_equal(r.failures, failures);
	if (message)
		assert_string_equal(r.message, message);
	else
		assert_null(r.message);
	assert_non_null(r.compiled_sql);
	sl_test_result_free(&r);
}

static const char *id_of(proj *pr, const char *name)
{
	for (int k = 0; k < sl_models_count(pr->m); k++)
		if (strcmp(sl_models_node(pr->m, k)->name, name) == 0)
			return sl_models_node(pr->m, k)->unique_id;
	fail_msg("no node named %s", name);
	return NULL;
}

static int sample_rows(const char *json)
{
	int n = 0;
	for (const char *p = json; p && *p; p++)
		n += *p == '{';
	return n;
}

static void test_run_against_sqlite(void **state)
{
	(void)state;
	base_project();
	proj pr;
	open_ok(&pr);
	sl_wh *wh = open_wh(&pr);
	sl_error err = SL_ERROR_INIT;
	for (int i = 0; i < 3; i++)
		if (sl_models_build(pr.m, i, wh, NULL, NULL, &err) < 0)
			fail_msg("%s", err.message);
	/* a seed's test */
	const sl_node *sd = node(&pr, "test.shop.unique_countries_code.c4a1f6d0dd");
	assert_string_equal(sd->test->attached_node, "seed.shop.countries");
	assert_string_equal(sd->path, "seeds/seeds.yml");
	expect(&pr, wh, "test.shop.unique_countries_code.c4a1f6d0dd", SL_TEST_FAIL, 1,
	       "Got 1 result, configured to fail if != 0");
	if (sl_wh_exec(wh, "create table main.raw_orders (id integer, loaded_at text);"
			   "insert into main.raw_orders values (1, strftime('%Y-%m-%d %H:%M:%S', "
			   "'now', '-3 hours')), (2, strftime('%Y-%m-%d %H:%M:%S', 'now', "
			   "'-30 hours'))", &err) < 0)
		fail_msg("%s", err.message);

	expect(&pr, wh, "test.shop.unique_customers_id.70f3d3fd20", SL_TEST_PASS, 0, NULL);
	expect(&pr, wh, "test.shop.not_null_customers_id.422908bfae", SL_TEST_PASS, 0, NULL);
	expect(&pr, wh, "test.shop.not_null_customers_name.1b78bf32b9", SL_TEST_WARN, 1,
	       "Got 1 result, configured to warn if != 0");
	expect(&pr, wh, "test.shop.relationships_orders_customer_id__id__ref_customers_.4282b0c525",
	       SL_TEST_FAIL, 1, "Got 1 result, configured to fail if != 0");
	/* where: keeps order 12 ('returned') out; 'lost' fails */
	expect(&pr, wh, "test.shop.accepted_values_orders_status__placed__shipped.7de09bf3cd",
	       SL_TEST_FAIL, 1, "Got 1 result, configured to fail if != 0");
	expect(&pr, wh, "test.shop.status_known.6923b9fce2", SL_TEST_PASS, 0, NULL);
	expect(&pr, wh, "test.shop.same_count_orders_ref_customers_.db5e53539b", SL_TEST_FAIL, 1,
	       "Got 1 result, configured to fail if != 0");
	expect(&pr, wh, "test.shop.source_not_null_shop_raw_orders_id.d669ceeac9", SL_TEST_PASS, 0,
	       NULL);
	/* the singular test, at severity warn from its folder's config */
	expect(&pr, wh, "test.shop.assert_no_big_orders", SL_TEST_WARN, 2,
	       "Got 2 results, configured to warn if != 0");

	/* store_failures: the audit table holds every failing row; the sample */
	sl_test_result r;
	run_one(&pr, wh, "test.shop.unique_orders_order_id.fed79b3a6e", &r);
	assert_int_equal(r.status, SL_TEST_FAIL);
	assert_int_equal(r.failures, 1);
	assert_string_equal(r.stored_in, "\"main_dbt_test__audit\".\"unique_orders_order_id\"");
	assert_string_equal(r.sample_json, "[{\"unique_field\":\"12\",\"n_records\":\"2\"}]");
	assert_string_equal(r.compiled_sql, "select\n    order_id as unique_field,\n"
					    "    count(*) as n_records\n"
					    "from \"main\".\"orders\"\nwhere order_id is not null\n"
					    "group by order_id\nhaving count(*) > 1");
	sl_test_result_free(&r);
	char *v = NULL;
	assert_int_equal(sl_wh_query_value(wh, "select count(*) || ':' || max(unique_field) from "
					   "\"main_dbt_test__audit\".\"unique_orders_order_id\"",
					   &v, &err), 0);
	assert_string_equal(v, "1:12");
	sl_free(v);
	assert_true(exists("target/compiled/shop/models/schema.yml/unique_orders_order_id.sql"));
	assert_true(exists("target/run/shop/models/schema.yml/unique_orders_order_id.sql"));
	assert_true(exists("target/compiled/shop/tests/marts/assert_no_big_orders.sql"));

	/* the sample of a not_null failure, with NULL as null */
	run_one(&pr, wh, "test.shop.not_null_customers_name.1b78bf32b9", &r);
	assert_string_equal(r.sample_json, "[{\"name\":null}]");
	sl_test_result_free(&r);

	/* freshness: 3 hours old is past warn_after 1 hour */
	sl_freshness_result fr;
	assert_int_equal(sl_models_freshness(pr.m, 0, wh, &fr, &err), 0);
	assert_int_equal(fr.status, SL_FRESH_WARN);
	assert_true(fr.age_seconds > 3 * 3600 - 5 && fr.age_seconds < 3 * 3600 + 60);
	assert_non_null(strstr(fr.message, "source shop.raw_orders was last loaded 3.0 hours ago"));
	assert_non_null(strstr(fr.message, "older than warn_after 1 hour"));
	assert_true(fr.max_loaded_at > 0 && fr.snapshotted_at > fr.max_loaded_at);
	sl_freshness_result_free(&fr);
	assert_int_equal(sl_wh_exec(wh, "create table main.raw_items (id integer, loaded_at text);"
				    "insert into main.raw_items values (1, '2001-01-01 00:00:00')",
				    &err), 0);
	/* freshness: null: measured (loaded_at_field kept), never judged late */
	assert_int_equal(sl_models_freshness(pr.m, 1, wh, &fr, &err), 0);
	assert_int_equal(fr.status, SL_FRESH_PASS);
	assert_true(fr.age_seconds > 20 * 365 * 86400.0);
	sl_freshness_result_free(&fr);
	/* a table with no rows */
	assert_int_equal(sl_wh_exec(wh, "create table main.raw_old (id integer, loaded_at text)",
				    &err), 0);
	assert_true(sl_models_freshness(pr.m, 2, wh, &fr, &err) < 0);
	assert_int_equal(fr.status, SL_FRESH_RUNTIME_ERROR);
	assert_string_equal(fr.message, "source shop.raw_old has no rows: max(loaded_at) is null, "
					"so its freshness cannot be measured");
	sl_freshness_result_free(&fr);
	sl_error_clear(&err);
	/* and with rows */
	assert_int_equal(sl_wh_exec(wh, "insert into main.raw_old values (1, "
				    "strftime('%Y-%m-%d %H:%M:%S',"
				    " 'now', '-3 hours'))", &err), 0);
	assert_int_equal(sl_models_freshness(pr.m, 2, wh, &fr, &err), 0);
	assert_int_equal(fr.status, SL_FRESH_WARN);
	sl_freshness_result_free(&fr);
	sl_wh_close(wh);
	close_proj(&pr);
}

/* A severity of warn never fails; warn_if/error_if are SQL conditions. */
static void test_thresholds(void **state)
{
	(void)state;
	base_project();
	write_file("models/schema.yml",
	    "version: 2\nmodels:\n  - name: orders\n"
	    "    tests:\n      - same_count:\n          compare_model: \"{{ ref('customers') }}\"\n"
	    "    columns:\n      - name: status\n"
	    "        data_tests:\n"
	    "          - accepted_values:\n"
	    "              values: [placed]\n"
	    "              config: {error_if: '>2', warn_if: '>1'}\n"
	    "          - accepted_values:\n"
	    "              name: av_error_soon\n"
	    "              values: [placed]\n"
	    "              config: {error_if: '>=3'}\n"
	    "          - accepted_values:\n"
	    "              name: av_warn_only\n"
	    "              values: [placed]\n"
	    "              severity: warn\n"
	    "              quote: true\n"
	    "          - not_null: {config: {enabled: false}}\n"
	    "      - name: order_id\n"
	    "        data_tests:\n"
	    "          - utils.at_most: {value: 11}\n"
	    "      - name: nope\n"
	    "        data_tests: [not_null]\n"
	    "      - name: Status\n"
	    "        quote: true\n"
	    "        data_tests: [not_null]\n");
	/* a package's test, called by its namespace */
	write_file("dbt_packages/utils/dbt_project.yml", "name: utils\n");
	write_file("dbt_packages/utils/macros/tests.sql",
	    "{% test at_most(model, column_name, value) %}\nselect * from {{ model }} "
	    "where {{ column_name }} > {{ value }}\n{% endtest %}\n");
	proj pr;
	open_ok(&pr);
	sl_wh *wh = open_wh(&pr);
	sl_error err = SL_ERROR_INIT;
	for (int i = 0; i < 2; i++)
		if (sl_models_build(pr.m, i, wh, NULL, NULL, &err) < 0)
			fail_msg("%s", err.message);
	/* a {{ ref() }} argument: rendered, and a dependency */
	const sl_node *sc = node(&pr, "test.shop.same_count_orders__ref_customers_.e33653ce7a");
	assert_true(sc->ndepends_on == 2);
	expect(&pr, wh, "test.shop.same_count_orders__ref_customers_.e33653ce7a", SL_TEST_FAIL, 1,
	       "Got 1 result, configured to fail if != 0");
	/* 3 failing values (lost, shipped, returned) */
	expect(&pr, wh, "test.shop.accepted_values_orders_status__placed.1af6cfe82e", SL_TEST_FAIL,
	       3, "Got 3 results, configured to fail if >2");
	expect(&pr, wh, "test.shop.av_error_soon.61d820164a", SL_TEST_FAIL, 3,
	       "Got 3 results, configured to fail if >=3");
	expect(&pr, wh, "test.shop.av_warn_only.4119961a30", SL_TEST_WARN, 3,
	       "Got 3 results, configured to warn if != 0");
	/* SQL that cannot run: an error, with the SQL that was tried */
	sl_test_result r;
	int ni = sl_models_find(pr.m, "test.shop.not_null_orders_nope.fe8c8e497c");
	assert_true(sl_models_test(pr.m, ni, wh, NULL, &r, &err) < 0);
	assert_int_equal(r.status, SL_TEST_ERROR);
	assert_int_equal(r.failures, -1);
	assert_non_null(strstr(r.compiled_sql, "where nope is null"));
	assert_non_null(strstr(r.message, "nope"));
	sl_test_result_free(&r);
	sl_error_clear(&err);
	/* a quoted column is quoted in the test's name and SQL, as in dbt */
	const sl_node *qc = node(&pr, "test.shop.not_null_orders__Status_.df3238822a");
	assert_string_equal(qc->test->column_name, "\"Status\"");
	expect(&pr, wh, "test.shop.not_null_orders__Status_.df3238822a", SL_TEST_PASS, 0, NULL);
	/* disabled in its config: no node */
	assert_int_equal(sl_models_find(pr.m, "test.shop.not_null_orders_status.8a27272c0a"), -1);
	const sl_node *pk = node(&pr, "test.shop.utils_at_most_orders_order_id__11.f38e575af6");
	assert_string_equal(pk->test->test_name, "utils.at_most");
	assert_string_equal(pk->test->test_namespace, "utils");
	expect(&pr, wh, "test.shop.utils_at_most_orders_order_id__11.f38e575af6", SL_TEST_FAIL, 2,
	       "Got 2 results, configured to fail if != 0");
	sl_wh_close(wh);
	close_proj(&pr);
}

/* limit: the failing-row sample holds the rows the limited test query
 * returns (at most min(limit, 10)); store_failures_as: view keeps a view
 * (SQLite builds it as a table: its view cannot read another schema),
 * ephemeral stores nothing. */
static void test_limit_sample_and_store_as(void **state)
{
	(void)state;
	base_project();
	write_file("models/schema.yml",
	    "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: status\n"
	    "        data_tests:\n"
	    "          - accepted_values:\n"
	    "              name: av_limited\n"
	    "              values: [placed]\n"
	    "              config: {limit: 2}\n"
	    "          - accepted_values:\n"
	    "              name: av_as_view\n"
	    "              values: [placed]\n"
	    "              config: {store_failures_as: view}\n"
	    "          - accepted_values:\n"
	    "              name: av_ephemeral\n"
	    "              values: [placed]\n"
	    "              config: {store_failures: true, store_failures_as: ephemeral}\n");
	proj pr;
	open_ok(&pr);
	sl_wh *wh = open_wh(&pr);
	sl_error err = SL_ERROR_INIT;
	for (int i = 0; i < 2; i++)
		if (sl_models_build(pr.m, i, wh, NULL, NULL, &err) < 0)
			fail_msg("%s", err.message);
	/* orders' statuses: placed, lost, shipped, returned: 3 fail */
	sl_test_result r;
	run_one(&pr, wh, id_of(&pr, "av_limited"), &r);
	assert_int_equal(r.status, SL_TEST_FAIL);
	assert_int_equal(r.failures, 2);
	assert_int_equal(sample_rows(r.sample_json), 2);
	sl_test_result_free(&r);
	run_one(&pr, wh, id_of(&pr, "av_as_view"), &r);
	assert_int_equal(r.failures, 3);
	assert_int_equal(sample_rows(r.sample_json), 3);
	assert_string_equal(r.stored_in, "\"main_dbt_test__audit\".\"av_as_view\"");
	sl_test_result_free(&r);
	char *v = NULL;
	assert_int_equal(sl_wh_query_value(wh, "select count(*) from "
					   "\"main_dbt_test__audit\".\"av_as_view\"", &v, &err), 0);
	assert_string_equal(v, "3");
	sl_free(v);
	run_one(&pr, wh, id_of(&pr, "av_ephemeral"), &r);
	assert_int_equal(r.failures, 3);
	assert_null(r.stored_in);
	sl_test_result_free(&r);
	assert_true(sl_wh_query_value(wh, "select count(*) from "
				      "\"main_dbt_test__audit\".\"av_ephemeral\"", &v, &err) < 0);
	sl_error_clear(&err);
	sl_wh_close(wh);
	close_proj(&pr);
}

/* A sluice project's extracted tables (extra_sources) documented and
 * tested from properties YAML: the entry augments the table, its schema
 * and identifier stay the sluice table's; sluice.yml's freshness: and
 * loaded_at_field: reach the models' source. */
static int open_with_extra(proj *pr, sl_error *err)
{
	static const sl_model_source extra[] = {
		{.source = "lake", .table = "orders", .schema = "raw", .identifier = "lake__orders",
		 .loaded_at_field = "_loaded_at",
		 .freshness = {.set = true, .warn_after = {1, "hour", 3600}}},
		{.source = "lake", .table = "customers", .schema = "raw",
		 .identifier = "lake__customers"},
	};
	memset(pr, 0, sizeof *pr);
	int rc = sl_project_open(&pr->p, tmp, NULL, NULL, err);
	if (rc < 0)
		return rc;
	sl_models_opts o = {0};
	o.project_dir = tmp;
	o.project = pr->p;
	o.target = sl_project_target(pr->p, NULL);
	o.invocation_id = "inv-1";
	o.run_started_at = "2024-05-01T10:00:00Z";
	o.extra_sources = extra;
	o.nextra_sources = 2;
	return sl_models_open(&pr->m, &o, err);
}

static const sl_model_source *source_named(proj *pr, const char *s, const char *t)
{
	for (int i = 0; i < sl_models_source_count(pr->m); i++) {
		const sl_model_source *ms = sl_models_source_at(pr->m, i);
		if (strcmp(ms->source, s) == 0 && strcmp(ms->table, t) == 0)
			return ms;
	}
	fail_msg("no source %s.%s", s, t);
	return NULL;
}

static void test_sluice_tables_in_properties(void **state)
{
	(void)state;
	base_project();
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    tables:\n      - name: orders\n"
	    "        description: Orders as extracted\n        meta: {owner: ops}\n"
	    "        tags: [raw]\n        columns:\n          - name: id\n"
	    "            description: The key\n            data_tests: [unique, not_null]\n");
	write_file("tests/marts/assert_no_big_orders.sql", "select 1 as x where 1 = 0");
	proj pr;
	sl_error err = SL_ERROR_INIT;
	if (open_with_extra(&pr, &err) < 0)
		fail_msg("open failed: %s", err.message);
	const sl_model_source *o = source_named(&pr, "lake", "orders");
	assert_string_equal(o->schema, "raw");
	assert_string_equal(o->identifier, "lake__orders");
	assert_string_equal(o->unique_id, "source.shop.lake.orders");
	assert_string_equal(o->description, "Orders as extracted");
	assert_string_equal(o->meta_json, "{\"owner\":\"ops\"}");
	assert_int_equal(o->ntags, 1);
	assert_int_equal(o->ncolumns, 1);
	assert_string_equal(o->columns[0].description, "The key");
	/* sluice.yml's freshness and loaded_at_field, kept */
	assert_string_equal(o->loaded_at_field, "_loaded_at");
	assert_true(o->freshness.set);
	assert_int_equal(o->freshness.warn_after.seconds, 3600);
	const sl_model_source *c = source_named(&pr, "lake", "customers");
	assert_null(c->loaded_at_field);
	assert_false(c->freshness.set);
	/* the tests, on the sluice table */
	const sl_node *u = node(&pr, id_of(&pr, "source_unique_lake_orders_id"));
	assert_string_equal(u->test->attached_node, "source.shop.lake.orders");
	assert_string_equal(u->path, "models/schema.yml");
	node(&pr, id_of(&pr, "source_not_null_lake_orders_id"));
	close_proj(&pr);

	/* the properties' loaded_at_field and freshness over sluice.yml's */
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    loaded_at_field: updated_at\n"
	    "    freshness: {error_after: {count: 2, period: day}}\n"
	    "    tables:\n      - name: orders\n        schema: raw\n"
	    "        identifier: lake__orders\n");
	if (open_with_extra(&pr, &err) < 0)
		fail_msg("open failed: %s", err.message);
	o = source_named(&pr, "lake", "orders");
	assert_string_equal(o->loaded_at_field, "updated_at");
	assert_int_equal(o->freshness.warn_after.seconds, 0);
	assert_int_equal(o->freshness.error_after.seconds, 2 * 86400);
	close_proj(&pr);

	/* a schema (or identifier) other than the sluice table's */
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    schema: staging\n    tables:\n"
	    "      - name: orders\n");
	assert_int_equal(open_with_extra(&pr, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "models/schema.yml:6: source lake.orders is a table of the sluice "
			    "project, in schema \"raw\"; its schema cannot be \"staging\" (remove "
			    "schema: or write schema: raw)");
	sl_error_clear(&err);
	sl_project_free(pr.p);
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    tables:\n"
	    "      - name: orders\n        identifier: orders_v2\n");
	assert_int_equal(open_with_extra(&pr, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "models/schema.yml:5: source lake.orders is a table of "
				     "the sluice project, in identifier \"lake__orders\"; its "
				     "identifier cannot be \"orders_v2\""));
	sl_error_clear(&err);
	sl_project_free(pr.p);
	/* a table the sluice source does not have */
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    tables:\n      - name: refunds\n");
	assert_int_equal(open_with_extra(&pr, &err), SL_ECONFIG);
	assert_string_equal(err.message, "models/schema.yml:5: source lake of the sluice project has "
					 "no table refunds; its tables: orders, customers");
	sl_error_clear(&err);
	sl_project_free(pr.p);
	/* documented twice */
	write_file("models/schema.yml",
	    "version: 2\nsources:\n  - name: lake\n    tables:\n      - name: orders\n");
	write_file("models/more.yml",
	    "version: 2\nsources:\n  - name: lake\n    tables:\n      - name: orders\n");
	assert_int_equal(open_with_extra(&pr, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "source lake.orders is declared twice (also in "
				     "models/"));
	sl_error_clear(&err);
	sl_project_free(pr.p);
}

/* The same tests, store_failures and freshness on PostgreSQL (when
 * SL_TEST_PG names a server, as tests/run.sh exports it). */
static void test_run_against_postgres(void **state)
{
	(void)state;
	const char *pgenv = getenv("SL_TEST_PG");
	if (!pgenv || !*pgenv || strcmp(pgenv, "skip") == 0) {
		print_message("SL_TEST_PG unset: the PostgreSQL case is skipped\n");
		return;
	}
	char host[256] = "", port[16] = "5432", user[64] = "postgres", db[64] = "postgres";
	for (const char *p = pgenv; p && *p;) {
		char k[16], v[256];
		if (sscanf(p, "%15[^=]=%255s", k, v) != 2)
			break;
		if (strcmp(k, "host") == 0)
			snprintf(host, sizeof host, "%s", v);
		else if (strcmp(k, "port") == 0)
			snprintf(port, sizeof port, "%s", v);
		else if (strcmp(k, "user") == 0)
			snprintf(user, sizeof user, "%s", v);
		else if (strcmp(k, "dbname") == 0)
			snprintf(db, sizeof db, "%s", v);
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	char schema[64], prof[1024], audit[80];
	snprintf(schema, sizeof schema, "sl_mt_%d", (int)getpid());
	snprintf(audit, sizeof audit, "%s_dbt_test__audit", schema);
	base_project();
	snprintf(prof, sizeof prof, "shop:\n  target: pg\n  outputs:\n    pg: {type: postgres, "
		 "host: '%s', port: %s, user: %s, dbname: %s, schema: %s}\n", host, port, user, db,
		 schema);
	write_file("profiles.yml", prof);
	/* the source lives in the target schema */
	char props[4096];
	snprintf(props, sizeof props,
		 "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: order_id\n"
		 "        data_tests:\n          - unique: {config: {store_failures: true}}\n"
		 "      - name: customer_id\n        data_tests:\n          - not_null\n"
		 "          - relationships: {to: ref('customers'), field: id}\n"
		 "      - name: status\n        data_tests:\n"
		 "          - accepted_values: {values: [placed, shipped, returned, lost]}\n"
		 "          - accepted_values: {name: av_view, values: [placed],\n"
		 "              config: {store_failures_as: view}}\n"
		 "sources:\n  - name: shop\n    schema: %s\n    loaded_at_field: loaded_at\n"
		 "    freshness: {error_after: {count: 2, period: hour}}\n"
		 "    tables:\n      - name: raw_orders\n      - name: raw_naive\n", schema);
	write_file("models/schema.yml", props);
	proj pr;
	open_ok(&pr);
	sl_wh_config c = SL_WH_CONFIG_INIT;
	c.type = "postgres";
	c.conninfo = pgenv;
	c.schema = schema;
	sl_wh *wh = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_open(&wh, &c, &err) < 0)
		fail_msg("%s", err.message);
	for (int i = 0; i < 2; i++)
		if (sl_models_build(pr.m, i, wh, NULL, NULL, &err) < 0)
			fail_msg("%s", err.message);
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "create table \"%s\".raw_orders (id int, loaded_at timestamptz);"
		 "insert into \"%s\".raw_orders values (1, now() - interval '3 hours');"
		 "create table \"%s\".raw_naive (id int, loaded_at timestamp);"
		 "insert into \"%s\".raw_naive values (1, (now() at time zone 'utc') - "
		 "interval '30 minutes')", schema, schema, schema, schema);
	if (sl_wh_exec(wh, sql, &err) < 0)
		fail_msg("%s", err.message);
	expect(&pr, wh, "test.shop.not_null_orders_customer_id.c5f02694af", SL_TEST_FAIL, 1,
	       "Got 1 result, configured to fail if != 0");
	expect(&pr, wh, "test.shop.relationships_orders_customer_id__id__ref_customers_.4282b0c525",
	       SL_TEST_FAIL, 1, "Got 1 result, configured to fail if != 0");
	expect(&pr, wh, "test.shop.accepted_values_orders_status__placed__shipped__returned__lost"
			".56332f5d6c", SL_TEST_PASS, 0, NULL);
	sl_test_result r;
	run_one(&pr, wh, "test.shop.unique_orders_order_id.fed79b3a6e", &r);
	assert_int_equal(r.status, SL_TEST_FAIL);
	char want[200];
	snprintf(want, sizeof want, "\"%s\".\"unique_orders_order_id\"", audit);
	assert_string_equal(r.stored_in, want);
	assert_string_equal(r.sample_json, "[{\"unique_field\":\"12\",\"n_records\":\"2\"}]");
	sl_test_result_free(&r);
	char *v = NULL;
	snprintf(sql, sizeof sql, "select count(*) from \"%s\".\"unique_orders_order_id\"", audit);
	assert_int_equal(sl_wh_query_value(wh, sql, &v, &err), 0);
	assert_string_equal(v, "1");
	sl_free(v);
	/* store_failures_as: view keeps a view of the failing rows */
	run_one(&pr, wh, id_of(&pr, "av_view"), &r);
	assert_int_equal(r.failures, 3);
	sl_test_result_free(&r);
	snprintf(sql, sizeof sql, "select table_type || ':' || (select count(*) from \"%s\".av_view) "
		 "from information_schema.tables where table_schema = '%s' and "
		 "table_name = 'av_view'", audit, audit);
	assert_int_equal(sl_wh_query_value(wh, sql, &v, &err), 0);
	assert_string_equal(v, "VIEW:3");
	sl_free(v);
	/* timestamptz: 3 hours is past error_after 2 hours; timestamp as UTC */
	sl_freshness_result fr;
	assert_int_equal(sl_models_freshness(pr.m, 0, wh, &fr, &err), 0);
	assert_int_equal(fr.status, SL_FRESH_ERROR);
	assert_true(fabs(fr.age_seconds - 3 * 3600) < 60);
	assert_non_null(strstr(fr.message, "older than error_after 2 hours"));
	sl_freshness_result_free(&fr);
	assert_int_equal(sl_models_freshness(pr.m, 1, wh, &fr, &err), 0);
	assert_int_equal(fr.status, SL_FRESH_PASS);
	assert_true(fabs(fr.age_seconds - 1800) < 60);
	assert_null(fr.message);
	sl_freshness_result_free(&fr);
	snprintf(sql, sizeof sql, "drop schema \"%s\" cascade; drop schema \"%s\" cascade", schema,
		 audit);
	assert_int_equal(sl_wh_exec(wh, sql, &err), 0);
	sl_wh_close(wh);
	close_proj(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_ids_and_configs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jaffle_shop_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docs_metadata_and_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_descriptions, setup, teardown),
		cmocka_unit_test(test_freshness_judge),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_against_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_sample_and_store_as, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sluice_tables_in_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_against_postgres, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
