/*
 * select.c: --select and --exclude over a task graph, in the syntax dbt
 * users know. An argument holds items separated by spaces (a union);
 * an item holds selectors joined by commas (an intersection); a selector
 * is a method and a value with graph operators around it:
 *
 *   shop_files.orders   node name (glob), or a source name (glob)
 *   source:shop_files   tasks of a source (glob; source:s.t for one table)
 *   tag:daily           tasks with that tag (glob)
 *   kind:extract        tasks of that kind (glob)
 *   extract:s.t         any other method:value is a task id (glob)
 *   +x  x+  2+x  x+3    x and all (or N levels of) upstream / downstream
 *   @x                  x, all its downstream and all upstream of those
 *
 * A selector that matches no task is a usage error, for --exclude too: a
 * misspelt exclusion would otherwise run what the user meant to leave out.
 */
#include "engine/dag_int.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Scratch space for one selection, sized for the graph. */
typedef struct sel {
	const sl_dag *g;
	const char *flag;   /* "--select" or "--exclude" */
	int *down_off;      /* downstream adjacency, built on first use */
	int *down;
	bool *acc;          /* the item being evaluated (an intersection) */
	bool *atom;         /* one selector */
	bool *item;         /* scratch of eval_selector */
	int *dist;          /* BFS levels, -1 unseen */
	int *queue;
} sel;

static bool glob(const char *pattern, const char *s)
{
	return s && fnmatch(pattern, s, 0) == 0;
}

static bool match_task(const sl_task *t, const char *method, const char *value)
{
	if (!method)
		return glob(value, t->node) || glob(value, t->source);
	if (strcmp(method, "source") == 0)
		return t->source && (glob(value, t->source) || glob(value, t->node));
	if (strcmp(method, "tag") == 0) {
		for (int i = 0; i < t->ntags; i++)
			if (glob(value, t->tags[i]))
				return true;
		return false;
	}
	if (strcmp(method, "kind") == 0)
		return glob(value, t->kind->name);
	/* Anything else with a colon is a task id ("extract:shop.orders"). */
	char id[512];
	snprintf(id, sizeof id, "%s:%s", method, value);
	return glob(id, t->id);
}

/*
 * Adds to s->atom every task within depth levels of the marked ones,
 * upstream (up) or downstream. depth INT_MAX: all of them.
 */
static int spread(sel *s, bool up, int depth, sl_error *err)
{
	const sl_dag *g = s->g;
	if (!up && !s->down_off) {
		int rc = sl_dag_downstream(g, &s->down_off, &s->down, err);
		if (rc < 0)
			return rc;
	}
	int head = 0, tail = 0;
	for (int t = 0; t < g->n; t++) {
		s->dist[t] = s->atom[t] ? 0 : -1;
		if (s->atom[t])
			s->queue[tail++] = t;
	}
	while (head < tail) {
		int u = s->queue[head++];
		if (s->dist[u] >= depth)
			continue;
		const int *next = up ? g->tasks[u].deps : s->down + s->down_off[u];
		int nnext = up ? g->tasks[u].ndeps : s->down_off[u + 1] - s->down_off[u];
		for (int i = 0; i < nnext; i++) {
			int v = next[i];
			if (s->dist[v] < 0) {
				s->dist[v] = s->dist[u] + 1;
				s->atom[v] = true;
				s->queue[tail++] = v;
			}
		}
	}
	return 0;
}

/* Reads a count of levels ("2" in "2+x"); INT_MAX when there are no digits. */
static int levels(const char *p, size_t n)
{
	if (n == 0)
		return INT_MAX;
	long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v < 100000000 ? v * 10 + (p[i] - '0') : v;
	return (int)v;
}

