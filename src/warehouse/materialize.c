/*
 * materialize.c: SQL models built in the warehouse as dbt materializes
 * them — views, tables built under a temporary name and swapped in,
 * incremental appends, merges and delete+inserts with on_schema_change,
 * and seeds bulk loaded the same way — plus the SQL helpers snapshot.c
 * shares. What differs between dialects comes from the adapter's ops.
 */
#include "warehouse_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- columns */

int sl_wh_cols_add(sl_wh_cols *c, const char *name, const char *type)
{
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 16;
		char **n = sl_realloc(c->names, (size_t)cap * sizeof *n);
		if (!n)
			return SL_ENOMEM;
		c->names = n;
		char **t = sl_realloc(c->types, (size_t)cap * sizeof *t);
		if (!t)
			return SL_ENOMEM;
		c->types = t;
		c->cap = cap;
	}
	char *a = sl_strdup(name), *b = sl_strdup(type);
	if (!a || !b) {
		sl_free(a);
		sl_free(b);
		return SL_ENOMEM;
	}
	c->names[c->n] = a;
	c->types[c->n++] = b;
	return 0;
}

void sl_wh_cols_free(sl_wh_cols *c)
{
	for (int i = 0; i < c->n; i++) {
		sl_free(c->names[i]);
		sl_free(c->types[i]);
	}
	sl_free(c->names);
	sl_free(c->types);
	memset(c, 0, sizeof *c);
}

int sl_wh_cols_find(const sl_wh_cols *c, const char *name, bool fold)
{
	for (int i = 0; i < c->n; i++)
		if (fold ? strcasecmp(c->names[i], name) == 0 : strcmp(c->names[i], name) == 0)
			return i;
	return -1;
}

int sl_wh_columns(sl_wh *wh, const char *schema, const char *table, sl_wh_cols *out,
		  sl_error *err)
{
	return wh->ops->columns(wh, schema, table, out, err);
}

bool sl_wh_folds_case(const sl_wh *wh)
{
	return sl_wh_ident_rules_of(wh->ops->name).fold_case;
}

/* ------------------------------------------------------------------- SQL */

/* Appends a model's SQL: trailing blanks and semicolons cut, on its own
 * lines so that a trailing "-- comment" ends there. */
static int put_body(sl_buf *b, const char *sql)
{
	size_t n = strlen(sql);
	while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\t' ||
			 sql[n - 1] == '\n' || sql[n - 1] == '\r'))
		n--;
	if (sl_buf_putc(b, '\n') < 0 || sl_buf_append(b, sql, n) < 0 || sl_buf_putc(b, '\n') < 0)
		return SL_ENOMEM;
	return 0;
}

int sl_wh_sqlf(sl_wh *wh, sl_buf *b, sl_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;
	va_start(ap, fmt);
	for (const char *p = fmt; *p && rc == 0; p++) {
		if (*p != '%' || !p[1]) {
			if (sl_buf_putc(b, *p) < 0)
				rc = SL_ENOMEM;
			continue;
		}
		const char *s, *t;
		switch (*++p) {
		case 'I':
			rc = sl_wh_quote_ident(wh, b, va_arg(ap, const char *), err);
			break;
		case 'T':
			s = va_arg(ap, const char *);
			t = va_arg(ap, const char *);
			rc = sl_wh_quote_table(wh, b, s, t, err);
			break;
		case 'L':
			rc = wh->ops->quote_literal(b, va_arg(ap, const char *));
			break;
		case 'Q':
			rc = put_body(b, va_arg(ap, const char *));
			break;
		case 'D':
			rc = sl_buf_printf(b, "%lld", (long long)va_arg(ap, int64_t)) < 0 ? SL_ENOMEM : 0;
			break;
		case 's':
			rc = sl_buf_puts(b, va_arg(ap, const char *)) < 0 ? SL_ENOMEM : 0;
			break;
		default:
			rc = sl_buf_putc(b, *p) < 0 ? SL_ENOMEM : 0;
		}
	}
	va_end(ap);
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	return rc;
}

