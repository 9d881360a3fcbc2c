/*
 * s3_source.c: the s3 source kind. Lists the objects under a bucket prefix
 * that match the table's glob (s3://bucket/events/*.csv.gz), skips objects
 * already extracted (same key, size and ETag), and streams each new one —
 * CSV (plain, gzip or zstd) or Parquet — into batches, read through ranged
 * GETs so memory stays bounded whatever the object size.
 */
#include "sources/sources.h"
#include "formats/csv/csv.h"
#include "formats/parquet/parquet.h"
#include "state/state.h"
#include "store/store.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

typedef enum { FMT_CSV, FMT_PARQUET } object_format;

typedef struct {
	char *key;
	uint64_t size;
	char etag[80];
} pending_object;

typedef struct {
	sl_extractor base;
	const sl_source *src;
	const sl_source_table *t;
	sl_extract_opts opts;
	sl_csv_opts csv;
	const char **nulls;
	object_format format;
	sl_store *store;
	char bucket_url[512]; /* s3://bucket */
	pending_object *objects;
	int nobjects;
	int next_object;
	int done_objects;
	sl_csv_reader *csv_reader;
	sl_input *csv_input;
	sl_parquet_reader *pq_reader;
	sl_batch *batch;
	sl_batch *pq_batch;
	uint64_t bytes_done;
} s3_source;

static void s3_close(sl_extractor *base)
{
	s3_source *x = (s3_source *)base;
	sl_csv_reader_close(x->csv_reader);
	if (x->csv_input)
		x->csv_input->close(x->csv_input);
	sl_parquet_reader_close(x->pq_reader);
	sl_batch_free(x->batch);
	sl_batch_free(x->pq_batch);
	for (int i = 0; i < x->nobjects; i++)
		sl_free(x->objects[i].key);
	sl_free(x->objects);
	sl_free(x->nulls);
	sl_store_free(x->store);
	sl_schema_free(x->base.schema);
	sl_free(x);
}

static object_format format_of(const sl_source_table *t, const char *pattern)
{
	if (t->format && strcmp(t->format, "parquet") == 0)
		return FMT_PARQUET;
	if (t->format)
		return FMT_CSV;
	return sl_str_ends_with(pattern, ".parquet") ? FMT_PARQUET : FMT_CSV;
}

static int on_bad_row(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	s3_source *x = ctx;
	char origin[1024];
	snprintf(origin, sizeof origin, "%s/%s", x->bucket_url,
		 x->objects[x->next_object - 1].key);
	sl_quarantine_row q = {origin, bad->line, bad->raw, bad->raw_len, bad->reason};
	x->base.stats.rows_bad++;
	x->base.stats.rows_read++;
	if (!x->opts.on_bad)
		return sl_error_set(err, SL_EINVAL, "%s:%lld: %s", origin, (long long)bad->line,
				    bad->reason);
	return x->opts.on_bad(x->opts.on_bad_ctx, &q, err);
}

static int open_object(s3_source *x, const pending_object *o, sl_error *err)
{
	sl_input *in = NULL;
	int rc = sl_store_open_input(x->store, o->key, &in, err);
	if (rc < 0)
		return rc;
	x->base.stats.requests++;
	if (x->format == FMT_PARQUET) {
		rc = sl_parquet_reader_open(&x->pq_reader, in, err); /* owns in */
		if (rc == 0) {
			const char **names = sl_calloc((size_t)x->base.schema->nfields + 1,
						       sizeof *names);
			if (!names)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			for (int i = 0; i < x->base.schema->nfields; i++)
				names[i] = x->base.schema->fields[i].name;
			rc = sl_parquet_reader_project(x->pq_reader, names, x->base.schema->nfields,
						       err);
			sl_free(names);
		}
		return rc;
	}
	x->csv_input = in;
	return sl_csv_reader_open_input(&x->csv_reader, in, &x->csv, err);
}

static void finish_object(s3_source *x)
{
	const pending_object *o = &x->objects[x->next_object - 1];
	sl_csv_reader_close(x->csv_reader);
	x->csv_reader = NULL;
	if (x->csv_input)
		x->csv_input->close(x->csv_input);
	x->csv_input = NULL;
	sl_parquet_reader_close(x->pq_reader);
	x->pq_reader = NULL;
	x->bytes_done += o->size;
	x->base.stats.bytes = x->bytes_done;
	x->done_objects++;
	x->base.stats.files = x->done_objects;
}

