/* test_project.c: loading sluice.yml and sources/NAME.yml — values, defaults, errors. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "project/project.h"
#include "sources/http_int.h"
#include "sources/pg_int.h"

#include "../lib/unit_tmp.h"

/* Loads tmp expecting failure; returns the message. */
static const char *load_fails(sl_error *err)
{
	sl_project *p = NULL;
	int rc = sl_project_load(&p, tmp, err);
	if (rc == 0)
		fail_msg("expected an error, project loaded");
	assert_int_equal(rc, SL_ECONFIG);
	assert_null(p);
	return err->message;
}

static sl_project *load_ok(void)
{
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_project_load(&p, tmp, &err);
	if (rc != 0)
		fail_msg("load failed: %s", err.message);
	return p;
}

static const char *const MINIMAL = "name: shop\n";

/* ---------------------------------------------------------------- valid */

static void test_full_project_every_kind(void **state)
{
	(void)state;
	setenv("SL_TEST_PGHOST", "db.internal", 1);
	setenv("SL_TEST_PGPASSWORD", "hunter2secret", 1);
	setenv("SL_TEST_DB_URL", "postgres://app:s3cretpw@db/shop", 1);
	setenv("SL_TEST_TOKEN", "tok-abcdef", 1);
	write_file("sluice.yml",
		   "name: shop\n"
		   "lake: ./data/../lake\n"
		   "target: pg\n"
		   "targets:\n"
		   "  local: {type: sqlite, path: ./warehouse.db}\n"
		   "  pg:\n"
		   "    type: postgres\n"
		   "    host: ${SL_TEST_PGHOST}\n"
		   "    port: ${SL_TEST_PGPORT:-6543}\n"
		   "    dbname: shop\n"
		   "    user: ${SL_TEST_PGUSER:-loader}\n"
		   "    password: ${SL_TEST_PGPASSWORD}\n"
		   "    schema: analytics\n"
		   "    sslmode: disable\n"
		   "  duck: {type: duckdb, path: /abs/w.duckdb}\n"
		   "schedule: \"0 2 * * mon-fri\"\n"
		   "vars:\n"
		   "  start_date: '2024-01-01'\n"
		   "  regions: [eu, us]\n");
	write_file("sources/shop_files.yml",
		   "source: shop_files\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: customers\n"
		   "    path: data/customers*.csv\n"
		   "    primary_key: [customer_id]\n"
		   "    columns: {customer_id: int64, signup_date: date, balance: 'decimal(12,2)'}\n"
		   "    write: merge\n"
		   "    max_bad_rows: 100\n"
		   "    delimiter: ';'\n"
		   "    header: no\n"
		   "    nulls: [NA, '']\n"
		   "  - name: products\n"
		   "    path: data/products.parquet\n"
		   "    primary_key: sku\n"
		   "    write: replace\n"
		   "    delimiter: tab\n"
		   "    quote: ''\n");
	write_file("sources/shop_db.yml",
		   "source: shop_db\n"
		   "kind: postgres\n"
		   "connection: ${SL_TEST_DB_URL}\n"
		   "tables:\n"
		   "  - name: orders\n"
		   "    primary_key: [order_id]\n"
		   "    cursor: updated_at\n"
		   "    lookback: 2h\n"
		   "    write: merge\n"
		   "  - name: big_orders\n"
		   "    query: select * from orders where total > 100\n"
		   "    schema: sales\n"
		   "    cast_unsupported_to_text: true\n");
	write_file("sources/rates.yaml",
		   "source: rates\n"
		   "kind: http\n"
		   "tables:\n"
		   "  - name: exchange_rates\n"
		   "    url: http://127.0.0.1:8765/rates\n"
		   "    method: post\n"
		   "    params: {base: EUR, updated_since: \"{{ watermark }}\"}\n"
		   "    headers: {X-Api-Token: '${SL_TEST_TOKEN}', Accept: application/json}\n"
		   "    body: '{\"q\": 1}'\n"
		   "    auth: {bearer: \"${SL_TEST_TOKEN}\"}\n"
		   "    records: data.items\n"
		   "    pagination: {type: cursor, next: meta.next_cursor, param: cursor}\n"
		   "    cursor: updated_at\n"
		   "    primary_key: [currency, day]\n"
		   "    write: merge\n"
		   "    flatten: json\n"
		   "    rate_limit: 2.5\n"
		   "    max_retries: 3\n"
		   "    on_bad_page: fail\n");
	write_file("sources/drops.yml",
		   "source: drops\n"
		   "kind: s3\n"
		   "tables:\n"
		   "  - name: events\n"
		   "    url: s3://landing/events/*.csv.gz\n"
		   "    write: append\n"
		   "  - name: clicks\n"
		   "    url: s3://landing/clicks/\n"
		   "    format: jsonl\n");
	write_file("sources/notes.txt", "not a source\n");

	sl_project *p = load_ok();
	char want[512];
	assert_string_equal(p->name, "shop");
	snprintf(want, sizeof want, "%s/lake", p->dir);
	assert_string_equal(p->lake, want);
	snprintf(want, sizeof want, "%s/sluice.yml", p->dir);
	assert_string_equal(p->file, want);
	assert_string_equal(p->target, "pg");
	assert_string_equal(p->schedule, "0 2 * * mon-fri");
	assert_int_equal(p->vars.n, 2);
	assert_string_equal(sl_kvs_get(&p->vars, "start_date"), "2024-01-01");
	assert_string_equal(sl_kvs_get(&p->vars, "regions"), "[\"eu\",\"us\"]");

	assert_int_equal(p->ntargets, 3);
	const sl_target *pg = sl_project_target(p, NULL);
	assert_non_null(pg);
	assert_string_equal(pg->name, "pg");
	assert_string_equal(pg->type, "postgres");
	assert_string_equal(pg->host, "db.internal");
	assert_int_equal(pg->port, 6543);
	assert_string_equal(pg->user, "loader");
	assert_string_equal(pg->password, "hunter2secret");
	assert_string_equal(pg->schema, "analytics");
	assert_string_equal(pg->raw_schema, "raw");
	assert_string_equal(pg->sslmode, "disable");
	assert_int_equal(pg->line, 6);
	assert_null(pg->path);
	const sl_target *local = sl_project_target(p, "local");
	assert_string_equal(local->type, "sqlite");
	assert_string_equal(local->schema, "main");
	snprintf(want, sizeof want, "%s/warehouse.db", p->dir);
	assert_string_equal(local->path_abs, want);
	assert_string_equal(sl_project_target(p, "duck")->path_abs, "/abs/w.duckdb");
	assert_null(sl_project_target(p, "nope"));

	/* Sources in file name order: drops, rates, shop_db, shop_files. */
	assert_int_equal(p->nsources, 4);
	assert_string_equal(p->sources[0].name, "drops");
	assert_string_equal(p->sources[1].name, "rates");
	assert_string_equal(p->sources[1].file, "sources/rates.yaml");
	assert_string_equal(p->sources[2].name, "shop_db");
	assert_string_equal(p->sources[3].name, "shop_files");

	const sl_source *files = sl_project_source(p, "shop_files");
	assert_string_equal(files->kind->name, "csv");
	assert_ptr_equal(files->kind, sl_source_kind_find("csv"));
	assert_int_equal(files->ntables, 2);
	const sl_source_table *c = &files->tables[0];
	const sl_file_opts *co = c->opts;
	assert_string_equal(c->name, "customers");
	assert_int_equal(c->line, 4);
	assert_string_equal(co->location, "data/customers*.csv");
	assert_string_equal(co->format, "csv");
	assert_int_equal(c->nprimary_key, 1);
	assert_string_equal(c->primary_key[0], "customer_id");
	assert_int_equal(c->columns.n, 3);
	assert_string_equal(c->columns.items[0].key, "customer_id");
	assert_string_equal(c->columns.items[0].value, "int64");
	assert_string_equal(c->columns.items[2].value, "decimal(12,2)");
	assert_int_equal(c->columns.items[1].line, 7);
	assert_int_equal(c->write, SL_WRITE_MERGE);
	assert_int_equal(c->max_bad_rows, 100);
	assert_int_equal(co->delimiter, ';');
	assert_false(co->header);
	assert_int_equal(co->nnulls, 2);
	assert_string_equal(co->nulls[0], "NA");
	assert_string_equal(co->nulls[1], "");
	const sl_source_table *prod = &files->tables[1];
	const sl_file_opts *po = prod->opts;
	assert_string_equal(po->format, "parquet");
	assert_int_equal(prod->nprimary_key, 1);
	assert_string_equal(prod->primary_key[0], "sku");
	assert_int_equal(prod->write, SL_WRITE_REPLACE);
	assert_int_equal(po->delimiter, '\t');
	assert_int_equal(po->quote, '\0');

	const sl_source *db = sl_project_source(p, "shop_db");
	assert_string_equal(db->kind->name, "postgres");
	assert_string_equal(((const sl_pg_source_opts *)db->opts)->connection,
			    "postgres://app:s3cretpw@db/shop");
	assert_string_equal(db->tables[0].cursor, "updated_at");
	assert_int_equal(((const sl_pg_opts *)db->tables[0].opts)->lookback_micros, 2 * 3600 * SL_MICROS_PER_SEC);
	assert_string_equal(((const sl_pg_opts *)db->tables[0].opts)->schema_name, "public");
	assert_string_equal(((const sl_pg_opts *)db->tables[1].opts)->query, "select * from orders where total > 100");
	assert_string_equal(((const sl_pg_opts *)db->tables[1].opts)->schema_name, "sales");
	assert_true(((const sl_pg_opts *)db->tables[1].opts)->cast_unsupported_to_text);

	const sl_source *rates = sl_project_source(p, "rates");
	const sl_source_table *r = &rates->tables[0];
	const sl_http_opts *ro = r->opts;
	assert_string_equal(rates->kind->name, "http");
	assert_string_equal(ro->url, "http://127.0.0.1:8765/rates");
	assert_string_equal(ro->method, "POST");
	assert_string_equal(sl_kvs_get(&ro->params, "base"), "EUR");
	assert_string_equal(sl_kvs_get(&ro->params, "updated_since"), "{{ watermark }}");
	assert_string_equal(sl_kvs_get(&ro->headers, "X-Api-Token"), "tok-abcdef");
	assert_string_equal(ro->body, "{\"q\": 1}");
	assert_string_equal(sl_kvs_get(&ro->auth, "bearer"), "tok-abcdef");
	assert_string_equal(ro->records, "data.items");
	assert_string_equal(sl_kvs_get(&ro->pagination, "type"), "cursor");
	assert_string_equal(sl_kvs_get(&ro->pagination, "next"), "meta.next_cursor");
	assert_int_equal(r->nprimary_key, 2);
	assert_string_equal(r->primary_key[1], "day");
	assert_string_equal(ro->flatten, "json");
	assert_true(ro->rate_limit == 2.5);
	assert_int_equal(ro->max_retries, 3);
	assert_string_equal(ro->on_bad_page, "fail");

	const sl_source *drops = sl_project_source(p, "drops");
	assert_string_equal(drops->kind->name, "s3");
	assert_string_equal(((const sl_file_opts *)drops->tables[0].opts)->location, "s3://landing/events/*.csv.gz");
	assert_string_equal(((const sl_file_opts *)drops->tables[0].opts)->format, "csv");
	assert_string_equal(((const sl_file_opts *)drops->tables[1].opts)->format, "jsonl");
	assert_null(sl_project_source(p, "nope"));

	/* Secrets never reach logs. */
	char red[256];
	sl_log_redact(red, sizeof red, "pw=hunter2secret tok=tok-abcdef db=s3cretpw");
	assert_string_equal(red, "pw=*** tok=*** db=***");

	sl_project_free(p);
	unsetenv("SL_TEST_PGHOST");
	unsetenv("SL_TEST_PGPASSWORD");
	unsetenv("SL_TEST_DB_URL");
	unsetenv("SL_TEST_TOKEN");
}

