/*
 * http_options.c: the http kind — its table keys, how they are read and
 * checked (methods, auth keys, pagination types, durations, {{ }}
 * variables), the credentials they hold registered for redaction, and its
 * registry entry.
 */
#include "sources/http_int.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

static const char *const flatten_modes[] = {"columns", "json", NULL};
static const char *const bad_page_modes[] = {"quarantine", "fail", NULL};
static const char *const auth_keys[] = {"bearer", "basic_user", "basic_password",
					"api_key_header", "api_key", NULL};
static const char *const pagination_types[] = {"page", "offset", "cursor", "link", NULL};

static const sl_source_key table_keys[] = {
	{"url", SL_KEY_STRING, NULL},
	{"lookback", SL_KEY_DURATION, NULL},
	{"method", SL_KEY_STRING, NULL},
	{"params", SL_KEY_MAPPING, NULL},
	{"headers", SL_KEY_MAPPING, NULL},
	{"body", SL_KEY_STRING, NULL},
	{"records", SL_KEY_STRING, NULL},
	{"auth", SL_KEY_MAPPING, NULL},
	{"pagination", SL_KEY_MAPPING, NULL},
	{"flatten", SL_KEY_ENUM, flatten_modes},
	{"rate_limit", SL_KEY_NUMBER, NULL},
	{"max_retries", SL_KEY_INT, NULL},
	{"on_bad_page", SL_KEY_ENUM, bad_page_modes},
	{"max_pages", SL_KEY_INT, NULL},
	{"max_record_bytes", SL_KEY_INT, NULL},
	{"max_retry_time", SL_KEY_DURATION, NULL},
	{"max_columns", SL_KEY_INT, NULL},
	{NULL},
};

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
 * Registers what a server may echo of a table's credentials: the values
 * of auth keys, of headers and params named like credentials, and the
 * base64 "user:password" that basic auth sends.
 */
