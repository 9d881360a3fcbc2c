/* test_csv.c: the csv reader, batch parsing, inference and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "formats/csv/csv.h"
#include "formats/csv/csv_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ------------------------------------------------------------ helpers */

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sl-csv-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	sl_csv_test_buffer_size = 0;
	return 0;
}

static const char *tpath(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Opens a reader over memory; the input is freed with free_mem_reader. */
static sl_input *g_in;

static sl_csv_reader *mem_reader(const char *text, size_t n, const sl_csv_opts *opts)
{
	sl_error err = SL_ERROR_INIT;
	sl_csv_reader *r = NULL;
	assert_int_equal(sl_input_mem_open(&g_in, text, n, "mem.csv", &err), 0);
	int rc = sl_csv_reader_open_input(&r, g_in, opts, &err);
	if (rc < 0)
		fail_msg("open: %s", err.message);
	return r;
}

static void free_mem_reader(sl_csv_reader *r)
{
	sl_csv_reader_close(r);
	g_in->close(g_in);
	g_in = NULL;
}

/*
 * Reads every record into text: "line:f1|f2\n", quoted fields in <>, and
 * errors as "line:!message\n".
 */
static void dump_records(sl_csv_reader *r, sl_buf *out)
{
	sl_csv_record rec;
	sl_error err = SL_ERROR_INIT;
	int rc;
	while ((rc = sl_csv_reader_next(r, &rec, &err)) != 0) {
		if (rc < 0) {
			assert_int_equal(rc, SL_EFORMAT);
			sl_buf_printf(out, "%lld:!%s\n", (long long)rec.line, err.message);
			sl_error_clear(&err);
			continue;
		}
		sl_buf_printf(out, "%lld:", (long long)rec.line);
		for (int i = 0; i < rec.nfields; i++) {
			if (i)
				sl_buf_putc(out, '|');
			if (rec.quoted[i])
				sl_buf_putc(out, '<');
			sl_buf_append(out, rec.fields[i], rec.lens[i]);
			if (rec.quoted[i])
				sl_buf_putc(out, '>');
		}
		sl_buf_putc(out, '\n');
	}
}

static void assert_records(const char *text, const sl_csv_opts *opts, const char *expect)
{
	sl_buf out = SL_BUF_INIT;
	sl_csv_reader *r = mem_reader(text, strlen(text), opts);
	dump_records(r, &out);
	assert_string_equal(out.data ? out.data : "", expect);
	sl_buf_free(&out);
	free_mem_reader(r);
}

/* Bad rows collected as "line: reason [raw]\n". */
static int collect_bad(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	(void)err;
	sl_buf *b = ctx;
	sl_buf_printf(b, "%lld: %s [%.*s]\n", (long long)bad->line, bad->reason,
		      (int)bad->raw_len, bad->raw);
	return 0;
}

static sl_schema *make_schema(const char *spec)
{
	/* "name:type;name:type" */
	sl_schema *s = sl_schema_new();
	char buf[512];
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(tok, ':');
		*colon = '\0';
		sl_type t;
		assert_int_equal(sl_type_parse(colon + 1, &t), 0);
		assert_int_equal(sl_schema_add(s, tok, t, true), 0);
	}
	return s;
}

/* Row i of the batch as "v1|v2" with NULL shown as ∅. */
static void row_text(const sl_batch *b, int64_t i, sl_buf *out)
{
	out->len = 0;
	if (out->data)
		out->data[0] = '\0';
	for (int c = 0; c < b->ncols; c++) {
		if (c)
			sl_buf_putc(out, '|');
		if (sl_column_is_null(&b->cols[c], i))
			sl_buf_puts(out, "NULL");
		else
			sl_column_format_value(&b->cols[c], i, out);
	}
}

static void assert_row(const sl_batch *b, int64_t i, const char *expect)
{
	sl_buf t = SL_BUF_INIT;
	row_text(b, i, &t);
	assert_string_equal(t.data ? t.data : "", expect);
	sl_buf_free(&t);
}

/* ------------------------------------------------------------ splitting */

static void test_csv_quoted_delimiters_quotes_and_newlines(void **state)
{
	(void)state;
	assert_records("a,b,c\n"
		       "\"x,1\",\"say \"\"hi\"\"\",\"l1\nl2\"\n"
		       "z,,\"\"\n",
		       NULL,
		       "2:<x,1>|<say \"hi\">|<l1\nl2>\n"
		       "4:z||<>\n");
}

static void test_csv_crlf_lf_and_final_record_without_line_end(void **state)
{
	(void)state;
	assert_records("a,b\r\n1,2\r\n\"q\r\nx\",4\n5,6", NULL,
		       "2:1|2\n3:<q\r\nx>|4\n5:5|6\n");
	assert_records("a,b\n1,\"2\"\r\n", NULL, "2:1|<2>\n");
	assert_records("a,b\n1,\"2\"", NULL, "2:1|<2>\n");
	assert_records("a,b\n1,2\r", NULL, "2:1|2\n");
}

static void test_csv_bom_is_skipped(void **state)
{
	(void)state;
	const char *text = "\xEF\xBB\xBFid,name\n1,x\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	assert_int_equal(sl_csv_reader_ncolumns(r), 2);
	assert_string_equal(sl_csv_reader_column(r, 0), "id");
	assert_string_equal(sl_csv_reader_column(r, 1), "name");
	free_mem_reader(r);
}

static void test_csv_custom_delimiter_quote_escape(void **state)
{
	(void)state;
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.delimiter = ';';
	o.quote = '\'';
	o.escape = '\\';
	assert_records("a;b;c\n'x;y';'it\\'s';'back\\\\slash'\nplain;\"dq\";3\n", &o,
		       "2:<x;y>|<it's>|<back\\slash>\n3:plain|\"dq\"|3\n");
	o.delimiter = '\t';
	o.quote = '"';
	o.escape = '"';
	assert_records("a\tb\n1,5\t\"t\tab\"\n", &o, "2:1,5|<t\tab>\n");
}

