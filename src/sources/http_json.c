/*
 * http_json.c: the pure parts of the http source: flattening records into
 * columns, inferring and widening column kinds, records into batch rows,
 * {{ watermark }} templating, Link and Retry-After headers, backoff.
 */
#include "sources/http_int.h"
#include "formats/csv/csv.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ records */

void sl_http_flat_init(sl_http_flat *f)
{
	memset(f, 0, sizeof *f);
	sl_arena_init(&f->arena, 4096);
}

void sl_http_flat_free(sl_http_flat *f)
{
	sl_free(f->names);
	sl_free(f->values);
	sl_arena_free(&f->arena);
	memset(f, 0, sizeof *f);
}

/* prefix "__" key (or key alone) in the arena, without printf. */
static char *flat_join(sl_http_flat *f, const char *prefix, const char *key)
{
	size_t pn = prefix ? strlen(prefix) : 0, kn = strlen(key);
	char *s = sl_arena_alloc(&f->arena, pn + (prefix ? 2 : 0) + kn + 1);
	char *p = s;
	if (!s)
		return NULL;
	if (prefix) {
		memcpy(p, prefix, pn);
		p += pn;
		*p++ = '_';
		*p++ = '_';
	}
	memcpy(p, key, kn + 1);
	return s;
}

static int flat_push(sl_http_flat *f, const char *prefix, const char *key, json_t *v)
{
	if (f->n == f->cap) {
		int cap = f->cap ? f->cap * 2 : 16;
		char **names = sl_realloc(f->names, (size_t)cap * sizeof *names);
		if (!names)
			return SL_ENOMEM;
		f->names = names;
		json_t **values = sl_realloc(f->values, (size_t)cap * sizeof *values);
		if (!values)
			return SL_ENOMEM;
		f->values = values;
		f->cap = cap;
	}
	char *name = flat_join(f, prefix, key);
	if (!name)
		return SL_ENOMEM;
	f->names[f->n] = name;
	f->values[f->n] = v;
	f->n++;
	return 0;
}

static int flatten_into(sl_http_flat *f, const char *prefix, json_t *obj, bool as_json,
			int depth)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int rc;
		if (json_is_object(v) && !as_json && json_object_size(v) > 0 && depth < 32) {
			char *p = flat_join(f, prefix, key);
			if (!p)
				return SL_ENOMEM;
			rc = flatten_into(f, p, v, as_json, depth + 1);
		} else {
			rc = flat_push(f, prefix, key, v);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sl_http_flatten(sl_http_flat *f, json_t *record, bool as_json, sl_error *err)
{
	f->n = 0;
	sl_arena_reset(&f->arena);
	if (!json_is_object(record))
		return sl_error_set(err, SL_EINVAL, "record is not a JSON object");
	int rc = flatten_into(f, NULL, record, as_json, 0);
	if (rc < 0)
		return sl_error_set(err, rc, "out of memory flattening a record");
	return 0;
}

/* Shortest %.15g..%.17g that reads back as the same double. */
static int format_double(double d, char *out, size_t n)
{
	int len = 0;
	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	return len;
}

int sl_http_value_text(json_t *v, sl_buf *out)
{
	char tmp[48];
	sl_buf_reset(out);
	switch (json_typeof(v)) {
	case JSON_STRING:
		return sl_buf_append(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return sl_buf_puts(out, tmp);
	case JSON_REAL:
		format_double(json_real_value(v), tmp, sizeof tmp);
		return sl_buf_puts(out, tmp);
	case JSON_TRUE: return sl_buf_puts(out, "true");
	case JSON_FALSE: return sl_buf_puts(out, "false");
	case JSON_NULL: return 0;
	default: {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s)
			return SL_ENOMEM;
		int rc = sl_buf_puts(out, s);
		free(s);
		return rc;
	}
	}
}

/* ---------------------------------------------------------- inference */

sl_http_kind sl_http_kind_of(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL: return SL_HTTP_K_NULL;
	case JSON_TRUE: case JSON_FALSE: return SL_HTTP_K_BOOL;
	case JSON_INTEGER: return SL_HTTP_K_INT;
	case JSON_REAL: return SL_HTTP_K_FLOAT;
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		int32_t d;
		int64_t t;
		if (n == 10 && sl_date_parse(s, n, &d) == 0)
			return SL_HTTP_K_DATE;
		if (n > 10 && sl_timestamp_parse(s, n, &t) == 0)
			return SL_HTTP_K_TIMESTAMP;
		return SL_HTTP_K_STRING;
	}
	default: return SL_HTTP_K_STRING;
	}
}

