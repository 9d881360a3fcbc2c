/*
 * sources.c: opening a source table through its kind, the typed
 * progress an extraction returns, and the small lookups of source
 * configuration (write modes, key/value lists, state keys).
 */
#include "sources/sources.h"

#include <stdio.h>
#include <string.h>

const char *sl_write_mode_name(sl_write_mode m)
{
	switch (m) {
	case SL_WRITE_APPEND: return "append";
	case SL_WRITE_REPLACE: return "replace";
	case SL_WRITE_MERGE: return "merge";
	}
	return "?";
}

const char *sl_kvs_get(const sl_kvs *kvs, const char *key)
{
	for (int i = 0; kvs && i < kvs->n; i++)
		if (strcmp(kvs->items[i].key, key) == 0)
			return kvs->items[i].value;
	return NULL;
}

int sl_extractor_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err)
{
	if (!src->kind || !src->kind->open)
		return sl_error_set(err, SL_EINTERNAL, "source %s has no kind", src->name);
	return src->kind->open(out, src, t, opts, err);
}

void sl_extractor_close(sl_extractor *x)
{
	if (x) {
		sl_free(x->renamed);
		x->ops->close(x);
	}
}

int sl_extractor_progress(sl_extractor *x, sl_source_progress *out, sl_error *err)
{
	int rc = x->ops->progress ? x->ops->progress(x, out, err) : 0;
	if (rc < 0)
		sl_source_progress_clear(out);
	return rc;
}

/* ------------------------------------------------------------- progress */

int sl_source_progress_add_file(sl_source_progress *p, const char *path, uint64_t size,
				const char *version)
{
	/* Grown in powers of two from 8: a slot is free when nfiles is not. */
	int n = p->nfiles;
	if (n >= 8 && (n & (n - 1)) == 0) {
		sl_progress_file *g = sl_realloc(p->files, sizeof *g * (size_t)n * 2);
		if (!g)
			return SL_ENOMEM;
		p->files = g;
	} else if (!p->files) {
		if (!(p->files = sl_calloc(8, sizeof *p->files)))
			return SL_ENOMEM;
	}
	sl_progress_file *f = &p->files[n];
	f->path = sl_strdup(path);
	f->version = sl_strdup(version ? version : "");
	f->size = size;
	if (!f->path || !f->version) {
		sl_free(f->path);
		sl_free(f->version);
		return SL_ENOMEM;
	}
	p->nfiles++;
	return 0;
}

int sl_source_progress_set_watermark(sl_source_progress *p, const char *watermark)
{
	char *w = NULL;
	if (watermark && !(w = sl_strdup(watermark)))
		return SL_ENOMEM;
	sl_free(p->watermark);
	p->watermark = w;
	return 0;
}

void sl_source_progress_clear(sl_source_progress *p)
{
	for (int i = 0; i < p->nfiles; i++) {
		sl_free(p->files[i].path);
		sl_free(p->files[i].version);
	}
	sl_free(p->files);
	sl_free(p->watermark);
	memset(p, 0, sizeof *p);
}

char *sl_source_table_key(const sl_source *src, const sl_source_table *t)
{
	sl_buf b = SL_BUF_INIT;
	if (sl_buf_printf(&b, "%s.%s", src->name, t->name) < 0) {
		sl_buf_free(&b);
		return NULL;
	}
	return sl_buf_detach(&b);
}
