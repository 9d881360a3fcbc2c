/*
 * fuzz_csv.c: libFuzzer target for the csv reader. The first byte picks the
 * options (delimiter, quote/escape, header, nulls, a tiny read buffer, a
 * small max_record or max_columns); the rest is the file, read through
 * sl_input_mem_open, record by record and then into a batch of mixed types;
 * column names must come out unique ignoring case. Not built by
 * default; build and run it from the repository root with the commands below.
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_csv.c \
//   src/formats/csv/*.c src/batch/*.c src/base/*.c \
//   $(pkg-config --cflags --libs zlib libzstd libxxhash) -lm -lpthread -o /tmp/fuzz_csv
// /tmp/fuzz_csv -max_total_time=60
#include "formats/csv/csv.h"
#include "formats/csv/csv_int.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static int ignore_bad(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	(void)err;
	size_t *n = ctx;
	/* Touch every byte the callback is given. */
	for (size_t i = 0; i < bad->raw_len; i++)
		*n += (unsigned char)bad->raw[i];
	*n += strlen(bad->reason) + strlen(bad->path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *nulls[] = {"", "NA", NULL};
	sl_error err = SL_ERROR_INIT;
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	sl_input *in = NULL;
	sl_csv_reader *r = NULL;
	uint8_t mode = size ? data[0] : 0;

	if (size) {
		data++;
		size--;
	}
	o.delimiter = (mode & 1) ? ';' : ',';
	if (mode & 2)
		o.escape = '\\';
	o.header = !(mode & 4);
	if (mode & 8)
		o.nulls = nulls;
	if (mode & 16)
		o.max_record = 40;
	sl_csv_test_buffer_size = (mode & 32) ? 7 : 0;
	if (mode & 64)
		o.max_columns = 3;

	if (sl_input_mem_open(&in, data, size, "fuzz.csv", &err) < 0)
		return 0;
	if (sl_csv_reader_open_input(&r, in, &o, &err) < 0)
		goto done;

	int ncols = sl_csv_reader_ncolumns(r);
	/* Column names are unique ignoring ASCII case, whatever the header. */
	for (int i = 0; i < ncols && i < 64; i++)
		for (int j = 0; j < i; j++)
			if (strcasecmp(sl_csv_reader_column(r, i), sl_csv_reader_column(r, j)) == 0)
				__builtin_trap();
	sl_buf renames = SL_BUF_INIT;
	if (sl_csv_reader_renames_text(r, &renames) == 0 && sl_csv_reader_nrenamed(r) == 0 &&
	    renames.len)
		__builtin_trap();
	sl_buf_free(&renames);
	sl_schema *s = sl_schema_new();
	/* sl_decimal_parse bounds its digits and exponent now (fuzz_value.c checks it). */
	static const sl_type_id kinds[] = {SL_STRING, SL_INT64, SL_INT32,     SL_FLOAT64,
					   SL_DATE,   SL_BOOL,  SL_TIMESTAMP, SL_DECIMAL};
	for (int i = 0; s && i < ncols && i < 64; i++) {
		sl_type t = kinds[i % 8] == SL_DECIMAL ? sl_type_decimal(18, 4)
						       : sl_type_make(kinds[i % 8]);
		sl_schema_add(s, sl_csv_reader_column(r, i), t, true);
	}
	if (s && ncols <= 64) {
		sl_batch *b = NULL;
		size_t sink = 0;
		if (sl_batch_new(&b, s, 16, &err) == 0) {
			int64_t n;
			while ((n = sl_csv_read_batch(r, b, ignore_bad, &sink, &err)) > 0)
				sl_batch_reset(b);
			sl_batch_free(b);
		}
	} else {
		sl_csv_record rec;
		int rc;
		while ((rc = sl_csv_reader_next(r, &rec, &err)) == 1 || rc == SL_EFORMAT)
			sl_error_clear(&err);
	}
	sl_schema_free(s);
	sl_csv_reader_close(r);
done:
	in->close(in);
	return 0;
}
