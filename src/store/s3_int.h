/*
 * s3_int.h: what only the S3 backend's files (s3.c, s3_sign.c, s3_xml.c,
 * s3_multipart.c) and its unit tests see: configuration and addressing,
 * the SigV4 signer, the small XML scanner and the request engine.
 */
#ifndef SL_S3_INT_H
#define SL_S3_INT_H

#include "store/store.h"

#include <curl/curl.h>
#include <pthread.h>

/* ------------------------------------------------------------ config */

/* Looks up an environment variable; getenv in production, a table in tests. */
typedef const char *(*sl_s3_getenv_fn)(const char *name);

/*
 * Everything an S3 store needs to address and sign requests. Read once at
 * open from the URL and the environment:
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
 *   AWS_ENDPOINT_URL         custom endpoint (path-style by default)
 *   SLUICE_S3_ADDRESSING     path | virtual, forces the addressing style
 *   SLUICE_S3_PART_SIZE      multipart part size in bytes (min 5 MiB, default 8 MiB)
 *   SLUICE_S3_MAX_RETRIES    retries after the first attempt (default 5)
 *   SLUICE_S3_RETRY_BASE_MS  first backoff delay (default 100 ms; doubles, capped at 10 s)
 *   SLUICE_S3_MAX_KEYS       page size of ListObjectsV2 (default: the server's, 1000)
 *   SLUICE_S3_CONNECT_TIMEOUT  seconds (default 10)
 *   SLUICE_S3_LOW_SPEED_TIME   seconds without a byte before a request is
 *                              abandoned and retried (default 30)
 */
typedef struct sl_s3_config {
	char bucket[256];
	char prefix[512];    /* without leading or trailing '/'; "" for the bucket root */
	char scheme[8];      /* "https" or "http" */
	char endpoint[256];  /* host[:port] of the service, without the bucket */
	char base_path[256]; /* path of a custom endpoint ("" or "/minio"), no trailing '/' */
	bool path_style;
	char region[64];
	char *access_key;    /* NULL: requests are sent unsigned (public buckets) */
	char *secret_key;
	char *session_token;
	int max_retries;
	int retry_base_ms;
	size_t part_size;
	int max_keys;        /* 0: the server's default */
	long connect_timeout;
	long low_speed_time;
} sl_s3_config;

#define SL_S3_MIN_PART_SIZE ((size_t)5 << 20)
#define SL_S3_DEFAULT_PART_SIZE ((size_t)8 << 20)
#define SL_S3_MAX_PARTS 10000

/*
 * Parses url (s3://bucket[/prefix]) and the environment into c. Returns 0
 * or SL_ECONFIG / SL_ENOMEM. Free the strings with sl_s3_config_reset.
 */
int sl_s3_config_init(sl_s3_config *c, const char *url, sl_s3_getenv_fn env, sl_error *err);
void sl_s3_config_reset(sl_s3_config *c);

/*
 * The object key for a store-relative key: prefix + "/" + key (or key
 * alone when the store has no prefix). Into out; 0 or SL_ENOMEM.
 */
int sl_s3_full_key(const sl_s3_config *c, const char *key, sl_buf *out);

/*
 * Builds the request target for an object key (NULL: the bucket itself):
 * host receives the Host header value, path the URI-encoded path (which is
 * also the SigV4 canonical URI), url the whole URL without a query.
 */
int sl_s3_target(const sl_s3_config *c, const char *full_key, char *host, size_t hostsz,
		 sl_buf *path, sl_buf *url);

/* Appends s URI-encoded as SigV4 wants (RFC 3986 unreserved kept; '/' kept when keep_slash). */
int sl_s3_uri_encode(sl_buf *out, const char *s, size_t n, bool keep_slash);

/* ------------------------------------------------------------ signer */

typedef struct sl_s3_kv {
	const char *name;
	const char *value;
} sl_s3_kv;

/*
 * One request to sign with AWS Signature Version 4. headers are the ones
 * to sign, in any order and case (host and x-amz-date at least, plus
 * x-amz-content-sha256 and x-amz-security-token for S3); query holds raw,
 * unencoded parameters. payload_hash is the hex SHA-256 of the body or
 * "UNSIGNED-PAYLOAD".
 */
typedef struct sl_s3_sign_req {
	const char *method;
	const char *path; /* canonical URI, already URI-encoded */
	const sl_s3_kv *query;
	size_t nquery;
	const sl_s3_kv *headers;
	size_t nheaders;
	const char *payload_hash;
	const char *amz_date; /* YYYYMMDD'T'HHMMSS'Z' */
	const char *region;
	const char *service;
	const char *access_key;
	const char *secret_key;
} sl_s3_sign_req;

/*
 * Computes the Authorization header value for r into auth. When canonical
 * is not NULL it receives the canonical request (for tests and debugging;
 * it never holds the secret). Returns 0, SL_ENOMEM or SL_EINVAL.
 */
int sl_s3_sign(const sl_s3_sign_req *r, char *auth, size_t authsz, sl_buf *canonical);

