/*
 * sources: one interface for extracting a source table as a stream of
 * batches (open, next, progress, close), and its kinds: files over sl_store
 * (csv, parquet, json lines; local or s3), postgres tables, http JSON APIs.
 * Sources know no state store and no project: the engine hands them typed
 * options, the stored watermark and a "seen before?" callback for files,
 * and takes back typed progress (the files read whole, the new watermark),
 * which it records only after the lake commit holding the rows — so
 * extraction is at-least-once and loading makes it exactly-once.
 */
#ifndef SL_SOURCES_H
#define SL_SOURCES_H

#include "base/base.h"
#include "batch/batch.h"

/* ------------------------------------------------------- configuration */

typedef enum { SL_WRITE_APPEND = 0, SL_WRITE_REPLACE, SL_WRITE_MERGE } sl_write_mode;
const char *sl_write_mode_name(sl_write_mode m);

/* A key/value pair from a YAML mapping (params, headers, columns...). */
typedef struct sl_kv {
	char *key;
	char *value;
	int line;
} sl_kv;

typedef struct sl_kvs {
	int n;
	sl_kv *items;
} sl_kvs;

/* The value for key, or NULL. */
const char *sl_kvs_get(const sl_kvs *kvs, const char *key);

typedef struct sl_source_kind sl_source_kind;
typedef struct sl_extractor sl_extractor;
typedef struct sl_extract_opts sl_extract_opts;

/*
 * One table of a source: the keys every kind shares, read by project/, and
 * the kind's own options, read by the kind (opaque outside it).
 */
typedef struct sl_source_table {
	char *name;
	int line;             /* line of the table's entry in the source file */
	sl_write_mode write;  /* default append */
	int nprimary_key;
	char **primary_key;
	sl_kvs columns;       /* declared column types, in file order: name -> type text */
	int64_t max_bad_rows; /* default 0 */
	char *cursor;         /* postgres and http: the incremental cursor column;
				 every kind: with write: merge, the column whose
				 greatest value wins */
	/* Orchestration keys (tags, retries, retry_delay, timeout) are the
	 * engine's and are read by project/ next to the keys above. */
	const void *opts;     /* the kind's options (sl_source_kind.parse_table) */
} sl_source_table;

typedef struct sl_source {
	char *name;
	const sl_source_kind *kind;
	char *file;           /* path of the source YAML, for messages */
	int line;             /* line of the source: key, for messages */
	int ntables;
	sl_source_table *tables;
	const void *opts;     /* the kind's source-level options (postgres: its
				 connection), or NULL */
} sl_source;

/* ------------------------------------------------------ the kind registry */

/* What a configuration key holds; readers check it (sl_config). */
typedef enum {
	SL_KEY_STRING = 0,
	SL_KEY_INT,
	SL_KEY_BOOL,
	SL_KEY_NUMBER,    /* >= 0 */
	SL_KEY_DURATION,  /* a string like 90s, 15m, 2h, 1d */
	SL_KEY_CHAR,      /* one character, "\\t" or "tab" */
	SL_KEY_LIST,      /* a string or a list of strings */
	SL_KEY_MAPPING,   /* scalar -> scalar */
	SL_KEY_ENUM       /* one of sl_source_key.choices */
} sl_key_type;

/* A key a kind accepts, besides the keys every source or table has. */
typedef struct sl_source_key {
	const char *name;
	sl_key_type type;
	const char *const *choices; /* SL_KEY_ENUM: NULL-terminated */
} sl_source_key;

/*
 * One mapping of a source file (the source's or one table's) as a kind
 * reads it: typed getters that project/ implements over its YAML, with
 * ${VAR}s expanded (and their values registered as secrets) and wrong
 * types refused as "file:line: \"key\" in table \"t\" must be ..., not
 * ...". An absent or null key leaves *out untouched and returns 0 (preset
 * defaults). Every string lives as long as the project.
 */
