/*
 * http_source.c: the http extractor. Pages through a JSON API (page,
 * offset, cursor or Link pagination); each response streams through the
 * page parser (http_stream.c), whose records wait in a queue until they
 * become rows: nothing holds a whole page. Columns are flattened from the
 * records; their types are inferred from the first records (or declared).
 * Records that do not fit the schema, records too large to hold, and pages
 * that are not JSON go to quarantine, one row each. Incremental by a
 * {{ watermark }} request parameter and/or a record cursor field.
 *
 * Pagination cannot run away: a cursor or next URL asked for before, a
 * page holding the same records as the one before, or more than
 * max_pages pages fails the task with what repeated.
 *
 * Choices: on a first run (or --full-refresh) a param whose value is exactly
 * "{{ watermark }}" is dropped, elsewhere the template expands to "".
 * {{ watermark }} is the stored watermark minus lookback. Without a cursor
 * field the watermark saved is the time this run started. A non-null field
 * absent from the inferred schema quarantines its record ("unexpected
 * field"); a new field that is null is ignored. An integer beyond int64 or
 * a number beyond double quarantines its record. A transfer that breaks
 * after some records were read is retried, and those records are skipped.
 */
#include "sources/http_int.h"
#include "sources/sources_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

static int quarantine(sl_http_extractor *x, const char *origin, int64_t line, const char *raw,
		      size_t raw_len, const char *reason, sl_error *err)
{
	x->base.stats.rows_read++;
	x->base.stats.rows_bad++;
	if (!x->on_bad)
		return sl_error_set(err, SL_EFORMAT, "http source %s: %s: %s", x->label, origin,
				    reason);
	sl_quarantine_row row = {origin, line, raw ? raw : "", raw ? raw_len : 0, reason};
	return x->on_bad(x->on_bad_ctx, &row, err);
}

/* ---------------------------------------------------------------- queue */

static void origin_unref(sl_http_origin *o)
{
	if (o && --o->refs == 0)
		sl_free(o);
}

static void item_free(sl_http_item *it)
{
	json_decref(it->record);
	sl_free(it->reason);
	sl_free(it->raw);
	origin_unref(it->origin);
	memset(it, 0, sizeof *it);
}

static int queue_push(sl_http_extractor *x, sl_http_item *it)
{
	if (x->qhead + x->qlen == x->qcap) {
		if (x->qhead > 0) {
			memmove(x->queue, x->queue + x->qhead, x->qlen * sizeof *x->queue);
			x->qhead = 0;
		}
		if (x->qlen == x->qcap) {
			size_t cap = x->qcap ? x->qcap * 2 : 256;
			sl_http_item *q = sl_realloc(x->queue, cap * sizeof *q);
			if (!q)
				return SL_ENOMEM;
			x->queue = q;
			x->qcap = cap;
		}
	}
	x->queue[x->qhead + x->qlen++] = *it;
	x->qbytes += it->bytes;
	if (it->origin)
		it->origin->refs++;
	return 0;
}

static sl_http_item queue_pop(sl_http_extractor *x)
{
	sl_http_item it = x->queue[x->qhead++];
	x->qlen--;
	x->qbytes -= it.bytes;
	if (x->qlen == 0)
		x->qhead = 0;
	return it;
}

/* The parser's records, into the queue. */
static int on_record(void *ctx, json_t *record, const char *reason, int64_t index, size_t bytes)
{
	sl_http_extractor *x = ctx;
	sl_http_item it = {record, NULL, NULL, 0, bytes, index, x->page_origin};
	if (reason && !(it.reason = sl_strdup(reason))) {
		json_decref(record);
		return SL_ENOMEM;
	}
	if (queue_push(x, &it) < 0) {
		json_decref(record);
		sl_free(it.reason);
		return SL_ENOMEM;
	}
	x->page_emitted++;
	return 0;
}

static int sink_write(void *ctx, const char *p, size_t n)
{
	sl_http_extractor *x = ctx;
	return sl_http_parser_feed(x->parser, p, n) != 0;
}

static int sink_restart(void *ctx)
{
	sl_http_extractor *x = ctx;
	if (x->page_emitted)
		sl_warn("http source %s: %s: reading the page again, skipping the %lld records "
			"already read", x->label, x->page_origin->url, (long long)x->page_emitted);
	return sl_http_parser_restart(x->parser, x->page_emitted);
}

