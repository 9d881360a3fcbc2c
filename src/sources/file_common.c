/* file_common.c: CSV options and declared column types of file-based sources. */
#include "sources/sources_int.h"

int sl_source_csv_opts(const sl_source_table *t, sl_csv_opts *opts, const char ***nulls,
		       sl_error *err)
{
	sl_csv_opts def = SL_CSV_OPTS_INIT;
	*opts = def;
	*nulls = NULL;
	opts->delimiter = t->delimiter ? t->delimiter : ',';
	opts->quote = t->quote ? t->quote : '"';
	opts->escape = t->escape ? t->escape : opts->quote;
	opts->header = t->header;
	if (t->nnulls > 0) {
		const char **list = sl_calloc((size_t)t->nnulls + 1, sizeof *list);
		if (!list)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		for (int i = 0; i < t->nnulls; i++)
			list[i] = t->nulls[i];
		opts->nulls = list;
		*nulls = list;
	}
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
