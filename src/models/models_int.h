/*
 * models_int.h: what only models/ files see — the project's packages and
 * nodes as models.c holds them, YAML read into template values, the
 * template context of a render, and the steps sl_models_open chains.
 */
#ifndef SL_MODELS_INT_H
#define SL_MODELS_INT_H

#include "models/models.h"
#include "template/template.h"

#include <yaml.h>

/* A package: the root project or a local one (packages.yml `local:`). */
typedef struct m_package m_package;
struct m_package {
	const char *name;
	const char *dir;           /* absolute */
	const char *const *model_paths, *const *seed_paths, *const *snapshot_paths,
		*const *macro_paths, *const *test_paths;
	int nmodel_paths, nseed_paths, nsnapshot_paths, nmacro_paths, ntest_paths;
	/* dbt_project.yml's models:/seeds:/snapshots: trees (dicts or NONE);
	 * tests_tree: its tests: and data_tests: trees merged */
	sl_tpl_value models_tree, seeds_tree, snapshots_tree, tests_tree;
	sl_tpl_value vars;         /* dict */
	sl_tpl_value macros;       /* dict name -> macro, for `package.macro()` */
	bool root;
};

/* A source table (properties YAML sources:, or the sluice project's). */
typedef struct m_source {
	const char *source, *table;
	const char *database, *schema, *identifier;
	const char *file;          /* where declared, for messages */
	const char *package;       /* declaring package; NULL: the root */
	int line;                  /* of its table entry, 0: not from YAML */
	/* documentation and freshness (descriptions rendered by m_docs_fill) */
	sl_model_source info;
	/* a sluice project's table (extra_sources), and the properties file
	 * that documents it (NULL: none yet) */
	bool extra;
	const char *augmented_by;
	/* while reading properties YAML: schema:/identifier: as written
	 * (NULL: not given) and whether freshness: was given */
	const char *given_schema, *given_identifier;
	bool freshness_given;
} m_source;

/* A macro defined in a macro file of a package. */
typedef struct m_macro {
	const char *name;          /* "cents_to_dollars"; tests: "test_<name>" */
	const struct m_package *pkg;
	sl_tpl_value value;        /* SL_TPL_MACRO, valid while its file's template is */
} m_macro;

/* A ref() or source() call a node made at parse. */
typedef struct m_call {
	const char *a, *b;         /* ref: package (or NULL), name; source: source, table */
	bool source;
	bool missing;              /* names no node or source: an error only
				      when the node turns out enabled */
	int line, col;
} m_call;

typedef struct m_node {
	sl_node pub;
	m_package *pkg;
	const char *file;          /* absolute */
	const char *fqn_path;      /* folders under the resource path and the name:
				      "staging/stg_orders" (config tree lookup) */
	char *text;                /* the template text (model, snapshot body) */
	int pad;                   /* newlines put before a snapshot body */
	sl_tpl *tpl;               /* parsed text; NULL for seeds */
	sl_tpl_value cfg;          /* resolved config (dict) */
	sl_tpl_value props_cfg;    /* properties YAML config: (dict or UNDEFINED) */
	sl_tpl_value file_cfg;     /* config() calls (dict) */
	m_call *calls;
	int ncalls, capcalls;
	bool enabled;
	int color;                 /* graph walk */
	/* SL_NODE_TEST: what the test is (pub.test points here), its YAML
	 * configs (over config() calls), where its compiled file goes
	 * (relative to the package: "models/x.yml/<name>.sql"), the line
	 * of its definition and the node it is attached to */
	sl_node_test *test;
	sl_tpl_value test_cfg;
	const char *out_path;
	int line;
	struct m_node *attached;
	const char *attached_source;
	const char *yaml_desc;     /* a generic test's description: (NULL: none) */
} m_node;

/* A models:/seeds:/snapshots: entry of a properties file. */
typedef struct m_props {
	sl_node_type type;
	const m_package *pkg;
	const char *name;
	const char *file;
	int line;
	sl_tpl_value cfg;          /* its config: (dict or UNDEFINED) */
	sl_tpl_value entry;        /* the whole entry (description, columns, meta) */
} m_props;

/* A generic test written in properties YAML, made a node by m_make_tests. */
typedef struct m_testspec {
	m_package *pkg;
	const char *file;          /* "models/x.yml" */
	int line;
	sl_node_type target_type;  /* model, seed or snapshot; ignored for sources */
	const char *target;        /* the node's name, or the source's table */
	const char *source;        /* the source's name, NULL: a node's test */
	const char *column;        /* NULL: a test of the whole node */
	sl_tpl_value def;          /* the entry: "not_null" or {not_null: {...}} */
	sl_tpl_value tags;         /* the column's tags (list or UNDEFINED) */
} m_testspec;

