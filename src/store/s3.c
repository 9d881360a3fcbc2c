/*
 * s3.c: the S3-compatible store: configuration from the URL and the
 * environment, addressing (path-style or virtual-host), and the store
 * operations put, get, list, del, stat and ranged-read inputs. Streaming
 * outputs live in s3_multipart.c, the request engine in s3_http.c.
 *
 * put with if_absent sends If-None-Match: * (S3 answers 412 when the key
 * exists, atomically) after a best-effort HEAD. A store that ignores
 * If-None-Match (older MinIO, s3rver) cannot make that atomic: two writers
 * racing between the HEAD and the PUT both succeed, so such stores need
 * the lake's commit lock (project key lake_commit_lock: state, which takes
 * a lock in state.db around each commit).
 *
 * Inputs opened with an ETag (open_input_etag) send If-Match on the HEAD
 * and on every ranged GET, and also compare the ETag of each answer (for
 * servers that ignore If-Match): an object replaced while it is read fails
 * with SL_ECONFLICT instead of mixing bytes of two versions.
 */
#include "store/s3_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ config */

static int env_int(sl_s3_getenv_fn env, const char *name, int64_t def, int64_t lo, int64_t hi,
		   int64_t *out, sl_error *err)
{
	const char *v = env(name);
	*out = def;
	if (!v || !*v)
		return 0;
	if (sl_parse_int64(v, strlen(v), out) < 0 || *out < lo || *out > hi)
		return sl_error_set(err, SL_ECONFIG,
				    "%s='%s': expected a whole number from %lld to %lld", name, v,
				    (long long)lo, (long long)hi);
	return 0;
}

static char *dup_env(sl_s3_getenv_fn env, const char *name)
{
	const char *v = env(name);
	return v && *v ? sl_strdup(v) : NULL;
}

static bool bucket_char_ok(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-' ||
	       c == '_' || isupper((unsigned char)c);
}

static int parse_endpoint(sl_s3_config *c, const char *ep, sl_error *err)
{
	const char *rest;
	if (strncmp(ep, "http://", 7) == 0) {
		strcpy(c->scheme, "http");
		rest = ep + 7;
	} else if (strncmp(ep, "https://", 8) == 0) {
		strcpy(c->scheme, "https");
		rest = ep + 8;
	} else {
		return sl_error_set(err, SL_ECONFIG,
				    "AWS_ENDPOINT_URL='%s': expected http://host[:port] or "
				    "https://host[:port]",
				    ep);
	}
	size_t hl = strcspn(rest, "/?#");
	if (hl == 0 || hl >= sizeof c->endpoint)
		return sl_error_set(err, SL_ECONFIG, "AWS_ENDPOINT_URL='%s': no host", ep);
	memcpy(c->endpoint, rest, hl);
	c->endpoint[hl] = '\0';
	rest += hl;
	if (*rest == '?' || *rest == '#')
		return sl_error_set(err, SL_ECONFIG,
				    "AWS_ENDPOINT_URL='%s': a query or fragment is not allowed", ep);
	size_t pl = strlen(rest);
	while (pl && rest[pl - 1] == '/')
		pl--;
	if (pl >= sizeof c->base_path)
		return sl_error_set(err, SL_ECONFIG, "AWS_ENDPOINT_URL='%s': path too long", ep);
	memcpy(c->base_path, rest, pl);
	c->base_path[pl] = '\0';
	return 0;
}

