/*
 * test_materialize_pg.c: models built on a real PostgreSQL server.
 * SL_TEST_PG holds a conninfo ("host=/tmp/x port=5432 user=postgres
 * dbname=postgres"); each test gets a fresh database. Unset, every test
 * fails (one failure with what to do); SL_TEST_PG=skip runs none.
 */
#include "mat_cases.h"

#include <pthread.h>
#include <unistd.h>

static int seq;
static int ndbs;
static char dbs[64][64];
static char last_db[64];

static const char *pg_env(void)
{
	const char *e = getenv("SL_TEST_PG");
	if (!e || !*e)
		fail_msg("SL_TEST_PG is not set: export a libpq conninfo of a throwaway "
			 "PostgreSQL server (e.g. \"host=/tmp/pg port=5432 user=postgres "
			 "dbname=postgres\"), or SL_TEST_PG=skip to skip these tests");
	return e;
}

static sl_wh *open_db(const char *dbname)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "postgres";
	cfg.conninfo = pg_env();
	cfg.dbname = dbname;
	if (sl_wh_open(&wh, &cfg, &err))
		fail_msg("open: %s", err.message);
	return wh;
}

static sl_wh *wh_open_test(void)
{
	sl_error err = SL_ERROR_INIT;
	char sql[200];
	sl_wh *admin = open_db(NULL);
	snprintf(last_db, sizeof last_db, "sl_mat_test_%d_%d", (int)getpid(), ++seq);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", last_db);
	if (sl_wh_exec(admin, sql, &err))
		fail_msg("%s", err.message);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", last_db);
	if (sl_wh_exec(admin, sql, &err))
		fail_msg("%s", err.message);
	sl_wh_close(admin);
	if (ndbs < 64)
		snprintf(dbs[ndbs++], sizeof dbs[0], "%s", last_db);
	return open_db(last_db);
}

static int teardown(void **state)
{
	const char *e = getenv("SL_TEST_PG");
	if (!e || !*e || !strcmp(e, "skip") || ndbs == 0)
		return 0;
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "postgres";
	cfg.conninfo = e;
	if (sl_wh_open(&wh, &cfg, &err))
		return 0;
	for (int i = 0; i < ndbs; i++) {
		char sql[200];
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbs[i]);
		sl_wh_exec(wh, sql, &err);
	}
	sl_wh_close(wh);
	return 0;
}

/* --------------------------------------------------- concurrent builds */

typedef struct builder {
	const char *db;
	const char *model;
	int rounds;
	int rc;
	char msg[1024];
} builder;

static void *build_many(void *arg)
{
	builder *b = arg;
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	sl_wh_build_result res;
	const char *key[] = {"id"};
	sl_wh_incremental inc = {.strategy = SL_WH_INC_MERGE, .unique_key = key, .nunique_key = 1};
	char sql[256], inc_name[80], view_name[80];
	cfg.type = "postgres";
	cfg.conninfo = getenv("SL_TEST_PG");
	cfg.dbname = b->db;
	b->rc = sl_wh_open(&wh, &cfg, &err);
	snprintf(inc_name, sizeof inc_name, "%s_inc", b->model);
	snprintf(view_name, sizeof view_name, "%s_view", b->model);
	for (int i = 0; b->rc == 0 && i < b->rounds; i++) {
		snprintf(sql, sizeof sql,
			 "select g as id, '%s' as model, %d as round from generate_series(1, 200) g",
			 b->model, i);
		b->rc = sl_wh_build_table(wh, "public", b->model, sql, &res, &err);
		if (b->rc == 0)
			b->rc = sl_wh_build_incremental(wh, "public", inc_name, sql, &inc, &res, &err);
		if (b->rc == 0)
			b->rc = sl_wh_build_view(wh, "public", view_name, sql, &res, &err);
	}
	snprintf(b->msg, sizeof b->msg, "%s", err.message);
	sl_wh_close(wh);
	return NULL;
}

/* Two models built at once into one schema, each from its own connection:
 * their temporary relations do not collide. */
