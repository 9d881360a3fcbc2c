/*
 * reader_meta.c: decoding of the Parquet footer (FileMetaData and what it
 * holds) and of page headers from the Thrift compact protocol. Only the
 * fields the reader uses are kept; everything else is skipped.
 */
#include "formats/parquet/parquet_format.h"
#include "formats/parquet/parquet_read_int.h"
#include "formats/parquet/thrift_read.h"

#include <string.h>

typedef int (*elem_fn)(pqr_tr *t, void *elem, sl_arena *a);

static int oom(pqr_tr *t)
{
	if (!t->rc)
		t->rc = sl_error_set(t->err, SL_ENOMEM, "%s: out of memory reading the %s",
				     t->name, t->what);
	return t->rc;
}

static int dup_str(pqr_tr *t, int type, sl_arena *a, const char **out, const char *field)
{
	const uint8_t *p;
	size_t n;
	int rc = pqr_tr_field_binary(t, type, &p, &n, field);
	if (rc < 0)
		return rc;
	*out = sl_arena_strndup(a, (const char *)p, n);
	return *out ? 0 : oom(t);
}

/* Reads list<struct> into a new arena array of elem_size-byte elements. */
static int read_struct_list(pqr_tr *t, int type, sl_arena *a, size_t elem_size, elem_fn fn,
			    void **out, int *count, const char *field)
{
	int et, rc;
	uint32_t n;
	if (type != TC_LIST)
		return pqr_tr_fail(t, "%s has wire type %d, expected a list", field, type);
	if ((rc = pqr_tr_list(t, &et, &n)) < 0)
		return rc;
	if (et != TC_STRUCT)
		return pqr_tr_fail(t, "%s holds wire type %d, expected structs", field, et);
	if (n > INT32_MAX / 2)
		return pqr_tr_fail(t, "%s has %u elements", field, n);
	char *arr = sl_arena_alloc(a, (n ? n : 1) * elem_size);
	if (!arr)
		return oom(t);
	memset(arr, 0, (n ? n : 1) * elem_size);
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = pqr_tr_enter(t)) < 0 || (rc = fn(t, arr + i * elem_size, a)) < 0)
			return rc;
		pqr_tr_leave(t);
	}
	pqr_tr_leave(t);
	*out = arr;
	*count = (int)n;
	return 0;
}

#define FIELD_LOOP(t, last, type, id)                                            \
	for (int16_t last = 0, id = 0; (rc = pqr_tr_field(t, &last, &type, &id)) == 0 && \
				       type != TC_STOP;)

