/*
 * cmd_lake.c: `sluice lake ls|show|vacuum` — list the lake's tables, show
 * one table's schema and commit history, remove unreferenced data files.
 */
#include "cli/cli_int.h"
#include "lake/lake.h"
#include "project/project.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RETAIN "1h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice lake ls     [--project-dir DIR | --lake URL]\n"
		"       sluice lake show   TABLE [--project-dir DIR | --lake URL]\n"
		"       sluice lake vacuum [TABLE] [--retain DURATION] [--dry-run]\n"
		"                          [--project-dir DIR | --lake URL]\n\n"
		"Lake tables are folders of Parquet files (TABLE/data/) made visible by a\n"
		"Delta Lake commit log (TABLE/_delta_log/); a source table t of source s\n"
		"is the lake table raw/s/t.\n\n"
		"  ls      each table with its version, live files, rows and size\n"
		"  show    a table's schema (column, type, nullable) and its history:\n"
		"          version, time, operation, run id, files and rows added,\n"
		"          bytes added, files removed\n"
		"  vacuum  delete data files that the latest version does not reference\n"
		"          (files of crashed or aborted runs, files replaced by an\n"
		"          overwrite) and that are older than the retention; the log is\n"
		"          never touched; without TABLE, every table of the lake\n\n"
		"options:\n"
		"  --project-dir DIR   the project whose sluice.yml names the lake (default .)\n"
		"  --lake URL          the lake itself: a folder or s3://bucket/prefix\n"
		"                      (instead of the project's)\n"
		"  --retain DURATION   vacuum: keep unreferenced files younger than this,\n"
		"                      e.g. 30m, 2h, 7d (default " DEFAULT_RETAIN "). A run that\n"
		"                      is still writing has unreferenced files: --retain 0\n"
		"                      is safe only when no run is in progress\n"
		"  --dry-run           vacuum: count what would be deleted, delete nothing\n"
		"  --help              this text\n");
}

typedef struct {
	const char *project_dir;
	const char *lake_url;
	const char *retain;
	bool dry_run;
	int nargs;
	char **args;
} lake_opts;

