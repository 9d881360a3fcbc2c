/*
 * engine: runs a project's pipeline as a graph of tasks — one extract task
 * per source table (source → batches → lake commit → progress) and one load
 * task per table (lake → warehouse), the load waiting for its extract —
 * executed in parallel with retries, timeouts and cancellation, and
 * recorded (runs, task attempts, the reconciliation ledger) in the state
 * store. Only cli/ and server/ print: the engine reports through results
 * and a progress callback.
 */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include "base/base.h"
#include "models/models.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

/* Strings of a table result are owned by it (sl_run_result_free). */
typedef struct sl_table_result {
	char *source;
	char *table;
	char *lake_table;       /* raw/<source>/<table>, NULL before extract/load */
	char task[32];          /* "extract", "load" or "extract+load" */
	int status;             /* 0 ok, else an SL_E* code */
	char *message;          /* error message when status != 0, else NULL */
	bool refused;           /* max_bad_rows refused the extract: nothing landed */
	bool skipped;           /* lake commit already present (rerun) */
	int extract_status;     /* sl_task_status of its extract task (NOT_SELECTED: none) */
	int load_status;        /* sl_task_status of its load task */
	int attempts;           /* attempts of its tasks, together */
	int64_t lake_version;
	int64_t files;
	int64_t files_changed;  /* files extracted again after they changed */
	int64_t rows_read;
	int64_t rows_landed;
	int64_t rows_quarantined;
	int64_t rows_loaded;    /* -1 when no load ran */
	uint64_t bytes;
	int64_t requests;       /* http/s3 requests made by the source */
	int64_t retries;        /* of which retries */
	double seconds;
	char *description;      /* what the source read ("3 files"), or NULL */
	char *renamed;          /* column names the source made unique, or NULL */
	char *respelled;        /* columns that took the lake table's spelling, or NULL */
} sl_table_result;

/* What a model, seed or snapshot task came to (strings owned by the result). */
typedef struct sl_node_run {
	char *id;               /* its unique_id: "model.shop.orders" */
	char *name;             /* "orders" */
	char *path;             /* "models/marts/orders.sql" */
	char *relation;         /* "schema.alias" it builds */
	const char *resource_type; /* "model", "seed", "snapshot" */
	const char *materialized;  /* "view", "table", ... */
	int status;             /* sl_task_status: SUCCESS, FAILED, SKIPPED, ... */
	char *message;          /* why it did not succeed, else NULL */
	sl_wh_build_result build; /* what the warehouse did (on success) */
	int64_t rows;           /* rows it wrote, -1 when unknown */
	int attempts;
	double seconds;
	int order;              /* 1-based, in the order nodes ended */
	/* tests (resource_type "test"): */
	int test_status;        /* sl_test_status when it ran, -1 otherwise */
	int64_t failures;       /* failing rows, -1 when it did not run */
	char *sample_json;      /* first 10 failing rows (JSON array), or NULL */
	char *compiled_sql;     /* what it ran, or NULL */
	const char *severity;   /* "error" or "warn" */
	char *stored_in;        /* where store_failures kept its failing rows
				   ("schema"."relation"), or NULL */
} sl_node_run;

typedef struct sl_run_result {
	char run_id[48];
	int64_t seq;
	char resumed_from[48];   /* the run this one resumed, or "" */
	int64_t logical_date;    /* micros since the epoch, UTC */
	int n;
	sl_table_result *tables; /* sl_free */
	int failed;              /* tables with a task that failed or timed out, or
				    whose outcome was not recorded */
	int tables_cancelled;    /* tables stopped by a cancellation, none failed */
	int tasks;               /* tasks selected */
	int tasks_succeeded;
	int tasks_failed;        /* failed or timed out */
	int tasks_skipped;       /* skipped: an upstream task did not succeed */
	int tasks_cancelled;
	bool cancelled;          /* the run's token was cancelled (Ctrl-C, SIGTERM) */
	double seconds;
	int nnodes;              /* selected models, seeds and snapshots */
	sl_node_run *nodes;      /* in graph order (sl_free) */
	int nodes_failed;        /* failed or timed out */
	int nodes_skipped;
	int nodes_cancelled;
	/* tests among the nodes, by outcome (a test skipped or cancelled
	 * counts in nodes_skipped / nodes_cancelled) */
	int tests_passed, tests_warned, tests_failed, tests_errored;
} sl_run_result;

