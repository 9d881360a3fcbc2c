/*
 * models_config.c: configs resolved as dbt resolves them — defaults, the
 * package's own dbt_project.yml tree by folder path, the root project's
 * tree, the properties YAML `config:`, then `{{ config(...) }}` in the
 * file; later wins, except tags and hooks, which accumulate — and the
 * relation each node builds: generate_schema_name and generate_alias_name
 * (dbt's defaults, or the project's own macros).
 */
#include "models/models_int.h"
#include "models/models_macros.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static const char *const known_keys[] = {
	"enabled", "materialized", "tags", "schema", "alias", "database", "pre_hook",
	"post_hook", "unique_key", "incremental_strategy", "on_schema_change", "full_refresh",
	"persist_docs", "meta", "docs", "grants", "column_types", "delimiter", "quote_columns",
	"strategy", "updated_at", "check_cols", "target_schema", "target_database",
	"hard_deletes", "invalidate_hard_deletes", "incremental_predicates", "quoting",
	"contract", "access", "group", "sql_header", "bind", "packages", "dbt_valid_to_current",
	"snapshot_meta_column_names", "indexes", "unlogged", "event_time", "batch_size",
	"lookback", "begin", "concurrent_batches", "on_configuration_change",
	"merge_update_columns", "merge_exclude_columns", "transient", "copy_grants",
	"labels", "partition_by", "cluster_by", "file_format", "location_root", "column_name",
	"severity", "warn_if", "error_if", "fail_calc", "where", "limit", "store_failures",
	"store_failures_as", NULL};

/* Configs whose values are mappings, so a mapping under them is no folder. */
static bool dict_valued(const char *k)
{
	return strcmp(k, "meta") == 0 || strcmp(k, "persist_docs") == 0 ||
	       strcmp(k, "column_types") == 0 || strcmp(k, "docs") == 0 ||
	       strcmp(k, "grants") == 0 || strcmp(k, "quoting") == 0 ||
	       strcmp(k, "contract") == 0 || strcmp(k, "snapshot_meta_column_names") == 0;
}

const char *m_config_key(const char *key)
{
	if (key[0] == '+')
		key++;
	if (strcmp(key, "pre-hook") == 0)
		return "pre_hook";
	if (strcmp(key, "post-hook") == 0)
		return "post_hook";
	for (int i = 0; known_keys[i]; i++)
		if (strcmp(known_keys[i], key) == 0)
			return known_keys[i];
	return NULL;
}

static bool accumulates(const char *k)
{
	return strcmp(k, "tags") == 0 || strcmp(k, "pre_hook") == 0 ||
	       strcmp(k, "post_hook") == 0;
}

/* Appends v (a value or a list of them) to list l; tags once each. */
static int append_items(sl_models *m, sl_tpl_list *l, const sl_tpl_value *v, bool unique)
{
	if (v->type == SL_TPL_NONE || v->type == SL_TPL_UNDEFINED)
		return 0;
	if (v->type == SL_TPL_LIST) {
		for (size_t i = 0; i < v->u.list->len; i++)
			if (append_items(m, l, &v->u.list->items[i], unique) < 0)
				return SL_ENOMEM;
		return 0;
	}
	if (unique && v->type == SL_TPL_STRING)
		for (size_t i = 0; i < l->len; i++)
			if (l->items[i].type == SL_TPL_STRING &&
			    strcmp(l->items[i].u.str.s, v->u.str.s) == 0)
				return 0;
	return sl_tpl_list_push(&m->arena, l, *v);
}

