/*
 * s3_http.c: the S3 request engine. Signs each attempt, sends it on the
 * store's one reused curl handle (connection reuse), retries transient
 * failures with exponential backoff and jitter, re-sending the body from
 * memory, and turns final failures into errors with S3's Code and Message.
 */
#include "store/s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ERRBODY_MAX (64 << 10)

bool sl_s3_retryable(CURLcode cc, long status, const char *code)
{
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
	if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429)
		return true;
	/* S3 says these with a 400 or inside a 200 (CompleteMultipartUpload) */
	return code && (strcmp(code, "RequestTimeout") == 0 || strcmp(code, "SlowDown") == 0 ||
			strcmp(code, "InternalError") == 0 ||
			strcmp(code, "ServiceUnavailable") == 0);
}

long sl_s3_backoff_ms(int attempt, int base_ms, unsigned rnd)
{
	long d = base_ms > 0 ? base_ms : 1;
	for (int i = 1; i < attempt && d < 10000; i++)
		d *= 2;
	if (d > 10000)
		d = 10000;
	/* "equal jitter": half fixed, half random, so retries of many clients spread */
	return d / 2 + (long)(rnd % (unsigned long)(d / 2 + 1));
}

typedef struct {
	s3_req *r;
	const char *body;
	size_t body_len, body_pos;
	sl_buf errbody;
	uint64_t stream_pos; /* body bytes received in this attempt */
} xfer;

static bool ok_status(long st) { return st >= 200 && st < 300; }

static size_t on_header(char *p, size_t size, size_t nitems, void *ud)
{
	xfer *x = ud;
	s3_req *r = x->r;
	size_t n = size * nitems;
	char line[512];
	size_t l = n < sizeof line - 1 ? n : sizeof line - 1;

	memcpy(line, p, l);
	line[l] = '\0';
	while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
		line[--l] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new answer (after a 100 Continue, say): forget the previous one */
		const char *sp = strchr(line, ' ');
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = '\0';
		r->have_length = false;
		r->content_length = 0;
		r->last_modified = 0;
		r->range_start = 0;
		return n;
	}
	char *colon = strchr(line, ':');
	if (!colon)
		return n;
	*colon = '\0';
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcasecmp(line, "ETag") == 0) {
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		snprintf(r->etag, sizeof r->etag, "%s", v);
	} else if (strcasecmp(line, "Content-Length") == 0) {
		r->content_length = strtoull(v, NULL, 10);
		r->have_length = true;
	} else if (strcasecmp(line, "Last-Modified") == 0) {
		time_t t = curl_getdate(v, NULL);
		if (t > 0)
			r->last_modified = (int64_t)t * SL_MICROS_PER_SEC;
	} else if (strcasecmp(line, "Content-Range") == 0 && strncmp(v, "bytes ", 6) == 0) {
		r->range_start = strtoull(v + 6, NULL, 10);
	}
	return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	xfer *x = ud;
	s3_req *r = x->r;
	size_t n = size * nmemb;

	if (!ok_status(r->status)) {
		size_t room = x->errbody.len < ERRBODY_MAX ? ERRBODY_MAX - x->errbody.len : 0;
		if (room && sl_buf_append(&x->errbody, p, n < room ? n : room) < 0)
			return 0;
		return n;
	}
	if (r->dst) {
		/* absolute offset of p in the object; a server that ignores Range sends it all */
		uint64_t at = (r->status == 206 ? r->range_start : 0) + x->stream_pos;
		uint64_t lo = r->dst_off, hi = r->dst_off + r->dst_len;
		uint64_t s = at > lo ? at : lo, e = at + n < hi ? at + n : hi;
		if (s < e) {
			memcpy((char *)r->dst + (s - lo), p + (s - at), (size_t)(e - s));
			r->dst_got += (size_t)(e - s);
		}
	} else if (r->out && n && sl_buf_append(r->out, p, n) < 0) {
		return 0; /* out of memory: curl fails the transfer with CURLE_WRITE_ERROR */
	}
	x->stream_pos += n;
	return n;
}

