/*
 * test_http_json.c: the http source's pure parts, no network: the streaming
 * page parser (records path, cursor, caps, bad pages, restarts), flattening,
 * value text, type inference and widening, records into batch rows,
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

/* ------------------------------------------------------ streaming parser */

/* What a parser handed on for one page. */
typedef struct page_got {
	int n;
	json_t *recs;        /* good records */
	char reasons[8][200];
	int64_t bad_index[8];
	int nbad;
	size_t max_bytes;
} page_got;

static int collect(void *ctx, json_t *record, const char *reason, int64_t index, size_t bytes)
{
	page_got *g = ctx;
	g->n++;
	if (bytes > g->max_bytes)
		g->max_bytes = bytes;
	if (reason) {
		assert_true(g->nbad < 8);
		snprintf(g->reasons[g->nbad], sizeof g->reasons[0], "%s", reason);
		g->bad_index[g->nbad++] = index;
		json_decref(record);
		return 0;
	}
	assert_non_null(record);
	json_array_append_new(g->recs, record);
	return 0;
}

/*
 * Parses body fed in pieces of chunk bytes with the given paths and cap;
 * returns finish's result (0 ok, 1 bad page). The parser stays in *pp.
 */
static int parse_page(sl_http_parser **pp, page_got *g, const char *records, const char *next,
		      const char *total, size_t cap, const char *body, size_t chunk)
{
	sl_http_parser_opts o = {.records_path = records,
				  .next_path = next,
				  .total_path = total,
				  .max_record_bytes = cap};
	memset(g, 0, sizeof *g);
	g->recs = json_array();
	assert_int_equal(sl_http_parser_new(pp, &o, collect, g), 0);
	size_t n = strlen(body);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i += chunk)
		rc = sl_http_parser_feed(*pp, body + i, n - i < chunk ? n - i : chunk);
	if (rc == 0)
		rc = sl_http_parser_finish(*pp);
	return rc;
}

static void got_free(sl_http_parser *p, page_got *g)
{
	sl_http_parser_free(p);
	json_decref(g->recs);
}

static void test_http_stream_records_path_and_cursor_anywhere(void **state)
{
	(void)state;
	/* The next cursor and the total come after the records; any chunking. */
	const char *body = "{\"data\": {\"items\": [{\"a\": 1, \"s\": \"x\\u00e9\\\"y\"}, "
			   "{\"a\": 2, \"n\": {\"b\": [true, null, 1.5]}}]}, "
			   "\"skip\": [{\"items\": [9]}], \"meta\": {\"next\": \"c2\", \"total\": 7}}";
	for (size_t chunk = 1; chunk <= strlen(body); chunk += chunk < 8 ? 1 : 17) {
		sl_http_parser *p;
		page_got g;
		assert_int_equal(parse_page(&p, &g, "data.items", "meta.next", "meta.total", 0, body,
					    chunk), 0);
		const sl_http_page_info *pi = sl_http_parser_info(p);
		assert_int_equal(json_array_size(g.recs), 2);
		char *s = json_dumps(g.recs, JSON_COMPACT);
		assert_string_equal(s, "[{\"a\":1,\"s\":\"x\xc3\xa9\\\"y\"},"
				       "{\"a\":2,\"n\":{\"b\":[true,null,1.5]}}]");
		free(s);
		assert_true(pi->has_next);
		assert_string_equal(pi->next.data, "c2");
		assert_true(pi->has_total);
		assert_int_equal(pi->total, 7);
		assert_int_equal(pi->nrecords, 2);
		got_free(p, &g);
	}

	/* An empty path: the body is the array. Numeric segments index arrays. */
	sl_http_parser *p;
	page_got g;
	assert_int_equal(parse_page(&p, &g, "", NULL, NULL, 0, "[{\"x\": 1}, 5]", 3), 0);
	assert_int_equal(g.n, 2);
	got_free(p, &g);
	assert_int_equal(parse_page(&p, &g, "r.1.items", NULL, NULL, 0,
				    "{\"r\": [{\"items\": [1]}, {\"items\": [{\"k\": 2}]}]}", 5), 0);
	assert_int_equal(json_array_size(g.recs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(g.recs, 0), "k")), 2);
	got_free(p, &g);

	/* A null cursor or an empty one: no next page. */
	assert_int_equal(parse_page(&p, &g, "d", "m.n", NULL, 0, "{\"m\":{\"n\":null},\"d\":[]}",
				    4), 0);
	assert_false(sl_http_parser_info(p)->has_next);
	got_free(p, &g);
}

