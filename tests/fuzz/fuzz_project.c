/*
 * fuzz_project.c: libFuzzer target for the project loader. The input up to
 * the first NUL byte becomes sluice.yml, the rest (when there is a NUL)
 * sources/x.yml, in a temp project folder; sl_project_load reads it and
 * every loaded string is touched before sl_project_free. A configuration
 * error must be SL_ECONFIG naming "file:line: ". Seeds come from
 * tests/fuzz/run.sh. Build from the repository root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_project.c \
//   src/project/*.c src/sources/*.c src/formats/csv/*.c src/formats/parquet/*.c \
//   src/store/*.c src/warehouse/*.c src/batch/*.c src/base/*.c -I/usr/include/postgresql \
//   -lyaml -lsqlite3 -lpq -lcrypto -lssl -lcurl -ljansson -lyajl -lxxhash -lzstd -lz \
//   -lsnappy -lm -lpthread -o /tmp/fuzz_project
// /tmp/fuzz_project -max_total_time=60 -rss_limit_mb=2048 /tmp/seeds-project
#include "project/project.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char main_path[128], src_dir[128], src_path[160];

static void cleanup(void)
{
	unlink(src_path);
	rmdir(src_dir);
	unlink(main_path);
	rmdir(dir);
}

static int setup(void)
{
	if (dir[0])
		return 0;
	snprintf(dir, sizeof dir, "/tmp/fuzz-project-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(main_path, sizeof main_path, "%s/sluice.yml", dir);
	snprintf(src_dir, sizeof src_dir, "%s/sources", dir);
	snprintf(src_path, sizeof src_path, "%s/x.yml", src_dir);
	atexit(cleanup);
	/* Variables the inputs can reference; everything else is unset. */
	setenv("FUZZ_SET", "value", 1);
	setenv("FUZZ_EMPTY", "", 1);
	return 0;
}

static int write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* "sluice.yml:12: ..." or "sources/x.yml:3:4: ...". */
static int names_file_line(const char *msg)
{
	const char *files[] = {"sluice.yml:", "sources/x.yml:"};
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(files[i]);
		if (strncmp(msg, files[i], n) == 0 && isdigit((unsigned char)msg[n]) &&
		    msg[n] != '0')
			return 1;
	}
	return 0;
}

static size_t str(const char *s) { return s ? strlen(s) : 0; }

static size_t kvs(const sl_kvs *k)
{
	size_t h = 0;
	for (int i = 0; i < k->n; i++)
		h += str(k->items[i].key) + str(k->items[i].value) + (size_t)k->items[i].line;
	if (k->n)
		h += str(sl_kvs_get(k, k->items[0].key));
	return h;
}

static size_t touch(const sl_project *p)
{
	size_t h = str(p->dir) + str(p->file) + str(p->name) + str(p->lake) + str(p->target) +
		   str(p->schedule) + kvs(&p->vars);
	if (!sl_project_target(p, NULL))
		__builtin_trap(); /* the default target always exists */
	for (int i = 0; i < p->ntargets; i++) {
		const sl_target *t = &p->targets[i];
		h += str(t->name) + str(t->type) + str(t->path) + str(t->host) + str(t->dbname) +
		     str(t->user) + str(t->password) + str(t->schema) + str(t->raw_schema) +
		     str(t->sslmode) + str(t->path_abs) + (size_t)t->port;
	}
	for (int i = 0; i < p->nsources; i++) {
		const sl_source *s = &p->sources[i];
		h += str(s->name) + str(s->file) + str(s->kind->name);
		if (sl_project_source(p, s->name) != s)
			__builtin_trap();
		for (int j = 0; j < s->ntables; j++) {
			/* The kind's own options are opaque here: the kinds' unit
			 * tests read them. */
			const sl_source_table *t = &s->tables[j];
			h += str(t->name) + str(t->cursor) + kvs(&t->columns) + (t->opts != NULL);
			for (int k = 0; k < t->nprimary_key; k++)
				h += str(t->primary_key[k]);
		}
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sl_error err = SL_ERROR_INIT;
	sl_project *p = NULL;

	if (setup() < 0)
		return 0;
	const uint8_t *nul = memchr(data, 0, size);
	size_t main_len = nul ? (size_t)(nul - data) : size;
	if (write_file(main_path, data, main_len) < 0)
		return 0;
	unlink(src_path);
	if (nul) {
		mkdir(src_dir, 0700);
		if (write_file(src_path, nul + 1, size - main_len - 1) < 0)
			return 0;
	}
	int rc = sl_project_load(&p, dir, &err);
	if (rc == 0) {
		volatile size_t sink = touch(p);
		(void)sink;
		sl_project_free(p);
	} else {
		if (p)
			__builtin_trap(); /* *out is NULL on failure */
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "%s\n", err.message);
		if (rc == SL_ECONFIG && !names_file_line(err.message)) {
			fprintf(stderr, "config error without file:line: %s\n", err.message);
			__builtin_trap();
		}
		if (rc != SL_ECONFIG && rc != SL_ENOMEM) {
			fprintf(stderr, "unexpected error %d: %s\n", rc, err.message);
			__builtin_trap();
		}
	}
	sl_log_clear_secrets();
	return 0;
}
