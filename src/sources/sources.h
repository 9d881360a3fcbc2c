/*
 * sources: one interface for extracting a source table as a stream of
 * batches (open, next, checkpoint, close), and its kinds: csv files,
 * postgres tables, http JSON APIs, s3 objects. Sources are incremental:
 * files by path+size+mtime (or ETag), databases and APIs by a cursor
 * watermark. checkpoint moves that state and is called only after the lake
 * commit holding the rows, so extraction is at-least-once and loading makes
 * it exactly-once.
 */
#ifndef SL_SOURCES_H
#define SL_SOURCES_H

#include "base/base.h"
#include "batch/batch.h"
#include "project/project.h"

struct sl_state; /* state/state.h */

/* A bad input row, handed to the runner's quarantine instead of dropped. */
typedef struct sl_quarantine_row {
	const char *origin; /* file path, object URL or request URL */
	int64_t line;       /* line or record number within origin; 0 if none */
	const char *raw;    /* the raw text (record, JSON object, page body) */
	size_t raw_len;
	const char *reason; /* why it was rejected */
} sl_quarantine_row;

/* Returning a negative code stops the extraction. */
typedef int (*sl_quarantine_fn)(void *ctx, const sl_quarantine_row *row, sl_error *err);

typedef struct sl_extract_opts {
	const char *project_dir;
	const char *run_id;
	bool full_refresh;          /* ignore watermarks and done files */
	struct sl_state *state;     /* watermarks and done files */
	sl_quarantine_fn on_bad;
	void *on_bad_ctx;
	int64_t batch_rows;         /* default SL_BATCH_DEFAULT_ROWS */
} sl_extract_opts;

typedef struct sl_extract_stats {
	int64_t files;      /* files or objects read */
	int64_t files_changed; /* of which extracted before with another size,
				  mtime or ETag: their earlier rows stay */
	int64_t rows_read;  /* rows seen at the source, good and bad */
	int64_t rows_bad;   /* rows handed to on_bad */
	uint64_t bytes;     /* bytes read from the source */
	int64_t requests;   /* http/s3 requests */
	int64_t retries;
} sl_extract_stats;

typedef struct sl_extractor sl_extractor;

typedef struct sl_extractor_ops {
	/* Returns 1 with *out (owned by the extractor, valid until the next
	 * call), 0 at the end, or a negative code. */
	int (*next)(sl_extractor *x, sl_batch **out, sl_error *err);
	/* Records progress (watermark, files done) after the lake commit. */
	int (*checkpoint)(sl_extractor *x, sl_error *err);
	/*
	 * Writes the progress this extraction reached as a JSON object, to be
	 * stored in the lake commit (so a crash between commit and checkpoint
	 * is recovered from the lake): {"files":[{"path":P,"size":N,
	 * "version":"mtime or ETag"}...]} for file sources, {"watermark":"..."}
	 * for cursor sources. May be NULL.
	 */
	int (*progress)(sl_extractor *x, sl_buf *out, sl_error *err);
	void (*close)(sl_extractor *x);
} sl_extractor_ops;

struct sl_extractor {
	const sl_extractor_ops *ops;
	sl_schema *schema;        /* owned; set by open */
	sl_extract_stats stats;   /* updated as batches are produced */
	char description[256];    /* "3 files", "orders since 2024-01-01T..." */
};

/*
 * Opens an extractor for one table of a source. The schema is known after
 * open (declared, inferred from a sample, or read from a catalog). Free
 * with sl_extractor_close.
 */
int sl_extractor_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err);
void sl_extractor_close(sl_extractor *x);

static inline int sl_extractor_next(sl_extractor *x, sl_batch **out, sl_error *err)
{
	return x->ops->next(x, out, err);
}

static inline int sl_extractor_checkpoint(sl_extractor *x, sl_error *err)
{
	return x->ops->checkpoint ? x->ops->checkpoint(x, err) : 0;
}

/* The kinds, used by sl_extractor_open. */
int sl_csv_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		       const sl_extract_opts *opts, sl_error *err);
int sl_postgres_source_open(sl_extractor **out, const sl_source *src,
			    const sl_source_table *t, const sl_extract_opts *opts,
			    sl_error *err);
int sl_http_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			const sl_extract_opts *opts, sl_error *err);
int sl_s3_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		      const sl_extract_opts *opts, sl_error *err);

/*
 * Applies a progress object (see sl_extractor_ops.progress) to the state
 * store: marks files done and advances the watermark (never backwards).
 * Used after each lake commit and, at the start of a run, to recover the
 * progress of a commit whose run died before its checkpoint.
 */
int sl_source_progress_apply(struct sl_state *st, const char *key, const char *json,
			     sl_error *err);

/*
 * Key of a source table in the state store: "<source>.<table>" (names are
 * identifiers, so the dot is unambiguous), sl_malloc'd; NULL when out of
 * memory.
 */
char *sl_source_table_key(const sl_source *src, const sl_source_table *t);

#endif
