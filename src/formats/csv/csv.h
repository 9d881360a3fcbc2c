/*
 * csv: streaming RFC 4180 reading (quoted fields with delimiters, quotes and
 * newlines; CRLF/LF; UTF-8 BOM; gzip and zstd files read transparently),
 * schema inference with type widening, parsing records into batches with
 * bad rows reported rather than dropped, and CSV writing of batches.
 */
#ifndef SL_CSV_H
#define SL_CSV_H

#include "base/base.h"
#include "batch/batch.h"

typedef struct sl_csv_opts {
	char delimiter;      /* default ',' */
	char quote;          /* default '"' */
	char escape;         /* default '"' (doubled quote); e.g. '\\' */
	bool header;         /* default true: first record names the columns */
	const char **nulls;  /* NULL-terminated list of strings read as NULL;
				default {"", NULL}: an empty unquoted field */
	size_t max_record;   /* bytes in one record before it is an error;
				default 16 MiB (bounded memory) */
	int max_columns;     /* columns a file may have (header fields, or the
				first record's without a header); more is an
				SL_ELIMIT error at open. 0: SL_CSV_DEFAULT_MAX_COLUMNS */
	const char *const *keep_names; /* header names that keep their spelling when
				   names repeat ignoring case (the columns a
				   configuration names); borrowed */
	int nkeep_names;
} sl_csv_opts;

#define SL_CSV_DEFAULT_MAX_COLUMNS 10000

#define SL_CSV_OPTS_INIT {.delimiter = ',', .quote = '"', .escape = '"', .header = true, \
			  .nulls = NULL, .max_record = 0, .max_columns = 0}

typedef struct sl_csv_reader sl_csv_reader;

/* One record; fields borrow the reader's buffer until the next call. */
typedef struct sl_csv_record {
	int nfields;
	const char **fields;   /* field i: fields[i][0..lens[i]) (unescaped) */
	const size_t *lens;
	const bool *quoted;    /* field i was quoted ("" is then not NULL) */
	int64_t line;          /* 1-based line where the record starts */
	int64_t record_no;     /* 1-based data record number (header excluded) */
	const char *raw;       /* the record's raw text, without line end */
	size_t raw_len;
} sl_csv_record;

/*
 * Opens path (".gz" and ".zst" decompressed on the fly, by name or by magic
 * bytes), skips a UTF-8 BOM, and reads the header when opts->header.
 * A file with more columns than opts->max_columns is SL_ELIMIT:
 * "data.csv: the header has 12000 columns, more than max_columns (10000);
 * set max_columns on the table to read it". Free with sl_csv_reader_close.
 */
int sl_csv_reader_open(sl_csv_reader **out, const char *path, const sl_csv_opts *opts,
		       sl_error *err);
/* Same over an sl_input the reader does not own (S3 objects, memory). */
int sl_csv_reader_open_input(sl_csv_reader **out, sl_input *in, const sl_csv_opts *opts,
			     sl_error *err);
void sl_csv_reader_close(sl_csv_reader *r);

/*
 * Column names (or "column1".. when there is no header); borrowed until
 * close. An empty header name becomes "columnN" (N its 1-based position),
 * and names are made unique ignoring ASCII case by sl_names_make_unique:
 * "a,a,A" reads as a, a_1, A_2. Linear in the header's length.
 */
int sl_csv_reader_ncolumns(const sl_csv_reader *r);
const char *sl_csv_reader_column(const sl_csv_reader *r, int i);

/*
 * How many columns have a name other than their header text (renamed as
 * duplicates, or named columnN for an empty header field); 0 without a
 * header.
 */
int sl_csv_reader_nrenamed(const sl_csv_reader *r);
/*
 * Column i's header text as the file has it (borrowed until close; "" for
 * an empty field); the same as sl_csv_reader_column without a header or
 * when the column was not renamed. NULL when i is out of range.
 */
const char *sl_csv_reader_header_name(const sl_csv_reader *r, int i);
/*
 * Appends each renamed column as `dup → dup_1`, comma-separated, to out
 * (for a run summary: "renamed columns: dup → dup_1, \"\" → column3");
 * appends nothing when none was renamed. 0 or SL_ENOMEM.
 */
int sl_csv_reader_renames_text(const sl_csv_reader *r, sl_buf *out);

