/* SPDX-License-Identifier: MIT */
/*
 * backend.h - a tracing back end: how an interpreter is made to deliver
 * the line events of traced code to the line writer (trace.h).
 *
 * Start-up (start.c) is the one file that knows every back end; it tries
 * them cheapest first and keeps the first that starts:
 *   pt_backend_monitor   monitor.c   sys.monitoring (3.12+)
 *   pt_backend_eval      follow.c    a frame evaluation function sets the
 *                                    trace function in traced frames only
 *                                    (3.6-3.11)
 *   pt_backend_profile   follow.c    the same from a profile function (2.7)
 *   pt_backend_settrace  settrace.c  the trace function in every frame
 *                                    (every version: the fallback)
 * The line writer knows none of them.  A back end may rest on one below it
 * (the followed ones set settrace.c's trace function, and hand every
 * thread to it when they must stop following), never on one above.
 *
 * Every function is called with the GIL held, in a thread of the
 * interpreter concerned, never from inside the back end's own callbacks.
 */
#ifndef PYTRACE_BACKEND_H
#define PYTRACE_BACKEND_H

#include "pyapi.h"

struct pt_backend {
	const char *name;
	/*
	 * start - deliver the line events of the calling thread's
	 * interpreter, in every thread: the calling one at once, the others
	 * from their next call (or next line, where the interpreter lets
	 * pytrace reach them), and threads started later.  Nothing assumes
	 * the interpreter has not run code yet.  Returns 0, or -1 when this
	 * back end cannot serve the interpreter: it then leaves nothing set
	 * up, and start-up tries the next one.
	 */
	int (*start)(void);
	/*
	 * interp - the same in a new interpreter, the calling thread's, after
	 * start succeeded in the first one.  0, or -1 (that interpreter then
	 * runs untraced).
	 */
	int (*interp)(void);
	/*
	 * stop - deliver no more events, anywhere, and let the process
	 * return to its dormant cost: what start and interp set up is undone
	 * where the interpreter lets pytrace do it at once, and otherwise by
	 * each thread at its next event (which writes nothing).  Called at a
	 * safe point of the main thread (a pending call), with the GIL.
	 */
	void (*stop)(void);
	/*
	 * leave - the calling thread runs no Python code of its own and its
	 * thread state is deleted next (the control thread after start or
	 * stop): take out what start set in it.  On 2.7-3.8 a thread state
	 * deleted with a trace function keeps the interpreter on its slow,
	 * tracing dispatch for good.  NULL: nothing per thread.
	 */
	void (*leave)(void);
	/*
	 * audit - an audit event (3.8+) once tracing started: "sys.settrace"
	 * (the program replacing a trace function) and "sys.addaudithook"
	 * (also when one was added before start).  NULL: nothing to do.
	 */
	void (*audit)(const char *event);
	/*
	 * module - a code object of module `name` runs for the first time
	 * (each once); `globals` is the module's dict (borrowed).  For a
	 * back end that must hook a module (threading's _trace_hook), as
	 * soon as the module's body has defined what it hooks.  NULL:
	 * nothing to do.
	 */
	void (*module)(const char *name, PyObject *globals);
};

/*
 * pt_eval_thread_starts - a thread of the program's is about to be
 * created (threadstart.c's pthread_create, in the creating thread, with
 * or without the GIL): the frame evaluation back end puts its function in
 * place first where it went without one (follow.c).
 */
void pt_eval_thread_starts(void);

extern const struct pt_backend pt_backend_monitor;
extern const struct pt_backend pt_backend_eval;
extern const struct pt_backend pt_backend_profile;
extern const struct pt_backend pt_backend_settrace;

#endif
