/*
 * render.c: walks a parsed template and writes its output. Values made
 * while rendering live in the render's arena; names resolve in the
 * innermost scope first (a for loop's body, a macro call and a with block
 * are scopes of their own), then through the host's lookup callback, then
 * the built-in globals (range, dict, namespace). Macros are values: a call
 * renders the macro's body against the env of the render that calls it.
 */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template_int.h"

/* internal unwinding codes: never returned to callers of the module */
#define UNWIND_RETURN (-1001)
#define UNWIND_BREAK (-1002)
#define UNWIND_CONTINUE (-1003)

#define MAX_MACRO_DEPTH 100
#define MAX_RANGE 10000000

typedef struct scope {
	struct scope *up;
	sl_tpl_dict *vars;
} scope;

typedef struct render {
	const sl_tpl *t; /* the template whose code runs (for messages) */
	const sl_tpl_env *env;
	sl_arena *a;
	sl_buf *out;
	sl_error *err;
	sl_tpl_value retval; /* UNWIND_RETURN: the value */
	const tpl_node *ret_at;
	sl_tpl_dict *globals; /* the host's answers so far: one value per name per render */
} render;

/* macros being rendered in this thread, across nested renders */
static _Thread_local int macro_depth;

/* built-in functions: callables whose data is one of these */
static const char B_RANGE, B_DICT, B_NAMESPACE, B_CYCLE;

static int oom(render *r) { return sl_error_set(r->err, SL_ENOMEM, "out of memory"); }

static int fail_at(render *r, const tpl_node *n, int code, const char *fmt, ...) SL_PRINTF(4, 5);
static int fail_at(render *r, const tpl_node *n, int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!n || !r->t)
		return sl_error_set(r->err, code, "%s", msg);
	return sl_error_set(r->err, code, "%s:%d:%d: %s", r->t->name, n->line, n->col, msg);
}

/* prefixes an error a filter or the host filled with where it happened */
static int prefix_at(render *r, const tpl_node *n, int rc)
{
	if (n && r->t)
		sl_error_prefix(r->err, "%s:%d:%d: ", r->t->name, n->line, n->col);
	return rc;
}

/*
 * An undefined value keeps its name for messages; len 1 marks a missing
 * attribute of a dict ("'dict object' has no attribute 'x'").
 */
static sl_tpl_value undefined(const char *name, size_t how)
{
	return (sl_tpl_value){.type = SL_TPL_UNDEFINED, .u.str = {name, how}};
}

static int fail_undefined(render *r, const tpl_node *n, const sl_tpl_value *v)
{
	const char *name = v->u.str.s ? v->u.str.s : "value";
	if (v->u.str.len == 1)
		return fail_at(r, n, SL_EFORMAT, "'dict object' has no attribute '%s'", name);
	if (v->u.str.len == 2)
		return fail_at(r, n, SL_EFORMAT, "'list object' has no element %s", name);
	return fail_at(r, n, SL_EFORMAT, "'%s' is undefined", name);
}

static int eval(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out);
static int exec_body(render *r, scope *sc, const tpl_nodes *body);

static sl_tpl_value builtin(const char *name, const char *tag)
{
	return sl_tpl_callable(name, (void *)tag);
}

/*
 * The host's answer for name, kept in r->globals for the rest of the
 * render: 1 and *out set when the host knows it, 0 when not, <0 on error.
 */
static int ask_host(render *r, const char *name, sl_tpl_value *out)
{
	if (r->globals) {
		const sl_tpl_value *v = sl_tpl_dict_get(r->globals, name);
		if (v) {
			*out = *v;
			return 1;
		}
	}
	if (!r->env || !r->env->lookup)
		return 0;
	int rc = r->env->lookup(r->env->ud, name, out, r->a, r->err);
	if (rc <= 0)
		return rc;
	if (!r->globals) {
		sl_tpl_value g = sl_tpl_dict_new(r->a);
		if (g.type != SL_TPL_DICT)
			return oom(r);
		r->globals = g.u.dict;
	}
	return sl_tpl_dict_set(r->a, r->globals, name, *out) < 0 ? oom(r) : 1;
}

static int lookup(render *r, scope *sc, const char *name, sl_tpl_value *out)
{
	bool host_scope = false; /* reached the end of a closure-less macro's scopes */
	for (; sc; sc = sc->up) {
		if (!sc->vars) { /* the marker of a macro called with no closure */
			host_scope = true;
			break;
		}
		const sl_tpl_value *v = sl_tpl_dict_get(sc->vars, name);
		if (v) {
			*out = *v;
			return 0;
		}
	}
	int rc = ask_host(r, name, out);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (host_scope && r->t) /* the macros of the template defining it */
		for (size_t i = 0; i < r->t->macros.len; i++)
			if (strcmp(r->t->macros.v[i]->s, name) == 0) {
				*out = r->t->macro_vals[i];
				return 0;
			}
	if (!strcmp(name, "range"))
		*out = builtin("range", &B_RANGE);
	else if (!strcmp(name, "dict"))
		*out = builtin("dict", &B_DICT);
	else if (!strcmp(name, "namespace"))
		*out = builtin("namespace", &B_NAMESPACE);
	else
		*out = undefined(name, 0);
	return 0;
}

static int to_string(render *r, const sl_tpl_value *v, const char **s, size_t *n)
{
	return tpl_to_str(v, r->a, s, n, r->err);
}

static bool is_num(const sl_tpl_value *v)
{
	return v->type == SL_TPL_INT || v->type == SL_TPL_FLOAT || v->type == SL_TPL_BOOL;
}

static double num(const sl_tpl_value *v)
{
	return v->type == SL_TPL_FLOAT ? v->u.f : v->type == SL_TPL_INT ? (double)v->u.i : v->u.b;
}

static int64_t inum(const sl_tpl_value *v)
{
	return v->type == SL_TPL_INT ? v->u.i : v->type == SL_TPL_BOOL ? v->u.b : 0;
}

static int contains(render *r, const tpl_node *n, const sl_tpl_value *hay,
		    const sl_tpl_value *needle, bool *out)
{
	const char *s;
	size_t len;
	int rc;
	*out = false; /* set on every path, errors included */
	switch (hay->type) {
	case SL_TPL_STRING:
		if (needle->type != SL_TPL_STRING)
			return fail_at(r, n, SL_EFORMAT, "'in <string>' requires string as left operand, not %s",
				       tpl_type_name(needle));
		if ((rc = to_string(r, needle, &s, &len)) < 0)
			return rc;
		*out = len == 0 || (len <= hay->u.str.len && memmem(hay->u.str.s, hay->u.str.len, s, len));
		return 0;
	case SL_TPL_LIST:
		for (size_t i = 0; i < hay->u.list->len && !*out; i++)
			*out = tpl_values_equal(&hay->u.list->items[i], needle);
		return 0;
	case SL_TPL_DICT:
		*out = needle->type == SL_TPL_STRING && sl_tpl_dict_get(hay->u.dict, needle->u.str.s);
		return 0;
	case SL_TPL_UNDEFINED: /* iterating undefined yields nothing */
		return 0;
	default:
		return fail_at(r, n, SL_EFORMAT, "'in' needs a string, list or dict on its right, not %s",
			       tpl_type_name(hay));
	}
}

