/*
 * snapshot.c: dbt snapshots — SCD type 2 tables with dbt's columns
 * (dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to and, with
 * hard_deletes new_record, dbt_is_deleted) and its semantics: the new rows
 * and the current rows of the table are compared in a staging table of
 * changes ('insert', 'update', 'delete'), then the changed current rows are
 * closed and the new versions inserted, in one transaction.
 */
#include "warehouse_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct snap_sql {
	sl_wh *wh;
	const sl_wh_snapshot *snap;
	const sl_wh_cols *src; /* the SELECT's columns */
	char *now;             /* the snapshot time as an SQL expression */
	bool new_record;
	sl_error *err;
} snap_sql;

/* The row's updated_at as an expression on alias (NULL: unqualified):
 * the updated_at column, or the snapshot time (check strategy). */
static int put_updated(snap_sql *s, sl_buf *q, const char *alias)
{
	if (!s->snap->updated_at || !*s->snap->updated_at)
		return sl_wh_sqlf(s->wh, q, s->err, "%s", s->now);
	return sl_wh_sqlf(s->wh, q, s->err, "%s%s%I", alias ? alias : "", alias ? "." : "",
			  s->snap->updated_at);
}

/* md5 of the key parts and updated_at, as dbt's snapshot_hash_arguments:
 * md5(coalesce(cast(k as varchar), '') || '|' || ...). at: the time
 * expression, or NULL for put_updated's. */
static int put_scd_id(snap_sql *s, sl_buf *q, const char *alias, const char *at)
{
	const char *pre = alias ? alias : "", *dot = alias ? "." : "";
	int rc = sl_wh_sqlf(s->wh, q, s->err, "md5(");
	for (int i = 0; rc == 0 && i < s->snap->nunique_key; i++)
		rc = sl_wh_sqlf(s->wh, q, s->err, "coalesce(cast(%s%s%I as varchar), '') || '|' || ",
				pre, dot, s->snap->unique_key[i]);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, "coalesce(cast(");
	if (rc == 0)
		rc = at ? sl_wh_sqlf(s->wh, q, s->err, "%s", at) : put_updated(s, q, alias);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, " as varchar), ''))");
	return rc;
}

static int put_key_match(snap_sql *s, sl_buf *q)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < s->snap->nunique_key; i++)
		rc = sl_wh_sqlf(s->wh, q, s->err, "%ssnapshotted_data.%I = source_data.%I",
				i ? " AND " : "", s->snap->unique_key[i], s->snap->unique_key[i]);
	return rc;
}

/* Whether the current row (snapshotted_data) and the new one (source_data)
 * differ: a newer updated_at, or a check column that differs (NULLs equal);
 * with new_record, a key marked deleted that came back. */
static int put_changed(snap_sql *s, sl_buf *q)
{
	int rc = sl_wh_sqlf(s->wh, q, s->err, "(");
	if (rc == 0 && s->snap->strategy == SL_WH_SNAP_TIMESTAMP)
		rc = sl_wh_sqlf(s->wh, q, s->err, "snapshotted_data.\"dbt_valid_from\" < "
				"source_data.%I", s->snap->updated_at);
	if (rc == 0 && s->snap->strategy == SL_WH_SNAP_CHECK) {
		int n = s->snap->ncheck_cols ? s->snap->ncheck_cols : s->src->n;
		for (int i = 0; rc == 0 && i < n; i++) {
			const char *c = s->snap->ncheck_cols ? s->snap->check_cols[i] : s->src->names[i];
			rc = sl_wh_sqlf(s->wh, q, s->err,
					"%ssnapshotted_data.%I IS DISTINCT FROM source_data.%I",
					i ? " OR " : "", c, c);
		}
	}
	if (rc == 0 && s->new_record)
		rc = sl_wh_sqlf(s->wh, q, s->err, " OR snapshotted_data.\"dbt_is_deleted\" = 'True'");
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, ")");
	return rc;
}

