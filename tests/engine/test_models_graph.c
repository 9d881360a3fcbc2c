/* test_models_graph.c: models, seeds and snapshots in the run's graph,
 * built from fake nodes — their tasks, what they wait for (refs, the load
 * of a sluice source, a dbt source's placeholder), the relations they read
 * and write — and dbt's selection methods over them: path:, resource_type:,
 * config.KEY:, fqn:, package:, kind-and-name, with the graph operators. */
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

static const char *const stg_cfg[] = {"materialized=view", "tags=[\"staging\",\"daily\"]",
				      "enabled=true"};
static const char *const orders_cfg[] = {"materialized=incremental", "unique_key=order_id",
					 "full_refresh=false"};
static const char *const eph_cfg[] = {"materialized=ephemeral"};
static const char *const dim_cfg[] = {"materialized=table"};
static const char *const staging_tags[] = {"staging", "daily"};
static const char *const stg_sources[] = {"shop.orders"};
static const char *const stg_deps[] = {"model.t.eph"};
static const char *const orders_deps[] = {"model.t.stg_orders", "seed.t.countries"};
static const char *const snap_deps[] = {"model.t.orders"};
static const char *const dim_sources[] = {"crm.leads"};
static const char *const util_deps[] = {"model.t.dim_leads"};

/* seed countries; ephemeral eph; stg_orders (view, source shop.orders, refs
 * eph); orders (incremental, refs stg_orders and countries); snapshot
 * orders_snap of orders; dim_leads reading a source no sluice source
 * declares. */
static const sl_node nodes[] = {
	{.type = SL_NODE_SEED, .unique_id = "seed.t.countries", .name = "countries",
	 .package = "t", .path = "seeds/countries.csv", .schema = "main", .alias = "countries",
	 .materialized = SL_MAT_SEED},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.eph", .name = "eph", .package = "t",
	 .path = "models/staging/eph.sql", .schema = "main", .alias = "eph",
	 .materialized = SL_MAT_EPHEMERAL, .config = eph_cfg, .nconfig = 1},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.stg_orders", .name = "stg_orders",
	 .package = "t", .path = "models/staging/stg_orders.sql", .schema = "main",
	 .alias = "stg_orders", .materialized = SL_MAT_VIEW, .tags = staging_tags, .ntags = 2,
	 .depends_on = stg_deps, .ndepends_on = 1, .sources = stg_sources, .nsources = 1,
	 .config = stg_cfg, .nconfig = 3},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.orders", .name = "orders", .package = "t",
	 .path = "models/marts/orders.sql", .schema = "main_marts", .alias = "fct_orders",
	 .materialized = SL_MAT_INCREMENTAL, .depends_on = orders_deps, .ndepends_on = 2,
	 .config = orders_cfg, .nconfig = 3},
	{.type = SL_NODE_SNAPSHOT, .unique_id = "snapshot.t.orders_snap", .name = "orders_snap",
	 .package = "t", .path = "snapshots/orders_snap.sql", .schema = "snapshots",
	 .alias = "orders_snap", .materialized = SL_MAT_SNAPSHOT, .depends_on = snap_deps,
	 .ndepends_on = 1},
	{.type = SL_NODE_MODEL, .unique_id = "model.t.dim_leads", .name = "dim_leads",
	 .package = "t", .path = "models/marts/dim_leads.sql", .schema = "main",
	 .alias = "dim_leads", .materialized = SL_MAT_TABLE, .sources = dim_sources,
	 .nsources = 1, .config = dim_cfg, .nconfig = 1},
	{.type = SL_NODE_MODEL, .unique_id = "model.util.util_dates", .name = "util_dates",
	 .package = "util", .path = "packages/util/models/calendar/util_dates.sql",
	 .schema = "main", .alias = "util_dates", .materialized = SL_MAT_TABLE,
	 .depends_on = util_deps, .ndepends_on = 1},
};
#define NNODES ((int)(sizeof nodes / sizeof nodes[0]))

static sl_project *project;
static sl_dag graph;
static const char *sluice_yml = "name: t\n";

static int setup_graph(void **state)
{
	setup(state);
	write_file("sluice.yml", sluice_yml);
	write_file("sources/shop.yml", "source: shop\nkind: csv\ntables:\n"
		   "  - name: orders\n    path: o.csv\n  - name: items\n    path: i.csv\n");
	sl_error err = SL_ERROR_INIT;
	if (sl_project_load(&project, tmp, &err) != 0)
		fail_msg("project: %s", err.message);
	sl_graph_opts o = {.extract = true, .load = true, .nodes = nodes, .nnodes = NNODES};
	sl_dag_init(&graph);
	if (sl_engine_graph(&graph, project, &o, &err) != 0)
		fail_msg("graph: %s", err.message);
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

static bool has(const char *const *list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* The ids selected, sorted by graph order, joined by spaces; or the
 * error's message. */
static char out[2048];
static const char *sel(const char *select, const char *exclude)
{
	char sbuf[256], xbuf[256];
	const char *s[1] = {sbuf}, *x[1] = {xbuf};
	bool picked[64];
	sl_error err = SL_ERROR_INIT;
	snprintf(sbuf, sizeof sbuf, "%s", select ? select : "");
	snprintf(xbuf, sizeof xbuf, "%s", exclude ? exclude : "");
	assert_true(graph.n <= 64);
	int rc = sl_dag_select(&graph, s, select ? 1 : 0, x, exclude ? 1 : 0, picked, &err);
	if (rc < 0) {
		snprintf(out, sizeof out, "error: %s", err.message);
		return out;
	}
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < graph.n; i++)
		if (picked[i])
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "",
						graph.tasks[i].id);
	return out;
}

