/* test_lake_log.c: the Delta commit log of lake tables — versions, txn
 * idempotence, overwrite, schema evolution, conflicts, snapshots, history,
 * vacuum — with hand-made add actions (no Parquet needed). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lake/lake_int.h"

#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
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
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sl-lake-XXXXXX");
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
	sl_lake_set_commit_hook(NULL, NULL);
	sl_lake_close(fx->lake);
	sl_schema_free(fx->schema);
	nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Writes a fake data file of n bytes and describes it as an add. */
static sl_lake_add make_file(fixture *fx, const char *table, const char *name, size_t n,
			     int64_t rows)
{
	sl_error err = SL_ERROR_INIT;
	char rel[256], key[512];
	snprintf(rel, sizeof rel, "data/%s", name);
	snprintf(key, sizeof key, "%s/%s", table, rel);
	char *bytes = calloc(1, n + 1);
	memset(bytes, 'x', n);
	assert_int_equal(sl_store_put(sl_lake_store(fx->lake), key, bytes, n, false, &err), 0);
	free(bytes);
	sl_lake_file_stats *stats = sl_calloc(1, sizeof *stats);
	assert_non_null(stats);
	stats->rows = rows;
	sl_lake_add a = {sl_strdup(rel), n, rows, sl_now_micros() / 1000, stats};
	return a;
}

static void free_adds(sl_lake_add *a, int n)
{
	for (int i = 0; i < n; i++) {
		sl_free(a[i].path);
		sl_lake_file_stats_free(a[i].stats);
	}
}

static int commit(fixture *fx, const char *table, const sl_schema *schema,
		  const sl_lake_write_opts *opts, sl_lake_add *adds, int n,
		  sl_lake_commit_result *res, sl_error *err)
{
	bool written;
	sl_lake_commit_req req = {schema, opts, adds, n};
	return sl_lake_log_commit(fx->lake, table, NULL, &req, res, &written, err);
}

static char *read_log(fixture *fx, const char *table, int64_t v)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/_delta_log/%020lld.json", fx->dir, table,
		 (long long)v);
	sl_buf b = SL_BUF_INIT;
	if (sl_file_read_all(&b, path, 0, NULL) < 0)
		return NULL;
	return sl_buf_detach(&b);
}

static void set_mtime(fixture *fx, const char *rel, int64_t age_sec)
{
	char path[512];
	struct timeval tv[2];
	snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age_sec;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static void test_first_commit_writes_version_zero_with_protocol_and_metadata(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_add adds[2] = {make_file(fx, "raw/shop/orders", "part-00000-a.zstd.parquet", 100, 10),
			       make_file(fx, "raw/shop/orders", "part-00001-a.zstd.parquet", 50, 5)};
	o.run_id = "run-1";
	assert_int_equal(commit(fx, "raw/shop/orders", fx->schema, &o, adds, 2, &res, &err), 0);
	assert_false(res.skipped);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.files, 2);
	assert_int_equal(res.rows, 15);
	assert_int_equal(res.bytes, 150);

	char *log = read_log(fx, "raw/shop/orders", 0);
	assert_non_null(log);
	/* one JSON action per line: commitInfo, protocol, metaData, add, add */
	int lines = 0;
	json_t *acts[8];
	for (char *p = log, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		acts[lines] = json_loadb(p, (size_t)(nl - p), 0, NULL);
		assert_non_null(acts[lines]);
		lines++;
	}
	assert_int_equal(lines, 5);
	json_t *ci = json_object_get(acts[0], "commitInfo");
	assert_string_equal(json_string_value(json_object_get(ci, "operation")), "WRITE");
	assert_string_equal(json_string_value(json_object_get(ci, "run_id")), "run-1");
	assert_string_equal(json_string_value(json_object_get(ci, "engineInfo")), "sluice/0.1.0");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(ci, "operationParameters"), "mode")),
			    "Append");
	json_t *pr = json_object_get(acts[1], "protocol");
	assert_int_equal(json_integer_value(json_object_get(pr, "minReaderVersion")), 1);
	assert_int_equal(json_integer_value(json_object_get(pr, "minWriterVersion")), 2);
	json_t *md = json_object_get(acts[2], "metaData");
	assert_int_equal(strlen(json_string_value(json_object_get(md, "id"))), 36);
	assert_string_equal(json_string_value(json_object_get(json_object_get(md, "format"),
							      "provider")),
			    "parquet");
	assert_string_equal(
		json_string_value(json_object_get(md, "schemaString")),
		"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,"
		"\"metadata\":{}},{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,"
		"\"metadata\":{}}]}");
	assert_int_equal(json_array_size(json_object_get(md, "partitionColumns")), 0);
	assert_true(json_is_integer(json_object_get(md, "createdTime")));
	json_t *add = json_object_get(acts[3], "add");
	assert_string_equal(json_string_value(json_object_get(add, "path")),
			    "data/part-00000-a.zstd.parquet");
	assert_int_equal(json_integer_value(json_object_get(add, "size")), 100);
	assert_true(json_is_true(json_object_get(add, "dataChange")));
	assert_string_equal(json_string_value(json_object_get(add, "stats")), "{\"numRecords\":10}");
	assert_true(json_is_object(json_object_get(add, "partitionValues")));
	for (int i = 0; i < lines; i++)
		json_decref(acts[i]);
	free(log);

	/* the next append is version 1, with neither protocol nor metaData */
	sl_lake_add more = make_file(fx, "raw/shop/orders", "part-00000-b.zstd.parquet", 10, 1);
	assert_int_equal(commit(fx, "raw/shop/orders", fx->schema, &o, &more, 1, &res, &err), 0);
	assert_int_equal(res.version, 1);
	log = read_log(fx, "raw/shop/orders", 1);
	assert_null(strstr(log, "\"metaData\""));
	assert_null(strstr(log, "\"protocol\""));
	assert_non_null(strstr(log, "\"readVersion\":0"));
	free(log);
	free_adds(adds, 2);
	free_adds(&more, 1);
}

