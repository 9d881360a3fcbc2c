/*
 * test_parquet_reader.c: the Parquet reader — RLE/bit-packed and delta
 * decoding vectors, footer bounds checks on corrupt and truncated files,
 * hand-built files for encodings DuckDB does not write (DELTA_BYTE_ARRAY,
 * RLE booleans), schema errors, and round trips through our writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "formats/parquet/codec.h"
#include "formats/parquet/parquet.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ decoders */

static void test_rle_bitpacked_spec_vector(void **state)
{
	/* Bit width 3: a bit-packed run of 0..7, then an RLE run of five 7s. */
	const uint8_t data[] = {0x03, 0x88, 0xc6, 0xfa, 0x0a, 0x07};
	pqr_rle d;
	uint32_t v[13];
	pqr_rle_init(&d, data, sizeof data, 3);
	assert_int_equal(pqr_rle_get(&d, v, 5), 0);
	assert_int_equal(pqr_rle_get(&d, v + 5, 8), 0);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(v[i], i);
	for (int i = 8; i < 13; i++)
		assert_int_equal(v[i], 7);
	/* Nothing is left: asking for more fails instead of reading past the end. */
	assert_int_equal(pqr_rle_get(&d, v, 1), -1);
}

static void test_rle_width_one_and_long_runs(void **state)
{
	/* 1000 repeats of 1 (header 2000 as a varint), then a bit-packed 0b10110010. */
	const uint8_t data[] = {0xd0, 0x0f, 0x01, 0x03, 0xb2};
	pqr_rle d;
	static uint32_t v[1008];
	pqr_rle_init(&d, data, sizeof data, 1);
	assert_int_equal(pqr_rle_get(&d, v, 1008), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], 1);
	const uint32_t bits[8] = {0, 1, 0, 0, 1, 1, 0, 1};
	for (int i = 0; i < 8; i++)
		assert_int_equal(v[1000 + i], bits[i]);
}

static void test_rle_rejects_truncated_and_out_of_range(void **state)
{
	pqr_rle d;
	uint32_t v[4];
	const uint8_t no_value[] = {0x08}; /* RLE run of 4 without its value byte */
	pqr_rle_init(&d, no_value, sizeof no_value, 3);
	assert_int_equal(pqr_rle_get(&d, v, 4), -1);
	const uint8_t too_wide[] = {0x08, 0x09}; /* value 9 does not fit 3 bits */
	pqr_rle_init(&d, too_wide, sizeof too_wide, 3);
	assert_int_equal(pqr_rle_get(&d, v, 4), -1);
	const uint8_t zero_run[] = {0x00, 0x01};
	pqr_rle_init(&d, zero_run, sizeof zero_run, 1);
	assert_int_equal(pqr_rle_get(&d, v, 1), -1);
}

