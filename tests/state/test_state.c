/* test_state.c: the .sluice/state.db metadata store — every record kind, reopening. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state/state.h"

#include "../lib/unit_tmp.h"

static sl_state *open_ok(void)
{
	sl_state *st = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_state_open(&st, tmp, &err) != 0)
		fail_msg("open failed: %s", err.message);
	return st;
}

#define OK(call)                                                  \
	do {                                                      \
		sl_error e_ = SL_ERROR_INIT;                       \
		int rc_ = (call);                                 \
		if (rc_ != 0)                                     \
			fail_msg("%s: %d %s", #call, rc_, e_.message); \
	} while (0)

static void test_open_creates_wal_db_with_schema_version(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	sl_state_close(st);
	char path[512];
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);

	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), SL_STATE_SCHEMA_VERSION);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* A newer schema is refused with advice. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	sl_error err = SL_ERROR_INIT;
	st = NULL;
	assert_int_equal(sl_state_open(&st, tmp, &err), SL_EDB);
	assert_null(st);
	assert_non_null(strstr(err.message, "schema version 99, newer than this sluice knows (5); "
				   "upgrade sluice"));
}

static void test_runs_sortable_unique_and_listed(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char ids[50][SL_RUN_ID_MAX];
	int64_t seqs[50];
	for (int i = 0; i < 50; i++)
		OK(sl_state_run_begin(st, "run", i % 2 ? "pg" : NULL, ids[i], &seqs[i], &e_));
	for (int i = 0; i < 50; i++) {
		/* "YYYYMMDDTHHMMSS.mmmZ-xxxxxx" */
		assert_int_equal(strlen(ids[i]), 27);
		assert_int_equal(ids[i][8], 'T');
		assert_int_equal(ids[i][15], '.');
		assert_int_equal(ids[i][19], 'Z');
		assert_int_equal(ids[i][20], '-');
		if (i > 0) {
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
			assert_true(seqs[i - 1] < seqs[i]);
		}
	}
	/* seq is never below the wall clock in milliseconds. */
	assert_true(seqs[0] >= sl_now_micros() / 1000 - 60000);

	OK(sl_state_run_end(st, ids[49], "failed", "task extract:a.b failed", &e_));
	OK(sl_state_run_end(st, ids[48], "success", NULL, &e_));
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_state_run_end(st, "nope", "success", NULL, &err), SL_ENOTFOUND);

	sl_state_runs runs;
	OK(sl_state_runs_list(st, 3, &runs, &e_));
	assert_int_equal(runs.n, 3);
	assert_string_equal(runs.items[0].run_id, ids[49]);
	assert_string_equal(runs.items[0].status, "failed");
	assert_string_equal(runs.items[0].message, "task extract:a.b failed");
	assert_string_equal(runs.items[0].command, "run");
	assert_string_equal(runs.items[0].target, "pg");
	assert_int_equal(runs.items[0].seq, seqs[49]);
	assert_true(runs.items[0].ended_at >= runs.items[0].started_at);
	assert_string_equal(runs.items[1].status, "success");
	assert_null(runs.items[1].target);
	assert_null(runs.items[1].message);
	assert_string_equal(runs.items[2].status, "running");
	assert_int_equal(runs.items[2].ended_at, 0);
	sl_state_runs_free(&runs);

	OK(sl_state_runs_list(st, 0, &runs, &e_));
	assert_int_equal(runs.n, 50);
	/* Rows survive the array growing past its first chunks, newest first. */
	for (int i = 0; i < 50; i++) {
		assert_string_equal(runs.items[i].run_id, ids[49 - i]);
		assert_int_equal(runs.items[i].seq, seqs[49 - i]);
	}
	sl_state_runs_free(&runs);

	/* Out of memory mid-list: SL_ENOMEM and an empty list, nothing leaked. */
	for (long n = 0; n < 4; n++) {
		sl_alloc_fail_after(n);
		int rc = sl_state_runs_list(st, 0, &runs, &err);
		sl_alloc_fail_after(-1);
		if (rc == 0) {
			assert_int_equal(runs.n, 50);
		} else {
			assert_int_equal(rc, SL_ENOMEM);
			assert_int_equal(runs.n, 0);
			assert_null(runs.items);
			assert_string_equal(err.message, "out of memory reading runs");
		}
		sl_state_runs_free(&runs);
	}

	OK(sl_state_run_get(st, ids[10], &runs, &e_));
	assert_int_equal(runs.n, 1);
	assert_int_equal(runs.items[0].seq, seqs[10]);
	sl_state_runs_free(&runs);
	assert_int_equal(sl_state_run_get(st, "missing", &runs, &err), SL_ENOTFOUND);
	assert_int_equal(runs.n, 0);
	sl_state_runs_free(&runs);
	sl_state_close(st);

	/* Reopened, the sequence keeps growing. */
	st = open_ok();
	char id[SL_RUN_ID_MAX];
	int64_t seq;
	OK(sl_state_run_begin(st, "build", NULL, id, &seq, &e_));
	assert_true(seq > seqs[49]);
	assert_true(strcmp(id, ids[49]) > 0);
	sl_state_close(st);
}