static int register_secrets(const sl_http_opts *o)
{
	for (int i = 0; i < o->auth.n; i++)
		sl_log_add_secret(o->auth.items[i].value);
	for (int i = 0; i < o->headers.n; i++)
		if (secret_header(o->headers.items[i].key))
			sl_log_add_secret(o->headers.items[i].value);
	for (int i = 0; i < o->params.n; i++)
		if (secret_param(o->params.items[i].key))
			sl_log_add_secret(o->params.items[i].value);
	const char *user = sl_kvs_get(&o->auth, "basic_user");
	if (!user)
		return 0;
	const char *password = sl_kvs_get(&o->auth, "basic_password");
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

static int check_auth(sl_config *c, const sl_http_opts *o)
{
	for (int i = 0; i < o->auth.n; i++) {
		const sl_kv *kv = &o->auth.items[i];
		bool known = false;
		for (int j = 0; auth_keys[j]; j++)
			known = known || strcmp(kv->key, auth_keys[j]) == 0;
		if (known)
			continue;
		const char *sug = c->ops->suggest(c, kv->key, auth_keys);
		if (sug)
			return sl_config_fail(c, kv->line, "unknown key \"%s\" in auth%s; did you "
					      "mean \"%s\"?", kv->key, c->where, sug);
		return sl_config_fail(c, kv->line, "unknown key \"%s\" in auth%s; use bearer, "
				      "basic_user/basic_password or api_key_header/api_key",
				      kv->key, c->where);
	}
	return 0;
}

static int check_vars(sl_config *c, const sl_http_opts *o)
{
	int rc;
	if ((rc = sl_config_check_vars(c, "url", 0, o->url, true)) < 0 ||
	    (rc = sl_config_check_vars(c, "body", 0, o->body, true)) < 0)
		return rc;
	for (int i = 0; i < o->params.n; i++)
		if ((rc = sl_config_check_vars(c, "params", o->params.items[i].line,
					       o->params.items[i].value, true)) < 0)
			return rc;
	for (int i = 0; i < o->headers.n; i++)
		if ((rc = sl_config_check_vars(c, "headers", o->headers.items[i].line,
					       o->headers.items[i].value, true)) < 0)
			return rc;
	return 0;
}

static int http_parse_table(sl_config *c, const sl_source *src, sl_source_table *t)
{
	sl_http_opts *o = c->ops->alloc(c, sizeof *o);
	char *method = NULL, *retry_time = NULL;
	int64_t retries = 5;
	int rc, e = 0;
	if (!o)
		return sl_error_set(c->err, SL_ENOMEM, "out of memory");
	o->max_retries = 5;
	o->method = "GET";
	o->flatten = "columns";
	o->on_bad_page = "quarantine";
	o->max_pages = 100000;
	o->max_record_bytes = (int64_t)16 << 20;
	o->max_retry_micros = 600 * SL_MICROS_PER_SEC;
	if ((rc = c->ops->str(c, "url", &o->url)) < 0 ||
	    (rc = c->ops->integer(c, "max_columns", 1, INT32_MAX, &o->max_columns)) < 0 ||
	    (rc = sl_config_lookback(c, t, &o->lookback_micros)) < 0)
		return rc;
	if ((rc = c->ops->str(c, "method", &method)) < 0 ||
	    (rc = c->ops->mapping(c, "params", &o->params)) < 0 ||
	    (rc = c->ops->mapping(c, "headers", &o->headers)) < 0 ||
	    (rc = c->ops->str(c, "body", &o->body)) < 0 ||
	    (rc = c->ops->str(c, "records", &o->records)) < 0 ||
	    (rc = c->ops->mapping(c, "auth", &o->auth)) < 0 ||
	    (rc = c->ops->mapping(c, "pagination", &o->pagination)) < 0 ||
	    (rc = c->ops->choice(c, "flatten", flatten_modes, &e)) < 0 ||
	    (rc = c->ops->number(c, "rate_limit", &o->rate_limit)) < 0 ||
	    (rc = c->ops->integer(c, "max_retries", 0, 100, &retries)) < 0)
		return rc;
	o->flatten = flatten_modes[e];
	o->max_retries = (int)retries;
	e = 0;
	if ((rc = c->ops->choice(c, "on_bad_page", bad_page_modes, &e)) < 0)
		return rc;
	o->on_bad_page = bad_page_modes[e];
	if ((rc = c->ops->integer(c, "max_pages", 1, INT64_MAX, &o->max_pages)) < 0 ||
	    (rc = c->ops->integer(c, "max_record_bytes", 1024, (int64_t)1 << 30,
				  &o->max_record_bytes)) < 0 ||
	    (rc = c->ops->str(c, "max_retry_time", &retry_time)) < 0)
		return rc;
	if (retry_time && (sl_duration_parse(retry_time, &o->max_retry_micros) < 0 ||
			   o->max_retry_micros <= 0))
		return sl_config_fail(c, c->ops->line(c, "max_retry_time"),
				      "\"max_retry_time\"%s must be a duration like 90s, 10m or 1h, "
				      "not \"%s\"", c->where, retry_time);
	if (method) {
		if (strcasecmp(method, "GET") != 0 && strcasecmp(method, "POST") != 0)
			return sl_config_fail(c, c->ops->line(c, "method"),
					      "\"method\"%s must be GET or POST, not \"%s\"", c->where,
					      method);
		o->method = strcasecmp(method, "GET") == 0 ? "GET" : "POST";
	}
	if ((rc = check_auth(c, o)) < 0)
		return rc;
	if (register_secrets(o) < 0)
		return sl_error_set(c->err, SL_ENOMEM, "out of memory");
	if (o->pagination.n) {
		const char *ty = sl_kvs_get(&o->pagination, "type");
		bool ok = false;
		for (int j = 0; ty && pagination_types[j]; j++)
			ok = ok || strcmp(ty, pagination_types[j]) == 0;
		if (!ok)
			return sl_config_fail(c, c->ops->line(c, "pagination"),
					      "pagination%s needs a type: page, offset, cursor or "
					      "link%s%s%s", c->where, ty ? " (not \"" : "", ty ? ty : "",
					      ty ? "\")" : "");
	}
	if ((rc = check_vars(c, o)) < 0)
		return rc;
	if (!o->url || !(sl_str_starts_with(o->url, "http://") ||
			 sl_str_starts_with(o->url, "https://")))
		return sl_config_fail(c, o->url ? c->ops->line(c, "url") : t->line,
				      "table \"%s\" of http source \"%s\" needs a url starting with "
				      "http:// or https://%s%s%s",
				      t->name, src->name, o->url ? ", not \"" : "",
				      o->url ? o->url : "", o->url ? "\"" : "");
	t->opts = o;
	return 0;
}

const sl_source_kind sl_kind_http = {
	.name = "http",
	.table_keys = table_keys,
	.parse_table = http_parse_table,
	.open = sl_http_source_open,
};
