/*
 * project_sources.c: loading sources/NAME.yml (one source per file, in file
 * name order) into sl_source values. This file reads the keys every source
 * and table has (source, kind, tables; name, primary_key, columns, write,
 * max_bad_rows, cursor) and hands the rest of each mapping to the source kind from
 * the registry in sources/, through an sl_config over the YAML: unknown keys
 * and keys of another kind are refused here, the kind's own keys are read and
 * checked by the kind.
 */
#include "project/project_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The keys every source and every table has, whatever its kind. The
 * orchestration keys of tables and sources (tags, retries, retry_delay,
 * timeout) belong in these lists too. */
static const char *const source_keys[] = {"source", "kind", "tables",
					  /* task policy and tags (project_policy.c) */
					  "retries", "retry_delay", "timeout", "tags",
					  "freshness", "loaded_at_field", NULL};
static const char *const table_keys[] = {"name", "primary_key", "columns", "write",
					 "max_bad_rows", "cursor",
					 /* task policy and tags (project_policy.c) */
					 "retries", "retry_delay", "timeout", "tags",
					 "freshness", "loaded_at_field", NULL};

static const char *const write_modes[] = {"append", "replace", "merge", NULL};
/* What sl_type_parse accepts, for "did you mean" on a misspelt type. */
static const char *const type_words[] = {"bool", "boolean", "int32", "int", "integer",
					 "int64", "bigint", "long", "float64", "double",
					 "float", "decimal", "numeric", "string", "text",
					 "varchar", "date", "timestamp", "datetime", NULL};

/* ------------------------------------------------- the kinds' view of YAML */

/* An sl_config over one mapping of a source file. */
typedef struct {
	sl_config base;
	pj_file *f;
	yaml_node_t *map;
} pj_config;

static pj_config *pjc(sl_config *c) { return (pj_config *)c; }

static int cfg_str(sl_config *c, const char *key, char **out)
{
	return pj_get_str(pjc(c)->f, pjc(c)->map, key, c->where, out);
}

static int cfg_integer(sl_config *c, const char *key, int64_t min, int64_t max, int64_t *out)
{
	return pj_get_int(pjc(c)->f, pjc(c)->map, key, c->where, min, max, out);
}

static int cfg_boolean(sl_config *c, const char *key, bool *out)
{
	return pj_get_bool(pjc(c)->f, pjc(c)->map, key, c->where, out);
}

static int cfg_number(sl_config *c, const char *key, double *out)
{
	return pj_get_double(pjc(c)->f, pjc(c)->map, key, c->where, out);
}

static int cfg_list(sl_config *c, const char *key, char ***out, int *n)
{
	return pj_get_strlist(pjc(c)->f, pjc(c)->map, key, c->where, out, n);
}

static int cfg_mapping(sl_config *c, const char *key, sl_kvs *out)
{
	return pj_get_kvs(pjc(c)->f, pjc(c)->map, key, c->where, false, out);
}

static int cfg_choice(sl_config *c, const char *key, const char *const *choices, int *out)
{
	return pj_get_enum(pjc(c)->f, pjc(c)->map, key, c->where, choices, out);
}

static int cfg_line(sl_config *c, const char *key)
{
	if (!key)
		return pj_line(pjc(c)->map);
	yaml_node_t *v = pj_get(pjc(c)->f, pjc(c)->map, key, NULL);
	return v ? pj_line(v) : 0;
}

static void *cfg_alloc(sl_config *c, size_t n)
{
	void *p = sl_arena_alloc(pjc(c)->f->arena, n ? n : 1);
	if (p)
		memset(p, 0, n);
	return p;
}

static int cfg_check_name(sl_config *c, int line, const char *what, const char *name)
{
	return pj_check_name_len(pjc(c)->f, line, what, name);
}

static const char *cfg_suggest(sl_config *c, const char *word, const char *const *cands)
{
	(void)c;
	return pj_suggest(word, cands);
}

static const sl_config_ops cfg_ops = {
	.str = cfg_str,
	.integer = cfg_integer,
	.boolean = cfg_boolean,
	.number = cfg_number,
	.list = cfg_list,
	.mapping = cfg_mapping,
	.choice = cfg_choice,
	.line = cfg_line,
	.alloc = cfg_alloc,
	.check_name = cfg_check_name,
	.suggest = cfg_suggest,
};

static void cfg_init(pj_config *c, pj_file *f, yaml_node_t *map, const char *where)
{
	c->base.ops = &cfg_ops;
	c->base.file = f->display;
	c->base.where = where;
	c->base.err = f->err;
	c->f = f;
	c->map = map;
}

/* ------------------------------------------------------------ key lists */