static void test_node_tasks_and_their_dependencies(void **state)
{
	(void)state;
	/* 4 table tasks, 6 nodes, one placeholder for crm.leads */
	assert_int_equal(graph.n, 4 + NNODES + 1);
	const sl_task *stg = task("model.t.stg_orders");
	assert_string_equal(stg->kind->name, "model");
	assert_string_equal(stg->node, "stg_orders");
	assert_string_equal(stg->path, "models/staging/stg_orders.sql");
	assert_string_equal(stg->fqn, "t.staging.stg_orders");
	assert_string_equal(stg->package, "t");
	assert_int_equal(stg->ntags, 2);
	assert_true(has(stg->writes, stg->nwrites, "warehouse:main.stg_orders"));
	/* a sluice source: its load task, and the raw table it writes */
	assert_true(waits_for("model.t.stg_orders", "load:shop.orders"));
	assert_true(has(stg->reads, stg->nreads, "warehouse:raw.shop__orders"));
	assert_true(waits_for("model.t.stg_orders", "model.t.eph"));
	assert_false(sl_engine_task_is_placeholder(stg));
	assert_true(sl_engine_task_is_placeholder(task("model.t.eph")));
	assert_int_equal(task("model.t.eph")->nwrites, 0);

	const sl_task *orders = task("model.t.orders");
	assert_string_equal(orders->fqn, "t.marts.orders");
	assert_true(has(orders->writes, orders->nwrites, "warehouse:main_marts.fct_orders"));
	assert_true(has(orders->reads, orders->nreads, "warehouse:main.stg_orders"));
	assert_true(has(orders->reads, orders->nreads, "warehouse:main.countries"));
	assert_true(waits_for("model.t.orders", "seed.t.countries"));
	assert_string_equal(task("seed.t.countries")->kind->name, "seed");
	assert_string_equal(task("snapshot.t.orders_snap")->kind->name, "snapshot");
	assert_true(waits_for("snapshot.t.orders_snap", "model.t.orders"));
	assert_int_equal(sl_engine_task_node(task("model.t.orders")), 3);
	assert_int_equal(sl_engine_task_node(task("load:shop.orders")), -1);

	/* a source no sluice source declares: a placeholder that does nothing */
	const sl_task *src = task("source.t.crm.leads");
	assert_string_equal(src->kind->name, "source");
	assert_string_equal(src->source, "crm");
	assert_string_equal(src->node, "crm.leads");
	assert_true(sl_engine_task_is_placeholder(src));
	assert_true(waits_for("model.t.dim_leads", "source.t.crm.leads"));
	const sl_task *dim = task("model.t.dim_leads");
	assert_true(has(dim->reads, dim->nreads, "source:crm.leads"));
	/* a local package's node: its fqn starts under the package's models/ */
	assert_string_equal(task("model.util.util_dates")->fqn, "util.calendar.util_dates");
	/* extract and load tasks carry their source file */
	assert_string_equal(task("extract:shop.orders")->path, "sources/shop.yml");
}

static void test_select_by_name_path_and_fqn(void **state)
{
	(void)state;
	assert_string_equal(sel("orders", NULL), "model.t.orders");
	assert_string_equal(sel("model:orders", NULL), "model.t.orders");
	assert_string_equal(sel("model.t.orders", NULL), "model.t.orders");
	/* globs match table nodes too */
	assert_string_equal(sel("*orders", NULL), "extract:shop.orders load:shop.orders "
			    "model.t.stg_orders model.t.orders");
	assert_string_equal(sel("path:models/staging", NULL),
			    "model.t.eph model.t.stg_orders");
	assert_string_equal(sel("path:./models/staging/", NULL),
			    "model.t.eph model.t.stg_orders");
	assert_string_equal(sel("path:models/staging/stg_orders.sql", NULL), "model.t.stg_orders");
	assert_string_equal(sel("path:models/*/dim_*.sql", NULL), "model.t.dim_leads");
	assert_string_equal(sel("models/marts", NULL), "model.t.orders model.t.dim_leads");
	assert_string_equal(sel("path:sources/shop.yml", NULL),
			    "extract:shop.orders load:shop.orders extract:shop.items load:shop.items");
	assert_string_equal(sel("fqn:t.marts", NULL), "model.t.orders model.t.dim_leads");
	assert_string_equal(sel("marts", NULL), "model.t.orders model.t.dim_leads");
	assert_string_equal(sel("t.staging.stg_orders", NULL), "model.t.stg_orders");
	assert_string_equal(sel("package:util", NULL), "model.util.util_dates");
	assert_string_equal(sel("calendar", NULL), "model.util.util_dates");
	assert_string_equal(sel("package:t", "source:*"),
			    "seed.t.countries model.t.eph model.t.stg_orders model.t.orders "
			    "snapshot.t.orders_snap model.t.dim_leads");
	assert_string_equal(sel("path:models/nothing", NULL),
			    "error: --select: \"path:models/nothing\" matches no node");
}

