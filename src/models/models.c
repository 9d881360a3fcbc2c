/*
 * models.c: sl_models_open's steps in order — packages, discovery, macros,
 * each node's template parsed and rendered once (for its ref, source and
 * config calls), configs resolved, the graph built — and the lookups and
 * compilation the engine and the CLI use.
 */
#include "models/models_int.h"
#include "models/models_macros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

const char *sl_materialized_name(sl_materialized m)
{
	static const char *const names[] = {"view", "table", "incremental", "ephemeral", "seed",
					    "snapshot"};
	return (unsigned)m < 6 ? names[m] : "?";
}

const char *sl_node_type_name(sl_node_type t)
{
	static const char *const names[] = {"model", "seed", "snapshot"};
	return (unsigned)t < 3 ? names[t] : "?";
}

void sl_models_free(sl_models *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nnodes; i++)
		sl_tpl_free(m->nodes[i]->tpl);
	for (int i = 0; i < m->ntpls; i++)
		sl_tpl_free(m->tpls[i]);
	sl_free(m->tpls);
	sl_free(m->nodes);
	sl_free(m->enabled);
	sl_free(m->sources);
	sl_free(m->macros);
	sl_free(m->props);
	sl_arena_free(&m->arena);
	sl_free(m);
}

int sl_models_count(const sl_models *m) { return m->nenabled; }

const sl_node *sl_models_node(const sl_models *m, int i)
{
	return i >= 0 && i < m->nenabled ? &m->enabled[i]->pub : NULL;
}

int sl_models_find(const sl_models *m, const char *unique_id)
{
	for (int i = 0; i < m->nenabled; i++)
		if (strcmp(m->enabled[i]->pub.unique_id, unique_id) == 0)
			return i;
	return -1;
}

static sl_tpl_value text_value(sl_arena *a, const char *s)
{
	return s ? sl_tpl_string(a, s, strlen(s)) : sl_tpl_none();
}

/* The `target` dict templates see. */
static int target_dict(sl_models *m, sl_error *err)
{
	const sl_target *t = m->o.target;
	sl_arena *a = &m->arena;
	const char *type = t && t->type ? t->type : "sqlite";
	bool pg = strcmp(type, "postgres") == 0;
	m->adapter_type = type;
	m->target_schema = t && t->schema ? t->schema : pg ? "public" : "main";
	const char *db = t ? (pg ? t->dbname : sl_kvs_get(&t->settings, "database")) : NULL;
	m->target_database = db ? db : pg ? "postgres" : "main";
	int threads = m->o.threads;
	const char *th = t ? sl_kvs_get(&t->settings, "threads") : NULL;
	if (threads <= 0)
		threads = th ? atoi(th) : 1;
	const sl_project *p = m->o.project;
	sl_tpl_value d = sl_tpl_dict_new(a);
#define S(k, v) sl_tpl_dict_set(a, d.u.dict, k, text_value(a, v))
	if (d.type != SL_TPL_DICT || S("name", t && t->name ? t->name : "default") < 0 ||
	    S("type", type) < 0 || S("schema", m->target_schema) < 0 ||
	    S("database", m->target_database) < 0 ||
	    sl_tpl_dict_set(a, d.u.dict, "threads", sl_tpl_int(threads)) < 0 ||
	    S("profile_name", p ? (p->dbt_profile ? p->dbt_profile : p->name) : NULL) < 0 ||
	    S("user", t ? t->user : NULL) < 0 || S("host", t ? t->host : NULL) < 0 ||
	    sl_tpl_dict_set(a, d.u.dict, "port", sl_tpl_int(t ? t->port : 0)) < 0 ||
	    S("dbname", t ? t->dbname : NULL) < 0 ||
	    S("path", t ? (t->path_abs ? t->path_abs : t->path) : NULL) < 0)
		return oom(err);
#undef S
	m->target = d;
	return 0;
}

static int add_extra_sources(sl_models *m, sl_error *err)
{
	for (int i = 0; i < m->o.nextra_sources; i++) {
		const sl_model_source *s = &m->o.extra_sources[i];
		if (m->nsources == m->capsources) {
			int cap = m->capsources ? m->capsources * 2 : 32;
			m_source *nv = sl_realloc(m->sources, sizeof *nv * (size_t)cap);
			if (!nv)
				return oom(err);
			m->sources = nv;
			m->capsources = cap;
		}
		m_source *d = &m->sources[m->nsources++];
		memset(d, 0, sizeof *d);
		d->source = m_strdup(m, s->source);
		d->table = m_strdup(m, s->table);
		d->schema = m_strdup(m, s->schema);
		d->identifier = m_strdup(m, s->identifier ? s->identifier : s->table);
		d->file = "sluice.yml";
		if (!d->source || !d->table || !d->identifier || (s->schema && !d->schema))
			return oom(err);
	}
	return 0;
}