sl_http_kind sl_http_widen(sl_http_kind a, sl_http_kind b)
{
	if (a == b || b == SL_HTTP_K_NULL)
		return a;
	if (a == SL_HTTP_K_NULL)
		return b;
	if ((a == SL_HTTP_K_INT && b == SL_HTTP_K_FLOAT) ||
	    (a == SL_HTTP_K_FLOAT && b == SL_HTTP_K_INT))
		return SL_HTTP_K_FLOAT;
	if ((a == SL_HTTP_K_DATE && b == SL_HTTP_K_TIMESTAMP) ||
	    (a == SL_HTTP_K_TIMESTAMP && b == SL_HTTP_K_DATE))
		return SL_HTTP_K_TIMESTAMP;
	return SL_HTTP_K_STRING;
}

sl_type sl_http_kind_type(sl_http_kind k)
{
	switch (k) {
	case SL_HTTP_K_BOOL: return sl_type_make(SL_BOOL);
	case SL_HTTP_K_INT: return sl_type_make(SL_INT64);
	case SL_HTTP_K_FLOAT: return sl_type_make(SL_FLOAT64);
	case SL_HTTP_K_DATE: return sl_type_make(SL_DATE);
	case SL_HTTP_K_TIMESTAMP: return sl_type_make(SL_TIMESTAMP);
	default: return sl_type_make(SL_STRING);
	}
}

/* --------------------------------------------------------- templating */

/* Length of a "{{ watermark }}" at s, or 0. */
static size_t match_watermark(const char *s)
{
	const char *p = s;
	if (p[0] != '{' || p[1] != '{')
		return 0;
	p += 2;
	while (*p == ' ')
		p++;
	if (strncmp(p, "watermark", 9) != 0)
		return 0;
	p += 9;
	while (*p == ' ')
		p++;
	if (p[0] != '}' || p[1] != '}')
		return 0;
	return (size_t)(p + 2 - s);
}

bool sl_http_is_watermark_only(const char *s)
{
	size_t n = s ? match_watermark(s) : 0;
	return n && s[n] == '\0';
}

int sl_http_template(sl_buf *out, const char *s, const char *watermark)
{
	int rc = 0;
	while (*s && rc == 0) {
		size_t m = match_watermark(s);
		if (m) {
			rc = watermark ? sl_buf_puts(out, watermark) : 0;
			s += m;
		} else {
			rc = sl_buf_putc(out, *s++);
		}
	}
	if (rc == 0 && !out->data)
		rc = sl_buf_append(out, "", 0); /* allocated and terminated */
	return rc;
}

/* ------------------------------------------------------------ headers */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether a rel value (quoted or token; may list several) names "next". */
static bool rel_has_next(const char *v, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '"'))
			i++;
		size_t start = i;
		while (i < n && v[i] != ' ' && v[i] != '"')
			i++;
		if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
			return true;
	}
	return false;
}

