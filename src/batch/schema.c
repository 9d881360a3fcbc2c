/* schema.c: type names and parsing; schemas as ordered lists of fields. */
#include "batch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool sl_type_equal(sl_type a, sl_type b)
{
	if (a.id != b.id)
		return false;
	return a.id != SL_DECIMAL || (a.precision == b.precision && a.scale == b.scale);
}

const char *sl_type_name(sl_type t, char *buf, size_t n)
{
	static const char *names[] = {"bool", "int32", "int64", "float64",
				      "decimal", "string", "date", "timestamp"};
	if (t.id == SL_DECIMAL)
		snprintf(buf, n, "decimal(%d,%d)", t.precision, t.scale);
	else
		snprintf(buf, n, "%s", (unsigned)t.id <= SL_TIMESTAMP ? names[t.id] : "?");
	return buf;
}

int sl_type_parse(const char *s, sl_type *out)
{
	static const struct { const char *name; sl_type_id id; } names[] = {
		{"bool", SL_BOOL},       {"boolean", SL_BOOL},     {"int32", SL_INT32},
		{"int", SL_INT32},       {"integer", SL_INT32},    {"int64", SL_INT64},
		{"bigint", SL_INT64},    {"long", SL_INT64},       {"float64", SL_FLOAT64},
		{"double", SL_FLOAT64},  {"float", SL_FLOAT64},    {"string", SL_STRING},
		{"text", SL_STRING},     {"varchar", SL_STRING},   {"date", SL_DATE},
		{"timestamp", SL_TIMESTAMP}, {"datetime", SL_TIMESTAMP},
	};
	char low[64];
	size_t n = 0;
	while (*s == ' ')
		s++;
	for (; s[n] && n + 1 < sizeof low; n++)
		low[n] = (char)tolower((unsigned char)s[n]);
	if (s[n])
		return SL_EINVAL; /* longer than any type name: never cut and accepted */
	while (n && low[n - 1] == ' ')
		n--;
	low[n] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(low, names[i].name) == 0) {
			*out = sl_type_make(names[i].id);
			return 0;
		}
	}
	int p, sc = 0, used = 0;
	if ((sscanf(low, "decimal(%d,%d)%n", &p, &sc, &used) == 2 ||
	     sscanf(low, "numeric(%d,%d)%n", &p, &sc, &used) == 2) &&
	    (size_t)used == n) {
		if (p < 1 || p > SL_DECIMAL_MAX_PRECISION || sc < 0 || sc > p)
			return SL_EINVAL;
		*out = sl_type_decimal(p, sc);
		return 0;
	}
	if ((sscanf(low, "decimal(%d)%n", &p, &used) == 1 ||
	     sscanf(low, "numeric(%d)%n", &p, &used) == 1) && (size_t)used == n) {
		if (p < 1 || p > SL_DECIMAL_MAX_PRECISION)
			return SL_EINVAL;
		*out = sl_type_decimal(p, 0);
		return 0;
	}
	return SL_EINVAL;
}

sl_schema *sl_schema_new(void) { return sl_calloc(1, sizeof(sl_schema)); }

void sl_schema_free(sl_schema *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfields; i++)
		sl_free(s->fields[i].name);
	sl_free(s->fields);
	sl_free(s);
}

int sl_schema_add(sl_schema *s, const char *name, sl_type type, bool nullable)
{
	if (s->nfields == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		sl_field *f = sl_realloc(s->fields, (size_t)cap * sizeof *f);
		if (!f)
			return SL_ENOMEM;
		s->fields = f;
		s->cap = cap;
	}
	char *n = sl_strdup(name);
	if (!n)
		return SL_ENOMEM;
	s->fields[s->nfields].name = n;
	s->fields[s->nfields].type = type;
	s->fields[s->nfields].nullable = nullable;
	s->nfields++;
	return 0;
}

sl_schema *sl_schema_copy(const sl_schema *s)
{
	sl_schema *c = sl_schema_new();
	if (!c)
		return NULL;
	for (int i = 0; i < s->nfields; i++) {
		if (sl_schema_add(c, s->fields[i].name, s->fields[i].type,
				  s->fields[i].nullable) < 0) {
			sl_schema_free(c);
			return NULL;
		}
	}
	return c;
}

int sl_schema_find(const sl_schema *s, const char *name)
{
	for (int i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return i;
	return -1;
}

bool sl_schema_equal(const sl_schema *a, const sl_schema *b)
{
	if (a->nfields != b->nfields)
		return false;
	for (int i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
		    !sl_type_equal(a->fields[i].type, b->fields[i].type))
			return false;
	return true;
}
