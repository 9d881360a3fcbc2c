/*
 * state_lock.c: named advisory locks in state.db (the locks table), shared
 * by every process using the database: atomic acquisition by upsert,
 * polling until a timeout, leases, and takeover of locks whose holder
 * process died on this host.
 */
#include "state/state_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void st_lock_init(sl_state *st)
{
	char hex[17];
	if (gethostname(st->host, sizeof st->host) < 0 || !st->host[0])
		snprintf(st->host, sizeof st->host, "localhost");
	st->host[sizeof st->host - 1] = '\0';
	sl_random_hex(hex, 8);
	snprintf(st->lock_owner, sizeof st->lock_owner, "%s:%ld:%s", st->host, (long)getpid(),
		 hex);
	st->lock_lease_ms = SL_STATE_LOCK_LEASE_MS;
}

void sl_state_set_lock_lease(sl_state *st, int64_t lease_ms)
{
	if (lease_ms > 0)
		st->lock_lease_ms = lease_ms;
}

/* One attempt: *got when the name was free or its lease expired. */
static int try_acquire(sl_state *st, const char *name, bool *got, sl_error *err)
{
	sqlite3_stmt *s;
	int64_t now = sl_now_micros();
	int rc = st_prepare(st, &s,
			    "INSERT INTO locks(name, owner, host, pid, acquired_at, expires_at) "
			    "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET "
			    "owner = excluded.owner, host = excluded.host, pid = excluded.pid, "
			    "acquired_at = excluded.acquired_at, expires_at = excluded.expires_at "
			    "WHERE locks.expires_at <= ?5 RETURNING 1",
			    err);
	*got = false;
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, name);
	st_bind_text(s, 2, st->lock_owner);
	st_bind_text(s, 3, st->host);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)getpid());
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, now + st->lock_lease_ms * 1000);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*got = true;
		step = sqlite3_step(s);
	}
	if (step == SQLITE_BUSY) {
		/* another writer held the database past the busy timeout: retry */
		sqlite3_finalize(s);
		return 0;
	}
	rc = step == SQLITE_DONE ? 0 : st_db_err(st, err, "acquire lock");
	sqlite3_finalize(s);
	return rc;
}

typedef struct {
	char owner[320];
	char host[256];
	int64_t pid;
	int64_t acquired_at;
	int64_t expires_at;
	bool found;
} holder;

static int read_holder(sl_state *st, const char *name, holder *h, sl_error *err)
{
	sqlite3_stmt *s;
	memset(h, 0, sizeof *h);
	int rc = st_prepare(st, &s, "SELECT owner, host, pid, acquired_at, expires_at FROM locks "
			    "WHERE name = ?1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, name);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		const unsigned char *o = sqlite3_column_text(s, 0);
		const unsigned char *hn = sqlite3_column_text(s, 1);
		snprintf(h->owner, sizeof h->owner, "%s", o ? (const char *)o : "");
		snprintf(h->host, sizeof h->host, "%s", hn ? (const char *)hn : "");
		h->pid = sqlite3_column_int64(s, 2);
		h->acquired_at = sqlite3_column_int64(s, 3);
		h->expires_at = sqlite3_column_int64(s, 4);
		h->found = true;
	} else if (step != SQLITE_DONE && step != SQLITE_BUSY) {
		rc = st_db_err(st, err, "read lock");
	}
	sqlite3_finalize(s);
	return rc;
}

/* True when h's process certainly no longer exists (same host, no such pid). */
static bool holder_dead(const sl_state *st, const holder *h)
{
	if (!h->found || strcmp(h->host, st->host) != 0 || h->pid <= 0 ||
	    h->pid == (int64_t)getpid())
		return false;
	return kill((pid_t)h->pid, 0) < 0 && errno == ESRCH;
}

