/*
 * cmd_compile.c: `sluice compile` — the selected models' and snapshots'
 * SQL rendered into target/compiled/ (and, for one node, printed) — and
 * `sluice show` — a preview of a node's rows (or of an inline query) as
 * dbt show prints it.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "models/models.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void compile_usage(FILE *f)
{
	fprintf(f,
		"usage: sluice compile [options]\n\n"
		"Renders the SQL of the selected models and snapshots (refs, sources,\n"
		"macros, is_incremental() as the warehouse now stands) into\n"
		"target/compiled/<package>/<path>, without running it. With a selection\n"
		"of one node, prints its SQL on standard output.\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  -t, --target NAME   the target whose warehouse the SQL is for\n"
		"  -s, --select SEL    only these nodes (dbt's syntax, as in `sluice build`)\n"
		"  --exclude SEL       leave these out\n"
		"  --vars YAML         variables for var()\n"
		"  --help              this text\n\n"
		"Exit status: 0, 1 when a node does not compile or the warehouse cannot be\n"
		"opened, 2 on a usage or configuration error (a template error too).\n");
}

static void show_usage(FILE *f)
{
	fprintf(f,
		"usage: sluice show --select NODE [--limit N] [--output text|json] [options]\n"
		"       sluice show --inline \"select ...\" [--limit N] [--output text|json]\n\n"
		"Runs the compiled SQL of one model, snapshot or seed (or an inline query)\n"
		"on the warehouse and prints its first rows, without building anything.\n\n"
		"options:\n"
		"  -s, --select NODE   the node to preview (it must select exactly one)\n"
		"  --inline SQL        a query to preview instead (Jinja rendered as in a model)\n"
		"  --limit N           rows to print (default 5; 0: all)\n"
		"  --output FORMAT     text (default): a table; json: {\"node\": ..., \"show\":\n"
		"                      [{column: value, ...}]}, values as strings or null\n"
		"  --project-dir DIR   the project folder (default: .)\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  -t, --target NAME   the target to query\n"
		"  --vars YAML         variables for var()\n"
		"  --help              this text\n\n"
		"Exit status: 0, 1 when the query fails, 2 on a usage or configuration\n"
		"error (no node or several selected, a template error).\n");
}

static int open_wh(const sl_cli_project *cp, const char *target, sl_wh **wh, sl_error *err)
{
	const sl_target *t = sl_project_target(cp->p, target);
	sl_wh_config c;
	if (!t)
		return sl_error_set(err, SL_ECONFIG, "no target named \"%s\"",
				    target ? target : "(default)");
	sl_engine_wh_config(t, &c);
	int rc = sl_wh_open(wh, &c, err);
	if (rc < 0)
		sl_error_prefix(err, "target %s: ", t->name);
	return rc;
}

/* Parses the common flags and the command's own (show's in extra). */
typedef struct {
	const char *inline_sql;
	int64_t limit;
	const char *output;
} show_flags;

