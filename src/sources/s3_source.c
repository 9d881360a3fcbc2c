/* s3_source.c: placeholder until the s3 source lands. */
#include "sources/sources.h"

int sl_s3_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		       const sl_extract_opts *opts, sl_error *err)
{
	*out = NULL;
	return sl_error_set(err, SL_ECONFIG, "%s: source \"%s\": kind s3 is not supported yet",
			    src->file, src->name);
}
