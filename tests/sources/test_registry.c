/*
 * test_registry.c: the source kinds' registry — lookups by name, every
 * kind's keys and entry points — and kinds reading their keys through an
 * sl_config (here a small in-memory one, as project/ provides over YAML):
 * defaults, wrong values refused with file:line, unknown {{ }} variables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sources/http_int.h"
#include "sources/pg_int.h"

/* A mapping of key -> scalar text, each on its own line (line = 10 + i). */
typedef struct {
	sl_config base;
	const char *const *kv; /* key, value, key, value..., NULL */
	void *blocks[32];
	int nblocks;
} mem_config;

static const char *get(sl_config *c, const char *key, int *line)
{
	const char *const *kv = ((mem_config *)c)->kv;
	for (int i = 0; kv[i]; i += 2)
		if (strcmp(kv[i], key) == 0) {
			if (line)
				*line = 10 + i / 2;
			return kv[i + 1];
		}
	return NULL;
}

static int m_str(sl_config *c, const char *key, char **out)
{
	const char *v = get(c, key, NULL);
	if (v)
		*out = (char *)v;
	return 0;
}

static int m_integer(sl_config *c, const char *key, int64_t min, int64_t max, int64_t *out)
{
	int line;
	const char *v = get(c, key, &line);
	char *end;
	if (!v)
		return 0;
	long long x = strtoll(v, &end, 10);
	if (*end || x < min || x > max)
		return sl_config_fail(c, line, "\"%s\"%s must be an integer, not \"%s\"", key,
				      c->where, v);
	*out = x;
	return 0;
}

static int m_boolean(sl_config *c, const char *key, bool *out)
{
	const char *v = get(c, key, NULL);
	if (v)
		*out = strcmp(v, "true") == 0;
	return 0;
}

static int m_number(sl_config *c, const char *key, double *out)
{
	const char *v = get(c, key, NULL);
	if (v)
		*out = atof(v);
	return 0;
}

static int m_list(sl_config *c, const char *key, char ***out, int *n)
{
	return 0;
}

static int m_mapping(sl_config *c, const char *key, sl_kvs *out)
{
	return 0;
}

static int m_choice(sl_config *c, const char *key, const char *const *choices, int *out)
{
	int line;
	const char *v = get(c, key, &line);
	if (!v)
		return 0;
	for (int i = 0; choices[i]; i++)
		if (strcmp(choices[i], v) == 0) {
			*out = i;
			return 0;
		}
	return sl_config_fail(c, line, "\"%s\"%s is not a choice", key, c->where);
}

static int m_line(sl_config *c, const char *key)
{
	int line = 0;
	if (!key)
		return 4;
	get(c, key, &line);
	return line;
}

static void *m_alloc(sl_config *c, size_t n)
{
	mem_config *m = (mem_config *)c;
	assert_true(m->nblocks < 32);
	return m->blocks[m->nblocks++] = calloc(1, n);
}

static int m_check_name(sl_config *c, int line, const char *what, const char *name)
{
	return 0;
}

static const char *m_suggest(sl_config *c, const char *word, const char *const *cands)
{
	return NULL;
}

static const sl_config_ops mem_ops = {m_str, m_integer, m_boolean, m_number, m_list,
				      m_mapping, m_choice, m_line, m_alloc, m_check_name,
				      m_suggest};

static void mem_init(mem_config *m, const char *const *kv, sl_error *err)
{
	memset(m, 0, sizeof *m);
	m->base.ops = &mem_ops;
	m->base.file = "sources/s.yml";
	m->base.where = " in table \"t\"";
	m->base.err = err;
	m->kv = kv;
}

