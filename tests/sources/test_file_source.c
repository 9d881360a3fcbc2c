/*
 * test_file_source.c: the one file source over a local folder — CSV plain,
 * gzip and zstd, Parquet, JSON lines (bad lines quarantined with
 * file:line), format: overriding the extension, {{ ds }} in the path,
 * files already seen skipped and changed ones read again, and the typed
 * progress of the files read. S3 is covered by the integration suites.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>
#include <zstd.h>

#include "sources/sources_int.h"
#include "formats/parquet/parquet.h"

#include "../lib/unit_tmp.h"

typedef struct fixture {
	sl_source src;
	sl_source_table t;
	sl_file_opts o;
	char *nulls[1];
	sl_extract_opts opts;
	sl_buf bad;   /* quarantined rows: "origin-tail:line: reason\n" */
	int64_t nbad;
} fixture;

static int on_bad(void *ctx, const sl_quarantine_row *row, sl_error *err)
{
	fixture *f = ctx;
	const char *tail = strrchr(row->origin, '/');
	(void)err;
	f->nbad++;
	return sl_buf_printf(&f->bad, "%s:%lld: %s\n", tail ? tail + 1 : row->origin,
			     (long long)row->line, row->reason);
}

static void fixture_init(fixture *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->src.name = "files";
	f->src.kind = sl_source_kind_find("csv");
	f->src.file = "sources/files.yml";
	f->src.ntables = 1;
	f->src.tables = &f->t;
	f->t.name = "t";
	f->t.line = 4;
	f->t.opts = &f->o;
	f->o.location = (char *)path;
	f->o.header = true;
	f->o.delimiter = ',';
	f->o.quote = '"';
	f->o.escape = '"';
	f->nulls[0] = "";
	f->o.nulls = f->nulls;
	f->o.nnulls = 1;
	f->o.flatten = "columns";
	f->opts.project_dir = tmp;
	f->opts.on_bad = on_bad;
	f->opts.on_bad_ctx = f;
}

/* Extracts every row as "a|b|..." lines; returns the row count. */
static int64_t drain(fixture *f, sl_buf *out, sl_source_progress *prog)
{
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_batch *b;
	int64_t rows = 0;
	sl_buf v = SL_BUF_INIT;
	if (sl_extractor_open(&x, &f->src, &f->t, &f->opts, &err) < 0)
		fail_msg("open: %s", err.message);
	int rc;
	while ((rc = sl_extractor_next(x, &b, &err)) > 0) {
		for (int64_t r = 0; r < b->nrows; r++, rows++) {
			for (int c = 0; c < b->ncols; c++) {
				sl_buf_reset(&v);
				if (!sl_column_is_null(&b->cols[c], r))
					sl_column_format_value(&b->cols[c], r, &v);
				sl_buf_printf(out, "%s%s", c ? "|" : "", v.data ? v.data : "");
			}
			sl_buf_putc(out, '\n');
		}
	}
	if (rc < 0)
		fail_msg("next: %s", err.message);
	if (prog && sl_extractor_progress(x, prog, &err) < 0)
		fail_msg("progress: %s", err.message);
	sl_buf_free(&v);
	sl_extractor_close(x);
	return rows;
}

static void write_gz(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	assert_int_equal(gzputs(g, text), (int)strlen(text));
	gzclose(g);
}

static void write_zst(const char *rel, const char *text)
{
	char path[512];
	char buf[4096];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	size_t n = ZSTD_compress(buf, sizeof buf, text, strlen(text), 3);
	assert_false(ZSTD_isError(n));
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
}

static void test_csv_plain_gzip_and_zstd_in_one_table(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f, "in/orders*");
	write_file("in/orders1.csv", "id,amount\n1,2.5\n");
	write_gz("in/orders2.csv.gz", "id,amount\n3,4.5\n");
	write_zst("in/orders3.csv.zst", "id,amount\n4,5.5\n5,6.5\n6,x\n");
	sl_buf out = SL_BUF_INIT;
	sl_source_progress prog = {0};
	assert_int_equal(drain(&f, &out, &prog), 4);
	assert_string_equal(out.data, "1|2.5\n3|4.5\n4|5.5\n5|6.5\n");
	/* The bad value is quarantined with its file and line. */
	assert_int_equal(f.nbad, 1);
	assert_non_null(strstr(f.bad.data, "orders3.csv.zst:4: "));
	assert_int_equal(prog.nfiles, 3);
	assert_non_null(strstr(prog.files[1].path, "/in/orders2.csv.gz"));
	assert_true(prog.files[1].size > 0);
	assert_true(prog.files[1].version[0] != '\0');
	sl_source_progress_clear(&prog);
	sl_buf_free(&out);
	sl_buf_free(&f.bad);
}

/* The engine's answer: the first file is done, the second changed. */
static int seen_some(void *ctx, const char *path, uint64_t size, const char *version,
		     sl_file_seen *out, sl_error *err)
{
	(void)ctx;
	(void)size;
	(void)version;
	(void)err;
	*out = strstr(path, "a.csv") ? SL_FILE_DONE
	       : strstr(path, "b.csv") ? SL_FILE_CHANGED : SL_FILE_NEW;
	return 0;
}

