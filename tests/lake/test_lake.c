/* test_lake.c: writing lake tables with real Parquet data files — file
 * naming and rolling, statistics in add actions, reading committed files
 * back, txn skips, overwrite, schema evolution, abort and crashed writes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lake/lake_int.h"

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char dir[64];
	sl_lake *lake;
	sl_schema *schema;
} fixture;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);
	sl_error err = SL_ERROR_INIT;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sl-lakedata-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(sl_lake_open(&fx->lake, fx->dir, &err), 0);
	fx->schema = sl_schema_new();
	sl_schema_add(fx->schema, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(fx->schema, "name", sl_type_make(SL_STRING), true);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	sl_lake_close(fx->lake);
	sl_schema_free(fx->schema);
	nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Rows first..first+n-1: id = i, name = "n<i>", NULL every 10th row. */
static sl_batch *make_batch(const sl_schema *schema, int64_t first, int64_t n)
{
	sl_error err = SL_ERROR_INIT;
	sl_batch *b;
	assert_int_equal(sl_batch_new(&b, schema, n, &err), 0);
	for (int64_t i = first; i < first + n; i++) {
		char name[32];
		sl_column_append_i64(&b->cols[0], i);
		if (i % 10 == 0) {
			sl_column_append_null(&b->cols[1]);
		} else {
			snprintf(name, sizeof name, "n%lld", (long long)i);
			assert_int_equal(sl_column_append_str(&b->cols[1], name, strlen(name)), 0);
		}
		for (int c = 2; c < b->ncols; c++)
			sl_column_append_null(&b->cols[c]);
		sl_batch_end_row(b);
	}
	return b;
}

static void write_rows(sl_lake_writer *w, const sl_schema *schema, int64_t first, int64_t n)
{
	sl_error err = SL_ERROR_INIT;
	sl_batch *b = make_batch(schema, first, n);
	assert_int_equal(sl_lake_writer_write(w, b, &err), 0);
	sl_batch_free(b);
}

static int count_files(fixture *fx, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Sums ids and counts rows (and NULL names) of every live file of table. */
static void read_table(fixture *fx, const char *table, int64_t *rows, int64_t *id_sum,
		       int64_t *null_names)
{
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	*rows = *id_sum = *null_names = 0;
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, table, -1, &err), 0);
	for (int f = 0; f < s->nfiles; f++) {
		sl_parquet_reader *r;
		sl_batch *b;
		int rc = sl_lake_file_open(&r, fx->lake, table, &s->files[f], &err);
		if (rc < 0)
			fail_msg("%s", err.message);
		assert_int_equal(sl_parquet_reader_num_rows(r), s->files[f].rows);
		while ((rc = sl_parquet_reader_next(r, &b, 0, &err)) == 1) {
			for (int64_t i = 0; i < b->nrows; i++) {
				*id_sum += b->cols[0].v.i64[i];
				*null_names += sl_column_is_null(&b->cols[1], i);
			}
			*rows += b->nrows;
			sl_batch_free(b);
		}
		assert_int_equal(rc, 0);
		sl_parquet_reader_close(r);
	}
	sl_lake_snapshot_free(s);
}

static void test_writer_commit_makes_rows_readable(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	o.run_id = "run-7";
	o.extra_info_json = "{\"early\":1}";
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "raw/shop/orders", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 1000);
	write_rows(w, fx->schema, 1001, 500);
	/* facts known only at the end replace the extras */
	assert_int_equal(sl_lake_writer_set_extra_info(w, "[]", &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "extra commit info is not a JSON object"));
	assert_int_equal(sl_lake_writer_set_extra_info(w, "{\"sluice\":{\"progress\":{\"f\":2}}}", &err), 0);
	assert_int_equal(sl_lake_writer_rows(w), 1500);
	assert_true(sl_lake_writer_bytes(w) > 0);
	/* nothing visible before the commit */
	assert_int_equal(count_files(fx, "raw/shop/orders/_delta_log"), 0);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_false(res.skipped);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.files, 1);
	assert_int_equal(res.rows, 1500);
	assert_true(res.bytes > 100);

	int64_t rows, sum, nulls;
	read_table(fx, "raw/shop/orders", &rows, &sum, &nulls);
	assert_int_equal(rows, 1500);
	assert_int_equal(sum, 1500 * 1501 / 2);
	assert_int_equal(nulls, 150);

	sl_lake_history *h;
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "raw/shop/orders", -1, -1, &err), 0);
	assert_non_null(strstr(h->commits[0].commit_info_json, "\"sluice\":{\"progress\":{\"f\":2}}"));
	assert_null(strstr(h->commits[0].commit_info_json, "early"));
	assert_string_equal(h->commits[0].run_id, "run-7");
	sl_lake_history_free(h);

	sl_lake_snapshot *s;
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "raw/shop/orders", -1, &err), 0);
	assert_int_equal(s->bytes, res.bytes);
	/* the size in the log is the size on disk */
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/raw/shop/orders/%s", fx->dir, s->files[0].path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, s->files[0].size);
	sl_lake_snapshot_free(s);
}

