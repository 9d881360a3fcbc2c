/*
 * cli_models.c: what dbt's commands (build, run, seed, snapshot, compile,
 * show, ls) share — their common flags, opening the project (sluice.yml or
 * dbt_project.yml) with its models, the exit status of a models error, and
 * the per-node lines (tests' PASS, WARN n, FAIL n) and the closing summary
 * dbt users know, with a section for each failing or warning test.
 */
#include "cli/cli_int.h"
#include "docs/docs.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sl_cli_common_opt(const char *cmd, int c, char *arg, sl_cli_common *o)
{
	if (c == 1) {
		if (!o->last) {
			sl_cli_usage_error(cmd, "unexpected argument '%s'", arg);
			return -1;
		}
		return sl_cli_select_add(cmd, o->last == 1 ? &o->select : &o->exclude, arg) < 0
			       ? -1 : 1;
	}
	o->last = c == 's' || c == 'm' || c == SL_OPT_SELECT ? 1 : c == SL_OPT_EXCLUDE ? 2 : 0;
	switch (c) {
	case SL_OPT_PROJECT_DIR: o->dir = arg; return 1;
	case SL_OPT_PROFILES_DIR: o->profiles_dir = arg; return 1;
	case 't':
	case SL_OPT_TARGET: o->target = arg; return 1;
	case SL_OPT_VARS: o->vars = arg; return 1;
	case SL_OPT_FULL_REFRESH: o->full_refresh = true; return 1;
	case 'x':
	case SL_OPT_FAIL_FAST: o->fail_fast = true; return 1;
	case SL_OPT_THREADS:
		return (o->threads = sl_cli_parse_threads(cmd, arg)) < 0 ? -1 : 1;
	case 's':
	case 'm':
	case SL_OPT_SELECT: return sl_cli_select_add(cmd, &o->select, arg) < 0 ? -1 : 1;
	case SL_OPT_EXCLUDE: return sl_cli_select_add(cmd, &o->exclude, arg) < 0 ? -1 : 1;
	default: return 0;
	}
}

int sl_cli_fail_models(const sl_error *err)
{
	/* A template that does not render (an undefined name, a bad filter
	 * argument) is SL_EINVAL from template/, SL_EFORMAT from models/; a
	 * cycle in the graph SL_EINVAL: all are the project's to fix. */
	if (err->code == SL_EFORMAT || err->code == SL_EINVAL) {
		sl_error e = *err;
		e.code = SL_ECONFIG;
		return sl_cli_fail(&e);
	}
	return sl_cli_fail(err);
}