int sl_s3_config_init(sl_s3_config *c, const char *url, sl_s3_getenv_fn env, sl_error *err)
{
	const char *p, *ep, *addr, *region;
	int64_t v;
	int rc;

	memset(c, 0, sizeof *c);
	if (strncmp(url, "s3://", 5) != 0)
		return sl_error_set(err, SL_ECONFIG, "%s: not an s3://bucket[/prefix] URL", url);
	p = url + 5;
	size_t bl = strcspn(p, "/");
	if (bl == 0)
		return sl_error_set(err, SL_ECONFIG, "%s: no bucket name (expected s3://bucket[/prefix])",
				    url);
	if (bl >= sizeof c->bucket || bl > 255)
		return sl_error_set(err, SL_ECONFIG, "%s: bucket name too long", url);
	for (size_t i = 0; i < bl; i++)
		if (!bucket_char_ok(p[i]))
			return sl_error_set(err, SL_ECONFIG,
					    "%s: bucket names hold only letters, digits, '.', '-' "
					    "and '_'",
					    url);
	memcpy(c->bucket, p, bl);
	c->bucket[bl] = '\0';
	p += bl;
	while (*p == '/')
		p++;
	size_t pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	if (pl >= sizeof c->prefix)
		return sl_error_set(err, SL_ECONFIG, "%s: prefix too long", url);
	memcpy(c->prefix, p, pl);
	c->prefix[pl] = '\0';

	region = env("AWS_REGION");
	if (!region || !*region)
		region = env("AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";
	if (strlen(region) >= sizeof c->region || strspn(region, "abcdefghijklmnopqrstuvwxyz"
							     "0123456789-") != strlen(region))
		return sl_error_set(err, SL_ECONFIG, "AWS_REGION='%s' is not a region name", region);
	strcpy(c->region, region);

	ep = env("AWS_ENDPOINT_URL");
	if (ep && *ep) {
		if ((rc = parse_endpoint(c, ep, err)) < 0)
			return rc;
		c->path_style = true;
	} else {
		strcpy(c->scheme, "https");
		snprintf(c->endpoint, sizeof c->endpoint, "s3.%s.amazonaws.com", c->region);
		/* dotted names break the TLS wildcard of virtual hosts */
		c->path_style = strchr(c->bucket, '.') != NULL;
	}
	addr = env("SLUICE_S3_ADDRESSING");
	if (addr && *addr) {
		if (strcmp(addr, "path") == 0)
			c->path_style = true;
		else if (strcmp(addr, "virtual") == 0)
			c->path_style = false;
		else
			return sl_error_set(err, SL_ECONFIG,
					    "SLUICE_S3_ADDRESSING='%s': expected path or virtual", addr);
	}

	if ((rc = env_int(env, "SLUICE_S3_MAX_RETRIES", 5, 0, 100, &v, err)) < 0)
		return rc;
	c->max_retries = (int)v;
	if ((rc = env_int(env, "SLUICE_S3_RETRY_BASE_MS", 100, 1, 60000, &v, err)) < 0)
		return rc;
	c->retry_base_ms = (int)v;
	if ((rc = env_int(env, "SLUICE_S3_PART_SIZE", (int64_t)SL_S3_DEFAULT_PART_SIZE,
			  (int64_t)SL_S3_MIN_PART_SIZE, INT64_C(5) << 30, &v, err)) < 0)
		return sl_error_prefix(err, "S3 parts are 5 MiB to 5 GiB: ");
	c->part_size = (size_t)v;
	if ((rc = env_int(env, "SLUICE_S3_MAX_KEYS", 0, 1, 1000, &v, err)) < 0)
		return rc;
	c->max_keys = (int)v;
	if ((rc = env_int(env, "SLUICE_S3_CONNECT_TIMEOUT", 10, 1, 600, &v, err)) < 0)
		return rc;
	c->connect_timeout = (long)v;
	if ((rc = env_int(env, "SLUICE_S3_LOW_SPEED_TIME", 30, 1, 3600, &v, err)) < 0)
		return rc;
	c->low_speed_time = (long)v;

	c->access_key = dup_env(env, "AWS_ACCESS_KEY_ID");
	c->secret_key = dup_env(env, "AWS_SECRET_ACCESS_KEY");
	c->session_token = dup_env(env, "AWS_SESSION_TOKEN");
	if ((env("AWS_ACCESS_KEY_ID") && !c->access_key && *env("AWS_ACCESS_KEY_ID")) ||
	    (env("AWS_SECRET_ACCESS_KEY") && !c->secret_key && *env("AWS_SECRET_ACCESS_KEY"))) {
		sl_s3_config_reset(c);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (c->access_key && !c->secret_key) {
		sl_s3_config_reset(c);
		return sl_error_set(err, SL_ECONFIG,
				    "%s: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
				    url);
	}
	if (!c->access_key && c->secret_key) {
		sl_s3_config_reset(c);
		return sl_error_set(err, SL_ECONFIG,
				    "%s: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
				    url);
	}
	return 0;
}

static void free_secret(char **s)
{
	if (*s) {
		memset(*s, 0, strlen(*s));
		sl_free(*s);
		*s = NULL;
	}
}

void sl_s3_config_reset(sl_s3_config *c)
{
	free_secret(&c->access_key);
	free_secret(&c->secret_key);
	free_secret(&c->session_token);
}

int sl_s3_full_key(const sl_s3_config *c, const char *key, sl_buf *out)
{
	while (*key == '/')
		key++;
	if (c->prefix[0])
		return sl_buf_printf(out, "%s/%s", c->prefix, key);
	return sl_buf_puts(out, key);
}

int sl_s3_target(const sl_s3_config *c, const char *full_key, char *host, size_t hostsz,
		 sl_buf *path, sl_buf *url)
{
	int rc;
	if (c->path_style) {
		snprintf(host, hostsz, "%s", c->endpoint);
		rc = sl_buf_printf(path, "%s/", c->base_path);
		if (rc == 0)
			rc = sl_s3_uri_encode(path, c->bucket, strlen(c->bucket), false);
		if (rc == 0 && full_key) {
			rc = sl_buf_putc(path, '/');
			if (rc == 0)
				rc = sl_s3_uri_encode(path, full_key, strlen(full_key), true);
		}
	} else {
		snprintf(host, hostsz, "%s.%s", c->bucket, c->endpoint);
		rc = sl_buf_printf(path, "%s/", c->base_path);
		if (rc == 0 && full_key)
			rc = sl_s3_uri_encode(path, full_key, strlen(full_key), true);
	}
	if (rc == 0)
		rc = sl_buf_printf(url, "%s://%s%s", c->scheme, host, path->data);
	return rc;
}

/* ------------------------------------------------------------ operations */

static int s3_stat(sl_store *st, const char *key, sl_store_entry *out, sl_error *err)
{
	s3_store *s = (s3_store *)st;
	s3_req r = {.method = "HEAD", .key = key};
	int rc = sl_s3_request(s, &r, err);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof *out);
	out->size = r.content_length;
	out->mtime_micros = r.last_modified;
	snprintf(out->etag, sizeof out->etag, "%s", r.etag);
	return 0;
}

static int s3_get(sl_store *st, const char *key, sl_buf *out, sl_error *err)
{
	s3_req r = {.method = "GET", .key = key, .out = out};
	return sl_s3_request((s3_store *)st, &r, err);
}

static int s3_put(sl_store *st, const char *key, const void *data, size_t n, bool if_absent,
		  sl_error *err)
{
	s3_store *s = (s3_store *)st;
	sl_s3_kv h[1] = {{"If-None-Match", "*"}};
	s3_req r = {.method = "PUT", .key = key, .body = data, .body_len = n,
		    .headers = h, .nheaders = if_absent ? 1 : 0};
	sl_store_entry e;
	int rc;

	if (if_absent) {
		/* best effort for stores that ignore If-None-Match */
		rc = s3_stat(st, key, &e, err);
		if (rc == 0)
			return sl_error_set(err, SL_ECONFLICT, "s3://%s/%s%s%s: already exists",
					    s->cfg.bucket, s->cfg.prefix, s->cfg.prefix[0] ? "/" : "",
					    key);
		if (rc != SL_ENOTFOUND)
			return rc;
		sl_error_clear(err);
	}
	rc = sl_s3_request(s, &r, err);
	if (rc == SL_ECONFLICT && if_absent && r.attempts > 1) {
		/*
		 * A retried conditional PUT whose first try landed but whose answer
		 * was lost meets its own object. Same bytes: it was ours.
		 */
		sl_buf got = SL_BUF_INIT;
		sl_error e2 = SL_ERROR_INIT;
		if (s3_get(st, key, &got, &e2) == 0 && got.len == n &&
		    (n == 0 || memcmp(got.data, data, n) == 0))
			rc = 0;
		sl_buf_free(&got);
		if (rc == 0)
			sl_error_clear(err);
	}
	return rc;
}

static int s3_del(sl_store *st, const char *key, sl_error *err)
{
	s3_req r = {.method = "DELETE", .key = key};
	int rc = sl_s3_request((s3_store *)st, &r, err);
	if (rc == SL_ENOTFOUND) {
		sl_error_clear(err);
		return 0;
	}
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const sl_store_entry *)a)->key, ((const sl_store_entry *)b)->key);
}