static bool key_in(const sl_source_key *keys, const char *key)
{
	for (int i = 0; keys && keys[i].name; i++)
		if (strcmp(keys[i].name, key) == 0)
			return true;
	return false;
}

/*
 * The keys a mapping may hold: the shared ones, then every kind's own
 * (source-level when tables is false), once each, NULL-terminated in the
 * arena — what "unknown key" and its suggestions are checked against.
 */
static const char *const *all_keys(pj_file *f, const char *const *shared, bool tables)
{
	const sl_source_kind *const *kinds = sl_source_kinds();
	size_t n = 0;
	for (int i = 0; shared[i]; i++)
		n++;
	for (int k = 0; kinds[k]; k++) {
		const sl_source_key *keys = tables ? kinds[k]->table_keys : kinds[k]->source_keys;
		for (int i = 0; keys && keys[i].name; i++)
			n++;
	}
	const char **out = sl_arena_alloc(f->arena, sizeof *out * (n + 1));
	if (!out)
		return NULL;
	n = 0;
	for (int i = 0; shared[i]; i++)
		out[n++] = shared[i];
	for (int k = 0; kinds[k]; k++) {
		const sl_source_key *keys = tables ? kinds[k]->table_keys : kinds[k]->source_keys;
		for (int i = 0; keys && keys[i].name; i++) {
			size_t j = 0;
			while (j < n && strcmp(out[j], keys[i].name) != 0)
				j++;
			if (j == n)
				out[n++] = keys[i].name;
		}
	}
	out[n] = NULL;
	return out;
}

/* Refuses a key of another kind: "does not apply to X sources". */
static int check_kind_keys(pj_file *f, const sl_source *s, yaml_node_t *n,
			   const char *const *shared, bool tables, const char *where)
{
	const sl_source_key *own = tables ? s->kind->table_keys : s->kind->source_keys;
	for (int i = 0; i < pj_map_len(n); i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, n, i, &k, &v);
		const char *key = (const char *)k->data.scalar.value;
		bool ok = key_in(own, key);
		for (int j = 0; shared[j] && !ok; j++)
			ok = strcmp(shared[j], key) == 0;
		if (!ok)
			return pj_err(f, pj_line(k), "%s\"%s\"%s does not apply to %s sources; "
				      "remove it", tables ? "key " : "", key, where, s->kind->name);
	}
	return 0;
}

static int check_columns(pj_file *f, sl_source_table *t, const char *where)
{
	for (int i = 0; i < t->columns.n; i++) {
		sl_kv *kv = &t->columns.items[i];
		sl_type ty;
		int rc = pj_check_name_len(f, kv->line, "column name", kv->key);
		if (rc < 0)
			return rc;
		if (sl_type_parse(kv->value, &ty) == 0)
			continue;
		char *word = sl_arena_strndup(f->arena, kv->value, strcspn(kv->value, "("));
		if (!word)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		const char *s = pj_suggest(word, type_words);
		if (s && strcasecmp(s, word) != 0)
			return pj_err(f, kv->line, "unknown type \"%s\" for column \"%s\"%s; did you "
				      "mean \"%s\"? valid types: " SL_TYPE_NAMES, kv->value,
				      kv->key, where, s);
		return pj_err(f, kv->line, "unknown type \"%s\" for column \"%s\"%s; valid types: "
			      SL_TYPE_NAMES, kv->value, kv->key, where);
	}
	return 0;
}

