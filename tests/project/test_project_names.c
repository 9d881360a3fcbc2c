/*
 * test_project_names.c: what a project refuses before anything runs — two
 * source tables that the selected warehouse would load into one table
 * (SQLite ignores case, PostgreSQL keeps 63 bytes), names over 255 bytes —
 * and what it reads from the environment: only the selected target's
 * ${VAR}s, every value taken from it registered for redaction.
 */
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

#include "../lib/unit_tmp.h"

static const char *load_fails(const char *target, sl_error *err)
{
	sl_project *p = NULL;
	int rc = sl_project_load_target(&p, tmp, target, err);
	if (rc == 0)
		fail_msg("expected an error, project loaded");
	assert_int_equal(rc, SL_ECONFIG);
	assert_null(p);
	return err->message;
}

static sl_project *load_ok(const char *target)
{
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_project_load_target(&p, tmp, target, &err) != 0)
		fail_msg("load failed: %s", err.message);
	return p;
}

static const char *const TWO_TARGETS =
	"name: shop\n"
	"target: local\n"
	"targets:\n"
	"  local: {type: sqlite, path: ./w.db}\n"
	"  pg: {type: postgres, host: localhost, dbname: shop}\n";

static void test_sqlite_refuses_names_differing_in_case(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", TWO_TARGETS);
	write_file("sources/A.yml", "source: A\nkind: csv\ntables:\n  - {name: t, path: a.csv}\n");
	write_file("sources/a.yml", "source: a\nkind: csv\ntables:\n\n  - {name: t, path: b.csv}\n");
	assert_string_equal(load_fails(NULL, &err),
			    "sources/A.yml:4: table \"t\" of source \"A\" and sources/a.yml:5: "
			    "table \"t\" of source \"a\" would load into one warehouse table: "
			    "target \"local\" (sqlite) ignores the case of names, so \"A__t\" and "
			    "\"a__t\" are the same table there; rename one of them");
	/* PostgreSQL keeps the case of quoted names: both tables can load there. */
	sl_project *p = load_ok("pg");
	assert_string_equal(p->target, "pg");
	sl_project_free(p);
}

static void test_sqlite_refuses_tables_differing_in_case(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", TWO_TARGETS);
	write_file("sources/db.yml",
		   "source: db\nkind: postgres\nconnection: host=x\ntables:\n"
		   "  - name: Orders\n"
		   "  - name: orders\n");
	assert_string_equal(load_fails(NULL, &err),
			    "sources/db.yml:5: table \"Orders\" of source \"db\" and "
			    "sources/db.yml:6: table \"orders\" of source \"db\" would load into "
			    "one warehouse table: target \"local\" (sqlite) ignores the case of "
			    "names, so \"db__Orders\" and \"db__orders\" are the same table there; "
			    "rename one of them");
}

static void test_postgres_refuses_names_equal_in_63_bytes(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	/* "src__" + 58 bytes are the 63 a PostgreSQL name keeps: the two tables
	 * differ only after them. */
	char yml[1024], a[80], b[80];
	memset(a, 'x', 60);
	a[60] = '\0';
	memcpy(b, a, 61);
	a[59] = '1';
	b[59] = '2';
	snprintf(yml, sizeof yml,
		 "source: src\nkind: csv\ntables:\n  - {name: %s, path: a.csv}\n"
		 "  - {name: %s, path: b.csv}\n", a, b);
	write_file("sluice.yml", TWO_TARGETS);
	write_file("sources/src.yml", yml);
	const char *m = load_fails("pg", &err);
	assert_non_null(strstr(m, "sources/src.yml:4: table \"xxx"));
	assert_non_null(strstr(m, "and sources/src.yml:5: table \"xxx"));
	assert_non_null(strstr(m, "target \"pg\" (postgres) keeps the first 63 bytes of a "
				  "name, so \"src__xxx"));
	/* SQLite has no such limit. */
	sl_project *p = load_ok(NULL);
	sl_project_free(p);

	/* One long name alone is refused on PostgreSQL too: the server would cut it. */
	snprintf(yml, sizeof yml,
		 "source: src\nkind: csv\ntables:\n  - {name: %s, path: a.csv}\n", a);
	write_file("sources/src.yml", yml);
	m = load_fails("pg", &err);
	assert_non_null(strstr(m, "sources/src.yml:4: table \"xxx"));
	assert_non_null(strstr(m, "65 bytes, longer than the 63 bytes a postgres identifier "
				  "holds (target \"pg\"); shorten the source or table name"));
}

