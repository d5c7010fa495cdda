/* SPDX-License-Identifier: MIT */
/*
 * settrace.c - pytrace's C trace function, and the back end that sets it
 * for every frame of every thread: every version's fallback.  The
 * followed back ends (follow.c) set the same function in traced frames
 * only.
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

#include "backend.h"
#include "codemap.h"
#include "layout.h"
#include "frames.h"
#include "pytrace.h"
#include "scoped.h"
#include "settrace.h"
#include "state.h"
#include "subinterp.h"
#include "trace.h"

static struct {
	/* the C function given to threading, in every interpreter (they
	 * share one GIL; it has no module and no state) */
	PyObject *thread_hook;
	void (*in_thread)(void);	/* what it does; NULL: set the function */
	enum pt_settrace_calls calls;	/* pt_settrace_prepare */
	/* 3.6-3.9 count the threads that have a trace function and take
	 * the slow dispatch while any has one, but do not count down for a
	 * thread state deleted with one: a thread's function is taken out
	 * as its bottom frame returns (where a frame evaluation function
	 * sets it, which is not there for frames that began before) */
	int counted_threads;
	int told_replaced;	/* the "own trace function" message was given */
	/* call and return events have something to do (events_wanted);
	 * 0: they return at once */
	int events;
} st;

#define AT(base, off) (*(void **)((char *)(base) + (off)))

/* code_of past the cache: decided from the frame's globals. */
static __attribute__((noinline)) struct pt_code *decide(PyFrameObject *frame,
							PyObject *code)
{
	struct pt_code *c;
	PyObject *globals = pt_py.GetAttrString((PyObject *)frame, "f_globals");
	if (!globals) {
		pt_py.ErrClear();
		return NULL;
	}
	c = pt_trace_ready(globals) ? pt_trace_decide(globals, code) : NULL;
	pt_py.DecRef(globals);
	return c;
}

/* What the frame's code is, NULL when ignored or before the program.
 * Inline: every line event starts here. */
static inline __attribute__((always_inline)) struct pt_code *
code_of(PyFrameObject *frame)
{
	PyObject *code = pt_py_frame_code(frame);
	struct pt_code *c;

	if (__builtin_expect(!pt_state.waiting, 1) && pt_codemap_find(code, &c))
		return c;
	return decide(frame, code);
}

void pt_settrace_clear(void)
{
	PyObject *et, *ev, *etb;

	pt_py.ErrFetch(&et, &ev, &etb);
	pt_thread.traced = 0;	/* the audit event that follows is pytrace's */
	pt_thread.setting = 1;
	pt_py.SetTrace(NULL, NULL);
	pt_thread.setting = 0;
	pt_thread.on = 0;
	pt_py.ErrRestore(et, ev, etb);
}

/* A call, return or exception event, or any event once tracing
 * stopped: see pt_settrace_func. */
static __attribute__((noinline)) int other_event(PyFrameObject *frame,
						 int what)
{
	struct pt_code *c;

	if (pt_state.stopped) {
		pt_settrace_clear();
		return 0;
	}
	if (what == PT_TRACE_CALL) {
		int d = 1;
		if (st.calls == PT_CALLS_ALL)
			pt_thread_enter();
		c = st.calls != PT_CALLS_NONE ? code_of(frame) : NULL;
		/* frames are followed by the calls here only when every
		 * call comes here (follow.c's are told there) */
		if (pt_scoped.on && st.calls == PT_CALLS_ALL)
			d = pt_scoped_enter(pt_frame_key(frame), c,
					    pt_frame_back(frame),
					    c && c->role ?
					    pt_frame_self(pt_frame_key(frame)) :
					    NULL);
		if (pt_state.call_lines && c && c->traced && pt_scoped_shown(d))
			pt_trace_call(c);
		/* timeline: the frames of the calls told here only */
		if (pt_state.timeline && st.calls == PT_CALLS_ALL && c &&
		    c->traced)
			pt_trace_enter(c);
	} else if (what == PT_TRACE_RETURN && st.calls == PT_CALLS_ALL) {
		pt_thread_leave();
		if (pt_state.timeline && (c = code_of(frame)) && c->traced)
			pt_trace_leave();
		if (pt_scoped.n)
			pt_scoped_leave(pt_frame_key(frame));
	} else if (what == PT_TRACE_RETURN && st.counted_threads &&
		   !AT(frame, pt_py.layout->back)) {
		/* the bottom frame of a thread returns: see st.counted_threads */
		pt_settrace_clear();
	}
	return 0;
}