static void test_defaults_filled(void **state)
{
	(void)state;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/a.yml",
		   "source: a\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - {name: t, path: x.csv}\n");
	write_file("sources/b.yml",
		   "source: b\n"
		   "kind: http\n"
		   "tables:\n"
		   "  - {name: t, url: 'https://api.example.com/x'}\n");
	sl_project *p = load_ok();
	char want[512];
	snprintf(want, sizeof want, "%s/lake", p->dir);
	assert_string_equal(p->lake, want);
	assert_string_equal(p->target, "local");
	assert_int_equal(p->ntargets, 1);
	assert_string_equal(p->targets[0].type, "sqlite");
	assert_string_equal(p->targets[0].path, "./warehouse.db");
	snprintf(want, sizeof want, "%s/warehouse.db", p->dir);
	assert_string_equal(p->targets[0].path_abs, want);
	assert_string_equal(p->targets[0].raw_schema, "raw");
	assert_null(p->schedule);
	assert_int_equal(p->vars.n, 0);

	const sl_source_table *t = &p->sources[0].tables[0];
	const sl_file_opts *to = t->opts;
	assert_int_equal(t->write, SL_WRITE_APPEND);
	assert_int_equal(t->max_bad_rows, 0);
	assert_int_equal(to->delimiter, ',');
	assert_int_equal(to->quote, '"');
	assert_int_equal(to->escape, '"');
	assert_true(to->header);
	assert_int_equal(to->nnulls, 1);
	assert_string_equal(to->nulls[0], "");
	assert_int_equal(t->nprimary_key, 0);
	assert_int_equal(t->columns.n, 0);
	const sl_http_opts *h = p->sources[1].tables[0].opts;
	assert_string_equal(h->method, "GET");
	assert_string_equal(h->flatten, "columns");
	assert_int_equal(h->max_retries, 5);
	assert_string_equal(h->on_bad_page, "quarantine");
	assert_true(h->rate_limit == 0);
	assert_int_equal(h->lookback_micros, 0);
	sl_project_free(p);
}

