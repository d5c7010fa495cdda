/* SPDX-License-Identifier: MIT */
/*
 * audithook.h - an audit hook registered before the interpreter sets up
 * its memory allocators, kept where the interpreter can free it.
 */
#ifndef PYTRACE_AUDITHOOK_H
#define PYTRACE_AUDITHOOK_H

#include "pyapi.h"

/*
 * pt_audithook_add - register `hook` (3.8+, from the constructor, before
 * Py_Initialize).  Returns 0 or -EPERM.
 */
int pt_audithook_add(pt_audithook hook);

/*
 * pt_audithook_settle - called by the hook on each event until it has
 * done its work: once the interpreter's raw allocator is no longer the
 * one the hook's entry came from (PYTHONMALLOC=debug, -X dev), the entry
 * is replaced by a copy from the allocator that will free it at exit.
 * O(1); nothing after the first change.
 */
void pt_audithook_settle(void);

#endif
