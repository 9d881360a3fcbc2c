/* test_materialize_sqlite.c: models built on the SQLite adapter. */
#define _XOPEN_SOURCE 700
#include "mat_cases.h"

#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static int seq;

/* A target's own settings, as a project passes them: "key=value" pairs. */
static const char *kv_get(const void *ctx, const char *key)
{
	for (const char *const *p = ctx; p && *p; p += 2)
		if (strcmp(p[0], key) == 0)
			return p[1];
	return NULL;
}

static sl_wh *wh_open_at(const char *path, const char *const *settings)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "sqlite";
	cfg.path = path;
	cfg.get = kv_get;
	cfg.get_ctx = settings;
	if (sl_wh_open(&wh, &cfg, &err))
		fail_msg("open %s: %s", path, err.message);
	return wh;
}

static sl_wh *wh_open_test(void)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	char path[512];
	snprintf(path, sizeof path, "%s/w%d.db", tmpdir, ++seq);
	cfg.type = "sqlite";
	cfg.path = path;
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
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_mat_sqlite_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Views within one database file stay views; a view in an attached schema
 * over main is built as a table. */
static void test_sqlite_views_across_files(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;

	MUST(sl_wh_build_table(wh, "main", "base", "select 1 as id", &res, &err));
	MUST(sl_wh_build_view(wh, "main", "v_same", "select id from base", &res, &err));
	assert_false(res.as_table);
	MUST(sl_wh_build_view(wh, "staging", "v_other", "select id from main.base", &res, &err));
	assert_true(res.as_table);
	assert_int_equal(kind_of(wh, "staging", "v_other"), SL_WH_REL_TABLE);
	assert_rows("1\n", dump(wh, "SELECT * FROM staging.v_other"));
	/* a view over a missing table fails at build time, not when read */
	assert_int_equal(sl_wh_build_view(wh, "main", "v_bad", "select id from missing", &res,
					  &err),
			 SL_EDB);
	assert_non_null(strstr(err.message, "no such table"));
	assert_int_equal(kind_of(wh, "main", "v_bad"), SL_WH_REL_NONE);
	sl_wh_close(wh);
}


/* A model of one schema reads a model of another that a different
 * connection built after this one opened, or before it (a later run). */
static void test_sqlite_every_connection_sees_every_schema(void **state)
{
	char path[512];
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	snprintf(path, sizeof path, "%s/multi.db", tmpdir);
	sl_wh *a = wh_open_at(path, NULL), *b = wh_open_at(path, NULL);

	MUST(sl_wh_build_table(b, "main_staging", "stg_orders", "select 1 as id, 5 as amount",
			       &res, &err));
	/* a opened before main_staging's file existed */
	MUST(sl_wh_build_table(a, "main_marts", "orders",
			       "select id, amount * 2 as amount from main_staging.stg_orders", &res,
			       &err));
	assert_rows("1|10\n", dump(a, "SELECT * FROM main_marts.orders"));
	assert_rows("1|5\n", dump(a, "SELECT * FROM main_staging.stg_orders"));
	sl_wh_close(a);
	sl_wh_close(b);

	/* a later run (or `sluice snapshot` alone) builds only what reads them */
	sl_wh *c = wh_open_at(path, NULL);
	sl_wh_snapshot snap = {0};
	const char *key[] = {"id"};
	snap.strategy = SL_WH_SNAP_CHECK;
	snap.unique_key = key;
	snap.nunique_key = 1;
	snap.now = "2024-01-01 00:00:00.000000";
	MUST(sl_wh_build_snapshot(c, "snapshots", "orders_snap",
				  "select id, amount from main_marts.orders", &snap, &res, &err));
	assert_rows("1|10|-\n", dump(c, "SELECT id, amount, dbt_valid_to FROM "
					"snapshots.orders_snap"));
	sl_wh_close(c);
}

