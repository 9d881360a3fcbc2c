/*
 * mat_cases.h: materializations every adapter must build alike — views,
 * tables, incremental strategies and on_schema_change across three loads,
 * snapshots across three loads, seeds, failures that keep the previous
 * relation, hostile names — shared by test_materialize_sqlite.c and
 * test_materialize_pg.c. The including file defines wh_open_test(), which
 * opens a fresh, empty warehouse.
 */
#ifndef MAT_CASES_H
#define MAT_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warehouse/warehouse.h"
#include "warehouse/warehouse_int.h"

static sl_wh *wh_open_test(void);

/* -------------------------------------------------------------- helpers */

static bool is_pg(sl_wh *wh) { return strcmp(sl_wh_type(wh), "postgres") == 0; }

/* Runs SQL formatted from fmt; "%S" in fmt is not special: callers pass
 * sl_wh_schema(wh) through %s. */
static void xf(sl_wh *wh, const char *fmt, ...) SL_PRINTF(2, 3);
static void xf(sl_wh *wh, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;
	sl_error err = SL_ERROR_INIT;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (sl_wh_exec(wh, sql, &err))
		fail_msg("%s: %s", sql, err.message);
}

static int dump_row(void *ud, int n, const char *const *names, const char *const *v,
		    sl_error *err)
{
	sl_buf *b = ud;
	for (int i = 0; i < n; i++) {
		if (i)
			sl_buf_putc(b, '|');
		sl_buf_puts(b, v[i] ? v[i] : "-");
	}
	sl_buf_putc(b, '\n');
	return 0;
}

/* Rows of the query as "a|b\n" lines, NULL as "-". */
static char *dump(sl_wh *wh, const char *fmt, ...) SL_PRINTF(2, 3);
static char *dump(sl_wh *wh, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;
	sl_buf b = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (sl_wh_query(wh, sql, dump_row, &b, &err))
		fail_msg("%s: %s", sql, err.message);
	sl_buf_puts(&b, "");
	return sl_buf_detach(&b);
}

#define assert_rows(want, got_expr)                                                         \
	do {                                                                                \
		char *got_ = (got_expr);                                                    \
		if (strcmp(got_, (want)) != 0)                                              \
			fail_msg("rows differ\n--- want\n%s--- got\n%s", (want), got_);     \
		sl_free(got_);                                                              \
	} while (0)

static sl_wh_relation kind_of(sl_wh *wh, const char *schema, const char *name)
{
	sl_wh_relation k = SL_WH_REL_NONE;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_relation_kind(wh, schema, name, &k, &err))
		fail_msg("relation_kind: %s", err.message);
	return k;
}

#define MUST(call)                                                                          \
	do {                                                                                \
		if ((call) != 0)                                                            \
			fail_msg("%s: %s", #call, err.message);                             \
	} while (0)

/* ---------------------------------------------------------- view, table */

static void test_mat_view_is_built_and_replaced(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;

	xf(wh, "CREATE TABLE \"%s\".src (id integer, name text)", S);
	xf(wh, "INSERT INTO \"%s\".src VALUES (1, 'a'), (2, 'b')", S);
	MUST(sl_wh_build_view(wh, S, "v", "select id, name from src where id > 1", &res, &err));
	assert_string_equal(res.message, "CREATE VIEW");
	assert_int_equal(res.rows_inserted, -1);
	assert_true(res.created);
	assert_false(res.as_table);
	assert_int_equal(kind_of(wh, S, "v"), SL_WH_REL_VIEW);
	assert_rows("2|b\n", dump(wh, "SELECT * FROM \"%s\".v ORDER BY 1", S));
	/* a rebuild with other columns replaces it */
	MUST(sl_wh_build_view(wh, S, "v", "select name, id * 10 as id10 from src;\n", &res, &err));
	assert_false(res.created);
	assert_rows("a|10\nb|20\n", dump(wh, "SELECT * FROM \"%s\".v ORDER BY 2", S));
	/* a table of that name is replaced by the view, and back */
	MUST(sl_wh_build_table(wh, S, "t", "select 1 as x", &res, &err));
	MUST(sl_wh_build_view(wh, S, "t", "select 2 as x -- trailing comment", &res, &err));
	assert_false(res.created);
	assert_int_equal(kind_of(wh, S, "t"), SL_WH_REL_VIEW);
	assert_rows("2\n", dump(wh, "SELECT * FROM \"%s\".t", S));
	MUST(sl_wh_build_table(wh, S, "t", "select 3 as x", &res, &err));
	assert_int_equal(kind_of(wh, S, "t"), SL_WH_REL_TABLE);
	assert_rows("3\n", dump(wh, "SELECT * FROM \"%s\".t", S));
	/* drop_relation drops whichever it is, and nothing when absent */
	MUST(sl_wh_drop_relation(wh, S, "v", &err));
	MUST(sl_wh_drop_relation(wh, S, "t", &err));
	MUST(sl_wh_drop_relation(wh, S, "t", &err));
	assert_int_equal(kind_of(wh, S, "v"), SL_WH_REL_NONE);
	assert_int_equal(kind_of(wh, S, "t"), SL_WH_REL_NONE);
	assert_int_equal(kind_of(wh, "no_such_schema", "t"), SL_WH_REL_NONE);
	sl_wh_close(wh);
}

/* A staging view over a raw table: a view on PostgreSQL; on SQLite, where
 * raw is another database file, a table (as_table). */
static void test_mat_view_over_raw_schema(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh), *R = sl_wh_raw_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	char sql[200];

	xf(wh, "CREATE TABLE \"%s\".\"shop__orders\" (id integer, amount integer)", R);
	xf(wh, "INSERT INTO \"%s\".\"shop__orders\" VALUES (1, 5), (2, 7), (3, 9)", R);
	snprintf(sql, sizeof sql, "select id, amount from \"%s\".\"shop__orders\" where id < 3", R);
	MUST(sl_wh_build_view(wh, S, "stg_orders", sql, &res, &err));
	if (is_pg(wh)) {
		assert_false(res.as_table);
		assert_string_equal(res.message, "CREATE VIEW");
		assert_int_equal(kind_of(wh, S, "stg_orders"), SL_WH_REL_VIEW);
	} else {
		assert_true(res.as_table);
		assert_string_equal(res.message, "SELECT 2");
		assert_int_equal(res.rows_inserted, 2);
		assert_int_equal(kind_of(wh, S, "stg_orders"), SL_WH_REL_TABLE);
	}
	assert_true(res.created);
	assert_rows("1|5\n2|7\n", dump(wh, "SELECT * FROM \"%s\".stg_orders ORDER BY 1", S));
	/* rebuilt the same way, replacing what is there */
	MUST(sl_wh_build_view(wh, S, "stg_orders", sql, &res, &err));
	assert_false(res.created);
	assert_rows("1|5\n2|7\n", dump(wh, "SELECT * FROM \"%s\".stg_orders ORDER BY 1", S));
	sl_wh_close(wh);
}