static bool is_dir(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A version 4 uuid, as dbt's invocation_id. */
static void uuid4(char out[40])
{
	char h[33];
	sl_random_hex(h, 16);
	h[12] = '4';
	h[16] = "89ab"[h[16] % 4];
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int sl_cli_project_open(sl_cli_project *cp, const sl_cli_common *o)
{
	sl_error err = SL_ERROR_INIT;
	memset(cp, 0, sizeof *cp);
	sl_arena_init(&cp->arena, 4096);
	if (sl_project_open(&cp->p, o->dir, o->profiles_dir, o->target, &err) < 0)
		return sl_cli_fail(&err);
	const sl_project *p = cp->p;
	cp->dbt = p->dbt_profile != NULL;
	const sl_target *tg = sl_project_target(p, o->target);
	cp->threads = o->threads;
	if (cp->threads <= 0 && tg) {
		const char *v = sl_kvs_get(&tg->settings, "threads");
		int64_t n = 0;
		if (v && sl_parse_int64(v, strlen(v), &n) == 0 && n > 0 && n <= 1024)
			cp->threads = (int)n;
	}
	uuid4(cp->invocation_id);
	sl_timestamp_format_iso6(sl_now_micros(), cp->started_at);
	/* A sluice project without SQL folders has no models to read. */
	if (!cp->dbt && !is_dir(p->dir, "models") && !is_dir(p->dir, "seeds") &&
	    !is_dir(p->dir, "snapshots"))
		return 0;
	if (!tg)
		return sl_cli_fail(&(sl_error){
			.code = SL_ECONFIG,
			.message = "the project has no target to build models in",
		});
	sl_models_opts mo = {
		.project_dir = p->dir,
		.project = p,
		.target = tg,
		.vars_yaml = o->vars,
		.full_refresh = o->full_refresh,
		.invocation_id = cp->invocation_id,
		.run_started_at = cp->started_at,
		.threads = cp->threads > 0 ? cp->threads : 1,
	};
	sl_model_source *srcs = NULL;
	int nsrcs = 0;
	if (sl_engine_model_sources(p, o->target, &cp->arena, &srcs, &nsrcs, &err) < 0)
		return sl_cli_fail(&err);
	mo.extra_sources = srcs;
	mo.nextra_sources = nsrcs;
	if (sl_models_open(&cp->m, &mo, &err) < 0)
		return sl_cli_fail_models(&err);
	return 0;
}

void sl_cli_project_close(sl_cli_project *cp)
{
	sl_models_free(cp->m);
	sl_project_free(cp->p);
	sl_arena_free(&cp->arena);
	cp->m = NULL;
	cp->p = NULL;
}

void sl_cli_write_manifest(const sl_cli_project *cp, const char *command, const char *target,
			   int argc, char **argv)
{
	if (!cp->m)
		return;
	const sl_target *tg = sl_project_target(cp->p, target);
	sl_docs_invocation inv = {
		.invocation_id = cp->invocation_id,
		.command = command,
		.target = tg ? tg->name : NULL,
		.adapter_type = tg ? tg->type : NULL,
		.generated_at = sl_now_micros(),
		.args = (const char *const *)argv,
		.nargs = argc,
	};
	char *dir = sl_path_join(cp->p->dir, "target");
	sl_error we = SL_ERROR_INIT;
	if (!dir || sl_docs_write_manifest(cp->m, &inv, dir, &we) < 0)
		sl_log(SL_LOG_WARN, "target/manifest.json not written: %s",
		       dir ? we.message : "out of memory");
	sl_free(dir);
}

int sl_cli_graph(const sl_cli_project *cp, const sl_cli_common *o, sl_dag *g, bool **selected,
		 sl_error *err)
{
	int n = cp->m ? sl_models_count(cp->m) : 0;
	sl_node *nodes = sl_calloc((size_t)n + 1, sizeof *nodes);
	*selected = NULL;
	if (!nodes)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		nodes[i] = *sl_models_node(cp->m, i);
	sl_graph_opts go = {.target = o->target, .extract = true, .load = true, .nodes = nodes,
			    .nnodes = n, .models = cp->m};
	int rc = sl_engine_graph(g, cp->p, &go, err);
	sl_free(nodes);
	if (rc == 0 && !(*selected = sl_calloc((size_t)g->n + 1, sizeof **selected)))
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_dag_select(g, o->select.items, o->select.n, o->exclude.items, o->exclude.n,
				   *selected, err);
	return rc;
}

/* ----------------------------------------------------------- the lines */

/* "sql view model", "seed file", "snapshot" */
static void what(const sl_node_run *r, char *out, size_t n)
{
	if (strcmp(r->resource_type, "seed") == 0)
		snprintf(out, n, "seed file");
	else if (strcmp(r->resource_type, "snapshot") == 0)
		snprintf(out, n, "snapshot");
	else
		snprintf(out, n, "sql %s model", r->materialized);
}

static const char *verb(const sl_node_run *r, bool ok)
{
	if (strcmp(r->resource_type, "seed") == 0)
		return ok ? "loaded" : "loading";
	if (strcmp(r->resource_type, "snapshot") == 0)
		return ok ? "snapshotted" : "snapshotting";
	return ok ? "created" : "creating";
}

#define LINE_WIDTH 72

static bool is_test(const sl_node_run *r)
{
	return strcmp(r->resource_type, "test") == 0;
}

/* A test's line: "PASS name", "FAIL 3 name", "WARN 2 name", "ERROR name". */
static void test_line(const sl_node_run *r, int total, char *left, size_t nl, char *right,
		      size_t nr)
{
	char count[32] = "";
	const char *word;
	switch (r->status) {
	case SL_TASK_SUCCESS:
		word = r->test_status == SL_TEST_WARN ? "WARN" : "PASS";
		break;
	case SL_TASK_SKIPPED: word = "SKIP"; break;
	case SL_TASK_CANCELLED: word = "CANCEL"; break;
	default: word = r->test_status == SL_TEST_FAIL ? "FAIL" : "ERROR"; break;
	}
	if ((strcmp(word, "WARN") == 0 || strcmp(word, "FAIL") == 0) && r->failures >= 0)
		snprintf(count, sizeof count, " %lld", (long long)r->failures);
	if (r->status == SL_TASK_SKIPPED || r->status == SL_TASK_CANCELLED) {
		snprintf(left, nl, "%d of %d %s test %s", r->order, total, word, r->name);
		snprintf(right, nr, "[%s]", word);
		return;
	}
	snprintf(left, nl, "%d of %d %s%s %s", r->order, total, word, count, r->name);
	snprintf(right, nr, "[%s%s in %.2fs]", word, count, r->seconds);
}

void sl_cli_print_node_line(void *ctx, const sl_node_run *r, int total)
{
	char left[512], right[128], kind[64];
	what(r, kind, sizeof kind);
	if (is_test(r))
		test_line(r, total, left, sizeof left, right, sizeof right);
	else switch (r->status) {
	case SL_TASK_SUCCESS:
		snprintf(left, sizeof left, "%d of %d OK %s %s %s", r->order, total, verb(r, true),
			 kind, r->relation);
		snprintf(right, sizeof right, "[%s in %.2fs]",
			 r->build.message[0] ? r->build.message : "OK", r->seconds);
		break;
	case SL_TASK_SKIPPED:
		snprintf(left, sizeof left, "%d of %d SKIP %s %s", r->order, total, kind,
			 r->relation);
		snprintf(right, sizeof right, "[SKIP]");
		break;
	case SL_TASK_CANCELLED:
		snprintf(left, sizeof left, "%d of %d CANCEL %s %s", r->order, total, kind,
			 r->relation);
		snprintf(right, sizeof right, "[CANCEL]");
		break;
	default:
		snprintf(left, sizeof left, "%d of %d ERROR %s %s %s", r->order, total,
			 verb(r, false), kind, r->relation);
		snprintf(right, sizeof right, "[ERROR in %.2fs]", r->seconds);
		break;
	}
	int pad = LINE_WIDTH - (int)strlen(left) - 1;
	char dots[LINE_WIDTH + 1];
	if (pad < 3)
		pad = 3;
	memset(dots, '.', (size_t)pad);
	dots[pad] = '\0';
	printf("%s %s %s\n", left, dots, right);
	fflush(stdout);
}

/* "3 view models, 1 table model, 1 seed, 4 data tests" */
static void finished_counts(const sl_run_result *res, sl_buf *b)
{
	static const char *const mats[] = {"view", "table", "incremental", NULL};
	static const char *const types[] = {"seed", "snapshot", NULL};
	int n;
	bool first = true;
	for (int m = 0; mats[m]; m++) {
		n = 0;
		for (int i = 0; i < res->nnodes; i++)
			n += strcmp(res->nodes[i].resource_type, "model") == 0 &&
			     strcmp(res->nodes[i].materialized, mats[m]) == 0;
		if (n)
			sl_buf_printf(b, "%s%d %s %s", first ? "" : ", ", n, mats[m],
				      n == 1 ? "model" : "models"), first = false;
	}
	for (int t = 0; types[t]; t++) {
		n = 0;
		for (int i = 0; i < res->nnodes; i++)
			n += strcmp(res->nodes[i].resource_type, types[t]) == 0;
		if (n)
			sl_buf_printf(b, "%s%d %s%s", first ? "" : ", ", n, types[t],
				      n == 1 ? "" : "s"), first = false;
	}
	n = 0;
	for (int i = 0; i < res->nnodes; i++)
		n += is_test(&res->nodes[i]);
	if (n)
		sl_buf_printf(b, "%s%d data %s", first ? "" : ", ", n, n == 1 ? "test" : "tests");
}

/* The first rows of a test's sample, one line each: "    id=null, n=3". */
#define SAMPLE_LINES 3

static void print_sample(const char *sample_json)
{
	json_error_t je;
	json_t *rows = sample_json ? json_loads(sample_json, 0, &je) : NULL;
	if (!json_is_array(rows) || json_array_size(rows) == 0) {
		json_decref(rows);
		return;
	}
	size_t n = json_array_size(rows);
	printf("  first failing rows:\n");
	for (size_t i = 0; i < n && i < SAMPLE_LINES; i++) {
		json_t *row = json_array_get(rows, i);
		const char *key;
		json_t *v;
		sl_buf b = SL_BUF_INIT;
		json_object_foreach(row, key, v) {
			sl_buf_printf(&b, "%s%s=", b.len ? ", " : "", key);
			if (json_is_string(v))
				sl_buf_puts(&b, json_string_value(v));
			else {
				char *t = json_dumps(v, JSON_ENCODE_ANY);
				sl_buf_puts(&b, t ? t : "?");
				free(t);
			}
		}
		char *clean = sl_cli_clean(b.data ? b.data : "");
		printf("    %s\n", clean ? clean : "");
		sl_free(clean);
		sl_buf_free(&b);
	}
	if (n > SAMPLE_LINES)
		printf("    (%zu more in the sample in .sluice/state.db)\n", n - SAMPLE_LINES);
	json_decref(rows);
}

/* target/compiled/<package>/<path>[/<name>.sql]: where dbt (and sluice)
 * write a test's compiled SQL. */
static void compiled_path(const sl_node_run *r, char *out, size_t n)
{
	const char *pkg = strchr(r->id, '.');
	const char *end = pkg ? strchr(pkg + 1, '.') : NULL;
	int plen = pkg && end ? (int)(end - pkg - 1) : 0;
	size_t len = strlen(r->path);
	/* a generic test's file is named after its alias (dbt shortens long
	 * names with a hash): the relation's last part */
	const char *alias = strrchr(r->relation, '.');
	alias = alias && alias[1] ? alias + 1 : r->name;
	if (len > 4 && strcmp(r->path + len - 4, ".sql") == 0)
		snprintf(out, n, "target/compiled/%.*s/%s", plen, pkg ? pkg + 1 : "", r->path);
	else
		snprintf(out, n, "target/compiled/%.*s/%s/%s.sql", plen, pkg ? pkg + 1 : "",
			 r->path, alias);
}

/* One failing or warning test: what it found, a few rows, where they are. */
static void print_test_failure(const sl_node_run *r, bool warn)
{
	char *clean = sl_cli_clean(r->message ? r->message : warn ? "warned" : "failed");
	char path[1024];
	printf("\n%s in test %s (%s)\n  %s\n", warn ? "Warning" : "Failure", r->name, r->path,
	       clean ? clean : "failed");
	sl_free(clean);
	if (r->failures >= 0 && r->test_status != SL_TEST_ERROR)
		printf("  %lld failing %s\n", (long long)r->failures,
		       r->failures == 1 ? "row" : "rows");
	print_sample(r->sample_json);
	if (r->stored_in)
		printf("  failing rows stored in %s\n", r->stored_in);
	if (r->compiled_sql || r->test_status >= 0) {
		compiled_path(r, path, sizeof path);
		printf("  compiled code at %s\n", path);
	}
}

void sl_cli_print_nodes_summary(const sl_run_result *res)
{
	sl_buf b = SL_BUF_INIT;
	int pass = 0, warn = 0, error = 0, skip = 0, cancelled = 0;
	for (int i = 0; i < res->nnodes; i++) {
		const sl_node_run *r = &res->nodes[i];
		int st = r->status;
		bool w = st == SL_TASK_SUCCESS && is_test(r) && r->test_status == SL_TEST_WARN;
		warn += w;
		pass += st == SL_TASK_SUCCESS && !w;
		skip += st == SL_TASK_SKIPPED || st == SL_TASK_CANCELLED;
		cancelled += st == SL_TASK_CANCELLED;
		error += st == SL_TASK_FAILED || st == SL_TASK_TIMED_OUT;
	}
	finished_counts(res, &b);
	printf("\nFinished running %s in %.2fs.\n\n", b.data ? b.data : "nothing", res->seconds);
	sl_buf_free(&b);
	if (error == 0 && skip == 0 && warn == 0)
		printf("Completed successfully\n");
	else if (error == 0 && cancelled)
		printf("Completed with %d %s cancelled\n", cancelled,
		       cancelled == 1 ? "node" : "nodes");
	else if (error == 0 && skip)
		printf("Completed with %d %s skipped%s\n", skip, skip == 1 ? "node" : "nodes",
		       warn ? (warn == 1 ? " and 1 warning:" : " and warnings:") : "");
	else if (error == 0)
		printf("Completed with %d %s:\n", warn, warn == 1 ? "warning" : "warnings");
	else
		printf("Completed with %d %s and %d %s:\n", error, error == 1 ? "error" : "errors",
		       warn, warn == 1 ? "warning" : "warnings");
	for (int i = 0; i < res->nnodes; i++) {
		const sl_node_run *r = &res->nodes[i];
		if (r->status != SL_TASK_FAILED && r->status != SL_TASK_TIMED_OUT)
			continue;
		if (is_test(r)) {
			print_test_failure(r, false);
			continue;
		}
		char *clean = sl_cli_clean(r->message ? r->message : "failed");
		printf("\nFailure in %s %s (%s)\n  %s\n", r->resource_type, r->name, r->path,
		       clean ? clean : "failed");
		sl_free(clean);
	}
	for (int i = 0; i < res->nnodes; i++) {
		const sl_node_run *r = &res->nodes[i];
		if (r->status == SL_TASK_SUCCESS && is_test(r) && r->test_status == SL_TEST_WARN)
			print_test_failure(r, true);
	}
	printf("\nDone. PASS=%d WARN=%d ERROR=%d SKIP=%d TOTAL=%d\n", pass, warn, error, skip,
	       res->nnodes);
}
