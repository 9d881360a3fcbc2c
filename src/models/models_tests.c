/*
 * models_tests.c: data tests as nodes — generic tests written under
 * tests: / data_tests: in properties YAML (on models, seeds, snapshots
 * and sources, the whole node or a column), their arguments and configs
 * split as dbt splits them, named and identified exactly as dbt names
 * them (synthesized names, md5-truncated long ones, the 10-hex unique_id
 * hash), each calling its test_<name> macro; singular tests (.sql files
 * under test-paths) and custom generic tests (test-paths' generic/
 * folder); and each test's sl_node_test from its resolved config.
 */
#include "models/models_int.h"
#include "models/models_macros.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static int line_of_node(yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }

/* -------------------------------------------------------------- reading */

static int add_spec(sl_models *m, const m_testspec *s, sl_error *err)
{
	if (m->nspecs == m->capspecs) {
		int cap = m->capspecs ? m->capspecs * 2 : 32;
		m_testspec *nv = sl_realloc(m->specs, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		m->specs = nv;
		m->capspecs = cap;
	}
	m->specs[m->nspecs++] = *s;
	return 0;
}

/* The tests of one owner (an entry or a column): both keys, as dbt. */
static int read_list(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *owner,
		     const m_testspec *base, const char *rel, sl_error *err)
{
	static const char *const keys[] = {"data_tests", "tests"};
	for (int k = 0; k < 2; k++) {
		yaml_node_t *l = m_yaml_get(doc, owner, keys[k]);
		if (!l || (l->type == YAML_SCALAR_NODE && !*m_yaml_str(l)))
			continue;
		if (l->type != YAML_SEQUENCE_NODE)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: \"%s\" must be a list of tests "
					    "(- not_null, - unique, ...)", rel, line_of_node(l),
					    keys[k]);
		for (yaml_node_item_t *it = l->data.sequence.items.start;
		     it < l->data.sequence.items.top; it++) {
			yaml_node_t *t = yaml_document_get_node(doc, *it);
			m_testspec s = *base;
			s.pkg = pkg;
			s.line = line_of_node(t);
			s.def = m_yaml_value(doc, t, &m->arena);
			int rc = add_spec(m, &s, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int m_read_entry_tests(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *e,
		       sl_node_type type, const char *name, const char *source,
		       const char *rel, sl_error *err)
{
	m_testspec base;
	memset(&base, 0, sizeof base);
	base.file = m_strdup(m, rel);
	base.target_type = type;
	base.target = m_strdup(m, name);
	base.source = source ? m_strdup(m, source) : NULL;
	base.tags.type = SL_TPL_UNDEFINED;
	if (!base.file || !base.target || (source && !base.source))
		return oom(err);
	int rc = read_list(m, pkg, doc, e, &base, rel, err);
	yaml_node_t *cols = m_yaml_get(doc, e, "columns");
	if (rc < 0 || !cols || cols->type != YAML_SEQUENCE_NODE)
		return rc;
	for (yaml_node_item_t *it = cols->data.sequence.items.start;
	     it < cols->data.sequence.items.top && rc == 0; it++) {
		yaml_node_t *c = yaml_document_get_node(doc, *it);
		const char *cname = m_yaml_str(m_yaml_get(doc, c, "name"));
		if (!cname)
			continue;
		m_testspec cb = base;
		/* quote: true hands the tests the quoted name, as dbt does */
		sl_tpl_value q = m_yaml_value(doc, m_yaml_get(doc, c, "quote"), &m->arena);
		cb.column = q.type == SL_TPL_BOOL && q.u.b
				    ? sl_arena_sprintf(&m->arena, "\"%s\"", cname)
				    : m_strdup(m, cname);
		cb.tags = m_yaml_value(doc, m_yaml_get(doc, c, "tags"), &m->arena);
		if (!cb.column)
			return oom(err);
		rc = read_list(m, pkg, doc, c, &cb, rel, err);
	}
	return rc;
}

/* ------------------------------------------------------ Python's text */

int m_py_repr_str(sl_buf *b, const char *s)
{
	bool sq = strchr(s, '\'') != NULL, dq = strchr(s, '"') != NULL;
	char q = sq && !dq ? '"' : '\'';
	int rc = sl_buf_putc(b, q);
	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		if (*p == '\\')
			rc = sl_buf_puts(b, "\\\\");
		else if (*p == (unsigned char)q)
			rc = sl_buf_printf(b, "\\%c", q);
		else if (*p == '\n')
			rc = sl_buf_puts(b, "\\n");
		else if (*p == '\r')
			rc = sl_buf_puts(b, "\\r");
		else if (*p == '\t')
			rc = sl_buf_puts(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			rc = sl_buf_printf(b, "\\x%02x", *p);
		else
			rc = sl_buf_putc(b, (char)*p);
	}
	return rc ? rc : sl_buf_putc(b, q);
}

static int py_str(sl_buf *b, const sl_tpl_value *v);

/* Python's repr of a float: the shortest text that reads back. */
static int py_float(sl_buf *b, double f)
{
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	if (!strpbrk(buf, ".eni"))
		strcat(buf, ".0");
	return sl_buf_puts(b, buf);
}

/* Python's repr of a YAML value (lists and dicts nested in arguments). */
static int py_repr(sl_buf *b, const sl_tpl_value *v)
{
	int rc = 0;
	switch (v->type) {
	case SL_TPL_STRING: return m_py_repr_str(b, v->u.str.s);
	case SL_TPL_LIST:
		rc = sl_buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++)
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = py_repr(b, &v->u.list->items[i]);
		return rc ? rc : sl_buf_putc(b, ']');
	case SL_TPL_DICT:
		rc = sl_buf_putc(b, '{');
		for (size_t i = 0; rc == 0 && i < v->u.dict->len; i++) {
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = m_py_repr_str(b, v->u.dict->keys[i]);
			if (rc == 0)
				rc = sl_buf_puts(b, ": ");
			if (rc == 0)
				rc = py_repr(b, &v->u.dict->vals[i]);
		}
		return rc ? rc : sl_buf_putc(b, '}');
	default: return py_str(b, v);
	}
}

/* Python's str() of a value. */
static int py_str(sl_buf *b, const sl_tpl_value *v)
{
	switch (v->type) {
	case SL_TPL_UNDEFINED:
	case SL_TPL_NONE: return sl_buf_puts(b, "None");
	case SL_TPL_BOOL: return sl_buf_puts(b, v->u.b ? "True" : "False");
	case SL_TPL_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i);
	case SL_TPL_FLOAT: return py_float(b, v->u.f);
	case SL_TPL_STRING: return sl_buf_append(b, v->u.str.s, v->u.str.len);
	default: return py_repr(b, v);
	}
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* dbt's hashable form of test metadata, as Python prints it: dict keys
 * sorted, every leaf made text. */
static int hashable_repr(sl_buf *b, const sl_tpl_value *v)
{
	int rc = 0;
	if (v->type == SL_TPL_LIST) {
		rc = sl_buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++)
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = hashable_repr(b, &v->u.list->items[i]);
		return rc ? rc : sl_buf_putc(b, ']');
	}
	if (v->type == SL_TPL_DICT) {
		size_t n = v->u.dict->len;
		const char **keys = sl_malloc(sizeof *keys * (n ? n : 1));
		const char ***ptrs = sl_malloc(sizeof *ptrs * (n ? n : 1));
		if (!keys || !ptrs) {
			sl_free(keys);
			sl_free(ptrs);
			return SL_ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			keys[i] = v->u.dict->keys[i];
			ptrs[i] = &keys[i];
		}
		qsort(ptrs, n, sizeof *ptrs, cmp_keys);
		rc = sl_buf_putc(b, '{');
		for (size_t i = 0; rc == 0 && i < n; i++) {
			size_t k = (size_t)(ptrs[i] - keys);
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = m_py_repr_str(b, keys[k]);
			if (rc == 0)
				rc = sl_buf_puts(b, ": ");
			if (rc == 0)
				rc = hashable_repr(b, &v->u.dict->vals[k]);
		}
		sl_free(keys);
		sl_free(ptrs);
		return rc ? rc : sl_buf_putc(b, '}');
	}
	sl_buf s = SL_BUF_INIT;
	rc = py_str(&s, v);
	if (rc == 0)
		rc = m_py_repr_str(b, s.data ? s.data : "");
	sl_buf_free(&s);
	return rc;
}

static void md5_hex(const char *s, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	out[0] = '\0';
	if (!EVP_Digest(s, n, md, &len, EVP_md5(), NULL))
		return;
	for (unsigned i = 0; i < len && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/*
 * dbt's synthesized names: the test's type and target, then every
 * argument but model (sorted by name; dicts by their values, lists item
 * by item) with runs of other characters than [0-9a-zA-Z_] made "_",
 * joined by "__". A full name of 64 characters or more has a short form:
 * its first 30 identifying characters and the md5 of the full name.
 */
static int synth_names(sl_models *m, const char *type, const char *target,
		       const sl_tpl_value *args, const char **short_name, const char **full_name)
{
	size_t n = args->u.dict->len;
	const char **keys = sl_malloc(sizeof *keys * (n ? n : 1));
	const char ***ptrs = sl_malloc(sizeof *ptrs * (n ? n : 1));
	sl_buf u = SL_BUF_INIT, part = SL_BUF_INIT;
	int rc = keys && ptrs ? 0 : SL_ENOMEM, nparts = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		keys[i] = args->u.dict->keys[i];
		ptrs[i] = &keys[i];
	}
	if (rc == 0)
		qsort(ptrs, n, sizeof *ptrs, cmp_keys);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t k = (size_t)(ptrs[i] - keys);
		if (strcmp(keys[k], "model") == 0)
			continue;
		const sl_tpl_value *v = &args->u.dict->vals[k];
		size_t np = v->type == SL_TPL_DICT ? v->u.dict->len
			    : v->type == SL_TPL_LIST ? v->u.list->len : 1;
		for (size_t j = 0; rc == 0 && j < np; j++) {
			const sl_tpl_value *pv = v->type == SL_TPL_DICT ? &v->u.dict->vals[j]
						 : v->type == SL_TPL_LIST ? &v->u.list->items[j] : v;
			sl_buf_reset(&part);
			rc = py_str(&part, pv);
			if (rc == 0 && nparts++)
				rc = sl_buf_puts(&u, "__");
			const char *p = part.data ? part.data : "";
			while (rc == 0 && *p) {
				if (isalnum((unsigned char)*p) || *p == '_') {
					rc = sl_buf_putc(&u, *p++);
					continue;
				}
				while (*p && !(isalnum((unsigned char)*p) || *p == '_'))
					p++;
				rc = sl_buf_putc(&u, '_');
			}
		}
	}
	char ident[1024];
	snprintf(ident, sizeof ident, "%s_%s", type, target);
	char *full = rc == 0 ? sl_arena_sprintf(&m->arena, "%s_%s", ident,
						u.data ? u.data : "") : NULL;
	if (full && strlen(full) >= 64) {
		char hex[33];
		md5_hex(full, strlen(full), hex);
		*short_name = sl_arena_sprintf(&m->arena, "%.30s_%s", ident, hex);
	} else {
		*short_name = full;
	}
	*full_name = full;
	sl_free(keys);
	sl_free(ptrs);
	sl_buf_free(&u);
	sl_buf_free(&part);
	return full && *short_name ? 0 : SL_ENOMEM;
}

/* ---------------------------------------------------------- the nodes */

/* The configs a test entry may give beside its arguments (dbt's list). */
static const char *const config_args[] = {
	"severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "fail_calc",
	"store_failures", "store_failures_as", "meta", "database", "schema", "alias", NULL};

static bool is_config_arg(const char *k)
{
	for (int i = 0; config_args[i]; i++)
		if (strcmp(config_args[i], k) == 0)
			return true;
	return false;
}

static bool falsy(const sl_tpl_value *v)
{
	return !v || !sl_tpl_truthy(v);
}

/* Appends s as a Jinja string literal. */
static int jinja_literal(sl_buf *b, const char *s)
{
	int rc = sl_buf_putc(b, '\'');
	for (; *s && rc == 0; s++) {
		if (*s == '\\' || *s == '\'')
			rc = sl_buf_putc(b, '\\');
		if (rc == 0)
			rc = sl_buf_putc(b, *s == '\n' ? ' ' : *s);
	}
	return rc ? rc : sl_buf_putc(b, '\'');
}

/* Whether s is a call dbt renders as an expression: ref(...), source(...),
 * var(...), env_var(...), doc(...). */
static bool looks_like_call(const char *s)
{
	static const char *const fns[] = {"env_var", "ref", "var", "source", "doc", NULL};
	while (isspace((unsigned char)*s))
		s++;
	for (int i = 0; fns[i]; i++) {
		size_t n = strlen(fns[i]);
		if (strncmp(s, fns[i], n) != 0)
			continue;
		const char *p = s + n;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '(')
			continue;
		const char *e = s + strlen(s);
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		return e - p > 2 && e[-1] == ')';
	}
	return false;
}

/* Appends v as a Jinja expression, rendering strings as dbt renders test
 * arguments (a call or a lone {{ expression }} is evaluated). */
static int jinja_expr(sl_buf *b, const sl_tpl_value *v, bool plain)
{
	int rc = 0;
	switch (v->type) {
	case SL_TPL_UNDEFINED:
	case SL_TPL_NONE: return sl_buf_puts(b, "none");
	case SL_TPL_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
	case SL_TPL_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i);
	case SL_TPL_FLOAT: return sl_buf_printf(b, "%.17g", v->u.f);
	case SL_TPL_STRING: {
		const char *s = v->u.str.s;
		if (!plain && looks_like_call(s))
			return sl_buf_printf(b, "(%s)", s);
		const char *t = s + strspn(s, " \t\r\n");
		size_t n = strlen(t);
		while (n && strchr(" \t\r\n", t[n - 1]))
			n--;
		if (!plain && n > 4 && strncmp(t, "{{", 2) == 0 && strncmp(t + n - 2, "}}", 2) == 0 &&
		    !strstr(t + 2, "{{") && strstr(t, "}}") == t + n - 2)
			return sl_buf_printf(b, "(%.*s)", (int)(n - 4), t + 2);
		return jinja_literal(b, s);
	}
	case SL_TPL_LIST:
		rc = sl_buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++)
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = jinja_expr(b, &v->u.list->items[i], plain);
		return rc ? rc : sl_buf_putc(b, ']');
	case SL_TPL_DICT:
		rc = sl_buf_putc(b, '{');
		for (size_t i = 0; rc == 0 && i < v->u.dict->len; i++) {
			if ((rc = i ? sl_buf_puts(b, ", ") : 0) == 0)
				rc = jinja_literal(b, v->u.dict->keys[i]);
			if (rc == 0)
				rc = sl_buf_puts(b, ": ");
			if (rc == 0)
				rc = jinja_expr(b, &v->u.dict->vals[i], plain);
		}
		return rc ? rc : sl_buf_putc(b, '}');
	default: return sl_buf_puts(b, "none");
	}
}

