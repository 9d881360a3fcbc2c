/*
 * lexer.c: splits template source into text and tag tokens with
 * line:column, applying whitespace control ({%- -%} {{- -}} {#- -#}).
 */
#include <ctype.h>
#include <string.h>

#include "template/template_int.h"

typedef struct lexer {
	const char *name, *src, *p, *end;
	int line, col;
	sl_arena *a;
	tpl_tokens *out;
	sl_error *err;
} lexer;

static void advance(lexer *lx, size_t n)
{
	while (n-- && lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->p++;
	}
}

static int push(lexer *lx, tk_type t, const char *s, size_t len, int line, int col,
		tpl_token **tok)
{
	tpl_tokens *o = lx->out;
	if (tok)
		*tok = NULL; /* set on every path, errors included */
	if (o->len == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		tpl_token *v = sl_realloc(o->v, cap * sizeof *v); /* freed after parsing */
		if (!v)
			return sl_error_set(lx->err, SL_ENOMEM, "out of memory");
		o->v = v;
		o->cap = cap;
	}
	tpl_token *t0 = &o->v[o->len++];
	memset(t0, 0, sizeof *t0);
	t0->type = t;
	t0->s = s;
	t0->len = len;
	t0->line = line;
	t0->col = col;
	if (tok)
		*tok = t0;
	return 0;
}

static const char *find_open(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '{' && (p[1] == '{' || p[1] == '%' || p[1] == '#'))
			return p;
	return NULL;
}

static int lex_string(lexer *lx, int line, int col)
{
	char q = *lx->p;
	sl_buf b = SL_BUF_INIT;
	advance(lx, 1);
	while (lx->p < lx->end && *lx->p != q) {
		char c = *lx->p;
		if (c == '\\' && lx->p + 1 < lx->end) {
			char e = lx->p[1];
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			advance(lx, 1);
		}
		if (sl_buf_putc(&b, c) < 0) {
			sl_buf_free(&b);
			return sl_error_set(lx->err, SL_ENOMEM, "out of memory");
		}
		advance(lx, 1);
	}
	if (lx->p >= lx->end) {
		sl_buf_free(&b);
		return sl_error_set(lx->err, SL_EFORMAT, "%s:%d:%d: unterminated string",
				    lx->name, line, col);
	}
	advance(lx, 1);
	char *s = sl_arena_strndup(lx->a, b.data ? b.data : "", b.len);
	size_t n = b.len;
	sl_buf_free(&b);
	if (!s)
		return sl_error_set(lx->err, SL_ENOMEM, "out of memory");
	return push(lx, TK_STRING, s, n, line, col, NULL);
}

static const char *const ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*",
				  "/", "%", "<", ">", "(", ")", "[", "]", "{", "}",
				  ",", ".", ":", "|", "~", "=", NULL};

