/*
 * serve.c: `sluice docs serve` — target/docs/ over HTTP with
 * libmicrohttpd, read only: GET and HEAD of files under that folder (a
 * folder's index.html for "/"), 405 for other methods, 403 for a path
 * that would leave it (".." segments, or a symlink resolving outside),
 * 404 otherwise. The listening socket is ours (bound before the daemon
 * starts), so a port in use is reported as such.
 */
#include "docs/docs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct serve_ctx {
	char root[PATH_MAX]; /* realpath of target/docs */
	size_t root_len;
} serve_ctx;

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".htm", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"},
	{".gif", "image/gif"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
	{".sql", "text/plain; charset=utf-8"},
	{".woff2", "font/woff2"},
};

static const char *content_type_of(const char *path)
{
	for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
		if (sl_str_ends_with(path, content_types[i].ext))
			return content_types[i].type;
	return "application/octet-stream";
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status,
				  const char *text, bool allow_header)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow_header)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* True when the decoded URL path names something outside the root by
 * itself: a ".." segment, a backslash, or not starting with "/". */
static bool path_escapes(const char *url)
{
	if (url[0] != '/' || strchr(url, '\\'))
		return true;
	for (const char *seg = url; seg; seg = strchr(seg + 1, '/')) {
		const char *s = seg + 1;
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
	}
	return false;
}

/* The file a URL names, resolved (symlinks too) and kept inside root:
 * 0 and *out filled; 403 or 404 otherwise. */
static unsigned int resolve(const serve_ctx *ctx, const char *url, char *out)
{
	char want[PATH_MAX + 16];
	struct stat sb;

	if (path_escapes(url))
		return MHD_HTTP_FORBIDDEN;
	int n = snprintf(want, sizeof want, "%s%s%s", ctx->root, url,
			 url[strlen(url) - 1] == '/' ? "index.html" : "");
	if (n < 0 || (size_t)n >= sizeof want)
		return MHD_HTTP_NOT_FOUND;
	if (!realpath(want, out))
		return MHD_HTTP_NOT_FOUND;
	if (strncmp(out, ctx->root, ctx->root_len) != 0 ||
	    (out[ctx->root_len] != '/' && out[ctx->root_len] != '\0'))
		return MHD_HTTP_FORBIDDEN;
	if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		size_t len = strlen(out);
		if (len + sizeof "/index.html" > PATH_MAX)
			return MHD_HTTP_NOT_FOUND;
		memcpy(out + len, "/index.html", sizeof "/index.html");
	}
	return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_cls)
{
	const serve_ctx *ctx = cls;
	char path[PATH_MAX + 16];
	struct stat sb;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "405 method not allowed: the docs site is read only (GET, HEAD)\n",
				  true);
	unsigned int status = resolve(ctx, url, path);
	if (status == MHD_HTTP_FORBIDDEN)
		return reply_text(c, status, "403 forbidden: outside the docs folder\n", false);
	if (status != 0)
		return reply_text(c, status, "404 not found\n", false);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return reply_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n", false);
	}
	/* The response owns fd from here and closes it. */
	struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_of(path));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* A listening TCP socket on host:port; *bound gets the port. */
static int listen_on(int *out, const char *host, int port, int *bound, sl_error *err)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	int fd = -1, rc = 0, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%d", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0)
		return sl_error_set(err, SL_EINVAL, "docs serve: cannot use host '%s': %s", host,
				    gai_strerror(gai));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		rc = sl_error_set(err, SL_EIO, "docs serve: socket: %s", strerror(errno));
		goto done;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno == EADDRINUSE)
			rc = sl_error_set(err, SL_ECONFLICT, "docs serve: port %d on %s is already in "
					  "use; stop what listens there or pick another with --port",
					  port, host);
		else
			rc = sl_error_set(err, SL_EIO, "docs serve: cannot listen on %s:%d: %s", host,
					  port, strerror(errno));
		goto done;
	}
	if (listen(fd, 64) != 0) {
		rc = sl_error_set(err, SL_EIO, "docs serve: listen on %s:%d: %s", host, port,
				  strerror(errno));
		goto done;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	*bound = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	*out = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int sl_docs_serve(const char *target_dir, const char *host, int port, const sl_cancel *cancel,
		  void (*on_ready)(void *ud, const char *url), void *ud, sl_error *err)
{
	serve_ctx *ctx = NULL;
	struct MHD_Daemon *d = NULL;
	char *docs = NULL, *index = NULL;
	int fd = -1, bound = 0, rc;

	if (!host || !*host)
		host = "127.0.0.1";
	if (port < 0 || port > 65535)
		return sl_error_set(err, SL_EUSAGE, "docs serve: port %d is not 0 to 65535", port);
	rc = sl_alloc_zeroed((void **)&ctx, sizeof *ctx, err);
	if (rc < 0)
		return rc;
	docs = sl_path_join(target_dir, "docs");
	index = docs ? sl_path_join(docs, "index.html") : NULL;
	if (!index) {
		rc = sl_error_set(err, SL_ENOMEM, "docs serve: out of memory");
		goto done;
	}
	if (!sl_path_exists(index) || !realpath(docs, ctx->root)) {
		rc = sl_error_set(err, SL_ENOTFOUND, "docs serve: %s not found; run `sluice docs "
						     "generate` first", index);
		goto done;
	}
	ctx->root_len = strlen(ctx->root);
	rc = listen_on(&fd, host, port, &bound, err);
	if (rc < 0)
		goto done;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, ctx,
			     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned int)30, MHD_OPTION_END);
	if (!d) {
		close(fd);
		rc = sl_error_set(err, SL_EIO, "docs serve: cannot start the HTTP server on %s:%d",
				  host, bound);
		goto done;
	}
	if (on_ready) {
		char url[300];
		bool v6 = strchr(host, ':') != NULL;
		snprintf(url, sizeof url, "http://%s%s%s:%d/", v6 ? "[" : "", host, v6 ? "]" : "",
			 bound);
		on_ready(ud, url);
	}
	/* The daemon's thread answers; this one waits for the cancel. */
	while (!sl_cancelled(cancel)) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	rc = 0;
done:
	if (d)
		MHD_stop_daemon(d); /* closes the listening socket */
	sl_free(ctx);
	sl_free(docs);
	sl_free(index);
	return rc;
}