/* What a test is on, for messages: column "id" of model "orders". */
static void describe_target(const m_testspec *s, char *out, size_t n)
{
	char t[600];
	if (s->source)
		snprintf(t, sizeof t, "source \"%s.%s\"", s->source, s->target);
	else
		snprintf(t, sizeof t, "%s \"%s\"", sl_node_type_name(s->target_type), s->target);
	if (s->column)
		snprintf(out, n, "column \"%s\" of %s", s->column, t);
	else
		snprintf(out, n, "%s", t);
}

static bool is_identifier(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The error for a test macro that does not exist, with the closest name. */
static int unknown_test(sl_models *m, const m_testspec *s, const char *ns, const char *name,
			sl_error *err)
{
	char what[800];
	describe_target(s, what, sizeof what);
	bool have_pkg = !ns;
	for (int i = 0; ns && i < m->npkgs; i++)
		have_pkg = have_pkg || strcmp(m->pkgs[i].name, ns) == 0;
	if (!have_pkg)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"%s.%s\" on %s: package \"%s\" is "
				    "not installed; add it to packages.yml and install it into "
				    "dbt_packages/ (dbt deps), or remove the test", s->file, s->line,
				    ns, name, what, ns);
	int cap = m->nmacros + (int)m->builtins.u.dict->len + 1, k = 0;
	const char **names = sl_malloc(sizeof *names * (size_t)cap);
	for (int i = 0; names && i < m->nmacros; i++)
		if (strncmp(m->macros[i].name, "test_", 5) == 0 &&
		    (!ns || strcmp(m->macros[i].pkg->name, ns) == 0))
			names[k++] = m->macros[i].name + 5;
	for (size_t i = 0; names && !ns && i < m->builtins.u.dict->len; i++)
		if (strncmp(m->builtins.u.dict->keys[i], "test_", 5) == 0)
			names[k++] = m->builtins.u.dict->keys[i] + 5;
	const char *sug = names ? m_suggest(name, names, k) : NULL;
	int rc;
	if (sug)
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: unknown test \"%s%s%s\" on %s; did you "
				  "mean \"%s%s%s\"?", s->file, s->line, ns ? ns : "", ns ? "." : "",
				  name, what, ns ? ns : "", ns ? "." : "", sug);
	else
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: unknown test \"%s%s%s\" on %s; use "
				  "not_null, unique, relationships or accepted_values, or define it "
				  "with {%% test %s(model, column_name) %%} in macros/ or "
				  "tests/generic/", s->file, s->line, ns ? ns : "", ns ? "." : "",
				  name, what, name);
	sl_free(names);
	return rc;
}

