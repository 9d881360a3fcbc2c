/*
 * file_int.h (private to sources/): the file source's formats and its JSON
 * lines reader (file_jsonl.c), over the CSV reader's, Parquet reader's and
 * http record code.
 */
#ifndef SL_SOURCES_FILE_INT_H
#define SL_SOURCES_FILE_INT_H

#include "sources/sources_int.h"
#include "sources/http_int.h"
#include "formats/csv/csv.h"
#include "formats/parquet/parquet.h"

typedef enum { SL_FILE_CSV = 0, SL_FILE_PARQUET, SL_FILE_JSONL } sl_file_format;

/* The format a file name says, after any .gz or .zst: .parquet, .jsonl,
 * .ndjson and .json are theirs, anything else CSV (case ignored). */
sl_file_format sl_file_format_of(const char *name);

/*
 * A JSON lines reader: one JSON object per line, plain, gzip or zstd (told
 * by magic bytes), lines up to 16 MiB; blank lines are skipped.
 */
typedef struct sl_file_jsonl sl_file_jsonl;

typedef struct sl_file_jsonl_line {
	json_t *record;     /* owned by the caller (json_decref); NULL when bad */
	const char *reason; /* why it is bad ("not valid JSON: ...") or NULL */
	int64_t line;       /* 1-based */
	const char *raw;    /* the line's text, borrowed until the next call */
	size_t raw_len;
} sl_file_jsonl_line;

/* Reads in (borrowed: the caller closes it after the reader); origin names
 * the file in messages. Free with sl_file_jsonl_close. */
int sl_file_jsonl_open(sl_file_jsonl **out, sl_input *in, const char *origin, sl_error *err);
/* 1 with *l, 0 at the end, or a negative code (unreadable input). */
int sl_file_jsonl_next(sl_file_jsonl *j, sl_file_jsonl_line *l, sl_error *err);
/* Decompressed bytes read so far. */
uint64_t sl_file_jsonl_bytes(const sl_file_jsonl *j);
void sl_file_jsonl_close(sl_file_jsonl *j);

#endif
