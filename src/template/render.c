/*
 * render.c: walks a parsed template and writes its output. Values made
 * while rendering live in one arena freed at the end; names resolve in the
 * innermost scope first (a for loop's body is a scope of its own), then
 * through the host's lookup callback.
 */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template_int.h"

typedef struct scope {
	struct scope *up;
	sl_tpl_dict *vars;
} scope;

typedef struct render {
	const sl_tpl *t;
	const sl_tpl_env *env;
	sl_arena a;
	sl_buf *out;
	sl_error *err;
} render;

static int oom(render *r) { return sl_error_set(r->err, SL_ENOMEM, "out of memory"); }

static int fail_at(render *r, const tpl_node *n, int code, const char *fmt, ...) SL_PRINTF(4, 5);
static int fail_at(render *r, const tpl_node *n, int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sl_error_set(r->err, code, "%s:%d:%d: %s", r->t->name, n->line, n->col, msg);
}

/* prefixes an error a filter or the host filled with where it happened */
static int prefix_at(render *r, const tpl_node *n, int rc)
{
	sl_error_prefix(r->err, "%s:%d:%d: ", r->t->name, n->line, n->col);
	return rc;
}

static sl_tpl_value undefined(const char *name)
{
	/* an undefined value keeps its name for messages */
	return (sl_tpl_value){.type = SL_TPL_UNDEFINED, .u.str = {name, 0}};
}

static const char *undef_name(const sl_tpl_value *v)
{
	return v->u.str.s ? v->u.str.s : "value";
}

static const char *type_name(const sl_tpl_value *v)
{
	static const char *const names[] = {"undefined", "none", "bool", "int", "float",
					    "string", "list", "dict", "function"};
	return names[v->type];
}

static int eval(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out);

static const char *const tests[] = {"defined", "undefined", "none", "string", "number",
				    "mapping", "iterable", "sequence", "callable", "boolean",
				    "integer", "float", NULL};

int tpl_test_known(const char *name)
{
	for (size_t i = 0; tests[i]; i++)
		if (strcmp(tests[i], name) == 0)
			return 1;
	return 0;
}

static bool tpl_test_apply(const char *name, const sl_tpl_value *v)
{
	sl_tpl_type t = v->type;
	switch (name[0]) {
	case 'd': return t != SL_TPL_UNDEFINED;
	case 'u': return t == SL_TPL_UNDEFINED;
	case 'n':
		if (name[1] == 'o')
			return t == SL_TPL_NONE;
		return t == SL_TPL_INT || t == SL_TPL_FLOAT; /* number */
	case 's':
		if (name[1] == 't')
			return t == SL_TPL_STRING;
		return t == SL_TPL_STRING || t == SL_TPL_LIST || t == SL_TPL_DICT; /* sequence */
	case 'm': return t == SL_TPL_DICT;
	case 'i':
		if (name[1] == 't')
			return t == SL_TPL_STRING || t == SL_TPL_LIST || t == SL_TPL_DICT;
		return t == SL_TPL_INT; /* integer */
	case 'c': return t == SL_TPL_CALLABLE;
	case 'b': return t == SL_TPL_BOOL;
	case 'f': return t == SL_TPL_FLOAT;
	}
	return false;
}

static int lookup(render *r, scope *sc, const char *name, sl_tpl_value *out)
{
	for (; sc; sc = sc->up) {
		const sl_tpl_value *v = sl_tpl_dict_get(sc->vars, name);
		if (v) {
			*out = *v;
			return 0;
		}
	}
	if (r->env && r->env->lookup) {
		int rc = r->env->lookup(r->env->ud, name, out, &r->a, r->err);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return 0;
	}
	*out = undefined(name);
	return 0;
}

