/*
 * csv_batch.c: parsing records into typed batch columns. Rows that cannot
 * be split, have the wrong field count or hold a value that does not parse
 * go to the caller's bad-row callback with a reason; they are never
 * appended and never silently dropped.
 */
#include "csv_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ fast paths */

/*
 * The common spellings of integers, decimals and timestamps are parsed here
 * without the general parser's work; anything else, and every error, goes
 * through sl_column_append_text, so values and messages are the same either
 * way (test_csv_fast_paths_match_append_text checks that).
 */

static const uint64_t pow10_u64[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
	10000000000000ull, 100000000000000ull, 1000000000000000ull,
	10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
	10000000000000000000ull};

static inline sl_i128 pow10_i128(int k)
{
	return k <= 19 ? (sl_i128)pow10_u64[k] : (sl_i128)pow10_u64[19] * pow10_u64[k - 19];
}

/* Up to 18 digits with an optional '-'. */
static inline bool fast_int(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	if (n == 0 || n > 18)
		return false;
	if (s[0] == '-' && n > 1)
		i = 1;
	for (; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = s[0] == '-' ? -(int64_t)v : (int64_t)v;
	return true;
}

/* [-]digits[.digits] with at most scale fractional digits and no exponent. */
static inline bool fast_decimal(const char *s, size_t n, sl_type t, sl_i128 *out)
{
	size_t i = 0;
	uint64_t v = 0;
	int nd = 0, frac = 0;
	bool dot = false;
	if (n == 0 || n > 19)
		return false;
	if (s[0] == '-')
		i = 1;
	for (; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d <= 9) {
			v = v * 10 + d;
			nd++;
			frac += dot;
		} else if (s[i] == '.' && !dot) {
			dot = true;
		} else {
			return false;
		}
	}
	if (nd == 0 || frac > t.scale || nd + t.scale - frac > SL_DECIMAL_MAX_PRECISION)
		return false;
	sl_i128 x = (sl_i128)v * pow10_i128(t.scale - frac);
	if (x >= pow10_i128(t.precision))
		return false;
	*out = s[0] == '-' ? -x : x;
	return true;
}

