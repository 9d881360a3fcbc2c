/*
 * csv_reader.c: splitting a byte stream into RFC 4180 records. A fixed read
 * buffer slides over the input; unquoted fields point into it, quoted fields
 * with escapes are unescaped into a scratch buffer of the same size. The hot
 * loop looks for the delimiter and newline 16 bytes at a time.
 */
#include "csv_int.h"

#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t sl_csv_test_buffer_size = 0;

/* parse_record results besides 1 (a record) */
enum { NEED_MORE = 0, UNTERMINATED = -100 };

/* ------------------------------------------------------------ scanning */

/*
 * First a or b in [s, end), or end. The buffer has CSV_PAD readable bytes
 * past end, so a 16-byte load that starts before end is always safe.
 */
static inline const char *find2(const char *s, const char *end, char a, char b)
{
#if defined(__SSE2__)
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
	while (s < end) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)));
		if (m) {
			const char *hit = s + __builtin_ctz(m);
			return hit < end ? hit : end;
		}
		s += 16;
	}
	return end;
#else
	/* SWAR: 8 bytes at a time, testing for a zero byte after an XOR. */
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
	const uint64_t ma = ones * (unsigned char)a, mb = ones * (unsigned char)b;
	while (s < end) {
		uint64_t w;
		memcpy(&w, s, 8);
		uint64_t xa = w ^ ma, xb = w ^ mb;
		uint64_t z = ((xa - ones) & ~xa & highs) | ((xb - ones) & ~xb & highs);
		if (z) {
			/* The lowest flagged byte is exact; later ones may be false. */
			const char *hit = s + (__builtin_ctzll(z) >> 3);
			return hit < end ? hit : end;
		}
		s += 8;
	}
	return end;
#endif
}

static size_t count_newlines(const char *s, const char *end)
{
	size_t n = 0;
	while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		n++;
		s++;
	}
	return n;
}

static int grow_fields(sl_csv_reader *r)
{
	int ncap = r->fcap ? r->fcap * 2 : 64;
	const char **f = sl_realloc(r->fields, (size_t)ncap * sizeof *f);
	if (!f)
		return SL_ENOMEM;
	r->fields = f;
	size_t *l = sl_realloc(r->lens, (size_t)ncap * sizeof *l);
	if (!l)
		return SL_ENOMEM;
	r->lens = l;
	bool *q = sl_realloc(r->quoted, (size_t)ncap * sizeof *q);
	if (!q)
		return SL_ENOMEM;
	r->quoted = q;
	r->fcap = ncap;
	return 0;
}

/*
 * Parses the quoted field that starts at p (on the quote). On 1, the field
 * is stored and *pp points just after its closing quote; *lines counts the
 * newlines inside it. Text between the closing quote and the next delimiter
 * is kept as data (lenient, as most readers are).
 */
static int parse_quoted(sl_csv_reader *r, const char **pp, const char *end, char **sp,
			size_t *lines)
{
	const char quote = r->quote, esc = r->escape;
	const char *p = *pp + 1, *seg = p;
	char *out = *sp, *start = out;
	bool copied = false;

	for (;;) {
		const char *e = find2(p, end, quote, esc);
		if (e == end)
			return r->eof ? UNTERMINATED : NEED_MORE;
		if (*e != quote || (esc == quote && e + 1 < end && e[1] == quote)) {
			/* An escape: the next byte is data. */
			if (e + 1 >= end)
				return r->eof ? UNTERMINATED : NEED_MORE;
			memcpy(out, seg, (size_t)(e - seg));
			out += e - seg;
			*out++ = e[1];
			copied = true;
			p = seg = e + 2;
			continue;
		}
		if (esc == quote && e + 1 >= end && !r->eof)
			return NEED_MORE; /* "" might straddle the buffer end */
		*lines += count_newlines(*pp + 1, e);
		if (copied) {
			memcpy(out, seg, (size_t)(e - seg));
			out += e - seg;
		}
		const char *after = e + 1;
		if (after < end && *after != r->delim && *after != '\n' &&
		    !(*after == '\r' && (after + 1 == end || after[1] == '\n'))) {
			/* Data after the closing quote: append it up to the field end. */
			const char *t = find2(after, end, r->delim, '\n');
			if (t == end && !r->eof)
				return NEED_MORE;
			if (!copied) {
				memcpy(out, *pp + 1, (size_t)(e - (*pp + 1)));
				out += e - (*pp + 1);
				copied = true;
			}
			const char *tend = t;
			if (t < end && *t == '\n' && tend[-1] == '\r')
				tend--;
			else if (t == end && tend[-1] == '\r')
				tend--;
			memcpy(out, after, (size_t)(tend - after));
			out += tend - after;
			after = t;
		}
		int i = r->nf;
		if (copied) {
			r->fields[i] = start;
			r->lens[i] = (size_t)(out - start);
			*sp = out;
		} else {
			r->fields[i] = *pp + 1;
			r->lens[i] = (size_t)(e - (*pp + 1));
		}
		r->quoted[i] = true;
		r->nf++;
		*pp = after;
		return 1;
	}
}

