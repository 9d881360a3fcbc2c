/*
 * state: the project's metadata store, .sluice/state.db (SQLite, WAL):
 * runs, task attempts, per-table row ledgers, watermarks, extracted files,
 * the lake commit each table's progress came from (lake marks), test
 * results, metrics and logs. It records what happened; the data itself
 * lives in the lake and warehouse (the warehouse's own _sluice_loads table
 * records which lake versions it loaded). Every message text it stores is
 * redacted of registered secrets first.
 */
#ifndef SL_STATE_H
#define SL_STATE_H

#include "base/base.h"

typedef struct sl_state sl_state;

/* Schema version stored in PRAGMA user_version; migrations run on open.
 * 2 added the locks table; 3 the lake marks, and the ledger's status and
 * message (its rows_loaded became NULL when no load ran); 4 the runs'
 * logical date, data interval, trigger, process and selection, the task
 * attempts' rows and bytes, and dropped loaded_versions; 5 the test
 * results' sample, compiled SQL and seconds, and the freshness results. */
#define SL_STATE_SCHEMA_VERSION 5
/* Size of a run id buffer: "YYYYMMDDTHHMMSS.mmmZ-xxxxxx" plus NUL fits. */
#define SL_RUN_ID_MAX 40

/*
 * Opens (creating when needed) project_dir/.sluice/state.db: WAL mode, a
 * busy timeout so that `sluice serve` and a manual run can share it, and
 * the schema created or migrated. Close with sl_state_close.
 *
 * Threads: a handle belongs to one thread at a time. Its transactions
 * (sl_state_tx_*), its lock token and SQLite's last error message are the
 * handle's, so work running in parallel opens a handle each (cheap: one
 * file open; WAL lets readers run beside the one writer, and the busy
 * timeout queues writers).
 */
int sl_state_open(sl_state **out, const char *project_dir, sl_error *err);
/* Opens a state database at an explicit path (":memory:" for tests). */
int sl_state_open_path(sl_state **out, const char *db_path, sl_error *err);
/* Accepts NULL. */
void sl_state_close(sl_state *st);

/*
 * Groups many writes into one transaction (e.g. marking a thousand files
 * done after one lake commit). Calls do not nest.
 */
int sl_state_tx_begin(sl_state *st, sl_error *err);
int sl_state_tx_commit(sl_state *st, sl_error *err);
/* Rolls back the open transaction, if any. */
void sl_state_tx_rollback(sl_state *st);

/* ------------------------------------------------------------------ locks */

/*
 * Named advisory locks shared by every process (and every handle) using
 * this state.db — e.g. "lake-commit:<lake>/<table>", which serialises Delta
 * log commits on stores that ignore If-None-Match. They protect nothing
 * against writers that use another state.db.
 *
 * A lock is a row of the locks table: name, owner (a token unique to the
 * handle: host:pid:random), host, pid and an expiry. Acquiring is one
 * atomic upsert that succeeds when the name is free or its lease has
 * expired; otherwise the call polls (10 ms growing to 100 ms) until
 * timeout_ms. A holder that crashed never blocks for long: when its host is
 * this host and its pid no longer exists, the lock is taken over at once;
 * otherwise it expires with its lease (SL_STATE_LOCK_LEASE_MS by default).
 * A holder that keeps a lock longer calls sl_state_lock_renew (a heartbeat)
 * before the lease runs out. Locks are not reentrant: a handle that asks
 * for a name it holds waits like anyone else.
 */
#define SL_STATE_LOCK_LEASE_MS INT64_C(300000)

/*
 * Takes the lock name, waiting up to timeout_ms (0: one try). SL_ECONFLICT
 * naming the holder (pid, host, since when) when it stays taken; SL_EINTERNAL
 * inside an sl_state_tx_* transaction.
 */
int sl_state_lock(sl_state *st, const char *name, int64_t timeout_ms, sl_error *err);
/* sl_state_lock that stops waiting once cancel (may be NULL) is cancelled
 * or runs out of time: SL_ECANCELLED or SL_ETIMEOUT, naming the holder. */
int sl_state_lock_wait(sl_state *st, const char *name, int64_t timeout_ms,
		       const sl_cancel *cancel, sl_error *err);
/* Extends the lease of a lock this handle holds; SL_ECONFLICT when it was
 * lost (expired and taken over). */
int sl_state_lock_renew(sl_state *st, const char *name, sl_error *err);
/* Releases a lock this handle holds; releasing one it does not hold (any
 * more) only logs a warning. */
void sl_state_unlock(sl_state *st, const char *name);
/* Sets the lease of locks this handle takes from now on (ms > 0). */
void sl_state_set_lock_lease(sl_state *st, int64_t lease_ms);

/* ------------------------------------------------------------------- runs */

