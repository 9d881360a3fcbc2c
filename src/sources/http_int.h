/*
 * http_int.h: private to the http source (http_*.c): the streaming page
 * parser, record flattening, type inference, watermark templating, Link and
 * Retry-After header parsing, backoff, and the retrying libcurl client.
 */
#ifndef SL_SOURCES_HTTP_INT_H
#define SL_SOURCES_HTTP_INT_H

#include "sources/sources_int.h"

#include <curl/curl.h>
#include <jansson.h>

/* ------------------------------------------------------------ records */

/* A record flattened into (column name, value) pairs. */
typedef struct sl_http_flat {
	int n, cap;
	char **names;     /* in arena */
	json_t **values;  /* borrowed from the record */
	sl_arena arena;
} sl_http_flat;

void sl_http_flat_init(sl_http_flat *f);
void sl_http_flat_free(sl_http_flat *f);

/*
 * Flattens an object: nested objects become columns joined by "__"
 * (customer.address.city -> customer__address__city) unless as_json, when
 * they stay one column holding their JSON text; arrays always stay whole.
 * Resets f first. SL_EINVAL when record is not an object.
 */
int sl_http_flatten(sl_http_flat *f, json_t *record, bool as_json, sl_error *err);

/* A JSON value as column text: strings raw, numbers and booleans as their
 * literal, objects and arrays as compact JSON. Resets out first. */
int sl_http_value_text(json_t *v, sl_buf *out);

/* ---------------------------------------------------------- inference */

typedef enum {
	SL_HTTP_K_NULL = 0, /* only nulls seen so far */
	SL_HTTP_K_BOOL,
	SL_HTTP_K_INT,
	SL_HTTP_K_FLOAT,
	SL_HTTP_K_DATE,      /* "YYYY-MM-DD" strings */
	SL_HTTP_K_TIMESTAMP, /* ISO-8601 date-time strings */
	SL_HTTP_K_STRING     /* anything else, objects and arrays included */
} sl_http_kind;

sl_http_kind sl_http_kind_of(json_t *v);
/* The narrowest kind holding both: int+float = float, date+timestamp =
 * timestamp, null+k = k, any other mix = string. */
sl_http_kind sl_http_widen(sl_http_kind a, sl_http_kind b);
/* The column type of a kind (null-only columns are strings). */
sl_type sl_http_kind_type(sl_http_kind k);

/* ------------------------------------------------------ record -> batch */

typedef struct sl_http_col {
	char *name;
	sl_http_kind kind;
	bool declared;
	sl_type type;
	int64_t stamp; /* row serial that last set this column */
} sl_http_col;

/*
 * The columns of a table's records: declared and inferred from sample
 * records (sl_http_records_infer), then used to append records as batch
 * rows (sl_http_records_append). Column names are found through a hash
 * table, with a fast path for records whose fields come in the same order.
 */
typedef struct sl_http_records {
	bool as_json;       /* flatten: json */
	const char *label;  /* "source.table", for messages (borrowed) */
	int ncols, cap;
	int max_columns;    /* more distinct fields is an error; 0: 10,000 */
	sl_http_col *cols;
	int *slots;         /* open addressing: column index + 1, 0 = empty */
	size_t nslots;      /* a power of two, or 0 */
	int hint;           /* the column the next field probably is */
	int64_t row_serial;
	sl_http_flat flat;
	sl_buf text;
} sl_http_records;

void sl_http_records_init(sl_http_records *r, bool as_json, const char *label);
void sl_http_records_free(sl_http_records *r);
/* Index of the column called name, or -1. */
int sl_http_records_find(sl_http_records *r, const char *name);
/* Adds a column (kind null, not declared); returns its index or SL_ENOMEM. */
int sl_http_records_add_col(sl_http_records *r, const char *name, sl_error *err);
/* Adds a declared column of type ty; returns its index or SL_ENOMEM. */
int sl_http_records_declare(sl_http_records *r, const char *name, sl_type ty, sl_error *err);
/*
 * Widens the columns by one sample record's fields, adding new ones.
 * Records that are not objects are skipped (they are quarantined when
 * appended). Returns 0 or SL_ENOMEM.
 */
int sl_http_records_infer(sl_http_records *r, json_t *record, sl_error *err);
/*
 * Fixes the type of each undeclared column from its kind and builds the
 * schema into *out (sl_schema_free). Field names that are equal ignoring
 * case ("A" and "a", one table in a warehouse that ignores case) are made
 * unique in the schema by sl_names_make_unique_keeping (keep: the names
 * the configuration uses, which keep their spelling); records keep
 * matching their columns by the exact name. *renamed (may be NULL) gets
 * "a → a_1, ..." (sl_free) when a name changed, else NULL.
 */
