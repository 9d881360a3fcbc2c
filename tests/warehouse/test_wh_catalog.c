/*
 * test_wh_catalog.c: sl_wh_catalog, dbt's catalog of the warehouse — every
 * column of the tables and views of the schemas asked for, with types as
 * the warehouse names them, positions, kinds and (PostgreSQL) comments, on
 * a real SQLite file with an attached schema and on a real PostgreSQL
 * server (SL_TEST_PG, a conninfo; "skip" skips the PostgreSQL tests).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warehouse/warehouse.h"

#include "../lib/unit_tmp.h"

/* The catalog as lines "schema.table kind index column type comment|rel|owner?". */
typedef struct lines {
	sl_buf b;
	int n;
	bool owner_seen;
} lines;

static int collect(void *ud, const sl_wh_catalog_column *c, sl_error *err)
{
	lines *l = ud;
	(void)err;
	l->n++;
	if (c->owner)
		l->owner_seen = true;
	sl_buf_printf(&l->b, "%s.%s %s %d %s %s %s %s\n", c->schema, c->table,
		      c->kind == SL_WH_REL_VIEW ? "view" : "table", c->index, c->column,
		      c->data_type, c->comment ? c->comment : "-",
		      c->relation_comment ? c->relation_comment : "-");
	return 0;
}

static int stop_at_second(void *ud, const sl_wh_catalog_column *c, sl_error *err)
{
	int *n = ud;
	(void)c;
	if (++*n == 2)
		return sl_error_set(err, SL_EINVAL, "stop here");
	return 0;
}

static void exec_ok(sl_wh *wh, const char *sql)
{
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_exec(wh, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static void test_sqlite_catalog_reads_every_attached_schema(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof path, "%s/warehouse.db", tmp);
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	cfg.path = path;
	sl_wh *wh = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_open(&wh, &cfg, &err) < 0)
		fail_msg("%s", err.message);
	exec_ok(wh, "CREATE TABLE \"raw\".\"shop__orders\" (\"id\" BIGINT, \"amount\" "
		    "DECIMAL_TEXT(10,2), \"placed\" TIMESTAMP)");
	exec_ok(wh, "CREATE TABLE \"main\".\"b_table\" (\"x\" INTEGER, \"y\" TEXT)");
	exec_ok(wh, "CREATE VIEW \"main\".\"a_view\" AS SELECT \"y\", \"x\" + 1 AS \"z\" FROM "
		    "\"main\".\"b_table\"");

	lines l = {SL_BUF_INIT, 0, false};
	const char *schemas[] = {"raw", "main", "main", "nowhere"};
	if (sl_wh_catalog(wh, schemas, 4, collect, &l, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(l.n, 7);
	assert_string_equal(l.b.data,
			    "main.a_view view 1 y TEXT - -\n"
			    "main.a_view view 2 z  - -\n"
			    "main.b_table table 1 x INTEGER - -\n"
			    "main.b_table table 2 y TEXT - -\n"
			    "raw.shop__orders table 1 id BIGINT - -\n"
			    "raw.shop__orders table 2 amount DECIMAL_TEXT(10,2) - -\n"
			    "raw.shop__orders table 3 placed TIMESTAMP - -\n");
	assert_false(l.owner_seen);
	sl_buf_free(&l.b);

	/* Only the schemas asked for; a callback's error stops the walk. */
	lines r = {SL_BUF_INIT, 0, false};
	const char *only_raw[] = {"raw"};
	assert_int_equal(sl_wh_catalog(wh, only_raw, 1, collect, &r, &err), 0);
	assert_int_equal(r.n, 3);
	sl_buf_free(&r.b);
	int seen = 0;
	assert_int_equal(sl_wh_catalog(wh, schemas, 4, stop_at_second, &seen, &err), SL_EINVAL);
	assert_string_equal(err.message, "stop here");
	assert_int_equal(seen, 2);

	/* A view whose table was dropped is left out; the rest is read. */
	exec_ok(wh, "CREATE TABLE \"main\".\"gone\" (\"g\" INTEGER)");
	exec_ok(wh, "CREATE VIEW \"main\".\"broken\" AS SELECT \"g\" FROM \"main\".\"gone\"");
	exec_ok(wh, "DROP TABLE \"main\".\"gone\"");
	lines b = {SL_BUF_INIT, 0, false};
	const char *only_main[] = {"main"};
	if (sl_wh_catalog(wh, only_main, 1, collect, &b, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(b.n, 4);
	assert_null(strstr(b.b.data, "broken"));
	sl_buf_free(&b.b);
	sl_wh_close(wh);
}

static const char *pg_env(void)
{
	const char *e = getenv("SL_TEST_PG");
	if (!e || !*e)
		fail_msg("SL_TEST_PG is not set: export a libpq conninfo of a throwaway "
			 "PostgreSQL server, or SL_TEST_PG=skip to skip these tests");
	return e;
}

static sl_wh *pg_open(const char *dbname)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	cfg.type = "postgres";
	cfg.conninfo = pg_env();
	cfg.dbname = dbname;
	if (sl_wh_open(&wh, &cfg, &err) < 0)
		fail_msg("open: %s", err.message);
	return wh;
}

static void test_postgres_catalog_types_kinds_and_comments(void **state)
{
	(void)state;
	const char *e = getenv("SL_TEST_PG");
	if (e && strcmp(e, "skip") == 0)
		skip();
	char db[64], sql[128];
	snprintf(db, sizeof db, "sl_catalog_test_%d", (int)getpid());
	sl_wh *admin = pg_open(NULL);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
	exec_ok(admin, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
	exec_ok(admin, sql);
	sl_wh *wh = pg_open(db);
	exec_ok(wh, "CREATE TABLE \"raw\".\"shop__orders\" (\"id\" bigint, \"amount\" "
		    "numeric(10,2), \"placed\" timestamptz)");
	exec_ok(wh, "CREATE TABLE \"public\".\"b_table\" (\"x\" integer, \"y\" text)");
	exec_ok(wh, "CREATE VIEW \"public\".\"a_view\" AS SELECT \"y\", \"x\" + 1 AS \"z\" "
		    "FROM \"public\".\"b_table\"");
	exec_ok(wh, "COMMENT ON TABLE \"public\".\"b_table\" IS 'the b table'");
	exec_ok(wh, "COMMENT ON COLUMN \"public\".\"b_table\".\"x\" IS 'an x'");
	exec_ok(wh, "ALTER TABLE \"public\".\"b_table\" ADD COLUMN \"gone\" int");
	exec_ok(wh, "ALTER TABLE \"public\".\"b_table\" DROP COLUMN \"gone\"");

	lines l = {SL_BUF_INIT, 0, false};
	const char *schemas[] = {"raw", "public", "nowhere"};
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_catalog(wh, schemas, 3, collect, &l, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(l.b.data,
			    "public.a_view view 1 y text - -\n"
			    "public.a_view view 2 z integer - -\n"
			    "public.b_table table 1 x integer an x the b table\n"
			    "public.b_table table 2 y text - the b table\n"
			    "raw.shop__orders table 1 id bigint - -\n"
			    "raw.shop__orders table 2 amount numeric(10,2) - -\n"
			    "raw.shop__orders table 3 placed timestamp with time zone - -\n");
	assert_true(l.owner_seen);
	sl_buf_free(&l.b);
	sl_wh_close(wh);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
	exec_ok(admin, sql);
	sl_wh_close(admin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sqlite_catalog_reads_every_attached_schema,
						setup, teardown),
		cmocka_unit_test(test_postgres_catalog_types_kinds_and_comments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