/* Sets one config (key as written) in dst. */
static int set_config(sl_models *m, sl_tpl_value *dst, const char *key, const sl_tpl_value *v)
{
	const char *k = m_config_key(key);
	if (!k) {
		/* a +key dbt does not know: kept (custom materializations read them) */
		k = sl_arena_strdup(&m->arena, key[0] == '+' ? key + 1 : key);
		if (!k)
			return SL_ENOMEM;
	}
	if (accumulates(k)) {
		const sl_tpl_value *old = sl_tpl_dict_get(dst->u.dict, k);
		sl_tpl_value l = sl_tpl_list_new(&m->arena);
		if (l.type != SL_TPL_LIST)
			return SL_ENOMEM;
		if (old && append_items(m, l.u.list, old, strcmp(k, "tags") == 0) < 0)
			return SL_ENOMEM;
		if (append_items(m, l.u.list, v, strcmp(k, "tags") == 0) < 0)
			return SL_ENOMEM;
		return sl_tpl_dict_set(&m->arena, dst->u.dict, k, l);
	}
	if (strcmp(k, "meta") == 0 && v->type == SL_TPL_DICT) {
		const sl_tpl_value *old = sl_tpl_dict_get(dst->u.dict, k);
		sl_tpl_value d = sl_tpl_dict_new(&m->arena);
		if (d.type != SL_TPL_DICT)
			return SL_ENOMEM;
		for (size_t i = 0; old && old->type == SL_TPL_DICT && i < old->u.dict->len; i++)
			if (sl_tpl_dict_set(&m->arena, d.u.dict, old->u.dict->keys[i],
					    old->u.dict->vals[i]) < 0)
				return SL_ENOMEM;
		for (size_t i = 0; i < v->u.dict->len; i++)
			if (sl_tpl_dict_set(&m->arena, d.u.dict, v->u.dict->keys[i],
					    v->u.dict->vals[i]) < 0)
				return SL_ENOMEM;
		return sl_tpl_dict_set(&m->arena, dst->u.dict, k, d);
	}
	return sl_tpl_dict_set(&m->arena, dst->u.dict, k, *v);
}

int m_config_merge(sl_models *m, sl_tpl_value *dst, const sl_tpl_value *src, bool tree_level,
		   sl_error *err)
{
	if (!src || src->type != SL_TPL_DICT)
		return 0;
	for (size_t i = 0; i < src->u.dict->len; i++) {
		const char *key = src->u.dict->keys[i];
		const sl_tpl_value *v = &src->u.dict->vals[i];
		if (tree_level && key[0] != '+') {
			/* without '+': a config dbt knows (not a folder), else a folder */
			const char *k = m_config_key(key);
			if (!k || (v->type == SL_TPL_DICT && !dict_valued(k)))
				continue;
		}
		if (set_config(m, dst, key, v) < 0)
			return oom(err);
	}
	return 0;
}

/* Applies tree (dbt_project.yml's models: etc.) along pkg/folders/name. */
static int apply_tree(sl_models *m, sl_tpl_value *cfg, const sl_tpl_value *tree,
		      const m_node *n, sl_error *err)
{
	if (!tree || tree->type != SL_TPL_DICT)
		return 0;
	int rc = m_config_merge(m, cfg, tree, true, err);
	const sl_tpl_value *level = m_dict_get(tree, n->pkg->name);
	if (rc < 0 || !level)
		return rc;
	if ((rc = m_config_merge(m, cfg, level, true, err)) < 0)
		return rc;
	const char *p = n->fqn_path;
	char part[256];
	while (*p) {
		size_t len = strcspn(p, "/");
		snprintf(part, sizeof part, "%.*s", (int)(len < 255 ? len : 255), p);
		level = m_dict_get(level, part);
		if (!level || level->type != SL_TPL_DICT)
			return 0;
		if ((rc = m_config_merge(m, cfg, level, true, err)) < 0)
			return rc;
		p += len;
		p += *p == '/';
	}
	return 0;
}

static const sl_tpl_value *tree_of(const m_package *p, sl_node_type t)
{
	return t == SL_NODE_TEST ? &p->tests_tree
	       : t == SL_NODE_MODEL ? &p->models_tree
	       : t == SL_NODE_SEED ? &p->seeds_tree
				   : &p->snapshots_tree;
}

/* ------------------------------------------------------------ relations */

static char *trim_dup(sl_models *m, const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return sl_arena_strndup(&m->arena, s, n);
}

/* The result of a name-generating macro as trimmed text. */
static int macro_name(sl_models *m, m_node *n, const char *macro, const sl_tpl_value *custom,
		      const char **out, bool *done, sl_error *err)
{
	*done = false;
	if (!m_macro_overridden(m, macro))
		return 0;
	char *text = NULL;
	int rc = m_call_name_macro(m, n, macro, custom, &text, err);
	if (rc < 0)
		return rc;
	*out = trim_dup(m, text ? text : "");
	sl_free(text);
	*done = true;
	return *out ? 0 : oom(err);
}

