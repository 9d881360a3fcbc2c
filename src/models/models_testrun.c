/*
 * models_testrun.c: running a data test — its SQL compiled (the rows
 * that fail), wrapped as dbt's get_test_sql wraps it (fail_calc with
 * warn_if and error_if evaluated in SQL, limit applied), judged by
 * severity with dbt's messages, the first 10 failing rows sampled as
 * JSON, and with store_failures every failing row kept in the audit
 * table ("<target schema>_dbt_test__audit"."<test name or alias>").
 */
#include "models/models_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define M_SAMPLE_ROWS 10

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

const char *sl_test_status_name(sl_test_status s)
{
	static const char *const names[] = {"pass", "warn", "fail", "error"};
	return (unsigned)s < 4 ? names[s] : "?";
}

void sl_test_result_free(sl_test_result *r)
{
	if (!r)
		return;
	sl_free(r->message);
	sl_free(r->compiled_sql);
	sl_free(r->sample_json);
	sl_free(r->stored_in);
	r->message = r->compiled_sql = r->sample_json = r->stored_in = NULL;
}

typedef struct verdict {
	bool got;
	char *failures;
	bool warn, error;
} verdict;

static bool sql_true(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "true") == 0);
}

static int on_verdict(void *ud, int ncols, const char *const *names, const char *const *values,
		      sl_error *err)
{
	verdict *v = ud;
	(void)names;
	if (v->got || ncols < 3)
		return 1;
	v->got = true;
	v->failures = sl_strdup(values[0] ? values[0] : "0");
	v->warn = sql_true(values[1]);
	v->error = sql_true(values[2]);
	return v->failures ? 0 : oom(err);
}

typedef struct sample {
	sl_buf json;
	int rows;
} sample;

static int on_sample(void *ud, int ncols, const char *const *names, const char *const *values,
		     sl_error *err)
{
	sample *s = ud;
	if (s->rows >= M_SAMPLE_ROWS)
		return 1;
	int rc = sl_buf_puts(&s->json, s->rows++ ? ",{" : "{");
	for (int i = 0; rc == 0 && i < ncols; i++) {
		if (i)
			rc = sl_buf_putc(&s->json, ',');
		if (rc == 0)
			rc = sl_buf_put_json_string(&s->json, names[i], strlen(names[i]));
		if (rc == 0)
			rc = sl_buf_putc(&s->json, ':');
		if (rc == 0)
			rc = values[i] ? sl_buf_put_json_string(&s->json, values[i], strlen(values[i]))
				       : sl_buf_puts(&s->json, "null");
	}
	if (rc == 0)
		rc = sl_buf_putc(&s->json, '}');
	return rc < 0 ? oom(err) : 0;
}

/* dbt's get_test_sql around the failing rows' SQL. */
static int wrap(sl_buf *out, const char *main_sql, const char *fail_calc, const sl_node_test *t)
{
	int rc = sl_buf_printf(out, "select\n      %s as failures,\n      %s %s as should_warn,\n"
			       "      %s %s as should_error\n    from (\n      %s\n", fail_calc,
			       fail_calc, t->warn_if, fail_calc, t->error_if, main_sql);
	if (rc == 0 && t->limit >= 0)
		rc = sl_buf_printf(out, "      limit %lld\n", (long long)t->limit);
	return rc ? rc : sl_buf_puts(out, "    ) dbt_internal_test");
}

/* With store_failures: the audit table replaced by every failing row. */
static int store(sl_models *m, m_node *n, sl_wh *wh, const char *sql, sl_test_result *res,
		 sl_error *err)
{
	const sl_node_test *t = n->test;
	sl_wh_build_result br;
	sl_buf q = SL_BUF_INIT;
	memset(&br, 0, sizeof br);
	(void)m;
	int rc = sl_wh_ensure_schema(wh, t->audit_schema, err);
	if (rc == 0)
		rc = sl_wh_build_table(wh, t->audit_schema, t->audit_relation, sql, &br, err);
	if (rc == 0)
		rc = sl_wh_quote_table(wh, &q, t->audit_schema, t->audit_relation, err);
	if (rc == 0) {
		res->stored_in = sl_buf_detach(&q);
		if (!res->stored_in)
			rc = oom(err);
	}
	sl_buf_free(&q);
	return rc;
}

static char *plural_message(const char *failures, const char *what, const char *cond)
{
	sl_buf b = SL_BUF_INIT;
	sl_buf_printf(&b, "Got %s result%s, configured to %s if %s", failures,
		      strcmp(failures, "1") == 0 ? "" : "s", what, cond);
	return b.data ? sl_buf_detach(&b) : NULL;
}

