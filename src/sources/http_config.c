/*
 * http_config.c: the http source's request side: pagination settings,
 * headers and auth (and the few headers other hosts may see), the
 * configured origin, and the URL of each request (params, {{ watermark }},
 * pagination parameters, or the Link header's next URL).
 */
#include "sources/http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>


int sl_http_pagination_config(sl_http_extractor *x, sl_error *err)
{
	const sl_kvs *p = &x->o->pagination;
	const char *type = sl_kvs_get(p, "type");
	static const char *allowed[][8] = {
		{"type", NULL},
		{"type", "param", "start", "size_param", "size", "total", NULL},
		{"type", "offset_param", "limit_param", "limit", "start", "total", NULL},
		{"type", "next", "param", "total", NULL},
		{"type", "total", NULL},
	};
	x->total = -1;
	if (p->n == 0 || !type || strcmp(type, "none") == 0)
		x->ptype = SL_HTTP_PAGE_NONE;
	else if (strcmp(type, "page") == 0)
		x->ptype = SL_HTTP_PAGE_PAGE;
	else if (strcmp(type, "offset") == 0)
		x->ptype = SL_HTTP_PAGE_OFFSET;
	else if (strcmp(type, "cursor") == 0)
		x->ptype = SL_HTTP_PAGE_CURSOR;
	else if (strcmp(type, "link") == 0)
		x->ptype = SL_HTTP_PAGE_LINK;
	else
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: pagination type \"%s\" is unknown; use page, offset, "
				    "cursor or link",
				    sl_http_file(x), x->t->line, type);
	if (p->n > 0 && !type)
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: pagination needs a type: page, offset, cursor or link",
				    sl_http_file(x), x->t->line);
	for (int i = 0; i < p->n; i++) {
		bool ok = false;
		for (int k = 0; allowed[x->ptype][k]; k++)
			ok |= strcmp(allowed[x->ptype][k], p->items[i].key) == 0;
		if (!ok)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: pagination key \"%s\" does not apply to type %s",
					    sl_http_file(x), p->items[i].line, p->items[i].key,
					    type ? type : "none");
	}
	const char *start = sl_kvs_get(p, "start");
	const char *limit = sl_kvs_get(p, "limit");
	x->total_path = sl_kvs_get(p, "total");
	switch (x->ptype) {
	case SL_HTTP_PAGE_PAGE:
		x->page_param = sl_kvs_get(p, "param") ? sl_kvs_get(p, "param") : "page";
		x->size_param = sl_kvs_get(p, "size_param");
		x->size_value = sl_kvs_get(p, "size");
		x->page_no = 1;
		if (start && sl_parse_int64(start, strlen(start), &x->page_no) < 0)
			goto bad_number;
		break;
	case SL_HTTP_PAGE_OFFSET:
		x->offset_param = sl_kvs_get(p, "offset_param") ? sl_kvs_get(p, "offset_param")
								 : "offset";
		x->limit_param = sl_kvs_get(p, "limit_param") ? sl_kvs_get(p, "limit_param")
							       : "limit";
		x->limit = 100;
		if (limit && (sl_parse_int64(limit, strlen(limit), &x->limit) < 0 || x->limit < 1))
			goto bad_number;
		if (start && sl_parse_int64(start, strlen(start), &x->offset) < 0)
			goto bad_number;
		break;
	case SL_HTTP_PAGE_CURSOR:
		x->next_path = sl_kvs_get(p, "next");
		x->cursor_param = sl_kvs_get(p, "param") ? sl_kvs_get(p, "param") : "cursor";
		if (!x->next_path)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: cursor pagination needs next: the path of the next "
					    "token in the response (e.g. meta.next_cursor)",
					    sl_http_file(x), x->t->line);
		break;
	default: break;
	}
	return 0;
bad_number:
	return sl_error_set(err, SL_ECONFIG, "%s:%d: pagination start and limit must be integers",
			    sl_http_file(x), x->t->line);
}

static bool uses_template(const char *s) { return s && strstr(s, "watermark") != NULL; }

