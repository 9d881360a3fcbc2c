/*
 * cmd_run.c: `sluice extract` and `sluice load` (`sluice run` is
 * cmd_build.c's, and prints its tables with sl_cli_print_tables) — flags,
 * Ctrl-C/SIGTERM, the terminal progress line, and the per-table summary
 * with the ledger.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "project/project.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

void sl_cli_on_progress(void *ctx, const char *task, int64_t rows, uint64_t bytes, double secs)
{
	sl_cli_progress *ps = ctx;
	if (!ps->tty)
		return;
	double mbs = secs > 0 ? (double)bytes / 1e6 / secs : 0;
	pthread_mutex_lock(&ps->mu);
	fprintf(stderr, "\r\033[K  %s: %lld rows, %.1f MB/s", task, (long long)rows, mbs);
	fflush(stderr);
	ps->shown = true;
	pthread_mutex_unlock(&ps->mu);
}

/* Flags every one of run, extract and load takes. */
static const char *const common_flags =
	"  --project-dir DIR   the project folder (default: .)\n"
	"  --select SEL        only these tasks: a node (SOURCE.TABLE, globs allowed),\n"
	"                      SOURCE or source:SOURCE, tag:NAME, kind:extract|load;\n"
	"                      +SEL adds what it waits for, SEL+ what waits for it\n"
	"                      (N+ / +N: N levels); items separated by spaces (or\n"
	"                      repeated flags) are a union, joined by commas an\n"
	"                      intersection (source:shop,tag:nightly)\n"
	"  --exclude SEL       leave these tasks out (same syntax)\n"
	"  --threads N         tasks at once (default: the machine's cores)\n"
	"  --fail-fast         the first failed task cancels the rest of the run\n"
	"                      (otherwise only what waits for it is skipped)\n"
	"  --logical-date D    the run's logical date: YYYY-MM-DD or an ISO-8601\n"
	"                      timestamp; default now. Its data interval is that\n"
	"                      UTC day.\n"
	"                      Sources see it as {{ ds }}, {{ data_interval_start }}\n"
	"                      and {{ data_interval_end }}\n"
	"  --resume RUN_ID     rerun only the tasks of that run that did not succeed\n"
	"                      (failed, timed out, skipped, cancelled or never ran),\n"
	"                      with its logical date, selection and --full-refresh\n";

/* The exit statuses every one of them documents. */
static const char *const exit_statuses =
	"Exit status: 0 every task succeeded, 1 a task failed, timed out or was\n"
	"skipped, 2 a usage or configuration error, 130 / 143 the run was cancelled\n"
	"by Ctrl-C (SIGINT) / SIGTERM: running tasks stop at a safe point and the\n"
	"run is recorded cancelled (a second signal exits at once; commits are\n"
	"atomic, so nothing is half-committed). Resume it with --resume RUN_ID.\n";

static void usage(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "extract") == 0) {
		fprintf(f,
			"usage: sluice extract [options]\n\n"
			"Extracts each source table into the lake and stops there: new files\n"
			"(csv, s3), rows past the cursor (postgres, http) or everything (no\n"
			"cursor) land as Parquet in the lake table raw/<source>/<table>, bad rows\n"
			"in quarantine/<source>/<table>. The warehouse is not touched and no\n"
			"target is needed: `sluice load` loads what was extracted.\n\n"
			"options:\n%s"
			"  --full-refresh      extract everything again (ignore watermarks and\n"
			"                      files done) and replace each lake table's content\n"
			"  --help              this text\n\n"
			"Prints one line per table: files, rows read, landed and quarantined,\n"
			"bytes, seconds and rows/s.\n\n%s",
			common_flags, exit_statuses);
		return;
	}
	{
		fprintf(f,
			"usage: sluice load [options]\n\n"
			"Loads into the warehouse the lake versions of each source table that it\n"
			"has not loaded yet (it records them in raw._sluice_loads, in the same\n"
			"transaction as the rows), with the table's write mode: append, replace\n"
			"or merge. Sources are not read: `sluice extract` fills the lake.\n\n"
			"options:\n%s"
			"  --target NAME       warehouse target from sluice.yml (default: its `target`)\n"
			"  --full-refresh      rebuild each warehouse table from its lake table's\n"
			"                      current content, replacing its rows (a lake table\n"
			"                      that `sluice extract --full-refresh` replaced is\n"
			"                      always loaded so)\n"
			"  --vars YAML         variables for models (accepted for dbt compatibility)\n"
			"  --help              this text\n\n"
			"Prints one line per table: rows loaded, seconds and rows/s.\n\n%s",
			common_flags, exit_statuses);
		return;
	}
}

static void fmt_count(char *out, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%lld", (long long)v);
}

