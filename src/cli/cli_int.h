/*
 * cli_int.h (private to cli/): one entry point per command, each taking the
 * arguments after the command name (argv[0] is the command) and returning
 * the exit status: 0 success, 1 a task or test failed, 2 usage or
 * configuration error, 130 / 143 a run cancelled by SIGINT / SIGTERM. Commands parse their flags with getopt_long (reset
 * optind = 1 first) and print `--help` text that documents every flag.
 */
#ifndef SL_CLI_INT_H
#define SL_CLI_INT_H

#include "base/base.h"

#include <pthread.h>

int sl_cmd_init(int argc, char **argv);
int sl_cmd_demo(int argc, char **argv);
int sl_cmd_run(int argc, char **argv);
int sl_cmd_extract(int argc, char **argv);
int sl_cmd_load(int argc, char **argv);
int sl_cmd_runs(int argc, char **argv);
int sl_cmd_lake(int argc, char **argv);
int sl_cmd_parquet(int argc, char **argv);
int sl_cmd_sql(int argc, char **argv);
int sl_cmd_dag(int argc, char **argv);
int sl_cmd_backfill(int argc, char **argv);
int sl_cmd_build(int argc, char **argv);
int sl_cmd_seed(int argc, char **argv);
int sl_cmd_snapshot(int argc, char **argv);
int sl_cmd_compile(int argc, char **argv);
int sl_cmd_show(int argc, char **argv);
int sl_cmd_ls(int argc, char **argv);
int sl_cmd_test(int argc, char **argv);
int sl_cmd_source(int argc, char **argv);
int sl_cmd_docs(int argc, char **argv);
/* `sluice docs serve` (cmd_docs_serve.c), argv[0] being "serve". */
int sl_cmd_docs_serve(int argc, char **argv);

/*
 * Ctrl-C and SIGTERM (signals.c): the first cancels c (the run's token),
 * the second exits at once with 128 + the signal. Restore after the run.
 */
void sl_cli_signals_install(sl_cancel *c);
void sl_cli_signals_restore(void);
/* The signal that cancelled the run (SIGINT, SIGTERM), or 0. */
int sl_cli_signal_received(void);

/* --select/--exclude values (cli_select.c): each argument split at spaces
 * into items of the graph's syntax (commas intersect within an item). */
#define SL_CLI_MAX_SELECT 256
typedef struct sl_cli_select {
	const char *items[SL_CLI_MAX_SELECT];
	int n;
} sl_cli_select;
/* Adds the items of arg (modified in place); -1 (after cmd's usage error)
 * when there are too many. */
int sl_cli_select_add(const char *cmd, sl_cli_select *s, char *arg);

/* A --threads value: 1 to 1024; -1 (after a usage error) otherwise. */
int sl_cli_parse_threads(const char *cmd, const char *v);
/* A date flag's value (--logical-date, --start, --end): YYYY-MM-DD
 * (midnight UTC) or an ISO-8601 timestamp, into *at (micros). -1 after a
 * usage error. */
int sl_cli_parse_when(const char *cmd, const char *flag, const char *v, int64_t *at);

/*
 * Prints "sluice: <message>" to stderr (redacted; a JSON line like the
 * log's, with "exit", under --log-format json; hints such as `sluice run`
 * name the program as invoked) and returns the exit status that fits
 * err->code: 2 for usage/config errors, else 1.
 */
int sl_cli_fail(const sl_error *err);
/* Prints a usage error the same way ("sluice: cmd: message") and returns 2. */
int sl_cli_usage_error(const char *cmd, const char *fmt, ...) SL_PRINTF(2, 3);
/*
 * msg ready to print: registered secrets redacted, hints such as `sluice
 * run` naming the program as invoked. sl_malloc'd; NULL when out of memory.
 */
char *sl_cli_clean(const char *msg);
/* one or many, as n says: "1 row", "2 rows". */
static inline const char *sl_cli_plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}
/* The program as invoked (argv[0]), for hints: "sluice" or "./build/sluice". */
const char *sl_cli_prog(void);

/* True when stdout is a terminal (progress lines are shown only then). */
bool sl_cli_is_tty(void);

/* ------------------------------------------- cli_models.c: dbt's commands */

struct sl_project;
struct sl_models;
struct sl_run_result;
struct sl_node_run;

/* The flags build, run, seed, snapshot, compile, show and ls share. */
typedef struct sl_cli_common {
	const char *dir;          /* --project-dir (default ".") */
	const char *profiles_dir; /* --profiles-dir */
	const char *target;       /* --target / -t */
	const char *vars;         /* --vars YAML */
	bool full_refresh;        /* --full-refresh */
	bool fail_fast;           /* --fail-fast / -x */
	int threads;              /* --threads (0: the target's, else the cores) */
	sl_cli_select select;     /* --select / -s / --models / -m */
	sl_cli_select exclude;    /* --exclude */
	int last;                 /* the list that words after --select (1) or
				     --exclude (2) go on: `-s a b` is `-s "a b"` */
} sl_cli_common;

