/*
 * project_yaml.c: YAML files as libyaml documents, typed getters with
 * file:line errors, ${VAR} expansion, "did you mean" suggestions and the
 * path and secret helpers the project loader shares.
 */
#include "project/project_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PJ_MAX_FILE (16u << 20)
#define PJ_MAX_JSON (1u << 20) /* a list or mapping value rendered as JSON */

int pj_err(pj_file *f, int line, const char *fmt, ...)
{
	char msg[sizeof f->err->message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sl_error_set(f->err, SL_ECONFIG, "%s:%d: %s", f->display, line, msg);
}

int pj_file_open(pj_file *f, const char *path, const char *display, sl_arena *a,
		 sl_error *err)
{
	sl_buf data = SL_BUF_INIT;
	yaml_parser_t parser;
	int rc;

	memset(f, 0, sizeof *f);
	f->arena = a;
	f->display = display;
	f->err = err;
	rc = sl_file_read_all(&data, path, PJ_MAX_FILE, err);
	if (rc < 0) {
		sl_buf_free(&data);
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		sl_buf_free(&data);
		return sl_error_set(err, SL_ENOMEM, "out of memory parsing %s", display);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data.data, data.len);
	if (!yaml_parser_load(&parser, &f->doc)) {
		if (parser.error == YAML_MEMORY_ERROR) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory parsing %s", display);
		} else {
			size_t at = parser.problem_mark.index;
			bool tab = at < data.len && data.data[at] == '\t';
			char ctx[160] = "";
			if (parser.context)
				snprintf(ctx, sizeof ctx, " %s (from line %zu)", parser.context,
					 parser.context_mark.line + 1);
			rc = sl_error_set(err, SL_ECONFIG, "%s:%zu:%zu: YAML syntax error: %s%s; %s",
					  display, parser.problem_mark.line + 1,
					  parser.problem_mark.column + 1,
					  parser.problem ? parser.problem : "invalid YAML", ctx,
					  tab ? "YAML does not allow tabs: indent with spaces"
					      : "check the indentation and quoting there");
		}
	} else {
		yaml_document_t extra;
		f->loaded = true;
		/* A second document ("---") would be silently ignored: refuse it. */
		if (yaml_parser_load(&parser, &extra)) {
			yaml_node_t *root = yaml_document_get_root_node(&extra);
			if (root)
				rc = sl_error_set(err, SL_ECONFIG, "%s:%zu: a second YAML document "
						  "starts here; put one document per file",
						  display, root->start_mark.line + 1);
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&parser);
	sl_buf_free(&data);
	return rc;
}

void pj_file_close(pj_file *f)
{
	if (f->loaded)
		yaml_document_delete(&f->doc);
	f->loaded = false;
}

yaml_node_t *pj_root(pj_file *f)
{
	return f->loaded ? yaml_document_get_root_node(&f->doc) : NULL;
}

bool pj_is_null(const yaml_node_t *n)
{
	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *pj_kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "a string";
	}
}

int pj_map_len(const yaml_node_t *map)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return 0;
	return (int)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

void pj_map_pair(pj_file *f, yaml_node_t *map, int i, yaml_node_t **k, yaml_node_t **v)
{
	yaml_node_pair_t *pr = map->data.mapping.pairs.start + i;
	*k = yaml_document_get_node(&f->doc, pr->key);
	*v = yaml_document_get_node(&f->doc, pr->value);
}

/* ------------------------------------------------------------- suggestions */

/* Optimal string alignment distance (a swap of neighbours counts 1), ignoring case. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t d[3][64]; /* rows i-2, i-1, i, reused cyclically */
	if (m >= 63 || n >= 63)
		return 99;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
	}
	return d[n % 3][m];
}

