/*
 * lake_log.c: reading a table's Delta log and replaying it. Versions are
 * applied in order to a state (live files, schema, table id, txn versions,
 * removals, the latest version that replaced the content, and records of
 * the last few commits); a state is advanced by applying only the versions
 * after its own. Checkpoints and _last_checkpoint are not read: sluice
 * writes none, and tables must keep every JSON version. Replay reconciles
 * actions as the Delta protocol says: one live file per path, the newest
 * action of a path winning (see state_add). Snapshots, changes and history
 * built on a state live in lake_read.c.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------- reading log */

/*
 * Lists table's log: *latest version (versions must run from 0 without
 * gaps) and, when files is set, each version's size and mtime
 * (files[v], sl_malloc'd, latest + 1 entries). SL_ENOTFOUND when the table
 * has no log.
 */
static int log_list(sl_lake *lake, const char *table, int64_t *latest, sl_lake_logfile **files,
		    sl_error *err)
{
	sl_store_entry *e = NULL;
	size_t n = 0;
	char *prefix = NULL;
	sl_lake_logfile *lf = NULL;
	int64_t expect = 0;
	int rc = sl_lake_check_table(table, err);
	if (rc < 0)
		return rc;
	*latest = -1;
	if (files)
		*files = NULL;
	size_t pn = strlen(table) + 16;
	prefix = sl_malloc(pn);
	if (!prefix)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	snprintf(prefix, pn, "%s/_delta_log/", table);
	rc = sl_store_list(lake->store, prefix, &e, &n, err);
	if (rc < 0) {
		sl_error_prefix(err, "lake table %s: ", table);
		goto done;
	}
	if (files && !(lf = sl_calloc(n + 1, sizeof *lf))) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = e[i].key + strlen(prefix);
		if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0 ||
		    strspn(name, "0123456789") != 20)
			continue; /* checkpoints, _last_checkpoint, crc files... */
		int64_t v = strtoll(name, NULL, 10);
		if (v != expect) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "lake table %s: log version %lld is missing (found %lld); "
					  "tables whose early versions were removed after a "
					  "checkpoint are not supported",
					  table, (long long)expect, (long long)v);
			goto done;
		}
		if (lf)
			lf[expect] = (sl_lake_logfile){e[i].size, e[i].mtime_micros};
		expect++;
	}
	if (expect == 0) {
		rc = sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s", table,
				  lake->url);
		goto done;
	}
	*latest = expect - 1;
	if (files) {
		*files = lf;
		lf = NULL;
	}
done:
	sl_free(lf);
	sl_store_entries_free(e, n);
	sl_free(prefix);
	return rc;
}

int sl_lake_log_versions(sl_lake *lake, const char *table, int64_t *latest, sl_error *err)
{
	return log_list(lake, table, latest, NULL, err);
}

int sl_lake_log_parse(const char *text, size_t tlen, const char *where, json_t **out,
		      sl_error *err)
{
	json_t *arr = json_array();
	int line = 0, rc = 0;
	*out = NULL;
	if (!arr)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (size_t at = 0; at < tlen;) {
		const char *p = text + at;
		const char *nl = memchr(p, '\n', tlen - at);
		size_t len = nl ? (size_t)(nl - p) : tlen - at;
		line++;
		size_t k = 0;
		while (k < len && (p[k] == ' ' || p[k] == '\r' || p[k] == '\t'))
			k++;
		if (k < len) {
			json_error_t je;
			json_t *a = json_loadb(p, len, 0, &je);
			if (!json_is_object(a)) {
				json_decref(a);
				rc = sl_error_set(err, SL_EFORMAT, "%s:%d: not a JSON action: %s", where,
						  line, a ? "not an object" : je.text);
				goto fail;
			}
			if (json_array_append_new(arr, a) < 0) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto fail;
			}
		}
		at += len + (nl ? 1 : 0);
	}
	*out = arr;
	return 0;
fail:
	json_decref(arr);
	return rc;
}

