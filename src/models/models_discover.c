/*
 * models_discover.c: what a project holds — the root package
 * (dbt_project.yml, or a sluice project's defaults), local packages
 * (packages.yml / dependencies.yml `local:` entries and dbt_packages/),
 * and their files: models (*.sql), seeds (*.csv), snapshots ({% snapshot
 * %} blocks), macro files, properties YAML and docs (.md).
 */
#include "models/models_macros.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define M_MAX_FILE (16u << 20)

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

/* A path list key of dbt_project.yml (string or list); def when absent. */
static int path_list(sl_models *m, yaml_document_t *doc, yaml_node_t *root, const char *key,
		     const char *alt, const char *def, const char *const **out, int *n,
		     sl_error *err)
{
	yaml_node_t *v = m_yaml_get(doc, root, key);
	if (!v && alt)
		v = m_yaml_get(doc, root, alt);
	const char **items;
	if (!v || (v->type == YAML_SCALAR_NODE && !*m_yaml_str(v))) {
		items = sl_arena_alloc(&m->arena, sizeof *items);
		if (!items)
			return oom(err);
		items[0] = def;
		*out = items;
		*n = 1;
		return 0;
	}
	if (v->type == YAML_SCALAR_NODE) {
		items = sl_arena_alloc(&m->arena, sizeof *items);
		if (!items || !(items[0] = m_strdup(m, m_yaml_str(v))))
			return oom(err);
		*out = items;
		*n = 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return sl_error_set(err, SL_ECONFIG, "dbt_project.yml:%zu: \"%s\" must be a list of "
				    "folders, e.g. [\"%s\"]", v->start_mark.line + 1, key, def);
	int len = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
	items = sl_arena_alloc(&m->arena, sizeof *items * (size_t)(len + 1));
	if (!items)
		return oom(err);
	for (int i = 0; i < len; i++) {
		const char *s = m_yaml_str(yaml_document_get_node(doc,
								  v->data.sequence.items.start[i]));
		if (!s)
			return sl_error_set(err, SL_ECONFIG, "dbt_project.yml:%zu: items of \"%s\" "
					    "must be folder names", v->start_mark.line + 1, key);
		if (!(items[i] = m_strdup(m, s)))
			return oom(err);
	}
	*out = items;
	*n = len;
	return 0;
}

static const char *const *default_paths(sl_models *m, const char *def, int *n)
{
	const char **items = sl_arena_alloc(&m->arena, sizeof *items);
	if (items)
		items[0] = def;
	*n = 1;
	return items;
}

/* Reads dir/dbt_project.yml into pkg. */
static int read_package(sl_models *m, m_package *pkg, const char *dir, bool root,
			sl_error *err)
{
	yaml_document_t doc;
	char *file = sl_path_join(dir, "dbt_project.yml");
	const char *display = root ? "dbt_project.yml" : file;
	int rc;
	if (!file)
		return oom(err);
	display = m_strdup(m, display);
	if (!display) {
		sl_free(file);
		return oom(err);
	}
	rc = m_yaml_load(&doc, file, display, err);
	sl_free(file);
	if (rc < 0)
		return rc;
	yaml_node_t *r = yaml_document_get_root_node(&doc);
	pkg->dir = m_strdup(m, dir);
	pkg->root = root;
	const char *name = m_yaml_str(m_yaml_get(&doc, r, "name"));
	if (!name || !*name) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:1: missing required key \"name\"", display);
		goto done;
	}
	pkg->name = m_strdup(m, name);
	if ((rc = path_list(m, &doc, r, "model-paths", "source-paths", "models", &pkg->model_paths,
			    &pkg->nmodel_paths, err)) < 0 ||
	    (rc = path_list(m, &doc, r, "seed-paths", "data-paths", "seeds", &pkg->seed_paths,
			    &pkg->nseed_paths, err)) < 0 ||
	    (rc = path_list(m, &doc, r, "snapshot-paths", NULL, "snapshots",
			    &pkg->snapshot_paths, &pkg->nsnapshot_paths, err)) < 0 ||
	    (rc = path_list(m, &doc, r, "macro-paths", NULL, "macros", &pkg->macro_paths,
			    &pkg->nmacro_paths, err)) < 0 ||
	    (rc = path_list(m, &doc, r, "test-paths", NULL, "tests", &pkg->test_paths,
			    &pkg->ntest_paths, err)) < 0)
		goto done;
	const char *tp = m_yaml_str(m_yaml_get(&doc, r, "target-path"));
	if (root && tp && *tp && !(m->target_path = m_strdup(m, tp))) {
		rc = oom(err);
		goto done;
	}
	pkg->models_tree = m_yaml_value(&doc, m_yaml_get(&doc, r, "models"), &m->arena);
	pkg->seeds_tree = m_yaml_value(&doc, m_yaml_get(&doc, r, "seeds"), &m->arena);
	pkg->snapshots_tree = m_yaml_value(&doc, m_yaml_get(&doc, r, "snapshots"), &m->arena);
	pkg->tests_tree = m_yaml_value(&doc, m_yaml_get(&doc, r, "data_tests"), &m->arena);
	if (pkg->tests_tree.type != SL_TPL_DICT)
		pkg->tests_tree = m_yaml_value(&doc, m_yaml_get(&doc, r, "tests"), &m->arena);
	pkg->vars = m_yaml_value(&doc, m_yaml_get(&doc, r, "vars"), &m->arena);
	if (root && (m_yaml_get(&doc, r, "on-run-start") || m_yaml_get(&doc, r, "on-run-end")))
		sl_log(SL_LOG_INFO, "dbt_project.yml: on-run-start and on-run-end hooks are not "
		       "run by sluice; they are ignored");
	if (!pkg->name || !pkg->dir)
		rc = oom(err);
