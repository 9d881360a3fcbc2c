/* render.c: walks the tree and writes output (stub until the renderer lands). */
#include "template/template_int.h"

int sl_tpl_render(const sl_tpl *t, const sl_tpl_env *env, sl_buf *out, sl_error *err)
{
	return sl_error_set(err, SL_EINTERNAL, "%s: rendering is not implemented yet", t->name);
}