static int to_string(render *r, const sl_tpl_value *v, const char **s, size_t *n)
{
	if (v->type == SL_TPL_STRING) {
		*s = v->u.str.s;
		*n = v->u.str.len;
		return 0;
	}
	sl_buf b = SL_BUF_INIT;
	int rc = sl_tpl_value_write(&b, v);
	char *c = rc == 0 ? sl_arena_strndup(&r->a, b.data ? b.data : "", b.len) : NULL;
	*n = b.len;
	sl_buf_free(&b);
	if (!c)
		return oom(r);
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

static int64_t inum(const sl_tpl_value *v) { return v->type == SL_TPL_INT ? v->u.i : v->u.b; }

static bool values_equal(const sl_tpl_value *x, const sl_tpl_value *y)
{
	if (is_num(x) && is_num(y))
		return x->type == SL_TPL_FLOAT || y->type == SL_TPL_FLOAT ? num(x) == num(y)
									  : inum(x) == inum(y);
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
			if (!values_equal(&x->u.list->items[i], &y->u.list->items[i]))
				return false;
		return true;
	case SL_TPL_DICT:
		if (x->u.dict->len != y->u.dict->len)
			return false;
		for (size_t i = 0; i < x->u.dict->len; i++) {
			const sl_tpl_value *o = sl_tpl_dict_get(y->u.dict, x->u.dict->keys[i]);
			if (!o || !values_equal(&x->u.dict->vals[i], o))
				return false;
		}
		return true;
	case SL_TPL_CALLABLE: return x->u.fn.data == y->u.fn.data && x->u.fn.name == y->u.fn.name;
	default: return false;
	}
}

static int contains(render *r, const tpl_node *n, const sl_tpl_value *hay,
		    const sl_tpl_value *needle, bool *out)
{
	const char *s;
	size_t len;
	int rc;
	switch (hay->type) {
	case SL_TPL_STRING:
		if ((rc = to_string(r, needle, &s, &len)) < 0)
			return rc;
		*out = len == 0 || (len <= hay->u.str.len && memmem(hay->u.str.s, hay->u.str.len, s, len));
		return 0;
	case SL_TPL_LIST:
		*out = false;
		for (size_t i = 0; i < hay->u.list->len && !*out; i++)
			*out = values_equal(&hay->u.list->items[i], needle);
		return 0;
	case SL_TPL_DICT:
		*out = needle->type == SL_TPL_STRING && sl_tpl_dict_get(hay->u.dict, needle->u.str.s);
		return 0;
	default:
		return fail_at(r, n, SL_EINVAL, "'in' needs a string, list or dict on its right, not %s",
			       type_name(hay));
	}
}

