/*
 * run.c: one run of a project's pipeline. Builds the task graph, selects
 * (or, resuming, reselects what did not succeed), records the run, executes
 * the graph and records every attempt from the executor's callbacks: start,
 * end (status, rows, bytes, error) and, once a table's tasks have all
 * ended, its log line and ledger. A failed task skips what waits for it and
 * fails the run, not its siblings.
 */
#include "engine/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

char *sl_engine_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *out = sl_malloc((size_t)n + 1);
	if (!out)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

char *sl_engine_lake_table(const char *source, const char *table)
{
	return sl_engine_printf("raw/%s/%s", source, table);
}

char *sl_engine_quarantine_table(const char *source, const char *table)
{
	return sl_engine_printf("quarantine/%s/%s", source, table);
}

static void table_result_free(sl_table_result *t)
{
	sl_free(t->source);
	sl_free(t->table);
	sl_free(t->lake_table);
	sl_free(t->message);
	sl_free(t->description);
	sl_free(t->renamed);
	sl_free(t->respelled);
}

void sl_run_result_free(sl_run_result *r)
{
	if (!r)
		return;
	for (int i = 0; r->tables && i < r->n; i++)
		table_result_free(&r->tables[i]);
	sl_free(r->tables);
	r->tables = NULL;
	r->n = 0;
	for (int i = 0; r->nodes && i < r->nnodes; i++) {
		sl_free(r->nodes[i].id);
		sl_free(r->nodes[i].name);
		sl_free(r->nodes[i].path);
		sl_free(r->nodes[i].relation);
		sl_free(r->nodes[i].message);
		sl_free(r->nodes[i].sample_json);
		sl_free(r->nodes[i].compiled_sql);
		sl_free(r->nodes[i].stored_in);
	}
	sl_free(r->nodes);
	r->nodes = NULL;
	r->nnodes = 0;
}

/* Marks r failed with msg; a second failure is added to the first (before
 * it when first: an extract's reason goes before its load's, which a
 * cancelled run may report while the extract is still stopping). */
static void table_fail_at(sl_table_result *r, int code, const char *msg, bool first)
{
	if (r->message && strcmp(r->message, msg) == 0) {
		/* The load cancelled like its extract: said once is enough. */
		if (!r->status)
			r->status = code ? code : SL_EINTERNAL;
		return;
	}
	char *m = !r->message ? sl_strdup(msg)
		  : first     ? sl_engine_printf("%s; then: %s", msg, r->message)
			      : sl_engine_printf("%s; then: %s", r->message, msg);
	if (!r->status)
		r->status = code ? code : SL_EINTERNAL;
	if (m) {
		sl_free(r->message);
		r->message = m;
	}
	/* Logged once, in the table's "table failed" line (log_table). */
}

static void table_fail(sl_table_result *r, int code, const char *msg)
{
	table_fail_at(r, code, msg, false);
}

/* Two source tables must not share a warehouse table ("a"."b__c" and
 * "a__b"."c" both make "a__b__c"). */
static int check_names(const sl_project *p, sl_error *err)
{
	int rc = 0;
	for (int s = 0; s < p->nsources && rc == 0; s++) {
		for (int t = 0; t < p->sources[s].ntables && rc == 0; t++) {
			const sl_source_table *a = &p->sources[s].tables[t];
			char *an = sl_wh_raw_table_name(p->sources[s].name, a->name);
			for (int s2 = s; s2 < p->nsources && an && rc == 0; s2++) {
				for (int t2 = s2 == s ? t + 1 : 0; t2 < p->sources[s2].ntables; t2++) {
					const sl_source_table *b = &p->sources[s2].tables[t2];
					char *bn = sl_wh_raw_table_name(p->sources[s2].name, b->name);
					bool same = bn && strcmp(an, bn) == 0;
					sl_free(bn);
					if (!same)
						continue;
					rc = sl_error_set(
						err, SL_ECONFIG,
						"%s:%d: table \"%s\" of source \"%s\" and %s:%d: table "
						"\"%s\" of source \"%s\" would both load into the "
						"warehouse table %s; rename one of them",
						p->sources[s].file, a->line, a->name, p->sources[s].name,
						p->sources[s2].file, b->line, b->name, p->sources[s2].name,
						an);
					break;
				}
			}
			if (!an && rc == 0)
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			sl_free(an);
		}
	}
	return rc;
}