/* "fmt" % args */
static int percent_format(render *r, const tpl_node *n, const sl_tpl_value *fmt,
			  const sl_tpl_value *args, sl_tpl_value *out)
{
	int rc = tpl_percent_format(fmt, args, r->a, out, r->err);
	return rc < 0 && rc != SL_ENOMEM ? prefix_at(r, n, rc) : rc;
}

static int arith(render *r, const tpl_node *n, const char *op, const sl_tpl_value *x,
		 const sl_tpl_value *y, sl_tpl_value *out)
{
	if (op[0] == '+' && x->type == SL_TPL_STRING && y->type == SL_TPL_STRING) {
		if (x->u.str.len + y->u.str.len > TPL_MAX_STRING)
			return fail_at(r, n, SL_ELIMIT, "string longer than %u MB", TPL_MAX_STRING >> 20);
		char *s = sl_arena_alloc(r->a, x->u.str.len + y->u.str.len + 1);
		if (!s)
			return oom(r);
		memcpy(s, x->u.str.s, x->u.str.len);
		memcpy(s + x->u.str.len, y->u.str.s, y->u.str.len);
		s[x->u.str.len + y->u.str.len] = 0;
		*out = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {s, x->u.str.len + y->u.str.len}};
		return 0;
	}
	if (op[0] == '%' && x->type == SL_TPL_STRING)
		return percent_format(r, n, x, y, out);
	if (op[0] == '+' && x->type == SL_TPL_LIST && y->type == SL_TPL_LIST) {
		*out = sl_tpl_list_new(r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < x->u.list->len; i++)
			if (sl_tpl_list_push(r->a, out->u.list, x->u.list->items[i]) < 0)
				return oom(r);
		for (size_t i = 0; i < y->u.list->len; i++)
			if (sl_tpl_list_push(r->a, out->u.list, y->u.list->items[i]) < 0)
				return oom(r);
		return 0;
	}
	if (op[0] == '*' && op[1] == 0 &&
	    ((x->type == SL_TPL_STRING && y->type == SL_TPL_INT) ||
	     (x->type == SL_TPL_INT && y->type == SL_TPL_STRING))) {
		const sl_tpl_value *sv = x->type == SL_TPL_STRING ? x : y;
		int64_t times = x->type == SL_TPL_INT ? x->u.i : y->u.i;
		if (times > 0 && sv->u.str.len && (uint64_t)times > TPL_MAX_STRING / sv->u.str.len)
			return fail_at(r, n, SL_ELIMIT, "string longer than %u MB", TPL_MAX_STRING >> 20);
		sl_buf b = SL_BUF_INIT;
		int rc = 0;
		for (int64_t i = 0; i < times && rc == 0; i++)
			rc = sl_buf_append(&b, sv->u.str.s, sv->u.str.len);
		if (rc == 0)
			*out = sl_tpl_string(r->a, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		return rc == 0 && out->type == SL_TPL_STRING ? 0 : oom(r);
	}
	if (x->type == SL_TPL_UNDEFINED || y->type == SL_TPL_UNDEFINED)
		return fail_undefined(r, n, x->type == SL_TPL_UNDEFINED ? x : y);
	if (!is_num(x) || !is_num(y))
		return fail_at(r, n, SL_EFORMAT, "cannot apply '%s' to %s and %s", op, tpl_type_name(x),
			       tpl_type_name(y));
	bool fl = x->type == SL_TPL_FLOAT || y->type == SL_TPL_FLOAT;
	double a = num(x), b = num(y);
	int64_t i = inum(x), j = inum(y);
	if ((op[0] == '/' || op[0] == '%') && b == 0)
		return fail_at(r, n, SL_EFORMAT, "division by zero");
	switch (op[0]) {
	case '+': *out = fl ? sl_tpl_float(a + b) : sl_tpl_int((int64_t)((uint64_t)i + (uint64_t)j)); break;
	case '-': *out = fl ? sl_tpl_float(a - b) : sl_tpl_int((int64_t)((uint64_t)i - (uint64_t)j)); break;
	case '*':
		if (op[1] == '*') {
			if (fl || j < 0) {
				*out = sl_tpl_float(pow(a, b));
			} else {
				uint64_t acc = 1, base = (uint64_t)i;
				for (int64_t k = 0; k < j && k < 64; k++)
					acc *= base;
				*out = sl_tpl_int(j >= 64 && (i < -1 || i > 1) ? 0 : (int64_t)acc);
			}
		} else {
			*out = fl ? sl_tpl_float(a * b) : sl_tpl_int((int64_t)((uint64_t)i * (uint64_t)j));
		}
		break;
	case '/':
		if (op[1] == '/') {
			if (fl) {
				*out = sl_tpl_float(floor(a / b));
			} else if (j == -1) {
				*out = sl_tpl_int((int64_t)(0 - (uint64_t)i));
			} else {
				int64_t q = i / j;
				if ((i % j != 0) && ((i < 0) != (j < 0)))
					q--;
				*out = sl_tpl_int(q);
			}
		} else {
			*out = sl_tpl_float(a / b);
		}
		break;
	case '%':
		if (fl) {
			double m = fmod(a, b);
			*out = sl_tpl_float(m != 0 && ((m < 0) != (b < 0)) ? m + b : m);
		} else if (j == -1) {
			*out = sl_tpl_int(0);
		} else {
			int64_t m = i % j;
			*out = sl_tpl_int(m != 0 && ((m < 0) != (j < 0)) ? m + j : m);
		}
		break;
	}
	return 0;
}

static int compare(render *r, const tpl_node *n, const char *op, const sl_tpl_value *x,
		   const sl_tpl_value *y, bool *out)
{
	*out = false; /* set on every path, errors included */
	if (op[0] == '=' || op[0] == '!') {
		*out = tpl_values_equal(x, y) == (op[0] == '=');
		return 0;
	}
	int c;
	if (is_num(x) && is_num(y)) {
		c = num(x) < num(y) ? -1 : num(x) > num(y);
	} else if (x->type == SL_TPL_STRING && y->type == SL_TPL_STRING) {
		size_t m = x->u.str.len < y->u.str.len ? x->u.str.len : y->u.str.len;
		c = memcmp(x->u.str.s, y->u.str.s, m);
		if (c == 0)
			c = x->u.str.len < y->u.str.len ? -1 : x->u.str.len > y->u.str.len;
	} else {
		return fail_at(r, n, SL_EFORMAT, "cannot compare %s and %s with '%s'", tpl_type_name(x),
			       tpl_type_name(y), op);
	}
	*out = op[0] == '<' ? (op[1] == '=' ? c <= 0 : c < 0) : (op[1] == '=' ? c >= 0 : c > 0);
	return 0;
}

