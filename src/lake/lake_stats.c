/*
 * lake_stats.c: a data file's column statistics as typed values (a 2-row
 * batch of minimums and maximums, and null counts) and their one spelling
 * in the log, Delta's `stats` JSON: {"numRecords":N, "minValues":{...},
 * "maxValues":{...}, "nullCount":{...}}. Numbers unquoted (decimals as
 * exact JSON numbers), dates "YYYY-MM-DD", timestamps
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ", strings as JSON strings.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_lake_file_stats_free(sl_lake_file_stats *s)
{
	if (!s)
		return;
	sl_batch_free(s->bounds);
	sl_free(s->null_counts);
	sl_free(s);
}

static int stats_new(sl_lake_file_stats **out, const sl_schema *schema, sl_error *err)
{
	sl_lake_file_stats *s = NULL;
	*out = NULL;
	int rc = sl_alloc_zeroed((void **)&s, sizeof *s, err);
	if (rc < 0)
		return rc;
	s->null_counts = sl_calloc((size_t)schema->nfields + 1, sizeof *s->null_counts);
	if (!s->null_counts) {
		sl_free(s);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < schema->nfields; i++)
		s->null_counts[i] = -1;
	if (schema->nfields > 0) {
		rc = sl_batch_new(&s->bounds, schema, 2, err);
		if (rc == 0)
			rc = sl_batch_reserve(s->bounds, 2, err);
		if (rc < 0) {
			sl_lake_file_stats_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

/*
 * Appends the bound given as JSON text (a number, true/false, or a JSON
 * string) to column c; NULL when it is missing or not a value of c's type.
 * Numbers keep their text, so decimals stay exact.
 */
static int append_bound(sl_column *c, const char *text)
{
	sl_error verr = SL_ERROR_INIT;
	if (!text) {
		sl_column_append_null(c);
		return 0;
	}
	if (text[0] != '"') {
		if (sl_column_append_text(c, text, strlen(text), &verr) < 0) {
			if (verr.code == SL_ENOMEM)
				return SL_ENOMEM;
			sl_column_append_null(c);
		}
		return 0;
	}
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!json_is_string(j) || c->type.id == SL_BOOL || c->type.id == SL_INT32 ||
	    c->type.id == SL_INT64 || c->type.id == SL_FLOAT64 || c->type.id == SL_DECIMAL) {
		json_decref(j);
		sl_column_append_null(c);
		return 0;
	}
	int rc = sl_column_append_text(c, json_string_value(j), json_string_length(j), &verr);
	json_decref(j);
	if (rc < 0) {
		if (verr.code == SL_ENOMEM)
			return SL_ENOMEM;
		sl_column_append_null(c);
	}
	return 0;
}

