/*
 * load.c: one table's load for a run as one transaction — schema evolution,
 * append / replace / merge (staging table, dedup by key with the latest
 * cursor winning, stale-row protection against newer warehouse rows) and
 * the _sluice_loads bookkeeping written in the same transaction.
 */
#include "warehouse_int.h"

#include <stdio.h>
#include <string.h>

/* A SQL text builder whose first error sticks, so statements read as text. */
typedef struct sqlb {
	sl_buf b;
	int rc;
	sl_wh *wh;
	sl_error *err;
} sqlb;

static void sb_init(sqlb *s, sl_wh *wh, sl_error *err)
{
	memset(s, 0, sizeof *s);
	s->wh = wh;
	s->err = err;
}

static void sb_oom(sqlb *s)
{
	if (s->rc == 0)
		s->rc = sl_error_set(s->err, SL_ENOMEM, "out of memory");
}

static void sb_puts(sqlb *s, const char *t)
{
	if (s->rc == 0 && sl_buf_puts(&s->b, t) < 0)
		sb_oom(s);
}

static void sb_ident(sqlb *s, const char *name)
{
	if (s->rc == 0)
		s->rc = sl_wh_quote_ident(s->wh, &s->b, name, s->err);
}

/* alias.name, or just name when alias is NULL */
static void sb_col(sqlb *s, const char *alias, const char *name)
{
	if (alias) {
		sb_puts(s, alias);
		sb_puts(s, ".");
	}
	sb_ident(s, name);
}

static void sb_table(sqlb *s, const char *schema, const char *table)
{
	if (s->rc == 0)
		s->rc = sl_wh_quote_table(s->wh, &s->b, schema, table, s->err);
}

static void sb_literal(sqlb *s, const char *v)
{
	if (s->rc == 0 && (v ? sl_wh_quote_literal(s->wh, &s->b, v) : sl_buf_puts(&s->b, "NULL")) < 0)
		sb_oom(s);
}

/* Column list "a", "b" (with alias prefix when set). */
static void sb_cols(sqlb *s, const char *alias, char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			sb_puts(s, ", ");
		sb_col(s, alias, names[i]);
	}
}

/* Runs the built statement; frees the text. */
static int sb_run(sqlb *s, int64_t *changes)
{
	int rc = s->rc;
	if (rc == 0)
		rc = s->wh->ops->exec(s->wh, s->b.data, changes, s->err);
	sl_buf_free(&s->b);
	s->rc = 0;
	return rc;
}

/* ------------------------------------------------------------ the load */

typedef struct version_rows {
	int64_t version;
	int64_t rows;
} version_rows;

struct sl_wh_table_load {
	sl_wh *wh;
	char *schema;
	char *table;
	sl_schema *cols;
	sl_wh_write write;
	char **pk;
	int npk;
	int cursor; /* index in cols, -1: none */
	char *run_id;
	char *lake_table_id;
	bool recreated; /* replace/rebuild dropped and recreated the table */
	int64_t opt_version;
	char **names; /* column names of cols, borrowed from cols */
	sl_wh_bload *bl;
	sl_wh_load_result res;
	int nver;
	int capver;
	version_rows *vers;
};

static void table_load_free(sl_wh_table_load *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->npk; i++)
		sl_free(t->pk[i]);
	sl_free(t->pk);
	sl_free(t->names);
	sl_free(t->schema);
	sl_free(t->table);
	sl_free(t->run_id);
	sl_free(t->lake_table_id);
	sl_free(t->vers);
	sl_schema_free(t->cols);
	sl_free(t);
}

/* "<table>__sluice_pk", or a hashed name when that is too long; sl_malloc'd. */
static char *index_name(const sl_wh *wh, const char *table)
{
	size_t len = strlen(table);
	if (!wh->ops->max_ident || len + 11 <= wh->ops->max_ident) {
		char *s = sl_malloc(len + 12);
		if (s) {
			memcpy(s, table, len);
			memcpy(s + len, "__sluice_pk", 12);
		}
		return s;
	}
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)table; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	char out[32];
	snprintf(out, sizeof out, "sluice_pk_%016llx", (unsigned long long)h);
	return sl_strdup(out);
}

