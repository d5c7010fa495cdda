/* SPDX-License-Identifier: MIT */
/*
 * scopes.h - which code objects are scope functions: the `scope` setting
 * (common/scope.h) against the code objects as they first run.  Which
 * frames are in a scope is scoped.h's.
 *
 * With the GIL held.
 */
#ifndef PYTRACE_SCOPES_H
#define PYTRACE_SCOPES_H

#include "pyapi.h"
#include "settings.h"

/*
 * pt_scopes_start - take the scopes of `s` (none: every frame is in
 * scope, and nothing here costs anything).  Returns 0, or -1 (reported:
 * out of memory).
 */
int pt_scopes_start(const struct pt_settings *s);

/*
 * pt_scopes_stop - say, once, of each scope that matched no function
 * since pt_scopes_start: "scope 'x:y' matched no function"; then forget
 * the scopes.  Tracing stops (or the interpreter ends, Py_AtExit).
 */
void pt_scopes_stop(void);

/* pt_scopes_any - scopes are set: only what runs beneath them is
 * written. */
int pt_scopes_any(void);

/*
 * pt_scopes_match - when `code` (of module `module`, may be "", from
 * file `path`, with co_name `name`; `globals` its module's dict) is a
 * function some scope names: its qualified name (malloc'd), else NULL.
 * Once per code object.  On 3.11+ the name is co_qualname; before, it is
 * looked up from the module's globals (see scopes.c).
 */
char *pt_scopes_match(PyObject *code, PyObject *globals, const char *module,
		      const char *path, const char *name);

#endif
