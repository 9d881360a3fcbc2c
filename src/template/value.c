/* value.c: template values: constructors, lists and dicts in arenas, truthiness, printing. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template_int.h"

sl_tpl_value sl_tpl_none(void) { return (sl_tpl_value){.type = SL_TPL_NONE}; }
sl_tpl_value sl_tpl_bool(bool b) { return (sl_tpl_value){.type = SL_TPL_BOOL, .u.b = b}; }
sl_tpl_value sl_tpl_int(int64_t i) { return (sl_tpl_value){.type = SL_TPL_INT, .u.i = i}; }
sl_tpl_value sl_tpl_float(double f) { return (sl_tpl_value){.type = SL_TPL_FLOAT, .u.f = f}; }

sl_tpl_value sl_tpl_string(sl_arena *a, const char *s, size_t len)
{
	char *c = sl_arena_strndup(a, s, len);
	if (!c)
		return (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	return (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {c, len}};
}

sl_tpl_value sl_tpl_callable(const char *name, void *data)
{
	return (sl_tpl_value){.type = SL_TPL_CALLABLE, .u.fn = {name, data}};
}

sl_tpl_value sl_tpl_list_new(sl_arena *a)
{
	sl_tpl_list *l = sl_arena_alloc(a, sizeof *l);
	if (!l)
		return (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	memset(l, 0, sizeof *l);
	return (sl_tpl_value){.type = SL_TPL_LIST, .u.list = l};
}

sl_tpl_value sl_tpl_dict_new(sl_arena *a)
{
	sl_tpl_dict *d = sl_arena_alloc(a, sizeof *d);
	if (!d)
		return (sl_tpl_value){.type = SL_TPL_UNDEFINED};
	memset(d, 0, sizeof *d);
	return (sl_tpl_value){.type = SL_TPL_DICT, .u.dict = d};
}

int sl_tpl_list_push(sl_arena *a, sl_tpl_list *l, sl_tpl_value v)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		sl_tpl_value *items = sl_arena_alloc(a, cap * sizeof *items);
		if (!items)
			return SL_ENOMEM;
		if (l->len)
			memcpy(items, l->items, l->len * sizeof *items);
		l->items = items;
		l->cap = cap;
	}
	l->items[l->len++] = v;
	return 0;
}

int sl_tpl_dict_set(sl_arena *a, sl_tpl_dict *d, const char *key, sl_tpl_value v)
{
	for (size_t i = 0; i < d->len; i++)
		if (strcmp(d->keys[i], key) == 0) {
			d->vals[i] = v;
			return 0;
		}
	if (d->len == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4;
		const char **keys = sl_arena_alloc(a, cap * sizeof *keys);
		sl_tpl_value *vals = sl_arena_alloc(a, cap * sizeof *vals);
		if (!keys || !vals)
			return SL_ENOMEM;
		if (d->len) {
			memcpy(keys, d->keys, d->len * sizeof *keys);
			memcpy(vals, d->vals, d->len * sizeof *vals);
		}
		d->keys = keys;
		d->vals = vals;
		d->cap = cap;
	}
	char *k = sl_arena_strdup(a, key);
	if (!k)
		return SL_ENOMEM;
	d->keys[d->len] = k;
	d->vals[d->len++] = v;
	return 0;
}

const sl_tpl_value *sl_tpl_dict_get(const sl_tpl_dict *d, const char *key)
{
	for (size_t i = 0; i < d->len; i++)
		if (strcmp(d->keys[i], key) == 0)
			return &d->vals[i];
	return NULL;
}

bool sl_tpl_truthy(const sl_tpl_value *v)
{
	switch (v->type) {
	case SL_TPL_BOOL: return v->u.b;
	case SL_TPL_INT: return v->u.i != 0;
	case SL_TPL_FLOAT: return v->u.f != 0;
	case SL_TPL_STRING: return v->u.str.len > 0;
	case SL_TPL_LIST: return v->u.list->len > 0;
	case SL_TPL_DICT: return v->u.dict->len > 0;
	case SL_TPL_CALLABLE: return true;
	case SL_TPL_MACRO: return true;
	default: return false;
	}
}

/* repr of a string inside a list or dict, as Python prints it */
static int write_repr_str(sl_buf *out, const char *s, size_t n)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	int rc = sl_buf_putc(out, q);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (s[i] == '\\' || s[i] == q)
			rc = sl_buf_putc(out, '\\');
		if (rc == 0)
			rc = s[i] == '\n' ? sl_buf_puts(out, "\\n") : sl_buf_putc(out, s[i]);
	}
	return rc ? rc : sl_buf_putc(out, q);
}

