/*
 * lineage_trace.c: walks libpg_query's JSON parse tree of one SELECT and
 * tells, for each output column, the input columns it derives from.
 *
 * A query level builds a scope from its FROM clause: one range entry per
 * relation, CTE, subquery or function, each with its columns (a base
 * relation's from the columns callback, a CTE's or subquery's from tracing
 * it), and the USING/NATURAL join columns merged. Each select-list
 * expression then gathers the column references it holds (the window's
 * PARTITION BY/ORDER BY and an aggregate's FILTER included, WHERE, GROUP
 * BY, HAVING and ORDER BY not) and resolves them in that scope, then in
 * the enclosing ones (correlated subqueries). Set operations combine their
 * branches by position. A recursive CTE is traced again with its own
 * columns until they stop growing (at most RECURSIVE_ROUNDS times).
 * Anything the tracer cannot tell (an ambiguous name, `select *` over a
 * relation whose columns are unknown) stops it with a reason: the caller
 * keeps model-level lineage.
 */
#include "quality/lineage_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NOT_TRACED 1
#define MAX_QUERY_DEPTH 64   /* nested queries (subqueries, CTEs) */
#define MAX_EXPR_DEPTH 4000  /* JSON levels inside one expression */
#define RECURSIVE_ROUNDS 16

/* A CTE visible to a query level (innermost first). */
typedef struct lin_cte {
	const char *name;
	lin_cols cols;
	bool pending; /* a recursive CTE's self-reference before its first round */
	struct lin_cte *next;
} lin_cte;

/* A FROM entry that qualified names may name. */
typedef struct lin_rte {
	const char *name;     /* alias, or the relation's, CTE's or function's name */
	const char *schema;   /* an unaliased relation's schema, for s.t.c */
	lin_cols cols;        /* read only: may be a CTE's */
	bool qualified_only;  /* an aliased join: `j.c` only */
} lin_rte;

typedef struct lin_scope {
	lin_rte **items;
	int n, cap;
	lin_cols merged;           /* USING/NATURAL columns, outermost join last */
	lin_cols star;             /* what `select *` expands to */
	struct lin_scope *parent;  /* the enclosing query's, for correlated names */
} lin_scope;

static int trace_query(lin_tracer *t, json_t *q, lin_scope *outer, lin_cte *env, lin_cols *out);

static int oom(lin_tracer *t)
{
	return sl_error_set(t->err, SL_ENOMEM, "out of memory");
}

/* Stops the trace: the SQL is not traced, for this reason. */
static int SL_PRINTF(2, 3) stop(lin_tracer *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	t->why = sl_arena_strdup(t->work, msg);
	return t->why ? NOT_TRACED : oom(t);
}

/* ------------------------------------------------------------ the tree */

/* The type of a parse node {"Type": {...}}, and its body. */
static const char *ntype(json_t *n, json_t **body)
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

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The text of a String node, or NULL. */
static const char *sval(json_t *n)
{
	json_t *b;
	if (strcmp(ntype(n, &b), "String") != 0)
		return NULL;
	const char *s = str(b, "sval");
	return s ? s : "";
}

/* A SelectStmt's body, given the node or the body itself (larg, rarg). */
static json_t *select_body(json_t *q)
{
	json_t *b;
	if (strcmp(ntype(q, &b), "SelectStmt") == 0)
		return b;
	return json_object_get(q, "targetList") || json_object_get(q, "op") ||
			       json_object_get(q, "valuesLists")
		       ? q
		       : NULL;
}

/* ------------------------------------------------------- sets, columns */

static int set_add(lin_tracer *t, lin_set *s, int ref)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == ref)
			return 0;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 4;
		int *v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return oom(t);
		if (s->n)
			memcpy(v, s->v, (size_t)s->n * sizeof *v);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ref;
	return 0;
}

static int set_union(lin_tracer *t, lin_set *s, const lin_set *o)
{
	int n = o->n;
	for (int i = 0; i < n; i++)
		if (set_add(t, s, o->v[i]) < 0)
			return SL_ENOMEM;
	return 0;
}

/* The input column relation.column of node, interned. */
static int intern(lin_tracer *t, const char *node, const char *relation, const char *column,
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
			return oom(t);
		if (t->nrefs)
			memcpy(v, t->refs, (size_t)t->nrefs * sizeof *v);
		t->refs = v;
		t->caprefs = cap;
	}
	sl_lineage_ref *r = &t->refs[t->nrefs];
	r->node = node;
	r->relation = relation;
	if (!(r->column = sl_arena_strdup(t->work, column)))
		return oom(t);
	*out = t->nrefs++;
	return 0;
}