int sl_http_records_schema(sl_http_records *r, const char *const *keep, size_t nkeep,
			   sl_schema **out, char **renamed, sl_error *err);
/*
 * Appends record as the next row of b, whose columns are r's: every column
 * receives one value (absent fields null); the caller ends the row. Returns
 * 0; 1 when the record does not fit (not an object, an unknown non-null
 * field, a field twice, a value not of its column's type) with the reason
 * appended to reason and the row half-appended (the caller discards it);
 * or a negative SL_E* with err set (out of memory, a string column too
 * large).
 */
int sl_http_records_append(sl_http_records *r, sl_batch *b, json_t *record, sl_buf *reason,
			   sl_error *err);

/* --------------------------------------------------------- templating */

/* True when s is exactly one "{{ watermark }}" (spaces optional). */
bool sl_http_is_watermark_only(const char *s);
/*
 * Appends s to out with each "{{ watermark }}" replaced by watermark
 * (NULL: the empty string).
 */
int sl_http_template(sl_buf *out, const char *s, const char *watermark);

/* ------------------------------------------------------------ headers */

/*
 * The target of the rel="next" link in a Link header value (RFC 8288; may
 * hold several comma-separated links). Returns 1 with the URL in *out
 * (sl_free), 0 when there is none, SL_ENOMEM.
 */
int sl_http_link_next(const char *header, char **out);

/*
 * Seconds to wait from a Retry-After value: delta-seconds or an HTTP date
 * (relative to now, seconds since the epoch). Returns 0 with *secs (>= 0),
 * or SL_EINVAL when the value is neither.
 */
int sl_http_retry_after(const char *value, int64_t now, double *secs);

/* Exponential backoff with jitter: base * 2^attempt capped at cap, scaled
 * into [1/2, 1] by rnd in [0, 1). attempt counts from 0. */
double sl_http_backoff(int attempt, double base, double cap, double rnd);

/* -------------------------------------------------------- page parser */

#define SL_HTTP_MAX_RECORD_DEFAULT ((size_t)16 << 20)
#define SL_HTTP_MAX_DEPTH 1000
/* Bytes of a body kept for messages and for a bad page's quarantine row. */
#define SL_HTTP_HEAD_MAX ((size_t)64 << 10)

typedef struct sl_http_parser sl_http_parser;

typedef struct sl_http_parser_opts {
	const char *records_path; /* dotted; a numeric segment indexes an array; "" = the body */
	const char *next_path;    /* the next cursor, or NULL */
	const char *total_path;   /* the total record count, or NULL */
	size_t max_record_bytes;  /* 0: SL_HTTP_MAX_RECORD_DEFAULT */
} sl_http_parser_opts;

/* What a page told, complete after sl_http_parser_finish. */
typedef struct sl_http_page_info {
	const char *paths[3];  /* records, next, total (borrowed from the opts) */
	int64_t nrecords;      /* record values seen, good and bad */
	bool has_next;
	sl_buf next;           /* the next cursor's text */
	bool has_total;
	int64_t total;
	sl_buf error;          /* why the page is bad; empty when it is not */
	sl_buf head;           /* the body's first SL_HTTP_HEAD_MAX bytes */
	uint64_t bytes;        /* body bytes parsed */
	uint64_t hash;         /* of the records' content */
} sl_http_page_info;

/*
 * Receives each record as it completes: record (owned by the callee; NULL
 * when it was too large to keep), reason (why it is bad, or NULL), its
 * 1-based index in the page and its size as charged against the cap.
 * Returns 0 or SL_ENOMEM.
 */
typedef int (*sl_http_emit_fn)(void *ctx, json_t *record, const char *reason, int64_t index,
			       size_t bytes);

int sl_http_parser_new(sl_http_parser **out, const sl_http_parser_opts *o, sl_http_emit_fn emit,
		       void *ctx);
void sl_http_parser_free(sl_http_parser *p);
/* Starts a new body; the first skip records are dropped (they were handed
 * on from an earlier attempt at the same page). 0 or SL_ENOMEM. */
int sl_http_parser_restart(sl_http_parser *p, int64_t skip);
/* Parses the next bytes of the body. 0; 1 when the page is bad (the reason
 * in info.error; stop sending); SL_ENOMEM. */
int sl_http_parser_feed(sl_http_parser *p, const char *data, size_t n);
/* The body is complete. 0; 1 when the page is bad; SL_ENOMEM. */
int sl_http_parser_finish(sl_http_parser *p);
const sl_http_page_info *sl_http_parser_info(const sl_http_parser *p);
/* After a retry of a page: the 1-based index of the first record that is
 * not the one handed on before (the page stopped there), or 0. */
