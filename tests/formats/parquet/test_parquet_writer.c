/*
 * test_parquet_writer.c: the Parquet writer, checked by parsing what it
 * writes (footer, page headers, pages) with a small thrift compact parser
 * of our own. With SL_PARQUET_OUT set, the files are also left in that
 * directory for tests/interop/parquet_writer.test.mjs to read with DuckDB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "formats/parquet/codec.h"
#include "formats/parquet/parquet.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_write_int.h"
#include "formats/parquet/thrift_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ thrift compact parser */

typedef struct tnode {
	int type;
	int id;
	int64_t i;
	const uint8_t *bin;
	size_t len;
	int n;
	struct tnode *kids;
} tnode;

typedef struct rd {
	const uint8_t *p, *end;
	bool bad;
} rd;

static uint64_t rd_varint(rd *r)
{
	uint64_t v = 0;
	for (int sh = 0; sh < 64; sh += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7F) << sh;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t unzig(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static void add_kid(tnode *n, tnode k)
{
	n->kids = realloc(n->kids, (size_t)(n->n + 1) * sizeof *n->kids);
	assert_non_null(n->kids);
	n->kids[n->n++] = k;
}

static void parse_struct(rd *r, tnode *out);

static void parse_value(rd *r, int type, tnode *v)
{
	v->type = type;
	switch (type) {
	case TC_TRUE: v->i = 1; break;
	case TC_FALSE: v->i = 0; break;
	case TC_BYTE:
		v->i = r->p < r->end ? (int8_t)*r->p++ : (r->bad = true, 0);
		break;
	case TC_I16:
	case TC_I32:
	case TC_I64: v->i = unzig(rd_varint(r)); break;
	case TC_DOUBLE: r->p += 8; break;
	case TC_BINARY:
		v->len = rd_varint(r);
		v->bin = r->p;
		if ((size_t)(r->end - r->p) < v->len)
			r->bad = true;
		else
			r->p += v->len;
		break;
	case TC_LIST:
	case TC_SET: {
		if (r->p >= r->end) {
			r->bad = true;
			return;
		}
		uint8_t h = *r->p++;
		int et = h & 0xF;
		int64_t cnt = h >> 4;
		if (cnt == 15)
			cnt = (int64_t)rd_varint(r);
		for (int64_t k = 0; k < cnt && !r->bad; k++) {
			tnode e = {0};
			if (et == TC_TRUE || et == TC_FALSE) /* bools in lists are bytes */
				parse_value(r, TC_BYTE, &e);
			else
				parse_value(r, et, &e);
			add_kid(v, e);
		}
		break;
	}
	case TC_STRUCT: parse_struct(r, v); break;
	default: r->bad = true;
	}
}

static void parse_struct(rd *r, tnode *out)
{
	out->type = TC_STRUCT;
	int last = 0;
	while (!r->bad) {
		if (r->p >= r->end) {
			r->bad = true;
			return;
		}
		uint8_t h = *r->p++;
		if (h == TC_STOP)
			return;
		int type = h & 0xF, delta = h >> 4;
		int id = delta ? last + delta : (int)unzig(rd_varint(r));
		last = id;
		tnode f = {0};
		f.id = id;
		parse_value(r, type, &f);
		add_kid(out, f);
	}
}

static void tfree(tnode *n)
{
	for (int i = 0; i < n->n; i++)
		tfree(&n->kids[i]);
	free(n->kids);
	n->kids = NULL;
	n->n = 0;
}

/* Field id of struct n, or NULL. */
static const tnode *tget(const tnode *n, int id)
{
	for (int i = 0; n && i < n->n; i++)
		if (n->kids[i].id == id)
			return &n->kids[i];
	return NULL;
}

static int64_t tint(const tnode *n, int id)
{
	const tnode *f = tget(n, id);
	assert_non_null(f);
	return f->i;
}

static bool tstr_eq(const tnode *n, const char *s)
{
	return n && n->len == strlen(s) && memcmp(n->bin, s, n->len) == 0;
}

/* ----------------------------------------------------------- the file */

typedef struct pfile {
	uint8_t *data;
	size_t len;
	tnode meta;
} pfile;

static void pfile_parse(pfile *f)
{
	assert_true(f->len >= 12);
	assert_memory_equal(f->data, "PAR1", 4);
	assert_memory_equal(f->data + f->len - 4, "PAR1", 4);
	const uint8_t *t = f->data + f->len - 8;
	uint32_t mlen = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
			(uint32_t)t[3] << 24;
	assert_true(mlen + 12 <= f->len);
	rd r = {f->data + f->len - 8 - mlen, f->data + f->len - 8, false};
	memset(&f->meta, 0, sizeof f->meta);
	parse_struct(&r, &f->meta);
	assert_false(r.bad);
	assert_ptr_equal(r.p, r.end);
}

static void pfile_free(pfile *f)
{
	tfree(&f->meta);
	free(f->data);
}

static const tnode *row_group(const pfile *f, int rg)
{
	const tnode *l = tget(&f->meta, 4);
	assert_non_null(l);
	assert_true(rg < l->n);
	return &l->kids[rg];
}

static const tnode *col_meta(const pfile *f, int rg, int col)
{
	const tnode *cols = tget(row_group(f, rg), 1);
	assert_non_null(cols);
	assert_true(col < cols->n);
	const tnode *m = tget(&cols->kids[col], 3);
	assert_non_null(m);
	return m;
}

static bool has_encoding(const tnode *meta, int enc)
{
	const tnode *l = tget(meta, 2);
	for (int i = 0; l && i < l->n; i++)
		if (l->kids[i].i == enc)
			return true;
	return false;
}

/* One page of a column chunk, decompressed. */
typedef struct page {
	int type;
	int32_t num_values;
	int encoding;
	uint8_t *body; /* malloc'd */
	size_t len;
} page;

/* Reads every page of column col in row group rg; returns the count. */
static int read_pages(const pfile *f, int rg, int col, page *out, int max)
{
	const tnode *m = col_meta(f, rg, col);
	sl_codec codec = (sl_codec)tint(m, 4);
	const tnode *dict = tget(m, 11);
	int64_t off = dict ? dict->i : tint(m, 9);
	int64_t end = off + tint(m, 7);
	int n = 0;
	while (off < end) {
		assert_true(n < max);
		rd r = {f->data + off, f->data + end, false};
		tnode h = {0};
		parse_struct(&r, &h);
		assert_false(r.bad);
		page *p = &out[n++];
		p->type = (int)tint(&h, 1);
		size_t ulen = (size_t)tint(&h, 2), clen = (size_t)tint(&h, 3);
		const tnode *sub = tget(&h, p->type == PQ_PAGE_DICTIONARY ? 7 : 5);
		assert_non_null(sub);
		p->num_values = (int32_t)tint(sub, 1);
		p->encoding = (int)tint(sub, 2);
		tfree(&h);
		p->body = malloc(ulen + 1);
		p->len = ulen;
		sl_error err = SL_ERROR_INIT;
		assert_true(r.p + clen <= f->data + end);
		assert_int_equal(sl_codec_decompress(codec, r.p, clen, p->body, ulen, &err), 0);
		off = (int64_t)(r.p - f->data) + (int64_t)clen;
	}
	assert_int_equal(off, end);
	return n;
}

static void free_pages(page *p, int n)
{
	for (int i = 0; i < n; i++)
		free(p[i].body);
}

/* Decodes an RLE/bit-packed hybrid run sequence of n values. */
static size_t rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
	rd r = {p, p + len, false};
	size_t k = 0;
	while (k < n) {
		uint64_t h = rd_varint(&r);
		assert_false(r.bad);
		if (h & 1) {
			size_t cnt = (size_t)(h >> 1) * 8;
			uint64_t acc = 0;
			int nb = 0;
			for (size_t i = 0; i < cnt; i++) {
				while (nb < bw) {
					assert_true(r.p < r.end);
					acc |= (uint64_t)*r.p++ << nb;
					nb += 8;
				}
				uint32_t v = (uint32_t)(acc & ((1ull << bw) - 1));
				acc >>= bw;
				nb -= bw;
				if (k < n)
					out[k++] = v;
			}
		} else {
			size_t cnt = (size_t)(h >> 1);
			uint32_t v = 0;
			for (int i = 0; i < (bw + 7) / 8; i++)
				v |= (uint32_t)*r.p++ << (8 * i);
			for (size_t i = 0; i < cnt; i++) {
				assert_true(k < n);
				out[k++] = v;
			}
		}
	}
	return (size_t)(r.p - p);
}

/*
 * Decodes a DELTA_BINARY_PACKED run (an implementation separate from the
 * reader's): returns its value count, fills out (up to max values) and
 * *used with the bytes consumed. 32-bit callers truncate the results.
 */
static size_t dbp_decode(const uint8_t *p, size_t len, int64_t *out, size_t max, size_t *used)
{
	rd r = {p, p + len, false};
	uint64_t block = rd_varint(&r), minis = rd_varint(&r), total = rd_varint(&r);
	uint64_t v = (uint64_t)unzig(rd_varint(&r));
	assert_false(r.bad);
	assert_int_equal(block, 128);
	assert_int_equal(minis, 4);
	assert_true(total <= max);
	size_t k = 0;
	if (total)
		out[k++] = (int64_t)v;
	while (k < total) {
		uint64_t md = (uint64_t)unzig(rd_varint(&r));
		assert_true(r.p + 4 <= r.end);
		const uint8_t *w = r.p;
		r.p += 4;
		for (int m = 0; m < 4 && k < total; m++) {
			int bw = w[m];
			assert_true(bw <= 64);
			assert_true(r.p + 4 * bw <= r.end);
			for (int i = 0; i < 32; i++) {
				uint64_t x = 0;
				for (int b = 0; b < bw; b++) {
					size_t bit = (size_t)i * (size_t)bw + (size_t)b;
					x |= (uint64_t)((r.p[bit / 8] >> (bit % 8)) & 1) << b;
				}
				if (k < total) {
					v += md + x;
					out[k++] = (int64_t)v;
				}
			}
			r.p += 4 * bw;
		}
	}
	*used = (size_t)(r.p - p);
	return (size_t)total;
}

/* --------------------------------------------------------- test data */

/* the last is "rückgabe ✓" in UTF-8 */
static const char *CATS[] = {"pending", "shipped", "delivered", "cancelled",
			     "r\xc3\xbc\x63kgabe \xe2\x9c\x93"};

#define I32_NULL(i) ((i) % 7 == 3)
#define TXT_NULL(i) ((i) % 5 == 1)

static sl_schema *all_types_schema(void)
{
	sl_schema *s = sl_schema_new();
	assert_non_null(s);
	assert_int_equal(sl_schema_add(s, "b", sl_type_make(SL_BOOL), true), 0);
	assert_int_equal(sl_schema_add(s, "i32", sl_type_make(SL_INT32), true), 0);
	assert_int_equal(sl_schema_add(s, "i64", sl_type_make(SL_INT64), false), 0);
	assert_int_equal(sl_schema_add(s, "f", sl_type_make(SL_FLOAT64), true), 0);
	assert_int_equal(sl_schema_add(s, "d9", sl_type_decimal(9, 2), true), 0);
	assert_int_equal(sl_schema_add(s, "d18", sl_type_decimal(18, 4), false), 0);
	assert_int_equal(sl_schema_add(s, "d38", sl_type_decimal(38, 10), true), 0);
	assert_int_equal(sl_schema_add(s, "s", sl_type_make(SL_STRING), true), 0);
	assert_int_equal(sl_schema_add(s, "dt", sl_type_make(SL_DATE), true), 0);
	assert_int_equal(sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true), 0);
	assert_int_equal(sl_schema_add(s, "txt", sl_type_make(SL_STRING), true), 0);
	return s;
}

