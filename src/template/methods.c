/*
 * methods.c: the Python methods templates call on strings, lists and dicts
 * ('a,b'.split(','), cols.append(c), d.items(), ...). Mutating methods
 * change the value in place and return none, as in Python.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "template/template_int.h"

typedef struct mctx {
	sl_arena *a;
	sl_error *err;
	const char *name;
	const sl_tpl_value *args;
	size_t nargs;
	const sl_tpl_kwarg *kw;
	size_t nkw;
} mctx;

static int oom(mctx *m) { return sl_error_set(m->err, SL_ENOMEM, "out of memory"); }

static int bad(mctx *m, const char *what)
{
	return sl_error_set(m->err, SL_EFORMAT, "%s() %s", m->name, what);
}

/* positional argument i, or keyword kname; NULL when absent */
static const sl_tpl_value *arg(mctx *m, size_t i, const char *kname)
{
	if (i < m->nargs)
		return &m->args[i];
	for (size_t k = 0; kname && k < m->nkw; k++)
		if (strcmp(m->kw[k].name, kname) == 0)
			return &m->kw[k].value;
	return NULL;
}

static int str_arg(mctx *m, size_t i, const char *kname, const char **s, size_t *n)
{
	const sl_tpl_value *v = arg(m, i, kname);
	*s = ""; /* set on every path, errors included */
	*n = 0;
	if (!v || v->type != SL_TPL_STRING)
		return bad(m, "needs a string argument");
	*s = v->u.str.s;
	*n = v->u.str.len;
	return 0;
}

static int str_out(mctx *m, sl_tpl_value *out, const char *s, size_t n)
{
	*out = sl_tpl_string(m->a, s, n);
	return out->type == SL_TPL_STRING ? 0 : oom(m);
}

