/*
 * parser.c: turns the token list into a tree of statements (text, output,
 * if, for, set) and expressions, with Jinja's operator precedence. Every
 * error names the file, line and column and the construct.
 */
#include <stdio.h>
#include <string.h>

#include "template/template_int.h"

typedef struct parser {
	const char *name;
	tpl_token *t;
	size_t pos, n;
	sl_arena *a;
	sl_error *err;
	int depth; /* nesting of expressions and blocks, bounded so the stack is */
	const sl_tpl_syntax *syn;
	tpl_node *macros[64]; /* macros being parsed, innermost last */
	int nmacros;
	int loops; /* for bodies open around the current point, within its macro */
} parser;

#define MAX_DEPTH 200

static int enter(parser *p);

int tpl_nodes_push(sl_arena *a, tpl_nodes *l, tpl_node *n)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		tpl_node **v = sl_arena_alloc(a, cap * sizeof *v);
		if (!v)
			return SL_ENOMEM;
		if (l->len)
			memcpy(v, l->v, l->len * sizeof *v);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->len++] = n;
	return 0;
}

static tpl_token *cur(parser *p) { return &p->t[p->pos]; }

static bool is_op(parser *p, const char *op)
{
	tpl_token *t = cur(p);
	return t->type == TK_OP && t->len == strlen(op) && memcmp(t->s, op, t->len) == 0;
}

static bool is_name(parser *p, const char *w)
{
	tpl_token *t = cur(p);
	return t->type == TK_NAME && t->len == strlen(w) && memcmp(t->s, w, t->len) == 0;
}

static const char *tok_desc(tpl_token *t, char *buf, size_t n)
{
	switch (t->type) {
	case TK_EOF: return "end of template";
	case TK_TEXT: return "text";
	case TK_VAR_BEGIN: return "'{{'";
	case TK_VAR_END: return "'}}'";
	case TK_BLOCK_BEGIN: return "'{%'";
	case TK_BLOCK_END: return "'%}'";
	case TK_STRING: return "string";
	default: snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s); return buf;
	}
}

static int unexpected(parser *p, const char *expected)
{
	char b[64];
	tpl_token *t = cur(p);
	return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unexpected %s, expected %s", p->name,
			    t->line, t->col, tok_desc(t, b, sizeof b), expected);
}

static int oom(parser *p) { return sl_error_set(p->err, SL_ENOMEM, "out of memory"); }

static int expect_op(parser *p, const char *op, const char *expected)
{
	if (!is_op(p, op))
		return unexpected(p, expected);
	p->pos++;
	return 0;
}

static tpl_node *mk(parser *p, node_kind k, tpl_token *at)
{
	tpl_node *n = sl_arena_alloc(p->a, sizeof *n);
	if (!n)
		return NULL;
	memset(n, 0, sizeof *n);
	n->kind = k;
	n->line = at->line;
	n->col = at->col;
	return n;
}

static char *tokstr(parser *p, tpl_token *t) { return sl_arena_strndup(p->a, t->s, t->len); }

static int parse_expr(parser *p, tpl_node **out);

/* args of a call or filter: ( expr, ..., name=expr, ... ) with '(' consumed */
static int parse_args(parser *p, tpl_node *n)
{
	size_t kwcap = 0;
	while (!is_op(p, ")")) {
		int rc;
		if ((n->args.len + n->kwvals.len > 0 || n->c) && (rc = expect_op(p, ",", "',' or ')'")) < 0)
			return rc;
		if (is_op(p, ")"))
			break;
		if (is_op(p, "*") || is_op(p, "**")) { /* f(*list, **dict) */
			bool kw = cur(p)->len == 2;
			tpl_node **slot = kw ? &n->d : &n->c;
			if (*slot || n->kind != N_CALL)
				return unexpected(p, "an argument");
			p->pos++;
			if ((rc = parse_expr(p, slot)) < 0)
				return rc;
			continue;
		}
		if (n->d)
			return unexpected(p, "')' after **kwargs");
		if (cur(p)->type == TK_NAME && p->t[p->pos + 1].type == TK_OP &&
		    p->t[p->pos + 1].len == 1 && p->t[p->pos + 1].s[0] == '=') {
			const char *kn = tokstr(p, cur(p));
			p->pos += 2;
			tpl_node *v;
			if ((rc = parse_expr(p, &v)) < 0)
				return rc;
			if (n->kwvals.len == kwcap) {
				size_t cap = kwcap ? kwcap * 2 : 4;
				const char **k = sl_arena_alloc(p->a, cap * sizeof *k);
				if (!k || !kn)
					return oom(p);
				if (kwcap)
					memcpy(k, n->kwnames, kwcap * sizeof *k);
				n->kwnames = k;
				kwcap = cap;
			}
			n->kwnames[n->kwvals.len] = kn;
			if (tpl_nodes_push(p->a, &n->kwvals, v) < 0)
				return oom(p);
		} else {
			if (n->kwvals.len || n->c)
				return sl_error_set(p->err, SL_EFORMAT,
						    "%s:%d:%d: positional argument after keyword argument",
						    p->name, cur(p)->line, cur(p)->col);
			tpl_node *v;
			if ((rc = parse_expr(p, &v)) < 0)
				return rc;
			if (tpl_nodes_push(p->a, &n->args, v) < 0)
				return oom(p);
		}
	}
	p->pos++;
	return 0;
}

