/* SPDX-License-Identifier: MIT */
/*
 * codemap.h - the per-code-object cache: code object -> file record, or
 * NULL when the code is ignored.  Touched only with the GIL held.
 */
#ifndef PYTRACE_CODEMAP_H
#define PYTRACE_CODEMAP_H

#include "pyapi.h"
#include "source.h"

/*
 * pt_codemap_find - 1 and *file (NULL: ignored) when `code` was decided,
 * 0 when it is new.  O(1): one multiplicative hash and a short probe.
 */
int pt_codemap_find(const PyObject *code, struct pt_file **file);

/*
 * pt_codemap_add - remember the decision for `code`.  The map holds a
 * reference to `code`, so its address is never reused by another object.
 * Returns 0 or -ENOMEM (the decision is then simply not cached).
 */
int pt_codemap_add(PyObject *code, struct pt_file *file);

#endif
