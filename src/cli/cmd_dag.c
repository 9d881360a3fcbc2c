/*
 * cmd_dag.c: `sluice dag` — the project's task graph, or the part that
 * --select/--exclude pick, as text or Graphviz dot.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice dag [--select SEL] [--exclude SEL] [--format text|dot]\n"
		"                  [--project-dir DIR] [--target NAME]\n\n"
		"Prints the run's task graph: an extract task per source table and a load\n"
		"task per table that waits for it, then a task per seed, model and\n"
		"snapshot (id: its unique_id) waiting for the nodes it refs and the loads\n"
		"of the sources it reads. text (default): one task per line in\n"
		"the order they can run, with what each waits for; dot: Graphviz input\n"
		"(`sluice dag --format dot | dot -Tsvg > dag.svg`).\n\n"
		"options:\n"
		"  --select SEL        only these tasks: SOURCE.TABLE or a model's name\n"
		"                      (globs allowed), SOURCE or source:SOURCE, tag:NAME,\n"
		"                      kind:KIND, path:, resource_type:, config.KEY:V; +SEL\n"
		"                      adds what it waits for, SEL+ what waits for it (N+/+N:\n"
		"                      N levels); spaces separate a union, commas intersect\n"
		"  --exclude SEL       leave these out (same syntax)\n"
		"  --format FORMAT     text (default) or dot\n"
		"  --project-dir DIR   the project folder (default: .): sluice.yml, else\n"
		"                      dbt_project.yml\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  --target NAME       the target the load tasks write to (default: sluice.yml's)\n"
		"  --vars YAML         variables for var()\n"
		"  --help              this text\n\n"
		"Exit status: 0, or 2 on a usage or configuration error (a selection that\n"
		"matches nothing is one).\n");
}

int sl_cmd_dag(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"target", required_argument, NULL, 't'},
		{"select", required_argument, NULL, 's'},
		{"exclude", required_argument, NULL, 'x'},
		{"format", required_argument, NULL, 'f'},
		{"profiles-dir", required_argument, NULL, 'P'},
		{"vars", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *target = NULL, *format = "text", *profiles_dir = NULL,
		   *vars = NULL;
	sl_cli_select select = {0}, exclude = {0};
	sl_error err = SL_ERROR_INIT;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 't': target = optarg; break;
		case 's':
		case 'x':
			if (sl_cli_select_add("dag", c == 's' ? &select : &exclude, optarg) < 0)
				return 2;
			break;
		case 'f': format = optarg; break;
		case 'P': profiles_dir = optarg; break;
		case 'v': vars = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			return sl_cli_usage_error("dag", "unknown or incomplete option '%s'; see "
						  "`sluice dag --help`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("dag", "unexpected argument '%s'", argv[optind]);
	if (strcmp(format, "text") != 0 && strcmp(format, "dot") != 0)
		return sl_cli_usage_error("dag", "--format must be text or dot, not '%s'", format);

	sl_cli_common o = {.dir = dir, .profiles_dir = profiles_dir, .target = target,
			   .vars = vars, .select = select, .exclude = exclude};
	sl_cli_project cp;
	sl_dag g;
	bool *selected = NULL;
	sl_buf out = SL_BUF_INIT;
	int rc = 0, status;
	sl_dag_init(&g);
	if ((status = sl_cli_project_open(&cp, &o)) == 0) {
		rc = sl_cli_graph(&cp, &o, &g, &selected, &err);
		if (rc == 0)
			rc = sl_dag_format(&g, selected, format, &out, &err);
		if (rc == 0 && out.len)
			fwrite(out.data, 1, out.len, stdout);
		if (rc < 0)
			status = sl_cli_fail_models(&err);
	}
	sl_buf_free(&out);
	sl_free(selected);
	sl_dag_free(&g);
	sl_cli_project_close(&cp);
	return status;
}
