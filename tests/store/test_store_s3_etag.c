/* test_store_s3_etag.c: S3 inputs pinned to an ETag (open_input_etag) against a
 * tiny in-process HTTP server standing in for S3: If-Match on the HEAD and on
 * every ranged GET, a 412 or a changed answer ETag turned into "changed while
 * it was read", and unpinned inputs unchanged. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one object the server holds: /bucket/obj. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char body[4096];
static size_t body_len;
static char etag[64];      /* without quotes */
static bool honour_if_match;
static int requests, with_if_match;
static char last_if_match[128];

static struct MHD_Daemon *daemon_;
static sl_store *st;

static void set_object(const char *text, const char *tag)
{
	pthread_mutex_lock(&mu);
	body_len = strlen(text);
	memcpy(body, text, body_len);
	snprintf(etag, sizeof etag, "%s", tag);
	pthread_mutex_unlock(&mu);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *data,
			     size_t n, const char *range)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (status < 300) {
		char q[80];
		snprintf(q, sizeof q, "\"%s\"", etag);
		MHD_add_response_header(r, "ETag", q);
		MHD_add_response_header(r, "Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT");
	}
	if (range)
		MHD_add_response_header(r, "Content-Range", range);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **ctx)
{
	(void)cls; (void)version; (void)upload; (void)upload_size; (void)ctx;
	static const char precond[] = "<?xml version=\"1.0\"?><Error><Code>PreconditionFailed"
				      "</Code><Message>At least one of the pre-conditions you "
				      "specified did not hold</Message></Error>";
	static const char missing[] = "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>";
	enum MHD_Result ret;
	pthread_mutex_lock(&mu);
	requests++;
	const char *im = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
	if (im) {
		with_if_match++;
		snprintf(last_if_match, sizeof last_if_match, "%s", im);
	}
	if (strcmp(url, "/bucket/obj") != 0) {
		ret = reply(c, 404, missing, sizeof missing - 1, NULL);
		goto out;
	}
	char q[80];
	snprintf(q, sizeof q, "\"%s\"", etag);
	if (im && honour_if_match && strcmp(im, q) != 0) {
		ret = reply(c, 412, precond, sizeof precond - 1, NULL);
		goto out;
	}
	const char *rg = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	unsigned long long a, b;
	if (strcmp(method, "GET") == 0 && rg && sscanf(rg, "bytes=%llu-%llu", &a, &b) == 2 &&
	    a <= b && b < body_len) {
		char cr[96];
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%zu", a, b, body_len);
		ret = reply(c, 206, body + a, (size_t)(b - a + 1), cr);
		goto out;
	}
	ret = reply(c, 200, body, body_len, NULL);
out:
	pthread_mutex_unlock(&mu);
	return ret;
}

