/*
 * parquet_write_int.h (private to the parquet writer): column encoder
 * state, dictionary hash tables, statistics accumulators and the
 * RLE/bit-packed hybrid encoders shared by writer*.c and encode*.c.
 */
#ifndef SL_PARQUET_WRITE_INT_H
#define SL_PARQUET_WRITE_INT_H

#include "formats/parquet/parquet.h"

/* How a sluice column is stored: the physical type and its source. */
typedef enum {
	PK_BOOL,      /* BOOLEAN from bits */
	PK_I32,       /* INT32 from int32 (int32, date) */
	PK_I32_DEC,   /* INT32 from int128 (decimal p <= 9) */
	PK_I64,       /* INT64 from int64 (int64, timestamp) */
	PK_I64_DEC,   /* INT64 from int128 (decimal p <= 18) */
	PK_F64,       /* DOUBLE from double */
	PK_FLBA_DEC,  /* FIXED_LEN_BYTE_ARRAY big-endian from int128 (p > 18) */
	PK_BYTES      /* BYTE_ARRAY from offsets + data (string) */
} pq_kind;

/*
 * Dictionary of one column chunk: entries in insertion order, kept as the
 * dictionary page's PLAIN body, and an open-addressing table whose slots
 * hold (high 32 hash bits << 32) | (entry index + 1), 0 when empty.
 */
typedef struct pq_dict {
	uint64_t *slots;
	size_t mask;       /* slot count - 1 (a power of two) */
	uint32_t count;
	uint64_t *hashes;  /* hash of each entry, for growth */
	uint32_t *offs;    /* PK_BYTES: offset of entry i's length prefix in plain */
	size_t cap;        /* capacity of hashes/offs */
	sl_buf plain;      /* PLAIN-encoded entries */
} pq_dict;

/* Min/max of the values seen (signed or bytewise as the type sorts). */
typedef struct pq_minmax {
	bool has;
	bool nan;    /* a NaN was seen (excluded from min/max) */
	union {
		int64_t i;   /* bool (0/1), int32, int64, decimal <= 18 */
		double f;
		sl_i128 d;   /* decimal > 18 */
	} min, max;
	sl_buf smin, smax; /* strings */
} pq_minmax;

/*
 * One data page on its way to the file: the uncompressed body while it
 * waits for compression, then the compressed bytes until its row group is
 * written.
 */
/* How a PLAIN page may be re-encoded before compression. */
enum { PQ_DELTA_NONE = 0, PQ_DELTA_I32, PQ_DELTA_I64, PQ_DELTA_BYTES };

typedef struct pq_job {
	struct pq_job *next;   /* in its column's list of pages */
	struct pq_job *qnext;  /* in the compression queue */
	sl_buf body;           /* uncompressed page (released once compressed) */
	sl_buf comp;           /* compressed page */
	size_t body_len;       /* uncompressed size */
	int32_t num_values;    /* rows, NULLs included */
	int encoding;
	/* PLAIN pages: PQ_DELTA_* re-encoding to try, where the values start
	 * in body (after the definition levels) and how many there are */
	int delta;
	size_t vals_off;
	size_t nvals;
	bool done;
	int rc;
	sl_error err;
} pq_job;

typedef struct pq_pool pq_pool;

typedef struct pq_col {
	const char *name;  /* borrowed from the writer's schema */
	sl_type type;
	pq_kind kind;
	int ptype;         /* Parquet physical type */
	int width;         /* bytes per PLAIN value (0 for BYTE_ARRAY, 1 bool) */
	bool optional;

	/* encoding mode of the current chunk */
	bool dict_mode;
	bool dict_abandoned; /* high cardinality seen: no dictionary for the file */
	int delta;           /* PQ_DELTA_* for pages that are not dictionary-encoded */
	bool chunk_has_dict_pages;
	uint32_t chunk_encs; /* bit e set: a data page of encoding e */
	pq_dict dict;

	/* the page being filled */
	sl_buf vals;         /* PLAIN values */
	int64_t vals_bits;   /* PK_BOOL: bits used in vals */
	uint32_t *idx;       /* dictionary indices */
	size_t nidx, idx_cap;
	uint8_t *defs;       /* definition levels as a bitmap (optional only) */
	size_t defs_cap;     /* bytes */
	int64_t page_rows;
	int64_t page_values; /* non-NULL values in the page */
	int64_t page_est;    /* plain-equivalent bytes of the page */

	/* the chunk of the current row group: its data pages, in order */
	pq_job *jobs, *jobs_tail;
	uint64_t chunk_est;  /* uncompressed bytes of those pages */
	int64_t chunk_values;
	int64_t chunk_nulls;
	int64_t chunk_uncompressed; /* page headers + uncompressed bodies */
	pq_minmax cstat;

	/* whole-file statistics */
	int64_t file_nulls;
	pq_minmax fstat;
	bool fstat_invalid;  /* a chunk had values but no usable min/max */
} pq_col;

