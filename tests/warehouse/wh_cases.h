/*
 * wh_cases.h: warehouse behaviours every adapter must keep, shared by
 * test_wh_sqlite.c and test_wh_postgres.c. The including file defines
 * wh_open_test(), which opens a fresh, empty warehouse.
 */
#ifndef WH_CASES_H
#define WH_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warehouse/warehouse.h"

static sl_wh *wh_open_test(void);

/* -------------------------------------------------------------- helpers */

/* A schema from "name:type" strings (NULL-terminated). */
static sl_schema *mk_schema(const char *const *spec)
{
	sl_schema *s = sl_schema_new();
	assert_non_null(s);
	for (; *spec; spec++) {
		const char *colon = strrchr(*spec, ':');
		char name[200];
		sl_type t;
		assert_non_null(colon);
		snprintf(name, sizeof name, "%.*s", (int)(colon - *spec), *spec);
		assert_int_equal(sl_type_parse(colon + 1, &t), 0);
		assert_int_equal(sl_schema_add(s, name, t, true), 0);
	}
	return s;
}

/* Appends one row of text values (NULL: SQL NULL). */
static void add_row(sl_batch *b, const char *const *vals)
{
	sl_error err = SL_ERROR_INIT;
	for (int i = 0; i < b->ncols; i++) {
		if (!vals[i]) {
			sl_column_append_null(&b->cols[i]);
			continue;
		}
		int rc = sl_column_append_text(&b->cols[i], vals[i], strlen(vals[i]), &err);
		if (rc)
			fail_msg("add_row: %s", err.message);
	}
	sl_batch_end_row(b);
}

static sl_batch *mk_batch(const sl_schema *s)
{
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_batch_new(&b, s, 1024, &err), 0);
	return b;
}

#define ROW(...) ((const char *const[]){__VA_ARGS__})

/* Result rows as "v1|v2|..." lines ("NULL" for NULL), through query_batches
 * with the given schema, so values are parsed as sluice types. */
typedef struct rows_text {
	sl_buf text;
	int n;
} rows_text;

static int collect_batch(void *ud, const sl_batch *b, sl_error *err)
{
	rows_text *rt = ud;
	for (int64_t r = 0; r < b->nrows; r++) {
		for (int i = 0; i < b->ncols; i++) {
			if (i)
				sl_buf_putc(&rt->text, '|');
			if (sl_column_is_null(&b->cols[i], r))
				sl_buf_puts(&rt->text, "NULL");
			else
				sl_column_format_value(&b->cols[i], r, &rt->text);
		}
		sl_buf_putc(&rt->text, '\n');
		rt->n++;
	}
	return 0;
}

static char *query_rows(sl_wh *wh, const char *sql, const sl_schema *s)
{
	rows_text rt = {SL_BUF_INIT, 0};
	sl_error err = SL_ERROR_INIT;
	int rc = sl_wh_query_batches(wh, sql, s, 2, collect_batch, &rt, &err);
	if (rc)
		fail_msg("query %s: %s", sql, err.message);
	if (!rt.text.data)
		sl_buf_puts(&rt.text, "");
	return sl_buf_detach(&rt.text);
}

static char *query_value(sl_wh *wh, const char *sql)
{
	char *v = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_query_value(wh, sql, &v, &err))
		fail_msg("query %s: %s", sql, err.message);
	return v;
}

static void assert_value(sl_wh *wh, const char *sql, const char *want)
{
	char *v = query_value(wh, sql);
	if (!want)
		assert_null(v);
	else
		assert_string_equal(v, want);
	sl_free(v);
}

/* One table load: batches[i] come from lake version versions[i]. */
static int load(sl_wh *wh, const char *table, const sl_schema *s, const sl_wh_load_opts *o,
		sl_batch **batches, const int64_t *versions, int n, sl_wh_load_result *res,
		sl_error *err)
{
	sl_wh_table_load *t = NULL;
	int rc = sl_wh_table_load_begin(&t, wh, "raw", table, s, o, err);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		rc = sl_wh_table_load_batch(t, batches[i], versions[i], err);
		if (rc) {
			sl_wh_table_load_abort(t);
			return rc;
		}
	}
	return sl_wh_table_load_commit(t, res, err);
}

/* -------------------------------------------------------------- cases */

