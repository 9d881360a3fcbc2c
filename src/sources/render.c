/*
 * render.c: the logical-date variables of source options — {{ ds }},
 * {{ data_interval_start }}, {{ data_interval_end }} — substituted in
 * URLs, params, headers, bodies, paths, queries and where conditions. A
 * small substitution, not a template language: "{{", optional spaces, a
 * name, optional spaces, "}}"; anything else in braces is an unknown
 * variable, reported at load time.
 */
#include "sources/sources_int.h"

#include <stdio.h>
#include <string.h>

void sl_render_vars_of(sl_render_vars *out, const sl_extract_opts *opts)
{
	int64_t now = sl_now_micros();
	int64_t day = now >= 0 ? now / SL_MICROS_PER_DAY : (now + 1) / SL_MICROS_PER_DAY - 1;
	memset(out, 0, sizeof *out);
	if (opts && opts->ds)
		snprintf(out->ds, sizeof out->ds, "%s", opts->ds);
	else
		sl_date_format((int32_t)day, out->ds);
	if (opts && opts->data_interval_start)
		snprintf(out->data_interval_start, sizeof out->data_interval_start, "%s",
			 opts->data_interval_start);
	else
		sl_timestamp_format_iso(day * SL_MICROS_PER_DAY, out->data_interval_start);
	if (opts && opts->data_interval_end)
		snprintf(out->data_interval_end, sizeof out->data_interval_end, "%s",
			 opts->data_interval_end);
	else
		sl_timestamp_format_iso((day + 1) * SL_MICROS_PER_DAY, out->data_interval_end);
}

/*
 * At s (which starts with "{{"): the length of the whole "{{ name }}" in
 * *len and the name's bounds, or false when no "}}" closes it on the
 * same line.
 */
static bool scan_var(const char *s, size_t *len, const char **name, size_t *nlen)
{
	const char *p = s + 2;
	while (*p == ' ')
		p++;
	const char *n = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '_')
		p++;
	*name = n;
	*nlen = (size_t)(p - n);
	while (*p == ' ')
		p++;
	if (p[0] != '}' || p[1] != '}') {
		const char *close = strstr(s + 2, "}}");
		const char *nl = strchr(s, '\n');
		*len = close && (!nl || close < nl) ? (size_t)(close + 2 - s) : strlen(s);
		*nlen = 0;
		return false;
	}
	*len = (size_t)(p + 2 - s);
	return true;
}

static bool is_name(const char *n, size_t len, const char *want)
{
	return strlen(want) == len && strncmp(n, want, len) == 0;
}

/* The value of a logical-date variable, or NULL when name is not one. */
static const char *var_value(const sl_render_vars *v, const char *n, size_t len)
{
	if (is_name(n, len, "ds"))
		return v ? v->ds : "";
	if (is_name(n, len, "data_interval_start"))
		return v ? v->data_interval_start : "";
	if (is_name(n, len, "data_interval_end"))
		return v ? v->data_interval_end : "";
	return NULL;
}

int sl_render(sl_buf *out, const char *s, const sl_render_vars *v, bool keep_watermark,
	      sl_error *err)
{
	int rc = 0;
	while (*s && rc == 0) {
		const char *open = strstr(s, "{{");
		if (!open) {
			rc = sl_buf_puts(out, s);
			break;
		}
		if (open > s && (rc = sl_buf_append(out, s, (size_t)(open - s))) < 0)
			break;
		const char *name;
		size_t len, nlen;
		bool ok = scan_var(open, &len, &name, &nlen);
		const char *val = ok ? var_value(v, name, nlen) : NULL;
		if (val)
			rc = sl_buf_puts(out, val);
		else if (ok && keep_watermark && is_name(name, nlen, "watermark"))
			rc = sl_buf_append(out, open, len);
		else
			return sl_error_set(err, SL_ECONFIG,
					    "unknown variable %.*s; use {{ ds }}, "
					    "{{ data_interval_start }} or {{ data_interval_end }}%s",
					    (int)(len > 60 ? 60 : len), open,
					    keep_watermark ? " (or {{ watermark }})" : "");
		s = open + len;
	}
	if (rc < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (!out->data && sl_buf_append(out, "", 0) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

int sl_render_check(const char *s, bool allow_watermark, const char **bad, size_t *badlen)
{
	while (s && (s = strstr(s, "{{")) != NULL) {
		const char *name;
		size_t len, nlen;
		bool ok = scan_var(s, &len, &name, &nlen);
		if (!ok || (!var_value(NULL, name, nlen) &&
			    !(allow_watermark && is_name(name, nlen, "watermark")))) {
			*bad = s;
			*badlen = len;
			return SL_ECONFIG;
		}
		s += len;
	}
	return 0;
}

int sl_source_render_str(char **s, const sl_render_vars *v, bool keep_wm, sl_arena *a,
			 const sl_source *src, int line, sl_error *err)
{
	if (!*s || !strstr(*s, "{{"))
		return 0;
	sl_buf b = SL_BUF_INIT;
	int rc = sl_render(&b, *s, v, keep_wm, err);
	if (rc == 0 && !(*s = sl_arena_strndup(a, b.data, b.len)))
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_buf_free(&b);
	if (rc == SL_ECONFIG)
		sl_error_prefix(err, "%s:%d: ", src->file ? src->file : "?", line);
	return rc;
}

int sl_source_render_kvs(sl_kvs *kvs, const sl_render_vars *v, bool keep_wm, sl_arena *a,
			 const sl_source *src, sl_error *err)
{
	bool any = false;
	for (int i = 0; i < kvs->n && !any; i++)
		any = kvs->items[i].value && strstr(kvs->items[i].value, "{{");
	if (!any)
		return 0;
	sl_kv *items = sl_arena_alloc(a, sizeof *items * (size_t)kvs->n);
	if (!items)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	memcpy(items, kvs->items, sizeof *items * (size_t)kvs->n);
	kvs->items = items;
	for (int i = 0; i < kvs->n; i++) {
		int rc = sl_source_render_str(&items[i].value, v, keep_wm, a, src, items[i].line,
					      err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
