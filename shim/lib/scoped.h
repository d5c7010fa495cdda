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
 * Frames are known by a key (frames.h): the _PyInterpreterFrame (3.11+),
 * else the frame object; whatever identifies a frame while it runs, the
 * same for a frame and its caller.  Back ends tell frames one of three
 * ways:
 *  - every frame that starts or resumes (pt_scoped_enter) and ends or
 *    suspends (pt_scoped_leave): the table holds every frame in a scope
 *    (the plain trace function; sys.monitoring where frames cannot be
 *    walked, or in another interpreter);
 *  - every frame, with its caller's place kept across the call
 *    (pt_scoped_call, pt_scoped_return: 3.6-3.11's frame evaluation
 *    function, 2.7's profile function, pt_scoped.light): the table holds
 *    the scope functions' frames only;
 *  - only the scope functions' frames (pt_scoped_enter_at, on 3.12+
 *    where tracing starts, pt_scoped.walk): a line finds its place with
 *    pt_scoped_here, else pt_scoped_walk.
 * With no frame in a scope, a frame that is no scope function costs a
 * test.
 *
 * With the GIL held.
 */
#ifndef PYTRACE_SCOPED_H
#define PYTRACE_SCOPED_H

#include <stdint.h>

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
	int walk;		/* a back end finds frames' places by
				 * pt_scoped_walk and pt_scoped_here: each
				 * thread's newest entry is kept for them */
	int light;		/* a back end tells frames by pt_scoped_call:
				 * a frame not in the table is placed by its
				 * callers (as pt_scoped_walk) */
	/* a filter of the keys in the table: bit pt_scoped_bloom_bit(key)
	 * is set while some key has it, so that most frames are known not
	 * to be there with one AND */
	uint64_t bloom;
};

static inline unsigned pt_scoped_bloom_bit(const void *key)
{
	uintptr_t k = (uintptr_t)key;

	return (unsigned)((k >> 4) ^ (k >> 10)) & 63;
}

