/*
 * test_http_json.c: the http source's pure parts, no network: record path
 * selection, flattening, value text, type inference and widening, records
 * into batch rows,
 * {{ watermark }} templating, Link and Retry-After parsing, backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/http_int.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void test_http_records_path_selects_nested_array(void **state)
{
	(void)state;
	json_t *body = parse("{\"data\": {\"items\": [{\"a\": 1}, {\"a\": 2}]}, \"meta\": {}}");
	json_t *recs = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_http_select_records(body, "data.items", &recs, &err), 0);
	assert_int_equal(json_array_size(recs), 2);

	assert_int_equal(sl_http_select_records(body, "data.nope", &recs, &err), SL_EFORMAT);
	assert_string_equal(err.message, "records path \"data.nope\" is not in the response");
	assert_int_equal(sl_http_select_records(body, "data", &recs, &err), SL_EFORMAT);
	assert_string_equal(err.message,
			    "records path \"data\" holds an object, not an array of records");
	assert_int_equal(sl_http_select_records(body, "", &recs, &err), SL_EFORMAT);
	json_decref(body);

	/* An empty path: the body is the array. Numeric segments index arrays. */
	body = parse("[{\"x\": [10, {\"y\": 7}]}]");
	assert_int_equal(sl_http_select_records(body, "", &recs, &err), 0);
	assert_ptr_equal(recs, body);
	assert_int_equal(json_integer_value(sl_http_json_path(body, "0.x.1.y")), 7);
	assert_null(sl_http_json_path(body, "0.x.5"));
	assert_null(sl_http_json_path(body, "a"));
	json_decref(body);
}

static void test_http_flatten_nested_objects_into_columns(void **state)
{
	(void)state;
	json_t *rec = parse("{\"id\": 1, \"customer\": {\"name\": \"Ann\", \"address\": "
			    "{\"city\": \"Oslo\"}}, \"tags\": [\"a\", \"b\"], \"empty\": {}, "
			    "\"n\": null}");
	sl_http_flat f;
	sl_http_flat_init(&f);
	sl_error err = SL_ERROR_INIT;
	sl_buf text = SL_BUF_INIT;
	assert_int_equal(sl_http_flatten(&f, rec, false, &err), 0);
	assert_int_equal(f.n, 6);
	assert_string_equal(f.names[0], "id");
	assert_string_equal(f.names[1], "customer__name");
	assert_string_equal(f.names[2], "customer__address__city");
	assert_string_equal(json_string_value(f.values[2]), "Oslo");
	assert_string_equal(f.names[3], "tags");
	sl_http_value_text(f.values[3], &text);
	assert_string_equal(text.data, "[\"a\",\"b\"]");
	assert_string_equal(f.names[4], "empty");
	assert_string_equal(f.names[5], "n");

	/* flatten: json keeps nested objects whole. */
	assert_int_equal(sl_http_flatten(&f, rec, true, &err), 0);
	assert_int_equal(f.n, 5);
	assert_string_equal(f.names[1], "customer");
	sl_http_value_text(f.values[1], &text);
	assert_string_equal(text.data, "{\"name\":\"Ann\",\"address\":{\"city\":\"Oslo\"}}");

	json_t *arr = parse("[1]");
	assert_int_equal(sl_http_flatten(&f, arr, false, &err), SL_EINVAL);
	assert_string_equal(err.message, "record is not a JSON object");
	json_decref(arr);
	json_decref(rec);
	sl_http_flat_free(&f);
	sl_buf_free(&text);
}

static void test_http_value_text_is_exact(void **state)
{
	(void)state;
	json_t *v = parse("[0.1, 9007199254740993, -5, true, false, \"tab\\there\", 1e300, 2.5]");
	const char *want[] = {"0.1", "9007199254740993", "-5", "true", "false", "tab\there",
			      "1e+300", "2.5"};
	sl_buf text = SL_BUF_INIT;
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(sl_http_value_text(json_array_get(v, i), &text), 0);
		assert_string_equal(text.data, want[i]);
	}
	json_decref(v);
	sl_buf_free(&text);
}

