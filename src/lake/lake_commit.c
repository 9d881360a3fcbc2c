/*
 * lake_commit.c: writing one version of a table's Delta log. The actions
 * (commitInfo, protocol + metaData for a new table or a new schema, txn,
 * remove, add) go to _delta_log/<version>.json with put-if-absent: when
 * another writer took the version, the log is replayed again, txn
 * idempotence and the schema re-checked, and the next version tried. With
 * a commit lock (stores that ignore If-None-Match) the put runs under it,
 * after a stat that proves the version is still free.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*commit_hook)(void *);
static void *commit_hook_arg;

void sl_lake_set_commit_hook(void (*fn)(void *arg), void *arg)
{
	commit_hook = fn;
	commit_hook_arg = arg;
}

/* Appends the action {name: obj} to the commit text as one line. */
static int put_action(sl_buf *out, const char *name, json_t *obj)
{
	json_t *a = json_pack("{s:o}", name, obj);
	if (!a)
		return SL_ENOMEM;
	char *line = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (!line)
		return SL_ENOMEM;
	int rc = sl_buf_puts(out, line);
	if (rc == 0)
		rc = sl_buf_putc(out, '\n');
	free(line);
	return rc;
}

static json_t *meta_action(const sl_lake_state *st, const sl_schema *schema, int64_t now_ms)
{
	char id[37];
	char *ss = sl_lake_schema_to_json(schema);
	json_t *m = NULL;
	if (!ss)
		return NULL;
	json_t *old = st->meta_json ? json_loads(st->meta_json, 0, NULL) : NULL;
	if (old) {
		/* A schema change keeps the table's id, format and creation time. */
		m = json_deep_copy(old);
		if (m && json_object_set_new(m, "schemaString", json_string(ss)) < 0) {
			json_decref(m);
			m = NULL;
		}
	} else {
		sl_lake_uuid4(id);
		m = json_pack("{s:s, s:{s:s, s:{}}, s:s, s:[], s:{}, s:I}", "id", id, "format",
			      "provider", "parquet", "options", "schemaString", ss,
			      "partitionColumns", "configuration", "createdTime",
			      (json_int_t)now_ms);
	}
	json_decref(old);
	sl_free(ss);
	return m;
}

static json_t *commit_info(const sl_lake_state *st, const sl_lake_commit_req *req,
			   int64_t now_ms, int64_t rows, uint64_t bytes, int nremoved,
			   sl_error *err)
{
	const sl_lake_write_opts *o = req->opts;
	char buf[3][32];
	snprintf(buf[0], sizeof buf[0], "%d", req->nadds);
	snprintf(buf[1], sizeof buf[1], "%lld", (long long)rows);
	snprintf(buf[2], sizeof buf[2], "%llu", (unsigned long long)bytes);
	json_t *ci = json_pack("{s:I, s:s, s:{s:s}, s:b, s:s, s:{s:s, s:s, s:s}}", "timestamp",
			       (json_int_t)now_ms, "operation",
			       o->operation ? o->operation : "WRITE", "operationParameters",
			       "mode", o->mode == SL_LAKE_OVERWRITE ? "Overwrite" : "Append",
			       "isBlindAppend", (int)(o->mode == SL_LAKE_APPEND), "engineInfo",
			       SL_LAKE_ENGINE_INFO, "operationMetrics", "numFiles", buf[0],
			       "numOutputRows", buf[1], "numOutputBytes", buf[2]);
	if (!ci) {
		sl_error_set(err, SL_ENOMEM, "out of memory");
		return NULL;
	}
	int bad = 0;
	if (st->version >= 0)
		bad |= json_object_set_new(ci, "readVersion", json_integer(st->version));
	if (nremoved) {
		char n[32];
		snprintf(n, sizeof n, "%d", nremoved);
		bad |= json_object_set_new(json_object_get(ci, "operationMetrics"), "numRemovedFiles",
					   json_string(n));
	}
	if (o->run_id)
		bad |= json_object_set_new(ci, "run_id", json_string(o->run_id));
	if (bad) {
		json_decref(ci);
		sl_error_set(err, SL_ENOMEM, "out of memory");
		return NULL;
	}
	if (o->extra_info_json && *o->extra_info_json) {
		json_error_t je;
		json_t *x = json_loads(o->extra_info_json, 0, &je);
		if (!json_is_object(x)) {
			json_decref(x);
			json_decref(ci);
			sl_error_set(err, SL_EINVAL,
				     "lake table %s: extra commit info is not a JSON object: %s",
				     st->table, x ? "not an object" : je.text);
			return NULL;
		}
		int urc = json_object_update(ci, x);
		json_decref(x);
		if (urc < 0) {
			json_decref(ci);
			sl_error_set(err, SL_ENOMEM, "out of memory");
			return NULL;
		}
	}
	return ci;
}