static void test_pg_concurrent_builds_of_two_models(void **state)
{
	sl_wh *wh = wh_open_test();
	builder b[2] = {{last_db, "model_a", 8, 0, ""}, {last_db, "model_b", 8, 0, ""}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, build_many, &b[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		if (b[i].rc)
			fail_msg("%s: %s", b[i].model, b[i].msg);
	assert_rows("200|7\n", dump(wh, "SELECT count(*), max(round) FROM model_a"));
	assert_rows("200|7\n", dump(wh, "SELECT count(*), max(round) FROM model_b_inc"));
	assert_rows("0\n", dump(wh, "SELECT count(*) FROM pg_class WHERE relname LIKE "
				"'%%dbt_tmp%%' OR relname LIKE '%%dbt_src%%'"));
	sl_wh_close(wh);
}

/* A 63-byte model name (PostgreSQL's longest) builds every way, its
 * temporary names cut and hashed; 64 bytes is refused, naming it. */
static void test_pg_longest_model_name(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	const char *key[] = {"id"};
	sl_wh_incremental inc = {.strategy = SL_WH_INC_DELETE_INSERT, .unique_key = key,
				 .nunique_key = 1};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .hard_deletes = SL_WH_HARD_INVALIDATE, .now = snap_now[0]};
	char name[80], over[80];
	memset(name, 0, sizeof name);
	memset(name, 'x', 60);
	memcpy(name + 60, "\"é", 3); /* a quote and a 2-byte character: 63 bytes */
	assert_int_equal(strlen(name), 63);
	MUST(sl_wh_build_table(wh, "public", name, "select 1 as id", &res, &err));
	MUST(sl_wh_build_table(wh, "public", name, "select 2 as id", &res, &err));
	MUST(sl_wh_build_incremental(wh, "public", name, "select 2 as id union all select 3", &inc,
				     &res, &err));
	assert_string_equal(res.message, "INSERT 0 2");
	MUST(sl_wh_build_view(wh, "public", name, "select 4 as id", &res, &err));
	MUST(sl_wh_drop_relation(wh, "public", name, &err));
	MUST(sl_wh_build_snapshot(wh, "public", name, "select 1 as id, 'a' as v", &snap, &res,
				  &err));
	snap.now = snap_now[1];
	MUST(sl_wh_build_snapshot(wh, "public", name, "select 2 as id, 'b' as v", &snap, &res,
				  &err));
	assert_int_equal(res.rows_inserted, 1);
	assert_int_equal(res.rows_updated, 1);
	snprintf(over, sizeof over, "%sy", name);
	assert_int_equal(sl_wh_build_table(wh, "public", over, "select 1 as id", &res, &err),
			 SL_EINVAL);
	assert_non_null(strstr(err.message, "is 64 bytes, longer than the 63 bytes a postgres "
					    "identifier can hold"));
	sl_wh_close(wh);
}

/* Snapshots over timestamptz columns: the snapshot time is a timestamp
 * without time zone (as dbt's snapshot_get_time), read as UTC. */
static void test_pg_snapshot_over_timestamptz(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 1, .updated_at = "ts",
			       .hard_deletes = SL_WH_HARD_INVALIDATE, .now = snap_now[0]};
	xf(wh, "CREATE TABLE src (id integer, ts timestamptz)");
	xf(wh, "INSERT INTO src VALUES (1, '2024-01-01 10:00:00+00'), (2, '2024-01-01 10:00:00+00')");
	MUST(sl_wh_build_snapshot(wh, "public", "snap", "select * from src", &snap, &res, &err));
	xf(wh, "DELETE FROM src WHERE id = 2");
	snap.now = "2024-01-02 03:04:05.123456";
	MUST(sl_wh_build_snapshot(wh, "public", "snap", "select * from src", &snap, &res, &err));
	assert_rows("1|2024-01-01 10:00:00+00|-|timestamp with time zone\n"
		    "2|2024-01-01 10:00:00+00|2024-01-02 03:04:05.123456+00|timestamp with time zone\n",
		    dump(wh, "SELECT id, dbt_valid_from, dbt_valid_to, pg_typeof(dbt_valid_to) "
			 "FROM snap ORDER BY 1"));
	/* md5 of the key and updated_at as PostgreSQL casts it to text */
	assert_rows("1\n", dump(wh, "SELECT count(*) FROM snap WHERE dbt_scd_id = "
				"md5('1|2024-01-01 10:00:00+00')"));
	sl_wh_close(wh);
}

