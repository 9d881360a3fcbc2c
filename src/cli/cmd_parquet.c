/*
 * cmd_parquet.c: `sluice parquet schema|cat|convert` — inspect a Parquet
 * file's schema, print its rows as CSV or JSON lines, and convert between
 * CSV and Parquet (bad CSV rows go to OUT.rejected.csv, never dropped).
 */
#include "cli/cli_int.h"
#include "formats/csv/csv.h"
#include "formats/parquet/parquet.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INFER_SAMPLE_ROWS 100000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice parquet schema  FILE\n"
		"       sluice parquet cat     FILE [--limit N] [--format csv|json] [--columns A,B]\n"
		"       sluice parquet convert IN OUT [--compression CODEC] [--delimiter C]\n"
		"                                     [--no-header] [--format parquet|csv]\n\n"
		"  schema   each column's name, Parquet physical and logical type,\n"
		"           repetition and sluice type; rows, row groups, writer, codec\n"
		"  cat      print rows as CSV with a header (default) or JSON lines\n"
		"  convert  CSV to Parquet, Parquet to CSV, or Parquet to Parquet\n\n"
		"FILE and IN may be local paths or s3://bucket/key URLs.\n"
		"`sluice parquet SUBCOMMAND --help` documents each subcommand's flags.\n");
}

static void usage_schema(FILE *f)
{
	fprintf(f,
		"usage: sluice parquet schema FILE\n\n"
		"Prints the file's row count, row groups, the writer that created it\n"
		"(created_by), the compression codecs used, and per column: name,\n"
		"physical type, logical type, repetition (REQUIRED/OPTIONAL) and the\n"
		"sluice type it is read as.\n\n"
		"options:\n"
		"  --help   this text\n");
}

static void usage_cat(FILE *f)
{
	fprintf(f,
		"usage: sluice parquet cat FILE [--limit N] [--format csv|json] [--columns A,B]\n\n"
		"Prints the file's rows to standard output.\n\n"
		"options:\n"
		"  --limit N           print at most N rows (default: all)\n"
		"  --format FORMAT     csv (default): RFC 4180 with a header line, NULL as an\n"
		"                      empty field; json: one object per line, numbers and\n"
		"                      decimals unquoted (exact digits), dates and timestamps\n"
		"                      as ISO-8601 strings, NULL as null\n"
		"  --columns A,B       print only these columns, in this order\n"
		"  --help              this text\n");
}

static void usage_convert(FILE *f)
{
	fprintf(f,
		"usage: sluice parquet convert IN OUT [--compression CODEC] [--delimiter C]\n"
		"                                     [--no-header] [--format parquet|csv]\n\n"
		"CSV to Parquet when IN is CSV (.csv, .csv.gz, .csv.zst, .tsv, or any file\n"
		"without the Parquet magic): column types are inferred from the data; rows\n"
		"that do not parse are written to OUT.rejected.csv (columns line, reason,\n"
		"raw) instead of being dropped. Parquet to CSV when IN is Parquet and OUT\n"
		"ends in .csv or .tsv; Parquet to Parquet (recompression) when OUT ends in\n"
		".parquet. Any other OUT name needs --format to say what to write.\n"
		"OUT appears only when the conversion succeeds.\n\n"
		"options:\n"
		"  --compression CODEC  Parquet output codec: zstd (default), snappy, gzip,\n"
		"                       none\n"
		"  --delimiter C        CSV field delimiter (default ',', or tab for .tsv);\n"
		"                       \\t means tab\n"
		"  --no-header          the CSV input has no header line (columns are named\n"
		"                       column1, column2, ...), or the CSV output gets none\n"
		"  --format FORMAT      write OUT as parquet or csv whatever its name ends in\n"
		"  --help               this text\n");
}

/* ------------------------------------------------------------ inputs */

/*
 * Opens a local path or an s3:// URL as an sl_input. For S3 the store stays
 * open in *store until the caller has closed the input.
 */
