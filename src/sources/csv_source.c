/*
 * csv_source.c: the csv source kind. Expands a table's glob, skips files
 * already extracted (same path, size and mtime), infers or applies the
 * declared schema, and streams every pending file through the CSV reader,
 * handing bad rows to the runner's quarantine.
 */
#include "sources/sources_int.h"
#include "formats/csv/csv.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
	char *path;
	uint64_t size;
	char version[32]; /* mtime in microseconds, as text */
} pending_file;

typedef struct {
	sl_extractor base;
	const sl_source *src;
	const sl_source_table *t;
	sl_extract_opts opts;
	sl_csv_opts csv;
	const char **csv_lists; /* what csv.nulls and csv.keep_names point into */
	pending_file *files;
	int nfiles;
	int next_file;   /* index of the next file to open */
	int done_files;  /* files fully read */
	sl_csv_reader *reader;
	sl_batch *batch;
	uint64_t bytes_before; /* decompressed bytes of finished files */
} csv_source;

static void free_files(csv_source *x)
{
	for (int i = 0; i < x->nfiles; i++)
		sl_free(x->files[i].path);
	sl_free(x->files);
	x->files = NULL;
	x->nfiles = 0;
}

static void csv_close(sl_extractor *base)
{
	csv_source *x = (csv_source *)base;
	sl_csv_reader_close(x->reader);
	sl_batch_free(x->batch);
	free_files(x);
	sl_free(x->csv_lists);
	sl_schema_free(x->base.schema);
	sl_free(x);
}

static int on_bad_row(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	csv_source *x = ctx;
	return sl_source_bad_row(&x->opts, &x->base.stats, bad->path, bad, err);
}

static int csv_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	csv_source *x = (csv_source *)base;
	for (;;) {
		int crc = sl_source_cancelled(&x->opts, x->src, x->t, err);
		if (crc < 0)
			return crc;
		if (!x->reader) {
			if (x->next_file >= x->nfiles)
				return 0;
			const char *path = x->files[x->next_file].path;
			int rc = sl_csv_reader_open(&x->reader, path, &x->csv, err);
			if (rc < 0)
				return rc;
			x->next_file++;
			rc = sl_source_check_header(&x->base, x->reader, x->csv.header, path,
						    "files", err);
			if (rc < 0)
				return rc;
		}
		sl_batch_reset(x->batch);
		int64_t n = sl_csv_read_batch(x->reader, x->batch, on_bad_row, x, err);
		if (n < 0)
			return (int)n;
		x->base.stats.rows_read += n;
		if (n > 0) {
			x->base.stats.bytes = x->bytes_before + sl_csv_reader_bytes(x->reader);
			*out = x->batch;
			return 1;
		}
		/* End of this file. */
		x->bytes_before += sl_csv_reader_bytes(x->reader);
		x->base.stats.bytes = x->bytes_before;
		sl_csv_reader_close(x->reader);
		x->reader = NULL;
		x->done_files++;
		x->base.stats.files = x->done_files;
	}
}