/* The per-table line of --log-format json consumers: what moved and where. */
static void log_table(const engine_exec *x, const char *key, const sl_table_result *r)
{
	char n[6][32];
	snprintf(n[0], sizeof n[0], "%lld", (long long)r->rows_read);
	snprintf(n[1], sizeof n[1], "%lld", (long long)r->rows_landed);
	snprintf(n[2], sizeof n[2], "%lld", (long long)r->rows_quarantined);
	snprintf(n[3], sizeof n[3], "%lld", (long long)r->rows_loaded);
	snprintf(n[4], sizeof n[4], "%lld", (long long)r->lake_version);
	snprintf(n[5], sizeof n[5], "%.3f", r->seconds);
	bool cancelled = r->status == SL_ECANCELLED;
	sl_log_kv(cancelled ? SL_LOG_WARN : r->status ? SL_LOG_ERROR : SL_LOG_INFO,
		  cancelled ? "table cancelled" : r->status ? "table failed" : "table done",
		  "run_id", x->run_id, "table", key, "rows_read", n[0], "rows_landed", n[1],
		  "rows_quarantined", n[2], "rows_loaded", r->rows_loaded >= 0 ? n[3] : NULL,
		  "lake_version", r->lake_version >= 0 ? n[4] : NULL,
		  "error", r->status ? r->message : NULL,
		  "seconds", n[5], (const char *)NULL);
}

/* A table's tasks have all ended: its log line and ledger. */
static int table_done(engine_exec *x, const sl_task *t, sl_table_result *r, sl_error *err)
{
	log_table(x, t->node, r);
	/* rows_loaded -1 (no load ran) is stored as NULL. */
	sl_ledger l = {
		.files = r->files,
		.rows_read = r->rows_read,
		.rows_landed = r->rows_landed,
		.rows_quarantined = r->rows_quarantined,
		.rows_loaded = r->rows_loaded,
		.bytes = (int64_t)r->bytes,
		.seconds = r->seconds,
		.status = r->refused ? "refused" : r->status ? "failed" : "ok",
		.message = r->message,
	};
	int rc = sl_state_ledger_put(x->state, x->run_id,
				     r->lake_table ? r->lake_table : t->node, &l, err);
	if (rc < 0)
		sl_error_prefix(err, "%s: recording its ledger failed: ", t->node);
	return rc;
}

/* on_start: the attempt's row, before it runs. */
static int on_start(void *ctx, int task, int attempt, sl_error *err)
{
	engine_exec *x = ctx;
	const sl_task *t = &x->graph->tasks[task];
	x->attempt_ids[task] = 0;
	if (engine_is_table_task(t))
		x->res->tables[((const engine_table *)t->data)->index].attempts++;
	else if (x->node_result[task] >= 0) {
		sl_node_run *r = &x->res->nodes[x->node_result[task]];
		if (r->attempts++ == 0)
			x->started[task] = sl_monotonic_seconds();
	}
	int rc = sl_state_task_begin(x->state, x->run_id, t->id, attempt, &x->attempt_ids[task],
				     err);
	if (rc < 0)
		sl_error_prefix(err, "%s %s: not started: recording its start failed: ",
				t->kind->name, t->node);
	else
		sl_log(SL_LOG_INFO, "%s: attempt %d started", t->id, attempt);
	return rc;
}

/* The task upstream of t whose failure skipped it, for a skip's message:
 * the first task t waits for that ended without succeeding, looking
 * through tasks that never ran (unselected ones, such as ephemeral
 * models). A task that is still running or waiting is no reason. */
static const char *failed_upstream(const engine_exec *x, const sl_task *t)
{
	const sl_dag *g = x->graph;
	int *queue = sl_malloc(((size_t)g->n + 1) * sizeof *queue);
	bool *seen = sl_calloc((size_t)g->n + 1, sizeof *seen);
	const char *found = NULL;
	int head = 0, tail = 0;
	if (queue && seen)
		queue[tail++] = (int)(t - g->tasks);
	while (head < tail && !found) {
		const sl_task *u = &g->tasks[queue[head++]];
		for (int i = 0; i < u->ndeps && !found; i++) {
			int d = u->deps[i];
			sl_task_status st = x->ended[d];
			if (seen[d])
				continue;
			seen[d] = true;
			if (st == SL_TASK_FAILED || st == SL_TASK_TIMED_OUT ||
			    st == SL_TASK_SKIPPED || st == SL_TASK_CANCELLED)
				found = g->tasks[d].id;
			else if (st == SL_TASK_PENDING)
				queue[tail++] = d;
		}
	}
	sl_free(queue);
	sl_free(seen);
	return found;
}