static void test_delta_binary_packed_vectors(void **state)
{
	/* 7, 5, 3, 1, 2: min delta -2, miniblock 0 at width 2 holds 0,0,0,3. */
	const uint8_t a[] = {0x80, 0x01, 0x04, 0x05, 0x0e, 0x03, 0x02, 0x00, 0x00, 0x00,
			     0xc0, 0, 0, 0, 0, 0, 0, 0, 0xff};
	pqr_delta d;
	int64_t v[5];
	assert_int_equal(pqr_delta_init(&d, a, sizeof a), 0);
	assert_int_equal(pqr_delta_total(&d), 5);
	assert_ptr_equal(pqr_delta_end(&d), a + 18);
	assert_int_equal(pqr_delta_get(&d, v, 2), 0);
	assert_int_equal(pqr_delta_get(&d, v + 2, 3), 0);
	const int64_t want[] = {7, 5, 3, 1, 2};
	for (int i = 0; i < 5; i++)
		assert_int_equal(v[i], want[i]);
	assert_int_equal(pqr_delta_get(&d, v, 1), -1); /* past the announced count */

	/* 1..5: constant delta 1, every width 0, no miniblock bytes at all. */
	const uint8_t b[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
	assert_int_equal(pqr_delta_init(&d, b, sizeof b), 0);
	assert_ptr_equal(pqr_delta_end(&d), b + sizeof b);
	assert_int_equal(pqr_delta_get(&d, v, 5), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(v[i], i + 1);

	/* A single value lives in the header alone. */
	const uint8_t c[] = {0x80, 0x01, 0x04, 0x01, 0x01};
	assert_int_equal(pqr_delta_init(&d, c, sizeof c), 0);
	assert_ptr_equal(pqr_delta_end(&d), c + sizeof c);
	assert_int_equal(pqr_delta_get(&d, v, 1), 0);
	assert_int_equal(v[0], -1);
}

static void test_delta_wraps_like_twos_complement(void **state)
{
	/* INT64_MAX then INT64_MIN: the delta is +1 modulo 2^64. */
	uint8_t a[32];
	size_t n = 0;
	a[n++] = 0x80, a[n++] = 0x01, a[n++] = 0x04, a[n++] = 0x02;
	uint64_t zz = UINT64_MAX - 1; /* zigzag(INT64_MAX) */
	while (zz >= 0x80) {
		a[n++] = (uint8_t)(zz | 0x80);
		zz >>= 7;
	}
	a[n++] = (uint8_t)zz;
	a[n++] = 0x02; /* min delta 1 */
	a[n++] = 0, a[n++] = 0, a[n++] = 0, a[n++] = 0;
	pqr_delta d;
	int64_t v[2];
	assert_int_equal(pqr_delta_init(&d, a, n), 0);
	assert_int_equal(pqr_delta_get(&d, v, 2), 0);
	assert_true(v[0] == INT64_MAX);
	assert_true(v[1] == INT64_MIN);
}

static void test_delta_rejects_corrupt_headers(void **state)
{
	pqr_delta d;
	int64_t v[8];
	const uint8_t zero_block[] = {0x00, 0x04, 0x05, 0x00};
	assert_int_equal(pqr_delta_init(&d, zero_block, sizeof zero_block), -1);
	const uint8_t odd_minis[] = {0x80, 0x01, 0x03, 0x05, 0x00}; /* 128 / 3 */
	assert_int_equal(pqr_delta_init(&d, odd_minis, sizeof odd_minis), -1);
	const uint8_t truncated[] = {0x80, 0x01};
	assert_int_equal(pqr_delta_init(&d, truncated, sizeof truncated), -1);
	/* The header promises 5 values but the block data is missing. */
	const uint8_t short_data[] = {0x80, 0x01, 0x04, 0x05, 0x0e, 0x03, 0x02, 0x00};
	assert_int_equal(pqr_delta_init(&d, short_data, sizeof short_data), 0);
	assert_null(pqr_delta_end(&d));
	assert_int_equal(pqr_delta_get(&d, v, 5), -1);
	/* A miniblock width over 64 bits. */
	const uint8_t wide[] = {0x80, 0x01, 0x04, 0x03, 0x00, 0x00, 0x41, 0, 0, 0};
	assert_int_equal(pqr_delta_init(&d, wide, sizeof wide), 0);
	assert_int_equal(pqr_delta_get(&d, v, 3), -1);
}

/* ------------------------------------------------- a tiny thrift writer */

typedef struct {
	uint8_t b[8192];
	size_t n;
	int16_t last[256];
	int depth;
} tw;

static void tw_byte(tw *w, uint8_t v) { w->b[w->n++] = v; }
static void tw_bytes(tw *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}
static void tw_varint(tw *w, uint64_t v)
{
	while (v >= 0x80) {
		tw_byte(w, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	tw_byte(w, (uint8_t)v);
}
static void tw_zz(tw *w, int64_t v) { tw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }
static void tw_field(tw *w, int id, int type)
{
	int d = id - w->last[w->depth];
	if (d > 0 && d <= 15) {
		tw_byte(w, (uint8_t)(d << 4 | type));
	} else {
		tw_byte(w, (uint8_t)type);
		tw_zz(w, id);
	}
	w->last[w->depth] = (int16_t)id;
}
static void tw_i32(tw *w, int id, int64_t v)
{
	tw_field(w, id, TC_I32);
	tw_zz(w, v);
}
static void tw_i64(tw *w, int id, int64_t v)
{
	tw_field(w, id, TC_I64);
	tw_zz(w, v);
}
static void tw_str(tw *w, int id, const char *s)
{
	tw_field(w, id, TC_BINARY);
	tw_varint(w, strlen(s));
	tw_bytes(w, s, strlen(s));
}
static void tw_bool(tw *w, int id, bool v) { tw_field(w, id, v ? TC_TRUE : TC_FALSE); }
static void tw_struct(tw *w, int id)
{
	tw_field(w, id, TC_STRUCT);
	w->last[++w->depth] = 0;
}
static void tw_list(tw *w, int id, int et, int n)
{
	tw_field(w, id, TC_LIST);
	if (n < 15) {
		tw_byte(w, (uint8_t)(n << 4 | et));
	} else {
		tw_byte(w, (uint8_t)(0xf0 | et));
		tw_varint(w, (uint64_t)n);
	}
}
static void tw_elem(tw *w) { w->last[++w->depth] = 0; }
static void tw_end(tw *w)
{
	tw_byte(w, 0);
	w->depth--;
}

/* A schema element: a leaf when type >= 0, else a group with children. */
static void tw_schema_elem(tw *w, const char *name, int type, int rep, int children,
			   int converted, int precision, int scale, int type_length)
{
	tw_elem(w);
	if (type >= 0)
		tw_i32(w, 1, type);
	if (type_length > 0)
		tw_i32(w, 2, type_length);
	if (rep >= 0)
		tw_i32(w, 3, rep);
	tw_str(w, 4, name);
	if (children > 0)
		tw_i32(w, 5, children);
	if (converted >= 0)
		tw_i32(w, 6, converted);
	if (precision > 0) {
		tw_i32(w, 7, scale);
		tw_i32(w, 8, precision);
	}
	tw_end(w);
}

/* Wraps body (column chunks) and footer into "PAR1" body footer len "PAR1". */
static size_t assemble(uint8_t *out, const uint8_t *body, size_t nbody, const tw *footer)
{
	size_t n = 0;
	memcpy(out, "PAR1", 4);
	n = 4;
	if (nbody)
		memcpy(out + n, body, nbody);
	n += nbody;
	memcpy(out + n, footer->b, footer->n);
	n += footer->n;
	uint32_t len = (uint32_t)footer->n;
	memcpy(out + n, &len, 4);
	memcpy(out + n + 4, "PAR1", 4);
	return n + 8;
}

static int open_mem(sl_parquet_reader **r, const void *data, size_t n, sl_error *err)
{
	sl_input *in;
	int rc = sl_input_mem_open(&in, data, n, "crafted.parquet", err);
	if (rc < 0)
		return rc;
	return sl_parquet_reader_open(r, in, err);
}

static void expect_format_error(const void *data, size_t n, const char *what)
{
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	int rc = open_mem(&r, data, n, &err);
	if (rc != SL_EFORMAT || !strstr(err.message, "crafted.parquet") ||
	    !strstr(err.message, what))
		fail_msg("rc %d, message '%s', wanted '%s'", rc, err.message, what);
	assert_null(r);
}

/* ----------------------------------------------------------- footers */

static void test_footer_rejects_small_and_wrong_magic(void **state)
{
	expect_format_error("PAR1", 4, "too small");
	expect_format_error("PAR1\0\0\0\0PAR2", 12, "no PAR1 magic");
	expect_format_error("XXXX\0\0\0\0PAR1", 12, "no PAR1 magic at the start");
	expect_format_error("PAR1\0\0\0\0PARE", 12, "encrypted");
}

static void test_footer_rejects_absurd_length(void **state)
{
	uint8_t f[64] = "PAR1";
	uint32_t len = 0xfffffff0u;
	memcpy(f + 20, &len, 4);
	memcpy(f + 24, "PAR1", 4);
	expect_format_error(f, 28, "exceeds the file size");
	len = 17; /* one byte more than there is between the magics */
	memcpy(f + 20, &len, 4);
	expect_format_error(f, 28, "exceeds the file size");
}

static void test_footer_rejects_corrupt_thrift(void **state)
{
	uint8_t file[9000];
	tw w = {0};

	/* A schema list that claims a billion elements. */
	tw_field(&w, 2, TC_LIST);
	tw_byte(&w, 0xf0 | TC_STRUCT);
	tw_varint(&w, 1000000000);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "list of 1000000000 elements");

	/* A string longer than the footer. */
	memset(&w, 0, sizeof w);
	tw_field(&w, 6, TC_BINARY);
	tw_varint(&w, 1u << 30);
	expect_format_error(file, assemble(file, NULL, 0, &w), "string of 1073741824 bytes");

	/* A struct with no stop field (truncated footer). */
	memset(&w, 0, sizeof w);
	tw_i32(&w, 1, 2);
	tw_i64(&w, 3, 10);
	expect_format_error(file, assemble(file, NULL, 0, &w), "truncated struct");

	/* Unknown fields are skipped, but nesting is bounded. */
	memset(&w, 0, sizeof w);
	for (int i = 0; i < 200; i++)
		tw_struct(&w, 20);
	expect_format_error(file, assemble(file, NULL, 0, &w), "nesting deeper than");

	/* An invalid wire type. */
	memset(&w, 0, sizeof w);
	tw_byte(&w, 0x1d);
	expect_format_error(file, assemble(file, NULL, 0, &w), "unknown field type 13");

	/* A well-formed footer without a schema. */
	memset(&w, 0, sizeof w);
	tw_i32(&w, 1, 1);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "no schema");
}

/* Writes a footer with the given leaves (name, type, rep) and no row groups. */
static void footer_begin(tw *w, int nleaves)
{
	memset(w, 0, sizeof *w);
	tw_i32(w, 1, 1);
	tw_list(w, 2, TC_STRUCT, nleaves + 1);
	tw_schema_elem(w, "schema", -1, -1, nleaves, -1, 0, 0, 0);
}

static void test_schema_errors_name_the_column(void **state)
{
	uint8_t file[9000];
	tw w;

	/* A group column: nested. */
	memset(&w, 0, sizeof w);
	tw_i32(&w, 1, 1);
	tw_list(&w, 2, TC_STRUCT, 3);
	tw_schema_elem(&w, "schema", -1, -1, 1, -1, 0, 0, 0);
	tw_schema_elem(&w, "addr", -1, PQ_OPTIONAL, 1, -1, 0, 0, 0);
	tw_schema_elem(&w, "city", PQ_BYTE_ARRAY, PQ_OPTIONAL, 0, PQ_CT_UTF8, 0, 0, 0);
	tw_i64(&w, 3, 0);
	tw_list(&w, 4, TC_STRUCT, 0);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "column addr: nested type not supported");

	/* A repeated leaf is a list too. */
	footer_begin(&w, 1);
	tw_schema_elem(&w, "tags", PQ_INT32, PQ_REPEATED, 0, -1, 0, 0, 0);
	tw_i64(&w, 3, 0);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "column tags: nested type not supported");

	/* Decimal precision over 38. */
	footer_begin(&w, 1);
	tw_schema_elem(&w, "price", PQ_FIXED_LEN_BYTE_ARRAY, PQ_OPTIONAL, 0, PQ_CT_DECIMAL, 40, 2, 17);
	tw_i64(&w, 3, 0);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "column price: decimal precision 40");

	/* A row group whose rows disagree with the file's count. */
	footer_begin(&w, 1);
	tw_schema_elem(&w, "n", PQ_INT32, PQ_REQUIRED, 0, -1, 0, 0, 0);
	tw_i64(&w, 3, 5);
	tw_byte(&w, 0);
	expect_format_error(file, assemble(file, NULL, 0, &w), "row groups hold 0 rows");
}

