/*
 * s3_xml.c: the few XML shapes S3 answers with (ListBucketResult, Error,
 * InitiateMultipartUploadResult, ListMultipartUploadsResult), read by a
 * small element scanner with entity decoding. Not a general XML parser.
 */
#include "store/s3_int.h"

#include <stdlib.h>
#include <string.h>

static const char *find(const char *p, const char *end, const char *s, size_t n)
{
	if (n == 0)
		return p;
	while (p && (size_t)(end - p) >= n) {
		const char *q = memchr(p, s[0], (size_t)(end - p) - n + 1);
		if (!q)
			return NULL;
		if (memcmp(q, s, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

bool sl_s3_xml_next(const char **p, const char *end, const char *tag, const char **body,
		    size_t *bodylen)
{
	size_t tn = strlen(tag);
	const char *cur = *p;

	while (cur < end) {
		const char *lt = find(cur, end, "<", 1);
		if (!lt || (size_t)(end - lt) < tn + 2)
			return false;
		cur = lt + 1;
		if (memcmp(cur, tag, tn) != 0)
			continue;
		char c = cur[tn];
		if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			continue; /* <KeyCount> is not <Key> */
		const char *gt = memchr(cur, '>', (size_t)(end - cur));
		if (!gt)
			return false;
		if (gt[-1] == '/') { /* <tag/> */
			*body = gt;
			*bodylen = 0;
			*p = gt + 1;
			return true;
		}
		/* closing tag: "</" tag ">" */
		const char *q = gt + 1;
		for (;;) {
			const char *close = find(q, end, "</", 2);
			if (!close || (size_t)(end - close) < tn + 3)
				return false;
			if (memcmp(close + 2, tag, tn) == 0 && close[2 + tn] == '>') {
				*body = gt + 1;
				*bodylen = (size_t)(close - (gt + 1));
				*p = close + 3 + tn;
				return true;
			}
			q = close + 2;
		}
	}
	return false;
}

/* Appends code point cp as UTF-8. */
static int put_utf8(sl_buf *out, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sl_buf_append(out, u, n);
}

int sl_s3_xml_unescape(sl_buf *out, const char *s, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	int rc = sl_buf_reserve(out, n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0;) {
		if (s[i] != '&') {
			rc = sl_buf_putc(out, s[i++]);
			continue;
		}
		const char *semi = memchr(s + i, ';', n - i);
		size_t elen = semi ? (size_t)(semi - (s + i)) + 1 : 0; /* "&...;" */
		bool done = false;
		for (size_t k = 0; semi && k < sizeof named / sizeof named[0]; k++) {
			size_t ln = strlen(named[k].name);
			if (elen == ln + 1 && memcmp(s + i + 1, named[k].name, ln) == 0) {
				rc = sl_buf_putc(out, named[k].c);
				done = true;
				break;
			}
		}
		if (!done && semi && elen > 3 && elen < 12 && s[i + 1] == '#') {
			char num[16];
			bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
			size_t start = hex ? 3 : 2, len = elen - 1 - start;
			memcpy(num, s + i + start, len);
			num[len] = '\0';
			char *e;
			unsigned long cp = strtoul(num, &e, hex ? 16 : 10);
			if (len && *e == '\0' && cp > 0 && cp <= 0x10FFFF) {
				rc = put_utf8(out, cp);
				done = true;
			}
		}
		if (done) {
			i += elen;
		} else {
			rc = sl_buf_putc(out, '&'); /* not an entity we know: keep it */
			i++;
		}
	}
	return rc;
}

/* Decodes the first <tag> in [p, end) into out (NUL-terminated, truncated to outsz). */
static bool text_of(const char *p, const char *end, const char *tag, char *out, size_t outsz)
{
	const char *b;
	size_t bl;
	sl_buf tmp = SL_BUF_INIT;
	if (outsz)
		out[0] = '\0';
	if (!sl_s3_xml_next(&p, end, tag, &b, &bl))
		return false;
	if (sl_s3_xml_unescape(&tmp, b, bl) == 0 && tmp.data && outsz) {
		size_t n = tmp.len < outsz - 1 ? tmp.len : outsz - 1;
		memcpy(out, tmp.data, n);
		out[n] = '\0';
	}
	sl_buf_free(&tmp);
	return true;
}

static void strip_quotes(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

int sl_s3_parse_list(sl_s3_list_page *page, const char *xml, size_t n, const char *strip,
		     sl_error *err)
{
	const char *end = xml + n, *p = xml, *b;
	size_t bl, striplen = strlen(strip);
	sl_buf key = SL_BUF_INIT;
	char num[40], tok[4096];
	int rc = 0;

	if (!find(xml, end, "<ListBucketResult", 17))
		return sl_error_set(err, SL_EFORMAT, "not a ListBucketResult answer");
	page->truncated = text_of(xml, end, "IsTruncated", num, sizeof num) &&
			  strcmp(num, "true") == 0;
	sl_free(page->next_token);
	page->next_token = NULL;
	if (text_of(xml, end, "NextContinuationToken", tok, sizeof tok) && tok[0]) {
		page->next_token = sl_strdup(tok);
		if (!page->next_token)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	while (sl_s3_xml_next(&p, end, "Contents", &b, &bl)) {
		const char *ce = b + bl, *kb;
		size_t kl;
		const char *kp = b;
		if (!sl_s3_xml_next(&kp, ce, "Key", &kb, &kl)) {
			rc = sl_error_set(err, SL_EFORMAT, "list answer: <Contents> without <Key>");
			goto done;
		}
		sl_buf_reset(&key);
		if ((rc = sl_s3_xml_unescape(&key, kb, kl)) < 0)
			goto nomem;
		if (!key.data || key.len < striplen || memcmp(key.data, strip, striplen) != 0)
			continue; /* outside the store's prefix */
		if (page->n == page->cap) {
			size_t cap = page->cap ? page->cap * 2 : 64;
			sl_store_entry *e = sl_realloc(page->entries, cap * sizeof *e);
			if (!e)
				goto nomem;
			page->entries = e;
			page->cap = cap;
		}
		sl_store_entry *e = &page->entries[page->n];
		memset(e, 0, sizeof *e);
		e->key = sl_strdup(key.data + striplen);
		if (!e->key)
			goto nomem;
		page->n++;
		int64_t v = 0;
		if (text_of(b, ce, "Size", num, sizeof num) &&
		    (sl_parse_int64(num, strlen(num), &v) < 0 || v < 0)) {
			rc = sl_error_set(err, SL_EFORMAT, "list answer: bad <Size> '%s' for %s", num,
					  e->key);
			goto done;
		}
		e->size = (uint64_t)v;
		if (text_of(b, ce, "LastModified", num, sizeof num) &&
		    sl_timestamp_parse(num, strlen(num), &e->mtime_micros) < 0) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "list answer: bad <LastModified> '%s' for %s", num, e->key);
			goto done;
		}
		text_of(b, ce, "ETag", e->etag, sizeof e->etag);
		strip_quotes(e->etag);
	}
	goto done;
nomem:
	rc = sl_error_set(err, SL_ENOMEM, "out of memory");
done:
	sl_buf_free(&key);
	return rc;
}

void sl_s3_list_page_free(sl_s3_list_page *page)
{
	for (size_t i = 0; i < page->n; i++)
		sl_free(page->entries[i].key);
	sl_free(page->entries);
	sl_free(page->next_token);
	memset(page, 0, sizeof *page);
}

void sl_s3_parse_error(const char *xml, size_t n, char *code, size_t codesz, char *msg,
		       size_t msgsz)
{
	const char *end = xml + n, *p = xml, *b;
	size_t bl;
	if (codesz)
		code[0] = '\0';
	if (msgsz)
		msg[0] = '\0';
	if (!xml || !sl_s3_xml_next(&p, end, "Error", &b, &bl))
		return;
	text_of(b, b + bl, "Code", code, codesz);
	text_of(b, b + bl, "Message", msg, msgsz);
	/* one line: servers may pretty-print */
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}
