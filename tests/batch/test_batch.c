/* test_batch.c: types, schemas, columnar appends, text parsing, Arrow export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "batch/batch.h"

static void test_type_parse_and_name(void **state)
{
	sl_type t;
	char buf[32];
	assert_int_equal(sl_type_parse("decimal(10,2)", &t), 0);
	assert_int_equal(t.id, SL_DECIMAL);
	assert_string_equal(sl_type_name(t, buf, sizeof buf), "decimal(10,2)");
	assert_int_equal(sl_type_parse("BIGINT", &t), 0);
	assert_int_equal(t.id, SL_INT64);
	assert_int_equal(sl_type_parse("decimal(39,2)", &t), SL_EINVAL);
	assert_int_equal(sl_type_parse("decimal(5,6)", &t), SL_EINVAL);
	assert_int_equal(sl_type_parse("varchar2", &t), SL_EINVAL);
	/* A long text is refused whole, not cut to a type name that parses. */
	assert_int_equal(sl_type_parse("string                                                         "
				       "          x", &t), SL_EINVAL);
}

static void test_decimal_parse_exact(void **state)
{
	sl_i128 v;
	char out[48];
	assert_int_equal(sl_decimal_parse("12.5", 4, 10, 2, &v), 0);
	assert_true(v == 1250);
	assert_int_equal(sl_decimal_parse("-0.01", 5, 10, 2, &v), 0);
	sl_decimal_format(v, 2, out);
	assert_string_equal(out, "-0.01");
	/* more fractional digits than the scale is refused, not rounded */
	assert_int_equal(sl_decimal_parse("1.234", 5, 10, 2, &v), SL_EINVAL);
	assert_int_equal(sl_decimal_parse("1.230", 5, 10, 2, &v), 0);
	assert_int_equal(sl_decimal_parse("1e3", 3, 10, 2, &v), 0);
	assert_true(v == 100000);
	assert_int_equal(sl_decimal_parse("123456789", 9, 10, 2, &v), SL_EINVAL);
	const char *big = "12345678901234567890.123456789012345678";
	assert_int_equal(sl_decimal_parse(big, strlen(big), 38, 18, &v), 0);
	sl_decimal_format(v, 18, out);
	assert_string_equal(out, big);
	assert_int_equal(sl_decimal_parse("1.2.3", 5, 10, 2, &v), SL_EINVAL);
	/* out of int128 range: refused, never overflowed */
	assert_int_equal(sl_decimal_parse("1e39", 4, 38, 0, &v), SL_EINVAL);
	const char *huge = "123456789012345678901234567890123456789012345";
	assert_int_equal(sl_decimal_parse(huge, strlen(huge), 38, 0, &v), SL_EINVAL);
	const char *max38 = "99999999999999999999999999999999999999";
	assert_int_equal(sl_decimal_parse(max38, strlen(max38), 38, 0, &v), 0);
	assert_int_equal(sl_decimal_parse("0009.5", 6, 38, 37, &v), 0);
	assert_int_equal(sl_decimal_parse("", 0, 10, 2, &v), SL_EINVAL);
}

static sl_schema *all_types(void)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "b", sl_type_make(SL_BOOL), true);
	sl_schema_add(s, "i", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "l", sl_type_make(SL_INT64), true);
	sl_schema_add(s, "f", sl_type_make(SL_FLOAT64), true);
	sl_schema_add(s, "d", sl_type_decimal(12, 3), true);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "dt", sl_type_make(SL_DATE), true);
	sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true);
	return s;
}

