/* test_lake_lock.c: lake commits on a store that ignores put-if-absent (as
 * s3rver or an old MinIO ignore If-None-Match), with and without the commit
 * lock: concurrent committers lose a version without it and never with it
 * (the lock taken from a shared state.db, one handle per thread). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lake/lake_int.h"
#include "state/state.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static sl_schema *schema;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sl-lakelock-XXXXXX");
	assert_non_null(mkdtemp(dir));
	schema = sl_schema_new();
	sl_schema_add(schema, "id", sl_type_make(SL_INT64), false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_lake_set_commit_hook(NULL, NULL);
	sl_schema_free(schema);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ------------------------------------------- a store that ignores if_absent */

typedef struct {
	sl_store base;
	sl_store *in;
} blind_store;

static int b_put(sl_store *s, const char *key, const void *data, size_t n, bool if_absent,
		 sl_error *err)
{
	(void)if_absent; /* ignored, like If-None-Match on s3rver: last writer wins */
	blind_store *b = (blind_store *)s;
	return sl_store_put(b->in, key, data, n, false, err);
}
static int b_open_output(sl_store *s, const char *key, sl_output **out, sl_error *err)
{
	return sl_store_open_output(((blind_store *)s)->in, key, out, err);
}
static int b_open_input(sl_store *s, const char *key, sl_input **out, sl_error *err)
{
	return sl_store_open_input(((blind_store *)s)->in, key, out, err);
}
static int b_get(sl_store *s, const char *key, sl_buf *out, sl_error *err)
{
	return sl_store_get(((blind_store *)s)->in, key, out, err);
}
static int b_list(sl_store *s, const char *prefix, sl_store_entry **out, size_t *n,
		  sl_error *err)
{
	return sl_store_list(((blind_store *)s)->in, prefix, out, n, err);
}
static int b_del(sl_store *s, const char *key, sl_error *err)
{
	return sl_store_delete(((blind_store *)s)->in, key, err);
}
static int b_stat(sl_store *s, const char *key, sl_store_entry *out, sl_error *err)
{
	return sl_store_stat(((blind_store *)s)->in, key, out, err);
}
static void b_free(sl_store *s)
{
	blind_store *b = (blind_store *)s;
	sl_store_free(b->in);
	free(b);
}

static const sl_store_ops blind_ops = {
	.put = b_put, .open_output = b_open_output, .open_input = b_open_input,
	.get = b_get, .list = b_list, .del = b_del, .stat = b_stat, .free = b_free,
};

/* A lake on dir whose store ignores put-if-absent. */
static sl_lake *open_blind_lake(void)
{
	sl_lake *lake = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_lake_open(&lake, dir, &err), 0);
	blind_store *b = calloc(1, sizeof *b);
	assert_non_null(b);
	b->base.ops = &blind_ops;
	snprintf(b->base.url, sizeof b->base.url, "%s", lake->store->url);
	b->in = lake->store;
	lake->store = &b->base;
	return lake;
}

/* ------------------------------------------------------------ committers */

static pthread_barrier_t barrier;
static __thread int hook_calls;

/* Before its first put, each committer waits for the other: both have read
 * the log and both aim at the same version. */
static void meet_before_first_put(void *arg)
{
	(void)arg;
	if (hook_calls++ == 0)
		pthread_barrier_wait(&barrier);
}

typedef struct {
	sl_lake *lake;
	sl_state *state; /* NULL: no commit lock */
	int id;
	int commits;
	int64_t versions[64];
	int rc;
	char message[1024];
} committer;

static int state_lock(void *ctx, const char *table, sl_error *err)
{
	committer *c = ctx;
	char name[300];
	snprintf(name, sizeof name, "lake-commit:%s", table);
	return sl_state_lock(c->state, name, 30000, err);
}

static void state_unlock(void *ctx, const char *table)
{
	committer *c = ctx;
	char name[300];
	snprintf(name, sizeof name, "lake-commit:%s", table);
	sl_state_unlock(c->state, name);
}

