/*
 * models_build.c: building one node in a warehouse — its schema made,
 * pre-hooks, the materialization through the warehouse's interface (view,
 * table, incremental with its strategy, snapshot, seed), post-hooks —
 * and the compiled and run files under target/.
 */
#include "models/models_int.h"
#include "models/models_seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

/* The strings of a config that is a string or a list of strings, in a. */
static int str_list(const sl_tpl_value *v, const char ***out, int *n, sl_arena *a)
{
	*out = NULL;
	*n = 0;
	if (!v || v->type == SL_TPL_NONE || v->type == SL_TPL_UNDEFINED)
		return 0;
	size_t len = v->type == SL_TPL_LIST ? v->u.list->len : 1;
	const char **items = sl_arena_alloc(a, sizeof *items * (len ? len : 1));
	if (!items)
		return SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		const sl_tpl_value *it = v->type == SL_TPL_LIST ? &v->u.list->items[i] : v;
		if (it->type == SL_TPL_STRING)
			items[(*n)++] = it->u.str.s;
		else if (it->type == SL_TPL_DICT && m_dict_str(it, "sql"))
			items[(*n)++] = m_dict_str(it, "sql");
	}
	*out = items;
	return 0;
}

/* Runs the node's pre_hook or post_hook list, each rendered first. */
static int run_hooks(sl_models *m, m_node *n, sl_wh *wh, const char *key, sl_error *err)
{
	sl_arena a;
	const char **hooks;
	int nh, rc;
	sl_arena_init(&a, 1024);
	rc = str_list(m_dict_get(&n->cfg, key), &hooks, &nh, &a);
	if (rc < 0) {
		sl_arena_free(&a);
		return oom(err);
	}
	for (int i = 0; rc == 0 && i < nh; i++) {
		sl_buf sql = SL_BUF_INIT;
		char name[400];
		snprintf(name, sizeof name, "%s (%s %d)", n->pub.path, key, i + 1);
		rc = m_render_text(m, n, wh, name, hooks[i], &sql, err);
		const char *s = sql.data ? sql.data : "";
		if (rc == 0 && s[strspn(s, " \t\r\n;")])
			rc = sl_wh_exec(wh, s, err);
		if (rc < 0)
			sl_error_prefix(err, "%s: ", key);
		sl_buf_free(&sql);
	}
	sl_arena_free(&a);
	return rc;
}

static bool full_refresh_of(sl_models *m, m_node *n)
{
	const sl_tpl_value *fr = m_dict_get(&n->cfg, "full_refresh");
	return fr && fr->type != SL_TPL_NONE && fr->type != SL_TPL_UNDEFINED
		       ? sl_tpl_truthy(fr)
		       : m->o.full_refresh;
}

static int build_incremental(sl_models *m, m_node *n, sl_wh *wh, const char *sql,
			     sl_wh_build_result *res, sl_error *err)
{
	sl_wh_incremental inc;
	sl_arena a;
	int rc;
	memset(&inc, 0, sizeof inc);
	sl_arena_init(&a, 1024);
	const char **keys, **preds;
	int nkeys, npreds;
	if (str_list(m_dict_get(&n->cfg, "unique_key"), &keys, &nkeys, &a) < 0 ||
	    str_list(m_dict_get(&n->cfg, "incremental_predicates"), &preds, &npreds, &a) < 0) {
		sl_arena_free(&a);
		return oom(err);
	}
	inc.unique_key = keys;
	inc.nunique_key = nkeys;
	inc.predicates = preds;
	inc.npredicates = npreds;
	inc.full_refresh = full_refresh_of(m, n);
	const char *st = m_dict_str(&n->cfg, "incremental_strategy");
	const char *osc = m_dict_str(&n->cfg, "on_schema_change");
	static const char *const oscs[] = {"ignore", "fail", "append_new_columns",
					   "sync_all_columns", NULL};
	bool osc_ok = !osc;
	for (int i = 0; osc && oscs[i]; i++)
		if (strcmp(osc, oscs[i]) == 0) {
			inc.on_schema_change = (sl_wh_on_schema_change)i;
			osc_ok = true;
		}
	if (!st || strcmp(st, "default") == 0)
		inc.strategy = nkeys ? SL_WH_INC_DELETE_INSERT : SL_WH_INC_APPEND;
	else if (strcmp(st, "append") == 0)
		inc.strategy = SL_WH_INC_APPEND;
	else if (strcmp(st, "merge") == 0)
		inc.strategy = SL_WH_INC_MERGE;
	else if (strcmp(st, "delete+insert") == 0)
		inc.strategy = SL_WH_INC_DELETE_INSERT;
	else {
		rc = sl_error_set(err, SL_ECONFIG, "%s: incremental_strategy '%s' is not supported; "
				  "use append, merge or delete+insert", n->pub.path, st);
		goto done;
	}
	if (inc.strategy != SL_WH_INC_APPEND && nkeys == 0) {
		rc = sl_error_set(err, SL_ECONFIG, "%s: incremental_strategy '%s' needs a "
				  "unique_key (a column or a list of columns)", n->pub.path, st);
		goto done;
	}
	if (!osc_ok) {
		rc = sl_error_set(err, SL_ECONFIG, "%s: on_schema_change '%s' is not one of "
				  "ignore, fail, append_new_columns, sync_all_columns",
				  n->pub.path, osc);
		goto done;
	}
	rc = sl_wh_build_incremental(wh, n->pub.schema, n->pub.alias, sql, &inc, res, err);
done:
	sl_arena_free(&a);
	return rc;
}