/*
 * Reads the next record. Returns 1 with *rec filled, 0 at end of input, or
 * a negative code: SL_EFORMAT for input that cannot be split into records
 * (an unterminated quote at end of file, a record over max_record), with
 * err naming path:line. After SL_EFORMAT for one record, reading resumes at
 * the next line, so callers can quarantine it and go on.
 * On SL_EFORMAT, rec->line and rec->raw (the record's first line, or the
 * first 4 KiB of a record over max_record) are still set. A record over
 * max_record is skipped to its end; after an unterminated quote reading
 * resumes at the line after the record's first. Blank lines are skipped
 * (counted in line numbers) unless the file has exactly one column, where a
 * blank line is one empty field. Any other negative code ends reading and
 * is returned again by later calls: SL_EIO when the file cannot be read or
 * its gzip/zstd data is corrupt or truncated, SL_ENOMEM.
 */
int sl_csv_reader_next(sl_csv_reader *r, sl_csv_record *rec, sl_error *err);

/* Bytes of (decompressed) input consumed so far, for progress. */
uint64_t sl_csv_reader_bytes(const sl_csv_reader *r);
/* The path given to open, for messages. */
const char *sl_csv_reader_path(const sl_csv_reader *r);

/* A bad row, reported instead of being dropped. */
typedef struct sl_csv_bad_row {
	const char *path;
	int64_t line;
	const char *raw;
	size_t raw_len;
	const char *reason; /* "column amount: 'abc' is not a valid decimal(10,2)" */
} sl_csv_bad_row;

/* Called for each bad row; returning a negative code stops reading. */
typedef int (*sl_csv_bad_row_fn)(void *ctx, const sl_csv_bad_row *bad, sl_error *err);

/* Record bytes after which sl_csv_read_batch ends a batch early. */
#define SL_CSV_BATCH_BYTES ((size_t)64 << 20)

/*
 * Reads records into batch (whose schema gives the columns in header order
 * and their types) until it is full, holds SL_CSV_BATCH_BYTES of record
 * text or more (big values make batches of fewer rows, so memory stays
 * bounded and no string column passes 2 GiB), or input ends. A row with the wrong
 * field count, a value that does not parse as its type, or invalid UTF-8 is
 * passed to on_bad (never appended). Returns the number of rows appended
 * (0 at end of input) or a negative code.
 * An unquoted field equal to a null string is NULL; a quoted "" is an empty
 * string for string columns and NULL for the others. Reasons read
 * "line 17: expected 5 fields, found 4", "column \"amount\": '12.x' is not
 * a valid decimal(10,2)", "column \"name\": invalid UTF-8" or
 * "unterminated quoted field". With on_bad NULL the first bad row is an
 * SL_EFORMAT error "path:line: reason". The batch must have as many columns
 * as the file (SL_EINVAL otherwise).
 */
int64_t sl_csv_read_batch(sl_csv_reader *r, sl_batch *batch, sl_csv_bad_row_fn on_bad,
			  void *ctx, sl_error *err);

/*
 * Infers a schema from up to sample_rows records of each path: per column
 * the narrowest type among bool, int32 → int64 → decimal(p,s) → float64,
 * date → timestamp, and string when values disagree. A column of only
 * NULLs is string. Columns keep header order. Free with sl_schema_free.
 * sample_rows <= 0 reads every record. Every file must have the same
 * header (SL_EFORMAT otherwise); empty files are ignored. Numbers with
 * leading zeros ("007") or a '+' stay strings (identifiers); bool is only
 * true/false. Every field is nullable.
 */
int sl_csv_infer_schema(sl_schema **out, const char *const *paths, int npaths,
			const sl_csv_opts *opts, int64_t sample_rows, sl_error *err);

/*
 * Same from one sl_input (an S3 object, memory), which the caller keeps
 * and closes; it is read from its start.
 */
int sl_csv_infer_schema_input(sl_schema **out, sl_input *in, const sl_csv_opts *opts,
			      int64_t sample_rows, sl_error *err);

/* ---------------------------------------------------------------- writer */

typedef struct sl_csv_writer sl_csv_writer;

/*
 * Writes CSV (header first when schema is non-NULL and opts->header) to out,
 * which the writer does not own. NULL is written as opts->nulls[0] (by
 * default an empty unquoted field); lines end in LF. Every call writes its
 * bytes to out before returning, so there is nothing to flush.
 */
int sl_csv_writer_open(sl_csv_writer **out_w, sl_output *out, const sl_schema *schema,
		       const sl_csv_opts *opts, sl_error *err);
/* Appends the batch's rows; NULL is an empty field, quoting as needed. */
int sl_csv_writer_write(sl_csv_writer *w, const sl_batch *b, sl_error *err);
/* Writes one record of raw fields (for quarantine and rejected-row files). */
int sl_csv_writer_write_fields(sl_csv_writer *w, const char *const *fields, int n,
			       sl_error *err);
void sl_csv_writer_free(sl_csv_writer *w);

#endif
