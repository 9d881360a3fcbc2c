/*
 * state.c: opening .sluice/state.db (WAL, busy timeout, versioned schema),
 * transactions, statement helpers, runs (and the reaping of runs whose
 * process died) and task attempts.
 */
#include "state/state_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Version 1 of the schema. Times are microseconds since the epoch, UTC. */
static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE runs(run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,"
	" command TEXT NOT NULL, target TEXT, status TEXT NOT NULL, message TEXT,"
	" started_at INTEGER NOT NULL, ended_at INTEGER);"
	"CREATE TABLE tasks(task_id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"
	" task TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, message TEXT,"
	" started_at INTEGER NOT NULL, ended_at INTEGER);"
	"CREATE INDEX tasks_run ON tasks(run_id, task_id);"
	"CREATE TABLE ledger(run_id TEXT NOT NULL, table_name TEXT NOT NULL,"
	" files INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_landed INTEGER NOT NULL,"
	" rows_quarantined INTEGER NOT NULL, rows_loaded INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL, seconds REAL NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY(run_id, table_name));"
	"CREATE INDEX ledger_table ON ledger(table_name, run_id);"
	"CREATE TABLE watermarks(key TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE files(table_key TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,"
	" version TEXT NOT NULL, run_id TEXT, done_at INTEGER NOT NULL,"
	" PRIMARY KEY(table_key, path));"
	"CREATE TABLE loaded_versions(target TEXT NOT NULL, table_name TEXT NOT NULL,"
	" version INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY(target, table_name));"
	"CREATE TABLE test_results(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT,"
	" table_name TEXT, test_name TEXT NOT NULL, status TEXT NOT NULL,"
	" failures INTEGER NOT NULL, message TEXT, at INTEGER NOT NULL);"
	"CREATE INDEX test_results_run ON test_results(run_id);"
	"CREATE TABLE metrics(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT,"
	" name TEXT NOT NULL, labels TEXT, value REAL NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX metrics_name ON metrics(name, at);"
	"CREATE TABLE logs(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT,"
	" task_id INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX logs_run ON logs(run_id, id);";

/* Version 2: named locks (state_lock.c). */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL,"
	" host TEXT NOT NULL, pid INTEGER NOT NULL, acquired_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL);";

/*
 * Version 3: lake marks (state_records.c); the ledger gains status and
 * message, and rows_loaded becomes NULL when no load ran (it held -1).
 * Rows stored before have no status (NULL: unknown).
 */
static const char schema_v3[] =
	"CREATE TABLE IF NOT EXISTS lake_marks(table_key TEXT PRIMARY KEY,"
	" lake_table TEXT NOT NULL, table_id TEXT NOT NULL, version INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE ledger_v3(run_id TEXT NOT NULL, table_name TEXT NOT NULL,"
	" files INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_landed INTEGER NOT NULL,"
	" rows_quarantined INTEGER NOT NULL, rows_loaded INTEGER,"
	" bytes INTEGER NOT NULL, seconds REAL NOT NULL, updated_at INTEGER NOT NULL,"
	" status TEXT, message TEXT, PRIMARY KEY(run_id, table_name));"
	"INSERT INTO ledger_v3(run_id, table_name, files, rows_read, rows_landed,"
	" rows_quarantined, rows_loaded, bytes, seconds, updated_at)"
	" SELECT run_id, table_name, files, rows_read, rows_landed, rows_quarantined,"
	" CASE WHEN rows_loaded < 0 THEN NULL ELSE rows_loaded END, bytes, seconds,"
	" updated_at FROM ledger;"
	"DROP TABLE ledger;"
	"ALTER TABLE ledger_v3 RENAME TO ledger;"
	"CREATE INDEX ledger_table ON ledger(table_name, run_id);";

/*
 * Version 4: the DAG's runs and attempts. A run records its logical date,
 * data interval, trigger, the run it resumes, what it selected, and its
 * process (pid and host, so that a run whose process died can be told
 * from one still going); an attempt records the rows it moved and the
 * bytes it read. loaded_versions (written, never the authority: the
 * warehouse's _sluice_loads is) goes.
 */
static const char *const schema_v4_columns[][2] = {
	{"runs", "logical_date INTEGER"},
	{"runs", "data_interval_start INTEGER"},
	{"runs", "data_interval_end INTEGER"},
	{"runs", "trigger TEXT"},
	{"runs", "resumed_from TEXT"},
	{"runs", "params TEXT"},
	{"runs", "pid INTEGER"},
	{"runs", "host TEXT"},
	{"tasks", "rows INTEGER"},
	{"tasks", "bytes INTEGER"},
};
static const char schema_v4[] =
	"CREATE INDEX IF NOT EXISTS runs_status ON runs(status);"
	"DROP TABLE IF EXISTS loaded_versions;";

/*
 * Version 5: data tests keep a sample of their failing rows, the SQL they
 * ran and how long it took; source freshness results get a table.
 */
static const char *const schema_v5_columns[][2] = {
	{"test_results", "sample_json TEXT"},
	{"test_results", "compiled_sql TEXT"},
	{"test_results", "seconds REAL"},
};
static const char schema_v5[] =
	"CREATE INDEX IF NOT EXISTS test_results_test ON test_results(table_name, test_name);"
	"CREATE TABLE IF NOT EXISTS freshness_results(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" run_id TEXT, source_id TEXT NOT NULL, source TEXT NOT NULL, table_name TEXT NOT NULL,"
	" status TEXT NOT NULL, max_loaded_at INTEGER, snapshotted_at INTEGER NOT NULL,"
	" age_seconds REAL, by_load_time INTEGER NOT NULL, message TEXT,"
	" seconds REAL, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS freshness_results_source ON freshness_results(source_id, id);";

/* ---------------------------------------------------------------- helpers */

int st_db_err(sl_state *st, sl_error *err, const char *what)
{
	return sl_error_set(err, SL_EDB, "state db %s: %s: %s", st->path, what,
			    sqlite3_errmsg(st->db));
}

int st_prepare(sl_state *st, sqlite3_stmt **out, const char *sql, sl_error *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return st_db_err(st, err, "prepare");
	}
	return 0;
}

