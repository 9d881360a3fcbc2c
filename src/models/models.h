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
	SL_NODE_SNAPSHOT,
	SL_NODE_TEST           /* a data test: generic (properties YAML) or singular */
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
/* "model", "seed", "snapshot", "test". */
const char *sl_node_type_name(sl_node_type t);

/* A column documented in properties YAML (columns:). */
typedef struct sl_node_column {
	const char *name;
	const char *description;   /* doc() blocks rendered; "" when none */
	const char *data_type;     /* declared data_type:, or NULL */
	const char *meta_json;     /* meta: as JSON, "{}" when none */
	const char *const *tags;
	int ntags;
} sl_node_column;

typedef enum { SL_TEST_GENERIC = 0, SL_TEST_SINGULAR } sl_test_type;
typedef enum { SL_SEVERITY_ERROR = 0, SL_SEVERITY_WARN } sl_severity;

/* What a SL_NODE_TEST node tests and how it judges (dbt's test configs). */
typedef struct sl_node_test {
	sl_test_type type;
	/* generic: the test's name as written ("not_null", "accepted_values",
	 * "dbt_utils.expression_is_true"); singular: NULL */
	const char *test_name;
	const char *test_namespace; /* the package of the test macro, NULL: built in */
	/* every argument but model, as JSON: {"column_name":"id","values":[..]} */
	const char *kwargs_json;
	const char *column_name;    /* NULL: not a column test */
	/* unique_id of the model, seed, snapshot or source ("source.p.s.t")
	 * the test is on; NULL for singular tests */
	const char *attached_node;
	sl_severity severity;
	const char *warn_if;        /* "!= 0" */
	const char *error_if;       /* "!= 0" */
	const char *where;          /* NULL: none */
	int64_t limit;              /* -1: none */
	bool store_failures;
	/* where failing rows go when store_failures: schema
	 * "<target schema>_dbt_test__audit" (or the test's schema config), and
	 * the relation named as dbt names it (the test's alias or name) */
	const char *audit_schema;
	const char *audit_relation;
} sl_node_test;

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
	/* documentation (properties YAML; doc() blocks rendered) */
	const char *description;   /* "" when none */
	const sl_node_column *columns;
	int ncolumns;
	const char *meta_json;     /* "{}" when none */
	const char *patch_path;    /* the properties file documenting it, or NULL */
	const char *raw_code;      /* the file's text as written ("" for seeds) */
	const char *checksum;      /* sha256 of the file, hex */
	/* SL_NODE_TEST only, else NULL; depends_on and sources above hold
	 * every node and source the test's SQL reads (relationships' to:
	 * and ref() arguments included) */
	const sl_node_test *test;
} sl_node;

/* dbt's freshness: warn_after / error_after {count, period}. */
typedef struct sl_freshness_rule {
	int64_t count;           /* 0: not set */
	const char *period;      /* "minute", "hour" or "day" */
	int64_t seconds;         /* count * period, 0: not set */
} sl_freshness_rule;

typedef struct sl_freshness {
	bool set;                /* freshness: given (and not null) */
	sl_freshness_rule warn_after, error_after;
	const char *filter;      /* freshness.filter: a SQL condition, or NULL */
} sl_freshness;

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
	/* set by sl_models_source_at from properties YAML (table settings
	 * over the source's, as dbt merges them): */
	const char *unique_id;          /* "source.<package>.<source>.<table>" */
	const char *description;        /* the table's, "" when none */
	const char *source_description; /* the source's, "" when none */
	const char *loader;             /* "" when none */
	const char *loaded_at_field;    /* NULL: none */
	sl_freshness freshness;
	const sl_node_column *columns;
	int ncolumns;
	const char *meta_json;          /* "{}" when none */
	const char *const *tags;
	int ntags;
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

/* A macro of the project or one of its packages (for manifest.json). */
typedef struct sl_model_macro {
	const char *unique_id;   /* "macro.<package>.<name>" */
	const char *name;        /* tests' macros: "test_<name>" */
	const char *package;
	const char *path;        /* its file, relative to the package root */
	const char *macro_sql;   /* from {% macro %} to {% endmacro %}; "" when unknown */
} sl_model_macro;