static int s3_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	s3_source *x = (s3_source *)base;
	for (;;) {
		if (!x->csv_reader && !x->pq_reader) {
			if (x->next_object >= x->nobjects)
				return 0;
			const pending_object *o = &x->objects[x->next_object++];
			int rc = open_object(x, o, err);
			if (rc < 0)
				return sl_error_prefix(err, "%s/%s: ", x->bucket_url, o->key);
		}
		if (x->pq_reader) {
			sl_batch_free(x->pq_batch);
			x->pq_batch = NULL;
			int rc = sl_parquet_reader_next(x->pq_reader, &x->pq_batch, 0, err);
			if (rc < 0)
				return rc;
			if (rc > 0) {
				x->base.stats.rows_read += x->pq_batch->nrows;
				*out = x->pq_batch;
				return 1;
			}
		} else {
			sl_batch_reset(x->batch);
			int64_t n = sl_csv_read_batch(x->csv_reader, x->batch, on_bad_row, x, err);
			if (n < 0)
				return (int)n;
			x->base.stats.rows_read += n;
			if (n > 0) {
				*out = x->batch;
				return 1;
			}
		}
		finish_object(x);
	}
}

static int s3_progress(sl_extractor *base, sl_buf *out, sl_error *err)
{
	s3_source *x = (s3_source *)base;
	int rc = sl_buf_puts(out, "{\"files\":[");
	for (int i = 0; i < x->done_objects && rc == 0; i++) {
		char url[1024];
		snprintf(url, sizeof url, "%s/%s", x->bucket_url, x->objects[i].key);
		if (i)
			rc = sl_buf_putc(out, ',');
		rc = rc ? rc : sl_buf_puts(out, "{\"path\":");
		rc = rc ? rc : sl_buf_put_json_string(out, url, strlen(url));
		rc = rc ? rc : sl_buf_printf(out, ",\"size\":%llu,\"version\":",
					     (unsigned long long)x->objects[i].size);
		rc = rc ? rc : sl_buf_put_json_string(out, x->objects[i].etag,
						      strlen(x->objects[i].etag));
		rc = rc ? rc : sl_buf_putc(out, '}');
	}
	rc = rc ? rc : sl_buf_puts(out, "]}");
	return rc < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory") : 0;
}

static const sl_extractor_ops s3_ops = {
	.next = s3_next,
	.progress = s3_progress,
	.close = s3_close,
};

/* Lists objects under the pattern's literal prefix that match it. */
static int list_objects(s3_source *x, const char *pattern, int *matched, sl_error *err)
{
	char prefix[1024], key[300];
	size_t n = strcspn(pattern, "*?[");
	sl_store_entry *entries = NULL;
	size_t nentries = 0;
	int rc;

	snprintf(prefix, sizeof prefix, "%.*s", (int)n, pattern);
	rc = sl_store_list(x->store, prefix, &entries, &nentries, err);
	if (rc < 0)
		return rc;
	x->base.stats.requests++;
	sl_source_table_key(key, sizeof key, x->src, x->t);
	x->objects = sl_calloc(nentries + 1, sizeof *x->objects);
	if (!x->objects) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	*matched = 0;
	for (size_t i = 0; i < nentries; i++) {
		const sl_store_entry *e = &entries[i];
		if (fnmatch(pattern, e->key, FNM_PATHNAME) != 0)
			continue;
		(*matched)++;
		char url[1024];
		snprintf(url, sizeof url, "%s/%s", x->bucket_url, e->key);
		if (!x->opts.full_refresh && x->opts.state) {
			bool done = false;
			rc = sl_state_file_is_done(x->opts.state, key, url, (int64_t)e->size, e->etag,
						   &done, err);
			if (rc < 0)
				goto out;
			if (done)
				continue;
		}
		pending_object *o = &x->objects[x->nobjects];
		o->key = sl_strdup(e->key);
		if (!o->key) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		o->size = e->size;
		snprintf(o->etag, sizeof o->etag, "%s", e->etag);
		x->nobjects++;
	}
out:
	sl_store_entries_free(entries, nentries);
	return rc;
}

/* The schema: a Parquet object's own, or inferred from a CSV object's
 * sample, with declared column types applied. */