/*
 * Bit i set when s[i] is a, b or c, for the 64 bytes at s (which may run
 * into the CSV_PAD bytes past the data; the caller masks those off).
 */
static inline uint64_t mask64(const char *s, char a, char b, char c)
{
#if defined(__SSE2__)
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
	uint64_t m = 0;
	for (int k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * k));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
					   _mm_cmpeq_epi8(x, vc));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << (16 * k);
	}
	return m;
#else
	uint64_t m = 0;
	for (int k = 0; k < 64; k++)
		m |= (uint64_t)(s[k] == a || s[k] == b || s[k] == c) << k;
	return m;
#endif
}

/* The mask of the block at blk, without bits at or past end. */
static inline uint64_t block_mask(const char *blk, const char *end, char a, char b, char c)
{
	uint64_t m = mask64(blk, a, b, c);
	if (end - blk < 64)
		m &= (UINT64_C(1) << (end - blk)) - 1;
	return m;
}

/*
 * Parses one record at buf[start..len). Returns 1 with the fields set,
 * *line_end at its end (CR LF excluded), *next after its line end and
 * *lines the newlines inside quoted fields; NEED_MORE when the buffer ends
 * first; UNTERMINATED at end of input inside quotes; or SL_ENOMEM.
 *
 * The hot path: a 64-bit mask of the delimiters, newlines and quotes of a
 * 64-byte block is computed once, and each set bit ends a field, so a
 * field costs a few instructions and no call. A quote that starts a field
 * hands that field to parse_quoted; a quote inside an unquoted field is
 * data.
 */
static int parse_record(sl_csv_reader *r, size_t start, const char **line_end,
			size_t *next, size_t *lines)
{
	const char *p = r->buf + start, *end = r->buf + r->len;
	const char delim = r->delim, quote = r->quote;
	char *scratch = r->scratch;
	const char **fields = r->fields;
	size_t *lens = r->lens;
	bool *quoted = r->quoted;
	int nf = 0, fcap = r->fcap;
	int rc;

	*lines = 0;
	const char *fstart = p, *blk = p;
	uint64_t m = p < end ? block_mask(blk, end, delim, '\n', quote) : 0;
	for (;;) {
		while (m == 0) {
			blk += 64;
			if (blk >= end)
				goto at_end;
			m = block_mask(blk, end, delim, '\n', quote);
		}
		const char *s = blk + __builtin_ctzll(m);
		m &= m - 1;
		if (*s == quote && s != fstart)
			continue; /* a quote inside an unquoted field is data */
		if (nf == fcap) {
			r->nf = nf;
			if ((rc = grow_fields(r)) < 0)
				return rc;
			fields = r->fields;
			lens = r->lens;
			quoted = r->quoted;
			fcap = r->fcap;
		}
		if (*s == delim) {
			fields[nf] = fstart;
			lens[nf] = (size_t)(s - fstart);
			quoted[nf++] = false;
			fstart = s + 1;
			continue;
		}
		if (*s == '\n') {
			fields[nf] = fstart;
			lens[nf] = (size_t)(s - fstart);
			quoted[nf] = false;
			*next = (size_t)(s + 1 - r->buf);
			if (s > fstart && s[-1] == '\r') {
				s--;
				lens[nf]--;
			}
			r->nf = nf + 1;
			*line_end = s;
			return 1;
		}

		/* A quoted field. */
		r->nf = nf;
		const char *q = s;
		rc = parse_quoted(r, &q, end, &scratch, lines);
		if (rc != 1)
			return rc;
		nf = r->nf;
		/* q is at a delimiter, a line end or the end of input. */
		if (q == end || (*q == '\r' && q + 1 == end)) {
			if (!r->eof)
				return NEED_MORE;
			*line_end = q;
			*next = r->len;
			return 1;
		}
		if (*q == delim) {
			fstart = blk = q + 1;
			m = fstart < end ? block_mask(blk, end, delim, '\n', quote) : 0;
			if (fstart == end)
				goto at_end;
			continue;
		}
		*line_end = q;
		if (*q == '\r')
			q++;
		*next = (size_t)(q + 1 - r->buf);
		return 1;
	}

at_end:
	/* The buffer ends inside the last field. */
	if (!r->eof) {
		r->nf = nf;
		return NEED_MORE;
	}
	if (nf == fcap) {
		r->nf = nf;
		if ((rc = grow_fields(r)) < 0)
			return rc;
		fields = r->fields;
		lens = r->lens;
		quoted = r->quoted;
	}
	/* The last record of a file without a final line end. */
	const char *e = end;
	if (e > fstart && e[-1] == '\r')
		e--;
	fields[nf] = fstart;
	lens[nf] = (size_t)(e - fstart);
	quoted[nf] = false;
	r->nf = nf + 1;
	*line_end = e;
	*next = r->len;
	return 1;
}

