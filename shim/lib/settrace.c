/* SPDX-License-Identifier: MIT */
/*
 * settrace.c - the PyEval_SetTrace back end, for every version (the only
 * one before 3.12).
 *
 * The C trace function is per thread.  Threads get it three ways:
 *  - the thread that starts the program: PyEval_SetTrace at start;
 *  - threads that already exist then (started by sitecustomize, a .pth
 *    file, an embedding host): _PyEval_SetTrace(tstate, ...) for each, on
 *    3.9-3.11, where it is exported;
 *  - threads started later by `threading`: Thread._bootstrap_inner passes
 *    `threading._trace_hook` to sys.settrace() in each new thread; pytrace
 *    sets that hook to a C function which installs the C trace function
 *    and steps aside.  pytrace never imports threading (that would change
 *    the import order eventlet and gevent rely on): the hook is set when
 *    code of the loading module first runs, or at start when the
 *    module was loaded before.  Every code object of threading is looked
 *    at once (a cache miss), so the first one to run after the module's
 *    `_trace_hook = None` line sets the hook, before any Thread.start.
 */
#include <string.h>

#include "codemap.h"
#include "pytrace.h"
#include "subinterp.h"
#include "trace.h"

static struct {
	/* the C function given to threading, in every interpreter (they
	 * share one GIL; it has no module and no state) */
	PyObject *thread_hook;
	int told_replaced;	/* the "own trace function" message was given */
} st;

/* This thread runs pytrace's trace function (as far as pytrace knows).
 * initial-exec: the library is loaded at start-up, and this keeps the
 * access a plain load, with no call into the dynamic loader. */
static __thread int tls_traced __attribute__((tls_model("initial-exec")));


/* What the frame's code is, NULL when ignored or before the program. */
static struct pt_code *code_of(PyFrameObject *frame)
{
	PyObject *code = pt_py_frame_code(frame);
	struct pt_code *c;

	if (!pt_trace_waiting && pt_codemap_find(code, &c))
		return c;
	PyObject *globals = pt_py.GetAttrString((PyObject *)frame, "f_globals");
	if (!globals) {
		pt_py.ErrClear();
		return NULL;
	}
	c = pt_trace_ready(globals) ? pt_trace_decide(globals, code) : NULL;
	pt_py.DecRef(globals);
	return c;
}

/*
 * pt_trace - the trace function.  Line events are what it is for; call
 * and return events matter only for call_lines and {indent}.  The code
 * object is read from the frame (offset or PyFrame_GetCode, see pyapi.c)
 * and looked up; globals are fetched only on a cache miss.
 */
static int pt_trace(PyObject *obj, PyFrameObject *frame, int what,
		    PyObject *arg)
{
	struct pt_code *c;

	(void)obj;
	(void)arg;
	if (pt_trace_stopped)
		return 0;
	if (what == PT_TRACE_LINE) {
		if ((c = code_of(frame)))
			pt_trace_emit(c, pt_py_line_event_lineno(frame),
				      pt_trace_depth - 1);
		return 0;
	}
	/* Following (follow.c) keeps the depth, and on 2.7 writes the call
	 * lines: this function is set too late for the call event there. */
	if (what == PT_TRACE_CALL) {
		if (!pt_follow_mode)
			pt_trace_depth += pt_trace_needs_depth;
		if (pt_trace_call_lines && pt_follow_mode != PT_FOLLOW_PROFILE &&
		    (c = code_of(frame)))
			pt_trace_call(c);
	} else if (what == PT_TRACE_RETURN && !pt_follow_mode) {
		pt_trace_depth -= pt_trace_needs_depth;
	}
	return 0;
}

/* threading._trace_hook: runs once in each new thread. */
static PyObject *thread_hook(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (pt_follow_mode == PT_FOLLOW_PROFILE) {
		pt_follow_thread();	/* 2.7 */
	} else {
		pt_py.SetTrace(pt_trace, NULL);
	}
	tls_traced = 1;
	pt_py.IncRef(pt_py.None);
	return pt_py.None;
}

static struct pt_methoddef thread_hook_def = {
	"pytrace_thread_hook", thread_hook, PT_METH_VARARGS,
	"Installs pytrace's C trace function in a new thread."
};

/* Set _trace_hook in threading's module dict, unless the program set its
 * own there (threading.settrace).  Once per interpreter. */
static void hook_threading(PyObject *globals)
{
	PyObject *cur = pt_py.DictGetItemString(globals, "_trace_hook");

	pt_interp_threading_hooked(1);
	if (cur && cur != pt_py.None)
		return;
	if (pt_py.DictSetItemString(globals, "_trace_hook", st.thread_hook) < 0)
		pt_py.ErrClear();
}

