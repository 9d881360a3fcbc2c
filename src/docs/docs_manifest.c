/*
 * docs_manifest.c: target/manifest.json, dbt's manifest (schema v12) — the
 * project's nodes (models, seeds, snapshots, tests) with dbt's unique_ids,
 * resolved configs, documentation and dependencies, its sources and
 * macros, and the graph as parent_map and child_map. Resources sluice has
 * no notion of (exposures, metrics, semantic models...) are empty objects.
 */
#include "docs/docs_int.h"

#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- config */

/* Configs whose value is text even when it reads as JSON ("2024"). */
static bool text_config(const char *key, size_t n)
{
	static const char *const keys[] = {
		"materialized", "schema", "alias", "database", "severity", "warn_if", "error_if",
		"where", "incremental_strategy", "on_schema_change", "strategy", "updated_at",
		"target_schema", "target_database", "fail_calc", "access", "group", "event_time",
		"delimiter", "hard_deletes", "identifier", "loaded_at_field",
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i]) == n && strncmp(keys[i], key, n) == 0)
			return true;
	return false;
}

/* A config value as JSON: lists, dicts, numbers, booleans and null as
 * themselves, other text as a string. */
static json_t *config_value(d_json *j, const char *key, size_t kn, const char *v)
{
	if (!text_config(key, kn)) {
		json_t *x = json_loads(v, JSON_DECODE_ANY, NULL);
		if (x)
			return x;
	}
	return d_str(j, v);
}

/* Sets o[k] = v unless o has k already. */
static void set_default(d_json *j, json_t *o, const char *k, json_t *v)
{
	if (json_object_get(o, k))
		json_decref(v);
	else
		d_set(j, o, k, v);
}

static json_t *node_config(d_json *j, const sl_node *n)
{
	json_t *c = d_obj(j);
	for (int i = 0; c && i < n->nconfig; i++) {
		const char *kv = n->config[i], *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			continue;
		char key[128];
		size_t kn = (size_t)(eq - kv);
		if (kn >= sizeof key)
			continue;
		memcpy(key, kv, kn);
		key[kn] = '\0';
		d_set(j, c, key, config_value(j, key, kn, eq + 1));
	}
	set_default(j, c, "enabled", d_bool(j, true));
	set_default(j, c, "alias", d_str(j, n->type == SL_NODE_TEST ? NULL : n->alias));
	set_default(j, c, "schema", d_str(j, n->type == SL_NODE_TEST ? NULL : n->schema));
	set_default(j, c, "database", d_str(j, n->type == SL_NODE_TEST ? NULL : n->database));
	set_default(j, c, "tags", d_strs(j, n->tags, n->ntags));
	set_default(j, c, "meta", d_parse(j, n->meta_json, "{}"));
	set_default(j, c, "materialized",
		    d_str(j, n->type == SL_NODE_TEST ? "test" : sl_materialized_name(n->materialized)));
	const sl_node_test *t = n->test;
	if (n->type == SL_NODE_TEST && t) {
		set_default(j, c, "severity", d_str(j, t->severity == SL_SEVERITY_WARN ? "warn" : "ERROR"));
		set_default(j, c, "store_failures", d_bool(j, t->store_failures));
		set_default(j, c, "where", d_str(j, t->where));
		set_default(j, c, "limit", t->limit >= 0 ? d_int(j, t->limit) : d_null(j));
		set_default(j, c, "fail_calc", d_str(j, "count(*)"));
		set_default(j, c, "warn_if", d_str(j, t->warn_if ? t->warn_if : "!= 0"));
		set_default(j, c, "error_if", d_str(j, t->error_if ? t->error_if : "!= 0"));
	} else if (n->type != SL_NODE_TEST) {
		set_default(j, c, "persist_docs", d_obj(j));
		set_default(j, c, "quoting", d_obj(j));
		set_default(j, c, "column_types", d_obj(j));
		set_default(j, c, "full_refresh", d_null(j));
		set_default(j, c, "on_schema_change", d_str(j, "ignore"));
		set_default(j, c, "grants", d_obj(j));
		set_default(j, c, "packages", d_arr(j));
		json_t *docs = d_obj(j);
		d_set(j, docs, "show", d_bool(j, true));
		d_set(j, docs, "node_color", d_null(j));
		set_default(j, c, "docs", docs);
	}
	return c;
}

/* ----------------------------------------------------------------- paths */

/* dbt's path: original_file_path under its resource folder
 * ("models/marts/orders.sql" -> "marts/orders.sql"); a generic test's is
 * "<name>.sql". */