static void test_tasks_attempts_recorded(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char run[SL_RUN_ID_MAX];
	int64_t seq, t1, t2, t3;
	OK(sl_state_run_begin(st, "run", NULL, run, &seq, &e_));
	OK(sl_state_task_begin(st, run, "extract:shop_files.customers", 1, &t1, &e_));
	OK(sl_state_task_end(st, t1, "up_for_retry", -1, 2048, "connection refused", &e_));
	OK(sl_state_task_begin(st, run, "extract:shop_files.customers", 2, &t2, &e_));
	OK(sl_state_task_end(st, t2, "success", 42, 4096, NULL, &e_));
	OK(sl_state_task_begin(st, run, "load:shop_files.customers", 1, &t3, &e_));
	assert_true(t1 < t2 && t2 < t3);
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_state_task_end(st, 9999, "success", 0, 0, NULL, &err), SL_ENOTFOUND);

	sl_state_tasks tasks;
	OK(sl_state_tasks_list(st, run, &tasks, &e_));
	assert_int_equal(tasks.n, 3);
	assert_int_equal(tasks.items[0].task_id, t1);
	assert_string_equal(tasks.items[0].task, "extract:shop_files.customers");
	assert_int_equal(tasks.items[0].attempt, 1);
	assert_string_equal(tasks.items[0].status, "up_for_retry");
	assert_string_equal(tasks.items[0].message, "connection refused");
	assert_string_equal(tasks.items[0].run_id, run);
	assert_int_equal(tasks.items[0].rows, -1);
	assert_int_equal(tasks.items[0].bytes, 2048);
	assert_int_equal(tasks.items[1].attempt, 2);
	assert_string_equal(tasks.items[1].status, "success");
	assert_int_equal(tasks.items[1].rows, 42);
	assert_int_equal(tasks.items[1].bytes, 4096);
	assert_true(tasks.items[1].ended_at >= tasks.items[1].started_at);
	assert_string_equal(tasks.items[2].status, "running");
	assert_int_equal(tasks.items[2].ended_at, 0);
	assert_int_equal(tasks.items[2].rows, -1);
	sl_state_tasks_free(&tasks);
	OK(sl_state_tasks_list(st, "other", &tasks, &e_));
	assert_int_equal(tasks.n, 0);
	sl_state_tasks_free(&tasks);
	sl_state_close(st);
}

static void test_messages_are_redacted(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char run[SL_RUN_ID_MAX];
	int64_t seq, t;
	sl_log_add_secret("hunter2secret");
	OK(sl_state_run_begin(st, "run", NULL, run, &seq, &e_));
	OK(sl_state_task_begin(st, run, "x", 1, &t, &e_));
	OK(sl_state_task_end(st, t, "failed", -1, -1, "auth failed for password hunter2secret",
			     &e_));
	OK(sl_state_log_add(st, run, t, "error", "using hunter2secret", &e_));
	sl_state_tasks tasks;
	OK(sl_state_tasks_list(st, run, &tasks, &e_));
	assert_string_equal(tasks.items[0].message, "auth failed for password ***");
	sl_state_tasks_free(&tasks);
	sl_state_logs logs;
	OK(sl_state_logs_list(st, run, 0, &logs, &e_));
	assert_string_equal(logs.items[0].message, "using ***");
	sl_state_logs_free(&logs);
	sl_state_close(st);
}

static void test_ledger_round_trip(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	sl_ledger a = {.files = 3, .rows_read = 1000, .rows_landed = 990, .rows_quarantined = 10,
		       .rows_loaded = 990, .bytes = 123456, .seconds = 1.25};
	sl_ledger b = {.files = 0, .rows_read = 50, .rows_landed = 50, .rows_quarantined = 0,
		       .rows_loaded = 50, .bytes = 2048, .seconds = 0.5};
	sl_ledger got;
	OK(sl_state_ledger_put(st, "r1", "raw.shop_files.customers", &a, &e_));
	OK(sl_state_ledger_put(st, "r1", "raw.shop_db.orders", &b, &e_));
	OK(sl_state_ledger_put(st, "r2", "raw.shop_db.orders", &a, &e_));
	OK(sl_state_ledger_get(st, "r1", "raw.shop_files.customers", &got, &e_));
	assert_int_equal(got.files, 3);
	assert_int_equal(got.rows_read, 1000);
	assert_int_equal(got.rows_landed, 990);
	assert_int_equal(got.rows_quarantined, 10);
	assert_int_equal(got.rows_loaded, 990);
	assert_int_equal(got.bytes, 123456);
	assert_true(got.seconds == 1.25);
	/* Putting again replaces. */
	a.rows_loaded = 995;
	OK(sl_state_ledger_put(st, "r1", "raw.shop_files.customers", &a, &e_));
	OK(sl_state_ledger_get(st, "r1", "raw.shop_files.customers", &got, &e_));
	assert_int_equal(got.rows_loaded, 995);
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_state_ledger_get(st, "r9", "x", &got, &err), SL_ENOTFOUND);

	sl_state_ledgers l;
	OK(sl_state_ledger_list(st, "r1", NULL, 0, &l, &e_));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].table, "raw.shop_db.orders");
	assert_int_equal(l.items[0].l.rows_read, 50);
	assert_string_equal(l.items[1].table, "raw.shop_files.customers");
	sl_state_ledgers_free(&l);
	OK(sl_state_ledger_list(st, NULL, "raw.shop_db.orders", 0, &l, &e_));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].run_id, "r2"); /* newest run first */
	assert_int_equal(l.items[0].l.rows_read, 1000);
	assert_string_equal(l.items[1].run_id, "r1");
	sl_state_ledgers_free(&l);
	OK(sl_state_ledger_list(st, NULL, NULL, 1, &l, &e_));
	assert_int_equal(l.n, 1);
	sl_state_ledgers_free(&l);
	sl_state_close(st);

	st = open_ok();
	OK(sl_state_ledger_get(st, "r2", "raw.shop_db.orders", &got, &e_));
	assert_int_equal(got.bytes, 123456);
	sl_state_close(st);
}

