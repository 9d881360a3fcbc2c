/*
 * gen_parquet_seeds.c: writes small Parquet files with our own writer into
 * a directory, as seeds for fuzz_parquet (every type, NULLs, each codec,
 * PLAIN and dictionary, several row groups and pages). Each seed starts
 * with the fuzzer's mode byte. Used by tests/fuzz/run.sh; build with:
 */
// clang -g -O1 -I src tests/fuzz/gen_parquet_seeds.c src/formats/parquet/*.c \
//   src/batch/*.c src/base/*.c -lzstd -lz -lsnappy -lm -lpthread -o /tmp/gen_parquet_seeds
// /tmp/gen_parquet_seeds /tmp/seeds-parquet
#include "formats/parquet/parquet.h"

#include <stdio.h>
#include <string.h>

static sl_schema *seed_schema(void)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "b", sl_type_make(SL_BOOL), true);
	sl_schema_add(s, "i", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "big", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "f", sl_type_make(SL_FLOAT64), true);
	sl_schema_add(s, "d9", sl_type_decimal(9, 2), true);
	sl_schema_add(s, "d38", sl_type_decimal(38, 10), true);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "dt", sl_type_make(SL_DATE), true);
	sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true);
	return s;
}

static void fill_row(sl_batch *b, int64_t i)
{
	char s[32];
	for (int c = 0; c < b->ncols; c++) {
		sl_column *col = &b->cols[c];
		if (c != 2 && (i + c) % 5 == 0) {
			sl_column_append_null(col);
			continue;
		}
		switch (col->type.id) {
		case SL_BOOL: sl_column_append_bool(col, i % 3 == 0); break;
		case SL_INT32: sl_column_append_i32(col, (int32_t)(i * 7 - 20)); break;
		case SL_INT64: sl_column_append_i64(col, i * 1000000007 - 5); break;
		case SL_FLOAT64: sl_column_append_f64(col, (double)i / 3.0); break;
		case SL_DECIMAL: sl_column_append_dec(col, (sl_i128)(i - 3) * 12345); break;
		case SL_STRING:
			snprintf(s, sizeof s, "v%d", (int)(i % 4));
			sl_column_append_str(col, s, strlen(s));
			break;
		case SL_DATE: sl_column_append_i32(col, (int32_t)(i * 400 - 800)); break;
		case SL_TIMESTAMP: sl_column_append_i64(col, i * 3600000001LL); break;
		}
	}
	sl_batch_end_row(b);
}

static int write_seed(const char *dir, const char *name, uint8_t mode, int64_t n,
		      const sl_parquet_write_opts *o)
{
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = seed_schema();
	sl_output *out = NULL;
	sl_parquet_writer *w = NULL;
	sl_batch *b = NULL;
	int rc = -1;

	if (sl_output_mem_open(&out, &err) < 0 || sl_batch_new(&b, s, n, &err) < 0 ||
	    sl_parquet_writer_open(&w, out, s, o, &err) < 0)
		goto done;
	for (int64_t i = 0; i < n; i++)
		fill_row(b, i);
	if (sl_parquet_writer_write(w, b, &err) < 0 || sl_parquet_writer_close(w, NULL, &err) < 0)
		goto done;
	char *path = sl_path_join(dir, name);
	FILE *f = path ? fopen(path, "wb") : NULL;
	const sl_buf *data = sl_output_mem_data(out);
	if (f && fwrite(&mode, 1, 1, f) == 1 && fwrite(data->data, 1, data->len, f) == data->len)
		rc = 0;
	if (f)
		fclose(f);
	sl_free(path);
done:
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", name, err.message[0] ? err.message : "write failed");
	sl_parquet_writer_free(w);
	if (out)
		out->close(out, &err);
	sl_batch_free(b);
	sl_schema_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	int bad = 0;

	o.compress_threads = -1;
	o.codec = SL_CODEC_UNCOMPRESSED;
	bad |= write_seed(dir, "sl_plain_none", 0x00, 10, &o);
	o.page_bytes = 64;
	bad |= write_seed(dir, "sl_pages_none", 0x05, 40, &o);
	o.page_bytes = 1u << 20;
	o.dictionary = false;
	bad |= write_seed(dir, "sl_nodict_none", 0x0a, 12, &o);
	o.dictionary = true;
	o.codec = SL_CODEC_SNAPPY;
	bad |= write_seed(dir, "sl_snappy", 0x03, 20, &o);
	o.codec = SL_CODEC_GZIP;
	bad |= write_seed(dir, "sl_gzip", 0x0d, 20, &o);
	o.codec = SL_CODEC_ZSTD;
	bad |= write_seed(dir, "sl_zstd", 0x02, 20, &o);
	o.codec = SL_CODEC_UNCOMPRESSED;
	o.row_group_bytes = 256;
	bad |= write_seed(dir, "sl_rowgroups", 0x06, 60, &o);
	return bad ? 1 : 0;
}
