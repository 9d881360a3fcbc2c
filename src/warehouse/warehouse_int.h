/*
 * warehouse_int.h: what the warehouse's own files share — the backend
 * vtable (one per adapter, like curl's vtls), the common sl_wh header every
 * backend embeds first, and small helpers.
 */
#ifndef SL_WAREHOUSE_INT_H
#define SL_WAREHOUSE_INT_H

#include "warehouse.h"

#include <stdatomic.h>

/* Extra staging columns of a merge: lake version and row position. */
#define SL_WH_VERSION_COL "_sluice_version"
#define SL_WH_SEQ_COL "_sluice_seq"
#define SL_WH_LOADS_TABLE "_sluice_loads"
#define SL_WH_STAGE_TABLE "_sluice_stage"

/* A backend's bulk loader; backends embed it first. */
typedef struct sl_wh_bload sl_wh_bload;
struct sl_wh_bload {
	sl_wh *wh;
	int ncols;        /* batch columns */
	bool order_cols;  /* also write version and seq (bigint) */
	int64_t seq;      /* next row position */
	int64_t rows;
};

struct sl_wh_cols;

typedef struct sl_wh_ops {
	const char *name;
	size_t max_ident;        /* identifier byte limit, 0: none */
	const char *begin_sql;
	const char *temp_schema; /* schema of temporary tables */

	void (*close)(sl_wh *wh);
	/* changes may be NULL */
	int (*exec)(sl_wh *wh, const char *sql, int64_t *changes, sl_error *err);
	/* one: sql must be a single statement (else SL_EUSAGE, nothing run) */
	int (*query)(sl_wh *wh, const char *sql, bool one, sl_wh_row_fn fn, void *ud,
		     sl_error *err);
	int (*ensure_schema)(sl_wh *wh, const char *schema, sl_error *err);
	/* unqualified names: models' schema, then raw (NULL: already so) */
	int (*search_schemas)(sl_wh *wh, sl_error *err);
	int (*table_exists)(sl_wh *wh, const char *schema, const char *table, bool *out,
			    sl_error *err);
	/* *out NULL when there is no such table */
	int (*describe)(sl_wh *wh, const char *schema, const char *table, sl_schema **out,
			sl_error *err);
	const char *(*type_sql)(sl_type t, char *buf, size_t n);
	int (*quote_literal)(sl_buf *out, const char *s);
	bool index_on_schema;    /* CREATE INDEX "schema"."ix" ON "t" (SQLite) */
	bool analyze_stage;      /* ANALYZE the staging table before merging */
	const char *ts_suffix;   /* appended to UTC timestamp literals */
	/* SQL expression ordering values of column expr (of type t) correctly */
	int (*order_expr)(sl_buf *out, const char *expr, sl_type t);

	/* qtable: the quoted table; collist: quoted column list "(...)". */
	int (*load_open)(sl_wh_bload **out, sl_wh *wh, const char *qtable,
			 const char *collist, const sl_schema *cols, bool order_cols,
			 sl_error *err);
	int (*load_write)(sl_wh_bload *l, const sl_batch *b, int64_t version, sl_error *err);
	int (*load_finish)(sl_wh_bload *l, sl_error *err); /* frees l */
	void (*load_abort)(sl_wh_bload *l);                /* frees l */

	/* ---- materializations (materialize.c, snapshot.c) */
	/* What schema.name is; SL_WH_REL_NONE when absent (or its schema is). */
	int (*relation_kind)(sl_wh *wh, const char *schema, const char *name,
			     sl_wh_relation *out, sl_error *err);
	/* Columns of schema.table and their SQL types as declared (text to
	 * reuse in DDL; "" when SQLite declares none); empty when absent. */
	int (*columns)(sl_wh *wh, const char *schema, const char *table, struct sl_wh_cols *out,
		       sl_error *err);
	/* Appended to DROP TABLE/VIEW of a model: " CASCADE" on PostgreSQL,
	 * where dependent views must go with it (as dbt does). */
	const char *drop_suffix;
	/* Empties a table, followed by the quoted table: "TRUNCATE TABLE" or
	 * "DELETE FROM" (a seed reloaded in place). */
	const char *truncate_sql;
	/* The views that dropping schema.table with drop_suffix would drop
	 * too, quoted and comma separated into out ("" when none); NULL when
	 * a drop leaves views be (SQLite: they name the table, not its id). */
	int (*dependent_views)(sl_wh *wh, const char *schema, const char *table, sl_buf *out,
			       sl_error *err);
	/* Run around the rename of a built table into place (NULL: nothing):
	 * SQLite re-checks every view of the file on a rename, and views over
	 * the table being swapped point at nothing for that moment. */
	const char *rename_pre_sql;
	const char *rename_post_sql;
	/* Whether a CREATE VIEW failure means "this warehouse cannot keep
	 * that view, build it as a table" (SQLite: a view reading another
	 * attached database). NULL: never. */
	bool (*view_needs_table)(const sl_error *err);
	/* exec's changes of CREATE TABLE ... AS are its rows (else counted). */
	bool ctas_counts;
	/* Declared column types bind the values (compared by on_schema_change);
	 * false on SQLite, whose columns hold any type. */
	bool typed_columns;
	/* ALTER a column of qtable to type, converting its values; NULL when
	 * declared types do not bind values (SQLite: declare them at CREATE). */
	int (*alter_type)(sl_wh *wh, const char *qtable, const char *qcol, const char *type,
			  sl_error *err);
	/* The type dbt's adapter gives a seed column of type t (fits_int32:
	 * every value of an int64 column fits 32 bits), into buf; NULL: the
	 * type it loads as (type_sql). The column is converted after the load
	 * with alter_type. */
	const char *(*seed_type)(sl_type t, bool fits_int32, char *buf, size_t n);
	/* Appends timestamp text ts (UTC "YYYY-MM-DD HH:MM:SS.ffffff") as an
	 * SQL expression of the warehouse's timestamp type. */
	int (*timestamp_literal)(sl_buf *out, const char *ts);
	/* Writes the staged rows of an incremental model into its table
	 * (inside the build's transaction), setting res's counts and message;
	 * NULL: sl_wh_incremental_write's UPDATE ... FROM, DELETE ... WHERE
	 * EXISTS and INSERT ... WHERE NOT EXISTS, which SQLite and PostgreSQL
	 * both run. ins: the columns to write. */
	int (*incremental_write)(sl_wh *wh, const char *schema, const char *name,
				 const char *stage, const sl_wh_incremental *inc,
				 const struct sl_wh_cols *ins, sl_wh_build_result *res,
				 sl_error *err);
	/* sl_wh_interrupt (interrupt.c): stops the statement running on wh,
	 * called from another thread; NULL: the adapter cannot. */
	int (*interrupt)(sl_wh *wh);
	/* Whether the server still has a transaction open on wh (NULL: trust
	 * in_tx). SQLite ends one itself when an interrupted statement fails,
	 * and sl_wh_rollback then has nothing to roll back. */
	bool (*tx_open)(sl_wh *wh);
	/* The catalog query of sl_wh_catalog (catalog.c) over those of
	 * schemas that exist, into sql ("" when none does): one row per
	 * column, columns schema, table, kind ('table' or 'view'), index
	 * (1-based), column, type, comment, relation comment, owner, ordered
	 * by schema, table, index. */
	int (*catalog_sql)(sl_wh *wh, const char *const *schemas, int nschemas, sl_buf *sql,
			   sl_error *err);
} sl_wh_ops;

