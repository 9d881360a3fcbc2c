/*
 * thrift_write.c: the thrift compact protocol encoder the Parquet writer
 * uses for page headers and the footer (field deltas, zigzag varints).
 */
#include "formats/parquet/thrift_write.h"
#include "formats/parquet/parquet_format.h"

#include <string.h>

int sl_put_uvarint(sl_buf *b, uint64_t v)
{
	if (b->len + 11 > b->cap) {
		int rc = sl_buf_reserve(b, 10);
		if (rc < 0)
			return rc;
	}
	uint8_t *p = (uint8_t *)b->data + b->len;
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static void put_byte(sl_tw *t, uint8_t c)
{
	if (t->rc == 0 && sl_buf_putc(t->b, (char)c) < 0)
		t->rc = SL_ENOMEM;
}

static void put_uvarint(sl_tw *t, uint64_t v)
{
	if (t->rc == 0 && sl_put_uvarint(t->b, v) < 0)
		t->rc = SL_ENOMEM;
}

static void put_bytes(sl_tw *t, const void *p, size_t n)
{
	if (t->rc == 0 && sl_buf_append(t->b, p, n) < 0)
		t->rc = SL_ENOMEM;
}

static uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field_header(sl_tw *t, int id, int type)
{
	int16_t *last = &t->last[t->depth];
	int delta = id - *last;
	if (delta > 0 && delta <= 15) {
		put_byte(t, (uint8_t)(delta << 4 | type));
	} else {
		put_byte(t, (uint8_t)type);
		put_uvarint(t, zigzag64(id));
	}
	*last = (int16_t)id;
}

void sl_tw_init(sl_tw *t, sl_buf *b)
{
	memset(t, 0, sizeof *t);
	t->b = b;
}

void sl_tw_i16(sl_tw *t, int id, int16_t v)
{
	field_header(t, id, TC_I16);
	put_uvarint(t, zigzag64(v));
}

void sl_tw_i32(sl_tw *t, int id, int32_t v)
{
	field_header(t, id, TC_I32);
	put_uvarint(t, zigzag64(v));
}

void sl_tw_i64(sl_tw *t, int id, int64_t v)
{
	field_header(t, id, TC_I64);
	put_uvarint(t, zigzag64(v));
}

void sl_tw_bool(sl_tw *t, int id, bool v)
{
	field_header(t, id, v ? TC_TRUE : TC_FALSE);
}

void sl_tw_binary(sl_tw *t, int id, const void *p, size_t n)
{
	field_header(t, id, TC_BINARY);
	put_uvarint(t, n);
	put_bytes(t, p, n);
}

void sl_tw_string(sl_tw *t, int id, const char *s)
{
	sl_tw_binary(t, id, s, strlen(s));
}

static void push(sl_tw *t)
{
	if (t->depth + 1 >= TW_MAX_DEPTH) {
		if (t->rc == 0)
			t->rc = SL_EINTERNAL;
		return;
	}
	t->last[++t->depth] = 0;
}

void sl_tw_struct_begin(sl_tw *t, int id)
{
	field_header(t, id, TC_STRUCT);
	push(t);
}

void sl_tw_struct_end(sl_tw *t)
{
	put_byte(t, TC_STOP);
	if (t->depth > 0)
		t->depth--;
	else if (t->rc == 0)
		t->rc = SL_EINTERNAL;
}

void sl_tw_list_begin(sl_tw *t, int id, int elem, int32_t n)
{
	field_header(t, id, TC_LIST);
	if (n < 15) {
		put_byte(t, (uint8_t)(n << 4 | elem));
	} else {
		put_byte(t, (uint8_t)(0xF0 | elem));
		put_uvarint(t, (uint64_t)n);
	}
}

void sl_tw_elem_i32(sl_tw *t, int32_t v)
{
	put_uvarint(t, zigzag64(v));
}

void sl_tw_elem_binary(sl_tw *t, const void *p, size_t n)
{
	put_uvarint(t, n);
	put_bytes(t, p, n);
}

void sl_tw_elem_struct_begin(sl_tw *t)
{
	push(t);
}

void sl_tw_end(sl_tw *t)
{
	put_byte(t, TC_STOP);
	if (t->depth != 0 && t->rc == 0)
		t->rc = SL_EINTERNAL;
}