static int setup_all(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
				   MHD_OPTION_END);
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	char ep[64];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%u", (unsigned)di->port);
	setenv("AWS_ENDPOINT_URL", ep, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	setenv("SLUICE_S3_MAX_RETRIES", "0", 1);
	if (sl_store_open(&st, "s3://bucket", &err) < 0) {
		fprintf(stderr, "open: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	sl_store_free(st);
	MHD_stop_daemon(daemon_);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	set_object("id,name\n1,alpha\n2,beta\n", "etag-one");
	pthread_mutex_lock(&mu);
	honour_if_match = true;
	requests = with_if_match = 0;
	last_if_match[0] = '\0';
	pthread_mutex_unlock(&mu);
	return 0;
}

static void test_pinned_reads_send_if_match_on_every_request(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	char buf[32] = {0};
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-one", &in, &err), 0);
	assert_int_equal(in->size, 23);
	assert_int_equal(in->read_at(in, 0, buf, 7, &err), 0);
	assert_memory_equal(buf, "id,name", 7);
	assert_int_equal(in->read_at(in, 8, buf, 7, &err), 0);
	assert_memory_equal(buf, "1,alpha", 7);
	in->close(in);
	/* HEAD + two ranged GETs, each with the quoted ETag */
	assert_int_equal(requests, 3);
	assert_int_equal(with_if_match, 3);
	assert_string_equal(last_if_match, "\"etag-one\"");
	/* an ETag given with its quotes is the same ETag */
	assert_int_equal(sl_store_open_input_etag(st, "obj", "\"etag-one\"", &in, &err), 0);
	in->close(in);
	assert_string_equal(last_if_match, "\"etag-one\"");
}

static void test_object_replaced_mid_read_is_a_conflict(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	char buf[32];
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-one", &in, &err), 0);
	assert_int_equal(in->read_at(in, 0, buf, 8, &err), 0);
	set_object("id,name\n9,other content\n", "etag-two");
	assert_int_equal(in->read_at(in, 8, buf, 7, &err), SL_ECONFLICT);
	assert_string_equal(err.message,
			    "s3://bucket/obj: the object changed while it was read (it no longer "
			    "has ETag \"etag-one\": 412 Precondition Failed); nothing of this "
			    "version is kept, the next run reads the new one");
	in->close(in);
}

static void test_object_replaced_before_open_is_a_conflict(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	set_object("id,name\n9,other\n", "etag-two");
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-one", &in, &err), SL_ECONFLICT);
	assert_null(in);
	assert_non_null(
		strstr(err.message, "s3://bucket/obj: the object changed while it was read"));
	/* the listing's ETag, now current, opens fine */
	sl_error_clear(&err);
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-two", &in, &err), 0);
	assert_int_equal(in->size, 16);
	in->close(in);
}

static void test_server_ignoring_if_match_is_caught_by_answer_etag(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	char buf[32];
	pthread_mutex_lock(&mu);
	honour_if_match = false;
	pthread_mutex_unlock(&mu);
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-one", &in, &err), 0);
	set_object("id,name\n9,other content\n", "etag-two");
	assert_int_equal(in->read_at(in, 0, buf, 8, &err), SL_ECONFLICT);
	assert_string_equal(err.message,
			    "s3://bucket/obj: the object changed while it was read (ETag "
			    "\"etag-one\" when listed, now \"etag-two\"); nothing of this version "
			    "is kept, the next run reads the new one");
	in->close(in);
	/* and at open */
	sl_error_clear(&err);
	assert_int_equal(sl_store_open_input_etag(st, "obj", "etag-one", &in, &err), SL_ECONFLICT);
	assert_non_null(strstr(err.message, "now \"etag-two\""));
}

static void test_unpinned_input_sends_no_if_match(void **state)
{
	(void)state;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	char buf[32];
	assert_int_equal(sl_store_open_input(st, "obj", &in, &err), 0);
	set_object("id,name\n1,alpha\n2,gamma\n", "etag-two");
	/* without a pin, a replaced object is simply read */
	assert_int_equal(in->read_at(in, 16, buf, 7, &err), 0);
	assert_memory_equal(buf, "2,gamma", 7);
	in->close(in);
	assert_int_equal(with_if_match, 0);
	/* an empty ETag pins nothing either */
	assert_int_equal(sl_store_open_input_etag(st, "obj", "", &in, &err), 0);
	in->close(in);
	assert_int_equal(with_if_match, 0);
	/* a missing object is still not found */
	assert_int_equal(sl_store_open_input_etag(st, "nope", "etag-one", &in, &err),
			 SL_ENOTFOUND);
}

static void test_local_store_has_no_etags_and_opens_plainly(void **state)
{
	(void)state;
	char dir[] = "/tmp/sl-etag-XXXXXX";
	sl_store *local = NULL;
	sl_error err = SL_ERROR_INIT;
	sl_input *in = NULL;
	char buf[4];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sl_store_open(&local, dir, &err), 0);
	assert_null(local->ops->open_input_etag);
	assert_int_equal(sl_store_put(local, "f", "abc", 3, false, &err), 0);
	assert_int_equal(sl_store_open_input_etag(local, "f", "whatever", &in, &err), 0);
	assert_int_equal(in->read_at(in, 0, buf, 3, &err), 0);
	assert_memory_equal(buf, "abc", 3);
	in->close(in);
	assert_int_equal(sl_store_delete(local, "f", &err), 0);
	sl_store_free(local);
	rmdir(dir);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_pinned_reads_send_if_match_on_every_request),
		T(test_object_replaced_mid_read_is_a_conflict),
		T(test_object_replaced_before_open_is_a_conflict),
		T(test_server_ignoring_if_match_is_caught_by_answer_etag),
		T(test_unpinned_input_sends_no_if_match),
		T(test_local_store_has_no_etags_and_opens_plainly),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