static const char *node_path(sl_arena *a, const sl_node *n)
{
	const char *p = n->path ? n->path : "";
	if (n->type == SL_NODE_TEST && (sl_str_ends_with(p, ".yml") || sl_str_ends_with(p, ".yaml")))
		return sl_arena_sprintf(a, "%s.sql", n->name);
	const char *slash = strchr(p, '/');
	return slash ? slash + 1 : p;
}

/* fqn: the package, the folders under the resource folder, the name. */
static json_t *node_fqn(d_json *j, const char *package, const char *original, const char *name)
{
	json_t *f = d_arr(j);
	d_push(j, f, d_str0(j, package));
	const char *p = original ? strchr(original, '/') : NULL;
	while (p && *p == '/') {
		const char *start = p + 1, *next = strchr(start, '/');
		if (!next)
			break;
		if (next > start) {
			char dir[256];
			snprintf(dir, sizeof dir, "%.*s", (int)(next - start), start);
			d_push(j, f, d_str(j, dir));
		}
		p = next;
	}
	d_push(j, f, d_str0(j, name));
	return f;
}

static json_t *columns_json(d_json *j, const sl_node_column *cols, int n)
{
	json_t *o = d_obj(j);
	for (int i = 0; i < n; i++) {
		const sl_node_column *c = &cols[i];
		if (!c->name)
			continue;
		json_t *col = d_obj(j);
		d_set(j, col, "name", d_str(j, c->name));
		d_set(j, col, "description", d_str0(j, c->description));
		d_set(j, col, "meta", d_parse(j, c->meta_json, "{}"));
		d_set(j, col, "data_type", d_str(j, c->data_type));
		d_set(j, col, "constraints", d_arr(j));
		d_set(j, col, "quote", d_null(j));
		d_set(j, col, "tags", d_strs(j, c->tags, c->ntags));
		d_set(j, col, "granularity", d_null(j));
		d_set(j, col, "doc_blocks", d_arr(j));
		d_set(j, o, c->name, col);
	}
	return o;
}

static json_t *docs_flag(d_json *j)
{
	json_t *d = d_obj(j);
	d_set(j, d, "show", d_bool(j, true));
	d_set(j, d, "node_color", d_null(j));
	return d;
}

/* ------------------------------------------------------------------ nodes */

/* A generic test's model argument as dbt writes it in test_metadata:
 * "{{ get_where_subquery(ref('orders')) }}" or (source('shop', 'orders')). */
static const char *model_kwarg(sl_models *m, const char *attached, sl_arena *a)
{
	if (sl_str_starts_with(attached, "source.")) {
		for (int i = 0; i < sl_models_source_count(m); i++) {
			const sl_model_source *s = sl_models_source_at(m, i);
			if (s && s->unique_id && strcmp(s->unique_id, attached) == 0)
				return sl_arena_sprintf(a, "{{ get_where_subquery(source('%s', '%s')) }}",
							s->source, s->table);
		}
		return NULL;
	}
	int k = sl_models_find(m, attached);
	const sl_node *n = k >= 0 ? sl_models_node(m, k) : NULL;
	return n ? sl_arena_sprintf(a, "{{ get_where_subquery(ref('%s')) }}", n->name) : NULL;
}

/*
 * dbt's file_key_name of a generic test: the properties entry declaring it,
 * "<resource type>s.<name>" from its attached node ("model.p.customers" ->
 * "models.customers"), "sources.<source name>" for a source's table
 * ("source.p.shop.orders" -> "sources.shop"); null when attached to nothing.
 */
static json_t *file_key_name(d_json *j, const char *attached)
{
	const char *pkg = attached ? strchr(attached, '.') : NULL;
	const char *name = pkg ? strchr(pkg + 1, '.') : NULL;
	char buf[512];

	if (!name || !name[1])
		return d_null(j);
	name++;
	size_t type_len = (size_t)(pkg - attached);
	size_t name_len = strlen(name);
	if (type_len == strlen("source") && strncmp(attached, "source", type_len) == 0) {
		const char *dot = strchr(name, '.');
		if (dot)
			name_len = (size_t)(dot - name);
	}
	int n = snprintf(buf, sizeof buf, "%.*ss.%.*s", (int)type_len, attached, (int)name_len, name);
	if (n < 0 || (size_t)n >= sizeof buf)
		return d_null(j);
	return d_str(j, buf);
}

