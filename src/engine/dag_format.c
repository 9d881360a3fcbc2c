/*
 * dag_format.c: a task graph printed for people (`sluice dag`): as text,
 * one task per line in dependency order with the tasks it waits for, or
 * as a Graphviz digraph. Only the selected tasks and the edges between
 * them are shown.
 */
#include "engine/dag_int.h"

#include <string.h>

/* A Graphviz quoted ID: quotes and backslashes escaped, line breaks as \n. */
static int put_dot_id(sl_buf *out, const char *s)
{
	int rc = sl_buf_putc(out, '"');
	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			rc = sl_buf_append(out, esc, 2);
		} else if (c == '\n') {
			rc = sl_buf_puts(out, "\\n");
		} else if (c < 0x20 || c == 0x7f) {
			rc = sl_buf_putc(out, ' ');
		} else {
			rc = sl_buf_putc(out, (char)c);
		}
	}
	return rc < 0 ? rc : sl_buf_putc(out, '"');
}

static int format_text(const sl_dag *g, const bool *selected, const int *order, int n,
		       sl_buf *out)
{
	int rc = 0;
	for (int k = 0; rc == 0 && k < n; k++) {
		const sl_task *t = &g->tasks[order[k]];
		rc = sl_buf_puts(out, t->id);
		const char *sep = " <- ";
		for (int i = 0; rc == 0 && i < t->ndeps; i++) {
			if (selected && !selected[t->deps[i]])
				continue;
			rc = sl_buf_printf(out, "%s%s", sep, g->tasks[t->deps[i]].id);
			sep = ", ";
		}
		if (rc == 0)
			rc = sl_buf_putc(out, '\n');
	}
	return rc;
}

static int format_dot(const sl_dag *g, const bool *selected, const int *order, int n,
		      sl_buf *out)
{
	int rc = sl_buf_puts(out, "digraph sluice {\n\trankdir=LR;\n\tnode [shape=box];\n");
	for (int k = 0; rc == 0 && k < n; k++) {
		rc = sl_buf_putc(out, '\t');
		if (rc == 0)
			rc = put_dot_id(out, g->tasks[order[k]].id);
		if (rc == 0)
			rc = sl_buf_puts(out, ";\n");
	}
	for (int k = 0; rc == 0 && k < n; k++) {
		const sl_task *t = &g->tasks[order[k]];
		for (int i = 0; rc == 0 && i < t->ndeps; i++) {
			if (selected && !selected[t->deps[i]])
				continue;
			rc = sl_buf_putc(out, '\t');
			if (rc == 0)
				rc = put_dot_id(out, g->tasks[t->deps[i]].id);
			if (rc == 0)
				rc = sl_buf_puts(out, " -> ");
			if (rc == 0)
				rc = put_dot_id(out, t->id);
			if (rc == 0)
				rc = sl_buf_puts(out, ";\n");
		}
	}
	return rc < 0 ? rc : sl_buf_puts(out, "}\n");
}

int sl_dag_format(const sl_dag *g, const bool *selected, const char *format, sl_buf *out,
		  sl_error *err)
{
	bool text = !format || strcmp(format, "text") == 0;
	if (!text && strcmp(format, "dot") != 0)
		return sl_error_set(err, SL_EUSAGE, "unknown graph format \"%s\" (text or dot)", format);
	int *order = sl_malloc(((size_t)g->n + 1) * sizeof *order);
	if (!order)
		return sl_error_set(err, SL_ENOMEM, "task graph: out of memory");
	int n = 0;
	int rc = sl_dag_order(g, selected, order, &n, err);
	if (rc == 0) {
		rc = text ? format_text(g, selected, order, n, out)
			  : format_dot(g, selected, order, n, out);
		if (rc < 0)
			rc = sl_error_set(err, rc, "task graph: out of memory");
	}
	sl_free(order);
	return rc;
}