static int relation_names(sl_models *m, m_node *n, sl_error *err)
{
	const sl_tpl_value *cfg = &n->cfg;
	const char *tschema = m_dict_str(cfg, "target_schema");
	const sl_tpl_value *custom = m_dict_get(cfg, "schema");
	sl_tpl_value none = sl_tpl_none();
	bool done;
	int rc;
	if (!custom || custom->type == SL_TPL_UNDEFINED)
		custom = &none;
	if (n->pub.type == SL_NODE_SNAPSHOT && tschema) {
		n->pub.schema = tschema;
	} else {
		if ((rc = macro_name(m, n, "generate_schema_name", custom, &n->pub.schema, &done,
				     err)) < 0)
			return rc;
		if (!done && custom->type == SL_TPL_STRING)
			n->pub.schema = sl_arena_sprintf(&m->arena, "%s_%s", m->target_schema,
							 trim_dup(m, custom->u.str.s));
		else if (!done)
			n->pub.schema = m->target_schema;
	}
	const sl_tpl_value *alias = m_dict_get(cfg, "alias");
	if (!alias || alias->type == SL_TPL_UNDEFINED)
		alias = &none;
	if ((rc = macro_name(m, n, "generate_alias_name", alias, &n->pub.alias, &done, err)) < 0)
		return rc;
	if (!done)
		n->pub.alias = alias->type == SL_TPL_STRING ? trim_dup(m, alias->u.str.s)
							    : n->pub.name;
	const char *db = n->pub.type == SL_NODE_SNAPSHOT ? m_dict_str(cfg, "target_database")
							 : NULL;
	if (!db)
		db = m_dict_str(cfg, "database");
	/* the target's own database is the connection's: nothing to name */
	if (db && m->target_database && strcmp(db, m->target_database) == 0)
		db = NULL;
	n->pub.database = db;
	if (!n->pub.schema || !n->pub.alias)
		return oom(err);
	if (db && strcmp(m->adapter_type, "postgres") == 0 &&
	    n->pub.materialized != SL_MAT_EPHEMERAL)
		return sl_error_set(err, SL_ECONFIG, "%s: database '%s' is not the target's database "
				    "'%s', and PostgreSQL cannot write into another database from "
				    "this connection; remove the %s config, set it to '%s', or use "
				    "a target whose dbname is '%s'", n->pub.path, db,
				    m->target_database,
				    n->pub.type == SL_NODE_SNAPSHOT && m_dict_str(cfg, "target_database")
					    ? "target_database" : "database",
				    m->target_database, db);
	return 0;
}

/* ------------------------------------------------------------- resolving */

static int materialized_of(m_node *n, sl_error *err)
{
	static const char *const names[] = {"view", "table", "incremental", "ephemeral", NULL};
	if (n->pub.type == SL_NODE_SEED) {
		n->pub.materialized = SL_MAT_SEED;
		return 0;
	}
	if (n->pub.type == SL_NODE_SNAPSHOT) {
		n->pub.materialized = SL_MAT_SNAPSHOT;
		return 0;
	}
	const char *mat = m_dict_str(&n->cfg, "materialized");
	for (int i = 0; mat && names[i]; i++)
		if (strcmp(mat, names[i]) == 0) {
			n->pub.materialized = (sl_materialized)i;
			return 0;
		}
	return sl_error_set(err, SL_ECONFIG, "%s: materialized '%s' is not supported by sluice; "
			    "use view, table, incremental or ephemeral", n->pub.path,
			    mat ? mat : "?");
}

/* tags and config as the public node shows them. */
static int public_fields(sl_models *m, m_node *n, sl_error *err)
{
	const sl_tpl_value *tags = m_dict_get(&n->cfg, "tags");
	if (tags && tags->type == SL_TPL_LIST && tags->u.list->len) {
		const char **t = sl_arena_alloc(&m->arena, sizeof *t * tags->u.list->len);
		if (!t)
			return oom(err);
		int k = 0;
		for (size_t i = 0; i < tags->u.list->len; i++)
			if (tags->u.list->items[i].type == SL_TPL_STRING)
				t[k++] = tags->u.list->items[i].u.str.s;
		n->pub.tags = t;
		n->pub.ntags = k;
	}
	const sl_tpl_dict *d = n->cfg.u.dict;
	const char **c = sl_arena_alloc(&m->arena, sizeof *c * (d->len ? d->len : 1));
	if (!c)
		return oom(err);
	for (size_t i = 0; i < d->len; i++) {
		sl_buf b = SL_BUF_INIT;
		int rc = sl_buf_printf(&b, "%s=", d->keys[i]);
		const sl_tpl_value *v = &d->vals[i];
		if (rc == 0 && v->type == SL_TPL_STRING)
			rc = sl_buf_append(&b, v->u.str.s, v->u.str.len);
		else if (rc == 0)
			rc = m_value_json(&b, v);
		c[i] = rc == 0 ? sl_arena_strndup(&m->arena, b.data, b.len) : NULL;
		sl_buf_free(&b);
		if (!c[i])
			return oom(err);
	}
	n->pub.config = c;
	n->pub.nconfig = (int)d->len;
	return 0;
}

