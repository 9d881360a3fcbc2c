/*
 * models_macros.c: macros. Each macro file of a package is parsed once
 * (with dbt's extra tags: `test` defines a macro named test_<name>, `docs`
 * and `snapshot` are named blocks) and its macros indexed by package.
 * Templates see a macro by name — the calling node's package first, then
 * the root project, then other packages, then sluice's built-in cross-
 * database macros (the `dbt` namespace) — and a package's macros as
 * `package.macro`. adapter.dispatch resolves `<adapter>__name`, then
 * `default__name`, package by package. generate_schema_name and
 * generate_alias_name defined by the project are called from here.
 */
#include "models/models_macros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static const char *const macro_tags[] = {"test"};
static const char *const named_blocks[] = {"docs", "snapshot"};
static const sl_tpl_syntax dbt_syntax = {macro_tags, 1, named_blocks, 2};

/* dbt's cross-database macros that projects call as dbt.name() or name(). */
static const char builtin_text[] =
	"{% macro current_timestamp() %}{{ return(adapter.dispatch('current_timestamp', "
	"'dbt')()) }}{% endmacro %}"
	"{% macro default__current_timestamp() %}current_timestamp{% endmacro %}"
	"{% macro postgres__current_timestamp() %}now(){% endmacro %}"
	"{% macro sqlite__current_timestamp() %}datetime('now'){% endmacro %}"
	"{% macro type_string() %}text{% endmacro %}"
	"{% macro type_int() %}integer{% endmacro %}"
	"{% macro type_bigint() %}bigint{% endmacro %}"
	"{% macro type_numeric() %}numeric{% endmacro %}"
	"{% macro type_float() %}float{% endmacro %}"
	"{% macro type_boolean() %}boolean{% endmacro %}"
	"{% macro type_timestamp() %}timestamp{% endmacro %}"
	"{% macro concat(fields) %}{{ fields|join(' || ') }}{% endmacro %}"
	"{% macro hash(field) %}md5(cast({{ field }} as text)){% endmacro %}"
	"{% macro safe_cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}"
	"{% macro cast_bool_to_text(field) %}cast({{ field }} as text){% endmacro %}"
	"{% macro any_value(expression) %}min({{ expression }}){% endmacro %}"
	"{% macro bool_or(expression) %}{{ return(adapter.dispatch('bool_or', 'dbt')(expression)) "
	"}}{% endmacro %}"
	"{% macro default__bool_or(expression) %}bool_or({{ expression }}){% endmacro %}"
	"{% macro sqlite__bool_or(expression) %}max({{ expression }}){% endmacro %}"
	"{% macro escape_single_quotes(expression) %}{{ expression|replace(\"'\", \"''\") }}"
	"{% endmacro %}"
	"{% macro string_literal(value) %}'{{ value }}'{% endmacro %}"
	"{% macro length(expression) %}length({{ expression }}){% endmacro %}"
	"{% macro replace(field, old_chars, new_chars) %}replace({{ field }}, {{ old_chars }}, "
	"{{ new_chars }}){% endmacro %}"
	"{% macro position(substring_text, string_text) %}{{ return(adapter.dispatch("
	"'position', 'dbt')(substring_text, string_text)) }}{% endmacro %}"
	"{% macro default__position(substring_text, string_text) %}position({{ substring_text "
	"}} in {{ string_text }}){% endmacro %}"
	"{% macro sqlite__position(substring_text, string_text) %}instr({{ string_text }}, {{ "
	"substring_text }}){% endmacro %}"
	"{% macro right(string_text, length_expression) %}{{ return(adapter.dispatch('right', "
	"'dbt')(string_text, length_expression)) }}{% endmacro %}"
	"{% macro default__right(string_text, length_expression) %}right({{ string_text }}, {{ "
	"length_expression }}){% endmacro %}"
	"{% macro sqlite__right(string_text, length_expression) %}substr({{ string_text }}, "
	"-({{ length_expression }})){% endmacro %}"
	"{% macro dateadd(datepart, interval, from_date_or_timestamp) %}{{ return(adapter."
	"dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}{% endmacro %}"
	"{% macro default__dateadd(datepart, interval, from_date_or_timestamp) %}{{ "
	"from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))"
	"{% endmacro %}"
	"{% macro sqlite__dateadd(datepart, interval, from_date_or_timestamp) %}datetime({{ "
	"from_date_or_timestamp }}, ({{ interval }}) || ' {{ datepart }}'){% endmacro %}"
	"{% macro date_trunc(datepart, date) %}{{ return(adapter.dispatch('date_trunc', 'dbt')("
	"datepart, date)) }}{% endmacro %}"
	"{% macro default__date_trunc(datepart, date) %}date_trunc('{{ datepart }}', {{ date }})"
	"{% endmacro %}"
	"{% macro sqlite__date_trunc(datepart, date) %}{% if datepart == 'year' %}strftime("
	"'%Y-01-01', {{ date }}){% elif datepart == 'month' %}strftime('%Y-%m-01', {{ date }})"
	"{% else %}date({{ date }}){% endif %}{% endmacro %}";

