/*
 * models_properties.c: properties YAML files (models:, seeds:, snapshots:,
 * sources:, data_tests: (singular tests documented), macros: and the rest
 * dbt allows) — each entry's config: for
 * config resolution, sources with their schema, database and identifier
 * (Jinja in them rendered by models_props_render.c),
 * snapshots in the YAML form (relation: + config:) — and docs blocks of
 * .md files. Descriptions, columns and freshness are kept for
 * models_docs.c, tests for models_tests.c.
 */
#include "models/models_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static int line_of_node(yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }

static int add_props(sl_models *m, const m_props *p, sl_error *err)
{
	if (m->nprops == m->capprops) {
		int cap = m->capprops ? m->capprops * 2 : 64;
		m_props *nv = sl_realloc(m->props, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		m->props = nv;
		m->capprops = cap;
	}
	m->props[m->nprops++] = *p;
	return 0;
}

/* A properties-YAML entry for a sluice project's table documents it:
 * tests, description, columns, meta, tags, freshness and loaded_at_field
 * (the properties' over sluice.yml's); where it is stays the sluice
 * table's. */
static int augment(m_source *d, const m_source *s, sl_error *err)
{
	if (d->augmented_by)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: source %s.%s is declared twice (also "
				    "in %s); declare it once", s->file, s->line, s->source,
				    s->table, d->augmented_by);
	const char *where = s->given_schema ? "schema" : "identifier";
	const char *given = s->given_schema ? s->given_schema : s->given_identifier;
	const char *have = s->given_schema ? d->schema : d->identifier;
	if (s->given_schema && d->schema && strcmp(s->given_schema, d->schema) == 0) {
		where = "identifier";
		given = s->given_identifier;
		have = d->identifier;
	}
	if (given && (!have || strcmp(given, have) != 0))
		return sl_error_set(err, SL_ECONFIG, "%s:%d: source %s.%s is a table of the sluice "
				    "project, in %s \"%s\"; its %s cannot be \"%s\" (remove "
				    "%s: or write %s: %s)", s->file, s->line, s->source, s->table,
				    where, have ? have : "", where, given, where, where,
				    have ? have : "");
	const sl_model_source *p = &s->info;
	sl_model_source *in = &d->info;
	d->augmented_by = s->file;
	if (p->description && *p->description)
		in->description = p->description;
	if (p->source_description && *p->source_description)
		in->source_description = p->source_description;
	if (p->loader && *p->loader)
		in->loader = p->loader;
	if (p->ncolumns) {
		in->columns = p->columns;
		in->ncolumns = p->ncolumns;
	}
	if (p->meta_json && strcmp(p->meta_json, "{}") != 0)
		in->meta_json = p->meta_json;
	if (p->ntags) {
		in->tags = p->tags;
		in->ntags = p->ntags;
	}
	if (p->loaded_at_field)
		in->loaded_at_field = p->loaded_at_field;
	if (s->freshness_given)
		in->freshness = p->freshness;
	return 0;
}

/* The tables of sluice source `source`, "a, b" (NULL: no such source). */
static const char *extra_tables(sl_models *m, const char *source)
{
	sl_buf b = SL_BUF_INIT;
	for (int i = 0; i < m->nsources; i++)
		if (m->sources[i].extra && strcmp(m->sources[i].source, source) == 0)
			sl_buf_printf(&b, "%s%s", b.len ? ", " : "", m->sources[i].table);
	const char *out = b.data ? m_strdup(m, b.data) : NULL;
	sl_buf_free(&b);
	return out;
}

static int add_source(sl_models *m, const m_source *s, sl_error *err)
{
	/* the root project's properties document its sluice tables */
	bool root = m->npkgs > 0 && s->package == m->pkgs[0].name;
	for (int i = 0; i < m->nsources; i++) {
		m_source *d = &m->sources[i];
		if (strcmp(d->source, s->source) != 0 || strcmp(d->table, s->table) != 0)
			continue;
		if (d->extra && root)
			return augment(d, s, err);
		return sl_error_set(err, SL_ECONFIG, "%s: source %s.%s is declared twice "
				    "(also in %s); declare it once", s->file, s->source,
				    s->table, d->file ? d->file : "the project");
	}
	const char *tables = root ? extra_tables(m, s->source) : NULL;
	if (tables)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: source %s of the sluice project has no "
				    "table %s; its tables: %s", s->file, s->line, s->source, s->table,
				    tables);
	if (m->nsources == m->capsources) {
		int cap = m->capsources ? m->capsources * 2 : 32;
		m_source *nv = sl_realloc(m->sources, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		m->sources = nv;
		m->capsources = cap;
	}
	m_source *d = &m->sources[m->nsources++];
	*d = *s;
	d->given_schema = d->given_identifier = NULL;
	return 0;
}

/* Text of a scalar d[key] ("" when absent or not text). */
static const char *text_at(sl_models *m, yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	const char *s = m_yaml_str(m_yaml_get(doc, n, key));
	return s ? m_strdup(m, s) : "";
}

/* meta: (or config: meta:) of n as JSON, "{}" when none. */
static const char *meta_of(sl_models *m, yaml_document_t *doc, yaml_node_t *n)
{
	yaml_node_t *meta = m_yaml_get(doc, n, "meta");
	if (!meta)
		meta = m_yaml_get(doc, m_yaml_get(doc, n, "config"), "meta");
	if (!meta || meta->type != YAML_MAPPING_NODE)
		return "{}";
	sl_tpl_value v = m_yaml_value(doc, meta, &m->arena);
	sl_buf b = SL_BUF_INIT;
	const char *out = m_value_json(&b, &v) == 0 && b.data
				  ? sl_arena_strndup(&m->arena, b.data, b.len) : NULL;
	sl_buf_free(&b);
	return out ? out : "{}";
}

/* tags: of n (and config: tags:) as an arena list. */
static void tags_of(sl_models *m, yaml_document_t *doc, yaml_node_t *n, const char *const **out,
		    int *nout)
{
	sl_tpl_value v = m_yaml_value(doc, m_yaml_get(doc, n, "tags"), &m->arena);
	if (v.type == SL_TPL_NONE)
		v = m_yaml_value(doc, m_yaml_get(doc, m_yaml_get(doc, n, "config"), "tags"),
				 &m->arena);
	*out = NULL;
	*nout = 0;
	size_t len = v.type == SL_TPL_LIST ? v.u.list->len : v.type == SL_TPL_STRING ? 1 : 0;
	const char **t = len ? sl_arena_alloc(&m->arena, sizeof *t * len) : NULL;
	for (size_t i = 0; t && i < len; i++) {
		const sl_tpl_value *it = v.type == SL_TPL_LIST ? &v.u.list->items[i] : &v;
		if (it->type == SL_TPL_STRING)
			t[(*nout)++] = it->u.str.s;
	}
	*out = t;
}

/* map's key as text, its Jinja rendered (NULL: not given). */
static int prop_at(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *map,
		   const char *key, const char *source, const char *rel, const char **out,
		   sl_error *err)
{
	yaml_node_t *v = m_yaml_get(doc, map, key);
	return m_render_prop(m, pkg, source, key, m_yaml_str(v), rel, line_of_node(v), out, err);
}

/* The freshness filter given in map's freshness:, rendered. */
static int filter_at(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *map,
		     const char *source, const char *rel, sl_freshness *f, sl_error *err)
{
	yaml_node_t *fr = m_yaml_get(doc, map, "freshness");
	yaml_node_t *flt = fr ? m_yaml_get(doc, fr, "filter") : NULL;
	if (!flt || !f->filter)
		return 0;
	return m_render_prop(m, pkg, source, "freshness filter", f->filter, rel,
			     line_of_node(flt), &f->filter, err);
}

static int read_sources(sl_models *m, m_package *pkg, yaml_document_t *doc,
			yaml_node_t *list, const char *rel, sl_error *err)
{
	if (list->type != YAML_SEQUENCE_NODE)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: \"sources\" must be a list of sources "
				    "(- name: ...)", rel, line_of_node(list));
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *s = yaml_document_get_node(doc, *it);
		const char *name = m_yaml_str(m_yaml_get(doc, s, "name"));
		if (!name)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: every source needs a name",
					    rel, line_of_node(s));
		const char *schema, *db, *sloaded;
		int rc;
		if ((rc = prop_at(m, pkg, doc, s, "schema", name, rel, &schema, err)) < 0 ||
		    (rc = prop_at(m, pkg, doc, s, "database", name, rel, &db, err)) < 0 ||
		    (rc = prop_at(m, pkg, doc, s, "loaded_at_field", name, rel, &sloaded, err)) < 0)
			return rc;
		yaml_node_t *tables = m_yaml_get(doc, s, "tables");
		if (!tables || tables->type != YAML_SEQUENCE_NODE)
			continue;
		/* the source's settings, which its tables may override */
		sl_freshness sfresh;
		memset(&sfresh, 0, sizeof sfresh);
		if ((rc = m_read_freshness(m, doc, m_yaml_get(doc, s, "freshness"), &sfresh, rel,
					   err)) < 0 ||
		    (rc = filter_at(m, pkg, doc, s, name, rel, &sfresh, err)) < 0)
			return rc;
		const char *sdesc = text_at(m, doc, s, "description");
		const char *loader = text_at(m, doc, s, "loader");
		for (yaml_node_item_t *ti = tables->data.sequence.items.start;
		     ti < tables->data.sequence.items.top; ti++) {
			yaml_node_t *t = yaml_document_get_node(doc, *ti);
			const char *tname = m_yaml_str(m_yaml_get(doc, t, "name"));
			if (!tname)
				return sl_error_set(err, SL_ECONFIG, "%s:%d: every table of source "
						    "\"%s\" needs a name", rel, line_of_node(t),
						    name);
			const char *ident, *tschema, *tdb, *lf;
			if ((rc = prop_at(m, pkg, doc, t, "identifier", name, rel, &ident, err)) < 0 ||
			    (rc = prop_at(m, pkg, doc, t, "schema", name, rel, &tschema, err)) < 0 ||
			    (rc = prop_at(m, pkg, doc, t, "database", name, rel, &tdb, err)) < 0 ||
			    (rc = prop_at(m, pkg, doc, t, "loaded_at_field", name, rel, &lf,
					  err)) < 0)
				return rc;
			m_source src = {
				.source = m_strdup(m, name),
				.table = m_strdup(m, tname),
				.database = m_strdup(m, tdb ? tdb : db),
				.schema = m_strdup(m, tschema ? tschema : schema ? schema : name),
				.identifier = m_strdup(m, ident ? ident : tname),
				.file = m_strdup(m, rel),
				.package = pkg->name,
				.line = line_of_node(t),
				.given_schema = tschema ? tschema : schema,
				.given_identifier = ident,
				.freshness_given = m_yaml_get(doc, s, "freshness") ||
						   m_yaml_get(doc, t, "freshness"),
			};
			if (!src.source || !src.table || !src.schema || !src.identifier)
				return oom(err);
			sl_model_source *in = &src.info;
			in->description = text_at(m, doc, t, "description");
			in->source_description = sdesc;
			in->loader = loader;
			in->loaded_at_field = m_strdup(m, lf ? lf : sloaded);
			in->freshness = sfresh;
			if ((rc = m_read_freshness(m, doc, m_yaml_get(doc, t, "freshness"),
						   &in->freshness, rel, err)) < 0 ||
			    (rc = filter_at(m, pkg, doc, t, name, rel, &in->freshness, err)) < 0)
				return rc;
			in->meta_json = meta_of(m, doc, t);
			tags_of(m, doc, t, &in->tags, &in->ntags);
			sl_tpl_value cols = m_yaml_value(doc, m_yaml_get(doc, t, "columns"),
							 &m->arena);
			if (m_read_columns(m, &cols, &in->columns, &in->ncolumns) < 0)
				return oom(err);
			if ((rc = add_source(m, &src, err)) < 0 ||
			    (rc = m_read_entry_tests(m, pkg, doc, t, SL_NODE_MODEL, tname, name,
						     rel, err)) < 0)
				return rc;
		}
	}
	return 0;
}

