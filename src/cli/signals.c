/*
 * signals.c: Ctrl-C and SIGTERM during a run. The first signal cancels the
 * run's token (sl_cancel_request is one atomic store, safe in a handler):
 * running tasks stop at their next safe point and the run is recorded
 * cancelled. A second signal exits at once; lake and warehouse commits are
 * atomic, so nothing is left half-committed either way.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static sl_cancel *volatile token;
static volatile sig_atomic_t received;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
	static const char first[] = "\nsluice: stopping at the next safe point; press Ctrl-C "
				    "again to exit at once\n";
	static const char second[] = "\nsluice: exiting now\n";
	/* The handler may interrupt code that is about to read errno; the
	 * write below must not change what it reads. */
	int saved = errno;
	if (received) {
		ssize_t w = write(STDERR_FILENO, second, sizeof second - 1);
		(void)w;
		_exit(128 + sig);
	}
	received = sig;
	if (token)
		sl_cancel_request(token);
	ssize_t w = write(STDERR_FILENO, first, sizeof first - 1);
	(void)w;
	errno = saved;
}

void sl_cli_signals_install(sl_cancel *c)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	token = c;
	received = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
}

void sl_cli_signals_restore(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	token = NULL;
}

int sl_cli_signal_received(void) { return received; }
