/*
 * models_props_render.c: Jinja in the properties of a source (schema,
 * database, identifier, loaded_at_field, freshness filter), rendered once
 * while the properties file is read, with what a render at parse time
 * knows: target, var(), env_var(). ref() and source() are refused there.
 */
#include "models/models_int.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	m_ctx ctx;
	const char *prop;
} props_env;

/* ctx_lookup's view of names, without ref() and source() */
static int props_lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a,
			sl_error *err)
{
	props_env *pe = ud;
	if (strcmp(name, "ref") == 0 || strcmp(name, "source") == 0)
		return sl_error_set(err, SL_ECONFIG, "%s() cannot be used in %s of a source; "
				    "only target, var() and env_var() are known there", name,
				    pe->prop);
	sl_tpl_env inner;
	m_ctx_env(&pe->ctx, &inner);
	return inner.lookup(&pe->ctx, name, out, a, err);
}

static int props_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		      const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	props_env *pe = ud;
	sl_tpl_env inner;
	m_ctx_env(&pe->ctx, &inner);
	return inner.call(&pe->ctx, fn, args, nargs, kw, nkw, out, a, err);
}

int m_render_prop(sl_models *m, m_package *pkg, const char *source, const char *prop,
		  const char *text, const char *rel, int line, const char **out, sl_error *err)
{
	*out = text;
	if (!text || (!strstr(text, "{{") && !strstr(text, "{%")))
		return 0;
	/* a stand-in node: var() looks vars up by its package */
	m_node n;
	memset(&n, 0, sizeof n);
	n.pkg = pkg;
	n.pub.type = SL_NODE_MODEL;
	n.pub.name = source;
	n.pub.package = pkg->name;
	n.pub.path = rel;
	n.props_cfg.type = SL_TPL_UNDEFINED;
	n.file_cfg.type = SL_TPL_UNDEFINED;
	props_env pe;
	memset(&pe, 0, sizeof pe);
	pe.ctx.m = m;
	pe.ctx.node = &n;
	pe.ctx.mode = M_PARSE;
	pe.ctx.err = err;
	pe.prop = prop;
	sl_tpl_env env = {.ud = &pe, .lookup = props_lookup, .call = props_call};
	char name[512];
	snprintf(name, sizeof name, "%s of source %s", prop, source);
	sl_tpl *t = NULL;
	sl_buf b = SL_BUF_INIT;
	int rc = sl_tpl_parse(&t, name, text, strlen(text), err);
	if (rc == 0)
		rc = sl_tpl_render(t, &env, &b, err);
	m_ctx_free(&pe.ctx);
	sl_tpl_free(t);
	if (rc == 0) {
		*out = sl_arena_strndup(&m->arena, b.data ? b.data : "", b.len);
		if (!*out)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	} else if (rc != SL_ENOMEM) {
		/* "name:1:4: what" from the template: where in the file instead */
		char msg[sizeof err->message];
		const char *w = err->message;
		size_t nl = strlen(name);
		if (strncmp(w, name, nl) == 0 && strstr(w + nl, ": "))
			w = strstr(w + nl, ": ") + 2;
		snprintf(msg, sizeof msg, "%s", w);
		rc = sl_error_set(err, rc, "%s:%d: %s of source %s: %s", rel, line, prop,
				  source, msg);
	}
	sl_buf_free(&b);
	return rc;
}
