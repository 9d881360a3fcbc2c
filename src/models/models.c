/*
 * models.c: sl_models_open's steps in order — packages, discovery, macros,
 * each node's template parsed and rendered once (for its ref, source and
 * config calls), configs resolved, the graph built — and the lookups and
 * compilation the engine and the CLI use.
 */
#include "models/models_int.h"
#include "models/models_macros.h"

#include <ctype.h>
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
	static const char *const names[] = {"model", "seed", "snapshot", "test"};
	return (unsigned)t < 4 ? names[t] : "?";
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
	sl_free(m->specs);
	sl_arena_free(&m->arena);
	sl_free(m);
}

int sl_models_count(const sl_models *m) { return m->nenabled; }

/* The declared sources as sl_models_source_at gives them: properties
 * YAML's first (the sluice project's were added before them), each
 * package's in its order. */
static int list_sources(sl_models *m, sl_error *err)
{
	if (!m->nsources)
		return 0;
	m->pub_sources = sl_arena_alloc(&m->arena, sizeof *m->pub_sources * (size_t)m->nsources);
	if (!m->pub_sources)
		return oom(err);
	int k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < m->nsources; i++) {
			const m_source *s = &m->sources[i];
			if ((s->package != NULL) != (pass == 0))
				continue;
			sl_model_source *d = &m->pub_sources[k++];
			*d = s->info;
			d->source = s->source;
			d->table = s->table;
			d->schema = s->schema;
			d->identifier = s->identifier;
			d->database = s->database;
			d->package = s->package ? s->package : m->pkgs[0].name;
			d->path = s->file;
			d->unique_id = sl_arena_sprintf(&m->arena, "source.%s.%s.%s", d->package,
							s->source, s->table);
			if (!d->unique_id)
				return oom(err);
		}
	return 0;
}

int sl_models_source_count(const sl_models *m) { return m->pub_sources ? m->nsources : 0; }

const sl_model_source *sl_models_source_at(const sl_models *m, int i)
{
	return m->pub_sources && i >= 0 && i < m->nsources ? &m->pub_sources[i] : NULL;
}

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
		d->extra = true;
		if (!d->source || !d->table || !d->identifier || (s->schema && !d->schema))
			return oom(err);
		/* what sluice.yml says of the table: its freshness: and
		 * loaded_at_field: (properties YAML may document it further) */
		sl_model_source *in = &d->info;
		in->description = m_strdup(m, s->description ? s->description : "");
		in->source_description = m_strdup(m, s->source_description ? s->source_description : "");
		in->loader = m_strdup(m, s->loader ? s->loader : "");
		in->meta_json = m_strdup(m, s->meta_json ? s->meta_json : "{}");
		in->loaded_at_field = s->loaded_at_field ? m_strdup(m, s->loaded_at_field) : NULL;
		in->freshness = s->freshness;
		sl_freshness *f = &in->freshness;
		f->warn_after.period = f->warn_after.period ? m_strdup(m, f->warn_after.period) : NULL;
		f->error_after.period = f->error_after.period ? m_strdup(m, f->error_after.period)
							      : NULL;
		f->filter = f->filter ? m_strdup(m, f->filter) : NULL;
		if (!in->description || !in->source_description || !in->loader || !in->meta_json ||
		    (s->loaded_at_field && !in->loaded_at_field) ||
		    (s->freshness.warn_after.period && !f->warn_after.period) ||
		    (s->freshness.error_after.period && !f->error_after.period) ||
		    (s->freshness.filter && !f->filter))
			return oom(err);
	}
	return 0;
}

/* Renders node n once at parse (its ref/source/config calls recorded). */
static int render_parse(sl_models *m, m_node *n, bool strict, sl_buf *scratch, sl_error *err)
{
	m_ctx ctx;
	sl_tpl_env env;
	memset(&ctx, 0, sizeof ctx);
	ctx.m = m;
	ctx.node = n;
	ctx.mode = M_PARSE;
	ctx.strict = strict;
	ctx.err = err;
	m_ctx_env(&ctx, &env);
	sl_buf_reset(scratch);
	int rc = sl_tpl_render(n->tpl, &env, scratch, err);
	m_ctx_free(&ctx);
	return rc;
}

int m_parse_strict(sl_models *m, m_node *n, sl_error *err)
{
	sl_buf scratch = SL_BUF_INIT;
	int rc = n->tpl ? render_parse(m, n, true, &scratch, err) : 0;
	sl_buf_free(&scratch);
	return rc;
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
		const char *name = m_display_path(m, n->pkg, n->pub.path);
		rc = name ? sl_tpl_parse(&n->tpl, name, n->text, strlen(n->text), err) : oom(err);
		if (rc == 0)
			rc = render_parse(m, n, false, &scratch, err);
	}
	sl_buf_free(&scratch);
	return rc;
}

