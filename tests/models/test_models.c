/* test_models.c: dbt-layout projects — discovery, configs resolved as dbt
 * resolves them, the graph and its errors, compiled SQL exactly, and
 * building into a real SQLite file end to end. Projects are written into
 * a fresh folder per test. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>

#include "models/models.h"
#include "project/project.h"
#include "sources/sources.h"
#include "warehouse/warehouse.h"

#include "../lib/unit_tmp.h"

static char *slurp(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	sl_buf b = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	if (sl_file_read_all(&b, path, 0, &err) < 0)
		fail_msg("%s", err.message);
	return b.data ? sl_buf_detach(&b) : sl_strdup("");
}

typedef struct proj {
	sl_project *p;
	sl_models *m;
} proj;

static void base_project(void)
{
	write_file("dbt_project.yml", "name: shop\nprofile: shop\nvars:\n  min_amount: 10\n"
			       "  util: {greeting: scoped}\n"
			       "models:\n  shop:\n    +materialized: view\n    marts:\n"
			       "      +materialized: table\n      +schema: marts\n"
			       "      +tags: ['nightly']\n");
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
			    "    dev: {type: sqlite, schema: main, path: warehouse.db, threads: 3}\n");
}

static int open_models(proj *pr, const char *vars, bool full_refresh, sl_error *err)
{
	memset(pr, 0, sizeof *pr);
	int rc = sl_project_open(&pr->p, tmp, NULL, NULL, err);
	if (rc < 0)
		return rc;
	sl_models_opts o = {0};
	o.project_dir = tmp;
	o.project = pr->p;
	o.target = sl_project_target(pr->p, NULL);
	o.vars_yaml = vars;
	o.full_refresh = full_refresh;
	o.invocation_id = "inv-1";
	o.run_started_at = "2024-05-01T10:00:00Z";
	return sl_models_open(&pr->m, &o, err);
}

static void open_ok(proj *pr, const char *vars)
{
	sl_error err = SL_ERROR_INIT;
	if (open_models(pr, vars, false, &err) < 0)
		fail_msg("open failed: %s", err.message);
}

static const char *open_fails(proj *pr, sl_error *err)
{
	int rc = open_models(pr, NULL, false, err);
	if (rc == 0)
		fail_msg("expected an error");
	sl_project_free(pr->p);
	return err->message;
}

static void close_proj(proj *pr)
{
	sl_models_free(pr->m);
	sl_project_free(pr->p);
}

static const sl_node *node(proj *pr, const char *id)
{
	int i = sl_models_find(pr->m, id);
	if (i < 0)
		fail_msg("no node %s", id);
	return sl_models_node(pr->m, i);
}

static char *compile(proj *pr, const char *id, sl_wh *wh)
{
	char *sql = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_models_compile(pr->m, sl_models_find(pr->m, id), wh, true, &sql, &err) < 0)
		fail_msg("compile %s: %s", id, err.message);
	return sql;
}

static void assert_compiles(proj *pr, const char *id, const char *want)
{
	char *sql = compile(pr, id, NULL);
	assert_string_equal(sql, want);
	sl_free(sql);
}

static const char *config_of(const sl_node *n, const char *key)
{
	size_t k = strlen(key);
	for (int i = 0; i < n->nconfig; i++)
		if (strncmp(n->config[i], key, k) == 0 && n->config[i][k] == '=')
			return n->config[i] + k + 1;
	return NULL;
}

/* ref, source, var, config, this, target, is_incremental at compile
 * without a warehouse, ephemerals as CTEs, tags accumulated. */
static void test_compile_exact_sql(void **state)
{
	(void)state;
	base_project();
	write_file("models/staging/sources.yml",
	    "version: 2\nsources:\n  - name: shop\n    schema: raw\n    tables:\n"
	    "      - name: orders\n        identifier: raw_orders\n      - name: customers\n"
	    "models:\n  - name: stg_orders\n    description: staged\n    columns:\n"
	    "      - name: id\n        tests: [unique, not_null]\n");
	write_file("models/staging/stg_orders.sql",
	    "select * from {{ source('shop', 'orders') }} where amount > {{ var('min_amount') }}");
	write_file("models/marts/orders.sql",
	    "{{ config(materialized='incremental', unique_key='id', tags=['finance']) }}\n"
	    "select * from {{ ref('stg_orders') }}\n"
	    "{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}");
	write_file("models/marts/eph.sql",
	    "{{ config(materialized='ephemeral') }}\nselect 1 as one -- {{ this }}");
	write_file("models/marts/eph2.sql",
	    "{{ config(materialized='ephemeral') }}\nselect one from {{ ref('eph') }}");
	write_file("models/marts/uses_eph.sql", "select * from {{ ref('eph2') }}, {{ ref('eph') }}");
	write_file("models/marts/with_cte.sql",
	    "-- note\nwith x as (select * from {{ ref('eph') }}) select * from x");
	write_file("models/docs.md", "{% docs why %}Because.{% enddocs %}\n");
	write_file("macros/twice.sql", "{% macro twice(x) %}{{ x }} * 2{% endmacro %}");
	write_file("models/info.sql",
	    "select '{{ target.name }}' as t, '{{ target.type }}' as ty, {{ target.threads }} "
	    "as th, '{{ invocation_id }}' as i, '{{ var(\"who\", \"nobody\") }}' as w, "
	    "'{{ env_var(\"SL_TEST_NO_SUCH\", \"d\") }}' as e, {{ execute }} as x, "
	    "'{{ this }}' as me, '{{ run_started_at }}' as r, "
	    "'{{ run_started_at.strftime(\"%Y%m%d\") }}' as d, '{{ doc(\"why\") }}' as w2, "
	    "{{ load_relation(this) }} as lr");
	proj pr;
	open_ok(&pr, "{who: cli}");
	/* the seven models, then the two tests of stg_orders.id */
	assert_int_equal(sl_models_count(pr.m), 9);
	assert_string_equal(sl_models_node(pr.m, 7)->unique_id,
			    "test.shop.unique_stg_orders_id.beb6e97f2f");
	assert_string_equal(sl_models_node(pr.m, 8)->unique_id,
			    "test.shop.not_null_stg_orders_id.8cf5724805");
	assert_compiles(&pr, "model.shop.stg_orders",
			"select * from \"raw\".\"raw_orders\" where amount > 10");
	assert_compiles(&pr, "model.shop.orders", "\nselect * from \"main\".\"stg_orders\"\n");
	assert_compiles(&pr, "model.shop.uses_eph",
			"with __dbt__cte__eph as (\n\nselect 1 as one -- __dbt__cte__eph\n),  __dbt__cte__eph2 as "
			"(\n\nselect one from __dbt__cte__eph\n)select * from __dbt__cte__eph2, "
			"__dbt__cte__eph");
	assert_compiles(&pr, "model.shop.with_cte",
			"-- note\nwith __dbt__cte__eph as (\n\nselect 1 as one -- __dbt__cte__eph\n), x as (select "
			"* from __dbt__cte__eph) select * from x");
	assert_compiles(&pr, "model.shop.info",
			"select 'dev' as t, 'sqlite' as ty, 3 as th, 'inv-1' as i, 'cli' as w, "
			"'d' as e, True as x, '\"main\".\"info\"' as me, '2024-05-01 10:00:00.000000+00:00' "
			"as r, '20240501' as d, 'Because.' as w2, None as lr");

	const sl_node *o = node(&pr, "model.shop.orders");
	assert_int_equal(o->type, SL_NODE_MODEL);
	assert_int_equal(o->materialized, SL_MAT_INCREMENTAL);
	assert_string_equal(o->schema, "main_marts");
	assert_string_equal(o->alias, "orders");
	assert_string_equal(o->path, "models/marts/orders.sql");
	assert_string_equal(o->package, "shop");
	assert_int_equal(o->ntags, 2);
	assert_string_equal(o->tags[0], "nightly");
	assert_string_equal(o->tags[1], "finance");
	assert_int_equal(o->ndepends_on, 1);
	assert_string_equal(o->depends_on[0], "model.shop.stg_orders");
	assert_string_equal(config_of(o, "unique_key"), "id");
	assert_string_equal(config_of(o, "tags"), "[\"nightly\",\"finance\"]");
	const sl_node *s = node(&pr, "model.shop.stg_orders");
	assert_int_equal(s->materialized, SL_MAT_VIEW);
	assert_string_equal(s->schema, "main");
	assert_int_equal(s->nsources, 1);
	assert_string_equal(s->sources[0], "shop.orders");
	assert_int_equal(node(&pr, "model.shop.eph")->materialized, SL_MAT_EPHEMERAL);
	assert_int_equal(node(&pr, "model.shop.uses_eph")->ndepends_on, 2);

	/* compile wrote target/compiled/<package>/<path> */
	char *f = slurp("target/compiled/shop/models/staging/stg_orders.sql");
	assert_string_equal(f, "select * from \"raw\".\"raw_orders\" where amount > 10");
	sl_free(f);

	/* show --inline: ad-hoc SQL with the project's context */
	char *sql = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_models_compile_inline(pr.m, "select {{ twice('n') }}, '{{ var('who') }}' from "
				     "{{ ref('eph') }} join {{ source('shop', 'customers') }} on "
				     "{{ dbt.concat(['a', 'b']) }} = '{{ this.identifier }}'",
				     NULL, &sql, &err) < 0)
		fail_msg("inline: %s", err.message);
	assert_string_equal(sql, "with __dbt__cte__eph as (\n\nselect 1 as one -- __dbt__cte__eph"
				 "\n)select n * 2, 'cli' from __dbt__cte__eph join "
				 "\"raw\".\"customers\" on a || b = 'inline_query'");
	sl_free(sql);
	assert_int_equal(sl_models_compile_inline(pr.m, "select\n  {{ ref('nope') }}", NULL, &sql,
						  &err), SL_ECONFIG);
	assert_null(sql);
	assert_string_equal(err.message, "--inline:2:6: ref('nope') not found: no model, seed or "
					 "snapshot has that name");
	close_proj(&pr);
}

