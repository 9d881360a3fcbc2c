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
#include "sources/sources.h"

/* Longest source, table, target or column name in a project, in bytes. */
#define SL_PROJECT_MAX_NAME 255

/*
 * How the tasks of a table run, and the tags selection uses (tag:NAME):
 * sluice.yml's defaults:, a source's and a table's keys (project_policy.c).
 * An unset value is inherited: the table's from its source, the source's
 * from the defaults.
 */
/* A source's or table's `freshness:` (dbt's keys): warn_after and
 * error_after {count, period: minute|hour|day}, and filter. */
typedef struct sl_source_freshness {
	bool given;           /* the key was written (null too) */
	bool set;             /* given and not null */
	int64_t warn_count, error_count;     /* 0: not set */
	const char *warn_period, *error_period;
	int64_t warn_seconds, error_seconds; /* count * period, 0: not set */
	char *filter;         /* a SQL condition, or NULL */
} sl_source_freshness;

typedef struct sl_task_policy {
	int retries;          /* attempts after the first; -1: not set */
	double retry_delay;   /* seconds before the first retry; -1: not set */
	double timeout;       /* seconds per attempt, 0: none; -1: not set */
	int ntags;
	char **tags;          /* a source's or table's `tags:` */
	/* a source's or table's freshness criteria and the column holding
	 * each row's load time (NULL: none; freshness then goes by the
	 * table's last load) */
	sl_source_freshness freshness;
	char *loaded_at_field;
} sl_task_policy;

/* A source's policy and its tables', index for index with its tables. */
typedef struct sl_source_policy {
	sl_task_policy source;
	sl_task_policy *tables;
} sl_source_policy;

typedef struct sl_target {
	char *name;
	char *type;           /* a warehouse adapter's name (sl_wh_adapter_find) */
	int line;
	char *path;           /* sqlite/duckdb file, relative to the project dir */
	char *host;           /* postgres: host name or unix socket directory */
	int port;             /* postgres: default 5432; 0 for types without one */
	char *dbname;
	char *user;
	char *password;       /* secret: from ${ENV}, never logged */
	char *schema;         /* default "main" for sqlite, "public" for postgres */
	char *raw_schema;     /* where raw tables load; default "raw" */
	char *sslmode;
	char *path_abs;       /* path resolved against the project dir (NULL when no path) */
	bool resolved;        /* false: not the selected target, and some of its
				 values still hold unexpanded ${VAR} text */
	sl_kvs settings;      /* every setting of the adapter as text, defaults
				 included (the fields above mirror theirs) */
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
	int nsources;
	sl_source *sources;
	/* defaults: (retries, retry_delay, timeout) and each source's and
	 * table's keys, index for index with sources (project_policy.c) */
	sl_task_policy defaults;
	sl_source_policy *policies;
	/* A dbt project (dbt_project.yml; no lake, no sources): its profile
	 * name and the profiles.yml its targets came from. NULL otherwise. */
	char *dbt_profile;
	char *profiles_file;
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
/*
 * Loads a dbt project: dir/dbt_project.yml's name and profile, and that
 * profile's outputs from profiles.yml, found as dbt finds it: profiles_dir
 * (--profiles-dir; NULL: none), $DBT_PROFILES_DIR, dir, ~/.dbt/. target
 * NULL: the profile's `target:`. Output types postgres (dbt-postgres keys)
 * and sqlite (dbt-sqlite keys: schemas_and_paths, schema_directory, and
 * sluice's path) become sl_targets; env_var() in profiles.yml reads the
 * environment (values registered as secrets as for ${VAR}). p->lake is
 * NULL and p->nsources 0. Errors SL_ECONFIG "path:line: what; what to do".
 */
int sl_project_load_dbt(sl_project **out, const char *dir, const char *profiles_dir,
			const char *target, sl_error *err);
/* dir/sluice.yml when there is one (profiles_dir unused), else
 * dir/dbt_project.yml; SL_ECONFIG naming both when neither exists. */
int sl_project_open(sl_project **out, const char *dir, const char *profiles_dir,
		    const char *target, sl_error *err);
/* sl_project_load_target with the default target. */
int sl_project_load(sl_project **out, const char *dir, sl_error *err);
void sl_project_free(sl_project *p);

/* The named target, or the default when name is NULL; NULL when absent. */
const sl_target *sl_project_target(const sl_project *p, const char *name);
/* The source named name, or NULL. */
const sl_source *sl_project_source(const sl_project *p, const char *name);

/*
 * The retries, retry_delay (seconds) and timeout (seconds, 0: none) of
 * table t of source s (both of p): the table's keys, else the source's,
 * else sluice.yml's defaults:, else 0 retries, 10 s and no timeout.
 */
void sl_project_task_policy(const sl_project *p, const sl_source *s, const sl_source_table *t,
			    int *retries, double *retry_delay, double *timeout);
/* The freshness of table t of source s: the table's freshness: when it has
 * one (null: none), else its source's; and its loaded_at_field, else the
 * source's (NULL: none). */
void sl_project_table_freshness(const sl_project *p, const sl_source *s,
				const sl_source_table *t, const sl_source_freshness **fresh,
				const char **loaded_at_field);
/* The tags of table t of source s: the source's, then the table's. */
const sl_task_policy *sl_project_source_policy(const sl_project *p, const sl_source *s);
const sl_task_policy *sl_project_table_policy(const sl_project *p, const sl_source *s,
					      const sl_source_table *t);

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