static sl_i128 d38_value(int64_t i)
{
	if (i == 1)
		return -(sl_i128_pow10(38) - 1);
	if (i == 2)
		return sl_i128_pow10(38) - 1;
	return (sl_i128)(i - 500) * sl_i128_pow10(27) + i;
}

/*
 * Row i of the all-types data set (tests/interop/parquet_writer.test.mjs
 * computes the same values).
 */
static void append_all_types_row(sl_batch *b, int64_t i)
{
	bool nul = I32_NULL(i);
	char t[128];
	if (nul)
		sl_column_append_null(&b->cols[0]);
	else
		sl_column_append_bool(&b->cols[0], i % 3 == 0);
	if (nul)
		sl_column_append_null(&b->cols[1]);
	else
		sl_column_append_i32(&b->cols[1], i == 1	 ? INT32_MIN
						  : i == 2 ? INT32_MAX
							   : (int32_t)(i % 1000) - 500);
	sl_column_append_i64(&b->cols[2], i == 1   ? INT64_MIN
					  : i == 2 ? INT64_MAX
						   : i * 1000003 - 500000000000LL);
	if (nul)
		sl_column_append_null(&b->cols[3]);
	else
		sl_column_append_f64(&b->cols[3], (double)i * 0.25 - 10);
	if (nul)
		sl_column_append_null(&b->cols[4]);
	else
		sl_column_append_dec(&b->cols[4], i == 1   ? -999999999
						  : i == 2 ? 999999999
							   : (sl_i128)(i % 10000) * 7 - 20000);
	sl_column_append_dec(&b->cols[5], i == 2 ? (sl_i128)999999999999999999LL
						 : (sl_i128)i * 12345 - 100000000000000000LL);
	if (nul)
		sl_column_append_null(&b->cols[6]);
	else
		sl_column_append_dec(&b->cols[6], d38_value(i));
	if (nul)
		sl_column_append_null(&b->cols[7]);
	else
		assert_int_equal(sl_column_append_str(&b->cols[7], CATS[i % 5], strlen(CATS[i % 5])),
				 0);
	if (nul)
		sl_column_append_null(&b->cols[8]);
	else
		sl_column_append_i32(&b->cols[8], 19000 + (int32_t)(i % 400) - 200);
	if (nul)
		sl_column_append_null(&b->cols[9]);
	else
		sl_column_append_i64(&b->cols[9], i == 1 ? -86400000000LL + 123
							 : 1706695200000000LL + i * 1000001LL);
	if (TXT_NULL(i)) {
		sl_column_append_null(&b->cols[10]);
	} else {
		int n = snprintf(t, sizeof t, "text %lld \"q\" \\ %lld \xc3\xa9",
				 (long long)i, (long long)(i * 7919 % 1000003));
		assert_int_equal(sl_column_append_str(&b->cols[10], t, (size_t)n), 0);
	}
	sl_batch_end_row(b);
}

typedef void (*row_fn)(sl_batch *b, int64_t i);

/* A sink that fails every write after `limit` bytes. */
typedef struct fail_output {
	sl_output base;
	uint64_t limit;
	size_t got;
} fail_output;

static int fail_write(sl_output *o, const void *p, size_t n, sl_error *err)
{
	fail_output *f = (fail_output *)o;
	(void)p;
	if (f->got + n > f->limit)
		return sl_error_set(err, SL_EIO, "disk full");
	f->got += n;
	return 0;
}

static int fail_close(sl_output *o, sl_error *err)
{
	(void)err;
	sl_free(o);
	return 0;
}

static void fail_abort(sl_output *o) { sl_free(o); }

/*
 * Writes nrows rows made by fn in batches of batch_rows; fills f with the
 * file and stats (when not NULL). When SL_PARQUET_OUT is set, the file is
 * also saved there as name.
 */
static int write_file(const sl_schema *s, const sl_parquet_write_opts *o, row_fn fn,
		      int64_t nrows, int64_t batch_rows, const char *name, pfile *f,
		      sl_parquet_file_stats *st, sl_error *err)
{
	sl_output *out = NULL;
	sl_parquet_writer *w = NULL;
	sl_batch *b = NULL;
	int rc = sl_output_mem_open(&out, err);
	if (rc < 0)
		return rc;
	rc = sl_parquet_writer_open(&w, out, s, o, err);
	if (rc < 0)
		goto done;
	rc = sl_batch_new(&b, s, batch_rows, err);
	if (rc < 0)
		goto done;
	uint64_t last_bytes = 0;
	for (int64_t i = 0; i < nrows; i++) {
		fn(b, i);
		if (sl_batch_full(b) || i == nrows - 1) {
			rc = sl_parquet_writer_write(w, b, err);
			if (rc < 0)
				goto done;
			sl_batch_reset(b);
			assert_true(sl_parquet_writer_bytes(w) >= last_bytes);
			last_bytes = sl_parquet_writer_bytes(w);
			assert_int_equal(sl_parquet_writer_rows(w), i + 1);
		}
	}
	rc = sl_parquet_writer_close(w, st, err);
	if (rc < 0)
		goto done;
	const sl_buf *data = sl_output_mem_data(out);
	if (f) {
		f->len = data->len;
		f->data = malloc(data->len);
		assert_non_null(f->data);
		memcpy(f->data, data->data, data->len);
	}
	const char *dir = getenv("SL_PARQUET_OUT");
	if (dir && name) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, name);
		sl_error e2 = SL_ERROR_INIT;
		assert_int_equal(sl_file_write_atomic(path, data->data, data->len, &e2), 0);
	}
done:
	sl_parquet_writer_free(w);
	sl_batch_free(b);
	if (out)
		out->abort(out);
	return rc;
}

static sl_parquet_write_opts small_opts(sl_codec codec)
{
	sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
	o.codec = codec;
	o.page_bytes = 8192;
	return o;
}

/* ------------------------------------------------------------- tests */