/* Write the line: pt_trace_line, as a function that returns what the
 * trace function does, for tail calls (no register saved for the
 * call). */
static __attribute__((noinline)) int emit(const struct pt_code *c, int lineno,
					  long depth)
{
	pt_trace_line(c, lineno, depth);
	return 0;
}

/* A line event, in every case (see pt_settrace_func). */
static __attribute__((noinline)) int line_event(PyFrameObject *frame)
{
	struct pt_code *c;

	if (!(c = code_of(frame)) || !c->traced)
		return 0;
	long depth = pt_thread.depth - 1;
	if (pt_scoped.on) {
		int d = pt_scoped_depth(pt_frame_key(frame));
		if (!pt_scoped_shown(d))
			return 0;
		depth = d - 1;
	}
	return emit(c, pt_py_line_event_lineno(frame), depth);
}

/* A line event of `frame`, whose layout is known, of code object `code`
 * not found inline (pt_codemap_recent), shown by the scope if any (see
 * pt_settrace_func). */
static __attribute__((noinline)) int line_looked_up(PyFrameObject *frame,
						    PyObject *code)
{
	struct pt_code *c;

	if (!pt_codemap_find_slow(code, &c))
		return line_event(frame);	/* new code: decided there */
	if (!c || !c->traced)
		return 0;
	return emit(c, pt_py_line_event_lineno(frame),
		    pt_scoped.on ? pt_thread.sdepth - 1 : pt_thread.depth - 1);
}

/* Where a frame keeps its code object and line number is known (read
 * without the checks of pt_py_frame_code and pt_py_line_event_lineno). */
static inline int layout_known(void)
{
	return (pt_py.code_in_frame || pt_py.code_in_iframe == 2) &&
	       pt_py.lineno_offset && !pt_py.lineno_checks;
}

/* A line event of `frame`, with scopes set (see
 * pt_settrace_func): in the frame whose place in them this thread found
 * last, that place is its own. */
static __attribute__((noinline)) int line_scoped(PyFrameObject *frame)
{
	struct pt_code *c;

	if (pt_state.waiting || !layout_known() || !pt_frame_keys.known ||
	    pt_frame_key(frame) != pt_thread.skey ||
	    pt_thread.sgen != pt_scoped.gen)
		return line_event(frame);
	int d = pt_thread.sdepth;
	if (!pt_scoped_shown(d))
		return 0;
	PyObject *code = pt_py_frame_code(frame);
	if (!pt_codemap_recent(code, &c))
		return line_looked_up(frame, code);
	if (!c || !c->traced)
		return 0;
	return emit(c, *(int *)((char *)frame + pt_py.lineno_offset), d - 1);
}

/*
 * pt_settrace_func - the trace function.  Line events are what it is for;
 * call and return events matter only for call_lines, {indent}, scopes and
 * the timeline, as st.calls and st.events say: with none of them they
 * return at once.  The code object is read from the frame (offset or
 * PyFrame_GetCode, see pyapi.c) and looked up; globals are fetched only on
 * a cache miss.  Once tracing stopped, each thread takes it out at its
 * next event.
 *
 * Most lines are of code found inline (pt_codemap_recent), in a
 * frame whose layout is known, outside scopes or in the frame whose place
 * in them this thread found last: those are answered here,
 * with nothing but tail calls (no register to save); line_looked_up
 * answers those of other code already decided, line_event every other.
 */
int pt_settrace_func(PyObject *obj, PyFrameObject *frame, int what,
		     PyObject *arg)
{
	(void)obj;
	(void)arg;
	if (__builtin_expect(what != PT_TRACE_LINE || pt_state.stopped, 0)) {
		if (!st.events && !pt_state.stopped)
			return 0;
		return other_event(frame, what);
	}
	if (pt_scoped.on)
		return line_scoped(frame);
	if (pt_state.waiting || !layout_known())
		return line_event(frame);
	PyObject *code = pt_py_frame_code(frame);
	struct pt_code *c;
	if (!pt_codemap_recent(code, &c))
		return line_looked_up(frame, code);
	if (!c || !c->traced)
		return 0;
	/* pt_py_line_event_lineno where the layout was checked (above) */
	return emit(c, *(int *)((char *)frame + pt_py.lineno_offset),
		    pt_thread.depth - 1);
}

