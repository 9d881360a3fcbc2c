/*
 * filters.c: the built-in filters ({{ x | name(args) }}) and tests
 * ({% if x is name %}), looked up by name in two tables. Filters behave as
 * Jinja2's do, plus dbt's as_text / as_bool / as_number / as_native.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template_int.h"

typedef struct fctx {
	sl_arena *a;
	sl_error *err;
	const char *name;
	const sl_tpl_value *args; /* positional, keywords placed by the filter's table */
	size_t nargs;
	const sl_tpl_value *raw;  /* as written, for filters taking any arguments */
	size_t nraw;
	const sl_tpl_kwarg *kw;
	size_t nkw;
} fctx;

typedef int (*filter_fn)(fctx *f, const sl_tpl_value *in, sl_tpl_value *out);

static int oom(fctx *f) { return sl_error_set(f->err, SL_ENOMEM, "out of memory"); }

static int fbad(fctx *f, const char *what)
{
	return sl_error_set(f->err, SL_EFORMAT, "filter '%s' %s", f->name, what);
}

/* argument i if given (not undefined) */
static const sl_tpl_value *farg(fctx *f, size_t i)
{
	return i < f->nargs && f->args[i].type != SL_TPL_UNDEFINED ? &f->args[i] : NULL;
}

static bool farg_true(fctx *f, size_t i)
{
	const sl_tpl_value *v = farg(f, i);
	return v && sl_tpl_truthy(v);
}

static int to_str(fctx *f, const sl_tpl_value *v, const char **s, size_t *n)
{
	return tpl_to_str(v, f->a, s, n, f->err);
}

static int str_out(fctx *f, sl_tpl_value *out, const char *s, size_t n)
{
	*out = sl_tpl_string(f->a, s, n);
	return out->type == SL_TPL_STRING ? 0 : oom(f);
}

static int buf_out(fctx *f, sl_tpl_value *out, sl_buf *b, int rc)
{
	if (rc == 0 && b->len > TPL_MAX_STRING)
		rc = sl_error_set(f->err, SL_ELIMIT, "filter '%s' made a string longer than %u MB", f->name,
				  TPL_MAX_STRING >> 20);
	else if (rc == 0)
		rc = str_out(f, out, b->data ? b->data : "", b->len);
	else if (rc == SL_ENOMEM)
		rc = oom(f);
	sl_buf_free(b);
	return rc;
}

static int new_list(fctx *f, sl_tpl_value *out)
{
	*out = sl_tpl_list_new(f->a);
	return out->type == SL_TPL_LIST ? 0 : oom(f);
}

static int push(fctx *f, sl_tpl_value *l, sl_tpl_value v)
{
	return sl_tpl_list_push(f->a, l->u.list, v) < 0 ? oom(f) : 0;
}

/* the items of an iterable: list, dict keys, string characters; undefined: none */
static int items_of(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	int rc;
	switch (in->type) {
	case SL_TPL_LIST:
		*out = *in;
		return 0;
	case SL_TPL_UNDEFINED:
		return new_list(f, out);
	case SL_TPL_DICT:
		if ((rc = new_list(f, out)) < 0)
			return rc;
		for (size_t i = 0; i < in->u.dict->len; i++) {
			const char *k = in->u.dict->keys[i];
			if ((rc = push(f, out, (sl_tpl_value){.type = SL_TPL_STRING,
							       .u.str = {k, strlen(k)}})) < 0)
				return rc;
		}
		return 0;
	case SL_TPL_STRING:
		if (in->u.str.len > TPL_MAX_STRING / 64)
			return sl_error_set(f->err, SL_ELIMIT, "filter '%s': string too long to iterate", f->name);
		if ((rc = new_list(f, out)) < 0)
			return rc;
		for (size_t i = 0; i < in->u.str.len; i++) {
			sl_tpl_value c = sl_tpl_string(f->a, in->u.str.s + i, 1);
			if (c.type != SL_TPL_STRING)
				return oom(f);
			if ((rc = push(f, out, c)) < 0)
				return rc;
		}
		return 0;
	default:
		return sl_error_set(f->err, SL_EFORMAT, "filter '%s' needs something to iterate, not %s",
				    f->name, tpl_type_name(in));
	}
}

/* attribute path "a.b.0" of v; missing parts make it undefined */
static void attr_path(const sl_tpl_value *v, const char *path, sl_tpl_value *out)
{
	sl_tpl_value cur = *v;
	char part[128];
	while (*path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof part)
			n = sizeof part - 1;
		memcpy(part, path, n);
		part[n] = 0;
		path += strcspn(path, ".");
		if (*path == '.')
			path++;
		if (cur.type == SL_TPL_DICT) {
			const sl_tpl_value *x = sl_tpl_dict_get(cur.u.dict, part);
			cur = x ? *x : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
		} else if (cur.type == SL_TPL_LIST && isdigit((unsigned char)part[0])) {
			size_t i = (size_t)strtoull(part, NULL, 10);
			cur = i < cur.u.list->len ? cur.u.list->items[i] : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
		} else {
			cur = (sl_tpl_value){.type = SL_TPL_UNDEFINED};
		}
	}
	*out = cur;
}

/* ----------------------------------------------------------------- strings */

static int case_map(fctx *f, const sl_tpl_value *in, sl_tpl_value *out, int mode)
{
	const char *s;
	size_t n;
	int rc = to_str(f, in, &s, &n);
	if (rc < 0 || (rc = str_out(f, out, s, n)) < 0)
		return rc;
	char *w = (char *)out->u.str.s;
	bool start = true; /* title: a word starts after [-\s({[<] */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];
		switch (mode) {
		case 0: w[i] = (char)tolower(c); break;
		case 1: w[i] = (char)toupper(c); break;
		case 2: w[i] = (char)(i == 0 ? toupper(c) : tolower(c)); break; /* capitalize */
		default:
			w[i] = (char)(start ? toupper(c) : tolower(c));
			start = strchr("-({[< \t\n\r\f\v", c) != NULL && c != 0;
		}
	}
	return 0;
}

static int f_lower(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return case_map(f, in, out, 0); }
static int f_upper(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return case_map(f, in, out, 1); }
static int f_capitalize(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return case_map(f, in, out, 2); }
static int f_title(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return case_map(f, in, out, 3); }