static json_t *node_json(d_json *j, sl_models *m, const sl_node *n, const char *compiled,
			 const sl_docs_invocation *inv, sl_arena *a)
{
	json_t *o = d_obj(j);
	const char *pkg = n->package ? n->package : sl_models_project_name(m);
	bool test = n->type == SL_NODE_TEST;
	const char *db = d_database(inv, n->database);
	d_set(j, o, "database", d_str(j, db));
	d_set(j, o, "schema", d_str(j, n->schema));
	d_set(j, o, "name", d_str(j, n->name));
	d_set(j, o, "resource_type", d_str(j, sl_node_type_name(n->type)));
	d_set(j, o, "package_name", d_str(j, pkg));
	d_set(j, o, "path", d_astr(j, node_path(a, n)));
	d_set(j, o, "original_file_path", d_str0(j, n->path));
	d_set(j, o, "unique_id", d_str(j, n->unique_id));
	d_set(j, o, "fqn", node_fqn(j, pkg, n->path, n->name));
	d_set(j, o, "alias", d_str(j, n->alias));
	json_t *ck = d_obj(j);
	d_set(j, ck, "name", d_str(j, n->checksum ? "sha256" : "none"));
	d_set(j, ck, "checksum", d_str0(j, n->checksum));
	d_set(j, o, "checksum", ck);
	d_set(j, o, "config", node_config(j, n));
	d_set(j, o, "tags", d_strs(j, n->tags, n->ntags));
	d_set(j, o, "description", d_str0(j, n->description));
	d_set(j, o, "columns", columns_json(j, n->columns, n->ncolumns));
	d_set(j, o, "meta", d_parse(j, n->meta_json, "{}"));
	d_set(j, o, "group", d_null(j));
	d_set(j, o, "docs", docs_flag(j));
	/* dbt's "<package>://models/x.yml" (models/ writes it so) */
	const char *patch = n->patch_path;
	if (patch && !strstr(patch, "://"))
		patch = sl_arena_sprintf(a, "%s://%s", pkg, patch);
	d_set(j, o, "patch_path", patch || !n->patch_path ? d_str(j, patch) : d_astr(j, NULL));
	d_set(j, o, "build_path", d_null(j));
	d_set(j, o, "unrendered_config", d_obj(j));
	d_set(j, o, "created_at", d_real(j, (double)sl_now_micros() / 1e6));
	const char *rel = NULL;
	if (test && n->test && n->test->store_failures && n->test->audit_relation)
		rel = d_relation_name(a, db, n->test->audit_schema, n->test->audit_relation);
	else if (!test && n->materialized != SL_MAT_EPHEMERAL)
		rel = d_relation_name(a, db, n->schema, n->alias);
	d_set(j, o, "relation_name", d_str(j, rel));
	d_set(j, o, "raw_code", d_str0(j, n->raw_code));
	d_set(j, o, "doc_blocks", d_arr(j));
	if (n->type != SL_NODE_SEED)
		d_set(j, o, "language", d_str(j, "sql"));
	else
		d_set(j, o, "root_path", d_null(j));

	/* depends_on, refs, sources */
	json_t *dep = d_obj(j), *nodes = d_arr(j), *refs = d_arr(j), *srcs = d_arr(j);
	for (int i = 0; i < n->ndepends_on; i++) {
		d_push(j, nodes, d_str(j, n->depends_on[i]));
		int k = sl_models_find(m, n->depends_on[i]);
		const sl_node *up = k >= 0 ? sl_models_node(m, k) : NULL;
		if (up && up->type != SL_NODE_TEST) {
			json_t *r = d_obj(j);
			d_set(j, r, "name", d_str(j, up->name));
			d_set(j, r, "package", d_null(j));
			d_set(j, r, "version", d_null(j));
			d_push(j, refs, r);
		}
	}
	for (int i = 0; i < n->nsources; i++) {
		d_push(j, nodes, d_astr(j, d_source_id(m, a, n->sources[i])));
		const char *dot = strchr(n->sources[i], '.');
		json_t *pair = d_arr(j);
		d_push(j, pair, d_astr(j, dot ? sl_arena_strndup(a, n->sources[i],
								(size_t)(dot - n->sources[i]))
					      : n->sources[i]));
		d_push(j, pair, d_str(j, dot ? dot + 1 : ""));
		d_push(j, srcs, pair);
	}
	d_set(j, dep, "macros", d_arr(j));
	d_set(j, dep, "nodes", nodes);
	d_set(j, o, "depends_on", dep);
	d_set(j, o, "refs", refs);
	d_set(j, o, "sources", srcs);
	d_set(j, o, "metrics", d_arr(j));
	d_set(j, o, "compiled_path", d_null(j));
	d_set(j, o, "compiled", d_bool(j, compiled != NULL));
	if (compiled) {
		d_set(j, o, "compiled_code", d_str(j, compiled));
		d_set(j, o, "extra_ctes_injected", d_bool(j, true));
		d_set(j, o, "extra_ctes", d_arr(j));
	}
	json_t *contract = d_obj(j);
	d_set(j, contract, "enforced", d_bool(j, false));
	d_set(j, contract, "alias_types", d_bool(j, true));
	d_set(j, contract, "checksum", d_null(j));
	d_set(j, o, "contract", contract);
	if (n->type == SL_NODE_MODEL) {
		d_set(j, o, "access", d_str(j, "protected"));
		d_set(j, o, "constraints", d_arr(j));
		d_set(j, o, "version", d_null(j));
		d_set(j, o, "latest_version", d_null(j));
		d_set(j, o, "deprecation_date", d_null(j));
		d_set(j, o, "primary_key", d_arr(j));
		d_set(j, o, "time_spine", d_null(j));
	}
	if (test) {
		const sl_node_test *t = n->test;
		if (t && t->type == SL_TEST_GENERIC) {
			json_t *tm = d_obj(j);
			d_set(j, tm, "name", d_str(j, t->test_name));
			json_t *kw = d_parse(j, t->kwargs_json, "{}");
			/* dbt's kwargs name the model the test reads, as its SQL does */
			if (json_is_object(kw) && !json_object_get(kw, "model") && t->attached_node)
				d_set(j, kw, "model", d_str(j, model_kwarg(m, t->attached_node, a)));
			d_set(j, tm, "kwargs", kw);
			d_set(j, tm, "namespace", d_str(j, t->test_namespace));
			d_set(j, o, "test_metadata", tm);
		}
		d_set(j, o, "column_name", d_str(j, t ? t->column_name : NULL));
		d_set(j, o, "file_key_name",
		      t && t->type == SL_TEST_GENERIC ? file_key_name(j, t->attached_node)
						      : d_null(j));
		d_set(j, o, "attached_node", d_str(j, t ? t->attached_node : NULL));
	}
	return o;
}

