/* sources_int.h (private to sources/): helpers the file-based kinds share. */
#ifndef SL_SOURCES_INT_H
#define SL_SOURCES_INT_H

#include "sources/sources.h"
#include "formats/csv/csv.h"

/*
 * Fills *opts from a table's csv keys (delimiter, quote, escape, header,
 * nulls). *nulls receives the NULL-terminated list opts->nulls points at
 * (sl_free it after the last read; NULL when the default applies).
 */
int sl_source_csv_opts(const sl_source_table *t, sl_csv_opts *opts, const char ***nulls,
		       sl_error *err);

/*
 * Applies the table's declared column types to a schema read or inferred
 * from its data (what names the data: "files' header", "objects"), and
 * checks that the primary key columns exist. Errors name file:line.
 */
int sl_source_apply_declared(const sl_source *src, const sl_source_table *t, sl_schema *s,
			     const char *what, sl_error *err);

#endif
