/*
 * state_records.c: what runs leave behind in the state db — row ledgers,
 * watermarks, extracted files, lake marks, test results, metrics and log
 * lines.
 */
#include "state/state_int.h"

#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------------- ledger */

int sl_state_ledger_put(sl_state *st, const char *run_id, const char *table,
			const sl_ledger *l, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT OR REPLACE INTO ledger(run_id, table_name, files, "
			    "rows_read, rows_landed, rows_quarantined, rows_loaded, bytes, "
			    "seconds, updated_at, status, message) "
			    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
			    err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, table);
	sqlite3_bind_int64(s, 3, l->files);
	sqlite3_bind_int64(s, 4, l->rows_read);
	sqlite3_bind_int64(s, 5, l->rows_landed);
	sqlite3_bind_int64(s, 6, l->rows_quarantined);
	if (l->rows_loaded >= 0)
		sqlite3_bind_int64(s, 7, l->rows_loaded);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_int64(s, 8, l->bytes);
	sqlite3_bind_double(s, 9, l->seconds);
	sqlite3_bind_int64(s, 10, sl_now_micros());
	st_bind_text(s, 11, l->status ? l->status : "ok");
	st_bind_redacted(s, 12, l->message);
	return st_run(st, s, "store ledger", err);
}

#define LEDGER_COLS \
	"run_id, table_name, files, rows_read, rows_landed, rows_quarantined, " \
	"rows_loaded, bytes, seconds, updated_at, status, message"

static void read_ledger(sqlite3_stmt *s, sl_ledger *l)
{
	memset(l, 0, sizeof *l);
	l->files = sqlite3_column_int64(s, 2);
	l->rows_read = sqlite3_column_int64(s, 3);
	l->rows_landed = sqlite3_column_int64(s, 4);
	l->rows_quarantined = sqlite3_column_int64(s, 5);
	l->rows_loaded = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1
							       : sqlite3_column_int64(s, 6);
	l->bytes = sqlite3_column_int64(s, 7);
	l->seconds = sqlite3_column_double(s, 8);
}

int sl_state_ledger_get(sl_state *st, const char *run_id, const char *table, sl_ledger *out,
			sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "SELECT " LEDGER_COLS " FROM ledger WHERE run_id = ?1 AND "
			    "table_name = ?2", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, table);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_ledger(s, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = sl_error_set(err, SL_ENOTFOUND, "no ledger for table %s in run %s", table,
				  run_id);
	} else {
		rc = st_db_err(st, err, "read ledger");
	}
	sqlite3_finalize(s);
	return rc;
}

static void fill_ledger_row(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_ledger_row *r = item;
	r->run_id = st_col_text(a, s, 0, oom);
	r->table = st_col_text(a, s, 1, oom);
	read_ledger(s, &r->l);
	r->l.status = st_col_text(a, s, 10, oom);
	r->l.message = st_col_text(a, s, 11, oom);
	r->updated_at = sqlite3_column_int64(s, 9);
}

int sl_state_ledger_list(sl_state *st, const char *run_id, const char *table, int limit,
			 sl_state_ledgers *out, sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	rc = st_prepare(st, &s, "SELECT " LEDGER_COLS " FROM ledger WHERE (?1 IS NULL OR "
			"run_id = ?1) AND (?2 IS NULL OR table_name = ?2) "
			"ORDER BY run_id DESC, table_name LIMIT ?3", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, table);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_ledger_row,
			  "ledger", err);
	out->items = items;
	return rc;
}

void sl_state_ledgers_free(sl_state_ledgers *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}

int sl_state_ledger_landed(sl_state *st, const char *table, int64_t *rows, sl_error *err)
{
	sqlite3_stmt *s;
	*rows = 0;
	int rc = st_prepare(st, &s, "SELECT coalesce(sum(rows_landed), 0) FROM ledger "
			    "WHERE table_name = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*rows = sqlite3_column_int64(s, 0);
	rc = rc == SQLITE_ROW ? 0 : st_db_err(st, err, "read ledger");
	sqlite3_finalize(s);
	return rc;
}

/* ------------------------------------------------------------- watermarks */

int sl_state_watermark_get(sl_state *st, const char *key, char **value, sl_error *err)
{
	sqlite3_stmt *s;
	*value = NULL;
	int rc = st_prepare(st, &s, "SELECT value FROM watermarks WHERE key = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		*value = sl_strdup(v ? v : "");
		rc = *value ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = st_db_err(st, err, "read watermark");
	}
	sqlite3_finalize(s);
	return rc;
}

int sl_state_watermark_set(sl_state *st, const char *key, const char *value, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO watermarks(key, value, updated_at) "
			    "VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET "
			    "value = excluded.value, updated_at = excluded.updated_at", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, key);
	st_bind_text(s, 2, value ? value : "");
	sqlite3_bind_int64(s, 3, sl_now_micros());
	return st_run(st, s, "store watermark", err);
}