static const char *const all_types[] = {
	"id:int64",  "b:bool", "i:int32", "f:float64", "d:decimal(38,18)",
	"s:string",  "dt:date", "ts:timestamp", NULL};

static void test_every_type_round_trips_with_nulls(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema(all_types);
	sl_batch *b = mk_batch(s);
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_wh_load_result res;
	int64_t v1 = 1;

	add_row(b, ROW("1", "true", "-2147483648", "0.1", "12345678901234567890.123456789012345678",
		       "h\xc3\xa9llo \xe2\x86\x92 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x8e\x89",
		       "2024-02-29", "2024-02-29 12:34:56.789012"));
	add_row(b, ROW("2", NULL, NULL, NULL, NULL, NULL, NULL, NULL));
	add_row(b, ROW("3", "false", "2147483647", "-1e300", "-0.000000000000000001",
		       "tab\there\nnewline\\backslash \"dq\" 'sq' \r end", "1900-01-01",
		       "1969-12-31 23:59:59.999999"));
	add_row(b, ROW("4", "t", "0", "1.7976931348623157e308", "0", "\\N", "9999-12-31",
		       "1970-01-01 00:00:00"));
	add_row(b, ROW("5", "f", "-1", "-0.5", "-99999999999999999999.999999999999999999", "",
		       "1970-01-01", "2262-04-11 23:47:16.854775"));
	assert_int_equal(load(wh, "types", s, &o, &b, &v1, 1, &res, &err), 0);
	assert_int_equal(res.rows_received, 5);
	assert_int_equal(res.rows_inserted, 5);
	assert_true(res.table_created);

	sl_schema *got = NULL;
	assert_int_equal(sl_wh_describe(wh, "raw", "types", &got, &err), 0);
	assert_int_equal(got->nfields, s->nfields);
	for (int i = 0; i < s->nfields; i++) {
		assert_string_equal(got->fields[i].name, s->fields[i].name);
		assert_true(sl_type_equal(got->fields[i].type, s->fields[i].type));
	}
	sl_schema_free(got);

	char *rows = query_rows(wh,
				"SELECT id, b, i, f, d, s, dt, ts FROM \"raw\".\"types\" ORDER BY id",
				s);
	assert_string_equal(
		rows,
		"1|true|-2147483648|0.1|12345678901234567890.123456789012345678|"
		"h\xc3\xa9llo \xe2\x86\x92 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x8e\x89|2024-02-29|"
		"2024-02-29 12:34:56.789012\n"
		"2|NULL|NULL|NULL|NULL|NULL|NULL|NULL\n"
		"3|false|2147483647|-1e+300|-0.000000000000000001|"
		"tab\there\nnewline\\backslash \"dq\" 'sq' \r end|1900-01-01|"
		"1969-12-31 23:59:59.999999\n"
		"4|true|0|1.7976931348623157e+308|0.000000000000000000|\\N|9999-12-31|"
		"1970-01-01 00:00:00\n"
		"5|false|-1|-0.5|-99999999999999999999.999999999999999999||1970-01-01|"
		"2262-04-11 23:47:16.854775\n");
	sl_free(rows);
	/* The empty string is not NULL, "\N" is text. */
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"types\" WHERE s IS NULL", "1");
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"types\" WHERE s = ''", "1");
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_raw_loader_in_caller_transaction(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"k:int32", "v:string", NULL});
	sl_batch *b = mk_batch(s);
	sl_wh_loader *l = NULL;
	int64_t rows = 0;

	add_row(b, ROW("1", "one"));
	add_row(b, ROW("2", NULL));
	assert_int_equal(sl_wh_create_table(wh, "raw", "plain", s, &err), 0);
	assert_int_equal(sl_wh_begin(wh, &err), 0);
	assert_int_equal(sl_wh_load_begin(&l, wh, "raw", "plain", s, &err), 0);
	assert_int_equal(sl_wh_load_batch(l, b, &err), 0);
	assert_int_equal(sl_wh_load_batch(l, b, &err), 0);
	assert_int_equal(sl_wh_load_end(l, &rows, &err), 0);
	assert_int_equal(rows, 4);
	sl_wh_rollback(wh);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"plain\"", "0");

	assert_int_equal(sl_wh_begin(wh, &err), 0);
	assert_int_equal(sl_wh_load_begin(&l, wh, "raw", "plain", s, &err), 0);
	assert_int_equal(sl_wh_load_batch(l, b, &err), 0);
	assert_int_equal(sl_wh_load_end(l, &rows, &err), 0);
	assert_int_equal(sl_wh_commit(wh, &err), 0);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"plain\" WHERE v IS NULL", "1");
	assert_value(wh, "SELECT v FROM \"raw\".\"plain\" WHERE k = 1", "one");
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static const char *const merge_cols[] = {"id:int64", "v:string", "updated_at:timestamp",
					  NULL};

