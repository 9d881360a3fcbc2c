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

/* ------------------------------------------------------------- executor */

/* What the tasks of an executor test do and what the callbacks saw. */
typedef struct probe {
	sl_cancel run;          /* the run's token */
	atomic_int runs;        /* calls of a kind's run */
	atomic_int running;     /* runs under way */
	atomic_int arrived;     /* barrier tasks that started */
	atomic_int both_seen;   /* barrier tasks that saw the other one run */
	atomic_int in_callback; /* a callback is under way */
	int overlaps;           /* callbacks that ran at the same time */
	int starts;
	int fail_record;        /* on_end fails the success of this task (-1: none) */
	char log[4096];
	char errors[4096];
} probe;

typedef struct behaviour {
	int failures;   /* attempts that fail before one succeeds; -1: all */
	int calls;
	bool cancel_run; /* requests the run's cancellation first */
	bool barrier;    /* waits (at most 5 s) until another barrier task runs too */
	bool wait_other; /* waits (at most 5 s) until another task runs */
	bool hang;       /* polls its token until it stops */
} behaviour;

static bool wait_until_running(probe *p, int n)
{
	double until = sl_monotonic_seconds() + 5;
	while (atomic_load(&p->running) < n && sl_monotonic_seconds() < until)
		usleep(1000);
	return atomic_load(&p->running) >= n;
}

static int test_run(sl_task *t, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		    sl_error *err)
{
	probe *p = ctx;
	behaviour *b = t->data;
	int rc = 0;
	atomic_fetch_add(&p->runs, 1);
	atomic_fetch_add(&p->running, 1);
	b->calls++;
	if (b->barrier) {
		/* Seeing the other task arrive while this one still runs proves
		 * that two ran at once; one thread would wait here in vain. */
		atomic_fetch_add(&p->arrived, 1);
		double until = sl_monotonic_seconds() + 5;
		while (atomic_load(&p->arrived) < 2 && sl_monotonic_seconds() < until)
			usleep(1000);
		if (atomic_load(&p->arrived) >= 2)
			atomic_fetch_add(&p->both_seen, 1);
	}
	if (b->wait_other)
		wait_until_running(p, 2);
	if (b->cancel_run) {
		wait_until_running(p, 2);
		sl_cancel_request(&p->run);
	}
	if (b->hang) {
		while (!sl_cancelled(cancel))
			usleep(1000);
		rc = sl_cancel_check(cancel, t->id, err);
	} else if (b->failures < 0 || b->calls <= b->failures) {
		rc = sl_error_set(err, SL_EIO, "%s: boom %d", t->id, b->calls);
	} else {
		out->rows = 10 * b->calls;
	}
	atomic_fetch_sub(&p->running, 1);
	return rc;
}

static const sl_task_kind test_kind = {"extract", test_run};

static void enter_callback(probe *p)
{
	if (atomic_exchange(&p->in_callback, 1))
		p->overlaps++;
	usleep(200); /* widens the window a concurrent callback would hit */
}

static int on_start(void *ctx, int task, int attempt, sl_error *err)
{
	probe *p = ctx;
	enter_callback(p);
	p->starts++;
	atomic_store(&p->in_callback, 0);
	return 0;
}

static const sl_dag *current;

static int on_end(void *ctx, int task, int attempt, sl_task_status status,
		  const sl_task_outcome *out, const sl_error *err, sl_error *rec_err)
{
	probe *p = ctx;
	enter_callback(p);
	size_t len = strlen(p->log);
	snprintf(p->log + len, sizeof p->log - len, "%s#%d %s;", current->tasks[task].id, attempt,
		 sl_task_status_name(status));
	if (err && err->message[0]) {
		len = strlen(p->errors);
		snprintf(p->errors + len, sizeof p->errors - len, "%s: [%s] %s\n",
			 current->tasks[task].id, sl_error_name(err->code), err->message);
	}
	int rc = 0;
	if (task == p->fail_record && status == SL_TASK_SUCCESS)
		rc = sl_error_set(rec_err, SL_EDB, "cannot record");
	atomic_store(&p->in_callback, 0);
	return rc;
}

/* Adds a test task named extract:name doing b. */
static int add_task(sl_dag *g, const char *name, behaviour *b, int retries, double timeout)
{
	char id[64];
	snprintf(id, sizeof id, "extract:%s", name);
	sl_task t = {.kind = &test_kind, .id = id, .node = name, .retries = retries,
		     .retry_delay = 0.001, .timeout = timeout, .data = b};
	sl_error err = SL_ERROR_INIT;
	int i = sl_dag_add(g, &t, &err);
	assert_true(i >= 0);
	return i;
}