int sl_http_link_next(const char *header, char **out)
{
	*out = NULL;
	const char *p = header;
	while (p && *p) {
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '<')
			return 0;
		const char *u = p + 1;
		const char *ue = strchr(u, '>');
		if (!ue)
			return 0;
		p = ue + 1;
		bool next = false;
		/* parameters: ; name=value | ; name="value" */
		for (;;) {
			p = skip_ws(p);
			if (*p != ';')
				break;
			p = skip_ws(p + 1);
			const char *name = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
				p++;
			size_t nlen = (size_t)(p - name);
			p = skip_ws(p);
			const char *val = p;
			size_t vlen = 0;
			if (*p == '=') {
				p = skip_ws(p + 1);
				if (*p == '"') {
					val = ++p;
					while (*p && *p != '"')
						p += (*p == '\\' && p[1]) ? 2 : 1;
					vlen = (size_t)(p - val);
					if (*p == '"')
						p++;
				} else {
					val = p;
					while (*p && *p != ';' && *p != ',' && *p != ' ')
						p++;
					vlen = (size_t)(p - val);
				}
			}
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(val, vlen))
				next = true;
		}
		if (next) {
			*out = sl_strndup(u, (size_t)(ue - u));
			return *out ? 1 : SL_ENOMEM;
		}
		/* skip to the next link */
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

int sl_http_retry_after(const char *value, int64_t now, double *secs)
{
	const char *p = skip_ws(value);
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n == 0)
		return SL_EINVAL;
	int64_t v;
	if (sl_parse_int64(p, n, &v) == 0) {
		if (v < 0)
			return SL_EINVAL;
		*secs = (double)v;
		return 0;
	}
	char tmp[128];
	if (n >= sizeof tmp)
		return SL_EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	/* An HTTP date must name a weekday or month; curl_getdate is lenient. */
	if (!isalpha((unsigned char)tmp[0]))
		return SL_EINVAL;
	time_t t = curl_getdate(tmp, NULL);
	if (t == (time_t)-1)
		return SL_EINVAL;
	*secs = (int64_t)t > now ? (double)((int64_t)t - now) : 0.0;
	return 0;
}

double sl_http_backoff(int attempt, double base, double cap, double rnd)
{
	double d = base * pow(2.0, attempt > 30 ? 30 : attempt);
	if (d > cap)
		d = cap;
	return d * (0.5 + 0.5 * rnd);
}

/* ------------------------------------------------------ record -> batch */

void sl_http_records_init(sl_http_records *r, bool as_json, const char *label)
{
	memset(r, 0, sizeof *r);
	r->as_json = as_json;
	r->label = label ? label : "?";
	sl_http_flat_init(&r->flat);
}

void sl_http_records_free(sl_http_records *r)
{
	for (int i = 0; i < r->ncols; i++)
		sl_free(r->cols[i].name);
	sl_free(r->cols);
	sl_free(r->slots);
	sl_http_flat_free(&r->flat);
	sl_buf_free(&r->text);
	memset(r, 0, sizeof *r);
}

/* FNV-1a of a NUL-terminated name. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int slot_find(const sl_http_records *r, const char *name)
{
	if (!r->nslots)
		return -1;
	size_t mask = r->nslots - 1;
	for (size_t j = (size_t)name_hash(name) & mask;; j = (j + 1) & mask) {
		int i = r->slots[j] - 1;
		if (i < 0)
			return -1;
		if (strcmp(r->cols[i].name, name) == 0)
			return i;
	}
}

static void slot_put(sl_http_records *r, int i)
{
	size_t mask = r->nslots - 1;
	size_t j = (size_t)name_hash(r->cols[i].name) & mask;
	while (r->slots[j])
		j = (j + 1) & mask;
	r->slots[j] = i + 1;
}

int sl_http_records_find(sl_http_records *r, const char *name)
{
	if (r->hint < r->ncols && strcmp(r->cols[r->hint].name, name) == 0)
		return r->hint++;
	int i = slot_find(r, name);
	if (i >= 0)
		r->hint = i + 1;
	return i;
}

int sl_http_records_add_col(sl_http_records *r, const char *name, sl_error *err)
{
	int max = r->max_columns > 0 ? r->max_columns : SL_CSV_DEFAULT_MAX_COLUMNS;
	if (r->ncols >= max)
		return sl_error_set(err, SL_ELIMIT,
				    "http source %s: the records have more than max_columns (%d) "
				    "distinct fields; set max_columns on the table to read them",
				    r->label, max);
	if (r->ncols == r->cap) {
		int cap = r->cap ? r->cap * 2 : 16;
		sl_http_col *c = sl_realloc(r->cols, (size_t)cap * sizeof *c);
		if (!c)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		r->cols = c;
		r->cap = cap;
	}
	/* Keep the table at most half full. */
	if ((size_t)(r->ncols + 1) * 2 > r->nslots) {
		size_t n = r->nslots ? r->nslots * 2 : 32;
		int *slots = sl_malloc(n * sizeof *slots);
		if (!slots)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		memset(slots, 0, n * sizeof *slots);
		sl_free(r->slots);
		r->slots = slots;
		r->nslots = n;
		for (int i = 0; i < r->ncols; i++)
			slot_put(r, i);
	}
	sl_http_col *c = &r->cols[r->ncols];
	memset(c, 0, sizeof *c);
	c->stamp = -1;
	if (!(c->name = sl_strdup(name)))
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	slot_put(r, r->ncols);
	return r->ncols++;
}

