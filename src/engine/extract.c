/*
 * extract.c: the extract task of one source table. Streams the source's
 * batches into the lake table raw/<source>/<table>, bad rows (those the
 * source rejects, and rows with a NULL primary key, for every kind) into
 * quarantine/<source>/<table>, commits both with the run's txn, then moves
 * the source's typed progress (files done, watermark) — after the commit,
 * and recovered from the commit itself when a run died in between. Before it
 * reads anything, it checks that the lake still holds the commit the
 * state's progress came from.
 */
#include "engine/engine_int.h"
#include "engine/progress_int.h"
#include "sources/sources.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct {
	engine_run *run;
	const sl_source *src;
	const sl_source_table *t;
	char *qtable;
	sl_lake_writer *qw;
	sl_schema *qschema;
	sl_batch *qbatch;
	int64_t quarantined;
} quarantine;

static int quarantine_flush(quarantine *q, sl_error *err)
{
	if (!q->qbatch || q->qbatch->nrows == 0)
		return 0;
	int rc = sl_lake_writer_write(q->qw, q->qbatch, err);
	sl_batch_reset(q->qbatch);
	return rc;
}

static int quarantine_open(quarantine *q, sl_error *err)
{
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	int rc;
	q->qschema = sl_schema_new();
	if (!q->qschema)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (sl_schema_add(q->qschema, "run_id", sl_type_make(SL_STRING), false) < 0 ||
	    sl_schema_add(q->qschema, "source_file", sl_type_make(SL_STRING), true) < 0 ||
	    sl_schema_add(q->qschema, "line", sl_type_make(SL_INT64), true) < 0 ||
	    sl_schema_add(q->qschema, "reason", sl_type_make(SL_STRING), false) < 0 ||
	    sl_schema_add(q->qschema, "raw", sl_type_make(SL_STRING), true) < 0 ||
	    sl_schema_add(q->qschema, "quarantined_at", sl_type_make(SL_TIMESTAMP), false) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	rc = sl_batch_new(&q->qbatch, q->qschema, 4096, err);
	if (rc < 0)
		return rc;
	o.app_id = "sluice.quarantine";
	o.txn_version = q->run->seq;
	o.run_id = q->run->run_id;
	o.operation = "QUARANTINE";
	return sl_lake_writer_open(&q->qw, q->run->lake, q->qtable, q->qschema, &o, err);
}

/* Appends one bad row to the quarantine table (raw text kept as bytes
 * when it is valid UTF-8, else with invalid bytes replaced). */
static int on_bad(void *ctx, const sl_quarantine_row *row, sl_error *err)
{
	quarantine *q = ctx;
	int rc;
	if (!q->qw && (rc = quarantine_open(q, err)) < 0)
		return rc;
	sl_batch *b = q->qbatch;
	sl_buf clean = SL_BUF_INIT;
	const char *raw = row->raw;
	size_t raw_len = row->raw_len;
	if (raw && !sl_utf8_valid(raw, raw_len)) {
		for (size_t i = 0; i < raw_len; i++) {
			unsigned char c = (unsigned char)raw[i];
			if (c < 0x80)
				sl_buf_putc(&clean, (char)c);
			else
				sl_buf_printf(&clean, "\\x%02x", c);
		}
		raw = clean.data ? clean.data : "";
		raw_len = clean.len;
	}
	rc = sl_column_append_str(&b->cols[0], q->run->run_id, strlen(q->run->run_id));
	if (rc == 0 && row->origin)
		rc = sl_column_append_str(&b->cols[1], row->origin, strlen(row->origin));
	else if (rc == 0)
		sl_column_append_null(&b->cols[1]);
	if (row->line > 0)
		sl_column_append_i64(&b->cols[2], row->line);
	else
		sl_column_append_null(&b->cols[2]);
	if (rc == 0)
		rc = sl_column_append_str(&b->cols[3], row->reason, strlen(row->reason));
	if (rc == 0 && raw)
		rc = sl_column_append_str(&b->cols[4], raw, raw_len);
	else if (rc == 0)
		sl_column_append_null(&b->cols[4]);
	sl_column_append_i64(&b->cols[5], sl_now_micros());
	sl_buf_free(&clean);
	if (rc < 0) {
		sl_batch_discard_row(b);
		return sl_error_set(err, SL_ENOMEM, "out of memory quarantining a row");
	}
	sl_batch_end_row(b);
	q->quarantined++;
	sl_log(SL_LOG_DEBUG, "quarantined %s:%lld: %s", row->origin ? row->origin : "",
	       (long long)row->line, row->reason);
	if (sl_batch_full(b))
		return quarantine_flush(q, err);
	return 0;
}

static void quarantine_free(quarantine *q)
{
	if (q->qw)
		sl_lake_writer_abort(q->qw);
	sl_batch_free(q->qbatch);
	sl_schema_free(q->qschema);
	sl_free(q->qtable);
}

/* ------------------------------------------------------ NULL primary keys */

/* The row r of b as a JSON object of its values (NULL as null), for the
 * quarantine's raw column. */
static int row_json(const sl_batch *b, int64_t r, sl_buf *out)
{
	int rc = sl_buf_putc(out, '{');
	sl_buf v = SL_BUF_INIT;
	for (int c = 0; c < b->schema->nfields && rc == 0; c++) {
		const char *name = b->schema->fields[c].name;
		if (c > 0)
			rc = sl_buf_putc(out, ',');
		if (rc == 0)
			rc = sl_buf_put_json_string(out, name, strlen(name));
		if (rc == 0)
			rc = sl_buf_putc(out, ':');
		if (rc < 0)
			break;
		if (sl_column_is_null(&b->cols[c], r)) {
			rc = sl_buf_puts(out, "null");
			continue;
		}
		sl_buf_reset(&v);
		rc = sl_column_format_value(&b->cols[c], r, &v);
		if (rc == 0)
			rc = sl_buf_put_json_string(out, v.data ? v.data : "", v.len);
	}
	if (rc == 0)
		rc = sl_buf_putc(out, '}');
	sl_buf_free(&v);
	return rc < 0 ? SL_ENOMEM : 0;
}

/* The first primary key column (index into idx) that is NULL in row r of
 * b, or -1; idx[k] < 0 is a key column the batch lacks, NULL in every row. */
static int null_key(const sl_batch *b, const int *idx, int nkeys, int64_t r)
{
	for (int k = 0; k < nkeys; k++)
		if (idx[k] < 0 || sl_column_is_null(&b->cols[idx[k]], r))
			return k;
	return -1;
}

/* Hands row r of in, whose key column name is NULL, to the quarantine. */
static int quarantine_null_key(quarantine *q, const sl_batch *in, int64_t r, const char *name,
			       sl_buf *raw, sl_error *err)
{
	char *reason = sl_engine_printf("primary key column \"%s\" is null", name);
	sl_buf_reset(raw);
	if (!reason || row_json(in, r, raw) < 0) {
		sl_free(reason);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	sl_quarantine_row row = {
		.origin = NULL, .line = 0, .raw = raw->data, .raw_len = raw->len, .reason = reason,
	};
	int rc = on_bad(q, &row, err);
	sl_free(reason);
	return rc;
}

/*
 * A row whose primary key has a NULL (a column the source left empty or
 * never sent) cannot be merged or told apart: it goes to quarantine with
 * its reason, whatever the source kind, and the batch that lands is *out
 * (in itself when every key is present, else a copy in *scratch without
 * those rows).
 */
static int drop_null_keys(quarantine *q, const sl_batch *in, sl_batch **scratch,
			  const sl_batch **out, sl_error *err)
{
	const sl_source_table *t = q->t;
	int nkeys = t->nprimary_key, rc = 0;
	int64_t bad = 0;
	sl_buf raw = SL_BUF_INIT;
	*out = in;
	if (nkeys <= 0 || in->nrows == 0)
		return 0;
	int *idx = sl_calloc((size_t)nkeys, sizeof *idx);
	if (!idx)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int k = 0; k < nkeys; k++)
		idx[k] = sl_schema_find(in->schema, t->primary_key[k]);
	for (int64_t r = 0; r < in->nrows; r++)
		bad += null_key(in, idx, nkeys, r) >= 0;
	if (bad == 0)
		goto done;
	if (*scratch && (!sl_schema_equal((*scratch)->schema, in->schema) ||
			 (*scratch)->capacity < in->nrows)) {
		sl_batch_free(*scratch);
		*scratch = NULL;
	}
	if (!*scratch && (rc = sl_batch_new(scratch, in->schema, in->nrows, err)) < 0)
		goto done;
	sl_batch *b = *scratch;
	sl_batch_reset(b);
	/* Filled a column at a time, not through sl_batch_end_row. */
	if ((rc = sl_batch_reserve(b, in->nrows, err)) < 0)
		goto done;
	for (int64_t r = 0; r < in->nrows && rc == 0; r++) {
		int k = null_key(in, idx, nkeys, r);
		if (k >= 0) {
			rc = quarantine_null_key(q, in, r, t->primary_key[k], &raw, err);
			continue;
		}
		for (int c = 0; c < in->schema->nfields && rc == 0; c++)
			if (sl_column_append_from(&b->cols[c], &in->cols[c], r) < 0)
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0)
			b->nrows++;
	}
	if (rc == 0)
		*out = b;
done:
	sl_free(idx);
	sl_buf_free(&raw);
	return rc;
}