/* What a run is, recorded when it starts (strings borrowed for the call). */
typedef struct sl_state_run_info {
	const char *command;          /* "run", "extract", "load", "backfill"... */
	const char *target;           /* may be NULL */
	const char *trigger;          /* cli | schedule | api | backfill; NULL: cli */
	int64_t logical_date;         /* micros since the epoch, UTC */
	int64_t data_interval_start;  /* micros */
	int64_t data_interval_end;    /* micros */
	const char *resumed_from;     /* the run this one resumes, or NULL */
	const char *params;           /* what the run selected (JSON text), or NULL */
} sl_state_run_info;

/*
 * Starts a run with status "running", recording this process's pid and
 * host. run_id_out gets a time-sortable, unique id
 * ("20261122T153000.123Z-a1b2c3": later runs sort after earlier ones, also
 * within one millisecond). seq_out gets the run's sequence number: strictly
 * greater than every earlier run's and never below the current Unix time
 * in milliseconds, so it keeps growing even if state.db is deleted. Lake
 * commits use it as the Delta txn version.
 */
int sl_state_run_start(sl_state *st, const sl_state_run_info *info,
		       char run_id_out[SL_RUN_ID_MAX], int64_t *seq_out, sl_error *err);
/* sl_state_run_start with trigger cli and the logical date now. */
int sl_state_run_begin(sl_state *st, const char *command, const char *target,
		       char run_id_out[SL_RUN_ID_MAX], int64_t *seq_out, sl_error *err);
/* Ends a run: status "success", "failed" or "cancelled" (message may be NULL). */
int sl_state_run_end(sl_state *st, const char *run_id, const char *status,
		     const char *message, sl_error *err);
/*
 * Runs still "running" whose process is gone (same host, no such pid: it
 * was killed hard) become "failed" with the message "the process ended
 * without finishing the run", and so do their attempts still running.
 * *n (may be NULL) gets how many runs.
 */
int sl_state_runs_reap(sl_state *st, int *n, sl_error *err);

typedef struct sl_state_run {
	char run_id[SL_RUN_ID_MAX];
	int64_t seq;
	char *command;
	char *target;    /* may be NULL */
	char *status;    /* running | success | failed | cancelled */
	char *message;   /* may be NULL */
	int64_t started_at; /* micros since the epoch */
	int64_t ended_at;   /* 0 while running */
	char *trigger;      /* cli | schedule | api | backfill ("cli" for runs
			       recorded before triggers existed) */
	int64_t logical_date;        /* started_at for runs recorded before */
	int64_t data_interval_start; /* logical_date when not recorded */
	int64_t data_interval_end;
	char *resumed_from; /* may be NULL */
	char *params;       /* may be NULL */
	int64_t pid;        /* 0 when not recorded */
	char *host;         /* may be NULL */
} sl_state_run;

typedef struct sl_state_runs {
	int n;
	sl_state_run *items; /* newest first */
	sl_arena arena;      /* owns the strings */
} sl_state_runs;

/* The newest limit runs (limit <= 0: all). Free with sl_state_runs_free. */
int sl_state_runs_list(sl_state *st, int limit, sl_state_runs *out, sl_error *err);
/* One run by id; SL_ENOTFOUND when unknown. Free with sl_state_runs_free. */
int sl_state_run_get(sl_state *st, const char *run_id, sl_state_runs *out, sl_error *err);
void sl_state_runs_free(sl_state_runs *l);

/* ------------------------------------------------------------------ tasks */

/* Records the start of one attempt of a task ("extract:shop_files.customers"),
 * status "running". Attempts count from 1; attempt 0 records a task that
 * never ran (skipped, cancelled before it started). */
int sl_state_task_begin(sl_state *st, const char *run_id, const char *task, int attempt,
			int64_t *task_id, sl_error *err);
/*
 * Ends an attempt: status as sl_task_status_name says ("success",
 * "failed", "up_for_retry", "timed_out", "cancelled", "skipped"), the rows
 * it moved and bytes it read (< 0: unknown, stored as NULL) and its error
 * message (may be NULL; redacted).
 */
int sl_state_task_end(sl_state *st, int64_t task_id, const char *status, int64_t rows,
		      int64_t bytes, const char *message, sl_error *err);

typedef struct sl_state_task {
	int64_t task_id;
	char *run_id;
	char *task;
	int attempt;
	char *status;
	char *message;
	int64_t started_at;
	int64_t ended_at;   /* 0 while running */
	int64_t rows;       /* -1 when not recorded */
	int64_t bytes;      /* -1 when not recorded */
} sl_state_task;

typedef struct sl_state_tasks {
	int n;
	sl_state_task *items; /* in start order */
	sl_arena arena;
} sl_state_tasks;