static void test_mat_table_is_swapped_in(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;

	xf(wh, "CREATE TABLE \"%s\".src (id integer, name text)", S);
	xf(wh, "INSERT INTO \"%s\".src VALUES (1, 'a'), (2, 'b'), (3, NULL)", S);
	MUST(sl_wh_build_table(wh, S, "t", "select id, name from src", &res, &err));
	assert_string_equal(res.message, "SELECT 3");
	assert_int_equal(res.rows_inserted, 3);
	assert_true(res.created);
	assert_rows("1|a\n2|b\n3|-\n", dump(wh, "SELECT * FROM \"%s\".t ORDER BY 1", S));
	/* a view over the model table */
	xf(wh, "CREATE VIEW \"%s\".over_t AS SELECT count(*) AS n FROM \"%s\".t", S, S);
	xf(wh, "DELETE FROM \"%s\".src WHERE id = 3", S);
	MUST(sl_wh_build_table(wh, S, "t", "select id, upper(name) as name from src;", &res, &err));
	assert_string_equal(res.message, "SELECT 2");
	assert_false(res.created);
	assert_rows("1|A\n2|B\n", dump(wh, "SELECT * FROM \"%s\".t ORDER BY 1", S));
	/* PostgreSQL drops dependent views with the old table (as dbt does:
	 * drop ... cascade); SQLite's view names the table and reads the new one. */
	if (is_pg(wh))
		assert_int_equal(kind_of(wh, S, "over_t"), SL_WH_REL_NONE);
	else
		assert_rows("2\n", dump(wh, "SELECT n FROM \"%s\".over_t", S));
	/* no temporary relation is left behind */
	assert_int_equal(kind_of(wh, S, "t__dbt_tmp"), SL_WH_REL_NONE);
	sl_wh_close(wh);
}

/* A model that fails keeps the previous relation readable, whatever the
 * materialization. */
static void test_mat_failure_keeps_previous_relation(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_wh_incremental inc = {0};
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 1, .updated_at = "ts",
			       .now = "2024-01-01 00:00:00.000000"};

	MUST(sl_wh_build_table(wh, S, "t", "select 1 as id, 'old' as v", &res, &err));
	assert_int_not_equal(sl_wh_build_table(wh, S, "t", "select * from no_such_table", &res,
					       &err), 0);
	assert_int_equal(err.code, SL_EDB);
	assert_non_null(strstr(err.message, "no_such_table"));
	assert_string_equal(res.message, "");
	assert_rows("1|old\n", dump(wh, "SELECT * FROM \"%s\".t", S));
	assert_int_equal(kind_of(wh, S, "t__dbt_tmp"), SL_WH_REL_NONE);
	/* a failure at run time (not at parse time) too */
	assert_int_not_equal(sl_wh_build_table(wh, S, "t", is_pg(wh) ? "select 1 / 0 as id"
						 : "select abs(-9223372036854775807 - 1) as id",
					       &res, &err), 0);
	assert_rows("1|old\n", dump(wh, "SELECT * FROM \"%s\".t", S));

	MUST(sl_wh_build_view(wh, S, "v", "select 1 as id", &res, &err));
	assert_int_not_equal(sl_wh_build_view(wh, S, "v", "select nope from no_such_table", &res,
					      &err), 0);
	assert_int_equal(kind_of(wh, S, "v"), SL_WH_REL_VIEW);
	assert_rows("1\n", dump(wh, "SELECT * FROM \"%s\".v", S));

	inc.strategy = SL_WH_INC_MERGE;
	inc.unique_key = key;
	inc.nunique_key = 1;
	MUST(sl_wh_build_incremental(wh, S, "inc", "select 1 as id, 'old' as v", &inc, &res, &err));
	assert_int_not_equal(sl_wh_build_incremental(wh, S, "inc", "select id, v from nowhere",
						     &inc, &res, &err), 0);
	/* a failure in the merge itself, after the stage is built */
	assert_int_not_equal(sl_wh_build_incremental(wh, S, "inc",
						     "select 2 as id, 'new' as v, 1 as extra",
						     &(sl_wh_incremental){
							     .strategy = SL_WH_INC_MERGE,
							     .unique_key = key, .nunique_key = 1,
							     .predicates = (const char *[]){"no_col = 1"},
							     .npredicates = 1},
						     &res, &err), 0);
	assert_rows("1|old\n", dump(wh, "SELECT * FROM \"%s\".inc", S));
	assert_int_equal(kind_of(wh, S, "inc__dbt_tmp"), SL_WH_REL_NONE);

	MUST(sl_wh_build_snapshot(wh, S, "snap", "select 1 as id, '2024-01-01' as ts", &snap, &res,
				  &err));
	assert_int_not_equal(sl_wh_build_snapshot(wh, S, "snap", "select * from nowhere", &snap,
						  &res, &err), 0);
	assert_rows("1|2024-01-01|-\n",
		    dump(wh, "SELECT id, ts, dbt_valid_to FROM \"%s\".snap", S));
	assert_false(sl_wh_in_transaction(wh));
	sl_wh_close(wh);
}

/* --------------------------------------------------------- incremental */

static void build_inc(sl_wh *wh, const char *name, const char *sql, const sl_wh_incremental *inc,
		      sl_wh_build_result *res)
{
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_build_incremental(wh, sl_wh_schema(wh), name, sql, inc, res, &err))
		fail_msg("incremental %s: %s", name, err.message);
}

