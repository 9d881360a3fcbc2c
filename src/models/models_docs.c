/*
 * models_docs.c: what documents each node and source — descriptions from
 * properties YAML with {{ doc('name') }} blocks rendered, columns (with
 * description, data_type, meta, tags), meta as JSON, patch_path as dbt
 * writes it ("<package>://models/x.yml"), raw_code and the file's sha256.
 */
#include "models/models_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static const char *json_of(sl_models *m, const sl_tpl_value *v)
{
	if (!v || v->type != SL_TPL_DICT)
		return "{}";
	sl_buf b = SL_BUF_INIT;
	const char *s = m_value_json(&b, v) == 0 && b.data
				? sl_arena_strndup(&m->arena, b.data, b.len) : NULL;
	sl_buf_free(&b);
	return s ? s : "{}";
}

static void str_list(sl_models *m, const sl_tpl_value *v, const char *const **out, int *n)
{
	*out = NULL;
	*n = 0;
	if (!v)
		return;
	size_t len = v->type == SL_TPL_LIST ? v->u.list->len : v->type == SL_TPL_STRING ? 1 : 0;
	const char **t = len ? sl_arena_alloc(&m->arena, sizeof *t * len) : NULL;
	for (size_t i = 0; t && i < len; i++) {
		const sl_tpl_value *it = v->type == SL_TPL_LIST ? &v->u.list->items[i] : v;
		if (it->type == SL_TPL_STRING)
			t[(*n)++] = it->u.str.s;
	}
	*out = t;
}

int m_read_columns(sl_models *m, const sl_tpl_value *cols, const sl_node_column **out, int *n)
{
	*out = NULL;
	*n = 0;
	if (!cols || cols->type != SL_TPL_LIST || !cols->u.list->len)
		return 0;
	sl_node_column *c = sl_arena_alloc(&m->arena, sizeof *c * cols->u.list->len);
	if (!c)
		return SL_ENOMEM;
	int k = 0;
	for (size_t i = 0; i < cols->u.list->len; i++) {
		const sl_tpl_value *e = &cols->u.list->items[i];
		const char *name = m_dict_str(e, "name");
		if (!name)
			continue;
		sl_node_column *d = &c[k++];
		memset(d, 0, sizeof *d);
		d->name = name;
		d->description = m_dict_str(e, "description");
		if (!d->description)
			d->description = "";
		d->data_type = m_dict_str(e, "data_type");
		const sl_tpl_value *meta = m_dict_get(e, "meta");
		if (!meta || meta->type != SL_TPL_DICT)
			meta = m_dict_get(m_dict_get(e, "config"), "meta");
		d->meta_json = json_of(m, meta);
		const sl_tpl_value *tags = m_dict_get(e, "tags");
		if (!tags || tags->type == SL_TPL_NONE)
			tags = m_dict_get(m_dict_get(e, "config"), "tags");
		str_list(m, tags, &d->tags, &d->ntags);
	}
	*out = c;
	*n = k;
	return 0;
}

/* A description with its doc() calls (and other Jinja) rendered. */
static int render_desc(sl_models *m, m_node *n, const char *where, const char **text,
		       sl_error *err)
{
	const char *s = *text;
	if (!s || (!strstr(s, "{{") && !strstr(s, "{%")))
		return 0;
	sl_tpl *t = NULL;
	sl_buf out = SL_BUF_INIT;
	int rc = sl_tpl_parse(&t, where, s, strlen(s), err);
	if (rc == 0) {
		m_ctx ctx;
		sl_tpl_env env;
		memset(&ctx, 0, sizeof ctx);
		ctx.m = m;
		ctx.node = n;
		ctx.mode = M_PARSE;
		ctx.err = err;
		m_ctx_env(&ctx, &env);
		/* no calls recorded: a description reads nothing */
		m_call *calls = n->calls;
		int ncalls = n->ncalls, cap = n->capcalls;
		rc = sl_tpl_render(t, &env, &out, err);
		n->calls = calls;
		n->ncalls = ncalls;
		n->capcalls = cap;
		m_ctx_free(&ctx);
	}
	sl_tpl_free(t);
	if (rc == 0 && !(*text = sl_arena_strndup(&m->arena, out.data ? out.data : "", out.len)))
		rc = oom(err);
	sl_buf_free(&out);
	return rc;
}

