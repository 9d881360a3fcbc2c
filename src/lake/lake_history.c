/*
 * lake_history.c: a table's commits as records — what each version added
 * and removed, its txn, whether it replaced the content, its commitInfo
 * and the "sluice" object in it — read in order (history) or newest first
 * (stopping where the caller says). The lake handle's replayed log keeps
 * the latest commits as records, so those need no read.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ records */

void sl_lake_commit_clear(sl_lake_commit *c)
{
	for (int i = 0; i < c->nadded; i++)
		sl_free(c->added[i].path);
	for (int i = 0; i < c->nremoved; i++)
		sl_free(c->removed[i]);
	sl_free(c->added);
	sl_free(c->removed);
	sl_free(c->operation);
	sl_free(c->run_id);
	sl_free(c->app_id);
	sl_free(c->commit_info_json);
	sl_free(c->sluice_json);
	memset(c, 0, sizeof *c);
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = sl_strdup(src);
	return *dst ? 0 : SL_ENOMEM;
}

int sl_lake_commit_copy(sl_lake_commit *dst, const sl_lake_commit *src)
{
	*dst = *src;
	dst->added = sl_calloc((size_t)src->nadded + 1, sizeof *dst->added);
	dst->removed = sl_calloc((size_t)src->nremoved + 1, sizeof *dst->removed);
	dst->nadded = dst->nremoved = 0;
	dst->operation = dst->run_id = dst->app_id = dst->commit_info_json = dst->sluice_json =
		NULL;
	if (!dst->added || !dst->removed || dup_or_null(&dst->operation, src->operation) < 0 ||
	    dup_or_null(&dst->run_id, src->run_id) < 0 ||
	    dup_or_null(&dst->app_id, src->app_id) < 0 ||
	    dup_or_null(&dst->commit_info_json, src->commit_info_json) < 0 ||
	    dup_or_null(&dst->sluice_json, src->sluice_json) < 0)
		goto oom;
	for (; dst->nadded < src->nadded; dst->nadded++) {
		dst->added[dst->nadded] = src->added[dst->nadded];
		if (!(dst->added[dst->nadded].path = sl_strdup(src->added[dst->nadded].path)))
			goto oom;
	}
	for (; dst->nremoved < src->nremoved; dst->nremoved++)
		if (!(dst->removed[dst->nremoved] = sl_strdup(src->removed[dst->nremoved])))
			goto oom;
	return 0;
oom:
	sl_lake_commit_clear(dst);
	return SL_ENOMEM;
}

/* JSON text of x (sl_malloc'd) into *out; NULL x gives NULL. */
static int json_text(json_t *x, char **out)
{
	*out = NULL;
	if (!x)
		return 0;
	char *text = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
	*out = text ? sl_strdup(text) : NULL;
	free(text);
	return *out ? 0 : SL_ENOMEM;
}

int sl_lake_commit_from_actions(sl_lake_commit *c, json_t *actions, int64_t v)
{
	size_t i, nadd = 0, nrem = 0;
	json_t *a, *x;
	memset(c, 0, sizeof *c);
	c->version = v;
	c->txn_version = -1;
	c->timestamp_micros = INT64_MIN;
	json_array_foreach(actions, i, a) {
		nadd += json_object_get(a, "add") != NULL;
		nrem += json_object_get(a, "remove") != NULL;
	}
	c->added = sl_calloc(nadd + 1, sizeof *c->added);
	c->removed = sl_calloc(nrem + 1, sizeof *c->removed);
	if (!c->added || !c->removed)
		return SL_ENOMEM;
	json_array_foreach(actions, i, a) {
		if ((x = json_object_get(a, "commitInfo"))) {
			json_t *ts = json_object_get(x, "timestamp");
			const char *op = json_string_value(json_object_get(x, "operation"));
			const char *run = json_string_value(json_object_get(x, "run_id"));
			if (json_is_integer(ts))
				c->timestamp_micros = (int64_t)json_integer_value(ts) * 1000;
			if (op && !c->operation && !(c->operation = sl_strdup(op)))
				return SL_ENOMEM;
			if (run && !c->run_id && !(c->run_id = sl_strdup(run)))
				return SL_ENOMEM;
			c->replaced = c->replaced || sl_lake_info_overwrites(x);
			if (!c->commit_info_json && json_text(x, &c->commit_info_json) < 0)
				return SL_ENOMEM;
			if (!c->sluice_json && json_text(json_object_get(x, "sluice"), &c->sluice_json) < 0)
				return SL_ENOMEM;
		} else if ((x = json_object_get(a, "metaData"))) {
			c->schema_changed = true;
		} else if ((x = json_object_get(a, "txn"))) {
			const char *app = json_string_value(json_object_get(x, "appId"));
			if (app && !c->app_id) {
				if (!(c->app_id = sl_strdup(app)))
					return SL_ENOMEM;
				c->txn_version = json_integer_value(json_object_get(x, "version"));
			}
		} else if ((x = json_object_get(a, "add"))) {
			const char *path = json_string_value(json_object_get(x, "path"));
			if (!path)
				continue;
			sl_lake_file *f = &c->added[c->nadded];
			f->path = sl_strdup(path);
			if (!f->path)
				return SL_ENOMEM;
			f->size = (uint64_t)json_integer_value(json_object_get(x, "size"));
			f->rows = sl_lake_stats_rows(json_string_value(json_object_get(x, "stats")));
			f->version = v;
			c->nadded++;
			c->rows_added += f->rows;
			c->bytes_added += f->size;
		} else if ((x = json_object_get(a, "remove"))) {
			const char *path = json_string_value(json_object_get(x, "path"));
			c->replaced = true;
			if (!path)
				continue;
			if (!(c->removed[c->nremoved] = sl_strdup(path)))
				return SL_ENOMEM;
			c->nremoved++;
		}
	}
	if (!c->operation && !(c->operation = sl_strdup("UNKNOWN")))
		return SL_ENOMEM;
	return 0;
}

