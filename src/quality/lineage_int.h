/*
 * lineage_int.h: what the lineage files share — the tracer walking
 * libpg_query's JSON parse tree (lineage_trace.c), the column sets it
 * passes between query levels, and the hook sl_lineage_of_node uses to
 * name the project's node behind each relation (lineage.c).
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
	int depth;
	sl_error *err;
} lin_tracer;

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
