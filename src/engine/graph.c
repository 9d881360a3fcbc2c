/*
 * graph.c: a project's task graph — an extract task per source table and a
 * load task per table waiting for it — with each task's node name, source,
 * tags, the relations it reads and writes, and its retries, retry delay and
 * timeout from the project's keys.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The source's tags, then the table's that the source lacks. */
static int union_tags(sl_arena *a, const sl_project *p, const sl_source *s,
		      const sl_source_table *t, const char ***out, int *n)
{
	const sl_task_policy *sp = sl_project_source_policy(p, s);
	const sl_task_policy *tp = sl_project_table_policy(p, s, t);
	int cap = sp->ntags + tp->ntags;
	const char **tags = sl_arena_alloc(a, sizeof *tags * (size_t)(cap ? cap : 1));
	int m = 0;
	if (!tags)
		return SL_ENOMEM;
	for (int i = 0; i < sp->ntags; i++)
		tags[m++] = sp->tags[i];
	for (int i = 0; i < tp->ntags; i++) {
		bool dup = false;
		for (int j = 0; j < m && !dup; j++)
			dup = strcmp(tags[j], tp->tags[i]) == 0;
		if (!dup)
			tags[m++] = tp->tags[i];
	}
	*out = tags;
	*n = m;
	return 0;
}

/* Adds one task of table t; its index, or a negative code. */
static int add_task(sl_dag *g, const sl_task_kind *kind, const sl_project *p,
		    const sl_source *s, const sl_source_table *t, int index, const char *node,
		    const char *const *reads, int nreads, const char *const *writes, int nwrites,
		    sl_error *err)
{
	sl_task task = {0};
	engine_table *et = sl_arena_alloc(&g->arena, sizeof *et);
	char *id = sl_arena_sprintf(&g->arena, "%s:%s", kind->name, node);
	const char **tags = NULL;
	int ntags = 0;
	if (!et || !id || union_tags(&g->arena, p, s, t, &tags, &ntags) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	et->src = s;
	et->t = t;
	et->index = index;
	task.kind = kind;
	task.id = id;
	task.node = node;
	task.source = s->name;
	task.path = s->file;
	size_t dn = p->dir ? strlen(p->dir) : 0;
	if (s->file && dn && strncmp(s->file, p->dir, dn) == 0 && s->file[dn] == '/')
		task.path = s->file + dn + 1;
	task.tags = tags;
	task.ntags = ntags;
	task.reads = reads;
	task.nreads = nreads;
	task.writes = writes;
	task.nwrites = nwrites;
	sl_project_task_policy(p, s, t, &task.retries, &task.retry_delay, &task.timeout);
	task.data = et;
	return sl_dag_add(g, &task, err);
}

int sl_engine_dag(sl_dag *g, const sl_project *p, const char *target, bool extract,
		  bool load, sl_error *err)
{
	const sl_target *tg = sl_project_target(p, target);
	const char *raw_schema = tg && tg->raw_schema ? tg->raw_schema : "raw";
	int index = 0;

	for (int si = 0; si < p->nsources; si++) {
		const sl_source *s = &p->sources[si];
		for (int ti = 0; ti < s->ntables; ti++, index++) {
			const sl_source_table *t = &s->tables[ti];
			sl_arena *a = &g->arena;
			char *node = sl_arena_sprintf(a, "%s.%s", s->name, t->name);
			char *wh = sl_wh_raw_table_name(s->name, t->name);
			const char *source_rel = node ? sl_arena_sprintf(a, "source:%s", node) : NULL;
			const char *lake_rel = sl_arena_sprintf(a, "lake:raw/%s/%s", s->name,
								t->name);
			const char *quarantine_rel = sl_arena_sprintf(a, "lake:quarantine/%s/%s",
								      s->name, t->name);
			const char *wh_rel = wh ? sl_arena_sprintf(a, "warehouse:%s.%s", raw_schema,
								   wh) : NULL;
			sl_free(wh);
			if (!node || !source_rel || !lake_rel || !quarantine_rel || !wh_rel)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			const char *x_reads[] = {source_rel};
			const char *x_writes[] = {lake_rel, quarantine_rel};
			const char *l_reads[] = {lake_rel};
			const char *l_writes[] = {wh_rel};
			int xi = -1, li = -1;
			if (extract &&
			    (xi = add_task(g, &sl_engine_extract_kind, p, s, t, index, node, x_reads,
					   1, x_writes, 2, err)) < 0)
				return xi;
			if (load &&
			    (li = add_task(g, &sl_engine_load_kind, p, s, t, index, node, l_reads, 1,
					   l_writes, 1, err)) < 0)
				return li;
			if (xi >= 0 && li >= 0) {
				int rc = sl_dag_depend(g, li, xi, err);
				if (rc < 0)
					return rc;
			}
		}
	}
	return sl_dag_check(g, err);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of micros since the epoch (whole seconds). */
static void iso_seconds(int64_t micros, char *out, size_t n)
{
	int64_t secs = micros / SL_MICROS_PER_SEC - (micros % SL_MICROS_PER_SEC < 0);
	time_t tt = (time_t)secs;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sl_engine_logical_dates(int64_t logical_date, int64_t start, int64_t end,
			     sl_logical_dates *out)
{
	char iso[32];
	iso_seconds(logical_date, iso, sizeof iso);
	snprintf(out->ds, sizeof out->ds, "%.10s", iso);
	iso_seconds(start, out->data_interval_start, sizeof out->data_interval_start);
	iso_seconds(end, out->data_interval_end, sizeof out->data_interval_end);
}