/* obj[key] / obj.key; a missing key or index is undefined */
static int get_item(render *r, const tpl_node *n, const sl_tpl_value *obj,
		    const sl_tpl_value *key, const char *what, sl_tpl_value *out)
{
	if (obj->type == SL_TPL_UNDEFINED) /* point at the undefined object */
		return fail_undefined(r, n->a ? n->a : n, obj);
	if (obj->type == SL_TPL_DICT && key->type == SL_TPL_STRING) {
		const sl_tpl_value *v = sl_tpl_dict_get(obj->u.dict, key->u.str.s);
		*out = v ? *v : undefined(what, 1);
		return 0;
	}
	if (obj->type == SL_TPL_DICT && (key->type == SL_TPL_INT || key->type == SL_TPL_BOOL ||
					 key->type == SL_TPL_FLOAT || key->type == SL_TPL_NONE)) {
		const char *k; /* keys are strings: {1: 'a'}[1] finds '1' */
		size_t kl;
		int rc = to_string(r, key, &k, &kl);
		if (rc < 0)
			return rc;
		const sl_tpl_value *v = sl_tpl_dict_get(obj->u.dict, k);
		*out = v ? *v : undefined(k, 1);
		return 0;
	}
	if (obj->type == SL_TPL_CALLABLE && key->type == SL_TPL_STRING) {
		/* f.name of a host function is the host's "f.name" (config.get) */
		const char *dotted = sl_arena_sprintf(r->a, "%s.%s",
						      obj->u.fn.name ? obj->u.fn.name : "function",
						      key->u.str.s);
		if (!dotted)
			return oom(r);
		int rc = obj->u.fn.name ? ask_host(r, dotted, out) : 0;
		if (rc < 0)
			return prefix_at(r, n, rc);
		if (rc == 0)
			*out = undefined(dotted, 0);
		return 0;
	}
	if ((obj->type == SL_TPL_LIST || obj->type == SL_TPL_STRING) &&
	    (key->type == SL_TPL_INT || key->type == SL_TPL_BOOL)) {
		int64_t len = obj->type == SL_TPL_LIST ? (int64_t)obj->u.list->len
						       : (int64_t)obj->u.str.len;
		int64_t k = inum(key);
		int64_t i = k < 0 ? k + len : k;
		if (i < 0 || i >= len) {
			char *s = sl_arena_sprintf(r->a, "%" PRId64, k);
			*out = undefined(s ? s : what, 2);
			return 0;
		}
		if (obj->type == SL_TPL_LIST)
			*out = obj->u.list->items[i];
		else
			*out = sl_tpl_string(r->a, obj->u.str.s + i, 1);
		return out->type == SL_TPL_UNDEFINED ? oom(r) : 0;
	}
	*out = undefined(what, obj->type == SL_TPL_DICT ? 1 : 0);
	return 0;
}

/* Python's slice indices for a sequence of len */
static int64_t slice_bound(const sl_tpl_value *v, int64_t def, int64_t len, int64_t step)
{
	if (v->type == SL_TPL_NONE || v->type == SL_TPL_UNDEFINED)
		return def;
	int64_t i = v->u.i;
	if (i < 0) {
		i += len;
		if (i < 0)
			i = step < 0 ? -1 : 0;
	} else if (i >= len) {
		i = step < 0 ? len - 1 : len;
	}
	return i;
}

static int eval_slice(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out)
{
	sl_tpl_value obj, v[3] = {sl_tpl_none(), sl_tpl_none(), sl_tpl_none()};
	const tpl_node *parts[3] = {n->b, n->c, n->d};
	int rc;
	if ((rc = eval(r, sc, n->a, &obj)) < 0)
		return rc;
	for (int k = 0; k < 3; k++) {
		if (parts[k] && (rc = eval(r, sc, parts[k], &v[k])) < 0)
			return rc;
		if (v[k].type == SL_TPL_BOOL)
			v[k] = sl_tpl_int(v[k].u.b);
		if (v[k].type != SL_TPL_INT && v[k].type != SL_TPL_NONE && v[k].type != SL_TPL_UNDEFINED)
			return fail_at(r, n, SL_EFORMAT, "slice indices must be integers or None, not %s",
				       tpl_type_name(&v[k]));
	}
	if (obj.type == SL_TPL_UNDEFINED)
		return fail_undefined(r, n->a, &obj);
	if (obj.type != SL_TPL_LIST && obj.type != SL_TPL_STRING)
		return fail_at(r, n, SL_EFORMAT, "cannot slice %s", tpl_type_name(&obj));
	int64_t step = v[2].type == SL_TPL_INT ? v[2].u.i : 1;
	if (step == 0)
		return fail_at(r, n, SL_EFORMAT, "slice step cannot be zero");
	int64_t len = obj.type == SL_TPL_LIST ? (int64_t)obj.u.list->len : (int64_t)obj.u.str.len;
	int64_t start = slice_bound(&v[0], step < 0 ? len - 1 : 0, len, step);
	int64_t stop = slice_bound(&v[1], step < 0 ? -1 : len, len, step);
	if (obj.type == SL_TPL_LIST) {
		*out = sl_tpl_list_new(r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
			if (sl_tpl_list_push(r->a, out->u.list, obj.u.list->items[i]) < 0)
				return oom(r);
		return 0;
	}
	char *s = sl_arena_alloc(r->a, (size_t)len + 1);
	size_t k = 0;
	if (!s)
		return oom(r);
	for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
		s[k++] = obj.u.str.s[i];
	s[k] = 0;
	*out = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {s, k}};
	return 0;
}

/*
 * Evaluates call and filter arguments, *args and **kwargs spread in; the
 * counts go to *na and *nk. kw has room for one more (caller).
 */
