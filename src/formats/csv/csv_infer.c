/*
 * csv_infer.c: schema inference from sampled records. Each column keeps
 * the narrowest type that every sampled value parses as, widening int32 ->
 * int64 -> decimal(p,s) -> float64 and date -> timestamp; values of
 * different families (a number and a date, a bool and a word) make it a
 * string.
 *
 * Choices worth knowing: integers written with leading zeros ("007") or a
 * leading '+' are identifiers, not numbers, so the column stays a string
 * and keeps its text. Booleans are only true/false (any case): 0/1 columns
 * are integers, t/f and yes/no are strings. A decimal is digits, '.' and
 * digits with an optional '-'; exponents, nan and inf make a float64, and
 * so does a decimal that would need more than 38 digits.
 */
#include "csv_int.h"

#include <string.h>
#include <strings.h>

typedef enum {
	K_NONE = 0, /* only NULLs so far */
	K_BOOL,
	K_INT32,
	K_INT64,
	K_DECIMAL,
	K_FLOAT64,
	K_DATE,
	K_TIMESTAMP,
	K_STRING
} kind;

typedef struct {
	kind k;
	int intdigits; /* the most integer digits a number had */
	int scale;     /* the most fractional digits a decimal had */
} col_state;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/*
 * Classifies one number: K_INT32/K_INT64/K_DECIMAL/K_FLOAT64 with its
 * digit counts, or K_STRING when s is not a number we accept.
 */
static kind classify_number(const char *s, size_t n, int *intdigits, int *scale)
{
	size_t i = 0;
	if (n && s[0] == '-')
		i = 1;
	size_t int_start = i;
	while (i < n && is_digit(s[i]))
		i++;
	size_t nint = i - int_start;
	if (nint > 1 && s[int_start] == '0')
		return K_STRING; /* "007": an identifier */
	if (i == n && nint > 0) {
		int64_t v;
		*intdigits = (int)nint;
		*scale = 0;
		if (sl_parse_int64(s, n, &v) == 0)
			return v >= INT32_MIN && v <= INT32_MAX ? K_INT32 : K_INT64;
		return nint <= SL_DECIMAL_MAX_PRECISION ? K_DECIMAL : K_FLOAT64;
	}
	if (i < n && s[i] == '.' && nint > 0) {
		size_t f = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == n && i > f) {
			/* "0.5" has no integer digits that count toward precision. */
			*intdigits = (nint == 1 && s[int_start] == '0') ? 0 : (int)nint;
			*scale = (int)(i - f);
			if (*intdigits + *scale > SL_DECIMAL_MAX_PRECISION)
				return K_FLOAT64;
			return K_DECIMAL;
		}
	}
	/* Everything else strtod takes (exponents, ".5", nan, inf) is a float. */
	double d;
	if (s[0] != '+' && sl_parse_double(s, n, &d) == 0)
		return K_FLOAT64;
	return K_STRING;
}

static kind classify(const char *s, size_t n, int *intdigits, int *scale)
{
	*intdigits = 0;
	*scale = 0;
	if (n == 0)
		return K_STRING;
	char c = s[0];
	if (is_digit(c) || c == '-' || c == '.' || c == 'n' || c == 'N' || c == 'i' ||
	    c == 'I') {
		if (n >= 10 && is_digit(c) && s[4] == '-') {
			int32_t days;
			int64_t us;
			if (sl_date_parse(s, n, &days) == 0)
				return K_DATE;
			if (sl_timestamp_parse(s, n, &us) == 0)
				return K_TIMESTAMP;
			return K_STRING;
		}
		kind k = classify_number(s, n, intdigits, scale);
		if (k != K_STRING)
			return k;
	}
	if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "false", 5) == 0))
		return K_BOOL;
	return K_STRING;
}

static bool numeric(kind k) { return k >= K_INT32 && k <= K_FLOAT64; }

/* Widens st to also hold a value of kind k. */
static void widen(col_state *st, kind k, int intdigits, int scale)
{
	if (k == K_NONE)
		return;
	if (numeric(k)) {
		if (intdigits > st->intdigits)
			st->intdigits = intdigits;
		if (scale > st->scale)
			st->scale = scale;
	}
	if (st->k == K_NONE || st->k == k) {
		st->k = k;
	} else if (numeric(st->k) && numeric(k)) {
		st->k = k > st->k ? k : st->k;
	} else if ((st->k == K_DATE || st->k == K_TIMESTAMP) &&
		   (k == K_DATE || k == K_TIMESTAMP)) {
		st->k = K_TIMESTAMP;
	} else {
		st->k = K_STRING;
	}
	if (st->k == K_DECIMAL && st->intdigits + st->scale > SL_DECIMAL_MAX_PRECISION)
		st->k = K_FLOAT64;
}

