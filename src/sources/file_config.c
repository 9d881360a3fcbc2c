/*
 * file_config.c: the file kinds — csv (a path: a local glob, or an s3://
 * URL) and s3 (a url: s3://...) — both read by the one file source: their
 * table keys, how they are read and checked, and their registry entries.
 */
#include "sources/file_int.h"

#include <string.h>

static const char *const formats[] = {"csv", "parquet", "jsonl", NULL};
static const char *const flatten_modes[] = {"columns", "json", NULL};

#define FILE_KEYS                                                    \
	{"format", SL_KEY_ENUM, formats}, {"delimiter", SL_KEY_CHAR, NULL}, \
	{"quote", SL_KEY_CHAR, NULL}, {"escape", SL_KEY_CHAR, NULL},        \
	{"header", SL_KEY_BOOL, NULL}, {"nulls", SL_KEY_LIST, NULL},        \
	{"max_columns", SL_KEY_INT, NULL}, {"flatten", SL_KEY_ENUM, flatten_modes}

static const sl_source_key csv_keys[] = {{"path", SL_KEY_STRING, NULL}, FILE_KEYS, {NULL}};
/* max_retries: accepted for S3 tables written before retries were the store's. */
static const sl_source_key s3_keys[] = {{"url", SL_KEY_STRING, NULL}, FILE_KEYS,
					{"max_retries", SL_KEY_INT, NULL}, {NULL}};

/* Reads the keys every file kind has into o (location already set). */
static int parse_common(sl_config *c, sl_file_opts *o)
{
	int rc, e = -1;
	int64_t retries = 0;
	o->delimiter = ',';
	o->quote = '"';
	o->escape = '"';
	o->header = true;
	o->flatten = "columns";
	if ((rc = sl_config_char(c, "delimiter", false, &o->delimiter)) < 0 ||
	    (rc = sl_config_char(c, "quote", true, &o->quote)) < 0 ||
	    (rc = sl_config_char(c, "escape", true, &o->escape)) < 0 ||
	    (rc = c->ops->boolean(c, "header", &o->header)) < 0 ||
	    (rc = c->ops->list(c, "nulls", &o->nulls, &o->nnulls)) < 0 ||
	    (rc = c->ops->integer(c, "max_columns", 1, INT32_MAX, &o->max_columns)) < 0 ||
	    (rc = c->ops->integer(c, "max_retries", 0, 100, &retries)) < 0 ||
	    (rc = c->ops->choice(c, "format", formats, &e)) < 0)
		return rc;
	if (e >= 0)
		o->format = formats[e];
	e = 0;
	if ((rc = c->ops->choice(c, "flatten", flatten_modes, &e)) < 0)
		return rc;
	o->flatten = flatten_modes[e];
	if (!o->nulls) {
		if (!(o->nulls = c->ops->alloc(c, sizeof *o->nulls)))
			return sl_error_set(c->err, SL_ENOMEM, "out of memory");
		o->nulls[0] = "";
		o->nnulls = 1;
	}
	if (!o->format) {
		sl_file_format f = sl_file_format_of(o->location);
		o->format = f == SL_FILE_PARQUET ? "parquet" : f == SL_FILE_JSONL ? "jsonl" : "csv";
	}
	return 0;
}

static sl_file_opts *new_opts(sl_config *c)
{
	sl_file_opts *o = c->ops->alloc(c, sizeof *o);
	if (!o)
		sl_error_set(c->err, SL_ENOMEM, "out of memory");
	return o;
}

static int csv_parse_table(sl_config *c, const sl_source *src, sl_source_table *t)
{
	sl_file_opts *o = new_opts(c);
	int rc;
	if (!o)
		return SL_ENOMEM;
	if ((rc = c->ops->str(c, "path", &o->location)) < 0)
		return rc;
	if (!o->location || !*o->location)
		return sl_config_fail(c, t->line, "table \"%s\" of csv source \"%s\" needs a path "
				      "(a file or glob relative to the project, e.g. data/%s*.csv)",
				      t->name, src->name, t->name);
	if ((rc = sl_config_check_vars(c, "path", 0, o->location, false)) < 0 ||
	    (rc = parse_common(c, o)) < 0)
		return rc;
	t->opts = o;
	return 0;
}

static int s3_parse_table(sl_config *c, const sl_source *src, sl_source_table *t)
{
	sl_file_opts *o = new_opts(c);
	int rc;
	if (!o)
		return SL_ENOMEM;
	if ((rc = c->ops->str(c, "url", &o->location)) < 0)
		return rc;
	const char *url = o->location;
	if (!url || !sl_str_starts_with(url, "s3://") || strlen(url) <= 5)
		return sl_config_fail(c, url ? c->ops->line(c, "url") : t->line,
				      "table \"%s\" of s3 source \"%s\" needs a url starting with "
				      "s3:// (e.g. s3://bucket/prefix/*.csv.gz)%s%s%s",
				      t->name, src->name, url ? ", not \"" : "", url ? url : "",
				      url ? "\"" : "");
	if ((rc = sl_config_check_vars(c, "url", 0, o->location, false)) < 0 ||
	    (rc = parse_common(c, o)) < 0)
		return rc;
	t->opts = o;
	return 0;
}

const sl_source_kind sl_kind_csv = {
	.name = "csv",
	.table_keys = csv_keys,
	.parse_table = csv_parse_table,
	.open = sl_file_source_open,
};

const sl_source_kind sl_kind_s3 = {
	.name = "s3",
	.table_keys = s3_keys,
	.parse_table = s3_parse_table,
	.open = sl_file_source_open,
};