static int open_input(const char *path, sl_input **out, sl_store **store, sl_error *err)
{
	*store = NULL;
	if (!sl_str_starts_with(path, "s3://"))
		return sl_input_file_open(out, path, err);
	const char *slash = strrchr(path + 5, '/');
	if (!slash || !slash[1])
		return sl_error_set(err, SL_EUSAGE, "'%s' does not name an object: use "
				    "s3://bucket/key", path);
	char root[1024];
	snprintf(root, sizeof root, "%.*s", (int)(slash - path), path);
	int rc = sl_store_open(store, root, err);
	if (rc == 0)
		rc = sl_store_open_input(*store, slash + 1, out, err);
	if (rc < 0) {
		sl_store_free(*store);
		*store = NULL;
	}
	return rc;
}

static int open_parquet(const char *path, sl_parquet_reader **out, sl_store **store,
			sl_error *err)
{
	sl_input *in;
	int rc = open_input(path, &in, store, err);
	if (rc == 0)
		rc = sl_parquet_reader_open(out, in, err);
	if (rc < 0) {
		sl_store_free(*store);
		*store = NULL;
	}
	return rc;
}

static void close_parquet(sl_parquet_reader *r, sl_store *store)
{
	sl_parquet_reader_close(r);
	sl_store_free(store);
}

/* ------------------------------------------------------------ stdout sink */

static int stdout_write(sl_output *o, const void *p, size_t n, sl_error *err)
{
	if (n && fwrite(p, 1, n, stdout) != n)
		return sl_error_set(err, SL_EIO, "cannot write to standard output");
	return 0;
}

static int stdout_close(sl_output *o, sl_error *err)
{
	if (fflush(stdout) != 0)
		return sl_error_set(err, SL_EIO, "cannot write to standard output");
	return 0;
}

static void stdout_abort(sl_output *o) { fflush(stdout); }

static sl_output stdout_sink = {stdout_write, stdout_close, stdout_abort, 0};

/* ------------------------------------------------------------ options */

typedef struct {
	int64_t limit;
	const char *format;
	const char *columns;
	const char *compression;
	char delimiter;
	bool no_header;
	int nargs;
	char **args;
} pq_opts;

