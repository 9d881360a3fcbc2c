/*
 * test_pg_source.c: the postgres extractor against a real server. Needs
 * env SL_TEST_PG (a conninfo); SL_TEST_PG=skip skips every test. Each run
 * works in a fresh schema that it drops at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/pg_int.h"

static const char *conninfo;
static bool skip_all;
static char schema[64];

static void sql(const char *q)
{
	PGconn *c = PQconnectdb(conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	char set[128];
	snprintf(set, sizeof set, "SET search_path = %s; SET TimeZone = 'UTC'", schema);
	PQclear(PQexec(c, set));
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static int group_setup(void **state)
{
	(void)state;
	conninfo = getenv("SL_TEST_PG");
	if (conninfo && strcmp(conninfo, "skip") == 0) {
		skip_all = true;
		return 0;
	}
	if (!conninfo || !*conninfo) {
		fprintf(stderr, "test_pg_source: set SL_TEST_PG to a conninfo "
				"(e.g. \"host=/tmp/pgsrc port=55433 user=postgres\") or to skip\n");
		return -1;
	}
	char hex[17];
	sl_random_hex(hex, 8);
	snprintf(schema, sizeof schema, "sl_pgtest_%s", hex);
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test_pg_source: cannot connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	char q[128];
	snprintf(q, sizeof q, "CREATE SCHEMA %s", schema);
	PQclear(PQexec(c, q));
	PQfinish(c);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (skip_all || !conninfo)
		return 0;
	char q[128];
	snprintf(q, sizeof q, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE",
		 schema);
	PGconn *c = PQconnectdb(conninfo);
	PQclear(PQexec(c, q));
	PQfinish(c);
	return 0;
}

/* SL_TEST_PG=skip runs no test at all (main returns early). */
#define SKIP_IF_NEEDED() assert_false(skip_all)

/* A hand-built source with one table. */
typedef struct fixture {
	sl_source src;
	sl_source_table t;
	sl_pg_source_opts so;
	sl_pg_opts o;
	sl_kv cols[8];
	char *pk[2];
	sl_extract_opts opts;
	char wm[64];       /* the watermark the "engine" keeps between runs */
} fixture;

static void fixture_init(fixture *f, const char *table)
{
	memset(f, 0, sizeof *f);
	f->src.name = "db";
	f->src.kind = sl_source_kind_find("postgres");
	f->src.opts = &f->so;
	f->t.opts = &f->o;
	f->src.file = "sources/db.yml";
	f->so.connection = (char *)conninfo;
	f->src.ntables = 1;
	f->src.tables = &f->t;
	f->t.name = (char *)table;
	f->t.line = 7;
	f->o.schema_name = schema;
	f->opts.batch_rows = 1000;
}

static void set_pk(fixture *f, const char *col)
{
	f->pk[0] = (char *)col;
	f->t.primary_key = f->pk;
	f->t.nprimary_key = 1;
}

/* Renders every row as "v1|v2|..." lines (NULL as \N) into out. */
static int64_t drain(sl_extractor *x, sl_buf *out, int *nbatches)
{
	sl_error err = SL_ERROR_INIT;
	sl_batch *b;
	int rc;
	int64_t rows = 0;
	if (nbatches)
		*nbatches = 0;
	while ((rc = sl_extractor_next(x, &b, &err)) == 1) {
		if (nbatches)
			(*nbatches)++;
		for (int64_t r = 0; r < b->nrows; r++) {
			for (int c = 0; c < b->ncols; c++) {
				if (c)
					sl_buf_putc(out, '|');
				if (sl_column_is_null(&b->cols[c], r))
					sl_buf_puts(out, "\\N");
				else
					sl_column_format_value(&b->cols[c], r, out);
			}
			sl_buf_putc(out, '\n');
		}
		rows += b->nrows;
	}
	if (rc < 0)
		fail_msg("next: %s", err.message);
	return rows;
}

