/*
 * postgres_types.c: PostgreSQL type OIDs to sluice types, COPY text-format
 * field decoding, and cursor values (ordered as int64) for watermarks.
 */
#include "sources/pg_int.h"

#include <stdio.h>

/* Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions. */
enum {
	PG_BOOL = 16,
	PG_NAME = 19,
	PG_INT8 = 20,
	PG_INT2 = 21,
	PG_INT4 = 23,
	PG_TEXT = 25,
	PG_OID = 26,
	PG_JSON = 114,
	PG_FLOAT4 = 700,
	PG_FLOAT8 = 701,
	PG_BPCHAR = 1042,
	PG_VARCHAR = 1043,
	PG_DATE = 1082,
	PG_TIMESTAMP = 1114,
	PG_TIMESTAMPTZ = 1184,
	PG_NUMERIC = 1700,
	PG_UUID = 2950,
	PG_JSONB = 3802,
	PG_CHAR = 18,
};

int sl_pg_map_type(Oid oid, int typmod, char category, sl_type *out)
{
	switch (oid) {
	case PG_BOOL: *out = sl_type_make(SL_BOOL); return 0;
	case PG_INT2: case PG_INT4: *out = sl_type_make(SL_INT32); return 0;
	case PG_INT8: case PG_OID: *out = sl_type_make(SL_INT64); return 0;
	case PG_FLOAT4: case PG_FLOAT8: *out = sl_type_make(SL_FLOAT64); return 0;
	case PG_TEXT: case PG_VARCHAR: case PG_BPCHAR: case PG_CHAR: case PG_NAME:
	case PG_UUID: case PG_JSON: case PG_JSONB:
		*out = sl_type_make(SL_STRING);
		return 0;
	case PG_DATE: *out = sl_type_make(SL_DATE); return 0;
	case PG_TIMESTAMP: case PG_TIMESTAMPTZ: *out = sl_type_make(SL_TIMESTAMP); return 0;
	case PG_NUMERIC: {
		if (typmod < 4) {
			*out = sl_type_decimal(SL_PG_NUMERIC_DEFAULT_PRECISION,
					       SL_PG_NUMERIC_DEFAULT_SCALE);
			return 0;
		}
		/* typmod = ((precision << 16) | (scale & 0x7ff)) + VARHDRSZ, the
		 * scale sign-extended from 11 bits (negative scales, PG 15+). */
		int p = ((typmod - 4) >> 16) & 0xffff;
		int s = (typmod - 4) & 0x7ff;
		if (s & 0x400)
			s -= 0x800;
		if (p < 1 || p > SL_DECIMAL_MAX_PRECISION || s < 0 || s > p)
			return SL_EINVAL;
		*out = sl_type_decimal(p, s);
		return 0;
	}
	}
	/* Arrays are selected through array_to_json; enums and string-category
	 * types (citext, ...) have plain text values. */
	if (category == 'A' || category == 'E' || category == 'S') {
		*out = sl_type_make(SL_STRING);
		return 0;
	}
	return SL_EINVAL;
}

static int octal(char c) { return c >= '0' && c <= '7' ? c - '0' : -1; }


/* COPY text format: \N is NULL; \b \f \n \r \t \v \\, \ooo and \xhh. */
int sl_pg_copy_field(const char *s, size_t n, sl_buf *out)
{
	sl_buf_reset(out);
	if (n == 2 && s[0] == '\\' && s[1] == 'N')
		return 1;
	int rc = sl_buf_reserve(out, n);
	if (rc < 0)
		return rc;
	char *d = out->data;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c != '\\' || i + 1 >= n) {
			d[j++] = c;
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'b': d[j++] = '\b'; break;
		case 'f': d[j++] = '\f'; break;
		case 'n': d[j++] = '\n'; break;
		case 'r': d[j++] = '\r'; break;
		case 't': d[j++] = '\t'; break;
		case 'v': d[j++] = '\v'; break;
		case 'x': {
			int v = 0, k = 0;
			while (k < 2 && i + 1 < n && sl_hex_digit(s[i + 1]) >= 0)
				v = v * 16 + sl_hex_digit(s[++i]), k++;
			d[j++] = k ? (char)v : 'x';
			break;
		}
		default:
			if (octal(c) >= 0) {
				int v = octal(c), k = 1;
				while (k < 3 && i + 1 < n && octal(s[i + 1]) >= 0)
					v = v * 8 + octal(s[++i]), k++;
				d[j++] = (char)v;
			} else {
				d[j++] = c;
			}
		}
	}
	out->len = j;
	d[j] = '\0';
	return 0;
}

bool sl_pg_cursor_type_ok(sl_type t)
{
	return t.id == SL_INT32 || t.id == SL_INT64 || t.id == SL_DATE || t.id == SL_TIMESTAMP;
}

int sl_pg_cursor_parse(sl_type t, const char *s, int64_t *out)
{
	size_t n = strlen(s);
	switch (t.id) {
	case SL_INT32: case SL_INT64: return sl_parse_int64(s, n, out);
	case SL_DATE: {
		int32_t d;
		int rc = sl_date_parse(s, n, &d);
		if (rc == 0)
			*out = d;
		return rc;
	}
	case SL_TIMESTAMP: return sl_timestamp_parse(s, n, out);
	default: return SL_EINVAL;
	}
}

void sl_pg_cursor_format(sl_type t, int64_t v, char *out, size_t n)
{
	char tmp[48];
	switch (t.id) {
	case SL_DATE: sl_date_format((int32_t)v, tmp); break;
	case SL_TIMESTAMP: sl_timestamp_format(v, tmp); break;
	default: snprintf(tmp, sizeof tmp, "%lld", (long long)v); break;
	}
	snprintf(out, n, "%s", tmp);
}