static void test_same_raw_name_from_underscores(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("sluice.yml", "name: shop\n");
	write_file("sources/a.yml", "source: a\nkind: csv\ntables: [{name: b__c, path: x.csv}]\n");
	write_file("sources/a__b.yml", "source: a__b\nkind: csv\ntables: [{name: c, path: x.csv}]\n");
	assert_string_equal(load_fails(NULL, &err),
			    "sources/a.yml:3: table \"b__c\" of source \"a\" and sources/a__b.yml:3: "
			    "table \"c\" of source \"a__b\" would both load into the warehouse "
			    "table \"a__b__c\"; rename one of them");
}

static void test_names_longer_than_255_bytes(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	char name[300], yml[1200];
	memset(name, 'n', 256);
	name[256] = '\0';
	write_file("sluice.yml", "name: shop\n");

	snprintf(yml, sizeof yml, "source: s\nkind: csv\ntables:\n  - name: %s\n    path: a.csv\n",
		 name);
	write_file("sources/s.yml", yml);
	assert_string_equal(load_fails(NULL, &err),
			    "sources/s.yml:4: table name \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" "
			    "is 256 bytes long; names may have at most 255 bytes: shorten it");

	snprintf(yml, sizeof yml, "\nsource: %s\nkind: csv\ntables: [{name: t, path: a.csv}]\n",
		 name);
	write_file("sources/s.yml", yml);
	assert_non_null(strstr(load_fails(NULL, &err), "sources/s.yml:2: source name \"nnn"));

	snprintf(yml, sizeof yml, "source: s\nkind: csv\ntables:\n  - name: t\n    path: a.csv\n"
		 "    columns:\n      %s: int64\n", name);
	write_file("sources/s.yml", yml);
	assert_non_null(strstr(load_fails(NULL, &err), "sources/s.yml:7: column name \"nnn"));

	snprintf(yml, sizeof yml, "source: s\nkind: csv\ntables:\n  - name: t\n    path: a.csv\n"
		 "    primary_key: [%s]\n", name);
	write_file("sources/s.yml", yml);
	assert_non_null(strstr(load_fails(NULL, &err), "sources/s.yml:6: primary_key column"));

	/* 255 bytes is allowed (on SQLite, which has no identifier limit). */
	name[255] = '\0';
	snprintf(yml, sizeof yml, "source: s\nkind: csv\ntables:\n  - name: %s\n    path: a.csv\n",
		 name);
	write_file("sources/s.yml", yml);
	sl_project *p = load_ok(NULL);
	assert_int_equal(strlen(p->sources[0].tables[0].name), 255);
	sl_project_free(p);
}

