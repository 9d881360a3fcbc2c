/* value.c: template values: constructors, lists and dicts in arenas, truthiness, printing. */
#include <inttypes.h>
#include <math.h>
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
	case SL_TPL_FLOAT: {
		double f = v->u.f;
		if (isfinite(f) && f == floor(f) && fabs(f) < 1e16)
			return sl_buf_printf(out, "%.1f", f);
		return sl_buf_printf(out, "%.17g", f);
	}
	case SL_TPL_STRING:
		return nested ? write_repr_str(out, v->u.str.s, v->u.str.len)
			      : sl_buf_append(out, v->u.str.s, v->u.str.len);
	case SL_TPL_LIST:
		rc = sl_buf_putc(out, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++) {
			if (i)
				rc = sl_buf_puts(out, ", ");
			if (rc == 0)
				rc = write_value(out, &v->u.list->items[i], true);
		}
		return rc ? rc : sl_buf_putc(out, ']');
	case SL_TPL_DICT:
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
		return sl_buf_puts(out, "<macro>");
	}
	return 0;
}

int sl_tpl_value_write(sl_buf *out, const sl_tpl_value *v)
{
	return write_value(out, v, false);
}
