/*
 * docs_json.c: the JSON builder the artifact writers share (jansson values
 * with one out-of-memory flag per document), dbt's artifact metadata, and
 * the atomic write of an artifact into target/.
 */
#include "docs/docs_int.h"

#include <stdio.h>
#include <string.h>

static json_t *check(d_json *j, json_t *v)
{
	if (!v)
		j->oom = true;
	return v;
}

json_t *d_str(d_json *j, const char *s)
{
	if (!s)
		return check(j, json_null());
	size_t n = strlen(s);
	if (sl_utf8_valid(s, n))
		return check(j, json_stringn(s, n));
	char *copy = sl_strndup(s, n);
	if (!copy)
		return check(j, NULL);
	/* bytes past ASCII are what make it invalid here: mark them */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	json_t *v = json_stringn(copy, n);
	sl_free(copy);
	return check(j, v);
}

json_t *d_astr(d_json *j, const char *s)
{
	if (!s) {
		j->oom = true;
		return NULL;
	}
	return d_str(j, s);
}

json_t *d_str0(d_json *j, const char *s) { return d_str(j, s ? s : ""); }
json_t *d_int(d_json *j, int64_t v) { return check(j, json_integer((json_int_t)v)); }
json_t *d_real(d_json *j, double v) { return check(j, json_real(v)); }
json_t *d_bool(d_json *j, bool v) { return check(j, json_boolean(v)); }
json_t *d_null(d_json *j) { return check(j, json_null()); }
json_t *d_obj(d_json *j) { return check(j, json_object()); }
json_t *d_arr(d_json *j) { return check(j, json_array()); }

json_t *d_parse(d_json *j, const char *text, const char *dflt)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (!v)
		v = json_loads(dflt, JSON_DECODE_ANY, NULL);
	return check(j, v);
}

json_t *d_strs(d_json *j, const char *const *v, int n)
{
	json_t *a = d_arr(j);
	for (int i = 0; a && i < n; i++)
		d_push(j, a, d_str(j, v[i]));
	return a;
}

void d_set(d_json *j, json_t *o, const char *k, json_t *v)
{
	if (!v) {
		j->oom = true;
		return;
	}
	if (!o || json_object_set_new(o, k, v) < 0)
		j->oom = true;
	if (!o)
		json_decref(v);
}

void d_push(d_json *j, json_t *a, json_t *v)
{
	if (!v) {
		j->oom = true;
		return;
	}
	if (!a || json_array_append_new(a, v) < 0)
		j->oom = true;
	if (!a)
		json_decref(v);
}

json_t *d_time(d_json *j, int64_t micros)
{
	char ts[48];
	if (micros == 0)
		return d_null(j);
	sl_timestamp_format_iso6(micros, ts);
	return d_str(j, ts);
}

json_t *d_metadata(d_json *j, const char *schema, const sl_docs_invocation *inv)
{
	json_t *md = d_obj(j);
	d_set(j, md, "dbt_schema_version", d_str(j, schema));
	d_set(j, md, "dbt_version", d_str(j, SL_DOCS_SLUICE_VERSION));
	d_set(j, md, "generated_at",
	      d_time(j, inv && inv->generated_at ? inv->generated_at : sl_now_micros()));
	d_set(j, md, "invocation_id", d_str(j, inv ? inv->invocation_id : NULL));
	d_set(j, md, "env", d_obj(j));
	return md;
}

int d_write(d_json *j, json_t *root, const char *target_dir, const char *name,
	    sl_error *err)
{
	char *text = NULL, *path = NULL;
	int rc = 0;
	if (j->oom || !root) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = sl_mkdirs(target_dir, err)) < 0)
		goto done;
	text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
	path = sl_path_join(target_dir, name);
	if (!text || !path) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	rc = sl_file_write_atomic(path, text, strlen(text), err);
	if (rc < 0)
		sl_error_prefix(err, "%s: ", path);
done:
	free(text); /* jansson's */
	sl_free(path);
	json_decref(root);
	return rc;
}

static int put_ident(sl_buf *b, const char *s)
{
	if (sl_buf_putc(b, '"') < 0)
		return -1;
	for (; *s; s++)
		if ((*s == '"' && sl_buf_putc(b, '"') < 0) || sl_buf_putc(b, *s) < 0)
			return -1;
	return sl_buf_putc(b, '"');
}

const char *sl_docs_target_database(const sl_target *t)
{
	if (!t || !t->type || strcmp(t->type, "postgres") != 0 || !t->dbname || !*t->dbname)
		return NULL;
	return t->dbname;
}

const char *d_database(const sl_docs_invocation *inv, const char *own)
{
	if (own && *own)
		return own;
	return inv ? inv->database : NULL;
}

const char *d_relation_name(sl_arena *a, const char *database, const char *schema,
			    const char *alias)
{
	sl_buf b = SL_BUF_INIT;
	const char *out = NULL;
	if (!alias)
		return NULL;
	if ((database && *database && (put_ident(&b, database) < 0 || sl_buf_putc(&b, '.') < 0)) ||
	    (schema && *schema && (put_ident(&b, schema) < 0 || sl_buf_putc(&b, '.') < 0)) ||
	    put_ident(&b, alias) < 0)
		goto done;
	out = sl_arena_strdup(a, b.data);
done:
	sl_buf_free(&b);
	return out;
}

const char *d_source_id(sl_models *m, sl_arena *a, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	size_t sn = dot ? (size_t)(dot - dotted) : strlen(dotted);
	const char *table = dot ? dot + 1 : "";
	for (int i = 0; i < sl_models_source_count(m); i++) {
		const sl_model_source *s = sl_models_source_at(m, i);
		if (s && s->source && s->table && strlen(s->source) == sn &&
		    strncmp(s->source, dotted, sn) == 0 && strcmp(s->table, table) == 0) {
			if (s->unique_id)
				return s->unique_id;
			return sl_arena_sprintf(a, "source.%s.%s.%s",
						s->package ? s->package : sl_models_project_name(m),
						s->source, s->table);
		}
	}
	return sl_arena_sprintf(a, "source.%s.%.*s.%s", sl_models_project_name(m), (int)sn, dotted,
				table);
}