static int execute(const sl_dag *g, const bool *selected, probe *p, int threads, bool fail_fast,
		   sl_task_status *status)
{
	sl_exec_opts o = {.threads = threads, .fail_fast = fail_fast, .cancel = &p->run, .ctx = p,
			  .on_start = on_start, .on_end = on_end};
	sl_error err = SL_ERROR_INIT;
	current = g;
	int rc = sl_dag_execute(g, selected, &o, status, &err);
	assert_int_equal(p->overlaps, 0);
	return rc;
}

static void probe_init(probe *p)
{
	memset(p, 0, sizeof *p);
	sl_cancel_init(&p->run, NULL);
	p->fail_record = -1;
}

static void test_exec_retries_until_success(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour flaky = {.failures = 2}, after = {0};
	int a = add_task(&g, "a", &flaky, 2, 0);
	int b = add_task(&g, "b", &after, 0, 0);
	depend(&g, b, a);
	sl_task_status st[2];
	assert_int_equal(execute(&g, NULL, &p, 2, false, st), 0);
	assert_string_equal(p.log, "extract:a#1 up_for_retry;extract:a#2 up_for_retry;"
				   "extract:a#3 success;extract:b#1 success;");
	assert_string_equal(p.errors, "extract:a: [io] extract:a: boom 1\n"
				      "extract:a: [io] extract:a: boom 2\n");
	assert_int_equal(st[a], SL_TASK_SUCCESS);
	assert_int_equal(st[b], SL_TASK_SUCCESS);
	assert_int_equal(p.starts, 4);
	sl_dag_free(&g);
}

static void test_exec_failure_skips_downstream_only(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour broken = {.failures = -1}, ok[4] = {{0}};
	int a = add_task(&g, "a", &broken, 0, 0);
	int b = add_task(&g, "b", &ok[0], 0, 0);
	int c = add_task(&g, "c", &ok[1], 0, 0);
	int d = add_task(&g, "d", &ok[2], 0, 0);
	int e = add_task(&g, "e", &ok[3], 0, 0);
	depend(&g, b, a);
	depend(&g, c, b);
	depend(&g, e, d);
	sl_task_status st[5];
	assert_int_equal(execute(&g, NULL, &p, 1, false, st), 1);
	assert_string_equal(p.log, "extract:a#1 failed;extract:b#0 skipped;extract:c#0 skipped;"
				   "extract:d#1 success;extract:e#1 success;");
	assert_string_equal(p.errors,
			    "extract:a: [io] extract:a: boom 1\n"
			    "extract:b: [ok] skipped: upstream task extract:a did not succeed\n"
			    "extract:c: [ok] skipped: upstream task extract:a did not succeed\n");
	assert_int_equal(st[a], SL_TASK_FAILED);
	assert_int_equal(st[b], SL_TASK_SKIPPED);
	assert_int_equal(st[c], SL_TASK_SKIPPED);
	assert_int_equal(st[d], SL_TASK_SUCCESS);
	assert_int_equal(st[e], SL_TASK_SUCCESS);
	assert_int_equal(ok[0].calls + ok[1].calls, 0);
	sl_dag_free(&g);
}

static void test_exec_unselected_tasks_pass_through(void **state)
{
	/* r waits for q (not selected) which waits for p: r still comes after
	 * p, and is skipped when p fails. Added backwards so graph order alone
	 * would run r first. */
	for (int failing = 0; failing < 2; failing++) {
		sl_dag g;
		sl_dag_init(&g);
		probe p;
		probe_init(&p);
		behaviour br = {0}, bq = {0}, bp = {.failures = failing ? -1 : 0};
		int r = add_task(&g, "r", &br, 0, 0);
		int q = add_task(&g, "q", &bq, 0, 0);
		int pp = add_task(&g, "p", &bp, 0, 0);
		depend(&g, r, q);
		depend(&g, q, pp);
		bool selected[3] = {true, false, true};
		sl_task_status st[3];
		assert_int_equal(execute(&g, selected, &p, 1, false, st), failing);
		assert_string_equal(p.log, failing ? "extract:p#1 failed;extract:r#0 skipped;"
						   : "extract:p#1 success;extract:r#1 success;");
		assert_int_equal(st[q], SL_TASK_NOT_SELECTED);
		assert_int_equal(bq.calls, 0);
		sl_dag_free(&g);
	}
}

