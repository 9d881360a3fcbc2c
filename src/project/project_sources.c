/*
 * project_sources.c: loading sources/NAME.yml (one source per file, in file
 * name order) into sl_source values, with per-kind checks: which keys apply
 * to which kind, what each kind requires, and duplicate names.
 */
#include "project/project_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

enum { K_CSV = 1 << SL_SOURCE_CSV, K_PG = 1 << SL_SOURCE_POSTGRES,
       K_HTTP = 1 << SL_SOURCE_HTTP, K_S3 = 1 << SL_SOURCE_S3,
       K_ALL = K_CSV | K_PG | K_HTTP | K_S3, K_FILES = K_CSV | K_S3 };

static const char *const source_keys[] = {"source", "kind", "connection", "tables", NULL};
static const char *const source_kinds[] = {"csv", "postgres", "http", "s3", NULL};

/* Table keys and the kinds they apply to (same order). */
static const char *const table_keys[] = {
	"name", "primary_key", "columns", "write", "max_bad_rows",
	"path", "url", "format", "delimiter", "quote", "escape", "header", "nulls",
	"cursor", "lookback", "query", "where", "schema", "cast_unsupported_to_text",
	"method", "params", "headers", "body", "records", "auth", "pagination",
	"flatten", "rate_limit", "max_retries", "on_bad_page",
	"max_pages", "max_record_bytes", "max_retry_time", "max_columns", NULL};
static const int table_key_kinds[] = {
	K_ALL, K_ALL, K_ALL, K_ALL, K_ALL,
	K_CSV, K_S3 | K_HTTP, K_FILES, K_FILES, K_FILES, K_FILES, K_FILES, K_FILES,
	K_ALL, K_PG | K_HTTP, K_PG, K_PG, K_PG, K_PG,
	K_HTTP, K_HTTP, K_HTTP, K_HTTP, K_HTTP, K_HTTP, K_HTTP,
	K_HTTP | K_FILES, K_HTTP, K_HTTP | K_S3, K_HTTP,
	K_HTTP, K_HTTP, K_HTTP, K_FILES | K_HTTP};

static const char *const write_modes[] = {"append", "replace", "merge", NULL};
static const char *const formats[] = {"csv", "parquet", "jsonl", NULL};
static const char *const flatten_modes[] = {"columns", "json", NULL};
static const char *const bad_page_modes[] = {"quarantine", "fail", NULL};
static const char *const auth_keys[] = {"bearer", "basic_user", "basic_password",
					"api_key_header", "api_key", NULL};
static const char *const pagination_types[] = {"page", "offset", "cursor", "link", NULL};
/* What sl_type_parse accepts, for "did you mean" on a misspelt type. */
static const char *const type_words[] = {"bool", "boolean", "int32", "int", "integer",
					 "int64", "bigint", "long", "float64", "double",
					 "float", "decimal", "numeric", "string", "text",
					 "varchar", "date", "timestamp", "datetime", NULL};

/* A one-character option: "," "\t" "tab"; empty means none when allowed. */
static int get_char(pj_file *f, yaml_node_t *map, const char *key, const char *where,
		    bool allow_empty, char *out)
{
	char *s = NULL;
	int rc = pj_get_str(f, map, key, where, &s);
	if (rc < 0 || !s)
		return rc;
	if (strlen(s) == 1) {
		*out = s[0];
		return 0;
	}
	if (strcmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0) {
		*out = '\t';
		return 0;
	}
	if (!*s && allow_empty) {
		*out = '\0';
		return 0;
	}
	return pj_err(f, pj_line(pj_get(f, map, key, NULL)),
		      "\"%s\"%s must be a single character, not \"%s\"", key, where, s);
}

/* Whether name ends with suffix, ignoring ASCII case. */
static bool ends_with_nocase(const char *name, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && strncasecmp(name + n - k, suffix, k) == 0;
}

/* Format from a file name: .csv/.parquet/.jsonl/.ndjson/.json, after .gz/.zst. */
static const char *format_from_name(const char *name)
{
	size_t n = strlen(name);
	if (ends_with_nocase(name, n, ".gz"))
		n -= 3;
	else if (ends_with_nocase(name, n, ".zst"))
		n -= 4;
	if (ends_with_nocase(name, n, ".parquet"))
		return "parquet";
	if (ends_with_nocase(name, n, ".jsonl") || ends_with_nocase(name, n, ".ndjson") ||
	    ends_with_nocase(name, n, ".json"))
		return "jsonl";
	return "csv";
}