done:
	yaml_document_delete(&doc);
	return rc;
}

/* A sluice project's vars are text (lists and mappings as JSON): typed again. */
static int sluice_vars(sl_models *m, sl_tpl_value *out, sl_error *err)
{
	*out = sl_tpl_dict_new(&m->arena);
	if (out->type != SL_TPL_DICT)
		return oom(err);
	const sl_project *p = m->o.project;
	for (int i = 0; p && i < p->vars.n; i++) {
		sl_tpl_value v;
		const char *text = p->vars.items[i].value;
		int rc = m_yaml_parse_text(&v, *text ? text : "''", "sluice.yml vars", &m->arena,
					   err);
		if (rc < 0)
			return rc;
		if (v.type == SL_TPL_NONE && *text)
			v = sl_tpl_string(&m->arena, text, strlen(text));
		if (sl_tpl_dict_set(&m->arena, out->u.dict, p->vars.items[i].key, v) < 0)
			return oom(err);
	}
	return 0;
}

static int add_package(sl_models *m, m_package **out, sl_error *err)
{
	m_package *np = sl_arena_alloc(&m->arena, sizeof *np * (size_t)(m->npkgs + 1));
	if (!np)
		return oom(err);
	if (m->npkgs)
		memcpy(np, m->pkgs, sizeof *np * (size_t)m->npkgs);
	memset(&np[m->npkgs], 0, sizeof *np);
	m->pkgs = np;
	*out = &np[m->npkgs++];
	return 0;
}

static bool have_package(sl_models *m, const char *name)
{
	for (int i = 0; i < m->npkgs; i++)
		if (strcmp(m->pkgs[i].name, name) == 0)
			return true;
	return false;
}

/* A package at dir (absolute); a second one of the same name is skipped. */
static int load_package_dir(sl_models *m, const char *dir, sl_error *err)
{
	m_package tmp;
	memset(&tmp, 0, sizeof tmp);
	int rc = read_package(m, &tmp, dir, false, err);
	if (rc < 0)
		return rc;
	if (have_package(m, tmp.name))
		return 0;
	m_package *p = NULL;
	if ((rc = add_package(m, &p, err)) < 0)
		return rc;
	*p = tmp;
	return 0;
}