static void test_mat_incremental_append_three_loads(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_wh_build_result res;
	sl_wh_incremental inc = {.strategy = SL_WH_INC_APPEND};
	const char *sql = "select id, v from src";

	xf(wh, "CREATE TABLE \"%s\".src (id integer, v text)", S);
	xf(wh, "INSERT INTO \"%s\".src VALUES (1, 'x'), (2, 'y')", S);
	build_inc(wh, "app", sql, &inc, &res);
	assert_true(res.created);
	assert_string_equal(res.message, "SELECT 2");
	xf(wh, "DELETE FROM \"%s\".src; INSERT INTO \"%s\".src VALUES (3, 'z')", S, S);
	build_inc(wh, "app", sql, &inc, &res);
	assert_false(res.created);
	assert_string_equal(res.message, "INSERT 0 1");
	assert_int_equal(res.rows_inserted, 1);
	xf(wh, "INSERT INTO \"%s\".src VALUES (4, 'w')", S);
	build_inc(wh, "app", sql, &inc, &res);
	assert_string_equal(res.message, "INSERT 0 2");
	assert_rows("1|x\n2|y\n3|z\n3|z\n4|w\n", dump(wh, "SELECT * FROM \"%s\".app ORDER BY 1", S));
	/* full_refresh rebuilds it as a table of the SELECT's rows */
	inc.full_refresh = true;
	build_inc(wh, "app", sql, &inc, &res);
	assert_string_equal(res.message, "SELECT 2");
	assert_false(res.created);
	assert_rows("3|z\n4|w\n", dump(wh, "SELECT * FROM \"%s\".app ORDER BY 1", S));
	/* a view of that name is rebuilt as a table */
	inc.full_refresh = false;
	{
		sl_error err = SL_ERROR_INIT;
		MUST(sl_wh_build_view(wh, S, "was_view", "select 1 as id, 'v' as v", &res, &err));
	}
	build_inc(wh, "was_view", sql, &inc, &res);
	assert_int_equal(kind_of(wh, S, "was_view"), SL_WH_REL_TABLE);
	assert_string_equal(res.message, "SELECT 2");
	sl_wh_close(wh);
}

static void test_mat_incremental_merge_composite_key(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_wh_build_result res;
	const char *key[] = {"k1", "k2"};
	const char *preds[] = {"DBT_INTERNAL_DEST.v < 30"};
	sl_wh_incremental inc = {.strategy = SL_WH_INC_MERGE, .unique_key = key, .nunique_key = 2};
	const char *sql = "select k1, k2, v from src";

	xf(wh, "CREATE TABLE \"%s\".src (k1 integer, k2 text, v integer)", S);
	xf(wh, "INSERT INTO \"%s\".src VALUES (1, 'a', 10), (1, 'b', 20), (2, 'a', 30)", S);
	build_inc(wh, "mrg", sql, &inc, &res);
	assert_string_equal(res.message, "SELECT 3");
	xf(wh, "DELETE FROM \"%s\".src; INSERT INTO \"%s\".src VALUES (1, 'b', 21), (3, 'a', 40)",
	   S, S);
	build_inc(wh, "mrg", sql, &inc, &res);
	assert_string_equal(res.message, "MERGE 2");
	assert_int_equal(res.rows_updated, 1);
	assert_int_equal(res.rows_inserted, 1);
	assert_rows("1|a|10\n1|b|21\n2|a|30\n3|a|40\n",
		    dump(wh, "SELECT * FROM \"%s\".mrg ORDER BY 1, 2, 3", S));
	/* a predicate narrows the rows matched: (2, a, 30) is not, so its new
	 * version is inserted beside it, as MERGE ... ON key AND predicate does */
	xf(wh, "DELETE FROM \"%s\".src; INSERT INTO \"%s\".src VALUES (1, 'a', 11), (2, 'a', 31), "
	   "(4, 'a', 50)", S, S);
	inc.predicates = preds;
	inc.npredicates = 1;
	build_inc(wh, "mrg", sql, &inc, &res);
	assert_string_equal(res.message, "MERGE 3");
	assert_int_equal(res.rows_updated, 1);
	assert_int_equal(res.rows_inserted, 2);
	assert_rows("1|a|11\n1|b|21\n2|a|30\n2|a|31\n3|a|40\n4|a|50\n",
		    dump(wh, "SELECT * FROM \"%s\".mrg ORDER BY 1, 2, 3", S));
	sl_wh_close(wh);
}

static void test_mat_incremental_delete_insert(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_wh_build_result res;
	const char *key[] = {"k1", "k2"};
	const char *preds[] = {"DBT_INTERNAL_DEST.v >= 22"};
	sl_wh_incremental inc = {.strategy = SL_WH_INC_DELETE_INSERT, .unique_key = key,
				 .nunique_key = 2};
	const char *sql = "select k1, k2, v from src";

	xf(wh, "CREATE TABLE \"%s\".src (k1 integer, k2 text, v integer)", S);
	xf(wh, "INSERT INTO \"%s\".src VALUES (1, 'a', 10), (1, 'b', 20), (2, 'a', 30)", S);
	build_inc(wh, "di", sql, &inc, &res);
	assert_string_equal(res.message, "SELECT 3");
	xf(wh, "DELETE FROM \"%s\".src; INSERT INTO \"%s\".src VALUES (1, 'b', 21), (1, 'b', 22), "
	   "(3, 'a', 40)", S, S);
	build_inc(wh, "di", sql, &inc, &res);
	assert_string_equal(res.message, "INSERT 0 3");
	assert_int_equal(res.rows_deleted, 1);
	assert_int_equal(res.rows_inserted, 3);
	assert_rows("1|a|10\n1|b|21\n1|b|22\n2|a|30\n3|a|40\n",
		    dump(wh, "SELECT * FROM \"%s\".di ORDER BY 1, 2, 3", S));
	/* the predicate keeps (1, b, 21) from being deleted */
	xf(wh, "DELETE FROM \"%s\".src; INSERT INTO \"%s\".src VALUES (1, 'b', 23), (2, 'a', 31)",
	   S, S);
	inc.predicates = preds;
	inc.npredicates = 1;
	build_inc(wh, "di", sql, &inc, &res);
	assert_string_equal(res.message, "INSERT 0 2");
	assert_int_equal(res.rows_deleted, 2);
	assert_rows("1|a|10\n1|b|21\n1|b|23\n2|a|31\n3|a|40\n",
		    dump(wh, "SELECT * FROM \"%s\".di ORDER BY 1, 2, 3", S));
	sl_wh_close(wh);
}

static const char *const osc_load[3] = {
	"select 1 as id, 'a' as a, 'x' as b",
	"select 2 as id, 'b' as a, 'y' as b, 'new' as c",
	"select 3 as id, 'c' as a, 'z' as c",
};