static void test_csv_no_header_names_columns_and_keeps_first_row(void **state)
{
	(void)state;
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.header = false;
	const char *text = "1,x\n2,y\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), &o);
	assert_int_equal(sl_csv_reader_ncolumns(r), 2);
	assert_string_equal(sl_csv_reader_column(r, 0), "column1");
	assert_string_equal(sl_csv_reader_column(r, 1), "column2");
	sl_csv_record rec;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_csv_reader_next(r, &rec, &err), 1);
	assert_int_equal(rec.line, 1);
	assert_int_equal(rec.record_no, 1);
	assert_int_equal(rec.raw_len, 3);
	assert_memory_equal(rec.raw, "1,x", 3);
	assert_int_equal(sl_csv_reader_next(r, &rec, &err), 1);
	assert_int_equal(rec.line, 2);
	assert_int_equal(rec.record_no, 2);
	assert_int_equal(sl_csv_reader_next(r, &rec, &err), 0);
	assert_int_equal(sl_csv_reader_bytes(r), strlen(text));
	free_mem_reader(r);
}

static void test_csv_header_names_deduplicated_and_filled(void **state)
{
	(void)state;
	const char *text = "a,,a,a\n1,2,3,4\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	assert_int_equal(sl_csv_reader_ncolumns(r), 4);
	assert_string_equal(sl_csv_reader_column(r, 0), "a");
	assert_string_equal(sl_csv_reader_column(r, 1), "column2");
	assert_string_equal(sl_csv_reader_column(r, 2), "a_1");
	assert_string_equal(sl_csv_reader_column(r, 3), "a_2");
	assert_null(sl_csv_reader_column(r, 4));
	free_mem_reader(r);
}

/*
 * Issue 8: names differing only in ASCII case (Dup,dup) landed and then
 * failed every SQLite load with "duplicate column name". They are renamed
 * by the rule for exact repeats, a rename never takes a name the header
 * already has, and the reader says which columns it renamed.
 */
static void test_csv_header_names_unique_ignoring_case(void **state)
{
	(void)state;
	const char *text = "Dup,dup,a,A,a,a_1,,DUP_1\n1,2,3,4,5,6,7,8\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	const char *want[] = {"Dup", "dup_2", "a", "A_2", "a_3", "a_1", "column7", "DUP_1"};
	const char *hdr[] = {"Dup", "dup", "a", "A", "a", "a_1", "", "DUP_1"};
	assert_int_equal(sl_csv_reader_ncolumns(r), 8);
	for (int i = 0; i < 8; i++) {
		assert_string_equal(sl_csv_reader_column(r, i), want[i]);
		assert_string_equal(sl_csv_reader_header_name(r, i), hdr[i]);
	}
	assert_null(sl_csv_reader_header_name(r, 8));
	assert_int_equal(sl_csv_reader_nrenamed(r), 4);
	sl_buf t = SL_BUF_INIT;
	assert_int_equal(sl_csv_reader_renames_text(r, &t), 0);
	assert_string_equal(t.data, "dup → dup_2, A → A_2, a → a_3, \"\" → column7");
	sl_buf_free(&t);
	free_mem_reader(r);

	/* Nothing renamed: nothing to say. */
	text = "x,y\n1,2\n";
	r = mem_reader(text, strlen(text), NULL);
	assert_int_equal(sl_csv_reader_nrenamed(r), 0);
	assert_int_equal(sl_csv_reader_renames_text(r, &t), 0);
	assert_null(t.data);
	free_mem_reader(r);
}

/*
 * Renaming repeats was cubic (4,000 identical names took 97 s) and 1M
 * columns never finished: 100,000 identical names and 100,000 names
 * alternating in case now take a linear pass; every name is checked.
 */
static void test_csv_many_repeated_header_names(void **state)
{
	(void)state;
	const int n = 100000;
	sl_buf text = SL_BUF_INIT;
	for (int i = 0; i < n; i++)
		assert_int_equal(sl_buf_puts(&text, i ? ",a" : "a"), 0);
	assert_int_equal(sl_buf_puts(&text, "\n"), 0);
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.max_columns = n;
	sl_csv_reader *r = mem_reader(text.data, text.len, &o);
	assert_int_equal(sl_csv_reader_ncolumns(r), n);
	char want[32];
	for (int i = 1; i < n; i++) {
		snprintf(want, sizeof want, "a_%d", i);
		assert_string_equal(sl_csv_reader_column(r, i), want);
	}
	assert_int_equal(sl_csv_reader_nrenamed(r), n - 1);
	free_mem_reader(r);

	/* a,A,a,A,...: every later one is a_K or A_K with K rising. */
	sl_buf_reset(&text);
	for (int i = 0; i < n; i++)
		assert_int_equal(sl_buf_puts(&text, i == 0 ? "a" : i % 2 ? ",A" : ",a"), 0);
	assert_int_equal(sl_buf_puts(&text, "\n"), 0);
	r = mem_reader(text.data, text.len, &o);
	assert_string_equal(sl_csv_reader_column(r, 0), "a");
	for (int i = 1; i < n; i++) {
		snprintf(want, sizeof want, "%s_%d", i % 2 ? "A" : "a", i);
		assert_string_equal(sl_csv_reader_column(r, i), want);
	}
	free_mem_reader(r);
	sl_buf_free(&text);
}

/* More columns than max_columns (default 10,000) is refused at open, with a way out. */
static void test_csv_column_limit(void **state)
{
	(void)state;
	sl_buf text = SL_BUF_INIT;
	for (int i = 0; i <= 10000; i++)
		assert_int_equal(sl_buf_printf(&text, "%sc%d", i ? "," : "", i), 0);
	assert_int_equal(sl_buf_puts(&text, "\n"), 0);
	sl_error err = SL_ERROR_INIT;
	sl_csv_reader *r = NULL;
	sl_input *in = NULL;
	assert_int_equal(sl_input_mem_open(&in, text.data, text.len, "wide.csv", &err), 0);
	assert_int_equal(sl_csv_reader_open_input(&r, in, NULL, &err), SL_ELIMIT);
	assert_null(r);
	assert_string_equal(err.message, "wide.csv: the header has 10001 columns, more than "
			    "max_columns (10000); set max_columns on the table to read it");
	/* Without a header the first record counts. */
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.header = false;
	o.max_columns = 5000;
	assert_int_equal(sl_csv_reader_open_input(&r, in, &o, &err), SL_ELIMIT);
	assert_non_null(strstr(err.message, "the first record has 10001 columns, more than "
			       "max_columns (5000)"));
	/* Raised, it reads. */
	o.header = true;
	o.max_columns = 10001;
	assert_int_equal(sl_csv_reader_open_input(&r, in, &o, &err), 0);
	assert_int_equal(sl_csv_reader_ncolumns(r), 10001);
	assert_string_equal(sl_csv_reader_column(r, 10000), "c10000");
	sl_csv_reader_close(r);
	/* Inference goes through the same open. */
	sl_schema *s = NULL;
	assert_int_equal(sl_csv_infer_schema_input(&s, in, NULL, 10, &err), SL_ELIMIT);
	assert_null(s);
	in->close(in);
	sl_buf_free(&text);
}