/* ------------------------------------------------------------ lake marks */

/*
 * The state's progress for this table (files done, watermark) came from a
 * commit of the lake table recorded in its lake mark. When the lake no
 * longer has that commit — the lake deleted or moved, the table recreated,
 * its latest versions removed — extracting on from that progress would
 * land nothing for the rows the lake lost, run after run: fail instead and
 * name the fix. *snap gets the lake table (NULL when it does not exist),
 * *marked the version recorded (-1: none).
 */
static int check_lake_mark(engine_run *run, const char *key, const char *lake_table,
			   sl_lake_snapshot **snap, int64_t *marked, sl_error *err)
{
	const char *fix = "the files marked done and the watermark in .sluice/state.db refer to "
			  "rows the lake lost; run with --full-refresh to extract the table "
			  "again";
	sl_state_lake_mark m;
	bool found = false;
	*snap = NULL;
	*marked = -1;
	int rc = sl_state_lake_mark_get(run->state, key, &m, &found, err);
	if (rc < 0)
		return rc;
	rc = sl_lake_snapshot_open(snap, run->lake, lake_table, -1, err);
	if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		rc = 0;
	}
	if (rc == 0 && !found && !*snap) {
		/* No mark: a state.db written before marks existed. Rows its
		 * ledger says landed in a lake table that is gone tell the same. */
		int64_t landed = 0;
		rc = sl_state_ledger_landed(run->state, lake_table, &landed, err);
		if (rc == 0 && landed > 0)
			rc = sl_error_set(err, SL_ECONFLICT,
					  "the lake table %s does not exist in %s, but state.db "
					  "records %lld rows landed in it: the lake was deleted or "
					  "moved; %s",
					  lake_table, sl_lake_url(run->lake), (long long)landed, fix);
	}
	if (rc < 0 || !found)
		goto done;
	*marked = m.version;
	if (!*snap)
		rc = sl_error_set(err, SL_ECONFLICT,
				  "the lake table %s does not exist in %s, but state.db records "
				  "its extraction up to version %lld (table id %s): the lake was "
				  "deleted or moved; %s",
				  lake_table, sl_lake_url(run->lake), (long long)m.version,
				  m.table_id, fix);
	else if (strcmp((*snap)->table_id, m.table_id) != 0)
		rc = sl_error_set(err, SL_ECONFLICT,
				  "the lake table %s in %s has table id %s, but state.db records "
				  "its extraction up to version %lld of table id %s: the table was "
				  "deleted and created again; %s",
				  lake_table, sl_lake_url(run->lake), (*snap)->table_id,
				  (long long)m.version, m.table_id, fix);
	else if ((*snap)->version < m.version)
		rc = sl_error_set(err, SL_ECONFLICT,
				  "the lake table %s in %s ends at version %lld, but state.db "
				  "records its extraction up to version %lld: its latest versions "
				  "were removed; %s",
				  lake_table, sl_lake_url(run->lake), (long long)(*snap)->version,
				  (long long)m.version, fix);