/*
 * "error: src.tab: extract: message": the engine's message starts with
 * "<task> <src.tab>: ", which would name the table twice. Redacted, and a
 * hint naming `sluice` names the program as invoked.
 */
static void print_error_line(const sl_table_result *r)
{
	char *key = NULL, *clean = NULL;
	const char *msg = r->message, *task = NULL;
	static const char *const tasks[] = {"extract", "load", NULL};
	size_t n = strlen(r->source) + strlen(r->table) + 2;
	key = sl_malloc(n);
	if (key) {
		snprintf(key, n, "%s.%s", r->source, r->table);
		for (int i = 0; tasks[i] && !task; i++) {
			size_t tl = strlen(tasks[i]), kl = strlen(key);
			if (strncmp(msg, tasks[i], tl) == 0 && msg[tl] == ' ' &&
			    strncmp(msg + tl + 1, key, kl) == 0 && msg[tl + 1 + kl] == ':') {
				task = tasks[i];
				msg += tl + 1 + kl + 1;
				while (*msg == ' ')
					msg++;
			}
		}
	}
	clean = sl_cli_clean(msg);
	printf("error: %s.%s: %s%s%s\n", r->source, r->table, task ? task : "",
	       task ? ": " : "", clean ? clean : msg);
	sl_free(clean);
	sl_free(key);
}

/* A table's word in the summary: what its tasks came to. */
static const char *table_status(const sl_table_result *r)
{
	int st[2] = {r->extract_status, r->load_status};
	for (int i = 0; i < 2; i++)
		if (st[i] == SL_TASK_TIMED_OUT)
			return "TIMED OUT";
	if (r->status && (st[0] == SL_TASK_CANCELLED || st[1] == SL_TASK_CANCELLED) &&
	    st[0] != SL_TASK_FAILED && st[1] != SL_TASK_FAILED)
		return "cancelled";
	if (r->status)
		return "FAILED";
	if (st[1] == SL_TASK_SKIPPED)
		return "skipped";
	return r->skipped ? "already landed" : "ok";
}