int sl_lake_log_read(sl_lake *lake, const char *table, int64_t v, json_t **out,
		     sl_error *err)
{
	sl_buf buf = SL_BUF_INIT;
	char *where = NULL;
	*out = NULL;
	char *key = sl_lake_log_key(table, v);
	if (!key)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int rc = sl_store_get(lake->store, key, &buf, err);
	atomic_fetch_add(&lake->log_reads, 1);
	sl_debug("lake table %s: read log version %lld", table, (long long)v);
	if (rc < 0) {
		sl_error_prefix(err, "lake table %s: ", table);
		goto done;
	}
	where = sl_path_join(lake->url, key);
	if (!where) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	rc = sl_lake_log_parse(buf.data ? buf.data : "", buf.len, where, out, err);
done:
	sl_buf_free(&buf);
	sl_free(where);
	sl_free(key);
	return rc;
}

/* ------------------------------------------------------------- state */

static int state_reindex(sl_lake_state *st);

int sl_lake_state_init(sl_lake_state *st, const char *table, sl_error *err)
{
	memset(st, 0, sizeof *st);
	st->version = -1;
	st->last_rebuild = -1;
	st->table = sl_strdup(table);
	st->table_id = sl_strdup("");
	if (!st->table || !st->table_id) {
		sl_lake_state_free(st);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	return 0;
}

void sl_lake_state_free(sl_lake_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->nfiles; i++)
		sl_free(st->files[i].path);
	for (int i = 0; i < st->ntxns; i++)
		sl_free(st->txns[i].app_id);
	for (int i = 0; i < st->nremovals; i++)
		sl_free(st->removals[i].path);
	for (int i = 0; i < st->nrecent; i++)
		sl_lake_commit_clear(&st->recent[i]);
	sl_free(st->files);
	sl_free(st->index);
	sl_free(st->txns);
	sl_free(st->removals);
	sl_free(st->table);
	sl_free(st->table_id);
	sl_free(st->meta_json);
	sl_schema_free(st->schema);
	memset(st, 0, sizeof *st);
	st->version = -1;
	st->last_rebuild = -1;
}

