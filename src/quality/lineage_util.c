/*
 * lineage_util.c: the lineage tracer's small pieces — reading libpg_query's
 * JSON parse nodes, sets of interned input columns, column lists (find,
 * copy, rename by an alias list) and quoted relation names. Everything is
 * allocated in the tracer's work arena.
 */
#include "quality/lineage_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int lin_oom(lin_tracer *t)
{
	return sl_error_set(t->err, SL_ENOMEM, "out of memory");
}

/* Stops the trace: the SQL is not traced, for this reason. */
int lin_stop(lin_tracer *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	t->why = sl_arena_strdup(t->work, msg);
	return t->why ? LIN_NOT_TRACED : lin_oom(t);
}

/* ------------------------------------------------------------ the tree */

/* The type of a parse node {"Type": {...}}, and its body. */
const char *lin_ntype(json_t *n, json_t **body)
{
	const char *k;
	json_t *v;
	*body = NULL;
	if (!json_is_object(n) || json_object_size(n) != 1)
		return "";
	json_object_foreach(n, k, v)
	{
		*body = v;
		return k;
	}
	return "";
}

const char *lin_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The text of a String node, or NULL. */
const char *lin_sval(json_t *n)
{
	json_t *b;
	if (strcmp(lin_ntype(n, &b), "String") != 0)
		return NULL;
	const char *s = lin_str(b, "sval");
	return s ? s : "";
}

/* A SelectStmt's body, given the node or the body itself (larg, rarg). */
json_t *lin_select_body(json_t *q)
{
	json_t *b;
	if (strcmp(lin_ntype(q, &b), "SelectStmt") == 0)
		return b;
	return json_object_get(q, "targetList") || json_object_get(q, "op") ||
			       json_object_get(q, "valuesLists")
		       ? q
		       : NULL;
}

/* ------------------------------------------------------- sets, columns */

int lin_set_add(lin_tracer *t, lin_set *s, int ref)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == ref)
			return 0;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 4;
		int *v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return lin_oom(t);
		if (s->n)
			memcpy(v, s->v, (size_t)s->n * sizeof *v);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ref;
	return 0;
}

int lin_set_union(lin_tracer *t, lin_set *s, const lin_set *o)
{
	int n = o->n;
	for (int i = 0; i < n; i++)
		if (lin_set_add(t, s, o->v[i]) < 0)
			return SL_ENOMEM;
	return 0;
}

/* The input column relation.column of node, interned. */
int lin_intern(lin_tracer *t, const char *node, const char *relation, const char *column,
		  int *out)
{
	for (int i = 0; i < t->nrefs; i++)
		if (strcmp(t->refs[i].relation, relation) == 0 &&
		    strcmp(t->refs[i].column, column) == 0) {
			*out = i;
			return 0;
		}
	if (t->nrefs == t->caprefs) {
		int cap = t->caprefs ? t->caprefs * 2 : 16;
		sl_lineage_ref *v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return lin_oom(t);
		if (t->nrefs)
			memcpy(v, t->refs, (size_t)t->nrefs * sizeof *v);
		t->refs = v;
		t->caprefs = cap;
	}
	sl_lineage_ref *r = &t->refs[t->nrefs];
	r->node = node;
	r->relation = relation;
	if (!(r->column = sl_arena_strdup(t->work, column)))
		return lin_oom(t);
	*out = t->nrefs++;
	return 0;
}

lin_col *lin_cols_push(lin_tracer *t, lin_cols *c, const char *name)
{
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		lin_col *v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return NULL;
		if (c->n)
			memcpy(v, c->v, (size_t)c->n * sizeof *v);
		c->v = v;
		c->cap = cap;
	}
	lin_col *col = &c->v[c->n++];
	memset(col, 0, sizeof *col);
	col->name = name;
	return col;
}

/* Appends a copy of col (its own set) to c. */
int lin_cols_copy_one(lin_tracer *t, lin_cols *c, const lin_col *col)
{
	const char *name = col->name;
	sl_lineage_how how = col->how;
	lin_set from = col->from; /* col may move when c grows */
	lin_col *d = lin_cols_push(t, c, name);
	if (!d)
		return lin_oom(t);
	d->how = how;
	return lin_set_union(t, &d->from, &from);
}

/* The column named name in c: the exact name first, then as unquoted
 * names compare (case-insensitively); -1 when none. */
int lin_cols_find(const lin_cols *c, const char *name)
{
	int loose = -1;
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].name, name) == 0)
			return i;
		if (loose < 0 && strcasecmp(c->v[i].name, name) == 0)
			loose = i;
	}
	return loose;
}

/* Renames the first columns of *c as an alias's column list says (a new
 * array: c may be a CTE's). */
int lin_rename_cols(lin_tracer *t, lin_cols *c, json_t *names)
{
	size_t k = json_array_size(names);
	if (k == 0)
		return 0;
	if ((int)k > c->n && !c->unknown)
		return lin_stop(t, "the alias names %zu columns but the relation has %d", k, c->n);
	lin_cols r = {.unknown = NULL};
	for (int i = 0; i < c->n || (c->unknown && i < (int)k); i++) {
		const char *nm = i < (int)k ? lin_sval(json_array_get(names, (size_t)i)) : NULL;
		lin_col *d = lin_cols_push(t, &r, nm ? nm : c->v[i].name);
		if (!d)
			return lin_oom(t);
		if (i < c->n) {
			d->how = c->v[i].how;
			d->from = c->v[i].from;
		}
	}
	/* an alias list names the columns of an unknown relation: known now,
	 * but only as far as the list goes (functions) */
	*c = r;
	return 0;
}

/* "name" quoted as SQL quotes it. */
const char *lin_quote(lin_tracer *t, const char *db, const char *schema, const char *rel)
{
	sl_buf b = SL_BUF_INIT;
	const char *parts[] = {db, schema, rel};
	bool first = true;
	for (int i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		sl_buf_puts(&b, first ? "\"" : ".\"");
		for (const char *p = parts[i]; *p; p++)
			sl_buf_puts(&b, *p == '"' ? "\"\"" : (char[]){*p, 0});
		sl_buf_puts(&b, "\"");
		first = false;
	}
	char *s = b.data ? sl_arena_strdup(t->work, b.data) : NULL;
	sl_buf_free(&b);
	return s;
}

/* A display name for an entry in messages. */
const char *lin_rte_label(const lin_rte *r)
{
	return r->cols.unknown ? r->cols.unknown : r->name ? r->name : "a subquery";
}
