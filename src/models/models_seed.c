/*
 * models_seed.c: seeds. A first pass over the CSV types each column as
 * dbt's agate does — the first of integer, number, date, timestamp,
 * boolean (true/false) that every non-null value parses as, else text;
 * "" and "null" are NULL — with column_types overriding (the column then
 * loads as text and the warehouse gives it that type). A second pass
 * streams the rows into the table in batches; a table already there with
 * the same columns is reloaded in place, unless full_refresh.
 */
#include "models/models_seed.h"
#include "formats/csv/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_INT = 1, T_NUM = 2, T_DATE = 4, T_TS = 8, T_BOOL = 16 };

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

static bool is_null(const char *s, size_t n)
{
	return n == 0 || (n == 4 && strncasecmp(s, "null", 4) == 0);
}

/* The candidate types s[0..n) still allows. */
static int fits(const char *s, size_t n)
{
	int f = 0;
	int64_t i;
	double d;
	int32_t day;
	int64_t us;
	if (sl_parse_int64(s, n, &i) == 0)
		f |= T_INT;
	if (strspn(s, "0123456789+-.eE") >= n && sl_parse_double(s, n, &d) == 0)
		f |= T_NUM;
	if (n == 10 && sl_date_parse(s, n, &day) == 0)
		f |= T_DATE;
	if (n >= 10 && s[4] == '-' && sl_timestamp_parse(s, n, &us) == 0)
		f |= T_TS;
	if ((n == 4 && strncasecmp(s, "true", 4) == 0) || (n == 5 && strncasecmp(s, "false", 5) == 0))
		f |= T_BOOL;
	return f;
}

static sl_type type_of(int f)
{
	if (f & T_INT)
		return sl_type_make(SL_INT64);
	if (f & T_NUM)
		return sl_type_make(SL_FLOAT64);
	if (f & T_DATE)
		return sl_type_make(SL_DATE);
	if (f & T_TS)
		return sl_type_make(SL_TIMESTAMP);
	if (f & T_BOOL)
		return sl_type_make(SL_BOOL);
	return sl_type_make(SL_STRING);
}

typedef struct seed_read {
	sl_csv_reader *r;
	sl_batch *b;
	const char *rel;
	int ncols;
} seed_read;

static const char *seed_nulls[] = {"", NULL};

static int open_csv(sl_csv_reader **r, m_node *n, char delim, sl_error *err)
{
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	o.delimiter = delim;
	o.nulls = seed_nulls;
	int rc = sl_csv_reader_open(r, n->file, &o, err);
	if (rc < 0)
		sl_error_prefix(err, "%s: ", n->pub.path);
	return rc;
}

static int check_width(const seed_read *s, const sl_csv_record *rec, sl_error *err)
{
	if (rec->nfields == s->ncols)
		return 0;
	return sl_error_set(err, SL_EFORMAT, "%s:%lld: %d fields, the header has %d; fix the "
			    "row (quote values holding the delimiter)", s->rel,
			    (long long)rec->line, rec->nfields, s->ncols);
}

static int next_batch(void *ud, const sl_batch **out, sl_error *err)
{
	seed_read *s = ud;
	sl_csv_record rec;
	int rc = 0;
	*out = NULL;
	sl_batch_reset(s->b);
	while (!sl_batch_full(s->b) && (rc = sl_csv_reader_next(s->r, &rec, err)) > 0) {
		if ((rc = check_width(s, &rec, err)) < 0)
			return rc;
		for (int i = 0; i < s->ncols; i++) {
			sl_column *c = &s->b->cols[i];
			if (is_null(rec.fields[i], rec.lens[i])) {
				sl_column_append_null(c);
				continue;
			}
			rc = sl_column_append_text(c, rec.fields[i], rec.lens[i], err);
			if (rc < 0) {
				sl_batch_discard_row(s->b);
				return sl_error_prefix(err, "%s:%lld: column %s: ", s->rel,
						       (long long)rec.line,
						       sl_csv_reader_column(s->r, i));
			}
		}
		sl_batch_end_row(s->b);
	}
	if (rc < 0)
		return rc;
	if (s->b->nrows)
		*out = s->b;
	return 0;
}