struct sl_models {
	sl_arena arena;
	sl_models_opts o;
	const char *project_dir;
	m_package *pkgs;
	int npkgs;
	m_node **nodes;            /* every node discovered (disabled ones too) */
	int nnodes, capnodes;
	m_node **enabled;          /* the public list */
	int nenabled;
	m_source *sources;
	int nsources, capsources;
	sl_model_source *pub_sources; /* sl_models_source_at's, in the arena */
	m_macro *macros;
	int nmacros, capmacros;
	m_props *props;
	int nprops, capprops;
	const char *target_path;   /* dbt_project.yml's target-path, default "target" */
	sl_tpl_value builtins;     /* dict: sluice's own macros, the `dbt` namespace */
	sl_tpl **tpls;             /* macro files' templates, freed with m */
	int ntpls, captpls;
	sl_tpl_value cli_vars;     /* --vars (dict or NONE) */
	sl_tpl_value target;       /* the `target` dict */
	sl_tpl_value docs;         /* docs blocks: name -> text */
	const char *target_schema;
	const char *target_database;
	const char *adapter_type;
	m_testspec *specs;
	int nspecs, capspecs;
};

/* ------------------------------------------------------------ yaml.c */

/* Node n of doc as a template value in a (plain scalars typed as dbt's
 * YAML 1.1 reader types them: null, true/false/yes/no/on/off, integers,
 * floats; others strings). */
sl_tpl_value m_yaml_value(yaml_document_t *doc, yaml_node_t *n, sl_arena *a);
/* Parses text (YAML or JSON) into *out; name for messages. */
int m_yaml_parse_text(sl_tpl_value *out, const char *text, const char *name, sl_arena *a,
		      sl_error *err);
/* Loads path into doc; SL_ECONFIG "display:line:col: YAML syntax error ...". */
int m_yaml_load(yaml_document_t *doc, const char *path, const char *display, sl_error *err);
/* Value of key in mapping map, or NULL. */
yaml_node_t *m_yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key);
/* Text of a scalar node, or NULL. */
const char *m_yaml_str(yaml_node_t *n);
/* A dict value's entry, or NULL. */
const sl_tpl_value *m_dict_get(const sl_tpl_value *d, const char *key);
/* Text of a string value in d[key], or NULL. */
const char *m_dict_str(const sl_tpl_value *d, const char *key);
/* Appends v as JSON. */
int m_value_json(sl_buf *b, const sl_tpl_value *v);
/* Copies a text into the arena, NULL on OOM. */
char *m_strdup(sl_models *m, const char *s);
/* How messages name file rel of pkg: rel for the root project, else the
 * package's folder relative to the project dir (when under it) and rel:
 * "dbt_packages/dbt_date/macros/x.sql". In the arena; NULL on OOM. */
const char *m_display_path(sl_models *m, const m_package *pkg, const char *rel);
/* Rewrites "a.sql:1:2: b.sql:3:4: what" (an error located once more by
 * each call site it crossed) as "b.sql:3:4: what (called at a.sql:1:2)". */
void m_error_tidy(sl_error *err);

/* ---------------------------------------------------------- builtins.c */

/* dbt's cross-database macros as template text (the `dbt` namespace). */
extern const char m_builtin_macros[];
extern const size_t m_builtin_macros_len;

/* ---------------------------------------------------------- discover.c */

/* Reads dbt_project.yml (or the sluice project's defaults) and packages. */
int m_load_packages(sl_models *m, sl_error *err);
/* Finds models, seeds, snapshots, macros, properties and docs files. */
int m_discover(sl_models *m, sl_error *err);
/* Adds a node; its strings must live in m->arena. */
int m_add_node(sl_models *m, m_node *n, sl_error *err);

/* -------------------------------------------------------- properties.c */

/* Reads one properties YAML file (models:, seeds:, snapshots:, sources:...). */
int m_read_properties(sl_models *m, m_package *pkg, const char *path, const char *rel,
		      sl_error *err);
/* Reads `{% docs name %}` blocks from a .md file. */
int m_read_docs(sl_models *m, const char *path, sl_error *err);
/* text with its Jinja rendered at parse time (target, var, env_var) for
 * property prop of source `source` at rel:line; text itself when it holds
 * none. */
int m_render_prop(sl_models *m, m_package *pkg, const char *source, const char *prop,
		  const char *text, const char *rel, int line, const char **out, sl_error *err);

/* ------------------------------------------------------------- tests.c */

/* Records the tests: / data_tests: of a properties entry e and of its
 * columns (source NULL: a model, seed or snapshot named name). */