/* ----------------------------------------- hand-built pages and encodings */

static void page_header_v2(tw *w, int32_t size, int32_t nvalues, int32_t nnulls, int enc,
			   int32_t def_len)
{
	memset(w, 0, sizeof *w);
	tw_i32(w, 1, PQ_PAGE_DATA_V2);
	tw_i32(w, 2, size);
	tw_i32(w, 3, size);
	tw_struct(w, 8);
	tw_i32(w, 1, nvalues);
	tw_i32(w, 2, nnulls);
	tw_i32(w, 3, nvalues);
	tw_i32(w, 4, enc);
	tw_i32(w, 5, def_len);
	tw_i32(w, 6, 0);
	tw_bool(w, 7, false);
	tw_end(w);
	tw_byte(w, 0);
}

static void chunk_meta_codec(tw *w, int type, int64_t nvalues, int64_t offset, int64_t size,
			     int codec)
{
	tw_elem(w);
	tw_i64(w, 2, 0);
	tw_struct(w, 3);
	tw_i32(w, 1, type);
	tw_list(w, 2, TC_I32, 0);
	tw_list(w, 3, TC_BINARY, 0);
	tw_i32(w, 4, codec);
	tw_i64(w, 5, nvalues);
	tw_i64(w, 6, size);
	tw_i64(w, 7, size);
	tw_i64(w, 9, offset);
	tw_end(w);
	tw_end(w);
}

static void chunk_meta(tw *w, int type, int64_t nvalues, int64_t offset, int64_t size)
{
	chunk_meta_codec(w, type, nvalues, offset, size, 0);
}

/*
 * Two columns in data page v2: s BYTE_ARRAY REQUIRED as DELTA_BYTE_ARRAY
 * ("apple", "applet", "apply") and b BOOLEAN OPTIONAL as RLE
 * (true, NULL, false).
 */