const char *pj_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (int i = 0; cands[i]; i++) {
		size_t d = edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

bool pj_is_ident(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* Appends "a, b, c" to buf. */
static void join_list(char *buf, size_t n, const char *const *items)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; items[i] && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", items[i]);
}

/* -------------------------------------------------------------- mappings */

int pj_check_keys(pj_file *f, yaml_node_t *map, const char *const *valid, const char *where)
{
	int n = pj_map_len(map);
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, map, i, &k, &v);
		if (k->type != YAML_SCALAR_NODE)
			return pj_err(f, pj_line(k), "keys must be plain names%s, not %s", where,
				      pj_kind_name(k));
		const char *key = (const char *)k->data.scalar.value;
		bool known = false;
		for (int j = 0; valid[j]; j++)
			if (strcmp(valid[j], key) == 0)
				known = true;
		if (!known) {
			const char *s = pj_suggest(key, valid);
			if (s)
				return pj_err(f, pj_line(k), "unknown key \"%s\"%s; did you mean \"%s\"?",
					      key, where, s);
			char list[512];
			join_list(list, sizeof list, valid);
			return pj_err(f, pj_line(k), "unknown key \"%s\"%s; valid keys are: %s", key,
				      where, list);
		}
		for (int j = 0; j < i; j++) {
			yaml_node_t *k2, *v2;
			pj_map_pair(f, map, j, &k2, &v2);
			if (k2->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k2->data.scalar.value, key) == 0)
				return pj_err(f, pj_line(k),
					      "duplicate key \"%s\"%s (first set on line %d); "
					      "remove one of them",
					      key, where, pj_line(k2));
		}
	}
	return 0;
}

yaml_node_t *pj_get(pj_file *f, yaml_node_t *map, const char *key, int *key_line)
{
	int n = pj_map_len(map);
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, map, i, &k, &v);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0) {
			if (key_line)
				*key_line = pj_line(k);
			return v;
		}
	}
	return NULL;
}

/* -------------------------------------------------------------- env vars */

/* A value that cannot be a credential: a plain number or a boolean word. */
static bool plain_value(const char *v)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off", NULL};
	for (int i = 0; words[i]; i++)
		if (strcasecmp(v, words[i]) == 0)
			return true;
	const char *p = v + (*v == '-' || *v == '+');
	bool digits = false, dot = false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits;
}

/* See sl_project_expand_env: every environment value may be a secret. */
static void register_env_value(const char *v)
{
	if (strlen(v) >= 4 && !plain_value(v))
		sl_log_add_secret(v);
}

int sl_project_expand_env(char **out, sl_arena *a, const char *s, const char *file,
			  int line, sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	int rc = 0;
	const char *p = s;

	if (!strstr(s, "${")) {
		*out = sl_arena_strdup(a, s);
		return *out ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	while (*p) {
		if (p[0] != '$' || p[1] != '{') {
			const char *q = strstr(p, "${");
			size_t n = q ? (size_t)(q - p) : strlen(p);
			if (n == 0) /* a lone '$' before "${" cannot happen; guard anyway */
				n = 1;
			if (sl_buf_append(&b, p, n) < 0)
				goto nomem;
			p += n;
			continue;
		}
		const char *end = strchr(p + 2, '}');
		if (!end) {
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s:%d: unterminated \"${\" in \"%s\"; write ${NAME} or "
					  "${NAME:-default}",
					  file, line, s);
			goto done;
		}
		const char *name = p + 2;
		const char *def = NULL;
		size_t nlen = (size_t)(end - name);
		for (const char *q = name; q < end; q++) {
			if (q[0] == ':' && q + 1 < end && q[1] == '-') {
				nlen = (size_t)(q - name);
				def = q + 2;
				break;
			}
		}
		bool ok = nlen > 0 && (isalpha((unsigned char)name[0]) || name[0] == '_');
		for (size_t i = 0; ok && i < nlen; i++)
			ok = isalnum((unsigned char)name[i]) || name[i] == '_';
		if (!ok) {
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s:%d: bad variable reference \"%.*s\"; write ${NAME} or "
					  "${NAME:-default}",
					  file, line, (int)(end - p + 1), p);
			goto done;
		}
		char *var = sl_arena_strndup(a, name, nlen);
		if (!var)
			goto nomem;
		const char *val = getenv(var);
		if (val && !*val && def)
			val = NULL; /* ${VAR:-x}: empty counts as unset, as in the shell */
		if (val) {
			register_env_value(val);
			if (sl_buf_puts(&b, val) < 0)
				goto nomem;
		} else if (def) {
			if (sl_buf_append(&b, def, (size_t)(end - def)) < 0)
				goto nomem;
		} else {
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s:%d: environment variable %s is not set; export it "
					  "(export %s=...) or give a default with ${%s:-value}",
					  file, line, var, var, var);
			goto done;
		}
		p = end + 1;
	}
	*out = sl_arena_strndup(a, b.data ? b.data : "", b.len);
	if (!*out)
		goto nomem;
