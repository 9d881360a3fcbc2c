/*
 * conform.c: fitting a batch to a target schema — matching columns by name,
 * reordering them, NULL for the columns the batch lacks, converting values
 * of another type through their text with bad rows handed to the caller.
 * The one place where lake files of an older schema meet the table's,
 * and source files whose types differ from the declared ones.
 */
#include "batch.h"

#include <stdio.h>
#include <string.h>

/* *scratch ready for rows rows of schema, empty. */
static int scratch_for(sl_batch **scratch, const sl_schema *schema, int64_t rows,
		       sl_error *err)
{
	if (*scratch && (!sl_schema_equal((*scratch)->schema, schema) ||
			 (*scratch)->capacity < rows)) {
		sl_batch_free(*scratch);
		*scratch = NULL;
	}
	if (!*scratch) {
		int rc = sl_batch_new(scratch, schema, rows > 0 ? rows : 1, err);
		if (rc < 0)
			return rc;
	}
	sl_batch_reset(*scratch);
	/* filled a column (or a row) at a time, not through sl_batch_end_row */
	return sl_batch_reserve(*scratch, rows, err);
}

/* Copies the columns as they are: no value needs converting. */
static int copy_columns(sl_batch *b, const sl_batch *in, const int *src, sl_error *err)
{
	for (int c = 0; c < b->ncols; c++) {
		sl_column *dst = &b->cols[c];
		for (int64_t r = 0; r < in->nrows; r++) {
			if (src[c] < 0)
				sl_column_append_null(dst);
			else if (sl_column_append_from(dst, &in->cols[src[c]], r) < 0)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
	}
	b->nrows = in->nrows;
	return 0;
}

/* Appends row r of src converted to dst's type; a reason when it does not
 * convert (rc 0), a negative code when memory ran out. */
static int convert_value(sl_column *dst, const sl_column *src, int64_t r, const char *name,
			 sl_buf *text, char *reason, size_t reason_size, sl_error *err)
{
	sl_error verr = SL_ERROR_INIT;
	if (sl_column_is_null(src, r)) {
		sl_column_append_null(dst);
		return 0;
	}
	if (sl_type_equal(src->type, dst->type))
		return sl_column_append_from(dst, src, r) < 0
			       ? sl_error_set(err, SL_ENOMEM, "out of memory") : 0;
	sl_buf_reset(text);
	if (sl_column_format_value(src, r, text) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (sl_column_append_text(dst, text->data ? text->data : "", text->len, &verr) < 0) {
		if (verr.code == SL_ENOMEM)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		snprintf(reason, reason_size, "column %s: %s", name, verr.message);
	}
	return 0;
}

/* Converts row by row; rows with a value that does not convert go to
 * opts->on_bad (or fail the call). */
static int convert_rows(sl_batch *b, const sl_batch *in, const int *src,
			const sl_conform_opts *opts, sl_error *err)
{
	sl_buf text = SL_BUF_INIT;
	int rc = 0;
	for (int64_t r = 0; r < in->nrows && rc == 0; r++) {
		char reason[512] = "";
		for (int c = 0; c < b->ncols && !reason[0] && rc == 0; c++) {
			if (src[c] < 0)
				sl_column_append_null(&b->cols[c]);
			else
				rc = convert_value(&b->cols[c], &in->cols[src[c]], r,
						   b->schema->fields[c].name, &text, reason,
						   sizeof reason, err);
		}
		if (rc == 0 && !reason[0]) {
			b->nrows++;
			continue;
		}
		sl_batch_discard_row(b);
		if (rc < 0)
			break;
		if (!opts->on_bad)
			rc = sl_error_set(err, SL_EINVAL, "row %lld: %s", (long long)(r + 1), reason);
		else
			rc = opts->on_bad(opts->ctx, in, r, reason, err);
	}
	sl_buf_free(&text);
	return rc;
}

int sl_batch_conform(const sl_batch **out, sl_batch **scratch, const sl_batch *in,
		     const sl_schema *schema, const sl_conform_opts *opts, sl_error *err)
{
	sl_conform_opts defaults = SL_CONFORM_OPTS_INIT;
	char a[48], t[48];
	bool convert = false;
	int rc = 0;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (sl_schema_equal(in->schema, schema)) {
		*out = in;
		return 0;
	}
	int *src = sl_calloc((size_t)schema->nfields + 1, sizeof *src);
	if (!src)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < in->schema->nfields; i++) {
		if (sl_schema_find(schema, in->schema->fields[i].name) < 0) {
			rc = sl_error_set(err, SL_EINVAL,
					  "column \"%s\" is not in the target schema; it would be "
					  "dropped", in->schema->fields[i].name);
			goto done;
		}
	}
	for (int c = 0; c < schema->nfields; c++) {
		const sl_field *want = &schema->fields[c];
		src[c] = sl_schema_find(in->schema, want->name);
		if (src[c] < 0) {
			if (!want->nullable) {
				rc = sl_error_set(err, SL_EINVAL,
						  "column \"%s\" is missing and cannot be NULL",
						  want->name);
				goto done;
			}
			continue;
		}
		const sl_type have = in->schema->fields[src[c]].type;
		if (sl_type_equal(have, want->type))
			continue;
		if (!opts->cast) {
			rc = sl_error_set(err, SL_EINVAL, "column \"%s\" is %s but %s is expected",
					  want->name, sl_type_name(have, a, sizeof a),
					  sl_type_name(want->type, t, sizeof t));
			goto done;
		}
		convert = true;
	}
	if ((rc = scratch_for(scratch, schema, in->nrows, err)) < 0)
		goto done;
	rc = convert ? convert_rows(*scratch, in, src, opts, err)
		     : copy_columns(*scratch, in, src, err);
	if (rc == 0)
		*out = *scratch;
done:
	sl_free(src);
	return rc;
}
