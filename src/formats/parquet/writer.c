/*
 * writer.c: the Parquet file writer: column chunks of data pages (v1),
 * dictionary pages, row groups bounded by size, the thrift footer. Each
 * finished row group's chunks go to the sl_output at once, so memory stays
 * bounded by one row group's compressed pages.
 */
#include "formats/parquet/codec.h"
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_write_int.h"
#include "formats/parquet/thrift_write.h"

#include <string.h>

#define SL_PARQUET_CREATED_BY "sluice version 0.1.0"

/* Below this many values a first page's cardinality says little. */
#define DICT_SAMPLE_MIN 4096

enum { W_OPEN = 0, W_FAILED, W_CLOSED };

struct sl_parquet_writer {
	sl_output *out;
	uint64_t base;       /* out->written when the file started */
	sl_schema *schema;
	sl_parquet_write_opts opts;
	char *created_by;
	int ncols;
	pq_col *cols;
	pq_pool *pool;       /* page compression */
	sl_buf comp;         /* compressed dictionary page */
	sl_buf hdr;          /* page header */
	sl_buf rgs;          /* serialized RowGroup structs */
	int nrg;
	int64_t rows;        /* all rows written so far */
	int64_t rg_rows;
	uint64_t rg_est;     /* plain-equivalent bytes of the open row group */
	uint64_t done_uncompressed;
	int state;
};

static uint64_t file_offset(const sl_parquet_writer *w)
{
	return w->out->written - w->base;
}

/* Fails the writer with a message naming the column (when c is given). */
static int col_fail(sl_parquet_writer *w, const pq_col *c, int rc, sl_error *err)
{
	w->state = W_FAILED;
	if (rc == SL_ENOMEM && (!err || err->code != SL_ENOMEM))
		sl_error_set(err, SL_ENOMEM, "out of memory");
	if (c)
		sl_error_prefix(err, "parquet writer: column \"%s\": ", c->name);
	else
		sl_error_prefix(err, "parquet writer: ");
	return rc;
}

static int setup_column(pq_col *c, const sl_field *f, const sl_parquet_write_opts *o)
{
	c->name = f->name;
	c->type = f->type;
	c->optional = f->nullable;
	switch (f->type.id) {
	case SL_BOOL: c->kind = PK_BOOL, c->ptype = PQ_BOOLEAN, c->width = 1; break;
	case SL_INT32:
	case SL_DATE: c->kind = PK_I32, c->ptype = PQ_INT32, c->width = 4; break;
	case SL_INT64:
	case SL_TIMESTAMP: c->kind = PK_I64, c->ptype = PQ_INT64, c->width = 8; break;
	case SL_FLOAT64: c->kind = PK_F64, c->ptype = PQ_DOUBLE, c->width = 8; break;
	case SL_STRING: c->kind = PK_BYTES, c->ptype = PQ_BYTE_ARRAY, c->width = 0; break;
	case SL_DECIMAL:
		if (f->type.precision < 1 || f->type.precision > SL_DECIMAL_MAX_PRECISION ||
		    f->type.scale > f->type.precision)
			return SL_EINVAL;
		if (f->type.precision <= 9)
			c->kind = PK_I32_DEC, c->ptype = PQ_INT32, c->width = 4;
		else if (f->type.precision <= 18)
			c->kind = PK_I64_DEC, c->ptype = PQ_INT64, c->width = 8;
		else
			c->kind = PK_FLBA_DEC, c->ptype = PQ_FIXED_LEN_BYTE_ARRAY,
			c->width = pq_decimal_flba_len(f->type.precision);
		break;
	default: return SL_EINVAL;
	}
	c->dict_mode = o->dictionary && c->kind != PK_BOOL;
	c->delta = PQ_DELTA_NONE;
	if (o->delta_encodings) {
		if (c->kind == PK_I32 || c->kind == PK_I32_DEC)
			c->delta = PQ_DELTA_I32;
		else if (c->kind == PK_I64 || c->kind == PK_I64_DEC)
			c->delta = PQ_DELTA_I64;
		else if (c->kind == PK_BYTES)
			c->delta = PQ_DELTA_BYTES;
	}
	if (c->kind != PK_BOOL)
		return pq_dict_init(&c->dict);
	return 0;
}