static void test_merge_latest_cursor_wins_across_runs(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema(merge_cols);
	const char *pk[] = {"id"};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_wh_load_result res;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	o.cursor = "updated_at";
	o.run_id = "run-1";

	/* Run 1, lake version 1: in-batch duplicates. */
	sl_batch *b1 = mk_batch(s);
	add_row(b1, ROW("1", "a1", "2024-01-01 00:00:10"));
	add_row(b1, ROW("2", "b1", "2024-01-01 00:00:10"));
	add_row(b1, ROW("1", "a2", "2024-01-01 00:00:20"));
	add_row(b1, ROW("3", "c1", "2024-01-01 00:00:05"));
	add_row(b1, ROW("6", "f1", "2024-01-01 00:00:07"));
	add_row(b1, ROW("6", "f2", "2024-01-01 00:00:07")); /* tie: later row wins */
	int64_t v1 = 1;
	assert_int_equal(load(wh, "m", s, &o, &b1, &v1, 1, &res, &err), 0);
	assert_int_equal(res.rows_received, 6);
	assert_int_equal(res.rows_inserted, 4);
	assert_int_equal(res.rows_stale, 2);

	/* Run 2, lake versions 2 and 3. */
	sl_batch *b2 = mk_batch(s), *b3 = mk_batch(s);
	add_row(b2, ROW("2", "b2", "2024-01-01 00:00:30"));
	add_row(b2, ROW("3", "c2-tie", "2024-01-01 00:00:05")); /* equal: newer load wins */
	add_row(b2, ROW("4", "d0", "2024-01-01 00:00:02"));
	add_row(b3, ROW("1", "a-late-older", "2024-01-01 00:00:15")); /* older than table */
	add_row(b3, ROW("4", "d-older", "2024-01-01 00:00:01")); /* later version, older cursor */
	sl_batch *run2[] = {b2, b3};
	int64_t v23[] = {2, 3};
	o.run_id = "run-2";
	assert_int_equal(load(wh, "m", s, &o, run2, v23, 2, &res, &err), 0);
	assert_int_equal(res.rows_received, 5);
	assert_int_equal(res.rows_stale, 2);
	assert_int_equal(res.rows_inserted, 3);
	assert_int_equal(res.rows_replaced, 2);

	/* Run 3, lake version 4: a late older row, a NULL cursor, a tie. */
	sl_batch *b4 = mk_batch(s);
	add_row(b4, ROW("2", "b-late", "2024-01-01 00:00:25"));
	add_row(b4, ROW("5", "e1", NULL));
	add_row(b4, ROW("1", "a2-again", "2024-01-01 00:00:20"));
	add_row(b4, ROW("6", "f-null", NULL)); /* NULL cursor loses to a set one */
	int64_t v4 = 4;
	o.run_id = "run-3";
	assert_int_equal(load(wh, "m", s, &o, &b4, &v4, 1, &res, &err), 0);
	assert_int_equal(res.rows_stale, 2);

	char *rows = query_rows(wh, "SELECT id, v, updated_at FROM \"raw\".\"m\" ORDER BY id", s);
	assert_string_equal(rows, "1|a2-again|2024-01-01 00:00:20\n"
				  "2|b2|2024-01-01 00:00:30\n"
				  "3|c2-tie|2024-01-01 00:00:05\n"
				  "4|d0|2024-01-01 00:00:02\n"
				  "5|e1|NULL\n"
				  "6|f2|2024-01-01 00:00:07\n");
	sl_free(rows);

	/* A rerun of an already loaded version changes nothing. */
	assert_int_equal(load(wh, "m", s, &o, &b4, &v4, 1, &res, &err), 0);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"m\"", "6");

	int64_t lv = 0;
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "m", &lv, &err), 0);
	assert_int_equal(lv, 4);
	sl_batch_free(b1);
	sl_batch_free(b2);
	sl_batch_free(b3);
	sl_batch_free(b4);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_merge_without_cursor_latest_row_wins(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"k1:string", "k2:int32", "v:int64", NULL});
	const char *pk[] = {"k1", "k2"};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 2;
	sl_batch *b1 = mk_batch(s), *b2 = mk_batch(s);
	add_row(b1, ROW("a", "1", "10"));
	add_row(b1, ROW("a", "2", "20"));
	add_row(b2, ROW("a", "1", "11"));
	add_row(b1, ROW("b", "1", "30"));
	sl_batch *bs[] = {b2, b1}; /* version 7 listed first: version decides */
	int64_t vs[] = {7, 6};
	assert_int_equal(load(wh, "mk", s, &o, bs, vs, 2, NULL, &err), 0);
	char *rows = query_rows(wh, "SELECT k1, k2, v FROM \"raw\".\"mk\" ORDER BY k1, k2", s);
	assert_string_equal(rows, "a|1|11\na|2|20\nb|1|30\n");
	sl_free(rows);
	sl_batch_free(b1);
	sl_batch_free(b2);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_merge_null_key_is_an_error_and_loads_nothing(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema(merge_cols);
	const char *pk[] = {"id"};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	sl_batch *b = mk_batch(s);
	add_row(b, ROW("1", "x", NULL));
	add_row(b, ROW(NULL, "y", NULL));
	int64_t v = 1;
	assert_int_equal(load(wh, "nk", s, &o, &b, &v, 1, NULL, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "load raw.nk: 1 rows have a NULL in the primary "
					    "key (\"id\")"));
	bool exists = true;
	assert_int_equal(sl_wh_table_exists(wh, "raw", "nk", &exists, &err), 0);
	assert_false(exists); /* the whole load, creation included, rolled back */

	o.primary_key = (const char *[]){"nope"};
	assert_int_equal(load(wh, "nk", s, &o, &b, &v, 1, NULL, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "primary key column \"nope\" is not a column"));
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_replace_swaps_all_rows_or_none(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"id:int32", "name:string", NULL});
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_wh_load_result res;
	sl_batch *b1 = mk_batch(s), *b2 = mk_batch(s);
	int64_t v1 = 1, v2 = 2;
	add_row(b1, ROW("1", "a"));
	add_row(b1, ROW("2", "b"));
	add_row(b1, ROW("3", "c"));
	add_row(b2, ROW("7", "x"));
	add_row(b2, ROW("8", "y"));
	assert_int_equal(load(wh, "r", s, &o, &b1, &v1, 1, NULL, &err), 0);
	o.write = SL_WH_REPLACE;
	assert_int_equal(load(wh, "r", s, &o, &b2, &v2, 1, &res, &err), 0);
	assert_int_equal(res.rows_replaced, 3);
	assert_int_equal(res.rows_inserted, 2);
	char *rows = query_rows(wh, "SELECT id, name FROM \"raw\".\"r\" ORDER BY id", s);
	assert_string_equal(rows, "7|x\n8|y\n");
	sl_free(rows);

	/* An aborted replace leaves the previous rows. */
	sl_wh_table_load *t = NULL;
	assert_int_equal(sl_wh_table_load_begin(&t, wh, "raw", "r", s, &o, &err), 0);
	assert_int_equal(sl_wh_table_load_batch(t, b1, 3, &err), 0);
	sl_wh_table_load_abort(t);
	assert_false(sl_wh_in_transaction(wh));
	rows = query_rows(wh, "SELECT id, name FROM \"raw\".\"r\" ORDER BY id", s);
	assert_string_equal(rows, "7|x\n8|y\n");
	sl_free(rows);
	int64_t lv;
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "r", &lv, &err), 0);
	assert_int_equal(lv, 2);
	sl_batch_free(b1);
	sl_batch_free(b2);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_schema_evolution_adds_nullable_columns(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s1 = mk_schema((const char *const[]){"id:int64", "a:int32", NULL});
	sl_schema *s2 = mk_schema((const char *const[]){"id:int64", "a:int32", "b:string",
							"c:decimal(10,2)", NULL});
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_wh_load_result res;
	sl_batch *b1 = mk_batch(s1), *b2 = mk_batch(s2);
	int64_t v1 = 1, v2 = 2;
	add_row(b1, ROW("1", "10"));
	add_row(b2, ROW("2", "20", "new", "1.50"));
	assert_int_equal(load(wh, "evo", s1, &o, &b1, &v1, 1, NULL, &err), 0);
	assert_int_equal(load(wh, "evo", s2, &o, &b2, &v2, 1, &res, &err), 0);
	assert_false(res.table_created);
	char *rows = query_rows(wh, "SELECT id, a, b, c FROM \"raw\".\"evo\" ORDER BY id", s2);
	assert_string_equal(rows, "1|10|NULL|NULL\n2|20|new|1.50\n");
	sl_free(rows);

	/* Old batches (fewer columns) still load: missing columns get NULL. */
	assert_int_equal(load(wh, "evo", s1, &o, &b1, &v2, 1, NULL, &err), 0);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"evo\" WHERE b IS NULL", "2");
	sl_schema_free(s1);
	sl_batch_free(b1);
	sl_batch_free(b2);
	sl_schema_free(s2);
	sl_wh_close(wh);
}

