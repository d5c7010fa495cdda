/* SPDX-License-Identifier: MIT */
/*
 * scope.h - a scope names the functions beneath which lines are written
 * (the `scope` setting): "module:qualname" or "path:function".
 *
 *   os_brick.initiator.connectors.iscsi:ISCSIConnector.connect_volume
 *   nova.*:*.spawn                     shell globs (fnmatch) in both parts
 *   /srv/tool/run.py:main              a file, for code with no module name
 *
 * The first part is a path when it holds a '/', else a dotted module name
 * (its __name__; "__main__" for the script).  The second part is the
 * function's qualified name: Class.method, function, Outer.Inner.method,
 * and on 3.11+ also outer.<locals>.inner.  A '*' matches dots too.
 * Plain C: no Python.
 */
#ifndef PYTRACE_SCOPE_H
#define PYTRACE_SCOPE_H

#include <stddef.h>

struct pt_scope {
	char *module;	/* module glob; NULL in the path form */
	char *path;	/* path glob; NULL in the module form */
	char *qualname;	/* qualified name glob */
	const char *last; /* in qualname: its last dotted part, co_name's
			   * glob */
};

/*
 * pt_scope_parse - check `text` and, when `out` is given, fill it (owned:
 * pt_scope_free).  Returns 0, -ENOMEM, or -EINVAL with the reason in err
 * ("'x' is not a scope: ...", no newline).
 */
int pt_scope_parse(const char *text, struct pt_scope *out, char *err,
		   size_t errsize);

/* pt_scope_free - what pt_scope_parse allocated. */
void pt_scope_free(struct pt_scope *sc);

/*
 * pt_scope_place - 1 when code of module `module` (may be NULL or "")
 * in file `path` (absolute, normalised) is where `sc` looks, and its
 * function named `name` (co_name) may be the one.  The cheap first test;
 * the qualified name decides (pt_scope_name).
 */
int pt_scope_place(const struct pt_scope *sc, const char *module,
		   const char *path, const char *name);

/* pt_scope_name - 1 when `qualname` is the function `sc` names. */
int pt_scope_name(const struct pt_scope *sc, const char *qualname);

#endif
