/*
 * project_dbt.c: loading a dbt project — dbt_project.yml's name, profile
 * and vars, and the profile's outputs from profiles.yml (found where dbt
 * finds it) as sl_targets the warehouse adapters open. `{{ env_var('X') }}`
 * and `{{ env_var('X', 'default') }}` in either file read the environment;
 * values read from it are registered for redaction as ${VAR}'s are. The
 * model paths and config trees of dbt_project.yml are read by models/.
 */
#include "project/project_int.h"
#include "template/template.h"
#include "warehouse/warehouse.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ env_var() */

typedef struct dbt_env {
	pj_file *f;
	int line;
} dbt_env;

static int env_lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a,
		      sl_error *err)
{
	if (strcmp(name, "env_var") == 0) {
		*out = sl_tpl_callable("env_var", NULL);
		return 1;
	}
	return 0;
}

static int env_call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		    const sl_tpl_kwarg *kwargs, size_t nkwargs, sl_tpl_value *out, sl_arena *a,
		    sl_error *err)
{
	dbt_env *e = ud;
	if (nargs < 1 || nargs > 2 || args[0].type != SL_TPL_STRING || nkwargs)
		return sl_error_set(err, SL_ECONFIG, "env_var takes a name and an optional "
				    "default: env_var('NAME') or env_var('NAME', 'default')");
	const char *name = args[0].u.str.s;
	const char *val = getenv(name);
	if (val) {
		/* through ${NAME} so the value is registered as a secret */
		char *ref = sl_arena_sprintf(a, "${%s}", name), *v = NULL;
		if (!ref)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		int rc = pj_is_ident(name) ? sl_project_expand_env(&v, a, ref, e->f->display,
								   e->line, err)
					   : 0;
		if (rc < 0)
			return rc;
		if (!v)
			v = (char *)val;
		*out = sl_tpl_string(a, v, strlen(v));
		return out->type == SL_TPL_STRING ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (nargs == 2) {
		sl_buf b = SL_BUF_INIT;
		int rc = sl_tpl_value_write(&b, &args[1]);
		if (rc == 0)
			*out = sl_tpl_string(a, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		return rc < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory") : 0;
	}
	return sl_error_set(err, SL_ECONFIG, "Env var required but not provided: '%s'; export "
			    "it (export %s=...) or give a default: env_var('%s', 'value')", name,
			    name, name);
}

/*
 * *s rendered when it holds "{{": env_var() is the only function. The
 * text is replaced by an arena string.
 */
static int render_value(pj_file *f, int line, char **s)
{
	if (!*s || !strstr(*s, "{{"))
		return 0;
	sl_tpl *t = NULL;
	sl_buf b = SL_BUF_INIT;
	dbt_env e = {f, line};
	sl_tpl_env env = {&e, env_lookup, env_call};
	char name[300];
	snprintf(name, sizeof name, "%s:%d", f->display, line);
	int rc = sl_tpl_parse(&t, name, *s, strlen(*s), f->err);
	if (rc == 0)
		rc = sl_tpl_render(t, &env, &b, f->err);
	if (rc == 0) {
		*s = sl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
		if (!*s)
			rc = sl_error_set(f->err, SL_ENOMEM, "out of memory");
	} else if (rc != SL_ENOMEM) {
		/* "name:1:4: what" -> "display:line: what" */
		char what[sizeof f->err->message];
		const char *m = f->err->message;
		size_t n = strlen(name);
		if (strncmp(m, name, n) == 0 && m[n] == ':') {
			m += n + 1;
			m += strspn(m, "0123456789");
			m += *m == ':' ? 1 : 0;
			m += strspn(m, "0123456789");
			m += *m == ':' ? 1 : 0;
			m += strspn(m, " ");
		}
		snprintf(what, sizeof what, "%s", m);
		rc = pj_err(f, line, "%s", what);
	}
	sl_tpl_free(t);
	sl_buf_free(&b);
	return rc;
}

/* pj_get_str, then env_var() rendered. */
static int get_str(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		   char **out)
{
	yaml_node_t *v = pj_get(f, map, key, NULL);
	int rc = pj_get_str(f, map, key, where, out);
	if (rc == 0 && v && *out)
		rc = render_value(f, pj_line(v), out);
	return rc;
}

/* ------------------------------------------------------ dbt_project.yml */

static int load_dbt_project(sl_project *p, pj_file *f)
{
	yaml_node_t *root = pj_root(f);
	int rc;
	if (!root || root->type != YAML_MAPPING_NODE)
		return pj_err(f, root ? pj_line(root) : 1, "dbt_project.yml must be a mapping "
			      "with at least \"name: my_project\"");
	if ((rc = get_str(f, root, "name", "", &p->name)) < 0)
		return rc;
	if (!p->name || !*p->name)
		return pj_err(f, 1, "missing required key \"name\"; add \"name: my_project\"");
	if (!pj_is_ident(p->name))
		return pj_err(f, pj_line(pj_get(f, root, "name", NULL)), "project name \"%s\" must "
			      "be letters, digits and _ (dbt's rule)", p->name);
	if ((rc = get_str(f, root, "profile", "", &p->dbt_profile)) < 0)
		return rc;
	if (!p->dbt_profile)
		p->dbt_profile = p->name;
	yaml_node_t *vars = pj_get(f, root, "vars", NULL);
	if (vars && vars->type == YAML_MAPPING_NODE)
		return pj_get_kvs(f, root, "vars", "", true, &p->vars);
	if (vars && !pj_is_null(vars))
		return pj_err(f, pj_line(vars), "\"vars\" must be a mapping (name: value), not %s",
			      pj_kind_name(vars));
	return 0;
}

/* --------------------------------------------------------- profiles.yml */

/*
 * Where profiles.yml is: profiles_dir, $DBT_PROFILES_DIR, the project
 * folder, ~/.dbt/ — the first that holds one. *tried lists where it looked.
 */
static char *find_profiles(sl_project *p, const char *profiles_dir, sl_buf *tried)
{
	const char *dirs[4];
	const char *why[4] = {"--profiles-dir", "DBT_PROFILES_DIR", "the project folder",
			      "~/.dbt"};
	char home[PATH_MAX] = "";
	const char *env = getenv("DBT_PROFILES_DIR");
	const char *h = getenv("HOME");
	if (h && *h)
		snprintf(home, sizeof home, "%s/.dbt", h);
	dirs[0] = profiles_dir;
	dirs[1] = env && *env ? env : NULL;
	dirs[2] = p->dir;
	dirs[3] = home[0] ? home : NULL;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "%s", p->dir);
	for (int i = 0; i < 4; i++) {
		if (!dirs[i])
			continue;
		/* --profiles-dir and DBT_PROFILES_DIR are relative to where
		 * sluice runs, as for dbt */
		char *path = pj_abs_path(&p->arena, i < 2 ? cwd : p->dir, dirs[i]);
		char *file = path ? sl_arena_sprintf(&p->arena, "%s/profiles.yml", path) : NULL;
		if (!file)
			return NULL;
		sl_buf_printf(tried, "%s%s (%s)", tried->len ? ", " : "", file, why[i]);
		if (sl_path_exists(file))
			return file;
		/* an explicit --profiles-dir is where it must be */
		if (i == 0)
			return (char *)"";
	}
	return (char *)"";
}

static const char *const profile_keys[] = {"target", "outputs", NULL};

static const char *const postgres_keys[] = {
	"type", "host", "port", "user", "password", "pass", "dbname", "database", "schema",
	"threads", "sslmode", "keepalives_idle", "connect_timeout", "retries", "search_path",
	"role", "sslcert", "sslkey", "sslrootcert", "application_name", "raw_schema",
	NULL};
static const char *const sqlite_keys[] = {"type", "threads", "database", "schema",
					  "schemas_and_paths", "schema_directory", "path",
					  "raw_schema", "extensions", NULL};

/* Sets key of t from the output's key src (absent: nothing). */
static int copy_key(pj_file *f, yaml_node_t *o, sl_target *t, const char *src,
		    const char *key, const char *where)
{
	char *v = NULL;
	int rc = get_str(f, o, src, where, &v);
	if (rc < 0 || !v)
		return rc;
	return pj_target_set(f, t, key, v, pj_line(pj_get(f, o, src, NULL)));
}

/* An integer key checked for its range, stored as text. */
static int copy_int(pj_file *f, yaml_node_t *o, sl_target *t, const char *key, int64_t min,
		    int64_t max, const char *def, const char *where)
{
	char *v = NULL;
	int line = t->line;
	int rc = get_str(f, o, key, where, &v);
	if (rc < 0)
		return rc;
	if (!v && !def)
		return 0;
	if (v)
		line = pj_line(pj_get(f, o, key, NULL));
	else
		v = (char *)def;
	int64_t n;
	if (sl_parse_int64(v, strlen(v), &n) < 0 || n < min || n > max)
		return pj_err(f, line, "\"%s\"%s must be an integer between %lld and %lld, not "
			      "\"%s\"", key, where, (long long)min, (long long)max, v);
	if (strcmp(key, "port") == 0)
		t->port = (int)n;
	char *s = sl_arena_sprintf(f->arena, "%lld", (long long)n);
	if (!s)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	return pj_target_set(f, t, key, s, line);
}

static int set_default(pj_file *f, sl_target *t, const char *key, const char *def)
{
	if (sl_kvs_get(&t->settings, key))
		return 0;
	char *s = sl_arena_strdup(f->arena, def);
	if (!s)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	return pj_target_set(f, t, key, s, t->line);
}

static int load_postgres(pj_file *f, yaml_node_t *o, sl_target *t, const char *where)
{
	int rc;
	if ((rc = copy_key(f, o, t, "host", "host", where)) < 0 ||
	    (rc = copy_int(f, o, t, "port", 1, 65535, "5432", where)) < 0 ||
	    (rc = copy_key(f, o, t, "user", "user", where)) < 0 ||
	    (rc = copy_key(f, o, t, "pass", "password", where)) < 0 ||
	    (rc = copy_key(f, o, t, "password", "password", where)) < 0 ||
	    (rc = copy_key(f, o, t, "database", "dbname", where)) < 0 ||
	    (rc = copy_key(f, o, t, "dbname", "dbname", where)) < 0 ||
	    (rc = copy_key(f, o, t, "schema", "schema", where)) < 0 ||
	    (rc = copy_key(f, o, t, "sslmode", "sslmode", where)) < 0 ||
	    (rc = copy_key(f, o, t, "raw_schema", "raw_schema", where)) < 0)
		return rc;
	if (t->password)
		sl_log_add_secret(t->password);
	if (!t->dbname)
		return pj_err(f, t->line, "output \"%s\" needs \"dbname\" (the database to build "
			      "in)", t->name);
	if (!t->schema)
		return pj_err(f, t->line, "output \"%s\" needs \"schema\" (where models are "
			      "built, e.g. schema: analytics)", t->name);
	return 0;
}

/*
 * dbt-sqlite's schemas_and_paths {main: file.db, raw: raw.db, ...} as the
 * adapter reads it: one setting holding the mapping as JSON object text,
 * each file made absolute against the current directory (where dbt-sqlite
 * opens them); the file of "main" (else of the output's schema) is the
 * database unless sluice's path is given.
 */
static int load_schema_files(pj_file *f, yaml_node_t *o, sl_target *t, const char *cwd,
			     const char *where)
{
	sl_kvs kv = {0};
	int rc = pj_get_kvs(f, o, "schemas_and_paths", where, false, &kv);
	if (rc < 0)
		return rc;
	json_t *map = json_object();
	if (!map)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < kv.n && rc == 0; i++) {
		sl_kv *e = &kv.items[i];
		if ((rc = render_value(f, e->line, &e->value)) < 0)
			break;
		if (!*e->value) {
			rc = pj_err(f, e->line, "schemas_and_paths: schema \"%s\" needs a database "
				    "file, e.g. %s: ./%s.db", e->key, e->key, e->key);
			break;
		}
		char *file = strcmp(e->value, ":memory:") == 0
				     ? e->value
				     : pj_abs_path(f->arena, cwd, e->value);
		if (!file || json_object_set_new(map, e->key, json_string(file)) < 0)
			rc = sl_error_set(f->err, SL_ENOMEM, "out of memory");
	}
	char *text = rc == 0 ? json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(map);
	if (rc < 0)
		return rc;
	char *copy = text ? sl_arena_strdup(f->arena, text) : NULL;
	free(text);
	if (!copy)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_target_set(f, t, "schemas_and_paths", copy,
				pj_line(pj_get(f, o, "schemas_and_paths", NULL)))) < 0)
		return rc;
	/* the database as written: relative to the project folder below */
	const char *main = sl_kvs_get(&kv, "main");
	if (!main)
		main = sl_kvs_get(&kv, t->schema);
	if (!t->path && main)
		return pj_target_set(f, t, "path", (char *)main, t->line);
	return 0;
}

