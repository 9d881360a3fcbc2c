/* engine_int.h (private to engine/): the state one run shares among tasks. */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include "engine/engine.h"
#include "lake/lake.h"
#include "state/state.h"
#include "warehouse/warehouse.h"

typedef struct engine_run {
	const sl_project *project;
	const sl_run_opts *opts;
	const sl_target *target;
	sl_state *state;
	sl_lake *lake;
	char run_id[SL_RUN_ID_MAX];
	int64_t seq;
	sl_wh *wh; /* opened by the first load task */
	char *table_lock;     /* the state lock this run holds, NULL when none */
	double lock_renewed;  /* monotonic time of its last renewal */
} engine_run;

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

#endif
