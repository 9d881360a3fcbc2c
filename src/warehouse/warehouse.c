/*
 * warehouse.c: the backend-neutral half of sl_wh — opening by type,
 * identifier and literal quoting, type compatibility, exec/query wrappers,
 * introspection, DDL and schema evolution, and the raw bulk loader handle.
 */
#include "warehouse_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_wh_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err)
{
	const char *type = cfg && cfg->type ? cfg->type : sl_wh_adapter_at(0)->name;
	sl_wh_config empty = SL_WH_CONFIG_INIT;

	*out = NULL;
	if (!cfg)
		cfg = &empty;
	const sl_wh_adapter *a = sl_wh_adapter_find(type);
	if (a && a->open)
		return a->open(out, cfg, err);
	sl_buf names = SL_BUF_INIT;
	for (int i = 0; sl_wh_adapter_at(i); i++)
		if (sl_wh_adapter_at(i)->open)
			sl_buf_printf(&names, "%s%s", names.len ? " or " : "", sl_wh_adapter_at(i)->name);
	int rc = sl_error_set(err, SL_ECONFIG,
			      a ? "warehouse type '%s' is not available yet; use %s"
				: "warehouse type '%s' is not supported; use %s",
			      type, names.data ? names.data : "sqlite");
	sl_buf_free(&names);
	return rc;
}

sl_wh_ident_rules sl_wh_ident_rules_of(const char *type)
{
	/* An unknown type gets the stricter rules: its identifiers, like most
	 * warehouses', ignore case. */
	sl_wh_ident_rules r = {.fold_case = true, .max_bytes = 0, .max_columns = 0};
	const sl_wh_adapter *a = type ? sl_wh_adapter_find(type) : sl_wh_adapter_at(0);
	return a ? a->rules : r;
}

char *sl_wh_ident_key(const sl_wh_ident_rules *r, const char *name)
{
	size_t n = strlen(name);
	if (r->max_bytes && n > r->max_bytes) {
		/* PostgreSQL cuts at a character boundary (pg_mbcliplen). */
		n = r->max_bytes;
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	char *k = sl_malloc(n + 1);
	if (!k)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		k[i] = r->fold_case && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	k[n] = '\0';
	return k;
}

void sl_wh_close(sl_wh *wh)
{
	if (!wh)
		return;
	if (wh->in_tx)
		sl_wh_rollback(wh);
	wh->ops->close(wh);
}

int sl_wh_init_common(sl_wh *wh, const sl_wh_ops *ops, const char *schema,
		      const char *raw_schema, sl_error *err)
{
	wh->ops = ops;
	atomic_init(&wh->interrupted, false);
	wh->schema = sl_strdup(schema);
	wh->raw_schema = sl_strdup(raw_schema && *raw_schema ? raw_schema : "raw");
	wh->target = sl_strdup(ops->name);
	if (!wh->schema || !wh->raw_schema || !wh->target)
		return sl_error_set(err, SL_ENOMEM, "out of memory opening the warehouse");
	return 0;
}

void sl_wh_free_common(sl_wh *wh)
{
	sl_free(wh->schema);
	sl_free(wh->raw_schema);
	sl_free(wh->target);
	wh->target = NULL;
}

int sl_wh_set_target(sl_wh *wh, sl_error *err, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *s = n < 0 ? NULL : sl_malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (!s)
		return sl_error_set(err, SL_ENOMEM, "out of memory opening the warehouse");
	sl_free(wh->target);
	wh->target = s;
	return 0;
}

const char *sl_wh_type(const sl_wh *wh) { return wh->ops->name; }
const char *sl_wh_schema(const sl_wh *wh) { return wh->schema; }
const char *sl_wh_raw_schema(const sl_wh *wh) { return wh->raw_schema; }
const char *sl_wh_describe_target(const sl_wh *wh) { return wh->target; }

int sl_wh_ensure_schema(sl_wh *wh, const char *schema, sl_error *err)
{
	return wh->ops->ensure_schema(wh, schema, err);
}

int sl_wh_search_schemas(sl_wh *wh, sl_error *err)
{
	return wh->ops->search_schemas ? wh->ops->search_schemas(wh, err) : 0;
}

/* ------------------------------------------------------------- SQL text */

const char *sl_wh_printable(const char *name, char *out, size_t n)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < n; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	if (o + 5 >= n && o >= 3)
		memcpy(out + o - 3, "...", 3);
	out[o] = '\0';
	return out;
}

