/* SPDX-License-Identifier: MIT */
/*
 * scope.c - scopes ("module:qualname", "path:function") parsed and
 * matched: see scope.h.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"

/* Characters of a dotted name glob: identifiers (ASCII or not), dots,
 * and the glob characters.  `angle`: also "<locals>" parts. */
static int name_char(unsigned char c, int angle)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '*' ||
	       c == '?' || c == '[' || c == ']' || c == '!' || c >= 0x80 ||
	       (angle && (c == '<' || c == '>'));
}

/* Check the dotted name glob s[0..n) ("module" or "function"); 0 or
 * -EINVAL with the reason. */
static int check_name(const char *text, const char *s, size_t n,
		      const char *what, int angle, char *err, size_t errsize)
{
	if (n == 0) {
		snprintf(err, errsize, "'%.200s' is not a scope: no %s (write "
			 "module:Class.method or /path/file.py:function)",
			 text, what);
		return -EINVAL;
	}
	if (s[0] == '.' || s[n - 1] == '.' || memmem(s, n, "..", 2)) {
		snprintf(err, errsize, "'%.200s' is not a scope: the %s '%.*s' "
			 "has an empty dotted part", text, what, (int)n, s);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_char((unsigned char)s[i], angle)) {
			snprintf(err, errsize, "'%.200s' is not a scope: '%c' "
				 "cannot be in a %s name", text, s[i], what);
			return -EINVAL;
		}
	}
	return 0;
}

int pt_scope_parse(const char *text, struct pt_scope *out, char *err,
		   size_t errsize)
{
	const char *colon = strrchr(text, ':');
	int rc;

	if (!colon) {
		snprintf(err, errsize, "'%.200s' is not a scope: no ':' (write "
			 "module:Class.method or /path/file.py:function)", text);
		return -EINVAL;
	}
	size_t n = (size_t)(colon - text);
	int is_path = memchr(text, '/', n) != NULL;
	if (is_path) {
		if (n == 0 || text[n - 1] == '/') {
			snprintf(err, errsize, "'%.200s' is not a scope: the "
				 "path names no file", text);
			return -EINVAL;
		}
	} else if ((rc = check_name(text, text, n, "module", 0, err, errsize)) < 0) {
		return rc;
	}
	if ((rc = check_name(text, colon + 1, strlen(colon + 1), "function", 1,
			     err, errsize)) < 0)
		return rc;
	if (!out)
		return 0;
	memset(out, 0, sizeof(*out));
	char *first = strndup(text, n);
	out->qualname = strdup(colon + 1);
	if (!first || !out->qualname) {
		free(first);
		free(out->qualname);
		out->qualname = NULL;
		return -ENOMEM;
	}
	if (is_path)
		out->path = first;
	else
		out->module = first;
	const char *dot = strrchr(out->qualname, '.');
	out->last = dot ? dot + 1 : out->qualname;
	return 0;
}

void pt_scope_free(struct pt_scope *sc)
{
	free(sc->module);
	free(sc->path);
	free(sc->qualname);
	memset(sc, 0, sizeof(*sc));
}

/* The last parts of `path` after a '/', as many as the relative glob
 * has ("tool/r*.py" gives "tool/run.py" of "/srv/tool/run.py"); NULL
 * when the path has fewer.  By parts, not by length: a glob is not as
 * long as what it matches. */
static const char *path_tail(const char *path, const char *glob)
{
	size_t parts = 1;
	const char *p = path + strlen(path);

	for (const char *c = glob; *c; c++)
		parts += *c == '/';
	for (; p > path; p--)
		if (p[-1] == '/' && --parts == 0)
			return p;
	return NULL;
}

int pt_scope_place(const struct pt_scope *sc, const char *module,
		   const char *path, const char *name)
{
	if (sc->module) {
		if (!module || !module[0] || fnmatch(sc->module, module, 0) != 0)
			return 0;
	} else {
		/* a relative path glob matches at the end of the path */
		if (!path)
			return 0;
		if (sc->path[0] != '/' && sc->path[0] != '*') {
			const char *tail = path_tail(path, sc->path);
			if (!tail || fnmatch(sc->path, tail, 0) != 0)
				return 0;
		} else if (fnmatch(sc->path, path, 0) != 0) {
			return 0;
		}
	}
	/* A last part with a glob may span dots ("Class.*"), and a bracket
	 * may hold the dot taken for the last one ("C[.]f"): any co_name
	 * may be the one.  Otherwise the last part is co_name. */
	return strpbrk(sc->last, "*?[") != NULL || strchr(sc->qualname, '[') ||
	       strcmp(sc->last, name) == 0;
}

int pt_scope_name(const struct pt_scope *sc, const char *qualname)
{
	return fnmatch(sc->qualname, qualname, 0) == 0;
}