/* dbt-sqlite: schemas_and_paths, schema_directory; sluice's path. */
static int load_sqlite(sl_project *p, pj_file *f, yaml_node_t *o, sl_target *t,
		       const char *where)
{
	int rc;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "%s", p->dir);
	if ((rc = copy_key(f, o, t, "schema", "schema", where)) < 0 ||
	    (rc = copy_key(f, o, t, "database", "database", where)) < 0 ||
	    (rc = copy_key(f, o, t, "raw_schema", "raw_schema", where)) < 0 ||
	    (rc = copy_key(f, o, t, "schema_directory", "schema_directory", where)) < 0 ||
	    (rc = copy_key(f, o, t, "path", "path", where)) < 0)
		return rc;
	if (!t->schema && (rc = set_default(f, t, "schema", "main")) < 0)
		return rc;
	const char *dir = sl_kvs_get(&t->settings, "schema_directory");
	if (dir && *dir) {
		char *abs = pj_abs_path(f->arena, cwd, dir);
		if (!abs)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		for (int i = 0; i < t->settings.n; i++)
			if (strcmp(t->settings.items[i].key, "schema_directory") == 0)
				t->settings.items[i].value = abs;
	}
	yaml_node_t *sp = pj_get(f, o, "schemas_and_paths", NULL);
	if (sp && !pj_is_null(sp) && (rc = load_schema_files(f, o, t, cwd, where)) < 0)
		return rc;
	if (!t->path)
		return pj_err(f, t->line, "output \"%s\" needs the database file: "
			      "schemas_and_paths: {main: ./warehouse.db} (or sluice's path: "
			      "./warehouse.db)", t->name);
	if (!*t->path)
		return pj_err(f, t->line, "the database file of output \"%s\" is empty; name it, "
			      "e.g. ./warehouse.db", t->name);
	t->path_abs = strcmp(t->path, ":memory:") == 0 ? t->path
						      : pj_abs_path(f->arena, p->dir, t->path);
	return t->path_abs ? 0 : sl_error_set(f->err, SL_ENOMEM, "out of memory");
}