/* Marks s->atom with the tasks one selector (s[0..n)) picks. */
static int eval_selector(sel *s, const char *text, size_t n, sl_error *err)
{
	const sl_dag *g = s->g;
	const char *p = text, *end = text + n;
	bool at = false;
	int up = 0, down = 0;
	if (p < end && *p == '@') {
		at = true;
		p++;
	}
	const char *d = p;
	while (d < end && *d >= '0' && *d <= '9')
		d++;
	if (d < end && *d == '+') {
		if (at)
			return sl_error_set(err, SL_EUSAGE,
					    "%s: \"%.*s\" cannot have both @ and a leading +", s->flag,
					    (int)n, text);
		up = levels(p, (size_t)(d - p));
		p = d + 1;
	}
	const char *e = end;
	while (e > p && e[-1] >= '0' && e[-1] <= '9')
		e--;
	if (e > p && e[-1] == '+') {
		down = levels(e, (size_t)(end - e));
		end = e - 1;
	} else {
		e = end;
	}
	if (p == end)
		return sl_error_set(err, SL_EUSAGE, "%s: \"%.*s\" names no node", s->flag, (int)n,
				    text);
	char core[512], *method = NULL, *value = core;
	if ((size_t)(end - p) >= sizeof core)
		return sl_error_set(err, SL_EUSAGE, "%s: \"%.40s...\" is too long", s->flag, p);
	memcpy(core, p, (size_t)(end - p));
	core[end - p] = '\0';
	char *colon = strchr(core, ':');
	if (colon) {
		*colon = '\0';
		method = core;
		value = colon + 1;
	}
	bool any = false;
	for (int t = 0; t < g->n; t++) {
		s->atom[t] = match_task(&g->tasks[t], method, value);
		any |= s->atom[t];
	}
	if (!any)
		return sl_error_set(err, SL_EUSAGE, "%s: \"%.*s\" matches no node", s->flag, (int)n,
				    text);
	int rc = 0;
	if (at) {
		/* Everything downstream, then everything those wait for. */
		rc = spread(s, false, INT_MAX, err);
		return rc < 0 ? rc : spread(s, true, INT_MAX, err);
	}
	if (up > 0 && down > 0) {
		/* Both directions start from the matched tasks: keep them in
		 * item, spread up in atom, then swap and spread down. */
		memcpy(s->item, s->atom, (size_t)g->n);
		rc = spread(s, true, up, err);
		bool *upstream = s->atom;
		s->atom = s->item;
		s->item = upstream;
		if (rc == 0)
			rc = spread(s, false, down, err);
		for (int t = 0; t < g->n; t++)
			s->atom[t] |= s->item[t];
		return rc;
	}
	if (up > 0)
		rc = spread(s, true, up, err);
	if (down > 0)
		rc = spread(s, false, down, err);
	return rc;
}

/*
 * Evaluates each item of one argument and applies it to selected: an
 * item is the intersection of its comma-joined selectors; each item is
 * added (add) or removed (!add).
 */
static int eval_arg(sel *s, const char *arg, bool add, bool *selected, sl_error *err)
{
	const sl_dag *g = s->g;
	const char *p = arg;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *item = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		size_t len = (size_t)(p - item);
		bool *acc = s->acc;
		int rc = 0;
		for (const char *q = item, *end = item + len;;) {
			const char *comma = memchr(q, ',', (size_t)(end - q));
			const char *stop = comma ? comma : end;
			if (stop == q) {
				rc = sl_error_set(err, SL_EUSAGE, "%s: \"%.*s\" has an empty selector",
						  s->flag, (int)len, item);
				break;
			}
			rc = eval_selector(s, q, (size_t)(stop - q), err);
			if (rc < 0)
				break;
			for (int t = 0; t < g->n; t++)
				acc[t] = q == item ? s->atom[t] : acc[t] && s->atom[t];
			if (!comma)
				break;
			q = comma + 1;
		}
		if (rc == 0) {
			bool any = false;
			for (int t = 0; t < g->n; t++) {
				any |= acc[t];
				if (acc[t])
					selected[t] = add;
			}
			if (!any)
				rc = sl_error_set(err, SL_EUSAGE, "%s: \"%.*s\" matches no node", s->flag,
						  (int)len, item);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sl_dag_select(const sl_dag *g, const char *const *select, int nselect,
		  const char *const *exclude, int nexclude, bool *selected, sl_error *err)
{
	sel s = {.g = g};
	int rc = 0;
	bool any_select = false;
	for (int i = 0; i < nselect; i++)
		if (select[i] && select[i][strspn(select[i], " \t\n")])
			any_select = true;
	for (int t = 0; t < g->n; t++)
		selected[t] = !any_select;
	if (g->n == 0 && !any_select && nexclude == 0)
		return 0;
	s.acc = sl_malloc((size_t)g->n + 1);
	s.item = sl_malloc((size_t)g->n + 1);
	s.atom = sl_malloc((size_t)g->n + 1);
	s.dist = sl_malloc(((size_t)g->n + 1) * sizeof *s.dist);
	s.queue = sl_malloc(((size_t)g->n + 1) * sizeof *s.queue);
	if (!s.acc || !s.item || !s.atom || !s.dist || !s.queue) {
		rc = sl_error_set(err, SL_ENOMEM, "--select: out of memory");
		goto done;
	}
	s.flag = "--select";
	for (int i = 0; rc == 0 && i < nselect; i++)
		if (select[i])
			rc = eval_arg(&s, select[i], true, selected, err);
	s.flag = "--exclude";
	for (int i = 0; rc == 0 && i < nexclude; i++)
		if (exclude[i])
			rc = eval_arg(&s, exclude[i], false, selected, err);
done:
	sl_free(s.acc);
	sl_free(s.item);
	sl_free(s.atom);
	sl_free(s.dist);
	sl_free(s.queue);
	sl_free(s.down_off);
	sl_free(s.down);
	return rc;
}
