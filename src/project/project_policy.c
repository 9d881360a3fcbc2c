/*
 * project_policy.c: the keys that say how the tasks of a table run —
 * retries, retry_delay, timeout — and the tags selection uses (tag:NAME).
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
	if ((rc = pj_get_strlist(f, map, "tags", where, &out->tags, &out->ntags)) < 0)
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