static lin_col *cols_push(lin_tracer *t, lin_cols *c, const char *name)
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
static int cols_copy_one(lin_tracer *t, lin_cols *c, const lin_col *col)
{
	const char *name = col->name;
	sl_lineage_how how = col->how;
	lin_set from = col->from; /* col may move when c grows */
	lin_col *d = cols_push(t, c, name);
	if (!d)
		return oom(t);
	d->how = how;
	return set_union(t, &d->from, &from);
}

/* The column named name in c: the exact name first, then as unquoted
 * names compare (case-insensitively); -1 when none. */
static int cols_find(const lin_cols *c, const char *name)
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
static int rename_cols(lin_tracer *t, lin_cols *c, json_t *names)
{
	size_t k = json_array_size(names);
	if (k == 0)
		return 0;
	if ((int)k > c->n && !c->unknown)
		return stop(t, "the alias names %zu columns but the relation has %d", k, c->n);
	lin_cols r = {.unknown = NULL};
	for (int i = 0; i < c->n || (c->unknown && i < (int)k); i++) {
		const char *nm = i < (int)k ? sval(json_array_get(names, (size_t)i)) : NULL;
		lin_col *d = cols_push(t, &r, nm ? nm : c->v[i].name);
		if (!d)
			return oom(t);
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
static const char *quote(lin_tracer *t, const char *db, const char *schema, const char *rel)
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
static const char *rte_label(const lin_rte *r)
{
	return r->cols.unknown ? r->cols.unknown : r->name ? r->name : "a subquery";
}

/* ------------------------------------------------------ name resolution */

typedef struct acc {
	lin_set from;
	sl_lineage_how how;
} acc;

static int acc_col(lin_tracer *t, acc *a, const lin_col *c)
{
	if (c->how > a->how)
		a->how = c->how;
	return set_union(t, &a->from, &c->from);
}

/* Column name of an entry whose columns are unknown: the relation's
 * column itself (nothing for a function's). */
static int acc_unknown(lin_tracer *t, acc *a, const lin_cols *c, const char *name)
{
	int ref;
	if (!c->rel)
		return 0;
	if (intern(t, c->node, c->rel, name, &ref) < 0)
		return SL_ENOMEM;
	return set_add(t, &a->from, ref);
}

static int acc_all(lin_tracer *t, acc *a, const lin_cols *c)
{
	for (int i = 0; i < c->n; i++)
		if (acc_col(t, a, &c->v[i]) < 0)
			return SL_ENOMEM;
	return 0;
}

static bool rte_named(const lin_rte *r, const char *schema, const char *name)
{
	if (!r->name || strcasecmp(r->name, name) != 0)
		return false;
	return !schema || (r->schema && strcasecmp(r->schema, schema) == 0);
}

/* The entry a qualifier names, in s or the enclosing scopes. */
static lin_rte *find_rte(lin_scope *s, const char *schema, const char *name)
{
	for (; s; s = s->parent) {
		lin_rte *loose = NULL;
		for (int i = 0; i < s->n; i++) {
			if (!rte_named(s->items[i], schema, name))
				continue;
			if (strcmp(s->items[i]->name, name) == 0)
				return s->items[i];
			if (!loose)
				loose = s->items[i];
		}
		if (loose)
			return loose;
	}
	return NULL;
}

/* An unqualified name: a merged join column, then the one entry having
 * it, then the one entry whose columns are unknown; then outwards. */
static int resolve_bare(lin_tracer *t, lin_scope *s, const char *name, acc *a)
{
	for (; s; s = s->parent) {
		for (int i = s->merged.n - 1; i >= 0; i--)
			if (strcasecmp(s->merged.v[i].name, name) == 0)
				return acc_col(t, a, &s->merged.v[i]);
		lin_rte *hit = NULL, *unknown = NULL, *unknown2 = NULL;
		int col = -1;
		for (int i = 0; i < s->n; i++) {
			lin_rte *r = s->items[i];
			if (r->qualified_only)
				continue;
			if (r->cols.unknown) {
				if (!unknown)
					unknown = r;
				else if (!unknown2)
					unknown2 = r;
				continue;
			}
			int k = cols_find(&r->cols, name);
			if (k < 0)
				continue;
			if (hit)
				return stop(t, "column reference \"%s\" is ambiguous: both %s and %s "
					    "have it", name, rte_label(hit), rte_label(r));
			hit = r;
			col = k;
		}
		if (hit)
			return acc_col(t, a, &hit->cols.v[col]);
		if (unknown2)
			return stop(t, "column \"%s\" may come from %s or %s, whose columns are "
				    "unknown; qualify it", name, rte_label(unknown), rte_label(unknown2));
		if (unknown)
			return acc_unknown(t, a, &unknown->cols, name);
	}
	return stop(t, "column \"%s\" is in none of the relations the query reads", name);
}

/* A ColumnRef: c, t.c, s.t.c, d.s.t.c, t.* (inside an expression). */
static int resolve(lin_tracer *t, lin_scope *s, json_t *fields, acc *a)
{
	size_t n = json_array_size(fields);
	json_t *last = json_array_get(fields, n ? n - 1 : 0), *b;
	bool star = strcmp(ntype(last, &b), "A_Star") == 0;
	if (n == 0)
		return 0;
	if (n == 1 && star) { /* count(*) spelled as a column: every column */
		for (lin_scope *x = s; x; x = x->parent)
			for (int i = 0; i < x->n; i++)
				if (acc_all(t, a, &x->items[i]->cols) < 0)
					return SL_ENOMEM;
		return 0;
	}
	const char *col = star ? NULL : sval(last);
	if (n == 1)
		return col ? resolve_bare(t, s, col, a) : 0;
	const char *qual = sval(json_array_get(fields, n - 2));
	const char *schema = n >= 3 ? sval(json_array_get(fields, n - 3)) : NULL;
	if (!qual)
		return 0;
	lin_rte *r = find_rte(s, schema, qual);
	if (!r) {
		/* a composite's field (rec.field) read as a column */
		if (n == 2 && col) {
			lin_rte *whole = NULL;
			for (lin_scope *x = s; x && !whole; x = x->parent)
				for (int i = 0; i < x->n && !whole; i++)
					if (!x->items[i]->cols.unknown &&
					    cols_find(&x->items[i]->cols, qual) >= 0)
						whole = x->items[i];
			if (whole)
				return resolve_bare(t, s, qual, a);
		}
		return stop(t, "missing FROM-clause entry for \"%s\"", qual);
	}
	if (star)
		return acc_all(t, a, &r->cols);
	if (r->cols.unknown)
		return acc_unknown(t, a, &r->cols, col);
	int k = cols_find(&r->cols, col);
	if (k < 0)
		return stop(t, "column \"%s\" is not in %s", col, rte_label(r));
	return acc_col(t, a, &r->cols.v[k]);
}

/* --------------------------------------------------------- expressions */

/* Whether a function call aggregates: OVER, an aggregate's own syntax,
 * or an aggregate's name (min/max of two or more arguments are SQLite's
 * scalar functions). */
static bool aggregates(json_t *fc)
{
	static const char *const names[] = {
		"count", "sum", "avg", "min", "max", "array_agg", "string_agg", "group_concat",
		"total", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor",
		"stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
		"json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "json_group_array",
		"json_group_object", "xmlagg", "percentile_cont", "percentile_disc", "mode",
		"corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count",
		"regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy",
		"listagg", "median", "any_value", "range_agg", "range_intersect_agg",
	};
	if (json_object_get(fc, "over") || json_is_true(json_object_get(fc, "agg_star")) ||
	    json_is_true(json_object_get(fc, "agg_distinct")) ||
	    json_is_true(json_object_get(fc, "agg_within_group")) ||
	    json_object_get(fc, "agg_filter") || json_object_get(fc, "agg_order"))
		return true;
	json_t *fn = json_object_get(fc, "funcname");
	size_t k = json_array_size(fn);
	const char *name = k ? sval(json_array_get(fn, k - 1)) : NULL;
	if (!name)
		return false;
	size_t nargs = json_array_size(json_object_get(fc, "args"));
	if ((strcasecmp(name, "min") == 0 || strcasecmp(name, "max") == 0) && nargs > 1)
		return false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Gathers every column reference under v. */
static int walk(lin_tracer *t, lin_scope *s, lin_cte *env, json_t *v, acc *a)
{
	int rc = 0;
	if (++t->depth > MAX_EXPR_DEPTH) {
		t->depth--;
		return stop(t, "the query nests too deeply");
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if ((rc = walk(t, s, env, e, a)) != 0)
				break;
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e)
		{
			if (strcmp(k, "ColumnRef") == 0) {
				rc = resolve(t, s, json_object_get(e, "fields"), a);
			} else if (strcmp(k, "FuncCall") == 0) {
				if (aggregates(e))
					a->how = SL_LINEAGE_AGGREGATED;
				rc = walk(t, s, env, e, a);
			} else if (strcmp(k, "SelectStmt") == 0) {
				/* a subquery in an expression: what its columns read */
				lin_cols sub = {0};
				rc = trace_query(t, v, s, env, &sub);
				for (int i = 0; rc == 0 && i < sub.n; i++)
					rc = acc_col(t, a, &sub.v[i]);
			} else {
				rc = walk(t, s, env, e, a);
			}
			if (rc != 0)
				break;
		}
	}
	t->depth--;
	return rc;
}

/* The lineage of one select-list expression into col. */
static int expr_lineage(lin_tracer *t, lin_scope *s, lin_cte *env, json_t *e, lin_col *col)
{
	json_t *b, *x = e;
	const char *ty;
	/* casts and collations keep a column as it is */
	while ((ty = ntype(x, &b)) && (strcmp(ty, "TypeCast") == 0 ||
				       strcmp(ty, "CollateClause") == 0))
		x = json_object_get(b, "arg");
	acc a = {.how = SL_LINEAGE_TRANSFORMED};
	int rc;
	if (strcmp(ty, "ColumnRef") == 0) {
		a.how = SL_LINEAGE_DIRECT;
		rc = resolve(t, s, json_object_get(b, "fields"), &a);
	} else {
		rc = walk(t, s, env, e, &a);
	}
	col->how = a.how;
	col->from = a.from;
	return rc;
}

/* The name PostgreSQL gives an unnamed select-list expression. */
static const char *figure_name(json_t *e)
{
	json_t *b;
	const char *ty = ntype(e, &b);
	if (strcmp(ty, "ColumnRef") == 0) {
		json_t *f = json_object_get(b, "fields");
		size_t n = json_array_size(f);
		const char *s = n ? sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "FuncCall") == 0) {
		json_t *f = json_object_get(b, "funcname");
		size_t n = json_array_size(f);
		const char *s = n ? sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "TypeCast") == 0) {
		const char *inner = figure_name(json_object_get(b, "arg"));
		if (strcmp(inner, "?column?") != 0)
			return inner;
		json_t *names = json_object_get(json_object_get(b, "typeName"), "names");
		size_t n = json_array_size(names);
		const char *s = n ? sval(json_array_get(names, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "CollateClause") == 0)
		return figure_name(json_object_get(b, "arg"));
	if (strcmp(ty, "A_Indirection") == 0) {
		json_t *f = json_object_get(b, "indirection");
		size_t n = json_array_size(f);
		const char *s = n ? sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : figure_name(json_object_get(b, "arg"));
	}
	if (strcmp(ty, "CaseExpr") == 0)
		return "case";
	if (strcmp(ty, "CoalesceExpr") == 0)
		return "coalesce";
	if (strcmp(ty, "NullIfExpr") == 0)
		return "nullif";
	if (strcmp(ty, "MinMaxExpr") == 0)
		return strcmp(str(b, "op") ? str(b, "op") : "", "IS_LEAST") == 0 ? "least"
										 : "greatest";
	if (strcmp(ty, "A_ArrayExpr") == 0)
		return "array";
	if (strcmp(ty, "RowExpr") == 0)
		return "row";
	if (strcmp(ty, "SubLink") == 0) {
		const char *kind = str(b, "subLinkType");
		if (kind && strcmp(kind, "EXISTS_SUBLINK") == 0)
			return "exists";
		if (kind && strcmp(kind, "ARRAY_SUBLINK") == 0)
			return "array";
		if (kind && strcmp(kind, "EXPR_SUBLINK") == 0) {
			json_t *q = select_body(json_object_get(b, "subselect"));
			json_t *rt = json_array_get(json_object_get(q, "targetList"), 0), *rb;
			if (strcmp(ntype(rt, &rb), "ResTarget") == 0)
				return str(rb, "name") ? str(rb, "name")
						       : figure_name(json_object_get(rb, "val"));
		}
	}
	if (strcmp(ty, "SQLValueFunction") == 0) {
		static const struct { const char *op, *name; } ops[] = {
			{"SVFOP_CURRENT_DATE", "current_date"},
			{"SVFOP_CURRENT_TIME", "current_time"},
			{"SVFOP_CURRENT_TIME_N", "current_time"},
			{"SVFOP_CURRENT_TIMESTAMP", "current_timestamp"},
			{"SVFOP_CURRENT_TIMESTAMP_N", "current_timestamp"},
			{"SVFOP_LOCALTIME", "localtime"},
			{"SVFOP_LOCALTIMESTAMP", "localtimestamp"},
			{"SVFOP_CURRENT_USER", "current_user"},
			{"SVFOP_SESSION_USER", "session_user"},
		};
		const char *op = str(b, "op");
		for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
			if (strcmp(op, ops[i].op) == 0)
				return ops[i].name;
	}
	return "?column?";
}

/* ---------------------------------------------------------------- FROM */

static int scope_push(lin_tracer *t, lin_scope *s, lin_rte **out)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		lin_rte **v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return oom(t);
		if (s->n)
			memcpy(v, s->items, (size_t)s->n * sizeof *v);
		s->items = v;
		s->cap = cap;
	}
	lin_rte *r = sl_arena_alloc(t->work, sizeof *r);
	if (!r)
		return oom(t);
	memset(r, 0, sizeof *r);
	s->items[s->n++] = r;
	*out = r;
	return 0;
}

