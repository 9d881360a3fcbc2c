/*
 * lake: tables of immutable Parquet files made visible by atomic commits to
 * a Delta Lake transaction log (_delta_log/NNNNNNNNNNNNNNNNNNNN.json with
 * protocol, metaData, add/remove with stats, txn, commitInfo), on any
 * sl_store. Data files are written first; one commit record makes them
 * visible; a crash before it leaves only unreferenced files, which vacuum
 * removes. A table is named by its path in the lake: "raw/<source>/<table>".
 *
 * Layout of a table T: T/_delta_log/NNNNNNNNNNNNNNNNNNNN.json (one JSON
 * action per line) and T/data/part-NNNNN-<uuid>.<codec>.parquet (add paths
 * are relative to T: "data/part-..."). A write with zero rows still commits
 * a version (commitInfo and txn, no add), so an empty run is recorded and
 * its txn is not written twice; the table exists from its first commit.
 */
#ifndef SL_LAKE_H
#define SL_LAKE_H

#include "base/base.h"
#include "batch/batch.h"
#include "formats/parquet/parquet.h"
#include "store/store.h"

typedef struct sl_lake sl_lake;

/* Opens a lake at a local path or s3:// URL. Free with sl_lake_close. */
int sl_lake_open(sl_lake **out, const char *url, sl_error *err);
void sl_lake_close(sl_lake *lake);
sl_store *sl_lake_store(sl_lake *lake);
const char *sl_lake_url(const sl_lake *lake);

/*
 * Commit lock, for stores that ignore put-if-absent. Every commit writes
 * its log version with put(if_absent): the local store uses link(2), S3
 * sends If-None-Match: * — which AWS S3, MinIO and Cloudflare R2 honour
 * atomically, so they need no lock. A store that ignores If-None-Match
 * (older MinIO, s3rver, some S3 gateways) would let two writers both
 * "create" the same version, the second overwriting the first; for those,
 * set a lock: each commit attempt then runs lock(table) -> stat of the
 * version key (present: another writer won, re-read and retry) -> put ->
 * unlock(table). The lock serialises only writers that share it (sluice's
 * is the project's state.db, see sl_state_lock; project key
 * lake_commit_lock: state). lock returns 0 or a negative code with err
 * filled; a failure fails the commit (nothing written). NULL lock: none.
 */
typedef int (*sl_lake_lock_fn)(void *ctx, const char *table, sl_error *err);
typedef void (*sl_lake_unlock_fn)(void *ctx, const char *table);
void sl_lake_set_commit_lock(sl_lake *lake, sl_lake_lock_fn lock, sl_lake_unlock_fn unlock,
			     void *ctx);

/* --------------------------------------------------------------- writing */

typedef enum {
	SL_LAKE_APPEND = 0,   /* add files */
	SL_LAKE_OVERWRITE = 1 /* add files and remove every file of the
				 previous version, in the same commit */
} sl_lake_mode;

typedef struct sl_lake_write_opts {
	sl_lake_mode mode;
	/* Idempotence (Delta `txn` action): when app_id is set and the table's
	 * log already holds a txn of app_id with exactly txn_version (this
	 * run's commit landed before), commit writes nothing and reports
	 * skipped. Exact, not ">=": runs may overlap and commit out of order. */
	const char *app_id;
	int64_t txn_version;
	const char *run_id;         /* recorded in commitInfo */
	const char *operation;      /* commitInfo operation, default "WRITE" */
	const char *extra_info_json;/* extra commitInfo fields: JSON object text
				       merged into commitInfo, or NULL */
	uint64_t target_file_bytes; /* roll to a new file past this many
				       uncompressed bytes; default 256 MiB */
	sl_parquet_write_opts parquet;
} sl_lake_write_opts;

#define SL_LAKE_WRITE_OPTS_INIT \
	{SL_LAKE_APPEND, NULL, 0, NULL, NULL, NULL, 256u << 20, SL_PARQUET_WRITE_OPTS_INIT}

typedef struct sl_lake_commit_result {
	bool skipped;      /* the txn was already committed */
	int64_t version;   /* the new table version (or current one if skipped) */
	int files;         /* data files added */
	int64_t rows;      /* rows added */
	uint64_t bytes;    /* bytes added */
} sl_lake_commit_result;

typedef struct sl_lake_writer sl_lake_writer;

