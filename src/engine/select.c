/*
 * select.c: --select and --exclude over a task graph, in the syntax dbt
 * users know. An argument holds items separated by spaces (a union);
 * an item holds selectors joined by commas (an intersection); a selector
 * is a method and a value with graph operators around it:
 *
 *   shop_files.orders   node name (glob), a source name, a task id, an fqn
 *                       prefix (shop.staging), a path when it holds a /
 *   source:shop_files   tasks of a source (glob; source:s.t for one table)
 *   tag:daily           tasks with that tag (glob)
 *   kind:extract        tasks of that kind (glob); resource_type:model too
 *                       (resource_type:source: a sluice source's extract and
 *                       load tasks as well)
 *   path:models/staging tasks from that file or folder (glob)
 *   config.materialized:incremental   tasks with that config value
 *   fqn:shop.staging    dbt's fqn method; package:shop the package's nodes
 *   test_type:generic   data tests of that type (generic or singular);
 *   test_name:not_null  generic tests of that name (glob)
 *   extract:s.t         a kind and a node name or task id (model:orders)
 *   +x  x+  2+x  x+3    x and all (or N levels of) upstream / downstream
 *   @x                  x, all its downstream and all upstream of those
 *
 * A selector that matches no task is a usage error, for --exclude too: a
 * misspelt exclusion would otherwise run what the user meant to leave out.
 */
#include "engine/dag_int.h"

#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* The task kinds a method may name ("model:orders" is the model orders). */
static const char *const kinds[] = {"extract", "load", "seed", "model", "snapshot",
				    "source", "test", "freshness", NULL};

static bool is_kind(const char *method)
{
	for (int i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], method) == 0)
			return true;
	return false;
}

/* The methods besides kind names; config.KEY is checked apart. */
static const char *const methods[] = {"source", "tag", "kind", "resource_type", "path",
				      "fqn", "package", "test_type", "test_name", NULL};

static bool is_method(const char *method)
{
	for (int i = 0; methods[i]; i++)
		if (strcmp(methods[i], method) == 0)
			return true;
	return (strncmp(method, "config.", 7) == 0 && method[7]) || is_kind(method);
}

/*
 * path:VALUE — a file, a folder (every file under it) or a glob, relative
 * to the project folder; "./" before and "/" after are ignored.
 */
static bool match_path(const char *value, const char *path)
{
	if (!path)
		return false;
	while (value[0] == '.' && value[1] == '/')
		value += 2;
	size_t n = strlen(value);
	while (n > 1 && value[n - 1] == '/')
		n--;
	char v[512];
	if (n == 0 || n + 3 > sizeof v)
		return false;
	memcpy(v, value, n);
	v[n] = '\0';
	if (glob(v, path) || (strncmp(path, v, n) == 0 && path[n] == '/'))
		return true;
	memcpy(v + n, "/*", 3);
	return glob(v, path);
}

/* Whether the dotted parts of value match the first parts of dotted fqn. */
static bool prefix_parts(const char *value, const char *fqn)
{
	char v[512], f[512];
	if (snprintf(v, sizeof v, "%s", value) >= (int)sizeof v ||
	    snprintf(f, sizeof f, "%s", fqn) >= (int)sizeof f)
		return false;
	char *vs = NULL, *fs = NULL;
	char *vp = strtok_r(v, ".", &vs), *fp = strtok_r(f, ".", &fs);
	if (!vp)
		return false;
	for (; vp; vp = strtok_r(NULL, ".", &vs), fp = strtok_r(NULL, ".", &fs))
		if (!fp || fnmatch(vp, fp, 0) != 0)
			return false;
	return true;
}

/*
 * fqn:VALUE, as dbt matches it: the node's name, or the first parts of its
 * fqn ("shop.staging" is every node in the staging folder of package
 * shop), with or without the package ("staging").
 */
static bool match_fqn(const sl_task *t, const char *value)
{
	if (!t->fqn)
		return false;
	if (!strchr(value, '.') && glob(value, t->node))
		return true;
	if (prefix_parts(value, t->fqn))
		return true;
	const char *dot = strchr(t->fqn, '.');
	return dot && prefix_parts(value, dot + 1);
}

/* config.KEY:VALUE — a config of that key whose value (or, for a list,
 * one of its items) matches VALUE; booleans ignore case. */
static bool match_config(const sl_task *t, const char *key, const char *value)
{
	size_t kn = strlen(key);
	for (int i = 0; i < t->nconfig; i++) {
		const char *c = t->config[i];
		if (strncmp(c, key, kn) != 0 || c[kn] != '=')
			continue;
		const char *v = c + kn + 1;
		if (glob(value, v) || (strcasecmp(value, v) == 0))
			return true;
		if (v[0] != '[')
			continue;
		json_t *arr = json_loads(v, 0, NULL);
		bool hit = false;
		for (size_t j = 0; json_is_array(arr) && j < json_array_size(arr) && !hit; j++) {
			json_t *item = json_array_get(arr, j);
			hit = json_is_string(item) && glob(value, json_string_value(item));
		}
		json_decref(arr);
		if (hit)
			return true;
	}
	return false;
}

static bool match_task(const sl_task *t, const char *method, const char *value)
{
	if (!method)
		return glob(value, t->node) || glob(value, t->source) || glob(value, t->id) ||
		       match_fqn(t, value) || (strchr(value, '/') && match_path(value, t->path));
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
	if (strcmp(method, "resource_type") == 0) {
		/* A sluice project's sources are its extract and load tasks. */
		if (strcmp(value, "source") == 0 && (strcmp(t->kind->name, "extract") == 0 ||
						     strcmp(t->kind->name, "load") == 0))
			return true;
		return glob(value, t->kind->name);
	}
	if (strcmp(method, "path") == 0)
		return match_path(value, t->path);
	if (strcmp(method, "fqn") == 0)
		return match_fqn(t, value);
	if (strcmp(method, "package") == 0)
		return glob(value, t->package);
	if (strcmp(method, "test_type") == 0)
		/* dbt's older words for them: schema and data tests */
		return t->test_type &&
		       (glob(value, t->test_type) ||
			(strcmp(value, "schema") == 0 && strcmp(t->test_type, "generic") == 0) ||
			(strcmp(value, "data") == 0 && strcmp(t->test_type, "singular") == 0));
	if (strcmp(method, "test_name") == 0)
		return glob(value, t->test_name);
	if (strncmp(method, "config.", 7) == 0)
		return match_config(t, method + 7, value);
	/* A kind and a node or id: "extract:shop.orders", "model:orders". */
	return strcmp(method, t->kind->name) == 0 && (glob(value, t->node) || glob(value, t->id));
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
		if (!is_method(method))
			return sl_error_set(err, SL_EUSAGE,
					    "%s: \"%.*s\": unknown method \"%s\"; use a node name, "
					    "source:, tag:, path:, resource_type:, config.KEY:, fqn:, "
					    "package:, test_type:, test_name:, kind: or a kind and a name (model:orders)",
					    s->flag, (int)n, text, method);
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