static int f_trim(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const char *s, *chars = NULL;
	size_t n, cn = 0;
	int rc = to_str(f, in, &s, &n);
	if (rc < 0)
		return rc;
	const sl_tpl_value *c = farg(f, 0);
	if (c && c->type == SL_TPL_STRING) {
		chars = c->u.str.s;
		cn = c->u.str.len;
	}
#define STRIPPED(ch) (chars ? memchr(chars, (ch), cn) != NULL : isspace((unsigned char)(ch)))
	while (n && STRIPPED(*s))
		s++, n--;
	while (n && STRIPPED(s[n - 1]))
		n--;
#undef STRIPPED
	return str_out(f, out, s, n);
}

static int f_replace(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const char *s, *from, *to;
	size_t n, fn, tn;
	int rc;
	if (!farg(f, 0) || !farg(f, 1))
		return fbad(f, "takes two arguments (old, new)");
	if ((rc = to_str(f, in, &s, &n)) < 0 || (rc = to_str(f, &f->args[0], &from, &fn)) < 0 ||
	    (rc = to_str(f, &f->args[1], &to, &tn)) < 0)
		return rc;
	const sl_tpl_value *cnt = farg(f, 2);
	int64_t left = cnt && cnt->type == SL_TPL_INT ? cnt->u.i : -1;
	sl_buf b = SL_BUF_INIT;
	rc = 0;
	for (size_t i = 0; i <= n && rc == 0;) {
		if (fn == 0) { /* Python inserts new around every character */
			if (left != 0) {
				rc = sl_buf_append(&b, to, tn);
				left--;
			}
			if (rc == 0 && i < n)
				rc = sl_buf_putc(&b, s[i]);
			i++;
		} else if (i == n) {
			break;
		} else if (left != 0 && i + fn <= n && memcmp(s + i, from, fn) == 0) {
			rc = sl_buf_append(&b, to, tn);
			i += fn;
			left--;
		} else {
			rc = sl_buf_putc(&b, s[i++]);
		}
		if (b.len > TPL_MAX_STRING)
			break; /* buf_out reports it */
	}
	return buf_out(f, out, &b, rc);
}

static int f_default(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	bool use = in->type == SL_TPL_UNDEFINED || (farg_true(f, 1) && !sl_tpl_truthy(in));
	if (!use)
		*out = *in;
	else if (farg(f, 0))
		*out = f->args[0];
	else
		return str_out(f, out, "", 0);
	return 0;
}

static int f_join(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const char *sep = "", *s;
	size_t sn = 0, n;
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0)
		return rc;
	if (farg(f, 0) && (rc = to_str(f, &f->args[0], &sep, &sn)) < 0)
		return rc;
	const sl_tpl_value *attr = farg(f, 1);
	sl_buf b = SL_BUF_INIT;
	for (size_t i = 0; i < items.u.list->len && rc == 0; i++) {
		sl_tpl_value v = items.u.list->items[i];
		if (attr && attr->type == SL_TPL_STRING)
			attr_path(&items.u.list->items[i], attr->u.str.s, &v);
		if ((rc = to_str(f, &v, &s, &n)) < 0)
			break;
		if (i && (rc = sl_buf_append(&b, sep, sn)) < 0)
			break;
		rc = sl_buf_append(&b, s, n);
		if (b.len > TPL_MAX_STRING)
			break; /* buf_out reports it */
	}
	return buf_out(f, out, &b, rc);
}

static int f_length(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	switch (in->type) {
	case SL_TPL_STRING: *out = sl_tpl_int((int64_t)in->u.str.len); return 0;
	case SL_TPL_LIST: *out = sl_tpl_int((int64_t)in->u.list->len); return 0;
	case SL_TPL_DICT: *out = sl_tpl_int((int64_t)in->u.dict->len); return 0;
	case SL_TPL_UNDEFINED: *out = sl_tpl_int(0); return 0;
	default: return fbad(f, "needs a string, list or dict");
	}
}

static int f_string(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const char *s;
	size_t n;
	int rc = to_str(f, in, &s, &n);
	return rc < 0 ? rc : str_out(f, out, s, n);
}

/* indent(width=4, first=False, blank=False) as Jinja 3 */
static int f_indent(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const char *s, *ind = "    ";
	size_t n, il = 4;
	int rc = to_str(f, in, &s, &n);
	if (rc < 0)
		return rc;
	const sl_tpl_value *w = farg(f, 0);
	char spaces[256];
	if (w && w->type == SL_TPL_STRING) {
		ind = w->u.str.s;
		il = w->u.str.len;
	} else if (w && (w->type == SL_TPL_INT || w->type == SL_TPL_BOOL)) {
		int64_t k = w->type == SL_TPL_INT ? w->u.i : w->u.b;
		il = k < 0 ? 0 : k > 255 ? 255 : (size_t)k;
		memset(spaces, ' ', il);
		ind = spaces;
	} else if (w) {
		return fbad(f, "needs a width or a string");
	}
	bool first = farg_true(f, 1), blank = farg_true(f, 2);
	sl_buf b = SL_BUF_INIT;
	if (first)
		rc = sl_buf_append(&b, ind, il);
	/* Jinja appends '\n' then splits lines: a trailing newline stays one */
	size_t i = 0, line = 0;
	while (rc == 0 && i < n) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		size_t le = e > i && s[e - 1] == '\r' ? e - 1 : e;
		if (line > 0) {
			rc = sl_buf_putc(&b, '\n');
			if (rc == 0 && (blank || le > i))
				rc = sl_buf_append(&b, ind, il);
		}
		if (rc == 0)
			rc = sl_buf_append(&b, s + i, le - i);
		line++;
		i = e + 1;
		if (e < n && e + 1 == n) { /* the text ended with a newline */
			rc = rc ? rc : sl_buf_putc(&b, '\n');
			if (rc == 0 && blank)
				rc = sl_buf_append(&b, ind, il);
			break;
		}
	}
	return buf_out(f, out, &b, rc);
}

/* ----------------------------------------------------------------- numbers */

static bool parse_int_str(const char *s, size_t n, int64_t *out)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	char buf[64];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_' && i > 0 && i + 1 < n && isdigit((unsigned char)s[i - 1]) &&
		    isdigit((unsigned char)s[i + 1]))
			continue;
		if (k + 1 >= sizeof buf)
			return false;
		buf[k++] = s[i];
	}
	buf[k] = 0;
	size_t st = buf[0] == '+' || buf[0] == '-' ? 1 : 0;
	if (k == st)
		return false;
	for (size_t i = st; i < k; i++)
		if (!isdigit((unsigned char)buf[i]))
			return false;
	return sl_parse_int64(buf, k, out) == 0;
}