static void test_incompatible_type_change_names_table_column_types(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s1 = mk_schema((const char *const[]){"id:int32", "amount:decimal(10,2)", NULL});
	sl_schema *s2 = mk_schema((const char *const[]){"id:int32", "amount:string", NULL});
	sl_schema *s3 = mk_schema((const char *const[]){"id:int32", "amount:decimal(8,2)",
							"extra:bool", NULL});
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_batch *b1 = mk_batch(s1), *b2 = mk_batch(s2), *b3 = mk_batch(s3);
	int64_t v = 1;
	add_row(b1, ROW("1", "12345678.90"));
	add_row(b2, ROW("2", "lots"));
	add_row(b3, ROW("3", "1.25", "true"));
	assert_int_equal(load(wh, "orders", s1, &o, &b1, &v, 1, NULL, &err), 0);
	v = 2;
	assert_int_equal(load(wh, "orders", s2, &o, &b2, &v, 1, NULL, &err), SL_EINVAL);
	assert_non_null(strstr(err.message,
			       "table raw.orders: column \"amount\" is decimal(10,2) in the "
			       "warehouse but string in the lake; declare the column as "
			       "decimal(10,2)"));
	assert_false(sl_wh_in_transaction(wh));
	int64_t lv;
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "orders", &lv, &err), 0);
	assert_int_equal(lv, 1);
	/* A narrower decimal fits; the new column is added. */
	v = 3;
	assert_int_equal(load(wh, "orders", s3, &o, &b3, &v, 1, NULL, &err), 0);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"orders\"", "2");
	sl_schema *got = NULL;
	assert_int_equal(sl_wh_describe(wh, "raw", "orders", &got, &err), 0);
	assert_int_equal(got->nfields, 3);
	assert_true(sl_type_equal(got->fields[1].type, sl_type_decimal(10, 2)));
	assert_true(sl_type_equal(got->fields[2].type, sl_type_make(SL_BOOL)));
	sl_schema_free(got);
	assert_int_equal(sl_wh_describe(wh, "raw", "nothere", &got, &err), SL_ENOTFOUND);
	assert_null(got);
	sl_batch_free(b1);
	sl_batch_free(b2);
	sl_batch_free(b3);
	sl_schema_free(s1);
	sl_schema_free(s2);
	sl_schema_free(s3);
	sl_wh_close(wh);
}