/* 'YYYY-MM-DD HH:MM:SS.ffffff' of the run's start (UTC), or now. */
static void snapshot_now(sl_models *m, char *out, size_t n)
{
	int64_t us = 0;
	const char *s = m->o.run_started_at;
	if (!s || sl_timestamp_parse(s, strlen(s), &us) < 0)
		us = sl_now_micros();
	int64_t days = us / SL_MICROS_PER_DAY, rem = us % SL_MICROS_PER_DAY;
	if (rem < 0) {
		rem += SL_MICROS_PER_DAY;
		days--;
	}
	int64_t y;
	unsigned mo, d;
	sl_civil_from_days((int32_t)days, &y, &mo, &d);
	int64_t secs = rem / SL_MICROS_PER_SEC;
	snprintf(out, n, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06lld", (long long)y, mo, d,
		 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60),
		 (long long)(rem % SL_MICROS_PER_SEC));
}

static int build_snapshot(sl_models *m, m_node *n, sl_wh *wh, const char *sql,
			  sl_wh_build_result *res, sl_error *err)
{
	sl_wh_snapshot snap;
	sl_arena a;
	char now[40];
	int rc = 0;
	memset(&snap, 0, sizeof snap);
	sl_arena_init(&a, 1024);
	const char **keys, **checks;
	int nkeys, nchecks;
	const sl_tpl_value *cc = m_dict_get(&n->cfg, "check_cols");
	bool all = cc && cc->type == SL_TPL_STRING && strcmp(cc->u.str.s, "all") == 0;
	if (str_list(m_dict_get(&n->cfg, "unique_key"), &keys, &nkeys, &a) < 0 ||
	    str_list(all ? NULL : cc, &checks, &nchecks, &a) < 0) {
		sl_arena_free(&a);
		return oom(err);
	}
	const char *st = m_dict_str(&n->cfg, "strategy");
	snap.unique_key = keys;
	snap.nunique_key = nkeys;
	snap.check_cols = checks;
	snap.ncheck_cols = nchecks;
	snap.updated_at = m_dict_str(&n->cfg, "updated_at");
	if (!st || (strcmp(st, "timestamp") != 0 && strcmp(st, "check") != 0))
		rc = sl_error_set(err, SL_ECONFIG, "%s: snapshot %s needs strategy: timestamp or "
				  "check%s%s%s", n->pub.path, n->pub.name, st ? " (not '" : "",
				  st ? st : "", st ? "')" : "");
	else if (nkeys == 0)
		rc = sl_error_set(err, SL_ECONFIG, "%s: snapshot %s needs a unique_key",
				  n->pub.path, n->pub.name);
	else if (strcmp(st, "timestamp") == 0 && !snap.updated_at)
		rc = sl_error_set(err, SL_ECONFIG, "%s: snapshot %s uses strategy timestamp and "
				  "needs updated_at: the column holding when a row changed",
				  n->pub.path, n->pub.name);
	else if (strcmp(st, "check") == 0 && !cc)
		rc = sl_error_set(err, SL_ECONFIG, "%s: snapshot %s uses strategy check and needs "
				  "check_cols: a list of columns, or 'all'", n->pub.path,
				  n->pub.name);
	if (rc == 0) {
		snap.strategy = strcmp(st, "check") == 0 ? SL_WH_SNAP_CHECK : SL_WH_SNAP_TIMESTAMP;
		const char *hd = m_dict_str(&n->cfg, "hard_deletes");
		const sl_tpl_value *inv = m_dict_get(&n->cfg, "invalidate_hard_deletes");
		snap.hard_deletes = SL_WH_HARD_IGNORE;
		if (inv && sl_tpl_truthy(inv))
			snap.hard_deletes = SL_WH_HARD_INVALIDATE;
		if (hd && strcmp(hd, "invalidate") == 0)
			snap.hard_deletes = SL_WH_HARD_INVALIDATE;
		else if (hd && strcmp(hd, "new_record") == 0)
			snap.hard_deletes = SL_WH_HARD_NEW_RECORD;
		else if (hd && strcmp(hd, "ignore") != 0)
			rc = sl_error_set(err, SL_ECONFIG, "%s: hard_deletes '%s' is not one of "
					  "ignore, invalidate, new_record", n->pub.path, hd);
	}
	if (rc == 0) {
		snapshot_now(m, now, sizeof now);
		snap.now = now;
		rc = sl_wh_build_snapshot(wh, n->pub.schema, n->pub.alias, sql, &snap, res, err);
	}
	sl_arena_free(&a);
	return rc;
}