/* The SELECT's columns, each behind alias. */
static int put_src_cols(snap_sql *s, sl_buf *q, const char *alias)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < s->src->n; i++)
		rc = sl_wh_sqlf(s->wh, q, s->err, "%s.%I, ", alias, s->src->names[i]);
	return rc;
}

/* FROM snapshotted_data LEFT JOIN the source WHERE the key is gone. */
static int put_gone(snap_sql *s, sl_buf *q, const char *src_table_sql)
{
	int rc = sl_wh_sqlf(s->wh, q, s->err, " FROM snapshotted_data LEFT JOIN %s AS source_data ON ",
			    src_table_sql);
	if (rc == 0)
		rc = put_key_match(s, q);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, " WHERE source_data.%I IS NULL",
				s->snap->unique_key[0]);
	/* a key whose current row already says deleted stays as it is */
	if (rc == 0 && s->new_record)
		rc = sl_wh_sqlf(s->wh, q, s->err, " AND NOT (coalesce(snapshotted_data."
				"\"dbt_is_deleted\", 'False') = 'True')");
	return rc;
}

/* CREATE TABLE stage AS the changes between the table's current rows and
 * the new rows (table src). */
static int put_stage(snap_sql *s, sl_buf *q, const char *schema, const char *name,
		     const char *stage, const char *src)
{
	sl_wh *wh = s->wh;
	sl_buf qs = SL_BUF_INIT;
	const char *del = s->new_record ? ", snapshotted_data.\"dbt_is_deleted\"" : "";
	int rc = sl_wh_quote_table(wh, &qs, schema, src, s->err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err,
				"CREATE TABLE %T AS\nWITH snapshotted_data AS (SELECT * FROM %T "
				"WHERE \"dbt_valid_to\" IS NULL),\ninsertions AS (SELECT 'insert' AS "
				"\"dbt_change_type\", ",
				schema, stage, schema, name);
	/* new keys and new versions of changed rows */
	if (rc == 0)
		rc = put_src_cols(s, q, "source_data");
	if (rc == 0)
		rc = put_updated(s, q, "source_data");
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " AS \"dbt_updated_at\", ");
	if (rc == 0)
		rc = put_updated(s, q, "source_data");
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " AS \"dbt_valid_from\", nullif(");
	if (rc == 0)
		rc = put_updated(s, q, "source_data");
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, ", ");
	if (rc == 0)
		rc = put_updated(s, q, "source_data");
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, ") AS \"dbt_valid_to\", ");
	if (rc == 0)
		rc = put_scd_id(s, q, "source_data", NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " AS \"dbt_scd_id\"%s FROM %s AS source_data LEFT "
				"OUTER JOIN snapshotted_data ON ",
				s->new_record ? ", 'False' AS \"dbt_is_deleted\"" : "", qs.data);
	if (rc == 0)
		rc = put_key_match(s, q);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " WHERE snapshotted_data.%I IS NULL OR ",
				s->snap->unique_key[0]);
	if (rc == 0)
		rc = put_changed(s, q);
	/* the current rows those versions close */
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, "),\nupdates AS (SELECT 'update', ");
	if (rc == 0)
		rc = put_src_cols(s, q, "source_data");
	for (int i = 0; rc == 0 && i < 3; i++) {
		rc = put_updated(s, q, "source_data");
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, ", ");
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, "snapshotted_data.\"dbt_scd_id\"%s FROM %s AS "
				"source_data JOIN snapshotted_data ON ", del, qs.data);
	if (rc == 0)
		rc = put_key_match(s, q);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " WHERE ");
	if (rc == 0)
		rc = put_changed(s, q);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, ")");
	/* keys gone from the SELECT: their current row closes now */
	if (rc == 0 && s->snap->hard_deletes != SL_WH_HARD_IGNORE) {
		rc = sl_wh_sqlf(wh, q, s->err, ",\ndeletes AS (SELECT 'delete', ");
		if (rc == 0)
			rc = put_src_cols(s, q, "snapshotted_data");
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, "%s, %s, %s, snapshotted_data.\"dbt_scd_id\"%s",
					s->now, s->now, s->now, del);
		if (rc == 0)
			rc = put_gone(s, q, qs.data);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, ")");
	}
	/* ... and a current row marks them deleted */
	if (rc == 0 && s->new_record) {
		rc = sl_wh_sqlf(wh, q, s->err, ",\ndeletion_records AS (SELECT 'insert', ");
		if (rc == 0)
			rc = put_src_cols(s, q, "snapshotted_data");
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, "%s, %s, snapshotted_data.\"dbt_valid_to\", ",
					s->now, s->now);
		if (rc == 0)
			rc = put_scd_id(s, q, "snapshotted_data", s->now);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, ", 'True'");
		if (rc == 0)
			rc = put_gone(s, q, qs.data);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, ")");
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err,
				"\nSELECT * FROM insertions UNION ALL SELECT * FROM updates%s%s",
				s->snap->hard_deletes != SL_WH_HARD_IGNORE
					? " UNION ALL SELECT * FROM deletes"
					: "",
				s->new_record ? " UNION ALL SELECT * FROM deletion_records" : "");
	sl_buf_free(&qs);
	return rc;
}

