/*
 * cli_int.h (private to cli/): one entry point per command, each taking the
 * arguments after the command name (argv[0] is the command) and returning
 * the exit status: 0 success, 1 a task or test failed, 2 usage or
 * configuration error, 130 / 143 a run cancelled by SIGINT / SIGTERM. Commands parse their flags with getopt_long (reset
 * optind = 1 first) and print `--help` text that documents every flag.
 */
#ifndef SL_CLI_INT_H
#define SL_CLI_INT_H

#include "base/base.h"

int sl_cmd_init(int argc, char **argv);
int sl_cmd_demo(int argc, char **argv);
int sl_cmd_run(int argc, char **argv);
int sl_cmd_extract(int argc, char **argv);
int sl_cmd_load(int argc, char **argv);
int sl_cmd_runs(int argc, char **argv);
int sl_cmd_lake(int argc, char **argv);
int sl_cmd_parquet(int argc, char **argv);
int sl_cmd_sql(int argc, char **argv);
int sl_cmd_dag(int argc, char **argv);
int sl_cmd_backfill(int argc, char **argv);

/*
 * Ctrl-C and SIGTERM (signals.c): the first cancels c (the run's token),
 * the second exits at once with 128 + the signal. Restore after the run.
 */
void sl_cli_signals_install(sl_cancel *c);
void sl_cli_signals_restore(void);
/* The signal that cancelled the run (SIGINT, SIGTERM), or 0. */
int sl_cli_signal_received(void);

/* --select/--exclude values (cli_select.c): each argument split at spaces
 * into items of the graph's syntax (commas intersect within an item). */
#define SL_CLI_MAX_SELECT 256
typedef struct sl_cli_select {
	const char *items[SL_CLI_MAX_SELECT];
	int n;
} sl_cli_select;
/* Adds the items of arg (modified in place); -1 (after cmd's usage error)
 * when there are too many. */
int sl_cli_select_add(const char *cmd, sl_cli_select *s, char *arg);

/* A --threads value: 1 to 1024; -1 (after a usage error) otherwise. */
int sl_cli_parse_threads(const char *cmd, const char *v);
/* A date flag's value (--logical-date, --start, --end): YYYY-MM-DD
 * (midnight UTC) or an ISO-8601 timestamp, into *at (micros). -1 after a
 * usage error. */
int sl_cli_parse_when(const char *cmd, const char *flag, const char *v, int64_t *at);

/*
 * Prints "sluice: <message>" to stderr (redacted; a JSON line like the
 * log's, with "exit", under --log-format json; hints such as `sluice run`
 * name the program as invoked) and returns the exit status that fits
 * err->code: 2 for usage/config errors, else 1.
 */
int sl_cli_fail(const sl_error *err);
/* Prints a usage error the same way ("sluice: cmd: message") and returns 2. */
int sl_cli_usage_error(const char *cmd, const char *fmt, ...) SL_PRINTF(2, 3);
/*
 * msg ready to print: registered secrets redacted, hints such as `sluice
 * run` naming the program as invoked. sl_malloc'd; NULL when out of memory.
 */
char *sl_cli_clean(const char *msg);
/* one or many, as n says: "1 row", "2 rows". */
static inline const char *sl_cli_plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}
/* The program as invoked (argv[0]), for hints: "sluice" or "./build/sluice". */
const char *sl_cli_prog(void);

/* True when stdout is a terminal (progress lines are shown only then). */
bool sl_cli_is_tty(void);

#endif