/* A table task ended: its table's result and, after its last task, ledger. */
static int table_end(engine_exec *x, int task, sl_task_status *stp, bool final,
		     const sl_error *err, const char **msg, sl_error *rec_err)
{
	sl_task_status status = *stp;
	const sl_task *t = &x->graph->tasks[task];
	const engine_table *et = t->data;
	sl_table_result *r = &x->res->tables[et->index];
	bool extract = t->kind == &sl_engine_extract_kind;
	int rc = 0;

	if (final) {
		if (extract)
			r->extract_status = status;
		else
			r->load_status = status;
	}
	if (final && status != SL_TASK_SUCCESS && status != SL_TASK_SKIPPED)
		table_fail_at(r, err && err->code ? err->code : SL_ECANCELLED,
			      *msg ? *msg : sl_task_status_name(status), extract);
	if (final && --x->table_left[et->index] == 0 && table_done(x, t, r, rec_err) < 0) {
		table_fail(r, rec_err->code, rec_err->message);
		if (status == SL_TASK_SUCCESS) {
			status = *stp = SL_TASK_FAILED;
			*msg = rec_err->message;
			x->ended[task] = status;
			if (extract)
				r->extract_status = status;
			else
				r->load_status = status;
		}
		rc = rec_err->code;
	}
	return rc;
}

/* A model, seed or snapshot task ended for good: its result, and the
 * caller's line. */
static void node_end(engine_exec *x, int task, sl_task_status status, const char *msg)
{
	sl_node_run *r = &x->res->nodes[x->node_result[task]];
	r->status = status;
	if (msg && status != SL_TASK_SUCCESS && !r->message)
		r->message = sl_strdup(msg);
	if (r->attempts > 0)
		r->seconds = sl_monotonic_seconds() - x->started[task];
	r->order = ++x->nodes_ended;
	if (x->opts->on_node)
		x->opts->on_node(x->opts->node_ctx, r, x->res->nnodes);
}

/*
 * on_end: the attempt's outcome; for a task that never ran, a row of
 * attempt 0 saying why. When the table's last task ended, its ledger. A
 * record that cannot be written fails the task (a negative return turns
 * a success into a failure): state.db never shows work it missed.
 */
static int on_end(void *ctx, int task, int attempt, sl_task_status status,
		  const sl_task_outcome *out, const sl_error *err, sl_error *rec_err)
{
	engine_exec *x = ctx;
	const sl_task *t = &x->graph->tasks[task];
	bool final = status != SL_TASK_UP_FOR_RETRY;
	const char *msg = err && err->code ? err->message : NULL;
	char *owned = NULL;
	int rc = 0;

	if (status == SL_TASK_TIMED_OUT ||
	    (status == SL_TASK_UP_FOR_RETRY && err && err->code == SL_ETIMEOUT))
		msg = owned = sl_engine_printf("%s (timeout: %gs per attempt)",
					       msg ? msg : t->id, t->timeout);
	else if (status == SL_TASK_SKIPPED) {
		const char *up = failed_upstream(x, t);
		msg = owned = sl_engine_printf("upstream %s did not succeed",
					       up ? up : "a task it waits for");
	} else if (status == SL_TASK_CANCELLED && !msg)
		msg = attempt == 0 ? "cancelled before it started" : "cancelled";
	if (final)
		x->ended[task] = status;
	bool table = engine_is_table_task(t);
	if (table)
		rc = table_end(x, task, &status, final, err, &msg, rec_err);
	sl_error e = SL_ERROR_INIT;
	int64_t rows = out && attempt > 0 ? out->rows : -1;
	int64_t bytes = out && attempt > 0 ? (int64_t)out->bytes : -1;
	int rec = 0;
	if (x->attempt_ids[task] == 0 || attempt == 0)
		rec = sl_state_task_begin(x->state, x->run_id, t->id, attempt,
					  &x->attempt_ids[task], &e);
	if (rec == 0)
		rec = sl_state_task_end(x->state, x->attempt_ids[task], sl_task_status_name(status),
					rows, bytes, msg, &e);
	x->attempt_ids[task] = 0;
	if (rec < 0) {
		sl_error_prefix(&e, "%s %s: recording its outcome failed: ", t->kind->name, t->node);
		if (table)
			table_fail(&x->res->tables[((const engine_table *)t->data)->index], e.code,
				   e.message);
		else if (status == SL_TASK_SUCCESS) {
			status = SL_TASK_FAILED;
			x->ended[task] = status;
			msg = e.message;
		}
		if (rc == 0) {
			*rec_err = e;
			rc = e.code;
		}
	}
	if (!table && final && x->node_result[task] >= 0)
		node_end(x, task, status, msg);
	/* A test's result, sample and SQL, once it ended for good. */
	if (!table && final && x->node_result[task] >= 0 && t->kind == &sl_engine_test_kind) {
		sl_error te = SL_ERROR_INIT;
		if (engine_test_record(x, &x->res->nodes[x->node_result[task]], &te) < 0)
			sl_log(SL_LOG_ERROR, "%s", te.message);
	}
	/* A retry is worth a warning; a final failure is in the table's line. */
	sl_log(status == SL_TASK_UP_FOR_RETRY ? SL_LOG_WARN : SL_LOG_INFO, "%s: attempt %d %s%s%s",
	       t->id, attempt, sl_task_status_name(status), msg ? ": " : "", msg ? msg : "");
	sl_free(owned);
	return rc;
}

