/*
 * lake_read.c: reading tables — snapshots, changes since a version,
 * committed files — on top of one replayed log per table that the lake
 * handle keeps (commit records are in lake_history.c). A run reads each log version once: the first reader
 * of a table replays its log, later readers (and writers, which copy the
 * state and hand it back with their own commit applied) only apply the
 * versions that appeared since, after a listing of the log folder.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- cache */

struct sl_lake_cached {
	sl_lake_cached *next;
	pthread_mutex_t mu; /* held while the state is advanced or read */
	int refs;           /* users between acquire and release */
	uint64_t used;      /* lake->tick at the last use */
	char *key;          /* the table: set once, read under cache_mu only (st,
			       and st.table with it, changes under mu) */
	sl_lake_state st;
};

static void cached_free(sl_lake_cached *c)
{
	sl_lake_state_free(&c->st);
	pthread_mutex_destroy(&c->mu);
	sl_free(c->key);
	sl_free(c);
}

void sl_lake_cache_free(sl_lake *lake)
{
	for (sl_lake_cached *c = lake->cache, *next; c; c = next) {
		next = c->next;
		cached_free(c);
	}
	lake->cache = NULL;
	lake->ncached = 0;
}

/* Drops least recently used entries nobody holds, past the limit. Called
 * with cache_mu held. */
static void cache_trim(sl_lake *lake)
{
	while (lake->ncached > SL_LAKE_CACHE_TABLES) {
		sl_lake_cached **victim = NULL;
		for (sl_lake_cached **p = &lake->cache; *p; p = &(*p)->next)
			if ((*p)->refs == 0 && (!victim || (*p)->used < (*victim)->used))
				victim = p;
		if (!victim)
			return;
		sl_lake_cached *c = *victim;
		*victim = c->next;
		cached_free(c);
		lake->ncached--;
	}
}

/* The entry of table, created when missing, held (mu locked) on return. */
static int cache_acquire(sl_lake *lake, const char *table, sl_lake_cached **out, sl_error *err)
{
	sl_lake_cached *c;
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&lake->cache_mu);
	for (c = lake->cache; c; c = c->next)
		if (strcmp(c->key, table) == 0)
			break;
	if (!c) {
		rc = sl_alloc_zeroed((void **)&c, sizeof *c, err);
		if (rc == 0 && !(c->key = sl_strdup(table)))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0)
			rc = sl_lake_state_init(&c->st, table, err);
		if (rc < 0 && c) {
			sl_free(c->key);
			sl_free(c);
			c = NULL;
		}
		if (c) {
			pthread_mutex_init(&c->mu, NULL);
			c->next = lake->cache;
			lake->cache = c;
			lake->ncached++;
		}
	}
	if (c) {
		c->refs++;
		c->used = ++lake->tick;
	}
	pthread_mutex_unlock(&lake->cache_mu);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->mu);
	*out = c;
	return 0;
}

static void cache_release(sl_lake *lake, sl_lake_cached *c)
{
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_lock(&lake->cache_mu);
	c->refs--;
	cache_trim(lake);
	pthread_mutex_unlock(&lake->cache_mu);
}

/* fn on the cached state of table, brought to the latest version first
 * when advance is set. */
static int with_state(sl_lake *lake, const char *table, bool advance, sl_lake_state_fn fn,
		      void *arg, sl_error *err)
{
	sl_lake_cached *c = NULL;
	int rc = sl_lake_check_table(table, err);
	if (rc < 0)
		return rc;
	if ((rc = cache_acquire(lake, table, &c, err)) < 0)
		return rc;
	rc = advance ? sl_lake_state_advance(lake, &c->st, -1, err) : 0;
	if (rc == SL_ENOTFOUND && c->st.version >= 0) {
		/* The log is gone: forget the table. */
		char *t = c->st.table;
		c->st.table = NULL;
		sl_lake_state_free(&c->st);
		if (sl_lake_state_init(&c->st, t, NULL) < 0)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		sl_free(t);
	}
	if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		rc = 0;
	}
	if (rc == 0)
		rc = fn(&c->st, arg, err);
	cache_release(lake, c);
	return rc;
}

int sl_lake_with_latest(sl_lake *lake, const char *table, sl_lake_state_fn fn, void *arg,
			sl_error *err)
{
	return with_state(lake, table, true, fn, arg, err);
}

