/* SPDX-License-Identifier: MIT */
/*
 * frames.c - frame keys (frames.h).
 *
 * Before 3.11 a frame object lives as long as its frame runs and knows
 * its caller (f_back).  From 3.11 the interpreter runs frames without
 * objects (made only when asked for, which costs an allocation per call)
 * and links them through _PyInterpreterFrame.previous, where 3.12+ also
 * put a shim for a call from C.  So from 3.11 the key is the
 * _PyInterpreterFrame, read where layout.c says, checked once against the
 * API: a frame object's f_frame must point back to it (frame_obj), and
 * the thread state's running frame must be PyEval_GetFrame's.  When a
 * check fails, every key is the frame object, and the API is used.
 */
#include <stdint.h>

#include "frames.h"
#include "layout.h"

#define AT(base, off) (*(void **)((char *)(base) + (off)))

struct pt_frame_links pt_frame_links;
struct pt_frame_run pt_frame_run;

static struct {
	int iframes;	/* keys are _PyInterpreterFrames: 1 yes, -1 no, 0 not
			 * checked yet */
	int running;	/* the thread state's running frame agrees with
			 * PyEval_GetFrame: 1 yes, -1 no, 0 not checked yet */
	int stack;	/* the layout's datastack agrees: 1 yes, -1 no, 0
			 * not checked yet */
} fr;

/* Before 3.11: frame objects only. */
static int objects_only(void)
{
	return pt_py.major < 3 || (pt_py.major == 3 && pt_py.minor < 11);
}

/* The layout check, on frame object `f`.  3.11's frame evaluation
 * function is given _PyInterpreterFrames, which follow.c reads by the
 * same layout: they are the keys there in any case. */
static void check(PyFrameObject *f)
{
	const struct pt_layout *l = pt_py.layout;

	if (!l->iframe || !l->iprevious || !l->iframe_obj ||
	    (!l->cframe && !l->tstate_current)) {
		fr.iframes = -1;
		return;
	}
	if (pt_py.major == 3 && pt_py.minor == 11) {
		fr.iframes = 1;
	} else {
		void *i = AT(f, l->iframe);
		fr.iframes = i && AT(i, l->iframe_obj) == f ? 1 : -1;
	}
	if (fr.iframes > 0)
		pt_frame_links = (struct pt_frame_links){ 1, l->iprevious,
							  l->iowner, 0 };
}

struct pt_frame_keys pt_frame_keys;

void *pt_frame_key_find(PyFrameObject *frame)
{
	if (objects_only()) {
		pt_frame_keys = (struct pt_frame_keys){ 1, 0 };
		return frame;
	}
	if (!fr.iframes)
		check(frame);
	pt_frame_keys = (struct pt_frame_keys){
		1, fr.iframes > 0 ? pt_py.layout->iframe : 0 };
	return fr.iframes > 0 ? AT(frame, pt_py.layout->iframe) : (void *)frame;
}

/* The running _PyInterpreterFrame of `tstate`, by the layout. */
static void *running_iframe(void *tstate)
{
	const struct pt_layout *l = pt_py.layout;

	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	if (!l->cframe)
		return AT(tstate, l->tstate_current);
	void *cframe = AT(tstate, l->cframe);
	return cframe ? AT(cframe, l->cframe_current) : NULL;
}

void *pt_frame_running(void *tstate)
{
	if (fr.iframes > 0 && fr.running > 0)
		return running_iframe(tstate);
	PyFrameObject *f = pt_py.EvalGetFrame();
	if (!f)
		return NULL;
	void *key = pt_frame_key(f);
	if (!fr.running && fr.iframes > 0) {
		fr.running = running_iframe(tstate) == key ? 1 : -1;
		if (fr.running > 0) {
			const struct pt_layout *l = pt_py.layout;
			pt_frame_run = (struct pt_frame_run){
				1, l->cframe, l->cframe_current, l->tstate_current };
		}
	}
	return key;
}

/* A frame of the thread's own stack, neither a generator's nor a
 * shim (3.12, 3.13: owner 0). */
enum { FRAME_OWNED_BY_THREAD = 0 };

size_t pt_frame_datastack;

void *pt_frame_stack_find(void *tstate)
{
	const struct pt_layout *l = pt_py.layout;

	if (fr.stack < 0 || !l->datastack || !l->iowner)
		return NULL;
	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	char *chunk = AT(tstate, l->datastack);
	if (fr.stack > 0 || !chunk)
		return chunk;
	/* the check: the running frame, on the thread's stack, is in the
	 * chunk (whose size follows its link) */
	char *f = pt_frame_running(tstate);
	if (!f || fr.iframes <= 0 || fr.running <= 0 ||
	    *(unsigned char *)(f + l->iowner) != FRAME_OWNED_BY_THREAD)
		return NULL;	/* not now */
	size_t size = *(size_t *)(chunk + sizeof(void *));
	fr.stack = f > chunk && f < chunk + size ? 1 : -1;
	if (fr.stack > 0)
		pt_frame_datastack = l->datastack;
	return fr.stack > 0 ? chunk : NULL;
}

void *pt_frame_caller(void *key)
{
	const struct pt_layout *l = pt_py.layout;

	if (objects_only()) {
		if (!l->back)
			return NULL;
		/* f_back, which pt_frame_caller_fast reads from now on */
		pt_frame_links = (struct pt_frame_links){ 1, l->back, 0, 1 };
		return AT(key, l->back);
	}
	if (fr.iframes > 0) {
		void *p = AT(key, l->iprevious);
		while (p && l->iowner &&
		       *((unsigned char *)p + l->iowner) >= PT_FRAME_OWNED_BY_SHIM)
			p = AT(p, l->iprevious);
		return p;
	}
	if (!pt_py.FrameGetBack)
		return NULL;
	/* the caller's frame object, which its frame keeps */
	PyFrameObject *back = pt_py.FrameGetBack((PyFrameObject *)key);
	if (back)
		pt_py.DecRef((PyObject *)back);
	return back;
}

void *pt_frame_eval_caller_slow(void *tstate, void *key)
{
	if (objects_only())
		return pt_frame_caller(key);
	return pt_frame_running(tstate);
}

PyObject *pt_frame_self(void *key)
{
	if (!fr.iframes && pt_py.major == 3 && pt_py.minor == 11)
		check(NULL);
	/* 3.14+: a tagged reference (two low bits), a plain pointer before:
	 * an object's address has neither bit */
	if (!objects_only() && fr.iframes > 0)
		return (PyObject *)((uintptr_t)AT(key, pt_py.layout->localsplus) &
				    ~(uintptr_t)3);
	PyObject *locals = pt_py.GetAttrString((PyObject *)key, "f_locals");
	PyObject *self = locals ? pt_py.MappingGetItemString(locals, "self") : NULL;

	if (!self)
		pt_py.ErrClear();
	if (locals)
		pt_py.DecRef(locals);
	if (self)
		pt_py.DecRef(self);	/* the frame keeps it */
	return self;
}
