/* file.c: whole-file reads, atomic writes, directories and paths. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_mkdirs(const char *path, sl_error *err)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return sl_error_set(err, SL_EINVAL, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return sl_error_set(err, SL_EIO, "cannot create directory %s: %s", tmp,
					    strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return sl_error_set(err, SL_EIO, "cannot create directory %s: %s", tmp,
				    strerror(errno));
	return 0;
}

int sl_file_read_all(sl_buf *out, const char *path, size_t max, sl_error *err)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	if (!f)
		return sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
				    "cannot open %s: %s", path, strerror(errno));
	size_t r;
	int rc = 0;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (max && out->len + r > max) {
			rc = sl_error_set(err, SL_ELIMIT, "%s is larger than %zu bytes", path, max);
			break;
		}
		if (sl_buf_append(out, chunk, r) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory reading %s", path);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = sl_error_set(err, SL_EIO, "cannot read %s: %s", path, strerror(errno));
	if (rc == 0 && !out->data)
		sl_buf_reserve(out, 0);
	fclose(f);
	return rc;
}

int sl_file_write_atomic(const char *path, const void *data, size_t n, sl_error *err)
{
	char tmp[4200];
	char hex[17];
	sl_random_hex(hex, 8);
	snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, hex);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return sl_error_set(err, SL_EIO, "cannot create %s: %s", tmp, strerror(errno));
	const char *p = data;
	size_t left = n;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			unlink(tmp);
			return sl_error_set(err, SL_EIO, "cannot write %s: %s", tmp, strerror(e));
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return sl_error_set(err, SL_EIO, "cannot flush %s: %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return sl_error_set(err, SL_EIO, "cannot rename %s to %s: %s", tmp, path,
				    strerror(e));
	}
	return 0;
}

bool sl_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

char *sl_path_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	while (na > 1 && a[na - 1] == '/')
		na--;
	if (nb && b[0] == '/')
		return sl_strdup(b);
	if (na == 1 && a[0] == '.')
		return sl_strdup(b);
	char *d = sl_malloc(na + nb + 2);
	if (!d)
		return NULL;
	memcpy(d, a, na);
	d[na] = '/';
	memcpy(d + na + 1, b, nb + 1);
	return d;
}
