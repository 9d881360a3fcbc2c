/*
 * http_client.c: the http source's libcurl client: one reused handle
 * (keep-alive) driven through a multi handle, so a response body streams
 * into its sink while the caller turns records into rows; a requests-per-
 * second limit; retries with exponential backoff and jitter on connection
 * errors, timeouts, 429 and 5xx, honouring Retry-After, within a time
 * budget per table; every wait polls the cancellation token, so a stalled
 * server cannot outlive a task's timeout. Redirects are followed here, not by libcurl: a hop to
 * another origin (scheme, host, port) gets no configured header, no auth,
 * no body holding a credential, and a target URL holding one is refused.
 */
#include "sources/http_int.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_RETRY_AFTER_MAX 600.0
#define HTTP_MAX_REDIRECTS 5
/* Bytes of an error response's body echoed in its message. */
#define HTTP_ERROR_ECHO 200

/* Poll period of waits, in seconds: how late a cancellation is seen. */
#define HTTP_POLL_SECS 0.2

/* 0, or SL_ECANCELLED / SL_ETIMEOUT with err set once c->cancel fired. */
static int cancelled(const sl_http_client *c, sl_error *err)
{
	int r = sl_cancelled(c->cancel);
	if (!r)
		return 0;
	return sl_error_set(err, r, "http source %s: %s", c->req ? c->req->label : "?",
			    r == SL_ETIMEOUT ? "timed out" : "cancelled");
}

/* Sleeps s seconds, in slices that poll the client's cancellation token;
 * returns what sl_cancel_check returns when it fired. */
static int sleep_seconds(sl_http_client *c, double s, sl_error *err)
{
	double end = sl_monotonic_seconds() + s;
	for (;;) {
		int rc = cancelled(c, err);
		if (rc < 0)
			return rc;
		double left = end - sl_monotonic_seconds();
		if (left <= 0)
			return 0;
		if (left > HTTP_POLL_SECS)
			left = HTTP_POLL_SECS;
		struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
}

/* libcurl's progress callback: nonzero aborts the transfer when cancelled. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	sl_http_client *c = ud;
	return sl_cancelled(c->cancel) != 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	sl_http_client *c = ud;
	size_t n = size * nmemb;
	if (!c->got_status) {
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
		c->got_status = true;
	}
	if (c->stats)
		c->stats->bytes += n;
	if (c->status >= 200 && c->status < 300) {
		/* Time spent receiving a body is not time lost to a failing
		 * server: max_retry_time counts from the last byte. */
		c->attempt_start = sl_monotonic_seconds();
		if (c->sink.write(c->sink.ctx, p, n) != 0) {
			c->stopped = true;
			return 0; /* makes curl end the transfer */
		}
		return n;
	}
	if (c->errbody.len < SL_HTTP_HEAD_MAX) {
		size_t k = SL_HTTP_HEAD_MAX - c->errbody.len;
		sl_buf_append(&c->errbody, p, n < k ? n : k);
	}
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	sl_http_client *c = ud;
	size_t n = size * nmemb;
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return n;
	size_t klen = (size_t)(colon - p);
	const char *v = colon + 1;
	size_t vlen = n - klen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (klen == 4 && strncasecmp(p, "link", 4) == 0) {
		if (c->link.len)
			sl_buf_puts(&c->link, ", ");
		sl_buf_append(&c->link, v, vlen);
	} else if (klen == 11 && strncasecmp(p, "retry-after", 11) == 0) {
		snprintf(c->retry_after, sizeof c->retry_after, "%.*s", (int)vlen, v);
	}
	return n;
}

int sl_http_client_init(sl_http_client *c, sl_extract_stats *stats, sl_error *err)
{
	memset(c, 0, sizeof *c);
	int rc = sl_curl_global_init(err);
	if (rc < 0)
		return rc;
	c->curl = curl_easy_init();
	c->multi = curl_multi_init();
	if (!c->curl || !c->multi)
		return sl_error_set(err, SL_ENOMEM, "cannot create an HTTP client");
	c->max_retries = 5;
	c->backoff_base = 0.25;
	c->backoff_cap = 30.0;
	c->stall_secs = 120;
	c->stats = stats;
	c->link.max = 1 << 20;
	return 0;
}

void sl_http_client_cancel(sl_http_client *c)
{
	if (c->active)
		curl_multi_remove_handle(c->multi, c->curl);
	c->active = false;
}

void sl_http_client_free(sl_http_client *c)
{
	sl_http_client_cancel(c);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	sl_free(c->hop_url);
	sl_free(c->hop_safe);
	sl_buf_free(&c->errbody);
	sl_buf_free(&c->link);
	memset(c, 0, sizeof *c);
}

static bool curl_retriable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

