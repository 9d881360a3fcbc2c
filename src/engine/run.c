/*
 * run.c: one run of a project's pipeline. Opens the state store and the
 * lake, records the run, and runs each selected source table's extract and
 * load tasks in order, collecting a result and a ledger per table. A
 * failed task fails the run but not its siblings.
 */
#include "engine/engine_int.h"

#include <fnmatch.h>
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

void sl_run_result_free(sl_run_result *r)
{
	if (!r)
		return;
	for (int i = 0; r->tables && i < r->n; i++) {
		sl_table_result *t = &r->tables[i];
		sl_free(t->source);
		sl_free(t->table);
		sl_free(t->lake_table);
		sl_free(t->message);
		sl_free(t->description);
		sl_free(t->renamed);
		sl_free(t->respelled);
	}
	sl_free(r->tables);
	r->tables = NULL;
	r->n = 0;
}

/* Marks r failed with msg; a second failure is added to the first. */
static void table_fail(sl_table_result *r, int code, const char *msg)
{
	char *m = r->message ? sl_engine_printf("%s; then: %s", r->message, msg)
			     : sl_strdup(msg);
	if (!r->status)
		r->status = code;
	if (m) {
		sl_free(r->message);
		r->message = m;
	}
	/* Logged once, in the table's "table failed" line (log_table). */
}

static bool matches(const char *const *pats, int n, const char *src, const char *table)
{
	char *full = sl_engine_printf("%s.%s", src, table);
	bool hit = false;
	for (int i = 0; i < n && !hit; i++)
		hit = (full && fnmatch(pats[i], full, 0) == 0) || fnmatch(pats[i], src, 0) == 0;
	sl_free(full);
	return hit;
}

static bool selected(const sl_run_opts *o, const char *src, const char *table)
{
	if (o->nselect > 0 && !matches(o->select, o->nselect, src, table))
		return false;
	if (o->nexclude > 0 && matches(o->exclude, o->nexclude, src, table))
		return false;
	return true;
}

typedef int (*task_fn)(engine_run *run, const sl_source *src, const sl_source_table *t,
		       sl_table_result *res, sl_error *err);

/*
 * Runs one task of a table, recording its attempt and any failure in r. A
 * task whose attempt cannot be recorded does not run; one whose outcome
 * cannot be recorded fails, so that state.db never shows work it missed.
 */
static void run_task(engine_run *run, const char *kind, const char *key, task_fn fn,
		     const sl_source *src, const sl_source_table *t, sl_table_result *r)
{
	int64_t task_id = 0;
	sl_error err = SL_ERROR_INIT;
	char *task = sl_engine_printf("%s:%s", kind, key);
	int rc = task ? 0 : sl_error_set(&err, SL_ENOMEM, "out of memory");

	if (rc == 0 && (rc = sl_state_task_begin(run->state, run->run_id, task, 1, &task_id,
						 &err)) < 0)
		sl_error_prefix(&err, "%s %s: not started: recording its start failed: ", kind, key);
	if (rc == 0)
		rc = fn(run, src, t, r, &err);
	if (rc < 0)
		table_fail(r, rc, err.message);
	sl_error_clear(&err);
	if (task_id > 0 &&
	    sl_state_task_end(run->state, task_id,
			      r->status ? "failed" : (r->skipped ? "skipped" : "success"),
			      r->status ? r->message : NULL, &err) < 0) {
		sl_error_prefix(&err, "%s %s: recording its outcome failed: ", kind, key);
		table_fail(r, err.code, err.message);
	}
	sl_free(task);
}

/* How long a commit waits for another process's commit lock: a commit
 * holds it for one stat and one small PUT, so only a stuck store waits
 * this long (a crashed holder's lock is taken over, see sl_state_lock). */
#define COMMIT_LOCK_TIMEOUT_MS INT64_C(600000)

/* lake_commit_lock: state — the lake's commit lock is a state.db lock
 * named after the lake and table, shared by every process of the project. */
static int commit_lock(void *ctx, const char *table, sl_error *err)
{
	engine_run *run = ctx;
	char *name = sl_engine_printf("lake-commit:%s/%s", run->project->lake, table);
	if (!name)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int rc = sl_state_lock(run->state, name, COMMIT_LOCK_TIMEOUT_MS, err);
	sl_free(name);
	return rc;
}