/* ------------------------------------------------------------ buffering */

static int resize_buffers(sl_csv_reader *r, size_t cap, sl_error *err)
{
	char *b = sl_realloc(r->buf, cap + CSV_PAD);
	if (!b)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	r->buf = b;
	char *s = sl_realloc(r->scratch, cap + CSV_PAD);
	if (!s)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	r->scratch = s;
	r->cap = cap;
	memset(r->buf + r->len, 0, CSV_PAD);
	return 0;
}

/*
 * Drops buf[0..pos) and reads more input behind what is left; grows the
 * buffer (up to max_record) when the record at pos already fills it.
 */
static int refill(sl_csv_reader *r, sl_error *err)
{
	int rc;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->consumed_base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap) {
		size_t ncap = r->cap * 2;
		if (ncap > r->max_record + 1)
			ncap = r->max_record + 1;
		if (ncap <= r->cap)
			return SL_ELIMIT;
		rc = resize_buffers(r, ncap, err);
		if (rc < 0)
			return rc;
	}
	while (r->len < r->cap && !r->eof) {
		size_t got;
		rc = csv_src_read(&r->src, r->buf + r->len, r->cap - r->len, &got, &r->fail_err);
		if (rc < 0) {
			/*
			 * The file cannot be read on (corrupt or truncated gzip/zstd,
			 * an I/O error): that ends reading, and is not a bad record,
			 * so it is never SL_EFORMAT, which callers quarantine.
			 */
			if (rc == SL_EFORMAT)
				rc = r->fail_err.code = SL_EIO;
			r->failed = rc;
			if (err)
				*err = r->fail_err;
			return rc;
		}
		if (got == 0)
			r->eof = true;
		r->len += got;
	}
	memset(r->buf + r->len, 0, CSV_PAD);
	return 0;
}

/*
 * Discards the rest of a record that is over max_record, following quotes
 * so that the record's embedded newlines do not end it. Lines advance by
 * every newline skipped.
 */
static int skip_record(sl_csv_reader *r, sl_error *err)
{
	bool inq = false, esc_next = false;
	for (;;) {
		const char *p = r->buf + r->pos, *end = r->buf + r->len;
		while (p < end) {
			char c = *p++;
			if (esc_next) {
				esc_next = false;
				if (c == '\n')
					r->line++;
				continue;
			}
			if (c == '\n') {
				r->line++;
				if (!inq) {
					r->pos = (size_t)(p - r->buf);
					return 0;
				}
			} else if (inq && c == r->escape && r->escape != r->quote) {
				esc_next = true;
			} else if (c == r->quote) {
				inq = !inq;
			}
		}
		r->pos = r->len;
		if (r->eof)
			return 0;
		int rc = refill(r, err);
		if (rc < 0)
			return rc;
	}
}

static void copy_bad_raw(sl_csv_reader *r, const char *s, size_t n, sl_csv_record *rec)
{
	if (n > sizeof r->bad_raw)
		n = sizeof r->bad_raw;
	memcpy(r->bad_raw, s, n);
	rec->raw = r->bad_raw;
	rec->raw_len = n;
}

