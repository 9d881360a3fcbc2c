/*
 * csv_int.h: what only the csv module's own files see: the byte source
 * (plain, gzip or zstd over an sl_input) and the reader's state.
 */
#ifndef SL_CSV_INT_H
#define SL_CSV_INT_H

#include "csv.h"

#include <zlib.h>
#include <zstd.h>

#define CSV_DEFAULT_BUFFER (1u << 20)
#define CSV_DEFAULT_MAX_RECORD ((size_t)16 << 20)
/* Bytes past the end of the read buffer that vector loads may touch. */
#define CSV_PAD 64
/* Longest raw text kept for a record that is reported as too long. */
#define CSV_BAD_RAW_MAX 4096
/* Bad records (too long, unterminated) kept while a reader without a header
 * looks for its first good record; more before it fails the open. */
#define CSV_PENDING_BAD_MAX 64

/* A bad record read ahead at open, handed back by next() before the rest. */
typedef struct csv_bad {
	int64_t line;
	char *raw; /* in the reader's arena */
	size_t raw_len;
	char *message;
} csv_bad;

typedef enum { CSV_CODEC_NONE = 0, CSV_CODEC_GZIP, CSV_CODEC_ZSTD } csv_codec;

/* Sequential decompressed bytes out of a random-access sl_input. */
typedef struct csv_src {
	sl_input *in;
	bool own_in;
	uint64_t in_off; /* next raw byte to read from in */
	csv_codec codec;
	unsigned char *cbuf; /* compressed bytes read, not yet decompressed */
	size_t cbuf_cap, cbuf_pos, cbuf_len;
	z_stream zs;
	bool zs_init;
	bool member_done; /* gzip: the last member ended exactly at the input end */
	ZSTD_DStream *zd;
	size_t zd_last; /* last ZSTD_decompressStream hint: 0 = frame complete */
} csv_src;

int csv_src_open(csv_src *s, sl_input *in, bool own_in, const char *path, sl_error *err);
/* Fills up to cap bytes into dst; *got == 0 only at end of input. */
int csv_src_read(csv_src *s, char *dst, size_t cap, size_t *got, sl_error *err);
void csv_src_close(csv_src *s);

struct sl_csv_reader {
	csv_src src;
	char *path;

	/* options, copied */
	char delim, quote, escape;
	bool header;
	size_t max_record;
	const char **nulls; /* non-empty null strings, NULL-terminated, in arena */
	size_t *null_lens;
	int nnulls;
	bool null_empty; /* "" is a null string (an empty unquoted field is NULL) */

	/* the sliding read buffer: data is buf[0..len), the next record at pos */
	char *buf;
	size_t cap; /* usable bytes; the allocation has CSV_PAD more */
	size_t len, pos;
	bool eof;
	int failed;          /* a sticky read/decompression error, or 0 */
	sl_error fail_err;
	uint64_t consumed_base; /* decompressed bytes dropped off the buffer front */
	char *scratch; /* unescaped quoted fields of the current record; cap bytes */

	/* the current record's fields */
	int nf, fcap;
	const char **fields;
	size_t *lens;
	bool *quoted;
	bool replay; /* next() returns the record already parsed (no header) */
	sl_csv_record last;
	csv_bad *pending; /* bad records before the first good one (no header) */
	int npending, pending_pos;

	int64_t line;      /* physical line of the next record */
	int64_t record_no; /* data records returned so far */
	char bad_raw[CSV_BAD_RAW_MAX];

	/* columns */
	int max_columns;
	const char *const *keep_names; /* borrowed from the opts */
	int nkeep_names;
	int ncols;
	char **cols;   /* unique names */
	char **htext;  /* the header's own text of each column */
	int nrenamed;
	sl_arena arena;
};

/* Tests only: the read buffer size for readers opened afterwards (0: 1 MiB). */
extern size_t sl_csv_test_buffer_size;
/* Tests only: read_batch's value parser (fast paths, then append_text). */
int sl_csv_test_append_field(sl_column *c, const char *s, size_t n, sl_error *err);

/*
 * True when an unquoted field s[0..n) is one of the reader's null strings.
 */
static inline bool csv_is_null(const sl_csv_reader *r, const char *s, size_t n)
{
	if (n == 0)
		return r->null_empty;
	for (int i = 0; i < r->nnulls; i++)
		if (r->null_lens[i] == n && memcmp(r->nulls[i], s, n) == 0)
			return true;
	return false;
}

#endif