/* project tree < properties YAML config: < config() in the file; enabled
 * false removes a node; custom schema and alias; the disabled node's ref
 * is an error. */
static void test_config_precedence(void **state)
{
	(void)state;
	base_project();
	write_file("models/marts/props.yml",
	    "version: 2\nmodels:\n  - name: a\n    config:\n      materialized: view\n"
	    "      alias: a_alias\n      tags: [props]\n"
	    "  - name: b\n    config: {materialized: view, schema: other}\n"
	    "  - name: off\n    config: {enabled: false}\n");
	write_file("models/marts/a.sql", "select 1 as x");
	write_file("models/marts/b.sql", "{{ config(materialized='incremental') }}select 2 as x");
	write_file("models/marts/off.sql", "select 3 as x");
	write_file("models/c.sql", "{{ config(schema='  spaced ') }}select * from {{ ref('a') }}");
	write_file("models/j/props.yml", "models:\n  - name: jin\n    config:\n"
				  "      enabled: \"{{ target.name == 'dev' }}\"\n"
				  "      schema: \"s_{{ var('min_amount') }}\"\n");
	write_file("models/j/jin.sql", "select 1");
	write_file("models/j/jout.sql", "{{ config(enabled=target.name == 'prod') }}select 1");
	proj pr;
	open_ok(&pr, NULL);
	assert_int_equal(sl_models_count(pr.m), 4);
	assert_int_equal(sl_models_find(pr.m, "model.shop.off"), -1);
	assert_int_equal(sl_models_find(pr.m, "model.shop.jout"), -1);
	assert_string_equal(node(&pr, "model.shop.jin")->schema, "main_s_10");
	const sl_node *a = node(&pr, "model.shop.a");
	assert_int_equal(a->materialized, SL_MAT_VIEW);
	assert_string_equal(a->alias, "a_alias");
	assert_string_equal(a->schema, "main_marts");
	assert_int_equal(a->ntags, 2);
	const sl_node *b = node(&pr, "model.shop.b");
	assert_int_equal(b->materialized, SL_MAT_INCREMENTAL);
	assert_string_equal(b->schema, "main_other");
	const sl_node *c = node(&pr, "model.shop.c");
	assert_int_equal(c->materialized, SL_MAT_VIEW);
	assert_string_equal(c->schema, "main_spaced");
	assert_compiles(&pr, "model.shop.c", "select * from \"main_marts\".\"a_alias\"");
	close_proj(&pr);

	/* a disabled node's refs and sources are not resolved, as in dbt */
	write_file("models/legacy/retired.sql",
	    "{{ config(enabled=false) }}\nselect *\nfrom {{ ref('a_model_that_does_not_exist') }}"
	    " join {{ source('gone', 'table') }} using (id)\n"
	    "join {{ ref('off') }} using (id)");
	open_ok(&pr, NULL);
	assert_int_equal(sl_models_count(pr.m), 4);
	assert_int_equal(sl_models_find(pr.m, "model.shop.retired"), -1);
	close_proj(&pr);

	write_file("models/d.sql", "select *\nfrom {{ ref('a') }}, {{ ref('off') }}");
	sl_error err = SL_ERROR_INIT;
	const char *msg = open_fails(&pr, &err);
	assert_int_equal(err.code, SL_ECONFIG);
	assert_string_equal(msg, "models/d.sql:2:25: model 'model.shop.d' depends on a node named "
				 "'off' which is disabled; enable it or remove the ref");
}

static void test_ref_errors_and_cycles(void **state)
{
	(void)state;
	base_project();
	write_file("models/orders.sql", "select 1 as id");
	write_file("models/x.sql", "select *\nfrom   {{ ref('ordrs') }}");
	proj pr;
	sl_error err = SL_ERROR_INIT;
	const char *msg = open_fails(&pr, &err);
	assert_int_equal(err.code, SL_ECONFIG);
	assert_string_equal(msg, "models/x.sql:2:11: ref('ordrs') not found; did you mean "
				 "'orders'?");

	write_file("models/x.sql", "select * from {{ source('shop', 'ordrs') }}");
	write_file("models/src.yml", "sources:\n  - name: shop\n    tables: [{name: orders}]\n");
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/x.sql:1:18: source('shop', 'ordrs') not found; did you "
				 "mean source('shop', 'orders')?");

	write_file("models/x.sql", "select * from {{ ref('y') }}");
	write_file("models/y.sql", "select * from {{ ref('z') }}");
	write_file("models/z.sql", "select * from {{ ref('x') }}");
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "dependency cycle: model.shop.x -> model.shop.y -> model.shop.z "
				 "-> model.shop.x; remove one of these refs");

	write_file("models/z.sql", "select {{ var('nope') }}");
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/z.sql:1:11: Required var 'nope' not found in config; set "
				 "it under vars: in dbt_project.yml or pass --vars '{nope: value}'");

	write_file("models/z.sql", "select 1");
	write_file("models/py.py", "def model(dbt, session): pass\n");
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/py.py: Python models are not supported by sluice; write "
				 "the model in SQL");
	remove(strcat(strcpy((char[600]){0}, tmp), "/models/py.py"));

	write_file("models/z.sql", "select {{ unclosed");
	msg = open_fails(&pr, &err);
	assert_int_equal(err.code, SL_EFORMAT);
	assert_non_null(strstr(msg, "models/z.sql:1:"));
}