/* dbt-sqlite's schemas_and_paths and schema_directory say where files are. */
static void test_sqlite_schemas_and_paths_and_schema_directory(void **state)
{
	char path[512], rawfile[512], dir[512], json[1200], want[600];
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	snprintf(path, sizeof path, "%s/dbt_main.db", tmpdir);
	snprintf(rawfile, sizeof rawfile, "%s/elsewhere_raw.db", tmpdir);
	snprintf(dir, sizeof dir, "%s/schemas", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(json, sizeof json, "{\"main\": \"%s\", \"raw\": \"%s\"}", path, rawfile);
	const char *settings[] = {"schemas_and_paths", json, "schema_directory", dir, NULL};

	/* the sources' file, written by someone else */
	sl_wh *src = wh_open_at(rawfile, NULL);
	xf(src, "CREATE TABLE orders (id integer, amount integer)");
	xf(src, "INSERT INTO orders VALUES (1, 3), (2, 4)");
	sl_wh_close(src);

	sl_wh *wh = wh_open_at(path, settings);
	assert_rows("2\n", dump(wh, "SELECT count(*) FROM raw.orders"));
	MUST(sl_wh_build_table(wh, "main_staging", "stg_orders",
			       "select id, amount from raw.orders", &res, &err));
	sl_wh_close(wh);
	snprintf(want, sizeof want, "%s/main_staging.db", dir);
	assert_true(sl_path_exists(want));
	snprintf(want, sizeof want, "%s/dbt_main.main_staging.db", tmpdir);
	assert_false(sl_path_exists(want));

	/* another connection finds both */
	wh = wh_open_at(path, settings);
	assert_rows("1|3\n2|4\n",
		    dump(wh, "SELECT s.id, r.amount FROM main_staging.stg_orders s JOIN raw.orders r "
			     "USING (id) ORDER BY 1"));
	sl_wh_close(wh);

	/* not JSON: says what it must be */
	const char *bad[] = {"schemas_and_paths", "raw: x.db", NULL};
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	cfg.path = path;
	cfg.get = kv_get;
	cfg.get_ctx = bad;
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "schemas_and_paths must map schema names to "
					    "database files"));
}

/*
 * dbt-sqlite's usual layout: the main file inside schema_directory. It is
 * not attached again as a schema of its own name (two pagers of one file
 * on one connection wait for each other's write lock forever).
 */
static void test_sqlite_main_file_in_schema_directory(void **state)
{
	char dir[512], path[512], json[1200];
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	(void)state;
	snprintf(dir, sizeof dir, "%s/data", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/etl.db", dir);
	snprintf(json, sizeof json, "{\"main\": \"%s\"}", path);
	const char *settings[] = {"schemas_and_paths", json, "schema_directory", dir, NULL};

	sl_wh *wh = wh_open_at(path, settings);
	MUST(sl_wh_build_table(wh, "main", "a", "select 1 as id", &res, &err));
	MUST(sl_wh_build_table(wh, "main_staging", "b", "select id from main.a", &res, &err));
	sl_wh_close(wh);
	/* a new connection finds etl.db and main_staging.db in the folder */
	wh = wh_open_at(path, settings);
	assert_rows("0\n", dump(wh, "SELECT count(*) FROM pragma_database_list WHERE name = 'etl'"));
	MUST(sl_wh_build_table(wh, "main", "c", "select id + 1 as id from main_staging.b", &res,
			       &err));
	assert_rows("2\n", dump(wh, "SELECT id FROM main.c"));
	sl_wh_close(wh);
}

/* More schema files than SQLite attaches: an error naming the limit. */
static void test_sqlite_too_many_schemas_names_the_limit(void **state)
{
	char path[512], name[32];
	sl_error err = SL_ERROR_INIT;
	snprintf(path, sizeof path, "%s/many.db", tmpdir);
	sl_wh *wh = wh_open_at(path, NULL);
	sl_wh_close(wh); /* main and raw */
	for (int i = 0; i < 9; i++) {
		wh = wh_open_at(path, NULL);
		snprintf(name, sizeof name, "s%d", i);
		if (sl_wh_ensure_schema(wh, name, &err))
			fail_msg("%s: %s", name, err.message);
		sl_wh_close(wh);
	}
	/* ten attached: the eleventh is refused, here and at the next open */
	wh = wh_open_at(path, NULL);
	assert_rows("10\n", dump(wh, "SELECT count(*) - 1 FROM pragma_database_list"));
	assert_int_equal(sl_wh_ensure_schema(wh, "one_more", &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "at most 10 to a connection (SQLITE_MAX_ATTACHED)"));
	sl_wh_close(wh);
	char extra[600];
	snprintf(extra, sizeof extra, "%s/many.s9.db", tmpdir);
	FILE *f = fopen(extra, "w");
	assert_non_null(f);
	fclose(f);
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	cfg.path = path;
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), SL_ECONFIG);
	if (!strstr(err.message, "11 schemas need a database file each (") ||
	    !strstr(err.message, "s9") || !strstr(err.message, "raw"))
		fail_msg("%s", err.message);
	assert_non_null(strstr(err.message, "SQLITE_MAX_ATTACHED"));
}

