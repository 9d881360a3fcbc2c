/*
 * cli_select.c: what run, extract, load, dag and backfill parse alike —
 * --select/--exclude items, --threads and --logical-date.
 */
#include "cli/cli_int.h"

#include <string.h>

int sl_cli_select_add(const char *cmd, sl_cli_select *s, char *arg)
{
	for (char *tok = strtok(arg, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		if (s->n >= SL_CLI_MAX_SELECT) {
			sl_cli_usage_error(cmd, "at most %d --select/--exclude items",
					   SL_CLI_MAX_SELECT);
			return -1;
		}
		s->items[s->n++] = tok;
	}
	return 0;
}

int sl_cli_parse_threads(const char *cmd, const char *v)
{
	int64_t n = 0;
	if (sl_parse_int64(v, strlen(v), &n) < 0 || n < 1 || n > 1024) {
		sl_cli_usage_error(cmd, "--threads must be a number of tasks at once from 1 to "
				   "1024, not '%s'", v);
		return -1;
	}
	return (int)n;
}

int sl_cli_parse_when(const char *cmd, const char *flag, const char *v, int64_t *at)
{
	int32_t days;
	size_t n = strlen(v);
	if (sl_date_parse(v, n, &days) == 0) {
		*at = (int64_t)days * SL_MICROS_PER_DAY;
		return 0;
	}
	if (sl_timestamp_parse(v, n, at) == 0)
		return 0;
	sl_cli_usage_error(cmd, "%s must be a date (2024-01-31) or an ISO-8601 timestamp "
			   "(2024-01-31T06:00:00Z), not '%s'", flag, v);
	return -1;
}