/* The first run: every row current. */
static int first_run(snap_sql *s, sl_buf *q, const char *schema, const char *name,
		     const char *sql, int64_t *rows)
{
	char *count = NULL;
	int rc = sl_wh_sqlf(s->wh, q, s->err, "CREATE TABLE %T AS\nSELECT *, ", schema, name);
	if (rc == 0)
		rc = put_scd_id(s, q, NULL, NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, " AS \"dbt_scd_id\", ");
	if (rc == 0)
		rc = put_updated(s, q, NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, " AS \"dbt_updated_at\", ");
	if (rc == 0)
		rc = put_updated(s, q, NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, " AS \"dbt_valid_from\", nullif(");
	if (rc == 0)
		rc = put_updated(s, q, NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, ", ");
	if (rc == 0)
		rc = put_updated(s, q, NULL);
	if (rc == 0)
		rc = sl_wh_sqlf(s->wh, q, s->err, ") AS \"dbt_valid_to\"%s FROM (%Q) AS sbq",
				s->new_record ? ", 'False' AS \"dbt_is_deleted\"" : "", sql);
	if (rc == 0)
		rc = sl_wh_run(s->wh, q, rows, s->err);
	if (rc == 0 && !s->wh->ops->ctas_counts) {
		rc = sl_wh_sqlf(s->wh, q, s->err, "SELECT count(*) FROM %T", schema, name);
		if (rc == 0)
			rc = sl_wh_query_value(s->wh, q->data, &count, s->err);
		*rows = count ? strtoll(count, NULL, 10) : 0;
		sl_buf_reset(q);
	}
	sl_free(count);
	return rc;
}

/* Makes the table hold the dbt columns and every column of the SELECT
 * (src): columns new in the SELECT are added, as dbt does. */