done:
	sl_buf_free(&b);
	return rc;
nomem:
	sl_buf_free(&b);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

/* -------------------------------------------------------------- getters */

/* Expanded text of scalar node n into the arena. */
static int scalar_text(pj_file *f, yaml_node_t *n, const char *key, const char *where,
		       const char *expect, char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return pj_err(f, pj_line(n), "\"%s\"%s must be %s, not %s", key, where, expect,
			      pj_kind_name(n));
	const char *raw = (const char *)n->data.scalar.value;
	if (f->keep_env && strstr(raw, "${")) {
		f->kept_env = true;
		*out = sl_arena_strdup(f->arena, raw);
		return *out ? 0 : sl_error_set(f->err, SL_ENOMEM, "out of memory");
	}
	return sl_project_expand_env(out, f->arena, raw, f->display, pj_line(n), f->err);
}

/* A value kept unexpanded by keep_env: typed getters leave it unchecked. */
static bool kept(const pj_file *f, const char *s)
{
	return f->keep_env && strstr(s, "${");
}

int pj_get_str(pj_file *f, yaml_node_t *map, const char *key, const char *where, char **out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	if (pj_is_null(v))
		return 0;
	return scalar_text(f, v, key, where, "a string", out);
}

int pj_get_int(pj_file *f, yaml_node_t *map, const char *key, const char *where,
	       int64_t min, int64_t max, int64_t *out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	char *s = NULL;
	int64_t x;
	if (pj_is_null(v))
		return 0;
	int rc = scalar_text(f, v, key, where, "an integer", &s);
	if (rc < 0 || kept(f, s))
		return rc;
	if (sl_parse_int64(s, strlen(s), &x) < 0)
		return pj_err(f, pj_line(v), "\"%s\"%s must be an integer, not \"%s\"", key, where,
			      s);
	if (x < min || x > max)
		return pj_err(f, pj_line(v), "\"%s\"%s must be between %lld and %lld, not %lld",
			      key, where, (long long)min, (long long)max, (long long)x);
	*out = x;
	return 0;
}

int pj_get_bool(pj_file *f, yaml_node_t *map, const char *key, const char *where, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	yaml_node_t *v = pj_get(f, map, key, NULL);
	char *s = NULL;
	if (pj_is_null(v))
		return 0;
	int rc = scalar_text(f, v, key, where, "true or false", &s);
	if (rc < 0 || kept(f, s))
		return rc;
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return pj_err(f, pj_line(v), "\"%s\"%s must be true or false, not \"%s\"", key, where, s);
}

int pj_get_double(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		  double *out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	char *s = NULL;
	double x;
	if (pj_is_null(v))
		return 0;
	int rc = scalar_text(f, v, key, where, "a number", &s);
	if (rc < 0 || kept(f, s))
		return rc;
	if (sl_parse_double(s, strlen(s), &x) < 0 || x < 0)
		return pj_err(f, pj_line(v), "\"%s\"%s must be a number >= 0, not \"%s\"", key,
			      where, s);
	*out = x;
	return 0;
}

