/* SPDX-License-Identifier: MIT */
/*
 * codemap.h - the per-code-object cache: code object -> what a trace line
 * needs of it, or NULL when the code is ignored.  Touched only with the
 * GIL held.
 */
#ifndef PYTRACE_CODEMAP_H
#define PYTRACE_CODEMAP_H

#include "pyapi.h"
#include "source.h"

/* A traced code object. */
struct pt_code {
	struct pt_file *file;
	char *module;		/* dotted __name__ of its module, or "" */
	char *function;		/* co_name */
	/* record mode (record.c): the id of its definition, and the
	 * generation in which that definition is known to be in the file */
	struct { uint32_t id, gen; } rec;
};

/*
 * pt_codemap_find - 1 and *c (NULL: ignored) when `code` was decided, 0
 * when it is new.  O(1): one multiplicative hash and a short probe.
 */
int pt_codemap_find(const PyObject *code, struct pt_code **c);

/*
 * pt_codemap_add - remember the decision for `code`, a code object of the
 * interpreter `owner`.  The map holds a reference to `code`, so its
 * address is never reused by another object.  Returns 0 or -ENOMEM (the
 * decision is then simply not cached).
 */
int pt_codemap_add(PyObject *code, struct pt_code *c, const void *owner);

/*
 * pt_codemap_forget - forget the code objects of interpreter `owner`,
 * which ends: with `release`, release the references (in that
 * interpreter, the calling thread's); without, drop them untouched (it is
 * gone).  O(capacity).  With the GIL, and no struct pt_code pointer of
 * `owner` kept across it.
 */
void pt_codemap_forget(const void *owner, int release);

/* How many code objects the map holds at most before it is emptied. */
enum { PT_CODEMAP_MAX = 65536 };

/* pt_codemap_size - how many code objects the map holds. */
size_t pt_codemap_size(void);

/*
 * pt_codemap_clear - forget every decision: release the code objects (each
 * in its own interpreter, see pt_interp_release) and free their records.
 * Decisions are made again as code runs.  With the GIL held, and no
 * struct pt_code pointer kept across it.
 */
void pt_codemap_clear(void);

#endif
