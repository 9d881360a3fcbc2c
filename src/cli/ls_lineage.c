/*
 * ls_lineage.c: the "columns" and "lineage_error" of a model's line in
 * `sluice ls --output json`. Each model is compiled as `sluice compile`
 * compiles it (against the target's warehouse when it exists) and traced
 * by quality/; a relation's columns come from the warehouse, or, when it
 * does not exist yet, from the upstream model's own traced columns (traced
 * first, so `select *` from a model works before anything is built).
 */
#include "cli/ls_lineage.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"
#include "quality/quality.h"
#include "warehouse/warehouse.h"

#include <string.h>

enum { UNTRACED = 0, TRACING, TRACED };

struct sl_ls_lineage {
	const sl_cli_project *cp;
	sl_wh *wh;            /* NULL: none reachable */
	const char *home;     /* the models' schema: unqualified names' */
	int n;
	char *state;          /* per node */
	sl_lineage *lin;      /* per node, once traced */
	const char **why;     /* per node: why it has no lineage besides lin's */
	sl_arena arena;       /* column names lent to the tracer, messages */
};

static int trace(sl_ls_lineage *l, int i, sl_error *err);

/* The columns of schema.table: the warehouse's, else the upstream node's
 * traced output columns; unknown (*ncols < 0) when neither tells. */
static int columns(void *ud, const char *node, const char *schema, const char *table,
		   const char *const **cols, int *ncols, sl_error *err)
{
	sl_ls_lineage *l = ud;
	*ncols = -1;
	if (l->wh) {
		sl_schema *s = NULL;
		sl_error e = SL_ERROR_INIT;
		int rc = sl_wh_describe(l->wh, schema ? schema : l->home, table, &s, &e);
		if (rc == SL_ENOMEM)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == 0) {
			const char **v = sl_arena_alloc(&l->arena, ((size_t)s->nfields + 1) *
							       sizeof *v);
			for (int k = 0; v && k < s->nfields; k++)
				if (!(v[k] = sl_arena_strdup(&l->arena, s->fields[k].name)))
					v = NULL;
			int n = s->nfields;
			sl_schema_free(s);
			if (!v)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			*cols = v;
			*ncols = n;
			return 0;
		}
	}
	int j = node ? sl_models_find(l->cp->m, node) : -1;
	if (j < 0)
		return 0;
	int rc = trace(l, j, err);
	if (rc < 0)
		return rc;
	const sl_lineage *up = &l->lin[j];
	if (l->state[j] != TRACED || up->error || l->why[j] || !up->columns)
		return 0;
	const char **v = sl_arena_alloc(&l->arena, ((size_t)up->ncolumns + 1) * sizeof *v);
	if (!v)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int k = 0; k < up->ncolumns; k++)
		v[k] = up->columns[k].name;
	*cols = v;
	*ncols = up->ncolumns;
	return 0;
}

/* Compiles and traces node i once (a node met again while it is being
 * traced stays unknown). */
static int trace(sl_ls_lineage *l, int i, sl_error *err)
{
	const sl_node *n = sl_models_node(l->cp->m, i);
	if (l->state[i] != UNTRACED)
		return 0;
	l->state[i] = TRACING;
	if (n->type != SL_NODE_MODEL && n->type != SL_NODE_SNAPSHOT) {
		l->why[i] = "only models and snapshots are traced";
		l->state[i] = TRACED;
		return 0;
	}
	char *sql = NULL;
	sl_error ce = SL_ERROR_INIT;
	int rc = sl_models_compile(l->cp->m, i, l->wh, false, &sql, &ce);
	if (rc == SL_ENOMEM) {
		l->state[i] = TRACED;
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		l->why[i] = sl_arena_sprintf(&l->arena, "does not compile: %s", ce.message);
		l->state[i] = TRACED;
		return l->why[i] ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	rc = sl_lineage_of_node(l->cp->m, i, sql, columns, l, &l->lin[i], err);
	sl_free(sql);
	l->state[i] = TRACED;
	return rc;
}

int sl_ls_lineage_new(sl_ls_lineage **out, const sl_cli_project *cp, const char *target,
		      sl_error *err)
{
	sl_ls_lineage *l = sl_calloc(1, sizeof *l);
	*out = NULL;
	if (!l)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_arena_init(&l->arena, 4096);
	l->cp = cp;
	l->n = cp->m ? sl_models_count(cp->m) : 0;
	l->state = sl_calloc((size_t)l->n + 1, sizeof *l->state);
	l->lin = sl_calloc((size_t)l->n + 1, sizeof *l->lin);
	l->why = sl_calloc((size_t)l->n + 1, sizeof *l->why);
	if (!l->state || !l->lin || !l->why) {
		sl_ls_lineage_free(l);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	/* the warehouse when it is there: a missing SQLite file is not made */
	const sl_target *t = sl_project_target(cp->p, target);
	if (t) {
		sl_wh_config c;
		sl_error we = SL_ERROR_INIT;
		sl_engine_wh_config(t, &c);
		c.must_exist = true;
		if (sl_wh_open(&l->wh, &c, &we) < 0)
			l->wh = NULL;
		else
			l->home = sl_wh_schema(l->wh);
	}
	*out = l;
	return 0;
}

static json_t *ref_json(const sl_lineage_ref *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "node", r->node ? json_string(r->node) : json_null());
	json_object_set_new(o, "relation", json_string(r->relation));
	json_object_set_new(o, "column", json_string(r->column));
	return o;
}

int sl_ls_lineage_add(sl_ls_lineage *l, int i, json_t *o, sl_error *err)
{
	if (i < 0 || i >= l->n)
		return 0;
	int rc = trace(l, i, err);
	if (rc < 0)
		return rc;
	const sl_lineage *lin = &l->lin[i];
	json_t *cols = json_object();
	for (int k = 0; !l->why[i] && !lin->error && k < lin->ncolumns; k++) {
		const sl_lineage_column *c = &lin->columns[k];
		if (json_object_get(cols, c->name)) /* a repeated name: the first */
			continue;
		json_t *col = json_object(), *from = json_array();
		json_object_set_new(col, "how", json_string(sl_lineage_how_name(c->how)));
		for (int f = 0; f < c->nfrom; f++)
			json_array_append_new(from, ref_json(&c->from[f]));
		json_object_set_new(col, "from", from);
		json_object_set_new(cols, c->name, col);
	}
	json_object_set_new(o, "columns", cols);
	if (l->why[i] || lin->error)
		json_object_set_new(o, "lineage_error",
				    json_string(l->why[i] ? l->why[i] : lin->error));
	return 0;
}

void sl_ls_lineage_free(sl_ls_lineage *l)
{
	if (!l)
		return;
	for (int i = 0; l->lin && i < l->n; i++)
		sl_lineage_free(&l->lin[i]);
	sl_free(l->lin);
	sl_free(l->state);
	sl_free(l->why);
	sl_wh_close(l->wh);
	sl_arena_free(&l->arena);
	sl_free(l);
}
