/*
 * http_stream.c: the http source's streaming page parser. Response bytes go
 * to yajl as they arrive; records (the values of the array at the records
 * path) are built one at a time and handed on as soon as each is complete,
 * so no page is ever held whole. The next cursor and the total are picked up
 * wherever they come in the body, before or after the records.
 *
 * Bounds: a record held in memory is at most max_record_bytes (its text,
 * counting each value at 16 bytes or more). A record above it is dropped
 * while it streams by and handed on as bad with that reason: a byte scanner
 * running ahead of yajl sees a single string or number grow past the cap
 * before yajl would buffer it, skips the rest of the record, and restarts
 * yajl after it with the containers it was in (a short synthetic prefix).
 * A value that large outside the records, a body that is not JSON, or JSON
 * nested deeper than SL_HTTP_MAX_DEPTH ends the page with an error. The
 * first SL_HTTP_HEAD_MAX bytes of the body are kept for messages.
 */
#include "sources/http_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yajl/yajl_parse.h>

enum { P_RECORDS = 0, P_NEXT = 1, P_TOTAL = 2, P_N = 3 };
#define VALUE_COST 16

/* A container outside the records (or the records array itself). */
typedef struct frame {
	bool is_array;
	bool records;   /* the records array */
	uint8_t ok;     /* bit p: the current child's path is a prefix of path p */
	int64_t index;  /* arrays: the current element, -1 before the first */
} frame;

typedef struct path {
	int n;
	char **seg;      /* segments (owned) */
	int64_t *index;  /* a segment as an array index, or -1 */
} path;

struct sl_http_parser {
	yajl_handle h;
	path paths[P_N];
	size_t max_record;
	sl_http_emit_fn emit;
	void *emit_ctx;

	frame *frames;
	int depth, fcap;

	/* the record being built */
	bool in_record;
	int sdepth, scap;     /* containers open inside the record */
	json_t **stack;       /* NULL entries when not building */
	json_t *rec;
	bool building;        /* false while skipping or dropping a record */
	bool oversized;
	sl_buf key;           /* pending object key inside the record */
	size_t rec_bytes;
	sl_buf reason;        /* why the record is bad, empty if it is not */
	int64_t rec_index;    /* 1-based index of the current record */
	int64_t skip;         /* records to drop (already handed on before a retry) */
	uint64_t *digests;    /* each handed-on record's digest, this page */
	size_t ndigests, capdigests;
	int64_t changed;      /* a replayed record that differs (1-based), or 0 */

	/* the page */
	int64_t nrecords;     /* record values seen */
	bool found;           /* the records array was seen */
	sl_http_page_info info;
	XXH3_state_t *hash;   /* the page's: one digest per record */
	XXH3_state_t *rhash;  /* the record's content */

	/* the byte scanner ahead of yajl */
	bool in_str, esc;
	int pdepth;
	size_t tok;
	bool skipping;        /* dropping an oversized record's bytes */
	bool replay;          /* feeding the synthetic prefix after a skip */
	bool stopped;         /* an error ended the page */
	bool oom;
};

/* ------------------------------------------------------------- errors */

static int page_stop(sl_http_parser *P, int rc)
{
	if (rc < 0)
		P->oom = true;
	P->stopped = true;
	return 0; /* cancels the yajl parse */
}

/* Ends the page with a reason (the first one stays). */
#define page_error(P, ...)                                                                   \
	((P)->stopped ? 0                                                                     \
		      : (sl_buf_reset(&(P)->info.error),                                       \
			 page_stop((P), sl_buf_printf(&(P)->info.error, __VA_ARGS__))))

/* Makes the record bad (the first reason stays). */
#define record_bad(P, ...)                                                                   \
	do {                                                                                 \
		if (!(P)->reason.len && sl_buf_printf(&(P)->reason, __VA_ARGS__) < 0)         \
			(P)->oom = true;                                                     \
	} while (0)

/* ------------------------------------------------------------- paths */

