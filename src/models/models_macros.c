/*
 * models_macros.c: the project's and packages' macros (see models_macros.h).
 */
#include "models/models_macros.h"

#include <stdio.h>
#include <string.h>

int m_add_macro_file(sl_models *m, m_package *pkg, const char *file, const char *rel,
		     sl_error *err)
{
	(void)m; (void)pkg; (void)file; (void)rel; (void)err;
	return 0;
}

int m_load_macros(sl_models *m, sl_error *err)
{
	(void)m; (void)err;
	return 0;
}

bool m_macro_overridden(sl_models *m, const char *name)
{
	(void)m; (void)name;
	return false;
}

int m_call_name_macro(sl_models *m, m_node *n, const char *macro, const sl_tpl_value *custom,
		      char **out, sl_error *err)
{
	(void)m; (void)n; (void)custom; (void)out;
	return sl_error_set(err, SL_EINTERNAL, "macro %s cannot be called", macro);
}

int m_macro_lookup(m_ctx *ctx, const char *name, sl_tpl_value *out, sl_arena *a)
{
	(void)ctx; (void)name; (void)out; (void)a;
	return 0;
}

int m_macro_call(m_ctx *ctx, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		 const sl_tpl_kwarg *kwargs, size_t nkwargs, sl_tpl_value *out, sl_arena *a,
		 sl_error *err)
{
	(void)ctx; (void)fn; (void)args; (void)nargs; (void)kwargs; (void)nkwargs; (void)out;
	(void)a; (void)err;
	return 0;
}

int m_dispatch(m_ctx *ctx, const char *name, const char *ns, sl_tpl_value *out, sl_arena *a,
	       sl_error *err)
{
	(void)ctx; (void)ns; (void)out; (void)a;
	return sl_error_set(err, SL_ECONFIG, "adapter.dispatch: no macro %s", name);
}
