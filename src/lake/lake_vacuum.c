/*
 * lake_vacuum.c: removing data files that the latest snapshot does not
 * reference — leftovers of crashed or aborted writes and files removed by
 * overwrites — once they are older than the retention. The log
 * (_delta_log) is never touched. A removed file's age counts from its
 * removal, so readers of the previous version keep their files for the
 * retention period.
 */
#include "lake/lake_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char *path;
	int64_t micros;
} removal;

static int removal_cmp(const void *a, const void *b)
{
	return strcmp(((const removal *)a)->path, ((const removal *)b)->path);
}

/*
 * When each path was last removed, sorted by path for bsearch, from the
 * replayed log's removals (a removal without a time takes its log file's
 * mtime).
 */
static int collect_removals(sl_lake *lake, const sl_lake_state *st, removal **out, size_t *n,
			    sl_error *err)
{
	size_t k = 0;
	*out = NULL;
	*n = 0;
	removal *r = sl_calloc((size_t)st->nremovals + 1, sizeof *r);
	if (!r)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < st->nremovals; i++) {
		const sl_lake_removal *x = &st->removals[i];
		int64_t micros = x->micros;
		if (micros == INT64_MIN) {
			/* No time in the log: its file's mtime; unknown, the file
			 * counts as removed just now (kept for the retention). */
			sl_store_entry e = {0};
			char *key = sl_lake_log_key(st->table, x->version);
			if (!key || sl_store_stat(lake->store, key, &e, NULL) < 0)
				e.mtime_micros = sl_now_micros();
			sl_free(key);
			micros = e.mtime_micros;
		}
		r[k].path = sl_strdup(x->path);
		if (!r[k].path) {
			for (size_t j = 0; j < k; j++)
				sl_free(r[j].path);
			sl_free(r);
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		}
		r[k++].micros = micros;
	}
	/* stable order is not needed: the later removal wins below */
	qsort(r, k, sizeof *r, removal_cmp);
	*out = r;
	*n = k;
	return 0;
}

static int64_t removal_time(const removal *r, size_t n, const char *path)
{
	int64_t best = INT64_MIN;
	removal key = {(char *)path, 0};
	removal *hit = n ? bsearch(&key, r, n, sizeof *r, removal_cmp) : NULL;
	if (!hit)
		return best;
	/* several removals of one path (re-added in between): take the latest */
	while (hit > r && strcmp(hit[-1].path, path) == 0)
		hit--;
	for (; hit < r + n && strcmp(hit->path, path) == 0; hit++)
		if (hit->micros > best)
			best = hit->micros;
	return best;
}

/*
 * Local lakes only: temp files of writes that crashed before their rename
 * ("<name>.tmp-<hex>", invisible to list) in the table's data folder.
 */
static int vacuum_local_temps(sl_lake *lake, const char *table, int64_t cutoff, bool dry_run,
			      sl_lake_vacuum_result *res, sl_error *err)
{
	char *tdir = sl_path_join(lake->store->url, table); /* the local root */
	char *dir = tdir ? sl_path_join(tdir, SL_LAKE_DATA_DIR) : NULL;
	sl_free(tdir);
	if (!dir)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	DIR *d = opendir(dir);
	if (!d) {
		sl_free(dir);
		return 0;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strstr(de->d_name, ".tmp-"))
			continue;
		char *p = sl_path_join(dir, de->d_name);
		if (!p) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			break;
		}
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			int64_t mt = (int64_t)st.st_mtim.tv_sec * SL_MICROS_PER_SEC +
				     st.st_mtim.tv_nsec / 1000;
			if (mt <= cutoff) {
				if (!dry_run && unlink(p) != 0 && errno != ENOENT) {
					rc = sl_error_set(err, SL_EIO, "cannot delete %s: %s", p,
							  strerror(errno));
					sl_free(p);
					break;
				}
				res->files_removed++;
				res->bytes_removed += (uint64_t)st.st_size;
			}
		}
		sl_free(p);
	}
	closedir(d);
	sl_free(dir);
	return rc;
}

int sl_lake_vacuum(sl_lake *lake, const char *table, int64_t retain_micros, bool dry_run,
		   sl_lake_vacuum_result *res, sl_error *err)
{
	sl_lake_state st;
	sl_store_entry *e = NULL;
	size_t ne = 0, nrem = 0;
	removal *rem = NULL;
	char *prefix = NULL;
	memset(res, 0, sizeof *res);
	int rc = sl_lake_check_table(table, err);
	if (rc < 0)
		return rc;
	if (retain_micros < 0)
		return sl_error_set(err, SL_EINVAL, "vacuum retention must not be negative");
	int64_t cutoff = sl_now_micros() - retain_micros;
	/* No log (a first write that crashed) means no live file. */
	if ((rc = sl_lake_state_latest(lake, table, &st, err)) < 0)
		goto done;
	if (st.version >= 0 && (rc = collect_removals(lake, &st, &rem, &nrem, err)) < 0)
		goto done;
	size_t tn = strlen(table);
	prefix = sl_malloc(tn + sizeof SL_LAKE_DATA_DIR + 2);
	if (!prefix) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	sprintf(prefix, "%s/" SL_LAKE_DATA_DIR "/", table);
	if ((rc = sl_store_list(lake->store, prefix, &e, &ne, err)) < 0)
		goto done;
	if (st.version < 0 && ne == 0) {
		rc = sl_error_set(err, SL_ENOTFOUND, "lake table %s does not exist in %s", table,
				  lake->url);
		goto done;
	}
	for (size_t i = 0; i < ne; i++) {
		const char *rel = e[i].key + tn + 1;
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (base[0] == '_' || base[0] == '.')
			continue; /* hidden files, as Delta's vacuum leaves them */
		if (sl_lake_state_find(&st, rel))
			continue;
		int64_t t = e[i].mtime_micros, r = removal_time(rem, nrem, rel);
		if (r > t)
			t = r;
		if (t > cutoff)
			continue;
		if (!dry_run && (rc = sl_store_delete(lake->store, e[i].key, err)) < 0)
			goto done;
		sl_debug("lake table %s: vacuum %s %s", table, dry_run ? "would remove" : "removed",
			 e[i].key);
		res->files_removed++;
		res->bytes_removed += e[i].size;
	}
	if (lake->local)
		rc = vacuum_local_temps(lake, table, cutoff, dry_run, res, err);
done:
	for (size_t i = 0; i < nrem; i++)
		sl_free(rem[i].path);
	sl_free(rem);
	sl_free(prefix);
	sl_store_entries_free(e, ne);
	sl_lake_state_free(&st);
	if (rc < 0 && rc != SL_ENOTFOUND)
		sl_error_prefix(err, "vacuum: ");
	return rc;
}