int sl_wh_run(sl_wh *wh, sl_buf *b, int64_t *changes, sl_error *err)
{
	if (changes)
		*changes = 0;
	int rc = wh->ops->exec(wh, b->data, changes, err);
	sl_buf_reset(b);
	return rc;
}

/* FNV-1a: a stable hash of a name for temporary names. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

char *sl_wh_temp_name(const sl_wh *wh, const char *name, const char *suffix)
{
	size_t n = strlen(name), sn = strlen(suffix), max = wh->ops->max_ident;
	sl_buf b = SL_BUF_INIT;
	if (!max || n + sn <= max) {
		if (sl_buf_puts(&b, name) < 0 || sl_buf_puts(&b, suffix) < 0)
			goto oom;
		return sl_buf_detach(&b);
	}
	size_t keep = max > sn + 9 ? max - sn - 9 : 0;
	while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
		keep--;
	if (sl_buf_printf(&b, "%.*s_%08x%s", (int)keep, name, (unsigned)name_hash(name),
			  suffix) < 0)
		goto oom;
	return sl_buf_detach(&b);
oom:
	sl_buf_free(&b);
	return NULL;
}

int sl_wh_drop_kind(sl_wh *wh, const char *schema, const char *name, sl_wh_relation kind,
		    sl_error *err)
{
	sl_buf q = SL_BUF_INIT;
	int rc = 0;
	if (kind == SL_WH_REL_NONE)
		return 0;
	rc = sl_wh_sqlf(wh, &q, err, "DROP %s IF EXISTS %T%s",
			kind == SL_WH_REL_VIEW ? "VIEW" : "TABLE", schema, name, wh->ops->drop_suffix);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	sl_buf_free(&q);
	return rc;
}

int sl_wh_swap_in(sl_wh *wh, const char *schema, const char *tmp, const char *name,
		  sl_wh_relation old, sl_error *err)
{
	sl_buf q = SL_BUF_INIT;
	int rc = sl_wh_drop_kind(wh, schema, name, old, err);
	bool pre = false;
	if (rc == 0 && wh->ops->rename_pre_sql) {
		rc = wh->ops->exec(wh, wh->ops->rename_pre_sql, NULL, err);
		pre = rc == 0;
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "ALTER TABLE %T RENAME TO %I", schema, tmp, name);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	if (pre && wh->ops->rename_post_sql) {
		sl_error e = SL_ERROR_INIT;
		int x = wh->ops->exec(wh, wh->ops->rename_post_sql, NULL, rc == 0 ? err : &e);
		if (rc == 0)
			rc = x;
	}
	sl_buf_free(&q);
	return rc;
}

int sl_wh_mat_prepare(sl_wh *wh, const char *schema, const char *name, sl_error *err)
{
	sl_buf q = SL_BUF_INIT;
	if (wh->in_tx)
		return sl_error_set(err, SL_EINTERNAL,
				    "%s: a model is built in its own transaction, and one is open",
				    wh->target);
	/* Refuse a name the warehouse cannot hold before touching anything. */
	int rc = sl_wh_quote_table(wh, &q, schema, name, err);
	sl_buf_free(&q);
	if (rc < 0)
		return rc;
	return sl_wh_ensure_schema(wh, schema, err);
}

static sl_wh_build_result *res_init(sl_wh_build_result *res, sl_wh_build_result *local)
{
	if (!res)
		res = local;
	memset(res, 0, sizeof *res);
	return res;
}

/* ------------------------------------------------------------- relations */

int sl_wh_relation_kind(sl_wh *wh, const char *schema, const char *name, sl_wh_relation *out,
			sl_error *err)
{
	*out = SL_WH_REL_NONE;
	return wh->ops->relation_kind(wh, schema, name, out, err);
}

int sl_wh_drop_relation(sl_wh *wh, const char *schema, const char *name, sl_error *err)
{
	sl_wh_relation kind;
	int rc = sl_wh_relation_kind(wh, schema, name, &kind, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, name, kind, err);
	return rc;
}