static void type_of(const sl_schema *s, const char *name, const char *want)
{
	int i = sl_schema_find(s, name);
	char tn[32];
	if (i < 0)
		fail_msg("no column %s", name);
	assert_string_equal(sl_type_name(s->fields[i].type, tn, sizeof tn), want);
}

static void test_pg_types_map_to_sluice_types(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE types (i2 int2, i4 int4 NOT NULL, i8 int8, n numeric(10,2), "
	    "nu numeric, r real, d double precision, t text, v varchar(5), c char(3), b bool, "
	    "dt date, ts timestamp, tz timestamptz, u uuid, j json, jb jsonb, ai int[], "
	    "at text[])");
	sql("INSERT INTO types VALUES (-2, 4, 9000000000, 12345678.91, 1.5, 0.5, 0.1, "
	    "'tab\there', 'abc', 'x', true, '2024-02-29', '2024-01-02 03:04:05.123456', "
	    "'2024-01-02 03:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
	    "'{\"a\": 1}', '{\"b\": [1, 2]}', '{1,2,3}', '{\"a b\",c,NULL}'), "
	    "(NULL, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	    "NULL, NULL, NULL, NULL, NULL)");
	fixture f;
	fixture_init(&f, "types");
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err);
	if (rc < 0)
		fail_msg("open: %s", err.message);
	const sl_schema *s = x->schema;
	assert_int_equal(s->nfields, 19);
	type_of(s, "i2", "int32");
	type_of(s, "i4", "int32");
	type_of(s, "i8", "int64");
	type_of(s, "n", "decimal(10,2)");
	type_of(s, "nu", "decimal(38,9)");
	type_of(s, "r", "float64");
	type_of(s, "d", "float64");
	type_of(s, "t", "string");
	type_of(s, "v", "string");
	type_of(s, "c", "string");
	type_of(s, "b", "bool");
	type_of(s, "dt", "date");
	type_of(s, "ts", "timestamp");
	type_of(s, "tz", "timestamp");
	type_of(s, "u", "string");
	type_of(s, "j", "string");
	type_of(s, "jb", "string");
	type_of(s, "ai", "string");
	type_of(s, "at", "string");
	assert_false(s->fields[1].nullable);
	assert_true(s->fields[0].nullable);

	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 2);
	assert_string_equal(out.data,
			    "-2|4|9000000000|12345678.91|1.500000000|0.5|0.1|tab\there|abc|x  |true|"
			    "2024-02-29|2024-01-02 03:04:05.123456|2024-01-02 01:04:05|"
			    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": 1}|{\"b\": [1, 2]}|[1,2,3]|"
			    "[\"a b\",\"c\",null]\n"
			    "\\N|5|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N|\\N\n");
	assert_int_equal(x->stats.rows_read, 2);
	assert_true(x->stats.bytes > 100);
	sl_buf_free(&out);
	sl_extractor_close(x);
}

static void test_pg_unsupported_type_names_column_or_casts_to_text(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE odd (id int, span interval)");
	sql("INSERT INTO odd VALUES (1, '1 day 2 hours')");
	fixture f;
	fixture_init(&f, "odd");
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_null(x);
	assert_non_null(strstr(err.message, "sources/db.yml:7:"));
	assert_non_null(strstr(err.message, "column \"span\" has type interval"));
	assert_non_null(strstr(err.message, "cast_unsupported_to_text"));

	f.o.cast_unsupported_to_text = true;
	sl_error_clear(&err);
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	type_of(x->schema, "span", "string");
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 1);
	assert_string_equal(out.data, "1|P1DT2H\n");
	sl_buf_free(&out);
	sl_extractor_close(x);
}

