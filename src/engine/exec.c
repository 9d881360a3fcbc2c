/*
 * exec.c: the executor of a task graph. The calling thread schedules and
 * a pool of worker threads runs attempts. All scheduling state belongs to
 * the calling thread: a count of unfinished upstream tasks per task, a
 * ready heap (graph order breaks ties, so one thread runs a graph the same
 * way every time) and a heap of retries keyed by the time they are due,
 * so a task waiting for its retry holds no thread. Workers hand back each
 * attempt's result under one mutex and a condition variable; the
 * callbacks run on the scheduling thread, hence one at a time.
 *
 * Rules: a task runs once every task it waits for succeeded (unselected
 * tasks pass straight through, so they count as done but still order the
 * selected tasks around them); a failed attempt is retried after
 * retry_delay, doubled after each retry (at most a day) with ±25% jitter;
 * a timed-out attempt is retried like a failed one; after the last
 * attempt everything downstream is skipped. When the run's token (or
 * fail-fast) cancels, nothing new starts, tasks still waiting (or waiting
 * for a retry) end cancelled, and running attempts end cancelled unless
 * they succeed anyway.
 */
#include "engine/dag_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often the scheduler looks at the run's token while it waits: the
 * token is set from signal handlers, which cannot wake a condition. */
#define POLL_SECONDS 0.02
#define MAX_RETRY_DELAY 86400.0

enum { ST_WAITING, ST_READY, ST_RUNNING, ST_RETRY, ST_DONE };

typedef struct exec exec;

typedef struct worker {
	exec *x;
	pthread_t thread;
	pthread_cond_t wake;
	/* Under x->lock: */
	bool assigned;  /* task/attempt are to be run */
	bool finished;  /* the result below is ready */
	/* Written by the scheduler before assigning, by the worker before
	 * finishing; each reads them only after the other handed over. */
	int task;
	int attempt;
	int rc;
	bool deadline_passed;
	sl_task_outcome out;
	sl_error err;
	/* The scheduler's own: */
	bool busy;
} worker;

struct exec {
	const sl_dag *g;
	const bool *selected;
	const sl_exec_opts *o;
	sl_task_status *status;
	pthread_mutex_t lock;
	pthread_cond_t finished; /* a worker finished an attempt (CLOCK_MONOTONIC) */
	bool quit;               /* under lock */
	int nfinished;           /* under lock */
	worker *w;
	int nw;
	sl_cancel stop; /* under the run's token; fail-fast requests it */
	/* The scheduler's own: */
	int *down_off, *down;
	int *waiting; /* upstream tasks not done yet */
	unsigned char *state;
	int *attempts;
	int *stack;
	worker **done;
	sl_dag_heap ready;
	sl_dag_heap retry;
	int running;
	bool stopping;
};

const char *sl_task_status_name(sl_task_status s)
{
	switch (s) {
	case SL_TASK_PENDING: return "pending";
	case SL_TASK_RUNNING: return "running";
	case SL_TASK_SUCCESS: return "success";
	case SL_TASK_FAILED: return "failed";
	case SL_TASK_UP_FOR_RETRY: return "up_for_retry";
	case SL_TASK_SKIPPED: return "skipped";
	case SL_TASK_CANCELLED: return "cancelled";
	case SL_TASK_TIMED_OUT: return "timed_out";
	case SL_TASK_NOT_SELECTED: return "not_selected";
	}
	return "unknown";
}

/* --------------------------------------------------------------- workers */