int sl_state_watermark_delete(sl_state *st, const char *key, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "DELETE FROM watermarks WHERE key = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, key);
	return st_run(st, s, "delete watermark", err);
}

/* ------------------------------------------------------- extracted files */

int sl_state_file_done(sl_state *st, const char *table_key, const char *path, int64_t size,
		       const char *mtime_or_etag, const char *run_id, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT OR REPLACE INTO files(table_key, path, size, "
			    "version, run_id, done_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	st_bind_text(s, 2, path);
	sqlite3_bind_int64(s, 3, size);
	st_bind_text(s, 4, mtime_or_etag ? mtime_or_etag : "");
	st_bind_text(s, 5, run_id);
	sqlite3_bind_int64(s, 6, sl_now_micros());
	return st_run(st, s, "mark file done", err);
}

int sl_state_file_is_done(sl_state *st, const char *table_key, const char *path,
			  int64_t size, const char *mtime_or_etag, bool *done, sl_error *err)
{
	sqlite3_stmt *s;
	*done = false;
	int rc = st_prepare(st, &s, "SELECT 1 FROM files WHERE table_key = ?1 AND path = ?2 "
			    "AND size = ?3 AND version = ?4", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	st_bind_text(s, 2, path);
	sqlite3_bind_int64(s, 3, size);
	st_bind_text(s, 4, mtime_or_etag ? mtime_or_etag : "");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*done = true;
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : st_db_err(st, err, "read files");
	sqlite3_finalize(s);
	return rc;
}

int sl_state_file_seen(sl_state *st, const char *table_key, const char *path, bool *seen,
		       sl_error *err)
{
	sqlite3_stmt *s;
	*seen = false;
	int rc = st_prepare(st, &s, "SELECT 1 FROM files WHERE table_key = ?1 AND path = ?2",
			    err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	st_bind_text(s, 2, path);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*seen = true;
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : st_db_err(st, err, "read files");
	sqlite3_finalize(s);
	return rc;
}

int sl_state_files_reset(sl_state *st, const char *table_key, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "DELETE FROM files WHERE table_key = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	return st_run(st, s, "reset files", err);
}

int sl_state_files_count(sl_state *st, const char *table_key, int64_t *n, sl_error *err)
{
	sqlite3_stmt *s;
	*n = 0;
	int rc = st_prepare(st, &s, "SELECT count(*) FROM files WHERE table_key = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	rc = rc == SQLITE_ROW ? 0 : st_db_err(st, err, "count files");
	sqlite3_finalize(s);
	return rc;
}

/* ------------------------------------------------------------- lake marks */

int sl_state_lake_mark_set(sl_state *st, const char *table_key, const char *lake_table,
			   const char *table_id, int64_t version, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO lake_marks(table_key, lake_table, table_id, "
			    "version, updated_at) VALUES(?1, ?2, ?3, ?4, ?5) "
			    "ON CONFLICT(table_key) DO UPDATE SET lake_table = excluded.lake_table, "
			    "table_id = excluded.table_id, version = excluded.version, "
			    "updated_at = excluded.updated_at", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	st_bind_text(s, 2, lake_table);
	st_bind_text(s, 3, table_id ? table_id : "");
	sqlite3_bind_int64(s, 4, version);
	sqlite3_bind_int64(s, 5, sl_now_micros());
	return st_run(st, s, "store lake mark", err);
}

int sl_state_lake_mark_get(sl_state *st, const char *table_key, sl_state_lake_mark *out,
			   bool *found, sl_error *err)
{
	sqlite3_stmt *s;
	memset(out, 0, sizeof *out);
	*found = false;
	int rc = st_prepare(st, &s, "SELECT lake_table, table_id, version FROM lake_marks "
			    "WHERE table_key = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, table_key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *lt = (const char *)sqlite3_column_text(s, 0);
		const char *id = (const char *)sqlite3_column_text(s, 1);
		out->lake_table = sl_strdup(lt ? lt : "");
		out->table_id = sl_strdup(id ? id : "");
		out->version = sqlite3_column_int64(s, 2);
		*found = true;
		rc = out->lake_table && out->table_id ? 0 : sl_error_set(err, SL_ENOMEM,
									  "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = st_db_err(st, err, "read lake mark");
	}
	sqlite3_finalize(s);
	if (rc < 0) {
		sl_state_lake_mark_clear(out);
		*found = false;
	}
	return rc;
}

void sl_state_lake_mark_clear(sl_state_lake_mark *m)
{
	if (!m)
		return;
	sl_free(m->lake_table);
	sl_free(m->table_id);
	memset(m, 0, sizeof *m);
}

/* ----------------------------------------------------------- test results */

int sl_state_test_result_add(sl_state *st, const char *run_id, const char *table,
			     const char *test, const char *status, int64_t failures,
			     const char *message, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO test_results(run_id, table_name, test_name, "
			    "status, failures, message, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			    err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, table);
	st_bind_text(s, 3, test);
	st_bind_text(s, 4, status);
	sqlite3_bind_int64(s, 5, failures);
	st_bind_redacted(s, 6, message);
	sqlite3_bind_int64(s, 7, sl_now_micros());
	return st_run(st, s, "store test result", err);
}

int sl_state_test_result_put(sl_state *st, const sl_state_test_result *r, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO test_results(run_id, table_name, test_name, "
			    "status, failures, message, at, sample_json, compiled_sql, seconds) "
			    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, r->run_id);
	st_bind_text(s, 2, r->table ? r->table : "");
	st_bind_text(s, 3, r->test);
	st_bind_text(s, 4, r->status);
	sqlite3_bind_int64(s, 5, r->failures);
	st_bind_redacted(s, 6, r->message);
	sqlite3_bind_int64(s, 7, sl_now_micros());
	st_bind_redacted(s, 8, r->sample_json);
	st_bind_redacted(s, 9, r->compiled_sql);
	sqlite3_bind_double(s, 10, r->seconds);
	return st_run(st, s, "store test result", err);
}

static void fill_test_result(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_test_result *r = item;
	r->run_id = st_col_text(a, s, 0, oom);
	r->table = st_col_text(a, s, 1, oom);
	r->test = st_col_text(a, s, 2, oom);
	r->status = st_col_text(a, s, 3, oom);
	r->failures = sqlite3_column_int64(s, 4);
	r->message = st_col_text(a, s, 5, oom);
	r->at = sqlite3_column_int64(s, 6);
	r->sample_json = st_col_text(a, s, 7, oom);
	r->compiled_sql = st_col_text(a, s, 8, oom);
	r->seconds = sqlite3_column_double(s, 9);
}

int sl_state_test_results_list(sl_state *st, const char *run_id, sl_state_test_results *out,
			       sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	rc = st_prepare(st, &s, run_id
			? "SELECT run_id, table_name, test_name, status, failures, message, at, "
			  "sample_json, compiled_sql, seconds "
			  "FROM test_results WHERE run_id = ?1 ORDER BY id"
			: "SELECT run_id, table_name, test_name, status, failures, message, at, "
			  "sample_json, compiled_sql, seconds "
			  "FROM test_results WHERE id IN (SELECT max(id) FROM test_results "
			  "GROUP BY table_name, test_name) ORDER BY id",
			err);
	if (rc < 0)
		return rc;
	if (run_id)
		st_bind_text(s, 1, run_id);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_test_result,
			  "test results", err);
	out->items = items;
	return rc;
}

void sl_state_test_results_free(sl_state_test_results *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}

/* ------------------------------------------------------ freshness results */

int sl_state_freshness_put(sl_state *st, const sl_state_freshness *r, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO freshness_results(run_id, source_id, source, "
			    "table_name, status, max_loaded_at, snapshotted_at, age_seconds, "
			    "by_load_time, message, seconds, at) "
			    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, r->run_id);
	st_bind_text(s, 2, r->source_id);
	st_bind_text(s, 3, r->source);
	st_bind_text(s, 4, r->table);
	st_bind_text(s, 5, r->status);
	if (r->max_loaded_at)
		sqlite3_bind_int64(s, 6, r->max_loaded_at);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_int64(s, 7, r->snapshotted_at);
	if (r->max_loaded_at)
		sqlite3_bind_double(s, 8, r->age_seconds);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_int(s, 9, r->by_load_time);
	st_bind_redacted(s, 10, r->message);
	sqlite3_bind_double(s, 11, r->seconds);
	sqlite3_bind_int64(s, 12, sl_now_micros());
	return st_run(st, s, "store freshness result", err);
}

static void fill_freshness(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_freshness *r = item;
	r->run_id = st_col_text(a, s, 0, oom);
	r->source_id = st_col_text(a, s, 1, oom);
	r->source = st_col_text(a, s, 2, oom);
	r->table = st_col_text(a, s, 3, oom);
	r->status = st_col_text(a, s, 4, oom);
	r->max_loaded_at = sqlite3_column_int64(s, 5);
	r->snapshotted_at = sqlite3_column_int64(s, 6);
	r->age_seconds = sqlite3_column_double(s, 7);
	r->by_load_time = sqlite3_column_int(s, 8) != 0;
	r->message = st_col_text(a, s, 9, oom);
	r->seconds = sqlite3_column_double(s, 10);
	r->at = sqlite3_column_int64(s, 11);
}

int sl_state_freshness_list_get(sl_state *st, const char *run_id,
				sl_state_freshness_list *out, sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;
	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	int rc = st_prepare(st, &s, run_id
			    ? "SELECT run_id, source_id, source, table_name, status, max_loaded_at, "
			      "snapshotted_at, age_seconds, by_load_time, message, seconds, at "
			      "FROM freshness_results WHERE run_id = ?1 ORDER BY id"
			    : "SELECT run_id, source_id, source, table_name, status, max_loaded_at, "
			      "snapshotted_at, age_seconds, by_load_time, message, seconds, at "
			      "FROM freshness_results WHERE id IN (SELECT max(id) FROM "
			      "freshness_results GROUP BY source_id) ORDER BY id", err);
	if (rc < 0)
		return rc;
	if (run_id)
		st_bind_text(s, 1, run_id);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items,
			  fill_freshness, "freshness results", err);
	out->items = items;
	return rc;
}

void sl_state_freshness_list_free(sl_state_freshness_list *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}

/* The newest end of a successful attempt of task, 0 when none. */
static int task_ended_at(sl_state *st, const char *task, int64_t *at, sl_error *err)
{
	sqlite3_stmt *s;
	*at = 0;
	int rc = st_prepare(st, &s, "SELECT max(ended_at) FROM tasks WHERE task = ?1 AND "
			    "status = 'success'", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, task);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return st_db_err(st, err, "read task end times");
	return 0;
}

int sl_state_table_loaded_at(sl_state *st, const char *table_key, int64_t *at, bool *by_load,
			     sl_error *err)
{
	char task[512];
	*by_load = true;
	snprintf(task, sizeof task, "load:%s", table_key);
	int rc = task_ended_at(st, task, at, err);
	if (rc < 0 || *at > 0)
		return rc;
	*by_load = false;
	snprintf(task, sizeof task, "extract:%s", table_key);
	return task_ended_at(st, task, at, err);
}

/* ---------------------------------------------------------------- metrics */

int sl_state_metric_add(sl_state *st, const char *run_id, const char *name,
			const char *labels, double value, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO metrics(run_id, name, labels, value, at) "
			    "VALUES(?1, ?2, ?3, ?4, ?5)", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	st_bind_text(s, 2, name);
	st_bind_text(s, 3, labels);
	sqlite3_bind_double(s, 4, value);
	sqlite3_bind_int64(s, 5, sl_now_micros());
	return st_run(st, s, "store metric", err);
}

static void fill_metric(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_metric *m = item;
	m->run_id = st_col_text(a, s, 0, oom);
	m->name = st_col_text(a, s, 1, oom);
	m->labels = st_col_text(a, s, 2, oom);
	m->value = sqlite3_column_double(s, 3);
	m->at = sqlite3_column_int64(s, 4);
}

int sl_state_metrics_list(sl_state *st, const char *name, int64_t since_micros,
			  sl_state_metrics *out, sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	rc = st_prepare(st, &s, "SELECT run_id, name, labels, value, at FROM metrics "
			"WHERE (?1 IS NULL OR name = ?1) AND at >= ?2 ORDER BY at, id", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, since_micros);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_metric,
			  "metrics", err);
	out->items = items;
	return rc;
}

void sl_state_metrics_free(sl_state_metrics *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}

/* ------------------------------------------------------------------- logs */

int sl_state_log_add(sl_state *st, const char *run_id, int64_t task_id, const char *level,
		     const char *message, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "INSERT INTO logs(run_id, task_id, level, message, at) "
			    "VALUES(?1, ?2, ?3, ?4, ?5)", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	sqlite3_bind_int64(s, 2, task_id);
	st_bind_text(s, 3, level ? level : "info");
	st_bind_redacted(s, 4, message ? message : "");
	sqlite3_bind_int64(s, 5, sl_now_micros());
	return st_run(st, s, "store log line", err);
}

static void fill_log(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom)
{
	sl_state_log *g = item;
	g->task_id = sqlite3_column_int64(s, 0);
	g->level = st_col_text(a, s, 1, oom);
	g->message = st_col_text(a, s, 2, oom);
	g->at = sqlite3_column_int64(s, 3);
}

int sl_state_logs_list(sl_state *st, const char *run_id, int64_t task_id,
		       sl_state_logs *out, sl_error *err)
{
	sqlite3_stmt *s;
	void *items = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 16 * 1024);
	rc = st_prepare(st, &s, "SELECT task_id, level, message, at FROM logs WHERE "
			"run_id = ?1 AND (?2 <= 0 OR task_id = ?2) ORDER BY id", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, run_id);
	sqlite3_bind_int64(s, 2, task_id);
	rc = st_read_rows(st, s, &out->arena, &items, &out->n, sizeof *out->items, fill_log,
			  "logs", err);
	out->items = items;
	return rc;
}

void sl_state_logs_free(sl_state_logs *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	l->n = 0;
	l->items = NULL;
}
