/*
 * site_graph.c: the project's lineage graph — one node per model, seed,
 * snapshot and source of the manifest, one edge per dependency between
 * them — laid out by Graphviz's dot (libgvc, libcgraph) and rendered as
 * SVG for the site. Each node links to its page ("#!/<type>/<id>"), so
 * the graph is the site's map.
 */
#include "docs/site_int.h"

#include <dlfcn.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <graphviz/gvplugin.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef SL_GRAPHVIZ_PLUGIN_DIR
#define SL_GRAPHVIZ_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/graphviz"
#endif

/*
 * One Graphviz context per process, never freed: Graphviz caches text
 * measurements in statics that outlive gvFreeContext, and it is not
 * thread-safe, so layouts take turns under gv_lock. The context loads
 * only the two plugins the site needs, dot's layout and the SVG renderer
 * (gvContext() would also load pango's text layout, whose fontconfig
 * caches are never released); label widths then come from Graphviz's
 * own font metrics, the same on every machine.
 */
static GVC_t *gv_context;
static pthread_once_t gv_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;

static gvplugin_library_t *gv_plugin(const char *name)
{
	char path[512], sym[128];
	snprintf(path, sizeof path, "%s/libgvplugin_%s.so.6", SL_GRAPHVIZ_PLUGIN_DIR, name);
	snprintf(sym, sizeof sym, "gvplugin_%s_LTX_library", name);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	return h ? dlsym(h, sym) : NULL;
}

static void gv_init(void)
{
	static const lt_symlist_t none[] = {{NULL, NULL}};
	gvplugin_library_t *core = gv_plugin("core"), *dot = gv_plugin("dot_layout");
	if (!core || !dot) {
		gv_context = gvContext(); /* another layout of plugins: load them all */
		return;
	}
	gv_context = gvContextPlugins(none, 0);
	if (gv_context) {
		gvAddLibrary(gv_context, core);
		gvAddLibrary(gv_context, dot);
	}
}

/* Fill colours per resource type (the site's CSS legend uses the same). */
static const struct {
	const char *type;
	const char *fill;
} node_colours[] = {
	{"model", "#d7e8fb"},
	{"seed", "#dff3dc"},
	{"snapshot", "#efe0f7"},
	{"source", "#fde9cf"},
};

static const char *fill_of(const char *type)
{
	for (size_t i = 0; i < sizeof node_colours / sizeof node_colours[0]; i++)
		if (!strcmp(node_colours[i].type, type))
			return node_colours[i].fill;
	return "#eeeeee";
}

static bool in_graph(const char *type)
{
	return !strcmp(type, "model") || !strcmp(type, "seed") || !strcmp(type, "snapshot") ||
	       !strcmp(type, "source");
}

/* Graphviz reads backslash escapes (\N, \n, \l...) in labels: doubling
 * each backslash shows the name as written. */
static int label_text(sl_buf *b, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++)
		rc = *s == '\\' ? sl_buf_puts(b, "\\\\") : sl_buf_putc(b, *s);
	return rc;
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Sets a node's attributes; agsafeset copies the strings. */
static int add_node(Agraph_t *g, const char *uid, json_t *n, sl_buf *tmp)
{
	const char *type = str_of(n, "resource_type");
	Agnode_t *v = agnode(g, (char *)uid, 1);
	if (!v)
		return SL_ENOMEM;
	sl_buf_reset(tmp);
	int rc = 0;
	if (!strcmp(type, "source")) {
		rc = label_text(tmp, str_of(n, "source_name"));
		if (rc == 0)
			rc = sl_buf_putc(tmp, '.');
	}
	if (rc == 0)
		rc = label_text(tmp, str_of(n, "name"));
	if (rc < 0)
		return rc;
	agsafeset(v, "label", tmp->data ? tmp->data : "", "");
	agsafeset(v, "fillcolor", (char *)fill_of(type), "");
	agsafeset(v, "tooltip", (char *)uid, "");
	sl_buf_reset(tmp);
	rc = sl_buf_puts(tmp, "sl-node-");
	if (rc == 0)
		rc = sl_buf_puts(tmp, uid);
	if (rc < 0)
		return rc;
	agsafeset(v, "id", tmp->data, "");
	sl_buf_reset(tmp);
	rc = sl_buf_puts(tmp, "sl-");
	if (rc == 0)
		rc = sl_buf_puts(tmp, type);
	if (rc < 0)
		return rc;
	agsafeset(v, "class", tmp->data, "");
	sl_buf_reset(tmp);
	rc = sl_docs_node_href(tmp, type, uid);
	if (rc < 0)
		return rc;
	agsafeset(v, "URL", tmp->data, "");
	return 0;
}