static int evolve(snap_sql *s, sl_buf *q, const char *schema, const char *name,
		  const char *src)
{
	static const char *const need[] = {"dbt_scd_id", "dbt_updated_at", "dbt_valid_from",
					   "dbt_valid_to"};
	sl_wh_cols have = {0};
	bool fold = sl_wh_folds_case(s->wh);
	char sn[200], nn[200], tbuf[64];
	int rc = sl_wh_columns(s->wh, schema, name, &have, s->err);
	for (size_t i = 0; rc == 0 && i < sizeof need / sizeof need[0]; i++)
		if (sl_wh_cols_find(&have, need[i], fold) < 0)
			rc = sl_error_set(s->err, SL_EINVAL,
					  "snapshot %s.%s: the table has no column \"%s\", so it is "
					  "not a snapshot; drop it or give the snapshot another name",
					  sl_wh_printable(schema, sn, sizeof sn),
					  sl_wh_printable(name, nn, sizeof nn), need[i]);
	for (int i = 0; rc == 0 && i < s->src->n; i++) {
		if (sl_wh_cols_find(&have, s->src->names[i], fold) >= 0)
			continue;
		rc = sl_wh_sqlf(s->wh, q, s->err, "ALTER TABLE %T ADD COLUMN %I%s%s", schema, name,
				s->src->names[i], *s->src->types[i] ? " " : "", s->src->types[i]);
		if (rc == 0)
			rc = sl_wh_run(s->wh, q, NULL, s->err);
	}
	if (rc == 0 && s->new_record && sl_wh_cols_find(&have, "dbt_is_deleted", fold) < 0) {
		rc = sl_wh_sqlf(s->wh, q, s->err, "ALTER TABLE %T ADD COLUMN \"dbt_is_deleted\" %s",
				schema, name,
				s->wh->ops->type_sql(sl_type_make(SL_STRING), tbuf, sizeof tbuf));
		if (rc == 0)
			rc = sl_wh_run(s->wh, q, NULL, s->err);
	}
	sl_wh_cols_free(&have);
	return rc;
}

/* A later run: stage the changes, close rows, insert new versions. */
static int next_run(snap_sql *s, sl_buf *q, const char *schema, const char *name,
		    const char *sql, sl_wh_build_result *res)
{
	sl_wh *wh = s->wh;
	sl_wh_cols src = {0};
	char *srct = sl_wh_temp_name(wh, name, "__dbt_src"),
	     *stage = sl_wh_temp_name(wh, name, "__dbt_tmp");
	int rc = srct && stage ? 0 : sl_error_set(s->err, SL_ENOMEM, "out of memory");

	s->src = &src;
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, srct, SL_WH_REL_TABLE, s->err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, stage, SL_WH_REL_TABLE, s->err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, "CREATE TABLE %T AS%Q", schema, srct, sql);
	if (rc == 0)
		rc = sl_wh_run(wh, q, NULL, s->err);
	if (rc == 0)
		rc = sl_wh_columns(wh, schema, srct, &src, s->err);
	if (rc == 0)
		rc = evolve(s, q, schema, name, srct);
	if (rc == 0)
		rc = put_stage(s, q, schema, name, stage, srct);
	if (rc == 0)
		rc = sl_wh_run(wh, q, NULL, s->err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err,
				"UPDATE %T AS DBT_INTERNAL_DEST SET \"dbt_valid_to\" = "
				"DBT_INTERNAL_SOURCE.\"dbt_valid_to\" FROM %T AS DBT_INTERNAL_SOURCE "
				"WHERE DBT_INTERNAL_SOURCE.\"dbt_scd_id\" = DBT_INTERNAL_DEST.\"dbt_scd_id\" "
				"AND DBT_INTERNAL_SOURCE.\"dbt_change_type\" IN ('update', 'delete') "
				"AND DBT_INTERNAL_DEST.\"dbt_valid_to\" IS NULL",
				schema, name, schema, stage);
	if (rc == 0)
		rc = sl_wh_run(wh, q, &res->rows_updated, s->err);
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, "INSERT INTO %T (", schema, name);
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (int i = 0; rc == 0 && i < src.n; i++)
			rc = sl_wh_sqlf(wh, q, s->err, "%I, ", src.names[i]);
		if (rc == 0)
			rc = sl_wh_sqlf(wh, q, s->err, "\"dbt_updated_at\", \"dbt_valid_from\", "
					"\"dbt_valid_to\", \"dbt_scd_id\"%s%s",
					s->new_record ? ", \"dbt_is_deleted\"" : "",
					pass ? "" : ") SELECT ");
	}
	if (rc == 0)
		rc = sl_wh_sqlf(wh, q, s->err, " FROM %T WHERE \"dbt_change_type\" = 'insert'",
				schema, stage);
	if (rc == 0)
		rc = sl_wh_run(wh, q, &res->rows_inserted, s->err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, srct, SL_WH_REL_TABLE, s->err);
	if (rc == 0)
		rc = sl_wh_drop_kind(wh, schema, stage, SL_WH_REL_TABLE, s->err);
	sl_wh_cols_free(&src);
	s->src = NULL;
	sl_free(srct);
	sl_free(stage);
	return rc;
}

