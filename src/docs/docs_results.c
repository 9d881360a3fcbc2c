/*
 * docs_results.c: what a run leaves for dbt's ecosystem — target/
 * run_results.json (schema v6: one result per model, seed, snapshot and
 * test the run selected) and target/sources.json (schema v3: one result
 * per source table whose freshness was measured).
 */
#include "docs/docs_int.h"

#include <string.h>

/* dbt's status of a node: models, seeds and snapshots success, error or
 * skipped; tests pass, warn, fail, error or skipped. */
static const char *run_status(const sl_node_run *r, bool test)
{
	if (test && r->test_status >= 0) {
		switch (r->test_status) {
		case SL_TEST_PASS: return "pass";
		case SL_TEST_WARN: return "warn";
		case SL_TEST_FAIL: return "fail";
		default: return "error";
		}
	}
	switch (r->status) {
	case SL_TASK_SUCCESS: return test ? "pass" : "success";
	case SL_TASK_SKIPPED:
	case SL_TASK_CANCELLED:
	case SL_TASK_PENDING:
	case SL_TASK_NOT_SELECTED: return "skipped";
	default: return "error";
	}
}

static json_t *result_json(d_json *j, sl_models *m, const sl_node_run *r,
			   const sl_docs_invocation *inv, sl_arena *a)
{
	json_t *o = d_obj(j);
	bool test = r->resource_type && strcmp(r->resource_type, "test") == 0;
	const char *status = run_status(r, test);
	bool ran = r->status == SL_TASK_SUCCESS || (test && r->test_status >= 0);
	int k = m && r->id ? sl_models_find(m, r->id) : -1;
	const sl_node *n = k >= 0 ? sl_models_node(m, k) : NULL;

	d_set(j, o, "status", d_str(j, status));
	/* sluice does not keep when each step of a node started: no timing */
	d_set(j, o, "timing", d_arr(j));
	d_set(j, o, "thread_id", d_str(j, "main"));
	d_set(j, o, "execution_time", d_real(j, r->seconds));
	json_t *ar = d_obj(j);
	if (ran && !test) {
		d_set(j, ar, "_message", d_str(j, r->build.message));
		d_set(j, ar, "code", d_str(j, r->build.message));
		if (r->rows >= 0)
			d_set(j, ar, "rows_affected", d_int(j, r->rows));
	}
	d_set(j, o, "adapter_response", ar);
	const char *message = r->message;
	if (!message && ran && !test)
		message = r->build.message[0] ? r->build.message : NULL;
	if (!message && r->status == SL_TASK_CANCELLED)
		message = "cancelled";
	d_set(j, o, "message", d_str(j, message));
	d_set(j, o, "failures", test && r->failures >= 0 ? d_int(j, r->failures) : d_null(j));
	d_set(j, o, "unique_id", d_str(j, r->id));
	d_set(j, o, "compiled", d_bool(j, r->compiled_sql != NULL));
	d_set(j, o, "compiled_code", d_str(j, r->compiled_sql));
	const char *rel = NULL;
	if (n && n->type == SL_NODE_TEST && n->test && n->test->store_failures)
		rel = d_relation_name(a, d_database(inv, n->database), n->test->audit_schema,
				      n->test->audit_relation);
	else if (n && n->type != SL_NODE_TEST && n->materialized != SL_MAT_EPHEMERAL)
		rel = d_relation_name(a, d_database(inv, n->database), n->schema, n->alias);
	d_set(j, o, "relation_name", d_str(j, rel));
	d_set(j, o, "batch_results", d_null(j));
	return o;
}

static json_t *args_json(d_json *j, const sl_docs_invocation *inv)
{
	json_t *o = d_obj(j);
	if (!inv)
		return o;
	d_set(j, o, "which", d_str(j, inv->command));
	d_set(j, o, "target", d_str(j, inv->target));
	sl_buf cmd = SL_BUF_INIT;
	bool oom = sl_buf_puts(&cmd, "sluice") < 0;
	for (int i = 0; i < inv->nargs && !oom; i++)
		oom = sl_buf_putc(&cmd, ' ') < 0 || sl_buf_puts(&cmd, inv->args[i]) < 0;
	if (oom)
		j->oom = true;
	d_set(j, o, "invocation_command", d_str(j, cmd.data));
	d_set(j, o, "argv", d_strs(j, inv->args, inv->nargs));
	sl_buf_free(&cmd);
	return o;
}

int sl_docs_write_run_results(sl_models *m, const sl_run_result *r,
			      const sl_docs_invocation *inv, const char *target_dir,
			      sl_error *err)
{
	d_json j = {false};
	sl_arena a;
	sl_arena_init(&a, 4096);
	json_t *root = d_obj(&j);
	d_set(&j, root, "metadata", d_metadata(&j, SL_DOCS_RUN_RESULTS_SCHEMA, inv));
	json_t *results = d_arr(&j);
	for (int i = 0; r && i < r->nnodes; i++)
		d_push(&j, results, result_json(&j, m, &r->nodes[i], inv, &a));
	d_set(&j, root, "results", results);
	d_set(&j, root, "elapsed_time", d_real(&j, r ? r->seconds : 0));
	d_set(&j, root, "args", args_json(&j, inv));
	int rc = d_write(&j, root, target_dir, "run_results.json", err);
	sl_arena_free(&a);
	return rc;
}

static const char *fresh_status(sl_fresh_status s)
{
	switch (s) {
	case SL_FRESH_PASS: return "pass";
	case SL_FRESH_WARN: return "warn";
	case SL_FRESH_ERROR: return "error";
	default: return "runtime error";
	}
}

static json_t *freshness_json(d_json *j, const sl_freshness_run *f)
{
	json_t *o = d_obj(j);
	d_set(j, o, "unique_id", d_str(j, f->unique_id));
	if (f->status == SL_FRESH_RUNTIME_ERROR) {
		/* dbt's SourceFreshnessRuntimeError: the id, the error, the status */
		d_set(j, o, "error", d_str0(j, f->message));
		d_set(j, o, "status", d_str(j, "runtime error"));
		return o;
	}
	d_set(j, o, "max_loaded_at", d_time(j, f->max_loaded_at));
	d_set(j, o, "snapshotted_at", d_time(j, f->snapshotted_at));
	d_set(j, o, "max_loaded_at_time_ago_in_s", d_real(j, f->age_seconds));
	d_set(j, o, "status", d_str(j, fresh_status(f->status)));
	d_set(j, o, "criteria", d_freshness(j, &f->criteria));
	d_set(j, o, "adapter_response", d_obj(j));
	d_set(j, o, "timing", d_arr(j));
	d_set(j, o, "thread_id", d_str(j, "main"));
	d_set(j, o, "execution_time", d_real(j, f->seconds));
	return o;
}

int sl_docs_write_sources(const sl_freshness_report *r, const sl_docs_invocation *inv,
			  const char *target_dir, sl_error *err)
{
	d_json j = {false};
	json_t *root = d_obj(&j);
	d_set(&j, root, "metadata", d_metadata(&j, SL_DOCS_SOURCES_SCHEMA, inv));
	json_t *results = d_arr(&j);
	for (int i = 0; r && i < r->n; i++)
		d_push(&j, results, freshness_json(&j, &r->items[i]));
	d_set(&j, root, "results", results);
	double elapsed = r && r->ended_at > r->started_at
				 ? (double)(r->ended_at - r->started_at) / 1e6
				 : 0;
	d_set(&j, root, "elapsed_time", d_real(&j, elapsed));
	return d_write(&j, root, target_dir, "sources.json", err);
}
