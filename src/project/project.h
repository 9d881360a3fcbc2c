/*
 * project: loading and validating a project folder — sluice.yml and
 * sources/NAME.yml — into plain structs. ${VAR} and ${VAR:-default} read the
 * environment; every value read from it is registered for log redaction
 * (see sl_project_expand_env). Only the selected target's ${VAR}s are
 * read: the other targets are checked for their structure only. Every
 * error names file:line and says what to do; unknown keys and wrong types
 * are errors, never ignored.
 */
#ifndef SL_PROJECT_H
#define SL_PROJECT_H

#include "base/base.h"
#include "batch/batch.h"

/* Longest source, table, target or column name in a project, in bytes. */
#define SL_PROJECT_MAX_NAME 255

typedef enum { SL_WRITE_APPEND = 0, SL_WRITE_REPLACE, SL_WRITE_MERGE } sl_write_mode;
const char *sl_write_mode_name(sl_write_mode m);

typedef enum { SL_SOURCE_CSV = 0, SL_SOURCE_POSTGRES, SL_SOURCE_HTTP, SL_SOURCE_S3 } sl_source_kind;
const char *sl_source_kind_name(sl_source_kind k);

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

/*
 * How the tasks of a table run, and the tags selection uses (tag:NAME):
 * sluice.yml's defaults:, a source's and a table's keys (project_policy.c).
 * An unset value is inherited: the table's from its source, the source's
 * from the defaults.
 */
typedef struct sl_task_policy {
	int retries;          /* attempts after the first; -1: not set */
	double retry_delay;   /* seconds before the first retry; -1: not set */
	double timeout;       /* seconds per attempt, 0: none; -1: not set */
	int ntags;
	char **tags;          /* a source's or table's `tags:` */
} sl_task_policy;

/* One table of a source: what to extract and how to write it. */
typedef struct sl_source_table {
	char *name;
	int line;             /* line of the table's entry in the source file */
	sl_write_mode write;  /* default append */
	int nprimary_key;
	char **primary_key;
	sl_kvs columns;       /* declared column types, in file order: name -> type text */
	int64_t max_bad_rows; /* default 0 */

	/* csv and s3 */
	char *path;           /* csv: glob relative to the project dir */
	char *url;            /* s3: s3://bucket/prefix/glob; http: endpoint URL */
	char *format;         /* s3: csv | parquet | jsonl; default from extension */
	char delimiter;       /* default ',' */
	char quote;           /* default '"' */
	char escape;          /* default '"' */
	bool header;          /* default true */
	int nnulls;
	char **nulls;         /* default {""} */
	int64_t max_columns;  /* 0: the CSV reader's default, 10,000 */

	/* postgres and http */
	char *cursor;         /* incremental cursor column / record field */
	int64_t lookback_micros;
	char *query;          /* postgres: a SELECT instead of a table */
	char *schema_name;    /* postgres: source schema, default "public" */
	bool cast_unsupported_to_text;

	/* http */
	char *method;         /* GET | POST */
	sl_kvs params;
	sl_kvs headers;
	char *body;
	char *records;        /* path of the records array: "data.items" */
	sl_kvs auth;          /* bearer | basic_user/basic_password | api_key_header/api_key */
	sl_kvs pagination;    /* type: page|offset|cursor|link, and its keys */
	char *flatten;        /* "columns" (default) | "json" */
	double rate_limit;    /* requests per second, 0 = none */
	int max_retries;      /* default 5 */
	char *on_bad_page;    /* "quarantine" (default) | "fail" */
	int64_t max_pages;        /* pages one extraction may request; default 100000 */
	int64_t max_record_bytes; /* largest record held; default 16 MiB */
	int64_t max_retry_micros; /* max_retry_time: retrying and waiting per table; default 10m */

	/* retries, retry_delay, timeout, tags (project_policy.c) */
	sl_task_policy policy;
} sl_source_table;