static void path_free(path *p)
{
	for (int i = 0; i < p->n; i++)
		sl_free(p->seg[i]);
	sl_free(p->seg);
	sl_free(p->index);
	memset(p, 0, sizeof *p);
}

static int path_parse(path *p, const char *s)
{
	memset(p, 0, sizeof *p);
	if (!s || !*s)
		return 0;
	int n = 1;
	for (const char *c = s; *c; c++)
		n += *c == '.';
	p->seg = sl_calloc((size_t)n, sizeof *p->seg);
	p->index = sl_calloc((size_t)n, sizeof *p->index);
	if (!p->seg || !p->index)
		return SL_ENOMEM;
	const char *c = s;
	for (int i = 0; i < n; i++) {
		const char *dot = strchr(c, '.');
		size_t len = dot ? (size_t)(dot - c) : strlen(c);
		if (!(p->seg[i] = sl_strndup(c, len)))
			return SL_ENOMEM;
		p->n = i + 1;
		int64_t idx;
		p->index[i] = len && sl_parse_int64(c, len, &idx) == 0 && idx >= 0 && c[0] != '+' &&
					      c[0] != '-'
				      ? idx
				      : -1;
		c += len + 1;
	}
	return 0;
}

/* Sets the ok bits of frame i for its current child (key or index). */
static void frame_select(sl_http_parser *P, int i, const char *key, size_t klen)
{
	frame *f = &P->frames[i];
	uint8_t ok = 0;
	for (int p = 0; p < P_N; p++) {
		const path *pp = &P->paths[p];
		if (pp->n <= i || (i > 0 && !(P->frames[i - 1].ok & (1u << p))))
			continue;
		bool m = f->is_array ? pp->index[i] == f->index
				     : strlen(pp->seg[i]) == klen && memcmp(pp->seg[i], key, klen) == 0;
		if (m)
			ok |= (uint8_t)(1u << p);
	}
	f->ok = ok;
}

/* Whether the value starting now (at depth) is the one at path p. */
static bool at_path(const sl_http_parser *P, int p)
{
	const path *pp = &P->paths[p];
	if (pp->n != P->depth)
		return false;
	return P->depth == 0 || (P->frames[P->depth - 1].ok & (1u << p));
}

static const char *path_text(const sl_http_parser *P, int p, const char *dflt)
{
	return P->info.paths[p] && *P->info.paths[p] ? P->info.paths[p] : dflt;
}

/* ----------------------------------------------------------- records */

static void hash_event(sl_http_parser *P, char type, const void *p, size_t n)
{
	XXH3_64bits_update(P->rhash, &type, 1);
	if (n)
		XXH3_64bits_update(P->rhash, p, n);
}

static void record_reset(sl_http_parser *P)
{
	json_decref(P->rec);
	P->rec = NULL;
	P->in_record = false;
	P->sdepth = 0;
	P->building = false;
	P->oversized = false;
	P->rec_bytes = 0;
	sl_buf_reset(&P->reason);
	sl_buf_reset(&P->key);
}