static void test_append_text_and_format_back(void **state)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = all_types();
	sl_batch *b;
	const char *row[] = {"true", "-42", "9000000000", "0.1", "-12.345", "héllo\tx",
			     "2024-01-31", "2024-01-31T10:00:00.5Z"};
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	for (int c = 0; c < 8; c++)
		assert_int_equal(sl_column_append_text(&b->cols[c], row[c], strlen(row[c]), &err), 0);
	sl_batch_end_row(b);
	for (int c = 0; c < 8; c++)
		sl_column_append_null(&b->cols[c]);
	sl_batch_end_row(b);
	assert_int_equal(b->nrows, 2);

	const char *want[] = {"true", "-42", "9000000000", "0.1", "-12.345", "héllo\tx",
			      "2024-01-31", "2024-01-31 10:00:00.500000"};
	for (int c = 0; c < 8; c++) {
		sl_buf out = SL_BUF_INIT;
		assert_int_equal(sl_column_format_value(&b->cols[c], 0, &out), 0);
		assert_string_equal(out.data, want[c]);
		assert_true(sl_column_is_null(&b->cols[c], 1));
		assert_int_equal(b->cols[c].null_count, 1);
		sl_buf_free(&out);
	}
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_append_text_rejects_with_reason(void **state)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = all_types();
	sl_batch *b;
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	assert_int_equal(sl_column_append_text(&b->cols[1], "3000000000", 10, &err), SL_EINVAL);
	assert_string_equal(err.message, "'3000000000' is not a valid int32");
	assert_int_equal(sl_column_append_text(&b->cols[4], "12.x", 4, &err), SL_EINVAL);
	assert_string_equal(err.message, "'12.x' is not a valid decimal(12,3)");
	assert_int_equal(sl_column_append_text(&b->cols[5], "\xff", 1, &err), SL_EINVAL);
	assert_string_equal(err.message, "invalid UTF-8");
	assert_int_equal(b->cols[1].length, 0);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_discard_row_rolls_back_partial_appends(void **state)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = all_types();
	sl_batch *b;
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	sl_column_append_bool(&b->cols[0], true);
	sl_column_append_null(&b->cols[1]);
	assert_int_equal(sl_column_append_str(&b->cols[5], "abc", 3), 0);
	sl_batch_discard_row(b);
	assert_int_equal(b->cols[0].length, 0);
	assert_int_equal(b->cols[1].null_count, 0);
	assert_int_equal(b->cols[5].data.len, 0);
	sl_batch_free(b);
	sl_schema_free(s);
}

static void test_arrow_export_layout(void **state)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = all_types();
	sl_batch *b;
	struct ArrowArray arr;
	struct ArrowSchema sch;
	assert_int_equal(sl_batch_new(&b, s, 8, &err), 0);
	for (int r = 0; r < 3; r++) {
		for (int c = 0; c < 8; c++) {
			if (r == 1)
				sl_column_append_null(&b->cols[c]);
			else if (c == 5)
				sl_column_append_str(&b->cols[c], r ? "xyz" : "a", r ? 3 : 1);
			else
				sl_column_append_text(&b->cols[c], c == 0 ? "1" : c >= 6 ? "2024-01-01" : "7",
						      c >= 6 ? 10 : 1, &err);
		}
		sl_batch_end_row(b);
	}
	assert_int_equal(sl_batch_export_arrow(b, &arr, &sch, &err), 0);
	sl_batch_free(b); /* the export owns copies */
	assert_string_equal(sch.format, "+s");
	assert_int_equal(sch.n_children, 8);
	assert_string_equal(sch.children[4]->format, "d:12,3");
	assert_string_equal(sch.children[5]->format, "u");
	assert_string_equal(sch.children[7]->format, "tsu:UTC");
	assert_string_equal(sch.children[6]->name, "dt");
	assert_int_equal(arr.length, 3);
	struct ArrowArray *str = arr.children[5];
	assert_int_equal(str->n_buffers, 3);
	assert_int_equal(str->null_count, 1);
	const int32_t *off = str->buffers[1];
	assert_int_equal(off[3], 4);
	assert_memory_equal((const char *)str->buffers[2] + off[2], "xyz", 3);
	const uint8_t *valid = arr.children[2]->buffers[0];
	assert_int_equal(valid[0] & 7, 5);
	const int64_t *l = arr.children[2]->buffers[1];
	assert_int_equal(l[2], 7);
	arr.release(&arr);
	sch.release(&sch);
	assert_null(arr.release);
	sl_schema_free(s);
}

