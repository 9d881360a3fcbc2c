/*
 * batch: sluice's type system, schemas and columnar batches in the Arrow
 * layout (validity bitmap; offsets + data for strings; bit-packed booleans),
 * with text parsing and formatting of values and Arrow C Data Interface
 * export. Every stage passes sl_batch values of up to ~64K rows.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include "base/base.h"

#include <assert.h>
#include <string.h>

typedef __int128 sl_i128;

typedef enum {
	SL_BOOL = 0,
	SL_INT32,
	SL_INT64,
	SL_FLOAT64,
	SL_DECIMAL, /* precision 1..38, scale 0..precision; stored as int128 */
	SL_STRING,  /* UTF-8 */
	SL_DATE,    /* int32 days since 1970-01-01 */
	SL_TIMESTAMP /* int64 microseconds since the epoch, UTC */
} sl_type_id;

typedef struct sl_type {
	sl_type_id id;
	uint8_t precision; /* decimal only */
	uint8_t scale;     /* decimal only */
} sl_type;

#define SL_DECIMAL_MAX_PRECISION 38
#define SL_BATCH_DEFAULT_ROWS 65536

static inline sl_type sl_type_make(sl_type_id id)
{
	sl_type t = {id, 0, 0};
	return t;
}

static inline sl_type sl_type_decimal(int precision, int scale)
{
	sl_type t = {SL_DECIMAL, (uint8_t)precision, (uint8_t)scale};
	return t;
}

bool sl_type_equal(sl_type a, sl_type b);
/* Writes the type's name ("int64", "decimal(18,2)") into buf; returns buf. */
const char *sl_type_name(sl_type t, char *buf, size_t n);
/*
 * Parses a type name: bool|boolean, int32|int|integer, int64|bigint|long,
 * float64|double|float, decimal(p,s)|numeric(p,s), string|text|varchar,
 * date, timestamp|datetime. Returns 0 or SL_EINVAL.
 */
int sl_type_parse(const char *s, sl_type *out);
/* The names sl_type_parse accepts, for error messages. */
#define SL_TYPE_NAMES \
	"bool, int32, int64, float64, decimal(p,s), string, date, timestamp"

/* ---------------------------------------------------------------- schema */

typedef struct sl_field {
	char *name;
	sl_type type;
	bool nullable;
} sl_field;

typedef struct sl_schema {
	int nfields;
	int cap;
	sl_field *fields;
} sl_schema;

/* Returns a new empty schema or NULL on OOM; free with sl_schema_free. */
sl_schema *sl_schema_new(void);
void sl_schema_free(sl_schema *s);
/* Appends a field; the name is copied. */
int sl_schema_add(sl_schema *s, const char *name, sl_type type, bool nullable);
/* Deep copy, or NULL on OOM. */
sl_schema *sl_schema_copy(const sl_schema *s);
/* Index of the field named name, or -1. */
int sl_schema_find(const sl_schema *s, const char *name);
bool sl_schema_equal(const sl_schema *a, const sl_schema *b);

/*
 * Makes names[0..n) unique as warehouses compare identifiers (ASCII case
 * ignored, as SQLite does), in time and memory linear in their total
 * length. The first spelling of a name keeps it; each later one that
 * equals it ignoring case becomes name_K with the smallest K >= 1 that no
 * other name, given or made, holds ignoring case:
 *   a, a, a      -> a, a_1, a_2
 *   Dup, dup     -> Dup, dup_1
 *   a, a, a_1    -> a, a_2, a_1   (a_1 is taken by the third name)
 * A renamed entry's new string is allocated in a and replaces names[i];
 * the old pointer stays its owner's. *renamed (may be NULL) receives how
 * many names changed; callers find which by comparing with their copy.
 * Returns 0, SL_ENOMEM or SL_ELIMIT (more than a billion names).
 */
int sl_names_make_unique(char **names, size_t n, sl_arena *a, size_t *renamed, sl_error *err);
/*
 * The same, except that a name spelled exactly as one of keep[0..nkeep)
 * (the columns a configuration names: primary key, cursor, declared
 * types) keeps its spelling and the other spellings are renamed: with
 * keep {"key"}, Key, key -> Key_1, key.
 */
/*
 * A note for people of the names changed: "Dup → Dup_1, ..." (an empty
 * name shown as ""), the first SL_NAMES_NOTE_MAX of them and then "and N
 * more". *count counts the renames added (start it at 0); end the note
 * with sl_names_note_end. 0 or SL_ENOMEM.
 */
