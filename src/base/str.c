/* str.c: small string, number and UTF-8 helpers. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool sl_str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool sl_str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sl_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		/* Fast path over ASCII, 8 bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += len;
	}
	return true;
}

int sl_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sl_parse_int64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0;
	if (n == 0)
		return SL_EINVAL;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
		if (n == 1)
			return SL_EINVAL;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9)
			return SL_EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return SL_EINVAL;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return SL_EINVAL;
		*out = (int64_t)(0 - v);
	} else {
		if (v > (uint64_t)INT64_MAX)
			return SL_EINVAL;
		*out = (int64_t)v;
	}
	return 0;
}

int sl_parse_double(const char *s, size_t n, double *out)
{
	char tmp[128];
	char *end;
	if (n == 0 || n >= sizeof tmp)
		return SL_EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* strtod accepts hex and leading spaces; data files should not. */
	if (tmp[0] == ' ' || tmp[0] == '\t' || strchr(tmp, 'x') || strchr(tmp, 'X'))
		return SL_EINVAL;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + n)
		return SL_EINVAL;
	if (errno == ERANGE && isinf(v))
		return SL_EINVAL;
	*out = v;
	return 0;
}

void sl_format_bytes(uint64_t bytes, char *out, size_t outsz)
{
	static const char *units[] = {"B", "KB", "MB", "GB", "TB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, outsz, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, outsz, "%.1f %s", v, units[u]);
}

void sl_random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	size_t got = 0;
	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, raw, nbytes);
		got = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	for (size_t i = got; i < nbytes; i++)
		raw[i] = (unsigned char)(sl_now_micros() >> (i % 8) ^ (i * 131));
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	out[2 * nbytes] = '\0';
}

/* splitmix64: spreads a seed's bits so that near seeds give unrelated streams. */
static uint64_t mix64(uint64_t z)
{
	z += UINT64_C(0x9E3779B97F4A7C15);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

uint64_t sl_random_u64(void)
{
	static _Thread_local uint64_t x;
	if (!x) {
		/* Seeded once per thread: from the kernel when it answers, else
		 * from the clock, the process and the thread's own address. */
		uint64_t seed = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed)
				seed = 0;
			close(fd);
		}
		seed ^= (uint64_t)sl_now_micros() ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)&x;
		x = mix64(seed) | 1;
	}
	/* xorshift64*: retry jitter needs no more. */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * UINT64_C(2685821657736338717);
}

double sl_random01(void)
{
	return (double)(sl_random_u64() >> 11) / 9007199254740992.0;
}