static json_t *freshness_json(d_json *j, const sl_freshness *f)
{
	json_t *o = d_obj(j);
	const sl_freshness_rule *rules[2] = {&f->warn_after, &f->error_after};
	const char *names[2] = {"warn_after", "error_after"};
	for (int i = 0; i < 2; i++) {
		json_t *r = d_obj(j);
		bool set = f->set && rules[i]->count > 0;
		d_set(j, r, "count", set ? d_int(j, rules[i]->count) : d_null(j));
		d_set(j, r, "period", d_str(j, set ? rules[i]->period : NULL));
		d_set(j, o, names[i], r);
	}
	d_set(j, o, "filter", d_str(j, f->filter));
	return o;
}

/* The manifest's criteria and the sources.json's are the same object. */
json_t *d_freshness(d_json *j, const sl_freshness *f) { return freshness_json(j, f); }

static json_t *source_json(d_json *j, sl_models *m, const sl_model_source *s, const char *id,
			   const sl_docs_invocation *inv, sl_arena *a)
{
	json_t *o = d_obj(j);
	const char *pkg = s->package ? s->package : sl_models_project_name(m);
	const char *ident = s->identifier ? s->identifier : s->table;
	const char *db = d_database(inv, s->database);
	d_set(j, o, "database", d_str(j, db));
	d_set(j, o, "schema", d_str(j, s->schema));
	d_set(j, o, "name", d_str(j, s->table));
	d_set(j, o, "resource_type", d_str(j, "source"));
	d_set(j, o, "package_name", d_str(j, pkg));
	d_set(j, o, "path", d_str0(j, s->path));
	d_set(j, o, "original_file_path", d_str0(j, s->path));
	d_set(j, o, "unique_id", d_str(j, id));
	json_t *fqn = node_fqn(j, pkg, s->path, s->source);
	d_push(j, fqn, d_str(j, s->table));
	d_set(j, o, "fqn", fqn);
	d_set(j, o, "source_name", d_str(j, s->source));
	d_set(j, o, "source_description", d_str0(j, s->source_description));
	d_set(j, o, "loader", d_str0(j, s->loader));
	d_set(j, o, "identifier", d_str(j, ident));
	d_set(j, o, "quoting", d_obj(j));
	d_set(j, o, "loaded_at_field", d_str(j, s->loaded_at_field));
	d_set(j, o, "loaded_at_query", d_null(j));
	d_set(j, o, "freshness", freshness_json(j, &s->freshness));
	d_set(j, o, "external", d_null(j));
	d_set(j, o, "description", d_str0(j, s->description));
	d_set(j, o, "columns", columns_json(j, s->columns, s->ncolumns));
	d_set(j, o, "meta", d_parse(j, s->meta_json, "{}"));
	d_set(j, o, "source_meta", d_obj(j));
	d_set(j, o, "tags", d_strs(j, s->tags, s->ntags));
	json_t *cfg = d_obj(j);
	d_set(j, cfg, "enabled", d_bool(j, true));
	d_set(j, cfg, "event_time", d_null(j));
	d_set(j, cfg, "freshness", freshness_json(j, &s->freshness));
	d_set(j, cfg, "loaded_at_field", d_str(j, s->loaded_at_field));
	d_set(j, cfg, "meta", d_parse(j, s->meta_json, "{}"));
	d_set(j, cfg, "tags", d_strs(j, s->tags, s->ntags));
	d_set(j, o, "config", cfg);
	d_set(j, o, "patch_path", d_null(j));
	d_set(j, o, "unrendered_config", d_obj(j));
	d_set(j, o, "relation_name", d_str(j, d_relation_name(a, db, s->schema, ident)));
	d_set(j, o, "created_at", d_real(j, (double)sl_now_micros() / 1e6));
	d_set(j, o, "unrendered_database", d_null(j));
	d_set(j, o, "unrendered_schema", d_null(j));
	d_set(j, o, "doc_blocks", d_arr(j));
	return o;
}