static void test_pg_declared_columns_override_types(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE decl (id int, amount numeric, code int)");
	sql("INSERT INTO decl VALUES (1, 3.14159265358979, 42)");
	fixture f;
	fixture_init(&f, "decl");
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	/* numeric without typmod is decimal(38,9): 14 decimals do not fit. */
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	sl_batch *b;
	assert_int_equal(sl_extractor_next(x, &b, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "column \"amount\" (numeric)"));
	assert_non_null(strstr(err.message, "'3.14159265358979' is not a valid decimal(38,9)"));
	sl_extractor_close(x);

	f.cols[0] = (sl_kv){"amount", "decimal(20,14)", 9};
	f.cols[1] = (sl_kv){"code", "string", 10};
	f.t.columns.n = 2;
	f.t.columns.items = f.cols;
	sl_error_clear(&err);
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	type_of(x->schema, "amount", "decimal(20,14)");
	type_of(x->schema, "code", "string");
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 1);
	assert_string_equal(out.data, "1|3.14159265358979|42\n");
	sl_buf_free(&out);
	sl_extractor_close(x);

	f.cols[1] = (sl_kv){"nope", "string", 10};
	sl_error_clear(&err);
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "sources/db.yml:10: columns: \"nope\" is not a column"));
}

static void test_pg_keyset_pagination_returns_every_row_once(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE big (id int PRIMARY KEY, name text)");
	sql("INSERT INTO big SELECT g, 'n' || g FROM generate_series(1, 1000) g");
	fixture f;
	fixture_init(&f, "big");
	set_pk(&f, "id");
	f.opts.batch_rows = 7; /* chunks of 56 rows: 18 COPY statements */
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	sl_buf out = SL_BUF_INIT;
	int nb;
	assert_int_equal(drain(x, &out, &nb), 1000);
	assert_int_equal(nb, 143);
	assert_int_equal(x->stats.requests, 18);
	/* In key order, each exactly once. */
	const char *p = out.data;
	for (int i = 1; i <= 1000; i++) {
		char line[32];
		int n = snprintf(line, sizeof line, "%d|n%d\n", i, i);
		assert_memory_equal(p, line, (size_t)n);
		p += n;
	}
	assert_int_equal(*p, '\0');
	sl_buf_free(&out);
	sl_source_progress prog = {0};
	assert_int_equal(sl_extractor_progress(x, &prog, &err), 0);
	assert_null(prog.watermark); /* no cursor */
	assert_int_equal(prog.nfiles, 0);
	sl_extractor_close(x);
}

static void test_pg_composite_key_and_quoted_identifiers(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE \"we\"\"ird Table\" (\"select\" text, \"Part\" int, v text, "
	    "PRIMARY KEY (\"select\", \"Part\"))");
	sql("INSERT INTO \"we\"\"ird Table\" SELECT 'k''' || (g % 3), g, E'a\\\\b\\nc' "
	    "FROM generate_series(1, 30) g");
	fixture f;
	fixture_init(&f, "we\"ird Table");
	f.pk[0] = "select";
	f.pk[1] = "Part";
	f.t.primary_key = f.pk;
	f.t.nprimary_key = 2;
	f.opts.batch_rows = 1; /* chunks of 8 */
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 30);
	const char *head = "k'0|3|a\\b\nc\nk'0|6|";
	assert_memory_equal(out.data, head, strlen(head));
	int lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	assert_int_equal(lines, 60); /* each value holds one newline */
	sl_buf_free(&out);
	sl_extractor_close(x);
}

static void test_pg_query_source_with_cursor_first_run_reads_all(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE ev (id int, updated_at timestamptz, qty int)");
	sql("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00+00', 2), "
	    "(2, '2024-01-03 10:00:00+00', 3), (3, NULL, 4), (4, '2024-01-02 00:00:00+00', 5)");
	fixture f;
	fixture_init(&f, "ev_q");
	char q[256];
	snprintf(q, sizeof q, "SELECT id, updated_at, qty * 10 AS qty10 FROM %s.ev;", schema);
	f.o.query = q;
	f.t.cursor = "updated_at";
	f.o.lookback_micros = 2 * 3600 * SL_MICROS_PER_SEC;
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	type_of(x->schema, "qty10", "int32");
	assert_non_null(strstr(x->description, "first run"));
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 4);
	assert_non_null(strstr(out.data, "3|\\N|40\n"));
	/* The progress is the largest cursor read. */
	sl_source_progress prog = {0};
	assert_int_equal(sl_extractor_progress(x, &prog, &err), 0);
	assert_string_equal(prog.watermark, "2024-01-03 10:00:00");
	sl_source_progress_clear(&prog);
	sl_buf_free(&out);
	sl_extractor_close(x);

	f.t.cursor = "qty10_missing";
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "cursor \"qty10_missing\" is not a column"));
}