typedef struct sl_source {
	char *name;
	sl_source_kind kind;
	char *file;           /* path of the source YAML, for messages */
	char *connection;     /* postgres: conninfo or URI (secret) */
	int line;             /* line of the source: key, for messages */
	int ntables;
	sl_source_table *tables;

	/* retries, retry_delay, timeout, tags (project_policy.c) */
	sl_task_policy policy;
} sl_source;

typedef struct sl_target {
	char *name;
	char *type;           /* sqlite | postgres | duckdb */
	int line;
	char *path;           /* sqlite/duckdb file, relative to the project dir */
	char *host;           /* postgres: host name or unix socket directory */
	int port;             /* default 5432 */
	char *dbname;
	char *user;
	char *password;       /* secret: from ${ENV}, never logged */
	char *schema;         /* default "main" for sqlite, "public" for postgres */
	char *raw_schema;     /* where raw tables load; default "raw" */
	char *sslmode;
	char *path_abs;       /* path resolved against the project dir (NULL when no path) */
	bool resolved;        /* false: not the selected target, and some of its
				 values still hold unexpanded ${VAR} text */
} sl_target;

typedef struct sl_project {
	char *dir;            /* the project directory */
	char *file;           /* path of sluice.yml */
	char *name;
	char *lake;           /* resolved: absolute local path or s3:// URL */
	char *target;         /* the selected target's name (--target, else the default) */
	int ntargets;
	sl_target *targets;
	char *schedule;       /* cron text or NULL */
	/* lake_commit_lock: "none" (default) or "state". AWS S3, MinIO and R2
	 * honour If-None-Match, so Delta log commits are atomic without a lock;
	 * a store that ignores it needs "state": commits then take a lock in
	 * .sluice/state.db, which serialises every sluice process sharing that
	 * state.db, and does NOT protect against writers using another one. */
	char *lake_commit_lock;
	sl_kvs vars;          /* vars: name -> value text (lists/mappings as JSON) */
	sl_task_policy defaults; /* defaults: retries, retry_delay, timeout */
	int nsources;
	sl_source *sources;
	sl_arena arena;       /* owns every string above */
} sl_project;

/*
 * Loads dir/sluice.yml and dir/sources/NAME.yml for the target named
 * target (NULL: the default, i.e. sluice.yml's `target`, else "local",
 * else the only one). Only that target's ${VAR}s are expanded; the others
 * keep the text of values that hold a ${VAR} (resolved false) and their
 * structure is still checked. Also refused, naming both places: two source
 * tables whose warehouse tables the selected target would treat as one
 * identifier (SQLite ignores case, PostgreSQL cuts at 63 bytes), and names
 * longer than SL_PROJECT_MAX_NAME. Errors are SL_ECONFIG with
 * "path:line: what is wrong; what to do". Free with sl_project_free.
 */
int sl_project_load_target(sl_project **out, const char *dir, const char *target,
			   sl_error *err);
/* sl_project_load_target with the default target. */
int sl_project_load(sl_project **out, const char *dir, sl_error *err);
void sl_project_free(sl_project *p);

/* The named target, or the default when name is NULL; NULL when absent. */
const sl_target *sl_project_target(const sl_project *p, const char *name);
/* The source named name, or NULL. */
const sl_source *sl_project_source(const sl_project *p, const char *name);

/*
 * The retries, retry_delay (seconds) and timeout (seconds, 0: none) of
 * table t of source s: the table's keys, else the source's, else
 * sluice.yml's defaults:, else 0 retries, 10 s and no timeout.
 */
void sl_project_task_policy(const sl_project *p, const sl_source *s, const sl_source_table *t,
			    int *retries, double *retry_delay, double *timeout);

/*
 * Expands ${VAR} and ${VAR:-default} in s into an arena string; unknown
 * variables without a default are SL_ECONFIG naming the variable. Every
 * value taken from the environment is registered with sl_log_add_secret
 * unless it is a plain number or a boolean word (true/false/yes/no/on/off)
 * or shorter than 4 bytes: any of them may be a token, and the cost of
 * redacting a host or user name in messages is small. Defaults written in
 * the file are not registered (the file is no secret).
 */
int sl_project_expand_env(char **out, sl_arena *a, const char *s, const char *file,
			  int line, sl_error *err);

#endif