static bool parse_float_str(const char *s, size_t n, double *out)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n > 300)
		return false;
	char buf[320];
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	double d = strtod(buf, &end);
	if (*end || (!isdigit((unsigned char)buf[n - 1]) && buf[n - 1] != '.' &&
		     !strcasecmp(buf + (buf[0] == '-' || buf[0] == '+'), "nan") &&
		     !strcasecmp(buf + (buf[0] == '-' || buf[0] == '+'), "inf")))
		return false;
	if (strchr(buf, 'x') || strchr(buf, 'X')) /* hex floats are not Python's */
		return false;
	*out = d;
	return true;
}

static int f_int(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const sl_tpl_value *def = farg(f, 0);
	int64_t i;
	double d;
	switch (in->type) {
	case SL_TPL_INT: *out = *in; return 0;
	case SL_TPL_BOOL: *out = sl_tpl_int(in->u.b); return 0;
	case SL_TPL_FLOAT:
		if (isfinite(in->u.f) && fabs(in->u.f) < 9.2e18) {
			*out = sl_tpl_int((int64_t)in->u.f);
			return 0;
		}
		break;
	case SL_TPL_STRING:
		if (parse_int_str(in->u.str.s, in->u.str.len, &i)) {
			*out = sl_tpl_int(i);
			return 0;
		}
		if (parse_float_str(in->u.str.s, in->u.str.len, &d) && isfinite(d) && fabs(d) < 9.2e18) {
			*out = sl_tpl_int((int64_t)d);
			return 0;
		}
		break;
	default: break;
	}
	*out = def ? *def : sl_tpl_int(0);
	return 0;
}

static int f_float(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const sl_tpl_value *def = farg(f, 0);
	double d;
	switch (in->type) {
	case SL_TPL_INT: *out = sl_tpl_float((double)in->u.i); return 0;
	case SL_TPL_BOOL: *out = sl_tpl_float(in->u.b); return 0;
	case SL_TPL_FLOAT: *out = *in; return 0;
	case SL_TPL_STRING:
		if (parse_float_str(in->u.str.s, in->u.str.len, &d)) {
			*out = sl_tpl_float(d);
			return 0;
		}
		break;
	default: break;
	}
	*out = def ? *def : sl_tpl_float(0);
	return 0;
}

/* round(precision=0, method='common'): Python's round, half to even */
static int f_round(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const sl_tpl_value *p = farg(f, 0), *m = farg(f, 1);
	int64_t prec = p && p->type == SL_TPL_INT ? p->u.i : 0;
	const char *method = m && m->type == SL_TPL_STRING ? m->u.str.s : "common";
	if (strcmp(method, "common") && strcmp(method, "ceil") && strcmp(method, "floor"))
		return fbad(f, "method must be common, ceil or floor");
	if (in->type == SL_TPL_INT || in->type == SL_TPL_BOOL) {
		if (strcmp(method, "common")) /* math.ceil/floor, then divided: a float */
			*out = sl_tpl_float(in->type == SL_TPL_INT ? (double)in->u.i : in->u.b);
		else
			*out = in->type == SL_TPL_INT ? *in : sl_tpl_int(in->u.b);
		return 0;
	}
	if (in->type != SL_TPL_FLOAT)
		return fbad(f, "needs a number");
	double v = in->u.f, r;
	if (prec > 300)
		prec = 300;
	if (prec < -300)
		prec = -300;
	if (!isfinite(v)) {
		r = v;
	} else if (strcmp(method, "common")) {
		double scale = pow(10, (double)prec);
		r = (method[0] == 'c' ? ceil(v * scale) : floor(v * scale)) / scale;
	} else if (prec >= 0) {
		char buf[400];
		snprintf(buf, sizeof buf, "%.*f", (int)(prec > 60 ? 60 : prec), v);
		r = strtod(buf, NULL);
	} else {
		double scale = pow(10, (double)-prec);
		r = nearbyint(v / scale) * scale;
	}
	*out = sl_tpl_float(r);
	return 0;
}

static int f_abs(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	if (in->type == SL_TPL_INT)
		*out = sl_tpl_int(in->u.i < 0 ? (int64_t)(0 - (uint64_t)in->u.i) : in->u.i);
	else if (in->type == SL_TPL_FLOAT)
		*out = sl_tpl_float(fabs(in->u.f));
	else if (in->type == SL_TPL_BOOL)
		*out = sl_tpl_int(in->u.b);
	else
		return fbad(f, "needs a number");
	return 0;
}

/* ----------------------------------------------------------------- sequences */

static int f_list(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0 || (rc = new_list(f, out)) < 0)
		return rc;
	for (size_t i = 0; i < items.u.list->len; i++)
		if ((rc = push(f, out, items.u.list->items[i])) < 0)
			return rc;
	return 0;
}

static int first_last(fctx *f, const sl_tpl_value *in, sl_tpl_value *out, bool last)
{
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0)
		return rc;
	size_t n = items.u.list->len;
	*out = n ? items.u.list->items[last ? n - 1 : 0] : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	return 0;
}

static int f_first(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return first_last(f, in, out, false); }
static int f_last(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return first_last(f, in, out, true); }

static int f_reverse(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	if (in->type == SL_TPL_STRING) {
		int rc = str_out(f, out, in->u.str.s, in->u.str.len);
		char *w = (char *)out->u.str.s;
		for (size_t i = 0; rc == 0 && i < out->u.str.len / 2; i++) {
			char t = w[i];
			w[i] = w[out->u.str.len - 1 - i];
			w[out->u.str.len - 1 - i] = t;
		}
		return rc;
	}
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0 || (rc = new_list(f, out)) < 0)
		return rc;
	for (size_t i = items.u.list->len; i-- > 0;)
		if ((rc = push(f, out, items.u.list->items[i])) < 0)
			return rc;
	return 0;
}

/* ordering for sort / min / max / unique: Python's, strings folded unless case_sensitive */
typedef struct sort_key {
	sl_tpl_value v;
	bool case_sensitive;
	const char *attr;
} sort_key;

