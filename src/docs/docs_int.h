/*
 * docs_int.h: what the artifact writers of docs/ share — building JSON
 * with jansson (a builder that remembers a failed allocation, so callers
 * check once at the end), the metadata every dbt artifact opens with, and
 * the atomic write of a JSON file into the target folder.
 */
#ifndef SL_DOCS_INT_H
#define SL_DOCS_INT_H

#include "docs/docs.h"

#include <jansson.h>

/* The version written as dbt_version in every artifact: sluice's own (keep
 * in step with SL_VERSION in cli/cli.c). */
#define SL_DOCS_SLUICE_VERSION "0.1.0"

#define SL_DOCS_MANIFEST_SCHEMA "https://schemas.getdbt.com/dbt/manifest/v12.json"
#define SL_DOCS_RUN_RESULTS_SCHEMA "https://schemas.getdbt.com/dbt/run-results/v6.json"
#define SL_DOCS_SOURCES_SCHEMA "https://schemas.getdbt.com/dbt/sources/v3.json"
#define SL_DOCS_CATALOG_SCHEMA "https://schemas.getdbt.com/dbt/catalog/v1.json"

/* A JSON builder: every helper takes it, and a failed allocation sets oom
 * (the value handed in is released), so a whole document is checked once. */
typedef struct d_json {
	bool oom;
} d_json;

/* A string, or null when s is NULL (text that is not UTF-8 is written with
 * its invalid bytes replaced by '?'). */
json_t *d_str(d_json *j, const char *s);
/* A string made in an arena: NULL means out of memory. */
json_t *d_astr(d_json *j, const char *s);
/* A string, "" when s is NULL. */
json_t *d_str0(d_json *j, const char *s);
json_t *d_int(d_json *j, int64_t v);
json_t *d_real(d_json *j, double v);
json_t *d_bool(d_json *j, bool v);
json_t *d_null(d_json *j);
json_t *d_obj(d_json *j);
json_t *d_arr(d_json *j);
/* Parses JSON text (meta_json, kwargs_json); dflt ("{}") when NULL or not
 * JSON. */
json_t *d_parse(d_json *j, const char *text, const char *dflt);
/* An array of strings. */
json_t *d_strs(d_json *j, const char *const *v, int n);
/* o[k] = v (steals v; releases v when o is NULL or on failure). */
void d_set(d_json *j, json_t *o, const char *k, json_t *v);
/* a.append(v) (steals v). */
void d_push(d_json *j, json_t *a, json_t *v);
/* micros since the epoch as dbt writes times: "2024-05-01T10:00:00.123456Z";
 * null for 0. */
json_t *d_time(d_json *j, int64_t micros);

/* {dbt_schema_version, dbt_version, generated_at, invocation_id, env}. */
json_t *d_metadata(d_json *j, const char *schema, const sl_docs_invocation *inv);

/* Writes root to target_dir/name (target_dir created when missing) through
 * a temp file renamed into place; releases root. SL_ENOMEM when j->oom. */
int d_write(d_json *j, json_t *root, const char *target_dir, const char *name,
	    sl_error *err);

/* "\"schema\".\"alias\"" or "\"database\".\"schema\".\"alias\"" as dbt's
 * relation_name (identifiers quoted, quotes doubled), into a. */
const char *d_relation_name(sl_arena *a, const char *database, const char *schema,
			    const char *alias);

/* A node's or source's database: its own when set, else the target's
 * (inv->database, may be NULL). */
const char *d_database(const sl_docs_invocation *inv, const char *own);

/* The source unique_id of "source_name.table_name" as a node names it: the
 * declared source's unique_id, else "source.<project>.<s>.<t>". In a. */
const char *d_source_id(sl_models *m, sl_arena *a, const char *dotted);

/* {warn_after: {count, period}, error_after: {...}, filter}, nulls when
 * not set (the manifest's freshness and sources.json's criteria). */
json_t *d_freshness(d_json *j, const sl_freshness *f);

/*
 * manifest.json's document (docs_manifest.c); compiled (may be NULL) is
 * each node's compiled SQL, index for index with sl_models_node (NULL
 * entries: not compiled).
 */
json_t *d_manifest(d_json *j, sl_models *m, const sl_docs_invocation *inv,
		   const char *const *compiled, sl_arena *a);

#endif