static void test_thrift_compact_encoding(void **state)
{
	(void)state;
	sl_buf b = SL_BUF_INIT;
	sl_tw t;
	sl_tw_init(&t, &b);
	sl_tw_i32(&t, 1, -1);          /* short form: 0x15, zigzag 1 */
	sl_tw_string(&t, 4, "ab");     /* delta 3: 0x38, len, bytes */
	sl_tw_bool(&t, 5, true);       /* 0x11 */
	sl_tw_i64(&t, 40, 300);        /* long form: 0x06, zigzag(40)=80, zigzag(300)=600 */
	sl_tw_list_begin(&t, 41, TC_I32, 2); /* 0x19, 0x25 */
	sl_tw_elem_i32(&t, 2);
	sl_tw_elem_i32(&t, -2);
	sl_tw_struct_begin(&t, 42);    /* 0x1C */
	sl_tw_i32(&t, 1, 7);           /* 0x15 0x0E */
	sl_tw_struct_end(&t);          /* 0x00 */
	sl_tw_end(&t);
	assert_int_equal(t.rc, 0);
	const uint8_t want[] = {0x15, 0x01, 0x38, 0x02, 'a', 'b', 0x11, 0x06, 0x50, 0xD8, 0x04,
				0x19, 0x25, 0x04, 0x03, 0x1C, 0x15, 0x0E, 0x00, 0x00};
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	sl_buf_free(&b);
}

static void test_rle_hybrid_round_trip(void **state)
{
	(void)state;
	enum { N = 5000 };
	uint32_t *v = malloc(N * sizeof *v), *got = malloc((N + 8) * sizeof *got);
	for (int bw = 1; bw <= 20; bw += 3) {
		uint32_t x = 1;
		for (int i = 0; i < N; i++) {
			x = x * 1103515245u + 12345u;
			/* mixes long runs with literal stretches */
			v[i] = (i / 300) % 2 ? (uint32_t)(i / 300) : (x >> 8);
			v[i] &= (uint32_t)((1ull << bw) - 1);
		}
		for (size_t n = 1; n <= N; n = n * 3 + 1) {
			sl_buf b = SL_BUF_INIT;
			assert_int_equal(pq_rle_encode_u32(&b, v, n, bw), 0);
			size_t used = rle_decode((uint8_t *)b.data, b.len, bw, got, n);
			assert_int_equal(used, b.len);
			assert_memory_equal(got, v, n * sizeof *v);
			sl_buf_free(&b);
		}
	}
	/* a constant sequence is one RLE run */
	for (int i = 0; i < N; i++)
		v[i] = 5;
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(pq_rle_encode_u32(&b, v, N, 3), 0);
	assert_int_equal(b.len, 3); /* varint(5000 << 1) is 2 bytes + 1 value byte */
	sl_buf_free(&b);
	free(v);
	free(got);
}

