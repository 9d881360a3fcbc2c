/* test_dag.c: the task graph — adding and finding tasks, cycles, selection,
 * the text and dot formats, and the executor (retries, skips, timeouts,
 * cancellation, fail-fast, parallelism). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"

static int noop_run(sl_task *t, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		    sl_error *err)
{
	return 0;
}

static const sl_task_kind extract_kind = {"extract", noop_run};
static const sl_task_kind load_kind = {"load", noop_run};

/* Adds a task of kind k named kind:node, returning its index. */
static int add(sl_dag *g, const sl_task_kind *k, const char *node, const char *source,
	       const char *tag)
{
	char id[128];
	snprintf(id, sizeof id, "%s:%s", k->name, node);
	const char *tags[1] = {tag};
	sl_task t = {.kind = k, .id = id, .node = node, .source = source,
		     .tags = tag ? tags : NULL, .ntags = tag ? 1 : 0};
	sl_error err = SL_ERROR_INIT;
	int i = sl_dag_add(g, &t, &err);
	assert_true(i >= 0);
	return i;
}

static void depend(sl_dag *g, int task, int upstream)
{
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_dag_depend(g, task, upstream, &err), 0);
}

static void test_dag_add_find_copies_strings(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	sl_error err = SL_ERROR_INIT;
	char id[32], node[32];
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "extract:s.t%d", i);
		snprintf(node, sizeof node, "s.t%d", i);
		const char *tags[2] = {"daily", node};
		sl_task t = {.kind = &extract_kind, .id = id, .node = node, .source = "s",
			     .tags = tags, .ntags = 2};
		assert_int_equal(sl_dag_add(&g, &t, &err), i);
	}
	strcpy(id, "clobbered");
	assert_int_equal(sl_dag_find(&g, "extract:s.t0"), 0);
	assert_int_equal(sl_dag_find(&g, "extract:s.t299"), 299);
	assert_int_equal(sl_dag_find(&g, "extract:s.t300"), -1);
	assert_string_equal(g.tasks[299].node, "s.t299");
	assert_string_equal(g.tasks[299].tags[1], "s.t299");
	sl_task dup = {.kind = &extract_kind, .id = "extract:s.t7"};
	assert_int_equal(sl_dag_add(&g, &dup, &err), SL_EINVAL);
	assert_string_equal(err.message, "task graph: two tasks are named \"extract:s.t7\"");
	/* A repeated edge is one edge. */
	depend(&g, 1, 0);
	depend(&g, 1, 0);
	assert_int_equal(g.tasks[1].ndeps, 1);
	for (int i = 2; i < 40; i++)
		depend(&g, 299, i);
	assert_int_equal(g.tasks[299].ndeps, 38);
	assert_int_equal(g.tasks[299].deps[37], 39);
	assert_int_equal(sl_dag_check(&g, &err), 0);
	sl_dag_free(&g);
}

static void test_dag_check_names_the_cycle(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	sl_error err = SL_ERROR_INIT;
	int x = add(&g, &extract_kind, "x", NULL, NULL);
	int a = add(&g, &load_kind, "a", NULL, NULL);
	int b = add(&g, &load_kind, "b", NULL, NULL);
	int c = add(&g, &load_kind, "c", NULL, NULL);
	depend(&g, a, x);
	depend(&g, a, b);
	depend(&g, b, c);
	assert_int_equal(sl_dag_check(&g, &err), 0);
	depend(&g, c, a);
	assert_int_equal(sl_dag_check(&g, &err), SL_EINVAL);
	assert_string_equal(err.message, "dependency cycle: load:a -> load:b -> load:c -> load:a "
					 "(each task waits for the next)");
	assert_int_equal(sl_dag_depend(&g, x, x, &err), SL_EINVAL);
	assert_string_equal(err.message,
			    "dependency cycle: extract:x -> extract:x (the task waits for itself)");
	sl_dag_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dag_add_find_copies_strings),
		cmocka_unit_test(test_dag_check_names_the_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