static int copy_state(const sl_lake_state *st, void *arg, sl_error *err)
{
	return sl_lake_state_copy(arg, st, err);
}

int sl_lake_state_latest(sl_lake *lake, const char *table, sl_lake_state *out, sl_error *err)
{
	memset(out, 0, sizeof *out);
	out->version = -1;
	return sl_lake_with_latest(lake, table, copy_state, out, err);
}

void sl_lake_cache_offer(sl_lake *lake, sl_lake_state *st)
{
	sl_lake_cached *c = NULL;
	if (!st->table || cache_acquire(lake, st->table, &c, NULL) < 0)
		goto done;
	if (st->version > c->st.version) {
		sl_lake_state_free(&c->st);
		c->st = *st;
		memset(st, 0, sizeof *st);
	}
	cache_release(lake, c);
done:
	sl_lake_state_free(st);
}

uint64_t sl_lake_log_reads(const sl_lake *lake)
{
	return atomic_load(&((sl_lake *)lake)->log_reads);
}

/* ------------------------------------------------------------- snapshot */

/* A snapshot of st (which must have a version). */
static int snapshot_of(sl_lake_snapshot **out, const sl_lake_state *st, sl_error *err)
{
	sl_lake_snapshot *s = NULL;
	*out = NULL;
	int rc = sl_alloc_zeroed((void **)&s, sizeof *s, err);
	if (rc < 0)
		return rc;
	s->version = st->version;
	s->table = sl_strdup(st->table);
	s->table_id = sl_strdup(st->table_id ? st->table_id : "");
	s->schema = st->schema ? sl_schema_copy(st->schema) : sl_schema_new();
	s->files = sl_calloc((size_t)st->nlive + 1, sizeof *s->files);
	if (!s->table || !s->table_id || !s->schema || !s->files)
		goto oom;
	for (int i = 0; i < st->nfiles; i++) {
		if (!st->files[i].path)
			continue;
		sl_lake_file *f = &s->files[s->nfiles];
		*f = st->files[i];
		if (!(f->path = sl_strdup(st->files[i].path)))
			goto oom;
		s->nfiles++;
		s->rows += f->rows;
		s->bytes += f->size;
	}
	*out = s;
	return 0;
oom:
	sl_lake_snapshot_free(s);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

typedef struct {
	sl_lake *lake;
	int64_t version;
	sl_lake_snapshot *snap;
	bool older; /* the wanted version is before the cached one */
} snap_req;

static int snapshot_from_cache(const sl_lake_state *st, void *arg, sl_error *err)
{
	snap_req *r = arg;
	if (r->version >= 0 && r->version != st->version) {
		r->older = true; /* not the cached version: replayed on its own */
		return 0;
	}
	if (st->version < 0)
		return sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s",
				    st->table, r->lake->url);
	return snapshot_of(&r->snap, st, err);
}

int sl_lake_snapshot_open(sl_lake_snapshot **out, sl_lake *lake, const char *table,
			  int64_t version, sl_error *err)
{
	snap_req r = {lake, version, NULL, false};
	sl_lake_state st;
	*out = NULL;
	/* The latest version, or a given one the cache holds already. */
	int rc = with_state(lake, table, version < 0, snapshot_from_cache, &r, err);
	if (rc < 0 || !r.older) {
		*out = r.snap;
		return rc;
	}
	/* Another version (time travel): replayed on its own. */
	if ((rc = sl_lake_state_init(&st, table, err)) < 0)
		return rc;
	rc = sl_lake_state_advance(lake, &st, version, err);
	if (rc == 0 && st.version < 0)
		rc = sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s", table,
				  lake->url);
	if (rc == 0)
		rc = snapshot_of(out, &st, err);
	sl_lake_state_free(&st);
	return rc;
}

void sl_lake_snapshot_free(sl_lake_snapshot *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfiles; i++)
		sl_free(s->files[i].path);
	sl_free(s->files);
	sl_free(s->table);
	sl_free(s->table_id);
	sl_schema_free(s->schema);
	sl_free(s);
}

typedef struct {
	const char *app_id;
	int64_t version;
} txn_req;

static int txn_from_cache(const sl_lake_state *st, void *arg, sl_error *err)
{
	txn_req *r = arg;
	r->version = sl_lake_state_txn(st, r->app_id);
	return 0;
}