static int parse_primary(parser *p, tpl_node **out)
{
	tpl_token *t = cur(p);
	tpl_node *n = NULL;
	int rc;
	if (t->type == TK_INT || t->type == TK_FLOAT || t->type == TK_STRING) {
		if (!(n = mk(p, N_LIT, t)))
			return oom(p);
		n->lit = t->type == TK_INT ? sl_tpl_int(t->i)
			 : t->type == TK_FLOAT ? sl_tpl_float(t->f)
					       : (sl_tpl_value){.type = SL_TPL_STRING,
								.u.str = {t->s, t->len}};
		p->pos++;
		/* adjacent string literals concatenate */
		while (n->lit.type == SL_TPL_STRING && cur(p)->type == TK_STRING) {
			char *s = sl_arena_sprintf(p->a, "%s%s", n->lit.u.str.s, cur(p)->s);
			if (!s)
				return oom(p);
			n->lit.u.str.s = s;
			n->lit.u.str.len = strlen(s);
			p->pos++;
		}
	} else if (t->type == TK_NAME) {
		static const char *const kw[] = {"true", "True", "false", "False", "none", "None"};
		size_t k;
		for (k = 0; k < 6; k++)
			if (is_name(p, kw[k]))
				break;
		if (!(n = mk(p, k < 6 ? N_LIT : N_NAME, t)))
			return oom(p);
		if (k < 4)
			n->lit = sl_tpl_bool(k < 2);
		else if (k < 6)
			n->lit = sl_tpl_none();
		else if (!(n->s = tokstr(p, t)))
			return oom(p);
		if (k == 6) {
			int f = !strcmp(n->s, "varargs") ? MF_VARARGS
				: !strcmp(n->s, "kwargs") ? MF_KWARGS
				: !strcmp(n->s, "caller") ? MF_CALLER : 0;
			for (int i = 0; f && i < p->nmacros; i++)
				p->macros[i]->flags |= f;
		}
		p->pos++;
	} else if (is_op(p, "(")) {
		p->pos++;
		if (is_op(p, ")")) { /* () : an empty tuple */
			if (!(n = mk(p, N_LIST, t)))
				return oom(p);
			n->flags = 1;
		} else {
			if ((rc = parse_expr(p, &n)) < 0)
				return rc;
			if (is_op(p, ",")) { /* a tuple, kept as a list */
				tpl_node *l = mk(p, N_LIST, t);
				if (!l || tpl_nodes_push(p->a, &l->args, n) < 0)
					return oom(p);
				l->flags = 1; /* a tuple */
				while (is_op(p, ",")) {
					p->pos++;
					if (is_op(p, ")"))
						break;
					if ((rc = parse_expr(p, &n)) < 0)
						return rc;
					if (tpl_nodes_push(p->a, &l->args, n) < 0)
						return oom(p);
				}
				n = l;
			}
		}
		if ((rc = expect_op(p, ")", "')'")) < 0)
			return rc;
	} else if (is_op(p, "[")) {
		p->pos++;
		if (!(n = mk(p, N_LIST, t)))
			return oom(p);
		while (!is_op(p, "]")) {
			if (n->args.len && (rc = expect_op(p, ",", "',' or ']'")) < 0)
				return rc;
			if (is_op(p, "]"))
				break;
			tpl_node *v;
			if ((rc = parse_expr(p, &v)) < 0)
				return rc;
			if (tpl_nodes_push(p->a, &n->args, v) < 0)
				return oom(p);
		}
		p->pos++;
	} else if (is_op(p, "{")) {
		p->pos++;
		if (!(n = mk(p, N_DICT, t)))
			return oom(p);
		while (!is_op(p, "}")) {
			if (n->args.len && (rc = expect_op(p, ",", "',' or '}'")) < 0)
				return rc;
			if (is_op(p, "}"))
				break;
			tpl_node *k, *v;
			if ((rc = parse_expr(p, &k)) < 0)
				return rc;
			if ((rc = expect_op(p, ":", "':'")) < 0)
				return rc;
			if ((rc = parse_expr(p, &v)) < 0)
				return rc;
			if (tpl_nodes_push(p->a, &n->args, k) < 0 ||
			    tpl_nodes_push(p->a, &n->kwvals, v) < 0)
				return oom(p);
		}
		p->pos++;
	} else {
		return unexpected(p, "an expression");
	}
	/* postfix: .name, [expr], (args) */
	for (;;) {
		tpl_token *at = cur(p);
		tpl_node *m;
		if (is_op(p, ".")) {
			p->pos++;
			if (cur(p)->type != TK_NAME && cur(p)->type != TK_INT)
				return unexpected(p, "an attribute name");
			if (!(m = mk(p, N_ATTR, at)) || !(m->s = tokstr(p, cur(p))))
				return oom(p);
			p->pos++;
		} else if (is_op(p, "[")) {
			p->pos++;
			if (!(m = mk(p, N_ITEM, at)))
				return oom(p);
			if (!is_op(p, ":") && (rc = parse_expr(p, &m->b)) < 0)
				return rc;
			if (m->b && is_op(p, ",")) { /* x[a, b]: the key is a tuple */
				tpl_node *l = mk(p, N_LIST, at);
				if (!l || tpl_nodes_push(p->a, &l->args, m->b) < 0)
					return oom(p);
				l->flags = 1;
				while (is_op(p, ",")) {
					p->pos++;
					if (is_op(p, "]"))
						break;
					tpl_node *v;
					if ((rc = parse_expr(p, &v)) < 0)
						return rc;
					if (tpl_nodes_push(p->a, &l->args, v) < 0)
						return oom(p);
				}
				m->b = l;
			} else if (is_op(p, ":")) { /* a slice: [b:c:d], each optional */
				m->kind = N_SLICE;
				p->pos++;
				if (!is_op(p, ":") && !is_op(p, "]") && (rc = parse_expr(p, &m->c)) < 0)
					return rc;
				if (is_op(p, ":")) {
					p->pos++;
					if (!is_op(p, "]") && (rc = parse_expr(p, &m->d)) < 0)
						return rc;
				}
			}
			if ((rc = expect_op(p, "]", "']'")) < 0)
				return rc;
		} else if (is_op(p, "(")) {
			p->pos++;
			if (!(m = mk(p, N_CALL, at)))
				return oom(p);
			if ((rc = parse_args(p, m)) < 0)
				return rc;
		} else {
			break;
		}
		if (m->kind == N_CALL) { /* a call is where its callee starts */
			m->line = n->line;
			m->col = n->col;
		}
		m->a = n;
		n = m;
	}
	*out = n;
	return 0;
}