int st_run_one(sl_state *st, sqlite3_stmt *s, const char *what, bool *found, sl_error *err)
{
	int rc = sqlite3_step(s);
	int ret = 0;
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		ret = st_db_err(st, err, what);
	sqlite3_finalize(s);
	return ret;
}

int st_run(sl_state *st, sqlite3_stmt *s, const char *what, sl_error *err)
{
	int rc = sqlite3_step(s);
	int ret = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = st_db_err(st, err, what);
	sqlite3_finalize(s);
	return ret;
}

int st_bind_redacted(sqlite3_stmt *s, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(s, i);
	char *r = sl_log_redact_dup(v); /* never cut, however it grows */
	return r ? sqlite3_bind_text(s, i, r, -1, sl_free) : SQLITE_NOMEM;
}

char *st_col_text(sl_arena *a, sqlite3_stmt *s, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	if (!t)
		return NULL;
	char *d = sl_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, col));
	if (!d)
		*oom = true;
	return d;
}

int st_read_rows(sl_state *st, sqlite3_stmt *s, sl_arena *a, void **items, int *n,
		 size_t elem, st_row_fn fill, const char *what, sl_error *err)
{
	int cap = 0, step = SQLITE_DONE, rc = 0;
	bool oom = false;
	char *arr = NULL;

	while (!oom && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			int ncap = cap ? cap * 2 : 16;
			char *na = sl_arena_alloc(a, elem * (size_t)ncap);
			if (!na) {
				oom = true;
				break;
			}
			if (*n)
				memcpy(na, arr, elem * (size_t)*n);
			arr = na;
			cap = ncap;
		}
		void *item = arr + elem * (size_t)(*n)++;
		memset(item, 0, elem);
		fill(a, s, item, &oom);
	}
	if (oom) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory reading %s", what);
	} else if (step != SQLITE_DONE) {
		char msg[64];
		snprintf(msg, sizeof msg, "read %s", what);
		rc = st_db_err(st, err, msg);
	}
	sqlite3_finalize(s);
	if (rc < 0) {
		sl_arena_free(a);
		arr = NULL;
		*n = 0;
	}
	*items = arr;
	return rc;
}

static int exec_sql(sl_state *st, const char *sql, const char *what, sl_error *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return st_db_err(st, err, what);
	return 0;
}

/* ---------------------------------------------------------------- opening */

/* ALTER TABLE table ADD COLUMN def, unless the column is there already (a
 * database a newer sluice opened and an older one wrote to again). */