void sl_run_result_free(sl_run_result *r);

/* The warehouse connection settings of a project target (borrowed strings). */
void sl_engine_wh_config(const sl_target *t, sl_wh_config *out);

/* Progress of a running task, for a terminal progress line. Called from the
 * executor's threads, several at once: the callee serializes. */
typedef void (*sl_progress_fn)(void *ctx, const char *task, int64_t rows, uint64_t bytes,
			       double seconds);

typedef struct sl_run_opts {
	const char *command;       /* "run", "extract", "load" (recorded) */
	const char *target;        /* NULL: the project's default target */
	bool extract;              /* run extract tasks */
	bool load;                 /* run load tasks */
	bool full_refresh;
	/* --select / --exclude items, the graph's syntax (sl_dag_select);
	 * NULL: all */
	const char *const *select;
	int nselect;
	const char *const *exclude;
	int nexclude;
	int threads;               /* tasks at once; <= 0: the machine's cores */
	bool fail_fast;            /* a failure cancels the rest of the run */
	sl_cancel *cancel;         /* the run's token (Ctrl-C, SIGTERM); may be NULL */
	const char *trigger;       /* cli (NULL), schedule, api, backfill */
	int64_t logical_date;      /* micros since the epoch; 0: now */
	int64_t data_interval_start; /* micros; both 0: the UTC day of the */
	int64_t data_interval_end;   /* logical date, [00:00, next 00:00) */
	/* A run id: rerun only the tasks of that run that did not succeed
	 * (failed, timed out, skipped, cancelled or never ran), with its
	 * logical date, data interval, selection and --full-refresh; select,
	 * exclude, full_refresh and the dates above must be left unset. */
	const char *resume;
	sl_progress_fn on_progress;
	void *progress_ctx;
	/* The project's models, seeds and snapshots (sl_models_open; NULL:
	 * none): their tasks join the graph, waiting for the load tasks of
	 * the sources they read. Which of them run: */
	sl_models *models;
	bool run_models;           /* models (ephemeral ones are inlined, never run) */
	bool run_seeds;
	bool run_snapshots;
	/* data tests (test nodes): with run_models/seeds/snapshots too (sluice
	 * build) each test runs after what it tests, and an error-severity
	 * test that fails skips everything downstream of the node it tests;
	 * alone (sluice test) only the tests run. */
	bool run_tests;
	/* indirect selection of tests, dbt's --indirect-selection: "eager"
	 * (default: a test runs when any node it reads is selected), "cautious"
	 * (only when every node it reads is), "buildable" or "empty" */
	const char *indirect_selection;
	/* With a selection: also run the extract and load tasks upstream of
	 * the selected models, seeds and snapshots (sluice build/run). */
	bool upstream_sources;
	/* Called on the thread that runs the graph each time a model, seed
	 * or snapshot task ended for good (also skipped or cancelled). */
	void (*on_node)(void *ctx, const sl_node_run *r, int total);
	void *node_ctx;
} sl_run_opts;

/*
 * Runs the pipeline. Returns 0 when the run could be carried out (tasks
 * may still have failed: see res->failed; a task whose outcome could not
 * be recorded in the state store failed too; res->cancelled when it was
 * cancelled), or a negative code when it could not start (state store,
 * lake or target unusable, a selection that matches nothing: SL_EUSAGE)
 * or its end could not be recorded.
 */
int sl_engine_run(const sl_project *p, const sl_run_opts *opts, sl_run_result *res,
		  sl_error *err);

/* ------------------------------------------------------------------ the DAG */

/*
 * A run is a graph of tasks. A task has a kind (extract and load now;
 * seed, model, snapshot, test and freshness plug in later), the relations
 * it reads and writes, the node name users select it by, and a run
 * function; the executor knows nothing else about it.
 */
typedef struct sl_task sl_task;

/* What one attempt of a task did: recorded with the attempt. */
typedef struct sl_task_outcome {
	int64_t rows;   /* rows the task moved (landed, loaded...) */
	uint64_t bytes; /* bytes it read */
	bool noop;      /* there was nothing to do (the work was already done) */
} sl_task_outcome;