/* A column name of any length is kept whole. */
static void test_csv_long_column_names(void **state)
{
	(void)state;
	size_t len = 100000;
	sl_buf text = SL_BUF_INIT;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < len; i++)
			assert_int_equal(sl_buf_putc(&text, 'n'), 0);
		assert_int_equal(sl_buf_putc(&text, k ? '\n' : ','), 0);
	}
	assert_int_equal(sl_buf_puts(&text, "1,x\n"), 0);
	sl_csv_reader *r = mem_reader(text.data, text.len, NULL);
	assert_int_equal(strlen(sl_csv_reader_column(r, 0)), len);
	assert_int_equal(strlen(sl_csv_reader_column(r, 1)), len + 2); /* ..._1 */
	sl_schema *s = make_schema("a:int32;b:int32");
	sl_free(s->fields[1].name);
	s->fields[1].name = sl_strdup(sl_csv_reader_column(r, 1));
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	/* The bad value's reason names the whole column. */
	sl_buf bad = SL_BUF_INIT;
	assert_int_equal(sl_csv_read_batch(r, b, collect_bad, &bad, &err), 0);
	assert_int_equal(bad.len, strlen("2: column \"\": 'x' is not a valid int32 [1,x]\n") + len + 2);
	assert_non_null(strstr(bad.data, "_1\": 'x' is not a valid int32 [1,x]\n"));
	sl_buf_free(&bad);
	sl_batch_free(b);
	sl_schema_free(s);
	free_mem_reader(r);
	sl_buf_free(&text);
}

/*
 * Rows of big values end a batch early (SL_CSV_BATCH_BYTES of record
 * text), so 15 MB values make batches of a few rows, not 64K rows whose
 * strings would pass 2 GiB; every row still arrives once, in order.
 */
static void test_csv_big_records_make_short_batches(void **state)
{
	(void)state;
	size_t len = (size_t)15 << 20;
	int nrec = 9;
	sl_buf text = SL_BUF_INIT;
	assert_int_equal(sl_buf_puts(&text, "id,body\n"), 0);
	assert_int_equal(sl_buf_reserve(&text, (size_t)nrec * (len + 8)), 0);
	for (int i = 0; i < nrec; i++) {
		assert_int_equal(sl_buf_printf(&text, "%d,", i), 0);
		memset(text.data + text.len, 'a' + i, len);
		text.len += len;
		assert_int_equal(sl_buf_putc(&text, '\n'), 0);
	}
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.max_record = len + 64;
	sl_csv_reader *r = mem_reader(text.data, text.len, &o);
	sl_schema *s = make_schema("id:int32;body:string");
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_batch_new(&b, s, 1000, &err), 0);
	int64_t n, seen = 0;
	int batches = 0;
	while ((n = sl_csv_read_batch(r, b, NULL, NULL, &err)) > 0) {
		assert_int_equal(n, b->nrows);
		assert_true(n <= 5); /* 5 x 15 MB passes 64 MiB */
		for (int64_t i = 0; i < n; i++, seen++) {
			size_t vl;
			const char *v = sl_column_str(&b->cols[1], i, &vl);
			assert_int_equal(b->cols[0].v.i32[i], seen);
			assert_int_equal(vl, len);
			assert_int_equal(v[vl - 1], 'a' + seen);
		}
		sl_batch_reset(b);
		batches++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(seen, nrec);
	assert_int_equal(batches, 2);
	sl_batch_free(b);
	sl_schema_free(s);
	free_mem_reader(r);
	sl_buf_free(&text);
}

static void test_csv_blank_lines_skipped_but_counted(void **state)
{
	(void)state;
	assert_records("a,b\n\n1,2\n\r\n3,4\n\n", NULL, "3:1|2\n5:3|4\n");
}

static void test_csv_empty_file_and_header_only(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_csv_reader *r = mem_reader("", 0, NULL);
	assert_int_equal(sl_csv_reader_ncolumns(r), 0);
	sl_csv_record rec;
	assert_int_equal(sl_csv_reader_next(r, &rec, &err), 0);
	sl_schema *s = make_schema("a:int32");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	assert_int_equal(sl_csv_read_batch(r, b, NULL, NULL, &err), 0);
	free_mem_reader(r);

	r = mem_reader("a\n", 2, NULL);
	assert_int_equal(sl_csv_reader_ncolumns(r), 1);
	assert_string_equal(sl_csv_reader_column(r, 0), "a");
	assert_int_equal(sl_csv_read_batch(r, b, NULL, NULL, &err), 0);
	assert_int_equal(b->nrows, 0);
	free_mem_reader(r);
	sl_batch_free(b);
	sl_schema_free(s);
}

/* A file of many records with quoted newlines and escapes, the expected dump. */
static void make_tricky(sl_buf *text, sl_buf *expect, int nrec)
{
	sl_buf_puts(text, "id,s,t\r\n");
	int line = 2;
	for (int i = 0; i < nrec; i++) {
		switch (i % 4) {
		case 0:
			sl_buf_printf(text, "%d,plain%d,x\n", i, i);
			sl_buf_printf(expect, "%d:%d|plain%d|x\n", line, i, i);
			line += 1;
			break;
		case 1:
			sl_buf_printf(text, "%d,\"multi\nline \"\"%d\"\"\",\"a,b\"\r\n", i, i);
			sl_buf_printf(expect, "%d:%d|<multi\nline \"%d\">|<a,b>\n", line, i, i);
			line += 2;
			break;
		case 2:
			sl_buf_printf(text, "%d,%0*d,\n", i, 40 + i % 50, 7);
			sl_buf_printf(expect, "%d:%d|%0*d|\n", line, i, 40 + i % 50, 7);
			line += 1;
			break;
		default:
			sl_buf_printf(text, "%d,\"\",\"\"\"\"\n", i);
			sl_buf_printf(expect, "%d:%d|<>|<\">\n", line, i);
			line += 1;
			break;
		}
	}
}

