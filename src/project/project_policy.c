/*
 * project_policy.c: the keys that say how the tasks of a table run —
 * retries, retry_delay, timeout — the tags selection uses (tag:NAME), and
 * a source's or table's freshness criteria (freshness:, loaded_at_field:).
 * They read the same in sluice.yml's defaults:, in a source and in a table;
 * a table's value wins over its source's, a source's over the defaults.
 */
#include "project/project_int.h"

#include <stddef.h>
#include <string.h>

void pj_policy_unset(sl_task_policy *p)
{
	memset(p, 0, sizeof *p);
	p->retries = -1;
	p->retry_delay = -1;
	p->timeout = -1;
}

/* A duration key: seconds into *out (untouched when absent); "none" is 0
 * when allow_none. */
static int get_seconds(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		       bool allow_none, double *out)
{
	char *text = NULL;
	int64_t micros = 0;
	int rc = pj_get_str(f, map, key, where, &text);
	if (rc < 0 || !text)
		return rc;
	if (allow_none && strcmp(text, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (sl_duration_parse(text, &micros) < 0 || (allow_none && micros <= 0))
		return pj_err(f, pj_line(pj_get(f, map, key, NULL)),
			      "\"%s\"%s must be a duration like %s, not \"%s\"", key, where,
			      allow_none ? "30s, 10m or 2h (or none)" : "10s, 5m or 1h", text);
	*out = (double)micros / (double)SL_MICROS_PER_SEC;
	return 0;
}

/* A tag is selected as tag:NAME, so it holds no spaces, commas or colons. */
static bool tag_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static const char *const periods[] = {"minute", "hour", "day", NULL};
static const int64_t period_seconds[] = {60, 3600, 86400};

/* warn_after: or error_after: {count: N, period: minute|hour|day}. */
static int get_after(pj_file *f, yaml_node_t *fresh, const char *key, const char *where,
		     int64_t *count, const char **period, int64_t *seconds)
{
	static const char *const keys[] = {"count", "period", NULL};
	yaml_node_t *v = pj_get(f, fresh, key, NULL);
	if (pj_is_null(v))
		return 0;
	char *w = sl_arena_sprintf(f->arena, " in freshness.%s%s", key, where);
	if (!w)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (v->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(v), "freshness.%s%s must be a mapping like {count: 12, "
			      "period: hour}, not %s", key, where, pj_kind_name(v));
	int rc, p = -1;
	int64_t n = 0;
	if ((rc = pj_check_keys(f, v, keys, w)) < 0 ||
	    (rc = pj_get_int(f, v, "count", w, 1, INT64_C(1000000000), &n)) < 0 ||
	    (rc = pj_get_enum(f, v, "period", w, periods, &p)) < 0)
		return rc;
	if (n == 0 || p < 0)
		return pj_err(f, pj_line(v), "freshness.%s%s needs both count: and period: "
			      "(minute, hour or day), like {count: 12, period: hour}", key, where);
	*count = n;
	*period = periods[p];
	*seconds = n * period_seconds[p];
	return 0;
}

/* freshness: {warn_after, error_after, filter} (null: none, overriding the
 * source's) and loaded_at_field:. */
static int load_freshness(pj_file *f, yaml_node_t *map, const char *where, sl_task_policy *out)
{
	static const char *const keys[] = {"warn_after", "error_after", "filter", NULL};
	int line = 0, rc;
	yaml_node_t *v = pj_get(f, map, "freshness", &line);
	if ((rc = pj_get_str(f, map, "loaded_at_field", where, &out->loaded_at_field)) < 0)
		return rc;
	if (!v)
		return 0;
	sl_source_freshness *fr = &out->freshness;
	fr->given = true;
	if (pj_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(v), "freshness%s must be a mapping like {warn_after: "
			      "{count: 12, period: hour}, error_after: {count: 1, period: day}}, "
			      "not %s", where, pj_kind_name(v));
	char *w = sl_arena_sprintf(f->arena, " in freshness%s", where);
	if (!w)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_check_keys(f, v, keys, w)) < 0 ||
	    (rc = get_after(f, v, "warn_after", where, &fr->warn_count, &fr->warn_period,
			    &fr->warn_seconds)) < 0 ||
	    (rc = get_after(f, v, "error_after", where, &fr->error_count, &fr->error_period,
			    &fr->error_seconds)) < 0 ||
	    (rc = pj_get_str(f, v, "filter", w, &fr->filter)) < 0)
		return rc;
	if (fr->warn_seconds == 0 && fr->error_seconds == 0)
		return pj_err(f, pj_line(v), "freshness%s needs warn_after: or error_after: "
			      "(like {count: 12, period: hour})", where);
	fr->set = true;
	return 0;
}