/* A snapshot in the YAML form: relation: ref('x') or source('s', 't'). */
static int yaml_snapshot(sl_models *m, m_package *pkg, const char *path, const char *rel,
			 const char *name, const char *relation, sl_error *err)
{
	m_node *n = sl_arena_alloc(&m->arena, sizeof *n);
	if (!n)
		return oom(err);
	memset(n, 0, sizeof *n);
	n->pkg = pkg;
	n->pub.type = SL_NODE_SNAPSHOT;
	n->pub.name = m_strdup(m, name);
	n->pub.package = pkg->name;
	n->pub.path = m_strdup(m, rel);
	n->pub.unique_id = sl_arena_sprintf(&m->arena, "snapshot.%s.%s", pkg->name, name);
	n->file = m_strdup(m, path);
	n->fqn_path = m_strdup(m, name);
	n->enabled = true;
	n->props_cfg.type = SL_TPL_UNDEFINED;
	n->file_cfg = sl_tpl_dict_new(&m->arena);
	n->text = sl_arena_sprintf(&m->arena, "select * from {{ %s }}", relation);
	if (!n->pub.name || !n->pub.path || !n->pub.unique_id || !n->file || !n->fqn_path ||
	    !n->text || n->file_cfg.type != SL_TPL_DICT)
		return oom(err);
	return m_add_node(m, n, err);
}

