/*
 * site_int.h (private to docs/): the pieces of the documentation site —
 * escaping of project text for HTML and for JSON inside <script>, the
 * site's data (manifest, catalog, column lineage and test results in one
 * JSON object), the lineage graph laid out by Graphviz, and the embedded
 * CSS and JavaScript (src/docs/assets/, compiled in by CMake).
 */
#ifndef SL_DOCS_SITE_INT_H
#define SL_DOCS_SITE_INT_H

#include <jansson.h>

#include "base/base.h"

/* Appends s with & < > " ' replaced by character references. */
int sl_docs_html_escape(sl_buf *b, const char *s);

/*
 * Appends JSON text so that it can sit inside <script type=
 * "application/json">: "</" becomes "<\/" and "<!--" "\u003c!--" (both
 * only occur inside JSON strings, where they mean the same), so no text
 * of the project can close the script element.
 */
int sl_docs_script_json(sl_buf *b, const char *json);

/* Appends s percent-encoded for a URL fragment (as encodeURIComponent). */
int sl_docs_url_encode(sl_buf *b, const char *s);

/* The href of a node's page: "#!/<resource_type>/<unique_id encoded>". */
int sl_docs_node_href(sl_buf *b, const char *resource_type, const char *unique_id);

/*
 * The site's data from the artifacts (catalog and lineage may be NULL) and
 * the last test results of project_dir's state store (NULL or no
 * .sluice/state.db: none). *out is a new reference.
 */
int sl_docs_site_data(json_t **out, json_t *manifest, json_t *catalog, json_t *lineage,
		      const char *project_dir, sl_error *err);

/*
 * The lineage graph of every model, seed, snapshot and source of the
 * manifest (tests are shown on their nodes' pages), laid out by dot and
 * rendered as an <svg> element (no XML prolog) appended to out: nodes
 * coloured by type (class "sl-<type>"), id "sl-node-<unique_id>", each a
 * link to its page.
 */
int sl_docs_lineage_svg(sl_buf *out, json_t *manifest, sl_error *err);

/* The embedded assets (NUL-terminated; generated from src/docs/assets/). */
extern const unsigned char sl_docs_asset_css[];
extern const unsigned char sl_docs_asset_js[];

#endif
