/*
 * sqlite.c: the SQLite warehouse adapter — the embedded default. Schemas
 * other than "main" are ATTACHed files next to the main one; bulk loads go
 * through one reused prepared INSERT inside the caller's transaction.
 */
#include "warehouse_int.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

typedef struct sqlite_wh {
	sl_wh base;
	sqlite3 *db;
	char *path;
	/* Where each schema's file is: the schemas_and_paths entries, then
	 * <schema_dir>/<schema>.db, else <path minus .db>.<schema>.db. */
	char **map_schema, **map_file;
	int nmap;
	char *schema_dir;
	bool must_exist;
	double busy_since; /* monotonic start of the current lock wait */
} sqlite_wh;

typedef struct sqlite_load {
	sl_wh_bload base;
	sqlite3_stmt *stmt;
	const sl_schema *cols; /* borrowed from the caller until finish/abort */
} sqlite_load;

/* How long a statement waits for another connection's lock. */
#define SQ_BUSY_TIMEOUT_MS 10000
/* How long a transaction (a model build, a load) waits for the write lock:
 * builds into one file run one at a time, and one may take minutes. */
#define SQ_WRITE_WAIT_S 600

static sqlite3 *db_of(sl_wh *wh) { return ((sqlite_wh *)wh)->db; }

static int sq_attach_all(sl_wh *wh, sl_error *err);
static bool sq_tx_open(sl_wh *wh);

/* Fills err with SQLite's message, where, and the start of the statement. */
static int db_error(sl_wh *wh, const char *sql, sl_error *err)
{
	int code = sqlite3_errcode(db_of(wh)) == SQLITE_NOMEM ? SL_ENOMEM : SL_EDB;
	if (sql)
		return sl_error_set(err, code, "%s: %s (in: %.160s%s)", wh->target,
				    sqlite3_errmsg(db_of(wh)), sql, strlen(sql) > 160 ? "..." : "");
	return sl_error_set(err, code, "%s: %s", wh->target, sqlite3_errmsg(db_of(wh)));
}

/*
 * The busy handler: waits for another connection's lock up to the busy
 * timeout, in short sleeps, and gives up at once when sl_wh_interrupt was
 * called (sqlite3_interrupt does not end a busy wait).
 */
static int sq_busy(void *ud, int count)
{
	sqlite_wh *w = ud;
	static const int sleep_ms[] = {1, 2, 5, 10, 15, 20, 25};
	if (count == 0)
		w->busy_since = sl_monotonic_seconds();
	if (sl_wh_interrupted(&w->base) ||
	    sl_monotonic_seconds() - w->busy_since >= SQ_BUSY_TIMEOUT_MS / 1000.0)
		return 0;
	int n = (int)(sizeof sleep_ms / sizeof sleep_ms[0]);
	int ms = sleep_ms[count < n ? count : n - 1];
	struct timespec ts = {0, ms * 1000L * 1000L};
	nanosleep(&ts, NULL);
	return 1;
}

/* A statement that starts outside a transaction starts a fresh unit of
 * work: an interrupt sent before it was for an earlier one (see
 * sl_wh_interrupt_clear). Inside a transaction the flag stays set, so an
 * interrupted transaction's later lock waits end at once too. */
static void sq_statement_starts(sl_wh *wh)
{
	if (sqlite3_get_autocommit(db_of(wh)))
		sl_wh_interrupt_clear(wh);
}

static int sq_exec(sl_wh *wh, const char *sql, int64_t *changes, sl_error *err)
{
	char *msg = NULL;
	bool begin = strcmp(sql, "BEGIN IMMEDIATE") == 0;
	/* sl_wh_begin has cleared the flag already, before any interrupt
	 * meant for this transaction could come. */
	if (!begin)
		sq_statement_starts(wh);
	/* Another connection may have made a schema file since: attach it
	 * before a transaction starts (ATTACH is refused inside one). */
	if (sqlite3_get_autocommit(db_of(wh)) && sq_attach_all(wh, err) < 0)
		return err ? err->code : SL_EDB;
	int rc = sqlite3_exec(db_of(wh), sql, NULL, NULL, &msg);
	if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && begin) {
		/* Another connection builds or loads: wait for its commit. */
		double until = sl_monotonic_seconds() + SQ_WRITE_WAIT_S;
		while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		       sl_monotonic_seconds() < until && !sl_wh_interrupted(wh)) {
			sqlite3_free(msg);
			msg = NULL;
			rc = sqlite3_exec(db_of(wh), sql, NULL, NULL, &msg);
		}
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && sl_wh_interrupted(wh)) {
			sqlite3_free(msg);
			return sl_error_set(err, SL_EDB,
					    "%s: interrupted while waiting for the warehouse's "
					    "write lock (held by another build or load into the "
					    "same SQLite file)",
					    wh->target);
		}
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			sqlite3_free(msg);
			return sl_error_set(err, SL_EDB,
					    "%s: database is locked: another connection held the "
					    "warehouse's write lock for over %d seconds (a build or "
					    "load into the same SQLite file; they take turns); run "
					    "fewer threads at once, or use PostgreSQL",
					    wh->target, SQ_WRITE_WAIT_S);
		}
	}
	if (rc != SQLITE_OK) {
		sl_error_set(err, rc == SQLITE_NOMEM ? SL_ENOMEM : SL_EDB, "%s: %s (in: %.160s%s)",
			     wh->target, msg ? msg : sqlite3_errstr(rc), sql,
			     strlen(sql) > 160 ? "..." : "");
		sqlite3_free(msg);
		return err ? err->code : SL_EDB;
	}
	if (changes)
		*changes = sqlite3_changes64(db_of(wh));
	return 0;
}

/*
 * Sets a database file's journal mode and syncing (sql: the PRAGMAs).
 * Turning a new file to WAL needs it to itself, and SQLite answers BUSY at
 * once there instead of calling the busy handler: tasks that open a new
 * warehouse at the same moment (parallel loads) wait their turn here, as
 * long as the busy timeout.
 */
