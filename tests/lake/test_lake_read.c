/* test_lake_read.c: reading tables through the lake handle's replayed log —
 * each log version read once per handle (counted), changes since a version
 * and the reasons to rebuild, commits newest first with their sluice
 * object, and typed file statistics rendered to and parsed from Delta's
 * stats JSON. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lake/lake_int.h"
#include "../lib/unit_tmp.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sl_schema *two_cols(void)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "name", sl_type_make(SL_STRING), true);
	return s;
}

/* Commits n rows (ids first..) to table; mode and extra commitInfo given. */
static int64_t put_rows(sl_lake *lake, const char *table, int64_t first, int64_t n,
			sl_lake_mode mode, const char *extra)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = two_cols();
	sl_lake_writer *w = NULL;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	o.mode = mode;
	o.extra_info_json = extra;
	assert_int_equal(sl_lake_writer_open(&w, lake, table, s, &o, &err), 0);
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, n, &err), 0);
	for (int64_t i = first; i < first + n; i++) {
		char name[32];
		snprintf(name, sizeof name, "n%lld", (long long)i);
		sl_column_append_i64(&b->cols[0], i);
		assert_int_equal(sl_column_append_str(&b->cols[1], name, strlen(name)), 0);
		sl_batch_end_row(b);
	}
	assert_int_equal(sl_lake_writer_write(w, b, &err), 0);
	sl_lake_commit_result r;
	assert_int_equal(sl_lake_writer_commit(w, &r, &err), 0);
	sl_batch_free(b);
	sl_schema_free(s);
	return r.version;
}

static sl_lake *open_lake(void)
{
	sl_error err = SL_ERROR_INIT;
	sl_lake *lake = NULL;
	assert_int_equal(sl_lake_open(&lake, tmp, &err), 0);
	return lake;
}

/* A handle reads each version once: a second snapshot, a writer, its
 * commit, changes and the history of the latest versions read nothing. */
static void test_each_log_version_is_read_once_per_handle(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_lake *writer = open_lake();
	for (int i = 0; i < 3; i++)
		put_rows(writer, "raw/s/t", i * 10, 10, SL_LAKE_APPEND, NULL);
	/* the writing handle applied its own commits: it read none */
	assert_int_equal(sl_lake_log_reads(writer), 0);
	sl_lake_close(writer);

	sl_lake *lake = open_lake();
	sl_lake_snapshot *s = NULL;
	assert_int_equal(sl_lake_snapshot_open(&s, lake, "raw/s/t", -1, &err), 0);
	assert_int_equal(s->version, 2);
	assert_int_equal(s->rows, 30);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_log_reads(lake), 3);

	assert_int_equal(sl_lake_snapshot_open(&s, lake, "raw/s/t", -1, &err), 0);
	sl_lake_snapshot_free(s);
	assert_int_equal(put_rows(lake, "raw/s/t", 30, 5, SL_LAKE_APPEND, NULL), 3);
	sl_lake_changes *ch = NULL;
	assert_int_equal(sl_lake_changes_open(&ch, lake, "raw/s/t", 2, NULL, &err), 0);
	assert_int_equal(ch->nfiles, 1);
	assert_int_equal(ch->rows, 5);
	sl_lake_changes_free(ch);
	sl_lake_history *h = NULL;
	assert_int_equal(sl_lake_history_open(&h, lake, "raw/s/t", 0, -1, &err), 0);
	assert_int_equal(h->n, 3);
	assert_int_equal(h->commits[0].version, 1);
	assert_int_equal(h->commits[2].version, 3);
	sl_lake_history_free(h);
	int64_t tv = 0;
	assert_int_equal(sl_lake_txn_version(lake, "raw/s/t", "none", &tv, &err), 0);
	assert_int_equal(tv, -1);
	assert_int_equal(sl_lake_log_reads(lake), 3);

	/* another writer's commit: only that version is read */
	sl_lake *other = open_lake();
	put_rows(other, "raw/s/t", 35, 1, SL_LAKE_APPEND, NULL);
	assert_int_equal(sl_lake_snapshot_open(&s, lake, "raw/s/t", -1, &err), 0);
	assert_int_equal(s->version, 4);
	assert_int_equal(s->rows, 36);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_log_reads(lake), 4);
	sl_lake_close(other);
	sl_lake_close(lake);
}

/* Appends since a version are the files to add; an overwrite since then
 * asks for a rebuild from every live file and lists what it removed. */