/* ----------------------------------------------------------------- table */

/*
 * Inside the open transaction: schema.name becomes the rows of sql, built
 * as <name>__dbt_tmp and swapped in. *rows gets their count.
 */
static int table_in_tx(sl_wh *wh, const char *schema, const char *name, const char *sql,
		       sl_wh_relation old, int64_t *rows, sl_error *err)
{
	sl_buf q = SL_BUF_INIT;
	char *tmp = sl_wh_temp_name(wh, name, "__dbt_tmp"), *count = NULL;
	int rc = tmp ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");

	*rows = 0;
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, tmp, SL_WH_REL_TABLE, err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "CREATE TABLE %T AS%Q", schema, tmp, sql);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, rows, err);
	if (rc == 0 && !wh->ops->ctas_counts) {
		rc = sl_wh_sqlf(wh, &q, err, "SELECT count(*) FROM %T", schema, tmp);
		if (rc == 0)
			rc = sl_wh_query_value(wh, q.data, &count, err);
		*rows = count ? strtoll(count, NULL, 10) : 0;
	}
	if (rc == 0)
		rc = sl_wh_swap_in(wh, schema, tmp, name, old, err);
	sl_free(count);
	sl_free(tmp);
	sl_buf_free(&q);
	return rc;
}

int sl_wh_build_table(sl_wh *wh, const char *schema, const char *name, const char *sql,
		      sl_wh_build_result *res, sl_error *err)
{
	sl_wh_build_result local;
	sl_wh_relation old = SL_WH_REL_NONE;
	int64_t rows = 0;
	int rc;

	res = res_init(res, &local);
	rc = sl_wh_mat_prepare(wh, schema, name, err);
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc == 0)
		rc = sl_wh_relation_kind(wh, schema, name, &old, err);
	if (rc == 0)
		rc = table_in_tx(wh, schema, name, sql, old, &rows, err);
	if (rc == 0)
		rc = sl_wh_commit(wh, err);
	if (rc < 0) {
		sl_wh_rollback(wh);
		return rc;
	}
	res->rows_inserted = rows;
	res->created = old == SL_WH_REL_NONE;
	snprintf(res->message, sizeof res->message, "SELECT %lld", (long long)rows);
	return 0;
}

/* ------------------------------------------------------------------ view */

int sl_wh_build_view(sl_wh *wh, const char *schema, const char *name, const char *sql,
		     sl_wh_build_result *res, sl_error *err)
{
	sl_wh_build_result local;
	sl_wh_relation old = SL_WH_REL_NONE;
	sl_buf q = SL_BUF_INIT;
	char sn[200], nn[200];
	int rc;

	res = res_init(res, &local);
	rc = sl_wh_mat_prepare(wh, schema, name, err);
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc == 0)
		rc = sl_wh_relation_kind(wh, schema, name, &old, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, name, old, err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "CREATE VIEW %T AS%Q", schema, name, sql);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	/* SQLite resolves a view's tables when it is read: read it once now,
	 * so a view over a missing table fails here and not downstream. */
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "SELECT * FROM %T LIMIT 0", schema, name);
	if (rc == 0)
		rc = sl_wh_query(wh, q.data, NULL, NULL, err);
	if (rc == 0)
		rc = sl_wh_commit(wh, err);
	sl_buf_free(&q);
	if (rc < 0) {
		sl_wh_rollback(wh);
		if (!wh->ops->view_needs_table || !wh->ops->view_needs_table(err))
			return rc;
		sl_warn("%s: view %s.%s is built as a table: a %s view cannot read the tables "
			"of another schema",
			wh->target, sl_wh_printable(schema, sn, sizeof sn),
			sl_wh_printable(name, nn, sizeof nn), wh->ops->name);
		sl_error_clear(err);
		rc = sl_wh_build_table(wh, schema, name, sql, res, err);
		if (rc == 0)
			res->as_table = true;
		return rc;
	}
	res->rows_inserted = -1;
	res->created = old == SL_WH_REL_NONE;
	snprintf(res->message, sizeof res->message, "CREATE VIEW");
	return 0;
}

