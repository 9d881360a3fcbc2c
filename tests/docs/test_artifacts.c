/* test_artifacts.c: dbt's artifacts as sluice writes them — manifest.json
 * of a small dbt project (unique_ids, configs, docs, test_metadata,
 * sources, macros, parent_map and child_map), run_results.json and
 * sources.json from results, and docs generate's catalog.json and
 * column_lineage.json from a real SQLite warehouse the project was built
 * in. Projects are written into a fresh folder per test. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docs/docs.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

#include "../lib/unit_tmp.h"

typedef struct proj {
	sl_project *p;
	sl_models *m;
	char target_dir[300];
} proj;

/* The fixture: a seed, a staging view, a mart table, a snapshot, generic
 * and singular tests, a source with freshness, a custom generic test, a
 * macro and a docs block. */
static void shop_project(void)
{
	write_file("dbt_project.yml", "name: shop\nprofile: shop\n"
			       "models:\n  shop:\n    +materialized: view\n    marts:\n"
			       "      +materialized: table\n      +tags: ['nightly']\n");
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
			    "    dev: {type: sqlite, schema: main, path: warehouse.db, threads: 1}\n");
	write_file("seeds/raw_orders.csv", "id,customer_id,amount,status\n1,10,5.5,placed\n"
				    "2,11,7,shipped\n3,10,1,placed\n");
	write_file("models/staging/stg_orders.sql",
	    "select id as order_id, customer_id, amount, status from {{ ref('raw_orders') }}");
	write_file("models/staging/stg_customers.sql",
	    "select id, name from {{ source('crm', 'customers') }}");
	write_file("models/marts/customer_totals.sql",
	    "select o.customer_id, c.name, sum(o.amount) as total, count(*) as orders\n"
	    "from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c\n"
	    "  on c.id = o.customer_id\ngroup by o.customer_id, c.name");
	write_file("models/docs.md", "{% docs order_status %}One of placed or shipped.{% enddocs %}\n");
	write_file("models/schema.yml",
	    "version: 2\n"
	    "sources:\n"
	    "  - name: crm\n    schema: main\n    description: The CRM.\n    loader: seeds\n"
	    "    freshness: {warn_after: {count: 2, period: hour}, error_after: {count: 1, "
	    "period: day}}\n    loaded_at_field: loaded_at\n"
	    "    tables:\n      - name: customers\n        identifier: raw_customers\n"
	    "        description: Customers.\n"
	    "        columns:\n          - name: id\n            tests: [unique]\n"
	    "models:\n"
	    "  - name: stg_orders\n    description: Orders, renamed.\n"
	    "    meta: {owner: shop-team}\n"
	    "    columns:\n"
	    "      - name: order_id\n        description: The id.\n        tests: [not_null, unique]\n"
	    "      - name: status\n        description: \"{{ doc('order_status') }}\"\n"
	    "        tests:\n          - accepted_values:\n              values: ['placed', "
	    "'shipped']\n              config: {severity: warn}\n"
	    "      - name: customer_id\n        tests:\n          - relationships:\n"
	    "              to: ref('stg_customers')\n              field: id\n"
	    "  - name: customer_totals\n    columns:\n      - name: total\n        tests: [is_positive]\n");
	write_file("macros/is_positive.sql",
	    "{% test is_positive(model, column_name) %}\nselect * from {{ model }} where "
	    "{{ column_name }} < 0\n{% endtest %}\n\n{% macro cents(x) %}({{ x }} * 100){% endmacro %}\n");
	write_file("tests/assert_no_negative.sql", "select * from {{ ref('stg_orders') }} where amount < 0");
	write_file("snapshots/orders_snap.sql",
	    "{% snapshot orders_snap %}{{ config(target_schema='main', unique_key='order_id', "
	    "strategy='check', check_cols=['status']) }}select * from {{ ref('stg_orders') }}"
	    "{% endsnapshot %}");
}