int sl_http_records_declare(sl_http_records *r, const char *name, sl_type ty, sl_error *err)
{
	int i = sl_http_records_add_col(r, name, err);
	if (i < 0)
		return i;
	r->cols[i].declared = true;
	r->cols[i].type = ty;
	return i;
}

int sl_http_records_infer(sl_http_records *r, json_t *record, sl_error *err)
{
	sl_error e2 = SL_ERROR_INIT;
	int rc = sl_http_flatten(&r->flat, record, r->as_json, &e2);
	if (rc == SL_EINVAL)
		return 0; /* not an object: quarantined when appended */
	if (rc < 0)
		return sl_error_set(err, rc, "%s", e2.message);
	r->hint = 0;
	for (int f = 0; f < r->flat.n; f++) {
		int i = sl_http_records_find(r, r->flat.names[f]);
		if (i < 0 && (i = sl_http_records_add_col(r, r->flat.names[f], err)) < 0)
			return i;
		r->cols[i].kind = sl_http_widen(r->cols[i].kind, sl_http_kind_of(r->flat.values[f]));
	}
	return 0;
}

int sl_http_records_schema(sl_http_records *r, const char *const *keep, size_t nkeep,
			   sl_schema **out, char **renamed, sl_error *err)
{
	sl_schema *s = sl_schema_new();
	char **names = sl_calloc((size_t)r->ncols + 1, sizeof *names);
	sl_buf text = SL_BUF_INIT;
	sl_arena a;
	int64_t nnoted = 0;
	int rc = 0;

	sl_arena_init(&a, 4096);
	*out = NULL;
	if (renamed)
		*renamed = NULL;
	if (!s || !names) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto out;
	}
	/* An empty field name gets its position, as an empty CSV header does. */
	for (int i = 0; i < r->ncols && rc == 0; i++)
		if (!*(names[i] = r->cols[i].name) &&
		    !(names[i] = sl_arena_sprintf(&a, "column%d", i + 1)))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_names_make_unique_keeping(names, (size_t)r->ncols, keep, nkeep, &a, NULL, err);
	for (int i = 0; i < r->ncols && rc == 0; i++) {
		if (!r->cols[i].declared)
			r->cols[i].type = sl_http_kind_type(r->cols[i].kind);
		if (sl_schema_add(s, names[i], r->cols[i].type, true) < 0 ||
		    (names[i] != r->cols[i].name &&
		     sl_names_note_rename(&text, &nnoted, r->cols[i].name, names[i]) < 0))
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (rc == 0 && sl_names_note_end(&text, nnoted) < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0) {
		*out = s;
		s = NULL;
		if (renamed && text.len)
			*renamed = sl_buf_detach(&text);
	}
out:
	sl_schema_free(s);
	sl_free(names);
	sl_buf_free(&text);
	sl_arena_free(&a);
	return rc;
}

