/*
 * cmd_runs.c: `sluice runs` — recent runs with their logical date, trigger,
 * status, duration and task counts, then their ledgers, each said as what
 * happened: an equation only when it holds, "not loaded" rather than a
 * placeholder, and a failed task's reason. `runs show ID` adds every task
 * attempt (start, end, status, rows, bytes, error) and a text timeline.
 * Both print JSON with --format json.
 */
#include "cli/cli_int.h"
#include "state/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Whether an attempt's status is a failure of the task ("failed",
 * "timed_out"), whose reason `runs` prints under the ledger. */
static bool failed_status(const char *s)
{
	return s && (strcmp(s, "failed") == 0 || strcmp(s, "timed_out") == 0);
}

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
		if (task_of(tasks->items[i].task, table) && failed_status(tasks->items[i].status))
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
		if (!task_of(t->task, table) || !failed_status(t->status))
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
		printf("      %.*s %s: %s\n", (int)kind, t->task,
		       strcmp(t->status, "failed") == 0 ? "failed" : "timed out",
		       clean ? clean : msg);
		sl_free(clean);
	}
}

/* ------------------------------------------------------------ task counts */

/* The final status of each task of a run: its last attempt's. */
typedef struct {
	int tasks, success, failed, skipped, cancelled, running;
} task_counts;

static bool last_attempt(const sl_state_tasks *tasks, int i)
{
	for (int j = i + 1; j < tasks->n; j++)
		if (strcmp(tasks->items[j].task, tasks->items[i].task) == 0)
			return false;
	return true;
}

static task_counts count_tasks(const sl_state_tasks *tasks)
{
	task_counts c = {0};
	for (int i = 0; i < tasks->n; i++) {
		const char *s = tasks->items[i].status ? tasks->items[i].status : "";
		if (!last_attempt(tasks, i))
			continue;
		c.tasks++;
		if (strcmp(s, "success") == 0)
			c.success++;
		else if (strcmp(s, "skipped") == 0)
			c.skipped++;
		else if (strcmp(s, "cancelled") == 0)
			c.cancelled++;
		else if (strcmp(s, "running") == 0 || strcmp(s, "up_for_retry") == 0)
			c.running++;
		else
			c.failed++;
	}
	return c;
}

static void fmt_counts(const task_counts *c, char *out, size_t n)
{
	int k = snprintf(out, n, "%d %s: %d ok", c->tasks, c->tasks == 1 ? "task" : "tasks",
			 c->success);
	if (c->failed && k > 0 && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, ", %d failed", c->failed);
	if (c->skipped && k > 0 && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, ", %d skipped", c->skipped);
	if (c->cancelled && k > 0 && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, ", %d cancelled", c->cancelled);
	if (c->running && k > 0 && (size_t)k < n)
		snprintf(out + k, n - (size_t)k, ", %d running", c->running);
}

/* "HH:MM:SS.mmm" (UTC) of micros, for the attempt table. */
static void clock_of(int64_t micros, char *out, size_t n)
{
	if (micros <= 0) {
		snprintf(out, n, "-");
		return;
	}
	time_t secs = (time_t)(micros / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, n, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(micros % 1000000 / 1000));
}

/* Every attempt of every task of one run, in start order (runs show). */
static void print_tasks(const sl_state_tasks *tasks)
{
	printf("    %-36s %7s  %-12s %-12s %-12s %8s %10s %10s  %s\n", "task", "attempt", "status",
	       "start", "end", "seconds", "rows", "bytes", "error");
	for (int i = 0; i < tasks->n; i++) {
		const sl_state_task *t = &tasks->items[i];
		char *clean = t->message ? sl_cli_clean(t->message) : NULL;
		char start[24], end[24], rows[24], bytes[32];
		clock_of(t->attempt ? t->started_at : 0, start, sizeof start);
		clock_of(t->attempt ? t->ended_at : 0, end, sizeof end);
		if (t->rows >= 0)
			snprintf(rows, sizeof rows, "%lld", (long long)t->rows);
		else
			snprintf(rows, sizeof rows, "-");
		if (t->bytes >= 0)
			sl_format_bytes((uint64_t)t->bytes, bytes, sizeof bytes);
		else
			snprintf(bytes, sizeof bytes, "-");
		printf("    %-36s %7d  %-12s %-12s %-12s %8.2f %10s %10s  %s\n", t->task, t->attempt,
		       t->status ? t->status : "running", start, end,
		       t->ended_at && t->attempt ? (double)(t->ended_at - t->started_at) / 1e6 : 0.0,
		       rows, bytes, clean ? clean : t->message ? t->message : "");
		sl_free(clean);
	}
}

