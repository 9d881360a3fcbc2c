/*
 * catalog.c: the warehouse's catalog as dbt's `docs generate` reads it —
 * every column of every relation (tables and views) in the schemas asked
 * for, with its type as the warehouse names it and its comment. Each
 * adapter writes the one query (ops->catalog_sql: SQLite's sqlite_master
 * and pragma_table_info of every attached schema file, PostgreSQL's
 * pg_catalog); this file runs it and hands the rows over.
 */
#include "warehouse_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct catalog_ctx {
	sl_wh_catalog_fn fn;
	void *ud;
} catalog_ctx;

static int catalog_row(void *ud, int ncols, const char *const *names,
		       const char *const *values, sl_error *err)
{
	catalog_ctx *c = ud;
	(void)names;
	if (ncols < 9)
		return sl_error_set(err, SL_EINTERNAL, "catalog query gave %d columns, not 9",
				    ncols);
	int64_t index = 0;
	if (values[3])
		sl_parse_int64(values[3], strlen(values[3]), &index);
	sl_wh_catalog_column col = {
		.schema = values[0] ? values[0] : "",
		.table = values[1] ? values[1] : "",
		.kind = values[2] && strcmp(values[2], "view") == 0 ? SL_WH_REL_VIEW
								    : SL_WH_REL_TABLE,
		.column = values[4] ? values[4] : "",
		.index = (int)index,
		.data_type = values[5] ? values[5] : "",
		.comment = values[6] && *values[6] ? values[6] : NULL,
		.relation_comment = values[7] && *values[7] ? values[7] : NULL,
		.owner = values[8] && *values[8] ? values[8] : NULL,
	};
	int rc = c->fn(c->ud, &col, err);
	return rc < 0 ? rc : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sl_wh_catalog(sl_wh *wh, const char *const *schemas, int nschemas, sl_wh_catalog_fn fn,
		  void *ud, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	const char **sorted = NULL;
	int n = 0, rc = 0;

	if (!wh || !fn || nschemas < 0 || (nschemas > 0 && !schemas))
		return sl_error_set(err, SL_EINVAL, "sl_wh_catalog: bad arguments");
	if (!wh->ops->catalog_sql)
		return sl_error_set(err, SL_EUSAGE, "%s: the %s adapter cannot read its catalog",
				    wh->target, wh->ops->name);
	if (nschemas == 0)
		return 0;
	/* Each schema once, in order: the rows come ordered by schema. */
	sorted = sl_calloc((size_t)nschemas, sizeof *sorted);
	if (!sorted)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < nschemas; i++)
		if (schemas[i] && *schemas[i])
			sorted[n++] = schemas[i];
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
	int u = 0;
	for (int i = 0; i < n; i++)
		if (u == 0 || strcmp(sorted[u - 1], sorted[i]) != 0)
			sorted[u++] = sorted[i];
	rc = wh->ops->catalog_sql(wh, sorted, u, &sql, err);
	if (rc == 0 && sql.len > 0) {
		catalog_ctx c = {fn, ud};
		rc = sl_wh_query_one(wh, sql.data, catalog_row, &c, err);
	}
	sl_buf_free(&sql);
	sl_free(sorted);
	return rc;
}
