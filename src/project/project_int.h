/*
 * project_int.h: what only project/ files see — a loaded YAML file with its
 * line numbers, and typed getters that turn YAML nodes into arena values
 * or SL_ECONFIG errors naming file:line.
 */
#ifndef SL_PROJECT_INT_H
#define SL_PROJECT_INT_H

#include "project/project.h"

#include <yaml.h>

/* One YAML file being read into a project. */
typedef struct pj_file {
	sl_arena *arena;      /* the project's arena: every string lands here */
	const char *display;  /* name used in messages: "sluice.yml", "sources/x.yml" */
	yaml_document_t doc;
	bool loaded;
	bool keep_env;        /* leave ${VAR} text unexpanded (an unselected target) */
	bool kept_env;        /* set when a value was left unexpanded */
	sl_error *err;
} pj_file;

/*
 * Reads and parses path. Syntax errors are SL_ECONFIG with
 * "display:line:column: YAML syntax error: problem". Release with
 * pj_file_close, also after a failure.
 */
int pj_file_open(pj_file *f, const char *path, const char *display, sl_arena *a,
		 sl_error *err);
void pj_file_close(pj_file *f);
/* The root node, or NULL for an empty file. */
yaml_node_t *pj_root(pj_file *f);

/* Sets f->err to "display:line: message" (SL_ECONFIG) and returns SL_ECONFIG. */
int pj_err(pj_file *f, int line, const char *fmt, ...) SL_PRINTF(3, 4);

static inline int pj_line(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }
/* A plain empty, "~" or "null" scalar. */
bool pj_is_null(const yaml_node_t *n);
/* "a string", "a list", "a mapping" for messages. */
const char *pj_kind_name(const yaml_node_t *n);

/*
 * Checks that map is a mapping whose keys are scalars from valid (NULL
 * terminated), without duplicates. where is added after the key in messages
 * (" in table \"orders\""); may be "".
 */
int pj_check_keys(pj_file *f, yaml_node_t *map, const char *const *valid, const char *where);
/* The value node of key in map (NULL when absent); *key_line gets its line. */
yaml_node_t *pj_get(pj_file *f, yaml_node_t *map, const char *key, int *key_line);
/* Number of pairs and the i-th pair's key/value nodes. */
int pj_map_len(const yaml_node_t *map);
void pj_map_pair(pj_file *f, yaml_node_t *map, int i, yaml_node_t **k, yaml_node_t **v);

/*
 * Typed getters of the value of key in map. Absent or null leaves *out
 * untouched and returns 0 (callers preset defaults). Scalars are expanded
 * with ${VAR} first; with f->keep_env a value holding ${VAR} is kept as
 * text (pj_get_str) or left unchecked and *out untouched (other getters).
 * Wrong types are errors naming the expected type.
 */
int pj_get_str(pj_file *f, yaml_node_t *map, const char *key, const char *where, char **out);
int pj_get_int(pj_file *f, yaml_node_t *map, const char *key, const char *where,
	       int64_t min, int64_t max, int64_t *out);
int pj_get_bool(pj_file *f, yaml_node_t *map, const char *key, const char *where, bool *out);
int pj_get_double(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		  double *out);
/* A string or a list of strings. */
int pj_get_strlist(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		   char ***out, int *n);
/* A mapping of scalar -> scalar (nested values as JSON text when json is set). */
int pj_get_kvs(pj_file *f, yaml_node_t *map, const char *key, const char *where, bool json,
	       sl_kvs *out);
/* One of choices (NULL terminated); index into *out. */
int pj_get_enum(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		const char *const *choices, int *out);

/* The closest of cands within edit distance 2 of word, or NULL. */
const char *pj_suggest(const char *word, const char *const *cands);
/* True when s matches [A-Za-z_][A-Za-z0-9_]*. */
bool pj_is_ident(const char *s);
/* Joins path onto dir (unless absolute) and removes "." and ".." segments. */
char *pj_abs_path(sl_arena *a, const char *dir, const char *path);

int pj_load_sources(sl_project *p, sl_error *err);

/* Records setting key = value (from line) in t's settings and, when
 * sl_target has a field for key, there as well (project.c). */
int pj_target_set(pj_file *f, sl_target *t, const char *key, char *value, int line);

/* retries, retry_delay, timeout and tags: the keys of project_policy.c. */
void pj_policy_unset(sl_task_policy *p);
/* Reads them from map into *out (unset when absent); tags only when tags. */
int pj_load_policy(pj_file *f, yaml_node_t *map, const char *where, bool tags,
		   sl_task_policy *out);
/* Names longer than SL_PROJECT_MAX_NAME: pj_err at line naming what. */
int pj_check_name_len(pj_file *f, int line, const char *what, const char *name);
/* Cross-file checks once everything is loaded: warehouse name clashes on
 * the selected target (project_check.c). */
int pj_check_warehouse_names(const sl_project *p, sl_error *err);

#endif