static void test_csv_records_cross_read_buffer_boundaries(void **state)
{
	(void)state;
	sl_buf text = SL_BUF_INIT, expect = SL_BUF_INIT;
	make_tricky(&text, &expect, 400);
	/* Every buffer size from tiny (records wider than it) to roomy. */
	static const size_t sizes[] = {7, 16, 33, 64, 100, 257, 4096, 0};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		sl_csv_test_buffer_size = sizes[k];
		sl_buf out = SL_BUF_INIT;
		sl_csv_reader *r = mem_reader(text.data, text.len, NULL);
		dump_records(r, &out);
		assert_int_equal(sl_csv_reader_bytes(r), text.len);
		assert_string_equal(out.data, expect.data);
		sl_buf_free(&out);
		free_mem_reader(r);
	}
	sl_csv_test_buffer_size = 0;
	sl_buf_free(&text);
	sl_buf_free(&expect);
}

static void test_csv_large_file_over_default_buffer(void **state)
{
	(void)state;
	sl_buf text = SL_BUF_INIT, expect = SL_BUF_INIT;
	make_tricky(&text, &expect, 60000); /* ~3 MB: several 1 MiB refills */
	assert_true(text.len > 2u << 20);
	sl_buf out = SL_BUF_INIT;
	sl_csv_reader *r = mem_reader(text.data, text.len, NULL);
	dump_records(r, &out);
	assert_string_equal(out.data, expect.data);
	sl_buf_free(&out);
	free_mem_reader(r);
	sl_buf_free(&text);
	sl_buf_free(&expect);
}

static void test_csv_record_over_max_record_is_error_then_resumes(void **state)
{
	(void)state;
	sl_buf text = SL_BUF_INIT;
	sl_buf_puts(&text, "a,b\n1,short\n2,\"");
	for (int i = 0; i < 30; i++)
		sl_buf_puts(&text, "0123456789\n"); /* 330 bytes, 30 newlines */
	sl_buf_puts(&text, "\"\n3,after\n");
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.max_record = 100;
	static const size_t sizes[] = {16, 64, 0};
	for (size_t k = 0; k < 3; k++) {
		sl_csv_test_buffer_size = sizes[k];
		assert_records(text.data, &o,
			       "2:1|short\n"
			       "3:!mem.csv:3: record is longer than max_record (100 bytes)\n"
			       "34:3|after\n");
	}
	sl_csv_test_buffer_size = 0;
	/* An unquoted line over the limit. */
	sl_buf_reset(&text);
	sl_buf_puts(&text, "a\n");
	for (int i = 0; i < 50; i++)
		sl_buf_puts(&text, "xxxxxxxxxx");
	sl_buf_puts(&text, "\nok\n");
	assert_records(text.data, &o,
		       "2:!mem.csv:2: record is longer than max_record (100 bytes)\n3:ok\n");
	sl_buf_free(&text);
}

/*
 * Without a header the first good record gives the column count; bad
 * records before it (too long, an unterminated quote) are handed back in
 * their turn, not a failure of the whole file (a JSON lines file whose
 * first line is over the limit).
 */
static void test_csv_no_header_bad_first_records_are_bad_rows(void **state)
{
	(void)state;
	sl_buf text = SL_BUF_INIT;
	for (int i = 0; i < 50; i++)
		sl_buf_puts(&text, "xxxxxxxxxx");
	sl_buf_puts(&text, "\n\"open\n1,2\n3,4\n");
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.max_record = 100;
	o.header = false;
	assert_records(text.data, &o,
		       "1:!mem.csv:1: record is longer than max_record (100 bytes)\n"
		       "2:!mem.csv:2: unterminated quoted field\n"
		       "3:1|2\n4:3|4\n");
	/* Only bad records: nothing but them. */
	assert_records("\"a\n", &o, "1:!mem.csv:1: unterminated quoted field\n");
	sl_buf_free(&text);
}

static void test_csv_unterminated_quote_resumes_next_line(void **state)
{
	(void)state;
	assert_records("a,b\n1,2\n3,\"open\n4,5\n", NULL,
		       "2:1|2\n3:!mem.csv:3: unterminated quoted field\n4:4|5\n");
}

static void test_csv_text_after_closing_quote_is_kept(void **state)
{
	(void)state;
	assert_records("a,b\n\"ab\"cd,\"x\" \n", NULL, "2:<abcd>|<x >\n");
}

/* ---------------------------------------------------------- compression */

static void write_gzip(const char *path, const char *const *members, int n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int m = 0; m < n; m++) {
		z_stream z;
		memset(&z, 0, sizeof z);
		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		size_t len = strlen(members[m]);
		uLong bound = deflateBound(&z, (uLong)len);
		unsigned char *out = malloc(bound);
		z.next_in = (Bytef *)(uintptr_t)members[m];
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = (uInt)bound;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		fwrite(out, 1, z.total_out, f);
		deflateEnd(&z);
		free(out);
	}
	fclose(f);
}

static void write_zstd(const char *path, const char *text)
{
	size_t len = strlen(text), bound = ZSTD_compressBound(len);
	void *out = malloc(bound);
	size_t n = ZSTD_compress(out, bound, text, len, 3);
	assert_false(ZSTD_isError(n));
	write_file(path, out, n);
	free(out);
}

static void dump_file(const char *path, sl_buf *out)
{
	sl_error err = SL_ERROR_INIT;
	sl_csv_reader *r = NULL;
	if (sl_csv_reader_open(&r, path, NULL, &err) < 0)
		fail_msg("open %s: %s", path, err.message);
	dump_records(r, out);
	sl_csv_reader_close(r);
}

static void test_csv_gzip_multi_member_read_transparently(void **state)
{
	(void)state;
	sl_buf big = SL_BUF_INIT, expect = SL_BUF_INIT;
	make_tricky(&big, &expect, 30000);
	const char *members[] = {big.data, "30000,tail,y\n"};
	sl_buf_printf(&expect, "%d:30000|tail|y\n", 2 + 30000 + 30000 / 4);
	write_gzip(tpath("data.csv.gz"), members, 2);
	/* The same bytes under a name that does not say gzip: magic bytes decide. */
	write_gzip(tpath("disguised.csv"), members, 2);
	sl_buf out = SL_BUF_INIT;
	dump_file(tpath("data.csv.gz"), &out);
	assert_string_equal(out.data, expect.data);
	sl_buf_reset(&out);
	dump_file(tpath("disguised.csv"), &out);
	assert_string_equal(out.data, expect.data);
	sl_buf_free(&out);
	sl_buf_free(&big);
	sl_buf_free(&expect);
}

