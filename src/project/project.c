/*
 * project.c: loading sluice.yml (name, lake, targets, schedule, vars, defaults) into
 * an sl_project whose strings live in its arena, and looking things up in
 * it. Sources are read by project_sources.c.
 */
#include "project/project_int.h"
#include "warehouse/warehouse.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const sl_target *sl_project_target(const sl_project *p, const char *name)
{
	if (!name)
		name = p->target;
	for (int i = 0; name && i < p->ntargets; i++)
		if (strcmp(p->targets[i].name, name) == 0)
			return &p->targets[i];
	return NULL;
}

const sl_source *sl_project_source(const sl_project *p, const char *name)
{
	for (int i = 0; i < p->nsources; i++)
		if (strcmp(p->sources[i].name, name) == 0)
			return &p->sources[i];
	return NULL;
}

void sl_project_free(sl_project *p)
{
	if (!p)
		return;
	sl_arena_free(&p->arena);
	sl_free(p);
}

/* ------------------------------------------------------------------ cron */

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat",
					NULL};

/* Parses a number or a 3-letter name at *s within [lo, hi]. */
static bool cron_value(const char **s, int lo, int hi, const char *const *names, int base)
{
	const char *p = *s;
	if (*p >= '0' && *p <= '9') {
		long v = 0;
		while (*p >= '0' && *p <= '9' && v < 1000)
			v = v * 10 + (*p++ - '0');
		*s = p;
		return v >= lo && v <= hi;
	}
	for (int i = 0; names && names[i]; i++) {
		if (strncasecmp(p, names[i], 3) == 0) {
			*s = p + 3;
			return i + base >= lo && i + base <= hi;
		}
	}
	return false;
}

/* One cron field: comma-separated "*", "n", "n-m", each with optional "/step". */
static bool cron_field(const char *f, int lo, int hi, const char *const *names, int base)
{
	const char *p = f;
	for (;;) {
		if (*p == '*') {
			p++;
		} else {
			if (!cron_value(&p, lo, hi, names, base))
				return false;
			if (*p == '-') {
				p++;
				if (!cron_value(&p, lo, hi, names, base))
					return false;
			}
		}
		if (*p == '/') {
			p++;
			if (!(*p >= '1' && *p <= '9'))
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		return *p == '\0';
	}
}

/* Checks a 5-field cron expression; *why names the bad part. */
static bool cron_valid(const char *expr, char *why, size_t whysz)
{
	static const char *const field_names[] = {"minute", "hour", "day of month", "month",
						  "day of week"};
	static const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
	char fields[5][64];
	int n = 0;
	const char *p = expr;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " \t");
		if (n == 5 || len >= sizeof fields[0]) {
			snprintf(why, whysz, "a cron schedule has 5 fields "
				 "(minute hour day-of-month month day-of-week)");
			return false;
		}
		memcpy(fields[n], p, len);
		fields[n++][len] = '\0';
		p += len;
	}
	if (n != 5) {
		snprintf(why, whysz, "a cron schedule has 5 fields "
			 "(minute hour day-of-month month day-of-week), this one has %d", n);
		return false;
	}
	for (int i = 0; i < 5; i++) {
		const char *const *names = i == 3 ? month_names : i == 4 ? dow_names : NULL;
		if (!cron_field(fields[i], lo[i], hi[i], names, i == 3 ? 1 : 0)) {
			snprintf(why, whysz, "bad %s field \"%s\" (allowed: %d-%d, *, lists, "
				 "ranges and /steps)", field_names[i], fields[i], lo[i], hi[i]);
			return false;
		}
	}
	return true;
}

/* --------------------------------------------------------------- targets */

static const char *const project_keys[] = {"name", "lake", "target", "targets", "schedule",
					   "vars", "lake_commit_lock", "defaults", NULL};
