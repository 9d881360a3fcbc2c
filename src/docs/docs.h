/*
 * docs.h: what sluice writes for people and for dbt's ecosystem — dbt's
 * artifacts in the project's target/ folder (manifest.json,
 * run_results.json, sources.json, catalog.json, following dbt's published
 * JSON schemas), sluice's column lineage (column_lineage.json), and the
 * documentation site (target/docs/: static pages that open from the file
 * system, lineage laid out by Graphviz), with `docs serve`'s HTTP server.
 */
#ifndef SL_DOCS_H
#define SL_DOCS_H

#include "base/base.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

/* What every artifact's metadata says about the invocation. */
typedef struct sl_docs_invocation {
	const char *invocation_id;   /* uuid (the run id for runs) */
	const char *command;         /* "build", "run", "test", "docs generate"... */
	const char *target;          /* the target's name */
	const char *adapter_type;    /* "sqlite", "postgres" */
	int64_t generated_at;        /* micros since the epoch, UTC */
	const char *const *args;     /* the command line, for run_results' args */
	int nargs;
	bool no_compile;             /* sl_docs_generate: --no-compile (nothing compiled) */
	/* the target's database, written as the database (and in the
	 * relation_name) of every node and source that names none:
	 * sl_docs_target_database(); NULL writes null */
	const char *database;
} sl_docs_invocation;

/*
 * The database dbt's adapter writes for t in the artifacts: PostgreSQL's
 * dbname; NULL for SQLite (dbt-sqlite leaves the database out of relation
 * names, and sluice's SQLite targets name none) and when t is NULL.
 */
const char *sl_docs_target_database(const sl_target *t);

/*
 * target/manifest.json (schema v12): metadata, nodes (models, seeds,
 * snapshots, tests with dbt's unique_ids, depends_on, config, columns,
 * descriptions, raw and compiled code when known), sources, macros,
 * docs, exposures/metrics/groups/... empty, parent_map, child_map.
 * Written atomically (temp file + rename). target_dir: the project's
 * target folder (created when missing).
 */
int sl_docs_write_manifest(sl_models *m, const sl_docs_invocation *inv,
			   const char *target_dir, sl_error *err);

/*
 * target/run_results.json (schema v6): one result per node that the run
 * selected (tests included): unique_id, status (models: success, error,
 * skipped; tests: pass, fail, warn, error, skipped), timing, thread_id,
 * execution_time, failures, message, adapter_response, compiled_code,
 * relation_name; elapsed_time and args.
 */
int sl_docs_write_run_results(sl_models *m, const sl_run_result *r,
			      const sl_docs_invocation *inv, const char *target_dir,
			      sl_error *err);

/* target/sources.json (schema v3): one result per source measured. */
int sl_docs_write_sources(const sl_freshness_report *r, const sl_docs_invocation *inv,
			  const char *target_dir, sl_error *err);

/*
 * `sluice docs generate`: compiles every model (target/compiled/), reads
 * the warehouse's catalog (sl_wh_catalog) for the project's relations and
 * sources, writes manifest.json, catalog.json (schema v1: nodes and
 * sources with columns, types, row counts of tables), column_lineage.json
 * and the site under target/docs/. wh may be NULL when the warehouse
 * cannot be reached: the catalog is then empty and the site says so.
 */
int sl_docs_generate(sl_models *m, const sl_project *p, sl_wh *wh,
		     const sl_docs_invocation *inv, const char *target_dir, sl_error *err);

/*
 * target/column_lineage.json (sluice's own artifact; dbt has none):
 *   {"metadata": {"generated_at": "...", "invocation_id": "..."},
 *    "nodes": {"model.p.m": {"error": null | "why not traced",
 *              "columns": {"col": {"how": "direct|transformed|aggregated",
 *                                  "from": [{"node": "model.p.x" | null,
 *                                            "relation": "\"main\".\"x\"",
 *                                            "column": "id"}]}}}}}
 * Written by sl_docs_generate; read by the site.
 */

/*
 * The documentation site into target_dir/docs/: index.html (data and
 * SVG embedded, so it opens from file:// with no server and no internet)
 * built from target_dir's manifest.json, catalog.json and
 * column_lineage.json, with the last result of every test from the
 * project's state store (project_dir's .sluice/state.db, when there).
 */
int sl_docs_write_site(const char *target_dir, const char *project_dir, sl_error *err);

/*
 * `sluice docs serve`: serves target_dir/docs/ (read only) on host:port
 * (127.0.0.1 by default) until cancel fires. port 0 picks a free one;
 * *bound gets the port (may be NULL); on_ready (may be NULL) is called
 * once listening.
 */
int sl_docs_serve(const char *target_dir, const char *host, int port, const sl_cancel *cancel,
		  void (*on_ready)(void *ud, const char *url), void *ud, sl_error *err);

#endif
