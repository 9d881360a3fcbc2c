/*
 * fuzz_lineage.c: libFuzzer target for quality/'s column lineage: the
 * input after its first byte is SQL, parsed by libpg_query and traced. The
 * first byte picks what the columns callback answers: bit 0 known columns
 * (id, a, b, customer_id) for every relation, else unknown; bit 1 fails
 * the callback for relations named "fail". Checks: a traced SQL has
 * named columns whose refs name a relation and a column, an untraced one
 * a reason and no columns; nothing leaks (the parser's memory included).
 * Build from the repository root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_lineage.c \
//   src/quality/lineage.c src/quality/lineage_trace.c src/quality/lineage_expr.c \
//   src/quality/lineage_util.c src/base/*.c -lpg_query -ljansson -lm -lpthread \
//   -o /tmp/fuzz_lineage
// /tmp/fuzz_lineage -max_total_time=60 -timeout=10 /tmp/seeds-lineage
#include "quality/quality.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known[] = {"id", "a", "b", "customer_id"};

static int columns(void *ud, const char *node, const char *schema, const char *table,
		   const char *const **cols, int *ncols, sl_error *err)
{
	int mode = *(const int *)ud;
	(void)node, (void)schema;
	*ncols = -1;
	if ((mode & 2) && strcmp(table, "fail") == 0)
		return sl_error_set(err, SL_EDB, "cannot describe %s", table);
	if (mode & 1) {
		*cols = known;
		*ncols = 4;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	int mode = data[0];
	char *sql = malloc(size);
	if (!sql)
		return 0;
	memcpy(sql, data + 1, size - 1);
	sql[size - 1] = '\0';
	sl_lineage l;
	sl_error err = SL_ERROR_INIT;
	int rc = sl_lineage_of_sql(sql, columns, &mode, &l, &err);
	if (rc == 0) {
		if (l.error && l.ncolumns != 0)
			__builtin_trap();
		for (int i = 0; i < l.ncolumns; i++) {
			const sl_lineage_column *c = &l.columns[i];
			if (!c->name || c->nfrom < 0 || c->how > SL_LINEAGE_AGGREGATED)
				__builtin_trap();
			for (int k = 0; k < c->nfrom; k++)
				if (!c->from[k].relation || !c->from[k].column || c->from[k].node)
					__builtin_trap();
		}
		sl_lineage_free(&l);
	} else if (!(mode & 2) && rc != SL_ENOMEM) {
		__builtin_trap(); /* only the callback or memory may fail */
	}
	free(sql);
	return 0;
}
