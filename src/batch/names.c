/*
 * names.c: making a list of column names unique as warehouses compare
 * identifiers (ASCII case ignored, as SQLite does), in time and memory
 * linear in the names' total length. One rule for every source that names
 * columns from data: CSV headers, JSON keys, database columns.
 */
#include "batch.h"

#include <assert.h>
#include <string.h>
#include <xxhash.h>

/* One distinct name, lowered; next is the next suffix to try for it. */
typedef struct name_entry {
	uint64_t hash;
	const char *key; /* ASCII-lowered, in the scratch arena */
	size_t len;
	uint64_t next;
} name_entry;

typedef struct name_set {
	uint32_t *slots; /* entry index + 1; 0 when empty */
	size_t mask;
	name_entry *e;
	size_t n, cap;
	sl_arena keys;
} name_set;

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Lowers s[0..n) into the set's arena; NULL on OOM. */
static char *lowered(name_set *s, const char *p, size_t n)
{
	char *k = sl_arena_alloc(&s->keys, n + 1);
	if (!k)
		return NULL;
	for (size_t i = 0; i < n; i++)
		k[i] = lower(p[i]);
	k[n] = '\0';
	return k;
}

/* The entry for key, or NULL; *slot receives where it is or would go. */
static name_entry *find(name_set *s, const char *key, size_t len, uint64_t h, size_t *slot)
{
	size_t pos = (size_t)h & s->mask;
	for (;;) {
		uint32_t v = s->slots[pos];
		if (v == 0) {
			*slot = pos;
			return NULL;
		}
		name_entry *e = &s->e[v - 1];
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
			*slot = pos;
			return e;
		}
		pos = (pos + 1) & s->mask;
	}
}

/* Adds key (not present; the table has room) at slot. */
static void add(name_set *s, const char *key, size_t len, uint64_t h, size_t slot)
{
	assert(s->n < s->cap);
	name_entry *e = &s->e[s->n++];
	e->hash = h;
	e->key = key;
	e->len = len;
	e->next = 1;
	s->slots[slot] = (uint32_t)s->n;
}

int sl_names_make_unique(char **names, size_t n, sl_arena *a, size_t *renamed, sl_error *err)
{
	name_set s;
	bool *dup = NULL;
	sl_buf cand = SL_BUF_INIT;
	size_t nrenamed = 0;
	int rc = 0;

	memset(&s, 0, sizeof s);
	sl_arena_init(&s.keys, 4096);
	if (renamed)
		*renamed = 0;
	if (n == 0)
		return 0;
	if (n > UINT32_MAX / 4)
		return sl_error_set(err, SL_ELIMIT, "%zu names are too many to make unique", n);
	/* At most 2n entries (each name, each rename) at load <= 1/2. */
	size_t nslots = 16;
	while (nslots < 4 * n)
		nslots *= 2;
	s.mask = nslots - 1;
	s.cap = 2 * n;
	s.slots = sl_calloc(nslots, sizeof *s.slots);
	s.e = sl_malloc(s.cap * sizeof *s.e);
	dup = sl_calloc(n, sizeof *dup);
	if (!s.slots || !s.e || !dup)
		goto oom;

	/* First every name as given: the first of each spelling keeps it. */
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]), slot;
		char *k = lowered(&s, names[i], len);
		if (!k)
			goto oom;
		uint64_t h = XXH3_64bits(k, len);
		if (find(&s, k, len, h, &slot))
			dup[i] = true;
		else
			add(&s, k, len, h, slot);
	}

	/*
	 * Then each later spelling becomes name_K, the smallest K from 1 that
	 * no name (given or made) holds. The next K to try is kept per name, so
	 * each K is tried once: linear overall.
	 */
	for (size_t i = 0; i < n; i++) {
		if (!dup[i])
			continue;
		size_t len = strlen(names[i]), slot;
		char *base = lowered(&s, names[i], len);
		if (!base)
			goto oom;
		name_entry *be = find(&s, base, len, XXH3_64bits(base, len), &slot);
		assert(be);
		for (uint64_t k = be->next;; k++) {
			sl_buf_reset(&cand);
			if (sl_buf_append(&cand, names[i], len) < 0 ||
			    sl_buf_printf(&cand, "_%llu", (unsigned long long)k) < 0)
				goto oom;
			char *ck = lowered(&s, cand.data, cand.len);
			if (!ck)
				goto oom;
			uint64_t h = XXH3_64bits(ck, cand.len);
			if (find(&s, ck, cand.len, h, &slot))
				continue;
			char *name = sl_arena_strndup(a, cand.data, cand.len);
			if (!name)
				goto oom;
			/* be stays valid: entries live in a fixed array. */
			be->next = k + 1;
			add(&s, ck, cand.len, h, slot);
			names[i] = name;
			nrenamed++;
			break;
		}
	}
	if (renamed)
		*renamed = nrenamed;
	goto done;
oom:
	rc = sl_error_set(err, SL_ENOMEM, "out of memory making %zu column names unique", n);
done:
	sl_buf_free(&cand);
	sl_free(dup);
	sl_free(s.slots);
	sl_free(s.e);
	sl_arena_free(&s.keys);
	return rc;
}

int sl_names_make_unique_keeping(char **names, size_t n, const char *const *keep, size_t nkeep,
				 sl_arena *a, size_t *renamed, sl_error *err)
{
	if (nkeep == 0)
		return sl_names_make_unique(names, n, a, renamed, err);
	size_t *order = sl_malloc((n ? n : 1) * sizeof *order);
	char **perm = sl_malloc((n ? n : 1) * sizeof *perm);
	size_t j = 0;
	int rc = 0;
	if (!order || !perm) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	/* The kept spellings first: the first of each spelling keeps it. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool kept = false;
			for (size_t k = 0; k < nkeep && !kept; k++)
				kept = strcmp(names[i], keep[k]) == 0;
			if (kept == (pass == 0))
				order[j++] = i;
		}
	for (size_t i = 0; i < n; i++)
		perm[i] = names[order[i]];
	rc = sl_names_make_unique(perm, n, a, renamed, err);
	for (size_t i = 0; i < n && rc == 0; i++)
		names[order[i]] = perm[i];
out:
	sl_free(order);
	sl_free(perm);
	return rc;
}

int sl_names_note_rename(sl_buf *out, int64_t *count, const char *from, const char *to)
{
	if ((*count)++ >= SL_NAMES_NOTE_MAX)
		return 0;
	return sl_buf_printf(out, "%s%s%s%s → %s", out->len ? ", " : "", *from ? "" : "\"", from,
			     *from ? "" : "\"", to) < 0 ? SL_ENOMEM : 0;
}

int sl_names_note_end(sl_buf *out, int64_t count)
{
	if (count <= SL_NAMES_NOTE_MAX)
		return 0;
	return sl_buf_printf(out, " and %lld more", (long long)(count - SL_NAMES_NOTE_MAX)) < 0
		       ? SL_ENOMEM : 0;
}
