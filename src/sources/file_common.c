/*
 * file_common.c: what the file-based sources share — CSV options, declared
 * column types, header checks, bad rows and the progress of done files.
 */
#include "sources/sources_int.h"

#include <string.h>

int sl_source_keep_names(const sl_source_table *t, const char ***out, size_t *n,
			 sl_error *err)
{
	size_t cap = (size_t)t->nprimary_key + 1 + (size_t)t->columns.n;
	const char **list = sl_calloc(cap, sizeof *list);
	*out = NULL;
	*n = 0;
	if (!list)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < t->nprimary_key; i++)
		list[(*n)++] = t->primary_key[i];
	if (t->cursor)
		list[(*n)++] = t->cursor;
	for (int i = 0; i < t->columns.n; i++)
		list[(*n)++] = t->columns.items[i].key;
	*out = list;
	return 0;
}

int sl_source_csv_opts(const sl_source_table *t, const sl_file_opts *fo, sl_csv_opts *opts,
		       const char ***lists, sl_error *err)
{
	sl_csv_opts def = SL_CSV_OPTS_INIT;
	const char **keep = NULL;
	size_t nkeep = 0;
	*opts = def;
	*lists = NULL;
	opts->delimiter = fo->delimiter ? fo->delimiter : ',';
	opts->quote = fo->quote ? fo->quote : '"';
	opts->escape = fo->escape ? fo->escape : opts->quote;
	opts->header = fo->header;
	opts->max_columns = (int)fo->max_columns;
	if (sl_source_keep_names(t, &keep, &nkeep, err) < 0)
		return err->code;
	/* One block: the NULL-terminated nulls list, then the kept names. */
	const char **list = sl_calloc((size_t)fo->nnulls + 1 + nkeep, sizeof *list);
	if (!list) {
		sl_free(keep);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < fo->nnulls; i++)
		list[i] = fo->nulls[i];
	if (fo->nnulls > 0)
		opts->nulls = list;
	for (size_t i = 0; i < nkeep; i++)
		list[fo->nnulls + 1 + i] = keep[i];
	opts->keep_names = list + fo->nnulls + 1;
	opts->nkeep_names = (int)nkeep;
	sl_free(keep);
	*lists = list;
	return 0;
}

int sl_source_apply_declared(const sl_source *src, const sl_source_table *t, sl_schema *s,
			     const char *what, sl_error *err)
{
	for (int i = 0; i < t->columns.n; i++) {
		const sl_kv *kv = &t->columns.items[i];
		int idx = sl_schema_find(s, kv->key);
		sl_type type;
		if (idx < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: column \"%s\" of table \"%s\" is not in the %s; "
					    "fix the name or remove it",
					    src->file, kv->line, kv->key, t->name, what);
		if (sl_type_parse(kv->value, &type) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: unknown type \"%s\"; use one of " SL_TYPE_NAMES,
					    src->file, kv->line, kv->value);
		s->fields[idx].type = type;
	}
	for (int i = 0; i < t->nprimary_key; i++) {
		if (sl_schema_find(s, t->primary_key[i]) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: primary key column \"%s\" of table \"%s\" is not "
					    "in the %s",
					    src->file, t->line, t->primary_key[i], t->name, what);
	}
	return 0;
}

int sl_source_check_header(sl_extractor *x, const sl_csv_reader *r, bool header,
			   const char *name, const char *what, sl_error *err)
{
	const sl_schema *s = x->schema;
	int n = sl_csv_reader_ncolumns(r);
	if (header && !x->renamed && sl_csv_reader_nrenamed(r) > 0) {
		sl_buf b = SL_BUF_INIT;
		if (sl_csv_reader_renames_text(r, &b) < 0) {
			sl_buf_free(&b);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		x->renamed = sl_buf_detach(&b);
	}
	if (n == 0)
		return 0; /* an empty file: no header, no rows */
	if (!header)
		return n == s->nfields ? 0 :
		       sl_error_set(err, SL_EFORMAT, "%s: has %d columns, expected %d", name, n,
				    s->nfields);
	for (int i = 0; i < n && i < s->nfields; i++) {
		if (strcmp(sl_csv_reader_column(r, i), s->fields[i].name) != 0)
			return sl_error_set(err, SL_EFORMAT,
					    "%s: column %d is \"%s\" but the table's column %d is \"%s\"; "
					    "%s of one table must share a header",
					    name, i + 1, sl_csv_reader_column(r, i), i + 1,
					    s->fields[i].name, what);
	}
	if (n != s->nfields)
		return sl_error_set(err, SL_EFORMAT,
				    "%s: header has %d columns, the table has %d; %s of one "
				    "table must share a header",
				    name, n, s->nfields, what);
	return 0;
}

int sl_source_bad_row(const sl_extract_opts *opts, sl_extract_stats *stats, const char *origin,
		      const sl_csv_bad_row *bad, sl_error *err)
{
	sl_quarantine_row q = {origin, bad->line, bad->raw, bad->raw_len, bad->reason};
	stats->rows_bad++;
	stats->rows_read++;
	if (!opts->on_bad)
		return sl_error_set(err, SL_EINVAL, "%s:%lld: %s", origin, (long long)bad->line,
				    bad->reason);
	return opts->on_bad(opts->on_bad_ctx, &q, err);
}

int sl_source_cancelled(const sl_extract_opts *opts, const sl_source *src,
			const sl_source_table *t, sl_error *err)
{
	int r = sl_cancelled(opts->cancel);
	if (!r)
		return 0;
	return sl_error_set(err, r, "source %s.%s: %s", src->name, t->name,
			    r == SL_ETIMEOUT ? "timed out" : "cancelled");
}
