/*
 * log.c: leveled logging to stderr as text or JSON lines, with every
 * registered secret redacted before a line leaves the process.
 */
#include "base.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Each secret is matched as registered and in the forms it takes in a URL. */
/* A trailing fragment this long that begins a secret is redacted too. */
#define SECRET_FRAGMENT_MIN 4

static sl_log_level cur_level = SL_LOG_INFO;
static sl_log_format cur_format = SL_LOG_TEXT;
/* Longest first, so a secret that begins with another is replaced whole. */
typedef struct {
	char *text;
	size_t len;
} secret_entry;
static secret_entry *secrets;
static int nsecrets, secrets_cap;
/* A secret could not be registered (out of memory): text is withheld. */
#define WITHHELD "[text withheld: a secret could not be registered for redaction]"
static bool secrets_lost;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void sl_log_set_level(sl_log_level level) { cur_level = level; }
sl_log_level sl_log_get_level(void) { return cur_level; }
void sl_log_set_format(sl_log_format format) { cur_format = format; }

int sl_log_level_parse(const char *s)
{
	for (int i = 0; i <= SL_LOG_OFF; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return SL_LOG_WARN;
	return -1;
}

static void add_locked(const char *secret)
{
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i].text, secret) == 0)
			return;
	if (nsecrets == secrets_cap) {
		int cap = secrets_cap ? secrets_cap * 2 : 32;
		secret_entry *grown = sl_realloc(secrets, (size_t)cap * sizeof *grown);
		if (!grown) {
			secrets_lost = true;
			return;
		}
		secrets = grown;
		secrets_cap = cap;
	}
	char *d = sl_strdup(secret);
	if (!d) {
		secrets_lost = true;
		return;
	}
	size_t len = strlen(d);
	int at = nsecrets;
	while (at > 0 && secrets[at - 1].len < len) {
		secrets[at] = secrets[at - 1];
		at--;
	}
	secrets[at] = (secret_entry){d, len};
	nsecrets++;
}

/*
 * secret percent-encoded as a URL query value: every byte but the
 * unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX with upper or lower case
 * hex digits, a space as "+" or "%20" (libcurl writes lower case and "+";
 * browsers and most servers upper case and "%20"). NULL when out of memory.
 */