int sl_models_test(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
		   sl_test_result *res, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT, run = SL_BUF_INIT;
	char *main_sql = NULL;
	verdict v = {0};
	sample s = {SL_BUF_INIT, 0};
	int rc;
	memset(res, 0, sizeof *res);
	res->status = SL_TEST_ERROR;
	res->failures = -1;
	if (i < 0 || i >= m->nenabled || !m->enabled[i]->test)
		return sl_error_set(err, SL_EINVAL, "node %d is not a test", i);
	m_node *n = m->enabled[i];
	const sl_node_test *t = n->test;
	if ((rc = sl_cancel_check(cancel, n->pub.unique_id, err)) < 0)
		return rc;
	rc = m_compile(m, n, wh, &sql, err);
	if (rc < 0)
		goto done;
	/* what the test's SQL returns, trimmed as dbt's compiled file */
	const char *body = sql.data ? sql.data : "";
	body += strspn(body, " \t\r\n");
	size_t blen = strlen(body);
	while (blen && strchr(" \t\r\n", body[blen - 1]))
		blen--;
	res->compiled_sql = sl_strndup(body, blen);
	if (!res->compiled_sql) {
		rc = oom(err);
		goto done;
	}
	if ((rc = m_write_target(m, n, "compiled", res->compiled_sql, blen, err)) < 0)
		goto done;
	main_sql = sl_strdup(res->compiled_sql);
	if (!main_sql) {
		rc = oom(err);
		goto done;
	}
	if ((rc = sl_cancel_check(cancel, n->pub.unique_id, err)) < 0)
		goto done;
	if (t->store_failures) {
		if ((rc = store(m, n, wh, res->compiled_sql, res, err)) < 0)
			goto done;
		sl_free(main_sql);
		sl_buf q = SL_BUF_INIT;
		sl_buf_printf(&q, "select * from %s", res->stored_in);
		main_sql = q.data ? sl_buf_detach(&q) : NULL;
		if (!main_sql) {
			rc = oom(err);
			goto done;
		}
	}
	const char *fail_calc = m_dict_str(&n->cfg, "fail_calc");
	if (!fail_calc || !*fail_calc)
		fail_calc = "count(*)";
	if (wrap(&run, main_sql, fail_calc, t) < 0) {
		rc = oom(err);
		goto done;
	}
	if ((rc = m_write_target(m, n, "run", run.data, run.len, err)) < 0 ||
	    (rc = sl_cancel_check(cancel, n->pub.unique_id, err)) < 0)
		goto done;
	if ((rc = sl_wh_query(wh, run.data, on_verdict, &v, err)) < 0)
		goto done;
	if (!v.got) {
		rc = sl_error_set(err, SL_EDB, "%s: the test's query returned no row", n->pub.path);
		goto done;
	}
	int64_t failures = 0;
	double d;
	if (sl_parse_int64(v.failures, strlen(v.failures), &failures) < 0 &&
	    sl_parse_double(v.failures, strlen(v.failures), &d) == 0)
		failures = (int64_t)d;
	res->failures = failures;
	char count[32];
	snprintf(count, sizeof count, "%lld", (long long)failures);
	if (t->severity == SL_SEVERITY_ERROR && v.error) {
		res->status = SL_TEST_FAIL;
		res->message = plural_message(count, "fail", t->error_if);
	} else if (v.warn) {
		res->status = SL_TEST_WARN;
		res->message = plural_message(count, "warn", t->warn_if);
	} else {
		res->status = SL_TEST_PASS;
	}
	if (res->status != SL_TEST_PASS && !res->message) {
		rc = oom(err);
		goto done;
	}
	/* the first failing rows */
	sl_buf q = SL_BUF_INIT;
	/* (a test's limit caps its failing rows, its sample too) */
	sl_buf_printf(&q, "select * from (\n%s\n) dbt_sample limit %lld", main_sql,
		      t->limit >= 0 && t->limit < M_SAMPLE_ROWS ? (long long)t->limit
							  : (long long)M_SAMPLE_ROWS);
	sl_buf_putc(&s.json, '[');
	rc = q.data ? sl_wh_query(wh, q.data, on_sample, &s, err) : oom(err);
	sl_buf_free(&q);
	if (rc == 0 && sl_buf_putc(&s.json, ']') < 0)
		rc = oom(err);
	if (rc == 0)
		res->sample_json = sl_buf_detach(&s.json);
	if (rc == 0 && !res->sample_json)
		rc = oom(err);
done:
	if (rc < 0) {
		/* what ran is known; the verdict is not */
		if (res->status != SL_TEST_ERROR) {
			sl_free(res->message);
			res->message = NULL;
		}
		res->status = SL_TEST_ERROR;
		res->failures = -1;
		m_error_tidy(err);
		if (!res->message)
			res->message = sl_strdup(err->message);
	}
	if (!res->sample_json && rc == 0)
		res->sample_json = sl_strdup("[]");
	sl_free(v.failures);
	sl_free(main_sql);
	sl_buf_free(&s.json);
	sl_buf_free(&sql);
	sl_buf_free(&run);
	return rc;
}
