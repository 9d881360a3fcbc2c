/*
 * warehouse: one interface to the databases sluice loads into and runs
 * models in — exec, query, introspection, bulk loading of batches and
 * transactional table loads (append, replace, merge) with their bookkeeping —
 * and its adapters: SQLite (embedded default, sqlite.c) and PostgreSQL
 * (libpq, postgres.c). The vtable behind sl_wh lives in warehouse_int.h.
 *
 * Schemas. PostgreSQL schemas are schemas. On SQLite a schema other than
 * "main" is a separate database file ATTACHed under the schema's name, as
 * dbt-sqlite does: for path "/p/warehouse.db", schema "raw" is
 * "/p/warehouse.raw.db" (the ".db" suffix, if any, is replaced by
 * ".<schema>.db"). So `select * from "raw"."shop__orders"` works on both.
 * A table load writes its table and raw._sluice_loads in the same file, so
 * the load and its bookkeeping are one atomic transaction on SQLite too.
 *
 * Types. sluice type -> PostgreSQL / SQLite declared type:
 *   bool      boolean            BOOLEAN (0/1)
 *   int32     integer            INTEGER
 *   int64     bigint             BIGINT
 *   float64   double precision   REAL (NaN is stored as the text 'NaN',
 *                                      since SQLite turns a NaN REAL into NULL)
 *   decimal   numeric(p,s)       DECIMAL_TEXT(p,s): TEXT holding the exact
 *                                      decimal string; SQLite's REAL/NUMERIC
 *                                      would round past 15 digits
 *   string    text               TEXT
 *   date      date               DATE, text 'YYYY-MM-DD'
 *   timestamp timestamptz        TIMESTAMP, text 'YYYY-MM-DD HH:MM:SS.ffffff'
 *                                      (UTC, fixed width so text order is
 *                                      time order)
 * PostgreSQL sessions run with TimeZone=UTC and DateStyle=ISO.
 * An sl_wh is one connection: use it from one thread at a time.
 *
 * Introspection maps back (integer->int32, bigint->int64, numeric(p,s)->
 * decimal, timestamp with or without time zone->timestamp, other text-like
 * and unknown types->string).
 */
#ifndef SL_WAREHOUSE_H
#define SL_WAREHOUSE_H

#include "base/base.h"
#include "batch/batch.h"

typedef struct sl_wh sl_wh;

/* ------------------------------------------------------------ connection */

/*
 * Where a warehouse is. Plain data, borrowed during sl_wh_open only.
 * Fields left NULL/0 take the defaults noted.
 */
typedef struct sl_wh_config {
	const char *type;       /* "sqlite" (default) | "postgres" */
	const char *path;       /* sqlite: database file, default "warehouse.db" */
	const char *conninfo;   /* postgres: a libpq conninfo string or URI; the
				   pieces below, when set, override its fields */
	const char *host;       /* postgres: host name or unix socket directory */
	int port;               /* postgres: 0 = libpq default (5432) */
	const char *dbname;
	const char *user;
	const char *password;   /* secret: never logged nor put in messages */
	const char *sslmode;
	const char *schema;     /* models' schema: default "main" / "public" */
	const char *raw_schema; /* where raw tables load, default "raw" */
	/* Only open a database that exists (SQLite: no new file); a missing
	 * one is SL_ENOTFOUND. For readers such as `sluice sql`. */
	bool must_exist;
	/* Settings of the target that the fields above do not hold (an
	 * adapter's own keys): the value text of key, or NULL. get NULL: none. */
	const char *(*get)(const void *ctx, const char *key);
	const void *get_ctx;
} sl_wh_config;

#define SL_WH_CONFIG_INIT {0}

/*
 * Connects (PostgreSQL) or opens/creates the file (SQLite, in WAL mode
 * with synchronous=NORMAL), then makes sure the raw schema and the models'
 * schema exist (CREATE SCHEMA / ATTACH). Errors are SL_EDB or SL_ECONFIG
 * with the server's message and where ("postgres user@host:port/db"),
 * never the password. Free with sl_wh_close.
 */
