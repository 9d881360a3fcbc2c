/*
 * cmd_docs.c: `sluice docs` — its subcommands: `docs generate` (dbt's
 * artifacts manifest.json and catalog.json, sluice's column_lineage.json,
 * and the documentation site under target/docs/) and `docs serve` (the
 * site over HTTP).
 */
#include "cli/cli_int.h"
#include "docs/docs.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void docs_usage(FILE *f)
{
	fprintf(f,
		"usage: sluice docs generate [options]\n"
		"       sluice docs serve [options]\n\n"
		"  generate  compile the project, read the warehouse's catalog and write\n"
		"            target/manifest.json, target/catalog.json,\n"
		"            target/column_lineage.json and the site in target/docs/\n"
		"  serve     serve the site in target/docs/ over HTTP\n\n"
		"`sluice docs SUBCOMMAND --help` for its options.\n");
}

static void generate_usage(FILE *f)
{
	fprintf(f,
		"usage: sluice docs generate [options]\n\n"
		"Compiles every model and snapshot (into target/compiled/), reads the\n"
		"warehouse's catalog for the project's relations and sources, and writes\n"
		"dbt's artifacts target/manifest.json (schema v12) and target/catalog.json\n"
		"(schema v1), sluice's target/column_lineage.json (each model's output\n"
		"columns traced to the input columns they come from), and the\n"
		"documentation site in target/docs/ (index.html opens from the file\n"
		"system). When the warehouse cannot be reached the catalog is empty and\n"
		"says why; the rest is still written.\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  -t, --target NAME   the target whose warehouse is read\n"
		"  --vars YAML         variables for var()\n"
		"  --no-compile        do not compile: the manifest then has no compiled\n"
		"                      code and column lineage is not traced\n"
		"  --help              this text\n\n"
		"Exit status: 0, 1 when a model does not compile or a file cannot be\n"
		"written, 2 on a usage or configuration error (a template error too).\n");
}

static int open_wh(const sl_cli_project *cp, const char *target, sl_wh **wh, sl_error *err)
{
	const sl_target *t = sl_project_target(cp->p, target);
	sl_wh_config c;
	if (!t)
		return sl_error_set(err, SL_ECONFIG, "no target named \"%s\"",
				    target ? target : "(default)");
	sl_engine_wh_config(t, &c);
	c.must_exist = true;
	int rc = sl_wh_open(wh, &c, err);
	if (rc < 0)
		sl_error_prefix(err, "target %s: ", t->name);
	return rc;
}

static int docs_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, SL_OPT_PROJECT_DIR},
		{"profiles-dir", required_argument, NULL, SL_OPT_PROFILES_DIR},
		{"target", required_argument, NULL, SL_OPT_TARGET},
		{"vars", required_argument, NULL, SL_OPT_VARS},
		{"no-compile", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	sl_cli_common o = {.dir = "."};
	bool no_compile = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		int taken = sl_cli_common_opt("docs generate", c, optarg, &o);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		if (c == 'n') {
			no_compile = true;
		} else if (c == 'h') {
			generate_usage(stdout);
			return 0;
		} else {
			return sl_cli_usage_error("docs generate", "unknown or incomplete option "
						  "'%s'; see `sluice docs generate --help`",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("docs generate", "unexpected argument '%s'",
					  argv[optind]);

	sl_cli_project cp;
	int status = sl_cli_project_open(&cp, &o);
	if (status)
		return status;
	sl_error err = SL_ERROR_INIT;
	sl_wh *wh = NULL;
	char *target_dir = NULL;
	if (!cp.m) {
		status = sl_cli_usage_error("docs generate", "the project has no models, seeds "
					    "or snapshots to document");
		goto done;
	}
	/* A warehouse that cannot be opened leaves the catalog empty. */
	if (open_wh(&cp, o.target, &wh, &err) < 0) {
		sl_warn("docs generate: %s; the catalog will be empty", err.message);
		sl_error_clear(&err);
		wh = NULL;
	}
	const sl_target *t = sl_project_target(cp.p, o.target);
	/* the command line as typed after `sluice`: "docs generate ..." */
	const char *args[64];
	int nargs = 0;
	args[nargs++] = "docs";
	for (int i = 0; i < argc && nargs < 64; i++)
		args[nargs++] = argv[i];
	sl_docs_invocation inv = {
		.invocation_id = cp.invocation_id,
		.command = "docs generate",
		.target = t ? t->name : NULL,
		.adapter_type = wh ? sl_wh_type(wh) : (t ? t->type : NULL),
		.generated_at = sl_now_micros(),
		.args = args,
		.nargs = nargs,
		.no_compile = no_compile,
		.database = sl_docs_target_database(t),
	};
	target_dir = sl_path_join(cp.p->dir, "target");
	if (!target_dir) {
		sl_error_set(&err, SL_ENOMEM, "out of memory");
		status = sl_cli_fail(&err);
		goto done;
	}
	if (sl_docs_generate(cp.m, cp.p, wh, &inv, target_dir, &err) < 0) {
		status = sl_cli_fail_models(&err);
		goto done;
	}
	printf("Wrote %s/manifest.json, catalog.json and column_lineage.json\n"
	       "Wrote the documentation site to %s/docs/index.html\n",
	       target_dir, target_dir);
done:
	sl_free(target_dir);
	sl_wh_close(wh);
	sl_cli_project_close(&cp);
	return status;
}

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} docs_subcommand;

static const docs_subcommand subcommands[] = {
	{"generate", docs_generate},
	{"serve", sl_cmd_docs_serve},
};

int sl_cmd_docs(int argc, char **argv)
{
	if (argc < 2) {
		docs_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		docs_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	return sl_cli_usage_error("docs", "unknown subcommand '%s'; use generate or serve",
				  argv[1]);
}