static void test_injection_looking_names_are_just_names(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	const char *evil = "a\"; DROP TABLE x; --";
	sl_schema *s = sl_schema_new();
	assert_int_equal(sl_schema_add(s, "id", sl_type_make(SL_INT32), true), 0);
	assert_int_equal(sl_schema_add(s, evil, sl_type_make(SL_STRING), true), 0);
	assert_int_equal(sl_wh_exec(wh, "CREATE TABLE \"raw\".\"x\" (k integer)", &err), 0);
	const char *pk[] = {evil};
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	o.write = SL_WH_MERGE;
	o.primary_key = pk;
	o.nprimary_key = 1;
	o.cursor = "id";
	o.run_id = "r'; DROP TABLE x; --";
	sl_batch *b = mk_batch(s);
	add_row(b, ROW("1", "'); DROP TABLE x; --"));
	int64_t v = 1;
	assert_int_equal(load(wh, "evil\"; DROP TABLE x; --", s, &o, &b, &v, 1, NULL, &err), 0);

	bool exists = false;
	assert_int_equal(sl_wh_table_exists(wh, "raw", "x", &exists, &err), 0);
	assert_true(exists);
	sl_schema *got = NULL;
	assert_int_equal(sl_wh_describe(wh, "raw", "evil\"; DROP TABLE x; --", &got, &err), 0);
	assert_int_equal(got->nfields, 2);
	assert_string_equal(got->fields[1].name, evil);
	sl_schema_free(got);
	assert_value(wh, "SELECT \"a\"\"; DROP TABLE x; --\" FROM \"raw\".\"evil\"\"; DROP TABLE x; --\"",
		     "'); DROP TABLE x; --");
	assert_value(wh, "SELECT run_id FROM \"raw\".\"_sluice_loads\"", "r'; DROP TABLE x; --");

	/* A name that cannot be an identifier is an error naming it. */
	sl_buf q = SL_BUF_INIT;
	assert_int_equal(sl_wh_quote_ident(wh, &q, "", &err), SL_EINVAL);
	assert_int_equal(sl_wh_quote_ident(wh, &q, "bad\xff", &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "is not valid UTF-8"));
	sl_buf_free(&q);
	sl_batch_free(b);
	sl_schema_free(s);
	sl_wh_close(wh);
}