static int buf_out(mctx *m, sl_tpl_value *out, sl_buf *b, int rc)
{
	if (rc == 0 && b->len > TPL_MAX_STRING)
		rc = sl_error_set(m->err, SL_ELIMIT, "%s() made a string longer than %u MB", m->name,
				  TPL_MAX_STRING >> 20);
	else if (rc == 0)
		rc = str_out(m, out, b->data ? b->data : "", b->len);
	else if (rc == SL_ENOMEM)
		rc = oom(m);
	sl_buf_free(b);
	return rc;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* strip / lstrip / rstrip with optional chars */
static int m_strip(mctx *m, const sl_tpl_value *o, int which, sl_tpl_value *out)
{
	const char *s = o->u.str.s, *chars = NULL;
	size_t n = o->u.str.len, cn = 0;
	const sl_tpl_value *c = arg(m, 0, "chars");
	if (c && c->type == SL_TPL_STRING) {
		chars = c->u.str.s;
		cn = c->u.str.len;
	}
#define STRIPPED(ch) (chars ? memchr(chars, (ch), cn) != NULL : is_ws(ch))
	if (which <= 0)
		while (n && STRIPPED(*s))
			s++, n--;
	if (which >= 0)
		while (n && STRIPPED(s[n - 1]))
			n--;
#undef STRIPPED
	return str_out(m, out, s, n);
}

static int list_push(mctx *m, sl_tpl_value *l, const char *s, size_t n)
{
	sl_tpl_value v = sl_tpl_string(m->a, s, n);
	if (v.type != SL_TPL_STRING || sl_tpl_list_push(m->a, l->u.list, v) < 0)
		return oom(m);
	return 0;
}

static int m_split(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const sl_tpl_value *sep = arg(m, 0, "sep"), *mx = arg(m, 1, "maxsplit");
	int64_t maxsplit = mx && mx->type == SL_TPL_INT ? mx->u.i : -1;
	const char *s = o->u.str.s;
	size_t n = o->u.str.len, i = 0;
	int rc;
	*out = sl_tpl_list_new(m->a);
	if (out->type != SL_TPL_LIST)
		return oom(m);
	if (!sep || sep->type == SL_TPL_NONE) { /* runs of whitespace */
		while (i < n) {
			while (i < n && is_ws(s[i]))
				i++;
			if (i == n)
				break;
			size_t st = i;
			if (maxsplit >= 0 && (int64_t)out->u.list->len == maxsplit) {
				size_t e = n;
				while (e > st && is_ws(s[e - 1]))
					e--;
				return list_push(m, out, s + st, e - st);
			}
			while (i < n && !is_ws(s[i]))
				i++;
			if ((rc = list_push(m, out, s + st, i - st)) < 0)
				return rc;
		}
		return 0;
	}
	if (sep->type != SL_TPL_STRING || sep->u.str.len == 0)
		return bad(m, sep->type == SL_TPL_STRING ? "empty separator" : "needs a string separator");
	size_t sl = sep->u.str.len, st = 0;
	for (i = 0; i + sl <= n;) {
		if ((maxsplit < 0 || (int64_t)out->u.list->len < maxsplit) &&
		    memcmp(s + i, sep->u.str.s, sl) == 0) {
			if ((rc = list_push(m, out, s + st, i - st)) < 0)
				return rc;
			i += sl;
			st = i;
		} else {
			i++;
		}
	}
	return list_push(m, out, s + st, n - st);
}

static int m_replace(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const char *from, *to;
	size_t fn, tn;
	int rc;
	if ((rc = str_arg(m, 0, "old", &from, &fn)) < 0 || (rc = str_arg(m, 1, "new", &to, &tn)) < 0)
		return rc;
	const sl_tpl_value *cnt = arg(m, 2, "count");
	int64_t left = cnt && cnt->type == SL_TPL_INT ? cnt->u.i : -1;
	sl_buf b = SL_BUF_INIT;
	const char *s = o->u.str.s;
	size_t n = o->u.str.len;
	rc = 0;
	if (fn == 0) { /* Python inserts new between every character */
		for (size_t i = 0; i <= n && rc == 0; i++) {
			if (left != 0) {
				rc = sl_buf_append(&b, to, tn);
				left--;
			}
			if (rc == 0 && i < n)
				rc = sl_buf_putc(&b, s[i]);
		}
		return buf_out(m, out, &b, rc);
	}
	for (size_t i = 0; i < n && rc == 0 && b.len <= TPL_MAX_STRING;) {
		if (left != 0 && i + fn <= n && memcmp(s + i, from, fn) == 0) {
			rc = sl_buf_append(&b, to, tn);
			i += fn;
			left--;
		} else {
			rc = sl_buf_putc(&b, s[i++]);
		}
	}
	return buf_out(m, out, &b, rc);
}

/* count / find over a string */
static int m_find(mctx *m, const sl_tpl_value *o, bool count, sl_tpl_value *out)
{
	const char *sub;
	size_t sn;
	int rc = str_arg(m, 0, "sub", &sub, &sn);
	if (rc < 0)
		return rc;
	const char *s = o->u.str.s;
	size_t n = o->u.str.len;
	int64_t c = 0;
	for (size_t i = 0; i + sn <= n;) {
		if (memcmp(s + i, sub, sn) == 0) {
			if (!count) {
				*out = sl_tpl_int((int64_t)i);
				return 0;
			}
			c++;
			i += sn ? sn : 1;
		} else {
			i++;
		}
	}
	if (count && sn == 0)
		c = (int64_t)n + 1;
	*out = sl_tpl_int(count ? c : -1);
	return 0;
}

/* '{} and {0} and {name}'.format(...) without format specs beyond '{:}' */
static int m_format(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	sl_buf b = SL_BUF_INIT;
	const char *s = o->u.str.s;
	size_t n = o->u.str.len, auto_i = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i] == '{' && i + 1 < n && s[i + 1] == '{') {
			rc = sl_buf_putc(&b, '{');
			i++;
			continue;
		}
		if (s[i] == '}' && i + 1 < n && s[i + 1] == '}') {
			rc = sl_buf_putc(&b, '}');
			i++;
			continue;
		}
		if (s[i] != '{') {
			rc = sl_buf_putc(&b, s[i]);
			continue;
		}
		const char *close = memchr(s + i, '}', n - i);
		if (!close) {
			sl_buf_free(&b);
			return bad(m, "found a '{' without '}' in the format string");
		}
		const char *field = s + i + 1;
		size_t fl = (size_t)(close - field);
		const char *colon = memchr(field, ':', fl);
		if (colon)
			fl = (size_t)(colon - field);
		const sl_tpl_value *v = NULL;
		if (fl == 0) {
			v = auto_i < m->nargs ? &m->args[auto_i] : NULL;
			auto_i++;
		} else if (isdigit((unsigned char)field[0])) {
			size_t k = 0;
			for (size_t j = 0; j < fl && isdigit((unsigned char)field[j]) && k < 1000000; j++)
				k = k * 10 + (size_t)(field[j] - '0');
			v = k < m->nargs ? &m->args[k] : NULL;
		} else {
			for (size_t k = 0; k < m->nkw && !v; k++)
				if (strlen(m->kw[k].name) == fl && memcmp(m->kw[k].name, field, fl) == 0)
					v = &m->kw[k].value;
		}
		if (!v) {
			sl_buf_free(&b);
			return sl_error_set(m->err, SL_EFORMAT, "format() has no argument for '{%.*s}'",
					    (int)(fl > 40 ? 40 : fl), field);
		}
		rc = sl_tpl_value_write(&b, v);
		i = (size_t)(close - s);
	}
	return buf_out(m, out, &b, rc);
}