int sl_wh_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err);
/* Closes the connection; an open transaction is rolled back. Accepts NULL. */
void sl_wh_close(sl_wh *wh);

/* The adapter's name: "sqlite" or "postgres". */
const char *sl_wh_type(const sl_wh *wh);
/* The models' schema and the raw schema, borrowed until sl_wh_close. */
const char *sl_wh_schema(const sl_wh *wh);
const char *sl_wh_raw_schema(const sl_wh *wh);
/* Describes the target for messages ("sqlite ./warehouse.db"), no secret. */
const char *sl_wh_describe_target(const sl_wh *wh);

/*
 * Makes schema exist: CREATE SCHEMA on PostgreSQL, ATTACH of its file on
 * SQLite (which must happen outside a transaction).
 */
int sl_wh_ensure_schema(sl_wh *wh, const char *schema, sl_error *err);

/*
 * Makes unqualified table names resolve in the models' schema, then the
 * raw schema, for queries typed by hand (`sluice sql`): search_path on
 * PostgreSQL; on SQLite the attached raw database is searched already.
 */
int sl_wh_search_schemas(sl_wh *wh, sl_error *err);

/* -------------------------------------------------------------- SQL text */

/*
 * Appends name as a quoted identifier ("a""b"). Fails with SL_EINVAL naming
 * the identifier when it is empty, not UTF-8, or longer than the
 * warehouse can hold (63 bytes on PostgreSQL, NAMEDATALEN - 1).
 */
int sl_wh_quote_ident(sl_wh *wh, sl_buf *out, const char *name, sl_error *err);
/* Appends "schema"."table" (schema NULL: just "table"). */
int sl_wh_quote_table(sl_wh *wh, sl_buf *out, const char *schema, const char *table,
		      sl_error *err);
/* Appends s as a string literal ('it''s'; E'..' when PostgreSQL needs it). */
int sl_wh_quote_literal(sl_wh *wh, sl_buf *out, const char *s);

/*
 * The warehouse table of lake table <source>/<table>: "<source>__<table>"
 * in the raw schema; `{{ source('s','t') }}` resolves to
 * "<raw_schema>"."s__t". Returns an sl_malloc'd string or NULL on OOM.
 */
char *sl_wh_raw_table_name(const char *source, const char *table);

/*
 * How a warehouse type tells identifiers apart, asked before connecting
 * (to refuse two source tables that would share one warehouse table):
 * SQLite compares names ignoring ASCII case; PostgreSQL keeps quoted
 * names' case but holds only 63 bytes (a longer name is cut, and refused
 * by sl_wh_quote_ident). A type without an adapter gets case folding.
 */
typedef struct sl_wh_ident_rules {
	bool fold_case;   /* "A" and "a" are one identifier */
	size_t max_bytes; /* longest identifier, 0: no limit */
	int max_columns;  /* columns a table holds (sluice's own included), 0: no limit */
	bool unquoted_lower; /* an unquoted identifier means its lowercase (PostgreSQL);
				false: it means itself as written */
} sl_wh_ident_rules;

sl_wh_ident_rules sl_wh_ident_rules_of(const char *type);

/* ---------------------------------------------------------- the adapters */

/*
 * Each adapter registers itself (registry.c): its target type name, the
 * settings a target of that type takes in sluice.yml — with their types,
 * limits and defaults — its identifier rules and its open. project/ reads
 * a target's generic keys (its name, type) and asks the adapter about the
 * rest, so adding a warehouse touches only this folder.
 */
typedef enum sl_wh_key_type {
	SL_WH_KEY_TEXT = 0,
	SL_WH_KEY_SECRET, /* text that must never be logged */
	SL_WH_KEY_INT,    /* an integer between min and max */
	SL_WH_KEY_PATH    /* a file path, relative to the project folder
			     (":memory:" stays as it is); never empty */
} sl_wh_key_type;