typedef struct sl_task_kind {
	const char *name; /* "extract", "load" */
	/*
	 * Runs one attempt. ctx is the executor's caller's (the engine's run);
	 * cancel fires on Ctrl-C/SIGTERM, --fail-fast or the task's timeout:
	 * the task polls it at safe points and returns what sl_cancel_check
	 * returns (SL_ECANCELLED, SL_ETIMEOUT) without committing half its work.
	 */
	int (*run)(sl_task *t, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		   sl_error *err);
} sl_task_kind;

struct sl_task {
	const sl_task_kind *kind;
	const char *id;      /* unique in the graph: "extract:shop_files.orders" */
	const char *node;    /* the name selection uses: "shop_files.orders" */
	const char *source;  /* for source:NAME; NULL when none */
	const char *path;    /* the file it comes from, relative to the project
				folder (path:); NULL when none */
	const char *fqn;     /* dotted fully qualified name, dbt's fqn:
				"package.folder.name"; NULL when none */
	const char *package; /* the package it belongs to (package:); NULL */
	/* resolved configs as "key=value" (lists as JSON), for
	 * config.KEY:VALUE */
	const char *const *config;
	int nconfig;
	const char *const *tags;
	int ntags;
	const char *const *reads;  /* relations: "lake:raw/shop_files/orders" */
	int nreads;
	const char *const *writes; /* "warehouse:raw.shop_files__orders" */
	int nwrites;
	/* data tests (test_type:, test_name:): "generic" or "singular", and
	 * a generic test's name ("not_null"); NULL for other tasks */
	const char *test_type;
	const char *test_name;
	int *deps;           /* indexes of the tasks this one waits for */
	int ndeps;
	int retries;         /* attempts after the first; default 0 */
	double retry_delay;  /* seconds before the first retry, doubled after each
				(with jitter); default 10 */
	double timeout;      /* seconds per attempt; 0: none */
	void *data;          /* the kind's (borrowed: the graph does not free it) */
};

typedef struct sl_dag {
	int n;
	sl_task *tasks;  /* sl_free'd by sl_dag_free, with every deps array */
	int cap;
	sl_arena arena;  /* strings and string arrays of the tasks */
	int *id_slots;   /* private to dag.c: ids hashed to index + 1 */
	int id_nslots;
} sl_dag;

void sl_dag_init(sl_dag *g);
void sl_dag_free(sl_dag *g);
/*
 * Adds a task (copied; its strings and arrays into the graph's arena,
 * deps left empty) and returns its index, or a negative code (SL_EINVAL
 * when the id is taken).
 */
int sl_dag_add(sl_dag *g, const sl_task *t, sl_error *err);
/* task waits for upstream (indexes). */
int sl_dag_depend(sl_dag *g, int task, int upstream, sl_error *err);
/* Index of the task with id, or -1. */
int sl_dag_find(const sl_dag *g, const char *id);
/* SL_EINVAL naming the tasks of a cycle when the graph has one. */
int sl_dag_check(const sl_dag *g, sl_error *err);

/*
 * Marks in selected[g->n] the tasks that --select and --exclude pick, dbt's
 * syntax: a node name (`shop_files.orders`, globs allowed), a source
 * (`shop_files` or `source:shop_files`), `tag:NAME`, a kind
 * (`kind:extract`), a task id (`extract:shop_files.orders`), with `+`
 * before (and all upstream) or after (and all downstream), `N+`/`+N` for
 * N levels, `@x` for x, its downstream and all their upstream; items
 * separated by spaces (or repeated arguments) are a union, items joined
 * by commas an intersection. No select: everything. SL_EUSAGE when an item
 * of either list matches nothing (see select.c).
 */
int sl_dag_select(const sl_dag *g, const char *const *select, int nselect,
		  const char *const *exclude, int nexclude, bool *selected, sl_error *err);

/* The graph (the selected tasks; selected NULL: all) as text ("text": one
 * task per line in dependency order with what it waits for) or Graphviz
 * ("dot"). SL_EUSAGE for another format. */
int sl_dag_format(const sl_dag *g, const bool *selected, const char *format, sl_buf *out,
		  sl_error *err);