static int check_opts(sl_wh_table_load *t, const sl_wh_load_opts *o, sl_error *err)
{
	char shown[200];
	const sl_schema *c = t->cols;
	if (c->nfields == 0)
		return sl_error_set(err, SL_EINVAL, "a load needs at least one column");
	if (o->write == SL_WH_MERGE) {
		if (o->nprimary_key <= 0)
			return sl_error_set(err, SL_ECONFIG,
					    "write: merge needs a primary_key; declare it in "
					    "the source table or use write: append");
		for (int i = 0; i < c->nfields; i++)
			if (!strcmp(c->fields[i].name, SL_WH_VERSION_COL) ||
			    !strcmp(c->fields[i].name, SL_WH_SEQ_COL))
				return sl_error_set(err, SL_EINVAL,
						    "column name \"%s\" is reserved by sluice's "
						    "merge; rename the column",
						    c->fields[i].name);
		for (int i = 0; i < o->nprimary_key; i++)
			if (sl_schema_find(c, o->primary_key[i]) < 0)
				return sl_error_set(err, SL_ECONFIG,
						    "primary key column \"%s\" is not a column "
						    "of the table",
						    sl_wh_printable(o->primary_key[i], shown,
								    sizeof shown));
		if (o->cursor && sl_schema_find(c, o->cursor) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "cursor column \"%s\" is not a column of the table",
					    sl_wh_printable(o->cursor, shown, sizeof shown));
	}
	/* Every name must be one the warehouse can hold. */
	sl_buf scratch = SL_BUF_INIT;
	int rc = sl_wh_quote_table(t->wh, &scratch, t->schema, t->table, err);
	for (int i = 0; rc == 0 && i < c->nfields; i++)
		rc = sl_wh_quote_ident(t->wh, &scratch, c->fields[i].name, err);
	sl_buf_free(&scratch);
	return rc;
}

static int create_loads_table_once(sl_wh_table_load *t, sl_error *err);

/*
 * The bookkeeping table, made before the load's transaction: loads of
 * several tables running at once race to create it, and PostgreSQL fails
 * the loser of CREATE TABLE IF NOT EXISTS with a duplicate key (in a
 * transaction, the whole load with it); outside one, the second try finds
 * the table there.
 */
static int create_loads_table(sl_wh_table_load *t, sl_error *err)
{
	int rc = create_loads_table_once(t, err);
	if (rc == SL_EDB) {
		sl_error_clear(err);
		rc = create_loads_table_once(t, err);
	}
	return rc;
}

static int create_loads_table_once(sl_wh_table_load *t, sl_error *err)
{
	char i64[32], ts[32];
	sqlb s;
	sb_init(&s, t->wh, err);
	t->wh->ops->type_sql(sl_type_make(SL_INT64), i64, sizeof i64);
	t->wh->ops->type_sql(sl_type_make(SL_TIMESTAMP), ts, sizeof ts);
	sb_puts(&s, "CREATE TABLE IF NOT EXISTS ");
	sb_table(&s, t->schema, SL_WH_LOADS_TABLE);
	sb_puts(&s, " (table_name TEXT NOT NULL, lake_version ");
	sb_puts(&s, i64);
	sb_puts(&s, " NOT NULL, run_id TEXT, rows ");
	sb_puts(&s, i64);
	sb_puts(&s, " NOT NULL, loaded_at ");
	sb_puts(&s, ts);
	sb_puts(&s, " NOT NULL, lake_table_id TEXT)");
	return sb_run(&s, NULL);
}

