/*
 * models_tasks.c: models, seeds and snapshots as tasks of the run's graph
 * — one task per node of the SQL project, waiting for the nodes it refs
 * and for the load tasks of the sources it reads — and the task kinds that
 * build them: each attempt takes a warehouse connection of its own (from a
 * small pool of idle ones, so a thread reuses its connection across nodes)
 * and calls sl_models_build with the attempt's cancellation token.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>

bool engine_is_table_task(const sl_task *t)
{
	return t->kind == &sl_engine_extract_kind || t->kind == &sl_engine_load_kind;
}

static bool is_node_kind(const sl_task_kind *k)
{
	return k == &sl_engine_model_kind || k == &sl_engine_seed_kind ||
	       k == &sl_engine_snapshot_kind || k == &sl_engine_test_kind;
}

bool sl_engine_task_is_placeholder(const sl_task *t)
{
	if (t->kind == &sl_engine_source_kind)
		return true;
	return is_node_kind(t->kind) && t->data && ((const engine_node *)t->data)->placeholder;
}

int sl_engine_task_node(const sl_task *t)
{
	return is_node_kind(t->kind) && t->data ? ((const engine_node *)t->data)->index : -1;
}

/*
 * "package.folder.name": the folders between the resource folder and the
 * file. The resource folder is the path's first part, or, for a local
 * package's node ("packages/util/models/x.sql"), the part after the
 * package's own models/, seeds/ or snapshots/ folder.
 */
static char *node_fqn(sl_arena *a, const sl_node *n)
{
	static const char *const dirs[] = {"/models/", "/seeds/", "/snapshots/"};
	sl_buf b = SL_BUF_INIT;
	sl_buf_puts(&b, n->package ? n->package : "");
	const char *p = n->path ? strchr(n->path, '/') : NULL;
	const char *inner = n->path ? strstr(n->path, dirs[n->type <= 2 ? n->type : 0]) : NULL;
	if (inner)
		p = inner + strlen(dirs[n->type <= 2 ? n->type : 0]) - 1;
	while (p) {
		const char *next = strchr(p + 1, '/');
		if (!next)
			break;
		sl_buf_putc(&b, '.');
		sl_buf_append(&b, p + 1, (size_t)(next - p - 1));
		p = next;
	}
	sl_buf_putc(&b, '.');
	sl_buf_puts(&b, n->name);
	char *out = b.data ? sl_arena_strdup(a, b.data) : NULL;
	sl_buf_free(&b);
	return out;
}

static const char *node_relation(sl_arena *a, const sl_node *n)
{
	return sl_arena_sprintf(a, "warehouse:%s.%s", n->schema ? n->schema : "",
				n->alias ? n->alias : n->name);
}

static const sl_task_kind *node_kind(const sl_node *n)
{
	switch (n->type) {
	case SL_NODE_SEED: return &sl_engine_seed_kind;
	case SL_NODE_SNAPSHOT: return &sl_engine_snapshot_kind;
	case SL_NODE_TEST: return &sl_engine_test_kind;
	default: return &sl_engine_model_kind;
	}
}

/* The task a node reading source "s.t" waits for: load:s.t, else
 * extract:s.t, else a source placeholder (added once). */
static int source_task(sl_dag *g, const sl_project *p, const char *st, sl_error *err)
{
	char *id = sl_engine_printf("load:%s", st);
	int i = id ? sl_dag_find(g, id) : -1;
	sl_free(id);
	if (i >= 0)
		return i;
	if ((id = sl_engine_printf("extract:%s", st)) && (i = sl_dag_find(g, id)) >= 0) {
		sl_free(id);
		return i;
	}
	sl_free(id);
	id = sl_engine_printf("source.%s.%s", p->name ? p->name : "project", st);
	if (!id)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if ((i = sl_dag_find(g, id)) >= 0) {
		sl_free(id);
		return i;
	}
	char src[256];
	const char *dot = strchr(st, '.');
	snprintf(src, sizeof src, "%.*s", dot ? (int)(dot - st) : (int)strlen(st), st);
	char *rel = sl_engine_printf("source:%s", st);
	const char *writes[] = {rel};
	sl_task t = {
		.kind = &sl_engine_source_kind,
		.id = id,
		.node = st,
		.source = src,
		.package = p->name,
		.writes = writes,
		.nwrites = rel ? 1 : 0,
		.retry_delay = 10,
	};
	i = rel ? sl_dag_add(g, &t, err) : sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_free(id);
	sl_free(rel);
	return i;
}