static void test_changes_since_a_version(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_lake *lake = open_lake();
	put_rows(lake, "t", 0, 3, SL_LAKE_APPEND, NULL);
	put_rows(lake, "t", 3, 2, SL_LAKE_APPEND, NULL);
	sl_lake_changes *ch = NULL;

	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", -1, NULL, &err), 0);
	assert_false(ch->rebuild);
	assert_int_equal(ch->nfiles, 2);
	assert_int_equal(ch->rows, 5);
	const char *id = NULL;
	char idbuf[64];
	snprintf(idbuf, sizeof idbuf, "%s", ch->snapshot->table_id);
	id = idbuf;
	sl_lake_changes_free(ch);

	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 0, id, &err), 0);
	assert_false(ch->rebuild);
	assert_int_equal(ch->nfiles, 1);
	assert_int_equal(ch->files[0]->version, 1);
	assert_int_equal(ch->rows, 2);
	assert_int_equal(ch->nremoved, 0);
	sl_lake_changes_free(ch);

	/* nothing new */
	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 1, id, &err), 0);
	assert_false(ch->rebuild);
	assert_int_equal(ch->nfiles, 0);
	sl_lake_changes_free(ch);

	/* a replace: rebuild, every live file, the removed ones listed */
	put_rows(lake, "t", 100, 4, SL_LAKE_OVERWRITE, NULL);
	put_rows(lake, "t", 104, 1, SL_LAKE_APPEND, NULL);
	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 1, id, &err), 0);
	assert_true(ch->rebuild);
	assert_true(ch->overwritten);
	assert_int_equal(ch->overwritten_at, 2);
	assert_false(ch->recreated);
	assert_false(ch->history_gone);
	assert_int_equal(ch->nfiles, 2);
	assert_int_equal(ch->rows, 5);
	assert_int_equal(ch->nremoved, 2);
	sl_lake_changes_free(ch);
	/* after the replace, appends are plain changes again */
	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 2, id, &err), 0);
	assert_false(ch->rebuild);
	assert_int_equal(ch->nfiles, 1);
	assert_int_equal(ch->rows, 1);
	sl_lake_changes_free(ch);

	/* another table id: recreated; a version past the end: history gone */
	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 3, "another-id", &err), 0);
	assert_true(ch->recreated);
	assert_true(ch->rebuild);
	assert_int_equal(ch->nfiles, 2);
	sl_lake_changes_free(ch);
	assert_int_equal(sl_lake_changes_open(&ch, lake, "t", 9, id, &err), 0);
	assert_true(ch->history_gone);
	assert_true(ch->rebuild);
	sl_lake_changes_free(ch);

	assert_int_equal(sl_lake_changes_open(&ch, lake, "nope", -1, NULL, &err), SL_ENOTFOUND);
	assert_null(ch);
	sl_lake_close(lake);
}

/* A full refresh of an empty table removes nothing but still replaces the
 * content: it is an Overwrite commit, which changes report. */
static void test_overwrite_without_files_still_asks_for_a_rebuild(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_lake *lake = open_lake();
	sl_schema *s = two_cols();
	sl_lake_writer *w = NULL;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	assert_int_equal(sl_lake_writer_open(&w, lake, "e", s, &o, &err), 0);
	assert_int_equal(sl_lake_writer_commit(w, NULL, &err), 0); /* empty v0 */
	o.mode = SL_LAKE_OVERWRITE;
	o.operation = "FULL_REFRESH";
	assert_int_equal(sl_lake_writer_open(&w, lake, "e", s, &o, &err), 0);
	assert_int_equal(sl_lake_writer_commit(w, NULL, &err), 0); /* empty v1 */
	sl_lake_changes *ch = NULL;
	assert_int_equal(sl_lake_changes_open(&ch, lake, "e", 0, NULL, &err), 0);
	assert_true(ch->overwritten);
	assert_int_equal(ch->nremoved, 0);
	sl_lake_changes_free(ch);
	sl_schema_free(s);
	sl_lake_close(lake);
}

typedef struct {
	int seen;
	int64_t first_version;
	char progress[128];
} recover_ctx;

/* Stops at the newest commit that carries progress. */
static int newest_progress(void *arg, const sl_lake_commit *c, sl_error *err)
{
	(void)err;
	recover_ctx *r = arg;
	r->seen++;
	if (!c->sluice_json)
		return 0;
	json_t *o = json_loads(c->sluice_json, 0, NULL);
	json_t *p = json_object_get(o, "progress");
	if (p) {
		char *t = json_dumps(p, JSON_COMPACT);
		snprintf(r->progress, sizeof r->progress, "%s", t);
		free(t);
		r->first_version = c->version;
	}
	json_decref(o);
	return p ? 1 : 0;
}