static bool test_macro_exists(sl_models *m, const char *ns, const char *macro)
{
	for (int i = 0; i < m->nmacros; i++)
		if (strcmp(m->macros[i].name, macro) == 0 &&
		    (!ns || strcmp(m->macros[i].pkg->name, ns) == 0))
			return true;
	return !ns && sl_tpl_dict_get(m->builtins.u.dict, macro) != NULL;
}

/* The model, seed or snapshot a spec is on: its package first, then any. */
static m_node *spec_target(sl_models *m, const m_testspec *s)
{
	m_node *any = NULL;
	for (int i = 0; i < m->nnodes; i++) {
		m_node *n = m->nodes[i];
		if (n->pub.type != s->target_type || strcmp(n->pub.name, s->target) != 0)
			continue;
		if (n->pkg == s->pkg && n->enabled)
			return n;
		if (!any)
			any = n;
	}
	return any;
}

/* Splits a spec into test name, arguments and configs, as dbt's builder. */
static int split_spec(sl_models *m, const m_testspec *s, const char **test_name,
		      sl_tpl_value *args, sl_tpl_value *cfg, const char **desc, sl_error *err)
{
	sl_arena *a = &m->arena;
	const sl_tpl_value *def = &s->def, *raw = NULL;
	sl_tpl_value empty = sl_tpl_dict_new(a);
	*args = sl_tpl_dict_new(a);
	*cfg = sl_tpl_dict_new(a);
	if (empty.type != SL_TPL_DICT || args->type != SL_TPL_DICT || cfg->type != SL_TPL_DICT)
		return oom(err);
	const char *bad = "%s:%d: a test is a name or a mapping of one test name to its "
			  "arguments: - not_null, or - accepted_values: {values: [a, b]}";
	if (def->type == SL_TPL_STRING) {
		*test_name = def->u.str.s;
		raw = &empty;
	} else if (def->type == SL_TPL_DICT && m_dict_str(def, "test_name")) {
		*test_name = m_dict_str(def, "test_name");
		raw = def;
	} else if (def->type == SL_TPL_DICT && def->u.dict->len == 1) {
		*test_name = def->u.dict->keys[0];
		raw = &def->u.dict->vals[0];
		if (raw->type == SL_TPL_NONE)
			raw = &empty;
		if (raw->type != SL_TPL_DICT)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: the arguments of test \"%s\" "
					    "must be a mapping (%s: {arg: value})", s->file,
					    s->line, *test_name, *test_name);
	} else {
		return sl_error_set(err, SL_ECONFIG, bad, s->file, s->line);
	}
	/* the arguments as given, arguments: spread among them */
	const sl_tpl_value *conf = NULL;
	for (size_t i = 0; i < raw->u.dict->len; i++) {
		const char *k = raw->u.dict->keys[i];
		const sl_tpl_value *v = &raw->u.dict->vals[i];
		if (strcmp(k, "test_name") == 0)
			continue;
		/* the test's description documents it; no argument */
		if (strcmp(k, "description") == 0) {
			if (v->type == SL_TPL_STRING)
				*desc = v->u.str.s;
			continue;
		}
		if (strcmp(k, "config") == 0) {
			if (v->type == SL_TPL_DICT)
				conf = v;
			else if (v->type != SL_TPL_NONE)
				return sl_error_set(err, SL_ECONFIG, "%s:%d: \"config\" of test \"%s\" "
						    "must be a mapping (config: {severity: warn})",
						    s->file, s->line, *test_name);
			continue;
		}
		if (strcmp(k, "model") == 0)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"%s\" is given a \"model\" "
					    "argument; the model is the node the test is on: remove "
					    "it", s->file, s->line, *test_name);
		if (strcmp(k, "arguments") == 0 && v->type == SL_TPL_DICT) {
			for (size_t j = 0; j < v->u.dict->len; j++)
				if (sl_tpl_dict_set(a, args->u.dict, v->u.dict->keys[j],
						    v->u.dict->vals[j]) < 0)
					return oom(err);
			continue;
		}
		if (sl_tpl_dict_set(a, args->u.dict, k, *v) < 0)
			return oom(err);
	}
	if (s->column && sl_tpl_dict_set(a, args->u.dict, "column_name",
					 sl_tpl_string(a, s->column, strlen(s->column))) < 0)
		return oom(err);
	/* configs: the legacy top-level keys, then config: */
	sl_tpl_value rest = sl_tpl_dict_new(a);
	if (rest.type != SL_TPL_DICT)
		return oom(err);
	for (size_t i = 0; i < args->u.dict->len; i++) {
		const char *k = args->u.dict->keys[i];
		const sl_tpl_value *v = &args->u.dict->vals[i];
		if (!is_config_arg(k)) {
			if (sl_tpl_dict_set(a, rest.u.dict, k, *v) < 0)
				return oom(err);
			continue;
		}
		const sl_tpl_value *cv = conf ? m_dict_get(conf, k) : NULL;
		if (!falsy(v) && cv)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"%s\" sets \"%s\" both "
					    "as an argument and under config:; keep the one under "
					    "config:", s->file, s->line, *test_name, k);
		if (v->type != SL_TPL_NONE && sl_tpl_dict_set(a, cfg->u.dict, k, *v) < 0)
			return oom(err);
	}
	for (size_t i = 0; conf && i < conf->u.dict->len; i++)
		if (conf->u.dict->vals[i].type != SL_TPL_NONE &&
		    sl_tpl_dict_set(a, cfg->u.dict, conf->u.dict->keys[i],
				    conf->u.dict->vals[i]) < 0)
			return oom(err);
	*args = rest;
	return 0;
}

