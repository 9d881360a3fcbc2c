/*
 * test_tasks.c: data tests as tasks of the run's graph — the `test` task
 * kind (a pooled warehouse connection, the watcher, sl_models_test, its
 * outcome into the node's result and state.db), sluice build's gate (a
 * node waits for the tests of what it is built from) and dbt's indirect
 * selection of tests.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ the gate */

static bool is_build_kind(const sl_task_kind *k)
{
	return k == &sl_engine_model_kind || k == &sl_engine_seed_kind ||
	       k == &sl_engine_snapshot_kind;
}

/* Marks in anc[] every task upstream of task (not task itself), through
 * the tasks it waits for. */
static void ancestors(const sl_dag *g, int task, bool *anc, int *stack)
{
	int top = 0;
	memset(anc, 0, sizeof *anc * (size_t)g->n);
	stack[top++] = task;
	while (top > 0) {
		const sl_task *t = &g->tasks[stack[--top]];
		for (int d = 0; d < t->ndeps; d++) {
			int u = t->deps[d];
			if (anc[u])
				continue;
			anc[u] = true;
			stack[top++] = u;
		}
	}
}

/*
 * dbt's build order: node N waits for test T when every task T reads is
 * upstream of N. Then a failing test skips what is built from what it
 * tests, and a test reading several nodes (relationships) gates only what
 * is built from all of them. No cycle can come of it: T's parents all
 * come before N.
 */