typedef struct sl_wh_key {
	const char *name;
	sl_wh_key_type type;
	const char *def;   /* the value when the key is absent, NULL: none */
	int64_t min, max;  /* SL_WH_KEY_INT */
	const char *example; /* a valid value, for messages */
	bool ignored;      /* accepted (its type checked, a secret still
			      registered) and not used: so that a target can
			      change type without dropping keys first */
} sl_wh_key;

struct sl_wh_ops;

typedef struct sl_wh_adapter {
	const char *name;            /* the target type: "sqlite" */
	const char *alias;           /* another name sl_wh_open accepts, or NULL */
	const char *settings_hint;   /* what a target of this type sets, for
					messages: "use host, port and dbname" */
	const sl_wh_key *keys;       /* its settings, ended by a NULL name */
	sl_wh_ident_rules rules;     /* how it tells identifiers apart */
	/* Connects; NULL for a type whose adapter is not built yet (its
	 * targets load as project settings, and fail to open). */
	int (*open)(sl_wh **out, const sl_wh_config *cfg, sl_error *err);
} sl_wh_adapter;

/* The adapter of type (name or alias), or NULL. */
const sl_wh_adapter *sl_wh_adapter_find(const char *type);
/* The i-th adapter (0: the default, sqlite), NULL past the last. */
const sl_wh_adapter *sl_wh_adapter_at(int i);
/* The setting name of adapter a, or NULL when it takes none such. */
const sl_wh_key *sl_wh_adapter_key(const sl_wh_adapter *a, const char *name);
/* A setting of cfg by key: the typed fields first, then cfg->get. */
const char *sl_wh_config_get(const sl_wh_config *cfg, const char *key);
/*
 * name as the warehouse identifies it: ASCII-lowercased when the rules
 * fold case, cut at max_bytes (at a UTF-8 character boundary). Two names
 * with equal keys are the same identifier there. sl_malloc'd; NULL on OOM.
 */
char *sl_wh_ident_key(const sl_wh_ident_rules *r, const char *name);

/* The column type DDL for t on this warehouse ("numeric(10,2)"); returns buf. */
const char *sl_wh_type_sql(const sl_wh *wh, sl_type t, char *buf, size_t n);

/*
 * True when a column of type wh_type holds every value of lake_type
 * exactly: equal types, int32 into int64, a decimal into a decimal with
 * at least as many integer and fractional digits.
 */
bool sl_wh_type_accepts(sl_type wh_type, sl_type lake_type);

/* ------------------------------------------------------- exec and query */

/* Runs one or more statements; no rows are returned. */
int sl_wh_exec(sl_wh *wh, const char *sql, sl_error *err);
/* Runs one statement and sets *changes to the rows it changed. */
int sl_wh_exec_count(sl_wh *wh, const char *sql, int64_t *changes, sl_error *err);

/*
 * Called once per result row. values[i] is the text of column i (NUL
 * terminated) or NULL for SQL NULL; names and values are borrowed for the
 * call only. Return 0 to go on, 1 to stop early, a negative SL_E* to fail
 * (the query then returns it).
 */
typedef int (*sl_wh_row_fn)(void *ud, int ncols, const char *const *names,
			    const char *const *values, sl_error *err);

/*
 * Runs a query (one or more statements) and streams its rows to fn
 * (bounded memory: PostgreSQL's single-row mode, SQLite's stepping; a stop
 * cancels the rest). Text of values: booleans "t"/"f" (PostgreSQL) or
 * "1"/"0" (SQLite); floats round-trip exactly.
 */
int sl_wh_query(sl_wh *wh, const char *sql, sl_wh_row_fn fn, void *ud, sl_error *err);
/* The same for exactly one statement: more than one is SL_EUSAGE, and
 * nothing runs. */
int sl_wh_query_one(sl_wh *wh, const char *sql, sl_wh_row_fn fn, void *ud, sl_error *err);

/* Called per batch of results; the batch is borrowed for the call. */
typedef int (*sl_wh_batch_fn)(void *ud, const sl_batch *b, sl_error *err);

/*
 * Runs a query whose columns are those of schema (in order) and hands the
 * rows to fn in batches of up to batch_rows (0: SL_BATCH_DEFAULT_ROWS)
 * rows, parsing each value as its column's type.
 */