/* Appends "name: value" (templated) to *list. */
static int header_add_to(sl_http_extractor *x, struct curl_slist **list, const char *name,
			 const char *value, sl_error *err)
{
	sl_buf h = SL_BUF_INIT;
	if (sl_buf_printf(&h, "%s: ", name) < 0 || sl_http_template(&h, value, x->wm_param) < 0) {
		sl_buf_free(&h);
		return sl_http_oom(err);
	}
	struct curl_slist *l = curl_slist_append(*list, h.data);
	sl_buf_free(&h);
	if (!l)
		return sl_http_oom(err);
	*list = l;
	return 0;
}

static int header_add(sl_http_extractor *x, const char *name, const char *value, sl_error *err)
{
	return header_add_to(x, &x->headers, name, value, err);
}

int sl_http_request_config(sl_http_extractor *x, sl_error *err)
{
	const sl_source_table *t = x->t;
	const sl_http_opts *o = x->o;
	int rc;
	bool has_ct = false;
	if (!o->url || !*o->url)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: http table \"%s\" needs url:",
				    sl_http_file(x), t->line, t->name);
	if (o->method && strcasecmp(o->method, "GET") != 0 && strcasecmp(o->method, "POST") != 0)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: method must be GET or POST, not \"%s\"",
				    sl_http_file(x), t->line, o->method);
	x->wm_templated = uses_template(o->url) || uses_template(o->body);
	for (int i = 0; i < o->params.n; i++)
		x->wm_templated |= uses_template(o->params.items[i].value);
	for (int i = 0; i < o->headers.n; i++) {
		x->wm_templated |= uses_template(o->headers.items[i].value);
		has_ct |= strcasecmp(o->headers.items[i].key, "content-type") == 0;
		rc = header_add(x, o->headers.items[i].key, o->headers.items[i].value, err);
		if (rc < 0)
			return rc;
	}
	/* Only these go to a host other than the configured one. */
	if ((rc = header_add(x, "Accept", "application/json", err)) < 0 ||
	    (rc = header_add_to(x, &x->public_headers, "Accept", "application/json", err)) < 0)
		return rc;
	if (o->body) {
		sl_buf b = SL_BUF_INIT;
		if (sl_http_template(&b, o->body, x->wm_param) < 0) {
			sl_buf_free(&b);
			return sl_http_oom(err);
		}
		x->post_body = sl_buf_detach(&b);
		if (!has_ct && (rc = header_add(x, "Content-Type", "application/json", err)) < 0)
			return rc;
		if ((rc = header_add_to(x, &x->public_headers, "Content-Type", "application/json",
					err)) < 0)
			return rc;
	}
	for (int i = 0; i < o->auth.n; i++) {
		const char *k = o->auth.items[i].key;
		if (strcmp(k, "bearer") == 0) {
			sl_buf h = SL_BUF_INIT;
			sl_buf_printf(&h, "Bearer %s", o->auth.items[i].value);
			rc = h.data ? header_add(x, "Authorization", h.data, err) : sl_http_oom(err);
			sl_buf_free(&h);
			if (rc < 0)
				return rc;
		} else if (strcmp(k, "basic_user") == 0) {
			x->user = o->auth.items[i].value;
		} else if (strcmp(k, "basic_password") == 0) {
			x->password = o->auth.items[i].value;
		} else if (strcmp(k, "api_key_header") == 0 || strcmp(k, "api_key") == 0) {
			/* handled as a pair below */
		} else {
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: auth key \"%s\" is unknown; use bearer, "
					    "basic_user/basic_password or api_key_header/api_key",
					    sl_http_file(x), o->auth.items[i].line, k);
		}
	}
	const char *akh = sl_kvs_get(&o->auth, "api_key_header");
	const char *ak = sl_kvs_get(&o->auth, "api_key");
	if ((akh != NULL) != (ak != NULL))
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: auth needs both api_key_header and api_key", sl_http_file(x),
				    t->line);
	if (akh) {
		struct curl_slist *l;
		sl_buf h = SL_BUF_INIT;
		sl_buf_printf(&h, "%s: %s", akh, ak);
		l = h.data ? curl_slist_append(x->headers, h.data) : NULL;
		sl_buf_free(&h);
		if (!l)
			return sl_http_oom(err);
		x->headers = l;
	}
	if (x->user && !x->password)
		x->password = "";
	/* The origin credentials may go to: the configured URL's. */
	sl_buf u = SL_BUF_INIT;
	if (sl_http_template(&u, o->url, x->wm_param) < 0) {
		sl_buf_free(&u);
		return sl_http_oom(err);
	}
	rc = sl_http_url_origin(u.data, &x->origin);
	sl_buf_free(&u);
	if (rc == SL_ENOMEM)
		return sl_http_oom(err);
	if (rc < 0)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: url \"%s\" is not a valid URL",
				    sl_http_file(x), t->line, o->url);
	return 0;
}