static void test_watermark_round_trip(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char *v = (char *)"unchanged";
	OK(sl_state_watermark_get(st, "shop_db.orders", &v, &e_));
	assert_null(v);
	OK(sl_state_watermark_set(st, "shop_db.orders", "2024-05-01 10:00:00.123456", &e_));
	OK(sl_state_watermark_set(st, "rates.exchange_rates", "42", &e_));
	OK(sl_state_watermark_get(st, "shop_db.orders", &v, &e_));
	assert_string_equal(v, "2024-05-01 10:00:00.123456");
	sl_free(v);
	OK(sl_state_watermark_set(st, "shop_db.orders", "2024-05-02 00:00:00", &e_));
	sl_state_close(st);

	st = open_ok();
	OK(sl_state_watermark_get(st, "shop_db.orders", &v, &e_));
	assert_string_equal(v, "2024-05-02 00:00:00");
	sl_free(v);
	OK(sl_state_watermark_delete(st, "shop_db.orders", &e_));
	OK(sl_state_watermark_get(st, "shop_db.orders", &v, &e_));
	assert_null(v);
	OK(sl_state_watermark_get(st, "rates.exchange_rates", &v, &e_));
	assert_string_equal(v, "42");
	sl_free(v);
	sl_state_close(st);
}

static void test_file_done_and_changed(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	bool done = true;
	int64_t n;
	const char *k = "shop_files.customers";
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 100, "1700000000", &done, &e_));
	assert_false(done);
	OK(sl_state_file_done(st, k, "data/c1.csv", 100, "1700000000", "r1", &e_));
	OK(sl_state_file_done(st, k, "data/c2.csv", 200, "1700000001", "r1", &e_));
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 100, "1700000000", &done, &e_));
	assert_true(done);
	/* Changed size or mtime: extract again. */
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 101, "1700000000", &done, &e_));
	assert_false(done);
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 100, "1700000005", &done, &e_));
	assert_false(done);
	/* Same file under another table is not done. */
	OK(sl_state_file_is_done(st, "other.t", "data/c1.csv", 100, "1700000000", &done, &e_));
	assert_false(done);
	/* Re-marking the changed file replaces the old entry. */
	OK(sl_state_file_done(st, k, "data/c1.csv", 101, "1700000005", "r2", &e_));
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 100, "1700000000", &done, &e_));
	assert_false(done);
	OK(sl_state_file_is_done(st, k, "data/c1.csv", 101, "1700000005", &done, &e_));
	assert_true(done);
	OK(sl_state_files_count(st, k, &n, &e_));
	assert_int_equal(n, 2);
	/* S3 objects by ETag. */
	OK(sl_state_file_done(st, "drops.events", "s3://b/e/1.csv.gz", 9, "\"abc123\"", "r2", &e_));
	OK(sl_state_file_is_done(st, "drops.events", "s3://b/e/1.csv.gz", 9, "\"abc123\"", &done, &e_));
	assert_true(done);
	sl_state_close(st);

	st = open_ok();
	OK(sl_state_file_is_done(st, k, "data/c2.csv", 200, "1700000001", &done, &e_));
	assert_true(done);
	OK(sl_state_files_reset(st, k, &e_));
	OK(sl_state_file_is_done(st, k, "data/c2.csv", 200, "1700000001", &done, &e_));
	assert_false(done);
	OK(sl_state_files_count(st, k, &n, &e_));
	assert_int_equal(n, 0);
	OK(sl_state_files_count(st, "drops.events", &n, &e_));
	assert_int_equal(n, 1);
	sl_state_close(st);
}

static void test_transaction_groups_and_rolls_back(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	bool done;
	int64_t n;
	OK(sl_state_tx_begin(st, &e_));
	for (int i = 0; i < 100; i++) {
		char p[32];
		snprintf(p, sizeof p, "f%03d.csv", i);
		OK(sl_state_file_done(st, "s.t", p, i, "m", "r1", &e_));
	}
	OK(sl_state_tx_commit(st, &e_));
	OK(sl_state_files_count(st, "s.t", &n, &e_));
	assert_int_equal(n, 100);
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_state_tx_commit(st, &err), SL_EINTERNAL);

	OK(sl_state_tx_begin(st, &e_));
	OK(sl_state_file_done(st, "s.t", "extra.csv", 1, "m", "r2", &e_));
	OK(sl_state_watermark_set(st, "s.t", "5", &e_));
	sl_state_tx_rollback(st);
	OK(sl_state_file_is_done(st, "s.t", "extra.csv", 1, "m", &done, &e_));
	assert_false(done);
	char *v;
	OK(sl_state_watermark_get(st, "s.t", &v, &e_));
	assert_null(v);
	/* run_begin inside a caller's transaction joins it. */
	char id[SL_RUN_ID_MAX];
	int64_t seq;
	OK(sl_state_tx_begin(st, &e_));
	OK(sl_state_run_begin(st, "run", NULL, id, &seq, &e_));
	OK(sl_state_tx_commit(st, &e_));
	sl_state_runs runs;
	OK(sl_state_run_get(st, id, &runs, &e_));
	sl_state_runs_free(&runs);
	sl_state_close(st);
}

