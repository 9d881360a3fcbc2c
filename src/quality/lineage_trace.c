/*
 * lineage_trace.c: walks libpg_query's JSON parse tree of one SELECT and
 * tells, for each output column, the input columns it derives from: the
 * query levels (FROM, WITH, set operations, VALUES, the select list);
 * lineage_expr.c reads the expressions.
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

#define MAX_QUERY_DEPTH 64  /* nested queries (subqueries, CTEs) */
#define RECURSIVE_ROUNDS 16

/* ---------------------------------------------------------------- FROM */

static int scope_push(lin_tracer *t, lin_scope *s, lin_rte **out)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		lin_rte **v = sl_arena_alloc(t->work, (size_t)cap * sizeof *v);
		if (!v)
			return lin_oom(t);
		if (s->n)
			memcpy(v, s->items, (size_t)s->n * sizeof *v);
		s->items = v;
		s->cap = cap;
	}
	lin_rte *r = sl_arena_alloc(t->work, sizeof *r);
	if (!r)
		return lin_oom(t);
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
	const char *db = lin_str(rv, "catalogname"), *schema = lin_str(rv, "schemaname");
	const char *name = lin_str(rv, "relname");
	json_t *alias = json_object_get(rv, "alias");
	const char *aname = lin_str(alias, "aliasname");
	lin_rte *r;
	int rc;
	if (!name)
		return lin_stop(t, "a relation without a name");
	if ((rc = scope_push(t, s, &r)) < 0)
		return rc;
	r->name = aname ? aname : name;
	lin_cte *cte = schema ? NULL : find_cte(env, name);
	if (cte) {
		r->cols = cte->cols;
		if (cte->pending) /* a recursive CTE's first round: nothing yet */
			r->cols = (lin_cols){.unknown = cte->name};
	} else {
		const char *relation = lin_quote(t, db, schema, name);
		const char *node = t->node_fn ? t->node_fn(t->node_ud, schema, name) : NULL;
		const char *const *names = NULL;
		int n = -1;
		if (!relation)
			return lin_oom(t);
		if (t->cols_fn && (rc = t->cols_fn(t->cols_ud, node, schema, name, &names, &n,
						   t->err)) < 0)
			return rc;
		r->schema = aname ? NULL : schema;
		r->cols.rel = relation;
		r->cols.node = node;
		if (n < 0)
			r->cols.unknown = relation;
		for (int i = 0; i < n; i++) {
			lin_col *c = lin_cols_push(t, &r->cols, names[i]);
			int ref;
			if (!c || !(c->name = sl_arena_strdup(t->work, names[i])))
				return lin_oom(t);
			if (lin_intern(t, node, relation, names[i], &ref) < 0 ||
			    lin_set_add(t, &c->from, ref) < 0)
				return SL_ENOMEM;
		}
	}
	if ((rc = lin_rename_cols(t, &r->cols, json_object_get(alias, "colnames"))) != 0)
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
			return lin_stop(t, "NATURAL JOIN with %s, whose columns are unknown",
				    l.unknown ? l.unknown : r.unknown);
		names = sl_arena_alloc(t->work, ((size_t)l.n + 1) * sizeof *names);
		if (!names)
			return lin_oom(t);
		for (int i = 0; i < l.n; i++)
			if (lin_cols_find(&r, l.v[i].name) >= 0)
				names[nnames++] = l.v[i].name;
	} else {
		json_t *u = json_object_get(j, "usingClause");
		names = sl_arena_alloc(t->work, (json_array_size(u) + 1) * sizeof *names);
		if (!names)
			return lin_oom(t);
		for (size_t i = 0; i < json_array_size(u); i++)
			if (lin_sval(json_array_get(u, i)))
				names[nnames++] = lin_sval(json_array_get(u, i));
	}
	lin_cols out = {0};
	for (int i = 0; i < nnames; i++) {
		lin_acc a = {.how = SL_LINEAGE_DIRECT};
		int li = lin_cols_find(&l, names[i]), ri = lin_cols_find(&r, names[i]);
		const lin_cols *side[2] = {&l, &r};
		int at[2] = {li, ri};
		for (int k = 0; k < 2; k++) {
			if (at[k] >= 0)
				rc = lin_acc_col(t, &a, &side[k]->v[at[k]]);
			else if (side[k]->unknown)
				rc = lin_acc_unknown(t, &a, side[k], names[i]);
			else
				rc = lin_stop(t, "column \"%s\" named in USING is not in the %s side of "
					  "the join", names[i], k ? "right" : "left");
			if (rc != 0)
				return rc;
		}
		lin_col *m = lin_cols_push(t, &s->merged, names[i]);
		lin_col *o = m ? lin_cols_push(t, &out, names[i]) : NULL;
		if (!o)
			return lin_oom(t);
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
			lin_col *o = lin_cols_push(t, &out, c->v[i].name);
			if (!o)
				return lin_oom(t);
			*o = c->v[i];
		}
		if (c->unknown && !out.unknown)
			out.unknown = c->unknown;
	}
	json_t *alias = json_object_get(j, "alias");
	if (lin_str(alias, "aliasname")) {
		lin_rte *jr;
		if ((rc = scope_push(t, s, &jr)) < 0)
			return rc;
		jr->name = lin_str(alias, "aliasname");
		jr->cols = out;
		jr->qualified_only = true;
		if ((rc = lin_rename_cols(t, &jr->cols, json_object_get(alias, "colnames"))) != 0)
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
	const char *ty = lin_ntype(item, &b);
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
		if ((rc = lin_trace_query(t, json_object_get(b, "subquery"), s, env, &sub)) != 0)
			return rc;
		if ((rc = lin_rename_cols(t, &sub, json_object_get(alias, "colnames"))) != 0)
			return rc;
		if ((rc = scope_push(t, s, &r)) < 0)
			return rc;
		r->name = lin_str(alias, "aliasname");
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
		r->name = lin_str(alias, "aliasname");
		json_t *fl = json_array_get(json_array_get(json_object_get(b, "functions"), 0), 0);
		json_t *fb;
		if (!r->name && strcmp(lin_ntype(fl, &fb), "FuncCall") == 0) {
			json_t *fn = json_object_get(fb, "funcname");
			size_t n = json_array_size(fn);
			r->name = n ? lin_sval(json_array_get(fn, n - 1)) : NULL;
		}
		r->cols.unknown = r->name ? r->name : "a function";
		if ((rc = lin_rename_cols(t, &r->cols, json_object_get(alias, "colnames"))) != 0)
			return rc;
		*star = r->cols;
		return 0;
	}
	return lin_stop(t, "FROM item %s is not traced", *ty ? ty : "(unknown)");
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
		if (strcmp(lin_ntype(node, &b), "CommonTableExpr") != 0)
			continue;
		lin_cte *c = sl_arena_alloc(t->work, sizeof *c);
		if (!c)
			return lin_oom(t);
		memset(c, 0, sizeof *c);
		c->name = lin_str(b, "ctename") ? lin_str(b, "ctename") : "";
		c->next = *env;
		json_t *q = json_object_get(b, "ctequery"), *qb = lin_select_body(q);
		json_t *names = json_object_get(b, "aliascolnames");
		if (!qb)
			return lin_stop(t, "CTE \"%s\" is not a SELECT", c->name);
		const char *op = lin_str(qb, "op");
		if (recursive && op && strcmp(op, "SETOP_NONE") != 0) {
			/* the non-recursive term first, then rounds until the
			 * columns stop growing */
			c->pending = true;
			lin_cte *self_env = c;
			if ((rc = lin_trace_query(t, json_object_get(qb, "larg"), outer, self_env,
					      &c->cols)) != 0)
				return rc;
			if ((rc = lin_rename_cols(t, &c->cols, names)) != 0)
				return rc;
			c->pending = false;
			for (int round = 0; round < RECURSIVE_ROUNDS; round++) {
				lin_cols next = {0};
				if ((rc = lin_trace_query(t, q, outer, self_env, &next)) != 0)
					return rc;
				if ((rc = lin_rename_cols(t, &next, names)) != 0)
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
			if ((rc = lin_trace_query(t, q, outer, recursive ? c : *env, &c->cols)) != 0)
				return rc;
			if ((rc = lin_rename_cols(t, &c->cols, names)) != 0)
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
	if ((rc = lin_trace_query(t, json_object_get(q, "larg"), outer, env, &l)) != 0 ||
	    (rc = lin_trace_query(t, json_object_get(q, "rarg"), outer, env, &r)) != 0)
		return rc;
	const char *word = strcmp(op, "SETOP_UNION") == 0       ? "UNION"
			   : strcmp(op, "SETOP_INTERSECT") == 0 ? "INTERSECT"
								: "EXCEPT";
	if (l.n != r.n)
		return lin_stop(t, "each %s query must have the same number of columns (%d and %d)",
			    word, l.n, r.n);
	/* EXCEPT's values are the left side's alone */
	for (int i = 0; i < l.n && strcmp(word, "EXCEPT") != 0; i++) {
		if (r.v[i].how > l.v[i].how)
			l.v[i].how = r.v[i].how;
		if (lin_set_union(t, &l.v[i].from, &r.v[i].from) < 0)
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
		json_t *items = strcmp(lin_ntype(row, &b), "List") == 0 ? json_object_get(b, "items")
								     : NULL;
		for (size_t k = 0; k < json_array_size(items); k++) {
			if ((int)k >= out->n) {
				char nm[32];
				snprintf(nm, sizeof nm, "column%zu", k + 1);
				lin_col *c = lin_cols_push(t, out, NULL);
				if (!c || !(c->name = sl_arena_strdup(t->work, nm)))
					return lin_oom(t);
				c->how = SL_LINEAGE_TRANSFORMED;
			}
			lin_col one = {0};
			int rc = lin_expr_lineage(t, outer, env, json_array_get(items, k), &one);
			if (rc != 0)
				return rc;
			if (lin_set_union(t, &out->v[k].from, &one.from) < 0)
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
		const char *qual = lin_sval(json_array_get(fields, n - 2));
		const char *schema = n >= 3 ? lin_sval(json_array_get(fields, n - 3)) : NULL;
		lin_rte *r = qual ? lin_find_rte(s, schema, qual) : NULL;
		if (!r)
			return lin_stop(t, "missing FROM-clause entry for \"%s\"", qual ? qual : "");
		c = &r->cols;
	} else if (s->n == 0) {
		return lin_stop(t, "SELECT * with no FROM clause");
	}
	if (c->unknown)
		return lin_stop(t, "select * from a relation whose columns are unknown: %s",
			    c->unknown);
	for (int i = 0; i < c->n; i++)
		if (lin_cols_copy_one(t, out, &c->v[i]) < 0)
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
			lin_col *c = lin_cols_push(t, &s.star, NULL);
			if (!c)
				return lin_oom(t);
			*c = star.v[k];
		}
		if (star.unknown && !s.star.unknown)
			s.star.unknown = star.unknown;
	}
	json_array_foreach(json_object_get(q, "targetList"), i, item)
	{
		json_t *rt, *vb;
		if (strcmp(lin_ntype(item, &rt), "ResTarget") != 0)
			continue;
		json_t *val = json_object_get(rt, "val");
		if (strcmp(lin_ntype(val, &vb), "ColumnRef") == 0) {
			json_t *f = json_object_get(vb, "fields"), *sb;
			size_t n = json_array_size(f);
			if (n && strcmp(lin_ntype(json_array_get(f, n - 1), &sb), "A_Star") == 0) {
				if ((rc = expand_star(t, &s, f, out)) != 0)
					return rc;
				continue;
			}
		}
		const char *name = lin_str(rt, "name") ? lin_str(rt, "name") : lin_figure_name(val);
		lin_col one = {.name = name};
		if (!lin_cols_push(t, out, name))
			return lin_oom(t);
		if ((rc = lin_expr_lineage(t, &s, env, val, &one)) != 0)
			return rc;
		out->v[out->n - 1] = one;
	}
	return 0;
}