static void *worker_main(void *arg)
{
	worker *w = arg;
	exec *x = w->x;
	pthread_mutex_lock(&x->lock);
	for (;;) {
		while (!w->assigned && !x->quit)
			pthread_cond_wait(&w->wake, &x->lock);
		if (!w->assigned)
			break;
		w->assigned = false;
		pthread_mutex_unlock(&x->lock);

		sl_task *t = &x->g->tasks[w->task];
		sl_cancel cancel;
		sl_cancel_init(&cancel, &x->stop);
		sl_cancel_set_timeout(&cancel, t->timeout);
		memset(&w->out, 0, sizeof w->out);
		sl_error_clear(&w->err);
		w->rc = t->kind->run(t, x->o->ctx, &cancel, &w->out, &w->err);
		w->deadline_passed = cancel.deadline > 0 && sl_monotonic_seconds() >= cancel.deadline;

		pthread_mutex_lock(&x->lock);
		w->finished = true;
		x->nfinished++;
		pthread_cond_signal(&x->finished);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

static void stop_workers(exec *x, int started)
{
	pthread_mutex_lock(&x->lock);
	x->quit = true;
	for (int i = 0; i < started; i++)
		pthread_cond_signal(&x->w[i].wake);
	pthread_mutex_unlock(&x->lock);
	for (int i = 0; i < started; i++)
		pthread_join(x->w[i].thread, NULL);
}

/* ------------------------------------------------------------- reporting */

static bool is_selected(const exec *x, int t)
{
	return !x->selected || x->selected[t];
}

/* A final status without an attempt (skipped, cancelled before it ran). */
static void report_final(exec *x, int t, sl_task_status st, const sl_error *why)
{
	x->status[t] = st;
	if (x->o->on_end) {
		sl_task_outcome none = {0};
		sl_error rec = SL_ERROR_INIT;
		(void)x->o->on_end(x->o->ctx, t, 0, st, &none, why, &rec);
	}
}

/* ------------------------------------------------------------ scheduling */

/*
 * Task t is done (it succeeded, or it is not selected): its downstream
 * tasks wait for one task less. Unselected tasks whose wait is over are
 * done at once, so this walks through them.
 */
static void release(exec *x, int t)
{
	int top = 0;
	x->stack[top++] = t;
	while (top > 0) {
		int u = x->stack[--top];
		for (int i = x->down_off[u]; i < x->down_off[u + 1]; i++) {
			int c = x->down[i];
			if (x->state[c] != ST_WAITING || --x->waiting[c] > 0)
				continue;
			if (is_selected(x, c)) {
				x->state[c] = ST_READY;
				sl_dag_heap_push(&x->ready, c, c);
			} else {
				x->state[c] = ST_DONE;
				x->stack[top++] = c;
			}
		}
	}
}

/* Task t failed for good: everything downstream of it is skipped. */
static void skip_downstream(exec *x, int t)
{
	sl_error why = SL_ERROR_INIT;
	snprintf(why.message, sizeof why.message, "skipped: upstream task %s did not succeed",
		 x->g->tasks[t].id);
	int top = 0;
	x->stack[top++] = t;
	while (top > 0) {
		int u = x->stack[--top];
		for (int i = x->down_off[u]; i < x->down_off[u + 1]; i++) {
			int c = x->down[i];
			if (x->state[c] != ST_WAITING)
				continue;
			x->state[c] = ST_DONE;
			if (is_selected(x, c))
				report_final(x, c, SL_TASK_SKIPPED, &why);
			x->stack[top++] = c;
		}
	}
}

/* The run was cancelled: every task that has not started ends cancelled. */
static void stop_pending(exec *x)
{
	sl_error why = SL_ERROR_INIT;
	x->stopping = true;
	x->ready.n = 0;
	x->retry.n = 0;
	for (int t = 0; t < x->g->n; t++) {
		if (x->state[t] == ST_RUNNING || x->state[t] == ST_DONE)
			continue;
		/* A task waiting for its retry did start: say so. */
		if (x->attempts[t] > 0)
			sl_error_set(&why, SL_ECANCELLED,
				     "cancelled while waiting to retry (after attempt %d)",
				     x->attempts[t]);
		else
			sl_error_set(&why, SL_ECANCELLED, "cancelled before it started");
		x->state[t] = ST_DONE;
		if (is_selected(x, t))
			report_final(x, t, SL_TASK_CANCELLED, &why);
	}
}

/* Seconds before the retry after attempt (1: the first retry). */
static double retry_wait(const sl_task *t, int attempt)
{
	if (t->retry_delay <= 0)
		return 0;
	double d = t->retry_delay;
	for (int i = 1; i < attempt && d < MAX_RETRY_DELAY; i++)
		d *= 2;
	d *= 0.75 + 0.5 * sl_random01();
	return d < MAX_RETRY_DELAY ? d : MAX_RETRY_DELAY;
}

/* An attempt of t ended with rc (err, out); decides what comes next. */
static void attempt_ended(exec *x, int t, int attempt, int rc, bool deadline_passed,
			  const sl_task_outcome *out, sl_error *err)
{
	const sl_task *task = &x->g->tasks[t];
	sl_task_status st;
	if (rc >= 0) {
		st = SL_TASK_SUCCESS;
		sl_error_clear(err);
	} else {
		bool timed_out = rc == SL_ETIMEOUT || deadline_passed;
		if (!err->message[0] || err->code == 0) {
			if (timed_out && deadline_passed)
				sl_error_set(err, SL_ETIMEOUT, "%s: timed out after %g s", task->id,
					     task->timeout);
			else
				sl_error_set(err, rc, "%s: failed (%s error)", task->id,
					     sl_error_name(rc));
		}
		if (sl_cancelled(&x->stop))
			st = SL_TASK_CANCELLED;
		else if (attempt <= task->retries)
			st = SL_TASK_UP_FOR_RETRY;
		else
			st = timed_out ? SL_TASK_TIMED_OUT : SL_TASK_FAILED;
	}
	if (x->o->on_end) {
		sl_error rec = SL_ERROR_INIT;
		int r = x->o->on_end(x->o->ctx, t, attempt, st, out, err, &rec);
		/* An outcome that could not be recorded is no success. */
		if (r < 0 && st == SL_TASK_SUCCESS)
			st = SL_TASK_FAILED;
	}
	x->status[t] = st;
	switch (st) {
	case SL_TASK_SUCCESS:
		x->state[t] = ST_DONE;
		release(x, t);
		break;
	case SL_TASK_UP_FOR_RETRY:
		x->state[t] = ST_RETRY;
		sl_dag_heap_push(&x->retry, t, sl_monotonic_seconds() + retry_wait(task, attempt));
		break;
	case SL_TASK_FAILED:
	case SL_TASK_TIMED_OUT:
		x->state[t] = ST_DONE;
		skip_downstream(x, t);
		if (x->o->fail_fast)
			sl_cancel_request(&x->stop);
		break;
	default:
		x->state[t] = ST_DONE;
		break;
	}
}

/* Starts the next attempt of t on an idle worker. */
static void start(exec *x, int t)
{
	int attempt = ++x->attempts[t];
	x->state[t] = ST_RUNNING;
	x->status[t] = SL_TASK_RUNNING;
	if (x->o->on_start) {
		sl_error err = SL_ERROR_INIT;
		int rc = x->o->on_start(x->o->ctx, t, attempt, &err);
		if (rc < 0) {
			sl_task_outcome none = {0};
			if (!err.message[0])
				sl_error_set(&err, rc, "%s: the attempt could not start", x->g->tasks[t].id);
			attempt_ended(x, t, attempt, rc, false, &none, &err);
			return;
		}
	}
	worker *w = NULL;
	for (int i = 0; i < x->nw && !w; i++)
		if (!x->w[i].busy)
			w = &x->w[i];
	w->busy = true;
	x->running++;
	pthread_mutex_lock(&x->lock);
	w->task = t;
	w->attempt = attempt;
	w->assigned = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&x->lock);
}

/* Waits until a worker finished or until (monotonic seconds; 0: no
 * limit), then hands back the finished attempts. */
static void wait_and_collect(exec *x, double until)
{
	int n = 0;
	pthread_mutex_lock(&x->lock);
	while (x->nfinished == 0) {
		if (until <= 0) {
			pthread_cond_wait(&x->finished, &x->lock);
			continue;
		}
		struct timespec ts;
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		if (pthread_cond_timedwait(&x->finished, &x->lock, &ts) == ETIMEDOUT)
			break;
	}
	for (int i = 0; i < x->nw; i++)
		if (x->w[i].finished) {
			x->w[i].finished = false;
			x->done[n++] = &x->w[i];
		}
	x->nfinished = 0;
	pthread_mutex_unlock(&x->lock);
	for (int i = 0; i < n; i++) {
		worker *w = x->done[i];
		w->busy = false;
		x->running--;
		attempt_ended(x, w->task, w->attempt, w->rc, w->deadline_passed, &w->out, &w->err);
	}
}

static void schedule(exec *x)
{
	for (;;) {
		if (!x->stopping && sl_cancelled(&x->stop))
			stop_pending(x);
		double now = sl_monotonic_seconds();
		while (!x->stopping && x->retry.n > 0 && x->retry.key[0] <= now) {
			int t = sl_dag_heap_pop(&x->retry);
			x->state[t] = ST_READY;
			sl_dag_heap_push(&x->ready, t, t);
		}
		while (!x->stopping && x->ready.n > 0 && x->running < x->nw) {
			if (sl_cancelled(&x->stop)) {
				stop_pending(x);
				break;
			}
			start(x, sl_dag_heap_pop(&x->ready));
		}
		if (x->running == 0 && x->ready.n == 0 && x->retry.n == 0)
			break;
		double until = 0;
		if (!x->stopping) {
			if (x->retry.n > 0)
				until = x->retry.key[0];
			if (x->o->cancel && (until <= 0 || until > now + POLL_SECONDS))
				until = now + POLL_SECONDS;
		}
		wait_and_collect(x, until);
	}
}

/* -------------------------------------------------------------- the run */

static int threads_for(const sl_exec_opts *o, int tasks)
{
	long n = o->threads;
	if (n <= 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	return n < tasks ? (int)n : tasks;
}

static void exec_free(exec *x)
{
	sl_free(x->down_off);
	sl_free(x->down);
	sl_free(x->waiting);
	sl_free(x->state);
	sl_free(x->attempts);
	sl_free(x->stack);
	sl_free(x->done);
	sl_free(x->w);
	sl_dag_heap_free(&x->ready);
	sl_dag_heap_free(&x->retry);
}

int sl_dag_execute(const sl_dag *g, const bool *selected, const sl_exec_opts *opts,
		   sl_task_status *status, sl_error *err)
{
	exec x = {.g = g, .selected = selected, .o = opts, .status = status};
	int nselected = 0, started = 0;
	bool sync = false;
	int rc = sl_dag_check(g, err);
	if (rc < 0)
		return rc;
	for (int t = 0; t < g->n; t++) {
		status[t] = !selected || selected[t] ? SL_TASK_PENDING : SL_TASK_NOT_SELECTED;
		nselected += status[t] == SL_TASK_PENDING;
	}
	if (nselected == 0)
		return 0;
	x.nw = threads_for(opts, nselected);
	rc = sl_dag_downstream(g, &x.down_off, &x.down, err);
	if (rc < 0)
		return rc;
	size_t n = (size_t)g->n;
	x.waiting = sl_malloc(n * sizeof *x.waiting);
	x.state = sl_calloc(n, 1);
	x.attempts = sl_calloc(n, sizeof *x.attempts);
	x.stack = sl_malloc(n * sizeof *x.stack);
	x.done = sl_calloc((size_t)x.nw, sizeof *x.done);
	x.w = sl_calloc((size_t)x.nw, sizeof *x.w);
	if (!x.waiting || !x.state || !x.attempts || !x.stack || !x.done || !x.w) {
		rc = sl_error_set(err, SL_ENOMEM, "executor: out of memory");
		goto done;
	}
	if ((rc = sl_dag_heap_init(&x.ready, g->n, err)) < 0 ||
	    (rc = sl_dag_heap_init(&x.retry, g->n, err)) < 0)
		goto done;

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&x.lock, NULL);
	pthread_cond_init(&x.finished, &ca);
	pthread_condattr_destroy(&ca);
	sync = true;
	sl_cancel_init(&x.stop, opts->cancel);
	for (; started < x.nw; started++) {
		worker *w = &x.w[started];
		w->x = &x;
		pthread_cond_init(&w->wake, NULL);
		int e = pthread_create(&w->thread, NULL, worker_main, w);
		if (e) {
			pthread_cond_destroy(&w->wake);
			rc = sl_error_set(err, SL_ENOMEM, "executor: cannot start a thread: %s",
					  strerror(e));
			goto done;
		}
	}

	for (int t = 0; t < g->n; t++)
		x.waiting[t] = g->tasks[t].ndeps;
	for (int t = 0; t < g->n; t++) {
		if (x.waiting[t] > 0 || x.state[t] != ST_WAITING)
			continue;
		if (is_selected(&x, t)) {
			x.state[t] = ST_READY;
			sl_dag_heap_push(&x.ready, t, t);
		} else {
			x.state[t] = ST_DONE;
			release(&x, t);
		}
	}
	schedule(&x);
	rc = 0;
	for (int t = 0; t < g->n; t++)
		if (status[t] != SL_TASK_SUCCESS && status[t] != SL_TASK_NOT_SELECTED)
			rc = 1;
done:
	if (sync) {
		stop_workers(&x, started);
		for (int i = 0; i < started; i++)
			pthread_cond_destroy(&x.w[i].wake);
		pthread_cond_destroy(&x.finished);
		pthread_mutex_destroy(&x.lock);
	}
	exec_free(&x);
	return rc;
}
