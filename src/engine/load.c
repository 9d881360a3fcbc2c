/*
 * load.c: the load task of one source table. Loads the lake versions of
 * raw/<source>/<table> that the warehouse has not recorded in its
 * _sluice_loads table, as one transaction (append, replace or merge), and
 * reconciles the rows: rows in those lake versions = rows the warehouse
 * received.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An adapter's own setting of the target, by key. */
static const char *target_setting(const void *ctx, const char *key)
{
	return sl_kvs_get(ctx, key);
}

void sl_engine_wh_config(const sl_target *t, sl_wh_config *out)
{
	sl_wh_config c = SL_WH_CONFIG_INIT;
	c.type = t->type;
	c.path = t->path_abs ? t->path_abs : t->path;
	c.host = t->host;
	c.port = t->port;
	c.dbname = t->dbname;
	c.user = t->user;
	c.password = t->password;
	c.sslmode = t->sslmode;
	c.schema = t->schema;
	c.raw_schema = t->raw_schema;
	c.get = target_setting;
	c.get_ctx = &t->settings;
	*out = c;
}

static int open_warehouse(engine_run *run, sl_error *err)
{
	const sl_target *t = run->target;
	sl_wh_config c;
	if (run->wh)
		return 0;
	sl_engine_wh_config(t, &c);
	int rc = sl_wh_open(&run->wh, &c, err);
	if (rc < 0)
		sl_error_prefix(err, "target %s: ", t->name);
	else
		engine_watch_set(run->watch, run->wh); /* Ctrl-C stops a long merge */
	return rc;
}

/*
 * Files written before a column was added lack it: such batches are fitted
 * to the table's latest schema (sl_batch_conform: by name, NULL for the
 * rest). A column whose type changed cannot be fitted.
 */
static int conform(const sl_schema *cols, const sl_batch *in, sl_batch **scratch,
		   const sl_batch **out, sl_error *err)
{
	int rc = sl_batch_conform(out, scratch, in, cols, NULL, err);
	if (rc == SL_EINVAL) {
		char why[sizeof err->message];
		snprintf(why, sizeof why, "%s", err->message);
		rc = sl_error_set(err, rc,
				  "an older lake file does not fit the table's schema: %s; run "
				  "with --full-refresh after fixing the type", why);
	}
	return rc;
}

static int load_file(engine_run *run, sl_wh_table_load *tl, const char *lake_table,
		     const sl_lake_file *f, const sl_schema *cols, int64_t version,
		     sl_batch **scratch, int64_t *rows, sl_error *err)
{
	sl_parquet_reader *r = NULL;
	sl_batch *b = NULL;
	int rc = sl_lake_file_open(&r, run->lake, lake_table, f, err);
	if (rc < 0)
		return rc;
	while ((rc = sl_parquet_reader_next(r, &b, 0, err)) > 0) {
		const sl_batch *ready = NULL;
		if ((rc = sl_engine_heartbeat(run, err)) < 0 ||
		    (rc = sl_cancel_check(run->cancel, "stopped between batches", err)) < 0) {
			sl_batch_free(b);
			break;
		}
		rc = conform(cols, b, scratch, &ready, err);
		if (rc == 0)
			rc = sl_wh_table_load_batch(tl, ready, version, err);
		*rows += b->nrows;
		sl_batch_free(b);
		b = NULL;
		if (rc < 0)
			break;
	}
	sl_parquet_reader_close(r);
	if (rc < 0)
		sl_error_prefix(err, "%s: ", f->path);
	return rc < 0 ? rc : 0;
}

/*
 * The lake table is gone while the warehouse table records loads of it:
 * say so instead of loading nothing forever. Only checked when state.db
 * records an extraction of it (a lake mark), so a table never extracted
 * opens no warehouse.
 */
