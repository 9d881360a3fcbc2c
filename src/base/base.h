/*
 * base: the layer every module stands on. Errors, allocation hooks, arenas,
 * growable byte buffers, logging, ISO-8601 dates and timestamps, small
 * string helpers. Nothing here knows about data, files formats or projects.
 */
#ifndef SL_BASE_H
#define SL_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SL_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- errors */

/* Error codes: 0 is success, every failure is negative. */
enum {
	SL_OK = 0,
	SL_ENOMEM = -1,    /* allocation failed */
	SL_EIO = -2,       /* file or socket I/O failed */
	SL_EINVAL = -3,    /* bad argument or bad input data */
	SL_ECONFIG = -4,   /* project configuration is wrong */
	SL_ENOTFOUND = -5, /* file, table, key does not exist */
	SL_EFORMAT = -6,   /* corrupt or unsupported file content */
	SL_EUSAGE = -7,    /* command-line misuse */
	SL_ECONFLICT = -8, /* concurrent writer won, version exists */
	SL_EDB = -9,       /* a database reported an error */
	SL_ENET = -10,     /* network or remote service failure */
	SL_ELIMIT = -11,   /* a configured limit was exceeded */
	SL_EINTERNAL = -12, /* a bug: an invariant did not hold */
	SL_ECANCELLED = -13, /* stopped by a cancellation (Ctrl-C, SIGTERM, --fail-fast) */
	SL_ETIMEOUT = -14   /* stopped because its time limit passed */
};

/*
 * Caller-owned error: filling it never allocates. Messages say what failed,
 * where (path:line[:column]) and, where we know it, what to do.
 */
typedef struct sl_error {
	int code;
	char message[1024];
} sl_error;

#define SL_ERROR_INIT {0, {0}}

/* Sets err (may be NULL) and returns code, so `return sl_error_set(...)`. */
int sl_error_set(sl_error *err, int code, const char *fmt, ...) SL_PRINTF(3, 4);
int sl_error_setv(sl_error *err, int code, const char *fmt, va_list ap);
/* Prepends context ("load raw.orders: " + old message); returns err->code. */
int sl_error_prefix(sl_error *err, const char *fmt, ...) SL_PRINTF(2, 3);
void sl_error_clear(sl_error *err);
/* A short name for a code: "io", "config", ... */
const char *sl_error_name(int code);

/* ------------------------------------------------------------ allocation */

/*
 * All heap allocation goes through these, so tests can make the Nth
 * allocation fail (sl_alloc_fail_after) and check that nothing leaks.
 */
void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
void sl_free(void *p);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
/* After n more successful allocations, fail every allocation; -1 disables. */
void sl_alloc_fail_after(long n);

/* Allocate zeroed memory or fill err with SL_ENOMEM. */
int sl_alloc_zeroed(void **out, size_t n, sl_error *err);

/* ----------------------------------------------------------------- arena */

/*
 * A bump allocator: many small allocations freed together. Batches own one
 * for their strings; runs own one for their plan.
 */
typedef struct sl_arena_chunk sl_arena_chunk;
typedef struct sl_arena {
	sl_arena_chunk *head;
	size_t chunk_size;
	size_t total; /* bytes handed out, for accounting */
} sl_arena;

void sl_arena_init(sl_arena *a, size_t chunk_size);
/* Returns 8-byte aligned memory or NULL when out of memory. */
void *sl_arena_alloc(sl_arena *a, size_t n);
char *sl_arena_strdup(sl_arena *a, const char *s);
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);
char *sl_arena_sprintf(sl_arena *a, const char *fmt, ...) SL_PRINTF(2, 3);
/* Frees all but the first chunk and rewinds it. */
void sl_arena_reset(sl_arena *a);
void sl_arena_free(sl_arena *a);

/* ------------------------------------------------------------------- buf */

/*
 * Growable byte buffer, always NUL-terminated when data != NULL. A nonzero
 * max caps its size so hostile input cannot exhaust memory.
 */
typedef struct sl_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap */
} sl_buf;

#define SL_BUF_INIT {NULL, 0, 0, 0}

int sl_buf_reserve(sl_buf *b, size_t extra);
int sl_buf_append(sl_buf *b, const void *p, size_t n);
int sl_buf_puts(sl_buf *b, const char *s);
int sl_buf_putc(sl_buf *b, char c);
int sl_buf_printf(sl_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);
/* Appends s as a JSON string literal (quotes and escapes included). */
int sl_buf_put_json_string(sl_buf *b, const char *s, size_t n);
void sl_buf_reset(sl_buf *b);
void sl_buf_free(sl_buf *b);
/* Hands the data to the caller (free with sl_free) and empties b. */
char *sl_buf_detach(sl_buf *b);