static int m_join(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const sl_tpl_value *l = arg(m, 0, NULL);
	if (!l || l->type != SL_TPL_LIST)
		return bad(m, "needs a list");
	sl_buf b = SL_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < l->u.list->len && rc == 0 && b.len <= TPL_MAX_STRING; i++) {
		const sl_tpl_value *v = &l->u.list->items[i];
		if (v->type != SL_TPL_STRING) {
			sl_buf_free(&b);
			return sl_error_set(m->err, SL_EFORMAT, "join(): item %zu is %s, not a string", i,
					    tpl_type_name(v));
		}
		if (i)
			rc = sl_buf_append(&b, o->u.str.s, o->u.str.len);
		if (rc == 0)
			rc = sl_buf_append(&b, v->u.str.s, v->u.str.len);
	}
	return buf_out(m, out, &b, rc);
}

/* Python's str.title: a letter after a non-letter starts a word */
static int m_title(mctx *m, const sl_tpl_value *o, sl_tpl_value *out, bool capitalize)
{
	int rc = str_out(m, out, o->u.str.s, o->u.str.len);
	if (rc < 0)
		return rc;
	char *w = (char *)out->u.str.s;
	bool prev_alpha = false;
	for (size_t i = 0; i < out->u.str.len; i++) {
		unsigned char c = (unsigned char)w[i];
		if (capitalize)
			w[i] = (char)(i == 0 ? toupper(c) : tolower(c));
		else
			w[i] = (char)(prev_alpha ? tolower(c) : toupper(c));
		prev_alpha = isalpha(c) != 0;
	}
	return 0;
}

static int str_method(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const char *nm = m->name;
	const char *s;
	size_t n;
	int rc;
	if (!strcmp(nm, "upper") || !strcmp(nm, "lower")) {
		if ((rc = str_out(m, out, o->u.str.s, o->u.str.len)) < 0)
			return rc;
		char *w = (char *)out->u.str.s;
		for (size_t i = 0; i < out->u.str.len; i++)
			w[i] = (char)(nm[0] == 'u' ? toupper((unsigned char)w[i]) : tolower((unsigned char)w[i]));
		return 0;
	}
	if (!strcmp(nm, "strip"))
		return m_strip(m, o, 0, out);
	if (!strcmp(nm, "lstrip"))
		return m_strip(m, o, -1, out);
	if (!strcmp(nm, "rstrip"))
		return m_strip(m, o, 1, out);
	if (!strcmp(nm, "split"))
		return m_split(m, o, out);
	if (!strcmp(nm, "replace"))
		return m_replace(m, o, out);
	if (!strcmp(nm, "startswith") || !strcmp(nm, "endswith")) {
		const sl_tpl_value *p = arg(m, 0, NULL);
		size_t np = 1;
		if (p && p->type == SL_TPL_LIST) { /* a tuple of prefixes */
			np = p->u.list->len;
			p = p->u.list->items;
		}
		*out = sl_tpl_bool(false);
		for (size_t k = 0; p && k < np; k++) {
			if (p[k].type != SL_TPL_STRING)
				return bad(m, "needs a string");
			s = p[k].u.str.s;
			n = p[k].u.str.len;
			if (n <= o->u.str.len &&
			    memcmp(nm[0] == 's' ? o->u.str.s : o->u.str.s + o->u.str.len - n, s, n) == 0)
				*out = sl_tpl_bool(true);
		}
		return p ? 0 : bad(m, "needs a string");
	}
	if (!strcmp(nm, "title"))
		return m_title(m, o, out, false);
	if (!strcmp(nm, "capitalize"))
		return m_title(m, o, out, true);
	if (!strcmp(nm, "format"))
		return m_format(m, o, out);
	if (!strcmp(nm, "join"))
		return m_join(m, o, out);
	if (!strcmp(nm, "count"))
		return m_find(m, o, true, out);
	if (!strcmp(nm, "find"))
		return m_find(m, o, false, out);
	if (!strcmp(nm, "isdigit") || !strcmp(nm, "isalpha") || !strcmp(nm, "isalnum") ||
	    !strcmp(nm, "isspace") || !strcmp(nm, "isupper") || !strcmp(nm, "islower")) {
		bool ok = o->u.str.len > 0, cased = false;
		for (size_t i = 0; i < o->u.str.len; i++) {
			unsigned char c = (unsigned char)o->u.str.s[i];
			if (isalpha(c))
				cased = true;
			switch (nm[3]) {
			case 'd': ok = ok && isdigit(c); break;
			case 'a': ok = ok && (nm[5] == 'n' ? isalnum(c) : isalpha(c)); break;
			case 's': ok = ok && is_ws((char)c); break;
			case 'u': ok = ok && !islower(c); break;
			case 'l': ok = ok && !isupper(c); break;
			}
		}
		*out = sl_tpl_bool(ok && (nm[3] == 'u' || nm[3] == 'l' ? cased : true));
		return 0;
	}
	return SL_ENOTFOUND;
}

