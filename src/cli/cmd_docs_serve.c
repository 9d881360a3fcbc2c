/*
 * cmd_docs_serve.c: `sluice docs serve` — serves the site `sluice docs
 * generate` wrote (the project's target/docs/) on 127.0.0.1 until Ctrl-C.
 * `sluice docs` (cmd_docs.c) hands its "serve" subcommand here.
 */
#include "cli/cli_int.h"
#include "docs/docs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice docs serve [--project-dir DIR] [--host HOST] [--port PORT]\n\n"
		"Serves the documentation site that `sluice docs generate` wrote to the\n"
		"project's target/docs/ folder, read only, until Ctrl-C. The site also\n"
		"opens without a server: target/docs/index.html.\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --host HOST         the address to listen on (default: 127.0.0.1; other\n"
		"                      machines can reach the site only if you choose so)\n"
		"  --port PORT         the port (default: 8080; 0 picks a free one)\n");
}

static void print_url(void *ud, const char *url)
{
	(void)ud;
	printf("Serving the docs site at %s (press Ctrl-C to stop)\n", url);
	fflush(stdout);
}

int sl_cmd_docs_serve(int argc, char **argv)
{
	enum { OPT_PROJECT_DIR = 1, OPT_HOST, OPT_PORT };
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, OPT_PROJECT_DIR},
		{"host", required_argument, NULL, OPT_HOST},
		{"port", required_argument, NULL, OPT_PORT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *host = "127.0.0.1";
	int port = 8080, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PROJECT_DIR: dir = optarg; break;
		case OPT_HOST: host = optarg; break;
		case OPT_PORT: {
			int64_t v;
			if (sl_parse_int64(optarg, strlen(optarg), &v) < 0 || v < 0 || v > 65535)
				return sl_cli_usage_error("docs serve", "--port must be 0 to 65535, "
							  "not '%s'", optarg);
			port = (int)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default:
			return sl_cli_usage_error("docs serve", "unknown or incomplete option '%s'; "
						  "see `sluice docs serve --help`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("docs serve", "unexpected argument '%s'", argv[optind]);

	/* Where `docs generate` writes: the project's target/. */
	char *target = sl_path_join(dir, "target");
	if (!target) {
		fprintf(stderr, "sluice: out of memory\n");
		return 1;
	}
	sl_error err = SL_ERROR_INIT;
	sl_cancel cancel;
	sl_cancel_init(&cancel, NULL);
	sl_cli_signals_install(&cancel);
	int rc = sl_docs_serve(target, host, port, &cancel, print_url, NULL, &err);
	sl_cli_signals_restore();
	sl_free(target);
	if (rc < 0)
		return sl_cli_fail(&err);
	printf("Stopped.\n");
	return 0;
}
