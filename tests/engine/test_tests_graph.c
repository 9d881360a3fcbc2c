/* test_tests_graph.c: data tests in the run's graph, built from fake
 * nodes — a test waits for every node and source it reads; in sluice
 * build's order (tests_gate) what is built from a tested node waits for
 * its tests; test_type: and test_name: selection; dbt's indirect
 * selection (eager, cautious, buildable, empty). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

#include "../lib/unit_tmp.h"

static const char *const stg_sources[] = {"shop.orders"};
static const char *const orders_deps[] = {"model.t.stg_orders", "seed.t.customers"};
static const char *const report_deps[] = {"model.t.orders"};
static const char *const nn_deps[] = {"model.t.stg_orders"};
static const char *const rel_deps[] = {"model.t.orders", "seed.t.customers"};
static const char *const sing_deps[] = {"model.t.orders"};

static const sl_node_test nn_test = {.type = SL_TEST_GENERIC, .test_name = "not_null",
				     .column_name = "id", .attached_node = "model.t.stg_orders"};
static const sl_node_test rel_test = {.type = SL_TEST_GENERIC, .test_name = "relationships",
				      .column_name = "customer_id",
				      .attached_node = "model.t.orders"};
static const sl_node_test sing_test = {.type = SL_TEST_SINGULAR};
static const sl_node_test src_test = {.type = SL_TEST_GENERIC, .test_name = "unique",
				      .column_name = "id",
				      .attached_node = "source.t.shop.orders",
				      .severity = SL_SEVERITY_WARN};

static const sl_node nodes[] = {
	{.type = SL_NODE_SEED, .unique_id = "seed.t.customers", .name = "customers",
	 .package = "t", .path = "seeds/customers.csv", .schema = "main", .alias = "customers",
	 .materialized = SL_MAT_SEED},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.stg_orders", .name = "stg_orders",
	 .package = "t", .path = "models/stg_orders.sql", .schema = "main", .alias = "stg_orders",
	 .materialized = SL_MAT_VIEW, .sources = stg_sources, .nsources = 1},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.orders", .name = "orders", .package = "t",
	 .path = "models/orders.sql", .schema = "main", .alias = "orders",
	 .materialized = SL_MAT_TABLE, .depends_on = orders_deps, .ndepends_on = 2},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.report", .name = "report", .package = "t",
	 .path = "models/report.sql", .schema = "main", .alias = "report",
	 .materialized = SL_MAT_VIEW, .depends_on = report_deps, .ndepends_on = 1},
	{.type = SL_NODE_TEST, .unique_id = "test.t.not_null_stg_orders_id.1a2b3c",
	 .name = "not_null_stg_orders_id", .package = "t", .path = "models/schema.yml",
	 .depends_on = nn_deps, .ndepends_on = 1, .test = &nn_test},
	{.type = SL_NODE_TEST, .unique_id = "test.t.relationships_orders_customer_id.4d5e6f",
	 .name = "relationships_orders_customer_id", .package = "t",
	 .path = "models/schema.yml", .depends_on = rel_deps, .ndepends_on = 2,
	 .test = &rel_test},
	{.type = SL_NODE_TEST, .unique_id = "test.t.assert_positive", .name = "assert_positive",
	 .package = "t", .path = "tests/assert_positive.sql", .depends_on = sing_deps,
	 .ndepends_on = 1, .test = &sing_test},
	{.type = SL_NODE_TEST, .unique_id = "test.t.source_unique_shop_orders_id.777777",
	 .name = "source_unique_shop_orders_id", .package = "t", .path = "models/src.yml",
	 .sources = stg_sources, .nsources = 1, .test = &src_test},
};
#define NNODES ((int)(sizeof nodes / sizeof nodes[0]))

#define NN "test.t.not_null_stg_orders_id.1a2b3c"
#define REL "test.t.relationships_orders_customer_id.4d5e6f"
#define SING "test.t.assert_positive"
#define SRC "test.t.source_unique_shop_orders_id.777777"

static sl_project *project;
static sl_dag graph;

static void make_graph(bool gate)
{
	sl_error err = SL_ERROR_INIT;
	if (!project) {
		write_file("sluice.yml", "name: t\n");
		write_file("sources/shop.yml", "source: shop\nkind: csv\ntables:\n"
			   "  - name: orders\n    path: o.csv\n");
		if (sl_project_load(&project, tmp, &err) != 0)
			fail_msg("project: %s", err.message);
	}
	sl_dag_free(&graph);
	sl_dag_init(&graph);
	sl_graph_opts o = {.extract = true, .load = true, .nodes = nodes, .nnodes = NNODES,
			   .tests_gate = gate};
	if (sl_engine_graph(&graph, project, &o, &err) != 0)
		fail_msg("graph: %s", err.message);
}

static int setup_graph(void **state)
{
	setup(state);
	sl_dag_init(&graph);
	return 0;
}

static int teardown_graph(void **state)
{
	sl_dag_free(&graph);
	sl_project_free(project);
	project = NULL;
	return teardown(state);
}

static const sl_task *task(const char *id)
{
	int i = sl_dag_find(&graph, id);
	if (i < 0)
		fail_msg("no task %s", id);
	return &graph.tasks[i];
}

static bool waits_for(const char *id, const char *up)
{
	const sl_task *t = task(id);
	int u = sl_dag_find(&graph, up);
	for (int i = 0; i < t->ndeps; i++)
		if (t->deps[i] == u)
			return true;
	return false;
}

static char out[2048];

static const char *picked(const bool *sel)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < graph.n; i++)
		if (sel[i])
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "",
						graph.tasks[i].id);
	return out;
}

/* --select s, then indirect selection in mode (NULL: none). */
static const char *sel(const char *select, const char *mode)
{
	const char *s[1] = {select};
	bool chosen[64];
	sl_error err = SL_ERROR_INIT;
	assert_true(graph.n <= 64);
	int rc = sl_dag_select(&graph, s, 1, NULL, 0, chosen, &err);
	if (rc == 0 && mode)
		rc = sl_engine_select_tests(&graph, mode, chosen, &err);
	if (rc < 0) {
		snprintf(out, sizeof out, "error: %s", err.message);
		return out;
	}
	return picked(chosen);
}

