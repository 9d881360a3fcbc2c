/*
 * cmd_sql.c: `sluice sql "select ..."` — one query on the selected target
 * with its schemas attached as loads and models see them (SQLite: the raw
 * database attached as "raw"; PostgreSQL: search_path = schema, raw), its
 * rows printed as an aligned table, CSV or JSON.
 */
#include "cli/cli_int.h"
#include "engine/engine.h"
#include "project/project.h"
#include "warehouse/warehouse.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TABLE_LIMIT 100
/* Widest cell of the table format, in terminal columns; longer values end
 * in "…" (the csv and json formats print every value whole). */
#define MAX_CELL_WIDTH 200

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } out_format;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice sql [options] \"SELECT ...\"\n\n"
		"Runs one query on the warehouse of the selected target and prints its rows.\n"
		"The raw tables are in the schema \"raw\" (\"raw\".\"<source>__<table>\"): on\n"
		"SQLite that is the file next to the warehouse, warehouse.raw.db, attached as\n"
		"raw; on PostgreSQL the search path is the target's schema, then raw, so\n"
		"unqualified names find models first, then raw tables. A query of - is\n"
		"read from standard input.\n\n"
		"options:\n"
		"  --project-dir DIR   the project folder (default: .): sluice.yml, else\n"
		"                      dbt_project.yml\n"
		"  --target NAME       warehouse target from sluice.yml (default: its `target`)\n"
		"                      or profile output of a dbt project\n"
		"  --profiles-dir DIR  where profiles.yml is (dbt projects)\n"
		"  --format FORMAT     table (default): aligned columns, NULL shown as NULL;\n"
		"                      csv: a header line, then RFC 4180 rows (NULL is an empty\n"
		"                      field, an empty string is \"\");\n"
		"                      json: an array of objects, one per row, values as\n"
		"                      strings or null\n"
		"  --limit N           print at most N rows, and say so when there were more\n"
		"                      (default %d for table, none for csv and json; 0: none)\n"
		"  --help              this text\n\n"
		"Exit status: 0 success, 1 the query failed (the database's message is\n"
		"printed), 2 usage or configuration error.\n",
		DEFAULT_TABLE_LIMIT);
}

/* ----------------------------------------------------------- text width */