static int write_value(sl_buf *out, const sl_tpl_value *v, bool nested)
{
	int rc = 0;
	switch (v->type) {
	case SL_TPL_UNDEFINED: return 0;
	case SL_TPL_NONE: return sl_buf_puts(out, "None");
	case SL_TPL_BOOL: return sl_buf_puts(out, v->u.b ? "True" : "False");
	case SL_TPL_INT: return sl_buf_printf(out, "%" PRId64, v->u.i);
	case SL_TPL_FLOAT:
		return tpl_write_float(out, v->u.f);
	case SL_TPL_STRING:
		return nested ? write_repr_str(out, v->u.str.s, v->u.str.len)
			      : sl_buf_append(out, v->u.str.s, v->u.str.len);
	case SL_TPL_LIST:
		rc = sl_buf_putc(out, v->u.list->tuple ? '(' : '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++) {
			if (i)
				rc = sl_buf_puts(out, ", ");
			if (rc == 0)
				rc = write_value(out, &v->u.list->items[i], true);
		}
		if (rc == 0 && v->u.list->tuple && v->u.list->len == 1)
			rc = sl_buf_putc(out, ',');
		return rc ? rc : sl_buf_putc(out, v->u.list->tuple ? ')' : ']');
	case SL_TPL_DICT:
		if (v->u.dict->repr)
			return sl_buf_puts(out, v->u.dict->repr);
		rc = sl_buf_putc(out, '{');
		for (size_t i = 0; rc == 0 && i < v->u.dict->len; i++) {
			if (i)
				rc = sl_buf_puts(out, ", ");
			if (rc == 0)
				rc = write_repr_str(out, v->u.dict->keys[i], strlen(v->u.dict->keys[i]));
			if (rc == 0)
				rc = sl_buf_puts(out, ": ");
			if (rc == 0)
				rc = write_value(out, &v->u.dict->vals[i], true);
		}
		return rc ? rc : sl_buf_putc(out, '}');
	case SL_TPL_CALLABLE:
		return sl_buf_printf(out, "<function %s>", v->u.fn.name ? v->u.fn.name : "?");
	case SL_TPL_MACRO:
		return sl_buf_printf(out, "<Macro '%s'>", v->u.macro.def->s ? v->u.macro.def->s : "?");
	}
	return 0;
}

int sl_tpl_value_write(sl_buf *out, const sl_tpl_value *v)
{
	return write_value(out, v, false);
}

/* Python's repr of a float: the shortest digits that read back the same */
int tpl_write_float(sl_buf *out, double f)
{
	if (isnan(f))
		return sl_buf_puts(out, "nan");
	if (isinf(f))
		return sl_buf_puts(out, f < 0 ? "-inf" : "inf");
	if (f == 0)
		return sl_buf_puts(out, signbit(f) ? "-0.0" : "0.0");
	char e[40];
	int prec;
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, f);
		if (strtod(e, NULL) == f)
			break;
	}
	snprintf(e, sizeof e, "%.*e", prec - 1, f);
	/* e is [-]d[.ddd]e[+-]xx: digits and exponent */
	char digits[24];
	size_t nd = 0;
	const char *q = e;
	bool neg = *q == '-';
	if (neg)
		q++;
	for (; *q && *q != 'e'; q++)
		if (*q != '.')
			digits[nd++] = *q;
	int exp = atoi(q + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int rc = neg ? sl_buf_putc(out, '-') : 0;
	if (rc)
		return rc;
	if (exp < -4 || exp >= 16) {
		rc = sl_buf_putc(out, digits[0]);
		if (rc == 0 && nd > 1)
			rc = sl_buf_putc(out, '.') ? -1 : sl_buf_append(out, digits + 1, nd - 1);
		return rc ? rc : sl_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	}
	if (exp < 0) {
		rc = sl_buf_puts(out, "0.");
		for (int i = 0; rc == 0 && i < -exp - 1; i++)
			rc = sl_buf_putc(out, '0');
		return rc ? rc : sl_buf_append(out, digits, nd);
	}
	for (int i = 0; rc == 0 && i <= exp; i++)
		rc = sl_buf_putc(out, (size_t)i < nd ? digits[i] : '0');
	if (rc == 0)
		rc = sl_buf_putc(out, '.');
	if (rc == 0)
		rc = (size_t)exp + 1 < nd ? sl_buf_append(out, digits + exp + 1, nd - (size_t)exp - 1)
					  : sl_buf_putc(out, '0');
	return rc;
}