/* Snapshots in both forms and seeds are nodes with their configs. */
static void test_snapshots_and_seeds_discovered(void **state)
{
	(void)state;
	base_project();
	write_file("seeds/countries.csv", "code,name\nNL,Netherlands\n");
	write_file("seeds/props.yml", "seeds:\n  - name: countries\n    config:\n"
			       "      column_types: {code: varchar(2)}\n");
	write_file("snapshots/orders_snap.sql",
	    "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', "
	    "unique_key='id', strategy='timestamp', updated_at='updated_at') }}\n"
	    "select * from {{ ref('countries') }}\n{% endsnapshot %}\n");
	write_file("snapshots/snaps.yml",
	    "snapshots:\n  - name: yaml_snap\n    relation: ref('countries')\n    config:\n"
	    "      schema: snaps\n      unique_key: code\n      strategy: check\n"
	    "      check_cols: all\n");
	proj pr;
	open_ok(&pr, NULL);
	assert_int_equal(sl_models_count(pr.m), 3);
	const sl_node *seed = node(&pr, "seed.shop.countries");
	assert_int_equal(seed->materialized, SL_MAT_SEED);
	assert_string_equal(seed->schema, "main");
	assert_string_equal(config_of(seed, "column_types"), "{\"code\":\"varchar(2)\"}");
	const sl_node *s = node(&pr, "snapshot.shop.orders_snapshot");
	assert_int_equal(s->materialized, SL_MAT_SNAPSHOT);
	assert_string_equal(s->schema, "snapshots");
	assert_string_equal(s->depends_on[0], "seed.shop.countries");
	assert_compiles(&pr, "snapshot.shop.orders_snapshot",
			"\n\nselect * from \"main\".\"countries\"\n");
	const sl_node *y = node(&pr, "snapshot.shop.yaml_snap");
	assert_string_equal(y->schema, "main_snaps");
	assert_compiles(&pr, "snapshot.shop.yaml_snap", "select * from \"main\".\"countries\"");
	close_proj(&pr);
}

/* Macros by name and by package, adapter.dispatch, the dbt namespace, a
 * local package's macros and models, generate_schema_name overridden,
 * return() and raise_compiler_error. */
static void test_macros_dispatch_and_packages(void **state)
{
	(void)state;
	base_project();
	write_file("packages.yml", "packages:\n  - local: libs/util\n");
	write_file("libs/util/dbt_project.yml", "name: util\n");
	write_file("libs/util/macros/u.sql", "{% macro shout(x) %}upper({{ x }}){% endmacro %}\n"
				      "{% macro default__my_concat(a, b) %}pkg{% endmacro %}");
	write_file("libs/util/models/util_model.sql",
	    "select {{ shout(\"'a'\") }} as a -- {{ var('greeting') }} {{ var('min_amount') }}");
	write_file("macros/cents.sql",
	    "{% macro cents_to_dollars(col, scale=2) %}round({{ col }} / 100.0, {{ scale }})"
	    "{% endmacro %}\n"
	    "{% macro my_concat(a, b) %}{{ return(adapter.dispatch('my_concat', 'shop')(a, b)) }}"
	    "{% endmacro %}\n"
	    "{% macro default__my_concat(a, b) %}{{ a }} || {{ b }}{% endmacro %}\n"
	    "{% macro sqlite__my_concat(a, b) %}sq({{ a }}, {{ b }}){% endmacro %}\n"
	    "{% macro pick(x) %}{% if x %}{{ return('yes') }}{% endif %}no{% endmacro %}\n"
	    "{% test positive(model, column_name) %}select 1{% endtest %}\n");
	write_file("macros/mat.sql", "{% materialization my_mat, adapter='sqlite' %}{{ return({}) }}"
			      "{% endmaterialization %}");
	write_file("macros/gsn.sql",
	    "{% macro generate_schema_name(custom_schema_name, node) -%}\n"
	    "  {%- if custom_schema_name is none -%}{{ target.schema }}"
	    "{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}\n{%- endmacro %}");
	write_file("models/m.sql",
	    "{{ config(schema='custom') }}select {{ cents_to_dollars('amount') }}, "
	    "{{ my_concat('a', 'b') }}, {{ util.shout('c') }}, {{ dbt.concat(['x', 'y']) }}, "
	    "{{ dbt.current_timestamp() }}, {{ pick(1) }}{{ pick(0) }}, {{ this.schema }}."
	    "{{ this.identifier }}, {{ ref('util', 'util_model').name }} from "
	    "{{ ref('util_model') }}");
	proj pr;
	open_ok(&pr, NULL);
	const sl_node *m = node(&pr, "model.shop.m");
	assert_string_equal(m->schema, "custom");
	assert_string_equal(m->depends_on[0], "model.util.util_model");
	const sl_node *u = node(&pr, "model.util.util_model");
	assert_string_equal(u->package, "util");
	assert_string_equal(u->schema, "main");
	assert_string_equal(u->path, "models/util_model.sql");
	assert_compiles(&pr, "model.shop.m",
			"select round(amount / 100.0, 2), sq(a, b), upper(c), x || y, "
			"datetime('now'), yesno, custom.m, util_model from \"main\".\"util_model\"");
	assert_compiles(&pr, "model.util.util_model", "select upper('a') as a -- scoped 10");
	char *f = slurp("target/compiled/util/models/util_model.sql");
	assert_string_equal(f, "select upper('a') as a -- scoped 10");
	sl_free(f);
	close_proj(&pr);

	write_file("models/m.sql", "select 1\n{{ exceptions.raise_compiler_error('bad ' ~ 1) }}");
	sl_error err = SL_ERROR_INIT;
	const char *msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/m.sql:2:14: Compilation Error: bad 1");
	write_file("models/m.sql", "select {{ adapter.dispatch('nothing')() }}");
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/m.sql:1:18: adapter.dispatch('nothing'): no macro "
				 "sqlite__nothing or default__nothing found; define one of them in "
				 "macros/");
}

/* A sluice project: its source tables are dbt sources, its vars typed. */
/* Jinja in a source's properties renders once at open with target, var
 * and env_var, as dbt renders it at parse; a render error names
 * file:line; ref() there is refused. */