static void test_csv_zstd_read_transparently(void **state)
{
	(void)state;
	sl_buf big = SL_BUF_INIT, expect = SL_BUF_INIT;
	make_tricky(&big, &expect, 30000);
	write_zstd(tpath("data.csv.zst"), big.data);
	sl_buf out = SL_BUF_INIT;
	dump_file(tpath("data.csv.zst"), &out);
	assert_string_equal(out.data, expect.data);
	sl_buf_free(&out);
	sl_buf_free(&big);
	sl_buf_free(&expect);
}

static void test_csv_truncated_or_misnamed_compressed_file_fails(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_csv_reader *r = NULL;
	write_file(tpath("plain.csv.gz"), "a,b\n1,2\n", 8);
	assert_int_equal(sl_csv_reader_open(&r, tpath("plain.csv.gz"), NULL, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "not a gzip file"));

	const char *members[] = {"a,b\n1,2\n3,4\n"};
	write_gzip(tpath("t.gz"), members, 1);
	FILE *f = fopen(tpath("t.gz"), "rb");
	unsigned char buf[256];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	write_file(tpath("cut.csv.gz"), buf, n - 6);
	sl_error_clear(&err);
	int rc = sl_csv_reader_open(&r, tpath("cut.csv.gz"), NULL, &err);
	if (rc == 0) {
		sl_csv_record rec;
		while ((rc = sl_csv_reader_next(r, &rec, &err)) == 1)
			;
		sl_csv_reader_close(r);
	}
	/* Not a bad record: reading ends with an I/O error. */
	assert_int_equal(rc, SL_EIO);
	assert_non_null(strstr(err.message, "truncated gzip"));

	sl_error_clear(&err);
	assert_int_equal(sl_csv_reader_open(&r, tpath("missing.csv"), NULL, &err), SL_ENOTFOUND);
}

static void test_csv_corrupt_gzip_mid_file_ends_reading_not_a_bad_row(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_buf big = SL_BUF_INIT, expect = SL_BUF_INIT;
	make_tricky(&big, &expect, 60000);
	const char *members[] = {big.data};
	write_gzip(tpath("big.gz"), members, 1);
	sl_buf gz = SL_BUF_INIT;
	assert_int_equal(sl_file_read_all(&gz, tpath("big.gz"), 0, &err), 0);
	write_file(tpath("half.csv.gz"), gz.data, gz.len / 2);

	sl_csv_reader *r = NULL;
	sl_csv_test_buffer_size = 4096; /* open reads only the first 4 KiB */
	assert_int_equal(sl_csv_reader_open(&r, tpath("half.csv.gz"), NULL, &err), 0);
	sl_csv_test_buffer_size = 0;
	sl_schema *s = make_schema("id:int32;s:string;t:string");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 1 << 20, &err), 0);
	sl_buf bad = SL_BUF_INIT;
	assert_int_equal(sl_csv_read_batch(r, b, collect_bad, &bad, &err), SL_EIO);
	assert_non_null(strstr(err.message, "truncated gzip data"));
	assert_null(bad.data); /* no bad row was made up */
	sl_csv_record rec;
	assert_int_equal(sl_csv_reader_next(r, &rec, &err), SL_EIO);
	sl_csv_reader_close(r);
	sl_batch_free(b);
	sl_schema_free(s);
	sl_buf_free(&gz);
	sl_buf_free(&big);
	sl_buf_free(&expect);
}

/* ---------------------------------------------------------------- batches */

static void test_csv_read_batch_parses_types_and_nulls(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *nulls[] = {"", "NA", NULL};
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.nulls = nulls;
	const char *text = "id,amount,name,day,ok\n"
			   "1,12.50,alice,2024-01-31,true\n"
			   "NA,\"\",\"\",,F\n"
			   "3,NA,\"NA\",NA,NA\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), &o);
	sl_schema *s = make_schema("id:int64;amount:decimal(10,2);name:string;day:date;ok:bool");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	assert_int_equal(sl_csv_read_batch(r, b, NULL, NULL, &err), 3);
	assert_row(b, 0, "1|12.50|alice|2024-01-31|true");
	/* A quoted "" is NULL for non-strings, an empty string for strings. */
	assert_row(b, 1, "NULL|NULL||NULL|false");
	assert_false(sl_column_is_null(&b->cols[2], 1));
	assert_row(b, 2, "3|NULL|NA|NULL|NULL");
	assert_int_equal(b->cols[0].null_count, 1);
	free_mem_reader(r);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_csv_bad_rows_go_to_on_bad_with_line_and_reason(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *text = "id,amount,name\n"
			   "1,1.00,a\n"
			   "2,2.00\n"
			   "3,12.x,\"multi\nline\"\n"
			   "4,4.00,\"bad \xff utf8\"\n"
			   "5,5.00,e\n"
			   "6,6.00,\"open\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	sl_schema *s = make_schema("id:int32;amount:decimal(10,2);name:string");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	sl_buf bad = SL_BUF_INIT;
	assert_int_equal(sl_csv_read_batch(r, b, collect_bad, &bad, &err), 2);
	assert_string_equal(bad.data,
			    "3: line 3: expected 3 fields, found 2 [2,2.00]\n"
			    "4: column \"amount\": '12.x' is not a valid decimal(10,2) "
			    "[3,12.x,\"multi\nline\"]\n"
			    "6: column \"name\": invalid UTF-8 [4,4.00,\"bad \xff utf8\"]\n"
			    "8: unterminated quoted field [6,6.00,\"open]\n");
	assert_int_equal(b->nrows, 2);
	assert_row(b, 0, "1|1.00|a");
	assert_row(b, 1, "5|5.00|e");
	/* No half-appended row stays behind. */
	for (int i = 0; i < b->ncols; i++)
		assert_int_equal(b->cols[i].length, 2);
	assert_int_equal(sl_csv_read_batch(r, b, collect_bad, &bad, &err), 0);
	sl_buf_free(&bad);
	free_mem_reader(r);

	/* Without a callback the first bad row is an error naming path:line. */
	r = mem_reader(text, strlen(text), NULL);
	sl_batch_reset(b);
	assert_int_equal(sl_csv_read_batch(r, b, NULL, NULL, &err), SL_EFORMAT);
	assert_string_equal(err.message, "mem.csv:3: line 3: expected 3 fields, found 2");
	free_mem_reader(r);
	sl_batch_free(b);
	sl_schema_free(s);
}

static int stop_at_first(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	(void)ctx;
	return sl_error_set(err, SL_ELIMIT, "too many bad rows at line %lld",
			    (long long)bad->line);
}

static void test_csv_on_bad_can_stop_reading(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *text = "a\n1\nx\n2\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	sl_schema *s = make_schema("a:int32");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	assert_int_equal(sl_csv_read_batch(r, b, stop_at_first, NULL, &err), SL_ELIMIT);
	assert_string_equal(err.message, "too many bad rows at line 3");
	free_mem_reader(r);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_csv_read_batch_fills_batches_in_turn(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *text = "a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n";
	sl_csv_reader *r = mem_reader(text, strlen(text), NULL);
	sl_schema *s = make_schema("a:int32;b:string");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 2, &err), 0);
	int64_t counts[4];
	for (int i = 0; i < 4; i++) {
		sl_batch_reset(b);
		counts[i] = sl_csv_read_batch(r, b, NULL, NULL, &err);
		if (i == 2)
			assert_row(b, 0, "5|v");
	}
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 2);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[3], 0);

	/* A batch of another width is refused. */
	sl_schema *s3 = make_schema("a:int32;b:string;c:string");
	sl_batch *b3 = NULL;
	assert_int_equal(sl_batch_new(&b3, s3, 2, &err), 0);
	assert_int_equal(sl_csv_read_batch(r, b3, NULL, NULL, &err), SL_EINVAL);
	free_mem_reader(r);
	sl_batch_free(b);
	sl_batch_free(b3);
	sl_schema_free(s);
	sl_schema_free(s3);
}

