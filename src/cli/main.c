/* main.c: the sluice binary's entry point; dispatches to cli commands. */
#include "cli/cli.h"

int main(int argc, char **argv) { return sl_cli_main(argc, argv); }
