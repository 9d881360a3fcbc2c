/*
 * http_source.c: the http extractor. Pages through a JSON API (page,
 * offset, cursor or Link pagination), selects the records at a path,
 * flattens them into columns whose types are inferred from the first pages
 * (or declared), and fills one reusable batch. Records that do not fit the
 * schema and pages that are not JSON go to quarantine. Incremental by a
 * {{ watermark }} request parameter and/or a record cursor field.
 *
 * Choices: on a first run (or --full-refresh) a param whose value is exactly
 * "{{ watermark }}" is dropped, elsewhere the template expands to "".
 * {{ watermark }} is the stored watermark minus lookback. Without a cursor
 * field the watermark saved is the time this run started. A non-null field
 * absent from the inferred schema quarantines its record ("unexpected
 * field"); a new field that is null is ignored. jansson rejects integers
 * beyond int64 (the page is quarantined as not JSON) and reads reals as
 * doubles: declare such fields as strings upstream or accept float64.
 */
#include "sources/http_int.h"
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Where the next page comes from, after a page with nrecords records. */
static void advance(sl_http_extractor *x, json_t *body, size_t nrecords, bool bad)
{
	char next[4096];
	x->fetched += (int64_t)nrecords;
	x->bad_pages = bad ? x->bad_pages + 1 : 0;
	switch (x->ptype) {
	case SL_HTTP_PAGE_NONE: x->more = false; break;
	case SL_HTTP_PAGE_PAGE:
		x->page_no++;
		x->more = bad ? x->bad_pages < SL_HTTP_BAD_PAGES_MAX : nrecords > 0;
		break;
	case SL_HTTP_PAGE_OFFSET:
		x->offset += bad ? x->limit : (int64_t)nrecords;
		x->more = bad ? x->bad_pages < SL_HTTP_BAD_PAGES_MAX : nrecords > 0;
		break;
	case SL_HTTP_PAGE_CURSOR: {
		json_t *tok = body ? sl_http_json_path(body, x->next_path) : NULL;
		x->more = false;
		if (tok && !json_is_null(tok) && nrecords > 0 &&
		    !(json_is_string(tok) && json_string_length(tok) == 0)) {
			sl_http_value_text(tok, &x->text);
			if (x->next_token && strcmp(x->next_token, x->text.data) == 0) {
				sl_warn("http source %s: next cursor repeats (%s); stopping",
					x->label, x->next_token);
				break;
			}
			sl_free(x->next_token);
			x->next_token = sl_strdup(x->text.data);
			x->more = x->next_token != NULL;
		}
		break;
	}
	case SL_HTTP_PAGE_LINK:
		sl_free(x->next_url);
		x->next_url = NULL;
		x->more = (nrecords > 0 || bad) && x->bad_pages < SL_HTTP_BAD_PAGES_MAX &&
			  x->client.link.data &&
			  sl_http_link_next(x->client.link.data, next, sizeof next) == 1;
		if (x->more)
			x->next_url = sl_strdup(next);
		x->more = x->more && x->next_url;
		break;
	}
	if (body && x->total_path) {
		json_t *tv = sl_http_json_path(body, x->total_path);
		if (json_is_integer(tv))
			x->total = json_integer_value(tv);
	}
	if (x->total >= 0 && x->fetched >= x->total)
		x->more = false;
}