#define TIMELINE_WIDTH 60

/* The mark of an attempt on the timeline. */
static char attempt_mark(const char *status)
{
	if (!status || strcmp(status, "running") == 0)
		return '>';
	if (strcmp(status, "success") == 0)
		return '#';
	if (strcmp(status, "cancelled") == 0)
		return '-';
	return 'x'; /* failed, up_for_retry, timed_out */
}

/*
 * One line per task on a common time axis, from the run's first attempt's
 * start to its last end: '#' an attempt that succeeded, 'x' one that
 * failed (retried or not) or timed out, '-' cancelled, '>' still running.
 */
static void print_timeline(const sl_state_run *r, const sl_state_tasks *tasks)
{
	int64_t t0 = 0, t1 = 0, now = sl_now_micros();
	for (int i = 0; i < tasks->n; i++) {
		const sl_state_task *t = &tasks->items[i];
		if (t->attempt == 0)
			continue;
		int64_t e = t->ended_at ? t->ended_at : now;
		if (!t0 || t->started_at < t0)
			t0 = t->started_at;
		if (e > t1)
			t1 = e;
	}
	if (!t0)
		return;
	double span = t1 > t0 ? (double)(t1 - t0) : 1;
	printf("  timeline (%.2f s, '#' success, 'x' failed or timed out, '-' cancelled):\n",
	       span / 1e6);
	(void)r;
	for (int i = 0; i < tasks->n; i++) {
		bool first = true;
		for (int j = 0; j < i; j++)
			if (strcmp(tasks->items[j].task, tasks->items[i].task) == 0)
				first = false;
		if (!first)
			continue;
		char bar[TIMELINE_WIDTH + 1];
		memset(bar, ' ', TIMELINE_WIDTH);
		bar[TIMELINE_WIDTH] = '\0';
		const char *last = NULL;
		for (int j = i; j < tasks->n; j++) {
			const sl_state_task *t = &tasks->items[j];
			if (strcmp(t->task, tasks->items[i].task) != 0)
				continue;
			last = t->status;
			if (t->attempt == 0)
				continue;
			int64_t e = t->ended_at ? t->ended_at : now;
			int a = (int)((double)(t->started_at - t0) / span * TIMELINE_WIDTH);
			int b = (int)((double)(e - t0) / span * TIMELINE_WIDTH);
			if (a >= TIMELINE_WIDTH)
				a = TIMELINE_WIDTH - 1;
			if (b <= a)
				b = a + 1;
			if (b > TIMELINE_WIDTH)
				b = TIMELINE_WIDTH;
			for (int k = a; k < b; k++)
				bar[k] = attempt_mark(t->status);
		}
		printf("    %-36s |%s| %s\n", tasks->items[i].task, bar, last ? last : "running");
	}
}

/* ------------------------------------------------------------------- json */

static void json_str(sl_buf *b, const char *key, const char *v)
{
	sl_buf_printf(b, "\"%s\":", key);
	if (!v) {
		sl_buf_puts(b, "null");
		return;
	}
	char *clean = sl_cli_clean(v);
	const char *s = clean ? clean : v;
	sl_buf_put_json_string(b, s, strlen(s));
	sl_free(clean);
}

static void json_time(sl_buf *b, const char *key, int64_t micros)
{
	char ts[48];
	if (micros <= 0) {
		sl_buf_printf(b, "\"%s\":null", key);
		return;
	}
	sl_timestamp_format_iso(micros, ts);
	sl_buf_printf(b, "\"%s\":\"%s\"", key, ts);
}