/*
 * Starts a write to table (created at its first commit). The schema must
 * match the table's, except that new nullable columns may be added (the
 * commit then writes a new metaData). Free with commit or abort.
 */
int sl_lake_writer_open(sl_lake_writer **out, sl_lake *lake, const char *table,
			const sl_schema *schema, const sl_lake_write_opts *opts,
			sl_error *err);
int sl_lake_writer_write(sl_lake_writer *w, const sl_batch *b, sl_error *err);
int64_t sl_lake_writer_rows(const sl_lake_writer *w);
/* Replaces opts.extra_info_json (copied) before commit: facts only known at
 * the end of a write, such as the source progress the commit carries. */
int sl_lake_writer_set_extra_info(sl_lake_writer *w, const char *json, sl_error *err);
uint64_t sl_lake_writer_bytes(const sl_lake_writer *w); /* compressed bytes so far */
/*
 * Finishes data files and writes the next log version with
 * put-if-absent (under the commit lock when one is set); a concurrent
 * commit of the same version is retried on the new version when it does
 * not conflict. Frees w.
 */
int sl_lake_writer_commit(sl_lake_writer *w, sl_lake_commit_result *res, sl_error *err);
/* Stops writing and deletes this writer's uncommitted files. Frees w. */
void sl_lake_writer_abort(sl_lake_writer *w);

/* Latest txn version committed for app_id on table, or -1 when none. */
int sl_lake_txn_version(sl_lake *lake, const char *table, const char *app_id,
			int64_t *out, sl_error *err);

/* ------------------------------------------------------------ statistics */

/*
 * A data file's column statistics, typed: bounds is a 2-row batch of the
 * table's columns, row 0 the minimum and row 1 the maximum of each column
 * (NULL where unknown: all values NULL, a NaN seen, a bound that cannot be
 * exact); null_counts has one entry per column (-1: unknown). Rendered as
 * Delta's `stats` JSON (numRecords, minValues, maxValues, nullCount) only
 * in the log.
 */
typedef struct sl_lake_file_stats {
	int64_t rows;
	sl_batch *bounds;
	int64_t *null_counts;
} sl_lake_file_stats;

void sl_lake_file_stats_free(sl_lake_file_stats *s);
/* Delta's stats JSON of s (sl_malloc'd, NULL when out of memory). */
char *sl_lake_stats_to_json(const sl_lake_file_stats *s);
/* Parses Delta stats JSON into typed statistics for schema; values that do
 * not parse as their column's type stay NULL (unknown). */
int sl_lake_stats_from_json(sl_lake_file_stats **out, const sl_schema *schema, const char *json,
			    sl_error *err);

/* --------------------------------------------------------------- reading */

typedef struct sl_lake_file {
	char *path;          /* key relative to the table root */
	uint64_t size;
	int64_t rows;
	int64_t version;     /* snapshot: the version that made it live (a later
				add of the same live path replaces its stats,
				not this); history: the commit's version */
} sl_lake_file;

typedef struct sl_lake_snapshot {
	char *table;
	int64_t version;     /* -1 when the table has no commit */
	char *table_id;      /* metaData id: new when a table is recreated */
	sl_schema *schema;
	int nfiles;
	sl_lake_file *files; /* live files, one per path (Delta's action
				reconciliation: the newest add or remove of a
				path wins), in the order they became live */
	int64_t rows;
	uint64_t bytes;
} sl_lake_snapshot;

/* The table at version (-1: latest). SL_ENOTFOUND when there is no table;
 * SL_EFORMAT when the log adds a live path again with another size. */
int sl_lake_snapshot_open(sl_lake_snapshot **out, sl_lake *lake, const char *table,
			  int64_t version, sl_error *err);
void sl_lake_snapshot_free(sl_lake_snapshot *s);

/* One commit of a table's history. */
typedef struct sl_lake_commit {
	int64_t version;
	int64_t timestamp_micros;
	char *operation;
	char *run_id;        /* may be NULL */
	char *app_id;        /* txn appId, may be NULL */
	int64_t txn_version; /* -1 when no txn */
	int nadded;
	sl_lake_file *added;
	int nremoved;
	char **removed;      /* paths */
	int64_t rows_added;
	uint64_t bytes_added;
	bool schema_changed; /* carries a metaData action */
	bool replaced;       /* the commit replaced the table's content: an
				Overwrite or a remove (and, in commits the
				handle replayed, a new table id) */
	char *commit_info_json; /* the whole commitInfo object as JSON text, or NULL */
	char *sluice_json;   /* commitInfo's "sluice" object (what sluice's run
				recorded: progress, counts) as JSON text, or NULL */
} sl_lake_commit;