static void test_a_test_waits_for_what_it_reads(void **state)
{
	(void)state;
	make_graph(false);
	const sl_task *nn = task(NN);
	assert_string_equal(nn->kind->name, "test");
	assert_string_equal(nn->node, "not_null_stg_orders_id");
	assert_string_equal(nn->test_type, "generic");
	assert_string_equal(nn->test_name, "not_null");
	assert_int_equal(nn->nwrites, 0);
	assert_int_equal(nn->retries, 0);
	assert_true(waits_for(NN, "model.t.stg_orders"));
	assert_true(waits_for(REL, "model.t.orders"));
	assert_true(waits_for(REL, "seed.t.customers"));
	assert_true(waits_for(SING, "model.t.orders"));
	assert_string_equal(task(SING)->test_type, "singular");
	assert_null(task(SING)->test_name);
	/* a source's test waits for the table's load */
	assert_true(waits_for(SRC, "load:shop.orders"));
	assert_false(sl_engine_task_is_placeholder(nn));
	assert_int_equal(sl_engine_task_node(nn), 4);
	/* without the gate nothing waits for a test */
	assert_false(waits_for("model.t.orders", NN));
	assert_false(waits_for("model.t.report", SING));
	assert_false(waits_for("model.t.stg_orders", SRC));
}

static void test_build_order_gates_downstream_on_tests(void **state)
{
	(void)state;
	make_graph(true);
	/* what is built from stg_orders waits for its test */
	assert_true(waits_for("model.t.orders", NN));
	assert_true(waits_for("model.t.report", NN));
	/* a source's test gates what reads the source */
	assert_true(waits_for("model.t.stg_orders", SRC));
	assert_true(waits_for("model.t.orders", SRC));
	/* orders' tests gate report, not orders itself */
	assert_true(waits_for("model.t.report", REL));
	assert_true(waits_for("model.t.report", SING));
	assert_false(waits_for("model.t.orders", REL));
	assert_false(waits_for("model.t.orders", SING));
	/* the seed is upstream of nothing tested */
	assert_int_equal(task("seed.t.customers")->ndeps, 0);
	/* tests wait only for what they read */
	assert_int_equal(task(NN)->ndeps, 1);
	assert_int_equal(task(REL)->ndeps, 2);
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_dag_check(&graph, &err), 0);
}

static void test_select_by_test_type_and_name(void **state)
{
	(void)state;
	make_graph(false);
	assert_string_equal(sel("test_type:singular", NULL), SING);
	assert_string_equal(sel("test_type:data", NULL), SING);
	assert_string_equal(sel("test_type:generic", NULL), NN " " REL " " SRC);
	assert_string_equal(sel("test_name:not_null", NULL), NN);
	assert_string_equal(sel("test_name:rel*", NULL), REL);
	assert_string_equal(sel("resource_type:test", NULL), NN " " REL " " SING " " SRC);
	assert_string_equal(sel("test_name:not_null,resource_type:model", NULL),
			    "error: --select: \"test_name:not_null,resource_type:model\" matches no "
			    "node");
}