static int load_output(sl_project *p, pj_file *f, yaml_node_t *k, yaml_node_t *o,
		       sl_target *t, bool selected)
{
	int rc;
	t->name = sl_arena_strdup(f->arena, (const char *)k->data.scalar.value);
	t->line = pj_line(k);
	if (!t->name)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (o->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(o), "output \"%s\" of profile \"%s\" must be a mapping "
			      "like {type: postgres, host: ..., dbname: ..., schema: ...}, not %s",
			      t->name, p->dbt_profile, pj_kind_name(o));
	yaml_node_t *type = pj_get(f, o, "type", NULL);
	if (!type || type->type != YAML_SCALAR_NODE || pj_is_null(type))
		return pj_err(f, t->line, "output \"%s\" needs a type: postgres or sqlite", t->name);
	if (!selected) {
		/* only the selected output's values (and env vars) are read */
		t->type = sl_arena_strdup(f->arena, (const char *)type->data.scalar.value);
		t->resolved = false;
		return t->type ? 0 : sl_error_set(f->err, SL_ENOMEM, "out of memory");
	}
	const char *where = sl_arena_sprintf(f->arena, " in output \"%s\"", t->name);
	if (!where)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	char *tname = NULL;
	if ((rc = get_str(f, o, "type", where, &tname)) < 0)
		return rc;
	bool pg = strcmp(tname, "postgres") == 0 || strcmp(tname, "postgresql") == 0;
	bool sq = strcmp(tname, "sqlite") == 0;
	if (!pg && !sq)
		return pj_err(f, pj_line(type), "output \"%s\" has type \"%s\", which sluice does "
			      "not run; use postgres or sqlite", t->name, tname);
	t->type = pg ? "postgres" : "sqlite";
	t->resolved = true;
	if ((rc = pj_check_keys(f, o, pg ? postgres_keys : sqlite_keys, where)) < 0)
		return rc;
	if ((rc = copy_int(f, o, t, "threads", 1, 1024, "1", where)) < 0)
		return rc;
	rc = pg ? load_postgres(f, o, t, where) : load_sqlite(p, f, o, t, where);
	/* a dbt project loads no raw tables: opening the warehouse must not
	 * create a schema (or, on SQLite, a file) dbt would not */
	if (rc == 0)
		rc = set_default(f, t, "raw_schema", t->schema);
	return rc;
}