static void test_snapshot_replays_adds_and_removes_in_order(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_add a[3];
	char name[64];
	for (int v = 0; v < 3; v++) {
		snprintf(name, sizeof name, "part-00000-v%d.zstd.parquet", v);
		a[v] = make_file(fx, "t", name, (size_t)(10 * (v + 1)), v + 1);
		assert_int_equal(commit(fx, "t", fx->schema, &o, &a[v], 1, &res, &err), 0);
		assert_int_equal(res.version, v);
	}
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->version, 2);
	assert_string_equal(s->table, "t");
	assert_int_equal(s->nfiles, 3);
	assert_string_equal(s->files[0].path, "data/part-00000-v0.zstd.parquet");
	assert_string_equal(s->files[2].path, "data/part-00000-v2.zstd.parquet");
	assert_int_equal(s->files[2].version, 2);
	assert_int_equal(s->files[1].rows, 2);
	assert_int_equal(s->files[1].size, 20);
	assert_int_equal(s->rows, 6);
	assert_int_equal(s->bytes, 60);
	assert_int_equal(s->schema->nfields, 2);
	assert_string_equal(s->schema->fields[0].name, "id");
	assert_int_equal(s->schema->fields[0].type.id, SL_INT64);
	assert_false(s->schema->fields[0].nullable);
	sl_lake_snapshot_free(s);

	/* time travel to version 1 */
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", 1, &err), 0);
	assert_int_equal(s->version, 1);
	assert_int_equal(s->nfiles, 2);
	assert_int_equal(s->rows, 3);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", 7, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "has no version 7 (latest is 2)"));
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "nope", -1, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "lake table nope does not exist"));
	assert_null(s);
	free_adds(a, 3);
}

static void test_txn_already_committed_is_skipped(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	int64_t tv;
	sl_lake_add a = make_file(fx, "t", "part-0.parquet", 5, 1);
	o.app_id = "shop_files.customers";
	o.txn_version = 5;
	assert_int_equal(sl_lake_txn_version(fx->lake, "t", o.app_id, &tv, &err), 0);
	assert_int_equal(tv, -1);
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a, 1, &res, &err), 0);
	assert_false(res.skipped);
	assert_int_equal(res.version, 0);
	assert_int_equal(sl_lake_txn_version(fx->lake, "t", o.app_id, &tv, &err), 0);
	assert_int_equal(tv, 5);

	/* the same run again: nothing written */
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a, 1, &res, &err), 0);
	assert_true(res.skipped);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.files, 0);
	assert_null(read_log(fx, "t", 1));
	/* another app is independent; a newer run commits */
	o.app_id = "other";
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(res.version, 1);
	o.app_id = "shop_files.customers";
	o.txn_version = 6;
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(res.version, 2);
	assert_int_equal(sl_lake_txn_version(fx->lake, "t", o.app_id, &tv, &err), 0);
	assert_int_equal(tv, 6);
	/* an overlapping run that started earlier (seq 4) but commits later is
	 * not mistaken for one already committed: its rows land */
	o.txn_version = 4;
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_false(res.skipped);
	assert_int_equal(res.version, 3);
	assert_int_equal(sl_lake_txn_version(fx->lake, "t", o.app_id, &tv, &err), 0);
	assert_int_equal(tv, 6);
	/* and each of them, retried, is skipped */
	for (int64_t v = 4; v <= 6; v += 2) {
		o.txn_version = v;
		assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
		assert_true(res.skipped);
	}
	char *log = read_log(fx, "t", 2);
	assert_non_null(strstr(log, "{\"txn\":{\"appId\":\"shop_files.customers\",\"version\":6,"
				    "\"lastUpdated\":"));
	free(log);
	free_adds(&a, 1);
}

