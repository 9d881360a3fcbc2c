/*
 * engine: runs a project's pipeline — one extract task per source table
 * (source → batches → lake commit → checkpoint) and one load task per
 * lake table (lake → warehouse) — recording runs, task attempts and the
 * reconciliation ledger in the state store. Only cli/ and server/ print:
 * the engine reports through results and a progress callback.
 */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include "base/base.h"
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

typedef struct sl_run_result {
	char run_id[48];
	int64_t seq;
	int n;
	sl_table_result *tables; /* sl_free */
	int failed;              /* tasks that failed */
	double seconds;
} sl_run_result;

void sl_run_result_free(sl_run_result *r);

/* The warehouse connection settings of a project target (borrowed strings). */
void sl_engine_wh_config(const sl_target *t, sl_wh_config *out);

/* Progress of a running task, for a terminal progress line. */
typedef void (*sl_progress_fn)(void *ctx, const char *task, int64_t rows, uint64_t bytes,
			       double seconds);

typedef struct sl_run_opts {
	const char *command;       /* "run", "extract", "load" (recorded) */
	const char *target;        /* NULL: the project's default target */
	bool extract;              /* run extract tasks */
	bool load;                 /* run load tasks */
	bool full_refresh;
	const char *const *select; /* "source" or "source.table" globs; NULL: all */
	int nselect;
	const char *const *exclude;
	int nexclude;
	sl_progress_fn on_progress;
	void *progress_ctx;
} sl_run_opts;

/*
 * Runs the pipeline. Returns 0 when the run could be carried out (tasks
 * may still have failed: see res->failed; a task whose outcome could not
 * be recorded in the state store failed too), or a negative code when it
 * could not start (state store, lake or target unusable) or its end could
 * not be recorded.
 */
int sl_engine_run(const sl_project *p, const sl_run_opts *opts, sl_run_result *res,
		  sl_error *err);

/* Lake table name of a source table: "raw/<source>/<table>" (sl_free; NULL
 * when out of memory). */
char *sl_engine_lake_table(const char *source, const char *table);
/* Quarantine table of a source table: "quarantine/<source>/<table>" (sl_free). */
char *sl_engine_quarantine_table(const char *source, const char *table);

#endif