static int sq_set_journal(sl_wh *wh, const char *sql, sl_error *err)
{
	double until = sl_monotonic_seconds() + SQ_BUSY_TIMEOUT_MS / 1000.0;
	for (;;) {
		int rc = sqlite3_exec(db_of(wh), sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || sl_monotonic_seconds() >= until)
			return sq_exec(wh, sql, NULL, err); /* once more, for its message */
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* Column i's bytes as "\x0a1b..." (PostgreSQL's text of a bytea) into out. */
static int hex_text(sqlite3_stmt *st, int i, sl_buf *out, sl_error *err)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = sqlite3_column_blob(st, i);
	size_t len = (size_t)sqlite3_column_bytes(st, i);
	sl_buf_reset(out);
	if (sl_buf_reserve(out, 2 * len + 3) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (sl_buf_puts(out, "\\x") < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (size_t k = 0; k < len; k++) {
		out->data[out->len++] = digits[p[k] >> 4];
		out->data[out->len++] = digits[p[k] & 15];
	}
	out->data[out->len] = '\0';
	return 0;
}

/* Steps one prepared statement, handing each row to fn. Values are text;
 * a blob (or text holding a NUL byte) is "\x" and its bytes in hex. */
static int run_stmt(sl_wh *wh, sqlite3_stmt *st, const char *sql, sl_wh_row_fn fn, void *ud,
		    sl_error *err)
{
	int n = sqlite3_column_count(st), rc = 0;
	const char **names = NULL, **values = NULL;
	char(*fbuf)[32] = NULL;
	sl_buf *hex = NULL; /* blobs, and text holding a NUL byte, as \x<hex> */

	if (n > 0) {
		names = sl_calloc((size_t)n, sizeof *names);
		values = sl_calloc((size_t)n, sizeof *values);
		fbuf = sl_calloc((size_t)n, sizeof *fbuf);
		hex = sl_calloc((size_t)n, sizeof *hex);
		if (!names || !values || !fbuf || !hex) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
		for (int i = 0; i < n; i++)
			names[i] = sqlite3_column_name(st, i);
	}
	for (;;) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = db_error(wh, sql, err);
			goto done;
		}
		if (!fn)
			continue;
		for (int i = 0; i < n; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL:
				values[i] = NULL;
				break;
			case SQLITE_FLOAT:
				/* SQLite's own text keeps 15 digits; we round-trip. */
				sl_wh_double_text(sqlite3_column_double(st, i), fbuf[i]);
				values[i] = fbuf[i];
				break;
			case SQLITE_BLOB:
				if ((rc = hex_text(st, i, &hex[i], err)) < 0)
					goto done;
				values[i] = hex[i].data;
				break;
			default:
				values[i] = (const char *)sqlite3_column_text(st, i);
				if (!values[i]) {
					rc = sl_error_set(err, SL_ENOMEM, "out of memory");
					goto done;
				}
				/* Text cut at a NUL would lose the rest: give its bytes. */
				if (strlen(values[i]) != (size_t)sqlite3_column_bytes(st, i)) {
					if ((rc = hex_text(st, i, &hex[i], err)) < 0)
						goto done;
					values[i] = hex[i].data;
				}
			}
		}
		rc = fn(ud, n, names, values, err);
		if (rc != 0)
			break;
	}
done:
	for (int i = 0; hex && i < n; i++)
		sl_buf_free(&hex[i]);
	sl_free(hex);
	sl_free(names);
	sl_free(values);
	sl_free(fbuf);
	return rc;
}

/* Whether sql holds a statement after its first one. */
static int more_statements(sl_wh *wh, const char *sql, bool *more, sl_error *err)
{
	const char *p = sql;
	int seen = 0;
	*more = false;
	while (p && *p && seen < 2) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(db_of(wh), p, -1, &st, &tail) != SQLITE_OK) {
			if (!seen)
				return db_error(wh, p, err);
			seen++; /* text after the first statement that is not blank */
			break;
		}
		if (st)
			seen++;
		sqlite3_finalize(st);
		p = tail;
	}
	*more = seen > 1;
	return 0;
}

static int sq_query(sl_wh *wh, const char *sql, bool one, sl_wh_row_fn fn, void *ud,
		    sl_error *err)
{
	const char *p = sql;
	bool more = false;
	sq_statement_starts(wh);
	if (sqlite3_get_autocommit(db_of(wh)) && sq_attach_all(wh, err) < 0)
		return err->code;
	if (one && more_statements(wh, sql, &more, err) < 0)
		return err->code;
	if (more)
		return sl_error_set(err, SL_EUSAGE,
				    "the query holds more than one statement; give one at a time");
	while (p && *p) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(db_of(wh), p, -1, &st, &tail) != SQLITE_OK)
			return db_error(wh, p, err);
		if (!st) { /* only whitespace or a comment */
			p = tail;
			continue;
		}
		int rc = run_stmt(wh, st, p, fn, ud, err);
		sqlite3_finalize(st);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		p = tail;
	}
	return 0;
}