/* ----------------------------------------------------------- pagination */

/* Remembers h; false when it was there already. */
static int seen_add(sl_http_extractor *x, uint64_t h, bool *fresh)
{
	*fresh = true;
	if (h == 0)
		h = 1; /* 0 marks an empty slot */
	if ((x->nseen + 1) * 2 > x->seen_cap) {
		size_t cap = x->seen_cap ? x->seen_cap * 2 : 64;
		uint64_t *t = sl_calloc(cap, sizeof *t);
		if (!t)
			return SL_ENOMEM;
		for (size_t i = 0; i < x->seen_cap; i++) {
			if (!x->seen[i])
				continue;
			size_t j = (size_t)x->seen[i] & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = x->seen[i];
		}
		sl_free(x->seen);
		x->seen = t;
		x->seen_cap = cap;
	}
	size_t j = (size_t)h & (x->seen_cap - 1);
	while (x->seen[j]) {
		if (x->seen[j] == h) {
			*fresh = false;
			return 0;
		}
		j = (j + 1) & (x->seen_cap - 1);
	}
	x->seen[j] = h;
	x->nseen++;
	return 0;
}

/* Fails when the cursor or URL s was asked for before. */
static int check_repeat(sl_http_extractor *x, const char *what, const char *s, sl_error *err)
{
	bool fresh;
	if (seen_add(x, XXH3_64bits(s, strlen(s)), &fresh) < 0)
		return sl_http_oom(err);
	if (fresh)
		return 0;
	sl_buf v = SL_BUF_INIT;
	if (sl_log_redact_truncate(&v, s, strlen(s), 200) < 0) {
		sl_buf_free(&v);
		return sl_http_oom(err);
	}
	sl_error_set(err, SL_EFORMAT,
		     "http source %s: the server's %s \"%s\" after page %lld was already used: "
		     "its pagination loops; stopping", x->label, what, v.data, (long long)x->pages);
	sl_buf_free(&v);
	return SL_EFORMAT;
}

static int max_pages_error(const sl_http_extractor *x, sl_error *err)
{
	return sl_error_set(err, SL_ELIMIT,
			    "http source %s: the API has more than max_pages (%lld) pages; raise "
			    "max_pages if it really has more",
			    x->label, (long long)x->max_pages);
}

/* Where the next page comes from, after a page (bad: not JSON or no
 * records array). */
static int advance(sl_http_extractor *x, const sl_http_page_info *pi, bool bad, sl_error *err)
{
	int64_t nrecords = pi->nrecords;
	int rc = 0;
	if (x->max_pages > 0 && x->pages > x->max_pages && nrecords > 0)
		return max_pages_error(x, err);
	x->fetched += nrecords;
	x->bad_pages = bad ? x->bad_pages + 1 : 0;
	/* Pages that keep holding the records of the page before: the server
	 * ignores the page or offset we ask for, and would answer the same
	 * forever. Two equal pages in a row can be real data (a small page of
	 * repeated rows); three are not taken for it. Cursor and Link paging
	 * are caught by the cursor or URL seen before. */
	if (!bad && nrecords > 0 &&
	    (x->ptype == SL_HTTP_PAGE_PAGE || x->ptype == SL_HTTP_PAGE_OFFSET)) {
		x->same_pages = x->have_prev_hash && x->prev_hash == pi->hash ? x->same_pages + 1 : 0;
		if (x->same_pages >= SL_HTTP_SAME_PAGES_MAX) {
			const char *param = x->ptype == SL_HTTP_PAGE_PAGE ? x->page_param
									  : x->offset_param;
			return sl_error_set(err, SL_EFORMAT,
					    "http source %s: pages %lld to %lld (the last %s) hold the "
					    "same %lld %s: the server ignores the pagination (%s); "
					    "stopping", x->label,
					    (long long)(x->pages - SL_HTTP_SAME_PAGES_MAX),
					    (long long)x->pages, x->page_origin->url, (long long)nrecords,
					    nrecords == 1 ? "record" : "records", param);
		}
		x->have_prev_hash = true;
		x->prev_hash = pi->hash;
	}
	switch (x->ptype) {
	case SL_HTTP_PAGE_NONE: x->more = false; break;
	case SL_HTTP_PAGE_PAGE:
		x->page_no++;
		x->more = bad ? x->bad_pages < SL_HTTP_BAD_PAGES_MAX : nrecords > 0;
		break;
	case SL_HTTP_PAGE_OFFSET:
		x->offset += bad ? x->limit : nrecords;
		x->more = bad ? x->bad_pages < SL_HTTP_BAD_PAGES_MAX : nrecords > 0;
		break;
	case SL_HTTP_PAGE_CURSOR:
		x->more = false;
		if (!bad && pi->has_next && nrecords > 0) {
			if ((rc = check_repeat(x, "next cursor", pi->next.data, err)) < 0)
				return rc;
			sl_free(x->next_token);
			if (!(x->next_token = sl_strdup(pi->next.data)))
				return sl_http_oom(err);
			x->more = true;
		}
		break;
	case SL_HTTP_PAGE_LINK: {
		char *next = NULL;
		sl_free(x->next_url);
		x->next_url = NULL;
		x->more = false;
		if ((nrecords > 0 || bad) && x->bad_pages < SL_HTTP_BAD_PAGES_MAX &&
		    x->client.link.data) {
			rc = sl_http_link_next(x->client.link.data, &next);
			if (rc < 0)
				return sl_http_oom(err);
			x->next_url = next;
			x->more = rc == 1;
		}
		break;
	}
	}
	if (pi->has_total)
		x->total = pi->total;
	if (x->total >= 0 && x->fetched >= x->total)
		x->more = false;
	return 0;
}