/*
 * Fills *out with the i-th macro of the project and its packages (sluice's
 * built-in ones not included), strings in a. Returns 1 when filled, 0 past
 * the last macro, SL_ENOMEM.
 */
int sl_models_macro_at(const sl_models *m, int i, sl_model_macro *out, sl_arena *a);
/* A docs block ({% docs name %}...{% enddocs %} in a .md file). */
typedef struct sl_model_doc {
	const char *unique_id;   /* "doc.<project>.<name>" */
	const char *name;
	const char *package;     /* the root project's name */
	const char *block_contents;
} sl_model_doc;

/* Fills *out with the i-th docs block (strings in a or borrowed from m):
 * 1 when filled, 0 past the last, SL_ENOMEM. */
int sl_models_doc_at(const sl_models *m, int i, sl_model_doc *out, sl_arena *a);

/* The root project's name (dbt_project.yml's name:, or sluice.yml's). */
const char *sl_models_project_name(const sl_models *m);

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

/* ------------------------------------------------------------ data tests */

typedef enum {
	SL_TEST_PASS = 0,
	SL_TEST_WARN,       /* failures matched warn_if (or error_if at severity warn) */
	SL_TEST_FAIL,       /* failures matched error_if at severity error */
	SL_TEST_ERROR       /* the test's SQL could not run */
} sl_test_status;

/* "pass", "warn", "fail", "error". */
const char *sl_test_status_name(sl_test_status s);

typedef struct sl_test_result {
	sl_test_status status;
	int64_t failures;     /* the failing rows dbt counts, -1 when it did not run */
	char *message;        /* "Got 3 results, configured to fail if != 0"; NULL on pass */
	char *compiled_sql;   /* the test's SQL (what returns its failing rows) */
	/* the first 10 failing rows as a JSON array of objects (column ->
	 * text or null), "[]" when none */
	char *sample_json;
	char *stored_in;      /* "schema"."relation" where store_failures kept
				 the rows, or NULL */
} sl_test_result;

void sl_test_result_free(sl_test_result *r);

/*
 * Runs test node i in wh: compiles it (generic tests through their
 * test_<name> macro and dbt's get_test_sql wrapping, where:/limit
 * applied), counts the failing rows, judges them by severity, warn_if and
 * error_if, samples the first 10, and with store_failures replaces the
 * audit table with every failing row. Writes target/compiled/ and
 * target/run/ files as dbt does. Returns 0 when the test ran (res->status
 * says pass, warn or fail) or a negative code when it could not (res
 * ->status SL_TEST_ERROR, res->compiled_sql set when it compiled).
 */
int sl_models_test(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
		   sl_test_result *res, sl_error *err);

/* ------------------------------------------------------------- freshness */

typedef enum {
	SL_FRESH_PASS = 0,
	SL_FRESH_WARN,
	SL_FRESH_ERROR,         /* older than error_after */
	SL_FRESH_RUNTIME_ERROR  /* could not be measured */
} sl_fresh_status;

/* "pass", "warn", "error", "runtime error" (dbt's words). */
const char *sl_fresh_status_name(sl_fresh_status s);

/* Judges an age (seconds) by f: error_after first, then warn_after. */
sl_fresh_status sl_freshness_judge(const sl_freshness *f, double age_seconds);

typedef struct sl_freshness_result {
	sl_fresh_status status;
	int64_t max_loaded_at;   /* micros since the epoch, UTC; 0: no rows */
	int64_t snapshotted_at;  /* micros: the warehouse's now when measured */
	double age_seconds;
	char *message;           /* NULL on pass */
	char *sql;               /* the query run */
} sl_freshness_result;

void sl_freshness_result_free(sl_freshness_result *r);

/*
 * Measures source s (index for sl_models_source_at) that has a
 * loaded_at_field: select max(loaded_at_field) (where freshness.filter)
 * and the warehouse's current time, then judges. A source with no
 * loaded_at_field is SL_EUSAGE (the engine measures a sluice project's
 * tables by their load times instead).
 */
int sl_models_freshness(sl_models *m, int s, sl_wh *wh, sl_freshness_result *res,
			sl_error *err);

#endif