static void test_rle_bitmap_levels(void **state)
{
	(void)state;
	enum { N = 3000 };
	uint8_t bits[N / 8 + 1];
	uint32_t got[N + 8];
	for (size_t n = 1; n <= N; n += 97) {
		memset(bits, 0, sizeof bits);
		for (size_t i = 0; i < n; i++)
			if (i < 700 || (i > 1500 && i % 3) || (i >= 2000 && i < 2400))
				sl_bit_set(bits, (int64_t)i, true);
		/* garbage after n must not leak into the padding */
		for (size_t i = n; i < (n + 7) / 8 * 8; i++)
			sl_bit_set(bits, (int64_t)i, true);
		sl_buf b = SL_BUF_INIT;
		assert_int_equal(pq_rle_encode_bitmap(&b, bits, n), 0);
		rle_decode((uint8_t *)b.data, b.len, 1, got, n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(got[i], sl_bit_get(bits, (int64_t)i));
		sl_buf_free(&b);
	}
}

static void test_bits_copy_unaligned(void **state)
{
	(void)state;
	uint8_t src[64], dst[64];
	for (int i = 0; i < 64; i++)
		src[i] = (uint8_t)(i * 37 + 11);
	for (int so = 0; so < 16; so++)
		for (int dof = 0; dof < 16; dof++)
			for (int n = 0; n < 300; n += 13) {
				memset(dst, 0xAA, sizeof dst);
				pq_bits_copy(dst, dof, src, so, n);
				for (int k = 0; k < n; k++)
					assert_int_equal(sl_bit_get(dst, dof + k),
							 sl_bit_get(src, so + k));
			}
}

static void test_decimal_byte_layout(void **state)
{
	(void)state;
	assert_int_equal(pq_decimal_flba_len(19), 9);
	assert_int_equal(pq_decimal_flba_len(20), 9);
	assert_int_equal(pq_decimal_flba_len(21), 9);
	assert_int_equal(pq_decimal_flba_len(22), 10);
	assert_int_equal(pq_decimal_flba_len(38), 16);
	uint8_t b[16];
	pq_decimal_to_be(-2, 9, b);
	const uint8_t m2[9] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
	assert_memory_equal(b, m2, 9);
	pq_decimal_to_be(258, 9, b);
	const uint8_t p258[9] = {0, 0, 0, 0, 0, 0, 0, 1, 2};
	assert_memory_equal(b, p258, 9);
}

static const tnode *schema_el(const pfile *f, int i)
{
	const tnode *l = tget(&f->meta, 2);
	assert_non_null(l);
	assert_true(i < l->n);
	return &l->kids[i];
}

static void test_all_types_schema_and_footer(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	pfile f = {0};
	sl_parquet_file_stats st;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(write_file(s, &o, append_all_types_row, 5000, 1024, "all_types_zstd.parquet",
				    &f, &st, &err),
			 0);
	pfile_parse(&f);
	assert_int_equal(tint(&f.meta, 1), 1);
	assert_int_equal(tint(&f.meta, 3), 5000);
	assert_true(tstr_eq(tget(&f.meta, 6), "sluice version 0.1.0"));
	assert_int_equal(tget(&f.meta, 4)->n, 1);
	assert_int_equal(tget(&f.meta, 7)->n, 11); /* column orders */

	const tnode *root = schema_el(&f, 0);
	assert_true(tstr_eq(tget(root, 4), "schema"));
	assert_int_equal(tint(root, 5), 11);
	assert_null(tget(root, 1));
	struct {
		const char *name;
		int type, rep, conv, len, scale, prec, logical;
	} want[] = {
		{"b", PQ_BOOLEAN, PQ_OPTIONAL, -1, -1, -1, -1, -1},
		{"i32", PQ_INT32, PQ_OPTIONAL, -1, -1, -1, -1, -1},
		{"i64", PQ_INT64, PQ_REQUIRED, -1, -1, -1, -1, -1},
		{"f", PQ_DOUBLE, PQ_OPTIONAL, -1, -1, -1, -1, -1},
		{"d9", PQ_INT32, PQ_OPTIONAL, PQ_CT_DECIMAL, -1, 2, 9, 5},
		{"d18", PQ_INT64, PQ_REQUIRED, PQ_CT_DECIMAL, -1, 4, 18, 5},
		{"d38", PQ_FIXED_LEN_BYTE_ARRAY, PQ_OPTIONAL, PQ_CT_DECIMAL, 16, 10, 38, 5},
		{"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, PQ_CT_UTF8, -1, -1, -1, 1},
		{"dt", PQ_INT32, PQ_OPTIONAL, PQ_CT_DATE, -1, -1, -1, 6},
		{"ts", PQ_INT64, PQ_OPTIONAL, PQ_CT_TIMESTAMP_MICROS, -1, -1, -1, 8},
		{"txt", PQ_BYTE_ARRAY, PQ_OPTIONAL, PQ_CT_UTF8, -1, -1, -1, 1},
	};
	for (int i = 0; i < 11; i++) {
		const tnode *e = schema_el(&f, i + 1);
		assert_true(tstr_eq(tget(e, 4), want[i].name));
		assert_int_equal(tint(e, 1), want[i].type);
		assert_int_equal(tint(e, 3), want[i].rep);
		if (want[i].conv >= 0)
			assert_int_equal(tint(e, 6), want[i].conv);
		else
			assert_null(tget(e, 6));
		if (want[i].len >= 0)
			assert_int_equal(tint(e, 2), want[i].len);
		if (want[i].scale >= 0) {
			assert_int_equal(tint(e, 7), want[i].scale);
			assert_int_equal(tint(e, 8), want[i].prec);
		}
		const tnode *lt = tget(e, 10);
		if (want[i].logical < 0) {
			assert_null(lt);
			continue;
		}
		assert_non_null(lt);
		assert_int_equal(lt->n, 1);
		assert_int_equal(lt->kids[0].id, want[i].logical);
		if (want[i].logical == 5) {
			assert_int_equal(tint(&lt->kids[0], 1), want[i].scale);
			assert_int_equal(tint(&lt->kids[0], 2), want[i].prec);
		}
		if (want[i].logical == 8) {
			assert_int_equal(tint(&lt->kids[0], 1), 1); /* isAdjustedToUTC */
			const tnode *unit = tget(&lt->kids[0], 2);
			assert_non_null(tget(unit, 2));             /* MICROS */
		}
	}

	/* column chunks: codec, counts, statistics */
	const tnode *rg = row_group(&f, 0);
	assert_int_equal(tint(rg, 3), 5000);
	assert_int_equal(tint(rg, 7), 0);
	for (int c = 0; c < 11; c++) {
		const tnode *m = col_meta(&f, 0, c);
		assert_int_equal(tint(m, 4), SL_CODEC_ZSTD);
		assert_int_equal(tint(m, 5), 5000);
		const tnode *path = tget(m, 3);
		assert_int_equal(path->n, 1);
		assert_true(tstr_eq(&path->kids[0], want[c].name));
		const tnode *stt = tget(m, 12);
		int64_t nulls = c == 10 ? 1000 : (c == 2 || c == 5) ? 0 : 714;
		assert_int_equal(tint(stt, 3), nulls);
		assert_int_equal(has_encoding(m, PQ_ENC_RLE), want[c].rep == PQ_OPTIONAL);
	}
	/* i32: signed min/max as 4 little-endian bytes, legacy fields too */
	const tnode *stt = tget(col_meta(&f, 0, 1), 12);
	int32_t mn, mx;
	memcpy(&mn, tget(stt, 6)->bin, 4);
	memcpy(&mx, tget(stt, 5)->bin, 4);
	assert_int_equal(mn, INT32_MIN);
	assert_int_equal(mx, INT32_MAX);
	assert_non_null(tget(stt, 1));
	/* d38: 16 big-endian bytes */
	stt = tget(col_meta(&f, 0, 6), 12);
	assert_int_equal(tget(stt, 6)->len, 16);
	uint8_t be[16];
	pq_decimal_to_be(-(sl_i128_pow10(38) - 1), 16, be);
	assert_memory_equal(tget(stt, 6)->bin, be, 16);
	assert_null(tget(stt, 1)); /* no legacy min/max */
	/* strings: bytewise, no legacy fields */
	stt = tget(col_meta(&f, 0, 7), 12);
	assert_true(tstr_eq(tget(stt, 6), "cancelled"));
	assert_true(tstr_eq(tget(stt, 5), "shipped"));
	assert_null(tget(stt, 2));

	/* file statistics as JSON */
	assert_int_equal(st.rows, 5000);
	assert_int_equal(st.row_groups, 1);
	assert_int_equal(st.bytes, f.len);
	assert_int_equal(st.ncols, 11);
	assert_int_equal(st.cols[1].null_count, 714);
	assert_true(st.cols[0].has_minmax);
	assert_string_equal(st.cols[0].min_json, "false");
	assert_string_equal(st.cols[0].max_json, "true");
	assert_string_equal(st.cols[1].min_json, "-2147483648");
	assert_string_equal(st.cols[2].max_json, "9223372036854775807");
	assert_string_equal(st.cols[3].min_json, "-10");
	assert_string_equal(st.cols[3].max_json, "1239.75");
	assert_string_equal(st.cols[4].min_json, "-9999999.99");
	assert_string_equal(st.cols[5].max_json, "99999999999999.9999");
	assert_string_equal(st.cols[6].max_json, "9999999999999999999999999999.9999999999");
	assert_string_equal(st.cols[7].min_json, "\"cancelled\"");
	assert_string_equal(st.cols[8].min_json, "\"2021-06-22\"");
	assert_string_equal(st.cols[8].max_json, "\"2022-07-26\"");
	assert_string_equal(st.cols[9].min_json, "\"1969-12-31T00:00:00.000123Z\"");
	assert_string_equal(st.cols[9].max_json, "\"2024-01-31T11:23:19.004999Z\"");
	assert_string_equal(st.cols[10].min_json, "\"text 0 \\\"q\\\" \\\\ 0 \xc3\xa9\"");
	assert_string_equal(st.cols[10].max_json, "\"text 999 \\\"q\\\" \\\\ 911060 \xc3\xa9\"");
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);
	sl_schema_free(s);
}

static void test_every_codec_round_trips_pages(void **state)
{
	(void)state;
	const sl_codec codecs[] = {SL_CODEC_UNCOMPRESSED, SL_CODEC_SNAPPY, SL_CODEC_GZIP,
				   SL_CODEC_ZSTD};
	const char *names[] = {"all_types_none.parquet", "all_types_snappy.parquet",
			       "all_types_gzip.parquet", "all_types_zstd_inline.parquet"};
	sl_schema *s = all_types_schema();
	for (int k = 0; k < 4; k++) {
		sl_parquet_write_opts o = small_opts(codecs[k]);
		if (k == 3)
			o.compress_threads = -1;
		pfile f = {0};
		sl_error err = SL_ERROR_INIT;
		assert_int_equal(write_file(s, &o, append_all_types_row, 5000, 999, names[k], &f,
					    NULL, &err),
				 0);
		pfile_parse(&f);
		for (int c = 0; c < 11; c++)
			assert_int_equal(tint(col_meta(&f, 0, c), 4), codecs[k]);
		/* i64 (required, distinct: no dictionary) pages hold the values
		 * in order, DELTA_BINARY_PACKED except where the extremes make
		 * PLAIN smaller */
		page pg[64];
		int np = read_pages(&f, 0, 2, pg, 64);
		assert_true(np > 1);
		int64_t row = 0, vals[8192];
		for (int p = 0; p < np; p++) {
			assert_int_equal(pg[p].type, PQ_PAGE_DATA);
			if (p > 0)
				assert_int_equal(pg[p].encoding, PQ_ENC_DELTA_BINARY_PACKED);
			if (pg[p].encoding == PQ_ENC_PLAIN) {
				assert_int_equal(pg[p].len, (size_t)pg[p].num_values * 8);
				memcpy(vals, pg[p].body, pg[p].len);
			} else {
				size_t used;
				assert_int_equal(dbp_decode(pg[p].body, pg[p].len, vals, 8192, &used),
						 pg[p].num_values);
				assert_int_equal(used, pg[p].len);
				assert_true(pg[p].len < (size_t)pg[p].num_values * 2);
			}
			for (int32_t v = 0; v < pg[p].num_values; v++, row++) {
				int64_t want = row == 1 ? INT64_MIN
					     : row == 2 ? INT64_MAX
							: row * 1000003 - 500000000000LL;
				assert_int_equal(vals[v], want);
			}
		}
		assert_int_equal(row, 5000);
		free_pages(pg, np);
		/* i32 (optional): definition levels then values */
		np = read_pages(&f, 0, 1, pg, 64);
		row = 0;
		for (int p = 0; p < np; p++) {
			if (pg[p].type != PQ_PAGE_DATA)
				continue;
			uint32_t lenp;
			memcpy(&lenp, pg[p].body, 4);
			uint32_t *defs = malloc((size_t)pg[p].num_values * 4 + 32);
			rle_decode(pg[p].body + 4, lenp, 1, defs, (size_t)pg[p].num_values);
			for (int32_t v = 0; v < pg[p].num_values; v++)
				assert_int_equal(defs[v], !I32_NULL(row + v));
			row += pg[p].num_values;
			free(defs);
		}
		assert_int_equal(row, 5000);
		free_pages(pg, np);
		pfile_free(&f);
	}
	sl_schema_free(s);
}

static void dict_rows(sl_batch *b, int64_t i)
{
	char t[64];
	/* k: 12 values for the first 3000 rows, then all distinct */
	int n = i < 3000 ? snprintf(t, sizeof t, "key-%lld", (long long)(i % 12))
			 : snprintf(t, sizeof t, "unique-%lld", (long long)i);
	assert_int_equal(sl_column_append_str(&b->cols[0], t, (size_t)n), 0);
	/* lo: low cardinality ints throughout */
	sl_column_append_i64(&b->cols[1], (i * 7) % 5);
	/* id: distinct from the start */
	sl_column_append_i64(&b->cols[2], i * 3);
	sl_batch_end_row(b);
}

/* The first value of a PLAIN or DELTA_LENGTH_BYTE_ARRAY string page. */
static void first_string(const page *pg, const uint8_t **str, size_t *len)
{
	if (pg->encoding == PQ_ENC_PLAIN) {
		uint32_t n;
		memcpy(&n, pg->body, 4);
		*str = pg->body + 4;
		*len = n;
		return;
	}
	assert_int_equal(pg->encoding, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY);
	int64_t *lens = malloc((size_t)pg->num_values * sizeof *lens);
	size_t used;
	assert_int_equal(dbp_decode(pg->body, pg->len, lens, (size_t)pg->num_values, &used),
			 pg->num_values);
	int64_t total = 0;
	for (int32_t i = 0; i < pg->num_values; i++)
		total += lens[i];
	assert_int_equal(used + (size_t)total, pg->len);
	*str = pg->body + used;
	*len = (size_t)lens[0];
	free(lens);
}

static void test_dictionary_and_fallback_to_plain(void **state)
{
	(void)state;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "k", sl_type_make(SL_STRING), false);
	sl_schema_add(s, "lo", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "id", sl_type_make(SL_INT64), false);
	/* with delta encodings (the default), the fallback is delta-encoded */
	for (int delta = 1; delta >= 0; delta--) {
		sl_parquet_write_opts o = SL_PARQUET_WRITE_OPTS_INIT;
		o.page_bytes = 4096;
		o.dict_max_bytes = 2000;
		o.delta_encodings = delta;
		int str_enc = delta ? PQ_ENC_DELTA_LENGTH_BYTE_ARRAY : PQ_ENC_PLAIN;
		int int_enc = delta ? PQ_ENC_DELTA_BINARY_PACKED : PQ_ENC_PLAIN;
		pfile f = {0};
		sl_error err = SL_ERROR_INIT;
		assert_int_equal(write_file(s, &o, dict_rows, 20000, 4096,
					    delta ? "dict_fallback.parquet" : "dict_fallback_plain.parquet",
					    &f, NULL, &err),
				 0);
		pfile_parse(&f);
		page pg[256];

		/* k: dictionary page, dictionary-encoded pages, then the fallback */
		const tnode *m = col_meta(&f, 0, 0);
		assert_true(has_encoding(m, PQ_ENC_RLE_DICTIONARY));
		assert_true(has_encoding(m, PQ_ENC_PLAIN));
		assert_int_equal(has_encoding(m, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY), delta);
		assert_false(has_encoding(m, PQ_ENC_DELTA_BINARY_PACKED));
		assert_non_null(tget(m, 11));
		int np = read_pages(&f, 0, 0, pg, 256);
		assert_int_equal(pg[0].type, PQ_PAGE_DICTIONARY);
		assert_int_equal(pg[0].encoding, PQ_ENC_PLAIN);
		int ndict = pg[0].num_values;
		assert_true(ndict >= 12);
		/* dictionary entries are PLAIN byte arrays, first seen first */
		assert_int_equal(pg[0].body[0], 5);
		assert_memory_equal(pg[0].body + 4, "key-0", 5);
		int64_t rows = 0;
		bool seen_fallback = false;
		for (int p = 1; p < np; p++) {
			assert_int_equal(pg[p].type, PQ_PAGE_DATA);
			if (pg[p].encoding == PQ_ENC_RLE_DICTIONARY) {
				assert_false(seen_fallback); /* no dictionary pages after it */
				int bw = pg[p].body[0];
				assert_true(bw >= 1 && bw <= 32);
				uint32_t *ix = malloc((size_t)pg[p].num_values * 4 + 32);
				rle_decode(pg[p].body + 1, pg[p].len - 1, bw, ix,
					   (size_t)pg[p].num_values);
				for (int32_t v = 0; v < pg[p].num_values; v++)
					assert_true(ix[v] < (uint32_t)ndict);
				if (rows + pg[p].num_values <= 3000)
					for (int32_t v = 0; v < pg[p].num_values; v++)
						assert_int_equal(ix[v], (rows + v) % 12);
				free(ix);
			} else {
				assert_int_equal(pg[p].encoding, str_enc);
				/* each fallback page starts at its first row */
				const uint8_t *str;
				size_t len;
				first_string(&pg[p], &str, &len);
				char want[64];
				int n = snprintf(want, sizeof want, "unique-%lld", (long long)rows);
				assert_int_equal(len, n);
				assert_memory_equal(str, want, (size_t)n);
				seen_fallback = true;
			}
			rows += pg[p].num_values;
		}
		assert_true(seen_fallback);
		assert_int_equal(rows, 20000);
		free_pages(pg, np);

		/* lo: all pages dictionary-encoded, 5 entries, 1-3 bit indices */
		m = col_meta(&f, 0, 1);
		assert_false(has_encoding(m, PQ_ENC_RLE));
		assert_false(has_encoding(m, PQ_ENC_DELTA_BINARY_PACKED));
		np = read_pages(&f, 0, 1, pg, 256);
		assert_int_equal(pg[0].type, PQ_PAGE_DICTIONARY);
		assert_int_equal(pg[0].num_values, 5);
		for (int p = 1; p < np; p++) {
			assert_int_equal(pg[p].encoding, PQ_ENC_RLE_DICTIONARY);
			assert_int_equal(pg[p].body[0], 3);
		}
		free_pages(pg, np);

		/* id: distinct values give up the dictionary at the first page */
		m = col_meta(&f, 0, 2);
		assert_null(tget(m, 11));
		assert_false(has_encoding(m, PQ_ENC_RLE_DICTIONARY));
		assert_int_equal(has_encoding(m, PQ_ENC_PLAIN), !delta);
		assert_int_equal(has_encoding(m, PQ_ENC_DELTA_BINARY_PACKED), delta);
		np = read_pages(&f, 0, 2, pg, 256);
		rows = 0;
		for (int p = 0; p < np; p++) {
			assert_int_equal(pg[p].encoding, int_enc);
			if (delta) {
				/* a constant step packs to zero-width miniblocks */
				int64_t vals[1024];
				size_t used;
				assert_int_equal(dbp_decode(pg[p].body, pg[p].len, vals, 1024, &used),
						 pg[p].num_values);
				assert_int_equal(used, pg[p].len);
				assert_true(pg[p].len < 100);
				for (int32_t v = 0; v < pg[p].num_values; v++)
					assert_int_equal(vals[v], (rows + v) * 3);
			}
			rows += pg[p].num_values;
		}
		assert_int_equal(rows, 20000);
		free_pages(pg, np);
		pfile_free(&f);
	}
	sl_schema_free(s);
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Encodes v[0..n) (width 4 or 8) and checks the test's decoder gets them back. */
static void check_dbp(const int64_t *v, size_t n, int width)
{
	uint8_t *plain = malloc(n * 8 + 1);
	for (size_t i = 0; i < n; i++) {
		if (width == 4) {
			int32_t x = (int32_t)v[i];
			memcpy(plain + 4 * i, &x, 4);
		} else {
			memcpy(plain + 8 * i, &v[i], 8);
		}
	}
	sl_buf b = SL_BUF_INIT;
	assert_int_equal(sl_buf_append(&b, "x", 1), 0); /* appends after what is there */
	assert_int_equal(pq_delta_encode(&b, plain, n * (size_t)width, n, width), 0);
	assert_int_equal(b.data[0], 'x');
	int64_t *got = malloc(n * sizeof *got);
	size_t used;
	assert_int_equal(dbp_decode((uint8_t *)b.data + 1, b.len - 1, got, n, &used), n);
	assert_int_equal(used, b.len - 1);
	for (size_t i = 0; i < n; i++) {
		if (width == 4)
			assert_int_equal((int32_t)got[i], (int32_t)v[i]);
		else
			assert_int_equal(got[i], v[i]);
	}
	sl_buf_free(&b);
	free(got);
	free(plain);
}

static void test_delta_encoding_round_trip(void **state)
{
	(void)state;
	enum { N = 3000 };
	int64_t *v = malloc(N * sizeof *v);
	uint64_t seed = 42;
	const size_t sizes[] = {1, 2, 31, 32, 33, 127, 128, 129, 160, 257, 1000, N};
	for (int shape = 0; shape < 6; shape++) {
		for (int i = 0; i < N; i++) {
			uint64_t r = splitmix(&seed);
			switch (shape) {
			case 0: v[i] = 7; break;                                  /* constant */
			case 1: v[i] = 1000 - (int64_t)i * 3; break;              /* falling */
			case 2: v[i] = (int64_t)(r % 2001) - 1000; break;         /* small noise */
			case 3: v[i] = (int64_t)r; break;                         /* full 64 bits */
			case 4: v[i] = i % 3 == 0 ? INT64_MIN : i % 3 == 1 ? INT64_MAX : 0; break;
			default: v[i] = i % 2 ? INT32_MIN : INT32_MAX; break;     /* 32-bit extremes */
			}
		}
		for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
			check_dbp(v, sizes[k], 8);
			check_dbp(v, sizes[k], 4);
		}
	}
	/* 32-bit deltas never need more than 32 bits */
	for (int i = 0; i < 128; i++)
		v[i] = i % 2 ? INT32_MIN : INT32_MAX;
	sl_buf b = SL_BUF_INIT;
	uint8_t plain[4 * 129];
	for (int i = 0; i < 129; i++) {
		int32_t x = (int32_t)v[i % 128];
		memcpy(plain + 4 * i, &x, 4);
	}
	assert_int_equal(pq_delta_encode(&b, plain, sizeof plain, 129, 4), 0);
	assert_true(b.len <= 10 + 4 * 32 * 4 + 20);
	sl_buf_free(&b);
	/* a constant step: header plus a min delta and zero widths per block */
	for (int i = 0; i < 1024; i++)
		v[i] = 5 + 3 * (int64_t)i;
	uint8_t *p8 = malloc(8 * 1024);
	memcpy(p8, v, 8 * 1024);
	assert_int_equal(pq_delta_encode(&b, p8, 8 * 1024, 1024, 8), 0);
	assert_true(b.len < 5 + 8 * 6);
	sl_buf_free(&b);
	free(p8);
	/* bad input */
	assert_int_equal(pq_delta_encode(&b, plain, 4, 0, 4), SL_EINVAL);
	assert_int_equal(pq_delta_encode(&b, plain, 5, 1, 4), SL_EINVAL);
	assert_int_equal(pq_delta_encode(&b, plain, 6, 1, 6), SL_EINVAL);

	/* DELTA_LENGTH_BYTE_ARRAY: lengths, then the bytes */
	static const char *strs[] = {"", "a", "", "hello", "\xc3\xa9t\xc3\xa9", ""};
	sl_buf pl = SL_BUF_INIT;
	size_t total = 0;
	for (int i = 0; i < 6; i++) {
		uint32_t n = (uint32_t)strlen(strs[i]);
		sl_buf_append(&pl, &n, 4);
		sl_buf_append(&pl, strs[i], n);
		total += n;
	}
	assert_int_equal(pq_delta_encode(&b, (uint8_t *)pl.data, pl.len, 6, 0), 0);
	int64_t lens[6];
	size_t used;
	assert_int_equal(dbp_decode((uint8_t *)b.data, b.len, lens, 6, &used), 6);
	assert_int_equal(used + total, b.len);
	const char *at = b.data + used;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(lens[i], strlen(strs[i]));
		assert_memory_equal(at, strs[i], (size_t)lens[i]);
		at += lens[i];
	}
	sl_buf_free(&b);
	/* a truncated PLAIN page is refused */
	assert_int_equal(pq_delta_encode(&b, (uint8_t *)pl.data, pl.len - 1, 6, 0), SL_EINTERNAL);
	sl_buf_free(&b);
	sl_buf_free(&pl);
	free(v);
}