static void test_mat_on_schema_change_ignore(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_wh_build_result res;
	sl_wh_incremental inc = {.strategy = SL_WH_INC_APPEND,
				 .on_schema_change = SL_WH_OSC_IGNORE};
	for (int i = 0; i < 3; i++)
		build_inc(wh, "osc", osc_load[i], &inc, &res);
	/* the new column c is not added; b, gone from the SELECT, gets NULL */
	assert_rows("1|a|x\n2|b|y\n3|c|-\n",
		    dump(wh, "SELECT * FROM \"%s\".osc ORDER BY 1", sl_wh_schema(wh)));
	sl_wh_close(wh);
}

static void test_mat_on_schema_change_fail(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_wh_build_result res;
	sl_error err = SL_ERROR_INIT;
	sl_wh_incremental inc = {.strategy = SL_WH_INC_APPEND, .on_schema_change = SL_WH_OSC_FAIL};

	build_inc(wh, "osc", osc_load[0], &inc, &res);
	build_inc(wh, "osc", "select 4 as id, 'd' as a, 'w' as b", &inc, &res);
	assert_string_equal(res.message, "INSERT 0 1");
	assert_int_equal(sl_wh_build_incremental(wh, S, "osc", osc_load[1], &inc, &res, &err),
			 SL_EINVAL);
	assert_non_null(strstr(err.message, "The source and target schemas on this incremental "
					    "model are out of sync!"));
	assert_non_null(strstr(err.message, "source columns not in target: [c]"));
	assert_null(strstr(err.message, "target columns not in source"));
	assert_non_null(strstr(err.message, "Set on_schema_change to append_new_columns or "
					    "sync_all_columns, or rebuild the model with "
					    "--full-refresh"));
	assert_int_equal(sl_wh_build_incremental(wh, S, "osc", osc_load[2], &inc, &res, &err),
			 SL_EINVAL);
	assert_non_null(strstr(err.message, "source columns not in target: [c]; target columns "
					    "not in source: [b]"));
	if (is_pg(wh)) {
		assert_int_equal(sl_wh_build_incremental(wh, S, "osc",
							 "select 5 as id, 'e' as a, 7 as b", &inc,
							 &res, &err),
				 SL_EINVAL);
		assert_non_null(strstr(err.message, "new column types: [b text -> integer]"));
	}
	assert_rows("1|a|x\n4|d|w\n", dump(wh, "SELECT * FROM \"%s\".osc ORDER BY 1", S));
	sl_wh_close(wh);
}

static void test_mat_on_schema_change_append_new_columns(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_wh_build_result res;
	sl_wh_incremental inc = {.strategy = SL_WH_INC_APPEND,
				 .on_schema_change = SL_WH_OSC_APPEND_NEW};
	for (int i = 0; i < 3; i++)
		build_inc(wh, "osc", osc_load[i], &inc, &res);
	/* c is added (NULL in older rows); b is kept, NULL in the newest */
	assert_rows("1|a|x|-\n2|b|y|new\n3|c|-|z\n",
		    dump(wh, "SELECT id, a, b, c FROM \"%s\".osc ORDER BY 1", sl_wh_schema(wh)));
	sl_wh_close(wh);
}

static void test_mat_on_schema_change_sync_all_columns(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_wh_build_result res;
	const char *key[] = {"id"};
	sl_wh_incremental inc = {.strategy = SL_WH_INC_MERGE, .unique_key = key, .nunique_key = 1,
				 .on_schema_change = SL_WH_OSC_SYNC_ALL};
	build_inc(wh, "osc", osc_load[0], &inc, &res);
	build_inc(wh, "osc", osc_load[1], &inc, &res);
	build_inc(wh, "osc", is_pg(wh) ? "select cast(3 as bigint) as id, 'c' as a, 'z' as c"
				       : osc_load[2],
		  &inc, &res);
	assert_string_equal(res.message, "MERGE 1");
	/* b is dropped, c added; on PostgreSQL id's type follows to bigint */
	assert_rows("1|a|-\n2|b|new\n3|c|z\n", dump(wh, "SELECT * FROM \"%s\".osc ORDER BY 1", S));
	if (is_pg(wh))
		assert_rows("bigint\n", dump(wh, "SELECT format_type(atttypid, atttypmod) FROM "
					     "pg_attribute WHERE attrelid = '\"%s\".osc'::regclass "
					     "AND attname = 'id'", S));
	sl_wh_close(wh);
}

/* ------------------------------------------------------------ snapshots */

static const char *const snap_now[4] = {
	"2024-01-01 00:00:00.000000", "2024-01-02 00:00:00.000000",
	"2024-01-03 00:00:00.000000", "2024-01-04 00:00:00.000000"};

/* Loads of the snapshot's source: 1 changes, 2 stays, 3 is deleted, 4 is
 * new; then 2 changes, 3 comes back, 4 is deleted. */
static void snap_source(sl_wh *wh, int load)
{
	const char *S = sl_wh_schema(wh);
	xf(wh, "DELETE FROM \"%s\".ssrc", S);
	if (load == 0)
		xf(wh, "INSERT INTO \"%s\".ssrc VALUES (1, 'a', '2024-01-01 10:00:00'), "
		   "(2, 'b', '2024-01-01 10:00:00'), (3, 'c', '2024-01-01 10:00:00')", S);
	else if (load == 1)
		xf(wh, "INSERT INTO \"%s\".ssrc VALUES (1, 'a2', '2024-01-02 10:00:00'), "
		   "(2, 'b', '2024-01-01 10:00:00'), (4, 'd', '2024-01-02 10:00:00')", S);
	else
		xf(wh, "INSERT INTO \"%s\".ssrc VALUES (1, 'a2', '2024-01-02 10:00:00'), "
		   "(2, 'b2', '2024-01-03 10:00:00'), (3, 'c3', '2024-01-03 10:00:00')", S);
}

/* Runs the three loads (and the third again, which changes nothing);
 * counts[i] = {inserted, updated} of load i. */