typedef struct sl_config sl_config;
typedef struct sl_config_ops {
	int (*str)(sl_config *c, const char *key, char **out);
	int (*integer)(sl_config *c, const char *key, int64_t min, int64_t max, int64_t *out);
	int (*boolean)(sl_config *c, const char *key, bool *out);
	int (*number)(sl_config *c, const char *key, double *out);
	int (*list)(sl_config *c, const char *key, char ***out, int *n);
	int (*mapping)(sl_config *c, const char *key, sl_kvs *out);
	int (*choice)(sl_config *c, const char *key, const char *const *choices, int *out);
	/* The line of key (of the mapping when key is NULL; 0 when absent). */
	int (*line)(sl_config *c, const char *key);
	/* Zeroed memory that lives as long as the project; NULL when out of memory. */
	void *(*alloc)(sl_config *c, size_t n);
	/* Refuses a name (of a column, a cursor...) longer than names may be:
	 * "file:line: what \"...\" is N bytes long; ...". */
	int (*check_name)(sl_config *c, int line, const char *what, const char *name);
	/* The closest of cands (NULL-terminated) to word, for "did you mean"; or NULL. */
	const char *(*suggest)(sl_config *c, const char *word, const char *const *cands);
} sl_config_ops;

struct sl_config {
	const sl_config_ops *ops;
	const char *file;   /* "sources/shop.yml" */
	const char *where;  /* " in table \"orders\"" (or ""), after a key in messages */
	sl_error *err;
};

/* Sets c->err to "file:line: message" (SL_ECONFIG) and returns SL_ECONFIG. */
int sl_config_fail(sl_config *c, int line, const char *fmt, ...) SL_PRINTF(3, 4);
/* A one-character key into *out (see SL_KEY_CHAR); empty is '\0' when allowed. */
int sl_config_char(sl_config *c, const char *key, bool allow_empty, char *out);
/* A duration key into *micros, "must be a duration like 2h, 15m, 90s or 1d". */
int sl_config_duration(sl_config *c, const char *key, int64_t *micros);
/* The "lookback" key (a duration) into *micros; it needs t's cursor. */
int sl_config_lookback(sl_config *c, const sl_source_table *t, int64_t *micros);
/*
 * Checks {{ name }} in a string option: a logical date ({{ ds }},
 * {{ data_interval_start }}, {{ data_interval_end }}) or, when
 * allow_watermark, {{ watermark }}; line 0 means key's line.
 */
int sl_config_check_vars(sl_config *c, const char *key, int line, const char *value,
			 bool allow_watermark);

/*
 * A source kind: its name (what users write as kind:), the keys it adds to
 * a source and to its tables, how it reads them, and how it opens an
 * extraction. Kinds register themselves in sources/registry.c; adding one
 * touches sources/ only.
 */
struct sl_source_kind {
	const char *name;
	const sl_source_key *source_keys; /* besides source, kind, tables; {NULL} ends */
	const sl_source_key *table_keys;  /* besides the shared ones; {NULL} ends */
	/* Reads the source's own keys into src->opts (may be NULL: none). */
	int (*parse_source)(sl_config *c, sl_source *src);
	/* Reads and checks a table's own keys into t->opts (and t->cursor);
	 * the shared keys are read already. */
	int (*parse_table)(sl_config *c, const sl_source *src, sl_source_table *t);
	/* The error for table #idx (0-based) without a name; NULL: the
	 * generic "missing required key". */
	int (*unnamed_table)(sl_config *c, const sl_source *src, int idx);
	int (*open)(sl_extractor **out, const sl_source *src, const sl_source_table *t,
		    const sl_extract_opts *opts, sl_error *err);
};

/* The kind called name, or NULL. */
const sl_source_kind *sl_source_kind_find(const char *name);
/* Every registered kind, NULL-terminated, in the order users are told. */
const sl_source_kind *const *sl_source_kinds(void);

/* ---------------------------------------------------------- extraction */

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

/* What the engine knows of a file a source found. */
typedef enum {
	SL_FILE_NEW = 0, /* never extracted */
	SL_FILE_DONE,    /* extracted with this size and version: skip it */
	SL_FILE_CHANGED  /* extracted before with another size or version */
} sl_file_seen;

/*
 * Asked by file sources for each file they find: path (a local path or an
 * s3:// URL), size and version (mtime in microseconds as text, or the
 * ETag). Returns 0 with *out, or a negative code.
 */
typedef int (*sl_seen_fn)(void *ctx, const char *path, uint64_t size, const char *version,
			  sl_file_seen *out, sl_error *err);