static bool secret_header(const char *name)
{
	static const char *const words[] = {"authorization", "token", "key", "secret",
					    "password", "cookie", NULL};
	for (const char *p = name; *p; p++)
		for (int i = 0; words[i]; i++)
			if (strncasecmp(p, words[i], strlen(words[i])) == 0)
				return true;
	return false;
}

/*
 * Whether a query parameter's name says its value is a credential: it ends
 * in token, secret, password or signature, or is a known key name (case,
 * "-" and "_" aside: api_key, apiKey, key, sig...). Not any name holding
 * "key": sort_key's value is a column name, not a secret.
 */
static bool secret_param(const char *name)
{
	static const char *const suffixes[] = {"token", "secret", "password", "passwd",
					       "signature", NULL};
	static const char *const names[] = {"key", "apikey", "appkey", "accesskey", "secretkey",
					    "privatekey", "consumerkey", "subscriptionkey", "clientkey",
					    "sig", "auth", "session", "sessionid", "appid", "hapikey",
					    "apitoken", "accesskeyid", NULL};
	sl_buf n = SL_BUF_INIT;
	bool hit = false;
	for (const char *p = name; *p; p++)
		if (*p != '_' && *p != '-' &&
		    sl_buf_putc(&n, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p)) < 0)
			break;
	for (int i = 0; n.data && suffixes[i] && !hit; i++)
		hit = sl_str_ends_with(n.data, suffixes[i]);
	for (int i = 0; n.data && names[i] && !hit; i++)
		hit = strcmp(n.data, names[i]) == 0;
	sl_buf_free(&n);
	return hit;
}

/*
 * Registers what a server may echo of an http table's credentials: the
 * values of auth keys, of headers and params named like credentials, and
 * the base64 "user:password" that basic auth sends.
 */
static int register_http_secrets(const sl_source_table *t)
{
	for (int i = 0; i < t->auth.n; i++)
		sl_log_add_secret(t->auth.items[i].value);
	for (int i = 0; i < t->headers.n; i++)
		if (secret_header(t->headers.items[i].key))
			sl_log_add_secret(t->headers.items[i].value);
	for (int i = 0; i < t->params.n; i++)
		if (secret_param(t->params.items[i].key))
			sl_log_add_secret(t->params.items[i].value);
	const char *user = sl_kvs_get(&t->auth, "basic_user");
	if (!user)
		return 0;
	const char *password = sl_kvs_get(&t->auth, "basic_password");
	sl_buf up = SL_BUF_INIT;
	unsigned char *b64 = NULL;
	bool ok = sl_buf_printf(&up, "%s:%s", user, password ? password : "") == 0 &&
		  (b64 = sl_malloc(4 * (up.len / 3 + 1) + 1)) != NULL;
	if (ok) {
		EVP_EncodeBlock(b64, (const unsigned char *)up.data, (int)up.len);
		sl_log_add_secret((const char *)b64);
	}
	sl_free(b64);
	sl_buf_free(&up);
	return ok ? 0 : SL_ENOMEM;
}

static int check_columns(pj_file *f, sl_source_table *t, const char *where)
{
	for (int i = 0; i < t->columns.n; i++) {
		sl_kv *kv = &t->columns.items[i];
		sl_type ty;
		int rc = pj_check_name_len(f, kv->line, "column name", kv->key);
		if (rc < 0)
			return rc;
		if (sl_type_parse(kv->value, &ty) == 0)
			continue;
		char *word = sl_arena_strndup(f->arena, kv->value, strcspn(kv->value, "("));
		if (!word)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		const char *s = pj_suggest(word, type_words);
		if (s && strcasecmp(s, word) != 0)
			return pj_err(f, kv->line, "unknown type \"%s\" for column \"%s\"%s; did you "
				      "mean \"%s\"? valid types: " SL_TYPE_NAMES, kv->value,
				      kv->key, where, s);
		return pj_err(f, kv->line, "unknown type \"%s\" for column \"%s\"%s; valid types: "
			      SL_TYPE_NAMES, kv->value, kv->key, where);
	}
	return 0;
}