static void mem_free(mem_config *m)
{
	for (int i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
}

static void test_registry_lists_and_finds_kinds(void **state)
{
	(void)state;
	const sl_source_kind *const *k = sl_source_kinds();
	const char *names[] = {"csv", "postgres", "http", "s3"};
	int n = 0;
	for (; k[n]; n++) {
		assert_string_equal(k[n]->name, names[n]);
		assert_ptr_equal(sl_source_kind_find(names[n]), k[n]);
		assert_non_null(k[n]->open);
		assert_non_null(k[n]->parse_table);
		/* A table key is listed once per kind. */
		for (int i = 0; k[n]->table_keys[i].name; i++)
			for (int j = 0; j < i; j++)
				assert_string_not_equal(k[n]->table_keys[i].name,
							k[n]->table_keys[j].name);
	}
	assert_int_equal(n, 4);
	assert_null(sl_source_kind_find("mysql"));
	assert_null(sl_source_kind_find(NULL));
}

static void test_http_kind_reads_defaults_and_refuses_bad_values(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_source src = {.name = "api", .file = "sources/s.yml", .line = 1};
	sl_source_table t = {.name = "t", .line = 4};
	mem_config m;
	const char *ok[] = {"url", "https://x/{{ ds }}", "lookback", "2h", NULL};
	mem_init(&m, ok, &err);
	t.cursor = "at"; /* a key every table has: read by project/ */
	assert_int_equal(sl_kind_http.parse_table(&m.base, &src, &t), 0);
	const sl_http_opts *o = t.opts;
	assert_string_equal(o->url, "https://x/{{ ds }}");
	assert_int_equal(o->lookback_micros, 2 * 3600 * SL_MICROS_PER_SEC);
	assert_string_equal(o->method, "GET");
	assert_int_equal(o->max_retries, 5);
	assert_int_equal(o->max_pages, 100000);
	mem_free(&m);

	const char *bad_pages[] = {"url", "https://x", "max_pages", "0", NULL};
	mem_init(&m, bad_pages, &err);
	assert_int_equal(sl_kind_http.parse_table(&m.base, &src, &t), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:11: \"max_pages\" in table \"t\" must be an "
			    "integer, not \"0\"");
	mem_free(&m);

	const char *bad_var[] = {"url", "https://x/{{ day }}", NULL};
	mem_init(&m, bad_var, &err);
	assert_int_equal(sl_kind_http.parse_table(&m.base, &src, &t), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:10: unknown variable {{ day }} in \"url\" in "
			    "table \"t\"; use {{ ds }}, {{ data_interval_start }} or "
			    "{{ data_interval_end }} (or {{ watermark }})");
	mem_free(&m);

	const char *bad_dur[] = {"url", "https://x", "lookback", "2 hours", NULL};
	mem_init(&m, bad_dur, &err);
	assert_int_equal(sl_kind_http.parse_table(&m.base, &src, &t), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:11: \"lookback\" in table \"t\" must be a "
			    "duration like 2h, 15m, 90s or 1d, not \"2 hours\"");
	mem_free(&m);

	/* A lookback that would overflow the watermark minus it. */
	const char *huge[] = {"url", "https://x", "lookback", "106751991d", NULL};
	mem_init(&m, huge, &err);
	assert_int_equal(sl_kind_http.parse_table(&m.base, &src, &t), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:11: \"lookback\" in table \"t\" must be at "
			    "most 36500d (100 years), not \"106751991d\"");
	mem_free(&m);
}

static void test_postgres_kind_source_and_unnamed_tables(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_source src = {.name = "db", .file = "sources/s.yml", .line = 1};
	mem_config m;
	const char *none[] = {NULL};
	mem_init(&m, none, &err);
	assert_int_equal(sl_kind_postgres.parse_source(&m.base, &src), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:1: postgres source \"db\" needs a "
			    "connection, e.g. connection: ${SHOP_DB_URL}");
	mem_free(&m);

	const char *conn[] = {"connection", "postgres://u:pw-secret-1@h/db", NULL};
	mem_init(&m, conn, &err);
	assert_int_equal(sl_kind_postgres.parse_source(&m.base, &src), 0);
	assert_string_equal(((const sl_pg_source_opts *)src.opts)->connection,
			    "postgres://u:pw-secret-1@h/db");
	char red[128];
	sl_log_redact(red, sizeof red, "password pw-secret-1");
	assert_string_equal(red, "password ***");
	sl_log_clear_secrets();
	mem_free(&m);

	const char *q[] = {"query", "select 1", NULL};
	mem_init(&m, q, &err);
	assert_int_equal(sl_kind_postgres.unnamed_table(&m.base, &src, 1), SL_ECONFIG);
	assert_string_equal(err.message, "sources/s.yml:4: table #2 of source \"db\" has a query but "
			    "no name; add \"name:\" for the lake table it lands in");
	mem_free(&m);

	sl_source_table t = {.name = "orders", .line = 4};
	const char *w[] = {"where", "day = '{{ ds }}'", NULL};
	mem_init(&m, w, &err);
	assert_int_equal(sl_kind_postgres.parse_table(&m.base, &src, &t), 0);
	const sl_pg_opts *o = t.opts;
	assert_string_equal(o->where, "day = '{{ ds }}'");
	assert_string_equal(o->schema_name, "public");
	mem_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_lists_and_finds_kinds),
		cmocka_unit_test(test_http_kind_reads_defaults_and_refuses_bad_values),
		cmocka_unit_test(test_postgres_kind_source_and_unnamed_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
