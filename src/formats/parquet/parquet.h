/*
 * parquet: our own Parquet writer and reader (no C Parquet library exists
 * in Debian). Thrift compact protocol metadata; PLAIN, RLE_DICTIONARY,
 * DELTA_BINARY_PACKED and DELTA_LENGTH_BYTE_ARRAY encodings; RLE/bit-packed definition levels; ZSTD, SNAPPY, GZIP or no
 * compression; statistics; row groups bounded by size. The reader also
 * reads what DuckDB and pyarrow write (data pages v1 and v2, INT96).
 */
#ifndef SL_PARQUET_H
#define SL_PARQUET_H

#include "base/base.h"
#include "batch/batch.h"

typedef enum {
	SL_CODEC_UNCOMPRESSED = 0,
	SL_CODEC_SNAPPY = 1,
	SL_CODEC_GZIP = 2,
	SL_CODEC_ZSTD = 6
} sl_codec; /* values are Parquet's CompressionCodec numbers */

/* Parses "zstd|snappy|gzip|none|uncompressed"; 0 or SL_EINVAL. */
int sl_codec_parse(const char *s, sl_codec *out);
const char *sl_codec_name(sl_codec c);

typedef struct sl_parquet_write_opts {
	sl_codec codec;            /* default ZSTD */
	int zstd_level;            /* default 1 */
	size_t row_group_bytes;    /* uncompressed bytes per row group; default 128 MiB */
	size_t page_bytes;         /* target data page size; default 1 MiB */
	size_t dict_max_bytes;     /* dictionary size before falling back to PLAIN; default 1 MiB */
	bool dictionary;           /* default true */
	const char *created_by;    /* default "sluice version X" */
	int compress_threads;      /* 0 (default): pages compress on one background
				    * thread; negative: on the caller's thread */
	bool delta_encodings;      /* default true: pages that are not dictionary-
				    * encoded use DELTA_BINARY_PACKED (integers,
				    * decimals <= 18 digits, dates, timestamps) or
				    * DELTA_LENGTH_BYTE_ARRAY (strings) when smaller
				    * than PLAIN; false: PLAIN only */
} sl_parquet_write_opts;

#define SL_PARQUET_WRITE_OPTS_INIT                                                    \
	{SL_CODEC_ZSTD, 1, 128u << 20, 1u << 20, 1u << 20, true, NULL, 0, true}

/* Per-column statistics of a finished file, for lake commit records. */
typedef struct sl_parquet_col_stats {
	int64_t null_count;
	bool has_minmax;
	/* min and max rendered as JSON values: numbers unquoted, strings,
	 * dates ("2024-01-31") and timestamps ("2024-01-31T10:00:00.000000Z")
	 * quoted; decimals as JSON numbers. NUL-terminated, sl_malloc'd. */
	char *min_json;
	char *max_json;
} sl_parquet_col_stats;

typedef struct sl_parquet_file_stats {
	int64_t rows;
	uint64_t bytes;     /* file size */
	int row_groups;
	int ncols;
	sl_parquet_col_stats *cols; /* ncols entries */
} sl_parquet_file_stats;

void sl_parquet_file_stats_free(sl_parquet_file_stats *s);

typedef struct sl_parquet_writer sl_parquet_writer;

/*
 * Starts a file on out (not owned: the caller closes or aborts it after
 * sl_parquet_writer_close). Memory stays bounded by one row group's
 * encoded (compressed) pages, never the file.
 */
int sl_parquet_writer_open(sl_parquet_writer **out_w, sl_output *out,
			   const sl_schema *schema, const sl_parquet_write_opts *opts,
			   sl_error *err);
/* Appends the batch's rows (schema must equal the writer's). */
int sl_parquet_writer_write(sl_parquet_writer *w, const sl_batch *b, sl_error *err);
/* Uncompressed bytes buffered so far in the file (to decide file rolls). */
uint64_t sl_parquet_writer_bytes(const sl_parquet_writer *w);
/* Estimated size of the finished file so far: bytes written plus the
 * compressed pages buffered for the open row group (plus unflushed pages). */
uint64_t sl_parquet_writer_file_bytes(const sl_parquet_writer *w);
int64_t sl_parquet_writer_rows(const sl_parquet_writer *w);
/*
 * Flushes the last row group and writes the footer. When stats is not NULL
 * it receives the file's statistics (free with sl_parquet_file_stats_free).
 */
int sl_parquet_writer_close(sl_parquet_writer *w, sl_parquet_file_stats *stats,
			    sl_error *err);
/* Frees a writer; safe after close or instead of it (on error paths). */
void sl_parquet_writer_free(sl_parquet_writer *w);

/* ---------------------------------------------------------------- reader */

typedef struct sl_parquet_reader sl_parquet_reader;

/* Describes a column as stored, for `sluice parquet schema`. */
typedef struct sl_parquet_column_info {
	const char *name;
	const char *physical;  /* "INT32", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY(16)"... */
	const char *logical;   /* "DECIMAL(10,2)", "STRING", "TIMESTAMP(MICROS,UTC)", "" */
	const char *repetition; /* "REQUIRED" | "OPTIONAL" */
	sl_type type;          /* how sluice reads it */
} sl_parquet_column_info;

/*
 * Opens a Parquet file from in (the reader owns in and closes it). Reads
 * only the footer; corrupt or truncated files fail with SL_EFORMAT naming
 * the file and what is wrong.
 */
int sl_parquet_reader_open(sl_parquet_reader **out, sl_input *in, sl_error *err);
/* Convenience: open a local path. */
int sl_parquet_reader_open_path(sl_parquet_reader **out, const char *path, sl_error *err);
void sl_parquet_reader_close(sl_parquet_reader *r);

/* The file's schema as sluice types (borrowed, lives as long as r). */
const sl_schema *sl_parquet_reader_schema(const sl_parquet_reader *r);
int64_t sl_parquet_reader_num_rows(const sl_parquet_reader *r);
int sl_parquet_reader_num_row_groups(const sl_parquet_reader *r);
const char *sl_parquet_reader_created_by(const sl_parquet_reader *r);
const sl_parquet_column_info *sl_parquet_reader_column_info(const sl_parquet_reader *r, int i);
/* Compression codec of column i in row group rg. */
sl_codec sl_parquet_reader_column_codec(const sl_parquet_reader *r, int rg, int i);

/*
 * Restricts reading to the named columns, in the given order (NULL or 0
 * columns: all). Unknown names are SL_ENOTFOUND naming the column.
 */
int sl_parquet_reader_project(sl_parquet_reader *r, const char *const *columns, int n,
			      sl_error *err);

/* Bytes of values a batch from sl_parquet_reader_next holds at most, about. */
#define SL_PARQUET_BATCH_BYTES ((size_t)64 << 20)

/*
 * Reads up to max_rows (0: the default, 65536) next rows into a new batch
 * of the projected schema; fewer when the rows hold more than about
 * SL_PARQUET_BATCH_BYTES of values (big strings), so memory stays bounded
 * and no column passes 2 GiB. Returns 1 and *out (free with
 * sl_batch_free), or 0 at end of file, or a negative code.
 */
int sl_parquet_reader_next(sl_parquet_reader *r, sl_batch **out, int64_t max_rows,
			   sl_error *err);

#endif
