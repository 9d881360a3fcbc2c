/*
 * lake.c: the lake handle (a store plus its URL), table names and their
 * listing, and the Spark StructType JSON that Delta's metaData carries as
 * schemaString.
 */
#include "lake/lake_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_lake_open(sl_lake **out, const char *url, sl_error *err)
{
	sl_lake *lake = NULL;
	*out = NULL;
	int rc = sl_alloc_zeroed((void **)&lake, sizeof *lake, err);
	if (rc < 0)
		return rc;
	pthread_mutex_init(&lake->cache_mu, NULL);
	lake->url = sl_strdup(url ? url : "");
	if (!lake->url) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto fail;
	}
	rc = sl_store_open(&lake->store, url, err);
	if (rc < 0) {
		sl_error_prefix(err, "lake %s: ", url ? url : "");
		goto fail;
	}
	lake->local = !sl_str_starts_with(url, "s3://");
	*out = lake;
	return 0;
fail:
	sl_lake_close(lake);
	return rc;
}

void sl_lake_close(sl_lake *lake)
{
	if (!lake)
		return;
	sl_lake_cache_free(lake);
	pthread_mutex_destroy(&lake->cache_mu);
	sl_store_free(lake->store);
	sl_free(lake->url);
	sl_free(lake);
}

sl_store *sl_lake_store(sl_lake *lake) { return lake->store; }

const char *sl_lake_url(const sl_lake *lake) { return lake->url; }

void sl_lake_set_commit_lock(sl_lake *lake, sl_lake_lock_fn lock, sl_lake_unlock_fn unlock,
			     void *ctx)
{
	lake->lock = lock;
	lake->unlock = lock ? unlock : NULL;
	lake->lock_ctx = lock ? ctx : NULL;
}

int sl_lake_check_table(const char *table, sl_error *err)
{
	if (!table || !*table)
		return sl_error_set(err, SL_EINVAL, "empty lake table name");
	if (table[0] == '/' || table[strlen(table) - 1] == '/')
		return sl_error_set(err, SL_EINVAL,
				    "invalid lake table name '%s': no leading or trailing '/'", table);
	for (const char *p = table; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 10 && !strncmp(p, "_delta_log", 10)))
			return sl_error_set(err, SL_EINVAL,
					    "invalid lake table name '%s': bad segment '%.*s'", table,
					    (int)n, p);
		p += n + (e ? 1 : 0);
	}
	for (const unsigned char *p = (const unsigned char *)table; *p; p++)
		if (*p < 0x20 || *p == '\\' || *p == 0x7f)
			return sl_error_set(err, SL_EINVAL,
					    "invalid lake table name '%s': control character or '\\'",
					    table);
	return 0;
}

char *sl_lake_log_key(const char *table, int64_t v)
{
	size_t n = strlen(table) + 64;
	char *k = sl_malloc(n);
	if (k)
		snprintf(k, n, "%s/_delta_log/%020lld.json", table, (long long)v);
	return k;
}