static void test_test_results_metrics_logs(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	OK(sl_state_test_result_add(st, "r1", "dim_customers", "not_null_customer_id", "pass", 0,
				    NULL, &e_));
	OK(sl_state_test_result_add(st, "r1", "dim_customers", "unique_customer_id", "fail", 3,
				    "3 duplicate keys", &e_));
	OK(sl_state_test_result_add(st, "r2", "dim_customers", "unique_customer_id", "pass", 0,
				    NULL, &e_));
	sl_state_test_results tr;
	OK(sl_state_test_results_list(st, "r1", &tr, &e_));
	assert_int_equal(tr.n, 2);
	assert_string_equal(tr.items[1].test, "unique_customer_id");
	assert_string_equal(tr.items[1].status, "fail");
	assert_int_equal(tr.items[1].failures, 3);
	assert_string_equal(tr.items[1].message, "3 duplicate keys");
	assert_string_equal(tr.items[1].table, "dim_customers");
	assert_null(tr.items[0].message);
	sl_state_test_results_free(&tr);
	/* Latest result per table and test. */
	OK(sl_state_test_results_list(st, NULL, &tr, &e_));
	assert_int_equal(tr.n, 2);
	assert_string_equal(tr.items[0].test, "not_null_customer_id");
	assert_string_equal(tr.items[1].run_id, "r2");
	assert_string_equal(tr.items[1].status, "pass");
	sl_state_test_results_free(&tr);

	OK(sl_state_metric_add(st, "r1", "rows_loaded", "table=orders", 990, &e_));
	OK(sl_state_metric_add(st, "r1", "seconds", NULL, 1.5, &e_));
	OK(sl_state_metric_add(st, "r2", "rows_loaded", "table=orders", 1010, &e_));
	sl_state_metrics m;
	OK(sl_state_metrics_list(st, "rows_loaded", 0, &m, &e_));
	assert_int_equal(m.n, 2);
	assert_true(m.items[0].value == 990);
	assert_true(m.items[1].value == 1010);
	assert_string_equal(m.items[1].labels, "table=orders");
	assert_string_equal(m.items[1].run_id, "r2");
	sl_state_metrics_free(&m);
	OK(sl_state_metrics_list(st, NULL, 0, &m, &e_));
	assert_int_equal(m.n, 3);
	sl_state_metrics_free(&m);
	OK(sl_state_metrics_list(st, NULL, sl_now_micros() + 60 * SL_MICROS_PER_SEC, &m, &e_));
	assert_int_equal(m.n, 0);
	sl_state_metrics_free(&m);

	OK(sl_state_log_add(st, "r1", 0, "info", "run started", &e_));
	OK(sl_state_log_add(st, "r1", 5, "warn", "10 rows quarantined", &e_));
	OK(sl_state_log_add(st, "r2", 0, "info", "other run", &e_));
	sl_state_logs logs;
	OK(sl_state_logs_list(st, "r1", 0, &logs, &e_));
	assert_int_equal(logs.n, 2);
	assert_string_equal(logs.items[0].message, "run started");
	assert_string_equal(logs.items[1].level, "warn");
	assert_int_equal(logs.items[1].task_id, 5);
	sl_state_logs_free(&logs);
	OK(sl_state_logs_list(st, "r1", 5, &logs, &e_));
	assert_int_equal(logs.n, 1);
	sl_state_logs_free(&logs);
	sl_state_close(st);
}

static void test_two_handles_share_the_db(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok();
	char ia[SL_RUN_ID_MAX], ib[SL_RUN_ID_MAX];
	int64_t sa, sb;
	OK(sl_state_run_begin(a, "serve", NULL, ia, &sa, &e_));
	OK(sl_state_run_begin(b, "run", NULL, ib, &sb, &e_));
	assert_true(sb > sa);
	OK(sl_state_watermark_set(a, "k", "1", &e_));
	char *v;
	OK(sl_state_watermark_get(b, "k", &v, &e_));
	assert_string_equal(v, "1");
	sl_free(v);
	sl_state_close(a);
	sl_state_close(b);
}

static void test_open_survives_allocation_failures(void **state)
{
	(void)state;
	for (long n = 0; n < 12; n++) {
		sl_state *st = NULL;
		sl_error err = SL_ERROR_INIT;
		sl_alloc_fail_after(n);
		int rc = sl_state_open(&st, tmp, &err);
		sl_alloc_fail_after(-1);
		if (rc == 0)
			sl_state_close(st);
		else
			assert_int_equal(rc, SL_ENOMEM);
	}
}

/* ------------------------------------------------------------------ locks */

static void test_lock_acquire_release_and_holder_named(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok();
	sl_error err = SL_ERROR_INIT;
	char pid[32];
	OK(sl_state_lock(a, "lake-commit:t", 0, &e_));
	assert_int_equal(sl_state_lock(b, "lake-commit:t", 0, &err), SL_ECONFLICT);
	snprintf(pid, sizeof pid, "held by pid %ld on ", (long)getpid());
	assert_non_null(strstr(err.message, pid));
	assert_non_null(strstr(err.message, "lock \"lake-commit:t\""));
	/* other names are independent */
	OK(sl_state_lock(b, "lake-commit:u", 0, &e_));
	sl_state_unlock(a, "lake-commit:t");
	OK(sl_state_lock(b, "lake-commit:t", 0, &e_));
	/* not reentrant: a handle waits for a name it holds like anyone else */
	sl_error_clear(&err);
	assert_int_equal(sl_state_lock(b, "lake-commit:t", 0, &err), SL_ECONFLICT);
	sl_state_unlock(b, "lake-commit:t");
	sl_state_unlock(b, "lake-commit:u");
	OK(sl_state_lock(a, "lake-commit:t", 0, &e_));
	sl_state_unlock(a, "lake-commit:t");
	sl_error_clear(&err);
	assert_int_equal(sl_state_lock(a, "", 0, &err), SL_EINVAL);
	sl_state_close(a);
	sl_state_close(b);
}