static void free_column(pq_col *c)
{
	pq_dict_free(&c->dict);
	sl_buf_free(&c->vals);
	sl_free(c->idx);
	sl_free(c->defs);
	while (c->jobs) {
		pq_job *j = c->jobs;
		c->jobs = j->next;
		pq_pool_release(NULL, j);
	}
	pq_minmax_free(&c->cstat);
	pq_minmax_free(&c->fstat);
}

int sl_parquet_writer_open(sl_parquet_writer **out_w, sl_output *out,
			   const sl_schema *schema, const sl_parquet_write_opts *opts,
			   sl_error *err)
{
	static const sl_parquet_write_opts defaults = SL_PARQUET_WRITE_OPTS_INIT;
	sl_parquet_writer *w = NULL;
	int rc;
	*out_w = NULL;
	if (!schema || schema->nfields < 1)
		return sl_error_set(err, SL_EINVAL, "parquet writer: the schema has no columns");
	rc = sl_alloc_zeroed((void **)&w, sizeof *w, err);
	if (rc < 0)
		return rc;
	w->out = out;
	w->base = out->written;
	w->opts = opts ? *opts : defaults;
	if (w->opts.row_group_bytes < 1)
		w->opts.row_group_bytes = defaults.row_group_bytes;
	if (w->opts.page_bytes < 1)
		w->opts.page_bytes = defaults.page_bytes;
	if (w->opts.dict_max_bytes < 1)
		w->opts.dict_max_bytes = defaults.dict_max_bytes;
	if (w->opts.codec != SL_CODEC_UNCOMPRESSED && w->opts.codec != SL_CODEC_SNAPPY &&
	    w->opts.codec != SL_CODEC_GZIP && w->opts.codec != SL_CODEC_ZSTD) {
		rc = sl_error_set(err, SL_EINVAL, "parquet writer: unsupported codec %d",
				  (int)w->opts.codec);
		goto fail;
	}
	w->created_by = sl_strdup(w->opts.created_by ? w->opts.created_by
						     : SL_PARQUET_CREATED_BY);
	w->opts.created_by = NULL;
	w->schema = sl_schema_copy(schema);
	w->cols = sl_calloc((size_t)schema->nfields, sizeof *w->cols);
	if (!w->created_by || !w->schema || !w->cols) {
		rc = sl_error_set(err, SL_ENOMEM, "parquet writer: out of memory");
		goto fail;
	}
	rc = pq_pool_new(&w->pool, w->opts.codec, w->opts.zstd_level,
			 w->opts.compress_threads >= 0);
	if (rc < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "parquet writer: out of memory");
		goto fail;
	}
	w->ncols = schema->nfields;
	for (int i = 0; i < w->ncols; i++) {
		const sl_field *f = &w->schema->fields[i];
		if (!f->name || !f->name[0]) {
			rc = sl_error_set(err, SL_EINVAL, "parquet writer: column %d has no name",
					  i + 1);
			goto fail;
		}
		rc = setup_column(&w->cols[i], f, &w->opts);
		if (rc == SL_EINVAL) {
			char tn[64];
			rc = sl_error_set(err, SL_EINVAL,
					  "parquet writer: column \"%s\": unsupported type %s",
					  f->name, sl_type_name(f->type, tn, sizeof tn));
			goto fail;
		}
		if (rc < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "parquet writer: out of memory");
			goto fail;
		}
	}
	rc = sl_output_write(out, "PAR1", 4, err);
	if (rc < 0) {
		sl_error_prefix(err, "parquet writer: ");
		goto fail;
	}
	*out_w = w;
	return 0;
fail:
	sl_parquet_writer_free(w);
	return rc;
}

/* ----------------------------------------------------------- pages */

