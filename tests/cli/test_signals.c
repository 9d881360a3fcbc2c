/*
 * test_signals.c: the run's signal handler (cli/signals.c): the first
 * signal cancels the token and leaves errno as the interrupted code had it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli/cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

static void first_signal_cancels_and_keeps_errno(void **state)
{
	(void)state;
	sl_cancel c;
	sl_cancel_init(&c, NULL);
	/* Stderr on /dev/full: the handler's message fails with ENOSPC. */
	int saved_fd = dup(STDERR_FILENO);
	int full = open("/dev/full", O_WRONLY);
	assert_true(saved_fd >= 0 && full >= 0);
	dup2(full, STDERR_FILENO);
	sl_cli_signals_install(&c);
	errno = EDOM;
	raise(SIGTERM);
	int after = errno;
	sl_cli_signals_restore();
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	close(full);
	assert_int_equal(after, EDOM);
	assert_int_equal(sl_cancelled(&c), SL_ECANCELLED);
	assert_int_equal(sl_cli_signal_received(), SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_signal_cancels_and_keeps_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