static void open_proj(proj *pr)
{
	sl_error err = SL_ERROR_INIT;
	memset(pr, 0, sizeof *pr);
	if (sl_project_open(&pr->p, tmp, NULL, NULL, &err) < 0)
		fail_msg("%s", err.message);
	sl_models_opts o = {0};
	o.project_dir = tmp;
	o.project = pr->p;
	o.target = sl_project_target(pr->p, NULL);
	o.invocation_id = "inv-1";
	o.run_started_at = "2024-05-01T10:00:00Z";
	if (sl_models_open(&pr->m, &o, &err) < 0)
		fail_msg("%s", err.message);
	snprintf(pr->target_dir, sizeof pr->target_dir, "%s/target", tmp);
}

static void close_proj(proj *pr)
{
	sl_models_free(pr->m);
	sl_project_free(pr->p);
}

static json_t *load(const proj *pr, const char *name)
{
	char path[400];
	json_error_t je;
	snprintf(path, sizeof path, "%s/%s", pr->target_dir, name);
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

static const sl_docs_invocation inv = {
	.invocation_id = "0b7c3f1e-1111-4222-8333-444455556666",
	.command = "build",
	.target = "dev",
	.adapter_type = "sqlite",
	.generated_at = INT64_C(1714557600000000), /* 2024-05-01T10:00:00Z */
};

/* The string at a path of keys ("nodes", "model.shop.x", "name", NULL). */
static const char *str_at(json_t *j, ...)
{
	va_list ap;
	va_start(ap, j);
	const char *k;
	while (j && (k = va_arg(ap, const char *)))
		j = json_object_get(j, k);
	va_end(ap);
	return json_string_value(j);
}

/* The strings of an array, joined by spaces. */
static void joined(json_t *arr, char *out, size_t n)
{
	size_t i, o = 0;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? " " : "", json_string_value(v));
		if (o >= n)
			break;
	}
}

/* The unique_id of the test node named name (its hash differs by project). */
static const char *test_id(json_t *nodes, const char *name)
{
	const char *id;
	json_t *v;
	json_object_foreach(nodes, id, v) {
		const char *nm = json_string_value(json_object_get(v, "name"));
		if (nm && strcmp(nm, name) == 0 && sl_str_starts_with(id, "test."))
			return id;
	}
	fail_msg("no test named %s", name);
	return NULL;
}

