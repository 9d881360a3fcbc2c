/* test_conform.c: sl_batch_conform — columns matched by name and reordered,
 * NULL for missing nullable columns, extra columns refused, types cast
 * through text with bad rows handed to the caller, scratch reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "batch/batch.h"

/* A batch of (id int64, name string) rows 1..n, name "n<i>". */
static sl_batch *id_name(int64_t n)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "name", sl_type_make(SL_STRING), true);
	sl_batch *b = NULL;
	assert_int_equal(sl_batch_new(&b, s, n, &err), 0);
	sl_schema_free(s);
	for (int64_t i = 1; i <= n; i++) {
		char name[16];
		snprintf(name, sizeof name, "n%lld", (long long)i);
		sl_column_append_i64(&b->cols[0], i);
		assert_int_equal(sl_column_append_str(&b->cols[1], name, strlen(name)), 0);
		sl_batch_end_row(b);
	}
	return b;
}

static void value_text(const sl_batch *b, int c, int64_t r, char *out, size_t n)
{
	sl_buf t = SL_BUF_INIT;
	if (sl_column_is_null(&b->cols[c], r)) {
		snprintf(out, n, "NULL");
	} else {
		assert_int_equal(sl_column_format_value(&b->cols[c], r, &t), 0);
		snprintf(out, n, "%.*s", (int)t.len, t.data ? t.data : "");
	}
	sl_buf_free(&t);
}

static void test_conform_same_schema_is_the_batch_itself(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_batch *in = id_name(3), *scratch = NULL;
	const sl_batch *out = NULL;
	assert_int_equal(sl_batch_conform(&out, &scratch, in, in->schema, NULL, &err), 0);
	assert_ptr_equal(out, in);
	assert_null(scratch);
	sl_batch_free(in);
}

/* An older file: the table has a new column in the middle, and the
 * batch's columns come in another order. */
static void test_conform_reorders_and_pads_with_null(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_batch *in = id_name(3), *scratch = NULL;
	sl_schema *t = sl_schema_new();
	sl_schema_add(t, "name", sl_type_make(SL_STRING), true);
	sl_schema_add(t, "added", sl_type_decimal(10, 2), true);
	sl_schema_add(t, "id", sl_type_make(SL_INT64), false);
	const sl_batch *out = NULL;
	char v[32];
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, NULL, &err), 0);
	assert_ptr_equal(out, scratch);
	assert_int_equal(out->nrows, 3);
	assert_true(sl_schema_equal(out->schema, t));
	value_text(out, 0, 2, v, sizeof v);
	assert_string_equal(v, "n3");
	value_text(out, 1, 0, v, sizeof v);
	assert_string_equal(v, "NULL");
	assert_int_equal(out->cols[1].null_count, 3);
	value_text(out, 2, 1, v, sizeof v);
	assert_string_equal(v, "2");
	/* the scratch batch is reused for the next batch of that schema */
	sl_batch *keep = scratch;
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, NULL, &err), 0);
	assert_ptr_equal(scratch, keep);
	assert_int_equal(out->nrows, 3);
	sl_batch_free(scratch);
	sl_schema_free(t);
	sl_batch_free(in);
}

static void test_conform_refuses_what_it_cannot_fit(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_batch *in = id_name(2), *scratch = NULL;
	const sl_batch *out = NULL;
	/* a column the target lacks would be dropped */
	sl_schema *t = sl_schema_new();
	sl_schema_add(t, "id", sl_type_make(SL_INT64), false);
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, NULL, &err), SL_EINVAL);
	assert_string_equal(err.message,
			    "column \"name\" is not in the target schema; it would be dropped");
	sl_schema_free(t);
	/* a missing NOT NULL column */
	t = sl_schema_new();
	sl_schema_add(t, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(t, "name", sl_type_make(SL_STRING), true);
	sl_schema_add(t, "must", sl_type_make(SL_INT32), false);
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, NULL, &err), SL_EINVAL);
	assert_string_equal(err.message, "column \"must\" is missing and cannot be NULL");
	sl_schema_free(t);
	/* another type without cast */
	t = sl_schema_new();
	sl_schema_add(t, "id", sl_type_make(SL_STRING), false);
	sl_schema_add(t, "name", sl_type_make(SL_STRING), true);
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, NULL, &err), SL_EINVAL);
	assert_string_equal(err.message, "column \"id\" is int64 but string is expected");
	assert_null(out);
	sl_schema_free(t);
	sl_batch_free(scratch);
	sl_batch_free(in);
}

typedef struct {
	int n;
	int64_t rows[4];
	char reason[256];
} bad_rows;

static int on_bad(void *ctx, const sl_batch *in, int64_t row, const char *reason,
		  sl_error *err)
{
	(void)in;
	(void)err;
	bad_rows *b = ctx;
	b->rows[b->n++] = row;
	snprintf(b->reason, sizeof b->reason, "%s", reason);
	return 0;
}

/* Casting through text: values that convert land, a row with one that
 * does not goes to the caller with its reason, the rest go on. */
static void test_conform_casts_and_hands_bad_rows_over(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "amount", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "id", sl_type_make(SL_INT32), false);
	sl_batch *in = NULL, *scratch = NULL;
	assert_int_equal(sl_batch_new(&in, s, 4, &err), 0);
	const char *amounts[] = {"1.50", "abc", NULL, "-2"};
	for (int i = 0; i < 4; i++) {
		if (amounts[i])
			assert_int_equal(sl_column_append_str(&in->cols[0], amounts[i],
							      strlen(amounts[i])), 0);
		else
			sl_column_append_null(&in->cols[0]);
		sl_column_append_i32(&in->cols[1], i + 1);
		sl_batch_end_row(in);
	}
	sl_schema *t = sl_schema_new();
	sl_schema_add(t, "id", sl_type_make(SL_INT64), false);
	sl_schema_add(t, "amount", sl_type_decimal(10, 2), true);
	bad_rows bad = {0};
	sl_conform_opts o = {.cast = true, .on_bad = on_bad, .ctx = &bad};
	const sl_batch *out = NULL;
	char v[32];
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, &o, &err), 0);
	assert_int_equal(out->nrows, 3);
	assert_int_equal(bad.n, 1);
	assert_int_equal(bad.rows[0], 1);
	assert_non_null(strstr(bad.reason, "column amount: "));
	value_text(out, 0, 1, v, sizeof v);
	assert_string_equal(v, "3");
	value_text(out, 1, 0, v, sizeof v);
	assert_string_equal(v, "1.50");
	value_text(out, 1, 1, v, sizeof v);
	assert_string_equal(v, "NULL");
	value_text(out, 1, 2, v, sizeof v);
	assert_string_equal(v, "-2.00");
	/* without a callback the bad value fails the call, naming the row */
	o.on_bad = NULL;
	assert_int_equal(sl_batch_conform(&out, &scratch, in, t, &o, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "row 2: column amount: "));
	sl_batch_free(scratch);
	sl_batch_free(in);
	sl_schema_free(s);
	sl_schema_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conform_same_schema_is_the_batch_itself),
		cmocka_unit_test(test_conform_reorders_and_pads_with_null),
		cmocka_unit_test(test_conform_refuses_what_it_cannot_fit),
		cmocka_unit_test(test_conform_casts_and_hands_bad_rows_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