int tpl_to_str(const sl_tpl_value *v, sl_arena *a, const char **s, size_t *n, sl_error *err)
{
	if (v->type == SL_TPL_STRING) {
		*s = v->u.str.s;
		*n = v->u.str.len;
		return 0;
	}
	if (v->type == SL_TPL_UNDEFINED) {
		*s = "";
		*n = 0;
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

static bool is_num(const sl_tpl_value *v)
{
	return v->type == SL_TPL_INT || v->type == SL_TPL_FLOAT || v->type == SL_TPL_BOOL;
}

static double num(const sl_tpl_value *v)
{
	return v->type == SL_TPL_FLOAT ? v->u.f : v->type == SL_TPL_INT ? (double)v->u.i : v->u.b;
}

bool tpl_values_equal(const sl_tpl_value *x, const sl_tpl_value *y)
{
	if (is_num(x) && is_num(y)) {
		if (x->type == SL_TPL_FLOAT || y->type == SL_TPL_FLOAT)
			return num(x) == num(y);
		return (x->type == SL_TPL_INT ? x->u.i : x->u.b) == (y->type == SL_TPL_INT ? y->u.i : y->u.b);
	}
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case SL_TPL_UNDEFINED:
	case SL_TPL_NONE: return true;
	case SL_TPL_STRING:
		return x->u.str.len == y->u.str.len && memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
	case SL_TPL_LIST:
		if (x->u.list->len != y->u.list->len)
			return false;
		for (size_t i = 0; i < x->u.list->len; i++)
			if (!tpl_values_equal(&x->u.list->items[i], &y->u.list->items[i]))
				return false;
		return true;
	case SL_TPL_DICT:
		if (x->u.dict == y->u.dict)
			return true;
		if (x->u.dict->len != y->u.dict->len)
			return false;
		for (size_t i = 0; i < x->u.dict->len; i++) {
			const sl_tpl_value *o = sl_tpl_dict_get(y->u.dict, x->u.dict->keys[i]);
			if (!o || !tpl_values_equal(&x->u.dict->vals[i], o))
				return false;
		}
		return true;
	case SL_TPL_CALLABLE: return x->u.fn.data == y->u.fn.data && x->u.fn.name == y->u.fn.name;
	case SL_TPL_MACRO:
		return x->u.macro.def == y->u.macro.def && x->u.macro.closure == y->u.macro.closure;
	default: return false;
	}
}

const char *tpl_type_name(const sl_tpl_value *v)
{
	static const char *const names[] = {"undefined", "none", "bool", "int", "float",
					    "string", "list", "dict", "function", "macro"};
	return (unsigned)v->type < sizeof names / sizeof names[0] ? names[v->type] : "value";
}

/*
 * Python's "fmt" % args: %s %r %d %i %f %F %e %E %g %G %x %X %o %c %% with
 * flags (-+ 0#), width and precision.
 */
int tpl_percent_format(const sl_tpl_value *fmt, const sl_tpl_value *args, sl_arena *a,
		       sl_tpl_value *out, sl_error *err)
{
	const sl_tpl_value *items = args;
	size_t nitems = 1, used = 0;
	if (args->type == SL_TPL_LIST && args->u.list->tuple) {
		items = args->u.list->items;
		nitems = args->u.list->len;
	}
	sl_buf b = SL_BUF_INIT;
	int rc = 0;
	const char *f = fmt->u.str.s;
	size_t n = fmt->u.str.len;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (f[i] != '%') {
			rc = sl_buf_putc(&b, f[i]);
			continue;
		}
		char spec[32] = "%";
		size_t k = 1;
		i++;
		while (i < n && strchr("-+ 0#", f[i]) && k < 8)
			spec[k++] = f[i++];
		long width = 0, prec = -1;
		while (i < n && isdigit((unsigned char)f[i]) && width <= 10000)
			width = width * 10 + (f[i++] - '0');
		if (i < n && f[i] == '.') {
			i++;
			prec = 0;
			while (i < n && isdigit((unsigned char)f[i]) && prec <= 10000)
				prec = prec * 10 + (f[i++] - '0');
		}
		if (width > 10000 || prec > 10000) {
			rc = sl_error_set(err, SL_EFORMAT, "'%%' formatting: width or precision over 10000");
			break;
		}
		if (width)
			k += (size_t)snprintf(spec + k, sizeof spec - k, "%ld", width);
		size_t before_prec = k;
		if (prec >= 0)
			k += (size_t)snprintf(spec + k, sizeof spec - k, ".%ld", prec);
		char c = i < n ? f[i] : 0;
		if (c == '%' && k == 1) {
			rc = sl_buf_putc(&b, '%');
			continue;
		}
		if (!c || !strchr("srdifFeEgGxXoc", c)) {
			rc = sl_error_set(err, SL_EFORMAT, "unsupported format character '%c' in '%%' formatting",
					  c ? c : '?');
			break;
		}
		if (used == nitems) {
			rc = sl_error_set(err, SL_EFORMAT, "not enough arguments for format string");
			break;
		}
		const sl_tpl_value *v = &items[used++];
		bool numeric = v->type == SL_TPL_INT || v->type == SL_TPL_FLOAT || v->type == SL_TPL_BOOL;
		if (c == 's' || c == 'r') {
			sl_buf tmp = SL_BUF_INIT;
			rc = write_value(&tmp, v, c == 'r'); /* %r: repr, quoted */
			k = before_prec; /* the precision cuts the text: passed as '*' */
			if (prec >= 0 && (size_t)prec < tmp.len)
				tmp.len = (size_t)prec;
			spec[k++] = '.';
			spec[k++] = '*';
			spec[k++] = 's';
			spec[k] = 0;
			if (rc == 0) /* width and precision apply as Python's */
				rc = sl_buf_printf(&b, spec, (int)tmp.len, tmp.data ? tmp.data : "");
			sl_buf_free(&tmp);
			continue;
		}
		if (!numeric) {
			rc = sl_error_set(err, SL_EFORMAT, "%%%c format: a number is required, not %s", c,
					  tpl_type_name(v));
			break;
		}
		double d = v->type == SL_TPL_FLOAT ? v->u.f : v->type == SL_TPL_INT ? (double)v->u.i : v->u.b;
		int64_t iv = v->type == SL_TPL_FLOAT ? (isfinite(d) && fabs(d) < 9.2e18 ? (int64_t)d : 0)
			     : v->type == SL_TPL_INT ? v->u.i : v->u.b;
		if (strchr("dixXoc", c)) {
			if (c == 'i')
				c = 'd';
			if (c == 'c') {
				spec[k++] = 'c';
				spec[k] = 0;
				rc = sl_buf_printf(&b, spec, (int)(iv & 0x7f));
				continue;
			}
			spec[k++] = 'l';
			spec[k++] = 'l';
			spec[k++] = c;
			spec[k] = 0;
			rc = sl_buf_printf(&b, spec, (long long)iv);
		} else {
			spec[k++] = c;
			spec[k] = 0;
			rc = sl_buf_printf(&b, spec, d);
		}
	}
	if (rc == 0 && used < nitems)
		rc = sl_error_set(err, SL_EFORMAT, "not all arguments converted during string formatting");
	if (rc == 0) {
		*out = sl_tpl_string(a, b.data ? b.data : "", b.len);
		if (out->type != SL_TPL_STRING)
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	} else if (rc == SL_ENOMEM) {
		sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	sl_buf_free(&b);
	return rc;
}
