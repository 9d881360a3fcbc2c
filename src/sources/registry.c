/*
 * registry.c: the source kinds, looked up by the name users write as
 * kind:, and the helpers kinds share to read their keys through the
 * sl_config that project/ hands them. A new kind is one file in sources/
 * defining its sl_source_kind, and one line in the table below.
 */
#include "sources/sources_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const sl_source_kind *const kinds[] = {
	&sl_kind_csv, &sl_kind_postgres, &sl_kind_http, &sl_kind_s3, NULL,
};

const sl_source_kind *const *sl_source_kinds(void) { return kinds; }

const sl_source_kind *sl_source_kind_find(const char *name)
{
	for (int i = 0; name && kinds[i]; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

int sl_config_fail(sl_config *c, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sl_error_set(c->err, SL_ECONFIG, "%s:%d: %s", c->file ? c->file : "?", line, msg);
}

int sl_config_char(sl_config *c, const char *key, bool allow_empty, char *out)
{
	char *s = NULL;
	int rc = c->ops->str(c, key, &s);
	if (rc < 0 || !s)
		return rc;
	if (strlen(s) == 1) {
		*out = s[0];
		return 0;
	}
	if (strcmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0) {
		*out = '\t';
		return 0;
	}
	if (!*s && allow_empty) {
		*out = '\0';
		return 0;
	}
	return sl_config_fail(c, c->ops->line(c, key),
			      "\"%s\"%s must be a single character, not \"%s\"", key, c->where, s);
}

#define SL_CONFIG_MAX_DURATION (INT64_C(36500) * SL_MICROS_PER_DAY)

int sl_config_duration(sl_config *c, const char *key, int64_t *micros)
{
	char *s = NULL;
	int rc = c->ops->str(c, key, &s);
	if (rc < 0 || !s)
		return rc;
	if (sl_duration_parse(s, micros) < 0)
		return sl_config_fail(c, c->ops->line(c, key),
				      "\"%s\"%s must be a duration like 2h, 15m, 90s or 1d, not "
				      "\"%s\"", key, c->where, s);
	/* A watermark minus a lookback, a deadline: sums that must not
	 * overflow, and nothing needs more than a century. */
	if (*micros > SL_CONFIG_MAX_DURATION)
		return sl_config_fail(c, c->ops->line(c, key),
				      "\"%s\"%s must be at most 36500d (100 years), not \"%s\"",
				      key, c->where, s);
	return 0;
}

int sl_config_lookback(sl_config *c, const sl_source_table *t, int64_t *micros)
{
	char *s = NULL;
	int rc = c->ops->str(c, "lookback", &s);
	if (rc < 0 || !s)
		return rc;
	if ((rc = sl_config_duration(c, "lookback", micros)) < 0)
		return rc;
	if (!t->cursor)
		return sl_config_fail(c, c->ops->line(c, "lookback"),
				      "\"lookback\"%s needs a cursor (the column that grows with each "
				      "change, e.g. cursor: updated_at)", c->where);
	return 0;
}

int sl_config_check_vars(sl_config *c, const char *key, int line, const char *value,
			 bool allow_watermark)
{
	const char *bad = NULL;
	size_t len = 0;
	if (!value || sl_render_check(value, allow_watermark, &bad, &len) == 0)
		return 0;
	return sl_config_fail(c, line > 0 ? line : c->ops->line(c, key),
			      "unknown variable %.*s in \"%s\"%s; use {{ ds }}, "
			      "{{ data_interval_start }} or {{ data_interval_end }}%s",
			      (int)(len > 60 ? 60 : len), bad, key, c->where,
			      allow_watermark ? " (or {{ watermark }})" : "");
}
