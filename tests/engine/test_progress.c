/* test_progress.c: a source's typed progress applied to the state store,
 * its JSON form for the lake commit, and the "seen before?" callback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/progress_int.h"

static sl_state *open_state(void)
{
	sl_state *st = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_state_open_path(&st, ":memory:", &err) < 0)
		fail_msg("state: %s", err.message);
	return st;
}

static void test_progress_json_round_trip(void **state)
{
	sl_source_progress p = {0}, back = {0};
	assert_null(sl_engine_progress_to_json(&p)); /* nothing to say */
	for (int i = 0; i < 20; i++) {
		char path[32];
		snprintf(path, sizeof path, "s3://b/k%02d.csv", i);
		assert_int_equal(sl_source_progress_add_file(&p, path, 100 + (uint64_t)i, "\"etag\""),
				 0);
	}
	assert_int_equal(sl_source_progress_set_watermark(&p, "2024-05-01 12:00:00"), 0);
	json_t *o = sl_engine_progress_to_json(&p);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "files")), 20);
	assert_int_equal(sl_engine_progress_from_json(o, &back), 0);
	assert_int_equal(back.nfiles, 20);
	assert_string_equal(back.files[19].path, "s3://b/k19.csv");
	assert_int_equal(back.files[19].size, 119);
	assert_string_equal(back.files[19].version, "\"etag\"");
	assert_string_equal(back.watermark, "2024-05-01 12:00:00");
	json_decref(o);
	sl_source_progress_clear(&p);
	sl_source_progress_clear(&back);
	assert_int_equal(p.nfiles, 0);
	assert_null(p.files);
}

static void test_progress_apply_marks_files_and_never_moves_back(void **state)
{
	sl_state *st = open_state();
	sl_error err = SL_ERROR_INIT;
	sl_source_progress p = {0};
	sl_engine_seen_ctx ctx = {.state = st, .key = "files.orders"};
	sl_file_seen seen = SL_FILE_DONE;

	assert_int_equal(sl_engine_file_seen(&ctx, "/d/a.csv", 10, "111", &seen, &err), 0);
	assert_int_equal(seen, SL_FILE_NEW);
	assert_int_equal(sl_source_progress_add_file(&p, "/d/a.csv", 10, "111"), 0);
	assert_int_equal(sl_source_progress_set_watermark(&p, "10"), 0);
	assert_int_equal(sl_engine_progress_apply(st, "files.orders", &p, &err), 0);
	assert_int_equal(sl_engine_file_seen(&ctx, "/d/a.csv", 10, "111", &seen, &err), 0);
	assert_int_equal(seen, SL_FILE_DONE);
	assert_int_equal(sl_engine_file_seen(&ctx, "/d/a.csv", 12, "222", &seen, &err), 0);
	assert_int_equal(seen, SL_FILE_CHANGED);

	/* "9" < "10" as numbers: the watermark stays. */
	sl_source_progress_clear(&p);
	assert_int_equal(sl_source_progress_set_watermark(&p, "9"), 0);
	assert_int_equal(sl_engine_progress_apply(st, "files.orders", &p, &err), 0);
	char *wm = NULL;
	assert_int_equal(sl_state_watermark_get(st, "files.orders", &wm, &err), 0);
	assert_string_equal(wm, "10");
	sl_free(wm);
	assert_int_equal(sl_source_progress_set_watermark(&p, "11"), 0);
	assert_int_equal(sl_engine_progress_apply(st, "files.orders", &p, &err), 0);
	assert_int_equal(sl_state_watermark_get(st, "files.orders", &wm, &err), 0);
	assert_string_equal(wm, "11");
	sl_free(wm);
	sl_source_progress_clear(&p);
	/* No state: nothing to do, no error. */
	assert_int_equal(sl_engine_progress_apply(NULL, "x", &p, &err), 0);
	sl_state_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_json_round_trip),
		cmocka_unit_test(test_progress_apply_marks_files_and_never_moves_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