/* A frame's caller's place, kept by the back end across the call. */
struct pt_scoped_place {
	int depth;
	int on;			/* the thread had the trace function at the
				 * call (a back end's, not read here) */
	const void *root;
	unsigned gen;		/* pt_scoped.gen it was found in: one of
				 * before tracing started again is void */
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

/* pt_scoped_enter_at - pt_scoped_enter with the caller's depth and
 * scope known (pt_scoped_walk): `cdepth`, `caller_root`; `stack`: the
 * frame stack the frame runs on (frames.h: pt_frame_stack), for
 * pt_scoped_here, or NULL. */
int pt_scoped_enter_at(const void *key, const struct pt_code *c, int cdepth,
		       const void *caller_root, PyObject *self,
		       const void *stack);

/* pt_scoped_leave - the frame `key` returns, yields or unwinds. */
void pt_scoped_leave(const void *key);

/*
 * pt_scoped_call - pt_scoped_enter for a back end that sees every frame
 * start and end (3.6-3.11's frame evaluation function, 2.7's profile
 * function; they set pt_scoped.light): only the frames of scope functions
 * (and of threading's) go into the table; every other frame's place is
 * this thread's last answer, told again at its end by pt_scoped_return
 * with `caller`, its caller's place, which the frame evaluation function
 * keeps meanwhile (in its own C frame, which a green thread switch keeps
 * too).  A frame whose place is no last answer (another green thread's;
 * 2.7's caller after a return) is placed by its callers, as
 * pt_scoped_walk does: O(frames up to the nearest scope function).
 */
int pt_scoped_call_slow(const void *key, const struct pt_code *c,
			const void *back, PyObject *self,
			struct pt_scoped_place *caller);

static inline int pt_scoped_call(const void *key, const struct pt_code *c,
				 const void *back, PyObject *self,
				 struct pt_scoped_place *caller)
{
	/* inline: a frame that is no scope function's, called by the frame
	 * this thread answered for last (the one running) */
	if (!back || back != pt_thread.skey || pt_thread.sgen != pt_scoped.gen ||
	    (c && (c->scope || c->role)))
		return pt_scoped_call_slow(key, c, back, self, caller);
	int cdepth = pt_thread.sdepth;
	caller->depth = cdepth;
	caller->root = pt_thread.sroot;
	caller->gen = pt_scoped.gen;
	/* below the depth shown, one depth stands for all */
	int depth = !cdepth ? 0 : pt_scoped.max && cdepth > pt_scoped.max ?
		    cdepth : cdepth + 1;
	pt_thread.skey = key;
	pt_thread.sdepth = depth;
	pt_thread.sroot = depth ? caller->root : NULL;
	return depth;
}

/* pt_scoped_return_slow - pt_scoped_return of a frame in the table. */
void pt_scoped_return_slow(const void *key, const void *back,
			   const struct pt_scoped_place *caller);

/* pt_scoped_return - the frame `key` that pt_scoped_call told of ends
 * (returns, yields, unwinds) to `back`, whose place is `caller` (NULL:
 * not known; then found from its callers when asked). */
static inline void pt_scoped_return(const void *key, const void *back,
				    const struct pt_scoped_place *caller)
{
	if (pt_scoped.bloom & (1ull << pt_scoped_bloom_bit(key)) || !back ||
	    !caller || caller->gen != pt_scoped.gen) {
		pt_scoped_return_slow(key, back, caller);
		return;
	}
	pt_thread.skey = back;
	pt_thread.sdepth = caller->depth;
	pt_thread.sroot = caller->root;
	pt_thread.sgen = pt_scoped.gen;
}

/*
 * pt_scoped_push, pt_scoped_pop - for a back end that cannot keep a
 * frame's `caller` across its call (2.7's profile function): kept in a
 * stack of this thread's calls.  pt_scoped_pop returns 1 with *caller
 * when `key` is the newest call kept, else 0 (then pt_scoped_return with
 * NULL).  O(1).
 */
struct pt_scoped_call {
	const void *key;
	struct pt_scoped_place caller;
};

/* The stack, in pt_thread.calls. */
struct pt_scoped_calls {
	size_t n, cap;
	unsigned gen;		/* pt_scoped.gen it was pushed in */
	struct pt_scoped_call v[];
};

/* pt_scoped_push_slow - pt_scoped_push with a stack to make, grow or
 * empty first. */
void pt_scoped_push_slow(const void *key, const struct pt_scoped_place *caller);

static inline void pt_scoped_push(const void *key,
				  const struct pt_scoped_place *caller)
{
	struct pt_scoped_calls *cs = pt_thread.calls;

	if (!cs || cs->gen != pt_scoped.gen || cs->n == cs->cap) {
		pt_scoped_push_slow(key, caller);
		return;
	}
	cs->v[cs->n].key = key;
	cs->v[cs->n++].caller = *caller;
}

static inline int pt_scoped_pop(const void *key,
				struct pt_scoped_place *caller)
{
	struct pt_scoped_calls *cs = pt_thread.calls;

	if (!cs || cs->gen != pt_scoped.gen || !cs->n)
		return 0;
	if (cs->v[cs->n - 1].key != key) {
		cs->n = 0;	/* another green thread's frames: the walk */
		return 0;
	}
	*caller = cs->v[--cs->n].caller;
	return 1;
}

/*
 * pt_scoped_walk - the depth of the running frame `key` in a scope (0:
 * outside one) and its scope (*root), for a back end that tells only the
 * frames of scope functions (and of threading's, scope_threads) to
 * pt_scoped_enter_at: the nearest of them among the frame and its callers
 * (frames.h), depth counted from there.  O(frames between the two); a
 * frame out of every scope walks its whole stack, so with no frame in a
 * scope anywhere the answer is 0 at once.
 */
int pt_scoped_walk(const void *key, const void **root);

/*
 * pt_scoped_here - 1 when the frame running in this thread is in a scope
 * (*root its scope) by the shortest test, 0 when that cannot tell (then
 * pt_scoped_walk): the thread's newest entry is still in the table and
 * was entered on `stack`, the frame stack the thread runs on now.  That
 * entry's frame then still runs on this stack, and every frame that runs
 * on it while that one does is beneath it.  Its depth is not known.
 */
static inline const void *pt_scoped_top(void)
{
	return pt_thread.stopgen == pt_scoped.gen ? pt_thread.stop : NULL;
}

static inline int pt_scoped_here(const void *stack, const void **root)
{
	if (!stack || !pt_scoped_top() || pt_thread.stop_stack != stack)
		return 0;
	*root = pt_thread.stop_root;
	return 1;
}

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