static inline unsigned two(const char *s)
{
	return (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
}

/* Exactly "YYYY-MM-DD HH:MM:SS" (or with 'T'), seconds below 60. */
static inline bool fast_timestamp(const char *s, size_t n, int64_t *out)
{
	int32_t days;
	if (n != 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
		return false;
	for (int i = 11; i < 19; i += 3)
		if ((unsigned)(s[i] - '0') > 9 || (unsigned)(s[i + 1] - '0') > 9)
			return false;
	unsigned hh = two(s + 11), mi = two(s + 14), ss = two(s + 17);
	if (hh > 23 || mi > 59 || ss > 59 || sl_date_parse(s, 10, &days) < 0)
		return false;
	*out = (int64_t)days * SL_MICROS_PER_DAY +
	       ((int64_t)hh * 3600 + mi * 60 + ss) * SL_MICROS_PER_SEC;
	return true;
}

/* Appends text s[0..n) to c as its type; 0 or SL_EINVAL/SL_ENOMEM in err. */
static inline int append_field(sl_column *c, const char *s, size_t n, sl_error *err)
{
	switch (c->type.id) {
	case SL_INT32: {
		int64_t v;
		if (fast_int(s, n, &v) && v >= INT32_MIN && v <= INT32_MAX) {
			sl_column_append_i32(c, (int32_t)v);
			return 0;
		}
		break;
	}
	case SL_INT64: {
		int64_t v;
		if (fast_int(s, n, &v)) {
			sl_column_append_i64(c, v);
			return 0;
		}
		break;
	}
	case SL_DECIMAL: {
		sl_i128 v;
		if (fast_decimal(s, n, c->type, &v)) {
			sl_column_append_dec(c, v);
			return 0;
		}
		break;
	}
	case SL_TIMESTAMP: {
		int64_t v;
		if (fast_timestamp(s, n, &v)) {
			sl_column_append_i64(c, v);
			return 0;
		}
		break;
	}
	default: break;
	}
	return sl_column_append_text(c, s, n, err);
}

/* Tests only: the fast-path parser, to compare with sl_column_append_text. */
int sl_csv_test_append_field(sl_column *c, const char *s, size_t n, sl_error *err)
{
	return append_field(c, s, n, err);
}

/* ------------------------------------------------------------ batches */

/* Hands one bad row to on_bad, or fails with its reason when there is none. */
static int report_bad(sl_csv_reader *r, const sl_csv_record *rec, const char *reason,
		      sl_csv_bad_row_fn on_bad, void *ctx, sl_error *err)
{
	if (!on_bad)
		return sl_error_set(err, SL_EFORMAT, "%s:%lld: %s", r->path,
				    (long long)rec->line, reason);
	sl_csv_bad_row bad = {r->path, rec->line, rec->raw, rec->raw_len, reason};
	int rc = on_bad(ctx, &bad, err);
	if (rc < 0 && err && err->code == 0)
		sl_error_set(err, rc, "%s:%lld: bad row rejected", r->path,
			     (long long)rec->line);
	return rc < 0 ? rc : 0;
}

/* Why next() failed, without the "path:line: " the bad row carries apart. */
static const char *strip_location(const sl_csv_reader *r, const char *msg)
{
	size_t n = strlen(r->path);
	if (strncmp(msg, r->path, n) == 0 && msg[n] == ':') {
		const char *s = strstr(msg + n + 1, ": ");
		if (s)
			return s + 2;
	}
	return msg;
}

int64_t sl_csv_read_batch(sl_csv_reader *r, sl_batch *batch, sl_csv_bad_row_fn on_bad,
			  void *ctx, sl_error *err)
{
	sl_error perr = SL_ERROR_INIT;
	sl_buf reason = SL_BUF_INIT; /* names of any length: no fixed buffer */
	int64_t appended = 0;
	size_t text = 0; /* record bytes appended by this call */
	const int ncols = batch->ncols;
	int rc = 0;

	if (r->ncols > 0 && ncols != r->ncols)
		return sl_error_set(err, SL_EINVAL, "%s: the batch has %d columns but the file has %d",
				    r->path, ncols, r->ncols);

	while (!sl_batch_full(batch)) {
		sl_csv_record rec;
		rc = sl_csv_reader_next(r, &rec, &perr);
		if (rc == 0)
			break;
		sl_buf_reset(&reason);
		if (rc == SL_EFORMAT) {
			rc = sl_buf_puts(&reason, strip_location(r, perr.message));
			sl_error_clear(&perr);
			if (rc == 0)
				rc = report_bad(r, &rec, reason.data, on_bad, ctx, err);
			if (rc < 0)
				goto done;
			continue;
		}
		if (rc < 0) {
			if (err)
				*err = perr;
			goto done;
		}
		if (rec.nfields != ncols) {
			rc = sl_buf_printf(&reason, "line %lld: expected %d fields, found %d",
					   (long long)rec.line, ncols, rec.nfields);
			if (rc == 0)
				rc = report_bad(r, &rec, reason.data, on_bad, ctx, err);
			if (rc < 0)
				goto done;
			continue;
		}

		int bad_col = -1;
		for (int i = 0; i < ncols; i++) {
			sl_column *c = &batch->cols[i];
			const char *s = rec.fields[i];
			size_t n = rec.lens[i];
			if (!rec.quoted[i]) {
				if (n == 0 ? r->null_empty : (r->nnulls && csv_is_null(r, s, n))) {
					sl_column_append_null(c);
					continue;
				}
			} else if (n == 0 && c->type.id != SL_STRING) {
				sl_column_append_null(c);
				continue;
			}
			if (append_field(c, s, n, &perr) < 0) {
				bad_col = i;
				break;
			}
		}
		if (bad_col >= 0) {
			sl_batch_discard_row(batch);
			if (perr.code == SL_ENOMEM || perr.code == SL_ELIMIT) {
				if (err)
					*err = perr;
				rc = perr.code;
				goto done;
			}
			rc = sl_buf_printf(&reason, "column \"%s\": %s",
					   batch->schema->fields[bad_col].name, perr.message);
			sl_error_clear(&perr);
			if (rc == 0)
				rc = report_bad(r, &rec, reason.data, on_bad, ctx, err);
			if (rc < 0)
				goto done;
			continue;
		}
		sl_batch_end_row(batch);
		appended++;
		/* Big records make short batches: memory stays bounded. */
		text += rec.raw_len;
		if (text >= SL_CSV_BATCH_BYTES)
			break;
	}
	rc = 0;
done:
	sl_buf_free(&reason);
	if (rc == SL_ENOMEM && err && err->code == 0)
		sl_error_set(err, SL_ENOMEM, "out of memory");
	return rc < 0 ? rc : appended;
}
