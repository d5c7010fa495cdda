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
int pt_trace_start(const struct pt_rules *rules, const char *cwd,
		   enum pt_trace_from from);

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

/*
 * pt_trace_decide - the file record of `code`, or NULL when it is ignored.
 * A cache hit is one hash lookup; the first call for a code object decides
 * from `globals` (borrowed: the module dict of the running frame) and may
 * notice the threading module (pt_settrace_threading).
 */
struct pt_file *pt_trace_decide(PyObject *globals, PyObject *code);

/* pt_trace_emit - write "path(line): source\n". */
void pt_trace_emit(struct pt_file *f, int lineno);

/* settrace.c */
int pt_settrace_start(void);
/* pt_settrace_replaced - the program calls sys.settrace (audit event,
 * 3.8+): say once that the calling thread is no longer traced. */
void pt_settrace_replaced(void);
void pt_settrace_threading(PyObject *globals);

/* monitor.c: -1 when sys.monitoring cannot be used (caller falls back). */
int pt_monitor_start(void);

#endif