static int load_table(pj_file *f, sl_source *s, yaml_node_t *n, int idx, sl_source_table *t,
		      sl_task_policy *policy)
{
	const char *where;
	int rc, e;

	t->line = pj_line(n);
	if (n->type != YAML_MAPPING_NODE)
		return pj_err(f, t->line, "table #%d of source \"%s\" must be a mapping like "
			      "{name: orders, ...}, not %s", idx + 1, s->name, pj_kind_name(n));
	if ((rc = pj_get_str(f, n, "name", "", &t->name)) < 0)
		return rc;
	if (t->name && (rc = pj_check_name_len(f, pj_line(pj_get(f, n, "name", NULL)),
						"table name", t->name)) < 0)
		return rc;
	if (t->name)
		where = sl_arena_sprintf(f->arena, " in table \"%s\"", t->name);
	else
		where = sl_arena_sprintf(f->arena, " in table #%d of source \"%s\"", idx + 1,
					 s->name);
	const char *const *valid = all_keys(f, table_keys, true);
	if (!where || !valid)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_check_keys(f, n, valid, where)) < 0 ||
	    (rc = check_kind_keys(f, s, n, table_keys, true, where)) < 0)
		return rc;
	/* Task policy and tags (project_policy.c). */
	if ((rc = pj_load_policy(f, n, where, true, policy)) < 0)
		return rc;
	pj_config cfg;
	cfg_init(&cfg, f, n, where);
	if (!t->name) {
		if (s->kind->unnamed_table)
			return s->kind->unnamed_table(&cfg.base, s, idx);
		return pj_err(f, t->line, "missing required key \"name\"%s", where);
	}
	if (!pj_is_ident(t->name))
		return pj_err(f, pj_line(pj_get(f, n, "name", NULL)), "table name \"%s\" must "
			      "start with a letter or _ and hold only letters, digits and _",
			      t->name);

	e = SL_WRITE_APPEND;
	if ((rc = pj_get_enum(f, n, "write", where, write_modes, &e)) < 0)
		return rc;
	t->write = (sl_write_mode)e;
	if ((rc = pj_get_strlist(f, n, "primary_key", where, &t->primary_key,
				 &t->nprimary_key)) < 0 ||
	    (rc = pj_get_kvs(f, n, "columns", where, false, &t->columns)) < 0 ||
	    (rc = check_columns(f, t, where)) < 0 ||
	    (rc = pj_get_int(f, n, "max_bad_rows", where, 0, INT64_MAX, &t->max_bad_rows)) < 0 ||
	    (rc = pj_get_str(f, n, "cursor", where, &t->cursor)) < 0)
		return rc;
	if (t->cursor && (rc = pj_check_name_len(f, pj_line(pj_get(f, n, "cursor", NULL)),
						  "cursor column", t->cursor)) < 0)
		return rc;
	for (int i = 0; i < t->nprimary_key; i++) {
		int line = pj_line(pj_get(f, n, "primary_key", NULL));
		if ((rc = pj_check_name_len(f, line, "primary_key column", t->primary_key[i])) < 0)
			return rc;
		for (int k = 0; k < i; k++)
			if (strcasecmp(t->primary_key[k], t->primary_key[i]) == 0)
				return pj_err(f, line, "primary_key names \"%s\" and \"%s\"%s: "
					      "one column to a warehouse that ignores case; "
					      "name each key column once",
					      t->primary_key[k], t->primary_key[i], where);
	}
	if (t->write == SL_WRITE_MERGE && t->nprimary_key == 0)
		return pj_err(f, pj_line(pj_get(f, n, "write", NULL)),
			      "write: merge%s needs a primary_key (the columns that identify a "
			      "row); add primary_key: [col] or use write: append", where);
	/* The kind's own keys. */
	return s->kind->parse_table(&cfg.base, s, t);
}

/* "csv, postgres, http or s3": the registered kinds, for messages. */
static const char *kind_names(pj_file *f, bool with_or)
{
	const sl_source_kind *const *kinds = sl_source_kinds();
	sl_buf b = SL_BUF_INIT;
	for (int i = 0; kinds[i]; i++)
		sl_buf_printf(&b, "%s%s", i == 0 ? "" : with_or && !kinds[i + 1] ? " or " : ", ",
			      kinds[i]->name);
	char *s = sl_arena_strdup(f->arena, b.data ? b.data : "");
	sl_buf_free(&b);
	return s;
}

