/*
 * cmd_backfill.c: `sluice backfill` — the pipeline run once per logical
 * date from --start to --end (both included) every --step, in order, each
 * run recorded with trigger backfill and the data interval [date,
 * date + step). It stops at the first run that does not succeed unless
 * --continue-on-failure.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "project/project.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice backfill --start DATE --end DATE [options]\n\n"
		"Runs the pipeline (extract, load, then the models) once per logical date\n"
		"from --start to --end, both included, one run after the other. Each run's\n"
		"data interval is [date, date + step): sources see it as {{ ds }} (the\n"
		"date, YYYY-MM-DD), {{ data_interval_start }} and {{ data_interval_end }}.\n"
		"Each run is recorded with trigger backfill (see `sluice runs`) and can be\n"
		"resumed alone with `sluice run --resume RUN_ID`.\n\n"
		"options:\n"
		"  --start DATE         the first logical date: YYYY-MM-DD or a timestamp\n"
		"  --end DATE           the last logical date (included)\n"
		"  --step STEP          between logical dates: 1d (default), 6h, 15m...\n"
		"  --threads N          tasks at once within each run (default: cores)\n"
		"  --select SEL         only these tasks (as `sluice run --select`)\n"
		"  --exclude SEL        leave these out\n"
		"  --fail-fast          within a run, the first failure cancels the rest\n"
		"  --continue-on-failure  go on with the next dates after a run that did\n"
		"                       not succeed (default: stop there)\n"
		"  --target NAME        warehouse target (default: sluice.yml's `target`)\n"
		"  --project-dir DIR    the project folder (default: .)\n"
		"  --help               this text\n\n"
		"Prints one line per run: logical date, run id, status, tasks, seconds.\n"
		"Exit status: 0 every run succeeded, 1 a run failed, 2 a usage or\n"
		"configuration error, 130 / 143 cancelled by Ctrl-C / SIGTERM (the run in\n"
		"progress is recorded cancelled and no later date starts).\n");
}

/* 10000-01-01T00:00:00Z: data intervals end at the latest there. */
#define MAX_INTERVAL_END (INT64_C(253402300800) * SL_MICROS_PER_SEC)

/* Runs at most this many dates: a typo in --step must not start a million runs. */
#define MAX_RUNS 100000