/* Tokens inside {{ }} or {% %} up to the closing delimiter. */
static int lex_tag(lexer *lx, char close, int open_line, int open_col, bool *rstrip_next)
{
	const char *what = close == '}' ? "'{{'" : "'{%'";
	int depth = 0; /* open '{' of dict literals, so '}}' inside one does not close */
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p))
			advance(lx, 1);
		if (lx->p >= lx->end)
			return sl_error_set(lx->err, SL_EFORMAT,
					    "%s:%d:%d: unclosed tag %s: no matching '%c}' before the end",
					    lx->name, open_line, open_col, what, close);
		int line = lx->line, col = lx->col;
		const char *p = lx->p;
		size_t left = (size_t)(lx->end - p);
		if (depth == 0 && left >= 3 && p[0] == '-' && p[1] == close && p[2] == '}') {
			*rstrip_next = true;
			advance(lx, 3);
			return push(lx, close == '}' ? TK_VAR_END : TK_BLOCK_END, p, 3, line, col, NULL);
		}
		if ((depth == 0 || close == '%') && left >= 2 && p[0] == close && p[1] == '}') {
			advance(lx, 2);
			return push(lx, close == '}' ? TK_VAR_END : TK_BLOCK_END, p, 2, line, col, NULL);
		}
		if (*p == '\'' || *p == '"') {
			int rc = lex_string(lx, line, col);
			if (rc < 0)
				return rc;
			continue;
		}
		if (isdigit((unsigned char)*p)) {
			const char *q = p;
			bool fl = false;
			while (q < lx->end && (isdigit((unsigned char)*q) || *q == '_'))
				q++;
			if (q + 1 < lx->end && *q == '.' && isdigit((unsigned char)q[1])) {
				fl = true;
				q++;
				while (q < lx->end && (isdigit((unsigned char)*q) || *q == '_'))
					q++;
			}
			if (q < lx->end && (*q == 'e' || *q == 'E')) { /* 1e20, 2.5e-3 */
				const char *e = q + 1;
				if (e < lx->end && (*e == '+' || *e == '-'))
					e++;
				if (e < lx->end && isdigit((unsigned char)*e)) {
					fl = true;
					q = e;
					while (q < lx->end && isdigit((unsigned char)*q))
						q++;
				}
			}
			tpl_token *t;
			int rc = push(lx, fl ? TK_FLOAT : TK_INT, p, (size_t)(q - p), line, col, &t);
			if (rc < 0)
				return rc;
			char digits[128]; /* without the '_' separators */
			size_t nd = 0;
			for (const char *c = p; c < q && nd < sizeof digits; c++)
				if (*c != '_')
					digits[nd++] = *c;
			if (nd == sizeof digits || (fl ? sl_parse_double(digits, nd, &t->f) < 0
						       : sl_parse_int64(digits, nd, &t->i) < 0))
				return sl_error_set(lx->err, SL_EFORMAT, "%s:%d:%d: bad number '%.*s'",
						    lx->name, line, col, (int)(q - p), p);
			advance(lx, (size_t)(q - p));
			continue;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			const char *q = p;
			while (q < lx->end && (isalnum((unsigned char)*q) || *q == '_'))
				q++;
			int rc = push(lx, TK_NAME, p, (size_t)(q - p), line, col, NULL);
			if (rc < 0)
				return rc;
			advance(lx, (size_t)(q - p));
			continue;
		}
		size_t k;
		for (k = 0; ops[k]; k++) {
			size_t n = strlen(ops[k]);
			if (left >= n && memcmp(p, ops[k], n) == 0)
				break;
		}
		if (!ops[k])
			return sl_error_set(lx->err, SL_EFORMAT, "%s:%d:%d: unexpected character '%c'",
					    lx->name, line, col, *p);
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		int rc = push(lx, TK_OP, ops[k], strlen(ops[k]), line, col, NULL);
		if (rc < 0)
			return rc;
		advance(lx, strlen(ops[k]));
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * At p (just after '{%' or '{%-'): if the tag is `word` alone, returns the
 * end of its '%}' and sets *minus when it was '-%}'; else NULL.
 */
static const char *match_tag(const char *p, const char *end, const char *word, bool *minus)
{
	size_t n = strlen(word);
	while (p < end && is_blank(*p))
		p++;
	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return NULL;
	p += n;
	while (p < end && is_blank(*p))
		p++;
	*minus = p < end && *p == '-';
	if (*minus)
		p++;
	if (end - p < 2 || p[0] != '%' || p[1] != '}')
		return NULL;
	return p + 2;
}

/*
 * {% raw %}...{% endraw %} with the '{%' consumed: the content is one TEXT
 * token, never lexed.
 */