done:
	sl_state_lake_mark_clear(&m);
	if (rc < 0) {
		sl_lake_snapshot_free(*snap);
		*snap = NULL;
	}
	return rc;
}

/*
 * Records that version of lake_table holds the progress about to be
 * applied. A commit keeps the table id of the table it appended to (snap,
 * read before the extraction); only the first commit of a table, or a
 * full refresh that did not read it, needs the log to learn the id.
 */
static int set_lake_mark(engine_run *run, const char *key, const char *lake_table,
			 const sl_lake_snapshot *before, int64_t version, sl_error *err)
{
	if (before)
		return sl_state_lake_mark_set(run->state, key, lake_table, before->table_id,
					      version, err);
	sl_lake_snapshot *snap = NULL;
	int rc = sl_lake_snapshot_open(&snap, run->lake, lake_table, version, err);
	if (rc == 0)
		rc = sl_state_lake_mark_set(run->state, key, lake_table, snap->table_id, version,
					    err);
	sl_lake_snapshot_free(snap);
	return rc;
}

/*
 * Recovery: each commit of the table carries the progress its run reached
 * (files done, watermark). Applying again the progress of every commit
 * from the state's lake mark on is harmless, and repairs a run that died
 * between its commit and the state update; with no mark (a state.db that is
 * new, deleted or older than the lake) every commit's progress is applied,
 * so files landed by earlier runs are not extracted a second time.
 */