static void test_data_files_are_named_part_index_uuid_codec(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	regex_t re;
	o.target_file_bytes = 1; /* a new file after every batch */
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	for (int i = 0; i < 3; i++)
		write_rows(w, fx->schema, i * 100, 100);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_int_equal(res.files, 3);
	assert_int_equal(regcomp(&re,
				 "^data/part-0000[0-2]-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
				 "[0-9a-f]{12}\\.zstd\\.parquet$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 3);
	for (int i = 0; i < 3; i++) {
		char want[32];
		snprintf(want, sizeof want, "data/part-%05d-", i);
		assert_int_equal(regexec(&re, s->files[i].path, 0, NULL, 0), 0);
		assert_true(sl_str_starts_with(s->files[i].path, want));
		assert_int_equal(s->files[i].rows, 100);
	}
	/* one writer's files share its uuid; the next writer uses another */
	assert_memory_equal(s->files[0].path + 16, s->files[2].path + 16, 36);
	char first_uuid[37];
	memcpy(first_uuid, s->files[0].path + 16, 36);
	first_uuid[36] = '\0';
	sl_lake_snapshot_free(s);
	regfree(&re);

	o.target_file_bytes = 0; /* default */
	o.parquet.codec = SL_CODEC_SNAPPY;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 0, 10);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	o.parquet.codec = SL_CODEC_UNCOMPRESSED;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 0, 10);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 5);
	assert_true(sl_str_ends_with(s->files[3].path, ".snappy.parquet"));
	assert_null(strstr(s->files[3].path, first_uuid));
	assert_false(sl_str_ends_with(s->files[4].path, ".zstd.parquet"));
	assert_true(sl_str_ends_with(s->files[4].path, ".parquet"));
	assert_int_equal(strlen(s->files[4].path), strlen("data/part-00000-") + 36 + strlen(".parquet"));
	sl_lake_snapshot_free(s);
	int64_t rows, sum, nulls;
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 320);
}

static void test_add_carries_file_statistics(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 5, 20); /* ids 5..24; names NULL at 10 and 20 */
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	sl_buf log = SL_BUF_INIT;
	char path[512];
	snprintf(path, sizeof path, "%s/t/_delta_log/00000000000000000000.json", fx->dir);
	assert_int_equal(sl_file_read_all(&log, path, 0, &err), 0);
	json_t *stats = NULL;
	for (char *p = log.data, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		json_t *a = json_loadb(p, (size_t)(nl - p), 0, NULL);
		json_t *add = json_object_get(a, "add");
		if (add)
			stats = json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
		json_decref(a);
	}
	assert_non_null(stats);
	assert_int_equal(json_integer_value(json_object_get(stats, "numRecords")), 20);
	json_t *mn = json_object_get(stats, "minValues"), *mx = json_object_get(stats, "maxValues");
	json_t *nc = json_object_get(stats, "nullCount");
	assert_int_equal(json_integer_value(json_object_get(mn, "id")), 5);
	assert_int_equal(json_integer_value(json_object_get(mx, "id")), 24);
	assert_string_equal(json_string_value(json_object_get(mn, "name")), "n11");
	assert_string_equal(json_string_value(json_object_get(mx, "name")), "n9");
	assert_int_equal(json_integer_value(json_object_get(nc, "id")), 0);
	assert_int_equal(json_integer_value(json_object_get(nc, "name")), 2);
	json_decref(stats);
	sl_buf_free(&log);
}

static void test_abort_leaves_no_file_and_no_version(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_snapshot *s;
	o.target_file_bytes = 1;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 0, 50);
	write_rows(w, fx->schema, 50, 50);
	assert_int_equal(count_files(fx, "t/data"), 2);
	sl_lake_writer_abort(w);
	assert_int_equal(count_files(fx, "t/data"), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), SL_ENOTFOUND);
	/* a file still being written is aborted too */
	o.target_file_bytes = 0;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 0, 50);
	sl_lake_writer_abort(w);
	assert_int_equal(count_files(fx, "t/data"), 0);
	sl_lake_writer_abort(NULL);
}