static void test_http_kind_inference_and_widening(void **state)
{
	(void)state;
	json_t *v = parse("[null, true, 3, 3.5, \"2024-01-31\", \"2024-01-31T10:00:00Z\", "
			  "\"2024-01-31 10:00:00.5+02:00\", \"hello\", \"2024-13-01\", {\"a\":1}, [1]]");
	sl_http_kind want[] = {SL_HTTP_K_NULL, SL_HTTP_K_BOOL, SL_HTTP_K_INT,
			       SL_HTTP_K_FLOAT, SL_HTTP_K_DATE, SL_HTTP_K_TIMESTAMP,
			       SL_HTTP_K_TIMESTAMP, SL_HTTP_K_STRING, SL_HTTP_K_STRING,
			       SL_HTTP_K_STRING, SL_HTTP_K_STRING};
	for (size_t i = 0; i < json_array_size(v); i++)
		assert_int_equal(sl_http_kind_of(json_array_get(v, i)), want[i]);
	json_decref(v);

	assert_int_equal(sl_http_widen(SL_HTTP_K_NULL, SL_HTTP_K_INT), SL_HTTP_K_INT);
	assert_int_equal(sl_http_widen(SL_HTTP_K_INT, SL_HTTP_K_NULL), SL_HTTP_K_INT);
	assert_int_equal(sl_http_widen(SL_HTTP_K_INT, SL_HTTP_K_FLOAT), SL_HTTP_K_FLOAT);
	assert_int_equal(sl_http_widen(SL_HTTP_K_FLOAT, SL_HTTP_K_INT), SL_HTTP_K_FLOAT);
	assert_int_equal(sl_http_widen(SL_HTTP_K_DATE, SL_HTTP_K_TIMESTAMP), SL_HTTP_K_TIMESTAMP);
	assert_int_equal(sl_http_widen(SL_HTTP_K_BOOL, SL_HTTP_K_INT), SL_HTTP_K_STRING);
	assert_int_equal(sl_http_widen(SL_HTTP_K_TIMESTAMP, SL_HTTP_K_STRING), SL_HTTP_K_STRING);
	assert_int_equal(sl_http_widen(SL_HTTP_K_INT, SL_HTTP_K_TIMESTAMP), SL_HTTP_K_STRING);

	char tn[32];
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_NULL), tn, 32), "string");
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_INT), tn, 32), "int64");
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_FLOAT), tn, 32), "float64");
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_BOOL), tn, 32), "bool");
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_DATE), tn, 32), "date");
	assert_string_equal(sl_type_name(sl_http_kind_type(SL_HTTP_K_TIMESTAMP), tn, 32),
			    "timestamp");
}

