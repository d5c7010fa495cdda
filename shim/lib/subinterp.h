/* SPDX-License-Identifier: MIT */
/*
 * subinterp.h - every interpreter of the process traced, not only the one
 * tracing started in: which interpreters pytrace knows, how it learns of
 * new ones, and what it lets go of when one ends.
 */
#ifndef PYTRACE_SUBINTERP_H
#define PYTRACE_SUBINTERP_H

#include "pyapi.h"

/* What is known of a new interpreter's GIL (PEP 684, 3.12+). */
enum pt_gil { PT_GIL_UNKNOWN, PT_GIL_SHARED, PT_GIL_OWN };

/* Set once a second interpreter is traced: a thread may then run several
 * thread states, and per-thread caches of a thread state's trace
 * function must check which one runs (follow.c). */
extern int pt_interp_many;

/* Changes (atomically) whenever an interpreter is set up or ends, so that
 * such caches are checked again even where a thread state's address is
 * reused. */
extern unsigned pt_interp_gen;

/* pt_interp_current - the interpreter of the calling thread's thread
 * state, or NULL when it has none.  A few ns; never fails fatally. */
void *pt_interp_current(void);

/*
 * pt_interp_start - the calling thread's interpreter is where tracing
 * starts (start.c, once, before its back end starts).  Returns 0, or -1
 * when this build's interpreters cannot be told apart (reported once:
 * subinterpreters then stay untraced).
 */
int pt_interp_start(void);

/* pt_interp_watch - the back end runs: from now on, new interpreters are
 * set up as they appear, each by `set_up` (the back end's, called in the
 * new interpreter: 0, or -1 when it runs untraced). */
void pt_interp_watch(int (*set_up)(void));

/* pt_interp_creating - a wrapper of Py_NewInterpreter* runs in this
 * thread (1) or has returned (0): the interpreter it creates is left to
 * it, not to the audit events raised while it initialises. */
void pt_interp_creating(int on);

/*
 * pt_interp_created - the wrapper of Py_NewInterpreter or
 * Py_NewInterpreterFromConfig returned a new interpreter, now the calling
 * thread's, whose GIL is `gil` (PT_GIL_UNKNOWN: ask the interpreter):
 * trace it like the first one, or, when it has its own GIL, say once that
 * it is not traced.
 */
void pt_interp_created(enum pt_gil gil);

/* pt_interp_end_wrapper - Py_EndInterpreter's wrapper: before the real
 * function (`after` 0) and after it (1). */
void pt_interp_end_wrapper(int after);

/*
 * pt_interp_audit - every audit event once tracing has started (3.8+),
 * from any interpreter, possibly one with its own GIL running in parallel:
 * learns of interpreters no wrapper saw once they have initialised, and
 * of an interpreter's end ("cpython.PyInterpreterState_Clear").  A
 * thread-local comparison when nothing is new.
 */
void pt_interp_audit(const char *event, PyObject *args);

/*
 * pt_interp_owner - the calling thread's interpreter when decisions about
 * its code objects may be cached (it is traced and not ending), else
 * NULL: the code is then neither traced nor cached.  Cold path (a cache
 * miss); releases references left for this interpreter by
 * pt_interp_release.
 */
void *pt_interp_owner(void);

/*
 * pt_interp_release - release the code map's reference to `code`, a code
 * object of `owner`, in that interpreter: now when it is the calling
 * thread's, else when `owner` next has a cache miss or ends.  With the
 * GIL.
 */
void pt_interp_release(PyObject *code, const void *owner);

/* pt_interp_threading_hooked - whether threading's hook was set in the
 * calling thread's interpreter; with `set`, record that it is now. */
int pt_interp_threading_hooked(int set);

/* pt_interp_each - call fn for each traced interpreter (with the GIL,
 * which every traced interpreter shares). */
void pt_interp_each(void (*fn)(void *interp));

#endif
