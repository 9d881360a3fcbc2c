/* sources.c: dispatch from a source's kind to its extractor. */
#include "sources/sources.h"

#include <stdio.h>

int sl_extractor_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err)
{
	switch (src->kind) {
	case SL_SOURCE_CSV: return sl_csv_source_open(out, src, t, opts, err);
	case SL_SOURCE_POSTGRES: return sl_postgres_source_open(out, src, t, opts, err);
	case SL_SOURCE_HTTP: return sl_http_source_open(out, src, t, opts, err);
	case SL_SOURCE_S3: return sl_s3_source_open(out, src, t, opts, err);
	}
	return sl_error_set(err, SL_EINTERNAL, "unknown source kind %d", (int)src->kind);
}

void sl_extractor_close(sl_extractor *x)
{
	if (x)
		x->ops->close(x);
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
