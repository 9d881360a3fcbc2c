/*
 * dag.c: the task graph itself — adding tasks (their strings copied into
 * the graph's arena), their dependencies, finding a task by id through a
 * small open-addressed hash, and checking that no tasks wait for each
 * other in a cycle. Also the shared helpers of dag_int.h: downstream
 * adjacency, a deterministic topological order and a min-heap.
 * It knows nothing of projects, sources or lakes.
 */
#include "engine/dag_int.h"

#include <stdio.h>
#include <string.h>

void sl_dag_init(sl_dag *g)
{
	memset(g, 0, sizeof *g);
	sl_arena_init(&g->arena, 16 * 1024);
}

void sl_dag_free(sl_dag *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n; i++)
		sl_free(g->tasks[i].deps);
	sl_free(g->tasks);
	sl_free(g->id_slots);
	sl_arena_free(&g->arena);
	memset(g, 0, sizeof *g);
}

/* FNV-1a: ids are short. */
static uint32_t hash_id(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot that holds id, or the empty slot where it would go. */
static int find_slot(const sl_dag *g, const char *id)
{
	int mask = g->id_nslots - 1;
	int i = (int)(hash_id(id) & (uint32_t)mask);
	while (g->id_slots[i] && strcmp(g->tasks[g->id_slots[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Keeps the hash at most half full: rebuilds it twice as large. */
static int grow_slots(sl_dag *g, sl_error *err)
{
	if (g->id_nslots >= 2 * (g->n + 1))
		return 0;
	int nslots = g->id_nslots ? g->id_nslots * 2 : 64;
	while (nslots < 2 * (g->n + 1))
		nslots *= 2;
	int *slots = sl_calloc((size_t)nslots, sizeof *slots);
	if (!slots)
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	sl_free(g->id_slots);
	g->id_slots = slots;
	g->id_nslots = nslots;
	for (int t = 0; t < g->n; t++)
		g->id_slots[find_slot(g, g->tasks[t].id)] = t + 1;
	return 0;
}

int sl_dag_find(const sl_dag *g, const char *id)
{
	if (!id || !g->id_nslots)
		return -1;
	int s = g->id_slots[find_slot(g, id)];
	return s - 1;
}

/* Copies n strings (and the array) into the arena; NULL for none. */
static const char *const *copy_strings(sl_arena *a, const char *const *v, int n, bool *oom)
{
	if (!v || n <= 0)
		return NULL;
	const char **d = sl_arena_alloc(a, (size_t)n * sizeof *d);
	if (!d) {
		*oom = true;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		d[i] = sl_arena_strdup(a, v[i] ? v[i] : "");
		if (!d[i])
			*oom = true;
	}
	return d;
}

int sl_dag_add(sl_dag *g, const sl_task *t, sl_error *err)
{
	if (!t->id || !*t->id)
		return sl_error_set(err, SL_EINVAL, "task graph: a task needs an id");
	if (!t->kind || !t->kind->run)
		return sl_error_set(err, SL_EINVAL, "task graph: task \"%s\" has no kind", t->id);
	if (sl_dag_find(g, t->id) >= 0)
		return sl_error_set(err, SL_EINVAL, "task graph: two tasks are named \"%s\"", t->id);
	int rc = grow_slots(g, err);
	if (rc < 0)
		return rc;
	if (g->n == g->cap) {
		int cap = g->cap ? g->cap * 2 : 16;
		sl_task *tasks = sl_realloc(g->tasks, (size_t)cap * sizeof *tasks);
		if (!tasks)
			return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
		g->tasks = tasks;
		g->cap = cap;
	}
	sl_task c = *t;
	bool oom = false;
	c.id = sl_arena_strdup(&g->arena, t->id);
	c.node = sl_arena_strdup(&g->arena, t->node ? t->node : t->id);
	c.source = t->source ? sl_arena_strdup(&g->arena, t->source) : NULL;
	c.tags = copy_strings(&g->arena, t->tags, t->ntags, &oom);
	c.ntags = c.tags ? t->ntags : 0;
	c.path = t->path ? sl_arena_strdup(&g->arena, t->path) : NULL;
	c.fqn = t->fqn ? sl_arena_strdup(&g->arena, t->fqn) : NULL;
	c.package = t->package ? sl_arena_strdup(&g->arena, t->package) : NULL;
	c.config = copy_strings(&g->arena, t->config, t->nconfig, &oom);
	c.nconfig = c.config ? t->nconfig : 0;
	c.test_type = t->test_type ? sl_arena_strdup(&g->arena, t->test_type) : NULL;
	c.test_name = t->test_name ? sl_arena_strdup(&g->arena, t->test_name) : NULL;
	oom |= (t->path && !c.path) || (t->fqn && !c.fqn) || (t->package && !c.package) ||
	       (t->test_type && !c.test_type) || (t->test_name && !c.test_name);
	c.reads = copy_strings(&g->arena, t->reads, t->nreads, &oom);
	c.nreads = c.reads ? t->nreads : 0;
	c.writes = copy_strings(&g->arena, t->writes, t->nwrites, &oom);
	c.nwrites = c.writes ? t->nwrites : 0;
	if (oom || !c.id || !c.node || (t->source && !c.source))
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	c.deps = NULL;
	c.ndeps = 0;
	g->tasks[g->n] = c;
	g->id_slots[find_slot(g, c.id)] = g->n + 1;
	return g->n++;
}

int sl_dag_depend(sl_dag *g, int task, int upstream, sl_error *err)
{
	if (task < 0 || task >= g->n || upstream < 0 || upstream >= g->n)
		return sl_error_set(err, SL_EINVAL, "task graph: no task %d or %d", task, upstream);
	sl_task *t = &g->tasks[task];
	if (task == upstream)
		return sl_error_set(err, SL_EINVAL, "dependency cycle: %s -> %s (the task waits for itself)",
				    t->id, t->id);
	for (int i = 0; i < t->ndeps; i++)
		if (t->deps[i] == upstream)
			return 0;
	/* The capacity is implicit: 4, then each power of two as it fills. */
	if (t->ndeps == 0 || (t->ndeps >= 4 && (t->ndeps & (t->ndeps - 1)) == 0)) {
		int cap = t->ndeps ? t->ndeps * 2 : 4;
		int *deps = sl_realloc(t->deps, (size_t)cap * sizeof *deps);
		if (!deps)
			return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
		t->deps = deps;
	}
	t->deps[t->ndeps++] = upstream;
	return 0;
}

/* ----------------------------------------------------------------- checks */

/* Names the tasks of the cycle stack[from..top] (each waits for the next). */
static int cycle_error(const sl_dag *g, const int *stack, int from, int top, sl_error *err)
{
	char names[800];
	size_t len = 0;
	names[0] = '\0';
	for (int i = from; i <= top + 1; i++) {
		const char *id = g->tasks[i <= top ? stack[i] : stack[from]].id;
		if (len + strlen(id) + 8 >= sizeof names) {
			snprintf(names + len, sizeof names - len, " -> ...");
			break;
		}
		len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i > from ? " -> " : "",
					id);
	}
	return sl_error_set(err, SL_EINVAL, "dependency cycle: %s (each task waits for the next)",
			    names);
}

int sl_dag_check(const sl_dag *g, sl_error *err)
{
	int rc = 0;
	int *stack = NULL, *next = NULL;
	unsigned char *color = NULL; /* 0 unseen, 1 on the stack, 2 done */
	for (int t = 0; t < g->n; t++)
		for (int i = 0; i < g->tasks[t].ndeps; i++) {
			int d = g->tasks[t].deps[i];
			if (d < 0 || d >= g->n || d == t)
				return sl_error_set(err, SL_EINVAL,
						    "task graph: task \"%s\" waits for task %d, which "
						    "is not in the graph",
						    g->tasks[t].id, d);
		}
	if (g->n == 0)
		return 0;
	stack = sl_malloc((size_t)g->n * sizeof *stack);
	next = sl_malloc((size_t)g->n * sizeof *next);
	color = sl_calloc((size_t)g->n, 1);
	if (!stack || !next || !color) {
		rc = sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
		goto done;
	}
	/* Depth-first along what each task waits for, without recursion. */
	for (int root = 0; root < g->n && rc == 0; root++) {
		if (color[root])
			continue;
		int top = 0;
		stack[0] = root;
		next[0] = 0;
		color[root] = 1;
		while (top >= 0) {
			const sl_task *t = &g->tasks[stack[top]];
			if (next[top] == t->ndeps) {
				color[stack[top--]] = 2;
				continue;
			}
			int d = t->deps[next[top]++];
			if (color[d] == 2)
				continue;
			if (color[d] == 1) {
				int from = top;
				while (stack[from] != d)
					from--;
				rc = cycle_error(g, stack, from, top, err);
				break;
			}
			color[d] = 1;
			stack[++top] = d;
			next[top] = 0;
		}
	}
done:
	sl_free(stack);
	sl_free(next);
	sl_free(color);
	return rc;
}

/* ------------------------------------------------------ shared helpers */

int sl_dag_downstream(const sl_dag *g, int **off_out, int **list_out, sl_error *err)
{
	int edges = 0;
	for (int t = 0; t < g->n; t++)
		edges += g->tasks[t].ndeps;
	int *off = sl_calloc((size_t)g->n + 1, sizeof *off);
	int *list = sl_malloc(((size_t)edges + 1) * sizeof *list);
	if (!off || !list) {
		sl_free(off);
		sl_free(list);
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	}
	for (int t = 0; t < g->n; t++)
		for (int i = 0; i < g->tasks[t].ndeps; i++)
			off[g->tasks[t].deps[i] + 1]++;
	for (int t = 0; t < g->n; t++)
		off[t + 1] += off[t];
	/* Filling in task order keeps each list in graph order. */
	int *fill = sl_malloc(((size_t)g->n + 1) * sizeof *fill);
	if (!fill) {
		sl_free(off);
		sl_free(list);
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	}
	memcpy(fill, off, ((size_t)g->n + 1) * sizeof *fill);
	for (int t = 0; t < g->n; t++)
		for (int i = 0; i < g->tasks[t].ndeps; i++)
			list[fill[g->tasks[t].deps[i]]++] = t;
	sl_free(fill);
	*off_out = off;
	*list_out = list;
	return 0;
}

int sl_dag_order(const sl_dag *g, const bool *selected, int *order, int *n, sl_error *err)
{
	int *off = NULL, *list = NULL, *waiting = NULL;
	sl_dag_heap ready = {0};
	int rc = sl_dag_downstream(g, &off, &list, err);
	if (rc < 0)
		return rc;
	waiting = sl_malloc(((size_t)g->n + 1) * sizeof *waiting);
	if (!waiting) {
		rc = sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
		goto done;
	}
	rc = sl_dag_heap_init(&ready, g->n, err);
	if (rc < 0)
		goto done;
	for (int t = 0; t < g->n; t++) {
		waiting[t] = g->tasks[t].ndeps;
		if (waiting[t] == 0)
			sl_dag_heap_push(&ready, t, t);
	}
	int seen = 0;
	*n = 0;
	while (ready.n > 0) {
		int t = sl_dag_heap_pop(&ready);
		seen++;
		if (!selected || selected[t])
			order[(*n)++] = t;
		for (int i = off[t]; i < off[t + 1]; i++)
			if (--waiting[list[i]] == 0)
				sl_dag_heap_push(&ready, list[i], list[i]);
	}
	if (seen < g->n) {
		rc = sl_dag_check(g, err);
		if (rc == 0)
			rc = sl_error_set(err, SL_EINVAL, "dependency cycle");
	}
done:
	sl_dag_heap_free(&ready);
	sl_free(waiting);
	sl_free(off);
	sl_free(list);
	return rc;
}

int sl_dag_heap_init(sl_dag_heap *h, int cap, sl_error *err)
{
	h->n = 0;
	h->idx = sl_malloc(((size_t)cap + 1) * sizeof *h->idx);
	h->key = sl_malloc(((size_t)cap + 1) * sizeof *h->key);
	if (!h->idx || !h->key) {
		sl_dag_heap_free(h);
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	}
	return 0;
}

void sl_dag_heap_free(sl_dag_heap *h)
{
	sl_free(h->idx);
	sl_free(h->key);
	h->idx = NULL;
	h->key = NULL;
	h->n = 0;
}

static bool heap_less(const sl_dag_heap *h, int a, int b)
{
	return h->key[a] < h->key[b] || (h->key[a] == h->key[b] && h->idx[a] < h->idx[b]);
}

static void heap_swap(sl_dag_heap *h, int a, int b)
{
	int i = h->idx[a];
	double k = h->key[a];
	h->idx[a] = h->idx[b];
	h->key[a] = h->key[b];
	h->idx[b] = i;
	h->key[b] = k;
}

void sl_dag_heap_push(sl_dag_heap *h, int idx, double key)
{
	int i = h->n++;
	h->idx[i] = idx;
	h->key[i] = key;
	while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

int sl_dag_heap_pop(sl_dag_heap *h)
{
	int top = h->idx[0];
	h->n--;
	if (h->n > 0) {
		h->idx[0] = h->idx[h->n];
		h->key[0] = h->key[h->n];
		int i = 0;
		for (;;) {
			int l = 2 * i + 1, r = l + 1, m = i;
			if (l < h->n && heap_less(h, l, m))
				m = l;
			if (r < h->n && heap_less(h, r, m))
				m = r;
			if (m == i)
				break;
			heap_swap(h, i, m);
			i = m;
		}
	}
	return top;
}