/* -------------------------------------------------------------- history */

/* A commit without a commitInfo timestamp takes its log file's mtime. */
static void fill_timestamp(sl_lake *lake, const char *table, sl_lake_commit *c)
{
	if (c->timestamp_micros != INT64_MIN)
		return;
	sl_store_entry st = {0};
	char *key = sl_lake_log_key(table, c->version);
	if (!key || sl_store_stat(lake->store, key, &st, NULL) < 0)
		st.mtime_micros = 0;
	sl_free(key);
	c->timestamp_micros = st.mtime_micros;
}

/* Reads commit v from the log. */
static int read_commit(sl_lake *lake, const char *table, int64_t v, sl_lake_commit *c,
		       sl_error *err)
{
	json_t *actions = NULL;
	int rc = sl_lake_log_read(lake, table, v, &actions, err);
	if (rc < 0)
		return rc;
	rc = sl_lake_commit_from_actions(c, actions, v);
	json_decref(actions);
	if (rc < 0) {
		sl_lake_commit_clear(c);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	fill_timestamp(lake, table, c);
	return 0;
}

/* The recent commits of the cached state with version > after, and the
 * latest version. */
typedef struct {
	int64_t after;
	int64_t latest;
	int64_t first;  /* oldest version copied, or latest + 1 */
	sl_lake_commit *recent;
	int n;
} recent_req;

static int recent_from_cache(const sl_lake_state *st, void *arg, sl_error *err)
{
	recent_req *r = arg;
	r->latest = st->version;
	r->first = st->version + 1;
	r->recent = sl_calloc(SL_LAKE_RECENT + 1, sizeof *r->recent);
	if (!r->recent)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < st->nrecent; i++) {
		const sl_lake_commit *c = &st->recent[i];
		if (c->version <= r->after)
			continue;
		/* only an unbroken run up to the latest version counts */
		if (r->n > 0 && c->version != r->recent[r->n - 1].version + 1)
			continue;
		if (sl_lake_commit_copy(&r->recent[r->n], c) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (r->n == 0)
			r->first = c->version;
		r->n++;
	}
	if (r->n > 0 && r->recent[r->n - 1].version != st->version) {
		for (int i = 0; i < r->n; i++)
			sl_lake_commit_clear(&r->recent[i]);
		r->n = 0;
		r->first = st->version + 1;
	}
	return 0;
}

static void recent_free(recent_req *r)
{
	for (int i = 0; i < r->n; i++)
		sl_lake_commit_clear(&r->recent[i]);
	sl_free(r->recent);
}

int sl_lake_commits_newest_first(sl_lake *lake, const char *table, int64_t after,
				 sl_lake_commit_fn fn, void *arg, sl_error *err)
{
	recent_req r = {.after = after < -1 ? -1 : after};
	int rc = sl_lake_with_latest(lake, table, recent_from_cache, &r, err);
	for (int i = r.n - 1; rc == 0 && i >= 0; i--) {
		fill_timestamp(lake, table, &r.recent[i]);
		rc = fn(arg, &r.recent[i], err);
	}
	for (int64_t v = r.first - 1; rc == 0 && v > r.after; v--) {
		sl_lake_commit c;
		if ((rc = read_commit(lake, table, v, &c, err)) < 0)
			break;
		rc = fn(arg, &c, err);
		sl_lake_commit_clear(&c);
	}
	recent_free(&r);
	return rc < 0 ? rc : 0;
}

int sl_lake_history_open(sl_lake_history **out, sl_lake *lake, const char *table,
			 int64_t after, int64_t upto, sl_error *err)
{
	sl_lake_history *h = NULL;
	recent_req r = {.after = after < -1 ? -1 : after};
	*out = NULL;
	int rc = sl_lake_with_latest(lake, table, recent_from_cache, &r, err);
	if (rc == 0 && r.latest < 0)
		rc = sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s", table,
				  lake->url);
	if (rc < 0)
		goto done;
	after = r.after;
	if (upto < 0 || upto > r.latest)
		upto = r.latest;
	if ((rc = sl_alloc_zeroed((void **)&h, sizeof *h, err)) < 0)
		goto done;
	int64_t count = upto > after ? upto - after : 0;
	h->commits = sl_calloc((size_t)count + 1, sizeof *h->commits);
	if (!h->commits) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	for (int64_t v = after + 1; v <= upto; v++) {
		sl_lake_commit *c = &h->commits[h->n];
		if (v >= r.first) {
			*c = r.recent[v - r.first]; /* moved */
			memset(&r.recent[v - r.first], 0, sizeof *c);
			fill_timestamp(lake, table, c);
		} else if ((rc = read_commit(lake, table, v, c, err)) < 0) {
			goto done;
		}
		h->n++;
	}
	*out = h;
	h = NULL;
done:
	recent_free(&r);
	sl_lake_history_free(h);
	return rc;
}

void sl_lake_history_free(sl_lake_history *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->n; i++)
		sl_lake_commit_clear(&h->commits[i]);
	sl_free(h->commits);
	sl_free(h);
}