int sl_lake_stats_from_parquet(sl_lake_file_stats **out, const sl_schema *schema,
			       const sl_parquet_file_stats *fs, sl_error *err)
{
	sl_lake_file_stats *s = NULL;
	int rc = stats_new(&s, schema, err);
	if (rc < 0)
		return rc;
	s->rows = fs->rows;
	for (int i = 0; i < schema->nfields; i++) {
		const sl_parquet_col_stats *c = i < fs->ncols ? &fs->cols[i] : NULL;
		bool mm = c && c->has_minmax && c->min_json && c->max_json;
		if (c)
			s->null_counts[i] = c->null_count;
		if (append_bound(&s->bounds->cols[i], mm ? c->min_json : NULL) < 0 ||
		    append_bound(&s->bounds->cols[i], mm ? c->max_json : NULL) < 0) {
			sl_lake_file_stats_free(s);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
	}
	if (s->bounds)
		s->bounds->nrows = 2;
	*out = s;
	return 0;
}

/* Renders row r of c as a JSON value; 1 when it has none (NULL, not finite). */
static int render(const sl_column *c, int64_t r, sl_buf *b)
{
	char tmp[64];
	if (sl_column_is_null(c, r))
		return 1;
	switch (c->type.id) {
	case SL_BOOL:
		return sl_buf_puts(b, sl_bit_get(c->v.bits, r) ? "true" : "false");
	case SL_INT32:
		return sl_buf_printf(b, "%d", c->v.i32[r]);
	case SL_INT64:
		return sl_buf_printf(b, "%lld", (long long)c->v.i64[r]);
	case SL_FLOAT64: {
		double x = c->v.f64[r];
		if (!isfinite(x))
			return 1;
		int n = 0;
		for (int prec = 15; prec <= 17; prec++) {
			n = snprintf(tmp, sizeof tmp, "%.*g", prec, x);
			if (strtod(tmp, NULL) == x)
				break;
		}
		return sl_buf_append(b, tmp, (size_t)n);
	}
	case SL_DECIMAL: {
		int n = sl_decimal_format(c->v.dec[r], c->type.scale, tmp);
		return sl_buf_append(b, tmp, (size_t)n);
	}
	case SL_DATE: {
		int n = sl_date_format(c->v.i32[r], tmp);
		return sl_buf_printf(b, "\"%.*s\"", n, tmp);
	}
	case SL_TIMESTAMP: {
		int n = sl_timestamp_format_iso6(c->v.i64[r], tmp);
		return sl_buf_printf(b, "\"%.*s\"", n, tmp);
	}
	case SL_STRING: {
		size_t n;
		const char *v = sl_column_str(c, r, &n);
		return sl_buf_put_json_string(b, v, n);
	}
	}
	return 1;
}

char *sl_lake_stats_to_json(const sl_lake_file_stats *s)
{
	static const char *keys[] = {"minValues", "maxValues"};
	sl_buf b = SL_BUF_INIT, v = SL_BUF_INIT;
	const sl_schema *schema = s->bounds ? s->bounds->schema : NULL;
	int n = schema ? schema->nfields : 0;
	int rc = sl_buf_printf(&b, "{\"numRecords\":%lld", (long long)s->rows);
	if (!schema) { /* a row count alone */
		if (rc == 0)
			rc = sl_buf_putc(&b, '}');
		if (rc < 0) {
			sl_buf_free(&b);
			return NULL;
		}
		return sl_buf_detach(&b);
	}
	for (int k = 0; k < 2 && rc == 0; k++) {
		rc = sl_buf_printf(&b, ",\"%s\":{", keys[k]);
		bool first = true;
		for (int i = 0; i < n && rc == 0; i++) {
			/* Both bounds or neither: one alone says nothing exact. */
			const sl_column *c = &s->bounds->cols[i];
			if (sl_column_is_null(c, 0) || sl_column_is_null(c, 1))
				continue;
			sl_buf_reset(&v);
			int r = render(c, k, &v);
			if (r < 0) {
				rc = r;
				break;
			}
			if (r > 0)
				continue;
			if (!first)
				rc = sl_buf_putc(&b, ',');
			first = false;
			const char *name = schema->fields[i].name;
			if (rc == 0)
				rc = sl_buf_put_json_string(&b, name, strlen(name));
			if (rc == 0)
				rc = sl_buf_putc(&b, ':');
			if (rc == 0)
				rc = sl_buf_append(&b, v.data, v.len);
		}
		if (rc == 0)
			rc = sl_buf_putc(&b, '}');
	}
	if (rc == 0)
		rc = sl_buf_puts(&b, ",\"nullCount\":{");
	bool first = true;
	for (int i = 0; i < n && rc == 0; i++) {
		if (s->null_counts[i] < 0)
			continue;
		const char *name = schema->fields[i].name;
		if (!first)
			rc = sl_buf_putc(&b, ',');
		first = false;
		if (rc == 0)
			rc = sl_buf_put_json_string(&b, name, strlen(name));
		if (rc == 0)
			rc = sl_buf_printf(&b, ":%lld", (long long)s->null_counts[i]);
	}
	if (rc == 0)
		rc = sl_buf_puts(&b, "}}");
	sl_buf_free(&v);
	if (rc < 0) {
		sl_buf_free(&b);
		return NULL;
	}
	return sl_buf_detach(&b);
}

/* JSON text of a bound value for append_bound; NULL when it cannot be exact. */
static char *bound_text(json_t *v, sl_type t)
{
	if (!v || json_is_null(v) || json_is_object(v) || json_is_array(v))
		return NULL;
	/* jansson reads big numbers as doubles: exact only for what fits one. */
	if (json_is_real(v) && t.id == SL_DECIMAL && t.precision > 15)
		return NULL;
	if (json_is_real(v) && (t.id == SL_INT64 || t.id == SL_INT32))
		return NULL;
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
	char *out = s ? sl_strdup(s) : NULL;
	free(s);
	return out;
}

int sl_lake_stats_from_json(sl_lake_file_stats **out, const sl_schema *schema, const char *json,
			    sl_error *err)
{
	json_error_t je;
	sl_lake_file_stats *s = NULL;
	*out = NULL;
	json_t *root = json_loads(json ? json : "", 0, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return sl_error_set(err, SL_EFORMAT, "file statistics are not a JSON object: %s",
				    root ? "not an object" : je.text);
	}
	int rc = stats_new(&s, schema, err);
	if (rc < 0)
		goto done;
	json_t *nr = json_object_get(root, "numRecords");
	s->rows = json_is_integer(nr) ? (int64_t)json_integer_value(nr) : 0;
	json_t *mins = json_object_get(root, "minValues");
	json_t *maxs = json_object_get(root, "maxValues");
	json_t *nulls = json_object_get(root, "nullCount");
	for (int i = 0; i < schema->nfields; i++) {
		const sl_field *f = &schema->fields[i];
		json_t *nc = json_object_get(nulls, f->name);
		if (json_is_integer(nc))
			s->null_counts[i] = (int64_t)json_integer_value(nc);
		char *lo = bound_text(json_object_get(mins, f->name), f->type);
		char *hi = lo ? bound_text(json_object_get(maxs, f->name), f->type) : NULL;
		if (!hi) {
			sl_free(lo);
			lo = NULL;
		}
		int a = append_bound(&s->bounds->cols[i], lo);
		int b = append_bound(&s->bounds->cols[i], hi);
		sl_free(lo);
		sl_free(hi);
		if (a < 0 || b < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (s->bounds)
		s->bounds->nrows = 2;
	*out = s;
	s = NULL;
done:
	sl_lake_file_stats_free(s);
	json_decref(root);
	return rc;
}
