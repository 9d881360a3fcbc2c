/*
 * progress_int.h (private to engine/): a source's typed progress applied to
 * the state store, its one JSON form (in the lake commit's commitInfo, for
 * recovery after a crash between the commit and the state update), and the
 * "seen before?" callback file sources ask.
 */
#ifndef SL_ENGINE_PROGRESS_INT_H
#define SL_ENGINE_PROGRESS_INT_H

#include "sources/sources.h"
#include "state/state.h"

#include <jansson.h>

/*
 * Records p for the table key: files marked done (one transaction) and the
 * watermark advanced, never moved backwards. A NULL state is a no-op.
 */
int sl_engine_progress_apply(sl_state *st, const char *key, const sl_source_progress *p,
			     sl_error *err);

/* p as {"files":[{"path","size","version"}...],"watermark":"..."} (keys
 * only when set), or NULL when p is empty or out of memory. */
json_t *sl_engine_progress_to_json(const sl_source_progress *p);

/* The reverse, into *out (empty on entry); entries without a path are
 * skipped. 0 or SL_ENOMEM. */
int sl_engine_progress_from_json(const json_t *o, sl_source_progress *out);

/* The context of sl_engine_file_seen. */
typedef struct sl_engine_seen_ctx {
	sl_state *state;
	const char *key; /* "<source>.<table>" */
} sl_engine_seen_ctx;

/* An sl_seen_fn over the state store's files done. */
int sl_engine_file_seen(void *ctx, const char *path, uint64_t size, const char *version,
			sl_file_seen *out, sl_error *err);

#endif