static void test_lock_second_handle_blocks_until_timeout(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok();
	sl_error err = SL_ERROR_INIT;
	OK(sl_state_lock(a, "x", 0, &e_));
	double t0 = sl_monotonic_seconds();
	assert_int_equal(sl_state_lock(b, "x", 300, &err), SL_ECONFLICT);
	double waited = sl_monotonic_seconds() - t0;
	assert_true(waited >= 0.29);
	assert_true(waited < 3.0);
	assert_non_null(strstr(err.message, "gave up after 300 ms"));
	sl_state_unlock(a, "x");
	sl_state_close(a);
	sl_state_close(b);
}

typedef struct {
	sl_state *st;
	const char *name;
	int delay_ms;
} unlock_later;

static void *unlock_thread(void *arg)
{
	unlock_later *u = arg;
	usleep((useconds_t)u->delay_ms * 1000);
	sl_state_unlock(u->st, u->name);
	return NULL;
}

static void test_lock_waiter_gets_it_when_released(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok();
	pthread_t th;
	unlock_later u = {a, "x", 200};
	OK(sl_state_lock(a, "x", 0, &e_));
	double t0 = sl_monotonic_seconds();
	assert_int_equal(pthread_create(&th, NULL, unlock_thread, &u), 0);
	OK(sl_state_lock(b, "x", 10000, &e_));
	double waited = sl_monotonic_seconds() - t0;
	pthread_join(th, NULL);
	assert_true(waited >= 0.19);
	assert_true(waited < 5.0);
	sl_state_unlock(b, "x");
	sl_state_close(a);
	sl_state_close(b);
}

static void test_lock_stale_lease_expires(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok(), *c = open_ok();
	sl_error err = SL_ERROR_INIT;
	/* a holder whose process lives on but never releases (hung, or on another
	 * host): its lease runs out */
	sl_state_set_lock_lease(a, 200);
	OK(sl_state_lock(a, "x", 0, &e_));
	assert_int_equal(sl_state_lock(b, "x", 0, &err), SL_ECONFLICT);
	usleep(250 * 1000);
	OK(sl_state_lock(b, "x", 0, &e_));
	/* the old holder can neither renew nor release what it lost */
	sl_error_clear(&err);
	assert_int_equal(sl_state_lock_renew(a, "x", &err), SL_ECONFLICT);
	assert_non_null(strstr(err.message, "not held by this process any more"));
	sl_state_unlock(a, "x");
	sl_error_clear(&err);
	assert_int_equal(sl_state_lock(c, "x", 0, &err), SL_ECONFLICT);
	sl_state_unlock(b, "x");
	OK(sl_state_lock(c, "x", 0, &e_));
	sl_state_unlock(c, "x");
	sl_state_close(a);
	sl_state_close(b);
	sl_state_close(c);
}

static void test_lock_renew_is_a_heartbeat(void **state)
{
	(void)state;
	sl_state *a = open_ok(), *b = open_ok();
	sl_error err = SL_ERROR_INIT;
	sl_state_set_lock_lease(a, 400);
	OK(sl_state_lock(a, "x", 0, &e_));
	for (int i = 0; i < 3; i++) {
		usleep(250 * 1000);
		OK(sl_state_lock_renew(a, "x", &e_));
	}
	/* 750 ms after taking it, a 400 ms lease still holds thanks to renewals */
	assert_int_equal(sl_state_lock(b, "x", 0, &err), SL_ECONFLICT);
	sl_state_unlock(a, "x");
	OK(sl_state_lock(b, "x", 0, &e_));
	sl_state_unlock(b, "x");
	sl_state_close(a);
	sl_state_close(b);
}

static void test_lock_of_crashed_process_is_taken_over(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		sl_state *st = NULL;
		sl_error err = SL_ERROR_INIT;
		if (sl_state_open(&st, tmp, &err) < 0 || sl_state_lock(st, "x", 0, &err) < 0)
			_exit(1);
		_exit(0); /* "crashes" holding the lock */
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	sl_state *a = open_ok();
	/* the default lease is minutes; the dead pid frees it at once */
	double t0 = sl_monotonic_seconds();
	OK(sl_state_lock(a, "x", 0, &e_));
	assert_true(sl_monotonic_seconds() - t0 < 1.0);
	sl_state_unlock(a, "x");
	sl_state_close(a);
}

static void test_lock_refused_inside_a_transaction(void **state)
{
	(void)state;
	sl_state *a = open_ok();
	sl_error err = SL_ERROR_INIT;
	OK(sl_state_tx_begin(a, &e_));
	assert_int_equal(sl_state_lock(a, "x", 0, &err), SL_EINTERNAL);
	assert_non_null(strstr(err.message, "inside a transaction"));
	sl_state_tx_rollback(a);
	OK(sl_state_lock(a, "x", 0, &e_));
	sl_state_unlock(a, "x");
	sl_state_close(a);
}

/* A task refused by max_bad_rows is stored as what it is: no load ran
 * (NULL, read back as -1), status "refused" and the reason, redacted. */
