/*
 * site_data.c: the one JSON object the site's pages are drawn from —
 * the manifest's nodes and sources (the fields pages show), its parent
 * and child maps, the catalog's tables (types, row counts), the column
 * lineage, and the last result of every test from the state store.
 */
#include "docs/site_int.h"

#include "state/state.h"

#include <string.h>

/* The manifest fields a page shows; the rest (macros, hooks...) stay in
 * manifest.json. */
static const char *const node_keys[] = {
	"unique_id", "resource_type", "name", "package_name", "path", "original_file_path",
	"description", "columns", "depends_on", "raw_code", "compiled_code", "config", "tags",
	"meta", "relation_name", "database", "schema", "alias", "fqn", "test_metadata",
	"column_name", "attached_node", "source_name", "source_description", "loader",
	"identifier", "freshness", "loaded_at_field", "language", "patch_path", "doc_blocks",
};

static int copy_nodes(json_t *into, json_t *map)
{
	const char *uid;
	json_t *n;
	json_object_foreach(map, uid, n) {
		if (!json_is_object(n))
			continue;
		json_t *config = json_object_get(n, "config");
		if (json_is_false(json_object_get(config, "enabled")))
			continue;
		json_t *o = json_object();
		if (!o)
			return SL_ENOMEM;
		for (size_t i = 0; i < sizeof node_keys / sizeof node_keys[0]; i++) {
			json_t *v = json_object_get(n, node_keys[i]);
			if (v && json_object_set(o, node_keys[i], v) < 0) {
				json_decref(o);
				return SL_ENOMEM;
			}
		}
		if (json_object_set_new(into, uid, o) < 0)
			return SL_ENOMEM;
	}
	return 0;
}

/* catalog.json's nodes and sources in one map by unique_id. */
static int copy_catalog(json_t *into, json_t *catalog)
{
	static const char *const parts[] = {"nodes", "sources"};
	for (size_t i = 0; i < 2; i++) {
		json_t *m = json_object_get(catalog, parts[i]);
		if (json_is_object(m) && json_object_update(into, m) < 0)
			return SL_ENOMEM;
	}
	return 0;
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, v ? json_string(v) : json_null()) < 0 ? SL_ENOMEM : 0;
}

/* One state.db result as the site shows it; keyed by the test's id. */
static int result_json(json_t **out, const sl_state_test_result *r)
{
	char at[64];
	json_t *o = json_object();
	if (!o)
		return SL_ENOMEM;
	sl_timestamp_format_iso(r->at, at);
	int rc = set_str(o, "status", r->status);
	if (rc == 0)
		rc = set_str(o, "message", r->message);
	if (rc == 0)
		rc = set_str(o, "run_id", r->run_id);
	if (rc == 0)
		rc = set_str(o, "tested", r->table);
	if (rc == 0)
		rc = set_str(o, "at", at);
	if (rc == 0)
		rc = set_str(o, "compiled_sql", r->compiled_sql);
	if (rc == 0 && json_object_set_new(o, "failures", json_integer(r->failures)) < 0)
		rc = SL_ENOMEM;
	if (rc == 0 && json_object_set_new(o, "seconds", json_real(r->seconds)) < 0)
		rc = SL_ENOMEM;
	if (rc == 0 && r->sample_json) {
		/* A sample that is not JSON is shown as its text. */
		json_t *sample = json_loads(r->sample_json, JSON_DECODE_ANY, NULL);
		if (!sample)
			sample = json_string(r->sample_json);
		if (json_object_set_new(o, "sample", sample) < 0)
			rc = SL_ENOMEM;
	}
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/*
 * The latest result per test from project_dir/.sluice/state.db. A project
 * that never ran has no state.db: no results, and none is created.
 */
static int copy_results(json_t *into, const char *project_dir, bool *had_state, sl_error *err)
{
	sl_state *st = NULL;
	sl_state_test_results l = {0};
	char *db = NULL;
	int rc = 0;

	*had_state = false;
	if (!project_dir)
		return 0;
	db = sl_path_join(project_dir, ".sluice/state.db");
	if (!db)
		return sl_error_set(err, SL_ENOMEM, "docs site: out of memory");
	if (!sl_path_exists(db))
		goto done;
	rc = sl_state_open(&st, project_dir, err);
	if (rc == 0)
		rc = sl_state_test_results_list(st, NULL, &l, err);
	if (rc < 0) {
		sl_error_prefix(err, "docs site: test results: ");
		goto done;
	}
	*had_state = true;
	for (int i = 0; i < l.n && rc == 0; i++) {
		const sl_state_test_result *r = &l.items[i];
		json_t *o;
		if (!r->test || !*r->test)
			continue;
		rc = result_json(&o, r);
		/* Later results of the same test (the list is oldest first) win. */
		if (rc == 0 && json_object_set_new(into, r->test, o) < 0)
			rc = SL_ENOMEM;
		if (rc < 0)
			sl_error_set(err, rc, "docs site: out of memory");
	}
done:
	sl_state_test_results_free(&l);
	sl_state_close(st);
	sl_free(db);
	return rc;
}

static json_t *object_or_empty(json_t *o)
{
	return json_is_object(o) ? json_incref(o) : json_object();
}

/* Sets key to v (a new reference, taken even on failure). */
static int set_new(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) < 0 ? SL_ENOMEM : 0;
}