/* Hands the finished record on (or drops it: skipped before a retry). */
static int record_done(sl_http_parser *P)
{
	int rc = 0;
	/* A record too large to keep counts by its place only, so the hash does
	 * not depend on where the body was cut into pieces. */
	uint64_t d[2] = {(uint64_t)P->rec_index, P->oversized ? 0 : XXH3_64bits_digest(P->rhash)};
	XXH3_64bits_update(P->hash, d, sizeof d);
	if (P->rec_index <= P->skip) {
		/* Replayed after a retry: it must be the record handed on before. */
		if (!P->changed && (size_t)P->rec_index <= P->ndigests &&
		    P->digests[P->rec_index - 1] != d[1]) {
			P->changed = P->rec_index;
			P->stopped = true;
		}
	} else {
		if ((size_t)P->rec_index > P->ndigests) {
			if (P->ndigests == P->capdigests) {
				size_t cap = P->capdigests ? P->capdigests * 2 : 256;
				uint64_t *g = sl_realloc(P->digests, cap * sizeof *g);
				if (!g) {
					P->oom = true;
					return 0;
				}
				P->digests = g;
				P->capdigests = cap;
			}
			P->digests[P->ndigests++] = d[1];
		}
		json_t *rec = P->rec;
		P->rec = NULL;
		const char *reason = P->reason.len ? P->reason.data : NULL;
		char big[160];
		if (P->oversized) {
			snprintf(big, sizeof big,
				 "record larger than max_record_bytes (%zu bytes); not kept",
				 P->max_record);
			reason = big;
			json_decref(rec);
			rec = NULL;
		}
		rc = P->emit(P->emit_ctx, rec, reason, P->rec_index, rec ? P->rec_bytes : 0);
	}
	record_reset(P);
	if (rc < 0)
		P->oom = true;
	return rc < 0 ? 0 : 1;
}

static void charge(sl_http_parser *P, size_t n)
{
	P->rec_bytes += n + VALUE_COST;
	if (P->rec_bytes > P->max_record && P->building) {
		json_decref(P->rec);
		P->rec = NULL;
		for (int i = 0; i < P->sdepth; i++)
			P->stack[i] = NULL;
		P->building = false;
		P->oversized = true;
	}
}

/*
 * Adds v (owned; NULL when not building) to the record being built: as
 * its root, or into the open container. Returns 1, or 0 to cancel.
 */
static int record_add(sl_http_parser *P, json_t *v)
{
	if (!P->building) {
		json_decref(v);
		return 1;
	}
	if (!v) {
		P->oom = true;
		return 0;
	}
	if (P->sdepth == 0) {
		P->rec = v;
		return 1;
	}
	json_t *parent = P->stack[P->sdepth - 1];
	const char *key = P->key.data ? P->key.data : "";
	/* A key twice in one object would keep only its last value. */
	if (json_is_object(parent) && json_object_getn(parent, key, P->key.len))
		record_bad(P, "field \"%.*s\" appears twice in one object",
			   (int)(P->key.len > 100 ? 100 : P->key.len), key);
	int rc = json_is_object(parent)
			 ? json_object_setn_new_nocheck(parent, P->key.data ? P->key.data : "",
							P->key.len, v)
			 : json_array_append_new(parent, v);
	if (rc < 0) {
		P->oom = true;
		return 0;
	}
	return 1;
}

/*
 * A value starts: moves the parent array's index; starts a record when the
 * parent is the records array. Returns false when the value lies outside
 * every record.
 */