/* Random short strings from a numeric/temporal alphabet, and real shapes. */
static void random_value(unsigned *seed, char *out, size_t *n)
{
	/* No 'e': sl_decimal_parse overflows int128 on exponents near 40. */
	static const char alpha[] = "0123456789-.:T +x";
	static const char *shapes[] = {"2024-02-29 23:59:59", "2023-02-29 10:00:00",
				       "2024-12-31T00:00:60", "1999-01-01 24:00:00",
				       "-0.00", "99999999.99", "999999999.999", "12.345",
				       "-9223372036854775808", "2147483648", "-2147483648",
				       "000000000000000001", "1.", ".5", "-", "", "1e3"};
	unsigned r = (unsigned)rand_r(seed);
	if (r % 3 == 0) {
		const char *sh = shapes[r / 3 % (sizeof shapes / sizeof shapes[0])];
		*n = strlen(sh);
		memcpy(out, sh, *n);
		return;
	}
	*n = (size_t)(rand_r(seed) % 22);
	for (size_t i = 0; i < *n; i++) {
		unsigned k = (unsigned)rand_r(seed);
		/* Mostly digits, so many strings are valid numbers. */
		out[i] = k % 4 ? (char)('0' + k / 4 % 10) : alpha[k / 4 % (sizeof alpha - 1)];
	}
}

static void test_csv_fast_paths_match_append_text(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = make_schema("a:int32;b:int64;c:decimal(10,2);d:decimal(38,10);"
				   "e:decimal(3,0);f:timestamp;g:date;h:decimal(18,17)");
	sl_batch *fast = NULL, *slow = NULL;
	assert_int_equal(sl_batch_new(&fast, s, 1, &err), 0);
	assert_int_equal(sl_batch_new(&slow, s, 1, &err), 0);
	unsigned seed = 42;
	sl_buf t1 = SL_BUF_INIT, t2 = SL_BUF_INIT;
	int accepted = 0;
	for (int iter = 0; iter < 60000; iter++) {
		char v[32];
		size_t n;
		random_value(&seed, v, &n);
		for (int c = 0; c < s->nfields; c++) {
			sl_error e1 = SL_ERROR_INIT, e2 = SL_ERROR_INIT;
			sl_batch_reset(fast);
			sl_batch_reset(slow);
			int r1 = sl_csv_test_append_field(&fast->cols[c], v, n, &e1);
			int r2 = sl_column_append_text(&slow->cols[c], v, n, &e2);
			if (r1 != r2)
				fail_msg("'%.*s' as column %d: fast %d, general %d", (int)n, v, c, r1, r2);
			assert_string_equal(e1.message, e2.message);
			if (r1 == 0) {
				accepted++;
				t1.len = t2.len = 0;
				sl_column_format_value(&fast->cols[c], 0, &t1);
				sl_column_format_value(&slow->cols[c], 0, &t2);
				assert_string_equal(t1.data ? t1.data : "", t2.data ? t2.data : "");
			}
		}
	}
	assert_true(accepted > 30000);
	sl_buf_free(&t1);
	sl_buf_free(&t2);
	sl_batch_free(fast);
	sl_batch_free(slow);
	sl_schema_free(s);
}

/* -------------------------------------------------------------- inference */

static void assert_schema(const sl_schema *s, const char *expect)
{
	char out[1024] = "", tn[32];
	for (int i = 0; i < s->nfields; i++) {
		size_t n = strlen(out);
		snprintf(out + n, sizeof out - n, "%s%s:%s", i ? "," : "", s->fields[i].name,
			 sl_type_name(s->fields[i].type, tn, sizeof tn));
	}
	assert_string_equal(out, expect);
}