static void *commit_thread(void *arg)
{
	committer *c = arg;
	hook_calls = 0;
	for (int i = 0; i < c->commits && c->rc == 0; i++) {
		sl_error err = SL_ERROR_INIT;
		char path[64];
		bool written;
		snprintf(path, sizeof path, "data/w%d-%03d.parquet", c->id, i);
		sl_lake_file_stats stats = {.rows = 1};
		sl_lake_add add = {path, 100, 1, sl_now_micros() / 1000, &stats};
		sl_lake_write_opts opts = SL_LAKE_WRITE_OPTS_INIT;
		sl_lake_commit_req req = {schema, &opts, &add, 1};
		sl_lake_commit_result res;
		c->rc = sl_lake_log_commit(c->lake, "raw/s/t", NULL, &req, &res, &written, &err);
		if (c->rc < 0)
			snprintf(c->message, sizeof c->message, "%s", err.message);
		else
			c->versions[i] = res.version;
	}
	return NULL;
}

/* Runs two committers of n commits each at once; with_lock gives each its
 * own state.db handle for the commit lock. */
static void run_two(committer c[2], int n, bool with_lock, bool meet)
{
	pthread_t th[2];
	sl_error err = SL_ERROR_INIT;
	if (meet) {
		pthread_barrier_init(&barrier, NULL, 2);
		sl_lake_set_commit_hook(meet_before_first_put, NULL);
	}
	for (int i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].lake = open_blind_lake();
		c[i].id = i;
		c[i].commits = n;
		if (with_lock) {
			assert_int_equal(sl_state_open(&c[i].state, dir, &err), 0);
			sl_lake_set_commit_lock(c[i].lake, state_lock, state_unlock, &c[i]);
		}
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, commit_thread, &c[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		sl_lake_close(c[i].lake);
		sl_state_close(c[i].state);
		c[i].lake = NULL;
		c[i].state = NULL;
	}
	if (meet) {
		sl_lake_set_commit_hook(NULL, NULL);
		pthread_barrier_destroy(&barrier);
	}
}

static sl_lake_snapshot *snapshot(void)
{
	sl_lake *lake = NULL;
	sl_lake_snapshot *snap = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_lake_open(&lake, dir, &err), 0);
	if (sl_lake_snapshot_open(&snap, lake, "raw/s/t", -1, &err) < 0)
		fail_msg("snapshot: %s", err.message);
	sl_lake_close(lake);
	return snap;
}

/* ------------------------------------------------------------------ tests */

/* Why the lock exists: two writers read version -1, both "create" version
 * 0, the second overwrites the first, and both think they committed. */
static void test_without_lock_a_blind_store_loses_a_version(void **state)
{
	(void)state;
	committer c[2];
	run_two(c, 1, false, true);
	assert_int_equal(c[0].rc, 0);
	assert_int_equal(c[1].rc, 0);
	assert_int_equal(c[0].versions[0], 0);
	assert_int_equal(c[1].versions[0], 0); /* both report version 0 ... */
	sl_lake_snapshot *s = snapshot();
	assert_int_equal(s->version, 0);
	assert_int_equal(s->nfiles, 1); /* ... and one of the two adds is gone */
	sl_lake_snapshot_free(s);
}

static void test_with_lock_the_loser_moves_to_the_next_version(void **state)
{
	(void)state;
	committer c[2];
	run_two(c, 1, true, true);
	assert_int_equal(c[0].rc, 0);
	assert_int_equal(c[1].rc, 0);
	/* same starting point, distinct versions */
	assert_int_equal(c[0].versions[0] + c[1].versions[0], 0 + 1);
	assert_true(c[0].versions[0] != c[1].versions[0]);
	sl_lake_snapshot *s = snapshot();
	assert_int_equal(s->version, 1);
	assert_int_equal(s->nfiles, 2);
	assert_int_equal(s->rows, 2);
	sl_lake_snapshot_free(s);
}

static void test_with_lock_many_concurrent_commits_all_land(void **state)
{
	(void)state;
	enum { N = 25 };
	committer c[2];
	bool seen[2 * N] = {false};
	run_two(c, N, true, false);
	for (int i = 0; i < 2; i++) {
		if (c[i].rc != 0)
			fail_msg("committer %d: %s", i, c[i].message);
		for (int k = 0; k < N; k++) {
			int64_t v = c[i].versions[k];
			assert_true(v >= 0 && v < 2 * N);
			assert_false(seen[v]); /* no version reported twice */
			seen[v] = true;
			if (k)
				assert_true(v > c[i].versions[k - 1]);
		}
	}
	sl_lake_snapshot *s = snapshot();
	assert_int_equal(s->version, 2 * N - 1);
	assert_int_equal(s->nfiles, 2 * N);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < N; k++) {
			char path[64];
			snprintf(path, sizeof path, "data/w%d-%03d.parquet", i, k);
			bool found = false;
			for (int f = 0; f < s->nfiles && !found; f++)
				found = strcmp(s->files[f].path, path) == 0;
			if (!found)
				fail_msg("%s was lost", path);
		}
	sl_lake_snapshot_free(s);
}