/* a test's single argument without parentheses starts here */
static bool starts_test_arg(parser *p)
{
	tpl_token *t = cur(p);
	static const char *const stop[] = {"else", "or", "and", "if", "is", "in", "not", NULL};
	if (t->type == TK_INT || t->type == TK_FLOAT || t->type == TK_STRING)
		return true;
	if (t->type == TK_NAME) {
		for (size_t k = 0; stop[k]; k++)
			if (is_name(p, stop[k]))
				return false;
		return true;
	}
	return is_op(p, "[") || is_op(p, "{");
}

static int parse_unary_f(parser *p, tpl_node **out, bool with_filter);

static int parse_unary(parser *p, tpl_node **out) { return parse_unary_f(p, out, true); }

/* Jinja's: a sign applies before the filters ((-3)|abs) */
static int parse_unary_f(parser *p, tpl_node **out, bool with_filter)
{
	int rc;
	tpl_node *n;
	if (is_op(p, "-") || is_op(p, "+")) {
		tpl_token *at = cur(p);
		bool neg = at->s[0] == '-';
		p->pos++;
		if ((rc = enter(p)) < 0)
			return rc;
		rc = parse_unary_f(p, &n, false);
		p->depth--;
		if (rc < 0)
			return rc;
		if (neg) {
			tpl_node *m = mk(p, N_NEG, at);
			if (!m)
				return oom(p);
			m->a = n;
			n = m;
		}
	} else if ((rc = parse_primary(p, &n)) < 0) {
		return rc;
	}
	/* filters and `is [not] test` */
	while (with_filter && (is_op(p, "|") || is_name(p, "is"))) {
		if (is_name(p, "is")) {
			tpl_node *m = mk(p, N_TEST, cur(p));
			if (!m)
				return oom(p);
			p->pos++;
			if (is_name(p, "not")) {
				m->lit = sl_tpl_bool(true); /* negated */
				p->pos++;
			}
			tpl_token *tt = cur(p);
			if (tt->type != TK_NAME)
				return unexpected(p, "a test name");
			if (!(m->s = tokstr(p, tt)))
				return oom(p);
			if (!tpl_test_known(m->s))
				return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unknown test '%s'",
						    p->name, tt->line, tt->col, m->s);
			p->pos++;
			if (is_op(p, "(")) {
				p->pos++;
				if ((rc = parse_args(p, m)) < 0)
					return rc;
			} else if (starts_test_arg(p)) { /* x is divisibleby 3 */
				tpl_node *arg;
				if ((rc = parse_primary(p, &arg)) < 0)
					return rc;
				if (tpl_nodes_push(p->a, &m->args, arg) < 0)
					return oom(p);
			}
			m->a = n;
			n = m;
			continue;
		}
		p->pos++;
		tpl_token *ft = cur(p);
		if (ft->type != TK_NAME)
			return unexpected(p, "a filter name");
		tpl_node *m = mk(p, N_FILTER, ft);
		if (!m || !(m->s = tokstr(p, ft)))
			return oom(p);
		if (!tpl_filter_known(m->s))
			return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unknown filter '%s'",
					    p->name, ft->line, ft->col, m->s);
		p->pos++;
		if (is_op(p, "(")) {
			p->pos++;
			if ((rc = parse_args(p, m)) < 0)
				return rc;
		}
		m->a = n;
		n = m;
	}
	*out = n;
	return 0;
}

typedef int (*level_fn)(parser *, tpl_node **);

static int binary(parser *p, tpl_node **out, level_fn next, const char *const *ops)
{
	int rc;
	tpl_node *l;
	if ((rc = next(p, &l)) < 0)
		return rc;
	for (;;) {
		size_t k;
		for (k = 0; ops[k] && !is_op(p, ops[k]); k++)
			;
		if (!ops[k])
			break;
		tpl_node *m = mk(p, N_BINOP, cur(p));
		if (!m)
			return oom(p);
		m->s = ops[k];
		p->pos++;
		m->a = l;
		if ((rc = next(p, &m->b)) < 0)
			return rc;
		l = m;
	}
	*out = l;
	return 0;
}

static int parse_pow(parser *p, tpl_node **out)
{
	static const char *const o[] = {"**", NULL};
	return binary(p, out, parse_unary, o);
}
static int parse_mul(parser *p, tpl_node **out)
{
	static const char *const o[] = {"*", "//", "/", "%", NULL};
	return binary(p, out, parse_pow, o);
}
static int parse_concat(parser *p, tpl_node **out)
{
	static const char *const o[] = {"~", NULL};
	return binary(p, out, parse_mul, o);
}
static int parse_add(parser *p, tpl_node **out)
{
	static const char *const o[] = {"+", "-", NULL};
	return binary(p, out, parse_concat, o);
}

