/*
 * store.c: opening a store from its URL (local directory or s3://) and the
 * helpers shared by every backend.
 */
#include "store/store.h"

#include <string.h>

int sl_store_open(sl_store **out, const char *url, sl_error *err)
{
	*out = NULL;
	if (!url || !*url)
		return sl_error_set(err, SL_EINVAL,
				    "empty store URL; give a directory or s3://bucket/prefix");
	if (sl_str_starts_with(url, "s3://"))
		return sl_store_s3_open(out, url, err);
	if (sl_str_starts_with(url, "file://"))
		url += strlen("file://");
	if (strstr(url, "://"))
		return sl_error_set(err, SL_ECONFIG,
				    "%s: unsupported store URL; use a local path or s3://bucket/prefix",
				    url);
	return sl_store_local_open(out, url, err);
}

void sl_store_free(sl_store *s)
{
	if (s)
		s->ops->free(s);
}

void sl_store_entries_free(sl_store_entry *entries, size_t n)
{
	if (!entries)
		return;
	for (size_t i = 0; i < n; i++)
		sl_free(entries[i].key);
	sl_free(entries);
}
