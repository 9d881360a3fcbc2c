/*
 * lineage.c: column-level lineage's public side — parses the SQL with
 * libpg_query (its JSON parse tree, read with jansson), runs the tracer
 * (lineage_trace.c) and copies its answer into the caller's sl_lineage;
 * lineage_nodes.c names the project's nodes behind relations.
 *
 * libpg_query keeps a memory context per thread between parses (freed by
 * pg_query_exit at thread end); each parse's own memory is released by
 * pg_query_free_parse_result here.
 */
#include "quality/lineage_int.h"

#include <pg_query.h>
#include <string.h>

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

int sl_lineage_run(const char *sql, sl_lineage_columns_fn fn, void *ud, sl_lineage_node_fn nfn,
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
	return sl_lineage_run(sql, fn, ud, NULL, NULL, out, err);
}