/* The relation a node reads from source "s.t": the load's table, or the
 * placeholder's "source:s.t". */
static const char *source_relation(const sl_dag *g, int task)
{
	const sl_task *t = &g->tasks[task];
	return t->nwrites > 0 ? t->writes[0] : t->node;
}

int sl_engine_graph(sl_dag *g, const sl_project *p, const sl_graph_opts *o, sl_error *err)
{
	int rc = sl_engine_dag(g, p, o->target, o->extract, o->load, err);
	if (rc < 0 || o->nnodes == 0)
		return rc;
	sl_arena *a = &g->arena;
	int *task_of = sl_calloc((size_t)o->nnodes, sizeof *task_of);
	if (!task_of)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < o->nnodes && rc >= 0; i++) {
		const sl_node *n = &o->nodes[i];
		task_of[i] = -1;
		bool test = n->type == SL_NODE_TEST;
		engine_node *en = sl_arena_alloc(a, sizeof *en);
		const char *rel = node_relation(a, n);
		char *fqn = node_fqn(a, n);
		if (!en || !rel || !fqn) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		en->models = o->models;
		en->index = i;
		en->placeholder = n->type == SL_NODE_MODEL && n->materialized == SL_MAT_EPHEMERAL;
		const char *writes[] = {rel};
		sl_task t = {
			.kind = node_kind(n),
			.id = n->unique_id,
			.node = n->name,
			.path = n->path,
			.fqn = fqn,
			.package = n->package,
			.tags = n->tags,
			.ntags = n->ntags,
			.config = n->config,
			.nconfig = n->nconfig,
			.writes = writes,
			.nwrites = en->placeholder || test ? 0 : 1,
			.retry_delay = 10,
			.data = en,
		};
		if (test && n->test) {
			t.test_type = n->test->type == SL_TEST_SINGULAR ? "singular" : "generic";
			t.test_name = n->test->test_name;
		}
		/* Models, seeds and snapshots take sluice.yml's defaults:;
		 * tests their timeout only: a test that found failing rows
		 * would find them again. */
		const sl_task_policy *d = &p->defaults;
		t.retries = d->retries >= 0 && !test ? d->retries : t.retries;
		t.retry_delay = d->retry_delay >= 0 ? d->retry_delay : t.retry_delay;
		t.timeout = d->timeout >= 0 ? d->timeout : t.timeout;
		rc = task_of[i] = sl_dag_add(g, &t, err);
	}
	/* What each node reads and waits for, once every node is in. */
	for (int i = 0; i < o->nnodes && rc >= 0; i++) {
		const sl_node *n = &o->nodes[i];
		if (task_of[i] < 0)
			continue;
		int nr = n->ndepends_on + n->nsources;
		const char **reads = sl_arena_alloc(a, sizeof *reads * (size_t)(nr ? nr : 1));
		int m = 0;
		if (!reads) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		for (int d = 0; d < n->ndepends_on && rc >= 0; d++) {
			int up = sl_dag_find(g, n->depends_on[d]);
			if (up < 0)
				continue; /* disabled, or not a node that builds */
			rc = sl_dag_depend(g, task_of[i], up, err);
			const sl_task *ut = &g->tasks[up];
			if (ut->nwrites > 0)
				reads[m++] = ut->writes[0];
		}
		for (int s = 0; s < n->nsources && rc >= 0; s++) {
			int up = source_task(g, p, n->sources[s], err);
			if (up < 0) {
				rc = up;
				break;
			}
			reads[m++] = source_relation(g, up);
			rc = sl_dag_depend(g, task_of[i], up, err);
		}
		if (rc >= 0) {
			/* Adding source placeholders may have moved the tasks. */
			sl_task *t = &g->tasks[task_of[i]];
			t->reads = reads;
			t->nreads = m;
		}
	}
	sl_free(task_of);
	if (rc == 0 && o->tests_gate)
		rc = engine_gate_tests(g, err);
	if (rc < 0)
		return rc;
	return sl_dag_check(g, err);
}