static void test_only_target_is_default_and_s3_lake_kept(void **state)
{
	(void)state;
	write_file("sluice.yml",
		   "name: shop\n"
		   "lake: s3://bucket/prefix/\n"
		   "targets:\n"
		   "  wh: {type: postgres, dbname: shop}\n");
	sl_project *p = load_ok();
	assert_string_equal(p->lake, "s3://bucket/prefix");
	assert_string_equal(p->target, "wh");
	assert_int_equal(sl_project_target(p, NULL)->port, 5432);
	assert_string_equal(sl_project_target(p, NULL)->schema, "public");
	sl_project_free(p);
}

static void test_expand_env_with_defaults(void **state)
{
	(void)state;
	sl_arena a;
	sl_error err = SL_ERROR_INIT;
	char *out = NULL;
	sl_arena_init(&a, 0);
	setenv("SL_TEST_SET", "value", 1);
	setenv("SL_TEST_EMPTY", "", 1);
	unsetenv("SL_TEST_UNSET");
	assert_int_equal(sl_project_expand_env(&out, &a, "a-${SL_TEST_SET}-b", "f.yml", 3, &err), 0);
	assert_string_equal(out, "a-value-b");
	assert_int_equal(sl_project_expand_env(&out, &a, "${SL_TEST_UNSET:-dflt}", "f.yml", 3, &err), 0);
	assert_string_equal(out, "dflt");
	assert_int_equal(sl_project_expand_env(&out, &a, "${SL_TEST_SET:-dflt}", "f.yml", 3, &err), 0);
	assert_string_equal(out, "value");
	assert_int_equal(sl_project_expand_env(&out, &a, "${SL_TEST_EMPTY:-x}${SL_TEST_UNSET:-}", "f", 1, &err), 0);
	assert_string_equal(out, "x");
	assert_int_equal(sl_project_expand_env(&out, &a, "no vars {{ here }} $5", "f", 1, &err), 0);
	assert_string_equal(out, "no vars {{ here }} $5");
	assert_int_equal(sl_project_expand_env(&out, &a, "${SL_TEST_UNSET}", "f.yml", 3, &err),
			 SL_ECONFIG);
	assert_string_equal(err.message, "f.yml:3: environment variable SL_TEST_UNSET is not set; "
			    "export it (export SL_TEST_UNSET=...) or give a default with "
			    "${SL_TEST_UNSET:-value}");
	assert_int_equal(sl_project_expand_env(&out, &a, "x${OOPS", "f.yml", 4, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "f.yml:4: unterminated"));
	assert_int_equal(sl_project_expand_env(&out, &a, "${1BAD}", "f.yml", 4, &err), SL_ECONFIG);
	assert_non_null(strstr(err.message, "bad variable reference \"${1BAD}\""));
	sl_arena_free(&a);
	unsetenv("SL_TEST_SET");
	unsetenv("SL_TEST_EMPTY");
}