static sl_type state_type(const col_state *st)
{
	switch (st->k) {
	case K_BOOL: return sl_type_make(SL_BOOL);
	case K_INT32: return sl_type_make(SL_INT32);
	case K_INT64: return sl_type_make(SL_INT64);
	case K_DECIMAL: {
		int p = st->intdigits + st->scale;
		return sl_type_decimal(p < 1 ? 1 : p, st->scale);
	}
	case K_FLOAT64: return sl_type_make(SL_FLOAT64);
	case K_DATE: return sl_type_make(SL_DATE);
	case K_TIMESTAMP: return sl_type_make(SL_TIMESTAMP);
	case K_NONE:
	case K_STRING: break;
	}
	return sl_type_make(SL_STRING);
}

/* Samples one file into st (ncols entries), checking its header agrees. */
static int sample_file(sl_csv_reader *r, col_state *st, int ncols, int64_t sample_rows,
		       sl_error *err)
{
	sl_error perr = SL_ERROR_INIT;
	int64_t seen = 0;
	while (sample_rows <= 0 || seen < sample_rows) {
		sl_csv_record rec;
		int rc = sl_csv_reader_next(r, &rec, &perr);
		if (rc == 0)
			break;
		seen++;
		if (rc == SL_EFORMAT) {
			sl_error_clear(&perr); /* unsplittable rows tell nothing */
			continue;
		}
		if (rc < 0) {
			if (err)
				*err = perr;
			return rc;
		}
		if (rec.nfields != ncols)
			continue; /* a bad row: read_batch will report it */
		for (int i = 0; i < ncols; i++) {
			const char *s = rec.fields[i];
			size_t n = rec.lens[i];
			int intdigits, scale;
			if (st[i].k == K_STRING)
				continue;
			if (!rec.quoted[i] ? csv_is_null(r, s, n) : n == 0)
				continue;
			kind k = classify(s, n, &intdigits, &scale);
			widen(&st[i], k, intdigits, scale);
		}
	}
	return 0;
}

/* Infers from the files at paths, or from the one input when in is set. */
static int infer(sl_schema **out, const char *const *paths, int npaths, sl_input *in,
		 const sl_csv_opts *opts, int64_t sample_rows, sl_error *err)
{
	sl_schema *schema = NULL;
	sl_csv_reader *r = NULL;
	col_state *st = NULL;
	char **names = NULL;
	int ncols = -1, rc = 0;
	const char *in_name[1];

	if (in) {
		in_name[0] = in->name;
		paths = in_name;
		npaths = 1;
	}
	for (int f = 0; f < npaths; f++) {
		if (in)
			rc = sl_csv_reader_open_input(&r, in, opts, err);
		else
			rc = sl_csv_reader_open(&r, paths[f], opts, err);
		if (rc < 0)
			goto fail;
		int n = sl_csv_reader_ncolumns(r);
		if (n == 0) {
			/* An empty file says nothing about the columns. */
			sl_csv_reader_close(r);
			r = NULL;
			continue;
		}
		if (ncols < 0) {
			ncols = n;
			st = sl_calloc((size_t)ncols, sizeof *st);
			names = sl_calloc((size_t)ncols, sizeof *names);
			if (!st || !names) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto fail;
			}
			for (int i = 0; i < ncols; i++) {
				names[i] = sl_strdup(sl_csv_reader_column(r, i));
				if (!names[i]) {
					rc = sl_error_set(err, SL_ENOMEM, "out of memory");
					goto fail;
				}
			}
		} else if (n != ncols) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "%s: has %d columns but %s has %d; files read together "
					  "must have the same columns",
					  paths[f], n, paths[0], ncols);
			goto fail;
		} else {
			for (int i = 0; i < ncols; i++) {
				if (strcmp(names[i], sl_csv_reader_column(r, i)) != 0) {
					rc = sl_error_set(err, SL_EFORMAT,
							  "%s: column %d is \"%s\" but it is \"%s\" "
							  "in %s",
							  paths[f], i + 1,
							  sl_csv_reader_column(r, i), names[i],
							  paths[0]);
					goto fail;
				}
			}
		}
		rc = sample_file(r, st, ncols, sample_rows, err);
		if (rc < 0)
			goto fail;
		sl_csv_reader_close(r);
		r = NULL;
	}

	schema = sl_schema_new();
	if (!schema) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < ncols; i++) {
		if (sl_schema_add(schema, names[i], state_type(&st[i]), true) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto fail;
		}
	}
	*out = schema;
	schema = NULL;
	rc = 0;
fail:
	sl_csv_reader_close(r);
	sl_schema_free(schema);
	for (int i = 0; names && i < ncols; i++)
		sl_free(names[i]);
	sl_free(names);
	sl_free(st);
	return rc;
}

int sl_csv_infer_schema(sl_schema **out, const char *const *paths, int npaths,
			const sl_csv_opts *opts, int64_t sample_rows, sl_error *err)
{
	return infer(out, paths, npaths, NULL, opts, sample_rows, err);
}

int sl_csv_infer_schema_input(sl_schema **out, sl_input *in, const sl_csv_opts *opts,
			      int64_t sample_rows, sl_error *err)
{
	return infer(out, NULL, 0, in, opts, sample_rows, err);
}
