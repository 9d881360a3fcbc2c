/*
 * cmd_build.c: `sluice build`, `sluice run`, `sluice seed`, `sluice
 * snapshot` and `sluice test` — dbt's commands over the run's graph. build
 * runs seeds, models, snapshots and data tests in DAG order (what is built
 * from a tested node after its tests); run runs the models (in a sluice
 * project after its extract and load tasks, the whole pipeline); seed,
 * snapshot and test run only those. In a sluice project, a selection of models
 * brings the extract and load tasks upstream of them. Prints a line per
 * node as it ends, then the table summary (when tables ran) and dbt's
 * closing summary.
 */
#include "cli/cli_int.h"
#include "docs/docs.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	const char *name;
	bool models, seeds, snapshots, tests;
	const char *does;      /* for --help */
	const char *nothing;   /* what the project lacks when nothing runs */
} node_command;

static const node_command commands[] = {
	{"build", true, true, true, true,
	 "Builds the project in DAG order: seeds, models, snapshots and their data\n"
	 "tests (and, in a sluice project, the extract and load tasks of the\n"
	 "sources they read before them). Each test runs after what it reads, and\n"
	 "what is built from a tested node waits for its tests. A node that fails,\n"
	 "or a test that fails at severity error, skips everything downstream of\n"
	 "it; the rest goes on. A test at severity warn only warns.\n",
	 "seeds, models, snapshots, tests or source tables"},
	{"run", true, false, false, false,
	 "Runs the pipeline. In a sluice project (sluice.yml), it\n"
	 "extracts each source table into the lake, then loads what it landed into\n"
	 "the warehouse, then builds the models (`sluice extract` and `sluice load`\n"
	 "do the first two steps alone). In a dbt project (dbt_project.yml), it\n"
	 "builds the models, as `dbt run`. Seeds and snapshots are left alone\n"
	 "(`sluice seed`, `sluice snapshot`, `sluice build`).\n",
	 "source tables or models"},
	{"seed", false, true, false, false,
	 "Loads the seeds (seeds/*.csv) into the warehouse. A seed's table that is\n"
	 "already there with the same columns is emptied and refilled, so views\n"
	 "over it stay; otherwise (or with --full-refresh) a table built under a\n"
	 "temporary name is swapped in.\n",
	 "seeds"},
	{"snapshot", false, false, true, false,
	 "Runs the snapshots (SCD type 2): each current row whose record changed is\n"
	 "closed and its new version inserted.\n",
	 "snapshots"},
	{"test", false, false, false, true,
	 "Runs the data tests (generic tests from properties YAML and singular\n"
	 "tests in tests/) against what is in the warehouse, building nothing.\n"
	 "Selecting a model selects its tests (--indirect-selection). Each test's\n"
	 "result, failing-row count, first 10 failing rows and compiled SQL are\n"
	 "recorded in .sluice/state.db.\n",
	 "data tests"},
};

static void usage(FILE *f, const node_command *c)
{
	fprintf(f,
		"usage: sluice %s [options]\n\n%s\n"
		"The project is --project-dir (default: the current folder): sluice.yml,\n"
		"else dbt_project.yml with the profiles.yml dbt would use.\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects; default:\n"
		"                      $DBT_PROFILES_DIR, the project folder, ~/.dbt/)\n"
		"  -t, --target NAME   the target (profile output) to build in\n"
		"  -s, --select SEL    only these nodes: names (globs allowed), +SEL, SEL+,\n"
		"                      N+SEL, SEL+N, @SEL, tag:, path:, source:,\n"
		"                      resource_type:, config.KEY:VALUE, fqn:, package:;\n"
		"                      spaces separate a union, commas intersect\n"
		"                      (-m/--models is the same)\n"
		"  --exclude SEL       leave these out (same syntax)\n"
		"%s%s"
		"  --vars YAML         variables for var() ('{key: value}')\n"
		"  --full-refresh      rebuild incremental models and seeds as new tables,\n"
		"                      and re-extract sources\n"
		"  --threads N         nodes at once (default: the target's threads, else\n"
		"                      the machine's cores)\n"
		"  -x, --fail-fast     the first failure cancels the rest of the run\n"
		"  --logical-date D    the run's logical date (YYYY-MM-DD or ISO-8601)\n"
		"  --resume RUN_ID     rerun only what did not succeed in that run\n"
		"  --help              this text\n\n"
		"Prints one line per node as it ends (\"1 of 3 OK created sql view model\n"
		"main.stg_orders ... [CREATE VIEW in 0.01s]\", \"2 of 3 FAIL 3\n"
		"not_null_orders_id ... [FAIL 3 in 0.01s]\"), then \"Completed\n"
		"successfully\" or \"Completed with N errors and M warnings\" with each\n"
		"failure (a test's: its failing rows, the first of them, where\n"
		"store_failures kept them, its compiled SQL), and \"Done. PASS=..\n"
		"WARN=.. ERROR=.. SKIP=.. TOTAL=..\".\n\n"
		"Exit status: 0 success (test warnings too), 1 a node, task or test\n"
		"failed (what depends on it was skipped), 2 a usage or configuration\n"
		"error (a template error, a selection that matches nothing), 130 / 143\n"
		"cancelled by Ctrl-C / SIGTERM.\n",
		c->name, c->does,
		c->tests ? "  --indirect-selection M  which tests a selected node brings: eager\n"
			   "                      (default: tests of any selected node), cautious\n"
			   "                      (only tests whose every node is selected),\n"
			   "                      buildable, or empty (none)\n"
			 : "",
		strcmp(c->name, "build") == 0
			? "  --resource-type T   only these kinds: model, seed, snapshot, test\n"
			  "                      (repeat or separate by commas)\n"
			  "  --exclude-resource-type T  all kinds but these\n"
			: "");
}

