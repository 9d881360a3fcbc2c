/* template_int.h: tokens and tree nodes shared by the lexer, parser and renderer. */
#ifndef SL_TEMPLATE_INT_H
#define SL_TEMPLATE_INT_H

#include "template/template.h"

typedef enum {
	TK_TEXT,
	TK_VAR_BEGIN,   /* {{ */
	TK_VAR_END,     /* }} */
	TK_BLOCK_BEGIN, /* {% */
	TK_BLOCK_END,   /* %} */
	TK_NAME,
	TK_INT,
	TK_FLOAT,
	TK_STRING,
	TK_OP,
	TK_EOF
} tk_type;

typedef struct tpl_token {
	tk_type type;
	const char *s; /* text, name, op, decoded string (arena) */
	size_t len;
	int64_t i;
	double f;
	int line, col;
} tpl_token;

typedef struct tpl_tokens {
	tpl_token *v;
	size_t len, cap;
} tpl_tokens;

/* Splits src into tokens (whitespace control applied to TEXT): the array is
 * heap memory the caller frees with sl_free, the strings live in a. */
int tpl_lex(tpl_tokens *out, sl_arena *a, const char *name, const char *src,
	    size_t len, sl_error *err);

typedef enum {
	/* statements */
	N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_MACRO, N_CALLBLOCK, N_DO, N_FILTERBLOCK,
	N_NAMED, N_BREAK, N_CONTINUE, N_WITH,
	/* expressions */
	N_LIT, N_LIST, N_DICT, N_NAME, N_ATTR, N_ITEM, N_CALL, N_BINOP, N_NEG,
	N_NOT, N_AND, N_OR, N_COND, N_FILTER, N_TEST, N_SLICE
} node_kind;

/*
 * Bounds that keep a runaway template (joins of joins, endless loops of
 * appends) from taking the machine: one string, and all a render allocates.
 */
#ifndef TPL_MAX_STRING /* the fuzz target builds with smaller ones */
#define TPL_MAX_STRING (64u << 20)
#endif
#ifndef TPL_MAX_RENDER_BYTES
#define TPL_MAX_RENDER_BYTES ((size_t)512 << 20)
#endif

/* N_MACRO flags: the body uses these names, so the call accepts them */
#define MF_VARARGS 1
#define MF_KWARGS 2
#define MF_CALLER 4
/* N_SET flags */
#define SF_ATTR 1   /* set ns.attr = v: s is ns, targets[0] attr */
#define SF_UNPACK 2 /* set a, b = v: targets */
/* N_FOR flags */
#define FF_PREVNEXT 1 /* the body uses loop.previtem / loop.nextitem */

typedef struct tpl_node tpl_node;

typedef struct tpl_nodes {
	tpl_node **v;
	size_t len, cap;
} tpl_nodes;

struct tpl_node {
	node_kind kind;
	int line, col;
	const char *s;  /* text, name, attribute, op, filter */
	size_t len;     /* text length */
	sl_tpl_value lit;
	tpl_node *a, *b, *c; /* operands; N_IF: a cond; N_FOR: a iter */
	tpl_nodes args;      /* list items, dict keys, call/filter args; body */
	tpl_nodes kwvals;    /* dict values, call/filter keyword values; else body */
	const char **kwnames;
	const char *targets[2]; /* N_FOR loop variables; N_SET target is s */
	size_t ntargets;
	tpl_node *next_elif;   /* N_IF: the elif/else chain (an N_IF with a == NULL is else) */
	tpl_node *d;           /* N_SLICE: step; N_FOR: the `if` filter */
	const char *tag;       /* N_MACRO / N_NAMED: the tag ("macro", "test", "snapshot") */
	int flags;
	/*
	 * N_MACRO: s name, kwnames/kwvals params and defaults (NULL: none),
	 * args body. N_CALLBLOCK: a the call, b the caller macro. N_FILTERBLOCK:
	 * a the filter chain (innermost a NULL), args body. N_NAMED: tag, s
	 * name, args body. N_SLICE: a[b:c:d]. N_WITH: kwnames/kwvals, args body.
	 * N_CALL: a callee, args/kwvals, c *args and d **kwargs (or NULL).
	 */
};

struct sl_tpl {
	sl_arena arena;
	const char *name;
	tpl_nodes body;
	tpl_nodes macros;          /* top-level N_MACRO, in order */
	sl_tpl_value *macro_vals;  /* their values */
	tpl_nodes blocks;          /* top-level N_NAMED */
};

/* `is` tests: 1 when name is a known test. */
int tpl_test_known(const char *name);
/* 1 / 0 whether v passes test name (with args); <0 with err on a bad argument */
int tpl_test_apply(const char *name, const sl_tpl_value *v, const sl_tpl_value *args,
		   size_t nargs, sl_error *err);
/* Jinja's == */
bool tpl_values_equal(const sl_tpl_value *x, const sl_tpl_value *y);
/* the string form of v (as {{ v }} prints it), in a */
int tpl_to_str(const sl_tpl_value *v, sl_arena *a, const char **s, size_t *n, sl_error *err);
/* String, list and dict methods (obj.name(args)). Returns SL_ENOTFOUND without
 * touching err when obj has no such method. */
int tpl_method_call(sl_tpl_value *obj, const char *name, const sl_tpl_value *args,
		    size_t nargs, const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out,
		    sl_arena *a, sl_error *err);
/* Python's "fmt" % args (args a tuple, or one value) */
int tpl_percent_format(const sl_tpl_value *fmt, const sl_tpl_value *args, sl_arena *a,
		       sl_tpl_value *out, sl_error *err);
/* Python repr of a float */
int tpl_write_float(sl_buf *out, double f);
const char *tpl_type_name(const sl_tpl_value *v);

int tpl_nodes_push(sl_arena *a, tpl_nodes *l, tpl_node *n);

/* Filters: returns SL_ENOTFOUND without touching err if name is unknown. */
int tpl_filter_known(const char *name);
int tpl_filter_apply(const char *name, sl_tpl_value *out, const sl_tpl_value *in,
		     const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw,
		     size_t nkw, sl_arena *a, sl_error *err);

#endif
