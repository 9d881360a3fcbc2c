/*
 * fuzz_value.c: libFuzzer target for text -> value parsing in batch/ and
 * base/: sl_column_append_text for every type, sl_decimal_parse,
 * sl_date_parse and sl_timestamp_parse. The first byte picks the type, the
 * second and third a decimal's precision and scale; the rest is the text.
 * Round trips are checked: a value that parses is formatted with
 * sl_column_format_value (and sl_timestamp_format_iso / sl_date_format),
 * and that text must parse back to the same value. Build from the
 * repository root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_value.c \
//   src/batch/*.c src/base/*.c -lm -lpthread -o /tmp/fuzz_value
// /tmp/fuzz_value -max_total_time=60 -rss_limit_mb=2048 /tmp/seeds-value
#include "batch/batch.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *in, size_t n, const char *out, size_t on)
{
	fprintf(stderr, "round trip broken (%s): '%.*s' -> '%.*s'\n", what, (int)n, in, (int)on,
		out);
	__builtin_trap();
}

static bool same_value(const sl_column *c, int64_t a, const sl_column *d, int64_t b)
{
	if (sl_column_is_null(c, a) != sl_column_is_null(d, b))
		return false;
	switch (c->type.id) {
	case SL_BOOL: return sl_bit_get(c->v.bits, a) == sl_bit_get(d->v.bits, b);
	case SL_INT32: case SL_DATE: return c->v.i32[a] == d->v.i32[b];
	case SL_INT64: case SL_TIMESTAMP: return c->v.i64[a] == d->v.i64[b];
	case SL_FLOAT64: {
		double x = c->v.f64[a], y = d->v.f64[b];
		if (isnan(x) || isnan(y))
			return isnan(x) && isnan(y);
		return memcmp(&x, &y, sizeof x) == 0; /* -0 stays -0 */
	}
	case SL_DECIMAL: return c->v.dec[a] == d->v.dec[b];
	case SL_STRING: {
		size_t n1, n2;
		const char *s1 = sl_column_str(c, a, &n1), *s2 = sl_column_str(d, b, &n2);
		return n1 == n2 && memcmp(s1, s2, n1) == 0;
	}
	}
	return false;
}

/* Parses text as a column of type t; when it parses, checks the round trip. */
static void column_round_trip(sl_type t, const char *s, size_t n)
{
	sl_schema *sc = sl_schema_new();
	sl_batch *b = NULL, *copy = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_buf text = SL_BUF_INIT;

	if (!sc || sl_schema_add(sc, "v", t, true) < 0 || sl_batch_new(&b, sc, 4, &err) < 0 ||
	    sl_batch_new(&copy, sc, 4, &err) < 0)
		goto out;
	sl_column *c = &b->cols[0];
	if (sl_column_append_text(c, s, n, &err) < 0) {
		if (err.code != SL_EINVAL || !err.message[0])
			__builtin_trap();
		goto out;
	}
	if (sl_column_format_value(c, 0, &text) < 0)
		__builtin_trap();
	const char *f = text.data ? text.data : "";
	sl_error_clear(&err);
	if (sl_column_append_text(c, f, text.len, &err) < 0)
		fail(err.message, s, n, f, text.len);
	if (!same_value(c, 0, c, 1))
		fail("different value", s, n, f, text.len);
	/* Copying keeps the value too (into another column: sl_column_append_from
	 * on itself reads a string from the buffer it grows). */
	if (sl_column_append_from(&copy->cols[0], c, 0) < 0 || !same_value(c, 0, &copy->cols[0], 0))
		__builtin_trap();
out:
	sl_buf_free(&text);
	sl_batch_free(copy);
	sl_batch_free(b);
	sl_schema_free(sc);
}

static void time_round_trips(const char *s, size_t n)
{
	int32_t d, d2;
	int64_t t, t2;
	char out[64];
	if (sl_date_parse(s, n, &d) == 0) {
		int len = sl_date_format(d, out);
		if (sl_date_parse(out, (size_t)len, &d2) < 0 || d2 != d)
			fail("date", s, n, out, (size_t)len);
		if (sl_timestamp_parse(s, n, &t) < 0 || t != (int64_t)d * SL_MICROS_PER_DAY)
			fail("date as timestamp", s, n, out, (size_t)len);
	}
	if (sl_timestamp_parse(s, n, &t) == 0) {
		int len = sl_timestamp_format_iso(t, out);
		if (sl_timestamp_parse(out, (size_t)len, &t2) < 0 || t2 != t)
			fail("timestamp iso", s, n, out, (size_t)len);
		len = sl_timestamp_format(t, out);
		if (sl_timestamp_parse(out, (size_t)len, &t2) < 0 || t2 != t)
			fail("timestamp", s, n, out, (size_t)len);
	}
}

static void decimal_round_trip(const char *s, size_t n, int p, int sc)
{
	sl_i128 v, v2;
	char out[64];
	if (sl_decimal_parse(s, n, p, sc, &v) < 0)
		return;
	if (v >= sl_i128_pow10(p) || v <= -sl_i128_pow10(p))
		__builtin_trap(); /* within precision */
	int len = sl_decimal_format(v, sc, out);
	if (len <= 0 || len >= 48)
		__builtin_trap();
	if (sl_decimal_parse(out, (size_t)len, p, sc, &v2) < 0 || v2 != v)
		fail("decimal", s, n, out, (size_t)len);
	/* A wider type holds it too, at a larger scale when there is room. */
	if (p < SL_DECIMAL_MAX_PRECISION &&
	    (sl_decimal_parse(s, n, p + 1, sc + 1, &v2) < 0 || v2 != v * 10))
		fail("decimal widened", s, n, out, (size_t)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int kind = data[0] % 9;
	int p = 1 + data[1] % SL_DECIMAL_MAX_PRECISION;
	int sc = data[2] % (p + 1);
	const char *s = (const char *)data + 3;
	size_t n = size - 3;

	switch (kind) {
	case 0: column_round_trip(sl_type_make(SL_BOOL), s, n); break;
	case 1: column_round_trip(sl_type_make(SL_INT32), s, n); break;
	case 2: column_round_trip(sl_type_make(SL_INT64), s, n); break;
	case 3: column_round_trip(sl_type_make(SL_FLOAT64), s, n); break;
	case 4:
		column_round_trip(sl_type_decimal(p, sc), s, n);
		decimal_round_trip(s, n, p, sc);
		break;
	case 5: column_round_trip(sl_type_make(SL_STRING), s, n); break;
	case 6:
		column_round_trip(sl_type_make(SL_DATE), s, n);
		time_round_trips(s, n);
		break;
	case 7:
		column_round_trip(sl_type_make(SL_TIMESTAMP), s, n);
		time_round_trips(s, n);
		break;
	default: {
		/* Every type in turn, like a CSV row through a mixed schema. */
		for (int t = SL_BOOL; t <= SL_TIMESTAMP; t++)
			column_round_trip(t == SL_DECIMAL ? sl_type_decimal(p, sc)
							  : sl_type_make((sl_type_id)t), s, n);
		decimal_round_trip(s, n, p, sc);
		time_round_trips(s, n);
		break;
	}
	}
	return 0;
}