static lin_cte *find_cte(lin_cte *env, const char *name)
{
	for (lin_cte *c = env; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	for (lin_cte *c = env; c; c = c->next)
		if (strcasecmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* A table or view (or a CTE) named in FROM. */
static int from_relation(lin_tracer *t, json_t *rv, lin_scope *s, lin_cte *env, lin_cols *star)
{
	const char *db = str(rv, "catalogname"), *schema = str(rv, "schemaname");
	const char *name = str(rv, "relname");
	json_t *alias = json_object_get(rv, "alias");
	const char *aname = str(alias, "aliasname");
	lin_rte *r;
	int rc;
	if (!name)
		return stop(t, "a relation without a name");
	if ((rc = scope_push(t, s, &r)) < 0)
		return rc;
	r->name = aname ? aname : name;
	lin_cte *cte = schema ? NULL : find_cte(env, name);
	if (cte) {
		r->cols = cte->cols;
		if (cte->pending) /* a recursive CTE's first round: nothing yet */
			r->cols = (lin_cols){.unknown = cte->name};
	} else {
		const char *relation = quote(t, db, schema, name);
		const char *node = t->node_fn ? t->node_fn(t->node_ud, schema, name) : NULL;
		const char *const *names = NULL;
		int n = -1;
		if (!relation)
			return oom(t);
		if (t->cols_fn && (rc = t->cols_fn(t->cols_ud, node, schema, name, &names, &n,
						   t->err)) < 0)
			return rc;
		r->schema = aname ? NULL : schema;
		r->cols.rel = relation;
		r->cols.node = node;
		if (n < 0)
			r->cols.unknown = relation;
		for (int i = 0; i < n; i++) {
			lin_col *c = cols_push(t, &r->cols, names[i]);
			int ref;
			if (!c || !(c->name = sl_arena_strdup(t->work, names[i])))
				return oom(t);
			if (intern(t, node, relation, names[i], &ref) < 0 ||
			    set_add(t, &c->from, ref) < 0)
				return SL_ENOMEM;
		}
	}
	if ((rc = rename_cols(t, &r->cols, json_object_get(alias, "colnames"))) != 0)
		return rc;
	*star = r->cols;
	return 0;
}

static int from_item(lin_tracer *t, json_t *item, lin_scope *s, lin_cte *env, lin_cols *star);

/* a JOIN b [USING (...) | ON ...], NATURAL JOIN. */
static int from_join(lin_tracer *t, json_t *j, lin_scope *s, lin_cte *env, lin_cols *star)
{
	lin_cols l = {0}, r = {0};
	int rc;
	if ((rc = from_item(t, json_object_get(j, "larg"), s, env, &l)) != 0 ||
	    (rc = from_item(t, json_object_get(j, "rarg"), s, env, &r)) != 0)
		return rc;
	/* the merged column names */
	const char **names = NULL;
	int nnames = 0;
	if (json_is_true(json_object_get(j, "isNatural"))) {
		if (l.unknown || r.unknown)
			return stop(t, "NATURAL JOIN with %s, whose columns are unknown",
				    l.unknown ? l.unknown : r.unknown);
		names = sl_arena_alloc(t->work, ((size_t)l.n + 1) * sizeof *names);
		if (!names)
			return oom(t);
		for (int i = 0; i < l.n; i++)
			if (cols_find(&r, l.v[i].name) >= 0)
				names[nnames++] = l.v[i].name;
	} else {
		json_t *u = json_object_get(j, "usingClause");
		names = sl_arena_alloc(t->work, (json_array_size(u) + 1) * sizeof *names);
		if (!names)
			return oom(t);
		for (size_t i = 0; i < json_array_size(u); i++)
			if (sval(json_array_get(u, i)))
				names[nnames++] = sval(json_array_get(u, i));
	}
	lin_cols out = {0};
	for (int i = 0; i < nnames; i++) {
		acc a = {.how = SL_LINEAGE_DIRECT};
		int li = cols_find(&l, names[i]), ri = cols_find(&r, names[i]);
		const lin_cols *side[2] = {&l, &r};
		int at[2] = {li, ri};
		for (int k = 0; k < 2; k++) {
			if (at[k] >= 0)
				rc = acc_col(t, &a, &side[k]->v[at[k]]);
			else if (side[k]->unknown)
				rc = acc_unknown(t, &a, side[k], names[i]);
			else
				rc = stop(t, "column \"%s\" named in USING is not in the %s side of "
					  "the join", names[i], k ? "right" : "left");
			if (rc != 0)
				return rc;
		}
		lin_col *m = cols_push(t, &s->merged, names[i]);
		lin_col *o = m ? cols_push(t, &out, names[i]) : NULL;
		if (!o)
			return oom(t);
		m->how = o->how = a.how;
		m->from = o->from = a.from;
	}
	for (int k = 0; k < 2; k++) {
		const lin_cols *c = k ? &r : &l;
		for (int i = 0; i < c->n; i++) {
			bool merged = false;
			for (int x = 0; x < nnames && !merged; x++)
				merged = strcasecmp(c->v[i].name, names[x]) == 0;
			if (merged)
				continue;
			lin_col *o = cols_push(t, &out, c->v[i].name);
			if (!o)
				return oom(t);
			*o = c->v[i];
		}
		if (c->unknown && !out.unknown)
			out.unknown = c->unknown;
	}
	json_t *alias = json_object_get(j, "alias");
	if (str(alias, "aliasname")) {
		lin_rte *jr;
		if ((rc = scope_push(t, s, &jr)) < 0)
			return rc;
		jr->name = str(alias, "aliasname");
		jr->cols = out;
		jr->qualified_only = true;
		if ((rc = rename_cols(t, &jr->cols, json_object_get(alias, "colnames"))) != 0)
			return rc;
		out = jr->cols;
	}
	*star = out;
	return 0;
}

/* One FROM element: its entries join s; *star is what `*` gives of it. */
static int from_item(lin_tracer *t, json_t *item, lin_scope *s, lin_cte *env, lin_cols *star)
{
	json_t *b;
	const char *ty = ntype(item, &b);
	int rc;
	if (strcmp(ty, "RangeVar") == 0)
		return from_relation(t, b, s, env, star);
	if (strcmp(ty, "JoinExpr") == 0)
		return from_join(t, b, s, env, star);
	if (strcmp(ty, "RangeTableSample") == 0)
		return from_item(t, json_object_get(b, "relation"), s, env, star);
	if (strcmp(ty, "RangeSubselect") == 0) {
		json_t *alias = json_object_get(b, "alias");
		lin_rte *r;
		lin_cols sub = {0};
		/* LATERAL or not, the subquery sees the entries before it */
		if ((rc = trace_query(t, json_object_get(b, "subquery"), s, env, &sub)) != 0)
			return rc;
		if ((rc = rename_cols(t, &sub, json_object_get(alias, "colnames"))) != 0)
			return rc;
		if ((rc = scope_push(t, s, &r)) < 0)
			return rc;
		r->name = str(alias, "aliasname");
		r->cols = sub;
		*star = sub;
		return 0;
	}
	if (strcmp(ty, "RangeFunction") == 0) {
		/* generate_series(...), json_each(...): columns from nothing the
		 * project holds */
		json_t *alias = json_object_get(b, "alias");
		lin_rte *r;
		if ((rc = scope_push(t, s, &r)) < 0)
			return rc;
		r->name = str(alias, "aliasname");
		json_t *fl = json_array_get(json_array_get(json_object_get(b, "functions"), 0), 0);
		json_t *fb;
		if (!r->name && strcmp(ntype(fl, &fb), "FuncCall") == 0) {
			json_t *fn = json_object_get(fb, "funcname");
			size_t n = json_array_size(fn);
			r->name = n ? sval(json_array_get(fn, n - 1)) : NULL;
		}
		r->cols.unknown = r->name ? r->name : "a function";
		if ((rc = rename_cols(t, &r->cols, json_object_get(alias, "colnames"))) != 0)
			return rc;
		*star = r->cols;
		return 0;
	}
	return stop(t, "FROM item %s is not traced", *ty ? ty : "(unknown)");
}

/* ---------------------------------------------------------------- WITH */

/* Makes the CTEs of a WITH clause visible in *env, each traced. */
static int push_ctes(lin_tracer *t, json_t *with, lin_scope *outer, lin_cte **env)
{
	bool recursive = json_is_true(json_object_get(with, "recursive"));
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(with, "ctes"), i, node)
	{
		json_t *b;
		int rc;
		if (strcmp(ntype(node, &b), "CommonTableExpr") != 0)
			continue;
		lin_cte *c = sl_arena_alloc(t->work, sizeof *c);
		if (!c)
			return oom(t);
		memset(c, 0, sizeof *c);
		c->name = str(b, "ctename") ? str(b, "ctename") : "";
		c->next = *env;
		json_t *q = json_object_get(b, "ctequery"), *qb = select_body(q);
		json_t *names = json_object_get(b, "aliascolnames");
		if (!qb)
			return stop(t, "CTE \"%s\" is not a SELECT", c->name);
		const char *op = str(qb, "op");
		if (recursive && op && strcmp(op, "SETOP_NONE") != 0) {
			/* the non-recursive term first, then rounds until the
			 * columns stop growing */
			c->pending = true;
			lin_cte *self_env = c;
			if ((rc = trace_query(t, json_object_get(qb, "larg"), outer, self_env,
					      &c->cols)) != 0)
				return rc;
			if ((rc = rename_cols(t, &c->cols, names)) != 0)
				return rc;
			c->pending = false;
			for (int round = 0; round < RECURSIVE_ROUNDS; round++) {
				lin_cols next = {0};
				if ((rc = trace_query(t, q, outer, self_env, &next)) != 0)
					return rc;
				if ((rc = rename_cols(t, &next, names)) != 0)
					return rc;
				bool same = next.n == c->cols.n;
				for (int k = 0; same && k < next.n; k++)
					same = next.v[k].from.n == c->cols.v[k].from.n &&
					       next.v[k].how == c->cols.v[k].how;
				c->cols = next;
				if (same)
					break;
			}
		} else {
			c->pending = recursive;
			if ((rc = trace_query(t, q, outer, recursive ? c : *env, &c->cols)) != 0)
				return rc;
			if ((rc = rename_cols(t, &c->cols, names)) != 0)
				return rc;
			c->pending = false;
		}
		*env = c;
	}
	return 0;
}

/* -------------------------------------------------------------- queries */

/* UNION / INTERSECT / EXCEPT: columns by position. */
static int trace_setop(lin_tracer *t, json_t *q, const char *op, lin_scope *outer,
		       lin_cte *env, lin_cols *out)
{
	lin_cols l = {0}, r = {0};
	int rc;
	if ((rc = trace_query(t, json_object_get(q, "larg"), outer, env, &l)) != 0 ||
	    (rc = trace_query(t, json_object_get(q, "rarg"), outer, env, &r)) != 0)
		return rc;
	const char *word = strcmp(op, "SETOP_UNION") == 0       ? "UNION"
			   : strcmp(op, "SETOP_INTERSECT") == 0 ? "INTERSECT"
								: "EXCEPT";
	if (l.n != r.n)
		return stop(t, "each %s query must have the same number of columns (%d and %d)",
			    word, l.n, r.n);
	/* EXCEPT's values are the left side's alone */
	for (int i = 0; i < l.n && strcmp(word, "EXCEPT") != 0; i++) {
		if (r.v[i].how > l.v[i].how)
			l.v[i].how = r.v[i].how;
		if (set_union(t, &l.v[i].from, &r.v[i].from) < 0)
			return SL_ENOMEM;
	}
	*out = l;
	return 0;
}

/* VALUES (...), (...): column1, column2, ... */
static int trace_values(lin_tracer *t, json_t *rows, lin_scope *outer, lin_cte *env,
			lin_cols *out)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		json_t *b;
		json_t *items = strcmp(ntype(row, &b), "List") == 0 ? json_object_get(b, "items")
								     : NULL;
		for (size_t k = 0; k < json_array_size(items); k++) {
			if ((int)k >= out->n) {
				char nm[32];
				snprintf(nm, sizeof nm, "column%zu", k + 1);
				lin_col *c = cols_push(t, out, NULL);
				if (!c || !(c->name = sl_arena_strdup(t->work, nm)))
					return oom(t);
				c->how = SL_LINEAGE_TRANSFORMED;
			}
			lin_col one = {0};
			int rc = expr_lineage(t, outer, env, json_array_get(items, k), &one);
			if (rc != 0)
				return rc;
			if (set_union(t, &out->v[k].from, &one.from) < 0)
				return SL_ENOMEM;
			if (one.how > out->v[k].how)
				out->v[k].how = one.how;
		}
	}
	return 0;
}