/* --------------------------------------------------------------- errors */

static void test_unknown_table_key_suggests(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/shop.yml",
		   "source: shop\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: customers\n"
		   "    path: c.csv\n"
		   "  - name: orders\n"
		   "    primary_keys: [id]\n"
		   "    path: o.csv\n");
	assert_string_equal(load_fails(&err),
			    "sources/shop.yml:7: unknown key \"primary_keys\" in table \"orders\"; "
			    "did you mean \"primary_key\"?");
}

static void test_unknown_project_key_suggests(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", "name: shop\ntargts:\n  local: {type: sqlite}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: unknown key \"targts\"; did you mean \"targets\"?");
	write_file("sluice.yml", "name: shop\nwarehouse: x\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: unknown key \"warehouse\"; valid keys are: name, lake, "
			    "target, targets, schedule, vars, lake_commit_lock, defaults");
	write_file("sluice.yml", "name: shop\ntargets:\n  pg:\n    type: postgres\n    pasword: x\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:5: unknown key \"pasword\" in target \"pg\"; did you mean "
			    "\"password\"?");
}

static void test_lake_commit_lock_key(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	sl_project *p = load_ok();
	assert_string_equal(p->lake_commit_lock, "none");
	sl_project_free(p);
	write_file("sluice.yml", "name: shop\nlake: s3://b/p\nlake_commit_lock: state\n");
	p = load_ok();
	assert_string_equal(p->lake_commit_lock, "state");
	sl_project_free(p);
	write_file("sluice.yml", "name: shop\nlake_commit_lock: none\n");
	p = load_ok();
	assert_string_equal(p->lake_commit_lock, "none");
	sl_project_free(p);
	write_file("sluice.yml", "name: shop\nlake_commit_lock: stat\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: \"lake_commit_lock\" must be one of none, state, not "
			    "\"stat\"; did you mean \"state\"?");
	sl_error_clear(&err);
	write_file("sluice.yml", "name: shop\nlake_commit_locks: state\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: unknown key \"lake_commit_locks\"; did you mean "
			    "\"lake_commit_lock\"?");
}