/*
 * Runs one extraction from the fixture's watermark and keeps the one its
 * typed progress returns, as the engine does; returns the rows as text.
 */
static int64_t run_once(fixture *f, sl_buf *out)
{
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_source_progress prog = {0};
	sl_buf_reset(out);
	f->opts.watermark = f->wm[0] ? f->wm : NULL;
	if (sl_postgres_source_open(&x, &f->src, &f->t, &f->opts, &err) < 0)
		fail_msg("open: %s", err.message);
	int64_t n = drain(x, out, NULL);
	if (sl_extractor_progress(x, &prog, &err) < 0)
		fail_msg("progress: %s", err.message);
	if (prog.watermark)
		snprintf(f->wm, sizeof f->wm, "%s", prog.watermark);
	sl_source_progress_clear(&prog);
	sl_extractor_close(x);
	return n;
}

static void test_pg_incremental_watermark_lookback_and_full_refresh(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sl_error err = SL_ERROR_INIT;
	sql("CREATE TABLE inc (id int PRIMARY KEY, updated_at timestamptz, v text)");
	sql("INSERT INTO inc VALUES (1, '2024-05-01 10:00:00+00', 'a'), "
	    "(2, '2024-05-01 12:00:00+00', 'b'), (3, '2024-05-01 11:00:00+00', 'c')");
	fixture f;
	fixture_init(&f, "inc");
	set_pk(&f, "id");
	f.t.cursor = "updated_at";
	f.o.lookback_micros = 2 * 3600 * SL_MICROS_PER_SEC;
	sl_buf out = SL_BUF_INIT;

	assert_int_equal(run_once(&f, &out), 3);
	assert_string_equal(f.wm, "2024-05-01 12:00:00");

	/* An update, a new row, a late row inside the 2h lookback (10:30) and
	 * one outside it (09:00, lost by design: lookback is the contract). */
	sql("UPDATE inc SET v = 'b2', updated_at = '2024-05-01 13:00:00+00' WHERE id = 2");
	sql("INSERT INTO inc VALUES (4, '2024-05-01 13:30:00+00', 'd'), "
	    "(5, '2024-05-01 10:30:00+00', 'late'), (6, '2024-05-01 09:00:00+00', 'old')");
	assert_int_equal(run_once(&f, &out), 4); /* 2, 3 (11:00 > 10:00), 4, 5 */
	assert_non_null(strstr(out.data, "2|2024-05-01 13:00:00|b2\n"));
	assert_non_null(strstr(out.data, "5|2024-05-01 10:30:00|late\n"));
	assert_null(strstr(out.data, "old"));
	assert_string_equal(f.wm, "2024-05-01 13:30:00");

	/* Nothing new: only the lookback window is re-read; the watermark
	 * does not move back. */
	assert_int_equal(run_once(&f, &out), 2); /* 13:00 and 13:30 > 11:30 */
	assert_string_equal(f.wm, "2024-05-01 13:30:00");

	f.opts.full_refresh = true;
	assert_int_equal(run_once(&f, &out), 6);
	sl_buf_free(&out);

	/* A watermark that is not a timestamp says how to recover. */
	f.opts.watermark = "garbage";
	f.opts.full_refresh = false;
	sl_extractor *x = NULL;
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "--full-refresh"));
}