static bool value_begin(sl_http_parser *P)
{
	if (P->in_record)
		return true;
	if (P->depth > 0) {
		frame *f = &P->frames[P->depth - 1];
		if (f->is_array) {
			f->index++;
			frame_select(P, P->depth - 1, NULL, 0);
		}
		if (f->records) {
			P->in_record = true;
			P->nrecords++;
			P->rec_index = P->nrecords;
			P->building = P->rec_index > P->skip;
			XXH3_64bits_reset(P->rhash);
			P->rec_bytes = 0;
			P->info.nrecords = P->nrecords;
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- scalars */

/* A scalar outside the records: the next cursor, the total, or a records
 * path that holds no array. */
static int outside_scalar(sl_http_parser *P, const char *text, size_t n, bool is_null,
			  bool is_string, bool is_int)
{
	if (at_path(P, P_RECORDS) && !is_null)
		return page_error(P, "records path \"%s\" holds a scalar, not an array of records",
				  path_text(P, P_RECORDS, "(the body)"));
	if (at_path(P, P_NEXT) && P->paths[P_NEXT].n) {
		sl_buf_reset(&P->info.next);
		P->info.has_next = !is_null && !(is_string && n == 0);
		if (P->info.has_next && sl_buf_append(&P->info.next, text, n) < 0)
			P->oom = true;
		if (P->info.has_next && sl_buf_reserve(&P->info.next, 0) < 0)
			P->oom = true;
	}
	if (at_path(P, P_TOTAL) && P->paths[P_TOTAL].n && is_int) {
		int64_t t;
		if (sl_parse_int64(text, n, &t) == 0) {
			P->info.total = t;
			P->info.has_total = true;
		}
	}
	return P->oom ? 0 : 1;
}

static int scalar(sl_http_parser *P, char type, const char *text, size_t n, json_t *(*make)(
			  sl_http_parser *, const char *, size_t), bool is_null, bool is_string,
		  bool is_int)
{
	if (P->replay)
		return 1;
	if (!value_begin(P))
		return outside_scalar(P, text, n, is_null, is_string, is_int);
	hash_event(P, type, text, n);
	charge(P, n);
	if (!record_add(P, P->building ? make(P, text, n) : NULL))
		return 0;
	if (P->sdepth == 0)
		return record_done(P);
	return 1;
}

static json_t *make_null(sl_http_parser *P, const char *t, size_t n) { return json_null(); }
static json_t *make_bool(sl_http_parser *P, const char *t, size_t n)
{
	return json_boolean(t[0] == 't');
}
static json_t *make_string(sl_http_parser *P, const char *t, size_t n)
{
	return json_stringn_nocheck(t, n);
}

static const char *field_name(const sl_http_parser *P)
{
	return P->sdepth > 0 && json_is_object(P->stack[P->sdepth - 1]) && P->key.data
		       ? P->key.data
		       : "(array element)";
}

/*
 * A number: an int64 when it is integral and fits, else a double. An
 * integer beyond int64 or a number beyond double makes the record bad (it
 * keeps the number's text, as a string, for quarantine).
 */
static json_t *make_number(sl_http_parser *P, const char *t, size_t n)
{
	bool integral = !memchr(t, '.', n) && !memchr(t, 'e', n) && !memchr(t, 'E', n);
	if (integral) {
		int64_t v;
		if (sl_parse_int64(t, n, &v) == 0)
			return json_integer((json_int_t)v);
		record_bad(P, "field \"%s\": integer %.*s%s does not fit in 64 bits", field_name(P),
			   n > 40 ? 40 : (int)n, t, n > 40 ? "..." : "");
		return json_stringn_nocheck(t, n);
	}
	char small[64];
	char *s = n < sizeof small ? small : sl_malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, t, n);
	s[n] = '\0';
	double d = strtod(s, NULL);
	if (s != small)
		sl_free(s);
	if (isfinite(d))
		return json_real(d);
	record_bad(P, "field \"%s\": number %.*s%s does not fit in a 64-bit float", field_name(P),
		   n > 40 ? 40 : (int)n, t, n > 40 ? "..." : "");
	return json_stringn_nocheck(t, n);
}

static int cb_null(void *ctx)
{
	return scalar(ctx, 'n', "null", 4, make_null, true, false, false);
}

static int cb_boolean(void *ctx, int b)
{
	return scalar(ctx, 'b', b ? "true" : "false", b ? 4 : 5, make_bool, false, false, false);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	bool is_int = !memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n);
	return scalar(ctx, 'd', s, n, make_number, false, false, is_int);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	return scalar(ctx, 's', (const char *)s, n, make_string, false, true, false);
}

/* -------------------------------------------------------- containers */

static int push_frame(sl_http_parser *P, bool is_array, bool records)
{
	if (P->depth + P->sdepth >= SL_HTTP_MAX_DEPTH)
		return page_error(P, "JSON nested deeper than %d levels", SL_HTTP_MAX_DEPTH);
	if (P->depth == P->fcap) {
		int cap = P->fcap ? P->fcap * 2 : 16;
		frame *f = sl_realloc(P->frames, (size_t)cap * sizeof *f);
		if (!f) {
			P->oom = true;
			return 0;
		}
		P->frames = f;
		P->fcap = cap;
	}
	P->frames[P->depth++] = (frame){is_array, records, 0, -1};
	return 1;
}

static int container_start(sl_http_parser *P, bool is_array)
{
	if (P->replay)
		return 1;
	if (value_begin(P)) {
		if (P->depth + P->sdepth >= SL_HTTP_MAX_DEPTH)
			return page_error(P, "JSON nested deeper than %d levels", SL_HTTP_MAX_DEPTH);
		hash_event(P, is_array ? '[' : '{', NULL, 0);
		charge(P, 0);
		json_t *v = P->building ? (is_array ? json_array() : json_object()) : NULL;
		if (!record_add(P, v))
			return 0;
		if (P->sdepth == P->scap) {
			int cap = P->scap ? P->scap * 2 : 16;
			json_t **s = sl_realloc(P->stack, (size_t)cap * sizeof *s);
			if (!s) {
				P->oom = true;
				return 0;
			}
			P->stack = s;
			P->scap = cap;
		}
		P->stack[P->sdepth++] = P->building ? v : NULL;
		return 1;
	}
	if (at_path(P, P_RECORDS)) {
		if (!is_array)
			return page_error(P,
					  "records path \"%s\" holds an object, not an array of records",
					  path_text(P, P_RECORDS, "(the body)"));
		P->found = true;
		return push_frame(P, true, true);
	}
	if (at_path(P, P_NEXT) && P->paths[P_NEXT].n)
		return page_error(P, "the next cursor at \"%s\" is %s, not a string or number",
				  P->info.paths[P_NEXT], is_array ? "an array" : "an object");
	return push_frame(P, is_array, false);
}

static int container_end(sl_http_parser *P)
{
	if (P->replay)
		return 1;
	if (P->in_record) {
		hash_event(P, '}', NULL, 0);
		P->sdepth--;
		if (P->sdepth == 0)
			return record_done(P);
		return 1;
	}
	P->depth--;
	return 1;
}

static int cb_start_map(void *ctx) { return container_start(ctx, false); }
static int cb_start_array(void *ctx) { return container_start(ctx, true); }
static int cb_end_map(void *ctx) { return container_end(ctx); }
static int cb_end_array(void *ctx) { return container_end(ctx); }

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
	sl_http_parser *P = ctx;
	if (P->replay)
		return 1;
	if (P->in_record) {
		hash_event(P, 'k', k, n);
		charge(P, n);
		if (P->building) {
			sl_buf_reset(&P->key);
			if (sl_buf_append(&P->key, k, n) < 0 || sl_buf_reserve(&P->key, 0) < 0) {
				P->oom = true;
				return 0;
			}
		}
		return 1;
	}
	frame_select(P, P->depth - 1, (const char *)k, n);
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

/* ------------------------------------------------------------ feeding */

static int new_handle(sl_http_parser *P)
{
	if (P->h)
		yajl_free(P->h);
	P->h = yajl_alloc(&callbacks, NULL, P);
	return P->h ? 0 : SL_ENOMEM;
}

int sl_http_parser_new(sl_http_parser **out, const sl_http_parser_opts *o, sl_http_emit_fn emit,
		       void *ctx)
{
	sl_http_parser *P = sl_calloc(1, sizeof *P);
	*out = NULL;
	if (!P)
		return SL_ENOMEM;
	P->max_record = o->max_record_bytes ? o->max_record_bytes : SL_HTTP_MAX_RECORD_DEFAULT;
	P->emit = emit;
	P->emit_ctx = ctx;
	P->info.paths[P_RECORDS] = o->records_path;
	P->info.paths[P_NEXT] = o->next_path;
	P->info.paths[P_TOTAL] = o->total_path;
	P->info.head.max = SL_HTTP_HEAD_MAX + 1;
	P->hash = XXH3_createState();
	P->rhash = XXH3_createState();
	if (!P->hash || !P->rhash || path_parse(&P->paths[P_RECORDS], o->records_path) < 0 ||
	    path_parse(&P->paths[P_NEXT], o->next_path) < 0 ||
	    path_parse(&P->paths[P_TOTAL], o->total_path) < 0 ||
	    sl_http_parser_restart(P, 0) < 0) {
		sl_http_parser_free(P);
		return SL_ENOMEM;
	}
	*out = P;
	return 0;
}

void sl_http_parser_free(sl_http_parser *P)
{
	if (!P)
		return;
	if (P->h)
		yajl_free(P->h);
	for (int p = 0; p < P_N; p++)
		path_free(&P->paths[p]);
	json_decref(P->rec);
	sl_free(P->frames);
	sl_free(P->stack);
	sl_buf_free(&P->key);
	sl_buf_free(&P->reason);
	sl_buf_free(&P->info.next);
	sl_buf_free(&P->info.error);
	sl_buf_free(&P->info.head);
	if (P->hash)
		XXH3_freeState(P->hash);
	if (P->rhash)
		XXH3_freeState(P->rhash);
	sl_free(P->digests);
	sl_free(P);
}

int sl_http_parser_restart(sl_http_parser *P, int64_t skip)
{
	record_reset(P);
	P->depth = 0;
	P->skip = skip;
	if (skip == 0)
		P->ndigests = 0; /* a new page */
	P->changed = 0;
	P->nrecords = 0;
	P->found = false;
	P->in_str = P->esc = P->skipping = P->replay = P->stopped = P->oom = false;
	P->pdepth = 0;
	P->tok = 0;
	P->info.nrecords = 0;
	P->info.has_next = P->info.has_total = false;
	P->info.total = -1;
	P->info.bytes = 0;
	sl_buf_reset(&P->info.next);
	sl_buf_reset(&P->info.error);
	sl_buf_reset(&P->info.head);
	XXH3_64bits_reset(P->hash);
	return new_handle(P);
}

/*
 * Scans p[0..n) ahead of yajl, tracking strings and nesting. Returns the
 * offset where a single token grows past the record cap, or n.
 */
static size_t prescan(sl_http_parser *P, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (P->in_str) {
			P->tok++;
			if (P->esc)
				P->esc = false;
			else if (c == '\\')
				P->esc = true;
			else if (c == '"')
				P->in_str = false;
		} else {
			switch (c) {
			case '"': P->in_str = true; P->tok = 1; break;
			case '{': case '[': P->pdepth++; P->tok = 0; break;
			case '}': case ']': P->pdepth--; P->tok = 0; break;
			case ',': case ':': case ' ': case '\t': case '\n': case '\r': P->tok = 0; break;
			default: P->tok++; break;
			}
		}
		if (P->tok > P->max_record)
			return i + 1;
	}
	return n;
}

