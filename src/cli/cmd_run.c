/*
 * cmd_run.c: `sluice run`, `sluice extract` and `sluice load` — flags,
 * the terminal progress line, and the per-table summary with the ledger.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_SELECT 64

typedef struct {
	bool tty;
	bool shown;
} progress_state;

static void on_progress(void *ctx, const char *task, int64_t rows, uint64_t bytes, double secs)
{
	progress_state *ps = ctx;
	if (!ps->tty)
		return;
	double mbs = secs > 0 ? (double)bytes / 1e6 / secs : 0;
	fprintf(stderr, "\r\033[K  %s: %lld rows, %.1f MB/s", task, (long long)rows, mbs);
	fflush(stderr);
	ps->shown = true;
}

static void usage(FILE *f, const char *cmd)
{
	const char *what = strcmp(cmd, "extract") == 0 ? "Extracts every source table into the lake."
			   : strcmp(cmd, "load") == 0
				   ? "Loads committed, not yet loaded lake versions into the warehouse."
				   : "Runs the pipeline: extract every source table into the lake, then "
				     "load the warehouse.";
	fprintf(f,
		"usage: sluice %s [options]\n\n%s\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --target NAME       warehouse target from sluice.yml (default: its `target`)\n"
		"  --select SEL        only these tables: SOURCE or SOURCE.TABLE, globs allowed;\n"
		"                      repeat or separate with commas\n"
		"  --exclude SEL       skip these tables (same syntax)\n"
		"  --full-refresh      re-extract everything (ignore watermarks and files\n"
		"                      done) and replace each table's content in the lake\n"
		"                      and the warehouse with it\n"
		"  --vars YAML         variables for models (accepted for dbt compatibility)\n"
		"  --help              this text\n\n"
		"Prints one line per table: files, rows read, landed, quarantined, loaded,\n"
		"bytes, seconds and rows/s. Exit status 1 when a task failed.\n",
		cmd, what);
}

static int split_into(char *arg, const char **list, int *n)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= MAX_SELECT)
			return -1;
		list[(*n)++] = tok;
	}
	return 0;
}

static void fmt_count(char *out, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%lld", (long long)v);
}

static void print_summary(const sl_run_result *res, bool extract, bool load)
{
	printf("run %s\n", res->run_id);
	printf("%-32s %6s %10s %10s %11s %10s %10s %8s %10s  %s\n", "table", "files", "read",
	       "landed", "quarantined", "loaded", "bytes", "seconds", "rows/s", "status");
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		char name[300], bytes[32], files[24], read[24], landed[24], quar[24], loaded[24];
		snprintf(name, sizeof name, "%s.%s", r->source, r->table);
		sl_format_bytes(r->bytes, bytes, sizeof bytes);
		fmt_count(files, sizeof files, extract ? r->files : -1);
		fmt_count(read, sizeof read, extract ? r->rows_read : -1);
		fmt_count(landed, sizeof landed, extract ? r->rows_landed : -1);
		fmt_count(quar, sizeof quar, extract ? r->rows_quarantined : -1);
		fmt_count(loaded, sizeof loaded, load ? r->rows_loaded : -1);
		int64_t moved = extract ? r->rows_read : r->rows_loaded;
		double rate = r->seconds > 0 && moved > 0 ? (double)moved / r->seconds : 0;
		const char *status = r->status ? "FAILED" : r->skipped ? "already landed" : "ok";
		printf("%-32s %6s %10s %10s %11s %10s %10s %8.2f %10.0f  %s\n", name, files, read,
		       landed, quar, loaded, bytes, r->seconds, rate, status);
	}
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		if (r->files_changed > 0)
			printf("note: %s.%s: %lld files changed since they were extracted and were "
			       "extracted again whole; %s\n",
			       r->source, r->table, (long long)r->files_changed,
			       "an append table keeps their earlier rows too (use write: merge or "
			       "replace, or --full-refresh)");
		if (r->requests > 0)
			printf("note: %s.%s: %lld requests, %lld retries\n", r->source, r->table,
			       (long long)r->requests, (long long)r->retries);
	}
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		if (r->status) {
			char clean[1200];
			sl_log_redact(clean, sizeof clean, r->message);
			printf("error: %s.%s: %s\n", r->source, r->table, clean);
		} else if (r->rows_quarantined > 0) {
			printf("note: %s.%s: %lld rows quarantined; see the lake table "
			       "quarantine/%s/%s\n",
			       r->source, r->table, (long long)r->rows_quarantined, r->source,
			       r->table);
		}
	}
	if (res->n == 0)
		printf("no source tables: add a source in sources/ (see `sluice demo` for an "
		       "example)\n");
	printf("%d tables, %d failed, %.2f s\n", res->n, res->failed, res->seconds);
}

static int run_command(int argc, char **argv, bool extract, bool load)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"target", required_argument, NULL, 't'},
		{"select", required_argument, NULL, 's'},
		{"models", required_argument, NULL, 's'},
		{"exclude", required_argument, NULL, 'x'},
		{"full-refresh", no_argument, NULL, 'f'},
		{"vars", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *target = NULL;
	const char *select[MAX_SELECT], *exclude[MAX_SELECT];
	int nselect = 0, nexclude = 0, c;
	bool full_refresh = false;
	sl_error err = SL_ERROR_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 't': target = optarg; break;
		case 's':
			if (split_into(optarg, select, &nselect) < 0)
				goto too_many;
			break;
		case 'x':
			if (split_into(optarg, exclude, &nexclude) < 0)
				goto too_many;
			break;
		case 'f': full_refresh = true; break;
		case 'v': break;
		case 'h': usage(stdout, argv[0]); return 0;
		default:
			fprintf(stderr, "sluice %s: unknown or incomplete option '%s'\n", argv[0],
				argv[optind - 1]);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice %s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return 2;
	}

	sl_project *p = NULL;
	if (sl_project_load_target(&p, dir, target, &err) < 0)
		return sl_cli_fail(&err);

	progress_state ps = {sl_cli_is_tty(), false};
	sl_run_opts o = {
		.command = argv[0], .target = target, .extract = extract, .load = load,
		.full_refresh = full_refresh, .select = select, .nselect = nselect,
		.exclude = exclude, .nexclude = nexclude,
		.on_progress = on_progress, .progress_ctx = &ps,
	};
	sl_run_result res;
	int rc = sl_engine_run(p, &o, &res, &err);
	if (ps.shown)
		fprintf(stderr, "\r\033[K");
	sl_project_free(p);
	if (rc < 0)
		return sl_cli_fail(&err);
	print_summary(&res, extract, load);
	int status = res.failed ? 1 : 0;
	sl_run_result_free(&res);
	return status;
too_many:
	fprintf(stderr, "sluice %s: at most %d --select/--exclude entries\n", argv[0], MAX_SELECT);
	return 2;
}

int sl_cmd_run(int argc, char **argv) { return run_command(argc, argv, true, true); }
int sl_cmd_extract(int argc, char **argv) { return run_command(argc, argv, true, false); }
int sl_cmd_load(int argc, char **argv) { return run_command(argc, argv, false, true); }
