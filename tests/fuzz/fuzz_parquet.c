/*
 * fuzz_parquet.c: libFuzzer target for the Parquet reader. The first byte
 * picks the batch size and a projection (all columns, every other column,
 * the columns reversed, or the last one); the rest is the file, opened
 * through sl_input_mem_open and read batch by batch to the end, touching
 * every value. Seeds (files written by DuckDB and by our writer) come from
 * tests/fuzz/run.sh. Not built by default; build it from the repository
 * root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_parquet.c \
//   src/formats/parquet/reader*.c src/formats/parquet/decode.c \
//   src/formats/parquet/thrift_read.c src/formats/parquet/codec.c \
//   src/batch/*.c src/base/*.c -lzstd -lz -lsnappy -lxxhash -lm -lpthread -o /tmp/fuzz_parquet
// /tmp/fuzz_parquet -max_total_time=60 -rss_limit_mb=2048 /tmp/seeds-parquet
#include "formats/parquet/parquet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every value of the batch so uninitialised memory shows up. */
static uint64_t touch(const sl_batch *b)
{
	uint64_t h = 0;
	sl_buf text = SL_BUF_INIT;
	for (int c = 0; c < b->ncols; c++) {
		const sl_column *col = &b->cols[c];
		if (col->length != b->nrows)
			__builtin_trap();
		int64_t nulls = 0;
		for (int64_t i = 0; i < col->length; i++) {
			if (sl_column_is_null(col, i)) {
				nulls++;
				continue;
			}
			sl_buf_reset(&text);
			if (sl_column_format_value(col, i, &text) == 0)
				for (size_t k = 0; k < text.len; k++)
					h = h * 31 + (uint8_t)text.data[k];
			/* Values keep their type's invariants: decimals within precision. */
			if (col->type.id == SL_DECIMAL) {
				sl_i128 lim = sl_i128_pow10(col->type.precision);
				if (col->v.dec[i] >= lim || col->v.dec[i] <= -lim)
					__builtin_trap();
			}
			if (col->type.id == SL_STRING) {
				size_t n;
				const char *s = sl_column_str(col, i, &n);
				if (!sl_utf8_valid(s, n))
					h++;
			}
		}
		if (nulls != col->null_count)
			__builtin_trap();
	}
	sl_buf_free(&text);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t batch_rows[] = {0, 1, 7, 1000};
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	sl_parquet_reader *r = NULL;
	uint8_t mode = size ? data[0] : 0;
	const char *names[64];
	int nnames = 0;

	if (size) {
		data++;
		size--;
	}
	if (sl_input_mem_open(&in, data, size, "fuzz.parquet", &err) < 0)
		return 0;
	if (sl_parquet_reader_open(&r, in, &err) < 0) {
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "open: %s\n", err.message);
		return 0; /* the reader closed in */
	}

	/* Metadata accessors used by `sluice parquet schema`. */
	const sl_schema *s = sl_parquet_reader_schema(r);
	volatile size_t sink = strlen(sl_parquet_reader_created_by(r));
	for (int i = 0; i < s->nfields; i++) {
		const sl_parquet_column_info *ci = sl_parquet_reader_column_info(r, i);
		sink += strlen(ci->name) + strlen(ci->physical) + strlen(ci->logical) +
			strlen(ci->repetition);
		for (int g = 0; g < sl_parquet_reader_num_row_groups(r); g++)
			sink += (size_t)sl_parquet_reader_column_codec(r, g, i);
	}

	int proj = (mode >> 2) & 3;
	if (proj && s->nfields > 0 && s->nfields <= 64) {
		for (int i = 0; i < s->nfields; i++) {
			int j = proj == 2 ? s->nfields - 1 - i : i;
			if (proj == 1 && i % 2)
				continue;
			if (proj == 3 && i != s->nfields - 1)
				continue;
			names[nnames++] = s->fields[j].name;
		}
		/* Duplicate names in the file make projection fail; that is fine. */
		if (sl_parquet_reader_project(r, names, nnames, &err) < 0)
			goto done;
	}

	sl_batch *b = NULL;
	int rc;
	int64_t rows = 0;
	while ((rc = sl_parquet_reader_next(r, &b, batch_rows[mode & 3], &err)) == 1) {
		rows += b->nrows;
		sink += touch(b);
		sl_batch_free(b);
	}
	if (rc == 0 && rows != sl_parquet_reader_num_rows(r))
		__builtin_trap(); /* a clean end must deliver every row */
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%lld rows, rc %d: %s\n", (long long)rows, rc, err.message);
	if (rc < 0 && err.message[0] == 0)
		__builtin_trap(); /* every failure says why */
	(void)sink;
done:
	sl_parquet_reader_close(r);
	return 0;
}