int sl_lake_txn_version(sl_lake *lake, const char *table, const char *app_id, int64_t *out,
			sl_error *err)
{
	txn_req r = {app_id, -1};
	int rc = sl_lake_with_latest(lake, table, txn_from_cache, &r, err);
	*out = rc == 0 ? r.version : -1;
	return rc;
}

/* -------------------------------------------------------------- changes */

typedef struct {
	sl_lake *lake;
	sl_lake_changes *ch;
	const char *since_id;
} changes_req;

static int changes_from_cache(const sl_lake_state *st, void *arg, sl_error *err)
{
	changes_req *r = arg;
	sl_lake_changes *ch = r->ch;
	if (st->version < 0)
		return sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s",
				    st->table, r->lake->url);
	int rc = snapshot_of(&ch->snapshot, st, err);
	if (rc < 0)
		return rc;
	int64_t since = ch->since;
	ch->history_gone = since > st->version;
	ch->recreated = r->since_id && strcmp(r->since_id, st->table_id) != 0;
	ch->overwritten = st->last_rebuild > since && !ch->history_gone;
	ch->overwritten_at = ch->overwritten ? st->last_rebuild : -1;
	ch->rebuild = ch->overwritten || ch->recreated || ch->history_gone;
	int nrem = 0;
	for (int i = 0; i < st->nremovals; i++)
		nrem += st->removals[i].version > since;
	ch->removed = sl_calloc((size_t)nrem + 1, sizeof *ch->removed);
	if (!ch->removed)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < st->nremovals; i++) {
		if (st->removals[i].version <= since)
			continue;
		if (!(ch->removed[ch->nremoved] = sl_strdup(st->removals[i].path)))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		ch->nremoved++;
	}
	return 0;
}

int sl_lake_changes_open(sl_lake_changes **out, sl_lake *lake, const char *table, int64_t since,
			 const char *since_table_id, sl_error *err)
{
	sl_lake_changes *ch = NULL;
	*out = NULL;
	int rc = sl_alloc_zeroed((void **)&ch, sizeof *ch, err);
	if (rc < 0)
		return rc;
	ch->since = since < -1 ? -1 : since;
	changes_req r = {lake, ch, since_table_id};
	rc = sl_lake_with_latest(lake, table, changes_from_cache, &r, err);
	if (rc < 0)
		goto fail;
	const sl_lake_snapshot *s = ch->snapshot;
	bool all = ch->rebuild || ch->since < 0;
	ch->files = sl_calloc((size_t)s->nfiles + 1, sizeof *ch->files);
	if (!ch->files) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < s->nfiles; i++) {
		if (!all && s->files[i].version <= ch->since)
			continue;
		ch->files[ch->nfiles++] = &s->files[i];
		ch->rows += s->files[i].rows;
		ch->bytes += s->files[i].size;
	}
	*out = ch;
	return 0;
fail:
	sl_lake_changes_free(ch);
	return rc;
}

void sl_lake_changes_free(sl_lake_changes *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nremoved; i++)
		sl_free(c->removed[i]);
	sl_free(c->removed);
	sl_free(c->files);
	sl_lake_snapshot_free(c->snapshot);
	sl_free(c);
}

/* ---------------------------------------------------------------- files */

int sl_lake_file_open(sl_parquet_reader **out, sl_lake *lake, const char *table,
		      const sl_lake_file *file, sl_error *err)
{
	sl_input *in = NULL;
	*out = NULL;
	if (strstr(file->path, "://") || file->path[0] == '/')
		return sl_error_set(err, SL_EFORMAT,
				    "lake table %s: absolute file path %s is not supported", table,
				    file->path);
	char *rel = sl_lake_path_decode(file->path);
	char *key = rel ? sl_path_join(table, rel) : NULL;
	sl_free(rel);
	if (!key)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int rc = sl_store_open_input(lake->store, key, &in, err);
	if (rc < 0) {
		sl_error_prefix(err, "lake table %s: version %lld: ", table,
				(long long)file->version);
		goto done;
	}
	rc = sl_parquet_reader_open(out, in, err); /* owns in from here on */
	if (rc < 0)
		sl_error_prefix(err, "lake table %s: ", table);
done:
	sl_free(key);
	return rc;
}
