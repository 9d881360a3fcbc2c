/*
 * models_macros.h: macros of the project and its packages — found in
 * macro files, looked up by name and by package.name from templates,
 * adapter.dispatch, and calls from host code (generate_schema_name).
 */
#ifndef SL_MODELS_MACROS_H
#define SL_MODELS_MACROS_H

#include "models/models_int.h"

/* Parses macro files registered by discovery and indexes their macros. */
int m_load_macros(sl_models *m, sl_error *err);
/* Whether the project or a package defines macro name (so it replaces
 * dbt's built-in default). */
bool m_macro_overridden(sl_models *m, const char *name);
/* Calls generate_schema_name / generate_alias_name(custom, node): its
 * output as an sl_malloc'd string in *out. */
int m_call_name_macro(sl_models *m, m_node *n, const char *macro, const sl_tpl_value *custom,
		      char **out, sl_error *err);
/* lookup: a macro or a package namespace by name for node ctx->node; 1
 * when found. */
int m_macro_lookup(m_ctx *ctx, const char *name, sl_tpl_value *out, sl_arena *a);
/* adapter.dispatch(name, macro_namespace): the macro to call, as a value. */
int m_dispatch(m_ctx *ctx, const char *name, const char *ns, sl_tpl_value *out, sl_arena *a,
	       sl_error *err);
/* Registers a macro file found by discovery. */
int m_add_macro_file(sl_models *m, m_package *pkg, const char *file, const char *rel,
		     sl_error *err);

#endif