/* ----------------------------------------------------------- incremental */

/* Appends "a, b" as c's names from list (n), each behind prefix. */
static int name_list(sl_wh *wh, sl_buf *q, char *const *names, int n, const char *prefix,
		     sl_error *err)
{
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = sl_wh_sqlf(wh, q, err, "%s%s%I", i ? ", " : "", prefix, names[i]);
	return rc;
}

/* " AND DBT_INTERNAL_DEST."k" = DBT_INTERNAL_SOURCE."k"" per key, then the
 * predicates. */
static int key_match(sl_wh *wh, sl_buf *q, const sl_wh_incremental *inc, bool preds,
		     sl_error *err)
{
	int rc = 0;
	for (int i = 0; i < inc->nunique_key && rc == 0; i++)
		rc = sl_wh_sqlf(wh, q, err, "%sDBT_INTERNAL_SOURCE.%I = DBT_INTERNAL_DEST.%I",
				i ? " AND " : "", inc->unique_key[i], inc->unique_key[i]);
	for (int i = 0; preds && i < inc->npredicates && rc == 0; i++)
		rc = sl_wh_sqlf(wh, q, err, " AND (%s)", inc->predicates[i]);
	return rc;
}

/* Appends "[a, b]" of names to out, for messages. */
static void list_names(sl_buf *out, const char *title, char *const *names, int n)
{
	if (!n)
		return;
	sl_buf_printf(out, "; %s: [", title);
	for (int i = 0; i < n; i++)
		sl_buf_printf(out, "%s%s", i ? ", " : "", names[i]);
	sl_buf_putc(out, ']');
}

/*
 * Reconciles the table's columns with the new rows' (stage) per
 * on_schema_change and fills *ins with the columns to insert.
 */