int sl_engine_model_sources(const sl_project *p, const char *target, sl_arena *a,
			    sl_model_source **out, int *n, sl_error *err)
{
	const sl_target *tg = sl_project_target(p, target);
	const char *raw = tg && tg->raw_schema ? tg->raw_schema : "raw";
	int total = 0, m = 0;
	*out = NULL;
	*n = 0;
	for (int s = 0; s < p->nsources; s++)
		total += p->sources[s].ntables;
	if (total == 0)
		return 0;
	sl_model_source *v = sl_arena_alloc(a, sizeof *v * (size_t)total);
	if (!v)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int s = 0; s < p->nsources; s++) {
		for (int t = 0; t < p->sources[s].ntables; t++) {
			char *id = sl_wh_raw_table_name(p->sources[s].name, p->sources[s].tables[t].name);
			v[m].source = p->sources[s].name;
			v[m].table = p->sources[s].tables[t].name;
			v[m].schema = raw;
			v[m].identifier = id ? sl_arena_strdup(a, id) : NULL;
			/* freshness: and loaded_at_field: of the table, else
			 * of its source */
			const sl_source_freshness *f;
			sl_project_table_freshness(p, &p->sources[s], &p->sources[s].tables[t], &f,
						   &v[m].loaded_at_field);
			v[m].freshness = (sl_freshness){
				.set = f->set,
				.warn_after = {f->warn_count, f->warn_period, f->warn_seconds},
				.error_after = {f->error_count, f->error_period, f->error_seconds},
				.filter = f->filter,
			};
			v[m].meta_json = "{}";
			v[m].description = v[m].source_description = v[m].loader = "";
			sl_free(id);
			if (!v[m++].identifier)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
	}
	*out = v;
	*n = m;
	return 0;
}

/* ------------------------------------------------------------ running */

/* An idle connection of the run, or a new one. */
int engine_pool_take(engine_exec *x, sl_wh **out, sl_error *err)
{
	*out = NULL;
	pthread_mutex_lock(&x->pool_mu);
	if (x->nidle > 0)
		*out = x->idle[--x->nidle];
	pthread_mutex_unlock(&x->pool_mu);
	if (*out)
		return 0;
	sl_wh_config c;
	sl_engine_wh_config(x->target, &c);
	int rc = sl_wh_open(out, &c, err);
	if (rc < 0)
		sl_error_prefix(err, "target %s: ", x->target->name);
	return rc;
}

/* Gives wh back for the next attempt; closes it when it cannot be kept. */
void engine_pool_give(engine_exec *x, sl_wh *wh, bool healthy)
{
	if (!wh)
		return;
	if (healthy && !sl_wh_in_transaction(wh)) {
		pthread_mutex_lock(&x->pool_mu);
		bool kept = false;
		if (x->nidle == x->capidle) {
			int cap = x->capidle ? x->capidle * 2 : 8;
			sl_wh **v = sl_realloc(x->idle, sizeof *v * (size_t)cap);
			if (v) {
				x->idle = v;
				x->capidle = cap;
			}
		}
		if (x->nidle < x->capidle) {
			x->idle[x->nidle++] = wh;
			kept = true;
		}
		pthread_mutex_unlock(&x->pool_mu);
		if (kept)
			return;
	}
	sl_wh_close(wh);
}

void engine_pool_close(engine_exec *x)
{
	for (int i = 0; i < x->nidle; i++)
		sl_wh_close(x->idle[i]);
	sl_free(x->idle);
	x->idle = NULL;
	x->nidle = x->capidle = 0;
	if (x->pool_init)
		pthread_mutex_destroy(&x->pool_mu);
	x->pool_init = false;
}

/*
 * One node is built by one attempt at a time in every process of the
 * project, as a table is extracted or loaded by one: two builds swapping
 * the same table in, or two incremental merges of the same rows, would
 * trip over each other. The lock is the state.db lock named after the
 * relation the node writes ("warehouse:schema.alias"); its wait ends with
 * the attempt's token, and the watcher renews its lease while the node
 * builds. *st: the state connection holding it (NULL: no lock).
 */
#define NODE_LOCK_TIMEOUT_MS INT64_C(600000)