/*
 * The reader's core: the next record, blank lines skipped (unless the file
 * has exactly one column, where a blank line is a record of one empty field).
 */
static int next_record(sl_csv_reader *r, sl_csv_record *rec, sl_error *err)
{
	int rc;
	for (;;) {
		const char *line_end = NULL;
		size_t next = 0, lines = 0;

		if (r->pos >= r->len && r->eof)
			return 0;
		rc = parse_record(r, r->pos, &line_end, &next, &lines);
		if (rc == NEED_MORE) {
			if (r->eof) /* cannot happen: parse_record decides at EOF */
				return sl_error_set(err, SL_EINTERNAL, "csv: no progress at EOF");
			if (r->len - r->pos > r->max_record)
				goto too_long;
			rc = refill(r, err);
			if (rc == SL_ELIMIT)
				goto too_long;
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc == SL_ENOMEM)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (rc == UNTERMINATED) {
			/* Report the record's first line and resume on the next one. */
			const char *s = r->buf + r->pos, *end = r->buf + r->len;
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *le = nl ? nl : end;
			if (le > s && le[-1] == '\r')
				le--;
			memset(rec, 0, sizeof *rec);
			rec->line = r->line;
			copy_bad_raw(r, s, (size_t)(le - s), rec);
			r->pos = nl ? (size_t)(nl + 1 - r->buf) : r->len;
			r->line++;
			return sl_error_set(err, SL_EFORMAT, "%s:%lld: unterminated quoted field",
					    r->path, (long long)rec->line);
		}
		if ((size_t)(line_end - (r->buf + r->pos)) > r->max_record)
			goto too_long;

		int64_t line = r->line;
		const char *raw = r->buf + r->pos;
		r->line += 1 + (int64_t)lines;
		r->pos = next;
		if (r->nf == 1 && r->lens[0] == 0 && !r->quoted[0] && r->ncols != 1)
			continue; /* a blank line */
		rec->nfields = r->nf;
		rec->fields = r->fields;
		rec->lens = r->lens;
		rec->quoted = r->quoted;
		rec->line = line;
		rec->raw = raw;
		rec->raw_len = (size_t)(line_end - raw);
		return 1;
	}

too_long:
	memset(rec, 0, sizeof *rec);
	rec->line = r->line;
	copy_bad_raw(r, r->buf + r->pos, r->len - r->pos, rec);
	rc = skip_record(r, err);
	if (rc < 0)
		return rc;
	return sl_error_set(err, SL_EFORMAT,
			    "%s:%lld: record is longer than max_record (%zu bytes)", r->path,
			    (long long)rec->line, r->max_record);
}

int sl_csv_reader_next(sl_csv_reader *r, sl_csv_record *rec, sl_error *err)
{
	if (r->failed) {
		if (err)
			*err = r->fail_err;
		return r->failed;
	}
	if (r->pending_pos < r->npending) {
		const csv_bad *b = &r->pending[r->pending_pos++];
		memset(rec, 0, sizeof *rec);
		rec->line = b->line;
		rec->raw = b->raw;
		rec->raw_len = b->raw_len;
		rec->record_no = ++r->record_no;
		return sl_error_set(err, SL_EFORMAT, "%s", b->message);
	}
	if (r->replay) {
		r->replay = false;
		*rec = r->last;
		rec->record_no = ++r->record_no;
		return 1;
	}
	int rc = next_record(r, rec, err);
	if (rc == 1)
		rec->record_no = ++r->record_no;
	else if (rc == SL_EFORMAT)
		rec->record_no = ++r->record_no;
	return rc;
}

/* ------------------------------------------------------------ open/close */

/*
 * Names the columns from the header record (or column1.. without one):
 * empty names become columnN, then sl_names_make_unique resolves repeats
 * ignoring case, in time linear in the header's length.
 */