/* Arguments the built-in tests require. */
static int check_builtin_args(const m_testspec *s, const char *ns, const char *name,
			      const sl_tpl_value *args, sl_error *err)
{
	char what[800];
	if (ns)
		return 0;
	describe_target(s, what, sizeof what);
	if (strcmp(name, "relationships") == 0 &&
	    (!m_dict_get(args, "to") || !m_dict_get(args, "field")))
		return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"relationships\" on %s needs "
				    "\"to\" and \"field\": relationships: {to: ref('customers'), "
				    "field: id}", s->file, s->line, what);
	if (strcmp(name, "accepted_values") == 0) {
		const sl_tpl_value *v = m_dict_get(args, "values");
		if (!v || v->type != SL_TPL_LIST)
			return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"accepted_values\" on %s "
					    "needs \"values\", a list: accepted_values: {values: "
					    "['placed', 'shipped']}", s->file, s->line, what);
	}
	if ((strcmp(name, "not_null") == 0 || strcmp(name, "unique") == 0 ||
	     strcmp(name, "relationships") == 0 || strcmp(name, "accepted_values") == 0) &&
	    !m_dict_get(args, "column_name"))
		return sl_error_set(err, SL_ECONFIG, "%s:%d: test \"%s\" on %s needs a column: put "
				    "it under the column's tests:, or give column_name: x", s->file,
				    s->line, name, what);
	return 0;
}