/* packages.yml or dependencies.yml: `local:` entries. */
static int read_packages_file(sl_models *m, const char *file, const char *display,
			      bool installed, sl_error *err)
{
	yaml_document_t doc;
	int rc = m_yaml_load(&doc, file, display, err);
	if (rc < 0)
		return rc;
	yaml_node_t *l = m_yaml_get(&doc, yaml_document_get_root_node(&doc), "packages");
	for (yaml_node_item_t *it = l && l->type == YAML_SEQUENCE_NODE
					    ? l->data.sequence.items.start
					    : NULL;
	     it && it < l->data.sequence.items.top && rc == 0; it++) {
		yaml_node_t *e = yaml_document_get_node(&doc, *it);
		const char *local = m_yaml_str(m_yaml_get(&doc, e, "local"));
		if (!local) {
			const char *name = m_yaml_str(m_yaml_get(&doc, e, "package"));
			if (!name)
				name = m_yaml_str(m_yaml_get(&doc, e, "git"));
			if (!installed)
				rc = sl_error_set(err, SL_ECONFIG, "%s:%zu: package \"%s\" is not a "
						  "local package and dbt_packages/ has none; install "
						  "it with `dbt deps` or copy it into the project and "
						  "use `local: path`", display, e->start_mark.line + 1,
						  name ? name : "?");
			continue;
		}
		char *dir = local[0] == '/' ? sl_strdup(local) : sl_path_join(m->project_dir, local);
		if (!dir) {
			rc = oom(err);
			break;
		}
		char *proj = sl_path_join(dir, "dbt_project.yml");
		if (!proj || !sl_path_exists(proj))
			rc = proj ? sl_error_set(err, SL_ECONFIG, "%s:%zu: local package \"%s\" has "
						 "no dbt_project.yml; point local: at the "
						 "package's folder", display,
						 e->start_mark.line + 1, local)
				  : oom(err);
		else
			rc = load_package_dir(m, dir, err);
		sl_free(proj);
		sl_free(dir);
	}
	yaml_document_delete(&doc);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (no hidden ones), sorted; *out freed by free_names. */
static int list_dir(const char *dir, char ***out, int *n)
{
	DIR *d = opendir(dir);
	*out = NULL;
	*n = 0;
	if (!d)
		return 0;
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = sl_realloc(*out, sizeof *nv * (size_t)cap);
			if (!nv)
				goto nomem;
			*out = nv;
		}
		if (!((*out)[*n] = sl_strdup(e->d_name)))
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*out, (size_t)*n, sizeof **out, cmp_str);
	return 0;
nomem:
	closedir(d);
	return SL_ENOMEM;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		sl_free(names[i]);
	sl_free(names);
}

static int load_installed(sl_models *m, sl_error *err)
{
	char *dir = sl_path_join(m->project_dir, "dbt_packages");
	char **names;
	int n, rc;
	if (!dir)
		return oom(err);
	rc = list_dir(dir, &names, &n);
	for (int i = 0; rc == 0 && i < n; i++) {
		char *sub = sl_path_join(dir, names[i]);
		char *proj = sub ? sl_path_join(sub, "dbt_project.yml") : NULL;
		if (!proj)
			rc = oom(err);
		else if (sl_path_exists(proj))
			rc = load_package_dir(m, sub, err);
		sl_free(proj);
		sl_free(sub);
	}
	if (rc == SL_ENOMEM)
		rc = oom(err);
	free_names(names, n);
	sl_free(dir);
	return rc;
}

