/* engine_int.h (private to engine/): what one task attempt works with. */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include "engine/engine.h"
#include "lake/lake.h"
#include "state/state.h"
#include "warehouse/warehouse.h"

#include <pthread.h>

/*
 * One task attempt's view of the run: the run's settings (shared, read
 * only), the run's lake handle (thread-safe, shared) and handles of its
 * own — a state store connection, a warehouse connection and the table lock — so that attempts running in
 * parallel share no mutable handle (SQLite connections, curl handles and
 * warehouse connections each belong to one thread).
 */
typedef struct engine_run {
	const sl_project *project;
	const sl_run_opts *opts;
	const sl_target *target;
	sl_state *state;
	sl_lake *lake;        /* the run's (engine_exec.lake), borrowed */
	char run_id[SL_RUN_ID_MAX];
	int64_t seq;
	sl_logical_dates dates; /* for {{ ds }} and the data interval in sources */
	const sl_cancel *cancel; /* the attempt's token: polled at safe points */
	sl_wh *wh;            /* opened by the load task when it needs it */
	struct engine_watch *watch; /* interrupts wh on cancellation (NULL: none) */
	char *table_lock;     /* the state lock this attempt holds, NULL when none */
	double lock_renewed;  /* monotonic time of its last renewal */
} engine_run;

/*
 * watch.c: interrupts wh (sl_wh_interrupt) while cancel is cancelled, from
 * a thread of its own, between engine_watch_start and engine_watch_stop.
 * Stop it before wh is closed. A NULL cancel starts no thread.
 */
typedef struct engine_watch {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const sl_cancel *cancel;
	sl_wh *wh;            /* under mu; NULL: nothing to interrupt yet */
	bool stop;            /* under mu */
	bool running;
	int interrupts;       /* how many were sent (under mu) */
	sl_state *state;      /* renews lock's lease through it (under mu) */
	const char *lock;
	double renewed;
} engine_watch;

int engine_watch_start(engine_watch *w, const sl_cancel *cancel, sl_wh *wh, sl_error *err);
/* The connection to interrupt from now on (opened later by the attempt). */
void engine_watch_set(engine_watch *w, sl_wh *wh);
/* Renews lock (held through st, which the caller leaves alone until
 * engine_watch_stop) every minute; st NULL: nothing to renew. */
void engine_watch_renew(engine_watch *w, sl_state *st, const char *lock);
void engine_watch_stop(engine_watch *w);

/* A new string formatted as printf does (sl_free; NULL when out of memory). */
char *sl_engine_printf(const char *fmt, ...) SL_PRINTF(1, 2);

/*
 * Renews the table lock's lease when a minute has passed; long extracts
 * and loads call it between batches. SL_ECONFLICT when the lock was lost.
 */
int sl_engine_heartbeat(engine_run *run, sl_error *err);

int sl_engine_extract_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			    sl_table_result *res, sl_error *err);
int sl_engine_load_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			 sl_table_result *res, sl_error *err);

/* ------------------------------------------------- tasks.c and graph.c */

/* What an extract or load task of the graph points at (sl_task.data). */
typedef struct engine_table {
	const sl_source *src;
	const sl_source_table *t;
	int index;            /* the table's result in sl_run_result.tables */
} engine_table;

/* The run a task's attempt belongs to (the executor's ctx). */
typedef struct engine_exec {
	const sl_project *project;
	const sl_run_opts *opts;
	const sl_target *target;
	const sl_dag *graph;
	char run_id[SL_RUN_ID_MAX];
	int64_t seq;
	sl_logical_dates dates;
	sl_state *state;         /* the run's records: used from on_start/on_end,
				    which the executor serializes */
	sl_run_result *res;
	int64_t *attempt_ids;    /* per task: its current attempt's row in state.db */
	sl_task_status *ended;   /* per task: its final status once it ended */
	int *table_left;         /* per table: its selected tasks not ended yet */
	sl_lake *lake;           /* the run's lake handle, shared by every attempt: it
				    replays each table's log once per run (see lake.h) */
	bool commit_locks;       /* lake_commit_lock: state */
	struct engine_commit_hold *holds; /* the commit locks held, each through a
				    connection of its own; the list behind lock_mu */
	pthread_mutex_t lock_mu;
	/* models, seeds and snapshots (models_tasks.c) */
	int *node_result;        /* per task: its sl_node_run in res->nodes, or -1 */
	double *started;         /* per task: monotonic time its first attempt began */
	int nodes_ended;         /* node tasks that ended, for sl_node_run.order */
	struct sl_wh **idle;     /* warehouse connections no attempt holds now */
	int nidle, capidle;
	pthread_mutex_t pool_mu;
	bool pool_init;
} engine_exec;