/*
 * Appends non-null v to c. Typed values that need no conversion go in
 * directly; the rest go through their text, as the column parses it (the
 * same values and errors either way). 0 or a negative SL_E*: *oom when
 * formatting failed, else the column's (verr for parse errors).
 */
static int append_value(sl_http_records *r, sl_column *c, json_t *v, bool *oom, sl_error *verr)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (c->type.id == SL_STRING)
			return sl_column_append_str(c, json_string_value(v), json_string_length(v));
		return sl_column_append_text(c, json_string_value(v), json_string_length(v), verr);
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);
		if (c->type.id == SL_INT64) {
			sl_column_append_i64(c, (int64_t)i);
			return 0;
		}
		if (c->type.id == SL_INT32 && i >= INT32_MIN && i <= INT32_MAX) {
			sl_column_append_i32(c, (int32_t)i);
			return 0;
		}
		if (c->type.id == SL_FLOAT64) {
			sl_column_append_f64(c, (double)i);
			return 0;
		}
		break;
	}
	case JSON_REAL:
		if (c->type.id == SL_FLOAT64) {
			sl_column_append_f64(c, json_real_value(v));
			return 0;
		}
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		if (c->type.id == SL_BOOL) {
			sl_column_append_bool(c, json_is_true(v));
			return 0;
		}
		break;
	default: break;
	}
	if (sl_http_value_text(v, &r->text) < 0) {
		*oom = true;
		return SL_ENOMEM;
	}
	const char *s = r->text.data ? r->text.data : "";
	if (c->type.id == SL_STRING)
		return sl_column_append_str(c, s, r->text.len);
	return sl_column_append_text(c, s, r->text.len, verr);
}

/* 1 (the record is bad) once its reason is written, or SL_ENOMEM. */
static int bad_reason(int rc, sl_error *err)
{
	return rc < 0 ? sl_error_set(err, SL_ENOMEM, "out of memory") : 1;
}

int sl_http_records_append(sl_http_records *r, sl_batch *b, json_t *record, sl_buf *reason,
			   sl_error *err)
{
	if (sl_http_flatten(&r->flat, record, r->as_json, NULL) < 0) {
		if (!json_is_object(record)) {
			return bad_reason(sl_buf_puts(reason, "record is not a JSON object"), err);
		}
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	int64_t serial = ++r->row_serial;
	r->hint = 0;
	for (int f = 0; f < r->flat.n; f++) {
		json_t *v = r->flat.values[f];
		int i = sl_http_records_find(r, r->flat.names[f]);
		if (i < 0) {
			if (json_is_null(v))
				continue; /* carries no data */
			return bad_reason(sl_buf_printf(reason,
							"unexpected field \"%s\": not in the schema "
							"inferred from the first pages; declare it in "
							"columns:",
							r->flat.names[f]),
					  err);
		}
		sl_http_col *col = &r->cols[i];
		if (col->stamp == serial) {
			return bad_reason(sl_buf_printf(reason,
							"field \"%s\" appears twice after flattening",
					    r->flat.names[f]), err);
		}
		col->stamp = serial;
		sl_column *c = &b->cols[i];
		if (json_is_null(v)) {
			sl_column_append_null(c);
			continue;
		}
		sl_error verr = SL_ERROR_INIT;
		bool oom = false;
		int rc = append_value(r, c, v, &oom, &verr);
		if (rc >= 0)
			continue;
		if (oom)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (c->type.id != SL_STRING) {
			return bad_reason(
				sl_buf_printf(reason, "field \"%s\": %s", col->name, verr.message), err);
		}
		return sl_error_set(err, rc, "http source %s: field \"%s\": string data too large "
				    "for one batch", r->label, col->name);
	}
	for (int i = 0; i < r->ncols; i++)
		if (r->cols[i].stamp != serial)
			sl_column_append_null(&b->cols[i]);
	return 0;
}
