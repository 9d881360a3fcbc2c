/* test_serve.c: `docs serve`'s HTTP server — files of target/docs/ with
 * their content types, GET and HEAD only, nothing outside the folder, and
 * a port in use reported as such. Requests go over a raw socket so that
 * paths reach the server exactly as written. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/unit_tmp.h"
#include "docs/docs.h"

typedef struct server {
	pthread_t thread;
	sl_cancel cancel;
	char target[512];
	int port;
	int rc;
	sl_error err;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready, done;
} server;

static void on_ready(void *ud, const char *url)
{
	server *s = ud;
	const char *colon = strrchr(url, ':');
	pthread_mutex_lock(&s->mu);
	s->port = atoi(colon + 1);
	s->ready = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *serve_main(void *arg)
{
	server *s = arg;
	s->rc = sl_docs_serve(s->target, NULL, s->port, &s->cancel, on_ready, s, &s->err);
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void put_file(const char *rel, const char *text)
{
	char path[600];
	sl_error err = SL_ERROR_INIT;
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	char *slash = strrchr(path, '/');
	*slash = 0;
	assert_int_equal(sl_mkdirs(path, &err), 0);
	*slash = '/';
	assert_int_equal(sl_file_write_atomic(path, text, strlen(text), &err), 0);
}

static void server_start(server *s, int port)
{
	memset(s, 0, sizeof *s);
	snprintf(s->target, sizeof s->target, "%s/target", tmp);
	s->port = port;
	sl_cancel_init(&s->cancel, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_main, s), 0);
	pthread_mutex_lock(&s->mu);
	while (!s->ready && !s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

static int server_stop(server *s)
{
	sl_cancel_request(&s->cancel);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	return s->rc;
}

/* Sends a raw request; returns the whole response (sl_free). */
static char *http(int port, const char *request)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	sl_buf b = SL_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		sl_buf_append(&b, chunk, (size_t)n);
	close(fd);
	sl_buf_putc(&b, 0);
	return sl_buf_detach(&b);
}

static char *get(int port, const char *method, const char *path)
{
	char req[1024];
	snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Length: 0\r\n\r\n", method, path);
	return http(port, req);
}

static void expect(int port, const char *method, const char *path, const char *status,
		   const char *has)
{
	char *r = get(port, method, path);
	if (!sl_str_starts_with(r, status) || (has && !strstr(r, has)))
		fail_msg("%s %s: wanted %s with %s, got:\n%s", method, path, status,
			 has ? has : "-", r);
	sl_free(r);
}

static void test_serve_files_read_only_and_inside_docs(void **state)
{
	server s;
	put_file("target/docs/index.html", "<!DOCTYPE html><p>the site</p>");
	put_file("target/docs/extra/style.css", "p{}");
	put_file("target/docs/extra/index.html", "sub index");
	put_file("target/manifest.json", "{\"secret\": 1}");
	put_file("secret.txt", "outside");
	char link[600], to[600];
	snprintf(link, sizeof link, "%s/target/docs/escape.txt", tmp);
	snprintf(to, sizeof to, "%s/secret.txt", tmp);
	assert_int_equal(symlink(to, link), 0);

	server_start(&s, 0);
	assert_true(s.ready);
	int p = s.port;
	assert_true(p > 0);
	expect(p, "GET", "/", "HTTP/1.1 200", "<p>the site</p>");
	expect(p, "GET", "/index.html", "HTTP/1.1 200", "Content-Type: text/html; charset=utf-8");
	expect(p, "GET", "/extra/style.css", "HTTP/1.1 200", "Content-Type: text/css");
	expect(p, "GET", "/extra/", "HTTP/1.1 200", "sub index");
	expect(p, "GET", "/extra", "HTTP/1.1 200", "sub index");
	expect(p, "GET", "/index.html?x=1", "HTTP/1.1 200", "the site");
	/* HEAD: headers with the length, no body. */
	char *r = get(p, "HEAD", "/index.html");
	assert_true(sl_str_starts_with(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "Content-Length: 30"));
	assert_null(strstr(r, "the site"));
	sl_free(r);
	expect(p, "POST", "/index.html", "HTTP/1.1 405", "Allow: GET, HEAD");
	expect(p, "PUT", "/x.html", "HTTP/1.1 405", NULL);
	expect(p, "DELETE", "/index.html", "HTTP/1.1 405", NULL);
	expect(p, "GET", "/missing.html", "HTTP/1.1 404", NULL);
	/* Nothing outside target/docs: .. as written, percent-encoded, or
	 * through a symlink. */
	expect(p, "GET", "/../manifest.json", "HTTP/1.1 403", NULL);
	expect(p, "GET", "/extra/../../manifest.json", "HTTP/1.1 403", NULL);
	expect(p, "GET", "/%2e%2e/%2e%2e/secret.txt", "HTTP/1.1 403", NULL);
	expect(p, "GET", "/..%2f..%2fsecret.txt", "HTTP/1.1 403", NULL);
	expect(p, "GET", "/escape.txt", "HTTP/1.1 403", NULL);
	assert_int_equal(server_stop(&s), 0);
}

static void test_serve_port_in_use(void **state)
{
	put_file("target/docs/index.html", "x");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	int port = ntohs(a.sin_port);

	server s;
	server_start(&s, port);
	assert_false(s.ready);
	assert_int_equal(server_stop(&s), SL_ECONFLICT);
	char want[200];
	snprintf(want, sizeof want, "docs serve: port %d on 127.0.0.1 is already in use; stop "
		 "what listens there or pick another with --port", port);
	assert_string_equal(s.err.message, want);
	close(fd);
}

static void test_serve_without_site_says_generate(void **state)
{
	sl_error err = SL_ERROR_INIT;
	char target[600];
	snprintf(target, sizeof target, "%s/target", tmp);
	assert_int_equal(sl_docs_serve(target, NULL, 0, NULL, NULL, NULL, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.message, "docs/index.html not found; run `sluice docs "
					    "generate` first"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serve_files_read_only_and_inside_docs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_serve_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_without_site_says_generate, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