static int parse(int argc, char **argv, const char *cmd, sl_cli_common *o, show_flags *sf,
		 void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		SL_CLI_COMMON_LONGOPTS,
		{"inline", required_argument, NULL, 'i'},
		{"limit", required_argument, NULL, 'l'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SL_CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int taken = sl_cli_common_opt(cmd, c, optarg, o);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		if (sf && c == 'i') {
			sf->inline_sql = optarg;
		} else if (sf && c == 'l') {
			if (sl_parse_int64(optarg, strlen(optarg), &sf->limit) < 0 || sf->limit < 0)
				return sl_cli_usage_error(cmd, "--limit must be a number of rows, "
							  "not '%s'", optarg);
		} else if (sf && c == 'o') {
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
				return sl_cli_usage_error(cmd, "--output must be text or json, not "
							  "'%s'", optarg);
			sf->output = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return -1;
		} else {
			return sl_cli_usage_error(cmd, "unknown or incomplete option '%s'; see "
						  "`sluice %s --help`", argv[optind - 1], cmd);
		}
	}
	if (optind < argc)
		return sl_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Whether t is a node compile renders (models, snapshots). */
static bool compiles(const sl_task *t)
{
	return sl_engine_task_node(t) >= 0 && strcmp(t->kind->name, "seed") != 0;
}

int sl_cmd_compile(int argc, char **argv)
{
	sl_cli_common o = {.dir = "."};
	int status = parse(argc, argv, "compile", &o, NULL, compile_usage);
	if (status)
		return status < 0 ? 0 : status;

	sl_cli_project cp;
	sl_error err = SL_ERROR_INIT;
	sl_dag g;
	bool *selected = NULL;
	sl_wh *wh = NULL;
	char *sql = NULL;
	int rc = 0, n = 0, last = -1;

	sl_dag_init(&g);
	if ((status = sl_cli_project_open(&cp, &o)) != 0)
		goto done;
	if ((rc = sl_cli_graph(&cp, &o, &g, &selected, &err)) < 0)
		goto done;
	sl_cli_write_manifest(&cp, "compile", o.target, argc, argv);
	for (int i = 0; i < g.n; i++)
		if (selected[i] && compiles(&g.tasks[i])) {
			n++;
			last = i;
		}
	if (n == 0) {
		printf("Nothing to do: no model or snapshot %s.\n",
		       o.select.n ? "is selected" : "in the project");
		goto done;
	}
	if ((rc = open_wh(&cp, o.target, &wh, &err)) < 0)
		goto done;
	for (int i = 0; i < g.n && rc == 0; i++) {
		if (!selected[i] || !compiles(&g.tasks[i]))
			continue;
		sl_free(sql);
		sql = NULL;
		rc = sl_models_compile(cp.m, sl_engine_task_node(&g.tasks[i]), wh, true, &sql, &err);
		if (rc < 0)
			break;
		if (n == 1 && i == last)
			printf("%s%s", sql ? sql : "",
			       sql && *sql && sql[strlen(sql) - 1] != '\n' ? "\n" : "");
	}
	if (rc == 0 && n > 1)
		printf("compiled %d %s into %s/target/compiled/\n", n, n == 1 ? "node" : "nodes",
		       cp.p->dir);
done:
	if (rc < 0)
		status = sl_cli_fail_models(&err);
	sl_free(sql);
	sl_wh_close(wh);
	sl_free(selected);
	sl_dag_free(&g);
	sl_cli_project_close(&cp);
	return status;
}

/* ------------------------------------------------------------------ show */

typedef struct {
	int64_t limit;     /* 0: all */
	int ncols;         /* -1 before the first row */
	char **names;
	sl_buf cells;      /* rows * ncols strings, each NUL-ended; NULL as \x01 */
	int64_t rows;
	bool cut;
	bool oom;
} show_rows;

static int on_row(void *ud, int ncols, const char *const *names, const char *const *values,
		  sl_error *err)
{
	show_rows *s = ud;
	if (s->limit > 0 && s->rows >= s->limit) {
		s->cut = true;
		return 1;
	}
	if (s->ncols < 0) {
		s->ncols = ncols;
		s->names = sl_calloc((size_t)ncols + 1, sizeof *s->names);
		if (!s->names)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		for (int i = 0; i < ncols; i++)
			if (!(s->names[i] = sl_strdup(names[i] ? names[i] : "")))
				return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < ncols; i++) {
		const char *v = values[i] ? values[i] : "\x01";
		if (sl_buf_append(&s->cells, v, strlen(v) + 1) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	s->rows++;
	return 0;
}

static bool numeric(const char *v)
{
	char *end = NULL;
	if (!*v)
		return false;
	strtod(v, &end);
	return end && *end == '\0';
}

/* Display width: UTF-8 characters. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* The cells of the result, row by row. */
static const char **cell_list(const show_rows *s)
{
	int64_t n = s->rows * s->ncols;
	const char **v = sl_calloc((size_t)n + 1, sizeof *v);
	const char *p = s->cells.data;
	for (int64_t i = 0; v && i < n; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	return v;
}

static void print_text(const show_rows *s, const char **cells)
{
	int *w = sl_calloc((size_t)s->ncols + 1, sizeof *w);
	bool *num = sl_calloc((size_t)s->ncols + 1, sizeof *num);
	if (!w || !num) {
		sl_free(w);
		sl_free(num);
		return;
	}
	for (int c = 0; c < s->ncols; c++) {
		w[c] = width(s->names[c]);
		if (w[c] < 3)
			w[c] = 3;
		num[c] = s->rows > 0;
	}
	for (int64_t r = 0; r < s->rows; r++)
		for (int c = 0; c < s->ncols; c++) {
			const char *v = cells[r * s->ncols + c];
			bool null = v[0] == '\x01';
			int cw = null ? 4 : width(v);
			if (cw > w[c])
				w[c] = cw;
			if (!null && !numeric(v))
				num[c] = false;
		}
	for (int c = 0; c < s->ncols; c++)
		printf("| %-*s ", w[c] + (int)strlen(s->names[c]) - width(s->names[c]), s->names[c]);
	printf("|\n");
	for (int c = 0; c < s->ncols; c++) {
		printf("| ");
		for (int i = 0; i < w[c]; i++)
			putchar('-');
		putchar(' ');
	}
	printf("|\n");
	for (int64_t r = 0; r < s->rows; r++) {
		for (int c = 0; c < s->ncols; c++) {
			const char *v = cells[r * s->ncols + c];
			if (v[0] == '\x01')
				v = "NULL";
			int pad = w[c] - width(v);
			printf("| %*s%s%*s ", num[c] ? pad : 0, "", v, num[c] ? 0 : pad, "");
		}
		printf("|\n");
	}
	sl_free(w);
	sl_free(num);
}

static void print_json(const show_rows *s, const char **cells, const char *node)
{
	sl_buf b = SL_BUF_INIT;
	sl_buf_puts(&b, "{\"node\": ");
	sl_buf_put_json_string(&b, node, strlen(node));
	sl_buf_puts(&b, ", \"show\": [");
	for (int64_t r = 0; r < s->rows; r++) {
		sl_buf_puts(&b, r ? ",\n  {" : "\n  {");
		for (int c = 0; c < s->ncols; c++) {
			const char *v = cells[r * s->ncols + c];
			if (c)
				sl_buf_puts(&b, ", ");
			sl_buf_put_json_string(&b, s->names[c], strlen(s->names[c]));
			sl_buf_puts(&b, ": ");
			if (v[0] == '\x01')
				sl_buf_puts(&b, "null");
			else
				sl_buf_put_json_string(&b, v, strlen(v));
		}
		sl_buf_puts(&b, "}");
	}
	sl_buf_puts(&b, s->rows ? "\n]}\n" : "]}\n");
	if (b.data)
		fputs(b.data, stdout);
	sl_buf_free(&b);
}

/* The node's SELECT, ready to wrap: trailing blanks and semicolons cut. */
static void trim_sql(char *sql)
{
	size_t n = strlen(sql);
	while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n' ||
			 sql[n - 1] == '\t' || sql[n - 1] == '\r'))
		sql[--n] = '\0';
}

int sl_cmd_show(int argc, char **argv)
{
	sl_cli_common o = {.dir = "."};
	show_flags sf = {.limit = 5, .output = "text"};
	int status = parse(argc, argv, "show", &o, &sf, show_usage);
	if (status)
		return status < 0 ? 0 : status;
	if (!sf.inline_sql && o.select.n == 0)
		return sl_cli_usage_error("show", "say what to preview: --select NODE or --inline "
					  "\"select ...\"");
	if (sf.inline_sql && o.select.n)
		return sl_cli_usage_error("show", "--select and --inline exclude each other");

	sl_cli_project cp;
	sl_error err = SL_ERROR_INIT;
	sl_dag g;
	bool *selected = NULL;
	sl_wh *wh = NULL;
	char *sql = NULL;
	const char **cells = NULL;
	sl_buf q = SL_BUF_INIT;
	show_rows rows = {.limit = sf.limit, .ncols = -1};
	const char *name = "inline";
	int rc = 0, pick = -1;

	sl_dag_init(&g);
	if ((status = sl_cli_project_open(&cp, &o)) != 0)
		goto done;
	if (!sf.inline_sql) {
		if ((rc = sl_cli_graph(&cp, &o, &g, &selected, &err)) < 0)
			goto done;
		int n = 0;
		for (int i = 0; i < g.n; i++)
			if (selected[i] && sl_engine_task_node(&g.tasks[i]) >= 0) {
				n++;
				pick = i;
			}
		if (n != 1) {
			rc = sl_error_set(&err, SL_EUSAGE, "show: the selection picks %d models, "
					  "seeds or snapshots; select exactly one", n);
			goto done;
		}
		name = g.tasks[pick].node;
	}
	if ((rc = open_wh(&cp, o.target, &wh, &err)) < 0)
		goto done;
	if (sf.inline_sql && cp.m) {
		/* ref(), source(), var() and macros, as in a model. */
		if ((rc = sl_models_compile_inline(cp.m, sf.inline_sql, wh, &sql, &err)) < 0)
			goto done;
	} else if (sf.inline_sql) {
		sql = sl_strdup(sf.inline_sql); /* a project without SQL models */
	} else if (strcmp(g.tasks[pick].kind->name, "seed") == 0) {
		const sl_node *nd = sl_models_node(cp.m, sl_engine_task_node(&g.tasks[pick]));
		sl_buf t = SL_BUF_INIT;
		sl_buf_puts(&t, "select * from ");
		rc = sl_wh_quote_table(wh, &t, nd->schema, nd->alias ? nd->alias : nd->name, &err);
		sql = rc == 0 && t.data ? sl_strdup(t.data) : NULL;
		sl_buf_free(&t);
		if (rc < 0)
			goto done;
	} else {
		rc = sl_models_compile(cp.m, sl_engine_task_node(&g.tasks[pick]), wh, false, &sql,
				       &err);
		if (rc < 0)
			goto done;
	}
	if (!sql) {
		rc = sl_error_set(&err, SL_ENOMEM, "out of memory");
		goto done;
	}
	trim_sql(sql);
	sl_buf_printf(&q, "select * from (\n%s\n) as \"sluice_show\"", sql);
	if (sf.limit > 0)
		sl_buf_printf(&q, " limit %lld", (long long)sf.limit + 1);
	if (!q.data) {
		rc = sl_error_set(&err, SL_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = sl_wh_query_one(wh, q.data, on_row, &rows, &err)) < 0)
		goto done;
	if (rows.ncols < 0) {
		/* No row: the columns are still worth showing; ask for none. */
		rows.ncols = 0;
	}
	cells = cell_list(&rows);
	if (!cells) {
		rc = sl_error_set(&err, SL_ENOMEM, "out of memory");
		goto done;
	}
	if (strcmp(sf.output, "json") == 0) {
		print_json(&rows, cells, name);
	} else {
		if (sf.inline_sql)
			printf("Previewing inline node:\n");
		else
			printf("Previewing node '%s':\n", name);
		if (rows.ncols > 0)
			print_text(&rows, cells);
		else
			printf("(no rows)\n");
		if (rows.cut)
			printf("(first %lld rows; --limit %lld cut the rest, --limit 0 shows all)\n",
			       (long long)rows.rows, (long long)sf.limit);
	}
done:
	if (rc < 0)
		status = sl_cli_fail_models(&err);
	sl_free(cells);
	for (int i = 0; rows.names && i < rows.ncols; i++)
		sl_free(rows.names[i]);
	sl_free(rows.names);
	sl_buf_free(&rows.cells);
	sl_buf_free(&q);
	sl_free(sql);
	sl_wh_close(wh);
	sl_free(selected);
	sl_dag_free(&g);
	sl_cli_project_close(&cp);
	return status;
}