/* Parses flags; returns 0, 1 after --help, or 2 on a usage error. */
static int parse_opts(int argc, char **argv, pq_opts *o, const char *sub,
		      void (*help)(FILE *), const char *allowed)
{
	static const struct option longopts[] = {
		{"limit", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 'f'},
		{"columns", required_argument, NULL, 'c'},
		{"compression", required_argument, NULL, 'z'},
		{"delimiter", required_argument, NULL, 'd'},
		{"no-header", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(o, 0, sizeof *o);
	o->limit = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'h') {
			help(stdout);
			return 1;
		}
		if (c == ':') {
			fprintf(stderr, "sluice parquet %s: option '%s' needs a value\n", sub,
				argv[optind - 1]);
			return 2;
		}
		if (c == '?' || !strchr(allowed, c)) {
			fprintf(stderr, "sluice parquet %s: unknown option '%s'; see sluice parquet "
				"%s --help\n", sub, argv[optind - 1], sub);
			return 2;
		}
		switch (c) {
		case 'l': {
			int64_t v;
			if (sl_parse_int64(optarg, strlen(optarg), &v) < 0 || v < 0) {
				fprintf(stderr, "sluice parquet %s: --limit needs a number >= 0, not "
					"'%s'\n", sub, optarg);
				return 2;
			}
			o->limit = v;
			break;
		}
		case 'f': o->format = optarg; break;
		case 'c': o->columns = optarg; break;
		case 'z': o->compression = optarg; break;
		case 'd':
			if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0) {
				o->delimiter = '\t';
			} else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' &&
				   optarg[0] != '\r') {
				o->delimiter = optarg[0];
			} else {
				fprintf(stderr, "sluice parquet %s: --delimiter needs one character "
					"(or \\t), not '%s'\n", sub, optarg);
				return 2;
			}
			break;
		case 'H': o->no_header = true; break;
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

/* ------------------------------------------------------------ schema */

static const char *codec_text(sl_codec c)
{
	switch ((int)c) {
	case 0: return "UNCOMPRESSED";
	case 1: return "SNAPPY";
	case 2: return "GZIP";
	case 3: return "LZO";
	case 4: return "BROTLI";
	case 5: return "LZ4";
	case 6: return "ZSTD";
	case 7: return "LZ4_RAW";
	default: return "UNKNOWN";
	}
}

static int cmd_schema(int argc, char **argv)
{
	pq_opts o;
	sl_error err = SL_ERROR_INIT;
	sl_parquet_reader *r = NULL;
	sl_store *store = NULL;
	int rc = parse_opts(argc, argv, &o, "schema", usage_schema, "");
	if (rc)
		return rc == 1 ? 0 : 2;
	if (o.nargs != 1) {
		fprintf(stderr, "sluice parquet schema: expected one FILE; see sluice parquet "
			"schema --help\n");
		return 2;
	}
	if (open_parquet(o.args[0], &r, &store, &err) < 0)
		return sl_cli_fail(&err);

	const sl_schema *s = sl_parquet_reader_schema(r);
	int nrg = sl_parquet_reader_num_row_groups(r);
	bool seen[8] = {false};
	char codecs[128] = "";
	for (int g = 0; g < nrg; g++)
		for (int i = 0; i < s->nfields; i++) {
			int c = (int)sl_parquet_reader_column_codec(r, g, i);
			int k = c >= 0 && c < 8 ? c : 7;
			if (seen[k])
				continue;
			seen[k] = true;
			size_t n = strlen(codecs);
			snprintf(codecs + n, sizeof codecs - n, "%s%s", n ? ", " : "",
				 codec_text((sl_codec)c));
		}
	printf("file:        %s\n", o.args[0]);
	printf("rows:        %lld\n", (long long)sl_parquet_reader_num_rows(r));
	printf("row groups:  %d\n", nrg);
	printf("created by:  %s\n", sl_parquet_reader_created_by(r));
	printf("codec:       %s\n", *codecs ? codecs : "-");
	printf("columns:     %d\n\n", s->nfields);

	int w[4] = {6, 8, 7, 10};
	for (int i = 0; i < s->nfields; i++) {
		const sl_parquet_column_info *ci = sl_parquet_reader_column_info(r, i);
		int l0 = (int)strlen(ci->name), l1 = (int)strlen(ci->physical);
		int l2 = (int)strlen(ci->logical), l3 = (int)strlen(ci->repetition);
		w[0] = l0 > w[0] ? l0 : w[0];
		w[1] = l1 > w[1] ? l1 : w[1];
		w[2] = l2 > w[2] ? l2 : w[2];
		w[3] = l3 > w[3] ? l3 : w[3];
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], "column", w[1], "physical", w[2], "logical",
	       w[3], "repetition", "sluice type");
	for (int i = 0; i < s->nfields; i++) {
		const sl_parquet_column_info *ci = sl_parquet_reader_column_info(r, i);
		char tn[64];
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], ci->name, w[1], ci->physical, w[2],
		       *ci->logical ? ci->logical : "-", w[3], ci->repetition,
		       sl_type_name(ci->type, tn, sizeof tn));
	}
	close_parquet(r, store);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ cat */

