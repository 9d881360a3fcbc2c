/*
 * local.c: the local-filesystem store. Keys are paths under a root
 * directory. Objects appear atomically: data goes to a "<key>.tmp-<hex>"
 * file that is fsynced and then renamed (or, for put-if-absent, hard-linked
 * so that exactly one of several concurrent writers wins). Temp files are
 * never listed.
 */
#define _GNU_SOURCE
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Marks a store temp file; list skips every name that contains it. */
#define TMP_MARK ".tmp-"

typedef struct {
	sl_store base;
	char *root;
} local_store;

/* Rejects keys that would escape the root or name nothing. */
static int check_key(const local_store *ls, const char *key, sl_error *err)
{
	if (!key || !*key || key[0] == '/')
		return sl_error_set(err, SL_EINVAL, "%s: invalid key '%s'", ls->root,
				    key ? key : "");
	for (const char *p = key; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 2 && p[0] == '.' && p[1] == '.') || (n == 0 && e))
			return sl_error_set(err, SL_EINVAL, "%s: invalid key '%s'", ls->root, key);
		p += n + (e ? 1 : 0);
	}
	return 0;
}

static char *key_path(const local_store *ls, const char *key, sl_error *err)
{
	if (check_key(ls, key, err) < 0)
		return NULL;
	char *p = sl_path_join(ls->root, key);
	if (!p)
		sl_error_set(err, SL_ENOMEM, "out of memory");
	return p;
}

/* Creates the directory that will hold path. */
static int make_parent(const char *path, sl_error *err)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	char *dir = sl_strndup(path, (size_t)(slash - path));
	if (!dir)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int rc = sl_mkdirs(dir, err);
	sl_free(dir);
	return rc;
}

/* Best effort: makes a new directory entry durable. */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? sl_strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : sl_strdup(".");
	if (!dir)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	sl_free(dir);
}

static int write_fd_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int local_put(sl_store *s, const char *key, const void *data, size_t n, bool if_absent,
		     sl_error *err)
{
	local_store *ls = (local_store *)s;
	char hex[17], *tmp = NULL;
	int rc, fd = -1;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	rc = make_parent(path, err);
	if (rc < 0)
		goto done;
	sl_random_hex(hex, 8);
	size_t tn = strlen(path) + sizeof TMP_MARK + sizeof hex;
	tmp = sl_malloc(tn);
	if (!tmp) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(tmp, tn, "%s" TMP_MARK "%s", path, hex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = sl_error_set(err, SL_EIO, "cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (write_fd_all(fd, data, n) < 0 || fsync(fd) != 0) {
		rc = sl_error_set(err, SL_EIO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto done;
	}
	if (close(fd) != 0) {
		rc = sl_error_set(err, SL_EIO, "cannot close %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto done;
	}
	if (if_absent) {
		/* link(2) fails with EEXIST when the name exists: of several
		 * writers racing for one key exactly one succeeds, and readers
		 * only ever see the complete file. */
		if (link(tmp, path) != 0) {
			int e = errno;
			if (e == EPERM || e == ENOTSUP || e == ENOSYS) {
				/* No hard links here: renameat2 gives the same guarantee. */
				if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
					sync_parent(path);
					goto done;
				}
				e = errno;
			}
			unlink(tmp);
			if (e == EEXIST)
				rc = sl_error_set(err, SL_ECONFLICT, "%s already exists", path);
			else
				rc = sl_error_set(err, SL_EIO, "cannot create %s: %s", path,
						  strerror(e));
			goto done;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		rc = sl_error_set(err, SL_EIO, "cannot rename %s to %s: %s", tmp, path,
				  strerror(errno));
		unlink(tmp);
		goto done;
	}
	sync_parent(path);
done:
	sl_free(tmp);
	sl_free(path);
	return rc;
}

static int local_open_output(sl_store *s, const char *key, sl_output **out, sl_error *err)
{
	local_store *ls = (local_store *)s;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	int rc = make_parent(path, err);
	if (rc == 0)
		rc = sl_output_file_open(out, path, err);
	sl_free(path);
	return rc;
}

static int local_open_input(sl_store *s, const char *key, sl_input **out, sl_error *err)
{
	local_store *ls = (local_store *)s;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	int rc = sl_input_file_open(out, path, err);
	sl_free(path);
	return rc;
}

static int local_get(sl_store *s, const char *key, sl_buf *out, sl_error *err)
{
	local_store *ls = (local_store *)s;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	sl_buf_reset(out);
	int rc = sl_file_read_all(out, path, 0, err);
	sl_free(path);
	return rc;
}

typedef struct {
	sl_store_entry *items;
	size_t n, cap;
} entry_list;

static int entries_push(entry_list *l, const char *key, const struct stat *st)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		sl_store_entry *d = sl_realloc(l->items, cap * sizeof *d);
		if (!d)
			return SL_ENOMEM;
		l->items = d;
		l->cap = cap;
	}
	sl_store_entry *e = &l->items[l->n];
	memset(e, 0, sizeof *e);
	e->key = sl_strdup(key);
	if (!e->key)
		return SL_ENOMEM;
	e->size = (uint64_t)st->st_size;
	e->mtime_micros = (int64_t)st->st_mtim.tv_sec * SL_MICROS_PER_SEC +
			  st->st_mtim.tv_nsec / 1000;
	l->n++;
	return 0;
}

/*
 * Walks dir (whose key prefix is rel, "" at the root) recursively and
 * collects regular files whose key starts with prefix.
 */
static int walk(const char *dir, const char *rel, const char *prefix, entry_list *l,
		sl_error *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return sl_error_set(err, SL_EIO, "cannot list %s: %s", dir, strerror(errno));
	}
	int rc = 0;
	size_t plen = strlen(prefix);
	struct dirent *de;
	sl_buf path = SL_BUF_INIT, key = SL_BUF_INIT;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		struct stat st;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strstr(name, TMP_MARK))
			continue;
		path.len = 0;
		key.len = 0;
		if (sl_buf_printf(&path, "%s/%s", dir, name) < 0 ||
		    sl_buf_printf(&key, "%s%s%s", rel, *rel ? "/" : "", name) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		if (stat(path.data, &st) != 0)
			continue; /* vanished meanwhile, or a dangling link */
		size_t klen = key.len;
		if (S_ISDIR(st.st_mode)) {
			/* Descend only where keys can still match the prefix. */
			size_t m = klen < plen ? klen : plen;
			if (strncmp(key.data, prefix, m) != 0)
				continue;
			rc = walk(path.data, key.data, prefix, l, err);
			if (rc < 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			if (klen >= plen && strncmp(key.data, prefix, plen) == 0 &&
			    entries_push(l, key.data, &st) < 0) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				break;
			}
		}
	}
	closedir(d);
	sl_buf_free(&path);
	sl_buf_free(&key);
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const sl_store_entry *)a)->key, ((const sl_store_entry *)b)->key);
}