typedef struct sl_lake_history {
	int n;
	sl_lake_commit *commits; /* ascending version */
} sl_lake_history;

/* Commits with version in (after, upto]; upto -1 means latest. The
 * commits the lake handle replayed last come from its cache. */
int sl_lake_history_open(sl_lake_history **out, sl_lake *lake, const char *table,
			 int64_t after, int64_t upto, sl_error *err);
void sl_lake_history_free(sl_lake_history *h);

/*
 * Calls fn for each commit of table with a version above after, newest
 * first, until fn returns non-zero (> 0: stop, < 0: an error, returned).
 * A version is read only when fn asks for it, so a caller that needs the
 * latest commit carrying something reads back only to it; the handle's
 * latest commits come from its cache without a read. c is borrowed for the
 * call. A table without a log calls fn never and returns 0.
 */
typedef int (*sl_lake_commit_fn)(void *arg, const sl_lake_commit *c, sl_error *err);
int sl_lake_commits_newest_first(sl_lake *lake, const char *table, int64_t after,
				 sl_lake_commit_fn fn, void *arg, sl_error *err);

/* -------------------------------------------------------------- changes */

/*
 * What a reader that has taken in the table up to version since (of table
 * id since_table_id) must read to be at the latest version: the files added
 * since, or — when the content was replaced — every live file, with the
 * reason. Computed from the replayed log (the handle's cache), without
 * reading any commit twice.
 */
typedef struct sl_lake_changes {
	sl_lake_snapshot *snapshot; /* the table now (owned by the changes) */
	int64_t since;
	/* Why the reader must rebuild from the whole snapshot, if it must: */
	bool overwritten;   /* a commit after since replaced the content: a
			       replace or full refresh (Overwrite), removed
			       files, a new table id in place */
	int64_t overwritten_at; /* the latest such version, or -1 */
	bool recreated;     /* the table id is not since_table_id: the table
			       was deleted (or vacuumed away) and created again */
	bool history_gone;  /* since is past the latest version: the latest
			       versions were removed or the lake replaced */
	bool rebuild;       /* any of the three */
	/* The files to read, in the order they became live: every live file
	 * when rebuild or since < 0, else those that became live after since.
	 * Borrowed from snapshot. */
	const sl_lake_file **files;
	int nfiles;
	int64_t rows;
	uint64_t bytes;
	/* Paths removed after since (as the log spells them). */
	char **removed;
	int nremoved;
} sl_lake_changes;

/* since -1: nothing read yet (every file, no rebuild). since_table_id NULL:
 * not checked. SL_ENOTFOUND when table has no log. Free with
 * sl_lake_changes_free. */
int sl_lake_changes_open(sl_lake_changes **out, sl_lake *lake, const char *table, int64_t since,
			 const char *since_table_id, sl_error *err);
void sl_lake_changes_free(sl_lake_changes *c);

/* Log versions this handle has read from its store so far (each read of a
 * _delta_log JSON file counts once): for metrics and tests. */
uint64_t sl_lake_log_reads(const sl_lake *lake);

/* Opens a data file of table for reading (the reader is the caller's). */
int sl_lake_file_open(sl_parquet_reader **out, sl_lake *lake, const char *table,
		      const sl_lake_file *file, sl_error *err);

/* Table names in the lake (those with a _delta_log), sorted. */
int sl_lake_list_tables(sl_lake *lake, char ***out, int *n, sl_error *err);
void sl_lake_names_free(char **names, int n);

typedef struct sl_lake_vacuum_result {
	int files_removed;
	uint64_t bytes_removed;
} sl_lake_vacuum_result;

/*
 * Deletes files under table's root that no live snapshot references and
 * that are older than retain_micros (files of uncommitted or crashed writes,
 * and files removed by overwrites). dry_run only counts them.
 */
int sl_lake_vacuum(sl_lake *lake, const char *table, int64_t retain_micros, bool dry_run,
		   sl_lake_vacuum_result *res, sl_error *err);

#endif