static void test_append_from_same_string_column(void **state)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = sl_schema_new();
	sl_batch *b;
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	assert_int_equal(sl_batch_new(&b, s, 64, &err), 0);
	assert_int_equal(sl_column_append_str(&b->cols[0], "abcdefgh", 8), 0);
	/* each copy doubles the buffer's use, so it has to grow under the read */
	for (int i = 0; i < 40; i++)
		assert_int_equal(sl_column_append_from(&b->cols[0], &b->cols[0], i), 0);
	size_t n;
	const char *v = sl_column_str(&b->cols[0], 40, &n);
	assert_int_equal(n, 8);
	assert_memory_equal(v, "abcdefgh", 8);
	sl_batch_free(b);
	sl_schema_free(s);
}

/*
 * Issue 8: every column of a batch got room for 64K rows up front, so a CSV
 * of 30,000 columns and 3 rows took 1 GB. Column memory now starts small
 * when there are many columns and grows with the rows appended, values
 * intact across growth.
 */
static void test_wide_batch_grows_with_its_rows(void **state)
{
	sl_schema *s = sl_schema_new();
	char name[32];
	for (int i = 0; i < 30000; i++) {
		snprintf(name, sizeof name, "c%d", i);
		sl_type t = sl_type_make(i % 3 == 0 ? SL_STRING : i % 3 == 1 ? SL_INT64 : SL_BOOL);
		assert_int_equal(sl_schema_add(s, name, t, true), 0);
	}
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_batch_new(&b, s, SL_BATCH_DEFAULT_ROWS, &err), 0);
	assert_int_equal(b->capacity, SL_BATCH_DEFAULT_ROWS);
	assert_true(b->cols[0].capacity <= 64); /* room for 64 rows, not 65,536 */
	for (int64_t r = 0; r < 200; r++) {
		assert_false(sl_batch_full(b));
		for (int i = 0; i < b->ncols; i++) {
			sl_column *c = &b->cols[i];
			if ((r + i) % 7 == 0)
				sl_column_append_null(c);
			else if (i % 3 == 0)
				assert_int_equal(sl_column_append_str(c, name, (size_t)(r % 5)), 0);
			else if (i % 3 == 1)
				sl_column_append_i64(c, r * 1000 + i);
			else
				sl_column_append_bool(c, (r + i) % 2);
		}
		sl_batch_end_row(b);
	}
	assert_int_equal(b->nrows, 200);
	assert_true(b->cols[0].capacity >= 201 && b->cols[0].capacity <= 512);
	for (int64_t r = 0; r < 200; r++) {
		for (int i = 0; i < b->ncols; i += 997) {
			sl_column *c = &b->cols[i];
			assert_int_equal(sl_column_is_null(c, r), (r + i) % 7 == 0);
			if ((r + i) % 7 == 0)
				continue;
			if (i % 3 == 0) {
				size_t n;
				sl_column_str(c, r, &n);
				assert_int_equal(n, (size_t)(r % 5));
			} else if (i % 3 == 1) {
				assert_int_equal(c->v.i64[r], r * 1000 + i);
			} else {
				assert_int_equal(sl_bit_get(c->v.bits, r), (r + i) % 2);
			}
		}
	}
	sl_batch_free(b);

	/* A narrow batch gets its whole capacity at once; reserve grows a wide one. */
	sl_schema *n2 = sl_schema_new();
	assert_int_equal(sl_schema_add(n2, "a", sl_type_make(SL_INT32), true), 0);
	assert_int_equal(sl_batch_new(&b, n2, 1000, &err), 0);
	assert_int_equal(b->cols[0].capacity, 1000);
	sl_batch_free(b);
	assert_int_equal(sl_batch_new(&b, s, 1000, &err), 0);
	assert_int_equal(sl_batch_reserve(b, 1000, &err), 0);
	assert_int_equal(b->cols[29999].capacity, 1000);
	assert_int_equal(sl_batch_reserve(b, 1001, &err), SL_EINVAL);
	sl_batch_free(b);
	sl_schema_free(n2);
	sl_schema_free(s);
}

