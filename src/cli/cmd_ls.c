/*
 * cmd_ls.c: `sluice ls` (and `sluice list`) — the project's resources as
 * dbt ls lists them: models, seeds, snapshots, data tests and sources (a
 * sluice project's source tables among them), and on request the extract
 * and load tasks; by selector, name, path or as JSON. Selecting a node
 * selects its tests, as dbt's eager indirect selection does.
 */
#include "cli/cli_int.h"
#include "cli/ls_lineage.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice ls [--resource-type TYPE] [--select SEL] [--exclude SEL]\n"
		"                 [--output selector|name|path|json] [options]\n\n"
		"Lists the project's resources, sorted: models, seeds, snapshots, data\n"
		"tests and sources (in a sluice project, each source table). `sluice\n"
		"list` is the same. Selecting a node lists its tests too.\n\n"
		"options:\n"
		"  --resource-type T   only these: model, seed, snapshot, test, source,\n"
		"                      extract, load, all (repeat the flag for several;\n"
		"                      default: model, seed, snapshot, test and source)\n"
		"  -s, --select SEL    only these (dbt's syntax, as in `sluice build`)\n"
		"  --exclude SEL       leave these out\n"
		"  --output FORMAT     selector (default: package.folder.name, source:...),\n"
		"                      name, path (the file, relative to the project) or\n"
		"                      json (one object per line: unique_id, name,\n"
		"                      resource_type, package_name, original_file_path, fqn,\n"
		"                      alias, schema, tags, config, depends_on; models and\n"
		"                      snapshots add columns, their column lineage, and\n"
		"                      lineage_error when it is not traced)\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  -t, --target NAME   the target (schemas and aliases depend on it)\n"
		"  --vars YAML         variables for var()\n"
		"  --help              this text\n\n"
		"Exit status: 0, or 2 on a usage or configuration error (a selection that\n"
		"matches nothing is one).\n");
}

enum {
	T_MODEL = 1, T_SEED = 2, T_SNAPSHOT = 4, T_SOURCE = 8, T_EXTRACT = 16, T_LOAD = 32,
	T_TEST = 64
};

static int type_bit(const char *v)
{
	static const struct { const char *name; int bit; } types[] = {
		{"model", T_MODEL}, {"seed", T_SEED}, {"snapshot", T_SNAPSHOT},
		{"source", T_SOURCE}, {"extract", T_EXTRACT}, {"load", T_LOAD}, {"test", T_TEST},
		{"all", T_MODEL | T_SEED | T_SNAPSHOT | T_SOURCE | T_EXTRACT | T_LOAD | T_TEST},
		{"default", T_MODEL | T_SEED | T_SNAPSHOT | T_SOURCE | T_TEST},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i].name, v) == 0)
			return types[i].bit;
	return 0;
}

/* A config value as JSON: lists, mappings, booleans and numbers as they
 * are, anything else a string. */
static json_t *config_value(const char *v)
{
	json_t *j = NULL;
	if (v[0] == '[' || v[0] == '{' || strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "null") == 0 || (v[0] >= '0' && v[0] <= '9') || v[0] == '-')
		j = json_loads(v, JSON_DECODE_ANY, NULL);
	return j ? j : json_string(v);
}

static json_t *strings(const char *const *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* A new string formatted as printf does (sl_free; NULL when out of memory). */
static char *fmt(const char *f, const char *a, const char *b)
{
	sl_buf buf = SL_BUF_INIT;
	sl_buf_printf(&buf, f, a, b);
	char *out = buf.data ? sl_strdup(buf.data) : NULL;
	sl_buf_free(&buf);
	return out;
}

/* One line of the listing (sl_malloc'd), with its sort key. */
typedef struct {
	char *key;
	char *text;
} entry;

static char *json_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *out = s ? sl_strdup(s) : NULL;
	free(s);
	json_decref(o);
	return out;
}

