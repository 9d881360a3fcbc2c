/*
 * watch.c: a thread that watches an attempt's cancellation token while the
 * attempt runs warehouse statements, and interrupts the attempt's
 * warehouse connection once the token fires (Ctrl-C, SIGTERM, --fail-fast,
 * the task's timeout) — again at every poll until the attempt is done, so
 * a statement that starts after the first interrupt stops too. The attempt
 * then fails like any failed statement, rolls its transaction back, and
 * the executor records it cancelled or timed out. It also renews the
 * lease of the attempt's state.db lock while the attempt waits on the
 * warehouse (the attempt's thread does not use that state handle then).
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* How often the token is polled (seconds): the most a statement runs
 * past a cancellation. */
#define WATCH_POLL_S 0.1
/* How often the lease of the attempt's state.db lock is renewed. */
#define WATCH_RENEW_S 60.0

static void *watch_main(void *arg)
{
	engine_watch *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if (sl_cancelled(w->cancel) && w->wh) {
			sl_wh_interrupt(w->wh);
			w->interrupts++;
		}
		if (w->state && w->lock && sl_monotonic_seconds() - w->renewed >= WATCH_RENEW_S) {
			sl_error err = SL_ERROR_INIT;
			w->renewed = sl_monotonic_seconds();
			if (sl_state_lock_renew(w->state, w->lock, &err) < 0)
				sl_warn("%s", err.message);
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long ns = ts.tv_nsec + (long)(WATCH_POLL_S * 1e9);
		ts.tv_sec += ns / 1000000000L;
		ts.tv_nsec = ns % 1000000000L;
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int engine_watch_start(engine_watch *w, const sl_cancel *cancel, sl_wh *wh, sl_error *err)
{
	memset(w, 0, sizeof *w);
	w->cancel = cancel;
	w->wh = wh;
	if (!cancel)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&w->thread, NULL, watch_main, w);
	if (e != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return sl_error_set(err, SL_EIO, "cannot start a thread: %s", strerror(e));
	}
	w->running = true;
	return 0;
}

void engine_watch_set(engine_watch *w, sl_wh *wh)
{
	if (!w || !w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->wh = wh;
	pthread_mutex_unlock(&w->mu);
}

void engine_watch_renew(engine_watch *w, sl_state *st, const char *lock)
{
	if (!w || !w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->state = st;
	w->lock = lock;
	w->renewed = sl_monotonic_seconds();
	pthread_mutex_unlock(&w->mu);
}

void engine_watch_stop(engine_watch *w)
{
	if (!w || !w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->running = false;
}