static int cmp_values(fctx *f, const sl_tpl_value *x, const sl_tpl_value *y, bool cs, int *out)
{
	bool nx = x->type == SL_TPL_INT || x->type == SL_TPL_FLOAT || x->type == SL_TPL_BOOL;
	bool ny = y->type == SL_TPL_INT || y->type == SL_TPL_FLOAT || y->type == SL_TPL_BOOL;
	if (nx && ny) {
		double a = x->type == SL_TPL_FLOAT ? x->u.f : x->type == SL_TPL_INT ? (double)x->u.i : x->u.b;
		double b = y->type == SL_TPL_FLOAT ? y->u.f : y->type == SL_TPL_INT ? (double)y->u.i : y->u.b;
		if (x->type == SL_TPL_INT && y->type == SL_TPL_INT)
			*out = x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
		else
			*out = a < b ? -1 : a > b;
		return 0;
	}
	if (x->type == SL_TPL_STRING && y->type == SL_TPL_STRING) {
		size_t n = x->u.str.len < y->u.str.len ? x->u.str.len : y->u.str.len;
		for (size_t i = 0; i < n; i++) {
			int a = (unsigned char)x->u.str.s[i], b = (unsigned char)y->u.str.s[i];
			if (!cs) {
				a = tolower(a);
				b = tolower(b);
			}
			if (a != b) {
				*out = a < b ? -1 : 1;
				return 0;
			}
		}
		*out = x->u.str.len < y->u.str.len ? -1 : x->u.str.len > y->u.str.len;
		return 0;
	}
	if (x->type == SL_TPL_LIST && y->type == SL_TPL_LIST) {
		size_t n = x->u.list->len < y->u.list->len ? x->u.list->len : y->u.list->len;
		for (size_t i = 0; i < n; i++) {
			int rc = cmp_values(f, &x->u.list->items[i], &y->u.list->items[i], cs, out);
			if (rc < 0 || *out)
				return rc;
		}
		*out = x->u.list->len < y->u.list->len ? -1 : x->u.list->len > y->u.list->len;
		return 0;
	}
	return sl_error_set(f->err, SL_EFORMAT, "filter '%s' cannot order %s and %s", f->name,
			    tpl_type_name(x), tpl_type_name(y));
}

/* stable merge sort of v[0..n) by key */
static int merge_sort(fctx *f, sl_tpl_value *v, sl_tpl_value *keys, size_t n, sl_tpl_value *tmp,
		      sl_tpl_value *ktmp, bool cs, bool rev)
{
	if (n < 2)
		return 0;
	size_t h = n / 2;
	int rc;
	if ((rc = merge_sort(f, v, keys, h, tmp, ktmp, cs, rev)) < 0 ||
	    (rc = merge_sort(f, v + h, keys + h, n - h, tmp, ktmp, cs, rev)) < 0)
		return rc;
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		int c;
		if ((rc = cmp_values(f, &keys[j], &keys[i], cs, &c)) < 0)
			return rc;
		bool take_right = rev ? c > 0 : c < 0;
		ktmp[k] = take_right ? keys[j] : keys[i];
		tmp[k++] = take_right ? v[j++] : v[i++];
	}
	while (i < h) {
		ktmp[k] = keys[i];
		tmp[k++] = v[i++];
	}
	while (j < n) {
		ktmp[k] = keys[j];
		tmp[k++] = v[j++];
	}
	memcpy(v, tmp, n * sizeof *v);
	memcpy(keys, ktmp, n * sizeof *keys);
	return 0;
}

/* key of an item: the attribute when given */
static void key_of(const sl_tpl_value *v, const sl_tpl_value *attr, sl_tpl_value *out)
{
	if (attr && attr->type == SL_TPL_STRING)
		attr_path(v, attr->u.str.s, out);
	else if (attr && attr->type == SL_TPL_INT && v->type == SL_TPL_LIST)
		*out = attr->u.i >= 0 && (size_t)attr->u.i < v->u.list->len
			       ? v->u.list->items[attr->u.i] : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	else
		*out = *v;
}

/* sort(reverse=False, case_sensitive=False, attribute=None) */
static int f_sort(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	int rc = f_list(f, in, out);
	if (rc < 0)
		return rc;
	size_t n = out->u.list->len;
	if (n < 2)
		return 0;
	sl_tpl_value *keys = sl_arena_alloc(f->a, 3 * n * sizeof *keys);
	sl_tpl_value *tmp = sl_arena_alloc(f->a, n * sizeof *tmp);
	if (!keys || !tmp)
		return oom(f);
	for (size_t i = 0; i < n; i++)
		key_of(&out->u.list->items[i], farg(f, 2), &keys[i]);
	return merge_sort(f, out->u.list->items, keys, n, tmp, keys + n, farg_true(f, 1),
			  farg_true(f, 0));
}

/* unique(case_sensitive=False, attribute=None): first of each */
static int f_unique(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	sl_tpl_value items, seen;
	int rc = items_of(f, in, &items);
	bool cs = farg_true(f, 0);
	if (rc < 0 || (rc = new_list(f, out)) < 0 || (rc = new_list(f, &seen)) < 0)
		return rc;
	for (size_t i = 0; i < items.u.list->len; i++) {
		sl_tpl_value k;
		key_of(&items.u.list->items[i], farg(f, 1), &k);
		bool dup = false;
		for (size_t j = 0; j < seen.u.list->len && !dup; j++) {
			const sl_tpl_value *s = &seen.u.list->items[j];
			if (!cs && k.type == SL_TPL_STRING && s->type == SL_TPL_STRING) {
				dup = k.u.str.len == s->u.str.len &&
				      strncasecmp(k.u.str.s, s->u.str.s, k.u.str.len) == 0;
			} else {
				dup = tpl_values_equal(&k, s);
			}
		}
		if (!dup && ((rc = push(f, &seen, k)) < 0 || (rc = push(f, out, items.u.list->items[i])) < 0))
			return rc;
	}
	return 0;
}

/* min / max(case_sensitive=False, attribute=None) */
static int min_max(fctx *f, const sl_tpl_value *in, sl_tpl_value *out, bool max)
{
	sl_tpl_value items, best_k = {0};
	int rc = items_of(f, in, &items);
	if (rc < 0)
		return rc;
	*out = (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	for (size_t i = 0; i < items.u.list->len; i++) {
		sl_tpl_value k;
		int c = 0;
		key_of(&items.u.list->items[i], farg(f, 1), &k);
		if (i && (rc = cmp_values(f, &k, &best_k, farg_true(f, 0), &c)) < 0)
			return rc;
		if (i == 0 || (max ? c > 0 : c < 0)) {
			best_k = k;
			*out = items.u.list->items[i];
		}
	}
	return 0;
}

static int f_min(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return min_max(f, in, out, false); }
static int f_max(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return min_max(f, in, out, true); }

/* sum(attribute=None, start=0) */
static int f_sum(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0)
		return rc;
	const sl_tpl_value *start = farg(f, 1);
	bool fl = false;
	int64_t si = 0;
	double sf = 0;
	if (start) {
		if (start->type == SL_TPL_FLOAT)
			fl = true, sf = start->u.f;
		else if (start->type == SL_TPL_INT)
			si = start->u.i;
		else
			return fbad(f, "needs a number to start from");
	}
	for (size_t i = 0; i < items.u.list->len; i++) {
		sl_tpl_value v;
		key_of(&items.u.list->items[i], farg(f, 0), &v);
		if (v.type == SL_TPL_FLOAT) {
			if (!fl)
				sf = (double)si;
			fl = true;
			sf += v.u.f;
		} else if (v.type == SL_TPL_INT || v.type == SL_TPL_BOOL) {
			int64_t x = v.type == SL_TPL_INT ? v.u.i : v.u.b;
			if (fl)
				sf += (double)x;
			else
				si = (int64_t)((uint64_t)si + (uint64_t)x);
		} else {
			return sl_error_set(f->err, SL_EFORMAT, "filter 'sum' cannot add %s",
					    tpl_type_name(&v));
		}
	}
	*out = fl ? sl_tpl_float(sf) : sl_tpl_int(si);
	return 0;
}