static int render_columns(sl_models *m, m_node *n, const char *file, const char *owner,
			  const sl_node_column *cols, int ncols, sl_error *err)
{
	for (int i = 0; i < ncols; i++) {
		sl_node_column *c = (sl_node_column *)&cols[i];
		char where[700];
		snprintf(where, sizeof where, "%s: description of column %s of %s", file, c->name,
			 owner);
		int rc = render_desc(m, n, where, &c->description, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* sha256 of a file as hex, read in chunks; "" when it cannot be read. */
static const char *file_sha256(sl_models *m, const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	hex[0] = '\0';
	FILE *f = path ? fopen(path, "rb") : NULL;
	EVP_MD_CTX *c = f ? EVP_MD_CTX_new() : NULL;
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(c, buf, n);
	if (ok && !ferror(f) && EVP_DigestFinal_ex(c, md, &len))
		for (unsigned i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(c);
	if (f)
		fclose(f);
	return m_strdup(m, hex);
}

static int node_defaults(sl_models *m, m_node *n, sl_error *err)
{
	sl_node *p = &n->pub;
	p->description = n->yaml_desc ? n->yaml_desc : "";
	if (n->yaml_desc) {
		char where[600];
		snprintf(where, sizeof where, "%s: description of test %s", p->path, p->name);
		int rc = render_desc(m, n, where, &p->description, err);
		if (rc < 0)
			return rc;
	}
	p->meta_json = json_of(m, m_dict_get(&n->cfg, "meta"));
	if (!p->raw_code) {
		const char *t = n->text ? n->text : "";
		if (n->pad)
			t += strspn(t, "\n");
		p->raw_code = t;
	}
	if (!p->checksum)
		p->checksum = file_sha256(m, n->file);
	return p->checksum && p->meta_json ? 0 : oom(err);
}

/* A node for rendering source descriptions: the root project's. */
static void source_node(sl_models *m, m_node *n, const m_source *s)
{
	memset(n, 0, sizeof *n);
	n->pkg = &m->pkgs[0];
	for (int i = 0; s->package && i < m->npkgs; i++)
		if (strcmp(m->pkgs[i].name, s->package) == 0)
			n->pkg = &m->pkgs[i];
	n->pub.type = SL_NODE_MODEL;
	n->pub.name = s->table;
	n->pub.unique_id = "";
	n->pub.package = n->pkg->name;
	n->pub.path = s->file;
	n->fqn_path = s->table;
	n->cfg = sl_tpl_dict_new(&m->arena);
	n->file_cfg = n->cfg;
}

int m_docs_fill(sl_models *m, sl_error *err)
{
	int rc = 0;
	for (int i = 0; i < m->nenabled && rc == 0; i++)
		rc = node_defaults(m, m->enabled[i], err);
	for (int i = 0; i < m->nprops && rc == 0; i++) {
		m_props *p = &m->props[i];
		for (int j = 0; j < m->nenabled && rc == 0; j++) {
			m_node *n = m->enabled[j];
			if (n->pub.type != p->type || n->pkg != p->pkg ||
			    strcmp(n->pub.name, p->name) != 0)
				continue;
			const char *desc = m_dict_str(&p->entry, "description");
			char where[600];
			snprintf(where, sizeof where, "%s: description of %s", p->file, p->name);
			n->pub.description = desc ? desc : "";
			if ((rc = render_desc(m, n, where, &n->pub.description, err)) < 0)
				break;
			const sl_tpl_value *cols = m_dict_get(&p->entry, "columns");
			if (m_read_columns(m, cols, &n->pub.columns, &n->pub.ncolumns) < 0) {
				rc = oom(err);
				break;
			}
			rc = render_columns(m, n, p->file, p->name, n->pub.columns, n->pub.ncolumns,
					    err);
			n->pub.patch_path = sl_arena_sprintf(&m->arena, "%s://%s", p->pkg->name,
							     p->file);
			/* meta: at the entry's top level joins config's meta */
			const sl_tpl_value *meta = m_dict_get(&p->entry, "meta");
			if (meta && meta->type == SL_TPL_DICT && meta->u.dict->len) {
				sl_tpl_value d = sl_tpl_dict_new(&m->arena);
				const sl_tpl_value *cm = m_dict_get(&n->cfg, "meta");
				for (size_t k = 0; cm && cm->type == SL_TPL_DICT && k < cm->u.dict->len; k++)
					sl_tpl_dict_set(&m->arena, d.u.dict, cm->u.dict->keys[k],
							cm->u.dict->vals[k]);
				for (size_t k = 0; k < meta->u.dict->len; k++)
					sl_tpl_dict_set(&m->arena, d.u.dict, meta->u.dict->keys[k],
							meta->u.dict->vals[k]);
				n->pub.meta_json = json_of(m, &d);
			}
			if (rc == 0 && !n->pub.patch_path)
				rc = oom(err);
		}
	}
	for (int i = 0; i < m->nsources && rc == 0; i++) {
		m_source *s = &m->sources[i];
		sl_model_source *in = &s->info;
		m_node n;
		char where[600];
		source_node(m, &n, s);
		if (!in->description)
			in->description = "";
		if (!in->source_description)
			in->source_description = "";
		if (!in->loader)
			in->loader = "";
		if (!in->meta_json)
			in->meta_json = "{}";
		snprintf(where, sizeof where, "%s: description of source %s.%s", s->file, s->source,
			 s->table);
		if ((rc = render_desc(m, &n, where, &in->description, err)) == 0)
			rc = render_desc(m, &n, where, &in->source_description, err);
		if (rc == 0) {
			char owner[520];
			snprintf(owner, sizeof owner, "source %s.%s", s->source, s->table);
			rc = render_columns(m, &n, s->file, owner, in->columns, in->ncolumns, err);
		}
	}
	/* sl_models_source_at's copies */
	for (int i = 0; rc == 0 && m->pub_sources && i < m->nsources; i++) {
		sl_model_source *d = &m->pub_sources[i];
		const m_source *s = m_find_source(m, d->source, d->table);
		if (!s)
			continue;
		d->description = s->info.description;
		d->source_description = s->info.source_description;
		d->loader = s->info.loader;
		d->meta_json = s->info.meta_json;
		d->columns = s->info.columns;
		d->ncolumns = s->info.ncolumns;
	}
	return rc;
}
