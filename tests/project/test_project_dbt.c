/* test_project_dbt.c: dbt projects — dbt_project.yml, profiles.yml found
 * where dbt finds it (--profiles-dir, DBT_PROFILES_DIR, the project
 * folder, ~/.dbt), postgres and sqlite outputs as targets, env_var(),
 * and sl_project_open choosing between sluice.yml and dbt_project.yml. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "project/project.h"
#include "sources/sources.h"

#include "../lib/unit_tmp.h"

static char saved_home[512];

static int dbt_setup(void **state)
{
	setup(state);
	const char *h = getenv("HOME");
	snprintf(saved_home, sizeof saved_home, "%s", h ? h : "/");
	char home[300];
	snprintf(home, sizeof home, "%s/home", tmp);
	setenv("HOME", home, 1);
	unsetenv("DBT_PROFILES_DIR");
	return 0;
}

static int dbt_teardown(void **state)
{
	setenv("HOME", saved_home, 1);
	unsetenv("DBT_PROFILES_DIR");
	unsetenv("SL_TEST_PGPASS");
	return teardown(state);
}

static const char *profile_in(const char *where)
{
	static char file[300];
	snprintf(file, sizeof file, "%s/profiles.yml", where);
	char text[600];
	snprintf(text, sizeof text,
		 "jaffle:\n  target: dev\n  outputs:\n"
		 "    dev: {type: sqlite, threads: 2, database: db, schema: main,\n"
		 "          schemas_and_paths: {main: '%s.db'}, schema_directory: '.'}\n", where);
	write_file(file, text);
	return file;
}

static sl_project *open_ok(const char *pdir, const char *target)
{
	sl_project *p = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_project_open(&p, tmp, pdir, target, &err) != 0)
		fail_msg("open failed: %s", err.message);
	return p;
}

static const char *open_fails(const char *pdir, const char *target, sl_error *err)
{
	sl_project *p = NULL;
	int rc = sl_project_open(&p, tmp, pdir, target, err);
	if (rc == 0)
		fail_msg("expected an error, project loaded");
	assert_int_equal(rc, SL_ECONFIG);
	return err->message;
}

/* --profiles-dir < DBT_PROFILES_DIR < the project folder < ~/.dbt: the
 * first that has a profiles.yml wins; sqlite outputs become targets. */
static void test_profiles_discovery_order(void **state)
{
	(void)state;
	write_file("dbt_project.yml", "name: jaffle_shop\nprofile: jaffle\n");
	char home[300], env[300], flag[300];
	snprintf(home, sizeof home, "home/.dbt");
	snprintf(env, sizeof env, "envdir");
	snprintf(flag, sizeof flag, "flagdir");
	char *h = sl_path_join(tmp, "home");
	mkdir(h, 0755);
	sl_free(h);
	profile_in(home);
	sl_project *p = open_ok(NULL, NULL);
	assert_string_equal(p->name, "jaffle_shop");
	assert_string_equal(p->dbt_profile, "jaffle");
	assert_non_null(strstr(p->profiles_file, "/home/.dbt/profiles.yml"));
	assert_null(p->lake);
	assert_int_equal(p->nsources, 0);
	const sl_target *t = sl_project_target(p, NULL);
	assert_string_equal(t->name, "dev");
	assert_string_equal(t->type, "sqlite");
	assert_string_equal(t->schema, "main");
	assert_string_equal(t->path, "home/.dbt.db");
	assert_non_null(strstr(t->path_abs, "/home/.dbt.db"));
	assert_string_equal(sl_kvs_get(&t->settings, "threads"), "2");
	assert_string_equal(sl_kvs_get(&t->settings, "raw_schema"), "main");
	assert_string_equal(t->raw_schema, "main");
	sl_project_free(p);

	write_file("profiles.yml", "jaffle:\n  target: local\n  outputs:\n"
				   "    local: {type: sqlite, schema: main, path: ./here.db}\n");
	p = open_ok(NULL, NULL);
	assert_string_equal(sl_project_target(p, NULL)->name, "local");
	sl_project_free(p);

	profile_in(env);
	char *e = sl_path_join(tmp, env);
	setenv("DBT_PROFILES_DIR", e, 1);
	sl_free(e);
	p = open_ok(NULL, NULL);
	assert_string_equal(sl_project_target(p, NULL)->path, "envdir.db");
	sl_project_free(p);

	profile_in(flag);
	char *fd = sl_path_join(tmp, flag);
	p = open_ok(fd, NULL);
	sl_free(fd);
	assert_string_equal(sl_project_target(p, NULL)->path, "flagdir.db");
	sl_project_free(p);
	/* a relative --profiles-dir is relative to where sluice runs */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(tmp), 0);
	p = open_ok("flagdir", NULL);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(sl_project_target(p, NULL)->path, "flagdir.db");
	sl_project_free(p);

	sl_error err = SL_ERROR_INIT;
	char *nowhere = sl_path_join(tmp, "nowhere");
	const char *msg = open_fails(nowhere, NULL, &err);
	sl_free(nowhere);
	assert_non_null(strstr(msg, "no profiles.yml for profile \"jaffle\": looked at "));
	assert_non_null(strstr(msg, "/nowhere/profiles.yml (--profiles-dir)"));
}