static int reconcile(sl_wh *wh, const char *schema, const char *name, const char *stage,
		     sl_wh_on_schema_change osc, sl_wh_cols *ins, sl_error *err)
{
	sl_wh_cols src = {0}, dst = {0}, added = {0}, removed = {0}, changed = {0};
	sl_buf q = SL_BUF_INIT, msg = SL_BUF_INIT;
	bool fold = sl_wh_folds_case(wh);
	char sn[200], nn[200];
	int rc = sl_wh_columns(wh, schema, stage, &src, err);
	if (rc == 0)
		rc = sl_wh_columns(wh, schema, name, &dst, err);
	for (int i = 0; rc == 0 && i < src.n; i++) {
		int j = sl_wh_cols_find(&dst, src.names[i], fold);
		if (j < 0)
			rc = sl_wh_cols_add(&added, src.names[i], src.types[i]);
		else if (wh->ops->typed_columns && strcmp(src.types[i], dst.types[j]) != 0)
			rc = sl_wh_cols_add(&changed, src.names[i], src.types[i]);
	}
	for (int j = 0; rc == 0 && j < dst.n; j++)
		if (sl_wh_cols_find(&src, dst.names[j], fold) < 0)
			rc = sl_wh_cols_add(&removed, dst.names[j], dst.types[j]);
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	if (rc < 0)
		goto done;

	if (osc == SL_WH_OSC_FAIL && (added.n || removed.n || changed.n)) {
		sl_buf types = SL_BUF_INIT;
		char **shown = sl_calloc((size_t)changed.n + 1, sizeof *shown);
		for (int i = 0; shown && i < changed.n; i++) {
			int j = sl_wh_cols_find(&dst, changed.names[i], fold);
			sl_buf_reset(&types);
			sl_buf_printf(&types, "%s %s -> %s", changed.names[i], dst.types[j],
				      changed.types[i]);
			shown[i] = sl_buf_detach(&types);
		}
		list_names(&msg, "source columns not in target", added.names, added.n);
		list_names(&msg, "target columns not in source", removed.names, removed.n);
		if (shown)
			list_names(&msg, "new column types", shown, changed.n);
		rc = sl_error_set(err, SL_EINVAL,
				  "The source and target schemas on this incremental model are out "
				  "of sync! (model %s.%s%s) Set on_schema_change to "
				  "append_new_columns or sync_all_columns, or rebuild the model "
				  "with --full-refresh",
				  sl_wh_printable(schema, sn, sizeof sn),
				  sl_wh_printable(name, nn, sizeof nn), msg.data ? msg.data : "");
		for (int i = 0; shown && i < changed.n; i++)
			sl_free(shown[i]);
		sl_free(shown);
		sl_buf_free(&types);
		goto done;
	}
	if (osc == SL_WH_OSC_APPEND_NEW || osc == SL_WH_OSC_SYNC_ALL) {
		for (int i = 0; rc == 0 && i < added.n; i++) {
			rc = sl_wh_sqlf(wh, &q, err, "ALTER TABLE %T ADD COLUMN %I%s%s", schema, name,
					added.names[i], *added.types[i] ? " " : "", added.types[i]);
			if (rc == 0)
				rc = sl_wh_run(wh, &q, NULL, err);
		}
	}
	if (osc == SL_WH_OSC_SYNC_ALL) {
		for (int i = 0; rc == 0 && i < removed.n; i++) {
			rc = sl_wh_sqlf(wh, &q, err, "ALTER TABLE %T DROP COLUMN %I", schema, name,
					removed.names[i]);
			if (rc == 0)
				rc = sl_wh_run(wh, &q, NULL, err);
		}
		for (int i = 0; rc == 0 && wh->ops->alter_type && i < changed.n; i++) {
			sl_buf qt = SL_BUF_INIT, qc = SL_BUF_INIT;
			rc = sl_wh_quote_table(wh, &qt, schema, name, err);
			if (rc == 0)
				rc = sl_wh_quote_ident(wh, &qc, changed.names[i], err);
			if (rc == 0)
				rc = wh->ops->alter_type(wh, qt.data, qc.data, changed.types[i], err);
			sl_buf_free(&qt);
			sl_buf_free(&qc);
		}
	}
	for (int i = 0; rc == 0 && i < src.n; i++) {
		bool have = sl_wh_cols_find(&dst, src.names[i], fold) >= 0 ||
			    osc == SL_WH_OSC_APPEND_NEW || osc == SL_WH_OSC_SYNC_ALL;
		if (have && sl_wh_cols_add(ins, src.names[i], src.types[i]) < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (rc == 0 && ins->n == 0)
		rc = sl_error_set(err, SL_EINVAL,
				  "incremental model %s.%s: its SELECT shares no column with the "
				  "table; rebuild it with --full-refresh",
				  sl_wh_printable(schema, sn, sizeof sn),
				  sl_wh_printable(name, nn, sizeof nn));
done:
	sl_wh_cols_free(&src);
	sl_wh_cols_free(&dst);
	sl_wh_cols_free(&added);
	sl_wh_cols_free(&removed);
	sl_wh_cols_free(&changed);
	sl_buf_free(&q);
	sl_buf_free(&msg);
	return rc;
}

/* Moves the stage's rows into the table per strategy. */
int sl_wh_incremental_write(sl_wh *wh, const char *schema, const char *name, const char *stage,
			    const sl_wh_incremental *inc, const sl_wh_cols *ins,
			    sl_wh_build_result *res, sl_error *err)
{
	sl_buf q = SL_BUF_INIT;
	bool keyed = inc->nunique_key > 0 && inc->strategy != SL_WH_INC_APPEND;
	int rc = 0;

	if (keyed && inc->strategy == SL_WH_INC_MERGE) {
		rc = sl_wh_sqlf(wh, &q, err, "UPDATE %T AS DBT_INTERNAL_DEST SET ", schema, name);
		for (int i = 0; rc == 0 && i < ins->n; i++)
			rc = sl_wh_sqlf(wh, &q, err, "%s%I = DBT_INTERNAL_SOURCE.%I", i ? ", " : "",
					ins->names[i], ins->names[i]);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, &q, err, " FROM %T AS DBT_INTERNAL_SOURCE WHERE ", schema,
					stage);
		if (rc == 0)
			rc = key_match(wh, &q, inc, true, err);
		if (rc == 0)
			rc = sl_wh_run(wh, &q, &res->rows_updated, err);
	}
	if (rc == 0 && keyed && inc->strategy == SL_WH_INC_DELETE_INSERT) {
		rc = sl_wh_sqlf(wh, &q, err,
				"DELETE FROM %T AS DBT_INTERNAL_DEST WHERE EXISTS (SELECT 1 FROM %T "
				"AS DBT_INTERNAL_SOURCE WHERE ",
				schema, name, schema, stage);
		if (rc == 0)
			rc = key_match(wh, &q, inc, false, err);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, &q, err, ")");
		for (int i = 0; rc == 0 && i < inc->npredicates; i++)
			rc = sl_wh_sqlf(wh, &q, err, " AND (%s)", inc->predicates[i]);
		if (rc == 0)
			rc = sl_wh_run(wh, &q, &res->rows_deleted, err);
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "INSERT INTO %T (", schema, name);
	if (rc == 0)
		rc = name_list(wh, &q, ins->names, ins->n, "", err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, ") SELECT ");
	if (rc == 0)
		rc = name_list(wh, &q, ins->names, ins->n, "DBT_INTERNAL_SOURCE.", err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, " FROM %T AS DBT_INTERNAL_SOURCE", schema, stage);
	if (rc == 0 && keyed && inc->strategy == SL_WH_INC_MERGE) {
		rc = sl_wh_sqlf(wh, &q, err, " WHERE NOT EXISTS (SELECT 1 FROM %T AS "
				"DBT_INTERNAL_DEST WHERE ", schema, name);
		if (rc == 0)
			rc = key_match(wh, &q, inc, true, err);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, &q, err, ")");
	}
	if (rc == 0)
		rc = sl_wh_run(wh, &q, &res->rows_inserted, err);
	if (rc == 0 && inc->strategy == SL_WH_INC_MERGE)
		snprintf(res->message, sizeof res->message, "MERGE %lld",
			 (long long)(res->rows_inserted + res->rows_updated));
	else if (rc == 0)
		snprintf(res->message, sizeof res->message, "INSERT 0 %lld",
			 (long long)res->rows_inserted);
	sl_buf_free(&q);
	return rc;
}