int sl_wh_quote_ident(sl_wh *wh, sl_buf *out, const char *name, sl_error *err)
{
	char shown[200];
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return sl_error_set(err, SL_EINVAL, "an empty name cannot be a %s identifier",
				    wh->ops->name);
	if (!sl_utf8_valid(name, n))
		return sl_error_set(err, SL_EINVAL, "name \"%s\" is not valid UTF-8",
				    sl_wh_printable(name, shown, sizeof shown));
	if (wh->ops->max_ident && n > wh->ops->max_ident)
		return sl_error_set(err, SL_EINVAL,
				    "name \"%s\" is %zu bytes, longer than the %zu bytes a "
				    "%s identifier can hold; shorten it at the source",
				    sl_wh_printable(name, shown, sizeof shown), n,
				    wh->ops->max_ident, wh->ops->name);
	if (sl_buf_putc(out, '"') < 0)
		goto oom;
	for (const char *p = name; *p; p++) {
		if (*p == '"' && sl_buf_putc(out, '"') < 0)
			goto oom;
		if (sl_buf_putc(out, *p) < 0)
			goto oom;
	}
	if (sl_buf_putc(out, '"') < 0)
		goto oom;
	return 0;
oom:
	return sl_error_set(err, SL_ENOMEM, "out of memory quoting an identifier");
}

