/*
 * progress.c: what the engine does with a source's progress — marks its
 * files done and advances its watermark (never backwards) in the state
 * store, after the lake commit that holds the rows; writes it into that
 * commit's commitInfo and reads it back to recover a run that died in
 * between; and answers file sources' "seen before?" from the state store.
 */
#include "engine/progress_int.h"

#include <string.h>

/* Watermarks are ISO timestamps, numbers or other text; compare as the
 * kind they are so that "9" < "10" and "2024-01-02" < "2024-01-10". */
static int watermark_cmp(const char *a, const char *b)
{
	int64_t ta, tb;
	if (sl_timestamp_parse(a, strlen(a), &ta) == 0 &&
	    sl_timestamp_parse(b, strlen(b), &tb) == 0)
		return ta < tb ? -1 : ta > tb;
	double da, db;
	if (sl_parse_double(a, strlen(a), &da) == 0 && sl_parse_double(b, strlen(b), &db) == 0)
		return da < db ? -1 : da > db;
	return strcmp(a, b);
}

int sl_engine_progress_apply(sl_state *st, const char *key, const sl_source_progress *p,
			     sl_error *err)
{
	int rc = 0;
	if (!st || !p)
		return 0;
	if (p->nfiles > 0) {
		rc = sl_state_tx_begin(st, err);
		if (rc < 0)
			return rc;
		for (int i = 0; i < p->nfiles && rc == 0; i++) {
			const sl_progress_file *f = &p->files[i];
			rc = sl_state_file_done(st, key, f->path, (int64_t)f->size,
						f->version ? f->version : "", NULL, err);
		}
		if (rc < 0) {
			sl_state_tx_rollback(st);
			return rc;
		}
		rc = sl_state_tx_commit(st, err);
		if (rc < 0)
			return rc;
	}
	if (p->watermark && *p->watermark) {
		char *cur = NULL;
		rc = sl_state_watermark_get(st, key, &cur, err);
		if (rc == 0 && (!cur || watermark_cmp(cur, p->watermark) < 0))
			rc = sl_state_watermark_set(st, key, p->watermark, err);
		sl_free(cur);
	}
	return rc;
}

json_t *sl_engine_progress_to_json(const sl_source_progress *p)
{
	if (!p || (p->nfiles == 0 && !p->watermark))
		return NULL;
	json_t *o = json_object();
	json_t *files = p->nfiles > 0 ? json_array() : NULL;
	bool ok = o && (p->nfiles == 0 || files);
	for (int i = 0; ok && i < p->nfiles; i++) {
		const sl_progress_file *f = &p->files[i];
		json_t *e = json_pack("{s:s,s:I,s:s}", "path", f->path, "size",
				      (json_int_t)f->size, "version", f->version ? f->version : "");
		ok = e && json_array_append_new(files, e) == 0;
	}
	if (ok && files)
		ok = json_object_set(o, "files", files) == 0;
	if (ok && p->watermark)
		ok = json_object_set_new(o, "watermark", json_string(p->watermark)) == 0;
	json_decref(files);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sl_engine_progress_from_json(const json_t *o, sl_source_progress *out)
{
	json_t *files = json_object_get(o, "files");
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *ver = json_string_value(json_object_get(f, "version"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));
		if (!path)
			continue;
		if (sl_source_progress_add_file(out, path, (uint64_t)size, ver ? ver : "") < 0)
			goto oom;
	}
	const char *wm = json_string_value(json_object_get(o, "watermark"));
	if (wm && *wm && sl_source_progress_set_watermark(out, wm) < 0)
		goto oom;
	return 0;
oom:
	sl_source_progress_clear(out);
	return SL_ENOMEM;
}

int sl_engine_file_seen(void *ctx, const char *path, uint64_t size, const char *version,
			sl_file_seen *out, sl_error *err)
{
	sl_engine_seen_ctx *c = ctx;
	bool done = false, seen = false;
	*out = SL_FILE_NEW;
	if (!c || !c->state)
		return 0;
	int rc = sl_state_file_is_done(c->state, c->key, path, (int64_t)size, version, &done,
				       err);
	if (rc == 0 && done) {
		*out = SL_FILE_DONE;
		return 0;
	}
	if (rc == 0)
		rc = sl_state_file_seen(c->state, c->key, path, &seen, err);
	if (rc == 0 && seen)
		*out = SL_FILE_CHANGED;
	return rc;
}