static int arith(render *r, const tpl_node *n, const char *op, const sl_tpl_value *x,
		 const sl_tpl_value *y, sl_tpl_value *out)
{
	if (op[0] == '+' && x->type == SL_TPL_STRING && y->type == SL_TPL_STRING) {
		char *s = sl_arena_sprintf(&r->a, "%s%s", x->u.str.s, y->u.str.s);
		if (!s)
			return oom(r);
		*out = (sl_tpl_value){.type = SL_TPL_STRING, .u.str = {s, x->u.str.len + y->u.str.len}};
		return 0;
	}
	if (op[0] == '+' && x->type == SL_TPL_LIST && y->type == SL_TPL_LIST) {
		*out = sl_tpl_list_new(&r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < x->u.list->len; i++)
			if (sl_tpl_list_push(&r->a, out->u.list, x->u.list->items[i]) < 0)
				return oom(r);
		for (size_t i = 0; i < y->u.list->len; i++)
			if (sl_tpl_list_push(&r->a, out->u.list, y->u.list->items[i]) < 0)
				return oom(r);
		return 0;
	}
	if (op[0] == '*' && op[1] == 0 && x->type == SL_TPL_STRING && y->type == SL_TPL_INT) {
		sl_buf b = SL_BUF_INIT;
		int rc = 0;
		for (int64_t i = 0; i < y->u.i && rc == 0; i++)
			rc = sl_buf_append(&b, x->u.str.s, x->u.str.len);
		if (rc == 0)
			*out = sl_tpl_string(&r->a, b.data ? b.data : "", b.len);
		sl_buf_free(&b);
		return rc == 0 && out->type == SL_TPL_STRING ? 0 : oom(r);
	}
	if (!is_num(x) || !is_num(y))
		return fail_at(r, n, SL_EINVAL, "cannot apply '%s' to %s and %s", op, type_name(x),
			       type_name(y));
	bool fl = x->type == SL_TPL_FLOAT || y->type == SL_TPL_FLOAT;
	double a = num(x), b = num(y);
	int64_t i = inum(x), j = inum(y);
	if ((op[0] == '/' || op[0] == '%') && b == 0)
		return fail_at(r, n, SL_EINVAL, "division by zero");
	switch (op[0]) {
	case '+': *out = fl ? sl_tpl_float(a + b) : sl_tpl_int((int64_t)((uint64_t)i + (uint64_t)j)); break;
	case '-': *out = fl ? sl_tpl_float(a - b) : sl_tpl_int((int64_t)((uint64_t)i - (uint64_t)j)); break;
	case '*':
		if (op[1] == '*')
			*out = fl || j < 0 ? sl_tpl_float(pow(a, b)) : sl_tpl_int((int64_t)pow(a, b));
		else
			*out = fl ? sl_tpl_float(a * b) : sl_tpl_int((int64_t)((uint64_t)i * (uint64_t)j));
		break;
	case '/':
		if (op[1] == '/') {
			if (fl) {
				*out = sl_tpl_float(floor(a / b));
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
	if (op[0] == '=' || op[0] == '!') {
		*out = values_equal(x, y) == (op[0] == '=');
		return 0;
	}
	int c;
	if (is_num(x) && is_num(y))
		c = num(x) < num(y) ? -1 : num(x) > num(y);
	else if (x->type == SL_TPL_STRING && y->type == SL_TPL_STRING)
		c = strcmp(x->u.str.s, y->u.str.s);
	else
		return fail_at(r, n, SL_EINVAL, "cannot compare %s and %s with '%s'", type_name(x),
			       type_name(y), op);
	*out = op[0] == '<' ? (op[1] == '=' ? c <= 0 : c < 0) : (op[1] == '=' ? c >= 0 : c > 0);
	return 0;
}

static int get_item(render *r, const tpl_node *n, const sl_tpl_value *obj,
		    const sl_tpl_value *key, const char *what, sl_tpl_value *out)
{
	if (obj->type == SL_TPL_UNDEFINED) /* point at the undefined object */
		return fail_at(r, n->a ? n->a : n, SL_EINVAL, "'%s' is undefined", undef_name(obj));
	if (obj->type == SL_TPL_DICT && key->type == SL_TPL_STRING) {
		const sl_tpl_value *v = sl_tpl_dict_get(obj->u.dict, key->u.str.s);
		*out = v ? *v : undefined(what);
		return 0;
	}
	if ((obj->type == SL_TPL_LIST || obj->type == SL_TPL_STRING) && key->type == SL_TPL_INT) {
		int64_t len = obj->type == SL_TPL_LIST ? (int64_t)obj->u.list->len
						       : (int64_t)obj->u.str.len;
		int64_t i = key->u.i < 0 ? key->u.i + len : key->u.i;
		if (i < 0 || i >= len) {
			*out = undefined(what);
			return 0;
		}
		if (obj->type == SL_TPL_LIST)
			*out = obj->u.list->items[i];
		else
			*out = sl_tpl_string(&r->a, obj->u.str.s + i, 1);
		return out->type == SL_TPL_UNDEFINED ? oom(r) : 0;
	}
	*out = undefined(what);
	return 0;
}

/* evaluates call and filter arguments */
static int eval_args(render *r, scope *sc, const tpl_node *n, sl_tpl_value **args,
		     sl_tpl_kwarg **kw)
{
	size_t na = n->args.len, nk = n->kwvals.len;
	*args = sl_arena_alloc(&r->a, (na ? na : 1) * sizeof **args);
	*kw = sl_arena_alloc(&r->a, (nk ? nk : 1) * sizeof **kw);
	if (!*args || !*kw)
		return oom(r);
	for (size_t i = 0; i < na; i++) {
		int rc = eval(r, sc, n->args.v[i], &(*args)[i]);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < nk; i++) {
		(*kw)[i].name = n->kwnames[i];
		int rc = eval(r, sc, n->kwvals.v[i], &(*kw)[i].value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* dict.items(), .keys(), .values(), .get(k[, d]) */
static int dict_method(render *r, const tpl_node *n, const sl_tpl_dict *d, const char *m,
		       const sl_tpl_value *args, size_t nargs, sl_tpl_value *out)
{
	if (strcmp(m, "get") == 0) {
		if (nargs < 1 || nargs > 2 || args[0].type != SL_TPL_STRING)
			return fail_at(r, n, SL_EINVAL, "get() takes a key and an optional default");
		const sl_tpl_value *v = sl_tpl_dict_get(d, args[0].u.str.s);
		*out = v ? *v : nargs == 2 ? args[1] : sl_tpl_none();
		return 0;
	}
	*out = sl_tpl_list_new(&r->a);
	if (out->type != SL_TPL_LIST)
		return oom(r);
	for (size_t i = 0; i < d->len; i++) {
		sl_tpl_value k = {.type = SL_TPL_STRING, .u.str = {d->keys[i], strlen(d->keys[i])}};
		sl_tpl_value item = m[0] == 'k' ? k : d->vals[i];
		if (m[0] == 'i') {
			item = sl_tpl_list_new(&r->a);
			if (item.type != SL_TPL_LIST || sl_tpl_list_push(&r->a, item.u.list, k) < 0 ||
			    sl_tpl_list_push(&r->a, item.u.list, d->vals[i]) < 0)
				return oom(r);
		}
		if (sl_tpl_list_push(&r->a, out->u.list, item) < 0)
			return oom(r);
	}
	return 0;
}

static int eval_call(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out)
{
	sl_tpl_value fn, *args;
	sl_tpl_kwarg *kw;
	int rc;
	const tpl_node *callee = n->a;
	if (callee->kind == N_ATTR) {
		sl_tpl_value obj;
		if ((rc = eval(r, sc, callee->a, &obj)) < 0)
			return rc;
		if (obj.type == SL_TPL_DICT && !sl_tpl_dict_get(obj.u.dict, callee->s) &&
		    (!strcmp(callee->s, "items") || !strcmp(callee->s, "keys") ||
		     !strcmp(callee->s, "values") || !strcmp(callee->s, "get"))) {
			if ((rc = eval_args(r, sc, n, &args, &kw)) < 0)
				return rc;
			return dict_method(r, n, obj.u.dict, callee->s, args, n->args.len, out);
		}
		sl_tpl_value key = {.type = SL_TPL_STRING, .u.str = {callee->s, strlen(callee->s)}};
		if ((rc = get_item(r, callee, &obj, &key, callee->s, &fn)) < 0)
			return rc;
	} else if ((rc = eval(r, sc, callee, &fn)) < 0) {
		return rc;
	}
	if (fn.type == SL_TPL_UNDEFINED)
		return fail_at(r, n, SL_EINVAL, "'%s' is undefined", undef_name(&fn));
	if (fn.type != SL_TPL_CALLABLE)
		return fail_at(r, n, SL_EINVAL, "%s is not callable", type_name(&fn));
	if ((rc = eval_args(r, sc, n, &args, &kw)) < 0)
		return rc;
	if (!r->env || !r->env->call)
		return fail_at(r, n, SL_EINVAL, "'%s' cannot be called here",
			       fn.u.fn.name ? fn.u.fn.name : "function");
	*out = sl_tpl_none();
	rc = r->env->call(r->env->ud, &fn, args, n->args.len, kw, n->kwvals.len, out, &r->a, r->err);
	return rc < 0 ? prefix_at(r, n, rc) : 0;
}

static int eval(render *r, scope *sc, const tpl_node *n, sl_tpl_value *out)
{
	sl_tpl_value x, y;
	int rc;
	bool b;
	switch (n->kind) {
	case N_LIT:
		*out = n->lit;
		return 0;
	case N_NAME:
		return lookup(r, sc, n->s, out);
	case N_LIST:
		*out = sl_tpl_list_new(&r->a);
		if (out->type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < n->args.len; i++) {
			if ((rc = eval(r, sc, n->args.v[i], &x)) < 0)
				return rc;
			if (sl_tpl_list_push(&r->a, out->u.list, x) < 0)
				return oom(r);
		}
		return 0;
	case N_DICT:
		*out = sl_tpl_dict_new(&r->a);
		if (out->type != SL_TPL_DICT)
			return oom(r);
		for (size_t i = 0; i < n->args.len; i++) {
			const char *k;
			size_t kl;
			if ((rc = eval(r, sc, n->args.v[i], &x)) < 0 ||
			    (rc = to_string(r, &x, &k, &kl)) < 0 ||
			    (rc = eval(r, sc, n->kwvals.v[i], &y)) < 0)
				return rc;
			if (sl_tpl_dict_set(&r->a, out->u.dict, k, y) < 0)
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
	case N_ITEM:
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval(r, sc, n->b, &y)) < 0)
			return rc;
		return get_item(r, n, &x, &y, "item", out);
	case N_CALL:
		return eval_call(r, sc, n, out);
	case N_NEG:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		if (!is_num(&x))
			return fail_at(r, n, SL_EINVAL, "cannot negate %s", type_name(&x));
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
		*out = undefined(NULL);
		return 0;
	case N_BINOP:
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval(r, sc, n->b, &y)) < 0)
			return rc;
		if (n->s[0] == '~') {
			const char *s1, *s2;
			size_t l1, l2;
			if ((rc = to_string(r, &x, &s1, &l1)) < 0 || (rc = to_string(r, &y, &s2, &l2)) < 0)
				return rc;
			char *s = sl_arena_sprintf(&r->a, "%s%s", s1, s2);
			if (!s)
				return oom(r);
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
	case N_FILTER: {
		sl_tpl_value *args;
		sl_tpl_kwarg *kw;
		if ((rc = eval(r, sc, n->a, &x)) < 0 || (rc = eval_args(r, sc, n, &args, &kw)) < 0)
			return rc;
		rc = tpl_filter_apply(n->s, out, &x, args, n->args.len, kw, n->kwvals.len, &r->a, r->err);
		return rc < 0 ? prefix_at(r, n, rc) : 0;
	}
	case N_TEST:
		if ((rc = eval(r, sc, n->a, &x)) < 0)
			return rc;
		b = tpl_test_apply(n->s, &x);
		*out = sl_tpl_bool(b != n->lit.u.b);
		return 0;
	default:
		return fail_at(r, n, SL_EINTERNAL, "not an expression");
	}
}

static int exec_body(render *r, scope *sc, const tpl_nodes *body);

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
		if ((rc = dict_method(r, n, it.u.dict, "keys", NULL, 0, &items)) < 0)
			return rc;
		break;
	case SL_TPL_STRING:
		items = sl_tpl_list_new(&r->a);
		if (items.type != SL_TPL_LIST)
			return oom(r);
		for (size_t i = 0; i < it.u.str.len; i++)
			if (sl_tpl_list_push(&r->a, items.u.list, sl_tpl_string(&r->a, it.u.str.s + i, 1)) < 0)
				return oom(r);
		break;
	case SL_TPL_UNDEFINED:
	case SL_TPL_NONE:
		return fail_at(r, n->a, SL_EINVAL, "'for' over %s '%s'",
			       it.type == SL_TPL_NONE ? "none" : "undefined",
			       it.type == SL_TPL_NONE ? "None" : undef_name(&it));
	default:
		return fail_at(r, n->a, SL_EINVAL, "'for' cannot iterate over %s", type_name(&it));
	}
	size_t len = items.u.list->len;
	if (len == 0)
		return exec_body(r, sc, &n->kwvals);
	for (size_t i = 0; i < len; i++) {
		sl_tpl_value vars = sl_tpl_dict_new(&r->a), loop = sl_tpl_dict_new(&r->a);
		if (vars.type != SL_TPL_DICT || loop.type != SL_TPL_DICT)
			return oom(r);
		sl_tpl_dict *l = loop.u.dict;
		const sl_tpl_value *item = &items.u.list->items[i];
		if (sl_tpl_dict_set(&r->a, l, "index", sl_tpl_int((int64_t)i + 1)) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "index0", sl_tpl_int((int64_t)i)) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "revindex", sl_tpl_int((int64_t)(len - i))) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "revindex0", sl_tpl_int((int64_t)(len - i - 1))) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "first", sl_tpl_bool(i == 0)) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "last", sl_tpl_bool(i + 1 == len)) < 0 ||
		    sl_tpl_dict_set(&r->a, l, "length", sl_tpl_int((int64_t)len)) < 0 ||
		    sl_tpl_dict_set(&r->a, vars.u.dict, "loop", loop) < 0)
			return oom(r);
		if (n->ntargets == 1) {
			if (sl_tpl_dict_set(&r->a, vars.u.dict, n->targets[0], *item) < 0)
				return oom(r);
		} else {
			if (item->type != SL_TPL_LIST || item->u.list->len != 2)
				return fail_at(r, n, SL_EINVAL,
					       "'for %s, %s' needs items of two values, got %s",
					       n->targets[0], n->targets[1], type_name(item));
			if (sl_tpl_dict_set(&r->a, vars.u.dict, n->targets[0], item->u.list->items[0]) < 0 ||
			    sl_tpl_dict_set(&r->a, vars.u.dict, n->targets[1], item->u.list->items[1]) < 0)
				return oom(r);
		}
		scope inner = {sc, vars.u.dict};
		if ((rc = exec_body(r, &inner, &n->args)) < 0)
			return rc;
	}
	return 0;
}

