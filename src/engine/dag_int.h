/*
 * dag_int.h: what the task graph's own files (dag.c, select.c,
 * dag_format.c, exec.c) share: the downstream adjacency of a graph and a
 * deterministic topological order. Nothing outside src/engine/dag*.c,
 * select.c and exec.c includes it.
 */
#ifndef SL_DAG_INT_H
#define SL_DAG_INT_H

#include "engine/engine.h"

/*
 * The tasks that wait for each task, as one array: the downstream of task
 * t are list[off[t] .. off[t + 1]), in graph order. off has g->n + 1
 * entries. Both are sl_free'd by the caller.
 */
int sl_dag_downstream(const sl_dag *g, int **off, int **list, sl_error *err);

/*
 * Fills order[] with the tasks (the selected ones; selected NULL: all) so
 * that each comes after every task it waits for, ties broken by graph
 * order (the smallest index that is ready comes first); *n gets their
 * count. An unselected task still orders the selected ones around it.
 * order holds g->n entries. SL_EINVAL on a cycle.
 */
int sl_dag_order(const sl_dag *g, const bool *selected, int *order, int *n, sl_error *err);

/* A binary min-heap of task indexes keyed by (key, index). */
typedef struct sl_dag_heap {
	int *idx;
	double *key;
	int n;
} sl_dag_heap;

/* cap: the most entries it will hold. */
int sl_dag_heap_init(sl_dag_heap *h, int cap, sl_error *err);
void sl_dag_heap_free(sl_dag_heap *h);
void sl_dag_heap_push(sl_dag_heap *h, int idx, double key);
/* The smallest entry's index (h->n > 0), removed. */
int sl_dag_heap_pop(sl_dag_heap *h);

#endif