static void snap_runs(sl_wh *wh, sl_wh_snapshot *snap, const int64_t counts[3][2])
{
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	char msg[64];
	xf(wh, "CREATE TABLE \"%s\".ssrc (id integer, name text, updated_at timestamp)", S);
	for (int load = 0; load < 4; load++) {
		snap_source(wh, load < 3 ? load : 2);
		snap->now = snap_now[load];
		MUST(sl_wh_build_snapshot(wh, S, "snap", "select id, name, updated_at from ssrc",
					  snap, &res, &err));
		int64_t ins = load < 3 ? counts[load][0] : 0, upd = load < 3 ? counts[load][1] : 0;
		if (res.rows_inserted != ins || res.rows_updated != upd)
			fail_msg("load %d: inserted %lld updated %lld, want %lld %lld", load + 1,
				 (long long)res.rows_inserted, (long long)res.rows_updated,
				 (long long)ins, (long long)upd);
		snprintf(msg, sizeof msg, "%s %lld", load ? "INSERT 0" : "SELECT", (long long)ins);
		assert_string_equal(res.message, msg);
		assert_int_equal(res.created, load == 0);
	}
}

static char *snap_dump(sl_wh *wh, bool deleted)
{
	return dump(wh, "SELECT id, name, substr(cast(dbt_valid_from as varchar), 1, 19), "
		    "substr(cast(dbt_valid_to as varchar), 1, 19)%s FROM \"%s\".snap "
		    "ORDER BY id, dbt_valid_from",
		    deleted ? ", dbt_is_deleted" : "", sl_wh_schema(wh));
}

/* dbt_scd_id is md5 of the key and updated_at, and dbt_updated_at is
 * dbt_valid_from on every row but the deletion markers. */
static void assert_scd_ids(sl_wh *wh, const char *where)
{
	assert_rows("0\n", dump(wh, "SELECT count(*) FROM \"%s\".snap WHERE (dbt_scd_id <> "
				"md5(coalesce(cast(id as varchar), '') || '|' || "
				"coalesce(cast(dbt_updated_at as varchar), '')) OR "
				"dbt_updated_at <> dbt_valid_from) %s",
				sl_wh_schema(wh), where));
}

static void test_mat_snapshot_timestamp_ignore(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 1, .updated_at = "updated_at"};
	static const int64_t counts[3][2] = {{3, 0}, {2, 1}, {2, 2}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 10:00:00|2024-01-02 10:00:00\n"
		    "1|a2|2024-01-02 10:00:00|-\n"
		    "2|b|2024-01-01 10:00:00|2024-01-03 10:00:00\n"
		    "2|b2|2024-01-03 10:00:00|-\n"
		    "3|c|2024-01-01 10:00:00|2024-01-03 10:00:00\n"
		    "3|c3|2024-01-03 10:00:00|-\n"
		    "4|d|2024-01-02 10:00:00|-\n",
		    snap_dump(wh, false));
	/* the hash dbt computes: md5('1|2024-01-01 10:00:00') */
	assert_rows("4f5746d2de2c81b300d78040e8c6008e\n",
		    dump(wh, "SELECT dbt_scd_id FROM \"%s\".snap WHERE name = 'a'",
			 sl_wh_schema(wh)));
	assert_scd_ids(wh, "");
	sl_wh_close(wh);
}

static void test_mat_snapshot_timestamp_invalidate(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 1, .updated_at = "updated_at",
			       .hard_deletes = SL_WH_HARD_INVALIDATE};
	static const int64_t counts[3][2] = {{3, 0}, {2, 2}, {2, 2}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 10:00:00|2024-01-02 10:00:00\n"
		    "1|a2|2024-01-02 10:00:00|-\n"
		    "2|b|2024-01-01 10:00:00|2024-01-03 10:00:00\n"
		    "2|b2|2024-01-03 10:00:00|-\n"
		    "3|c|2024-01-01 10:00:00|2024-01-02 00:00:00\n"
		    "3|c3|2024-01-03 10:00:00|-\n"
		    "4|d|2024-01-02 10:00:00|2024-01-03 00:00:00\n",
		    snap_dump(wh, false));
	assert_scd_ids(wh, "");
	sl_wh_close(wh);
}

static void test_mat_snapshot_timestamp_new_record(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 1, .updated_at = "updated_at",
			       .hard_deletes = SL_WH_HARD_NEW_RECORD};
	static const int64_t counts[3][2] = {{3, 0}, {3, 2}, {3, 3}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 10:00:00|2024-01-02 10:00:00|False\n"
		    "1|a2|2024-01-02 10:00:00|-|False\n"
		    "2|b|2024-01-01 10:00:00|2024-01-03 10:00:00|False\n"
		    "2|b2|2024-01-03 10:00:00|-|False\n"
		    "3|c|2024-01-01 10:00:00|2024-01-02 00:00:00|False\n"
		    "3|c|2024-01-02 00:00:00|2024-01-03 10:00:00|True\n"
		    "3|c3|2024-01-03 10:00:00|-|False\n"
		    "4|d|2024-01-02 10:00:00|2024-01-03 00:00:00|False\n"
		    "4|d|2024-01-03 00:00:00|-|True\n",
		    snap_dump(wh, true));
	assert_scd_ids(wh, "AND dbt_is_deleted = 'False'");
	/* a deletion marker's id hashes the key and the snapshot time; its
	 * dbt_updated_at is that time */
	assert_rows("0\n", dump(wh, "SELECT count(*) FROM \"%s\".snap WHERE dbt_is_deleted = "
				"'True' AND (dbt_scd_id <> md5(cast(id as varchar) || '|' || "
				"cast(dbt_valid_from as varchar)) OR dbt_updated_at <> "
				"dbt_valid_from)",
				sl_wh_schema(wh)));
	sl_wh_close(wh);
}

static void test_mat_snapshot_check_ignore(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"}, *cols[] = {"name"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .check_cols = cols, .ncheck_cols = 1};
	static const int64_t counts[3][2] = {{3, 0}, {2, 1}, {2, 2}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 00:00:00|2024-01-02 00:00:00\n"
		    "1|a2|2024-01-02 00:00:00|-\n"
		    "2|b|2024-01-01 00:00:00|2024-01-03 00:00:00\n"
		    "2|b2|2024-01-03 00:00:00|-\n"
		    "3|c|2024-01-01 00:00:00|2024-01-03 00:00:00\n"
		    "3|c3|2024-01-03 00:00:00|-\n"
		    "4|d|2024-01-02 00:00:00|-\n",
		    snap_dump(wh, false));
	assert_scd_ids(wh, "");
	sl_wh_close(wh);
}

