/* http_source.c: placeholder until the http source lands. */
#include "sources/sources.h"

int sl_http_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		       const sl_extract_opts *opts, sl_error *err)
{
	*out = NULL;
	return sl_error_set(err, SL_ECONFIG, "%s: source \"%s\": kind http is not supported yet",
			    src->file, src->name);
}