static size_t build_delta_file(uint8_t *file)
{
	static const uint8_t s_data[] = {
		/* prefix lengths 0, 5, 4 */
		0x80, 0x01, 0x04, 0x03, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00,
		0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* suffix lengths 5, 1, 1 */
		0x80, 0x01, 0x04, 0x03, 0x0a, 0x07, 0x03, 0x00, 0x00, 0x00,
		0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		'a', 'p', 'p', 'l', 'e', 't', 'y'};
	/* def levels 1,0,1 (bit-packed), then RLE values true,false with length. */
	static const uint8_t b_data[] = {0x03, 0x05, 0x02, 0, 0, 0, 0x03, 0x01};
	uint8_t body[1024];
	size_t nb = 0;
	tw h, f;

	int64_t s_off = 4;
	page_header_v2(&h, sizeof s_data, 3, 0, PQ_ENC_DELTA_BYTE_ARRAY, 0);
	memcpy(body + nb, h.b, h.n);
	nb += h.n;
	memcpy(body + nb, s_data, sizeof s_data);
	nb += sizeof s_data;
	int64_t s_size = (int64_t)nb;

	int64_t b_off = 4 + (int64_t)nb;
	page_header_v2(&h, sizeof b_data, 3, 1, PQ_ENC_RLE, 2);
	memcpy(body + nb, h.b, h.n);
	nb += h.n;
	memcpy(body + nb, b_data, sizeof b_data);
	nb += sizeof b_data;
	int64_t b_size = 4 + (int64_t)nb - b_off;

	footer_begin(&f, 2);
	tw_schema_elem(&f, "s", PQ_BYTE_ARRAY, PQ_REQUIRED, 0, PQ_CT_UTF8, 0, 0, 0);
	tw_schema_elem(&f, "b", PQ_BOOLEAN, PQ_OPTIONAL, 0, -1, 0, 0, 0);
	tw_i64(&f, 3, 3);
	tw_list(&f, 4, TC_STRUCT, 1);
	tw_elem(&f);
	tw_list(&f, 1, TC_STRUCT, 2);
	chunk_meta(&f, PQ_BYTE_ARRAY, 3, s_off, s_size);
	chunk_meta(&f, PQ_BOOLEAN, 3, b_off, b_size);
	tw_i64(&f, 2, 100);
	tw_i64(&f, 3, 3);
	tw_end(&f);
	tw_str(&f, 6, "hand-built");
	tw_byte(&f, 0);
	return assemble(file, body, nb, &f);
}

static void test_delta_byte_array_and_rle_booleans(void **state)
{
	static uint8_t file[4096];
	size_t n = build_delta_file(file);
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_batch *b = NULL;

	assert_int_equal(open_mem(&r, file, n, &err), 0);
	assert_string_equal(sl_parquet_reader_created_by(r), "hand-built");
	assert_int_equal(sl_parquet_reader_num_rows(r), 3);
	const sl_parquet_column_info *ci = sl_parquet_reader_column_info(r, 0);
	assert_string_equal(ci->physical, "BYTE_ARRAY");
	assert_string_equal(ci->logical, "UTF8");
	assert_string_equal(ci->repetition, "REQUIRED");
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), 1);
	assert_int_equal(b->nrows, 3);
	const char *want[] = {"apple", "applet", "apply"};
	for (int i = 0; i < 3; i++) {
		size_t len;
		const char *s = sl_column_str(&b->cols[0], i, &len);
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(s, want[i], len);
	}
	assert_false(sl_column_is_null(&b->cols[1], 0));
	assert_true(sl_bit_get(b->cols[1].v.bits, 0));
	assert_true(sl_column_is_null(&b->cols[1], 1));
	assert_false(sl_column_is_null(&b->cols[1], 2));
	assert_false(sl_bit_get(b->cols[1].v.bits, 2));
	assert_int_equal(b->cols[1].null_count, 1);
	sl_batch_free(b);
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), 0);
	sl_parquet_reader_close(r);
}

static void test_corrupt_pages_fail_cleanly(void **state)
{
	static uint8_t file[4096], bad[4096];
	size_t n = build_delta_file(file);
	/* Flip every byte of the column data in turn: never a crash, always a
	 * clean result or SL_EFORMAT naming the file. */
	for (size_t i = 4; i < 120; i++) {
		for (int flip = 0; flip < 2; flip++) {
			sl_parquet_reader *r = NULL;
			sl_error err = SL_ERROR_INIT;
			sl_batch *b = NULL;
			memcpy(bad, file, n);
			bad[i] = flip ? (uint8_t)~bad[i] : 0xff;
			int rc = open_mem(&r, bad, n, &err);
			if (rc < 0) { /* the flip reached the footer */
				assert_int_equal(rc, SL_EFORMAT);
				assert_non_null(strstr(err.message, "crafted.parquet"));
				continue;
			}
			while ((rc = sl_parquet_reader_next(r, &b, 2, &err)) == 1)
				sl_batch_free(b);
			if (rc < 0) {
				assert_int_equal(rc, SL_EFORMAT);
				assert_non_null(strstr(err.message, "crafted.parquet"));
			}
			sl_parquet_reader_close(r);
		}
	}
}

/*
 * One required column whose chunk is a dictionary page claiming nvalues
 * entries in 8 bytes, then nothing. precision > 0 makes it a decimal.
 */
static size_t build_dict_claim_file(uint8_t *file, int physical, int precision, int32_t nvalues)
{
	static const uint8_t dict[8] = {4, 0, 0, 0, 1, 2, 3, 4};
	uint8_t body[256];
	size_t nb = 0;
	tw h, f;

	memset(&h, 0, sizeof h);
	tw_i32(&h, 1, PQ_PAGE_DICTIONARY);
	tw_i32(&h, 2, sizeof dict);
	tw_i32(&h, 3, sizeof dict);
	tw_struct(&h, 7);
	tw_i32(&h, 1, nvalues);
	tw_i32(&h, 2, PQ_ENC_PLAIN);
	tw_end(&h);
	tw_byte(&h, 0);
	memcpy(body, h.b, h.n);
	nb = h.n;
	memcpy(body + nb, dict, sizeof dict);
	nb += sizeof dict;

	footer_begin(&f, 1);
	tw_schema_elem(&f, "v", physical, PQ_REQUIRED, 0, precision ? PQ_CT_DECIMAL : -1,
		       precision, 0, 0);
	tw_i64(&f, 3, 1);
	tw_list(&f, 4, TC_STRUCT, 1);
	tw_elem(&f);
	tw_list(&f, 1, TC_STRUCT, 1);
	chunk_meta(&f, physical, 1, 4, (int64_t)nb);
	tw_i64(&f, 2, 100);
	tw_i64(&f, 3, 1);
	tw_end(&f);
	tw_byte(&f, 0);
	return assemble(file, body, nb, &f);
}

