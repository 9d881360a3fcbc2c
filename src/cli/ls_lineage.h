/*
 * ls_lineage.h: column-level lineage for `sluice ls --output json` — each
 * model's and snapshot's output columns and the input columns they derive
 * from (quality/), with relations' columns from the warehouse or from the
 * upstream model's own lineage.
 */
#ifndef SL_LS_LINEAGE_H
#define SL_LS_LINEAGE_H

#include "cli/cli_int.h"

#include <jansson.h>

typedef struct sl_ls_lineage sl_ls_lineage;

/* Ready to trace cp's nodes for target (NULL: the default). The warehouse
 * is opened when it exists and answers; else SQL compiles without it. */
int sl_ls_lineage_new(sl_ls_lineage **out, const sl_cli_project *cp, const char *target,
		      sl_error *err);
/* Sets "columns" ({"col": {"how", "from": [{node, relation, column}]}}) on
 * o for node i, and "lineage_error" when its SQL is not traced. Negative
 * only when out of memory. */
int sl_ls_lineage_add(sl_ls_lineage *l, int i, json_t *o, sl_error *err);
void sl_ls_lineage_free(sl_ls_lineage *l);

#endif
