/*
 * postgres_source.c: the postgres extractor. Streams a table or query with
 * COPY (SELECT ...) TO STDOUT (text format) into one reusable batch, inside
 * one REPEATABLE READ READ ONLY transaction. Incremental by a cursor column
 * (rows with cursor > watermark - lookback; the max cursor seen becomes the
 * watermark the extraction returns as its progress), else whole, in primary-key keyset chunks.
 *
 * Choices: numeric without a precision lands as decimal(38,9) and a value
 * with more digits is an error naming the column (declare it in columns:);
 * arrays are selected as array_to_json(col)::text; rows whose cursor is
 * NULL are read only by a first or full-refresh run. COPY statements are
 * sent and read asynchronously so that waiting on the server polls the
 * cancellation token; a cancelled wait asks the server to cancel the
 * statement (PQcancel).
 */
#include "sources/pg_int.h"
#include "sources/sources_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per keyset chunk (one COPY statement each). */
#define PG_KEYSET_CHUNK_ROWS 500000

typedef struct pg_extractor {
	sl_extractor base;
	PGconn *conn;
	const sl_source *src;
	const sl_source_table *t;
	sl_pg_opts o;             /* the table's, query and where rendered */
	sl_arena arena;           /* the rendered strings */
	sl_extract_opts opts;   /* a copy; its strings are borrowed */
	char *key;              /* "source.table", for messages */

	int ncols;
	sl_pg_col *cols;
	char *rel;              /* "schema"."table" or (query) AS "_sl_q" */
	char *select_list;
	char *where;            /* cursor condition or NULL */

	int cursor_idx;         /* column of the cursor, -1 if none */
	int npk;
	int *pk_idx;            /* keyset columns, NULL when not paginating */
	sl_buf *pk_last;        /* last row's key values (COPY-decoded text) */
	bool keyset_started;
	int64_t chunk_limit;
	int64_t chunk_rows;

	bool copy_active;
	bool done;
	int64_t row_no;
	sl_batch *batch;
	sl_buf field;

	bool have_max;
	int64_t max_cursor;
	bool have_old;
	int64_t old_cursor;
} pg_extractor;

/* ------------------------------------------------------------- helpers */

static int pg_fail(pg_extractor *x, sl_error *err, const char *what)
{
	const char *m = x->conn ? PQerrorMessage(x->conn) : "no connection";
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	return sl_error_set(err, SL_EDB, "postgres source %s: %s: %.*s", x->key, what, (int)n, m);
}

/* Asks the server to stop the statement under way (best effort). */
static void pg_cancel_statement(pg_extractor *x)
{
	PGcancel *c = x->conn ? PQgetCancel(x->conn) : NULL;
	char msg[256];
	if (c) {
		PQcancel(c, msg, sizeof msg);
		PQfreeCancel(c);
	}
}

/* 0, or SL_ECANCELLED / SL_ETIMEOUT with err set (and the statement under
 * way cancelled at the server) once the extraction's token fired. */
static int pg_cancelled(pg_extractor *x, sl_error *err)
{
	int r = sl_cancelled(x->opts.cancel);
	if (!r)
		return 0;
	if (x->conn && PQtransactionStatus(x->conn) == PQTRANS_ACTIVE)
		pg_cancel_statement(x);
	return sl_error_set(err, r, "postgres source %s: %s", x->key,
			    r == SL_ETIMEOUT ? "timed out" : "cancelled");
}

/* Waits for input from the server (a fifth of a second at a time, polling
 * the cancellation token) and reads it into libpq. */
static int pg_wait_input(pg_extractor *x, sl_error *err)
{
	struct pollfd p = {.fd = PQsocket(x->conn), .events = POLLIN};
	for (;;) {
		int rc = pg_cancelled(x, err);
		if (rc < 0)
			return rc;
		int n = poll(&p, 1, 200);
		if (n < 0 && errno != EINTR)
			return sl_error_set(err, SL_EDB, "postgres source %s: waiting for the "
					    "server: %s", x->key, strerror(errno));
		if (n > 0)
			break;
	}
	return PQconsumeInput(x->conn) ? 0 : pg_fail(x, err, "reading from the server");
}