/*
 * The delta data set (tests/interop/parquet_writer.test.mjs computes the
 * same values): every integer-backed type with NULLs, negatives and
 * extremes; a column that switches from dictionary to delta mid-chunk;
 * random 64-bit values that stay PLAIN; strings with empty values.
 */
#define DELTA_ROWS 20000

static sl_schema *delta_schema(void)
{
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "seq", sl_type_make(SL_INT64), false);
	sl_schema_add(s, "i32", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "dt", sl_type_make(SL_DATE), true);
	sl_schema_add(s, "ts", sl_type_make(SL_TIMESTAMP), true);
	sl_schema_add(s, "d9", sl_type_decimal(9, 2), true);
	sl_schema_add(s, "d18", sl_type_decimal(18, 4), false);
	sl_schema_add(s, "rnd", sl_type_make(SL_INT64), true);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "late", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "runs", sl_type_make(SL_INT64), false);
	return s;
}

/* Dates in runs of 40 rows, jumping about: the dictionary pays off until
 * it fills up. */
static int32_t delta_dt(int64_t i)
{
	return 19000 + (int32_t)((i / 40) * 7919 % 3000) - 1500;
}

static int64_t delta_seq(int64_t i)
{
	return i == 1 ? INT64_MIN : i == 2 ? INT64_MAX : i == 3 ? -1 : i * 1000 + 7;
}
static int32_t delta_i32(int64_t i)
{
	return i == 1 ? INT32_MIN : i == 2 ? INT32_MAX : (int32_t)((i * 37) % 2001) - 1000;
}
static int64_t delta_ts(int64_t i)
{
	return i == 1 ? -86400000000LL + 123 : 1706695200000000LL + i * 1000001LL;
}
static sl_i128 delta_d18(int64_t i)
{
	return i == 1 ? -(sl_i128)999999999999999999LL
	     : i == 2 ? (sl_i128)999999999999999999LL
		      : (sl_i128)i * 12345 - 100000000000000000LL;
}
static uint64_t delta_rnd(int64_t i)
{
	uint64_t x = (uint64_t)i;
	return splitmix(&x);
}
static int delta_str(int64_t i, char *t)
{
	if (i % 13 == 0)
		return 0;
	return snprintf(t, 64, "note %lld for \xc3\xa9l\xc3\xa8ve %lld", (long long)(i % 1000),
			(long long)(i * 7919 % 250000));
}