int sl_lake_state_copy(sl_lake_state *dst, const sl_lake_state *src, sl_error *err)
{
	memset(dst, 0, sizeof *dst);
	dst->version = src->version;
	dst->last_file = src->last_file;
	dst->last_rebuild = src->last_rebuild;
	dst->min_reader = src->min_reader;
	dst->min_writer = src->min_writer;
	dst->table = sl_strdup(src->table);
	dst->table_id = sl_strdup(src->table_id ? src->table_id : "");
	if (!dst->table || !dst->table_id)
		goto oom;
	if (src->meta_json && !(dst->meta_json = sl_strdup(src->meta_json)))
		goto oom;
	if (src->schema && !(dst->schema = sl_schema_copy(src->schema)))
		goto oom;
	/* Live files are copied compacted; the index is rebuilt for them. */
	if (src->nlive > 0) {
		dst->files = sl_calloc((size_t)src->nlive, sizeof *dst->files);
		if (!dst->files)
			goto oom;
		dst->cap = src->nlive;
		for (int i = 0; i < src->nfiles; i++) {
			if (!src->files[i].path)
				continue;
			dst->files[dst->nfiles] = src->files[i];
			dst->files[dst->nfiles].path = sl_strdup(src->files[i].path);
			if (!dst->files[dst->nfiles].path)
				goto oom;
			dst->nfiles++;
		}
		dst->nlive = dst->nfiles;
		if (state_reindex(dst) < 0)
			goto oom;
	}
	if (src->ntxns > 0) {
		dst->txns = sl_calloc((size_t)src->ntxns, sizeof *dst->txns);
		if (!dst->txns)
			goto oom;
		for (; dst->ntxns < src->ntxns; dst->ntxns++) {
			dst->txns[dst->ntxns] = src->txns[dst->ntxns];
			dst->txns[dst->ntxns].app_id = sl_strdup(src->txns[dst->ntxns].app_id);
			if (!dst->txns[dst->ntxns].app_id)
				goto oom;
		}
	}
	if (src->nremovals > 0) {
		dst->removals = sl_calloc((size_t)src->nremovals, sizeof *dst->removals);
		if (!dst->removals)
			goto oom;
		dst->capremovals = src->nremovals;
		for (; dst->nremovals < src->nremovals; dst->nremovals++) {
			dst->removals[dst->nremovals] = src->removals[dst->nremovals];
			dst->removals[dst->nremovals].path =
				sl_strdup(src->removals[dst->nremovals].path);
			if (!dst->removals[dst->nremovals].path)
				goto oom;
		}
	}
	for (; dst->nrecent < src->nrecent; dst->nrecent++)
		if (sl_lake_commit_copy(&dst->recent[dst->nrecent], &src->recent[dst->nrecent]) < 0)
			goto oom;
	return 0;
oom:
	sl_lake_state_free(dst);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* Slot of path in the index: where it is, or the empty slot ending its probe. */
static size_t index_slot(const sl_lake_state *st, const char *path)
{
	size_t mask = st->index_cap - 1, i = (size_t)hash_str(path) & mask;
	for (;;) {
		int f = st->index[i];
		if (f < 0)
			return i;
		if (st->files[f].path && strcmp(st->files[f].path, path) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static char *canonical_key(const char *d, bool *bad);

const sl_lake_file *sl_lake_state_find(const sl_lake_state *st, const char *path)
{
	bool bad = false;
	if (!st->index_cap)
		return NULL;
	char *key = canonical_key(path, &bad);
	int f = key ? st->index[index_slot(st, key)] : -1;
	sl_free(key);
	return f >= 0 ? &st->files[f] : NULL;
}

/* Drops removed files and rebuilds the index with room for one more file. */
static int state_reindex(sl_lake_state *st)
{
	int w = 0;
	for (int r = 0; r < st->nfiles; r++)
		if (st->files[r].path)
			st->files[w++] = st->files[r];
	st->nfiles = w;
	size_t cap = 64;
	while (cap < (size_t)(st->nfiles + 1) * 2)
		cap *= 2;
	if (st->cap < st->nfiles + 1) {
		int nc = st->cap ? st->cap * 2 : 32;
		while (nc < st->nfiles + 1)
			nc *= 2;
		sl_lake_file *d = sl_realloc(st->files, (size_t)nc * sizeof *d);
		if (!d)
			return SL_ENOMEM;
		st->files = d;
		st->cap = nc;
	}
	if (cap != st->index_cap) {
		int *idx = sl_malloc(cap * sizeof *idx);
		if (!idx)
			return SL_ENOMEM;
		sl_free(st->index);
		st->index = idx;
		st->index_cap = cap;
	}
	for (size_t i = 0; i < cap; i++)
		st->index[i] = -1;
	for (int f = 0; f < st->nfiles; f++)
		st->index[index_slot(st, st->files[f].path)] = f;
	return 0;
}

int64_t sl_lake_stats_rows(const char *stats)
{
	if (!stats)
		return 0;
	json_t *s = json_loads(stats, 0, NULL);
	json_t *n = s ? json_object_get(s, "numRecords") : NULL;
	int64_t rows = json_is_integer(n) ? (int64_t)json_integer_value(n) : 0;
	json_decref(s);
	return rows;
}

/*
 * The one spelling of a file's path that keys the live set, from the path
 * as it is (decoded): "." and empty segments dropped, bytes other than
 * letters, digits and "-_.~/=" as %XX. NULL with *bad set for a path that
 * climbs out of the table ("..") or is absolute; NULL alone when out of
 * memory.
 */
static char *canonical_key(const char *d, bool *bad)
{
	sl_buf out = SL_BUF_INIT;
	*bad = d[0] == '/' || strstr(d, "://") != NULL;
	for (const char *seg = d, *next; seg && !*bad; seg = next) {
		const char *slash = strchr(seg, '/');
		next = slash ? slash + 1 : NULL;
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			*bad = true;
			break;
		}
		if (out.len && sl_buf_putc(&out, '/') < 0)
			goto oom;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)seg[i];
			int rc = isalnum(c) || strchr("-_.~=", c) ? sl_buf_putc(&out, (char)c)
								   : sl_buf_printf(&out, "%%%02X", c);
			if (rc < 0)
				goto oom;
		}
	}
	if (*bad || !out.len) {
		*bad = true;
		sl_buf_free(&out);
		return NULL;
	}
	return sl_buf_detach(&out);
oom:
	sl_buf_free(&out);
	return NULL;
}

/* The key of a path as the log writes it (percent-encoded): "data/x",
 * "./data/x" and "data/%78" are one file. */
static char *canonical_path(const char *path, bool *bad)
{
	char *d = sl_lake_path_decode(path);
	*bad = false;
	if (!d)
		return NULL;
	char *key = canonical_key(d, bad);
	sl_free(d);
	return key;
}

/*
 * Delta's action reconciliation: a logical file is keyed by its path (no
 * deletion vectors at reader version 1) and the newest action of a path
 * wins. A second add of a live path, in the same version or a later one,
 * replaces the first (its stats may be newer) and the file stays live once,
 * with the version that first made it live: its rows were in the table
 * from then on. Data files never change, so two adds of one live path with
 * different sizes mean a corrupt log.
 */
static int state_add(sl_lake_state *st, const char *path, uint64_t size, int64_t rows,
		     int64_t version, sl_error *err)
{
	/* Keep the index under half full, counting removed slots too. */
	if (!st->index_cap || (size_t)(st->nfiles + 1) * 2 > st->index_cap ||
	    st->nfiles == st->cap) {
		if (state_reindex(st) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	size_t slot = index_slot(st, path);
	int f = st->index[slot];
	if (f >= 0) {
		sl_lake_file *live = &st->files[f];
		if (live->size != size)
			return sl_error_set(err, SL_EFORMAT,
					    "lake table %s: version %lld adds %s with %llu bytes, but "
					    "that file is already in the table with %llu bytes (added "
					    "at version %lld); a data file never changes, so the log "
					    "is corrupt",
					    st->table, (long long)version, path,
					    (unsigned long long)size, (unsigned long long)live->size,
					    (long long)live->version);
		live->rows = rows;
		return 0;
	}
	char *p = sl_strdup(path);
	if (!p)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	st->files[st->nfiles] = (sl_lake_file){p, size, rows, version};
	st->index[slot] = st->nfiles++;
	st->nlive++;
	return 0;
}

static void state_remove(sl_lake_state *st, const char *path)
{
	if (!st->index_cap)
		return;
	int f = st->index[index_slot(st, path)];
	if (f < 0)
		return;
	/* The slot stays as a tombstone: its file's path is NULL. */
	sl_free(st->files[f].path);
	st->files[f].path = NULL;
	st->nlive--;
}

/*
 * Every (appId, version) pair of the log is kept, not only each appId's
 * latest: runs of one writer may overlap and commit out of order, and a run
 * is "already committed" only when its own pair is in the log.
 */
static int state_set_txn(sl_lake_state *st, const char *app, int64_t v, int64_t updated)
{
	for (int i = 0; i < st->ntxns; i++) {
		if (strcmp(st->txns[i].app_id, app) == 0 && st->txns[i].version == v) {
			st->txns[i].last_updated_ms = updated;
			return 0;
		}
	}
	sl_lake_txn *d = sl_realloc(st->txns, (size_t)(st->ntxns + 1) * sizeof *d);
	if (!d)
		return SL_ENOMEM;
	st->txns = d;
	char *a = sl_strdup(app);
	if (!a)
		return SL_ENOMEM;
	st->txns[st->ntxns++] = (sl_lake_txn){a, v, updated};
	return 0;
}

int64_t sl_lake_state_txn(const sl_lake_state *st, const char *app_id)
{
	int64_t latest = -1;
	for (int i = 0; i < st->ntxns; i++)
		if (strcmp(st->txns[i].app_id, app_id) == 0 && st->txns[i].version > latest)
			latest = st->txns[i].version;
	return latest;
}

bool sl_lake_state_txn_seen(const sl_lake_state *st, const char *app_id, int64_t version)
{
	for (int i = 0; i < st->ntxns; i++)
		if (strcmp(st->txns[i].app_id, app_id) == 0 && st->txns[i].version == version)
			return true;
	return false;
}

/* Records a removal of path at version v (micros: when, or INT64_MIN). */
static int state_note_removal(sl_lake_state *st, const char *path, int64_t v, int64_t micros)
{
	if (st->nremovals == st->capremovals) {
		int nc = st->capremovals ? st->capremovals * 2 : 16;
		sl_lake_removal *d = sl_realloc(st->removals, (size_t)nc * sizeof *d);
		if (!d)
			return SL_ENOMEM;
		st->removals = d;
		st->capremovals = nc;
	}
	char *p = sl_strdup(path);
	if (!p)
		return SL_ENOMEM;
	st->removals[st->nremovals++] = (sl_lake_removal){p, v, micros};
	return 0;
}

/* Keeps c as the newest of the recent commit records (c is moved). */
static void state_keep_record(sl_lake_state *st, sl_lake_commit *c)
{
	if (st->nrecent == SL_LAKE_RECENT) {
		sl_lake_commit_clear(&st->recent[0]);
		memmove(&st->recent[0], &st->recent[1], (SL_LAKE_RECENT - 1) * sizeof st->recent[0]);
		st->nrecent--;
	}
	st->recent[st->nrecent++] = *c;
	memset(c, 0, sizeof *c);
}

/* Whether commitInfo x says the commit replaced the table's content. */
bool sl_lake_info_overwrites(json_t *x)
{
	const char *mode =
		json_string_value(json_object_get(json_object_get(x, "operationParameters"), "mode"));
	return mode && strcmp(mode, "Overwrite") == 0;
}

int sl_lake_state_apply(sl_lake_state *st, json_t *actions, int64_t v, bool keep_record,
			sl_error *err)
{
	size_t i;
	json_t *a;
	int64_t commit_micros = INT64_MIN;
	bool replaced = false;
	json_array_foreach(actions, i, a) {
		json_t *x = json_object_get(a, "commitInfo");
		if (x) {
			json_t *ts = json_object_get(x, "timestamp");
			if (json_is_integer(ts))
				commit_micros = (int64_t)json_integer_value(ts) * 1000;
			replaced = replaced || sl_lake_info_overwrites(x);
		}
	}
	json_array_foreach(actions, i, a) {
		json_t *x;
		if ((x = json_object_get(a, "protocol"))) {
			st->min_reader = (int)json_integer_value(json_object_get(x, "minReaderVersion"));
			st->min_writer = (int)json_integer_value(json_object_get(x, "minWriterVersion"));
			if (st->min_reader > SL_LAKE_READER_VERSION)
				return sl_error_set(err, SL_EFORMAT,
						    "lake table %s: version %lld needs Delta reader "
						    "version %d; sluice reads version %d tables",
						    st->table, (long long)v, st->min_reader,
						    SL_LAKE_READER_VERSION);
		} else if ((x = json_object_get(a, "metaData"))) {
			const char *ss = json_string_value(json_object_get(x, "schemaString"));
			const char *id = json_string_value(json_object_get(x, "id"));
			sl_schema *s = NULL;
			if (!ss)
				return sl_error_set(err, SL_EFORMAT,
						    "lake table %s: version %lld: metaData without "
						    "schemaString", st->table, (long long)v);
			int rc = sl_lake_schema_from_json(&s, ss, err);
			if (rc < 0)
				return sl_error_prefix(err, "lake table %s: version %lld: ", st->table,
						       (long long)v);
			char *mj = json_dumps(x, JSON_COMPACT);
			char *mjs = mj ? sl_strdup(mj) : NULL;
			char *ids = sl_strdup(id ? id : "");
			free(mj);
			if (!mjs || !ids) {
				sl_free(mjs);
				sl_free(ids);
				sl_schema_free(s);
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			}
			/* A new id in place: the table was created again. */
			if (st->meta_json && strcmp(ids, st->table_id) != 0)
				replaced = true;
			sl_schema_free(st->schema);
			sl_free(st->meta_json);
			sl_free(st->table_id);
			st->schema = s;
			st->meta_json = mjs;
			st->table_id = ids;
		} else if ((x = json_object_get(a, "add"))) {
			const char *path = json_string_value(json_object_get(x, "path"));
			if (!path)
				return sl_error_set(err, SL_EFORMAT,
						    "lake table %s: version %lld: add without a path",
						    st->table, (long long)v);
			json_int_t size = json_integer_value(json_object_get(x, "size"));
			int64_t rows = sl_lake_stats_rows(json_string_value(json_object_get(x, "stats")));
			bool bad = false;
			char *key = canonical_path(path, &bad);
			if (!key)
				return bad ? sl_error_set(err, SL_EFORMAT,
							  "lake table %s: version %lld adds \"%s\", "
							  "which is not a path inside the table",
							  st->table, (long long)v, path)
					   : sl_error_set(err, SL_ENOMEM, "out of memory");
			int rc = state_add(st, key, (uint64_t)size, rows, v, err);
			sl_free(key);
			if (rc < 0)
				return rc;
		} else if ((x = json_object_get(a, "remove"))) {
			const char *path = json_string_value(json_object_get(x, "path"));
			json_t *dt = json_object_get(x, "deletionTimestamp");
			bool bad = false;
			char *key = path ? canonical_path(path, &bad) : NULL;
			if (path && !key && !bad)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			if (key)
				state_remove(st, key);
			sl_free(key);
			replaced = true;
			if (path && state_note_removal(st, path, v,
						       json_is_integer(dt)
							       ? (int64_t)json_integer_value(dt) * 1000
							       : commit_micros) < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		} else if ((x = json_object_get(a, "txn"))) {
			const char *app = json_string_value(json_object_get(x, "appId"));
			if (app &&
			    state_set_txn(st, app, json_integer_value(json_object_get(x, "version")),
					  json_integer_value(json_object_get(x, "lastUpdated"))) < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
	}
	if (replaced)
		st->last_rebuild = v;
	st->version = v;
	if (keep_record) {
		sl_lake_commit c;
		if (sl_lake_commit_from_actions(&c, actions, v) < 0) {
			sl_lake_commit_clear(&c);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		c.replaced = replaced;
		state_keep_record(st, &c);
	}
	return 0;
}

/* Starts st over (same table): the log it replayed is not there any more. */
static int state_restart(sl_lake_state *st, sl_error *err)
{
	char *table = st->table;
	st->table = NULL;
	sl_lake_state_free(st);
	int rc = sl_lake_state_init(st, table, err);
	sl_free(table);
	return rc;
}

int sl_lake_state_advance(sl_lake *lake, sl_lake_state *st, int64_t upto, sl_error *err)
{
	int64_t latest;
	sl_lake_logfile *files = NULL;
	int rc = log_list(lake, st->table, &latest, &files, err);
	if (rc == SL_ENOTFOUND && upto < 0 && st->version < 0) {
		sl_error_clear(err);
		return 0; /* no table yet: the empty state */
	}
	if (rc < 0)
		return rc;
	if (upto >= 0 && upto > latest) {
		rc = sl_error_set(err, SL_ENOTFOUND,
				  "lake table %s has no version %lld (latest is %lld)", st->table,
				  (long long)upto, (long long)latest);
		goto done;
	}
	if (upto < 0)
		upto = latest;
	if (st->version >= 0) {
		/* The log must still hold the version applied last, as it was: a
		 * table deleted and written again is replayed from the start. */
		const sl_lake_logfile *was = st->version <= latest ? &files[st->version] : NULL;
		bool same = was && (!st->last_file.size || was->size == st->last_file.size) &&
			    (!st->last_file.mtime_micros ||
			     was->mtime_micros == st->last_file.mtime_micros);
		if (!same && (rc = state_restart(st, err)) < 0)
			goto done;
		if (same && !st->last_file.mtime_micros)
			st->last_file = *was; /* learnt now, for a commit it wrote */
	}
	for (int64_t v = st->version + 1; v <= upto; v++) {
		json_t *actions = NULL;
		rc = sl_lake_log_read(lake, st->table, v, &actions, err);
		if (rc == 0)
			rc = sl_lake_state_apply(st, actions, v, v > upto - SL_LAKE_RECENT, err);
		json_decref(actions);
		if (rc < 0)
			goto done;
		st->last_file = files[v];
	}
done:
	sl_free(files);
	return rc;
}