static void test_pg_bad_connection_error_hides_password(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	fixture f;
	fixture_init(&f, "x");
	f.so.connection = "host=/nonexistent-dir port=1 user=u password=hunter2 connect_timeout=2";
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_EDB);
	assert_non_null(strstr(err.message, "postgres source db.x: connecting:"));
	assert_null(strstr(err.message, "hunter2"));
	f.so.connection = NULL;
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "connection is missing"));
}

static void test_pg_missing_table_is_an_error(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	fixture f;
	fixture_init(&f, "no_such_table");
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err), SL_EDB);
	assert_non_null(strstr(err.message, "no_such_table"));
	assert_non_null(strstr(err.message, "does not exist"));
}

/* where: is the user's SQL condition, with the run's logical date
 * rendered, ANDed to the extraction (also to keyset chunks and cursors). */
static void test_pg_where_condition_with_logical_date(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	sql("CREATE TABLE daily (id int PRIMARY KEY, day date, v text)");
	sql("INSERT INTO daily SELECT g, date '2024-03-01' + (g % 5), 'v' || g "
	    "FROM generate_series(1, 100) g");
	fixture f;
	fixture_init(&f, "daily");
	set_pk(&f, "id");
	f.o.where = "day = '{{ ds }}' OR id = 1";
	f.opts.ds = "2024-03-03"; /* g % 5 == 2: 20 rows, and id 1 */
	f.opts.batch_rows = 2;    /* keyset chunks of 16 */
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(x, &out, NULL), 21);
	assert_non_null(strstr(out.data, "1|2024-03-02|v1\n"));
	assert_non_null(strstr(out.data, "97|2024-03-03|v97\n"));
	sl_buf_free(&out);
	sl_extractor_close(x);

	/* With a cursor: both conditions hold. */
	fixture_init(&f, "daily");
	f.t.cursor = "id";
	f.o.where = "day = '{{ds}}'";
	f.opts.ds = "2024-03-03";
	f.opts.watermark = "90";
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	assert_int_equal(drain(x, &out, NULL), 2); /* 92 and 97 */
	sl_buf_free(&out);
	sl_extractor_close(x);
}

/* A statement the server is still running when the task's deadline
 * passes is cancelled at the server, and the extraction times out. */
static void test_pg_slow_query_times_out_and_is_cancelled(void **state)
{
	(void)state;
	SKIP_IF_NEEDED();
	fixture f;
	fixture_init(&f, "slow");
	f.o.query = "SELECT 1 AS a FROM pg_sleep(60)";
	sl_cancel token;
	sl_cancel_init(&token, NULL);
	sl_cancel_set_timeout(&token, 0.5);
	f.opts.cancel = &token;
	sl_extractor *x = NULL;
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_postgres_source_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	assert_int_equal(sl_extractor_next(x, &b, &err), SL_ETIMEOUT);
	assert_string_equal(err.message, "postgres source db.slow: timed out");
	sl_extractor_close(x);
}

int main(void)
{
	const char *pg = getenv("SL_TEST_PG");
	if (pg && strcmp(pg, "skip") == 0) {
		printf("# SKIP test_pg_source: SL_TEST_PG=skip\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_types_map_to_sluice_types),
		cmocka_unit_test(test_pg_unsupported_type_names_column_or_casts_to_text),
		cmocka_unit_test(test_pg_declared_columns_override_types),
		cmocka_unit_test(test_pg_keyset_pagination_returns_every_row_once),
		cmocka_unit_test(test_pg_composite_key_and_quoted_identifiers),
		cmocka_unit_test(test_pg_query_source_with_cursor_first_run_reads_all),
		cmocka_unit_test(test_pg_incremental_watermark_lookback_and_full_refresh),
		cmocka_unit_test(test_pg_bad_connection_error_hides_password),
		cmocka_unit_test(test_pg_missing_table_is_an_error),
		cmocka_unit_test(test_pg_slow_query_times_out_and_is_cancelled),
		cmocka_unit_test(test_pg_where_condition_with_logical_date),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
