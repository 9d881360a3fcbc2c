/*
 * file_source.c: the file source — kinds csv and s3 — one mechanism for
 * local paths and s3:// URLs through sl_store. It lists the
 * files a table's glob matches, asks the engine which were extracted
 * before (same path, size and version: mtime locally, ETag on S3; a
 * changed file is extracted again whole), infers or reads the schema from
 * the first new file, and streams every pending file through one reader
 * per format: CSV (plain, gzip or zstd, told by magic bytes), Parquet, or
 * JSON lines (file_jsonl.c). Bad rows go to the runner's quarantine with
 * file:line. S3 objects are read through large ranged GETs pinned to the
 * listed ETag, so memory stays bounded and a replaced object fails the
 * task instead of landing rows under the wrong version.
 */
#include "sources/file_int.h"
#include "store/store.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One ranged GET reads this much ahead of the reader (bounded memory). */
#define FILE_READAHEAD ((size_t)8 << 20)
/* CSV and JSON lines files are sampled from their first records only. */
#define FILE_SAMPLE_ROWS 20000

typedef struct {
	char *key;        /* relative to the store root */
	char *origin;     /* the path or URL users see: root/key */
	uint64_t size;
	char version[80]; /* mtime in microseconds locally, the ETag on S3 */
} pending_file;

typedef struct {
	sl_extractor base;
	const sl_source *src;
	const sl_source_table *t;
	sl_file_opts o;           /* the table's, its location rendered */
	sl_arena arena;
	sl_extract_opts opts;
	sl_csv_opts csv;
	const char **csv_lists;   /* what csv.nulls and csv.keep_names point into */
	sl_file_format format;
	bool remote;              /* s3:// */
	const char *what;         /* "files" or "objects", for messages */
	sl_store *store;
	char *root;               /* the store's root: a directory or s3://bucket */
	pending_file *files;      /* pending, in key order */
	int nfiles;
	int next_file;
	int done_files;
	char *sample_key;         /* a matching file for the schema when none is new */
	char sample_version[80];
	/* the file under way */
	sl_input *in;
	sl_csv_reader *csv_reader;
	sl_parquet_reader *pq_reader;
	sl_file_jsonl *jsonl;
	bool pq_cast;             /* its column types differ from the table's */
	int64_t pq_row;
	sl_batch *batch;
	sl_batch *pq_batch;
	uint64_t bytes_done;
	sl_http_records rec;      /* JSON lines: the columns of the records */
} file_source;

/* ------------------------------------------------------------ readahead */

/*
 * An sl_input over another that serves small sequential reads from one
 * large ranged read, so a CSV stream costs one GET per FILE_READAHEAD bytes
 * instead of one per reader chunk; it polls the cancellation token before
 * each read it passes on.
 */