/* The entry of a node task. */
static int node_entry(const sl_cli_project *cp, const sl_task *t, const sl_dag *g,
		      const char *output, sl_ls_lineage *lin, entry *e)
{
	const sl_node *n = sl_models_node(cp->m, sl_engine_task_node(t));
	e->key = sl_strdup(n->unique_id);
	if (strcmp(output, "name") == 0)
		e->text = sl_strdup(n->name);
	else if (strcmp(output, "path") == 0)
		e->text = sl_strdup(n->path ? n->path : "");
	else if (strcmp(output, "selector") == 0)
		e->text = sl_strdup(t->fqn ? t->fqn : n->name);
	else {
		json_t *o = json_object(), *cfg = json_object(), *deps = json_array();
		json_object_set_new(o, "unique_id", json_string(n->unique_id));
		json_object_set_new(o, "name", json_string(n->name));
		json_object_set_new(o, "resource_type", json_string(sl_node_type_name(n->type)));
		json_object_set_new(o, "package_name", json_string(n->package ? n->package : ""));
		json_object_set_new(o, "original_file_path", json_string(n->path ? n->path : ""));
		json_t *fqn = json_array();
		char *f = sl_strdup(t->fqn ? t->fqn : n->name), *save = NULL;
		for (char *p = f ? strtok_r(f, ".", &save) : NULL; p; p = strtok_r(NULL, ".", &save))
			json_array_append_new(fqn, json_string(p));
		sl_free(f);
		json_object_set_new(o, "fqn", fqn);
		json_object_set_new(o, "alias", json_string(n->alias ? n->alias : n->name));
		json_object_set_new(o, "schema", n->schema ? json_string(n->schema) : json_null());
		json_object_set_new(o, "database", n->database ? json_string(n->database)
							       : json_null());
		json_object_set_new(o, "tags", strings(n->tags, n->ntags));
		json_object_set_new(cfg, "materialized",
				    json_string(sl_materialized_name(n->materialized)));
		for (int i = 0; i < n->nconfig; i++) {
			const char *eq = strchr(n->config[i], '=');
			if (!eq)
				continue;
			char key[256];
			snprintf(key, sizeof key, "%.*s", (int)(eq - n->config[i]), n->config[i]);
			json_object_set_new(cfg, key, config_value(eq + 1));
		}
		json_object_set_new(o, "config", cfg);
		for (int i = 0; i < n->ndepends_on; i++)
			json_array_append_new(deps, json_string(n->depends_on[i]));
		for (int i = 0; i < t->ndeps; i++) {
			const sl_task *u = &g->tasks[t->deps[i]];
			if (sl_engine_task_node(u) >= 0)
				continue;
			char *uid = strcmp(u->kind->name, "source") == 0
					    ? sl_strdup(u->id)
					    : fmt("source.%s.%s", cp->p->name ? cp->p->name : "", u->node);
			if (uid)
				json_array_append_new(deps, json_string(uid));
			sl_free(uid);
		}
		json_t *dep = json_object();
		json_object_set_new(dep, "nodes", deps);
		json_object_set_new(o, "depends_on", dep);
		sl_error lerr = SL_ERROR_INIT;
		if (lin && (n->type == SL_NODE_MODEL || n->type == SL_NODE_SNAPSHOT) &&
		    sl_ls_lineage_add(lin, sl_engine_task_node(t), o, &lerr) < 0) {
			json_decref(o);
			return SL_ENOMEM;
		}
		e->text = json_line(o);
	}
	return e->key && e->text ? 0 : SL_ENOMEM;
}

/* The entry of a source (a placeholder, or a sluice table's extract task
 * standing for it) or of an extract or load task. */
static int task_entry(const sl_cli_project *cp, const sl_task *t, const char *type,
		      const char *output, entry *e)
{
	const char *dot = strchr(t->node, '.');
	const char *table = dot ? dot + 1 : t->node;
	const char *pkg = t->package ? t->package : cp->p->name ? cp->p->name : "";
	bool source = strcmp(type, "source") == 0;
	const char *path = t->path;
	/* a source read by a model: the file declaring it */
	for (int i = 0; source && !path && cp->m && i < sl_models_source_count(cp->m); i++) {
		const sl_model_source *s = sl_models_source_at(cp->m, i);
		if (strcmp(t->source ? t->source : "", s->source) == 0 && strcmp(table, s->table) == 0)
			path = s->path;
	}
	char *uid = source ? fmt("source.%s.%s", pkg, t->node) : sl_strdup(t->id);
	e->key = uid;
	if (strcmp(output, "name") == 0)
		e->text = sl_strdup(t->node);
	else if (strcmp(output, "path") == 0)
		e->text = sl_strdup(path ? path : "");
	else if (strcmp(output, "selector") == 0)
		e->text = source ? fmt("source:%s.%s", pkg, t->node) : sl_strdup(t->id);
	else {
		json_t *o = json_object();
		json_object_set_new(o, "unique_id", json_string(uid ? uid : ""));
		json_object_set_new(o, "name", json_string(table));
		json_object_set_new(o, "resource_type", json_string(type));
		json_object_set_new(o, "package_name", json_string(pkg));
		json_object_set_new(o, "original_file_path", json_string(path ? path : ""));
		if (t->source)
			json_object_set_new(o, "source_name", json_string(t->source));
		json_object_set_new(o, "tags", strings(t->tags, t->ntags));
		json_object_set_new(o, "config", json_object());
		e->text = json_line(o);
	}
	return e->key && e->text ? 0 : SL_ENOMEM;
}

