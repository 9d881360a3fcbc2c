/* cli.c: command dispatch and global flags. */
#include "cli/cli.h"
#include "base/base.h"

#include <stdio.h>
#include <string.h>

int sl_cli_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("usage: sluice COMMAND [options]\n");
		return argc < 2 ? 2 : 0;
	}
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	return 2;
}