static void test_wrong_types_name_expected_type(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    max_bad_rows: abc\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"max_bad_rows\" in table \"t\" must be an integer, "
			    "not \"abc\"");
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path:\n"
		   "      - a.csv\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"path\" in table \"t\" must be a string, not a list");
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    header: maybe\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"header\" in table \"t\" must be true or false, "
			    "not \"maybe\"");
	write_file("sources/s.yml", "source: s\nkind: csv\ntables: {name: t}\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:3: \"tables\" in source \"s\" must be a list "
			    "(- name: ...), not a mapping");
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    write: upsert\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"write\" in table \"t\" must be one of append, "
			    "replace, merge, not \"upsert\"");
	write_file("sources/s.yml", "source: s\nkind: cvs\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:2: \"kind\" must be one of csv, postgres, http, s3, not "
			    "\"cvs\"; did you mean \"csv\"?");
	write_file("sluice.yml", "name: shop\ntargets:\n  pg: {type: postgres, port: 99999}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: \"port\" in target \"pg\" must be between 1 and 65535, "
			    "not 99999");
}

static void test_bad_column_type_lists_types(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    columns:\n"
		   "      id: int64\n"
		   "      amount: int46\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:8: unknown type \"int46\" for column \"amount\" in table "
			    "\"t\"; did you mean \"int64\"? valid types: " SL_TYPE_NAMES);
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    columns: {id: bytes}\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: unknown type \"bytes\" for column \"id\" in table "
			    "\"t\"; valid types: " SL_TYPE_NAMES);
}

static void test_missing_required_keys(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", "lake: ./lake\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:1: missing required key \"name\"; add \"name: my_project\"");
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml", "kind: csv\ntables: [{name: t, path: x}]\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:1: missing required key \"source\" (the source's name, "
			    "e.g. source: shop_db)");
	write_file("sources/s.yml", "source: s\nkind: csv\ntables:\n  - name: t\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:4: table \"t\" of csv source \"s\" needs a path (a file "
			    "or glob relative to the project, e.g. data/t*.csv)");
	write_file("sources/s.yml", "source: s\nkind: s3\ntables:\n  - {name: t, url: 'http://x/y'}\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:4: table \"t\" of s3 source \"s\" needs a url starting "
			    "with s3:// (e.g. s3://bucket/prefix/*.csv.gz), not \"http://x/y\"");
	write_file("sources/s.yml", "source: s\nkind: http\ntables:\n  - name: t\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:4: table \"t\" of http source \"s\" needs a url starting "
			    "with http:// or https://");
	write_file("sources/s.yml", "source: s\nkind: postgres\ntables:\n  - name: t\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:1: postgres source \"s\" needs a connection, e.g. "
			    "connection: ${SHOP_DB_URL}");
	write_file("sources/s.yml",
		   "source: s\nkind: postgres\nconnection: host=x\ntables:\n  - cursor: id\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:5: table #1 of source \"s\" needs a name (the table to "
			    "read) or a query");
	write_file("sources/s.yml", "source: s\nkind: csv\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:1: source \"s\" has no tables; add tables: with at "
			    "least one {name: ...}");
	write_file("sources/s.yml", "source: bad-name\nkind: csv\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:1: source name \"bad-name\" must start with a letter or _ "
			    "and hold only letters, digits and _");
}

static void test_merge_needs_primary_key(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: x.csv\n"
		   "    write: merge\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: write: merge in table \"t\" needs a primary_key (the "
			    "columns that identify a row); add primary_key: [col] or use write: "
			    "append");
}

