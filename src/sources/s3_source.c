/*
 * s3_source.c: the s3 source kind. Lists the objects under a bucket prefix
 * that match the table's glob (s3://bucket/events/ then *.csv.gz), skips
 * objects already extracted (same key, size and ETag), and streams each new
 * one — CSV (plain, gzip or zstd) or Parquet — into batches, read through
 * large ranged GETs so memory stays bounded whatever the object size. Each
 * read is pinned to the ETag the listing gave (If-Match).
 */
#include "sources/sources_int.h"
#include "formats/csv/csv.h"
#include "formats/parquet/parquet.h"
#include "store/store.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One ranged GET reads this much ahead of the reader (bounded memory). */
#define S3_READAHEAD ((size_t)8 << 20)
/* Plain CSV objects are sampled from their first bytes only. */
#define S3_SAMPLE_ROWS 20000

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
	const char **csv_lists; /* what csv.nulls and csv.keep_names point into */
	object_format format;
	sl_store *store;
	char *bucket_url;     /* s3://bucket */
	sl_buf origin;        /* URL of the object being read */
	char first_etag[80];  /* ETag of the first matching object, when listed */
	pending_object *objects;
	int nobjects;
	int next_object;
	int done_objects;
	sl_csv_reader *csv_reader;
	sl_input *csv_input;
	sl_parquet_reader *pq_reader;
	bool pq_cast;         /* the object's column types differ from the table's */
	int64_t pq_row;       /* rows of the current Parquet object read so far */
	sl_batch *batch;
	sl_batch *pq_batch;
	uint64_t bytes_done;
} s3_source;

/* ------------------------------------------------------------ readahead */

/*
 * An sl_input over another that serves small sequential reads from one
 * large ranged read, so a CSV stream costs one GET per S3_READAHEAD bytes
 * instead of one per reader chunk.
 */
typedef struct {
	sl_input base;
	sl_input *in;
	char *buf;
	uint64_t buf_off;
	size_t buf_len;
} ra_input;

static int ra_read_at(sl_input *base, uint64_t off, void *p, size_t n, sl_error *err)
{
	ra_input *r = (ra_input *)base;
	if (n == 0)
		return 0;
	if (off >= r->buf_off && off - r->buf_off <= r->buf_len &&
	    n <= r->buf_len - (size_t)(off - r->buf_off)) {
		memcpy(p, r->buf + (off - r->buf_off), n);
		return 0;
	}
	if (n >= S3_READAHEAD || off > base->size || n > base->size - off)
		return r->in->read_at(r->in, off, p, n, err);
	size_t want = S3_READAHEAD;
	if (base->size - off < want)
		want = (size_t)(base->size - off);
	if (!r->buf && !(r->buf = sl_malloc(S3_READAHEAD)))
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	r->buf_len = 0;
	int rc = r->in->read_at(r->in, off, r->buf, want, err);
	if (rc < 0)
		return rc;
	r->buf_off = off;
	r->buf_len = want;
	memcpy(p, r->buf, n);
	return 0;
}

static void ra_close(sl_input *base)
{
	ra_input *r = (ra_input *)base;
	if (!r)
		return;
	r->in->close(r->in);
	sl_free(r->buf);
	sl_free(r);
}

/* Wraps in (owned) in a readahead input; on failure in is closed. */
static int ra_open(sl_input **out, sl_input *in, sl_error *err)
{
	ra_input *r = sl_calloc(1, sizeof *r);
	if (!r) {
		in->close(in);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	r->in = in;
	r->base.read_at = ra_read_at;
	r->base.close = ra_close;
	r->base.size = in->size;
	snprintf(r->base.name, sizeof r->base.name, "%s", in->name);
	*out = &r->base;
	return 0;
}

/*
 * Opens key pinned to the ETag it had when listed: every ranged GET carries
 * If-Match, so an object replaced between the listing and the reads (or
 * during them) fails the task with "changed while it was read" instead of
 * landing rows of the new content under the old ETag. Nothing of the task
 * is committed then, so the next run lists the new ETag and reads the new
 * content once. (Re-listing and re-reading within the run is not possible:
 * rows of the object may already be in the lake writer's files.)
 */
static int open_input(s3_source *x, const char *key, const char *etag, sl_input **out,
		      sl_error *err)
{
	sl_input *in = NULL;
	int rc = sl_store_open_input_etag(x->store, key, etag, &in, err);
	if (rc < 0)
		return rc;
	x->base.stats.requests++;
	return ra_open(out, in, err);
}

/* -------------------------------------------------------------- reading */

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
	sl_free(x->csv_lists);
	sl_store_free(x->store);
	sl_schema_free(x->base.schema);
	sl_free(x->bucket_url);
	sl_buf_free(&x->origin);
	sl_free(x);
}

