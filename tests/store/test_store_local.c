/* test_store_local.c: the local-filesystem store (atomic puts, streamed
 * outputs, listing, stat, delete) against a temp directory. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char dir[64];
	sl_store *s;
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
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sl-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	char root[128];
	snprintf(root, sizeof root, "%s/root", fx->dir);
	assert_int_equal(sl_store_open(&fx->s, root, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	sl_store_free(fx->s);
	nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void put_str(sl_store *s, const char *key, const char *v)
{
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_store_put(s, key, v, strlen(v), false, &err), 0);
}

static void test_put_then_get_returns_bytes(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_buf b = SL_BUF_INIT;
	put_str(fx->s, "a/b/c.txt", "hello");
	assert_int_equal(sl_store_get(fx->s, "a/b/c.txt", &b, &err), 0);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "hello");
	/* get replaces, it does not append */
	put_str(fx->s, "a/b/c.txt", "bye");
	assert_int_equal(sl_store_get(fx->s, "a/b/c.txt", &b, &err), 0);
	assert_string_equal(b.data, "bye");
	sl_buf_free(&b);
	assert_int_equal(sl_store_get(fx->s, "a/missing", &b, &err), SL_ENOTFOUND);
	sl_buf_free(&b);
}

static void test_put_if_absent_conflicts_on_existing_key(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_store_put(fx->s, "log/0.json", "first", 5, true, &err), 0);
	assert_int_equal(sl_store_put(fx->s, "log/0.json", "second", 6, true, &err),
			 SL_ECONFLICT);
	assert_int_equal(err.code, SL_ECONFLICT);
	assert_non_null(strstr(err.message, "log/0.json already exists"));
	assert_int_equal(sl_store_get(fx->s, "log/0.json", &b, &err), 0);
	assert_string_equal(b.data, "first");
	sl_buf_free(&b);
	/* no temp file left behind by the losing writer */
	sl_store_entry *e;
	size_t n;
	assert_int_equal(sl_store_list(fx->s, "log/", &e, &n, &err), 0);
	assert_int_equal(n, 1);
	sl_store_entries_free(e, n);
	char path[256];
	snprintf(path, sizeof path, "%s/root/log", fx->dir);
	int files = 0;
	DIR *d = opendir(path);
	struct dirent *de;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
}

typedef struct {
	sl_store *s;
	int id;
	int rc;
} racer;

static void *race(void *arg)
{
	racer *r = arg;
	sl_error err = SL_ERROR_INIT;
	char v[16];
	snprintf(v, sizeof v, "writer-%d", r->id);
	r->rc = sl_store_put(r->s, "race/00001.json", v, strlen(v), true, &err);
	return NULL;
}

static void test_put_if_absent_has_one_winner_among_concurrent_writers(void **state)
{
	fixture *fx = *state;
	enum { N = 8 };
	pthread_t th[N];
	racer r[N];
	for (int round = 0; round < 5; round++) {
		sl_error err = SL_ERROR_INIT;
		sl_store_delete(fx->s, "race/00001.json", &err);
		for (int i = 0; i < N; i++) {
			r[i] = (racer){fx->s, i, 1};
			pthread_create(&th[i], NULL, race, &r[i]);
		}
		int wins = 0, conflicts = 0;
		for (int i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
			wins += r[i].rc == 0;
			conflicts += r[i].rc == SL_ECONFLICT;
		}
		assert_int_equal(wins, 1);
		assert_int_equal(conflicts, N - 1);
	}
}

static void test_output_visible_only_after_close(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_output *o;
	sl_store_entry st, *e;
	size_t n;
	assert_int_equal(sl_store_open_output(fx->s, "t/data/part-0.parquet", &o, &err), 0);
	assert_int_equal(sl_output_write(o, "abc", 3, &err), 0);
	assert_int_equal(sl_output_write(o, "defg", 4, &err), 0);
	assert_int_equal(sl_store_stat(fx->s, "t/data/part-0.parquet", &st, &err), SL_ENOTFOUND);
	assert_int_equal(sl_store_list(fx->s, "t/", &e, &n, &err), 0);
	assert_int_equal(n, 0); /* the temp file is never listed */
	sl_store_entries_free(e, n);
	assert_int_equal(o->close(o, &err), 0);
	assert_int_equal(sl_store_stat(fx->s, "t/data/part-0.parquet", &st, &err), 0);
	assert_int_equal(st.size, 7);
	assert_true(st.mtime_micros > sl_now_micros() - 60 * SL_MICROS_PER_SEC);
}

