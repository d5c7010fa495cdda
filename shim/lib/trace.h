/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the line writer: what a line event becomes, whichever back end
 * (backend.h) delivered it.  The per-code decision, the start of the main
 * program, the output, and the writing of one trace line.  It knows no
 * back end: start-up gives it the two things it must tell one (a module
 * seen, the output failed) as functions.
 *
 * Everything here runs with the GIL held.
 */
#ifndef PYTRACE_TRACE_H
#define PYTRACE_TRACE_H

#include "codemap.h"
#include "output.h"
#include "pyapi.h"
#include "record.h"
#include "rules.h"
#include "settings.h"
#include "source.h"
#include "state.h"

/* How tracing starts: at the first line of __main__ (a program run by the
 * interpreter), or at once (an embedding host). */
enum pt_trace_from { PT_FROM_MAIN, PT_FROM_NOW };

/* What start-up gives the line writer (copied; what it points to must
 * stay valid while tracing runs). */
struct pt_trace_setup {
	const struct pt_rules *rules;
	const struct pt_settings *s;
	/* where relative file names are resolved; may be "" */
	const char *cwd;
	/* %n of the output pattern, PATH_MAX bytes; "": filled from the
	 * command line when the output opens */
	char *progname;
	enum pt_trace_from from;
	/* a code object of module `name` (globals: its dict) runs for the
	 * first time; NULL: nobody asks */
	void (*module)(const char *name, PyObject *globals);
	/* stop after this many lines (0: no limit) */
	unsigned long long max_lines;
	/* nothing more is written (pt_state.stopped is set): the output
	 * failed or max_lines were written.  Called once, inside whatever
	 * event found it. */
	void (*stopped)(void);
};

/*
 * pt_trace_start - make the line writer ready: the record writer, the code
 * map (emptied when it was used before: other rules), the call and depth
 * flags and the line count (state.h), and the output, opened now
 * (PT_FROM_NOW) or at the first line of __main__.  With the GIL, before a
 * back end starts; again after pt_trace_stop.  Returns 0 or -1
 * (reported).
 */
int pt_trace_start(const struct pt_trace_setup *set);

/*
 * pt_trace_stop - nothing more is written: the output is flushed and
 * closed (tracing switched off; the back end is stopped first).  With
 * the GIL.  pt_trace_start may follow, with other settings.
 */
void pt_trace_stop(void);

/*
 * pt_trace_ready - 1 when lines may be written: the main program has
 * started (checked from `globals`, the running frame's module dict, while
 * pt_state.waiting) and the output is open.  0 while still in start-up.
 */
int pt_trace_ready(PyObject *globals);

/*
 * pt_trace_decide - what a trace line needs of `code`, or NULL when it is
 * ignored.  A cache hit is one hash lookup; the first call for a code
 * object decides from `globals` (borrowed: the module dict of the running
 * frame), and tells the setup's `module` of it.
 */
struct pt_code *pt_trace_decide(PyObject *globals, PyObject *code);

/* pt_trace_emit - write the trace line of `lineno` in `c`, in the
 * configured format; `depth` is the call depth, for {indent}. */
void pt_trace_emit(const struct pt_code *c, int lineno, long depth);

/* pt_trace_limit - the line limit is reached: nothing more is written. */
void pt_trace_limit(void);

/*
 * pt_trace_quick - the line of `lineno` in `c`, written inline when it
 * can be: as text in the default format (pt_state.plain) made before, or
 * as a record of code and line (pt_state.record), appended without the
 * lock.  1 when written; else 0, and pt_trace_emit is to write it.
 */
_Static_assert(PT_FLINE_PAD >= PT_OUT_BLOCK - 1,
	       "a made line can be copied in whole blocks (pt_out_append)");

static inline __attribute__((always_inline)) int
pt_trace_quick(const struct pt_code *c, int lineno)
{
	const struct pt_fline *l;

	if (pt_state.plain) {
		if (!(l = pt_file_fline_made(c->file, lineno)) ||
		    !pt_out_append(l->text, l->len))
			return 0;
	} else if (!pt_state.record || !pt_rec_append(c, lineno)) {
		return 0;
	}
	if (__builtin_expect(++pt_state.lines == pt_state.lines_stop, 0))
		pt_trace_limit();
	return 1;
}

/* pt_trace_line - pt_trace_emit, its common cases inline
 * (pt_trace_quick). */
static inline __attribute__((always_inline)) void
pt_trace_line(const struct pt_code *c, int lineno, long depth)
{
	if (!pt_trace_quick(c, lineno))
		pt_trace_emit(c, lineno, depth);
}

/* pt_trace_call - write " --- modulename: M, funcname: F" for a call into
 * traced code (call_lines). */
void pt_trace_call(const struct pt_code *c);

/*
 * pt_trace_enter, pt_trace_leave - a frame of traced code `c` starts or
 * resumes in the calling thread; the frame it entered last returns,
 * yields or unwinds (timeline, record mode only: ENTER and LEAVE
 * records).  A back end calls them only while pt_state.timeline, and
 * calls pt_trace_leave once for each pt_trace_enter wherever the
 * interpreter tells it of the frame's end.  Nothing is written once
 * tracing stopped.
 */
void pt_trace_enter(const struct pt_code *c);
void pt_trace_leave(void);

/* pt_trace_scope - write " === scope: MODULE:QUALNAME (thread TID)" (a
 * SCOPE record in record mode) for the calling thread entering a scope
 * function (scope_lines). */
void pt_trace_scope(const char *module, const char *qualname);

#endif