static json_t *macro_json(d_json *j, const sl_model_macro *mc)
{
	json_t *o = d_obj(j);
	d_set(j, o, "name", d_str(j, mc->name));
	d_set(j, o, "resource_type", d_str(j, "macro"));
	d_set(j, o, "package_name", d_str(j, mc->package));
	d_set(j, o, "path", d_str(j, mc->path));
	d_set(j, o, "original_file_path", d_str(j, mc->path));
	d_set(j, o, "unique_id", d_str(j, mc->unique_id));
	d_set(j, o, "macro_sql", d_str0(j, mc->macro_sql));
	json_t *dep = d_obj(j);
	d_set(j, dep, "macros", d_arr(j));
	d_set(j, o, "depends_on", dep);
	d_set(j, o, "description", d_str(j, ""));
	d_set(j, o, "meta", d_obj(j));
	d_set(j, o, "docs", docs_flag(j));
	d_set(j, o, "patch_path", d_null(j));
	d_set(j, o, "arguments", d_arr(j));
	d_set(j, o, "created_at", d_real(j, (double)sl_now_micros() / 1e6));
	d_set(j, o, "supported_languages", d_null(j));
	return o;
}

/* -------------------------------------------------------------- the maps */

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings and drops repeats. */
static void sort_unique(d_json *j, json_t *arr)
{
	size_t n = json_array_size(arr);
	if (n < 2)
		return;
	json_t **v = sl_calloc(n, sizeof *v);
	if (!v) {
		j->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp_json_str);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(json_string_value(v[i]), json_string_value(v[i - 1])) == 0)
			json_decref(v[i]);
		else if (json_array_append_new(arr, v[i]) < 0)
			j->oom = true;
	}
	sl_free(v);
}

/* parent_map from each node's depends_on.nodes; child_map its inverse;
 * every node and source in both. */
static void graph_maps(d_json *j, json_t *root, json_t *nodes, json_t *sources)
{
	json_t *parents = d_obj(j), *children = d_obj(j);
	const char *id;
	json_t *v;
	json_object_foreach(sources, id, v) {
		d_set(j, parents, id, d_arr(j));
		d_set(j, children, id, d_arr(j));
	}
	json_object_foreach(nodes, id, v) {
		json_t *deps = json_object_get(json_object_get(v, "depends_on"), "nodes");
		d_set(j, parents, id, deps ? json_deep_copy(deps) : d_arr(j));
		if (!json_object_get(children, id))
			d_set(j, children, id, d_arr(j));
	}
	json_object_foreach(nodes, id, v) {
		json_t *deps = json_object_get(json_object_get(v, "depends_on"), "nodes");
		size_t i;
		json_t *up;
		json_array_foreach(deps, i, up) {
			const char *u = json_string_value(up);
			if (!u)
				continue;
			json_t *list = json_object_get(children, u);
			if (!list) {
				/* a parent that is neither a node nor a source here */
				d_set(j, children, u, d_arr(j));
				list = json_object_get(children, u);
			}
			d_push(j, list, d_str(j, id));
		}
	}
	json_object_foreach(parents, id, v) sort_unique(j, v);
	json_object_foreach(children, id, v) sort_unique(j, v);
	d_set(j, root, "parent_map", parents);
	d_set(j, root, "child_map", children);
}