/* defaults: what every table's tasks inherit (project_policy.c). */
static const char *const default_keys[] = {"retries", "retry_delay", "timeout", NULL};
static const char *const commit_locks[] = {"none", "state", NULL};
/*
 * Targets. A target's generic keys are its name (the mapping key) and its
 * type; every other key belongs to the warehouse adapter of that type,
 * which says which keys it takes, their types, limits and defaults
 * (sl_wh_adapter). Values are kept as text in the target's settings and,
 * for the keys sl_target has fields for, there as well.
 */

/* sl_target's field for an adapter setting that has one, or NULL. */
static char **target_field(sl_target *t, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{"path", offsetof(sl_target, path)},
		{"host", offsetof(sl_target, host)},
		{"dbname", offsetof(sl_target, dbname)},
		{"user", offsetof(sl_target, user)},
		{"password", offsetof(sl_target, password)},
		{"sslmode", offsetof(sl_target, sslmode)},
		{"schema", offsetof(sl_target, schema)},
		{"raw_schema", offsetof(sl_target, raw_schema)},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(key, fields[i].key) == 0)
			return (char **)((char *)t + fields[i].off);
	return NULL;
}

/* The target types (adapter names), NULL-ended, in the arena. */
static const char **target_types(pj_file *f)
{
	int n = 0;
	while (sl_wh_adapter_at(n))
		n++;
	const char **names = sl_arena_alloc(f->arena, sizeof *names * (size_t)(n + 1));
	if (!names)
		return NULL;
	for (int i = 0; i < n; i++)
		names[i] = sl_wh_adapter_at(i)->name;
	names[n] = NULL;
	return names;
}

/* "sqlite, postgres or duckdb", in the arena. */
static const char *target_types_text(pj_file *f)
{
	sl_buf b = SL_BUF_INIT;
	int n = 0;
	while (sl_wh_adapter_at(n))
		n++;
	for (int i = 0; i < n; i++)
		sl_buf_printf(&b, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
			      sl_wh_adapter_at(i)->name);
	const char *s = sl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
	sl_buf_free(&b);
	return s;
}

/* Every key a target may have, whatever its type: "type" and every
 * adapter's settings, NULL-ended, in the arena. */
static const char **target_all_keys(pj_file *f)
{
	int n = 1;
	for (int i = 0; sl_wh_adapter_at(i); i++)
		for (const sl_wh_key *k = sl_wh_adapter_at(i)->keys; k && k->name; k++)
			n++;
	const char **keys = sl_arena_alloc(f->arena, sizeof *keys * (size_t)(n + 1));
	if (!keys)
		return NULL;
	int m = 0;
	keys[m++] = "type";
	for (int i = 0; sl_wh_adapter_at(i); i++)
		for (const sl_wh_key *k = sl_wh_adapter_at(i)->keys; k && k->name; k++) {
			bool seen = false;
			for (int j = 0; j < m && !seen; j++)
				seen = strcmp(keys[j], k->name) == 0;
			if (!seen)
				keys[m++] = k->name;
		}
	keys[m] = NULL;
	return keys;
}

/* Records setting key = value (from line) in t, and in its field. */
int pj_target_set(pj_file *f, sl_target *t, const char *key, char *value, int line)
{
	sl_kv *items = sl_arena_alloc(f->arena, sizeof *items * (size_t)(t->settings.n + 1));
	if (!items)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (t->settings.n)
		memcpy(items, t->settings.items, sizeof *items * (size_t)t->settings.n);
	items[t->settings.n++] = (sl_kv){(char *)key, value, line};
	t->settings.items = items;
	char **field = target_field(t, key);
	if (field)
		*field = value;
	return 0;
}

/*
 * The settings of target t from v (NULL: none given, every default) for
 * adapter a: each of its keys read with its type and limits, defaults
 * filled in, secrets registered, paths resolved against the project.
 */