/* Starts the request for the next page. */
static int page_start(sl_http_extractor *x, sl_error *err)
{
	char *url = NULL;
	/* One request past max_pages may come back empty: that is how page
	 * and offset paging learn the end (advance fails one with records). */
	if (x->max_pages > 0 && x->pages > x->max_pages)
		return max_pages_error(x, err);
	int rc = sl_http_build_url(x, &url, err);
	if (rc < 0)
		return rc;
	sl_free(x->cur_url);
	x->cur_url = url;
	if (x->ptype == SL_HTTP_PAGE_LINK && (rc = check_repeat(x, "next URL", url, err)) < 0)
		return rc;
	char *safe = sl_log_redact_dup(url);
	sl_http_origin *o = safe ? sl_malloc(sizeof *o + strlen(safe) + 1) : NULL;
	if (!o) {
		sl_free(safe);
		return sl_http_oom(err);
	}
	o->refs = 1;
	memcpy(o->url, safe, strlen(safe) + 1);
	sl_free(safe);
	origin_unref(x->page_origin);
	x->page_origin = o;
	x->page_emitted = 0;
	x->pages++;
	if ((rc = sl_http_parser_restart(x->parser, 0)) < 0)
		return sl_http_oom(err);
	x->req = (sl_http_request){.url = url,
				   .method = x->o->method,
				   .body = x->post_body,
				   .headers = x->headers,
				   .public_headers = x->public_headers,
				   .user = x->user,
				   .password = x->password,
				   .origin = x->origin,
				   .label = x->label};
	sl_http_sink sink = {x, sink_restart, sink_write};
	if ((rc = sl_http_client_start(&x->client, &x->req, sink, err)) < 0)
		return rc;
	x->in_flight = true;
	return 0;
}

/* The page's body ended (or the parser stopped it): a bad page goes to
 * quarantine (or fails the task), then pagination moves on. */
