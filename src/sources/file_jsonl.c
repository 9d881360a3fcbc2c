/*
 * file_jsonl.c: JSON lines for the file source. Lines come from the CSV
 * reader run with 0x1E as quote and 0x1F as delimiter: JSON text
 * cannot hold a raw control character (RFC 8259 escapes them in strings,
 * and only whitespace may stand between tokens), so each line of a valid
 * file is one record whose raw text is the line — and the reader's gzip
 * and zstd decompression, bounded records and line numbers come for free.
 * Each line is then parsed by jansson; a line that is not a JSON object is
 * handed back as bad, with its reason, for the quarantine.
 */
#include "sources/file_int.h"

#include <stdio.h>
#include <string.h>

struct sl_file_jsonl {
	sl_csv_reader *r;
	char reason[256];
};

int sl_file_jsonl_open(sl_file_jsonl **out, sl_input *in, const char *origin, sl_error *err)
{
	sl_file_jsonl *j = sl_calloc(1, sizeof *j);
	sl_csv_opts o = SL_CSV_OPTS_INIT;
	(void)origin;
	if (!j)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	o.delimiter = '\x1f';
	o.quote = '\x1e';
	o.escape = '\x1e';
	o.header = false;
	int rc = sl_csv_reader_open_input(&j->r, in, &o, err);
	if (rc < 0) {
		sl_file_jsonl_close(j);
		return rc;
	}
	*out = j;
	return 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int sl_file_jsonl_next(sl_file_jsonl *j, sl_file_jsonl_line *l, sl_error *err)
{
	memset(l, 0, sizeof *l);
	for (;;) {
		sl_csv_record rec;
		sl_error rerr = SL_ERROR_INIT;
		int rc = sl_csv_reader_next(j->r, &rec, &rerr);
		if (rc == SL_EFORMAT) {
			/* A line over the size limit: bad, and reading goes on. */
			l->line = rec.line;
			l->raw = rec.raw;
			l->raw_len = rec.raw_len;
			snprintf(j->reason, sizeof j->reason, "%s", rerr.message);
			l->reason = j->reason;
			return 1;
		}
		if (rc < 0) {
			sl_error_set(err, rc, "%s", rerr.message);
			return rc;
		}
		if (rc == 0)
			return 0;
		if (blank(rec.raw, rec.raw_len))
			continue;
		l->line = rec.line;
		l->raw = rec.raw;
		l->raw_len = rec.raw_len;
		json_error_t jerr;
		json_t *v = json_loadb(rec.raw, rec.raw_len, 0, &jerr);
		if (!v) {
			snprintf(j->reason, sizeof j->reason, "not valid JSON: %s", jerr.text);
			l->reason = j->reason;
		} else if (!json_is_object(v)) {
			json_decref(v);
			l->reason = "not a JSON object";
		} else {
			l->record = v;
		}
		return 1;
	}
}

uint64_t sl_file_jsonl_bytes(const sl_file_jsonl *j)
{
	return j && j->r ? sl_csv_reader_bytes(j->r) : 0;
}

void sl_file_jsonl_close(sl_file_jsonl *j)
{
	if (!j)
		return;
	sl_csv_reader_close(j->r);
	sl_free(j);
}