/* Parses flags after the subcommand; returns 0, 1 for --help, or 2. */
static int parse_opts(int argc, char **argv, lake_opts *o)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"lake", required_argument, NULL, 'l'},
		{"retain", required_argument, NULL, 'r'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(o, 0, sizeof *o);
	o->project_dir = ".";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->project_dir = optarg; break;
		case 'l': o->lake_url = optarg; break;
		case 'r': o->retain = optarg; break;
		case 'n': o->dry_run = true; break;
		case 'h': usage(stdout); return 1;
		case ':':
			return sl_cli_usage_error("lake", "option '%s' needs a value; see `sluice "
						  "lake --help`", argv[optind - 1]);
		default:
			return sl_cli_usage_error("lake", "unknown option '%s'; see `sluice lake "
						  "--help`", argv[optind - 1]);
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

/* Opens the lake named by --lake, else by the project's sluice.yml. */
static int open_lake(sl_lake **out, const lake_opts *o, sl_error *err)
{
	if (o->lake_url)
		return sl_lake_open(out, o->lake_url, err);
	sl_project *p = NULL;
	int rc = sl_project_load(&p, o->project_dir, err);
	if (rc == 0)
		rc = sl_lake_open(out, p->lake, err);
	sl_project_free(p);
	return rc;
}

static void human_bytes(uint64_t n, char *out, size_t outsz) { sl_format_bytes(n, out, outsz); }

static int cmd_ls(sl_lake *lake)
{
	sl_error err = SL_ERROR_INIT;
	char **names = NULL;
	int n = 0, rc = 0, status = 0;
	if ((rc = sl_lake_list_tables(lake, &names, &n, &err)) < 0)
		return sl_cli_fail(&err);
	if (n == 0) {
		printf("no tables in lake %s\n", sl_lake_url(lake));
		sl_lake_names_free(names, n);
		return 0;
	}
	int w = 5;
	for (int i = 0; i < n; i++)
		if ((int)strlen(names[i]) > w)
			w = (int)strlen(names[i]);
	printf("%-*s  %7s  %6s  %12s  %10s\n", w, "TABLE", "VERSION", "FILES", "ROWS", "SIZE");
	for (int i = 0; i < n; i++) {
		sl_lake_snapshot *s = NULL;
		char size[32];
		if (sl_lake_snapshot_open(&s, lake, names[i], -1, &err) < 0) {
			printf("%-*s  %s\n", w, names[i], err.message);
			status = 1;
			continue;
		}
		human_bytes(s->bytes, size, sizeof size);
		printf("%-*s  %7lld  %6d  %12lld  %10s\n", w, names[i], (long long)s->version,
		       s->nfiles, (long long)s->rows, size);
		sl_lake_snapshot_free(s);
	}
	sl_lake_names_free(names, n);
	return status;
}

static void format_time(int64_t micros, char *out)
{
	/* seconds are enough for a history listing */
	sl_timestamp_format(micros - micros % SL_MICROS_PER_SEC, out);
}

static int cmd_show(sl_lake *lake, const char *table)
{
	sl_error err = SL_ERROR_INIT;
	sl_lake_snapshot *s = NULL;
	sl_lake_history *h = NULL;
	char size[32], tbuf[48];
	if (sl_lake_snapshot_open(&s, lake, table, -1, &err) < 0 ||
	    sl_lake_history_open(&h, lake, table, -1, -1, &err) < 0) {
		sl_lake_snapshot_free(s);
		return sl_cli_fail(&err);
	}
	human_bytes(s->bytes, size, sizeof size);
	printf("table %s in %s\n", table, sl_lake_url(lake));
	printf("version %lld: %d %s, %lld %s, %s\n\n", (long long)s->version, s->nfiles,
	       s->nfiles == 1 ? "file" : "files", (long long)s->rows,
	       s->rows == 1 ? "row" : "rows", size);

	int w = 6;
	for (int i = 0; i < s->schema->nfields; i++)
		if ((int)strlen(s->schema->fields[i].name) > w)
			w = (int)strlen(s->schema->fields[i].name);
	printf("schema:\n  %-*s  %-14s  %s\n", w, "COLUMN", "TYPE", "NULLABLE");
	for (int i = 0; i < s->schema->nfields; i++) {
		const sl_field *f = &s->schema->fields[i];
		printf("  %-*s  %-14s  %s\n", w, f->name, sl_type_name(f->type, tbuf, sizeof tbuf),
		       f->nullable ? "yes" : "no");
	}

	int ow = 9, rw = 6;
	for (int i = 0; i < h->n; i++) {
		const sl_lake_commit *c = &h->commits[i];
		if ((int)strlen(c->operation) > ow)
			ow = (int)strlen(c->operation);
		if (c->run_id && (int)strlen(c->run_id) > rw)
			rw = (int)strlen(c->run_id);
	}
	printf("\nhistory:\n  %7s  %-19s  %-*s  %-*s  %6s  %12s  %10s  %7s\n", "VERSION", "TIME", ow,
	       "OPERATION", rw, "RUN ID", "+FILES", "+ROWS", "BYTES", "REMOVED");
	for (int i = 0; i < h->n; i++) {
		const sl_lake_commit *c = &h->commits[i];
		char when[48];
		format_time(c->timestamp_micros, when);
		human_bytes(c->bytes_added, size, sizeof size);
		printf("  %7lld  %-19s  %-*s  %-*s  %6d  %12lld  %10s  %7d%s\n", (long long)c->version,
		       when, ow, c->operation, rw, c->run_id ? c->run_id : "-", c->nadded,
		       (long long)c->rows_added, size, c->nremoved,
		       c->schema_changed && c->version > 0 ? "  (schema changed)" : "");
	}
	sl_lake_history_free(h);
	sl_lake_snapshot_free(s);
	return 0;
}

static int cmd_vacuum(sl_lake *lake, const lake_opts *o)
{
	sl_error err = SL_ERROR_INIT;
	int64_t retain;
	const char *rs = o->retain ? o->retain : DEFAULT_RETAIN;
	if (strcmp(rs, "0") == 0)
		retain = 0;
	else if (sl_duration_parse(rs, &retain) < 0) {
		return sl_cli_usage_error("lake vacuum", "invalid --retain '%s'; use a duration "
					  "like 0, 30m, 2h or 7d (see `sluice lake --help`)", rs);
	}
	char **names = NULL;
	int n = 0, status = 0;
	if (o->nargs == 1) {
		names = sl_calloc(1, sizeof *names);
		if (!names || !(names[0] = sl_strdup(o->args[0]))) {
			sl_free(names);
			sl_error_set(&err, SL_ENOMEM, "out of memory");
			return sl_cli_fail(&err);
		}
		n = 1;
	} else if (sl_lake_list_tables(lake, &names, &n, &err) < 0) {
		return sl_cli_fail(&err);
	}
	int total = 0;
	uint64_t total_bytes = 0;
	char size[32];
	for (int i = 0; i < n; i++) {
		sl_lake_vacuum_result r;
		if (sl_lake_vacuum(lake, names[i], retain, o->dry_run, &r, &err) < 0) {
			status = sl_cli_fail(&err);
			continue;
		}
		human_bytes(r.bytes_removed, size, sizeof size);
		printf("%s: %s %d %s (%s)\n", names[i], o->dry_run ? "would remove" : "removed",
		       r.files_removed, r.files_removed == 1 ? "file" : "files", size);
		total += r.files_removed;
		total_bytes += r.bytes_removed;
	}
	if (n > 1) {
		human_bytes(total_bytes, size, sizeof size);
		printf("total: %s %d %s (%s)\n", o->dry_run ? "would remove" : "removed", total,
		       total == 1 ? "file" : "files", size);
	}
	sl_lake_names_free(names, n);
	return status;
}

int sl_cmd_lake(int argc, char **argv)
{
	lake_opts o;
	sl_error err = SL_ERROR_INIT;
	sl_lake *lake = NULL;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return 0;
	}
	bool is_ls = !strcmp(sub, "ls"), is_show = !strcmp(sub, "show"),
	     is_vacuum = !strcmp(sub, "vacuum");
	if (!is_ls && !is_show && !is_vacuum) {
		return sl_cli_usage_error("lake", "unknown subcommand '%s'; use ls, show or vacuum "
					  "(see `sluice lake --help`)", sub);
	}
	int rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (o.lake_url && strcmp(o.project_dir, ".") != 0) {
		return sl_cli_usage_error("lake", "give --project-dir or --lake, not both (see "
					  "`sluice lake --help`)");
	}
	if (!is_vacuum && o.retain) {
		return sl_cli_usage_error("lake", "%s: --retain is an option of vacuum (see "
					  "`sluice lake --help`)", sub);
	}
	if (!is_vacuum && o.dry_run) {
		return sl_cli_usage_error("lake", "%s: --dry-run is an option of vacuum (see "
					  "`sluice lake --help`)", sub);
	}
	if ((is_ls && o.nargs != 0) || (is_show && o.nargs != 1) || (is_vacuum && o.nargs > 1)) {
		return sl_cli_usage_error("lake", "%s: %s; see `sluice lake --help`", sub,
					  is_show ? "give exactly one TABLE"
						  : is_ls ? "takes no arguments" : "give at most one TABLE");
	}
	if (open_lake(&lake, &o, &err) < 0)
		return sl_cli_fail(&err);
	if (is_ls)
		rc = cmd_ls(lake);
	else if (is_show)
		rc = cmd_show(lake, o.args[0]);
	else
		rc = cmd_vacuum(lake, &o);
	sl_lake_close(lake);
	return rc;
}
