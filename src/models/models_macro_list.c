/*
 * models_macro_list.c: the project's macros listed for others
 * (sl_models_macro_at: manifest.json's macros) — their unique_id, file
 * relative to the package root, and source text, read back from the file.
 */
#include "models/models_int.h"

#include <ctype.h>
#include <string.h>

/* Skips a Jinja tag opening "{%" or "{%-" and blanks; NULL when s is none. */
static const char *tag_body(const char *s)
{
	if (s[0] != '{' || s[1] != '%')
		return NULL;
	s += 2;
	if (*s == '-')
		s++;
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool word_at(const char *s, const char *w, size_t n)
{
	return strncmp(s, w, n) == 0 && !(isalnum((unsigned char)s[n]) || s[n] == '_');
}

/* The text of {% kw name(...) %} ... {% endkw %} in src, or NULL. */
static const char *find_macro(const char *src, const char *kw, const char *name, size_t *len)
{
	size_t kn = strlen(kw), nn = strlen(name);
	for (const char *p = strstr(src, "{%"); p; p = strstr(p + 2, "{%")) {
		const char *b = tag_body(p);
		if (!b || !word_at(b, kw, kn))
			continue;
		b += kn;
		while (isspace((unsigned char)*b))
			b++;
		if (strncmp(b, name, nn) != 0)
			continue;
		b += nn;
		while (isspace((unsigned char)*b))
			b++;
		if (*b != '(')
			continue;
		/* the first {% end<kw> %} after it */
		for (const char *q = strstr(b, "{%"); q; q = strstr(q + 2, "{%")) {
			const char *e = tag_body(q);
			if (!e || strncmp(e, "end", 3) != 0 || !word_at(e + 3, kw, kn))
				continue;
			const char *close = strstr(e, "%}");
			if (!close)
				return NULL;
			*len = (size_t)(close + 2 - p);
			return p;
		}
		return NULL;
	}
	return NULL;
}

int sl_models_macro_at(const sl_models *m, int i, sl_model_macro *out, sl_arena *a)
{
	if (i < 0 || i >= m->nmacros)
		return 0;
	const m_macro *mm = &m->macros[i];
	const m_package *pkg = mm->pkg;
	const sl_tpl *tpl = mm->value.type == SL_TPL_MACRO ? mm->value.u.macro.tpl : NULL;
	const char *display = tpl ? sl_tpl_name(tpl) : "";
	const char *rel = display;
	/* The display path of a package's file starts with the package's
	 * folder (relative to the project when under it): cut it. */
	if (pkg && !pkg->root) {
		size_t n = strlen(m->project_dir);
		const char *dir = pkg->dir;
		if (strncmp(dir, m->project_dir, n) == 0 && dir[n] == '/')
			dir += n + 1;
		size_t dn = strlen(dir);
		if (strncmp(rel, dir, dn) == 0 && rel[dn] == '/')
			rel += dn + 1;
	}
	memset(out, 0, sizeof *out);
	out->name = mm->name;
	out->package = pkg ? pkg->name : "";
	out->path = sl_arena_strdup(a, rel);
	out->unique_id = sl_arena_sprintf(a, "macro.%s.%s", out->package, mm->name);
	out->macro_sql = "";
	if (!out->path || !out->unique_id)
		return SL_ENOMEM;

	/* The source text, read back from the file. */
	sl_buf src = SL_BUF_INIT;
	char *file = pkg ? sl_path_join(pkg->dir, rel) : NULL;
	if (pkg && !file)
		return SL_ENOMEM;
	if (file && sl_file_read_all(&src, file, 16u << 20, NULL) == 0 && src.data) {
		bool test = strncmp(mm->name, "test_", 5) == 0;
		size_t len = 0;
		const char *t = find_macro(src.data, "macro", mm->name, &len);
		if (!t && test)
			t = find_macro(src.data, "test", mm->name + 5, &len);
		if (t && !(out->macro_sql = sl_arena_strndup(a, t, len))) {
			sl_buf_free(&src);
			sl_free(file);
			return SL_ENOMEM;
		}
	}
	sl_buf_free(&src);
	sl_free(file);
	return 1;
}

const char *sl_models_project_name(const sl_models *m)
{
	/* the root project is the first package */
	return m->npkgs > 0 ? m->pkgs[0].name : "";
}

int sl_models_doc_at(const sl_models *m, int i, sl_model_doc *out, sl_arena *a)
{
	if (m->docs.type != SL_TPL_DICT || i < 0 || (size_t)i >= m->docs.u.dict->len)
		return 0;
	const sl_tpl_value *v = &m->docs.u.dict->vals[i];
	memset(out, 0, sizeof *out);
	out->name = m->docs.u.dict->keys[i];
	out->package = sl_models_project_name(m);
	out->block_contents = v->type == SL_TPL_STRING ? v->u.str.s : "";
	out->unique_id = sl_arena_sprintf(a, "doc.%s.%s", out->package, out->name);
	return out->unique_id ? 1 : SL_ENOMEM;
}