static int build_schema(s3_source *x, const char *key, sl_error *err)
{
	sl_input *in = NULL;
	sl_schema *s = NULL;
	int rc = sl_store_open_input(x->store, key, &in, err);
	if (rc < 0)
		return rc;
	if (x->format == FMT_PARQUET) {
		sl_parquet_reader *r = NULL;
		rc = sl_parquet_reader_open(&r, in, err);
		if (rc == 0) {
			s = sl_schema_copy(sl_parquet_reader_schema(r));
			if (!s)
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		sl_parquet_reader_close(r);
	} else {
		rc = sl_csv_infer_schema_input(&s, in, &x->csv, 20000, err);
		in->close(in);
	}
	if (rc < 0)
		return sl_error_prefix(err, "%s/%s: ", x->bucket_url, key);
	for (int i = 0; i < x->t->columns.n; i++) {
		const sl_kv *kv = &x->t->columns.items[i];
		int idx = sl_schema_find(s, kv->key);
		sl_type type;
		if (idx < 0 || sl_type_parse(kv->value, &type) < 0) {
			sl_schema_free(s);
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: column \"%s\" (%s) does not match the objects of "
					    "table \"%s\"; fix the name or the type",
					    x->src->file, kv->line, kv->key, kv->value, x->t->name);
		}
		s->fields[idx].type = type;
	}
	x->base.schema = s;
	return 0;
}

int sl_s3_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err)
{
	s3_source *x = sl_calloc(1, sizeof *x);
	int matched = 0, rc;
	if (!x)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	x->base.ops = &s3_ops;
	x->src = src;
	x->t = t;
	x->opts = *opts;
	sl_csv_opts def = SL_CSV_OPTS_INIT;
	x->csv = def;
	x->csv.delimiter = t->delimiter ? t->delimiter : ',';
	x->csv.quote = t->quote ? t->quote : '"';
	x->csv.escape = t->escape ? t->escape : x->csv.quote;
	x->csv.header = t->header;
	if (t->nnulls > 0) {
		x->nulls = sl_calloc((size_t)t->nnulls + 1, sizeof *x->nulls);
		if (!x->nulls) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
		for (int i = 0; i < t->nnulls; i++)
			x->nulls[i] = t->nulls[i];
		x->csv.nulls = x->nulls;
	}

	const char *url = t->url ? t->url : "";
	if (!sl_str_starts_with(url, "s3://")) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: url must start with s3://", src->file,
				  t->line);
		goto fail;
	}
	const char *bucket = url + 5;
	const char *slash = strchr(bucket, '/');
	if (!slash || slash == bucket || !slash[1]) {
		rc = sl_error_set(err, SL_ECONFIG,
				  "%s:%d: url \"%s\" needs a bucket and a key pattern, like "
				  "s3://bucket/events/*.csv.gz",
				  src->file, t->line, url);
		goto fail;
	}
	snprintf(x->bucket_url, sizeof x->bucket_url, "s3://%.*s", (int)(slash - bucket), bucket);
	const char *pattern = slash + 1;
	x->format = format_of(t, pattern);
	rc = sl_store_open(&x->store, x->bucket_url, err);
	if (rc < 0)
		goto fail;
	rc = list_objects(x, pattern, &matched, err);
	if (rc < 0)
		goto fail;
	if (matched == 0) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: no objects match %s; check the url",
				  src->file, t->line, url);
		goto fail;
	}
	if (x->nobjects > 0) {
		rc = build_schema(x, x->objects[0].key, err);
	} else {
		/* Nothing new: the first matching object gives the schema. */
		sl_store_entry *entries = NULL;
		size_t n = 0;
		char prefix[1024];
		snprintf(prefix, sizeof prefix, "%.*s", (int)strcspn(pattern, "*?["), pattern);
		rc = sl_store_list(x->store, prefix, &entries, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (fnmatch(pattern, entries[i].key, FNM_PATHNAME) == 0) {
				rc = build_schema(x, entries[i].key, err);
				break;
			}
		}
		sl_store_entries_free(entries, n);
	}
	if (rc < 0)
		goto fail;
	rc = sl_batch_new(&x->batch, x->base.schema, opts->batch_rows, err);
	if (rc < 0)
		goto fail;
	snprintf(x->base.description, sizeof x->base.description, "%d new of %d objects",
		 x->nobjects, matched);
	*out = &x->base;
	return 0;
fail:
	s3_close(&x->base);
	return rc;
}