static int parse_compare(parser *p, tpl_node **out)
{
	static const char *const o[] = {"==", "!=", "<=", ">=", "<", ">", NULL};
	int rc;
	tpl_node *l;
	if ((rc = parse_add(p, &l)) < 0)
		return rc;
	for (;;) {
		tpl_token *at = cur(p);
		const char *op = NULL;
		size_t k;
		for (k = 0; o[k]; k++)
			if (is_op(p, o[k]))
				op = o[k];
		if (op) {
			p->pos++;
		} else if (is_name(p, "in")) {
			op = "in";
			p->pos++;
		} else if (is_name(p, "not") && p->t[p->pos + 1].type == TK_NAME &&
			   p->t[p->pos + 1].len == 2 && memcmp(p->t[p->pos + 1].s, "in", 2) == 0) {
			op = "not in";
			p->pos += 2;
		} else {
			break;
		}
		tpl_node *m = mk(p, N_BINOP, at);
		if (!m)
			return oom(p);
		m->s = op;
		m->a = l;
		if ((rc = parse_add(p, &m->b)) < 0)
			return rc;
		l = m;
	}
	*out = l;
	return 0;
}

static int parse_not(parser *p, tpl_node **out)
{
	int rc;
	if (is_name(p, "not")) {
		tpl_node *m = mk(p, N_NOT, cur(p));
		if (!m)
			return oom(p);
		p->pos++;
		*out = m;
		if ((rc = enter(p)) < 0)
			return rc;
		rc = parse_not(p, &m->a);
		p->depth--;
		return rc;
	}
	return parse_compare(p, out);
}

static int logic(parser *p, tpl_node **out, level_fn next, const char *w, node_kind k)
{
	int rc;
	tpl_node *l;
	if ((rc = next(p, &l)) < 0)
		return rc;
	while (is_name(p, w)) {
		tpl_node *m = mk(p, k, cur(p));
		if (!m)
			return oom(p);
		p->pos++;
		m->a = l;
		if ((rc = next(p, &m->b)) < 0)
			return rc;
		l = m;
	}
	*out = l;
	return 0;
}

static int parse_and(parser *p, tpl_node **out) { return logic(p, out, parse_not, "and", N_AND); }
static int parse_or(parser *p, tpl_node **out) { return logic(p, out, parse_and, "or", N_OR); }

static int enter(parser *p)
{
	if (++p->depth <= MAX_DEPTH)
		return 0;
	return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: nested more than %d deep", p->name,
			    cur(p)->line, cur(p)->col, MAX_DEPTH);
}

/* expr: or_expr [ 'if' or_expr [ 'else' expr ] ] */
static int parse_expr(parser *p, tpl_node **out)
{
	int rc;
	tpl_node *n;
	if ((rc = enter(p)) < 0)
		return rc;
	rc = parse_or(p, &n);
	p->depth--;
	if (rc < 0)
		return rc;
	if (is_name(p, "if")) {
		tpl_node *m = mk(p, N_COND, cur(p));
		if (!m)
			return oom(p);
		p->pos++;
		m->a = n;
		if ((rc = parse_or(p, &m->b)) < 0)
			return rc;
		if (is_name(p, "else")) {
			p->pos++;
			if ((rc = parse_expr(p, &m->c)) < 0)
				return rc;
		}
		n = m;
	}
	*out = n;
	return 0;
}

/* ---------------------------------------------------------------- statements */

static int expect_block_end(parser *p, const char *tag)
{
	if (is_op(p, ":") && p->t[p->pos + 1].type == TK_BLOCK_END)
		p->pos++; /* {% if x: %}: Jinja allows the colon */
	if (cur(p)->type == TK_BLOCK_END) {
		p->pos++;
		return 0;
	}
	char want[64];
	snprintf(want, sizeof want, "'%%}' to end '%s'", tag);
	return unexpected(p, want);
}

/*
 * Parses statements into body until a block tag whose name is one of ends;
 * leaves pos on that name (after '{%'). ends NULL: until end of template.
 * open names the block for "unclosed" messages.
 */
static int parse_body(parser *p, tpl_nodes *body, const char *const *ends, tpl_token *open,
		      const char *open_tag);

static int parse_if(parser *p, tpl_node **out, tpl_token *open)
{
	static const char *const ends[] = {"elif", "else", "endif", NULL};
	tpl_node *n = mk(p, N_IF, open), *cur_if;
	int rc;
	if (!n)
		return oom(p);
	cur_if = n;
	if ((rc = parse_expr(p, &n->a)) < 0 || (rc = expect_block_end(p, "if")) < 0)
		return rc;
	for (;;) {
		if ((rc = parse_body(p, &cur_if->args, ends, open, "if")) < 0)
			return rc;
		if (is_name(p, "endif")) {
			p->pos++;
			if ((rc = expect_block_end(p, "endif")) < 0)
				return rc;
			break;
		}
		bool is_else = is_name(p, "else");
		if (cur_if->a == NULL)
			return unexpected(p, "'endif' after 'else'");
		tpl_node *m = mk(p, N_IF, cur(p));
		if (!m)
			return oom(p);
		p->pos++;
		if (!is_else && (rc = parse_expr(p, &m->a)) < 0)
			return rc;
		if ((rc = expect_block_end(p, is_else ? "else" : "elif")) < 0)
			return rc;
		cur_if->next_elif = m;
		cur_if = m;
	}
	*out = n;
	return 0;
}