static int eval_args_n(render *r, scope *sc, const tpl_node *n, sl_tpl_value **args, size_t *na,
		       sl_tpl_kwarg **kw, size_t *nk)
{
	sl_tpl_value dyn = {0}, dynkw = {0};
	int rc;
	if (n->kind == N_CALL && n->c) {
		if ((rc = eval(r, sc, n->c, &dyn)) < 0)
			return rc;
		if (dyn.type != SL_TPL_LIST)
			return fail_at(r, n->c, SL_EFORMAT, "*args needs a list, not %s", tpl_type_name(&dyn));
	}
	if (n->kind == N_CALL && n->d) {
		if ((rc = eval(r, sc, n->d, &dynkw)) < 0)
			return rc;
		if (dynkw.type != SL_TPL_DICT)
			return fail_at(r, n->d, SL_EFORMAT, "**kwargs needs a dict, not %s", tpl_type_name(&dynkw));
	}
	size_t pa = n->args.len, pk = n->kwvals.len;
	*na = pa + (dyn.type == SL_TPL_LIST ? dyn.u.list->len : 0);
	*nk = pk + (dynkw.type == SL_TPL_DICT ? dynkw.u.dict->len : 0);
	*args = sl_arena_alloc(r->a, (*na ? *na : 1) * sizeof **args);
	*kw = sl_arena_alloc(r->a, (*nk + 1) * sizeof **kw); /* +1: room for caller */
	if (!*args || !*kw)
		return oom(r);
	for (size_t i = 0; i < pa; i++)
		if ((rc = eval(r, sc, n->args.v[i], &(*args)[i])) < 0)
			return rc;
	for (size_t i = pa; i < *na; i++)
		(*args)[i] = dyn.u.list->items[i - pa];
	for (size_t i = 0; i < pk; i++) {
		(*kw)[i].name = n->kwnames[i];
		if ((rc = eval(r, sc, n->kwvals.v[i], &(*kw)[i].value)) < 0)
			return rc;
	}
	for (size_t i = pk; i < *nk; i++) {
		(*kw)[i].name = dynkw.u.dict->keys[i - pk];
		(*kw)[i].value = dynkw.u.dict->vals[i - pk];
	}
	return 0;
}

static int eval_args(render *r, scope *sc, const tpl_node *n, sl_tpl_value **args,
		     sl_tpl_kwarg **kw)
{
	size_t na, nk;
	return eval_args_n(r, sc, n, args, &na, kw, &nk);
}

static int call_value(render *r, const tpl_node *n, const sl_tpl_value *fn, const sl_tpl_value *obj,
		      const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw, size_t nkw,
		      sl_tpl_value *out);

/*
 * Renders macro m with the arguments: its output as a string, or the value
 * of a return() inside it. n is the call (NULL from host code).
 */
static int call_macro(render *r, const tpl_node *n, const sl_tpl_value *m, const sl_tpl_value *args,
		      size_t nargs, const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out)
{
	const tpl_node *def = m->u.macro.def;
	size_t np = def->kwvals.len;
	int rc;
	if (macro_depth >= MAX_MACRO_DEPTH)
		return fail_at(r, n, SL_ELIMIT, "macro calls nested more than %d deep (endless recursion?)",
			       MAX_MACRO_DEPTH);
	sl_tpl_value vars = sl_tpl_dict_new(r->a), varargs = {0}, kwargs = {0};
	if (vars.type != SL_TPL_DICT)
		return oom(r);
	if (def->flags & MF_VARARGS) {
		varargs = sl_tpl_list_new(r->a);
		if (varargs.type != SL_TPL_LIST)
			return oom(r);
		varargs.u.list->tuple = true;
	}
	if (def->flags & MF_KWARGS) {
		kwargs = sl_tpl_dict_new(r->a);
		if (kwargs.type != SL_TPL_DICT)
			return oom(r);
	}
	bool *given = sl_arena_alloc(r->a, np + 1);
	if (!given)
		return oom(r);
	memset(given, 0, np + 1);
	for (size_t i = 0; i < nargs; i++) {
		if (i < np) {
			if (sl_tpl_dict_set(r->a, vars.u.dict, def->kwnames[i], args[i]) < 0)
				return oom(r);
			given[i] = true;
		} else if (def->flags & MF_VARARGS) {
			if (sl_tpl_list_push(r->a, varargs.u.list, args[i]) < 0)
				return oom(r);
		} else {
			return fail_at(r, n, SL_EFORMAT, "macro '%s' takes not more than %zu argument(s)",
				       def->s, np);
		}
	}
	for (size_t j = 0; j < nkw; j++) {
		size_t i;
		for (i = 0; i < np && strcmp(def->kwnames[i], kw[j].name) != 0; i++)
			;
		if (i < np && !given[i]) {
			given[i] = true;
			if (sl_tpl_dict_set(r->a, vars.u.dict, def->kwnames[i], kw[j].value) < 0)
				return oom(r);
		} else if (i == np && !strcmp(kw[j].name, "caller") && (def->flags & MF_CALLER)) {
			if (sl_tpl_dict_set(r->a, vars.u.dict, "caller", kw[j].value) < 0)
				return oom(r);
		} else if (i == np && (def->flags & MF_KWARGS)) {
			if (sl_tpl_dict_set(r->a, kwargs.u.dict, kw[j].name, kw[j].value) < 0)
				return oom(r);
		} else {
			return fail_at(r, n, SL_EFORMAT, "macro '%s' takes no keyword argument '%s'",
				       def->s, kw[j].name);
		}
	}
	if (((def->flags & MF_VARARGS) &&
	     sl_tpl_dict_set(r->a, vars.u.dict, "varargs", varargs) < 0) ||
	    ((def->flags & MF_KWARGS) && sl_tpl_dict_set(r->a, vars.u.dict, "kwargs", kwargs) < 0))
		return oom(r);

	static scope no_closure = {NULL, NULL};
	scope *closure = (scope *)m->u.macro.closure;
	scope sc = {closure ? closure : &no_closure, vars.u.dict};
	const sl_tpl *caller_t = r->t;
	sl_buf *caller_out = r->out, body = SL_BUF_INIT;
	r->t = m->u.macro.tpl;
	r->out = &body;
	macro_depth++;
	rc = 0;
	/* defaults, in the macro's scope: later ones see earlier parameters */
	for (size_t i = 0; i < np && rc == 0; i++) {
		if (given[i])
			continue;
		sl_tpl_value v = undefined(def->kwnames[i], 0);
		if (def->kwvals.v[i])
			rc = eval(r, &sc, def->kwvals.v[i], &v);
		if (rc == 0 && sl_tpl_dict_set(r->a, vars.u.dict, def->kwnames[i], v) < 0)
			rc = oom(r);
	}
	if (rc == 0)
		rc = exec_body(r, &sc, &def->args);
	macro_depth--;
	r->t = caller_t;
	r->out = caller_out;
	if (rc < 0 && rc != UNWIND_RETURN && rc != UNWIND_BREAK && rc != UNWIND_CONTINUE && n &&
	    caller_t && m->u.macro.tpl != caller_t && r->err) {
		/* the error names the macro's file: say where it was called from */
		size_t len = strlen(r->err->message);
		snprintf(r->err->message + len, sizeof r->err->message - len,
			 " (in macro '%s' called at %s:%d:%d)", def->s, caller_t->name, n->line, n->col);
	}
	if (rc == UNWIND_RETURN) {
		*out = r->retval;
		rc = 0;
	} else if (rc == 0) {
		*out = sl_tpl_string(r->a, body.data ? body.data : "", body.len);
		if (out->type != SL_TPL_STRING)
			rc = oom(r);
	}
	sl_buf_free(&body);
	return rc;
}

