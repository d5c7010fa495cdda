/* SPDX-License-Identifier: MIT */
/*
 * rules.c - trace.py's --ignore-dir and --ignore-module, with two flaws
 * fixed: modules are matched by their dotted __name__ (so a package and all
 * its submodules can be ignored, where trace.py compares file basenames),
 * and the decision is kept per code object rather than per basename (so two
 * files called util.py are decided separately).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "pytrace.h"
#include "rules.h"

int pt_rules_build(struct pt_rules *r, const struct pt_settings *s,
		   const char *cwd)
{
	const struct pt_strlist *d = &s->ignore_dirs;

	memset(r, 0, sizeof(*r));
	r->modules = &s->ignore_modules;
	r->include = s->include_re;
	r->ninclude = s->include.n;
	if (d->n == 0)
		return 0;
	r->dirs = calloc(d->n, sizeof(char *));
	r->dirlens = calloc(d->n, sizeof(size_t));
	if (!r->dirs || !r->dirlens) {
		pt_rules_free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n; i++) {
		char exp[PATH_MAX], norm[PATH_MAX];
		ssize_t n = pt_path_expand(d->v[i], exp, sizeof(exp));

		if (n >= 0)
			n = pt_path_normalize(exp, cwd, norm, sizeof(norm));
		if (n < 0) {
			size_t at = offsetof(struct pt_settings, ignore_dirs);
			pt_log("%s: ignore_dirs: cannot use directory '%s'%s",
			       pt_settings_origin(s, at), d->v[i],
			       pt_log_consequence);
			pt_rules_free(r);
			return -EINVAL;
		}
		r->dirs[r->ndirs] = strdup(norm);
		if (!r->dirs[r->ndirs]) {
			pt_rules_free(r);
			return -ENOMEM;
		}
		r->dirlens[r->ndirs++] = (size_t)n;
	}
	return 0;
}

void pt_rules_free(struct pt_rules *r)
{
	for (size_t i = 0; r->dirs && i < r->ndirs; i++)
		free(r->dirs[i]);
	free(r->dirs);
	free(r->dirlens);
	memset(r, 0, sizeof(*r));
}

int pt_rules_ignored(const struct pt_rules *r, const char *file,
		     const char *modname)
{
	for (size_t i = 0; modname && r->modules && i < r->modules->n; i++) {
		const char *m = r->modules->v[i];
		size_t n = strlen(m);

		if (strncmp(modname, m, n) == 0 &&
		    (modname[n] == '\0' || modname[n] == '.'))
			return 1;
	}
	for (size_t i = 0; file && i < r->ndirs; i++)
		if (pt_path_below(file, r->dirs[i], r->dirlens[i]))
			return 1;
	return 0;
}

int pt_rules_included(const struct pt_rules *r, const char *path)
{
	if (!r->ninclude)
		return 1;
	for (size_t i = 0; i < r->ninclude; i++)
		if (regexec(&r->include[i], path, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

int pt_rules_none(const struct pt_rules *r)
{
	return !r->ndirs && !(r->modules && r->modules->n) && !r->ninclude;
}