static int target_settings(sl_project *p, pj_file *f, yaml_node_t *v, sl_target *t,
			   const sl_wh_adapter *a, const char *where)
{
	int rc;
	for (const sl_wh_key *k = a->keys; k && k->name; k++) {
		int line = t->line;
		yaml_node_t *node = v ? pj_get(f, v, k->name, &line) : NULL;
		char *value = NULL;
		if (k->type == SL_WH_KEY_INT) {
			int64_t n = INT64_MIN; /* none yet */
			if (node && !pj_is_null(node)) {
				if ((rc = pj_get_int(f, v, k->name, where, k->min, k->max, &n)) < 0)
					return rc;
				/* ${VAR} of a target not selected: kept as text */
				if (n == INT64_MIN &&
				    (rc = pj_get_str(f, v, k->name, where, &value)) < 0)
					return rc;
			}
			if (n == INT64_MIN && !value && k->def &&
			    sl_parse_int64(k->def, strlen(k->def), &n) < 0)
				n = INT64_MIN;
			if (n != INT64_MIN) {
				value = sl_arena_sprintf(f->arena, "%lld", (long long)n);
				if (!value)
					return sl_error_set(f->err, SL_ENOMEM, "out of memory");
				if (strcmp(k->name, "port") == 0 && !k->ignored)
					t->port = (int)n;
			}
		} else {
			if (node && (rc = pj_get_str(f, v, k->name, where, &value)) < 0)
				return rc;
			if (!value && k->def && !(value = sl_arena_strdup(f->arena, k->def)))
				return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		}
		if (!value)
			continue;
		if (k->type == SL_WH_KEY_SECRET && !f->keep_env)
			sl_log_add_secret(value);
		if (k->ignored)
			continue;
		if (k->type == SL_WH_KEY_PATH && !*value)
			return pj_err(f, node ? pj_line(node) : t->line,
				      "\"%s\"%s is empty; name the database file, e.g. %s", k->name,
				      where, k->example ? k->example : "./warehouse.db");
		if (k->type == SL_WH_KEY_PATH && strcmp(k->name, "path") == 0) {
			t->path_abs = strcmp(value, ":memory:") == 0
					      ? value
					      : pj_abs_path(f->arena, p->dir, value);
			if (!t->path_abs)
				return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		}
		if ((rc = pj_target_set(f, t, k->name, value, node ? pj_line(node) : t->line)) < 0)
			return rc;
	}
	return 0;
}

/* The settings of target t (v: its mapping); where: " in target \"x\"". */
static int load_target_values(sl_project *p, pj_file *f, yaml_node_t *v, sl_target *t,
			      const char *where)
{
	int rc, type = -1;
	const char **types = target_types(f), **all = target_all_keys(f);
	const char *types_text = target_types_text(f);

	if (!types || !all || !types_text)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (v->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(v), "target \"%s\" must be a mapping like "
			      "{type: sqlite, path: ./warehouse.db}, not %s", t->name,
			      pj_is_null(v) ? "empty" : pj_kind_name(v));
	if ((rc = pj_check_keys(f, v, all, where)) < 0)
		return rc;
	if (!pj_get(f, v, "type", NULL) || pj_is_null(pj_get(f, v, "type", NULL)))
		return pj_err(f, t->line, "target \"%s\" needs a type: %s", t->name, types_text);
	if ((rc = pj_get_enum(f, v, "type", where, types, &type)) < 0)
		return rc;
	if (type < 0) { /* ${VAR} of a target not selected: unchecked */
		if ((rc = pj_get_str(f, v, "type", where, &t->type)) < 0)
			return rc;
		for (int i = 0; all[i]; i++) {
			char *value = NULL;
			if (strcmp(all[i], "type") == 0)
				continue;
			if ((rc = pj_get_str(f, v, all[i], where, &value)) < 0)
				return rc;
			if (value && (rc = pj_target_set(f, t, all[i], value, t->line)) < 0)
				return rc;
		}
		return 0;
	}
	const sl_wh_adapter *a = sl_wh_adapter_find(types[type]);
	t->type = (char *)a->name;
	/* A key of another warehouse type: say which keys this one takes. */
	for (int i = 0; i < pj_map_len(v); i++) {
		yaml_node_t *k, *val;
		pj_map_pair(f, v, i, &k, &val);
		const char *key = (const char *)k->data.scalar.value;
		if (strcmp(key, "type") != 0 && !sl_wh_adapter_key(a, key))
			return pj_err(f, pj_line(k), "\"%s\"%s does not apply to %s; %s", key, where,
				      a->name, a->settings_hint);
	}
	return target_settings(p, f, v, t, a, where);
}

