/*
 * fuzz_template.c: libFuzzer target for template/: parses the input as a
 * template (first byte: bit 0 adds the host syntax of macro tags and named
 * blocks), renders it against a small host (a string, a list, a dict
 * printing as a relation, a callable member, callables with attributes as
 * config.get, return()), then calls every
 * top-level macro through sl_tpl_call with a few arguments and renders
 * every named block. Inputs that could legitimately run for ever (range,
 * '*', very long) are skipped; smaller size limits keep runs fast. Build from the repository root with:
 */
// clang -g -O1 -fsanitize=fuzzer,address,undefined -I src tests/fuzz/fuzz_template.c \
//   src/template/*.c src/base/*.c -DTPL_MAX_STRING=1048576u \
//   -DTPL_MAX_RENDER_BYTES=67108864u -lm -lpthread -o /tmp/fuzz_template
// /tmp/fuzz_template -max_total_time=60 -timeout=10 /tmp/seeds-template
#define _GNU_SOURCE /* memmem */
#include "template/template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ud, const char *name, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	(void)ud, (void)err;
	if (!strcmp(name, "s")) {
		*out = sl_tpl_string(a, "Ab c", 4);
	} else if (!strcmp(name, "l")) {
		*out = sl_tpl_list_new(a);
		if (out->type != SL_TPL_LIST)
			return 0;
		sl_tpl_list_push(a, out->u.list, sl_tpl_int(3));
		sl_tpl_list_push(a, out->u.list, sl_tpl_string(a, "x", 1));
		sl_tpl_list_push(a, out->u.list, sl_tpl_float(0.5));
	} else if (!strcmp(name, "this") || !strcmp(name, "adapter")) {
		*out = sl_tpl_dict_new(a);
		if (out->type != SL_TPL_DICT)
			return 0;
		sl_tpl_dict_set(a, out->u.dict, "schema", sl_tpl_string(a, "main", 4));
		sl_tpl_dict_set(a, out->u.dict, "quote", sl_tpl_callable("quote", NULL));
		out->u.dict->repr = "\"main\".\"t\"";
	} else if (!strcmp(name, "return") || !strcmp(name, "fail")) {
		*out = sl_tpl_callable(name[0] == 'r' ? "return" : "fail", NULL);
	} else if (!strcmp(name, "config") || !strcmp(name, "config.get") ||
		   !strcmp(name, "fail.get")) { /* callables with attributes */
		*out = sl_tpl_callable(!strcmp(name, "fail.get") ? "fail" : name, NULL);
	} else {
		return 0;
	}
	return 1;
}

static int call(void *ud, const sl_tpl_value *fn, const sl_tpl_value *args, size_t nargs,
		const sl_tpl_kwarg *kw, size_t nkw, sl_tpl_value *out, sl_arena *a, sl_error *err)
{
	(void)ud, (void)kw, (void)nkw, (void)a;
	if (!strcmp(fn->u.fn.name, "fail"))
		return sl_error_set(err, SL_EINVAL, "failed");
	*out = nargs ? args[0] : sl_tpl_none();
	return strcmp(fn->u.fn.name, "return") == 0 ? SL_TPL_RETURN : 0;
}

static const sl_tpl_env env = {NULL, lookup, call};

static int each_macro(void *ud, const char *tag, const char *name, const sl_tpl_value *m)
{
	(void)tag, (void)name;
	sl_arena *a = ud;
	sl_tpl_value out, args[2] = {sl_tpl_string(a, "a", 1), sl_tpl_int(2)};
	sl_tpl_kwarg kw = {"k", sl_tpl_none()};
	sl_error err = SL_ERROR_INIT;
	sl_tpl_call(m, args, 2, NULL, 0, &env, a, &out, &err);
	sl_tpl_call(m, args, 1, &kw, 1, &env, a, &out, &err);
	return 0;
}

static int each_block(void *ud, const char *tag, const char *name, int index)
{
	(void)tag, (void)name;
	const sl_tpl *t = ud;
	sl_buf out = SL_BUF_INIT;
	sl_error err = SL_ERROR_INIT;
	sl_tpl_render_block(t, index, &env, &out, &err);
	sl_buf_free(&out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const macro_tags[] = {"test"};
	static const char *const blocks[] = {"snapshot", "docs"};
	static const sl_tpl_syntax syn = {macro_tags, 1, blocks, 2};
	if (size < 1 || size > 4096)
		return 0;
	const char *src = (const char *)data + 1;
	size_t n = size - 1;
	if (memmem(src, n, "range", 5) || memchr(src, '*', n))
		return 0;
	sl_tpl *t = NULL;
	sl_error err = SL_ERROR_INIT;
	if (sl_tpl_parse_ex(&t, "f.sql", src, n, (data[0] & 1) ? &syn : NULL, &err) != 0)
		return 0;
	sl_buf out = SL_BUF_INIT;
	sl_tpl_render(t, &env, &out, &err);
	sl_buf_free(&out);
	sl_arena a;
	sl_arena_init(&a, 4096);
	sl_tpl_each_macro(t, each_macro, &a);
	sl_tpl_each_block(t, each_block, t);
	sl_arena_free(&a);
	sl_tpl_free(t);
	return 0;
}