/* The snapshot time may be any ISO 8601 time; it is stored as UTC text
 * with six fractional digits. */
static void test_mat_snapshot_time_forms(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	const char *key[] = {"id"};
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .now = "2024-01-02T03:04:05.5+02:00"};
	MUST(sl_wh_build_snapshot(wh, S, "snap", "select 1 as id", &snap, &res, &err));
	assert_rows("2024-01-02 01:04:05.5\n",
		    dump(wh, "SELECT rtrim(cast(dbt_valid_from as varchar), '0') FROM \"%s\".snap",
			 S));
	snap.now = "yesterday";
	assert_int_equal(sl_wh_build_snapshot(wh, S, "snap", "select 1 as id", &snap, &res, &err),
			 SL_EINVAL);
	assert_non_null(strstr(err.message, "the snapshot time \"yesterday\" is not a "
					    "timestamp"));
	sl_wh_close(wh);
}

static void test_mat_snapshot_check_all_invalidate(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .hard_deletes = SL_WH_HARD_INVALIDATE};
	static const int64_t counts[3][2] = {{3, 0}, {2, 2}, {2, 2}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 00:00:00|2024-01-02 00:00:00\n"
		    "1|a2|2024-01-02 00:00:00|-\n"
		    "2|b|2024-01-01 00:00:00|2024-01-03 00:00:00\n"
		    "2|b2|2024-01-03 00:00:00|-\n"
		    "3|c|2024-01-01 00:00:00|2024-01-02 00:00:00\n"
		    "3|c3|2024-01-03 00:00:00|-\n"
		    "4|d|2024-01-02 00:00:00|2024-01-03 00:00:00\n",
		    snap_dump(wh, false));
	assert_scd_ids(wh, "");
	sl_wh_close(wh);
}

static void test_mat_snapshot_check_new_record(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *key[] = {"id"}, *cols[] = {"name", "updated_at"};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .check_cols = cols, .ncheck_cols = 2,
			       .hard_deletes = SL_WH_HARD_NEW_RECORD};
	static const int64_t counts[3][2] = {{3, 0}, {3, 2}, {3, 3}};
	snap_runs(wh, &snap, counts);
	assert_rows("1|a|2024-01-01 00:00:00|2024-01-02 00:00:00|False\n"
		    "1|a2|2024-01-02 00:00:00|-|False\n"
		    "2|b|2024-01-01 00:00:00|2024-01-03 00:00:00|False\n"
		    "2|b2|2024-01-03 00:00:00|-|False\n"
		    "3|c|2024-01-01 00:00:00|2024-01-02 00:00:00|False\n"
		    "3|c|2024-01-02 00:00:00|2024-01-03 00:00:00|True\n"
		    "3|c3|2024-01-03 00:00:00|-|False\n"
		    "4|d|2024-01-02 00:00:00|2024-01-03 00:00:00|False\n"
		    "4|d|2024-01-03 00:00:00|-|True\n",
		    snap_dump(wh, true));
	assert_scd_ids(wh, "");
	sl_wh_close(wh);
}

/* Several key columns, a column added to the SELECT, and a table that is
 * not a snapshot. */
static void test_mat_snapshot_composite_key_and_new_column(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	const char *key[] = {"id", "kind"};
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_TIMESTAMP, .unique_key = key,
			       .nunique_key = 2, .updated_at = "ts", .now = snap_now[0]};
	MUST(sl_wh_build_snapshot(wh, S, "snap",
				  "select 1 as id, 'a' as kind, '2024-01-01 10:00:00' as ts union all "
				  "select 1, 'b', '2024-01-01 10:00:00'",
				  &snap, &res, &err));
	assert_rows("b63ddae168b4f87ffe45d60a75e27fa4\n",
		    dump(wh, "SELECT dbt_scd_id FROM \"%s\".snap WHERE kind = 'a'", S));
	snap.now = snap_now[1];
	MUST(sl_wh_build_snapshot(wh, S, "snap",
				  "select 1 as id, 'a' as kind, '2024-01-02 10:00:00' as ts, 'x' as "
				  "extra union all select 1, 'b', '2024-01-01 10:00:00', 'y'",
				  &snap, &res, &err));
	assert_int_equal(res.rows_updated, 1);
	assert_int_equal(res.rows_inserted, 1);
	assert_rows("1|a|2024-01-01 10:00:00|-\n1|a|2024-01-02 10:00:00|x\n"
		    "1|b|2024-01-01 10:00:00|-\n",
		    dump(wh, "SELECT id, kind, ts, extra FROM \"%s\".snap ORDER BY 2, 3", S));
	MUST(sl_wh_build_table(wh, S, "plain", "select 1 as id, 'a' as kind, 'x' as ts", &res,
			       &err));
	assert_int_equal(sl_wh_build_snapshot(wh, S, "plain", "select 1 as id, 'a' as kind, 'x' "
					      "as ts", &snap, &res, &err),
			 SL_EINVAL);
	assert_non_null(strstr(err.message, "has no column \"dbt_scd_id\", so it is not a "
					    "snapshot"));
	sl_wh_close(wh);
}

/* ---------------------------------------------------------------- seeds */

typedef struct seed_src {
	sl_batch **b;
	int n, i;
	bool fail_at_end;
} seed_src;

static int seed_next(void *ud, const sl_batch **out, sl_error *err)
{
	seed_src *s = ud;
	if (s->i == s->n && s->fail_at_end)
		return sl_error_set(err, SL_EINVAL, "seeds/x.csv: line 9: bad value");
	*out = s->i < s->n ? s->b[s->i++] : NULL;
	return 0;
}

static sl_batch *seed_batch(const sl_schema *s, const char *const (*rows)[4], int n)
{
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_batch_new(&b, s, 16, &err))
		fail_msg("%s", err.message);
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < 4; i++) {
			if (!rows[r][i])
				sl_column_append_null(&b->cols[i]);
			else if (sl_column_append_text(&b->cols[i], rows[r][i], strlen(rows[r][i]),
						       &err))
				fail_msg("%s", err.message);
		}
		sl_batch_end_row(b);
	}
	return b;
}

