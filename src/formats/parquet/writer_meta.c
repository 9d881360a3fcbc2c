/*
 * writer_meta.c: the writer's statistics: Parquet Statistics bytes for a
 * column chunk (type-defined sort order, truncated long strings) and the
 * per-file statistics rendered as JSON for lake commit records.
 */
#include "formats/parquet/parquet_write_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest string statistic stored in the footer, in bytes. */
#define STAT_MAX_BYTES 64
/* Longest string statistic in file statistics, in characters. */
#define JSON_STAT_MAX_CHARS 32

static void le_bytes(uint64_t v, int n, uint8_t *out)
{
	for (int i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

void pq_stats_encode(const pq_col *c, const pq_minmax *m, pq_stat_bytes *out)
{
	memset(out, 0, sizeof *out);
	out->exact_min = out->exact_max = true;
	if (!m->has)
		return;
	out->has = true;
	switch (c->kind) {
	case PK_BOOL:
		out->min[0] = (uint8_t)m->min.i;
		out->max[0] = (uint8_t)m->max.i;
		out->min_len = out->max_len = 1;
		break;
	case PK_I32:
	case PK_I32_DEC:
		le_bytes((uint64_t)(uint32_t)(int32_t)m->min.i, 4, out->min);
		le_bytes((uint64_t)(uint32_t)(int32_t)m->max.i, 4, out->max);
		out->min_len = out->max_len = 4;
		break;
	case PK_I64:
	case PK_I64_DEC:
		le_bytes((uint64_t)m->min.i, 8, out->min);
		le_bytes((uint64_t)m->max.i, 8, out->max);
		out->min_len = out->max_len = 8;
		break;
	case PK_F64: {
		/* a zero bound is written as -0.0 (min) and +0.0 (max) */
		double mn = m->min.f == 0 ? -0.0 : m->min.f;
		double mx = m->max.f == 0 ? 0.0 : m->max.f;
		uint64_t u;
		memcpy(&u, &mn, 8);
		le_bytes(u, 8, out->min);
		memcpy(&u, &mx, 8);
		le_bytes(u, 8, out->max);
		out->min_len = out->max_len = 8;
		break;
	}
	case PK_FLBA_DEC:
		pq_decimal_to_be(m->min.d, c->width, out->min);
		pq_decimal_to_be(m->max.d, c->width, out->max);
		out->min_len = out->max_len = (size_t)c->width;
		break;
	case PK_BYTES: {
		size_t n = m->smin.len;
		if (n > STAT_MAX_BYTES) {
			/* a prefix is a lower bound */
			n = STAT_MAX_BYTES;
			out->exact_min = false;
		}
		if (n)
			memcpy(out->min, m->smin.data, n);
		out->min_len = n;
		n = m->smax.len;
		if (n <= STAT_MAX_BYTES) {
			if (n)
				memcpy(out->max, m->smax.data, n);
		} else {
			/* a prefix with its last byte raised is an upper bound */
			memcpy(out->max, m->smax.data, STAT_MAX_BYTES);
			n = STAT_MAX_BYTES;
			while (n > 0 && out->max[n - 1] == 0xFF)
				n--;
			if (n == 0) {
				out->has = false;
				return;
			}
			out->max[n - 1]++;
			out->exact_max = false;
		}
		out->max_len = n;
		break;
	}
	}
}

/* Length of the first max_chars UTF-8 characters of s[0..n). */
static size_t utf8_prefix(const char *s, size_t n, size_t max_chars, bool *cut)
{
	size_t i = 0, chars = 0;
	while (i < n && chars < max_chars) {
		unsigned char ch = (unsigned char)s[i];
		size_t len = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
		if (i + len > n)
			len = n - i;
		i += len;
		chars++;
	}
	*cut = i < n;
	return i;
}

/* Renders one bound; returns 1 when it cannot be rendered correctly. */
static int render(const pq_col *c, const pq_minmax *m, bool is_max, sl_buf *b)
{
	char tmp[64];
	int rc;
	switch (c->type.id) {
	case SL_BOOL:
		rc = sl_buf_puts(b, (is_max ? m->max.i : m->min.i) ? "true" : "false");
		break;
	case SL_INT32:
	case SL_INT64:
		rc = sl_buf_printf(b, "%lld", (long long)(is_max ? m->max.i : m->min.i));
		break;
	case SL_FLOAT64: {
		double x = is_max ? m->max.f : m->min.f;
		if (!isfinite(x))
			return 1;
		int n = 0;
		for (int prec = 15; prec <= 17; prec++) {
			n = snprintf(tmp, sizeof tmp, "%.*g", prec, x);
			if (strtod(tmp, NULL) == x)
				break;
		}
		rc = sl_buf_append(b, tmp, (size_t)n);
		break;
	}
	case SL_DECIMAL: {
		sl_i128 v = c->kind == PK_FLBA_DEC ? (is_max ? m->max.d : m->min.d)
						   : (sl_i128)(is_max ? m->max.i : m->min.i);
		int n = sl_decimal_format(v, c->type.scale, tmp);
		rc = sl_buf_append(b, tmp, (size_t)n);
		break;
	}
	case SL_DATE: {
		int n = sl_date_format((int32_t)(is_max ? m->max.i : m->min.i), tmp);
		rc = sl_buf_printf(b, "\"%.*s\"", n, tmp);
		break;
	}
	case SL_TIMESTAMP:
		sl_timestamp_format_iso6(is_max ? m->max.i : m->min.i, tmp);
		rc = sl_buf_printf(b, "\"%s\"", tmp);
		break;
	case SL_STRING: {
		const sl_buf *s = is_max ? &m->smax : &m->smin;
		bool cut;
		size_t n = utf8_prefix(s->data ? s->data : "", s->len, JSON_STAT_MAX_CHARS, &cut);
		if (!cut) {
			rc = sl_buf_put_json_string(b, s->data ? s->data : "", n);
			break;
		}
		if (!is_max) { /* a prefix is still a lower bound */
			rc = sl_buf_put_json_string(b, s->data, n);
			break;
		}
		/* an upper bound: raise the last character, ASCII only */
		char t[4 * JSON_STAT_MAX_CHARS];
		memcpy(t, s->data, n);
		unsigned char last = (unsigned char)t[n - 1];
		if (last >= 0x7E)
			return 1;
		t[n - 1] = (char)(last + 1);
		rc = sl_buf_put_json_string(b, t, n);
		break;
	}
	default: return 1;
	}
	return rc < 0 ? rc : 0;
}

int pq_file_col_stats(const pq_col *c, sl_parquet_col_stats *s)
{
	const pq_minmax *m = &c->fstat;
	s->null_count = c->file_nulls;
	s->has_minmax = false;
	if (!m->has || m->nan || c->fstat_invalid)
		return 0;
	sl_buf lo = SL_BUF_INIT, hi = SL_BUF_INIT;
	int r1 = render(c, m, false, &lo);
	int r2 = r1 ? r1 : render(c, m, true, &hi);
	if (r1 < 0 || r2 < 0 || r1 || r2) {
		sl_buf_free(&lo);
		sl_buf_free(&hi);
		return r1 < 0 ? r1 : r2 < 0 ? r2 : 0;
	}
	s->min_json = sl_buf_detach(&lo);
	s->max_json = sl_buf_detach(&hi);
	s->has_minmax = true;
	return 0;
}

void sl_parquet_file_stats_free(sl_parquet_file_stats *s)
{
	if (!s)
		return;
	if (s->cols)
		for (int i = 0; i < s->ncols; i++) {
			sl_free(s->cols[i].min_json);
			sl_free(s->cols[i].max_json);
		}
	sl_free(s->cols);
	memset(s, 0, sizeof *s);
}
