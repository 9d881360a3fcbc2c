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

/* Splits src into tokens in a (whitespace control applied to TEXT). */
int tpl_lex(tpl_tokens *out, sl_arena *a, const char *name, const char *src,
	    size_t len, sl_error *err);

typedef enum {
	/* statements */
	N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET,
	/* expressions */
	N_LIT, N_LIST, N_DICT, N_NAME, N_ATTR, N_ITEM, N_CALL, N_BINOP, N_NEG,
	N_NOT, N_AND, N_OR, N_COND, N_FILTER, N_TEST
} node_kind;

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
};

struct sl_tpl {
	sl_arena arena;
	const char *name;
	tpl_nodes body;
};

/* `is` tests: 1 when name is a known test. */
int tpl_test_known(const char *name);

int tpl_nodes_push(sl_arena *a, tpl_nodes *l, tpl_node *n);

/* Filters: returns SL_ENOTFOUND without touching err if name is unknown. */
int tpl_filter_known(const char *name);
int tpl_filter_apply(const char *name, sl_tpl_value *out, const sl_tpl_value *in,
		     const sl_tpl_value *args, size_t nargs, const sl_tpl_kwarg *kw,
		     size_t nkw, sl_arena *a, sl_error *err);

#endif