static int call_builtin(render *r, const tpl_node *n, const sl_tpl_value *fn,
			const sl_tpl_value *obj, const sl_tpl_value *args, size_t nargs,
			const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out)
{
	const char *b = fn->u.fn.data;
	if (b == &B_RANGE) {
		int64_t v[3] = {0, 0, 1};
		if (nargs < 1 || nargs > 3 || nkw)
			return fail_at(r, n, SL_EFORMAT, "range() takes 1 to 3 integer arguments");
		for (size_t i = 0; i < nargs; i++) {
			if (args[i].type != SL_TPL_INT && args[i].type != SL_TPL_BOOL)
				return fail_at(r, n, SL_EFORMAT, "range() takes integers, not %s",
					       tpl_type_name(&args[i]));
			v[nargs == 1 ? 1 : i] = inum(&args[i]);
		}
		if (v[2] == 0)
			return fail_at(r, n, SL_EFORMAT, "range() step must not be zero");
		*out = sl_tpl_list_new(r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		int64_t count = 0;
		for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) {
			if (++count > MAX_RANGE)
				return fail_at(r, n, SL_ELIMIT, "range() of more than %d items", MAX_RANGE);
			if (sl_tpl_list_push(r->a, out->u.list, sl_tpl_int(i)) < 0)
				return oom(r);
			if ((v[2] > 0 && i > INT64_MAX - v[2]) || (v[2] < 0 && i < INT64_MIN - v[2]))
				break;
		}
		return 0;
	}
	if (b == &B_DICT || b == &B_NAMESPACE) {
		*out = sl_tpl_dict_new(r->a);
		if (out->type != SL_TPL_DICT)
			return oom(r);
		for (size_t i = 0; i < nargs; i++) {
			if (args[i].type != SL_TPL_DICT)
				return fail_at(r, n, SL_EFORMAT, "%s() takes a dict and keyword arguments",
					       fn->u.fn.name);
			for (size_t k = 0; k < args[i].u.dict->len; k++)
				if (sl_tpl_dict_set(r->a, out->u.dict, args[i].u.dict->keys[k],
						    args[i].u.dict->vals[k]) < 0)
					return oom(r);
		}
		for (size_t k = 0; k < nkw; k++)
			if (sl_tpl_dict_set(r->a, out->u.dict, kw[k].name, kw[k].value) < 0)
				return oom(r);
		return 0;
	}
	if (b == &B_CYCLE) { /* loop.cycle(a, b, ...) */
		const sl_tpl_value *i0 = obj && obj->type == SL_TPL_DICT
					       ? sl_tpl_dict_get(obj->u.dict, "index0") : NULL;
		if (nargs == 0)
			return fail_at(r, n, SL_EFORMAT, "loop.cycle() needs at least one item");
		if (!i0 || i0->type != SL_TPL_INT)
			return fail_at(r, n, SL_EFORMAT, "cycle() works on a loop only");
		*out = args[(size_t)i0->u.i % nargs];
		return 0;
	}
	return fail_at(r, n, SL_EINTERNAL, "unknown built-in");
}

static int call_value(render *r, const tpl_node *n, const sl_tpl_value *fn, const sl_tpl_value *obj,
		      const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw, size_t nkw,
		      sl_tpl_value *out)
{
	if (fn->type == SL_TPL_UNDEFINED)
		return fail_undefined(r, n, fn);
	if (fn->type == SL_TPL_MACRO)
		return call_macro(r, n, fn, args, nargs, kw, nkw, out);
	if (fn->type != SL_TPL_CALLABLE)
		return fail_at(r, n, SL_EFORMAT, "%s is not callable", tpl_type_name(fn));
	const char *d = fn->u.fn.data;
	if (d == &B_RANGE || d == &B_DICT || d == &B_NAMESPACE || d == &B_CYCLE)
		return call_builtin(r, n, fn, obj, args, nargs, kw, nkw, out);
	if (!r->env || !r->env->call)
		return fail_at(r, n, SL_EFORMAT, "'%s' cannot be called here",
			       fn->u.fn.name ? fn->u.fn.name : "function");
	*out = sl_tpl_none();
	int rc = r->env->call(r->env->ud, fn, args, nargs, kw, nkw, out, r->a, r->err);
	if (rc == SL_TPL_RETURN) {
		r->retval = *out;
		r->ret_at = n;
		return UNWIND_RETURN;
	}
	if (rc > 0)
		return fail_at(r, n, SL_EINTERNAL, "'%s' returned %d", fn->u.fn.name ? fn->u.fn.name : "function", rc);
	return rc < 0 ? prefix_at(r, n, rc) : 0;
}

/* n is N_CALL; caller (or NULL) is passed as the keyword argument caller */
static int eval_call(render *r, scope *sc, const tpl_node *n, const sl_tpl_value *caller,
		     sl_tpl_value *out)
{
	sl_tpl_value fn, obj, *args;
	sl_tpl_kwarg *kw;
	int rc;
	bool has_obj = false;
	const tpl_node *callee = n->a;
	if (callee->kind == N_ATTR) {
		if ((rc = eval(r, sc, callee->a, &obj)) < 0)
			return rc;
		has_obj = true;
		if (obj.type == SL_TPL_UNDEFINED)
			return fail_undefined(r, callee->a, &obj);
		const sl_tpl_value *member = obj.type == SL_TPL_DICT ? sl_tpl_dict_get(obj.u.dict, callee->s) : NULL;
		if (!member && (obj.type == SL_TPL_DICT || obj.type == SL_TPL_LIST || obj.type == SL_TPL_STRING)) {
			size_t na, nk;
			if ((rc = eval_args_n(r, sc, n, &args, &na, &kw, &nk)) < 0)
				return rc;
			rc = tpl_method_call(&obj, callee->s, args, na, kw, nk, out, r->a, r->err);
			if (rc != SL_ENOTFOUND)
				return rc < 0 ? prefix_at(r, n, rc) : 0;
			fn = undefined(callee->s, obj.type == SL_TPL_DICT ? 1 : 0);
			if (obj.type != SL_TPL_DICT)
				return fail_at(r, n, SL_EFORMAT, "'%s object' has no attribute '%s'",
					       obj.type == SL_TPL_LIST ? "list" : "str", callee->s);
		} else {
			sl_tpl_value key = {.type = SL_TPL_STRING, .u.str = {callee->s, strlen(callee->s)}};
			if ((rc = get_item(r, callee, &obj, &key, callee->s, &fn)) < 0)
				return rc;
		}
	} else if ((rc = eval(r, sc, callee, &fn)) < 0) {
		return rc;
	}
	if (fn.type == SL_TPL_UNDEFINED)
		return fail_undefined(r, n, &fn);
	size_t na, nkw;
	if ((rc = eval_args_n(r, sc, n, &args, &na, &kw, &nkw)) < 0)
		return rc;
	if (caller) {
		kw[nkw].name = "caller";
		kw[nkw++].value = *caller;
	}
	return call_value(r, n, &fn, has_obj ? &obj : NULL, args, na, kw, nkw, out);
}