/* The frame object that called `f`, or NULL. */
static PyFrameObject *caller_of(PyFrameObject *f)
{
	if (!pt_py.FrameGetBack)	/* 2.7-3.8: f_back */
		return pt_py.layout->back ? AT(f, pt_py.layout->back) : NULL;
	PyFrameObject *back = pt_py.FrameGetBack(f);
	if (back)
		pt_py.DecRef((PyObject *)back);	/* its frame keeps it */
	return back;
}

/*
 * thread_scope - threading's hook runs in a new thread (scope_threads):
 * the frames from Thread._bootstrap_inner, which ran the hook, to the
 * frame whose call the hook is, began before pytrace could see them; they
 * may begin in a scope.  Told now, the outermost first.
 */
static void thread_scope(void)
{
	PyFrameObject *chain[4];
	struct pt_code *c = NULL;
	int n = 0;

	for (PyFrameObject *f = pt_py.EvalGetFrame(); f && n < 4 &&
	     !(c && c->role == PT_ROLE_BOOT); f = caller_of(f)) {
		chain[n++] = f;
		c = code_of(f);
	}
	if (!c || c->role != PT_ROLE_BOOT)
		return;
	void *key = pt_frame_key(chain[n - 1]);
	pt_scoped_enter(key, c, pt_frame_caller(key), pt_frame_self(key));
	for (int i = n - 2; i >= 0; i--)
		pt_scoped_enter(pt_frame_key(chain[i]), code_of(chain[i]),
				pt_frame_back(chain[i]), NULL);
}