static void test_ledger_refused_has_no_loaded_count_and_says_why(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	sl_log_add_secret("tok3nSECRET");
	sl_ledger r = {.files = 1, .rows_read = 40002, .rows_landed = 0, .rows_quarantined = 1,
		       .rows_loaded = -1, .status = "refused",
		       .message = "1 bad rows exceed max_bad_rows=0 (key tok3nSECRET)"};
	sl_ledger ok = {.rows_read = 5, .rows_landed = 5, .rows_loaded = 5};
	OK(sl_state_ledger_put(st, "r1", "raw/s/t", &r, &e_));
	OK(sl_state_ledger_put(st, "r1", "raw/s/u", &ok, &e_));
	sl_state_ledgers l;
	OK(sl_state_ledger_list(st, "r1", NULL, 0, &l, &e_));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].table, "raw/s/t");
	assert_int_equal(l.items[0].l.rows_loaded, -1);
	assert_string_equal(l.items[0].l.status, "refused");
	assert_string_equal(l.items[0].l.message, "1 bad rows exceed max_bad_rows=0 (key ***)");
	assert_string_equal(l.items[1].l.status, "ok");
	assert_null(l.items[1].l.message);
	assert_int_equal(l.items[1].l.rows_loaded, 5);
	sl_state_ledgers_free(&l);
	sl_state_close(st);

	/* Stored as NULL, not as a -1 placeholder. */
	char path[512], sql[128];
	sqlite3 *db;
	sqlite3_stmt *q;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger WHERE rows_loaded IS NULL");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* A version 2 db keeps its ledgers: -1 placeholders become NULL, the
 * status of rows written before it existed is unknown (NULL). */
static void test_version_2_ledger_is_migrated(void **state)
{
	(void)state;
	sl_state *a = open_ok();
	sl_state_close(a);
	char path[512];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "DROP TABLE ledger; DROP TABLE lake_marks;"
			     "CREATE TABLE ledger(run_id TEXT NOT NULL, table_name TEXT NOT NULL,"
			     " files INTEGER NOT NULL, rows_read INTEGER NOT NULL,"
			     " rows_landed INTEGER NOT NULL, rows_quarantined INTEGER NOT NULL,"
			     " rows_loaded INTEGER NOT NULL, bytes INTEGER NOT NULL,"
			     " seconds REAL NOT NULL, updated_at INTEGER NOT NULL,"
			     " PRIMARY KEY(run_id, table_name));"
			     "INSERT INTO ledger VALUES('r1', 'raw/s/t', 1, 3, 0, 1, -1, 10, 0.1, 1),"
			     " ('r1', 'raw/s/u', 1, 2, 2, 0, 2, 10, 0.1, 1);"
			     "PRAGMA user_version = 2",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	a = open_ok();
	sl_state_ledgers l;
	OK(sl_state_ledger_list(a, "r1", NULL, 0, &l, &e_));
	assert_int_equal(l.n, 2);
	assert_int_equal(l.items[0].l.rows_loaded, -1);
	assert_null(l.items[0].l.status);
	assert_int_equal(l.items[1].l.rows_loaded, 2);
	sl_state_ledgers_free(&l);
	bool found;
	sl_state_lake_mark m;
	OK(sl_state_lake_mark_get(a, "s.t", &m, &found, &e_));
	assert_false(found);
	sl_state_close(a);
}

static void test_lake_marks_round_trip(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	sl_state_lake_mark m;
	bool found = true;
	OK(sl_state_lake_mark_get(st, "s.t", &m, &found, &e_));
	assert_false(found);
	OK(sl_state_lake_mark_set(st, "s.t", "raw/s/t", "id-1", 4, &e_));
	OK(sl_state_lake_mark_set(st, "s.u", "raw/s/u", "id-2", 0, &e_));
	/* Replaced, also by a lower version (a table extracted anew). */
	OK(sl_state_lake_mark_set(st, "s.t", "raw/s/t", "id-3", 0, &e_));
	sl_state_close(st);
	st = open_ok();
	OK(sl_state_lake_mark_get(st, "s.t", &m, &found, &e_));
	assert_true(found);
	assert_string_equal(m.lake_table, "raw/s/t");
	assert_string_equal(m.table_id, "id-3");
	assert_int_equal(m.version, 0);
	sl_state_lake_mark_clear(&m);
	sl_state_close(st);
}

/* Every message stored goes through redaction, whole: a secret shorter
 * than "***" would make the text longer, and nothing may be cut. */
static void test_run_and_ledger_messages_are_redacted_whole(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char run[SL_RUN_ID_MAX];
	int64_t seq;
	sl_log_add_secret("pass");
	OK(sl_state_run_begin(st, "run", NULL, run, &seq, &e_));
	OK(sl_state_run_end(st, run, "failed", "pass pass pass pass end", &e_));
	sl_state_runs runs;
	OK(sl_state_run_get(st, run, &runs, &e_));
	assert_string_equal(runs.items[0].message, "*** *** *** *** end");
	sl_state_runs_free(&runs);
	sl_state_close(st);
}

static void test_version_1_db_is_migrated_to_locks(void **state)
{
	(void)state;
	sl_state *a = open_ok();
	sl_state_close(a);
	char path[512];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE locks; PRAGMA user_version = 1", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	a = open_ok();
	OK(sl_state_lock(a, "x", 0, &e_));
	sl_state_unlock(a, "x");
	sl_state_close(a);
}

/* A run records its logical date, data interval, trigger, the run it
 * resumes, its selection and its process; a plain begin is a cli run whose
 * logical date is its start. */