/* map(attribute=, default=) or map('filter', args...) */
static int f_map(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0 || (rc = new_list(f, out)) < 0)
		return rc;
	const sl_tpl_value *attr = NULL, *def = NULL;
	for (size_t k = 0; k < f->nkw; k++) {
		if (!strcmp(f->kw[k].name, "attribute"))
			attr = &f->kw[k].value;
		else if (!strcmp(f->kw[k].name, "default"))
			def = &f->kw[k].value;
		else if (f->nraw == 0)
			return sl_error_set(f->err, SL_EFORMAT, "filter 'map' has no argument '%s'", f->kw[k].name);
	}
	if (attr) {
		for (size_t i = 0; i < items.u.list->len; i++) {
			sl_tpl_value v;
			key_of(&items.u.list->items[i], attr, &v);
			if (v.type == SL_TPL_UNDEFINED && def)
				v = *def;
			if ((rc = push(f, out, v)) < 0)
				return rc;
		}
		return 0;
	}
	if (f->nraw == 0 || f->raw[0].type != SL_TPL_STRING)
		return fbad(f, "needs attribute= or a filter name");
	const char *name = f->raw[0].u.str.s;
	if (!tpl_filter_known(name))
		return sl_error_set(f->err, SL_EFORMAT, "unknown filter '%s'", name);
	for (size_t i = 0; i < items.u.list->len; i++) {
		sl_tpl_value v;
		if ((rc = tpl_filter_apply(name, &v, &items.u.list->items[i], f->raw + 1, f->nraw - 1,
					   f->kw, f->nkw, f->a, f->err)) < 0 ||
		    (rc = push(f, out, v)) < 0)
			return rc;
	}
	return 0;
}

/* select / reject (test, args...) and selectattr / rejectattr (attr, test, args...) */
static int select_common(fctx *f, const sl_tpl_value *in, sl_tpl_value *out, bool keep, bool attr)
{
	sl_tpl_value items;
	int rc = items_of(f, in, &items);
	if (rc < 0 || (rc = new_list(f, out)) < 0)
		return rc;
	size_t k = 0;
	const char *path = NULL, *test = NULL;
	if (attr) {
		if (f->nraw < 1 || f->raw[0].type != SL_TPL_STRING)
			return fbad(f, "needs an attribute name");
		path = f->raw[k++].u.str.s;
	}
	if (k < f->nraw) {
		if (f->raw[k].type != SL_TPL_STRING)
			return fbad(f, "needs a test name");
		test = f->raw[k++].u.str.s;
		if (!tpl_test_known(test))
			return sl_error_set(f->err, SL_EFORMAT, "unknown test '%s'", test);
	}
	for (size_t i = 0; i < items.u.list->len; i++) {
		sl_tpl_value v = items.u.list->items[i];
		if (path)
			attr_path(&items.u.list->items[i], path, &v);
		bool pass;
		if (test) {
			if ((rc = tpl_test_apply(test, &v, f->raw + k, f->nraw - k, f->err)) < 0)
				return rc;
			pass = rc == 1;
		} else {
			pass = sl_tpl_truthy(&v);
		}
		if (pass == keep && (rc = push(f, out, items.u.list->items[i])) < 0)
			return rc;
	}
	return 0;
}

static int f_select(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return select_common(f, in, out, true, false); }
static int f_reject(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return select_common(f, in, out, false, false); }
static int f_selectattr(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return select_common(f, in, out, true, true); }
static int f_rejectattr(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return select_common(f, in, out, false, true); }

/* items: a dict's [key, value] pairs */
static int f_items(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	if (in->type == SL_TPL_UNDEFINED)
		return new_list(f, out);
	if (in->type != SL_TPL_DICT)
		return fbad(f, "needs a dict");
	sl_tpl_value d = *in;
	return tpl_method_call(&d, "items", NULL, 0, NULL, 0, out, f->a, f->err);
}

/* dictsort(case_sensitive=False, by='key', reverse=False): [(k, v), ...] */
static int f_dictsort(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	int rc = f_items(f, in, out);
	if (rc < 0)
		return rc;
	const sl_tpl_value *by = farg(f, 1);
	bool by_value = by && by->type == SL_TPL_STRING && !strcmp(by->u.str.s, "value");
	if (by && !by_value && !(by->type == SL_TPL_STRING && !strcmp(by->u.str.s, "key")))
		return fbad(f, "sorts by 'key' or 'value'");
	size_t n = out->u.list->len;
	if (n < 2)
		return 0;
	sl_tpl_value *keys = sl_arena_alloc(f->a, 3 * n * sizeof *keys);
	if (!keys)
		return oom(f);
	for (size_t i = 0; i < n; i++)
		keys[i] = out->u.list->items[i].u.list->items[by_value ? 1 : 0];
	return merge_sort(f, out->u.list->items, keys, n, keys + 2 * n, keys + n, farg_true(f, 0),
			  farg_true(f, 2));
}

/* format(args...): "fmt" % args */
static int f_format(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	if (in->type != SL_TPL_STRING)
		return fbad(f, "needs a format string");
	sl_tpl_value tuple;
	int rc = new_list(f, &tuple);
	if (rc < 0)
		return rc;
	tuple.u.list->tuple = true;
	for (size_t i = 0; i < f->nraw; i++)
		if ((rc = push(f, &tuple, f->raw[i])) < 0)
			return rc;
	if (f->nkw)
		return fbad(f, "takes positional arguments only");
	return tpl_percent_format(in, &tuple, f->a, out, f->err);
}

/* attr(name): the dict's key name (Jinja's getattr), else undefined */
static int f_attr(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const sl_tpl_value *name = farg(f, 0);
	if (!name || name->type != SL_TPL_STRING)
		return fbad(f, "needs an attribute name");
	const sl_tpl_value *v = in->type == SL_TPL_DICT ? sl_tpl_dict_get(in->u.dict, name->u.str.s) : NULL;
	*out = v ? *v : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	return 0;
}

