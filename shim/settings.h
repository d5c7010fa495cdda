/* SPDX-License-Identifier: MIT */
/*
 * settings.h - pytrace's settings: one name, one setter and one default
 * each, read from the environment as PYTRACE_<NAME>.
 */
#ifndef PYTRACE_SETTINGS_H
#define PYTRACE_SETTINGS_H

#include <stddef.h>

/* A list of strings, owned. */
struct pt_strlist {
	char **v;
	size_t n;
};

struct pt_settings {
	int enable;			/* master switch; default 1 */
	char *output;			/* path pattern; NULL = stderr */
	struct pt_strlist ignore_dirs;	/* as written, ~ and $VAR unexpanded */
	struct pt_strlist ignore_modules; /* dotted module names */
};

/* pt_settings_init - the documented defaults. */
void pt_settings_init(struct pt_settings *s);

/* pt_settings_free - release what the setters allocated. */
void pt_settings_free(struct pt_settings *s);

/*
 * pt_settings_set - the one setter for setting `name`, used by every
 * source.  `origin` names the source in messages ("PYTRACE_OUTPUT").
 * Returns 0, or -EINVAL after one message naming origin and the problem.
 */
int pt_settings_set(struct pt_settings *s, const char *name,
		    const char *value, const char *origin);

/*
 * pt_settings_from_env - apply every PYTRACE_<NAME> that is set.  Returns 0
 * or the first error of a setter (all variables are still read).
 */
int pt_settings_from_env(struct pt_settings *s);

/*
 * pt_parse_bool - "1/yes/true/on" and "0/no/false/off", any case.  Returns
 * 1 or 0, or -EINVAL for anything else.
 */
int pt_parse_bool(const char *value);

#endif