static int page_end(sl_http_extractor *x, sl_error *err)
{
	x->in_flight = false;
	int rc = sl_http_parser_finish(x->parser);
	if (rc < 0)
		return sl_http_oom(err);
	int64_t changed = sl_http_parser_changed(x->parser);
	if (changed)
		/* Records of the first answer are on their way to the lake; a page
		 * that answers otherwise cannot be resumed exactly. The task fails
		 * and nothing of this run lands; the next run reads it afresh. */
		return sl_error_set(err, SL_ENET,
				    "http source %s: %s: the connection broke in the middle of the "
				    "page, and the server answered it again with other records "
				    "(record %lld differs); nothing of this run lands: run again",
				    x->label, x->page_origin->url, (long long)changed);
	const sl_http_page_info *pi = sl_http_parser_info(x->parser);
	bool bad = rc == 1;
	if (bad) {
		if (x->o->on_bad_page && strcmp(x->o->on_bad_page, "fail") == 0)
			return sl_error_set(err, SL_EFORMAT,
					    "http source %s: %s: %s (on_bad_page: fail)", x->label,
					    x->page_origin->url, pi->error.data);
		sl_http_item it = {.index = 0, .origin = x->page_origin};
		sl_buf reason = SL_BUF_INIT;
		if (sl_buf_puts(&reason, pi->error.data) < 0 ||
		    (pi->nrecords > 0 &&
		     sl_buf_printf(&reason, " (after %lld %s, which were read)",
				   (long long)pi->nrecords,
				   pi->nrecords == 1 ? "record" : "records") < 0) ||
		    (pi->head.len >= SL_HTTP_HEAD_MAX &&
		     sl_buf_printf(&reason, "; raw holds the body's first %zu bytes",
				   (size_t)SL_HTTP_HEAD_MAX) < 0) ||
		    !(it.raw = sl_strndup(pi->head.data ? pi->head.data : "", pi->head.len))) {
			sl_buf_free(&reason);
			return sl_http_oom(err);
		}
		it.raw_len = pi->head.len;
		it.reason = sl_buf_detach(&reason);
		if (queue_push(x, &it) < 0) {
			item_free(&(sl_http_item){.raw = it.raw, .reason = it.reason});
			return sl_http_oom(err);
		}
	}
	return advance(x, pi, bad, err);
}

/*
 * Moves the network on until at least one more item is queued. Returns 1,
 * 0 when every page has been read, or a negative SL_E*.
 */
static int pump(sl_http_extractor *x, sl_error *err)
{
	size_t before = x->qlen;
	int rc;
	while (x->qlen == before) {
		if (!x->in_flight) {
			if (!x->more)
				return 0;
			if ((rc = page_start(x, err)) < 0)
				return rc;
		}
		rc = sl_http_client_step(&x->client, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && (rc = page_end(x, err)) < 0)
			return rc;
	}
	return 1;
}

/* --------------------------------------------------------------- schema */

static int infer_schema(sl_http_extractor *x, sl_error *err)
{
	const sl_kvs *decl = &x->t->columns;
	int rc;
	for (int k = 0; k < decl->n; k++) {
		sl_type ty;
		if (sl_type_parse(decl->items[k].value, &ty) < 0)
			return sl_error_set(err, SL_ECONFIG,
					    "%s:%d: columns: \"%s\" has unknown type \"%s\"; use one of "
					    SL_TYPE_NAMES, sl_http_file(x), decl->items[k].line,
					    decl->items[k].key, decl->items[k].value);
		if ((rc = sl_http_records_declare(&x->rec, decl->items[k].key, ty, err)) < 0)
			return rc;
	}
	for (size_t i = 0; i < x->qlen; i++) {
		json_t *r = x->queue[x->qhead + i].record;
		if (r && !x->queue[x->qhead + i].reason &&
		    (rc = sl_http_records_infer(&x->rec, r, err)) < 0)
			return rc;
	}
	const char **keep = NULL;
	size_t nkeep = 0;
	if ((rc = sl_source_keep_names(x->t, &keep, &nkeep, err)) < 0)
		return rc;
	rc = sl_http_records_schema(&x->rec, keep, nkeep, &x->base.schema, &x->base.renamed, err);
	sl_free(keep);
	return rc;
}