/* What a seed, model or snapshot task points at (sl_task.data). */
typedef struct engine_node {
	sl_models *models;    /* NULL: a graph not made to run */
	int index;            /* the node, in sl_models and in sl_graph_opts.nodes */
	bool placeholder;     /* an ephemeral model: inlined where it is used */
} engine_node;

/* Whether t is an extract or load task (its data an engine_table). */
bool engine_is_table_task(const sl_task *t);
/* Closes the warehouse connections model tasks left for reuse. */
void engine_pool_close(engine_exec *x);
/* A warehouse connection for an attempt: an idle one of the run, or new. */
int engine_pool_take(engine_exec *x, struct sl_wh **out, sl_error *err);
/* Gives it back (healthy: kept for the next attempt, else closed). */
void engine_pool_give(engine_exec *x, struct sl_wh *wh, bool healthy);
/*
 * One attempt of a node's work on the warehouse: refuses to start when
 * cancel already fired, takes a pooled connection, runs fn with the
 * watcher interrupting its query on cancellation (and renewing lock on
 * st, when given), gives the connection back, and turns a query stopped
 * by the token into the code the executor reads as cancelled/timed out.
 */
typedef int (*engine_wh_fn)(void *ud, struct sl_wh *wh, sl_error *err);
int engine_on_wh(engine_exec *x, const sl_task *task, const sl_cancel *cancel,
		 struct sl_state *st, const char *lock, engine_wh_fn fn, void *ud,
		 sl_error *err);

/* test_tasks.c: sl_graph_opts.tests_gate's edges. */
int engine_gate_tests(sl_dag *g, sl_error *err);
/* Records a test task's result (sl_node_run) in the run's state.db. */
int engine_test_record(engine_exec *x, const sl_node_run *r, sl_error *err);

/* Opens the run's lake handle (x->lake) and, when the project asks for
 * lake_commit_lock: state, the connection its commit locks go through. */
int engine_lake_open(engine_exec *x, sl_error *err);
void engine_lake_close(engine_exec *x);

/* -------------------------------------------------------------- resume.c */

/* A run to resume: its selection, dates, and the tasks already done. */
typedef struct engine_resume {
	char run_id[SL_RUN_ID_MAX];
	int64_t logical_date, data_interval_start, data_interval_end;
	const char **select;
	int nselect;
	const char **exclude;
	int nexclude;
	bool full_refresh;
	const char *indirect_selection; /* NULL: the default (eager) */
	bool has_kinds;       /* the record kept the kinds of node the run ran: */
	bool run_models, run_seeds, run_snapshots, run_tests;
	const char **done;    /* ids of tasks that succeeded (in it or a run it resumed) */
	int ndone, capdone;
	sl_arena arena;
} engine_resume;

/* What a run selected, as the params JSON text its record keeps (sl_free). */
char *engine_params_json(const sl_run_opts *o);
/* Reads run_id's record for resuming it with command (SL_EUSAGE when it is
 * unknown, still running or another command's). engine_resume_free after. */
int engine_resume_load(sl_state *st, const char *run_id, const char *command,
		       engine_resume *r, sl_error *err);
bool engine_resume_done(const engine_resume *r, const char *task_id);
void engine_resume_free(engine_resume *r);

extern const sl_task_kind sl_engine_extract_kind;
extern const sl_task_kind sl_engine_load_kind;

#endif