static int check_lake_gone(engine_run *run, const sl_source *src, const sl_source_table *t,
			   const char *lake_table, sl_error *err)
{
	int64_t loaded = -1;
	char *wh_table = NULL;
	sl_state_lake_mark mark;
	bool extracted = false;
	char *key = sl_source_table_key(src, t);
	if (!key)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	/* A mark that cannot be read says nothing: fail rather than load
	 * nothing while the warehouse may hold loads of a lake gone. */
	int rc = sl_state_lake_mark_get(run->state, key, &mark, &extracted, err);
	sl_free(key);
	if (rc < 0)
		return sl_error_prefix(err, "reading the table's lake mark: ");
	sl_state_lake_mark_clear(&mark);
	if (!extracted)
		return 0;
	rc = open_warehouse(run, err);
	if (rc < 0)
		return rc;
	wh_table = sl_wh_raw_table_name(src->name, t->name);
	if (!wh_table)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	const char *schema = sl_wh_raw_schema(run->wh);
	rc = sl_wh_loaded_version(run->wh, schema, wh_table, &loaded, err);
	if (rc == 0 && loaded >= 0)
		rc = sl_error_set(err, SL_ECONFLICT,
				  "%s.%s holds lake versions up to %lld of %s, but the lake %s has "
				  "no such table: the lake was deleted or moved; run with "
				  "--full-refresh to extract the table again and reload it",
				  schema, wh_table, (long long)loaded, lake_table,
				  sl_lake_url(run->lake));
	sl_free(wh_table);
	return rc;
}

