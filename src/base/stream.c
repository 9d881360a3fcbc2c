/* stream.c: file and memory implementations of sl_output and sl_input. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	sl_output base;
	int fd;
	char *path;
	char *tmp;
	char buf[1 << 16];
	size_t used;
} file_output;

static int fo_flush(file_output *f, sl_error *err)
{
	size_t off = 0;
	while (off < f->used) {
		ssize_t w = write(f->fd, f->buf + off, f->used - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return sl_error_set(err, SL_EIO, "cannot write %s: %s", f->tmp,
					    strerror(errno));
		}
		off += (size_t)w;
	}
	f->used = 0;
	return 0;
}

static int fo_write(sl_output *o, const void *p, size_t n, sl_error *err)
{
	file_output *f = (file_output *)o;
	if (f->used + n > sizeof f->buf) {
		int rc = fo_flush(f, err);
		if (rc < 0)
			return rc;
	}
	if (n >= sizeof f->buf) {
		const char *c = p;
		while (n) {
			ssize_t w = write(f->fd, c, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return sl_error_set(err, SL_EIO, "cannot write %s: %s", f->tmp,
						    strerror(errno));
			}
			c += w;
			n -= (size_t)w;
		}
		return 0;
	}
	memcpy(f->buf + f->used, p, n);
	f->used += n;
	return 0;
}

static void fo_free(file_output *f)
{
	sl_free(f->path);
	sl_free(f->tmp);
	sl_free(f);
}

static void fo_abort(sl_output *o)
{
	file_output *f = (file_output *)o;
	if (f->fd >= 0)
		close(f->fd);
	unlink(f->tmp);
	fo_free(f);
}

static int fo_close(sl_output *o, sl_error *err)
{
	file_output *f = (file_output *)o;
	int rc = fo_flush(f, err);
	if (rc == 0 && fsync(f->fd) != 0)
		rc = sl_error_set(err, SL_EIO, "cannot sync %s: %s", f->tmp, strerror(errno));
	if (close(f->fd) != 0 && rc == 0)
		rc = sl_error_set(err, SL_EIO, "cannot close %s: %s", f->tmp, strerror(errno));
	f->fd = -1;
	if (rc == 0 && rename(f->tmp, f->path) != 0)
		rc = sl_error_set(err, SL_EIO, "cannot rename %s to %s: %s", f->tmp, f->path,
				  strerror(errno));
	if (rc < 0)
		unlink(f->tmp);
	fo_free(f);
	return rc;
}

int sl_output_file_open(sl_output **out, const char *path, sl_error *err)
{
	char hex[17];
	file_output *f = sl_calloc(1, sizeof *f);
	if (!f)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	f->fd = -1;
	sl_random_hex(hex, 8);
	f->path = sl_strdup(path);
	size_t n = strlen(path) + 32;
	f->tmp = sl_malloc(n);
	if (!f->path || !f->tmp) {
		fo_free(f);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	snprintf(f->tmp, n, "%s.tmp-%s", path, hex);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		int rc = sl_error_set(err, SL_EIO, "cannot create %s: %s", f->tmp, strerror(errno));
		fo_free(f);
		return rc;
	}
	f->base.write = fo_write;
	f->base.close = fo_close;
	f->base.abort = fo_abort;
	*out = &f->base;
	return 0;
}

typedef struct {
	sl_output base;
	sl_buf buf;
} mem_output;

static int mo_write(sl_output *o, const void *p, size_t n, sl_error *err)
{
	mem_output *m = (mem_output *)o;
	if (sl_buf_append(&m->buf, p, n) < 0)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	return 0;
}

static void mo_abort(sl_output *o)
{
	mem_output *m = (mem_output *)o;
	sl_buf_free(&m->buf);
	sl_free(m);
}

static int mo_close(sl_output *o, sl_error *err)
{
	mo_abort(o);
	return 0;
}

int sl_output_mem_open(sl_output **out, sl_error *err)
{
	mem_output *m = sl_calloc(1, sizeof *m);
	if (!m)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	m->base.write = mo_write;
	m->base.close = mo_close;
	m->base.abort = mo_abort;
	*out = &m->base;
	return 0;
}

const sl_buf *sl_output_mem_data(const sl_output *o) { return &((const mem_output *)o)->buf; }

typedef struct {
	sl_input base;
	int fd;
	const unsigned char *mem;
} simple_input;

static int fi_read_at(sl_input *in, uint64_t off, void *p, size_t n, sl_error *err)
{
	simple_input *f = (simple_input *)in;
	if (off > in->size || n > in->size - off)
		return sl_error_set(err, SL_EFORMAT,
				    "%s: read of %zu bytes at offset %llu is past the end (%llu bytes)",
				    in->name, n, (unsigned long long)off,
				    (unsigned long long)in->size);
	if (f->mem) {
		memcpy(p, f->mem + off, n);
		return 0;
	}
	char *c = p;
	while (n) {
		ssize_t r = pread(f->fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return sl_error_set(err, r < 0 ? SL_EIO : SL_EFORMAT, "%s: cannot read: %s",
					    in->name, r < 0 ? strerror(errno) : "unexpected end of file");
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static void fi_close(sl_input *in)
{
	simple_input *f = (simple_input *)in;
	if (f->fd >= 0)
		close(f->fd);
	sl_free(f);
}

int sl_input_file_open(sl_input **out, const char *path, sl_error *err)
{
	struct stat st;
	simple_input *f = sl_calloc(1, sizeof *f);
	if (!f)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st) != 0) {
		int rc = sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
				      "cannot open %s: %s", path, strerror(errno));
		if (f->fd >= 0)
			close(f->fd);
		sl_free(f);
		return rc;
	}
	f->base.size = (uint64_t)st.st_size;
	snprintf(f->base.name, sizeof f->base.name, "%s", path);
	f->base.read_at = fi_read_at;
	f->base.close = fi_close;
	*out = &f->base;
	return 0;
}

int sl_input_mem_open(sl_input **out, const void *data, size_t n, const char *name,
		      sl_error *err)
{
	simple_input *f = sl_calloc(1, sizeof *f);
	if (!f)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	f->fd = -1;
	f->mem = data;
	f->base.size = n;
	snprintf(f->base.name, sizeof f->base.name, "%s", name ? name : "<memory>");
	f->base.read_at = fi_read_at;
	f->base.close = fi_close;
	*out = &f->base;
	return 0;
}
