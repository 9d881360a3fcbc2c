/* test_wh_sqlite.c: the warehouse interface on the SQLite adapter. */
#define _XOPEN_SOURCE 700
#include "wh_cases.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

static char tmpdir[256];
static int seq;
static char last_path[512];

static sl_wh *wh_open_test(void)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	snprintf(last_path, sizeof last_path, "%s/w%d.db", tmpdir, ++seq);
	cfg.type = "sqlite";
	cfg.path = last_path;
	if (sl_wh_open(&wh, &cfg, &err))
		fail_msg("open: %s", err.message);
	return wh;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_wh_sqlite_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_sqlite_schemas_are_attached_files_that_persist(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	char raw[600], mart[600];
	sl_schema *s = mk_schema((const char *const[]){"id:int32", NULL});
	sl_batch *b = mk_batch(s);
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	int64_t v = 4, lv = 0;
	add_row(b, ROW("1"));
	assert_string_equal(sl_wh_type(wh), "sqlite");
	assert_string_equal(sl_wh_schema(wh), "main");
	assert_string_equal(sl_wh_raw_schema(wh), "raw");
	assert_int_equal(load(wh, "t", s, &o, &b, &v, 1, NULL, &err), 0);
	assert_int_equal(sl_wh_ensure_schema(wh, "marts", &err), 0);
	assert_int_equal(sl_wh_exec(wh, "CREATE TABLE marts.m AS SELECT id FROM raw.t", &err), 0);
	sl_wh_close(wh);

	snprintf(raw, sizeof raw, "%.*s.raw.db", (int)strlen(last_path) - 3, last_path);
	snprintf(mart, sizeof mart, "%.*s.marts.db", (int)strlen(last_path) - 3, last_path);
	assert_true(sl_path_exists(raw));
	assert_true(sl_path_exists(mart));

	/* Reopen the same file: the raw schema is attached again at open. */
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	cfg.path = last_path;
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), 0);
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "t", &lv, &err), 0);
	assert_int_equal(lv, 4);
	assert_value(wh, "SELECT count(*) FROM raw.t", "1");
	assert_value(wh, "PRAGMA raw.journal_mode", "wal");
	/* every schema file of the warehouse is attached at open */
	bool exists = false;
	assert_int_equal(sl_wh_table_exists(wh, "marts", "m", &exists, &err), 0);
	assert_true(exists);
	assert_value(wh, "SELECT count(*) FROM marts.m", "1");
	assert_int_equal(sl_wh_ensure_schema(wh, "marts", &err), 0);
	assert_int_equal(sl_wh_table_exists(wh, "marts", "m", &exists, &err), 0);
	assert_true(exists);

	assert_int_equal(sl_wh_ensure_schema(wh, "../etc", &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "schema name \"../etc\" must be letters"));
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_sqlite_stores_decimals_as_exact_text(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"d:decimal(38,18)", "f:float64",
						       "ts:timestamp", NULL});
	sl_batch *b = mk_batch(s);
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	int64_t v = 1;
	add_row(b, ROW("12345678901234567890.123456789012345678", "NaN", "2024-01-02 03:04:05"));
	add_row(b, ROW("1", "inf", "2024-01-02 03:04:05.5"));
	add_row(b, ROW("2", "-inf", NULL));
	assert_int_equal(load(wh, "dec", s, &o, &b, &v, 1, NULL, &err), 0);
	assert_value(wh, "SELECT typeof(d) || ' ' || d FROM raw.dec LIMIT 1",
		     "text 12345678901234567890.123456789012345678");
	assert_value(wh, "SELECT group_concat(ts, ',') FROM raw.dec",
		     "2024-01-02 03:04:05.000000,2024-01-02 03:04:05.500000");
	char *rows = query_rows(wh, "SELECT d, f, ts FROM raw.dec ORDER BY rowid", s);
	assert_string_equal(rows, "12345678901234567890.123456789012345678|NaN|2024-01-02 03:04:05\n"
				  "1.000000000000000000|Infinity|2024-01-02 03:04:05.500000\n"
				  "2.000000000000000000|-Infinity|NULL\n");
	sl_free(rows);
	/* Text decimals still order as numbers in a merge cursor. */
	const char *pk[] = {"f"};
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	o.cursor = "d";
	sl_schema *s2 = mk_schema((const char *const[]){"d:decimal(38,18)", "f:float64", NULL});
	sl_batch *b2 = mk_batch(s2);
	add_row(b2, ROW("10.5", "1"));
	add_row(b2, ROW("9.5", "1"));
	assert_int_equal(load(wh, "decm", s2, &o, &b2, &v, 1, NULL, &err), 0);
	assert_value(wh, "SELECT d FROM raw.decm", "10.500000000000000000");
	sl_batch_free(b2);
	sl_schema_free(s2);
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

/* Opens the warehouse at arg once the starting gun fires; NULL or the error. */
typedef struct {
	const char *path;
	pthread_barrier_t *gun;
	char error[512];
} open_race;

