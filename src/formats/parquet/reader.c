/*
 * reader.c: the Parquet reader's public API. Reads the footer with one or
 * two read_at calls, maps flat schemas to sluice types, and streams batches
 * across row groups, holding at most one row group's projected column
 * chunks in memory (each read with a single read_at, for S3 ranged GETs).
 */
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"

#include <stdio.h>
#include <string.h>

#define TAIL_READ (64 * 1024) /* speculative footer read: usually the whole footer */

struct sl_parquet_reader {
	sl_input *in;
	sl_arena arena; /* footer metadata and column info strings */
	pqr_file_meta meta;
	int nleaves;
	pqr_leaf *leaves;
	sl_schema *schema;      /* every column */
	int nproj;
	int *proj;              /* leaf index of each projected column */
	sl_schema *proj_schema; /* the projected columns, in projection order */
	pqr_col *cols;          /* one per projected column */
	int rg;                 /* row group being read; -1 before the first */
	int64_t rg_left;        /* rows left in it */
	int64_t rows_left;      /* rows left in the file */
};

static const char *physical_name(int t)
{
	static const char *names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
				      "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
	return t >= 0 && t < 8 ? names[t] : "UNKNOWN";
}

static const char *unit_name(int unit)
{
	return unit == 1 ? "MILLIS" : unit == 2 ? "MICROS" : unit == 3 ? "NANOS" : "?";
}

static const char *converted_name(int ct)
{
	static const char *names[] = {
		"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS",
		"TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16",
		"UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON",
		"INTERVAL"};
	return ct >= 0 && ct < 22 ? names[ct] : "";
}

/* The logical (or converted) type as text, for `sluice parquet schema`. */
static const char *logical_text(sl_arena *a, const pqr_schema_elem *e)
{
	const pqr_logical *lt = &e->logical;
	switch (lt->kind) {
	case PQR_LT_STRING: return "STRING";
	case PQR_LT_MAP: return "MAP";
	case PQR_LT_LIST: return "LIST";
	case PQR_LT_ENUM: return "ENUM";
	case PQR_LT_DECIMAL: return sl_arena_sprintf(a, "DECIMAL(%d,%d)", lt->precision, lt->scale);
	case PQR_LT_DATE: return "DATE";
	case PQR_LT_TIME:
		return sl_arena_sprintf(a, "TIME(%s%s)", unit_name(lt->unit), lt->utc ? ",UTC" : "");
	case PQR_LT_TIMESTAMP:
		return sl_arena_sprintf(a, "TIMESTAMP(%s%s)", unit_name(lt->unit),
					lt->utc ? ",UTC" : "");
	case PQR_LT_INTEGER:
		return sl_arena_sprintf(a, "INT(%d,%s)", lt->bit_width,
					lt->is_signed ? "signed" : "unsigned");
	case PQR_LT_UNKNOWN: return "NULL";
	case PQR_LT_JSON: return "JSON";
	case PQR_LT_BSON: return "BSON";
	case PQR_LT_UUID: return "UUID";
	case PQR_LT_FLOAT16: return "FLOAT16";
	default: break;
	}
	if (e->converted == PQ_CT_DECIMAL)
		return sl_arena_sprintf(a, "DECIMAL(%d,%d)", e->precision, e->scale);
	return converted_name(e->converted);
}

static int leaf_fail(sl_error *err, const char *file, const char *col, const char *fmt, ...)
	SL_PRINTF(4, 5);
static int leaf_fail(sl_error *err, const char *file, const char *col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sl_error_set(err, SL_EFORMAT, "%s: column %s: %s", file, col, msg);
}

