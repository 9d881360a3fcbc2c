/*
 * s3_multipart.c: the streaming S3 writer. Buffers one part (8 MiB by
 * default); an object that fits in it is one PUT at close, a larger one a
 * multipart upload whose parts are sent as they fill. Only close makes the
 * object visible (single PUT or CompleteMultipartUpload); abort, and a
 * failed completion, send AbortMultipartUpload so no upload is orphaned.
 */
#include "store/s3_int.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	sl_output base;
	s3_store *s;
	char *key;
	char *buf; /* one part, allocated at the first write */
	size_t used;
	char *upload_id;
	char (*etags)[80];
	int nparts, cap_parts;
	uint64_t total;
	bool failed;
	char failure[256]; /* why a write failed, for a later close */
} s3_output;

static const char *label(s3_output *o, char *out, size_t n)
{
	const sl_s3_config *c = &o->s->cfg;
	snprintf(out, n, "s3://%s/%s%s%s", c->bucket, c->prefix, c->prefix[0] ? "/" : "", o->key);
	return out;
}

static int create_upload(s3_output *o, sl_error *err)
{
	sl_buf body = SL_BUF_INIT;
	sl_s3_kv q[1] = {{"uploads", ""}};
	s3_req r = {.method = "POST", .key = o->key, .query = q, .nquery = 1, .out = &body,
		    .xml_answer = true};
	const char *p, *b;
	size_t bl;
	char name[600];
	int rc = sl_s3_request(o->s, &r, err);
	if (rc < 0)
		goto done;
	p = body.data ? body.data : "";
	if (!sl_s3_xml_next(&p, p + body.len, "UploadId", &b, &bl) || bl == 0) {
		rc = sl_error_set(err, SL_ENET,
				  "%s: CreateMultipartUpload answer has no UploadId",
				  label(o, name, sizeof name));
		goto done;
	}
	sl_buf id = SL_BUF_INIT;
	if (sl_s3_xml_unescape(&id, b, bl) < 0) {
		sl_buf_free(&id);
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	o->upload_id = sl_buf_detach(&id);
	sl_debug("s3: %s: multipart upload started", label(o, name, sizeof name));
done:
	sl_buf_free(&body);
	return rc;
}

static int upload_part(s3_output *o, sl_error *err)
{
	char num[16], name[600];
	int rc;

	if (o->nparts >= SL_S3_MAX_PARTS)
		return sl_error_set(err, SL_ELIMIT,
				    "%s: more than %d parts of %zu bytes; raise SLUICE_S3_PART_SIZE",
				    label(o, name, sizeof name), SL_S3_MAX_PARTS, o->s->cfg.part_size);
	if (o->nparts == o->cap_parts) {
		int cap = o->cap_parts ? o->cap_parts * 2 : 16;
		void *e = sl_realloc(o->etags, (size_t)cap * sizeof *o->etags);
		if (!e)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		o->etags = e;
		o->cap_parts = cap;
	}
	snprintf(num, sizeof num, "%d", o->nparts + 1);
	sl_s3_kv q[2] = {{"partNumber", num}, {"uploadId", o->upload_id}};
	s3_req r = {.method = "PUT", .key = o->key, .query = q, .nquery = 2, .body = o->buf,
		    .body_len = o->used};
	if ((rc = sl_s3_request(o->s, &r, err)) < 0)
		return rc;
	if (!r.etag[0])
		return sl_error_set(err, SL_ENET, "%s: part %s was stored without an ETag",
				    label(o, name, sizeof name), num);
	memcpy(o->etags[o->nparts], r.etag, sizeof r.etag);
	o->nparts++;
	o->used = 0;
	return 0;
}

static int complete_upload(s3_output *o, sl_error *err)
{
	sl_buf xml = SL_BUF_INIT, body = SL_BUF_INIT;
	sl_s3_kv q[1] = {{"uploadId", o->upload_id}};
	int rc = sl_buf_puts(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; i < o->nparts && rc == 0; i++)
		rc = sl_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>",
				   i + 1, o->etags[i]);
	if (rc == 0)
		rc = sl_buf_puts(&xml, "</CompleteMultipartUpload>");
	if (rc < 0) {
		sl_buf_free(&xml);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	sl_s3_kv h[1] = {{"Content-Type", "application/xml"}};
	s3_req r = {.method = "POST", .key = o->key, .query = q, .nquery = 1, .headers = h,
		    .nheaders = 1, .body = xml.data, .body_len = xml.len, .out = &body,
		    .xml_answer = true};
	rc = sl_s3_request(o->s, &r, err);
	if (rc == SL_ENOTFOUND && r.attempts > 1) {
		/*
		 * The first completion landed but its answer was lost; the retry
		 * finds the upload gone. The object of the right size is ours.
		 */
		sl_store_entry e;
		sl_error e2 = SL_ERROR_INIT;
		if (o->s->base.ops->stat(&o->s->base, o->key, &e, &e2) == 0 && e.size == o->total) {
			sl_error_clear(err);
			rc = 0;
		}
	}
	sl_buf_free(&xml);
	sl_buf_free(&body);
	return rc;
}

static void abort_upload(s3_output *o)
{
	char name[600];
	sl_error err = SL_ERROR_INIT;
	if (!o->upload_id)
		return;
	sl_s3_kv q[1] = {{"uploadId", o->upload_id}};
	s3_req r = {.method = "DELETE", .key = o->key, .query = q, .nquery = 1};
	int rc = sl_s3_request(o->s, &r, &err);
	if (rc < 0 && rc != SL_ENOTFOUND)
		sl_warn("s3: %s: cannot abort the multipart upload, it stays until a lifecycle "
			"rule or vacuum removes it: %s",
			label(o, name, sizeof name), err.message);
	else
		sl_debug("s3: %s: multipart upload aborted", label(o, name, sizeof name));
	sl_free(o->upload_id);
	o->upload_id = NULL;
}

static void out_free(s3_output *o)
{
	sl_free(o->buf);
	sl_free(o->etags);
	sl_free(o->upload_id);
	sl_free(o->key);
	sl_free(o);
}

static int out_write(sl_output *base, const void *p, size_t n, sl_error *err)
{
	s3_output *o = (s3_output *)base;
	const char *c = p;
	size_t cap = o->s->cfg.part_size;
	int rc;

	if (o->failed)
		return sl_error_set(err, SL_EINVAL, "%s", o->failure);
	if (n && !o->buf) {
		o->buf = sl_malloc(cap);
		if (!o->buf)
			return sl_error_set(err, SL_ENOMEM, "out of memory (S3 part buffer)");
	}
	while (n) {
		/* a full part is sent only when more bytes come, so an object of
		 * exactly one part stays a single PUT */
		if (o->used == cap) {
			rc = o->upload_id ? 0 : create_upload(o, err);
			if (rc == 0)
				rc = upload_part(o, err);
			if (rc < 0) {
				o->failed = true;
				snprintf(o->failure, sizeof o->failure, "an earlier write failed: %s",
					 err ? err->message : "");
				return rc;
			}
		}
		size_t take = cap - o->used < n ? cap - o->used : n;
		memcpy(o->buf + o->used, c, take);
		o->used += take;
		o->total += take;
		c += take;
		n -= take;
	}
	return 0;
}

static int out_close(sl_output *base, sl_error *err)
{
	s3_output *o = (s3_output *)base;
	char name[600];
	int rc;

	if (o->failed) {
		rc = sl_error_set(err, SL_EINVAL, "%s: not written: %s", label(o, name, sizeof name),
				  o->failure);
		abort_upload(o);
		out_free(o);
		return rc;
	}
	if (!o->upload_id) {
		s3_req r = {.method = "PUT", .key = o->key, .body = o->buf ? o->buf : "",
			    .body_len = o->used};
		rc = sl_s3_request(o->s, &r, err);
	} else {
		rc = o->used ? upload_part(o, err) : 0;
		if (rc == 0)
			rc = complete_upload(o, err);
		if (rc < 0) {
			sl_error saved = *err;
			abort_upload(o);
			*err = saved;
		} else {
			sl_debug("s3: %s: %d parts, %llu bytes completed", label(o, name, sizeof name),
				 o->nparts, (unsigned long long)o->total);
		}
	}
	out_free(o);
	return rc;
}

static void out_abort(sl_output *base)
{
	s3_output *o = (s3_output *)base;
	if (!o)
		return;
	abort_upload(o);
	out_free(o);
}

int sl_s3_open_output(sl_store *st, const char *key, sl_output **out, sl_error *err)
{
	s3_output *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = sl_alloc_zeroed((void **)&o, sizeof *o, err)) < 0)
		return rc;
	o->s = (s3_store *)st;
	o->key = sl_strdup(key);
	if (!o->key) {
		sl_free(o);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	o->base.write = out_write;
	o->base.close = out_close;
	o->base.abort = out_abort;
	*out = &o->base;
	return 0;
}

int sl_s3_count_uploads(sl_store *st, const char *prefix, size_t *count, sl_error *err)
{
	s3_store *s = (s3_store *)st;
	sl_buf full = SL_BUF_INIT, body = SL_BUF_INIT;
	int rc = sl_s3_full_key(&s->cfg, prefix ? prefix : "", &full);

	*count = 0;
	if (rc < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_s3_kv q[2] = {{"uploads", ""}, {"prefix", full.data}};
	s3_req r = {.method = "GET", .query = q, .nquery = 2, .out = &body, .xml_answer = true};
	rc = sl_s3_request(s, &r, err);
	if (rc == 0) {
		const char *p = body.data ? body.data : "", *end = p + body.len, *b;
		size_t bl;
		while (sl_s3_xml_next(&p, end, "Upload", &b, &bl))
			(*count)++;
	}
	sl_buf_free(&full);
	sl_buf_free(&body);
	return rc;
}