static int create_stage(sl_wh_table_load *t, sl_error *err)
{
	const char *tmp = t->wh->ops->temp_schema;
	sqlb s;
	char *ix = NULL;
	int rc;

	sb_init(&s, t->wh, err);
	sb_puts(&s, "DROP TABLE IF EXISTS ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	rc = sb_run(&s, NULL);
	if (rc == 0)
		rc = sl_wh_create_table_ex(t->wh, "CREATE TEMP TABLE", NULL, SL_WH_STAGE_TABLE,
					   t->cols, true, err);
	if (rc < 0)
		return rc;
	/* A plain index on the key: the merge's lookups need it, and earlier
	 * append loads may hold duplicate keys a unique index would reject. */
	ix = index_name(t->wh, t->table);
	if (!ix)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	sb_puts(&s, "CREATE INDEX IF NOT EXISTS ");
	if (t->wh->ops->index_on_schema) {
		sb_table(&s, t->schema, ix);
		sb_puts(&s, " ON ");
		sb_ident(&s, t->table);
	} else {
		sb_ident(&s, ix);
		sb_puts(&s, " ON ");
		sb_table(&s, t->schema, t->table);
	}
	sb_puts(&s, " (");
	sb_cols(&s, NULL, t->pk, t->npk);
	sb_puts(&s, ")");
	rc = sb_run(&s, NULL);
	sl_free(ix);
	return rc;
}

int sl_wh_table_load_begin(sl_wh_table_load **out, sl_wh *wh, const char *schema,
			   const char *table, const sl_schema *cols,
			   const sl_wh_load_opts *opts, sl_error *err)
{
	sl_wh_load_opts defaults = SL_WH_LOAD_OPTS_INIT;
	sl_wh_table_load *t = NULL;
	char sn[200], tn[200];
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (wh->in_tx)
		return sl_error_set(err, SL_EINTERNAL,
				    "load %s.%s: a transaction is already open", schema, table);
	rc = sl_alloc_zeroed((void **)&t, sizeof *t, err);
	if (rc < 0)
		return rc;
	t->wh = wh;
	t->write = opts->write;
	t->cursor = -1;
	t->opt_version = opts->lake_version;
	t->schema = sl_strdup(schema);
	t->table = sl_strdup(table);
	t->cols = sl_schema_copy(cols);
	t->names = sl_calloc((size_t)cols->nfields + 1, sizeof *t->names);
	t->run_id = opts->run_id ? sl_strdup(opts->run_id) : NULL;
	t->lake_table_id = opts->lake_table_id ? sl_strdup(opts->lake_table_id) : NULL;
	if (!t->schema || !t->table || !t->cols || !t->names || (opts->run_id && !t->run_id) ||
	    (opts->lake_table_id && !t->lake_table_id))
		goto oom;
	for (int i = 0; i < cols->nfields; i++)
		t->names[i] = t->cols->fields[i].name;
	rc = check_opts(t, opts, err);
	if (rc < 0)
		goto fail;
	if (opts->write == SL_WH_MERGE) {
		t->pk = sl_calloc((size_t)opts->nprimary_key, sizeof *t->pk);
		if (!t->pk)
			goto oom;
		for (; t->npk < opts->nprimary_key; t->npk++)
			if (!(t->pk[t->npk] = sl_strdup(opts->primary_key[t->npk])))
				goto oom;
		if (opts->cursor)
			t->cursor = sl_schema_find(t->cols, opts->cursor);
	}

	rc = sl_wh_ensure_schema(wh, schema, err);
	if (rc == 0)
		rc = create_loads_table(t, err);
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc < 0)
		goto fail;
	rc = sl_wh_evolve_table(wh, schema, table, cols, &t->res.table_created, err);
	if (rc == SL_EINVAL && (t->write == SL_WH_REPLACE || opts->truncate)) {
		/* The table's rows are all being replaced anyway: a column whose
		 * type changed is recreated with the table, in this transaction
		 * (evolve checks every column before it changes anything). */
		int64_t before = 0;
		sqlb s;
		sb_init(&s, wh, err);
		sb_puts(&s, "SELECT count(*) FROM ");
		sb_table(&s, schema, table);
		char *v = NULL;
		rc = s.rc ? s.rc : sl_wh_query_value(wh, s.b.data, &v, err);
		sl_buf_free(&s.b);
		if (rc == 0 && v && sl_parse_int64(v, strlen(v), &before) < 0)
			rc = sl_error_set(err, SL_EDB, "%s: count(*) gave '%s', not a number",
					  wh->target, v);
		sl_free(v);
		if (rc == 0)
			rc = sl_wh_drop_table(wh, schema, table, err);
		if (rc == 0)
			rc = sl_wh_evolve_table(wh, schema, table, cols, NULL, err);
		t->res.rows_replaced = before;
		t->recreated = true;
	}
	if (rc < 0) {
		sl_wh_rollback(wh);
		table_load_free(t);
		return rc; /* already names the table */
	}
	if ((t->write == SL_WH_REPLACE || opts->truncate) && !t->res.table_created &&
	    !t->recreated) {
		sqlb s;
		sb_init(&s, wh, err);
		sb_puts(&s, "DELETE FROM ");
		sb_table(&s, schema, table);
		rc = sb_run(&s, &t->res.rows_replaced);
	}
	if (rc == 0 && opts->truncate) {
		/* A rebuild loads the lake table anew: the versions loaded before
		 * (of an earlier lake table, or above a lake that restarted lower)
		 * no longer describe the table. */
		sqlb s;
		sb_init(&s, wh, err);
		sb_puts(&s, "DELETE FROM ");
		sb_table(&s, schema, SL_WH_LOADS_TABLE);
		sb_puts(&s, " WHERE table_name = ");
		sb_literal(&s, table);
		rc = sb_run(&s, NULL);
	}
	if (rc == 0 && t->write == SL_WH_MERGE)
		rc = create_stage(t, err);
	if (rc == 0) {
		if (t->write == SL_WH_MERGE)
			rc = sl_wh_bload_open(&t->bl, wh, wh->ops->temp_schema, SL_WH_STAGE_TABLE,
					      t->cols, true, err);
		else
			rc = sl_wh_bload_open(&t->bl, wh, schema, table, t->cols, false, err);
	}
	if (rc < 0)
		goto fail;
	*out = t;
	return 0;
oom:
	rc = sl_error_set(err, SL_ENOMEM, "out of memory");
fail:
	sl_wh_rollback(wh);
	table_load_free(t);
	return sl_error_prefix(err, "load %s.%s: ", sl_wh_printable(schema, sn, sizeof sn),
			       sl_wh_printable(table, tn, sizeof tn));
}

