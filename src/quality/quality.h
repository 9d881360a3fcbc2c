/*
 * quality.h: column-level lineage — each output column of a model's
 * compiled SQL traced to the input columns it derives from, through CTEs,
 * subqueries, joins, aggregates, CASE and window functions, with the
 * PostgreSQL parser (libpg_query) reading the SQL. Data tests themselves
 * are nodes of the SQL project (models/); this module judges SQL, it runs
 * nothing.
 */
#ifndef SL_QUALITY_H
#define SL_QUALITY_H

#include "base/base.h"
#include "models/models.h"

/* An input column an output column derives from. */
typedef struct sl_lineage_ref {
	const char *node;     /* unique_id of the model, seed, snapshot or source
				 read ("source.p.s.t"); NULL when the relation is
				 not one of the project's */
	const char *relation; /* the relation as the SQL names it: "main"."stg_orders" */
	const char *column;   /* its column */
} sl_lineage_ref;

typedef enum {
	SL_LINEAGE_DIRECT = 0,    /* the column as it is (maybe renamed or cast) */
	SL_LINEAGE_TRANSFORMED,   /* an expression, CASE, function of inputs */
	SL_LINEAGE_AGGREGATED     /* an aggregate or window function of inputs */
} sl_lineage_how;

/* One output column of the model. */
typedef struct sl_lineage_column {
	const char *name;
	sl_lineage_how how;
	const sl_lineage_ref *from; /* deduplicated, in order of first use */
	int nfrom;
} sl_lineage_column;

typedef struct sl_lineage {
	sl_arena arena;              /* owns every string and array below */
	sl_lineage_column *columns;  /* in the SELECT's order */
	int ncolumns;
	/* NULL when the SQL was traced; else why not ("syntax error at or
	 * near "qualify" (line 3)"; "select * from a relation whose columns
	 * are unknown: ..."): the model keeps model-level lineage */
	const char *error;
} sl_lineage;

/*
 * The columns of a relation the SQL reads, for `select *` and unqualified
 * names: fills *cols (borrowed, valid until the lineage is freed) and
 * *ncols; *ncols < 0 when unknown. node is the unique_id the relation
 * belongs to (or NULL).
 */
typedef int (*sl_lineage_columns_fn)(void *ud, const char *node, const char *schema,
				     const char *table, const char *const **cols, int *ncols,
				     sl_error *err);

/*
 * Traces the compiled SQL of node i of m (sql: what sl_models_compile
 * gave). Relations are matched to the project's nodes and sources by
 * schema and name (database ignored), as the SQL names them. A SQL text
 * the parser refuses is not an error: out->error says why. Returns a
 * negative code only for out of memory or a columns_fn error.
 */
int sl_lineage_of_node(sl_models *m, int i, const char *sql, sl_lineage_columns_fn fn,
		       void *ud, sl_lineage *out, sl_error *err);

/* The same for a SQL text alone (no project: every ref's node is NULL). */
int sl_lineage_of_sql(const char *sql, sl_lineage_columns_fn fn, void *ud, sl_lineage *out,
		      sl_error *err);

void sl_lineage_free(sl_lineage *l);

/* "direct", "transformed", "aggregated". */
const char *sl_lineage_how_name(sl_lineage_how h);

#endif
