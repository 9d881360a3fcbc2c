/*
 * csv_writer.c: writing batches and raw records as RFC 4180 CSV. Fields are
 * quoted only when they must be (delimiter, quote, escape, CR or LF inside,
 * leading or trailing space, or text equal to a null string); NULL is the
 * first null string (by default an empty unquoted field). Lines end in LF.
 */
#include "csv_int.h"

#include <string.h>

#define CSV_WRITE_FLUSH (256u << 10)

struct sl_csv_writer {
	sl_output *out;
	char delim, quote, escape;
	const char *null_out; /* how NULL is written */
	char **nulls;         /* every null string, for quoting decisions */
	int nnulls;
	bool any_nulls_empty;
	sl_buf buf;  /* pending output */
	sl_buf cell; /* one formatted value */
};

static int flush(sl_csv_writer *w, sl_error *err)
{
	if (w->buf.len == 0)
		return 0;
	int rc = sl_output_write(w->out, w->buf.data, w->buf.len, err);
	w->buf.len = 0;
	return rc;
}

static bool needs_quotes(const sl_csv_writer *w, const char *s, size_t n)
{
	if (n == 0)
		return w->any_nulls_empty;
	if (s[0] == ' ' || s[n - 1] == ' ')
		return true;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == w->delim || c == w->quote || c == w->escape || c == '\n' || c == '\r')
			return true;
	}
	for (int i = 0; i < w->nnulls; i++)
		if (strlen(w->nulls[i]) == n && memcmp(w->nulls[i], s, n) == 0)
			return true;
	return false;
}

/* Appends one non-NULL field, quoted and escaped when needed. */
static int put_field(sl_csv_writer *w, const char *s, size_t n)
{
	sl_buf *b = &w->buf;
	if (!needs_quotes(w, s, n))
		return sl_buf_append(b, s, n);
	int rc = sl_buf_reserve(b, 2 * n + 2);
	if (rc < 0)
		return rc;
	char *o = b->data + b->len;
	*o++ = w->quote;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == w->quote || (s[i] == w->escape && w->escape != w->quote))
			*o++ = w->escape;
		*o++ = s[i];
	}
	*o++ = w->quote;
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static int put_null(sl_csv_writer *w) { return sl_buf_puts(&w->buf, w->null_out); }

static int end_record(sl_csv_writer *w, sl_error *err)
{
	if (sl_buf_putc(&w->buf, '\n') < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (w->buf.len >= CSV_WRITE_FLUSH)
		return flush(w, err);
	return 0;
}

int sl_csv_writer_write_fields(sl_csv_writer *w, const char *const *fields, int n,
			       sl_error *err)
{
	for (int i = 0; i < n; i++) {
		int rc = i ? sl_buf_putc(&w->buf, w->delim) : 0;
		if (rc == 0)
			rc = fields[i] ? put_field(w, fields[i], strlen(fields[i])) : put_null(w);
		if (rc < 0)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	int rc = end_record(w, err);
	return rc < 0 ? rc : flush(w, err);
}

int sl_csv_writer_write(sl_csv_writer *w, const sl_batch *b, sl_error *err)
{
	for (int64_t r = 0; r < b->nrows; r++) {
		for (int i = 0; i < b->ncols; i++) {
			const sl_column *c = &b->cols[i];
			int rc = i ? sl_buf_putc(&w->buf, w->delim) : 0;
			if (rc < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			if (sl_column_is_null(c, r)) {
				rc = put_null(w);
			} else if (c->type.id == SL_STRING) {
				size_t n;
				const char *s = sl_column_str(c, r, &n);
				rc = put_field(w, s, n);
			} else {
				w->cell.len = 0;
				rc = sl_column_format_value(c, r, &w->cell);
				if (rc == 0)
					rc = put_field(w, w->cell.data ? w->cell.data : "", w->cell.len);
			}
			if (rc < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		int rc = end_record(w, err);
		if (rc < 0)
			return rc;
	}
	return flush(w, err);
}

int sl_csv_writer_open(sl_csv_writer **out_w, sl_output *out, const sl_schema *schema,
		       const sl_csv_opts *opts, sl_error *err)
{
	sl_csv_opts def = SL_CSV_OPTS_INIT;
	const sl_csv_opts *o = opts ? opts : &def;
	sl_csv_writer *w = NULL;
	int rc = sl_alloc_zeroed((void **)&w, sizeof *w, err);
	if (rc < 0)
		return rc;
	w->out = out;
	w->delim = o->delimiter;
	w->quote = o->quote;
	w->escape = o->escape;
	if (w->delim == w->quote || w->delim == '\n' || w->delim == '\r' || !w->delim) {
		rc = sl_error_set(err, SL_EINVAL, "csv writer: bad delimiter");
		goto fail;
	}
	w->null_out = "";
	w->any_nulls_empty = true;
	if (o->nulls) {
		w->any_nulls_empty = false;
		for (const char **s = o->nulls; *s; s++) {
			if (**s == '\0')
				w->any_nulls_empty = true;
			w->nnulls++;
		}
		w->nulls = sl_calloc((size_t)w->nnulls + 1, sizeof *w->nulls);
		if (!w->nulls) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
		for (int i = 0; i < w->nnulls; i++) {
			w->nulls[i] = sl_strdup(o->nulls[i]);
			if (!w->nulls[i]) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto fail;
			}
		}
		if (w->nnulls)
			w->null_out = w->nulls[0];
	}
	if (schema && o->header) {
		for (int i = 0; i < schema->nfields && rc == 0; i++) {
			if (i)
				rc = sl_buf_putc(&w->buf, w->delim);
			if (rc == 0)
				rc = put_field(w, schema->fields[i].name,
					       strlen(schema->fields[i].name));
		}
		if (rc < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
		rc = end_record(w, err);
		if (rc == 0)
			rc = flush(w, err);
		if (rc < 0)
			goto fail;
	}
	*out_w = w;
	return 0;
fail:
	sl_csv_writer_free(w);
	return rc;
}

void sl_csv_writer_free(sl_csv_writer *w)
{
	if (!w)
		return;
	/* Every public call flushes before it returns: nothing is pending. */
	for (int i = 0; w->nulls && i < w->nnulls; i++)
		sl_free(w->nulls[i]);
	sl_free(w->nulls);
	sl_buf_free(&w->buf);
	sl_buf_free(&w->cell);
	sl_free(w);
}
