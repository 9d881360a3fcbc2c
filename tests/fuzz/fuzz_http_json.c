/*
 * fuzz_http_json.c: libFuzzer target for the http source's JSON handling
 * (sources/http_json.c), without a network. Input: a first line holding
 * the records path (also fed to the Link, Retry-After and {{ watermark }}
 * parsers), then a JSON response body. The body is decoded like a page
 * (JSON_DECODE_ANY), its records selected, flattened (as columns or JSON,
 * by the path line's length), their kinds inferred and widened into a
 * schema, and each record converted into a batch the way the extractor
 * does it (value text -> sl_column_append_text), checking that a value
 * whose kind was inferred always converts. Build from the repository root:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_http_json.c \
//   src/sources/http_json.c src/batch/*.c src/base/*.c -ljansson -lcurl -lm -lpthread \
//   -o /tmp/fuzz_http_json
// /tmp/fuzz_http_json -max_total_time=60 -rss_limit_mb=2048 /tmp/seeds-http
#include "sources/http_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 256

typedef struct col {
	char *name;
	sl_http_kind kind;
} col;

static int find(col *cols, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return i;
	return -1;
}

/* The header parsers and the template on the path line. */
static void fuzz_text(const char *line)
{
	char out[64];
	double secs = 0;
	sl_buf b = SL_BUF_INIT;

	if (sl_http_link_next(line, out, sizeof out) == 1 && strlen(out) >= sizeof out)
		__builtin_trap();
	if (sl_http_retry_after(line, 1700000000, &secs) == 0 && !(secs >= 0))
		__builtin_trap();
	if (sl_http_template(&b, line, "2024-01-01T00:00:00Z") < 0 || !b.data)
		__builtin_trap();
	if (sl_http_is_watermark_only(line) && strcmp(b.data, "2024-01-01T00:00:00Z") != 0)
		__builtin_trap();
	sl_buf_free(&b);
}

static void convert(json_t *records, bool as_json)
{
	sl_http_flat flat;
	col cols[MAX_COLS];
	int ncols = 0;
	sl_schema *schema = NULL;
	sl_batch *batch = NULL;
	sl_buf text = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	size_t n = json_array_size(records);

	sl_http_flat_init(&flat);
	/* Inference over every record, as infer_schema does for the first pages. */
	for (size_t r = 0; r < n; r++) {
		if (sl_http_flatten(&flat, json_array_get(records, r), as_json, &err) < 0) {
			if (json_is_object(json_array_get(records, r)))
				__builtin_trap(); /* only non-objects are refused */
			continue;
		}
		for (int f = 0; f < flat.n; f++) {
			if (!flat.names[f] || !flat.values[f])
				__builtin_trap();
			int i = find(cols, ncols, flat.names[f]);
			if (i < 0) {
				if (ncols == MAX_COLS)
					goto out;
				cols[ncols].name = sl_strdup(flat.names[f]);
				cols[ncols].kind = SL_HTTP_K_NULL;
				if (!cols[ncols].name)
					goto out;
				i = ncols++;
			}
			sl_http_kind k = sl_http_kind_of(flat.values[f]);
			sl_http_kind w = sl_http_widen(cols[i].kind, k);
			if (w != sl_http_widen(k, cols[i].kind))
				__builtin_trap(); /* widening is symmetric */
			cols[i].kind = w;
		}
	}
	if (!(schema = sl_schema_new()))
		goto out;
	for (int i = 0; i < ncols; i++)
		if (sl_schema_add(schema, cols[i].name, sl_http_kind_type(cols[i].kind), true) < 0)
			goto out;
	if (sl_batch_new(&batch, schema, n ? (int64_t)n : 1, &err) < 0)
		goto out;

	/* Conversion, as add_record does it. */
	for (size_t r = 0; r < n; r++) {
		if (sl_http_flatten(&flat, json_array_get(records, r), as_json, &err) < 0)
			continue;
		bool seen[MAX_COLS] = {false};
		bool bad = false;
		for (int f = 0; f < flat.n && !bad; f++) {
			json_t *v = flat.values[f];
			int i = find(cols, ncols, flat.names[f]);
			if (i < 0 || seen[i]) {
				bad = true; /* "appears twice after flattening" */
				break;
			}
			seen[i] = true;
			sl_column *c = &batch->cols[i];
			if (json_is_null(v)) {
				sl_column_append_null(c);
				continue;
			}
			if (sl_http_value_text(v, &text) < 0)
				goto out;
			const char *s = text.data ? text.data : "";
			if (c->type.id == SL_STRING) {
				if (sl_column_append_str(c, s, text.len) < 0)
					goto out;
				continue;
			}
			sl_error verr = SL_ERROR_INIT;
			if (sl_column_append_text(c, s, text.len, &verr) < 0) {
				/* The column's kind came from values like this one. */
				fprintf(stderr, "field %s: inferred %d, value %s: %s\n", cols[i].name,
					cols[i].kind, s, verr.message);
				__builtin_trap();
			}
		}
		if (bad) {
			sl_batch_discard_row(batch);
			continue;
		}
		for (int i = 0; i < ncols; i++)
			if (!seen[i])
				sl_column_append_null(&batch->cols[i]);
		sl_batch_end_row(batch);
	}
out:
	sl_batch_free(batch);
	sl_schema_free(schema);
	sl_buf_free(&text);
	for (int i = 0; i < ncols; i++)
		sl_free(cols[i].name);
	sl_http_flat_free(&flat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : 0;
	char path[512];
	sl_error err = SL_ERROR_INIT;
	json_error_t jerr;

	if (plen >= sizeof path || memchr(data, 0, plen))
		return 0;
	memcpy(path, data, plen);
	path[plen] = '\0';
	fuzz_text(path);
	const char *body = nl ? (const char *)nl + 1 : (const char *)data;
	size_t blen = size - (size_t)(body - (const char *)data);

	json_t *root = json_loadb(body, blen, JSON_DECODE_ANY, &jerr);
	if (!root)
		return 0;
	json_t *records = NULL;
	/* sl_http_json_path is total: any path on any value answers or says NULL. */
	(void)sl_http_json_path(root, path);
	if (sl_http_select_records(root, path, &records, &err) == 0) {
		if (!json_is_array(records))
			__builtin_trap();
		convert(records, plen % 2 == 1);
	} else if (records || !err.message[0]) {
		__builtin_trap();
	}
	json_decref(root);
	return 0;
}