static int recover_progress(engine_run *run, const char *key, const char *lake_table,
			    const sl_lake_snapshot *snap, int64_t marked, sl_error *err)
{
	sl_lake_history *h = NULL;
	if (!snap)
		return 0; /* no table: nothing to recover */
	int rc = sl_lake_history_open(&h, run->lake, lake_table, marked >= 0 ? marked - 1 : -1,
				      snap->version, err);
	if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	int64_t last = -1;
	for (int i = 0; i < h->n && rc == 0; i++) {
		const char *info = h->commits[i].commit_info_json;
		json_t *o = info ? json_loads(info, 0, NULL) : NULL;
		json_t *p = json_object_get(json_object_get(o, "sluice"), "progress");
		sl_source_progress prog = {0};
		if (p && sl_engine_progress_from_json(p, &prog) < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0 && p) {
			rc = sl_engine_progress_apply(run->state, key, &prog, err);
			last = h->commits[i].version;
		}
		sl_source_progress_clear(&prog);
		json_decref(o);
	}
	if (rc == 0 && last > marked)
		rc = sl_state_lake_mark_set(run->state, key, lake_table, snap->table_id, last, err);
	sl_lake_history_free(h);
	return rc;
}

/*
 * The schema rows land under: the source's, except that a column whose
 * name equals a column of the lake table ignoring case (and not exactly)
 * takes the lake's spelling. To a warehouse that ignores case they are one
 * column: landing both would make every later load fail. *out is NULL
 * when nothing changes; note gets "name → Name" for the run summary.
 */