static void test_yaml_syntax_error_has_line_and_column(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - name: t\n"
		   "    path: [x.csv\n");
	const char *m = load_fails(&err);
	assert_non_null(strstr(m, "sources/s.yml:6:1: YAML syntax error: "));
	assert_non_null(strstr(m, "did not find expected ',' or ']'"));
	write_file("sources/s.yml", "source: s\n  kind: csv\n");
	m = load_fails(&err);
	assert_non_null(strstr(m, "sources/s.yml:2:7: YAML syntax error: mapping values are not "
			       "allowed in this context"));
}

static void test_yaml_tabs_and_second_document(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml", "source: s\nkind: csv\ntables:\n\t- name: t\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:4:1: YAML syntax error: found character that cannot "
			    "start any token while scanning for the next token (from line 4); YAML "
			    "does not allow tabs: indent with spaces");
	write_file("sources/s.yml", "source: s\nkind: csv\ntables: [{name: t, path: x}]\n"
		   "---\nsource: u\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:5: a second YAML document starts here; put one document "
			    "per file");
}

/*
 * Found by tests/fuzz/fuzz_project.c: 600 bytes of YAML aliases (each list
 * repeating the previous one ten times) named a value of 10^10 scalars;
 * rendering it as JSON ran for hours. Now a size error names the key.
 */
static void test_vars_alias_bomb_is_a_size_error(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	char yml[2048];
	size_t o = (size_t)snprintf(yml, sizeof yml, "name: shop\nvars:\n"
				    "  a0: &a0 [[], [], [], [], [], [], [], [], [], []]\n");
	for (int i = 1; i < 12; i++) {
		o += (size_t)snprintf(yml + o, sizeof yml - o, "  a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)snprintf(yml + o, sizeof yml - o, "%s*a%d", j ? ", " : "", i - 1);
		o += (size_t)snprintf(yml + o, sizeof yml - o, "]\n");
	}
	write_file("sluice.yml", yml);
	double t0 = sl_monotonic_seconds();
	assert_string_equal(load_fails(&err),
			    "sluice.yml:8: \"a5\" in \"vars\" is larger than 1024 KiB as JSON; do "
			    "YAML aliases (*name) repeat a value too often?");
	assert_true(sl_monotonic_seconds() - t0 < 5);

	/* Aliases that stay small still expand. */
	write_file("sluice.yml", "name: shop\nvars:\n  a: &x [1, {b: c}]\n  d: [*x, *x]\n");
	sl_project *p = load_ok();
	assert_string_equal(sl_kvs_get(&p->vars, "d"), "[[\"1\",{\"b\":\"c\"}],[\"1\",{\"b\":\"c\"}]]");
	sl_project_free(p);
}

static void test_load_survives_allocation_failures(void **state)
{
	(void)state;
	write_file("sluice.yml", "name: shop\nvars: {a: [1, 2]}\ntargets:\n"
		   "  local: {type: sqlite}\n  pg: {type: postgres, password: abcdefg}\n");
	write_file("sources/a.yml",
		   "source: a\nkind: http\ntables:\n  - name: t\n    url: http://x\n"
		   "    params: {a: b}\n    auth: {bearer: tokentoken}\n    primary_key: [k]\n"
		   "    columns: {k: int64}\n");
	write_file("sources/b.yml", "source: b\nkind: csv\ntables: [{name: t, path: x.csv}]\n");
	int ok = 0;
	for (long n = 0; n < 200; n++) {
		sl_project *p = NULL;
		sl_error err = SL_ERROR_INIT;
		sl_alloc_fail_after(n);
		int rc = sl_project_load(&p, tmp, &err);
		sl_alloc_fail_after(-1);
		if (rc == 0) {
			assert_int_equal(p->nsources, 2);
			sl_project_free(p);
			ok++;
		} else {
			assert_int_equal(rc, SL_ENOMEM);
		}
	}
	assert_true(ok > 0);
}

static void test_unset_env_var_names_file_and_line(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	unsetenv("SL_TEST_NOT_SET_PW");
	write_file("sluice.yml",
		   "name: shop\n"
		   "targets:\n"
		   "  pg:\n"
		   "    type: postgres\n"
		   "    password: ${SL_TEST_NOT_SET_PW}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:5: environment variable SL_TEST_NOT_SET_PW is not set; "
			    "export it (export SL_TEST_NOT_SET_PW=...) or give a default with "
			    "${SL_TEST_NOT_SET_PW:-value}");
}

static void test_duplicates_name_both_lines(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/a.yml",
		   "source: a\n"
		   "kind: csv\n"
		   "tables:\n"
		   "  - {name: t, path: x.csv}\n"
		   "  - name: u\n"
		   "    path: y.csv\n"
		   "  - {name: t, path: z.csv}\n");
	assert_string_equal(load_fails(&err),
			    "sources/a.yml:7: duplicate table \"t\" in source \"a\" (first defined "
			    "on line 4); rename or remove one");
	write_file("sources/a.yml", "source: a\nkind: csv\ntables: [{name: t, path: x.csv}]\n");
	write_file("sources/b.yml",
		   "# copy\n\nsource: a\nkind: csv\ntables: [{name: t, path: x.csv}]\n");
	assert_string_equal(load_fails(&err),
			    "sources/b.yml:3: duplicate source \"a\" (also defined at "
			    "sources/a.yml:1); rename one of them");
	write_file("sources/b.yml", "source: b\nkind: csv\nkind: http\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/b.yml:3: duplicate key \"kind\" (first set on line 2); remove "
			    "one of them");
}

