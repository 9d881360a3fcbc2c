/*
 * parquet_read_int.h (private to the Parquet reader): the decoded footer,
 * page headers, the RLE/bit-packed and delta decoders, and the per-column
 * chunk reader that turns pages into sl_column values.
 */
#ifndef SL_PARQUET_READ_INT_H
#define SL_PARQUET_READ_INT_H

#include "formats/parquet/parquet.h"

#include <string.h>

/* ------------------------------------------------------------- metadata */

typedef struct pqr_logical {
	int kind;               /* 0: none, else the LogicalType union field id */
	int32_t scale, precision; /* DECIMAL */
	int unit;               /* TIME/TIMESTAMP: 1 millis, 2 micros, 3 nanos */
	bool utc;               /* TIME/TIMESTAMP isAdjustedToUTC */
	int32_t bit_width;      /* INTEGER */
	bool is_signed;         /* INTEGER */
} pqr_logical;

enum { PQR_LT_STRING = 1, PQR_LT_MAP = 2, PQR_LT_LIST = 3, PQR_LT_ENUM = 4, PQR_LT_DECIMAL = 5,
       PQR_LT_DATE = 6, PQR_LT_TIME = 7, PQR_LT_TIMESTAMP = 8, PQR_LT_INTEGER = 10,
       PQR_LT_UNKNOWN = 11, PQR_LT_JSON = 12, PQR_LT_BSON = 13, PQR_LT_UUID = 14,
       PQR_LT_FLOAT16 = 15 };

typedef struct pqr_schema_elem {
	int type;            /* physical type, -1 for groups */
	int32_t type_length;
	int repetition;      /* -1 when unset (the root) */
	const char *name;
	int32_t num_children;
	int converted;       /* -1 when unset */
	int32_t scale, precision;
	pqr_logical logical;
} pqr_schema_elem;

typedef struct pqr_chunk_meta {
	bool has_meta;
	int type;
	int codec;
	int64_t num_values;
	int64_t total_compressed;
	int64_t total_uncompressed;
	int64_t data_page_offset;
	int64_t dict_page_offset; /* -1 when absent */
} pqr_chunk_meta;

typedef struct pqr_row_group {
	int64_t num_rows;
	int ncols;
	pqr_chunk_meta *cols;
} pqr_row_group;

typedef struct pqr_file_meta {
	int32_t version;
	int nschema;
	pqr_schema_elem *schema;
	int64_t num_rows;
	int nrgs;
	pqr_row_group *rgs;
	const char *created_by; /* "" when absent */
} pqr_file_meta;

/* Decodes FileMetaData from p[0..n); arrays and strings live in a. */
int pqr_parse_file_meta(pqr_file_meta *m, sl_arena *a, const uint8_t *p, size_t n,
			const char *name, sl_error *err);

typedef struct pqr_page_header {
	int type;
	int32_t uncompressed_size;
	int32_t compressed_size;
	bool has_v1, has_v2, has_dict;
	/* data page v1 / v2 */
	int32_t num_values;
	int encoding;
	int def_encoding;
	/* v2 */
	int32_t num_nulls, num_rows, def_len, rep_len;
	bool is_compressed;
	/* dictionary page */
	int32_t dict_num_values;
	int dict_encoding;
} pqr_page_header;

/* Decodes a PageHeader at p[0..n); *used receives its encoded size. */
int pqr_parse_page_header(pqr_page_header *h, const uint8_t *p, size_t n, size_t *used,
			  const char *name, sl_error *err);

/* ------------------------------------------------------------- decoders */

/*
 * The RLE / bit-packed hybrid (levels, dictionary indices, booleans),
 * without the 4-byte length prefix: init with the exact encoded bytes.
 */
typedef struct pqr_rle {
	const uint8_t *p, *end;
	int bw;
	uint32_t rle_left;   /* values left in the current RLE run */
	uint32_t rle_value;
	uint32_t bp_left;    /* values left in the current bit-packed run */
	const uint8_t *bp;   /* the bit-packed run's bytes */
	size_t bp_bytes;
	uint64_t bp_bit;     /* bit position in bp */
} pqr_rle;

/* bw is 0..32. */
void pqr_rle_init(pqr_rle *d, const uint8_t *p, size_t n, int bw);
/* Decodes exactly n values; 0, or -1 when the data is short or corrupt. */
int pqr_rle_get(pqr_rle *d, uint32_t *out, size_t n);

/* DELTA_BINARY_PACKED (also the lengths inside the DELTA_*_BYTE_ARRAY encodings). */
typedef struct pqr_delta {
	const uint8_t *p, *end;
	uint64_t block_size, minis, per_mini;
	uint64_t total, emitted;
	uint64_t last;
	uint64_t min_delta;
	const uint8_t *widths; /* minis bytes of the current block */
	uint64_t mini;         /* current miniblock index; minis when a block is needed */
	uint64_t in_mini;      /* values consumed in the current miniblock */
	const uint8_t *mini_p;
	size_t mini_bytes;
	int mini_bw;
} pqr_delta;

/* Parses the header; -1 when it is corrupt. */
int pqr_delta_init(pqr_delta *d, const uint8_t *p, size_t n);
/* Values the header announces. */
static inline uint64_t pqr_delta_total(const pqr_delta *d) { return d->total; }
/* Decodes the next n values (n <= total - emitted); 0 or -1. */
int pqr_delta_get(pqr_delta *d, int64_t *out, size_t n);
/* Where the encoded data ends (walks the block headers); NULL if corrupt. */
const uint8_t *pqr_delta_end(const pqr_delta *d);

/* ---------------------------------------------------------------- leaves */