static int apply_filter(render *r, scope *sc, const tpl_node *n, const sl_tpl_value *in,
			sl_tpl_value *out)
{
	sl_tpl_value *args;
	sl_tpl_kwarg *kw;
	int rc = eval_args(r, sc, n, &args, &kw);
	if (rc < 0)
		return rc;
	rc = tpl_filter_apply(n->s, out, in, args, n->args.len, kw, n->kwvals.len, r->a, r->err);
	return rc < 0 ? prefix_at(r, n, rc) : 0;
}

/* a {% filter %} chain (innermost a == NULL) over in */
static int apply_chain(render *r, scope *sc, const tpl_node *n, const sl_tpl_value *in,
		       sl_tpl_value *out)
{
	sl_tpl_value x = *in;
	int rc;
	if (n->a && (rc = apply_chain(r, sc, n->a, in, &x)) < 0)
		return rc;
	return apply_filter(r, sc, n, &x, out);
}

/* a render that allocated or wrote too much stops */
static int over_budget(render *r, const tpl_node *n)
{
	if (r->a->total <= (size_t)TPL_MAX_RENDER_BYTES && r->out->len <= (size_t)TPL_MAX_RENDER_BYTES)
		return 0;
	return fail_at(r, n, SL_ELIMIT, "the render used more than %zu MB",
		       (size_t)TPL_MAX_RENDER_BYTES >> 20);
}

static int eval(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out)
{
	sl_tpl_value x, y;
	int rc;
	bool b;
	if ((rc = over_budget(r, n)) < 0)
		return rc;
	switch (n->kind) {
	case N_LIT:
		*out = n->lit;
		return 0;
	case N_NAME:
		return lookup(r, sc, n->s, out);
	case N_LIST:
		*out = sl_tpl_list_new(r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		out->u.list->tuple = n->flags != 0;
		for (size_t i = 0; i < n->args.len; i++) {
			if ((rc = eval(r, sc, n->args.v[i], &x)) < 0)
				return rc;
			if (sl_tpl_list_push(r->a, out->u.list, x) < 0)
				return oom(r);
		}
		return 0;
	case N_DICT:
		*out = sl_tpl_dict_new(r->a);
		if (out->type != SL_TPL_DICT)
			return oom(r);
		for (size_t i = 0; i < n->args.len; i++) {
			const char *k;
			size_t kl;
			if ((rc = eval(r, sc, n->args.v[i], &x)) < 0 ||
			    (rc = to_string(r, &x, &k, &kl)) < 0 ||
			    (rc = eval(r, sc, n->kwvals.v[i], &y)) < 0)
				return rc;
			if (sl_tpl_dict_set(r->a, out->u.dict, k, y) < 0)
				return oom(r);
		}
		return 0;
	case N_ATTR:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		y = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {n->s, strlen(n->s)}};
		if (x.type == SL_TPL_LIST && n->s[0] >= '0' && n->s[0] <= '9')
			y = sl_tpl_int(strtoll(n->s, NULL, 10));
		return get_item(r, n, &x, &y, n->s, out);
	case N_ITEM: {
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval(r, sc, n->b, &y)) < 0)
			return rc;
		const char *what = "item";
		if (y.type == SL_TPL_STRING)
			what = y.u.str.s;
		return get_item(r, n, &x, &y, what, out);
	}
	case N_SLICE:
		return eval_slice(r, sc, n, out);
	case N_CALL:
		return eval_call(r, sc, n, NULL, out);
	case N_NEG:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		if (x.type == SL_TPL_UNDEFINED)
			return fail_undefined(r, n->a, &x);
		if (!is_num(&x))
			return fail_at(r, n, SL_EFORMAT, "cannot negate %s", tpl_type_name(&x));
		*out = x.type == SL_TPL_FLOAT ? sl_tpl_float(-x.u.f)
					      : sl_tpl_int((int64_t)(0 - (uint64_t)inum(&x)));
		return 0;
	case N_NOT:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		*out = sl_tpl_bool(!sl_tpl_truthy(&x));
		return 0;
	case N_AND:
	case N_OR:
		/* Python semantics: the deciding operand is the value */
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		if (sl_tpl_truthy(&x) == (n->kind == N_OR)) {
			*out = x;
			return 0;
		}
		return eval(r, sc, n->b, out);
	case N_COND:
		if ((rc = eval(r, sc, n->b, &x)) < 0)
			return rc;
		if (sl_tpl_truthy(&x))
			return eval(r, sc, n->a, out);
		if (n->c)
			return eval(r, sc, n->c, out);
		*out = undefined(NULL, 0);
		return 0;
	case N_BINOP:
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval(r, sc, n->b, &y)) < 0)
			return rc;
		if (n->s[0] == '~') {
			const char *s1, *s2;
			size_t l1, l2;
			if ((rc = to_string(r, &x, &s1, &l1)) < 0 || (rc = to_string(r, &y, &s2, &l2)) < 0)
				return rc;
			if (l1 + l2 > TPL_MAX_STRING)
				return fail_at(r, n, SL_ELIMIT, "string longer than %u MB", TPL_MAX_STRING >> 20);
			char *s = sl_arena_alloc(r->a, l1 + l2 + 1);
			if (!s)
				return oom(r);
			memcpy(s, s1, l1);
			memcpy(s + l1, s2, l2);
			s[l1 + l2] = 0;
			*out = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {s, l1 + l2}};
			return 0;
		}
		if (!strcmp(n->s, "in") || !strcmp(n->s, "not in")) {
			if ((rc = contains(r, n, &y, &x, &b)) < 0)
				return rc;
			*out = sl_tpl_bool(b == (n->s[0] == 'i'));
			return 0;
		}
		if (strchr("=!<>", n->s[0])) {
			if ((rc = compare(r, n, n->s, &x, &y, &b)) < 0)
				return rc;
			*out = sl_tpl_bool(b);
			return 0;
		}
		return arith(r, n, n->s, &x, &y, out);
	case N_FILTER:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		return apply_filter(r, sc, n, &x, out);
	case N_TEST: {
		sl_tpl_value *args;
		sl_tpl_kwarg *kw;
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval_args(r, sc, n, &args, &kw)) < 0)
			return rc;
		rc = tpl_test_apply(n->s, &x, args, n->args.len, r->err);
		if (rc < 0)
			return prefix_at(r, n, rc);
		*out = sl_tpl_bool((rc == 1) != n->lit.u.b);
		return 0;
	}
	default:
		return fail_at(r, n, SL_EINTERNAL, "not an expression");
	}
}