/* A batch that cannot grow becomes full early, its rows intact. */
static void test_batch_full_early_when_growth_fails(void **state)
{
	sl_schema *s = sl_schema_new();
	char name[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "c%d", i);
		assert_int_equal(sl_schema_add(s, name, sl_type_make(SL_INT32), true), 0);
	}
	sl_batch *b = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_batch_new(&b, s, 1000, &err), 0);
	int64_t first = b->cols[0].capacity;
	assert_true(first < 1000);
	int64_t r = 0;
	for (; !sl_batch_full(b); r++) {
		if (r == first - 1)
			sl_alloc_fail_after(5); /* growth after this row fails part way */
		for (int i = 0; i < b->ncols; i++)
			sl_column_append_i32(&b->cols[i], (int32_t)(r + i));
		sl_batch_end_row(b);
	}
	sl_alloc_fail_after(-1);
	assert_int_equal(b->nrows, first);
	assert_int_equal(b->capacity, first);
	for (int i = 0; i < b->ncols; i += 1999)
		assert_int_equal(b->cols[i].v.i32[first - 1], (int32_t)(first - 1 + i));
	sl_batch_free(b);
	sl_schema_free(s);
}

/* The one renaming rule every source uses (sl_names_make_unique). */
static void test_names_make_unique(void **state)
{
	sl_arena a;
	sl_error err = SL_ERROR_INIT;
	size_t renamed = 99;
	sl_arena_init(&a, 1024);
	char *n1[] = {"id", "Id", "ID", "name", "id_1", "Name_1", "name", "x"};
	assert_int_equal(sl_names_make_unique(n1, 8, &a, &renamed, &err), 0);
	const char *w1[] = {"id", "Id_2", "ID_3", "name", "id_1", "Name_1", "name_2", "x"};
	for (int i = 0; i < 8; i++)
		assert_string_equal(n1[i], w1[i]);
	assert_int_equal(renamed, 3);

	/* Already unique: nothing changes, pointers kept. */
	char *n2[] = {"a", "b", "c"};
	char *keep = n2[1];
	assert_int_equal(sl_names_make_unique(n2, 3, &a, &renamed, &err), 0);
	assert_int_equal(renamed, 0);
	assert_ptr_equal(n2[1], keep);
	assert_int_equal(sl_names_make_unique(NULL, 0, &a, NULL, &err), 0);

	/* Non-ASCII bytes compare exactly; suffixes never repeat. */
	char *n3[] = {"é", "É", "é", "é_1", "é"};
	assert_int_equal(sl_names_make_unique(n3, 5, &a, NULL, &err), 0);
	const char *w3[] = {"é", "É", "é_2", "é_1", "é_3"};
	for (int i = 0; i < 5; i++)
		assert_string_equal(n3[i], w3[i]);
	sl_arena_free(&a);

	/* Out of memory at any allocation: an error, never a half result. */
	for (long k = 0; k < 12; k++) {
		char *n4[] = {"a", "A", "a", "a_1"};
		sl_arena_init(&a, 64);
		sl_alloc_fail_after(k);
		int rc = sl_names_make_unique(n4, 4, &a, NULL, &err);
		sl_alloc_fail_after(-1);
		assert_true(rc == 0 || rc == SL_ENOMEM);
		if (rc == 0)
			assert_string_equal(n4[2], "a_3");
		sl_arena_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_parse_and_name),
		cmocka_unit_test(test_decimal_parse_exact),
		cmocka_unit_test(test_append_text_and_format_back),
		cmocka_unit_test(test_append_text_rejects_with_reason),
		cmocka_unit_test(test_discard_row_rolls_back_partial_appends),
		cmocka_unit_test(test_arrow_export_layout),
		cmocka_unit_test(test_append_from_same_string_column),
		cmocka_unit_test(test_wide_batch_grows_with_its_rows),
		cmocka_unit_test(test_batch_full_early_when_growth_fails),
		cmocka_unit_test(test_names_make_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