int sl_wh_query_batches(sl_wh *wh, const char *sql, const sl_schema *schema,
			int64_t batch_rows, sl_wh_batch_fn fn, void *ud, sl_error *err);

/* The first column of the first row, sl_malloc'd, or *out NULL when NULL
 * or no row. */
int sl_wh_query_value(sl_wh *wh, const char *sql, char **out, sl_error *err);

/*
 * Stops the statement running on wh, if any: it then fails (SL_EDB) and
 * the caller unwinds as from any failed statement, rolling back. Safe to
 * call from another thread while a query runs (never after sl_wh_close):
 * sqlite3_interrupt on SQLite, a cancel request on PostgreSQL. On SQLite
 * it also ends a wait for another connection's lock — a BEGIN queued for
 * the write lock fails "interrupted while waiting for the warehouse's
 * write lock" — and later lock waits of the same transaction. Statements
 * started later are not interrupted: the interrupt is forgotten when the
 * caller begins a fresh transaction (sl_wh_begin) or runs a statement
 * outside one, so keep calling it while the work must stop (as the
 * engine's watcher does). SL_EUSAGE when the adapter cannot.
 */
int sl_wh_interrupt(sl_wh *wh);

/* Transactions (BEGIN IMMEDIATE on SQLite, so writers queue up front). */
int sl_wh_begin(sl_wh *wh, sl_error *err);
int sl_wh_commit(sl_wh *wh, sl_error *err);
/* Rolls back when a transaction is open; never fails the caller. */
void sl_wh_rollback(sl_wh *wh);
bool sl_wh_in_transaction(const sl_wh *wh);

/* ---------------------------------------------------------- introspection */

int sl_wh_table_exists(sl_wh *wh, const char *schema, const char *table, bool *out,
		       sl_error *err);
/*
 * The columns of schema.table as a sluice schema (free with
 * sl_schema_free), SL_ENOTFOUND when there is no such table or view.
 */
int sl_wh_describe(sl_wh *wh, const char *schema, const char *table, sl_schema **out,
		   sl_error *err);
/* CREATE TABLE schema.table with cols (every column nullable). */
int sl_wh_create_table(sl_wh *wh, const char *schema, const char *table,
		       const sl_schema *cols, sl_error *err);
/* ALTER TABLE ... ADD COLUMN name type (nullable). */
int sl_wh_add_column(sl_wh *wh, const char *schema, const char *table, const char *name,
		     sl_type type, sl_error *err);
/* DROP TABLE IF EXISTS schema.table. */
int sl_wh_drop_table(sl_wh *wh, const char *schema, const char *table, sl_error *err);

/*
 * Makes schema.table fit cols: creates it when absent, adds each missing
 * column as nullable, keeps columns the lake no longer has. A column whose
 * warehouse type cannot hold the lake type is SL_EINVAL:
 *   table raw.orders: column "amount" is decimal(10,2) in the warehouse but
 *   string in the lake; ...what to do
 * *created (may be NULL) tells whether the table was created.
 */
int sl_wh_evolve_table(sl_wh *wh, const char *schema, const char *table,
		       const sl_schema *cols, bool *created, sl_error *err);

/* ------------------------------------------------------------ bulk load */

/*
 * Raw bulk loading into an existing table, inside the caller's
 * transaction: COPY ... FROM STDIN (BINARY) through PQputCopyData in 1 MiB
 * chunks on PostgreSQL, one reused prepared INSERT on SQLite. Every batch
 * must have the schema given to begin (its columns are a subset of the
 * table's; the others get NULL).
 */
typedef struct sl_wh_loader sl_wh_loader;

int sl_wh_load_begin(sl_wh_loader **out, sl_wh *wh, const char *schema,
		     const char *table, const sl_schema *cols, sl_error *err);