/* The depth (in the scanner's count) of the records array's elements. */
static int records_pdepth(const sl_http_parser *P)
{
	for (int i = 0; i < P->depth; i++)
		if (P->frames[i].records)
			return i + 1;
	return -1;
}

/*
 * Drops an oversized record's bytes up to the "," or "]" after it. Returns
 * how many bytes of p it consumed; when it found the end, hands the record
 * on as bad and restarts yajl inside the records array.
 */
static size_t skip_scan(sl_http_parser *P, const char *p, size_t n)
{
	int target = records_pdepth(P);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (P->in_str) {
			if (P->esc)
				P->esc = false;
			else if (c == '\\')
				P->esc = true;
			else if (c == '"')
				P->in_str = false;
			continue;
		}
		if (P->pdepth == target && (c == ',' || c == ']')) {
			/* Found the end: hand the record on, restart yajl. */
			P->oversized = true;
			P->skipping = false;
			P->tok = 0;
			record_done(P);
			if (new_handle(P) < 0) {
				P->oom = true;
				return n;
			}
			sl_buf pre = SL_BUF_INIT;
			for (int f = 0; f < P->depth; f++) {
				if (P->frames[f].is_array)
					sl_buf_putc(&pre, '[');
				else if (sl_buf_putc(&pre, '{') == 0)
					sl_buf_put_json_string(&pre, P->paths[P_RECORDS].seg[f],
							       strlen(P->paths[P_RECORDS].seg[f])),
						sl_buf_putc(&pre, ':');
			}
			sl_buf_puts(&pre, "null");
			P->replay = true;
			if (!pre.data || yajl_parse(P->h, (const unsigned char *)pre.data, pre.len) !=
						 yajl_status_ok)
				P->oom = true;
			P->replay = false;
			sl_buf_free(&pre);
			return i;
		}
		switch (c) {
		case '"': P->in_str = true; break;
		case '{': case '[': P->pdepth++; break;
		case '}': case ']': P->pdepth--; break;
		default: break;
		}
	}
	return n;
}