/* Chooses the sluice type of a leaf and how its values are converted. */
static int map_leaf(sl_parquet_reader *r, const pqr_schema_elem *e, pqr_leaf *l, sl_error *err)
{
	const pqr_logical *lt = &e->logical;
	const char *file = r->in->name;
	int ct = e->converted;
	bool dec = lt->kind == PQR_LT_DECIMAL || (lt->kind == 0 && ct == PQ_CT_DECIMAL);
	int prec = lt->kind == PQR_LT_DECIMAL ? lt->precision : e->precision;
	int scale = lt->kind == PQR_LT_DECIMAL ? lt->scale : e->scale;
	bool unsig = (lt->kind == PQR_LT_INTEGER && !lt->is_signed);

	l->name = e->name;
	l->physical = e->type;
	l->type_length = e->type_length;
	l->optional = e->repetition != PQ_REQUIRED;
	l->type = sl_type_make(SL_INT64);
	switch (e->type) {
	case PQ_BOOLEAN:
		l->type = sl_type_make(SL_BOOL);
		l->conv = PQR_CV_BOOL;
		break;
	case PQ_INT32:
		if (dec) {
			l->conv = PQR_CV_I32_DEC;
		} else if (lt->kind == PQR_LT_DATE || ct == PQ_CT_DATE) {
			l->type = sl_type_make(SL_DATE);
			l->conv = PQR_CV_I32;
		} else if ((unsig && lt->bit_width == 32) || (!lt->kind && ct == PQ_CT_UINT_32)) {
			l->conv = PQR_CV_U32_I64;
		} else {
			l->type = sl_type_make(SL_INT32);
			l->conv = PQR_CV_I32;
		}
		break;
	case PQ_INT64:
		if (dec) {
			l->conv = PQR_CV_I64_DEC;
		} else if (lt->kind == PQR_LT_TIMESTAMP) {
			l->type = sl_type_make(SL_TIMESTAMP);
			l->conv = lt->unit == 1 ? PQR_CV_I64_MILLIS
				  : lt->unit == 3 ? PQR_CV_I64_NANOS : PQR_CV_I64;
		} else if (!lt->kind && (ct == PQ_CT_TIMESTAMP_MILLIS || ct == PQ_CT_TIMESTAMP_MICROS)) {
			l->type = sl_type_make(SL_TIMESTAMP);
			l->conv = ct == PQ_CT_TIMESTAMP_MILLIS ? PQR_CV_I64_MILLIS : PQR_CV_I64;
		} else if (unsig || (!lt->kind && ct == PQ_CT_UINT_64)) {
			l->type = sl_type_decimal(20, 0);
			l->conv = PQR_CV_U64_DEC;
		} else {
			l->conv = PQR_CV_I64;
		}
		break;
	case PQ_INT96:
		l->type = sl_type_make(SL_TIMESTAMP);
		l->conv = PQR_CV_INT96;
		break;
	case PQ_FLOAT:
	case PQ_DOUBLE:
		l->type = sl_type_make(SL_FLOAT64);
		l->conv = e->type == PQ_FLOAT ? PQR_CV_FLOAT : PQR_CV_DOUBLE;
		break;
	case PQ_BYTE_ARRAY:
		if (dec) {
			l->conv = PQR_CV_BIN_DEC;
		} else {
			l->type = sl_type_make(SL_STRING);
			l->conv = PQR_CV_STR;
		}
		break;
	case PQ_FIXED_LEN_BYTE_ARRAY:
		if (e->type_length <= 0)
			return leaf_fail(err, file, e->name, "FIXED_LEN_BYTE_ARRAY without a length");
		if (dec) {
			l->conv = PQR_CV_BIN_DEC;
		} else if (lt->kind == PQR_LT_UUID && e->type_length == 16) {
			l->type = sl_type_make(SL_STRING);
			l->conv = PQR_CV_UUID;
		} else if (lt->kind == PQR_LT_FLOAT16 && e->type_length == 2) {
			l->type = sl_type_make(SL_FLOAT64);
			l->conv = PQR_CV_HALF;
		} else {
			return leaf_fail(err, file, e->name,
					 "FIXED_LEN_BYTE_ARRAY(%d) %s is not supported (only DECIMAL, "
					 "UUID and FLOAT16 annotations)", e->type_length,
					 *logical_text(&r->arena, e) ? logical_text(&r->arena, e)
								     : "without annotation");
		}
		break;
	default:
		return leaf_fail(err, file, e->name, "unknown physical type %d", e->type);
	}
	if (dec) {
		if (prec < 1 || prec > SL_DECIMAL_MAX_PRECISION)
			return leaf_fail(err, file, e->name, "decimal precision %d is not supported "
					 "(sluice reads 1 to 38 digits)", prec);
		if (scale < 0 || scale > prec)
			return leaf_fail(err, file, e->name, "decimal scale %d is invalid for "
					 "precision %d", scale, prec);
		l->type = sl_type_decimal(prec, scale);
	}

	sl_parquet_column_info *info = &l->info;
	info->name = e->name;
	info->physical = e->type == PQ_FIXED_LEN_BYTE_ARRAY
				 ? sl_arena_sprintf(&r->arena, "FIXED_LEN_BYTE_ARRAY(%d)", e->type_length)
				 : physical_name(e->type);
	info->logical = logical_text(&r->arena, e);
	info->repetition = l->optional ? "OPTIONAL" : "REQUIRED";
	info->type = l->type;
	if (!info->physical || !info->logical)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

static int build_schema(sl_parquet_reader *r, sl_error *err)
{
	const pqr_file_meta *m = &r->meta;
	const char *file = r->in->name;
	int rc;

	for (int i = 1; i < m->nschema; i++) {
		const pqr_schema_elem *e = &m->schema[i];
		if (e->num_children > 0 || e->type < 0 || e->repetition == PQ_REPEATED)
			return leaf_fail(err, file, e->name, "nested type not supported (sluice reads "
					 "flat schemas: one level of columns)");
	}
	if (m->schema[0].num_children != m->nschema - 1)
		return sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: the root has %d children "
				    "but the schema lists %d columns", file,
				    m->schema[0].num_children, m->nschema - 1);
	r->nleaves = m->nschema - 1;
	r->leaves = sl_arena_alloc(&r->arena, sizeof(pqr_leaf) * (size_t)(r->nleaves + 1));
	r->schema = sl_schema_new();
	if (!r->leaves || !r->schema)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	memset(r->leaves, 0, sizeof(pqr_leaf) * (size_t)(r->nleaves + 1));
	for (int i = 0; i < r->nleaves; i++) {
		if ((rc = map_leaf(r, &m->schema[i + 1], &r->leaves[i], err)) < 0)
			return rc;
		if (sl_schema_add(r->schema, r->leaves[i].name, r->leaves[i].type,
				  r->leaves[i].optional) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}

	int64_t rows = 0;
	for (int g = 0; g < m->nrgs; g++) {
		const pqr_row_group *rg = &m->rgs[g];
		if (rg->num_rows < 0 || rg->num_rows > INT64_MAX - rows)
			return sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: row group %d has "
					    "%lld rows", file, g, (long long)rg->num_rows);
		rows += rg->num_rows;
		if (rg->ncols != r->nleaves)
			return sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: row group %d has %d "
					    "column chunks for %d columns", file, g, rg->ncols,
					    r->nleaves);
		for (int c = 0; c < rg->ncols; c++) {
			const pqr_chunk_meta *cm = &rg->cols[c];
			if (!cm->has_meta || cm->type != r->leaves[c].physical)
				return sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: row group %d: "
						    "column %s has %s chunk metadata", file, g,
						    r->leaves[c].name,
						    cm->has_meta ? "mismatched" : "no");
			if (cm->num_values != rg->num_rows)
				return sl_error_set(err, SL_EFORMAT, "%s: row group %d: column %s holds "
						    "%lld values for %lld rows", file, g,
						    r->leaves[c].name, (long long)cm->num_values,
						    (long long)rg->num_rows);
		}
	}
	if (rows != m->num_rows)
		return sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: row groups hold %lld rows "
				    "but the file says %lld", file, (long long)rows,
				    (long long)m->num_rows);
	return 0;
}