static void *open_at_once(void *arg)
{
	open_race *o = arg;
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "sqlite";
	cfg.path = o->path;
	pthread_barrier_wait(o->gun);
	if (sl_wh_open(&wh, &cfg, &err) < 0)
		snprintf(o->error, sizeof o->error, "%s", err.message);
	sl_wh_close(wh);
	sl_error_clear(&err);
	return NULL;
}

/*
 * Load tasks that open a new warehouse at the same moment: turning the new
 * file to WAL needs it alone, and SQLite answers BUSY at once to a
 * connection that would deadlock waiting; the open waits its turn instead
 * of failing "database is locked".
 */
static void test_sqlite_new_file_opened_by_many_at_once(void **state)
{
	enum { THREADS = 8, ROUNDS = 30 };
	for (int r = 0; r < ROUNDS; r++) {
		char path[600];
		pthread_t th[THREADS];
		open_race o[THREADS];
		pthread_barrier_t gun;
		snprintf(path, sizeof path, "%s/race%d.db", tmpdir, ++seq);
		pthread_barrier_init(&gun, NULL, THREADS);
		for (int i = 0; i < THREADS; i++) {
			o[i] = (open_race){.path = path, .gun = &gun};
			assert_int_equal(pthread_create(&th[i], NULL, open_at_once, &o[i]), 0);
		}
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&gun);
		for (int i = 0; i < THREADS; i++)
			if (o[i].error[0])
				fail_msg("round %d: %s", r, o[i].error);
	}
}

static void test_sqlite_open_errors_name_the_problem(void **state)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "oracle";
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "warehouse type 'oracle' is not supported; use sqlite or postgres");
	cfg.type = "sqlite";
	cfg.path = "/nonexistent-dir/x/w.db";
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), SL_EDB);
	assert_non_null(strstr(err.message, "sqlite /nonexistent-dir/x/w.db: cannot open"));
	assert_null(wh);
}

/* Every allocation failing in turn: an error or success, never a crash or
 * a leak (LeakSanitizer checks at exit). */
static void test_sqlite_allocation_failures_are_clean(void **state)
{
	sl_schema *s = mk_schema(merge_cols);
	sl_batch *b = mk_batch(s);
	const char *pk[] = {"id"};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	o.cursor = "updated_at";
	o.run_id = "r";
	add_row(b, ROW("1", "a", "2024-01-01 00:00:01"));
	add_row(b, ROW("1", "b", "2024-01-01 00:00:02"));
	bool done = false;
	long n;
	for (n = 0; n < 500 && !done; n++) {
		sl_wh_config cfg = SL_WH_CONFIG_INIT;
		sl_error err = SL_ERROR_INIT;
		sl_wh *wh = NULL;
		snprintf(last_path, sizeof last_path, "%s/oom%ld.db", tmpdir, n);
		cfg.path = last_path;
		int64_t v = 1;
		sl_alloc_fail_after(n);
		int rc = sl_wh_open(&wh, &cfg, &err);
		if (rc == 0)
			rc = load(wh, "t", s, &o, &b, &v, 1, NULL, &err);
		sl_alloc_fail_after(-1);
		if (rc == 0) {
			assert_value(wh, "SELECT v FROM raw.t", "b");
			done = true;
		} else {
			assert_true(rc == SL_ENOMEM || rc == SL_EDB);
		}
		sl_wh_close(wh);
	}
	assert_true(done);
	assert_true(n > 20); /* that many allocations were made to fail */
	sl_batch_free(b);
	sl_schema_free(s);
}

/* Runs sql on wh, noting its return code and message, then that it ended. */
typedef struct {
	sl_wh *wh;
	const char *sql; /* NULL: sl_wh_begin */
	int rc;
	char error[512];
	atomic_bool done;
} runner;

static void *run_one(void *arg)
{
	runner *r = arg;
	sl_error err = SL_ERROR_INIT;
	r->rc = r->sql ? sl_wh_exec(r->wh, r->sql, &err) : sl_wh_begin(r->wh, &err);
	snprintf(r->error, sizeof r->error, "%s", err.message);
	sl_error_clear(&err);
	atomic_store(&r->done, true);
	return NULL;
}

/* Interrupts r's connection, as the engine's watcher does, until r ends. */
static void interrupt_until_done(runner *r)
{
	pthread_t th;
	atomic_init(&r->done, false);
	assert_int_equal(pthread_create(&th, NULL, run_one, r), 0);
	while (!atomic_load(&r->done)) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		assert_int_equal(sl_wh_interrupt(r->wh), 0);
		nanosleep(&ts, NULL);
	}
	pthread_join(th, NULL);
}