static void test_overwrite_removes_every_live_file(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_history *h;
	sl_lake_add a[3] = {make_file(fx, "t", "p0.parquet", 10, 1), make_file(fx, "t", "p1.parquet", 10, 2),
			    make_file(fx, "t", "p2.parquet", 10, 4)};
	assert_int_equal(commit(fx, "t", fx->schema, &o, a, 2, &res, &err), 0);
	o.mode = SL_LAKE_OVERWRITE;
	o.operation = "REPLACE";
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a[2], 1, &res, &err), 0);
	assert_int_equal(res.version, 1);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 1);
	assert_string_equal(s->files[0].path, "data/p2.parquet");
	assert_int_equal(s->rows, 4);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, -1, &err), 0);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->commits[1].operation, "REPLACE");
	assert_int_equal(h->commits[1].nremoved, 2);
	assert_string_equal(h->commits[1].removed[0], "data/p0.parquet");
	assert_string_equal(h->commits[1].removed[1], "data/p1.parquet");
	sl_lake_history_free(h);
	char *log = read_log(fx, "t", 1);
	assert_non_null(strstr(log, "\"mode\":\"Overwrite\""));
	assert_non_null(strstr(log, "{\"remove\":{\"path\":\"data/p0.parquet\",\"deletionTimestamp\":"));
	free(log);
	/* overwrite with nothing empties the table */
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 0);
	assert_int_equal(s->rows, 0);
	assert_int_equal(s->version, 2);
	sl_lake_snapshot_free(s);
	free_adds(a, 3);
}

static void test_new_nullable_column_writes_new_metadata(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_history *h;
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	char *log0 = read_log(fx, "t", 0);
	json_t *md0 = NULL;
	for (char *p = log0, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		json_t *a = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (json_object_get(a, "metaData"))
			md0 = json_incref(json_object_get(a, "metaData"));
		json_decref(a);
	}

	sl_schema *s2 = sl_schema_copy(fx->schema);
	sl_schema_add(s2, "amount", sl_type_decimal(10, 2), false);
	assert_int_equal(commit(fx, "t", s2, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(res.version, 1);
	char *log1 = read_log(fx, "t", 1);
	assert_non_null(strstr(log1, "\"metaData\""));
	/* the added column is nullable: older files have no value for it */
	assert_non_null(strstr(log1, "{\\\"name\\\":\\\"amount\\\",\\\"type\\\":\\\"decimal(10,2)\\\","
				     "\\\"nullable\\\":true"));
	/* same table id and creation time */
	assert_non_null(strstr(log1, json_string_value(json_object_get(md0, "id"))));

	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->schema->nfields, 3);
	assert_string_equal(s->schema->fields[2].name, "amount");
	assert_int_equal(s->schema->fields[2].type.id, SL_DECIMAL);
	assert_int_equal(s->schema->fields[2].type.precision, 10);
	assert_int_equal(s->schema->fields[2].type.scale, 2);
	assert_true(s->schema->fields[2].nullable);
	sl_lake_snapshot_free(s);

	/* the same schema again: no metaData */
	assert_int_equal(commit(fx, "t", s2, &o, NULL, 0, &res, &err), 0);
	char *log2 = read_log(fx, "t", 2);
	assert_null(strstr(log2, "\"metaData\""));
	/* data without a nullable column is fine too */
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(res.version, 3);
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, -1, &err), 0);
	assert_true(h->commits[0].schema_changed);
	assert_true(h->commits[1].schema_changed);
	assert_false(h->commits[2].schema_changed);
	assert_false(h->commits[3].schema_changed);
	sl_lake_history_free(h);

	/* a changed type is refused and names the column */
	sl_schema *bad = sl_schema_new();
	sl_schema_add(bad, "id", sl_type_make(SL_STRING), false);
	sl_schema_add(bad, "name", sl_type_make(SL_STRING), true);
	assert_int_equal(commit(fx, "t", bad, &o, NULL, 0, &res, &err), SL_EINVAL);
	assert_string_equal(err.message,
			    "lake table t: column 'id' is int64 in the table but string in the "
			    "new data; cast it, or write to a new table");
	/* a missing NOT NULL column is refused */
	sl_schema *missing = sl_schema_new();
	sl_schema_add(missing, "name", sl_type_make(SL_STRING), true);
	assert_int_equal(commit(fx, "t", missing, &o, NULL, 0, &res, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "column 'id' is NOT NULL in the table but missing"));
	assert_null(read_log(fx, "t", 4));
	sl_schema_free(bad);
	sl_schema_free(missing);
	sl_schema_free(s2);
	json_decref(md0);
	free(log0);
	free(log1);
	free(log2);
}

typedef struct {
	fixture *fx;
	int calls;
	const char *app_id; /* the interloper's txn */
} hook_ctx;

/* Before our first put, another writer commits the same version. */
static void interloper(void *arg)
{
	hook_ctx *h = arg;
	if (h->calls++ > 0)
		return;
	sl_lake_set_commit_hook(NULL, NULL);
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_add a = make_file(h->fx, "t", "other.parquet", 7, 3);
	o.app_id = h->app_id;
	o.txn_version = 1;
	o.run_id = "other-run";
	assert_int_equal(commit(h->fx, "t", h->fx->schema, &o, &a, 1, &res, &err), 0);
	free_adds(&a, 1);
	sl_lake_set_commit_hook(interloper, h);
}