static void test_manifest_nodes_sources_macros_and_maps(void **state)
{
	(void)state;
	shop_project();
	proj pr;
	open_proj(&pr);
	sl_error err = SL_ERROR_INIT;
	if (sl_docs_write_manifest(pr.m, &inv, pr.target_dir, &err) < 0)
		fail_msg("%s", err.message);
	json_t *m = load(&pr, "manifest.json");
	char buf[2048];

	/* metadata */
	assert_string_equal(str_at(m, "metadata", "dbt_schema_version", NULL),
			    "https://schemas.getdbt.com/dbt/manifest/v12.json");
	assert_string_equal(str_at(m, "metadata", "dbt_version", NULL), "0.1.0");
	assert_string_equal(str_at(m, "metadata", "generated_at", NULL),
			    "2024-05-01T10:00:00.000000Z");
	assert_string_equal(str_at(m, "metadata", "invocation_id", NULL), inv.invocation_id);
	assert_string_equal(str_at(m, "metadata", "project_name", NULL), "shop");
	assert_string_equal(str_at(m, "metadata", "adapter_type", NULL), "sqlite");
	static const char *const empty[] = {"exposures", "metrics", "groups", "selectors",
					    "disabled", "semantic_models", "saved_queries",
					    "unit_tests"};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		json_t *e = json_object_get(m, empty[i]);
		assert_true(json_is_object(e));
		assert_int_equal(json_object_size(e), 0);
	}

	/* a model: ids, paths, fqn, config, docs, depends_on, refs */
	json_t *nodes = json_object_get(m, "nodes");
	json_t *so = json_object_get(nodes, "model.shop.stg_orders");
	assert_non_null(so);
	assert_string_equal(str_at(so, "resource_type", NULL), "model");
	assert_string_equal(str_at(so, "package_name", NULL), "shop");
	assert_string_equal(str_at(so, "path", NULL), "staging/stg_orders.sql");
	assert_string_equal(str_at(so, "original_file_path", NULL), "models/staging/stg_orders.sql");
	joined(json_object_get(so, "fqn"), buf, sizeof buf);
	assert_string_equal(buf, "shop staging stg_orders");
	assert_string_equal(str_at(so, "alias", NULL), "stg_orders");
	assert_string_equal(str_at(so, "schema", NULL), "main");
	assert_string_equal(str_at(so, "relation_name", NULL), "\"main\".\"stg_orders\"");
	assert_string_equal(str_at(so, "checksum", "name", NULL), "sha256");
	assert_int_equal(strlen(str_at(so, "checksum", "checksum", NULL)), 64);
	assert_string_equal(str_at(so, "config", "materialized", NULL), "view");
	assert_true(json_is_true(json_object_get(json_object_get(so, "config"), "enabled")));
	assert_string_equal(str_at(so, "description", NULL), "Orders, renamed.");
	assert_string_equal(str_at(so, "meta", "owner", NULL), "shop-team");
	assert_string_equal(str_at(so, "columns", "order_id", "description", NULL), "The id.");
	assert_string_equal(str_at(so, "columns", "status", "description", NULL),
			    "One of placed or shipped.");
	assert_string_equal(str_at(so, "patch_path", NULL), "shop://models/schema.yml");
	assert_string_equal(str_at(so, "language", NULL), "sql");
	assert_non_null(strstr(str_at(so, "raw_code", NULL), "{{ ref('raw_orders') }}"));
	assert_true(json_is_false(json_object_get(so, "compiled")));
	joined(json_object_get(json_object_get(so, "depends_on"), "nodes"), buf, sizeof buf);
	assert_string_equal(buf, "seed.shop.raw_orders");
	assert_string_equal(str_at(json_array_get(json_object_get(so, "refs"), 0), "name", NULL),
			    "raw_orders");
	json_t *ct = json_object_get(nodes, "model.shop.customer_totals");
	assert_string_equal(str_at(ct, "config", "materialized", NULL), "table");
	joined(json_object_get(ct, "tags"), buf, sizeof buf);
	assert_string_equal(buf, "nightly");
	joined(json_object_get(ct, "fqn"), buf, sizeof buf);
	assert_string_equal(buf, "shop marts customer_totals");
	json_t *sc = json_object_get(nodes, "model.shop.stg_customers");
	joined(json_object_get(json_object_get(sc, "depends_on"), "nodes"), buf, sizeof buf);
	assert_string_equal(buf, "source.shop.crm.customers");
	joined(json_array_get(json_object_get(sc, "sources"), 0), buf, sizeof buf);
	assert_string_equal(buf, "crm customers");
	assert_string_equal(str_at(nodes, "seed.shop.raw_orders", "resource_type", NULL), "seed");
	assert_string_equal(str_at(nodes, "snapshot.shop.orders_snap", "resource_type", NULL),
			    "snapshot");

	/* generic tests: dbt's ids, test_metadata, attached_node, configs */
	const char *nn = test_id(nodes, "not_null_stg_orders_order_id");
	assert_true(sl_str_starts_with(nn, "test.shop.not_null_stg_orders_order_id."));
	json_t *t = json_object_get(nodes, nn);
	assert_string_equal(str_at(t, "resource_type", NULL), "test");
	assert_string_equal(str_at(t, "test_metadata", "name", NULL), "not_null");
	assert_string_equal(str_at(t, "test_metadata", "kwargs", "column_name", NULL), "order_id");
	assert_string_equal(str_at(t, "test_metadata", "kwargs", "model", NULL),
			    "{{ get_where_subquery(ref('stg_orders')) }}");
	assert_true(json_is_null(json_object_get(json_object_get(t, "test_metadata"), "namespace")));
	assert_string_equal(str_at(t, "column_name", NULL), "order_id");
	assert_string_equal(str_at(t, "attached_node", NULL), "model.shop.stg_orders");
	assert_string_equal(str_at(t, "file_key_name", NULL), "models.stg_orders");
	assert_string_equal(str_at(t, "original_file_path", NULL), "models/schema.yml");
	assert_string_equal(str_at(t, "path", NULL), "not_null_stg_orders_order_id.sql");
	assert_string_equal(str_at(t, "config", "severity", NULL), "ERROR");
	assert_string_equal(str_at(t, "config", "materialized", NULL), "test");
	json_t *av = json_object_get(nodes, test_id(nodes, "accepted_values_stg_orders_status__placed__shipped"));
	assert_string_equal(str_at(av, "config", "severity", NULL), "warn");
	json_t *values = json_object_get(json_object_get(json_object_get(av, "test_metadata"), "kwargs"),
					 "values");
	joined(values, buf, sizeof buf);
	assert_string_equal(buf, "placed shipped");
	json_t *rel = json_object_get(nodes, test_id(nodes, "relationships_stg_orders_customer_id__id__ref_stg_customers_"));
	assert_string_equal(str_at(rel, "test_metadata", "kwargs", "to", NULL), "ref('stg_customers')");
	assert_string_equal(str_at(rel, "test_metadata", "kwargs", "field", NULL), "id");
	/* the parent map has its parents sorted */
	joined(json_object_get(json_object_get(m, "parent_map"), str_at(rel, "unique_id", NULL)), buf,
	       sizeof buf);
	assert_string_equal(buf, "model.shop.stg_customers model.shop.stg_orders");
	assert_int_equal(json_array_size(json_object_get(json_object_get(rel, "depends_on"), "nodes")),
			 2);
	json_t *src_t = json_object_get(nodes, test_id(nodes, "source_unique_crm_customers_id"));
	assert_string_equal(str_at(src_t, "attached_node", NULL), "source.shop.crm.customers");
	/* dbt names a source's properties entry by the source, not the table */
	assert_string_equal(str_at(src_t, "file_key_name", NULL), "sources.crm");
	assert_string_equal(str_at(src_t, "test_metadata", "kwargs", "model", NULL),
			    "{{ get_where_subquery(source('crm', 'customers')) }}");
	json_t *custom = json_object_get(nodes, test_id(nodes, "is_positive_customer_totals_total"));
	assert_string_equal(str_at(custom, "test_metadata", "name", NULL), "is_positive");
	/* a singular test: no hash, no test_metadata, no attached node */
	json_t *sg = json_object_get(nodes, "test.shop.assert_no_negative");
	assert_non_null(sg);
	assert_null(json_object_get(sg, "test_metadata"));
	assert_true(json_is_null(json_object_get(sg, "attached_node")));
	assert_true(json_is_null(json_object_get(sg, "file_key_name")));
	assert_string_equal(str_at(sg, "original_file_path", NULL), "tests/assert_no_negative.sql");

	/* sources */
	json_t *src = json_object_get(json_object_get(m, "sources"), "source.shop.crm.customers");
	assert_non_null(src);
	assert_string_equal(str_at(src, "source_name", NULL), "crm");
	assert_string_equal(str_at(src, "name", NULL), "customers");
	assert_string_equal(str_at(src, "identifier", NULL), "raw_customers");
	assert_string_equal(str_at(src, "schema", NULL), "main");
	assert_string_equal(str_at(src, "description", NULL), "Customers.");
	assert_string_equal(str_at(src, "source_description", NULL), "The CRM.");
	assert_string_equal(str_at(src, "loader", NULL), "seeds");
	assert_string_equal(str_at(src, "loaded_at_field", NULL), "loaded_at");
	assert_string_equal(str_at(src, "relation_name", NULL), "\"main\".\"raw_customers\"");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(src, "freshness"), "warn_after"), "count")),
			 2);
	assert_string_equal(str_at(src, "freshness", "error_after", "period", NULL), "day");
	joined(json_object_get(src, "fqn"), buf, sizeof buf);
	assert_string_equal(buf, "shop crm customers");

	/* macros and docs */
	json_t *mac = json_object_get(json_object_get(m, "macros"), "macro.shop.cents");
	assert_non_null(mac);
	assert_string_equal(str_at(mac, "path", NULL), "macros/is_positive.sql");
	assert_string_equal(str_at(mac, "macro_sql", NULL),
			    "{% macro cents(x) %}({{ x }} * 100){% endmacro %}");
	json_t *tm = json_object_get(json_object_get(m, "macros"), "macro.shop.test_is_positive");
	assert_non_null(strstr(str_at(tm, "macro_sql", NULL), "{% test is_positive(model, column_name) %}"));
	assert_string_equal(str_at(m, "docs", "doc.shop.order_status", "block_contents", NULL),
			    "One of placed or shipped.");

	/* parent_map and child_map: every node and source, sorted lists */
	json_t *pm = json_object_get(m, "parent_map"), *cm = json_object_get(m, "child_map");
	assert_int_equal(json_object_size(pm), json_object_size(nodes) + 1);
	assert_int_equal(json_object_size(cm), json_object_size(nodes) + 1);
	joined(json_object_get(pm, "model.shop.customer_totals"), buf, sizeof buf);
	assert_string_equal(buf, "model.shop.stg_customers model.shop.stg_orders");
	assert_int_equal(json_array_size(json_object_get(pm, "source.shop.crm.customers")), 0);
	joined(json_object_get(cm, "source.shop.crm.customers"), buf, sizeof buf);
	char want[512];
	snprintf(want, sizeof want, "model.shop.stg_customers %s",
		 test_id(nodes, "source_unique_crm_customers_id"));
	assert_string_equal(buf, want);
	json_t *kids = json_object_get(cm, "model.shop.stg_orders");
	/* customer_totals, the snapshot, the singular test and 4 generic tests */
	assert_int_equal(json_array_size(kids), 7);
	for (size_t i = 1; i < json_array_size(kids); i++)
		assert_true(strcmp(json_string_value(json_array_get(kids, i - 1)),
				   json_string_value(json_array_get(kids, i))) < 0);
	assert_string_equal(json_string_value(json_array_get(kids, 0)), "model.shop.customer_totals");
	json_decref(m);
	close_proj(&pr);
}

