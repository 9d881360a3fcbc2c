/*
 * dag_bench.c: the executor's scheduling overhead. Builds a synthetic graph
 * of no-op tasks (random edges, a given depth, a fixed seed), runs it with
 * sl_dag_execute and prints tasks, edges, seconds, the overhead per task
 * and the peak RSS; then times a graph of 100 no-op tasks.
 *   dag_bench [TASKS [DEPTH [THREADS]]]    (default: 10000 50 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "engine/engine.h"

static int noop(sl_task *t, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		sl_error *err)
{
	return 0;
}

static const sl_task_kind noop_kind = {"noop", noop};

static int on_start(void *ctx, int task, int attempt, sl_error *err)
{
	return 0;
}

static int on_end(void *ctx, int task, int attempt, sl_task_status status,
		  const sl_task_outcome *out, const sl_error *err, sl_error *rec_err)
{
	(*(long *)ctx)++;
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Tasks in depth levels of equal size; every task past the first level
 * waits for one random task of the level before (so the graph is depth
 * levels deep) and for up to two random tasks of any earlier level.
 */
static int build(sl_dag *g, int n, int depth, long *edges, sl_error *err)
{
	int per = (n + depth - 1) / depth;
	char id[32];
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "noop:t%05d", i);
		sl_task t = {.kind = &noop_kind, .id = id, .node = id + 5};
		int rc = sl_dag_add(g, &t, err);
		if (rc < 0)
			return rc;
		int level = i / per;
		if (level == 0)
			continue;
		int prev = (level - 1) * per;
		int rc2 = sl_dag_depend(g, i, prev + (int)(next_random() % (uint64_t)per), err);
		for (int k = (int)(next_random() % 3); rc2 == 0 && k > 0; k--)
			rc2 = sl_dag_depend(g, i, (int)(next_random() % (uint64_t)(level * per)), err);
		if (rc2 < 0)
			return rc2;
	}
	*edges = 0;
	for (int i = 0; i < n; i++)
		*edges += g->tasks[i].ndeps;
	return 0;
}

static double run(const sl_dag *g, int threads, long *ended, int *rc)
{
	sl_task_status *st = malloc((size_t)g->n * sizeof *st);
	sl_exec_opts o = {.threads = threads, .ctx = ended, .on_start = on_start, .on_end = on_end};
	sl_error err = SL_ERROR_INIT;
	double t0 = sl_monotonic_seconds();
	*rc = sl_dag_execute(g, NULL, &o, st, &err);
	double secs = sl_monotonic_seconds() - t0;
	if (*rc != 0)
		fprintf(stderr, "dag_bench: execute returned %d: %s\n", *rc, err.message);
	free(st);
	return secs;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	int depth = argc > 2 ? atoi(argv[2]) : 50;
	int threads = argc > 3 ? atoi(argv[3]) : 2;
	if (n < 1 || depth < 1 || depth > n) {
		fprintf(stderr, "usage: dag_bench [TASKS [DEPTH [THREADS]]]\n");
		return 2;
	}
	sl_dag g;
	sl_error err = SL_ERROR_INIT;
	long edges = 0, ended = 0;
	int rc;
	sl_dag_init(&g);
	double t0 = sl_monotonic_seconds();
	if (build(&g, n, depth, &edges, &err) < 0 || sl_dag_check(&g, &err) < 0) {
		fprintf(stderr, "dag_bench: %s\n", err.message);
		return 1;
	}
	double built = sl_monotonic_seconds() - t0;
	double secs = run(&g, threads, &ended, &rc);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("dag: %d no-op tasks, %ld edges, depth %d, %d threads\n", n, edges, depth, threads);
	printf("  build + check      %8.3f s\n", built);
	printf("  execute            %8.3f s  (%ld attempts ended)\n", secs, ended);
	printf("  overhead per task  %8.4f ms  (target < 0.2 ms)\n", secs * 1e3 / n);
	printf("  peak RSS           %8.1f MB\n", ru.ru_maxrss / 1024.0);
	sl_dag_free(&g);
	if (rc != 0)
		return 1;

	/* A small graph, as most projects have: 100 tasks, depth 10. */
	sl_dag small;
	sl_dag_init(&small);
	if (build(&small, 100, 10, &edges, &err) < 0) {
		fprintf(stderr, "dag_bench: %s\n", err.message);
		return 1;
	}
	double once = run(&small, threads, &ended, &rc), total = 0;
	int reps = 100;
	for (int i = 0; i < reps && rc == 0; i++)
		total += run(&small, threads, &ended, &rc);
	printf("dag: 100 no-op tasks, %ld edges, depth 10: first run %.3f ms, mean of %d runs "
	       "%.3f ms (%.4f ms per task)\n",
	       edges, once * 1e3, reps, total * 1e3 / reps, total * 1e3 / reps / 100);
	sl_dag_free(&small);
	return rc == 0 ? 0 : 1;
}