/* Renders a config string that holds Jinja ("{{ target.name == 'prod' }}"),
 * as dbt renders dbt_project.yml and properties files: "True"/"False"
 * become booleans. */
static int render_config_value(sl_models *m, m_node *n, const char *key, sl_tpl_value *v,
			       sl_error *err)
{
	if (v->type == SL_TPL_LIST) {
		for (size_t i = 0; i < v->u.list->len; i++) {
			int rc = render_config_value(m, n, key, &v->u.list->items[i], err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (v->type != SL_TPL_STRING || (!strstr(v->u.str.s, "{{") && !strstr(v->u.str.s, "{%")))
		return 0;
	sl_tpl *t = NULL;
	sl_buf out = SL_BUF_INIT;
	m_ctx ctx;
	sl_tpl_env env;
	char name[300];
	snprintf(name, sizeof name, "%s: config %s", n->pub.path, key);
	int rc = sl_tpl_parse(&t, name, v->u.str.s, v->u.str.len, err);
	if (rc == 0) {
		memset(&ctx, 0, sizeof ctx);
		ctx.m = m;
		ctx.node = n;
		ctx.mode = M_PARSE;
		ctx.err = err;
		m_ctx_env(&ctx, &env);
		rc = sl_tpl_render(t, &env, &out, err);
		m_ctx_free(&ctx);
	}
	sl_tpl_free(t);
	if (rc == 0) {
		const char *s = out.data ? out.data : "";
		if (strcmp(s, "True") == 0 || strcmp(s, "true") == 0)
			*v = sl_tpl_bool(true);
		else if (strcmp(s, "False") == 0 || strcmp(s, "false") == 0)
			*v = sl_tpl_bool(false);
		else
			*v = sl_tpl_string(&m->arena, s, out.len);
		if (v->type == SL_TPL_STRING && !v->u.str.s)
			rc = oom(err);
	}
	sl_buf_free(&out);
	return rc;
}

static int render_configs(sl_models *m, m_node *n, sl_error *err)
{
	sl_tpl_dict *d = n->cfg.u.dict;
	for (size_t i = 0; i < d->len; i++) {
		/* hooks render when they run, with `this` and the warehouse */
		if (strcmp(d->keys[i], "pre_hook") == 0 || strcmp(d->keys[i], "post_hook") == 0)
			continue;
		int rc = render_config_value(m, n, d->keys[i], &d->vals[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int m_resolve_test_config(sl_models *m, m_node *n, sl_error *err)
{
	int rc;
	sl_tpl_dict *d = n->cfg.u.dict;
	static const char *const defaults[][2] = {
		{"materialized", "test"}, {"severity", "ERROR"}, {"warn_if", "!= 0"},
		{"error_if", "!= 0"}, {"fail_calc", "count(*)"}, {"schema", "dbt_test__audit"}};
	if (sl_tpl_dict_set(&m->arena, d, "enabled", sl_tpl_bool(true)) < 0)
		return oom(err);
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if (sl_tpl_dict_set(&m->arena, d, defaults[i][0],
				    sl_tpl_string(&m->arena, defaults[i][1],
						  strlen(defaults[i][1]))) < 0)
			return oom(err);
	if ((rc = apply_tree(m, &n->cfg, tree_of(n->pkg, n->pub.type), n, err)) < 0)
		return rc;
	if (!n->pkg->root &&
	    (rc = apply_tree(m, &n->cfg, tree_of(&m->pkgs[0], n->pub.type), n, err)) < 0)
		return rc;
	/* config() in the test's SQL (or its generic test's macro), then
	 * the test's own configs in properties YAML */
	if ((rc = m_config_merge(m, &n->cfg, &n->file_cfg, false, err)) < 0 ||
	    (rc = m_config_merge(m, &n->cfg, &n->test_cfg, false, err)) < 0 ||
	    (rc = render_configs(m, n, err)) < 0)
		return rc;
	const sl_tpl_value *en = m_dict_get(&n->cfg, "enabled");
	if (n->enabled)
		n->enabled = !en || sl_tpl_truthy(en);
	n->pub.materialized = SL_MAT_VIEW;
	return public_fields(m, n, err);
}

static int resolve_node(sl_models *m, m_node *n, sl_error *err)
{
	int rc;
	n->cfg = sl_tpl_dict_new(&m->arena);
	if (n->cfg.type != SL_TPL_DICT)
		return oom(err);
	if (n->pub.type == SL_NODE_TEST)
		return m_resolve_test_config(m, n, err);
	sl_tpl_dict *d = n->cfg.u.dict;
	const char *mat = n->pub.type == SL_NODE_MODEL  ? "view"
			  : n->pub.type == SL_NODE_SEED ? "seed"
							: "snapshot";
	if (sl_tpl_dict_set(&m->arena, d, "enabled", sl_tpl_bool(true)) < 0 ||
	    sl_tpl_dict_set(&m->arena, d, "materialized",
			    sl_tpl_string(&m->arena, mat, strlen(mat))) < 0)
		return oom(err);
	if ((rc = apply_tree(m, &n->cfg, tree_of(n->pkg, n->pub.type), n, err)) < 0)
		return rc;
	if (!n->pkg->root &&
	    (rc = apply_tree(m, &n->cfg, tree_of(&m->pkgs[0], n->pub.type), n, err)) < 0)
		return rc;
	if ((rc = m_config_merge(m, &n->cfg, &n->props_cfg, false, err)) < 0 ||
	    (rc = m_config_merge(m, &n->cfg, &n->file_cfg, false, err)) < 0 ||
	    (rc = render_configs(m, n, err)) < 0)
		return rc;
	const sl_tpl_value *en = m_dict_get(&n->cfg, "enabled");
	n->enabled = !en || sl_tpl_truthy(en);
	if ((rc = materialized_of(n, err)) < 0)
		return rc;
	return public_fields(m, n, err);
}

/* Properties entries onto their nodes (same package, type and name: all
 * of them when a disabled variant shares the name). */
static int attach_props(sl_models *m, sl_error *err)
{
	for (int i = 0; i < m->nprops; i++) {
		m_props *p = &m->props[i];
		bool found = false;
		for (int j = 0; j < m->nnodes; j++) {
			m_node *n = m->nodes[j];
			if (n->pub.type != p->type || n->pkg != p->pkg ||
			    strcmp(n->pub.name, p->name) != 0)
				continue;
			found = true;
			if (n->props_cfg.type != SL_TPL_DICT) {
				n->props_cfg = sl_tpl_dict_new(&m->arena);
				if (n->props_cfg.type != SL_TPL_DICT)
					return oom(err);
			}
			int rc = m_config_merge(m, &n->props_cfg, &p->cfg, false, err);
			if (rc < 0)
				return rc;
		}
		if (!found)
			sl_log(SL_LOG_WARN, "%s:%d: %s \"%s\" is described but no such %s exists",
			       p->file, p->line, sl_node_type_name(p->type), p->name,
			       sl_node_type_name(p->type));
	}
	return 0;
}

int m_resolve_configs(sl_models *m, sl_error *err)
{
	int rc = attach_props(m, err);
	for (int i = 0; rc == 0 && i < m->nnodes; i++)
		rc = resolve_node(m, m->nodes[i], err);
	/* a test of a disabled node is disabled with it, as in dbt */
	for (int i = 0; rc == 0 && i < m->nnodes; i++)
		if (m->nodes[i]->attached && !m->nodes[i]->attached->enabled)
			m->nodes[i]->enabled = false;
	for (int i = 0; rc == 0 && i < m->nnodes; i++)
		if (m->nodes[i]->enabled)
			rc = relation_names(m, m->nodes[i], err);
	return rc;
}