/* Every attempt of every task of a run. Free with sl_state_tasks_free. */
int sl_state_tasks_list(sl_state *st, const char *run_id, sl_state_tasks *out,
			sl_error *err);
void sl_state_tasks_free(sl_state_tasks *l);

/* ----------------------------------------------------------------- ledger */

/*
 * Row accounting of one table in one run. status "ok": read = landed +
 * quarantined. "refused": max_bad_rows refused the rows, nothing landed
 * (landed 0, quarantined the bad rows; message says why). "failed": a task
 * failed (message says why); the counts say how far it got.
 */
typedef struct sl_ledger {
	int64_t files;
	int64_t rows_read;
	int64_t rows_landed;
	int64_t rows_quarantined;
	int64_t rows_loaded;   /* -1 when no load ran (stored as NULL) */
	int64_t bytes;
	double seconds;
	const char *status;    /* "ok", "refused" or "failed"; NULL when read
				  back from a row stored before they existed
				  (put: NULL stores "ok") */
	const char *message;   /* why it failed or was refused, or NULL;
				  redacted when stored */
} sl_ledger;

/* Stores (replaces) the ledger of table in run_id. */
int sl_state_ledger_put(sl_state *st, const char *run_id, const char *table,
			const sl_ledger *l, sl_error *err);
/* Reads it back (status and message NULL: sl_state_ledger_list reads them);
 * SL_ENOTFOUND when none. */
int sl_state_ledger_get(sl_state *st, const char *run_id, const char *table, sl_ledger *out,
			sl_error *err);

typedef struct sl_state_ledger_row {
	char *run_id;
	char *table;
	sl_ledger l;
	int64_t updated_at;
} sl_state_ledger_row;

typedef struct sl_state_ledgers {
	int n;
	sl_state_ledger_row *items;
	sl_arena arena;
} sl_state_ledgers;

/*
 * Ledger rows filtered by run_id and/or table (NULL: any), newest run
 * first, at most limit rows (<= 0: all): one run's volumes, or one table's
 * volumes over time. Free with sl_state_ledgers_free.
 */
int sl_state_ledger_list(sl_state *st, const char *run_id, const char *table, int limit,
			 sl_state_ledgers *out, sl_error *err);
void sl_state_ledgers_free(sl_state_ledgers *l);
/* Rows landed in table over every run in the ledger (0 when none). */
int sl_state_ledger_landed(sl_state *st, const char *table, int64_t *rows, sl_error *err);

/* ------------------------------------------------------------- watermarks */

/*
 * The watermark text of key ("shop_db.orders"), or *value = NULL when none.
 * *value is the caller's to sl_free.
 */
int sl_state_watermark_get(sl_state *st, const char *key, char **value, sl_error *err);
/* Sets it. Call only after the lake commit holding the rows it covers. */
int sl_state_watermark_set(sl_state *st, const char *key, const char *value, sl_error *err);
/* Forgets it (--full-refresh). */
int sl_state_watermark_delete(sl_state *st, const char *key, sl_error *err);

/* ------------------------------------------------------- extracted files */

/*
 * Marks a file of table_key ("shop_files.customers") extracted, by its
 * path, size and modification time or ETag. Call only after the lake commit.
 */
int sl_state_file_done(sl_state *st, const char *table_key, const char *path, int64_t size,
		       const char *mtime_or_etag, const char *run_id, sl_error *err);
/* *done: the same path with the same size and mtime/ETag was extracted. */
int sl_state_file_is_done(sl_state *st, const char *table_key, const char *path,
			  int64_t size, const char *mtime_or_etag, bool *done, sl_error *err);
/* *seen: path was extracted before, whatever its size and mtime/ETag then
 * (a changed file is seen but not done). */
int sl_state_file_seen(sl_state *st, const char *table_key, const char *path, bool *seen,
		       sl_error *err);
/* Forgets every file of table_key (--full-refresh). */
int sl_state_files_reset(sl_state *st, const char *table_key, sl_error *err);
/* Number of files recorded for table_key. */
int sl_state_files_count(sl_state *st, const char *table_key, int64_t *n, sl_error *err);

/* ------------------------------------------------------------- lake marks */

/*
 * The lake commit that holds the progress (files done, watermark) recorded
 * for table_key: the lake table, its metaData id and the version. Set after
 * each lake commit, before that commit's progress is applied, so a run can
 * tell that the lake no longer has what the state says was extracted (the
 * lake deleted, its table recreated, or its latest versions removed).
 */
typedef struct sl_state_lake_mark {
	char *lake_table; /* sl_free'd by sl_state_lake_mark_clear */
	char *table_id;
	int64_t version;
} sl_state_lake_mark;

/* Sets (replaces) the mark of table_key. */
int sl_state_lake_mark_set(sl_state *st, const char *table_key, const char *lake_table,
			   const char *table_id, int64_t version, sl_error *err);