static void test_mat_seed_is_bulk_loaded_and_swapped_in(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_schema *cols = sl_schema_new();
	sl_type t;
	assert_int_equal(sl_schema_add(cols, "id", sl_type_make(SL_INT64), true), 0);
	assert_int_equal(sl_schema_add(cols, "code", sl_type_make(SL_STRING), true), 0);
	assert_int_equal(sl_type_parse("decimal(10,2)", &t), 0);
	assert_int_equal(sl_schema_add(cols, "amount", t, true), 0);
	assert_int_equal(sl_schema_add(cols, "day", sl_type_make(SL_DATE), true), 0);
	static const char *const r1[][4] = {{"1", "007", "1.50", "2024-01-01"},
					    {"2", "x y", NULL, "2024-02-29"}};
	static const char *const r2[][4] = {{"3", "it's", "-2.00", NULL}};
	sl_batch *b[2] = {seed_batch(cols, r1, 2), seed_batch(cols, r2, 1)};
	seed_src src = {b, 2, 0, false};
	const char *types[4] = {NULL, "varchar(20)", NULL, NULL};

	MUST(sl_wh_build_table_from(wh, S, "seed", cols, types, false, seed_next, &src, &res, &err));
	assert_string_equal(res.message, "INSERT 3");
	assert_int_equal(res.rows_inserted, 3);
	assert_true(res.created);
	/* PostgreSQL types numbers with decimals double precision (dbt's
	 * float8); SQLite keeps the decimal's text. */
	assert_rows(is_pg(wh) ? "1|007|1.5|2024-01-01\n2|x y|-|2024-02-29\n3|it's|-2|-\n"
			      : "1|007|1.50|2024-01-01\n2|x y|-|2024-02-29\n3|it's|-2.00|-\n",
		    dump(wh, "SELECT id, code, cast(amount as varchar), cast(day as varchar) "
			 "FROM \"%s\".seed ORDER BY 1", S));
	assert_rows(is_pg(wh) ? "character varying(20)\n" : "varchar(20)\n",
		    dump(wh, is_pg(wh) ? "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
					 "WHERE attrelid = '\"%s\".seed'::regclass AND attname = 'code'"
				       : "SELECT type FROM pragma_table_info('seed', '%s') WHERE "
					 "name = 'code'",
			 S));
	/* a second seeding replaces the rows; a failing one keeps them */
	src = (seed_src){b + 1, 1, 0, false};
	MUST(sl_wh_build_table_from(wh, S, "seed", cols, NULL, false, seed_next, &src, &res, &err));
	assert_string_equal(res.message, "INSERT 1");
	assert_false(res.created);
	src = (seed_src){b, 2, 0, true};
	assert_int_equal(sl_wh_build_table_from(wh, S, "seed", cols, NULL, false, seed_next, &src, &res,
						&err),
			 SL_EINVAL);
	assert_string_equal(err.message, "seeds/x.csv: line 9: bad value");
	assert_rows("3|it's\n", dump(wh, "SELECT id, code FROM \"%s\".seed", S));
	assert_int_equal(kind_of(wh, S, "seed__dbt_tmp"), SL_WH_REL_NONE);
	sl_batch_free(b[0]);
	sl_batch_free(b[1]);
	sl_schema_free(cols);
	sl_wh_close(wh);
}

/* A reseed with the same columns empties and refills the table in place,
 * so a view over it stays and reads the new rows; changed columns replace
 * it — refused on PostgreSQL while a view depends on it (a drop would take
 * the view), done on SQLite (views name the table); full_refresh replaces
 * it, and PostgreSQL's CASCADE drops the view. */
static void test_mat_seed_reload_keeps_views(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_schema *cols = sl_schema_new(), *cols2 = sl_schema_new();
	static const char *const names[] = {"id", "code", "amount", "day"};
	static const char *const names2[] = {"id", "code", "amount", "when"};
	static const sl_type_id types[] = {SL_INT64, SL_STRING, SL_FLOAT64, SL_DATE};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sl_schema_add(cols, names[i], sl_type_make(types[i]), true), 0);
		assert_int_equal(sl_schema_add(cols2, names2[i], sl_type_make(types[i]), true), 0);
	}
	static const char *const r1[][4] = {{"1", "a", "1.5", "2024-01-01"},
					    {"2", "b", NULL, "2024-02-29"}};
	static const char *const r2[][4] = {{"3", "c", "-2", NULL}};
	sl_batch *b[3] = {seed_batch(cols, r1, 2), seed_batch(cols, r2, 1),
			  seed_batch(cols2, r2, 1)};
	seed_src src = {b, 1, 0, false};
	char want[256];

	MUST(sl_wh_build_table_from(wh, S, "seed", cols, NULL, false, seed_next, &src, &res,
				    &err));
	xf(wh, "CREATE VIEW \"%s\".\"seed_v\" AS SELECT id, code FROM \"%s\".\"seed\"", S, S);
	src = (seed_src){b + 1, 1, 0, false};
	MUST(sl_wh_build_table_from(wh, S, "seed", cols, NULL, false, seed_next, &src, &res,
				    &err));
	assert_string_equal(res.message, "INSERT 1");
	assert_false(res.created);
	assert_rows("3|c\n", dump(wh, "SELECT id, code FROM \"%s\".seed_v", S));
	assert_int_equal(kind_of(wh, S, "seed__dbt_tmp"), SL_WH_REL_NONE);

	/* a column renamed: the table must be replaced */
	src = (seed_src){b + 2, 1, 0, false};
	int rc = sl_wh_build_table_from(wh, S, "seed", cols2, NULL, false, seed_next, &src, &res,
					&err);
	if (is_pg(wh)) {
		assert_int_equal(rc, SL_ECONFIG);
		snprintf(want, sizeof want, "replacing its table would drop the views built on "
			 "it: \"%s\".\"seed_v\"; run with --full-refresh", S);
		assert_non_null(strstr(err.message, want));
		assert_rows("3|-\n", dump(wh, "SELECT id, cast(day as varchar) FROM \"%s\".seed", S));
	} else {
		assert_int_equal(rc, 0);
		assert_rows("3|-\n", dump(wh, "SELECT id, \"when\" FROM \"%s\".seed", S));
	}
	assert_int_equal(kind_of(wh, S, "seed_v"), SL_WH_REL_VIEW);
	assert_int_equal(kind_of(wh, S, "seed__dbt_tmp"), SL_WH_REL_NONE);

	/* full_refresh: replaced whatever the columns; CASCADE on PostgreSQL */
	src = (seed_src){b, 1, 0, false};
	MUST(sl_wh_build_table_from(wh, S, "seed", cols, NULL, true, seed_next, &src, &res,
				    &err));
	assert_false(res.created);
	assert_rows("1|a\n2|b\n", dump(wh, "SELECT id, code FROM \"%s\".seed ORDER BY 1", S));
	if (is_pg(wh)) {
		assert_int_equal(kind_of(wh, S, "seed_v"), SL_WH_REL_NONE);
	} else {
		assert_int_equal(kind_of(wh, S, "seed_v"), SL_WH_REL_VIEW);
		assert_rows("1|a\n2|b\n",
			    dump(wh, "SELECT id, code FROM \"%s\".seed_v ORDER BY 1", S));
	}
	for (int i = 0; i < 3; i++)
		sl_batch_free(b[i]);
	sl_schema_free(cols);
	sl_schema_free(cols2);
	sl_wh_close(wh);
}

