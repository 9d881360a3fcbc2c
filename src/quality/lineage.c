/*
 * lineage.c: column-level lineage's public side — parses the SQL with
 * libpg_query (its JSON parse tree, read with jansson), runs the tracer
 * (lineage_trace.c) and copies its answer into the caller's sl_lineage;
 * for a project's node, names the node or source behind each relation the
 * SQL reads, by schema and name as the warehouse resolves them.
 *
 * libpg_query keeps a memory context per thread between parses (freed by
 * pg_query_exit at thread end); each parse's own memory is released by
 * pg_query_free_parse_result here.
 */
#include "quality/lineage_int.h"

#include <pg_query.h>
#include <string.h>
#include <strings.h>

const char *sl_lineage_how_name(sl_lineage_how h)
{
	switch (h) {
	case SL_LINEAGE_DIRECT: return "direct";
	case SL_LINEAGE_TRANSFORMED: return "transformed";
	case SL_LINEAGE_AGGREGATED: return "aggregated";
	}
	return "unknown";
}

void sl_lineage_free(sl_lineage *l)
{
	if (!l)
		return;
	sl_arena_free(&l->arena);
	memset(l, 0, sizeof *l);
}

/* "syntax error at or near "qualify" (line 3, column 5)": the parser's
 * message and where, counted in the SQL text. */
