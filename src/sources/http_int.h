/*
 * http_int.h: private to the http source (http_*.c): JSON record selection
 * and flattening, type inference, watermark templating, Link and
 * Retry-After header parsing, backoff, and the retrying libcurl client.
 */
#ifndef SL_SOURCES_HTTP_INT_H
#define SL_SOURCES_HTTP_INT_H

#include "sources/sources.h"

#include <curl/curl.h>
#include <jansson.h>

/* ------------------------------------------------------------ records */

/*
 * The value at a dotted path ("data.items"; a numeric segment indexes an
 * array); an empty or NULL path is the root. Borrowed, or NULL when absent.
 */
json_t *sl_http_json_path(json_t *root, const char *path);

/*
 * The records of a page: the array at path. Returns 0 with *out borrowed
 * from body, or SL_EFORMAT with the reason in err (path missing, not an
 * array).
 */
int sl_http_select_records(json_t *body, const char *path, json_t **out, sl_error *err);

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
/* Fixes the type of each undeclared column from its kind and builds the
 * schema into *out (sl_schema_free). */
int sl_http_records_schema(sl_http_records *r, sl_schema **out, sl_error *err);
/*
 * Appends record as the next row of b, whose columns are r's: every column
 * receives one value (absent fields null); the caller ends the row. Returns
 * 0; 1 when the record does not fit (not an object, an unknown non-null
 * field, a field twice, a value not of its column's type) with the reason
 * in reason[n] and the row half-appended (the caller discards it); or a
 * negative SL_E* with err set (out of memory, a string column too large).
 */
int sl_http_records_append(sl_http_records *r, sl_batch *b, json_t *record, char *reason,
			   size_t n, sl_error *err);

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
 * hold several comma-separated links). Returns 1 and the URL in out, 0 when
 * there is none (or it does not fit in n).
 */
int sl_http_link_next(const char *header, char *out, size_t n);

/*
 * Seconds to wait from a Retry-After value: delta-seconds or an HTTP date
 * (relative to now, seconds since the epoch). Returns 0 with *secs (>= 0),
 * or SL_EINVAL when the value is neither.
 */
int sl_http_retry_after(const char *value, int64_t now, double *secs);

/* Exponential backoff with jitter: base * 2^attempt capped at cap, scaled
 * into [1/2, 1] by rnd in [0, 1). attempt counts from 0. */
double sl_http_backoff(int attempt, double base, double cap, double rnd);

/* ------------------------------------------------------------- client */

typedef struct sl_http_client {
	CURL *curl;
	int max_retries;
	double min_interval;   /* 1 / rate_limit, 0 = none */
	double last_start;     /* monotonic seconds of the last request */
	double backoff_base;   /* seconds */
	double backoff_cap;
	long timeout_secs;
	sl_extract_stats *stats;
	/* the last response */
	long status;
	sl_buf body;
	sl_buf link;           /* Link header values, joined by ", " */
	char retry_after[128];
} sl_http_client;

typedef struct sl_http_request {
	const char *url;
	const char *method;      /* GET (default) or POST */
	const char *body;        /* POST body or NULL */
	struct curl_slist *headers;
	const char *user;        /* basic auth, or NULL */
	const char *password;
	const char *label;       /* "source.table", for messages */
	const char *safe_url;    /* the URL with secrets redacted */
} sl_http_request;

int sl_http_client_init(sl_http_client *c, sl_extract_stats *stats, sl_error *err);
void sl_http_client_free(sl_http_client *c);
/*
 * Performs the request, retrying connection errors, timeouts, 429 and 5xx
 * with backoff (honouring Retry-After) up to max_retries times. Returns 0
 * with a 2xx response in c->body, or SL_ENET naming the URL and the cause.
 */
int sl_http_client_do(sl_http_client *c, const sl_http_request *req, sl_error *err);

/* ---------------------------------------------------------- extractor */

/* Inference reads pages until it has this many records (or SL_HTTP_PENDING_MAX
 * pages, or the end); those pages are kept and extracted afterwards. */
#define SL_HTTP_INFER_RECORDS 1000
#define SL_HTTP_PENDING_MAX 8
/* Consecutive bad pages after which page/offset pagination stops. */
#define SL_HTTP_BAD_PAGES_MAX 3

typedef enum { SL_HTTP_PAGE_NONE = 0, SL_HTTP_PAGE_PAGE, SL_HTTP_PAGE_OFFSET, SL_HTTP_PAGE_CURSOR, SL_HTTP_PAGE_LINK } sl_http_page_type;

typedef struct sl_http_page {
	json_t *body;    /* owned */
	json_t *records; /* borrowed from body */
	size_t next;
	char *origin;    /* request URL, secrets redacted */
} sl_http_page;

typedef struct sl_http_extractor {
	sl_extractor base;
	const sl_source *src;
	const sl_source_table *t;
	struct sl_state *state;
	sl_quarantine_fn on_bad;
	void *on_bad_ctx;
	char key[256];
	char label[256];
	sl_http_client client;
	struct curl_slist *headers;
	const char *user, *password;
	char *post_body;

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

	sl_http_page pending[SL_HTTP_PENDING_MAX];
	int phead, pcount;

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
/* Headers (templated), auth, method and POST body from the table. */
int sl_http_request_config(sl_http_extractor *x, sl_error *err);
/* The next request's URL into *out (sl_free). */
int sl_http_build_url(sl_http_extractor *x, char **out, sl_error *err);

#endif
