/*
 * models_pending.c: TEMPORARY stand-ins for the models module's data-test
 * and freshness functions (models.h) until they land on this branch;
 * delete this file when merging the models module's implementation.
 */
#include "models/models.h"

#include <string.h>

const char *sl_test_status_name(sl_test_status s)
{
	static const char *const names[] = {"pass", "warn", "fail", "error"};
	return (unsigned)s < 4 ? names[s] : "error";
}

void sl_test_result_free(sl_test_result *r)
{
	if (!r)
		return;
	sl_free(r->message);
	sl_free(r->compiled_sql);
	sl_free(r->sample_json);
	sl_free(r->stored_in);
	memset(r, 0, sizeof *r);
}

int sl_models_test(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
		   sl_test_result *res, sl_error *err)
{
	(void)m, (void)i, (void)wh, (void)cancel;
	res->status = SL_TEST_ERROR;
	return sl_error_set(err, SL_EINTERNAL, "data tests are not built in yet");
}

const char *sl_fresh_status_name(sl_fresh_status s)
{
	static const char *const names[] = {"pass", "warn", "error", "runtime error"};
	return (unsigned)s < 4 ? names[s] : "runtime error";
}

sl_fresh_status sl_freshness_judge(const sl_freshness *f, double age)
{
	if (f->error_after.seconds > 0 && age > (double)f->error_after.seconds)
		return SL_FRESH_ERROR;
	if (f->warn_after.seconds > 0 && age > (double)f->warn_after.seconds)
		return SL_FRESH_WARN;
	return SL_FRESH_PASS;
}

void sl_freshness_result_free(sl_freshness_result *r)
{
	if (!r)
		return;
	sl_free(r->message);
	sl_free(r->sql);
	memset(r, 0, sizeof *r);
}

int sl_models_freshness(sl_models *m, int s, sl_wh *wh, sl_freshness_result *res,
			sl_error *err)
{
	(void)m, (void)s, (void)wh;
	res->status = SL_FRESH_RUNTIME_ERROR;
	return sl_error_set(err, SL_EINTERNAL, "freshness by loaded_at_field is not built in yet");
}