int sl_wh_load_batch(sl_wh_loader *l, const sl_batch *b, sl_error *err);
/* Finishes the load; *rows (may be NULL) gets the rows sent. Frees l. */
int sl_wh_load_end(sl_wh_loader *l, int64_t *rows, sl_error *err);
/* Stops the load (the caller then rolls back). Frees l; accepts NULL. */
void sl_wh_load_abort(sl_wh_loader *l);

/* ------------------------------------------------------------ table load */

typedef enum {
	SL_WH_APPEND = 0,  /* insert every row */
	SL_WH_REPLACE = 1, /* the table becomes exactly this load's rows */
	SL_WH_MERGE = 2    /* upsert by primary key; the latest cursor wins */
} sl_wh_write;

typedef struct sl_wh_load_opts {
	sl_wh_write write;
	const char *const *primary_key; /* merge: key column names */
	int nprimary_key;
	const char *cursor;             /* merge: optional cursor column */
	const char *run_id;             /* recorded in _sluice_loads */
	int64_t lake_version;           /* recorded even when no batch came
					   from it (-1: none) */
	const char *lake_table_id;      /* the lake table's metaData id,
					   recorded to tell a recreated lake
					   table from the one loaded before */
	bool truncate;                  /* delete every row first, in the same
					   transaction (a rebuild: append and
					   merge then load the whole lake table);
					   the table's earlier _sluice_loads rows
					   are deleted too */
} sl_wh_load_opts;

#define SL_WH_LOAD_OPTS_INIT {SL_WH_APPEND, NULL, 0, NULL, NULL, -1, NULL, false}

typedef struct sl_wh_load_result {
	int64_t rows_received; /* rows handed to load_batch */
	int64_t rows_inserted; /* rows written into the table */
	int64_t rows_replaced; /* merge: older rows removed, replace: rows
				  that were in the table before */
	int64_t rows_stale;    /* merge: rows dropped as older than a row
				  with the same key (in the load or table) */
	bool table_created;
} sl_wh_load_result;

typedef struct sl_wh_table_load sl_wh_table_load;

/*
 * One table's load for a run, as one transaction: all rows or none.
 * begin opens the transaction, creates or evolves schema.table to cols
 * (see sl_wh_evolve_table) and starts streaming: straight into the table
 * for append and replace (after deleting its rows, for replace), into a
 * temporary staging table for merge.
 *
 * Merge: staging rows carry their lake version and position; per key the
 * row with the greatest cursor wins (NULL cursors lose), ties going to the
 * higher lake version, then the later row. A table row whose cursor is
 * greater than the winner's stays: a late, older version never overwrites
 * a newer row, across runs too. Without a cursor the latest row wins. A
 * NULL key value is an error. A non-unique index on the key is created for
 * the merge's lookups.
 *
 * Bookkeeping: commit writes one row per lake version loaded into
 * "<schema>"."_sluice_loads"(table_name, lake_version, run_id, rows,
 * loaded_at) in the same transaction, so sl_wh_loaded_version after a
 * crash tells exactly what is in.
 *
 * Replace deletes the table's rows rather than dropping it, so views over
 * the table (dbt staging models) keep working; its schema evolves as for
 * append. No transaction may be open on wh at begin. Free t with commit or
 * abort.
 */
int sl_wh_table_load_begin(sl_wh_table_load **out, sl_wh *wh, const char *schema,
			   const char *table, const sl_schema *cols,
			   const sl_wh_load_opts *opts, sl_error *err);
/* Loads b (schema equal to cols), whose rows come from lake_version. */
int sl_wh_table_load_batch(sl_wh_table_load *t, const sl_batch *b, int64_t lake_version,
			   sl_error *err);
/* Finishes, merges, records the load and commits. Frees t, also on error
 * (the transaction is then rolled back). res may be NULL. */
int sl_wh_table_load_commit(sl_wh_table_load *t, sl_wh_load_result *res, sl_error *err);
/* Rolls back and frees t; accepts NULL. */
void sl_wh_table_load_abort(sl_wh_table_load *t);

/*
 * Highest lake version recorded as loaded for schema.table (in
 * schema._sluice_loads), or -1 when none.
 */
int sl_wh_loaded_version(sl_wh *wh, const char *schema, const char *table, int64_t *out,
			 sl_error *err);
