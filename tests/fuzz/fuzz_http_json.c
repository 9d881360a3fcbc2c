/*
 * fuzz_http_json.c: libFuzzer target for the http source's JSON handling
 * (sources/http_stream.c and http_json.c), without a network. Input: a
 * first line holding the records path (also fed to the Link, Retry-After
 * and {{ watermark }} parsers), then a response body. The body streams
 * through the page parser twice, whole and in pieces whose size comes from
 * the input, with a small record cap: both must hand on the same records,
 * reasons and page outcome. The records are then flattened (as columns or
 * JSON, by the path line's length), their kinds inferred and widened into a
 * schema, and each appended to a batch by the extractor's own code
 * (sl_http_records_infer / _schema / _append), checking that a value whose
 * kind was inferred always converts. Build from the repository root:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_http_json.c \
//   src/sources/http_json.c src/sources/http_stream.c src/batch/*.c src/base/*.c \
//   -ljansson -lyajl -lxxhash -lcurl -lm -lpthread -o /tmp/fuzz_http_json
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
	char *out = NULL;
	double secs = 0;
	sl_buf b = SL_BUF_INIT;

	int rc = sl_http_link_next(line, &out);
	if ((rc == 1) != (out != NULL) || (out && strlen(out) > strlen(line)))
		__builtin_trap();
	sl_free(out);
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
	sl_buf reason = SL_BUF_INIT;
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
	if (sl_http_records_schema(&r, NULL, 0, &schema, NULL, &err) < 0)
		goto out;
	if (sl_batch_new(&batch, schema, n ? (int64_t)n : 1, &err) < 0)
		goto out;

	/* Conversion, as the extractor does it: every field is known now. */
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_array_get(records, i);
		sl_buf_reset(&reason);
		int rc = sl_http_records_append(&r, batch, rec, &reason, &err);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			/* Only non-objects and names that collide after flattening;
			 * a value always converts to the kind inferred from it. */
			if (json_is_object(rec) && !strstr(reason.data, "appears twice after flattening")) {
				fprintf(stderr, "record %zu: %s\n", i, reason.data);
				__builtin_trap();
			}
			sl_batch_discard_row(batch);
			continue;
		}
		sl_batch_end_row(batch);
	}
out:
	sl_buf_free(&reason);
	sl_batch_free(batch);
	sl_schema_free(schema);
	sl_http_flat_free(&flat);
	sl_http_records_free(&r);
}

/* What one parse handed on: the records, and a line per record. */
typedef struct fuzz_page {
	json_t *records;  /* good records */
	sl_buf trace;     /* "index:reason" or "index:ok", one a line */
} fuzz_page;

static int collect(void *ctx, json_t *record, const char *reason, int64_t index, size_t bytes)
{
	fuzz_page *fp = ctx;
	if (record && bytes > 4096 + 4096)
		__builtin_trap(); /* a held record stays near the cap */
	sl_buf_printf(&fp->trace, "%lld:%s\n", (long long)index, reason ? reason : "ok");
	if (reason || !record) {
		json_decref(record);
		return 0;
	}
	json_array_append_new(fp->records, record);
	return 0;
}

/* Parses body in pieces of chunk bytes; returns the page outcome (0, 1). */
static int parse_body(const char *path, const char *body, size_t n, size_t chunk, fuzz_page *fp,
		      uint64_t *hash, int64_t *nrecords)
{
	sl_http_parser *p = NULL;
	sl_http_parser_opts o = {.records_path = path,
				  .next_path = "meta.next",
				  .total_path = "meta.total",
				  .max_record_bytes = 4096};
	fp->records = json_array();
	if (sl_http_parser_new(&p, &o, collect, fp) < 0)
		__builtin_trap();
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i += chunk)
		rc = sl_http_parser_feed(p, body + i, n - i < chunk ? n - i : chunk);
	if (rc == 0)
		rc = sl_http_parser_finish(p);
	if (rc < 0)
		__builtin_trap();
	const sl_http_page_info *pi = sl_http_parser_info(p);
	if ((rc == 1) != (pi->error.len > 0))
		__builtin_trap();
	*hash = pi->hash;
	*nrecords = pi->nrecords;
	sl_http_parser_free(p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : 0;
	char path[512];

	if (plen >= sizeof path || memchr(data, 0, plen))
		return 0;
	memcpy(path, data, plen);
	path[plen] = '\0';
	fuzz_text(path);
	const char *body = nl ? (const char *)nl + 1 : (const char *)data;
	size_t blen = size - (size_t)(body - (const char *)data);

	fuzz_page whole = {0}, pieces = {0};
	uint64_t h1, h2;
	int64_t n1, n2;
	size_t chunk = 1 + (blen ? (unsigned char)body[0] % 97 : 0);
	int rc1 = parse_body(path, body, blen, blen ? blen : 1, &whole, &h1, &n1);
	int rc2 = parse_body(path, body, blen, chunk, &pieces, &h2, &n2);
	/* A page that parses whole parses the same in pieces. (Not the other
	 * way round: the bytes of a record too large to keep are skipped, not
	 * checked, when it ends in a later piece than it became too large.) */
	if (rc1 == 0 && (rc2 != 0 || n1 != n2 || h1 != h2 ||
			 (whole.trace.data && strcmp(whole.trace.data, pieces.trace.data) != 0) ||
			 !json_equal(whole.records, pieces.records)))
		__builtin_trap();
	if (rc1 == 0)
		convert(whole.records, plen % 2 == 1);
	json_decref(whole.records);
	json_decref(pieces.records);
	sl_buf_free(&whole.trace);
	sl_buf_free(&pieces.trace);
	return 0;
}