static int s3_list(sl_store *st, const char *prefix, sl_store_entry **out, size_t *n,
		   sl_error *err)
{
	s3_store *s = (s3_store *)st;
	sl_s3_list_page page = {0};
	sl_buf full = SL_BUF_INIT, strip = SL_BUF_INIT, body = SL_BUF_INIT;
	char maxkeys[16];
	int rc;

	*out = NULL;
	*n = 0;
	rc = sl_s3_full_key(&s->cfg, prefix ? prefix : "", &full);
	if (rc == 0 && s->cfg.prefix[0])
		rc = sl_buf_printf(&strip, "%s/", s->cfg.prefix);
	else if (rc == 0)
		rc = sl_buf_puts(&strip, "");
	if (rc < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(maxkeys, sizeof maxkeys, "%d", s->cfg.max_keys);
	do {
		sl_s3_kv q[4] = {{"list-type", "2"}, {"prefix", full.data}};
		size_t nq = 2;
		if (page.next_token)
			q[nq++] = (sl_s3_kv){"continuation-token", page.next_token};
		if (s->cfg.max_keys)
			q[nq++] = (sl_s3_kv){"max-keys", maxkeys};
		s3_req r = {.method = "GET", .query = q, .nquery = nq, .out = &body,
			    .xml_answer = true};
		sl_buf_reset(&body);
		if ((rc = sl_s3_request(s, &r, err)) < 0)
			goto done;
		if ((rc = sl_s3_parse_list(&page, body.data ? body.data : "", body.len, strip.data,
					   err)) < 0) {
			sl_error_prefix(err, "s3://%s/%s: ", s->cfg.bucket, full.data);
			goto done;
		}
		if (page.truncated && !page.next_token) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "s3://%s/%s: list answer is truncated but has no "
					  "NextContinuationToken",
					  s->cfg.bucket, full.data);
			goto done;
		}
	} while (page.truncated);
	if (page.n)
		qsort(page.entries, page.n, sizeof *page.entries, cmp_entry);
	*out = page.entries;
	*n = page.n;
	page.entries = NULL;
	page.n = 0;