/* Names of the mapping's keys, "a, b, c", in the arena. */
static const char *key_list(pj_file *f, yaml_node_t *m, const char ***names)
{
	sl_buf b = SL_BUF_INIT;
	int n = pj_map_len(m);
	*names = sl_arena_alloc(f->arena, sizeof **names * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, m, i, &k, &v);
		const char *s = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
		sl_buf_printf(&b, "%s%s", i ? ", " : "", s);
		if (*names)
			(*names)[i] = s;
	}
	if (*names)
		(*names)[n] = NULL;
	const char *s = sl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
	sl_buf_free(&b);
	return s ? s : "";
}

static int load_profile(sl_project *p, pj_file *f, const char *want)
{
	yaml_node_t *root = pj_root(f);
	int rc, line = 1;
	const char **names;
	if (!root || root->type != YAML_MAPPING_NODE)
		return pj_err(f, root ? pj_line(root) : 1, "profiles.yml must be a mapping of "
			      "profile names to {target: ..., outputs: ...}");
	yaml_node_t *prof = pj_get(f, root, p->dbt_profile, &line);
	if (!prof) {
		const char *list = key_list(f, root, &names);
		const char *s = names ? pj_suggest(p->dbt_profile, names) : NULL;
		if (s)
			return pj_err(f, 1, "no profile \"%s\" (dbt_project.yml's profile); did you "
				      "mean \"%s\"?", p->dbt_profile, s);
		return pj_err(f, 1, "no profile \"%s\" (dbt_project.yml's profile); profiles "
			      "here: %s", p->dbt_profile, list);
	}
	const char *where = sl_arena_sprintf(f->arena, " in profile \"%s\"", p->dbt_profile);
	if (!where)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (prof->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(prof), "profile \"%s\" must be a mapping with target and "
			      "outputs", p->dbt_profile);
	if ((rc = pj_check_keys(f, prof, profile_keys, where)) < 0)
		return rc;
	int oline = line;
	yaml_node_t *outs = pj_get(f, prof, "outputs", &oline);
	if (!outs || outs->type != YAML_MAPPING_NODE || pj_map_len(outs) == 0)
		return pj_err(f, oline, "profile \"%s\" needs \"outputs\": a mapping of target "
			      "names to connections, e.g. dev: {type: sqlite, schema: main, "
			      "schemas_and_paths: {main: ./dev.db}}", p->dbt_profile);
	int tline = line;
	pj_get(f, prof, "target", &tline);
	if ((rc = get_str(f, prof, "target", where, &p->target)) < 0)
		return rc;
	const char *how = "";
	if (want) {
		p->target = sl_arena_strdup(&p->arena, want);
		how = " (from --target)";
		if (!p->target)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	} else if (!p->target) {
		p->target = "default";
	}
	if (!pj_get(f, outs, p->target, NULL)) {
		const char *list = key_list(f, outs, &names);
		const char *s = names ? pj_suggest(p->target, names) : NULL;
		if (s)
			return pj_err(f, tline, "target \"%s\"%s is not an output of profile \"%s\"; "
				      "did you mean \"%s\"?", p->target, how, p->dbt_profile, s);
		return pj_err(f, tline, "target \"%s\"%s is not an output of profile \"%s\" "
			      "(outputs: %s)", p->target, how, p->dbt_profile, list);
	}
	int n = pj_map_len(outs);
	p->targets = sl_arena_alloc(&p->arena, sizeof *p->targets * (size_t)n);
	if (!p->targets)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	memset(p->targets, 0, sizeof *p->targets * (size_t)n);
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, outs, i, &k, &v);
		if (k->type != YAML_SCALAR_NODE)
			return pj_err(f, pj_line(k), "output names must be plain names, not %s",
				      pj_kind_name(k));
		bool sel = strcmp((const char *)k->data.scalar.value, p->target) == 0;
		if ((rc = load_output(p, f, k, v, &p->targets[i], sel)) < 0)
			return rc;
		p->ntargets = i + 1;
	}
	return 0;
}

