/*
 * thrift_read.c: decoding of the Thrift compact protocol with strict bounds
 * checks. Every length and count is checked against the bytes that remain,
 * so corrupt input fails with SL_EFORMAT instead of reading out of bounds or
 * allocating without limit; nesting is capped at PQR_TR_MAX_DEPTH.
 */
#include "formats/parquet/thrift_read.h"
#include "formats/parquet/parquet_format.h"

#include <stdio.h>

void pqr_tr_init(pqr_tr *t, const void *p, size_t n, const char *name, const char *what,
		 sl_error *err)
{
	t->p = p;
	t->end = t->p + n;
	t->depth = 0;
	t->name = name;
	t->what = what;
	t->err = err;
	t->rc = 0;
}

int pqr_tr_fail(pqr_tr *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (t->rc)
		return t->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	t->rc = sl_error_set(t->err, SL_EFORMAT, "%s: corrupt %s: %s", t->name, t->what, msg);
	return t->rc;
}

static size_t left(const pqr_tr *t) { return (size_t)(t->end - t->p); }

int pqr_tr_varint(pqr_tr *t, uint64_t *out)
{
	uint64_t v = 0;
	if (t->rc)
		return t->rc;
	for (int shift = 0; shift < 70; shift += 7) {
		if (t->p >= t->end)
			return pqr_tr_fail(t, "truncated varint");
		uint8_t b = *t->p++;
		if (shift == 63 && (b & 0x7e))
			return pqr_tr_fail(t, "varint overflows 64 bits");
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return pqr_tr_fail(t, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

int pqr_tr_i64(pqr_tr *t, int64_t *out)
{
	uint64_t v = 0;
	int rc = pqr_tr_varint(t, &v);
	if (rc < 0)
		return rc;
	*out = unzigzag(v);
	return 0;
}

int pqr_tr_i32(pqr_tr *t, int32_t *out)
{
	int64_t v = 0;
	int rc = pqr_tr_i64(t, &v);
	if (rc < 0)
		return rc;
	if (v < INT32_MIN || v > INT32_MAX)
		return pqr_tr_fail(t, "i32 value %lld out of range", (long long)v);
	*out = (int32_t)v;
	return 0;
}

int pqr_tr_binary(pqr_tr *t, const uint8_t **p, size_t *n)
{
	uint64_t len = 0;
	int rc = pqr_tr_varint(t, &len);
	if (rc < 0)
		return rc;
	if (len > left(t))
		return pqr_tr_fail(t, "string of %llu bytes but only %zu bytes left",
				   (unsigned long long)len, left(t));
	*p = t->p;
	*n = (size_t)len;
	t->p += len;
	return 0;
}

int pqr_tr_field(pqr_tr *t, int16_t *last_id, int *type, int16_t *id)
{
	if (t->rc)
		return t->rc;
	if (t->p >= t->end)
		return pqr_tr_fail(t, "truncated struct (no stop field)");
	uint8_t b = *t->p++;
	*type = b & 0x0f;
	if (*type == TC_STOP) {
		*id = 0;
		return 0;
	}
	if (*type > TC_STRUCT)
		return pqr_tr_fail(t, "unknown field type %d", *type);
	int delta = b >> 4;
	if (delta) {
		*id = (int16_t)(*last_id + delta);
	} else {
		int64_t v = 0;
		int rc = pqr_tr_i64(t, &v);
		if (rc < 0)
			return rc;
		if (v < INT16_MIN || v > INT16_MAX)
			return pqr_tr_fail(t, "field id %lld out of range", (long long)v);
		*id = (int16_t)v;
	}
	*last_id = *id;
	return 0;
}

/* Smallest encoded size of one value of a wire type, to bound counts. */
static size_t min_size(int type) { return type == TC_DOUBLE ? 8 : 1; }

int pqr_tr_list(pqr_tr *t, int *elem_type, uint32_t *count)
{
	if (t->rc)
		return t->rc;
	if (t->p >= t->end)
		return pqr_tr_fail(t, "truncated list header");
	uint8_t b = *t->p++;
	uint64_t n = b >> 4;
	*elem_type = b & 0x0f;
	if (n == 15) {
		int rc = pqr_tr_varint(t, &n);
		if (rc < 0)
			return rc;
	}
	if (*elem_type == TC_STOP || *elem_type > TC_STRUCT)
		return pqr_tr_fail(t, "unknown list element type %d", *elem_type);
	if (n > left(t) / min_size(*elem_type))
		return pqr_tr_fail(t, "list of %llu elements but only %zu bytes left",
				   (unsigned long long)n, left(t));
	*count = (uint32_t)n;
	return 0;
}

int pqr_tr_enter(pqr_tr *t)
{
	if (t->rc)
		return t->rc;
	if (++t->depth > PQR_TR_MAX_DEPTH)
		return pqr_tr_fail(t, "nesting deeper than %d levels", PQR_TR_MAX_DEPTH);
	return 0;
}

void pqr_tr_leave(pqr_tr *t) { t->depth--; }

static int skip_bytes(pqr_tr *t, size_t n)
{
	if (n > left(t))
		return pqr_tr_fail(t, "truncated value");
	t->p += n;
	return 0;
}

int pqr_tr_skip(pqr_tr *t, int type)
{
	uint64_t v = 0;
	const uint8_t *bp;
	size_t bn;
	int rc = 0;

	if (t->rc)
		return t->rc;
	switch (type) {
	case TC_TRUE:
	case TC_FALSE:
		return 0; /* a bool field's value lives in its type nibble */
	case TC_BYTE: return skip_bytes(t, 1);
	case TC_I16:
	case TC_I32:
	case TC_I64: return pqr_tr_varint(t, &v);
	case TC_DOUBLE: return skip_bytes(t, 8);
	case TC_BINARY: return pqr_tr_binary(t, &bp, &bn);
	case TC_LIST:
	case TC_SET: {
		int et = 0;
		uint32_t n = 0;
		if ((rc = pqr_tr_enter(t)) < 0 || (rc = pqr_tr_list(t, &et, &n)) < 0)
			return rc;
		for (uint32_t i = 0; i < n && rc == 0; i++)
			rc = (et == TC_TRUE || et == TC_FALSE) ? skip_bytes(t, 1) : pqr_tr_skip(t, et);
		pqr_tr_leave(t);
		return rc;
	}
	case TC_MAP: {
		if ((rc = pqr_tr_enter(t)) < 0 || (rc = pqr_tr_varint(t, &v)) < 0)
			return rc;
		if (v) {
			if (t->p >= t->end)
				return pqr_tr_fail(t, "truncated map header");
			uint8_t kv = *t->p++;
			int kt = kv >> 4, vt = kv & 0x0f;
			if (kt == TC_STOP || kt > TC_STRUCT || vt == TC_STOP || vt > TC_STRUCT)
				return pqr_tr_fail(t, "unknown map key/value types %d/%d", kt, vt);
			if (v > left(t) / 2)
				return pqr_tr_fail(t, "map of %llu entries but only %zu bytes left",
						   (unsigned long long)v, left(t));
			for (uint64_t i = 0; i < v && rc == 0; i++) {
				rc = (kt == TC_TRUE || kt == TC_FALSE) ? skip_bytes(t, 1) : pqr_tr_skip(t, kt);
				if (rc == 0)
					rc = (vt == TC_TRUE || vt == TC_FALSE) ? skip_bytes(t, 1)
									       : pqr_tr_skip(t, vt);
			}
		}
		pqr_tr_leave(t);
		return rc;
	}
	case TC_STRUCT: {
		int16_t last = 0, id;
		int ft = 0;
		if ((rc = pqr_tr_enter(t)) < 0)
			return rc;
		for (;;) {
			if ((rc = pqr_tr_field(t, &last, &ft, &id)) < 0)
				return rc;
			if (ft == TC_STOP)
				break;
			if ((rc = pqr_tr_skip(t, ft)) < 0)
				return rc;
		}
		pqr_tr_leave(t);
		return 0;
	}
	default:
		return pqr_tr_fail(t, "unknown type %d", type);
	}
}

int pqr_tr_field_i32(pqr_tr *t, int type, int32_t *out, const char *field)
{
	if (type == TC_BYTE) {
		if (t->p >= t->end)
			return pqr_tr_fail(t, "truncated %s", field);
		*out = (int8_t)*t->p++;
		return 0;
	}
	if (type != TC_I32 && type != TC_I16)
		return pqr_tr_fail(t, "%s has wire type %d, expected an integer", field, type);
	return pqr_tr_i32(t, out);
}

int pqr_tr_field_i64(pqr_tr *t, int type, int64_t *out, const char *field)
{
	if (type != TC_I64 && type != TC_I32 && type != TC_I16)
		return pqr_tr_fail(t, "%s has wire type %d, expected an integer", field, type);
	return pqr_tr_i64(t, out);
}

int pqr_tr_field_bool(pqr_tr *t, int type, bool *out, const char *field)
{
	if (type != TC_TRUE && type != TC_FALSE)
		return pqr_tr_fail(t, "%s has wire type %d, expected a bool", field, type);
	*out = type == TC_TRUE;
	return 0;
}

int pqr_tr_field_binary(pqr_tr *t, int type, const uint8_t **p, size_t *n, const char *field)
{
	if (type != TC_BINARY)
		return pqr_tr_fail(t, "%s has wire type %d, expected a string", field, type);
	return pqr_tr_binary(t, p, n);
}