/*
 * Same, counting only loads of the lake table whose metaData id is
 * lake_table_id; *other (may be NULL) tells whether loads of another lake
 * table id exist — the lake table was recreated since.
 */
int sl_wh_loaded_version_of(sl_wh *wh, const char *schema, const char *table,
			    const char *lake_table_id, int64_t *out, bool *other,
			    sl_error *err);

/* ------------------------------------------------------- materializations */

/*
 * SQL models built in the warehouse from a SELECT, as dbt materializes
 * them (models/ renders the SQL; the warehouse knows how each dialect
 * creates, swaps and merges). Each call runs its own transaction (none may
 * be open on wh) and, when it fails, leaves the relation as it was: a
 * failed model keeps the previous table readable. Names are quoted here;
 * sql is the rendered SELECT, used as given.
 */
typedef enum {
	SL_WH_REL_NONE = 0,
	SL_WH_REL_TABLE,
	SL_WH_REL_VIEW
} sl_wh_relation;

/* What schema.name is in the warehouse. */
int sl_wh_relation_kind(sl_wh *wh, const char *schema, const char *name, sl_wh_relation *out,
			sl_error *err);
/* One column of the warehouse's catalog (sl_wh_catalog). */
typedef struct sl_wh_catalog_column {
	const char *schema;
	const char *table;
	sl_wh_relation kind;     /* view or table */
	const char *column;
	int index;               /* 1-based position */
	const char *data_type;   /* the warehouse's own type name: "integer", "TEXT" */
	const char *comment;     /* NULL when none */
	/* the relation's own (PostgreSQL's COMMENT ON TABLE/VIEW and its
	 * owner); NULL when none or unknown (SQLite) */
	const char *relation_comment;
	const char *owner;
} sl_wh_catalog_column;

typedef int (*sl_wh_catalog_fn)(void *ud, const sl_wh_catalog_column *c, sl_error *err);

/* Every column of every relation in the schemas given (dbt's catalog),
 * ordered by schema, table, index; fn's negative return stops with it. */
int sl_wh_catalog(sl_wh *wh, const char *const *schemas, int nschemas, sl_wh_catalog_fn fn,
		  void *ud, sl_error *err);

/* DROP VIEW or TABLE schema.name, whichever it is; nothing when absent. */
int sl_wh_drop_relation(sl_wh *wh, const char *schema, const char *name, sl_error *err);

typedef struct sl_wh_build_result {
	int64_t rows_inserted; /* -1 when unknown (views) */
	int64_t rows_updated;  /* merge: rows replaced; snapshot: rows closed */
	int64_t rows_deleted;  /* delete+insert: rows removed first */
	bool created;          /* the relation did not exist before */
	bool as_table;         /* a view built as a table (SQLite cannot keep a
				  view that reads another schema) */
	char message[64];      /* for the run summary: "CREATE VIEW",
				  "SELECT 42", "MERGE 10", "INSERT 0 3" */
} sl_wh_build_result;

/*
 * View: CREATE VIEW schema.name AS sql, replacing a view or table of that
 * name in one transaction. SQLite cannot keep a view that reads a table
 * of another schema (attached database): the view is then built as a
 * table (res->as_table) and a warning logged.
 */
int sl_wh_build_view(sl_wh *wh, const char *schema, const char *name, const char *sql,
		     sl_wh_build_result *res, sl_error *err);
/*
 * Table: CREATE TABLE under a temporary name in schema AS sql, then in one
 * transaction the old relation dropped and the new one renamed into place.
 */
int sl_wh_build_table(sl_wh *wh, const char *schema, const char *name, const char *sql,
		      sl_wh_build_result *res, sl_error *err);

typedef enum {
	SL_WH_INC_APPEND = 0,
	SL_WH_INC_MERGE,         /* update rows matching unique_key, insert the others */
	SL_WH_INC_DELETE_INSERT  /* delete rows matching unique_key, insert all */
} sl_wh_inc_strategy;