static void test_source_properties_jinja(void **state)
{
	(void)state;
	base_project();
	setenv("SL_TEST_SRC_DB", "lakedb", 1);
	write_file("models/staging/sources.yml",
	    "version: 2\nsources:\n  - name: shop\n    schema: \"{{ target.schema }}_raw\"\n"
	    "    database: \"{{ env_var('SL_TEST_SRC_DB') }}\"\n"
	    "    loaded_at_field: \"{{ var('loaded_col', 'loaded_at') }}\"\n"
	    "    freshness:\n      warn_after: {count: 1, period: hour}\n"
	    "      filter: \"day > '{{ var('since') }}'\"\n    tables:\n"
	    "      - name: orders\n        identifier: \"{{ 'raw_' ~ 'orders' }}\"\n"
	    "      - name: items\n        loaded_at_field: \"{{ var('item_col') }}\"\n");
	write_file("models/stg.sql", "select * from {{ source('shop', 'orders') }}");
	proj pr;
	open_ok(&pr, "{since: 2024-01-01, item_col: changed_at}");
	assert_compiles(&pr, "model.shop.stg",
			"select * from \"main_raw\".\"raw_orders\"");
	int found = 0;
	for (int i = 0; i < sl_models_source_count(pr.m); i++) {
		const sl_model_source *s = sl_models_source_at(pr.m, i);
		if (strcmp(s->source, "shop") != 0)
			continue;
		found++;
		assert_string_equal(s->schema, "main_raw");
		assert_string_equal(s->database, "lakedb");
		assert_string_equal(s->freshness.filter, "day > '2024-01-01'");
		if (strcmp(s->table, "orders") == 0) {
			assert_string_equal(s->identifier, "raw_orders");
			assert_string_equal(s->loaded_at_field, "loaded_at");
		} else {
			assert_string_equal(s->identifier, "items");
			assert_string_equal(s->loaded_at_field, "changed_at");
		}
	}
	assert_int_equal(found, 2);
	close_proj(&pr);
	unsetenv("SL_TEST_SRC_DB");

	/* an env var, then a var, without a default, not given: where */
	sl_error err = SL_ERROR_INIT;
	const char *msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/staging/sources.yml:5: database of source shop: Env var "
				 "required but not provided: 'SL_TEST_SRC_DB'; export it or give a "
				 "default: env_var('SL_TEST_SRC_DB', 'value')");
	setenv("SL_TEST_SRC_DB", "lakedb", 1);
	err = (sl_error)SL_ERROR_INIT;
	msg = open_fails(&pr, &err);
	unsetenv("SL_TEST_SRC_DB");
	assert_non_null(strstr(msg, "models/staging/sources.yml:9: freshness filter of source "
				    "shop: Required var 'since' not found"));

	write_file("models/staging/sources.yml",
	    "version: 2\nsources:\n  - name: shop\n"
	    "    schema: \"{{ ref('stg') }}\"\n    tables: [{name: orders}]\n");
	err = (sl_error)SL_ERROR_INIT;
	msg = open_fails(&pr, &err);
	assert_string_equal(msg, "models/staging/sources.yml:4: schema of source shop: ref() "
				 "cannot be used in schema of a source; only target, var() and "
				 "env_var() are known there");
}

static void test_sluice_project_sources(void **state)
{
	(void)state;
	write_file("sluice.yml", "name: lakeshop\nvars:\n  limit: 5\n  names: [a, b]\n");
	write_file("models/orders.sql",
	    "select * from {{ source('shop_files', 'orders') }} limit {{ var('limit') + 1 }} "
	    "-- {{ var('names') | join('/') }}");
	sl_project *p = NULL;
	sl_models *m = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_project_open(&p, tmp, NULL, NULL, &err), 0);
	sl_model_source src = {.source = "shop_files", .table = "orders", .schema = "raw",
			       .identifier = "shop_files__orders"};
	sl_models_opts o = {0};
	o.project = p;
	o.target = sl_project_target(p, NULL);
	o.extra_sources = &src;
	o.nextra_sources = 1;
	if (sl_models_open(&m, &o, &err) < 0)
		fail_msg("%s", err.message);
	proj pr = {p, m};
	const sl_node *n = node(&pr, "model.lakeshop.orders");
	assert_string_equal(n->sources[0], "shop_files.orders");
	assert_string_equal(n->schema, "main");
	assert_compiles(&pr, "model.lakeshop.orders",
			"select * from \"raw\".\"shop_files__orders\" limit 6 -- a/b");
	close_proj(&pr);
}

/* config.get / config.require in models and macros: the resolved config
 * (project, properties YAML, config()) once compiling; while parsing, get
 * gives its default; require errors on a config nobody set. */
static void test_config_get_and_require(void **state)
{
	(void)state;
	base_project();
	write_file("macros/m.sql", "{% macro key_of() %}{{ config.get('unique_key', default='none') }}"
			    "{% endmacro %}");
	write_file("models/marts/props.yml", "models:\n  - name: a\n    config: {alias: a_alias}\n");
	write_file("models/marts/a.sql",
	    "{{ config(unique_key='id', tags=[config.get('unique_key', 'parsed')]) }}"
	    "select '{{ config.get('unique_key') }}' as k, '{{ config.get('nope', 'dflt') }}' as d, "
	    "'{{ config.get('nope') }}' as n, '{{ config.require('materialized') }}' as m, "
	    "'{{ config.get('schema') }}/{{ config.get('alias') }}' as s, '{{ key_of() }}' as mk");
	write_file("models/b.sql", "select '{{ config.require('unique_key') }}' as k");
	proj pr;
	open_ok(&pr, NULL);
	const sl_node *a = node(&pr, "model.shop.a");
	bool parsed = false;
	for (int i = 0; i < a->ntags; i++)
		parsed = parsed || strcmp(a->tags[i], "parsed") == 0;
	assert_true(parsed);
	assert_compiles(&pr, "model.shop.a",
			"select 'id' as k, 'dflt' as d, 'None' as n, 'table' as m, "
			"'marts/a_alias' as s, 'id' as mk");
	char *sql = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_true(sl_models_compile(pr.m, sl_models_find(pr.m, "model.shop.b"), NULL, false,
				      &sql, &err) < 0);
	assert_non_null(strstr(err.message, "Required config 'unique_key' not found in "
					    "model.shop.b"));
	sl_error_clear(&err);
	close_proj(&pr);
	write_file("models/c.sql", "select {{ config.get() }}");
	assert_non_null(strstr(open_fails(&pr, &err), "models/c.sql:1:17: config.get takes a "
				"config name and an optional default"));
	sl_error_clear(&err);
}

/* ---------------------------------------------------------------- build */

static sl_wh *open_wh(proj *pr)
{
	sl_wh_config c = SL_WH_CONFIG_INIT;
	const sl_target *t = sl_project_target(pr->p, NULL);
	c.type = t->type;
	c.path = t->path_abs;
	c.schema = t->schema;
	sl_wh *wh = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_open(&wh, &c, &err) < 0)
		fail_msg("%s", err.message);
	return wh;
}

static void build(proj *pr, sl_wh *wh, const char *id, sl_node_result *res)
{
	sl_error err = SL_ERROR_INIT;
	if (sl_models_build(pr->m, sl_models_find(pr->m, id), wh, NULL, res, &err) < 0)
		fail_msg("build %s: %s", id, err.message);
}

