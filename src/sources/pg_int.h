/*
 * pg_int.h: private to the postgres source (postgres_*.c): its options, the mapping from
 * PostgreSQL types to sluice types, COPY text-format decoding and cursor
 * watermark values.
 */
#ifndef SL_SOURCES_PG_INT_H
#define SL_SOURCES_PG_INT_H

#include "sources/sources_int.h"

#include <libpq-fe.h>

/* A postgres source's own key. */
typedef struct sl_pg_source_opts {
	char *connection;     /* conninfo or URI (secret) */
} sl_pg_source_opts;

/* A postgres table's own keys. */
typedef struct sl_pg_opts {
	char *query;          /* a SELECT instead of the table */
	char *where;          /* the user's SQL condition, ANDed to the extraction */
	char *schema_name;    /* the table's schema; default "public" */
	bool cast_unsupported_to_text;
	int64_t lookback_micros;
} sl_pg_opts;

int sl_postgres_source_open(sl_extractor **out, const sl_source *src,
			    const sl_source_table *t, const sl_extract_opts *opts,
			    sl_error *err);

/* numeric without a declared precision lands as decimal(38,9). */
#define SL_PG_NUMERIC_DEFAULT_PRECISION 38
#define SL_PG_NUMERIC_DEFAULT_SCALE 9

/* How a result column is selected and typed. */
typedef struct sl_pg_col {
	char *name;        /* sl_malloc'd */
	char *pg_type;     /* format_type() text, for messages; sl_malloc'd */
	Oid oid;
	int typmod;
	sl_type type;
	bool nullable;
	bool array;        /* selected as array_to_json(col)::text */
	bool as_text;      /* selected as col::text (unsupported type) */
} sl_pg_col;

/*
 * Maps a PostgreSQL type (by OID, typmod and pg_type.typcategory) to a
 * sluice type. Returns 0, or SL_EINVAL when the type is not supported
 * (then *out is untouched).
 */
int sl_pg_map_type(Oid oid, int typmod, char category, sl_type *out);

/*
 * Decodes one COPY text-format field s[0..n) (backslash escapes) into out.
 * Returns 1 when the field is NULL (\N), 0 otherwise, negative on OOM.
 */
int sl_pg_copy_field(const char *s, size_t n, sl_buf *out);

/* A cursor value as an ordered int64: days, micros or the integer. */
int sl_pg_cursor_parse(sl_type t, const char *s, int64_t *out);
/* Writes the cursor value as text for the watermark and SQL literals. */
void sl_pg_cursor_format(sl_type t, int64_t v, char *out, size_t n);
/* True when t can be a cursor: int32, int64, date, timestamp. */
bool sl_pg_cursor_type_ok(sl_type t);

#endif