static void test_seen_files_skipped_changed_ones_read_again(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f, "d/*.csv");
	write_file("d/a.csv", "k\n1\n");
	write_file("d/b.csv", "k\n2\n");
	write_file("d/c.csv", "k\n3\n");
	f.opts.seen = seen_some;
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_extractor_open(&x, &f.src, &f.t, &f.opts, &err) < 0)
		fail_msg("open: %s", err.message);
	assert_string_equal(x->description, "2 new of 3 files");
	assert_int_equal(x->stats.files_changed, 1);
	sl_extractor_close(x);
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(&f, &out, NULL), 2);
	assert_string_equal(out.data, "2\n3\n");
	/* A full refresh reads all, whatever the engine saw. */
	f.opts.full_refresh = true;
	sl_buf_reset(&out);
	assert_int_equal(drain(&f, &out, NULL), 3);
	sl_buf_free(&out);
}

static void write_parquet(const char *rel)
{
	char path[512];
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new();
	sl_batch *b = NULL;
	sl_output *o = NULL;
	sl_parquet_writer *w = NULL;
	sl_parquet_write_opts po = SL_PARQUET_WRITE_OPTS_INIT;
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	assert_int_equal(sl_schema_add(s, "id", sl_type_make(SL_INT64), false), 0);
	assert_int_equal(sl_schema_add(s, "name", sl_type_make(SL_STRING), true), 0);
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	for (int i = 1; i <= 3; i++) {
		char name[8];
		snprintf(name, sizeof name, "n%d", i);
		sl_column_append_i64(&b->cols[0], i);
		assert_int_equal(sl_column_append_str(&b->cols[1], name, strlen(name)), 0);
		sl_batch_end_row(b);
	}
	assert_int_equal(sl_output_file_open(&o, path, &err), 0);
	assert_int_equal(sl_parquet_writer_open(&w, o, s, &po, &err), 0);
	assert_int_equal(sl_parquet_writer_write(w, b, &err), 0);
	assert_int_equal(sl_parquet_writer_close(w, NULL, &err), 0);
	sl_parquet_writer_free(w);
	assert_int_equal(o->close(o, &err), 0);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_local_parquet_with_declared_type(void **state)
{
	(void)state;
	fixture f;
	sl_kv cols[1] = {{"id", "string", 5}};
	fixture_init(&f, "p/*.parquet");
	mkdir(tmp, 0755);
	write_file("p/.keep", "");
	write_parquet("p/part-1.parquet");
	f.t.columns.n = 1;
	f.t.columns.items = cols; /* read as text: cast value by value */
	sl_buf out = SL_BUF_INIT;
	sl_source_progress prog = {0};
	assert_int_equal(drain(&f, &out, &prog), 3);
	assert_string_equal(out.data, "1|n1\n2|n2\n3|n3\n");
	assert_int_equal(prog.nfiles, 1); /* .keep is neither matched nor read */
	sl_source_progress_clear(&prog);
	sl_buf_free(&out);
}

static void test_json_lines_bad_lines_quarantined(void **state)
{
	(void)state;
	fixture f;
	sl_kv cols[1] = {{"id", "int64", 5}};
	fixture_init(&f, "j/events.jsonl");
	f.t.columns.n = 1;
	f.t.columns.items = cols; /* "three" is then a bad value, not a string column */
	write_file("j/events.jsonl",
		   "{\"id\": 1, \"user\": {\"name\": \"ann\"}, \"at\": \"2024-01-02T03:04:05Z\"}\n"
		   "\n"
		   "{\"id\": 2, \"user\": {\"name\": \"bob\"}}\n"
		   "not json\n"
		   "[1, 2]\n"
		   "{\"id\": \"three\", \"user\": null}\n");
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(&f, &out, NULL), 2);
	/* Columns as the http source flattens records: user.name -> user__name;
	 * the null "user" of the bad line is a column of its own. */
	assert_string_equal(out.data, "1|ann|2024-01-02 03:04:05|\n2|bob||\n");
	assert_int_equal(f.nbad, 3);
	assert_non_null(strstr(f.bad.data, "events.jsonl:4: not valid JSON"));
	assert_non_null(strstr(f.bad.data, "events.jsonl:5: not a JSON object\n"));
	assert_non_null(strstr(f.bad.data, "events.jsonl:6: "));
	sl_buf_free(&out);
	sl_buf_free(&f.bad);
}

static void test_format_key_and_rendered_path(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f, "drops/{{ ds }}/*.txt");
	f.o.format = "jsonl";
	f.opts.ds = "2024-03-05";
	char dir[512];
	snprintf(dir, sizeof dir, "%s/drops", tmp);
	mkdir(dir, 0755);
	write_file("drops/2024-03-05/a.txt", "{\"k\": 7}\n");
	write_file("drops/2024-03-04/a.txt", "{\"k\": 6}\n");
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(drain(&f, &out, NULL), 1);
	assert_string_equal(out.data, "7\n");
	sl_buf_free(&out);

	/* No match names the source file and line. */
	fixture_init(&f, "nothing/*.csv");
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_extractor_open(&x, &f.src, &f.t, &f.opts, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "sources/files.yml:4: no files match "
					    "\"nothing/*.csv\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_csv_plain_gzip_and_zstd_in_one_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_seen_files_skipped_changed_ones_read_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_parquet_with_declared_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_lines_bad_lines_quarantined, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_format_key_and_rendered_path, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
