/*
 * models_yaml.c: YAML documents (dbt_project.yml, properties files,
 * --vars) read into template values, so configs from YAML and from
 * config() calls merge as one kind of value; and small value helpers.
 */
#include "models/models_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define M_MAX_YAML (16u << 20)

char *m_strdup(sl_models *m, const char *s)
{
	return s ? sl_arena_strdup(&m->arena, s) : NULL;
}

static sl_tpl_value plain_scalar(const char *s, size_t len, sl_arena *a)
{
	if (len == 0 || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0)
		return sl_tpl_none();
	/* dbt reads YAML 1.1: yes/no and on/off are booleans too */
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return sl_tpl_bool(true);
		if (strcasecmp(s, no[i]) == 0)
			return sl_tpl_bool(false);
	}
	int64_t i;
	double d;
	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.') {
		if (sl_parse_int64(s, len, &i) == 0)
			return sl_tpl_int(i);
		if (strspn(s, "0123456789+-.eE") == len && sl_parse_double(s, len, &d) == 0)
			return sl_tpl_float(d);
	}
	return sl_tpl_string(a, s, len);
}

static sl_tpl_value yaml_value(yaml_document_t *doc, yaml_node_t *n, sl_arena *a, int depth)
{
	if (!n || depth > 64)
		return sl_tpl_none();
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)n->data.scalar.value;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar(s, n->data.scalar.length, a);
		return sl_tpl_string(a, s, n->data.scalar.length);
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		sl_tpl_value l = sl_tpl_list_new(a);
		if (l.type != SL_TPL_LIST)
			return l;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			if (sl_tpl_list_push(a, l.u.list,
					     yaml_value(doc, yaml_document_get_node(doc, *it), a,
							depth + 1)) < 0)
				return sl_tpl_none();
		return l;
	}
	sl_tpl_value d = sl_tpl_dict_new(a);
	if (d.type != SL_TPL_DICT)
		return d;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		char *key = sl_arena_strdup(a, (const char *)k->data.scalar.value);
		if (!key || sl_tpl_dict_set(a, d.u.dict, key,
					    yaml_value(doc, yaml_document_get_node(doc, p->value),
						       a, depth + 1)) < 0)
			return sl_tpl_none();
	}
	return d;
}

sl_tpl_value m_yaml_value(yaml_document_t *doc, yaml_node_t *n, sl_arena *a)
{
	return yaml_value(doc, n, a, 0);
}

static int parse_doc(yaml_document_t *doc, const char *data, size_t len, const char *display,
		     sl_error *err)
{
	yaml_parser_t parser;
	int rc = 0;
	if (!yaml_parser_initialize(&parser))
		return sl_error_set(err, SL_ENOMEM, "out of memory parsing %s", display);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, doc)) {
		bool tab = parser.problem_mark.index < len && data[parser.problem_mark.index] == '\t';
		rc = sl_error_set(err, SL_ECONFIG, "%s:%zu:%zu: YAML syntax error: %s; %s", display,
				  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				  parser.problem ? parser.problem : "invalid YAML",
				  tab ? "YAML does not allow tabs: indent with spaces"
				      : "check the indentation and quoting there");
	}
	yaml_parser_delete(&parser);
	return rc;
}

int m_yaml_load(yaml_document_t *doc, const char *path, const char *display, sl_error *err)
{
	sl_buf data = SL_BUF_INIT;
	int rc = sl_file_read_all(&data, path, M_MAX_YAML, err);
	if (rc == 0)
		rc = parse_doc(doc, data.data ? data.data : "", data.len, display, err);
	sl_buf_free(&data);
	return rc;
}

int m_yaml_parse_text(sl_tpl_value *out, const char *text, const char *name, sl_arena *a,
		      sl_error *err)
{
	yaml_document_t doc;
	int rc = parse_doc(&doc, text, strlen(text), name, err);
	if (rc < 0)
		return rc;
	*out = m_yaml_value(&doc, yaml_document_get_root_node(&doc), a);
	yaml_document_delete(&doc);
	return 0;
}

yaml_node_t *m_yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

const char *m_yaml_str(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const sl_tpl_value *m_dict_get(const sl_tpl_value *d, const char *key)
{
	return d && d->type == SL_TPL_DICT ? sl_tpl_dict_get(d->u.dict, key) : NULL;
}

const char *m_dict_str(const sl_tpl_value *d, const char *key)
{
	const sl_tpl_value *v = m_dict_get(d, key);
	return v && v->type == SL_TPL_STRING ? v->u.str.s : NULL;
}

int m_value_json(sl_buf *b, const sl_tpl_value *v)
{
	int rc = 0;
	switch (v->type) {
	case SL_TPL_UNDEFINED:
	case SL_TPL_NONE: return sl_buf_puts(b, "null");
	case SL_TPL_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
	case SL_TPL_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i);
	case SL_TPL_FLOAT: return sl_buf_printf(b, "%.17g", v->u.f);
	case SL_TPL_STRING: return sl_buf_put_json_string(b, v->u.str.s, v->u.str.len);
	case SL_TPL_CALLABLE:
	case SL_TPL_MACRO: return sl_buf_puts(b, "null");
	case SL_TPL_LIST:
		rc = sl_buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list->len; i++) {
			if (i)
				rc = sl_buf_putc(b, ',');
			if (rc == 0)
				rc = m_value_json(b, &v->u.list->items[i]);
		}
		return rc ? rc : sl_buf_putc(b, ']');
	case SL_TPL_DICT:
		rc = sl_buf_putc(b, '{');
		for (size_t i = 0; rc == 0 && i < v->u.dict->len; i++) {
			if (i)
				rc = sl_buf_putc(b, ',');
			if (rc == 0)
				rc = sl_buf_put_json_string(b, v->u.dict->keys[i],
							    strlen(v->u.dict->keys[i]));
			if (rc == 0)
				rc = sl_buf_putc(b, ':');
			if (rc == 0)
				rc = m_value_json(b, &v->u.dict->vals[i]);
		}
		return rc ? rc : sl_buf_putc(b, '}');
	}
	return 0;
}
