/*
 * template.h: a Jinja engine for the subset SQL projects use. Parses a
 * template once to a tree and renders it against a host environment that
 * supplies globals and functions through callbacks; knows nothing of dbt.
 */
#ifndef SL_TEMPLATE_H
#define SL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef enum {
	SL_TPL_UNDEFINED = 0, /* a name nobody defined; `default` and `is defined` see it */
	SL_TPL_NONE,
	SL_TPL_BOOL,
	SL_TPL_INT,
	SL_TPL_FLOAT,
	SL_TPL_STRING,
	SL_TPL_LIST,
	SL_TPL_DICT,
	SL_TPL_CALLABLE, /* supplied by the host; calls go to sl_tpl_env.call */
	SL_TPL_MACRO     /* a {% macro %} (or a macro_tag) of a parsed template */
} sl_tpl_type;

typedef struct sl_tpl_list sl_tpl_list;
typedef struct sl_tpl sl_tpl;
struct tpl_node;
typedef struct sl_tpl_dict sl_tpl_dict;

/*
 * A value. Strings, lists and dicts point into an arena (the render's, or
 * one the host owns for values that outlive renders); values never own.
 */
typedef struct sl_tpl_value {
	sl_tpl_type type;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			const char *s; /* NUL-terminated */
			size_t len;
		} str;
		sl_tpl_list *list;
		sl_tpl_dict *dict;
		struct {
			const char *name; /* for messages */
			void *data;       /* host's */
		} fn;
		struct {
			const sl_tpl *tpl;          /* the template that defines it */
			const struct tpl_node *def; /* its definition in tpl's tree */
			const void *closure;        /* scope of the render that defined it,
						       NULL for top-level macros */
		} macro;
	} u;
} sl_tpl_value;

struct sl_tpl_list {
	sl_tpl_value *items;
	size_t len, cap;
	bool tuple; /* prints as (a, b): varargs, items(), (a, b) literals */
};

/*
 * Insertion-ordered; keys are strings. When repr is set the dict prints as
 * repr ({{ d }}, ~, |string, |join) while its keys stay reachable as
 * attributes and items (a relation printing as "main"."orders").
 */
struct sl_tpl_dict {
	const char **keys;
	sl_tpl_value *vals;
	size_t len, cap;
	const char *repr;
};

typedef struct sl_tpl_kwarg {
	const char *name;
	sl_tpl_value value;
} sl_tpl_kwarg;

/* Constructors: the value borrows or allocates from `a`. */
sl_tpl_value sl_tpl_none(void);
sl_tpl_value sl_tpl_bool(bool b);
sl_tpl_value sl_tpl_int(int64_t i);
sl_tpl_value sl_tpl_float(double f);
/* Copies s into a; UNDEFINED when out of memory. */
sl_tpl_value sl_tpl_string(sl_arena *a, const char *s, size_t len);
sl_tpl_value sl_tpl_callable(const char *name, void *data);
/* New empty list/dict in a; UNDEFINED when out of memory. */
sl_tpl_value sl_tpl_list_new(sl_arena *a);
sl_tpl_value sl_tpl_dict_new(sl_arena *a);
/* Append / set (replacing an existing key). 0 or SL_ENOMEM. */
int sl_tpl_list_push(sl_arena *a, sl_tpl_list *l, sl_tpl_value v);
int sl_tpl_dict_set(sl_arena *a, sl_tpl_dict *d, const char *key, sl_tpl_value v);
/* Borrowed pointer into d, or NULL. */
const sl_tpl_value *sl_tpl_dict_get(const sl_tpl_dict *d, const char *key);
/* Jinja truthiness. */
bool sl_tpl_truthy(const sl_tpl_value *v);
/* Appends v as Jinja prints it (None, True, 1.5, ['a', 1], ...). */
int sl_tpl_value_write(sl_buf *out, const sl_tpl_value *v);

/*
 * A host call callback returns SL_TPL_RETURN with *out set to make the
 * innermost macro being rendered stop and its call evaluate to *out
 * (dbt's {{ return(x) }}). Outside any macro the render ends with the
 * error "return outside a macro".
 */
#define SL_TPL_RETURN 1