static int lex_raw(lexer *lx, const char *after, bool raw_minus, int ol, int oc, bool *lstrip)
{
	advance(lx, (size_t)(after - lx->p));
	for (const char *q = lx->p; q + 1 < lx->end; q++) {
		if (q[0] != '{' || q[1] != '%')
			continue;
		bool open_minus = q + 2 < lx->end && q[2] == '-', end_minus;
		const char *e = match_tag(q + (open_minus ? 3 : 2), lx->end, "endraw", &end_minus);
		if (!e)
			continue;
		const char *ts = lx->p, *te = q;
		if (raw_minus)
			while (ts < te && is_blank(*ts))
				ts++;
		if (open_minus)
			while (te > ts && is_blank(te[-1]))
				te--;
		lexer pos = *lx;
		advance(&pos, (size_t)(ts - lx->p));
		if (te > ts) {
			char *copy = sl_arena_strndup(lx->a, ts, (size_t)(te - ts));
			if (!copy)
				return sl_error_set(lx->err, SL_ENOMEM, "out of memory");
			int rc = push(lx, TK_TEXT, copy, (size_t)(te - ts), pos.line, pos.col, NULL);
			if (rc < 0)
				return rc;
		}
		advance(lx, (size_t)(e - lx->p));
		*lstrip = end_minus;
		return 0;
	}
	return sl_error_set(lx->err, SL_EFORMAT,
			    "%s:%d:%d: unclosed 'raw' block: no '{%% endraw %%}' before the end",
			    lx->name, ol, oc);
}

int tpl_lex(tpl_tokens *out, sl_arena *a, const char *name, const char *src, size_t len,
	    sl_error *err)
{
	/* Jinja drops one newline at the very end of a template */
	if (len && src[len - 1] == '\n')
		len -= len > 1 && src[len - 2] == '\r' ? 2 : 1;
	lexer lx = {name, src, src, src + len, 1, 1, a, out, err};
	bool lstrip = false; /* the previous tag ended with '-' */
	int rc;
	while (lx.p < lx.end) {
		const char *open = find_open(lx.p, lx.end);
		const char *text_end = open ? open : lx.end;
		const char *ts = lx.p;
		int tl = lx.line, tc = lx.col;
		bool minus = open && open + 2 < lx.end && open[2] == '-';
		if (lstrip)
			while (ts < text_end && is_blank(*ts))
				ts++;
		const char *te = text_end;
		if (minus)
			while (te > ts && is_blank(te[-1]))
				te--;
		if (te > ts) {
			/* position of the first kept character */
			lexer pos = lx;
			advance(&pos, (size_t)(ts - lx.p));
			tl = pos.line;
			tc = pos.col;
			/* the tree outlives src: keep a copy */
			char *copy = sl_arena_strndup(a, ts, (size_t)(te - ts));
			if (!copy)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			rc = push(&lx, TK_TEXT, copy, (size_t)(te - ts), tl, tc, NULL);
			if (rc < 0)
				return rc;
		}
		advance(&lx, (size_t)(text_end - lx.p));
		lstrip = false;
		if (!open)
			break;
		int ol = lx.line, oc = lx.col;
		char kind = open[1];
		advance(&lx, minus ? 3 : 2);
		if (!minus && kind == '%' && lx.p < lx.end && *lx.p == '+')
			advance(&lx, 1); /* {%+ : keeps leading space, as it is kept anyway */
		if (kind == '#') {
			const char *q = lx.p;
			while (q + 1 < lx.end && !(q[0] == '#' && q[1] == '}'))
				q++;
			if (q + 1 >= lx.end)
				return sl_error_set(err, SL_EFORMAT,
						    "%s:%d:%d: unclosed comment '{#': no matching '#}' before the end",
						    name, ol, oc);
			lstrip = q > lx.p && q[-1] == '-';
			advance(&lx, (size_t)(q + 2 - lx.p));
			continue;
		}
		bool raw_minus;
		const char *raw_end = kind == '%' ? match_tag(lx.p, lx.end, "raw", &raw_minus) : NULL;
		if (raw_end) {
			if ((rc = lex_raw(&lx, raw_end, raw_minus, ol, oc, &lstrip)) < 0)
				return rc;
			continue;
		}
		rc = push(&lx, kind == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, open, minus ? 3 : 2,
			  ol, oc, NULL);
		if (rc < 0)
			return rc;
		rc = lex_tag(&lx, kind == '{' ? '}' : '%', ol, oc, &lstrip);
		if (rc < 0)
			return rc;
	}
	return push(&lx, TK_EOF, lx.p, 0, lx.line, lx.col, NULL);
}