/* Fetches one page into pending (a bad page goes to quarantine). */
static int fetch_page(sl_http_extractor *x, sl_error *err)
{
	char *url = NULL;
	char origin[2048];
	int rc = sl_http_build_url(x, &url, err);
	if (rc < 0)
		return rc;
	sl_log_redact(origin, sizeof origin, url);
	sl_free(x->cur_url);
	x->cur_url = url;
	sl_http_request req = {url, x->t->method, x->post_body, x->headers, x->user, x->password,
			       x->label, origin};
	rc = sl_http_client_do(&x->client, &req, err);
	if (rc < 0)
		return rc;

	json_error_t jerr;
	sl_buf *b = &x->client.body;
	json_t *body = json_loadb(b->data ? b->data : "", b->len, JSON_DECODE_ANY, &jerr);
	json_t *records = NULL;
	char reason[512];
	if (!body) {
		snprintf(reason, sizeof reason, "response is not JSON: %s (line %d, column %d)",
			 jerr.text, jerr.line, jerr.column);
	} else {
		sl_error e2 = SL_ERROR_INIT;
		if (sl_http_select_records(body, x->t->records, &records, &e2) < 0)
			snprintf(reason, sizeof reason, "%s", e2.message);
	}
	if (!records) {
		bool fail = x->t->on_bad_page && strcmp(x->t->on_bad_page, "fail") == 0;
		if (fail) {
			json_decref(body);
			return sl_error_set(err, SL_EFORMAT,
					    "http source %s: %s: %s (on_bad_page: fail)", x->label,
					    origin, reason);
		}
		rc = quarantine(x, origin, 0, b->data, b->len, reason, err);
		advance(x, body, 0, true);
		json_decref(body);
		return rc;
	}
	size_t n = json_array_size(records);
	advance(x, body, n, false);
	if (n == 0) {
		json_decref(body);
		return 0;
	}
	int slot = (x->phead + x->pcount) % SL_HTTP_PENDING_MAX;
	x->pending[slot] = (sl_http_page){body, records, 0, sl_strdup(origin)};
	x->pcount++;
	if (!x->pending[slot].origin)
		return sl_http_oom(err);
	return 0;
}

static void page_pop(sl_http_extractor *x)
{
	sl_http_page *p = &x->pending[x->phead];
	json_decref(p->body);
	sl_free(p->origin);
	memset(p, 0, sizeof *p);
	x->phead = (x->phead + 1) % SL_HTTP_PENDING_MAX;
	x->pcount--;
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
	for (int p = 0; p < x->pcount; p++) {
		sl_http_page *pg = &x->pending[(x->phead + p) % SL_HTTP_PENDING_MAX];
		for (size_t r = 0; r < json_array_size(pg->records); r++)
			if ((rc = sl_http_records_infer(&x->rec, json_array_get(pg->records, r),
							err)) < 0)
				return rc;
	}
	return sl_http_records_schema(&x->rec, &x->base.schema, err);
}

