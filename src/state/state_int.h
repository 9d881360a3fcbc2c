/*
 * state_int.h: what only state/ files see — the handle and small helpers
 * around sqlite3 statements that turn SQLite failures into sl_error.
 */
#ifndef SL_STATE_INT_H
#define SL_STATE_INT_H

#include "state/state.h"

#include <sqlite3.h>

struct sl_state {
	sqlite3 *db;
	bool in_tx;
	char *path;
	char host[256];        /* this machine's name, for lock owners */
	char lock_owner[320];  /* "host:pid:random": this handle's lock token */
	int64_t lock_lease_ms;
};

/* Fills err with "state db PATH: what: sqlite's message" (SL_EDB). */
int st_db_err(sl_state *st, sl_error *err, const char *what);
/* Prepares sql or fails with st_db_err. */
int st_prepare(sl_state *st, sqlite3_stmt **out, const char *sql, sl_error *err);
/* Steps s to completion (no rows expected), then finalizes it. */
int st_run(sl_state *st, sqlite3_stmt *s, const char *what, sl_error *err);
/* Steps an UPDATE ... RETURNING 1 that hits at most one row; *found tells. */
int st_run_one(sl_state *st, sqlite3_stmt *s, const char *what, bool *found, sl_error *err);
/* Binds text (NULL binds SQL NULL), copying it. */
static inline void st_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}
/* Binds a message with every registered secret redacted (sl_log_redact):
 * every message text stored in state.db goes through it. */
int st_bind_redacted(sqlite3_stmt *s, int i, const char *v);
/* Column text copied into a, or NULL for SQL NULL (*oom set when out of memory). */
char *st_col_text(sl_arena *a, sqlite3_stmt *s, int col, bool *oom);
/* Fills the handle's host, lock owner token and default lease (state_lock.c). */
void st_lock_init(sl_state *st);
/* Fills one list item from the current row of s; strings go into a (*oom set
 * when out of memory). */
typedef void (*st_row_fn)(sl_arena *a, sqlite3_stmt *s, void *item, bool *oom);
/*
 * Steps s to the end and finalizes it, appending one zeroed elem-sized item
 * per row, filled by fill, to an array in a (*items, *n; both start empty).
 * what names the rows in errors ("runs"). On error a is freed and *items,
 * *n are reset.
 */
int st_read_rows(sl_state *st, sqlite3_stmt *s, sl_arena *a, void **items, int *n,
		 size_t elem, st_row_fn fill, const char *what, sl_error *err);

#endif