static int list_enabled(sl_models *m, sl_error *err)
{
	m->enabled = sl_malloc(sizeof *m->enabled * (size_t)(m->nnodes + 1));
	if (!m->enabled)
		return oom(err);
	for (int i = 0; i < m->nnodes; i++) {
		m_node *n = m->nodes[i];
		if (!n->enabled)
			continue;
		/* one enabled node per name, type and package (a disabled
		 * variant of the same name is fine, as in dbt); tests: one per
		 * unique_id */
		for (int j = 0; j < m->nenabled; j++) {
			m_node *o = m->enabled[j];
			if (n->pub.type == SL_NODE_TEST && o->pub.type == SL_NODE_TEST &&
			    strcmp(o->pub.unique_id, n->pub.unique_id) == 0)
				return sl_error_set(err, SL_ECONFIG, "%s:%d: test %s is defined twice "
						    "(also at %s:%d); give one of them another name: "
						    "(name: my_test)", n->pub.path, n->line,
						    n->pub.unique_id, o->pub.path, o->line);
			if (n->pub.type != SL_NODE_TEST &&
			    o->pub.type == n->pub.type && o->pkg == n->pkg &&
			    strcmp(o->pub.name, n->pub.name) == 0)
				return sl_error_set(err, SL_ECONFIG, "%s: two %ss are named \"%s\" "
						    "(the other is %s); rename one of them or "
						    "disable one", n->pub.path,
						    sl_node_type_name(n->pub.type), n->pub.name,
						    o->pub.path);
		}
		m->enabled[m->nenabled++] = n;
	}
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
	    (rc = m_discover_tests(m, err)) < 0 || (rc = m_load_macros(m, err)) < 0 ||
	    (rc = m_make_tests(m, err)) < 0 || (rc = parse_nodes(m, err)) < 0 ||
	    (rc = m_resolve_configs(m, err)) < 0 || (rc = list_enabled(m, err)) < 0 ||
	    (rc = m_build_graph(m, err)) < 0 || (rc = m_finish_tests(m, err)) < 0 ||
	    (rc = list_sources(m, err)) < 0 || (rc = m_docs_fill(m, err)) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	m_error_tidy(err);
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
		m_error_tidy(err);
		sl_buf_free(&b);
		return rc;
	}
	*sql = b.data ? sl_buf_detach(&b) : sl_strdup("");
	return *sql ? 0 : oom(err);
}

int sl_models_compile_inline(sl_models *m, const char *sql, sl_wh *wh, char **out,
			     sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	sl_arena a;
	m_node n;
	*out = NULL;
	sl_arena_init(&a, 1024);
	/* a node of the root project as dbt makes one for inline SQL */
	memset(&n, 0, sizeof n);
	n.pkg = &m->pkgs[0];
	n.pub.type = SL_NODE_MODEL;
	n.pub.name = "inline_query";
	n.pub.package = n.pkg->name;
	n.pub.path = "--inline";
	n.pub.schema = m->target_schema;
	n.pub.alias = "inline_query";
	n.pub.materialized = SL_MAT_VIEW;
	n.fqn_path = "inline_query";
	n.file = "--inline";
	n.enabled = true;
	/* its own arena: other threads may be compiling nodes of m */
	n.cfg = sl_tpl_dict_new(&a);
	n.file_cfg = n.cfg;
	n.pub.unique_id = sl_arena_sprintf(&a, "sql_operation.%s.inline_query", n.pkg->name);
	int rc = !n.pub.unique_id || n.cfg.type != SL_TPL_DICT ? oom(err) : 0;
	if (rc == 0)
		rc = sl_tpl_parse(&n.tpl, "--inline", sql, strlen(sql), err);
	if (rc == 0)
		rc = m_compile(m, &n, wh, &b, err);
	sl_tpl_free(n.tpl);
	sl_arena_free(&a);
	if (rc < 0) {
		m_error_tidy(err);
		sl_buf_free(&b);
		return rc;
	}
	*out = b.data ? sl_buf_detach(&b) : sl_strdup("");
	return *out ? 0 : oom(err);
}

const char *m_display_path(sl_models *m, const m_package *pkg, const char *rel)
{
	if (!pkg || pkg->root)
		return m_strdup(m, rel);
	size_t n = strlen(m->project_dir);
	const char *dir = pkg->dir;
	if (strncmp(dir, m->project_dir, n) == 0 && dir[n] == '/')
		dir += n + 1;
	return sl_arena_sprintf(&m->arena, "%s/%s", dir, rel);
}

/* Length of a leading "name:line:column: " of s, or 0. */
static size_t location_len(const char *s)
{
	const char *sep = strstr(s, ": ");
	if (!sep)
		return 0;
	const char *p = sep;
	for (int field = 0; field < 2; field++) {
		const char *end = p;
		while (p > s && isdigit((unsigned char)p[-1]))
			p--;
		if (p == end || p - 1 <= s || p[-1] != ':')
			return 0;
		p--;
	}
	return (size_t)(sep + 2 - s);
}

void m_error_tidy(sl_error *err)
{
	const char *msg = err->message;
	size_t at[16], len[16], off = 0;
	int k = 0;
	for (size_t l; k < 16 && (l = location_len(msg + off)) > 0; off += l, k++) {
		at[k] = off;
		len[k] = l - 2;
	}
	if (k < 2)
		return;
	/* the innermost location first, the call sites after it, inner to
	 * outer, before what the template said about the macro's caller */
	const char *rest = msg + off, *tail = strstr(rest, " (in macro '");
	size_t rlen = tail ? (size_t)(tail - rest) : strlen(rest);
	sl_buf b = SL_BUF_INIT;
	sl_buf_printf(&b, "%.*s: %.*s (called at ", (int)len[k - 1], msg + at[k - 1], (int)rlen,
		      rest);
	for (int i = k - 2; i >= 0; i--)
		sl_buf_printf(&b, "%.*s%s", (int)len[i], msg + at[i], i ? ", " : tail ? ", " : ")");
	if (tail)
		sl_buf_puts(&b, tail + 2);
	if (b.data)
		snprintf(err->message, sizeof err->message, "%s", b.data);
	sl_buf_free(&b);
}
