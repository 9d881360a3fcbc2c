/*
 * lineage_expr.c: the lineage of a select-list expression — every column
 * reference it holds resolved in the query's scope (a USING/NATURAL join
 * column, the one entry having the name, the one entry whose columns are
 * unknown; then the enclosing queries'), how it derives (a column as it is
 * or cast: direct; aggregates and window functions: aggregated; any other
 * expression: transformed; the strongest of what it reads), subqueries
 * inside it traced, and the name PostgreSQL gives it when unnamed.
 */
#include "quality/lineage_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_EXPR_DEPTH 4000 /* JSON levels inside one expression */

int lin_acc_col(lin_tracer *t, lin_acc *a, const lin_col *c)
{
	if (c->how > a->how)
		a->how = c->how;
	return lin_set_union(t, &a->from, &c->from);
}

/* Column name of an entry whose columns are unknown: the relation's
 * column itself (nothing for a function's). */
int lin_acc_unknown(lin_tracer *t, lin_acc *a, const lin_cols *c, const char *name)
{
	int ref;
	if (!c->rel)
		return 0;
	if (lin_intern(t, c->node, c->rel, name, &ref) < 0)
		return SL_ENOMEM;
	return lin_set_add(t, &a->from, ref);
}

int lin_acc_all(lin_tracer *t, lin_acc *a, const lin_cols *c)
{
	for (int i = 0; i < c->n; i++)
		if (lin_acc_col(t, a, &c->v[i]) < 0)
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
lin_rte *lin_find_rte(lin_scope *s, const char *schema, const char *name)
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
static int resolve_bare(lin_tracer *t, lin_scope *s, const char *name, lin_acc *a)
{
	for (; s; s = s->parent) {
		for (int i = s->merged.n - 1; i >= 0; i--)
			if (strcasecmp(s->merged.v[i].name, name) == 0)
				return lin_acc_col(t, a, &s->merged.v[i]);
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
			int k = lin_cols_find(&r->cols, name);
			if (k < 0)
				continue;
			if (hit)
				return lin_stop(t, "column reference \"%s\" is ambiguous: both %s and %s "
					    "have it", name, lin_rte_label(hit), lin_rte_label(r));
			hit = r;
			col = k;
		}
		if (hit)
			return lin_acc_col(t, a, &hit->cols.v[col]);
		if (unknown2)
			return lin_stop(t, "column \"%s\" may come from %s or %s, whose columns are "
				    "unknown; qualify it", name, lin_rte_label(unknown), lin_rte_label(unknown2));
		if (unknown)
			return lin_acc_unknown(t, a, &unknown->cols, name);
	}
	return lin_stop(t, "column \"%s\" is in none of the relations the query reads", name);
}

