/*
 * fuzz_http_json.c: libFuzzer target for the http source's JSON handling
 * (sources/http_json.c), without a network. Input: a first line holding
 * the records path (also fed to the Link, Retry-After and {{ watermark }}
 * parsers), then a JSON response body. The body is decoded like a page
 * (JSON_DECODE_ANY), its records selected, flattened (as columns or JSON,
 * by the path line's length), their kinds inferred and widened into a
 * schema, and each record appended to a batch by the extractor's own code
 * (sl_http_records_infer / _schema / _append), checking that a value whose
 * kind was inferred always converts. Build from the repository root:
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
	sl_http_records r;
	sl_http_flat flat;
	sl_schema *schema = NULL;
	sl_batch *batch = NULL;
	sl_error err = SL_ERROR_INIT;
	char reason[512];
	size_t n = json_array_size(records);

	sl_http_records_init(&r, as_json, "fuzz.t");
	sl_http_flat_init(&flat);
	/* Inference over every record, as the extractor does for the first pages. */
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_array_get(records, i);
		if (sl_http_flatten(&flat, rec, as_json, &err) < 0) {
			if (json_is_object(rec))
				__builtin_trap(); /* only non-objects are refused */
		} else {
			for (int f = 0; f < flat.n; f++) {
				if (!flat.names[f] || !flat.values[f])
					__builtin_trap();
				sl_http_kind k = sl_http_kind_of(flat.values[f]);
				for (int k2 = SL_HTTP_K_NULL; k2 <= SL_HTTP_K_STRING; k2++)
					if (sl_http_widen(k, (sl_http_kind)k2) !=
					    sl_http_widen((sl_http_kind)k2, k))
						__builtin_trap(); /* widening is symmetric */
			}
		}
		if (sl_http_records_infer(&r, rec, &err) < 0)
			goto out;
	}
	for (int i = 0; i < r.ncols; i++)
		if (sl_http_records_find(&r, r.cols[i].name) != i)
			__builtin_trap();
	if (sl_http_records_schema(&r, &schema, &err) < 0)
		goto out;
	if (sl_batch_new(&batch, schema, n ? (int64_t)n : 1, &err) < 0)
		goto out;

	/* Conversion, as the extractor does it: every field is known now. */
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_array_get(records, i);
		int rc = sl_http_records_append(&r, batch, rec, reason, sizeof reason, &err);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			/* Only non-objects and names that collide after flattening;
			 * a value always converts to the kind inferred from it. */
			if (json_is_object(rec) && !strstr(reason, "appears twice after flattening")) {
				fprintf(stderr, "record %zu: %s\n", i, reason);
				__builtin_trap();
			}
			sl_batch_discard_row(batch);
			continue;
		}
		sl_batch_end_row(batch);
	}
out:
	sl_batch_free(batch);
	sl_schema_free(schema);
	sl_http_flat_free(&flat);
	sl_http_records_free(&r);
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
