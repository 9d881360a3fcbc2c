/*
 * progress.c: applying an extraction's progress object to the state store
 * — files marked done, the watermark advanced (never moved backwards).
 */
#include "sources/sources.h"
#include "state/state.h"

#include <jansson.h>
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

int sl_source_progress_apply(struct sl_state *st, const char *key, const char *json,
			     sl_error *err)
{
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);
	int rc = 0;
	if (!st)
		goto out;
	if (!o)
		return sl_error_set(err, SL_EINTERNAL, "progress of %s is not JSON: %s", key,
				    jerr.text);
	json_t *files = json_object_get(o, "files");
	if (json_is_array(files) && json_array_size(files) > 0) {
		size_t i;
		json_t *f;
		rc = sl_state_tx_begin(st, err);
		if (rc < 0)
			goto out;
		json_array_foreach(files, i, f) {
			const char *path = json_string_value(json_object_get(f, "path"));
			const char *ver = json_string_value(json_object_get(f, "version"));
			json_int_t size = json_integer_value(json_object_get(f, "size"));
			if (!path)
				continue;
			rc = sl_state_file_done(st, key, path, size, ver ? ver : "", NULL, err);
			if (rc < 0)
				break;
		}
		if (rc < 0)
			sl_state_tx_rollback(st);
		else
			rc = sl_state_tx_commit(st, err);
		if (rc < 0)
			goto out;
	}
	const char *wm = json_string_value(json_object_get(o, "watermark"));
	if (wm && *wm) {
		char *cur = NULL;
		rc = sl_state_watermark_get(st, key, &cur, err);
		if (rc == 0 && (!cur || watermark_cmp(cur, wm) < 0))
			rc = sl_state_watermark_set(st, key, wm, err);
		sl_free(cur);
	}
out:
	json_decref(o);
	return rc;
}
