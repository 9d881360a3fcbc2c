/* load.c: the load task — placeholder until warehouse loading lands. */
#include "engine/engine_int.h"

int sl_engine_load_table(engine_run *run, const sl_source *src, const sl_source_table *t,
			 sl_table_result *res, sl_error *err)
{
	(void)run;
	(void)src;
	(void)t;
	(void)err;
	res->rows_loaded = -1;
	return 0;
}