static int read_footer(sl_parquet_reader *r, sl_error *err)
{
	sl_input *in = r->in;
	uint64_t size = in->size;
	uint8_t *tail = NULL, *meta = NULL;
	int rc;

	if (size < 12)
		return sl_error_set(err, SL_EFORMAT, "%s: not a Parquet file (%llu bytes is too "
				    "small)", in->name, (unsigned long long)size);
	size_t tn = size < TAIL_READ ? (size_t)size : TAIL_READ;
	tail = sl_malloc(tn);
	if (!tail)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if ((rc = in->read_at(in, size - tn, tail, tn, err)) < 0)
		goto out;
	const uint8_t *magic = tail + tn - 4;
	if (memcmp(magic, "PARE", 4) == 0) {
		rc = sl_error_set(err, SL_EFORMAT, "%s: encrypted Parquet files are not supported",
				  in->name);
		goto out;
	}
	if (memcmp(magic, "PAR1", 4) != 0) {
		rc = sl_error_set(err, SL_EFORMAT, "%s: not a Parquet file (no PAR1 magic at the "
				  "end; truncated or another format)", in->name);
		goto out;
	}
	if (tn == size && memcmp(tail, "PAR1", 4) != 0) {
		rc = sl_error_set(err, SL_EFORMAT, "%s: not a Parquet file (no PAR1 magic at the "
				  "start)", in->name);
		goto out;
	}
	uint32_t mlen;
	memcpy(&mlen, tail + tn - 8, 4);
	if ((uint64_t)mlen > size - 12) {
		rc = sl_error_set(err, SL_EFORMAT, "%s: corrupt footer: its length %u exceeds the "
				  "file size %llu (truncated?)", in->name, mlen,
				  (unsigned long long)size);
		goto out;
	}
	const uint8_t *mp;
	if ((size_t)mlen + 8 <= tn) {
		mp = tail + tn - 8 - mlen;
	} else {
		meta = sl_malloc(mlen ? mlen : 1);
		if (!meta) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = in->read_at(in, size - 8 - mlen, meta, mlen, err)) < 0)
			goto out;
		mp = meta;
	}
	rc = pqr_parse_file_meta(&r->meta, &r->arena, mp, mlen, in->name, err);