static int check_kind_keys(pj_file *f, sl_source *s, yaml_node_t *n, const char *where)
{
	for (int i = 0; i < pj_map_len(n); i++) {
		yaml_node_t *k, *v;
		pj_map_pair(f, n, i, &k, &v);
		const char *key = (const char *)k->data.scalar.value;
		for (int j = 0; table_keys[j]; j++) {
			if (strcmp(table_keys[j], key) != 0)
				continue;
			if (!(table_key_kinds[j] & (1 << s->kind)))
				return pj_err(f, pj_line(k), "key \"%s\"%s does not apply to %s "
					      "sources; remove it", key, where,
					      sl_source_kind_name(s->kind));
		}
	}
	return 0;
}

/*
 * {{ name }} in a string option must be a logical-date variable ({{ ds }},
 * {{ data_interval_start }}, {{ data_interval_end }}) or, in an http
 * table, {{ watermark }}: anything else is refused here, at load time.
 */
static int check_var(pj_file *f, yaml_node_t *n, const char *key, int line, const char *value,
		     bool http, const char *where)
{
	const char *bad = NULL;
	size_t len = 0;
	if (!value || sl_render_check(value, http, &bad, &len) == 0)
		return 0;
	if (line <= 0)
		line = pj_line(pj_get(f, n, key, NULL));
	return pj_err(f, line, "unknown variable %.*s in \"%s\"%s; use {{ ds }}, "
		      "{{ data_interval_start }} or {{ data_interval_end }}%s",
		      (int)(len > 60 ? 60 : len), bad, key, where,
		      http ? " (or {{ watermark }})" : "");
}

static int check_vars(pj_file *f, const sl_source *s, yaml_node_t *n, const sl_source_table *t,
		      const char *where)
{
	bool http = s->kind == SL_SOURCE_HTTP;
	int rc;
	if ((rc = check_var(f, n, "url", 0, t->url, http, where)) < 0 ||
	    (rc = check_var(f, n, "path", 0, t->path, false, where)) < 0 ||
	    (rc = check_var(f, n, "body", 0, t->body, http, where)) < 0 ||
	    (rc = check_var(f, n, "query", 0, t->query, false, where)) < 0 ||
	    (rc = check_var(f, n, "where", 0, t->where, false, where)) < 0)
		return rc;
	for (int i = 0; i < t->params.n; i++)
		if ((rc = check_var(f, n, "params", t->params.items[i].line,
				    t->params.items[i].value, http, where)) < 0)
			return rc;
	for (int i = 0; i < t->headers.n; i++)
		if ((rc = check_var(f, n, "headers", t->headers.items[i].line,
				    t->headers.items[i].value, http, where)) < 0)
			return rc;
	return 0;
}