/* Postgres outputs: pass/password, dbname/database, env_var with and
 * without a default, --target, and a missing env var named. */
static void test_postgres_output_and_env_var(void **state)
{
	(void)state;
	write_file("dbt_project.yml", "name: shop\n");
	write_file("profiles.yml",
		   "shop:\n  target: dev\n  outputs:\n"
		   "    dev: {type: sqlite, path: dev.db}\n"
		   "    prod:\n      type: postgres\n      host: \"{{ env_var('SL_TEST_PGHOST', "
		   "'localhost') }}\"\n      port: 6543\n      user: me\n"
		   "      pass: \"{{ env_var('SL_TEST_PGPASS') }}\"\n      database: shopdb\n"
		   "      schema: analytics\n      threads: 4\n      keepalives_idle: 0\n");
	setenv("SL_TEST_PGPASS", "s3cr3t-pass", 1);
	sl_project *p = open_ok(NULL, "prod");
	const sl_target *t = sl_project_target(p, NULL);
	assert_string_equal(p->target, "prod");
	assert_string_equal(t->type, "postgres");
	assert_string_equal(t->host, "localhost");
	assert_int_equal(t->port, 6543);
	assert_string_equal(t->user, "me");
	assert_string_equal(t->password, "s3cr3t-pass");
	assert_string_equal(t->dbname, "shopdb");
	assert_string_equal(t->schema, "analytics");
	assert_string_equal(sl_kvs_get(&t->settings, "threads"), "4");
	/* the password is redacted from logs */
	char red[64];
	sl_log_redact(red, sizeof red, "pw s3cr3t-pass");
	assert_string_equal(red, "pw ***");
	/* the other output is not read */
	assert_false(sl_project_target(p, "dev")->resolved);
	sl_project_free(p);

	unsetenv("SL_TEST_PGPASS");
	sl_error err = SL_ERROR_INIT;
	const char *msg = open_fails(NULL, "prod", &err);
	assert_non_null(strstr(msg, "profiles.yml:10: Env var required"));
	assert_non_null(strstr(msg, "Env var required but not provided: 'SL_TEST_PGPASS'"));
	/* the default target does not need it */
	p = open_ok(NULL, NULL);
	assert_string_equal(sl_project_target(p, NULL)->name, "dev");
	sl_project_free(p);
}