static int dict_method(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const char *nm = m->name;
	sl_tpl_dict *d = o->u.dict;
	if (!strcmp(nm, "get") || !strcmp(nm, "pop") || !strcmp(nm, "setdefault")) {
		const sl_tpl_value *k = arg(m, 0, NULL), *def = arg(m, 1, NULL);
		if (!k || k->type != SL_TPL_STRING)
			return bad(m, "takes a key and an optional default");
		const sl_tpl_value *v = sl_tpl_dict_get(d, k->u.str.s);
		if (nm[0] == 'g') {
			*out = v ? *v : def ? *def : sl_tpl_none();
			return 0;
		}
		if (nm[0] == 's') {
			if (v) {
				*out = *v;
				return 0;
			}
			*out = def ? *def : sl_tpl_none();
			return sl_tpl_dict_set(m->a, d, k->u.str.s, *out) < 0 ? oom(m) : 0;
		}
		if (!v) {
			if (!def)
				return sl_error_set(m->err, SL_EFORMAT, "pop(): no key '%s'", k->u.str.s);
			*out = *def;
			return 0;
		}
		*out = *v;
		size_t i = (size_t)(v - d->vals);
		const char **keys = sl_arena_alloc(m->a, (d->cap ? d->cap : 1) * sizeof *keys);
		if (!keys) /* the keys may be shared (a loop's): copy before writing */
			return oom(m);
		memcpy(keys, d->keys, d->len * sizeof *keys);
		memmove(keys + i, keys + i + 1, (d->len - i - 1) * sizeof *keys);
		memmove(d->vals + i, d->vals + i + 1, (d->len - i - 1) * sizeof *d->vals);
		d->keys = keys;
		d->len--;
		return 0;
	}
	if (!strcmp(nm, "update")) {
		for (size_t i = 0; i < m->nargs; i++) {
			if (m->args[i].type != SL_TPL_DICT)
				return bad(m, "takes a dict");
			const sl_tpl_dict *s = m->args[i].u.dict;
			for (size_t k = 0; k < s->len; k++)
				if (sl_tpl_dict_set(m->a, d, s->keys[k], s->vals[k]) < 0)
					return oom(m);
		}
		for (size_t k = 0; k < m->nkw; k++)
			if (sl_tpl_dict_set(m->a, d, m->kw[k].name, m->kw[k].value) < 0)
				return oom(m);
		*out = sl_tpl_none();
		return 0;
	}
	if (!strcmp(nm, "copy")) {
		*out = sl_tpl_dict_new(m->a);
		if (out->type != SL_TPL_DICT)
			return oom(m);
		for (size_t k = 0; k < d->len; k++)
			if (sl_tpl_dict_set(m->a, out->u.dict, d->keys[k], d->vals[k]) < 0)
				return oom(m);
		return 0;
	}
	if (strcmp(nm, "items") && strcmp(nm, "keys") && strcmp(nm, "values"))
		return SL_ENOTFOUND;
	*out = sl_tpl_list_new(m->a);
	if (out->type != SL_TPL_LIST)
		return oom(m);
	for (size_t i = 0; i < d->len; i++) {
		sl_tpl_value k = {.type = SL_TPL_STRING, .u.str = {d->keys[i], strlen(d->keys[i])}};
		sl_tpl_value item = nm[0] == 'k' ? k : d->vals[i];
		if (nm[0] == 'i') {
			item = sl_tpl_list_new(m->a);
			if (item.type == SL_TPL_LIST)
				item.u.list->tuple = true;
			if (item.type != SL_TPL_LIST || sl_tpl_list_push(m->a, item.u.list, k) < 0 ||
			    sl_tpl_list_push(m->a, item.u.list, d->vals[i]) < 0)
				return oom(m);
		}
		if (sl_tpl_list_push(m->a, out->u.list, item) < 0)
			return oom(m);
	}
	return 0;
}