/* ------------------------------------------------------------ encode.c */

/* Byte width of a decimal of precision p stored as FIXED_LEN_BYTE_ARRAY. */
int pq_decimal_flba_len(int precision);
/* Writes v as n big-endian two's complement bytes. */
void pq_decimal_to_be(sl_i128 v, int n, uint8_t *out);
/* Number of bits needed to hold v (0 for 0). */
int pq_bit_width(uint64_t v);

/* Appends the RLE/bit-packed hybrid encoding of v[0..n) at bit width bw. */
int pq_rle_encode_u32(sl_buf *out, const uint32_t *v, size_t n, int bw);
/* Same for n bit-width-1 levels given as an LSB-first bitmap. */
int pq_rle_encode_bitmap(sl_buf *out, const uint8_t *bits, size_t n);
/* Copies n bits from src at bit offset so to dst at bit offset dof. */
void pq_bits_copy(uint8_t *dst, int64_t dof, const uint8_t *src, int64_t so, int64_t n);

int pq_dict_init(pq_dict *d);
void pq_dict_reset(pq_dict *d);
void pq_dict_free(pq_dict *d);
/* Doubles the table when it is half full; 0 or SL_ENOMEM. */
int pq_dict_grow(pq_dict *d);
/* Makes room for one more entry's bookkeeping; 0 or SL_ENOMEM. */
int pq_dict_reserve_entry(pq_dict *d);

void pq_minmax_reset(pq_minmax *m);
void pq_minmax_free(pq_minmax *m);
/* Folds chunk statistics a into file statistics f (same kind). */
int pq_minmax_merge(pq_minmax *f, const pq_minmax *a, pq_kind kind);
/* Updates string min/max with s[0..n); 0 or SL_ENOMEM. */
int pq_minmax_str(pq_minmax *m, const char *s, size_t n);

/*
 * Encodes the non-NULL values of rows [a, b) of src into the page (PLAIN
 * or dictionary indices, by c->dict_mode), updating chunk statistics.
 * Returns the row where it stopped: b, or an earlier row when the
 * dictionary is full (that row is not encoded); negative on OOM. *nonnull
 * receives the number of values encoded.
 */
int64_t pq_encode_values(pq_col *c, const sl_column *src, int64_t a, int64_t b,
			 size_t dict_max_bytes, int64_t *nonnull);
/*
 * Rewrites the current page's dictionary indices as PLAIN values (used
 * when the dictionary does not pay off). 0 or SL_ENOMEM.
 */
int pq_page_indices_to_plain(pq_col *c);

/* ------------------------------------------------------ encode_delta.c */

/*
 * Appends n >= 1 values, given PLAIN in vals[0..len), re-encoded:
 * width 4 or 8 as DELTA_BINARY_PACKED (4-byte values with 32-bit deltas),
 * width 0 (byte arrays) as DELTA_LENGTH_BYTE_ARRAY. 0, SL_ENOMEM, or
 * SL_EINVAL / SL_EINTERNAL for a bad width or malformed PLAIN input.
 */
int pq_delta_encode(sl_buf *out, const uint8_t *vals, size_t len, size_t n, int width);
/*
 * Applies j->delta to the PLAIN page in j->body when that makes it
 * smaller (setting j->encoding); uses j->comp as scratch. 0 or < 0.
 */
int pq_job_encode(pq_job *j);

/* -------------------------------------------------------- writer_jobs.c */

/*
 * Page compression, on a background thread when background is true (the
 * caller's thread helps when the queue is long), else inline.
 */
int pq_pool_new(pq_pool **out, sl_codec codec, int level, bool background);
/* Stops the thread and frees everything, including unreleased jobs' memory
 * owned by the pool (jobs themselves are released by their owners). */
void pq_pool_free(pq_pool *p);
/* A new job with an empty body buffer, or NULL on OOM. */
pq_job *pq_pool_job(pq_pool *p);
/* Queues j for compression (or compresses it now). */
void pq_pool_submit(pq_pool *p, pq_job *j);
/* Waits until j is compressed; returns j->rc (details in j->err). */
int pq_pool_wait(pq_pool *p, pq_job *j);
/* Frees a job; it must be finished (pq_pool_wait) or never submitted. */
void pq_pool_release(pq_pool *p, pq_job *j);

/* -------------------------------------------------------- writer_meta.c */

/* Encodes chunk statistics as Parquet Statistics bytes (min/max values). */
typedef struct pq_stat_bytes {
	bool has;
	bool exact_min, exact_max;
	uint8_t min[72], max[72];
	size_t min_len, max_len;
} pq_stat_bytes;

void pq_stats_encode(const pq_col *c, const pq_minmax *m, pq_stat_bytes *out);
/* Renders the file statistics of column c as JSON into s. */
int pq_file_col_stats(const pq_col *c, sl_parquet_col_stats *s);

#endif