int pj_get_strlist(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		   char ***out, int *n)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	char **items;
	int rc;
	if (pj_is_null(v))
		return 0;
	if (v->type == YAML_MAPPING_NODE)
		return pj_err(f, pj_line(v), "\"%s\"%s must be a string or a list of strings, "
			      "not a mapping", key, where);
	if (v->type == YAML_SCALAR_NODE) {
		items = sl_arena_alloc(f->arena, sizeof *items);
		if (!items)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		rc = scalar_text(f, v, key, where, "a string", &items[0]);
		if (rc < 0)
			return rc;
		*out = items;
		*n = 1;
		return 0;
	}
	int len = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
	items = sl_arena_alloc(f->arena, sizeof *items * (size_t)(len ? len : 1));
	if (!items)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = yaml_document_get_node(&f->doc, v->data.sequence.items.start[i]);
		if (it->type != YAML_SCALAR_NODE)
			return pj_err(f, pj_line(it), "items of \"%s\"%s must be strings, not %s",
				      key, where, pj_kind_name(it));
		rc = scalar_text(f, it, key, where, "a string", &items[i]);
		if (rc < 0)
			return rc;
	}
	*out = items;
	*n = len;
	return 0;
}

/*
 * Appends node n as JSON (scalars as strings) to b, whose max caps the
 * text: YAML aliases let a few hundred bytes name a value of billions of
 * nodes ("billion laughs"), so the expansion must stop at a size, not a depth.
 * A full b is SL_ELIMIT (and b's own SL_ENOMEM) without a message: the caller
 * names the key; other errors have set f->err.
 */
static int node_json(pj_file *f, yaml_node_t *n, sl_buf *b, int depth)
{
	int rc = 0;
	if (depth > 64)
		return pj_err(f, pj_line(n), "value nested too deeply");
	if (n->type == YAML_SCALAR_NODE) {
		char *s = NULL;
		rc = sl_project_expand_env(&s, f->arena, (const char *)n->data.scalar.value,
					   f->display, pj_line(n), f->err);
		if (rc == 0)
			rc = sl_buf_put_json_string(b, s, strlen(s));
	} else if (n->type == YAML_SEQUENCE_NODE) {
		int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
		rc = sl_buf_putc(b, '[');
		for (int i = 0; i < len && rc == 0; i++) {
			if (i && (rc = sl_buf_putc(b, ',')) < 0)
				break;
			rc = node_json(f, yaml_document_get_node(&f->doc,
								 n->data.sequence.items.start[i]),
				       b, depth + 1);
		}
		if (rc == 0)
			rc = sl_buf_putc(b, ']');
	} else {
		rc = sl_buf_putc(b, '{');
		for (int i = 0; i < pj_map_len(n) && rc == 0; i++) {
			yaml_node_t *k, *v;
			pj_map_pair(f, n, i, &k, &v);
			if (i && (rc = sl_buf_putc(b, ',')) < 0)
				break;
			rc = node_json(f, k, b, depth + 1);
			if (rc == 0)
				rc = sl_buf_putc(b, ':');
			if (rc == 0)
				rc = node_json(f, v, b, depth + 1);
		}
		if (rc == 0)
			rc = sl_buf_putc(b, '}');
	}
	return rc;
}