static int load_table(pj_file *f, sl_source *s, yaml_node_t *n, int idx, sl_source_table *t)
{
	const char *where;
	int rc, e;

	t->line = pj_line(n);
	t->delimiter = ',';
	t->quote = '"';
	t->escape = '"';
	t->header = true;
	t->max_retries = 5;
	t->method = "GET";
	t->flatten = "columns";
	t->on_bad_page = "quarantine";
	t->max_pages = 100000;
	t->max_record_bytes = (int64_t)16 << 20;
	t->max_retry_micros = 600 * SL_MICROS_PER_SEC;
	if (n->type != YAML_MAPPING_NODE)
		return pj_err(f, t->line, "table #%d of source \"%s\" must be a mapping like "
			      "{name: orders, ...}, not %s", idx + 1, s->name, pj_kind_name(n));
	if ((rc = pj_get_str(f, n, "name", "", &t->name)) < 0)
		return rc;
	if (t->name && (rc = pj_check_name_len(f, pj_line(pj_get(f, n, "name", NULL)),
						"table name", t->name)) < 0)
		return rc;
	if (t->name)
		where = sl_arena_sprintf(f->arena, " in table \"%s\"", t->name);
	else
		where = sl_arena_sprintf(f->arena, " in table #%d of source \"%s\"", idx + 1,
					 s->name);
	if (!where)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if ((rc = pj_check_keys(f, n, table_keys, where)) < 0 ||
	    (rc = check_kind_keys(f, s, n, where)) < 0)
		return rc;
	if (!t->name) {
		if (s->kind == SL_SOURCE_POSTGRES && pj_get(f, n, "query", NULL))
			return pj_err(f, t->line, "table #%d of source \"%s\" has a query but no "
				      "name; add \"name:\" for the lake table it lands in",
				      idx + 1, s->name);
		if (s->kind == SL_SOURCE_POSTGRES)
			return pj_err(f, t->line, "table #%d of source \"%s\" needs a name (the "
				      "table to read) or a query", idx + 1, s->name);
		return pj_err(f, t->line, "missing required key \"name\"%s", where);
	}
	if (!pj_is_ident(t->name))
		return pj_err(f, pj_line(pj_get(f, n, "name", NULL)), "table name \"%s\" must "
			      "start with a letter or _ and hold only letters, digits and _",
			      t->name);

	e = SL_WRITE_APPEND;
	if ((rc = pj_get_enum(f, n, "write", where, write_modes, &e)) < 0)
		return rc;
	t->write = (sl_write_mode)e;
	if ((rc = pj_get_strlist(f, n, "primary_key", where, &t->primary_key,
				 &t->nprimary_key)) < 0 ||
	    (rc = pj_get_kvs(f, n, "columns", where, false, &t->columns)) < 0 ||
	    (rc = check_columns(f, t, where)) < 0 ||
	    (rc = pj_get_int(f, n, "max_bad_rows", where, 0, INT64_MAX, &t->max_bad_rows)) < 0 ||
	    (rc = pj_get_int(f, n, "max_columns", where, 1, INT32_MAX, &t->max_columns)) < 0)
		return rc;
	for (int i = 0; i < t->nprimary_key; i++) {
		int line = pj_line(pj_get(f, n, "primary_key", NULL));
		if ((rc = pj_check_name_len(f, line, "primary_key column", t->primary_key[i])) < 0)
			return rc;
		for (int k = 0; k < i; k++)
			if (strcasecmp(t->primary_key[k], t->primary_key[i]) == 0)
				return pj_err(f, line, "primary_key names \"%s\" and \"%s\"%s: "
					      "one column to a warehouse that ignores case; "
					      "name each key column once",
					      t->primary_key[k], t->primary_key[i], where);
	}
	if (t->write == SL_WRITE_MERGE && t->nprimary_key == 0)
		return pj_err(f, pj_line(pj_get(f, n, "write", NULL)),
			      "write: merge%s needs a primary_key (the columns that identify a "
			      "row); add primary_key: [col] or use write: append", where);

	/* Files. */
	if ((rc = pj_get_str(f, n, "path", where, &t->path)) < 0 ||
	    (rc = pj_get_str(f, n, "url", where, &t->url)) < 0 ||
	    (rc = get_char(f, n, "delimiter", where, false, &t->delimiter)) < 0 ||
	    (rc = get_char(f, n, "quote", where, true, &t->quote)) < 0 ||
	    (rc = get_char(f, n, "escape", where, true, &t->escape)) < 0 ||
	    (rc = pj_get_bool(f, n, "header", where, &t->header)) < 0 ||
	    (rc = pj_get_strlist(f, n, "nulls", where, &t->nulls, &t->nnulls)) < 0)
		return rc;
	e = -1;
	if ((rc = pj_get_enum(f, n, "format", where, formats, &e)) < 0)
		return rc;
	if (e >= 0)
		t->format = (char *)formats[e];
	if (!t->nulls) {
		t->nulls = sl_arena_alloc(f->arena, sizeof *t->nulls);
		if (!t->nulls)
			return sl_error_set(f->err, SL_ENOMEM, "out of memory");
		t->nulls[0] = "";
		t->nnulls = 1;
	}

	/* Databases and APIs. */
	char *lookback = NULL;
	if ((rc = pj_get_str(f, n, "cursor", where, &t->cursor)) < 0 ||
	    (rc = pj_get_str(f, n, "lookback", where, &lookback)) < 0 ||
	    (rc = pj_get_str(f, n, "query", where, &t->query)) < 0 ||
	    (rc = pj_get_str(f, n, "where", where, &t->where)) < 0 ||
	    (rc = pj_get_str(f, n, "schema", where, &t->schema_name)) < 0 ||
	    (rc = pj_get_bool(f, n, "cast_unsupported_to_text", where,
			      &t->cast_unsupported_to_text)) < 0)
		return rc;
	if (t->cursor && (rc = pj_check_name_len(f, pj_line(pj_get(f, n, "cursor", NULL)),
						  "cursor column", t->cursor)) < 0)
		return rc;
	if (lookback && sl_duration_parse(lookback, &t->lookback_micros) < 0)
		return pj_err(f, pj_line(pj_get(f, n, "lookback", NULL)),
			      "\"lookback\"%s must be a duration like 2h, 15m, 90s or 1d, not "
			      "\"%s\"", where, lookback);
	if (lookback && !t->cursor)
		return pj_err(f, pj_line(pj_get(f, n, "lookback", NULL)),
			      "\"lookback\"%s needs a cursor (the column that grows with each "
			      "change, e.g. cursor: updated_at)", where);
	if (s->kind == SL_SOURCE_POSTGRES && !t->schema_name)
		t->schema_name = "public";

	/* HTTP. */
	char *method = NULL;
	int64_t retries = t->max_retries;
	e = 0;
	if ((rc = pj_get_str(f, n, "method", where, &method)) < 0 ||
	    (rc = pj_get_kvs(f, n, "params", where, false, &t->params)) < 0 ||
	    (rc = pj_get_kvs(f, n, "headers", where, false, &t->headers)) < 0 ||
	    (rc = pj_get_str(f, n, "body", where, &t->body)) < 0 ||
	    (rc = pj_get_str(f, n, "records", where, &t->records)) < 0 ||
	    (rc = pj_get_kvs(f, n, "auth", where, false, &t->auth)) < 0 ||
	    (rc = pj_get_kvs(f, n, "pagination", where, false, &t->pagination)) < 0 ||
	    (rc = pj_get_enum(f, n, "flatten", where, flatten_modes, &e)) < 0 ||
	    (rc = pj_get_double(f, n, "rate_limit", where, &t->rate_limit)) < 0 ||
	    (rc = pj_get_int(f, n, "max_retries", where, 0, 100, &retries)) < 0)
		return rc;
	t->flatten = (char *)flatten_modes[e];
	t->max_retries = (int)retries;
	e = 0;
	if ((rc = pj_get_enum(f, n, "on_bad_page", where, bad_page_modes, &e)) < 0)
		return rc;
	t->on_bad_page = (char *)bad_page_modes[e];
	char *retry_time = NULL;
	if ((rc = pj_get_int(f, n, "max_pages", where, 1, INT64_MAX, &t->max_pages)) < 0 ||
	    (rc = pj_get_int(f, n, "max_record_bytes", where, 1024, (int64_t)1 << 30,
			     &t->max_record_bytes)) < 0 ||
	    (rc = pj_get_str(f, n, "max_retry_time", where, &retry_time)) < 0)
		return rc;
	if (retry_time && (sl_duration_parse(retry_time, &t->max_retry_micros) < 0 ||
			   t->max_retry_micros <= 0))
		return pj_err(f, pj_line(pj_get(f, n, "max_retry_time", NULL)),
			      "\"max_retry_time\"%s must be a duration like 90s, 10m or 1h, not "
			      "\"%s\"", where, retry_time);
	if (method) {
		if (strcasecmp(method, "GET") != 0 && strcasecmp(method, "POST") != 0)
			return pj_err(f, pj_line(pj_get(f, n, "method", NULL)),
				      "\"method\"%s must be GET or POST, not \"%s\"", where, method);
		t->method = strcasecmp(method, "GET") == 0 ? "GET" : "POST";
	}
	for (int i = 0; i < t->auth.n; i++) {
		sl_kv *kv = &t->auth.items[i];
		bool known = false;
		for (int j = 0; auth_keys[j]; j++)
			known = known || strcmp(kv->key, auth_keys[j]) == 0;
		if (!known) {
			const char *sug = pj_suggest(kv->key, auth_keys);
			if (sug)
				return pj_err(f, kv->line, "unknown key \"%s\" in auth%s; did you mean "
					      "\"%s\"?", kv->key, where, sug);
			return pj_err(f, kv->line, "unknown key \"%s\" in auth%s; use bearer, "
				      "basic_user/basic_password or api_key_header/api_key",
				      kv->key, where);
		}
	}
	if (register_http_secrets(t) < 0)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	if (t->pagination.n) {
		const char *ty = sl_kvs_get(&t->pagination, "type");
		bool ok = false;
		for (int j = 0; ty && pagination_types[j]; j++)
			ok = ok || strcmp(ty, pagination_types[j]) == 0;
		if (!ok)
			return pj_err(f, pj_line(pj_get(f, n, "pagination", NULL)),
				      "pagination%s needs a type: page, offset, cursor or link%s%s%s",
				      where, ty ? " (not \"" : "", ty ? ty : "", ty ? "\")" : "");
	}

	if ((rc = check_vars(f, s, n, t, where)) < 0)
		return rc;

	/* What each kind requires. */
	switch (s->kind) {
	case SL_SOURCE_CSV:
		if (!t->path || !*t->path)
			return pj_err(f, t->line, "table \"%s\" of csv source \"%s\" needs a path "
				      "(a file or glob relative to the project, e.g. data/%s*.csv)",
				      t->name, s->name, t->name);
		if (!t->format)
			t->format = (char *)format_from_name(t->path);
		break;
	case SL_SOURCE_S3:
		if (!t->url || !sl_str_starts_with(t->url, "s3://") || strlen(t->url) <= 5)
			return pj_err(f, t->url ? pj_line(pj_get(f, n, "url", NULL)) : t->line,
				      "table \"%s\" of s3 source \"%s\" needs a url starting with "
				      "s3:// (e.g. s3://bucket/prefix/*.csv.gz)%s%s%s",
				      t->name, s->name, t->url ? ", not \"" : "",
				      t->url ? t->url : "", t->url ? "\"" : "");
		if (!t->format)
			t->format = (char *)format_from_name(t->url);
		break;
	case SL_SOURCE_HTTP:
		if (!t->url || !(sl_str_starts_with(t->url, "http://") ||
				 sl_str_starts_with(t->url, "https://")))
			return pj_err(f, t->url ? pj_line(pj_get(f, n, "url", NULL)) : t->line,
				      "table \"%s\" of http source \"%s\" needs a url starting with "
				      "http:// or https://%s%s%s",
				      t->name, s->name, t->url ? ", not \"" : "",
				      t->url ? t->url : "", t->url ? "\"" : "");
		break;
	case SL_SOURCE_POSTGRES:
		break;
	}
	return 0;
}