static int land_schema(const sl_schema *data, const sl_lake_snapshot *snap, sl_schema **out,
		       sl_buf *note, sl_error *err)
{
	const sl_schema *lake = snap ? snap->schema : NULL;
	int64_t noted = 0;
	*out = NULL;
	if (!lake)
		return 0;
	for (int i = 0; i < data->nfields; i++) {
		const char *name = data->fields[i].name;
		if (sl_schema_find(lake, name) >= 0)
			continue;
		int j = 0;
		while (j < lake->nfields && strcasecmp(lake->fields[j].name, name) != 0)
			j++;
		if (j == lake->nfields || sl_schema_find(data, lake->fields[j].name) >= 0)
			continue;
		if (!*out && !(*out = sl_schema_copy(data)))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		char *spelling = sl_strdup(lake->fields[j].name);
		if (!spelling || sl_names_note_rename(note, &noted, name, spelling) < 0) {
			sl_free(spelling);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		sl_free((*out)->fields[i].name);
		(*out)->fields[i].name = spelling;
	}
	return sl_names_note_end(note, noted) < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory")
						  : 0;
}

/*
 * Refuses, before anything lands, columns the selected target's warehouse
 * cannot hold: more than it allows in a table (two more for a merge's own
 * columns), or a name longer than its identifiers. Landed, they would make
 * every later load of the table fail.
 */
static int check_target_fits(const engine_run *run, const sl_source *src,
			     const sl_source_table *t, const sl_schema *s,
			     const sl_lake_snapshot *snap, sl_error *err)
{
	if (!run->target)
		return 0;
	sl_wh_ident_rules r = sl_wh_ident_rules_of(run->target->type);
	int own = t->write == SL_WRITE_MERGE ? 2 : 0;
	/* The lake table's columns stay: count the new ones on top. */
	int ncols = s->nfields;
	const sl_schema *lake = snap && t->write != SL_WRITE_REPLACE && !run->opts->full_refresh
					? snap->schema : NULL;
	if (lake && r.max_columns > 0) {
		ncols = lake->nfields;
		for (int i = 0; i < s->nfields; i++)
			ncols += sl_schema_find(lake, s->fields[i].name) < 0;
	}
	if (r.max_columns > 0 && ncols + own > r.max_columns)
		return sl_error_set(err, SL_ELIMIT,
				    "%s:%d: the table would have %d columns, more than the %d a %s "
				    "table holds (target \"%s\")%s; nothing landed: select fewer "
				    "columns at the source",
				    src->file, t->line, ncols, r.max_columns - own,
				    run->target->type, run->target->name,
				    own ? " with the 2 columns of write: merge" : "");
	for (int i = 0; r.max_bytes > 0 && i < s->nfields; i++) {
		size_t n = strlen(s->fields[i].name);
		if (n > r.max_bytes)
			return sl_error_set(err, SL_ELIMIT,
					    "%s:%d: column \"%.40s...\" is %zu bytes, longer than the "
					    "%zu bytes a %s name holds (target \"%s\"); nothing landed: "
					    "shorten it at the source",
					    src->file, t->line, s->fields[i].name, n, r.max_bytes,
					    run->target->type, run->target->name);
	}
	return 0;
}

static bool crash_hook(const char *point)
{
	const char *v = getenv("SLUICE_TEST_CRASH_AFTER");
	return v && strcmp(v, point) == 0;
}

/* commitInfo extras: what the run read, and the progress to recover. */
static char *commit_extra(engine_run *run, const sl_source *src, const sl_source_table *t,
			  const sl_extractor *x, int64_t quarantined,
			  const sl_source_progress *progress)
{
	json_t *o = json_object();
	json_t *s = json_object();
	json_object_set_new(s, "run_id", json_string(run->run_id));
	json_object_set_new(s, "source", json_string(src->name));
	json_object_set_new(s, "table", json_string(t->name));
	json_object_set_new(s, "rows_read", json_integer(x->stats.rows_read));
	json_object_set_new(s, "rows_quarantined", json_integer(quarantined));
	json_object_set_new(s, "files", json_integer(x->stats.files));
	json_object_set_new(s, "source_bytes", json_integer((json_int_t)x->stats.bytes));
	json_t *p = sl_engine_progress_to_json(progress);
	if (p)
		json_object_set_new(s, "progress", p);
	json_object_set_new(o, "sluice", s);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int sl_engine_extract_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			    sl_table_result *res, sl_error *err)
{
	char *key = NULL;
	sl_extractor *x = NULL;
	sl_lake_writer *w = NULL;
	sl_lake_snapshot *snap = NULL;
	sl_batch *keyed = NULL;
	sl_schema *land = NULL; /* the schema rows land under, when it differs */
	sl_buf land_note = SL_BUF_INIT;
	sl_source_progress progress = {0};
	sl_engine_seen_ctx seen = {.state = run->state};
	char *stored_wm = NULL;
	char *extra = NULL;
	quarantine q = {0};
	double t0 = sl_monotonic_seconds(), last_progress = t0;
	int64_t marked = -1;
	int rc;

	/* The source's key in the state store ("<source>.<table>"): the lake
	 * mark sits next to its files done and watermark. */
	key = sl_source_table_key(src, t);
	if (!res->lake_table)
		res->lake_table = sl_engine_lake_table(src->name, t->name);
	q.qtable = sl_engine_quarantine_table(src->name, t->name);
	if (!key || !res->lake_table || !q.qtable) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	q.run = run;
	q.src = src;
	q.t = t;

	if (!run->opts->full_refresh) {
		rc = check_lake_mark(run, key, res->lake_table, &snap, &marked, err);
		if (rc == 0)
			rc = recover_progress(run, key, res->lake_table, snap, marked, err);
		if (rc < 0)
			goto out;
	}

	/* What the source needs of the state: the stored watermark and, for
	 * files, whether each was extracted before. A full refresh reads all. */
	seen.key = key;
	if (!run->opts->full_refresh && run->state) {
		rc = sl_state_watermark_get(run->state, key, &stored_wm, err);
		if (rc < 0) {
			sl_error_prefix(err, "reading the watermark: ");
			goto out;
		}
	}
	sl_extract_opts xo = {
		.project_dir = run->project->dir,
		.run_id = run->run_id,
		.full_refresh = run->opts->full_refresh,
		.watermark = stored_wm && *stored_wm ? stored_wm : NULL,
		.seen = run->opts->full_refresh ? NULL : sl_engine_file_seen,
		.seen_ctx = &seen,
		.on_bad = on_bad,
		.on_bad_ctx = &q,
		.batch_rows = SL_BATCH_DEFAULT_ROWS,
		/* The attempt's cancellation token and the run's logical date. */
		.cancel = run->cancel,
		.ds = run->dates.ds,
		.data_interval_start = run->dates.data_interval_start,
		.data_interval_end = run->dates.data_interval_end,
	};
	rc = sl_extractor_open(&x, src, t, &xo, err);
	if (rc < 0)
		goto out;
	sl_free(res->description);
	res->description = sl_strdup(x->description);

	sl_lake_write_opts wo = SL_LAKE_WRITE_OPTS_INIT;
	/* A full refresh re-extracts everything, so the new files replace the
	 * table's whole content whatever its write mode: appending them again
	 * would land every row twice. */
	bool overwrite = t->write == SL_WRITE_REPLACE || run->opts->full_refresh;
	wo.mode = overwrite ? SL_LAKE_OVERWRITE : SL_LAKE_APPEND;
	wo.app_id = "sluice.extract";
	wo.txn_version = run->seq;
	wo.run_id = run->run_id;
	wo.operation = run->opts->full_refresh ? "FULL_REFRESH"
		       : t->write == SL_WRITE_REPLACE ? "REPLACE" : "APPEND";
	/* A source that found nothing to infer columns from (an API with no
	 * new records) has an empty schema: there is nothing to land. */
	if (x->schema->nfields > 0) {
		rc = land_schema(x->schema, snap, &land, &land_note, err);
		if (rc == 0)
			rc = check_target_fits(run, src, t, land ? land : x->schema, snap, err);
		if (rc == 0)
			rc = sl_lake_writer_open(&w, run->lake, res->lake_table,
						 land ? land : x->schema, &wo, err);
		if (rc < 0)
			goto out;
	}

	sl_batch *b;
	while ((rc = sl_extractor_next(x, &b, err)) > 0) {
		const sl_batch *ready = NULL;
		if (!w) {
			rc = sl_error_set(err, SL_EINTERNAL, "a batch arrived for a source without columns");
			goto out;
		}
		rc = drop_null_keys(&q, b, &keyed, &ready, err);
		if (rc == 0 && land) {
			/* The same columns under the lake's spelling of their names. */
			sl_batch view = *ready;
			view.schema = land;
			rc = sl_lake_writer_write(w, &view, err);
		} else if (rc == 0) {
			rc = sl_lake_writer_write(w, ready, err);
		}
		if (rc < 0)
			goto out;
		double now = sl_monotonic_seconds();
		rc = sl_engine_heartbeat(run, err);
		if (rc == 0) /* a safe point: nothing of this attempt is committed */
			rc = sl_cancel_check(run->cancel, "stopped between batches", err);
		if (rc < 0)
			goto out;
		if (run->opts->on_progress && now - last_progress >= 0.25) {
			last_progress = now;
			run->opts->on_progress(run->opts->progress_ctx, key, x->stats.rows_read,
					       x->stats.bytes, now - t0);
		}
	}
	/* What was read, also when the task failed on the way: the ledger then
	 * says how many rows neither landed nor were quarantined. */
	res->files = x->stats.files;
	res->rows_read = x->stats.rows_read;
	res->bytes = x->stats.bytes;
	res->files_changed = x->stats.files_changed;
	res->requests = x->stats.requests;
	res->retries = x->stats.retries;
	if (rc == 0) /* the last safe point: the commits follow */
		rc = sl_cancel_check(run->cancel, "stopped before the commit", err);
	if (rc < 0)
		goto out;

	res->rows_quarantined = q.quarantined;
	int64_t landed = w ? sl_lake_writer_rows(w) : 0;

	/* Quarantine first: its rows must be visible whether or not the data
	 * commit happens (they explain a max_bad_rows failure). */
	if (q.qw) {
		sl_lake_commit_result qr;
		rc = quarantine_flush(&q, err);
		if (rc == 0)
			rc = sl_lake_writer_commit(q.qw, &qr, err);
		q.qw = NULL;
		if (rc < 0)
			goto out;
	}
	if (q.quarantined > t->max_bad_rows) {
		res->refused = true;
		rc = sl_error_set(err, SL_ELIMIT,
				  "%lld bad %s max_bad_rows=%lld (%s:%d); nothing was "
				  "landed; the rows and their reasons are in the lake table %s",
				  (long long)q.quarantined,
				  q.quarantined == 1 ? "row exceeds" : "rows exceed",
				  (long long)t->max_bad_rows, src->file,
				  t->line, q.qtable);
		goto out;
	}
	if (res->rows_read != landed + res->rows_quarantined) {
		rc = sl_error_set(err, SL_EINTERNAL,
				  "ledger mismatch: read %lld != landed %lld + quarantined %lld",
				  (long long)res->rows_read, (long long)landed,
				  (long long)res->rows_quarantined);
		goto out;
	}

	rc = sl_extractor_progress(x, &progress, err);
	if (rc < 0)
		goto out;
	if ((res->rows_read == 0 && res->files == 0) || !w) {
		/* Nothing new at the source: no commit, the table keeps its
		 * version and the log does not grow with empty runs. The
		 * progress (an API's new watermark) covers no rows, so it
		 * can move without a commit. */
		res->lake_version = -1;
		rc = sl_engine_progress_apply(run->state, key, &progress, err);
		if (rc < 0)
			sl_error_prefix(err, "recording the source's progress failed: ");
		goto out;
	}
	extra = commit_extra(run, src, t, x, q.quarantined, &progress);
	rc = sl_lake_writer_set_extra_info(w, extra, err);
	if (rc < 0)
		goto out;
	sl_lake_commit_result cr;
	rc = sl_lake_writer_commit(w, &cr, err);
	w = NULL;
	if (rc < 0)
		goto out;
	/* Landed means committed: a failed or refused commit lands nothing. */
	res->rows_landed = landed;
	res->skipped = cr.skipped;
	res->lake_version = cr.version;
	if (crash_hook("lake_commit"))
		_exit(137);

	/* State moves after data: first the commit that holds the progress,
	 * then the progress. */
	rc = set_lake_mark(run, key, res->lake_table, snap, cr.version, err);
	if (rc == 0)
		rc = sl_engine_progress_apply(run->state, key, &progress, err);
	if (rc < 0)
		sl_error_prefix(err, "the rows are committed (lake version %lld) but recording "
				"the source's progress failed (the next run recovers it from the "
				"commit): ", (long long)cr.version);
out:
	res->seconds = sl_monotonic_seconds() - t0;
	if (w)
		sl_lake_writer_abort(w);
	quarantine_free(&q);
	/* Notes for the summary; lost only without memory. */
	if (x && x->renamed && !res->renamed)
		res->renamed = sl_strdup(x->renamed);
	if (land_note.len && !res->respelled)
		res->respelled = sl_buf_detach(&land_note);
	sl_schema_free(land);
	sl_buf_free(&land_note);
	sl_extractor_close(x);
	sl_lake_snapshot_free(snap);
	sl_batch_free(keyed);
	sl_source_progress_clear(&progress);
	sl_free(stored_wm);
	free(extra);
	if (rc < 0)
		sl_error_prefix(err, "extract %s: ", key ? key : t->name);
	sl_free(key);
	return rc;
}
