/*
 * freshness.c: `sluice source freshness` — measures each source table with
 * freshness criteria: by its loaded_at_field in the warehouse (the models'
 * sl_models_freshness), or, for a sluice project's table without one, by
 * the end of its last successful load (else extract) that state.db
 * recorded; judges it by warn_after/error_after and records the results
 * (a run of command "source freshness" and a row per table).
 */
#include "engine/engine_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* One table to measure. */
typedef struct fresh_item {
	const char *source, *table;
	const char *unique_id;
	sl_freshness criteria;
	const char *loaded_at_field;
	int models_index;   /* its sl_models_source_at index, or -1 */
	bool sluice;        /* a sluice project's table: state.db knows its loads */
} fresh_item;

void sl_freshness_report_free(sl_freshness_report *r)
{
	if (!r)
		return;
	for (int i = 0; r->items && i < r->n; i++) {
		sl_free(r->items[i].unique_id);
		sl_free(r->items[i].source);
		sl_free(r->items[i].table);
		sl_free(r->items[i].message);
	}
	sl_free(r->items);
	r->items = NULL;
	r->n = 0;
}

static int models_source_find(sl_models *m, const char *source, const char *table)
{
	int n = m ? sl_models_source_count(m) : 0;
	for (int i = 0; i < n; i++) {
		const sl_model_source *s = sl_models_source_at(m, i);
		if (strcmp(s->source, source) == 0 && strcmp(s->table, table) == 0)
			return i;
	}
	return -1;
}