/* `*` or `t.*` in the select list: the columns, each as it is. */
static int expand_star(lin_tracer *t, lin_scope *s, json_t *fields, lin_cols *out)
{
	size_t n = json_array_size(fields);
	const lin_cols *c = &s->star;
	if (n >= 2) {
		const char *qual = sval(json_array_get(fields, n - 2));
		const char *schema = n >= 3 ? sval(json_array_get(fields, n - 3)) : NULL;
		lin_rte *r = qual ? find_rte(s, schema, qual) : NULL;
		if (!r)
			return stop(t, "missing FROM-clause entry for \"%s\"", qual ? qual : "");
		c = &r->cols;
	} else if (s->n == 0) {
		return stop(t, "SELECT * with no FROM clause");
	}
	if (c->unknown)
		return stop(t, "select * from a relation whose columns are unknown: %s",
			    c->unknown);
	for (int i = 0; i < c->n; i++)
		if (cols_copy_one(t, out, &c->v[i]) < 0)
			return SL_ENOMEM;
	return 0;
}

static int trace_select(lin_tracer *t, json_t *q, lin_scope *outer, lin_cte *env,
			lin_cols *out)
{
	lin_scope s = {.parent = outer};
	size_t i;
	json_t *item;
	int rc;
	json_array_foreach(json_object_get(q, "fromClause"), i, item)
	{
		lin_cols star = {0};
		if ((rc = from_item(t, item, &s, env, &star)) != 0)
			return rc;
		for (int k = 0; k < star.n; k++) {
			lin_col *c = cols_push(t, &s.star, NULL);
			if (!c)
				return oom(t);
			*c = star.v[k];
		}
		if (star.unknown && !s.star.unknown)
			s.star.unknown = star.unknown;
	}
	json_array_foreach(json_object_get(q, "targetList"), i, item)
	{
		json_t *rt, *vb;
		if (strcmp(ntype(item, &rt), "ResTarget") != 0)
			continue;
		json_t *val = json_object_get(rt, "val");
		if (strcmp(ntype(val, &vb), "ColumnRef") == 0) {
			json_t *f = json_object_get(vb, "fields"), *sb;
			size_t n = json_array_size(f);
			if (n && strcmp(ntype(json_array_get(f, n - 1), &sb), "A_Star") == 0) {
				if ((rc = expand_star(t, &s, f, out)) != 0)
					return rc;
				continue;
			}
		}
		const char *name = str(rt, "name") ? str(rt, "name") : figure_name(val);
		lin_col one = {.name = name};
		if (!cols_push(t, out, name))
			return oom(t);
		if ((rc = expr_lineage(t, &s, env, val, &one)) != 0)
			return rc;
		out->v[out->n - 1] = one;
	}
	return 0;
}