/* threading._trace_hook: runs once in each new thread. */
static PyObject *thread_hook(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (!pt_state.stopped) {
		if (st.in_thread)
			st.in_thread();
		else
			pt_py.SetTrace(pt_settrace_func, NULL);
		pt_thread.traced = 1;
		if (pt_scoped.on)
			thread_scope();
	}
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

void pt_settrace_module(const char *name, PyObject *globals)
{
	/* Only once the module body has run `_trace_hook = None`: class
	 * bodies before that line (2.7) must not have their hook reset. */
	if (strcmp(name, "threading") != 0 || !st.thread_hook ||
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

void pt_settrace_hook_threading(void)
{
	PyObject *td = threading_dict();

	if (td)
		hook_threading(td);
}

/* The trace function of another thread's `tstate`, NULL when the layout
 * does not say where it is (layout.c, checked in follow.c's begin()). */
static void *tracefunc_of(void *tstate)
{
	const struct pt_layout *l = pt_py.layout;

	return l->tracefunc ? AT(tstate, l->tracefunc) : NULL;
}

/* As the calling thread, through pt_py_as_thread: set `fn` (NULL: none). */
static void set_as_thread(void *fn)
{
	pt_thread.setting = 1;	/* the audit event is pytrace's own */
	pt_py.SetTrace((pt_tracefunc)fn, NULL);
	pt_thread.setting = 0;
}

/* One other thread: `arg` is the trace function to set, or NULL to take
 * pytrace's out.  A thread with somebody else's function is left alone. */
static void other_thread(void *tstate, void *arg)
{
	pt_tracefunc fn = (pt_tracefunc)arg;
	void *cur = tracefunc_of(tstate);

	if (cur && cur != (void *)pt_settrace_func)
		return;			/* a debugger's, coverage's */
	if (!fn && (!pt_py.layout->tracefunc || !cur))
		return;			/* not pytrace's, or unknown */
	if (pt_py.SetTraceTstate) {		/* 3.9-3.12 */
		if (pt_py.SetTraceTstate(tstate, fn, NULL) < 0)
			pt_py.ErrClear();
	} else if (pt_py_swap_reaches() && !pt_state.audit_hooks) {
		pt_py_as_thread(tstate, set_as_thread, (void *)fn);
	}
}

void pt_settrace_others(pt_tracefunc fn)
{
	PyObject *et, *ev, *etb;

	pt_py.ErrFetch(&et, &ev, &etb);
	pt_py_each_other_thread(other_thread, (void *)fn);
	pt_py.ErrRestore(et, ev, etb);
}

/* Do call and return events have anything to do, with st.calls and
 * st.counted_threads set: call_lines; {indent}'s depth, scopes and the
 * timeline where every call is told here; a thread's bottom frame
 * (st.counted_threads).  From the settings of the tracing that starts
 * (state.h, scoped.h), which stay while it runs. */
static int events_wanted(void)
{
	if (st.calls == PT_CALLS_NONE)
		return 0;
	return st.counted_threads || pt_state.call_lines ||
	       (st.calls == PT_CALLS_ALL &&
		(pt_state.needs_depth || pt_scoped.on || pt_state.timeline));
}

int pt_settrace_prepare(enum pt_settrace_calls calls, void (*in_thread)(void))
{
	st.calls = calls;
	st.counted_threads = calls == PT_CALLS_LINES && pt_py.major == 3 &&
			     pt_py.minor <= 9 && pt_py.layout->back;
	st.events = events_wanted();
	st.in_thread = in_thread;
	if (!st.thread_hook)
		st.thread_hook = pt_py.CFunctionNewEx(&thread_hook_def, NULL, NULL);
	if (!st.thread_hook) {
		pt_py.ErrClear();
		pt_log("cannot create the thread hook; not tracing");
		return -1;
	}
	return 0;
}

void pt_settrace_everywhere(void)
{
	st.calls = PT_CALLS_ALL;
	st.counted_threads = 0;
	st.events = events_wanted();
	st.in_thread = NULL;
	pt_thread.traced = 0;	/* the audit events that follow are pytrace's */
	pt_settrace_hook_threading();
	if (pt_py.SetTraceAllThreads) {
		pt_py.SetTraceAllThreads(pt_settrace_func, NULL);	/* 3.12+ */
	} else {
		pt_settrace_others(pt_settrace_func);
		pt_py.SetTrace(pt_settrace_func, NULL);
	}
	pt_thread.traced = 1;
}

static int start(void)
{
	if (pt_settrace_prepare(PT_CALLS_ALL, NULL) < 0)
		return -1;
	pt_settrace_everywhere();
	return 0;
}

/* threading._trace_hook back to None in the calling thread's interpreter,
 * where it is pytrace's: threads started from now on are not hooked. */
static void unhook_threading(void)
{
	PyObject *td = threading_dict();

	if (td && st.thread_hook &&
	    pt_py.DictGetItemString(td, "_trace_hook") == st.thread_hook &&
	    pt_py.DictSetItemString(td, "_trace_hook", pt_py.None) < 0)
		pt_py.ErrClear();
}

/* The trace function out of every thread pytrace can reach now (every
 * one, but where a Python audit hook forbids it on 2.7-3.8); the others
 * take it out at their next event (pt_settrace_func). */
static void stop(void)
{
	unhook_threading();
	pt_settrace_others(NULL);
	pt_settrace_clear();
}

void pt_settrace_tell_replaced(void)
{
	if (st.told_replaced)
		return;
	st.told_replaced = 1;
	pt_notice("the program set its own trace function (sys.settrace: a "
	          "debugger, coverage?); pytrace no longer traces that thread");
}

void pt_settrace_replaced(void)
{
	if (!pt_thread.traced)
		return;		/* pytrace's own call, or an untraced thread */
	/* threading (or eventlet's green threading, in a greenlet of this
	 * thread) passing pytrace's own hook on */
	PyObject *g = pt_py.EvalGetGlobals();
	if (g && st.thread_hook &&
	    pt_py.DictGetItemString(g, "_trace_hook") == st.thread_hook)
		return;
	pt_thread.traced = 0;
	pt_settrace_tell_replaced();
}

static void audit(const char *event)
{
	if (strcmp(event, "sys.settrace") == 0)
		pt_settrace_replaced();
}

const struct pt_backend pt_backend_settrace = {
	.name = "trace function",
	.start = start,
	.interp = start,
	.stop = stop,
	.leave = pt_settrace_clear,
	.audit = audit,
	.module = pt_settrace_module,
};
