/* batch.c: column storage and the batch lifecycle. */
#include "batch.h"

#include <assert.h>
#include <stdio.h>

static size_t value_width(sl_type_id id)
{
	switch (id) {
	case SL_INT32: case SL_DATE: return 4;
	case SL_INT64: case SL_TIMESTAMP: case SL_FLOAT64: return 8;
	case SL_DECIMAL: return 16;
	default: return 0;
	}
}

static int column_init(sl_column *c, sl_type type, int64_t cap)
{
	size_t bitmap = (size_t)(cap + 7) / 8 + 8;
	c->type = type;
	c->capacity = cap;
	c->validity = sl_calloc(1, bitmap);
	if (!c->validity)
		return SL_ENOMEM;
	if (type.id == SL_BOOL) {
		c->v.bits = sl_calloc(1, bitmap);
	} else if (type.id == SL_STRING) {
		c->offsets = sl_calloc((size_t)cap + 1, sizeof(int32_t));
		c->v.raw = NULL;
		return c->offsets ? 0 : SL_ENOMEM;
	} else {
		c->v.raw = sl_malloc((size_t)cap * value_width(type.id));
	}
	return c->v.raw ? 0 : SL_ENOMEM;
}

static void column_free(sl_column *c)
{
	sl_free(c->validity);
	sl_free(c->v.raw);
	sl_free(c->offsets);
	sl_buf_free(&c->data);
}

int sl_batch_new(sl_batch **out, const sl_schema *schema, int64_t capacity, sl_error *err)
{
	sl_batch *b = sl_calloc(1, sizeof *b);
	if (!b)
		goto oom;
	if (capacity <= 0)
		capacity = SL_BATCH_DEFAULT_ROWS;
	b->capacity = capacity;
	b->schema = sl_schema_copy(schema);
	b->ncols = schema->nfields;
	b->cols = sl_calloc((size_t)(b->ncols ? b->ncols : 1), sizeof *b->cols);
	if (!b->schema || !b->cols)
		goto oom;
	for (int i = 0; i < b->ncols; i++)
		if (column_init(&b->cols[i], schema->fields[i].type, capacity) < 0)
			goto oom;
	*out = b;
	return 0;
oom:
	sl_batch_free(b);
	return sl_error_set(err, SL_ENOMEM, "out of memory allocating a batch of %lld rows",
			    (long long)capacity);
}

void sl_batch_free(sl_batch *b)
{
	if (!b)
		return;
	if (b->cols)
		for (int i = 0; i < b->ncols; i++)
			column_free(&b->cols[i]);
	sl_free(b->cols);
	sl_schema_free(b->schema);
	sl_free(b);
}

void sl_batch_reset(sl_batch *b)
{
	for (int i = 0; i < b->ncols; i++) {
		sl_column *c = &b->cols[i];
		c->length = 0;
		c->null_count = 0;
		if (c->type.id == SL_STRING) {
			c->offsets[0] = 0;
			sl_buf_reset(&c->data);
		}
	}
	b->nrows = 0;
}

void sl_batch_end_row(sl_batch *b)
{
#ifndef NDEBUG
	for (int i = 0; i < b->ncols; i++)
		assert(b->cols[i].length == b->nrows + 1);
#endif
	b->nrows++;
}

void sl_batch_discard_row(sl_batch *b)
{
	for (int i = 0; i < b->ncols; i++) {
		sl_column *c = &b->cols[i];
		while (c->length > b->nrows) {
			c->length--;
			if (!sl_bit_get(c->validity, c->length))
				c->null_count--;
		}
		if (c->type.id == SL_STRING)
			c->data.len = (size_t)c->offsets[c->length];
	}
}

size_t sl_batch_bytes(const sl_batch *b)
{
	size_t total = 0;
	for (int i = 0; i < b->ncols; i++) {
		const sl_column *c = &b->cols[i];
		total += (size_t)(c->length + 7) / 8;
		if (c->type.id == SL_STRING)
			total += c->data.len + 4 * (size_t)c->length;
		else if (c->type.id == SL_BOOL)
			total += (size_t)(c->length + 7) / 8;
		else
			total += value_width(c->type.id) * (size_t)c->length;
	}
	return total;
}

int sl_column_append_str(sl_column *c, const char *s, size_t n)
{
	if (c->data.len + n > INT32_MAX)
		return SL_ELIMIT;
	if (n) {
		int rc = sl_buf_append(&c->data, s, n);
		if (rc < 0)
			return rc;
	}
	sl_column_push_valid_(c);
	c->offsets[c->length + 1] = (int32_t)c->data.len;
	c->length++;
	return 0;
}

int sl_column_append_from(sl_column *dst, const sl_column *src, int64_t i)
{
	if (sl_column_is_null(src, i)) {
		sl_column_append_null(dst);
		return 0;
	}
	switch (src->type.id) {
	case SL_BOOL: sl_column_append_bool(dst, sl_bit_get(src->v.bits, i)); return 0;
	case SL_INT32: case SL_DATE: sl_column_append_i32(dst, src->v.i32[i]); return 0;
	case SL_INT64: case SL_TIMESTAMP: sl_column_append_i64(dst, src->v.i64[i]); return 0;
	case SL_FLOAT64: sl_column_append_f64(dst, src->v.f64[i]); return 0;
	case SL_DECIMAL: sl_column_append_dec(dst, src->v.dec[i]); return 0;
	case SL_STRING: {
		size_t n;
		const char *s = sl_column_str(src, i, &n);
		if (dst != src)
			return sl_column_append_str(dst, s, n);
		/* Appending to the column read from: its buffer may move. */
		char *copy = sl_strndup(s, n);
		if (!copy)
			return SL_ENOMEM;
		int rc = sl_column_append_str(dst, copy, n);
		sl_free(copy);
		return rc;
	}
	}
	return SL_EINTERNAL;
}
