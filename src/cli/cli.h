/* cli: the sluice command line. Only this module and server/ print. */
#ifndef SL_CLI_H
#define SL_CLI_H

/* Runs the command line; returns the exit status (0, 1 task failed, 2 usage). */
int sl_cli_main(int argc, char **argv);

#endif
