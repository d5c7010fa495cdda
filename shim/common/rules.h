/* SPDX-License-Identifier: MIT */
/*
 * rules.h - the ignore rules: which module files and names are not traced.
 */
#ifndef PYTRACE_RULES_H
#define PYTRACE_RULES_H

#include <stddef.h>

#include "settings.h"

struct pt_rules {
	char **dirs;		/* expanded, absolute, normalised */
	size_t *dirlens;
	size_t ndirs;
	const struct pt_strlist *modules; /* borrowed from the settings */
	const regex_t *include;		/* borrowed; NULL: everything */
	size_t ninclude;
};

/*
 * pt_rules_build - expand (~, $VAR) and normalise the ignore directories of
 * `s` against `cwd`.  Returns 0, or -EINVAL after one message naming the
 * directory that cannot be used.
 */
int pt_rules_build(struct pt_rules *r, const struct pt_settings *s,
		   const char *cwd);

void pt_rules_free(struct pt_rules *r);

/*
 * pt_rules_ignored - true when a module is ignored: its name equals an
 * ignored module or is a submodule of one ("a.b" ignores "a.b" and "a.b.c",
 * not "a.bc"), or its normalised file lies below an ignored directory.
 * `modname` may be NULL.  O(number of rules); called once per code object.
 */
int pt_rules_ignored(const struct pt_rules *r, const char *file,
		     const char *modname);

/*
 * pt_rules_included - true when `path` (as printed) matches one of the
 * include patterns, or when there are none.  Called once per code object.
 */
int pt_rules_included(const struct pt_rules *r, const char *path);

/*
 * pt_rules_none - true when the rules ignore nothing: no ignored
 * directory, no ignored module, no include pattern.  Every code object
 * with a module file is then traced.
 */
int pt_rules_none(const struct pt_rules *r);

#endif