static int yajl_failed(sl_http_parser *P, const unsigned char *p, size_t n)
{
	unsigned char *e = yajl_get_error(P->h, 0, p, n);
	char msg[256];
	snprintf(msg, sizeof msg, "%s", e ? (const char *)e : "parse error");
	if (e)
		yajl_free_error(P->h, e);
	size_t len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	page_error(P, "response is not JSON: %s (near byte %llu)", msg,
		   (unsigned long long)(P->info.bytes + yajl_get_bytes_consumed(P->h)));
	return 1;
}

int sl_http_parser_feed(sl_http_parser *P, const char *p, size_t n)
{
	if (P->info.head.len < SL_HTTP_HEAD_MAX) {
		size_t k = SL_HTTP_HEAD_MAX - P->info.head.len;
		sl_buf_append(&P->info.head, p, n < k ? n : k);
	}
	size_t i = 0;
	while (i < n && !P->stopped && !P->oom) {
		if (P->skipping) {
			size_t k = skip_scan(P, p + i, n - i);
			P->info.bytes += k;
			i += k;
			continue;
		}
		size_t j = i + prescan(P, p + i, n - i);
		bool too_long = P->tok > P->max_record;
		yajl_status st = yajl_parse(P->h, (const unsigned char *)p + i, j - i);
		if (st == yajl_status_error)
			yajl_failed(P, (const unsigned char *)p + i, j - i);
		P->info.bytes += j - i;
		i = j;
		if (P->stopped || P->oom)
			break;
		if (too_long && !P->in_record && P->depth > 0 && P->frames[P->depth - 1].records)
			value_begin(P); /* the long token is a record of its own */
		if (too_long && P->in_record) {
			charge(P, P->max_record);
			P->skipping = true;
		} else if (too_long) {
			page_error(P, "a JSON value larger than max_record_bytes (%zu bytes) outside "
				      "the records", P->max_record);
		} else if (P->in_record && P->oversized) {
			P->skipping = true;
		}
	}
	if (P->oom)
		return SL_ENOMEM;
	return P->stopped ? 1 : 0;
}

int sl_http_parser_finish(sl_http_parser *P)
{
	if (!P->stopped && !P->oom) {
		if (P->skipping) {
			page_error(P, "response ends inside a record");
		} else if (yajl_complete_parse(P->h) == yajl_status_error) {
			yajl_failed(P, NULL, 0);
		} else if (!P->found && !P->stopped) {
			page_error(P, "records path \"%s\" is not in the response",
				   path_text(P, P_RECORDS, ""));
		}
	}
	/* A retried page that ends before the records handed on from it. */
	if (!P->stopped && !P->oom && !P->changed && P->nrecords < P->skip) {
		P->changed = P->nrecords + 1;
		P->stopped = true;
	}
	if (P->oom)
		return SL_ENOMEM;
	P->info.hash = XXH3_64bits_digest(P->hash);
	return P->stopped ? 1 : 0;
}

const sl_http_page_info *sl_http_parser_info(const sl_http_parser *P) { return &P->info; }

int64_t sl_http_parser_changed(const sl_http_parser *P) { return P->changed; }