static void test_profile_errors(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	write_file("dbt_project.yml", "name: shop\nprofile: shopp\n");
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
				   "    dev: {type: sqlite, path: dev.db}\n");
	const char *msg = open_fails(NULL, NULL, &err);
	assert_non_null(strstr(msg, "profiles.yml:1: no profile \"shopp\" (dbt_project.yml's "
				    "profile); did you mean \"shop\"?"));
	write_file("dbt_project.yml", "name: shop\n");
	msg = open_fails(NULL, "deev", &err);
	assert_non_null(strstr(msg, "target \"deev\" (from --target) is not an output of "
				    "profile \"shop\"; did you mean \"dev\"?"));
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
				   "    dev: {type: bigquery, path: dev.db}\n");
	msg = open_fails(NULL, NULL, &err);
	assert_non_null(strstr(msg, "output \"dev\" has type \"bigquery\", which sluice does not "
				    "run; use postgres or sqlite"));
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
				   "    dev: {type: sqlite, path: dev.db, hots: x}\n");
	msg = open_fails(NULL, NULL, &err);
	assert_non_null(strstr(msg, "profiles.yml:4: unknown key \"hots\""));
	char *f = sl_path_join(tmp, "dbt_project.yml");
	remove(f);
	sl_free(f);
	msg = open_fails(NULL, NULL, &err);
	assert_non_null(strstr(msg, "no sluice.yml or dbt_project.yml in "));
}

/* A folder with sluice.yml is a sluice project, whatever else it holds. */
static void test_open_prefers_sluice_yml(void **state)
{
	(void)state;
	write_file("dbt_project.yml", "name: shop\n");
	write_file("sluice.yml", "name: lake_shop\n");
	sl_project *p = open_ok(NULL, NULL);
	assert_string_equal(p->name, "lake_shop");
	assert_null(p->dbt_profile);
	sl_project_free(p);
}

/* dbt-sqlite's schemas_and_paths reaches the adapter as one setting, the
 * mapping as JSON text, each file and schema_directory made absolute
 * against the current directory; the main file stays relative to the
 * project folder. */
static void test_sqlite_schemas_and_paths(void **state)
{
	(void)state;
	char saved[512], work[512], cwd[512];
	assert_non_null(getcwd(saved, sizeof saved));
	snprintf(work, sizeof work, "%s/work", tmp);
	mkdir(work, 0755);
	assert_int_equal(chdir(work), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	write_file("dbt_project.yml", "name: shop\nprofile: shop\n");
	write_file("profiles.yml",
		   "shop:\n  target: dev\n  outputs:\n"
		   "    dev: {type: sqlite, schema: main, schema_directory: ./schemas,\n"
		   "          schemas_and_paths: {main: ./dev.db, raw: raw/raw.db,\n"
		   "                              abs: /data/abs.db}}\n");
	sl_project *p = open_ok(NULL, NULL);
	const sl_target *t = sl_project_target(p, NULL);
	char want[2048];
	snprintf(want, sizeof want,
		 "{\"abs\":\"/data/abs.db\",\"main\":\"%s/dev.db\",\"raw\":\"%s/raw/raw.db\"}",
		 cwd, cwd);
	assert_string_equal(sl_kvs_get(&t->settings, "schemas_and_paths"), want);
	assert_null(sl_kvs_get(&t->settings, "schemas_and_paths.raw"));
	snprintf(want, sizeof want, "%s/schemas", cwd);
	assert_string_equal(sl_kvs_get(&t->settings, "schema_directory"), want);
	assert_string_equal(t->path, "./dev.db");
	snprintf(want, sizeof want, "%s/dev.db", tmp);
	assert_string_equal(t->path_abs, want);
	sl_project_free(p);

	sl_error err = SL_ERROR_INIT;
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
				   "    dev: {type: sqlite, schemas_and_paths: {main: a.db, raw: ''}}\n");
	const char *msg = open_fails(NULL, NULL, &err);
	assert_int_equal(chdir(saved), 0);
	assert_non_null(strstr(msg, "schemas_and_paths: schema \"raw\" needs a database file, "
				    "e.g. raw: ./raw.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_profiles_discovery_order, dbt_setup,
						dbt_teardown),
		cmocka_unit_test_setup_teardown(test_postgres_output_and_env_var, dbt_setup,
						dbt_teardown),
		cmocka_unit_test_setup_teardown(test_profile_errors, dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_open_prefers_sluice_yml, dbt_setup,
						dbt_teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_schemas_and_paths, dbt_setup,
						dbt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
