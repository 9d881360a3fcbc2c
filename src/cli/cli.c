/*
 * cli.c: the sluice command line — global flags (--log-level,
 * --log-format), dispatch to one function per command, top-level help.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SL_VERSION "0.1.0"

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{"init", sl_cmd_init, "create a new project folder"},
	{"demo", sl_cmd_demo, "create an example project with generated data"},
	{"run", sl_cmd_run, "the pipeline: extract, load, then the models (dbt: models)"},
	{"build", sl_cmd_build, "seeds, models and snapshots in DAG order (with their sources)"},
	{"seed", sl_cmd_seed, "load the seeds (seeds/*.csv) into the warehouse"},
	{"snapshot", sl_cmd_snapshot, "run the snapshots (SCD type 2)"},
	{"test", sl_cmd_test, "run the data tests (dbt's tests) and record their failing rows"},
	{"source", sl_cmd_source, "`source freshness`: how long ago each source table loaded"},
	{"compile", sl_cmd_compile, "render models' SQL into target/compiled/"},
	{"show", sl_cmd_show, "preview a model's rows (or an inline query)"},
	{"docs", sl_cmd_docs, "docs generate (manifest.json, catalog.json, the site); docs serve"},
	{"ls", sl_cmd_ls, "list models, seeds, snapshots and sources (also: list)"},
	{"list", sl_cmd_ls, NULL},
	{"extract", sl_cmd_extract, "extract sources into the lake only"},
	{"load", sl_cmd_load, "load committed lake versions into the warehouse"},
	{"backfill", sl_cmd_backfill, "run the pipeline once per logical date of a range"},
	{"dag", sl_cmd_dag, "print the task graph (text or Graphviz dot)"},
	{"runs", sl_cmd_runs, "list recent runs; `runs show ID`: attempts and timeline"},
	{"sql", sl_cmd_sql, "run one query on the warehouse and print its rows"},
	{"lake", sl_cmd_lake, "inspect lake tables: ls, show, vacuum"},
	{"parquet", sl_cmd_parquet, "Parquet files: schema, cat, convert"},
};

static void usage(FILE *f)
{
	fprintf(f, "sluice %s — a lakehouse pipeline engine\n\n"
		   "usage: sluice [--log-level LEVEL] [--log-format text|json] COMMAND [ARGS]\n\n"
		   "commands:\n",
		SL_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].summary)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nglobal options:\n"
		   "  --log-level LEVEL    debug, info, warn (default), error or off;\n"
		   "                       also SLUICE_LOG_LEVEL\n"
		   "  --log-format FORMAT  text (default) or json (one object per line);\n"
		   "                       also SLUICE_LOG_FORMAT\n"
		   "  --version            print the version\n"
		   "  --help               this text; `sluice COMMAND --help` for a command\n\n"
		   "Exit status: 0 success, 1 a task failed, 2 usage or configuration error,\n"
		   "130 / 143 a run cancelled by Ctrl-C (SIGINT) / SIGTERM.\n");
}

/* How the program was invoked, for hints ("./build/sluice run ..."). */
static const char *prog_name = "sluice";
/* Errors as JSON lines (--log-format json), like the log's. */
static bool json_errors;

const char *sl_cli_prog(void) { return prog_name; }

char *sl_cli_clean(const char *msg)
{
	sl_buf hinted = SL_BUF_INIT;
	const char *text = msg;
	if (strcmp(prog_name, "sluice") != 0) {
		for (const char *p = msg; *p;) {
			const char *q = strstr(p, "`sluice");
			if (!q || (q[7] != ' ' && q[7] != '`')) {
				size_t n = q ? (size_t)(q - p) + 7 : strlen(p);
				sl_buf_append(&hinted, p, n);
				p += n;
				continue;
			}
			sl_buf_append(&hinted, p, (size_t)(q - p) + 1);
			sl_buf_puts(&hinted, prog_name);
			p = q + 7;
		}
		if (hinted.data)
			text = hinted.data;
	}
	char *clean = sl_log_redact_dup(text);
	sl_buf_free(&hinted);
	return clean;
}