int sl_wh_build_incremental(sl_wh *wh, const char *schema, const char *name, const char *sql,
			    const sl_wh_incremental *inc, sl_wh_build_result *res,
			    sl_error *err)
{
	sl_wh_build_result local;
	sl_wh_relation old = SL_WH_REL_NONE;
	sl_wh_cols ins = {0};
	sl_buf q = SL_BUF_INIT;
	char *stage = NULL;
	int rc;

	res = res_init(res, &local);
	rc = sl_wh_mat_prepare(wh, schema, name, err);
	if (rc == 0)
		rc = sl_wh_relation_kind(wh, schema, name, &old, err);
	if (rc < 0)
		return rc;
	if (old != SL_WH_REL_TABLE || inc->full_refresh)
		return sl_wh_build_table(wh, schema, name, sql, res, err);

	stage = sl_wh_temp_name(wh, name, "__dbt_tmp");
	rc = stage ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, stage, SL_WH_REL_TABLE, err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "CREATE TABLE %T AS%Q", schema, stage, sql);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	if (rc == 0)
		rc = reconcile(wh, schema, name, stage, inc->on_schema_change, &ins, err);
	if (rc == 0)
		rc = (wh->ops->incremental_write ? wh->ops->incremental_write
						 : sl_wh_incremental_write)(wh, schema, name, stage,
									     inc, &ins, res, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, stage, SL_WH_REL_TABLE, err);
	if (rc == 0)
		rc = sl_wh_commit(wh, err);
	if (rc < 0) {
		sl_wh_rollback(wh);
		memset(res, 0, sizeof *res);
	}
	sl_wh_cols_free(&ins);
	sl_buf_free(&q);
	sl_free(stage);
	return rc;
}