int64_t sl_http_parser_changed(const sl_http_parser *p);

/* ------------------------------------------------------------- client */

/* Where a 2xx response body goes, as it arrives. */
typedef struct sl_http_sink {
	void *ctx;
	/* A new attempt at the same request starts: forget the body so far. */
	int (*restart)(void *ctx);
	/* Body bytes; 0, or nonzero to stop the transfer (the sink knows why). */
	int (*write)(void *ctx, const char *data, size_t n);
} sl_http_sink;

typedef struct sl_http_request {
	const char *url;
	const char *method;      /* GET (default) or POST */
	const char *body;        /* POST body or NULL */
	struct curl_slist *headers;        /* every configured header and credential */
	struct curl_slist *public_headers; /* for other hosts: Accept, Content-Type */
	const char *user;        /* basic auth, or NULL */
	const char *password;
	const char *origin;      /* scheme://host:port of the configured URL */
	const char *label;       /* "source.table", for messages */
} sl_http_request;

typedef struct sl_http_client {
	CURLM *multi;
	CURL *curl;
	int max_retries;
	double min_interval;   /* 1 / rate_limit, 0 = none */
	double last_start;     /* monotonic seconds of the last request */
	double backoff_base;   /* seconds */
	double backoff_cap;
	long stall_secs;       /* a transfer that receives nothing this long fails */
	double retry_budget;   /* max_retry_time in seconds, 0 = none */
	double retry_spent;    /* seconds spent in failed attempts and waits */
	sl_extract_stats *stats;
	/* Polled while waiting (transfers, backoff, rate limit); once it fires
	 * the transfer is abandoned and step returns SL_ECANCELLED or
	 * SL_ETIMEOUT. NULL: never. */
	const sl_cancel *cancel;

	/* the transfer under way */
	const sl_http_request *req;
	sl_http_sink sink;
	bool active;
	int attempt, hops;
	char *hop_url;         /* the URL of this hop (a redirect's target) */
	char *hop_safe;        /* the same, redacted */
	bool hop_foreign;      /* another origin than the configured one */
	bool hop_post;
	double attempt_start;
	bool got_status, stopped;
	long status;
	sl_buf errbody;        /* a non-2xx body's head */
	sl_buf link;           /* Link header values, joined by ", " */
	char retry_after[128];
	char errbuf[CURL_ERROR_SIZE];
} sl_http_client;

int sl_http_client_init(sl_http_client *c, sl_extract_stats *stats, sl_error *err);
void sl_http_client_free(sl_http_client *c);
/*
 * Starts req (kept alive by the caller until the transfer ends), its 2xx
 * body going to sink. Redirects are followed here: to another origin
 * without headers, auth or a body that hold credentials, and never with a
 * credential in the URL.
 */
int sl_http_client_start(sl_http_client *c, const sl_http_request *req, sl_http_sink sink,
			 sl_error *err);
/*
 * Moves the transfer on (waits at most a fifth of a second). Returns 1 while it
 * is under way, 0 when it ended with a 2xx response (or the sink stopped
 * it), or a negative SL_E* (SL_ENET naming the URL and the cause). Retries
 * connection errors, timeouts, 429 and 5xx with backoff (honouring
 * Retry-After) up to max_retries times and within retry_budget seconds.
 * Once c->cancel fires: what sl_cancel_check returns, the transfer dropped.
 */
int sl_http_client_step(sl_http_client *c, sl_error *err);
/* Cancels the transfer under way, if any. */
void sl_http_client_cancel(sl_http_client *c);

/* "scheme://host:port" of url (lower case, default ports filled in) into
 * *out (sl_free). SL_EINVAL when url is not a URL. */
int sl_http_url_origin(const char *url, char **out);

/* ---------------------------------------------------------- extractor */

/* An http table's own keys (http_options.c reads them). */
typedef struct sl_http_opts {
	char *url;
	int64_t lookback_micros;
	const char *method;       /* GET | POST */
	sl_kvs params;
	sl_kvs headers;
	char *body;
	char *records;            /* path of the records array: "data.items" */
	sl_kvs auth;              /* bearer | basic_user/basic_password | api_key_header/api_key */
	sl_kvs pagination;        /* type: page|offset|cursor|link, and its keys */
	const char *flatten;      /* "columns" (default) | "json" */
	double rate_limit;        /* requests per second, 0 = none */
	int max_retries;          /* default 5 */
	const char *on_bad_page;  /* "quarantine" (default) | "fail" */
	int64_t max_pages;        /* pages one extraction may request; default 100000 */
	int64_t max_record_bytes; /* largest record held; default 16 MiB */
	int64_t max_retry_micros; /* max_retry_time: retrying and waiting per table; default 10m */
	int64_t max_columns;      /* 0: 10,000 */
} sl_http_opts;