/* --------------------------------------------------------------- logging */

typedef enum {
	SL_LOG_DEBUG = 0,
	SL_LOG_INFO = 1,
	SL_LOG_WARN = 2,
	SL_LOG_ERROR = 3,
	SL_LOG_OFF = 4
} sl_log_level;

typedef enum { SL_LOG_TEXT = 0, SL_LOG_JSON = 1 } sl_log_format;

void sl_log_set_level(sl_log_level level);
sl_log_level sl_log_get_level(void);
void sl_log_set_format(sl_log_format format);
/* Parses "debug|info|warn|error|off"; returns -1 when unknown. */
int sl_log_level_parse(const char *s);
/*
 * Every later log line replaces this value with "***", as registered and
 * in the forms it takes percent-encoded in a URL query (%xx/%XX, a space
 * as "+" or "%20"). Values shorter than 4 bytes are not registered.
 */
void sl_log_add_secret(const char *secret);
void sl_log_clear_secrets(void);
/*
 * Copies s into out with every registered secret replaced by "***". A
 * tail of 4 bytes or more that begins a secret (text cut inside a secret,
 * here or before) is replaced by "***" too.
 */
void sl_log_redact(char *out, size_t outsz, const char *s);
/* The same into a new string (sl_free), or NULL when out of memory. */
char *sl_log_redact_dup(const char *s);
/*
 * Appends s[0..n) to out redacted, then cut at about max bytes (0: no cut;
 * "..." marks a cut). Secrets are redacted before the cut, and a secret's
 * beginning left at the end is redacted as well. Use it wherever a body or
 * other external text is cut for a message. 0 or SL_ENOMEM.
 */
int sl_log_redact_truncate(sl_buf *out, const char *s, size_t n, size_t max);
/* Whether s[0..n) holds a registered secret (in any of its forms). */
bool sl_log_has_secret(const char *s, size_t n);
/* Writes one line to stderr: timestamp, level, message (or a JSON object). */
void sl_log(sl_log_level level, const char *fmt, ...) SL_PRINTF(2, 3);
/* Same, with extra key/value fields (kv: "k","v",...,NULL); a field whose
 * value is NULL is left out. */
void sl_log_kv(sl_log_level level, const char *msg, ...);

#define sl_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)
#define sl_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)

/* ---------------------------------------------------------- date and time */

#define SL_MICROS_PER_SEC INT64_C(1000000)
#define SL_MICROS_PER_DAY INT64_C(86400000000)

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int32_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);
void sl_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d);

/*
 * Parses YYYY-MM-DD. Returns 0, or SL_EINVAL when s[0..n) is not a valid
 * date (month 13, day 31 in April, trailing garbage...).
 */
int sl_date_parse(const char *s, size_t n, int32_t *days);
/*
 * Parses an ISO-8601 timestamp into microseconds since the epoch, UTC:
 * "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]" with an optional "Z" or
 * "+HH[:MM]" / "-HH[:MM]" offset. No offset means UTC.
 */
int sl_timestamp_parse(const char *s, size_t n, int64_t *micros);
/* Writes "YYYY-MM-DD"; out must hold 16 bytes. Returns the length. */
int sl_date_format(int32_t days, char *out);
/* Writes "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC); out must hold 40 bytes. */
int sl_timestamp_format(int64_t micros, char *out);
/* Same with a 'T' separator and a trailing 'Z' (ISO-8601, for JSON/logs). */
int sl_timestamp_format_iso(int64_t micros, char *out);
/* Same with all six fractional digits, zeros included (Delta statistics). */
int sl_timestamp_format_iso6(int64_t micros, char *out);
/* Wall clock, microseconds since the epoch. */
int64_t sl_now_micros(void);
/* Monotonic clock in seconds, for durations. */
double sl_monotonic_seconds(void);
/* Parses durations like "90s", "15m", "2h", "1d" into microseconds. */
int sl_duration_parse(const char *s, int64_t *micros);

/* ---------------------------------------------------------- cancellation */

/*
 * A cancellation token, polled by long work at safe points (between
 * batches, inside network waits). A token may have a parent (the run's
 * token for a task's); it is cancelled when it or any parent is, or when
 * its deadline passed. Cancelling is async-signal-safe (one atomic store),
 * so a signal handler may call sl_cancel_request.
 */
typedef struct sl_cancel {
	_Atomic int reason;              /* 0, SL_ECANCELLED or SL_ETIMEOUT */
	double deadline;                 /* sl_monotonic_seconds() limit; 0: none */
	const struct sl_cancel *parent;  /* may be NULL */
} sl_cancel;