/* Prepares sql and binds up to two text parameters (?1, ?2). */
static int prepare(sl_wh *wh, sqlite3_stmt **st, const char *sql, sl_error *err,
		   const char *p1, const char *p2)
{
	if (sqlite3_prepare_v2(db_of(wh), sql, -1, st, NULL) != SQLITE_OK)
		return db_error(wh, sql, err);
	if ((p1 && sqlite3_bind_text(*st, 1, p1, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (p2 && sqlite3_bind_text(*st, 2, p2, -1, SQLITE_STATIC) != SQLITE_OK)) {
		int rc = db_error(wh, sql, err);
		sqlite3_finalize(*st);
		*st = NULL;
		return rc;
	}
	return 0;
}

static int is_attached(sl_wh *wh, const char *schema, bool *out, sl_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(wh, &st,
			 "SELECT 1 FROM pragma_database_list WHERE name = ?1 COLLATE NOCASE",
			 err, schema, NULL);
	if (rc < 0)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW;
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = db_error(wh, NULL, err);
	sqlite3_finalize(st);
	return rc;
}

/* "/p/warehouse.db" + "raw" -> "/p/warehouse.raw.db". */
static char *schema_file(const char *path, const char *schema)
{
	sl_buf b = SL_BUF_INIT;
	size_t n = strlen(path);
	if (strcmp(path, ":memory:") == 0 || n == 0)
		return sl_strdup(":memory:");
	if (n > 3 && strcmp(path + n - 3, ".db") == 0)
		n -= 3;
	if (sl_buf_append(&b, path, n) < 0 || sl_buf_printf(&b, ".%s.db", schema) < 0) {
		sl_buf_free(&b);
		return NULL;
	}
	return sl_buf_detach(&b);
}

/* A schema name that can name a file: letters, digits, _ and -. */
static bool plain_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool reserved_schema(const char *s)
{
	return strcasecmp(s, "main") == 0 || strcasecmp(s, "temp") == 0;
}

/* The file of schema (NULL: out of memory): its schemas_and_paths entry,
 * else <schema_directory>/<schema>.db, else next to the main file. */
static char *sq_schema_path(sqlite_wh *w, const char *schema)
{
	for (int i = 0; i < w->nmap; i++)
		if (strcasecmp(w->map_schema[i], schema) == 0)
			return sl_strdup(w->map_file[i]);
	if (strcmp(w->path, ":memory:") == 0)
		return sl_strdup(":memory:");
	if (w->schema_dir) {
		sl_buf b = SL_BUF_INIT;
		if (sl_buf_printf(&b, "%s/%s.db", w->schema_dir, schema) < 0) {
			sl_buf_free(&b);
			return NULL;
		}
		return sl_buf_detach(&b);
	}
	return schema_file(w->path, schema);
}

/* Databases attached to the connection besides main and temp. */
static int attached_count(sl_wh *wh, int *out, sl_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(wh, &st,
			 "SELECT count(*) FROM pragma_database_list WHERE name NOT IN "
			 "('main', 'temp')", err, NULL, NULL);
	if (rc < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		rc = db_error(wh, NULL, err);
	sqlite3_finalize(st);
	return rc;
}

static int too_many(sl_wh *wh, int want, const char *names, sl_error *err)
{
	int max = sqlite3_limit(db_of(wh), SQLITE_LIMIT_ATTACHED, -1);
	return sl_error_set(err, SL_ECONFIG,
			    "%s: %d schemas need a database file each (%s), but this SQLite "
			    "attaches at most %d to a connection (SQLITE_MAX_ATTACHED); use at "
			    "most %d schemas besides main — fewer custom schemas (a model's "
			    "schema config), or remove the files of schemas no longer used",
			    wh->target, want, names, max, max);
}

/* ATTACHes file as schema (outside a transaction), in WAL mode. */
static int sq_attach(sl_wh *wh, const char *schema, const char *file, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc = sl_buf_puts(&sql, "ATTACH DATABASE ?1 AS ") < 0 ? SL_ENOMEM : 0;
	if (rc == 0)
		rc = sl_wh_quote_ident(wh, &sql, schema, err);
	if (rc == 0)
		rc = prepare(wh, &st, sql.data, err, file, NULL);
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE) {
		if (strstr(sqlite3_errmsg(db_of(wh)), "too many attached")) {
			int n = 0;
			attached_count(wh, &n, NULL);
			rc = too_many(wh, n + 1, schema, err);
		} else {
			rc = db_error(wh, sql.data, err);
		}
	}
	sqlite3_finalize(st);
	if (rc == 0) {
		sl_buf_reset(&sql);
		rc = sl_buf_puts(&sql, "PRAGMA ") < 0 ? SL_ENOMEM : 0;
		if (rc == 0)
			rc = sl_wh_quote_ident(wh, &sql, schema, err);
		if (rc == 0 && sl_buf_puts(&sql, ".journal_mode=WAL; PRAGMA ") < 0)
			rc = SL_ENOMEM;
		if (rc == 0)
			rc = sl_wh_quote_ident(wh, &sql, schema, err);
		if (rc == 0 && sl_buf_puts(&sql, ".synchronous=NORMAL") < 0)
			rc = SL_ENOMEM;
		if (rc == 0)
			rc = sq_set_journal(wh, sql.data, err);
	}
	if (rc == SL_ENOMEM)
		sl_error_set(err, rc, "out of memory");
	sl_buf_free(&sql);
	return rc;
}

typedef struct found {
	char **schema, **file;
	int n;
} found;

static void found_free(found *f)
{
	for (int i = 0; i < f->n; i++) {
		sl_free(f->schema[i]);
		sl_free(f->file[i]);
	}
	sl_free(f->schema);
	sl_free(f->file);
	f->n = 0;
}

/* Whether a and b name one file (both exist). */
static bool same_file(const struct stat *a, const char *b)
{
	struct stat sb;
	return b && *b && stat(b, &sb) == 0 && a->st_dev == sb.st_dev && a->st_ino == sb.st_ino;
}

/*
 * Whether file is a database the connection has open already (main or an
 * attached schema) or one f lists: attaching one file twice makes two
 * pagers of one connection wait for each other's write lock forever.
 */
static bool file_taken(sl_wh *wh, const found *f, const char *file)
{
	struct stat st;
	if (stat(file, &st) != 0)
		return false;
	for (int i = 0; i < f->n; i++)
		if (same_file(&st, f->file[i]))
			return true;
	sqlite3_stmt *q = NULL;
	bool taken = false;
	if (sqlite3_prepare_v2(db_of(wh), "SELECT file FROM pragma_database_list", -1, &q,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return false;
	}
	while (!taken && sqlite3_step(q) == SQLITE_ROW)
		taken = same_file(&st, (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return taken;
}

/* Adds schema/file to f unless attached or listed already (by name, or the
 * same file under another name); <0: no memory. */
static int found_add(sl_wh *wh, found *f, const char *schema, size_t slen, const char *file)
{
	char name[256];
	bool att = false;
	if (slen >= sizeof name)
		return 0;
	memcpy(name, schema, slen);
	name[slen] = '\0';
	if (reserved_schema(name) || is_attached(wh, name, &att, NULL) < 0 || att)
		return 0;
	for (int i = 0; i < f->n; i++)
		if (strcasecmp(f->schema[i], name) == 0)
			return 0;
	if (file_taken(wh, f, file))
		return 0;
	char **s = sl_realloc(f->schema, sizeof *s * (size_t)(f->n + 1));
	if (!s)
		return -1;
	f->schema = s;
	char **fl = sl_realloc(f->file, sizeof *fl * (size_t)(f->n + 1));
	if (!fl)
		return -1;
	f->file = fl;
	f->schema[f->n] = sl_strdup(name);
	f->file[f->n] = sl_strdup(file);
	if (!f->schema[f->n] || !f->file[f->n]) {
		sl_free(f->schema[f->n]);
		sl_free(f->file[f->n]);
		return -1;
	}
	f->n++;
	return 0;
}

/*
 * The schema files of this warehouse on disk that the connection has not
 * attached: <dir>/<schema>.db in schema_directory, else
 * <main file minus .db>.<schema>.db next to the main file.
 */
static int scan_dir(sqlite_wh *w, found *f)
{
	char *dir = NULL;
	const char *prefix = "";
	size_t plen = 0;
	if (w->schema_dir) {
		dir = sl_strdup(w->schema_dir);
	} else {
		const char *slash = strrchr(w->path, '/');
		dir = slash ? sl_strndup(w->path, (size_t)(slash - w->path) + (slash == w->path))
			    : sl_strdup(".");
		prefix = slash ? slash + 1 : w->path;
		plen = strlen(prefix);
		if (plen > 3 && strcmp(prefix + plen - 3, ".db") == 0)
			plen -= 3;
	}
	if (!dir)
		return -1;
	DIR *d = opendir(dir);
	int rc = 0;
	struct dirent *e;
	while (d && rc == 0 && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (len < 4 || strcmp(n + len - 3, ".db") != 0)
			continue;
		const char *schema = n;
		size_t slen = len - 3;
		if (!w->schema_dir) {
			if (len <= plen + 4 || strncmp(n, prefix, plen) != 0 || n[plen] != '.')
				continue;
			schema = n + plen + 1;
			slen = len - plen - 4;
		}
		if (!plain_name(schema, slen))
			continue;
		sl_buf file = SL_BUF_INIT;
		if (sl_buf_printf(&file, "%s/%s", dir, n) < 0)
			rc = -1;
		if (rc == 0)
			rc = found_add(&w->base, f, schema, slen, file.data);
		sl_buf_free(&file);
	}
	if (d)
		closedir(d);
	sl_free(dir);
	return rc;
}

/*
 * Attaches every schema of this warehouse the connection does not have
 * yet: each schemas_and_paths entry (its file made when missing, unless the
 * warehouse must exist) and each schema file on disk. So a model in any
 * schema is readable as "schema"."model" from every connection, whichever
 * made the file. More schemas than SQLite attaches is an error naming the
 * limit.
 */
static int sq_attach_all(sl_wh *wh, sl_error *err)
{
	sqlite_wh *w = (sqlite_wh *)wh;
	found f = {0};
	int rc = 0, have = 0;

	if (strcmp(w->path, ":memory:") == 0)
		return 0;
	for (int i = 0; i < w->nmap && rc == 0; i++)
		if (!w->must_exist || sl_path_exists(w->map_file[i]))
			rc = found_add(wh, &f, w->map_schema[i], strlen(w->map_schema[i]),
				       w->map_file[i]);
	if (rc == 0)
		rc = scan_dir(w, &f);
	if (rc < 0) {
		found_free(&f);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (f.n == 0)
		return 0;
	rc = attached_count(wh, &have, err);
	int max = sqlite3_limit(db_of(wh), SQLITE_LIMIT_ATTACHED, -1);
	if (rc == 0 && have + f.n > max) {
		sl_buf names = SL_BUF_INIT;
		sqlite3_stmt *st = NULL;
		if (prepare(wh, &st, "SELECT name FROM pragma_database_list WHERE name NOT IN "
			    "('main', 'temp')", NULL, NULL, NULL) == 0)
			while (sqlite3_step(st) == SQLITE_ROW)
				sl_buf_printf(&names, "%s%s", names.len ? ", " : "",
					      (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		for (int i = 0; i < f.n; i++)
			sl_buf_printf(&names, "%s%s", names.len ? ", " : "", f.schema[i]);
		rc = too_many(wh, have + f.n, names.data ? names.data : "", err);
		sl_buf_free(&names);
	}
	for (int i = 0; rc == 0 && i < f.n; i++)
		rc = sq_attach(wh, f.schema[i], f.file[i], err);
	found_free(&f);
	return rc;
}

static int sq_ensure_schema(sl_wh *wh, const char *schema, sl_error *err)
{
	sqlite_wh *w = (sqlite_wh *)wh;
	char shown[200];
	bool att = false;
	int rc;

	if (reserved_schema(schema))
		return 0;
	rc = is_attached(wh, schema, &att, err);
	if (rc < 0 || att)
		return rc;
	bool mapped = false;
	for (int i = 0; i < w->nmap; i++)
		mapped = mapped || strcasecmp(w->map_schema[i], schema) == 0;
	if (!*schema)
		return sl_error_set(err, SL_EINVAL, "%s: empty schema name", wh->target);
	/* The schema names a file: keep it a plain name. */
	if (!mapped && !plain_name(schema, strlen(schema)))
		return sl_error_set(err, SL_EINVAL,
				    "%s: schema name \"%s\" must be letters, digits, _ or - on "
				    "SQLite, where it names a file",
				    wh->target, sl_wh_printable(schema, shown, sizeof shown));
	if (wh->in_tx)
		return sl_error_set(err, SL_EINTERNAL,
				    "%s: schema %s must be attached outside a transaction",
				    wh->target, schema);
	char *file = sq_schema_path(w, schema);
	if (!file)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	rc = sq_attach(wh, schema, file, err);
	sl_free(file);
	return rc;
}

static int sq_relation_kind(sl_wh *wh, const char *schema, const char *name,
			    sl_wh_relation *out, sl_error *err);

/* A table or a view of that name. */
static int sq_table_exists(sl_wh *wh, const char *schema, const char *table, bool *out,
			   sl_error *err)
{
	sl_wh_relation kind = SL_WH_REL_NONE;
	int rc = sq_relation_kind(wh, schema, table, &kind, err);
	*out = rc == 0 && kind != SL_WH_REL_NONE;
	return rc;
}

/* Maps a declared SQLite column type back to a sluice type. */
static sl_type decltype_type(const char *decl)
{
	char up[64];
	size_t i;
	int p, s;
	for (i = 0; decl && decl[i] && i + 1 < sizeof up; i++)
		up[i] = (char)((decl[i] >= 'a' && decl[i] <= 'z') ? decl[i] - 32 : decl[i]);
	up[i] = '\0';
	if (!strcmp(up, "BOOLEAN") || !strcmp(up, "BOOL"))
		return sl_type_make(SL_BOOL);
	if (!strcmp(up, "INTEGER") || !strcmp(up, "INT32") || !strcmp(up, "INT4"))
		return sl_type_make(SL_INT32);
	if (strstr(up, "INT"))
		return sl_type_make(SL_INT64);
	if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
		return sl_type_make(SL_FLOAT64);
	if ((sscanf(up, "DECIMAL_TEXT(%d,%d)", &p, &s) == 2 ||
	     sscanf(up, "DECIMAL(%d,%d)", &p, &s) == 2 ||
	     sscanf(up, "NUMERIC(%d,%d)", &p, &s) == 2) &&
	    p >= 1 && p <= SL_DECIMAL_MAX_PRECISION && s >= 0 && s <= p)
		return sl_type_decimal(p, s);
	if (!strcmp(up, "DATE"))
		return sl_type_make(SL_DATE);
	if (!strcmp(up, "TIMESTAMP") || !strcmp(up, "DATETIME") || !strcmp(up, "TIMESTAMPTZ"))
		return sl_type_make(SL_TIMESTAMP);
	return sl_type_make(SL_STRING);
}

static int sq_describe(sl_wh *wh, const char *schema, const char *table, sl_schema **out,
		       sl_error *err)
{
	sqlite3_stmt *st = NULL;
	sl_schema *s = NULL;
	bool exists;
	int rc = sq_table_exists(wh, schema, table, &exists, err);

	*out = NULL;
	if (rc < 0 || !exists)
		return rc;
	rc = prepare(wh, &st, "SELECT name, type, \"notnull\" FROM pragma_table_info(?1, ?2)",
		     err, table, schema);
	if (rc < 0)
		return rc;
	s = sl_schema_new();
	if (!s) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *decl = (const char *)sqlite3_column_text(st, 1);
		if (sl_schema_add(s, name ? name : "", decltype_type(decl),
				  sqlite3_column_int(st, 2) == 0) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (step != SQLITE_DONE) {
		rc = db_error(wh, NULL, err);
		goto done;
	}
	*out = s;
	s = NULL;
done:
	sqlite3_finalize(st);
	sl_schema_free(s);
	return rc;
}

static const char *sq_type_sql(sl_type t, char *buf, size_t n)
{
	switch (t.id) {
	case SL_BOOL: snprintf(buf, n, "BOOLEAN"); break;
	case SL_INT32: snprintf(buf, n, "INTEGER"); break;
	case SL_INT64: snprintf(buf, n, "BIGINT"); break;
	case SL_FLOAT64: snprintf(buf, n, "REAL"); break;
	case SL_DECIMAL: snprintf(buf, n, "DECIMAL_TEXT(%d,%d)", t.precision, t.scale); break;
	case SL_DATE: snprintf(buf, n, "DATE"); break;
	case SL_TIMESTAMP: snprintf(buf, n, "TIMESTAMP"); break;
	default: snprintf(buf, n, "TEXT"); break;
	}
	return buf;
}

static int sq_quote_literal(sl_buf *out, const char *s)
{
	if (sl_buf_putc(out, '\'') < 0)
		return SL_ENOMEM;
	for (; *s; s++) {
		if (*s == '\'' && sl_buf_putc(out, '\'') < 0)
			return SL_ENOMEM;
		if (sl_buf_putc(out, *s) < 0)
			return SL_ENOMEM;
	}
	return sl_buf_putc(out, '\'') < 0 ? SL_ENOMEM : 0;
}

static int sq_order_expr(sl_buf *out, const char *expr, sl_type t)
{
	/* Decimals are text here; compare them as numbers (to double precision). */
	if (t.id == SL_DECIMAL)
		return sl_buf_printf(out, "CAST(%s AS REAL)", expr) < 0 ? SL_ENOMEM : 0;
	return sl_buf_puts(out, expr) < 0 ? SL_ENOMEM : 0;
}

/* ------------------------------------------------------ materializations */

static int sq_relation_kind(sl_wh *wh, const char *schema, const char *name,
			    sl_wh_relation *out, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT;
	sqlite3_stmt *st = NULL;
	bool att = true;
	int rc = 0;

	*out = SL_WH_REL_NONE;
	if (strcasecmp(schema, "main") && strcasecmp(schema, "temp"))
		rc = is_attached(wh, schema, &att, err);
	if (rc < 0 || !att)
		return rc;
	if (sl_buf_puts(&sql, "SELECT type FROM ") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sl_wh_quote_ident(wh, &sql, schema, err);
	if (rc == 0 && sl_buf_puts(&sql, ".sqlite_master WHERE type IN ('table', 'view') "
				   "AND name = ?1 COLLATE NOCASE") < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = prepare(wh, &st, sql.data, err, name, NULL);
	if (rc == 0) {
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			*out = strcmp((const char *)sqlite3_column_text(st, 0), "view") == 0
				       ? SL_WH_REL_VIEW
				       : SL_WH_REL_TABLE;
		else if (s != SQLITE_DONE)
			rc = db_error(wh, sql.data, err);
	}
	sqlite3_finalize(st);
	sl_buf_free(&sql);
	return rc;
}

static int sq_columns(sl_wh *wh, const char *schema, const char *table, sl_wh_cols *out,
		      sl_error *err)
{
	sqlite3_stmt *st = NULL;
	bool exists;
	int rc = sq_table_exists(wh, schema, table, &exists, err), step;
	if (rc < 0 || !exists)
		return rc;
	rc = prepare(wh, &st, "SELECT name, type FROM pragma_table_info(?1, ?2)", err, table,
		     schema);
	if (rc < 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		if (sl_wh_cols_add(out, name ? name : "", type ? type : "") < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_error(wh, NULL, err);
	sqlite3_finalize(st);
	return rc;
}

/* Appends to out, as ", 'name'" items, the views of schema that no longer
 * compile (a table they read was dropped): pragma_table_info of one of
 * them fails the whole catalog query, so the catalog leaves them out. */
static int broken_views(sl_wh *wh, const char *schema, sl_buf *out, sl_error *err)
{
	sl_buf sql = SL_BUF_INIT, probe = SL_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc = 0, step = SQLITE_DONE;
	if (sl_buf_puts(&sql, "SELECT name FROM ") < 0)
		rc = SL_ENOMEM;
	if (rc == 0 && (rc = sl_wh_quote_ident(wh, &sql, schema, err)) == 0 &&
	    sl_buf_puts(&sql, ".sqlite_master WHERE type = 'view'") < 0)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = prepare(wh, &st, sql.data, err, NULL, NULL);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		sqlite3_stmt *p = NULL;
		sl_buf_reset(&probe);
		if (!name)
			continue;
		if (sl_buf_puts(&probe, "SELECT * FROM ") < 0) {
			rc = SL_ENOMEM;
			break;
		}
		if ((rc = sl_wh_quote_table(wh, &probe, schema, name, err)) < 0)
			break;
		if (sqlite3_prepare_v2(db_of(wh), probe.data, -1, &p, NULL) != SQLITE_OK &&
		    (sl_buf_puts(out, ", ") < 0 || sq_quote_literal(out, name) < 0))
			rc = SL_ENOMEM;
		sqlite3_finalize(p);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_error(wh, sql.data, err);
	if (rc == SL_ENOMEM)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	sqlite3_finalize(st);
	sl_buf_free(&sql);
	sl_buf_free(&probe);
	return rc;
}

/* The catalog (catalog.c): sqlite_master and pragma_table_info of each
 * schema file attached, one UNION ALL branch per schema. */
static int sq_catalog_sql(sl_wh *wh, const char *const *schemas, int nschemas, sl_buf *sql,
			  sl_error *err)
{
	int rc = 0, branches = 0;
	if (sqlite3_get_autocommit(db_of(wh)) && (rc = sq_attach_all(wh, err)) < 0)
		return rc;
	for (int i = 0; rc == 0 && i < nschemas; i++) {
		bool att = true;
		if (!reserved_schema(schemas[i]) && (rc = is_attached(wh, schemas[i], &att, err)) < 0)
			break;
		if (!att)
			continue;
		if (branches++ && sl_buf_puts(sql, " UNION ALL ") < 0)
			goto oom;
		if (sl_buf_puts(sql, "SELECT ") < 0 || sq_quote_literal(sql, schemas[i]) < 0 ||
		    sl_buf_puts(sql, ", m.name, m.type, p.cid + 1, p.name, p.type, NULL, NULL, "
				     "NULL FROM ") < 0)
			goto oom;
		if ((rc = sl_wh_quote_ident(wh, sql, schemas[i], err)) < 0)
			break;
		if (sl_buf_puts(sql, ".sqlite_master AS m, pragma_table_info(m.name, ") < 0 ||
		    sq_quote_literal(sql, schemas[i]) < 0 ||
		    sl_buf_puts(sql, ") AS p WHERE m.type IN ('table', 'view') AND m.name NOT "
				     "LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT IN (''") < 0)
			goto oom;
		if ((rc = broken_views(wh, schemas[i], sql, err)) < 0)
			break;
		if (sl_buf_putc(sql, ')') < 0)
			goto oom;
	}
	if (rc == 0 && branches && sl_buf_puts(sql, " ORDER BY 1, 2, 4") < 0)
		goto oom;
	if (rc < 0)
		sl_buf_reset(sql);
	return rc;
oom:
	sl_buf_reset(sql);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

/* SQLite refuses a view over another attached database at CREATE VIEW. */
static bool sq_view_needs_table(const sl_error *err)
{
	return err && strstr(err->message, "cannot reference objects in database") != NULL;
}

static int sq_timestamp_literal(sl_buf *out, const char *ts)
{
	return sq_quote_literal(out, ts);
}

/*
 * md5(text): the lowercase hex MD5 of its argument's text, NULL for NULL,
 * as PostgreSQL's md5() — so snapshots' dbt_scd_id is the same hash on both.
 */
static void sq_md5(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	const unsigned char *p = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (!p) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (!EVP_Digest(p, (size_t)n, md, &mdlen, EVP_md5(), NULL)) {
		sqlite3_result_error(ctx, "md5: OpenSSL cannot compute MD5 here", -1);
		return;
	}
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	sqlite3_result_text(ctx, hex, (int)(2 * mdlen), SQLITE_TRANSIENT);
}

/* ---------------------------------------------------------------- loads */

static int sq_load_open(sl_wh_bload **out, sl_wh *wh, const char *qtable,
			const char *collist, const sl_schema *cols, bool order_cols,
			sl_error *err)
{
	sqlite_load *l = NULL;
	sl_buf sql = SL_BUF_INIT;
	int n = cols->nfields + (order_cols ? 2 : 0);
	int rc = sl_alloc_zeroed((void **)&l, sizeof *l, err);
	if (rc < 0)
		return rc;
	l->base.wh = wh;
	l->base.ncols = cols->nfields;
	l->base.order_cols = order_cols;
	l->cols = cols;
	if (sl_buf_printf(&sql, "INSERT INTO %s %s VALUES (", qtable, collist) < 0)
		goto oom;
	for (int i = 0; i < n; i++)
		if (sl_buf_puts(&sql, i ? ", ?" : "?") < 0)
			goto oom;
	if (sl_buf_putc(&sql, ')') < 0)
		goto oom;
	if (sqlite3_prepare_v3(db_of(wh), sql.data, -1, SQLITE_PREPARE_PERSISTENT, &l->stmt,
			       NULL) != SQLITE_OK) {
		rc = db_error(wh, sql.data, err);
		goto fail;
	}
	sl_buf_free(&sql);
	*out = &l->base;
	return 0;
oom:
	rc = sl_error_set(err, SL_ENOMEM, "out of memory");
fail:
	sl_buf_free(&sql);
	sl_free(l);
	return rc;
}

static int bind_value(sqlite3_stmt *st, int idx, const sl_column *c, int64_t r)
{
	char tmp[64];
	int n;
	if (sl_column_is_null(c, r))
		return sqlite3_bind_null(st, idx);
	switch (c->type.id) {
	case SL_BOOL: return sqlite3_bind_int(st, idx, sl_bit_get(c->v.bits, r));
	case SL_INT32: return sqlite3_bind_int(st, idx, c->v.i32[r]);
	case SL_INT64: return sqlite3_bind_int64(st, idx, c->v.i64[r]);
	case SL_FLOAT64:
		if (isnan(c->v.f64[r]))
			return sqlite3_bind_text(st, idx, "NaN", 3, SQLITE_STATIC);
		return sqlite3_bind_double(st, idx, c->v.f64[r]);
	case SL_DECIMAL:
		n = sl_decimal_format(c->v.dec[r], c->type.scale, tmp);
		return sqlite3_bind_text(st, idx, tmp, n, SQLITE_TRANSIENT);
	case SL_DATE:
		n = sl_wh_date_text(c->v.i32[r], tmp);
		return sqlite3_bind_text(st, idx, tmp, n, SQLITE_TRANSIENT);
	case SL_TIMESTAMP:
		n = sl_wh_timestamp_text(c->v.i64[r], tmp);
		return sqlite3_bind_text(st, idx, tmp, n, SQLITE_TRANSIENT);
	case SL_STRING: {
		size_t len;
		const char *s = sl_column_str(c, r, &len);
		return sqlite3_bind_text64(st, idx, s, len, SQLITE_STATIC, SQLITE_UTF8);
	}
	}
	return SQLITE_MISUSE;
}

static int sq_load_write(sl_wh_bload *bl, const sl_batch *b, int64_t version, sl_error *err)
{
	sqlite_load *l = (sqlite_load *)bl;
	sqlite3_stmt *st = l->stmt;
	for (int64_t r = 0; r < b->nrows; r++) {
		for (int i = 0; i < b->ncols; i++) {
			if (bind_value(st, i + 1, &b->cols[i], r) != SQLITE_OK)
				return db_error(bl->wh, NULL, err);
		}
		if (bl->order_cols &&
		    (sqlite3_bind_int64(st, b->ncols + 1, version) != SQLITE_OK ||
		     sqlite3_bind_int64(st, b->ncols + 2, bl->seq) != SQLITE_OK))
			return db_error(bl->wh, NULL, err);
		int s = sqlite3_step(st);
		sqlite3_reset(st);
		if (s != SQLITE_DONE) {
			db_error(bl->wh, NULL, err);
			return sl_error_prefix(err, "row %lld of the batch: ", (long long)r + 1);
		}
		bl->seq++;
		bl->rows++;
	}
	return 0;
}

static int sq_load_finish(sl_wh_bload *bl, sl_error *err)
{
	sqlite_load *l = (sqlite_load *)bl;
	sqlite3_finalize(l->stmt);
	sl_free(l);
	return 0;
}

static void sq_load_abort(sl_wh_bload *bl)
{
	sl_error ignored = SL_ERROR_INIT;
	sq_load_finish(bl, &ignored);
}

/* ------------------------------------------------------------- lifecycle */

static void sq_close(sl_wh *wh)
{
	sqlite_wh *w = (sqlite_wh *)wh;
	sqlite3_close_v2(w->db);
	sl_free(w->path);
	for (int i = 0; i < w->nmap; i++) {
		sl_free(w->map_schema[i]);
		sl_free(w->map_file[i]);
	}
	sl_free(w->map_schema);
	sl_free(w->map_file);
	sl_free(w->schema_dir);
	sl_wh_free_common(wh);
	sl_free(w);
}

const sl_wh_ops sl_wh_sqlite_ops = {
	.name = "sqlite",
	.max_ident = 0,
	.begin_sql = "BEGIN IMMEDIATE",
	.temp_schema = "temp",
	.index_on_schema = true,
	.analyze_stage = false,
	.ts_suffix = "",
	.close = sq_close,
	.exec = sq_exec,
	.query = sq_query,
	.ensure_schema = sq_ensure_schema,
	.table_exists = sq_table_exists,
	.describe = sq_describe,
	.type_sql = sq_type_sql,
	.quote_literal = sq_quote_literal,
	.order_expr = sq_order_expr,
	.load_open = sq_load_open,
	.load_write = sq_load_write,
	.load_finish = sq_load_finish,
	.load_abort = sq_load_abort,
	.relation_kind = sq_relation_kind,
	.columns = sq_columns,
	.drop_suffix = "",
	.truncate_sql = "DELETE FROM",
	.dependent_views = NULL,
	/* Dependent views keep naming the table; the swap puts it back. */
	.rename_pre_sql = "PRAGMA legacy_alter_table = ON",
	.rename_post_sql = "PRAGMA legacy_alter_table = OFF",
	.view_needs_table = sq_view_needs_table,
	.ctas_counts = false,
	.typed_columns = false,
	.alter_type = NULL,
	.timestamp_literal = sq_timestamp_literal,
	.interrupt = sl_wh_sqlite_interrupt,
	.tx_open = sq_tx_open,
	.catalog_sql = sq_catalog_sql,
};

/* A target of type sqlite in sluice.yml. */
static const sl_wh_key sqlite_keys[] = {
	{.name = "path", .type = SL_WH_KEY_PATH, .def = "./warehouse.db",
	 .example = "./warehouse.db"},
	{.name = "schema", .type = SL_WH_KEY_TEXT, .def = "main", .example = "main"},
	{.name = "raw_schema", .type = SL_WH_KEY_TEXT, .def = "raw", .example = "raw"},
	SL_WH_SERVER_KEYS_IGNORED,
	{.name = NULL},
};

const sl_wh_adapter sl_wh_sqlite_adapter = {
	.name = "sqlite",
	.settings_hint = "use path",
	.keys = sqlite_keys,
	/* sqlite3_stricmp compares ASCII letters ignoring case; 2000 is
	 * SQLITE_MAX_COLUMN as Debian builds it. */
	.rules = {.fold_case = true, .max_bytes = 0, .max_columns = 2000},
	.open = sl_wh_sqlite_open,
};

/*
 * dbt-sqlite's settings: schemas_and_paths, a JSON object of schema ->
 * file ("main" is the main file, given as path), and schema_directory.
 */
static int read_schema_files(sqlite_wh *w, const sl_wh_config *cfg, sl_error *err)
{
	const char *dir = sl_wh_config_get(cfg, "schema_directory");
	const char *map = sl_wh_config_get(cfg, "schemas_and_paths");
	if (dir && *dir) {
		size_t n = strlen(dir);
		while (n > 1 && dir[n - 1] == '/')
			n--;
		if (!(w->schema_dir = sl_strndup(dir, n)))
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (!map || !*map)
		return 0;
	json_error_t je;
	json_t *o = json_loads(map, 0, &je);
	const char *key;
	json_t *v;
	int rc = 0;
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return sl_error_set(err, SL_ECONFIG,
				    "%s: schemas_and_paths must map schema names to database files, "
				    "as JSON text {\"raw\": \"./raw.db\"}", w->base.target);
	}
	size_t n = json_object_size(o);
	w->map_schema = sl_calloc(n ? n : 1, sizeof *w->map_schema);
	w->map_file = sl_calloc(n ? n : 1, sizeof *w->map_file);
	if (!w->map_schema || !w->map_file)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	json_object_foreach(o, key, v)
	{
		if (rc < 0)
			break;
		if (!json_is_string(v) || !*json_string_value(v) || !*key) {
			rc = sl_error_set(err, SL_ECONFIG,
					  "%s: schemas_and_paths: schema \"%s\" needs a database "
					  "file path", w->base.target, key);
			break;
		}
		if (reserved_schema(key))
			continue; /* main is the target's path */
		w->map_schema[w->nmap] = sl_strdup(key);
		w->map_file[w->nmap] = sl_strdup(json_string_value(v));
		if (!w->map_schema[w->nmap] || !w->map_file[w->nmap]) {
			sl_free(w->map_schema[w->nmap]);
			sl_free(w->map_file[w->nmap]);
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		w->nmap++;
	}
	json_decref(o);
	return rc;
}

int sl_wh_sqlite_open(sl_wh **out, const sl_wh_config *cfg, sl_error *err)
{
	sqlite_wh *w = NULL;
	const char *path = cfg->path && *cfg->path ? cfg->path : "warehouse.db";
	int rc = sl_alloc_zeroed((void **)&w, sizeof *w, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	if (cfg->must_exist && strcmp(path, ":memory:") != 0 && !sl_path_exists(path)) {
		sl_free(w);
		return sl_error_set(err, SL_ENOTFOUND,
				    "no warehouse at %s yet; load it first with `sluice run`", path);
	}
	rc = sl_wh_init_common(&w->base, &sl_wh_sqlite_ops,
			       cfg->schema && *cfg->schema ? cfg->schema : "main", cfg->raw_schema,
			       err);
	if (rc < 0)
		goto fail;
	rc = sl_wh_set_target(&w->base, err, "sqlite %s", path);
	if (rc < 0)
		goto fail;
	w->path = sl_strdup(path);
	if (!w->path) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	w->must_exist = cfg->must_exist;
	if ((rc = read_schema_files(w, cfg, err)) < 0)
		goto fail;
	/* NOMUTEX: a connection serves one thread at a time. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &w->db, flags, NULL) != SQLITE_OK) {
		rc = sl_error_set(err, SL_EDB, "%s: cannot open: %s", w->base.target,
				  w->db ? sqlite3_errmsg(w->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(w->db, 0);
	if (sqlite3_create_function(w->db, "md5", 1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				    sq_md5, NULL, NULL) != SQLITE_OK) {
		rc = sl_error_set(err, SL_EDB, "%s: cannot register md5(): %s", w->base.target,
				  sqlite3_errmsg(w->db));
		goto fail;
	}
	sqlite3_busy_handler(w->db, sq_busy, w);
	/* As many schemas as this SQLite was built to attach. */
	sqlite3_limit(w->db, SQLITE_LIMIT_ATTACHED, 125);
	rc = sq_set_journal(&w->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", err);
	if (rc == 0)
		rc = sq_attach_all(&w->base, err);
	if (rc == 0)
		rc = sq_ensure_schema(&w->base, w->base.raw_schema, err);
	if (rc == 0)
		rc = sq_ensure_schema(&w->base, w->base.schema, err);
	if (rc < 0)
		goto fail;
	*out = &w->base;
	return 0;
fail:
	if (w->base.ops)
		sq_close(&w->base);
	else
		sl_free(w);
	return rc;
}

/* sl_wh_rollback: SQLite rolls a transaction back itself when some
 * statements fail inside it (SQLITE_INTERRUPT, SQLITE_FULL, ...). */
static bool sq_tx_open(sl_wh *wh) { return !sqlite3_get_autocommit(db_of(wh)); }

/* sl_wh_interrupt: sqlite3_interrupt may be called from any thread while
 * the connection is open; the running statement fails SQLITE_INTERRUPT. */
int sl_wh_sqlite_interrupt(sl_wh *wh)
{
	sqlite3_interrupt(db_of(wh));
	return 0;
}