/*
 * Found by review after fuzzing: a dictionary page header's value count was
 * trusted for the allocation (count x 8 or 16 bytes) before it was checked
 * against the page, so 40 bytes could ask for 32 GiB. The count is now
 * checked first, for fixed-width and BYTE_ARRAY decimal dictionaries.
 */
static void test_dictionary_count_is_checked_before_allocating(void **state)
{
	static uint8_t file[1024];
	static const struct {
		int physical, precision;
		const char *msg;
	} cases[] = {
		{PQ_INT64, 0, "dictionary of 2147483647 values in 8 bytes"},
		{PQ_INT32, 0, "dictionary of 2147483647 values in 8 bytes"},
		{PQ_INT64, 18, "dictionary of 2147483647 values in 8 bytes"},
		{PQ_BYTE_ARRAY, 20, "dictionary of 2147483647 values in 8 bytes"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		sl_parquet_reader *r = NULL;
		sl_error err = SL_ERROR_INIT;
		sl_batch *b = NULL;
		size_t n = build_dict_claim_file(file, cases[k].physical, cases[k].precision,
						 INT32_MAX);
		assert_int_equal(open_mem(&r, file, n, &err), 0);
		assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), SL_EFORMAT);
		assert_null(b);
		if (!strstr(err.message, cases[k].msg) || !strstr(err.message, "crafted.parquet"))
			fail_msg("case %zu: %s", k, err.message);
		sl_parquet_reader_close(r);
	}
	/* A count that fits still reads: one BYTE_ARRAY decimal 0x01020304. */
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	size_t n = build_dict_claim_file(file, PQ_BYTE_ARRAY, 20, 1);
	assert_int_equal(open_mem(&r, file, n, &err), 0);
	sl_batch *b = NULL;
	/* The chunk has no data page: the dictionary loads, then the rows are missing. */
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "1 values missing"));
	sl_parquet_reader_close(r);
}

/* One required decimal column v in one PLAIN data page (v2) holding data. */
static size_t build_decimal_file(uint8_t *file, int physical, int type_length, int precision,
				 int scale, const uint8_t *data, size_t ndata, int nvalues)
{
	uint8_t body[256];
	tw h, f;

	page_header_v2(&h, (int32_t)ndata, nvalues, 0, PQ_ENC_PLAIN, 0);
	memcpy(body, h.b, h.n);
	memcpy(body + h.n, data, ndata);
	size_t nb = h.n + ndata;
	footer_begin(&f, 1);
	tw_schema_elem(&f, "v", physical, PQ_REQUIRED, 0, PQ_CT_DECIMAL, precision, scale,
		       type_length);
	tw_i64(&f, 3, nvalues);
	tw_list(&f, 4, TC_STRUCT, 1);
	tw_elem(&f);
	tw_list(&f, 1, TC_STRUCT, 1);
	chunk_meta(&f, physical, nvalues, 4, (int64_t)nb);
	tw_i64(&f, 2, 100);
	tw_i64(&f, 3, nvalues);
	tw_end(&f);
	tw_byte(&f, 0);
	return assemble(file, body, nb, &f);
}

/*
 * Found by tests/fuzz/fuzz_parquet.c (its invariant that decimals fit their
 * precision): an INT32 DECIMAL(4,2) holding 123456 was read as "1234.56",
 * a decimal(4,2) with six digits, which our writer would later store
 * wrapped. Such values are now a format error naming the value and type.
 */
static void test_decimal_beyond_precision_is_a_format_error(void **state)
{
	static uint8_t file[1024];
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_batch *b = NULL;
	sl_buf text = SL_BUF_INIT;

	/* INT32 12.34 and -99.99 fit decimal(4,2). */
	const uint8_t ok[] = {0xd2, 0x04, 0, 0, 0xf1, 0xd8, 0xff, 0xff};
	size_t n = build_decimal_file(file, PQ_INT32, 0, 4, 2, ok, sizeof ok, 2);
	assert_int_equal(open_mem(&r, file, n, &err), 0);
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), 1);
	sl_column_format_value(&b->cols[0], 1, &text);
	assert_string_equal(text.data, "-99.99");
	sl_batch_free(b);
	sl_parquet_reader_close(r);

	/* INT32 123456 (1234.56) does not. */
	const uint8_t big[] = {0xd2, 0x04, 0, 0, 0x40, 0xe2, 0x01, 0x00};
	n = build_decimal_file(file, PQ_INT32, 0, 4, 2, big, sizeof big, 2);
	assert_int_equal(open_mem(&r, file, n, &err), 0);
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), SL_EFORMAT);
	assert_null(b);
	assert_string_equal(err.message, "crafted.parquet: column v (row group 0): value 1234.56 "
			    "does not fit decimal(4,2)");
	sl_parquet_reader_close(r);

	/* FIXED_LEN_BYTE_ARRAY(2) 0x8000 (-32768) does not fit decimal(3,0). */
	const uint8_t flba[] = {0x80, 0x00};
	n = build_decimal_file(file, PQ_FIXED_LEN_BYTE_ARRAY, 2, 3, 0, flba, sizeof flba, 1);
	assert_int_equal(open_mem(&r, file, n, &err), 0);
	assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), SL_EFORMAT);
	assert_non_null(strstr(err.message, "value -32768 does not fit decimal(3,0)"));
	sl_parquet_reader_close(r);
	sl_buf_free(&text);
}

/* ------------------------------------------------ round trips (writer) */

static sl_schema *all_types_schema(void)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "b", sl_type_make(SL_BOOL), true);
	sl_schema_add(s, "i32", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "i64", sl_type_make(SL_INT64), true);
	sl_schema_add(s, "f64", sl_type_make(SL_FLOAT64), true);
	sl_schema_add(s, "d9", sl_type_decimal(9, 2), true);
	sl_schema_add(s, "d18", sl_type_decimal(18, 4), true);
	sl_schema_add(s, "d38", sl_type_decimal(38, 10), true);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "cat", sl_type_make(SL_STRING), false);
	sl_schema_add(s, "dt", sl_type_make(SL_DATE), true);
	sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true);
	return s;
}

static sl_i128 big_decimal(int64_t i)
{
	return (sl_i128)(i - 5000) * (sl_i128)INT64_C(1000000000000000000) * 7 + i;
}