static void test_target_and_schedule_errors(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml",
		   "name: shop\ntarget: loacl\ntargets:\n  local: {type: sqlite}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: target \"loacl\" is not defined in targets; did you mean "
			    "\"local\"?");
	write_file("sluice.yml",
		   "name: shop\ntargets:\n  a: {type: sqlite}\n  b: {type: duckdb}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:1: several targets (a, b) and no default; add \"target: "
			    "NAME\" to sluice.yml (or pass --target)");
	write_file("sluice.yml", "name: shop\ntargets:\n  a: {type: mysql}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: \"type\" in target \"a\" must be one of sqlite, postgres, "
			    "duckdb, not \"mysql\"");
	write_file("sluice.yml", "name: shop\nschedule: '0 2 * *'\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:2: bad schedule \"0 2 * *\": a cron schedule has 5 fields "
			    "(minute hour day-of-month month day-of-week), this one has 4; e.g. "
			    "\"0 2 * * *\" runs daily at 02:00");
	write_file("sluice.yml", "name: shop\nschedule: '61 2 * * *'\n");
	assert_non_null(strstr(load_fails(&err), "bad minute field \"61\""));
	write_file("sluice.yml", "name: shop\nschedule: '*/15 0-6,22 1 jan-mar sun'\n");
	sl_project *p = load_ok();
	sl_project_free(p);
}

static void test_key_not_for_kind_and_auth_keys(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - name: t\n    path: x.csv\n    query: id\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: key \"query\" in table \"t\" does not apply to csv "
			    "sources; remove it");
	write_file("sources/s.yml",
		   "source: s\nkind: http\ntables:\n  - name: t\n    url: http://x\n"
		   "    auth: {berer: abc}\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: unknown key \"berer\" in auth in table \"t\"; did you "
			    "mean \"bearer\"?");
	write_file("sources/s.yml",
		   "source: s\nkind: postgres\nconnection: x\ntables:\n  - name: t\n"
		   "    lookback: 2 hours\n    cursor: u\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"lookback\" in table \"t\" must be a duration like "
			    "2h, 15m, 90s or 1d, not \"2 hours\"");
	/* Both kinds with a lookback say the same when it has no cursor. */
	write_file("sources/s.yml",
		   "source: s\nkind: postgres\nconnection: x\ntables:\n  - name: t\n"
		   "    lookback: 2h\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"lookback\" in table \"t\" needs a cursor (the column "
			    "that grows with each change, e.g. cursor: updated_at)");
	write_file("sources/s.yml",
		   "source: s\nkind: http\ntables:\n  - name: t\n    url: http://x\n"
		   "    lookback: 2h\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"lookback\" in table \"t\" needs a cursor (the column "
			    "that grows with each change, e.g. cursor: updated_at)");
	write_file("sources/s.yml",
		   "source: s\nkind: http\ntables:\n  - name: t\n    url: http://x\n"
		   "    lookback: 2 hours\n    cursor: u\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"lookback\" in table \"t\" must be a duration like "
			    "2h, 15m, 90s or 1d, not \"2 hours\"");
}