static void test_unselected_target_needs_no_env(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	unsetenv("SL_TEST_UNSET_HOST");
	unsetenv("SL_TEST_UNSET_PORT");
	write_file("sluice.yml",
		   "name: shop\n"
		   "target: local\n"
		   "targets:\n"
		   "  local: {type: sqlite, path: ./w.db}\n"
		   "  pg:\n"
		   "    type: postgres\n"
		   "    host: ${SL_TEST_UNSET_HOST}\n"
		   "    port: ${SL_TEST_UNSET_PORT}\n");
	sl_project *p = load_ok(NULL);
	const sl_target *pg = sl_project_target(p, "pg");
	assert_false(pg->resolved);
	assert_string_equal(pg->host, "${SL_TEST_UNSET_HOST}");
	assert_true(sl_project_target(p, "local")->resolved);
	sl_project_free(p);

	/* Selected, its variables are needed. */
	assert_string_equal(load_fails("pg", &err),
			    "sluice.yml:7: environment variable SL_TEST_UNSET_HOST is not set; "
			    "export it (export SL_TEST_UNSET_HOST=...) or give a default with "
			    "${SL_TEST_UNSET_HOST:-value}");
	setenv("SL_TEST_UNSET_HOST", "db.example", 1);
	setenv("SL_TEST_UNSET_PORT", "6543", 1);
	p = load_ok("pg");
	assert_true(sl_project_target(p, "pg")->resolved);
	assert_string_equal(sl_project_target(p, "pg")->host, "db.example");
	assert_int_equal(sl_project_target(p, "pg")->port, 6543);
	sl_project_free(p);
	unsetenv("SL_TEST_UNSET_HOST");
	unsetenv("SL_TEST_UNSET_PORT");

	/* The structure of a target not selected is still checked. */
	write_file("sluice.yml",
		   "name: shop\ntarget: local\ntargets:\n"
		   "  local: {type: sqlite}\n"
		   "  pg: {type: postgres, hots: \"${SL_TEST_UNSET_HOST}\"}\n");
	assert_string_equal(load_fails(NULL, &err),
			    "sluice.yml:5: unknown key \"hots\" in target \"pg\"; did you mean "
			    "\"host\"?");
	write_file("sluice.yml",
		   "name: shop\ntarget: local\ntargets:\n"
		   "  local: {type: sqlite}\n"
		   "  pg: {type: postgres, port: many}\n");
	assert_string_equal(load_fails(NULL, &err),
			    "sluice.yml:5: \"port\" in target \"pg\" must be an integer, not \"many\"");

	/* --target naming no target. */
	write_file("sluice.yml", TWO_TARGETS);
	assert_string_equal(load_fails("gp", &err),
			    "sluice.yml:3: target \"gp\" (from --target) is not defined in targets; "
			    "did you mean \"pg\"?");
}

static void test_env_values_are_registered_as_secrets(void **state)
{
	(void)state;
	char out[256];
	setenv("SL_TEST_TOKEN", "tok-Zq81x", 1);
	setenv("SL_TEST_PORTNUM", "5432", 1);
	setenv("SL_TEST_FLAG", "true", 1);
	write_file("sluice.yml", "name: shop\n");
	write_file("sources/api.yml",
		   "source: api\nkind: http\ntables:\n"
		   "  - name: t\n"
		   "    url: https://api.example/x\n"
		   "    params: {token: \"${SL_TEST_TOKEN}\", limit: \"${SL_TEST_PORTNUM}\","
		   " flag: \"${SL_TEST_FLAG}\", d: \"${SL_TEST_NOPE:-default-value}\"}\n");
	unsetenv("SL_TEST_NOPE");
	sl_project *p = load_ok(NULL);
	sl_log_redact(out, sizeof out, "q=tok-Zq81x&limit=5432&flag=true&d=default-value");
	assert_string_equal(out, "q=***&limit=5432&flag=true&d=default-value");
	sl_project_free(p);
	unsetenv("SL_TEST_TOKEN");
	unsetenv("SL_TEST_PORTNUM");
	unsetenv("SL_TEST_FLAG");
}

/* Loading registers what a server may echo of written credentials: params
 * named like credentials, auth values and basic auth's base64 header. */
static void test_http_credentials_are_registered_at_load(void **state)
{
	(void)state;
	char out[256];
	write_file("sluice.yml", "name: shop\n");
	write_file("sources/api.yml",
		   "source: api\nkind: http\ntables:\n"
		   "  - name: t\n"
		   "    url: https://api.example/x\n"
		   "    params: {api_key: lit3ralKEY99, sort_key: created_at}\n"
		   "    auth: {basic_user: someuser, basic_password: passw0rdSecret}\n");
	sl_project *p = load_ok(NULL);
	/* base64("someuser:passw0rdSecret") */
	sl_log_redact(out, sizeof out,
		      "k=lit3ralKEY99 s=created_at u=someuser Basic c29tZXVzZXI6cGFzc3cwcmRTZWNyZXQ=");
	assert_string_equal(out, "k=*** s=created_at u=*** Basic ***");
	sl_project_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sqlite_refuses_names_differing_in_case, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_refuses_tables_differing_in_case, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_postgres_refuses_names_equal_in_63_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_raw_name_from_underscores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_longer_than_255_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unselected_target_needs_no_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_credentials_are_registered_at_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_env_values_are_registered_as_secrets, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