/* Appends row i of b as one JSON object line. */
static int json_row(sl_buf *out, const sl_batch *b, int64_t i)
{
	char tmp[64];
	int rc = sl_buf_putc(out, '{');
	for (int c = 0; c < b->ncols && rc == 0; c++) {
		const sl_column *col = &b->cols[c];
		if (c)
			rc = sl_buf_putc(out, ',');
		const char *name = b->schema->fields[c].name;
		if (rc == 0)
			rc = sl_buf_put_json_string(out, name, strlen(name));
		if (rc == 0)
			rc = sl_buf_putc(out, ':');
		if (rc < 0)
			break;
		if (sl_column_is_null(col, i)) {
			rc = sl_buf_puts(out, "null");
			continue;
		}
		switch (col->type.id) {
		case SL_STRING: {
			size_t n;
			const char *s = sl_column_str(col, i, &n);
			rc = sl_buf_put_json_string(out, s, n);
			break;
		}
		case SL_DATE:
			sl_date_format(col->v.i32[i], tmp);
			rc = sl_buf_printf(out, "\"%s\"", tmp);
			break;
		case SL_TIMESTAMP:
			sl_timestamp_format_iso(col->v.i64[i], tmp);
			rc = sl_buf_printf(out, "\"%s\"", tmp);
			break;
		case SL_FLOAT64: {
			double d = col->v.f64[i];
			if (d != d || d - d != 0) { /* NaN or infinity: not JSON numbers */
				rc = sl_buf_printf(out, "\"%s\"", d != d ? "NaN" : d > 0 ? "Infinity"
										: "-Infinity");
				break;
			}
			rc = sl_column_format_value(col, i, out);
			break;
		}
		default:
			rc = sl_column_format_value(col, i, out);
		}
	}
	if (rc == 0)
		rc = sl_buf_append(out, "}\n", 2);
	return rc;
}

/* Splits "a,b,c" into an sl_malloc'd array of pointers into s (modified). */
static char **split_columns(char *s, int *n)
{
	int count = 1;
	for (char *p = s; *p; p++)
		count += *p == ',';
	char **v = sl_calloc((size_t)count, sizeof *v);
	if (!v)
		return NULL;
	*n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		v[(*n)++] = tok;
	return v;
}

static int cmd_cat(int argc, char **argv)
{
	pq_opts o;
	sl_error err = SL_ERROR_INIT;
	sl_parquet_reader *r = NULL;
	sl_store *store = NULL;
	sl_csv_writer *cw = NULL;
	sl_batch *b = NULL;
	sl_buf out = SL_BUF_INIT;
	char *cols_copy = NULL;
	char **cols = NULL;
	int ncols = 0, status = 0;

	int rc = parse_opts(argc, argv, &o, "cat", usage_cat, "lfc");
	if (rc)
		return rc == 1 ? 0 : 2;
	if (o.nargs != 1) {
		fprintf(stderr, "sluice parquet cat: expected one FILE; see sluice parquet cat "
			"--help\n");
		return 2;
	}
	bool json = false;
	if (o.format && strcmp(o.format, "json") == 0) {
		json = true;
	} else if (o.format && strcmp(o.format, "csv") != 0) {
		fprintf(stderr, "sluice parquet cat: unknown format '%s'; use csv or json\n",
			o.format);
		return 2;
	}
	if (o.columns) {
		cols_copy = sl_strdup(o.columns);
		cols = cols_copy ? split_columns(cols_copy, &ncols) : NULL;
		if (!cols) {
			sl_error_set(&err, SL_ENOMEM, "out of memory");
			goto fail;
		}
		if (ncols == 0) {
			fprintf(stderr, "sluice parquet cat: --columns needs column names\n");
			status = 2;
			goto done;
		}
	}
	if (open_parquet(o.args[0], &r, &store, &err) < 0)
		goto fail;
	if (cols && sl_parquet_reader_project(r, (const char *const *)cols, ncols, &err) < 0) {
		status = sl_cli_fail(&err);
		if (err.code == SL_ENOTFOUND || err.code == SL_EINVAL)
			status = 2;
		goto done;
	}
	if (!json) {
		const sl_schema *full = sl_parquet_reader_schema(r);
		sl_schema *proj = NULL;
		if (cols) {
			proj = sl_schema_new();
			for (int i = 0; proj && i < ncols; i++) {
				const sl_field *f = &full->fields[sl_schema_find(full, cols[i])];
				if (sl_schema_add(proj, f->name, f->type, f->nullable) < 0) {
					sl_schema_free(proj);
					proj = NULL;
				}
			}
			if (!proj) {
				sl_error_set(&err, SL_ENOMEM, "out of memory");
				goto fail;
			}
		}
		rc = sl_csv_writer_open(&cw, &stdout_sink, proj ? proj : full, NULL, &err);
		sl_schema_free(proj);
		if (rc < 0)
			goto fail;
	}
	int64_t left = o.limit;
	while (left != 0) {
		int64_t want = left > 0 && left < SL_BATCH_DEFAULT_ROWS ? left : SL_BATCH_DEFAULT_ROWS;
		rc = sl_parquet_reader_next(r, &b, want, &err);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			break;
		if (json) {
			sl_buf_reset(&out);
			for (int64_t i = 0; i < b->nrows; i++)
				if (json_row(&out, b, i) < 0) {
					sl_error_set(&err, SL_ENOMEM, "out of memory");
					goto fail;
				}
			if (stdout_write(&stdout_sink, out.data, out.len, &err) < 0)
				goto fail;
		} else if (sl_csv_writer_write(cw, b, &err) < 0) {
			goto fail;
		}
		if (left > 0)
			left -= b->nrows;
		sl_batch_free(b);
		b = NULL;
	}
	if (stdout_close(&stdout_sink, &err) < 0)
		goto fail;
	goto done;
fail:
	status = sl_cli_fail(&err);
done:
	sl_batch_free(b);
	sl_csv_writer_free(cw);
	close_parquet(r, store);
	sl_buf_free(&out);
	sl_free(cols);
	sl_free(cols_copy);
	return status;
}

