/*
 * sources_int.h (private to sources/): the registered kinds, the file
 * kinds' options and the helpers they share, and rendering of options.
 */
#ifndef SL_SOURCES_INT_H
#define SL_SOURCES_INT_H

#include "sources/sources.h"
#include "formats/csv/csv.h"

/* The kinds (registry.c lists them). */
extern const sl_source_kind sl_kind_csv;      /* file_config.c */
extern const sl_source_kind sl_kind_s3;       /* file_config.c */
extern const sl_source_kind sl_kind_postgres; /* postgres_config.c */
extern const sl_source_kind sl_kind_http;     /* http_options.c */

/* A file table's options (kinds csv, s3 and files). */
typedef struct sl_file_opts {
	char *location;      /* a glob, relative to the project dir, or an s3:// URL */
	const char *format;  /* csv | parquet | jsonl; default from the location */
	char delimiter;      /* default ',' */
	char quote;          /* default '"' */
	char escape;         /* default '"' */
	bool header;         /* default true */
	int nnulls;
	char **nulls;        /* default {""} */
	int64_t max_columns; /* 0: the readers' default, 10,000 */
	const char *flatten; /* JSON lines: "columns" (default) | "json" */
} sl_file_opts;

int sl_file_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			const sl_extract_opts *opts, sl_error *err);

/*
 * Fills *opts from a file table's csv keys (delimiter, quote, escape,
 * header, nulls, max_columns, and the names it keeps: sl_source_keep_names).
 * *lists receives the memory opts->nulls and opts->keep_names point into
 * (sl_free it after the last read).
 */
int sl_source_csv_opts(const sl_source_table *t, const sl_file_opts *fo, sl_csv_opts *opts,
		       const char ***lists, sl_error *err);

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
 * Renders the logical dates of opts in *s (sl_render) when it holds "{{":
 * the result lives in a; text without "{{" is left as it is. {{ watermark }}
 * stays when keep_watermark. Errors name src's file and line.
 */
int sl_source_render_str(char **s, const sl_render_vars *v, bool keep_watermark, sl_arena *a,
			 const sl_source *src, int line, sl_error *err);
/* The same for each value of kvs, which becomes a copy in a when one changes. */
int sl_source_render_kvs(sl_kvs *kvs, const sl_render_vars *v, bool keep_watermark,
			 sl_arena *a, const sl_source *src, sl_error *err);

#endif
