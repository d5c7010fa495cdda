/* SPDX-License-Identifier: MIT */
/*
 * tracing.h - tracing on or off: the line writer and the back end
 * together.  The one place that knows every back end (backend.h).
 */
#ifndef PYTRACE_TRACING_H
#define PYTRACE_TRACING_H

#include "trace.h"

/*
 * pt_tracing_start - start the line writer with `set` (its module and
 * stopped functions are this file's) and the cheapest back end that
 * serves the calling thread's interpreter, in every one of its threads;
 * new interpreters follow.  With the GIL, in any thread; again after
 * pt_tracing_stop.  `set` is copied; what it points to must stay valid until
 * tracing stops.  Returns 0, or -1 (reported).
 */
int pt_tracing_start(const struct pt_trace_setup *set);

/*
 * pt_tracing_stop - stop the back end and the writer: no more lines,
 * the output flushed and closed, the process back at its dormant cost.
 * With the GIL, in any thread, never inside a callback of the back end.
 */
void pt_tracing_stop(void);

/* pt_tracing_leave_thread - the calling thread runs no Python code of its
 * own, and its thread state goes next: the back end's part of it out
 * (backend.h, leave).  With the GIL. */
void pt_tracing_leave_thread(void);

/* pt_tracing_audit - an audit event (3.8+) once tracing was set up:
 * the back end's share of it. */
void pt_tracing_audit(const char *event);

/*
 * pt_tracing_when_stopped - what to do when the writer stops by itself
 * (the output failed, the line limit was reached): `fn`, called inside
 * the event that found it, must get pt_tracing_stop called at a safe
 * point.  NULL (the default): a pending call, run by the main thread.
 */
void pt_tracing_when_stopped(void (*fn)(void));

#endif