static sl_schema *schema_of(const char *const *names, const sl_type_id *types)
{
	sl_schema *s = sl_schema_new();
	for (int i = 0; i < 4; i++)
		assert_int_equal(sl_schema_add(s, names[i], sl_type_make(types[i]), true), 0);
	return s;
}

/* Seed columns get dbt-postgres's types: integer (bigint only when a value
 * needs it), double precision, timestamp without time zone, date, boolean, text. */
static void test_pg_seed_columns_have_dbt_types(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_schema *c1 = schema_of((const char *const[]){"n", "big", "x", "ts"},
				  (const sl_type_id[]){SL_INT64, SL_INT64, SL_FLOAT64, SL_TIMESTAMP});
	sl_schema *c2 = schema_of((const char *const[]){"d", "b", "s", "none"},
				  (const sl_type_id[]){SL_DATE, SL_BOOL, SL_STRING, SL_INT64});
	static const char *const r1a[][4] = {{"1", "2147483647", "1.5", "2024-01-01 10:00:00"}};
	static const char *const r1b[][4] = {{"-2147483648", "2147483648", "0.1", NULL}};
	static const char *const r2[][4] = {{"2024-02-29", "true", "a", NULL}};
	sl_batch *b1[2] = {seed_batch(c1, r1a, 1), seed_batch(c1, r1b, 1)};
	sl_batch *b2[1] = {seed_batch(c2, r2, 1)};
	seed_src src = {b1, 2, 0, false};
	MUST(sl_wh_build_table_from(wh, "public", "s1", c1, NULL, false, seed_next, &src, &res, &err));
	src = (seed_src){b2, 1, 0, false};
	MUST(sl_wh_build_table_from(wh, "public", "s2", c2, NULL, false, seed_next, &src, &res, &err));
	const char *types = "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
			    "WHERE attrelid = '%s'::regclass AND attnum > 0 ORDER BY attnum";
	assert_rows("n|integer\nbig|bigint\nx|double precision\nts|timestamp without time zone\n",
		    dump(wh, types, "s1"));
	assert_rows("d|date\nb|boolean\ns|text\nnone|integer\n", dump(wh, types, "s2"));
	assert_rows("-2147483648|2147483648|0.1|-\n1|2147483647|1.5|2024-01-01 10:00:00\n",
		    dump(wh, "SELECT * FROM s1 ORDER BY 1"));
	sl_batch_free(b1[0]);
	sl_batch_free(b1[1]);
	sl_batch_free(b2[0]);
	sl_schema_free(c1);
	sl_schema_free(c2);
	sl_wh_close(wh);
}

/* Stands in for the suite when SL_TEST_PG is unset: one clear failure. */
static void test_pg_server_is_configured(void **state)
{
	pg_env();
}

int main(void)
{
	const char *e = getenv("SL_TEST_PG");
	const struct CMUnitTest tests[] = {
		MAT_SHARED_TESTS,
		cmocka_unit_test(test_pg_concurrent_builds_of_two_models),
		cmocka_unit_test(test_pg_longest_model_name),
		cmocka_unit_test(test_pg_snapshot_over_timestamptz),
		cmocka_unit_test(test_pg_seed_columns_have_dbt_types),
	};
	const struct CMUnitTest unconfigured[] = {
		cmocka_unit_test(test_pg_server_is_configured),
	};
	if (e && strcmp(e, "skip") == 0) {
		printf("1..0 # SKIP SL_TEST_PG=skip\n");
		return 0;
	}
	if (!e || !*e)
		return cmocka_run_group_tests(unconfigured, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