/* Loads one source file into s; *name_line gets the line of "source:". */
static int load_source(sl_project *p, pj_file *f, sl_source *s)
{
	yaml_node_t *root = pj_root(f);
	int rc, line = 1, kind = -1;

	if (!root || pj_is_null(root))
		return pj_err(f, 1, "the file is empty; a source needs source:, kind: and "
			      "tables:");
	if (root->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(root), "a source file must be a mapping (source:, kind:, "
			      "tables:), not %s", pj_kind_name(root));
	const char *const *valid = all_keys(f, source_keys, false);
	if (!valid)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_check_keys(f, root, valid, "")) < 0)
		return rc;
	pj_get(f, root, "source", &line);
	s->line = line;
	if ((rc = pj_get_str(f, root, "source", "", &s->name)) < 0)
		return rc;
	if (!s->name)
		return pj_err(f, 1, "missing required key \"source\" (the source's name, e.g. "
			      "source: shop_db)");
	if ((rc = pj_check_name_len(f, line, "source name", s->name)) < 0)
		return rc;
	if (!pj_is_ident(s->name))
		return pj_err(f, line, "source name \"%s\" must start with a letter or _ and hold "
			      "only letters, digits and _", s->name);
	const sl_source_kind *const *kinds = sl_source_kinds();
	int nkinds = 0;
	while (kinds[nkinds])
		nkinds++;
	const char **names = sl_arena_alloc(f->arena, sizeof *names * (size_t)(nkinds + 1));
	const char *listed = kind_names(f, true);
	if (!names || !listed)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	for (int i = 0; i <= nkinds; i++)
		names[i] = kinds[i] ? kinds[i]->name : NULL;
	if (!pj_get(f, root, "kind", &line) || pj_is_null(pj_get(f, root, "kind", NULL)))
		return pj_err(f, s->line, "missing required key \"kind\" in source \"%s\"; use "
			      "%s", s->name, listed);
	if ((rc = pj_get_enum(f, root, "kind", "", names, &kind)) < 0)
		return rc;
	s->kind = kinds[kind];
	if ((rc = check_kind_keys(f, s, root, source_keys, false, "")) < 0)
		return rc;
	if (s->kind->parse_source) {
		pj_config cfg;
		cfg_init(&cfg, f, root, "");
		if ((rc = s->kind->parse_source(&cfg.base, s)) < 0)
			return rc;
	}

	/* Task policy and tags (project_policy.c). */
	sl_source_policy *pol = &p->policies[s - p->sources];
	const char *swhere = sl_arena_sprintf(f->arena, " in source \"%s\"", s->name);
	if (!swhere)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_load_policy(f, root, swhere, true, &pol->source)) < 0)
		return rc;

	yaml_node_t *tv = pj_get(f, root, "tables", &line);
	if (pj_is_null(tv))
		return pj_err(f, tv ? line : s->line, "source \"%s\" has no tables; add "
			      "tables: with at least one {name: ...}", s->name);
	if (tv->type != YAML_SEQUENCE_NODE)
		return pj_err(f, pj_line(tv), "\"tables\" in source \"%s\" must be a list "
			      "(- name: ...), not %s", s->name, pj_kind_name(tv));
	int n = (int)(tv->data.sequence.items.top - tv->data.sequence.items.start);
	if (n == 0)
		return pj_err(f, line, "source \"%s\" has no tables; add at least one", s->name);
	s->tables = sl_arena_alloc(&p->arena, sizeof *s->tables * (size_t)n);
	if (!s->tables)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	memset(s->tables, 0, sizeof *s->tables * (size_t)n);
	pol->tables = sl_arena_alloc(&p->arena, sizeof *pol->tables * (size_t)n);
	if (!pol->tables)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *tn = yaml_document_get_node(&f->doc, tv->data.sequence.items.start[i]);
		sl_source_table *t = &s->tables[i];
		if ((rc = load_table(f, s, tn, i, t, &pol->tables[i])) < 0)
			return rc;
		for (int j = 0; j < i; j++)
			if (strcmp(s->tables[j].name, t->name) == 0)
				return pj_err(f, t->line, "duplicate table \"%s\" in source \"%s\" "
					      "(first defined on line %d); rename or remove one",
					      t->name, s->name, s->tables[j].line);
		s->ntables = i + 1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pj_load_sources(sl_project *p, sl_error *err)
{
	char *dir = sl_arena_sprintf(&p->arena, "%s/sources", p->dir);
	char **names = NULL;
	int n = 0, cap = 0, rc = 0;
	DIR *d;
	struct dirent *de;

	if (!dir)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sl_error_set(err, SL_EIO, "cannot read %s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !(sl_str_ends_with(de->d_name, ".yml") || sl_str_ends_with(de->d_name, ".yaml")))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			char **nn = sl_realloc(names, sizeof *names * (size_t)ncap);
			if (!nn) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = sl_arena_sprintf(&p->arena, "sources/%s", de->d_name);
		if (!names[n]) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n == 0)
		goto out;
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	p->sources = sl_arena_alloc(&p->arena, sizeof *p->sources * (size_t)n);
	p->policies = sl_arena_alloc(&p->arena, sizeof *p->policies * (size_t)n);
	if (!p->sources || !p->policies) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	memset(p->sources, 0, sizeof *p->sources * (size_t)n);
	memset(p->policies, 0, sizeof *p->policies * (size_t)n);
	for (int i = 0; i < n; i++) {
		sl_source *s = &p->sources[i];
		pj_file f;
		char *path = sl_arena_sprintf(&p->arena, "%s/%s", p->dir, names[i]);
		if (!path) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		s->file = names[i];
		rc = pj_file_open(&f, path, names[i], &p->arena, err);
		if (rc == 0)
			rc = load_source(p, &f, s);
		pj_file_close(&f);
		if (rc < 0)
			goto out;
		for (int j = 0; j < i; j++) {
			if (strcmp(p->sources[j].name, s->name) == 0) {
				rc = sl_error_set(err, SL_ECONFIG, "%s:%d: duplicate source \"%s\" "
						  "(also defined at %s:%d); rename one of them",
						  s->file, s->line, s->name, p->sources[j].file,
						  p->sources[j].line);
				goto out;
			}
		}
		p->nsources = i + 1;
	}
out:
	closedir(d);
	sl_free(names);
	return rc;
}
