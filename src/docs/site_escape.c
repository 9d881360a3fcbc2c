/*
 * site_escape.c: every text of the project reaches the site through these
 * escapes — HTML character references for text and attributes, a <script>-
 * safe form of JSON, and percent-encoding for the hash routes.
 */
#include "docs/site_int.h"

#include <string.h>

int sl_docs_html_escape(sl_buf *b, const char *s)
{
	const char *run = s;
	int rc = 0;
	for (const char *p = s; *p && rc == 0; p++) {
		const char *ref = NULL;
		switch (*p) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\'': ref = "&#39;"; break;
		default: continue;
		}
		rc = sl_buf_append(b, run, (size_t)(p - run));
		if (rc == 0)
			rc = sl_buf_puts(b, ref);
		run = p + 1;
	}
	if (rc == 0)
		rc = sl_buf_puts(b, run);
	return rc;
}

int sl_docs_script_json(sl_buf *b, const char *json)
{
	const char *run = json;
	int rc = 0;
	for (const char *p = json; *p && rc == 0; p++) {
		const char *with;
		size_t skip;
		if (p[0] != '<')
			continue;
		if (p[1] == '/') {
			with = "<\\/";
			skip = 2;
		} else if (!strncmp(p, "<!--", 4)) {
			with = "\\u003c!--";
			skip = 4;
		} else {
			continue;
		}
		rc = sl_buf_append(b, run, (size_t)(p - run));
		if (rc == 0)
			rc = sl_buf_puts(b, with);
		p += skip - 1;
		run = p + 1;
	}
	if (rc == 0)
		rc = sl_buf_puts(b, run);
	return rc;
}

int sl_docs_url_encode(sl_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.!~*()", c))
			rc = sl_buf_putc(b, (char)c);
		else
			rc = sl_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

int sl_docs_node_href(sl_buf *b, const char *resource_type, const char *unique_id)
{
	int rc = sl_buf_puts(b, "#!/");
	if (rc == 0)
		rc = sl_docs_url_encode(b, resource_type);
	if (rc == 0)
		rc = sl_buf_putc(b, '/');
	if (rc == 0)
		rc = sl_docs_url_encode(b, unique_id);
	return rc;
}
