/*
 * extract.c: the extract task of one source table. Streams the source's
 * batches into the lake table raw/<source>/<table>, bad rows into
 * quarantine/<source>/<table>, commits both with the run's txn, then moves
 * the source's progress (files done, watermark) — after the commit, and
 * recovered from the commit itself when a run died in between.
 */
#include "engine/engine_int.h"
#include "sources/sources.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	engine_run *run;
	const sl_source *src;
	const sl_source_table *t;
	char qtable[300];
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
}

/*
 * Recovery: the latest commit of the table carries the progress its run
 * reached; applying it again is harmless and repairs a run that died
 * between its commit and its checkpoint.
 */
static int recover_progress(engine_run *run, const char *key, const char *lake_table,
			    sl_error *err)
{
	sl_lake_history *h = NULL;
	int rc = sl_lake_history_open(&h, run->lake, lake_table, -1, -1, err);
	if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	for (int i = h->n - 1; i >= 0; i--) {
		const char *info = h->commits[i].commit_info_json;
		json_t *o = info ? json_loads(info, 0, NULL) : NULL;
		json_t *p = json_object_get(json_object_get(o, "sluice"), "progress");
		char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
		json_decref(o);
		if (text) {
			rc = sl_source_progress_apply(run->state, key, text, err);
			free(text);
			break;
		}
	}
	sl_lake_history_free(h);
	return rc;
}

static bool crash_hook(const char *point)
{
	const char *v = getenv("SLUICE_TEST_CRASH_AFTER");
	return v && strcmp(v, point) == 0;
}

/* commitInfo extras: what the run read, and the progress to recover. */
static char *commit_extra(engine_run *run, const sl_source *src, const sl_source_table *t,
			  const sl_extractor *x, int64_t quarantined, const char *progress)
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
	if (progress) {
		json_t *p = json_loads(progress, 0, NULL);
		if (p)
			json_object_set_new(s, "progress", p);
	}
	json_object_set_new(o, "sluice", s);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int sl_engine_extract_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			    sl_table_result *res, sl_error *err)
{
	char *key = sl_source_table_key(src, t);
	sl_extractor *x = NULL;
	sl_lake_writer *w = NULL;
	sl_buf progress = SL_BUF_INIT;
	char *extra = NULL;
	quarantine q = {0};
	double t0 = sl_monotonic_seconds(), last_progress = t0;
	int rc;

	if (!key)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_engine_lake_table(res->lake_table, sizeof res->lake_table, src->name, t->name);
	sl_engine_quarantine_table(q.qtable, sizeof q.qtable, src->name, t->name);
	q.run = run;
	q.src = src;
	q.t = t;

	if (!run->opts->full_refresh) {
		rc = recover_progress(run, key, res->lake_table, err);
		if (rc < 0)
			goto out;
	}

	sl_extract_opts xo = {
		.project_dir = run->project->dir,
		.run_id = run->run_id,
		.full_refresh = run->opts->full_refresh,
		.state = run->state,
		.on_bad = on_bad,
		.on_bad_ctx = &q,
		.batch_rows = SL_BATCH_DEFAULT_ROWS,
	};
	rc = sl_extractor_open(&x, src, t, &xo, err);
	if (rc < 0)
		goto out;
	snprintf(res->description, sizeof res->description, "%s", x->description);

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
		rc = sl_lake_writer_open(&w, run->lake, res->lake_table, x->schema, &wo, err);
		if (rc < 0)
			goto out;
	}

	sl_batch *b;
	while ((rc = sl_extractor_next(x, &b, err)) > 0) {
		if (!w) {
			rc = sl_error_set(err, SL_EINTERNAL, "a batch arrived for a source without columns");
			goto out;
		}
		rc = sl_lake_writer_write(w, b, err);
		if (rc < 0)
			goto out;
		double now = sl_monotonic_seconds();
		rc = sl_engine_heartbeat(run, err);
		if (rc < 0)
			goto out;
		if (run->opts->on_progress && now - last_progress >= 0.25) {
			last_progress = now;
			run->opts->on_progress(run->opts->progress_ctx, key, x->stats.rows_read,
					       x->stats.bytes, now - t0);
		}
	}
	if (rc < 0)
		goto out;

	res->files = x->stats.files;
	res->rows_read = x->stats.rows_read;
	res->rows_quarantined = q.quarantined;
	int64_t landed = w ? sl_lake_writer_rows(w) : 0;
	res->bytes = x->stats.bytes;
	res->files_changed = x->stats.files_changed;
	res->requests = x->stats.requests;
	res->retries = x->stats.retries;

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
		rc = sl_error_set(err, SL_ELIMIT,
				  "%lld bad rows exceed max_bad_rows=%lld (%s:%d); nothing was "
				  "landed; the rows and their reasons are in the lake table %s",
				  (long long)q.quarantined, (long long)t->max_bad_rows, src->file,
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

	if (x->ops->progress) {
		rc = x->ops->progress(x, &progress, err);
		if (rc < 0)
			goto out;
	}
	if ((res->rows_read == 0 && res->files == 0) || !w) {
		/* Nothing new at the source: no commit, the table keeps its
		 * version and the log does not grow with empty runs. The
		 * progress (an API's new watermark) covers no rows, so it
		 * can move without a commit. */
		res->lake_version = -1;
		if (progress.data)
			rc = sl_source_progress_apply(run->state, key, progress.data, err);
		if (rc == 0)
			rc = sl_extractor_checkpoint(x, err);
		goto out;
	}
	extra = commit_extra(run, src, t, x, q.quarantined, progress.data);
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

	/* State moves after data. */
	if (progress.data)
		rc = sl_source_progress_apply(run->state, key, progress.data, err);
	if (rc == 0)
		rc = sl_extractor_checkpoint(x, err);
out:
	res->seconds = sl_monotonic_seconds() - t0;
	if (w)
		sl_lake_writer_abort(w);
	quarantine_free(&q);
	sl_extractor_close(x);
	sl_buf_free(&progress);
	free(extra);
	if (rc < 0)
		sl_error_prefix(err, "extract %s: ", key);
	sl_free(key);
	return rc;
}