/* The cursor column and the lower bound records must pass. */
static int cursor_config(sl_http_extractor *x, sl_error *err)
{
	x->cursor_idx = -1;
	if (!x->t->cursor)
		return 0;
	/* A dotted cursor path names a flattened column: a.b -> a__b. */
	sl_buf name = SL_BUF_INIT;
	int brc = sl_buf_reserve(&name, 0);
	for (const char *p = x->t->cursor; *p && brc == 0; p++)
		brc = *p == '.' ? sl_buf_puts(&name, "__") : sl_buf_putc(&name, *p);
	if (brc < 0) {
		sl_buf_free(&name);
		return sl_http_oom(err);
	}
	x->cursor_idx = sl_schema_find(x->base.schema, name.data);
	sl_buf_free(&name);
	if (x->cursor_idx < 0) {
		if (x->rec.ncols == 0)
			return 0; /* no records at all */
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: cursor \"%s\" is not a field of the records; declare it "
				    "in columns: or fix its name",
				    sl_http_file(x), x->t->line, x->t->cursor);
	}
	sl_type ty = x->rec.cols[x->cursor_idx].type;
	if (ty.id != SL_INT32 && ty.id != SL_INT64 && ty.id != SL_DATE && ty.id != SL_TIMESTAMP &&
	    ty.id != SL_STRING) {
		char tn[32];
		return sl_error_set(err, SL_ECONFIG,
				    "%s:%d: cursor \"%s\" has type %s; a cursor must be an integer, "
				    "date, timestamp or string field",
				    sl_http_file(x), x->t->line, x->t->cursor,
				    sl_type_name(ty, tn, sizeof tn));
	}
	if (!x->wm || ty.id == SL_STRING)
		return 0;
	int rc = 0;
	size_t n = strlen(x->wm);
	if (ty.id == SL_TIMESTAMP) {
		rc = sl_timestamp_parse(x->wm, n, &x->old_i);
		x->lower_i = x->old_i - x->o->lookback_micros;
	} else if (ty.id == SL_DATE) {
		int32_t d = 0;
		rc = sl_date_parse(x->wm, n, &d);
		x->old_i = d;
		x->lower_i = d - (x->o->lookback_micros + SL_MICROS_PER_DAY - 1) / SL_MICROS_PER_DAY;
	} else {
		rc = sl_parse_int64(x->wm, n, &x->old_i);
		x->lower_i = x->old_i;
	}
	if (rc < 0)
		return sl_error_set(err, SL_ECONFIG,
				    "http source %s: stored watermark \"%s\" is not a valid value of "
				    "cursor \"%s\"; rerun with --full-refresh",
				    x->label, x->wm, x->t->cursor);
	x->have_lower = true;
	return 0;
}

/* ---------------------------------------------------------------- rows */

static int bad_record(sl_http_extractor *x, const sl_http_item *it, const char *reason,
		      sl_error *err)
{
	char *raw = it->record ? json_dumps(it->record, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int rc = quarantine(x, it->origin->url, it->index, raw ? raw : it->raw,
			    raw ? strlen(raw) : it->raw_len, reason, err);
	free(raw);
	return rc;
}

/* Whether row r's cursor is at or below the lower bound (already read). */
static bool below_lower(sl_http_extractor *x, int64_t r)
{
	const sl_column *c = &x->batch->cols[x->cursor_idx];
	if (sl_column_is_null(c, r))
		return false;
	if (c->type.id == SL_STRING) {
		if (!x->wm)
			return false;
		size_t n;
		const char *s = sl_column_str(c, r, &n);
		size_t wn = strlen(x->wm);
		int cmp = memcmp(s, x->wm, n < wn ? n : wn);
		return cmp < 0 || (cmp == 0 && n <= wn);
	}
	if (!x->have_lower)
		return false;
	int64_t v = (c->type.id == SL_INT32 || c->type.id == SL_DATE) ? c->v.i32[r] : c->v.i64[r];
	return v <= x->lower_i;
}

static int track_max(sl_http_extractor *x, int64_t r)
{
	const sl_column *c = &x->batch->cols[x->cursor_idx];
	if (sl_column_is_null(c, r))
		return 0;
	if (c->type.id == SL_STRING) {
		size_t n;
		const char *s = sl_column_str(c, r, &n);
		if (x->max_s) {
			size_t mn = strlen(x->max_s);
			int cmp = memcmp(s, x->max_s, n < mn ? n : mn);
			if (cmp < 0 || (cmp == 0 && n <= mn))
				return 0;
		}
		char *m = sl_strndup(s, n);
		if (!m)
			return SL_ENOMEM;
		sl_free(x->max_s);
		x->max_s = m;
		x->have_max = true;
		return 0;
	}
	int64_t v = (c->type.id == SL_INT32 || c->type.id == SL_DATE) ? c->v.i32[r] : c->v.i64[r];
	if (!x->have_max || v > x->max_i)
		x->max_i = v;
	x->have_max = true;
	return 0;
}

static int add_item(sl_http_extractor *x, const sl_http_item *it, sl_error *err)
{
	sl_batch *b = x->batch;
	if (!it->record || it->reason)
		return bad_record(x, it, it->reason ? it->reason : "bad record", err);
	sl_buf_reset(&x->text);
	int rc = sl_http_records_append(&x->rec, b, it->record, &x->text, err);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		sl_batch_discard_row(b);
		return bad_record(x, it, x->text.data, err);
	}
	if (x->cursor_idx >= 0) {
		if (below_lower(x, b->nrows)) {
			sl_batch_discard_row(b); /* read before: skipped, not bad */
			return 0;
		}
		if (track_max(x, b->nrows) < 0)
			return sl_http_oom(err);
	}
	sl_batch_end_row(b);
	x->base.stats.rows_read++;
	return 0;
}