int sl_cmd_backfill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"target", required_argument, NULL, 't'},
		{"start", required_argument, NULL, 'a'},
		{"end", required_argument, NULL, 'b'},
		{"step", required_argument, NULL, 'S'},
		{"threads", required_argument, NULL, 'j'},
		{"select", required_argument, NULL, 's'},
		{"exclude", required_argument, NULL, 'x'},
		{"fail-fast", no_argument, NULL, 'F'},
		{"continue-on-failure", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *target = NULL, *start_s = NULL, *end_s = NULL, *step_s = "1d";
	sl_cli_select select = {0}, exclude = {0};
	int64_t start = 0, end = 0, step = SL_MICROS_PER_DAY;
	int c, threads = 0;
	bool fail_fast = false, go_on = false;
	sl_error err = SL_ERROR_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 't': target = optarg; break;
		case 'a':
			start_s = optarg;
			if (sl_cli_parse_when("backfill", "--start", optarg, &start) < 0)
				return 2;
			break;
		case 'b':
			end_s = optarg;
			if (sl_cli_parse_when("backfill", "--end", optarg, &end) < 0)
				return 2;
			break;
		case 'S':
			step_s = optarg;
			if (sl_duration_parse(optarg, &step) < 0 || step <= 0)
				return sl_cli_usage_error("backfill", "--step must be a duration like "
							  "1d, 6h or 15m, not '%s'", optarg);
			break;
		case 'j':
			if ((threads = sl_cli_parse_threads("backfill", optarg)) < 0)
				return 2;
			break;
		case 's':
		case 'x':
			if (sl_cli_select_add("backfill", c == 's' ? &select : &exclude,
					      optarg) < 0)
				return 2;
			break;
		case 'F': fail_fast = true; break;
		case 'C': go_on = true; break;
		case 'h': usage(stdout); return 0;
		default:
			return sl_cli_usage_error("backfill", "unknown or incomplete option '%s'; see "
						  "`sluice backfill --help`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error("backfill", "unexpected argument '%s'", argv[optind]);
	if (!start_s || !end_s)
		return sl_cli_usage_error("backfill", "needs --start DATE and --end DATE (the "
					  "first and last logical dates, both included)");
	if (end < start)
		return sl_cli_usage_error("backfill", "--end %s is before --start %s", end_s,
					  start_s);
	if ((end - start) / step >= MAX_RUNS)
		return sl_cli_usage_error("backfill", "%s to %s every --step makes more than %d "
					  "runs; use a longer --step", start_s, end_s, MAX_RUNS);
	/* The last run's data interval ends at last + step: keep it a date
	 * that can be written, and computed without overflow (last <= end, so
	 * MAX_INTERVAL_END - last cannot overflow, and the sum is never made
	 * when it would pass it). */
	int64_t last = start + (end - start) / step * step;
	if (step > MAX_INTERVAL_END - last)
		return sl_cli_usage_error("backfill", "--step %s puts the last data interval's "
					  "end after the year 9999; use a shorter --step",
					  step_s);

	sl_cli_common co = {.dir = dir, .target = target};
	sl_cli_project cp;
	int open_status = sl_cli_project_open(&cp, &co);
	if (open_status) {
		sl_cli_project_close(&cp);
		return open_status;
	}
	sl_cancel cancel;
	sl_cancel_init(&cancel, NULL);
	int status = 0, runs = 0, failed = 0;
	sl_cli_signals_install(&cancel);
	for (int64_t at = start; at <= end && !sl_cancelled(&cancel); at += step) {
		sl_run_opts o = {
			.command = "run", .target = target, .extract = !cp.dbt, .load = !cp.dbt,
			.models = cp.m, .run_models = true, .upstream_sources = !cp.dbt,
			.select = select.items, .nselect = select.n, .exclude = exclude.items,
			.nexclude = exclude.n, .threads = threads, .fail_fast = fail_fast,
			.cancel = &cancel, .trigger = "backfill", .logical_date = at,
			.data_interval_start = at, .data_interval_end = at + step,
		};
		sl_run_result res;
		char ld[48];
		sl_timestamp_format_iso(at, ld);
		if (sl_engine_run(cp.p, &o, &res, &err) < 0) {
			sl_cli_signals_restore();
			sl_cli_project_close(&cp);
			return sl_cli_fail_models(&err);
		}
		runs++;
		bool bad = res.failed || res.tables_cancelled || res.cancelled || res.nodes_failed ||
			   res.nodes_skipped || res.nodes_cancelled;
		const char *st = res.cancelled ? "cancelled" : bad ? "failed" : "success";
		printf("%s  %s  %-9s %d/%d tasks succeeded  %.2f s\n", ld, res.run_id, st,
		       res.tasks_succeeded, res.tasks, res.seconds);
		for (int i = 0; i < res.n; i++)
			if (res.tables[i].status && res.tables[i].message) {
				char *clean = sl_cli_clean(res.tables[i].message);
				printf("  error: %s.%s: %s\n", res.tables[i].source,
				       res.tables[i].table, clean ? clean : res.tables[i].message);
				sl_free(clean);
			}
		for (int i = 0; i < res.nnodes; i++)
			if (res.nodes[i].message && res.nodes[i].status != SL_TASK_SKIPPED) {
				char *clean = sl_cli_clean(res.nodes[i].message);
				printf("  error: %s %s: %s\n", res.nodes[i].resource_type,
				       res.nodes[i].name, clean ? clean : res.nodes[i].message);
				sl_free(clean);
			}
		fflush(stdout);
		sl_run_result_free(&res);
		if (bad) {
			failed++;
			status = 1;
			if (!go_on)
				break;
		}
	}
	sl_cli_signals_restore();
	sl_cli_project_close(&cp);
	int sig = sl_cli_signal_received();
	printf("%d %s, %d failed%s\n", runs, sl_cli_plural(runs, "run", "runs"), failed,
	       status && !go_on && !sig ? "; stopped at the first failed run "
					 "(--continue-on-failure goes on)" : "");
	if (sig) {
		printf("cancelled by %s\n", sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM");
		return 128 + sig;
	}
	return status;
}