static void test_csv_infer_widens_within_and_across_files(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *f1 = "i32,i64,dec,flt,day,ts,flag,code,word,empty,mixed,neg\n"
			 "1,1,1.5,1.5,2024-01-01,2024-01-01,true,007,abc,,1,-3\n"
			 "2,5000000000,22.25,1e3,2024-02-29,2024-01-01 10:00:00,FALSE,123,x,,2024-01-01,-0.5\n"
			 ",,,,,,,,,\"\",,\n";
	const char *f2 = "i32,i64,dec,flt,day,ts,flag,code,word,empty,mixed,neg\n"
			 "-7,-9,123456.1,nan,2023-12-31,2024-01-01T00:00:00Z,True,8,3,,,12\n";
	write_file(tpath("f1.csv"), f1, strlen(f1));
	write_file(tpath("f2.csv"), f2, strlen(f2));
	const char *paths[] = {tpath("f1.csv"), tpath("f2.csv")};
	sl_schema *s = NULL;
	assert_int_equal(sl_csv_infer_schema(&s, paths, 2, NULL, 1000, &err), 0);
	assert_schema(s, "i32:int32,i64:int64,dec:decimal(8,2),flt:float64,day:date,"
			 "ts:timestamp,flag:bool,code:string,word:string,empty:string,"
			 "mixed:string,neg:decimal(3,1)");
	for (int i = 0; i < s->nfields; i++)
		assert_true(s->fields[i].nullable);

	/* The inferred schema reads the files back without bad rows. */
	sl_csv_reader *r = NULL;
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	for (int f = 0; f < 2; f++) {
		assert_int_equal(sl_csv_reader_open(&r, paths[f], NULL, &err), 0);
		assert_true(sl_csv_read_batch(r, b, NULL, NULL, &err) > 0);
		sl_csv_reader_close(r);
	}
	assert_int_equal(b->nrows, 4);
	assert_row(b, 0, "1|1|1.50|1.5|2024-01-01|2024-01-01 00:00:00|true|007|abc|NULL|1|-3.0");
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_csv_infer_precision_overflow_and_sampling(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *f = "big,huge,wide,late\n"
			"99999999999999999999,1,1.5,1\n"
			"1,123456789012345678901234567890123456789,"
			"12345678901234567890.123456789012345678901,2\n"
			"2,3,4,word\n";
	write_file(tpath("p.csv"), f, strlen(f));
	const char *paths[] = {tpath("p.csv")};
	sl_schema *s = NULL;
	assert_int_equal(sl_csv_infer_schema(&s, paths, 1, NULL, 2, &err), 0);
	/* Only two rows are sampled: "word" is not seen. */
	assert_schema(s, "big:decimal(20,0),huge:float64,wide:float64,late:int32");
	sl_schema_free(s);
	assert_int_equal(sl_csv_infer_schema(&s, paths, 1, NULL, 0, &err), 0);
	assert_schema(s, "big:decimal(20,0),huge:float64,wide:float64,late:string");
	sl_schema_free(s);
}

static void test_csv_infer_empty_header_only_and_mismatch(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file(tpath("e.csv"), "", 0);
	write_file(tpath("h.csv"), "a,b\n", 4);
	write_file(tpath("c.csv"), "a,c\n1,2\n", 8);
	const char *paths[] = {tpath("e.csv"), tpath("h.csv"), tpath("c.csv")};
	sl_schema *s = NULL;
	assert_int_equal(sl_csv_infer_schema(&s, paths, 1, NULL, 100, &err), 0);
	assert_int_equal(s->nfields, 0);
	sl_schema_free(s);
	assert_int_equal(sl_csv_infer_schema(&s, paths, 2, NULL, 100, &err), 0);
	assert_schema(s, "a:string,b:string");
	sl_schema_free(s);
	s = NULL;
	assert_int_equal(sl_csv_infer_schema(&s, paths, 3, NULL, 100, &err), SL_EFORMAT);
	assert_null(s);
	assert_non_null(strstr(err.message, "column 2 is \"c\" but it is \"b\""));
}

/* ------------------------------------------------------------------ writer */

static void test_csv_writer_round_trip(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = make_schema("id:int64;name:string;amount:decimal(12,3);x:float64;"
				   "d:date;ts:timestamp;ok:bool");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 16, &err), 0);
	static const char *names[] = {"plain", "with,comma", "with \"quote\"", "two\nlines",
				      "cr\r\nlf", " lead", "trail ", "", NULL, "ünïcödé"};
	for (int i = 0; i < 10; i++) {
		sl_column_append_i64(&b->cols[0], i);
		if (names[i])
			sl_column_append_str(&b->cols[1], names[i], strlen(names[i]));
		else
			sl_column_append_null(&b->cols[1]);
		if (i == 3)
			sl_column_append_null(&b->cols[2]);
		else
			sl_column_append_dec(&b->cols[2], (sl_i128)(i * 1001 - 3000));
		sl_column_append_f64(&b->cols[3], i * 0.1);
		sl_column_append_i32(&b->cols[4], 19000 + i);
		sl_column_append_i64(&b->cols[5], (int64_t)i * 1234567);
		sl_column_append_bool(&b->cols[6], i % 2);
		sl_batch_end_row(b);
	}
	sl_output *out = NULL;
	sl_csv_writer *w = NULL;
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_csv_writer_open(&w, out, s, NULL, &err), 0);
	assert_int_equal(sl_csv_writer_write(w, b, &err), 0);
	sl_csv_writer_free(w);
	const sl_buf *data = sl_output_mem_data(out);
	assert_true(strncmp(data->data, "id,name,amount,x,d,ts,ok\n0,plain,-3.000,0,", 42) == 0);
	assert_non_null(strstr(data->data, "\n1,\"with,comma\","));
	assert_non_null(strstr(data->data, "\n2,\"with \"\"quote\"\"\","));
	assert_non_null(strstr(data->data, "\n7,\"\",")); /* empty string, not NULL */
	assert_non_null(strstr(data->data, "\n8,,"));     /* NULL */

	sl_csv_reader *r = mem_reader(data->data, data->len, NULL);
	sl_batch *b2 = NULL;
	assert_int_equal(sl_batch_new(&b2, s, 16, &err), 0);
	assert_int_equal(sl_csv_read_batch(r, b2, NULL, NULL, &err), 10);
	sl_buf t1 = SL_BUF_INIT, t2 = SL_BUF_INIT;
	for (int i = 0; i < 10; i++) {
		row_text(b, i, &t1);
		row_text(b2, i, &t2);
		assert_string_equal(t1.data, t2.data);
		assert_int_equal(sl_column_is_null(&b->cols[1], i), sl_column_is_null(&b2->cols[1], i));
	}
	sl_buf_free(&t1);
	sl_buf_free(&t2);
	free_mem_reader(r);
	out->abort(out);
	sl_batch_free(b);
	sl_batch_free(b2);
	sl_schema_free(s);
}