static void commit_unlock(void *ctx, const char *table)
{
	engine_run *run = ctx;
	char *name = sl_engine_printf("lake-commit:%s/%s", run->project->lake, table);
	if (name)
		sl_state_unlock(run->state, name);
	sl_free(name);
}

/*
 * One source table is worked on by one process at a time: two runs that
 * both saw a new file would land it twice, two loads would insert the same
 * lake versions twice. The lock lives in state.db, so it covers every
 * process of the project (a scheduler fanning tables out with --select
 * still runs different tables in parallel).
 */
#define TABLE_LOCK_TIMEOUT_MS INT64_C(600000)
#define TABLE_LOCK_RENEW_S 60.0

static int table_lock(engine_run *run, const char *key, sl_error *err)
{
	run->table_lock = sl_engine_printf("table:%s", key);
	if (!run->table_lock)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int rc = sl_state_lock(run->state, run->table_lock, TABLE_LOCK_TIMEOUT_MS, err);
	if (rc < 0) {
		sl_free(run->table_lock);
		run->table_lock = NULL;
		return sl_error_prefix(err, "%s: another sluice process works on this table: ",
				       key);
	}
	run->lock_renewed = sl_monotonic_seconds();
	return 0;
}

static void table_unlock(engine_run *run)
{
	if (run->table_lock)
		sl_state_unlock(run->state, run->table_lock);
	sl_free(run->table_lock);
	run->table_lock = NULL;
}