/* The tables with a selected task, in project order, moved to the front. */
static void compact_results(sl_run_result *res, int total, const int *selected_tasks)
{
	int m = 0;
	for (int i = 0; i < total; i++) {
		if (selected_tasks[i] == 0) {
			table_result_free(&res->tables[i]);
			continue;
		}
		if (m != i)
			res->tables[m] = res->tables[i];
		m++;
	}
	res->n = m;
}

/* The run's outcome in a line, for its record. */
static char *run_message(const sl_run_result *res)
{
	if (res->cancelled)
		return sl_engine_printf("cancelled: %d of %d tasks succeeded, %d cancelled, %d "
					"failed, %d skipped", res->tasks_succeeded, res->tasks,
					res->tasks_cancelled, res->tasks_failed,
					res->tasks_skipped);
	if (res->failed == 0 && res->tables_cancelled == 0 && res->nodes_failed == 0 &&
	    res->nodes_skipped == 0 && res->nodes_cancelled == 0)
		return NULL;
	if (res->n == 0)
		return sl_engine_printf("%d of %d %s failed, %d skipped, %d cancelled",
					res->nodes_failed, res->nnodes,
					res->nnodes == 1 ? "node" : "nodes", res->nodes_skipped,
					res->nodes_cancelled);
	return sl_engine_printf("%d of %d %s failed, %d cancelled (%d of %d tasks failed, %d "
				"skipped, %d cancelled)", res->failed, res->n,
				res->n == 1 ? "table" : "tables", res->tables_cancelled,
				res->tasks_failed, res->tasks, res->tasks_skipped,
				res->tasks_cancelled);
}

/* The run's graph: the source tables' tasks as the command asks (all of
 * them, for the models' dependencies, when there are models), then the
 * models, seeds and snapshots. */
static int build_graph(sl_dag *g, const sl_project *p, const sl_run_opts *o, sl_error *err)
{
	sl_graph_opts go = {.target = o->target, .extract = o->extract, .load = o->load};
	if (!o->models)
		return sl_engine_graph(g, p, &go, err);
	int n = sl_models_count(o->models);
	sl_node *nodes = sl_calloc((size_t)n + 1, sizeof *nodes);
	if (!nodes)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		nodes[i] = *sl_models_node(o->models, i);
	go.extract = go.load = true;
	go.tests_gate = o->run_tests && (o->run_models || o->run_seeds || o->run_snapshots);
	go.nodes = nodes;
	go.nnodes = n;
	go.models = o->models;
	int rc = sl_engine_graph(g, p, &go, err);
	sl_free(nodes);
	return rc;
}

/* Whether the command runs tasks of t's kind. */
static bool kind_runs(const sl_run_opts *o, const sl_task *t)
{
	if (sl_engine_task_is_placeholder(t))
		return false;
	const sl_task_kind *k = t->kind;
	return (k == &sl_engine_extract_kind && o->extract) ||
	       (k == &sl_engine_load_kind && o->load) ||
	       (k == &sl_engine_model_kind && o->run_models) ||
	       (k == &sl_engine_seed_kind && o->run_seeds) ||
	       (k == &sl_engine_snapshot_kind && o->run_snapshots) ||
	       (k == &sl_engine_test_kind && o->run_tests);
}