/* batch(n, fill_with=None): lists of n items */
static int f_batch(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	sl_tpl_value items, cur = {0};
	const sl_tpl_value *nv = farg(f, 0), *fill = farg(f, 1);
	int rc = items_of(f, in, &items);
	if (rc < 0)
		return rc;
	if (!nv || nv->type != SL_TPL_INT || nv->u.i < 1)
		return fbad(f, "needs a positive count");
	size_t n = (size_t)nv->u.i, len = items.u.list->len;
	if ((rc = new_list(f, out)) < 0)
		return rc;
	for (size_t i = 0; i < len; i++) {
		if (i % n == 0 && ((rc = new_list(f, &cur)) < 0 || (rc = push(f, out, cur)) < 0))
			return rc;
		if ((rc = push(f, &cur, items.u.list->items[i])) < 0)
			return rc;
	}
	if (fill && len % n)
		for (size_t i = len % n; i < n; i++)
			if ((rc = push(f, &cur, *fill)) < 0)
				return rc;
	return 0;
}

/* dbt's is_list */
static int f_is_list(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	(void)f;
	*out = sl_tpl_bool(in->type == SL_TPL_LIST);
	return 0;
}

/* ----------------------------------------------------------------- json */

static int json_str(sl_buf *b, const char *s, size_t n)
{
	int rc = sl_buf_putc(b, '"');
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = sl_buf_puts(b, "\\\""); break;
		case '\\': rc = sl_buf_puts(b, "\\\\"); break;
		case '\n': rc = sl_buf_puts(b, "\\n"); break;
		case '\r': rc = sl_buf_puts(b, "\\r"); break;
		case '\t': rc = sl_buf_puts(b, "\\t"); break;
		case '\b': rc = sl_buf_puts(b, "\\b"); break;
		case '\f': rc = sl_buf_puts(b, "\\f"); break;
		/* Jinja's htmlsafe dumps */
		case '<': case '>': case '&': case '\'': rc = sl_buf_printf(b, "\\u%04x", c); break;
		default:
			if (c < 0x20) {
				rc = sl_buf_printf(b, "\\u%04x", c);
			} else if (c < 0x80) {
				rc = sl_buf_putc(b, (char)c);
			} else { /* ensure_ascii: UTF-8 as \u escapes */
				uint32_t cp = 0;
				size_t extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
				cp = extra == 3 ? c & 7 : extra == 2 ? c & 15 : extra == 1 ? c & 31 : 0xfffd;
				for (size_t k = 0; k < extra; k++) {
					if (i + 1 >= n || ((unsigned char)s[i + 1] & 0xc0) != 0x80) {
						cp = 0xfffd;
						break;
					}
					cp = (cp << 6) | ((unsigned char)s[++i] & 0x3f);
				}
				if (cp >= 0x10000) {
					cp -= 0x10000;
					rc = sl_buf_printf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
				} else {
					rc = sl_buf_printf(b, "\\u%04x", cp);
				}
			}
		}
	}
	return rc ? rc : sl_buf_putc(b, '"');
}

static int json_nl(sl_buf *b, int indent, int level)
{
	if (indent < 0)
		return 0;
	int rc = sl_buf_putc(b, '\n');
	for (int i = 0; rc == 0 && i < indent * level; i++)
		rc = sl_buf_putc(b, ' ');
	return rc;
}

static int cmp_keys(const void *x, const void *y)
{
	return strcmp(**(const char *const *const *)x, **(const char *const *const *)y);
}

static int json_write(fctx *f, sl_buf *b, const sl_tpl_value *v, int indent, int level)
{
	int rc = 0;
	if (level > 200)
		return fbad(f, "value nested too deep");
	switch (v->type) {
	case SL_TPL_NONE: return sl_buf_puts(b, "null");
	case SL_TPL_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
	case SL_TPL_INT: return sl_buf_printf(b, "%" PRId64, v->u.i);
	case SL_TPL_FLOAT:
		if (isnan(v->u.f))
			return sl_buf_puts(b, "NaN");
		if (isinf(v->u.f))
			return sl_buf_puts(b, v->u.f < 0 ? "-Infinity" : "Infinity");
		return tpl_write_float(b, v->u.f);
	case SL_TPL_STRING: return json_str(b, v->u.str.s, v->u.str.len);
	case SL_TPL_LIST:
		if (v->u.list->len == 0)
			return sl_buf_puts(b, "[]");
		rc = sl_buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++) {
			if (i)
				rc = sl_buf_puts(b, indent >= 0 ? "," : ", ");
			if (rc == 0)
				rc = json_nl(b, indent, level + 1);
			if (rc == 0)
				rc = json_write(f, b, &v->u.list->items[i], indent, level + 1);
		}
		if (rc == 0)
			rc = json_nl(b, indent, level);
		return rc ? rc : sl_buf_putc(b, ']');
	case SL_TPL_DICT: {
		const sl_tpl_dict *d = v->u.dict;
		if (d->len == 0)
			return sl_buf_puts(b, "{}");
		const char ***order = sl_arena_alloc(f->a, d->len * sizeof *order);
		if (!order)
			return SL_ENOMEM;
		for (size_t i = 0; i < d->len; i++)
			order[i] = &d->keys[i];
		qsort(order, d->len, sizeof *order, cmp_keys); /* sort_keys=True */
		rc = sl_buf_putc(b, '{');
		for (size_t i = 0; rc == 0 && i < d->len; i++) {
			size_t k = (size_t)(order[i] - d->keys);
			if (i)
				rc = sl_buf_puts(b, indent >= 0 ? "," : ", ");
			if (rc == 0)
				rc = json_nl(b, indent, level + 1);
			if (rc == 0)
				rc = json_str(b, d->keys[k], strlen(d->keys[k]));
			if (rc == 0)
				rc = sl_buf_puts(b, ": ");
			if (rc == 0)
				rc = json_write(f, b, &d->vals[k], indent, level + 1);
		}
		if (rc == 0)
			rc = json_nl(b, indent, level);
		return rc ? rc : sl_buf_putc(b, '}');
	}
	default:
		return sl_error_set(f->err, SL_EFORMAT, "filter 'tojson': %s is not JSON serializable",
				    tpl_type_name(v));
	}
}

