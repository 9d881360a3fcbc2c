/*
 * http_client.c: the http source's libcurl client: one reused easy handle
 * (keep-alive), a requests-per-second limit, and retries with exponential
 * backoff and jitter on connection errors, timeouts, 429 and 5xx, honouring
 * Retry-After. Response bodies are capped so a hostile server cannot
 * exhaust memory.
 */
#include "sources/http_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_BODY_MAX ((size_t)512 << 20)
#define HTTP_RETRY_AFTER_MAX 600.0

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static double jitter(void)
{
	static __thread uint64_t x;
	if (!x)
		x = (uint64_t)sl_now_micros() | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (double)(x >> 11) / 9007199254740992.0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	sl_http_client *c = ud;
	size_t n = size * nmemb;
	if (sl_buf_append(&c->body, p, n) < 0)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
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
	pthread_once(&curl_once, curl_init_once);
	c->curl = curl_easy_init();
	if (!c->curl)
		return sl_error_set(err, SL_ENOMEM, "cannot create an HTTP client");
	c->max_retries = 5;
	c->backoff_base = 0.25;
	c->backoff_cap = 30.0;
	c->timeout_secs = 300;
	c->stats = stats;
	c->body.max = HTTP_BODY_MAX;
	c->link.max = 1 << 20;
	return 0;
}

void sl_http_client_free(sl_http_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	sl_buf_free(&c->body);
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

static int perform_once(sl_http_client *c, const sl_http_request *req, CURLcode *cc,
			char *errbuf)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	sl_buf_reset(&c->body);
	sl_buf_reset(&c->link);
	c->retry_after[0] = '\0';
	c->status = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_secs);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (req->headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers);
	if (req->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (req->method && strcasecmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	*cc = curl_easy_perform(h);
	if (*cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	return 0;
}

int sl_http_client_do(sl_http_client *c, const sl_http_request *req, sl_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	char cause[CURL_ERROR_SIZE + 64];
	const char *url = req->safe_url ? req->safe_url : "(url)";
	for (int attempt = 0;; attempt++) {
		/* Rate limit: space request starts by at least min_interval. */
		if (c->min_interval > 0 && c->last_start > 0) {
			double wait = c->last_start + c->min_interval - sl_monotonic_seconds();
			sleep_seconds(wait);
		}
		c->last_start = sl_monotonic_seconds();
		CURLcode cc;
		perform_once(c, req, &cc, errbuf);
		if (c->stats) {
			c->stats->requests++;
			c->stats->bytes += c->body.len;
		}
		double wait = -1;
		if (cc != CURLE_OK) {
			if (cc == CURLE_WRITE_ERROR && c->body.len + CURL_MAX_WRITE_SIZE > c->body.max)
				return sl_error_set(err, SL_ELIMIT,
						    "http source %s: GET %s: response body larger than "
						    "%zu bytes", req->label, url, c->body.max);
			snprintf(cause, sizeof cause, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
			if (!curl_retriable(cc))
				return sl_error_set(err, SL_ENET, "http source %s: %s: %s", req->label,
						    url, cause);
		} else if (c->status >= 200 && c->status < 300) {
			return 0;
		} else if (c->status == 429 || c->status >= 500) {
			snprintf(cause, sizeof cause, "HTTP %ld", c->status);
			double ra;
			if (c->retry_after[0] &&
			    sl_http_retry_after(c->retry_after, sl_now_micros() / SL_MICROS_PER_SEC,
						&ra) == 0)
				wait = ra > HTTP_RETRY_AFTER_MAX ? HTTP_RETRY_AFTER_MAX : ra;
		} else {
			size_t n = c->body.len > 200 ? 200 : c->body.len;
			return sl_error_set(err, SL_ENET, "http source %s: %s: HTTP %ld: %.*s",
					    req->label, url, c->status, (int)n,
					    c->body.data ? c->body.data : "");
		}
		if (attempt >= c->max_retries)
			return sl_error_set(err, SL_ENET,
					    "http source %s: %s: %s, still failing after %d retries",
					    req->label, url, cause, c->max_retries);
		if (wait < 0)
			wait = sl_http_backoff(attempt, c->backoff_base, c->backoff_cap, jitter());
		sl_warn("http source %s: %s: %s; retry %d of %d in %.1fs", req->label, url, cause,
			attempt + 1, c->max_retries, wait);
		if (c->stats)
			c->stats->retries++;
		sleep_seconds(wait);
	}
}
