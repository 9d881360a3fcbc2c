/*
 * registry.c: the warehouse adapters sluice knows, looked up by target
 * type. Each adapter describes itself next to its code (sqlite.c,
 * postgres.c): settings, identifier rules, open. Adding a warehouse is its
 * file and one line here.
 */
#include "warehouse_int.h"

#include <string.h>

/*
 * DuckDB: its settings are known (a target may name it), its adapter is
 * not built yet, so opening one says so.
 */
static const sl_wh_key duckdb_keys[] = {
	{.name = "path", .type = SL_WH_KEY_PATH, .def = "./warehouse.duckdb",
	 .example = "./warehouse.duckdb"},
	{.name = "schema", .type = SL_WH_KEY_TEXT, .def = "main", .example = "main"},
	{.name = "raw_schema", .type = SL_WH_KEY_TEXT, .def = "raw", .example = "raw"},
	SL_WH_SERVER_KEYS_IGNORED,
	{.name = NULL},
};

static const sl_wh_adapter duckdb_adapter = {
	.name = "duckdb",
	.settings_hint = "use path",
	.keys = duckdb_keys,
	.rules = {.fold_case = true, .max_bytes = 0, .max_columns = 0},
	.open = NULL,
};

/* The first is the default type. */
static const sl_wh_adapter *const adapters[] = {
	&sl_wh_sqlite_adapter,
	&sl_wh_postgres_adapter,
	&duckdb_adapter,
};

#define NADAPTERS ((int)(sizeof adapters / sizeof adapters[0]))

const sl_wh_adapter *sl_wh_adapter_at(int i)
{
	return i >= 0 && i < NADAPTERS ? adapters[i] : NULL;
}

const sl_wh_adapter *sl_wh_adapter_find(const char *type)
{
	if (!type)
		return NULL;
	for (int i = 0; i < NADAPTERS; i++)
		if (strcmp(type, adapters[i]->name) == 0 ||
		    (adapters[i]->alias && strcmp(type, adapters[i]->alias) == 0))
			return adapters[i];
	return NULL;
}

const sl_wh_key *sl_wh_adapter_key(const sl_wh_adapter *a, const char *name)
{
	for (const sl_wh_key *k = a->keys; k && k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const char *sl_wh_config_get(const sl_wh_config *cfg, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{"path", offsetof(sl_wh_config, path)},
		{"host", offsetof(sl_wh_config, host)},
		{"dbname", offsetof(sl_wh_config, dbname)},
		{"user", offsetof(sl_wh_config, user)},
		{"password", offsetof(sl_wh_config, password)},
		{"sslmode", offsetof(sl_wh_config, sslmode)},
		{"schema", offsetof(sl_wh_config, schema)},
		{"raw_schema", offsetof(sl_wh_config, raw_schema)},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strcmp(key, fields[i].key) != 0)
			continue;
		const char *v = *(const char *const *)((const char *)cfg + fields[i].off);
		if (v)
			return v;
	}
	return cfg->get ? cfg->get(cfg->get_ctx, key) : NULL;
}