/* Encodes a PageHeader into w->hdr. */
static int page_header(sl_parquet_writer *w, int type, size_t ulen, size_t clen,
		       int32_t num_values, int encoding, sl_error *err)
{
	if (ulen > INT32_MAX || clen > INT32_MAX)
		return sl_error_set(err, SL_ELIMIT, "page of %zu bytes is too large", ulen);
	sl_buf_reset(&w->hdr);
	sl_tw t;
	sl_tw_init(&t, &w->hdr);
	sl_tw_i32(&t, 1, type);
	sl_tw_i32(&t, 2, (int32_t)ulen);
	sl_tw_i32(&t, 3, (int32_t)clen);
	if (type == PQ_PAGE_DATA) {
		sl_tw_struct_begin(&t, 5);
		sl_tw_i32(&t, 1, num_values);
		sl_tw_i32(&t, 2, encoding);
		sl_tw_i32(&t, 3, PQ_ENC_RLE);
		sl_tw_i32(&t, 4, PQ_ENC_RLE);
		sl_tw_struct_end(&t);
	} else {
		sl_tw_struct_begin(&t, 7);
		sl_tw_i32(&t, 1, num_values);
		sl_tw_i32(&t, 2, encoding);
		sl_tw_struct_end(&t);
	}
	sl_tw_end(&t);
	if (t.rc < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

/*
 * For an integer column whose first page the dictionary would keep:
 * whether DELTA_BINARY_PACKED makes that page less than half the size
 * (dictionary plus indices), as with sorted or slowly changing values.
 * Leaves the page's values PLAIN in c->vals either way.
 */
static int delta_beats_dict(pq_col *c, bool *out)
{
	*out = false;
	if ((c->delta != PQ_DELTA_I32 && c->delta != PQ_DELTA_I64) || c->nidx < 2)
		return 0;
	size_t nidx = c->nidx;
	int rc = pq_page_indices_to_plain(c);
	if (rc < 0)
		return rc;
	int bw = pq_bit_width(c->dict.count - 1);
	uint64_t dict = c->dict.plain.len + ((uint64_t)nidx * (uint64_t)(bw ? bw : 1) + 7) / 8;
	sl_buf t = SL_BUF_INIT;
	rc = pq_delta_encode(&t, (const uint8_t *)c->vals.data, c->vals.len, nidx, c->width);
	if (rc == 0)
		*out = (uint64_t)t.len * 2 < dict;
	sl_buf_free(&t);
	return rc;
}

/*
 * Decides, at a chunk's first page, whether its dictionary pays off: when
 * most values are distinct (or, for integers, a delta encoding is much
 * smaller), the page is rewritten PLAIN and the column leaves the
 * dictionary (for the rest of the file when the sample was large enough).
 */
static int maybe_abandon_dict(pq_col *c, bool overflow)
{
	if (!c->dict_mode || c->chunk_has_dict_pages)
		return 0;
	bool indices = true; /* the page still holds dictionary indices */
	if (!overflow && (uint64_t)c->dict.count * 2 <= (uint64_t)c->nidx) {
		bool delta;
		size_t nidx = c->nidx;
		int rc = delta_beats_dict(c, &delta);
		if (rc < 0)
			return rc;
		if (!delta) {
			/* keep the dictionary: drop the PLAIN copy, if made */
			sl_buf_reset(&c->vals);
			c->nidx = nidx;
			return 0;
		}
		indices = false;
	}
	if (indices) {
		int rc = pq_page_indices_to_plain(c);
		if (rc < 0)
			return rc;
	}
	if (overflow || c->page_values >= DICT_SAMPLE_MIN || c->page_rows >= DICT_SAMPLE_MIN)
		c->dict_abandoned = true;
	c->dict_mode = false;
	pq_dict_reset(&c->dict);
	return 0;
}

static int flush_page(sl_parquet_writer *w, pq_col *c, sl_error *err)
{
	if (c->page_rows == 0)
		return 0;
	int rc = maybe_abandon_dict(c, false);
	if (rc < 0)
		return rc;
	if (c->page_rows > INT32_MAX)
		return sl_error_set(err, SL_ELIMIT, "page of %lld values is too large",
				    (long long)c->page_rows);
	pq_job *j = pq_pool_job(w->pool);
	if (!j)
		return SL_ENOMEM;
	sl_buf *p = &j->body;
	sl_buf_reset(p);
	rc = SL_ENOMEM;
	if (c->optional) {
		if (sl_buf_append(p, "\0\0\0\0", 4) < 0 ||
		    pq_rle_encode_bitmap(p, c->defs, (size_t)c->page_rows) < 0)
			goto fail;
		uint32_t n = (uint32_t)(p->len - 4);
		uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
				 (uint8_t)(n >> 24)};
		memcpy(p->data, le, 4);
	}
	/* a page of NULLs before any value: PLAIN with no values, so that a
	 * column without values gets no empty dictionary */
	if (c->dict_mode && c->dict.count > 0) {
		int bw = pq_bit_width(c->dict.count ? c->dict.count - 1 : 0);
		if (bw < 1)
			bw = 1;
		if (sl_buf_putc(p, (char)bw) < 0 || pq_rle_encode_u32(p, c->idx, c->nidx, bw) < 0)
			goto fail;
		j->encoding = PQ_ENC_RLE_DICTIONARY;
		c->chunk_has_dict_pages = true;
	} else {
		/* PLAIN, or a delta encoding of it made with the compression */
		j->vals_off = p->len;
		if (sl_buf_append(p, c->vals.data ? c->vals.data : "", c->vals.len) < 0)
			goto fail;
		j->encoding = PQ_ENC_PLAIN;
		j->delta = c->delta;
		j->nvals = (size_t)c->page_values;
	}
	j->num_values = (int32_t)c->page_rows;
	c->chunk_est += p->len;
	if (c->jobs_tail)
		c->jobs_tail->next = j;
	else
		c->jobs = j;
	c->jobs_tail = j;
	pq_pool_submit(w->pool, j);
	sl_buf_reset(&c->vals);
	c->vals_bits = 0;
	c->nidx = 0;
	c->page_rows = 0;
	c->page_values = 0;
	c->page_est = 0;
	return 0;
fail:
	pq_pool_release(w->pool, j);
	return rc;
}

/* The dictionary is full: end its pages and go on PLAIN. */
static int dict_overflow(sl_parquet_writer *w, pq_col *c, sl_error *err)
{
	if (!c->chunk_has_dict_pages)
		return maybe_abandon_dict(c, true);
	int rc = flush_page(w, c, err);
	if (rc < 0)
		return rc;
	c->dict_mode = false;
	return 0;
}

static int reserve_defs(pq_col *c, int64_t rows)
{
	size_t need = (size_t)((rows + 7) / 8) + 1;
	if (need <= c->defs_cap)
		return 0;
	size_t cap = c->defs_cap ? c->defs_cap : 16;
	while (cap < need)
		cap *= 2;
	uint8_t *d = sl_realloc(c->defs, cap);
	if (!d)
		return SL_ENOMEM;
	c->defs = d;
	c->defs_cap = cap;
	return 0;
}

/* Plain-equivalent size of rows [a, b) of a column. */
static uint64_t range_est(const pq_col *c, const sl_column *s, int64_t a, int64_t b)
{
	if (c->kind == PK_BYTES)
		return (uint64_t)(s->offsets[b] - s->offsets[a]) + 4 * (uint64_t)(b - a);
	return (uint64_t)c->width * (uint64_t)(b - a);
}

/* How many rows from a (at least 1, at most b - a) fit in room bytes. */
static int64_t rows_fitting(const pq_col *c, const sl_column *s, int64_t a, int64_t b,
			    uint64_t room)
{
	int64_t k;
	if (c->kind != PK_BYTES) {
		k = (int64_t)(room / (uint64_t)c->width);
	} else {
		/* the estimate grows with the row: binary search the offsets */
		int64_t lo = 0, hi = b - a;
		while (lo < hi) {
			int64_t mid = lo + (hi - lo + 1) / 2;
			if (range_est(c, s, a, a + mid) <= room)
				lo = mid;
			else
				hi = mid - 1;
		}
		k = lo;
	}
	if (k < 1)
		k = 1;
	return k < b - a ? k : b - a;
}

static int encode_column(sl_parquet_writer *w, pq_col *c, const sl_column *s, int64_t a,
			 int64_t b, sl_error *err)
{
	int rc;
	while (a < b) {
		uint64_t room = (uint64_t)w->opts.page_bytes > (uint64_t)c->page_est
					? (uint64_t)w->opts.page_bytes - (uint64_t)c->page_est
					: 0;
		int64_t e = a + rows_fitting(c, s, a, b, room);
		int64_t nn = 0;
		int64_t stop = pq_encode_values(c, s, a, e, w->opts.dict_max_bytes, &nn);
		if (stop < 0)
			return (int)stop;
		if (stop > a) {
			int64_t n = stop - a;
			if (c->optional) {
				if (reserve_defs(c, c->page_rows + n) < 0)
					return SL_ENOMEM;
				pq_bits_copy(c->defs, c->page_rows, s->validity, a, n);
			}
			c->page_rows += n;
			c->page_values += nn;
			c->page_est += (int64_t)range_est(c, s, a, stop);
			c->chunk_values += n;
			c->chunk_nulls += n - nn;
		}
		if (stop < e) {
			rc = dict_overflow(w, c, err);
			if (rc < 0)
				return rc;
		}
		if ((uint64_t)c->page_est >= (uint64_t)w->opts.page_bytes) {
			rc = flush_page(w, c, err);
			if (rc < 0)
				return rc;
		}
		a = stop;
	}
	return 0;
}

/* ------------------------------------------------------- row groups */

static int write_out(sl_parquet_writer *w, const void *p, size_t n, sl_error *err)
{
	return n ? sl_output_write(w->out, p, n, err) : 0;
}

static void put_statistics(sl_tw *t, const pq_col *c)
{
	pq_stat_bytes sb;
	pq_stats_encode(c, &c->cstat, &sb);
	bool legacy = sb.has && (c->ptype == PQ_BOOLEAN || c->ptype == PQ_INT32 ||
				 c->ptype == PQ_INT64 || c->ptype == PQ_DOUBLE);
	sl_tw_struct_begin(t, 12);
	if (legacy) {
		sl_tw_binary(t, 1, sb.max, sb.max_len);
		sl_tw_binary(t, 2, sb.min, sb.min_len);
	}
	sl_tw_i64(t, 3, c->chunk_nulls);
	if (sb.has) {
		sl_tw_binary(t, 5, sb.max, sb.max_len);
		sl_tw_binary(t, 6, sb.min, sb.min_len);
		if (!sb.exact_max)
			sl_tw_bool(t, 7, false);
		if (!sb.exact_min)
			sl_tw_bool(t, 8, false);
	}
	sl_tw_struct_end(t);
}

/*
 * Writes column c's chunk (dictionary page first, then the data pages) and
 * appends its ColumnChunk metadata to t.
 */
static int write_chunk(sl_parquet_writer *w, pq_col *c, sl_tw *t, int64_t *total_unc,
		       int64_t *total_comp, sl_error *err)
{
	int rc = flush_page(w, c, err);
	if (rc < 0)
		return rc;
	uint64_t start = file_offset(w);
	bool dict = c->chunk_has_dict_pages;
	if (dict) {
		const sl_buf *d = &c->dict.plain;
		const char *body = d->data ? d->data : "";
		size_t clen = d->len;
		if (w->opts.codec != SL_CODEC_UNCOMPRESSED) {
			sl_buf_reset(&w->comp);
			rc = sl_codec_compress(w->opts.codec, w->opts.zstd_level, body, d->len,
					       &w->comp, err);
			if (rc < 0)
				return rc;
			body = w->comp.data;
			clen = w->comp.len;
		}
		rc = page_header(w, PQ_PAGE_DICTIONARY, d->len, clen, (int32_t)c->dict.count,
				 PQ_ENC_PLAIN, err);
		if (rc == 0)
			rc = write_out(w, w->hdr.data, w->hdr.len, err);
		if (rc == 0)
			rc = write_out(w, body, clen, err);
		if (rc < 0)
			return rc;
		c->chunk_uncompressed += (int64_t)(w->hdr.len + d->len);
	}
	uint64_t data_off = file_offset(w);
	while (c->jobs) {
		pq_job *j = c->jobs;
		rc = pq_pool_wait(w->pool, j);
		if (rc < 0) {
			sl_error_set(err, rc, "%s", j->err.message);
			return rc;
		}
		rc = page_header(w, PQ_PAGE_DATA, j->body_len, j->comp.len, j->num_values,
				 j->encoding, err);
		if (rc == 0)
			rc = write_out(w, w->hdr.data, w->hdr.len, err);
		if (rc == 0)
			rc = write_out(w, j->comp.data, j->comp.len, err);
		if (rc < 0)
			return rc;
		c->chunk_uncompressed += (int64_t)(w->hdr.len + j->body_len);
		c->chunk_encs |= 1u << j->encoding;
		c->jobs = j->next;
		if (!c->jobs)
			c->jobs_tail = NULL;
		pq_pool_release(w->pool, j);
	}
	int64_t comp = (int64_t)(file_offset(w) - start);

	/* every encoding used in the chunk: pages, levels, dictionary */
	int encs[5], ne = 0;
	if ((c->chunk_encs & 1u << PQ_ENC_PLAIN) || dict)
		encs[ne++] = PQ_ENC_PLAIN;
	if (c->optional)
		encs[ne++] = PQ_ENC_RLE;
	if (dict)
		encs[ne++] = PQ_ENC_RLE_DICTIONARY;
	if (c->chunk_encs & 1u << PQ_ENC_DELTA_BINARY_PACKED)
		encs[ne++] = PQ_ENC_DELTA_BINARY_PACKED;
	if (c->chunk_encs & 1u << PQ_ENC_DELTA_LENGTH_BYTE_ARRAY)
		encs[ne++] = PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
	if (ne == 0)
		encs[ne++] = PQ_ENC_PLAIN;

	sl_tw_elem_struct_begin(t);
	sl_tw_i64(t, 2, (int64_t)start);
	sl_tw_struct_begin(t, 3);
	sl_tw_i32(t, 1, c->ptype);
	sl_tw_list_begin(t, 2, TC_I32, ne);
	for (int i = 0; i < ne; i++)
		sl_tw_elem_i32(t, encs[i]);
	sl_tw_list_begin(t, 3, TC_BINARY, 1);
	sl_tw_elem_binary(t, c->name, strlen(c->name));
	sl_tw_i32(t, 4, (int32_t)w->opts.codec);
	sl_tw_i64(t, 5, c->chunk_values);
	sl_tw_i64(t, 6, c->chunk_uncompressed);
	sl_tw_i64(t, 7, comp);
	sl_tw_i64(t, 9, (int64_t)data_off);
	if (dict)
		sl_tw_i64(t, 11, (int64_t)start);
	put_statistics(t, c);
	sl_tw_struct_end(t); /* ColumnMetaData */
	sl_tw_struct_end(t); /* ColumnChunk */

	*total_unc += c->chunk_uncompressed;
	*total_comp += comp;

	/* file statistics */
	c->file_nulls += c->chunk_nulls;
	if (c->chunk_values > c->chunk_nulls && !c->cstat.has)
		c->fstat_invalid = true;
	if (pq_minmax_merge(&c->fstat, &c->cstat, c->kind) < 0)
		return SL_ENOMEM;

	/* reset for the next row group */
	c->chunk_est = 0;
	c->chunk_values = c->chunk_nulls = c->chunk_uncompressed = 0;
	c->chunk_has_dict_pages = false;
	c->chunk_encs = 0;
	pq_minmax_reset(&c->cstat);
	if (c->kind != PK_BOOL) {
		pq_dict_reset(&c->dict);
		c->dict_mode = w->opts.dictionary && !c->dict_abandoned;
	}
	return 0;
}

static int flush_row_group(sl_parquet_writer *w, sl_error *err)
{
	if (w->rg_rows == 0)
		return 0;
	if (w->nrg >= INT16_MAX)
		return col_fail(w, NULL,
				sl_error_set(err, SL_ELIMIT, "more than %d row groups", INT16_MAX),
				err);
	uint64_t start = file_offset(w);
	int64_t unc = 0, comp = 0;
	sl_tw t;
	sl_tw_init(&t, &w->rgs);
	sl_tw_list_begin(&t, 1, TC_STRUCT, w->ncols);
	for (int i = 0; i < w->ncols; i++) {
		int rc = write_chunk(w, &w->cols[i], &t, &unc, &comp, err);
		if (rc < 0)
			return col_fail(w, &w->cols[i], rc, err);
	}
	sl_tw_i64(&t, 2, unc);
	sl_tw_i64(&t, 3, w->rg_rows);
	sl_tw_i64(&t, 5, (int64_t)start);
	sl_tw_i64(&t, 6, comp);
	sl_tw_i16(&t, 7, (int16_t)w->nrg);
	sl_tw_end(&t);
	if (t.rc < 0)
		return col_fail(w, NULL, sl_error_set(err, t.rc, "row group metadata: %s",
						       t.rc == SL_ENOMEM ? "out of memory"
									 : "internal error"),
				err);
	w->nrg++;
	w->done_uncompressed += (uint64_t)unc;
	w->rg_rows = 0;
	w->rg_est = 0;
	return 0;
}

/* Plain-equivalent bytes of rows [a, b) across all columns. */
static uint64_t batch_est(const sl_parquet_writer *w, const sl_batch *b, int64_t lo,
			  int64_t hi)
{
	uint64_t n = 0;
	for (int i = 0; i < w->ncols; i++)
		n += range_est(&w->cols[i], &b->cols[i], lo, hi);
	return n;
}

int sl_parquet_writer_write(sl_parquet_writer *w, const sl_batch *b, sl_error *err)
{
	if (w->state != W_OPEN)
		return sl_error_set(err, SL_EINVAL, "parquet writer: %s",
				    w->state == W_CLOSED ? "write after close"
							 : "write after an earlier error");
	if (b->ncols != w->ncols || !sl_schema_equal(b->schema, w->schema))
		return sl_error_set(err, SL_EINVAL,
				    "parquet writer: batch schema differs from the file's schema");
	for (int i = 0; i < w->ncols; i++) {
		if (!w->cols[i].optional && b->cols[i].null_count > 0)
			return sl_error_set(err, SL_EINVAL,
					    "parquet writer: column \"%s\" is not nullable but "
					    "the batch has %lld NULLs",
					    w->cols[i].name, (long long)b->cols[i].null_count);
	}
	int64_t n = b->nrows, start = 0;
	uint64_t total = batch_est(w, b, 0, n);
	uint64_t limit = w->opts.row_group_bytes;
	while (start < n) {
		uint64_t room = limit > w->rg_est ? limit - w->rg_est : 1;
		int64_t k = n - start;
		if (total > room) {
			uint64_t avg = total / (uint64_t)n;
			if (avg < 1)
				avg = 1;
			int64_t fit = (int64_t)(room / avg);
			if (fit < 1)
				fit = 1;
			if (fit < k)
				k = fit;
		}
		for (int i = 0; i < w->ncols; i++) {
			int rc = encode_column(w, &w->cols[i], &b->cols[i], start, start + k, err);
			if (rc < 0)
				return col_fail(w, &w->cols[i], rc, err);
		}
		w->rg_est += batch_est(w, b, start, start + k);
		w->rg_rows += k;
		w->rows += k;
		start += k;
		if (w->rg_est >= limit) {
			int rc = flush_row_group(w, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

uint64_t sl_parquet_writer_bytes(const sl_parquet_writer *w)
{
	return w->done_uncompressed + w->rg_est;
}

uint64_t sl_parquet_writer_file_bytes(const sl_parquet_writer *w)
{
	uint64_t n = file_offset(w);
	for (int i = 0; i < w->ncols; i++)
		n += w->cols[i].chunk_est + (uint64_t)w->cols[i].page_est;
	return n;
}

int64_t sl_parquet_writer_rows(const sl_parquet_writer *w)
{
	return w->rows;
}

/* ----------------------------------------------------------- footer */

static void put_schema_element(sl_tw *t, const pq_col *c)
{
	sl_tw_elem_struct_begin(t);
	sl_tw_i32(t, 1, c->ptype);
	if (c->ptype == PQ_FIXED_LEN_BYTE_ARRAY)
		sl_tw_i32(t, 2, c->width);
	sl_tw_i32(t, 3, c->optional ? PQ_OPTIONAL : PQ_REQUIRED);
	sl_tw_string(t, 4, c->name);
	switch (c->type.id) {
	case SL_STRING:
		sl_tw_i32(t, 6, PQ_CT_UTF8);
		sl_tw_struct_begin(t, 10);
		sl_tw_struct_begin(t, 1); /* STRING */
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		break;
	case SL_DECIMAL:
		sl_tw_i32(t, 6, PQ_CT_DECIMAL);
		sl_tw_i32(t, 7, c->type.scale);
		sl_tw_i32(t, 8, c->type.precision);
		sl_tw_struct_begin(t, 10);
		sl_tw_struct_begin(t, 5); /* DECIMAL */
		sl_tw_i32(t, 1, c->type.scale);
		sl_tw_i32(t, 2, c->type.precision);
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		break;
	case SL_DATE:
		sl_tw_i32(t, 6, PQ_CT_DATE);
		sl_tw_struct_begin(t, 10);
		sl_tw_struct_begin(t, 6); /* DATE */
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		break;
	case SL_TIMESTAMP:
		sl_tw_i32(t, 6, PQ_CT_TIMESTAMP_MICROS);
		sl_tw_struct_begin(t, 10);
		sl_tw_struct_begin(t, 8); /* TIMESTAMP */
		sl_tw_bool(t, 1, true);   /* isAdjustedToUTC */
		sl_tw_struct_begin(t, 2); /* unit */
		sl_tw_struct_begin(t, 2); /* MICROS */
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		sl_tw_struct_end(t);
		break;
	default: break;
	}
	sl_tw_struct_end(t);
}

static int write_footer(sl_parquet_writer *w, sl_error *err)
{
	sl_buf m = SL_BUF_INIT;
	sl_tw t;
	sl_tw_init(&t, &m);
	sl_tw_i32(&t, 1, 1);
	sl_tw_list_begin(&t, 2, TC_STRUCT, w->ncols + 1);
	sl_tw_elem_struct_begin(&t);
	sl_tw_string(&t, 4, "schema");
	sl_tw_i32(&t, 5, w->ncols);
	sl_tw_struct_end(&t);
	for (int i = 0; i < w->ncols; i++)
		put_schema_element(&t, &w->cols[i]);
	sl_tw_i64(&t, 3, w->rows);
	sl_tw_list_begin(&t, 4, TC_STRUCT, w->nrg);
	if (t.rc == 0 && w->rgs.len && sl_buf_append(&m, w->rgs.data, w->rgs.len) < 0)
		t.rc = SL_ENOMEM;
	sl_tw_string(&t, 6, w->created_by);
	sl_tw_list_begin(&t, 7, TC_STRUCT, w->ncols);
	for (int i = 0; i < w->ncols; i++) {
		sl_tw_elem_struct_begin(&t);
		sl_tw_struct_begin(&t, 1); /* TYPE_ORDER */
		sl_tw_struct_end(&t);
		sl_tw_struct_end(&t);
	}
	sl_tw_end(&t);
	int rc = t.rc;
	if (rc == 0 && m.len > UINT32_MAX)
		rc = SL_ELIMIT;
	if (rc < 0) {
		sl_buf_free(&m);
		return sl_error_set(err, rc, "parquet writer: footer: %s",
				    rc == SL_ENOMEM ? "out of memory" : "too large");
	}
	uint32_t n = (uint32_t)m.len;
	uint8_t tail[8] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24),
			   'P', 'A', 'R', '1'};
	rc = sl_buf_append(&m, tail, sizeof tail);
	if (rc < 0) {
		sl_buf_free(&m);
		return sl_error_set(err, SL_ENOMEM, "parquet writer: footer: out of memory");
	}
	rc = write_out(w, m.data, m.len, err);
	sl_buf_free(&m);
	if (rc < 0)
		return sl_error_prefix(err, "parquet writer: footer: ");
	return 0;
}

static int fill_stats(sl_parquet_writer *w, sl_parquet_file_stats *st, sl_error *err)
{
	memset(st, 0, sizeof *st);
	st->rows = w->rows;
	st->bytes = file_offset(w);
	st->row_groups = w->nrg;
	st->ncols = w->ncols;
	st->cols = sl_calloc((size_t)w->ncols, sizeof *st->cols);
	if (!st->cols)
		goto oom;
	for (int i = 0; i < w->ncols; i++)
		if (pq_file_col_stats(&w->cols[i], &st->cols[i]) < 0)
			goto oom;
	return 0;
oom:
	sl_parquet_file_stats_free(st);
	return sl_error_set(err, SL_ENOMEM, "parquet writer: statistics: out of memory");
}

int sl_parquet_writer_close(sl_parquet_writer *w, sl_parquet_file_stats *stats,
			    sl_error *err)
{
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (w->state != W_OPEN)
		return sl_error_set(err, SL_EINVAL, "parquet writer: %s",
				    w->state == W_CLOSED ? "closed twice"
							 : "close after an earlier error");
	int rc = flush_row_group(w, err);
	if (rc < 0)
		return rc;
	rc = write_footer(w, err);
	if (rc < 0) {
		w->state = W_FAILED;
		return rc;
	}
	w->state = W_CLOSED;
	if (stats)
		return fill_stats(w, stats, err);
	return 0;
}

void sl_parquet_writer_free(sl_parquet_writer *w)
{
	if (!w)
		return;
	/* stop compression first: queued jobs belong to the columns */
	pq_pool_free(w->pool);
	if (w->cols)
		for (int i = 0; i < w->ncols; i++)
			free_column(&w->cols[i]);
	sl_free(w->cols);
	sl_schema_free(w->schema);
	sl_free(w->created_by);
	sl_buf_free(&w->comp);
	sl_buf_free(&w->hdr);
	sl_buf_free(&w->rgs);
	sl_free(w);
}