int m_seed_build(sl_models *m, m_node *n, sl_wh *wh, sl_wh_build_result *res, sl_error *err)
{
	seed_read s;
	sl_schema *cols = NULL;
	const char **sql_types = NULL;
	int *flags = NULL;
	sl_csv_record rec;
	int rc;
	char delim = ',';
	const char *d = m_dict_str(&n->cfg, "delimiter");
	memset(&s, 0, sizeof s);
	s.rel = n->pub.path;
	if (d && *d)
		delim = strcmp(d, "\\t") == 0 ? '\t' : d[0];
	if ((rc = open_csv(&s.r, n, delim, err)) < 0)
		return rc;
	s.ncols = sl_csv_reader_ncolumns(s.r);
	flags = sl_malloc(sizeof *flags * (size_t)(s.ncols ? s.ncols : 1));
	sql_types = sl_calloc((size_t)(s.ncols ? s.ncols : 1), sizeof *sql_types);
	cols = sl_schema_new();
	if (!flags || !sql_types || !cols) {
		rc = oom(err);
		goto done;
	}
	for (int i = 0; i < s.ncols; i++)
		flags[i] = T_INT | T_NUM | T_DATE | T_TS | T_BOOL;
	while ((rc = sl_csv_reader_next(s.r, &rec, err)) > 0) {
		if ((rc = check_width(&s, &rec, err)) < 0)
			goto done;
		for (int i = 0; i < s.ncols; i++)
			if (!is_null(rec.fields[i], rec.lens[i]))
				flags[i] &= fits(rec.fields[i], rec.lens[i]);
	}
	if (rc < 0)
		goto done;
	const sl_tpl_value *ct = m_dict_get(&n->cfg, "column_types");
	/* quote_columns: false names each column as the header unquoted in
	 * SQL would: lowercase on PostgreSQL (dbt's default is to quote) */
	const sl_tpl_value *qc = m_dict_get(&n->cfg, "quote_columns");
	bool lower = qc && qc->type == SL_TPL_BOOL && !qc->u.b &&
		     sl_wh_ident_rules_of(sl_wh_type(wh)).unquoted_lower;
	for (int i = 0; i < s.ncols; i++) {
		const char *name = sl_csv_reader_column(s.r, i);
		const char *over = m_dict_str(ct, name);
		char *low = lower ? sl_strdup(name) : NULL;
		if (lower && !low) {
			rc = oom(err);
			goto done;
		}
		for (char *c = low; c && *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		sql_types[i] = over;
		rc = sl_schema_add(cols, low ? low : name,
				   over ? sl_type_make(SL_STRING) : type_of(flags[i]), true);
		sl_free(low);
		if (rc < 0) {
			rc = oom(err);
			goto done;
		}
	}
	sl_csv_reader_close(s.r);
	s.r = NULL;
	if ((rc = open_csv(&s.r, n, delim, err)) < 0 ||
	    (rc = sl_batch_new(&s.b, cols, SL_BATCH_DEFAULT_ROWS, err)) < 0)
		goto done;
	/* An existing table with the same columns is emptied and reloaded, so
	 * views over it stay; --full-refresh (or full_refresh: true) drops
	 * and recreates it, and views over it with it on PostgreSQL. */
	const sl_tpl_value *fr = m_dict_get(&n->cfg, "full_refresh");
	bool full = fr && fr->type != SL_TPL_NONE && fr->type != SL_TPL_UNDEFINED
			    ? sl_tpl_truthy(fr)
			    : m->o.full_refresh;
	rc = sl_wh_build_table_from(wh, n->pub.schema, n->pub.alias, cols, sql_types, full,
				    next_batch, &s, res, err);
done:
	sl_batch_free(s.b);
	sl_csv_reader_close(s.r);
	sl_schema_free(cols);
	sl_free(sql_types);
	sl_free(flags);
	return rc;
}