char *sl_lake_path_decode(const char *path)
{
	char *d = sl_strdup(path);
	if (!d)
		return NULL;
	char *w = d;
	for (const char *p = path; *p; p++) {
		if (p[0] == '%' && sl_hex_digit(p[1]) >= 0 && sl_hex_digit(p[2]) >= 0) {
			*w++ = (char)(sl_hex_digit(p[1]) * 16 + sl_hex_digit(p[2]));
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return d;
}

void sl_lake_uuid4(char out[37])
{
	char hex[33];
	sl_random_hex(hex, 16);
	hex[12] = '4';
	hex[16] = "89ab"[hex[16] % 4];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
}

/* A key ".../_delta_log/NNNNNNNNNNNNNNNNNNNN.json" names a log version. */
static bool is_log_version_name(const char *name)
{
	if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0)
		return false;
	for (int i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_lake_list_tables(sl_lake *lake, char ***out, int *n, sl_error *err)
{
	sl_store_entry *e = NULL;
	size_t ne = 0;
	char **names = NULL;
	int count = 0, cap = 0;
	*out = NULL;
	*n = 0;
	int rc = sl_store_list(lake->store, "", &e, &ne, err);
	if (rc < 0)
		return sl_error_prefix(err, "lake %s: ", lake->url);
	for (size_t i = 0; i < ne; i++) {
		const char *k = e[i].key;
		const char *m = strstr(k, "/_delta_log/");
		/* the first file of the log marks a table */
		if (!m || m == k || strchr(m + 12, '/') || !is_log_version_name(m + 12))
			continue;
		size_t tn = (size_t)(m - k);
		if (count && strlen(names[count - 1]) == tn && !strncmp(names[count - 1], k, tn))
			continue;
		if (count == cap) {
			int nc = cap ? cap * 2 : 16;
			char **d = sl_realloc(names, (size_t)nc * sizeof *d);
			if (!d)
				goto oom;
			names = d;
			cap = nc;
		}
		names[count] = sl_strndup(k, tn);
		if (!names[count])
			goto oom;
		count++;
	}
	sl_store_entries_free(e, ne);
	if (count > 1)
		qsort(names, (size_t)count, sizeof *names, name_cmp);
	*out = names;
	*n = count;
	return 0;
oom:
	sl_store_entries_free(e, ne);
	sl_lake_names_free(names, count);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}

void sl_lake_names_free(char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		sl_free(names[i]);
	sl_free(names);
}

/* ------------------------------------------------------------ schemas */

static const char *spark_type(sl_type t, char *buf, size_t n)
{
	switch (t.id) {
	case SL_BOOL: return "boolean";
	case SL_INT32: return "integer";
	case SL_INT64: return "long";
	case SL_FLOAT64: return "double";
	case SL_DECIMAL: snprintf(buf, n, "decimal(%d,%d)", t.precision, t.scale); return buf;
	case SL_STRING: return "string";
	case SL_DATE: return "date";
	case SL_TIMESTAMP: return "timestamp";
	}
	return "string";
}

char *sl_lake_schema_to_json(const sl_schema *s)
{
	json_t *fields = json_array(), *root = NULL;
	char tbuf[48], *text = NULL, *out = NULL;
	if (!fields)
		return NULL;
	for (int i = 0; i < s->nfields; i++) {
		const sl_field *f = &s->fields[i];
		json_t *jf = json_pack("{s:s, s:s, s:b, s:{}}", "name", f->name, "type",
				       spark_type(f->type, tbuf, sizeof tbuf), "nullable",
				       (int)f->nullable, "metadata");
		if (!jf || json_array_append_new(fields, jf) < 0)
			goto done;
	}
	root = json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
	fields = NULL;
	if (!root)
		goto done;
	text = json_dumps(root, JSON_COMPACT);
	if (text)
		out = sl_strdup(text);
done:
	free(text);
	json_decref(root);
	json_decref(fields);
	return out;
}

/* Maps a Spark primitive type name to ours. */
static int parse_spark_type(const char *name, sl_type *t)
{
	static const struct { const char *n; sl_type_id id; } map[] = {
		{"boolean", SL_BOOL},   {"byte", SL_INT32},   {"short", SL_INT32},
		{"integer", SL_INT32},  {"long", SL_INT64},   {"float", SL_FLOAT64},
		{"double", SL_FLOAT64}, {"string", SL_STRING}, {"date", SL_DATE},
		{"timestamp", SL_TIMESTAMP}, {"timestamp_ntz", SL_TIMESTAMP},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(name, map[i].n) == 0) {
			*t = sl_type_make(map[i].id);
			return 0;
		}
	}
	int p, sc, used = 0;
	if (sscanf(name, "decimal(%d,%d)%n", &p, &sc, &used) == 2 &&
	    (size_t)used == strlen(name) && p >= 1 && p <= SL_DECIMAL_MAX_PRECISION && sc >= 0 &&
	    sc <= p) {
		*t = sl_type_decimal(p, sc);
		return 0;
	}
	return SL_EFORMAT;
}

int sl_lake_schema_from_json(sl_schema **out, const char *json, sl_error *err)
{
	json_error_t je;
	sl_schema *s = NULL;
	int rc = 0;
	*out = NULL;
	json_t *root = json_loads(json, 0, &je);
	json_t *fields = root ? json_object_get(root, "fields") : NULL;
	if (!json_is_array(fields)) {
		rc = sl_error_set(err, SL_EFORMAT, "schemaString is not a struct type: %s",
				  root ? "no fields" : je.text);
		goto done;
	}
	s = sl_schema_new();
	if (!s) {
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
		goto done;
	}
	size_t i;
	json_t *f;
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		json_t *jt = json_object_get(f, "type");
		json_t *jn = json_object_get(f, "nullable");
		sl_type t;
		if (!name) {
			rc = sl_error_set(err, SL_EFORMAT, "schemaString: field %zu has no name", i);
			goto done;
		}
		if (!json_is_string(jt) || parse_spark_type(json_string_value(jt), &t) < 0) {
			rc = sl_error_set(err, SL_EFORMAT,
					  "schemaString: column '%s' has a type sluice does not "
					  "read (%s); supported: boolean, integer, long, double, "
					  "decimal(p,s), string, date, timestamp",
					  name, json_is_string(jt) ? json_string_value(jt) : "nested");
			goto done;
		}
		if (sl_schema_add(s, name, t, jn ? json_is_true(jn) : true) < 0) {
			rc = sl_error_set(err, SL_ENOMEM, "out of memory");
			goto done;
		}
	}
	*out = s;
	s = NULL;
done:
	sl_schema_free(s);
	json_decref(root);
	return rc;
}

int sl_lake_schema_merge(const sl_schema *table, const sl_schema *data, sl_schema **out,
			 bool *changed, const char *table_name, sl_error *err)
{
	char b1[48], b2[48];
	*out = NULL;
	*changed = false;
	if (!table) {
		*out = sl_schema_copy(data);
		*changed = true;
		return *out ? 0 : sl_error_set(err, SL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < table->nfields; i++) {
		const sl_field *tf = &table->fields[i];
		int j = sl_schema_find(data, tf->name);
		if (j < 0) {
			if (!tf->nullable)
				return sl_error_set(err, SL_EINVAL,
						    "lake table %s: column '%s' is NOT NULL in the "
						    "table but missing from the new data",
						    table_name, tf->name);
			continue;
		}
		const sl_field *df = &data->fields[j];
		if (!sl_type_equal(tf->type, df->type))
			return sl_error_set(err, SL_EINVAL,
					    "lake table %s: column '%s' is %s in the table but %s in "
					    "the new data; cast it, or write to a new table",
					    table_name, tf->name, sl_type_name(tf->type, b1, sizeof b1),
					    sl_type_name(df->type, b2, sizeof b2));
	}
	sl_schema *m = sl_schema_new();
	if (!m)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	for (int i = 0; i < table->nfields; i++) {
		const sl_field *tf = &table->fields[i];
		int j = sl_schema_find(data, tf->name);
		bool nullable = tf->nullable || (j >= 0 && data->fields[j].nullable);
		if (nullable != tf->nullable)
			*changed = true;
		if (sl_schema_add(m, tf->name, tf->type, nullable) < 0)
			goto oom;
	}
	for (int j = 0; j < data->nfields; j++) {
		const sl_field *df = &data->fields[j];
		if (sl_schema_find(table, df->name) >= 0)
			continue;
		/* Rows of older files have no value here: always nullable. */
		if (sl_schema_add(m, df->name, df->type, true) < 0)
			goto oom;
		*changed = true;
	}
	*out = m;
	return 0;
oom:
	sl_schema_free(m);
	return sl_error_set(err, SL_ENOMEM, "out of memory");
}