int lin_trace_query(lin_tracer *t, json_t *node, lin_scope *outer, lin_cte *env, lin_cols *out)
{
	json_t *q = lin_select_body(node);
	int rc;
	memset(out, 0, sizeof *out);
	if (!q) {
		json_t *b;
		const char *ty = lin_ntype(node, &b);
		return lin_stop(t, "a %s is not a SELECT", *ty ? ty : "statement");
	}
	if (++t->qdepth > MAX_QUERY_DEPTH) {
		t->qdepth--;
		return lin_stop(t, "the query nests too deeply");
	}
	json_t *with = json_object_get(q, "withClause");
	const char *op = lin_str(q, "op");
	if (with && (rc = push_ctes(t, with, outer, &env)) != 0)
		goto done;
	if (op && strcmp(op, "SETOP_NONE") != 0)
		rc = trace_setop(t, q, op, outer, env, out);
	else if (json_object_get(q, "valuesLists"))
		rc = trace_values(t, json_object_get(q, "valuesLists"), outer, env, out);
	else
		rc = trace_select(t, q, outer, env, out);
done:
	t->qdepth--;
	return rc;
}

int sl_lineage_trace(lin_tracer *t, json_t *tree, lin_cols *out)
{
	json_t *stmts = json_object_get(tree, "stmts"), *b;
	size_t n = json_array_size(stmts);
	memset(out, 0, sizeof *out);
	if (n == 0)
		return lin_stop(t, "the SQL holds no statement");
	if (n > 1)
		return lin_stop(t, "the SQL holds %zu statements; lineage reads one SELECT", n);
	json_t *stmt = json_object_get(json_array_get(stmts, 0), "stmt");
	const char *ty = lin_ntype(stmt, &b);
	if (strcmp(ty, "SelectStmt") != 0)
		return lin_stop(t, "the SQL is a %s, not a SELECT", *ty ? ty : "statement");
	return lin_trace_query(t, stmt, NULL, NULL, out);
}
