/*
 * models_freshness.c: source freshness — freshness: {warn_after,
 * error_after, filter} read from properties YAML (a table's over its
 * source's, `freshness: null` turning it off), checked (count a whole
 * number, period minute, hour or day), measured in the warehouse
 * (max(loaded_at_field) against the warehouse's clock) and judged.
 */
#include "models/models_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(sl_error *err) { return sl_error_set(err, SL_ENOMEM, "out of memory"); }

const char *sl_fresh_status_name(sl_fresh_status s)
{
	static const char *const names[] = {"pass", "warn", "error", "runtime error"};
	return (unsigned)s < 4 ? names[s] : "?";
}

sl_fresh_status sl_freshness_judge(const sl_freshness *f, double age_seconds)
{
	if (!f || !f->set)
		return SL_FRESH_PASS;
	if (f->error_after.seconds > 0 && age_seconds > (double)f->error_after.seconds)
		return SL_FRESH_ERROR;
	if (f->warn_after.seconds > 0 && age_seconds > (double)f->warn_after.seconds)
		return SL_FRESH_WARN;
	return SL_FRESH_PASS;
}

void sl_freshness_result_free(sl_freshness_result *r)
{
	if (!r)
		return;
	sl_free(r->message);
	sl_free(r->sql);
	r->message = r->sql = NULL;
}

static int line_of(yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }

static bool is_null(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = m_yaml_str(n);
	return !*s || strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static int read_rule(sl_models *m, yaml_document_t *doc, yaml_node_t *r, const char *key,
		     sl_freshness_rule *out, const char *rel, sl_error *err)
{
	if (!r)
		return 0;
	if (is_null(r)) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	const char *hint = "{count: 12, period: hour}";
	if (r->type != YAML_MAPPING_NODE)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: freshness %s must be a mapping of a "
				    "count and a period: %s: %s", rel, line_of(r), key, key, hint);
	yaml_node_t *c = m_yaml_get(doc, r, "count"), *p = m_yaml_get(doc, r, "period");
	const char *cs = m_yaml_str(c), *ps = m_yaml_str(p);
	if (!cs || !ps)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: freshness %s needs a count and a period "
				    "(minute, hour or day): %s: %s", rel, line_of(r), key, key, hint);
	int64_t count = 0;
	if (sl_parse_int64(cs, strlen(cs), &count) < 0 || count <= 0)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: freshness %s count \"%s\" is not a whole "
				    "number greater than 0; use e.g. count: 12", rel, line_of(c),
				    key, cs);
	static const struct {
		const char *name;
		int64_t secs;
	} periods[] = {{"minute", 60}, {"hour", 3600}, {"day", 86400}};
	for (int i = 0; i < 3; i++)
		if (strcmp(ps, periods[i].name) == 0) {
			out->count = count;
			out->period = periods[i].name;
			out->seconds = count * periods[i].secs;
			return 0;
		}
	(void)m;
	return sl_error_set(err, SL_ECONFIG, "%s:%d: freshness %s period \"%s\" is not minute, hour "
			    "or day; use e.g. period: hour", rel, line_of(p), key, ps);
}

int m_read_freshness(sl_models *m, yaml_document_t *doc, yaml_node_t *fr, sl_freshness *f,
		     const char *rel, sl_error *err)
{
	if (!fr)
		return 0;
	if (is_null(fr)) {
		memset(f, 0, sizeof *f);
		return 0;
	}
	if (fr->type != YAML_MAPPING_NODE)
		return sl_error_set(err, SL_ECONFIG, "%s:%d: freshness must be a mapping: freshness: "
				    "{warn_after: {count: 12, period: hour}, error_after: {count: "
				    "24, period: hour}}", rel, line_of(fr));
	f->set = true;
	int rc = read_rule(m, doc, m_yaml_get(doc, fr, "warn_after"), "warn_after", &f->warn_after,
			   rel, err);
	if (rc == 0)
		rc = read_rule(m, doc, m_yaml_get(doc, fr, "error_after"), "error_after",
			       &f->error_after, rel, err);
	yaml_node_t *flt = m_yaml_get(doc, fr, "filter");
	if (rc == 0 && flt) {
		const char *s = m_yaml_str(flt);
		f->filter = s && *s && !is_null(flt) ? m_strdup(m, s) : NULL;
	}
	return rc;
}

/* ----------------------------------------------------------- measuring */

typedef struct fresh_row {
	char *max, *now;
	bool got;
} fresh_row;

static int on_row(void *ud, int ncols, const char *const *names, const char *const *values,
		  sl_error *err)
{
	fresh_row *r = ud;
	(void)names;
	if (r->got || ncols < 2)
		return 1;
	r->got = true;
	r->max = values[0] ? sl_strdup(values[0]) : NULL;
	r->now = values[1] ? sl_strdup(values[1]) : NULL;
	if ((values[0] && !r->max) || (values[1] && !r->now))
		return oom(err);
	return 0;
}