/*
 * --select, then (upstream_sources) the extract and load tasks upstream of
 * each selected node, then --exclude, then the command's kinds. Items are
 * matched against the whole graph: `sluice run --select seed_x+` runs the
 * models downstream of seed_x.
 */
static int select_tasks(const sl_dag *g, const sl_run_opts *o, bool *selected, sl_error *err)
{
	bool *keep = NULL;
	int *stack = NULL;
	int rc = sl_dag_select(g, o->select, o->nselect, NULL, 0, selected, err);
	if (rc == 0 && o->run_tests && o->nselect > 0)
		rc = sl_engine_select_tests(g, o->indirect_selection, selected, err);
	if (rc < 0)
		return rc;
	if (o->upstream_sources && o->nselect > 0) {
		bool *seen = sl_calloc((size_t)g->n + 1, sizeof *seen);
		stack = sl_malloc(((size_t)g->n + 1) * sizeof *stack);
		if (!seen || !stack) {
			sl_free(seen);
			sl_free(stack);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		int top = 0;
		for (int i = 0; i < g->n; i++)
			if (selected[i] && sl_engine_task_node(&g->tasks[i]) >= 0) {
				seen[i] = true;
				stack[top++] = i;
			}
		while (top > 0) {
			const sl_task *t = &g->tasks[stack[--top]];
			for (int d = 0; d < t->ndeps; d++) {
				int u = t->deps[d];
				if (seen[u])
					continue;
				seen[u] = true;
				stack[top++] = u;
				if (engine_is_table_task(&g->tasks[u]))
					selected[u] = true;
			}
		}
		sl_free(seen);
		sl_free(stack);
	}
	if (o->nexclude > 0) {
		if (!(keep = sl_calloc((size_t)g->n + 1, sizeof *keep)))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		rc = sl_dag_select(g, NULL, 0, o->exclude, o->nexclude, keep, err);
		/* A node left out leaves its tests out (but for
		 * --indirect-selection empty). */
		bool empty = o->indirect_selection && strcmp(o->indirect_selection, "empty") == 0;
		for (int i = 0; rc == 0 && !empty && i < g->n; i++) {
			const sl_task *t = &g->tasks[i];
			for (int d = 0; t->kind == &sl_engine_test_kind && d < t->ndeps; d++)
				if (!keep[t->deps[d]])
					keep[i] = false;
		}
		for (int i = 0; rc == 0 && i < g->n; i++)
			selected[i] = selected[i] && keep[i];
		sl_free(keep);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < g->n; i++)
		if (selected[i] && !kind_runs(o, &g->tasks[i]))
			selected[i] = false;
	return 0;
}

/* One sl_node_run per selected node task, in graph order. */
static int node_results(engine_exec *x, const sl_dag *g, const bool *selected,
			sl_run_result *res, sl_error *err)
{
	if (res->nnodes == 0)
		return 0;
	res->nodes = sl_calloc((size_t)res->nnodes, sizeof *res->nodes);
	if (!res->nodes) {
		res->nnodes = 0;
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	int m = 0;
	for (int i = 0; i < g->n; i++) {
		int ni = selected[i] ? sl_engine_task_node(&g->tasks[i]) : -1;
		if (ni < 0 || !x->opts->models)
			continue;
		const sl_node *n = sl_models_node(x->opts->models, ni);
		sl_node_run *r = &res->nodes[m];
		x->node_result[i] = m++;
		r->id = sl_strdup(n->unique_id);
		r->name = sl_strdup(n->name);
		r->path = sl_strdup(n->path ? n->path : "");
		r->relation = sl_engine_printf("%s.%s", n->schema ? n->schema : "",
					       n->alias ? n->alias : n->name);
		r->resource_type = sl_node_type_name(n->type);
		r->materialized = sl_materialized_name(n->materialized);
		r->status = SL_TASK_PENDING;
		r->rows = -1;
		r->test_status = -1;
		r->failures = -1;
		if (n->type == SL_NODE_TEST) {
			r->materialized = "test";
			r->severity = n->test && n->test->severity == SL_SEVERITY_WARN ? "warn"
											: "error";
		}
		if (!r->id || !r->name || !r->path || !r->relation)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	res->nnodes = m;
	return 0;
}

int sl_engine_run(const sl_project *p, const sl_run_opts *opts, sl_run_result *res,
		  sl_error *err)
{
	engine_exec x = {0};
	engine_resume resume = {0};
	sl_run_opts eff = *opts;
	sl_dag g;
	sl_state *state = NULL;
	bool *selected = NULL;
	sl_task_status *status = NULL;
	int *table_tasks = NULL;
	char *params = NULL, *msg = NULL;
	double t0 = sl_monotonic_seconds();
	int rc, total = 0, reaped = 0;
	bool started = false;

	memset(res, 0, sizeof *res);
	sl_dag_init(&g);
	x.project = p;
	x.opts = &eff;
	x.target = sl_project_target(p, opts->target);
	if (!x.target && (opts->load || opts->models))
		return sl_error_set(err, SL_ECONFIG, "%s: no target named \"%s\"; define it under targets:",
				    p->file, opts->target ? opts->target : p->target);
	if ((rc = check_names(p, err)) < 0)
		return rc;
	for (int s = 0; s < p->nsources; s++)
		total += p->sources[s].ntables;

	rc = sl_state_open(&state, p->dir, err);
	if (rc < 0)
		goto out;
	/* Runs a killed process left "running" are failed now. */
	if ((rc = sl_state_runs_reap(state, &reaped, err)) < 0)
		goto out;
	if (reaped > 0)
		sl_log(SL_LOG_WARN, "%d earlier %s marked failed: the process ended without "
		       "finishing", reaped, reaped == 1 ? "run" : "runs");
	if (opts->resume) {
		rc = engine_resume_load(state, opts->resume, opts->command ? opts->command : "run",
					&resume, err);
		if (rc < 0)
			goto out;
		eff.select = resume.select;
		eff.nselect = resume.nselect;
		eff.exclude = resume.exclude;
		eff.nexclude = resume.nexclude;
		eff.full_refresh = resume.full_refresh;
		eff.indirect_selection = resume.indirect_selection;
		if (resume.has_kinds && opts->models) {
			eff.run_models = resume.run_models;
			eff.run_seeds = resume.run_seeds;
			eff.run_snapshots = resume.run_snapshots;
			eff.run_tests = resume.run_tests;
		}
		eff.logical_date = resume.logical_date;
		eff.data_interval_start = resume.data_interval_start;
		eff.data_interval_end = resume.data_interval_end;
	}
	if (eff.logical_date == 0)
		eff.logical_date = sl_now_micros();
	/* Without an interval (a backfill gives one): the UTC day of the
	 * logical date. */
	if (eff.data_interval_start == 0 && eff.data_interval_end == 0) {
		int64_t day = eff.logical_date / SL_MICROS_PER_DAY -
			      (eff.logical_date % SL_MICROS_PER_DAY < 0);
		eff.data_interval_start = day * SL_MICROS_PER_DAY;
		eff.data_interval_end = eff.data_interval_start + SL_MICROS_PER_DAY;
	}
	sl_engine_logical_dates(eff.logical_date, eff.data_interval_start, eff.data_interval_end,
				&x.dates);

	rc = build_graph(&g, p, &eff, err);
	if (rc < 0)
		goto out;
	selected = sl_calloc((size_t)g.n + 1, sizeof *selected);
	status = sl_calloc((size_t)g.n + 1, sizeof *status);
	x.attempt_ids = sl_calloc((size_t)g.n + 1, sizeof *x.attempt_ids);
	x.node_result = sl_calloc((size_t)g.n + 1, sizeof *x.node_result);
	x.started = sl_calloc((size_t)g.n + 1, sizeof *x.started);
	x.ended = sl_calloc((size_t)g.n + 1, sizeof *x.ended);
	x.table_left = sl_calloc((size_t)total + 1, sizeof *x.table_left);
	table_tasks = sl_calloc((size_t)total + 1, sizeof *table_tasks);
	res->tables = sl_calloc((size_t)total + 1, sizeof *res->tables);
	if (!selected || !status || !x.attempt_ids || !x.ended || !x.table_left || !table_tasks ||
	    !res->tables || !x.node_result || !x.started) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	res->n = total;
	rc = select_tasks(&g, &eff, selected, err);
	if (rc < 0)
		goto out;
	bool lake = false;
	for (int i = 0; i < g.n; i++) {
		x.node_result[i] = -1;
		if (opts->resume && selected[i] && engine_resume_done(&resume, g.tasks[i].id))
			selected[i] = false;
		if (!selected[i])
			continue;
		res->tasks++;
		if (engine_is_table_task(&g.tasks[i])) {
			table_tasks[((const engine_table *)g.tasks[i].data)->index]++;
			lake = true;
		} else {
			res->nnodes++;
		}
	}
	if (res->tasks == 0 && !opts->resume && eff.nselect == 0 && eff.nexclude == 0) {
		/* Nothing of the command's kinds in the project (no sources, no
		 * seeds...): nothing to run, and no run to record. */
		res->n = 0;
		rc = 0;
		goto out;
	}
	if (res->tasks == 0) {
		rc = opts->resume
			? sl_error_set(err, SL_EUSAGE, "--resume: run %s has nothing to resume: "
				       "every task it selected succeeded", opts->resume)
			: sl_error_set(err, SL_EUSAGE, "the selection matched no task");
		goto out;
	}
	/* A lake that cannot be opened stops the run before it starts; its
	 * handle then serves every task of the run. A run of models only (a
	 * dbt project has no lake) opens none. */
	if (lake && (rc = engine_lake_open(&x, err)) < 0)
		goto out;
	if ((rc = node_results(&x, &g, selected, res, err)) < 0)
		goto out;

	/* The results, one per table with a selected task. */
	for (int i = 0; i < g.n; i++) {
		if (!selected[i] || !engine_is_table_task(&g.tasks[i]))
			continue;
		const engine_table *et = g.tasks[i].data;
		sl_table_result *r = &res->tables[et->index];
		if (!r->source) {
			r->source = sl_strdup(et->src->name);
			r->table = sl_strdup(et->t->name);
			r->rows_loaded = -1;
			r->lake_version = -1;
			r->extract_status = SL_TASK_NOT_SELECTED;
			r->load_status = SL_TASK_NOT_SELECTED;
			if (!r->source || !r->table) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto out;
			}
		}
		bool ex = g.tasks[i].kind == &sl_engine_extract_kind;
		if (ex)
			r->extract_status = SL_TASK_PENDING;
		else
			r->load_status = SL_TASK_PENDING;
		snprintf(r->task, sizeof r->task, "%s",
			 r->extract_status != SL_TASK_NOT_SELECTED && r->load_status !=
			 SL_TASK_NOT_SELECTED ? "extract+load" : ex ? "extract" : "load");
	}
	memcpy(x.table_left, table_tasks, sizeof *table_tasks * (size_t)total);

	params = engine_params_json(&eff);
	if (!params) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	sl_state_run_info info = {
		.command = opts->command ? opts->command : "run",
		.target = x.target ? x.target->name : NULL,
		.trigger = opts->trigger,
		.logical_date = eff.logical_date,
		.data_interval_start = eff.data_interval_start,
		.data_interval_end = eff.data_interval_end,
		.resumed_from = opts->resume ? resume.run_id : NULL,
		.params = params,
	};
	rc = sl_state_run_start(state, &info, x.run_id, &x.seq, err);
	if (rc < 0)
		goto out;
	started = true;
	snprintf(res->run_id, sizeof res->run_id, "%s", x.run_id);
	res->seq = x.seq;
	res->logical_date = eff.logical_date;
	if (opts->resume)
		snprintf(res->resumed_from, sizeof res->resumed_from, "%s", resume.run_id);
	sl_log(SL_LOG_INFO, "run %s started: %d %s, logical date %s%s%s", x.run_id, res->tasks,
	       res->tasks == 1 ? "task" : "tasks", x.dates.data_interval_start,
	       opts->resume ? ", resuming " : "", opts->resume ? resume.run_id : "");

	x.graph = &g;
	x.state = state;
	pthread_mutex_init(&x.pool_mu, NULL);
	x.pool_init = true;
	x.res = res;
	memcpy(x.run_id, res->run_id, sizeof x.run_id);
	sl_exec_opts eo = {
		.threads = opts->threads,
		.fail_fast = opts->fail_fast,
		.cancel = opts->cancel,
		.ctx = &x,
		.on_start = on_start,
		.on_end = on_end,
	};
	rc = sl_dag_execute(&g, selected, &eo, status, err);
	if (rc < 0) {
		sl_error_prefix(err, "run %s: ", x.run_id);
		goto out;
	}
	for (int i = 0; i < g.n; i++) {
		if (!selected[i])
			continue;
		sl_task_status st = x.ended[i] ? x.ended[i] : status[i];
		switch (st) {
		case SL_TASK_SUCCESS: res->tasks_succeeded++; break;
		case SL_TASK_SKIPPED: res->tasks_skipped++; break;
		case SL_TASK_CANCELLED: res->tasks_cancelled++; break;
		default: res->tasks_failed++; break;
		}
		if (x.node_result[i] < 0)
			continue;
		sl_node_run *nr = &res->nodes[x.node_result[i]];
		if (!nr->status || nr->status == SL_TASK_PENDING)
			nr->status = st;
		if (g.tasks[i].kind == &sl_engine_test_kind && st == SL_TASK_SUCCESS)
			nr->test_status == SL_TEST_WARN ? res->tests_warned++ : res->tests_passed++;
		else if (g.tasks[i].kind == &sl_engine_test_kind &&
			 (st == SL_TASK_FAILED || st == SL_TASK_TIMED_OUT))
			nr->test_status == SL_TEST_FAIL ? res->tests_failed++ : res->tests_errored++;
		if (st == SL_TASK_SKIPPED)
			res->nodes_skipped++;
		else if (st == SL_TASK_CANCELLED)
			res->nodes_cancelled++;
		else if (st != SL_TASK_SUCCESS)
			res->nodes_failed++;
	}
	res->cancelled = opts->cancel && sl_cancelled(opts->cancel) != 0;
	for (int i = 0; i < total; i++) {
		if (!table_tasks[i] || !res->tables[i].status)
			continue;
		if (res->tables[i].status == SL_ECANCELLED)
			res->tables_cancelled++;
		else
			res->failed++;
	}
	compact_results(res, total, table_tasks);
	res->seconds = sl_monotonic_seconds() - t0;
	bool run_failed = res->failed || res->tables_cancelled || res->nodes_failed ||
			  res->nodes_skipped || res->nodes_cancelled;
	if (res->nnodes == 0)
		sl_log(run_failed ? SL_LOG_WARN : SL_LOG_INFO,
		       "run %s finished: %d %s, %d failed, %d cancelled", x.run_id, res->n,
		       res->n == 1 ? "table" : "tables", res->failed, res->tables_cancelled);
	else if (res->n == 0)
		sl_log(run_failed ? SL_LOG_WARN : SL_LOG_INFO,
		       "run %s finished: %d %s, %d failed, %d skipped", x.run_id, res->nnodes,
		       res->nnodes == 1 ? "node" : "nodes", res->nodes_failed, res->nodes_skipped);
	else
		sl_log(run_failed ? SL_LOG_WARN : SL_LOG_INFO,
		       "run %s finished: %d %s, %d failed, %d cancelled; %d %s, %d failed, "
		       "%d skipped", x.run_id, res->n, res->n == 1 ? "table" : "tables",
		       res->failed, res->tables_cancelled, res->nnodes,
		       res->nnodes == 1 ? "node" : "nodes", res->nodes_failed,
		       res->nodes_skipped);
	msg = run_message(res);
	rc = sl_state_run_end(state, x.run_id,
			      res->cancelled ? "cancelled" : run_failed ? "failed" : "success",
			      msg, err);
	if (rc < 0) {
		/* The tables' work is done (see their log lines) but the run
		 * would show as running forever: fail it. */
		sl_error_prefix(err, "run %s: %d %s processed (%d failed), but recording the "
				"run's end failed: ", x.run_id, res->n,
				res->n == 1 ? "table" : "tables", res->failed);
		started = false;
	}
out:
	if (rc < 0 && started) {
		sl_error e = SL_ERROR_INIT;
		sl_state_run_end(state, x.run_id, "failed", err->message, &e);
	}
	if (rc < 0)
		sl_run_result_free(res);
	engine_lake_close(&x);
	engine_pool_close(&x);
	sl_free(x.node_result);
	sl_free(x.started);
	sl_free(msg);
	sl_free(params);
	sl_free(table_tasks);
	sl_free(x.table_left);
	sl_free(x.ended);
	sl_free(x.attempt_ids);
	sl_free(status);
	sl_free(selected);
	engine_resume_free(&resume);
	sl_dag_free(&g);
	sl_state_close(state);
	return rc;
}
