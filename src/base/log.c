/*
 * log.c: leveled logging to stderr as text or JSON lines, with every
 * registered secret redacted before a line leaves the process.
 */
#include "base.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_SECRETS 64

static sl_log_level cur_level = SL_LOG_INFO;
static sl_log_format cur_format = SL_LOG_TEXT;
static char *secrets[MAX_SECRETS];
static int nsecrets;
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

void sl_log_add_secret(const char *secret)
{
	/* Very short values would redact ordinary words; they are not secrets. */
	if (!secret || strlen(secret) < 4)
		return;
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			goto out;
	if (nsecrets < MAX_SECRETS) {
		char *d = sl_strdup(secret);
		if (d)
			secrets[nsecrets++] = d;
	}
out:
	pthread_mutex_unlock(&log_mu);
}

void sl_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < nsecrets; i++)
		sl_free(secrets[i]);
	nsecrets = 0;
	pthread_mutex_unlock(&log_mu);
}

static void redact_locked(char *out, size_t outsz, const char *s)
{
	size_t o = 0;
	if (outsz == 0)
		return;
	while (*s && o + 1 < outsz) {
		int hit = -1;
		for (int i = 0; i < nsecrets; i++) {
			size_t n = strlen(secrets[i]);
			if (strncmp(s, secrets[i], n) == 0) {
				hit = i;
				break;
			}
		}
		if (hit >= 0) {
			for (const char *r = "***"; *r && o + 1 < outsz; r++)
				out[o++] = *r;
			s += strlen(secrets[hit]);
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
}

void sl_log_redact(char *out, size_t outsz, const char *s)
{
	pthread_mutex_lock(&log_mu);
	redact_locked(out, outsz, s);
	pthread_mutex_unlock(&log_mu);
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