/* A timestamp as the warehouse printed it (ISO text, or epoch seconds). */
static int parse_ts(const char *s, int64_t *us)
{
	size_t n = strlen(s);
	double d;
	if (n && strspn(s, "0123456789.") == n && !strchr(s, '-') &&
	    sl_parse_double(s, n, &d) == 0 && n < 14) {
		*us = (int64_t)(d * 1e6);
		return 0;
	}
	return sl_timestamp_parse(s, n, us);
}

/* printf into a new sl_malloc'd string, NULL on OOM. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	char *s = n >= 0 ? sl_malloc((size_t)n + 1) : NULL;
	if (s) {
		va_start(ap, f);
		vsnprintf(s, (size_t)n + 1, f, ap);
		va_end(ap);
	}
	return s;
}

static void age_text(double secs, char *out, size_t n)
{
	if (secs < 120)
		snprintf(out, n, "%.0f seconds", secs);
	else if (secs < 7200)
		snprintf(out, n, "%.0f minutes", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, n, "%.1f hours", secs / 3600);
	else
		snprintf(out, n, "%.1f days", secs / 86400);
}

int sl_models_freshness(sl_models *m, int s, sl_wh *wh, sl_freshness_result *res,
			sl_error *err)
{
	memset(res, 0, sizeof *res);
	res->status = SL_FRESH_RUNTIME_ERROR;
	const sl_model_source *src = sl_models_source_at(m, s);
	if (!src)
		return sl_error_set(err, SL_EINVAL, "no source %d", s);
	const m_source *ms = m_find_source(m, src->source, src->table);
	const char *field = ms ? ms->info.loaded_at_field : NULL;
	const sl_freshness *f = ms ? &ms->info.freshness : &src->freshness;
	if (!field || !*field)
		return sl_error_set(err, SL_EUSAGE, "source %s.%s has no loaded_at_field; set "
				    "loaded_at_field: <column> on the source or the table",
				    src->source, src->table);
	bool pg = strcmp(sl_wh_type(wh), "postgres") == 0;
	sl_buf q = SL_BUF_INIT;
	int rc = sl_buf_printf(&q, "select max(%s) as max_loaded_at, %s as snapshotted_at from ",
			       field, pg ? "now()" : "strftime('%Y-%m-%d %H:%M:%f', 'now')");
	if (rc == 0)
		rc = sl_wh_quote_table(wh, &q, src->schema, src->identifier ? src->identifier
									    : src->table, err);
	if (rc == 0 && f->filter)
		rc = sl_buf_printf(&q, " where %s", f->filter);
	if (rc < 0) {
		sl_buf_free(&q);
		return rc == SL_ENOMEM ? oom(err) : rc;
	}
	res->sql = sl_buf_detach(&q);
	fresh_row row = {0};
	rc = sl_wh_query(wh, res->sql, on_row, &row, err);
	if (rc == 0 && row.now && parse_ts(row.now, &res->snapshotted_at) < 0)
		rc = sl_error_set(err, SL_EDB, "source %s.%s: the warehouse's time \"%s\" is not a "
				  "timestamp", src->source, src->table, row.now);
	if (rc == 0 && row.max && parse_ts(row.max, &res->max_loaded_at) < 0)
		rc = sl_error_set(err, SL_EDB, "source %s.%s: max(%s) is \"%s\", not a timestamp; "
				  "loaded_at_field must name a timestamp column (UTC)",
				  src->source, src->table, field, row.max);
	/* no rows: nothing to measure (dbt's runtime error too) */
	if (rc == 0 && !row.max)
		rc = sl_error_set(err, SL_EDB, "source %s.%s has no rows%s: max(%s) is null, so "
				  "its freshness cannot be measured", src->source, src->table,
				  f->filter ? " matching its freshness filter" : "", field);
	if (rc < 0) {
		res->message = sl_strdup(err->message);
		sl_free(row.max);
		sl_free(row.now);
		return rc;
	}
	res->age_seconds = (double)(res->snapshotted_at - res->max_loaded_at) / 1e6;
	res->status = sl_freshness_judge(f, res->age_seconds);
	if (res->status != SL_FRESH_PASS) {
		const sl_freshness_rule *r = res->status == SL_FRESH_ERROR ? &f->error_after
									   : &f->warn_after;
		char age[64];
		age_text(res->age_seconds, age, sizeof age);
		res->message = fmt("source %s.%s was last loaded %s ago (max(%s) = %s), older "
				   "than %s %lld %s%s", src->source, src->table, age, field, row.max,
				   res->status == SL_FRESH_ERROR ? "error_after" : "warn_after",
				   (long long)r->count, r->period, r->count == 1 ? "" : "s");
		if (!res->message)
			rc = oom(err);
	}
	sl_free(row.max);
	sl_free(row.now);
	return rc;
}