/* ------------------------------------------------------------ convert */

static bool is_csv_name(const char *p)
{
	return sl_str_ends_with(p, ".csv") || sl_str_ends_with(p, ".csv.gz") ||
	       sl_str_ends_with(p, ".csv.zst") || sl_str_ends_with(p, ".tsv") ||
	       sl_str_ends_with(p, ".tsv.gz") || sl_str_ends_with(p, ".tsv.zst");
}

/* True when the file starts with the Parquet magic "PAR1". */
static bool has_parquet_magic(const char *path)
{
	char m[4];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = fread(m, 1, 4, f) == 4 && memcmp(m, "PAR1", 4) == 0;
	fclose(f);
	return yes;
}

typedef struct {
	const char *path; /* OUT.rejected.csv */
	sl_output *out;
	sl_csv_writer *w;
	int64_t count;
} rejects;

static int on_bad_row(void *ctx, const sl_csv_bad_row *bad, sl_error *err)
{
	rejects *rj = ctx;
	int rc;
	if (!rj->w) {
		static const char *const header[] = {"line", "reason", "raw"};
		if ((rc = sl_output_file_open(&rj->out, rj->path, err)) < 0)
			return rc;
		if ((rc = sl_csv_writer_open(&rj->w, rj->out, NULL, NULL, err)) < 0 ||
		    (rc = sl_csv_writer_write_fields(rj->w, header, 3, err)) < 0)
			return rc;
	}
	char line[32];
	snprintf(line, sizeof line, "%lld", (long long)bad->line);
	char *raw = sl_strndup(bad->raw ? bad->raw : "", bad->raw ? bad->raw_len : 0);
	if (!raw)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	const char *fields[3] = {line, bad->reason ? bad->reason : "", raw};
	rc = sl_csv_writer_write_fields(rj->w, fields, 3, err);
	sl_free(raw);
	if (rc == 0)
		rj->count++;
	return rc;
}