typedef struct holder {
	const char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool locked;
} holder;

/* Holds the write lock longer than a statement's busy timeout (10 s). */
static void *hold_lock(void *ud)
{
	holder *h = ud;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = wh_open_at(h->path, NULL);
	if (sl_wh_begin(wh, &err))
		fail_msg("begin: %s", err.message);
	xf(wh, "CREATE TABLE main.held AS SELECT 7 AS id");
	pthread_mutex_lock(&h->mu);
	h->locked = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	sleep(11);
	if (sl_wh_commit(wh, &err))
		fail_msg("commit: %s", err.message);
	sl_wh_close(wh);
	return NULL;
}

typedef struct builder {
	const char *path, *schema;
	int ok;
	sl_error err;
} builder;

static void *build_many(void *ud)
{
	builder *b = ud;
	sl_wh *wh = wh_open_at(b->path, NULL);
	sl_wh_build_result res;
	char name[32], sql[200];
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof name, "m%d", i);
		snprintf(sql, sizeof sql, "select id + %d as id from main.base", i);
		if (sl_wh_build_table(wh, b->schema, name, sql, &res, &b->err) ||
		    sl_wh_build_view(wh, "main", b->schema, "select 1 as one", &res, &b->err))
			break;
		b->ok++;
	}
	sl_wh_close(wh);
	return NULL;
}

/* Builds into one SQLite file from several connections take turns: one
 * waits for another's commit, even past the busy timeout, and none fails. */
static void test_sqlite_concurrent_builds_wait_for_the_lock(void **state)
{
	char path[512];
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	snprintf(path, sizeof path, "%s/locks.db", tmpdir);
	sl_wh *wh = wh_open_at(path, NULL);
	MUST(sl_wh_build_table(wh, "main", "base", "select 1 as id", &res, &err));

	holder h = {.path = path, .mu = PTHREAD_MUTEX_INITIALIZER,
		    .cv = PTHREAD_COND_INITIALIZER};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, hold_lock, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.locked)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	/* waits for the holder's commit, then sees its table */
	MUST(sl_wh_build_table(wh, "main", "after", "select id from main.held", &res, &err));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_rows("7\n", dump(wh, "SELECT id FROM main.after"));

	/* two threads, one connection each, build models at once */
	builder b[2] = {{.path = path, .schema = "t0", .err = SL_ERROR_INIT},
			{.path = path, .schema = "t1", .err = SL_ERROR_INIT}};
	pthread_t tb[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&tb[i], NULL, build_many, &b[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(tb[i], NULL), 0);
	for (int i = 0; i < 2; i++)
		if (b[i].ok != 15)
			fail_msg("thread %d built %d of 15: %s", i, b[i].ok, b[i].err.message);
	assert_rows("15|120\n", dump(wh, "SELECT count(*), sum(id) FROM (SELECT id FROM t0.m0 "
				"UNION ALL SELECT id FROM t0.m1 UNION ALL SELECT id FROM t0.m2 "
				"UNION ALL SELECT id FROM t0.m3 UNION ALL SELECT id FROM t0.m4 "
				"UNION ALL SELECT id FROM t0.m5 UNION ALL SELECT id FROM t0.m6 "
				"UNION ALL SELECT id FROM t0.m7 UNION ALL SELECT id FROM t0.m8 "
				"UNION ALL SELECT id FROM t0.m9 UNION ALL SELECT id FROM t0.m10 "
				"UNION ALL SELECT id FROM t0.m11 UNION ALL SELECT id FROM t0.m12 "
				"UNION ALL SELECT id FROM t0.m13 UNION ALL SELECT id FROM t0.m14)"));
	assert_rows("1\n", dump(wh, "SELECT id FROM t1.m0"));
	sl_wh_close(wh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MAT_SHARED_TESTS,
		cmocka_unit_test(test_sqlite_views_across_files),
		cmocka_unit_test(test_sqlite_every_connection_sees_every_schema),
		cmocka_unit_test(test_sqlite_schemas_and_paths_and_schema_directory),
		cmocka_unit_test(test_sqlite_main_file_in_schema_directory),
		cmocka_unit_test(test_sqlite_too_many_schemas_names_the_limit),
		cmocka_unit_test(test_sqlite_concurrent_builds_wait_for_the_lock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