static int exec_body(render *r, scope *sc, const tpl_nodes *body)
{
	int rc;
	for (size_t i = 0; i < body->len; i++) {
		const tpl_node *n = body->v[i];
		sl_tpl_value v;
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
			if (!n->a) {
				/* block set: the body's output, as a string */
				sl_buf *outer = r->out, inner = SL_BUF_INIT;
				r->out = &inner;
				rc = exec_body(r, sc, &n->args);
				r->out = outer;
				if (rc == 0) {
					v = sl_tpl_string(&r->a, inner.data ? inner.data : "", inner.len);
					if (v.type != SL_TPL_STRING)
						rc = oom(r);
				}
				sl_buf_free(&inner);
				if (rc < 0)
					return rc;
			} else if ((rc = eval(r, sc, n->a, &v)) < 0) {
				return rc;
			}
			if (sl_tpl_dict_set(&r->a, sc->vars, n->s, v) < 0)
				return oom(r);
			break;
		default:
			return fail_at(r, n, SL_EINTERNAL, "not a statement");
		}
	}
	return 0;
}

int sl_tpl_render(const sl_tpl *t, const sl_tpl_env *env, sl_buf *out, sl_error *err)
{
	render r = {.t = t, .env = env, .out = out, .err = err};
	sl_arena_init(&r.a, 64 * 1024);
	sl_tpl_value top = sl_tpl_dict_new(&r.a);
	int rc;
	if (top.type != SL_TPL_DICT) {
		rc = oom(&r);
		goto done;
	}
	scope sc = {NULL, top.u.dict};
	rc = exec_body(&r, &sc, &t->body);
done:
	sl_arena_free(&r.a);
	return rc;
}