static void test_csv_writer_raw_fields_and_custom_nulls(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *nulls[] = {"\\N", "", NULL};
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.delimiter = ';';
	o.nulls = nulls;
	sl_output *out = NULL;
	sl_csv_writer *w = NULL;
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_csv_writer_open(&w, out, NULL, &o, &err), 0);
	const char *f1[] = {"line", "reason", "raw"};
	const char *f2[] = {"17", NULL, "a;b"};
	const char *f3[] = {"\\N", "", "x,y"};
	assert_int_equal(sl_csv_writer_write_fields(w, f1, 3, &err), 0);
	assert_int_equal(sl_csv_writer_write_fields(w, f2, 3, &err), 0);
	assert_int_equal(sl_csv_writer_write_fields(w, f3, 3, &err), 0);
	sl_csv_writer_free(w);
	assert_string_equal(sl_output_mem_data(out)->data,
			    "line;reason;raw\n17;\\N;\"a;b\"\n\"\\N\";\"\";x,y\n");
	assert_int_equal(out->close(out, &err), 0);

	/* A single column: NULL is a blank line and must come back as NULL. */
	sl_schema *s = make_schema("v:string");
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	sl_column_append_null(&b->cols[0]);
	sl_batch_end_row(b);
	sl_column_append_str(&b->cols[0], "", 0);
	sl_batch_end_row(b);
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_csv_writer_open(&w, out, s, NULL, &err), 0);
	assert_int_equal(sl_csv_writer_write(w, b, &err), 0);
	sl_csv_writer_free(w);
	assert_string_equal(sl_output_mem_data(out)->data, "v\n\n\"\"\n");
	const sl_buf *d = sl_output_mem_data(out);
	sl_csv_reader *r = mem_reader(d->data, d->len, NULL);
	sl_batch_reset(b);
	assert_int_equal(sl_csv_read_batch(r, b, NULL, NULL, &err), 2);
	assert_true(sl_column_is_null(&b->cols[0], 0));
	assert_false(sl_column_is_null(&b->cols[0], 1));
	free_mem_reader(r);
	out->abort(out);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_csv_bad_options_are_refused(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	sl_csv_reader *r = NULL;
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.delimiter = '"';
	assert_int_equal(sl_input_mem_open(&in, "a\n", 2, "x.csv", &err), 0);
	assert_int_equal(sl_csv_reader_open_input(&r, in, &o, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "x.csv"));
	in->close(in);
}

static void test_csv_infer_schema_from_input(void **state)
{
	const char data[] = "id,amount,day,name\n1,2.50,2024-01-02,a\n30000000000,-1.25,2024-02-03,\"b, c\"\n";
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	sl_schema *s = NULL;
	sl_csv_opts opts = SL_CSV_OPTS_INIT;
	char tn[32];
	assert_int_equal(sl_input_mem_open(&in, data, sizeof data - 1, "mem.csv", &err), 0);
	assert_int_equal(sl_csv_infer_schema_input(&s, in, &opts, 100, &err), 0);
	assert_int_equal(s->nfields, 4);
	assert_string_equal(s->fields[0].name, "id");
	assert_string_equal(sl_type_name(s->fields[0].type, tn, sizeof tn), "int64");
	assert_int_equal(s->fields[1].type.id, SL_DECIMAL);
	assert_int_equal(s->fields[1].type.scale, 2);
	assert_int_equal(s->fields[2].type.id, SL_DATE);
	assert_int_equal(s->fields[3].type.id, SL_STRING);
	sl_schema_free(s);
	/* the input stays usable: a reader reads it again from its start */
	sl_csv_reader *r = NULL;
	assert_int_equal(sl_csv_reader_open_input(&r, in, &opts, &err), 0);
	assert_int_equal(sl_csv_reader_ncolumns(r), 4);
	sl_csv_reader_close(r);
	in->close(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quoted_delimiters_quotes_and_newlines),
		cmocka_unit_test(test_csv_crlf_lf_and_final_record_without_line_end),
		cmocka_unit_test(test_csv_bom_is_skipped),
		cmocka_unit_test(test_csv_custom_delimiter_quote_escape),
		cmocka_unit_test(test_csv_no_header_names_columns_and_keeps_first_row),
		cmocka_unit_test(test_csv_header_names_deduplicated_and_filled),
		cmocka_unit_test(test_csv_header_names_unique_ignoring_case),
		cmocka_unit_test(test_csv_many_repeated_header_names),
		cmocka_unit_test(test_csv_column_limit),
		cmocka_unit_test(test_csv_long_column_names),
		cmocka_unit_test(test_csv_big_records_make_short_batches),
		cmocka_unit_test(test_csv_blank_lines_skipped_but_counted),
		cmocka_unit_test(test_csv_empty_file_and_header_only),
		cmocka_unit_test(test_csv_records_cross_read_buffer_boundaries),
		cmocka_unit_test(test_csv_large_file_over_default_buffer),
		cmocka_unit_test(test_csv_record_over_max_record_is_error_then_resumes),
		cmocka_unit_test(test_csv_no_header_bad_first_records_are_bad_rows),
		cmocka_unit_test(test_csv_unterminated_quote_resumes_next_line),
		cmocka_unit_test(test_csv_text_after_closing_quote_is_kept),
		cmocka_unit_test(test_csv_gzip_multi_member_read_transparently),
		cmocka_unit_test(test_csv_zstd_read_transparently),
		cmocka_unit_test(test_csv_truncated_or_misnamed_compressed_file_fails),
		cmocka_unit_test(test_csv_corrupt_gzip_mid_file_ends_reading_not_a_bad_row),
		cmocka_unit_test(test_csv_read_batch_parses_types_and_nulls),
		cmocka_unit_test(test_csv_bad_rows_go_to_on_bad_with_line_and_reason),
		cmocka_unit_test(test_csv_on_bad_can_stop_reading),
		cmocka_unit_test(test_csv_read_batch_fills_batches_in_turn),
		cmocka_unit_test(test_csv_fast_paths_match_append_text),
		cmocka_unit_test(test_csv_infer_widens_within_and_across_files),
		cmocka_unit_test(test_csv_infer_precision_overflow_and_sampling),
		cmocka_unit_test(test_csv_infer_empty_header_only_and_mismatch),
		cmocka_unit_test(test_csv_writer_round_trip),
		cmocka_unit_test(test_csv_writer_raw_fields_and_custom_nulls),
		cmocka_unit_test(test_csv_bad_options_are_refused),
		cmocka_unit_test(test_csv_infer_schema_from_input),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
