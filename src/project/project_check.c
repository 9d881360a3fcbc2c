/*
 * project_check.c: checks across files once a project is loaded — two
 * source tables must not load into one warehouse table. The warehouse
 * compares identifiers its own way (SQLite ignores ASCII case, PostgreSQL
 * cuts names at 63 bytes), so the selected target's adapter says what
 * "the same table" means; the lake folders raw/<source>/<table> are not
 * the concern here.
 */
#include "project/project_int.h"
#include "warehouse/warehouse.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	const sl_source *src;
	const sl_source_table *tab;
	char *name; /* "<source>__<table>" */
	char *key;  /* name as the warehouse identifies it */
} wh_name;

/* What makes two names one identifier there, for messages (no names in it). */
static void rule_text(char *out, size_t n, const sl_wh_ident_rules *r)
{
	if (r->fold_case && r->max_bytes)
		snprintf(out, n, "ignores the case of names and keeps their first %zu bytes",
			 r->max_bytes);
	else if (r->fold_case)
		snprintf(out, n, "ignores the case of names");
	else if (r->max_bytes)
		snprintf(out, n, "keeps the first %zu bytes of a name", r->max_bytes);
	else
		snprintf(out, n, "compares names as they are");
}

static int clash(const sl_target *t, const sl_wh_ident_rules *r, const wh_name *a,
		 const wh_name *b, sl_error *err)
{
	char rule[96];
	if (strcmp(a->name, b->name) == 0)
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: table \"%s\" of source \"%s\" and %s:%d: table \"%s\" of "
				    "source \"%s\" would both load into the warehouse table \"%s\"; "
				    "rename one of them",
				    a->src->file, a->tab->line, a->tab->name, a->src->name,
				    b->src->file, b->tab->line, b->tab->name, b->src->name, a->name);
	rule_text(rule, sizeof rule, r);
	return sl_error_set(err, SL_ECONFIG,
			    "%s:%d: table \"%s\" of source \"%s\" and %s:%d: table \"%s\" of "
			    "source \"%s\" would load into one warehouse table: target \"%s\" "
			    "(%s) %s, so \"%s\" and \"%s\" are the same table there; rename one "
			    "of them",
			    a->src->file, a->tab->line, a->tab->name, a->src->name, b->src->file,
			    b->tab->line, b->tab->name, b->src->name, t->name, t->type, rule,
			    a->name, b->name);
}

int pj_check_warehouse_names(const sl_project *p, sl_error *err)
{
	const sl_target *t = sl_project_target(p, p->target);
	wh_name *names = NULL;
	int n = 0, rc = 0;

	if (!t)
		return 0;
	sl_wh_ident_rules r = sl_wh_ident_rules_of(t->type);
	for (int s = 0; s < p->nsources; s++)
		n += p->sources[s].ntables;
	if (n == 0)
		return 0;
	if ((rc = sl_alloc_zeroed((void **)&names, sizeof *names * (size_t)n, err)) < 0)
		return rc;
	int k = 0;
	for (int s = 0; s < p->nsources; s++) {
		for (int i = 0; i < p->sources[s].ntables; i++, k++) {
			wh_name *w = &names[k];
			w->src = &p->sources[s];
			w->tab = &p->sources[s].tables[i];
			w->name = sl_wh_raw_table_name(w->src->name, w->tab->name);
			w->key = w->name ? sl_wh_ident_key(&r, w->name) : NULL;
			if (!w->key) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	for (int i = 0; i < n && rc == 0; i++)
		for (int j = i + 1; j < n && rc == 0; j++)
			if (strcmp(names[i].key, names[j].key) == 0)
				rc = clash(t, &r, &names[i], &names[j], err);
	for (int i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(names[i].name);
		if (r.max_bytes && len > r.max_bytes)
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s:%d: table \"%s\" of source \"%s\" loads into the "
					  "warehouse table \"%s\", %zu bytes, longer than the %zu "
					  "bytes a %s identifier holds (target \"%s\"); shorten the "
					  "source or table name",
					  names[i].src->file, names[i].tab->line, names[i].tab->name,
					  names[i].src->name, names[i].name, len, r.max_bytes, t->type,
					  t->name);
	}
done:
	for (int i = 0; i < n; i++) {
		sl_free(names[i].name);
		sl_free(names[i].key);
	}
	sl_free(names);
	return rc;
}