static void test_logical_date_variables_checked_at_load(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/db.yml",
		   "source: db\nkind: postgres\nconnection: x\ntables:\n  - name: orders\n"
		   "    where: \"day = '{{ ds }}' and at < '{{data_interval_end}}'\"\n");
	sl_project *p = load_ok();
	assert_string_equal(((const sl_pg_opts *)p->sources[0].tables[0].opts)->where,
			    "day = '{{ ds }}' and at < '{{data_interval_end}}'");
	sl_project_free(p);
	write_file("sources/db.yml",
		   "source: db\nkind: postgres\nconnection: x\ntables:\n  - name: orders\n"
		   "    where: \"day = '{{ dt }}'\"\n");
	assert_string_equal(load_fails(&err),
			    "sources/db.yml:6: unknown variable {{ dt }} in \"where\" in table "
			    "\"orders\"; use {{ ds }}, {{ data_interval_start }} or "
			    "{{ data_interval_end }}");
	/* {{ watermark }} is the http source's, in its params. */
	write_file("sources/db.yml",
		   "source: db\nkind: http\ntables:\n  - name: rates\n    url: http://x/{{ ds }}\n"
		   "    params:\n      since: '{{ watermark }}'\n      day: '{{ logical_date }}'\n");
	assert_string_equal(load_fails(&err),
			    "sources/db.yml:8: unknown variable {{ logical_date }} in \"params\" in "
			    "table \"rates\"; use {{ ds }}, {{ data_interval_start }} or "
			    "{{ data_interval_end }} (or {{ watermark }})");
	write_file("sources/db.yml",
		   "source: db\nkind: csv\ntables:\n  - name: t\n    path: d/{{ watermark }}.csv\n");
	assert_string_equal(load_fails(&err),
			    "sources/db.yml:5: unknown variable {{ watermark }} in \"path\" in table "
			    "\"t\"; use {{ ds }}, {{ data_interval_start }} or {{ data_interval_end }}");
	write_file("sources/db.yml",
		   "source: db\nkind: csv\ntables:\n  - name: t\n    path: d/x.csv\n"
		   "    where: a = 1\n");
	assert_string_equal(load_fails(&err),
			    "sources/db.yml:6: key \"where\" in table \"t\" does not apply to csv "
			    "sources; remove it");
}

/* A kind's keys are read by the kind (sources/ registry) through the
 * project's YAML: the same file:line errors as the shared keys. */
static void test_kind_keys_through_the_registry(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", MINIMAL);
	write_file("sources/s.yml",
		   "source: s\nkind: http\ntables:\n  - name: t\n    url: http://x\n"
		   "    max_pages: lots\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"max_pages\" in table \"t\" must be an integer, not "
			    "\"lots\"");
	write_file("sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - name: t\n    path: x.csv\n"
		   "    delimter: ';'\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: unknown key \"delimter\" in table \"t\"; did you mean "
			    "\"delimiter\"?");
	write_file("sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - name: t\n    path: x.csv\n"
		   "    nulls: {a: b}\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"nulls\" in table \"t\" must be a string or a list "
			    "of strings, not a mapping");
	write_file("sources/s.yml",
		   "source: s\nkind: s3\ntables:\n  - name: t\n    url: s3://b/x.csv\n"
		   "    format: avro\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:6: \"format\" in table \"t\" must be one of csv, parquet, "
			    "jsonl, not \"avro\"");
	write_file("sources/s.yml", "source: s\nkind: csv\nconnection: x\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:3: \"connection\" does not apply to csv sources; remove it");
	write_file("sources/s.yml", "source: s\nkind: csv\nconection: x\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:3: unknown key \"conection\"; did you mean "
			    "\"connection\"?");
	write_file("sources/s.yml", "source: s\ntables: []\n");
	assert_string_equal(load_fails(&err),
			    "sources/s.yml:1: missing required key \"kind\" in source \"s\"; use "
			    "csv, postgres, http or s3");
	/* A json lines table on a csv source reads its flatten key; cursor is
	 * every table's (merges keep the row with the greatest). */
	write_file("sources/s.yml",
		   "source: s\nkind: csv\ntables:\n  - {name: t, path: e.jsonl, flatten: json, "
		   "cursor: at}\n");
	sl_project *p = load_ok();
	const sl_file_opts *o = p->sources[0].tables[0].opts;
	assert_string_equal(o->format, "jsonl");
	assert_string_equal(o->flatten, "json");
	assert_string_equal(p->sources[0].tables[0].cursor, "at");
	sl_project_free(p);
}

static void test_missing_project_file(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const char *m = load_fails(&err);
	assert_non_null(strstr(m, "no sluice.yml in "));
	assert_non_null(strstr(m, "sluice init"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_project_every_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_target_is_default_and_s3_lake_kept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_env_with_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_table_key_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_project_key_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_types_name_expected_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lake_commit_lock_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_column_type_lists_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_needs_primary_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml_syntax_error_has_line_and_column, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_yaml_tabs_and_second_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_alias_bomb_is_a_size_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_survives_allocation_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unset_env_var_names_file_and_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_name_both_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_and_schedule_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_not_for_kind_and_auth_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logical_date_variables_checked_at_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kind_keys_through_the_registry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_project_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