int sl_wh_quote_table(sl_wh *wh, sl_buf *out, const char *schema, const char *table,
		      sl_error *err)
{
	int rc;
	if (schema) {
		rc = sl_wh_quote_ident(wh, out, schema, err);
		if (rc < 0)
			return rc;
		if (sl_buf_putc(out, '.') < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	return sl_wh_quote_ident(wh, out, table, err);
}

int sl_wh_quote_literal(sl_wh *wh, sl_buf *out, const char *s)
{
	return wh->ops->quote_literal(out, s);
}

char *sl_wh_raw_table_name(const char *source, const char *table)
{
	size_t a = strlen(source), b = strlen(table);
	char *s = sl_malloc(a + b + 3);
	if (!s)
		return NULL;
	memcpy(s, source, a);
	memcpy(s + a, "__", 2);
	memcpy(s + a + 2, table, b + 1);
	return s;
}

const char *sl_wh_type_sql(const sl_wh *wh, sl_type t, char *buf, size_t n)
{
	return wh->ops->type_sql(t, buf, n);
}

bool sl_wh_type_accepts(sl_type wh_type, sl_type lake_type)
{
	if (sl_type_equal(wh_type, lake_type))
		return true;
	if (wh_type.id == SL_INT64 && lake_type.id == SL_INT32)
		return true;
	if (wh_type.id == SL_DECIMAL && lake_type.id == SL_DECIMAL)
		return wh_type.scale >= lake_type.scale &&
		       wh_type.precision - wh_type.scale >= lake_type.precision - lake_type.scale;
	return false;
}

/* Writes v as exactly n digits. */
static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

int sl_wh_date_text(int32_t days, char *out)
{
	int64_t y;
	unsigned m, d;
	sl_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return sl_date_format(days, out);
	char *p = put_digits(out, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p = '\0';
	return (int)(p - out);
}

int sl_wh_timestamp_text(int64_t micros, char *out)
{
	int64_t days = micros / SL_MICROS_PER_DAY, rem = micros % SL_MICROS_PER_DAY;
	if (rem < 0) {
		rem += SL_MICROS_PER_DAY;
		days--;
	}
	if (days < INT32_MIN || days > INT32_MAX)
		return sl_timestamp_format(micros, out);
	int n = sl_wh_date_text((int32_t)days, out);
	unsigned secs = (unsigned)(rem / SL_MICROS_PER_SEC);
	char *p = out + n;
	*p++ = ' ';
	p = put_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = put_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, secs % 60, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(rem % SL_MICROS_PER_SEC), 6);
	*p = '\0';
	return (int)(p - out);
}

int sl_wh_double_text(double d, char *out)
{
	if (isnan(d))
		return snprintf(out, 32, "NaN");
	if (isinf(d))
		return snprintf(out, 32, d > 0 ? "Infinity" : "-Infinity");
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(out, 32, "%.*g", prec, d);
		if (prec == 17 || strtod(out, NULL) == d)
			return n;
	}
	return 0;
}

/* ---------------------------------------------------------- exec, query */

int sl_wh_exec(sl_wh *wh, const char *sql, sl_error *err)
{
	return wh->ops->exec(wh, sql, NULL, err);
}

int sl_wh_exec_count(sl_wh *wh, const char *sql, int64_t *changes, sl_error *err)
{
	*changes = 0;
	return wh->ops->exec(wh, sql, changes, err);
}

int sl_wh_query(sl_wh *wh, const char *sql, sl_wh_row_fn fn, void *ud, sl_error *err)
{
	return wh->ops->query(wh, sql, false, fn, ud, err);
}

int sl_wh_query_one(sl_wh *wh, const char *sql, sl_wh_row_fn fn, void *ud, sl_error *err)
{
	return wh->ops->query(wh, sql, true, fn, ud, err);
}

typedef struct batch_ctx {
	const sl_schema *schema;
	int64_t rows;
	sl_batch *b;
	sl_wh_batch_fn fn;
	void *ud;
} batch_ctx;

static int batch_row(void *ud, int ncols, const char *const *names,
		     const char *const *values, sl_error *err)
{
	batch_ctx *c = ud;
	int rc;
	if (ncols != c->schema->nfields)
		return sl_error_set(err, SL_EINVAL,
				    "query returned %d columns but %d were expected", ncols,
				    c->schema->nfields);
	if (!c->b) {
		rc = sl_batch_new(&c->b, c->schema, c->rows, err);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < ncols; i++) {
		sl_column *col = &c->b->cols[i];
		if (!values[i]) {
			sl_column_append_null(col);
			continue;
		}
		const char *v = values[i];
		/* SQLite keeps booleans as 0/1 and REAL text may be "Inf". */
		if (col->type.id == SL_FLOAT64 && (strcmp(v, "Inf") == 0 || strcmp(v, "-Inf") == 0))
			v = v[0] == '-' ? "-Infinity" : "Infinity";
		rc = sl_column_append_text(col, v, strlen(v), err);
		if (rc < 0) {
			sl_batch_discard_row(c->b);
			return sl_error_prefix(err, "column \"%s\": ", names[i]);
		}
	}
	sl_batch_end_row(c->b);
	if (sl_batch_full(c->b)) {
		rc = c->fn(c->ud, c->b, err);
		sl_batch_reset(c->b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sl_wh_query_batches(sl_wh *wh, const char *sql, const sl_schema *schema,
			int64_t batch_rows, sl_wh_batch_fn fn, void *ud, sl_error *err)
{
	batch_ctx c = {schema, batch_rows > 0 ? batch_rows : SL_BATCH_DEFAULT_ROWS, NULL, fn,
		       ud};
	int rc = sl_wh_query(wh, sql, batch_row, &c, err);
	if (rc == 0 && c.b && c.b->nrows > 0)
		rc = fn(ud, c.b, err);
	sl_batch_free(c.b);
	return rc < 0 ? rc : 0;
}

static int value_row(void *ud, int ncols, const char *const *names,
		     const char *const *values, sl_error *err)
{
	char **out = ud;
	if (ncols > 0 && values[0]) {
		*out = sl_strdup(values[0]);
		if (!*out)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	return 1;
}

int sl_wh_query_value(sl_wh *wh, const char *sql, char **out, sl_error *err)
{
	*out = NULL;
	int rc = sl_wh_query(wh, sql, value_row, out, err);
	if (rc < 0) {
		sl_free(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

/* --------------------------------------------------------- transactions */

int sl_wh_begin(sl_wh *wh, sl_error *err)
{
	if (wh->in_tx)
		return sl_error_set(err, SL_EINTERNAL, "%s: a transaction is already open",
				    wh->target);
	/* A fresh transaction: an interrupt sent to an earlier unit of work
	 * (one the caller has handled) must not end this one's lock wait. */
	sl_wh_interrupt_clear(wh);
	int rc = wh->ops->exec(wh, wh->ops->begin_sql, NULL, err);
	if (rc == 0)
		wh->in_tx = true;
	return rc;
}

int sl_wh_commit(sl_wh *wh, sl_error *err)
{
	if (!wh->in_tx)
		return sl_error_set(err, SL_EINTERNAL, "%s: commit without a transaction",
				    wh->target);
	int rc = wh->ops->exec(wh, "COMMIT", NULL, err);
	if (rc < 0) {
		sl_wh_rollback(wh);
		return sl_error_prefix(err, "commit: ");
	}
	wh->in_tx = false;
	return 0;
}

void sl_wh_rollback(sl_wh *wh)
{
	sl_error ignored = SL_ERROR_INIT;
	if (!wh->in_tx)
		return;
	/* An interrupted statement may have ended the transaction already
	 * (SQLite rolls it back itself): nothing to roll back, nothing to say. */
	if (wh->ops->tx_open && !wh->ops->tx_open(wh)) {
		wh->in_tx = false;
		return;
	}
	/* Called on error paths, whose error is the one to report; a failed
	 * rollback is still said (the server ends the transaction with the
	 * connection). */
	if (wh->ops->exec(wh, "ROLLBACK", NULL, &ignored) < 0)
		sl_warn("%s: rollback failed: %s", wh->target, ignored.message);
	wh->in_tx = false;
}

bool sl_wh_in_transaction(const sl_wh *wh) { return wh->in_tx; }

/* -------------------------------------------------------- introspection */

int sl_wh_table_exists(sl_wh *wh, const char *schema, const char *table, bool *out,
		       sl_error *err)
{
	*out = false;
	return wh->ops->table_exists(wh, schema, table, out, err);
}

int sl_wh_describe(sl_wh *wh, const char *schema, const char *table, sl_schema **out,
		   sl_error *err)
{
	char a[200], b[200];
	*out = NULL;
	int rc = wh->ops->describe(wh, schema, table, out, err);
	if (rc < 0)
		return rc;
	if (!*out)
		return sl_error_set(err, SL_ENOTFOUND, "table %s.%s does not exist in %s",
				    sl_wh_printable(schema, a, sizeof a),
				    sl_wh_printable(table, b, sizeof b), wh->target);
	return 0;
}

/* Appends the quoted "(c1, c2, ...)" of cols, each followed by its type
 * when types is set, plus the merge order columns (bigint). */
static int column_list(sl_wh *wh, sl_buf *sql, const sl_schema *cols, bool order_cols,
		       bool types, sl_error *err)
{
	char tbuf[64];
	int rc;
	if (sl_buf_putc(sql, '(') < 0)
		goto oom;
	for (int i = 0; i < cols->nfields; i++) {
		if (i && sl_buf_puts(sql, ", ") < 0)
			goto oom;
		rc = sl_wh_quote_ident(wh, sql, cols->fields[i].name, err);
		if (rc < 0)
			return rc;
		if (types && sl_buf_printf(sql, " %s",
					   wh->ops->type_sql(cols->fields[i].type, tbuf,
							     sizeof tbuf)) < 0)
			goto oom;
	}
	if (order_cols) {
		char ot[80] = "";
		if (types)
			snprintf(ot, sizeof ot, " %s",
				 wh->ops->type_sql(sl_type_make(SL_INT64), tbuf, sizeof tbuf));
		if (sl_buf_printf(sql, ", \"%s\"%s, \"%s\"%s", SL_WH_VERSION_COL, ot,
				  SL_WH_SEQ_COL, ot) < 0)
			goto oom;
	}
	if (sl_buf_putc(sql, ')') < 0)
		goto oom;
	return 0;
oom:
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

int sl_wh_create_table_ex(sl_wh *wh, const char *create, const char *schema,
			  const char *table, const sl_schema *cols, bool order_cols,
			  sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = sl_buf_printf(&sql, "%s ", create) < 0 ? SL_ENOMEM : 0;
	if (rc == 0)
		rc = sl_wh_quote_table(wh, &sql, schema, table, err);
	if (rc == 0 && sl_buf_putc(&sql, ' ') < 0)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = column_list(wh, &sql, cols, order_cols, true, err);
	if (rc == 0)
		rc = wh->ops->exec(wh, sql.data, NULL, err);
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	sl_buf_free(&sql);
	return rc;
}

int sl_wh_create_table(sl_wh *wh, const char *schema, const char *table,
		       const sl_schema *cols, sl_error *err)
{
	return sl_wh_create_table_ex(wh, "CREATE TABLE", schema, table, cols, false, err);
}

int sl_wh_add_column(sl_wh *wh, const char *schema, const char *table, const char *name,
		     sl_type type, sl_error *err)
{
	char tbuf[64];
	sl_buf sql = SL_BUF_INIT;
	int rc = sl_buf_puts(&sql, "ALTER TABLE ") < 0 ? SL_ENOMEM : 0;
	if (rc == 0)
		rc = sl_wh_quote_table(wh, &sql, schema, table, err);
	if (rc == 0 && sl_buf_puts(&sql, " ADD COLUMN ") < 0)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = sl_wh_quote_ident(wh, &sql, name, err);
	if (rc == 0 && sl_buf_printf(&sql, " %s", wh->ops->type_sql(type, tbuf, sizeof tbuf)) < 0)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = wh->ops->exec(wh, sql.data, NULL, err);
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	sl_buf_free(&sql);
	return rc;
}

int sl_wh_drop_table(sl_wh *wh, const char *schema, const char *table, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	int rc = sl_buf_puts(&sql, "DROP TABLE IF EXISTS ") < 0 ? SL_ENOMEM : 0;
	if (rc == 0)
		rc = sl_wh_quote_table(wh, &sql, schema, table, err);
	if (rc == 0)
		rc = wh->ops->exec(wh, sql.data, NULL, err);
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	sl_buf_free(&sql);
	return rc;
}

int sl_wh_evolve_table(sl_wh *wh, const char *schema, const char *table,
		       const sl_schema *cols, bool *created, sl_error *err)
{
	sl_schema *have = NULL;
	char a[64], b[64], sn[200], tn[200], cn[200];
	int rc;

	if (created)
		*created = false;
	rc = wh->ops->describe(wh, schema, table, &have, err);
	if (rc < 0)
		return rc;
	if (!have) {
		rc = sl_wh_create_table(wh, schema, table, cols, err);
		if (rc == 0 && created)
			*created = true;
		goto done;
	}
	/* Check every column first so a type error changes nothing. */
	for (int i = 0; i < cols->nfields; i++) {
		int j = sl_schema_find(have, cols->fields[i].name);
		if (j < 0 || sl_wh_type_accepts(have->fields[j].type, cols->fields[i].type))
			continue;
		sl_type_name(have->fields[j].type, a, sizeof a);
		sl_type_name(cols->fields[i].type, b, sizeof b);
		rc = sl_error_set(
			err, SL_EINVAL,
			"table %s.%s: column \"%s\" is %s in the warehouse but %s in the lake; "
			"declare the column as %s in the source's columns: (or cast it in a "
			"transform step), or drop the warehouse table so the next load "
			"recreates it with the new type",
			sl_wh_printable(schema, sn, sizeof sn), sl_wh_printable(table, tn, sizeof tn),
			sl_wh_printable(cols->fields[i].name, cn, sizeof cn), a, b, a);
		goto done;
	}
	for (int i = 0; i < cols->nfields; i++) {
		if (sl_schema_find(have, cols->fields[i].name) >= 0)
			continue;
		rc = sl_wh_add_column(wh, schema, table, cols->fields[i].name,
				      cols->fields[i].type, err);
		if (rc < 0)
			goto done;
	}
done:
	sl_schema_free(have);
	return rc;
}

/* ---------------------------------------------------------- bulk loader */

struct sl_wh_loader {
	sl_wh_bload *be;
	sl_schema *cols;
};

int sl_wh_bload_open(sl_wh_bload **out, sl_wh *wh, const char *schema, const char *table,
		     const sl_schema *cols, bool order_cols, sl_error *err)
{
	sl_buf qt = SL_BUF_INIT, cl = SL_BUF_INIT;
	int rc;
	*out = NULL;
	if (cols->nfields == 0)
		return sl_error_set(err, SL_EINVAL, "a load needs at least one column");
	rc = sl_wh_quote_table(wh, &qt, schema, table, err);
	if (rc == 0)
		rc = column_list(wh, &cl, cols, order_cols, false, err);
	if (rc == 0)
		rc = wh->ops->load_open(out, wh, qt.data, cl.data, cols, order_cols, err);
	sl_buf_free(&qt);
	sl_buf_free(&cl);
	return rc;
}

int sl_wh_check_batch(const sl_schema *cols, const sl_batch *b, sl_error *err)
{
	if (b->ncols != cols->nfields)
		return sl_error_set(err, SL_EINVAL, "batch has %d columns, the load expects %d",
				    b->ncols, cols->nfields);
	for (int i = 0; i < b->ncols; i++) {
		if (!sl_type_equal(b->cols[i].type, cols->fields[i].type) ||
		    strcmp(b->schema->fields[i].name, cols->fields[i].name) != 0)
			return sl_error_set(err, SL_EINVAL,
					    "batch column %d (\"%s\") does not match the "
					    "load's column \"%s\"",
					    i + 1, b->schema->fields[i].name, cols->fields[i].name);
	}
	return 0;
}

int sl_wh_load_begin(sl_wh_loader **out, sl_wh *wh, const char *schema,
		     const char *table, const sl_schema *cols, sl_error *err)
{
	sl_wh_loader *l = NULL;
	int rc = sl_alloc_zeroed((void **)&l, sizeof *l, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	l->cols = sl_schema_copy(cols);
	if (!l->cols) {
		sl_free(l);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	rc = sl_wh_bload_open(&l->be, wh, schema, table, cols, false, err);
	if (rc < 0) {
		sl_schema_free(l->cols);
		sl_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int sl_wh_load_batch(sl_wh_loader *l, const sl_batch *b, sl_error *err)
{
	int rc = sl_wh_check_batch(l->cols, b, err);
	if (rc < 0)
		return rc;
	return l->be->wh->ops->load_write(l->be, b, 0, err);
}

int sl_wh_load_end(sl_wh_loader *l, int64_t *rows, sl_error *err)
{
	int64_t n = l->be->rows;
	int rc = l->be->wh->ops->load_finish(l->be, err);
	sl_schema_free(l->cols);
	sl_free(l);
	if (rows)
		*rows = rc == 0 ? n : 0;
	return rc;
}

void sl_wh_load_abort(sl_wh_loader *l)
{
	if (!l)
		return;
	l->be->wh->ops->load_abort(l->be);
	sl_schema_free(l->cols);
	sl_free(l);
}