static int node_lock(const engine_exec *x, const sl_task *task, const sl_cancel *cancel,
		     sl_state **st, sl_error *err)
{
	*st = NULL;
	if (task->nwrites == 0)
		return 0;
	int rc = sl_state_open(st, x->project->dir, err);
	if (rc == 0) {
		rc = sl_state_lock_wait(*st, task->writes[0], NODE_LOCK_TIMEOUT_MS, cancel, err);
		if (rc < 0)
			sl_error_prefix(err, "another sluice process builds %s: ", task->writes[0]);
	}
	if (rc < 0) {
		sl_state_close(*st);
		*st = NULL;
	}
	return rc;
}

int engine_on_wh(engine_exec *x, const sl_task *task, const sl_cancel *cancel, sl_state *st,
		 const char *lock, engine_wh_fn fn, void *ud, sl_error *err)
{
	sl_wh *wh = NULL;
	int why = sl_cancelled(cancel);
	if (why)
		return sl_error_set(err, why, "%s before it started",
				    why == SL_ETIMEOUT ? "timed out" : "cancelled");
	int rc = engine_pool_take(x, &wh, err);
	if (rc == 0) {
		/* A cancellation interrupts the query running on wh, so
		 * Ctrl-C or a timeout need not wait for it to end. */
		engine_watch watch;
		rc = engine_watch_start(&watch, cancel, wh, err);
		if (rc == 0) {
			engine_watch_renew(&watch, st, lock);
			rc = fn(ud, wh, err);
			engine_watch_stop(&watch);
			/* The statement failed because the token fired: say so,
			 * with the code the executor reads as cancelled/timed out. */
			if (rc < 0 && (why = sl_cancelled(cancel)) && rc != why)
				rc = sl_error_set(err, why, "%s: %s (its running query was stopped)",
						  task->id, why == SL_ETIMEOUT ? "timed out" : "cancelled");
		}
	}
	engine_pool_give(x, wh, rc == 0);
	return rc;
}

typedef struct node_build {
	const engine_node *en;
	const sl_cancel *cancel;
	sl_node_result res;
} node_build;

static int node_build_on(void *ud, sl_wh *wh, sl_error *err)
{
	node_build *b = ud;
	return sl_models_build(b->en->models, b->en->index, wh, b->cancel, &b->res, err);
}

static int node_run(sl_task *task, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		    sl_error *err)
{
	engine_exec *x = ctx;
	const engine_node *en = task->data;
	int ri = x->node_result ? x->node_result[task - x->graph->tasks] : -1;
	sl_node_run *r = ri >= 0 ? &x->res->nodes[ri] : NULL;
	node_build b = {.en = en, .cancel = cancel};

	b.res.rows = -1;
	if (!en || !en->models)
		return sl_error_set(err, SL_EINTERNAL, "%s: the graph was not made to run",
				    task->id);
	int why = sl_cancelled(cancel);
	if (why)
		return sl_error_set(err, why, "%s before it started",
				    why == SL_ETIMEOUT ? "timed out" : "cancelled");
	sl_state *st = NULL;
	int rc = node_lock(x, task, cancel, &st, err);
	if (rc == 0)
		rc = engine_on_wh(x, task, cancel, st, task->nwrites ? task->writes[0] : NULL,
				  node_build_on, &b, err);
	if (st) {
		sl_state_unlock(st, task->writes[0]);
		sl_state_close(st);
	}
	if (r && rc == 0) {
		r->build = b.res.build;
		r->rows = b.res.rows;
	}
	out->rows = b.res.rows > 0 ? b.res.rows : 0;
	out->bytes = 0;
	out->noop = false;
	return rc;
}

static int source_run(sl_task *task, void *ctx, const sl_cancel *cancel, sl_task_outcome *out,
		      sl_error *err)
{
	out->noop = true;
	return 0;
}

const sl_task_kind sl_engine_model_kind = {.name = "model", .run = node_run};
const sl_task_kind sl_engine_seed_kind = {.name = "seed", .run = node_run};
const sl_task_kind sl_engine_snapshot_kind = {.name = "snapshot", .run = node_run};
const sl_task_kind sl_engine_source_kind = {.name = "source", .run = source_run};