static void test_run_start_records_logical_date_and_trigger(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char a[SL_RUN_ID_MAX], b[SL_RUN_ID_MAX];
	int64_t seq;
	sl_state_run_info info = {
		.command = "backfill", .target = "local", .trigger = "backfill",
		.logical_date = INT64_C(1704067200000000),         /* 2024-01-01 */
		.data_interval_start = INT64_C(1704067200000000),
		.data_interval_end = INT64_C(1704153600000000),    /* 2024-01-02 */
		.params = "{\"select\":[\"s.t\"]}",
	};
	OK(sl_state_run_start(st, &info, a, &seq, &e_));
	info.resumed_from = a;
	info.trigger = NULL;
	info.command = "run";
	OK(sl_state_run_start(st, &info, b, &seq, &e_));
	OK(sl_state_run_end(st, a, "cancelled", "cancelled by SIGTERM", &e_));
	sl_state_runs runs;
	OK(sl_state_run_get(st, a, &runs, &e_));
	assert_string_equal(runs.items[0].trigger, "backfill");
	assert_string_equal(runs.items[0].status, "cancelled");
	assert_int_equal(runs.items[0].logical_date, INT64_C(1704067200000000));
	assert_int_equal(runs.items[0].data_interval_start, INT64_C(1704067200000000));
	assert_int_equal(runs.items[0].data_interval_end, INT64_C(1704153600000000));
	assert_string_equal(runs.items[0].params, "{\"select\":[\"s.t\"]}");
	assert_null(runs.items[0].resumed_from);
	assert_int_equal(runs.items[0].pid, (int64_t)getpid());
	assert_non_null(runs.items[0].host);
	sl_state_runs_free(&runs);
	OK(sl_state_run_get(st, b, &runs, &e_));
	assert_string_equal(runs.items[0].trigger, "cli");
	assert_string_equal(runs.items[0].resumed_from, a);
	sl_state_runs_free(&runs);

	char c[SL_RUN_ID_MAX];
	int64_t before = sl_now_micros();
	OK(sl_state_run_begin(st, "run", NULL, c, &seq, &e_));
	OK(sl_state_run_get(st, c, &runs, &e_));
	assert_string_equal(runs.items[0].trigger, "cli");
	assert_true(runs.items[0].logical_date >= before);
	assert_int_equal(runs.items[0].data_interval_start, runs.items[0].logical_date);
	assert_int_equal(runs.items[0].data_interval_end, runs.items[0].logical_date);
	sl_state_runs_free(&runs);
	sl_state_close(st);
}

/* A run left "running" by a process that is gone is failed on the next
 * reap, with its running attempts; one whose process lives is left alone. */
static void test_runs_of_dead_processes_are_reaped(void **state)
{
	(void)state;
	sl_state *st = open_ok();
	char dead[SL_RUN_ID_MAX], live[SL_RUN_ID_MAX];
	int64_t seq, t;
	OK(sl_state_run_begin(st, "run", NULL, dead, &seq, &e_));
	OK(sl_state_task_begin(st, dead, "extract:s.t", 1, &t, &e_));
	OK(sl_state_run_begin(st, "run", NULL, live, &seq, &e_));
	/* A child that exits at once gives a pid that no longer exists. */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_true(child > 0);
	int wstatus;
	waitpid(child, &wstatus, 0);
	char path[512], sql[256];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "UPDATE runs SET pid = %d WHERE run_id = '%s'", (int)child,
		 dead);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	int n = -1;
	OK(sl_state_runs_reap(st, &n, &e_));
	assert_int_equal(n, 1);
	sl_state_runs runs;
	OK(sl_state_run_get(st, dead, &runs, &e_));
	assert_string_equal(runs.items[0].status, "failed");
	assert_string_equal(runs.items[0].message, "the process ended without finishing the run");
	assert_true(runs.items[0].ended_at > 0);
	sl_state_runs_free(&runs);
	sl_state_tasks tasks;
	OK(sl_state_tasks_list(st, dead, &tasks, &e_));
	assert_string_equal(tasks.items[0].status, "failed");
	sl_state_tasks_free(&tasks);
	OK(sl_state_run_get(st, live, &runs, &e_));
	assert_string_equal(runs.items[0].status, "running");
	sl_state_runs_free(&runs);
	OK(sl_state_runs_reap(st, &n, &e_));
	assert_int_equal(n, 0);
	sl_state_close(st);
}

/* A version 3 db keeps its runs and attempts (read as cli runs whose
 * logical date is their start) and loses loaded_versions. */
