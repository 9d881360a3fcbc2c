/*
 * lineage_int.h: what the lineage files share — the tracer walking
 * libpg_query's JSON parse tree (lineage_trace.c: FROM, WITH, queries;
 * lineage_expr.c: names and expressions; lineage_util.c: the tree, sets,
 * column lists), the column sets it passes between query levels, and the
 * hook lineage_nodes.c gives to name the project's node behind each
 * relation.
 */
#ifndef SL_LINEAGE_INT_H
#define SL_LINEAGE_INT_H

#include "quality/quality.h"

#include <jansson.h>

/* The unique_id of the project node behind schema.table (schema NULL when
 * the SQL does not say), or NULL. */
typedef const char *(*sl_lineage_node_fn)(void *ud, const char *schema, const char *table);

/* A set of interned input columns (indexes into the tracer's ref table),
 * in order of first use. */
typedef struct lin_set {
	int *v;
	int n, cap;
} lin_set;

/* A column a query level makes visible, with what it derives from. */
typedef struct lin_col {
	const char *name;
	sl_lineage_how how;
	lin_set from;
} lin_col;

/* Columns of a relation, subquery, CTE or join: unknown when the
 * relation's columns could not be told (then what names it). */
typedef struct lin_cols {
	lin_col *v;
	int n, cap;
	const char *unknown; /* NULL: known; else the relation ("main"."t") */
	const char *rel;     /* a base relation's quoted name, for its columns
				when they are unknown; NULL for others */
	const char *node;    /* the project node behind rel, or NULL */
} lin_cols;

typedef struct lin_tracer {
	sl_arena *work;              /* everything below; freed at the end */
	sl_lineage_columns_fn cols_fn;
	void *cols_ud;
	sl_lineage_node_fn node_fn;
	void *node_ud;
	sl_lineage_ref *refs;        /* interned input columns */
	int nrefs, caprefs;
	const char *why;             /* set when the SQL is not traced */
	int depth;                   /* JSON levels inside an expression */
	int qdepth;                  /* nested queries */
	sl_error *err;
} lin_tracer;

/* What lin_stop returns: the SQL is not traced (t->why says why). */
#define LIN_NOT_TRACED 1

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


typedef struct lin_acc {
	lin_set from;
	sl_lineage_how how;
} lin_acc;

/* lineage_util.c: the parse tree, sets and column lists */
int lin_oom(lin_tracer *t);
/* Stops the trace with a reason: LIN_NOT_TRACED (or SL_ENOMEM). */
int lin_stop(lin_tracer *t, const char *fmt, ...) SL_PRINTF(2, 3);
/* The type of a parse node {"Type": {...}} and its body ("" when none). */
const char *lin_ntype(json_t *n, json_t **body);
const char *lin_str(json_t *o, const char *key);
/* The text of a String node, or NULL. */
const char *lin_sval(json_t *n);
/* A SelectStmt's body, given the node or the body itself (larg, rarg). */
json_t *lin_select_body(json_t *q);
int lin_set_add(lin_tracer *t, lin_set *s, int ref);
int lin_set_union(lin_tracer *t, lin_set *s, const lin_set *o);
/* The input column relation.column of node, interned in t->refs. */
int lin_intern(lin_tracer *t, const char *node, const char *relation, const char *column,
	       int *out);
/* A new zeroed column at the end of c (NULL when out of memory). */
lin_col *lin_cols_push(lin_tracer *t, lin_cols *c, const char *name);
/* Appends a copy of col (its own set) to c. */
int lin_cols_copy_one(lin_tracer *t, lin_cols *c, const lin_col *col);
/* The column named name in c (exact, else case-insensitive), or -1. */
int lin_cols_find(const lin_cols *c, const char *name);
/* Renames the first columns of *c as an alias's column list says. */
int lin_rename_cols(lin_tracer *t, lin_cols *c, json_t *names);
/* "db"."schema"."rel" quoted as SQL quotes it (NULL parts left out). */
const char *lin_quote(lin_tracer *t, const char *db, const char *schema, const char *rel);
/* A FROM entry's name for messages. */
const char *lin_rte_label(const lin_rte *r);

/* lineage_expr.c: names and select-list expressions */
int lin_acc_col(lin_tracer *t, lin_acc *a, const lin_col *c);
/* A column of an entry whose columns are unknown: the relation's own. */
int lin_acc_unknown(lin_tracer *t, lin_acc *a, const lin_cols *c, const char *name);
int lin_acc_all(lin_tracer *t, lin_acc *a, const lin_cols *c);
/* The entry a qualifier names, in s or the enclosing scopes. */
lin_rte *lin_find_rte(lin_scope *s, const char *schema, const char *name);
/* The lineage of one select-list expression into col. */
int lin_expr_lineage(lin_tracer *t, lin_scope *s, lin_cte *env, json_t *e, lin_col *col);
/* The name PostgreSQL gives an unnamed select-list expression. */
const char *lin_figure_name(json_t *e);

/* lineage_trace.c: a query (SELECT, set operation, VALUES) into *out,
 * with outer the enclosing scope (correlated names) and env the CTEs. */
int lin_trace_query(lin_tracer *t, json_t *q, lin_scope *outer, lin_cte *env, lin_cols *out);

/*
 * Traces the one statement of tree (pg_query_parse's JSON) into *out.
 * Returns 0, 1 when the SQL is not traced (t->why says why), or a negative
 * code (out of memory, the columns callback's error).
 */
int sl_lineage_trace(lin_tracer *t, json_t *tree, lin_cols *out);

/* Parses and traces sql into out (quality.h's contract); nfn names the
 * project node behind a relation, or is NULL. */
int sl_lineage_run(const char *sql, sl_lineage_columns_fn fn, void *ud, sl_lineage_node_fn nfn,
		   void *nud, sl_lineage *out, sl_error *err);

#endif
