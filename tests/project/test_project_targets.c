/* test_project_targets.c: targets read through the warehouse adapters'
 * registry — each type's own keys, types, limits and defaults, keys of
 * another type refused with what the type takes, messages with file:line. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project/project.h"
#include "warehouse/warehouse.h"

#include "../lib/unit_tmp.h"

static const char *load_fails(sl_error *err)
{
	sl_project *p = NULL;
	int rc = sl_project_load(&p, tmp, err);
	if (rc == 0)
		fail_msg("expected an error, project loaded");
	assert_int_equal(rc, SL_ECONFIG);
	return err->message;
}

static sl_project *load_ok(void)
{
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_project_load(&p, tmp, &err) != 0)
		fail_msg("load failed: %s", err.message);
	return p;
}

/* Each type's defaults come from its adapter; every setting is kept as
 * text, defaults included. */
static void test_target_defaults_come_from_the_adapter(void **state)
{
	(void)state;
	write_file("sluice.yml", "name: shop\ntarget: pg\ntargets:\n"
				 "  lite: {type: sqlite}\n"
				 "  pg: {type: postgres, host: db, dbname: shop}\n"
				 "  duck: {type: duckdb}\n");
	sl_project *p = load_ok();
	const sl_target *lite = sl_project_target(p, "lite");
	const sl_target *pg = sl_project_target(p, "pg");
	const sl_target *duck = sl_project_target(p, "duck");
	assert_string_equal(lite->path, "./warehouse.db");
	assert_string_equal(lite->schema, "main");
	assert_string_equal(lite->raw_schema, "raw");
	assert_int_equal(lite->port, 0);
	assert_string_equal(sl_kvs_get(&lite->settings, "path"), "./warehouse.db");
	assert_null(sl_kvs_get(&lite->settings, "host"));
	assert_int_equal(pg->port, 5432);
	assert_string_equal(sl_kvs_get(&pg->settings, "port"), "5432");
	assert_string_equal(pg->schema, "public");
	assert_string_equal(sl_kvs_get(&pg->settings, "host"), "db");
	assert_null(pg->path);
	assert_string_equal(duck->path, "./warehouse.duckdb");
	sl_project_free(p);

	/* no targets: "local", of the default adapter */
	write_file("sluice.yml", "name: shop\n");
	p = load_ok();
	const sl_target *local = sl_project_target(p, "local");
	assert_string_equal(local->type, sl_wh_adapter_at(0)->name);
	assert_string_equal(local->path, "./warehouse.db");
	assert_non_null(strstr(local->path_abs, "/warehouse.db"));
	assert_string_equal(sl_kvs_get(&local->settings, "schema"), "main");
	sl_project_free(p);
}

/* A key another type takes: the message says what this type takes. */
static void test_key_of_another_type_is_refused(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", "name: shop\ntargets:\n  pg:\n    type: postgres\n"
				 "    path: ./w.db\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:5: \"path\" in target \"pg\" does not apply to postgres; "
			    "use host, port and dbname");
	write_file("sluice.yml", "name: shop\ntargets:\n  lite: {type: sqlite, sslmod: x}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: unknown key \"sslmod\" in target \"lite\"; did you mean "
			    "\"sslmode\"?");
	/* postgres's connection keys stay accepted (checked) on sqlite, unused */
	write_file("sluice.yml", "name: shop\ntargets:\n  lite: {type: sqlite, port: 0}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: \"port\" in target \"lite\" must be between 1 and "
			    "65535, not 0");
	/* the same keys, from the same list, on duckdb */
	write_file("sluice.yml", "name: shop\ntargets:\n  duck: {type: duckdb, port: 0}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: \"port\" in target \"duck\" must be between 1 and "
			    "65535, not 0");
	write_file("sluice.yml", "name: shop\ntargets:\n  duck: {type: duckdb, sslmod: x}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: unknown key \"sslmod\" in target \"duck\"; did you mean "
			    "\"sslmode\"?");
	write_file("sluice.yml", "name: shop\ntargets:\n  lite: {type: sqlite, host: db, "
				 "port: 5433}\n");
	sl_project *p = load_ok();
	const sl_target *lite = sl_project_target(p, "lite");
	assert_null(lite->host);
	assert_int_equal(lite->port, 0);
	assert_null(sl_kvs_get(&lite->settings, "host"));
	sl_project_free(p);
	write_file("sluice.yml", "name: shop\ntargets:\n  lite: {type: sqlite, path: \"\"}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: \"path\" in target \"lite\" is empty; name the database "
			    "file, e.g. ./warehouse.db");
	write_file("sluice.yml", "name: shop\ntargets:\n  x: {path: ./w.db}\n");
	assert_string_equal(load_fails(&err),
			    "sluice.yml:3: target \"x\" needs a type: sqlite, postgres or duckdb");
}

/* The registry: names, alias, keys and rules; a registered type without
 * an adapter yet says so when opened. */
static void test_registry_lookups(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	const sl_wh_adapter *pg = sl_wh_adapter_find("postgresql");
	assert_non_null(pg);
	assert_string_equal(pg->name, "postgres");
	assert_ptr_equal(sl_wh_adapter_find("postgres"), pg);
	assert_null(sl_wh_adapter_find("mysql"));
	const sl_wh_key *port = sl_wh_adapter_key(pg, "port");
	assert_non_null(port);
	assert_int_equal(port->type, SL_WH_KEY_INT);
	assert_int_equal(port->max, 65535);
	assert_int_equal(sl_wh_adapter_key(pg, "password")->type, SL_WH_KEY_SECRET);
	assert_null(sl_wh_adapter_key(pg, "path"));
	sl_wh_ident_rules r = sl_wh_ident_rules_of("postgres");
	assert_false(r.fold_case);
	assert_int_equal(r.max_bytes, 63);
	r = sl_wh_ident_rules_of("sqlite");
	assert_true(r.fold_case);
	assert_int_equal(r.max_columns, 2000);

	sl_wh *wh = NULL;
	sl_wh_config c = SL_WH_CONFIG_INIT;
	c.type = "duckdb";
	assert_int_equal(sl_wh_open(&wh, &c, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "warehouse type 'duckdb' is not available yet; use sqlite or postgres");
	c.type = "mysql";
	assert_int_equal(sl_wh_open(&wh, &c, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "warehouse type 'mysql' is not supported; use sqlite or postgres");

	/* a reader opens only an existing database */
	char path[512];
	snprintf(path, sizeof path, "%s/none.db", tmp);
	c.type = "sqlite";
	c.path = path;
	c.must_exist = true;
	assert_int_equal(sl_wh_open(&wh, &c, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "no warehouse at "));
	assert_null(wh);
}

static const char *one_setting(const void *ctx, const char *key)
{
	return strcmp(key, "token") == 0 ? ctx : NULL;
}

/* An adapter's own key reaches it through the config's getter. */
static void test_config_get_reads_fields_then_settings(void **state)
{
	(void)state;
	sl_wh_config c = SL_WH_CONFIG_INIT;
	c.path = "/w.db";
	c.get = one_setting;
	c.get_ctx = "abc";
	assert_string_equal(sl_wh_config_get(&c, "path"), "/w.db");
	assert_string_equal(sl_wh_config_get(&c, "token"), "abc");
	assert_null(sl_wh_config_get(&c, "host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_target_defaults_come_from_the_adapter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_of_another_type_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_get_reads_fields_then_settings, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