/*
 * One target. selected: expand its ${VAR}s; otherwise values holding one
 * stay as text (the environment of a target not in use is not needed) and
 * only the structure is checked.
 */
static int load_target(sl_project *p, pj_file *f, yaml_node_t *k, yaml_node_t *v,
		       sl_target *t, bool selected)
{
	int rc;

	t->name = sl_arena_strdup(f->arena, (const char *)k->data.scalar.value);
	t->line = pj_line(k);
	if (!t->name)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_check_name_len(f, t->line, "target name", t->name)) < 0)
		return rc;
	if (!pj_is_ident(t->name))
		return pj_err(f, t->line, "target name \"%s\" must be letters, digits and _",
			      t->name);
	const char *where = sl_arena_sprintf(f->arena, " in target \"%s\"", t->name);
	if (!where)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	f->keep_env = !selected;
	f->kept_env = false;
	rc = load_target_values(p, f, v, t, where);
	t->resolved = !f->kept_env;
	f->keep_env = false;
	return rc;
}

/* "a, b, c": the target names (keys of tv), into the arena. */
static const char *target_list(pj_file *f, yaml_node_t *tv)
{
	sl_buf b = SL_BUF_INIT;
	for (int i = 0; i < pj_map_len(tv); i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, tv, i, &k, &v);
		if (k->type == YAML_SCALAR_NODE)
			sl_buf_printf(&b, "%s%s", i ? ", " : "", (const char *)k->data.scalar.value);
	}
	const char *s = sl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
	sl_buf_free(&b);
	return s ? s : "";
}

/* Whether tv (a mapping) has the target name. */
static bool has_target(pj_file *f, yaml_node_t *tv, const char *name)
{
	yaml_node_t *v = pj_get(f, tv, name, NULL);
	return v != NULL;
}

/* Checks that name is a target (of tv, or the implicit "local"); the
 * error is at line, with how (" (from --target)") after the name. */
static int check_target_name(pj_file *f, yaml_node_t *tv, const char *name, int line,
			     const char *how)
{
	if (tv ? has_target(f, tv, name) : strcmp(name, "local") == 0)
		return 0;
	int n = pj_map_len(tv);
	const char **names = sl_arena_alloc(f->arena, sizeof *names * (size_t)(n + 2));
	if (!names)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	int m = 0;
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, tv, i, &k, &v);
		if (k->type == YAML_SCALAR_NODE)
			names[m++] = (const char *)k->data.scalar.value;
	}
	if (!tv)
		names[m++] = "local";
	names[m] = NULL;
	const char *s = pj_suggest(name, names);
	if (s)
		return pj_err(f, line, "target \"%s\"%s is not defined in targets; did you mean "
			      "\"%s\"?", name, how, s);
	return pj_err(f, line, "target \"%s\"%s is not defined in targets (defined: %s)", name,
		      how, tv ? target_list(f, tv) : "local");
}

/*
 * The selected target's name, before any target is loaded (so that only
 * its ${VAR}s are expanded): want (--target), else sluice.yml's `target`
 * (checked either way), else "local", else the only one. tv is the
 * targets mapping or NULL.
 */