static int parse_for(parser *p, tpl_node **out, tpl_token *open)
{
	static const char *const ends[] = {"else", "endfor", NULL};
	static const char *const ends2[] = {"endfor", NULL};
	tpl_node *n = mk(p, N_FOR, open);
	int rc;
	if (!n)
		return oom(p);
	for (;;) {
		if (cur(p)->type != TK_NAME || n->ntargets == 2)
			return unexpected(p, "a loop variable name");
		if (!(n->targets[n->ntargets++] = tokstr(p, cur(p))))
			return oom(p);
		p->pos++;
		if (!is_op(p, ","))
			break;
		p->pos++;
	}
	if (!is_name(p, "in"))
		return unexpected(p, "'in'");
	p->pos++;
	if ((rc = parse_or(p, &n->a)) < 0)
		return rc;
	if (is_name(p, "if")) {
		p->pos++;
		if ((rc = parse_or(p, &n->d)) < 0)
			return rc;
	}
	if (is_name(p, "recursive"))
		return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: recursive 'for' loops are not supported",
				    p->name, cur(p)->line, cur(p)->col);
	if ((rc = expect_block_end(p, "for")) < 0)
		return rc;
	p->loops++;
	rc = parse_body(p, &n->args, ends, open, "for");
	p->loops--;
	if (rc < 0)
		return rc;
	if (is_name(p, "else")) {
		p->pos++;
		if ((rc = expect_block_end(p, "else")) < 0 ||
		    (rc = parse_body(p, &n->kwvals, ends2, open, "for")) < 0)
			return rc;
	}
	p->pos++; /* endfor */
	if ((rc = expect_block_end(p, "endfor")) < 0)
		return rc;
	*out = n;
	return 0;
}

static int parse_body(parser *p, tpl_nodes *body, const char *const *ends, tpl_token *open,
		      const char *open_tag);

static int parse_set(parser *p, tpl_node **out, tpl_token *open)
{
	tpl_node *n = mk(p, N_SET, open);
	int rc;
	if (!n)
		return oom(p);
	if (cur(p)->type != TK_NAME)
		return unexpected(p, "a variable name");
	if (!(n->s = tokstr(p, cur(p))))
		return oom(p);
	p->pos++;
	if (is_op(p, ".")) { /* {% set ns.x = v %} */
		p->pos++;
		if (cur(p)->type != TK_NAME)
			return unexpected(p, "an attribute name");
		if (!(n->targets[0] = tokstr(p, cur(p))))
			return oom(p);
		n->ntargets = 1;
		n->flags = SF_ATTR;
		p->pos++;
	} else if (is_op(p, ",")) { /* {% set a, b = v %} */
		n->targets[0] = n->s;
		n->ntargets = 1;
		n->flags = SF_UNPACK;
		while (is_op(p, ",")) {
			p->pos++;
			if (cur(p)->type != TK_NAME || n->ntargets == 2)
				return unexpected(p, "a variable name");
			if (!(n->targets[n->ntargets++] = tokstr(p, cur(p))))
				return oom(p);
			p->pos++;
		}
	}
	if (cur(p)->type == TK_BLOCK_END && !(n->flags & SF_UNPACK)) { /* {% set x %}...{% endset %} */
		static const char *const ends[] = {"endset", NULL};
		p->pos++;
		if ((rc = parse_body(p, &n->args, ends, open, "set")) < 0)
			return rc;
		p->pos++;
		if ((rc = expect_block_end(p, "endset")) < 0)
			return rc;
		*out = n;
		return 0;
	}
	if ((rc = expect_op(p, "=", "'='")) < 0 || (rc = parse_expr(p, &n->a)) < 0)
		return rc;
	if (is_op(p, ",")) { /* set a, b = 1, 2: a tuple */
		tpl_node *l = mk(p, N_LIST, open);
		if (!l || tpl_nodes_push(p->a, &l->args, n->a) < 0)
			return oom(p);
		l->flags = 1;
		while (is_op(p, ",")) {
			p->pos++;
			tpl_node *v;
			if ((rc = parse_expr(p, &v)) < 0)
				return rc;
			if (tpl_nodes_push(p->a, &l->args, v) < 0)
				return oom(p);
		}
		n->a = l;
	}
	if ((rc = expect_block_end(p, "set")) < 0)
		return rc;
	*out = n;
	return 0;
}


/* a name in a tag: {% macro NAME(...) %} */
static int tag_name(parser *p, const char **out, const char *what)
{
	if (cur(p)->type != TK_NAME)
		return unexpected(p, what);
	if (!(*out = tokstr(p, cur(p))))
		return oom(p);
	p->pos++;
	return 0;
}

/* (a, b=1, c='x') with '(' current; params into m->kwnames / kwvals (NULL: no default) */
static int parse_params(parser *p, tpl_node *m)
{
	int rc;
	size_t cap = 0;
	if ((rc = expect_op(p, "(", "'('")) < 0)
		return rc;
	while (!is_op(p, ")")) {
		if (m->kwvals.len && (rc = expect_op(p, ",", "',' or ')'")) < 0)
			return rc;
		if (is_op(p, ")"))
			break;
		const char *name;
		tpl_node *def = NULL;
		if ((rc = tag_name(p, &name, "a parameter name")) < 0)
			return rc;
		if (is_op(p, "=")) {
			p->pos++;
			if ((rc = parse_expr(p, &def)) < 0)
				return rc;
		} else if (m->kwvals.len && m->kwvals.v[m->kwvals.len - 1]) {
			return sl_error_set(p->err, SL_EFORMAT,
					    "%s:%d:%d: parameter '%s' without a default follows one with a default",
					    p->name, p->t[p->pos - 1].line, p->t[p->pos - 1].col, name);
		}
		if (m->kwvals.len == cap) {
			size_t nc = cap ? cap * 2 : 4;
			const char **k = sl_arena_alloc(p->a, nc * sizeof *k);
			if (!k)
				return oom(p);
			if (cap)
				memcpy(k, m->kwnames, cap * sizeof *k);
			m->kwnames = k;
			cap = nc;
		}
		m->kwnames[m->kwvals.len] = name;
		if (tpl_nodes_push(p->a, &m->kwvals, def) < 0)
			return oom(p);
	}
	p->pos++;
	return 0;
}

