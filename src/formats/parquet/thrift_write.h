/*
 * thrift_write.h (private to the parquet writer): a thrift compact protocol
 * encoder appending to an sl_buf. Errors are sticky: check tw.rc at the end.
 */
#ifndef SL_PARQUET_THRIFT_WRITE_H
#define SL_PARQUET_THRIFT_WRITE_H

#include "base/base.h"

#define TW_MAX_DEPTH 16

typedef struct sl_tw {
	sl_buf *b;
	int rc;                       /* 0 or the first error (SL_ENOMEM, SL_EINTERNAL) */
	int depth;
	int16_t last[TW_MAX_DEPTH];   /* last field id per open struct */
} sl_tw;

/* Starts encoding a top-level struct (or a list element struct) into b. */
void sl_tw_init(sl_tw *t, sl_buf *b);

void sl_tw_i16(sl_tw *t, int id, int16_t v);
void sl_tw_i32(sl_tw *t, int id, int32_t v);
void sl_tw_i64(sl_tw *t, int id, int64_t v);
void sl_tw_bool(sl_tw *t, int id, bool v);
void sl_tw_binary(sl_tw *t, int id, const void *p, size_t n);
void sl_tw_string(sl_tw *t, int id, const char *s);
/* Opens a struct field; close it with sl_tw_struct_end. */
void sl_tw_struct_begin(sl_tw *t, int id);
/* Writes the stop byte of the innermost open struct. */
void sl_tw_struct_end(sl_tw *t);
/* Opens a list field of n elements of thrift compact type elem (TC_*). */
void sl_tw_list_begin(sl_tw *t, int id, int elem, int32_t n);
/* List elements. */
void sl_tw_elem_i32(sl_tw *t, int32_t v);
void sl_tw_elem_binary(sl_tw *t, const void *p, size_t n);
/* Opens a struct that is a list element; close with sl_tw_struct_end. */
void sl_tw_elem_struct_begin(sl_tw *t);
/* Ends the top-level struct (stop byte). */
void sl_tw_end(sl_tw *t);

/* Appends an unsigned LEB128 varint to b; 0 or SL_ENOMEM. */
int sl_put_uvarint(sl_buf *b, uint64_t v);

#endif
