/* SPDX-License-Identifier: MIT */
/*
 * start.h - when tracing starts, and the steps that start it.
 */
#ifndef PYTRACE_START_H
#define PYTRACE_START_H

#include "program.h"
#include "trace.h"

/*
 * pt_start_hook_audit - 3.8+: register an audit hook (before the
 * interpreter initialises) that starts tracing at cpython.run_file,
 * run_module, run_command or run_stdin.  Returns 0 or a negative errno.
 */
int pt_start_hook_audit(void);

/*
 * pt_start_hook_pending - 2.7, before the interpreter initialises (the
 * library's constructor): queue a pending call (Py_AddPendingCall, which
 * 2.7 accepts before anything is initialised and keeps in static data)
 * that starts tracing from the first line of __main__.  The interpreter
 * runs it at the first bytecode it evaluates, in the main thread: on a
 * Python that runs a program, in site (or, without site, in the first
 * module start-up imports), after initialisation has set up the
 * interpreter, the sys module and __main__.  It needs no interposition,
 * so it serves a static interpreter; where an interposed entry point is
 * reached (pt_start_by_wrapper), that one starts tracing instead, as
 * before.  Returns 0 or a negative errno after one message.
 */
int pt_start_hook_pending(void);

/*
 * pt_start_hook_sigpipe - 3.6 and 3.7, before the interpreter initialises
 * (the library's constructor): have the sigaction wrapper (interpose.c)
 * queue the pending call of pt_start_hook_pending when initialisation
 * ignores SIGPIPE, late enough for the call to be kept and to run in a
 * set-up interpreter (start.c says why).  Like that one it needs no
 * interposition of libpython, and does nothing where an interposed entry
 * point is reached.  Returns 0 or a negative errno after one message.
 */
int pt_start_hook_sigpipe(void);

/*
 * pt_start_at_sigpipe - set by pt_start_hook_sigpipe until the first
 * sigaction(SIGPIPE, SIG_IGN): then the wrapper calls pt_start_sigpipe,
 * which clears it and queues the call.  Zero in every other process.
 */
extern int pt_start_at_sigpipe;
void pt_start_sigpipe(void);

/*
 * pt_start_by_wrapper - an interposed initialisation function
 * (Py_Initialize and the like, not Py_Main, which a libpython that calls
 * its own functions directly reaches all the same) runs: it starts
 * tracing itself, and the pending call does nothing.
 */
void pt_start_by_wrapper(void);

/*
 * pt_start - read the settings and start tracing in the calling thread:
 * from the first line of __main__ (PT_FROM_MAIN) or at once (PT_FROM_NOW,
 * an embedding host).  `progname` is the %n of the output pattern, or NULL
 * to take it from sys.argv when the output is opened; `prog`, what the
 * process runs, for `programs` (NULL: read from the command line).  Called
 * at most once per process, with the GIL held.  Any problem is reported
 * once and the program runs untraced; a program not selected by `programs`
 * runs untraced without a word.
 */
void pt_start(enum pt_trace_from from, const char *progname,
	      const struct pt_program *prog);

/*
 * pt_start_late - the library was loaded into an interpreter that runs
 * already: read the settings and wait in standby (standby.c), whatever
 * `start` says.  In any thread, with or without the GIL; once.
 */
void pt_start_late(void);

#endif