static void json_count(sl_buf *b, const char *key, int64_t v)
{
	if (v < 0)
		sl_buf_printf(b, "\"%s\":null", key);
	else
		sl_buf_printf(b, "\"%s\":%lld", key, (long long)v);
}

static void json_run(sl_buf *b, const sl_state_run *r, const sl_state_tasks *tasks,
		     const sl_state_ledgers *ledgers, bool show)
{
	task_counts c = tasks ? count_tasks(tasks) : (task_counts){0};
	sl_buf_putc(b, '{');
	json_str(b, "run_id", r->run_id);
	sl_buf_putc(b, ',');
	json_str(b, "command", r->command);
	sl_buf_putc(b, ',');
	json_str(b, "target", r->target);
	sl_buf_putc(b, ',');
	json_str(b, "trigger", r->trigger);
	sl_buf_putc(b, ',');
	json_str(b, "status", r->status);
	sl_buf_putc(b, ',');
	json_str(b, "message", r->message);
	sl_buf_putc(b, ',');
	json_time(b, "logical_date", r->logical_date);
	sl_buf_putc(b, ',');
	json_time(b, "data_interval_start", r->data_interval_start);
	sl_buf_putc(b, ',');
	json_time(b, "data_interval_end", r->data_interval_end);
	sl_buf_putc(b, ',');
	json_time(b, "started_at", r->started_at);
	sl_buf_putc(b, ',');
	json_time(b, "ended_at", r->ended_at);
	sl_buf_printf(b, ",\"seconds\":%.3f,",
		      r->ended_at ? (double)(r->ended_at - r->started_at) / 1e6 : 0.0);
	json_str(b, "resumed_from", r->resumed_from);
	sl_buf_printf(b, ",\"tasks\":{\"total\":%d,\"success\":%d,\"failed\":%d,"
		      "\"skipped\":%d,\"cancelled\":%d,\"running\":%d}",
		      c.tasks, c.success, c.failed, c.skipped, c.cancelled, c.running);
	if (show && tasks) {
		sl_buf_puts(b, ",\"attempts\":[");
		for (int i = 0; i < tasks->n; i++) {
			const sl_state_task *t = &tasks->items[i];
			sl_buf_puts(b, i ? ",{" : "{");
			json_str(b, "task", t->task);
			sl_buf_printf(b, ",\"attempt\":%d,", t->attempt);
			json_str(b, "status", t->status);
			sl_buf_putc(b, ',');
			json_time(b, "started_at", t->attempt ? t->started_at : 0);
			sl_buf_putc(b, ',');
			json_time(b, "ended_at", t->attempt ? t->ended_at : 0);
			sl_buf_putc(b, ',');
			json_count(b, "rows", t->rows);
			sl_buf_putc(b, ',');
			json_count(b, "bytes", t->bytes);
			sl_buf_putc(b, ',');
			json_str(b, "error", t->message);
			sl_buf_putc(b, '}');
		}
		sl_buf_putc(b, ']');
	}
	if (ledgers) {
		sl_buf_puts(b, ",\"ledger\":[");
		for (int i = 0; i < ledgers->n; i++) {
			const sl_state_ledger_row *l = &ledgers->items[i];
			sl_buf_puts(b, i ? ",{" : "{");
			json_str(b, "table", l->table);
			sl_buf_printf(b, ",\"files\":%lld,\"rows_read\":%lld,\"rows_landed\":%lld,"
				      "\"rows_quarantined\":%lld,", (long long)l->l.files,
				      (long long)l->l.rows_read, (long long)l->l.rows_landed,
				      (long long)l->l.rows_quarantined);
			json_count(b, "rows_loaded", l->l.rows_loaded);
			sl_buf_putc(b, ',');
			json_str(b, "status", l->l.status);
			sl_buf_putc(b, '}');
		}
		sl_buf_putc(b, ']');
	}
	sl_buf_putc(b, '}');
}