/* -------------------------------------------------------- hostile names */

static void test_mat_hostile_model_name(void **state)
{
	sl_wh *wh = wh_open_test();
	const char *S = sl_wh_schema(wh);
	const char *name = "it's a \"model\"; drop table x --";
	const char *key[] = {"my id"};
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;
	sl_wh_incremental inc = {.strategy = SL_WH_INC_MERGE, .unique_key = key, .nunique_key = 1};
	sl_wh_snapshot snap = {.strategy = SL_WH_SNAP_CHECK, .unique_key = key, .nunique_key = 1,
			       .hard_deletes = SL_WH_HARD_NEW_RECORD, .now = snap_now[0]};

	MUST(sl_wh_build_view(wh, S, name, "select 1 as \"my id\"", &res, &err));
	assert_int_equal(kind_of(wh, S, name), SL_WH_REL_VIEW);
	MUST(sl_wh_build_table(wh, S, name, "select 1 as \"my id\", 'a' as v", &res, &err));
	MUST(sl_wh_build_table(wh, S, name, "select 1 as \"my id\", 'b' as v", &res, &err));
	MUST(sl_wh_build_incremental(wh, S, name, "select 1 as \"my id\", 'c' as v union all "
				     "select 2, 'd'", &inc, &res, &err));
	assert_string_equal(res.message, "MERGE 2");
	assert_rows("1|c\n2|d\n", dump(wh, "SELECT * FROM \"%s\".\"it's a \"\"model\"\"; drop "
				       "table x --\" ORDER BY 1", S));
	MUST(sl_wh_build_snapshot(wh, S, "snap \"x\"", "select 1 as \"my id\", 'a' as v", &snap,
				  &res, &err));
	snap.now = snap_now[1];
	MUST(sl_wh_build_snapshot(wh, S, "snap \"x\"", "select 1 as \"my id\", 'b' as v", &snap,
				  &res, &err));
	assert_int_equal(res.rows_updated, 1);
	assert_int_equal(res.rows_inserted, 1);
	assert_int_equal(sl_wh_build_table(wh, S, "", "select 1", &res, &err), SL_EINVAL);
	sl_wh_close(wh);
}

/* md5() is there on every adapter, with PostgreSQL's result. */
static void test_mat_md5_matches_postgres(void **state)
{
	sl_wh *wh = wh_open_test();
	assert_rows("900150983cd24fb0d6963f7d28e17f72|-|d41d8cd98f00b204e9800998ecf8427e\n",
		    dump(wh, "SELECT md5('abc'), md5(NULL), md5('')"));
	sl_wh_close(wh);
}

/* Temporary names stay within the identifier limit and differ for
 * different models. */
static void test_mat_temp_names(void **state)
{
	sl_wh *wh = wh_open_test();
	char long1[80], long2[80];
	memset(long1, 'm', 63);
	long1[63] = '\0';
	memcpy(long2, long1, 64);
	long2[62] = 'n';
	char *a = sl_wh_temp_name(wh, "orders", "__dbt_tmp");
	char *b = sl_wh_temp_name(wh, long1, "__dbt_tmp");
	char *c = sl_wh_temp_name(wh, long2, "__dbt_tmp");
	assert_string_equal(a, "orders__dbt_tmp");
	if (is_pg(wh)) {
		assert_int_equal(strlen(b), 63);
		assert_int_equal(strlen(c), 63);
		assert_string_not_equal(b, c);
		assert_non_null(strstr(b, "__dbt_tmp"));
	} else {
		assert_int_equal(strlen(b), 72);
	}
	sl_free(a);
	sl_free(b);
	sl_free(c);
	sl_wh_close(wh);
}

#define MAT_SHARED_TESTS                                                          \
	cmocka_unit_test(test_mat_view_is_built_and_replaced),                    \
	cmocka_unit_test(test_mat_view_over_raw_schema),                          \
	cmocka_unit_test(test_mat_table_is_swapped_in),                           \
	cmocka_unit_test(test_mat_failure_keeps_previous_relation),               \
	cmocka_unit_test(test_mat_incremental_append_three_loads),                \
	cmocka_unit_test(test_mat_incremental_merge_composite_key),               \
	cmocka_unit_test(test_mat_incremental_delete_insert),                     \
	cmocka_unit_test(test_mat_on_schema_change_ignore),                       \
	cmocka_unit_test(test_mat_on_schema_change_fail),                         \
	cmocka_unit_test(test_mat_on_schema_change_append_new_columns),           \
	cmocka_unit_test(test_mat_on_schema_change_sync_all_columns),             \
	cmocka_unit_test(test_mat_snapshot_timestamp_ignore),                     \
	cmocka_unit_test(test_mat_snapshot_timestamp_invalidate),                 \
	cmocka_unit_test(test_mat_snapshot_timestamp_new_record),                 \
	cmocka_unit_test(test_mat_snapshot_check_ignore),                         \
	cmocka_unit_test(test_mat_snapshot_check_all_invalidate),                 \
	cmocka_unit_test(test_mat_snapshot_time_forms),                           \
	cmocka_unit_test(test_mat_snapshot_check_new_record),                     \
	cmocka_unit_test(test_mat_snapshot_composite_key_and_new_column),         \
	cmocka_unit_test(test_mat_seed_is_bulk_loaded_and_swapped_in),            \
	cmocka_unit_test(test_mat_seed_reload_keeps_views),                       \
	cmocka_unit_test(test_mat_hostile_model_name),                            \
	cmocka_unit_test(test_mat_md5_matches_postgres),                          \
	cmocka_unit_test(test_mat_temp_names)

#endif