int sl_engine_load_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			 sl_table_result *res, sl_error *err)
{
	char *lake_table = NULL;
	char *wh_table = NULL;
	sl_lake_changes *ch = NULL;
	const sl_lake_file **every = NULL;
	sl_wh_table_load *tl = NULL;
	sl_batch *scratch = NULL;
	int64_t loaded = -1, rows_expected = 0, rows_sent = 0;
	double t0 = sl_monotonic_seconds();
	int rc;

	lake_table = sl_engine_lake_table(src->name, t->name);
	if (!lake_table) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	if (!res->lake_table && !(res->lake_table = sl_strdup(lake_table))) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	res->rows_loaded = 0;

	/* The table as it is now; what changed since the load is asked below,
	 * once the warehouse says which version it holds. */
	rc = sl_lake_changes_open(&ch, run->lake, lake_table, -1, NULL, err);
	if (rc == SL_ENOTFOUND) {
		/* Nothing extracted yet: nothing to load, unless the warehouse
		 * holds loads of a lake table that is gone. */
		sl_error_clear(err);
		rc = check_lake_gone(run, src, t, lake_table, err);
		goto out;
	}
	if (rc < 0)
		goto out;
	const sl_lake_snapshot *snap = ch->snapshot;
	rc = open_warehouse(run, err);
	if (rc < 0)
		goto out;
	wh_table = sl_wh_raw_table_name(src->name, t->name);
	if (!wh_table) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	const char *schema = sl_wh_raw_schema(run->wh);
	bool recreated = false;
	rc = sl_wh_loaded_version_of(run->wh, schema, wh_table, snap->table_id, &loaded,
				     &recreated, err);
	if (rc < 0)
		goto out;

	/* What the lake holds beyond the loaded version, and whether a commit
	 * since then replaced the content (a replace or a full refresh): then
	 * the warehouse table is rebuilt from the whole snapshot instead of
	 * taking the new files. So does --full-refresh, whatever the warehouse
	 * recorded. */
	bool full = run->opts->full_refresh;
	if (!full && loaded >= 0) {
		sl_lake_changes_free(ch);
		ch = NULL;
		rc = sl_lake_changes_open(&ch, run->lake, lake_table, loaded, NULL, err);
		if (rc < 0)
			goto out;
		snap = ch->snapshot;
	}
	if (!full && !(recreated && loaded < 0) && ch->history_gone) {
		rc = sl_error_set(err, SL_ECONFLICT,
				  "%s.%s records lake version %lld of %s as loaded, but the lake "
				  "table only has versions up to %lld: its latest versions were "
				  "removed or the lake was replaced; run with --full-refresh to "
				  "extract the table again and reload it",
				  schema, wh_table, (long long)loaded, lake_table,
				  (long long)snap->version);
		goto out;
	}
	if (!full && loaded >= snap->version)
		goto out; /* everything is in */
	bool rebuild = full || ch->rebuild;
	if (recreated && loaded < 0 && !rebuild) {
		rc = sl_error_set(err, SL_ECONFLICT,
				  "the lake table %s was recreated (its id is now %s) but %s.%s "
				  "holds rows loaded from the earlier one; run with --full-refresh "
				  "to replace them with the new lake table's rows",
				  lake_table, snap->table_id, schema, wh_table);
		goto out;
	}

	sl_wh_load_opts lo = SL_WH_LOAD_OPTS_INIT;
	lo.write = t->write == SL_WRITE_MERGE ? SL_WH_MERGE
		   : t->write == SL_WRITE_REPLACE ? SL_WH_REPLACE : SL_WH_APPEND;
	lo.primary_key = (const char *const *)t->primary_key;
	lo.nprimary_key = t->nprimary_key;
	lo.cursor = t->cursor;
	lo.run_id = run->run_id;
	lo.lake_version = snap->version;
	lo.lake_table_id = snap->table_id;
	/* A rebuild also forgets the versions recorded as loaded (the lake's
	 * may have restarted below them), in the load's transaction. */
	lo.truncate = rebuild;

	/* The files: every live one for a rebuild or a first load, else those
	 * added since the loaded version (sl_lake_changes, one entry per file). */
	const sl_lake_file *const *files = ch->files;
	int nfiles = ch->nfiles;
	if (lo.write == SL_WH_REPLACE && nfiles < snap->nfiles) {
		/* replace empties the table first: every live file goes in */
		if (!(every = sl_calloc((size_t)snap->nfiles + 1, sizeof *every))) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		for (int i = 0; i < snap->nfiles; i++)
			every[i] = &snap->files[i];
		files = every;
		nfiles = snap->nfiles;
	}
	rc = sl_wh_table_load_begin(&tl, run->wh, schema, wh_table, snap->schema, &lo, err);
	if (rc < 0)
		goto out;
	for (int i = 0; i < nfiles && rc == 0; i++) {
		rows_expected += files[i]->rows;
		rc = load_file(run, tl, lake_table, files[i], snap->schema, files[i]->version,
			       &scratch, &rows_sent, err);
	}
	if (rc < 0)
		goto out;
	sl_wh_load_result lr;
	/* The last safe point: the commit follows (abort rolls back). */
	if ((rc = sl_cancel_check(run->cancel, "stopped before the commit", err)) < 0)
		goto out;
	rc = sl_wh_table_load_commit(tl, &lr, err);
	tl = NULL;
	if (rc < 0)
		goto out;
	res->rows_loaded = lr.rows_received;
	/* Reconciliation: what the lake holds for these versions is what the
	 * warehouse received; for append, what it inserted too. */
	if (rows_expected != rows_sent || lr.rows_received != rows_sent ||
	    (lo.write == SL_WH_APPEND && lr.rows_inserted != rows_sent)) {
		/* Append: rows landed = rows loaded. Merge and replace may keep
		 * fewer rows than they received (older versions of a key). */
		rc = sl_error_set(err, SL_EINTERNAL,
				  "ledger mismatch: lake versions %lld..%lld hold %lld rows, read "
				  "%lld, warehouse received %lld and inserted %lld",
				  (long long)loaded + 1, (long long)snap->version,
				  (long long)rows_expected, (long long)rows_sent,
				  (long long)lr.rows_received, (long long)lr.rows_inserted);
		goto out;
	}
out:
	res->seconds += sl_monotonic_seconds() - t0;
	sl_wh_table_load_abort(tl);
	sl_batch_free(scratch);
	sl_free(every);
	sl_lake_changes_free(ch);
	sl_free(wh_table);
	sl_free(lake_table);
	if (rc < 0)
		sl_error_prefix(err, "load %s.%s: ", src->name, t->name);
	return rc;
}