static void test_conflicting_commit_retries_at_next_version(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_history *h;
	sl_lake_add a0 = make_file(fx, "t", "first.parquet", 1, 1);
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a0, 1, &res, &err), 0);

	hook_ctx ctx = {fx, 0, "someone-else"};
	sl_lake_set_commit_hook(interloper, &ctx);
	sl_lake_add a = make_file(fx, "t", "mine.parquet", 11, 5);
	o.run_id = "my-run";
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a, 1, &res, &err), 0);
	sl_lake_set_commit_hook(NULL, NULL);
	assert_int_equal(ctx.calls, 2); /* tried version 1, then 2 */
	assert_false(res.skipped);
	assert_int_equal(res.version, 2);

	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 3);
	assert_string_equal(s->files[1].path, "data/other.parquet");
	assert_string_equal(s->files[2].path, "data/mine.parquet");
	assert_int_equal(s->rows, 9);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", 0, -1, &err), 0);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->commits[0].run_id, "other-run");
	assert_string_equal(h->commits[1].run_id, "my-run");
	assert_int_equal(h->commits[1].version, 2);
	sl_lake_history_free(h);
	free_adds(&a0, 1);
	free_adds(&a, 1);
}

static void test_conflict_with_same_txn_is_skipped_after_retry(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);
	/* a duplicate of our run (same app, same txn version) wins the race */
	hook_ctx ctx = {fx, 0, "app"};
	sl_lake_set_commit_hook(interloper, &ctx);
	o.app_id = "app";
	o.txn_version = 1;
	sl_lake_add a = make_file(fx, "t", "dup.parquet", 3, 1);
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a, 1, &res, &err), 0);
	sl_lake_set_commit_hook(NULL, NULL);
	assert_true(res.skipped);
	assert_int_equal(res.version, 1);
	assert_null(read_log(fx, "t", 2));
	free_adds(&a, 1);
}

typedef struct {
	fixture *fx;
	int id;
	int failures;
} worker;

static void *commit_many(void *arg)
{
	worker *wk = arg;
	for (int i = 0; i < 5; i++) {
		sl_error err = SL_ERROR_INIT;
		sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
		sl_lake_commit_result res;
		char name[64];
		snprintf(name, sizeof name, "w%d-%d.parquet", wk->id, i);
		sl_lake_add a = make_file(wk->fx, "t", name, 10, 1);
		if (commit(wk->fx, "t", wk->fx->schema, &o, &a, 1, &res, &err) < 0)
			wk->failures++;
		free_adds(&a, 1);
	}
	return NULL;
}

static void test_concurrent_writers_lose_no_commit(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	enum { N = 4 };
	pthread_t th[N];
	worker wk[N];
	for (int i = 0; i < N; i++) {
		wk[i] = (worker){fx, i, 0};
		pthread_create(&th[i], NULL, commit_many, &wk[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wk[i].failures, 0);
	}
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->version, N * 5 - 1);
	assert_int_equal(s->nfiles, N * 5);
	assert_int_equal(s->rows, N * 5);
	sl_lake_snapshot_free(s);
	/* exactly one version 0 with protocol and metaData */
	char *log = read_log(fx, "t", 0);
	assert_non_null(strstr(log, "\"protocol\""));
	free(log);
	for (int v = 1; v < N * 5; v++) {
		log = read_log(fx, "t", v);
		assert_null(strstr(log, "\"protocol\""));
		free(log);
	}
}

