/*
 * models_compile.c: a node's SQL for execution — its template rendered
 * against the warehouse, with the ephemeral models it refs (and theirs)
 * inlined as CTEs named __dbt__cte__<name> the way dbt injects them — and
 * the compiled and run files under target/.
 */
#include "models/models_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define M_MAX_CTE_DEPTH 32

/* Renders n's template alone (no CTE injection); ephemerals it refs are
 * added to *ctes. */
static int render_node(sl_models *m, m_node *n, sl_wh *wh, sl_buf *out, m_ctx *ctx,
		       sl_error *err)
{
	sl_tpl_env env;
	memset(ctx, 0, sizeof *ctx);
	ctx->m = m;
	ctx->node = n;
	ctx->mode = M_COMPILE;
	ctx->wh = wh;
	ctx->err = err;
	m_ctx_env(ctx, &env);
	size_t start = out->len;
	int rc = sl_tpl_render(n->tpl, &env, out, err);
	if (rc < 0)
		return rc;
	/* a snapshot block's body (a generic test's call) was preceded by
	 * newlines for its line numbers */
	if (n->pad && n->text) {
		size_t pad = (size_t)n->pad, k = 0;
		while (k < pad && start + k < out->len && out->data[start + k] == '\n')
			k++;
		if (k) {
			memmove(out->data + start, out->data + start + k, out->len - start - k);
			out->len -= k;
			out->data[out->len] = '\0';
		}
	}
	return 0;
}

typedef struct cte_list {
	m_node **nodes;
	char **sql;
	int n, cap;
} cte_list;

static void cte_free(cte_list *l)
{
	for (int i = 0; i < l->n; i++)
		sl_free(l->sql[i]);
	sl_free(l->nodes);
	sl_free(l->sql);
}

/* Adds e's CTEs (deepest first), then e itself, once each. */
static int collect(sl_models *m, m_node *e, sl_wh *wh, cte_list *l, int depth, sl_error *err)
{
	for (int i = 0; i < l->n; i++)
		if (l->nodes[i] == e)
			return 0;
	if (depth > M_MAX_CTE_DEPTH)
		return sl_error_set(err, SL_ECONFIG, "%s: ephemeral models nest deeper than %d",
				    e->pub.path, M_MAX_CTE_DEPTH);
	m_ctx ctx;
	sl_buf sql = SL_BUF_INIT;
	int rc = render_node(m, e, wh, &sql, &ctx, err);
	for (int i = 0; rc == 0 && i < ctx.nctes; i++)
		rc = collect(m, ctx.ctes[i], wh, l, depth + 1, err);
	m_ctx_free(&ctx);
	if (rc < 0) {
		sl_buf_free(&sql);
		return rc;
	}
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 4;
		m_node **nn = sl_realloc(l->nodes, sizeof *nn * (size_t)cap);
		if (nn)
			l->nodes = nn;
		char **ns = nn ? sl_realloc(l->sql, sizeof *ns * (size_t)cap) : NULL;
		if (ns)
			l->sql = ns;
		if (!nn || !ns) {
			sl_buf_free(&sql);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		l->cap = cap;
	}
	l->nodes[l->n] = e;
	l->sql[l->n++] = sl_buf_detach(&sql);
	if (!l->sql[l->n - 1])
		l->sql[l->n - 1] = sl_strdup("");
	return l->sql[l->n - 1] ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
}

