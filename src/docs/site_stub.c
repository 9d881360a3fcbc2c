/*
 * site_stub.c: TEMPORARY stand-in for the documentation site (the site's
 * own files replace it; delete this file when they land): writes nothing.
 */
#include "docs/docs.h"

int sl_docs_write_site(const char *target_dir, const char *project_dir, sl_error *err)
{
	(void)target_dir;
	(void)project_dir;
	(void)err;
	return 0;
}