static char *value(sl_wh *wh, const char *sql)
{
	char *v = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_wh_query_value(wh, sql, &v, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	return v;
}

static void assert_value(sl_wh *wh, const char *sql, const char *want)
{
	char *v = value(wh, sql);
	if (!want)
		assert_null(v);
	else
		assert_string_equal(v ? v : "(null)", want);
	sl_free(v);
}

/* An error inside a package's macro, reached through dispatch, names the
 * macro's file first and the call site after, once each. */
static void test_error_in_package_macro(void **state)
{
	(void)state;
	base_project();
	write_file("dbt_packages/dd/dbt_project.yml", "name: dd\n");
	write_file("dbt_packages/dd/macros/spine.sql",
	    "{% macro get_spine(a) %}\n{{ return(adapter.dispatch('get_spine', 'dd')(a)) }}\n"
	    "{% endmacro %}\n{% macro default__get_spine(a) %}\n"
	    "{%- call statement('get', fetch_result=True) %}\n   select {{ dbt.nosuch(a) }}\n"
	    "{%- endcall -%}{{ return(1) }}{% endmacro %}\n");
	write_file("models/a.sql", "select 1\n-- x\n  from {{ dd.get_spine('x') }}\n");
	proj pr;
	open_ok(&pr, NULL);
	sl_wh *wh = open_wh(&pr);
	sl_error err = SL_ERROR_INIT;
	char *sql = NULL;
	assert_true(sl_models_compile(pr.m, sl_models_find(pr.m, "model.shop.a"), wh, false, &sql,
				      &err) < 0);
	assert_int_equal(err.code, SL_EFORMAT);
	assert_string_equal(err.message, "dbt_packages/dd/macros/spine.sql:6:17: 'dict object' has "
					 "no attribute 'nosuch' (called at dbt_packages/dd/macros/"
					 "spine.sql:5:10, in macro 'get_spine' called at models/a.sql:"
					 "3:13)");
	assert_null(sql);
	sl_wh_close(wh);
	close_proj(&pr);
}

/* One of dbt's cross-database macros: the expression rendered inline and
 * evaluated by the warehouse; pg_expr NULL: the same expression. */
typedef struct xdb_case {
	const char *expr, *want_sqlite, *pg_expr, *want_pg;
} xdb_case;

static const xdb_case xdb_cases[] = {
	{"{{ dbt.datediff(\"'2024-01-31'\", \"'2024-03-01'\", 'day') }}", "30", NULL, "30"},
	{"{{ dbt.datediff(\"'2024-03-01'\", \"'2024-01-31'\", 'day') }}", "-30", NULL, "-30"},
	{"{{ dbt.datediff(\"'2024-01-31'\", \"'2024-03-01'\", 'month') }}", "2", NULL, "2"},
	{"{{ dbt.datediff(\"'2023-12-31'\", \"'2024-01-01'\", 'year') }}", "1", NULL, "1"},
	{"{{ datediff(\"'2024-03-31'\", \"'2024-04-01'\", 'quarter') }}", "1", NULL, "1"},
	{"{{ dbt.datediff(\"'2024-03-02'\", \"'2024-03-03'\", 'week') }}", "1", NULL, "1"},
	{"{{ dbt.datediff(\"'2024-03-03'\", \"'2024-03-09'\", 'week') }}", "0", NULL, "0"},
	{"{{ dbt.datediff(\"'2024-03-10'\", \"'2024-03-02'\", 'week') }}", "-2", NULL, "-2"},
	{"{{ dbt.datediff(\"'2024-01-01 23:00:00'\", \"'2024-01-02 01:30:00'\", 'hour') }}", "2",
	 NULL, "2"},
	{"{{ dbt.datediff(\"'2024-01-01 23:59:00'\", \"'2024-01-02 00:01:10'\", 'second') }}",
	 "130", NULL, "130"},
	{"{{ dbt.dateadd('day', 3, dbt.date(2024, 2, 27)) }}", "2024-03-01", NULL,
	 "2024-03-01 00:00:00"},
	{"{{ dbt.dateadd('quarter', 1, dbt.date(2024, 1, 15)) }}", "2024-04-15", NULL,
	 "2024-04-15 00:00:00"},
	{"{{ dbt.dateadd('week', -1, dbt.date(2024, 1, 15)) }}", "2024-01-08", NULL,
	 "2024-01-08 00:00:00"},
	{"{{ dbt.dateadd('hour', 2, \"'2024-01-15 23:00:00'\") }}", "2024-01-16 01:00:00",
	 "{{ dbt.dateadd('hour', 2, \"timestamp '2024-01-15 23:00:00'\") }}",
	 "2024-01-16 01:00:00"},
	{"{{ dbt.date_trunc('month', \"'2024-05-17'\") }}", "2024-05-01",
	 "{{ dbt.date_trunc('month', \"date '2024-05-17'\") }}::date", "2024-05-01"},
	{"{{ dbt.date_trunc('quarter', \"'2024-05-17'\") }}", "2024-04-01",
	 "{{ dbt.date_trunc('quarter', \"date '2024-05-17'\") }}::date", "2024-04-01"},
	{"{{ dbt.date_trunc('week', \"'2024-05-19'\") }}", "2024-05-13",
	 "{{ dbt.date_trunc('week', \"date '2024-05-19'\") }}::date", "2024-05-13"},
	{"{{ dbt.date_trunc('isoweek', \"'2024-05-13'\") }}", "2024-05-13", "'2024-05-13'",
	 "2024-05-13"},
	{"{{ dbt.cast(\"'2024-05-13 10:00:00'\", dbt.type_timestamp()) }}", "2024-05-13 10:00:00",
	 NULL, "2024-05-13 10:00:00"},
	{"{{ dbt.date_trunc('year', \"'2024-05-17'\") }}", "2024-01-01",
	 "{{ dbt.date_trunc('year', \"date '2024-05-17'\") }}::date", "2024-01-01"},
	{"{{ dbt.last_day(\"'2024-02-10'\", 'month') }}", "2024-02-29",
	 "{{ dbt.last_day(\"date '2024-02-10'\", 'month') }}", "2024-02-29"},
	{"{{ dbt.last_day(\"'2024-05-10'\", 'quarter') }}", "2024-06-30",
	 "{{ dbt.last_day(\"date '2024-05-10'\", 'quarter') }}", "2024-06-30"},
	{"{{ dbt.date(2024, 3, 5) }}", "2024-03-05", NULL, "2024-03-05"},
	{"{{ dbt.any_value('x') }} from (select 7 as x) t", "7", NULL, "7"},
	{"{{ dbt.bool_or('x') }} from (select 1 = 1 as x union all select 1 = 0) t", "1", NULL,
	 "t"},
	{"{{ dbt.cast(\"'12'\", dbt.type_int()) }} + 1", "13", NULL, "13"},
	{"{{ dbt.safe_cast(\"'2.5'\", dbt.type_float()) }} * 2", "5", NULL, "5"},
	{"{{ dbt.cast_bool_to_text('1 = 1') }}", "true", NULL, "true"},
	{"{{ dbt.concat([\"'a'\", \"'b'\", \"'c'\"]) }}", "abc", NULL, "abc"},
	{"{{ dbt.hash(\"'abc'\") }}", "900150983cd24fb0d6963f7d28e17f72", NULL,
	 "900150983cd24fb0d6963f7d28e17f72"},
	{"{{ dbt.length(\"'abcd'\") }}", "4", NULL, "4"},
	{"{{ dbt.position(\"'c'\", \"'abcd'\") }}", "3", NULL, "3"},
	{"{{ dbt.replace(\"'abca'\", \"'a'\", \"'x'\") }}", "xbcx", NULL, "xbcx"},
	{"{{ dbt.right(\"'abcd'\", 2) }}", "cd", NULL, "cd"},
	{"{{ dbt.right(\"'abcd'\", 0) }}", "", NULL, ""},
	{"{{ dbt.split_part(\"'a,b,c'\", \"','\", 2) }}", "b", NULL, "b"},
	{"{{ dbt.split_part(\"'a,b,c'\", \"','\", -1) }}", "c", NULL, "c"},
	{"{{ dbt.split_part(\"'a\\\"q,b'\", \"','\", 1) }}", "a\"q", NULL, "a\"q"},
	{"{{ dbt.split_part(\"'a,b'\", \"','\", 5) }}", "", NULL, ""},
	{"{{ dbt.string_literal(dbt.escape_single_quotes(\"it's\")) }}", "it's", NULL, "it's"},
	{"{{ dbt.listagg('x', \"'-'\") }} from (select 'a' as x union all select 'b') t",
	 "a-b", "{{ dbt.listagg('x', \"'-'\", 'order by x desc') }} from (select 'a' as x "
	 "union all select 'b') t", "b-a"},
	{"count(*) from (select 1 {{ dbt.except() }} select 2) t", "1", NULL, "1"},
	{"count(*) from (select 1 {{ dbt.intersect() }} select 1) t", "1", NULL, "1"},
	{"{{ dbt.array_construct([1, 2]) }}", "[1,2]", NULL, "{1,2}"},
	{"{{ dbt.array_append(dbt.array_construct([1]), 5) }}", "[1,5]", NULL, "{1,5}"},
	{"{{ dbt.array_concat(dbt.array_construct([1]), dbt.array_construct([2, 3])) }}",
	 "[1,2,3]", NULL, "{1,2,3}"},
	{"'{{ dbt.type_string() }} {{ dbt.type_bigint() }} {{ dbt.type_numeric() }} "
	 "{{ dbt.type_boolean() }} {{ dbt.type_timestamp() }}'",
	 "text bigint numeric(28,6) boolean text", NULL,
	 "text bigint numeric(28,6) boolean timestamp"},
	{"{{ dbt.current_timestamp() }} is not null", "1", NULL, "t"},
	/* a relation is a mapping whose metadata.type ends with Relation, as
	 * dbt_utils checks (_is_relation) */
	{"'{{ ref(\"a\") is mapping and ref(\"a\").get(\"metadata\", {}).get(\"type\", \"\")"
	 ".endswith(\"Relation\") }}'", "True", NULL, "True"},
	{"{{ dbt.current_timestamp_backcompat() }} is not null", "1", NULL, "t"},
	{"{{ dbt.current_timestamp_in_utc_backcompat() }} is not null", "1", NULL, "t"},
};

static void run_xdb_cases(proj *pr, sl_wh *wh, bool pg)
{
	for (size_t i = 0; i < sizeof xdb_cases / sizeof xdb_cases[0]; i++) {
		const xdb_case *c = &xdb_cases[i];
		const char *expr = pg && c->pg_expr ? c->pg_expr : c->expr;
		char text[1024], *sql = NULL, *v = NULL;
		sl_error err = SL_ERROR_INIT;
		snprintf(text, sizeof text, "select %s", expr);
		if (sl_models_compile_inline(pr->m, text, wh, &sql, &err) < 0)
			fail_msg("%s: %s", text, err.message);
		if (sl_wh_query_value(wh, sql, &v, &err) < 0)
			fail_msg("%s (%s): %s", sql, pg ? "postgres" : "sqlite", err.message);
		const char *want = pg ? c->want_pg : c->want_sqlite;
		if (strcmp(v ? v : "(null)", want) != 0)
			fail_msg("%s on %s: got %s, want %s", sql, pg ? "postgres" : "sqlite",
				 v ? v : "(null)", want);
		sl_free(v);
		sl_free(sql);
	}
}

/* dbt's cross-database macros (dbt.name and name) evaluated by a real
 * SQLite, and by PostgreSQL when SL_TEST_PG names a server. */
static void test_cross_database_macros(void **state)
{
	(void)state;
	base_project();
	write_file("models/a.sql", "select 1 as x");
	proj pr;
	open_ok(&pr, NULL);
	sl_wh *wh = open_wh(&pr);
	run_xdb_cases(&pr, wh, false);
	/* unsupported cases say so */
	char *sql = NULL;
	sl_error err = SL_ERROR_INIT;
	assert_true(sl_models_compile_inline(pr.m, "select {{ dbt.listagg('x', \"','\", "
				    "'order by x') }}", wh, &sql, &err) < 0);
	assert_non_null(strstr(err.message, "listagg: order_by_clause and limit_num are not "
					    "supported on sqlite"));
	sl_wh_close(wh);
	close_proj(&pr);

	/* a database config on PostgreSQL: the target's own is fine (and
	 * left out of names), another one cannot be written from this
	 * connection */
	write_file("profiles.yml", "shop:\n  target: pg\n  outputs:\n    pg: {type: postgres, host: "
			    "nowhere, user: u, dbname: shop, schema: public}\n");
	write_file("models/indb.sql", "{{ config(database='shop') }}select 1 as x");
	open_ok(&pr, NULL);
	assert_null(node(&pr, "model.shop.indb")->database);
	close_proj(&pr);
	write_file("models/indb.sql", "{{ config(database='other') }}select 1 as x");
	assert_string_equal(open_fails(&pr, &err),
			    "models/indb.sql: database 'other' is not the target's database "
			    "'shop', and PostgreSQL cannot write into another database from this "
			    "connection; remove the database config, set it to 'shop', or use a "
			    "target whose dbname is 'other'");

	const char *pgenv = getenv("SL_TEST_PG");
	if (!pgenv || !*pgenv || strcmp(pgenv, "skip") == 0)
		return;
	/* host=H port=P user=U dbname=D, as tests/lib/pg.sh exports it */
	char host[256] = "", port[16] = "5432", user[64] = "postgres", db[64] = "postgres";
	const char *p = pgenv;
	while (*p) {
		char k[16], v[256];
		if (sscanf(p, "%15[^=]=%255s", k, v) != 2)
			break;
		if (strcmp(k, "host") == 0)
			snprintf(host, sizeof host, "%s", v);
		else if (strcmp(k, "port") == 0)
			snprintf(port, sizeof port, "%s", v);
		else if (strcmp(k, "user") == 0)
			snprintf(user, sizeof user, "%s", v);
		else if (strcmp(k, "dbname") == 0)
			snprintf(db, sizeof db, "%s", v);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	char prof[1024];
	snprintf(prof, sizeof prof, "shop:\n  target: pg\n  outputs:\n    pg: {type: postgres, "
		 "host: '%s', port: %s, user: %s, dbname: %s, schema: public}\n", host, port,
		 user, db);
	write_file("profiles.yml", prof);
	char indb[128];
	snprintf(indb, sizeof indb, "{{ config(database='%s') }}select 1 as x", db);
	write_file("models/indb.sql", indb);
	/* seeds' quote_columns: false names columns as unquoted SQL would */
	write_file("seeds/caps_q.csv", "Id,Amount\n1,2\n");
	write_file("seeds/caps_d.csv", "Id,Amount\n1,3\n");
	write_file("seeds/props.yml", "seeds:\n  - name: caps_q\n    config:\n      quote_columns: false\n");
	open_ok(&pr, NULL);
	sl_wh_config c = SL_WH_CONFIG_INIT;
	c.type = "postgres";
	c.conninfo = pgenv;
	c.schema = "public";
	if (sl_wh_open(&wh, &c, &err) < 0)
		fail_msg("%s", err.message);
	run_xdb_cases(&pr, wh, true);
	sl_node_result res;
	build(&pr, wh, "model.shop.indb", &res);
	assert_value(wh, "select x from public.indb", "1");
	build(&pr, wh, "seed.shop.caps_q", &res);
	assert_value(wh, "select id + amount from public.caps_q", "3");
	build(&pr, wh, "seed.shop.caps_d", &res);
	assert_value(wh, "select \"Id\" + \"Amount\" from public.caps_d", "4");
	sl_wh_close(wh);
	close_proj(&pr);
}

/* Seeds, a view, a table, an incremental model (two runs), hooks and a
 * snapshot, built into a SQLite file; rows checked. */
static void test_build_sqlite_end_to_end(void **state)
{
	(void)state;
	base_project();
	write_file("seeds/raw_orders.csv",
	    "id,amount,ordered_on,paid,note\n1,10.5,2024-01-01,true,a\n2,20,2024-01-02,false,\n"
	    "3,30,2024-01-03,TRUE,null\n");
	write_file("models/stg.sql", "select id, amount, paid from {{ ref('raw_orders') }}");
	write_file("models/marts/big.sql",
	    "{{ config(post_hook=\"insert into {{ this }} select 99, 0, 0\") }}"
	    "select * from {{ ref('stg') }} where amount >= {{ var('min_amount') }}");
	write_file("models/marts/inc.sql",
	    "{{ config(materialized='incremental', unique_key='id', "
	    "incremental_strategy='merge') }}\nselect id, amount * 2 as dbl from {{ ref('stg') }}"
	    "{% if is_incremental() %} where id >= (select max(id) from {{ this }}){% endif %}");
	write_file("snapshots/s.sql",
	    "{% snapshot snap %}{{ config(target_schema='main', unique_key='id', "
	    "strategy='check', check_cols=['amount']) }}select id, amount from "
	    "{{ ref('raw_orders') }}{% endsnapshot %}");
	proj pr;
	open_ok(&pr, NULL);
	sl_wh *wh = open_wh(&pr);
	sl_node_result res;
	build(&pr, wh, "seed.shop.raw_orders", &res);
	assert_int_equal(res.rows, 3);
	assert_value(wh, "select typeof(id) || typeof(amount) || typeof(ordered_on) || "
			 "typeof(paid) from main.raw_orders where id = 1",
		     "integerrealtextinteger");
	assert_value(wh, "select count(*) from main.raw_orders where note is null", "2");
	assert_value(wh, "select sum(paid) from main.raw_orders", "2");
	build(&pr, wh, "model.shop.stg", &res);
	build(&pr, wh, "model.shop.big", &res);
	assert_value(wh, "select group_concat(id) from (select id from main_marts.big order by id)",
		     "1,2,3,99");
	build(&pr, wh, "model.shop.inc", &res);
	assert_value(wh, "select sum(dbl) from main_marts.inc", "121");
	/* a second run merges the rows from the last id on */
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_wh_exec(wh, "update main_marts.inc set dbl = 0", &err), 0);
	build(&pr, wh, "model.shop.inc", &res);
	assert_value(wh, "select group_concat(dbl) from (select dbl from main_marts.inc order by id)",
		     "0,0,60.0");
	char *sql = compile(&pr, "model.shop.inc", wh);
	assert_non_null(strstr(sql, "where id >= (select max(id) from \"main_marts\".\"inc\")"));
	sl_free(sql);
	/* --full-refresh: is_incremental() is false */
	proj fr;
	if (open_models(&fr, NULL, true, &err) < 0)
		fail_msg("%s", err.message);
	sql = compile(&fr, "model.shop.inc", wh);
	assert_null(strstr(sql, "where id >="));
	sl_free(sql);
	close_proj(&fr);
	build(&pr, wh, "snapshot.shop.snap", &res);
	assert_value(wh, "select count(*) from main.snap where dbt_valid_to is null", "3");
	assert_value(wh, "select min(dbt_valid_from) from main.snap", "2024-05-01 10:00:00.000000");
	/* run_query at compile: rows and columns[i].values() */
	write_file("models/q.sql", "{% if execute %}{% set r = run_query('select id, paid from "
			    "main.raw_orders order by id') %}{% for v in r.columns[0].values() %}"
			    "{{ v + 1 }},{% endfor %}{{ r.rows[2][1] }}{% endif %}");
	write_file("macros/values.sql",
	    "{% macro col_values(rel, col) %}{% call statement('v', fetch_result=True) %}"
	    "select distinct {{ col }} from {{ rel }} order by 1{% endcall %}"
	    "{% if execute %}{{ return(load_result('v')['data'] | map(attribute=0) | list) }}"
	    "{% else %}{{ return([]) }}{% endif %}{% endmacro %}");
	write_file("models/pivot.sql",
	    "select {% for v in col_values(ref('raw_orders'), 'amount') %}sum(case when amount = "
	    "{{ v }} then 1 else 0 end) as a{{ loop.index }}{% if not loop.last %}, {% endif %}"
	    "{% endfor %} from {{ ref('raw_orders') }}");
	proj q;
	open_ok(&q, NULL);
	sql = compile(&q, "model.shop.pivot", wh);
	assert_string_equal(sql, "select sum(case when amount = 10.5 then 1 else 0 end) as a1, "
				 "sum(case when amount = 20 then 1 else 0 end) as a2, sum(case when "
				 "amount = 30 then 1 else 0 end) as a3 from \"main\".\"raw_orders\"");
	sl_free(sql);
	sql = compile(&q, "model.shop.q", wh);
	assert_string_equal(sql, "2,3,4,1");
	sl_free(sql);
	close_proj(&q);
	char *run = slurp("target/run/shop/models/marts/inc.sql");
	assert_non_null(strstr(run, "select id, amount * 2 as dbl from \"main\".\"stg\""));
	sl_free(run);
	sl_wh_close(wh);
	close_proj(&pr);
}

static const char *build_fails(proj *pr, sl_wh *wh, const char *id, sl_error *err)
{
	if (sl_models_build(pr->m, sl_models_find(pr->m, id), wh, NULL, NULL, err) == 0)
		fail_msg("expected %s to fail", id);
	return err->message;
}

/* Seed types (timestamps, column_types, a delimiter from the tree), the
 * default strategy with a unique_key, and config errors at build. */
static void test_build_seed_types_and_config_errors(void **state)
{
	(void)state;
	base_project();
	write_file("dbt_project.yml", "name: shop\nprofile: shop\nseeds:\n  shop:\n"
			       "    +delimiter: ';'\n    +column_types: {code: varchar(3)}\n");
	write_file("seeds/t.csv", "code;at;n;x\n007;2024-01-02 03:04:05;1.5;NULL\n8;2024-01-02T03:04:05Z;2;\n");
	write_file("models/inc.sql", "{{ config(materialized='incremental', unique_key=['code']) }}"
			      "select code, n from {{ ref('t') }}");
	write_file("models/bad.sql", "{{ config(materialized='incremental', "
			      "incremental_strategy='upsert') }}select 1 as a");
	write_file("models/nokey.sql", "{{ config(materialized='incremental', "
				"incremental_strategy='merge') }}select 1 as a");
	write_file("snapshots/s.sql", "{% snapshot s1 %}{{ config(unique_key='code') }}"
			       "select * from {{ ref('t') }}{% endsnapshot %}"
			       "{% snapshot s2 %}{{ config(unique_key='code', strategy='timestamp') }}"
			       "select * from {{ ref('t') }}{% endsnapshot %}");
	proj pr;
	open_ok(&pr, NULL);
	sl_wh *wh = open_wh(&pr);
	sl_node_result res;
	build(&pr, wh, "seed.shop.t", &res);
	assert_value(wh, "select code || '|' || at || '|' || n || '|' || coalesce(x, 'null') "
			 "from main.t where code = '007'",
		     "007|2024-01-02 03:04:05.000000|1.5|null");
	assert_value(wh, "select count(*) from main.t where x is null", "2");
	build(&pr, wh, "model.shop.inc", &res);
	build(&pr, wh, "model.shop.inc", &res);
	assert_value(wh, "select count(*) from main.inc", "2");
	sl_error err = SL_ERROR_INIT;
	assert_string_equal(build_fails(&pr, wh, "model.shop.bad", &err),
			    "models/bad.sql: incremental_strategy 'upsert' is not supported; use "
			    "append, merge or delete+insert");
	assert_string_equal(build_fails(&pr, wh, "model.shop.nokey", &err),
			    "models/nokey.sql: incremental_strategy 'merge' needs a unique_key (a "
			    "column or a list of columns)");
	assert_string_equal(build_fails(&pr, wh, "snapshot.shop.s1", &err),
			    "snapshots/s.sql: snapshot s1 needs strategy: timestamp or check");
	assert_string_equal(build_fails(&pr, wh, "snapshot.shop.s2", &err),
			    "snapshots/s.sql: snapshot s2 uses strategy timestamp and needs "
			    "updated_at: the column holding when a row changed");
	sl_wh_close(wh);
	close_proj(&pr);
}

/* Hooks from the tree (both spellings) and the file accumulate, in
 * order; --vars beats the project's vars; unsupported materializations
 * and duplicate names are refused. */
static void test_hooks_vars_and_refusals(void **state)
{
	(void)state;
	write_file("dbt_project.yml",
	    "name: shop\nprofile: shop\nvars: {n: 1}\nmodels:\n  shop:\n"
	    "    +pre-hook: \"create table if not exists main.log (m text)\"\n"
	    "    hooked:\n      +post_hook: [\"insert into main.log values ('tree {{ this.name }}')\"]\n");
	write_file("profiles.yml", "shop:\n  outputs:\n    default: {type: sqlite, path: w.db}\n");
	write_file("models/hooked/h.sql",
	    "{{ config(post_hook=\"insert into main.log values ('file {{ var('n') }}')\") }}"
	    "select {{ var('n') }} as n");
	proj pr;
	open_ok(&pr, "n: 7");
	const sl_node *h = node(&pr, "model.shop.h");
	assert_string_equal(config_of(h, "pre_hook"),
			    "[\"create table if not exists main.log (m text)\"]");
	sl_wh *wh = open_wh(&pr);
	sl_node_result res;
	build(&pr, wh, "model.shop.h", &res);
	assert_value(wh, "select group_concat(m, ';') from main.log", "tree h;file 7");
	assert_value(wh, "select n from main.h", "7");
	sl_wh_close(wh);
	close_proj(&pr);

	sl_error err = SL_ERROR_INIT;
	write_file("models/mv.sql", "{{ config(materialized='materialized_view') }}select 1");
	assert_string_equal(open_fails(&pr, &err),
			    "models/mv.sql: materialized 'materialized_view' is not supported by "
			    "sluice; use view, table, incremental or ephemeral");
	write_file("models/mv.sql", "select 1");
	write_file("models/other/h.sql", "select 2");
	assert_string_equal(open_fails(&pr, &err),
			    "models/other/h.sql: two models are named \"h\" (the other is "
			    "models/hooked/h.sql); rename one of them or disable one");
	/* a disabled variant of the same name is fine, as in dbt */
	write_file("models/other/h.sql", "{{ config(enabled=false) }}select 2");
	proj ok;
	open_ok(&ok, NULL);
	assert_string_equal(node(&ok, "model.shop.h")->path, "models/hooked/h.sql");
	close_proj(&ok);
}

typedef struct compile_job {
	sl_models *m;
	char **want;
	int n, bad;
} compile_job;

static void *compile_all(void *arg)
{
	compile_job *j = arg;
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < j->n; i++) {
			char *sql = NULL;
			sl_error err = SL_ERROR_INIT;
			if (sl_models_compile(j->m, i, NULL, false, &sql, &err) < 0 ||
			    strcmp(sql, j->want[i]) != 0)
				j->bad++;
			sl_free(sql);
		}
	return NULL;
}