int sl_engine_heartbeat(engine_run *run, sl_error *err)
{
	double now = sl_monotonic_seconds();
	if (!run->table_lock || now - run->lock_renewed < TABLE_LOCK_RENEW_S)
		return 0;
	run->lock_renewed = now;
	return sl_state_lock_renew(run->state, run->table_lock, err);
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
static void log_table(const engine_run *run, const char *key, const sl_table_result *r)
{
	char n[6][32];
	snprintf(n[0], sizeof n[0], "%lld", (long long)r->rows_read);
	snprintf(n[1], sizeof n[1], "%lld", (long long)r->rows_landed);
	snprintf(n[2], sizeof n[2], "%lld", (long long)r->rows_quarantined);
	snprintf(n[3], sizeof n[3], "%lld", (long long)r->rows_loaded);
	snprintf(n[4], sizeof n[4], "%lld", (long long)r->lake_version);
	snprintf(n[5], sizeof n[5], "%.3f", r->seconds);
	sl_log_kv(r->status ? SL_LOG_ERROR : SL_LOG_INFO, r->status ? "table failed" : "table done",
		  "run_id", run->run_id, "table", key, "rows_read", n[0], "rows_landed", n[1],
		  "rows_quarantined", n[2], "rows_loaded", r->rows_loaded >= 0 ? n[3] : NULL,
		  "lake_version", r->lake_version >= 0 ? n[4] : NULL,
		  "error", r->status ? r->message : NULL,
		  "seconds", n[5], (const char *)NULL);
}

/* One source table: its lock, extract and load tasks, log line and ledger. */
static void run_table(engine_run *run, const sl_source *src, const sl_source_table *tab,
		      sl_table_result *r)
{
	const sl_run_opts *opts = run->opts;
	sl_error err = SL_ERROR_INIT;

	r->rows_loaded = -1;
	r->lake_version = -1;
	r->source = sl_strdup(src->name);
	r->table = sl_strdup(tab->name);
	char *key = sl_engine_printf("%s.%s", src->name, tab->name);
	if (!r->source || !r->table || !key) {
		table_fail(r, SL_ENOMEM, "out of memory");
		goto done;
	}

	if (table_lock(run, key, &err) < 0)
		table_fail(r, err.code, err.message);
	if (opts->extract && r->status == 0) {
		snprintf(r->task, sizeof r->task, "extract");
		run_task(run, "extract", key, sl_engine_extract_table, src, tab, r);
	}
	if (opts->load && r->status == 0) {
		snprintf(r->task, sizeof r->task, opts->extract ? "extract+load" : "load");
		run_task(run, "load", key, sl_engine_load_table, src, tab, r);
	}
	table_unlock(run);
	log_table(run, key, r);

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
	sl_error_clear(&err);
	if (sl_state_ledger_put(run->state, run->run_id, r->lake_table ? r->lake_table : key, &l,
				&err) < 0) {
		sl_error_prefix(&err, "%s: recording its ledger failed: ", key);
		table_fail(r, err.code, err.message);
	}
done:
	sl_free(key);
}

int sl_engine_run(const sl_project *p, const sl_run_opts *opts, sl_run_result *res,
		  sl_error *err)
{
	engine_run run = {0};
	double t0 = sl_monotonic_seconds();
	int rc, total = 0;

	memset(res, 0, sizeof *res);
	run.project = p;
	run.opts = opts;
	run.target = sl_project_target(p, opts->target);
	if (!run.target && opts->load)
		return sl_error_set(err, SL_ECONFIG, "%s: no target named \"%s\"; define it under targets:",
				    p->file, opts->target ? opts->target : p->target);

	if ((rc = check_names(p, err)) < 0)
		return rc;
	for (int s = 0; s < p->nsources; s++)
		for (int t = 0; t < p->sources[s].ntables; t++)
			total++;
	res->tables = sl_calloc((size_t)total + 1, sizeof *res->tables);
	if (!res->tables)
		return sl_error_set(err, SL_ENOMEM, "out of memory");

	rc = sl_state_open(&run.state, p->dir, err);
	if (rc < 0)
		goto out;
	rc = sl_lake_open(&run.lake, p->lake, err);
	if (rc < 0)
		goto out;
	if (p->lake_commit_lock && strcmp(p->lake_commit_lock, "state") == 0)
		sl_lake_set_commit_lock(run.lake, commit_lock, commit_unlock, &run);
	rc = sl_state_run_begin(run.state, opts->command ? opts->command : "run",
				run.target ? run.target->name : NULL, run.run_id, &run.seq, err);
	if (rc < 0)
		goto out;
	snprintf(res->run_id, sizeof res->run_id, "%s", run.run_id);
	res->seq = run.seq;
	sl_log(SL_LOG_INFO, "run %s started", run.run_id);

	for (int s = 0; s < p->nsources; s++) {
		const sl_source *src = &p->sources[s];
		for (int t = 0; t < src->ntables; t++) {
			const sl_source_table *tab = &src->tables[t];
			if (!selected(opts, src->name, tab->name))
				continue;
			sl_table_result *r = &res->tables[res->n++];
			run_table(&run, src, tab, r);
			if (r->status)
				res->failed++;
		}
	}
	if (opts->nselect > 0 && res->n == 0) {
		rc = sl_error_set(err, SL_EUSAGE, "--select matched no source table");
		sl_state_run_end(run.state, run.run_id, "failed", err->message, NULL);
		goto out;
	}
	res->seconds = sl_monotonic_seconds() - t0;
	sl_log(res->failed ? SL_LOG_WARN : SL_LOG_INFO, "run %s finished: %d %s, %d failed",
	       run.run_id, res->n, res->n == 1 ? "table" : "tables", res->failed);
	{
		char msg[64];
		snprintf(msg, sizeof msg, "%d of %d %s failed", res->failed, res->n,
			 res->n == 1 ? "table" : "tables");
		rc = sl_state_run_end(run.state, run.run_id, res->failed ? "failed" : "success",
				      res->failed ? msg : NULL, err);
		if (rc < 0) {
			/* The tables' work is done (see their log lines) but the
			 * run would show as running forever: fail it. */
			sl_error_prefix(err, "run %s: %d %s processed (%d failed), but recording "
					"the run's end failed: ", run.run_id, res->n,
					res->n == 1 ? "table" : "tables", res->failed);
			goto out;
		}
	}
	rc = 0;
out:
	sl_wh_close(run.wh);
	sl_free(run.table_lock);
	sl_lake_close(run.lake);
	sl_state_close(run.state);
	if (rc < 0)
		sl_run_result_free(res);
	return rc;
}