/*
 * A placeholder task for every declared source no node reads (and that is
 * no sluice table), so that ls lists it and --select sees it, as dbt lists
 * every source.
 */
static int add_unread_sources(const sl_cli_project *cp, sl_dag *g, sl_error *err)
{
	int n = cp->m ? sl_models_source_count(cp->m) : 0;
	for (int i = 0; i < n; i++) {
		const sl_model_source *s = sl_models_source_at(cp->m, i);
		const char *pkg = s->package ? s->package : cp->p->name ? cp->p->name : "project";
		char *st = fmt("%s.%s", s->source, s->table);
		char *load = st ? fmt("load:%s", st, "") : NULL;
		char *extract = st ? fmt("extract:%s", st, "") : NULL;
		char *id = st ? fmt("source.%s.%s", pkg, st) : NULL;
		char *rel = st ? fmt("source:%s", st, "") : NULL;
		int rc = 0;
		if (!st || !load || !extract || !id || !rel) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		} else if (sl_dag_find(g, load) < 0 && sl_dag_find(g, extract) < 0 &&
			   sl_dag_find(g, id) < 0) {
			const char *writes[] = {rel};
			sl_task t = {
				.kind = &sl_engine_source_kind,
				.id = id,
				.node = st,
				.source = s->source,
				.package = pkg,
				.path = s->path,
				.writes = writes,
				.nwrites = 1,
				.retry_delay = 10,
			};
			rc = sl_dag_add(g, &t, err);
		}
		sl_free(st);
		sl_free(load);
		sl_free(extract);
		sl_free(id);
		sl_free(rel);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The project's graph with every declared source, and what the
 * selection picks of it. */
static int ls_graph(const sl_cli_project *cp, const sl_cli_common *o, sl_dag *g,
		    bool **selected, sl_error *err)
{
	int n = cp->m ? sl_models_count(cp->m) : 0;
	sl_node *nodes = sl_calloc((size_t)n + 1, sizeof *nodes);
	*selected = NULL;
	if (!nodes)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		nodes[i] = *sl_models_node(cp->m, i);
	sl_graph_opts go = {.target = o->target, .extract = true, .load = true, .nodes = nodes,
			    .nnodes = n, .models = cp->m};
	int rc = sl_engine_graph(g, cp->p, &go, err);
	sl_free(nodes);
	if (rc == 0)
		rc = add_unread_sources(cp, g, err);
	if (rc >= 0 && !(*selected = sl_calloc((size_t)g->n + 1, sizeof **selected)))
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc >= 0)
		rc = sl_dag_select(g, o->select.items, o->select.n, NULL, 0, *selected, err);
	/* A selected node brings its tests (eager); an excluded one takes
	 * them out. */
	if (rc >= 0 && o->select.n > 0)
		rc = sl_engine_select_tests(g, "eager", *selected, err);
	bool *keep = NULL;
	if (rc >= 0 && o->exclude.n > 0) {
		if (!(keep = sl_calloc((size_t)g->n + 1, sizeof *keep)))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		else
			rc = sl_dag_select(g, NULL, 0, o->exclude.items, o->exclude.n, keep, err);
		for (int i = 0; rc >= 0 && i < g->n; i++) {
			const sl_task *t = &g->tasks[i];
			for (int d = 0; t->kind == &sl_engine_test_kind && d < t->ndeps; d++)
				keep[i] = keep[i] && keep[t->deps[d]];
		}
		for (int i = 0; rc >= 0 && i < g->n; i++)
			(*selected)[i] = (*selected)[i] && keep[i];
		sl_free(keep);
	}
	return rc < 0 ? rc : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	int c = strcmp(x->text, y->text);
	return c ? c : strcmp(x->key, y->key);
}

