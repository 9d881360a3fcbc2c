/*
 * s3_sign.c: AWS Signature Version 4 on libcrypto: URI encoding, the
 * canonical request, the string to sign, the derived signing key and the
 * Authorization header. Independent of the transport and of S3 itself.
 */
#include "store/s3_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[d[i] >> 4];
		out[2 * i + 1] = hexdig[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void sl_s3_sha256_hex(const void *data, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32) {
		hex[0] = '\0';
		return;
	}
	to_hex(md, 32, hex);
}

static int hmac256(const void *key, size_t keylen, const char *msg, size_t n,
		   unsigned char out[32])
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, out, &len) ||
	    len != 32)
		return SL_EINTERNAL;
	return 0;
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int sl_s3_uri_encode(sl_buf *out, const char *s, size_t n, bool keep_slash)
{
	int rc = sl_buf_reserve(out, n * 3);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			out->data[out->len++] = (char)c;
		} else {
			/* SigV4 wants upper-case hex digits in escapes */
			out->data[out->len++] = '%';
			out->data[out->len++] = "0123456789ABCDEF"[c >> 4];
			out->data[out->len++] = "0123456789ABCDEF"[c & 15];
		}
	}
	out->data[out->len] = '\0';
	return 0;
}

typedef struct {
	char *name;
	char *value;
} enc_pair;

static int cmp_pair(const void *a, const void *b)
{
	const enc_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

int sl_s3_canonical_query(const sl_s3_kv *q, size_t n, sl_buf *out)
{
	int rc = 0;
	enc_pair *pairs = NULL;
	sl_buf tmp = SL_BUF_INIT;

	if (n == 0)
		return sl_buf_append(out, "", 0);
	pairs = sl_calloc(n, sizeof *pairs);
	if (!pairs)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v = q[i].value ? q[i].value : "";
		sl_buf_reset(&tmp);
		if ((rc = sl_s3_uri_encode(&tmp, q[i].name, strlen(q[i].name), false)) < 0)
			goto done;
		pairs[i].name = sl_strdup(tmp.data);
		sl_buf_reset(&tmp);
		if ((rc = sl_s3_uri_encode(&tmp, v, strlen(v), false)) < 0)
			goto done;
		pairs[i].value = sl_strdup(tmp.data);
		if (!pairs[i].name || !pairs[i].value) {
			rc = SL_ENOMEM;
			goto done;
		}
	}
	/* sorted by encoded name, then value, byte order */
	qsort(pairs, n, sizeof *pairs, cmp_pair);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sl_buf_printf(out, "%s%s=%s", i ? "&" : "", pairs[i].name, pairs[i].value);
done:
	for (size_t i = 0; i < n; i++) {
		sl_free(pairs[i].name);
		sl_free(pairs[i].value);
	}
	sl_free(pairs);
	sl_buf_free(&tmp);
	return rc;
}

typedef struct {
	char *name;       /* lower case */
	const char *value;
} hdr;

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const hdr *)a)->name, ((const hdr *)b)->name);
}

/* Appends a header value trimmed, with runs of spaces folded to one. */
static int put_trimmed(sl_buf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i] == '\t' ? ' ' : v[i];
		if (c == ' ') {
			if (space)
				continue;
			space = true;
		} else {
			space = false;
		}
		int rc = sl_buf_putc(b, c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sl_s3_sign(const sl_s3_sign_req *r, char *auth, size_t authsz, sl_buf *canonical)
{
	sl_buf creq = SL_BUF_INIT, signed_names = SL_BUF_INIT, sts = SL_BUF_INIT,
	       kbuf = SL_BUF_INIT;
	hdr *h = NULL;
	int rc = 0;
	char date[9], creq_hash[65], sig[65];
	unsigned char k[32], k2[32];

	if (!r->amz_date || strlen(r->amz_date) != 16 || !r->secret_key || !r->access_key)
		return SL_EINVAL;
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';

	h = sl_calloc(r->nheaders ? r->nheaders : 1, sizeof *h);
	if (!h)
		return SL_ENOMEM;
	for (size_t i = 0; i < r->nheaders; i++) {
		h[i].name = sl_strdup(r->headers[i].name);
		if (!h[i].name) {
			rc = SL_ENOMEM;
			goto done;
		}
		for (char *c = h[i].name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		h[i].value = r->headers[i].value ? r->headers[i].value : "";
	}
	qsort(h, r->nheaders, sizeof *h, cmp_hdr);

	/* 1. canonical request */
	rc = sl_buf_printf(&creq, "%s\n%s\n", r->method, r->path && *r->path ? r->path : "/");
	if (rc == 0)
		rc = sl_s3_canonical_query(r->query, r->nquery, &creq);
	if (rc == 0)
		rc = sl_buf_putc(&creq, '\n');
	for (size_t i = 0; i < r->nheaders && rc == 0; i++) {
		rc = sl_buf_printf(&creq, "%s:", h[i].name);
		if (rc == 0)
			rc = put_trimmed(&creq, h[i].value);
		if (rc == 0)
			rc = sl_buf_putc(&creq, '\n');
		if (rc == 0)
			rc = sl_buf_printf(&signed_names, "%s%s", i ? ";" : "", h[i].name);
	}
	if (rc == 0)
		rc = sl_buf_printf(&creq, "\n%s\n%s", signed_names.data ? signed_names.data : "",
				   r->payload_hash ? r->payload_hash : SL_S3_EMPTY_SHA256);
	if (rc < 0)
		goto done;
	if (canonical && (rc = sl_buf_append(canonical, creq.data, creq.len)) < 0)
		goto done;

	/* 2. string to sign */
	sl_s3_sha256_hex(creq.data, creq.len, creq_hash);
	rc = sl_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date,
			   date, r->region, r->service, creq_hash);
	if (rc < 0)
		goto done;

	/* 3. signing key: HMAC chain from "AWS4" + secret over date, region, service */
	if ((rc = sl_buf_printf(&kbuf, "AWS4%s", r->secret_key)) < 0)
		goto done;
	if ((rc = hmac256(kbuf.data, kbuf.len, date, strlen(date), k)) < 0 ||
	    (rc = hmac256(k, 32, r->region, strlen(r->region), k2)) < 0 ||
	    (rc = hmac256(k2, 32, r->service, strlen(r->service), k)) < 0 ||
	    (rc = hmac256(k, 32, "aws4_request", 12, k2)) < 0 ||
	    (rc = hmac256(k2, 32, sts.data, sts.len, k)) < 0)
		goto done;
	to_hex(k, 32, sig);

	/* 4. the header */
	int w = snprintf(auth, authsz,
			 "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,"
			 "SignedHeaders=%s,Signature=%s",
			 r->access_key, date, r->region, r->service,
			 signed_names.data ? signed_names.data : "", sig);
	if (w < 0 || (size_t)w >= authsz)
		rc = SL_EINVAL;
done:
	/* the derived key and the secret-bearing buffer are wiped, not just freed */
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(k2, sizeof k2);
	if (kbuf.data)
		OPENSSL_cleanse(kbuf.data, kbuf.len);
	for (size_t i = 0; i < r->nheaders; i++)
		sl_free(h[i].name);
	sl_free(h);
	sl_buf_free(&creq);
	sl_buf_free(&signed_names);
	sl_buf_free(&sts);
	sl_buf_free(&kbuf);
	return rc < 0 ? rc : 0;
}