/*
 * The host. lookup: 1 and *out filled when the host knows the name, 0 when
 * it does not (the name is then undefined), <0 with err on failure. It is
 * asked once per name per render; the answer is kept for the render, so a
 * template may mutate it ({% do cols.append(x) %}). Mutations of a value
 * the host keeps past the render may point into the render's arena: give
 * each render its own values, or values the templates do not mutate.
 * Attributes of a host function: f.attr (and f['attr']) on a
 * SL_TPL_CALLABLE named "f" asks lookup for the dotted name "f.attr"
 * (dbt's config(...) and config.get(...): lookup("config.get")); a 0
 * answer makes it undefined ('config.nope' is undefined when called).
 * The answer is kept for the render as above.
 * call: invoked for every call of a SL_TPL_CALLABLE value; returns 0 or <0
 * with err filled (the renderer prefixes file:line:column). Both allocate
 * any result in `a`, the render's arena. Either callback may be NULL.
 */
typedef struct sl_tpl_env {
	void *ud;
	int (*lookup)(void *ud, const char *name, sl_tpl_value *out, sl_arena *a,
		      sl_error *err);
	int (*call)(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args,
		    size_t nargs, const sl_tpl_kwarg *kwargs, size_t nkwargs,
		    sl_tpl_value *out, sl_arena *a, sl_error *err);
} sl_tpl_env;

/*
 * Parses src (len bytes) into a tree. name is used in messages
 * ("models/a.sql:3:7: unknown filter 'foo'"). *out must be freed with
 * sl_tpl_free. Returns 0 or SL_EFORMAT / SL_ENOMEM with err filled.
 */
int sl_tpl_parse(sl_tpl **out, const char *name, const char *src, size_t len,
		 sl_error *err);

/*
 * Extra syntax a host adds. macro_tags: tags parsed exactly like `macro`
 * ({% test not_null(model, column_name) %}...{% endtest %}). named_blocks:
 * tags whose body is a fragment rendered on request by sl_tpl_render_block
 * ({% snapshot orders_snapshot %}...{% endsnapshot %}); at top level they
 * render nothing.
 */
typedef struct sl_tpl_syntax {
	const char *const *macro_tags;
	int nmacro_tags;
	const char *const *named_blocks;
	int nnamed_blocks;
} sl_tpl_syntax;

/* sl_tpl_parse with extra syntax; syn may be NULL. */
int sl_tpl_parse_ex(sl_tpl **out, const char *name, const char *src, size_t len,
		    const sl_tpl_syntax *syn, sl_error *err);
void sl_tpl_free(sl_tpl *t);

/* The name given to sl_tpl_parse. */
const char *sl_tpl_name(const sl_tpl *t);

/*
 * Calls fn for each top-level macro of t, in source order; tag is "macro"
 * or the macro_tag. *macro is a SL_TPL_MACRO value valid as long as t; the
 * host may copy it and call it later with sl_tpl_call from any render.
 * Returns 0, or the first nonzero value fn returned.
 */
int sl_tpl_each_macro(const sl_tpl *t,
		      int (*fn)(void *ud, const char *tag, const char *name,
				const sl_tpl_value *macro),
		      void *ud);

/* Calls fn for each top-level named block (index 0, 1, ...); as above. */
int sl_tpl_each_block(const sl_tpl *t,
		      int (*fn)(void *ud, const char *tag, const char *name, int index),
		      void *ud);

/*
 * Renders the body of named block `index` (macros defined in the template
 * and inside the block are visible to it), appending to out.
 */
int sl_tpl_render_block(const sl_tpl *t, int index, const sl_tpl_env *env, sl_buf *out,
			sl_error *err);

/*
 * Calls a macro (or a host callable, through env->call) from host code.
 * Macro values from sl_tpl_each_macro live as long as their template; the
 * ones a render makes (a `caller`, a macro defined inside a model) only
 * until that render ends, so a host callback may call them, not keep them.
 * Names in a macro's body resolve in its parameters, then through env,
 * then among the top-level macros of its own template.
 * The macro body renders against env; *out is its output as a string, or
 * the value it returned (SL_TPL_RETURN). Results live in a. Returns 0 or
 * <0 with err filled ("name:line:column: what").
 */
int sl_tpl_call(const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		const sl_tpl_kwarg *kwargs, size_t nkwargs, const sl_tpl_env *env,
		sl_arena *a, sl_tpl_value *out, sl_error *err);

/*
 * Renders t, appending to out. env may be NULL. Returns 0 or <0 with err
 * filled as "name:line:column: what": SL_EFORMAT for a mistake in the
 * template (an undefined name called, a bad argument, a type error),
 * SL_ELIMIT past a limit, SL_ENOMEM, or the code the host's callback gave.
 */
int sl_tpl_render(const sl_tpl *t, const sl_tpl_env *env, sl_buf *out, sl_error *err);

#endif
