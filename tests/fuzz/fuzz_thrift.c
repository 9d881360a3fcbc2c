/*
 * fuzz_thrift.c: libFuzzer target for the Thrift compact decoder on its own,
 * without the file framing the Parquet reader needs (PAR1 magic, footer
 * length), so mutations reach deep into FileMetaData and PageHeader. The
 * first byte picks what the rest is decoded as: a footer, a page header, or
 * one generic value skipped with pqr_tr_skip. Seeds (footers and page
 * headers cut from real files) come from tests/fuzz/run.sh. Build from the
 * repository root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_thrift.c \
//   src/formats/parquet/reader_meta.c src/formats/parquet/thrift_read.c \
//   src/batch/*.c src/base/*.c -lxxhash -lm -lpthread -o /tmp/fuzz_thrift
// /tmp/fuzz_thrift -max_total_time=60 -rss_limit_mb=2048 /tmp/seeds-thrift
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"
#include "formats/parquet/thrift_read.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const sl_error *err)
{
	/* Every failure is SL_EFORMAT (or ENOMEM) with a message naming the input. */
	if (rc < 0 && rc != SL_EFORMAT && rc != SL_ENOMEM)
		__builtin_trap();
	if (rc < 0 && !strstr(err->message, "fuzz.parquet"))
		__builtin_trap();
}

static void fuzz_footer(const uint8_t *p, size_t n)
{
	sl_arena a;
	pqr_file_meta m;
	sl_error err = SL_ERROR_INIT;
	volatile uint64_t sink = 0;

	sl_arena_init(&a, 0);
	int rc = pqr_parse_file_meta(&m, &a, p, n, "fuzz.parquet", &err);
	check_error(rc, &err);
	if (rc == 0) {
		/* Touch everything the reader later uses. */
		sink += strlen(m.created_by) + (uint64_t)m.num_rows + (uint64_t)m.version;
		for (int i = 0; i < m.nschema; i++) {
			const pqr_schema_elem *e = &m.schema[i];
			sink += strlen(e->name) + (uint64_t)e->type + (uint64_t)e->type_length +
				(uint64_t)e->repetition + (uint64_t)e->num_children +
				(uint64_t)e->converted + (uint64_t)e->scale + (uint64_t)e->precision +
				(uint64_t)e->logical.kind + (uint64_t)e->logical.unit;
		}
		for (int g = 0; g < m.nrgs; g++) {
			const pqr_row_group *rg = &m.rgs[g];
			sink += (uint64_t)rg->num_rows;
			for (int c = 0; c < rg->ncols; c++) {
				const pqr_chunk_meta *cm = &rg->cols[c];
				sink += (uint64_t)cm->type + (uint64_t)cm->codec +
					(uint64_t)cm->num_values + (uint64_t)cm->data_page_offset +
					(uint64_t)cm->dict_page_offset + (uint64_t)cm->total_compressed;
			}
		}
	}
	sl_arena_free(&a);
}

static void fuzz_page_header(const uint8_t *p, size_t n)
{
	pqr_page_header h;
	sl_error err = SL_ERROR_INIT;
	size_t used = 0;
	int rc = pqr_parse_page_header(&h, p, n, &used, "fuzz.parquet", &err);
	check_error(rc, &err);
	if (rc == 0 && (used > n || h.compressed_size < 0 || h.uncompressed_size < 0))
		__builtin_trap();
}

static void fuzz_skip(const uint8_t *p, size_t n)
{
	pqr_tr t;
	sl_error err = SL_ERROR_INIT;
	if (n == 0)
		return;
	pqr_tr_init(&t, p + 1, n - 1, "fuzz.parquet", "value", &err);
	int rc = pqr_tr_skip(&t, p[0] & 0x0f);
	check_error(rc, &err);
	if (t.p > t.end)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_footer(data + 1, size - 1); break;
	case 1: fuzz_page_header(data + 1, size - 1); break;
	default: fuzz_skip(data + 1, size - 1); break;
	}
	return 0;
}