/* ------------------------------------------------------------------ seeds */

/* Clears fits32[i] when an int64 column of b holds a value beyond 32 bits. */
static void note_int32(const sl_schema *cols, const sl_batch *b, bool *fits32)
{
	for (int i = 0; i < cols->nfields; i++) {
		const sl_column *c = &b->cols[i];
		if (c->type.id != SL_INT64 || !fits32[i])
			continue;
		for (int64_t r = 0; r < b->nrows && fits32[i]; r++)
			if (!sl_column_is_null(c, r) &&
			    (c->v.i64[r] < INT32_MIN || c->v.i64[r] > INT32_MAX))
				fits32[i] = false;
	}
}

/* Whether tables a and b of schema have the same columns, in order, with
 * the same declared types. */
static int same_columns(sl_wh *wh, const char *schema, const char *a, const char *b,
			bool *out, sl_error *err)
{
	sl_wh_cols ca = {0}, cb = {0};
	int rc = wh->ops->columns(wh, schema, a, &ca, err);
	if (rc == 0)
		rc = wh->ops->columns(wh, schema, b, &cb, err);
	*out = rc == 0 && ca.n == cb.n;
	for (int i = 0; *out && i < ca.n; i++)
		*out = strcmp(ca.names[i], cb.names[i]) == 0 &&
		       strcasecmp(ca.types[i], cb.types[i]) == 0;
	sl_wh_cols_free(&ca);
	sl_wh_cols_free(&cb);
	return rc;
}

/* Empties schema.name and copies the rows of schema.tmp into it, then
 * drops tmp: the table keeps its identity, and the views over it. */
static int reload_in_place(sl_wh *wh, const char *schema, const char *tmp, const char *name,
			   const sl_schema *cols, sl_error *err)
{
	sl_buf q = SL_BUF_INIT, list = SL_BUF_INIT;
	int rc = sl_wh_sqlf(wh, &q, err, "%s %T", wh->ops->truncate_sql, schema, name);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	for (int i = 0; rc == 0 && i < cols->nfields; i++)
		rc = sl_wh_sqlf(wh, &list, err, "%s%I", i ? ", " : "", cols->fields[i].name);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "INSERT INTO %T (%s) SELECT %s FROM %T", schema, name,
				list.data, list.data, schema, tmp);
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, tmp, SL_WH_REL_TABLE, err);
	sl_buf_free(&q);
	sl_buf_free(&list);
	return rc;
}

/* Refuses a swap that would drop views over schema.name with it. */
static int check_no_dependents(sl_wh *wh, const char *schema, const char *name, sl_error *err)
{
	sl_buf views = SL_BUF_INIT;
	int rc = wh->ops->dependent_views ? wh->ops->dependent_views(wh, schema, name, &views, err)
					  : 0;
	if (rc == 0 && views.len)
		rc = sl_error_set(err, SL_ECONFIG,
				  "the seed's columns or their types changed, and replacing its "
				  "table would drop the views built on it: %s; run with "
				  "--full-refresh to drop them with it (then rebuild them), or "
				  "drop them first",
				  views.data);
	sl_buf_free(&views);
	return rc;
}