static void test_indirect_selection_modes(void **state)
{
	(void)state;
	make_graph(false);
	assert_string_equal(sel("orders", "eager"), "model.t.orders " REL " " SING);
	assert_string_equal(sel("orders", NULL), "model.t.orders");
	assert_string_equal(sel("orders", "cautious"), "model.t.orders " SING);
	/* customers is upstream of orders: buildable takes the relationship */
	assert_string_equal(sel("orders", "buildable"), "model.t.orders " REL " " SING);
	assert_string_equal(sel("orders", "empty"), "model.t.orders");
	assert_string_equal(sel("orders customers", "cautious"),
			    "seed.t.customers model.t.orders " REL " " SING);
	assert_string_equal(sel("source:shop", "eager"),
			    "extract:shop.orders load:shop.orders " SRC);
	assert_string_equal(sel("orders", "sideways"),
			    "error: --indirect-selection must be eager, cautious, buildable or "
			    "empty, not \"sideways\"");
}

/* freshness: and loaded_at_field: of a sluice source reach the models'
 * sources: the table's over the source's, null turning them off. */
static void test_source_freshness_reaches_model_sources(void **state)
{
	(void)state;
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	write_file("fresh/sluice.yml", "name: f\ntargets:\n  local: {type: sqlite, path: w.db}\n");
	write_file("fresh/sources/s.yml",
		   "source: s\nkind: csv\nloaded_at_field: _at\n"
		   "freshness: {warn_after: {count: 2, period: hour}, filter: \"x > 0\"}\n"
		   "tables:\n  - name: a\n    path: a.csv\n"
		   "  - name: b\n    path: b.csv\n    loaded_at_field: ts\n"
		   "    freshness: {error_after: {count: 3, period: day}}\n"
		   "  - name: c\n    path: c.csv\n    freshness: null\n");
	char dir[600];
	snprintf(dir, sizeof dir, "%s/fresh", tmp);
	if (sl_project_load(&p, dir, &err) != 0)
		fail_msg("project: %s", err.message);
	sl_arena a;
	sl_arena_init(&a, 1024);
	sl_model_source *v = NULL;
	int n = 0;
	assert_int_equal(sl_engine_model_sources(p, NULL, &a, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(v[0].freshness.set);
	assert_int_equal(v[0].freshness.warn_after.seconds, 7200);
	assert_string_equal(v[0].freshness.warn_after.period, "hour");
	assert_int_equal(v[0].freshness.error_after.seconds, 0);
	assert_string_equal(v[0].freshness.filter, "x > 0");
	assert_string_equal(v[0].loaded_at_field, "_at");
	assert_true(v[1].freshness.set);
	assert_int_equal(v[1].freshness.warn_after.seconds, 0);
	assert_int_equal(v[1].freshness.error_after.count, 3);
	assert_int_equal(v[1].freshness.error_after.seconds, 3 * 86400);
	assert_string_equal(v[1].loaded_at_field, "ts");
	assert_false(v[2].freshness.set);
	sl_arena_free(&a);
	sl_project_free(p);
	/* a bad value names the file and line */
	write_file("fresh/sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - name: a\n    path: a.csv\n"
		   "    freshness: {warn_after: {count: 0, period: hour}}\n");
	assert_int_equal(sl_project_load(&p, dir, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "sources/s.yml:6: \"count\" in freshness.warn_after in "
				       "table \"a\" must be between 1 and 1000000000, not 0"));
	write_file("fresh/sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - name: a\n    path: a.csv\n"
		   "    freshness: {filter: \"x\"}\n");
	assert_int_equal(sl_project_load(&p, dir, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "sources/s.yml:6: freshness in table \"a\" needs "
				       "warn_after: or error_after:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_test_waits_for_what_it_reads),
		cmocka_unit_test(test_build_order_gates_downstream_on_tests),
		cmocka_unit_test(test_select_by_test_type_and_name),
		cmocka_unit_test(test_indirect_selection_modes),
		cmocka_unit_test(test_source_freshness_reaches_model_sources),
	};
	return cmocka_run_group_tests(tests, setup_graph, teardown_graph);
}