static char *url_encoded(const char *secret, bool upper, bool plus)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *out = sl_malloc(strlen(secret) * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)secret; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else if (*p == ' ' && plus) {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/*
 * secret as it appears inside a JSON string that a server echoes: form 0
 * escapes '"', '\\' and control bytes; form 1 also '/' as "\/" (PHP's
 * default); forms 2 and 3 every byte but letters and digits as \u00xx,
 * lower or upper case hex. NULL when out of memory.
 */
static char *json_escaped(const char *secret, int form)
{
	const char *hex = form == 3 ? "0123456789ABCDEF" : "0123456789abcdef";
	char *out = sl_malloc(strlen(secret) * 6 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)secret; *p; p++) {
		bool uxxxx = form >= 2 ? !isalnum(*p) && *p < 0x80 : *p < 0x20;
		if (uxxxx) {
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else if (*p == '"' || *p == '\\' || (*p == '/' && form == 1)) {
			*o++ = '\\';
			*o++ = (char)*p;
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

void sl_log_add_secret(const char *secret)
{
	/* Very short values would redact ordinary words; they are not secrets. */
	if (!secret || strlen(secret) < SECRET_FRAGMENT_MIN)
		return;
	pthread_mutex_lock(&log_mu);
	add_locked(secret);
	for (int form = 0; form < 8; form++) {
		char *e = form < 4 ? url_encoded(secret, form & 1, form & 2)
				   : json_escaped(secret, form - 4);
		if (e)
			add_locked(e);
		else
			secrets_lost = true;
		sl_free(e);
	}
	pthread_mutex_unlock(&log_mu);
}

void sl_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < nsecrets; i++)
		sl_free(secrets[i].text);
	sl_free(secrets);
	secrets = NULL;
	nsecrets = secrets_cap = 0;
	secrets_lost = false;
	pthread_mutex_unlock(&log_mu);
}

/* The registered secret starting at s[0..n), or -1. */
static int secret_at(const char *s, size_t n)
{
	for (int i = 0; i < nsecrets; i++) {
		size_t len = secrets[i].len;
		if (len <= n && s[0] == secrets[i].text[0] && memcmp(s, secrets[i].text, len) == 0)
			return i;
	}
	return -1;
}

/*
 * Appends s[0..n) to out with every registered secret replaced by "***",
 * stopping at max bytes of output (0: no limit). Returns the number of
 * input bytes consumed.
 */
static size_t redact_into(sl_buf *out, const char *s, size_t n, size_t max)
{
	size_t i = 0;
	if (secrets_lost) {
		sl_buf_puts(out, WITHHELD);
		return n;
	}
	while (i < n && (!max || out->len < max)) {
		int hit = secret_at(s + i, n - i);
		if (hit >= 0) {
			sl_buf_puts(out, "***");
			i += secrets[hit].len;
		} else {
			sl_buf_putc(out, s[i++]);
		}
	}
	return i;
}

/* Length of the longest tail of s[0..n) (at least SECRET_FRAGMENT_MIN
 * bytes) that is the beginning of a registered secret, or 0. */
static size_t secret_fragment_at_end(const char *s, size_t n)
{
	size_t best = 0;
	for (int i = 0; i < nsecrets; i++) {
		size_t len = secrets[i].len;
		for (size_t k = len - 1 < n ? len - 1 : n; k >= SECRET_FRAGMENT_MIN && k > best; k--)
			if (memcmp(s + n - k, secrets[i].text, k) == 0) {
				best = k;
				break;
			}
	}
	return best;
}

/* Fixed-size redaction for log lines (never allocates). */
static void redact_locked(char *out, size_t outsz, const char *s)
{
	size_t o = 0, i = 0, n = strlen(s);
	if (outsz == 0)
		return;
	if (secrets_lost) {
		snprintf(out, outsz, "%s", WITHHELD);
		return;
	}
	while (i < n && o + 1 < outsz) {
		int hit = secret_at(s + i, n - i);
		if (hit >= 0) {
			for (const char *r = "***"; *r && o + 1 < outsz; r++)
				out[o++] = *r;
			i += secrets[hit].len;
		} else {
			out[o++] = s[i++];
		}
	}
	size_t frag = secret_fragment_at_end(out, o);
	if (frag) {
		o -= frag;
		for (const char *r = "***"; *r && o + 1 < outsz; r++)
			out[o++] = *r;
	}
	out[o] = '\0';
}

void sl_log_redact(char *out, size_t outsz, const char *s)
{
	pthread_mutex_lock(&log_mu);
	redact_locked(out, outsz, s);
	pthread_mutex_unlock(&log_mu);
}

char *sl_log_redact_dup(const char *s)
{
	sl_buf b = SL_BUF_INIT;
	pthread_mutex_lock(&log_mu);
	redact_into(&b, s, strlen(s), 0);
	pthread_mutex_unlock(&log_mu);
	if (sl_buf_reserve(&b, 0) < 0) {
		sl_buf_free(&b);
		return NULL;
	}
	return sl_buf_detach(&b);
}

int sl_log_redact_truncate(sl_buf *out, const char *s, size_t n, size_t max)
{
	pthread_mutex_lock(&log_mu);
	/* Redact the whole text first: a secret that crosses the cut is then
	 * already "***". What is left at the cut (text that was itself cut
	 * before it reached us) loses a trailing secret prefix. */
	size_t start = out->len;
	size_t used = redact_into(out, s, n, max ? start + max : 0);
	bool cut = used < n;
	size_t frag = secret_fragment_at_end(out->data ? out->data + start : "", out->len - start);
	if (frag) {
		out->len -= frag;
		out->data[out->len] = '\0';
		sl_buf_puts(out, "***");
	}
	pthread_mutex_unlock(&log_mu);
	if (cut)
		sl_buf_puts(out, "...");
	return sl_buf_reserve(out, 0);
}

bool sl_log_has_secret(const char *s, size_t n)
{
	bool found = false;
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < n && !found; i++)
		found = secret_at(s + i, n - i) >= 0;
	pthread_mutex_unlock(&log_mu);
	return found;
}

static void emit(sl_log_level level, const char *msg, va_list *kv)
{
	char ts[48], clean[4096];
	sl_timestamp_format_iso(sl_now_micros(), ts);

	pthread_mutex_lock(&log_mu);
	redact_locked(clean, sizeof clean, msg);
	if (cur_format == SL_LOG_JSON) {
		sl_buf b = SL_BUF_INIT;
		sl_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
			      level_names[level]);
		sl_buf_put_json_string(&b, clean, strlen(clean));
		if (kv) {
			const char *k;
			while ((k = va_arg(*kv, const char *)) != NULL) {
				const char *v = va_arg(*kv, const char *);
				char cv[2048];
				if (!v)
					continue; /* a field without a value is left out */
				redact_locked(cv, sizeof cv, v ? v : "");
				sl_buf_putc(&b, ',');
				sl_buf_put_json_string(&b, k, strlen(k));
				sl_buf_putc(&b, ':');
				sl_buf_put_json_string(&b, cv, strlen(cv));
			}
		}
		sl_buf_putc(&b, '}');
		if (b.data)
			fprintf(stderr, "%s\n", b.data);
		sl_buf_free(&b);
	} else {
		fprintf(stderr, "%s %-5s %s", ts, level_names[level], clean);
		if (kv) {
			const char *k;
			while ((k = va_arg(*kv, const char *)) != NULL) {
				const char *v = va_arg(*kv, const char *);
				char cv[2048];
				if (!v)
					continue; /* a field without a value is left out */
				redact_locked(cv, sizeof cv, v ? v : "");
				fprintf(stderr, " %s=%s", k, cv);
			}
		}
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&log_mu);
}

void sl_log(sl_log_level level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	if (level < cur_level || level >= SL_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(level, msg, NULL);
}

void sl_log_kv(sl_log_level level, const char *msg, ...)
{
	va_list ap;
	if (level < cur_level || level >= SL_LOG_OFF)
		return;
	va_start(ap, msg);
	emit(level, msg, &ap);
	va_end(ap);
}
