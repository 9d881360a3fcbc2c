/* buf.c: growable, optionally capped byte buffers. */
#include "base.h"

#include <stdio.h>
#include <string.h>

int sl_buf_reserve(sl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	if (b->max && need > b->max + 1)
		return SL_ELIMIT;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (b->max && cap > b->max + 1)
		cap = b->max + 1;
	char *d = sl_realloc(b->data, cap);
	if (!d)
		return SL_ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

int sl_buf_append(sl_buf *b, const void *p, size_t n)
{
	int rc = sl_buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_puts(sl_buf *b, const char *s) { return sl_buf_append(b, s, strlen(s)); }

int sl_buf_putc(sl_buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		int rc = sl_buf_reserve(b, 1);
		if (rc < 0)
			return rc;
	}
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	int rc = n < 0 ? SL_EINVAL : sl_buf_reserve(b, (size_t)n);
	if (rc == 0) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
	return rc;
}

int sl_buf_put_json_string(sl_buf *b, const char *s, size_t n)
{
	int rc = sl_buf_putc(b, '"');
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = sl_buf_append(b, "\\\"", 2); break;
		case '\\': rc = sl_buf_append(b, "\\\\", 2); break;
		case '\n': rc = sl_buf_append(b, "\\n", 2); break;
		case '\r': rc = sl_buf_append(b, "\\r", 2); break;
		case '\t': rc = sl_buf_append(b, "\\t", 2); break;
		default:
			if (c < 0x20)
				rc = sl_buf_printf(b, "\\u%04x", c);
			else
				rc = sl_buf_putc(b, (char)c);
		}
	}
	return rc ? rc : sl_buf_putc(b, '"');
}

void sl_buf_reset(sl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sl_buf_free(sl_buf *b)
{
	sl_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *sl_buf_detach(sl_buf *b)
{
	char *d = b->data;
	if (!d)
		d = sl_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