/* Nodes compile from several threads at once, as the engine builds them. */
static void test_compile_from_threads(void **state)
{
	(void)state;
	base_project();
	write_file("macros/m.sql", "{% macro twice(x) %}{{ x }} * 2{% endmacro %}");
	write_file("models/a.sql", "select {{ twice('1') }} as v, '{{ run_started_at }}' as t");
	write_file("models/b.sql", "{{ config(materialized='ephemeral') }}select * from {{ ref('a') }}");
	write_file("models/c.sql", "select {% for i in range(3) %}{{ i }}{{ ',' if not loop.last }}"
			    "{% endfor %} from {{ ref('b') }}, {{ this }}");
	proj pr;
	open_ok(&pr, NULL);
	int n = sl_models_count(pr.m);
	char **want = calloc((size_t)n, sizeof *want);
	for (int i = 0; i < n; i++)
		want[i] = compile(&pr, sl_models_node(pr.m, i)->unique_id, NULL);
	pthread_t th[4];
	compile_job jobs[4];
	for (int t = 0; t < 4; t++) {
		jobs[t] = (compile_job){pr.m, want, n, 0};
		assert_int_equal(pthread_create(&th[t], NULL, compile_all, &jobs[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(jobs[t].bad, 0);
	}
	for (int i = 0; i < n; i++)
		sl_free(want[i]);
	free(want);
	close_proj(&pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compile_exact_sql, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ref_errors_and_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_in_package_macro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_database_macros, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_and_seeds_discovered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_macros_dispatch_and_packages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_properties_jinja, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sluice_project_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_get_and_require, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_sqlite_end_to_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_seed_types_and_config_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hooks_vars_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compile_from_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
