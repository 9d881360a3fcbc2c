/*
 * unit_tmp.h: a fresh folder per unit test, for suites whose code under
 * test reads or writes files. Include after cmocka.h; the suite passes
 * setup and teardown to cmocka_unit_test_setup_teardown and finds the
 * folder in tmp. teardown removes it and forgets registered secrets.
 */
#ifndef SL_UNIT_TMP_H
#define SL_UNIT_TMP_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

static char tmp[256];

static inline int unit_tmp_rm_one(const char *p, const struct stat *sb, int flag,
				  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/sl_unit_XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	nftw(tmp, unit_tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	sl_log_clear_secrets();
	return 0;
}

/* Writes text to tmp/rel, creating rel's folders. */
static inline void write_file(const char *rel, const char *text)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/%s", tmp, rel) > 0);
	for (char *p = path + strlen(tmp) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

#endif