/*
 * The home page's text: the project's own `__overview__` docs block
 * (doc.<project>.__overview__), else any package's, else NULL (the site
 * then shows its default overview).
 */
static const char *overview_of(json_t *manifest, const char *project)
{
	json_t *docs = json_object_get(manifest, "docs"), *d;
	const char *key, *found = NULL;

	json_object_foreach(docs, key, d)
	{
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *pkg = json_string_value(json_object_get(d, "package_name"));
		const char *text = json_string_value(json_object_get(d, "block_contents"));

		if (!name || strcmp(name, "__overview__") != 0 || !text)
			continue;
		if (project && pkg && strcmp(pkg, project) == 0)
			return text;
		if (!found)
			found = text;
	}
	return found;
}

int sl_docs_site_data(json_t **out, json_t *manifest, json_t *catalog, json_t *lineage,
		      const char *project_dir, sl_error *err)
{
	json_t *data = json_object(), *nodes = json_object(), *cat = json_object(),
	       *results = json_object(), *meta = json_object();
	json_t *mmeta = json_object_get(manifest, "metadata");
	bool had_state = false;
	int rc = 0;

	if (!data || !nodes || !cat || !results || !meta) {
		rc = sl_error_set(err, SL_ENOMEM, "docs site: out of memory");
		goto done;
	}
	rc = copy_nodes(nodes, json_object_get(manifest, "sources"));
	if (rc == 0)
		rc = copy_nodes(nodes, json_object_get(manifest, "nodes"));
	if (rc == 0 && catalog)
		rc = copy_catalog(cat, catalog);
	if (rc < 0) {
		sl_error_set(err, rc, "docs site: out of memory");
		goto done;
	}
	rc = copy_results(results, project_dir, &had_state, err);
	if (rc < 0)
		goto done;

	rc = set_str(meta, "project", json_string_value(json_object_get(mmeta, "project_name")));
	if (rc == 0)
		rc = set_str(meta, "generated_at",
			     json_string_value(json_object_get(mmeta, "generated_at")));
	if (rc == 0)
		rc = set_str(meta, "adapter", json_string_value(json_object_get(mmeta, "adapter_type")));
	if (rc == 0)
		rc = set_str(meta, "invocation_id",
			     json_string_value(json_object_get(mmeta, "invocation_id")));
	if (rc == 0)
		rc = set_str(meta, "overview",
			     overview_of(manifest, json_string_value(
							   json_object_get(mmeta, "project_name"))));
	if (rc == 0)
		rc = set_new(meta, "catalog", json_boolean(catalog != NULL));
	if (rc == 0)
		rc = set_new(meta, "lineage", json_boolean(lineage != NULL));
	if (rc == 0)
		rc = set_new(meta, "state", json_boolean(had_state));
	if (rc == 0)
		rc = set_new(data, "meta", json_incref(meta));
	if (rc == 0)
		rc = set_new(data, "nodes", json_incref(nodes));
	if (rc == 0)
		rc = set_new(data, "parents", object_or_empty(json_object_get(manifest, "parent_map")));
	if (rc == 0)
		rc = set_new(data, "children", object_or_empty(json_object_get(manifest, "child_map")));
	if (rc == 0)
		rc = set_new(data, "catalog", json_incref(cat));
	if (rc == 0)
		rc = set_new(data, "lineage", object_or_empty(json_object_get(lineage, "nodes")));
	if (rc == 0)
		rc = set_new(data, "results", json_incref(results));
	if (rc < 0) {
		sl_error_set(err, rc, "docs site: out of memory");
		goto done;
	}
	*out = json_incref(data);
done:
	json_decref(data);
	json_decref(nodes);
	json_decref(cat);
	json_decref(results);
	json_decref(meta);
	return rc;
}