/* getopt_long codes of the common flags, and their table entries. */
enum {
	SL_OPT_PROJECT_DIR = 1000,
	SL_OPT_PROFILES_DIR,
	SL_OPT_TARGET,
	SL_OPT_VARS,
	SL_OPT_FULL_REFRESH,
	SL_OPT_FAIL_FAST,
	SL_OPT_THREADS,
	SL_OPT_SELECT,
	SL_OPT_EXCLUDE,
};
#define SL_CLI_COMMON_LONGOPTS                                                  \
	{"project-dir", required_argument, NULL, SL_OPT_PROJECT_DIR},           \
	{"profiles-dir", required_argument, NULL, SL_OPT_PROFILES_DIR},         \
	{"target", required_argument, NULL, SL_OPT_TARGET},                     \
	{"vars", required_argument, NULL, SL_OPT_VARS},                         \
	{"full-refresh", no_argument, NULL, SL_OPT_FULL_REFRESH},               \
	{"fail-fast", no_argument, NULL, SL_OPT_FAIL_FAST},                     \
	{"threads", required_argument, NULL, SL_OPT_THREADS},                   \
	{"select", required_argument, NULL, SL_OPT_SELECT},                     \
	{"models", required_argument, NULL, SL_OPT_SELECT},                     \
	{"exclude", required_argument, NULL, SL_OPT_EXCLUDE}
/* Short forms: -s SEL, -m SEL, -t TARGET, -x (fail fast). The leading "-"
 * hands other words over in order (c == 1), for --select a b. */
#define SL_CLI_COMMON_SHORTOPTS "-s:m:t:x"

/* Takes getopt's c (with optarg) when it is a common flag: 1 when taken,
 * 0 when not one, -1 (after a usage error) for a bad value. A word that
 * is no flag's value (c == 1) joins the --select or --exclude before it,
 * as dbt reads `--select a b`; elsewhere it is a usage error. */
int sl_cli_common_opt(const char *cmd, int c, char *arg, sl_cli_common *o);

/* A project and its models, opened for a command. */
typedef struct sl_cli_project {
	struct sl_project *p;
	struct sl_models *m;   /* NULL: a sluice project without models/, seeds/ or snapshots/ */
	sl_arena arena;        /* the sources handed to models */
	bool dbt;              /* a dbt project (dbt_project.yml) */
	int threads;           /* --threads, else the target's, else 0 */
	char invocation_id[40];
	char started_at[40];
} sl_cli_project;

/* sluice.yml in o->dir, else dbt_project.yml (with its profiles.yml),
 * then the models with dbt's context. 0 or the exit status (2) after
 * printing the error. */
int sl_cli_project_open(sl_cli_project *cp, const sl_cli_common *o);
void sl_cli_project_close(sl_cli_project *cp);
/* dbt's target/manifest.json of cp's models, as every dbt command that
 * parses the project writes it (build, run, test, seed, snapshot,
 * compile): once per invocation, before anything runs, so that
 * run_results.json sits next to the manifest its unique_ids refer to.
 * Nothing without models; a failure to write it is a warning only. */
void sl_cli_write_manifest(const sl_cli_project *cp, const char *command, const char *target,
			   int argc, char **argv);
/* The project's graph: its source tables' extract and load tasks and its
 * nodes; *selected (sl_free) the tasks o's --select/--exclude pick. */
struct sl_dag;
int sl_cli_graph(const sl_cli_project *cp, const sl_cli_common *o, struct sl_dag *g,
		 bool **selected, sl_error *err);
/* Prints err; 2 for usage, configuration and template errors (SL_EFORMAT,
 * SL_EINVAL: an undefined name, a cycle), else 1. */
int sl_cli_fail_models(const sl_error *err);

/* The run summary of models, seeds and snapshots, as dbt prints it:
 * "Finished running ...", "Completed successfully" or "Completed with N
 * errors and 0 warnings:" with each failure, and the PASS/ERROR/SKIP
 * counts. */
void sl_cli_print_nodes_summary(const struct sl_run_result *res);
/* The line of one node that ended: "1 of 3 OK created sql view model
 * main.stg ... [CREATE VIEW in 0.01s]" (an sl_run_opts.on_node). */
void sl_cli_print_node_line(void *ctx, const struct sl_node_run *r, int total);
/* The terminal progress line of a run (cmd_run.c; an sl_progress_fn). */
typedef struct sl_cli_progress {
	bool tty;
	bool shown;
	pthread_mutex_t mu; /* tasks report from several threads */
} sl_cli_progress;
void sl_cli_on_progress(void *ctx, const char *task, int64_t rows, uint64_t bytes,
			double secs);
/* The per-table summary of run, extract and load (cmd_run.c). */
void sl_cli_print_tables(const struct sl_run_result *res, const char *cmd, bool extract,
			 bool load);

#endif