/* Prints one error line: "sluice: msg" or a JSON object like the log's. */
static void print_error(const char *msg, int status)
{
	char *clean = sl_cli_clean(msg);
	const char *out = clean ? clean : "out of memory";
	if (json_errors) {
		char ts[48];
		sl_buf b = SL_BUF_INIT;
		sl_timestamp_format_iso(sl_now_micros(), ts);
		sl_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"error\",\"msg\":", ts);
		sl_buf_put_json_string(&b, out, strlen(out));
		sl_buf_printf(&b, ",\"exit\":%d}", status);
		fprintf(stderr, "%s\n", b.data ? b.data : "{\"level\":\"error\"}");
		sl_buf_free(&b);
	} else {
		fprintf(stderr, "sluice: %s\n", out);
	}
	sl_free(clean);
}

int sl_cli_fail(const sl_error *err)
{
	int status = err->code == SL_EUSAGE || err->code == SL_ECONFIG ? 2 : 1;
	print_error(err->message, status);
	return status;
}

int sl_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	size_t pre = cmd ? strlen(cmd) + 2 : 0;
	char *msg = n < 0 ? NULL : sl_malloc(pre + (size_t)n + 1);
	if (msg) {
		if (cmd)
			snprintf(msg, pre + 1, "%s: ", cmd);
		vsnprintf(msg + pre, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
	print_error(msg ? msg : fmt, 2);
	sl_free(msg);
	return 2;
}

bool sl_cli_is_tty(void) { return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO); }

static int set_level(const char *v)
{
	int l = sl_log_level_parse(v);
	if (l < 0) {
		sl_cli_usage_error(NULL, "unknown log level '%s'; use debug, info, warn, error or "
				   "off", v);
		return -1;
	}
	sl_log_set_level((sl_log_level)l);
	return 0;
}

static int set_format(const char *v)
{
	if (strcmp(v, "json") == 0)
		sl_log_set_format(SL_LOG_JSON);
	else if (strcmp(v, "text") == 0)
		sl_log_set_format(SL_LOG_TEXT);
	else {
		sl_cli_usage_error(NULL, "unknown log format '%s'; use text or json", v);
		return -1;
	}
	json_errors = strcmp(v, "json") == 0;
	return 0;
}

/*
 * Global flags may come before the command or anywhere after it; they are
 * removed from argv before the command sees it.
 */
static int take_global_flags(int *argc, char **argv)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		bool level = false, format = false;
		if (strncmp(a, "--log-level=", 12) == 0) {
			level = true;
			val = a + 12;
		} else if (strncmp(a, "--log-format=", 13) == 0) {
			format = true;
			val = a + 13;
		} else if (strcmp(a, "--log-level") == 0 || strcmp(a, "--log-format") == 0) {
			level = a[6] == 'l' && a[7] == 'e';
			format = !level;
			if (i + 1 >= *argc) {
				sl_cli_usage_error(NULL, "%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (level && set_level(val) < 0)
			return -1;
		if (format && set_format(val) < 0)
			return -1;
		if (!level && !format)
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int sl_cli_main(int argc, char **argv)
{
	const char *env;

	if (argc > 0 && argv[0] && *argv[0])
		prog_name = argv[0];
	sl_log_set_level(SL_LOG_WARN);
	if ((env = getenv("SLUICE_LOG_LEVEL")) && *env && set_level(env) < 0)
		return 2;
	if ((env = getenv("SLUICE_LOG_FORMAT")) && *env && set_format(env) < 0)
		return 2;
	if (take_global_flags(&argc, argv) < 0)
		return 2;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *help_argv[] = {argv[2], (char *)"--help", NULL};
			for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return commands[i].fn(2, help_argv);
		}
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("sluice %s\n", SL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			int rc = commands[i].fn(argc - 1, argv + 1);
			sl_log_clear_secrets();
			return rc;
		}
	}
	return sl_cli_usage_error(NULL, "unknown command '%s'; see `sluice --help`", argv[1]);
}