static int csv_to_parquet(const pq_opts *o, const char *in, const char *outp,
			  const sl_parquet_write_opts *wo, sl_error *err)
{
	sl_csv_opts co = SL_CSV_OPTS_INIT;
	sl_schema *schema = NULL;
	sl_csv_reader *cr = NULL;
	sl_output *out = NULL;
	sl_parquet_writer *pw = NULL;
	sl_batch *b = NULL;
	char *rpath = NULL;
	rejects rj = {0};
	int64_t rows = 0;
	int rc;

	co.header = !o->no_header;
	if (o->delimiter)
		co.delimiter = o->delimiter;
	else if (strstr(in, ".tsv"))
		co.delimiter = '\t';
	size_t n = strlen(outp) + sizeof ".rejected.csv";
	if (!(rpath = sl_malloc(n)))
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	snprintf(rpath, n, "%s.rejected.csv", outp);
	rj.path = rpath;

	const char *paths[1] = {in};
	if ((rc = sl_csv_infer_schema(&schema, paths, 1, &co, INFER_SAMPLE_ROWS, err)) < 0 ||
	    (rc = sl_csv_reader_open(&cr, in, &co, err)) < 0 ||
	    (rc = sl_output_file_open(&out, outp, err)) < 0 ||
	    (rc = sl_parquet_writer_open(&pw, out, schema, wo, err)) < 0 ||
	    (rc = sl_batch_new(&b, schema, SL_BATCH_DEFAULT_ROWS, err)) < 0)
		goto fail;
	for (;;) {
		sl_batch_reset(b);
		int64_t got = sl_csv_read_batch(cr, b, on_bad_row, &rj, err);
		if (got < 0) {
			rc = (int)got;
			goto fail;
		}
		if (b->nrows == 0)
			break;
		if ((rc = sl_parquet_writer_write(pw, b, err)) < 0)
			goto fail;
		rows += b->nrows;
	}
	if ((rc = sl_parquet_writer_close(pw, NULL, err)) < 0)
		goto fail;
	sl_parquet_writer_free(pw);
	pw = NULL;
	rc = out->close(out, err);
	out = NULL;
	if (rc < 0)
		goto fail;
	if (rj.w) {
		sl_csv_writer_free(rj.w);
		rj.w = NULL;
		rc = rj.out->close(rj.out, err);
		rj.out = NULL;
		if (rc < 0)
			goto fail;
		printf("converted %lld %s (%lld rejected → %s)\n", (long long)rows,
		       sl_cli_plural(rows, "row", "rows"), (long long)rj.count, rpath);
	} else {
		printf("converted %lld %s (0 rejected)\n", (long long)rows,
		       sl_cli_plural(rows, "row", "rows"));
	}
	goto done;
fail:
	sl_parquet_writer_free(pw);
	if (out)
		out->abort(out);
	sl_csv_writer_free(rj.w);
	rj.w = NULL;
	if (rj.out)
		rj.out->abort(rj.out);
done:
	sl_csv_writer_free(rj.w);
	sl_batch_free(b);
	sl_csv_reader_close(cr);
	sl_schema_free(schema);
	sl_free(rpath);
	return rc;
}