void sl_project_table_freshness(const sl_project *p, const sl_source *s,
				const sl_source_table *t, const sl_source_freshness **fresh,
				const char **loaded_at_field)
{
	const sl_task_policy *tp = sl_project_table_policy(p, s, t);
	const sl_task_policy *sp = sl_project_source_policy(p, s);
	*fresh = tp->freshness.given ? &tp->freshness : &sp->freshness;
	*loaded_at_field = tp->loaded_at_field ? tp->loaded_at_field : sp->loaded_at_field;
}

int pj_load_policy(pj_file *f, yaml_node_t *map, const char *where, bool tags,
		   sl_task_policy *out)
{
	int64_t retries = -1;
	int rc;
	pj_policy_unset(out);
	if ((rc = pj_get_int(f, map, "retries", where, 0, 100, &retries)) < 0 ||
	    (rc = get_seconds(f, map, "retry_delay", where, false, &out->retry_delay)) < 0 ||
	    (rc = get_seconds(f, map, "timeout", where, true, &out->timeout)) < 0)
		return rc;
	out->retries = (int)retries;
	if (!tags)
		return 0;
	if ((rc = pj_get_strlist(f, map, "tags", where, &out->tags, &out->ntags)) < 0 ||
	    (rc = load_freshness(f, map, where, out)) < 0)
		return rc;
	for (int i = 0; i < out->ntags; i++)
		if (!tag_ok(out->tags[i]))
			return pj_err(f, pj_line(pj_get(f, map, "tags", NULL)),
				      "tag \"%s\"%s must be letters, digits, _ and - (it is "
				      "selected as tag:NAME)", out->tags[i], where);
	return 0;
}

/* Policies not read (a project built by hand, a table without them) are unset. */
static const sl_task_policy unset = {.retries = -1, .retry_delay = -1, .timeout = -1};

const sl_task_policy *sl_project_source_policy(const sl_project *p, const sl_source *s)
{
	ptrdiff_t si = s - p->sources;
	if (!p->policies || si < 0 || si >= p->nsources)
		return &unset;
	return &p->policies[si].source;
}

const sl_task_policy *sl_project_table_policy(const sl_project *p, const sl_source *s,
					      const sl_source_table *t)
{
	ptrdiff_t si = s - p->sources, ti = t - s->tables;
	if (!p->policies || si < 0 || si >= p->nsources || ti < 0 || ti >= s->ntables ||
	    !p->policies[si].tables)
		return &unset;
	return &p->policies[si].tables[ti];
}

void sl_project_task_policy(const sl_project *p, const sl_source *s, const sl_source_table *t,
			    int *retries, double *retry_delay, double *timeout)
{
	const sl_task_policy *levels[3] = {sl_project_table_policy(p, s, t),
					   sl_project_source_policy(p, s), &p->defaults};
	*retries = 0;
	*retry_delay = 10;
	*timeout = 0;
	for (int i = 2; i >= 0; i--) {
		if (levels[i]->retries >= 0)
			*retries = levels[i]->retries;
		if (levels[i]->retry_delay >= 0)
			*retry_delay = levels[i]->retry_delay;
		if (levels[i]->timeout >= 0)
			*timeout = levels[i]->timeout;
	}
}