json_t *d_manifest(d_json *j, sl_models *m, const sl_docs_invocation *inv,
		   const char *const *compiled, sl_arena *a)
{
	json_t *root = d_obj(j);
	json_t *md = d_metadata(j, SL_DOCS_MANIFEST_SCHEMA, inv);
	d_set(j, md, "project_name", d_str(j, sl_models_project_name(m)));
	d_set(j, md, "project_id", d_null(j));
	d_set(j, md, "user_id", d_null(j));
	d_set(j, md, "send_anonymous_usage_stats", d_bool(j, false));
	d_set(j, md, "adapter_type", d_str(j, inv ? inv->adapter_type : NULL));
	d_set(j, md, "quoting", d_obj(j));
	d_set(j, md, "run_started_at", d_time(j, inv ? inv->generated_at : 0));
	d_set(j, root, "metadata", md);

	json_t *nodes = d_obj(j);
	for (int i = 0; i < sl_models_count(m); i++) {
		const sl_node *n = sl_models_node(m, i);
		if (n && n->unique_id)
			d_set(j, nodes, n->unique_id,
			      node_json(j, m, n, compiled ? compiled[i] : NULL, inv, a));
	}
	json_t *sources = d_obj(j);
	for (int i = 0; i < sl_models_source_count(m); i++) {
		const sl_model_source *s = sl_models_source_at(m, i);
		if (!s || !s->source || !s->table)
			continue;
		const char *id = s->unique_id;
		if (!id)
			id = sl_arena_sprintf(a, "source.%s.%s.%s",
					      s->package ? s->package : sl_models_project_name(m),
					      s->source, s->table);
		if (!id)
			j->oom = true;
		else if (!json_object_get(sources, id))
			d_set(j, sources, id, source_json(j, m, s, id, inv, a));
	}
	json_t *macros = d_obj(j);
	sl_model_macro mc;
	int rc;
	for (int i = 0; (rc = sl_models_macro_at(m, i, &mc, a)) == 1; i++)
		if (!json_object_get(macros, mc.unique_id))
			d_set(j, macros, mc.unique_id, macro_json(j, &mc));
	if (rc < 0)
		j->oom = true;

	json_t *docs = d_obj(j);
	sl_model_doc doc;
	for (int i = 0; (rc = sl_models_doc_at(m, i, &doc, a)) == 1; i++) {
		json_t *o = d_obj(j);
		d_set(j, o, "name", d_str(j, doc.name));
		d_set(j, o, "resource_type", d_str(j, "doc"));
		d_set(j, o, "package_name", d_str(j, doc.package));
		d_set(j, o, "path", d_str(j, ""));
		d_set(j, o, "original_file_path", d_str(j, ""));
		d_set(j, o, "unique_id", d_str(j, doc.unique_id));
		d_set(j, o, "block_contents", d_str0(j, doc.block_contents));
		d_set(j, docs, doc.unique_id, o);
	}
	if (rc < 0)
		j->oom = true;

	d_set(j, root, "nodes", nodes);
	d_set(j, root, "sources", sources);
	d_set(j, root, "macros", macros);
	d_set(j, root, "docs", docs);
	static const char *const empty[] = {"exposures", "metrics", "groups", "selectors",
					    "disabled", "semantic_models", "unit_tests",
					    "saved_queries"};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
		d_set(j, root, empty[i], d_obj(j));
	if (root && nodes && sources)
		graph_maps(j, root, nodes, sources);
	d_set(j, root, "group_map", d_obj(j));
	return root;
}

int sl_docs_write_manifest(sl_models *m, const sl_docs_invocation *inv, const char *target_dir,
			   sl_error *err)
{
	d_json j = {false};
	sl_arena a;
	sl_arena_init(&a, 16384);
	json_t *root = d_manifest(&j, m, inv, NULL, &a);
	int rc = d_write(&j, root, target_dir, "manifest.json", err);
	sl_arena_free(&a);
	return rc;
}
