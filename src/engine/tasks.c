/*
 * tasks.c: the extract and load task kinds, and the run's lake handle
 * (with the lake's commit lock in state.db when the project asks for it).
 * An attempt opens handles of its own — a state store connection, the
 * table's lock, a warehouse connection — runs the table's extract or load
 * with the attempt's cancellation token, and says what it moved. Nothing
 * an attempt touches is shared with another thread but the read-only
 * project, the lake handle (thread-safe: one lock per table) and the
 * table's result, which only the table's tasks write, one after the other.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>

/* How long a commit waits for another process's commit lock: a commit
 * holds it for one stat and one small PUT, so only a stuck store waits
 * this long (a crashed holder's lock is taken over, see sl_state_lock). */
#define COMMIT_LOCK_TIMEOUT_MS INT64_C(600000)

/* lake_commit_lock: state — the lake's commit lock is a state.db lock
 * named after the lake and table, shared by every process of the project.
 * The run's lake handle serves every task, and a lock belongs to the
 * connection that took it: each commit lock is taken through a connection
 * of its own, kept until it is released, so a commit that waits for another
 * process's lock holds up no other table's commit. */
typedef struct engine_commit_hold {
	struct engine_commit_hold *next;
	char *name;
	sl_state *st;
} engine_commit_hold;

static char *commit_lock_name(const engine_exec *x, const char *table)
{
	return sl_engine_printf("lake-commit:%s/%s", x->project->lake, table);
}

static int commit_lock(void *ctx, const char *table, sl_error *err)
{
	engine_exec *x = ctx;
	engine_commit_hold *h = NULL;
	int rc = sl_alloc_zeroed((void **)&h, sizeof *h, err);
	if (rc == 0 && !(h->name = commit_lock_name(x, table)))
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_state_open(&h->st, x->project->dir, err);
	if (rc == 0)
		rc = sl_state_lock(h->st, h->name, COMMIT_LOCK_TIMEOUT_MS, err);
	if (rc < 0) {
		if (h) {
			sl_state_close(h->st);
			sl_free(h->name);
		}
		sl_free(h);
		return rc;
	}
	pthread_mutex_lock(&x->lock_mu);
	h->next = x->holds;
	x->holds = h;
	pthread_mutex_unlock(&x->lock_mu);
	return 0;
}

static void commit_unlock(void *ctx, const char *table)
{
	engine_exec *x = ctx;
	engine_commit_hold *h = NULL;
	char *name = commit_lock_name(x, table);
	pthread_mutex_lock(&x->lock_mu);
	for (engine_commit_hold **p = &x->holds; name && *p; p = &(*p)->next) {
		if (strcmp((*p)->name, name) == 0) {
			h = *p;
			*p = h->next;
			break;
		}
	}
	pthread_mutex_unlock(&x->lock_mu);
	sl_free(name);
	if (!h)
		return;
	sl_state_unlock(h->st, h->name);
	sl_state_close(h->st);
	sl_free(h->name);
	sl_free(h);
}

int engine_lake_open(engine_exec *x, sl_error *err)
{
	const sl_project *p = x->project;
	int rc = sl_lake_open(&x->lake, p->lake, err);
	if (rc < 0 || !p->lake_commit_lock || strcmp(p->lake_commit_lock, "state") != 0)
		return rc;
	pthread_mutex_init(&x->lock_mu, NULL);
	x->commit_locks = true;
	sl_lake_set_commit_lock(x->lake, commit_lock, commit_unlock, x);
	return 0;
}

void engine_lake_close(engine_exec *x)
{
	sl_lake_close(x->lake);
	x->lake = NULL;
	if (!x->commit_locks)
		return;
	/* Every commit releases its lock; one left here would be a bug, and
	 * its lease ends it anyway. */
	for (engine_commit_hold *h = x->holds, *next; h; h = next) {
		next = h->next;
		sl_state_unlock(h->st, h->name);
		sl_state_close(h->st);
		sl_free(h->name);
		sl_free(h);
	}
	x->holds = NULL;
	pthread_mutex_destroy(&x->lock_mu);
	x->commit_locks = false;
}

/*
 * One source table is worked on by one task at a time, in every process of
 * the project: two runs that both saw a new file would land it twice, two
 * loads would insert the same lake versions twice. The lock lives in
 * state.db, so a scheduler fanning tables out with --select still runs
 * different tables in parallel.
 */