static void delta_rows(sl_batch *b, int64_t i)
{
	char t[64];
	sl_column_append_i64(&b->cols[0], delta_seq(i));
	if (i % 7 == 3)
		sl_column_append_null(&b->cols[1]);
	else
		sl_column_append_i32(&b->cols[1], delta_i32(i));
	if (i % 9 == 4)
		sl_column_append_null(&b->cols[2]);
	else
		sl_column_append_i32(&b->cols[2], delta_dt(i));
	if (i % 11 == 5)
		sl_column_append_null(&b->cols[3]);
	else
		sl_column_append_i64(&b->cols[3], delta_ts(i));
	if (i % 7 == 3)
		sl_column_append_null(&b->cols[4]);
	else
		sl_column_append_dec(&b->cols[4], i == 1   ? -999999999
						  : i == 2 ? 999999999
							   : (sl_i128)(i % 10000) * 7 - 20000);
	sl_column_append_dec(&b->cols[5], delta_d18(i));
	if (i % 17 == 0)
		sl_column_append_null(&b->cols[6]);
	else
		sl_column_append_i64(&b->cols[6], (int64_t)delta_rnd(i));
	if (i % 5 == 1)
		sl_column_append_null(&b->cols[7]);
	else
		assert_int_equal(sl_column_append_str(&b->cols[7], t, (size_t)delta_str(i, t)), 0);
	if (i < 3000)
		sl_column_append_null(&b->cols[8]);
	else
		sl_column_append_i32(&b->cols[8], (int32_t)(i - 10000));
	sl_column_append_i64(&b->cols[9], i / 8);
	sl_batch_end_row(b);
}

static void test_delta_pages_read_back(void **state)
{
	(void)state;
	sl_schema *s = delta_schema();
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	o.page_bytes = 4096;
	o.dict_max_bytes = 1000; /* dt: 250 dates fit, then delta */
	pfile f = {0};
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(write_file(s, &o, delta_rows, DELTA_ROWS, 1500, "delta.parquet", &f, NULL,
				    &err),
			 0);
	pfile_parse(&f);
	/* the encodings each chunk records */
	const struct {
		int col;
		bool plain, dict, dbp, dlba;
	} want[] = {
		{0, false, false, true, false}, {1, false, false, true, false},
		{2, true, true, true, false},   {3, false, false, true, false},
		{4, false, false, true, false}, {5, false, false, true, false},
		{6, true, false, false, false}, {7, false, false, false, true},
		{8, true, false, true, false},
		/* each value 8 times: the dictionary would keep it, delta is smaller */
		{9, false, false, true, false},
	};
	for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
		const tnode *m = col_meta(&f, 0, want[k].col);
		assert_int_equal(has_encoding(m, PQ_ENC_PLAIN), want[k].plain);
		assert_int_equal(has_encoding(m, PQ_ENC_RLE_DICTIONARY), want[k].dict);
		assert_int_equal(has_encoding(m, PQ_ENC_DELTA_BINARY_PACKED), want[k].dbp);
		assert_int_equal(has_encoding(m, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY), want[k].dlba);
	}
	/* dt: dictionary pages, then delta pages only */
	page pg[512];
	int np = read_pages(&f, 0, 2, pg, 512);
	assert_int_equal(pg[0].type, PQ_PAGE_DICTIONARY);
	assert_int_equal(pg[0].num_values, 250);
	int switched = 0;
	for (int p = 1; p < np; p++) {
		if (pg[p].encoding == PQ_ENC_DELTA_BINARY_PACKED)
			switched = switched ? switched : p;
		else
			assert_true(!switched && pg[p].encoding == PQ_ENC_RLE_DICTIONARY);
	}
	assert_true(switched > 1 && switched < np - 1);
	free_pages(pg, np);

	/* every value through our own reader */
	sl_input *in;
	sl_parquet_reader *r;
	assert_int_equal(sl_input_mem_open(&in, f.data, f.len, "delta.parquet", &err), 0);
	assert_int_equal(sl_parquet_reader_open(&r, in, &err), 0);
	assert_true(sl_schema_equal(sl_parquet_reader_schema(r), s));
	int64_t row = 0;
	sl_batch *b;
	int rc;
	while ((rc = sl_parquet_reader_next(r, &b, 777, &err)) == 1) {
		for (int64_t k = 0; k < b->nrows; k++, row++) {
			int64_t i = row;
			char t[64];
			assert_int_equal(b->cols[0].v.i64[k], delta_seq(i));
			assert_int_equal(sl_column_is_null(&b->cols[1], k), i % 7 == 3);
			if (i % 7 != 3) {
				assert_int_equal(b->cols[1].v.i32[k], delta_i32(i));
				sl_i128 d9 = i == 1 ? -999999999 : i == 2 ? 999999999
						: (sl_i128)(i % 10000) * 7 - 20000;
				assert_true(b->cols[4].v.dec[k] == d9);
			}
			assert_int_equal(sl_column_is_null(&b->cols[4], k), i % 7 == 3);
			assert_int_equal(sl_column_is_null(&b->cols[2], k), i % 9 == 4);
			if (i % 9 != 4)
				assert_int_equal(b->cols[2].v.i32[k], delta_dt(i));
			assert_int_equal(sl_column_is_null(&b->cols[3], k), i % 11 == 5);
			if (i % 11 != 5)
				assert_int_equal(b->cols[3].v.i64[k], delta_ts(i));
			assert_true(b->cols[5].v.dec[k] == delta_d18(i));
			assert_int_equal(sl_column_is_null(&b->cols[6], k), i % 17 == 0);
			if (i % 17)
				assert_int_equal((uint64_t)b->cols[6].v.i64[k], delta_rnd(i));
			assert_int_equal(sl_column_is_null(&b->cols[7], k), i % 5 == 1);
			if (i % 5 != 1) {
				size_t len;
				const char *str = sl_column_str(&b->cols[7], k, &len);
				int n = delta_str(i, t);
				assert_int_equal(len, n);
				assert_memory_equal(str, t, len);
			}
			assert_int_equal(sl_column_is_null(&b->cols[8], k), i < 3000);
			if (i >= 3000)
				assert_int_equal(b->cols[8].v.i32[k], i - 10000);
			assert_int_equal(b->cols[9].v.i64[k], i / 8);
		}
		sl_batch_free(b);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(row, DELTA_ROWS);
	sl_parquet_reader_close(r);

	/* the same data with delta encodings off is PLAIN and larger */
	pfile g = {0};
	o.delta_encodings = false;
	assert_int_equal(write_file(s, &o, delta_rows, DELTA_ROWS, 1500, NULL, &g, NULL, &err), 0);
	pfile_parse(&g);
	assert_non_null(tget(col_meta(&g, 0, 9), 11)); /* runs: a dictionary */
	for (int c = 0; c < 10; c++) {
		const tnode *m = col_meta(&g, 0, c);
		assert_false(has_encoding(m, PQ_ENC_DELTA_BINARY_PACKED));
		assert_false(has_encoding(m, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY));
	}
	assert_true(f.len * 3 < g.len * 2);
	pfile_free(&g);
	pfile_free(&f);
	sl_schema_free(s);
}