int m_load_packages(sl_models *m, sl_error *err)
{
	m_package *root = NULL;
	int rc = add_package(m, &root, err);
	if (rc < 0)
		return rc;
	char *dbt = sl_path_join(m->project_dir, "dbt_project.yml");
	char *sluice = sl_path_join(m->project_dir, "sluice.yml");
	if (!dbt || !sluice) {
		rc = oom(err);
		goto done;
	}
	if (!sl_path_exists(sluice) && sl_path_exists(dbt)) {
		rc = read_package(m, root, m->project_dir, true, err);
	} else {
		root->name = m_strdup(m, m->o.project && m->o.project->name ? m->o.project->name
									   : "project");
		root->dir = m_strdup(m, m->project_dir);
		root->root = true;
		root->model_paths = default_paths(m, "models", &root->nmodel_paths);
		root->seed_paths = default_paths(m, "seeds", &root->nseed_paths);
		root->snapshot_paths = default_paths(m, "snapshots", &root->nsnapshot_paths);
		root->macro_paths = default_paths(m, "macros", &root->nmacro_paths);
		root->test_paths = default_paths(m, "tests", &root->ntest_paths);
		if (!root->name || !root->dir || !root->model_paths || !root->seed_paths ||
		    !root->snapshot_paths || !root->macro_paths || !root->test_paths)
			rc = oom(err);
		if (rc == 0)
			rc = sluice_vars(m, &root->vars, err);
	}
	if (rc < 0)
		goto done;
	char *inst = sl_path_join(m->project_dir, "dbt_packages");
	bool installed = inst && sl_path_exists(inst);
	sl_free(inst);
	static const char *const files[] = {"packages.yml", "dependencies.yml"};
	for (int i = 0; i < 2 && rc == 0; i++) {
		char *f = sl_path_join(m->project_dir, files[i]);
		if (!f)
			rc = oom(err);
		else if (sl_path_exists(f))
			rc = read_packages_file(m, f, files[i], installed, err);
		sl_free(f);
	}
	if (rc == 0 && installed)
		rc = load_installed(m, err);
done:
	sl_free(dbt);
	sl_free(sluice);
	return rc;
}

/* ------------------------------------------------------------ the files */

int m_add_node(sl_models *m, m_node *n, sl_error *err)
{
	/* two of one name are an error once both are known to be enabled
	 * (sl_models_open), as in dbt */
	if (m->nnodes == m->capnodes) {
		int cap = m->capnodes ? m->capnodes * 2 : 64;
		m_node **nv = sl_realloc(m->nodes, sizeof *nv * (size_t)cap);
		if (!nv)
			return oom(err);
		m->nodes = nv;
		m->capnodes = cap;
	}
	m->nodes[m->nnodes++] = n;
	return 0;
}

static m_node *new_node(sl_models *m, m_package *pkg, sl_node_type type, const char *name,
			const char *rel, const char *file, const char *fqn_path)
{
	m_node *n = sl_arena_alloc(&m->arena, sizeof *n);
	if (!n)
		return NULL;
	memset(n, 0, sizeof *n);
	n->pkg = pkg;
	n->pub.type = type;
	n->pub.name = m_strdup(m, name);
	n->pub.package = pkg->name;
	n->pub.path = m_strdup(m, rel);
	n->pub.unique_id = sl_arena_sprintf(&m->arena, "%s.%s.%s", sl_node_type_name(type),
					    pkg->name, name);
	n->file = m_strdup(m, file);
	n->fqn_path = m_strdup(m, fqn_path);
	n->enabled = true;
	n->props_cfg.type = SL_TPL_UNDEFINED;
	n->file_cfg = sl_tpl_dict_new(&m->arena);
	if (!n->pub.name || !n->pub.path || !n->pub.unique_id || !n->file || !n->fqn_path ||
	    n->file_cfg.type != SL_TPL_DICT)
		return NULL;
	return n;
}

/* Reads file into an arena string. */
static int read_text(sl_models *m, const char *file, char **out, sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	int rc = sl_file_read_all(&b, file, M_MAX_FILE, err);
	if (rc == 0 && !(*out = sl_arena_strndup(&m->arena, b.data ? b.data : "", b.len)))
		rc = oom(err);
	sl_buf_free(&b);
	return rc;
}