static void test_history_reports_each_commit(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_history *h;
	int64_t before = sl_now_micros();
	sl_lake_add a[2] = {make_file(fx, "t", "a.parquet", 100, 10), make_file(fx, "t", "b.parquet", 200, 20)};
	o.run_id = "r1";
	o.app_id = "src.t";
	o.txn_version = 1;
	o.extra_info_json = "{\"source\":\"shop_files\",\"rows_read\":31}";
	assert_int_equal(commit(fx, "t", fx->schema, &o, a, 2, &res, &err), 0);
	o.run_id = NULL;
	o.app_id = NULL;
	o.extra_info_json = NULL;
	o.operation = "VACUUM-TEST";
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), 0);

	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, -1, &err), 0);
	assert_int_equal(h->n, 2);
	sl_lake_commit *c = &h->commits[0];
	assert_int_equal(c->version, 0);
	assert_true(c->timestamp_micros >= before / 1000 * 1000);
	assert_true(c->timestamp_micros <= sl_now_micros());
	assert_string_equal(c->operation, "WRITE");
	assert_string_equal(c->run_id, "r1");
	assert_string_equal(c->app_id, "src.t");
	assert_int_equal(c->txn_version, 1);
	assert_int_equal(c->nadded, 2);
	assert_string_equal(c->added[1].path, "data/b.parquet");
	assert_int_equal(c->added[1].rows, 20);
	assert_int_equal(c->rows_added, 30);
	assert_int_equal(c->bytes_added, 300);
	assert_int_equal(c->nremoved, 0);
	c = &h->commits[1];
	assert_string_equal(c->operation, "VACUUM-TEST");
	assert_null(c->run_id);
	assert_null(c->app_id);
	assert_int_equal(c->txn_version, -1);
	assert_int_equal(c->nadded, 0);
	sl_lake_history_free(h);
	/* (after, upto] */
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", 0, -1, &err), 0);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->commits[0].version, 1);
	sl_lake_history_free(h);
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, 0, &err), 0);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->commits[0].version, 0);
	sl_lake_history_free(h);
	/* the whole commitInfo, extras included, for callers that recover from it */
	assert_int_equal(sl_lake_history_open(&h, fx->lake, "t", -1, 0, &err), 0);
	json_t *ci = json_loads(h->commits[0].commit_info_json, 0, NULL);
	assert_non_null(ci);
	assert_string_equal(json_string_value(json_object_get(ci, "source")), "shop_files");
	assert_int_equal(json_integer_value(json_object_get(ci, "rows_read")), 31);
	assert_string_equal(json_string_value(json_object_get(ci, "run_id")), "r1");
	json_decref(ci);
	sl_lake_history_free(h);
	/* extra commitInfo fields are merged in */
	char *log = read_log(fx, "t", 0);
	assert_non_null(strstr(log, "\"source\":\"shop_files\",\"rows_read\":31"));
	free(log);
	o.extra_info_json = "[1]";
	assert_int_equal(commit(fx, "t", fx->schema, &o, NULL, 0, &res, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "extra commit info is not a JSON object"));
	free_adds(a, 2);
}

static void test_crash_before_commit_leaves_previous_version_and_vacuum_cleans(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	sl_lake_vacuum_result vr;
	sl_lake_add live = make_file(fx, "t", "live.parquet", 10, 1);
	assert_int_equal(commit(fx, "t", fx->schema, &o, &live, 1, &res, &err), 0);
	/* a run wrote two files and died before its commit */
	sl_lake_add orphans[2] = {make_file(fx, "t", "orphan-0.parquet", 30, 3),
				  make_file(fx, "t", "orphan-1.parquet", 40, 4)};
	/* ...and one more half-written file, still a temp file */
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s/t/data/orphan-2.parquet.tmp-deadbeef", fx->dir);
	FILE *f = fopen(tmp, "w");
	fputs("partial", f);
	fclose(f);

	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->version, 0);
	assert_int_equal(s->nfiles, 1);
	assert_int_equal(s->rows, 1);
	sl_lake_snapshot_free(s);

	/* young leftovers are kept: a write may still be in flight */
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 3600 * SL_MICROS_PER_SEC, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 0);
	set_mtime(fx, "t/data/orphan-0.parquet", 7200);
	set_mtime(fx, "t/data/orphan-2.parquet.tmp-deadbeef", 7200);
	set_mtime(fx, "t/data/live.parquet", 7200);
	/* dry run counts only */
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 3600 * SL_MICROS_PER_SEC, true, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 2);
	assert_int_equal(vr.bytes_removed, 37);
	assert_true(sl_path_exists(tmp));
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 3600 * SL_MICROS_PER_SEC, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 2);
	assert_false(sl_path_exists(tmp));
	char p[512];
	snprintf(p, sizeof p, "%s/t/data/orphan-0.parquet", fx->dir);
	assert_false(sl_path_exists(p));
	snprintf(p, sizeof p, "%s/t/data/orphan-1.parquet", fx->dir);
	assert_true(sl_path_exists(p));
	snprintf(p, sizeof p, "%s/t/data/live.parquet", fx->dir);
	assert_true(sl_path_exists(p));
	/* retain 0 takes the young orphan too, never the log or live files */
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 0, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 1);
	assert_int_equal(vr.bytes_removed, 40);
	assert_true(sl_path_exists(p));
	snprintf(p, sizeof p, "%s/t/_delta_log/00000000000000000000.json", fx->dir);
	assert_true(sl_path_exists(p));
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "t", -1, &err), 0);
	assert_int_equal(s->nfiles, 1);
	sl_lake_snapshot_free(s);
	free_adds(&live, 1);
	free_adds(orphans, 2);
}

static void test_vacuum_keeps_overwritten_files_for_the_retention(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_vacuum_result vr;
	sl_lake_add a[2] = {make_file(fx, "t", "old.parquet", 10, 1), make_file(fx, "t", "new.parquet", 20, 2)};
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a[0], 1, &res, &err), 0);
	o.mode = SL_LAKE_OVERWRITE;
	assert_int_equal(commit(fx, "t", fx->schema, &o, &a[1], 1, &res, &err), 0);
	/* written long ago, but removed just now: readers of version 0 keep it */
	set_mtime(fx, "t/data/old.parquet", 86400);
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 3600 * SL_MICROS_PER_SEC, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 0);
	assert_int_equal(sl_lake_vacuum(fx->lake, "t", 0, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 1);
	assert_int_equal(vr.bytes_removed, 10);
	char p[512];
	snprintf(p, sizeof p, "%s/t/data/old.parquet", fx->dir);
	assert_false(sl_path_exists(p));
	snprintf(p, sizeof p, "%s/t/data/new.parquet", fx->dir);
	assert_true(sl_path_exists(p));
	assert_int_equal(sl_lake_vacuum(fx->lake, "missing", 0, false, &vr, &err), SL_ENOTFOUND);
	free_adds(a, 2);
}

