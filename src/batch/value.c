/* value.c: parsing text into typed column values and formatting them back. */
#include "batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

sl_i128 sl_i128_pow10(int n)
{
	sl_i128 v = 1;
	for (int i = 0; i < n; i++)
		v *= 10;
	return v;
}

int sl_decimal_parse(const char *s, size_t n, int precision, int scale, sl_i128 *out)
{
	size_t i = 0;
	bool neg = false, any = false, dot = false;
	sl_i128 v = 0;
	int intdigits = 0, fracdigits = 0;
	long exp = 0;

	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i++;
	}
	for (; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			any = true;
			if (dot)
				fracdigits++;
			else if (intdigits || c != '0')
				intdigits++;
			/* 38 digits fit an int128 (10^38 < 2^127);
			 * more can never fit a decimal(38). Leading zeros of the
			 * integer part do not count: v stays 0 while they come. */
			if (intdigits + fracdigits > 38)
				return SL_EINVAL;
			v = v * 10 + (c - '0');
		} else if (c == '.' && !dot) {
			dot = true;
		} else if ((c == 'e' || c == 'E') && any) {
			int64_t e;
			if (sl_parse_int64(s + i + 1, n - i - 1, &e) < 0 || e > 40 || e < -40)
				return SL_EINVAL;
			exp = (long)e;
			i = n;
			break;
		} else {
			return SL_EINVAL;
		}
	}
	if (!any)
		return SL_EINVAL;
	/* value = v * 10^(exp - fracdigits); target = value * 10^scale */
	long shift = (long)scale + exp - fracdigits;
	if (shift < 0) {
		/* Dropping digits is allowed only when they are zeros. */
		for (long k = 0; k < -shift; k++) {
			if (v % 10 != 0)
				return SL_EINVAL;
			v /= 10;
		}
	} else {
		for (long k = 0; k < shift; k++) {
			if (v >= sl_i128_pow10(37))
				return SL_EINVAL;
			v *= 10;
		}
	}
	if (v >= sl_i128_pow10(precision))
		return SL_EINVAL;
	*out = neg ? -v : v;
	return 0;
}

int sl_decimal_format(sl_i128 v, int scale, char *out)
{
	char digits[48];
	int nd = 0, n = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
	do {
		digits[nd++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (nd <= scale)
		digits[nd++] = '0';
	if (neg)
		out[n++] = '-';
	for (int i = nd - 1; i >= 0; i--) {
		out[n++] = digits[i];
		if (i == scale && scale > 0)
			out[n++] = '.';
	}
	out[n] = '\0';
	return n;
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
static int sl_double_format(double d, char *out)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, 40, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	return n;
}

static int parse_bool(const char *s, size_t n, bool *out)
{
	static const char *yes[] = {"true", "t", "1", "yes", "y"};
	static const char *no[] = {"false", "f", "0", "no", "n"};
	for (size_t i = 0; i < 5; i++) {
		if (n == strlen(yes[i]) && strncasecmp(s, yes[i], n) == 0) {
			*out = true;
			return 0;
		}
		if (n == strlen(no[i]) && strncasecmp(s, no[i], n) == 0) {
			*out = false;
			return 0;
		}
	}
	return SL_EINVAL;
}

static int bad_value(sl_error *err, sl_type t, const char *s, size_t n)
{
	char tn[32];
	sl_type_name(t, tn, sizeof tn);
	if (n > 60)
		return sl_error_set(err, SL_EINVAL, "'%.60s...' is not a valid %s", s, tn);
	return sl_error_set(err, SL_EINVAL, "'%.*s' is not a valid %s", (int)n, s, tn);
}

int sl_column_append_text(sl_column *c, const char *s, size_t n, sl_error *err)
{
	switch (c->type.id) {
	case SL_BOOL: {
		bool b;
		if (parse_bool(s, n, &b) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_bool(c, b);
		return 0;
	}
	case SL_INT32: {
		int64_t v;
		if (sl_parse_int64(s, n, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
			return bad_value(err, c->type, s, n);
		sl_column_append_i32(c, (int32_t)v);
		return 0;
	}
	case SL_INT64: {
		int64_t v;
		if (sl_parse_int64(s, n, &v) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_i64(c, v);
		return 0;
	}
	case SL_FLOAT64: {
		double v;
		if (sl_parse_double(s, n, &v) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_f64(c, v);
		return 0;
	}
	case SL_DECIMAL: {
		sl_i128 v;
		if (sl_decimal_parse(s, n, c->type.precision, c->type.scale, &v) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_dec(c, v);
		return 0;
	}
	case SL_DATE: {
		int32_t d;
		if (sl_date_parse(s, n, &d) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_i32(c, d);
		return 0;
	}
	case SL_TIMESTAMP: {
		int64_t t;
		if (sl_timestamp_parse(s, n, &t) < 0)
			return bad_value(err, c->type, s, n);
		sl_column_append_i64(c, t);
		return 0;
	}
	case SL_STRING:
		if (!sl_utf8_valid(s, n))
			return sl_error_set(err, SL_EINVAL, "invalid UTF-8");
		if (sl_column_append_str(c, s, n) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory appending a string");
		return 0;
	}
	return sl_error_set(err, SL_EINTERNAL, "unknown type");
}

int sl_column_format_value(const sl_column *c, int64_t i, sl_buf *out)
{
	char tmp[64];
	int n;
	if (sl_column_is_null(c, i))
		return 0;
	switch (c->type.id) {
	case SL_BOOL:
		return sl_buf_puts(out, sl_bit_get(c->v.bits, i) ? "true" : "false");
	case SL_INT32: n = snprintf(tmp, sizeof tmp, "%d", c->v.i32[i]); break;
	case SL_INT64: n = snprintf(tmp, sizeof tmp, "%lld", (long long)c->v.i64[i]); break;
	case SL_FLOAT64: {
		double d = c->v.f64[i];
		if (isnan(d))
			n = snprintf(tmp, sizeof tmp, "NaN");
		else if (isinf(d))
			n = snprintf(tmp, sizeof tmp, d > 0 ? "Infinity" : "-Infinity");
		else
			n = sl_double_format(d, tmp);
		break;
	}
	case SL_DECIMAL: n = sl_decimal_format(c->v.dec[i], c->type.scale, tmp); break;
	case SL_DATE: n = sl_date_format(c->v.i32[i], tmp); break;
	case SL_TIMESTAMP: n = sl_timestamp_format(c->v.i64[i], tmp); break;
	case SL_STRING: {
		size_t len;
		const char *s = sl_column_str(c, i, &len);
		return sl_buf_append(out, s, len);
	}
	default: return SL_EINTERNAL;
	}
	return sl_buf_append(out, tmp, (size_t)n);
}
