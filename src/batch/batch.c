/* batch.c: column storage and the batch lifecycle. */
#include "batch.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static size_t value_width(sl_type_id id)
{
	switch (id) {
	case SL_INT32: case SL_DATE: return 4;
	case SL_INT64: case SL_TIMESTAMP: case SL_FLOAT64: return 8;
	case SL_DECIMAL: return 16;
	default: return 0;
	}
}

/*
 * Columns hold room for c->capacity rows and grow by doubling up to the
 * batch's capacity, so a batch of many columns and few rows costs memory
 * for the rows it holds, not for 64K rows of every column.
 */
static int column_grow(sl_column *c, int64_t rows)
{
	if (rows <= c->capacity)
		return 0;
	size_t old_bitmap = c->validity ? (size_t)(c->capacity + 7) / 8 + 8 : 0;
	size_t bitmap = (size_t)(rows + 7) / 8 + 8;
	uint8_t *v = sl_realloc(c->validity, bitmap);
	if (!v)
		return SL_ENOMEM;
	memset(v + old_bitmap, 0, bitmap - old_bitmap);
	c->validity = v;
	if (c->type.id == SL_BOOL) {
		uint8_t *bits = sl_realloc(c->v.bits, bitmap);
		if (!bits)
			return SL_ENOMEM;
		memset(bits + old_bitmap, 0, bitmap - old_bitmap);
		c->v.bits = bits;
	} else if (c->type.id == SL_STRING) {
		int32_t *off = sl_realloc(c->offsets, ((size_t)rows + 1) * sizeof *off);
		if (!off)
			return SL_ENOMEM;
		if (!c->offsets)
			off[0] = 0;
		c->offsets = off;
	} else {
		void *raw = sl_realloc(c->v.raw, (size_t)rows * value_width(c->type.id));
		if (!raw)
			return SL_ENOMEM;
		c->v.raw = raw;
	}
	c->capacity = rows;
	return 0;
}

/*
 * Rows every column gets room for at first: the whole capacity for narrow
 * batches, fewer as columns multiply (about 4 MiB of 8-byte values), and at
 * least 64.
 */
static int64_t initial_rows(int ncols, int64_t capacity)
{
	int64_t rows = ((int64_t)4 << 20) / 8 / (ncols > 0 ? ncols : 1);
	if (rows < 64)
		rows = 64;
	return rows < capacity ? rows : capacity;
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
	int64_t rows = initial_rows(b->ncols, capacity);
	for (int i = 0; i < b->ncols; i++) {
		b->cols[i].type = schema->fields[i].type;
		if (column_grow(&b->cols[i], rows) < 0)
			goto oom;
	}
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

int sl_batch_reserve(sl_batch *b, int64_t rows, sl_error *err)
{
	if (rows > b->capacity)
		return sl_error_set(err, SL_EINVAL, "a batch of %lld rows cannot hold %lld",
				    (long long)b->capacity, (long long)rows);
	for (int i = 0; i < b->ncols; i++)
		if (column_grow(&b->cols[i], rows) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory growing a batch to %lld "
					    "rows of %d columns", (long long)rows, b->ncols);
	return 0;
}

void sl_batch_end_row(sl_batch *b)
{
#ifndef NDEBUG
	for (int i = 0; i < b->ncols; i++)
		assert(b->cols[i].length == b->nrows + 1);
#endif
	b->nrows++;
	if (b->nrows < b->capacity && b->ncols > 0 && b->nrows >= b->cols[0].capacity) {
		int64_t want = b->cols[0].capacity * 2;
		if (want > b->capacity)
			want = b->capacity;
		/* Out of memory: the batch is full early; its producer emits it. */
		if (sl_batch_reserve(b, want, NULL) < 0)
			b->capacity = b->nrows;
	}
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
