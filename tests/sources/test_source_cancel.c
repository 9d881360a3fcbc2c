/*
 * test_source_cancel.c: an extraction stuck on a server that never answers
 * ends when its cancellation token's deadline passes — an http source
 * against a socket that accepts (the kernel completes the handshake) and
 * never responds — with SL_ETIMEOUT and "timed out", not after the
 * transfer's own two-minute stall limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sources/http_int.h"

/* A listening socket nobody accepts on: connections complete, requests
 * are never answered. Returns the fd; *port gets its port. */
static int silent_server(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static sl_http_opts opts_of_table;

static void http_table(sl_source *src, sl_source_table *t, const char *url)
{
	sl_http_opts *o = &opts_of_table;
	memset(src, 0, sizeof *src);
	memset(t, 0, sizeof *t);
	memset(o, 0, sizeof *o);
	t->opts = o;
	t->name = "rates";
	t->line = 4;
	o->url = (char *)url;
	o->method = "GET";
	o->flatten = "columns";
	o->on_bad_page = "quarantine";
	o->max_retries = 5;
	o->max_pages = 100;
	o->max_retry_micros = 600 * SL_MICROS_PER_SEC;
	src->name = "api";
	src->kind = sl_source_kind_find("http");
	src->file = "sources/api.yml";
	src->ntables = 1;
	src->tables = t;
}

static void test_http_source_stalled_server_times_out(void **state)
{
	(void)state;
	int port;
	int fd = silent_server(&port);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/rates", port);
	sl_source src;
	sl_source_table t;
	http_table(&src, &t, url);
	sl_cancel token;
	sl_cancel_init(&token, NULL);
	sl_cancel_set_timeout(&token, 0.5);
	sl_extract_opts opts = {.project_dir = ".", .cancel = &token};
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	/* Opening reads ahead for inference: that is where it waits. */
	int rc = sl_extractor_open(&x, &src, &t, &opts, &err);
	sl_extractor_close(x);
	close(fd);
	assert_int_equal(rc, SL_ETIMEOUT);
	assert_string_equal(err.message, "http source api.rates: timed out");
}

static void test_http_source_cancel_request_stops_it(void **state)
{
	(void)state;
	int port;
	int fd = silent_server(&port);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/rates", port);
	sl_source src;
	sl_source_table t;
	http_table(&src, &t, url);
	sl_cancel run, task;
	sl_cancel_init(&run, NULL);
	sl_cancel_init(&task, &run);
	sl_cancel_request(&run); /* Ctrl-C before the task got going */
	sl_extract_opts opts = {.project_dir = ".", .cancel = &task};
	sl_extractor *x = NULL;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_extractor_open(&x, &src, &t, &opts, &err);
	sl_extractor_close(x);
	close(fd);
	assert_int_equal(rc, SL_ECANCELLED);
	assert_string_equal(err.message, "http source api.rates: cancelled");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_source_stalled_server_times_out),
		cmocka_unit_test(test_http_source_cancel_request_stops_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