/* Row i of the test data; NULLs at different rows in each column. */
static void fill_row(sl_batch *b, int64_t i)
{
	char s[64];
#define NUL(k) (i % (k) == 0)
	if (NUL(7)) sl_column_append_null(&b->cols[0]); else sl_column_append_bool(&b->cols[0], i % 3 == 1);
	if (NUL(5)) sl_column_append_null(&b->cols[1]); else sl_column_append_i32(&b->cols[1], (int32_t)(i * 37 - 100000));
	if (NUL(6)) sl_column_append_null(&b->cols[2]); else sl_column_append_i64(&b->cols[2], i * INT64_C(1000000007) - INT64_C(5000000000000));
	if (NUL(8)) sl_column_append_null(&b->cols[3]); else sl_column_append_f64(&b->cols[3], (double)i / 7.0 - 3);
	if (NUL(9)) sl_column_append_null(&b->cols[4]); else sl_column_append_dec(&b->cols[4], i * 125 - 50000);
	if (NUL(10)) sl_column_append_null(&b->cols[5]); else sl_column_append_dec(&b->cols[5], (sl_i128)i * 31415 - 7);
	if (NUL(11)) sl_column_append_null(&b->cols[6]); else sl_column_append_dec(&b->cols[6], big_decimal(i));
	snprintf(s, sizeof s, "row %lld é\n\"x\"", (long long)i);
	if (NUL(4)) sl_column_append_null(&b->cols[7]); else sl_column_append_str(&b->cols[7], s, strlen(s));
	snprintf(s, sizeof s, "cat%lld", (long long)(i % 5));
	sl_column_append_str(&b->cols[8], s, strlen(s));
	if (NUL(12)) sl_column_append_null(&b->cols[9]); else sl_column_append_i32(&b->cols[9], (int32_t)(i - 1000));
	if (NUL(13)) sl_column_append_null(&b->cols[10]); else sl_column_append_i64(&b->cols[10], i * INT64_C(3600000123) - INT64_C(86400000000));
#undef NUL
	sl_batch_end_row(b);
}

/* Writes rows [0, n) with opts into memory; returns the file bytes. */
static sl_buf write_file(int64_t n, const sl_parquet_write_opts *opts)
{
	sl_schema *s = all_types_schema();
	sl_output *out;
	sl_parquet_writer *w;
	sl_batch *b;
	sl_error err = SL_ERROR_INIT;
	sl_buf copy = SL_BUF_INIT;

	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	if (sl_parquet_writer_open(&w, out, s, opts, &err) < 0)
		fail_msg("writer open: %s", err.message);
	assert_int_equal(sl_batch_new(&b, s, 1000, &err), 0);
	for (int64_t i = 0; i < n; i++) {
		fill_row(b, i);
		if (sl_batch_full(b) || i == n - 1) {
			if (sl_parquet_writer_write(w, b, &err) < 0)
				fail_msg("writer write: %s", err.message);
			sl_batch_reset(b);
		}
	}
	if (sl_parquet_writer_close(w, NULL, &err) < 0)
		fail_msg("writer close: %s", err.message);
	sl_parquet_writer_free(w);
	const sl_buf *data = sl_output_mem_data(out);
	assert_int_equal(sl_buf_append(&copy, data->data, data->len), 0);
	assert_int_equal(out->close(out, &err), 0);
	sl_batch_free(b);
	sl_schema_free(s);
	return copy;
}

/* Reads the file back (in batches of max_rows) and compares every value. */
static void check_file(const sl_buf *file, int64_t n, int64_t max_rows, const char *const *cols,
		       int ncols)
{
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_schema *s = all_types_schema();
	sl_batch *want, *got = NULL;
	int64_t row = 0;

	if (open_mem(&r, file->data, file->len, &err) < 0)
		fail_msg("open: %s", err.message);
	assert_true(sl_schema_equal(sl_parquet_reader_schema(r), s));
	assert_int_equal(sl_parquet_reader_num_rows(r), n);
	if (cols)
		assert_int_equal(sl_parquet_reader_project(r, cols, ncols, &err), 0);
	assert_int_equal(sl_batch_new(&want, s, 1, &err), 0);
	int rc;
	while ((rc = sl_parquet_reader_next(r, &got, max_rows, &err)) == 1) {
		assert_true(got->nrows <= (max_rows ? max_rows : SL_BATCH_DEFAULT_ROWS));
		for (int64_t i = 0; i < got->nrows; i++, row++) {
			sl_batch_reset(want);
			fill_row(want, row);
			for (int c = 0; c < got->ncols; c++) {
				int wc = cols ? sl_schema_find(s, cols[c]) : c;
				sl_buf a = SL_BUF_INIT, e = SL_BUF_INIT;
				bool gn = sl_column_is_null(&got->cols[c], i);
				bool wn = sl_column_is_null(&want->cols[wc], 0);
				sl_column_format_value(&got->cols[c], i, &a);
				sl_column_format_value(&want->cols[wc], 0, &e);
				if (gn != wn || strcmp(a.data ? a.data : "", e.data ? e.data : ""))
					fail_msg("row %lld column %s: got %s%s, want %s%s", (long long)row,
						 s->fields[wc].name, gn ? "NULL" : "",
						 a.data ? a.data : "", wn ? "NULL" : "",
						 e.data ? e.data : "");
				sl_buf_free(&a);
				sl_buf_free(&e);
			}
		}
		sl_batch_free(got);
		got = NULL;
	}
	if (rc < 0)
		fail_msg("next: %s", err.message);
	assert_int_equal(row, n);
	sl_batch_free(want);
	sl_schema_free(s);
	sl_parquet_reader_close(r);
}

static void test_round_trip_every_codec(void **state)
{
	const sl_codec codecs[] = {SL_CODEC_UNCOMPRESSED, SL_CODEC_SNAPPY, SL_CODEC_GZIP,
				   SL_CODEC_ZSTD};
	for (size_t k = 0; k < 4; k++) {
		sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
		o.codec = codecs[k];
		sl_buf f = write_file(3000, &o);
		sl_parquet_reader *r = NULL;
		sl_error err = SL_ERROR_INIT;
		assert_int_equal(open_mem(&r, f.data, f.len, &err), 0);
		assert_int_equal(sl_parquet_reader_column_codec(r, 0, 3), codecs[k]);
		sl_parquet_reader_close(r);
		check_file(&f, 3000, 0, NULL, 0);
		sl_buf_free(&f);
	}
}