/* Reads what was written to stderr into out while fn ran on wh. */
static void stderr_of(void (*fn)(sl_wh *), sl_wh *wh, char *out, size_t n)
{
	char path[600];
	snprintf(path, sizeof path, "%s/stderr%d.txt", tmpdir, ++seq);
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	fn(wh);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t got = pread(fd, out, n - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
}

/*
 * A statement interrupted inside a transaction: SQLite has rolled the
 * transaction back already, and the rollback that follows has nothing to
 * do — no "cannot rollback - no transaction is active" warning.
 */
static void test_sqlite_rollback_after_interrupt_is_quiet(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	char said[1024];
	assert_int_equal(sl_wh_exec(wh, "CREATE TABLE t (x INTEGER)", &err), 0);
	assert_int_equal(sl_wh_begin(wh, &err), 0);
	assert_int_equal(sl_wh_exec(wh, "INSERT INTO t VALUES (1)", &err), 0);
	runner r = {.wh = wh,
		    .sql = "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
			   "SELECT x + 1 FROM c) SELECT x FROM c"};
	interrupt_until_done(&r);
	assert_int_equal(r.rc, SL_EDB);
	assert_non_null(strstr(r.error, "interrupted"));
	assert_true(sl_wh_in_transaction(wh));
	stderr_of(sl_wh_rollback, wh, said, sizeof said);
	assert_string_equal(said, "");
	assert_false(sl_wh_in_transaction(wh));
	char *n = NULL;
	assert_int_equal(sl_wh_query_value(wh, "SELECT count(*) FROM t", &n, &err), 0);
	assert_string_equal(n, "0");
	sl_free(n);
	/* The connection goes on: a new transaction, committed. */
	assert_int_equal(sl_wh_begin(wh, &err), 0);
	assert_int_equal(sl_wh_exec(wh, "INSERT INTO t VALUES (2)", &err), 0);
	assert_int_equal(sl_wh_commit(wh, &err), 0);
	assert_int_equal(sl_wh_query_value(wh, "SELECT count(*) FROM t", &n, &err), 0);
	assert_string_equal(n, "1");
	sl_free(n);
	sl_wh_close(wh);
}

/* A rollback that has a transaction to end still runs, quietly. */
static void test_sqlite_rollback_without_interrupt_still_rolls_back(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	char said[1024], *n = NULL;
	assert_int_equal(sl_wh_exec(wh, "CREATE TABLE t (x INTEGER)", &err), 0);
	assert_int_equal(sl_wh_begin(wh, &err), 0);
	assert_int_equal(sl_wh_exec(wh, "INSERT INTO t VALUES (1)", &err), 0);
	stderr_of(sl_wh_rollback, wh, said, sizeof said);
	assert_string_equal(said, "");
	assert_false(sl_wh_in_transaction(wh));
	assert_int_equal(sl_wh_query_value(wh, "SELECT count(*) FROM t", &n, &err), 0);
	assert_string_equal(n, "0");
	sl_free(n);
	sl_wh_close(wh);
}

/*
 * A transaction queued for the write lock (another connection holds it)
 * stops when interrupted instead of waiting out the 600 s; the next
 * transaction on that connection is not pre-interrupted.
 */
static void test_sqlite_interrupt_ends_the_wait_for_the_write_lock(void **state)
{
	sl_wh *holder = wh_open_test(), *waiter = NULL;
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	char *n = NULL;
	cfg.type = "sqlite";
	cfg.path = last_path;
	assert_int_equal(sl_wh_open(&waiter, &cfg, &err), 0);
	assert_int_equal(sl_wh_exec(holder, "CREATE TABLE t (x INTEGER)", &err), 0);
	assert_int_equal(sl_wh_begin(holder, &err), 0);
	assert_int_equal(sl_wh_exec(holder, "INSERT INTO t VALUES (1)", &err), 0);

	runner r = {.wh = waiter, .sql = NULL};
	interrupt_until_done(&r);
	assert_int_equal(r.rc, SL_EDB);
	assert_non_null(strstr(r.error, "interrupted while waiting for the warehouse's write lock"));
	assert_false(sl_wh_in_transaction(waiter));

	assert_int_equal(sl_wh_commit(holder, &err), 0);
	/* The interrupts above were handled: this transaction starts. */
	assert_int_equal(sl_wh_begin(waiter, &err), 0);
	assert_int_equal(sl_wh_exec(waiter, "INSERT INTO t VALUES (2)", &err), 0);
	assert_int_equal(sl_wh_commit(waiter, &err), 0);
	assert_int_equal(sl_wh_query_value(holder, "SELECT count(*) FROM t", &n, &err), 0);
	assert_string_equal(n, "2");
	sl_free(n);
	sl_wh_close(waiter);
	sl_wh_close(holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WH_SHARED_TESTS,
		cmocka_unit_test(test_sqlite_schemas_are_attached_files_that_persist),
		cmocka_unit_test(test_sqlite_stores_decimals_as_exact_text),
		cmocka_unit_test(test_sqlite_open_errors_name_the_problem),
		cmocka_unit_test(test_sqlite_new_file_opened_by_many_at_once),
		cmocka_unit_test(test_sqlite_allocation_failures_are_clean),
		cmocka_unit_test(test_sqlite_rollback_after_interrupt_is_quiet),
		cmocka_unit_test(test_sqlite_rollback_without_interrupt_still_rolls_back),
		cmocka_unit_test(test_sqlite_interrupt_ends_the_wait_for_the_write_lock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