static int f_tojson(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	const sl_tpl_value *ind = farg(f, 0);
	int indent = ind && ind->type == SL_TPL_INT ? (int)(ind->u.i < 0 ? 0 : ind->u.i > 16 ? 16 : ind->u.i) : -1;
	sl_buf b = SL_BUF_INIT;
	int rc = json_write(f, &b, in, indent, 0);
	if (rc < 0 && rc != SL_ENOMEM) {
		sl_buf_free(&b);
		return rc;
	}
	return buf_out(f, out, &b, rc);
}

/* ----------------------------------------------------------------- dbt */

static int f_as_text(fctx *f, const sl_tpl_value *in, sl_tpl_value *out) { return f_string(f, in, out); }

static int convert_fail(fctx *f, const sl_tpl_value *in, const char *type)
{
	const char *s;
	size_t n;
	int rc = to_str(f, in, &s, &n);
	if (rc < 0)
		return rc;
	return sl_error_set(f->err, SL_EFORMAT, "Could not convert value '%.*s' into type '%s'",
			    (int)(n > 80 ? 80 : n), s, type);
}

static bool str_is(const sl_tpl_value *v, const char *w)
{
	size_t n = strlen(w);
	const char *s = v->u.str.s;
	size_t len = v->u.str.len;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len == n && memcmp(s, w, n) == 0;
}

static int f_as_bool(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	if (in->type == SL_TPL_BOOL) {
		*out = *in;
		return 0;
	}
	if (in->type == SL_TPL_STRING) {
		if (str_is(in, "True") || str_is(in, "true")) {
			*out = sl_tpl_bool(true);
			return 0;
		}
		if (str_is(in, "False") || str_is(in, "false")) {
			*out = sl_tpl_bool(false);
			return 0;
		}
	}
	return convert_fail(f, in, "bool");
}

static int f_as_number(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	int64_t i;
	double d;
	if (in->type == SL_TPL_INT || in->type == SL_TPL_FLOAT) {
		*out = *in;
		return 0;
	}
	if (in->type == SL_TPL_STRING) {
		if (parse_int_str(in->u.str.s, in->u.str.len, &i)) {
			*out = sl_tpl_int(i);
			return 0;
		}
		if (parse_float_str(in->u.str.s, in->u.str.len, &d) && isfinite(d)) {
			*out = sl_tpl_float(d);
			return 0;
		}
	}
	return convert_fail(f, in, "number");
}

static int f_as_native(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	int64_t i;
	double d;
	*out = *in;
	if (in->type != SL_TPL_STRING)
		return 0;
	if (parse_int_str(in->u.str.s, in->u.str.len, &i))
		*out = sl_tpl_int(i);
	else if (parse_float_str(in->u.str.s, in->u.str.len, &d) && isfinite(d))
		*out = sl_tpl_float(d);
	else if (str_is(in, "True"))
		*out = sl_tpl_bool(true);
	else if (str_is(in, "False"))
		*out = sl_tpl_bool(false);
	else if (str_is(in, "None"))
		*out = sl_tpl_none();
	return 0;
}

static int f_safe(fctx *f, const sl_tpl_value *in, sl_tpl_value *out)
{
	(void)f;
	*out = *in;
	return 0;
}