static void test_version_3_db_is_migrated(void **state)
{
	(void)state;
	sl_state *a = open_ok();
	sl_state_close(a);
	char path[512];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "DROP TABLE runs; DROP TABLE tasks; DROP INDEX IF EXISTS runs_status;"
			     "CREATE TABLE runs(run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,"
			     " command TEXT NOT NULL, target TEXT, status TEXT NOT NULL, message TEXT,"
			     " started_at INTEGER NOT NULL, ended_at INTEGER);"
			     "CREATE TABLE tasks(task_id INTEGER PRIMARY KEY AUTOINCREMENT,"
			     " run_id TEXT NOT NULL, task TEXT NOT NULL, attempt INTEGER NOT NULL,"
			     " status TEXT NOT NULL, message TEXT, started_at INTEGER NOT NULL,"
			     " ended_at INTEGER);"
			     "CREATE TABLE loaded_versions(target TEXT NOT NULL, table_name TEXT NOT NULL,"
			     " version INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
			     " PRIMARY KEY(target, table_name));"
			     "INSERT INTO loaded_versions VALUES('local', 'raw/s/t', 3, 1);"
			     "INSERT INTO runs VALUES('r1', 5, 'run', 'local', 'success', NULL, 1000, 2000);"
			     "INSERT INTO tasks(run_id, task, attempt, status, started_at, ended_at)"
			     " VALUES('r1', 'extract:s.t', 1, 'success', 1000, 1500);"
			     "PRAGMA user_version = 3",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	a = open_ok();
	sl_state_runs runs;
	OK(sl_state_run_get(a, "r1", &runs, &e_));
	assert_string_equal(runs.items[0].status, "success");
	assert_string_equal(runs.items[0].trigger, "cli");
	assert_int_equal(runs.items[0].logical_date, 1000);
	assert_int_equal(runs.items[0].data_interval_end, 1000);
	assert_int_equal(runs.items[0].pid, 0);
	assert_null(runs.items[0].host);
	sl_state_runs_free(&runs);
	sl_state_tasks tasks;
	OK(sl_state_tasks_list(a, "r1", &tasks, &e_));
	assert_int_equal(tasks.n, 1);
	assert_int_equal(tasks.items[0].rows, -1);
	assert_int_equal(tasks.items[0].ended_at, 1500);
	sl_state_tasks_free(&tasks);
	/* New runs follow the old ones. */
	char id[SL_RUN_ID_MAX];
	int64_t seq;
	OK(sl_state_run_begin(a, "run", NULL, id, &seq, &e_));
	sl_state_close(a);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = "
					    "'loaded_versions'", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* A version 4 db keeps its test results (no sample, no SQL), gains the v5
 * columns and the freshness table; new results keep their sample. */
static void test_version_4_db_is_migrated(void **state)
{
	(void)state;
	sl_state *a = open_ok();
	sl_state_close(a);
	char path[512];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/.sluice/state.db", tmp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "DROP TABLE test_results; DROP TABLE freshness_results;"
			     "CREATE TABLE test_results(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT,"
			     " table_name TEXT, test_name TEXT NOT NULL, status TEXT NOT NULL,"
			     " failures INTEGER NOT NULL, message TEXT, at INTEGER NOT NULL);"
			     "INSERT INTO test_results(run_id, table_name, test_name, status, failures,"
			     " message, at) VALUES('r0', 'model.p.orders', 'test.p.nn', 'fail', 2,"
			     " 'Got 2 results', 7);"
			     "INSERT INTO tasks(run_id, task, attempt, status, started_at, ended_at)"
			     " VALUES('r0', 'extract:s.t', 1, 'success', 100, 200),"
			     " ('r0', 'load:s.t', 1, 'success', 200, 300),"
			     " ('r1', 'load:s.t', 1, 'failed', 400, 900),"
			     " ('r1', 'extract:s.u', 1, 'success', 400, 500);"
			     "PRAGMA user_version = 4",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	a = open_ok();
	sl_state_test_results tr;
	OK(sl_state_test_results_list(a, "r0", &tr, &e_));
	assert_int_equal(tr.n, 1);
	assert_string_equal(tr.items[0].status, "fail");
	assert_int_equal(tr.items[0].failures, 2);
	assert_null(tr.items[0].sample_json);
	assert_null(tr.items[0].compiled_sql);
	sl_state_test_results_free(&tr);
	sl_state_test_result r = {
		.run_id = "r1", .table = "model.p.orders", .test = "test.p.nn", .status = "warn",
		.failures = 1, .message = "Got 1 result, configured to warn if != 0",
		.sample_json = "[{\"id\":null}]", .compiled_sql = "select * from x where id is null",
		.seconds = 0.25,
	};
	OK(sl_state_test_result_put(a, &r, &e_));
	OK(sl_state_test_results_list(a, NULL, &tr, &e_));
	assert_int_equal(tr.n, 1); /* the latest of table+test */
	assert_string_equal(tr.items[0].run_id, "r1");
	assert_string_equal(tr.items[0].sample_json, "[{\"id\":null}]");
	assert_string_equal(tr.items[0].compiled_sql, "select * from x where id is null");
	assert_true(tr.items[0].seconds > 0.24 && tr.items[0].seconds < 0.26);
	sl_state_test_results_free(&tr);
	/* Load times: the last successful load, else extract, else none. */
	int64_t at = -1;
	bool by_load = false;
	OK(sl_state_table_loaded_at(a, "s.t", &at, &by_load, &e_));
	assert_int_equal(at, 300);
	assert_true(by_load);
	OK(sl_state_table_loaded_at(a, "s.u", &at, &by_load, &e_));
	assert_int_equal(at, 500);
	assert_false(by_load);
	OK(sl_state_table_loaded_at(a, "s.none", &at, &by_load, &e_));
	assert_int_equal(at, 0);
	sl_state_freshness f = {
		.run_id = "f1", .source_id = "source.p.s.t", .source = "s", .table = "t",
		.status = "warn", .max_loaded_at = 300, .snapshotted_at = 1000,
		.age_seconds = 7.5, .by_load_time = true, .message = "older than 5s",
	};
	OK(sl_state_freshness_put(a, &f, &e_));
	f.run_id = "f2";
	f.status = "pass";
	f.message = NULL;
	OK(sl_state_freshness_put(a, &f, &e_));
	sl_state_freshness_list fl;
	OK(sl_state_freshness_list_get(a, "f1", &fl, &e_));
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.items[0].status, "warn");
	assert_string_equal(fl.items[0].message, "older than 5s");
	assert_true(fl.items[0].by_load_time);
	assert_int_equal(fl.items[0].max_loaded_at, 300);
	sl_state_freshness_list_free(&fl);
	OK(sl_state_freshness_list_get(a, NULL, &fl, &e_));
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.items[0].run_id, "f2");
	sl_state_freshness_list_free(&fl);
	sl_state_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_wal_db_with_schema_version, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_runs_sortable_unique_and_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks_attempts_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_are_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_refused_has_no_loaded_count_and_says_why,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_2_ledger_is_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lake_marks_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_and_ledger_messages_are_redacted_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watermark_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_done_and_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_groups_and_rolls_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_test_results_metrics_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_4_db_is_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles_share_the_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_survives_allocation_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_acquire_release_and_holder_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_second_handle_blocks_until_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_waiter_gets_it_when_released, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_stale_lease_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_renew_is_a_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_of_crashed_process_is_taken_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_refused_inside_a_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version_1_db_is_migrated_to_locks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_start_records_logical_date_and_trigger,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_of_dead_processes_are_reaped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version_3_db_is_migrated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