static void test_loads_bookkeeping_per_lake_version(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = mk_schema((const char *const[]){"id:int32", NULL});
	sl_schema *ls = mk_schema((const char *const[]){"lake_version:int64", "run_id:string",
							"rows:int64", NULL});
	sl_wh_load_opts o = SL_WH_LOAD_OPTS_INIT;
	sl_batch *b3 = mk_batch(s), *b5 = mk_batch(s);
	add_row(b3, ROW("1"));
	add_row(b3, ROW("2"));
	add_row(b5, ROW("3"));
	int64_t lv = 0;
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "bk", &lv, &err), 0);
	assert_int_equal(lv, -1);

	sl_batch *bs[] = {b3, b5, b3};
	int64_t vs[] = {3, 5, 3};
	o.run_id = "run-1";
	assert_int_equal(load(wh, "bk", s, &o, bs, vs, 3, NULL, &err), 0);
	/* A run whose new lake versions hold no rows still records them. */
	o.run_id = "run-2";
	o.lake_version = 8;
	assert_int_equal(load(wh, "bk", s, &o, NULL, NULL, 0, NULL, &err), 0);
	char *rows = query_rows(wh,
				"SELECT lake_version, run_id, rows FROM \"raw\".\"_sluice_loads\" "
				"WHERE table_name = 'bk' ORDER BY lake_version",
				ls);
	assert_string_equal(rows, "3|run-1|4\n5|run-1|1\n8|run-2|0\n");
	sl_free(rows);
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "bk", &lv, &err), 0);
	assert_int_equal(lv, 8);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"_sluice_loads\" WHERE loaded_at IS NULL",
		     "0");

	/* A load that fails at commit records nothing. */
	sl_wh_table_load *t = NULL;
	o.run_id = "run-3";
	o.lake_version = -1;
	assert_int_equal(sl_wh_table_load_begin(&t, wh, "raw", "bk", s, &o, &err), 0);
	assert_int_equal(sl_wh_table_load_batch(t, b5, 9, &err), 0);
	sl_wh_table_load_abort(t);
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "bk", &lv, &err), 0);
	assert_int_equal(lv, 8);
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"bk\"", "5");

	/* By lake table id: loads recorded without an id count as anyone's;
	 * loads of another id are reported, not counted. */
	bool other = true;
	assert_int_equal(sl_wh_loaded_version_of(wh, "raw", "nobk", "id-a", &lv, &other, &err), 0);
	assert_int_equal(lv, -1);
	assert_false(other);
	assert_int_equal(sl_wh_loaded_version_of(wh, "raw", "bk", "id-a", &lv, &other, &err), 0);
	assert_int_equal(lv, 8);
	assert_false(other);
	o.run_id = "run-4";
	o.lake_version = 10;
	o.lake_table_id = "id-b";
	assert_int_equal(load(wh, "bk", s, &o, NULL, NULL, 0, NULL, &err), 0);
	assert_int_equal(sl_wh_loaded_version_of(wh, "raw", "bk", "id-a", &lv, &other, &err), 0);
	assert_int_equal(lv, 8);
	assert_true(other);
	assert_int_equal(sl_wh_loaded_version_of(wh, "raw", "bk", "id-b", &lv, &other, &err), 0);
	assert_int_equal(lv, 10);
	assert_false(other);
	assert_int_equal(sl_wh_loaded_version(wh, "raw", "bk", &lv, &err), 0);
	assert_int_equal(lv, 10);
	sl_batch_free(b3);
	sl_batch_free(b5);
	sl_schema_free(s);
	sl_schema_free(ls);
	sl_wh_close(wh);
}