static int csv_progress(sl_extractor *base, sl_source_progress *out, sl_error *err)
{
	csv_source *x = (csv_source *)base;
	for (int i = 0; i < x->done_files; i++)
		if (sl_source_progress_add_file(out, x->files[i].path, x->files[i].size,
						x->files[i].version) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

static const sl_extractor_ops csv_ops = {
	.next = csv_next,
	.progress = csv_progress,
	.close = csv_close,
};

/*
 * The table's glob, relative paths under the project directory — whose
 * own name is escaped, so a project in "data[1]" matches its own files.
 */
static int table_pattern(const csv_source *x, sl_buf *out, sl_error *err)
{
	int rc = 0;
	if (x->t->path[0] != '/') {
		for (const char *c = x->opts.project_dir; *c && rc == 0; c++) {
			if (strchr("*?[]\\", *c))
				rc = sl_buf_putc(out, '\\');
			if (rc == 0)
				rc = sl_buf_putc(out, *c);
		}
		if (rc == 0)
			rc = sl_buf_putc(out, '/');
	}
	if (rc == 0)
		rc = sl_buf_puts(out, x->t->path);
	return rc < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory") : 0;
}

/* Expands the glob and keeps the files not yet extracted. */
static int find_files(csv_source *x, int *matched, sl_error *err)
{
	sl_buf pattern = SL_BUF_INIT;
	char *key = NULL;
	glob_t g = {0};
	int rc = table_pattern(x, &pattern, err);
	if (rc < 0)
		goto done;
	key = sl_source_table_key(x->src, x->t);
	if (!key) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	int g_rc = glob(pattern.data, GLOB_ERR, NULL, &g);
	if (g_rc == GLOB_NOMATCH) {
		*matched = 0;
		goto done;
	}
	if (g_rc != 0) {
		rc = sl_error_set(err, SL_EIO, "%s: cannot list files matching %s", x->src->file,
				  pattern.data);
		goto done;
	}
	*matched = (int)g.gl_pathc;
	x->files = sl_calloc(g.gl_pathc + 1, sizeof *x->files);
	if (!x->files) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		pending_file *f = &x->files[x->nfiles];
		f->size = (uint64_t)st.st_size;
		snprintf(f->version, sizeof f->version, "%lld",
			 (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000);
		if (!x->opts.full_refresh && x->opts.seen) {
			sl_file_seen seen = SL_FILE_NEW;
			rc = x->opts.seen(x->opts.seen_ctx, g.gl_pathv[i], f->size, f->version,
					  &seen, err);
			if (rc < 0)
				goto done;
			if (seen == SL_FILE_DONE)
				continue;
			if (seen == SL_FILE_CHANGED) {
				x->base.stats.files_changed++;
				sl_warn("%s: %s changed since it was extracted; extracting it again "
					"whole", key, g.gl_pathv[i]);
			}
		}
		f->path = sl_strdup(g.gl_pathv[i]);
		if (!f->path) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
		x->nfiles++;
	}
done:
	globfree(&g);
	sl_free(key);
	sl_buf_free(&pattern);
	return rc;
}

/*
 * Infers the schema from the first non-empty file among paths (an empty
 * file says nothing about the columns; when every file is empty the schema
 * has no column and nothing lands), then applies the declared types. Other
 * files must share the header and are checked as they are read; values
 * that do not fit their column go to quarantine.
 */
static int build_schema(csv_source *x, char *const *paths, int n, sl_error *err)
{
	sl_schema *s = NULL;
	const char *sample = NULL;
	int rc;
	for (int i = 0; i < n && !sample; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && st.st_size > 0)
			sample = paths[i];
	}
	if (sample) {
		rc = sl_csv_infer_schema(&s, &sample, 1, &x->csv, 20000, err);
		if (rc < 0)
			return sl_error_prefix(err, "source %s table %s: ", x->src->name,
					       x->t->name);
	} else if (!(s = sl_schema_new())) {
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (s->nfields > 0) {
		rc = sl_source_apply_declared(x->src, x->t, s, "files' header", err);
		if (rc < 0) {
			sl_schema_free(s);
			return rc;
		}
	}
	x->base.schema = s;
	return 0;
}

int sl_file_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		       const sl_extract_opts *opts, sl_error *err)
{
	if (src->kind == SL_SOURCE_S3)
		return sl_s3_source_open(out, src, t, opts, err);
	csv_source *x = sl_calloc(1, sizeof *x);
	int matched = 0, rc;
	if (!x)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	x->base.ops = &csv_ops;
	x->src = src;
	x->t = t;
	x->opts = *opts;
	rc = sl_source_csv_opts(t, &x->csv, &x->csv_lists, err);
	if (rc < 0)
		goto fail;

	rc = find_files(x, &matched, err);
	if (rc < 0)
		goto fail;
	if (matched == 0) {
		rc = sl_error_set(err, SL_ECONFIG,
				  "%s:%d: no files match \"%s\" (relative to %s); check the path",
				  src->file, t->line, t->path, opts->project_dir);
		goto fail;
	}
	{
		/* Pending files first; with nothing new (or only empty files),
		 * any matching file. */
		char **pending = sl_calloc((size_t)x->nfiles + 1, sizeof *pending);
		if (!pending) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
		for (int i = 0; i < x->nfiles; i++)
			pending[i] = x->files[i].path;
		rc = x->nfiles > 0 ? build_schema(x, pending, x->nfiles, err) : 0;
		sl_free(pending);
	}
	if (rc == 0 && (!x->base.schema || x->base.schema->nfields == 0)) {
		sl_buf pattern = SL_BUF_INIT;
		glob_t g;
		sl_schema_free(x->base.schema);
		x->base.schema = NULL;
		rc = table_pattern(x, &pattern, err);
		if (rc == 0 && glob(pattern.data, 0, NULL, &g) != 0)
			rc = sl_error_set(err, SL_EIO, "cannot list %s", pattern.data);
		else if (rc == 0) {
			rc = build_schema(x, g.gl_pathv, (int)g.gl_pathc, err);
			globfree(&g);
		}
		sl_buf_free(&pattern);
	}
	if (rc < 0)
		goto fail;
	rc = sl_batch_new(&x->batch, x->base.schema, opts->batch_rows, err);
	if (rc < 0)
		goto fail;
	snprintf(x->base.description, sizeof x->base.description, "%d new of %d files",
		 x->nfiles, matched);
	*out = &x->base;
	return 0;
fail:
	csv_close(&x->base);
	return rc;
}