static int list_method(mctx *m, const sl_tpl_value *o, sl_tpl_value *out)
{
	const char *nm = m->name;
	sl_tpl_list *l = o->u.list;
	const sl_tpl_value *x = arg(m, 0, NULL);
	*out = sl_tpl_none();
	if (!strcmp(nm, "append")) {
		if (!x)
			return bad(m, "takes one argument");
		return sl_tpl_list_push(m->a, l, *x) < 0 ? oom(m) : 0;
	}
	if (!strcmp(nm, "extend")) {
		if (!x || x->type != SL_TPL_LIST)
			return bad(m, "takes a list");
		size_t n = x->u.list->len; /* x may be l itself */
		for (size_t i = 0; i < n; i++)
			if (sl_tpl_list_push(m->a, l, x->u.list->items[i]) < 0)
				return oom(m);
		return 0;
	}
	if (!strcmp(nm, "insert")) {
		const sl_tpl_value *v = arg(m, 1, NULL);
		if (!x || !v || x->type != SL_TPL_INT)
			return bad(m, "takes an index and a value");
		int64_t len = (int64_t)l->len, i = x->u.i < 0 ? x->u.i + len : x->u.i;
		i = i < 0 ? 0 : i > len ? len : i;
		if (sl_tpl_list_push(m->a, l, *v) < 0)
			return oom(m);
		memmove(l->items + i + 1, l->items + i, (size_t)(len - i) * sizeof *l->items);
		l->items[i] = *v;
		return 0;
	}
	if (!strcmp(nm, "pop")) {
		int64_t len = (int64_t)l->len, i = len - 1;
		if (x) {
			if (x->type != SL_TPL_INT)
				return bad(m, "takes an index");
			i = x->u.i < 0 ? x->u.i + len : x->u.i;
		}
		if (i < 0 || i >= len)
			return sl_error_set(m->err, SL_EFORMAT, "pop(): index out of range");
		*out = l->items[i];
		memmove(l->items + i, l->items + i + 1, (size_t)(len - i - 1) * sizeof *l->items);
		l->len--;
		return 0;
	}
	if (!strcmp(nm, "index") || !strcmp(nm, "count") || !strcmp(nm, "remove")) {
		if (!x)
			return bad(m, "takes one argument");
		int64_t c = 0, first = -1;
		for (size_t i = 0; i < l->len; i++)
			if (tpl_values_equal(&l->items[i], x)) {
				if (first < 0)
					first = (int64_t)i;
				c++;
			}
		if (nm[0] == 'c') {
			*out = sl_tpl_int(c);
			return 0;
		}
		if (first < 0)
			return sl_error_set(m->err, SL_EFORMAT, "%s(): value not in list", nm);
		if (nm[0] == 'i') {
			*out = sl_tpl_int(first);
			return 0;
		}
		memmove(l->items + first, l->items + first + 1, (l->len - (size_t)first - 1) * sizeof *l->items);
		l->len--;
		return 0;
	}
	if (!strcmp(nm, "reverse")) {
		for (size_t i = 0; i < l->len / 2; i++) {
			sl_tpl_value t = l->items[i];
			l->items[i] = l->items[l->len - 1 - i];
			l->items[l->len - 1 - i] = t;
		}
		return 0;
	}
	if (!strcmp(nm, "copy")) {
		*out = sl_tpl_list_new(m->a);
		if (out->type != SL_TPL_LIST)
			return oom(m);
		for (size_t i = 0; i < l->len; i++)
			if (sl_tpl_list_push(m->a, out->u.list, l->items[i]) < 0)
				return oom(m);
		return 0;
	}
	return SL_ENOTFOUND;
}

int tpl_method_call(sl_tpl_value *obj, const char *name, const sl_tpl_value *args,
		    size_t nargs, const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out,
		    sl_arena *a, sl_error *err)
{
	mctx m = {a, err, name, args, nargs, kw, nkw};
	switch (obj->type) {
	case SL_TPL_STRING: return str_method(&m, obj, out);
	case SL_TPL_DICT: return dict_method(&m, obj, out);
	case SL_TPL_LIST: return list_method(&m, obj, out);
	default: return SL_ENOTFOUND;
	}
}