int sl_models_build(sl_models *m, int i, sl_wh *wh, const sl_cancel *cancel,
		    sl_node_result *res, sl_error *err)
{
	sl_node_result local;
	sl_buf sql = SL_BUF_INIT;
	int rc;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	res->rows = -1;
	res->build.rows_inserted = -1;
	if (i < 0 || i >= m->nenabled)
		return sl_error_set(err, SL_EINVAL, "no node %d", i);
	m_node *n = m->enabled[i];
	if (n->pub.type == SL_NODE_TEST)
		return sl_error_set(err, SL_EINVAL, "%s is a data test: run it with sl_models_test",
				    n->pub.unique_id);
	if (n->pub.materialized == SL_MAT_EPHEMERAL)
		return 0;
	if ((rc = sl_cancel_check(cancel, n->pub.unique_id, err)) < 0)
		return rc;
	rc = sl_wh_ensure_schema(wh, n->pub.schema, err);
	if (rc == 0 && n->pub.type != SL_NODE_SEED) {
		rc = m_compile(m, n, wh, &sql, err);
		if (rc == 0)
			rc = m_write_target(m, n, "compiled", sql.data ? sql.data : "", sql.len, err);
	}
	if (rc == 0)
		rc = run_hooks(m, n, wh, "pre_hook", err);
	if (rc == 0 && (rc = sl_cancel_check(cancel, n->pub.unique_id, err)) == 0) {
		const char *s = sql.data ? sql.data : "";
		switch (n->pub.materialized) {
		case SL_MAT_VIEW:
			rc = sl_wh_build_view(wh, n->pub.schema, n->pub.alias, s, &res->build, err);
			break;
		case SL_MAT_TABLE:
			rc = sl_wh_build_table(wh, n->pub.schema, n->pub.alias, s, &res->build, err);
			break;
		case SL_MAT_INCREMENTAL:
			rc = build_incremental(m, n, wh, s, &res->build, err);
			break;
		case SL_MAT_SNAPSHOT:
			rc = build_snapshot(m, n, wh, s, &res->build, err);
			break;
		case SL_MAT_SEED:
			rc = m_seed_build(m, n, wh, &res->build, err);
			break;
		case SL_MAT_EPHEMERAL:
			break;
		}
	}
	if (rc == 0)
		rc = run_hooks(m, n, wh, "post_hook", err);
	if (rc == 0 && n->pub.type != SL_NODE_SEED)
		rc = m_write_target(m, n, "run", sql.data ? sql.data : "", sql.len, err);
	if (rc == 0)
		res->rows = res->build.rows_inserted;
	else
		m_error_tidy(err);
	sl_buf_free(&sql);
	return rc;
}