/* --------------------------------------------------------------- loading */

static int new_project(sl_project **out, const char *dir, const char *file, sl_error *err)
{
	char real[PATH_MAX];
	sl_project *p = NULL;
	if (!realpath(dir ? dir : ".", real))
		return sl_error_set(err, SL_ECONFIG, "project directory %s: %s; pass "
				    "--project-dir with the folder holding %s",
				    dir ? dir : ".", strerror(errno), file);
	int rc = sl_alloc_zeroed((void **)&p, sizeof *p, err);
	if (rc < 0)
		return rc;
	sl_arena_init(&p->arena, 16 * 1024);
	p->dir = sl_arena_strdup(&p->arena, real);
	p->file = p->dir ? sl_arena_sprintf(&p->arena, "%s/%s", p->dir, file) : NULL;
	p->lake_commit_lock = "none";
	pj_policy_unset(&p->defaults);
	if (!p->file) {
		sl_project_free(p);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

int sl_project_load_dbt(sl_project **out, const char *dir, const char *profiles_dir,
			const char *target, sl_error *err)
{
	sl_project *p = NULL;
	pj_file f;
	sl_buf tried = SL_BUF_INIT;
	int rc;

	memset(&f, 0, sizeof f);
	*out = NULL;
	if ((rc = new_project(&p, dir, "dbt_project.yml", err)) < 0)
		return rc;
	if (!sl_path_exists(p->file)) {
		rc = sl_error_set(err, SL_ECONFIG, "no dbt_project.yml in %s; pass --project-dir "
				  "with the folder holding it", p->dir);
		goto fail;
	}
	rc = pj_file_open(&f, p->file, "dbt_project.yml", &p->arena, err);
	if (rc == 0)
		rc = load_dbt_project(p, &f);
	pj_file_close(&f);
	if (rc < 0)
		goto fail;

	p->profiles_file = find_profiles(p, profiles_dir, &tried);
	if (!p->profiles_file) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	if (!*p->profiles_file) {
		rc = sl_error_set(err, SL_ECONFIG, "no profiles.yml for profile \"%s\": looked "
				  "at %s; create one (e.g. ~/.dbt/profiles.yml) or pass "
				  "--profiles-dir", p->dbt_profile, tried.data ? tried.data : "");
		goto fail;
	}
	rc = pj_file_open(&f, p->profiles_file, p->profiles_file, &p->arena, err);
	if (rc == 0)
		rc = load_profile(p, &f, target);
	pj_file_close(&f);
	if (rc < 0)
		goto fail;
	sl_buf_free(&tried);
	*out = p;
	return 0;
fail:
	sl_buf_free(&tried);
	sl_project_free(p);
	return rc;
}

int sl_project_open(sl_project **out, const char *dir, const char *profiles_dir,
		    const char *target, sl_error *err)
{
	char *sluice = sl_path_join(dir ? dir : ".", "sluice.yml");
	char *dbt = sl_path_join(dir ? dir : ".", "dbt_project.yml");
	int rc;
	*out = NULL;
	if (!sluice || !dbt) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	} else if (sl_path_exists(sluice)) {
		rc = sl_project_load_target(out, dir, target, err);
	} else if (sl_path_exists(dbt)) {
		rc = sl_project_load_dbt(out, dir, profiles_dir, target, err);
	} else {
		rc = sl_error_set(err, SL_ECONFIG, "no sluice.yml or dbt_project.yml in %s; run "
				  "`sluice init` to create a project, or pass --project-dir",
				  dir ? dir : ".");
	}
	sl_free(sluice);
	sl_free(dbt);
	return rc;
}