/* Builds the text of the next version from the replayed state. */
static int build_commit(sl_buf *out, const sl_lake_state *st, const sl_lake_commit_req *req,
			const sl_schema *schema, bool schema_changed, sl_error *err)
{
	const sl_lake_write_opts *o = req->opts;
	int64_t now_ms = sl_now_micros() / 1000;
	int64_t rows = 0;
	uint64_t bytes = 0;
	int nremoved = 0, rc = 0;
	for (int i = 0; i < req->nadds; i++) {
		rows += req->adds[i].rows;
		bytes += req->adds[i].size;
	}
	if (o->mode == SL_LAKE_OVERWRITE)
		nremoved = st->nlive;
	json_t *ci = commit_info(st, req, now_ms, rows, bytes, nremoved, err);
	if (!ci)
		return err ? err->code : SL_ENOMEM;
	rc = put_action(out, "commitInfo", ci);
	if (rc == 0 && st->version < 0)
		rc = put_action(out, "protocol",
				json_pack("{s:i, s:i}", "minReaderVersion", SL_LAKE_READER_VERSION,
					  "minWriterVersion", SL_LAKE_WRITER_VERSION));
	if (rc == 0 && schema_changed)
		rc = put_action(out, "metaData", meta_action(st, schema, now_ms));
	if (rc == 0 && o->app_id)
		rc = put_action(out, "txn",
				json_pack("{s:s, s:I, s:I}", "appId", o->app_id, "version",
					  (json_int_t)o->txn_version, "lastUpdated",
					  (json_int_t)now_ms));
	for (int i = 0; rc == 0 && o->mode == SL_LAKE_OVERWRITE && i < st->nfiles; i++) {
		const sl_lake_file *f = &st->files[i];
		if (!f->path)
			continue;
		rc = put_action(out, "remove",
				json_pack("{s:s, s:I, s:b, s:b, s:{}, s:I}", "path", f->path,
					  "deletionTimestamp", (json_int_t)now_ms, "dataChange", 1,
					  "extendedFileMetadata", 1, "partitionValues", "size",
					  (json_int_t)f->size));
	}
	for (int i = 0; rc == 0 && i < req->nadds; i++) {
		const sl_lake_add *a = &req->adds[i];
		json_t *add = json_pack("{s:s, s:{}, s:I, s:I, s:b}", "path", a->path,
					"partitionValues", "size", (json_int_t)a->size,
					"modificationTime", (json_int_t)a->mtime_ms, "dataChange", 1);
		if (add && a->stats) {
			char *stats = sl_lake_stats_to_json(a->stats);
			if (!stats || json_object_set_new(add, "stats", json_string(stats)) < 0) {
				json_decref(add);
				add = NULL;
			}
			sl_free(stats);
		}
		rc = put_action(out, "add", add);
	}
	if (rc < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

/*
 * The put of a commit under the lake's commit lock, for stores that ignore
 * put-if-absent: while the lock is held no other writer sharing it can
 * create the key, so "absent at stat" means "absent at put". The put still
 * asks for if_absent, for stores that do honour it.
 */
static int locked_put(sl_lake *lake, const char *table, const char *key, const sl_buf *text,
		      bool *unlocked, sl_error *err)
{
	sl_store_entry e;
	int rc = lake->lock(lake->lock_ctx, table, err);
	if (rc < 0) {
		*unlocked = true;
		sl_error_prefix(err, "lake table %s: commit lock: ", table);
		return rc;
	}
	rc = sl_store_stat(lake->store, key, &e, err);
	if (rc == 0) {
		rc = sl_error_set(err, SL_ECONFLICT, "%s: already exists", key);
	} else if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		rc = sl_store_put(lake->store, key, text->data, text->len, true, err);
	}
	if (lake->unlock)
		lake->unlock(lake->lock_ctx, table);
	return rc;
}

int sl_lake_log_commit(sl_lake *lake, const char *table, sl_lake_state *st,
		       const sl_lake_commit_req *req, sl_lake_commit_result *res, bool *written,
		       sl_error *err)
{
	sl_lake_state own;
	sl_buf text = SL_BUF_INIT;
	char *key = NULL;
	int rc = 0;
	*written = false;
	memset(res, 0, sizeof *res);
	res->version = -1;
	if ((rc = sl_lake_check_table(table, err)) < 0)
		return rc;
	if (!st) {
		if ((rc = sl_lake_state_init(&own, table, err)) < 0)
			return rc;
		st = &own;
	}
	for (int attempt = 0;; attempt++) {
		sl_schema *schema = NULL;
		bool changed = false;
		if (attempt >= SL_LAKE_MAX_COMMIT_ATTEMPTS) {
			rc = sl_error_set(err, SL_ECONFLICT,
					  "lake table %s: gave up after %d attempts: other writers "
					  "keep committing first",
					  table, attempt);
			break;
		}
		rc = sl_lake_state_advance(lake, st, -1, err);
		if (rc < 0)
			break;
		if (st->version >= 0 && st->min_writer > SL_LAKE_WRITER_VERSION) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "lake table %s needs Delta writer version %d; sluice "
					  "writes version %d tables",
					  table, st->min_writer, SL_LAKE_WRITER_VERSION);
			break;
		}
		if (req->opts->app_id) {
			if (sl_lake_state_txn_seen(st, req->opts->app_id, req->opts->txn_version)) {
				res->skipped = true;
				res->version = st->version;
				break;
			}
		}
		if (req->opts->mode == SL_LAKE_OVERWRITE) {
			/* An overwrite replaces every file, so the data's schema
			 * becomes the table's, types included. */
			schema = sl_schema_copy(req->schema);
			changed = st->version < 0 || !sl_schema_equal(st->schema, req->schema);
			if (!schema)
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		} else {
			rc = sl_lake_schema_merge(st->version >= 0 ? st->schema : NULL, req->schema,
						  &schema, &changed, table, err);
		}
		if (rc < 0)
			break;
		text.len = 0;
		rc = build_commit(&text, st, req, schema, changed, err);
		sl_schema_free(schema);
		if (rc < 0)
			break;
		sl_free(key);
		key = sl_lake_log_key(table, st->version + 1);
		if (!key) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		if (commit_hook)
			commit_hook(commit_hook_arg);
		bool no_lock = false;
		rc = lake->lock ? locked_put(lake, table, key, &text, &no_lock, err)
				: sl_store_put(lake->store, key, text.data, text.len, true, err);
		if (no_lock)
			break; /* the lock was not taken: nothing written */
		if (rc == SL_ECONFLICT) {
			sl_debug("lake table %s: version %lld taken by another writer; retrying",
				 table, (long long)(st->version + 1));
			sl_error_clear(err);
			continue;
		}
		if (rc < 0) {
			*written = true; /* unknown: the put may have landed */
			sl_error_prefix(err, "lake table %s: commit of version %lld: ", table,
					(long long)(st->version + 1));
			break;
		}
		*written = true;
		/* The state takes the commit as written, without reading it back. */
		json_t *actions = NULL;
		rc = sl_lake_log_parse(text.data, text.len, key, &actions, err);
		if (rc == 0)
			rc = sl_lake_state_apply(st, actions, st->version + 1, true, err);
		json_decref(actions);
		st->last_file = (sl_lake_logfile){text.len, 0};
		if (rc < 0) {
			/* Only memory can fail here: the commit stands, and the
			 * state, half applied, is dropped (read again if needed). */
			int64_t v = st->version + 1;
			sl_error_clear(err);
			sl_lake_state_free(st);
			st->version = v;
			rc = 0;
		}
		res->version = st->version;
		res->files = req->nadds;
		for (int i = 0; i < req->nadds; i++) {
			res->rows += req->adds[i].rows;
			res->bytes += req->adds[i].size;
		}
		break;
	}
	sl_free(key);
	sl_buf_free(&text);
	if (st == &own)
		sl_lake_state_free(&own);
	return rc;
}