static int add_nodes(Agraph_t *g, json_t *map, sl_buf *tmp)
{
	const char *uid;
	json_t *n;
	json_object_foreach(map, uid, n) {
		if (!in_graph(str_of(n, "resource_type")))
			continue;
		int rc = add_node(g, uid, n, tmp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Edges parent -> child from each node's depends_on.nodes, between
 * nodes of the graph only. */
static void add_edges(Agraph_t *g, json_t *nodes)
{
	const char *uid;
	json_t *n;
	json_object_foreach(nodes, uid, n) {
		Agnode_t *child = agnode(g, (char *)uid, 0);
		if (!child)
			continue;
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(json_object_get(n, "depends_on"), "nodes"), i, p) {
			const char *pid = json_string_value(p);
			Agnode_t *parent = pid ? agnode(g, (char *)pid, 0) : NULL;
			if (parent && parent != child && !agedge(g, parent, child, NULL, 0))
				agedge(g, parent, child, NULL, 1);
		}
	}
}

int sl_docs_lineage_svg(sl_buf *out, json_t *manifest, sl_error *err)
{
	GVC_t *gvc = NULL;
	Agraph_t *g = NULL;
	char *svg = NULL;
	unsigned int len = 0;
	bool laid_out = false;
	sl_buf tmp = SL_BUF_INIT;
	int rc = 0;

	pthread_once(&gv_once, gv_init);
	gvc = gv_context;
	pthread_mutex_lock(&gv_lock);
	g = gvc ? agopen("lineage", Agdirected, NULL) : NULL;
	if (!g) {
		rc = sl_error_set(err, SL_ENOMEM, "lineage graph: out of memory");
		goto done;
	}
	agsafeset(g, "rankdir", "LR", "");
	agsafeset(g, "nodesep", "0.25", "");
	agsafeset(g, "ranksep", "0.6", "");
	agsafeset(g, "bgcolor", "transparent", "");
	agattr(g, AGNODE, "shape", "box");
	agattr(g, AGNODE, "style", "rounded,filled");
	agattr(g, AGNODE, "fontname", "Helvetica");
	agattr(g, AGNODE, "fontsize", "11");
	agattr(g, AGNODE, "color", "#6b7a8c");
	agattr(g, AGNODE, "height", "0.3");
	agattr(g, AGEDGE, "color", "#8a97a8");
	agattr(g, AGEDGE, "arrowsize", "0.6");

	rc = add_nodes(g, json_object_get(manifest, "sources"), &tmp);
	if (rc == 0)
		rc = add_nodes(g, json_object_get(manifest, "nodes"), &tmp);
	if (rc < 0) {
		sl_error_set(err, rc, "lineage graph: out of memory");
		goto done;
	}
	add_edges(g, json_object_get(manifest, "nodes"));

	if (agnnodes(g) == 0) {
		/* dot lays out an empty graph as a 8x8 point picture; say so instead. */
		rc = sl_buf_puts(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" "
				      "height=\"0\"></svg>");
		goto done;
	}
	laid_out = gvLayout(gvc, g, "dot") == 0;
	if (!laid_out || gvRenderData(gvc, g, "svg", &svg, &len) != 0 || !svg) {
		rc = sl_error_set(err, SL_EINTERNAL, "lineage graph: Graphviz could not lay out "
						     "the graph");
		goto done;
	}
	/* Inline SVG in HTML: drop the XML prolog and doctype before <svg. */
	const char *start = strstr(svg, "<svg");
	if (!start) {
		rc = sl_error_set(err, SL_EINTERNAL, "lineage graph: Graphviz wrote no <svg>");
		goto done;
	}
	rc = sl_buf_append(out, start, len - (unsigned int)(start - svg));
	if (rc < 0)
		sl_error_set(err, rc, "lineage graph: out of memory");
done:
	if (svg)
		gvFreeRenderData(svg);
	if (laid_out)
		gvFreeLayout(gvc, g);
	if (g)
		agclose(g);
	pthread_mutex_unlock(&gv_lock);
	sl_buf_free(&tmp);
	return rc;
}