static int add_tpl(sl_models *m, sl_tpl *t, sl_error *err)
{
	if (m->ntpls == m->captpls) {
		int cap = m->captpls ? m->captpls * 2 : 16;
		sl_tpl **nv = sl_realloc(m->tpls, sizeof *nv * (size_t)cap);
		if (!nv) {
			sl_tpl_free(t);
			return oom(err);
		}
		m->tpls = nv;
		m->captpls = cap;
	}
	m->tpls[m->ntpls++] = t;
	return 0;
}

typedef struct collect {
	sl_models *m;
	m_package *pkg;       /* NULL: the built-ins */
	sl_error *err;
} collect;

static int on_macro(void *ud, const char *tag, const char *name, const sl_tpl_value *macro)
{
	collect *c = ud;
	sl_models *m = c->m;
	const char *key = strcmp(tag, "macro") == 0
				  ? sl_arena_strdup(&m->arena, name)
				  : sl_arena_sprintf(&m->arena, "%s_%s", tag, name);
	if (!key)
		return oom(c->err);
	if (!c->pkg)
		return sl_tpl_dict_set(&m->arena, m->builtins.u.dict, key, *macro) < 0 ? oom(c->err)
										       : 0;
	if (m->nmacros == m->capmacros) {
		int cap = m->capmacros ? m->capmacros * 2 : 64;
		m_macro *nv = sl_realloc(m->macros, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(c->err);
		m->macros = nv;
		m->capmacros = cap;
	}
	m->macros[m->nmacros++] = (m_macro){key, c->pkg, *macro};
	if (c->pkg->macros.type != SL_TPL_DICT) {
		c->pkg->macros = sl_tpl_dict_new(&m->arena);
		if (c->pkg->macros.type != SL_TPL_DICT)
			return oom(c->err);
	}
	return sl_tpl_dict_set(&m->arena, c->pkg->macros.u.dict, key, *macro) < 0 ? oom(c->err)
										   : 0;
}

int m_add_macro_file(sl_models *m, m_package *pkg, const char *file, const char *rel,
		     sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	sl_tpl *t = NULL;
	int rc = sl_file_read_all(&b, file, 16u << 20, err);
	const char *name = pkg->root ? rel : sl_arena_sprintf(&m->arena, "%s/%s", pkg->dir, rel);
	if (rc == 0 && !name)
		rc = oom(err);
	if (rc == 0)
		rc = sl_tpl_parse_ex(&t, name, b.data ? b.data : "", b.len, &dbt_syntax, err);
	sl_buf_free(&b);
	if (rc < 0)
		return rc;
	if ((rc = add_tpl(m, t, err)) < 0)
		return rc;
	collect c = {m, pkg, err};
	rc = sl_tpl_each_macro(t, on_macro, &c);
	return rc < 0 ? rc : 0;
}

int m_load_macros(sl_models *m, sl_error *err)
{
	sl_tpl *t = NULL;
	m->builtins = sl_tpl_dict_new(&m->arena);
	if (m->builtins.type != SL_TPL_DICT)
		return oom(err);
	int rc = sl_tpl_parse_ex(&t, "sluice built-in macros", builtin_text,
				 sizeof builtin_text - 1, &dbt_syntax, err);
	if (rc < 0)
		return rc;
	if ((rc = add_tpl(m, t, err)) < 0)
		return rc;
	collect c = {m, NULL, err};
	rc = sl_tpl_each_macro(t, on_macro, &c);
	return rc < 0 ? rc : 0;
}

/* The macro name of package pkg (NULL: none). */
static const m_macro *find_in(sl_models *m, const m_package *pkg, const char *name)
{
	for (int i = 0; i < m->nmacros; i++)
		if (m->macros[i].pkg == pkg && strcmp(m->macros[i].name, name) == 0)
			return &m->macros[i];
	return NULL;
}

/* name as a node of from's package sees it: its package, the root, any. */
static const sl_tpl_value *find_macro(sl_models *m, const m_node *from, const char *name)
{
	const m_macro *mm = from ? find_in(m, from->pkg, name) : NULL;
	if (!mm)
		mm = find_in(m, &m->pkgs[0], name);
	for (int i = 0; !mm && i < m->nmacros; i++)
		if (strcmp(m->macros[i].name, name) == 0)
			mm = &m->macros[i];
	if (mm)
		return &mm->value;
	return sl_tpl_dict_get(m->builtins.u.dict, name);
}

bool m_macro_overridden(sl_models *m, const char *name)
{
	for (int i = 0; i < m->nmacros; i++)
		if (strcmp(m->macros[i].name, name) == 0)
			return true;
	return false;
}

int m_macro_lookup(m_ctx *ctx, const char *name, sl_tpl_value *out, sl_arena *a)
{
	sl_models *m = ctx->m;
	(void)a;
	const sl_tpl_value *v = find_macro(m, ctx->node, name);
	if (v) {
		*out = *v;
		return 1;
	}
	if (strcmp(name, "dbt") == 0) {
		*out = m->builtins;
		return 1;
	}
	for (int i = 0; i < m->npkgs; i++)
		if (strcmp(m->pkgs[i].name, name) == 0) {
			*out = m->pkgs[i].macros.type == SL_TPL_DICT ? m->pkgs[i].macros
								     : sl_tpl_dict_new(a);
			return 1;
		}
	return 0;
}

int m_dispatch(m_ctx *ctx, const char *name, const char *ns, sl_tpl_value *out, sl_arena *a,
	       sl_error *err)
{
	sl_models *m = ctx->m;
	char want[2][300];
	snprintf(want[0], sizeof want[0], "%s__%s", m->adapter_type, name);
	snprintf(want[1], sizeof want[1], "default__%s", name);
	/* the search order: the namespace given (the root project may
	 * override dbt's), else the node's package, the root, the others */
	const m_package *order[64];
	int n = 0;
	bool builtins = !ns || strcmp(ns, "dbt") == 0;
	if (ns && strcmp(ns, "dbt") == 0) {
		order[n++] = &m->pkgs[0];
	} else if (ns) {
		for (int i = 0; i < m->npkgs && n < 64; i++)
			if (strcmp(m->pkgs[i].name, ns) == 0)
				order[n++] = &m->pkgs[i];
		if (n == 0)
			return sl_error_set(err, SL_ECONFIG, "adapter.dispatch('%s', '%s'): no "
					    "package named '%s'", name, ns, ns);
	} else {
		if (ctx->node)
			order[n++] = ctx->node->pkg;
		for (int i = 0; i < m->npkgs && n < 64; i++)
			if (!ctx->node || &m->pkgs[i] != ctx->node->pkg)
				order[n++] = &m->pkgs[i];
	}
	(void)a;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			const m_macro *mm = find_in(m, order[i], want[k]);
			if (mm) {
				*out = mm->value;
				return 0;
			}
		}
	for (int k = 0; builtins && k < 2; k++) {
		const sl_tpl_value *v = sl_tpl_dict_get(m->builtins.u.dict, want[k]);
		if (v) {
			*out = *v;
			return 0;
		}
	}
	return sl_error_set(err, SL_ECONFIG, "adapter.dispatch('%s'%s%s%s): no macro %s or %s "
			    "found; define one of them in macros/", name, ns ? ", '" : "",
			    ns ? ns : "", ns ? "'" : "", want[0], want[1]);
}