static int pick_target(sl_project *p, pj_file *f, yaml_node_t *root, yaml_node_t *tv,
		       const char *want)
{
	int line = 1, rc;

	pj_get(f, root, "target", &line);
	if ((rc = pj_get_str(f, root, "target", "", &p->target)) < 0)
		return rc;
	if (p->target && (rc = check_target_name(f, tv, p->target, line, "")) < 0)
		return rc;
	if (want) {
		line = 1;
		pj_get(f, root, "targets", &line);
		p->target = sl_arena_strdup(f->arena, want);
		if (!p->target)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		return check_target_name(f, tv, p->target, line, " (from --target)");
	}
	if (p->target)
		return 0;
	if (!tv || has_target(f, tv, "local")) {
		p->target = "local";
	} else if (pj_map_len(tv) == 1) {
		yaml_node_t *k, *v;
		pj_map_pair(f, tv, 0, &k, &v);
		p->target = sl_arena_strdup(f->arena, (const char *)k->data.scalar.value);
		if (!p->target)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	} else {
		return pj_err(f, 1, "several targets (%s) and no default; add "
			      "\"target: NAME\" to sluice.yml (or pass --target)",
			      target_list(f, tv));
	}
	return 0;
}

static int load_targets(sl_project *p, pj_file *f, yaml_node_t *root, const char *want)
{
	int line = 0, rc;
	yaml_node_t *tv = pj_get(f, root, "targets", &line);

	if (pj_is_null(tv)) {
		if ((rc = pick_target(p, f, root, NULL, want)) < 0)
			return rc;
		p->ntargets = 1;
		p->targets = sl_arena_alloc(&p->arena, sizeof *p->targets);
		if (!p->targets)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		memset(p->targets, 0, sizeof *p->targets);
		/* No targets: "local", of the default type with its defaults. */
		sl_target *t = p->targets;
		const sl_wh_adapter *a = sl_wh_adapter_at(0);
		t->name = "local";
		t->type = (char *)a->name;
		t->line = 0;
		t->resolved = true;
		return target_settings(p, f, NULL, t, a, " in target \"local\"");
	}
	if (tv->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(tv), "\"targets\" must be a mapping of target names to "
			      "settings, not %s", pj_kind_name(tv));
	int n = pj_map_len(tv);
	if (n == 0)
		return pj_err(f, line, "\"targets\" is empty; add one, e.g. "
			      "local: {type: sqlite, path: ./warehouse.db}");
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, tv, i, &k, &v);
		if (k->type != YAML_SCALAR_NODE)
			return pj_err(f, pj_line(k), "target names must be plain names, not %s",
				      pj_kind_name(k));
	}
	if ((rc = pick_target(p, f, root, tv, want)) < 0)
		return rc;
	p->targets = sl_arena_alloc(&p->arena, sizeof *p->targets * (size_t)n);
	if (!p->targets)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	memset(p->targets, 0, sizeof *p->targets * (size_t)n);
	for (int i = 0; i < n; i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, tv, i, &k, &v);
		const char *name = (const char *)k->data.scalar.value;
		for (int j = 0; j < i; j++)
			if (strcmp(p->targets[j].name, name) == 0)
				return pj_err(f, pj_line(k), "duplicate target \"%s\" (first defined "
					      "on line %d)", p->targets[j].name,
					      p->targets[j].line);
		if ((rc = load_target(p, f, k, v, &p->targets[i],
				      strcmp(name, p->target) == 0)) < 0)
			return rc;
		p->ntargets = i + 1;
	}
	return 0;
}

/* --------------------------------------------------------------- project */

/* defaults: {retries, retry_delay, timeout}: what every table's tasks
 * inherit unless its source or the table sets them. */
static int load_defaults(sl_project *p, pj_file *f, yaml_node_t *root)
{
	yaml_node_t *d = pj_get(f, root, "defaults", NULL);
	int rc;
	pj_policy_unset(&p->defaults);
	if (pj_is_null(d))
		return 0;
	if (d->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(d), "\"defaults\" must be a mapping like {retries: 2, "
			      "retry_delay: 30s, timeout: 1h}, not %s", pj_kind_name(d));
	if ((rc = pj_check_keys(f, d, default_keys, " in defaults")) < 0)
		return rc;
	return pj_load_policy(f, d, " in defaults", false, &p->defaults);
}