static int parquet_to_file(const pq_opts *o, const char *in, const char *outp, bool to_csv,
			   const sl_parquet_write_opts *wo, sl_error *err)
{
	sl_parquet_reader *r = NULL;
	sl_store *store = NULL;
	sl_output *out = NULL;
	sl_csv_writer *cw = NULL;
	sl_parquet_writer *pw = NULL;
	sl_batch *b = NULL;
	int64_t rows = 0;
	int rc;

	if ((rc = open_parquet(in, &r, &store, err)) < 0)
		return rc;
	const sl_schema *s = sl_parquet_reader_schema(r);
	if ((rc = sl_output_file_open(&out, outp, err)) < 0)
		goto fail;
	if (to_csv) {
		sl_csv_opts co = SL_CSV_OPTS_INIT;
		co.header = !o->no_header;
		co.delimiter = o->delimiter ? o->delimiter
					    : sl_str_ends_with(outp, ".tsv") ? '\t' : ',';
		rc = sl_csv_writer_open(&cw, out, s, &co, err);
	} else {
		rc = sl_parquet_writer_open(&pw, out, s, wo, err);
	}
	if (rc < 0)
		goto fail;
	while ((rc = sl_parquet_reader_next(r, &b, 0, err)) == 1) {
		rc = cw ? sl_csv_writer_write(cw, b, err) : sl_parquet_writer_write(pw, b, err);
		rows += b->nrows;
		sl_batch_free(b);
		b = NULL;
		if (rc < 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	if (pw && (rc = sl_parquet_writer_close(pw, NULL, err)) < 0)
		goto fail;
	sl_parquet_writer_free(pw);
	pw = NULL;
	sl_csv_writer_free(cw);
	cw = NULL;
	rc = out->close(out, err);
	out = NULL;
	if (rc < 0)
		goto fail;
	printf("converted %lld %s → %s\n", (long long)rows, sl_cli_plural(rows, "row", "rows"),
	       outp);
	close_parquet(r, store);
	return 0;
fail:
	sl_parquet_writer_free(pw);
	sl_csv_writer_free(cw);
	if (out)
		out->abort(out);
	close_parquet(r, store);
	return rc;
}

static int cmd_convert(int argc, char **argv)
{
	pq_opts o;
	sl_error err = SL_ERROR_INIT;
	sl_parquet_write_opts wo = SL_PARQUET_WRITE_OPTS_INIT;
	int rc = parse_opts(argc, argv, &o, "convert", usage_convert, "zdHf");
	if (rc)
		return rc == 1 ? 0 : 2;
	if (o.nargs != 2) {
		fprintf(stderr, "sluice parquet convert: expected IN and OUT; see sluice parquet "
			"convert --help\n");
		return 2;
	}
	if (o.compression && sl_codec_parse(o.compression, &wo.codec) < 0) {
		fprintf(stderr, "sluice parquet convert: unknown compression '%s'; use zstd, "
			"snappy, gzip or none\n", o.compression);
		return 2;
	}
	const char *in = o.args[0], *outp = o.args[1];
	if (strcmp(in, outp) == 0) {
		fprintf(stderr, "sluice parquet convert: IN and OUT are the same file\n");
		return 2;
	}
	/*
	 * The output format comes from --format, else from OUT's name; a name
	 * that says neither is refused rather than silently given Parquet.
	 */
	bool out_csv;
	if (o.format && (strcmp(o.format, "csv") == 0 || strcmp(o.format, "parquet") == 0)) {
		out_csv = strcmp(o.format, "csv") == 0;
	} else if (o.format) {
		fprintf(stderr, "sluice parquet convert: unknown --format '%s'; use parquet or "
			"csv\n", o.format);
		return 2;
	} else if (is_csv_name(outp)) {
		out_csv = true;
	} else if (sl_str_ends_with(outp, ".parquet")) {
		out_csv = false;
	} else {
		fprintf(stderr, "sluice parquet convert: cannot tell what to write to '%s': name "
			"it *.parquet for Parquet or *.csv / *.tsv for CSV, or say --format "
			"parquet or --format csv\n", outp);
		return 2;
	}
	if (out_csv && (sl_str_ends_with(outp, ".gz") || sl_str_ends_with(outp, ".zst"))) {
		fprintf(stderr, "sluice parquet convert: CSV is written uncompressed; name OUT "
			"*.csv or *.tsv, not '%s' (compress it afterwards, e.g. with gzip)\n",
			outp);
		return 2;
	}
	bool in_csv = !sl_str_starts_with(in, "s3://") &&
		      (is_csv_name(in) || !has_parquet_magic(in));
	if (in_csv && !sl_path_exists(in)) {
		sl_error_set(&err, SL_ENOTFOUND, "cannot open %s: no such file", in);
		return sl_cli_fail(&err);
	}
	if (in_csv && out_csv) {
		fprintf(stderr, "sluice parquet convert: both IN and OUT are CSV; OUT must be a "
			"Parquet file (e.g. %s.parquet)\n", outp);
		return 2;
	}
	rc = in_csv ? csv_to_parquet(&o, in, outp, &wo, &err)
		    : parquet_to_file(&o, in, outp, out_csv, &wo, &err);
	return rc < 0 ? sl_cli_fail(&err) : 0;
}

int sl_cmd_parquet(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(sub, "schema") == 0)
		return cmd_schema(argc - 1, argv + 1);
	if (strcmp(sub, "cat") == 0)
		return cmd_cat(argc - 1, argv + 1);
	if (strcmp(sub, "convert") == 0)
		return cmd_convert(argc - 1, argv + 1);
	fprintf(stderr, "sluice parquet: unknown subcommand '%s'; use schema, cat or convert\n",
		sub);
	return 2;
}
