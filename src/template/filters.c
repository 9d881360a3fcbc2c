/*
 * filters.c: the built-in filters (lower, upper, trim, replace, default,
 * join, length), looked up by name in one table.
 */
#include <ctype.h>
#include <string.h>

#include "template/template_int.h"

typedef int (*filter_fn)(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
			 size_t nargs, sl_arena *a, sl_error *err);

/* string form of a value, in a */
static int to_str(const sl_tpl_value *v, sl_arena *a, const char **s, size_t *n, sl_error *err)
{
	if (v->type == SL_TPL_STRING) {
		*s = v->u.str.s;
		*n = v->u.str.len;
		return 0;
	}
	sl_buf b = SL_BUF_INIT;
	int rc = sl_tpl_value_write(&b, v);
	char *c = rc == 0 ? sl_arena_strndup(a, b.data ? b.data : "", b.len) : NULL;
	*n = b.len;
	sl_buf_free(&b);
	if (!c)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	*s = c;
	return 0;
}

static int str_out(sl_tpl_value *out, sl_arena *a, const char *s, size_t n, sl_error *err)
{
	*out = sl_tpl_string(a, s, n);
	return out->type == SL_TPL_STRING ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
}

static int case_map(sl_tpl_value *out, const sl_tpl_value *in, sl_arena *a, sl_error *err,
		    int (*f)(int))
{
	const char *s;
	size_t n;
	int rc = to_str(in, a, &s, &n, err);
	if (rc < 0 || (rc = str_out(out, a, s, n, err)) < 0)
		return rc;
	char *w = (char *)out->u.str.s;
	for (size_t i = 0; i < n; i++)
		w[i] = (char)f((unsigned char)w[i]);
	return 0;
}

static int f_lower(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		   size_t nargs, sl_arena *a, sl_error *err)
{
	return case_map(out, in, a, err, tolower);
}

static int f_upper(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		   size_t nargs, sl_arena *a, sl_error *err)
{
	return case_map(out, in, a, err, toupper);
}

static int f_trim(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		  size_t nargs, sl_arena *a, sl_error *err)
{
	const char *s;
	size_t n;
	int rc = to_str(in, a, &s, &n, err);
	if (rc < 0)
		return rc;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return str_out(out, a, s, n, err);
}

static int f_replace(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		     size_t nargs, sl_arena *a, sl_error *err)
{
	const char *s, *from, *to;
	size_t n, fn, tn;
	int rc;
	if (nargs < 2)
		return sl_error_set(err, SL_EINVAL, "filter 'replace' takes two arguments (old, new)");
	if ((rc = to_str(in, a, &s, &n, err)) < 0 || (rc = to_str(&args[0], a, &from, &fn, err)) < 0 ||
	    (rc = to_str(&args[1], a, &to, &tn, err)) < 0)
		return rc;
	sl_buf b = SL_BUF_INIT;
	for (size_t i = 0; i < n && rc == 0;) {
		if (fn && i + fn <= n && memcmp(s + i, from, fn) == 0) {
			rc = sl_buf_append(&b, to, tn);
			i += fn;
		} else {
			rc = sl_buf_putc(&b, s[i++]);
		}
	}
	if (rc == 0)
		rc = str_out(out, a, b.data ? b.data : "", b.len, err);
	else
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_buf_free(&b);
	return rc;
}

static int f_default(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		     size_t nargs, sl_arena *a, sl_error *err)
{
	bool use = in->type == SL_TPL_UNDEFINED ||
		   (nargs > 1 && sl_tpl_truthy(&args[1]) && !sl_tpl_truthy(in));
	if (use)
		*out = nargs > 0 ? args[0] : sl_tpl_string(a, "", 0);
	else
		*out = *in;
	return 0;
}

static int f_join(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		  size_t nargs, sl_arena *a, sl_error *err)
{
	const char *sep = "", *s;
	size_t sn = 0, n;
	int rc = 0;
	if (in->type != SL_TPL_LIST)
		return sl_error_set(err, SL_EINVAL, "filter 'join' needs a list");
	if (nargs > 0 && (rc = to_str(&args[0], a, &sep, &sn, err)) < 0)
		return rc;
	sl_buf b = SL_BUF_INIT;
	for (size_t i = 0; i < in->u.list->len && rc == 0; i++) {
		if ((rc = to_str(&in->u.list->items[i], a, &s, &n, err)) < 0)
			break;
		if (i && (rc = sl_buf_append(&b, sep, sn)) < 0)
			break;
		rc = sl_buf_append(&b, s, n);
	}
	if (rc == 0)
		rc = str_out(out, a, b.data ? b.data : "", b.len, err);
	else if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	sl_buf_free(&b);
	return rc;
}

static int f_length(sl_tpl_value *out, const sl_tpl_value *in, const sl_tpl_value *args,
		    size_t nargs, sl_arena *a, sl_error *err)
{
	switch (in->type) {
	case SL_TPL_STRING: *out = sl_tpl_int((int64_t)in->u.str.len); return 0;
	case SL_TPL_LIST: *out = sl_tpl_int((int64_t)in->u.list->len); return 0;
	case SL_TPL_DICT: *out = sl_tpl_int((int64_t)in->u.dict->len); return 0;
	default: return sl_error_set(err, SL_EINVAL, "filter 'length' needs a string, list or dict");
	}
}

/* keyword names, in positional order, each filter accepts */
static const struct {
	const char *name;
	filter_fn fn;
	const char *params[3];
} filters[] = {
	{"lower", f_lower, {NULL}},
	{"upper", f_upper, {NULL}},
	{"trim", f_trim, {NULL}},
	{"replace", f_replace, {"old", "new", NULL}},
	{"default", f_default, {"default_value", "boolean", NULL}},
	{"d", f_default, {"default_value", "boolean", NULL}},
	{"join", f_join, {"d", NULL}},
	{"length", f_length, {NULL}},
	{"count", f_length, {NULL}},
};

#define NFILTERS (sizeof filters / sizeof filters[0])

static int find(const char *name)
{
	for (size_t i = 0; i < NFILTERS; i++)
		if (strcmp(filters[i].name, name) == 0)
			return (int)i;
	return -1;
}

int tpl_filter_known(const char *name) { return find(name) >= 0; }

int tpl_filter_apply(const char *name, sl_tpl_value *out, const sl_tpl_value *in,
		     const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw, size_t nkw,
		     sl_arena *a, sl_error *err)
{
	int k = find(name);
	if (k < 0)
		return sl_error_set(err, SL_EINVAL, "unknown filter '%s'", name);
	sl_tpl_value all[3];
	size_t n = 0;
	while (n < 3 && filters[k].params[n])
		n++;
	if (nargs > n)
		return sl_error_set(err, SL_EINVAL, "filter '%s' takes at most %zu argument%s", name,
				    n, n == 1 ? "" : "s");
	size_t used = nargs;
	for (size_t i = 0; i < n; i++)
		all[i] = i < nargs ? args[i] : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	for (size_t j = 0; j < nkw; j++) {
		size_t i;
		for (i = 0; i < n && strcmp(filters[k].params[i], kw[j].name) != 0; i++)
			;
		if (i == n)
			return sl_error_set(err, SL_EINVAL, "filter '%s' has no argument '%s'", name,
					    kw[j].name);
		all[i] = kw[j].value;
		if (i + 1 > used)
			used = i + 1;
	}
	return filters[k].fn(out, in, all, used, a, err);
}