/* Loads one source file into s; *name_line gets the line of "source:". */
static int load_source(sl_project *p, pj_file *f, sl_source *s)
{
	yaml_node_t *root = pj_root(f);
	int rc, line = 1, kind = -1;

	if (!root || pj_is_null(root))
		return pj_err(f, 1, "the file is empty; a source needs source:, kind: and "
			      "tables:");
	if (root->type != YAML_MAPPING_NODE)
		return pj_err(f, pj_line(root), "a source file must be a mapping (source:, kind:, "
			      "tables:), not %s", pj_kind_name(root));
	if ((rc = pj_check_keys(f, root, source_keys, "")) < 0)
		return rc;
	pj_get(f, root, "source", &line);
	s->line = line;
	if ((rc = pj_get_str(f, root, "source", "", &s->name)) < 0)
		return rc;
	if (!s->name)
		return pj_err(f, 1, "missing required key \"source\" (the source's name, e.g. "
			      "source: shop_db)");
	if ((rc = pj_check_name_len(f, line, "source name", s->name)) < 0)
		return rc;
	if (!pj_is_ident(s->name))
		return pj_err(f, line, "source name \"%s\" must start with a letter or _ and hold "
			      "only letters, digits and _", s->name);
	if (!pj_get(f, root, "kind", &line) || pj_is_null(pj_get(f, root, "kind", NULL)))
		return pj_err(f, s->line, "missing required key \"kind\" in source \"%s\"; use "
			      "csv, postgres, http or s3", s->name);
	if ((rc = pj_get_enum(f, root, "kind", "", source_kinds, &kind)) < 0)
		return rc;
	s->kind = (sl_source_kind)kind;

	if ((rc = pj_get_str(f, root, "connection", "", &s->connection)) < 0)
		return rc;
	if (s->connection && s->kind != SL_SOURCE_POSTGRES)
		return pj_err(f, pj_line(pj_get(f, root, "connection", NULL)),
			      "\"connection\" does not apply to %s sources; remove it",
			      sl_source_kind_name(s->kind));
	if (s->kind == SL_SOURCE_POSTGRES && (!s->connection || !*s->connection))
		return pj_err(f, s->line, "postgres source \"%s\" needs a connection, e.g. "
			      "connection: ${SHOP_DB_URL}", s->name);
	pj_add_conn_secret(s->connection);

	yaml_node_t *tv = pj_get(f, root, "tables", &line);
	if (pj_is_null(tv))
		return pj_err(f, tv ? line : s->line, "source \"%s\" has no tables; add "
			      "tables: with at least one {name: ...}", s->name);
	if (tv->type != YAML_SEQUENCE_NODE)
		return pj_err(f, pj_line(tv), "\"tables\" in source \"%s\" must be a list "
			      "(- name: ...), not %s", s->name, pj_kind_name(tv));
	int n = (int)(tv->data.sequence.items.top - tv->data.sequence.items.start);
	if (n == 0)
		return pj_err(f, line, "source \"%s\" has no tables; add at least one", s->name);
	s->tables = sl_arena_alloc(&p->arena, sizeof *s->tables * (size_t)n);
	if (!s->tables)
		return sl_error_set(f->err, SL_ENOMEM, "out of memory");
	memset(s->tables, 0, sizeof *s->tables * (size_t)n);
	for (int i = 0; i < n; i++) {
		yaml_node_t *tn = yaml_document_get_node(&f->doc, tv->data.sequence.items.start[i]);
		sl_source_table *t = &s->tables[i];
		if ((rc = load_table(f, s, tn, i, t)) < 0)
			return rc;
		for (int j = 0; j < i; j++)
			if (strcmp(s->tables[j].name, t->name) == 0)
				return pj_err(f, t->line, "duplicate table \"%s\" in source \"%s\" "
					      "(first defined on line %d); rename or remove one",
					      t->name, s->name, s->tables[j].line);
		s->ntables = i + 1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pj_load_sources(sl_project *p, sl_error *err)
{
	char *dir = sl_arena_sprintf(&p->arena, "%s/sources", p->dir);
	char **names = NULL;
	int n = 0, cap = 0, rc = 0;
	DIR *d;
	struct dirent *de;

	if (!dir)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sl_error_set(err, SL_EIO, "cannot read %s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !(sl_str_ends_with(de->d_name, ".yml") || sl_str_ends_with(de->d_name, ".yaml")))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			char **nn = sl_realloc(names, sizeof *names * (size_t)ncap);
			if (!nn) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = sl_arena_sprintf(&p->arena, "sources/%s", de->d_name);
		if (!names[n]) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n == 0)
		goto out;
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	p->sources = sl_arena_alloc(&p->arena, sizeof *p->sources * (size_t)n);
	if (!p->sources) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	memset(p->sources, 0, sizeof *p->sources * (size_t)n);
	for (int i = 0; i < n; i++) {
		sl_source *s = &p->sources[i];
		pj_file f;
		char *path = sl_arena_sprintf(&p->arena, "%s/%s", p->dir, names[i]);
		if (!path) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto out;
		}
		s->file = names[i];
		rc = pj_file_open(&f, path, names[i], &p->arena, err);
		if (rc == 0)
			rc = load_source(p, &f, s);
		pj_file_close(&f);
		if (rc < 0)
			goto out;
		for (int j = 0; j < i; j++) {
			if (strcmp(p->sources[j].name, s->name) == 0) {
				rc = sl_error_set(err, SL_ECONFIG, "%s:%d: duplicate source \"%s\" "
						  "(also defined at %s:%d); rename one of them",
						  s->file, s->line, s->name, p->sources[j].file,
						  p->sources[j].line);
				goto out;
			}
		}
		p->nsources = i + 1;
	}
out:
	closedir(d);
	sl_free(names);
	return rc;
}
