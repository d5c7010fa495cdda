/* SPDX-License-Identifier: MIT */
/*
 * settrace.h - pytrace's C trace function (PyEval_SetTrace) and how it
 * reaches threads: for the settrace back end (settrace.c, every frame of
 * every thread) and for the followed back ends (follow.c), which set it in
 * traced frames only.
 */
#ifndef PYTRACE_SETTRACE_H
#define PYTRACE_SETTRACE_H

#include "pyapi.h"

/* What the trace function does with call and return events, besides line
 * events: whoever else sees the calls does the rest. */
enum pt_settrace_calls {
	PT_CALLS_ALL,	/* the call depth and call lines: nobody else */
	PT_CALLS_LINES,	/* call lines only: a frame evaluation function
			 * keeps the depth */
	PT_CALLS_NONE,	/* nothing: a profile function sees the calls */
};

/* pt_settrace_func - the trace function. */
int pt_settrace_func(PyObject *obj, PyFrameObject *frame, int what,
		     PyObject *arg);

/*
 * pt_settrace_prepare - before the trace function is set anywhere: what it
 * does with calls, and what threading's hook does in a new thread
 * (`in_thread`; NULL: set the trace function).  Makes that hook once.
 * Returns 0, or -1 after one message.
 */
int pt_settrace_prepare(enum pt_settrace_calls calls, void (*in_thread)(void));

/* pt_settrace_everywhere - set the trace function for every frame: in this
 * thread, in the other threads (pt_settrace_others, or 3.12's
 * PyEval_SetTraceAllThreads), and in threads threading starts from now
 * on.  Calls become PT_CALLS_ALL. */
void pt_settrace_everywhere(void);

/*
 * pt_settrace_others - set `fn` (NULL: take pytrace's function out) in
 * every other thread that has no trace function of somebody else's: with
 * _PyEval_SetTrace (3.9-3.12), or as that thread (2.7-3.8, unless the
 * program has a Python audit hook).  With the GIL.
 */
void pt_settrace_others(pt_tracefunc fn);

/* pt_settrace_hook_threading - give threading._trace_hook to the calling
 * thread's interpreter, if it has loaded threading. */
void pt_settrace_hook_threading(void);

/* pt_settrace_module - the back ends' `module` (backend.h) where
 * threading's hook is needed. */
void pt_settrace_module(const char *name, PyObject *globals);

/*
 * pt_settrace_replaced - a "sys.settrace" audit event in a thread where
 * pytrace does not set the trace function from a frame evaluation
 * function: unless pytrace caused it, say once that this thread is no
 * longer traced.
 */
void pt_settrace_replaced(void);

/* pt_settrace_tell_replaced - say once that the program set its own trace
 * function and a thread is no longer traced (a notice). */
void pt_settrace_tell_replaced(void);

/* pt_settrace_clear - take pytrace's trace function out of the calling
 * thread, silently (the audit event is pytrace's own).  Safe inside the
 * trace function itself. */
void pt_settrace_clear(void);

#endif
