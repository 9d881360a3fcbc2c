/*
 * models_context.c: dbt's template context as a template host — ref,
 * source, config, var, env_var, this, is_incremental, target,
 * run_started_at, invocation_id, execute, log, print, exceptions,
 * adapter (dispatch, quote, get_relation, get_columns_in_relation), model,
 * flags, and the project's macros (models_macros.c). A render at parse
 * (M_PARSE) records ref/source/config calls and sees placeholder
 * relations; a render at compile sees the warehouse. Values made at
 * compile live in the render's arena only, so several nodes may compile
 * at once.
 */
#include "models/models_int.h"
#include "models/models_macros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static sl_tpl_value str(sl_arena *a, const char *s)
{
	return s ? sl_tpl_string(a, s, strlen(s)) : sl_tpl_none();
}

/* Appends "name" quoted for SQL. */
static void quote_ident(sl_buf *b, const char *s)
{
	sl_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			sl_buf_putc(b, '"');
		sl_buf_putc(b, *s);
	}
	sl_buf_putc(b, '"');
}

/*
 * A relation: a dict of database, schema, identifier (name, table) and
 * metadata.type "Relation" that
 * prints as "schema"."identifier" (two-part names: both warehouses resolve
 * them), with render() and include() as dbt's Relation has.
 */
sl_tpl_value m_relation(sl_arena *a, const char *database, const char *schema,
			const char *identifier)
{
	sl_buf b = SL_BUF_INIT;
	if (schema) {
		quote_ident(&b, schema);
		sl_buf_putc(&b, '.');
	}
	quote_ident(&b, identifier);
	char *repr = b.data ? sl_arena_strndup(a, b.data, b.len) : NULL;
	sl_buf_free(&b);
	sl_tpl_value d = sl_tpl_dict_new(a);
	if (!repr || d.type != SL_TPL_DICT)
		return sl_tpl_none();
	sl_tpl_dict *t = d.u.dict;
	/* metadata.type ends with "Relation", as packages check it is one */
	sl_tpl_value meta = sl_tpl_dict_new(a);
	if (meta.type != SL_TPL_DICT ||
	    sl_tpl_dict_set(a, meta.u.dict, "type", str(a, "Relation")) < 0 ||
	    sl_tpl_dict_set(a, t, "metadata", meta) < 0)
		return sl_tpl_none();
	if (sl_tpl_dict_set(a, t, "database", str(a, database)) < 0 ||
	    sl_tpl_dict_set(a, t, "schema", str(a, schema)) < 0 ||
	    sl_tpl_dict_set(a, t, "identifier", str(a, identifier)) < 0 ||
	    sl_tpl_dict_set(a, t, "name", str(a, identifier)) < 0 ||
	    sl_tpl_dict_set(a, t, "table", str(a, identifier)) < 0 ||
	    sl_tpl_dict_set(a, t, "render", sl_tpl_callable("relation.render", repr)) < 0 ||
	    sl_tpl_dict_set(a, t, "include", sl_tpl_callable("relation.include", t)) < 0)
		return sl_tpl_none();
	t->repr = repr;
	return d;
}

/* A CTE name that prints as itself and still has .name etc. */
static sl_tpl_value cte_relation(sl_arena *a, const char *cte)
{
	sl_tpl_value d = m_relation(a, NULL, NULL, cte);
	if (d.type == SL_TPL_DICT)
		d.u.dict->repr = sl_arena_strdup(a, cte);
	return d.type == SL_TPL_DICT && d.u.dict->repr ? d : sl_tpl_none();
}

/* ------------------------------------------------------------- lookups */