int sl_http_url_origin(const char *url, char **out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = SL_EINVAL;
	*out = NULL;
	if (!u)
		return SL_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		sl_buf b = SL_BUF_INIT;
		rc = sl_buf_printf(&b, "%s://%s:%s", scheme, host, port);
		for (size_t i = 0; rc == 0 && i < b.len; i++)
			if (b.data[i] >= 'A' && b.data[i] <= 'Z')
				b.data[i] = (char)(b.data[i] - 'A' + 'a');
		if (rc == 0)
			*out = sl_buf_detach(&b);
		sl_buf_free(&b);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* Points the transfer at url: decides what may go there, then starts it. */
static int start_hop(sl_http_client *c, const char *url, bool post, sl_error *err)
{
	const sl_http_request *req = c->req;
	char *o = NULL;
	char *safe = sl_log_redact_dup(url);
	char *copy = sl_strdup(url);
	if (!safe || !copy) {
		sl_free(safe);
		sl_free(copy);
		return sl_http_oom(err);
	}
	sl_free(c->hop_url);
	sl_free(c->hop_safe);
	c->hop_url = copy;
	c->hop_safe = safe;
	c->hop_post = post;
	int rc = sl_http_url_origin(url, &o);
	if (rc == SL_ENOMEM)
		return sl_http_oom(err);
	c->hop_foreign = rc < 0 || !req->origin || strcmp(o, req->origin) != 0;
	sl_free(o);
	if (c->hop_foreign && sl_log_has_secret(url, strlen(url)))
		return sl_error_set(err, SL_ENET,
				    "http source %s: %s is on another host than the configured URL "
				    "and carries a credential in its URL; not requested",
				    req->label, c->hop_safe);
	if (c->hop_foreign && post && req->body && sl_log_has_secret(req->body, strlen(req->body)))
		return sl_error_set(err, SL_ENET,
				    "http source %s: %s is on another host than the configured URL; "
				    "the POST body carries a credential, so it is not sent there",
				    req->label, c->hop_safe);

	CURL *h = c->curl;
	curl_easy_reset(h);
	sl_buf_reset(&c->errbody);
	sl_buf_reset(&c->link);
	c->retry_after[0] = '\0';
	c->status = 0;
	c->got_status = c->stopped = false;
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	if (c->cancel) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* No overall timeout: a large body streams as fast as rows are made.
	 * A transfer that receives nothing for stall_secs fails (and is retried). */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_secs);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER,
			 c->hop_foreign ? req->public_headers : req->headers);
	if (req->user && !c->hop_foreign) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (post) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	if (curl_multi_add_handle(c->multi, h) != CURLM_OK)
		return sl_error_set(err, SL_EINTERNAL, "http source %s: cannot start a request",
				    req->label);
	c->active = true;
	return 0;
}

static int start_attempt(sl_http_client *c, sl_error *err)
{
	/* Rate limit: space request starts by at least min_interval. */
	if (c->min_interval > 0 && c->last_start > 0) {
		int rc = sleep_seconds(c, c->last_start + c->min_interval - sl_monotonic_seconds(),
				       err);
		if (rc < 0)
			return rc;
	}
	c->last_start = c->attempt_start = sl_monotonic_seconds();
	c->hops = 0;
	const char *m = c->req->method;
	return start_hop(c, c->req->url, m && strcasecmp(m, "POST") == 0, err);
}

int sl_http_client_start(sl_http_client *c, const sl_http_request *req, sl_http_sink sink,
			 sl_error *err)
{
	sl_http_client_cancel(c);
	c->req = req;
	c->sink = sink;
	c->attempt = 0;
	return start_attempt(c, err);
}

/* An error response's body for a message: redacted, then cut. */
static const char *echo_body(sl_http_client *c, sl_buf *tmp)
{
	if (sl_log_redact_truncate(tmp, c->errbody.data ? c->errbody.data : "", c->errbody.len,
				   HTTP_ERROR_ECHO) < 0 || !tmp->data)
		return "";
	return tmp->data;
}

static void format_secs(double s, char *out, size_t n)
{
	if (s >= 60 && (long long)s % 60 == 0)
		snprintf(out, n, "%lldm", (long long)s / 60);
	else
		snprintf(out, n, "%gs", s);
}