int sl_wh_build_table_from(sl_wh *wh, const char *schema, const char *name,
			   const sl_schema *cols, const char *const *sql_types,
			   bool full_refresh, sl_wh_batch_next next, void *ud,
			   sl_wh_build_result *res, sl_error *err)
{
	sl_wh_build_result local;
	sl_wh_relation old = SL_WH_REL_NONE;
	sl_wh_bload *l = NULL;
	sl_buf q = SL_BUF_INIT;
	char *tmp = NULL, tbuf[64];
	bool *fits32 = NULL;
	int64_t rows = 0;
	int rc;

	res = res_init(res, &local);
	if (cols->nfields == 0)
		return sl_error_set(err, SL_EINVAL, "a seed needs at least one column");
	rc = sl_wh_mat_prepare(wh, schema, name, err);
	if (rc < 0)
		return rc;
	fits32 = sl_calloc((size_t)cols->nfields, sizeof *fits32);
	if (!fits32)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < cols->nfields; i++)
		fits32[i] = true;
	tmp = sl_wh_temp_name(wh, name, "__dbt_tmp");
	rc = tmp ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc == 0)
		rc = sl_wh_relation_kind(wh, schema, name, &old, err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, tmp, SL_WH_REL_TABLE, err);
	/* A type given is declared at once where declared types do not bind
	 * the values (SQLite); elsewhere the column loads as its own type and
	 * is converted after. */
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, "CREATE TABLE %T (", schema, tmp);
	for (int i = 0; rc == 0 && i < cols->nfields; i++) {
		const char *t = sql_types && sql_types[i] && !wh->ops->alter_type
					? sql_types[i]
					: wh->ops->type_sql(cols->fields[i].type, tbuf, sizeof tbuf);
		rc = sl_wh_sqlf(wh, &q, err, "%s%I %s", i ? ", " : "", cols->fields[i].name, t);
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, &q, err, ")");
	if (rc == 0)
		rc = sl_wh_run(wh, &q, NULL, err);
	if (rc == 0)
		rc = sl_wh_bload_open(&l, wh, schema, tmp, cols, false, err);
	while (rc == 0) {
		const sl_batch *b = NULL;
		rc = next(ud, &b, err);
		if (rc < 0 || !b)
			break;
		rc = sl_wh_check_batch(cols, b, err);
		if (rc == 0)
			note_int32(cols, b, fits32);
		if (rc == 0)
			rc = wh->ops->load_write(l, b, 0, err);
	}
	if (l) {
		rows = l->rows;
		if (rc == 0)
			rc = wh->ops->load_finish(l, err);
		else
			wh->ops->load_abort(l);
	}
	for (int i = 0; rc == 0 && wh->ops->alter_type && i < cols->nfields; i++) {
		char lbuf[64], sbuf[64];
		const char *to = sql_types ? sql_types[i] : NULL;
		if (!to && wh->ops->seed_type) {
			to = wh->ops->seed_type(cols->fields[i].type, fits32[i], sbuf, sizeof sbuf);
			if (to && strcmp(to, wh->ops->type_sql(cols->fields[i].type, lbuf,
								 sizeof lbuf)) == 0)
				to = NULL;
		}
		if (!to)
			continue;
		sl_buf qt = SL_BUF_INIT, qc = SL_BUF_INIT;
		rc = sl_wh_quote_table(wh, &qt, schema, tmp, err);
		if (rc == 0)
			rc = sl_wh_quote_ident(wh, &qc, cols->fields[i].name, err);
		if (rc == 0)
			rc = wh->ops->alter_type(wh, qt.data, qc.data, to, err);
		sl_buf_free(&qt);
		sl_buf_free(&qc);
	}
	bool same = false;
	if (rc == 0 && old == SL_WH_REL_TABLE && !full_refresh)
		rc = same_columns(wh, schema, tmp, name, &same, err);
	if (rc == 0 && same)
		rc = reload_in_place(wh, schema, tmp, name, cols, err);
	else if (rc == 0 && old == SL_WH_REL_TABLE && !full_refresh)
		rc = check_no_dependents(wh, schema, name, err);
	if (rc == 0 && !same)
		rc = sl_wh_swap_in(wh, schema, tmp, name, old, err);
	if (rc == 0)
		rc = sl_wh_commit(wh, err);
	if (rc < 0)
		sl_wh_rollback(wh);
	else {
		res->rows_inserted = rows;
		res->created = old == SL_WH_REL_NONE;
		snprintf(res->message, sizeof res->message, "INSERT %lld", (long long)rows);
	}
	sl_buf_free(&q);
	sl_free(tmp);
	sl_free(fits32);
	return rc;
}
