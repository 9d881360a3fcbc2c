/*
 * postgres.c: the PostgreSQL warehouse adapter (libpq). Bulk loads stream
 * COPY ... FROM STDIN (FORMAT binary) through PQputCopyData in 1 MiB
 * chunks; queries stream in single-row mode. Sessions run with
 * TimeZone=UTC and DateStyle=ISO, so timestamps read back as UTC text.
 */
#include "warehouse_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_CHUNK (1u << 20)
/* PostgreSQL's epoch is 2000-01-01. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_MICROS INT64_C(946684800000000)

typedef struct pg_wh {
	sl_wh base;
	PGconn *conn;
	PGcancel *cancel; /* made at connect, for sl_wh_interrupt */
} pg_wh;

typedef struct pg_load {
	sl_wh_bload base;
	sl_buf buf;
	bool in_copy;
	char *qtable;     /* for messages; sl_malloc'd */
} pg_load;

static PGconn *conn_of(sl_wh *wh) { return ((pg_wh *)wh)->conn; }

/* libpq messages end with a newline; keep them on one line. */
static const char *clean_msg(const char *m, char *out, size_t n)
{
	size_t o = 0;
	for (; m && *m && o + 1 < n; m++)
		out[o++] = (*m == '\n' || *m == '\t') ? ' ' : *m;
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

static int pg_error(sl_wh *wh, const PGresult *res, const char *sql, sl_error *err)
{
	char msg[700];
	const char *m = res ? PQresultErrorMessage(res) : NULL;
	if (!m || !*m)
		m = PQerrorMessage(conn_of(wh));
	clean_msg(m, msg, sizeof msg);
	if (PQstatus(conn_of(wh)) == CONNECTION_BAD)
		return sl_error_set(err, SL_ENET, "%s: connection lost: %s", wh->target, msg);
	if (sql)
		return sl_error_set(err, SL_EDB, "%s: %s (in: %.160s%s)", wh->target, msg, sql,
				    strlen(sql) > 160 ? "..." : "");
	return sl_error_set(err, SL_EDB, "%s: %s", wh->target, msg);
}

static int pg_exec(sl_wh *wh, const char *sql, int64_t *changes, sl_error *err)
{
	PGresult *res = PQexec(conn_of(wh), sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	else if (changes)
		*changes = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

/* Runs a parameterized statement with up to two text parameters. */
static PGresult *exec_params(sl_wh *wh, const char *sql, const char *p1, const char *p2)
{
	const char *params[2] = {p1, p2};
	return PQexecParams(conn_of(wh), sql, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
}

static void cancel(PGconn *c)
{
	char buf[256];
	PGcancel *k = PQgetCancel(c);
	if (k) {
		PQcancel(k, buf, sizeof buf);
		PQfreeCancel(k);
	}
}

static int pg_query(sl_wh *wh, const char *sql, bool one, sl_wh_row_fn fn, void *ud,
		    sl_error *err)
{
	PGconn *c = conn_of(wh);
	PGresult *res;
	const char **names = NULL, **values = NULL;
	int cap = 0, rc = 0;
	bool stopped = false;

	/* The extended protocol takes one statement only. */
	if (!(one ? PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0) : PQsendQuery(c, sql)))
		return pg_error(wh, NULL, sql, err);
	PQsetSingleRowMode(c);
	while ((res = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		bool rows = st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK;
		/* Single-row mode covers the first statement; later statements
		 * of a multi-statement query arrive whole. */
		for (int r = 0; rows && !stopped && rc == 0 && fn && r < PQntuples(res); r++) {
			int n = PQnfields(res);
			if (n > cap) {
				sl_free(names);
				sl_free(values);
				names = sl_calloc((size_t)n, sizeof *names);
				values = sl_calloc((size_t)n, sizeof *values);
				cap = n;
				if (!names || !values) {
					rc = sl_error_set(err, SL_ENOMEM, "out of memory");
					cap = 0;
					break;
				}
			}
			for (int i = 0; i < n; i++) {
				names[i] = PQfname(res, i);
				values[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
			}
			int x = fn(ud, n, names, values, err);
			if (x < 0)
				rc = x;
			else if (x > 0)
				stopped = true;
			if (x != 0)
				cancel(c); /* don't stream the rest only to drop it */
		}
		if (!rows && st != PGRES_COMMAND_OK && rc == 0 && !stopped)
			rc = pg_error(wh, res, sql, err);
		PQclear(res);
	}
	sl_free(names);
	sl_free(values);
	return rc;
}

static int pg_table_exists(sl_wh *wh, const char *schema, const char *table, bool *out,
			   sl_error *err)
{
	static const char sql[] =
		"SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		"ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
		"AND c.relkind IN ('r', 'v', 'm', 'p', 'f')";
	PGresult *res = exec_params(wh, sql, schema, table);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	else
		*out = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

static int pg_schema_exists(sl_wh *wh, const char *schema, bool *exists, sl_error *err)
{
	static const char sql[] = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1";
	PGresult *res = exec_params(wh, sql, schema, NULL);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	else
		*exists = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

static int pg_ensure_schema(sl_wh *wh, const char *schema, sl_error *err)
{
	bool exists = false;
	int rc = pg_schema_exists(wh, schema, &exists, err);
	if (rc < 0 || exists)
		return rc;
	/* Check existence first: CREATE SCHEMA IF NOT EXISTS needs the CREATE
	 * privilege even when the schema is there. */
	sl_buf q = SL_BUF_INIT;
	if (sl_buf_puts(&q, "CREATE SCHEMA IF NOT EXISTS ") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_wh_quote_ident(wh, &q, schema, err);
	if (rc == 0)
		rc = pg_exec(wh, q.data, NULL, err);
	sl_buf_free(&q);
	/* Loads running at once race to create it, and PostgreSQL fails the
	 * loser of IF NOT EXISTS with a duplicate key: there it is now. */
	if (rc == SL_EDB && !wh->in_tx) {
		sl_error e = SL_ERROR_INIT;
		if (pg_schema_exists(wh, schema, &exists, &e) == 0 && exists) {
			sl_error_clear(err);
			rc = 0;
		}
		sl_error_clear(&e);
	}
	return rc;
}

static sl_type pg_type_of(const char *typname, int typmod)
{
	if (!strcmp(typname, "bool"))
		return sl_type_make(SL_BOOL);
	if (!strcmp(typname, "int2") || !strcmp(typname, "int4"))
		return sl_type_make(SL_INT32);
	if (!strcmp(typname, "int8"))
		return sl_type_make(SL_INT64);
	if (!strcmp(typname, "float4") || !strcmp(typname, "float8"))
		return sl_type_make(SL_FLOAT64);
	if (!strcmp(typname, "numeric")) {
		if (typmod < 4) /* unconstrained numeric */
			return sl_type_decimal(SL_DECIMAL_MAX_PRECISION, 18);
		int p = ((typmod - 4) >> 16) & 0xffff, s = (typmod - 4) & 0xffff;
		if (p >= 1 && p <= SL_DECIMAL_MAX_PRECISION && s <= p)
			return sl_type_decimal(p, s);
		return sl_type_make(SL_STRING);
	}
	if (!strcmp(typname, "date"))
		return sl_type_make(SL_DATE);
	if (!strcmp(typname, "timestamptz") || !strcmp(typname, "timestamp"))
		return sl_type_make(SL_TIMESTAMP);
	return sl_type_make(SL_STRING);
}

static int pg_describe(sl_wh *wh, const char *schema, const char *table, sl_schema **out,
		       sl_error *err)
{
	static const char sql[] =
		"SELECT a.attname, t.typname, a.atttypmod, NOT a.attnotnull "
		"FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
		"WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 "
		"AND NOT a.attisdropped ORDER BY a.attnum";
	bool exists = false;
	int rc = pg_table_exists(wh, schema, table, &exists, err);
	*out = NULL;
	if (rc < 0 || !exists)
		return rc;
	PGresult *res = exec_params(wh, sql, schema, table);
	sl_schema *s = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_error(wh, res, sql, err);
		goto done;
	}
	s = sl_schema_new();
	if (!s)
		goto oom;
	for (int i = 0; i < PQntuples(res); i++) {
		sl_type ty = pg_type_of(PQgetvalue(res, i, 1), atoi(PQgetvalue(res, i, 2)));
		if (sl_schema_add(s, PQgetvalue(res, i, 0), ty, PQgetvalue(res, i, 3)[0] == 't') < 0)
			goto oom;
	}
	*out = s;
	s = NULL;
	goto done;
oom:
	rc = sl_error_set(err, SL_ENOMEM, "out of memory");
done:
	sl_schema_free(s);
	PQclear(res);
	return rc;
}

static const char *pg_type_sql(sl_type t, char *buf, size_t n)
{
	switch (t.id) {
	case SL_BOOL: snprintf(buf, n, "boolean"); break;
	case SL_INT32: snprintf(buf, n, "integer"); break;
	case SL_INT64: snprintf(buf, n, "bigint"); break;
	case SL_FLOAT64: snprintf(buf, n, "double precision"); break;
	case SL_DECIMAL: snprintf(buf, n, "numeric(%d,%d)", t.precision, t.scale); break;
	case SL_DATE: snprintf(buf, n, "date"); break;
	case SL_TIMESTAMP: snprintf(buf, n, "timestamptz"); break;
	default: snprintf(buf, n, "text"); break;
	}
	return buf;
}

/*
 * dbt-postgres's seed types: whole numbers integer (bigint when a value
 * does not fit, where dbt would fail), numbers with decimals double
 * precision (its float8), timestamps timestamp without time zone; the rest
 * as loaded.
 */
static const char *pg_seed_type(sl_type t, bool fits_int32, char *buf, size_t n)
{
	switch (t.id) {
	case SL_INT64: return fits_int32 ? snprintf(buf, n, "integer"), buf : NULL;
	case SL_FLOAT64:
	case SL_DECIMAL: snprintf(buf, n, "double precision"); return buf;
	case SL_TIMESTAMP: snprintf(buf, n, "timestamp without time zone"); return buf;
	default: return NULL;
	}
}

static int pg_quote_literal(sl_buf *out, const char *s)
{
	/* E'' reads the same whatever standard_conforming_strings says. */
	bool esc = strchr(s, '\\') != NULL;
	if (sl_buf_puts(out, esc ? "E'" : "'") < 0)
		return SL_ENOMEM;
	for (; *s; s++) {
		if ((*s == '\'' || (esc && *s == '\\')) && sl_buf_putc(out, *s) < 0)
			return SL_ENOMEM;
		if (sl_buf_putc(out, *s) < 0)
			return SL_ENOMEM;
	}
	return sl_buf_putc(out, '\'') < 0 ? SL_ENOMEM : 0;
}

static int pg_order_expr(sl_buf *out, const char *expr, sl_type t)
{
	return sl_buf_puts(out, expr) < 0 ? SL_ENOMEM : 0;
}

/* ------------------------------------------------------ materializations */

static int pg_relation_kind(sl_wh *wh, const char *schema, const char *name,
			    sl_wh_relation *out, sl_error *err)
{
	static const char sql[] =
		"SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		"ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
		"AND c.relkind IN ('r', 'p', 'v')";
	PGresult *res = exec_params(wh, sql, schema, name);
	int rc = 0;
	*out = SL_WH_REL_NONE;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	else if (PQntuples(res) > 0)
		*out = PQgetvalue(res, 0, 0)[0] == 'v' ? SL_WH_REL_VIEW : SL_WH_REL_TABLE;
	PQclear(res);
	return rc;
}

static int pg_columns(sl_wh *wh, const char *schema, const char *table, sl_wh_cols *out,
		      sl_error *err)
{
	static const char sql[] =
		"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
		"FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 "
		"AND NOT a.attisdropped ORDER BY a.attnum";
	PGresult *res = exec_params(wh, sql, schema, table);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		if (sl_wh_cols_add(out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)) < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	PQclear(res);
	return rc;
}

/* Views over schema.table, and views over those, that DROP ... CASCADE
 * takes with it: rewrite rules depending on the relation, followed. */
static int pg_dependent_views(sl_wh *wh, const char *schema, const char *table, sl_buf *out,
			      sl_error *err)
{
	static const char sql[] =
		"WITH RECURSIVE dep(oid) AS ("
		"SELECT r.ev_class FROM pg_catalog.pg_depend d "
		"JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
		"JOIN pg_catalog.pg_class c ON c.oid = d.refobjid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
		"AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
		"AND n.nspname = $1 AND c.relname = $2 AND r.ev_class <> c.oid "
		"UNION "
		"SELECT r.ev_class FROM dep JOIN pg_catalog.pg_depend d ON d.refobjid = dep.oid "
		"JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
		"WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
		"AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
		"AND r.ev_class <> dep.oid) "
		"SELECT n.nspname, c.relname FROM dep "
		"JOIN pg_catalog.pg_class c ON c.oid = dep.oid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY 1, 2";
	PGresult *res = exec_params(wh, sql, schema, table);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_error(wh, res, sql, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		if (i && sl_buf_puts(out, ", ") < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0)
			rc = sl_wh_quote_table(wh, out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
					       err);
	}
	PQclear(res);
	return rc;
}

/* The catalog (catalog.c) from pg_catalog: types as format_type names
 * them ("numeric(10,2)", "timestamp with time zone"), comments of columns
 * and relations, owners; materialized views count as views. */
static int pg_catalog_sql(sl_wh *wh, const char *const *schemas, int nschemas, sl_buf *sql,
			  sl_error *err)
{
	if (sl_buf_puts(sql,
			"SELECT n.nspname, c.relname, "
			"CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END, "
			"a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
			"pg_catalog.col_description(c.oid, a.attnum), "
			"pg_catalog.obj_description(c.oid, 'pg_class'), "
			"pg_catalog.pg_get_userbyid(c.relowner) "
			"FROM pg_catalog.pg_class c "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
			"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 "
			"AND NOT a.attisdropped AND n.nspname IN (") < 0)
		goto oom;
	for (int i = 0; i < nschemas; i++)
		if ((i && sl_buf_puts(sql, ", ") < 0) || pg_quote_literal(sql, schemas[i]) < 0)
			goto oom;
	if (sl_buf_puts(sql, ") ORDER BY 1, 2, 4") < 0)
		goto oom;
	return 0;
oom:
	sl_buf_reset(sql);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

static int pg_alter_type(sl_wh *wh, const char *qtable, const char *qcol, const char *type,
			 sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = 0;
	if (sl_buf_printf(&sql, "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s", qtable,
			  qcol, type, qcol, type) < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = pg_exec(wh, sql.data, NULL, err);
	sl_buf_free(&sql);
	return rc;
}

/* dbt's snapshot_get_time on PostgreSQL is a timestamp without time zone. */
static int pg_timestamp_literal(sl_buf *out, const char *ts)
{
	if (sl_buf_puts(out, "CAST(") < 0 || pg_quote_literal(out, ts) < 0 ||
	    sl_buf_puts(out, " AS timestamp)") < 0)
		return SL_ENOMEM;
	return 0;
}

/* ---------------------------------------------------- binary COPY loads */

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

/*
 * numeric's binary form: ndigits, weight, sign, dscale (int16 each), then
 * base-10000 digits, most significant first, aligned on the decimal point;
 * weight is the power of 10000 of the first digit. Leading and trailing
 * zero digits are left out. At most 10 + 10 digits for 38 decimal digits.
 */
static uint8_t *put_numeric(uint8_t *p, sl_i128 v, int scale)
{
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	unsigned __int128 pow = (unsigned __int128)sl_i128_pow10(scale);
	unsigned __int128 ip = u / pow, fp = u % pow;
	uint16_t ig[12], fg[12], d[24];
	int ni = 0, nf = (scale + 3) / 4, nd = 0, weight;

	if (nf) {
		int low = scale - (nf - 1) * 4; /* digits in the last group, 1..4 */
		unsigned __int128 m = (unsigned __int128)sl_i128_pow10(low);
		fg[nf - 1] = (uint16_t)((fp % m) * (unsigned)sl_i128_pow10(4 - low));
		fp /= m;
		for (int i = nf - 2; i >= 0; i--) {
			fg[i] = (uint16_t)(fp % 10000);
			fp /= 10000;
		}
	}
	while (ip) {
		ig[ni++] = (uint16_t)(ip % 10000);
		ip /= 10000;
	}
	for (int i = ni - 1; i >= 0; i--)
		d[nd++] = ig[i];
	for (int i = 0; i < nf; i++)
		d[nd++] = fg[i];
	weight = ni - 1;
	int first = 0;
	while (first < nd && d[first] == 0) {
		first++;
		weight--;
	}
	while (nd > first && d[nd - 1] == 0)
		nd--;
	nd -= first;
	if (nd == 0)
		weight = 0;
	p = put32(p, (uint32_t)(8 + 2 * nd));
	p = put16(p, (uint16_t)nd);
	p = put16(p, (uint16_t)(int16_t)weight);
	p = put16(p, nd && v < 0 ? 0x4000 : 0x0000);
	p = put16(p, (uint16_t)scale);
	for (int i = 0; i < nd; i++)
		p = put16(p, d[first + i]);
	return p;
}

static int copy_flush(pg_load *l, sl_error *err)
{
	if (l->buf.len == 0)
		return 0;
	if (PQputCopyData(conn_of(l->base.wh), l->buf.data, (int)l->buf.len) != 1) {
		pg_error(l->base.wh, NULL, NULL, err);
		return sl_error_prefix(err, "COPY into %s: ", l->qtable);
	}
	l->buf.len = 0;
	return 0;
}

static int pg_load_open(sl_wh_bload **out, sl_wh *wh, const char *qtable,
			const char *collist, const sl_schema *cols, bool order_cols,
			sl_error *err)
{
	static const uint8_t header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r',
					   '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
	pg_load *l = NULL;
	sl_buf sql = SL_BUF_INIT;
	int rc = sl_alloc_zeroed((void **)&l, sizeof *l, err);
	if (rc < 0)
		return rc;
	l->base.wh = wh;
	l->base.ncols = cols->nfields;
	l->base.order_cols = order_cols;
	l->qtable = sl_strdup(qtable);
	if (!l->qtable ||
	    sl_buf_printf(&sql, "COPY %s %s FROM STDIN (FORMAT binary)", qtable, collist) < 0 ||
	    sl_buf_reserve(&l->buf, COPY_CHUNK + 4096) < 0 ||
	    sl_buf_append(&l->buf, header, sizeof header) < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	PGresult *res = PQexec(conn_of(wh), sql.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = pg_error(wh, res, sql.data, err);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	l->in_copy = true;
	sl_buf_free(&sql);
	*out = &l->base;
	return 0;
fail:
	sl_buf_free(&sql);
	sl_buf_free(&l->buf);
	sl_free(l->qtable);
	sl_free(l);
	return rc;
}

static int pg_load_write(sl_wh_bload *bl, const sl_batch *b, int64_t version, sl_error *err)
{
	pg_load *l = (pg_load *)bl;
	int nf = b->ncols + (bl->order_cols ? 2 : 0);
	/* Fixed-size part of a row: count + each field's length and value
	 * (numeric, the largest, is 8 + 2*20 bytes). */
	size_t row_fixed = 2 + (size_t)nf * (4 + 48);

	for (int64_t r = 0; r < b->nrows; r++) {
		if (sl_buf_reserve(&l->buf, row_fixed) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		uint8_t *p = (uint8_t *)l->buf.data + l->buf.len;
		p = put16(p, (uint16_t)nf);
		for (int i = 0; i < b->ncols; i++) {
			const sl_column *c = &b->cols[i];
			if (sl_column_is_null(c, r)) {
				p = put32(p, 0xffffffffu);
				continue;
			}
			switch (c->type.id) {
			case SL_BOOL:
				p = put32(p, 1);
				*p++ = sl_bit_get(c->v.bits, r) ? 1 : 0;
				break;
			case SL_INT32:
				p = put32(p, 4);
				p = put32(p, (uint32_t)c->v.i32[r]);
				break;
			case SL_INT64:
				p = put32(p, 8);
				p = put64(p, (uint64_t)c->v.i64[r]);
				break;
			case SL_FLOAT64: {
				uint64_t u;
				memcpy(&u, &c->v.f64[r], 8);
				p = put32(p, 8);
				p = put64(p, u);
				break;
			}
			case SL_DECIMAL:
				p = put_numeric(p, c->v.dec[r], c->type.scale);
				break;
			case SL_DATE:
				p = put32(p, 4);
				p = put32(p, (uint32_t)(c->v.i32[r] - PG_EPOCH_DAYS));
				break;
			case SL_TIMESTAMP:
				p = put32(p, 8);
				p = put64(p, (uint64_t)(c->v.i64[r] - PG_EPOCH_MICROS));
				break;
			case SL_STRING: {
				size_t len;
				const char *s = sl_column_str(c, r, &len);
				size_t off = (size_t)(p - (uint8_t *)l->buf.data);
				/* Room for this string and the rest of the row. */
				l->buf.len = off;
				if (sl_buf_reserve(&l->buf, 4 + len + row_fixed) < 0)
					return sl_error_set(err, SL_ENOMEM, "out of memory");
				p = (uint8_t *)l->buf.data + off;
				p = put32(p, (uint32_t)len);
				memcpy(p, s, len);
				p += len;
				break;
			}
			}
		}
		if (bl->order_cols) {
			p = put32(p, 8);
			p = put64(p, (uint64_t)version);
			p = put32(p, 8);
			p = put64(p, (uint64_t)bl->seq);
		}
		l->buf.len = (size_t)(p - (uint8_t *)l->buf.data);
		bl->seq++;
		bl->rows++;
		if (l->buf.len >= COPY_CHUNK) {
			int rc = copy_flush(l, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void drain(PGconn *c)
{
	PGresult *res;
	while ((res = PQgetResult(c)) != NULL) {
		PQclear(res);
		if (PQstatus(c) == CONNECTION_BAD)
			break;
	}
}

static int pg_load_finish(sl_wh_bload *bl, sl_error *err)
{
	pg_load *l = (pg_load *)bl;
	PGconn *c = conn_of(bl->wh);
	int rc = 0;
	uint8_t trailer[2] = {0xff, 0xff};

	if (sl_buf_append(&l->buf, trailer, 2) < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = copy_flush(l, err);
	if (PQputCopyEnd(c, rc == 0 ? NULL : "sluice load failed") != 1 && rc == 0) {
		pg_error(bl->wh, NULL, NULL, err);
		rc = sl_error_prefix(err, "COPY into %s: ", l->qtable);
	}
	PGresult *res = PQgetResult(c);
	if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_error(bl->wh, res, NULL, err);
		rc = sl_error_prefix(err, "COPY into %s: ", l->qtable);
	}
	PQclear(res);
	drain(c);
	sl_buf_free(&l->buf);
	sl_free(l->qtable);
	sl_free(l);
	return rc;
}

static void pg_load_abort(sl_wh_bload *bl)
{
	pg_load *l = (pg_load *)bl;
	PGconn *c = conn_of(bl->wh);
	if (l->in_copy && PQstatus(c) == CONNECTION_OK) {
		PQputCopyEnd(c, "sluice load aborted");
		drain(c);
	}
	sl_buf_free(&l->buf);
	sl_free(l->qtable);
	sl_free(l);
}

/* ------------------------------------------------------------- lifecycle */

/* Server notices ("relation already exists, skipping") go to the debug log,
 * not to stderr. */
static int pg_search_schemas(sl_wh *wh, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = sl_buf_puts(&sql, "SET search_path TO ") < 0
			 ? sl_error_set(err, SL_ENOMEM, "out of memory")
			 : sl_wh_quote_ident(wh, &sql, wh->schema, err);
	if (rc == 0 && sl_buf_puts(&sql, ", ") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_wh_quote_ident(wh, &sql, wh->raw_schema, err);
	if (rc == 0)
		rc = pg_exec(wh, sql.data, NULL, err);
	sl_buf_free(&sql);
	return rc;
}

static void on_notice(void *arg, const char *message)
{
	char msg[700];
	sl_debug("%s: %s", (const char *)arg, clean_msg(message, msg, sizeof msg));
}

static void pg_close(sl_wh *wh)
{
	pg_wh *w = (pg_wh *)wh;
	PQfreeCancel(w->cancel);
	PQfinish(w->conn);
	sl_wh_free_common(wh);
	sl_free(w);
}

/* NAMEDATALEN - 1 */
#define PG_MAX_IDENT 63

const sl_wh_ops sl_wh_postgres_ops = {
	.name = "postgres",
	.max_ident = PG_MAX_IDENT,
	.begin_sql = "BEGIN",
	.temp_schema = "pg_temp",
	.index_on_schema = false,
	.analyze_stage = true,
	.ts_suffix = "+00",
	.close = pg_close,
	.search_schemas = pg_search_schemas,
	.exec = pg_exec,
	.query = pg_query,
	.ensure_schema = pg_ensure_schema,
	.table_exists = pg_table_exists,
	.describe = pg_describe,
	.type_sql = pg_type_sql,
	.quote_literal = pg_quote_literal,
	.order_expr = pg_order_expr,
	.load_open = pg_load_open,
	.load_write = pg_load_write,
	.load_finish = pg_load_finish,
	.load_abort = pg_load_abort,
	.relation_kind = pg_relation_kind,
	.columns = pg_columns,
	.drop_suffix = " CASCADE",
	.truncate_sql = "TRUNCATE TABLE",
	.dependent_views = pg_dependent_views,
	.rename_pre_sql = NULL,
	.rename_post_sql = NULL,
	.view_needs_table = NULL,
	.ctas_counts = true,
	.typed_columns = true,
	.alter_type = pg_alter_type,
	.seed_type = pg_seed_type,
	.timestamp_literal = pg_timestamp_literal,
	.interrupt = sl_wh_postgres_interrupt,
	.catalog_sql = pg_catalog_sql,
};

/* A target of type postgres in sluice.yml. */
static const sl_wh_key postgres_keys[] = {
	{.name = "host", .type = SL_WH_KEY_TEXT, .example = "localhost"},
	{.name = "port", .type = SL_WH_KEY_INT, .def = "5432", .min = 1, .max = 65535,
	 .example = "5432"},
	{.name = "dbname", .type = SL_WH_KEY_TEXT, .example = "analytics"},
	{.name = "user", .type = SL_WH_KEY_TEXT, .example = "sluice"},
	{.name = "password", .type = SL_WH_KEY_SECRET, .example = "${PGPASSWORD}"},
	{.name = "sslmode", .type = SL_WH_KEY_TEXT, .example = "require"},
	{.name = "schema", .type = SL_WH_KEY_TEXT, .def = "public", .example = "public"},
	{.name = "raw_schema", .type = SL_WH_KEY_TEXT, .def = "raw", .example = "raw"},
	{.name = NULL},
};

const sl_wh_adapter sl_wh_postgres_adapter = {
	.name = "postgres",
	.alias = "postgresql",
	.settings_hint = "use host, port and dbname",
	.keys = postgres_keys,
	/* quoted identifiers keep their case; MaxHeapAttributeNumber columns */
	.rules = {.fold_case = false, .max_bytes = PG_MAX_IDENT, .max_columns = 1600,
		  .unquoted_lower = true},
	.open = sl_wh_postgres_open,
};

int sl_wh_postgres_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err)
{
	const char *keys[12], *vals[12];
	char port[16], msg[700];
	int n = 0, rc;
	pg_wh *w = NULL;

	*out = NULL;
	rc = sl_alloc_zeroed((void **)&w, sizeof *w, err);
	if (rc < 0)
		return rc;
	rc = sl_wh_init_common(&w->base, &sl_wh_postgres_ops,
			       cfg->schema && *cfg->schema ? cfg->schema : "public",
			       cfg->raw_schema, err);
	if (rc < 0)
		goto fail;
	/* The first dbname may be a whole conninfo (expand_dbname); the pieces
	 * that follow override its fields. */
	if (cfg->conninfo && *cfg->conninfo) {
		keys[n] = "dbname";
		vals[n++] = cfg->conninfo;
	}
#define PIECE(k, v)                   \
	if ((v) && *(v)) {            \
		keys[n] = (k);        \
		vals[n++] = (v);      \
	}
	PIECE("host", cfg->host);
	if (cfg->port > 0) {
		snprintf(port, sizeof port, "%d", cfg->port);
		keys[n] = "port";
		vals[n++] = port;
	}
	PIECE("dbname", cfg->dbname);
	PIECE("user", cfg->user);
	PIECE("password", cfg->password);
	PIECE("sslmode", cfg->sslmode);
#undef PIECE
	keys[n] = "fallback_application_name";
	vals[n++] = "sluice";
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = NULL;
	vals[n] = NULL;

	w->conn = PQconnectdbParams(keys, vals, 1);
	if (!w->conn) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory connecting to postgres");
		goto fail;
	}
	if (PQstatus(w->conn) != CONNECTION_OK) {
		/* libpq's message names host, port and user, never the password. */
		rc = sl_error_set(err, SL_EDB, "postgres: cannot connect: %s",
				  clean_msg(PQerrorMessage(w->conn), msg, sizeof msg));
		goto fail;
	}
	rc = sl_wh_set_target(&w->base, err, "postgres %s@%s:%s/%s", PQuser(w->conn),
			      PQhost(w->conn), PQport(w->conn), PQdb(w->conn));
	if (rc < 0)
		goto fail;
	PQsetNoticeProcessor(w->conn, on_notice, w->base.target);
	w->cancel = PQgetCancel(w->conn);
	rc = pg_exec(&w->base, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'", NULL, err);
	if (rc == 0)
		rc = pg_ensure_schema(&w->base, w->base.raw_schema, err);
	if (rc == 0)
		rc = pg_ensure_schema(&w->base, w->base.schema, err);
	if (rc < 0)
		goto fail;
	*out = &w->base;
	return 0;
fail:
	if (w->base.ops)
		pg_close(&w->base);
	else
		sl_free(w);
	return rc;
}

/* sl_wh_interrupt: PQcancel with the PGcancel made at connect is safe from
 * any thread; the running statement fails "canceling statement due to
 * user request". */
int sl_wh_postgres_interrupt(sl_wh *wh)
{
	pg_wh *w = (pg_wh *)wh;
	char msg[256];
	if (!w->cancel)
		return SL_EDB;
	return PQcancel(w->cancel, msg, sizeof msg) ? 0 : SL_EDB;
}