int sl_cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		SL_CLI_COMMON_LONGOPTS,
		{"resource-type", required_argument, NULL, 'r'},
		{"resource-types", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	sl_cli_common o = {.dir = "."};
	const char *output = "selector";
	int types = 0, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SL_CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int taken = sl_cli_common_opt("ls", c, optarg, &o);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case 'r': {
			char *save = NULL;
			for (char *p = strtok_r(optarg, ", ", &save); p;
			     p = strtok_r(NULL, ", ", &save)) {
				int bit = type_bit(p);
				if (!bit)
					return sl_cli_usage_error("ls", "--resource-type must be model, "
								  "seed, snapshot, test, source, "
								  "extract, load, default or all, not "
								  "'%s'", p);
				types |= bit;
			}
			break;
		}
		case 'o':
			if (strcmp(optarg, "selector") != 0 && strcmp(optarg, "name") != 0 &&
			    strcmp(optarg, "path") != 0 && strcmp(optarg, "json") != 0)
				return sl_cli_usage_error("ls", "--output must be selector, name, path "
							  "or json, not '%s'", optarg);
			output = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default:
			return sl_cli_usage_error("ls", "unknown or incomplete option '%s'; see "
						  "`sluice ls --help`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("ls", "unexpected argument '%s'", argv[optind]);
	if (!types)
		types = type_bit("default");

	sl_cli_project cp;
	sl_error err = SL_ERROR_INIT;
	sl_dag g;
	bool *selected = NULL;
	entry *entries = NULL;
	sl_ls_lineage *lin = NULL;
	int n = 0, rc = 0;
	int status;

	sl_dag_init(&g);
	if ((status = sl_cli_project_open(&cp, &o)) != 0)
		goto done;
	if ((rc = ls_graph(&cp, &o, &g, &selected, &err)) < 0)
		goto done;
	sl_cli_write_manifest(&cp, "ls", o.target, argc, argv);
	/* models' column lineage in JSON lines */
	if (strcmp(output, "json") == 0 && cp.m && (types & (T_MODEL | T_SNAPSHOT)) &&
	    (rc = sl_ls_lineage_new(&lin, &cp, o.target, &err)) < 0)
		goto done;
	if (!(entries = sl_calloc((size_t)g.n * 2 + 1, sizeof *entries))) {
		rc = sl_error_set(&err, SL_ENOMEM, "out of memory");
		goto done;
	}
	for (int i = 0; i < g.n && rc == 0; i++) {
		const sl_task *t = &g.tasks[i];
		const char *k = t->kind->name;
		if (!selected[i])
			continue;
		if (sl_engine_task_node(t) >= 0) {
			int bit = strcmp(k, "seed") == 0 ? T_SEED
				  : strcmp(k, "snapshot") == 0 ? T_SNAPSHOT
				  : strcmp(k, "test") == 0 ? T_TEST : T_MODEL;
			if (types & bit)
				rc = node_entry(&cp, t, &g, output, lin, &entries[n++]);
			continue;
		}
		/* A sluice table is a source once, through its extract task (or
		 * its load task when the extract is not selected). */
		bool as_source = strcmp(k, "source") == 0;
		if (strcmp(k, "extract") == 0)
			as_source = true;
		if (strcmp(k, "load") == 0) {
			char id[600];
			snprintf(id, sizeof id, "extract:%s", t->node);
			int x = sl_dag_find(&g, id);
			as_source = x < 0 || !selected[x];
		}
		if (as_source && (types & T_SOURCE))
			rc = task_entry(&cp, t, "source", output, &entries[n++]);
		if (rc == 0 && strcmp(k, "extract") == 0 && (types & T_EXTRACT))
			rc = task_entry(&cp, t, "extract", output, &entries[n++]);
		if (rc == 0 && strcmp(k, "load") == 0 && (types & T_LOAD))
			rc = task_entry(&cp, t, "load", output, &entries[n++]);
	}
	if (rc != 0) {
		rc = sl_error_set(&err, SL_ENOMEM, "out of memory");
		goto done;
	}
	qsort(entries, (size_t)n, sizeof *entries, cmp_entry);
	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(entries[i].text, entries[i - 1].text) != 0)
			printf("%s\n", entries[i].text);
done:
	if (rc < 0)
		status = sl_cli_fail_models(&err);
	for (int i = 0; entries && i < n; i++) {
		sl_free(entries[i].key);
		sl_free(entries[i].text);
	}
	sl_free(entries);
	sl_ls_lineage_free(lin);
	sl_free(selected);
	sl_dag_free(&g);
	sl_cli_project_close(&cp);
	return status;
}