static bool glob(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

/* Whether one --select item names the table: "s", "source:s", "s.t",
 * "source:s.t" (globs allowed). */
static bool item_selects(const char *item, const fresh_item *f)
{
	if (strncmp(item, "source:", 7) == 0)
		item += 7;
	char st[512];
	snprintf(st, sizeof st, "%s.%s", f->source, f->table);
	return glob(item, f->source) || glob(item, st) || strcmp(item, f->unique_id) == 0;
}

/* The tables with criteria: the sluice project's (sources/), then the
 * models' sources declared in properties YAML. */
static int collect(const sl_project *p, sl_models *m, sl_arena *a, fresh_item **out, int *n,
		   sl_error *err)
{
	int cap = m ? sl_models_source_count(m) : 0;
	for (int s = 0; s < p->nsources; s++)
		cap += p->sources[s].ntables;
	fresh_item *v = sl_arena_alloc(a, sizeof *v * (size_t)(cap + 1));
	int k = 0;
	if (!v)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int s = 0; s < p->nsources; s++) {
		const sl_source *src = &p->sources[s];
		for (int t = 0; t < src->ntables; t++) {
			const sl_source_freshness *f;
			fresh_item *it = &v[k];
			memset(it, 0, sizeof *it);
			it->source = src->name;
			it->table = src->tables[t].name;
			it->sluice = true;
			sl_project_table_freshness(p, src, &src->tables[t], &f, &it->loaded_at_field);
			it->criteria = (sl_freshness){
				.set = f->set,
				.warn_after = {f->warn_count, f->warn_period, f->warn_seconds},
				.error_after = {f->error_count, f->error_period, f->error_seconds},
				.filter = f->filter,
			};
			it->models_index = models_source_find(m, it->source, it->table);
			const sl_model_source *ms =
				it->models_index >= 0 ? sl_models_source_at(m, it->models_index) : NULL;
			/* Properties YAML may give what sluice.yml does not. */
			if (ms && !f->given && ms->freshness.set) {
				it->criteria = ms->freshness;
				if (!it->loaded_at_field)
					it->loaded_at_field = ms->loaded_at_field;
			}
			it->unique_id = ms && ms->unique_id
				? ms->unique_id
				: sl_arena_sprintf(a, "source.%s.%s.%s", p->name ? p->name : "project",
						   it->source, it->table);
			if (!it->unique_id)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			if (it->criteria.set)
				k++;
		}
	}
	int nm = m ? sl_models_source_count(m) : 0;
	for (int i = 0; i < nm; i++) {
		const sl_model_source *ms = sl_models_source_at(m, i);
		bool dup = false;
		for (int j = 0; j < k && !dup; j++)
			dup = v[j].sluice && strcmp(v[j].source, ms->source) == 0 &&
			      strcmp(v[j].table, ms->table) == 0;
		for (int s = 0; s < p->nsources && !dup; s++)
			for (int t = 0; t < p->sources[s].ntables && !dup; t++)
				dup = strcmp(p->sources[s].name, ms->source) == 0 &&
				      strcmp(p->sources[s].tables[t].name, ms->table) == 0;
		if (dup || !ms->freshness.set)
			continue;
		fresh_item *it = &v[k++];
		memset(it, 0, sizeof *it);
		it->source = ms->source;
		it->table = ms->table;
		it->criteria = ms->freshness;
		it->loaded_at_field = ms->loaded_at_field;
		it->models_index = i;
		it->unique_id = ms->unique_id
			? ms->unique_id
			: sl_arena_sprintf(a, "source.%s.%s.%s", ms->package ? ms->package : "project",
					   ms->source, ms->table);
		if (!it->unique_id)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	*out = v;
	*n = k;
	return 0;
}

/* "3h 12m", "2d 4h", "45s" */
static void age_text(double secs, char *out, size_t n)
{
	int64_t s = (int64_t)secs;
	if (s >= 86400)
		snprintf(out, n, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, n, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, n, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

/* Why a table is not fresh, when the measure did not say. */
static char *judge_message(const sl_freshness_run *r)
{
	const sl_freshness_rule *rule = r->status == SL_FRESH_ERROR ? &r->criteria.error_after
								     : &r->criteria.warn_after;
	const char *which = r->status == SL_FRESH_ERROR ? "error_after" : "warn_after";
	char age[64];
	if (r->max_loaded_at == 0)
		return sl_engine_printf("%s.%s was never loaded (%s: %lld %s%s)", r->source,
					r->table, which, (long long)rule->count, rule->period,
					rule->count == 1 ? "" : "s");
	age_text(r->age_seconds, age, sizeof age);
	return sl_engine_printf("%s.%s was last loaded %s ago, more than %s's %lld %s%s",
				r->source, r->table, age, which, (long long)rule->count,
				rule->period, rule->count == 1 ? "" : "s");
}

/* By the table's last load recorded in state.db. */
static int measure_by_load(sl_state *st, const fresh_item *it, sl_freshness_run *r,
			   sl_error *err)
{
	char key[512];
	int64_t at = 0;
	bool by_load = true;
	snprintf(key, sizeof key, "%s.%s", it->source, it->table);
	int rc = sl_state_table_loaded_at(st, key, &at, &by_load, err);
	if (rc < 0)
		return rc;
	r->by_load_time = true;
	r->snapshotted_at = sl_now_micros();
	r->max_loaded_at = at;
	r->age_seconds = at > 0 ? (double)(r->snapshotted_at - at) / 1e6 : 0;
	r->status = sl_freshness_judge(&it->criteria, at > 0 ? r->age_seconds : 1e18);
	if (at == 0 && r->status == SL_FRESH_PASS)
		r->status = SL_FRESH_WARN;
	return 0;
}

int sl_engine_freshness(const sl_project *p, sl_models *models, const char *target,
			const char *const *select, int nselect, sl_freshness_report *out,
			sl_error *err)
{
	sl_arena a;
	fresh_item *items = NULL;
	sl_state *st = NULL;
	sl_wh *wh = NULL;
	bool *chosen = NULL, started = false;
	int n = 0, m = 0, rc;
	const sl_target *tg = sl_project_target(p, target);

	memset(out, 0, sizeof *out);
	sl_arena_init(&a, 4096);
	if ((rc = collect(p, models, &a, &items, &n, err)) < 0)
		goto out;
	chosen = sl_calloc((size_t)n + 1, sizeof *chosen);
	if (!chosen) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nselect; i++) {
		bool any = false;
		for (int k = 0; k < n; k++)
			if (item_selects(select[i], &items[k]))
				chosen[k] = any = true;
		if (!any) {
			rc = sl_error_set(err, SL_EUSAGE, "--select: \"%s\" matches no source table "
					  "with freshness criteria (freshness: with warn_after or "
					  "error_after)", select[i]);
			goto out;
		}
	}
	for (int k = 0; k < n; k++) {
		if (nselect == 0)
			chosen[k] = true;
		m += chosen[k];
	}
	out->items = sl_calloc((size_t)m + 1, sizeof *out->items);
	if (!out->items) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sl_state_open(&st, p->dir, err)) < 0)
		goto out;
	sl_state_run_info info = {.command = "source freshness",
				  .target = tg ? tg->name : NULL,
				  .logical_date = sl_now_micros()};
	info.data_interval_start = info.data_interval_end = info.logical_date;
	int64_t seq;
	if (m > 0) {
		if ((rc = sl_state_run_start(st, &info, out->run_id, &seq, err)) < 0)
			goto out;
		started = true;
	}
	out->started_at = sl_now_micros();
	for (int k = 0; k < n; k++) {
		if (!chosen[k])
			continue;
		const fresh_item *it = &items[k];
		sl_freshness_run *r = &out->items[out->n++];
		double t0 = sl_monotonic_seconds();
		sl_error e = SL_ERROR_INIT;
		r->unique_id = sl_strdup(it->unique_id);
		r->source = sl_strdup(it->source);
		r->table = sl_strdup(it->table);
		r->criteria = it->criteria;
		if (!r->unique_id || !r->source || !r->table) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		int mr;
		if (it->loaded_at_field && models && it->models_index >= 0) {
			sl_freshness_result fr = {0};
			mr = 0;
			if (!wh) {
				sl_wh_config c;
				if (!tg)
					mr = sl_error_set(&e, SL_ECONFIG, "no target to measure in");
				else
					sl_engine_wh_config(tg, &c);
				if (mr == 0 && (mr = sl_wh_open(&wh, &c, &e)) < 0)
					sl_error_prefix(&e, "target %s: ", tg->name);
			}
			if (mr == 0)
				mr = sl_models_freshness(models, it->models_index, wh, &fr, &e);
			if (mr == 0) {
				r->status = fr.status;
				r->max_loaded_at = fr.max_loaded_at;
				r->snapshotted_at = fr.snapshotted_at;
				r->age_seconds = fr.age_seconds;
				r->message = fr.message;
				fr.message = NULL;
			}
			sl_freshness_result_free(&fr);
		} else if (it->sluice) {
			mr = measure_by_load(st, it, r, &e);
		} else {
			mr = sl_error_set(&e, SL_ECONFIG, "source %s.%s has freshness criteria but "
					  "no loaded_at_field to measure it by", it->source,
					  it->table);
		}
		if (mr < 0) {
			r->status = SL_FRESH_RUNTIME_ERROR;
			sl_free(r->message);
			r->message = sl_strdup(e.message);
			if (!r->snapshotted_at)
				r->snapshotted_at = sl_now_micros();
		} else if (r->status != SL_FRESH_PASS && !r->message) {
			r->message = judge_message(r);
		}
		r->seconds = sl_monotonic_seconds() - t0;
		switch (r->status) {
		case SL_FRESH_PASS: out->passed++; break;
		case SL_FRESH_WARN: out->warned++; break;
		case SL_FRESH_ERROR: out->errored++; break;
		default: out->runtime_errors++; break;
		}
		sl_state_freshness rec = {
			.run_id = out->run_id,
			.source_id = r->unique_id,
			.source = r->source,
			.table = r->table,
			.status = (char *)sl_fresh_status_name(r->status),
			.max_loaded_at = r->max_loaded_at,
			.snapshotted_at = r->snapshotted_at,
			.age_seconds = r->age_seconds,
			.by_load_time = r->by_load_time,
			.message = r->message,
			.seconds = r->seconds,
		};
		if ((rc = sl_state_freshness_put(st, &rec, err)) < 0)
			goto out;
	}
	out->ended_at = sl_now_micros();
	if (started) {
		char *msg = out->errored || out->runtime_errors
			? sl_engine_printf("%d of %d source tables stale, %d could not be measured",
					   out->errored, out->n, out->runtime_errors)
			: NULL;
		rc = sl_state_run_end(st, out->run_id,
				      out->errored || out->runtime_errors ? "failed" : "success", msg,
				      err);
		sl_free(msg);
		started = false;
	}
out:
	if (rc < 0 && started) {
		sl_error e = SL_ERROR_INIT;
		sl_state_run_end(st, out->run_id, "failed", err->message, &e);
	}
	if (rc < 0)
		sl_freshness_report_free(out);
	sl_wh_close(wh);
	sl_state_close(st);
	sl_free(chosen);
	sl_arena_free(&a);
	return rc;
}
