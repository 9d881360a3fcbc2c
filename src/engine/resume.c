/*
 * resume.c: what `--resume RUN_ID` reruns. A run records what it selected
 * (params: select, exclude, full_refresh, indirect_selection and the
 * kinds of node it ran, resource_types); resuming it selects the same
 * tasks again, with its logical date and data interval, minus those that
 * succeeded in it or in a run it resumed in turn.
 */
#include "engine/engine_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *engine_params_json(const sl_run_opts *o)
{
	json_t *root = json_object(), *sel = json_array(), *exc = json_array();
	for (int i = 0; i < o->nselect; i++)
		json_array_append_new(sel, json_string(o->select[i]));
	for (int i = 0; i < o->nexclude; i++)
		json_array_append_new(exc, json_string(o->exclude[i]));
	json_object_set_new(root, "select", sel);
	json_object_set_new(root, "exclude", exc);
	json_object_set_new(root, "full_refresh", json_boolean(o->full_refresh));
	json_object_set_new(root, "indirect_selection",
			    o->indirect_selection ? json_string(o->indirect_selection) : json_null());
	json_t *kinds = json_array();
	if (o->run_models)
		json_array_append_new(kinds, json_string("model"));
	if (o->run_seeds)
		json_array_append_new(kinds, json_string("seed"));
	if (o->run_snapshots)
		json_array_append_new(kinds, json_string("snapshot"));
	if (o->run_tests)
		json_array_append_new(kinds, json_string("test"));
	json_object_set_new(root, "resource_types", kinds);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	char *out = text ? sl_strdup(text) : NULL;
	free(text);
	return out;
}

/* The strings of a JSON array into a (NULL on a malformed record). */
static int strings_of(sl_arena *a, json_t *arr, const char ***out, int *n)
{
	size_t len = json_is_array(arr) ? json_array_size(arr) : 0;
	const char **items = sl_arena_alloc(a, sizeof *items * (len ? len : 1));
	if (!items)
		return SL_ENOMEM;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s && !(items[(*n)++] = sl_arena_strdup(a, s)))
			return SL_ENOMEM;
	}
	*out = items;
	return 0;
}

/* Adds to done the tasks whose last attempt in run_id succeeded. */
static int add_succeeded(sl_state *st, const char *run_id, engine_resume *r, sl_error *err)
{
	sl_state_tasks tasks;
	int rc = sl_state_tasks_list(st, run_id, &tasks, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < tasks.n && rc == 0; i++) {
		const sl_state_task *t = &tasks.items[i];
		bool later = false; /* a later attempt of the same task decides */
		for (int j = i + 1; j < tasks.n && !later; j++)
			later = strcmp(tasks.items[j].task, t->task) == 0;
		if (later || !t->status || strcmp(t->status, "success") != 0)
			continue;
		if (r->ndone == r->capdone) {
			int cap = r->capdone ? r->capdone * 2 : 32;
			const char **d = sl_arena_alloc(&r->arena, sizeof *d * (size_t)cap);
			if (!d) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				break;
			}
			if (r->ndone)
				memcpy(d, r->done, sizeof *d * (size_t)r->ndone);
			r->done = d;
			r->capdone = cap;
		}
		if (!(r->done[r->ndone++] = sl_arena_strdup(&r->arena, t->task)))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	sl_state_tasks_free(&tasks);
	return rc;
}

int engine_resume_load(sl_state *st, const char *run_id, const char *command,
		       engine_resume *r, sl_error *err)
{
	sl_state_runs runs = {0};
	json_t *params = NULL;
	int rc;

	memset(r, 0, sizeof *r);
	sl_arena_init(&r->arena, 4096);
	rc = sl_state_run_get(st, run_id, &runs, err);
	if (rc == SL_ENOTFOUND) {
		rc = sl_error_set(err, SL_EUSAGE, "--resume: no run %s in the state db; `sluice "
				  "runs` lists them", run_id);
		goto done;
	}
	if (rc < 0)
		goto done;
	const sl_state_run *old = &runs.items[0];
	if (strcmp(old->status, "running") == 0) {
		rc = sl_error_set(err, SL_EUSAGE, "--resume: run %s is still running (pid %lld "
				  "on %s); wait for it or stop it first", run_id,
				  (long long)old->pid, old->host ? old->host : "?");
		goto done;
	}
	if (strcmp(old->command, command) != 0) {
		rc = sl_error_set(err, SL_EUSAGE, "--resume: run %s was a `sluice %s` run; resume "
				  "it with `sluice %s --resume %s`", run_id, old->command,
				  old->command, run_id);
		goto done;
	}
	snprintf(r->run_id, sizeof r->run_id, "%s", old->run_id);
	r->logical_date = old->logical_date;
	r->data_interval_start = old->data_interval_start;
	r->data_interval_end = old->data_interval_end;
	params = old->params ? json_loads(old->params, 0, NULL) : NULL;
	if (old->params && !params) {
		rc = sl_error_set(err, SL_EFORMAT, "--resume: run %s has an unreadable selection "
				  "record in the state db", run_id);
		goto done;
	}
	if (params) {
		if (strings_of(&r->arena, json_object_get(params, "select"), &r->select,
			       &r->nselect) < 0 ||
		    strings_of(&r->arena, json_object_get(params, "exclude"), &r->exclude,
			       &r->nexclude) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
		r->full_refresh = json_is_true(json_object_get(params, "full_refresh"));
		const char *ind = json_string_value(json_object_get(params, "indirect_selection"));
		if (ind && !(r->indirect_selection = sl_arena_strdup(&r->arena, ind))) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
		/* Runs recorded before resource_types was kept: the command's kinds. */
		json_t *kinds = json_object_get(params, "resource_types");
		if (json_is_array(kinds)) {
			r->has_kinds = true;
			size_t k;
			json_t *v;
			json_array_foreach(kinds, k, v) {
				const char *s = json_string_value(v);
				if (!s)
					continue;
				r->run_models |= strcmp(s, "model") == 0;
				r->run_seeds |= strcmp(s, "seed") == 0;
				r->run_snapshots |= strcmp(s, "snapshot") == 0;
				r->run_tests |= strcmp(s, "test") == 0;
			}
		}
	}
	/* What succeeded in this run, or in the runs it resumed. */
	char next[SL_RUN_ID_MAX];
	snprintf(next, sizeof next, "%s", old->run_id);
	sl_state_runs_free(&runs);
	for (int depth = 0; next[0] && depth < 1000; depth++) {
		if ((rc = add_succeeded(st, next, r, err)) < 0)
			break;
		rc = sl_state_run_get(st, next, &runs, err);
		if (rc == SL_ENOTFOUND) { /* an earlier run deleted from state.db */
			sl_error_clear(err);
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		snprintf(next, sizeof next, "%s",
			 runs.items[0].resumed_from ? runs.items[0].resumed_from : "");
		sl_state_runs_free(&runs);
	}
done:
	json_decref(params);
	sl_state_runs_free(&runs);
	if (rc < 0)
		engine_resume_free(r);
	return rc;
}

bool engine_resume_done(const engine_resume *r, const char *task_id)
{
	for (int i = 0; i < r->ndone; i++)
		if (strcmp(r->done[i], task_id) == 0)
			return true;
	return false;
}

void engine_resume_free(engine_resume *r)
{
	sl_arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}