static void test_crashed_write_stays_invisible_until_vacuumed(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w, *crashed;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_vacuum_result vr;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 10);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	/* the next run writes finished files and a half-written one, then "dies" */
	o.target_file_bytes = 1;
	assert_int_equal(sl_lake_writer_open(&crashed, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(crashed, fx->schema, 100, 10);
	write_rows(crashed, fx->schema, 200, 10);
	assert_int_equal(count_files(fx, "t/data"), 3);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->version, 0);
	assert_int_equal(s->nfiles, 1);
	assert_int_equal(s->rows, 10);
	sl_lake_snapshot_free(s);
	int64_t rows, sum, nulls;
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 10);
	assert_int_equal(sum, 55);
	/* vacuum with the default retention keeps them (the run may be alive) */
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 3600 * SL_MICROS_PER_SEC, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 0);
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 0, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 2);
	assert_int_equal(count_files(fx, "t/data"), 1);
	sl_lake_writer_abort(crashed); /* frees memory; its files are gone already */
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 10);
}

static void test_rerun_of_committed_txn_is_skipped_and_cleans_up(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	o.app_id = "shop_files.orders";
	o.txn_version = 3;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 10);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_false(res.skipped);
	/* the rerun writes the same rows again, then finds its txn committed */
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 10);
	assert_int_equal(count_files(fx, "t/data"), 2);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_true(res.skipped);
	assert_int_equal(res.version, 0);
	assert_int_equal(count_files(fx, "t/data"), 1);
	assert_int_equal(count_files(fx, "t/_delta_log"), 1);
	int64_t rows, sum, nulls;
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 10);
}

static void test_overwrite_replaces_rows(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
		write_rows(w, fx->schema, 1, 10);
		assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	}
	o.mode = SL_LAKE_OVERWRITE;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 3);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_int_equal(res.version, 2);
	int64_t rows, sum, nulls;
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 3);
	assert_int_equal(sum, 6);
	/* old files stay on disk for readers of older versions until vacuum */
	assert_int_equal(count_files(fx, "t/data"), 3);
}

static void test_new_column_evolves_schema_and_type_change_fails_early(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	write_rows(w, fx->schema, 1, 5);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	sl_schema *wide = sl_schema_copy(fx->schema);
	sl_schema_add(wide, "score", sl_type_make(SL_FLOAT64), true);
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", wide, &o, &err), 0);
	write_rows(w, wide, 6, 5);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->schema->nfields, 3);
	assert_string_equal(s->schema->fields[2].name, "score");
	assert_int_equal(s->rows, 10);
	sl_lake_snapshot_free(s);
	int64_t rows, sum, nulls;
	read_table(fx, "t", &rows, &sum, &nulls);
	assert_int_equal(rows, 10);
	assert_int_equal(sum, 55);

	sl_schema *bad = sl_schema_new();
	sl_schema_add(bad, "id", sl_type_make(SL_INT32), false);
	w = (sl_lake_writer *)1;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", bad, &o, &err), SL_EINVAL);
	assert_null(w);
	assert_non_null(strstr(err.message, "column 'id' is int64 in the table but int32"));
	sl_schema_free(bad);
	sl_schema_free(wide);
}

static void test_empty_input_still_commits_a_version(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_writer *w;
	sl_lake_commit_result res;
	sl_lake_history *h;
	sl_batch *empty;
	o.run_id = "empty-run";
	o.app_id = "a";
	o.txn_version = 1;
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", fx->schema, &o, &err), 0);
	assert_int_equal(sl_batch_new(&empty, fx->schema, 16, &err), 0);
	assert_int_equal(sl_lake_writer_write(w, empty, &err), 0);
	sl_batch_free(empty);
	assert_int_equal(sl_lake_writer_rows(w), 0);
	assert_int_equal(sl_lake_writer_commit(w, &res, &err), 0);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.files, 0);
	assert_int_equal(res.rows, 0);
	assert_int_equal(count_files(fx, "t/data"), 0);
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, -1, &err), 0);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->commits[0].run_id, "empty-run");
	assert_int_equal(h->commits[0].txn_version, 1);
	sl_lake_history_free(h);
}

static void test_writer_open_refuses_bad_input(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_writer *w;
	sl_schema *none = sl_schema_new();
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "t", none, NULL, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "at least one column"));
	assert_int_equal(sl_lake_writer_open(&w, fx->lake, "../t", fx->schema, NULL, &err),
			 SL_EINVAL);
	sl_schema_free(none);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_writer_commit_makes_rows_readable),
		T(test_data_files_are_named_part_index_uuid_codec),
		T(test_add_carries_file_statistics),
		T(test_abort_leaves_no_file_and_no_version),
		T(test_crashed_write_stays_invisible_until_vacuumed),
		T(test_rerun_of_committed_txn_is_skipped_and_cleans_up),
		T(test_overwrite_replaces_rows),
		T(test_new_column_evolves_schema_and_type_change_fails_early),
		T(test_empty_input_still_commits_a_version),
		T(test_writer_open_refuses_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