static int local_list(sl_store *s, const char *prefix, sl_store_entry **out, size_t *n,
		      sl_error *err)
{
	local_store *ls = (local_store *)s;
	entry_list l = {NULL, 0, 0};
	if (!prefix)
		prefix = "";
	*out = NULL;
	*n = 0;
	/* Start at the deepest directory the prefix names. */
	const char *slash = strrchr(prefix, '/');
	char *rel = sl_strndup(prefix, slash ? (size_t)(slash - prefix) : 0);
	char *dir = rel ? (*rel ? sl_path_join(ls->root, rel) : sl_strdup(ls->root)) : NULL;
	int rc;
	if (!rel || !dir)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	else
		rc = walk(dir, rel, prefix, &l, err);
	sl_free(rel);
	sl_free(dir);
	if (rc < 0) {
		sl_store_entries_free(l.items, l.n);
		return rc;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof *l.items, entry_cmp);
	*out = l.items;
	*n = l.n;
	return 0;
}

static int local_del(sl_store *s, const char *key, sl_error *err)
{
	local_store *ls = (local_store *)s;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	int rc = 0;
	if (unlink(path) != 0 && errno != ENOENT)
		rc = sl_error_set(err, SL_EIO, "cannot delete %s: %s", path, strerror(errno));
	sl_free(path);
	return rc;
}

static int local_stat(sl_store *s, const char *key, sl_store_entry *out, sl_error *err)
{
	local_store *ls = (local_store *)s;
	struct stat st;
	char *path = key_path(ls, key, err);
	if (!path)
		return err ? err->code : SL_EINVAL;
	int rc = 0;
	if (stat(path, &st) != 0)
		rc = sl_error_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "cannot stat %s: %s",
				  path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = sl_error_set(err, SL_ENOTFOUND, "%s is not a file", path);
	if (rc == 0) {
		memset(out, 0, sizeof *out);
		out->size = (uint64_t)st.st_size;
		out->mtime_micros = (int64_t)st.st_mtim.tv_sec * SL_MICROS_PER_SEC +
				    st.st_mtim.tv_nsec / 1000;
	}
	sl_free(path);
	return rc;
}

static void local_free(sl_store *s)
{
	local_store *ls = (local_store *)s;
	sl_free(ls->root);
	sl_free(ls);
}

static const sl_store_ops local_ops = {
	local_put, local_open_output, local_open_input, local_get,
	local_list, local_del,        local_stat,       local_free,
	NULL, /* open_input_etag: local files have no ETag */
};

int sl_store_local_open(sl_store **out, const char *root, sl_error *err)
{
	*out = NULL;
	if (!root || !*root)
		return sl_error_set(err, SL_EINVAL, "empty local store path");
	local_store *ls = sl_calloc(1, sizeof *ls);
	if (!ls)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	ls->root = sl_strndup(root, n);
	if (!ls->root) {
		sl_free(ls);
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	ls->base.ops = &local_ops;
	snprintf(ls->base.url, sizeof ls->base.url, "%s", ls->root);
	*out = &ls->base;
	return 0;
}