static void test_select_by_resource_type_and_config(void **state)
{
	(void)state;
	assert_string_equal(sel("resource_type:seed", NULL), "seed.t.countries");
	assert_string_equal(sel("resource_type:snapshot", NULL), "snapshot.t.orders_snap");
	assert_string_equal(sel("resource_type:source", NULL),
			    "extract:shop.orders load:shop.orders extract:shop.items "
			    "load:shop.items source.t.crm.leads");
	assert_string_equal(sel("resource_type:model", "config.materialized:ephemeral package:util"),
			    "model.t.stg_orders model.t.orders model.t.dim_leads");
	assert_string_equal(sel("config.materialized:incremental", NULL), "model.t.orders");
	assert_string_equal(sel("config.materialized:view,tag:daily", NULL), "model.t.stg_orders");
	assert_string_equal(sel("config.tags:staging", NULL), "model.t.stg_orders");
	assert_string_equal(sel("config.full_refresh:False", NULL), "model.t.orders");
	assert_string_equal(sel("config.unique_key:order_*", NULL), "model.t.orders");
	assert_string_equal(sel("tag:staging", NULL), "model.t.stg_orders");
	assert_string_equal(sel("colour:red", NULL),
			    "error: --select: \"colour:red\": unknown method \"colour\"; use a node "
			    "name, source:, tag:, path:, resource_type:, config.KEY:, fqn:, "
			    "package:, test_type:, test_name:, kind: or a kind and a name (model:orders)");
	assert_string_equal(sel("config.materialized:table", NULL), "model.t.dim_leads");
}

static void test_select_graph_operators_over_nodes(void **state)
{
	(void)state;
	assert_string_equal(sel("+orders", NULL),
			    "extract:shop.orders load:shop.orders seed.t.countries model.t.eph "
			    "model.t.stg_orders model.t.orders");
	assert_string_equal(sel("1+orders", NULL),
			    "seed.t.countries model.t.stg_orders model.t.orders");
	assert_string_equal(sel("orders+", NULL), "model.t.orders snapshot.t.orders_snap");
	assert_string_equal(sel("source:shop+", "kind:extract kind:load"),
			    "model.t.stg_orders model.t.orders snapshot.t.orders_snap");
	assert_string_equal(sel("source:crm+", NULL),
			    "model.t.dim_leads model.util.util_dates source.t.crm.leads");
	assert_string_equal(sel("source:crm.leads", NULL), "source.t.crm.leads");
	assert_string_equal(sel("@stg_orders", "kind:extract"),
			    "load:shop.orders seed.t.countries model.t.eph model.t.stg_orders "
			    "model.t.orders snapshot.t.orders_snap");
	assert_string_equal(sel("seed:countries+1", NULL), "seed.t.countries model.t.orders");
}

/* Without defaults: in sluice.yml, node tasks have no timeout and no
 * retries; with them, models, seeds and snapshots take them as loads do. */
static void test_node_tasks_take_the_project_defaults(void **state)
{
	static const char *const ids[] = {"seed.t.countries", "model.t.orders",
					  "snapshot.t.orders_snap"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(task(ids[i])->retries, 0);
		assert_true(task(ids[i])->retry_delay == 10);
		assert_true(task(ids[i])->timeout == 0);
	}
	teardown_graph(state);
	sluice_yml = "name: t\ndefaults:\n  timeout: 10m\n  retries: 1\n  retry_delay: 30s\n";
	setup_graph(state);
	sluice_yml = "name: t\n";
	for (int i = 0; i < 3; i++) {
		assert_int_equal(task(ids[i])->retries, 1);
		assert_true(task(ids[i])->retry_delay == 30);
		assert_true(task(ids[i])->timeout == 600);
	}
	assert_true(task("load:shop.orders")->timeout == 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_tasks_and_their_dependencies,
						setup_graph, teardown_graph),
		cmocka_unit_test_setup_teardown(test_select_by_name_path_and_fqn, setup_graph,
						teardown_graph),
		cmocka_unit_test_setup_teardown(test_select_by_resource_type_and_config,
						setup_graph, teardown_graph),
		cmocka_unit_test_setup_teardown(test_select_graph_operators_over_nodes,
						setup_graph, teardown_graph),
		cmocka_unit_test_setup_teardown(test_node_tasks_take_the_project_defaults,
						setup_graph, teardown_graph),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
