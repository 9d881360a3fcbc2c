/*
 * site.c: `docs generate`'s static site — target/docs/index.html, one
 * self-contained page: the site's data as JSON in a <script type=
 * "application/json"> element, the lineage graph as inline SVG, and the
 * CSS and JavaScript that draw every page from them. It opens from
 * file:// with no server and no internet; the JavaScript routes on the
 * URL's hash ("#!/model/<unique_id>") and writes every text of the
 * project through textContent, never as markup.
 */
#include "docs/docs.h"
#include "docs/site_int.h"

#include <string.h>

/* Artifacts are read whole; a manifest of a very large project is tens
 * of megabytes. */
#define SITE_JSON_MAX ((size_t)1 << 30)

/* Reads target_dir/name; a missing optional file leaves *out NULL. */
static int load_json(json_t **out, const char *target_dir, const char *name, bool required,
		     sl_error *err)
{
	sl_buf b = SL_BUF_INIT;
	json_error_t jerr;
	char *path = sl_path_join(target_dir, name);
	int rc = 0;

	*out = NULL;
	if (!path)
		return sl_error_set(err, SL_ENOMEM, "docs site: out of memory");
	if (!sl_path_exists(path)) {
		if (required)
			rc = sl_error_set(err, SL_ENOTFOUND, "docs site: %s not found; run `sluice "
							     "docs generate`", path);
		goto done;
	}
	rc = sl_file_read_all(&b, path, SITE_JSON_MAX, err);
	if (rc < 0) {
		sl_error_prefix(err, "docs site: ");
		goto done;
	}
	*out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
	if (!*out || !json_is_object(*out)) {
		rc = sl_error_set(err, SL_EFORMAT, "docs site: %s:%d:%d: %s", path, jerr.line,
				  jerr.column, *out ? "not a JSON object" : jerr.text);
		json_decref(*out);
		*out = NULL;
	}
done:
	sl_buf_free(&b);
	sl_free(path);
	return rc;
}

static int put_html(sl_buf *b, json_t *data, const char *svg)
{
	const char *project = json_string_value(json_object_get(json_object_get(data, "meta"),
							       "project"));
	char *json = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
	int rc = json ? 0 : SL_ENOMEM;

	if (rc == 0)
		rc = sl_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
				    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
				    "<meta name=\"generator\" content=\"sluice docs generate\">\n<title>");
	if (rc == 0 && project) {
		rc = sl_docs_html_escape(b, project);
		if (rc == 0)
			rc = sl_buf_puts(b, " \xe2\x80\x94 ");
	}
	if (rc == 0)
		rc = sl_buf_puts(b, "sluice docs</title>\n<style>\n");
	if (rc == 0)
		rc = sl_buf_puts(b, (const char *)sl_docs_asset_css);
	if (rc == 0)
		rc = sl_buf_puts(b, "</style>\n</head>\n<body>\n"
				    "<header id=\"top\"><a class=\"brand\" href=\"#!/overview\">sluice docs</a>"
				    "<span id=\"project\"></span>"
				    "<input id=\"search\" type=\"search\" placeholder=\"Search models, "
				    "sources, tests\xe2\x80\xa6\" autocomplete=\"off\" aria-label=\"Search\">"
				    "</header>\n<div id=\"layout\">\n<nav id=\"nav\" aria-label=\"Project\"></nav>\n"
				    "<main>\n<section id=\"graph-page\" hidden>\n<div id=\"graph-head\"></div>\n"
				    "<div id=\"graph\">");
	if (rc == 0)
		rc = sl_buf_puts(b, svg);
	if (rc == 0)
		rc = sl_buf_puts(b, "</div>\n</section>\n<section id=\"page\" hidden></section>\n"
				    "<noscript><p>This site needs JavaScript to show its pages.</p>"
				    "</noscript>\n</main>\n</div>\n"
				    "<script type=\"application/json\" id=\"sluice-data\">");
	if (rc == 0)
		rc = sl_docs_script_json(b, json);
	if (rc == 0)
		rc = sl_buf_puts(b, "</script>\n<script>\n");
	if (rc == 0)
		rc = sl_buf_puts(b, (const char *)sl_docs_asset_js);
	if (rc == 0)
		rc = sl_buf_puts(b, "</script>\n</body>\n</html>\n");
	free(json); /* jansson's allocator */
	return rc;
}

int sl_docs_write_site(const char *target_dir, const char *project_dir, sl_error *err)
{
	json_t *manifest = NULL, *catalog = NULL, *lineage = NULL, *data = NULL;
	sl_buf svg = SL_BUF_INIT, html = SL_BUF_INIT;
	char *docs_dir = NULL, *index = NULL;
	int rc;

	rc = load_json(&manifest, target_dir, "manifest.json", true, err);
	if (rc == 0)
		rc = load_json(&catalog, target_dir, "catalog.json", false, err);
	if (rc == 0)
		rc = load_json(&lineage, target_dir, "column_lineage.json", false, err);
	if (rc == 0)
		rc = sl_docs_site_data(&data, manifest, catalog, lineage, project_dir, err);
	if (rc == 0)
		rc = sl_docs_lineage_svg(&svg, manifest, err);
	if (rc < 0)
		goto done;
	rc = put_html(&html, data, svg.data ? svg.data : "");
	if (rc < 0) {
		sl_error_set(err, rc, "docs site: out of memory");
		goto done;
	}
	docs_dir = sl_path_join(target_dir, "docs");
	index = docs_dir ? sl_path_join(docs_dir, "index.html") : NULL;
	if (!index) {
		rc = sl_error_set(err, SL_ENOMEM, "docs site: out of memory");
		goto done;
	}
	rc = sl_mkdirs(docs_dir, err);
	if (rc == 0)
		rc = sl_file_write_atomic(index, html.data, html.len, err);
	if (rc < 0)
		sl_error_prefix(err, "docs site: ");
done:
	json_decref(manifest);
	json_decref(catalog);
	json_decref(lineage);
	json_decref(data);
	sl_buf_free(&svg);
	sl_buf_free(&html);
	sl_free(docs_dir);
	sl_free(index);
	return rc;
}