static void test_round_trip_plain_and_dictionary(void **state)
{
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	o.dictionary = false;
	sl_buf f = write_file(2500, &o);
	check_file(&f, 2500, 0, NULL, 0);
	sl_buf_free(&f);
	o.dictionary = true;
	o.page_bytes = 1024; /* many small pages sharing one dictionary */
	f = write_file(2500, &o);
	check_file(&f, 2500, 333, NULL, 0);
	sl_buf_free(&f);
}

static void test_round_trip_row_groups_and_projection(void **state)
{
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	o.row_group_bytes = 16 * 1024;
	sl_buf f = write_file(10000, &o);
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(open_mem(&r, f.data, f.len, &err), 0);
	assert_true(sl_parquet_reader_num_row_groups(r) > 3);
	sl_parquet_reader_close(r);
	/* Batches that straddle row groups, all columns and a projection. */
	check_file(&f, 10000, 777, NULL, 0);
	const char *cols[] = {"ts", "s", "d38", "b"};
	check_file(&f, 10000, 4096, cols, 4);

	const char *unknown[] = {"s", "nope"};
	assert_int_equal(open_mem(&r, f.data, f.len, &err), 0);
	assert_int_equal(sl_parquet_reader_project(r, unknown, 2, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "nope"));
	sl_parquet_reader_close(r);
	sl_buf_free(&f);
}

static void test_truncated_written_file_fails_at_every_length(void **state)
{
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	sl_buf f = write_file(200, &o);
	for (size_t cut = 0; cut < f.len; cut += (cut < 64 || f.len - cut < 600) ? 1 : 97) {
		sl_parquet_reader *r = NULL;
		sl_error err = SL_ERROR_INIT;
		int rc = open_mem(&r, f.data, cut, &err);
		assert_int_equal(rc, SL_EFORMAT);
		assert_non_null(strstr(err.message, "crafted.parquet"));
	}
	sl_buf_free(&f);
}

/*
 * Writes nrows rows of (id int32, body string) where every body is mb MiB of
 * one repeated pattern, in batches of one row; returns the file bytes.
 */
static sl_buf write_big_strings(sl_codec codec, int nrows, size_t mb, bool dictionary)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "id", sl_type_make(SL_INT32), false);
	sl_schema_add(s, "body", sl_type_make(SL_STRING), true);
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	o.codec = codec;
	o.dictionary = dictionary;
	sl_output *out;
	sl_parquet_writer *w;
	sl_batch *b;
	sl_error err = SL_ERROR_INIT;
	sl_buf copy = SL_BUF_INIT;
	size_t len = mb << 20;
	char *body = sl_malloc(len);
	assert_non_null(body);
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_parquet_writer_open(&w, out, s, &o, &err), 0);
	assert_int_equal(sl_batch_new(&b, s, 1, &err), 0);
	for (int i = 0; i < nrows; i++) {
		memset(body, 'a' + i % 26, len);
		body[0] = (char)('0' + i % 10);
		sl_column_append_i32(&b->cols[0], i);
		assert_int_equal(sl_column_append_str(&b->cols[1], body, len), 0);
		sl_batch_end_row(b);
		if (sl_parquet_writer_write(w, b, &err) < 0)
			fail_msg("writer write: %s", err.message);
		sl_batch_reset(b);
	}
	if (sl_parquet_writer_close(w, NULL, &err) < 0)
		fail_msg("writer close: %s", err.message);
	sl_parquet_writer_free(w);
	const sl_buf *data = sl_output_mem_data(out);
	assert_int_equal(sl_buf_append(&copy, data->data, data->len), 0);
	assert_int_equal(out->close(out, &err), 0);
	sl_batch_free(b);
	sl_schema_free(s);
	sl_free(body);
	return copy;
}

/* Reads a write_big_strings file back and checks every byte. */
static void check_big_strings(const sl_buf *f, int nrows, size_t mb)
{
	sl_parquet_reader *r = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_batch *b = NULL;
	int row = 0, rc;
	size_t len = mb << 20;
	if (open_mem(&r, f->data, f->len, &err) < 0)
		fail_msg("open: %s", err.message);
	while ((rc = sl_parquet_reader_next(r, &b, 0, &err)) == 1) {
		/* Batches stay near SL_PARQUET_BATCH_BYTES: at most one row over. */
		assert_true(sl_batch_bytes(b) < SL_PARQUET_BATCH_BYTES + len + 64 || b->nrows == 1);
		if (nrows > 1 && mb >= 15)
			assert_true(b->nrows <= 5);
		for (int64_t i = 0; i < b->nrows; i++, row++) {
			size_t n;
			const char *v = sl_column_str(&b->cols[1], i, &n);
			assert_int_equal(b->cols[0].v.i32[i], row);
			assert_int_equal(n, len);
			assert_int_equal(v[0], '0' + row % 10);
			for (size_t k = 1; k < n; k++)
				if (v[k] != 'a' + row % 26)
					fail_msg("row %d byte %zu is %d", row, k, v[k]);
		}
		sl_batch_free(b);
		b = NULL;
	}
	if (rc < 0)
		fail_msg("next: %s", err.message);
	assert_int_equal(row, nrows);
	sl_parquet_reader_close(r);
}

/*
 * Issue 8: a 15 MB repetitive string compresses to a few hundred bytes, and
 * the reader refused the page the writer had just written ("page claims
 * 15728650 uncompressed bytes from 512 compressed"), so every load failed.
 * Every file the writer writes reads back, with every codec.
 */