static int set_columns(sl_csv_reader *r, const sl_csv_record *rec, bool from_header,
		       sl_error *err)
{
	if (rec->nfields > r->max_columns)
		return sl_error_set(err, SL_ELIMIT,
				    "%s: the %s has %d columns, more than max_columns (%d); set "
				    "max_columns on the table to read it",
				    r->path, from_header ? "header" : "first record", rec->nfields,
				    r->max_columns);
	size_t n = (size_t)rec->nfields;
	r->ncols = rec->nfields;
	r->cols = sl_arena_alloc(&r->arena, (n ? n : 1) * sizeof *r->cols);
	r->htext = sl_arena_alloc(&r->arena, (n ? n : 1) * sizeof *r->htext);
	if (!r->cols || !r->htext)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char *text = from_header ? sl_arena_strndup(&r->arena, rec->fields[i], rec->lens[i])
					 : NULL;
		char *name = text && *text ? text
					   : sl_arena_sprintf(&r->arena, "column%zu", i + 1);
		if ((from_header && !text) || !name)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		r->htext[i] = text ? text : name;
		r->cols[i] = name;
	}
	int rc = sl_names_make_unique_keeping(r->cols, n, r->keep_names, (size_t)r->nkeep_names,
					      &r->arena, NULL, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		r->nrenamed += r->cols[i] != r->htext[i];
	return 0;
}

static int check_opts(const sl_csv_opts *o, const char *path, sl_error *err)
{
	const char bad[] = {'\n', '\r', '\0'};
	for (int i = 0; i < 3; i++) {
		if (o->delimiter == bad[i] || o->quote == bad[i] || o->escape == bad[i])
			return sl_error_set(err, SL_EINVAL,
					    "%s: csv delimiter, quote and escape cannot be a line "
					    "end or NUL", path);
	}
	if (o->delimiter == o->quote || o->delimiter == o->escape)
		return sl_error_set(err, SL_EINVAL,
				    "%s: csv delimiter '%c' must differ from the quote and escape",
				    path, o->delimiter);
	return 0;
}

/*
 * Without a header the first good record gives the column count, so a bad
 * record before it (too long, an unterminated quote) is kept to be handed
 * back by next() in its turn, as it would be later in the file.
 */
static int keep_pending_bad(sl_csv_reader *r, const sl_csv_record *rec, sl_error *err)
{
	if (!r->pending) {
		r->pending = sl_arena_alloc(&r->arena, CSV_PENDING_BAD_MAX * sizeof *r->pending);
		if (!r->pending)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	csv_bad *b = &r->pending[r->npending];
	b->line = rec->line;
	b->raw_len = rec->raw_len;
	b->raw = sl_arena_alloc(&r->arena, rec->raw_len ? rec->raw_len : 1);
	b->message = sl_arena_strdup(&r->arena, err->message);
	if (!b->raw || !b->message)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	memcpy(b->raw, rec->raw, rec->raw_len);
	r->npending++;
	sl_error_clear(err);
	return 0;
}

static int reader_start(sl_csv_reader *r, const sl_csv_opts *opts, sl_error *err)
{
	sl_csv_opts def = SL_CSV_OPTS_INIT;
	const sl_csv_opts *o = opts ? opts : &def;
	int rc = check_opts(o, r->path, err);
	if (rc < 0)
		return rc;
	r->delim = o->delimiter;
	r->quote = o->quote;
	r->escape = o->escape;
	r->header = o->header;
	r->max_record = o->max_record ? o->max_record : CSV_DEFAULT_MAX_RECORD;
	r->max_columns = o->max_columns > 0 ? o->max_columns : SL_CSV_DEFAULT_MAX_COLUMNS;
	r->keep_names = o->keep_names;
	r->nkeep_names = o->nkeep_names > 0 ? o->nkeep_names : 0;
	r->line = 1;

	/* Null strings: "" is a flag, the others a list. */
	int n = 0;
	if (!o->nulls)
		r->null_empty = true;
	else
		for (const char **s = o->nulls; *s; s++)
			n++;
	r->nulls = sl_arena_alloc(&r->arena, (size_t)(n + 1) * sizeof *r->nulls);
	r->null_lens = sl_arena_alloc(&r->arena, (size_t)(n + 1) * sizeof *r->null_lens);
	if (!r->nulls || !r->null_lens)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *s = o->nulls[i];
		if (!*s) {
			r->null_empty = true;
			continue;
		}
		r->null_lens[r->nnulls] = strlen(s);
		r->nulls[r->nnulls++] = s;
	}
	r->nulls[r->nnulls] = NULL;
	/* The caller's strings must outlive the reader; copy them to be safe. */
	for (int i = 0; i < r->nnulls; i++) {
		r->nulls[i] = sl_arena_strdup(&r->arena, r->nulls[i]);
		if (!r->nulls[i])
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}

	size_t cap = sl_csv_test_buffer_size ? sl_csv_test_buffer_size : CSV_DEFAULT_BUFFER;
	if (cap > r->max_record + 1)
		cap = r->max_record + 1;
	rc = resize_buffers(r, cap, err);
	if (rc < 0)
		return rc;
	rc = refill(r, err);
	if (rc < 0)
		return rc;
	if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;

	/* The first record: the header, or the first data row kept for replay. */
	sl_csv_record rec;
	sl_error ferr = SL_ERROR_INIT;
	rc = next_record(r, &rec, &ferr);
	while (rc == SL_EFORMAT && !r->header && r->npending < CSV_PENDING_BAD_MAX) {
		rc = keep_pending_bad(r, &rec, &ferr);
		if (rc == 0)
			rc = next_record(r, &rec, &ferr);
	}
	if (rc < 0) {
		if (err)
			*err = ferr;
		return rc;
	}
	if (rc == 0) {
		r->ncols = 0;
		return 0;
	}
	rc = set_columns(r, &rec, r->header, err);
	if (rc < 0)
		return rc;
	if (!r->header) {
		r->last = rec;
		r->replay = true;
	}
	return 0;
}