struct sl_extract_opts {
	const char *project_dir;
	const char *run_id;
	bool full_refresh;          /* read everything: no watermark, no file skipped */
	const char *watermark;      /* the stored watermark, or NULL (first run) */
	sl_seen_fn seen;            /* NULL: every file is new */
	void *seen_ctx;
	sl_quarantine_fn on_bad;
	void *on_bad_ctx;
	int64_t batch_rows;         /* default SL_BATCH_DEFAULT_ROWS */
	/* Polled between batches, pages and files and inside network waits;
	 * once it fires, next returns what sl_cancel_check returns
	 * (SL_ECANCELLED, or SL_ETIMEOUT "timed out"). NULL: never. */
	const sl_cancel *cancel;
	/* The run's logical date, for {{ ds }}, {{ data_interval_start }} and
	 * {{ data_interval_end }} in string options: "YYYY-MM-DD" and ISO-8601
	 * UTC. NULL: from the current date (see sl_render_vars_today). */
	const char *ds;
	const char *data_interval_start;
	const char *data_interval_end;
};

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

/* A file read whole by an extraction. */
typedef struct sl_progress_file {
	char *path;       /* local path or s3:// URL */
	uint64_t size;
	char *version;    /* mtime in microseconds as text, or the ETag */
} sl_progress_file;

/*
 * What an extraction reached: the files it read whole, in order, and the
 * watermark to store (NULL: none). Owned by whoever filled it; release
 * with sl_source_progress_clear.
 */
typedef struct sl_source_progress {
	int nfiles;
	sl_progress_file *files;
	char *watermark;
} sl_source_progress;

/* Appends a file (copied). 0 or SL_ENOMEM. */
int sl_source_progress_add_file(sl_source_progress *p, const char *path, uint64_t size,
				const char *version);
/* Sets the watermark (copied; NULL clears it). 0 or SL_ENOMEM. */
int sl_source_progress_set_watermark(sl_source_progress *p, const char *watermark);
void sl_source_progress_clear(sl_source_progress *p);

typedef struct sl_extractor_ops {
	/* Returns 1 with *out (owned by the extractor, valid until the next
	 * call), 0 at the end, or a negative code. */
	int (*next)(sl_extractor *x, sl_batch **out, sl_error *err);
	/*
	 * Fills *out (empty on entry) with the progress this extraction
	 * reached; the engine records it after the lake commit and stores it
	 * in the commit for crash recovery. May be NULL (no progress).
	 */
	int (*progress)(sl_extractor *x, sl_source_progress *out, sl_error *err);
	void (*close)(sl_extractor *x);
} sl_extractor_ops;

struct sl_extractor {
	const sl_extractor_ops *ops;
	sl_schema *schema;        /* owned; set by open */
	sl_extract_stats stats;   /* updated as batches are produced */
	char description[256];    /* "3 files", "orders since 2024-01-01T..." */
	char *renamed;            /* column names made unique, "Dup → Dup_1, A → A_1",
				     or NULL; sl_extractor_close frees it */
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

/* The progress reached so far into *out (empty on entry; cleared on error). */
int sl_extractor_progress(sl_extractor *x, sl_source_progress *out, sl_error *err);

/*
 * Key of a source table in the state store: "<source>.<table>" (names are
 * identifiers, so the dot is unambiguous), sl_malloc'd; NULL when out of
 * memory.
 */
char *sl_source_table_key(const sl_source *src, const sl_source_table *t);

/* ----------------------------------------------------------- rendering */

/*
 * The logical-date variables of string options: {{ ds }},
 * {{ data_interval_start }}, {{ data_interval_end }} (spaces inside the
 * braces optional). Not a template language: a plain substitution.
 */
typedef struct sl_render_vars {
	char ds[16];                   /* "2024-01-02" */
	char data_interval_start[40];  /* "2024-01-02T00:00:00Z" */
	char data_interval_end[40];    /* "2024-01-03T00:00:00Z" */
} sl_render_vars;

/*
 * The variables of an extraction: opts' strings where set, else from the
 * current UTC date (ds today, the interval from today 00:00 to tomorrow
 * 00:00).
 */
void sl_render_vars_of(sl_render_vars *out, const sl_extract_opts *opts);

/*
 * Appends s to out with every logical-date variable replaced. A
 * "{{ watermark }}" is kept as written when keep_watermark (the http source
 * expands it per request), else it is an unknown variable. Unknown names
 * are SL_ECONFIG "unknown variable {{ name }}" (callers add file:line).
 * Text without "{{" is copied unchanged.
 */
int sl_render(sl_buf *out, const char *s, const sl_render_vars *v, bool keep_watermark,
	      sl_error *err);

/*
 * Checks s at load time: returns 0 when every {{ name }} is known (the
 * logical dates, and watermark when allow_watermark), else SL_ECONFIG with
 * *bad pointing at the first unknown "{{" in s and *badlen its length.
 */
int sl_render_check(const char *s, bool allow_watermark, const char **bad, size_t *badlen);

#endif
