/*
 * models_stub.c: TEMPORARY weak stand-ins for models/ until its
 * implementation is merged; the real definitions override them.
 */
#include "models/models.h"

#define WEAK __attribute__((weak))

WEAK const char *sl_materialized_name(sl_materialized m)
{
	static const char *const n[] = {"view", "table", "incremental", "ephemeral", "seed",
					"snapshot"};
	return (unsigned)m < 6 ? n[m] : "?";
}
WEAK const char *sl_node_type_name(sl_node_type t)
{
	return t == SL_NODE_SEED ? "seed" : t == SL_NODE_SNAPSHOT ? "snapshot" : "model";
}
WEAK int sl_models_open(sl_models **out, const sl_models_opts *o, sl_error *err)
{
	*out = NULL;
	return sl_error_set(err, SL_EINTERNAL, "models are not built in yet");
}
WEAK void sl_models_free(sl_models *m) { (void)m; }
WEAK int sl_models_count(const sl_models *m) { return 0; }
WEAK const sl_node *sl_models_node(const sl_models *m, int i) { return NULL; }
WEAK int sl_models_find(const sl_models *m, const char *unique_id) { return -1; }
WEAK int sl_models_compile(sl_models *m, int i, sl_wh *wh, bool write_file, char **sql,
			   sl_error *err)
{
	return sl_error_set(err, SL_EINTERNAL, "models are not built in yet");
}
WEAK int sl_models_build(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
			 sl_node_result *res, sl_error *err)
{
	return sl_error_set(err, SL_EINTERNAL, "models are not built in yet");
}