typedef struct {
	sl_input base;
	sl_input *in;
	const sl_cancel *cancel;
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
	int rc = sl_cancel_check(r->cancel, base->name, err);
	if (rc < 0)
		return rc;
	if (n >= FILE_READAHEAD || off > base->size || n > base->size - off)
		return r->in->read_at(r->in, off, p, n, err);
	size_t want = FILE_READAHEAD;
	if (base->size - off < want)
		want = (size_t)(base->size - off);
	if (!r->buf && !(r->buf = sl_malloc(FILE_READAHEAD)))
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	r->buf_len = 0;
	rc = r->in->read_at(r->in, off, r->buf, want, err);
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
static int ra_open(sl_input **out, sl_input *in, const sl_cancel *cancel, sl_error *err)
{
	ra_input *r = sl_calloc(1, sizeof *r);
	if (!r) {
		in->close(in);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	r->in = in;
	r->cancel = cancel;
	r->base.read_at = ra_read_at;
	r->base.close = ra_close;
	r->base.size = in->size;
	snprintf(r->base.name, sizeof r->base.name, "%s", in->name);
	*out = &r->base;
	return 0;
}

/*
 * Opens key; on S3 pinned to the ETag it had when listed (If-Match on
 * every ranged GET), so an object replaced meanwhile fails the task with
 * "changed while it was read" — nothing of it is committed, and the next
 * run lists the new ETag and reads the new content once.
 */
static int open_input(file_source *x, const char *key, const char *version, sl_input **out,
		      sl_error *err)
{
	sl_input *in = NULL;
	int rc = sl_store_open_input_etag(x->store, key, x->remote ? version : NULL, &in, err);
	if (rc < 0)
		return rc;
	if (!x->remote) {
		*out = in;
		return 0;
	}
	x->base.stats.requests++;
	return ra_open(out, in, x->opts.cancel, err);
}

/* -------------------------------------------------------------- formats */

sl_file_format sl_file_format_of(const char *name)
{
	size_t n = strlen(name);
	size_t k;
#define ENDS(s) (k = strlen(s), n >= k && strncasecmp(name + n - k, s, k) == 0)
	if (ENDS(".gz"))
		n -= 3;
	else if (ENDS(".zst"))
		n -= 4;
	if (ENDS(".parquet"))
		return SL_FILE_PARQUET;
	if (ENDS(".jsonl") || ENDS(".ndjson") || ENDS(".json"))
		return SL_FILE_JSONL;
#undef ENDS
	return SL_FILE_CSV;
}

/* -------------------------------------------------------------- reading */

static void close_current(file_source *x)
{
	sl_csv_reader_close(x->csv_reader);
	x->csv_reader = NULL;
	sl_file_jsonl_close(x->jsonl);
	x->jsonl = NULL;
	sl_parquet_reader_close(x->pq_reader); /* owns its input */
	x->pq_reader = NULL;
	if (x->in)
		x->in->close(x->in);
	x->in = NULL;
}

static void file_close(sl_extractor *base)
{
	file_source *x = (file_source *)base;
	if (!x)
		return;
	close_current(x);
	sl_batch_free(x->batch);
	sl_batch_free(x->pq_batch);
	for (int i = 0; i < x->nfiles; i++) {
		sl_free(x->files[i].key);
		sl_free(x->files[i].origin);
	}
	sl_free(x->files);
	sl_free(x->sample_key);
	sl_free(x->csv_lists);
	sl_store_free(x->store);
	sl_free(x->root);
	sl_http_records_free(&x->rec);
	sl_schema_free(x->base.schema);
	sl_arena_free(&x->arena);
	sl_free(x);
}

static const char *current_origin(const file_source *x)
{
	return x->files[x->next_file - 1].origin;
}

static int on_bad_row(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	file_source *x = ctx;
	return sl_source_bad_row(&x->opts, &x->base.stats, current_origin(x), bad, err);
}

/* Opens a Parquet file projected onto the table's columns (the reader owns in). */
static int open_parquet(file_source *x, sl_input *in, sl_error *err)
{
	const sl_schema *want = x->base.schema;
	const char **names = NULL;
	int rc = sl_parquet_reader_open(&x->pq_reader, in, err);
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

static int open_file(file_source *x, const pending_file *f, sl_error *err)
{
	sl_input *in = NULL;
	int rc = open_input(x, f->key, f->version, &in, err);
	if (rc < 0)
		return rc;
	switch (x->format) {
	case SL_FILE_PARQUET:
		return open_parquet(x, in, err);
	case SL_FILE_JSONL:
		x->in = in;
		return sl_file_jsonl_open(&x->jsonl, in, f->origin, err);
	case SL_FILE_CSV:
		break;
	}
	x->in = in;
	rc = sl_csv_reader_open_input(&x->csv_reader, in, &x->csv, err);
	if (rc < 0)
		return rc;
	return sl_source_check_header(&x->base, x->csv_reader, x->csv.header, f->origin, x->what,
				      err);
}

static void finish_file(file_source *x)
{
	const pending_file *f = &x->files[x->next_file - 1];
	/* Bytes read are decompressed bytes for CSV and JSON lines (as counted
	 * while the file is read), the file's size for Parquet. */
	uint64_t n = x->csv_reader ? sl_csv_reader_bytes(x->csv_reader)
		     : x->jsonl    ? sl_file_jsonl_bytes(x->jsonl)
				   : f->size;
	close_current(x);
	x->bytes_done += n;
	x->base.stats.bytes = x->bytes_done;
	x->done_files++;
	x->base.stats.files = x->done_files;
}

/* A Parquet row whose value does not convert to the table's type. */
static int cast_bad_row(void *ctx, const sl_batch *in, int64_t r, const char *reason,
			sl_error *err)
{
	file_source *x = ctx;
	(void)in;
	x->base.stats.rows_bad++;
	sl_quarantine_row q = {current_origin(x), x->pq_row + r + 1, NULL, 0, reason};
	if (!x->opts.on_bad)
		return sl_error_set(err, SL_EINVAL, "%s: row %lld: %s", current_origin(x),
				    (long long)(x->pq_row + r + 1), reason);
	return x->opts.on_bad(x->opts.on_bad_ctx, &q, err);
}

/*
 * Converts a Parquet batch whose column types differ from the table's
 * (a declared type, or files written with other types) value by value
 * through text (sl_batch_conform); a value that does not convert sends its
 * row to quarantine.
 */
static int cast_rows(file_source *x, const sl_batch *in, sl_error *err)
{
	sl_conform_opts o = {.cast = true, .on_bad = cast_bad_row, .ctx = x};
	const sl_batch *out = NULL;
	return sl_batch_conform(&out, &x->batch, in, x->base.schema, &o, err);
}

static int next_parquet(file_source *x, sl_batch **out, sl_error *err)
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

/* A bad JSON line: counted and handed to the quarantine. */
static int bad_line(file_source *x, int64_t line, const char *raw, size_t raw_len,
		    const char *reason, sl_error *err)
{
	sl_csv_bad_row bad = {current_origin(x), line, raw, raw_len, reason};
	return sl_source_bad_row(&x->opts, &x->base.stats, current_origin(x), &bad, err);
}

static int next_jsonl(file_source *x, sl_batch **out, sl_error *err)
{
	sl_batch *b = x->batch;
	sl_buf reason = SL_BUF_INIT;
	int rc = 0;
	sl_batch_reset(b);
	while (!sl_batch_full(b)) {
		sl_file_jsonl_line l;
		rc = sl_file_jsonl_next(x->jsonl, &l, err);
		if (rc <= 0)
			break;
		if (!l.record) {
			rc = bad_line(x, l.line, l.raw, l.raw_len, l.reason, err);
		} else {
			sl_buf_reset(&reason);
			rc = sl_http_records_append(&x->rec, b, l.record, &reason, err);
			if (rc > 0) {
				sl_batch_discard_row(b);
				rc = bad_line(x, l.line, l.raw, l.raw_len,
					      reason.data ? reason.data : "bad record", err);
			} else if (rc == 0) {
				sl_batch_end_row(b);
				x->base.stats.rows_read++;
			}
		}
		json_decref(l.record);
		if (rc < 0)
			break;
	}
	sl_buf_free(&reason);
	if (rc < 0)
		return rc;
	x->base.stats.bytes = x->bytes_done + sl_file_jsonl_bytes(x->jsonl);
	if (b->nrows == 0)
		return 0;
	*out = b;
	return 1;
}

static int file_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	file_source *x = (file_source *)base;
	for (;;) {
		int rc = sl_source_cancelled(&x->opts, x->src, x->t, err);
		if (rc < 0)
			return rc;
		if (!x->csv_reader && !x->pq_reader && !x->jsonl) {
			if (x->next_file >= x->nfiles)
				return 0;
			const pending_file *f = &x->files[x->next_file++];
			rc = open_file(x, f, err);
			if (rc < 0)
				return x->remote ? sl_error_prefix(err, "%s: ", f->origin) : rc;
		}
		if (x->pq_reader) {
			rc = next_parquet(x, out, err);
			if (rc != 0)
				return rc;
		} else if (x->jsonl) {
			rc = next_jsonl(x, out, err);
			if (rc != 0)
				return rc;
		} else {
			sl_batch_reset(x->batch);
			int64_t n = sl_csv_read_batch(x->csv_reader, x->batch, on_bad_row, x, err);
			if (n < 0)
				return (int)n;
			x->base.stats.rows_read += n;
			if (n > 0) {
				x->base.stats.bytes =
					x->bytes_done + sl_csv_reader_bytes(x->csv_reader);
				*out = x->batch;
				return 1;
			}
		}
		finish_file(x);
	}
}

static int file_progress(sl_extractor *base, sl_source_progress *out, sl_error *err)
{
	file_source *x = (file_source *)base;
	for (int i = 0; i < x->done_files; i++)
		if (sl_source_progress_add_file(out, x->files[i].origin, x->files[i].size,
						x->files[i].version) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

static const sl_extractor_ops file_ops = {
	.next = file_next,
	.progress = file_progress,
	.close = file_close,
};

/* ------------------------------------------------------------- listing */

/*
 * Splits the table's location into the store root and the glob of keys
 * under it: s3://bucket/events/ then *.csv.gz splits at the bucket;
 * a local glob, relative to the project directory unless absolute, is
 * rooted at the deepest directory before its first wildcard (so a project
 * directory whose name holds "[" or "*" is never read as a pattern).
 */
static int split_location(file_source *x, const char *loc, const char **pattern,
			  sl_error *err)
{
	if (x->remote) {
		const char *bucket = loc + 5;
		const char *slash = strchr(bucket, '/');
		if (!slash || slash == bucket || !slash[1])
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: url \"%s\" needs a bucket and a key pattern, like "
					    "s3://bucket/events/*.csv.gz",
					    x->src->file, x->t->line, loc);
		x->root = sl_strndup(loc, (size_t)(slash - loc));
		*pattern = slash + 1;
		return x->root ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	const char *wild = loc + strcspn(loc, "*?[");
	const char *slash = NULL;
	for (const char *p = loc; p < wild; p++)
		if (*p == '/')
			slash = p;
	sl_buf root = SL_BUF_INIT;
	int rc = 0;
	if (loc[0] != '/')
		rc = sl_buf_printf(&root, "%s%s", x->opts.project_dir ? x->opts.project_dir : ".",
				   slash ? "/" : "");
	if (rc == 0 && slash)
		rc = sl_buf_append(&root, loc, (size_t)(slash - loc));
	if (rc == 0 && root.len == 0)
		rc = sl_buf_puts(&root, "/");
	if (rc < 0) {
		sl_buf_free(&root);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	x->root = sl_buf_detach(&root);
	*pattern = slash ? slash + 1 : loc;
	return 0;
}

static int origin_of(const file_source *x, const char *key, char **out)
{
	sl_buf b = SL_BUF_INIT;
	size_t n = strlen(x->root);
	int rc = sl_buf_printf(&b, "%s%s%s", x->root, n && x->root[n - 1] == '/' ? "" : "/", key);
	if (rc < 0) {
		sl_buf_free(&b);
		return SL_ENOMEM;
	}
	*out = sl_buf_detach(&b);
	return 0;
}

/* Lists the files matching pattern and keeps those not extracted yet;
 * *matched counts every match. */
static int list_files(file_source *x, const char *pattern, int *matched, sl_error *err)
{
	char *prefix = sl_strndup(pattern, strcspn(pattern, "*?["));
	char *key = sl_source_table_key(x->src, x->t);
	sl_store_entry *entries = NULL;
	size_t nentries = 0;
	int rc = 0;
	int flags = FNM_PATHNAME | (x->remote ? 0 : FNM_PERIOD);

	*matched = 0;
	if (!prefix || !key) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = sl_store_list(x->store, prefix, &entries, &nentries, err);
	if (rc < 0)
		goto out;
	if (x->remote)
		x->base.stats.requests++;
	x->files = sl_calloc(nentries + 1, sizeof *x->files);
	if (!x->files) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nentries; i++) {
		const sl_store_entry *e = &entries[i];
		char version[80];
		if (fnmatch(pattern, e->key, flags) != 0)
			continue;
		if (x->remote)
			snprintf(version, sizeof version, "%s", e->etag);
		else
			snprintf(version, sizeof version, "%lld", (long long)e->mtime_micros);
		if (++*matched == 1 || (!x->sample_version[0] && e->size > 0)) {
			sl_free(x->sample_key);
			if (!(x->sample_key = sl_strdup(e->key))) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto out;
			}
			if (e->size > 0)
				snprintf(x->sample_version, sizeof x->sample_version, "%s", version);
		}
		pending_file *f = &x->files[x->nfiles];
		if (origin_of(x, e->key, &f->origin) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		if (!x->opts.full_refresh && x->opts.seen) {
			sl_file_seen seen = SL_FILE_NEW;
			rc = x->opts.seen(x->opts.seen_ctx, f->origin, e->size, version, &seen, err);
			if (rc < 0)
				goto out;
			if (seen == SL_FILE_DONE) {
				sl_free(f->origin);
				f->origin = NULL;
				continue;
			}
			if (seen == SL_FILE_CHANGED) {
				x->base.stats.files_changed++;
				sl_warn("%s: %s changed since it was extracted; extracting it again "
					"whole", key, f->origin);
			}
		}
		if (!(f->key = sl_strdup(e->key))) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		f->size = e->size;
		snprintf(f->version, sizeof f->version, "%s", version);
		x->nfiles++;
	}
out:
	sl_store_entries_free(entries, nentries);
	sl_free(key);
	sl_free(prefix);
	return rc;
}

/* ------------------------------------------------------------- schema */

/* The first records of a JSON lines file give the columns (with the
 * declared ones first, as the http source does). */
static int infer_jsonl(file_source *x, sl_input *in, const char *origin, sl_schema **out,
		       sl_error *err)
{
	const sl_kvs *decl = &x->t->columns;
	sl_file_jsonl *j = NULL;
	int rc = 0;
	for (int k = 0; k < decl->n && rc == 0; k++) {
		sl_type ty;
		if (sl_type_parse(decl->items[k].value, &ty) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: unknown type \"%s\"; use one of " SL_TYPE_NAMES,
					    x->src->file, decl->items[k].line, decl->items[k].value);
		rc = sl_http_records_declare(&x->rec, decl->items[k].key, ty, err);
	}
	if (rc < 0)
		return rc;
	rc = sl_file_jsonl_open(&j, in, origin, err);
	for (int64_t n = 0; rc == 0 && n < FILE_SAMPLE_ROWS; n++) {
		sl_file_jsonl_line l;
		int got = sl_file_jsonl_next(j, &l, err);
		if (got < 0)
			rc = got;
		if (got <= 0)
			break;
		if (l.record)
			rc = sl_http_records_infer(&x->rec, l.record, err);
		json_decref(l.record);
	}
	sl_file_jsonl_close(j);
	if (rc < 0)
		return rc;
	const char **keep = NULL;
	size_t nkeep = 0;
	if ((rc = sl_source_keep_names(x->t, &keep, &nkeep, err)) < 0)
		return rc;
	rc = sl_http_records_schema(&x->rec, keep, nkeep, out, &x->base.renamed, err);
	sl_free(keep);
	return rc;
}

/*
 * The schema: a Parquet file's own, or inferred from a CSV or JSON lines
 * file's first records, with the declared column types applied. The first
 * new non-empty file gives it; with none, any matching non-empty file; when
 * every file is empty the schema has no column and nothing lands.
 */
static int build_schema(file_source *x, sl_error *err)
{
	const char *key = NULL, *version = NULL;
	sl_input *in = NULL;
	sl_schema *s = NULL;
	char *origin = NULL;
	int rc = 0;
	for (int i = 0; i < x->nfiles && !key; i++)
		if (x->files[i].size > 0) {
			key = x->files[i].key;
			version = x->files[i].version;
		}
	if (!key && x->sample_version[0]) {
		key = x->sample_key;
		version = x->sample_version;
	}
	if (!key) {
		if (!(x->base.schema = sl_schema_new()))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		return 0;
	}
	if (origin_of(x, key, &origin) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	rc = open_input(x, key, version, &in, err);
	if (rc < 0)
		goto done;
	if (x->format == SL_FILE_PARQUET) {
		sl_parquet_reader *r = NULL;
		rc = sl_parquet_reader_open(&r, in, err); /* owns in */
		in = NULL;
		if (rc == 0 && !(s = sl_schema_copy(sl_parquet_reader_schema(r))))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		sl_parquet_reader_close(r);
	} else if (x->format == SL_FILE_JSONL) {
		rc = infer_jsonl(x, in, origin, &s, err);
	} else {
		rc = sl_csv_infer_schema_input(&s, in, &x->csv, FILE_SAMPLE_ROWS, err);
	}
	if (rc < 0)
		goto done;
	if (s->nfields == 0 && x->format != SL_FILE_CSV) {
		rc = sl_error_set(err, SL_EFORMAT, "%s: has no columns", origin);
		goto done;
	}
	if (s->nfields > 0 && x->format != SL_FILE_JSONL &&
	    (rc = sl_source_apply_declared(x->src, x->t, s, x->remote ? "objects" :
					   x->format == SL_FILE_CSV ? "files' header" : "files",
					   err)) < 0)
		goto done;
	x->base.schema = s;
	s = NULL;
done:
	if (in)
		in->close(in);
	sl_schema_free(s);
	/* Readers' errors name the file; say which file when they do not. */
	if (rc < 0 && rc != SL_ECONFIG && !strstr(err->message, origin))
		sl_error_prefix(err, "%s: ", origin);
	sl_free(origin);
	return rc;
}

/* ------------------------------------------------------------- opening */

static int parse_format(file_source *x, const char *loc, sl_error *err)
{
	const char *f = x->o.format;
	if (!f) {
		x->format = sl_file_format_of(loc);
		return 0;
	}
	if (strcmp(f, "csv") == 0)
		x->format = SL_FILE_CSV;
	else if (strcmp(f, "parquet") == 0)
		x->format = SL_FILE_PARQUET;
	else if (strcmp(f, "jsonl") == 0)
		x->format = SL_FILE_JSONL;
	else
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: format \"%s\" is not supported; use csv, parquet or "
				    "jsonl", x->src->file, x->t->line, f);
	return 0;
}

int sl_file_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			const sl_extract_opts *opts, sl_error *err)
{
	file_source *x = sl_calloc(1, sizeof *x);
	const char *pattern = NULL;
	int matched = 0, rc;
	if (!x)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	x->base.ops = &file_ops;
	x->src = src;
	x->opts = *opts;
	if (x->opts.batch_rows <= 0)
		x->opts.batch_rows = SL_BATCH_DEFAULT_ROWS;
	sl_arena_init(&x->arena, 1024);
	x->t = t;
	x->o = *(const sl_file_opts *)t->opts;
	sl_render_vars vars;
	sl_render_vars_of(&vars, opts);
	rc = sl_source_render_str(&x->o.location, &vars, false, &x->arena, src, t->line, err);
	if (rc < 0)
		goto fail;
	sl_http_records_init(&x->rec, x->o.flatten && strcmp(x->o.flatten, "json") == 0,
			     sl_arena_sprintf(&x->arena, "%s.%s", src->name, t->name));
	x->rec.max_columns = (int)x->o.max_columns;
	rc = sl_source_csv_opts(t, &x->o, &x->csv, &x->csv_lists, err);
	if (rc < 0)
		goto fail;

	const char *loc = x->o.location ? x->o.location : "";
	x->remote = sl_str_starts_with(loc, "s3://");
	x->what = x->remote ? "objects" : "files";
	if ((rc = parse_format(x, loc, err)) < 0 || (rc = split_location(x, loc, &pattern, err)) < 0)
		goto fail;
	rc = sl_store_open(&x->store, x->root, err);
	if (rc < 0)
		goto fail;
	rc = list_files(x, pattern, &matched, err);
	if (rc < 0)
		goto fail;
	if (matched == 0) {
		if (x->remote)
			rc = sl_error_set(err, SL_ECONFIG, "%s:%d: no objects match %s; check the url",
					  src->file, t->line, loc);
		else
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s:%d: no files match \"%s\" (relative to %s); check the "
					  "path", src->file, t->line, loc, opts->project_dir);
		goto fail;
	}
	rc = build_schema(x, err);
	if (rc < 0)
		goto fail;
	rc = sl_batch_new(&x->batch, x->base.schema, x->opts.batch_rows, err);
	if (rc < 0)
		goto fail;
	snprintf(x->base.description, sizeof x->base.description, "%d new of %d %s", x->nfiles,
		 matched, x->what);
	*out = &x->base;
	return 0;
fail:
	file_close(&x->base);
	return rc;
}
