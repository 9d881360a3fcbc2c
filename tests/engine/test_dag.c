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

static const sl_task_kind model_kind = {"model", noop_run};

/*
 * 0 extract:shop.orders (tag daily)   1 load:shop.orders <- 0 (tag daily)
 * 2 extract:shop.customers            3 load:shop.customers <- 2
 * 4 model:revenue <- 1, 3 (finance)   5 model:report <- 4 (finance)
 * 6 extract:crm.users                 7 load:crm.users <- 6
 */
static void shop_graph(sl_dag *g)
{
	sl_dag_init(g);
	add(g, &extract_kind, "shop.orders", "shop", "daily");
	add(g, &load_kind, "shop.orders", "shop", "daily");
	add(g, &extract_kind, "shop.customers", "shop", NULL);
	add(g, &load_kind, "shop.customers", "shop", NULL);
	add(g, &model_kind, "revenue", NULL, "finance");
	add(g, &model_kind, "report", NULL, "finance");
	add(g, &extract_kind, "crm.users", "crm", NULL);
	add(g, &load_kind, "crm.users", "crm", NULL);
	depend(g, 1, 0);
	depend(g, 3, 2);
	depend(g, 4, 1);
	depend(g, 4, 3);
	depend(g, 5, 4);
	depend(g, 7, 6);
}

/* The indexes selection picks, as "0 1 4", or the error message. */
static const char *picked(const sl_dag *g, const char *const *sel, int nsel,
			  const char *const *exc, int nexc)
{
	static char out[1100];
	bool selected[16];
	sl_error err = SL_ERROR_INIT;
	int rc = sl_dag_select(g, sel, nsel, exc, nexc, selected, &err);
	if (rc < 0) {
		assert_int_equal(rc, SL_EUSAGE);
		snprintf(out, sizeof out, "%s", err.message);
		return out;
	}
	size_t len = 0;
	out[0] = '\0';
	for (int t = 0; t < g->n; t++)
		if (selected[t])
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%d", len ? " " : "", t);
	return out;
}

static const char *sel1(const sl_dag *g, const char *item)
{
	return picked(g, &item, 1, NULL, 0);
}

static void test_select_methods_and_operators(void **state)
{
	sl_dag g;
	shop_graph(&g);
	assert_string_equal(picked(&g, NULL, 0, NULL, 0), "0 1 2 3 4 5 6 7");
	assert_string_equal(sel1(&g, "shop.orders"), "0 1");
	assert_string_equal(sel1(&g, "s*.orders"), "0 1");
	assert_string_equal(sel1(&g, "shop"), "0 1 2 3");
	assert_string_equal(sel1(&g, "source:shop"), "0 1 2 3");
	assert_string_equal(sel1(&g, "source:shop.orders"), "0 1");
	assert_string_equal(sel1(&g, "tag:finance"), "4 5");
	assert_string_equal(sel1(&g, "kind:load"), "1 3 7");
	assert_string_equal(sel1(&g, "load:shop.orders"), "1");
	assert_string_equal(sel1(&g, "+revenue"), "0 1 2 3 4");
	assert_string_equal(sel1(&g, "1+revenue"), "1 3 4");
	assert_string_equal(sel1(&g, "revenue+"), "4 5");
	assert_string_equal(sel1(&g, "shop.orders+"), "0 1 4 5");
	assert_string_equal(sel1(&g, "shop.customers+1"), "2 3 4");
	assert_string_equal(sel1(&g, "extract:shop.orders+2"), "0 1 4");
	assert_string_equal(sel1(&g, "1+load:shop.orders+1"), "0 1 4");
	assert_string_equal(sel1(&g, "+revenue+"), "0 1 2 3 4 5");
	assert_string_equal(sel1(&g, "0+revenue"), "4");
	assert_string_equal(sel1(&g, "@load:shop.orders"), "0 1 2 3 4 5");
	assert_string_equal(sel1(&g, "@crm.users"), "6 7");
	/* Commas intersect, spaces and repeated arguments unite. */
	assert_string_equal(sel1(&g, "kind:extract,shop"), "0 2");
	assert_string_equal(sel1(&g, "shop.orders+,tag:finance"), "4 5");
	assert_string_equal(sel1(&g, "tag:daily  kind:model"), "0 1 4 5");
	const char *two[] = {"crm.users", "revenue"};
	assert_string_equal(picked(&g, two, 2, NULL, 0), "4 6 7");
	/* Blank arguments select nothing in particular: everything. */
	const char *blank[] = {" ", ""};
	assert_string_equal(picked(&g, blank, 2, NULL, 0), "0 1 2 3 4 5 6 7");
	sl_dag_free(&g);
}