/* A relation's columns with their declared SQL types (materialize.c). */
typedef struct sl_wh_cols {
	int n, cap;
	char **names;
	char **types;
} sl_wh_cols;

int sl_wh_cols_add(sl_wh_cols *c, const char *name, const char *type);
void sl_wh_cols_free(sl_wh_cols *c);
/* Index of name in c (ASCII case ignored when fold), or -1. */
int sl_wh_cols_find(const sl_wh_cols *c, const char *name, bool fold);
/* The portable incremental write (see sl_wh_ops.incremental_write). */
int sl_wh_incremental_write(sl_wh *wh, const char *schema, const char *name, const char *stage,
			    const sl_wh_incremental *inc, const sl_wh_cols *ins,
			    sl_wh_build_result *res, sl_error *err);
/* The SQL types of schema.table per ops->columns; empty when absent. */
int sl_wh_columns(sl_wh *wh, const char *schema, const char *table, sl_wh_cols *out,
		  sl_error *err);

struct sl_wh {
	const sl_wh_ops *ops;
	char *schema;
	char *raw_schema;
	char *target;     /* for messages, never holds a secret; sl_malloc'd */
	bool in_tx;
	/* Set by sl_wh_interrupt from any thread; ends the adapter's waits
	 * for a lock (SQLite's busy waits and BEGIN IMMEDIATE retries).
	 * Cleared by sl_wh_interrupt_clear when a fresh unit of work starts. */
	atomic_bool interrupted;
};

/* interrupt.c: whether sl_wh_interrupt was called since the last clear. */
bool sl_wh_interrupted(sl_wh *wh);
/* Forgets an interrupt that was handled: at sl_wh_begin, and (SQLite) at
 * any statement that starts outside a transaction. */
void sl_wh_interrupt_clear(sl_wh *wh);

extern const sl_wh_ops sl_wh_sqlite_ops;
extern const sl_wh_ops sl_wh_postgres_ops;