/* Runs a command that returns no rows. */
static int pg_exec(pg_extractor *x, const char *sql, sl_error *err)
{
	PGresult *r = PQexec(x->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = sl_error_set(err, SL_EDB, "postgres source %s: %s", x->key,
				  PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

static int put_ident(pg_extractor *x, sl_buf *b, const char *name, sl_error *err)
{
	char *q = PQescapeIdentifier(x->conn, name, strlen(name));
	if (!q)
		return pg_fail(x, err, "quoting an identifier");
	int rc = sl_buf_puts(b, q);
	PQfreemem(q);
	return rc < 0 ? sl_error_set(err, rc, "out of memory") : 0;
}

static int put_literal(pg_extractor *x, sl_buf *b, const char *s, size_t n, sl_error *err)
{
	char *q = PQescapeLiteral(x->conn, s, n);
	if (!q)
		return pg_fail(x, err, "quoting a literal");
	int rc = sl_buf_puts(b, q);
	PQfreemem(q);
	return rc < 0 ? sl_error_set(err, rc, "out of memory") : 0;
}

static int find_col(const pg_extractor *x, const char *name)
{
	for (int i = 0; i < x->ncols; i++)
		if (strcmp(x->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------ describe */

/* The FROM item: a quoted table or the configured query as a subquery. */
static int build_rel(pg_extractor *x, sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	int rc = 0;
	if (x->o.query) {
		const char *q = x->o.query;
		size_t n = strlen(q);
		while (n && (q[n - 1] == ';' || q[n - 1] == ' ' || q[n - 1] == '\n'))
			n--;
		rc = sl_buf_puts(&b, "(") || sl_buf_append(&b, q, n) ||
		     sl_buf_puts(&b, ") AS \"_sl_q\"") ? SL_ENOMEM : 0;
		if (rc)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	} else {
		rc = put_ident(x, &b, x->o.schema_name ? x->o.schema_name : "public", err);
		if (rc == 0 && sl_buf_putc(&b, '.') < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0)
			rc = put_ident(x, &b, x->t->name, err);
	}
	if (rc < 0) {
		sl_buf_free(&b);
		return rc;
	}
	x->rel = sl_buf_detach(&b);
	return 0;
}

/* Type names and categories of the described columns, in one query. */
static int describe_types(pg_extractor *x, const PGresult *d, sl_error *err)
{
	sl_buf oids = SL_BUF_INIT, mods = SL_BUF_INIT;
	int rc = 0;
	sl_buf_puts(&oids, "{");
	sl_buf_puts(&mods, "{");
	for (int i = 0; i < x->ncols; i++) {
		sl_buf_printf(&oids, "%s%u", i ? "," : "", (unsigned)PQftype(d, i));
		sl_buf_printf(&mods, "%s%d", i ? "," : "", PQfmod(d, i));
	}
	if (sl_buf_puts(&oids, "}") < 0 || sl_buf_puts(&mods, "}") < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	const char *params[2] = {oids.data, mods.data};
	PGresult *r = PQexecParams(
		x->conn,
		"SELECT format_type(u.o, NULLIF(u.m, -1)), "
		"coalesce((SELECT t.typcategory FROM pg_catalog.pg_type t WHERE t.oid = u.o), 'X') "
		"FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS u(o, m, i) ORDER BY u.i",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != x->ncols) {
		rc = sl_error_set(err, SL_EDB, "postgres source %s: reading column types: %s",
				  x->key, PQresultErrorMessage(r));
		PQclear(r);
		goto done;
	}
	for (int i = 0; i < x->ncols && rc == 0; i++) {
		sl_pg_col *c = &x->cols[i];
		char cat = PQgetvalue(r, i, 1)[0];
		c->pg_type = sl_strdup(PQgetvalue(r, i, 0));
		if (!c->pg_type) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		c->array = cat == 'A';
		if (sl_pg_map_type(c->oid, c->typmod, cat, &c->type) < 0) {
			if (!x->o.cast_unsupported_to_text &&
			    sl_kvs_get(&x->t->columns, c->name) == NULL)
				rc = sl_error_set(
					err, SL_ECONFIG,
					"%s:%d: postgres source %s: column \"%s\" has type %s, which sluice "
					"does not support; set cast_unsupported_to_text: true, declare the "
					"column in columns:, or cast it in a query",
					x->src->file ? x->src->file : "?", x->t->line, x->key, c->name,
					c->pg_type);
			c->as_text = true;
			c->array = false;
			c->type = sl_type_make(SL_STRING);
		}
	}
	PQclear(r);
done:
	sl_buf_free(&oids);
	sl_buf_free(&mods);
	return rc;
}

/* NOT NULL flags of a table's columns (queries are left nullable). */
static int describe_nullability(pg_extractor *x, const PGresult *d, sl_error *err)
{
	if (x->o.query || x->ncols == 0 || PQftable(d, 0) == InvalidOid)
		return 0;
	char rel[32];
	snprintf(rel, sizeof rel, "%u", (unsigned)PQftable(d, 0));
	const char *params[1] = {rel};
	PGresult *r = PQexecParams(x->conn,
				   "SELECT attnum, attnotnull FROM pg_catalog.pg_attribute "
				   "WHERE attrelid = $1::oid AND attnum > 0",
				   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = sl_error_set(err, SL_EDB, "postgres source %s: reading columns: %s",
				      x->key, PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	for (int k = 0; k < PQntuples(r); k++) {
		int attnum = atoi(PQgetvalue(r, k, 0));
		bool notnull = PQgetvalue(r, k, 1)[0] == 't';
		for (int i = 0; i < x->ncols; i++)
			if (PQftablecol(d, i) == attnum)
				x->cols[i].nullable = !notnull;
	}
	PQclear(r);
	return 0;
}

/* Result columns of SELECT * FROM rel, by PQdescribePrepared. */
static int describe(pg_extractor *x, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = 0;
	if (sl_buf_printf(&sql, "SELECT * FROM %s LIMIT 0", x->rel) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	PGresult *p = PQprepare(x->conn, "", sql.data, 0, NULL);
	sl_buf_free(&sql);
	if (PQresultStatus(p) != PGRES_COMMAND_OK) {
		rc = sl_error_set(err, SL_EDB, "postgres source %s: %s", x->key,
				  PQresultErrorMessage(p));
		PQclear(p);
		return rc;
	}
	PQclear(p);
	PGresult *d = PQdescribePrepared(x->conn, "");
	if (PQresultStatus(d) != PGRES_COMMAND_OK) {
		rc = sl_error_set(err, SL_EDB, "postgres source %s: %s", x->key,
				  PQresultErrorMessage(d));
		PQclear(d);
		return rc;
	}
	x->ncols = PQnfields(d);
	x->cols = sl_calloc((size_t)(x->ncols ? x->ncols : 1), sizeof *x->cols);
	if (!x->cols) {
		PQclear(d);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < x->ncols; i++) {
		x->cols[i].name = sl_strdup(PQfname(d, i));
		x->cols[i].oid = PQftype(d, i);
		x->cols[i].typmod = PQfmod(d, i);
		x->cols[i].nullable = true;
		if (!x->cols[i].name) {
			PQclear(d);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
	}
	if (x->ncols == 0)
		rc = sl_error_set(err, SL_ECONFIG, "postgres source %s: the table has no columns",
				  x->key);
	if (rc == 0)
		rc = describe_types(x, d, err);
	if (rc == 0)
		rc = describe_nullability(x, d, err);
	PQclear(d);
	return rc;
}

/* columns: overrides, then the schema and the select list. */
static int build_schema(pg_extractor *x, sl_error *err)
{
	const sl_kvs *decl = &x->t->columns;
	const char *file = x->src->file ? x->src->file : "?";
	for (int k = 0; k < decl->n; k++) {
		int i = find_col(x, decl->items[k].key);
		sl_type ty;
		if (i < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: columns: \"%s\" is not a column of %s; remove it or "
					    "fix its name",
					    file, decl->items[k].line, decl->items[k].key, x->key);
		if (sl_type_parse(decl->items[k].value, &ty) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: columns: \"%s\" has unknown type \"%s\"; use one of "
					    SL_TYPE_NAMES, file, decl->items[k].line,
					    decl->items[k].key, decl->items[k].value);
		x->cols[i].type = ty;
	}
	/* Columns that differ only in case ("A" and "a") would be one column
	 * in a warehouse that ignores case: the lake gets unique names, the
	 * query keeps the catalog's. */
	sl_buf sel = SL_BUF_INIT, renamed = SL_BUF_INIT;
	int64_t nnoted = 0;
	sl_arena names_arena;
	sl_arena_init(&names_arena, 4096);
	char **names = sl_calloc((size_t)x->ncols + 1, sizeof *names);
	x->base.schema = sl_schema_new();
	int rc = 0;
	if (!x->base.schema || !names)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < x->ncols && rc == 0; i++)
		names[i] = x->cols[i].name;
	const char **keep = NULL;
	size_t nkeep = 0;
	if (rc == 0)
		rc = sl_source_keep_names(x->t, &keep, &nkeep, err);
	if (rc == 0)
		rc = sl_names_make_unique_keeping(names, (size_t)x->ncols, keep, nkeep, &names_arena,
						  NULL, err);
	sl_free(keep);
	for (int i = 0; i < x->ncols && rc == 0; i++) {
		sl_pg_col *c = &x->cols[i];
		rc = sl_schema_add(x->base.schema, names[i], c->type, c->nullable);
		if (rc == 0 && names[i] != c->name)
			rc = sl_names_note_rename(&renamed, &nnoted, c->name, names[i]);
		if (rc < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		if (i)
			sl_buf_puts(&sel, ", ");
		if (c->array)
			sl_buf_puts(&sel, "array_to_json(");
		rc = put_ident(x, &sel, c->name, err);
		if (c->array)
			sl_buf_puts(&sel, ")::text");
		else if (c->as_text)
			sl_buf_puts(&sel, "::text");
	}
	if (rc == 0 && (!sel.data || sl_names_note_end(&renamed, nnoted) < 0))
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_free(names);
	sl_arena_free(&names_arena);
	if (rc < 0) {
		sl_buf_free(&sel);
		sl_buf_free(&renamed);
		return rc;
	}
	x->select_list = sl_buf_detach(&sel);
	if (renamed.len)
		x->base.renamed = sl_buf_detach(&renamed);
	sl_buf_free(&renamed);
	return 0;
}

/* The cursor column and its lower bound from the stored watermark. */
static int plan_incremental(pg_extractor *x, const sl_extract_opts *opts, sl_error *err)
{
	const char *file = x->src->file ? x->src->file : "?";
	const char *wm = opts->watermark;
	int rc;

	x->cursor_idx = -1;
	if (x->t->cursor) {
		x->cursor_idx = find_col(x, x->t->cursor);
		if (x->cursor_idx < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: cursor \"%s\" is not a column of %s", file,
					    x->t->line, x->t->cursor, x->key);
		sl_type ct = x->cols[x->cursor_idx].type;
		if (!sl_pg_cursor_type_ok(ct) || x->cols[x->cursor_idx].as_text)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: cursor \"%s\" has type %s; a cursor must be an "
					    "integer, date or timestamp column",
					    file, x->t->line, x->t->cursor,
					    x->cols[x->cursor_idx].pg_type);
	}
	if (x->cursor_idx < 0 || opts->full_refresh) {
		snprintf(x->base.description, sizeof x->base.description, "%s (all rows)",
			 x->t->name);
		goto keyset;
	}
	if (!wm || !*wm) {
		snprintf(x->base.description, sizeof x->base.description,
			 "%s (all rows, first run)", x->t->name);
		return 0;
	}
	sl_type ct = x->cols[x->cursor_idx].type;
	if (sl_pg_cursor_parse(ct, wm, &x->old_cursor) < 0) {
		rc = sl_error_set(err, SL_ECONFIG,
				  "postgres source %s: stored watermark \"%s\" is not a valid value of "
				  "cursor \"%s\"; rerun with --full-refresh",
				  x->key, wm, x->t->cursor);
		return rc;
	}
	x->have_old = true;
	int64_t lower = x->old_cursor;
	if (ct.id == SL_TIMESTAMP)
		lower -= x->o.lookback_micros;
	else if (ct.id == SL_DATE)
		lower -= (x->o.lookback_micros + SL_MICROS_PER_DAY - 1) / SL_MICROS_PER_DAY;
	char lit[64];
	sl_pg_cursor_format(ct, lower, lit, sizeof lit);
	sl_buf w = SL_BUF_INIT;
	rc = put_ident(x, &w, x->t->cursor, err);
	if (rc == 0 && sl_buf_puts(&w, " > ") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = put_literal(x, &w, lit, strlen(lit), err);
	if (rc < 0) {
		sl_buf_free(&w);
		return rc;
	}
	x->where = sl_buf_detach(&w);
	snprintf(x->base.description, sizeof x->base.description, "%s since %s", x->t->name,
		 lit);
	return 0;

keyset:
	/* Whole extraction: page by primary key when there is one. */
	if (x->t->nprimary_key > 0 && !x->o.query) {
		x->npk = x->t->nprimary_key;
		x->pk_idx = sl_calloc((size_t)x->npk, sizeof *x->pk_idx);
		x->pk_last = sl_calloc((size_t)x->npk, sizeof *x->pk_last);
		if (!x->pk_idx || !x->pk_last)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		for (int k = 0; k < x->npk; k++) {
			x->pk_idx[k] = find_col(x, x->t->primary_key[k]);
			if (x->pk_idx[k] < 0)
				return sl_error_set(err, SL_ECONFIG,
						    "%s:%d: primary_key \"%s\" is not a column of %s",
						    file, x->t->line, x->t->primary_key[k], x->key);
			if (x->cols[x->pk_idx[k]].array || x->cols[x->pk_idx[k]].as_text) {
				/* Keys that are not comparable as text: one COPY. */
				sl_free(x->pk_idx);
				x->pk_idx = NULL;
				break;
			}
		}
	}
	return 0;
}

/* ----------------------------------------------------------- streaming */

static int start_copy(pg_extractor *x, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = 0;
	/* The user's where: condition is their SQL, ANDed in parentheses. */
	const char *user_where = x->o.where && *x->o.where ? x->o.where : NULL;
	sl_buf_printf(&sql, "COPY (SELECT %s FROM %s", x->select_list, x->rel);
	if (user_where)
		sl_buf_printf(&sql, " WHERE (%s)", user_where);
	if (x->pk_idx) {
		if (x->keyset_started) {
			sl_buf_puts(&sql, user_where ? " AND (" : " WHERE (");
			for (int k = 0; k < x->npk && rc == 0; k++) {
				if (k)
					sl_buf_puts(&sql, ", ");
				rc = put_ident(x, &sql, x->cols[x->pk_idx[k]].name, err);
			}
			sl_buf_puts(&sql, ") > (");
			for (int k = 0; k < x->npk && rc == 0; k++) {
				if (k)
					sl_buf_puts(&sql, ", ");
				rc = put_literal(x, &sql, x->pk_last[k].data ? x->pk_last[k].data : "",
						 x->pk_last[k].len, err);
			}
			sl_buf_puts(&sql, ")");
		}
		sl_buf_puts(&sql, " ORDER BY ");
		for (int k = 0; k < x->npk && rc == 0; k++) {
			if (k)
				sl_buf_puts(&sql, ", ");
			rc = put_ident(x, &sql, x->cols[x->pk_idx[k]].name, err);
		}
		sl_buf_printf(&sql, " LIMIT %lld", (long long)x->chunk_limit);
		x->keyset_started = true;
		x->chunk_rows = 0;
	} else if (x->where) {
		sl_buf_printf(&sql, "%s%s", user_where ? " AND " : " WHERE ", x->where);
	}
	if (rc == 0 && sl_buf_puts(&sql, ") TO STDOUT") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc < 0) {
		sl_buf_free(&sql);
		return rc;
	}
	sl_debug("postgres source %s: %s", x->key, sql.data);
	if (!PQsendQuery(x->conn, sql.data)) {
		sl_buf_free(&sql);
		return pg_fail(x, err, "sending COPY");
	}
	sl_buf_free(&sql);
	/* The query runs (a sort, a scan) before its first row: wait for it
	 * polling the token. */
	while (PQisBusy(x->conn))
		if ((rc = pg_wait_input(x, err)) < 0)
			return rc;
	PGresult *r = PQgetResult(x->conn);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		rc = sl_error_set(err, SL_EDB, "postgres source %s: %s", x->key,
				  PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	PQclear(r);
	x->base.stats.requests++;
	x->copy_active = true;
	return 0;
}

/* After the COPY's end marker: collect its final result. */
static int finish_copy(pg_extractor *x, sl_error *err)
{
	PGresult *r;
	int rc = 0;
	x->copy_active = false;
	while ((r = PQgetResult(x->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = sl_error_set(err, SL_EDB, "postgres source %s: %s", x->key,
					  PQresultErrorMessage(r));
		PQclear(r);
	}
	return rc;
}

static int bad_value(pg_extractor *x, int i, sl_error *verr, sl_error *err)
{
	return sl_error_set(err, SL_EINVAL,
			    "postgres source %s: row %lld, column \"%s\" (%s): %s; declare the "
			    "column's type in columns: or cast it in a query",
			    x->key, (long long)x->row_no, x->cols[i].name, x->cols[i].pg_type,
			    verr->message);
}

/* Appends one COPY text row (without its trailing newline) to the batch. */
static int append_row(pg_extractor *x, const char *row, size_t n, sl_error *err)
{
	sl_batch *b = x->batch;
	size_t pos = 0;
	int rc;
	x->row_no++;
	for (int i = 0; i < x->ncols; i++) {
		const char *f = row + pos;
		const char *tab = memchr(f, '\t', n - pos);
		size_t flen = tab ? (size_t)(tab - f) : n - pos;
		if ((i < x->ncols - 1) != (tab != NULL)) {
			sl_batch_discard_row(b);
			return sl_error_set(err, SL_EFORMAT,
					    "postgres source %s: row %lld: expected %d fields from COPY",
					    x->key, (long long)x->row_no, x->ncols);
		}
		pos += flen + 1;
		sl_column *c = &b->cols[i];
		const char *v = f;
		size_t vlen = flen;
		if (memchr(f, '\\', flen)) {
			rc = sl_pg_copy_field(f, flen, &x->field);
			if (rc < 0) {
				sl_batch_discard_row(b);
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			}
			if (rc == 1) {
				sl_column_append_null(c);
				goto keyval;
			}
			v = x->field.data;
			vlen = x->field.len;
		}
		if (c->type.id == SL_STRING) {
			rc = sl_column_append_str(c, v, vlen);
			if (rc < 0) {
				sl_batch_discard_row(b);
				return sl_error_set(err, rc, "postgres source %s: column \"%s\": "
						    "string data too large for one batch",
						    x->key, x->cols[i].name);
			}
		} else {
			sl_error verr = SL_ERROR_INIT;
			if (sl_column_append_text(c, v, vlen, &verr) < 0) {
				sl_batch_discard_row(b);
				return bad_value(x, i, &verr, err);
			}
		}
keyval:
		if (x->pk_idx) {
			for (int k = 0; k < x->npk; k++) {
				if (x->pk_idx[k] != i)
					continue;
				sl_buf_reset(&x->pk_last[k]);
				if (sl_buf_append(&x->pk_last[k], v, vlen) < 0) {
					sl_batch_discard_row(b);
					return sl_error_set(err, SL_ENOMEM, "out of memory");
				}
			}
		}
	}
	if (x->cursor_idx >= 0) {
		const sl_column *c = &b->cols[x->cursor_idx];
		int64_t r = b->nrows;
		if (!sl_column_is_null(c, r)) {
			int64_t v = (c->type.id == SL_INT32 || c->type.id == SL_DATE) ? c->v.i32[r]
										      : c->v.i64[r];
			if (!x->have_max || v > x->max_cursor)
				x->max_cursor = v;
			x->have_max = true;
		}
	}
	sl_batch_end_row(b);
	return 0;
}

static int pg_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	pg_extractor *x = (pg_extractor *)base;
	int rc;
	*out = NULL;
	sl_batch_reset(x->batch);
	if ((rc = pg_cancelled(x, err)) < 0)
		return rc;
	while (!x->done && !sl_batch_full(x->batch)) {
		if (!x->copy_active) {
			rc = start_copy(x, err);
			if (rc < 0)
				return rc;
		}
		char *row = NULL;
		int n = PQgetCopyData(x->conn, &row, 1);
		if (n == 0) {
			/* No whole row buffered: wait for more. */
			if ((rc = pg_wait_input(x, err)) < 0)
				return rc;
			continue;
		}
		if (n == -1) {
			rc = finish_copy(x, err);
			if (rc < 0)
				return rc;
			/* A full keyset chunk means there may be more. */
			if (!x->pk_idx || x->chunk_rows < x->chunk_limit)
				x->done = true;
			continue;
		}
		if (n < 0)
			return pg_fail(x, err, "reading COPY data");
		x->base.stats.bytes += (uint64_t)n;
		x->base.stats.rows_read++;
		x->chunk_rows++;
		size_t len = (size_t)n;
		if (len && row[len - 1] == '\n')
			len--;
		rc = append_row(x, row, len, err);
		PQfreemem(row);
		if (rc < 0)
			return rc;
	}
	if (x->done && x->conn && PQtransactionStatus(x->conn) == PQTRANS_INTRANS) {
		rc = pg_exec(x, "COMMIT", err);
		if (rc < 0)
			return rc;
	}
	if (x->batch->nrows == 0)
		return 0;
	*out = x->batch;
	return 1;
}

/* The watermark this extraction reached, or false when it has none. */
static bool pg_watermark(pg_extractor *x, char *out, size_t n)
{
	if (x->cursor_idx < 0 || !x->have_max)
		return false;
	int64_t v = x->max_cursor;
	/* Never move back, except on a full refresh, which re-reads the truth. */
	if (x->have_old && x->old_cursor > v)
		v = x->old_cursor;
	sl_pg_cursor_format(x->cols[x->cursor_idx].type, v, out, n);
	return true;
}

static int pg_progress(sl_extractor *base, sl_source_progress *out, sl_error *err)
{
	pg_extractor *x = (pg_extractor *)base;
	char text[64];
	if (!pg_watermark(x, text, sizeof text))
		return 0;
	if (sl_source_progress_set_watermark(out, text) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

static void pg_close(sl_extractor *base)
{
	pg_extractor *x = (pg_extractor *)base;
	if (!x)
		return;
	if (x->conn)
		PQfinish(x->conn);
	for (int i = 0; i < x->ncols && x->cols; i++) {
		sl_free(x->cols[i].name);
		sl_free(x->cols[i].pg_type);
	}
	sl_free(x->cols);
	sl_free(x->rel);
	sl_free(x->select_list);
	sl_free(x->where);
	sl_free(x->pk_idx);
	if (x->pk_last)
		for (int k = 0; k < x->npk; k++)
			sl_buf_free(&x->pk_last[k]);
	sl_free(x->pk_last);
	sl_batch_free(x->batch);
	sl_buf_free(&x->field);
	sl_schema_free(x->base.schema);
	sl_free(x->key);
	sl_arena_free(&x->arena);
	sl_free(x);
}

static const sl_extractor_ops pg_ops = {
	.next = pg_next,
	.progress = pg_progress,
	.close = pg_close,
};

int sl_postgres_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			    const sl_extract_opts *opts, sl_error *err)
{
	pg_extractor *x = NULL;
	const sl_pg_source_opts *so = src->opts;
	const char *conninfo = so ? so->connection : NULL;
	int rc;
	*out = NULL;
	if (!conninfo || !*conninfo)
		return sl_error_set(err, SL_ECONFIG,
				    "%s: source \"%s\": connection is missing; set it to a libpq "
				    "URI or conninfo, e.g. connection: ${SHOP_DB_URL}",
				    src->file ? src->file : "?", src->name);
	rc = sl_alloc_zeroed((void **)&x, sizeof *x, err);
	if (rc < 0)
		return rc;
	x->base.ops = &pg_ops;
	x->src = src;
	x->opts = *opts;
	sl_arena_init(&x->arena, 1024);
	x->t = t;
	x->o = *(const sl_pg_opts *)t->opts;
	sl_render_vars vars;
	sl_render_vars_of(&vars, opts);
	if ((rc = sl_source_render_str(&x->o.query, &vars, false, &x->arena, src, t->line,
				       err)) < 0 ||
	    (rc = sl_source_render_str(&x->o.where, &vars, false, &x->arena, src, t->line,
				       err)) < 0)
		goto fail;
	x->cursor_idx = -1;
	x->chunk_limit = PG_KEYSET_CHUNK_ROWS;
	x->key = sl_source_table_key(src, t);
	if (!x->key) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}

	x->conn = PQconnectdb(conninfo);
	if (PQstatus(x->conn) != CONNECTION_OK) {
		rc = pg_fail(x, err, "connecting");
		goto fail;
	}
	/* UTC timestamps, ISO dates, exact floats, UTF-8 text; one snapshot. */
	rc = pg_exec(x,
		     "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
		     "SET extra_float_digits = 3; SET client_encoding = 'UTF8'; "
		     "SET IntervalStyle = 'iso_8601'; SET bytea_output = 'hex'; "
		     "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		     err);
	if (rc < 0)
		goto fail;
	rc = build_rel(x, err);
	if (rc == 0)
		rc = describe(x, err);
	if (rc == 0)
		rc = build_schema(x, err);
	if (rc == 0)
		rc = plan_incremental(x, opts, err);
	if (rc == 0)
		rc = sl_batch_new(&x->batch, x->base.schema,
				  opts->batch_rows > 0 ? opts->batch_rows : SL_BATCH_DEFAULT_ROWS, err);
	if (rc < 0)
		goto fail;
	/* Keyset chunks of a few batches each: small tables, few statements. */
	if (opts->batch_rows > 0 && opts->batch_rows * 8 < x->chunk_limit)
		x->chunk_limit = opts->batch_rows * 8;
	*out = &x->base;
	return 0;
fail:
	pg_close(&x->base);
	return rc;
}