static int node_command_run(int argc, char **argv, const node_command *cmd)
{
	static const struct option longopts[] = {
		SL_CLI_COMMON_LONGOPTS,
		{"logical-date", required_argument, NULL, 'd'},
		{"resume", required_argument, NULL, 'r'},
		{"indirect-selection", required_argument, NULL, 'i'},
		{"resource-type", required_argument, NULL, 'R'},
		{"resource-types", required_argument, NULL, 'R'},
		{"exclude-resource-type", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	sl_cli_common o = {.dir = "."};
	const char *resume = NULL, *date = NULL, *indirect = NULL;
	node_command kinds = *cmd; /* what --resource-type leaves */
	bool typed = false;
	const char *kinds_set = NULL; /* the --resource-type flag given */
	int64_t at = 0;
	int c;
	sl_error err = SL_ERROR_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SL_CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int taken = sl_cli_common_opt(cmd->name, c, optarg, &o);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case 'd':
			date = optarg;
			if (sl_cli_parse_when(cmd->name, "--logical-date", optarg, &at) < 0)
				return 2;
			break;
		case 'r': resume = optarg; break;
		case 'i':
			if (!cmd->tests)
				goto unknown;
			if (strcmp(optarg, "eager") != 0 && strcmp(optarg, "cautious") != 0 &&
			    strcmp(optarg, "buildable") != 0 && strcmp(optarg, "empty") != 0)
				return sl_cli_usage_error(cmd->name, "--indirect-selection must be eager, "
							  "cautious, buildable or empty, not '%s'",
							  optarg);
			indirect = optarg;
			break;
		case 'R':
		case 'E': {
			if (strcmp(cmd->name, "build") != 0)
				goto unknown;
			kinds_set = c == 'R' ? "--resource-type" : "--exclude-resource-type";
			if (c == 'R' && !typed) {
				kinds.models = kinds.seeds = kinds.snapshots = kinds.tests = false;
				typed = true;
			}
			char *save = NULL;
			for (char *w = strtok_r(optarg, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
				bool *k = strcmp(w, "model") == 0 ? &kinds.models
					  : strcmp(w, "seed") == 0 ? &kinds.seeds
					  : strcmp(w, "snapshot") == 0 ? &kinds.snapshots
					  : strcmp(w, "test") == 0 ? &kinds.tests : NULL;
				if (!k)
					return sl_cli_usage_error(cmd->name, "--%s must be model, seed, "
								  "snapshot or test, not '%s'",
								  c == 'R' ? "resource-type"
									   : "exclude-resource-type", w);
				*k = c == 'R';
			}
			break;
		}
		case 'h': usage(stdout, cmd); return 0;
		default:
		unknown:
			return sl_cli_usage_error(cmd->name, "unknown or incomplete option '%s'; see "
						  "`sluice %s --help`", argv[optind - 1],
						  cmd->name);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error(cmd->name, "unexpected argument '%s'", argv[optind]);
	if (resume && (o.select.n || o.exclude.n || o.full_refresh || date || indirect || kinds_set))
		return sl_cli_usage_error(cmd->name, "--resume reruns run %s with its own "
					  "selection, --indirect-selection, resource types, logical "
					  "date and --full-refresh; drop %s",
					  resume, o.select.n ? "--select" : o.exclude.n ? "--exclude"
					  : o.full_refresh ? "--full-refresh" : date ? "--logical-date"
					  : indirect ? "--indirect-selection" : kinds_set);

	sl_cli_project cp;
	int status = sl_cli_project_open(&cp, &o);
	if (status) {
		sl_cli_project_close(&cp);
		return status;
	}
	sl_cli_write_manifest(&cp, cmd->name, o.target, argc, argv);
	bool tables = !cp.dbt && (strcmp(cmd->name, "run") == 0 || strcmp(cmd->name, "build") == 0);
	sl_cli_progress ps = {sl_cli_is_tty(), false, PTHREAD_MUTEX_INITIALIZER};
	sl_cancel cancel;
	sl_cancel_init(&cancel, NULL);
	sl_run_opts ro = {
		.command = cmd->name, .target = o.target, .extract = tables, .load = tables,
		.full_refresh = o.full_refresh, .select = o.select.items, .nselect = o.select.n,
		.exclude = o.exclude.items, .nexclude = o.exclude.n, .threads = cp.threads,
		.fail_fast = o.fail_fast, .cancel = &cancel, .logical_date = at, .resume = resume,
		.models = cp.m, .run_models = kinds.models, .run_seeds = kinds.seeds,
		.run_snapshots = kinds.snapshots, .run_tests = kinds.tests,
		.indirect_selection = indirect, .upstream_sources = tables,
		.on_node = sl_cli_print_node_line,
		.on_progress = sl_cli_on_progress, .progress_ctx = &ps,
	};
	sl_run_result res;
	sl_cli_signals_install(&cancel);
	int rc = sl_engine_run(cp.p, &ro, &res, &err);
	sl_cli_signals_restore();
	int sig = sl_cli_signal_received();
	if (ps.shown)
		fprintf(stderr, "\r\033[K");
	bool dbt = cp.dbt;
	if (rc == 0 && cp.m && res.tasks > 0) {
		/* dbt's target/run_results.json, for the tools that read it. */
		const sl_target *tg = sl_project_target(cp.p, o.target);
		sl_docs_invocation inv = {
			.invocation_id = res.run_id[0] ? res.run_id : cp.invocation_id,
			.command = cmd->name,
			.target = tg ? tg->name : NULL,
			.adapter_type = tg ? tg->type : NULL,
			.generated_at = sl_now_micros(),
			.args = (const char *const *)argv,
			.nargs = argc,
			.database = sl_docs_target_database(tg),
		};
		char *dir = sl_path_join(cp.p->dir, "target");
		sl_error we = SL_ERROR_INIT;
		if (!dir || sl_docs_write_run_results(cp.m, &res, &inv, dir, &we) < 0)
			sl_log(SL_LOG_WARN, "target/run_results.json not written: %s",
			       dir ? we.message : "out of memory");
		sl_free(dir);
	}
	sl_cli_project_close(&cp);
	if (rc < 0)
		return sl_cli_fail_models(&err);
	if (res.tasks == 0) {
		if (!dbt && strcmp(cmd->name, "run") == 0)
			printf("no source tables: add a source in sources/ (see `%s demo` for an "
			       "example)\n", sl_cli_prog());
		else
			printf("Nothing to do: the project has no %s.\n", cmd->nothing);
		sl_run_result_free(&res);
		return 0;
	}
	if (res.n > 0)
		sl_cli_print_tables(&res, cmd->name, true, true);
	if (res.nnodes > 0) {
		sl_cli_print_nodes_summary(&res);
		if ((res.nodes_failed || res.nodes_skipped || res.nodes_cancelled) && !res.failed &&
		    !res.tables_cancelled && !res.cancelled)
			printf("to rerun what did not succeed: %s %s --resume %s\n", sl_cli_prog(),
			       cmd->name, res.run_id);
	}
	status = res.failed || res.tables_cancelled || res.nodes_failed || res.nodes_skipped ||
			 res.nodes_cancelled ? 1 : 0;
	if (res.cancelled && sig) {
		printf("cancelled by %s\n", sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM");
		status = 128 + sig;
	}
	sl_run_result_free(&res);
	return status;
}

int sl_cmd_build(int argc, char **argv) { return node_command_run(argc, argv, &commands[0]); }
int sl_cmd_run(int argc, char **argv) { return node_command_run(argc, argv, &commands[1]); }
int sl_cmd_seed(int argc, char **argv) { return node_command_run(argc, argv, &commands[2]); }
int sl_cmd_snapshot(int argc, char **argv) { return node_command_run(argc, argv, &commands[3]); }
int sl_cmd_test(int argc, char **argv) { return node_command_run(argc, argv, &commands[4]); }
