/*
 * lake_int.h (private to lake/): the lake handle, the replayed state of a
 * table's Delta log, and the commit primitive that the writer (and tests)
 * build on. Layout of a table "raw/src/t" in the lake:
 *   raw/src/t/_delta_log/00000000000000000000.json   newline-delimited actions
 *   raw/src/t/data/part-00000-<uuid>.zstd.parquet     data files
 * Paths in add/remove actions are relative to the table root ("data/...").
 */
#ifndef SL_LAKE_INT_H
#define SL_LAKE_INT_H

#include "lake/lake.h"

#include <pthread.h>
#include <stdatomic.h>

struct json_t;

#define SL_LAKE_ENGINE_INFO "sluice/0.1.0"
/* Highest Delta protocol versions this implementation reads and writes. */
#define SL_LAKE_READER_VERSION 1
#define SL_LAKE_WRITER_VERSION 2
/* Data files live in this subfolder of the table root. */
#define SL_LAKE_DATA_DIR "data"
/* Maximum commit attempts when other writers keep taking the version. */
#define SL_LAKE_MAX_COMMIT_ATTEMPTS 1000

typedef struct sl_lake_cached sl_lake_cached;

struct sl_lake {
	sl_store *store;
	char *url;
	bool local; /* a directory on this machine (vacuum also removes the
		       temp files of crashed writers, which list never shows) */
	sl_lake_lock_fn lock; /* commit lock (NULL: none), see lake.h */
	sl_lake_unlock_fn unlock;
	void *lock_ctx;
	/* Replayed logs, one per table, kept for the handle's life (see
	 * lake_read.c): a table's log is read once and then only its new
	 * versions. */
	pthread_mutex_t cache_mu;
	sl_lake_cached *cache;
	int ncached;
	uint64_t tick;          /* LRU clock */
	_Atomic uint64_t log_reads; /* log versions read from the store */
};

/* Tables whose replayed log a lake handle keeps (least recently used
 * ones are dropped past this). */
#define SL_LAKE_CACHE_TABLES 64
/* Recent commits a replayed log keeps as records, so the commits after a
 * recent version (progress recovery, load changes) need no read. */
#define SL_LAKE_RECENT 16

/* ----------------------------------------------------------- log state */

typedef struct sl_lake_txn {
	char *app_id;
	int64_t version;
	int64_t last_updated_ms;
} sl_lake_txn;

/*
 * A table's log replayed up to version. Live files keep the order of their
 * add actions; removed ones are tombstoned (path NULL) and compacted away
 * when the index grows. An index by path makes replay O(actions).
 */
/* A file a commit removed: when, for vacuum's retention and changes. */
typedef struct sl_lake_removal {
	char *path;          /* as the remove action spells it */
	int64_t version;
	int64_t micros;      /* deletionTimestamp, else the commit's timestamp,
				else INT64_MIN (the log file's mtime stands in) */
} sl_lake_removal;

/* A log version's file as the store lists it. */
typedef struct sl_lake_logfile {
	uint64_t size;
	int64_t mtime_micros; /* 0: not known yet */
} sl_lake_logfile;

typedef struct sl_lake_state {
	char *table;
	int64_t version;     /* last applied version, -1 before version 0 */
	sl_lake_logfile last_file; /* its log file, to notice a table written
				      anew under the same versions */
	sl_schema *schema;   /* from the latest metaData, NULL before one */
	char *meta_json;     /* the latest metaData action, as JSON text */
	char *table_id;      /* its id ("" when none) */
	/* The latest version whose commit replaced the table's content: an
	 * Overwrite (replace, full refresh), a remove, or a metaData with a new
	 * id. -1 when none. Loads since an earlier version must rebuild. */
	int64_t last_rebuild;
	sl_lake_removal *removals;
	int nremovals, capremovals;
	/* The last SL_LAKE_RECENT commits as records, oldest first. */
	sl_lake_commit recent[SL_LAKE_RECENT];
	int nrecent;
	int min_reader, min_writer;
	sl_lake_file *files; /* live files (path NULL: removed) */
	int nfiles, cap, nlive;
	int *index;          /* open addressing into files, -1 empty */
	size_t index_cap;
	sl_lake_txn *txns;
	int ntxns;
} sl_lake_state;

int sl_lake_state_init(sl_lake_state *st, const char *table, sl_error *err);
void sl_lake_state_free(sl_lake_state *st);
/* Deep copy of src into dst (initialised here). */
int sl_lake_state_copy(sl_lake_state *dst, const sl_lake_state *src, sl_error *err);
/* Applies the actions of version v (a JSON array) to st. */
int sl_lake_state_apply(sl_lake_state *st, struct json_t *actions, int64_t v, bool keep_record,
			sl_error *err);
/* Splits commit text (one JSON action per line) into a JSON array; where
 * names it in errors. */
int sl_lake_log_parse(const char *text, size_t len, const char *where, struct json_t **out,
		      sl_error *err);
/*
 * Applies the log versions after st->version up to upto (-1: the latest
 * present). SL_ENOTFOUND when upto is past the end.
 */
int sl_lake_state_advance(sl_lake *lake, sl_lake_state *st, int64_t upto, sl_error *err);
/* The live file at this path relative to the table, as it is in the store
 * (not percent-encoded), or NULL (also when out of memory). */