/* the body of a macro-like block up to {% end<tag> %}, with m on the macro stack */
static int parse_macro_body(parser *p, tpl_node *m, tpl_token *open, const char *tag)
{
	int rc;
	char *end = sl_arena_sprintf(p->a, "end%s", tag);
	const char *ends[] = {end, NULL};
	if (!end)
		return oom(p);
	if (p->nmacros == (int)(sizeof p->macros / sizeof p->macros[0]))
		return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: macros nested too deep", p->name,
				    open->line, open->col);
	p->macros[p->nmacros++] = m;
	int loops = p->loops;
	p->loops = 0;
	rc = parse_body(p, &m->args, ends, open, tag);
	p->loops = loops;
	p->nmacros--;
	if (rc < 0)
		return rc;
	p->pos++;
	if (cur(p)->type == TK_NAME && m->s && cur(p)->len == strlen(m->s) &&
	    memcmp(cur(p)->s, m->s, cur(p)->len) == 0)
		p->pos++; /* {% endmacro name %} */
	return expect_block_end(p, end);
}

/* {% macro name(params) %}body{% endmacro %}, and the host's macro tags */
static int parse_macro(parser *p, tpl_node **out, tpl_token *open, const char *tag)
{
	tpl_node *m = mk(p, N_MACRO, open);
	int rc;
	if (!m)
		return oom(p);
	m->tag = tag;
	if ((rc = tag_name(p, &m->s, "a macro name")) < 0 || (rc = parse_params(p, m)) < 0 ||
	    (rc = expect_block_end(p, tag)) < 0 || (rc = parse_macro_body(p, m, open, tag)) < 0)
		return rc;
	*out = m;
	return 0;
}

/* {% call m(args) %}body{% endcall %} and {% call(x) m() %}...{% endcall %} */
static int parse_callblock(parser *p, tpl_node **out, tpl_token *open)
{
	tpl_node *n = mk(p, N_CALLBLOCK, open), *m = mk(p, N_MACRO, open);
	int rc;
	if (!n || !m)
		return oom(p);
	m->tag = "call";
	m->s = "caller";
	if (is_op(p, "(") && (rc = parse_params(p, m)) < 0)
		return rc;
	tpl_token *at = cur(p);
	if ((rc = parse_expr(p, &n->a)) < 0)
		return rc;
	if (n->a->kind != N_CALL)
		return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: 'call' needs a macro call", p->name,
				    at->line, at->col);
	if ((rc = expect_block_end(p, "call")) < 0 || (rc = parse_macro_body(p, m, open, "call")) < 0)
		return rc;
	n->b = m;
	*out = n;
	return 0;
}

/* {% filter name(args) | name2 %}body{% endfilter %} */
static int parse_filterblock(parser *p, tpl_node **out, tpl_token *open)
{
	static const char *const ends[] = {"endfilter", NULL};
	tpl_node *n = mk(p, N_FILTERBLOCK, open), *chain = NULL;
	int rc;
	if (!n)
		return oom(p);
	for (;;) {
		tpl_token *ft = cur(p);
		if (ft->type != TK_NAME)
			return unexpected(p, "a filter name");
		tpl_node *m = mk(p, N_FILTER, ft);
		if (!m || !(m->s = tokstr(p, ft)))
			return oom(p);
		if (!tpl_filter_known(m->s))
			return sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unknown filter '%s'",
					    p->name, ft->line, ft->col, m->s);
		p->pos++;
		if (is_op(p, "(")) {
			p->pos++;
			if ((rc = parse_args(p, m)) < 0)
				return rc;
		}
		m->a = chain;
		chain = m;
		if (!is_op(p, "|"))
			break;
		p->pos++;
	}
	n->a = chain;
	if ((rc = expect_block_end(p, "filter")) < 0 ||
	    (rc = parse_body(p, &n->args, ends, open, "filter")) < 0)
		return rc;
	p->pos++;
	if ((rc = expect_block_end(p, "endfilter")) < 0)
		return rc;
	*out = n;
	return 0;
}