static void test_run_results_and_sources_json(void **state)
{
	(void)state;
	shop_project();
	proj pr;
	open_proj(&pr);
	json_t *mf = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_docs_write_manifest(pr.m, &inv, pr.target_dir, &err), 0);
	mf = load(&pr, "manifest.json");
	const char *nn = test_id(json_object_get(mf, "nodes"), "not_null_stg_orders_order_id");

	sl_node_run nodes[4];
	memset(nodes, 0, sizeof nodes);
	nodes[0] = (sl_node_run){.id = "model.shop.stg_orders", .name = "stg_orders",
				 .resource_type = "model", .materialized = "view",
				 .status = SL_TASK_SUCCESS, .rows = -1, .seconds = 0.25,
				 .test_status = -1, .failures = -1,
				 .compiled_sql = "select 1"};
	snprintf(nodes[0].build.message, sizeof nodes[0].build.message, "CREATE VIEW");
	nodes[1] = (sl_node_run){.id = "model.shop.customer_totals", .name = "customer_totals",
				 .resource_type = "model", .materialized = "table",
				 .status = SL_TASK_FAILED, .message = "no such column: x",
				 .rows = -1, .seconds = 0.5, .test_status = -1, .failures = -1};
	nodes[2] = (sl_node_run){.id = (char *)nn, .name = "not_null_stg_orders_order_id",
				 .resource_type = "test", .status = SL_TASK_SUCCESS,
				 .test_status = SL_TEST_FAIL, .failures = 3,
				 .message = "Got 3 results, configured to fail if != 0",
				 .compiled_sql = "select * from x where order_id is null",
				 .severity = "error", .seconds = 0.1};
	nodes[3] = (sl_node_run){.id = "snapshot.shop.orders_snap", .resource_type = "snapshot",
				 .status = SL_TASK_SKIPPED, .test_status = -1, .failures = -1,
				 .rows = -1};
	sl_run_result r;
	memset(&r, 0, sizeof r);
	r.nnodes = 4;
	r.nodes = nodes;
	r.seconds = 1.5;
	const char *args[] = {"build", "--target", "dev"};
	sl_docs_invocation in = inv;
	in.args = args;
	in.nargs = 3;
	if (sl_docs_write_run_results(pr.m, &r, &in, pr.target_dir, &err) < 0)
		fail_msg("%s", err.message);
	json_t *rr = load(&pr, "run_results.json");
	assert_string_equal(str_at(rr, "metadata", "dbt_schema_version", NULL),
			    "https://schemas.getdbt.com/dbt/run-results/v6.json");
	assert_true(json_real_value(json_object_get(rr, "elapsed_time")) == 1.5);
	assert_string_equal(str_at(rr, "args", "which", NULL), "build");
	assert_string_equal(str_at(rr, "args", "invocation_command", NULL),
			    "sluice build --target dev");
	json_t *res = json_object_get(rr, "results");
	assert_int_equal(json_array_size(res), 4);
	json_t *a = json_array_get(res, 0);
	assert_string_equal(str_at(a, "unique_id", NULL), "model.shop.stg_orders");
	assert_string_equal(str_at(a, "status", NULL), "success");
	assert_string_equal(str_at(a, "message", NULL), "CREATE VIEW");
	assert_string_equal(str_at(a, "adapter_response", "_message", NULL), "CREATE VIEW");
	assert_true(json_real_value(json_object_get(a, "execution_time")) == 0.25);
	assert_true(json_is_true(json_object_get(a, "compiled")));
	assert_string_equal(str_at(a, "compiled_code", NULL), "select 1");
	assert_string_equal(str_at(a, "relation_name", NULL), "\"main\".\"stg_orders\"");
	assert_true(json_is_null(json_object_get(a, "failures")));
	assert_true(json_is_array(json_object_get(a, "timing")));
	json_t *b = json_array_get(res, 1);
	assert_string_equal(str_at(b, "status", NULL), "error");
	assert_string_equal(str_at(b, "message", NULL), "no such column: x");
	json_t *c = json_array_get(res, 2);
	assert_string_equal(str_at(c, "status", NULL), "fail");
	assert_int_equal(json_integer_value(json_object_get(c, "failures")), 3);
	assert_string_equal(str_at(c, "message", NULL), "Got 3 results, configured to fail if != 0");
	assert_string_equal(str_at(c, "unique_id", NULL), nn);
	assert_true(json_is_null(json_object_get(c, "relation_name")));
	assert_string_equal(str_at(json_array_get(res, 3), "status", NULL), "skipped");
	json_decref(rr);

	/* sources.json */
	sl_freshness_run items[2];
	memset(items, 0, sizeof items);
	items[0] = (sl_freshness_run){.unique_id = "source.shop.crm.customers", .source = "crm",
				      .table = "customers", .status = SL_FRESH_WARN,
				      .max_loaded_at = INT64_C(1714550400000000),
				      .snapshotted_at = INT64_C(1714557600000000),
				      .age_seconds = 7200, .seconds = 0.01};
	items[0].criteria = (sl_freshness){.set = true,
					   .warn_after = {1, "hour", 3600},
					   .error_after = {1, "day", 86400}};
	items[1] = (sl_freshness_run){.unique_id = "source.shop.crm.orders",
				      .status = SL_FRESH_RUNTIME_ERROR,
				      .message = "no such table: raw_orders"};
	sl_freshness_report fr;
	memset(&fr, 0, sizeof fr);
	fr.n = 2;
	fr.items = items;
	fr.started_at = INT64_C(1714557600000000);
	fr.ended_at = fr.started_at + 250000;
	if (sl_docs_write_sources(&fr, &inv, pr.target_dir, &err) < 0)
		fail_msg("%s", err.message);
	json_t *sj = load(&pr, "sources.json");
	assert_string_equal(str_at(sj, "metadata", "dbt_schema_version", NULL),
			    "https://schemas.getdbt.com/dbt/sources/v3.json");
	assert_true(json_real_value(json_object_get(sj, "elapsed_time")) == 0.25);
	json_t *s0 = json_array_get(json_object_get(sj, "results"), 0);
	assert_string_equal(str_at(s0, "unique_id", NULL), "source.shop.crm.customers");
	assert_string_equal(str_at(s0, "status", NULL), "warn");
	assert_string_equal(str_at(s0, "max_loaded_at", NULL), "2024-05-01T08:00:00.000000Z");
	assert_string_equal(str_at(s0, "snapshotted_at", NULL), "2024-05-01T10:00:00.000000Z");
	assert_true(json_real_value(json_object_get(s0, "max_loaded_at_time_ago_in_s")) == 7200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(s0, "criteria"), "warn_after"), "count")),
			 1);
	assert_string_equal(str_at(s0, "criteria", "error_after", "period", NULL), "day");
	assert_true(json_is_null(json_object_get(json_object_get(s0, "criteria"), "filter")));
	json_t *s1 = json_array_get(json_object_get(sj, "results"), 1);
	assert_string_equal(str_at(s1, "status", NULL), "runtime error");
	assert_string_equal(str_at(s1, "error", NULL), "no such table: raw_orders");
	json_decref(sj);
	json_decref(mf);
	close_proj(&pr);
}