/* ------------------------------------------------------------ extractor */

static int http_next(sl_extractor *base, sl_batch **out, sl_error *err)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	int rc;
	*out = NULL;
	sl_batch_reset(x->batch);
	if ((rc = sl_cancelled(x->cancel)) != 0)
		return sl_error_set(err, rc, "http source %s: %s", x->label,
				    rc == SL_ETIMEOUT ? "timed out" : "cancelled");
	while (!sl_batch_full(x->batch)) {
		if (x->qlen == 0) {
			if ((rc = pump(x, err)) < 0)
				return rc;
			if (rc == 0) {
				x->finished = true;
				break;
			}
			continue;
		}
		sl_http_item it = queue_pop(x);
		rc = add_item(x, &it, err);
		item_free(&it);
		if (rc < 0)
			return rc;
	}
	if (x->batch->nrows == 0)
		return 0;
	*out = x->batch;
	return 1;
}

/* The watermark this extraction reached (into text[64]), or NULL. */
static const char *http_watermark(sl_http_extractor *x, char *text)
{
	if (x->cursor_idx >= 0 && x->have_max) {
		sl_type ty = x->rec.cols[x->cursor_idx].type;
		if (ty.id == SL_STRING)
			return x->wm && strcmp(x->wm, x->max_s) > 0 ? x->wm : x->max_s;
		/* Never move back: the lookback window may hold only old rows. */
		int64_t v = x->have_lower && x->old_i > x->max_i ? x->old_i : x->max_i;
		if (ty.id == SL_TIMESTAMP)
			sl_timestamp_format_iso(v, text);
		else if (ty.id == SL_DATE)
			sl_date_format((int32_t)v, text);
		else
			snprintf(text, 64, "%lld", (long long)v);
		return text;
	}
	/* Incremental by request parameter only: next time, ask for what
	 * changed since this run started. */
	if (!x->t->cursor && x->wm_templated && x->finished)
		return x->run_start;
	return NULL;
}

static int http_progress(sl_extractor *base, sl_source_progress *out, sl_error *err)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	char text[64];
	const char *v = http_watermark(x, text);
	if (v && sl_source_progress_set_watermark(out, v) < 0)
		return sl_http_oom(err);
	return 0;
}

static void http_close(sl_extractor *base)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	if (!x)
		return;
	while (x->qlen) {
		sl_http_item it = queue_pop(x);
		item_free(&it);
	}
	sl_free(x->queue);
	sl_http_client_free(&x->client);
	sl_http_parser_free(x->parser);
	origin_unref(x->page_origin);
	sl_free(x->seen);
	sl_free(x->origin);
	sl_free(x->key);
	sl_free(x->label);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->public_headers);
	sl_free(x->post_body);
	sl_free(x->wm);
	sl_free(x->wm_param);
	sl_free(x->next_token);
	sl_free(x->next_url);
	sl_free(x->cur_url);
	sl_http_records_free(&x->rec);
	sl_buf_free(&x->text);
	sl_free(x->max_s);
	sl_batch_free(x->batch);
	sl_schema_free(x->base.schema);
	sl_arena_free(&x->arena);
	sl_free(x);
}

static const sl_extractor_ops http_ops = {
	.next = http_next,
	.progress = http_progress,
	.close = http_close,
};

/* The stored watermark and the value {{ watermark }} expands to. */
static int load_watermark(sl_http_extractor *x, const sl_extract_opts *opts, sl_error *err)
{
	sl_timestamp_format_iso(sl_now_micros(), x->run_start);
	if (opts->full_refresh || !opts->watermark || !*opts->watermark)
		return 0;
	if (!(x->wm = sl_strdup(opts->watermark)))
		return sl_http_oom(err);
	int64_t ts;
	char buf[48];
	const char *v = x->wm;
	if (strlen(x->wm) > 10 && sl_timestamp_parse(x->wm, strlen(x->wm), &ts) == 0) {
		sl_timestamp_format_iso(ts - x->o->lookback_micros, buf);
		v = buf;
	}
	if (!(x->wm_param = sl_strdup(v)))
		return sl_http_oom(err);
	return 0;
}