/* The cursor column and the lower bound records must pass. */
static int cursor_config(sl_http_extractor *x, sl_error *err)
{
	x->cursor_idx = -1;
	if (!x->t->cursor)
		return 0;
	/* A dotted cursor path names a flattened column: a.b -> a__b. */
	char name[512];
	size_t j = 0;
	for (const char *p = x->t->cursor; *p && j + 3 < sizeof name; p++) {
		if (*p == '.') {
			name[j++] = '_';
			name[j++] = '_';
		} else {
			name[j++] = *p;
		}
	}
	name[j] = '\0';
	x->cursor_idx = sl_schema_find(x->base.schema, name);
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
		x->lower_i = x->old_i - x->t->lookback_micros;
	} else if (ty.id == SL_DATE) {
		int32_t d = 0;
		rc = sl_date_parse(x->wm, n, &d);
		x->old_i = d;
		x->lower_i = d - (x->t->lookback_micros + SL_MICROS_PER_DAY - 1) / SL_MICROS_PER_DAY;
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

static int bad_record(sl_http_extractor *x, sl_http_page *pg, size_t idx, json_t *rec,
		      const char *reason, sl_error *err)
{
	sl_batch_discard_row(x->batch);
	char *raw = json_dumps(rec, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = quarantine(x, pg->origin, (int64_t)idx + 1, raw, raw ? strlen(raw) : 0, reason,
			    err);
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

static int add_record(sl_http_extractor *x, sl_http_page *pg, size_t idx, sl_error *err)
{
	json_t *rec = json_array_get(pg->records, idx);
	sl_batch *b = x->batch;
	char reason[512];
	int rc = sl_http_records_append(&x->rec, b, rec, reason, sizeof reason, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return bad_record(x, pg, idx, rec, reason, err);
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
	while (!sl_batch_full(x->batch)) {
		if (x->pcount == 0) {
			if (!x->more) {
				x->finished = true;
				break;
			}
			if ((rc = fetch_page(x, err)) < 0)
				return rc;
			continue;
		}
		sl_http_page *pg = &x->pending[x->phead];
		size_t n = json_array_size(pg->records);
		while (pg->next < n && !sl_batch_full(x->batch)) {
			rc = add_record(x, pg, pg->next++, err);
			if (rc < 0)
				return rc;
		}
		if (pg->next >= n)
			page_pop(x);
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

static int http_progress(sl_extractor *base, sl_buf *out, sl_error *err)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	char text[64];
	const char *v = http_watermark(x, text);
	if (!v)
		return 0;
	if (sl_buf_puts(out, "{\"watermark\":") < 0 ||
	    sl_buf_put_json_string(out, v, strlen(v)) < 0 || sl_buf_putc(out, '}') < 0)
		return sl_http_oom(err);
	return 0;
}

static int http_checkpoint(sl_extractor *base, sl_error *err)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	char text[64];
	const char *v = x->state ? http_watermark(x, text) : NULL;
	if (!v)
		return 0;
	int rc = sl_state_watermark_set(x->state, x->key, v, err);
	if (rc < 0)
		return sl_error_prefix(err, "http source %s: saving watermark: ", x->label);
	return 0;
}

static void http_close(sl_extractor *base)
{
	sl_http_extractor *x = (sl_http_extractor *)base;
	if (!x)
		return;
	while (x->pcount)
		page_pop(x);
	sl_http_client_free(&x->client);
	curl_slist_free_all(x->headers);
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
	sl_free(x);
}

static const sl_extractor_ops http_ops = {
	.next = http_next,
	.checkpoint = http_checkpoint,
	.progress = http_progress,
	.close = http_close,
};

/* The stored watermark and the value {{ watermark }} expands to. */
static int load_watermark(sl_http_extractor *x, const sl_extract_opts *opts, sl_error *err)
{
	sl_timestamp_format_iso(sl_now_micros(), x->run_start);
	if (opts->full_refresh || !x->state)
		return 0;
	int rc = sl_state_watermark_get(x->state, x->key, &x->wm, err);
	if (rc < 0)
		return sl_error_prefix(err, "http source %s: reading watermark: ", x->label);
	if (x->wm && !*x->wm) {
		sl_free(x->wm);
		x->wm = NULL;
	}
	if (!x->wm)
		return 0;
	int64_t ts;
	char buf[48];
	const char *v = x->wm;
	if (strlen(x->wm) > 10 && sl_timestamp_parse(x->wm, strlen(x->wm), &ts) == 0) {
		sl_timestamp_format_iso(ts - x->t->lookback_micros, buf);
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
	int rc;
	*out = NULL;
	rc = sl_alloc_zeroed((void **)&x, sizeof *x, err);
	if (rc < 0)
		return rc;
	x->base.ops = &http_ops;
	x->src = src;
	x->t = t;
	x->state = opts->state;
	x->on_bad = opts->on_bad;
	x->on_bad_ctx = opts->on_bad_ctx;
	x->cursor_idx = -1;
	x->more = true;
	snprintf(x->key, sizeof x->key, "%s.%s", src->name, t->name);
	snprintf(x->label, sizeof x->label, "%s.%s", src->name, t->name);
	sl_http_records_init(&x->rec, t->flatten && strcmp(t->flatten, "json") == 0, x->label);
	rc = sl_http_client_init(&x->client, &x->base.stats, err);
	if (rc < 0)
		goto fail;
	x->client.max_retries = t->max_retries >= 0 ? t->max_retries : 5;
	if (t->rate_limit > 0)
		x->client.min_interval = 1.0 / t->rate_limit;
	if ((rc = load_watermark(x, opts, err)) < 0 || (rc = sl_http_pagination_config(x, err)) < 0 ||
	    (rc = sl_http_request_config(x, err)) < 0)
		goto fail;
	if (t->flatten && strcmp(t->flatten, "json") != 0 && strcmp(t->flatten, "columns") != 0) {
		rc = sl_error_set(err, SL_ECONFIG, "%s:%d: flatten must be columns or json",
				  sl_http_file(x), t->line);
		goto fail;
	}
	/* Read ahead for type inference; those pages are extracted later. */
	int64_t seen = 0;
	while (x->more && x->pcount < SL_HTTP_PENDING_MAX && seen < SL_HTTP_INFER_RECORDS) {
		int before = x->pcount;
		if ((rc = fetch_page(x, err)) < 0)
			goto fail;
		if (x->pcount > before)
			seen += (int64_t)json_array_size(
				x->pending[(x->phead + x->pcount - 1) % SL_HTTP_PENDING_MAX].records);
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
