/* test_materialize_sqlite.c: models built on the SQLite adapter. */
#define _XOPEN_SOURCE 700
#include "mat_cases.h"

#include <ftw.h>
#include <unistd.h>

static char tmpdir[256];
static int seq;

static sl_wh *wh_open_test(void)
{
	sl_wh_config cfg = SL_WH_CONFIG_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	char path[512];
	snprintf(path, sizeof path, "%s/w%d.db", tmpdir, ++seq);
	cfg.type = "sqlite";
	cfg.path = path;
	if (sl_wh_open(&wh, &cfg, &err))
		fail_msg("open: %s", err.message);
	return wh;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_mat_sqlite_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Views within one database file stay views; a view in an attached schema
 * over main is built as a table. */
static void test_sqlite_views_across_files(void **state)
{
	sl_wh *wh = wh_open_test();
	sl_error err = SL_ERROR_INIT;
	sl_wh_build_result res;

	MUST(sl_wh_build_table(wh, "main", "base", "select 1 as id", &res, &err));
	MUST(sl_wh_build_view(wh, "main", "v_same", "select id from base", &res, &err));
	assert_false(res.as_table);
	MUST(sl_wh_build_view(wh, "staging", "v_other", "select id from main.base", &res, &err));
	assert_true(res.as_table);
	assert_int_equal(kind_of(wh, "staging", "v_other"), SL_WH_REL_TABLE);
	assert_rows("1\n", dump(wh, "SELECT * FROM staging.v_other"));
	/* a view over a missing table fails at build time, not when read */
	assert_int_equal(sl_wh_build_view(wh, "main", "v_bad", "select id from missing", &res,
					  &err),
			 SL_EDB);
	assert_non_null(strstr(err.message, "no such table"));
	assert_int_equal(kind_of(wh, "main", "v_bad"), SL_WH_REL_NONE);
	sl_wh_close(wh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MAT_SHARED_TESTS,
		cmocka_unit_test(test_sqlite_views_across_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