int sl_http_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			const sl_extract_opts *opts, sl_error *err);

/* Inference reads records until it has this many (or holds this many
 * bytes of them, or the end); they are kept and extracted afterwards. */
#define SL_HTTP_INFER_RECORDS 1000
#define SL_HTTP_INFER_BYTES ((size_t)32 << 20)
/* Consecutive bad pages after which page/offset pagination stops. */
#define SL_HTTP_BAD_PAGES_MAX 3
/* Pages in a row that repeat the one before before the paging is taken as
 * ignored by the server. */
#define SL_HTTP_SAME_PAGES_MAX 2

typedef enum { SL_HTTP_PAGE_NONE = 0, SL_HTTP_PAGE_PAGE, SL_HTTP_PAGE_OFFSET, SL_HTTP_PAGE_CURSOR, SL_HTTP_PAGE_LINK } sl_http_page_type;

/* The URL of a page (secrets redacted), shared by its records. */
typedef struct sl_http_origin {
	int refs;
	char url[];
} sl_http_origin;

/* A record (or a bad page) waiting to become a row. */
typedef struct sl_http_item {
	json_t *record;          /* owned; NULL when bad and not kept */
	char *reason;            /* owned: why it is bad, or NULL */
	char *raw;               /* owned: a bad page's head, or NULL */
	size_t raw_len, bytes;
	int64_t index;           /* 1-based in its page; 0 for a page */
	sl_http_origin *origin;  /* one reference */
} sl_http_item;

typedef struct sl_http_extractor {
	sl_extractor base;
	const sl_source *src;
	const sl_source_table *t;
	const sl_http_opts *o;    /* &ro */
	sl_http_opts ro;          /* the table's, logical dates rendered */
	sl_arena arena;           /* ro's rendered strings */
	const sl_cancel *cancel;
	sl_quarantine_fn on_bad;
	void *on_bad_ctx;
	char *key;         /* "source.table" */
	char *label;       /* "source.table", for messages */
	sl_http_client client;
	struct curl_slist *headers;
	struct curl_slist *public_headers;
	const char *user, *password;
	char *post_body;
	char *origin;      /* of the configured URL */

	char *wm;          /* stored watermark (NULL: first run or full refresh) */
	char *wm_param;    /* the value {{ watermark }} expands to: wm - lookback */
	bool wm_templated; /* a param, header, URL or body uses {{ watermark }} */
	char run_start[48];

	sl_http_page_type ptype;
	const char *page_param, *size_param, *size_value;
	const char *offset_param, *limit_param, *cursor_param, *next_path, *total_path;
	int64_t page_no, offset, limit;
	char *next_token;
	char *next_url;
	char *cur_url;
	bool more;
	int bad_pages;
	int64_t total, fetched;
	int64_t pages;          /* pages requested */
	int64_t max_pages;      /* 0: no limit */
	uint64_t *seen;         /* hashes of the cursors and URLs asked for */
	size_t nseen, seen_cap;
	bool have_prev_hash;
	uint64_t prev_hash;
	int same_pages;      /* pages in a row with the records of the one before */

	/* the page under way */
	sl_http_parser *parser;
	sl_http_request req;
	bool in_flight;
	sl_http_origin *page_origin;
	int64_t page_emitted;   /* records handed on from this page */

	sl_http_item *queue;
	size_t qhead, qlen, qcap;
	size_t qbytes;

	sl_http_records rec;
	sl_buf text;

	int cursor_idx;
	bool have_lower;
	int64_t lower_i;   /* records with cursor <= lower_i are skipped */
	int64_t old_i;     /* the stored watermark as a cursor value */
	bool have_max;
	int64_t max_i;
	char *max_s;
	bool finished;
	sl_batch *batch;
} sl_http_extractor;

static inline int sl_http_oom(sl_error *err)
{
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

static inline const char *sl_http_file(const sl_http_extractor *x)
{
	return x->src->file ? x->src->file : "?";
}

/* Reads t->pagination (type page|offset|cursor|link and its keys). */
int sl_http_pagination_config(sl_http_extractor *x, sl_error *err);
/* Headers (templated), auth, method, POST body and origin from the table. */
int sl_http_request_config(sl_http_extractor *x, sl_error *err);
/* The next request's URL into *out (sl_free). */
int sl_http_build_url(sl_http_extractor *x, char **out, sl_error *err);

#endif