static void test_row_groups_bounded_by_size(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	o.row_group_bytes = 64 << 10;
	pfile f = {0};
	sl_parquet_file_stats st;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(write_file(s, &o, append_all_types_row, 20000, 4096,
				    "all_types_rowgroups.parquet", &f, &st, &err),
			 0);
	pfile_parse(&f);
	const tnode *rgs = tget(&f.meta, 4);
	assert_true(rgs->n >= 10);
	assert_int_equal(st.row_groups, rgs->n);
	int64_t rows = 0, prev_end = 4;
	for (int i = 0; i < rgs->n; i++) {
		const tnode *rg = &rgs->kids[i];
		assert_int_equal(tint(rg, 7), i);
		rows += tint(rg, 3);
		/* each row group's plain estimate stays near the bound */
		assert_true(tint(rg, 3) < 2000);
		/* chunks are contiguous and in order */
		assert_int_equal(tint(rg, 5), prev_end);
		for (int c = 0; c < 11; c++) {
			const tnode *m = col_meta(&f, i, c);
			const tnode *d = tget(m, 11);
			int64_t start = d ? d->i : tint(m, 9);
			assert_int_equal(start, prev_end);
			prev_end = start + tint(m, 7);
			assert_int_equal(tint(m, 5), tint(rg, 3));
		}
	}
	assert_int_equal(rows, 20000);
	/* file statistics span every row group */
	assert_int_equal(st.cols[1].null_count, 2857);
	assert_string_equal(st.cols[9].max_json, "\"2024-01-31T15:33:19.019999Z\"");
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);
	sl_schema_free(s);
}

static void empty_rows(sl_batch *b, int64_t i) { (void)b, (void)i; }

static void test_empty_file(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	pfile f = {0};
	sl_parquet_file_stats st;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(write_file(s, NULL, empty_rows, 0, 16, "empty.parquet", &f, &st, &err), 0);
	pfile_parse(&f);
	assert_int_equal(tint(&f.meta, 3), 0);
	assert_int_equal(tget(&f.meta, 4)->n, 0);
	assert_int_equal(tget(&f.meta, 2)->n, 12);
	assert_int_equal(st.rows, 0);
	assert_int_equal(st.row_groups, 0);
	assert_false(st.cols[0].has_minmax);
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);
	sl_schema_free(s);
}

static double g_f64[8];
static const char *g_str[8];

static void special_rows(sl_batch *b, int64_t i)
{
	sl_column_append_f64(&b->cols[0], g_f64[i]);
	if (g_str[i])
		sl_column_append_str(&b->cols[1], g_str[i], strlen(g_str[i]));
	else
		sl_column_append_null(&b->cols[1]);
	sl_column_append_null(&b->cols[2]);
	sl_batch_end_row(b);
}

static void test_stats_edge_cases(void **state)
{
	(void)state;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "f", sl_type_make(SL_FLOAT64), false);
	sl_schema_add(s, "s", sl_type_make(SL_STRING), true);
	sl_schema_add(s, "n", sl_type_make(SL_INT32), true);
	sl_error err = SL_ERROR_INIT;
	/* zeros: min is written as -0.0, max as +0.0; long strings truncate */
	static const char long_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char long_z[] = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
	g_f64[0] = 0.0, g_f64[1] = -0.0, g_f64[2] = 0.0;
	g_str[0] = long_a, g_str[1] = NULL, g_str[2] = long_z;
	pfile f = {0};
	sl_parquet_file_stats st;
	assert_int_equal(write_file(s, NULL, special_rows, 3, 8, NULL, &f, &st, &err), 0);
	pfile_parse(&f);
	const tnode *stt = tget(col_meta(&f, 0, 0), 12);
	double mn, mx;
	memcpy(&mn, tget(stt, 6)->bin, 8);
	memcpy(&mx, tget(stt, 5)->bin, 8);
	assert_true(mn == 0 && signbit(mn));
	assert_true(mx == 0 && !signbit(mx));
	stt = tget(col_meta(&f, 0, 1), 12);
	assert_int_equal(tget(stt, 6)->len, 64);
	assert_memory_equal(tget(stt, 6)->bin, long_a, 64);
	assert_int_equal(tint(stt, 8), 0); /* is_min_value_exact = false */
	assert_int_equal(tget(stt, 5)->len, 64);
	assert_int_equal(tget(stt, 5)->bin[63], '{'); /* 'z' + 1 */
	/* all-NULL column: null count, no min/max */
	stt = tget(col_meta(&f, 0, 2), 12);
	assert_int_equal(tint(stt, 3), 3);
	assert_null(tget(stt, 6));
	/* JSON: min prefix of 32 chars; max prefix raised by one */
	assert_string_equal(st.cols[1].min_json, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
	assert_string_equal(st.cols[1].max_json, "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz{\"");
	assert_false(st.cols[2].has_minmax);
	assert_int_equal(st.cols[2].null_count, 3);
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);

	/* NaN: left out of chunk min/max, and no file min/max at all */
	g_f64[0] = NAN, g_f64[1] = 2.5, g_f64[2] = -1.5;
	g_str[0] = g_str[1] = g_str[2] = "x";
	assert_int_equal(write_file(s, NULL, special_rows, 3, 8, NULL, &f, &st, &err), 0);
	pfile_parse(&f);
	stt = tget(col_meta(&f, 0, 0), 12);
	memcpy(&mn, tget(stt, 6)->bin, 8);
	memcpy(&mx, tget(stt, 5)->bin, 8);
	assert_true(mn == -1.5 && mx == 2.5);
	assert_false(st.cols[0].has_minmax);
	assert_string_equal(st.cols[1].min_json, "\"x\"");
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);

	/* NaN only: no min/max in the chunk */
	g_f64[0] = NAN, g_f64[1] = NAN;
	assert_int_equal(write_file(s, NULL, special_rows, 2, 8, NULL, &f, NULL, &err), 0);
	pfile_parse(&f);
	stt = tget(col_meta(&f, 0, 0), 12);
	assert_null(tget(stt, 5));
	assert_null(tget(stt, 6));
	pfile_free(&f);
	sl_schema_free(s);
}

static void null_rows(sl_batch *b, int64_t i)
{
	char t[32];
	sl_column_append_null(&b->cols[0]);
	if (i < 5000) {
		sl_column_append_null(&b->cols[1]);
	} else {
		int n = snprintf(t, sizeof t, "v%lld", (long long)(i % 3));
		sl_column_append_str(&b->cols[1], t, (size_t)n);
	}
	sl_batch_end_row(b);
}