int m_read_entry_tests(sl_models *m, m_package *pkg, yaml_document_t *doc, yaml_node_t *e,
		       sl_node_type type, const char *name, const char *source,
		       const char *rel, sl_error *err);
/* Walks each package's test-paths: generic/ macro files and singular tests. */
int m_discover_tests(sl_models *m, sl_error *err);
/* Makes a node of every recorded generic test (after macros are loaded). */
int m_make_tests(sl_models *m, sl_error *err);
/* Resolves a test node's config (defaults, tests: tree, config(), YAML). */
int m_resolve_test_config(sl_models *m, m_node *n, sl_error *err);
/* Fills each enabled test's sl_node_test from its resolved config. */
int m_finish_tests(sl_models *m, sl_error *err);
/* Python's repr of a string, appended (for dbt's test hashes). */
int m_py_repr_str(sl_buf *b, const char *s);

/* -------------------------------------------------------------- docs.c */

/* Reads a columns: list into arena columns (descriptions as written). */
int m_read_columns(sl_models *m, const sl_tpl_value *cols, const sl_node_column **out,
		   int *n);
/* Descriptions (doc() rendered), columns, meta, patch_path, raw_code and
 * checksum of every node and source. */
int m_docs_fill(sl_models *m, sl_error *err);

/* --------------------------------------------------------- freshness.c */

/* Reads a freshness: mapping (node fr of doc) over *f; a null one unsets
 * it. Errors name rel:line and the fix. */
int m_read_freshness(sl_models *m, yaml_document_t *doc, yaml_node_t *fr, sl_freshness *f,
		     const char *rel, sl_error *err);

/* ------------------------------------------------------------ config.c */

/* Normalized config key ("pre-hook" -> "pre_hook"); static text or NULL
 * when key is not a config key dbt knows. */
const char *m_config_key(const char *key);
/* Merges src (a dict of configs) into dst: tags and hooks accumulate. */
int m_config_merge(sl_models *m, sl_tpl_value *dst, const sl_tpl_value *src, bool plus_only,
		   sl_error *err);
/* Resolves every node's config, relation names and public fields. */
int m_resolve_configs(sl_models *m, sl_error *err);

/* ----------------------------------------------------------- context.c */

typedef enum { M_PARSE = 0, M_COMPILE } m_mode;

typedef struct m_ctx {
	sl_models *m;
	m_node *node;
	m_mode mode;
	sl_wh *wh;
	sl_error *err;
	/* ephemeral nodes this render's refs reach, in order */
	m_node **ctes;
	int nctes, capctes;
	int depth;               /* nested compiles (ephemerals) */
	bool strict;             /* M_PARSE: a missing or disabled ref is an
				    error (the render that locates it) */
	sl_tpl_value this_rel;
	sl_tpl_value results;    /* statement() results by name (render arena) */
} m_ctx;

/* The host environment of a render in ctx. */
void m_ctx_env(m_ctx *ctx, sl_tpl_env *env);
/* A relation value: prints "schema"."name" (or the CTE name). */
sl_tpl_value m_relation(sl_arena *a, const char *database, const char *schema,
			const char *identifier);
/* The node ref(pkg, name) names from node from, or NULL. */
m_node *m_find_ref(sl_models *m, const m_node *from, const char *pkg, const char *name);
/* The source table, or NULL. */
m_source *m_find_source(sl_models *m, const char *source, const char *table);
/* The closest name to word among cands within a distance, or NULL. */
const char *m_suggest(const char *word, const char *const *cands, int n);
void m_ctx_free(m_ctx *ctx);
/* Renders node n at parse, strict: the located error of its first missing
 * or disabled ref or source, or 0. */
int m_parse_strict(sl_models *m, m_node *n, sl_error *err);

/* ------------------------------------------------------------- graph.c */

/* depends_on from the parse calls of enabled nodes; cycles, unknown refs
 * and refs to disabled nodes are errors (disabled nodes' calls are not
 * resolved, as in dbt). */
int m_build_graph(sl_models *m, sl_error *err);

/* ----------------------------------------------------------- compile.c */

/* Renders node n with ctx mode into out (ephemerals injected as CTEs). */
int m_compile(sl_models *m, m_node *n, sl_wh *wh, sl_buf *out, sl_error *err);
/* Renders a hook or other template text for node n. */
int m_render_text(sl_models *m, m_node *n, sl_wh *wh, const char *name, const char *text,
		  sl_buf *out, sl_error *err);
/* Writes text to <target-path>/<sub>/<package>/<path> (target-path relative
 * to the project dir, default "target"). */
int m_write_target(sl_models *m, const m_node *n, const char *sub, const char *text,
		   size_t len, sl_error *err);

#endif
