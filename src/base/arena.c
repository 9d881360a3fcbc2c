/* arena.c: bump allocation in chunks, freed all at once. */
#include "base.h"

#include <stdio.h>
#include <string.h>

struct sl_arena_chunk {
	sl_arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

void sl_arena_init(sl_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	a->total = 0;
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
	sl_arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (!c || c->size - c->used < need) {
		size_t size = need > a->chunk_size ? need : a->chunk_size;
		sl_arena_chunk *nc = sl_malloc(sizeof *nc + size);
		if (!nc)
			return NULL;
		nc->size = size;
		nc->used = 0;
		/* Oversized blocks go behind the head so the head keeps its space. */
		if (c && need > a->chunk_size) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->total += n;
	return p;
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n)
{
	char *d = sl_arena_alloc(a, n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *sl_arena_strdup(sl_arena *a, const char *s)
{
	return s ? sl_arena_strndup(a, s, strlen(s)) : NULL;
}

char *sl_arena_sprintf(sl_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *d = n >= 0 ? sl_arena_alloc(a, (size_t)n + 1) : NULL;
	if (d)
		vsnprintf(d, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return d;
}

void sl_arena_reset(sl_arena *a)
{
	sl_arena_chunk *c = a->head;
	if (!c)
		return;
	sl_arena_chunk *rest = c->next;
	while (rest) {
		sl_arena_chunk *n = rest->next;
		sl_free(rest);
		rest = n;
	}
	c->next = NULL;
	c->used = 0;
	a->total = 0;
}

void sl_arena_free(sl_arena *a)
{
	sl_arena_chunk *c = a->head;
	while (c) {
		sl_arena_chunk *n = c->next;
		sl_free(c);
		c = n;
	}
	a->head = NULL;
	a->total = 0;
}