static void test_http_stream_bad_pages_say_why(void **state)
{
	(void)state;
	struct {
		const char *records, *body, *error;
	} cases[] = {
		{"data.nope", "{\"data\": {\"items\": []}}",
		 "records path \"data.nope\" is not in the response"},
		{"data", "{\"data\": {\"items\": []}}",
		 "records path \"data\" holds an object, not an array of records"},
		{"data", "{\"data\": null}", "records path \"data\" is not in the response"},
		{"", "{\"a\": 1}", "records path \"(the body)\" holds an object, not an array of "
				   "records"},
		{"d", "{not json", "response is not JSON: "},
		{"d", "<html><body>502 Bad Gateway</body></html>", "response is not JSON: "},
		{"d", "{\"d\": [1, 2", "response is not JSON: "},
		{"d", "{\"d\": []} trailing", "response is not JSON: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sl_http_parser *p;
		page_got g;
		assert_int_equal(parse_page(&p, &g, cases[i].records, NULL, NULL, 0, cases[i].body, 3),
				 1);
		const sl_http_page_info *pi = sl_http_parser_info(p);
		assert_non_null(pi->error.data);
		assert_int_equal(strncmp(pi->error.data, cases[i].error, strlen(cases[i].error)), 0);
		/* The head of the body is kept for the quarantine row. */
		assert_int_equal(strncmp(pi->head.data, cases[i].body, pi->head.len), 0);
		got_free(p, &g);
	}
}

/* A record above the cap is handed on as bad, not held; the records after
 * it are parsed as usual, whatever the chunking. */
static void test_http_stream_oversized_record_quarantined_alone(void **state)
{
	(void)state;
	sl_buf body = SL_BUF_INIT;
	/* record 2: one long string; record 4: many small values; record 5: a
	 * long number; each larger than the 1 KiB cap. */
	sl_buf_puts(&body, "{\"data\": [{\"id\": 1}, {\"id\": 2, \"blob\": \"");
	for (int i = 0; i < 5000; i++)
		sl_buf_puts(&body, i % 50 ? "a" : "\\\"]},");
	sl_buf_puts(&body, "\"}, {\"id\": 3}, {\"id\": 4, \"v\": [");
	for (int i = 0; i < 2000; i++)
		sl_buf_puts(&body, i ? ",[{\"q\":1}]" : "[{\"q\":1}]");
	sl_buf_puts(&body, "]}, ");
	for (int i = 0; i < 3000; i++)
		sl_buf_putc(&body, '7');
	sl_buf_puts(&body, ", {\"id\": 6}], \"meta\": {\"next\": \"n\"}}");
	size_t chunks[] = {1, 7, 100, 1000, 100000};
	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		sl_http_parser *p;
		page_got g;
		assert_int_equal(parse_page(&p, &g, "data", "meta.next", NULL, 1024, body.data,
					    chunks[c]), 0);
		assert_int_equal(g.n, 6);
		assert_int_equal(json_array_size(g.recs), 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(json_integer_value(
						 json_object_get(json_array_get(g.recs, i), "id")),
					 i == 0 ? 1 : i == 1 ? 3 : 6);
		assert_int_equal(g.nbad, 3);
		assert_int_equal(g.bad_index[0], 2);
		assert_int_equal(g.bad_index[1], 4);
		assert_int_equal(g.bad_index[2], 5);
		for (int i = 0; i < 3; i++)
			assert_string_equal(g.reasons[i], "record larger than max_record_bytes (1024 "
							  "bytes); not kept");
		assert_true(g.max_bytes <= 1024 + 16 + 1024);
		assert_string_equal(sl_http_parser_info(p)->next.data, "n");
		got_free(p, &g);
	}

	/* A value that large outside the records ends the page. */
	sl_buf_reset(&body);
	sl_buf_puts(&body, "{\"data\": [{\"id\": 1}], \"junk\": \"");
	for (int i = 0; i < 5000; i++)
		sl_buf_putc(&body, 'z');
	sl_buf_puts(&body, "\"}");
	sl_http_parser *p;
	page_got g;
	assert_int_equal(parse_page(&p, &g, "data", NULL, NULL, 1024, body.data, 512), 1);
	assert_string_equal(sl_http_parser_info(p)->error.data,
			    "a JSON value larger than max_record_bytes (1024 bytes) outside the "
			    "records");
	assert_int_equal(g.n, 1);
	assert_true(sl_http_parser_info(p)->head.len <= SL_HTTP_HEAD_MAX);
	got_free(p, &g);
	sl_buf_free(&body);
}

/* One number beyond int64 (or double) makes its record bad, not the page. */
static void test_http_stream_number_out_of_range_is_one_bad_record(void **state)
{
	(void)state;
	sl_http_parser *p;
	page_got g;
	assert_int_equal(parse_page(&p, &g, "d", NULL, NULL, 0,
				    "{\"d\": [{\"id\": 1, \"n\": 9223372036854775807}, "
				    "{\"id\": 2, \"n\": 92233720368547758070}, {\"id\": 3, \"f\": 1e999}, "
				    "{\"id\": 4, \"n\": -9223372036854775808, \"f\": 2.5e-3}]}",
				    5),
			 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(json_array_size(g.recs), 2);
	assert_int_equal(g.nbad, 2);
	assert_int_equal(g.bad_index[0], 2);
	assert_string_equal(g.reasons[0],
			    "field \"n\": integer 92233720368547758070 does not fit in 64 bits");
	assert_int_equal(g.bad_index[1], 3);
	assert_string_equal(g.reasons[1], "field \"f\": number 1e999 does not fit in a 64-bit float");
	assert_true(json_integer_value(json_object_get(json_array_get(g.recs, 1), "n")) == INT64_MIN);
	got_free(p, &g);
}

/* A restart (a retry of the same page) skips the records handed on. */
static void test_http_stream_restart_skips_records_read(void **state)
{
	(void)state;
	sl_http_parser *p;
	page_got g;
	const char *body = "[{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]";
	sl_http_parser_opts o = {.records_path = ""};
	memset(&g, 0, sizeof g);
	g.recs = json_array();
	assert_int_equal(sl_http_parser_new(&p, &o, collect, &g), 0);
	assert_int_equal(sl_http_parser_feed(p, body, 21), 0); /* records 1 and 2 */
	assert_int_equal(g.n, 2);
	assert_int_equal(sl_http_parser_restart(p, 2), 0);
	assert_int_equal(sl_http_parser_feed(p, body, strlen(body)), 0);
	assert_int_equal(sl_http_parser_finish(p), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(g.recs, 2), "id")), 3);
	/* Identical records, identical hash; different ones differ. */
	uint64_t h1 = sl_http_parser_info(p)->hash;
	assert_int_equal(sl_http_parser_changed(p), 0);
	assert_int_equal(sl_http_parser_restart(p, 0), 0); /* the next page */
	const char *same = "[{\"id\":1},{\"id\":2},{\"id\":3}]";
	assert_int_equal(sl_http_parser_feed(p, same, strlen(same)), 0);
	assert_int_equal(sl_http_parser_finish(p), 0);
	assert_true(sl_http_parser_info(p)->hash == h1);
	assert_int_equal(sl_http_parser_restart(p, 0), 0);
	const char *other = "[{\"id\":1},{\"id\":2},{\"id\":4}]";
	assert_int_equal(sl_http_parser_feed(p, other, strlen(other)), 0);
	assert_int_equal(sl_http_parser_finish(p), 0);
	assert_true(sl_http_parser_info(p)->hash != h1);
	/* A retry whose records are not the ones handed on stops the page. */
	assert_int_equal(sl_http_parser_restart(p, 2), 0);
	const char *swapped = "[{\"id\":2},{\"id\":1},{\"id\":4}]";
	assert_int_equal(sl_http_parser_feed(p, swapped, strlen(swapped)), 1);
	assert_int_equal(sl_http_parser_changed(p), 1);
	/* ... and so does one that ends before the records handed on. */
	assert_int_equal(sl_http_parser_restart(p, 0), 0);
	assert_int_equal(sl_http_parser_feed(p, same, strlen(same)), 0);
	assert_int_equal(sl_http_parser_finish(p), 0);
	assert_int_equal(sl_http_parser_restart(p, 3), 0);
	const char *shorter = "[{\"id\":1},{\"id\":2}]";
	assert_int_equal(sl_http_parser_feed(p, shorter, strlen(shorter)), 0);
	assert_int_equal(sl_http_parser_finish(p), 1);
	assert_int_equal(sl_http_parser_changed(p), 3);
	got_free(p, &g);
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

/* Fields equal ignoring case get unique column names; records still match by
 * their exact field names. */
static void test_http_records_case_collisions_renamed(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_http_records r;
	sl_schema *schema = NULL;
	sl_batch *b = NULL;
	sl_buf reason = SL_BUF_INIT;
	char *renamed = NULL;
	sl_http_records_init(&r, false, "api.t");
	json_t *rec = parse("{\"A\": 1, \"a\": 2, \"Id\": 3, \"a_1\": 4}");
	assert_int_equal(sl_http_records_infer(&r, rec, &err), 0);
	assert_int_equal(sl_http_records_schema(&r, NULL, 0, &schema, &renamed, &err), 0);
	assert_int_equal(schema->nfields, 4);
	assert_string_equal(schema->fields[0].name, "A");
	assert_string_equal(schema->fields[1].name, "a_2");
	assert_string_equal(schema->fields[2].name, "Id");
	assert_string_equal(schema->fields[3].name, "a_1");
	assert_non_null(renamed);
	assert_string_equal(renamed, "a → a_2");
	assert_int_equal(sl_batch_new(&b, schema, 4, &err), 0);
	assert_int_equal(sl_http_records_append(&r, b, rec, &reason, &err), 0);
	sl_batch_end_row(b);
	assert_int_equal(b->cols[1].type.id, SL_INT64);
	assert_int_equal(b->cols[1].v.i64[0], 2);
	assert_int_equal(b->cols[3].v.i64[0], 4);
	sl_free(renamed);
	sl_batch_free(b);
	sl_schema_free(schema);
	sl_buf_free(&reason);
	sl_http_records_free(&r);
	json_decref(rec);
}

/* Inference, schema and appending records as batch rows. */
static void test_http_records_infer_and_append_rows(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_http_records r;
	sl_schema *schema = NULL;
	sl_batch *b = NULL;
	sl_buf reason = SL_BUF_INIT;
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
	assert_int_equal(sl_http_records_schema(&r, NULL, 0, &schema, NULL, &err), 0);
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
		assert_int_equal(
			sl_http_records_append(&r, b, json_array_get(recs, i), &reason, &err), 0);
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
		sl_buf_reset(&reason);
		assert_int_equal(sl_http_records_append(&r, b, rec, &reason, &err), 1);
		assert_string_equal(reason.data, bad[i][1]);
		sl_batch_discard_row(b);
		json_decref(rec);
	}
	/* A new field that is null carries no data. */
	json_t *rec = parse("{\"id\": 4, \"new\": null}");
	assert_int_equal(sl_http_records_append(&r, b, rec, &reason, &err), 0);
	sl_batch_end_row(b);
	assert_int_equal(b->nrows, 3);
	assert_int_equal(b->cols[1].v.i64[2], 4);
	json_decref(rec);

	sl_buf_free(&reason);
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
	/* An empty value into a fresh buffer is a terminated empty string
	 * (it was allocated without its terminating NUL). */
	sl_buf fresh = SL_BUF_INIT;
	assert_int_equal(sl_http_template(&fresh, "", "x"), 0);
	assert_non_null(fresh.data);
	assert_string_equal(fresh.data, "");
	sl_buf_free(&fresh);
}