/* Skips whitespace and SQL comments from p. */
static const char *skip_space(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);
	return strncasecmp(p, w, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

/*
 * sql with the CTEs injected: after a leading `with` (and `recursive`)
 * followed by ", ", else "with <ctes>\n"-less as dbt writes it:
 * "with __dbt__cte__a as (\n...\n)select ...".
 */
static int inject(const char *sql, const cte_list *l, sl_buf *out)
{
	sl_buf ctes = SL_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < l->n && rc == 0; i++)
		rc = sl_buf_printf(&ctes, "%s __dbt__cte__%s as (\n%s\n)", i ? ", " : "",
				   l->nodes[i]->pub.name, l->sql[i]);
	const char *first = skip_space(sql);
	/* leading whitespace stays where it is; comments come after "with" */
	const char *ws_end = sql;
	while (isspace((unsigned char)*ws_end))
		ws_end++;
	if (rc == 0 && word_at(first, "with")) {
		const char *after = first + 4;
		const char *r = skip_space(after);
		if (word_at(r, "recursive"))
			after = r + 9;
		rc = sl_buf_append(out, sql, (size_t)(after - sql));
		if (rc == 0)
			rc = sl_buf_append(out, ctes.data, ctes.len);
		if (rc == 0)
			rc = sl_buf_putc(out, ',');
		if (rc == 0)
			rc = sl_buf_puts(out, after);
	} else if (rc == 0) {
		rc = sl_buf_append(out, sql, (size_t)(ws_end - sql));
		if (rc == 0)
			rc = sl_buf_puts(out, "with");
		if (rc == 0)
			rc = sl_buf_append(out, ctes.data, ctes.len);
		if (rc == 0)
			rc = sl_buf_puts(out, ws_end);
	}
	sl_buf_free(&ctes);
	return rc;
}

int m_compile(sl_models *m, m_node *n, sl_wh *wh, sl_buf *out, sl_error *err)
{
	m_ctx ctx;
	sl_buf sql = SL_BUF_INIT;
	cte_list l = {0};
	if (!n->tpl)
		return sl_error_set(err, SL_EINTERNAL, "%s has no SQL to compile",
				    n->pub.unique_id);
	int rc = render_node(m, n, wh, &sql, &ctx, err);
	for (int i = 0; rc == 0 && i < ctx.nctes; i++)
		rc = collect(m, ctx.ctes[i], wh, &l, 1, err);
	m_ctx_free(&ctx);
	if (rc == 0 && l.n)
		rc = inject(sql.data ? sql.data : "", &l, out);
	else if (rc == 0)
		rc = sl_buf_append(out, sql.data ? sql.data : "", sql.len);
	if (rc == SL_ENOMEM && err->code != SL_ENOMEM)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	cte_free(&l);
	sl_buf_free(&sql);
	return rc;
}

int m_render_text(sl_models *m, m_node *n, sl_wh *wh, const char *name, const char *text,
		  sl_buf *out, sl_error *err)
{
	sl_tpl *t = NULL;
	m_ctx ctx;
	sl_tpl_env env;
	int rc = sl_tpl_parse(&t, name, text, strlen(text), err);
	if (rc < 0)
		return rc;
	memset(&ctx, 0, sizeof ctx);
	ctx.m = m;
	ctx.node = n;
	ctx.mode = M_COMPILE;
	ctx.wh = wh;
	ctx.err = err;
	m_ctx_env(&ctx, &env);
	rc = sl_tpl_render(t, &env, out, err);
	m_ctx_free(&ctx);
	sl_tpl_free(t);
	return rc;
}

int m_write_target(sl_models *m, const m_node *n, const char *sub, const char *text,
		   size_t len, sl_error *err)
{
	char *path = NULL;
	int rc = 0;
	sl_buf b = SL_BUF_INIT;
	const char *tp = m->target_path ? m->target_path : "target";
	if (sl_buf_printf(&b, "%s%s%s/%s/%s/%s", tp[0] == '/' ? "" : m->project_dir,
			  tp[0] == '/' ? "" : "/", tp, sub, n->pub.package,
			  n->out_path ? n->out_path : n->pub.path) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	path = b.data;
	char *slash = strrchr(path, '/');
	*slash = '\0';
	rc = sl_mkdirs(path, err);
	*slash = '/';
	/* artifacts, rewritten on every compile: no fsync (which would cost
	 * more than compiling) */
	if (rc == 0) {
		FILE *f = fopen(path, "w");
		bool ok = f && fwrite(text, 1, len, f) == len;
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok)
			rc = sl_error_set(err, SL_EIO, "cannot write %s: %s", path, strerror(errno));
	}
	sl_buf_free(&b);
	return rc;
}