/* The attempt failed for cause: waits and starts the next, or gives up. */
static int retry(sl_http_client *c, const char *cause, double wait, sl_error *err)
{
	const sl_http_request *req = c->req;
	if (c->attempt >= c->max_retries)
		return sl_error_set(err, SL_ENET, "http source %s: %s: %s, still failing after %d "
				    "retries", req->label, c->hop_safe, cause, c->max_retries);
	if (wait < 0)
		wait = sl_http_backoff(c->attempt, c->backoff_base, c->backoff_cap, sl_random01());
	c->retry_spent += sl_monotonic_seconds() - c->attempt_start;
	if (c->retry_budget > 0 && c->retry_spent + wait > c->retry_budget) {
		char budget[32];
		format_secs(c->retry_budget, budget, sizeof budget);
		return sl_error_set(err, SL_ENET,
				    "http source %s: %s: %s; max_retry_time (%s) reached after %d "
				    "retries: the server is failing or too slow (raise max_retry_time "
				    "to wait longer)", req->label, c->hop_safe, cause, budget,
				    c->attempt);
	}
	sl_warn("http source %s: %s: %s; retry %d of %d in %.1fs", req->label, c->hop_safe, cause,
		c->attempt + 1, c->max_retries, wait);
	if (c->stats)
		c->stats->retries++;
	int rc = sleep_seconds(c, wait, err);
	if (rc < 0)
		return rc;
	c->retry_spent += wait;
	c->attempt++;
	rc = c->sink.restart ? c->sink.restart(c->sink.ctx) : 0;
	if (rc < 0)
		return sl_http_oom(err);
	return start_attempt(c, err);
}

static int redirect(sl_http_client *c, sl_error *err)
{
	char *loc = NULL;
	curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc);
	if (!loc || !*loc)
		return sl_error_set(err, SL_ENET, "http source %s: %s: HTTP %ld without a Location",
				    c->req->label, c->hop_safe, c->status);
	if (++c->hops > HTTP_MAX_REDIRECTS)
		return sl_error_set(err, SL_ENET, "http source %s: %s: more than %d redirects",
				    c->req->label, c->hop_safe, HTTP_MAX_REDIRECTS);
	/* 303, and 301/302 after a POST, continue as a GET (as browsers do). */
	bool post = c->hop_post && (c->status == 307 || c->status == 308);
	char *target = sl_strdup(loc);
	if (!target)
		return sl_http_oom(err);
	sl_debug("http source %s: HTTP %ld: following the redirect", c->req->label, c->status);
	int rc = start_hop(c, target, post, err);
	sl_free(target);
	return rc;
}

/* The transfer ended with cc: done, the next hop or attempt, or an error. */
static int finished(sl_http_client *c, CURLcode cc, sl_error *err)
{
	const sl_http_request *req = c->req;
	char cause[CURL_ERROR_SIZE + 64];
	if (c->stats)
		c->stats->requests++;
	if (c->stopped)
		return 0; /* the sink said why */
	if (cc == CURLE_ABORTED_BY_CALLBACK && sl_cancelled(c->cancel))
		return cancelled(c, err);
	if (cc != CURLE_OK) {
		snprintf(cause, sizeof cause, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		if (!curl_retriable(cc))
			return sl_error_set(err, SL_ENET, "http source %s: %s: %s", req->label,
					    c->hop_safe, cause);
		return retry(c, cause, -1, err);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->status >= 200 && c->status < 300)
		return 0;
	if (c->status == 301 || c->status == 302 || c->status == 303 || c->status == 307 ||
	    c->status == 308)
		return redirect(c, err);
	if (c->status == 429 || c->status >= 500) {
		double wait = -1, ra;
		snprintf(cause, sizeof cause, "HTTP %ld", c->status);
		if (c->retry_after[0] &&
		    sl_http_retry_after(c->retry_after, sl_now_micros() / SL_MICROS_PER_SEC, &ra) == 0)
			wait = ra > HTTP_RETRY_AFTER_MAX ? HTTP_RETRY_AFTER_MAX : ra;
		return retry(c, cause, wait, err);
	}
	sl_buf tmp = SL_BUF_INIT;
	sl_error_set(err, SL_ENET, "http source %s: %s: HTTP %ld: %s", req->label, c->hop_safe,
		     c->status, echo_body(c, &tmp));
	sl_buf_free(&tmp);
	return SL_ENET;
}

int sl_http_client_step(sl_http_client *c, sl_error *err)
{
	int running = 0;
	if (!c->active)
		return sl_error_set(err, SL_EINTERNAL, "http: no request under way");
	int rc = cancelled(c, err);
	if (rc < 0) {
		sl_http_client_cancel(c);
		return rc;
	}
	curl_multi_poll(c->multi, NULL, 0, (int)(HTTP_POLL_SECS * 1000), NULL);
	if ((rc = cancelled(c, err)) < 0) {
		sl_http_client_cancel(c);
		return rc;
	}
	if (curl_multi_perform(c->multi, &running) != CURLM_OK)
		return sl_error_set(err, SL_ENET, "http source %s: %s: the transfer failed",
				    c->req->label, c->hop_safe);
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode cc = m->data.result;
		curl_multi_remove_handle(c->multi, c->curl);
		c->active = false;
		rc = finished(c, cc, err);
		if (rc < 0)
			return rc;
		return c->active ? 1 : 0;
	}
	return 1;
}
