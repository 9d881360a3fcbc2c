/* s3.c: placeholder until the S3 backend lands. */
#include "store/store.h"

int sl_store_s3_open(sl_store **out, const char *url, sl_error *err)
{
	*out = NULL;
	return sl_error_set(err, SL_ECONFIG, "%s: S3 lakes are not supported yet", url);
}