done:
	sl_s3_list_page_free(&page);
	sl_buf_free(&full);
	sl_buf_free(&strip);
	sl_buf_free(&body);
	return rc;
}

/* ---------------------------------------------------------------- input */

typedef struct {
	sl_input base;
	s3_store *s;
	char *key;
	char etag[80];     /* pinned version, without quotes ("" when not pinned) */
	char if_match[84]; /* the quoted ETag for If-Match */
} s3_input;

/* Strips one pair of surrounding quotes from an ETag into out. */
static void etag_bare(char *out, size_t n, const char *etag)
{
	size_t l = strlen(etag);
	if (l >= 2 && etag[0] == '"' && etag[l - 1] == '"')
		snprintf(out, n, "%.*s", (int)(l - 2), etag + 1);
	else
		snprintf(out, n, "%s", etag);
}

/*
 * The error of a pinned read that met another version: S3 answered 412 to
 * If-Match, or (a server that ignores If-Match) the answer's ETag differs.
 */
static int changed_error(const char *name, const char *want, const char *got, sl_error *err)
{
	if (got && *got)
		return sl_error_set(err, SL_ECONFLICT,
				    "%s: the object changed while it was read (ETag \"%s\" when "
				    "listed, now \"%s\"); nothing of this version is kept, the next "
				    "run reads the new one",
				    name, want, got);
	return sl_error_set(err, SL_ECONFLICT,
			    "%s: the object changed while it was read (it no longer has ETag "
			    "\"%s\": 412 Precondition Failed); nothing of this version is kept, "
			    "the next run reads the new one",
			    name, want);
}

static int in_read_at(sl_input *in, uint64_t off, void *p, size_t n, sl_error *err)
{
	s3_input *si = (s3_input *)in;
	char range[64];
	if (n == 0)
		return 0;
	if (off > in->size || n > in->size - off)
		return sl_error_set(err, SL_EFORMAT,
				    "%s: read of %zu bytes at %llu is past the end (%llu bytes)",
				    in->name, n, (unsigned long long)off,
				    (unsigned long long)in->size);
	snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + n - 1));
	sl_s3_kv h[2] = {{"Range", range}, {"If-Match", si->if_match}};
	s3_req r = {.method = "GET", .key = si->key, .headers = h,
		    .nheaders = si->etag[0] ? 2 : 1, .dst = p, .dst_off = off, .dst_len = n};
	int rc = sl_s3_request(si->s, &r, err);
	if (rc == SL_ECONFLICT && r.status == 412 && si->etag[0])
		return changed_error(in->name, si->etag, NULL, err);
	if (rc < 0)
		return rc;
	if (si->etag[0] && r.etag[0] && strcmp(r.etag, si->etag) != 0)
		return changed_error(in->name, si->etag, r.etag, err);
	if (r.dst_got != n)
		return sl_error_set(err, SL_EFORMAT,
				    "%s: short read: %zu of %zu bytes at %llu (object changed?)",
				    in->name, r.dst_got, n, (unsigned long long)off);
	return 0;
}

static void in_close(sl_input *in)
{
	s3_input *si = (s3_input *)in;
	if (!si)
		return;
	sl_free(si->key);
	sl_free(si);
}