/* Where a `{% NAME ... %}` tag starts at or after p: its bounds. */
static const char *find_tag(const char *p, const char *word, const char **after, bool *trim_l,
			    bool *trim_r, const char **arg, size_t *arglen)
{
	size_t wl = strlen(word);
	for (const char *q = strstr(p, "{%"); q; q = strstr(q + 2, "{%")) {
		const char *s = q + 2;
		bool tl = *s == '-';
		s += tl;
		s += strspn(s, " \t\r\n");
		if (strncmp(s, word, wl) != 0 || (s[wl] != ' ' && s[wl] != '\t' && s[wl] != '-' &&
						  s[wl] != '%' && s[wl] != '\n'))
			continue;
		s += wl;
		const char *end = strstr(s, "%}");
		if (!end)
			return NULL;
		const char *a = s + strspn(s, " \t\r\n");
		const char *ae = end;
		bool tr = ae > a && ae[-1] == '-';
		if (tr)
			ae--;
		while (ae > a && (ae[-1] == ' ' || ae[-1] == '\t' || ae[-1] == '\n' || ae[-1] == '\r'))
			ae--;
		*after = end + 2;
		*trim_l = tl;
		*trim_r = tr;
		if (arg) {
			*arg = a;
			*arglen = (size_t)(ae - a);
		}
		return q;
	}
	return NULL;
}

