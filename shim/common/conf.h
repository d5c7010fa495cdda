/* SPDX-License-Identifier: MIT */
/*
 * conf.h - the configuration file (libconfig syntax) and the one function
 * that knows the order in which settings are looked up.
 */
#ifndef PYTRACE_CONF_H
#define PYTRACE_CONF_H

#include "settings.h"

/* Where the configuration file is looked for when PYTRACE_CONF is unset. */
#ifndef PYTRACE_SYSCONFDIR
#define PYTRACE_SYSCONFDIR "/etc"
#endif

/*
 * pt_conf_load - apply the settings in the file at `path` to `s`.  Returns
 * 0, or -EINVAL after one message per problem, each naming the file and
 * line: a syntax error, an unknown setting, a value of the wrong type or
 * refused by its setter, an unreadable file.
 */
int pt_conf_load(struct pt_settings *s, const char *path);

/*
 * pt_conf_resolve - the effective settings of this process, in this order:
 *   1. the documented defaults;
 *   2. the configuration file: `file` if given, else $PYTRACE_CONF if set
 *      (it must exist), else PYTRACE_SYSCONFDIR/pytrace.conf if it exists;
 *   3. the environment, PYTRACE_<NAME> for each setting, which wins.
 * Returns 0, or -EINVAL when anything was wrong (already reported): then
 * the caller must not trace.  *used is set to the file read, or NULL.
 */
int pt_conf_resolve(struct pt_settings *s, const char *file, const char **used);

/* pt_conf_resolve_with - the same, and then `vars` ("PYTRACE_<NAME>=value",
 * as `pytrace on` sends them) over the environment. */
int pt_conf_resolve_with(struct pt_settings *s, const char *file,
			 const char **used, char *const *vars, int nvars);

#endif