static int s3_open_input_etag(sl_store *st, const char *key, const char *etag,
			      sl_input **out, sl_error *err)
{
	s3_store *s = (s3_store *)st;
	s3_input *si = NULL;
	char bare[80] = "", quoted[84] = "", name[sizeof si->base.name];
	int rc;

	*out = NULL;
	snprintf(name, sizeof name, "s3://%s/%s%s%s", s->cfg.bucket, s->cfg.prefix,
		 s->cfg.prefix[0] ? "/" : "", key);
	if (etag && *etag) {
		etag_bare(bare, sizeof bare, etag);
		snprintf(quoted, sizeof quoted, "\"%s\"", bare);
	}
	/* the HEAD is pinned too: the size must be the pinned version's */
	sl_s3_kv h[1] = {{"If-Match", quoted}};
	s3_req r = {.method = "HEAD", .key = key, .headers = h, .nheaders = bare[0] ? 1 : 0};
	rc = sl_s3_request(s, &r, err);
	if (rc == SL_ECONFLICT && r.status == 412 && bare[0])
		return changed_error(name, bare, NULL, err);
	if (rc < 0)
		return rc;
	if (bare[0] && r.etag[0] && strcmp(r.etag, bare) != 0)
		return changed_error(name, bare, r.etag, err);
	if ((rc = sl_alloc_zeroed((void **)&si, sizeof *si, err)) < 0)
		return rc;
	si->s = s;
	snprintf(si->etag, sizeof si->etag, "%s", bare);
	snprintf(si->if_match, sizeof si->if_match, "%s", quoted);
	si->key = sl_strdup(key);
	if (!si->key) {
		sl_free(si);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	si->base.read_at = in_read_at;
	si->base.close = in_close;
	si->base.size = r.content_length;
	snprintf(si->base.name, sizeof si->base.name, "%s", name);
	*out = &si->base;
	return 0;
}

static int s3_open_input(sl_store *st, const char *key, sl_input **out, sl_error *err)
{
	return s3_open_input_etag(st, key, NULL, out, err);
}

/* ------------------------------------------------------------ lifecycle */

CURL *sl_s3_handle_take(s3_store *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->nidle > 0)
		h = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->mu);
	return h ? h : curl_easy_init();
}

void sl_s3_handle_give(s3_store *s, CURL *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->nidle < SL_S3_IDLE_HANDLES) {
		s->idle[s->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (h)
		curl_easy_cleanup(h);
}

static void s3_free(sl_store *st)
{
	s3_store *s = (s3_store *)st;
	if (!s)
		return;
	for (int i = 0; i < s->nidle; i++)
		curl_easy_cleanup(s->idle[i]);
	pthread_mutex_destroy(&s->mu);
	sl_s3_config_reset(&s->cfg);
	sl_free(s);
}

static const sl_store_ops s3_ops = {
	.put = s3_put,
	.open_output = sl_s3_open_output,
	.open_input = s3_open_input,
	.get = s3_get,
	.list = s3_list,
	.del = s3_del,
	.stat = s3_stat,
	.free = s3_free,
	.open_input_etag = s3_open_input_etag,
};

static const char *real_getenv(const char *name) { return getenv(name); }

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int sl_curl_global_init(sl_error *err)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return sl_error_set(err, SL_ENET, "cannot initialise libcurl: %s",
				    curl_easy_strerror(curl_init_rc));
	return 0;
}

int sl_store_s3_open(sl_store **out, const char *url, sl_error *err)
{
	s3_store *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = sl_alloc_zeroed((void **)&s, sizeof *s, err)) < 0)
		return rc;
	/* Before the first goto fail: s3_free destroys it. */
	pthread_mutex_init(&s->mu, NULL);
	if ((rc = sl_s3_config_init(&s->cfg, url, real_getenv, err)) < 0)
		goto fail;
	/* every later log line hides these */
	sl_log_add_secret(s->cfg.secret_key);
	sl_log_add_secret(s->cfg.session_token);
	if ((rc = sl_curl_global_init(err)) < 0) {
		sl_error_prefix(err, "%s: ", url);
		goto fail;
	}
	s->idle[0] = curl_easy_init();
	if (!s->idle[0]) {
		rc = sl_error_set(err, SL_ENOMEM, "%s: cannot create a curl handle", url);
		goto fail;
	}
	s->nidle = 1;
	s->base.ops = &s3_ops;
	snprintf(s->base.url, sizeof s->base.url, "s3://%s%s%s", s->cfg.bucket,
		 s->cfg.prefix[0] ? "/" : "", s->cfg.prefix);
	sl_debug("s3: opened %s (%s, %s-style, region %s%s)", s->base.url, s->cfg.endpoint,
		 s->cfg.path_style ? "path" : "virtual-host", s->cfg.region,
		 s->cfg.access_key ? "" : ", unsigned requests");
	*out = &s->base;
	return 0;
fail:
	s3_free(&s->base);
	return rc;
}