/* Writes the canonical query string of q (sorted, encoded) to out. */
int sl_s3_canonical_query(const sl_s3_kv *q, size_t n, sl_buf *out);

/* Hex SHA-256 of data into hex (65 bytes). */
void sl_s3_sha256_hex(const void *data, size_t n, char hex[65]);

#define SL_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---------------------------------------------------------------- XML */

/*
 * Finds the next element <tag>...</tag> (or <tag/>) in [*p, end). Sets
 * *body / *bodylen to its raw content and advances *p past it. Returns
 * false when there is none.
 */
bool sl_s3_xml_next(const char **p, const char *end, const char *tag, const char **body,
		    size_t *bodylen);
/* Appends raw XML text with the five named entities and &#N; / &#xH; decoded. */
int sl_s3_xml_unescape(sl_buf *out, const char *s, size_t n);

/* One page of a ListObjectsV2 answer. */
typedef struct sl_s3_list_page {
	sl_store_entry *entries; /* keys with strip_len bytes removed from the front */
	size_t n, cap;
	bool truncated;
	char *next_token; /* sl_malloc'd, NULL when none */
} sl_s3_list_page;

/*
 * Parses a ListBucketResult and appends its objects to page (which may
 * already hold earlier pages' entries). strip is the store prefix to
 * remove from each key ("" for none). Returns 0, SL_EFORMAT or SL_ENOMEM.
 */
int sl_s3_parse_list(sl_s3_list_page *page, const char *xml, size_t n, const char *strip,
		     sl_error *err);
void sl_s3_list_page_free(sl_s3_list_page *page);

/* Extracts Code and Message of an <Error> body (both "" when absent). */
void sl_s3_parse_error(const char *xml, size_t n, char *code, size_t codesz, char *msg,
		       size_t msgsz);

/* ------------------------------------------------------------ requests */

/* Idle curl handles a store keeps (each keeps its connections). */
#define SL_S3_IDLE_HANDLES 8

/*
 * A store may serve several threads at once (a run's tasks share the lake
 * handle): a request takes a curl handle of its own from the idle ones
 * (or a new one) and gives it back when done.
 */
typedef struct s3_store {
	sl_store base;
	sl_s3_config cfg;
	pthread_mutex_t mu;  /* guards idle */
	CURL *idle[SL_S3_IDLE_HANDLES];
	int nidle;
} s3_store;

/* A curl handle for one request (NULL when out of memory), and back. */
CURL *sl_s3_handle_take(s3_store *s);
void sl_s3_handle_give(s3_store *s, CURL *h);

/*
 * One S3 request. The engine signs it, sends it, retries transient
 * failures (5xx, timeouts, dropped connections) with backoff and jitter,
 * re-sending the body from memory, and turns other failures into errors
 * that name the object and carry S3's error Code and Message.
 */
typedef struct s3_req {
	const char *method;
	const char *key;         /* store-relative key; NULL: the bucket */
	bool raw_key;            /* key is already a full bucket key (no prefix added) */
	const sl_s3_kv *query;   /* raw parameters */
	size_t nquery;
	const sl_s3_kv *headers; /* extra headers: Range, If-None-Match, Content-Type */
	size_t nheaders;
	const void *body;
	size_t body_len;
	/* response sinks (all optional) */
	sl_buf *out;             /* body of a 2xx answer, appended */
	void *dst;               /* ranged reads: bytes [dst_off, dst_off + dst_len) of the stream */
	uint64_t dst_off;
	size_t dst_len;
	bool xml_answer;         /* a 200 may still carry an <Error> (CompleteMultipartUpload) */
	/* answer */
	long status;
	char etag[80];           /* without quotes */
	uint64_t content_length;
	bool have_length;
	int64_t last_modified;   /* micros, 0 when absent */
	uint64_t range_start;    /* from Content-Range on a 206 */
	size_t dst_got;
	int attempts;
	char code[64];           /* S3 error Code of a failed answer */
} s3_req;

/*
 * Performs r. Returns 0 for a 2xx answer. Otherwise an error naming the
 * object: SL_ENOTFOUND (404), SL_ECONFLICT (409, 412), SL_ECONFIG (bad
 * credentials, missing bucket), SL_ENET (everything else). r->status and
 * r->code tell the details either way.
 */
int sl_s3_request(s3_store *s, s3_req *r, sl_error *err);

/* True when an answer or transfer failure is worth retrying. */
bool sl_s3_retryable(CURLcode cc, long status, const char *code);
/* The backoff before retry number attempt (1-based), in ms, with jitter. */
long sl_s3_backoff_ms(int attempt, int base_ms, unsigned rnd);

/* The multipart streaming writer (s3_multipart.c). */
int sl_s3_open_output(sl_store *st, const char *key, sl_output **out, sl_error *err);
/*
 * Counts multipart uploads in progress under the store-relative prefix
 * (ListMultipartUploads), so tests and vacuum can see orphans.
 */
int sl_s3_count_uploads(sl_store *st, const char *prefix, size_t *count, sl_error *err);

#endif