/* The mark of table_key; *found false (and out zeroed) when none. */
int sl_state_lake_mark_get(sl_state *st, const char *table_key, sl_state_lake_mark *out,
			   bool *found, sl_error *err);
void sl_state_lake_mark_clear(sl_state_lake_mark *m);

/* ----------------------------------------------------------- test results */

/* Records one data-quality test: status "pass" | "fail" | "warn" | "error". */
int sl_state_test_result_add(sl_state *st, const char *run_id, const char *table,
			     const char *test, const char *status, int64_t failures,
			     const char *message, sl_error *err);

typedef struct sl_state_test_result {
	char *run_id;
	char *table;      /* models' tests: the unique_id of the node tested ("" singular) */
	char *test;       /* models' tests: the test's unique_id */
	char *status;
	int64_t failures;
	char *message;
	int64_t at;
	/* schema v5: */
	char *sample_json;  /* first 10 failing rows, JSON array; NULL: none */
	char *compiled_sql; /* NULL: none */
	double seconds;
} sl_state_test_result;

/* Records one test with its sample and SQL (schema v5); r->at ignored
 * (now), strings redacted. */
int sl_state_test_result_put(sl_state *st, const sl_state_test_result *r, sl_error *err);

typedef struct sl_state_test_results {
	int n;
	sl_state_test_result *items; /* in insertion order */
	sl_arena arena;
} sl_state_test_results;

/* The results of one run (NULL: the latest result of each table+test). */
int sl_state_test_results_list(sl_state *st, const char *run_id, sl_state_test_results *out,
			       sl_error *err);
void sl_state_test_results_free(sl_state_test_results *l);

/* ------------------------------------------------------ freshness results */

/* One source table's measured freshness (schema v5). */
typedef struct sl_state_freshness {
	char *run_id;         /* the freshness invocation's id */
	char *source_id;      /* "source.<project>.<source>.<table>" */
	char *source;
	char *table;
	char *status;         /* "pass" | "warn" | "error" | "runtime error" */
	int64_t max_loaded_at; /* micros; 0: none */
	int64_t snapshotted_at;
	double age_seconds;
	bool by_load_time;    /* measured by sluice's load time */
	char *message;
	double seconds;
	int64_t at;
} sl_state_freshness;

/* Records one (r->at ignored: now; message redacted). */
int sl_state_freshness_put(sl_state *st, const sl_state_freshness *r, sl_error *err);

typedef struct sl_state_freshness_list {
	int n;
	sl_state_freshness *items; /* in insertion order */
	sl_arena arena;
} sl_state_freshness_list;

/* The results of one invocation (NULL: the latest of each source table). */
int sl_state_freshness_list_get(sl_state *st, const char *run_id,
				sl_state_freshness_list *out, sl_error *err);
void sl_state_freshness_list_free(sl_state_freshness_list *l);

/*
 * The end time (micros) of table_key's ("shop.orders") last successful
 * load task ("load:shop.orders"), else of its last successful extract;
 * *at 0 when neither ever succeeded. *by_load false when it is an extract's.
 */
int sl_state_table_loaded_at(sl_state *st, const char *table_key, int64_t *at, bool *by_load,
			     sl_error *err);

/* ---------------------------------------------------------------- metrics */

/* Records a numeric sample (name like "rows_loaded", labels free text). */
int sl_state_metric_add(sl_state *st, const char *run_id, const char *name,
			const char *labels, double value, sl_error *err);

typedef struct sl_state_metric {
	char *run_id;
	char *name;
	char *labels;
	double value;
	int64_t at;
} sl_state_metric;

typedef struct sl_state_metrics {
	int n;
	sl_state_metric *items; /* oldest first */
	sl_arena arena;
} sl_state_metrics;

/* Samples of name (NULL: all) since since_micros (0: all), oldest first. */
int sl_state_metrics_list(sl_state *st, const char *name, int64_t since_micros,
			  sl_state_metrics *out, sl_error *err);
void sl_state_metrics_free(sl_state_metrics *l);

/* ------------------------------------------------------------------- logs */

/* Stores a log line of a run (task_id 0 when not in a task). Redact first. */
int sl_state_log_add(sl_state *st, const char *run_id, int64_t task_id, const char *level,
		     const char *message, sl_error *err);

typedef struct sl_state_log {
	int64_t task_id;
	char *level;
	char *message;
	int64_t at;
} sl_state_log;

typedef struct sl_state_logs {
	int n;
	sl_state_log *items; /* oldest first */
	sl_arena arena;
} sl_state_logs;

/* A run's log lines (task_id > 0: of that task only). */
int sl_state_logs_list(sl_state *st, const char *run_id, int64_t task_id,
		       sl_state_logs *out, sl_error *err);
void sl_state_logs_free(sl_state_logs *l);

#endif
