/*
 * thrift_read.h (private to formats/parquet): a bounds-checked reader of the
 * Thrift compact protocol, used to decode the footer and page headers.
 */
#ifndef SL_PARQUET_THRIFT_READ_H
#define SL_PARQUET_THRIFT_READ_H

#include "base/base.h"

/* Deepest struct/list nesting we follow; parquet.thrift needs about 8. */
#define PQR_TR_MAX_DEPTH 32

/*
 * A cursor over p[0..end). The first error is recorded in err (prefixed
 * with name and what: "f.parquet: corrupt footer: ...") and every later
 * call fails too, so parsers can check return codes lazily.
 */
typedef struct pqr_tr {
	const uint8_t *p;
	const uint8_t *end;
	int depth;
	const char *name; /* file name for messages */
	const char *what; /* "footer", "page header" */
	sl_error *err;
	int rc; /* 0 or the first error */
} pqr_tr;

void pqr_tr_init(pqr_tr *t, const void *p, size_t n, const char *name, const char *what,
		 sl_error *err);
/* Records an error (the first one wins) and returns SL_EFORMAT. */
int pqr_tr_fail(pqr_tr *t, const char *fmt, ...) SL_PRINTF(2, 3);

int pqr_tr_varint(pqr_tr *t, uint64_t *out);
int pqr_tr_i32(pqr_tr *t, int32_t *out);
int pqr_tr_i64(pqr_tr *t, int64_t *out);
/* Borrows a binary/string value (not NUL-terminated) from the buffer. */
int pqr_tr_binary(pqr_tr *t, const uint8_t **p, size_t *n);

/*
 * Reads the next field header of the current struct. *type is TC_STOP at
 * the end of the struct. last_id is the caller's per-struct state (start
 * at 0). For bool fields *type is TC_TRUE or TC_FALSE and carries the value.
 */
int pqr_tr_field(pqr_tr *t, int16_t *last_id, int *type, int16_t *id);
/* Reads a list/set header; count is checked against the bytes left. */
int pqr_tr_list(pqr_tr *t, int *elem_type, uint32_t *count);
/* Skips one value of the given type (structs, lists, maps recursively). */
int pqr_tr_skip(pqr_tr *t, int type);
/* Depth accounting around nested structs. */
int pqr_tr_enter(pqr_tr *t);
void pqr_tr_leave(pqr_tr *t);

/* Typed field readers: fail when the wire type does not match. */
int pqr_tr_field_i32(pqr_tr *t, int type, int32_t *out, const char *field);
int pqr_tr_field_i64(pqr_tr *t, int type, int64_t *out, const char *field);
int pqr_tr_field_bool(pqr_tr *t, int type, bool *out, const char *field);
int pqr_tr_field_binary(pqr_tr *t, int type, const uint8_t **p, size_t *n, const char *field);

#endif