static void test_select_exclude_and_errors(void **state)
{
	sl_dag g;
	shop_graph(&g);
	const char *shop = "shop", *extracts = "kind:extract", *starred = "shop*";
	assert_string_equal(picked(&g, &shop, 1, &extracts, 1), "1 3");
	assert_string_equal(picked(&g, NULL, 0, &starred, 1), "4 5 6 7");
	const char *report_up = "+report";
	assert_string_equal(picked(&g, NULL, 0, &report_up, 1), "6 7");
	assert_string_equal(sel1(&g, "nope"), "--select: \"nope\" matches no node");
	assert_string_equal(sel1(&g, "revenue +nope+"), "--select: \"+nope+\" matches no node");
	assert_string_equal(sel1(&g, "kind:extract,kind:load"),
			    "--select: \"kind:extract,kind:load\" matches no node");
	assert_string_equal(sel1(&g, "revenue,,report"),
			    "--select: \"revenue,,report\" has an empty selector");
	assert_string_equal(sel1(&g, "revenue,"), "--select: \"revenue,\" has an empty selector");
	assert_string_equal(sel1(&g, "@+revenue"),
			    "--select: \"@+revenue\" cannot have both @ and a leading +");
	assert_string_equal(sel1(&g, "2+"), "--select: \"2+\" names no node");
	const char *typo = "tag:finanse";
	assert_string_equal(picked(&g, NULL, 0, &typo, 1),
			    "--exclude: \"tag:finanse\" matches no node");
	sl_dag_free(&g);
}

static const char *formatted(const sl_dag *g, const bool *selected, const char *format)
{
	static char out[2048];
	sl_buf b = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_dag_format(g, selected, format, &b, &err);
	snprintf(out, sizeof out, "%s", rc == 0 ? b.data : err.message);
	sl_buf_free(&b);
	return out;
}

static void test_format_text_and_dot(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	/* Added out of dependency order: the output still is in it. */
	int load = add(&g, &load_kind, "s.a", "s", NULL);
	int ext = add(&g, &extract_kind, "s.a", "s", NULL);
	int odd = add(&g, &model_kind, "say \"hi\" \\ there", NULL, NULL);
	int other = add(&g, &extract_kind, "s.b", "s", NULL);
	depend(&g, load, ext);
	depend(&g, odd, load);
	depend(&g, odd, other);
	assert_string_equal(formatted(&g, NULL, NULL),
			    "extract:s.a\n"
			    "load:s.a <- extract:s.a\n"
			    "extract:s.b\n"
			    "model:say \"hi\" \\ there <- load:s.a, extract:s.b\n");
	assert_string_equal(formatted(&g, NULL, "dot"),
			    "digraph sluice {\n"
			    "\trankdir=LR;\n"
			    "\tnode [shape=box];\n"
			    "\t\"extract:s.a\";\n"
			    "\t\"load:s.a\";\n"
			    "\t\"extract:s.b\";\n"
			    "\t\"model:say \\\"hi\\\" \\\\ there\";\n"
			    "\t\"extract:s.a\" -> \"load:s.a\";\n"
			    "\t\"load:s.a\" -> \"model:say \\\"hi\\\" \\\\ there\";\n"
			    "\t\"extract:s.b\" -> \"model:say \\\"hi\\\" \\\\ there\";\n"
			    "}\n");
	bool selected[4] = {true, false, true, false};
	assert_string_equal(formatted(&g, selected, "text"),
			    "load:s.a\n"
			    "model:say \"hi\" \\ there <- load:s.a\n");
	assert_string_equal(formatted(&g, selected, "json"),
			    "unknown graph format \"json\" (text or dot)");
	sl_dag_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dag_add_find_copies_strings),
		cmocka_unit_test(test_dag_check_names_the_cycle),
		cmocka_unit_test(test_select_methods_and_operators),
		cmocka_unit_test(test_select_exclude_and_errors),
		cmocka_unit_test(test_format_text_and_dot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
