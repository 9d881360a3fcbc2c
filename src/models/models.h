/*
 * models.h: the SQL project in dbt's layout — a dbt project
 * (dbt_project.yml) or a sluice project's models/, seeds/, snapshots/ and
 * macros/: discovery, configs resolved as dbt resolves them, the node
 * graph, compilation through template/ with dbt's context, and building
 * each node in a warehouse through the warehouse's materializations.
 */
#ifndef SL_MODELS_H
#define SL_MODELS_H

#include "base/base.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

typedef enum {
	SL_NODE_MODEL = 0,
	SL_NODE_SEED,
	SL_NODE_SNAPSHOT
} sl_node_type;

typedef enum {
	SL_MAT_VIEW = 0,
	SL_MAT_TABLE,
	SL_MAT_INCREMENTAL,
	SL_MAT_EPHEMERAL,
	SL_MAT_SEED,
	SL_MAT_SNAPSHOT
} sl_materialized;

/* "view", "table", ... as dbt spells them. */
const char *sl_materialized_name(sl_materialized m);
/* "model", "seed", "snapshot". */
const char *sl_node_type_name(sl_node_type t);

/* One node of the project (enabled ones only); strings owned by sl_models. */
typedef struct sl_node {
	sl_node_type type;
	const char *unique_id;   /* "model.jaffle_shop.orders", as dbt names it */
	const char *name;        /* "orders" */
	const char *package;     /* the project's (or a local package's) name */
	/* dbt's original_file_path: relative to the node's package root (the
	 * project dir for the root project's nodes, the package's folder for
	 * a local or installed package's): "models/marts/orders.sql" */
	const char *path;
	const char *database;    /* the relation's database (NULL: the target's) */
	const char *schema;      /* the relation's schema (generate_schema_name) */
	const char *alias;       /* the relation's name (generate_alias_name) */
	sl_materialized materialized;
	const char *const *tags;
	int ntags;
	/* unique_ids of the models, seeds and snapshots it reads */
	const char *const *depends_on;
	int ndepends_on;
	/* sources it reads, "source_name.table_name" */
	const char *const *sources;
	int nsources;
	/* every resolved config as "key=value" (lists and dicts as JSON), for
	 * config.KEY:VALUE selection and `ls --output json` */
	const char *const *config;
	int nconfig;
} sl_node;

/* A source a node may read (`{{ source('s', 't') }}`). */
typedef struct sl_model_source {
	const char *source;   /* "shop_files" */
	const char *table;    /* "orders" */
	const char *schema;   /* where it is in the warehouse */
	const char *identifier;
	/* set by sl_models_source_at (not read from extra_sources): */
	const char *database; /* the properties' database:, or NULL */
	const char *package;  /* the package declaring it */
	const char *path;     /* its file: "models/staging/_sources.yml", "sluice.yml" */
} sl_model_source;

typedef struct sl_models_opts {
	const char *project_dir;
	const sl_project *project;  /* the loaded project (sluice.yml or
				       dbt_project.yml + profiles.yml) */
	const sl_target *target;    /* the selected target */
	const char *vars_yaml;      /* --vars (YAML or JSON); NULL: none */
	bool full_refresh;          /* --full-refresh */
	const char *invocation_id;  /* uuid of the invocation */
	const char *run_started_at; /* UTC ISO 8601 */
	int threads;                /* target.threads as templates see it */
	/* a sluice project's source tables (dbt sources besides those
	 * declared in properties YAML); may be NULL */
	const sl_model_source *extra_sources;
	int nextra_sources;
} sl_models_opts;

typedef struct sl_models sl_models;

/*
 * Reads the project: discovers models, seeds, snapshots and macros
 * (local packages too), reads properties YAML, parses every template
 * once, renders each node once for its ref()/source()/config() calls,
 * resolves configs (project tree < properties < config()), and builds the
 * graph. A cycle is SL_ECONFIG naming it; an unknown ref names the
 * closest model; a template error is SL_EFORMAT "path:line:column: what".
 * Configuration errors SL_ECONFIG "path:line: what; what to do".
 */
int sl_models_open(sl_models **out, const sl_models_opts *o, sl_error *err);
void sl_models_free(sl_models *m);

int sl_models_count(const sl_models *m);
const sl_node *sl_models_node(const sl_models *m, int i);
/* Index of the node with that unique_id, or -1. */
int sl_models_find(const sl_models *m, const char *unique_id);
/* Every declared source table (properties YAML sources: of every package,
 * then the sluice project's extra_sources), read or not, in that order. */
int sl_models_source_count(const sl_models *m);
const sl_model_source *sl_models_source_at(const sl_models *m, int i);

/*
 * Renders node i's SQL for execution against wh (is_incremental() and
 * this look at wh; ephemeral models it refs are inlined as CTEs), into
 * *sql (sl_free). Also writes target/compiled/<package>/<path> when
 * write_file.
 */
int sl_models_compile(sl_models *m, int i, sl_wh *wh, bool write_file, char **sql,
		      sl_error *err);

/*
 * Renders an ad-hoc SQL text (`show --inline`) with the root project's
 * context — ref (ephemerals inlined as CTEs), source, var, the project's
 * and packages' macros — for execution against wh, into *out (sl_free).
 * Template errors are "--inline:line:column: what". Nothing is written
 * under target/.
 */
int sl_models_compile_inline(sl_models *m, const char *sql, sl_wh *wh, char **out,
			     sl_error *err);

typedef struct sl_node_result {
	sl_wh_build_result build; /* what the warehouse did */
	int64_t rows;             /* rows the node wrote, -1 when unknown */
} sl_node_result;

/*
 * Compiles and builds node i in wh (pre_hooks, the materialization,
 * post_hooks), writing target/run/<package>/<path>. Several nodes may be
 * built at once from different threads, each with its own wh.
 */
int sl_models_build(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
		    sl_node_result *res, sl_error *err);

#endif
