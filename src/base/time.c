/* time.c: ISO-8601 dates and timestamps, clocks, durations. */
#include "base.h"

#include <stdio.h>
#include <time.h>

/* Howard Hinnant's days-from-civil algorithm (public domain arithmetic). */
int32_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

void sl_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
	unsigned v = 0;
	if (at + count > n)
		return -1;
	for (size_t i = 0; i < count; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*out = v;
	return 0;
}

/* Parses the date prefix; returns characters consumed or -1. */
static int date_prefix(const char *s, size_t n, int32_t *days)
{
	unsigned y, m, d;
	if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &m) ||
	    s[7] != '-' || digits(s, n, 8, 2, &d))
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = sl_days_from_civil(y, m, d);
	return 10;
}

int sl_date_parse(const char *s, size_t n, int32_t *days)
{
	int used = date_prefix(s, n, days);
	return used == 10 && n == 10 ? 0 : SL_EINVAL;
}

/* The instants with a 4-digit UTC year: 0000-01-01 to 9999-12-31T23:59:59.999999. */
#define TS_MIN (INT64_C(-719528) * SL_MICROS_PER_DAY)
#define TS_MAX (INT64_C(2932897) * SL_MICROS_PER_DAY - 1)

int sl_timestamp_parse(const char *s, size_t n, int64_t *micros)
{
	int32_t days;
	unsigned hh = 0, mi = 0, ss = 0;
	int64_t frac = 0, offset = 0;
	size_t i;

	if (date_prefix(s, n, &days) != 10)
		return SL_EINVAL;
	i = 10;
	if (i < n) {
		if (s[i] != 'T' && s[i] != ' ')
			return SL_EINVAL;
		i++;
		if (digits(s, n, i, 2, &hh) || i + 2 >= n || s[i + 2] != ':' ||
		    digits(s, n, i + 3, 2, &mi))
			return SL_EINVAL;
		i += 5;
		if (i < n && s[i] == ':') {
			if (digits(s, n, i + 1, 2, &ss))
				return SL_EINVAL;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				int nd = 0;
				i++;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					if (nd < 6) {
						frac = frac * 10 + (s[i] - '0');
						nd++;
					}
					i++;
				}
				if (nd == 0)
					return SL_EINVAL;
				while (nd++ < 6)
					frac *= 10;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return SL_EINVAL;
		if (i < n) {
			if (s[i] == 'Z' && i + 1 == n) {
				i++;
			} else if (s[i] == '+' || s[i] == '-') {
				unsigned oh, om = 0;
				int sign = s[i] == '-' ? -1 : 1;
				if (digits(s, n, i + 1, 2, &oh))
					return SL_EINVAL;
				i += 3;
				if (i < n && s[i] == ':')
					i++;
				if (i < n) {
					if (digits(s, n, i, 2, &om))
						return SL_EINVAL;
					i += 2;
				}
				if (oh > 23 || om > 59)
					return SL_EINVAL;
				offset = sign * ((int64_t)oh * 3600 + om * 60);
			}
		}
		if (i != n)
			return SL_EINVAL;
	}
	int64_t t = (int64_t)days * SL_MICROS_PER_DAY +
		    ((int64_t)hh * 3600 + mi * 60 + ss - offset) * SL_MICROS_PER_SEC + frac;
	/*
	 * An offset or a leap second can move a time at either end of years
	 * 0000..9999 into year -1 or 10000, which sl_timestamp_format writes
	 * as text nothing parses back: refuse those instants.
	 */
	if (t < TS_MIN || t > TS_MAX)
		return SL_EINVAL;
	*micros = t;
	return 0;
}

int sl_date_format(int32_t days, char *out)
{
	int64_t y;
	unsigned m, d;
	sl_civil_from_days(days, &y, &m, &d);
	return snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}

static int ts_format(int64_t micros, char *out, char sep, bool zulu)
{
	int64_t days = micros / SL_MICROS_PER_DAY;
	int64_t rem = micros % SL_MICROS_PER_DAY;
	if (rem < 0) {
		rem += SL_MICROS_PER_DAY;
		days--;
	}
	int64_t secs = rem / SL_MICROS_PER_SEC, us = rem % SL_MICROS_PER_SEC;
	int n = sl_date_format((int32_t)days, out);
	n += snprintf(out + n, 40 - n, "%c%02d:%02d:%02d", sep, (int)(secs / 3600),
		      (int)(secs / 60 % 60), (int)(secs % 60));
	if (us)
		n += snprintf(out + n, 40 - n, ".%06lld", (long long)us);
	if (zulu)
		n += snprintf(out + n, 40 - n, "Z");
	return n;
}

int sl_timestamp_format(int64_t micros, char *out) { return ts_format(micros, out, ' ', false); }
int sl_timestamp_format_iso(int64_t micros, char *out) { return ts_format(micros, out, 'T', true); }

int64_t sl_now_micros(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SL_MICROS_PER_SEC + ts.tv_nsec / 1000;
}

double sl_monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int sl_duration_parse(const char *s, int64_t *micros)
{
	int64_t total = 0;
	if (!s || !*s)
		return SL_EINVAL;
	while (*s) {
		int64_t v = 0;
		if (*s < '0' || *s > '9')
			return SL_EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (v > INT64_MAX / 10 - 10)
				return SL_EINVAL;
			v = v * 10 + (*s++ - '0');
		}
		int64_t unit;
		switch (*s) {
		case 's': unit = SL_MICROS_PER_SEC; break;
		case 'm': unit = 60 * SL_MICROS_PER_SEC; break;
		case 'h': unit = 3600 * SL_MICROS_PER_SEC; break;
		case 'd': unit = SL_MICROS_PER_DAY; break;
		default: return SL_EINVAL;
		}
		s++;
		/* Refuse what does not fit rather than wrap to a negative or
		 * tiny duration. */
		if (v > (INT64_MAX - total) / unit)
			return SL_EINVAL;
		total += v * unit;
	}
	*micros = total;
	return 0;
}