static size_t on_read(char *p, size_t size, size_t nitems, void *ud)
{
	xfer *x = ud;
	size_t n = size * nitems, left = x->body_len - x->body_pos;
	if (n > left)
		n = left;
	if (n)
		memcpy(p, x->body + x->body_pos, n);
	x->body_pos += n;
	return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	xfer *x = ud;
	if (origin != SEEK_SET || off < 0 || (size_t)off > x->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->body_pos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static const char *reason(long st)
{
	switch (st) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* The final error of a failed request: which object, what S3 said, what to do. */
static int fail(s3_store *s, s3_req *r, const char *what, CURLcode cc, const char *curlmsg,
		const char *msg, sl_error *err)
{
	const sl_s3_config *c = &s->cfg;
	char tries[48] = "";
	int code = SL_ENET;
	const char *hint = "";

	if (r->attempts > 1)
		snprintf(tries, sizeof tries, " (after %d attempts)", r->attempts);
	if (cc != CURLE_OK)
		return sl_error_set(err, SL_ENET, "%s: %s failed: %s%s", what, r->method,
				    curlmsg[0] ? curlmsg : curl_easy_strerror(cc), tries);
	if (r->status == 404) {
		code = SL_ENOTFOUND;
		if (strcmp(r->code, "NoSuchBucket") == 0) {
			code = SL_ECONFIG;
			hint = " (check the bucket name in the lake URL)";
		}
	} else if (r->status == 409 || r->status == 412) {
		code = SL_ECONFLICT;
	} else if (r->status == 401 || r->status == 403) {
		code = SL_ECONFIG;
		hint = c->access_key ? " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
				       "AWS_SESSION_TOKEN and the bucket's permissions)"
				     : " (no AWS_ACCESS_KEY_ID is set: the request was unsigned)";
	} else if (r->status == 301 || r->status == 307 ||
		   strcmp(r->code, "AuthorizationHeaderMalformed") == 0) {
		code = SL_ECONFIG;
		hint = " (the bucket may be in another region: set AWS_REGION)";
	}
	return sl_error_set(err, code, "%s: %s failed: %ld %s%s%s%s%s", what, r->method, r->status,
			    r->code[0] ? r->code : reason(r->status), msg[0] ? ": " : "", msg,
			    hint, tries);
}

static void amz_now(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Builds the signed header list of one attempt. */
static int build_headers(s3_store *s, s3_req *r, const char *host, const char *path,
			 const char *payload_hash, struct curl_slist **out)
{
	const sl_s3_config *c = &s->cfg;
	sl_s3_kv sign[24];
	size_t ns = 0;
	char date[17], auth[512];
	sl_buf line = SL_BUF_INIT;
	struct curl_slist *l = NULL, *t;
	int rc = 0;

	if (r->nheaders > 16)
		return SL_EINTERNAL;
	amz_now(date);
	sign[ns++] = (sl_s3_kv){"Host", host};
	sign[ns++] = (sl_s3_kv){"x-amz-date", date};
	sign[ns++] = (sl_s3_kv){"x-amz-content-sha256", payload_hash};
	if (c->session_token)
		sign[ns++] = (sl_s3_kv){"x-amz-security-token", c->session_token};
	for (size_t i = 0; i < r->nheaders; i++)
		sign[ns++] = r->headers[i];

	for (size_t i = 0; i < ns; i++) {
		/* session tokens run to a few KB */
		sl_buf_reset(&line);
		if (sl_buf_printf(&line, "%s: %s", sign[i].name, sign[i].value) < 0 ||
		    !(t = curl_slist_append(l, line.data)))
			goto nomem;
		l = t;
	}
	if (c->access_key && c->secret_key) {
		sl_s3_sign_req sr = {
			.method = r->method, .path = path, .query = r->query,
			.nquery = r->nquery, .headers = sign, .nheaders = ns,
			.payload_hash = payload_hash, .amz_date = date, .region = c->region,
			.service = "s3", .access_key = c->access_key, .secret_key = c->secret_key,
		};
		if ((rc = sl_s3_sign(&sr, auth, sizeof auth, NULL)) < 0)
			goto fail;
		sl_buf_reset(&line);
		if (sl_buf_printf(&line, "Authorization: %s", auth) < 0 ||
		    !(t = curl_slist_append(l, line.data)))
			goto nomem;
		l = t;
	}
	/* no "Expect: 100-continue" round trip; no compressed answers */
	if (!(t = curl_slist_append(l, "Expect:")))
		goto nomem;
	*out = t;
	sl_buf_free(&line);
	return 0;
nomem:
	rc = SL_ENOMEM;
fail:
	curl_slist_free_all(l);
	sl_buf_free(&line);
	return rc;
}

int sl_s3_request(s3_store *s, s3_req *r, sl_error *err)
{
	const sl_s3_config *c = &s->cfg;
	sl_buf fullkey = SL_BUF_INIT, path = SL_BUF_INIT, url = SL_BUF_INIT, query = SL_BUF_INIT;
	char host[sizeof c->bucket + sizeof c->endpoint + 2], hash[65], what[600], curlmsg[CURL_ERROR_SIZE];
	xfer x = {.r = r, .body = r->body, .body_len = r->body_len};
	size_t out_base = r->out ? r->out->len : 0;
	int rc = 0;
	CURLcode cc = CURLE_OK;
	CURL *h = sl_s3_handle_take(s);

	r->attempts = 0;
	r->code[0] = '\0';
	if (!h)
		return sl_error_set(err, SL_ENOMEM, "s3://%s: cannot create a curl handle",
				    c->bucket);
	if (r->key && !r->raw_key)
		rc = sl_s3_full_key(c, r->key, &fullkey);
	else if (r->key)
		rc = sl_buf_puts(&fullkey, r->key);
	if (rc == 0)
		rc = sl_s3_target(c, r->key ? fullkey.data : NULL, host, sizeof host, &path, &url);
	if (rc == 0 && r->nquery) {
		rc = sl_buf_putc(&url, '?');
		if (rc == 0)
			rc = sl_s3_canonical_query(r->query, r->nquery, &query);
		if (rc == 0)
			rc = sl_buf_append(&url, query.data, query.len);
	}
	if (rc < 0) {
		rc = sl_error_set(err, rc, "s3://%s: out of memory", c->bucket);
		goto done;
	}
	if (r->key)
		snprintf(what, sizeof what, "s3://%s/%s", c->bucket, fullkey.data);
	else
		snprintf(what, sizeof what, "s3://%s%s%s", c->bucket, c->prefix[0] ? "/" : "",
			 c->prefix);
	if (r->body_len)
		sl_s3_sha256_hex(r->body, r->body_len, hash);
	else
		memcpy(hash, SL_S3_EMPTY_SHA256, 65);

	for (;;) {
		struct curl_slist *hdrs = NULL;
		double t0 = sl_monotonic_seconds();

		r->attempts++;
		r->status = 0;
		r->code[0] = '\0';
		r->dst_got = 0;
		x.body_pos = 0;
		x.stream_pos = 0;
		sl_buf_reset(&x.errbody);
		if (r->out) {
			r->out->len = out_base; /* a retried GET starts over */
			if (r->out->data)
				r->out->data[out_base] = '\0';
		}
		if ((rc = build_headers(s, r, host, path.data, hash, &hdrs)) < 0) {
			rc = sl_error_set(err, rc, "%s: cannot sign the request", what);
			goto done;
		}
		curl_easy_reset(h); /* keeps the connection cache */
		curlmsg[0] = '\0';
		curl_easy_setopt(h, CURLOPT_URL, url.data);
		curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlmsg);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->low_speed_time);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		if (strcmp(r->method, "HEAD") == 0) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, &x);
			curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
			curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
			if (strcmp(r->method, "POST") == 0)
				curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
		} else if (strcmp(r->method, "GET") != 0) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		}
		cc = curl_easy_perform(h);
		curl_slist_free_all(hdrs);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);

		char msg[512] = "";
		if (cc == CURLE_OK && !ok_status(r->status))
			sl_s3_parse_error(x.errbody.data, x.errbody.len, r->code, sizeof r->code, msg,
					  sizeof msg);
		if (cc == CURLE_OK && ok_status(r->status) && r->xml_answer && r->out &&
		    r->out->len > out_base &&
		    strstr(r->out->data + out_base, "<Error>") != NULL) {
			/* an error inside a 200: CompleteMultipartUpload may answer so */
			sl_s3_parse_error(r->out->data + out_base, r->out->len - out_base, r->code,
					  sizeof r->code, msg, sizeof msg);
			r->status = 500;
		}
		sl_log(SL_LOG_DEBUG, "s3: %s %s -> %ld%s%s (%.0f ms, attempt %d)", r->method,
		       url.data, r->status, cc != CURLE_OK ? " " : "",
		       cc != CURLE_OK ? curl_easy_strerror(cc) : "",
		       (sl_monotonic_seconds() - t0) * 1000, r->attempts);
		if (cc == CURLE_OK && ok_status(r->status)) {
			rc = 0;
			goto done;
		}
		if (cc == CURLE_WRITE_ERROR) {
			rc = sl_error_set(err, SL_ENOMEM, "%s: %s failed: out of memory", what,
					  r->method);
			goto done;
		}
		if (!sl_s3_retryable(cc, r->status, r->code) || r->attempts > c->max_retries) {
			rc = fail(s, r, what, cc, curlmsg, msg, err);
			goto done;
		}
		long ms = sl_s3_backoff_ms(r->attempts, c->retry_base_ms, (unsigned)(sl_random_u64() >> 32));
		char why[128];
		if (cc != CURLE_OK)
			snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
		else
			snprintf(why, sizeof why, "%ld %s", r->status,
				 r->code[0] ? r->code : reason(r->status));
		sl_log(SL_LOG_INFO, "s3: %s %s: %s; retry %d of %d in %ld ms", r->method, what, why,
		       r->attempts, c->max_retries, ms);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
done:
	sl_s3_handle_give(s, h);
	sl_buf_free(&x.errbody);
	sl_buf_free(&fullkey);
	sl_buf_free(&path);
	sl_buf_free(&url);
	sl_buf_free(&query);
	return rc;
}