extern const sl_wh_adapter sl_wh_sqlite_adapter;
extern const sl_wh_adapter sl_wh_postgres_adapter;
int sl_wh_sqlite_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err);
int sl_wh_postgres_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err);
/* The adapters' interrupt hooks (at the end of sqlite.c and postgres.c). */
int sl_wh_sqlite_interrupt(sl_wh *wh);
int sl_wh_postgres_interrupt(sl_wh *wh);

/* Sets the fields of the common header (copies the schema names). */
int sl_wh_init_common(sl_wh *wh, const sl_wh_ops *ops, const char *schema,
		      const char *raw_schema, sl_error *err);
void sl_wh_free_common(sl_wh *wh);
/* Sets wh->target (for messages) from fmt; SL_ENOMEM on failure. */
int sl_wh_set_target(sl_wh *wh, sl_error *err, const char *fmt, ...) SL_PRINTF(3, 4);

/* create ("CREATE TEMP TABLE") schema.table (cols [+ version, seq]). */
int sl_wh_create_table_ex(sl_wh *wh, const char *create, const char *schema,
			  const char *table, const sl_schema *cols, bool order_cols,
			  sl_error *err);
/* Opens a backend loader into schema.table (order_cols: merge staging). */
int sl_wh_bload_open(sl_wh_bload **out, sl_wh *wh, const char *schema, const char *table,
		     const sl_schema *cols, bool order_cols, sl_error *err);
/* Checks that b has the loader's columns (by position, name and type). */
int sl_wh_check_batch(const sl_schema *cols, const sl_batch *b, sl_error *err);

/*
 * The connection keys of a server warehouse, for the key table of a file
 * warehouse (sqlite, duckdb): accepted and ignored, so a target can switch
 * to or from postgres by its type alone.
 */
#define SL_WH_SERVER_KEYS_IGNORED                                                           \
	{.name = "host", .type = SL_WH_KEY_TEXT, .ignored = true},                          \
	{.name = "port", .type = SL_WH_KEY_INT, .min = 1, .max = 65535, .ignored = true},   \
	{.name = "dbname", .type = SL_WH_KEY_TEXT, .ignored = true},                        \
	{.name = "user", .type = SL_WH_KEY_TEXT, .ignored = true},                          \
	{.name = "password", .type = SL_WH_KEY_SECRET, .ignored = true},                    \
	{.name = "sslmode", .type = SL_WH_KEY_TEXT, .ignored = true}

/* ---- shared by materialize.c and snapshot.c */

/*
 * Appends fmt to b, where %I is an identifier (quoted), %T a schema and a
 * table (two arguments, quoted), %L a string literal, %Q a model's SQL
 * (trailing blanks and semicolons cut, on lines of its own, so a trailing
 * comment cannot swallow what follows), %D an int64_t, %s text as is.
 */
int sl_wh_sqlf(sl_wh *wh, sl_buf *b, sl_error *err, const char *fmt, ...);
/* Runs b's SQL (changes may be NULL) and empties b. */
int sl_wh_run(sl_wh *wh, sl_buf *b, int64_t *changes, sl_error *err);
/*
 * name + suffix, kept within the warehouse's identifier limit: a longer
 * one keeps name's start (cut at a character boundary), then "_" and 8 hex
 * digits of a hash of the whole name, then suffix. sl_malloc'd.
 */
char *sl_wh_temp_name(const sl_wh *wh, const char *name, const char *suffix);
/* DROP kind schema.name (IF EXISTS, with ops->drop_suffix); NONE: nothing. */
int sl_wh_drop_kind(sl_wh *wh, const char *schema, const char *name, sl_wh_relation kind,
		    sl_error *err);
/* Inside a transaction: drops old (what schema.name was) and renames
 * schema.tmp to name. */
int sl_wh_swap_in(sl_wh *wh, const char *schema, const char *tmp, const char *name,
		  sl_wh_relation old, sl_error *err);
/* Checks no transaction is open and makes schema exist (outside one). */
int sl_wh_mat_prepare(sl_wh *wh, const char *schema, const char *name, sl_error *err);
/* Whether the warehouse compares identifiers ignoring ASCII case. */
bool sl_wh_folds_case(const sl_wh *wh);

/* Writes name into out (n bytes) for messages: control bytes escaped. */
const char *sl_wh_printable(const char *name, char *out, size_t n);

/* 'YYYY-MM-DD' (SQLite storage); out 16 bytes. */
int sl_wh_date_text(int32_t days, char *out);
/* Timestamp text with 6 fractional digits (SQLite storage); out 40 bytes. */
int sl_wh_timestamp_text(int64_t micros, char *out);
/* Shortest text that reads back as d exactly; out 32 bytes. */
int sl_wh_double_text(double d, char *out);

#endif