/* {% with a = 1, b = 2 %}body{% endwith %} */
static int parse_with(parser *p, tpl_node **out, tpl_token *open)
{
	static const char *const ends[] = {"endwith", NULL};
	tpl_node *n = mk(p, N_WITH, open);
	int rc;
	size_t cap = 0;
	if (!n)
		return oom(p);
	while (cur(p)->type != TK_BLOCK_END) {
		if (n->kwvals.len && (rc = expect_op(p, ",", "',' or '%}'")) < 0)
			return rc;
		const char *name;
		tpl_node *v;
		if ((rc = tag_name(p, &name, "a variable name")) < 0 ||
		    (rc = expect_op(p, "=", "'='")) < 0 || (rc = parse_expr(p, &v)) < 0)
			return rc;
		if (n->kwvals.len == cap) {
			size_t nc = cap ? cap * 2 : 4;
			const char **k = sl_arena_alloc(p->a, nc * sizeof *k);
			if (!k)
				return oom(p);
			if (cap)
				memcpy(k, n->kwnames, cap * sizeof *k);
			n->kwnames = k;
			cap = nc;
		}
		n->kwnames[n->kwvals.len] = name;
		if (tpl_nodes_push(p->a, &n->kwvals, v) < 0)
			return oom(p);
	}
	p->pos++;
	if ((rc = parse_body(p, &n->args, ends, open, "with")) < 0)
		return rc;
	p->pos++;
	if ((rc = expect_block_end(p, "endwith")) < 0)
		return rc;
	*out = n;
	return 0;
}

/* the host's named blocks: {% snapshot name %}body{% endsnapshot %} */
static int parse_named(parser *p, tpl_node **out, tpl_token *open, const char *tag)
{
	tpl_node *n = mk(p, N_NAMED, open);
	int rc;
	if (!n)
		return oom(p);
	n->tag = tag;
	char *end = sl_arena_sprintf(p->a, "end%s", tag);
	const char *ends[] = {end, NULL};
	if (!end)
		return oom(p);
	if ((rc = tag_name(p, &n->s, "a block name")) < 0)
		return rc;
	if (is_op(p, ",")) /* {% materialization name, adapter='x' %}: the rest is the host's */
		while (cur(p)->type != TK_BLOCK_END && cur(p)->type != TK_EOF)
			p->pos++;
	if ((rc = expect_block_end(p, tag)) < 0 ||
	    (rc = parse_body(p, &n->args, ends, open, tag)) < 0)
		return rc;
	p->pos++;
	if ((rc = expect_block_end(p, end)) < 0)
		return rc;
	*out = n;
	return 0;
}

static bool tag_is(const tpl_token *tag, const char *w)
{
	return tag->len == strlen(w) && memcmp(tag->s, w, tag->len) == 0;
}

/* the host's tag of this token in list, or NULL */
static const char *host_tag(const tpl_token *tag, const char *const *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] && tag_is(tag, list[i]))
			return list[i];
	return NULL;
}

/* Jinja tags sluice does not support, with why */
static const struct {
	const char *tag, *why;
} unsupported[] = {
	{"extends", "template inheritance is not supported"},
	{"block", "template inheritance is not supported"},
	{"include", "including other templates is not supported"},
	{"import", "importing other templates is not supported; macros are global"},
	{"from", "importing other templates is not supported; macros are global"},
	{"autoescape", "autoescaping is not supported"},
	{"trans", "translations are not supported"},
	{"pluralize", "translations are not supported"},
	{"materialization", "custom materializations are not supported; remove this block and "
			    "configure a built-in one (view, table, incremental, ephemeral)"},
};

static int parse_body(parser *p, tpl_nodes *body, const char *const *ends, tpl_token *open,
		      const char *open_tag)
{
	int rc;
	for (;;) {
		tpl_token *t = cur(p);
		tpl_node *n = NULL;
		if (t->type == TK_EOF) {
			if (!ends)
				return 0;
			return sl_error_set(p->err, SL_EFORMAT,
					    "%s:%d:%d: unclosed '%s' block: no '{%% end%s %%}' before the end",
					    p->name, open->line, open->col, open_tag, open_tag);
		}
		if (t->type == TK_TEXT) {
			if (!(n = mk(p, N_TEXT, t)))
				return oom(p);
			n->s = t->s;
			n->len = t->len;
			p->pos++;
		} else if (t->type == TK_VAR_BEGIN) {
			p->pos++;
			if (!(n = mk(p, N_OUTPUT, t)))
				return oom(p);
			if ((rc = parse_expr(p, &n->a)) < 0)
				return rc;
			if (cur(p)->type != TK_VAR_END)
				return unexpected(p, "'}}'");
			p->pos++;
		} else if (t->type == TK_BLOCK_BEGIN) {
			p->pos++;
			tpl_token *tag = cur(p);
			if (tag->type != TK_NAME)
				return unexpected(p, "a tag name");
			if (ends)
				for (size_t k = 0; ends[k]; k++)
					if (is_name(p, ends[k]))
						return 0;
			if ((tag->len > 3 && !memcmp(tag->s, "end", 3)) || tag_is(tag, "elif") ||
			    tag_is(tag, "else")) {
				int tl = (int)(tag->len > 40 ? 40 : tag->len);
				if (!ends)
					return sl_error_set(p->err, SL_EFORMAT,
							    "%s:%d:%d: unexpected '%.*s' outside any block",
							    p->name, tag->line, tag->col, tl, tag->s);
				return sl_error_set(p->err, SL_EFORMAT,
						    "%s:%d:%d: unexpected '%.*s' inside the '%s' block opened at %d:%d, expected '{%% end%s %%}'",
						    p->name, tag->line, tag->col, tl, tag->s, open_tag,
						    open->line, open->col, open_tag);
			}
			p->pos++;
			if ((rc = enter(p)) < 0)
				return rc;
			const sl_tpl_syntax *syn = p->syn;
			const char *htag;
			size_t k;
			for (k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++)
				if (tag_is(tag, unsupported[k].tag))
					break;
			if (tag_is(tag, "if"))
				rc = parse_if(p, &n, t);
			else if (tag_is(tag, "for"))
				rc = parse_for(p, &n, t);
			else if (tag_is(tag, "set"))
				rc = parse_set(p, &n, t);
			else if (tag_is(tag, "macro"))
				rc = parse_macro(p, &n, t, "macro");
			else if (syn && (htag = host_tag(tag, syn->macro_tags, syn->nmacro_tags)))
				rc = parse_macro(p, &n, t, htag);
			else if (syn && (htag = host_tag(tag, syn->named_blocks, syn->nnamed_blocks)))
				rc = parse_named(p, &n, t, htag);
			else if (tag_is(tag, "call"))
				rc = parse_callblock(p, &n, t);
			else if (tag_is(tag, "filter"))
				rc = parse_filterblock(p, &n, t);
			else if (tag_is(tag, "with"))
				rc = parse_with(p, &n, t);
			else if (tag_is(tag, "do")) {
				if (!(n = mk(p, N_DO, t)))
					rc = oom(p);
				else if ((rc = parse_expr(p, &n->a)) == 0)
					rc = expect_block_end(p, "do");
			} else if (tag_is(tag, "break") || tag_is(tag, "continue")) {
				if (!p->loops)
					rc = sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: '%s' outside a loop",
							  p->name, tag->line, tag->col,
							  tag->s[0] == 'b' ? "break" : "continue");
				else if (!(n = mk(p, tag->s[0] == 'b' ? N_BREAK : N_CONTINUE, t)))
					rc = oom(p);
				else
					rc = expect_block_end(p, tag->s[0] == 'b' ? "break" : "continue");
			} else if (k < sizeof unsupported / sizeof unsupported[0])
				rc = sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unsupported tag '%s': %s",
						  p->name, tag->line, tag->col, unsupported[k].tag,
						  unsupported[k].why);
			else
				rc = sl_error_set(p->err, SL_EFORMAT, "%s:%d:%d: unknown tag '%.*s'%s",
						  p->name, tag->line, tag->col,
						  (int)(tag->len > 40 ? 40 : tag->len), tag->s,
						  ends ? "" : " outside any block");
			p->depth--;
			if (rc < 0)
				return rc;
		} else {
			return unexpected(p, "text or a tag");
		}
		if (tpl_nodes_push(p->a, body, n) < 0)
			return oom(p);
	}
}