/* What the executor reports about attempts (each may be NULL). */
typedef enum {
	SL_TASK_PENDING = 0,
	SL_TASK_RUNNING,
	SL_TASK_SUCCESS,
	SL_TASK_FAILED,     /* every attempt failed */
	SL_TASK_UP_FOR_RETRY,
	SL_TASK_SKIPPED,    /* an upstream task failed or was skipped */
	SL_TASK_CANCELLED,  /* the run was cancelled before or while it ran */
	SL_TASK_TIMED_OUT,  /* its last attempt ran out of time */
	SL_TASK_NOT_SELECTED
} sl_task_status;
const char *sl_task_status_name(sl_task_status s); /* "success", "up_for_retry"... */

typedef struct sl_exec_opts {
	int threads;           /* tasks at once; <= 0: the machine's cores */
	bool fail_fast;        /* a failure cancels everything still running or waiting */
	sl_cancel *cancel;     /* the run's token (may be NULL); tasks get a child */
	void *ctx;             /* handed to each task's run */
	/* Called (from the executor's threads, one at a time) when an attempt
	 * starts; a negative return fails the attempt before it runs. */
	int (*on_start)(void *ctx, int task, int attempt, sl_error *err);
	/* Called when an attempt ended: status SUCCESS, FAILED, UP_FOR_RETRY,
	 * TIMED_OUT or CANCELLED, err its error (code 0 on success); a failed
	 * or timed-out attempt with retries left is UP_FOR_RETRY (err tells
	 * which: SL_ETIMEOUT for a timeout). A negative return turns a success
	 * into a failure (not retried; downstream skipped). Also called once
	 * (attempt 0) for every task that ends without an attempt of its own:
	 * SKIPPED (err names the upstream task, code 0) or CANCELLED (code
	 * SL_ECANCELLED; also a task that was waiting for its retry). The
	 * callbacks run on the thread that called sl_dag_execute. */
	int (*on_end)(void *ctx, int task, int attempt, sl_task_status status,
		      const sl_task_outcome *out, const sl_error *err, sl_error *rec_err);
} sl_exec_opts;

/*
 * Runs the selected tasks (selected NULL: all) in dependency order, at most
 * opts->threads at once. A task runs once every task it waits for succeeded
 * (an unselected upstream counts as done, though a selected task still
 * waits for the selected ones beyond it); a failed one is retried as its
 * retries say (the wait doubles after each retry, with ±25% jitter),
 * then everything downstream of it is skipped while other branches go on.
 * status[g->n] gets each task's final status. Returns 0
 * when every selected task succeeded, 1 when one failed, was skipped,
 * timed out or cancelled, or a negative code when the executor itself
 * could not go on (threads).
 */
int sl_dag_execute(const sl_dag *g, const bool *selected, const sl_exec_opts *opts,
		   sl_task_status *status, sl_error *err);

/* ---------------------------------------------------------- the run's graph */

/*
 * The project's task graph into g (initialised by the caller, sl_dag_free
 * after): with extract, an `extract` task per source table (id
 * "extract:SOURCE.TABLE"); with load, a `load` task per table ("load:...")
 * that waits for the table's extract when both are there. Node names are
 * "SOURCE.TABLE", tags the source's and the table's `tags:`, retries,
 * retry_delay and timeout the table's, else the source's, else sluice.yml's
 * `defaults:`. target names the warehouse relations (NULL: the default).
 */
int sl_engine_dag(sl_dag *g, const sl_project *p, const char *target, bool extract,
		  bool load, sl_error *err);

/*
 * The graph of a project with its models (sl_engine_dag's tasks, then one
 * task per node): a `seed`, `model` or `snapshot` task per node, id its
 * unique_id, node name its name, path, fqn ("package.folder.name"),
 * package, tags and config from the node; it reads the relations of the
 * nodes it depends on and writes "warehouse:SCHEMA.ALIAS". A node that
 * reads source('s', 't') waits for load:s.t when the graph has it (a
 * sluice project), else for a `source` task "source.PROJECT.s.t" that
 * does nothing (a dbt project's declared sources, for source:s+
 * selection). nodes may be fakes (unit tests); models NULL gives a graph
 * to select and print, not to run.
 */
