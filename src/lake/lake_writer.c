/*
 * lake_writer.c: writing a table. Batches go to Parquet files under
 * <table>/data/ (part-NNNNN-<writer uuid>.<codec>.parquet, rolled past
 * target_file_bytes), streamed through the store so each file appears
 * whole or not at all; commit turns them into add actions with per-file
 * statistics in one log version. The table's state comes from the lake
 * handle's replayed log and goes back to it with the commit applied, so
 * neither opening a writer nor committing re-reads the log.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_lake_writer {
	sl_lake *lake;
	char *table;
	sl_schema *schema;
	sl_lake_write_opts opts; /* strings below are our copies */
	sl_lake_state st;
	char uuid[37];
	/* the file being written */
	sl_output *out;
	sl_parquet_writer *pw;
	char *cur_path;
	/* finished files */
	sl_lake_add *adds;
	int nadds, cap;
	int64_t rows;
	uint64_t closed_bytes;
	bool failed;
};

static void add_free(sl_lake_add *a)
{
	sl_free(a->path);
	sl_lake_file_stats_free(a->stats);
}

static void writer_free(sl_lake_writer *w)
{
	if (!w)
		return;
	if (w->pw)
		sl_parquet_writer_free(w->pw);
	if (w->out)
		w->out->abort(w->out);
	for (int i = 0; i < w->nadds; i++)
		add_free(&w->adds[i]);
	sl_free(w->adds);
	sl_free(w->cur_path);
	sl_free(w->table);
	sl_schema_free(w->schema);
	sl_free((char *)w->opts.app_id);
	sl_free((char *)w->opts.run_id);
	sl_free((char *)w->opts.operation);
	sl_free((char *)w->opts.extra_info_json);
	sl_free((char *)w->opts.parquet.created_by);
	sl_lake_state_free(&w->st);
	sl_free(w);
}

/* Deletes the data files this writer finished (they were never committed). */
static void delete_files(sl_lake_writer *w)
{
	for (int i = 0; i < w->nadds; i++) {
		char *key = sl_path_join(w->table, w->adds[i].path);
		sl_error err = SL_ERROR_INIT;
		if (key && sl_store_delete(w->lake->store, key, &err) < 0)
			sl_warn("lake table %s: cannot delete uncommitted %s: %s", w->table, key,
				err.message);
		sl_free(key);
	}
}

static int dup_opt(const char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = sl_strdup(src);
	return *dst ? 0 : SL_ENOMEM;
}