/* Inference, schema and appending records as batch rows. */
static void test_http_records_infer_and_append_rows(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_http_records r;
	sl_schema *schema = NULL;
	sl_batch *b = NULL;
	char reason[512];
	char tn[32];
	sl_http_records_init(&r, false, "api.t");
	sl_type i32 = {0};
	assert_int_equal(sl_type_parse("int32", &i32), 0);
	assert_int_equal(sl_http_records_declare(&r, "small", i32, &err), 0);
	json_t *recs = parse("[{\"id\": 1, \"x\": 1.5, \"ok\": true, \"d\": \"2024-01-31\", "
			     "\"c\": {\"a\": {\"b\": \"s\"}}, \"n\": null, \"small\": 7},"
			     "{\"d\": \"2024-02-01\", \"id\": 2, \"x\": 2, \"ok\": false, \"tags\": [1]},"
			     "5]");
	for (size_t i = 0; i < json_array_size(recs); i++)
		assert_int_equal(sl_http_records_infer(&r, json_array_get(recs, i), &err), 0);
	assert_int_equal(sl_http_records_schema(&r, &schema, &err), 0);
	const char *names[] = {"small", "id", "x", "ok", "d", "c__a__b", "n", "tags"};
	const char *types[] = {"int32", "int64", "float64", "bool", "date", "string", "string",
			       "string"};
	assert_int_equal(r.ncols, 8);
	for (int i = 0; i < 8; i++) {
		assert_string_equal(r.cols[i].name, names[i]);
		assert_int_equal(sl_http_records_find(&r, names[i]), i);
		assert_string_equal(sl_type_name(r.cols[i].type, tn, sizeof tn), types[i]);
	}
	assert_int_equal(sl_http_records_find(&r, "nope"), -1);
	assert_int_equal(sl_batch_new(&b, schema, 8, &err), 0);

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sl_http_records_append(&r, b, json_array_get(recs, i), reason,
							sizeof reason, &err), 0);
		sl_batch_end_row(b);
	}
	assert_int_equal(b->nrows, 2);
	assert_int_equal(b->cols[0].v.i32[0], 7);
	assert_true(sl_column_is_null(&b->cols[0], 1));
	assert_int_equal(b->cols[1].v.i64[1], 2);
	assert_true(b->cols[2].v.f64[0] == 1.5 && b->cols[2].v.f64[1] == 2.0);
	assert_true(sl_bit_get(b->cols[3].v.bits, 0) && !sl_bit_get(b->cols[3].v.bits, 1));
	assert_int_equal(b->cols[4].v.i32[1] - b->cols[4].v.i32[0], 1);
	size_t n;
	const char *s = sl_column_str(&b->cols[5], 0, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(s, "s", 1);
	assert_true(sl_column_is_null(&b->cols[6], 0));
	s = sl_column_str(&b->cols[7], 1, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "[1]", 3);

	/* Records that do not fit: the reason, and the caller discards. */
	const char *bad[][2] = {
		{"5", "record is not a JSON object"},
		{"{\"id\": 3, \"new\": 1}", "unexpected field \"new\": not in the schema inferred "
					    "from the first pages; declare it in columns:"},
		{"{\"c\": {\"a__b\": \"x\"}, \"c__a\": {\"b\": \"y\"}}",
		 "field \"c__a__b\" appears twice after flattening"},
		{"{\"small\": 3000000000}", "field \"small\": '3000000000' is not a valid int32"},
		{"{\"id\": \"abc\"}", "field \"id\": 'abc' is not a valid int64"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *rec = parse(bad[i][0]);
		assert_int_equal(sl_http_records_append(&r, b, rec, reason, sizeof reason, &err), 1);
		assert_string_equal(reason, bad[i][1]);
		sl_batch_discard_row(b);
		json_decref(rec);
	}
	/* A new field that is null carries no data. */
	json_t *rec = parse("{\"id\": 4, \"new\": null}");
	assert_int_equal(sl_http_records_append(&r, b, rec, reason, sizeof reason, &err), 0);
	sl_batch_end_row(b);
	assert_int_equal(b->nrows, 3);
	assert_int_equal(b->cols[1].v.i64[2], 4);
	json_decref(rec);

	json_decref(recs);
	sl_batch_free(b);
	sl_schema_free(schema);
	sl_http_records_free(&r);
}

/* Many columns, fields in varying order: every name finds its column. */
static void test_http_records_many_fields_any_order(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_http_records r;
	char name[32];
	sl_http_records_init(&r, false, "api.t");
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "f%d", i);
		assert_int_equal(sl_http_records_add_col(&r, name, &err), i);
	}
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 300; i++) {
			int j = (i * 7 + k * 13) % 300;
			snprintf(name, sizeof name, "f%d", j);
			assert_int_equal(sl_http_records_find(&r, name), j);
		}
	assert_int_equal(sl_http_records_find(&r, "f300"), -1);
	sl_http_records_free(&r);
}

static void test_http_watermark_template(void **state)
{
	(void)state;
	sl_buf b = SL_BUF_INIT;
	assert_true(sl_http_is_watermark_only("{{ watermark }}"));
	assert_true(sl_http_is_watermark_only("{{watermark}}"));
	assert_false(sl_http_is_watermark_only("since {{ watermark }}"));
	assert_false(sl_http_is_watermark_only("{{ watermarks }}"));
	assert_false(sl_http_is_watermark_only(""));

	assert_int_equal(sl_http_template(&b, "updated>{{ watermark }}&x={{watermark}}",
					  "2024-01-01T00:00:00Z"), 0);
	assert_string_equal(b.data, "updated>2024-01-01T00:00:00Z&x=2024-01-01T00:00:00Z");
	sl_buf_reset(&b);
	assert_int_equal(sl_http_template(&b, "a{{ watermark }}b", NULL), 0);
	assert_string_equal(b.data, "ab");
	sl_buf_reset(&b);
	assert_int_equal(sl_http_template(&b, "{{ other }}{{", "x"), 0);
	assert_string_equal(b.data, "{{ other }}{{");
	sl_buf_reset(&b);
	assert_int_equal(sl_http_template(&b, "", "x"), 0);
	assert_string_equal(b.data, "");
	sl_buf_free(&b);
}