/* Commits newest first carry their commitInfo's sluice object; the walk
 * stops where the caller says and reads no older version. */
static void test_commits_newest_first_stop_early(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_lake *w = open_lake();
	for (int i = 0; i < SL_LAKE_RECENT + 4; i++) {
		char extra[96];
		snprintf(extra, sizeof extra, "{\"sluice\":{\"progress\":{\"n\":%d}}}", i);
		put_rows(w, "p", i, 1, SL_LAKE_APPEND, i % 3 == 0 ? extra : "{\"sluice\":{}}");
	}
	sl_lake_close(w);
	int64_t latest = SL_LAKE_RECENT + 3; /* 19: progress at 18 (18 % 3 == 0) */

	sl_lake *lake = open_lake();
	recover_ctx r = {0};
	assert_int_equal(sl_lake_commits_newest_first(lake, "p", -1, newest_progress, &r, &err), 0);
	assert_int_equal(r.seen, 2);
	assert_int_equal(r.first_version, 18);
	assert_string_equal(r.progress, "{\"n\":18}");
	/* the replay read every version once; the walk came from the cache */
	assert_int_equal(sl_lake_log_reads(lake), latest + 1);

	/* older than the cache holds: read on demand, newest first */
	int count = 0;
	recover_ctx all = {0};
	assert_int_equal(sl_lake_commits_newest_first(lake, "p", 0, newest_progress, &all, &err), 0);
	(void)count;
	assert_int_equal(all.seen, 2);
	sl_lake_history *h = NULL;
	assert_int_equal(sl_lake_history_open(&h, lake, "p", -1, -1, &err), 0);
	assert_int_equal(h->n, latest + 1);
	for (int i = 0; i < h->n; i++)
		assert_int_equal(h->commits[i].version, i);
	assert_non_null(strstr(h->commits[3].sluice_json, "\"n\":3"));
	sl_lake_history_free(h);
	/* versions 0..3 are older than the cache's recent commits */
	assert_int_equal(sl_lake_log_reads(lake), latest + 1 + 4);
	sl_lake_close(lake);
}

/* Typed statistics render Delta's stats JSON and parse back to the same
 * typed values; a decimal bound keeps every digit. */