/* A ColumnRef: c, t.c, s.t.c, d.s.t.c, t.* (inside an expression). */
static int resolve(lin_tracer *t, lin_scope *s, json_t *fields, lin_acc *a)
{
	size_t n = json_array_size(fields);
	json_t *last = json_array_get(fields, n ? n - 1 : 0), *b;
	bool star = strcmp(lin_ntype(last, &b), "A_Star") == 0;
	if (n == 0)
		return 0;
	if (n == 1 && star) { /* count(*) spelled as a column: every column */
		for (lin_scope *x = s; x; x = x->parent)
			for (int i = 0; i < x->n; i++)
				if (lin_acc_all(t, a, &x->items[i]->cols) < 0)
					return SL_ENOMEM;
		return 0;
	}
	const char *col = star ? NULL : lin_sval(last);
	if (n == 1)
		return col ? resolve_bare(t, s, col, a) : 0;
	const char *qual = lin_sval(json_array_get(fields, n - 2));
	const char *schema = n >= 3 ? lin_sval(json_array_get(fields, n - 3)) : NULL;
	if (!qual)
		return 0;
	lin_rte *r = lin_find_rte(s, schema, qual);
	if (!r) {
		/* a composite's field (rec.field) read as a column */
		if (n == 2 && col) {
			lin_rte *whole = NULL;
			for (lin_scope *x = s; x && !whole; x = x->parent)
				for (int i = 0; i < x->n && !whole; i++)
					if (!x->items[i]->cols.unknown &&
					    lin_cols_find(&x->items[i]->cols, qual) >= 0)
						whole = x->items[i];
			if (whole)
				return resolve_bare(t, s, qual, a);
		}
		return lin_stop(t, "missing FROM-clause entry for \"%s\"", qual);
	}
	if (star)
		return lin_acc_all(t, a, &r->cols);
	if (r->cols.unknown)
		return lin_acc_unknown(t, a, &r->cols, col);
	int k = lin_cols_find(&r->cols, col);
	if (k < 0)
		return lin_stop(t, "column \"%s\" is not in %s", col, lin_rte_label(r));
	return lin_acc_col(t, a, &r->cols.v[k]);
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
	const char *name = k ? lin_sval(json_array_get(fn, k - 1)) : NULL;
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
static int walk(lin_tracer *t, lin_scope *s, lin_cte *env, json_t *v, lin_acc *a)
{
	int rc = 0;
	if (++t->depth > MAX_EXPR_DEPTH) {
		t->depth--;
		return lin_stop(t, "the query nests too deeply");
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
				rc = lin_trace_query(t, v, s, env, &sub);
				for (int i = 0; rc == 0 && i < sub.n; i++)
					rc = lin_acc_col(t, a, &sub.v[i]);
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
int lin_expr_lineage(lin_tracer *t, lin_scope *s, lin_cte *env, json_t *e, lin_col *col)
{
	json_t *b, *x = e;
	const char *ty;
	/* casts and collations keep a column as it is */
	while ((ty = lin_ntype(x, &b)) && (strcmp(ty, "TypeCast") == 0 ||
				       strcmp(ty, "CollateClause") == 0))
		x = json_object_get(b, "arg");
	lin_acc a = {.how = SL_LINEAGE_TRANSFORMED};
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
const char *lin_figure_name(json_t *e)
{
	json_t *b;
	const char *ty = lin_ntype(e, &b);
	if (strcmp(ty, "ColumnRef") == 0) {
		json_t *f = json_object_get(b, "fields");
		size_t n = json_array_size(f);
		const char *s = n ? lin_sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "FuncCall") == 0) {
		json_t *f = json_object_get(b, "funcname");
		size_t n = json_array_size(f);
		const char *s = n ? lin_sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "TypeCast") == 0) {
		const char *inner = lin_figure_name(json_object_get(b, "arg"));
		if (strcmp(inner, "?column?") != 0)
			return inner;
		json_t *names = json_object_get(json_object_get(b, "typeName"), "names");
		size_t n = json_array_size(names);
		const char *s = n ? lin_sval(json_array_get(names, n - 1)) : NULL;
		return s ? s : "?column?";
	}
	if (strcmp(ty, "CollateClause") == 0)
		return lin_figure_name(json_object_get(b, "arg"));
	if (strcmp(ty, "A_Indirection") == 0) {
		json_t *f = json_object_get(b, "indirection");
		size_t n = json_array_size(f);
		const char *s = n ? lin_sval(json_array_get(f, n - 1)) : NULL;
		return s ? s : lin_figure_name(json_object_get(b, "arg"));
	}
	if (strcmp(ty, "CaseExpr") == 0)
		return "case";
	if (strcmp(ty, "CoalesceExpr") == 0)
		return "coalesce";
	if (strcmp(ty, "NullIfExpr") == 0)
		return "nullif";
	if (strcmp(ty, "MinMaxExpr") == 0)
		return strcmp(lin_str(b, "op") ? lin_str(b, "op") : "", "IS_LEAST") == 0 ? "least"
										 : "greatest";
	if (strcmp(ty, "A_ArrayExpr") == 0)
		return "array";
	if (strcmp(ty, "RowExpr") == 0)
		return "row";
	if (strcmp(ty, "SubLink") == 0) {
		const char *kind = lin_str(b, "subLinkType");
		if (kind && strcmp(kind, "EXISTS_SUBLINK") == 0)
			return "exists";
		if (kind && strcmp(kind, "ARRAY_SUBLINK") == 0)
			return "array";
		if (kind && strcmp(kind, "EXPR_SUBLINK") == 0) {
			json_t *q = lin_select_body(json_object_get(b, "subselect"));
			json_t *rt = json_array_get(json_object_get(q, "targetList"), 0), *rb;
			if (strcmp(lin_ntype(rt, &rb), "ResTarget") == 0)
				return lin_str(rb, "name") ? lin_str(rb, "name")
						       : lin_figure_name(json_object_get(rb, "val"));
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
		const char *op = lin_str(b, "op");
		for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
			if (strcmp(op, ops[i].op) == 0)
				return ops[i].name;
	}
	return "?column?";
}