static void test_http_link_header_next(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(sl_http_link_next("<https://api.example.com/items?page=2>; rel=\"next\", "
					   "<https://api.example.com/items?page=9>; rel=\"last\"",
					   out, sizeof out), 1);
	assert_string_equal(out, "https://api.example.com/items?page=2");
	/* next not first, unquoted rel, several rels, extra params */
	assert_int_equal(sl_http_link_next("</p?c=1>; rel=prev, </p?c=3>; title=\"a, b\"; "
					   "rel=\"last next\"", out, sizeof out), 1);
	assert_string_equal(out, "/p?c=3");
	assert_int_equal(sl_http_link_next("<http://x/a;b>;REL=Next", out, sizeof out), 1);
	assert_string_equal(out, "http://x/a;b");
	assert_int_equal(sl_http_link_next("<http://x/1>; rel=\"prev\"", out, sizeof out), 0);
	assert_int_equal(sl_http_link_next("", out, sizeof out), 0);
	assert_int_equal(sl_http_link_next("garbage", out, sizeof out), 0);
	assert_int_equal(sl_http_link_next("<http://x/very-long>; rel=next", out, 8), 0);
	/* rel="nextish" is not next */
	assert_int_equal(sl_http_link_next("<http://x/2>; rel=\"nextish\"", out, sizeof out), 0);
}

static void test_http_retry_after_seconds_and_dates(void **state)
{
	(void)state;
	double s = -1;
	int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	assert_int_equal(sl_http_retry_after("1", now, &s), 0);
	assert_true(s == 1.0);
	assert_int_equal(sl_http_retry_after(" 120 \r\n", now, &s), 0);
	assert_true(s == 120.0);
	assert_int_equal(sl_http_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now, &s), 0);
	assert_true(s == 10.0);
	assert_int_equal(sl_http_retry_after("Sunday, 06-Nov-94 08:49:40 GMT", now, &s), 0);
	assert_true(s == 3.0);
	/* a date in the past: retry now */
	assert_int_equal(sl_http_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now, &s), 0);
	assert_true(s == 0.0);
	assert_int_equal(sl_http_retry_after("-3", now, &s), SL_EINVAL);
	assert_int_equal(sl_http_retry_after("", now, &s), SL_EINVAL);
	assert_int_equal(sl_http_retry_after("soon", now, &s), SL_EINVAL);
	assert_int_equal(sl_http_retry_after("1.5", now, &s), SL_EINVAL);
}

static void test_http_backoff_grows_with_jitter_and_cap(void **state)
{
	(void)state;
	assert_true(sl_http_backoff(0, 0.25, 30, 0.0) == 0.125);
	assert_true(sl_http_backoff(0, 0.25, 30, 0.999) > 0.249);
	assert_true(sl_http_backoff(3, 0.25, 30, 0.0) == 1.0);
	assert_true(sl_http_backoff(3, 0.25, 30, 0.5) == 1.5);
	assert_true(sl_http_backoff(20, 0.25, 30, 0.0) == 15.0);
	assert_true(sl_http_backoff(100, 0.25, 30, 0.9999) <= 30.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_records_path_selects_nested_array),
		cmocka_unit_test(test_http_flatten_nested_objects_into_columns),
		cmocka_unit_test(test_http_value_text_is_exact),
		cmocka_unit_test(test_http_kind_inference_and_widening),
		cmocka_unit_test(test_http_records_infer_and_append_rows),
		cmocka_unit_test(test_http_records_many_fields_any_order),
		cmocka_unit_test(test_http_watermark_template),
		cmocka_unit_test(test_http_link_header_next),
		cmocka_unit_test(test_http_retry_after_seconds_and_dates),
		cmocka_unit_test(test_http_backoff_grows_with_jitter_and_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