/* Display columns of code point c: 0 for combining marks, 2 for wide. */
static int cp_width(uint32_t c)
{
	if ((c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
	    (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
	    (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200D)
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

/* Decodes one UTF-8 sequence at s (n bytes left); 0 when invalid. */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	int len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
		  : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (len == 0 || (size_t)len > n)
		return 0;
	uint32_t c = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/*
 * Appends v as one table cell to out: control characters escaped (\n, \t,
 * \xNN), invalid UTF-8 bytes as \xNN, cut with "…" past MAX_CELL_WIDTH.
 * Returns the display width, or -1 when out of memory.
 */
static int cell_text(sl_buf *out, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v);
	int w = 0;
	while (n > 0) {
		uint32_t c = 0;
		int len = utf8_next(s, n, &c);
		char esc[8];
		const char *piece = (const char *)s;
		size_t plen = (size_t)len;
		int pw;
		if (len == 0 || c < 0x20 || c == 0x7F) {
			if (len == 1 && c == '\n')
				snprintf(esc, sizeof esc, "\\n");
			else if (len == 1 && c == '\t')
				snprintf(esc, sizeof esc, "\\t");
			else if (len == 1 && c == '\r')
				snprintf(esc, sizeof esc, "\\r");
			else
				snprintf(esc, sizeof esc, "\\x%02x", s[0]);
			piece = esc;
			plen = strlen(esc);
			pw = (int)plen;
			len = 1;
		} else {
			pw = cp_width(c);
		}
		if (w + pw > MAX_CELL_WIDTH - 1) {
			if (sl_buf_puts(out, "\xe2\x80\xa6") < 0)
				return -1;
			return w + 1;
		}
		if (sl_buf_append(out, piece, plen) < 0)
			return -1;
		w += pw;
		s += len;
		n -= (size_t)len;
	}
	return w;
}

/* Whether v reads as a number (right-aligned in the table format). */
static bool numeric(const char *v)
{
	const char *p = v + (*v == '-' || *v == '+');
	bool digits = false, dot = false, exp = false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			digits = true;
		} else if (*p == '.' && !dot && !exp) {
			dot = true;
		} else if ((*p == 'e' || *p == 'E') && digits && !exp) {
			exp = true;
			if (p[1] == '-' || p[1] == '+')
				p++;
		} else {
			return false;
		}
	}
	return digits;
}

/* ------------------------------------------------------------- collector */

typedef struct {
	out_format format;
	int64_t limit;    /* 0: none */
	int64_t rows;     /* rows printed or kept */
	bool cut;         /* more rows than limit */
	const char **keys; /* JSON object keys, unique */
	int ncols;        /* columns of the first row, -1 before it */
	/* table: every cell kept to measure the columns */
	sl_arena arena;
	char **cells;     /* rows * ncols display texts (NULL for SQL NULL) */
	int64_t cap;
	char **names;
	int *width;
	bool *num;        /* every non-NULL value numeric */
	sl_buf line;      /* the line being built */
	bool oom;         /* building it ran out of memory */
} sql_out;

static void put(sql_out *o, const char *s)
{
	if (sl_buf_puts(&o->line, s) < 0)
		o->oom = true;
}

static void putch(sql_out *o, char c)
{
	if (sl_buf_putc(&o->line, c) < 0)
		o->oom = true;
}

static void put_json(sql_out *o, const char *s)
{
	if (sl_buf_put_json_string(&o->line, s, strlen(s)) < 0)
		o->oom = true;
}

static void csv_field(sql_out *o, const char *v)
{
	if (!v)
		return;
	bool quote = !*v || strpbrk(v, ",\"\r\n") || v[0] == ' ' || v[strlen(v) - 1] == ' ';
	if (!quote) {
		put(o, v);
		return;
	}
	putch(o, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			putch(o, '"');
		putch(o, *p);
	}
	putch(o, '"');
}

/* Writes the line buffer to stdout; SL_ENOMEM when building it failed. */
static int flush_line(sql_out *o, sl_error *err)
{
	if (o->oom) {
		sl_buf_reset(&o->line);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	size_t n = o->line.len;
	bool ok = n == 0 || fwrite(o->line.data, 1, n, stdout) == n;
	sl_buf_reset(&o->line);
	/* A full disk or a closed pipe stops the query. */
	return ok ? 0 : sl_error_set(err, SL_EIO, "cannot write the rows: %s", strerror(errno));
}

/* Whether name is one of names[0..n). */
static bool name_taken(const char *name, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * JSON object keys for the result columns: a name that repeats (a join's
 * two "id" columns) becomes name_K with the smallest K no column holds, so
 * no value is hidden behind a repeated key.
 */
static int json_keys(sql_out *o, int ncols, const char *const *names, sl_error *err)
{
	const char **keys = sl_arena_alloc(&o->arena, sizeof *keys * (size_t)(ncols ? ncols : 1));
	if (!keys)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	/* names are borrowed for this row only: the keys are copies. */
	for (int i = 0; i < ncols; i++) {
		const char *key = names[i];
		for (int k = 1; name_taken(key, keys, i); k++) {
			key = sl_arena_sprintf(&o->arena, "%s_%d", names[i], k);
			if (!key)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			if (name_taken(key, names + i + 1, ncols - i - 1))
				key = names[i]; /* taken by a later column: next K */
		}
		if (!(keys[i] = key == names[i] ? sl_arena_strdup(&o->arena, key) : key))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	o->keys = keys;
	return 0;
}

static int first_row(sql_out *o, int ncols, const char *const *names, sl_error *err)
{
	o->ncols = ncols;
	if (o->format == FMT_CSV) {
		for (int i = 0; i < ncols; i++) {
			if (i)
				putch(o, ',');
			csv_field(o, names[i]);
		}
		putch(o, '\n');
		return flush_line(o, err);
	}
	if (o->format == FMT_JSON)
		return json_keys(o, ncols, names, err);
	o->names = sl_arena_alloc(&o->arena, sizeof *o->names * (size_t)ncols);
	o->width = sl_arena_alloc(&o->arena, sizeof *o->width * (size_t)ncols);
	o->num = sl_arena_alloc(&o->arena, sizeof *o->num * (size_t)ncols);
	if (!o->names || !o->width || !o->num)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < ncols; i++) {
		sl_buf b = SL_BUF_INIT;
		int w = cell_text(&b, names[i]);
		o->names[i] = w < 0 ? NULL : sl_arena_strndup(&o->arena, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		if (!o->names[i])
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		o->width[i] = w;
		o->num[i] = true;
	}
	return 0;
}

static int on_row(void *ud, int ncols, const char *const *names, const char *const *values,
		  sl_error *err)
{
	sql_out *o = ud;
	int rc;
	if (o->ncols < 0 && (rc = first_row(o, ncols, names, err)) < 0)
		return rc;
	if (o->limit > 0 && o->rows >= o->limit) {
		o->cut = true;
		return 1;
	}
	o->rows++;
	if (o->format == FMT_CSV) {
		for (int i = 0; i < ncols; i++) {
			if (i)
				putch(o, ',');
			csv_field(o, values[i]);
		}
		putch(o, '\n');
		return flush_line(o, err);
	}
	if (o->format == FMT_JSON) {
		put(o, o->rows == 1 ? "[\n{" : ",\n{");
		for (int i = 0; i < ncols; i++) {
			if (i)
				putch(o, ',');
			put_json(o, o->keys[i]);
			putch(o, ':');
			if (values[i])
				put_json(o, values[i]);
			else
				put(o, "null");
		}
		putch(o, '}');
		return flush_line(o, err);
	}
	if (o->rows > o->cap) {
		int64_t ncap = o->cap ? o->cap * 2 : 64;
		char **nc = sl_realloc(o->cells, sizeof *nc * (size_t)(ncap * ncols));
		if (!nc)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		o->cells = nc;
		o->cap = ncap;
	}
	char **row = o->cells + (o->rows - 1) * ncols;
	for (int i = 0; i < ncols; i++) {
		row[i] = NULL;
		if (!values[i]) {
			if (o->width[i] < 4)
				o->width[i] = 4;
			continue;
		}
		sl_buf b = SL_BUF_INIT;
		int w = cell_text(&b, values[i]);
		row[i] = w < 0 ? NULL : sl_arena_strndup(&o->arena, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		if (!row[i])
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (w > o->width[i])
			o->width[i] = w;
		o->num[i] = o->num[i] && numeric(values[i]);
	}
	return 0;
}

/* Display width of a cell text made by cell_text. */
static int text_width(const char *s)
{
	int w = 0;
	size_t n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		uint32_t c = 0;
		int len = utf8_next(p, n, &c);
		if (len == 0)
			len = 1;
		else
			w += cp_width(c);
		p += len;
		n -= (size_t)len;
	}
	return w;
}

static void put_cell(sql_out *o, const char *text, int width, bool right)
{
	int pad = width - text_width(text);
	if (right)
		for (int k = 0; k < pad; k++)
			putch(o, ' ');
	put(o, text);
	if (!right)
		for (int k = 0; k < pad; k++)
			putch(o, ' ');
}

static int print_table(sql_out *o, sl_error *err)
{
	int rc = 0;
	for (int i = 0; i < o->ncols; i++) {
		put(o, i ? " | " : " ");
		put_cell(o, o->names[i], o->width[i], false);
	}
	putch(o, '\n');
	for (int i = 0; i < o->ncols; i++) {
		put(o, i ? "-+-" : "-");
		for (int k = 0; k < o->width[i]; k++)
			putch(o, '-');
	}
	put(o, "-\n");
	if ((rc = flush_line(o, err)) < 0)
		return rc;
	for (int64_t r = 0; r < o->rows; r++) {
		char **row = o->cells + r * o->ncols;
		for (int i = 0; i < o->ncols; i++) {
			put(o, i ? " | " : " ");
			put_cell(o, row[i] ? row[i] : "NULL", o->width[i],
				 row[i] ? o->num[i] : false);
		}
		putch(o, '\n');
		if ((rc = flush_line(o, err)) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------- command */

static int read_stdin(sl_buf *b, sl_error *err)
{
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (sl_buf_append(b, chunk, n) < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory reading the query");
	if (sl_buf_putc(b, '\0') < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory reading the query");
	return 0;
}

/* Opens the target's warehouse; SQLite must exist (a query creates nothing). */
static int open_target(sl_wh **wh, const sl_target *t, sl_error *err)
{
	sl_wh_config c;
	sl_engine_wh_config(t, &c);
	c.must_exist = true;
	int rc = sl_wh_open(wh, &c, err);
	if (rc == 0)
		rc = sl_wh_search_schemas(*wh, err);
	if (rc < 0)
		sl_error_prefix(err, "target %s: ", t->name);
	return rc;
}

int sl_cmd_sql(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project-dir", required_argument, NULL, 'p'},
		{"target", required_argument, NULL, 't'},
		{"profiles-dir", required_argument, NULL, 'P'},
		{"format", required_argument, NULL, 'f'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *target = NULL, *limit_arg = NULL, *profiles_dir = NULL;
	out_format format = FMT_TABLE;
	sl_error err = SL_ERROR_INIT;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 't': target = optarg; break;
		case 'P': profiles_dir = optarg; break;
		case 'n': limit_arg = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				format = FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				format = FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				format = FMT_JSON;
			else
				return sl_cli_usage_error("sql", "unknown format '%s'; use table, "
							  "csv or json", optarg);
			break;
		case 'h': usage(stdout); return 0;
		case ':':
			return sl_cli_usage_error("sql", "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return sl_cli_usage_error("sql", "unknown option '%s'; see `sluice sql "
						  "--help`", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return sl_cli_usage_error("sql", optind >= argc
							 ? "give one query, e.g. sluice sql \"select 1\""
							 : "give the query as one argument (quote it)");
	int64_t limit = format == FMT_TABLE ? DEFAULT_TABLE_LIMIT : 0;
	if (limit_arg && (sl_parse_int64(limit_arg, strlen(limit_arg), &limit) < 0 || limit < 0))
		return sl_cli_usage_error("sql", "--limit must be a number of rows >= 0, not '%s'",
					  limit_arg);

	sl_buf query = SL_BUF_INIT;
	const char *sql = argv[optind];
	if (strcmp(sql, "-") == 0) {
		if (read_stdin(&query, &err) < 0)
			return sl_cli_fail(&err);
		sql = query.data;
	}
	if (!*sql || strspn(sql, " \t\r\n;") == strlen(sql)) {
		sl_buf_free(&query);
		return sl_cli_usage_error("sql", "the query is empty");
	}

	sl_project *p = NULL;
	sl_wh *wh = NULL;
	sql_out o = {.format = format, .limit = limit, .ncols = -1};
	sl_arena_init(&o.arena, 64 * 1024);
	int rc = sl_project_open(&p, dir, profiles_dir, target, &err);
	if (rc == 0)
		rc = open_target(&wh, sl_project_target(p, p->target), &err);
	if (rc == 0)
		rc = sl_wh_query_one(wh, sql, on_row, &o, &err);
	if (rc == 0 && format == FMT_TABLE && o.ncols >= 0)
		rc = print_table(&o, &err);
	if (rc == 0) {
		if (format == FMT_JSON)
			fputs(o.rows ? "\n]\n" : "[]\n", stdout);
		if (format == FMT_TABLE && o.cut)
			printf("(first %lld %s; more were cut off by --limit %lld, --limit 0 "
			       "prints all)\n", (long long)o.rows, o.rows == 1 ? "row" : "rows",
			       (long long)limit);
		else if (format == FMT_TABLE)
			printf("(%lld %s)\n", (long long)o.rows, o.rows == 1 ? "row" : "rows");
		else if (o.cut)
			fprintf(stderr, "sluice sql: printed the first %lld %s; more were cut off "
				"by --limit %lld, --limit 0 prints all\n", (long long)o.rows,
				o.rows == 1 ? "row" : "rows", (long long)limit);
	}
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0)
		rc = sl_error_set(&err, SL_EIO, "cannot write the rows: %s", strerror(errno));
	sl_wh_close(wh);
	sl_project_free(p);
	sl_buf_free(&query);
	sl_free(o.cells);
	sl_buf_free(&o.line);
	sl_arena_free(&o.arena);
	return rc < 0 ? sl_cli_fail(&err) : 0;
}
