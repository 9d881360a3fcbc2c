/*
 * test_wh_postgres.c: the warehouse interface on a real PostgreSQL server.
 * SL_TEST_PG holds a conninfo ("host=/tmp/x port=5432 user=postgres
 * dbname=postgres"); each test gets a fresh database. Unset, every test
 * fails (one failure with what to do); SL_TEST_PG=skip runs none.
 */
#include "wh_cases.h"

#include <unistd.h>

static int seq;
static int ndbs;
static char dbs[64][64];

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

static char last_db[64];

static sl_wh *wh_open_test(void)
{
	sl_error err = SL_ERROR_INIT;
	char sql[200];
	sl_wh *admin = open_db(NULL);
	snprintf(last_db, sizeof last_db, "sl_wh_test_%d_%d", (int)getpid(), ++seq);
	/* CREATE DATABASE cannot run in a multi-statement string. */
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

static void test_pg_columns_get_native_types(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema(all_types);
	assert_string_equal(sl_wh_type(wh), "postgres");
	assert_string_equal(sl_wh_schema(wh), "public");
	assert_non_null(strstr(sl_wh_describe_target(wh), "postgres "));
	assert_int_equal(sl_wh_create_table(wh, "raw", "nat", s, &err), 0);
	assert_value(wh,
		     "SELECT string_agg(column_name || ' ' || format_type(atttypid, atttypmod), "
		     "', ' ORDER BY attnum) FROM information_schema.columns c JOIN pg_attribute a "
		     "ON a.attrelid = '\"raw\".\"nat\"'::regclass AND a.attname = c.column_name "
		     "WHERE table_schema = 'raw' AND table_name = 'nat'",
		     "id bigint, b boolean, i integer, f double precision, d numeric(38,18), "
		     "s text, dt date, ts timestamp with time zone");
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_pg_identifier_over_63_bytes_is_an_error_naming_it(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	char name[80];
	memset(name, 'c', 64);
	name[64] = '\0';
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, name, sl_type_make(SL_INT32), true);
	sl_wh_table_load *t = NULL;
	assert_int_equal(sl_wh_table_load_begin(&t, wh, "raw", "long", s, NULL, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "load raw.long: name \"cccccccccc"));
	assert_non_null(strstr(err.message, "is 64 bytes, longer than the 63 bytes a postgres "
					    "identifier can hold"));
	assert_false(sl_wh_in_transaction(wh));
	/* 63 bytes is fine, also for a merge's index name. */
	name[63] = '\0';
	sl_schema_free(s);
	s = sl_schema_new();
	sl_schema_add(s, name, sl_type_make(SL_INT32), true);
	const char *pk[] = {name};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	sl_batch *b = mk_batch(s);
	add_row(b, ROW("5"));
	int64_t v = 1;
	assert_int_equal(load(wh, name, s, &o, &b, &v, 1, NULL, &err), 0);
	assert_int_equal(load(wh, name, s, &o, &b, &v, 1, NULL, &err), 0);
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM raw.%s", name);
	assert_value(wh, sql, "1");
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_pg_connect_error_never_shows_the_password(void **state)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "postgres";
	cfg.conninfo = pg_env();
	cfg.port = 1;
	cfg.password = "s3cr3t-pw";
	assert_int_equal(sl_wh_open(&wh, &cfg, &err), SL_EDB);
	assert_null(wh);
	assert_non_null(strstr(err.message, "postgres: cannot connect: "));
	assert_null(strstr(err.message, "s3cr3t-pw"));
}

static sl_batch *big_batch(const sl_schema *s, int64_t from, int64_t n)
{
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	char pad[120];
	memset(pad, 'x', sizeof pad);
	assert_int_equal(sl_batch_new(&b, s, n, &err), 0);
	for (int64_t i = 0; i < n; i++) {
		sl_column_append_i64(&b->cols[0], from + i);
		assert_int_equal(sl_column_append_str(&b->cols[1], pad, sizeof pad), 0);
		sl_column_append_dec(&b->cols[2], (sl_i128)(from + i) * 100 + 25);
		sl_batch_end_row(b);
	}
	return b;
}

static void test_pg_copy_streams_many_chunks(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"id:int64", "pad:string",
						       "amt:decimal(18,2)", NULL});
	sl_wh_table_load *t = NULL;
	sl_wh_load_result res;
	assert_int_equal(sl_wh_table_load_begin(&t, wh, "raw", "big", s, NULL, &err), 0);
	for (int i = 0; i < 4; i++) {
		sl_batch *b = big_batch(s, i * 50000, 50000);
		assert_int_equal(sl_wh_table_load_batch(t, b, 1, &err), 0);
		sl_batch_free(b);
	}
	assert_int_equal(sl_wh_table_load_commit(t, &res, &err), 0);
	assert_int_equal(res.rows_inserted, 200000);
	assert_value(wh, "SELECT count(*) || ' ' || sum(amt) || ' ' || max(id) FROM raw.big",
		     "200000 19999950000.00 199999");
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_pg_connection_killed_mid_load_leaves_no_rows(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_wh *killer = open_db(last_db);
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"id:int64", "pad:string",
						       "amt:decimal(18,2)", NULL});
	char *pid = query_value(wh, "SELECT pg_backend_pid()");
	char sql[200];
	sl_wh_table_load *t = NULL;
	sl_batch *b = big_batch(s, 0, 50000);
	int rc = 0;

	/* A committed earlier load must survive. */
	int64_t v = 1;
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	assert_int_equal(load(wh, "killed", s, &o, &b, &v, 1, NULL, &err), 0);

	assert_int_equal(sl_wh_table_load_begin(&t, wh, "raw", "killed", s, NULL, &err), 0);
	assert_int_equal(sl_wh_table_load_batch(t, b, 2, &err), 0);
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid);
	assert_value(killer, sql, "t");
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = sl_wh_table_load_batch(t, b, 2, &err);
	if (rc == 0)
		rc = sl_wh_table_load_commit(t, NULL, &err);
	else
		sl_wh_table_load_abort(t);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err.message, "load raw.killed: "));
	assert_non_null(strstr(err.message, "connection"));
	print_message("# killed load: %s\n", err.message);

	assert_value(killer, "SELECT count(*) FROM raw.killed", "50000");
	int64_t lv = 0;
	assert_int_equal(sl_wh_loaded_version(killer, "raw", "killed", &lv, &err), 0);
	assert_int_equal(lv, 1);
	sl_free(pid);
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
	sl_wh_close(killer);
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
		WH_SHARED_TESTS,
		cmocka_unit_test(test_pg_columns_get_native_types),
		cmocka_unit_test(test_pg_identifier_over_63_bytes_is_an_error_naming_it),
		cmocka_unit_test(test_pg_connect_error_never_shows_the_password),
		cmocka_unit_test(test_pg_copy_streams_many_chunks),
		cmocka_unit_test(test_pg_connection_killed_mid_load_leaves_no_rows),
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