int pj_get_kvs(pj_file *f, yaml_node_t *map, const char *key, const char *where, bool json,
	       sl_kvs *out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	int rc;
	if (pj_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(v), "\"%s\"%s must be a mapping (name: value), not %s",
			      key, where, pj_kind_name(v));
	int n = pj_map_len(v);
	sl_kv *items = sl_arena_alloc(f->arena, sizeof *items * (size_t)(n ? n : 1));
	if (!items)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *val;
		pj_map_pair(f, v, i, &k, &val);
		if (k->type != YAML_SCALAR_NODE)
			return pj_err(f, pj_line(k), "keys of \"%s\"%s must be names, not %s", key,
				      where, pj_kind_name(k));
		const char *name = (const char *)k->data.scalar.value;
		for (int j = 0; j < i; j++)
			if (strcmp(items[j].key, name) == 0)
				return pj_err(f, pj_line(k),
					      "duplicate key \"%s\" in \"%s\"%s (first set on line %d)",
					      name, key, where, items[j].line);
		items[i].key = sl_arena_strdup(f->arena, name);
		items[i].line = pj_line(k);
		if (!items[i].key)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		if (pj_is_null(val)) {
			items[i].value = sl_arena_strdup(f->arena, "");
		} else if (val->type == YAML_SCALAR_NODE) {
			rc = scalar_text(f, val, name, "", "a string", &items[i].value);
			if (rc < 0)
				return rc;
		} else if (json) {
			sl_buf b = SL_BUF_INIT;
			b.max = PJ_MAX_JSON;
			rc = node_json(f, val, &b, 0);
			if (rc == 0)
				items[i].value = sl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
			sl_buf_free(&b);
			if (rc == SL_ELIMIT)
				return pj_err(f, pj_line(k), "\"%s\" in \"%s\"%s is larger than %u KiB "
					      "as JSON; do YAML aliases (*name) repeat a value too "
					      "often?", name, key, where, PJ_MAX_JSON >> 10);
			if (rc == SL_ENOMEM && f->err->code != SL_ENOMEM)
				return sl_error_set(f->err, SL_ENOMEM, "out of memory");
			if (rc < 0)
				return rc;
		} else {
			return pj_err(f, pj_line(val), "\"%s\" in \"%s\"%s must be a string, not %s",
				      name, key, where, pj_kind_name(val));
		}
		if (!items[i].value)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	}
	out->n = n;
	out->items = items;
	return 0;
}

int pj_get_enum(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		const char *const *choices, int *out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	char *s = NULL;
	if (pj_is_null(v))
		return 0;
	int rc = scalar_text(f, v, key, where, "a string", &s);
	if (rc < 0 || kept(f, s))
		return rc;
	for (int i = 0; choices[i]; i++) {
		if (strcmp(s, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	char list[256];
	join_list(list, sizeof list, choices);
	const char *sug = pj_suggest(s, choices);
	if (sug)
		return pj_err(f, pj_line(v), "\"%s\"%s must be one of %s, not \"%s\"; did you "
			      "mean \"%s\"?", key, where, list, s, sug);
	return pj_err(f, pj_line(v), "\"%s\"%s must be one of %s, not \"%s\"", key, where, list,
		      s);
}

/* ------------------------------------------------------- paths, secrets */

char *pj_abs_path(sl_arena *a, const char *dir, const char *path)
{
	sl_buf b = SL_BUF_INIT;
	char *res = NULL;
	if (path[0] != '/' && sl_buf_puts(&b, dir) < 0)
		goto out;
	if (sl_buf_putc(&b, '/') < 0 || sl_buf_puts(&b, path) < 0)
		goto out;
	/* Normalise in place: drop "." and "//", fold "x/..". */
	char *s = b.data, *o = b.data;
	const char *p = s;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > s && *--o != '/')
				;
		} else {
			*o++ = '/';
			memmove(o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == s)
		*o++ = '/';
	res = sl_arena_strndup(a, s, (size_t)(o - s));
out:
	sl_buf_free(&b);
	return res;
}

int pj_check_name_len(pj_file *f, int line, const char *what, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n <= SL_PROJECT_MAX_NAME)
		return 0;
	return pj_err(f, line, "%s \"%.40s...\" is %zu bytes long; names may have at most %d "
		      "bytes: shorten it", what, name, n, SL_PROJECT_MAX_NAME);
}
