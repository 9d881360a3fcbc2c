/*
 * models_graph.c: the node graph — each enabled node's depends_on (the
 * models, seeds and snapshots its ref() calls name) and sources, from the
 * calls recorded at parse; a ref to a disabled node and a cycle are
 * configuration errors, the cycle named node by node.
 */
#include "models/models_int.h"

#include <stdio.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static int node_deps(sl_models *m, m_node *n, sl_error *err)
{
	const char **deps = sl_arena_alloc(&m->arena, sizeof *deps * (size_t)(n->ncalls + 1));
	const char **srcs = sl_arena_alloc(&m->arena, sizeof *srcs * (size_t)(n->ncalls + 1));
	if (!deps || !srcs)
		return oom(err);
	int nd = 0, ns = 0;
	for (int i = 0; i < n->ncalls; i++) {
		m_call *c = &n->calls[i];
		if (c->source) {
			srcs[ns] = sl_arena_sprintf(&m->arena, "%s.%s", c->a, c->b);
			if (!srcs[ns++])
				return oom(err);
			continue;
		}
		m_node *t = m_find_ref(m, n, c->a, c->b);
		if (!t)
			return sl_error_set(err, SL_EINTERNAL, "%s: ref('%s') lost", n->pub.path, c->b);
		if (!t->enabled)
			return sl_error_set(err, SL_ECONFIG, "%s: ref('%s') names %s, which is "
					    "disabled; enable it or remove the ref", n->pub.path,
					    c->b, t->pub.unique_id);
		bool seen = false;
		for (int j = 0; j < nd && !seen; j++)
			seen = strcmp(deps[j], t->pub.unique_id) == 0;
		if (!seen)
			deps[nd++] = t->pub.unique_id;
	}
	n->pub.depends_on = deps;
	n->pub.ndepends_on = nd;
	n->pub.sources = srcs;
	n->pub.nsources = ns;
	return 0;
}

static m_node *by_id(sl_models *m, const char *id)
{
	for (int i = 0; i < m->nenabled; i++)
		if (strcmp(m->enabled[i]->pub.unique_id, id) == 0)
			return m->enabled[i];
	return NULL;
}

/* Depth-first walk; on a back edge, the cycle from stack. */
static int visit(sl_models *m, m_node *n, m_node **stack, int depth, sl_error *err)
{
	if (n->color == 2)
		return 0;
	if (n->color == 1) {
		sl_buf b = SL_BUF_INIT;
		int from = depth - 1;
		while (from > 0 && stack[from] != n)
			from--;
		for (int i = from; i < depth; i++)
			sl_buf_printf(&b, "%s -> ", stack[i]->pub.unique_id);
		sl_buf_puts(&b, n->pub.unique_id);
		int rc = sl_error_set(err, SL_ECONFIG, "dependency cycle: %s; remove one of these "
				      "refs", b.data ? b.data : "");
		sl_buf_free(&b);
		return rc;
	}
	n->color = 1;
	stack[depth] = n;
	for (int i = 0; i < n->pub.ndepends_on; i++) {
		m_node *d = by_id(m, n->pub.depends_on[i]);
		int rc = d ? visit(m, d, stack, depth + 1, err) : 0;
		if (rc < 0)
			return rc;
	}
	n->color = 2;
	return 0;
}

int m_build_graph(sl_models *m, sl_error *err)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < m->nenabled; i++)
		rc = node_deps(m, m->enabled[i], err);
	if (rc < 0)
		return rc;
	m_node **stack = sl_malloc(sizeof *stack * (size_t)(m->nenabled + 1));
	if (!stack)
		return oom(err);
	for (int i = 0; i < m->nenabled; i++)
		m->enabled[i]->color = 0;
	for (int i = 0; rc == 0 && i < m->nenabled; i++)
		rc = visit(m, m->enabled[i], stack, 0, err);
	sl_free(stack);
	return rc;
}