static void test_typed_stats_round_trip(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "amount", sl_type_decimal(38, 2), true);
	sl_schema_add(s, "at", sl_type_make(SL_TIMESTAMP), true);
	sl_schema_add(s, "name", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "x", sl_type_make(SL_FLOAT64), true);
	const char *json = "{\"numRecords\":7,"
			   "\"minValues\":{\"id\":-3,\"amount\":-123456789012345678901234567.25,"
			   "\"at\":\"2024-01-31T10:00:00.000001Z\",\"name\":\"a\\\"b\",\"x\":0.1},"
			   "\"maxValues\":{\"id\":9,\"amount\":99.5,"
			   "\"at\":\"2024-02-01T00:00:00.000000Z\",\"name\":\"zz\",\"x\":2.5},"
			   "\"nullCount\":{\"id\":0,\"amount\":1,\"at\":0,\"name\":2,\"x\":0}}";
	sl_lake_file_stats *st = NULL;
	assert_int_equal(sl_lake_stats_from_json(&st, s, json, &err), 0);
	assert_int_equal(st->rows, 7);
	assert_int_equal(st->bounds->cols[0].v.i64[0], -3);
	assert_int_equal(st->bounds->cols[0].v.i64[1], 9);
	/* a 27-digit decimal does not fit a double: unknown, never rounded */
	assert_true(sl_column_is_null(&st->bounds->cols[1], 0));
	assert_true(sl_column_is_null(&st->bounds->cols[1], 1));
	assert_int_equal(st->bounds->cols[2].v.i64[0], INT64_C(1706695200000001));
	size_t n;
	const char *v = sl_column_str(&st->bounds->cols[3], 0, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "a\"b", 3);
	assert_int_equal(st->null_counts[1], 1);
	assert_int_equal(st->null_counts[3], 2);
	char *text = sl_lake_stats_to_json(st);
	assert_string_equal(text,
			    "{\"numRecords\":7,"
			    "\"minValues\":{\"id\":-3,\"at\":\"2024-01-31T10:00:00.000001Z\","
			    "\"name\":\"a\\\"b\",\"x\":0.1},"
			    "\"maxValues\":{\"id\":9,\"at\":\"2024-02-01T00:00:00.000000Z\","
			    "\"name\":\"zz\",\"x\":2.5},"
			    "\"nullCount\":{\"id\":0,\"amount\":1,\"at\":0,\"name\":2,\"x\":0}}");
	sl_free(text);
	sl_lake_file_stats_free(st);

	/* a written file's statistics land typed, then as the same JSON */
	sl_lake *lake = open_lake();
	put_rows(lake, "st", 5, 3, SL_LAKE_APPEND, NULL);
	char path[512];
	snprintf(path, sizeof path, "%s/st/_delta_log/%020d.json", tmp, 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[4096];
	bool found = false;
	while (fgets(line, sizeof line, f)) {
		json_t *a = json_loads(line, 0, NULL);
		json_t *add = json_object_get(a, "add");
		if (add) {
			assert_string_equal(json_string_value(json_object_get(add, "stats")),
					    "{\"numRecords\":3,\"minValues\":{\"id\":5,\"name\":\"n5\"},"
					    "\"maxValues\":{\"id\":7,\"name\":\"n7\"},"
					    "\"nullCount\":{\"id\":0,\"name\":0}}");
			found = true;
		}
		json_decref(a);
	}
	fclose(f);
	assert_true(found);
	sl_lake_close(lake);
	sl_schema_free(s);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A table deleted and written again under a handle that replayed it: the
 * handle notices the log is not the one it applied, and replays it. */
static void test_a_table_written_anew_is_replayed_again(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_lake *lake = open_lake();
	put_rows(lake, "raw/s/r", 0, 3, SL_LAKE_APPEND, NULL);
	put_rows(lake, "raw/s/r", 3, 3, SL_LAKE_APPEND, NULL);
	sl_lake_snapshot *s = NULL;
	assert_int_equal(sl_lake_snapshot_open(&s, lake, "raw/s/r", -1, &err), 0);
	char old_id[64];
	snprintf(old_id, sizeof old_id, "%s", s->table_id);
	sl_lake_snapshot_free(s);

	char dir[512];
	snprintf(dir, sizeof dir, "%s/raw/s/r", tmp);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	sl_lake *other = open_lake();
	put_rows(other, "raw/s/r", 100, 12, SL_LAKE_APPEND, NULL);
	put_rows(other, "raw/s/r", 200, 1, SL_LAKE_APPEND, NULL);
	sl_lake_close(other);

	assert_int_equal(sl_lake_snapshot_open(&s, lake, "raw/s/r", -1, &err), 0);
	assert_int_equal(s->version, 1);
	assert_int_equal(s->rows, 13);
	assert_string_not_equal(s->table_id, old_id);
	sl_lake_snapshot_free(s);
	sl_lake_changes *ch = NULL;
	assert_int_equal(sl_lake_changes_open(&ch, lake, "raw/s/r", 1, old_id, &err), 0);
	assert_true(ch->recreated);
	assert_int_equal(ch->rows, 13);
	sl_lake_changes_free(ch);
	sl_lake_close(lake);
}

typedef struct {
	sl_lake *lake;
	char table[32];
	int commits;
	int failures;
} worker;

/* Writes its own table and reads a shared one, through one handle. */
static void *work(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < w->commits; i++) {
		sl_error err = SL_ERROR_INIT;
		put_rows(w->lake, w->table, i * 2, 2, SL_LAKE_APPEND, NULL);
		sl_lake_snapshot *s = NULL;
		if (sl_lake_snapshot_open(&s, w->lake, "shared", -1, &err) < 0 || s->rows != 4)
			w->failures++;
		sl_lake_snapshot_free(s);
		sl_lake_changes *ch = NULL;
		if (sl_lake_changes_open(&ch, w->lake, w->table, i - 1, NULL, &err) < 0 ||
		    ch->nfiles != 1 || ch->rows != 2)
			w->failures++;
		sl_lake_changes_free(ch);
	}
	return NULL;
}

/* Tasks of a run share its lake handle from several threads. */
static void test_one_handle_serves_threads(void **state)
{
	(void)state;
	sl_lake *lake = open_lake();
	put_rows(lake, "shared", 0, 4, SL_LAKE_APPEND, NULL);
	worker w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){.lake = lake, .commits = 5};
		snprintf(w[i].table, sizeof w[i].table, "raw/s/t%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* every table was written by this handle: nothing was read */
	assert_int_equal(sl_lake_log_reads(lake), 0);
	sl_lake_close(lake);
}

int main(void)
{
	sl_log_set_level(SL_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_log_version_is_read_once_per_handle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changes_since_a_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overwrite_without_files_still_asks_for_a_rebuild,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_commits_newest_first_stop_early, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_typed_stats_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_table_written_anew_is_replayed_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_handle_serves_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
