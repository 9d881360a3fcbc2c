/*
 * lineage_nodes.c: sl_lineage_of_node — the lineage of a project node's
 * compiled SQL, each relation it reads named as the project's model, seed,
 * snapshot or source by schema and name (a node's schema and alias, a
 * source's schema and identifier), as the warehouse resolves them: an
 * unquoted name compares case-insensitively (PostgreSQL folds it, SQLite
 * ignores case), a name without schema is looked up in the model's own
 * schema first (the search path's, SQLite's "main"), then by name alone
 * when one relation has it.
 */
#include "quality/lineage_int.h"

#include <string.h>
#include <strings.h>

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
	int rc = sl_lineage_run(sql, fn, ud, find_node, &nm, out, err);
	sl_arena_free(&a);
	return rc;
}