int sl_cmd_runs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"limit", required_argument, NULL, 'n'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *format = "text";
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
		case 'f':
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
				return sl_cli_usage_error("runs", "--format must be text or json, not "
							  "'%s'", optarg);
			format = optarg;
			break;
		case 'h':
			printf("usage: sluice runs [--project-dir DIR] [--limit N] [--format text|json]\n"
			       "       sluice runs show RUN_ID [--project-dir DIR] [--format text|json]\n\n"
			       "Lists the newest runs (default 20): id, command, status, start,\n"
			       "duration, logical date, trigger (cli, schedule, api, backfill) and\n"
			       "how many tasks succeeded, failed, were skipped or cancelled; then\n"
			       "each table's ledger: rows read = landed + quarantined, then the rows\n"
			       "loaded (\"not loaded\" when no load ran). When a task failed or was\n"
			       "refused (e.g. more bad rows than max_bad_rows), the rows read are\n"
			       "not all landed or quarantined: the line says so, and the next line\n"
			       "gives the task's reason.\n\n"
			       "`runs show RUN_ID` prints that run with every attempt of every task\n"
			       "(attempt, status, start, end, seconds, rows, bytes, error; attempt 0\n"
			       "is a task that never ran: skipped or cancelled) and a timeline: a\n"
			       "bar per task on the run's time axis.\n\n"
			       "--format json prints one JSON array of runs (`runs show`: one object,\n"
			       "with \"attempts\").\n");
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
	bool json = strcmp(format, "json") == 0;
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
	sl_buf out = SL_BUF_INIT;
	if (json && !show)
		sl_buf_putc(&out, '[');
	int rc = 0;
	for (int i = 0; i < runs.n && rc == 0; i++) {
		const sl_state_run *r = &runs.items[i];
		sl_state_ledgers l = {0};
		sl_state_tasks tasks = {0};
		if ((rc = sl_state_tasks_list(st, r->run_id, &tasks, &err)) < 0 ||
		    (rc = sl_state_ledger_list(st, r->run_id, NULL, 0, &l, &err)) < 0) {
			sl_state_tasks_free(&tasks);
			break;
		}
		if (json) {
			if (i)
				sl_buf_putc(&out, ',');
			json_run(&out, r, &tasks, &l, show != NULL);
		} else {
			char when[48], logical[48], counts[160];
			task_counts tc = count_tasks(&tasks);
			sl_timestamp_format_iso(r->started_at, when);
			sl_timestamp_format_iso(r->logical_date, logical);
			fmt_counts(&tc, counts, sizeof counts);
			double secs = r->ended_at ? (double)(r->ended_at - r->started_at) / 1e6 : 0;
			char *msg = r->message ? sl_cli_clean(r->message) : NULL;
			printf("%s  %-8s %-9s %s  %.2fs  logical %s  %s  %s%s%s\n", r->run_id,
			       r->command, r->status, when, secs, logical, r->trigger, counts,
			       r->message ? "  " : "", msg ? msg : r->message ? r->message : "");
			sl_free(msg);
			if (show) {
				char a[48], b[48];
				sl_timestamp_format_iso(r->data_interval_start, a);
				sl_timestamp_format_iso(r->data_interval_end, b);
				printf("  data interval %s .. %s%s%s\n", a, b,
				       r->resumed_from ? "; resumes " : "",
				       r->resumed_from ? r->resumed_from : "");
			}
			for (int k = 0; k < l.n; k++)
				print_ledger(l.items[k].table, &l.items[k].l, &tasks);
			if (show) {
				print_tasks(&tasks);
				print_timeline(r, &tasks);
			}
		}
		sl_state_ledgers_free(&l);
		sl_state_tasks_free(&tasks);
	}
	if (json && !show)
		sl_buf_putc(&out, ']');
	if (rc == 0 && json)
		printf("%s\n", out.data ? out.data : "[]");
	sl_buf_free(&out);
	sl_state_runs_free(&runs);
	sl_state_close(st);
	return rc < 0 ? sl_cli_fail(&err) : 0;
}
