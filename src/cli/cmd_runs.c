/*
 * cmd_runs.c: `sluice runs` — recent runs with their status and ledgers,
 * each ledger said as what happened: an equation only when it holds, "not
 * loaded" rather than a placeholder, and a failed task's reason.
 */
#include "cli/cli_int.h"
#include "state/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether task ("extract:s.t") is a task of ledger table ("raw/s/t" or "s.t"). */
static bool task_of(const char *task, const char *table)
{
	const char *colon = strchr(task, ':');
	if (!colon)
		return false;
	const char *key = colon + 1;
	if (strncmp(table, "raw/", 4) != 0)
		return strcmp(key, table) == 0;
	const char *t = table + 4;
	const char *slash = strchr(t, '/');
	size_t sl = slash ? (size_t)(slash - t) : 0;
	return slash && strncmp(key, t, sl) == 0 && key[sl] == '.' &&
	       strcmp(key + sl + 1, slash + 1) == 0;
}

/* One table's ledger of a run, then the reason of each of its failed tasks. */
static void print_ledger(const char *table, const sl_ledger *g, const sl_state_tasks *tasks)
{
	long long read = (long long)g->rows_read, landed = (long long)g->rows_landed,
		  quar = (long long)g->rows_quarantined;
	bool failed = false;
	for (int i = 0; tasks && i < tasks->n; i++)
		if (task_of(tasks->items[i].task, table) && tasks->items[i].status &&
		    strcmp(tasks->items[i].status, "failed") == 0)
			failed = true;
	printf("    %-36s read %lld", table, read);
	bool refused = g->status && strcmp(g->status, "refused") == 0;
	if (refused)
		printf(", quarantined %lld; refused by max_bad_rows: nothing landed", quar);
	else if (landed + quar == read)
		printf(" = landed %lld + quarantined %lld", landed, quar);
	else
		printf("; landed %lld, quarantined %lld: %lld %s neither landed nor quarantined%s",
		       landed, quar, read - landed - quar,
		       sl_cli_plural(read - landed - quar, "row", "rows"),
		       failed ? " (the task failed)" : " (the task did not finish)");
	if (refused)
		printf(" or loaded\n");
	else if (g->rows_loaded < 0)
		printf("; not loaded\n");
	else
		printf("; loaded %lld\n", (long long)g->rows_loaded);
	for (int i = 0; tasks && i < tasks->n; i++) {
		const sl_state_task *t = &tasks->items[i];
		if (!task_of(t->task, table) || !t->status || strcmp(t->status, "failed") != 0)
			continue;
		const char *msg = t->message ? t->message : "no reason recorded";
		size_t kind = (size_t)(strchr(t->task, ':') - t->task);
		const char *key = t->task + kind + 1;
		size_t kl = strlen(key);
		/* The engine's message repeats "<kind> <key>: ". */
		if (strncmp(msg, t->task, kind) == 0 && msg[kind] == ' ' &&
		    strncmp(msg + kind + 1, key, kl) == 0 && msg[kind + 1 + kl] == ':')
			msg += kind + kl + 2 + (msg[kind + kl + 2] == ' ');
		char *clean = sl_cli_clean(msg);
		printf("      %.*s failed: %s\n", (int)kind, t->task, clean ? clean : msg);
		sl_free(clean);
	}
}

/* Every attempt of every task of one run, in start order (runs show). */
static void print_tasks(const sl_state_tasks *tasks)
{
	printf("    %-40s %7s  %-8s %9s  %s\n", "task", "attempt", "status", "seconds", "message");
	for (int i = 0; i < tasks->n; i++) {
		const sl_state_task *t = &tasks->items[i];
		char *clean = t->message ? sl_cli_clean(t->message) : NULL;
		printf("    %-40s %7d  %-8s %9.2f  %s\n", t->task, t->attempt,
		       t->status ? t->status : "running",
		       t->ended_at ? (double)(t->ended_at - t->started_at) / 1e6 : 0.0,
		       clean ? clean : t->message ? t->message : "");
		sl_free(clean);
	}
}

int sl_cmd_runs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".";
	int limit = 20, c;
	sl_error err = SL_ERROR_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 'n': {
			int64_t v = 0;
			if (sl_parse_int64(optarg, strlen(optarg), &v) < 0 || v < 1 || v > 100000)
				return sl_cli_usage_error("runs", "--limit must be a number of runs "
							  "from 1 to 100000, not '%s'", optarg);
			limit = (int)v;
			break;
		}
		case 'h':
			printf("usage: sluice runs [--project-dir DIR] [--limit N]\n"
			       "       sluice runs show RUN_ID [--project-dir DIR]\n\n"
			       "Lists the newest runs (default 20) with their status, and each\n"
			       "table's ledger: rows read = landed + quarantined, then the rows\n"
			       "loaded (\"not loaded\" when no load ran). When a task failed or was\n"
			       "refused (e.g. more bad rows than max_bad_rows), the rows read are\n"
			       "not all landed or quarantined: the line says so, and the next line\n"
			       "gives the task's reason.\n");
			return 0;
		default:
			return sl_cli_usage_error("runs", "unknown or incomplete option '%s'",
						  argv[optind - 1]);
		}
	}
	const char *show = NULL;
	if (optind < argc) {
		if (strcmp(argv[optind], "show") == 0 && optind + 1 == argc)
			return sl_cli_usage_error("runs", "show needs a RUN_ID: `sluice runs show "
						  "RUN_ID` (`sluice runs` lists them)");
		if (strcmp(argv[optind], "show") != 0 || optind + 2 != argc)
			return sl_cli_usage_error("runs", "unexpected '%s'; use `sluice runs` or "
						  "`sluice runs show RUN_ID`", argv[optind]);
		show = argv[optind + 1];
	}
	char *db = sl_path_join(dir, ".sluice/state.db");
	bool exists = db && sl_path_exists(db);
	sl_free(db);
	if (!exists) {
		sl_error_set(&err, SL_ENOTFOUND, "%s has no runs yet (no .sluice/state.db); "
			     "run `sluice run` first", dir);
		return sl_cli_fail(&err);
	}
	sl_state *st = NULL;
	sl_state_runs runs = {0};
	if (sl_state_open(&st, dir, &err) < 0 ||
	    (show ? sl_state_run_get(st, show, &runs, &err)
		  : sl_state_runs_list(st, limit, &runs, &err)) < 0) {
		sl_state_close(st);
		return sl_cli_fail(&err);
	}
	for (int i = 0; i < runs.n; i++) {
		const sl_state_run *r = &runs.items[i];
		char when[48];
		sl_timestamp_format_iso(r->started_at, when);
		double secs = r->ended_at ? (double)(r->ended_at - r->started_at) / 1e6 : 0;
		printf("%s  %-8s %-8s %s  %.2fs%s%s\n", r->run_id, r->command, r->status, when, secs,
		       r->message ? "  " : "", r->message ? r->message : "");
		sl_state_ledgers l = {0};
		sl_state_tasks tasks = {0};
		bool have_tasks = sl_state_tasks_list(st, r->run_id, &tasks, &err) == 0;
		if (sl_state_ledger_list(st, r->run_id, NULL, 0, &l, &err) == 0) {
			for (int k = 0; k < l.n; k++)
				print_ledger(l.items[k].table, &l.items[k].l,
					     have_tasks ? &tasks : NULL);
			sl_state_ledgers_free(&l);
		}
		if (have_tasks && show)
			print_tasks(&tasks);
		if (have_tasks)
			sl_state_tasks_free(&tasks);
	}
	sl_state_runs_free(&runs);
	sl_state_close(st);
	return 0;
}