static int refuse_lock(void *ctx, const char *table, sl_error *err)
{
	(void)ctx;
	return sl_error_set(err, SL_ECONFLICT, "lock for %s is busy", table);
}

static int unlock_calls;
static void count_unlock(void *ctx, const char *table)
{
	(void)ctx;
	(void)table;
	unlock_calls++;
}

static void test_a_lock_failure_fails_the_commit_and_writes_nothing(void **state)
{
	(void)state;
	sl_lake *lake = open_blind_lake();
	sl_error err = SL_ERROR_INIT;
	bool written = true;
	sl_lake_add add = {"data/a.parquet", 10, 1, 0, NULL};
	sl_lake_write_opts opts = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_req req = {schema, &opts, &add, 1};
	sl_lake_commit_result res;
	unlock_calls = 0;
	sl_lake_set_commit_lock(lake, refuse_lock, count_unlock, NULL);
	assert_int_equal(sl_lake_log_commit(lake, "raw/s/t", NULL, &req, &res, &written, &err),
			 SL_ECONFLICT);
	assert_false(written);
	assert_int_equal(unlock_calls, 0);
	assert_string_equal(err.message,
			    "lake table raw/s/t: commit lock: lock for raw/s/t is busy");
	int64_t latest;
	assert_int_equal(sl_lake_log_versions(lake, "raw/s/t", &latest, &err), SL_ENOTFOUND);
	/* NULL lock: back to plain put-if-absent */
	sl_lake_set_commit_lock(lake, NULL, count_unlock, NULL);
	sl_error_clear(&err);
	assert_int_equal(sl_lake_log_commit(lake, "raw/s/t", NULL, &req, &res, &written, &err), 0);
	assert_int_equal(res.version, 0);
	assert_int_equal(unlock_calls, 0);
	sl_lake_close(lake);
}

static const char foreign[] = "{\"commitInfo\":{\"timestamp\":1,\"operation\":\"X\"}}\n"
			       "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n";
static int planted;

/* Another writer creates version 0 after our replay, just before our put. */
static void plant_foreign_version(void *arg)
{
	sl_lake *lake = arg;
	sl_error err = SL_ERROR_INIT;
	if (planted++)
		return;
	assert_int_equal(sl_store_put(lake->store, "raw/s/t/_delta_log/00000000000000000000.json",
				      foreign, strlen(foreign), false, &err), 0);
}

static void test_with_lock_an_existing_version_is_never_overwritten(void **state)
{
	(void)state;
	sl_lake *lake = open_blind_lake();
	sl_state *st = NULL;
	sl_error err = SL_ERROR_INIT;
	committer c = {0};
	bool written;
	assert_int_equal(sl_state_open(&st, dir, &err), 0);
	c.state = st;
	sl_lake_set_commit_lock(lake, state_lock, state_unlock, &c);
	planted = 0;
	sl_lake_set_commit_hook(plant_foreign_version, lake);
	sl_lake_add add = {"data/a.parquet", 10, 1, 0, NULL};
	sl_lake_write_opts opts = SL_LAKE_WRITE_OPTS_INIT;
	sl_lake_commit_req req = {schema, &opts, &add, 1};
	sl_lake_commit_result res;
	assert_int_equal(sl_lake_log_commit(lake, "raw/s/t", NULL, &req, &res, &written, &err), 0);
	assert_int_equal(planted, 2); /* the hook ran before both attempts */
	assert_int_equal(res.version, 1);
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_store_get(lake->store, "raw/s/t/_delta_log/00000000000000000000.json",
				      &b, &err), 0);
	assert_string_equal(b.data, foreign);
	sl_buf_free(&b);
	/* the lock was released after each attempt */
	assert_int_equal(sl_state_lock(st, "lake-commit:raw/s/t", 0, &err), 0);
	sl_state_unlock(st, "lake-commit:raw/s/t");
	sl_lake_close(lake);
	sl_state_close(st);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_without_lock_a_blind_store_loses_a_version),
		T(test_with_lock_the_loser_moves_to_the_next_version),
		T(test_with_lock_many_concurrent_commits_all_land),
		T(test_a_lock_failure_fails_the_commit_and_writes_nothing),
		T(test_with_lock_an_existing_version_is_never_overwritten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