/* TimeUnit is a union of empty structs: the field id is the unit. */
static int read_time_unit(pqr_tr *t, int *unit)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	FIELD_LOOP(t, last, type, id) {
		*unit = id;
		if ((rc = pqr_tr_skip(t, type)) < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_logical_inner(pqr_tr *t, pqr_logical *lt)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	FIELD_LOOP(t, last, type, id) {
		switch (lt->kind * 100 + id) {
		case PQR_LT_DECIMAL * 100 + 1: rc = pqr_tr_field_i32(t, type, &lt->scale, "DecimalType.scale"); break;
		case PQR_LT_DECIMAL * 100 + 2: rc = pqr_tr_field_i32(t, type, &lt->precision, "DecimalType.precision"); break;
		case PQR_LT_TIME * 100 + 1:
		case PQR_LT_TIMESTAMP * 100 + 1: rc = pqr_tr_field_bool(t, type, &lt->utc, "isAdjustedToUTC"); break;
		case PQR_LT_TIME * 100 + 2:
		case PQR_LT_TIMESTAMP * 100 + 2:
			rc = type == TC_STRUCT ? read_time_unit(t, &lt->unit) : pqr_tr_skip(t, type);
			break;
		case PQR_LT_INTEGER * 100 + 1: rc = pqr_tr_field_i32(t, type, &lt->bit_width, "IntType.bitWidth"); break;
		case PQR_LT_INTEGER * 100 + 2: rc = pqr_tr_field_bool(t, type, &lt->is_signed, "IntType.isSigned"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_logical(pqr_tr *t, pqr_logical *lt)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	FIELD_LOOP(t, last, type, id) {
		if (type == TC_STRUCT && !lt->kind) {
			lt->kind = id;
			rc = read_logical_inner(t, lt);
		} else {
			rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_schema_elem(pqr_tr *t, void *elem, sl_arena *a)
{
	pqr_schema_elem *e = elem;
	int rc, type;
	bool has_name = false;
	e->type = -1;
	e->repetition = -1;
	e->converted = -1;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(t, type, &e->type, "SchemaElement.type"); break;
		case 2: rc = pqr_tr_field_i32(t, type, &e->type_length, "SchemaElement.type_length"); break;
		case 3: rc = pqr_tr_field_i32(t, type, &e->repetition, "SchemaElement.repetition_type"); break;
		case 4:
			rc = dup_str(t, type, a, &e->name, "SchemaElement.name");
			has_name = true;
			break;
		case 5: rc = pqr_tr_field_i32(t, type, &e->num_children, "SchemaElement.num_children"); break;
		case 6: rc = pqr_tr_field_i32(t, type, &e->converted, "SchemaElement.converted_type"); break;
		case 7: rc = pqr_tr_field_i32(t, type, &e->scale, "SchemaElement.scale"); break;
		case 8: rc = pqr_tr_field_i32(t, type, &e->precision, "SchemaElement.precision"); break;
		case 10:
			rc = type == TC_STRUCT ? read_logical(t, &e->logical) : pqr_tr_skip(t, type);
			break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (!has_name)
		return pqr_tr_fail(t, "schema element without a name");
	return 0;
}

static int read_column_meta(pqr_tr *t, pqr_chunk_meta *m)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	m->has_meta = true;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(t, type, &m->type, "ColumnMetaData.type"); break;
		case 4: rc = pqr_tr_field_i32(t, type, &m->codec, "ColumnMetaData.codec"); break;
		case 5: rc = pqr_tr_field_i64(t, type, &m->num_values, "ColumnMetaData.num_values"); break;
		case 6: rc = pqr_tr_field_i64(t, type, &m->total_uncompressed, "ColumnMetaData.total_uncompressed_size"); break;
		case 7: rc = pqr_tr_field_i64(t, type, &m->total_compressed, "ColumnMetaData.total_compressed_size"); break;
		case 9: rc = pqr_tr_field_i64(t, type, &m->data_page_offset, "ColumnMetaData.data_page_offset"); break;
		case 11: rc = pqr_tr_field_i64(t, type, &m->dict_page_offset, "ColumnMetaData.dictionary_page_offset"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_column_chunk(pqr_tr *t, void *elem, sl_arena *a)
{
	pqr_chunk_meta *m = elem;
	int rc, type;
	m->dict_page_offset = -1;
	m->type = -1;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: {
			const uint8_t *p;
			size_t n;
			rc = pqr_tr_field_binary(t, type, &p, &n, "ColumnChunk.file_path");
			if (rc == 0 && n)
				return pqr_tr_fail(t, "column data in another file (%.*s) is not supported",
						   (int)(n > 200 ? 200 : n), (const char *)p);
			break;
		}
		case 3:
			rc = type == TC_STRUCT ? read_column_meta(t, m)
					       : pqr_tr_fail(t, "ColumnChunk.meta_data is not a struct");
			break;
		case 8:
		case 9: return pqr_tr_fail(t, "encrypted columns are not supported");
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int read_row_group(pqr_tr *t, void *elem, sl_arena *a)
{
	pqr_row_group *g = elem;
	int rc, type;
	void *cols = NULL;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1:
			rc = read_struct_list(t, type, a, sizeof(pqr_chunk_meta), read_column_chunk,
					      &cols, &g->ncols, "RowGroup.columns");
			g->cols = cols;
			break;
		case 3: rc = pqr_tr_field_i64(t, type, &g->num_rows, "RowGroup.num_rows"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

int pqr_parse_file_meta(pqr_file_meta *m, sl_arena *a, const uint8_t *p, size_t n,
			const char *name, sl_error *err)
{
	pqr_tr t;
	int rc, type;
	void *arr = NULL;
	memset(m, 0, sizeof *m);
	m->created_by = "";
	pqr_tr_init(&t, p, n, name, "footer", err);
	FIELD_LOOP(&t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(&t, type, &m->version, "FileMetaData.version"); break;
		case 2:
			rc = read_struct_list(&t, type, a, sizeof(pqr_schema_elem), read_schema_elem,
					      &arr, &m->nschema, "FileMetaData.schema");
			m->schema = arr;
			break;
		case 3: rc = pqr_tr_field_i64(&t, type, &m->num_rows, "FileMetaData.num_rows"); break;
		case 4:
			rc = read_struct_list(&t, type, a, sizeof(pqr_row_group), read_row_group, &arr,
					      &m->nrgs, "FileMetaData.row_groups");
			m->rgs = arr;
			break;
		case 6: rc = dup_str(&t, type, a, &m->created_by, "FileMetaData.created_by"); break;
		case 8:
		case 9: return pqr_tr_fail(&t, "encrypted files are not supported");
		default: rc = pqr_tr_skip(&t, type);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (!m->schema || m->nschema < 1)
		return pqr_tr_fail(&t, "no schema");
	if (m->num_rows < 0)
		return pqr_tr_fail(&t, "negative row count %lld", (long long)m->num_rows);
	return 0;
}

static int read_data_page_v1(pqr_tr *t, pqr_page_header *h)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	h->has_v1 = true;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(t, type, &h->num_values, "DataPageHeader.num_values"); break;
		case 2: rc = pqr_tr_field_i32(t, type, &h->encoding, "DataPageHeader.encoding"); break;
		case 3: rc = pqr_tr_field_i32(t, type, &h->def_encoding, "DataPageHeader.definition_level_encoding"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_data_page_v2(pqr_tr *t, pqr_page_header *h)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	h->has_v2 = true;
	h->is_compressed = true;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(t, type, &h->num_values, "DataPageHeaderV2.num_values"); break;
		case 2: rc = pqr_tr_field_i32(t, type, &h->num_nulls, "DataPageHeaderV2.num_nulls"); break;
		case 3: rc = pqr_tr_field_i32(t, type, &h->num_rows, "DataPageHeaderV2.num_rows"); break;
		case 4: rc = pqr_tr_field_i32(t, type, &h->encoding, "DataPageHeaderV2.encoding"); break;
		case 5: rc = pqr_tr_field_i32(t, type, &h->def_len, "DataPageHeaderV2.definition_levels_byte_length"); break;
		case 6: rc = pqr_tr_field_i32(t, type, &h->rep_len, "DataPageHeaderV2.repetition_levels_byte_length"); break;
		case 7: rc = pqr_tr_field_bool(t, type, &h->is_compressed, "DataPageHeaderV2.is_compressed"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

static int read_dict_page(pqr_tr *t, pqr_page_header *h)
{
	int rc, type;
	if ((rc = pqr_tr_enter(t)) < 0)
		return rc;
	h->has_dict = true;
	FIELD_LOOP(t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(t, type, &h->dict_num_values, "DictionaryPageHeader.num_values"); break;
		case 2: rc = pqr_tr_field_i32(t, type, &h->dict_encoding, "DictionaryPageHeader.encoding"); break;
		default: rc = pqr_tr_skip(t, type);
		}
		if (rc < 0)
			return rc;
	}
	pqr_tr_leave(t);
	return rc;
}

int pqr_parse_page_header(pqr_page_header *h, const uint8_t *p, size_t n, size_t *used,
			  const char *name, sl_error *err)
{
	pqr_tr t;
	int rc, type;
	memset(h, 0, sizeof *h);
	h->type = -1;
	h->uncompressed_size = -1;
	h->compressed_size = -1;
	pqr_tr_init(&t, p, n, name, "page header", err);
	FIELD_LOOP(&t, last, type, id) {
		switch (id) {
		case 1: rc = pqr_tr_field_i32(&t, type, &h->type, "PageHeader.type"); break;
		case 2: rc = pqr_tr_field_i32(&t, type, &h->uncompressed_size, "PageHeader.uncompressed_page_size"); break;
		case 3: rc = pqr_tr_field_i32(&t, type, &h->compressed_size, "PageHeader.compressed_page_size"); break;
		case 5: rc = type == TC_STRUCT ? read_data_page_v1(&t, h) : pqr_tr_skip(&t, type); break;
		case 7: rc = type == TC_STRUCT ? read_dict_page(&t, h) : pqr_tr_skip(&t, type); break;
		case 8: rc = type == TC_STRUCT ? read_data_page_v2(&t, h) : pqr_tr_skip(&t, type); break;
		default: rc = pqr_tr_skip(&t, type);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (h->type < 0 || h->uncompressed_size < 0 || h->compressed_size < 0)
		return pqr_tr_fail(&t, "missing or negative page type or sizes");
	*used = (size_t)(t.p - p);
	return 0;
}