static void test_empty_commit_creates_table(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	sl_lake_snapshot *s;
	o.app_id = "a";
	o.txn_version = 1;
	assert_int_equal(commit(fx, "raw/x/empty", fx->schema, &o, NULL, 0, &res, &err), 0);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.files, 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "raw/x/empty", -1, &err), 0);
	assert_int_equal(s->version, 0);
	assert_int_equal(s->nfiles, 0);
	assert_int_equal(s->schema->nfields, 2);
	sl_lake_snapshot_free(s);
}

static void test_list_tables_finds_logs_sorted(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_write_opts o = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_result res;
	char **names;
	int n;
	assert_int_equal(sl_lake_list_tables(fx->lake, &names, &n, &err), 0);
	assert_int_equal(n, 0);
	sl_lake_names_free(names, n);
	const char *tables[] = {"raw/shop/orders", "raw/shop/customers", "raw/api/rates"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(commit(fx, tables[i], fx->schema, &o, NULL, 0, &res, &err), 0);
		assert_int_equal(commit(fx, tables[i], fx->schema, &o, NULL, 0, &res, &err), 0);
	}
	sl_lake_add a = make_file(fx, "raw/nolog", "x.parquet", 1, 1); /* no log: not a table */
	assert_int_equal(sl_lake_list_tables(fx->lake, &names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "raw/api/rates");
	assert_string_equal(names[1], "raw/shop/customers");
	assert_string_equal(names[2], "raw/shop/orders");
	sl_lake_names_free(names, n);
	free_adds(&a, 1);
}

static void test_bad_table_names_are_refused(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	const char *bad[] = {"", "/abs", "a/../b", "a//b", "t/", "t/_delta_log", ".."};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, bad[i], -1, &err), SL_EINVAL);
		assert_non_null(strstr(err.message, "table name"));
	}
}

static void test_unsupported_protocol_is_refused(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	const char *v0 =
		"{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7}}\n"
		"{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
		"\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\",\"partitionColumns\":[]}}\n";
	assert_int_equal(sl_store_put(sl_lake_store(fx->lake), "dv/_delta_log/00000000000000000000.json",
				      v0, strlen(v0), true, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "dv", -1, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "needs Delta reader version 3"));
	/* a gap in the log is reported, not skipped */
	const char *ok = "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n";
	assert_int_equal(sl_store_put(sl_lake_store(fx->lake), "gap/_delta_log/00000000000000000001.json",
				      ok, strlen(ok), true, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "gap", -1, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "log version 0 is missing"));
	/* a corrupt line names the file and line */
	const char *junk = "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{oops\n";
	assert_int_equal(sl_store_put(sl_lake_store(fx->lake), "junk/_delta_log/00000000000000000000.json",
				      junk, strlen(junk), true, &err), 0);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "junk", -1, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "junk/_delta_log/00000000000000000000.json:2: not a JSON action"));
}

static void test_schema_json_round_trips_every_type(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new(), *back;
	sl_schema_add(s, "b", sl_type_make(SL_BOOL), true);
	sl_schema_add(s, "i", sl_type_make(SL_INT32), false);
	sl_schema_add(s, "l", sl_type_make(SL_INT64), true);
	sl_schema_add(s, "d", sl_type_make(SL_FLOAT64), true);
	sl_schema_add(s, "m", sl_type_decimal(38, 9), true);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "dt", sl_type_make(SL_DATE), true);
	sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true);
	char *j = sl_lake_schema_to_json(s);
	assert_non_null(strstr(j, "\"type\":\"boolean\""));
	assert_non_null(strstr(j, "\"type\":\"integer\",\"nullable\":false"));
	assert_non_null(strstr(j, "\"type\":\"decimal(38,9)\""));
	assert_non_null(strstr(j, "\"type\":\"timestamp\""));
	assert_int_equal(sl_lake_schema_from_json(&back, j, &err), 0);
	assert_true(sl_schema_equal(s, back));
	sl_schema_free(back);
	sl_free(j);
	assert_int_equal(sl_lake_schema_from_json(&back,
						  "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\","
						  "\"type\":{\"type\":\"array\"},\"nullable\":true}]}",
						  &err),
			 SL_EFORMAT);
	assert_non_null(strstr(err.message, "column 'a' has a type sluice does not read (nested)"));
	sl_schema_free(s);
}