int sl_http_source_open(sl_extractor **out, const sl_source *src, const sl_source_table *t,
			const sl_extract_opts *opts, sl_error *err)
{
	sl_http_extractor *x = NULL;
	const sl_http_opts *o = NULL;
	int rc;
	*out = NULL;
	rc = sl_alloc_zeroed((void **)&x, sizeof *x, err);
	if (rc < 0)
		return rc;
	x->base.ops = &http_ops;
	x->src = src;
	sl_arena_init(&x->arena, 4096);
	x->t = t;
	x->ro = *(const sl_http_opts *)t->opts;
	x->o = o = &x->ro;
	sl_render_vars vars;
	sl_render_vars_of(&vars, opts);
	if ((rc = sl_source_render_str(&x->ro.url, &vars, true, &x->arena, src, t->line,
				       err)) < 0 ||
	    (rc = sl_source_render_str(&x->ro.body, &vars, true, &x->arena, src, t->line,
				       err)) < 0 ||
	    (rc = sl_source_render_kvs(&x->ro.params, &vars, true, &x->arena, src, err)) < 0 ||
	    (rc = sl_source_render_kvs(&x->ro.headers, &vars, true, &x->arena, src, err)) < 0)
		goto fail;
	x->cancel = opts->cancel;
	x->on_bad = opts->on_bad;
	x->on_bad_ctx = opts->on_bad_ctx;
	x->cursor_idx = -1;
	x->more = true;
	x->key = sl_source_table_key(src, t);
	x->label = x->key ? sl_strdup(x->key) : NULL;
	if (!x->label) {
		rc = sl_http_oom(err);
		goto fail;
	}
	sl_http_records_init(&x->rec, o->flatten && strcmp(o->flatten, "json") == 0, x->label);
	x->rec.max_columns = (int)o->max_columns;
	rc = sl_http_client_init(&x->client, &x->base.stats, err);
	if (rc < 0)
		goto fail;
	x->client.cancel = opts->cancel;
	x->client.max_retries = o->max_retries >= 0 ? o->max_retries : 5;
	x->client.retry_budget = (double)o->max_retry_micros / SL_MICROS_PER_SEC;
	x->max_pages = o->max_pages;
	if (o->rate_limit > 0)
		x->client.min_interval = 1.0 / o->rate_limit;
	if ((rc = load_watermark(x, opts, err)) < 0 || (rc = sl_http_pagination_config(x, err)) < 0 ||
	    (rc = sl_http_request_config(x, err)) < 0)
		goto fail;
	sl_http_parser_opts po = {
		.records_path = o->records,
		.next_path = x->ptype == SL_HTTP_PAGE_CURSOR ? x->next_path : NULL,
		.total_path = x->total_path,
		.max_record_bytes = o->max_record_bytes > 0 ? (size_t)o->max_record_bytes : 0,
	};
	if (sl_http_parser_new(&x->parser, &po, on_record, x) < 0) {
		rc = sl_http_oom(err);
		goto fail;
	}
	if (o->flatten && strcmp(o->flatten, "json") != 0 && strcmp(o->flatten, "columns") != 0) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: flatten must be columns or json",
				  sl_http_file(x), t->line);
		goto fail;
	}
	/* Read ahead for type inference; those records are extracted later. */
	while (x->qlen < SL_HTTP_INFER_RECORDS && x->qbytes < SL_HTTP_INFER_BYTES) {
		if ((rc = pump(x, err)) < 0)
			goto fail;
		if (rc == 0)
			break;
	}
	if ((rc = infer_schema(x, err)) < 0 || (rc = cursor_config(x, err)) < 0)
		goto fail;
	rc = sl_batch_new(&x->batch, x->base.schema,
			  opts->batch_rows > 0 ? opts->batch_rows : SL_BATCH_DEFAULT_ROWS, err);
	if (rc < 0)
		goto fail;
	if (x->wm)
		snprintf(x->base.description, sizeof x->base.description, "%s since %s", t->name,
			 x->wm_param ? x->wm_param : x->wm);
	else
		snprintf(x->base.description, sizeof x->base.description, "%s (all records)",
			 t->name);
	*out = &x->base;
	return 0;
fail:
	http_close(&x->base);
	return rc;
}