static int read_entries(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *list,
			sl_node_type type, const char *key, const char *path, const char *rel,
			sl_error *err)
{
	if (list->type != YAML_SEQUENCE_NODE)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: \"%s\" must be a list of entries "
				    "(- name: ...)", rel, line_of_node(list), key);
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(doc, *it);
		const char *name = m_yaml_str(m_yaml_get(doc, e, "name"));
		if (!name)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: every entry of \"%s\" needs a "
					    "name", rel, line_of_node(e), key);
		yaml_node_t *cfg = m_yaml_get(doc, e, "config");
		if (cfg && cfg->type != YAML_MAPPING_NODE &&
		    !(cfg->type == YAML_SCALAR_NODE && !*m_yaml_str(cfg)))
			return sl_error_set(err, SL_ECONFIG, "%s:%d: \"config\" of \"%s\" must be a "
					    "mapping of configs (materialized: table, ...)", rel,
					    line_of_node(cfg), name);
		m_props p = {
			.type = type,
			.pkg = pkg,
			.name = m_strdup(m, name),
			.file = m_strdup(m, rel),
			.line = line_of_node(e),
		};
		p.cfg.type = SL_TPL_UNDEFINED;
		if (cfg && cfg->type == YAML_MAPPING_NODE)
			p.cfg = m_yaml_value(doc, cfg, &m->arena);
		p.entry = m_yaml_value(doc, e, &m->arena);
		if (!p.name || !p.file)
			return oom(err);
		int rc = add_props(m, &p, err);
		/* a singular test documented (data_tests: - name:) has no tests */
		if (rc == 0 && type != SL_NODE_TEST)
			rc = m_read_entry_tests(m, pkg, doc, e, type, name, NULL, rel, err);
		if (rc < 0)
			return rc;
		const char *relation = m_yaml_str(m_yaml_get(doc, e, "relation"));
		if (type == SL_NODE_SNAPSHOT && relation &&
		    (rc = yaml_snapshot(m, pkg, path, rel, name, relation, err)) < 0)
			return rc;
	}
	return 0;
}

