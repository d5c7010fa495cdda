/* SPDX-License-Identifier: MIT */
/*
 * frames.h - a key for each running frame, the same whichever back end
 * delivered the frame (scoped.h keeps frames by it), and what scopes need
 * of a frame: its caller and its first argument.
 *
 * The key is the _PyInterpreterFrame on 3.11+, where the layout agrees
 * with the interpreter (checked once): what 3.11's frame evaluation
 * function gets, and what the thread state points to on 3.12+ with no
 * frame object made.  Otherwise, and before 3.11, the frame object.
 *
 * With the GIL held.
 */
#ifndef PYTRACE_FRAMES_H
#define PYTRACE_FRAMES_H

#include <stddef.h>

#include "pyapi.h"

/* How a frame object gives its key, once the first key was found
 * (known): at offset iframe (3.11+, checked), or itself (iframe 0). */
struct pt_frame_keys {
	int known;
	size_t iframe;
};

extern struct pt_frame_keys pt_frame_keys;

/* pt_frame_key_find - pt_frame_key the first time (the check). */
void *pt_frame_key_find(PyFrameObject *frame);

/* pt_frame_key - the key of `frame`: one load at most, once known. */
static inline void *pt_frame_key(PyFrameObject *frame)
{
	if (!pt_frame_keys.known)
		return pt_frame_key_find(frame);
	if (!pt_frame_keys.iframe)
		return frame;
	return *(void **)((char *)frame + pt_frame_keys.iframe);
}

/* pt_frame_running - the key of the frame thread `tstate` (NULL: the
 * calling one) runs, or NULL; on 3.12+ the frame of a sys.monitoring
 * event. */
void *pt_frame_running(void *tstate);

/*
 * pt_frame_stack - the frame stack thread `tstate` (NULL: the calling
 * one) runs on (3.12, 3.13: the chunk of its data stack in use, checked
 * once against the running frame), or NULL when not known.  Each green
 * thread (greenlet) has chunks of its own.  The chunk in use holds a
 * caller of the frame running (or that frame), so it stays until that
 * caller returns: while the frame running at one call still runs, a later
 * call that returns the same stack runs in the same green thread (one
 * that grew into another chunk answers another: not the same, never a
 * false "same").
 */
void *pt_frame_stack_find(void *tstate);

/* Where the thread state's data stack chunk is, once checked (0: not
 * yet, or not known). */
extern size_t pt_frame_datastack;

static inline void *pt_frame_stack(void *tstate)
{
	if (!pt_frame_datastack || !tstate)
		return pt_frame_stack_find(tstate);
	return *(void **)((char *)tstate + pt_frame_datastack);
}

/* pt_frame_caller - the key of the frame that called the running frame
 * `key` (through C code too), or NULL. */
void *pt_frame_caller(void *key);

/* pt_frame_eval_caller_slow - pt_frame_eval_caller before the layout
 * it reads is known. */
void *pt_frame_eval_caller_slow(void *tstate, void *key);

/* pt_frame_self - the first argument of the running frame `key`, borrowed
 * (its identity only), or NULL.  From a frame object it reads f_locals
 * (no Python code runs; on 2.7-3.12 it fills the frame's locals dict, as
 * sys._getframe().f_locals would). */
PyObject *pt_frame_self(void *key);

/* Where keys are _PyInterpreterFrames (3.11+, once checked), or frame
 * objects (before 3.11, once a caller was asked): the offsets of the link
 * to the caller and of the owner byte (0: none), for
 * pt_frame_caller_fast; ok 0 before or otherwise. */
struct pt_frame_links {
	int ok;
	size_t previous, owner;
	int objects;	/* the keys are frame objects, linked by f_back */
};

/* Where a thread state's running _PyInterpreterFrame is, once checked
 * (ok): PyThreadState.cframe's current_frame (3.11, 3.12), or
 * PyThreadState.current_frame (3.13; cframe 0). */
struct pt_frame_run {
	int ok;
	size_t cframe, cframe_current, tstate_current;
};

extern struct pt_frame_run pt_frame_run;

extern struct pt_frame_links pt_frame_links;

/* Owners from this one up are shims, no Python function's frames: a
 * call from C (3.12, 3.13: 3; 3.14: 4), the interpreter's own (3.14+:
 * 3). */
enum { PT_FRAME_OWNED_BY_SHIM = 3 };

/* pt_frame_caller_fast - pt_frame_caller, inline where keys are
 * _PyInterpreterFrames (a walk up a stack: a few loads a frame). */
static inline void *pt_frame_caller_fast(void *key)
{
	const struct pt_frame_links *l = &pt_frame_links;

	if (!l->ok)
		return pt_frame_caller(key);
	void *p = *(void **)((char *)key + l->previous);
	while (p && l->owner &&
	       *((unsigned char *)p + l->owner) >= PT_FRAME_OWNED_BY_SHIM)
		p = *(void **)((char *)p + l->previous);
	return p;
}

/*
 * pt_frame_eval_caller - pt_frame_caller of a frame 3.6-3.11's frame
 * evaluation function is about to run in thread `tstate` (NULL: the
 * calling one): on 3.11 the frame is linked to its caller only after,
 * which is then the one running.  Inline once the layout is known.
 */
static inline void *pt_frame_eval_caller(void *tstate, void *key)
{
	const struct pt_frame_run *r = &pt_frame_run;

	if (pt_frame_links.objects)
		return pt_frame_caller_fast(key);
	if (!r->ok || !tstate)
		return pt_frame_eval_caller_slow(tstate, key);
	if (!r->cframe)
		return *(void **)((char *)tstate + r->tstate_current);
	void *cframe = *(void **)((char *)tstate + r->cframe);
	return cframe ? *(void **)((char *)cframe + r->cframe_current) : NULL;
}

/* pt_frame_back - pt_frame_caller of a frame object. */
static inline void *pt_frame_back(PyFrameObject *frame)
{
	return pt_frame_caller(pt_frame_key(frame));
}

#endif