static const char *parse_error(sl_arena *a, const char *sql, const PgQueryError *e)
{
	int line = 1, col = 1, pos = e->cursorpos;
	size_t len = strlen(sql);
	if (pos <= 0)
		return sl_arena_sprintf(a, "%s", e->message ? e->message : "syntax error");
	for (int i = 0; i < pos - 1 && (size_t)i < len; i++) {
		if (sql[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)sql[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	return sl_arena_sprintf(a, "%s (line %d, column %d)",
				e->message ? e->message : "syntax error", line, col);
}

/* Copies the tracer's columns and refs into out's arena. */
static int keep(sl_lineage *out, const lin_tracer *t, const lin_cols *cols, sl_error *err)
{
	sl_arena *a = &out->arena;
	out->columns = sl_arena_alloc(a, ((size_t)cols->n + 1) * sizeof *out->columns);
	if (!out->columns)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < cols->n; i++) {
		const lin_col *c = &cols->v[i];
		sl_lineage_column *o = &out->columns[i];
		sl_lineage_ref *refs = sl_arena_alloc(a, ((size_t)c->from.n + 1) * sizeof *refs);
		o->name = sl_arena_strdup(a, c->name ? c->name : "?column?");
		if (!refs || !o->name)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		o->how = c->how;
		for (int k = 0; k < c->from.n; k++) {
			const sl_lineage_ref *r = &t->refs[c->from.v[k]];
			refs[k].node = r->node ? sl_arena_strdup(a, r->node) : NULL;
			refs[k].relation = sl_arena_strdup(a, r->relation);
			refs[k].column = sl_arena_strdup(a, r->column);
			if ((r->node && !refs[k].node) || !refs[k].relation || !refs[k].column)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		o->from = refs;
		o->nfrom = c->from.n;
	}
	out->ncolumns = cols->n;
	return 0;
}

static int lineage(const char *sql, sl_lineage_columns_fn fn, void *ud, sl_lineage_node_fn nfn,
		   void *nud, sl_lineage *out, sl_error *err)
{
	sl_arena work;
	json_t *tree = NULL;
	lin_tracer t = {.work = &work, .cols_fn = fn, .cols_ud = ud, .node_fn = nfn,
			.node_ud = nud, .err = err};
	lin_cols cols;
	int rc = 0;

	memset(out, 0, sizeof *out);
	sl_arena_init(&out->arena, 4096);
	sl_arena_init(&work, 16384);
	PgQueryParseResult r = pg_query_parse(sql ? sql : "");
	if (r.error) {
		out->error = parse_error(&out->arena, sql ? sql : "", r.error);
	} else {
		json_error_t je;
		tree = json_loads(r.parse_tree ? r.parse_tree : "", 0, &je);
		if (!tree)
			out->error = sl_arena_sprintf(&out->arena, "the parse tree does not read: %s",
						      je.text);
	}
	pg_query_free_parse_result(r);
	if (!out->error && tree) {
		rc = sl_lineage_trace(&t, tree, &cols);
		if (rc > 0)
			out->error = sl_arena_strdup(&out->arena, t.why ? t.why : "not traced");
		else if (rc == 0)
			rc = keep(out, &t, &cols, err);
	}
	if (rc > 0)
		rc = 0;
	if (rc == 0 && !out->error && !out->columns)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc < 0)
		sl_lineage_free(out);
	json_decref(tree);
	sl_arena_free(&work);
	return rc;
}

int sl_lineage_of_sql(const char *sql, sl_lineage_columns_fn fn, void *ud, sl_lineage *out,
		      sl_error *err)
{
	return lineage(sql, fn, ud, NULL, NULL, out, err);
}

/* ------------------------------------------------------ project nodes */

typedef struct node_map {
	sl_models *m;
	const char *home; /* the model's own schema: where an unqualified name
			     looks first */
	const char *package; /* the model's package, for sources without one */
	sl_arena *a;      /* unique_ids composed here */
} node_map;

/* A source's unique_id: "source.<package>.<source>.<table>". */
static const char *source_id(const node_map *nm, const sl_model_source *s)
{
	if (s->unique_id)
		return s->unique_id;
	return sl_arena_sprintf(nm->a, "source.%s.%s.%s",
				s->package ? s->package : nm->package ? nm->package : "",
				s->source, s->table);
}

/* Whether a relation the SQL names as name matches have: the exact name,
 * or as an unquoted (folded) name compares. */
static int name_match(const char *have, const char *name)
{
	if (!have || !name)
		return 0;
	return strcmp(have, name) == 0 ? 2 : strcasecmp(have, name) == 0 ? 1 : 0;
}

static const char *find_node_in(const node_map *nm, const char *schema, const char *table)
{
	const char *best = NULL;
	int score = 0;
	for (int i = 0; i < sl_models_count(nm->m); i++) {
		const sl_node *n = sl_models_node(nm->m, i);
		if (n->type == SL_NODE_TEST)
			continue;
		int s = name_match(n->alias ? n->alias : n->name, table);
		if (s && name_match(n->schema, schema) && s > score) {
			best = n->unique_id;
			score = s;
		}
	}
	for (int i = 0; i < sl_models_source_count(nm->m); i++) {
		const sl_model_source *src = sl_models_source_at(nm->m, i);
		int s = name_match(src->identifier ? src->identifier : src->table, table);
		if (s && name_match(src->schema, schema) && s > score) {
			best = source_id(nm, src);
			score = s;
		}
	}
	return best;
}

static const char *find_node(void *ud, const char *schema, const char *table)
{
	const node_map *nm = ud;
	if (schema)
		return find_node_in(nm, schema, table);
	/* unqualified: the model's schema (the search path's first), else the
	 * one relation of that name */
	const char *n = nm->home ? find_node_in(nm, nm->home, table) : NULL;
	if (n)
		return n;
	const char *only = NULL;
	int count = 0;
	for (int i = 0; i < sl_models_count(nm->m); i++) {
		const sl_node *x = sl_models_node(nm->m, i);
		if (x->type != SL_NODE_TEST && name_match(x->alias ? x->alias : x->name, table)) {
			only = x->unique_id;
			count++;
		}
	}
	for (int i = 0; i < sl_models_source_count(nm->m); i++) {
		const sl_model_source *s = sl_models_source_at(nm->m, i);
		if (name_match(s->identifier ? s->identifier : s->table, table)) {
			only = source_id(nm, s);
			count++;
		}
	}
	return count == 1 ? only : NULL;
}

int sl_lineage_of_node(sl_models *m, int i, const char *sql, sl_lineage_columns_fn fn,
		       void *ud, sl_lineage *out, sl_error *err)
{
	const sl_node *n = sl_models_node(m, i);
	sl_arena a;
	sl_arena_init(&a, 1024);
	node_map nm = {.m = m, .home = n ? n->schema : NULL, .package = n ? n->package : NULL,
		       .a = &a};
	int rc = lineage(sql, fn, ud, find_node, &nm, out, err);
	sl_arena_free(&a);
	return rc;
}
