/*
 * postgres_config.c: the postgres kind — its source key (connection), its
 * table keys (lookback, query, where, schema,
 * cast_unsupported_to_text), how they are read and checked, and its
 * registry entry.
 */
#include "sources/pg_int.h"

#include <ctype.h>
#include <string.h>

static const sl_source_key source_keys[] = {{"connection", SL_KEY_STRING, NULL}, {NULL}};
static const sl_source_key table_keys[] = {
	{"lookback", SL_KEY_DURATION, NULL},
	{"query", SL_KEY_STRING, NULL},
	{"where", SL_KEY_STRING, NULL},
	{"schema", SL_KEY_STRING, NULL},
	{"cast_unsupported_to_text", SL_KEY_BOOL, NULL},
	{NULL},
};

/* Registers conn[0..n) as a secret. */
static void add_secret_n(const char *s, size_t n)
{
	char *d = sl_strndup(s, n);
	if (d)
		sl_log_add_secret(d);
	sl_free(d);
}

/* A connection string is a secret, and so is its password part alone. */
static void add_conn_secret(const char *conn)
{
	if (!conn || !*conn)
		return;
	sl_log_add_secret(conn);
	/* URI form: scheme://user:password@host/... */
	const char *sch = strstr(conn, "://");
	if (sch) {
		const char *at = strchr(sch + 3, '@');
		const char *colon = strchr(sch + 3, ':');
		if (at && colon && colon < at)
			add_secret_n(colon + 1, (size_t)(at - colon - 1));
	}
	/* Key/value form: ... password=secret ... (optionally quoted). */
	const char *kv = strstr(conn, "password=");
	if (kv) {
		kv += 9;
		char q = (*kv == '\'') ? *kv++ : 0;
		size_t n = 0;
		while (kv[n] && (q ? kv[n] != q : !isspace((unsigned char)kv[n]) && kv[n] != '&'))
			n++;
		add_secret_n(kv, n);
	}
}

static int pg_parse_source(sl_config *c, sl_source *src)
{
	sl_pg_source_opts *o = c->ops->alloc(c, sizeof *o);
	int rc;
	if (!o)
		return sl_error_set(c->err, SL_ENOMEM, "out of memory");
	if ((rc = c->ops->str(c, "connection", &o->connection)) < 0)
		return rc;
	if (!o->connection || !*o->connection)
		return sl_config_fail(c, src->line, "postgres source \"%s\" needs a connection, e.g. "
				      "connection: ${SHOP_DB_URL}", src->name);
	add_conn_secret(o->connection);
	src->opts = o;
	return 0;
}

static int pg_parse_table(sl_config *c, const sl_source *src, sl_source_table *t)
{
	sl_pg_opts *o = c->ops->alloc(c, sizeof *o);
	int rc;
	if (!o)
		return sl_error_set(c->err, SL_ENOMEM, "out of memory");
	if ((rc = sl_config_lookback(c, t, &o->lookback_micros)) < 0 ||
	    (rc = c->ops->str(c, "query", &o->query)) < 0 ||
	    (rc = c->ops->str(c, "where", &o->where)) < 0 ||
	    (rc = c->ops->str(c, "schema", &o->schema_name)) < 0 ||
	    (rc = c->ops->boolean(c, "cast_unsupported_to_text", &o->cast_unsupported_to_text)) < 0)
		return rc;
	if ((rc = sl_config_check_vars(c, "query", 0, o->query, false)) < 0 ||
	    (rc = sl_config_check_vars(c, "where", 0, o->where, false)) < 0)
		return rc;
	if (!o->schema_name)
		o->schema_name = "public";
	t->opts = o;
	(void)src;
	return 0;
}

static int pg_unnamed_table(sl_config *c, const sl_source *src, int idx)
{
	int line = c->ops->line(c, NULL);
	if (c->ops->line(c, "query"))
		return sl_config_fail(c, line, "table #%d of source \"%s\" has a query but no "
				      "name; add \"name:\" for the lake table it lands in",
				      idx + 1, src->name);
	return sl_config_fail(c, line, "table #%d of source \"%s\" needs a name (the table to "
			      "read) or a query", idx + 1, src->name);
}

const sl_source_kind sl_kind_postgres = {
	.name = "postgres",
	.source_keys = source_keys,
	.table_keys = table_keys,
	.parse_source = pg_parse_source,
	.parse_table = pg_parse_table,
	.unnamed_table = pg_unnamed_table,
	.open = sl_postgres_source_open,
};
