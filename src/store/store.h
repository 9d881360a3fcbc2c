/*
 * store: object storage behind one interface. Keys are '/'-separated paths
 * relative to the store's root. Backends: the local filesystem (local.c)
 * and S3-compatible services (s3*.c). Objects appear atomically: a reader
 * sees a whole object or none.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include "base/base.h"

typedef struct sl_store sl_store;

typedef struct sl_store_entry {
	char *key;            /* relative to the store root */
	uint64_t size;
	int64_t mtime_micros; /* last modified */
	char etag[80];        /* S3 ETag, or "" locally */
} sl_store_entry;

void sl_store_entries_free(sl_store_entry *entries, size_t n);

typedef struct sl_store_ops {
	/* Writes a whole object. With if_absent, fails with SL_ECONFLICT when
	 * the key exists, atomically (no two writers can both succeed). */
	int (*put)(sl_store *s, const char *key, const void *data, size_t n, bool if_absent,
		   sl_error *err);
	/* Streams an object; it becomes visible only when the output is
	 * closed; abort leaves nothing behind. */
	int (*open_output)(sl_store *s, const char *key, sl_output **out, sl_error *err);
	/* Random access reads (ranged GETs on S3). SL_ENOTFOUND when absent. */
	int (*open_input)(sl_store *s, const char *key, sl_input **out, sl_error *err);
	/* Reads a whole object into out. SL_ENOTFOUND when absent. */
	int (*get)(sl_store *s, const char *key, sl_buf *out, sl_error *err);
	/* Lists objects whose key starts with prefix, sorted by key. Free with
	 * sl_store_entries_free. */
	int (*list)(sl_store *s, const char *prefix, sl_store_entry **out, size_t *n,
		    sl_error *err);
	/* Deletes an object; deleting a missing key is not an error. */
	int (*del)(sl_store *s, const char *key, sl_error *err);
	/* Size and mtime of one object; SL_ENOTFOUND when absent. */
	int (*stat)(sl_store *s, const char *key, sl_store_entry *out, sl_error *err);
	void (*free)(sl_store *s);
	/* Optional (NULL for backends without ETags, such as local): like
	 * open_input, but every read is pinned to the object version with this
	 * ETag (S3: If-Match on each ranged GET); a read after the object was
	 * replaced fails with SL_ECONFLICT ("changed while it was read") instead
	 * of returning bytes of another version. */
	int (*open_input_etag)(sl_store *s, const char *key, const char *etag, sl_input **out,
			       sl_error *err);
} sl_store_ops;

struct sl_store {
	const sl_store_ops *ops;
	char url[1024]; /* root, for messages: "./lake" or "s3://bucket/prefix" */
};

/*
 * Opens a store from a URL: a local directory path (created on first write)
 * or s3://bucket[/prefix]. Free with sl_store_free.
 */
int sl_store_open(sl_store **out, const char *url, sl_error *err);
void sl_store_free(sl_store *s);

static inline int sl_store_put(sl_store *s, const char *key, const void *data, size_t n,
			       bool if_absent, sl_error *err)
{
	return s->ops->put(s, key, data, n, if_absent, err);
}
static inline int sl_store_open_output(sl_store *s, const char *key, sl_output **out,
				       sl_error *err)
{
	return s->ops->open_output(s, key, out, err);
}
static inline int sl_store_open_input(sl_store *s, const char *key, sl_input **out,
				      sl_error *err)
{
	return s->ops->open_input(s, key, out, err);
}
/*
 * Opens key pinned to etag when the backend supports it and etag is set;
 * otherwise a plain open_input (a backend without ETags has nothing to pin).
 */
static inline int sl_store_open_input_etag(sl_store *s, const char *key, const char *etag,
					   sl_input **out, sl_error *err)
{
	if (s->ops->open_input_etag && etag && *etag)
		return s->ops->open_input_etag(s, key, etag, out, err);
	return s->ops->open_input(s, key, out, err);
}
static inline int sl_store_get(sl_store *s, const char *key, sl_buf *out, sl_error *err)
{
	return s->ops->get(s, key, out, err);
}
static inline int sl_store_list(sl_store *s, const char *prefix, sl_store_entry **out,
				size_t *n, sl_error *err)
{
	return s->ops->list(s, prefix, out, n, err);
}
static inline int sl_store_delete(sl_store *s, const char *key, sl_error *err)
{
	return s->ops->del(s, key, err);
}
static inline int sl_store_stat(sl_store *s, const char *key, sl_store_entry *out,
				sl_error *err)
{
	return s->ops->stat(s, key, out, err);
}

/*
 * libcurl's global initialisation, once per process whichever thread comes
 * first; every module that makes curl handles (the S3 store, the http
 * source) calls it before its first one. 0, or SL_ENET with err set.
 */
int sl_curl_global_init(sl_error *err);

/* Backends, used by sl_store_open. */
int sl_store_local_open(sl_store **out, const char *root, sl_error *err);
int sl_store_s3_open(sl_store **out, const char *url, sl_error *err);

#endif