static void test_big_repetitive_strings_read_back(void **state)
{
	const sl_codec codecs[] = {SL_CODEC_ZSTD, SL_CODEC_SNAPPY, SL_CODEC_GZIP,
				   SL_CODEC_UNCOMPRESSED};
	for (size_t k = 0; k < 4; k++) {
		sl_buf f = write_big_strings(codecs[k], 1, 15, true);
		check_big_strings(&f, 1, 15);
		sl_buf_free(&f);
	}
	sl_buf f = write_big_strings(SL_CODEC_ZSTD, 1, 50, false);
	check_big_strings(&f, 1, 50);
	sl_buf_free(&f);
	f = write_big_strings(SL_CODEC_ZSTD, 12, 15, true);
	check_big_strings(&f, 12, 15);
	sl_buf_free(&f);
}

/*
 * Builds a file whose one column chunk is a single data page v1 (a required
 * BYTE_ARRAY column of one value) compressed with codec, whose header claims
 * usize uncompressed bytes for the body body[0..nb).
 */
static size_t build_claim_file(uint8_t *file, int codec, int32_t usize, const uint8_t *body,
			       size_t nb)
{
	uint8_t chunk[4096];
	size_t nc;
	tw h, f;

	memset(&h, 0, sizeof h);
	tw_i32(&h, 1, PQ_PAGE_DATA);
	tw_i32(&h, 2, usize);
	tw_i32(&h, 3, (int32_t)nb);
	tw_struct(&h, 5);
	tw_i32(&h, 1, 1);
	tw_i32(&h, 2, PQ_ENC_PLAIN);
	tw_i32(&h, 3, PQ_ENC_RLE);
	tw_i32(&h, 4, PQ_ENC_RLE);
	tw_end(&h);
	tw_byte(&h, 0);
	memcpy(chunk, h.b, h.n);
	nc = h.n;
	memcpy(chunk + nc, body, nb);
	nc += nb;

	footer_begin(&f, 1);
	tw_schema_elem(&f, "v", PQ_BYTE_ARRAY, PQ_REQUIRED, 0, -1, 0, 0, 0);
	tw_i64(&f, 3, 1);
	tw_list(&f, 4, TC_STRUCT, 1);
	tw_elem(&f);
	tw_list(&f, 1, TC_STRUCT, 1);
	chunk_meta_codec(&f, PQ_BYTE_ARRAY, 1, 4, (int64_t)nc, codec);
	tw_i64(&f, 2, (int64_t)nc);
	tw_i64(&f, 3, 1);
	tw_end(&f);
	tw_byte(&f, 0);
	return assemble(file, chunk, nc, &f);
}

/*
 * Forged page headers are still refused, and refused before the reader
 * allocates what they claim: a zstd page whose header claims 2 GiB from a
 * frame that holds 100 bytes, a snappy page claiming more than snappy can
 * encode, a gzip page claiming more than deflate can.
 */
static void test_forged_page_sizes_are_refused(void **state)
{
	static uint8_t file[8192];
	uint8_t body[1024];
	char text[100];
	sl_buf comp = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	memset(text, 'x', sizeof text);
	memcpy(text, "\x60\0\0\0", 4); /* PLAIN BYTE_ARRAY: 96-byte value */

	static const struct {
		sl_codec codec;
		int frames;
		int32_t claim;
		const char *msg;
	} cases[] = {
		{SL_CODEC_ZSTD, 1, INT32_MAX, "zstd: page frame holds 100 bytes, header says 2147483647"},
		{SL_CODEC_ZSTD, 1, 99, "zstd: page frame holds 100 bytes, header says 99"},
		/* Two frames: no single content size to check, so the page is
		 * streamed into a buffer that grows only with real output. */
		{SL_CODEC_ZSTD, 2, INT32_MAX, "zstd: page decompressed to 200 bytes, header says 2147483647"},
		{SL_CODEC_SNAPPY, 1, INT32_MAX, "snappy: page decompresses to 100 bytes, header says"},
		{SL_CODEC_GZIP, 1, INT32_MAX, "more than deflate can encode"},
		{SL_CODEC_GZIP, 1, 20000, "gzip: page decompressed to 100 bytes, header says 20000"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sl_buf_reset(&comp);
		for (int k = 0; k < cases[i].frames; k++)
			assert_int_equal(sl_codec_compress(cases[i].codec, 1, text, sizeof text, &comp,
							   &err), 0);
		assert_true(comp.len < sizeof body);
		memcpy(body, comp.data, comp.len);
		size_t n = build_claim_file(file, cases[i].codec, cases[i].claim, body, comp.len);
		sl_parquet_reader *r = NULL;
		sl_batch *b = NULL;
		assert_int_equal(open_mem(&r, file, n, &err), 0);
		assert_int_equal(sl_parquet_reader_next(r, &b, 0, &err), SL_EFORMAT);
		assert_null(b);
		if (!strstr(err.message, cases[i].msg))
			fail_msg("case %zu: %s", i, err.message);
		assert_non_null(strstr(err.message, "crafted.parquet: column v (row group 0)"));
		sl_parquet_reader_close(r);
	}
	sl_buf_free(&comp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rle_bitpacked_spec_vector),
		cmocka_unit_test(test_rle_width_one_and_long_runs),
		cmocka_unit_test(test_rle_rejects_truncated_and_out_of_range),
		cmocka_unit_test(test_delta_binary_packed_vectors),
		cmocka_unit_test(test_delta_wraps_like_twos_complement),
		cmocka_unit_test(test_delta_rejects_corrupt_headers),
		cmocka_unit_test(test_footer_rejects_small_and_wrong_magic),
		cmocka_unit_test(test_footer_rejects_absurd_length),
		cmocka_unit_test(test_footer_rejects_corrupt_thrift),
		cmocka_unit_test(test_schema_errors_name_the_column),
		cmocka_unit_test(test_delta_byte_array_and_rle_booleans),
		cmocka_unit_test(test_corrupt_pages_fail_cleanly),
		cmocka_unit_test(test_dictionary_count_is_checked_before_allocating),
		cmocka_unit_test(test_decimal_beyond_precision_is_a_format_error),
		cmocka_unit_test(test_round_trip_every_codec),
		cmocka_unit_test(test_round_trip_plain_and_dictionary),
		cmocka_unit_test(test_round_trip_row_groups_and_projection),
		cmocka_unit_test(test_truncated_written_file_fails_at_every_length),
		cmocka_unit_test(test_big_repetitive_strings_read_back),
		cmocka_unit_test(test_forged_page_sizes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