static void test_output_abort_leaves_nothing(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_output *o;
	assert_int_equal(sl_store_open_output(fx->s, "t/x.bin", &o, &err), 0);
	assert_int_equal(sl_output_write(o, "zzz", 3, &err), 0);
	o->abort(o);
	char path[256];
	snprintf(path, sizeof path, "%s/root/t", fx->dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	int files = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
}

static void test_list_is_recursive_sorted_and_skips_temp_files(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry *e;
	size_t n;
	put_str(fx->s, "tbl/b.parquet", "22");
	put_str(fx->s, "tbl/a.parquet", "1");
	put_str(fx->s, "tbl/_delta_log/00000000000000000000.json", "{}");
	put_str(fx->s, "tblx/other", "x");
	put_str(fx->s, "zzz", "x");
	/* a crashed writer's temp file */
	char path[256];
	snprintf(path, sizeof path, "%s/root/tbl/c.parquet.tmp-0123abcd", fx->dir);
	FILE *f = fopen(path, "w");
	fputs("partial", f);
	fclose(f);
	sl_output *o;
	assert_int_equal(sl_store_open_output(fx->s, "tbl/d.parquet", &o, &err), 0);

	assert_int_equal(sl_store_list(fx->s, "tbl/", &e, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].key, "tbl/_delta_log/00000000000000000000.json");
	assert_string_equal(e[1].key, "tbl/a.parquet");
	assert_string_equal(e[2].key, "tbl/b.parquet");
	assert_int_equal(e[2].size, 2);
	assert_string_equal(e[2].etag, "");
	sl_store_entries_free(e, n);

	/* a prefix that is not a directory */
	assert_int_equal(sl_store_list(fx->s, "tbl", &e, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(e[3].key, "tblx/other");
	sl_store_entries_free(e, n);

	assert_int_equal(sl_store_list(fx->s, "", &e, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(e[4].key, "zzz");
	sl_store_entries_free(e, n);

	assert_int_equal(sl_store_list(fx->s, "nope/", &e, &n, &err), 0);
	assert_int_equal(n, 0);
	sl_store_entries_free(e, n);
	o->abort(o);
}

static void test_delete_and_stat(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_store_entry st;
	put_str(fx->s, "k/v", "12345");
	assert_int_equal(sl_store_stat(fx->s, "k/v", &st, &err), 0);
	assert_int_equal(st.size, 5);
	assert_int_equal(sl_store_delete(fx->s, "k/v", &err), 0);
	assert_int_equal(sl_store_stat(fx->s, "k/v", &st, &err), SL_ENOTFOUND);
	assert_int_equal(sl_store_delete(fx->s, "k/v", &err), 0); /* missing is fine */
	assert_int_equal(sl_store_stat(fx->s, "k", &st, &err), SL_ENOTFOUND); /* a directory */
}

static void test_input_reads_ranges(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in;
	char buf[8] = {0};
	put_str(fx->s, "r/obj", "0123456789");
	assert_int_equal(sl_store_open_input(fx->s, "r/obj", &in, &err), 0);
	assert_int_equal(in->size, 10);
	assert_int_equal(in->read_at(in, 3, buf, 4, &err), 0);
	assert_string_equal(buf, "3456");
	assert_int_equal(in->read_at(in, 8, buf, 4, &err), SL_EFORMAT);
	in->close(in);
	assert_int_equal(sl_store_open_input(fx->s, "r/none", &in, &err), SL_ENOTFOUND);
}

static void test_keys_cannot_escape_root(void **state)
{
	fixture *fx = *state;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_store_put(fx->s, "../evil", "x", 1, false, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "invalid key '../evil'"));
	assert_int_equal(sl_store_put(fx->s, "/abs", "x", 1, false, &err), SL_EINVAL);
	assert_int_equal(sl_store_put(fx->s, "a/../../b", "x", 1, false, &err), SL_EINVAL);
	assert_int_equal(sl_store_put(fx->s, "a//b", "x", 1, false, &err), SL_EINVAL);
}

static void test_open_dispatches_by_url(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_store *s = NULL;
	assert_int_equal(sl_store_open(&s, "", &err), SL_EINVAL);
	assert_int_equal(sl_store_open(&s, "gs://bucket", &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "unsupported store URL"));
	assert_int_equal(sl_store_open(&s, "file:///tmp/x/", &err), 0);
	assert_string_equal(s->url, "/tmp/x");
	sl_store_free(s);
	sl_store_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_then_get_returns_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_if_absent_conflicts_on_existing_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_put_if_absent_has_one_winner_among_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_visible_only_after_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_output_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_is_recursive_sorted_and_skips_temp_files,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_stat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_reads_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_cannot_escape_root, setup, teardown),
		cmocka_unit_test(test_open_dispatches_by_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