static int load_main(sl_project *p, pj_file *f, const char *want)
{
	yaml_node_t *root = pj_root(f);
	int rc, line = 0;

	if (!root || pj_is_null(root))
		return pj_err(f, 1, "sluice.yml is empty; it needs at least \"name: my_project\"");
	if (root->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(root), "sluice.yml must be a mapping of keys (name, lake, "
			      "targets...), not %s", pj_kind_name(root));
	if ((rc = pj_check_keys(f, root, project_keys, "")) < 0)
		return rc;
	if ((rc = pj_get_str(f, root, "name", "", &p->name)) < 0)
		return rc;
	if (!p->name || !*p->name)
		return pj_err(f, 1, "missing required key \"name\"; add \"name: my_project\"");

	char *lake = "./lake";
	pj_get(f, root, "lake", &line);
	if ((rc = pj_get_str(f, root, "lake", "", &lake)) < 0)
		return rc;
	if (!*lake)
		return pj_err(f, line, "\"lake\" is empty; use a folder like ./lake or s3://bucket/prefix");
	if (sl_str_starts_with(lake, "s3://")) {
		size_t n = strlen(lake);
		while (n > 5 && lake[n - 1] == '/')
			lake[--n] = '\0';
		p->lake = lake;
	} else {
		if (sl_str_starts_with(lake, "file://"))
			lake += 7;
		else if (strstr(lake, "://"))
			return pj_err(f, line,
				      "\"lake\" must be a local folder or an s3:// URL, not \"%s\"",
				      lake);
		p->lake = pj_abs_path(&p->arena, p->dir, lake);
		if (!p->lake)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	}

	int lock = 0;
	if ((rc = pj_get_enum(f, root, "lake_commit_lock", "", commit_locks, &lock)) < 0)
		return rc;
	p->lake_commit_lock = (char *)commit_locks[lock];

	if ((rc = load_targets(p, f, root, want)) < 0)
		return rc;

	if ((rc = pj_get_str(f, root, "schedule", "", &p->schedule)) < 0)
		return rc;
	if (p->schedule) {
		char why[256]; /* cron_valid's reason: fields are cut at 64 bytes */
		if (!cron_valid(p->schedule, why, sizeof why))
			return pj_err(f, pj_line(pj_get(f, root, "schedule", NULL)),
				      "bad schedule \"%s\": %s; e.g. \"0 2 * * *\" runs daily at 02:00",
				      p->schedule, why);
	}
	if ((rc = load_defaults(p, f, root)) < 0)
		return rc;
	return pj_get_kvs(f, root, "vars", "", true, &p->vars);
}

int sl_project_load(sl_project **out, const char *dir, sl_error *err)
{
	return sl_project_load_target(out, dir, NULL, err);
}

int sl_project_load_target(sl_project **out, const char *dir, const char *target,
			   sl_error *err)
{
	sl_project *p = NULL;
	pj_file f;
	char real[PATH_MAX];
	int rc;

	memset(&f, 0, sizeof f);
	*out = NULL;
	if (!realpath(dir ? dir : ".", real))
		return sl_error_set(err, SL_ECONFIG, "project directory %s: %s; pass "
				    "--project-dir with the folder holding sluice.yml",
				    dir ? dir : ".", strerror(errno));
	rc = sl_alloc_zeroed((void **)&p, sizeof *p, err);
	if (rc < 0)
		return rc;
	sl_arena_init(&p->arena, 16 * 1024);
	p->dir = sl_arena_strdup(&p->arena, real);
	p->file = p->dir ? sl_arena_sprintf(&p->arena, "%s/sluice.yml", p->dir) : NULL;
	if (!p->file) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	if (!sl_path_exists(p->file)) {
		rc = sl_error_set(err, SL_ECONFIG, "no sluice.yml in %s; run `sluice init` to "
				  "create a project, or pass --project-dir", p->dir);
		goto fail;
	}
	rc = pj_file_open(&f, p->file, "sluice.yml", &p->arena, err);
	if (rc == 0)
		rc = load_main(p, &f, target);
	pj_file_close(&f);
	if (rc < 0)
		goto fail;
	rc = pj_load_sources(p, err);
	if (rc == 0)
		rc = pj_check_warehouse_names(p, err);
	if (rc < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	sl_project_free(p);
	return rc;
}
