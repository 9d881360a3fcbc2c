/*
 * cmd_source.c: `sluice source freshness` — how long ago each source table
 * with freshness criteria was loaded, judged by warn_after/error_after as
 * dbt's `dbt source freshness` does: a line per table, a summary, the
 * results in .sluice/state.db and target/sources.json.
 */
#include "cli/cli_int.h"
#include "docs/docs.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice source freshness [--select SOURCE|source:S.T] [options]\n\n"
		"Measures how long ago each source table with freshness criteria\n"
		"(freshness: {warn_after: {count: 12, period: hour}, error_after: ...})\n"
		"was loaded: by max(loaded_at_field) in the warehouse when the table has\n"
		"a loaded_at_field, else (a sluice project's table) by the end of its\n"
		"last successful load recorded in .sluice/state.db. Prints a line per\n"
		"table (PASS, WARN, ERROR STALE, ERROR), records the results in\n"
		".sluice/state.db and writes target/sources.json.\n\n"
		"options:\n"
		"  -s, --select SEL    only these: a source name, source:NAME, NAME.TABLE\n"
		"                      or source:NAME.TABLE (globs allowed)\n"
		"  -o, --output PATH   where sources.json goes (default:\n"
		"                      target/sources.json)\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  -t, --target NAME   the target to measure in\n"
		"  --vars YAML         variables for var()\n"
		"  --help              this text\n\n"
		"Exit status: 0 every table fresh or only warnings, 1 a table older than\n"
		"its error_after or one that could not be measured, 2 a usage or\n"
		"configuration error.\n");
}

#define LINE_WIDTH 72

static void print_line(int i, int n, const sl_freshness_run *r)
{
	char left[512], right[64];
	const char *word = r->status == SL_FRESH_PASS ? "PASS"
			   : r->status == SL_FRESH_WARN ? "WARN"
			   : r->status == SL_FRESH_ERROR ? "ERROR STALE" : "ERROR";
	snprintf(left, sizeof left, "%d of %d %s freshness of %s.%s", i, n, word, r->source,
		 r->table);
	snprintf(right, sizeof right, "[%s in %.2fs]", word, r->seconds);
	int pad = LINE_WIDTH - (int)strlen(left) - 1;
	char dots[LINE_WIDTH + 1];
	if (pad < 3)
		pad = 3;
	memset(dots, '.', (size_t)pad);
	dots[pad] = '\0';
	printf("%s %s %s\n", left, dots, right);
}

/* "target/sources.json" or --output: the folder and the file's name. */
static int write_sources(const sl_cli_project *cp, const sl_freshness_report *rep,
			 const char *output, const char *target, sl_error *err)
{
	char dir[4096];
	const sl_target *tg = sl_project_target(cp->p, target);
	const char *args[] = {"source", "freshness"};
	sl_docs_invocation inv = {
		.invocation_id = rep->run_id[0] ? rep->run_id : cp->invocation_id,
		.command = "source freshness",
		.target = tg ? tg->name : NULL,
		.adapter_type = tg ? tg->type : NULL,
		.generated_at = rep->ended_at ? rep->ended_at : sl_now_micros(),
		.args = args,
		.nargs = 2,
	};
	if (!output) {
		snprintf(dir, sizeof dir, "%s/target", cp->p->dir);
		return sl_docs_write_sources(rep, &inv, dir, err);
	}
	/* A path of our own: written in its folder as sources.json, then
	 * renamed. */
	const char *slash = strrchr(output, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - output) : 1,
		 slash ? output : ".");
	int rc = sl_docs_write_sources(rep, &inv, dir, err);
	if (rc == 0 && strcmp(slash ? slash + 1 : output, "sources.json") != 0) {
		char from[4200];
		snprintf(from, sizeof from, "%s/sources.json", dir);
		if (rename(from, output) != 0)
			rc = sl_error_set(err, SL_EIO, "--output %s: cannot write it", output);
	}
	return rc;
}

static int freshness(int argc, char **argv)
{
	static const struct option longopts[] = {
		SL_CLI_COMMON_LONGOPTS,
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	sl_cli_common o = {.dir = "."};
	const char *output = NULL;
	int c;
	sl_error err = SL_ERROR_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SL_CLI_COMMON_SHORTOPTS "o:", longopts, NULL)) != -1) {
		int taken = sl_cli_common_opt("source freshness", c, optarg, &o);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case 'o': output = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			return sl_cli_usage_error("source freshness", "unknown or incomplete option "
						  "'%s'; see `sluice source freshness --help`",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("source freshness", "unexpected argument '%s'",
					  argv[optind]);
	if (o.exclude.n)
		return sl_cli_usage_error("source freshness", "--exclude is not supported; "
					  "--select the sources to measure");
	sl_cli_project cp;
	int status = sl_cli_project_open(&cp, &o);
	if (status) {
		sl_cli_project_close(&cp);
		return status;
	}
	sl_freshness_report rep;
	int rc = sl_engine_freshness(cp.p, cp.m, o.target, o.select.items, o.select.n, &rep, &err);
	if (rc < 0) {
		sl_cli_project_close(&cp);
		return sl_cli_fail_models(&err);
	}
	if (rep.n == 0) {
		printf("Nothing to do: no source table has freshness criteria (freshness: with "
		       "warn_after or error_after).\n");
		sl_freshness_report_free(&rep);
		sl_cli_project_close(&cp);
		return 0;
	}
	for (int i = 0; i < rep.n; i++)
		print_line(i + 1, rep.n, &rep.items[i]);
	printf("\nFinished checking %d %s in %.2fs.\n", rep.n,
	       rep.n == 1 ? "source table" : "source tables",
	       (double)(rep.ended_at - rep.started_at) / 1e6);
	for (int i = 0; i < rep.n; i++) {
		const sl_freshness_run *r = &rep.items[i];
		if (r->status == SL_FRESH_PASS || !r->message)
			continue;
		char *clean = sl_cli_clean(r->message);
		printf("\n%s in source %s.%s\n  %s\n",
		       r->status == SL_FRESH_WARN ? "Warning" : "Error", r->source, r->table,
		       clean ? clean : r->message);
		sl_free(clean);
	}
	printf("\nDone. PASS=%d WARN=%d ERROR=%d RUNTIME_ERROR=%d TOTAL=%d\n", rep.passed,
	       rep.warned, rep.errored, rep.runtime_errors, rep.n);
	status = rep.errored || rep.runtime_errors ? 1 : 0;
	if (write_sources(&cp, &rep, output, o.target, &err) < 0) {
		sl_cli_fail(&err);
		status = status ? status : 1;
	}
	sl_freshness_report_free(&rep);
	sl_cli_project_close(&cp);
	return status;
}

int sl_cmd_source(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "freshness") == 0)
		return freshness(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	return sl_cli_usage_error("source", "%s; the command is `sluice source freshness`",
				  argc >= 2 ? "unknown subcommand" : "missing subcommand");
}