static int add_column(sl_state *st, const char *table, const char *def, sl_error *err)
{
	sqlite3_stmt *s;
	char sql[160];
	size_t name_len = strcspn(def, " ");
	bool found = false;
	snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?1", table);
	int rc = st_prepare(st, &s, sql, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(s, 1, def, (int)name_len, SQLITE_TRANSIENT);
	int step = sqlite3_step(s);
	found = step == SQLITE_ROW;
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return st_db_err(st, err, "read the schema");
	if (found)
		return 0;
	snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s", table, def);
	return exec_sql(st, sql, "migrate the schema", err);
}

static int migrate(sl_state *st, sl_error *err)
{
	sqlite3_stmt *s;
	int rc, version;

	rc = exec_sql(st, "BEGIN IMMEDIATE", "begin schema migration", err);
	if (rc < 0)
		return rc;
	rc = st_prepare(st, &s, "PRAGMA user_version", err);
	if (rc < 0)
		goto fail;
	version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (version > SL_STATE_SCHEMA_VERSION) {
		rc = sl_error_set(err, SL_EDB, "state db %s has schema version %d, newer than "
				  "this sluice knows (%d); upgrade sluice", st->path, version,
				  SL_STATE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1) {
		rc = exec_sql(st, schema_v1, "create schema", err);
		if (rc < 0)
			goto fail;
	}
	if (version < 2) {
		rc = exec_sql(st, schema_v2, "migrate schema to version 2", err);
		if (rc < 0)
			goto fail;
	}
	if (version < 3) {
		rc = exec_sql(st, schema_v3, "migrate schema to version 3", err);
		if (rc < 0)
			goto fail;
	}
	if (version < 4) {
		for (size_t i = 0; i < sizeof schema_v4_columns / sizeof schema_v4_columns[0]; i++)
			if ((rc = add_column(st, schema_v4_columns[i][0], schema_v4_columns[i][1],
					     err)) < 0)
				goto fail;
		rc = exec_sql(st, schema_v4, "migrate schema to version 4", err);
		if (rc < 0)
			goto fail;
	}
	if (version < 5) {
		for (size_t i = 0; i < sizeof schema_v5_columns / sizeof schema_v5_columns[0]; i++)
			if ((rc = add_column(st, schema_v5_columns[i][0], schema_v5_columns[i][1],
					     err)) < 0)
				goto fail;
		rc = exec_sql(st, schema_v5, "migrate schema to version 5", err);
		if (rc < 0)
			goto fail;
	}
	/* Later versions: if (version < 6) { ALTER TABLE ... } */
	if (version < SL_STATE_SCHEMA_VERSION) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SL_STATE_SCHEMA_VERSION);
		rc = exec_sql(st, sql, "set schema version", err);
		if (rc < 0)
			goto fail;
	}
	return exec_sql(st, "COMMIT", "commit schema migration", err);
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int sl_state_open_path(sl_state **out, const char *db_path, sl_error *err)
{
	sl_state *st = NULL;
	int rc = sl_alloc_zeroed((void **)&st, sizeof *st, err);
	if (rc < 0)
		return rc;
	st->path = sl_strdup(db_path);
	if (!st->path) {
		sl_free(st);
		return sl_error_set(err, SL_ENOMEM, "out of memory opening %s", db_path);
	}
	st_lock_init(st);
	if (sqlite3_open_v2(db_path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = st->db ? st_db_err(st, err, "open")
			    : sl_error_set(err, SL_ENOMEM, "out of memory opening %s", db_path);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/* journal_mode returns a row; WAL is refused for :memory: (stays "memory"). */
	rc = exec_sql(st, "PRAGMA journal_mode=WAL", "enable WAL", err);
	if (rc == 0)
		rc = exec_sql(st, "PRAGMA synchronous=NORMAL", "set synchronous", err);
	if (rc == 0)
		rc = migrate(st, err);
	if (rc < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	sl_state_close(st);
	return rc;
}

int sl_state_open(sl_state **out, const char *project_dir, sl_error *err)
{
	char *dir = sl_path_join(project_dir, ".sluice");
	char *path = dir ? sl_path_join(dir, "state.db") : NULL;
	int rc;
	if (!path) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = sl_mkdirs(dir, err);
	if (rc == 0)
		rc = sl_state_open_path(out, path, err);
out:
	sl_free(dir);
	sl_free(path);
	return rc;
}

void sl_state_close(sl_state *st)
{
	if (!st)
		return;
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	sl_free(st->path);
	sl_free(st);
}

int sl_state_tx_begin(sl_state *st, sl_error *err)
{
	if (st->in_tx)
		return sl_error_set(err, SL_EINTERNAL, "state db: transaction already open");
	int rc = exec_sql(st, "BEGIN IMMEDIATE", "begin", err);
	if (rc == 0)
		st->in_tx = true;
	return rc;
}

int sl_state_tx_commit(sl_state *st, sl_error *err)
{
	if (!st->in_tx)
		return sl_error_set(err, SL_EINTERNAL, "state db: no transaction to commit");
	int rc = exec_sql(st, "COMMIT", "commit", err);
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	st->in_tx = false;
	return rc;
}

void sl_state_tx_rollback(sl_state *st)
{
	if (st && st->in_tx) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_tx = false;
	}
}

/* ------------------------------------------------------------------- runs */

/* "YYYYMMDDTHHMMSS.mmmZ" of milliseconds since the epoch. */
static void format_ms(int64_t ms, char *out, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, n, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int sl_state_run_start(sl_state *st, const sl_state_run_info *info,
		       char run_id_out[SL_RUN_ID_MAX], int64_t *seq_out, sl_error *err)
{
	sqlite3_stmt *s;
	int64_t last = 0, seq, now = sl_now_micros();
	char stamp[32], hex[8];
	bool own_tx = !st->in_tx;
	int rc;

	/* IMMEDIATE: two processes starting runs at once get distinct seqs. */
	if (own_tx && (rc = sl_state_tx_begin(st, err)) < 0)
		return rc;
	rc = st_prepare(st, &s, "SELECT value FROM meta WHERE key = 'last_seq'", err);
	if (rc < 0)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		last = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	seq = now / 1000;
	if (seq <= last)
		seq = last + 1;
	format_ms(seq, stamp, sizeof stamp);
	sl_random_hex(hex, 3);
	snprintf(run_id_out, SL_RUN_ID_MAX, "%s-%s", stamp, hex);

	rc = st_prepare(st, &s, "INSERT INTO meta(key, value) VALUES('last_seq', ?1) "
			"ON CONFLICT(key) DO UPDATE SET value = excluded.value", err);
	if (rc < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, seq);
	if ((rc = st_run(st, s, "store run sequence", err)) < 0)
		goto fail;
	rc = st_prepare(st, &s, "INSERT INTO runs(run_id, seq, command, target, status, "
			"started_at, logical_date, data_interval_start, data_interval_end, "
			"trigger, resumed_from, params, pid, host) VALUES(?1, ?2, ?3, ?4, "
			"'running', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", err);
	if (rc < 0)
		goto fail;
	int64_t logical = info->logical_date ? info->logical_date : now;
	st_bind_text(s, 1, run_id_out);
	sqlite3_bind_int64(s, 2, seq);
	st_bind_text(s, 3, info->command ? info->command : "");
	st_bind_text(s, 4, info->target);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, logical);
	sqlite3_bind_int64(s, 7, info->data_interval_start ? info->data_interval_start : logical);
	sqlite3_bind_int64(s, 8, info->data_interval_end ? info->data_interval_end : logical);
	st_bind_text(s, 9, info->trigger ? info->trigger : "cli");
	st_bind_text(s, 10, info->resumed_from);
	st_bind_redacted(s, 11, info->params);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)getpid());
	st_bind_text(s, 13, st->host);
	if ((rc = st_run(st, s, "insert run", err)) < 0)
		goto fail;
	if (own_tx && (rc = sl_state_tx_commit(st, err)) < 0)
		return rc;
	if (seq_out)
		*seq_out = seq;
	return 0;
fail:
	if (own_tx)
		sl_state_tx_rollback(st);
	run_id_out[0] = '\0';
	return rc;
}

int sl_state_run_begin(sl_state *st, const char *command, const char *target,
		       char run_id_out[SL_RUN_ID_MAX], int64_t *seq_out, sl_error *err)
{
	sl_state_run_info info = {.command = command, .target = target};
	return sl_state_run_start(st, &info, run_id_out, seq_out, err);
}

int sl_state_run_end(sl_state *st, const char *run_id, const char *status,
		     const char *message, sl_error *err)
{
	sqlite3_stmt *s;
	bool found;
	int rc = st_prepare(st, &s, "UPDATE runs SET status = ?2, message = ?3, ended_at = ?4 "
			    "WHERE run_id = ?1 RETURNING 1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, status);
	st_bind_redacted(s, 3, message);
	sqlite3_bind_int64(s, 4, sl_now_micros());
	rc = st_run_one(st, s, "end run", &found, err);
	if (rc == 0 && !found)
		return sl_error_set(err, SL_ENOTFOUND, "state db: no run %s", run_id);
	return rc;
}

/* True when a process recorded as pid on host certainly ended: the same
 * host as this handle's, and no such pid. */
static bool process_gone(const sl_state *st, const char *host, int64_t pid)
{
	if (!host || strcmp(host, st->host) != 0 || pid <= 0 || pid == (int64_t)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

#define REAPED_MESSAGE "the process ended without finishing the run"

int sl_state_runs_reap(sl_state *st, int *n, sl_error *err)
{
	sqlite3_stmt *s;
	int reaped = 0, rc;
	char ids[64][SL_RUN_ID_MAX];
	int nids = 0;

	if (n)
		*n = 0;
	rc = st_prepare(st, &s, "SELECT run_id, host, pid FROM runs WHERE status = 'running' "
			"AND pid IS NOT NULL ORDER BY seq LIMIT 64", err);
	if (rc < 0)
		return rc;
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *host = (const char *)sqlite3_column_text(s, 1);
		if (id && process_gone(st, host, sqlite3_column_int64(s, 2)))
			snprintf(ids[nids++], SL_RUN_ID_MAX, "%s", id);
	}
	rc = step == SQLITE_DONE ? 0 : st_db_err(st, err, "read runs");
	sqlite3_finalize(s);
	for (int i = 0; i < nids && rc == 0; i++) {
		int64_t now = sl_now_micros();
		bool found = false;
		rc = st_prepare(st, &s, "UPDATE tasks SET status = 'failed', message = ?2, "
				"ended_at = ?3 WHERE run_id = ?1 AND status = 'running'", err);
		if (rc < 0)
			break;
		st_bind_text(s, 1, ids[i]);
		st_bind_text(s, 2, REAPED_MESSAGE);
		sqlite3_bind_int64(s, 3, now);
		if ((rc = st_run(st, s, "end tasks of a dead run", err)) < 0)
			break;
		rc = st_prepare(st, &s, "UPDATE runs SET status = 'failed', message = ?2, "
				"ended_at = ?3 WHERE run_id = ?1 AND status = 'running' RETURNING 1",
				err);
		if (rc < 0)
			break;
		st_bind_text(s, 1, ids[i]);
		st_bind_text(s, 2, REAPED_MESSAGE);
		sqlite3_bind_int64(s, 3, now);
		rc = st_run_one(st, s, "end a dead run", &found, err);
		reaped += found;
	}
	if (n)
		*n = reaped;
	return rc;
}

static void fill_run(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_run *r = item;
	const char *id = (const char *)sqlite3_column_text(s, 0);
	snprintf(r->run_id, sizeof r->run_id, "%s", id ? id : "");
	r->seq = sqlite3_column_int64(s, 1);
	r->command = st_col_text(a, s, 2, oom);
	r->target = st_col_text(a, s, 3, oom);
	r->status = st_col_text(a, s, 4, oom);
	r->message = st_col_text(a, s, 5, oom);
	r->started_at = sqlite3_column_int64(s, 6);
	r->ended_at = sqlite3_column_int64(s, 7);
	/* Runs recorded before version 4: a cli run whose logical date is
	 * its start. */
	r->logical_date = sqlite3_column_type(s, 8) == SQLITE_NULL ? r->started_at
								    : sqlite3_column_int64(s, 8);
	r->data_interval_start = sqlite3_column_type(s, 9) == SQLITE_NULL
					 ? r->logical_date : sqlite3_column_int64(s, 9);
	r->data_interval_end = sqlite3_column_type(s, 10) == SQLITE_NULL
				       ? r->logical_date : sqlite3_column_int64(s, 10);
	r->trigger = st_col_text(a, s, 11, oom);
	if (!r->trigger)
		r->trigger = "cli";
	r->resumed_from = st_col_text(a, s, 12, oom);
	r->params = st_col_text(a, s, 13, oom);
	r->pid = sqlite3_column_int64(s, 14);
	r->host = st_col_text(a, s, 15, oom);
}

static int read_runs(sl_state *st, sqlite3_stmt *s, sl_state_runs *out, sl_error *err)
{
	void *items = NULL;
	sl_arena_init(&out->arena, 16 * 1024);
	int rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_run,
			      "runs", err);
	out->items = items;
	return rc;
}

#define RUN_COLS                                                                 \
	"run_id, seq, command, target, status, message, started_at, ended_at, "  \
	"logical_date, data_interval_start, data_interval_end, trigger, "        \
	"resumed_from, params, pid, host"

int sl_state_runs_list(sl_state *st, int limit, sl_state_runs *out, sl_error *err)
{
	sqlite3_stmt *s;
	memset(out, 0, sizeof *out);
	int rc = st_prepare(st, &s, "SELECT " RUN_COLS " FROM runs ORDER BY seq DESC LIMIT ?1",
			    err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
	return read_runs(st, s, out, err);
}

int sl_state_run_get(sl_state *st, const char *run_id, sl_state_runs *out, sl_error *err)
{
	sqlite3_stmt *s;
	memset(out, 0, sizeof *out);
	int rc = st_prepare(st, &s, "SELECT " RUN_COLS " FROM runs WHERE run_id = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	rc = read_runs(st, s, out, err);
	if (rc == 0 && out->n == 0) {
		sl_state_runs_free(out);
		return sl_error_set(err, SL_ENOTFOUND, "no run %s in the state db", run_id);
	}
	return rc;
}

void sl_state_runs_free(sl_state_runs *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}

/* ------------------------------------------------------------------ tasks */

int sl_state_task_begin(sl_state *st, const char *run_id, const char *task, int attempt,
			int64_t *task_id, sl_error *err)
{
	sqlite3_stmt *s;
	/* RETURNING, not last_insert_rowid(): other threads may share the handle. */
	int rc = st_prepare(st, &s, "INSERT INTO tasks(run_id, task, attempt, status, "
			    "started_at) VALUES(?1, ?2, ?3, 'running', ?4) RETURNING task_id", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, task);
	sqlite3_bind_int(s, 3, attempt);
	sqlite3_bind_int64(s, 4, sl_now_micros());
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && task_id)
		*task_id = sqlite3_column_int64(s, 0);
	rc = rc == SQLITE_ROW ? 0 : st_db_err(st, err, "insert task");
	sqlite3_finalize(s);
	return rc;
}

static void bind_count(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

int sl_state_task_end(sl_state *st, int64_t task_id, const char *status, int64_t rows,
		      int64_t bytes, const char *message, sl_error *err)
{
	sqlite3_stmt *s;
	bool found;
	int rc = st_prepare(st, &s, "UPDATE tasks SET status = ?2, message = ?3, ended_at = ?4, "
			    "rows = ?5, bytes = ?6 WHERE task_id = ?1 RETURNING 1", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, task_id);
	st_bind_text(s, 2, status);
	st_bind_redacted(s, 3, message);
	sqlite3_bind_int64(s, 4, sl_now_micros());
	bind_count(s, 5, rows);
	bind_count(s, 6, bytes);
	rc = st_run_one(st, s, "end task", &found, err);
	if (rc == 0 && !found)
		return sl_error_set(err, SL_ENOTFOUND, "state db: no task %lld",
				    (long long)task_id);
	return rc;
}

static void fill_task(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_task *t = item;
	t->task_id = sqlite3_column_int64(s, 0);
	t->run_id = st_col_text(a, s, 1, oom);
	t->task = st_col_text(a, s, 2, oom);
	t->attempt = sqlite3_column_int(s, 3);
	t->status = st_col_text(a, s, 4, oom);
	t->message = st_col_text(a, s, 5, oom);
	t->started_at = sqlite3_column_int64(s, 6);
	t->ended_at = sqlite3_column_int64(s, 7);
	t->rows = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8);
	t->bytes = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 9);
}

int sl_state_tasks_list(sl_state *st, const char *run_id, sl_state_tasks *out, sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	int rc = st_prepare(st, &s, "SELECT task_id, run_id, task, attempt, status, message, "
			    "started_at, ended_at, rows, bytes FROM tasks WHERE run_id = ?1 "
			    "ORDER BY task_id",
			    err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_task,
			  "tasks", err);
	out->items = items;
	return rc;
}

void sl_state_tasks_free(sl_state_tasks *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}