out:
	sl_free(tail);
	sl_free(meta);
	return rc;
}

int sl_parquet_reader_open(sl_parquet_reader **out, sl_input *in, sl_error *err)
{
	sl_parquet_reader *r = sl_calloc(1, sizeof *r);
	int rc;
	if (!r) {
		in->close(in);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	r->in = in;
	sl_arena_init(&r->arena, 0);
	r->rg = -1;
	if ((rc = read_footer(r, err)) < 0 || (rc = build_schema(r, err)) < 0 ||
	    (rc = sl_parquet_reader_project(r, NULL, 0, err)) < 0) {
		sl_parquet_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int sl_parquet_reader_open_path(sl_parquet_reader **out, const char *path, sl_error *err)
{
	sl_input *in;
	int rc = sl_input_file_open(&in, path, err);
	if (rc < 0)
		return rc;
	return sl_parquet_reader_open(out, in, err);
}

static void free_cols(sl_parquet_reader *r)
{
	if (r->cols)
		for (int i = 0; i < r->nproj; i++)
			pqr_col_free(&r->cols[i]);
	sl_free(r->cols);
	r->cols = NULL;
}

void sl_parquet_reader_close(sl_parquet_reader *r)
{
	if (!r)
		return;
	free_cols(r);
	sl_free(r->proj);
	sl_schema_free(r->proj_schema);
	sl_schema_free(r->schema);
	sl_arena_free(&r->arena);
	if (r->in)
		r->in->close(r->in);
	sl_free(r);
}

const sl_schema *sl_parquet_reader_schema(const sl_parquet_reader *r) { return r->schema; }
int64_t sl_parquet_reader_num_rows(const sl_parquet_reader *r) { return r->meta.num_rows; }
int sl_parquet_reader_num_row_groups(const sl_parquet_reader *r) { return r->meta.nrgs; }
const char *sl_parquet_reader_created_by(const sl_parquet_reader *r) { return r->meta.created_by; }

const sl_parquet_column_info *sl_parquet_reader_column_info(const sl_parquet_reader *r, int i)
{
	return i >= 0 && i < r->nleaves ? &r->leaves[i].info : NULL;
}

sl_codec sl_parquet_reader_column_codec(const sl_parquet_reader *r, int rg, int i)
{
	if (rg < 0 || rg >= r->meta.nrgs || i < 0 || i >= r->meta.rgs[rg].ncols)
		return SL_CODEC_UNCOMPRESSED;
	return (sl_codec)r->meta.rgs[rg].cols[i].codec;
}

/*
 * Projection also rewinds to the first row, so it is meant to be called
 * before the first sl_parquet_reader_next.
 */
int sl_parquet_reader_project(sl_parquet_reader *r, const char *const *columns, int n,
			      sl_error *err)
{
	int all = !columns || n <= 0;
	int count = all ? r->nleaves : n;
	int *proj = sl_calloc((size_t)count + 1, sizeof *proj);
	sl_schema *s = sl_schema_new();
	pqr_col *cols = sl_calloc((size_t)count + 1, sizeof *cols);
	int rc = 0;

	if (!proj || !s || !cols) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < count; i++) {
		int idx = i;
		if (!all) {
			idx = sl_schema_find(r->schema, columns[i]);
			if (idx < 0) {
				rc = sl_error_set(err, SL_ENOTFOUND, "%s: no column named '%s'",
						  r->in->name, columns[i]);
				goto fail;
			}
			for (int j = 0; j < i; j++)
				if (proj[j] == idx) {
					rc = sl_error_set(err, SL_EINVAL, "column '%s' is listed twice",
							  columns[i]);
					goto fail;
				}
		}
		proj[i] = idx;
		const sl_field *f = &r->schema->fields[idx];
		if (sl_schema_add(s, f->name, f->type, f->nullable) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
	}
	free_cols(r);
	sl_free(r->proj);
	sl_schema_free(r->proj_schema);
	r->proj = proj;
	r->proj_schema = s;
	r->cols = cols;
	r->nproj = count;
	r->rg = -1;
	r->rg_left = 0;
	r->rows_left = r->meta.num_rows;
	return 0;
fail:
	sl_free(proj);
	sl_schema_free(s);
	sl_free(cols);
	return rc;
}

/* Loads the next row group that has rows; 0 when there is none. */
static int next_row_group(sl_parquet_reader *r, sl_error *err)
{
	while (r->rg + 1 < r->meta.nrgs) {
		const pqr_row_group *g = &r->meta.rgs[++r->rg];
		if (g->num_rows == 0)
			continue;
		for (int i = 0; i < r->nproj; i++) {
			int leaf = r->proj[i];
			int rc = pqr_col_load(&r->cols[i], r->in, &r->leaves[leaf], &g->cols[leaf], r->rg,
					      err);
			if (rc < 0)
				return rc;
		}
		r->rg_left = g->num_rows;
		return 1;
	}
	return 0;
}

int sl_parquet_reader_next(sl_parquet_reader *r, sl_batch **out, int64_t max_rows, sl_error *err)
{
	sl_batch *b = NULL;
	int rc;

	*out = NULL;
	if (max_rows <= 0)
		max_rows = SL_BATCH_DEFAULT_ROWS;
	if (r->rows_left <= 0)
		return 0;
	int64_t cap = max_rows < r->rows_left ? max_rows : r->rows_left;
	if ((rc = sl_batch_new(&b, r->proj_schema, cap, err)) < 0)
		return rc;
	/*
	 * Rows are read in steps sized so the batch stays near
	 * SL_PARQUET_BATCH_BYTES: the first step is one row, each later one at
	 * most twice the last and no more than the bytes per row seen so far
	 * leave room for. Big values (a 15 MB string per row) then make batches
	 * of fewer rows instead of a batch over 2 GiB.
	 */
	int64_t step = 1;
	size_t bytes = 0;
	while (b->nrows < cap && bytes < SL_PARQUET_BATCH_BYTES) {
		if (r->rg_left == 0) {
			rc = next_row_group(r, err);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;
		}
		int64_t k = cap - b->nrows;
		if (k > r->rg_left)
			k = r->rg_left;
		if (k > step)
			k = step;
		if ((rc = sl_batch_reserve(b, b->nrows + k, err)) < 0)
			goto fail;
		for (int i = 0; i < r->nproj; i++)
			if ((rc = pqr_col_read(&r->cols[i], &b->cols[i], k, err)) < 0)
				goto fail;
		b->nrows += k;
		r->rg_left -= k;
		r->rows_left -= k;
		bytes = sl_batch_bytes(b);
		size_t per_row = bytes / (size_t)b->nrows + 1;
		int64_t room = bytes < SL_PARQUET_BATCH_BYTES
				       ? (int64_t)((SL_PARQUET_BATCH_BYTES - bytes) / per_row) + 1
				       : 1;
		step = room < 2 * k ? room : 2 * k;
	}
	if (b->nrows == 0) {
		sl_batch_free(b);
		r->rows_left = 0;
		return 0;
	}
	*out = b;
	return 1;
fail:
	sl_batch_free(b);
	r->rows_left = 0; /* a failed reader stays failed rather than skipping rows */
	return rc;
}