/* The `node` argument of generate_schema_name and generate_alias_name. */
static sl_tpl_value node_dict(m_node *n, sl_arena *a)
{
	sl_tpl_value d = sl_tpl_dict_new(a);
	if (d.type != SL_TPL_DICT)
		return d;
	const char *const kv[][2] = {
		{"name", n->pub.name},
		{"unique_id", n->pub.unique_id},
		{"resource_type", sl_node_type_name(n->pub.type)},
		{"package_name", n->pub.package},
		{"path", n->pub.path},
		{"original_file_path", n->pub.path},
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		sl_tpl_dict_set(a, d.u.dict, kv[i][0], sl_tpl_string(a, kv[i][1], strlen(kv[i][1])));
	sl_tpl_value fqn = sl_tpl_list_new(a);
	if (fqn.type == SL_TPL_LIST) {
		sl_tpl_list_push(a, fqn.u.list,
				 sl_tpl_string(a, n->pkg->name, strlen(n->pkg->name)));
		const char *p = n->fqn_path;
		while (*p) {
			size_t len = strcspn(p, "/");
			sl_tpl_list_push(a, fqn.u.list, sl_tpl_string(a, p, len));
			p += len;
			p += *p == '/';
		}
		sl_tpl_dict_set(a, d.u.dict, "fqn", fqn);
	}
	sl_tpl_dict_set(a, d.u.dict, "config", n->cfg);
	return d;
}

int m_call_name_macro(sl_models *m, m_node *n, const char *macro, const sl_tpl_value *custom,
		      char **out, sl_error *err)
{
	sl_arena a;
	m_ctx ctx;
	sl_tpl_env env;
	sl_tpl_value res;
	*out = NULL;
	const sl_tpl_value *fn = find_macro(m, n, macro);
	if (!fn)
		return sl_error_set(err, SL_EINTERNAL, "macro %s vanished", macro);
	sl_arena_init(&a, 4096);
	memset(&ctx, 0, sizeof ctx);
	ctx.m = m;
	ctx.node = n;
	ctx.mode = M_COMPILE;
	ctx.err = err;
	m_ctx_env(&ctx, &env);
	sl_tpl_value args[2] = {*custom, node_dict(n, &a)};
	int rc = sl_tpl_call(fn, args, 2, NULL, 0, &env, &a, &res, err);
	if (rc == 0) {
		sl_buf b = SL_BUF_INIT;
		if (res.type == SL_TPL_STRING)
			rc = sl_buf_append(&b, res.u.str.s, res.u.str.len);
		else
			rc = sl_tpl_value_write(&b, &res);
		*out = rc == 0 ? (b.data ? sl_buf_detach(&b) : sl_strdup("")) : NULL;
		sl_buf_free(&b);
		if (!*out)
			rc = oom(err);
	}
	if (rc < 0)
		sl_error_prefix(err, "%s: %s: ", n->pub.path, macro);
	m_ctx_free(&ctx);
	sl_arena_free(&a);
	return rc;
}