/* keyword names, in positional order, each filter accepts; raw: any arguments */
static const struct {
	const char *name;
	filter_fn fn;
	const char *params[4];
	bool raw;
} filters[] = {
	{"lower", f_lower, {NULL}, false},
	{"upper", f_upper, {NULL}, false},
	{"capitalize", f_capitalize, {NULL}, false},
	{"title", f_title, {NULL}, false},
	{"trim", f_trim, {"chars", NULL}, false},
	{"replace", f_replace, {"old", "new", "count", NULL}, false},
	{"default", f_default, {"default_value", "boolean", NULL}, false},
	{"d", f_default, {"default_value", "boolean", NULL}, false},
	{"join", f_join, {"d", "attribute", NULL}, false},
	{"length", f_length, {NULL}, false},
	{"count", f_length, {NULL}, false},
	{"string", f_string, {NULL}, false},
	{"indent", f_indent, {"width", "first", "blank", NULL}, false},
	{"int", f_int, {"default", "base", NULL}, false},
	{"float", f_float, {"default", NULL}, false},
	{"round", f_round, {"precision", "method", NULL}, false},
	{"abs", f_abs, {NULL}, false},
	{"list", f_list, {NULL}, false},
	{"first", f_first, {NULL}, false},
	{"last", f_last, {NULL}, false},
	{"reverse", f_reverse, {NULL}, false},
	{"sort", f_sort, {"reverse", "case_sensitive", "attribute", NULL}, false},
	{"unique", f_unique, {"case_sensitive", "attribute", NULL}, false},
	{"min", f_min, {"case_sensitive", "attribute", NULL}, false},
	{"max", f_max, {"case_sensitive", "attribute", NULL}, false},
	{"sum", f_sum, {"attribute", "start", NULL}, false},
	{"map", f_map, {NULL}, true},
	{"select", f_select, {NULL}, true},
	{"reject", f_reject, {NULL}, true},
	{"selectattr", f_selectattr, {NULL}, true},
	{"rejectattr", f_rejectattr, {NULL}, true},
	{"items", f_items, {NULL}, false},
	{"dictsort", f_dictsort, {"case_sensitive", "by", "reverse", NULL}, false},
	{"tojson", f_tojson, {"indent", NULL}, false},
	{"safe", f_safe, {NULL}, false},
	{"attr", f_attr, {"name", NULL}, false},
	{"format", f_format, {NULL}, true},
	{"batch", f_batch, {"linecount", "fill_with", NULL}, false},
	{"is_list", f_is_list, {NULL}, false},
	{"as_text", f_as_text, {NULL}, false},
	{"as_bool", f_as_bool, {NULL}, false},
	{"as_number", f_as_number, {NULL}, false},
	{"as_native", f_as_native, {NULL}, false},
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
		return sl_error_set(err, SL_EFORMAT, "unknown filter '%s'", name);
	fctx f = {a, err, filters[k].name, NULL, 0, args, nargs, kw, nkw};
	if (filters[k].raw)
		return filters[k].fn(&f, in, out);
	sl_tpl_value all[4];
	size_t n = 0;
	while (n < 4 && filters[k].params[n])
		n++;
	if (nargs > n)
		return sl_error_set(err, SL_EFORMAT, "filter '%s' takes at most %zu argument%s", name,
				    n, n == 1 ? "" : "s");
	size_t used = nargs;
	for (size_t i = 0; i < n; i++)
		all[i] = i < nargs ? args[i] : (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	for (size_t j = 0; j < nkw; j++) {
		size_t i;
		for (i = 0; i < n && strcmp(filters[k].params[i], kw[j].name) != 0; i++)
			;
		if (i == n)
			return sl_error_set(err, SL_EFORMAT, "filter '%s' has no argument '%s'", name,
					    kw[j].name);
		all[i] = kw[j].value;
		if (i + 1 > used)
			used = i + 1;
	}
	f.args = all;
	f.nargs = used;
	return filters[k].fn(&f, in, out);
}

/* ----------------------------------------------------------------- tests */

static const char *const tests[] = {
	"defined", "undefined", "none", "string", "number", "mapping", "iterable", "sequence",
	"callable", "boolean", "integer", "float", "true", "false", "odd", "even",
	"divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=",
	"gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "lower", "upper", NULL};

int tpl_test_known(const char *name)
{
	for (size_t i = 0; tests[i]; i++)
		if (strcmp(tests[i], name) == 0)
			return 1;
	return 0;
}

static bool is_number(const sl_tpl_value *v)
{
	return v->type == SL_TPL_INT || v->type == SL_TPL_FLOAT || v->type == SL_TPL_BOOL;
}

int tpl_test_apply(const char *name, const sl_tpl_value *v, const sl_tpl_value *args,
		   size_t nargs, sl_error *err)
{
	sl_tpl_type t = v->type;
	const sl_tpl_value *x = nargs ? &args[0] : NULL;
#define NEED_ARG()                                                                             \
	do {                                                                                   \
		if (!x)                                                                        \
			return sl_error_set(err, SL_EFORMAT, "test '%s' needs an argument", name); \
	} while (0)
	if (!strcmp(name, "defined")) return t != SL_TPL_UNDEFINED;
	if (!strcmp(name, "undefined")) return t == SL_TPL_UNDEFINED;
	if (!strcmp(name, "none")) return t == SL_TPL_NONE;
	if (!strcmp(name, "string")) return t == SL_TPL_STRING;
	if (!strcmp(name, "number")) return is_number(v);
	if (!strcmp(name, "mapping")) return t == SL_TPL_DICT;
	if (!strcmp(name, "iterable") || !strcmp(name, "sequence"))
		return t == SL_TPL_STRING || t == SL_TPL_LIST || t == SL_TPL_DICT || t == SL_TPL_UNDEFINED;
	if (!strcmp(name, "callable")) return t == SL_TPL_CALLABLE || t == SL_TPL_MACRO;
	if (!strcmp(name, "boolean")) return t == SL_TPL_BOOL;
	if (!strcmp(name, "integer")) return t == SL_TPL_INT;
	if (!strcmp(name, "float")) return t == SL_TPL_FLOAT;
	if (!strcmp(name, "true")) return t == SL_TPL_BOOL && v->u.b;
	if (!strcmp(name, "false")) return t == SL_TPL_BOOL && !v->u.b;
	if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
		if (t != SL_TPL_STRING)
			return 0;
		bool cased = false;
		for (size_t i = 0; i < v->u.str.len; i++) {
			unsigned char c = (unsigned char)v->u.str.s[i];
			if (name[0] == 'l' ? isupper(c) : islower(c))
				return 0;
			cased = cased || isalpha(c);
		}
		return cased;
	}
	if (!strcmp(name, "odd") || !strcmp(name, "even") || !strcmp(name, "divisibleby")) {
		int64_t d = 2;
		if (name[0] == 'd') {
			NEED_ARG();
			if (x->type != SL_TPL_INT || x->u.i == 0)
				return sl_error_set(err, SL_EFORMAT, "test 'divisibleby' needs a nonzero integer");
			d = x->u.i;
		}
		if (t != SL_TPL_INT && t != SL_TPL_BOOL)
			return sl_error_set(err, SL_EFORMAT, "test '%s' needs an integer, not %s", name,
					    tpl_type_name(v));
		int64_t i = t == SL_TPL_INT ? v->u.i : v->u.b;
		int64_t m = d == -1 ? 0 : i % d;
		return name[0] == 'o' ? m != 0 : m == 0;
	}
	if (!strcmp(name, "sameas")) {
		NEED_ARG();
		if (t != x->type)
			return 0;
		switch (t) {
		case SL_TPL_NONE: case SL_TPL_UNDEFINED: return 1;
		case SL_TPL_BOOL: return v->u.b == x->u.b;
		case SL_TPL_LIST: return v->u.list == x->u.list;
		case SL_TPL_DICT: return v->u.dict == x->u.dict;
		default: return tpl_values_equal(v, x);
		}
	}
	if (!strcmp(name, "in")) {
		NEED_ARG();
		if (x->type == SL_TPL_LIST) {
			for (size_t i = 0; i < x->u.list->len; i++)
				if (tpl_values_equal(&x->u.list->items[i], v))
					return 1;
			return 0;
		}
		if (x->type == SL_TPL_DICT)
			return t == SL_TPL_STRING && sl_tpl_dict_get(x->u.dict, v->u.str.s) != NULL;
		if (x->type == SL_TPL_STRING && t == SL_TPL_STRING)
			return v->u.str.len == 0 ||
			       (v->u.str.len <= x->u.str.len && strstr(x->u.str.s, v->u.str.s) != NULL);
		return sl_error_set(err, SL_EFORMAT, "test 'in' needs a list, dict or string");
	}
	/* comparisons */
	NEED_ARG();
	if (!strcmp(name, "eq") || !strcmp(name, "equalto") || !strcmp(name, "=="))
		return tpl_values_equal(v, x);
	if (!strcmp(name, "ne") || !strcmp(name, "!="))
		return !tpl_values_equal(v, x);
	int c;
	if (is_number(v) && is_number(x)) {
		double a = v->type == SL_TPL_FLOAT ? v->u.f : v->type == SL_TPL_INT ? (double)v->u.i : v->u.b;
		double b = x->type == SL_TPL_FLOAT ? x->u.f : x->type == SL_TPL_INT ? (double)x->u.i : x->u.b;
		c = a < b ? -1 : a > b;
	} else if (t == SL_TPL_STRING && x->type == SL_TPL_STRING) {
		c = strcmp(v->u.str.s, x->u.str.s);
	} else {
		return sl_error_set(err, SL_EFORMAT, "test '%s' cannot compare %s and %s", name,
				    tpl_type_name(v), tpl_type_name(x));
	}
	if (!strcmp(name, "lt") || !strcmp(name, "lessthan") || !strcmp(name, "<")) return c < 0;
	if (!strcmp(name, "le") || !strcmp(name, "<=")) return c <= 0;
	if (!strcmp(name, "gt") || !strcmp(name, "greaterthan") || !strcmp(name, ">")) return c > 0;
	return c >= 0;
#undef NEED_ARG
}