static int on_bad_row(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	s3_source *x = ctx;
	return sl_source_bad_row(&x->opts, &x->base.stats, x->origin.data, bad, err);
}

/* Opens a Parquet object projected onto the table's columns. */
static int open_parquet(s3_source *x, sl_input *in, sl_error *err)
{
	const sl_schema *want = x->base.schema;
	const char **names = NULL;
	int rc = sl_parquet_reader_open(&x->pq_reader, in, err); /* owns in */
	if (rc < 0)
		return rc;
	names = sl_calloc((size_t)want->nfields + 1, sizeof *names);
	if (!names)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < want->nfields; i++)
		names[i] = want->fields[i].name;
	rc = sl_parquet_reader_project(x->pq_reader, names, want->nfields, err);
	sl_free(names);
	if (rc < 0)
		return rc;
	const sl_schema *have = sl_parquet_reader_schema(x->pq_reader);
	x->pq_cast = false;
	x->pq_row = 0;
	for (int i = 0; i < want->nfields; i++) {
		int j = sl_schema_find(have, want->fields[i].name);
		if (j >= 0 && !sl_type_equal(have->fields[j].type, want->fields[i].type))
			x->pq_cast = true;
	}
	return 0;
}

static int open_object(s3_source *x, const pending_object *o, sl_error *err)
{
	sl_input *in = NULL;
	int rc;
	sl_buf_reset(&x->origin);
	if (sl_buf_printf(&x->origin, "%s/%s", x->bucket_url, o->key) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	rc = open_input(x, o->key, o->etag, &in, err);
	if (rc < 0)
		return rc;
	if (x->format == FMT_PARQUET)
		return open_parquet(x, in, err);
	x->csv_input = in;
	rc = sl_csv_reader_open_input(&x->csv_reader, in, &x->csv, err);
	if (rc < 0)
		return rc;
	return sl_source_check_header(&x->base, x->csv_reader, x->csv.header, x->origin.data,
				      "objects", err);
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

/*
 * Converts a Parquet batch whose column types differ from the table's
 * (a declared type, or objects written with other types) value by value
 * through text; a value that does not convert sends its row to quarantine.
 */
static int cast_rows(s3_source *x, const sl_batch *in, sl_error *err)
{
	sl_batch *b = x->batch;
	sl_buf text = SL_BUF_INIT;
	int rc = 0;
	sl_batch_reset(b);
	for (int64_t r = 0; r < in->nrows && rc == 0; r++) {
		char reason[512] = "";
		for (int c = 0; c < b->ncols && !reason[0]; c++) {
			const sl_column *src = &in->cols[c];
			sl_column *dst = &b->cols[c];
			if (sl_column_is_null(src, r)) {
				sl_column_append_null(dst);
				continue;
			}
			if (sl_type_equal(src->type, dst->type)) {
				if (sl_column_append_from(dst, src, r) < 0)
					rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				if (rc < 0)
					break;
				continue;
			}
			sl_error verr = SL_ERROR_INIT;
			sl_buf_reset(&text);
			if (sl_column_format_value(src, r, &text) < 0) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				break;
			}
			if (sl_column_append_text(dst, text.data ? text.data : "", text.len,
						  &verr) < 0)
				snprintf(reason, sizeof reason, "column %s: %s",
					 b->schema->fields[c].name, verr.message);
		}
		if (rc < 0) {
			sl_batch_discard_row(b);
			break;
		}
		if (!reason[0]) {
			sl_batch_end_row(b);
			continue;
		}
		sl_batch_discard_row(b);
		x->base.stats.rows_bad++;
		sl_quarantine_row q = {x->origin.data, x->pq_row + r + 1, NULL, 0, reason};
		if (!x->opts.on_bad)
			rc = sl_error_set(err, SL_EINVAL, "%s: row %lld: %s", x->origin.data,
					  (long long)(x->pq_row + r + 1), reason);
		else
			rc = x->opts.on_bad(x->opts.on_bad_ctx, &q, err);
	}
	sl_buf_free(&text);
	return rc;
}

static int next_parquet(s3_source *x, sl_batch **out, sl_error *err)
{
	sl_batch_free(x->pq_batch);
	x->pq_batch = NULL;
	int rc = sl_parquet_reader_next(x->pq_reader, &x->pq_batch, x->opts.batch_rows, err);
	if (rc <= 0)
		return rc;
	int64_t n = x->pq_batch->nrows;
	x->base.stats.rows_read += n;
	if (!x->pq_cast) {
		x->pq_row += n;
		*out = x->pq_batch;
		return 1;
	}
	rc = cast_rows(x, x->pq_batch, err);
	x->pq_row += n;
	if (rc < 0)
		return rc;
	*out = x->batch;
	return 1;
}

static int s3_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	s3_source *x = (s3_source *)base;
	for (;;) {
		int rc = sl_source_cancelled(&x->opts, x->src, x->t, err);
		if (rc < 0)
			return rc;
		if (!x->csv_reader && !x->pq_reader) {
			if (x->next_object >= x->nobjects)
				return 0;
			const pending_object *o = &x->objects[x->next_object++];
			rc = open_object(x, o, err);
			if (rc < 0)
				return sl_error_prefix(err, "%s/%s: ", x->bucket_url, o->key);
		}
		if (x->pq_reader) {
			rc = next_parquet(x, out, err);
			if (rc != 0)
				return rc;
		} else {
			sl_batch_reset(x->batch);
			int64_t n = sl_csv_read_batch(x->csv_reader, x->batch, on_bad_row, x, err);
			if (n < 0)
				return (int)n;
			x->base.stats.rows_read += n;
			if (n > 0) {
				x->base.stats.bytes = x->bytes_done;
				*out = x->batch;
				return 1;
			}
		}
		finish_object(x);
	}
}