static void test_replay_of_many_files_with_removes_and_readds(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	sl_buf v = SL_BUF_INIT;
	sl_store *st = sl_lake_store(fx->lake);
	sl_buf_puts(&v, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
			"{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},"
			"\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
			"\"partitionColumns\":[]}}\n");
	for (int i = 0; i < 300; i++)
		sl_buf_printf(&v, "{\"add\":{\"path\":\"f%03d\",\"size\":%d,\"dataChange\":true,"
			      "\"stats\":\"{\\\"numRecords\\\":1}\"}}\n", i, i);
	assert_int_equal(sl_store_put(st, "m/_delta_log/00000000000000000000.json", v.data, v.len,
				      true, &err), 0);
	v.len = 0;
	for (int i = 1; i < 300; i += 2)
		sl_buf_printf(&v, "{\"remove\":{\"path\":\"f%03d\",\"dataChange\":true}}\n", i);
	sl_buf_puts(&v, "{\"remove\":{\"path\":\"never-added\"}}\n");
	assert_int_equal(sl_store_put(st, "m/_delta_log/00000000000000000001.json", v.data, v.len,
				      true, &err), 0);
	v.len = 0;
	/* f001 comes back; f000 is re-added with new stats (replaces, keeps its place) */
	sl_buf_puts(&v, "{\"add\":{\"path\":\"f001\",\"size\":1,\"dataChange\":true}}\n"
			"{\"add\":{\"path\":\"f000\",\"size\":0,\"dataChange\":false,"
			"\"stats\":\"{\\\"numRecords\\\":5}\"}}\n");
	assert_int_equal(sl_store_put(st, "m/_delta_log/00000000000000000002.json", v.data, v.len,
				      true, &err), 0);
	sl_buf_free(&v);

	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "m", 1, &err), 0);
	assert_int_equal(s->nfiles, 150);
	for (int i = 0; i < 150; i++) {
		char want[8];
		snprintf(want, sizeof want, "f%03d", 2 * i);
		assert_string_equal(s->files[i].path, want);
	}
	assert_int_equal(s->rows, 150);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "m", -1, &err), 0);
	assert_int_equal(s->nfiles, 151);
	assert_string_equal(s->files[0].path, "f000");
	assert_int_equal(s->files[0].size, 0);
	assert_int_equal(s->files[0].rows, 5);
	assert_int_equal(s->files[0].version, 0); /* live since version 0 */
	assert_string_equal(s->files[150].path, "f001");
	assert_int_equal(s->files[150].version, 2);
	assert_int_equal(s->rows, 149 + 5 + 0);
	sl_lake_snapshot_free(s);
}

/* Writes version v of table t from action lines. */
static void put_log(fixture *fx, const char *t, int64_t v, const char *text)
{
	char key[256];
	sl_error err = SL_ERROR_INIT;
	snprintf(key, sizeof key, "%s/_delta_log/%020lld.json", t, (long long)v);
	assert_int_equal(sl_store_put(sl_lake_store(fx->lake), key, text, strlen(text), true, &err),
			 0);
}

#define LOG_HEAD                                                                         \
	"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"                 \
	"{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},"               \
	"\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","           \
	"\"partitionColumns\":[]}}\n"
#define ADD(p, size, rows)                                                               \
	"{\"add\":{\"path\":\"" p "\",\"size\":" #size ",\"dataChange\":true,"             \
	"\"stats\":\"{\\\"numRecords\\\":" #rows "}\"}}\n"

/* Delta's reconciliation: a path is one logical file, the newest action
 * wins; a duplicated add, in one version or across versions, leaves the
 * file live once, counted once, live since its first add. */
static void test_duplicated_add_is_one_live_file(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s;
	put_log(fx, "d", 0, LOG_HEAD ADD("a", 10, 3) ADD("a", 10, 3) ADD("b", 20, 4));
	put_log(fx, "d", 1, ADD("b", 20, 4) ADD("c", 30, 5));
	put_log(fx, "d", 2, "{\"remove\":{\"path\":\"c\",\"dataChange\":true}}\n" ADD("c", 30, 5)
				    ADD("a", 10, 3));
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "d", 0, &err), 0);
	assert_int_equal(s->nfiles, 2);
	assert_int_equal(s->rows, 7);
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "d", 1, &err), 0);
	assert_int_equal(s->nfiles, 3);
	assert_int_equal(s->rows, 12);
	assert_int_equal(s->bytes, 60);
	assert_string_equal(s->files[1].path, "b");
	assert_int_equal(s->files[1].version, 0);
	sl_lake_snapshot_free(s);
	/* c removed and added again in one version: live; a re-added once more. */
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "d", -1, &err), 0);
	assert_int_equal(s->nfiles, 3);
	assert_int_equal(s->rows, 12);
	assert_string_equal(s->files[0].path, "a");
	assert_int_equal(s->files[0].version, 0);
	assert_string_equal(s->files[2].path, "c");
	assert_int_equal(s->files[2].version, 2);
	sl_lake_snapshot_free(s);
}

/* One file spelled three ways ("data/x", "./data/x", "data/%78") is one
 * live file; a path that climbs out of the table is a corrupt log. */