int engine_gate_tests(sl_dag *g, sl_error *err)
{
	int n = g->n, ntests = 0, rc = 0;
	for (int i = 0; i < n; i++)
		ntests += g->tasks[i].kind == &sl_engine_test_kind && g->tasks[i].ndeps > 0;
	if (ntests == 0)
		return 0;
	bool *anc = sl_calloc((size_t)n + 1, sizeof *anc);
	int *stack = sl_malloc(((size_t)n + 1) * sizeof *stack);
	int *tests = sl_malloc(((size_t)ntests + 1) * sizeof *tests);
	if (!anc || !stack || !tests) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	ntests = 0;
	for (int i = 0; i < n; i++)
		if (g->tasks[i].kind == &sl_engine_test_kind && g->tasks[i].ndeps > 0)
			tests[ntests++] = i;
	for (int i = 0; i < n && rc == 0; i++) {
		if (!is_build_kind(g->tasks[i].kind) || g->tasks[i].ndeps == 0)
			continue;
		ancestors(g, i, anc, stack);
		for (int k = 0; k < ntests && rc == 0; k++) {
			const sl_task *t = &g->tasks[tests[k]];
			bool all = true;
			for (int d = 0; d < t->ndeps && all; d++)
				all = anc[t->deps[d]];
			if (all)
				rc = sl_dag_depend(g, i, tests[k], err);
		}
	}
out:
	sl_free(anc);
	sl_free(stack);
	sl_free(tests);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------- indirect selection */

int sl_engine_select_tests(const sl_dag *g, const char *mode, bool *selected, sl_error *err)
{
	bool eager = !mode || strcmp(mode, "eager") == 0;
	bool cautious = mode && strcmp(mode, "cautious") == 0;
	bool buildable = mode && strcmp(mode, "buildable") == 0;
	if (mode && strcmp(mode, "empty") == 0)
		return 0;
	if (!eager && !cautious && !buildable)
		return sl_error_set(err, SL_EUSAGE, "--indirect-selection must be eager, cautious, "
				    "buildable or empty, not \"%s\"", mode);
	bool *up = NULL;
	int *stack = NULL;
	if (buildable) {
		/* Every task upstream of a selected one. */
		up = sl_calloc((size_t)g->n + 1, sizeof *up);
		stack = sl_malloc(((size_t)g->n + 1) * sizeof *stack);
		if (!up || !stack) {
			sl_free(up);
			sl_free(stack);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		int top = 0;
		for (int i = 0; i < g->n; i++)
			if (selected[i] && g->tasks[i].kind != &sl_engine_test_kind)
				stack[top++] = i;
		while (top > 0) {
			const sl_task *t = &g->tasks[stack[--top]];
			for (int d = 0; d < t->ndeps; d++)
				if (!up[t->deps[d]]) {
					up[t->deps[d]] = true;
					stack[top++] = t->deps[d];
				}
		}
	}
	/* Judged on the selection as it came, not on the tests added. */
	bool *add = sl_calloc((size_t)g->n + 1, sizeof *add);
	if (!add) {
		sl_free(up);
		sl_free(stack);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < g->n; i++) {
		const sl_task *t = &g->tasks[i];
		if (t->kind != &sl_engine_test_kind || selected[i] || t->ndeps == 0)
			continue;
		int any = 0, all = 1;
		for (int d = 0; d < t->ndeps; d++) {
			int u = t->deps[d];
			bool in = selected[u] && g->tasks[u].kind != &sl_engine_test_kind;
			any |= in;
			all &= in || (buildable && up[u]);
		}
		/* eager: one parent selected; cautious: all of them;
		 * buildable: one, and the others upstream of the selection */
		add[i] = eager ? any : any && all;
	}
	for (int i = 0; i < g->n; i++)
		selected[i] = selected[i] || add[i];
	sl_free(add);
	sl_free(up);
	sl_free(stack);
	return 0;
}

/* ------------------------------------------------------------- running */

int engine_test_record(engine_exec *x, const sl_node_run *r, sl_error *err)
{
	if (r->test_status < 0)
		return 0; /* it did not run: skipped or cancelled */
	const sl_node *n = NULL;
	int ni = x->opts->models ? sl_models_find(x->opts->models, r->id) : -1;
	if (ni >= 0)
		n = sl_models_node(x->opts->models, ni);
	sl_state_test_result tr = {
		.run_id = x->run_id,
		.table = n && n->test && n->test->attached_node ? (char *)n->test->attached_node
								  : (char *)"",
		.test = r->id,
		.status = (char *)sl_test_status_name((sl_test_status)r->test_status),
		.failures = r->failures,
		.message = r->message,
		.sample_json = r->sample_json,
		.compiled_sql = r->compiled_sql,
		.seconds = r->seconds,
	};
	int rc = sl_state_test_result_put(x->state, &tr, err);
	if (rc < 0)
		sl_error_prefix(err, "test %s: recording its result failed: ", r->name);
	return rc;
}

typedef struct test_attempt {
	const engine_node *en;
	const sl_cancel *cancel;
	sl_test_result res;
} test_attempt;

static int test_on(void *ud, sl_wh *wh, sl_error *err)
{
	test_attempt *t = ud;
	return sl_models_test(t->en->models, t->en->index, wh, t->cancel, &t->res, err);
}

static int test_run(sl_task *task, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		    sl_error *err)
{
	engine_exec *x = ctx;
	const engine_node *en = task->data;
	int ri = x->node_result ? x->node_result[task - x->graph->tasks] : -1;
	sl_node_run *r = ri >= 0 ? &x->res->nodes[ri] : NULL;
	test_attempt t = {.en = en, .cancel = cancel};
	sl_test_result *tr = &t.res;

	tr->failures = -1;
	out->rows = 0;
	out->bytes = 0;
	out->noop = false;
	if (!en || !en->models)
		return sl_error_set(err, SL_EINTERNAL, "%s: the graph was not made to run",
				    task->id);
	int rc = engine_on_wh(x, task, cancel, NULL, NULL, test_on, &t, err);
	bool stopped = rc == SL_ECANCELLED || rc == SL_ETIMEOUT;
	if (r) {
		/* The last attempt's outcome is the test's. */
		sl_free(r->sample_json);
		sl_free(r->compiled_sql);
		sl_free(r->stored_in);
		r->sample_json = tr->sample_json;
		r->compiled_sql = tr->compiled_sql;
		r->stored_in = tr->stored_in;
		tr->sample_json = tr->compiled_sql = tr->stored_in = NULL;
		r->failures = rc == 0 ? tr->failures : -1;
		r->test_status = stopped ? -1 : rc < 0 ? SL_TEST_ERROR : (int)tr->status;
	}
	if (rc == 0 && tr->status == SL_TEST_FAIL)
		/* Failing rows at error severity fail the task: what is built
		 * from what it tests is skipped. */
		rc = sl_error_set(err, SL_ELIMIT, "%s",
				  tr->message ? tr->message : "the test found failing rows");
	else if (rc == 0 && tr->status == SL_TEST_WARN && r && tr->message && !r->message)
		r->message = sl_strdup(tr->message);
	out->rows = rc == 0 && tr->failures > 0 ? tr->failures : 0;
	sl_test_result_free(tr);
	return rc;
}

const sl_task_kind sl_engine_test_kind = {.name = "test", .run = test_run};