void sl_cli_print_tables(const sl_run_result *res, const char *cmd, bool extract, bool load)
{
	char ld[48];
	sl_timestamp_format_iso(res->logical_date, ld);
	printf("run %s (logical date %s%s%s)\n", res->run_id, ld,
	       res->resumed_from[0] ? ", resuming " : "", res->resumed_from);
	printf("%-32s %6s %10s %10s %11s %10s %10s %8s %10s  %s\n", "table", "files", "read",
	       "landed", "quarantined", "loaded", "bytes", "seconds", "rows/s", "status");
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		char bytes[32], files[24], read[24], landed[24], quar[24], loaded[24];
		int nlen = (int)(strlen(r->source) + 1 + strlen(r->table));
		sl_format_bytes(r->bytes, bytes, sizeof bytes);
		fmt_count(files, sizeof files, extract ? r->files : -1);
		fmt_count(read, sizeof read, extract ? r->rows_read : -1);
		fmt_count(landed, sizeof landed, extract ? r->rows_landed : -1);
		fmt_count(quar, sizeof quar, extract ? r->rows_quarantined : -1);
		fmt_count(loaded, sizeof loaded, load ? r->rows_loaded : -1);
		int64_t moved = extract ? r->rows_read : r->rows_loaded;
		double rate = r->seconds > 0 && moved > 0 ? (double)moved / r->seconds : 0;
		const char *status = table_status(r);
		printf("%s.%s%*s %6s %10s %10s %11s %10s %10s %8.2f %10.0f  %s\n", r->source,
		       r->table, nlen < 32 ? 32 - nlen : 0, "", files, read, landed, quar, loaded,
		       bytes, r->seconds, rate, status);
	}
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		if (r->files_changed > 0)
			printf("note: %s.%s: %lld %s changed since %s extracted and %s "
			       "extracted again whole; %s\n",
			       r->source, r->table, (long long)r->files_changed,
			       sl_cli_plural(r->files_changed, "file", "files"),
			       r->files_changed == 1 ? "it was" : "they were",
			       r->files_changed == 1 ? "was" : "were",
			       "an append table keeps the earlier rows too (use write: merge or "
			       "replace, or --full-refresh)");
		if (r->renamed)
			printf("note: %s.%s: column names that repeat (ignoring case) were "
			       "renamed: %s\n", r->source, r->table, r->renamed);
		if (r->respelled)
			printf("note: %s.%s: columns spelled otherwise in the lake table took its "
			       "spelling: %s\n", r->source, r->table, r->respelled);
		if (r->requests > 0)
			printf("note: %s.%s: %lld %s, %lld %s\n", r->source, r->table,
			       (long long)r->requests, sl_cli_plural(r->requests, "request", "requests"),
			       (long long)r->retries, sl_cli_plural(r->retries, "retry", "retries"));
	}
	for (int i = 0; i < res->n; i++) {
		const sl_table_result *r = &res->tables[i];
		if (r->status) {
			print_error_line(r);
		} else if (r->rows_quarantined > 0) {
			printf("note: %s.%s: %lld %s quarantined; see the lake table "
			       "quarantine/%s/%s\n",
			       r->source, r->table, (long long)r->rows_quarantined,
			       sl_cli_plural(r->rows_quarantined, "row", "rows"), r->source, r->table);
		}
	}
	if (res->n == 0)
		printf("no source tables: add a source in sources/ (see `%s demo` for an "
		       "example)\n", sl_cli_prog());
	printf("%d %s, %d failed", res->n, sl_cli_plural(res->n, "table", "tables"), res->failed);
	if (res->tables_cancelled)
		printf(", %d cancelled", res->tables_cancelled);
	printf(", %.2f s\n", res->seconds);
	if (res->tasks_skipped || res->tasks_cancelled || res->tasks_failed)
		printf("tasks: %d succeeded, %d failed, %d skipped, %d cancelled\n",
		       res->tasks_succeeded, res->tasks_failed, res->tasks_skipped,
		       res->tasks_cancelled);
	if (res->failed || res->tables_cancelled || res->cancelled)
		printf("to rerun what did not succeed: %s %s --resume %s\n", sl_cli_prog(), cmd,
		       res->run_id);
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
		{"threads", required_argument, NULL, 'j'},
		{"fail-fast", no_argument, NULL, 'F'},
		{"logical-date", required_argument, NULL, 'd'},
		{"resume", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *target = NULL, *resume = NULL, *date = NULL;
	sl_cli_select select = {0}, exclude = {0};
	int c, threads = 0;
	int64_t at = 0;
	bool full_refresh = false, fail_fast = false;
	sl_error err = SL_ERROR_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 't': target = optarg; break;
		case 's':
		case 'x':
			if (sl_cli_select_add(argv[0], c == 's' ? &select : &exclude, optarg) < 0)
				return 2;
			break;
		case 'f': full_refresh = true; break;
		case 'v': break;
		case 'j':
			if ((threads = sl_cli_parse_threads(argv[0], optarg)) < 0)
				return 2;
			break;
		case 'F': fail_fast = true; break;
		case 'd':
			date = optarg;
			if (sl_cli_parse_when(argv[0], "--logical-date", optarg, &at) < 0)
				return 2;
			break;
		case 'r': resume = optarg; break;
		case 'h': usage(stdout, argv[0]); return 0;
		default:
			return sl_cli_usage_error(argv[0], "unknown or incomplete option '%s'; see "
						  "`sluice %s --help`", argv[optind - 1],
						  argv[0]);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (resume && (select.n || exclude.n || full_refresh || date))
		return sl_cli_usage_error(argv[0], "--resume reruns run %s with its own selection, "
					  "logical date and --full-refresh; drop %s", resume,
					  select.n ? "--select" : exclude.n ? "--exclude"
					  : full_refresh ? "--full-refresh" : "--logical-date");

	sl_project *p = NULL;
	if (sl_project_load_target(&p, dir, target, &err) < 0)
		return sl_cli_fail(&err);

	sl_cli_progress ps = {sl_cli_is_tty(), false, PTHREAD_MUTEX_INITIALIZER};
	sl_cancel cancel;
	sl_cancel_init(&cancel, NULL);
	sl_run_opts o = {
		.command = argv[0], .target = target, .extract = extract, .load = load,
		.full_refresh = full_refresh, .select = select.items, .nselect = select.n,
		.exclude = exclude.items, .nexclude = exclude.n, .threads = threads,
		.fail_fast = fail_fast, .cancel = &cancel, .logical_date = at, .resume = resume,
		.on_progress = sl_cli_on_progress, .progress_ctx = &ps,
	};
	sl_run_result res;
	sl_cli_signals_install(&cancel);
	int rc = sl_engine_run(p, &o, &res, &err);
	sl_cli_signals_restore();
	int sig = sl_cli_signal_received();
	if (ps.shown)
		fprintf(stderr, "\r\033[K");
	sl_project_free(p);
	if (rc < 0)
		return sl_cli_fail(&err);
	sl_cli_print_tables(&res, argv[0], extract, load);
	int status = res.failed || res.tables_cancelled ? 1 : 0;
	if (res.cancelled && sig) {
		printf("cancelled by %s\n", sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM");
		status = 128 + sig;
	}
	sl_run_result_free(&res);
	return status;
}

int sl_cmd_extract(int argc, char **argv) { return run_command(argc, argv, true, false); }
int sl_cmd_load(int argc, char **argv) { return run_command(argc, argv, false, true); }