typedef enum {
	SL_WH_OSC_IGNORE = 0,    /* new columns of sql dropped, missing ones NULL */
	SL_WH_OSC_FAIL,          /* any difference in columns is an error */
	SL_WH_OSC_APPEND_NEW,    /* new columns added; removed ones kept */
	SL_WH_OSC_SYNC_ALL       /* added and removed, types changed */
} sl_wh_on_schema_change;

typedef struct sl_wh_incremental {
	sl_wh_inc_strategy strategy;
	const char *const *unique_key; /* merge and delete+insert: columns */
	int nunique_key;
	sl_wh_on_schema_change on_schema_change;
	const char *const *predicates; /* incremental_predicates: SQL ANDed to
					  the match (DBT_INTERNAL_DEST alias) */
	int npredicates;
	bool full_refresh;             /* rebuild as a table */
} sl_wh_incremental;

/*
 * Incremental: when schema.name does not exist (or full_refresh, or it
 * is a view), as sl_wh_build_table. Otherwise the new rows (sql) go to a
 * temporary table, columns are reconciled per on_schema_change, and they
 * are appended, merged or deleted+inserted, in one transaction.
 */
int sl_wh_build_incremental(sl_wh *wh, const char *schema, const char *name, const char *sql,
			    const sl_wh_incremental *inc, sl_wh_build_result *res,
			    sl_error *err);

typedef enum { SL_WH_SNAP_TIMESTAMP = 0, SL_WH_SNAP_CHECK } sl_wh_snap_strategy;
typedef enum {
	SL_WH_HARD_IGNORE = 0,
	SL_WH_HARD_INVALIDATE,   /* a key gone from sql gets dbt_valid_to = now */
	SL_WH_HARD_NEW_RECORD    /* ... and a new row with dbt_is_deleted = 'True' */
} sl_wh_hard_deletes;

typedef struct sl_wh_snapshot {
	sl_wh_snap_strategy strategy;
	const char *const *unique_key;
	int nunique_key;
	const char *updated_at;        /* timestamp strategy: column */
	const char *const *check_cols; /* check strategy: columns; 0: all */
	int ncheck_cols;
	sl_wh_hard_deletes hard_deletes;
	const char *now;               /* the snapshot time, UTC
					  'YYYY-MM-DD HH:MM:SS.ffffff' */
} sl_wh_snapshot;

/*
 * Snapshot (SCD type 2, dbt's columns dbt_scd_id, dbt_updated_at,
 * dbt_valid_from, dbt_valid_to): the first run creates the table from sql
 * with every row current; later runs close the current row of each key
 * whose record changed (timestamp: updated_at is newer; check: a check
 * column differs, NULLs equal) and insert its new version, insert new
 * keys, and handle keys gone from sql per hard_deletes; one transaction.
 */
int sl_wh_build_snapshot(sl_wh *wh, const char *schema, const char *name, const char *sql,
			 const sl_wh_snapshot *snap, sl_wh_build_result *res, sl_error *err);

/* Next batch for sl_wh_build_table_from: *out NULL at the end. */
typedef int (*sl_wh_batch_next)(void *ud, const sl_batch **out, sl_error *err);

/*
 * Seeds: schema.name becomes exactly the batches next yields (schema
 * cols), built under a temporary name with the bulk loader. sql_types (may
 * be NULL; entries may be NULL) overrides a column's SQL type with the
 * text given (dbt's column_types). When schema.name is a table with the
 * same columns and types, it is emptied and the rows inserted into it, so
 * that views over it stay (dbt's truncate-and-insert); otherwise, or with
 * full_refresh, the new table is swapped in as sl_wh_build_table does —
 * except that without full_refresh a swap that would drop views over the
 * table (PostgreSQL's CASCADE) fails with SL_ECONFIG naming them. One
 * transaction either way.
 */
int sl_wh_build_table_from(sl_wh *wh, const char *schema, const char *name,
			   const sl_schema *cols, const char *const *sql_types,
			   bool full_refresh, sl_wh_batch_next next, void *ud,
			   sl_wh_build_result *res, sl_error *err);

#endif