typedef enum {
	PQR_CV_BOOL,
	PQR_CV_I32,       /* INT32 -> int32 / date */
	PQR_CV_U32_I64,   /* INT32 UINT_32 -> int64 */
	PQR_CV_I32_DEC,   /* INT32 DECIMAL -> decimal */
	PQR_CV_I64,       /* INT64 -> int64 / timestamp micros */
	PQR_CV_I64_MILLIS,
	PQR_CV_I64_NANOS,
	PQR_CV_I64_DEC,
	PQR_CV_U64_DEC,   /* UINT_64 -> decimal(20,0) */
	PQR_CV_INT96,     /* Julian day + nanos -> timestamp micros */
	PQR_CV_FLOAT,
	PQR_CV_DOUBLE,
	PQR_CV_HALF,      /* FLBA(2) FLOAT16 -> float64 */
	PQR_CV_STR,       /* BYTE_ARRAY -> string */
	PQR_CV_BIN_DEC,   /* BYTE_ARRAY / FLBA big-endian two's complement -> decimal */
	PQR_CV_UUID       /* FLBA(16) -> "8-4-4-4-12" string */
} pqr_conv;

typedef struct pqr_leaf {
	const char *name;
	int physical;
	int32_t type_length;
	bool optional;
	sl_type type;
	pqr_conv conv;
	sl_parquet_column_info info;
} pqr_leaf;

/* ---------------------------------------------------------- column reader */

/* Reads one column chunk's pages into sl_column values, page by page. */
typedef struct pqr_col {
	const pqr_leaf *leaf;
	const char *file;
	int rg;
	int codec;
	/* the raw column chunk, read with one read_at */
	uint8_t *chunk;
	size_t chunk_cap, chunk_len, pos;
	int64_t values_left; /* values not yet in a page we opened */
	/* dictionary, converted to the sluice type */
	bool has_dict;
	int64_t dict_n;
	void *dict_vals;      /* fixed-width targets */
	uint32_t *dict_off;   /* string targets: dict_n + 1 offsets */
	char *dict_data;
	/* the current data page */
	uint8_t *page;
	size_t page_cap;
	int64_t page_left;    /* rows left in the page */
	int enc;
	bool has_defs;
	pqr_rle defs;
	const uint8_t *vp, *vend; /* value section */
	pqr_rle idx;              /* dictionary indices, RLE booleans */
	pqr_delta d1, d2;
	uint64_t bitpos;          /* PLAIN booleans */
	int64_t bss_n, bss_i;     /* BYTE_STREAM_SPLIT */
	sl_buf where;             /* "file: column c (row group g)", for messages */
	sl_buf prev;              /* DELTA_BYTE_ARRAY: previous value */
	sl_buf scratch;
} pqr_col;

/* Reads the chunk's bytes and prepares to decode it. */
int pqr_col_load(pqr_col *c, sl_input *in, const pqr_leaf *leaf, const pqr_chunk_meta *m,
		 int rg, sl_error *err);
/* Appends n rows of the column to out. */
int pqr_col_read(pqr_col *c, sl_column *out, int64_t n, sl_error *err);
void pqr_col_free(pqr_col *c);

/*
 * ------------------------------------------- column reader internals
 * Shared by reader_column.c (driver), reader_page.c (pages, levels,
 * dictionary) and reader_values.c (value encodings, conversions).
 */

#define PQR_STEP 1024          /* rows decoded per step; sizes every scratch array */
#define PQR_ENC_EMPTY (-1)     /* c->enc of a page whose value section is empty */

static inline uint32_t pqr_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Sets an SL_EFORMAT error naming the file, column and row group; returns the code. */
int pqr_col_fail(pqr_col *c, sl_error *err, const char *fmt, ...) SL_PRINTF(3, 4);
/* Grows *buf (capacity *cap) to hold need bytes; 0 or SL_ENOMEM. */
int pqr_grow(uint8_t **buf, size_t *cap, size_t need);
/* Moves to the next data page that holds values, loading a dictionary on the way. */
int pqr_next_page(pqr_col *c, sl_error *err);

/* The Parquet name of an encoding, for messages. */
const char *pqr_encoding_name(int enc);
/* Bytes per value of the leaf's fixed-width physical type; 0 for BOOLEAN/BYTE_ARRAY. */
size_t pqr_phys_width(const pqr_leaf *l);
/* Bytes per value of a fixed-width sluice type; 0 for others. */
size_t pqr_target_width(sl_type_id id);
/* Big-endian two's complement of n bytes to int128; -1 when it does not fit. */
int pqr_be_to_i128(const uint8_t *p, size_t n, sl_i128 *out);
/* Converts n PLAIN-layout values of width pw at src into the target type; 0 or -1. */
int pqr_convert_plain(pqr_conv conv, const uint8_t *src, void *dst, size_t n, size_t pw);
/* Writes the 36 characters of a 16-byte UUID to out (no terminator). */
void pqr_format_uuid(const uint8_t *p, char *out);

/* Decodes nn (<= PQR_STEP) non-NULL values of a fixed-width sluice type into dst. */
int pqr_read_fixed(pqr_col *c, void *dst, size_t nn, sl_error *err);
/* Decodes nn (<= PQR_STEP) non-NULL booleans, one per byte. */
int pqr_read_bools(pqr_col *c, uint8_t *out, size_t nn, sl_error *err);
/* Appends k (<= PQR_STEP) rows of strings, nn of them not NULL (lv[i] == 0: NULL row). */
int pqr_read_strings(pqr_col *c, sl_column *col, const uint32_t *lv, size_t k, size_t nn,
		     sl_error *err);

#endif
