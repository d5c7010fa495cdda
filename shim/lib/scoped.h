/* SPDX-License-Identifier: MIT */
/*
 * scoped.h - which running frames are in a scope.
 *
 * A frame is in a scope when its code is a scope function (scopes.h), or
 * when the frame that starts or resumes it -- its caller at that moment
 * -- is in one.  So the scope follows each thread's and each green
 * thread's own stack: an exception unwinding out of the scope function
 * ends it; a generator is in or out each time it resumes, as whoever
 * resumes it is; a scope function called inside a scope (recursion) is
 * the same scope.  Threads started by threading inside a scope are in it
 * with scope_threads.
 *
 * Back ends tell every frame that starts or resumes (pt_scoped_enter)
 * and ends or suspends (pt_scoped_leave), by a key: the frame evaluation
 * function's frame pointer (3.6-3.11), else the frame object; whatever
 * identifies a frame while it runs, the same for a frame and its caller.
 * The table holds the frames in a scope only: with none, a frame that is
 * no scope function costs a test.
 *
 * With the GIL held.
 */
#ifndef PYTRACE_SCOPED_H
#define PYTRACE_SCOPED_H

#include "codemap.h"
#include "pyapi.h"
#include "settings.h"
#include "state.h"

/* What every back end reads on its hot path. */
struct pt_scoped {
	int on;			/* scopes are set */
	size_t n;		/* frames in a scope now, in every thread */
	long max;		/* scope_depth; 0: none */
	unsigned gen;		/* tracing started this many times: the
				 * threads' last answers (state.h) of before
				 * are void */
};

extern struct pt_scoped pt_scoped;

/* pt_scoped_start - empty, set up for the settings `s` (with the
 * scopes of pt_scopes_start). */
void pt_scoped_start(const struct pt_settings *s);

/* pt_scoped_stop - tracing stops: the Thread objects of threads started
 * in a scope that did not begin yet are let go (scope_threads). */
void pt_scoped_stop(void);

/*
 * pt_scoped_enter - the frame `key` starts or resumes; `c` is what its
 * code is (NULL: ignored and nothing to a scope), `back` its caller's
 * key (NULL: none, a thread's first frame), `self` its first argument
 * when c->role says it is threading's (else NULL).  Returns its depth in
 * the scope: 1 for a scope function, its caller's + 1 below, 0 outside.
 * Writes the entry line when a scope begins.
 */
int pt_scoped_enter(const void *key, const struct pt_code *c, const void *back,
		    PyObject *self);

/* pt_scoped_leave - the frame `key` returns, yields or unwinds. */
void pt_scoped_leave(const void *key);

/* pt_scoped_lookup - pt_scoped_depth from the table. */
int pt_scoped_lookup(const void *key);

/* pt_scoped_depth - the depth of the running frame `key` in a scope, 0
 * outside one: this thread's last answer when it was of `key` (most
 * lines are in the frame asked of last), else from the table. */
static inline int pt_scoped_depth(const void *key)
{
	if (key == pt_thread.skey && pt_thread.sgen == pt_scoped.gen)
		return pt_thread.sdepth;
	return pt_scoped_lookup(key);
}

/* pt_scoped_shown - are the lines of a frame at scope depth `d`
 * written? */
static inline int pt_scoped_shown(int d)
{
	return d > 0 && (!pt_scoped.max || d <= pt_scoped.max);
}

#endif