static void exec_ok(sl_wh *wh, const char *sql)
{
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_exec(wh, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static void test_generate_catalog_and_lineage_from_sqlite(void **state)
{
	(void)state;
	shop_project();
	proj pr;
	open_proj(&pr);
	sl_wh_config c = SL_WH_CONFIG_INIT;
	const sl_target *t = sl_project_target(pr.p, NULL);
	c.type = t->type;
	c.path = t->path_abs;
	c.schema = t->schema;
	sl_wh *wh = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_open(&wh, &c, &err) < 0)
		fail_msg("%s", err.message);
	exec_ok(wh, "CREATE TABLE \"main\".\"raw_customers\" (\"id\" INTEGER, \"name\" TEXT, "
		    "\"loaded_at\" TIMESTAMP); INSERT INTO \"main\".\"raw_customers\" VALUES "
		    "(10, 'ann', '2024-05-01'), (11, 'bob', '2024-05-01')");
	static const char *const order[] = {"seed.shop.raw_orders", "model.shop.stg_orders",
					    "model.shop.stg_customers",
					    "model.shop.customer_totals"};
	for (size_t i = 0; i < 4; i++) {
		sl_node_result res;
		if (sl_models_build(pr.m, sl_models_find(pr.m, order[i]), wh, NULL, &res, &err) < 0)
			fail_msg("%s: %s", order[i], err.message);
	}
	if (sl_docs_generate(pr.m, pr.p, wh, &inv, pr.target_dir, &err) < 0)
		fail_msg("%s", err.message);

	json_t *cat = load(&pr, "catalog.json");
	char buf[1024];
	assert_string_equal(str_at(cat, "metadata", "dbt_schema_version", NULL),
			    "https://schemas.getdbt.com/dbt/catalog/v1.json");
	assert_true(json_is_null(json_object_get(cat, "errors")));
	json_t *ct = json_object_get(json_object_get(cat, "nodes"), "model.shop.customer_totals");
	assert_non_null(ct);
	assert_string_equal(str_at(ct, "unique_id", NULL), "model.shop.customer_totals");
	assert_string_equal(str_at(ct, "metadata", "type", NULL), "table");
	assert_string_equal(str_at(ct, "metadata", "schema", NULL), "main");
	assert_string_equal(str_at(ct, "metadata", "name", NULL), "customer_totals");
	json_t *cols = json_object_get(ct, "columns");
	assert_int_equal(json_object_size(cols), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(cols, "total"), "index")), 3);
	assert_string_equal(str_at(cols, "name", "type", NULL), "TEXT");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(ct, "stats"), "row_count"), "value")),
			 2);
	json_t *view = json_object_get(json_object_get(cat, "nodes"), "model.shop.stg_orders");
	assert_string_equal(str_at(view, "metadata", "type", NULL), "view");
	assert_null(json_object_get(json_object_get(view, "stats"), "row_count"));
	assert_true(json_is_false(json_object_get(
		json_object_get(json_object_get(view, "stats"), "has_stats"), "value")));
	json_t *seed = json_object_get(json_object_get(cat, "nodes"), "seed.shop.raw_orders");
	assert_string_equal(str_at(seed, "columns", "amount", "type", NULL), "REAL");
	json_t *src = json_object_get(json_object_get(cat, "sources"), "source.shop.crm.customers");
	assert_non_null(src);
	assert_string_equal(str_at(src, "columns", "loaded_at", "type", NULL), "TIMESTAMP");
	/* the snapshot was not built: not in the catalog */
	assert_null(json_object_get(json_object_get(cat, "nodes"), "snapshot.shop.orders_snap"));
	json_decref(cat);

	json_t *mf = load(&pr, "manifest.json");
	json_t *so = json_object_get(json_object_get(mf, "nodes"), "model.shop.stg_orders");
	assert_true(json_is_true(json_object_get(so, "compiled")));
	assert_string_equal(str_at(so, "compiled_code", NULL),
			    "select id as order_id, customer_id, amount, status from "
			    "\"main\".\"raw_orders\"");
	json_decref(mf);

	json_t *lin = load(&pr, "column_lineage.json");
	assert_string_equal(str_at(lin, "metadata", "invocation_id", NULL), inv.invocation_id);
	json_t *tot = json_object_get(json_object_get(lin, "nodes"), "model.shop.customer_totals");
	assert_true(json_is_null(json_object_get(tot, "error")));
	json_t *lc = json_object_get(tot, "columns");
	assert_string_equal(str_at(lc, "total", "how", NULL), "aggregated");
	json_t *from = json_array_get(json_object_get(json_object_get(lc, "total"), "from"), 0);
	snprintf(buf, sizeof buf, "%s %s %s", str_at(from, "node", NULL),
		 str_at(from, "relation", NULL), str_at(from, "column", NULL));
	assert_string_equal(buf, "model.shop.stg_orders \"main\".\"stg_orders\" amount");
	assert_string_equal(str_at(lc, "name", "how", NULL), "direct");
	assert_string_equal(str_at(json_array_get(json_object_get(json_object_get(lc, "name"), "from"), 0),
				   "node", NULL),
			    "model.shop.stg_customers");
	json_t *stg = json_object_get(json_object_get(lin, "nodes"), "model.shop.stg_customers");
	assert_string_equal(str_at(json_array_get(json_object_get(json_object_get(
						  json_object_get(stg, "columns"), "id"), "from"), 0),
				   "node", NULL),
			    "source.shop.crm.customers");
	json_decref(lin);
	sl_wh_close(wh);

	/* No warehouse: the catalog is empty and says why; --no-compile
	 * leaves compiled code out and lineage untraced. */
	sl_docs_invocation nc = inv;
	nc.no_compile = true;
	if (sl_docs_generate(pr.m, pr.p, NULL, &nc, pr.target_dir, &err) < 0)
		fail_msg("%s", err.message);
	cat = load(&pr, "catalog.json");
	assert_int_equal(json_object_size(json_object_get(cat, "nodes")), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(cat, "errors"), 0)),
			    "the warehouse could not be reached");
	json_decref(cat);
	mf = load(&pr, "manifest.json");
	assert_true(json_is_false(json_object_get(
		json_object_get(json_object_get(mf, "nodes"), "model.shop.stg_orders"), "compiled")));
	json_decref(mf);
	lin = load(&pr, "column_lineage.json");
	assert_string_equal(str_at(lin, "nodes", "model.shop.stg_orders", "error", NULL),
			    "not compiled (--no-compile)");
	json_decref(lin);
	close_proj(&pr);
}

