/*
 * arrow.c: export of a batch through the Arrow C Data Interface as a struct
 * array. Each exported array owns a copy of its buffers, released by its
 * release callback, so the batch and the export live independently.
 */
#include "batch.h"

#include <stdio.h>

typedef struct {
	const void *buffers[3];
	void *owned[3];
	struct ArrowArray **children;
	struct ArrowArray *child_storage;
} array_private;

typedef struct {
	char format[32];
	char *name;
	struct ArrowSchema **children;
	struct ArrowSchema *child_storage;
} schema_private;

static void release_array(struct ArrowArray *a)
{
	array_private *p = a->private_data;
	if (!a->release)
		return;
	for (int64_t i = 0; i < a->n_children; i++)
		if (p->child_storage[i].release)
			p->child_storage[i].release(&p->child_storage[i]);
	for (int i = 0; i < 3; i++)
		sl_free(p->owned[i]);
	sl_free(p->children);
	sl_free(p->child_storage);
	sl_free(p);
	a->release = NULL;
}

static void release_schema(struct ArrowSchema *s)
{
	schema_private *p = s->private_data;
	if (!s->release)
		return;
	for (int64_t i = 0; i < s->n_children; i++)
		if (p->child_storage[i].release)
			p->child_storage[i].release(&p->child_storage[i]);
	sl_free(p->name);
	sl_free(p->children);
	sl_free(p->child_storage);
	sl_free(p);
	s->release = NULL;
}

static void *dup_bytes(const void *src, size_t n)
{
	void *d = sl_malloc(n ? n : 1);
	if (d && n)
		memcpy(d, src, n);
	return d;
}

static int export_column(const sl_column *c, struct ArrowArray *a)
{
	array_private *p = sl_calloc(1, sizeof *p);
	size_t bitmap = (size_t)(c->length + 7) / 8;
	if (!p)
		return SL_ENOMEM;
	memset(a, 0, sizeof *a);
	a->private_data = p;
	a->release = release_array;
	a->length = c->length;
	a->null_count = c->null_count;
	a->buffers = p->buffers;
	p->owned[0] = dup_bytes(c->validity, bitmap);
	if (!p->owned[0])
		goto oom;
	switch (c->type.id) {
	case SL_BOOL: p->owned[1] = dup_bytes(c->v.bits, bitmap); break;
	case SL_INT32: case SL_DATE: p->owned[1] = dup_bytes(c->v.i32, 4 * (size_t)c->length); break;
	case SL_INT64: case SL_TIMESTAMP: p->owned[1] = dup_bytes(c->v.i64, 8 * (size_t)c->length); break;
	case SL_FLOAT64: p->owned[1] = dup_bytes(c->v.f64, 8 * (size_t)c->length); break;
	case SL_DECIMAL: p->owned[1] = dup_bytes(c->v.dec, 16 * (size_t)c->length); break;
	case SL_STRING:
		p->owned[1] = dup_bytes(c->offsets, 4 * ((size_t)c->length + 1));
		p->owned[2] = dup_bytes(c->data.data, c->data.len);
		if (!p->owned[2])
			goto oom;
		break;
	}
	if (!p->owned[1])
		goto oom;
	a->n_buffers = c->type.id == SL_STRING ? 3 : 2;
	for (int i = 0; i < 3; i++)
		p->buffers[i] = p->owned[i];
	return 0;
oom:
	release_array(a);
	return SL_ENOMEM;
}

static void type_format(sl_type t, char *out, size_t n)
{
	switch (t.id) {
	case SL_BOOL: snprintf(out, n, "b"); break;
	case SL_INT32: snprintf(out, n, "i"); break;
	case SL_INT64: snprintf(out, n, "l"); break;
	case SL_FLOAT64: snprintf(out, n, "g"); break;
	case SL_DECIMAL: snprintf(out, n, "d:%d,%d", t.precision, t.scale); break;
	case SL_STRING: snprintf(out, n, "u"); break;
	case SL_DATE: snprintf(out, n, "tdD"); break;
	case SL_TIMESTAMP: snprintf(out, n, "tsu:UTC"); break;
	}
}

static int export_field(const sl_field *f, struct ArrowSchema *s)
{
	schema_private *p = sl_calloc(1, sizeof *p);
	if (!p)
		return SL_ENOMEM;
	memset(s, 0, sizeof *s);
	s->private_data = p;
	s->release = release_schema;
	type_format(f->type, p->format, sizeof p->format);
	p->name = sl_strdup(f->name);
	if (!p->name) {
		release_schema(s);
		return SL_ENOMEM;
	}
	s->format = p->format;
	s->name = p->name;
	s->flags = f->nullable ? ARROW_FLAG_NULLABLE : 0;
	return 0;
}

int sl_batch_export_arrow(const sl_batch *b, struct ArrowArray *out_array,
			  struct ArrowSchema *out_schema, sl_error *err)
{
	int n = b->ncols;
	array_private *ap = sl_calloc(1, sizeof *ap);
	schema_private *sp = sl_calloc(1, sizeof *sp);

	memset(out_array, 0, sizeof *out_array);
	memset(out_schema, 0, sizeof *out_schema);
	if (!ap || !sp) {
		sl_free(ap);
		sl_free(sp);
		goto oom;
	}
	out_array->private_data = ap;
	out_array->release = release_array;
	out_schema->private_data = sp;
	out_schema->release = release_schema;
	snprintf(sp->format, sizeof sp->format, "+s");
	out_schema->format = sp->format;
	out_schema->name = "";
	out_array->length = b->nrows;
	out_array->n_buffers = 1;
	out_array->buffers = ap->buffers; /* validity NULL: no null rows */

	ap->children = sl_calloc((size_t)n + 1, sizeof *ap->children);
	ap->child_storage = sl_calloc((size_t)n + 1, sizeof *ap->child_storage);
	sp->children = sl_calloc((size_t)n + 1, sizeof *sp->children);
	sp->child_storage = sl_calloc((size_t)n + 1, sizeof *sp->child_storage);
	if (!ap->children || !ap->child_storage || !sp->children || !sp->child_storage)
		goto oom;
	for (int i = 0; i < n; i++) {
		if (export_column(&b->cols[i], &ap->child_storage[i]) < 0)
			goto oom;
		out_array->n_children = i + 1;
		ap->children[i] = &ap->child_storage[i];
		if (export_field(&b->schema->fields[i], &sp->child_storage[i]) < 0)
			goto oom;
		out_schema->n_children = i + 1;
		sp->children[i] = &sp->child_storage[i];
	}
	out_array->children = ap->children;
	out_schema->children = sp->children;
	return 0;
oom:
	if (out_array->release)
		out_array->release(out_array);
	if (out_schema->release)
		out_schema->release(out_schema);
	return sl_error_set(err, SL_ENOMEM, "out of memory exporting a batch to Arrow");
}
