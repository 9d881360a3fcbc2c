/*
 * docs_generate.c: `sluice docs generate` — every node compiled, the
 * warehouse's catalog read for the project's relations, then
 * target/manifest.json (with compiled code), target/catalog.json (dbt's
 * catalog v1: columns, types, comments, row counts of tables),
 * target/column_lineage.json (sluice's own: each model's output columns
 * traced to their inputs) and the documentation site.
 */
#include "docs/docs_int.h"
#include "quality/quality.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A relation of the catalog and its columns. */
typedef struct cat_col {
	const char *name, *type, *comment;
	int index;
} cat_col;

typedef struct cat_rel {
	const char *schema, *name;
	bool view;
	const char *comment, *owner;
	cat_col *cols;
	const char **names;  /* the column names, for lineage */
	int ncols, cap;
	bool used;           /* matched to a node or source */
} cat_rel;

typedef struct catalog {
	sl_arena *a;
	cat_rel *rels;
	int n, cap;
	const char *default_schema;
} catalog;

static int on_column(void *ud, const sl_wh_catalog_column *c, sl_error *err)
{
	catalog *cat = ud;
	cat_rel *r = cat->n ? &cat->rels[cat->n - 1] : NULL;
	if (!r || strcmp(r->schema, c->schema) != 0 || strcmp(r->name, c->table) != 0) {
		if (cat->n == cat->cap) {
			int cap = cat->cap ? cat->cap * 2 : 32;
			cat_rel *nv = sl_realloc(cat->rels, sizeof *nv * (size_t)cap);
			if (!nv)
				return sl_error_set(err, SL_ENOMEM, "out of memory");
			cat->rels = nv;
			cat->cap = cap;
		}
		r = &cat->rels[cat->n++];
		memset(r, 0, sizeof *r);
		r->schema = sl_arena_strdup(cat->a, c->schema);
		r->name = sl_arena_strdup(cat->a, c->table);
		r->view = c->kind == SL_WH_REL_VIEW;
		r->comment = c->relation_comment ? sl_arena_strdup(cat->a, c->relation_comment) : NULL;
		r->owner = c->owner ? sl_arena_strdup(cat->a, c->owner) : NULL;
		if (!r->schema || !r->name)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	if (r->ncols == r->cap) {
		int cap = r->cap ? r->cap * 2 : 8;
		cat_col *nc = sl_arena_alloc(cat->a, sizeof *nc * (size_t)cap);
		const char **nn = sl_arena_alloc(cat->a, sizeof *nn * (size_t)cap);
		if (!nc || !nn)
			return sl_error_set(err, SL_ENOMEM, "out of memory");
		if (r->ncols) {
			memcpy(nc, r->cols, sizeof *nc * (size_t)r->ncols);
			memcpy(nn, r->names, sizeof *nn * (size_t)r->ncols);
		}
		r->cols = nc;
		r->names = nn;
		r->cap = cap;
	}
	cat_col *col = &r->cols[r->ncols];
	col->name = sl_arena_strdup(cat->a, c->column);
	col->type = sl_arena_strdup(cat->a, c->data_type ? c->data_type : "");
	col->comment = c->comment ? sl_arena_strdup(cat->a, c->comment) : NULL;
	col->index = c->index;
	if (!col->name || !col->type)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	r->names[r->ncols++] = col->name;
	return 0;
}

/* The relation schema.name (schema NULL: the default one); identifiers
 * compared ignoring ASCII case, as SQLite does and as dbt's catalog
 * matching does. */
static cat_rel *find_rel(catalog *cat, const char *schema, const char *name)
{
	if (!schema)
		schema = cat->default_schema;
	for (int i = 0; name && schema && i < cat->n; i++)
		if (strcasecmp(cat->rels[i].schema, schema) == 0 &&
		    strcasecmp(cat->rels[i].name, name) == 0)
			return &cat->rels[i];
	return NULL;
}

/* ---------------------------------------------------------- catalog.json */

static json_t *stat_json(d_json *j, const char *id, const char *label, json_t *value,
			 bool include, const char *description)
{
	json_t *s = d_obj(j);
	d_set(j, s, "id", d_str(j, id));
	d_set(j, s, "label", d_str(j, label));
	d_set(j, s, "value", value);
	d_set(j, s, "include", d_bool(j, include));
	d_set(j, s, "description", d_str(j, description));
	return s;
}

static json_t *table_json(d_json *j, sl_wh *wh, cat_rel *r, const char *unique_id,
			  const char *database)
{
	json_t *o = d_obj(j);
	bool pg = wh && strcmp(sl_wh_type(wh), "postgres") == 0;
	json_t *md = d_obj(j);
	/* each adapter's dbt names the kind its own way */
	d_set(j, md, "type", d_str(j, r->view ? (pg ? "VIEW" : "view") : (pg ? "BASE TABLE" : "table")));
	d_set(j, md, "schema", d_str(j, r->schema));
	d_set(j, md, "name", d_str(j, r->name));
	d_set(j, md, "database", d_str(j, database));
	d_set(j, md, "comment", d_str(j, r->comment));
	d_set(j, md, "owner", d_str(j, r->owner));
	d_set(j, o, "metadata", md);
	json_t *cols = d_obj(j);
	for (int i = 0; i < r->ncols; i++) {
		json_t *c = d_obj(j);
		d_set(j, c, "type", d_str(j, r->cols[i].type));
		d_set(j, c, "index", d_int(j, r->cols[i].index));
		d_set(j, c, "name", d_str(j, r->cols[i].name));
		d_set(j, c, "comment", d_str(j, r->cols[i].comment));
		d_set(j, cols, r->cols[i].name, c);
	}
	d_set(j, o, "columns", cols);

	/* Row counts of tables: an exact count(*) (views are not counted). */
	json_t *stats = d_obj(j);
	char *count = NULL;
	int64_t rows = -1;
	if (!r->view && wh) {
		sl_buf sql = SL_BUF_INIT;
		sl_error e = SL_ERROR_INIT;
		if (sl_buf_puts(&sql, "SELECT count(*) FROM ") == 0 &&
		    sl_wh_quote_table(wh, &sql, r->schema, r->name, &e) == 0 &&
		    sl_wh_query_value(wh, sql.data, &count, &e) == 0 && count)
			sl_parse_int64(count, strlen(count), &rows);
		sl_buf_free(&sql);
		sl_free(count);
	}
	if (rows >= 0) {
		d_set(j, stats, "row_count",
		      stat_json(j, "row_count", "Row Count", d_int(j, rows), true,
				"Number of rows in the table"));
	}
	d_set(j, stats, "has_stats",
	      stat_json(j, "has_stats", "Has Stats?", d_bool(j, rows >= 0), false,
			"Indicates whether there are statistics for this table"));
	d_set(j, o, "stats", stats);
	d_set(j, o, "unique_id", d_str(j, unique_id));
	return o;
}

static json_t *catalog_json(d_json *j, sl_models *m, sl_wh *wh, catalog *cat,
			    const sl_docs_invocation *inv, const char *error, sl_arena *a)
{
	json_t *root = d_obj(j), *nodes = d_obj(j), *sources = d_obj(j);
	d_set(j, root, "metadata", d_metadata(j, SL_DOCS_CATALOG_SCHEMA, inv));
	for (int i = 0; i < sl_models_count(m); i++) {
		const sl_node *n = sl_models_node(m, i);
		if (!n || n->type == SL_NODE_TEST || n->materialized == SL_MAT_EPHEMERAL)
			continue;
		cat_rel *r = find_rel(cat, n->schema, n->alias ? n->alias : n->name);
		if (!r)
			continue;
		r->used = true;
		d_set(j, nodes, n->unique_id, table_json(j, wh, r, n->unique_id, d_database(inv, n->database)));
	}
	for (int i = 0; i < sl_models_source_count(m); i++) {
		const sl_model_source *s = sl_models_source_at(m, i);
		if (!s || !s->source || !s->table)
			continue;
		cat_rel *r = find_rel(cat, s->schema, s->identifier ? s->identifier : s->table);
		if (!r)
			continue;
		const char *id = s->unique_id;
		if (!id)
			id = sl_arena_sprintf(a, "source.%s.%s.%s",
					      s->package ? s->package : sl_models_project_name(m),
					      s->source, s->table);
		if (id && !json_object_get(sources, id))
			d_set(j, sources, id, table_json(j, wh, r, id, d_database(inv, s->database)));
	}
	d_set(j, root, "nodes", nodes);
	d_set(j, root, "sources", sources);
	if (error) {
		json_t *errs = d_arr(j);
		d_push(j, errs, d_str(j, error));
		d_set(j, root, "errors", errs);
	} else {
		d_set(j, root, "errors", d_null(j));
	}
	return root;
}

/* ---------------------------------------------------- column_lineage.json */

static int lineage_columns(void *ud, const char *node, const char *schema, const char *table,
			   const char *const **cols, int *ncols, sl_error *err)
{
	catalog *cat = ud;
	(void)node;
	(void)err;
	cat_rel *r = find_rel(cat, schema, table);
	*cols = r ? r->names : NULL;
	*ncols = r ? r->ncols : -1;
	return 0;
}

static const char *how_name(sl_lineage_how h)
{
	switch (h) {
	case SL_LINEAGE_TRANSFORMED: return "transformed";
	case SL_LINEAGE_AGGREGATED: return "aggregated";
	default: return "direct";
	}
}

static json_t *lineage_json(d_json *j, const sl_lineage *l)
{
	json_t *o = d_obj(j), *cols = d_obj(j);
	d_set(j, o, "error", d_str(j, l->error));
	for (int i = 0; i < l->ncolumns; i++) {
		const sl_lineage_column *c = &l->columns[i];
		json_t *col = d_obj(j), *from = d_arr(j);
		d_set(j, col, "how", d_str(j, how_name(c->how)));
		for (int k = 0; k < c->nfrom; k++) {
			json_t *f = d_obj(j);
			d_set(j, f, "node", d_str(j, c->from[k].node));
			d_set(j, f, "relation", d_str(j, c->from[k].relation));
			d_set(j, f, "column", d_str(j, c->from[k].column));
			d_push(j, from, f);
		}
		d_set(j, col, "from", from);
		if (c->name)
			d_set(j, cols, c->name, col);
		else
			json_decref(col);
	}
	d_set(j, o, "columns", cols);
	return o;
}

static int write_lineage(sl_models *m, catalog *cat, char **compiled,
			 const sl_docs_invocation *inv, const char *target_dir, sl_error *err)
{
	d_json j = {false};
	json_t *root = d_obj(&j), *nodes = d_obj(&j);
	int rc = 0;
	json_t *md = d_obj(&j);
	d_set(&j, md, "generated_at",
	      d_time(&j, inv && inv->generated_at ? inv->generated_at : sl_now_micros()));
	d_set(&j, md, "invocation_id", d_str(&j, inv ? inv->invocation_id : NULL));
	d_set(&j, root, "metadata", md);
	for (int i = 0; rc == 0 && i < sl_models_count(m); i++) {
		const sl_node *n = sl_models_node(m, i);
		if (!n || n->type != SL_NODE_MODEL)
			continue;
		if (!compiled[i]) {
			json_t *o = d_obj(&j);
			d_set(&j, o, "error", d_str(&j, inv && inv->no_compile
							 ? "not compiled (--no-compile)"
							 : "not compiled"));
			d_set(&j, o, "columns", d_obj(&j));
			d_set(&j, nodes, n->unique_id, o);
			continue;
		}
		sl_lineage l;
		memset(&l, 0, sizeof l);
		rc = sl_lineage_of_node(m, i, compiled[i], lineage_columns, cat, &l, err);
		if (rc == 0)
			d_set(&j, nodes, n->unique_id, lineage_json(&j, &l));
		else
			sl_error_prefix(err, "column lineage of %s: ", n->unique_id);
		sl_lineage_free(&l);
	}
	d_set(&j, root, "nodes", nodes);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	return d_write(&j, root, target_dir, "column_lineage.json", err);
}

/* ------------------------------------------------------------- generate */

/* The schemas the project's relations and sources live in. */
static int project_schemas(sl_models *m, sl_wh *wh, const char ***out, int *n, sl_error *err)
{
	int cap = sl_models_count(m) + sl_models_source_count(m) + 1;
	const char **v = sl_calloc((size_t)cap, sizeof *v);
	if (!v)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	int k = 0;
	v[k++] = sl_wh_schema(wh);
	for (int i = 0; i < sl_models_count(m); i++) {
		const sl_node *nd = sl_models_node(m, i);
		if (nd && nd->type != SL_NODE_TEST && nd->schema)
			v[k++] = nd->schema;
	}
	for (int i = 0; i < sl_models_source_count(m); i++) {
		const sl_model_source *s = sl_models_source_at(m, i);
		if (s && s->schema)
			v[k++] = s->schema;
	}
	*out = v;
	*n = k;
	return 0;
}

int sl_docs_generate(sl_models *m, const sl_project *p, sl_wh *wh,
		     const sl_docs_invocation *inv, const char *target_dir, sl_error *err)
{
	int count = sl_models_count(m), rc = 0;
	char **compiled = sl_calloc((size_t)count + 1, sizeof *compiled);
	const char **schemas = NULL;
	int nschemas = 0;
	sl_arena a;
	sl_arena_init(&a, 16384);
	catalog cat = {.a = &a, .default_schema = wh ? sl_wh_schema(wh) : NULL};
	char cat_error[1100] = "";
	d_json j = {false};

	if (!compiled) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	/* Compile every model and snapshot (dbt's docs generate does, and
	 * fails when one does not compile); tests are compiled when they can
	 * be, for their compiled code. */
	for (int i = 0; !(inv && inv->no_compile) && i < count; i++) {
		const sl_node *n = sl_models_node(m, i);
		if (!n || n->type == SL_NODE_SEED)
			continue;
		sl_error e = SL_ERROR_INIT;
		rc = sl_models_compile(m, i, wh, true, &compiled[i], &e);
		if (rc < 0 && n->type == SL_NODE_TEST) {
			compiled[i] = NULL;
			rc = 0;
			continue;
		}
		if (rc < 0) {
			*err = e;
			sl_error_prefix(err, "compile %s: ", n->unique_id);
			goto done;
		}
	}

	/* The catalog of the schemas the project uses. */
	if (wh) {
		sl_error e = SL_ERROR_INIT;
		if ((rc = project_schemas(m, wh, &schemas, &nschemas, err)) < 0)
			goto done;
		if (sl_wh_catalog(wh, schemas, nschemas, on_column, &cat, &e) < 0) {
			if (e.code == SL_ENOMEM) {
				rc = sl_error_set(err, SL_ENOMEM, "out of memory");
				goto done;
			}
			snprintf(cat_error, sizeof cat_error, "%s", e.message);
			sl_warn("docs generate: the warehouse's catalog could not be read: %s",
				e.message);
		}
	} else {
		snprintf(cat_error, sizeof cat_error, "the warehouse could not be reached");
	}

	json_t *manifest = d_manifest(&j, m, inv, (const char *const *)compiled, &a);
	if ((rc = d_write(&j, manifest, target_dir, "manifest.json", err)) < 0)
		goto done;
	json_t *catjson = catalog_json(&j, m, wh, &cat, inv, cat_error[0] ? cat_error : NULL, &a);
	if ((rc = d_write(&j, catjson, target_dir, "catalog.json", err)) < 0)
		goto done;
	if ((rc = write_lineage(m, &cat, compiled, inv, target_dir, err)) < 0)
		goto done;
	rc = sl_docs_write_site(target_dir, p ? p->dir : NULL, err);
done:
	for (int i = 0; compiled && i < count; i++)
		sl_free(compiled[i]);
	sl_free(compiled);
	sl_free(schemas);
	sl_free(cat.rels);
	sl_arena_free(&a);
	return rc;
}