/* Levenshtein distance, capped at 99 for long words. */
static int distance(const char *a, const char *b)
{
	size_t n = strlen(a), k = strlen(b);
	int row[128];
	if (n > 120 || k > 120)
		return 99;
	for (size_t j = 0; j <= k; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= k; j++) {
			int cur = row[j];
			int sub = prev + (a[i - 1] != b[j - 1]);
			int del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[k];
}

const char *m_suggest(const char *word, const char *const *cands, int n)
{
	const char *best = NULL;
	int bd = 99;
	int limit = (int)strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (int i = 0; i < n; i++) {
		int d = distance(word, cands[i]);
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return bd <= limit ? best : NULL;
}

static bool refable(const m_node *n) { return true && n; }

m_node *m_find_ref(sl_models *m, const m_node *from, const char *pkg, const char *name)
{
	/* enabled nodes before disabled ones; without a package, the
	 * caller's package first, then the root project, then any */
	m_node *best = NULL;
	int best_rank = 99;
	for (int i = 0; i < m->nnodes; i++) {
		m_node *n = m->nodes[i];
		if (!refable(n) || strcmp(n->pub.name, name) != 0)
			continue;
		if (pkg && strcmp(n->pkg->name, pkg) != 0)
			continue;
		int rank = pkg || (from && n->pkg == from->pkg) ? 0 : n->pkg->root ? 1 : 2;
		rank += n->enabled ? 0 : 4;
		if (rank < best_rank) {
			best = n;
			best_rank = rank;
		}
	}
	return best;
}

m_source *m_find_source(sl_models *m, const char *source, const char *table)
{
	for (int i = 0; i < m->nsources; i++)
		if (strcmp(m->sources[i].source, source) == 0 &&
		    strcmp(m->sources[i].table, table) == 0)
			return &m->sources[i];
	return NULL;
}

/* ------------------------------------------------------------- calls */

static int record_call(m_ctx *ctx, const char *a, const char *b, bool source, bool missing,
		       sl_error *err)
{
	m_node *n = ctx->node;
	sl_models *m = ctx->m;
	for (int i = 0; i < n->ncalls; i++) {
		m_call *c = &n->calls[i];
		if (c->source == source && strcmp(c->b, b) == 0 &&
		    ((!c->a && !a) || (c->a && a && strcmp(c->a, a) == 0)))
			return 0;
	}
	if (n->ncalls == n->capcalls) {
		int cap = n->capcalls ? n->capcalls * 2 : 4;
		m_call *nv = sl_arena_alloc(&m->arena, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		if (n->ncalls)
			memcpy(nv, n->calls, sizeof *nv * (size_t)n->ncalls);
		n->calls = nv;
		n->capcalls = cap;
	}
	m_call c = {.a = a ? m_strdup(m, a) : NULL, .b = m_strdup(m, b), .source = source,
		    .missing = missing};
	if ((a && !c.a) || !c.b)
		return oom(err);
	n->calls[n->ncalls++] = c;
	return 0;
}

static int ref_not_found(m_ctx *ctx, const char *pkg, const char *name, sl_error *err)
{
	sl_models *m = ctx->m;
	const char **names = sl_malloc(sizeof *names * (size_t)(m->nnodes + 1));
	int k = 0;
	for (int i = 0; names && i < m->nnodes; i++)
		if (!pkg || strcmp(m->nodes[i]->pkg->name, pkg) == 0)
			names[k++] = m->nodes[i]->pub.name;
	const char *s = names ? m_suggest(name, names, k) : NULL;
	char what[300];
	if (pkg)
		snprintf(what, sizeof what, "ref('%s', '%s')", pkg, name);
	else
		snprintf(what, sizeof what, "ref('%s')", name);
	int rc;
	if (s)
		rc = sl_error_set(err, SL_ECONFIG, "%s not found; did you mean '%s'?", what, s);
	else
		rc = sl_error_set(err, SL_ECONFIG, "%s not found: no model, seed or snapshot has "
				  "that name", what);
	sl_free(names);
	return rc;
}

static int add_cte(m_ctx *ctx, m_node *n, sl_error *err)
{
	for (int i = 0; i < ctx->nctes; i++)
		if (ctx->ctes[i] == n)
			return 0;
	if (ctx->nctes == ctx->capctes) {
		int cap = ctx->capctes ? ctx->capctes * 2 : 4;
		m_node **nv = sl_realloc(ctx->ctes, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		ctx->ctes = nv;
		ctx->capctes = cap;
	}
	ctx->ctes[ctx->nctes++] = n;
	return 0;
}

void m_ctx_free(m_ctx *ctx)
{
	sl_free(ctx->ctes);
	ctx->ctes = NULL;
	ctx->nctes = ctx->capctes = 0;
}

static int fn_ref(m_ctx *ctx, const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw,
		  size_t nkw, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	const char *pkg = NULL, *name = NULL;
	if (nargs == 1 && args[0].type == SL_TPL_STRING) {
		name = args[0].u.str.s;
	} else if (nargs == 2 && args[0].type == SL_TPL_STRING && args[1].type == SL_TPL_STRING) {
		pkg = args[0].u.str.s;
		name = args[1].u.str.s;
	}
	for (size_t i = 0; i < nkw; i++)
		if (strcmp(kw[i].name, "package") == 0 && kw[i].value.type == SL_TPL_STRING)
			pkg = kw[i].value.u.str.s;
	if (!name)
		return sl_error_set(err, SL_ECONFIG, "ref takes a name and an optional package: "
				    "ref('orders') or ref('package', 'orders')");
	m_node *t = m_find_ref(ctx->m, ctx->node, pkg, name);
	if (ctx->mode == M_PARSE && !ctx->strict) {
		/* resolved once the node is known to be enabled (m_build_graph) */
		int rc = record_call(ctx, pkg, name, false, !t, err);
		if (rc < 0)
			return rc;
		*out = m_relation(a, NULL, ctx->m->target_schema, name);
		return 0;
	}
	if (!t)
		return ref_not_found(ctx, pkg, name, err);
	if (!t->enabled)
		return sl_error_set(err, SL_ECONFIG, "%s '%s' depends on a node named '%s' which is "
				    "disabled; enable it or remove the ref",
				    ctx->node ? sl_node_type_name(ctx->node->pub.type) : "node",
				    ctx->node ? ctx->node->pub.unique_id : "", name);
	if (ctx->mode == M_PARSE) {
		*out = m_relation(a, NULL, ctx->m->target_schema, name);
		return 0;
	}
	if (t->pub.materialized == SL_MAT_EPHEMERAL) {
		int rc = add_cte(ctx, t, err);
		if (rc < 0)
			return rc;
		char cte[300];
		snprintf(cte, sizeof cte, "__dbt__cte__%s", t->pub.name);
		*out = cte_relation(a, cte);
		return 0;
	}
	*out = m_relation(a, t->pub.database, t->pub.schema, t->pub.alias);
	return 0;
}

static int fn_source(m_ctx *ctx, const sl_tpl_value *args, size_t nargs, sl_tpl_value *out,
		     sl_arena *a, sl_error *err)
{
	sl_models *m = ctx->m;
	if (nargs != 2 || args[0].type != SL_TPL_STRING || args[1].type != SL_TPL_STRING)
		return sl_error_set(err, SL_ECONFIG, "source takes a source name and a table name: "
				    "source('shop', 'orders')");
	const char *s = args[0].u.str.s, *t = args[1].u.str.s;
	m_source *src = m_find_source(m, s, t);
	if (!src && ctx->mode == M_PARSE && !ctx->strict) {
		/* an error once the node is known to be enabled (m_build_graph) */
		int rc = record_call(ctx, s, t, true, true, err);
		if (rc < 0)
			return rc;
		*out = m_relation(a, NULL, m->target_schema, t);
		return 0;
	}
	if (!src) {
		const char **names = sl_malloc(sizeof *names * (size_t)(m->nsources + 1));
		char **full = sl_malloc(sizeof *full * (size_t)(m->nsources + 1));
		char want[520];
		snprintf(want, sizeof want, "%s.%s", s, t);
		int k = 0;
		for (int i = 0; names && full && i < m->nsources; i++) {
			full[k] = sl_malloc(strlen(m->sources[i].source) +
					    strlen(m->sources[i].table) + 2);
			if (!full[k])
				break;
			sprintf(full[k], "%s.%s", m->sources[i].source, m->sources[i].table);
			names[k] = full[k];
			k++;
		}
		const char *sug = names && full ? m_suggest(want, names, k) : NULL;
		int rc;
		if (sug) {
			const char *dot = strchr(sug, '.');
			rc = sl_error_set(err, SL_ECONFIG, "source('%s', '%s') not found; did you mean "
					  "source('%.*s', '%s')?", s, t, (int)(dot - sug), sug,
					  dot + 1);
		} else {
			rc = sl_error_set(err, SL_ECONFIG, "source('%s', '%s') not found; declare it "
					  "under sources: in a properties .yml file", s, t);
		}
		for (int i = 0; i < k; i++)
			sl_free(full[i]);
		sl_free(full);
		sl_free(names);
		return rc;
	}
	if (ctx->mode == M_PARSE) {
		int rc = record_call(ctx, s, t, true, false, err);
		if (rc < 0)
			return rc;
	}
	*out = m_relation(a, src->database, src->schema, src->identifier);
	return 0;
}

static int fn_config(m_ctx *ctx, const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw,
		     size_t nkw, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	*out = str(a, "");
	if (ctx->mode != M_PARSE)
		return 0;
	sl_models *m = ctx->m;
	/* values outlive the render: copied as JSON text and read back */
	sl_tpl_value d = sl_tpl_dict_new(a);
	if (d.type != SL_TPL_DICT)
		return oom(err);
	for (size_t i = 0; i < nargs; i++) {
		if (args[i].type != SL_TPL_DICT)
			return sl_error_set(err, SL_ECONFIG, "config takes keyword arguments: "
					    "config(materialized='table')");
		for (size_t j = 0; j < args[i].u.dict->len; j++)
			if (sl_tpl_dict_set(a, d.u.dict, args[i].u.dict->keys[j],
					    args[i].u.dict->vals[j]) < 0)
				return oom(err);
	}
	for (size_t i = 0; i < nkw; i++)
		if (sl_tpl_dict_set(a, d.u.dict, kw[i].name, kw[i].value) < 0)
			return oom(err);
	sl_buf b = SL_BUF_INIT;
	sl_tpl_value copy;
	int rc = m_value_json(&b, &d);
	if (rc == 0)
		rc = m_yaml_parse_text(&copy, b.data, "config()", &m->arena, err);
	sl_buf_free(&b);
	if (rc == SL_ENOMEM)
		return oom(err);
	if (rc < 0)
		return rc;
	return m_config_merge(m, &ctx->node->file_cfg, &copy, false, err);
}

/*
 * config.get('key', default) and config.require('key'): the node's
 * resolved config value once compiling; while parsing (its config still
 * being gathered) get gives the default and require gives '', as dbt.
 */
static int fn_config_get(m_ctx *ctx, bool require, const sl_tpl_value *args, size_t nargs,
			 const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
			 sl_error *err)
{
	const char *what = require ? "config.require takes a config name: "
				     "config.require('unique_key')"
				   : "config.get takes a config name and an optional default: "
				     "config.get('unique_key', none)";
	sl_tpl_value def = sl_tpl_none();
	bool has_def = false;
	if (nargs < 1 || args[0].type != SL_TPL_STRING || nargs > (require ? 1u : 2u))
		return sl_error_set(err, SL_ECONFIG, "%s", what);
	if (nargs == 2) {
		def = args[1];
		has_def = true;
	}
	for (size_t i = 0; i < nkw; i++) {
		if (strcmp(kw[i].name, "validator") == 0)
			continue;
		if (require || strcmp(kw[i].name, "default") != 0 || has_def)
			return sl_error_set(err, SL_ECONFIG, "%s", what);
		def = kw[i].value;
		has_def = true;
	}
	const char *key = args[0].u.str.s;
	const m_node *n = ctx->node;
	if (ctx->mode == M_PARSE || !n) {
		*out = require ? str(a, "") : def;
		return require && out->type != SL_TPL_STRING ? oom(err) : 0;
	}
	const sl_tpl_value *v = m_dict_get(&n->cfg, key);
	if (v && v->type != SL_TPL_UNDEFINED && (!require || v->type != SL_TPL_NONE)) {
		*out = *v;
		return 0;
	}
	if (!require) {
		*out = def;
		return 0;
	}
	return sl_error_set(err, SL_ECONFIG, "Required config '%s' not found in %s; set it with "
			    "{{ config(%s=...) }}, under config: in a properties .yml file or in "
			    "dbt_project.yml", key, n->pub.unique_id, key);
}

static int fn_var(m_ctx *ctx, const sl_tpl_value *args, size_t nargs, sl_tpl_value *out,
		  sl_error *err)
{
	if (nargs < 1 || nargs > 2 || args[0].type != SL_TPL_STRING)
		return sl_error_set(err, SL_ECONFIG, "var takes a name and an optional default: "
				    "var('start_date', '2020-01-01')");
	const char *name = args[0].u.str.s;
	/* --vars, then the root project's vars scoped to the node's package
	 * (vars: {pkg: {x: 1}}), its global vars, then the package's own */
	const m_package *pkg = ctx->node->pkg, *root = &ctx->m->pkgs[0];
	const sl_tpl_value *v = m_dict_get(&ctx->m->cli_vars, name);
	if (!v)
		v = m_dict_get(m_dict_get(&root->vars, pkg->name), name);
	if (!v)
		v = m_dict_get(&root->vars, name);
	if (!v && pkg != root)
		v = m_dict_get(m_dict_get(&pkg->vars, pkg->name), name);
	if (!v && pkg != root)
		v = m_dict_get(&pkg->vars, name);
	if (v) {
		*out = *v;
		return 0;
	}
	if (nargs == 2) {
		*out = args[1];
		return 0;
	}
	return sl_error_set(err, SL_ECONFIG, "Required var '%s' not found in config; set it under "
			    "vars: in dbt_project.yml or pass --vars '{%s: value}'", name, name);
}

static int fn_env_var(const sl_tpl_value *args, size_t nargs, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	if (nargs < 1 || nargs > 2 || args[0].type != SL_TPL_STRING)
		return sl_error_set(err, SL_ECONFIG, "env_var takes a name and an optional default: "
				    "env_var('NAME') or env_var('NAME', 'default')");
	const char *name = args[0].u.str.s;
	const char *v = getenv(name);
	if (v) {
		if (strncmp(name, "DBT_ENV_SECRET_", 15) == 0)
			sl_log_add_secret(v);
		*out = str(a, v);
		return 0;
	}
	if (nargs == 2) {
		*out = args[1];
		return 0;
	}
	return sl_error_set(err, SL_ECONFIG, "Env var required but not provided: '%s'; export it "
			    "or give a default: env_var('%s', 'value')", name, name);
}

/* Whether the node's relation is a table the incremental model adds to. */
static int fn_is_incremental(m_ctx *ctx, sl_tpl_value *out, sl_error *err)
{
	m_node *n = ctx->node;
	*out = sl_tpl_bool(false);
	if (ctx->mode == M_PARSE || !ctx->wh || n->pub.materialized != SL_MAT_INCREMENTAL)
		return 0;
	const sl_tpl_value *fr = m_dict_get(&n->cfg, "full_refresh");
	bool full = fr && fr->type != SL_TPL_NONE ? sl_tpl_truthy(fr) : ctx->m->o.full_refresh;
	if (full)
		return 0;
	sl_wh_relation kind = SL_WH_REL_NONE;
	int rc = sl_wh_relation_kind(ctx->wh, n->pub.schema, n->pub.alias, &kind, err);
	if (rc < 0)
		return rc;
	*out = sl_tpl_bool(kind == SL_WH_REL_TABLE);
	return 0;
}

static const char *text_of(const sl_tpl_value *v, sl_buf *b);

/* run_query: rows collected as a table value. */
typedef struct query_rows {
	sl_arena *a;
	sl_tpl_value rows, columns;
	sl_tpl_value *col_values; /* per column: list */
	int ncols;
} query_rows;

static sl_tpl_value typed_text(sl_arena *a, const char *s)
{
	int64_t i;
	double d;
	size_t n;
	if (!s)
		return sl_tpl_none();
	n = strlen(s);
	if (n && sl_parse_int64(s, n, &i) == 0)
		return sl_tpl_int(i);
	if (n && strspn(s, "0123456789+-.eE") == n && sl_parse_double(s, n, &d) == 0)
		return sl_tpl_float(d);
	return sl_tpl_string(a, s, n);
}

static int on_query_row(void *ud, int ncols, const char *const *names,
			const char *const *values, sl_error *err)
{
	query_rows *q = ud;
	sl_arena *a = q->a;
	if (!q->col_values) {
		q->ncols = ncols;
		q->col_values = sl_arena_alloc(a, sizeof *q->col_values * (size_t)(ncols ? ncols : 1));
		if (!q->col_values)
			return oom(err);
		for (int i = 0; i < ncols; i++) {
			sl_tpl_value c = sl_tpl_dict_new(a);
			q->col_values[i] = sl_tpl_list_new(a);
			if (c.type != SL_TPL_DICT || q->col_values[i].type != SL_TPL_LIST ||
			    sl_tpl_dict_set(a, c.u.dict, "name", str(a, names[i])) < 0 ||
			    sl_tpl_dict_set(a, c.u.dict, "values",
					    sl_tpl_callable("table.values", q->col_values[i].u.list)) <
				    0 ||
			    sl_tpl_list_push(a, q->columns.u.list, c) < 0)
				return oom(err);
		}
	}
	sl_tpl_value row = sl_tpl_list_new(a);
	if (row.type != SL_TPL_LIST)
		return oom(err);
	for (int i = 0; i < ncols && i < q->ncols; i++) {
		sl_tpl_value v = typed_text(a, values[i]);
		if (sl_tpl_list_push(a, row.u.list, v) < 0 ||
		    sl_tpl_list_push(a, q->col_values[i].u.list, v) < 0)
			return oom(err);
	}
	return sl_tpl_list_push(a, q->rows.u.list, row) < 0 ? oom(err) : 0;
}

/* Runs sql and gives its rows as a table (rows, columns[i].name,
 * columns[i].values()). */
static int query_table(m_ctx *ctx, const char *sql, sl_tpl_value *out, sl_arena *a,
		       sl_error *err)
{
	query_rows q = {.a = a, .rows = sl_tpl_list_new(a), .columns = sl_tpl_list_new(a)};
	sl_tpl_value t = sl_tpl_dict_new(a);
	if (q.rows.type != SL_TPL_LIST || q.columns.type != SL_TPL_LIST || t.type != SL_TPL_DICT)
		return oom(err);
	int rc = sl_wh_query(ctx->wh, sql, on_query_row, &q, err);
	if (rc < 0)
		return rc;
	if (sl_tpl_dict_set(a, t.u.dict, "rows", q.rows) < 0 ||
	    sl_tpl_dict_set(a, t.u.dict, "columns", q.columns) < 0)
		return oom(err);
	*out = t;
	return 0;
}

/* run_query(sql): at compile, the rows as a table; none while parsing. */
static int fn_run_query(m_ctx *ctx, const sl_tpl_value *args, size_t nargs, sl_tpl_value *out,
			sl_arena *a, sl_error *err)
{
	*out = sl_tpl_none();
	if (nargs != 1 || args[0].type != SL_TPL_STRING)
		return sl_error_set(err, SL_ECONFIG, "run_query takes one SQL string");
	if (ctx->mode == M_PARSE || !ctx->wh)
		return 0;
	return query_table(ctx, args[0].u.str.s, out, a, err);
}

/*
 * {% call statement('name', fetch_result=True) %}SQL{% endcall %}: at
 * compile the SQL runs (its rows kept for load_result('name') when
 * fetch_result); nothing runs while parsing.
 */
static int fn_statement(m_ctx *ctx, const sl_tpl_value *args, size_t nargs,
			const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
			sl_error *err)
{
	const char *name = nargs && args[0].type == SL_TPL_STRING ? args[0].u.str.s : "main";
	const sl_tpl_value *caller = NULL;
	bool fetch = false;
	for (size_t i = 0; i < nkw; i++) {
		if (strcmp(kw[i].name, "caller") == 0)
			caller = &kw[i].value;
		else if (strcmp(kw[i].name, "fetch_result") == 0)
			fetch = sl_tpl_truthy(&kw[i].value);
		else if (strcmp(kw[i].name, "name") == 0 && kw[i].value.type == SL_TPL_STRING)
			name = kw[i].value.u.str.s;
	}
	*out = str(a, "");
	if (!caller)
		return sl_error_set(err, SL_ECONFIG, "statement is a call block: {%% call "
				    "statement('name', fetch_result=True) %%}select ...{%% endcall %%}");
	if (ctx->mode == M_PARSE || !ctx->wh)
		return 0;
	sl_tpl_env env;
	sl_tpl_value body, table = sl_tpl_none();
	m_ctx_env(ctx, &env);
	int rc = sl_tpl_call(caller, NULL, 0, NULL, 0, &env, a, &body, err);
	if (rc < 0)
		return rc;
	sl_buf t = SL_BUF_INIT;
	const char *sql = text_of(&body, &t);
	if (fetch)
		rc = query_table(ctx, sql, &table, a, err);
	else
		rc = sl_wh_exec(ctx->wh, sql, err);
	sl_buf_free(&t);
	if (rc < 0)
		return rc;
	if (ctx->results.type != SL_TPL_DICT) {
		ctx->results = sl_tpl_dict_new(a);
		if (ctx->results.type != SL_TPL_DICT)
			return oom(err);
	}
	sl_tpl_value r = sl_tpl_dict_new(a);
	const char *key = sl_arena_strdup(a, name);
	if (r.type != SL_TPL_DICT || !key ||
	    sl_tpl_dict_set(a, r.u.dict, "data",
			    table.type == SL_TPL_DICT ? *m_dict_get(&table, "rows")
						      : sl_tpl_list_new(a)) < 0 ||
	    sl_tpl_dict_set(a, r.u.dict, "table", table) < 0 ||
	    sl_tpl_dict_set(a, ctx->results.u.dict, key, r) < 0)
		return oom(err);
	return 0;
}

static int fn_load_result(m_ctx *ctx, const sl_tpl_value *args, size_t nargs,
			  sl_tpl_value *out, sl_error *err)
{
	if (nargs != 1 || args[0].type != SL_TPL_STRING)
		return sl_error_set(err, SL_ECONFIG, "load_result takes a statement's name");
	const sl_tpl_value *r = m_dict_get(&ctx->results, args[0].u.str.s);
	*out = r ? *r : sl_tpl_none();
	return 0;
}

static const char *text_of(const sl_tpl_value *v, sl_buf *b)
{
	if (v->type == SL_TPL_STRING)
		return v->u.str.s;
	sl_buf_reset(b);
	sl_tpl_value_write(b, v);
	return b->data ? b->data : "";
}

static int set_str(sl_arena *a, sl_tpl_value *d, const char *k, const char *v);

static int fn_adapter(m_ctx *ctx, const char *what, const sl_tpl_value *args, size_t nargs,
		      const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	if (strcmp(what, "quote") == 0) {
		sl_buf b = SL_BUF_INIT, t = SL_BUF_INIT;
		quote_ident(&b, nargs ? text_of(&args[0], &t) : "");
		*out = sl_tpl_string(a, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		sl_buf_free(&t);
		return 0;
	}
	if (strcmp(what, "dispatch") == 0) {
		const char *name = nargs > 0 && args[0].type == SL_TPL_STRING ? args[0].u.str.s : NULL;
		const char *ns = nargs > 1 && args[1].type == SL_TPL_STRING ? args[1].u.str.s : NULL;
		for (size_t i = 0; i < nkw; i++) {
			if (strcmp(kw[i].name, "macro_name") == 0 && kw[i].value.type == SL_TPL_STRING)
				name = kw[i].value.u.str.s;
			if (strcmp(kw[i].name, "macro_namespace") == 0 &&
			    kw[i].value.type == SL_TPL_STRING)
				ns = kw[i].value.u.str.s;
		}
		if (!name)
			return sl_error_set(err, SL_ECONFIG, "adapter.dispatch takes a macro name: "
					    "adapter.dispatch('my_macro', 'my_package')");
		return m_dispatch(ctx, name, ns, out, a, err);
	}
	if (strcmp(what, "get_relation") == 0) {
		const char *schema = NULL, *ident = NULL;
		if (nargs >= 3) {
			schema = args[1].type == SL_TPL_STRING ? args[1].u.str.s : NULL;
			ident = args[2].type == SL_TPL_STRING ? args[2].u.str.s : NULL;
		}
		for (size_t i = 0; i < nkw; i++) {
			if (strcmp(kw[i].name, "schema") == 0 && kw[i].value.type == SL_TPL_STRING)
				schema = kw[i].value.u.str.s;
			if (strcmp(kw[i].name, "identifier") == 0 && kw[i].value.type == SL_TPL_STRING)
				ident = kw[i].value.u.str.s;
		}
		*out = sl_tpl_none();
		if (ctx->mode == M_PARSE || !ctx->wh || !schema || !ident)
			return 0;
		sl_wh_relation kind = SL_WH_REL_NONE;
		int rc = sl_wh_relation_kind(ctx->wh, schema, ident, &kind, err);
		if (rc == 0 && kind != SL_WH_REL_NONE)
			*out = m_relation(a, NULL, schema, ident);
		return rc;
	}
	if (strcmp(what, "get_columns_in_relation") == 0) {
		const sl_tpl_value *rel = nargs ? &args[0] : NULL;
		*out = sl_tpl_list_new(a);
		if (out->type != SL_TPL_LIST)
			return oom(err);
		const char *schema = m_dict_str(rel, "schema"), *ident = m_dict_str(rel, "identifier");
		if (ctx->mode == M_PARSE || !ctx->wh || !ident)
			return 0;
		sl_schema *cols = NULL;
		int rc = sl_wh_describe(ctx->wh, schema, ident, &cols, err);
		if (rc == SL_ENOTFOUND)
			return 0;
		for (int i = 0; rc == 0 && i < cols->nfields; i++) {
			char tb[64];
			const char *ty = sl_wh_type_sql(ctx->wh, cols->fields[i].type, tb, sizeof tb);
			sl_tpl_value c = sl_tpl_dict_new(a);
			sl_buf q = SL_BUF_INIT;
			quote_ident(&q, cols->fields[i].name);
			if (c.type != SL_TPL_DICT ||
			    set_str(a, &c, "name", cols->fields[i].name) < 0 ||
			    set_str(a, &c, "column", cols->fields[i].name) < 0 ||
			    set_str(a, &c, "quoted", q.data) < 0 ||
			    set_str(a, &c, "data_type", ty) < 0 || set_str(a, &c, "dtype", ty) < 0 ||
			    sl_tpl_list_push(a, out->u.list, c) < 0)
				rc = oom(err);
			sl_buf_free(&q);
		}
		sl_schema_free(cols);
		return rc;
	}
	return sl_error_set(err, SL_ECONFIG, "adapter.%s is not supported by sluice", what);
}

/* ---------------------------------------------------------------- host */

static sl_tpl_value callable(const char *name) { return sl_tpl_callable(name, NULL); }

/* The run's start (UTC) in microseconds: opts' run_started_at, else now. */
static int64_t started_micros(sl_models *m)
{
	int64_t us;
	const char *s = m->o.run_started_at;
	if (s && sl_timestamp_parse(s, strlen(s), &us) == 0)
		return us;
	return sl_now_micros();
}

static void to_tm(int64_t us, struct tm *tm, int64_t *frac)
{
	time_t secs = (time_t)(us / SL_MICROS_PER_SEC);
	*frac = us % SL_MICROS_PER_SEC;
	if (*frac < 0) {
		*frac += SL_MICROS_PER_SEC;
		secs--;
	}
	gmtime_r(&secs, tm);
}

/* run_started_at as dbt's datetime: prints "2024-05-01 10:00:00.000000+00:00",
 * with strftime() and isoformat(). */
static int run_started_at(sl_models *m, sl_tpl_value *out, sl_arena *a)
{
	int64_t us = started_micros(m), frac;
	struct tm tm;
	char buf[64];
	to_tm(us, &tm, &frac);
	snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
	int64_t *data = sl_arena_alloc(a, sizeof *data);
	*out = sl_tpl_dict_new(a);
	if (!data || out->type != SL_TPL_DICT || !(out->u.dict->repr = sl_arena_strdup(a, buf)))
		return SL_ENOMEM;
	*data = us;
	if (sl_tpl_dict_set(a, out->u.dict, "strftime", sl_tpl_callable("datetime.strftime", data)) <
		    0 ||
	    sl_tpl_dict_set(a, out->u.dict, "isoformat",
			    sl_tpl_callable("datetime.isoformat", data)) < 0 ||
	    sl_tpl_dict_set(a, out->u.dict, "year", sl_tpl_int(tm.tm_year + 1900)) < 0 ||
	    sl_tpl_dict_set(a, out->u.dict, "month", sl_tpl_int(tm.tm_mon + 1)) < 0 ||
	    sl_tpl_dict_set(a, out->u.dict, "day", sl_tpl_int(tm.tm_mday)) < 0)
		return SL_ENOMEM;
	return 0;
}

static int datetime_call(const char *what, const int64_t *us, const sl_tpl_value *args,
			 size_t nargs, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	struct tm tm;
	int64_t frac;
	char buf[256];
	to_tm(*us, &tm, &frac);
	if (strcmp(what, "isoformat") == 0) {
		snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long long)frac);
	} else {
		if (nargs != 1 || args[0].type != SL_TPL_STRING)
			return sl_error_set(err, SL_ECONFIG, "strftime takes a format: "
					    "run_started_at.strftime('%%Y-%%m-%%d')");
		if (strftime(buf, sizeof buf, args[0].u.str.s, &tm) == 0)
			buf[0] = '\0';
	}
	*out = str(a, buf);
	return out->type == SL_TPL_STRING ? 0 : oom(err);
}

static int dict_fn(sl_arena *a, sl_tpl_value *d, const char *key, const char *full)
{
	return sl_tpl_dict_set(a, d->u.dict, key, callable(full));
}

static int set_str(sl_arena *a, sl_tpl_value *d, const char *k, const char *v)
{
	return sl_tpl_dict_set(a, d->u.dict, k, str(a, v));
}

static int ctx_lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	m_ctx *ctx = ud;
	sl_models *m = ctx->m;
	m_node *n = ctx->node;
	static const char *const fns[] = {"ref", "source", "config", "var", "env_var",
					  "is_incremental", "return", "log", "print", "run_query",
					  "statement", "load_result", "doc", "load_relation",
					  "config.get", "config.require", NULL};
	for (int i = 0; fns[i]; i++)
		if (strcmp(name, fns[i]) == 0) {
			*out = callable(fns[i]);
			return 1;
		}
	if (strcmp(name, "this") == 0 && ctx->mode == M_COMPILE &&
	    n->pub.materialized == SL_MAT_EPHEMERAL) {
		char cte[300];
		snprintf(cte, sizeof cte, "__dbt__cte__%s", n->pub.name);
		*out = cte_relation(a, cte);
		return 1;
	}
	if (strcmp(name, "this") == 0) {
		*out = m_relation(a, n->pub.database, n->pub.schema ? n->pub.schema
								    : m->target_schema,
				  n->pub.alias ? n->pub.alias : n->pub.name);
		return 1;
	}
	if (strcmp(name, "target") == 0) {
		*out = m->target;
		return 1;
	}
	if (strcmp(name, "run_started_at") == 0)
		return run_started_at(m, out, a) < 0 ? oom(err) : 1;
	if (strcmp(name, "invocation_id") == 0) {
		*out = str(a, m->o.invocation_id ? m->o.invocation_id : "");
		return 1;
	}
	if (strcmp(name, "execute") == 0) {
		*out = sl_tpl_bool(ctx->mode == M_COMPILE);
		return 1;
	}
	if (strcmp(name, "project_name") == 0) {
		*out = str(a, m->pkgs[0].name);
		return 1;
	}
	int rc = 0;
	if (strcmp(name, "exceptions") == 0) {
		*out = sl_tpl_dict_new(a);
		if (out->type != SL_TPL_DICT ||
		    dict_fn(a, out, "raise_compiler_error", "exceptions.raise_compiler_error") < 0 ||
		    dict_fn(a, out, "warn", "exceptions.warn") < 0)
			return oom(err);
		return 1;
	}
	if (strcmp(name, "adapter") == 0) {
		*out = sl_tpl_dict_new(a);
		if (out->type != SL_TPL_DICT || dict_fn(a, out, "dispatch", "adapter.dispatch") < 0 ||
		    dict_fn(a, out, "quote", "adapter.quote") < 0 ||
		    dict_fn(a, out, "get_relation", "adapter.get_relation") < 0 ||
		    dict_fn(a, out, "get_columns_in_relation", "adapter.get_columns_in_relation") < 0 ||
		    set_str(a, out, "type", m->adapter_type) < 0)
			return oom(err);
		return 1;
	}
	if (strcmp(name, "flags") == 0) {
		*out = sl_tpl_dict_new(a);
		if (out->type != SL_TPL_DICT ||
		    sl_tpl_dict_set(a, out->u.dict, "FULL_REFRESH",
				    sl_tpl_bool(m->o.full_refresh)) < 0)
			return oom(err);
		return 1;
	}
	if (strcmp(name, "model") == 0) {
		*out = sl_tpl_dict_new(a);
		if (out->type != SL_TPL_DICT || set_str(a, out, "name", n->pub.name) < 0 ||
		    set_str(a, out, "unique_id", n->pub.unique_id) < 0 ||
		    set_str(a, out, "package_name", n->pub.package) < 0 ||
		    set_str(a, out, "resource_type", sl_node_type_name(n->pub.type)) < 0 ||
		    set_str(a, out, "original_file_path", n->pub.path) < 0 ||
		    set_str(a, out, "path", n->pub.path) < 0 ||
		    set_str(a, out, "schema", n->pub.schema) < 0 ||
		    set_str(a, out, "alias", n->pub.alias) < 0 ||
		    sl_tpl_dict_set(a, out->u.dict, "config",
				    ctx->mode == M_PARSE ? n->file_cfg : n->cfg) < 0)
			return oom(err);
		return 1;
	}
	if ((rc = m_macro_lookup(ctx, name, out, a)) != 0)
		return rc;
	return 0;
}

static int ctx_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		    const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		    sl_error *err)
{
	m_ctx *ctx = ud;
	const char *name = fn->u.fn.name;
	int rc;
	*out = str(a, "");
	if (strcmp(name, "ref") == 0)
		return fn_ref(ctx, args, nargs, kw, nkw, out, a, err);
	if (strcmp(name, "source") == 0)
		return fn_source(ctx, args, nargs, out, a, err);
	if (strcmp(name, "config") == 0)
		return fn_config(ctx, args, nargs, kw, nkw, out, a, err);
	if (strcmp(name, "config.get") == 0 || strcmp(name, "config.require") == 0)
		return fn_config_get(ctx, name[7] == 'r', args, nargs, kw, nkw, out, a, err);
	if (strcmp(name, "var") == 0)
		return fn_var(ctx, args, nargs, out, err);
	if (strcmp(name, "env_var") == 0)
		return fn_env_var(args, nargs, out, a, err);
	if (strcmp(name, "is_incremental") == 0)
		return fn_is_incremental(ctx, out, err);
	if (strcmp(name, "run_query") == 0)
		return fn_run_query(ctx, args, nargs, out, a, err);
	if (strcmp(name, "statement") == 0)
		return fn_statement(ctx, args, nargs, kw, nkw, out, a, err);
	if (strcmp(name, "load_result") == 0)
		return fn_load_result(ctx, args, nargs, out, err);
	if (strcmp(name, "doc") == 0) {
		const sl_tpl_value *d = nargs && args[0].type == SL_TPL_STRING
						? m_dict_get(&ctx->m->docs, args[0].u.str.s)
						: NULL;
		if (!d)
			return sl_error_set(err, SL_ECONFIG, "doc('%s') not found; define it in a .md "
					    "file: {%% docs %s %%}...{%% enddocs %%}",
					    nargs && args[0].type == SL_TPL_STRING ? args[0].u.str.s : "",
					    nargs && args[0].type == SL_TPL_STRING ? args[0].u.str.s
										   : "name");
		*out = *d;
		return 0;
	}
	if (strcmp(name, "load_relation") == 0) {
		/* load_relation(relation): the relation when it exists, else none */
		sl_tpl_value a3[3];
		const sl_tpl_value *rel = nargs ? &args[0] : NULL;
		const sl_tpl_value *sc = m_dict_get(rel, "schema"), *id = m_dict_get(rel, "identifier");
		a3[0] = sl_tpl_none();
		a3[1] = sc ? *sc : sl_tpl_none();
		a3[2] = id ? *id : sl_tpl_none();
		return fn_adapter(ctx, "get_relation", a3, 3, NULL, 0, out, a, err);
	}
	sl_buf t = SL_BUF_INIT;
	const char *msg = NULL;
	rc = 0;
	if (strcmp(name, "log") == 0 || strcmp(name, "print") == 0 ||
	    strcmp(name, "exceptions.warn") == 0 ||
	    strcmp(name, "exceptions.raise_compiler_error") == 0)
		msg = nargs ? text_of(&args[0], &t) : "";
	if (strcmp(name, "log") == 0) {
		bool info = nargs > 1 && sl_tpl_truthy(&args[1]);
		for (size_t i = 0; i < nkw; i++)
			if (strcmp(kw[i].name, "info") == 0)
				info = sl_tpl_truthy(&kw[i].value);
		if (ctx->mode == M_COMPILE)
			sl_log(info ? SL_LOG_INFO : SL_LOG_DEBUG, "%s", msg);
	} else if (strcmp(name, "print") == 0) {
		if (ctx->mode == M_COMPILE)
			sl_log(SL_LOG_INFO, "%s", msg);
	} else if (strcmp(name, "exceptions.warn") == 0) {
		sl_log(SL_LOG_WARN, "%s: %s", ctx->node->pub.path, msg);
	} else if (strcmp(name, "exceptions.raise_compiler_error") == 0) {
		rc = sl_error_set(err, SL_EFORMAT, "Compilation Error: %s", msg);
	} else if (strncmp(name, "adapter.", 8) == 0) {
		rc = fn_adapter(ctx, name + 8, args, nargs, kw, nkw, out, a, err);
	} else if (strcmp(name, "return") == 0) {
		*out = nargs ? args[0] : sl_tpl_none();
		rc = SL_TPL_RETURN;
	} else if (strncmp(name, "datetime.", 9) == 0) {
		rc = datetime_call(name + 9, fn->u.fn.data, args, nargs, out, a, err);
	} else if (strcmp(name, "table.values") == 0) {
		out->type = SL_TPL_LIST;
		out->u.list = fn->u.fn.data;
	} else if (strcmp(name, "relation.render") == 0) {
		*out = str(a, fn->u.fn.data);
	} else if (strcmp(name, "relation.include") == 0) {
		out->type = SL_TPL_DICT;
		out->u.dict = fn->u.fn.data;
	} else {
		rc = sl_error_set(err, SL_EINTERNAL, "%s cannot be called", name);
	}
	sl_buf_free(&t);
	return rc;
}

void m_ctx_env(m_ctx *ctx, sl_tpl_env *env)
{
	env->ud = ctx;
	env->lookup = ctx_lookup;
	env->call = ctx_call;
}