/* A token with no deadline under parent (may be NULL). */
void sl_cancel_init(sl_cancel *c, const sl_cancel *parent);
/* Cancels c (and so every token under it) with reason SL_ECANCELLED. */
void sl_cancel_request(sl_cancel *c);
/* Sets c's deadline to now + seconds (seconds <= 0: none). */
void sl_cancel_set_timeout(sl_cancel *c, double seconds);
/*
 * 0 while c may go on; SL_ECANCELLED or SL_ETIMEOUT once it, or a parent,
 * was cancelled or ran out of time. NULL is never cancelled.
 */
int sl_cancelled(const sl_cancel *c);
/*
 * sl_cancelled(c), with err set ("cancelled" / "timed out after ...") when
 * it is non-zero; what names the work for the message.
 */
int sl_cancel_check(const sl_cancel *c, const char *what, sl_error *err);

/* --------------------------------------------------------------- strings */

bool sl_str_ends_with(const char *s, const char *suffix);
bool sl_str_starts_with(const char *s, const char *prefix);
/* True when s[0..n) is well-formed UTF-8. */
bool sl_utf8_valid(const char *s, size_t n);
/* Value of hexadecimal digit c (0-9, a-f, A-F), or -1. */
int sl_hex_digit(char c);
/* Parses a whole decimal integer (optional sign); 0 or SL_EINVAL. */
int sl_parse_int64(const char *s, size_t n, int64_t *out);
/* Parses a whole floating point number; 0 or SL_EINVAL. */
int sl_parse_double(const char *s, size_t n, double *out);
/* Human-readable byte count ("12.3 MB") into out (32 bytes). */
void sl_format_bytes(uint64_t bytes, char *out, size_t outsz);
/* Random hex id of n bytes of entropy into out (2n+1 bytes). */
void sl_random_hex(char *out, size_t nbytes);
/*
 * Not for secrets: a fast generator for retry jitter, one per thread (so
 * threads may call it at once), seeded apart so that tasks retrying
 * together do not wait the same. A value in [0, 1), or 64 random bits.
 */
double sl_random01(void);
uint64_t sl_random_u64(void);

/* -------------------------------------------------------------- files */

/* Creates a directory and its parents (mkdir -p). */
int sl_mkdirs(const char *path, sl_error *err);
/* Reads a whole file (capped at max bytes; 0 = no cap) into out. */
int sl_file_read_all(sl_buf *out, const char *path, size_t max, sl_error *err);
/* Writes data to path atomically: temp file, fsync, rename. */
int sl_file_write_atomic(const char *path, const void *data, size_t n,
			 sl_error *err);
bool sl_path_exists(const char *path);
/* Joins a and b with one '/', into an sl_malloc'd string (NULL on OOM). */
char *sl_path_join(const char *a, const char *b);

/* ------------------------------------------------------------- streams */

/*
 * A sequential byte sink: local files, S3 multipart uploads, memory. write
 * must take all n bytes or fail; close finishes the object (for S3: the
 * multipart completion) and abort discards it. Exactly one of close or abort
 * is called, and it frees the sink.
 */
typedef struct sl_output sl_output;
struct sl_output {
	int (*write)(sl_output *o, const void *p, size_t n, sl_error *err);
	int (*close)(sl_output *o, sl_error *err);
	void (*abort)(sl_output *o);
	uint64_t written; /* bytes accepted so far, maintained by sl_output_write */
};

static inline int sl_output_write(sl_output *o, const void *p, size_t n, sl_error *err)
{
	int rc = o->write(o, p, n, err);
	if (rc == 0)
		o->written += n;
	return rc;
}

/*
 * Opens path for writing through a temp file in the same directory that
 * close renames into place (fsync first) and abort unlinks.
 */
int sl_output_file_open(sl_output **out, const char *path, sl_error *err);
/* A sink into memory; sl_output_mem_data borrows the bytes until close. */
int sl_output_mem_open(sl_output **out, sl_error *err);
const sl_buf *sl_output_mem_data(const sl_output *o);

/*
 * A random-access byte source: local files, S3 objects (ranged GETs),
 * memory. read_at fills exactly n bytes or fails (short reads past the end
 * are SL_EFORMAT). close frees it.
 */
typedef struct sl_input sl_input;
struct sl_input {
	int (*read_at)(sl_input *in, uint64_t off, void *p, size_t n, sl_error *err);
	void (*close)(sl_input *in);
	uint64_t size;
	char name[512]; /* path or URL, for error messages */
};

int sl_input_file_open(sl_input **out, const char *path, sl_error *err);
/* Wraps memory the caller keeps alive until close. */
int sl_input_mem_open(sl_input **out, const void *data, size_t n, const char *name,
		      sl_error *err);

#endif