static void test_exec_timeout_ends_a_hung_task(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour hung = {.hang = true}, hung_twice = {.hang = true};
	int h = add_task(&g, "h", &hung, 0, 0.05);
	int r = add_task(&g, "r", &hung_twice, 1, 0.05);
	sl_task_status st[2];
	assert_int_equal(execute(&g, NULL, &p, 2, false, st), 1);
	assert_int_equal(st[h], SL_TASK_TIMED_OUT);
	assert_int_equal(st[r], SL_TASK_TIMED_OUT);
	/* A timed-out attempt is retried like a failed one. */
	assert_non_null(strstr(p.log, "extract:h#1 timed_out;"));
	assert_non_null(strstr(p.log, "extract:r#1 up_for_retry;"));
	assert_non_null(strstr(p.log, "extract:r#2 timed_out;"));
	assert_int_equal(hung_twice.calls, 2);
	assert_non_null(strstr(p.errors, "extract:h: [timeout] extract:h: timed out\n"));
	sl_dag_free(&g);
}

static void test_exec_cancel_stops_running_and_pending(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour canceller = {.cancel_run = true, .hang = true}, hung = {.hang = true};
	behaviour later[3] = {{0}};
	int a = add_task(&g, "a", &canceller, 3, 0);
	int b = add_task(&g, "b", &hung, 3, 0);
	int c = add_task(&g, "c", &later[0], 0, 0);
	int d = add_task(&g, "d", &later[1], 0, 0);
	int e = add_task(&g, "e", &later[2], 0, 0);
	depend(&g, c, a);
	depend(&g, d, b);
	sl_task_status st[5];
	assert_int_equal(execute(&g, NULL, &p, 2, false, st), 1);
	for (int t = 0; t < 5; t++)
		assert_int_equal(st[t], SL_TASK_CANCELLED);
	assert_non_null(strstr(p.log, "extract:a#1 cancelled;"));
	assert_non_null(strstr(p.log, "extract:b#1 cancelled;"));
	assert_non_null(strstr(p.log, "extract:c#0 cancelled;"));
	assert_non_null(strstr(p.log, "extract:d#0 cancelled;"));
	assert_non_null(strstr(p.log, "extract:e#0 cancelled;"));
	/* Nothing started after the cancellation, and nothing was retried. */
	assert_int_equal(p.starts, 2);
	assert_int_equal(atomic_load(&p.runs), 2);
	(void)c, (void)d, (void)e, (void)a, (void)b;
	sl_dag_free(&g);
}

static void test_exec_cancel_interrupts_a_retry_wait(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour broken = {.failures = -1}, canceller = {.cancel_run = true};
	int a = add_task(&g, "a", &broken, 5, 0);
	g.tasks[a].retry_delay = 30; /* far longer than the test may take */
	int b = add_task(&g, "b", &canceller, 0, 0);
	/* b cancels once a failed its first attempt: a waits for its retry. */
	int c = add_task(&g, "c", &(behaviour){.hang = true}, 0, 0);
	(void)c;
	sl_task_status st[3];
	/* c runs alongside b so that b's wait for two running tasks ends. */
	assert_int_equal(execute(&g, NULL, &p, 2, false, st), 1);
	assert_int_equal(st[a], SL_TASK_CANCELLED);
	assert_int_equal(broken.calls, 1);
	assert_non_null(strstr(p.log, "extract:a#1 up_for_retry;"));
	assert_non_null(strstr(p.log, "extract:a#0 cancelled;"));
	assert_int_equal(st[b], SL_TASK_SUCCESS);
	sl_dag_free(&g);
}

static void test_exec_fail_fast_cancels_the_rest(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour broken = {.failures = -1, .wait_other = true}, hung = {.hang = true};
	behaviour later[2] = {{0}};
	int a = add_task(&g, "a", &broken, 0, 0);
	int b = add_task(&g, "b", &hung, 0, 10); /* times out only if fail-fast broke */
	int c = add_task(&g, "c", &later[0], 0, 0);
	int d = add_task(&g, "d", &later[1], 0, 0);
	depend(&g, c, a);
	sl_task_status st[4];
	assert_int_equal(execute(&g, NULL, &p, 2, true, st), 1);
	assert_int_equal(st[a], SL_TASK_FAILED);
	assert_int_equal(st[b], SL_TASK_CANCELLED);
	assert_int_equal(st[c], SL_TASK_SKIPPED);
	assert_int_equal(st[d], SL_TASK_CANCELLED);
	assert_non_null(strstr(p.log, "extract:b#1 cancelled;"));
	assert_non_null(strstr(p.log, "extract:d#0 cancelled;"));
	assert_int_equal(later[1].calls, 0);
	/* The run's own token is the caller's: fail-fast left it alone. */
	assert_int_equal(sl_cancelled(&p.run), 0);
	sl_dag_free(&g);
}