const sl_lake_file *sl_lake_state_find(const sl_lake_state *st, const char *path);
/* The txn version recorded for app_id, or -1. */
int64_t sl_lake_state_txn(const sl_lake_state *st, const char *app_id);
/* True when the log holds a txn of app_id with exactly this version. */
bool sl_lake_state_txn_seen(const sl_lake_state *st, const char *app_id, int64_t version);

/* Reads version v of table into a JSON array of its actions (json_decref). */
int sl_lake_log_read(sl_lake *lake, const char *table, int64_t v, struct json_t **out,
		     sl_error *err);
/* Latest version of table's log (versions must run from 0 without gaps);
 * SL_ENOTFOUND when the table has no log. */
int sl_lake_log_versions(sl_lake *lake, const char *table, int64_t *latest, sl_error *err);

/* numRecords of Delta stats JSON text (0 when absent). */
int64_t sl_lake_stats_rows(const char *stats);
/* Whether a commitInfo says its commit replaced the content (Overwrite). */
bool sl_lake_info_overwrites(struct json_t *commit_info);
/* Fills c from the actions of version v (c is the caller's to clear). */
int sl_lake_commit_from_actions(sl_lake_commit *c, struct json_t *actions, int64_t v);
void sl_lake_commit_clear(sl_lake_commit *c);
int sl_lake_commit_copy(sl_lake_commit *dst, const sl_lake_commit *src);

/*
 * The cached replay of table's log, brought to the latest version (reading
 * only the versions not yet applied), handed to fn while it is held (no
 * other thread advances it meanwhile). A table without a log gives a state
 * at version -1. fn's return is returned.
 */
typedef int (*sl_lake_state_fn)(const sl_lake_state *st, void *arg, sl_error *err);
int sl_lake_with_latest(sl_lake *lake, const char *table, sl_lake_state_fn fn, void *arg,
			sl_error *err);
/* A copy of the cached state at the latest version (sl_lake_state_free). */
int sl_lake_state_latest(sl_lake *lake, const char *table, sl_lake_state *out, sl_error *err);
/* Hands a state the caller brought further (its own commit applied) to the
 * cache, which keeps it when it is newer than its own. Takes st's content
 * (st is left empty). */
void sl_lake_cache_offer(sl_lake *lake, sl_lake_state *st);
void sl_lake_cache_free(sl_lake *lake);

/* Key of a log version: "<table>/_delta_log/%020lld.json". */
char *sl_lake_log_key(const char *table, int64_t v);

/* ------------------------------------------------------------- commits */

/* A data file to add, written and closed. */
typedef struct sl_lake_add {
	char *path;       /* relative to the table root */
	uint64_t size;
	int64_t rows;
	int64_t mtime_ms;
	sl_lake_file_stats *stats; /* typed; rendered as Delta stats JSON in the
				      log. NULL: none */
} sl_lake_add;

/* Typed statistics of a file the Parquet writer finished. */
int sl_lake_stats_from_parquet(sl_lake_file_stats **out, const sl_schema *schema,
			       const sl_parquet_file_stats *fs, sl_error *err);

typedef struct sl_lake_commit_req {
	const sl_schema *schema;        /* the data's schema */
	const sl_lake_write_opts *opts; /* mode, txn, commitInfo fields */
	const sl_lake_add *adds;
	int nadds;
} sl_lake_commit_req;

/*
 * Writes the next version of table's log with put-if-absent, retrying on
 * the following version when another writer took it (the log is replayed
 * first, txn idempotence and the schema re-checked). st may be NULL (read
 * from scratch) or a state the caller keeps; it is advanced, and after a
 * commit holds the new version (its actions applied without reading the
 * log back). *written is
 * false when the log certainly was not written (the caller may delete its
 * files); an I/O error on the put leaves it true, since the put may have
 * landed.
 */
int sl_lake_log_commit(sl_lake *lake, const char *table, sl_lake_state *st,
		       const sl_lake_commit_req *req, sl_lake_commit_result *res, bool *written,
		       sl_error *err);

/*
 * Merges the data's schema into the table's: every table column must keep
 * its type; table columns absent from the data must be nullable; new
 * columns are added as nullable. *out is the resulting table schema
 * (caller frees) and *changed says whether it differs from table. table
 * may be NULL (a new table: *out is a copy of data, changed true).
 */
int sl_lake_schema_merge(const sl_schema *table, const sl_schema *data, sl_schema **out,
			 bool *changed, const char *table_name, sl_error *err);
/* Spark StructType JSON of a schema (sl_malloc'd) and back. */
char *sl_lake_schema_to_json(const sl_schema *s);
int sl_lake_schema_from_json(sl_schema **out, const char *json, sl_error *err);

/* Rejects table names that would escape the lake or the table layout. */
int sl_lake_check_table(const char *table, sl_error *err);

/* Test hook: called before each put of a commit (NULL: none). */
void sl_lake_set_commit_hook(void (*fn)(void *arg), void *arg);

/* A random (version 4) UUID, for metaData.id and data file names. */
void sl_lake_uuid4(char out[37]);

/* Decodes %XX escapes of a Delta path into a new string (NULL on OOM). */
char *sl_lake_path_decode(const char *path);

#endif