static void test_spellings_of_one_path_are_one_file(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s = NULL;
	put_log(fx, "p", 0, LOG_HEAD ADD("data/x", 10, 3) ADD("./data/x", 10, 3));
	put_log(fx, "p", 1, ADD("data/%78", 10, 3) ADD("data//y%20z", 20, 4));
	put_log(fx, "p", 2, "{\"remove\":{\"path\":\"./data/y z\",\"dataChange\":true}}\n");
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "p", 1, &err), 0);
	assert_int_equal(s->nfiles, 2);
	assert_int_equal(s->rows, 7);
	assert_string_equal(s->files[1].path, "data/y%20z");
	sl_lake_snapshot_free(s);
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "p", -1, &err), 0);
	assert_int_equal(s->nfiles, 1);
	assert_int_equal(s->rows, 3);
	sl_lake_snapshot_free(s);
	s = NULL;
	put_log(fx, "q", 0, LOG_HEAD ADD("data/../../other/f", 10, 3));
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "q", -1, &err), SL_EFORMAT);
	assert_null(s);
	assert_string_equal(err.message, "lake table q: version 0 adds \"data/../../other/f\", "
					 "which is not a path inside the table");
}

/* Vacuum finds a live file by its name in the store, whatever spelling of
 * it the log used: "data/a%20b" in the log is the file "data/a b". */
static void test_vacuum_keeps_live_files_the_log_spells_encoded(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_vacuum_result vr;
	sl_store *st = sl_lake_store(fx->lake);
	put_log(fx, "v", 0, LOG_HEAD ADD("data/a%20b.parquet", 4, 1) ADD("./data/c.parquet", 4, 1));
	assert_int_equal(sl_store_put(st, "v/data/a b.parquet", "PAR1", 4, false, &err), 0);
	assert_int_equal(sl_store_put(st, "v/data/c.parquet", "PAR1", 4, false, &err), 0);
	assert_int_equal(sl_store_put(st, "v/data/orphan.parquet", "PAR1", 4, false, &err), 0);
	assert_int_equal(sl_lake_vacuum(fx->lake, "v", 0, false, &vr, &err), 0);
	assert_int_equal(vr.files_removed, 1);
	sl_store_entry e;
	assert_int_equal(sl_store_stat(st, "v/data/a b.parquet", &e, &err), 0);
	assert_int_equal(sl_store_stat(st, "v/data/c.parquet", &e, &err), 0);
	assert_int_equal(sl_store_stat(st, "v/data/orphan.parquet", &e, &err), SL_ENOTFOUND);
}

/* Data files never change: a live path added again with another size is
 * a corrupt log, refused with the table, version and path. */
static void test_readd_with_another_size_is_a_corrupt_log(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s = NULL;
	put_log(fx, "z", 0, LOG_HEAD ADD("data/p1", 10, 3));
	put_log(fx, "z", 1, ADD("data/p1", 11, 3));
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "z", 0, &err), 0);
	sl_lake_snapshot_free(s);
	s = NULL;
	assert_int_equal(sl_lake_snapshot_open(&s, fx->lake, "z", -1, &err), SL_EFORMAT);
	assert_null(s);
	assert_string_equal(err.message,
			    "lake table z: version 1 adds data/p1 with 11 bytes, but that file is "
			    "already in the table with 10 bytes (added at version 0); a data file "
			    "never changes, so the log is corrupt");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static void test_path_decode_turns_percent_escapes_into_bytes(void **state)
{
	(void)state;
	char *d = sl_lake_path_decode("data/day%3D2024-01-01/a%20b%2fc%zz%4.parquet%");
	assert_string_equal(d, "data/day=2024-01-01/a b/c%zz%4.parquet%");
	sl_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_first_commit_writes_version_zero_with_protocol_and_metadata),
		T(test_snapshot_replays_adds_and_removes_in_order),
		T(test_txn_already_committed_is_skipped),
		T(test_overwrite_removes_every_live_file),
		T(test_new_nullable_column_writes_new_metadata),
		T(test_conflicting_commit_retries_at_next_version),
		T(test_conflict_with_same_txn_is_skipped_after_retry),
		T(test_concurrent_writers_lose_no_commit),
		T(test_history_reports_each_commit),
		T(test_crash_before_commit_leaves_previous_version_and_vacuum_cleans),
		T(test_vacuum_keeps_overwritten_files_for_the_retention),
		T(test_empty_commit_creates_table),
		T(test_replay_of_many_files_with_removes_and_readds),
		T(test_duplicated_add_is_one_live_file),
		T(test_readd_with_another_size_is_a_corrupt_log),
		T(test_spellings_of_one_path_are_one_file),
		T(test_vacuum_keeps_live_files_the_log_spells_encoded),
		T(test_list_tables_finds_logs_sorted),
		T(test_bad_table_names_are_refused),
		T(test_unsupported_protocol_is_refused),
		cmocka_unit_test(test_schema_json_round_trips_every_type),
		cmocka_unit_test(test_path_decode_turns_percent_escapes_into_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