static void test_exec_two_threads_run_two_tasks_at_once(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour x = {.barrier = true}, y = {.barrier = true};
	add_task(&g, "x", &x, 0, 0);
	add_task(&g, "y", &y, 0, 0);
	sl_task_status st[2];
	assert_int_equal(execute(&g, NULL, &p, 2, false, st), 0);
	assert_int_equal(atomic_load(&p.both_seen), 2);
	sl_dag_free(&g);
}

static void test_exec_unrecorded_success_fails(void **state)
{
	sl_dag g;
	sl_dag_init(&g);
	probe p;
	probe_init(&p);
	behaviour ok[2] = {{0}};
	int a = add_task(&g, "a", &ok[0], 3, 0);
	int b = add_task(&g, "b", &ok[1], 0, 0);
	depend(&g, b, a);
	p.fail_record = a;
	sl_task_status st[2];
	assert_int_equal(execute(&g, NULL, &p, 1, false, st), 1);
	assert_string_equal(p.log, "extract:a#1 success;extract:b#0 skipped;");
	assert_int_equal(st[a], SL_TASK_FAILED);
	assert_int_equal(ok[0].calls, 1);
	assert_int_equal(ok[1].calls, 0);
	sl_dag_free(&g);
}

/* Every allocation of building, selecting, printing and running a graph
 * may fail: the error is SL_ENOMEM and nothing leaks. */
static void test_dag_out_of_memory_fails_cleanly(void **state)
{
	bool succeeded = false;
	for (long n = 0; n < 400 && !succeeded; n++) {
		sl_dag g;
		sl_dag_init(&g);
		sl_error err = SL_ERROR_INIT;
		sl_buf out = SL_BUF_INIT;
		bool selected[20];
		sl_task_status st[20];
		sl_alloc_fail_after(n);
		int rc = 0;
		for (int i = 0; rc >= 0 && i < 20; i++) {
			char id[32];
			snprintf(id, sizeof id, "extract:s.t%d", i);
			const char *tags[1] = {"daily"};
			sl_task t = {.kind = &extract_kind, .id = id, .node = id + 8, .source = "s",
				     .tags = tags, .ntags = 1};
			rc = sl_dag_add(&g, &t, &err);
			if (rc >= 0 && i > 0)
				rc = sl_dag_depend(&g, i, i / 2, &err);
			if (rc >= 0 && i > 5)
				rc = sl_dag_depend(&g, i, i - 5, &err);
		}
		const char *sel = "+s.t19 s.t3+,tag:daily", *exc = "1+s.t10";
		if (rc >= 0)
			rc = sl_dag_select(&g, &sel, 1, &exc, 1, selected, &err);
		if (rc >= 0)
			rc = sl_dag_format(&g, selected, "dot", &out, &err);
		sl_exec_opts o = {.threads = 2};
		if (rc >= 0)
			rc = sl_dag_execute(&g, selected, &o, st, &err);
		sl_alloc_fail_after(-1);
		if (rc < 0) {
			assert_int_equal(rc, SL_ENOMEM);
			assert_int_equal(err.code, SL_ENOMEM);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(st[19], SL_TASK_SUCCESS);
			assert_int_equal(st[10], SL_TASK_NOT_SELECTED);
			succeeded = true;
		}
		sl_buf_free(&out);
		sl_dag_free(&g);
	}
	assert_true(succeeded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dag_add_find_copies_strings),
		cmocka_unit_test(test_dag_check_names_the_cycle),
		cmocka_unit_test(test_select_methods_and_operators),
		cmocka_unit_test(test_select_exclude_and_errors),
		cmocka_unit_test(test_format_text_and_dot),
		cmocka_unit_test(test_exec_retries_until_success),
		cmocka_unit_test(test_exec_failure_skips_downstream_only),
		cmocka_unit_test(test_exec_unselected_tasks_pass_through),
		cmocka_unit_test(test_exec_timeout_ends_a_hung_task),
		cmocka_unit_test(test_exec_cancel_stops_running_and_pending),
		cmocka_unit_test(test_exec_cancel_interrupts_a_retry_wait),
		cmocka_unit_test(test_exec_fail_fast_cancels_the_rest),
		cmocka_unit_test(test_exec_two_threads_run_two_tasks_at_once),
		cmocka_unit_test(test_exec_unrecorded_success_fails),
		cmocka_unit_test(test_dag_out_of_memory_fails_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