int m_read_properties(sl_models *m, m_package *pkg, const char *path, const char *rel,
		      sl_error *err)
{
	yaml_document_t doc;
	int rc = m_yaml_load(&doc, path, rel, err);
	if (rc < 0)
		return rc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		goto done;
	static const struct {
		const char *key;
		sl_node_type type;
	} kinds[] = {{"models", SL_NODE_MODEL}, {"seeds", SL_NODE_SEED},
		     {"snapshots", SL_NODE_SNAPSHOT}, {"data_tests", SL_NODE_TEST},
		     {"tests", SL_NODE_TEST}};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && rc == 0; i++) {
		yaml_node_t *l = m_yaml_get(&doc, root, kinds[i].key);
		if (l && !(l->type == YAML_SCALAR_NODE && !*m_yaml_str(l)))
			rc = read_entries(m, pkg, &doc, l, kinds[i].type, kinds[i].key, path, rel,
					  err);
	}
	yaml_node_t *src = m_yaml_get(&doc, root, "sources");
	if (rc == 0 && src && !(src->type == YAML_SCALAR_NODE && !*m_yaml_str(src)))
		rc = read_sources(m, pkg, &doc, src, rel, err);
done:
	yaml_document_delete(&doc);
	return rc;
}

/* --------------------------------------------------------------- docs */

int m_read_docs(sl_models *m, const char *path, sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	int rc = sl_file_read_all(&b, path, 16u << 20, err);
	if (rc < 0)
		return rc;
	if (m->docs.type != SL_TPL_DICT) {
		m->docs = sl_tpl_dict_new(&m->arena);
		if (m->docs.type != SL_TPL_DICT) {
			sl_buf_free(&b);
			return oom(err);
		}
	}
	const char *p = b.data ? b.data : "";
	for (;;) {
		const char *q = strstr(p, "{%");
		if (!q)
			break;
		const char *s = q + 2 + (q[2] == '-');
		s += strspn(s, " \t");
		if (strncmp(s, "docs", 4) != 0 || !strchr(" \t", s[4])) {
			p = q + 2;
			continue;
		}
		s += 4;
		s += strspn(s, " \t");
		size_t nl = strcspn(s, " \t-%");
		const char *end = strstr(s, "%}");
		const char *close = end ? strstr(end, "enddocs") : NULL;
		if (!end || !close)
			break;
		const char *body = end + 2;
		const char *bend = close;
		while (bend > body && bend[-1] != '{')
			bend--;
		if (bend > body)
			bend--;
		char *name = sl_arena_strndup(&m->arena, s, nl);
		sl_tpl_value text = sl_tpl_string(&m->arena, body, (size_t)(bend - body));
		if (!name || text.type != SL_TPL_STRING ||
		    sl_tpl_dict_set(&m->arena, m->docs.u.dict, name, text) < 0) {
			rc = oom(err);
			break;
		}
		p = close + 7;
	}
	sl_buf_free(&b);
	return rc;
}
