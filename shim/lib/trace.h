/* SPDX-License-Identifier: MIT */
/*
 * trace.h - what every tracing back end shares: the per-code decision,
 * the start of the main program, and the writing of one trace line.
 *
 * Two back ends deliver line events: settrace.c (PyEval_SetTrace, every
 * version) and monitor.c (sys.monitoring, 3.12+).  Both call into trace.c
 * with the GIL held.
 */
#ifndef PYTRACE_TRACE_H
#define PYTRACE_TRACE_H

#include "pyapi.h"
#include "rules.h"
#include "codemap.h"
#include "settings.h"
#include "source.h"

/* How tracing starts: at the first line of __main__ (a program run by the
 * interpreter), or at once (an embedding host). */
enum pt_trace_from { PT_FROM_MAIN, PT_FROM_NOW };

/*
 * pt_trace_start - start delivering line events in this process, with the
 * fastest back end the interpreter has.  `rules` and `cwd` (where relative
 * file names are resolved; may be "") are kept.  Called once, with the GIL
 * held, in the thread that runs the program.  Returns 0 or -1 (reported).
 */
int pt_trace_start(const struct pt_rules *rules, const struct pt_settings *s,
		   const char *cwd, enum pt_trace_from from);

/*
 * pt_trace_interp - start delivering line events in the calling thread's
 * interpreter, a subinterpreter that appeared after pt_trace_start, with
 * the same rules and output (subinterp.c).  With its GIL, shared with the
 * first one.  Returns 0 or -1 (the interpreter then runs untraced).
 */
int pt_trace_interp(void);

/* Set once output failed: back ends return at once. */
extern volatile int pt_trace_stopped;

/* Set while the main program has not started: back ends then call
 * pt_trace_ready() on every line event, with the frame's globals. */
extern int pt_trace_waiting;

/*
 * pt_trace_ready - 1 when lines may be written: the main program has
 * started (checked from `globals`, the running frame's module dict, while
 * it has not) and the output is open.  0 while still in start-up.
 */
int pt_trace_ready(PyObject *globals);

/* call_lines is on: back ends report calls (pt_trace_call). */
extern int pt_trace_call_lines;

/* The format has {indent}: back ends keep the call depth per thread. */
extern int pt_trace_needs_depth;

/*
 * pt_trace_decide - what a trace line needs of `code`, or NULL when it is
 * ignored.
 * A cache hit is one hash lookup; the first call for a code object decides
 * from `globals` (borrowed: the module dict of the running frame) and may
 * notice the threading module (pt_settrace_threading).
 */
struct pt_code *pt_trace_decide(PyObject *globals, PyObject *code);

/* pt_trace_emit - write the trace line of `lineno` in `c`, in the
 * configured format; `depth` is the call depth, for {indent}. */
void pt_trace_emit(const struct pt_code *c, int lineno, long depth);

/* pt_trace_call - write " --- modulename: M, funcname: F" for a call into
 * traced code (call_lines). */
void pt_trace_call(const struct pt_code *c);

/* settrace.c */
int pt_settrace_start(void);
/* pt_settrace_replaced - the program calls sys.settrace (audit event,
 * 3.8+): say once that the calling thread is no longer traced. */
void pt_settrace_replaced(void);
void pt_settrace_threading(PyObject *globals);
/* pt_settrace_interp - the settrace back end in a new interpreter (the
 * calling thread's): following its frames where the first one's are
 * followed, else the trace function in each of its threads. */
int pt_settrace_interp(void);
/* pt_settrace_everywhere - set the trace function in this thread, in the
 * other threads where the interpreter allows it, and in new threads. */
void pt_settrace_everywhere(void);

/* Call depth of this thread, kept only when the format has {indent}. */
extern __thread long pt_trace_depth __attribute__((tls_model("initial-exec")));

/* follow.c: the trace function only in traced frames (2.7-3.11). */
enum { PT_FOLLOW_NONE, PT_FOLLOW_EVAL, PT_FOLLOW_PROFILE };
/* How frames are followed: PT_FOLLOW_EVAL (3.6-3.11, a frame evaluation
 * function), PT_FOLLOW_PROFILE (2.7, a profile function), or NONE (the
 * trace function is set for every frame). */
extern int pt_follow_mode;
/*
 * pt_follow_start - set `trace` in this thread and start following, so
 * that it stays set only while traced frames run.  Returns 0, or -1 when
 * this interpreter cannot be followed (`trace` is then set in this thread
 * and the caller goes on as without following).
 */
int pt_follow_start(pt_tracefunc trace);
/* pt_follow_interp - follow the frames of a new interpreter (the calling
 * thread's) as those of the first; 0, or -1 when it cannot be. */
int pt_follow_interp(void);
/* pt_follow_thread - in a new thread (2.7, from threading's hook). */
void pt_follow_thread(void);
/* pt_follow_settrace_event - a "sys.settrace" audit event: 1 when pytrace
 * caused it; else 0, and this thread is left alone from now on. */
int pt_follow_settrace_event(void);
/* pt_follow_audit_hook_added - a "sys.addaudithook" event: stop clearing
 * the trace function (each change would be an event for that hook). */
void pt_follow_audit_hook_added(void);

/* monitor.c: -1 when sys.monitoring cannot be used (caller falls back). */
int pt_monitor_start(void);

#endif