/* The next link of a Link header, or NULL. */
static char *link_next(const char *h)
{
	char *out = NULL;
	int rc = sl_http_link_next(h, &out);
	assert_true(rc == 0 || rc == 1);
	assert_int_equal(rc == 1, out != NULL);
	return out;
}

static void expect_link(const char *h, const char *want)
{
	char *got = link_next(h);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	sl_free(got);
}

static void test_http_link_header_next(void **state)
{
	(void)state;
	expect_link("<https://api.example.com/items?page=2>; rel=\"next\", "
		    "<https://api.example.com/items?page=9>; rel=\"last\"",
		    "https://api.example.com/items?page=2");
	/* next not first, unquoted rel, several rels, extra params */
	expect_link("</p?c=1>; rel=prev, </p?c=3>; title=\"a, b\"; rel=\"last next\"", "/p?c=3");
	expect_link("<http://x/a;b>;REL=Next", "http://x/a;b");
	expect_link("<http://x/1>; rel=\"prev\"", NULL);
	expect_link("", NULL);
	expect_link("garbage", NULL);
	/* rel="nextish" is not next */
	expect_link("<http://x/2>; rel=\"nextish\"", NULL);
	/* A URL of any length (no fixed buffer). */
	sl_buf h = SL_BUF_INIT, want = SL_BUF_INIT;
	sl_buf_puts(&want, "http://x/");
	for (int i = 0; i < 10000; i++)
		sl_buf_putc(&want, 'a' + i % 26);
	sl_buf_printf(&h, "<%s>; rel=next", want.data);
	expect_link(h.data, want.data);
	sl_buf_free(&h);
	sl_buf_free(&want);
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
		cmocka_unit_test(test_http_stream_records_path_and_cursor_anywhere),
		cmocka_unit_test(test_http_stream_bad_pages_say_why),
		cmocka_unit_test(test_http_stream_oversized_record_quarantined_alone),
		cmocka_unit_test(test_http_stream_number_out_of_range_is_one_bad_record),
		cmocka_unit_test(test_http_stream_restart_skips_records_read),
		cmocka_unit_test(test_http_flatten_nested_objects_into_columns),
		cmocka_unit_test(test_http_value_text_is_exact),
		cmocka_unit_test(test_http_kind_inference_and_widening),
		cmocka_unit_test(test_http_records_infer_and_append_rows),
		cmocka_unit_test(test_http_records_many_fields_any_order),
		cmocka_unit_test(test_http_watermark_template),
		cmocka_unit_test(test_http_link_header_next),
		cmocka_unit_test(test_http_records_case_collisions_renamed),
		cmocka_unit_test(test_http_retry_after_seconds_and_dates),
		cmocka_unit_test(test_http_backoff_grows_with_jitter_and_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