void pt_settrace_threading(PyObject *globals)
{
	/* Only once the module body has run `_trace_hook = None`: class
	 * bodies before that line (2.7) must not have their hook reset. */
	if (!st.thread_hook || pt_follow_mode == PT_FOLLOW_EVAL ||
	    !pt_py.DictGetItemString(globals, "_trace_hook") ||
	    pt_interp_threading_hooked(0))
		return;
	hook_threading(globals);
}

/* The module dict of `threading` if it is loaded, borrowed, else NULL. */
static PyObject *threading_dict(void)
{
	PyObject *mods = pt_py.ImportGetModuleDict();
	PyObject *mod = mods ? pt_py.DictGetItemString(mods, "threading") : NULL;
	PyObject *d = mod ? pt_py.GetAttrString(mod, "__dict__") : NULL;

	if (!d) {
		pt_py.ErrClear();
		return NULL;
	}
	pt_py.DecRef(d);	/* the module keeps it alive */
	return d;
}

/* Hook threading now if this interpreter has loaded it already. */
static void hook_loaded_threading(void)
{
	PyObject *td = threading_dict();

	if (td)
		hook_threading(td);
}

/* Give the trace function to every other thread of the interpreter, where
 * the interpreter exports a way to (3.9-3.11).  Returns how many. */
static int trace_other_threads(void)
{
	int n = 0;

	if (!pt_py.SetTraceTstate || !pt_py.InterpreterStateHead)
		return 0;
	void *self = pt_py.ThreadStateGet();
	for (void *interp = pt_py.InterpreterStateHead(); interp;
	     interp = pt_py.InterpreterStateNext(interp)) {
		for (void *ts = pt_py.InterpreterStateThreadHead(interp); ts;
		     ts = pt_py.ThreadStateNext(ts)) {
			if (ts == self)
				continue;
			if (pt_py.SetTraceTstate(ts, pt_trace, NULL) < 0)
				pt_py.ErrClear();
			else
				n++;
		}
	}
	return n;
}

/* The thread hook, made once; 0 or -1. */
static int make_thread_hook(void)
{
	if (!st.thread_hook)
		st.thread_hook = pt_py.CFunctionNewEx(&thread_hook_def, NULL, NULL);
	if (!st.thread_hook) {
		pt_py.ErrClear();
		return -1;
	}
	return 0;
}

int pt_settrace_start(void)
{
	if (make_thread_hook() < 0) {
		pt_log("cannot create the thread hook; not tracing");
		return -1;
	}
	/* 2.7-3.11: the trace function only in traced frames, where the
	 * interpreter allows it; on 3.6+ every thread is then covered. */
	if (pt_follow_start(pt_trace) == 0) {
		tls_traced = 1;
		if (pt_follow_mode == PT_FOLLOW_EVAL)
			return 0;
		hook_loaded_threading();
		return 0;
	}
	pt_settrace_everywhere();
	return 0;
}

int pt_settrace_interp(void)
{
	if (make_thread_hook() < 0)
		return -1;
	if (pt_follow_mode != PT_FOLLOW_NONE) {
		if (pt_follow_interp() < 0)
			return -1;
		tls_traced = 1;
		if (pt_follow_mode == PT_FOLLOW_PROFILE) {
			hook_loaded_threading();
		}
		return 0;
	}
	pt_settrace_everywhere();
	return 0;
}

void pt_settrace_everywhere(void)
{
	tls_traced = 0;		/* the audit events that follow are pytrace's */
	hook_loaded_threading();
	if (pt_py.SetTraceAllThreads) {
		pt_py.SetTraceAllThreads(pt_trace, NULL);	/* 3.12+ */
	} else {
		trace_other_threads();
		pt_py.SetTrace(pt_trace, NULL);
	}
	tls_traced = 1;
}

void pt_settrace_replaced(void)
{
	if (pt_follow_mode == PT_FOLLOW_EVAL) {
		if (pt_follow_settrace_event())
			return;	/* pytrace's own call */
		goto tell;
	}
	if (!tls_traced)
		return;		/* pytrace's own call, or an untraced thread */
	/* threading (or eventlet's green threading, in a greenlet of this
	 * thread) passing pytrace's own hook on */
	PyObject *g = pt_py.EvalGetGlobals();
	if (g && st.thread_hook &&
	    pt_py.DictGetItemString(g, "_trace_hook") == st.thread_hook)
		return;
	tls_traced = 0;
tell:
	if (st.told_replaced)
		return;
	st.told_replaced = 1;
	pt_notice("the program set its own trace function (sys.settrace: a "
	          "debugger, coverage?); pytrace no longer traces that thread");
}
