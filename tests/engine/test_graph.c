/* test_graph.c: the run's graph of a project — tasks, their dependencies,
 * tags, relations and policies (table over source over defaults) — and the
 * logical-date strings sources see. */
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

static sl_project *load_project(void)
{
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_project_load(&p, tmp, &err) != 0)
		fail_msg("project: %s", err.message);
	return p;
}

static const sl_task *task(const sl_dag *g, const char *id)
{
	int i = sl_dag_find(g, id);
	if (i < 0)
		fail_msg("no task %s", id);
	return &g->tasks[i];
}

static bool has(const char *const *list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void test_graph_has_extract_and_load_per_table(void **state)
{
	(void)state;
	write_file("sluice.yml", "name: t\ndefaults: {retries: 3, retry_delay: 1m, timeout: 2h}\n");
	write_file("sources/shop.yml", "source: shop\nkind: csv\nretries: 1\ntags: [nightly]\n"
		   "tables:\n  - name: orders\n    path: o.csv\n    timeout: none\n"
		   "    tags: [finance, nightly]\n  - name: items\n    path: i.csv\n"
		   "    retries: 0\n    retry_delay: 5s\n");
	sl_project *p = load_project();
	sl_dag g;
	sl_error err = SL_ERROR_INIT;
	sl_dag_init(&g);
	assert_int_equal(sl_engine_dag(&g, p, NULL, true, true, &err), 0);
	assert_int_equal(g.n, 4);

	const sl_task *x = task(&g, "extract:shop.orders");
	const sl_task *l = task(&g, "load:shop.orders");
	assert_string_equal(x->kind->name, "extract");
	assert_string_equal(x->node, "shop.orders");
	assert_string_equal(x->source, "shop");
	assert_int_equal(x->ndeps, 0);
	assert_int_equal(l->ndeps, 1);
	assert_ptr_equal(&g.tasks[l->deps[0]], x);
	/* source tags, then the table's it lacks */
	assert_int_equal(x->ntags, 2);
	assert_string_equal(x->tags[0], "nightly");
	assert_string_equal(x->tags[1], "finance");
	assert_true(has(x->writes, x->nwrites, "lake:raw/shop/orders"));
	assert_true(has(x->writes, x->nwrites, "lake:quarantine/shop/orders"));
	assert_true(has(l->reads, l->nreads, "lake:raw/shop/orders"));
	assert_true(has(l->writes, l->nwrites, "warehouse:raw.shop__orders"));
	/* retries from the source, retry_delay from the defaults, timeout
	 * lifted by the table */
	assert_int_equal(x->retries, 1);
	assert_true(x->retry_delay == 60);
	assert_true(x->timeout == 0);
	const sl_task *i = task(&g, "extract:shop.items");
	assert_int_equal(i->retries, 0);
	assert_true(i->retry_delay == 5);
	assert_true(i->timeout == 7200);
	assert_int_equal(i->ntags, 1);
	sl_dag_free(&g);

	/* extract only, load only: one kind, no dependencies */
	sl_dag_init(&g);
	assert_int_equal(sl_engine_dag(&g, p, NULL, false, true, &err), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.tasks[0].ndeps, 0);
	assert_string_equal(g.tasks[0].kind->name, "load");
	sl_dag_free(&g);
	sl_project_free(p);
}

/* Without defaults: no retries, 10 s, no timeout. */
static void test_policy_defaults(void **state)
{
	(void)state;
	write_file("sluice.yml", "name: t\n");
	write_file("sources/s.yml", "source: s\nkind: csv\ntables:\n  - name: a\n    path: a.csv\n");
	sl_project *p = load_project();
	int retries = -1;
	double delay = -1, timeout = -1;
	sl_project_task_policy(p, &p->sources[0], &p->sources[0].tables[0], &retries, &delay,
			       &timeout);
	assert_int_equal(retries, 0);
	assert_true(delay == 10);
	assert_true(timeout == 0);
	sl_project_free(p);
}

static void test_logical_dates_render_as_sources_expect(void **state)
{
	(void)state;
	sl_logical_dates d;
	/* 2024-03-05T06:30:00.5Z, interval [2024-03-05, 2024-03-06) */
	int64_t at = INT64_C(1709620200500000);
	sl_engine_logical_dates(at, INT64_C(1709596800000000), INT64_C(1709683200000000), &d);
	assert_string_equal(d.ds, "2024-03-05");
	assert_string_equal(d.data_interval_start, "2024-03-05T00:00:00Z");
	assert_string_equal(d.data_interval_end, "2024-03-06T00:00:00Z");
	/* before 1970 */
	sl_engine_logical_dates(-1, -SL_MICROS_PER_DAY, 0, &d);
	assert_string_equal(d.ds, "1969-12-31");
	assert_string_equal(d.data_interval_start, "1969-12-31T00:00:00Z");
	assert_string_equal(d.data_interval_end, "1970-01-01T00:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_graph_has_extract_and_load_per_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_defaults, setup, teardown),
		cmocka_unit_test(test_logical_dates_render_as_sources_expect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