int sl_wh_build_snapshot(sl_wh *wh, const char *schema, const char *name, const char *sql,
			 const sl_wh_snapshot *snap, sl_wh_build_result *res, sl_error *err)
{
	sl_wh_build_result local;
	sl_wh_relation old = SL_WH_REL_NONE;
	sl_buf q = SL_BUF_INIT, now = SL_BUF_INIT;
	snap_sql s = {wh, snap, NULL, NULL, snap->hard_deletes == SL_WH_HARD_NEW_RECORD, err};
	char sn[200], nn[200];
	int64_t rows = 0;
	int rc = 0;

	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	if (snap->nunique_key < 1)
		return sl_error_set(err, SL_EINVAL, "snapshot %s.%s needs a unique_key",
				    sl_wh_printable(schema, sn, sizeof sn),
				    sl_wh_printable(name, nn, sizeof nn));
	if (snap->strategy == SL_WH_SNAP_TIMESTAMP && (!snap->updated_at || !*snap->updated_at))
		return sl_error_set(err, SL_EINVAL,
				    "snapshot %s.%s: the timestamp strategy needs updated_at",
				    sl_wh_printable(schema, sn, sizeof sn),
				    sl_wh_printable(name, nn, sizeof nn));
	if (!snap->now || !*snap->now)
		return sl_error_set(err, SL_EINVAL, "snapshot %s.%s: no snapshot time given",
				    sl_wh_printable(schema, sn, sizeof sn),
				    sl_wh_printable(name, nn, sizeof nn));
	/* Any ISO 8601 time ("2024-01-02T03:04:05Z") is taken, as UTC text
	 * with six fractional digits: the form sluice stores. */
	int64_t micros;
	char ts[40];
	if (sl_timestamp_parse(snap->now, strlen(snap->now), &micros) < 0)
		return sl_error_set(err, SL_EINVAL,
				    "snapshot %s.%s: the snapshot time \"%s\" is not a timestamp "
				    "(want YYYY-MM-DD HH:MM:SS.ffffff, UTC)",
				    sl_wh_printable(schema, sn, sizeof sn),
				    sl_wh_printable(name, nn, sizeof nn), snap->now);
	sl_wh_timestamp_text(micros, ts);
	if (wh->ops->timestamp_literal(&now, ts) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	s.now = now.data;
	rc = sl_wh_mat_prepare(wh, schema, name, err);
	if (rc == 0)
		rc = sl_wh_begin(wh, err);
	if (rc == 0)
		rc = sl_wh_relation_kind(wh, schema, name, &old, err);
	if (rc == 0 && old == SL_WH_REL_VIEW)
		rc = sl_error_set(err, SL_EINVAL,
				  "snapshot %s.%s: a view of that name is in the way; drop it first",
				  sl_wh_printable(schema, sn, sizeof sn),
				  sl_wh_printable(name, nn, sizeof nn));
	if (rc == 0 && old == SL_WH_REL_NONE)
		rc = first_run(&s, &q, schema, name, sql, &rows);
	else if (rc == 0)
		rc = next_run(&s, &q, schema, name, sql, res);
	if (rc == 0)
		rc = sl_wh_commit(wh, err);
	if (rc < 0) {
		sl_wh_rollback(wh);
		memset(res, 0, sizeof *res);
	} else if (old == SL_WH_REL_NONE) {
		res->created = true;
		res->rows_inserted = rows;
		snprintf(res->message, sizeof res->message, "SELECT %lld", (long long)rows);
	} else {
		snprintf(res->message, sizeof res->message, "INSERT 0 %lld",
			 (long long)res->rows_inserted);
	}
	sl_buf_free(&q);
	sl_buf_free(&now);
	return rc;
}