/* Allocation failures anywhere in the manifest's writing fail cleanly. */
/* dbt-postgres writes the profile's dbname as a node's database;
 * dbt-sqlite none. */
static void test_target_database(void **state)
{
	(void)state;
	char pg[] = "postgres", lite[] = "sqlite", db[] = "warehouse", empty[] = "";
	sl_target t = {.type = pg, .dbname = db};
	assert_string_equal(sl_docs_target_database(&t), "warehouse");
	t.dbname = empty;
	assert_null(sl_docs_target_database(&t));
	t.dbname = db;
	t.type = lite;
	assert_null(sl_docs_target_database(&t));
	assert_null(sl_docs_target_database(NULL));
}

static void test_manifest_allocation_failures_are_clean(void **state)
{
	(void)state;
	shop_project();
	proj pr;
	open_proj(&pr);
	int failed = 0;
	for (long n = 0; n < 400; n += 7) {
		sl_error err = SL_ERROR_INIT;
		sl_alloc_fail_after(n);
		int rc = sl_docs_write_manifest(pr.m, &inv, pr.target_dir, &err);
		sl_alloc_fail_after(-1);
		if (rc < 0) {
			assert_int_equal(rc, SL_ENOMEM);
			failed++;
		}
	}
	assert_true(failed > 0);
	close_proj(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manifest_nodes_sources_macros_and_maps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_results_and_sources_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_catalog_and_lineage_from_sqlite, setup,
						teardown),
		cmocka_unit_test(test_target_database),
		cmocka_unit_test_setup_teardown(test_manifest_allocation_failures_are_clean, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