#define TABLE_LOCK_TIMEOUT_MS INT64_C(600000)
#define TABLE_LOCK_RENEW_S 60.0

static int table_lock(engine_run *run, const char *key, sl_error *err)
{
	run->table_lock = sl_engine_printf("table:%s", key);
	if (!run->table_lock)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	/* The wait ends with the attempt's token: Ctrl-C or the task's
	 * timeout stops it like any other work. */
	int rc = sl_state_lock_wait(run->state, run->table_lock, TABLE_LOCK_TIMEOUT_MS,
				    run->cancel, err);
	if (rc < 0) {
		sl_free(run->table_lock);
		run->table_lock = NULL;
		return sl_error_prefix(err, "another sluice process works on this table: ");
	}
	run->lock_renewed = sl_monotonic_seconds();
	return 0;
}

int sl_engine_heartbeat(engine_run *run, sl_error *err)
{
	double now = sl_monotonic_seconds();
	if (!run->table_lock || now - run->lock_renewed < TABLE_LOCK_RENEW_S)
		return 0;
	run->lock_renewed = now;
	return sl_state_lock_renew(run->state, run->table_lock, err);
}

/* The attempt's own handles and the table's lock. */
static int attempt_open(engine_run *run, const engine_exec *x, const sl_task *task,
			const sl_cancel *cancel, sl_error *err)
{
	const sl_project *p = x->project;
	int rc;

	memset(run, 0, sizeof *run);
	run->project = p;
	run->opts = x->opts;
	run->target = x->target;
	memcpy(run->run_id, x->run_id, sizeof run->run_id);
	run->seq = x->seq;
	run->dates = x->dates;
	run->cancel = cancel;
	run->lake = x->lake;
	rc = sl_state_open(&run->state, p->dir, err);
	if (rc < 0)
		return rc;
	rc = table_lock(run, task->node, err);
	int why = rc == 0 ? sl_cancelled(cancel) : 0;
	if (why)
		rc = sl_error_set(err, why, "%s before it started",
				  why == SL_ETIMEOUT ? "timed out" : "cancelled");
	return rc;
}

static void attempt_close(engine_run *run)
{
	if (run->table_lock)
		sl_state_unlock(run->state, run->table_lock);
	sl_free(run->table_lock);
	sl_wh_close(run->wh);
	sl_state_close(run->state);
}

static int extract_run(sl_task *task, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		       sl_error *err)
{
	engine_exec *x = ctx;
	const engine_table *et = task->data;
	sl_table_result *r = &x->res->tables[et->index];
	engine_run run;

	/* What an earlier attempt said no longer holds. */
	r->refused = false;
	r->skipped = false;
	r->rows_landed = 0;
	r->lake_version = -1;
	int rc = attempt_open(&run, x, task, cancel, err);
	if (rc < 0)
		sl_error_prefix(err, "extract %s: ", task->node);
	else
		rc = sl_engine_extract_table(&run, et->src, et->t, r, err);
	attempt_close(&run);
	out->rows = r->rows_landed;
	out->bytes = r->bytes;
	out->noop = rc == 0 && (r->skipped || (r->rows_read == 0 && r->files == 0));
	return rc;
}

static int load_run(sl_task *task, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		    sl_error *err)
{
	engine_exec *x = ctx;
	const engine_table *et = task->data;
	sl_table_result *r = &x->res->tables[et->index];
	engine_run run;

	engine_watch watch;
	int rc = attempt_open(&run, x, task, cancel, err);
	if (rc < 0)
		sl_error_prefix(err, "load %s: ", task->node);
	else if ((rc = engine_watch_start(&watch, cancel, NULL, err)) == 0) {
		run.watch = &watch;
		rc = sl_engine_load_table(&run, et->src, et->t, r, err);
		engine_watch_stop(&watch);
		run.watch = NULL;
	}
	attempt_close(&run);
	out->rows = r->rows_loaded > 0 ? r->rows_loaded : 0;
	out->bytes = 0;
	out->noop = rc == 0 && r->rows_loaded <= 0;
	return rc;
}

const sl_task_kind sl_engine_extract_kind = {.name = "extract", .run = extract_run};
const sl_task_kind sl_engine_load_kind = {.name = "load", .run = load_run};
