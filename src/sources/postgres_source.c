/* postgres_source.c: placeholder until the postgres source lands. */
#include "sources/sources.h"

int sl_postgres_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		       const sl_extract_opts *opts, sl_error *err)
{
	*out = NULL;
	return sl_error_set(err, SL_ECONFIG, "%s: source \"%s\": kind postgres is not supported yet",
			    src->file, src->name);
}