static int trace_query(lin_tracer *t, json_t *node, lin_scope *outer, lin_cte *env, lin_cols *out)
{
	json_t *q = select_body(node);
	int rc;
	memset(out, 0, sizeof *out);
	if (!q) {
		json_t *b;
		const char *ty = ntype(node, &b);
		return stop(t, "a %s is not a SELECT", *ty ? ty : "statement");
	}
	if (++t->depth > MAX_QUERY_DEPTH) {
		t->depth--;
		return stop(t, "the query nests too deeply");
	}
	json_t *with = json_object_get(q, "withClause");
	const char *op = str(q, "op");
	if (with && (rc = push_ctes(t, with, outer, &env)) != 0)
		goto done;
	if (op && strcmp(op, "SETOP_NONE") != 0)
		rc = trace_setop(t, q, op, outer, env, out);
	else if (json_object_get(q, "valuesLists"))
		rc = trace_values(t, json_object_get(q, "valuesLists"), outer, env, out);
	else
		rc = trace_select(t, q, outer, env, out);
done:
	t->depth--;
	return rc;
}

int sl_lineage_trace(lin_tracer *t, json_t *tree, lin_cols *out)
{
	json_t *stmts = json_object_get(tree, "stmts"), *b;
	size_t n = json_array_size(stmts);
	memset(out, 0, sizeof *out);
	if (n == 0)
		return stop(t, "the SQL holds no statement");
	if (n > 1)
		return stop(t, "the SQL holds %zu statements; lineage reads one SELECT", n);
	json_t *stmt = json_object_get(json_array_get(stmts, 0), "stmt");
	const char *ty = ntype(stmt, &b);
	if (strcmp(ty, "SelectStmt") != 0)
		return stop(t, "the SQL is a %s, not a SELECT", *ty ? ty : "statement");
	return trace_query(t, stmt, NULL, NULL, out);
}