typedef struct sl_graph_opts {
	const char *target;   /* names the warehouse relations (NULL: the default) */
	bool extract, load;   /* the source tables' tasks */
	const sl_node *nodes; /* the project's nodes */
	int nnodes;
	sl_models *models;    /* what node tasks build with, index for index */
	/* sluice build's order (dbt's): every node also waits for the tests
	 * of the nodes upstream of it whose parents are all upstream of it,
	 * so that a failing test skips what is built from what it tests */
	bool tests_gate;
} sl_graph_opts;
int sl_engine_graph(sl_dag *g, const sl_project *p, const sl_graph_opts *o, sl_error *err);

/* The tasks that only stand for something (a dbt source, an ephemeral
 * model): they never run and are never listed as run. */
bool sl_engine_task_is_placeholder(const sl_task *t);
/* The node a seed, model, snapshot or test task builds or runs (index
 * into the nodes the graph was made from), or -1 for other tasks. */
int sl_engine_task_node(const sl_task *t);

/*
 * dbt's indirect selection: adds to selected[] every test task whose
 * parents (the tasks it waits for) are selected — "eager" (NULL too): any
 * of them; "cautious": all; "buildable": all, or upstream of a selected
 * task; "empty": none. SL_EUSAGE for another mode.
 */
int sl_engine_select_tests(const sl_dag *g, const char *mode, bool *selected, sl_error *err);

/*
 * A sluice project's source tables as dbt sources for models (schema: the
 * target's raw_schema, identifier: SOURCE__TABLE), in a (strings and
 * array); *n 0 for a dbt project.
 */
int sl_engine_model_sources(const sl_project *p, const char *target, sl_arena *a,
			    sl_model_source **out, int *n, sl_error *err);

extern const sl_task_kind sl_engine_model_kind;
extern const sl_task_kind sl_engine_seed_kind;
extern const sl_task_kind sl_engine_snapshot_kind;
extern const sl_task_kind sl_engine_source_kind;
extern const sl_task_kind sl_engine_test_kind;

/* ------------------------------------------------------- source freshness */

/* One source table's freshness, measured (strings owned by the report). */
typedef struct sl_freshness_run {
	char *unique_id;        /* "source.<project>.<source>.<table>" */
	char *source, *table;
	sl_fresh_status status;
	int64_t max_loaded_at;  /* micros, UTC; 0: never loaded / no rows */
	int64_t snapshotted_at; /* micros, UTC */
	double age_seconds;
	sl_freshness criteria;  /* as configured (strings borrowed from models) */
	bool by_load_time;      /* measured by sluice's own load time, not loaded_at_field */
	char *message;          /* NULL on pass */
	double seconds;         /* how long measuring took */
} sl_freshness_run;

typedef struct sl_freshness_report {
	char run_id[48];
	int64_t started_at, ended_at; /* micros */
	int n;
	sl_freshness_run *items;      /* in source order */
	int passed, warned, errored, runtime_errors;
} sl_freshness_report;

void sl_freshness_report_free(sl_freshness_report *r);

/*
 * `sluice source freshness`: measures every selected source table that has
 * freshness criteria (select: source names or source:s.t items; NULL: all),
 * by loaded_at_field in the warehouse, or, in a sluice project without
 * loaded_at_field, by the end of its last successful load recorded in
 * state.db; records the results in state.db. Returns 0 when measured
 * (statuses in the report) or a negative code.
 */
int sl_engine_freshness(const sl_project *p, sl_models *models, const char *target,
			const char *const *select, int nselect, sl_freshness_report *out,
			sl_error *err);

/* The values of {{ ds }}, {{ data_interval_start }} and {{ data_interval_end }}
 * for a logical date and data interval (micros): "YYYY-MM-DD" and
 * "YYYY-MM-DDTHH:MM:SSZ". */
typedef struct sl_logical_dates {
	char ds[16];
	char data_interval_start[32];
	char data_interval_end[32];
} sl_logical_dates;
void sl_engine_logical_dates(int64_t logical_date, int64_t start, int64_t end,
			     sl_logical_dates *out);

/* Lake table name of a source table: "raw/<source>/<table>" (sl_free; NULL
 * when out of memory). */
char *sl_engine_lake_table(const char *source, const char *table);
/* Quarantine table of a source table: "quarantine/<source>/<table>" (sl_free). */
char *sl_engine_quarantine_table(const char *source, const char *table);

#endif