#define SL_NAMES_NOTE_MAX 20
int sl_names_note_rename(sl_buf *out, int64_t *count, const char *from, const char *to);
int sl_names_note_end(sl_buf *out, int64_t count);
int sl_names_make_unique_keeping(char **names, size_t n, const char *const *keep, size_t nkeep,
				 sl_arena *a, size_t *renamed, sl_error *err);

/* ---------------------------------------------------------------- column */

typedef struct sl_column {
	sl_type type;
	int64_t length;
	int64_t null_count;
	int64_t capacity;  /* rows allocated (grows up to the batch's capacity) */
	uint8_t *validity; /* bit i set: row i is not NULL */
	union {
		uint8_t *bits;  /* SL_BOOL, bit-packed */
		int32_t *i32;   /* SL_INT32, SL_DATE */
		int64_t *i64;   /* SL_INT64, SL_TIMESTAMP */
		double *f64;    /* SL_FLOAT64 */
		sl_i128 *dec;   /* SL_DECIMAL (unscaled) */
		void *raw;
	} v;
	int32_t *offsets; /* SL_STRING: capacity + 1 entries */
	sl_buf data;      /* SL_STRING bytes */
} sl_column;

static inline bool sl_bit_get(const uint8_t *bits, int64_t i)
{
	return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void sl_bit_set(uint8_t *bits, int64_t i, bool v)
{
	if (v)
		bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	else
		bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static inline bool sl_column_is_null(const sl_column *c, int64_t i)
{
	return !sl_bit_get(c->validity, i);
}

/* Borrowed pointer to string value i (not NUL-terminated); valid until the
 * batch is reset or freed. */
static inline const char *sl_column_str(const sl_column *c, int64_t i, size_t *len)
{
	*len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
	return c->data.data ? c->data.data + c->offsets[i] : "";
}

/*
 * Appends. The caller keeps length < capacity: a row at a time between
 * sl_batch_full and sl_batch_end_row, or after sl_batch_reserve. String
 * appends can fail with SL_ENOMEM or SL_ELIMIT (2 GiB per column).
 */
static inline void sl_column_push_valid_(sl_column *c)
{
	assert(c->length < c->capacity);
	sl_bit_set(c->validity, c->length, true);
}

static inline void sl_column_append_null(sl_column *c)
{
	assert(c->length < c->capacity);
	sl_bit_set(c->validity, c->length, false);
	switch (c->type.id) {
	case SL_BOOL: sl_bit_set(c->v.bits, c->length, false); break;
	case SL_INT32: case SL_DATE: c->v.i32[c->length] = 0; break;
	case SL_INT64: case SL_TIMESTAMP: c->v.i64[c->length] = 0; break;
	case SL_FLOAT64: c->v.f64[c->length] = 0; break;
	case SL_DECIMAL: c->v.dec[c->length] = 0; break;
	case SL_STRING: c->offsets[c->length + 1] = c->offsets[c->length]; break;
	}
	c->null_count++;
	c->length++;
}

static inline void sl_column_append_bool(sl_column *c, bool v)
{
	sl_column_push_valid_(c);
	sl_bit_set(c->v.bits, c->length++, v);
}

static inline void sl_column_append_i32(sl_column *c, int32_t v)
{
	sl_column_push_valid_(c);
	c->v.i32[c->length++] = v;
}

static inline void sl_column_append_i64(sl_column *c, int64_t v)
{
	sl_column_push_valid_(c);
	c->v.i64[c->length++] = v;
}

static inline void sl_column_append_f64(sl_column *c, double v)
{
	sl_column_push_valid_(c);
	c->v.f64[c->length++] = v;
}

static inline void sl_column_append_dec(sl_column *c, sl_i128 v)
{
	sl_column_push_valid_(c);
	c->v.dec[c->length++] = v;
}

int sl_column_append_str(sl_column *c, const char *s, size_t n);

/*
 * Parses text s[0..n) as the column's type and appends it. Accepted forms:
 * bool true/false/t/f/1/0/yes/no (any case); integers with optional sign;
 * floats as strtod without hex; decimals "123.45", "-0.5", "1e3" within
 * precision/scale (more fractional digits than the scale is an error, never
 * a silent rounding); ISO-8601 dates and timestamps (see base.h).
 * Returns 0, or SL_EINVAL with a reason in err ("'abc' is not an int64").
 */
int sl_column_append_text(sl_column *c, const char *s, size_t n, sl_error *err);

/* Appends the value text of row i as text (NULL appends nothing) to out. */
int sl_column_format_value(const sl_column *c, int64_t i, sl_buf *out);

/* Copies row i of src (same type) onto the end of dst. */
int sl_column_append_from(sl_column *dst, const sl_column *src, int64_t i);

/* --------------------------------------------------------------- decimal */

/* Parses a decimal literal into an unscaled int128 at the given scale. */
int sl_decimal_parse(const char *s, size_t n, int precision, int scale, sl_i128 *out);
/* Formats an unscaled value at scale; out must hold 48 bytes. Returns len. */
int sl_decimal_format(sl_i128 v, int scale, char *out);
/* 10^n for n in 0..38. */
sl_i128 sl_i128_pow10(int n);

/* ----------------------------------------------------------------- batch */

typedef struct sl_batch {
	sl_schema *schema; /* owned copy */
	int ncols;
	sl_column *cols;
	int64_t nrows;
	int64_t capacity; /* the most rows the batch holds */
} sl_batch;

/*
 * Creates an empty batch of the schema that holds up to capacity rows (the
 * schema is copied). Column memory starts small when there are many columns
 * and grows as rows arrive (in sl_batch_end_row), so it follows the rows
 * held. Free with sl_batch_free.
 */
int sl_batch_new(sl_batch **out, const sl_schema *schema, int64_t capacity,
		 sl_error *err);
void sl_batch_free(sl_batch *b);
/* Empties the batch, keeping its memory. */
void sl_batch_reset(sl_batch *b);
static inline bool sl_batch_full(const sl_batch *b) { return b->nrows >= b->capacity; }
/*
 * Commits one row after each column received exactly one append, and makes
 * room for the next. In debug builds asserts that every column has nrows+1
 * values. When the columns cannot grow (out of memory) the batch becomes
 * full early (capacity = nrows): its producer emits it and goes on.
 */
void sl_batch_end_row(sl_batch *b);
/*
 * Makes room for rows rows (<= capacity) in every column, for producers
 * that fill a column at a time instead of a row at a time. 0, SL_EINVAL or
 * SL_ENOMEM.
 */
int sl_batch_reserve(sl_batch *b, int64_t rows, sl_error *err);
/* Rolls every column back to nrows (drops a half-appended row). */
void sl_batch_discard_row(sl_batch *b);
/* Bytes of memory the batch's values use. */
size_t sl_batch_bytes(const sl_batch *b);

/* ---------------------------------------------------------- conforming */

/*
 * A row sl_batch_conform leaves out because a value does not convert:
 * row of in, and the reason ("column amount: 'abc' is not a decimal").
 * Returns 0 to go on, or a negative code (err filled) to stop.
 */
typedef int (*sl_conform_bad_fn)(void *ctx, const sl_batch *in, int64_t row,
				 const char *reason, sl_error *err);

typedef struct sl_conform_opts {
	/* A column of another type is converted value by value through its
	 * text; false: a type difference is an error. */
	bool cast;
	/* Where rows with a value that does not convert go; NULL: the first
	 * such value fails the call (SL_EINVAL naming row and column). */
	sl_conform_bad_fn on_bad;
	void *ctx;
} sl_conform_opts;

#define SL_CONFORM_OPTS_INIT {.cast = false, .on_bad = NULL, .ctx = NULL}

/*
 * Fits in to schema: columns matched by name and put in schema's order; a
 * schema column that in lacks is NULL in every row (it must be nullable);
 * a column of in that schema lacks is an error, never dropped silently;
 * types as opts says. *out is in itself when it fits already, else
 * *scratch — created, or reused when it has schema and room, the
 * caller's to free — holding the fitted rows. opts NULL: defaults.
 * Returns 0, SL_EINVAL (with the column's name and both types) or
 * SL_ENOMEM.
 */
int sl_batch_conform(const sl_batch **out, sl_batch **scratch, const sl_batch *in,
		     const sl_schema *schema, const sl_conform_opts *opts, sl_error *err);

/* ---------------------------------------------- Arrow C Data Interface */

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
	const char *format;
	const char *name;
	const char *metadata;
	int64_t flags;
	int64_t n_children;
	struct ArrowSchema **children;
	struct ArrowSchema *dictionary;
	void (*release)(struct ArrowSchema *);
	void *private_data;
};

struct ArrowArray {
	int64_t length;
	int64_t null_count;
	int64_t offset;
	int64_t n_buffers;
	int64_t n_children;
	const void **buffers;
	struct ArrowArray **children;
	struct ArrowArray *dictionary;
	void (*release)(struct ArrowArray *);
	void *private_data;
};

#endif

/*
 * Exports the batch as an Arrow struct array and its schema. The exported
 * structures own copies of the data: release them with their release
 * callbacks; the batch stays the caller's.
 */
int sl_batch_export_arrow(const sl_batch *b, struct ArrowArray *out_array,
			  struct ArrowSchema *out_schema, sl_error *err);

#endif