static int reader_new(sl_csv_reader **out, const char *path, sl_error *err)
{
	sl_csv_reader *r = NULL;
	int rc = sl_alloc_zeroed((void **)&r, sizeof *r, err);
	if (rc < 0)
		return rc;
	sl_arena_init(&r->arena, 4096);
	r->path = sl_strdup(path);
	if (!r->path) {
		sl_free(r);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

/* Opens a reader named name on in, which the reader closes when own_in. */
static int reader_open(sl_csv_reader **out, sl_input *in, bool own_in, const char *name,
		       const sl_csv_opts *opts, sl_error *err)
{
	sl_csv_reader *r = NULL;
	int rc = reader_new(&r, name, err);
	if (rc < 0) {
		if (own_in)
			in->close(in);
		return rc;
	}
	rc = csv_src_open(&r->src, in, own_in, name, err);
	if (rc == 0)
		rc = reader_start(r, opts, err);
	if (rc < 0) {
		sl_csv_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int sl_csv_reader_open(sl_csv_reader **out, const char *path, const sl_csv_opts *opts,
		       sl_error *err)
{
	sl_input *in = NULL;
	int rc = sl_input_file_open(&in, path, err);
	if (rc < 0)
		return rc;
	return reader_open(out, in, true, path, opts, err);
}

int sl_csv_reader_open_input(sl_csv_reader **out, sl_input *in, const sl_csv_opts *opts,
			     sl_error *err)
{
	return reader_open(out, in, false, in->name, opts, err);
}

void sl_csv_reader_close(sl_csv_reader *r)
{
	if (!r)
		return;
	csv_src_close(&r->src);
	sl_free(r->buf);
	sl_free(r->scratch);
	sl_free(r->fields);
	sl_free(r->lens);
	sl_free(r->quoted);
	sl_free(r->path);
	sl_arena_free(&r->arena);
	sl_free(r);
}

int sl_csv_reader_ncolumns(const sl_csv_reader *r) { return r->ncols; }

const char *sl_csv_reader_column(const sl_csv_reader *r, int i)
{
	return i >= 0 && i < r->ncols ? r->cols[i] : NULL;
}

int sl_csv_reader_nrenamed(const sl_csv_reader *r) { return r->nrenamed; }

const char *sl_csv_reader_header_name(const sl_csv_reader *r, int i)
{
	return i >= 0 && i < r->ncols ? r->htext[i] : NULL;
}

int sl_csv_reader_renames_text(const sl_csv_reader *r, sl_buf *out)
{
	int64_t count = 0;
	int rc = 0;
	for (int i = 0; i < r->ncols && rc == 0; i++)
		if (r->cols[i] != r->htext[i])
			rc = sl_names_note_rename(out, &count, r->htext[i], r->cols[i]);
	return rc ? rc : sl_names_note_end(out, count);
}

uint64_t sl_csv_reader_bytes(const sl_csv_reader *r)
{
	if (r->replay) /* the first record was read ahead for the column count */
		return r->consumed_base + (uint64_t)(r->last.raw - r->buf);
	return r->consumed_base + r->pos;
}

const char *sl_csv_reader_path(const sl_csv_reader *r) { return r->path; }