int sl_tpl_parse(sl_tpl **out, const char *name, const char *src, size_t len, sl_error *err)
{
	return sl_tpl_parse_ex(out, name, src, len, NULL, err);
}

/* the top-level macros and named blocks, for the host */
static int index_top(sl_tpl *t)
{
	for (size_t i = 0; i < t->body.len; i++) {
		tpl_node *n = t->body.v[i];
		tpl_nodes *l = n->kind == N_MACRO ? &t->macros : n->kind == N_NAMED ? &t->blocks : NULL;
		if (l && tpl_nodes_push(&t->arena, l, n) < 0)
			return SL_ENOMEM;
	}
	if (t->macros.len) {
		t->macro_vals = sl_arena_alloc(&t->arena, t->macros.len * sizeof *t->macro_vals);
		if (!t->macro_vals)
			return SL_ENOMEM;
		for (size_t i = 0; i < t->macros.len; i++)
			t->macro_vals[i] = (sl_tpl_value){.type = SL_TPL_MACRO,
							  .u.macro = {t, t->macros.v[i], NULL}};
	}
	return 0;
}

static int parse_ex(sl_tpl **out, const char *name, const char *src, size_t len,
		    const sl_tpl_syntax *syn, sl_error *err)
{
	sl_tpl *t = NULL;
	tpl_tokens toks = {0};
	int rc = sl_alloc_zeroed((void **)&t, sizeof *t, err);
	if (rc < 0)
		return rc;
	sl_arena_init(&t->arena, 8 * 1024); /* many templates live at once: small chunks */
	if (!(t->name = sl_arena_strdup(&t->arena, name ? name : "<template>"))) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = tpl_lex(&toks, &t->arena, t->name, src, len, err)) < 0)
		goto fail;
	parser p = {.name = t->name, .t = toks.v, .n = toks.len, .a = &t->arena, .err = err,
		    .syn = syn};
	if ((rc = parse_body(&p, &t->body, NULL, NULL, NULL)) < 0)
		goto fail;
	if (index_top(t) < 0) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	sl_free(toks.v);
	*out = t;
	return 0;
fail:
	sl_free(toks.v);
	sl_tpl_free(t);
	return rc;
}

void sl_tpl_free(sl_tpl *t)
{
	if (!t)
		return;
	sl_arena_free(&t->arena);
	sl_free(t);
}

int sl_tpl_parse_ex(sl_tpl **out, const char *name, const char *src, size_t len,
		    const sl_tpl_syntax *syn, sl_error *err)
{
	return parse_ex(out, name, src, len, syn, err);
}

const char *sl_tpl_name(const sl_tpl *t) { return t->name; }

int sl_tpl_each_macro(const sl_tpl *t,
		      int (*fn)(void *ud, const char *tag, const char *name,
				const sl_tpl_value *macro),
		      void *ud)
{
	for (size_t i = 0; i < t->macros.len; i++) {
		const tpl_node *m = t->macros.v[i];
		int rc = fn(ud, m->tag, m->s, &t->macro_vals[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int sl_tpl_each_block(const sl_tpl *t,
		      int (*fn)(void *ud, const char *tag, const char *name, int index),
		      void *ud)
{
	for (size_t i = 0; i < t->blocks.len; i++) {
		int rc = fn(ud, t->blocks.v[i]->tag, t->blocks.v[i]->s, (int)i);
		if (rc)
			return rc;
	}
	return 0;
}