typedef struct count_ctx {
	int rows;
	int stop_after;
	sl_buf seen;
} count_ctx;

static int count_row(void *ud, int ncols, const char *const *names,
		     const char *const *values, sl_error *err)
{
	count_ctx *c = ud;
	sl_buf_printf(&c->seen, "%s=%s;", names[0], values[0] ? values[0] : "NULL");
	c->rows++;
	return c->stop_after && c->rows >= c->stop_after ? 1 : 0;
}

static void test_query_streams_rows_and_stops_early(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	char *v = NULL;
	assert_int_equal(sl_wh_exec(wh, "CREATE TABLE \"raw\".\"q\" (n integer)", &err), 0);
	int64_t changes = 0;
	assert_int_equal(sl_wh_exec_count(wh, "INSERT INTO \"raw\".\"q\" VALUES (1), (2), (3)",
					  &changes, &err), 0);
	assert_int_equal(changes, 3);
	count_ctx c = {0, 0, SL_BUF_INIT};
	assert_int_equal(sl_wh_query(wh, "SELECT n AS a FROM \"raw\".\"q\" ORDER BY n; "
					 "SELECT 'x' AS b", count_row, &c, &err), 0);
	assert_string_equal(c.seen.data, "a=1;a=2;a=3;b=x;");
	c.rows = 0;
	c.stop_after = 2;
	sl_buf_reset(&c.seen);
	assert_int_equal(sl_wh_query(wh, "SELECT n AS a FROM \"raw\".\"q\" ORDER BY n",
				     count_row, &c, &err), 0);
	assert_string_equal(c.seen.data, "a=1;a=2;");
	sl_buf_free(&c.seen);
	assert_int_equal(sl_wh_query_value(wh, "SELECT n FROM \"raw\".\"q\" ORDER BY n DESC", &v,
					   &err), 0);
	assert_string_equal(v, "3");
	sl_free(v);
	assert_int_equal(sl_wh_query_value(wh, "SELECT NULL", &v, &err), 0);
	assert_null(v);
	assert_int_not_equal(sl_wh_exec(wh, "SELECT * FROM \"raw\".\"nope\"", &err), 0);
	assert_int_equal(err.code, SL_EDB);
	assert_non_null(strstr(err.message, "nope"));
	/* The connection is usable after an error. */
	assert_value(wh, "SELECT count(*) FROM \"raw\".\"q\"", "3");
	char *raw = sl_wh_raw_table_name("shop_db", "orders");
	assert_string_equal(raw, "shop_db__orders");
	sl_free(raw);
	sl_wh_close(wh);
}

#define WH_SHARED_TESTS                                                        \
	cmocka_unit_test(test_every_type_round_trips_with_nulls),              \
	cmocka_unit_test(test_raw_loader_in_caller_transaction),               \
	cmocka_unit_test(test_merge_latest_cursor_wins_across_runs),           \
	cmocka_unit_test(test_merge_without_cursor_latest_row_wins),           \
	cmocka_unit_test(test_merge_null_key_is_an_error_and_loads_nothing),   \
	cmocka_unit_test(test_replace_swaps_all_rows_or_none),                 \
	cmocka_unit_test(test_schema_evolution_adds_nullable_columns),         \
	cmocka_unit_test(test_incompatible_type_change_names_table_column_types), \
	cmocka_unit_test(test_injection_looking_names_are_just_names),         \
	cmocka_unit_test(test_loads_bookkeeping_per_lake_version),             \
	cmocka_unit_test(test_query_streams_rows_and_stops_early)

#endif