/* the names of a loop's variables, in the order exec_for fills them */
static const char *const loop_keys[] = {"index", "index0", "revindex", "revindex0", "first",
					"last", "length", "previtem", "nextitem", "cycle",
					"depth", "depth0"};
#define NLOOP_KEYS (sizeof loop_keys / sizeof loop_keys[0])

static int exec_for(render *r, scope *sc, const tpl_node *n)
{
	sl_tpl_value it, items;
	int rc = eval(r, sc, n->a, &it);
	if (rc < 0)
		return rc;
	switch (it.type) {
	case SL_TPL_LIST:
		items = it;
		break;
	case SL_TPL_DICT:
		items = sl_tpl_list_new(r->a);
		if (items.type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < it.u.dict->len; i++) {
			const char *k = it.u.dict->keys[i];
			if (sl_tpl_list_push(r->a, items.u.list,
					     (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {k, strlen(k)}}) < 0)
				return oom(r);
		}
		break;
	case SL_TPL_STRING:
		items = sl_tpl_list_new(r->a);
		if (items.type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < it.u.str.len; i++)
			if (sl_tpl_list_push(r->a, items.u.list, sl_tpl_string(r->a, it.u.str.s + i, 1)) < 0)
				return oom(r);
		break;
	case SL_TPL_UNDEFINED: /* iterating undefined yields nothing */
		return exec_body(r, sc, &n->kwvals);
	case SL_TPL_NONE:
		return fail_at(r, n->a, SL_EFORMAT, "'NoneType' object is not iterable");
	default:
		return fail_at(r, n->a, SL_EFORMAT, "'for' cannot iterate over %s", tpl_type_name(&it));
	}
	const sl_tpl_list *src = items.u.list;
	if (n->d) { /* for x in y if cond: filter first, so loop.length counts what is kept */
		sl_tpl_value kept = sl_tpl_list_new(r->a);
		if (kept.type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < src->len; i++) {
			sl_tpl_value vars = sl_tpl_dict_new(r->a), c;
			if (vars.type != SL_TPL_DICT)
				return oom(r);
			scope inner = {sc, vars.u.dict};
			if (n->ntargets == 1) {
				if (sl_tpl_dict_set(r->a, vars.u.dict, n->targets[0], src->items[i]) < 0)
					return oom(r);
			} else if (src->items[i].type == SL_TPL_LIST && src->items[i].u.list->len == 2) {
				if (sl_tpl_dict_set(r->a, vars.u.dict, n->targets[0], src->items[i].u.list->items[0]) < 0 ||
				    sl_tpl_dict_set(r->a, vars.u.dict, n->targets[1], src->items[i].u.list->items[1]) < 0)
					return oom(r);
			}
			if ((rc = eval(r, &inner, n->d, &c)) < 0)
				return rc;
			if (sl_tpl_truthy(&c) && sl_tpl_list_push(r->a, kept.u.list, src->items[i]) < 0)
				return oom(r);
		}
		src = kept.u.list;
	}
	size_t len = src->len;
	if (len == 0)
		return exec_body(r, sc, &n->kwvals);
	for (size_t i = 0; i < len; i++) {
		sl_tpl_dict *l = sl_arena_alloc(r->a, sizeof *l);
		sl_tpl_value *lv = sl_arena_alloc(r->a, NLOOP_KEYS * sizeof *lv);
		sl_tpl_value vars = sl_tpl_dict_new(r->a);
		if (!l || !lv || vars.type != SL_TPL_DICT)
			return oom(r);
		/* the keys are shared and never written: a set copies them first */
		*l = (sl_tpl_dict){(const char **)loop_keys, lv, NLOOP_KEYS, NLOOP_KEYS, NULL};
		lv[0] = sl_tpl_int((int64_t)i + 1);
		lv[1] = sl_tpl_int((int64_t)i);
		lv[2] = sl_tpl_int((int64_t)(len - i));
		lv[3] = sl_tpl_int((int64_t)(len - i - 1));
		lv[4] = sl_tpl_bool(i == 0);
		lv[5] = sl_tpl_bool(i + 1 == len);
		lv[6] = sl_tpl_int((int64_t)len);
		lv[7] = i > 0 ? src->items[i - 1] : undefined("previtem", 1);
		lv[8] = i + 1 < len ? src->items[i + 1] : undefined("nextitem", 1);
		lv[9] = builtin("cycle", &B_CYCLE);
		lv[10] = sl_tpl_int(1);
		lv[11] = sl_tpl_int(0);
		const sl_tpl_value *item = &src->items[i];
		if (sl_tpl_dict_set(r->a, vars.u.dict, "loop",
				    (sl_tpl_value){.type = SL_TPL_DICT, .u.dict = l}) < 0)
			return oom(r);
		if (n->ntargets == 1) {
			if (sl_tpl_dict_set(r->a, vars.u.dict, n->targets[0], *item) < 0)
				return oom(r);
		} else {
			if (item->type != SL_TPL_LIST || item->u.list->len != 2)
				return fail_at(r, n, SL_EFORMAT,
					       "'for %s, %s' needs items of two values, got %s",
					       n->targets[0], n->targets[1], tpl_type_name(item));
			if (sl_tpl_dict_set(r->a, vars.u.dict, n->targets[0], item->u.list->items[0]) < 0 ||
			    sl_tpl_dict_set(r->a, vars.u.dict, n->targets[1], item->u.list->items[1]) < 0)
				return oom(r);
		}
		scope inner = {sc, vars.u.dict};
		rc = exec_body(r, &inner, &n->args);
		if (rc == UNWIND_BREAK)
			break;
		if (rc == UNWIND_CONTINUE)
			continue;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* renders body into a string value */
static int capture(render *r, scope *sc, const tpl_nodes *body, sl_tpl_value *v)
{
	sl_buf *outer = r->out, inner = SL_BUF_INIT;
	r->out = &inner;
	int rc = exec_body(r, sc, body);
	r->out = outer;
	if (rc == 0) {
		*v = sl_tpl_string(r->a, inner.data ? inner.data : "", inner.len);
		if (v->type != SL_TPL_STRING)
			rc = oom(r);
	}
	sl_buf_free(&inner);
	return rc;
}

static int exec_set(render *r, scope *sc, const tpl_node *n)
{
	sl_tpl_value v;
	int rc;
	if (!n->a)
		rc = capture(r, sc, &n->args, &v); /* block set: the body's output */
	else
		rc = eval(r, sc, n->a, &v);
	if (rc < 0)
		return rc;
	if (n->flags & SF_ATTR) {
		sl_tpl_value ns;
		if ((rc = lookup(r, sc, n->s, &ns)) < 0)
			return rc;
		if (ns.type == SL_TPL_UNDEFINED)
			return fail_undefined(r, n, &ns);
		if (ns.type != SL_TPL_DICT)
			return fail_at(r, n, SL_EFORMAT, "cannot assign attribute on non-namespace object");
		return sl_tpl_dict_set(r->a, ns.u.dict, n->targets[0], v) < 0 ? oom(r) : 0;
	}
	if (n->flags & SF_UNPACK) {
		if (v.type != SL_TPL_LIST || v.u.list->len != n->ntargets)
			return fail_at(r, n, SL_EFORMAT, "cannot unpack %s into %zu names",
				       tpl_type_name(&v), n->ntargets);
		for (size_t i = 0; i < n->ntargets; i++)
			if (sl_tpl_dict_set(r->a, sc->vars, n->targets[i], v.u.list->items[i]) < 0)
				return oom(r);
		return 0;
	}
	return sl_tpl_dict_set(r->a, sc->vars, n->s, v) < 0 ? oom(r) : 0;
}

static int exec_body(render *r, scope *sc, const tpl_nodes *body)
{
	int rc;
	for (size_t i = 0; i < body->len; i++) {
		const tpl_node *n = body->v[i];
		sl_tpl_value v;
		if ((rc = over_budget(r, n)) < 0)
			return rc;
		switch (n->kind) {
		case N_TEXT:
			if (sl_buf_append(r->out, n->s, n->len) < 0)
				return oom(r);
			break;
		case N_OUTPUT:
			if ((rc = eval(r, sc, n->a, &v)) < 0)
				return rc;
			if (sl_tpl_value_write(r->out, &v) < 0)
				return oom(r);
			break;
		case N_IF: {
			const tpl_node *c = n;
			for (; c; c = c->next_elif) {
				if (c->a) {
					if ((rc = eval(r, sc, c->a, &v)) < 0)
						return rc;
					if (!sl_tpl_truthy(&v))
						continue;
				}
				if ((rc = exec_body(r, sc, &c->args)) < 0)
					return rc;
				break;
			}
			break;
		}
		case N_FOR:
			if ((rc = exec_for(r, sc, n)) < 0)
				return rc;
			break;
		case N_SET:
			if ((rc = exec_set(r, sc, n)) < 0)
				return rc;
			break;
		case N_MACRO:
			v = (sl_tpl_value){.type = SL_TPL_MACRO, .u.macro = {r->t, n, sc}};
			if (sl_tpl_dict_set(r->a, sc->vars, n->s, v) < 0)
				return oom(r);
			break;
		case N_CALLBLOCK: {
			sl_tpl_value caller = {.type = SL_TPL_MACRO, .u.macro = {r->t, n->b, sc}};
			if ((rc = eval_call(r, sc, n->a, &caller, &v)) < 0)
				return rc;
			if (sl_tpl_value_write(r->out, &v) < 0)
				return oom(r);
			break;
		}
		case N_DO:
			if ((rc = eval(r, sc, n->a, &v)) < 0)
				return rc;
			break;
		case N_FILTERBLOCK: {
			sl_tpl_value body_v;
			if ((rc = capture(r, sc, &n->args, &body_v)) < 0 ||
			    (rc = apply_chain(r, sc, n->a, &body_v, &v)) < 0)
				return rc;
			if (sl_tpl_value_write(r->out, &v) < 0)
				return oom(r);
			break;
		}
		case N_WITH: {
			sl_tpl_value vars = sl_tpl_dict_new(r->a);
			if (vars.type != SL_TPL_DICT)
				return oom(r);
			scope inner = {sc, vars.u.dict};
			for (size_t k = 0; k < n->kwvals.len; k++) {
				if ((rc = eval(r, sc, n->kwvals.v[k], &v)) < 0)
					return rc;
				if (sl_tpl_dict_set(r->a, vars.u.dict, n->kwnames[k], v) < 0)
					return oom(r);
			}
			if ((rc = exec_body(r, &inner, &n->args)) < 0)
				return rc;
			break;
		}
		case N_NAMED: /* rendered on request only */
			break;
		case N_BREAK:
			return UNWIND_BREAK;
		case N_CONTINUE:
			return UNWIND_CONTINUE;
		default:
			return fail_at(r, n, SL_EINTERNAL, "not a statement");
		}
	}
	return 0;
}

/* runs body in a fresh top scope (with preset macros when `macros`) */
static int render_top(const sl_tpl *t, const tpl_nodes *body, bool macros, const sl_tpl_env *env,
		      sl_buf *out, sl_error *err)
{
	sl_arena a;
	sl_arena_init(&a, 64 * 1024);
	render r = {.t = t, .env = env, .a = &a, .out = out, .err = err};
	sl_tpl_value top = sl_tpl_dict_new(&a);
	int rc;
	if (top.type != SL_TPL_DICT) {
		rc = oom(&r);
		goto done;
	}
	scope sc = {NULL, top.u.dict};
	for (size_t i = 0; macros && i < t->macros.len; i++)
		if (sl_tpl_dict_set(&a, top.u.dict, t->macros.v[i]->s, t->macro_vals[i]) < 0) {
			rc = oom(&r);
			goto done;
		}
	rc = exec_body(&r, &sc, body);
	if (rc == UNWIND_RETURN)
		rc = fail_at(&r, r.ret_at, SL_EFORMAT, "return outside a macro");
done:
	sl_arena_free(&a);
	return rc;
}

int sl_tpl_render(const sl_tpl *t, const sl_tpl_env *env, sl_buf *out, sl_error *err)
{
	return render_top(t, &t->body, false, env, out, err);
}

int sl_tpl_render_block(const sl_tpl *t, int index, const sl_tpl_env *env, sl_buf *out,
			sl_error *err)
{
	if (index < 0 || (size_t)index >= t->blocks.len)
		return sl_error_set(err, SL_ENOTFOUND, "%s: no block %d", t->name, index);
	return render_top(t, &t->blocks.v[index]->args, true, env, out, err);
}

int sl_tpl_call(const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		const sl_tpl_kwarg *kwargs, size_t nkwargs, const sl_tpl_env *env,
		sl_arena *a, sl_tpl_value *out, sl_error *err)
{
	sl_buf discard = SL_BUF_INIT;
	render r = {.t = fn->type == SL_TPL_MACRO ? fn->u.macro.tpl : NULL, .env = env, .a = a,
		    .out = &discard, .err = err};
	int rc = call_value(&r, NULL, fn, NULL, args, nargs, kwargs, nkwargs, out);
	if (rc == UNWIND_RETURN) { /* a host callable asked to return: its value */
		*out = r.retval;
		rc = 0;
	}
	sl_buf_free(&discard);
	return rc;
}