static void test_null_pages_in_dictionary_columns(void **state)
{
	(void)state;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "a", sl_type_make(SL_INT32), true);
	sl_schema_add(s, "b", sl_type_make(SL_STRING), true);
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	o.page_bytes = 2048;
	pfile f = {0};
	sl_parquet_file_stats st;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(write_file(s, &o, null_rows, 8000, 1000, "nulls.parquet", &f, &st, &err), 0);
	pfile_parse(&f);
	/* a column without values has no dictionary */
	assert_null(tget(col_meta(&f, 0, 0), 11));
	assert_int_equal(tint(tget(col_meta(&f, 0, 0), 12), 3), 8000);
	/* NULL pages before the first value do not spoil the dictionary */
	const tnode *m = col_meta(&f, 0, 1);
	assert_non_null(tget(m, 11));
	page pg[512];
	int np = read_pages(&f, 0, 1, pg, 512);
	assert_int_equal(pg[0].type, PQ_PAGE_DICTIONARY);
	assert_int_equal(pg[0].num_values, 3);
	free_pages(pg, np);
	assert_false(st.cols[0].has_minmax);
	assert_string_equal(st.cols[1].min_json, "\"v0\"");
	assert_string_equal(st.cols[1].max_json, "\"v2\"");
	assert_int_equal(st.cols[1].null_count, 5000);
	sl_parquet_file_stats_free(&st);
	pfile_free(&f);
	sl_schema_free(s);
}

static void test_rejects_bad_batches(void **state)
{
	(void)state;
	sl_schema *s = sl_schema_new();
	sl_schema_add(s, "id", sl_type_make(SL_INT64), false);
	sl_schema *other = sl_schema_new();
	sl_schema_add(other, "id", sl_type_make(SL_INT32), false);
	sl_output *out;
	sl_parquet_writer *w;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_parquet_writer_open(&w, out, s, NULL, &err), 0);
	sl_batch *b;
	assert_int_equal(sl_batch_new(&b, s, 4, &err), 0);
	sl_column_append_null(&b->cols[0]);
	sl_batch_end_row(b);
	assert_int_equal(sl_parquet_writer_write(w, b, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "column \"id\" is not nullable"));
	sl_batch_free(b);
	assert_int_equal(sl_batch_new(&b, other, 4, &err), 0);
	sl_column_append_i32(&b->cols[0], 1);
	sl_batch_end_row(b);
	assert_int_equal(sl_parquet_writer_write(w, b, &err), SL_EINVAL);
	assert_non_null(strstr(err.message, "schema differs"));
	sl_batch_free(b);
	/* the file is still good */
	assert_int_equal(sl_parquet_writer_close(w, NULL, &err), 0);
	assert_int_equal(sl_parquet_writer_close(w, NULL, &err), SL_EINVAL);
	sl_parquet_writer_free(w);
	out->abort(out);

	/* an empty schema */
	sl_schema *empty = sl_schema_new();
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_parquet_writer_open(&w, out, empty, NULL, &err), SL_EINVAL);
	assert_null(w);
	out->abort(out);
	sl_schema_free(empty);
	sl_schema_free(other);
	sl_schema_free(s);
}

static void test_write_error_names_the_column(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	sl_error err = SL_ERROR_INIT;
	for (uint64_t limit = 0; limit < 40000; limit = limit * 2 + 1000) {
		fail_output *fo = sl_calloc(1, sizeof *fo);
		fo->base.write = fail_write;
		fo->base.close = fail_close;
		fo->base.abort = fail_abort;
		fo->limit = limit;
		sl_parquet_writer *w = NULL;
		sl_parquet_write_opts o = small_opts(SL_CODEC_SNAPPY);
		o.row_group_bytes = 32 << 10;
		int rc = sl_parquet_writer_open(&w, &fo->base, s, &o, &err);
		if (rc == 0) {
			sl_batch *b;
			assert_int_equal(sl_batch_new(&b, s, 4000, &err), 0);
			for (int64_t i = 0; i < 4000; i++)
				append_all_types_row(b, i);
			rc = sl_parquet_writer_write(w, b, &err);
			if (rc == 0)
				rc = sl_parquet_writer_close(w, NULL, &err);
			sl_batch_free(b);
			sl_parquet_writer_free(w);
		}
		assert_int_equal(rc, SL_EIO);
		assert_non_null(strstr(err.message, "disk full"));
		assert_true(sl_str_starts_with(err.message, "parquet writer: "));
		if (limit > 4 && !strstr(err.message, "footer"))
			assert_non_null(strstr(err.message, "column \""));
		fo->base.abort(&fo->base);
	}
	sl_schema_free(s);
}

/* One whole file write with allocation failure injected after n allocations. */
static int write_with_failure(const sl_schema *s, const sl_parquet_write_opts *o,
			      sl_batch *const *batches, int nb, long n, sl_error *err)
{
	sl_output *out = NULL;
	sl_parquet_writer *w = NULL;
	sl_parquet_file_stats st;
	sl_alloc_fail_after(n);
	int rc = sl_output_mem_open(&out, err);
	if (rc == 0)
		rc = sl_parquet_writer_open(&w, out, s, o, err);
	for (int i = 0; rc == 0 && i < nb; i++)
		rc = sl_parquet_writer_write(w, batches[i], err);
	if (rc == 0)
		rc = sl_parquet_writer_close(w, &st, err);
	sl_alloc_fail_after(-1);
	if (rc == 0)
		sl_parquet_file_stats_free(&st);
	sl_parquet_writer_free(w);
	if (out)
		out->abort(out);
	return rc;
}

static void test_out_of_memory_never_leaks(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	o.row_group_bytes = 16 << 10;
	o.compress_threads = -1; /* allocation failure injection is not thread-safe */
	sl_error err = SL_ERROR_INIT;
	sl_batch *b[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(sl_batch_new(&b[k], s, 300, &err), 0);
		for (int64_t i = 0; i < 300; i++)
			append_all_types_row(b[k], k * 300 + i);
	}
	bool succeeded = false;
	for (long n = 0; n < 5000 && !succeeded; n += n < 300 ? 1 : 7) {
		int rc = write_with_failure(s, &o, b, 2, n, &err);
		if (rc == 0)
			succeeded = true;
		else
			assert_int_equal(rc, SL_ENOMEM);
	}
	assert_true(succeeded);
	for (int k = 0; k < 2; k++)
		sl_batch_free(b[k]);
	sl_schema_free(s);
}

static void test_file_bytes_estimate_tracks_output(void **state)
{
	(void)state;
	sl_schema *s = all_types_schema();
	sl_output *out;
	sl_parquet_writer *w;
	sl_error err = SL_ERROR_INIT;
	sl_parquet_write_opts o = small_opts(SL_CODEC_ZSTD);
	assert_int_equal(sl_output_mem_open(&out, &err), 0);
	assert_int_equal(sl_parquet_writer_open(&w, out, s, &o, &err), 0);
	assert_int_equal(sl_parquet_writer_file_bytes(w), 4);
	sl_batch *b;
	assert_int_equal(sl_batch_new(&b, s, 5000, &err), 0);
	for (int64_t i = 0; i < 5000; i++)
		append_all_types_row(b, i);
	assert_int_equal(sl_parquet_writer_write(w, b, &err), 0);
	uint64_t unc = sl_parquet_writer_bytes(w), est = sl_parquet_writer_file_bytes(w);
	assert_true(unc > 5000 * 60);
	assert_true(est > 4 && est <= unc);
	assert_int_equal(sl_parquet_writer_close(w, NULL, &err), 0);
	assert_true(sl_output_mem_data(out)->len <= est + 8192);
	sl_batch_free(b);
	sl_parquet_writer_free(w);
	out->abort(out);
	sl_schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thrift_compact_encoding),
		cmocka_unit_test(test_rle_hybrid_round_trip),
		cmocka_unit_test(test_rle_bitmap_levels),
		cmocka_unit_test(test_bits_copy_unaligned),
		cmocka_unit_test(test_decimal_byte_layout),
		cmocka_unit_test(test_all_types_schema_and_footer),
		cmocka_unit_test(test_every_codec_round_trips_pages),
		cmocka_unit_test(test_dictionary_and_fallback_to_plain),
		cmocka_unit_test(test_delta_encoding_round_trip),
		cmocka_unit_test(test_delta_pages_read_back),
		cmocka_unit_test(test_row_groups_bounded_by_size),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_stats_edge_cases),
		cmocka_unit_test(test_null_pages_in_dictionary_columns),
		cmocka_unit_test(test_rejects_bad_batches),
		cmocka_unit_test(test_write_error_names_the_column),
		cmocka_unit_test(test_out_of_memory_never_leaks),
		cmocka_unit_test(test_file_bytes_estimate_tracks_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