/* Parses each node's template and renders it once for its calls. */
static int parse_nodes(sl_models *m, sl_error *err)
{
	sl_buf scratch = SL_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < m->nnodes && rc == 0; i++) {
		m_node *n = m->nodes[i];
		if (!n->text)
			continue;
		rc = sl_tpl_parse(&n->tpl, n->pub.path, n->text, strlen(n->text), err);
		if (rc < 0)
			break;
		m_ctx ctx;
		sl_tpl_env env;
		memset(&ctx, 0, sizeof ctx);
		ctx.m = m;
		ctx.node = n;
		ctx.mode = M_PARSE;
		ctx.err = err;
		m_ctx_env(&ctx, &env);
		sl_buf_reset(&scratch);
		rc = sl_tpl_render(n->tpl, &env, &scratch, err);
		m_ctx_free(&ctx);
	}
	sl_buf_free(&scratch);
	return rc;
}

static int list_enabled(sl_models *m, sl_error *err)
{
	m->enabled = sl_malloc(sizeof *m->enabled * (size_t)(m->nnodes + 1));
	if (!m->enabled)
		return oom(err);
	for (int i = 0; i < m->nnodes; i++)
		if (m->nodes[i]->enabled)
			m->enabled[m->nenabled++] = m->nodes[i];
	return 0;
}

int sl_models_open(sl_models **out, const sl_models_opts *o, sl_error *err)
{
	sl_models *m = NULL;
	int rc = sl_alloc_zeroed((void **)&m, sizeof *m, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	sl_arena_init(&m->arena, 64 * 1024);
	m->o = *o;
	m->o.run_started_at = m_strdup(m, o->run_started_at);
	m->o.invocation_id = m_strdup(m, o->invocation_id);
	m->project_dir = m_strdup(m, o->project_dir ? o->project_dir
				  : o->project && o->project->dir ? o->project->dir : ".");
	m->cli_vars = sl_tpl_dict_new(&m->arena);
	m->docs = sl_tpl_dict_new(&m->arena);
	if (!m->project_dir || m->cli_vars.type != SL_TPL_DICT || m->docs.type != SL_TPL_DICT) {
		rc = oom(err);
		goto fail;
	}
	if (o->vars_yaml && *o->vars_yaml) {
		rc = m_yaml_parse_text(&m->cli_vars, o->vars_yaml, "--vars", &m->arena, err);
		if (rc == 0 && m->cli_vars.type != SL_TPL_DICT)
			rc = sl_error_set(err, SL_EUSAGE, "--vars must be a YAML or JSON mapping, "
					  "e.g. --vars '{start_date: 2024-01-01}'");
		if (rc < 0)
			goto fail;
	}
	if ((rc = target_dict(m, err)) < 0 || (rc = add_extra_sources(m, err)) < 0 ||
	    (rc = m_load_packages(m, err)) < 0 || (rc = m_discover(m, err)) < 0 ||
	    (rc = m_load_macros(m, err)) < 0 || (rc = parse_nodes(m, err)) < 0 ||
	    (rc = m_resolve_configs(m, err)) < 0 || (rc = list_enabled(m, err)) < 0 ||
	    (rc = m_build_graph(m, err)) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	sl_models_free(m);
	return rc;
}

int sl_models_compile(sl_models *m, int i, sl_wh *wh, bool write_file, char **sql,
		      sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	*sql = NULL;
	if (i < 0 || i >= m->nenabled)
		return sl_error_set(err, SL_EINVAL, "no node %d", i);
	m_node *n = m->enabled[i];
	if (n->pub.type == SL_NODE_SEED) {
		*sql = sl_strdup("");
		return *sql ? 0 : oom(err);
	}
	int rc = m_compile(m, n, wh, &b, err);
	if (rc == 0 && write_file)
		rc = m_write_target(m, n, "compiled", b.data ? b.data : "", b.len, err);
	if (rc < 0) {
		sl_buf_free(&b);
		return rc;
	}
	*sql = b.data ? sl_buf_detach(&b) : sl_strdup("");
	return *sql ? 0 : oom(err);
}
