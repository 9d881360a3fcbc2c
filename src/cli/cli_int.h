/*
 * cli_int.h (private to cli/): one entry point per command, each taking the
 * arguments after the command name (argv[0] is the command) and returning
 * the exit status: 0 success, 1 a task or test failed, 2 usage or
 * configuration error. Commands parse their flags with getopt_long (reset
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

/* Prints "sluice: <message>" to stderr (redacted) and returns the exit
 * status that fits err->code: 2 for usage/config errors, else 1. */
int sl_cli_fail(const sl_error *err);

/* True when stdout is a terminal (progress lines are shown only then). */
bool sl_cli_is_tty(void);

#endif