static int s3_progress(sl_extractor *base, sl_source_progress *out, sl_error *err)
{
	s3_source *x = (s3_source *)base;
	sl_buf url = SL_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < x->done_objects && rc == 0; i++) {
		sl_buf_reset(&url);
		rc = sl_buf_printf(&url, "%s/%s", x->bucket_url, x->objects[i].key);
		if (rc == 0)
			rc = sl_source_progress_add_file(out, url.data, x->objects[i].size,
							 x->objects[i].etag);
	}
	sl_buf_free(&url);
	return rc < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory") : 0;
}

static const sl_extractor_ops s3_ops = {
	.next = s3_next,
	.progress = s3_progress,
	.close = s3_close,
};

/* ------------------------------------------------------------- opening */

/* Lists objects under the pattern's literal prefix that match it, keeping
 * the ones not yet extracted; *first is the first match (for the schema). */
static int list_objects(s3_source *x, const char *pattern, int *matched, char **first,
			sl_error *err)
{
	char *prefix = sl_strndup(pattern, strcspn(pattern, "*?["));
	char *key = sl_source_table_key(x->src, x->t);
	sl_buf url = SL_BUF_INIT;
	sl_store_entry *entries = NULL;
	size_t nentries = 0;
	int rc = 0;

	if (!prefix || !key) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = sl_store_list(x->store, prefix, &entries, &nentries, err);
	if (rc < 0)
		goto out;
	x->base.stats.requests++;
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
		if (++*matched == 1) {
			if (!(*first = sl_strdup(e->key))) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto out;
			}
			snprintf(x->first_etag, sizeof x->first_etag, "%s", e->etag);
		}
		sl_buf_reset(&url);
		if (sl_buf_printf(&url, "%s/%s", x->bucket_url, e->key) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		if (!x->opts.full_refresh && x->opts.seen) {
			sl_file_seen seen = SL_FILE_NEW;
			rc = x->opts.seen(x->opts.seen_ctx, url.data, e->size, e->etag, &seen, err);
			if (rc < 0)
				goto out;
			if (seen == SL_FILE_DONE)
				continue;
			if (seen == SL_FILE_CHANGED) {
				x->base.stats.files_changed++;
				sl_warn("%s: %s changed since it was extracted; extracting it again "
					"whole", key, url.data);
			}
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
	sl_buf_free(&url);
	sl_free(key);
	sl_free(prefix);
	return rc;
}

/* The schema: a Parquet object's own, or inferred from a CSV object's
 * sample, with declared column types applied. */
static int build_schema(s3_source *x, const char *key, const char *etag, sl_error *err)
{
	sl_input *in = NULL;
	sl_schema *s = NULL;
	int rc = open_input(x, key, etag, &in, err);
	if (rc < 0)
		return sl_error_prefix(err, "%s/%s: ", x->bucket_url, key);
	if (x->format == FMT_PARQUET) {
		sl_parquet_reader *r = NULL;
		rc = sl_parquet_reader_open(&r, in, err); /* owns in */
		if (rc == 0) {
			s = sl_schema_copy(sl_parquet_reader_schema(r));
			if (!s)
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		sl_parquet_reader_close(r);
	} else {
		rc = sl_csv_infer_schema_input(&s, in, &x->csv, S3_SAMPLE_ROWS, err);
		in->close(in);
	}
	if (rc < 0)
		return sl_error_prefix(err, "%s/%s: ", x->bucket_url, key);
	if (s->nfields == 0) {
		sl_schema_free(s);
		return sl_error_set(err, SL_EFORMAT,
				    "%s/%s: has no columns; the first object of table \"%s\" "
				    "must have a header",
				    x->bucket_url, key, x->t->name);
	}
	rc = sl_source_apply_declared(x->src, x->t, s, "objects", err);
	if (rc < 0) {
		sl_schema_free(s);
		return rc;
	}
	x->base.schema = s;
	return 0;
}

int sl_s3_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err)
{
	s3_source *x = sl_calloc(1, sizeof *x);
	char *first = NULL;
	int matched = 0, rc;
	if (!x)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	x->base.ops = &s3_ops;
	x->src = src;
	x->t = t;
	x->opts = *opts;
	if (x->opts.batch_rows <= 0)
		x->opts.batch_rows = SL_BATCH_DEFAULT_ROWS;
	rc = sl_source_csv_opts(t, &x->csv, &x->csv_lists, err);
	if (rc < 0)
		goto fail;

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
	if (t->format && strcmp(t->format, "csv") != 0 && strcmp(t->format, "parquet") != 0) {
		rc = sl_error_set(err, SL_ECONFIG,
				  "%s:%d: format \"%s\" is not supported by s3 sources yet; use "
				  "csv or parquet",
				  src->file, t->line, t->format);
		goto fail;
	}
	x->bucket_url = sl_malloc((size_t)(slash - bucket) + 6);
	if (!x->bucket_url) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(x->bucket_url, (size_t)(slash - bucket) + 6, "s3://%.*s", (int)(slash - bucket),
		 bucket);
	const char *pattern = slash + 1;
	bool parquet = t->format ? strcmp(t->format, "parquet") == 0 :
				   sl_str_ends_with(pattern, ".parquet");
	x->format = parquet ? FMT_PARQUET : FMT_CSV;
	rc = sl_store_open(&x->store, x->bucket_url, err);
	if (rc < 0)
		goto fail;
	rc = list_objects(x, pattern, &matched, &first, err);
	if (rc < 0)
		goto fail;
	if (matched == 0) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: no objects match %s; check the url",
				  src->file, t->line, url);
		goto fail;
	}
	/* The first new object gives the schema; with nothing new, the first
	 * matching one. */
	if (x->nobjects > 0)
		rc = build_schema(x, x->objects[0].key, x->objects[0].etag, err);
	else
		rc = build_schema(x, first, x->first_etag, err);
	if (rc < 0)
		goto fail;
	rc = sl_batch_new(&x->batch, x->base.schema, x->opts.batch_rows, err);
	if (rc < 0)
		goto fail;
	snprintf(x->base.description, sizeof x->base.description, "%d new of %d objects",
		 x->nobjects, matched);
	sl_free(first);
	*out = &x->base;
	return 0;
fail:
	sl_free(first);
	s3_close(&x->base);
	return rc;
}