int sl_lake_writer_open(sl_lake_writer **out, sl_lake *lake, const char *table,
			const sl_schema *schema, const sl_lake_write_opts *opts, sl_error *err)
{
	sl_lake_writer *w = NULL;
	sl_lake_write_opts defaults = SL_LAKE_WRITE_OPTS_INIT;
	sl_schema *merged = NULL;
	bool changed;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	int rc = sl_lake_check_table(table, err);
	if (rc < 0)
		return rc;
	if (!schema || schema->nfields == 0)
		return sl_error_set(err, SL_EINVAL, "lake table %s: a table needs at least one column",
				    table);
	if ((rc = sl_alloc_zeroed((void **)&w, sizeof *w, err)) < 0)
		return rc;
	w->lake = lake;
	w->opts = *opts;
	w->opts.app_id = w->opts.run_id = w->opts.operation = w->opts.extra_info_json = NULL;
	w->opts.parquet.created_by = NULL;
	if (!w->opts.target_file_bytes)
		w->opts.target_file_bytes = defaults.target_file_bytes;
	w->table = sl_strdup(table);
	w->schema = sl_schema_copy(schema);
	if (!w->table || !w->schema || dup_opt(&w->opts.app_id, opts->app_id) < 0 ||
	    dup_opt(&w->opts.run_id, opts->run_id) < 0 ||
	    dup_opt(&w->opts.operation, opts->operation) < 0 ||
	    dup_opt(&w->opts.extra_info_json, opts->extra_info_json) < 0 ||
	    dup_opt(&w->opts.parquet.created_by, opts->parquet.created_by) < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	/* Fail early on a schema the table cannot take; commit checks again. */
	if ((rc = sl_lake_state_latest(lake, table, &w->st, err)) < 0)
		goto fail;
	if (w->st.version >= 0 && opts->mode != SL_LAKE_OVERWRITE) {
		rc = sl_lake_schema_merge(w->st.schema, schema, &merged, &changed, table, err);
		sl_schema_free(merged);
		if (rc < 0)
			goto fail;
	}
	sl_lake_uuid4(w->uuid);
	*out = w;
	return 0;
fail:
	writer_free(w);
	return rc;
}

static const char *codec_ext(sl_codec c)
{
	switch (c) {
	case SL_CODEC_ZSTD: return ".zstd";
	case SL_CODEC_SNAPPY: return ".snappy";
	case SL_CODEC_GZIP: return ".gz";
	default: return "";
	}
}

static int start_file(sl_lake_writer *w, sl_error *err)
{
	char name[128], *key = NULL;
	snprintf(name, sizeof name, SL_LAKE_DATA_DIR "/part-%05d-%s%s.parquet", w->nadds,
		 w->uuid, codec_ext(w->opts.parquet.codec));
	w->cur_path = sl_strdup(name);
	key = sl_path_join(w->table, name);
	if (!w->cur_path || !key) {
		sl_free(key);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	int rc = sl_store_open_output(w->lake->store, key, &w->out, err);
	sl_free(key);
	if (rc < 0)
		return sl_error_prefix(err, "lake table %s: ", w->table);
	rc = sl_parquet_writer_open(&w->pw, w->out, w->schema, &w->opts.parquet, err);
	if (rc < 0) {
		w->pw = NULL;
		return sl_error_prefix(err, "lake table %s: %s: ", w->table, name);
	}
	return 0;
}

/* Closes the current file and records it as an add. */
static int finish_file(sl_lake_writer *w, sl_error *err)
{
	sl_parquet_file_stats fs;
	memset(&fs, 0, sizeof fs);
	if (w->nadds == w->cap) {
		int nc = w->cap ? w->cap * 2 : 8;
		sl_lake_add *d = sl_realloc(w->adds, (size_t)nc * sizeof *d);
		if (!d)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		w->adds = d;
		w->cap = nc;
	}
	int rc = sl_parquet_writer_close(w->pw, &fs, err);
	sl_parquet_writer_free(w->pw);
	w->pw = NULL;
	if (rc < 0) {
		sl_error_prefix(err, "lake table %s: %s: ", w->table, w->cur_path);
		goto done;
	}
	sl_output *o = w->out;
	w->out = NULL;
	uint64_t size = o->written;
	rc = o->close(o, err);
	if (rc < 0) {
		sl_error_prefix(err, "lake table %s: ", w->table);
		goto done;
	}
	sl_lake_add *a = &w->adds[w->nadds];
	memset(a, 0, sizeof *a);
	a->path = w->cur_path;
	w->cur_path = NULL;
	a->size = size;
	a->rows = fs.rows;
	a->mtime_ms = sl_now_micros() / 1000;
	w->nadds++;
	w->closed_bytes += size;
	rc = sl_lake_stats_from_parquet(&a->stats, w->schema, &fs, err);
done:
	sl_parquet_file_stats_free(&fs);
	return rc;
}

int sl_lake_writer_write(sl_lake_writer *w, const sl_batch *b, sl_error *err)
{
	int rc;
	if (w->failed)
		return sl_error_set(err, SL_EINVAL,
				    "lake table %s: the writer failed earlier; abort it", w->table);
	if (!b || b->nrows == 0)
		return 0;
	if (!w->pw && (rc = start_file(w, err)) < 0)
		goto fail;
	if ((rc = sl_parquet_writer_write(w->pw, b, err)) < 0) {
		sl_error_prefix(err, "lake table %s: ", w->table);
		goto fail;
	}
	w->rows += b->nrows;
	if (sl_parquet_writer_bytes(w->pw) >= w->opts.target_file_bytes &&
	    (rc = finish_file(w, err)) < 0)
		goto fail;
	return 0;
fail:
	w->failed = true;
	return rc;
}

int64_t sl_lake_writer_rows(const sl_lake_writer *w) { return w->rows; }

uint64_t sl_lake_writer_bytes(const sl_lake_writer *w)
{
	return w->closed_bytes + (w->pw ? sl_parquet_writer_file_bytes(w->pw) : 0);
}

int sl_lake_writer_set_extra_info(sl_lake_writer *w, const char *json, sl_error *err)
{
	char *copy = NULL;
	if (json && *json) {
		json_error_t je;
		json_t *x = json_loads(json, 0, &je);
		bool parsed = x != NULL, ok = json_is_object(x);
		json_decref(x);
		if (!ok)
			return sl_error_set(err, SL_EINVAL,
					    "lake table %s: extra commit info is not a JSON object: %s",
					    w->table, parsed ? "not an object" : je.text);
		if (!(copy = sl_strdup(json)))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	sl_free((char *)w->opts.extra_info_json);
	w->opts.extra_info_json = copy;
	return 0;
}

int sl_lake_writer_commit(sl_lake_writer *w, sl_lake_commit_result *res, sl_error *err)
{
	sl_lake_commit_result tmp;
	bool written = false;
	int rc;
	if (!res)
		res = &tmp;
	memset(res, 0, sizeof *res);
	res->version = -1;
	if (w->failed) {
		rc = sl_error_set(err, SL_EINVAL,
				  "lake table %s: the writer failed earlier; nothing was committed",
				  w->table);
		goto fail;
	}
	if (w->pw && (rc = finish_file(w, err)) < 0)
		goto fail;
	sl_lake_commit_req req = {w->schema, &w->opts, w->adds, w->nadds};
	rc = sl_lake_log_commit(w->lake, w->table, &w->st, &req, res, &written, err);
	if (rc < 0)
		goto fail;
	if (res->skipped) {
		sl_debug("lake table %s: txn %s version %lld is already committed; skipping",
			w->table, w->opts.app_id, (long long)w->opts.txn_version);
		delete_files(w);
	}
	/* The state now holds this commit: later readers start from it. */
	sl_lake_cache_offer(w->lake, &w->st);
	writer_free(w);
	return 0;
fail:
	/* After an ambiguous put the files may be referenced: leave them to vacuum. */
	if (!written)
		delete_files(w);
	writer_free(w);
	return rc;
}

void sl_lake_writer_abort(sl_lake_writer *w)
{
	if (!w)
		return;
	if (w->pw) {
		sl_parquet_writer_free(w->pw);
		w->pw = NULL;
	}
	if (w->out) {
		w->out->abort(w->out);
		w->out = NULL;
	}
	delete_files(w);
	writer_free(w);
}