static int note_version(sl_wh_table_load *t, int64_t version, int64_t rows, sl_error *err)
{
	for (int i = 0; i < t->nver; i++) {
		if (t->vers[i].version == version) {
			t->vers[i].rows += rows;
			return 0;
		}
	}
	if (t->nver == t->capver) {
		int cap = t->capver ? t->capver * 2 : 8;
		version_rows *v = sl_realloc(t->vers, (size_t)cap * sizeof *v);
		if (!v)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		t->vers = v;
		t->capver = cap;
	}
	t->vers[t->nver].version = version;
	t->vers[t->nver].rows = rows;
	t->nver++;
	return 0;
}

int sl_wh_table_load_batch(sl_wh_table_load *t, const sl_batch *b, int64_t lake_version,
			   sl_error *err)
{
	char sn[200], tn[200];
	int rc = sl_wh_check_batch(t->cols, b, err);
	if (rc == 0)
		rc = t->wh->ops->load_write(t->bl, b, lake_version, err);
	if (rc == 0)
		rc = note_version(t, lake_version, b->nrows, err);
	if (rc < 0)
		return sl_error_prefix(err, "load %s.%s: ",
				       sl_wh_printable(t->schema, sn, sizeof sn),
				       sl_wh_printable(t->table, tn, sizeof tn));
	t->res.rows_received += b->nrows;
	return 0;
}

/* Appends "a.k1 = b.k1 AND a.k2 = b.k2". */
static void sb_key_join(sqlb *s, sl_wh_table_load *t, const char *a, const char *b)
{
	for (int i = 0; i < t->npk; i++) {
		if (i)
			sb_puts(s, " AND ");
		sb_col(s, a, t->pk[i]);
		sb_puts(s, " = ");
		sb_col(s, b, t->pk[i]);
	}
}

