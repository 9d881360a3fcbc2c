/* sources_int.h (private to sources/): helpers the file-based kinds share. */
#ifndef SL_SOURCES_INT_H
#define SL_SOURCES_INT_H

#include "sources/sources.h"
#include "formats/csv/csv.h"

/*
 * Fills *opts from a table's csv keys (delimiter, quote, escape, header,
 * nulls, max_columns, and the names it keeps: sl_source_keep_names).
 * *lists receives the memory opts->nulls and opts->keep_names point into
 * (sl_free it after the last read).
 */
int sl_source_csv_opts(const sl_source_table *t, sl_csv_opts *opts, const char ***lists,
		       sl_error *err);

/*
 * The column names a table's configuration names (primary_key, cursor,
 * columns:), which keep their spelling when names repeat ignoring case:
 * *out (sl_free) holds *n borrowed strings.
 */
int sl_source_keep_names(const sl_source_table *t, const char ***out, size_t *n,
			 sl_error *err);

/*
 * Applies the table's declared column types to a schema read or inferred
 * from its data (what names the data: "files' header", "objects"), and
 * checks that the primary key columns exist. Errors name file:line.
 */
int sl_source_apply_declared(const sl_source *src, const sl_source_table *t, sl_schema *s,
			     const char *what, sl_error *err);

/*
 * Checks that a CSV file's first row (or, without a header, its width)
 * matches the table's schema s; name is the file or object named in the
 * error, what its kind in plural ("files", "objects"). An empty file passes.
 * When the reader made header names unique and x->renamed is still NULL,
 * it gets the renames ("Dup → Dup_1"), for the run summary.
 */
int sl_source_check_header(sl_extractor *x, const sl_csv_reader *r, bool header,
			   const char *name, const char *what, sl_error *err);

/*
 * Counts a bad CSV row of origin into stats and hands it to opts->on_bad,
 * or fails with it when the run has no quarantine.
 */
int sl_source_bad_row(const sl_extract_opts *opts, sl_extract_stats *stats, const char *origin,
		      const sl_csv_bad_row *bad, sl_error *err);

/*
 * 0 while opts->cancel may go on; else SL_ECANCELLED or SL_ETIMEOUT with
 * err "source <src>.<table>: cancelled" (or "timed out").
 */
int sl_source_cancelled(const sl_extract_opts *opts, const sl_source *src,
			const sl_source_table *t, sl_error *err);

/*
 * *out becomes a copy of t whose string options (url, path, body, query,
 * where, params and headers values) have the logical dates of opts
 * rendered (sl_render); strings that change live in a, the rest are
 * shared with t. {{ watermark }} stays for the http source when
 * keep_watermark. Errors name the source file and line.
 */
int sl_source_table_render(sl_source_table *out, const sl_source *src, const sl_source_table *t,
			   const sl_extract_opts *opts, bool keep_watermark, sl_arena *a,
			   sl_error *err);

#endif