static int line_of(const char *text, const char *p)
{
	int line = 1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

/*
 * The `{% snapshot name %}...{% endsnapshot %}` blocks of a snapshot file,
 * each a snapshot node whose template is the block's body, preceded by as
 * many newlines as the body is down the file (so messages give the file's
 * lines).
 */
static int read_snapshots(sl_models *m, m_package *pkg, const char *file, const char *rel,
			  const char *folder, sl_error *err)
{
	char *text;
	int rc = read_text(m, file, &text, err);
	const char *p = text;
	if (rc < 0)
		return rc;
	for (;;) {
		const char *after, *arg, *eafter;
		size_t arglen;
		bool tl, tr, etl, etr;
		const char *q = find_tag(p, "snapshot", &after, &tl, &tr, &arg, &arglen);
		if (!q)
			break;
		const char *e = find_tag(after, "endsnapshot", &eafter, &etl, &etr, NULL, NULL);
		if (!e)
			return sl_error_set(err, SL_EFORMAT, "%s:%d: {%% snapshot %.*s %%} has no {%% "
					    "endsnapshot %%}; close the block", rel,
					    line_of(text, q), (int)arglen, arg);
		const char *body = after, *bend = e;
		if (tr)
			body += strspn(body, " \t\r\n");
		if (etl)
			while (bend > body && strchr(" \t\r\n", bend[-1]))
				bend--;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(arglen < 255 ? arglen : 255), arg);
		char fqn[600];
		snprintf(fqn, sizeof fqn, "%s%s%s", folder, *folder ? "/" : "", name);
		m_node *n = new_node(m, pkg, SL_NODE_SNAPSHOT, name, rel, file, fqn);
		if (!n)
			return oom(err);
		int lines = line_of(text, body) - 1;
		n->pad = lines;
		sl_buf b = SL_BUF_INIT;
		for (int i = 0; i < lines; i++)
			sl_buf_putc(&b, '\n');
		sl_buf_append(&b, body, (size_t)(bend - body));
		/* the block is a template of its own now, whose one trailing
		 * newline Jinja would drop; inside the file it stays */
		if (bend > body && bend[-1] == '\n')
			sl_buf_putc(&b, '\n');
		n->text = sl_arena_strndup(&m->arena, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		if (!n->text)
			return oom(err);
		if ((rc = m_add_node(m, n, err)) < 0)
			return rc;
		p = eafter;
	}
	return 0;
}

typedef enum { R_MODELS, R_SEEDS, R_SNAPSHOTS, R_MACROS } m_res;


/* One file of a resource folder. */
static int visit_file(sl_models *m, m_package *pkg, m_res res, const char *file,
		      const char *rel, const char *sub, const char *base, sl_error *err)
{
	size_t bl = strlen(base);
	char stem[512];
	const char *dot = strrchr(base, '.');
	snprintf(stem, sizeof stem, "%.*s", (int)(dot ? (size_t)(dot - base) : bl), base);
	char fqn[1024];
	snprintf(fqn, sizeof fqn, "%s%s%s", sub, *sub ? "/" : "", stem);
	if (sl_str_ends_with(base, ".yml") || sl_str_ends_with(base, ".yaml"))
		return m_read_properties(m, pkg, file, rel, err);
	if (sl_str_ends_with(base, ".md"))
		return m_read_docs(m, file, err);
	switch (res) {
	case R_MODELS:
		if (sl_str_ends_with(base, ".py"))
			return sl_error_set(err, SL_ECONFIG, "%s: Python models are not supported by "
					    "sluice; write the model in SQL", rel);
		if (sl_str_ends_with(base, ".sql")) {
			m_node *n = new_node(m, pkg, SL_NODE_MODEL, stem, rel, file, fqn);
			if (!n)
				return oom(err);
			int rc = read_text(m, file, &n->text, err);
			return rc < 0 ? rc : m_add_node(m, n, err);
		}
		return 0;
	case R_SEEDS:
		if (sl_str_ends_with(base, ".csv")) {
			m_node *n = new_node(m, pkg, SL_NODE_SEED, stem, rel, file, fqn);
			return n ? m_add_node(m, n, err) : oom(err);
		}
		return 0;
	case R_SNAPSHOTS:
		if (sl_str_ends_with(base, ".sql"))
			return read_snapshots(m, pkg, file, rel, sub, err);
		return 0;
	case R_MACROS:
		if (sl_str_ends_with(base, ".sql"))
			return m_add_macro_file(m, pkg, file, rel, err);
		return 0;
	}
	return 0;
}

/* Walks dir (abs), whose path relative to the package is rel, sub the
 * folders below the resource path. */
static int walk(sl_models *m, m_package *pkg, m_res res, const char *dir, const char *rel,
		const char *sub, int depth, sl_error *err)
{
	char **names;
	int n, rc = 0;
	if (depth > 32)
		return 0;
	if (list_dir(dir, &names, &n) < 0)
		return oom(err);
	for (int i = 0; i < n && rc == 0; i++) {
		char *abs = sl_path_join(dir, names[i]);
		char *r = sl_path_join(rel, names[i]);
		char *s = *sub ? sl_path_join(sub, names[i]) : sl_strdup(names[i]);
		struct stat st;
		if (!abs || !r || !s)
			rc = oom(err);
		else if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode))
			rc = walk(m, pkg, res, abs, r, s, depth + 1, err);
		else if (stat(abs, &st) == 0)
			rc = visit_file(m, pkg, res, abs, r, sub, names[i], err);
		sl_free(abs);
		sl_free(r);
		sl_free(s);
	}
	free_names(names, n);
	return rc;
}

static int walk_paths(sl_models *m, m_package *pkg, m_res res, const char *const *paths,
		      int npaths, sl_error *err)
{
	for (int i = 0; i < npaths; i++) {
		char *dir = sl_path_join(pkg->dir, paths[i]);
		if (!dir)
			return oom(err);
		int rc = walk(m, pkg, res, dir, paths[i], "", 0, err);
		sl_free(dir);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int m_discover(sl_models *m, sl_error *err)
{
	int rc = 0;
	for (int i = 0; i < m->npkgs && rc == 0; i++) {
		m_package *p = &m->pkgs[i];
		if ((rc = walk_paths(m, p, R_MACROS, p->macro_paths, p->nmacro_paths, err)) < 0 ||
		    (rc = walk_paths(m, p, R_MODELS, p->model_paths, p->nmodel_paths, err)) < 0 ||
		    (rc = walk_paths(m, p, R_SEEDS, p->seed_paths, p->nseed_paths, err)) < 0)
			break;
		rc = walk_paths(m, p, R_SNAPSHOTS, p->snapshot_paths, p->nsnapshot_paths, err);
	}
	return rc;
}
