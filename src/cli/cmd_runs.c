/* cmd_runs.c: `sluice runs` — recent runs with their status and ledgers. */
#include "cli/cli_int.h"
#include "state/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		case 'n': limit = atoi(optarg); break;
		case 'h':
			printf("usage: sluice runs [--project-dir DIR] [--limit N]\n\n"
			       "Lists the newest runs (default 20) with their status, and each\n"
			       "table's ledger: rows read = landed + quarantined; loaded.\n");
			return 0;
		default:
			fprintf(stderr, "sluice runs: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	char *db = sl_path_join(dir, ".sluice/state.db");
	bool exists = db && sl_path_exists(db);
	sl_free(db);
	if (!exists) {
		fprintf(stderr, "sluice: %s has no runs yet (no .sluice/state.db)\n", dir);
		return 1;
	}
	sl_state *st = NULL;
	sl_state_runs runs = {0};
	if (sl_state_open(&st, dir, &err) < 0 || sl_state_runs_list(st, limit, &runs, &err) < 0) {
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
		if (sl_state_ledger_list(st, r->run_id, NULL, 0, &l, &err) == 0) {
			for (int k = 0; k < l.n; k++) {
				const sl_ledger *g = &l.items[k].l;
				printf("    %-36s read %lld = landed %lld + quarantined %lld; loaded %lld\n",
				       l.items[k].table, (long long)g->rows_read,
				       (long long)g->rows_landed, (long long)g->rows_quarantined,
				       (long long)g->rows_loaded);
			}
			sl_state_ledgers_free(&l);
		}
	}
	sl_state_runs_free(&runs);
	sl_state_close(st);
	return 0;
}