/* Appends the cursor's ordering expression for alias.cursor. */
static void sb_cursor(sqlb *s, sl_wh_table_load *t, const char *alias)
{
	sl_buf col = SL_BUF_INIT;
	if (s->rc)
		return;
	if (alias && (sl_buf_puts(&col, alias) < 0 || sl_buf_putc(&col, '.') < 0)) {
		sb_oom(s);
	} else if ((s->rc = sl_wh_quote_ident(s->wh, &col, t->names[t->cursor], s->err)) == 0) {
		if (s->wh->ops->order_expr(&s->b, col.data, t->cols->fields[t->cursor].type) < 0)
			sb_oom(s);
	}
	sl_buf_free(&col);
}

static int merge(sl_wh_table_load *t, sl_error *err)
{
	const char *tmp = t->wh->ops->temp_schema;
	sqlb s;
	int64_t n = 0;
	int rc;
	char *v = NULL;

	sb_init(&s, t->wh, err);
	/* A key with a NULL part matches nothing; refuse it rather than
	 * duplicate the row on every run. */
	sb_puts(&s, "SELECT count(*) FROM ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	sb_puts(&s, " WHERE ");
	for (int i = 0; i < t->npk; i++) {
		if (i)
			sb_puts(&s, " OR ");
		sb_ident(&s, t->pk[i]);
		sb_puts(&s, " IS NULL");
	}
	rc = s.rc ? s.rc : sl_wh_query_value(t->wh, s.b.data, &v, err);
	sl_buf_free(&s.b);
	s.rc = 0;
	if (rc < 0)
		return rc;
	if (v && strcmp(v, "0") != 0) {
		rc = sl_error_set(err, SL_EINVAL,
				  "%s rows have a NULL in the primary key (\"%s\"%s); a merge "
				  "needs every key set: run with --full-refresh (extraction now "
				  "quarantines rows with a NULL key)",
				  v, t->pk[0], t->npk > 1 ? ", ..." : "");
		sl_free(v);
		return rc;
	}
	sl_free(v);

	if (t->wh->ops->analyze_stage) {
		sb_puts(&s, "ANALYZE ");
		sb_table(&s, tmp, SL_WH_STAGE_TABLE);
		if ((rc = sb_run(&s, NULL)) < 0)
			return rc;
	}

	/* 1. Keep one row per key: greatest cursor (NULL lowest), then the
	 *    higher lake version, then the later row. */
	sb_puts(&s, "DELETE FROM ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	sb_puts(&s, " WHERE \"" SL_WH_SEQ_COL "\" IN (SELECT \"" SL_WH_SEQ_COL
		    "\" FROM (SELECT \"" SL_WH_SEQ_COL "\", row_number() OVER (PARTITION BY ");
	sb_cols(&s, NULL, t->pk, t->npk);
	sb_puts(&s, " ORDER BY ");
	if (t->cursor >= 0) {
		sb_cursor(&s, t, NULL);
		sb_puts(&s, " DESC NULLS LAST, ");
	}
	sb_puts(&s, "\"" SL_WH_VERSION_COL "\" DESC, \"" SL_WH_SEQ_COL "\" DESC) AS sluice_rn FROM ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	sb_puts(&s, ") d WHERE d.sluice_rn > 1)");
	if ((rc = sb_run(&s, &n)) < 0)
		return rc;
	t->res.rows_stale = n;

	/* 2. A row already in the table with a greater cursor stays: a late
	 *    older version must not overwrite it. Equal cursors: the newer
	 *    load wins. */
	if (t->cursor >= 0) {
		sb_puts(&s, "DELETE FROM ");
		sb_table(&s, tmp, SL_WH_STAGE_TABLE);
		sb_puts(&s, " WHERE \"" SL_WH_SEQ_COL "\" IN (SELECT s.\"" SL_WH_SEQ_COL
			    "\" FROM ");
		sb_table(&s, tmp, SL_WH_STAGE_TABLE);
		sb_puts(&s, " s JOIN ");
		sb_table(&s, t->schema, t->table);
		sb_puts(&s, " t ON ");
		sb_key_join(&s, t, "s", "t");
		sb_puts(&s, " WHERE t.");
		sb_ident(&s, t->names[t->cursor]);
		sb_puts(&s, " IS NOT NULL AND (s.");
		sb_ident(&s, t->names[t->cursor]);
		sb_puts(&s, " IS NULL OR ");
		sb_cursor(&s, t, "s");
		sb_puts(&s, " < ");
		sb_cursor(&s, t, "t");
		sb_puts(&s, "))");
		if ((rc = sb_run(&s, &n)) < 0)
			return rc;
		t->res.rows_stale += n;
	}

	/* 3. Replace the table's rows of the staged keys. */
	sb_puts(&s, "DELETE FROM ");
	sb_table(&s, t->schema, t->table);
	sb_puts(&s, " WHERE (");
	sb_cols(&s, NULL, t->pk, t->npk);
	sb_puts(&s, ") IN (SELECT ");
	sb_cols(&s, NULL, t->pk, t->npk);
	sb_puts(&s, " FROM ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	sb_puts(&s, ")");
	if ((rc = sb_run(&s, &t->res.rows_replaced)) < 0)
		return rc;

	sb_puts(&s, "INSERT INTO ");
	sb_table(&s, t->schema, t->table);
	sb_puts(&s, " (");
	sb_cols(&s, NULL, t->names, t->cols->nfields);
	sb_puts(&s, ") SELECT ");
	sb_cols(&s, NULL, t->names, t->cols->nfields);
	sb_puts(&s, " FROM ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	if ((rc = sb_run(&s, &t->res.rows_inserted)) < 0)
		return rc;

	sb_puts(&s, "DROP TABLE ");
	sb_table(&s, tmp, SL_WH_STAGE_TABLE);
	return sb_run(&s, NULL);
}

static int record_loads(sl_wh_table_load *t, sl_error *err)
{
	char ts[48], num[64];
	int64_t max = -1;
	int rc = 0;

	for (int i = 0; i < t->nver; i++)
		if (t->vers[i].version > max)
			max = t->vers[i].version;
	if (t->opt_version > max) {
		rc = note_version(t, t->opt_version, 0, err);
		if (rc < 0)
			return rc;
	}
	int n = sl_wh_timestamp_text(sl_now_micros(), ts);
	snprintf(ts + n, sizeof ts - (size_t)n, "%s", t->wh->ops->ts_suffix);
	for (int i = 0; i < t->nver && rc == 0; i++) {
		sqlb s;
		sb_init(&s, t->wh, err);
		sb_puts(&s, "INSERT INTO ");
		sb_table(&s, t->schema, SL_WH_LOADS_TABLE);
		sb_puts(&s, " (table_name, lake_version, run_id, rows, loaded_at, lake_table_id) "
			    "VALUES (");
		sb_literal(&s, t->table);
		snprintf(num, sizeof num, ", %lld, ", (long long)t->vers[i].version);
		sb_puts(&s, num);
		sb_literal(&s, t->run_id);
		snprintf(num, sizeof num, ", %lld, ", (long long)t->vers[i].rows);
		sb_puts(&s, num);
		sb_literal(&s, ts);
		sb_puts(&s, ", ");
		sb_literal(&s, t->lake_table_id);
		sb_puts(&s, ")");
		rc = sb_run(&s, NULL);
	}
	return rc;
}

int sl_wh_table_load_commit(sl_wh_table_load *t, sl_wh_load_result *res, sl_error *err)
{
	char sn[200], tn[200];
	sl_wh_bload *bl = t->bl;
	int rc;

	t->bl = NULL;
	rc = t->wh->ops->load_finish(bl, err);
	if (rc == 0) {
		if (t->write == SL_WH_MERGE)
			rc = merge(t, err);
		else
			t->res.rows_inserted = t->res.rows_received;
	}
	if (rc == 0)
		rc = record_loads(t, err);
	if (rc == 0)
		rc = sl_wh_commit(t->wh, err);
	if (rc < 0) {
		sl_wh_rollback(t->wh);
		sl_error_prefix(err, "load %s.%s: ", sl_wh_printable(t->schema, sn, sizeof sn),
				sl_wh_printable(t->table, tn, sizeof tn));
	} else if (res) {
		*res = t->res;
	}
	table_load_free(t);
	return rc;
}

void sl_wh_table_load_abort(sl_wh_table_load *t)
{
	if (!t)
		return;
	if (t->bl)
		t->wh->ops->load_abort(t->bl);
	sl_wh_rollback(t->wh);
	table_load_free(t);
}

/* Whether schema holds a _sluice_loads table yet (attaching the schema
 * first when no transaction is open). */
static int loads_exist(sl_wh *wh, const char *schema, bool *exists, sl_error *err)
{
	int rc = 0;
	*exists = false;
	if (!wh->in_tx)
		rc = sl_wh_ensure_schema(wh, schema, err);
	if (rc == 0)
		rc = sl_wh_table_exists(wh, schema, SL_WH_LOADS_TABLE, exists, err);
	return rc;
}

/* Which _sluice_loads rows of a table a bookkeeping query reads. */
enum loads_rows { LOADS_ALL, LOADS_OF_ID, LOADS_OF_OTHER_IDS };

/* *out = max(lake_version) of the rows (count(*) for LOADS_OF_OTHER_IDS),
 * left alone when that is NULL. */
static int loads_value(sl_wh *wh, const char *schema, const char *table, enum loads_rows which,
		       const char *lake_table_id, int64_t *out, sl_error *err)
{
	char *v = NULL;
	sqlb s;
	int rc;

	sb_init(&s, wh, err);
	sb_puts(&s, which == LOADS_OF_OTHER_IDS ? "SELECT count(*) FROM "
						: "SELECT max(lake_version) FROM ");
	sb_table(&s, schema, SL_WH_LOADS_TABLE);
	sb_puts(&s, " WHERE table_name = ");
	sb_literal(&s, table);
	/* Loads recorded without an id predate ids: count them as ours. */
	if (which == LOADS_OF_ID) {
		sb_puts(&s, " AND (lake_table_id IS NULL OR lake_table_id = ");
		sb_literal(&s, lake_table_id);
		sb_puts(&s, ")");
	} else if (which == LOADS_OF_OTHER_IDS) {
		sb_puts(&s, " AND lake_table_id IS NOT NULL AND lake_table_id <> ");
		sb_literal(&s, lake_table_id);
	}
	rc = s.rc ? s.rc : sl_wh_query_value(wh, s.b.data, &v, err);
	sl_buf_free(&s.b);
	if (rc == 0 && v && sl_parse_int64(v, strlen(v), out) < 0)
		rc = sl_error_set(err, SL_EDB, "%s: _sluice_loads holds a bad value '%s'",
				  wh->target, v);
	sl_free(v);
	return rc;
}

int sl_wh_loaded_version(sl_wh *wh, const char *schema, const char *table, int64_t *out,
			 sl_error *err)
{
	bool exists;
	*out = -1;
	int rc = loads_exist(wh, schema, &exists, err);
	if (rc < 0 || !exists)
		return rc;
	return loads_value(wh, schema, table, LOADS_ALL, NULL, out, err);
}

int sl_wh_loaded_version_of(sl_wh *wh, const char *schema, const char *table,
			    const char *lake_table_id, int64_t *out, bool *other,
			    sl_error *err)
{
	bool exists;
	int64_t n = 0;
	*out = -1;
	if (other)
		*other = false;
	int rc = loads_exist(wh, schema, &exists, err);
	if (rc < 0 || !exists)
		return rc;
	rc = loads_value(wh, schema, table, LOADS_OF_ID, lake_table_id, out, err);
	if (rc == 0)
		rc = loads_value(wh, schema, table, LOADS_OF_OTHER_IDS, lake_table_id, &n, err);
	if (rc == 0 && other)
		*other = n > 0;
	return rc;
}