/* ------------------------------------------------------------ requests */

static int url_append(CURLU *u, const char *key, const char *value)
{
	sl_buf kv = SL_BUF_INIT;
	int rc = sl_buf_printf(&kv, "%s=%s", key, value);
	if (rc == 0 && curl_url_set(u, CURLUPART_QUERY, kv.data,
				    CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
		rc = SL_EINVAL;
	sl_buf_free(&kv);
	return rc;
}

/* The URL of the next request: the configured URL with its params and the
 * pagination's, or the Link header's next URL. */
int sl_http_build_url(sl_http_extractor *x, char **out, sl_error *err)
{
	const sl_source_table *t = x->t;
	const sl_http_opts *o = x->o;
	sl_buf tmp = SL_BUF_INIT;
	CURLU *u = curl_url();
	char *s = NULL;
	int rc = 0;
	char num[32];
	if (!u)
		return sl_http_oom(err);
	if (x->ptype == SL_HTTP_PAGE_LINK && x->next_url) {
		/* Relative to the URL that answered (after any redirect). */
		const char *base = x->client.hop_url ? x->client.hop_url : x->cur_url;
		if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_URL, x->next_url, 0) != CURLUE_OK) {
			if (sl_log_redact_truncate(&tmp, x->next_url, strlen(x->next_url), 200) < 0)
				rc = sl_http_oom(err);
			else
				rc = sl_error_set(err, SL_EFORMAT,
						  "http source %s: Link next URL \"%s\" is not valid",
						  x->label, tmp.data);
		}
		goto get;
	}
	if (sl_http_template(&tmp, o->url, x->wm_param) < 0) {
		rc = sl_http_oom(err);
		goto done;
	}
	if (curl_url_set(u, CURLUPART_URL, tmp.data, 0) != CURLUE_OK) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: url \"%s\" is not a valid URL",
				  sl_http_file(x), t->line, o->url);
		goto done;
	}
	for (int i = 0; i < o->params.n && rc == 0; i++) {
		const char *v = o->params.items[i].value;
		if (!x->wm_param && sl_http_is_watermark_only(v))
			continue; /* first run: no lower bound */
		sl_buf_reset(&tmp);
		if (sl_http_template(&tmp, v, x->wm_param) < 0)
			rc = sl_http_oom(err);
		else if (url_append(u, o->params.items[i].key, tmp.data) < 0)
			rc = sl_error_set(err, SL_ECONFIG, "%s:%d: param \"%s\" cannot be encoded",
					  sl_http_file(x), o->params.items[i].line,
					  o->params.items[i].key);
	}
	switch (x->ptype) {
	case SL_HTTP_PAGE_PAGE:
		snprintf(num, sizeof num, "%lld", (long long)x->page_no);
		if (rc == 0 && url_append(u, x->page_param, num) < 0)
			rc = sl_http_oom(err);
		if (rc == 0 && x->size_param && x->size_value &&
		    url_append(u, x->size_param, x->size_value) < 0)
			rc = sl_http_oom(err);
		break;
	case SL_HTTP_PAGE_OFFSET:
		snprintf(num, sizeof num, "%lld", (long long)x->offset);
		if (rc == 0 && url_append(u, x->offset_param, num) < 0)
			rc = sl_http_oom(err);
		snprintf(num, sizeof num, "%lld", (long long)x->limit);
		if (rc == 0 && url_append(u, x->limit_param, num) < 0)
			rc = sl_http_oom(err);
		break;
	case SL_HTTP_PAGE_CURSOR:
		if (rc == 0 && x->next_token && url_append(u, x->cursor_param, x->next_token) < 0)
			rc = sl_http_oom(err);
		break;
	default: break;
	}
get:
	if (rc == 0 && curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		rc = sl_error_set(err, SL_EINTERNAL, "http source %s: cannot build the URL",
				  x->label);
	if (rc == 0 && !(*out = sl_strdup(s)))
		rc = sl_http_oom(err);
done:
	curl_free(s);
	curl_url_cleanup(u);
	sl_buf_free(&tmp);
	return rc;
}

