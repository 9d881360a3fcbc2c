/* alloc.c: the one allocation hook, with fail-the-Nth injection for tests. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

static long fail_after = -1;

void sl_alloc_fail_after(long n) { fail_after = n; }

static bool should_fail(void)
{
	if (fail_after < 0)
		return false;
	if (fail_after == 0)
		return true;
	fail_after--;
	return false;
}

void *sl_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *sl_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void sl_free(void *p) { free(p); }

char *sl_strndup(const char *s, size_t n)
{
	char *d = sl_malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *sl_strdup(const char *s) { return s ? sl_strndup(s, strlen(s)) : NULL; }

int sl_alloc_zeroed(void **out, size_t n, sl_error *err)
{
	*out = sl_calloc(1, n);
	if (!*out)
		return sl_error_set(err, SL_ENOMEM, "out of memory allocating %zu bytes", n);
	return 0;
}