/* dbt's raw_code of a generic test: its macro called with the kwargs, and
 * the YAML configs as a config() call. */
/* s as the inside of a quoted Jinja string literal: a quote or backslash in
 * a node's name is escaped, so that ref('it\'s') parses. */
static const char *jinja_lit(sl_arena *a, const char *s)
{
	size_t n = strlen(s), extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += s[i] == '\'' || s[i] == '\\';
	char *out = sl_arena_alloc(a, n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o = 0;
	return out;
}

static const char *raw_code(sl_models *m, const char *macro, const sl_tpl_value *cfg)
{
	sl_buf b = SL_BUF_INIT;
	sl_buf_printf(&b, "{{ %s(**_dbt_generic_test_kwargs) }}", macro);
	if (cfg->u.dict->len) {
		sl_buf_puts(&b, "{{ config(");
		for (size_t i = 0; i < cfg->u.dict->len; i++) {
			const sl_tpl_value *v = &cfg->u.dict->vals[i];
			sl_buf_printf(&b, "%s%s=", i ? "," : "", cfg->u.dict->keys[i]);
			if (v->type == SL_TPL_STRING) {
				sl_buf_putc(&b, '"');
				for (const char *p = v->u.str.s; *p; p++) {
					if (*p == '"')
						sl_buf_putc(&b, '\\');
					sl_buf_putc(&b, *p);
				}
				sl_buf_putc(&b, '"');
			} else {
				py_str(&b, v);
			}
		}
		sl_buf_puts(&b, ") }}");
	}
	const char *out = b.data ? sl_arena_strndup(&m->arena, b.data, b.len) : NULL;
	sl_buf_free(&b);
	return out;
}

/* The fqn path of a file's tests: its folders under the resource folder. */
static const char *folders_of(sl_models *m, const char *rel, const char *name)
{
	const char *p = strchr(rel, '/');
	const char *last = strrchr(rel, '/');
	if (!p || p == last)
		return m_strdup(m, name);
	return sl_arena_sprintf(&m->arena, "%.*s/%s", (int)(last - p - 1), p + 1, name);
}

static int make_generic(sl_models *m, const m_testspec *s, sl_error *err)
{
	sl_arena *a = &m->arena;
	const char *test_name = NULL;
	sl_tpl_value args, cfg;
	const char *desc = NULL;
	int rc = split_spec(m, s, &test_name, &args, &cfg, &desc, err);
	if (rc < 0)
		return rc;
	/* [namespace.]name */
	const char *dot = strchr(test_name, '.');
	const char *ns = dot ? sl_arena_strndup(a, test_name, (size_t)(dot - test_name)) : NULL;
	const char *name = dot ? dot + 1 : test_name;
	if ((dot && !ns) || !name)
		return oom(err);
	if (!is_identifier(name) || (ns && !is_identifier(ns)))
		return sl_error_set(err, SL_ECONFIG, "%s:%d: \"%s\" is not a test name; a test is "
				    "named like not_null or package.test_name", s->file, s->line,
				    test_name);
	char macro[300];
	snprintf(macro, sizeof macro, "test_%s", name);
	if (!test_macro_exists(m, ns, macro))
		return unknown_test(m, s, ns, name, err);
	if ((rc = check_builtin_args(s, ns, name, &args, err)) < 0)
		return rc;
	/* the node it is on */
	m_node *target = NULL;
	m_source *src = NULL;
	if (s->source) {
		src = m_find_source(m, s->source, s->target);
		if (!src)
			return 0;
	} else if (!(target = spec_target(m, s))) {
		return 0; /* described but absent: warned about by the config pass */
	}
	/* the kwargs with the model, as dbt keeps them */
	const char *lsrc = s->source ? jinja_lit(a, s->source) : NULL;
	const char *ltarget = jinja_lit(a, s->target);
	if (!ltarget || (s->source && !lsrc))
		return oom(err);
	const char *model_call = s->source
		? sl_arena_sprintf(a, "source('%s', '%s')", lsrc, ltarget)
		: sl_arena_sprintf(a, "ref('%s')", ltarget);
	const char *model_str = model_call
		? sl_arena_sprintf(a, "{{ get_where_subquery(%s) }}", model_call) : NULL;
	sl_tpl_value kwargs = sl_tpl_dict_new(a);
	if (!model_str || kwargs.type != SL_TPL_DICT)
		return oom(err);
	for (size_t i = 0; i < args.u.dict->len; i++)
		if (strcmp(args.u.dict->keys[i], "name") != 0 &&
		    sl_tpl_dict_set(a, kwargs.u.dict, args.u.dict->keys[i], args.u.dict->vals[i]) < 0)
			return oom(err);
	if (sl_tpl_dict_set(a, kwargs.u.dict, "model",
			    sl_tpl_string(a, model_str, strlen(model_str))) < 0)
		return oom(err);
	/* names */
	const char *short_name, *full_name;
	const char *custom = m_dict_str(&args, "name");
	if (custom) {
		short_name = full_name = custom;
	} else {
		char type[400], target_name[600];
		snprintf(type, sizeof type, "%s%s%s%s", ns ? ns : "", ns ? "_" : "",
			 s->source ? "source_" : "", name);
		if (s->source)
			snprintf(target_name, sizeof target_name, "%s_%s", s->source, s->target);
		else
			snprintf(target_name, sizeof target_name, "%s", s->target);
		if (synth_names(m, type, target_name, &kwargs, &short_name, &full_name) < 0)
			return oom(err);
		if (strcmp(short_name, full_name) != 0 && !m_dict_get(&cfg, "alias") &&
		    sl_tpl_dict_set(a, cfg.u.dict, "alias",
				    sl_tpl_string(a, short_name, strlen(short_name))) < 0)
			return oom(err);
	}
	/* unique_id: md5 of the name and the metadata as Python prints it */
	sl_tpl_value md = sl_tpl_dict_new(a);
	sl_buf h = SL_BUF_INIT;
	if (md.type != SL_TPL_DICT ||
	    sl_tpl_dict_set(a, md.u.dict, "namespace",
			    ns ? sl_tpl_string(a, ns, strlen(ns)) : sl_tpl_none()) < 0 ||
	    sl_tpl_dict_set(a, md.u.dict, "name", sl_tpl_string(a, name, strlen(name))) < 0 ||
	    sl_tpl_dict_set(a, md.u.dict, "kwargs", kwargs) < 0 ||
	    sl_buf_puts(&h, full_name) < 0 || hashable_repr(&h, &md) < 0) {
		sl_buf_free(&h);
		return oom(err);
	}
	char hex[33];
	md5_hex(h.data, h.len, hex);
	sl_buf_free(&h);
	/* the node */
	m_node *n = sl_arena_alloc(a, sizeof *n);
	sl_node_test *t = sl_arena_alloc(a, sizeof *t);
	if (!n || !t)
		return oom(err);
	memset(n, 0, sizeof *n);
	memset(t, 0, sizeof *t);
	n->pkg = s->pkg;
	n->pub.type = SL_NODE_TEST;
	n->pub.name = full_name;
	n->pub.package = s->pkg->name;
	n->pub.path = s->file;
	n->pub.unique_id = sl_arena_sprintf(a, "test.%s.%s.%s", s->pkg->name, full_name, hex + 22);
	n->file = sl_arena_sprintf(a, "%s/%s", s->pkg->dir, s->file);
	n->fqn_path = folders_of(m, s->file, full_name);
	n->out_path = sl_arena_sprintf(a, "%s/%s.sql", s->file, short_name);
	n->enabled = true;
	n->line = s->line;
	n->props_cfg.type = SL_TPL_UNDEFINED;
	n->file_cfg = sl_tpl_dict_new(a);
	n->attached = target;
	n->test = t;
	n->yaml_desc = desc;
	char qualified[600];
	snprintf(qualified, sizeof qualified, "%s%s%s", ns ? ns : "", ns ? "." : "", macro);
	n->pub.raw_code = raw_code(m, qualified, &cfg);
	n->pub.checksum = "";
	/* the column's tags go to its tests */
	if (s->tags.type == SL_TPL_LIST || s->tags.type == SL_TPL_STRING) {
		sl_tpl_value tc = sl_tpl_dict_new(a);
		if (tc.type != SL_TPL_DICT || sl_tpl_dict_set(a, tc.u.dict, "tags", s->tags) < 0 ||
		    m_config_merge(m, &tc, &cfg, false, err) < 0)
			return oom(err);
		cfg = tc;
	}
	n->test_cfg = cfg;
	/* the template: the macro called with every argument, after as many
	 * newlines as the test is down its file (so messages give its line) */
	sl_buf b = SL_BUF_INIT;
	for (int i = 1; i < s->line; i++)
		sl_buf_putc(&b, '\n');
	sl_buf_printf(&b, "{{ %s(model=get_where_subquery(%s)", qualified, model_call);
	for (size_t i = 0; i < args.u.dict->len; i++) {
		const char *k = args.u.dict->keys[i];
		if (strcmp(k, "name") == 0)
			continue;
		sl_buf_printf(&b, ", %s=", k);
		jinja_expr(&b, &args.u.dict->vals[i], strcmp(k, "column_name") == 0);
	}
	sl_buf_puts(&b, ") }}");
	n->text = b.data ? sl_arena_strndup(a, b.data, b.len) : NULL;
	n->pad = s->line - 1;
	sl_buf_free(&b);
	/* what the contract shows */
	sl_buf kj = SL_BUF_INIT;
	sl_tpl_value shown = sl_tpl_dict_new(a);
	for (size_t i = 0; shown.type == SL_TPL_DICT && i < args.u.dict->len; i++)
		if (strcmp(args.u.dict->keys[i], "name") != 0)
			sl_tpl_dict_set(a, shown.u.dict, args.u.dict->keys[i], args.u.dict->vals[i]);
	m_value_json(&kj, &shown);
	t->type = SL_TEST_GENERIC;
	t->test_name = m_strdup(m, test_name);
	t->test_namespace = ns;
	t->kwargs_json = kj.data ? sl_arena_strndup(a, kj.data, kj.len) : NULL;
	sl_buf_free(&kj);
	t->column_name = s->column;
	t->attached_node = target ? target->pub.unique_id
			   : sl_arena_sprintf(a, "source.%s.%s.%s",
					      src->package ? src->package : m->pkgs[0].name,
					      src->source, src->table);
	n->attached_source = src ? t->attached_node : NULL;
	if (!n->pub.unique_id || !n->file || !n->fqn_path || !n->out_path || !n->text ||
	    !n->pub.raw_code || !t->kwargs_json || !t->test_name || !t->attached_node ||
	    n->file_cfg.type != SL_TPL_DICT)
		return oom(err);
	return m_add_node(m, n, err);
}

int m_make_tests(sl_models *m, sl_error *err)
{
	for (int i = 0; i < m->nspecs; i++) {
		int rc = make_generic(m, &m->specs[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------ singular tests */

static int add_singular(sl_models *m, m_package *pkg, const char *abs, const char *rel,
			const char *sub, const char *base, sl_error *err)
{
	char stem[512];
	const char *dot = strrchr(base, '.');
	snprintf(stem, sizeof stem, "%.*s", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
	sl_buf b = SL_BUF_INIT;
	int rc = sl_file_read_all(&b, abs, 16u << 20, err);
	if (rc < 0)
		return rc;
	m_node *n = sl_arena_alloc(&m->arena, sizeof *n);
	if (!n) {
		sl_buf_free(&b);
		return oom(err);
	}
	memset(n, 0, sizeof *n);
	n->pkg = pkg;
	n->pub.type = SL_NODE_TEST;
	n->pub.name = m_strdup(m, stem);
	n->pub.package = pkg->name;
	n->pub.path = m_strdup(m, rel);
	n->pub.unique_id = sl_arena_sprintf(&m->arena, "test.%s.%s", pkg->name, stem);
	n->file = m_strdup(m, abs);
	n->fqn_path = *sub ? sl_arena_sprintf(&m->arena, "%s/%s", sub, stem) : m_strdup(m, stem);
	n->text = sl_arena_strndup(&m->arena, b.data ? b.data : "", b.len);
	n->enabled = true;
	n->line = 1;
	n->props_cfg.type = SL_TPL_UNDEFINED;
	n->test_cfg.type = SL_TPL_UNDEFINED;
	n->file_cfg = sl_tpl_dict_new(&m->arena);
	n->test = sl_arena_alloc(&m->arena, sizeof *n->test);
	sl_buf_free(&b);
	if (!n->pub.name || !n->pub.path || !n->pub.unique_id || !n->file || !n->fqn_path ||
	    !n->text || n->file_cfg.type != SL_TPL_DICT || !n->test)
		return oom(err);
	memset(n->test, 0, sizeof *n->test);
	n->test->type = SL_TEST_SINGULAR;
	n->test->kwargs_json = "{}";
	return m_add_node(m, n, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks a test-path folder: generic/ holds test macros, the rest singular
 * tests (and properties or docs files). */
static int walk_tests(sl_models *m, m_package *pkg, const char *dir, const char *rel,
		      const char *sub, int depth, sl_error *err)
{
	DIR *d = opendir(dir);
	if (!d || depth > 32) {
		if (d)
			closedir(d);
		return 0;
	}
	char **names = NULL;
	int n = 0, cap = 0, rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = sl_realloc(names, sizeof *nv * (size_t)cap);
			if (!nv) {
				rc = oom(err);
				break;
			}
			names = nv;
		}
		if (!(names[n] = sl_strdup(e->d_name))) {
			rc = oom(err);
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, (size_t)n, sizeof *names, cmp_str);
	bool generic = strcmp(sub, "generic") == 0 || strncmp(sub, "generic/", 8) == 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *abs = sl_path_join(dir, names[i]);
		char *r = sl_path_join(rel, names[i]);
		char *s = *sub ? sl_path_join(sub, names[i]) : sl_strdup(names[i]);
		struct stat st;
		if (!abs || !r || !s)
			rc = oom(err);
		else if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode))
			rc = walk_tests(m, pkg, abs, r, s, depth + 1, err);
		else if (sl_str_ends_with(names[i], ".yml") || sl_str_ends_with(names[i], ".yaml"))
			rc = m_read_properties(m, pkg, abs, r, err);
		else if (sl_str_ends_with(names[i], ".md"))
			rc = m_read_docs(m, abs, err);
		else if (sl_str_ends_with(names[i], ".sql") && generic)
			rc = m_add_macro_file(m, pkg, abs, r, err);
		else if (sl_str_ends_with(names[i], ".sql"))
			rc = add_singular(m, pkg, abs, r, sub, names[i], err);
		sl_free(abs);
		sl_free(r);
		sl_free(s);
	}
	for (int i = 0; i < n; i++)
		sl_free(names[i]);
	sl_free(names);
	return rc;
}

int m_discover_tests(sl_models *m, sl_error *err)
{
	for (int p = 0; p < m->npkgs; p++) {
		m_package *pkg = &m->pkgs[p];
		for (int i = 0; i < pkg->ntest_paths; i++) {
			char *dir = sl_path_join(pkg->dir, pkg->test_paths[i]);
			if (!dir)
				return oom(err);
			int rc = walk_tests(m, pkg, dir, pkg->test_paths[i], "", 0, err);
			sl_free(dir);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------ test configs */

/* A config as text ("!= 0", 10 -> "10"), or NULL. */
static const char *cfg_text(sl_models *m, const m_node *n, const char *key)
{
	const sl_tpl_value *v = m_dict_get(&n->cfg, key);
	if (!v || v->type == SL_TPL_NONE || v->type == SL_TPL_UNDEFINED)
		return NULL;
	if (v->type == SL_TPL_STRING)
		return v->u.str.s;
	sl_buf b = SL_BUF_INIT;
	sl_tpl_value_write(&b, v);
	const char *s = b.data ? sl_arena_strndup(&m->arena, b.data, b.len) : NULL;
	sl_buf_free(&b);
	return s;
}

static int finish_test(sl_models *m, m_node *n, sl_error *err)
{
	sl_node_test *t = n->test;
	const char *sev = cfg_text(m, n, "severity");
	if (!sev || strcasecmp(sev, "error") == 0)
		t->severity = SL_SEVERITY_ERROR;
	else if (strcasecmp(sev, "warn") == 0)
		t->severity = SL_SEVERITY_WARN;
	else
		return sl_error_set(err, SL_ECONFIG, "%s:%d: severity \"%s\" of test %s is not warn "
				    "or error; use severity: warn or severity: error", n->pub.path,
				    n->line, sev, n->pub.name);
	t->warn_if = cfg_text(m, n, "warn_if");
	t->error_if = cfg_text(m, n, "error_if");
	if (!t->warn_if)
		t->warn_if = "!= 0";
	if (!t->error_if)
		t->error_if = "!= 0";
	t->where = cfg_text(m, n, "where");
	if (t->where && !*t->where)
		t->where = NULL;
	t->limit = -1;
	const sl_tpl_value *lim = m_dict_get(&n->cfg, "limit");
	if (lim && lim->type == SL_TPL_INT)
		t->limit = lim->u.i;
	else if (lim && lim->type == SL_TPL_STRING &&
		 sl_parse_int64(lim->u.str.s, lim->u.str.len, &t->limit) < 0)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: limit \"%s\" of test %s is not a "
				    "number of rows; use limit: 100", n->pub.path, n->line,
				    lim->u.str.s, n->pub.name);
	if (t->limit < -1)
		t->limit = -1;
	const sl_tpl_value *sf = m_dict_get(&n->cfg, "store_failures");
	const char *as = cfg_text(m, n, "store_failures_as");
	t->store_failures = sf && sl_tpl_truthy(sf);
	if (as && (strcmp(as, "table") == 0 || strcmp(as, "view") == 0))
		t->store_failures = true;
	else if (as && strcmp(as, "ephemeral") == 0)
		t->store_failures = false;
	else if (as)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: store_failures_as \"%s\" of test %s is "
				    "not table, view or ephemeral", n->pub.path, n->line, as,
				    n->pub.name);
	t->audit_schema = n->pub.schema;
	t->audit_relation = n->pub.alias;
	n->pub.test = t;
	return 0;
}

int m_finish_tests(sl_models *m, sl_error *err)
{
	for (int i = 0; i < m->nenabled; i++) {
		m_node *n = m->enabled[i];
		if (n->pub.type != SL_NODE_TEST)
			continue;
		int rc = finish_test(m, n, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