/* Deletes the lock row of a dead holder (only if it is still that holder's). */
static int take_over(sl_state *st, const char *name, const holder *h, sl_error *err)
{
	sqlite3_stmt *s;
	int rc = st_prepare(st, &s, "DELETE FROM locks WHERE name = ?1 AND owner = ?2", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, name);
	st_bind_text(s, 2, h->owner);
	rc = st_run(st, s, "release a dead holder's lock", err);
	if (rc == 0)
		sl_warn("state db %s: lock \"%s\" was held by pid %lld on %s, which no longer "
			"exists; taking it over", st->path, name, (long long)h->pid, h->host);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int sl_state_lock(sl_state *st, const char *name, int64_t timeout_ms, sl_error *err)
{
	return sl_state_lock_wait(st, name, timeout_ms, NULL, err);
}

int sl_state_lock_wait(sl_state *st, const char *name, int64_t timeout_ms,
		       const sl_cancel *cancel, sl_error *err)
{
	double t0 = sl_monotonic_seconds();
	long pause = 10;
	holder h;
	int rc;

	if (!name || !*name)
		return sl_error_set(err, SL_EINVAL, "state db %s: empty lock name", st->path);
	if (st->in_tx)
		return sl_error_set(err, SL_EINTERNAL,
				    "state db %s: lock \"%s\" requested inside a transaction; take "
				    "locks outside sl_state_tx_begin/commit",
				    st->path, name);
	for (;;) {
		bool got = false;
		if ((rc = try_acquire(st, name, &got, err)) < 0)
			return rc;
		if (got)
			return 0;
		if ((rc = read_holder(st, name, &h, err)) < 0)
			return rc;
		if (holder_dead(st, &h)) {
			if ((rc = take_over(st, name, &h, err)) < 0)
				return rc;
			continue;
		}
		double waited_ms = (sl_monotonic_seconds() - t0) * 1000.0;
		if (waited_ms >= (double)timeout_ms)
			break;
		int why = sl_cancelled(cancel);
		if (why)
			return sl_error_set(err, why,
					    "state db %s: %s while waiting for lock \"%s\", held by "
					    "pid %lld on %s",
					    st->path, why == SL_ETIMEOUT ? "timed out" : "cancelled",
					    name, (long long)h.pid, h.found ? h.host : "?");
		long left = (long)((double)timeout_ms - waited_ms) + 1;
		sleep_ms(pause < left ? pause : left);
		if (pause < 100)
			pause += pause / 2 + 1;
	}
	if (!h.found)
		return sl_error_set(err, SL_ECONFLICT,
				    "state db %s: lock \"%s\" stayed busy for %lld ms; try again",
				    st->path, name, (long long)timeout_ms);
	char since[48], until[48];
	sl_timestamp_format_iso(h.acquired_at, since);
	sl_timestamp_format_iso(h.expires_at, until);
	return sl_error_set(err, SL_ECONFLICT,
			    "state db %s: lock \"%s\" is held by pid %lld on %s since %s (lease "
			    "until %s); gave up after %lld ms",
			    st->path, name, (long long)h.pid, h.host, since, until,
			    (long long)timeout_ms);
}

int sl_state_lock_renew(sl_state *st, const char *name, sl_error *err)
{
	sqlite3_stmt *s;
	bool found = false;
	int rc = st_prepare(st, &s, "UPDATE locks SET expires_at = ?3 WHERE name = ?1 AND "
			    "owner = ?2 RETURNING 1", err);
	if (rc < 0)
		return rc;
	st_bind_text(s, 1, name);
	st_bind_text(s, 2, st->lock_owner);
	sqlite3_bind_int64(s, 3, sl_now_micros() + st->lock_lease_ms * 1000);
	rc = st_run_one(st, s, "renew lock", &found, err);
	if (rc == 0 && !found)
		rc = sl_error_set(err, SL_ECONFLICT,
				  "state db %s: lock \"%s\" is not held by this process any more "
				  "(its lease expired and another process took it)",
				  st->path, name);
	return rc;
}

void sl_state_unlock(sl_state *st, const char *name)
{
	sqlite3_stmt *s;
	sl_error err = SL_ERROR_INIT;
	bool found = false;
	if (!st || !name)
		return;
	if (st_prepare(st, &s, "DELETE FROM locks WHERE name = ?1 AND owner = ?2 RETURNING 1",
		       &err) < 0) {
		sl_warn("%s", err.message);
		return;
	}
	st_bind_text(s, 1, name);
	st_bind_text(s, 2, st->lock_owner);
	if (st_run_one(st, s, "release lock", &found, &err) < 0)
		sl_warn("%s", err.message);
	else if (!found)
		sl_warn("state db %s: lock \"%s\" was no longer held at release (its lease "
			"expired and another process took it)", st->path, name);
}
