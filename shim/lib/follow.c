/* SPDX-License-Identifier: MIT */
/*
 * follow.c - line events only in traced frames, on 2.7-3.11.
 *
 * A trace function set with PyEval_SetTrace is called for every line of
 * every frame of its thread, and while one is set the interpreter runs
 * its slow, checking dispatch for every instruction (de-specialised on
 * 3.11).  Ignored code would cost that even though pytrace writes nothing
 * for it.  So pytrace follows the calls, and keeps its trace function set
 * only while a traced frame runs:
 *
 *  - 3.6-3.11: a frame evaluation function (PEP 523) wraps the
 *    interpreter's own.  Every Python frame, in every thread, starts
 *    through it: it sets or clears the trace function for the frame's
 *    code, runs the frame, then does the same for the caller.  An ignored
 *    frame costs one C call and one cache lookup, not one per line.
 *  - 2.7: a profile function (call and return events, no line events, no
 *    slow dispatch) does the same from its call and return events.
 *
 * The state is per thread (tls_on).  A thread whose trace function is
 * somebody else's (a debugger, coverage) is never touched again.  If a
 * Python-level audit hook appears (3.8+, where every PyEval_SetTrace is an
 * audited "sys.settrace" event), pytrace stops clearing the trace
 * function, so that hook is not flooded: tracing goes on, at the cost of
 * the plain trace function.
 *
 * Through eval(), each Python call takes more C stack than without it
 * (3.11 runs Python-to-Python calls without C recursion at all).  A
 * program recursing deeply would then overflow a stack it fits in
 * untraced: when a thread has used a good part of its stack (see
 * stack_floor), pytrace stops
 * following, for good, and sets the plain trace function everywhere.
 *
 * Where a frame's code object, globals and caller are, and where the
 * thread state keeps its trace function, are per-version data
 * (layout.c), checked against the running interpreter before use: a
 * mismatch leaves pytrace on the plain trace function.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codemap.h"
#include "layout.h"
#include "pytrace.h"
#include "subinterp.h"
#include "trace.h"

/* Frame evaluation functions: 3.6-3.8, and 3.9+ (with the thread state). */
typedef PyObject *(*pt_eval2)(void *frame, int exc);
typedef PyObject *(*pt_eval3)(void *tstate, void *frame, int exc);

static struct {
	const struct pt_layout *l;
	pt_tracefunc trace;	/* pytrace's trace function */
	void *inner;		/* the evaluation function pytrace wraps */
	void *first;		/* the interpreter following started in */
	volatile int only_on;	/* never clear the trace function again */
} fl;

int pt_follow_mode;

/* This thread's trace function is pytrace's and set. */
static __thread int tls_on __attribute__((tls_model("initial-exec")));
/* This thread's trace function is somebody else's: hands off. */
static __thread int tls_foreign __attribute__((tls_model("initial-exec")));
/* pytrace itself is setting the trace function (for the audit hook). */
static __thread int tls_setting __attribute__((tls_model("initial-exec")));
/* Once several interpreters are traced, a thread may run several thread
 * states (one per interpreter), and tls_on and tls_foreign describe the
 * one that ran last: this one, while pt_interp_gen was tls_gen. */
static __thread void *tls_tstate __attribute__((tls_model("initial-exec")));
static __thread unsigned tls_gen __attribute__((tls_model("initial-exec")));
/* Lowest stack address this thread may reach in eval() (stack_floor);
 * 0: not known yet. */
static __thread uintptr_t tls_stack_floor __attribute__((tls_model("initial-exec")));

#define AT(base, off) (*(void **)((char *)(base) + (off)))

/* Is the code of `frame` traced?  A cache hit is one lookup; the first
 * frame of a code object decides from its globals. */
static int frame_traced(void *frame)
{
	PyObject *code = AT(frame, fl.l->code);
	struct pt_code *c;

	if (!pt_trace_waiting && pt_codemap_find(code, &c))
		return c != NULL;
	PyObject *globals = AT(frame, fl.l->globals);
	if (!pt_trace_ready(globals))
		return 0;
	return pt_trace_decide(globals, code) != NULL;
}

/* Give this thread the trace function (on) or none, unless it has
 * somebody else's.  The caller knows `on` differs from tls_on. */
static __attribute__((noinline)) void set_trace(void *tstate, int on)
{
	PyObject *et, *ev, *etb;
	void *cur;

	if (!on && fl.only_on)
		return;
	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	cur = AT(tstate, fl.l->tracefunc);
	if (cur && cur != (void *)fl.trace) {
		tls_foreign = 1;
		return;
	}
	pt_py.ErrFetch(&et, &ev, &etb);
	tls_setting = 1;
	pt_py.SetTrace(on ? fl.trace : NULL, NULL);
	tls_setting = 0;
	pt_py.ErrRestore(et, ev, etb);
	tls_on = on;
}

/* With several interpreters: make tls_on and tls_foreign describe
 * `tstate` (NULL: the running one), which is returned. */
static __attribute__((noinline)) void *resync(void *tstate)
{
	unsigned gen = __atomic_load_n(&pt_interp_gen, __ATOMIC_ACQUIRE);

	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	if (tstate == tls_tstate && gen == tls_gen)
		return tstate;
	void *cur = AT(tstate, fl.l->tracefunc);
	tls_tstate = tstate;
	tls_gen = gen;
	tls_on = cur == (void *)fl.trace;
	tls_foreign = cur && !tls_on;
	return tstate;
}

/* The lowest address eval() may run at in this thread, or 1 when the
 * stack is unknown (then not watched).  Up to 1.5 MiB of an 8 MiB stack
 * (an eighth of a larger one, half of a small one): more than a program
 * within the default recursion limit (1000) needs, and little enough that
 * the extra C frame per call (about 80 bytes on 3.6-3.10) costs a
 * program that goes deeper only a few percent of its depth. */
static __attribute__((noinline)) uintptr_t stack_floor(void)
{
	pthread_attr_t attr;
	void *lo;
	size_t size, room;
	uintptr_t floor = 1;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return floor;
	if (pthread_attr_getstack(&attr, &lo, &size) == 0 && size) {
		room = size <= 3u << 20 ? size / 2 :
		       size / 8 > 3u << 19 ? size / 8 : 3u << 19;
		floor = (uintptr_t)lo + size - room;
	}
	pthread_attr_destroy(&attr);
	return floor;
}

/* Give `interp` back the evaluation function pytrace wrapped. */
static void unwrap_eval_frame(void *interp)
{
	if (fl.l->eval_frame)
		AT(interp, fl.l->eval_frame) = fl.inner;
	else
		pt_py.SetEvalFrameFunc(interp, fl.inner);
}

/* Deep recursion: frames of every interpreter run through the
 * interpreter's own evaluation function from now on, and the trace
 * function is set in every thread. */
static __attribute__((noinline)) void stop_following(void *tstate)
{
	pt_follow_mode = PT_FOLLOW_NONE;
	unwrap_eval_frame(fl.first);
	pt_interp_each(unwrap_eval_frame);	/* every other one */
	if (!tls_on)
		set_trace(tstate, 1);
	pt_settrace_everywhere();
	pt_notice("deep recursion: pytrace now sets its trace function for "
	          "every frame, ignored ones too (slower, same output)");
}

/* Run `frame` with the trace function set as its code wants, then set it
 * as its caller wants.  The caller is looked up afresh, rather than the
 * state restored: a greenlet switch inside the frame may have left the
 * state of another stack. */
static PyObject *eval(void *tstate, void *frame, int exc)
{
	PyObject *r;
	int on;

	if (pt_interp_many)
		tstate = resync(tstate);
	/* tls_setting: Python code (an audit hook) run by PyEval_SetTrace */
	if (tls_foreign || tls_setting || pt_trace_stopped ||
	    pt_follow_mode != PT_FOLLOW_EVAL)
		goto plain;
	/* The frame address, not a local's: eval() keeps no addressable
	 * local (the helpers that have some are not inlined), so greenlet,
	 * which copies stacks, never copies a sanitizer's redzone of it. */
	if ((uintptr_t)__builtin_frame_address(0) < tls_stack_floor) {
		stop_following(tstate);
		goto plain;
	}
	if (!tls_stack_floor)
		tls_stack_floor = stack_floor();
	on = frame_traced(frame);
	if (on != tls_on)
		set_trace(tstate, on);
	pt_trace_depth += pt_trace_needs_depth;
	r = fl.l->major == 3 && fl.l->minor < 9 ?
		((pt_eval2)fl.inner)(frame, exc) :
		((pt_eval3)fl.inner)(tstate, frame, exc);
	pt_trace_depth -= pt_trace_needs_depth;
	/* the frame may have run code of another interpreter */
	if (pt_interp_many)
		resync(tstate);
	if (tls_foreign || tls_setting || pt_trace_stopped)
		return r;
	if (pt_follow_mode != PT_FOLLOW_EVAL) {
		/* following stopped meanwhile: a thread on its way out of
		 * frames it entered before gets the trace function back */
		if (!tls_on)
			set_trace(tstate, 1);
		return r;
	}
	void *back = AT(frame, fl.l->back);
	on = back && frame_traced(back);
	if (on != tls_on)
		set_trace(tstate, on);
	return r;
plain:
	return fl.l->major == 3 && fl.l->minor < 9 ?
		((pt_eval2)fl.inner)(frame, exc) :
		((pt_eval3)fl.inner)(tstate, frame, exc);
}

static PyObject *eval2(void *frame, int exc)
{
	return eval(NULL, frame, exc);
}

/* 2.7's profile function: calls (generator resumes included) and
 * returns (unwinding included) of Python frames. */
static int profile(PyObject *obj, PyFrameObject *frame, int what,
		   PyObject *arg)
{
	int on;

	(void)obj;
	(void)arg;
	if (pt_interp_many)
		resync(NULL);
	if (tls_foreign || pt_trace_stopped)
		return 0;
	if (what == PT_TRACE_CALL) {
		pt_trace_depth += pt_trace_needs_depth;
		on = frame_traced(frame);
		if (on && pt_trace_call_lines) {
			struct pt_code *c;
			if (pt_codemap_find(pt_py_frame_code(frame), &c) && c)
				pt_trace_call(c);
		}
	} else if (what == PT_TRACE_RETURN) {
		pt_trace_depth -= pt_trace_needs_depth;
		void *back = AT(frame, fl.l->back);
		on = back && frame_traced(back);
	} else {
		return 0;	/* calls of C functions */
	}
	if (on != tls_on)
		set_trace(NULL, on);
	return 0;
}

/* The interpreter's eval_frame slot on 3.6-3.8, or NULL when it does not
 * hold the default function where the layout says. */
static void **eval_frame_slot(void *interp)
{
	void **slot = interp ? &AT(interp, fl.l->eval_frame) : NULL;

	return slot && *slot == pt_py.EvalFrameDefault ? slot : NULL;
}

/* Put eval2/eval in front of the evaluation function of `interp`, which
 * must be fl.inner once that is known (an interpreter with somebody
 * else's cannot be followed). */
static int wrap_eval_frame(void *interp)
{
	void *cur;

	if (fl.l->eval_frame) {
		void **slot;
		if (!pt_py.EvalFrameDefault || !(slot = eval_frame_slot(interp)) ||
		    (fl.inner && *slot != fl.inner))
			return -1;
		fl.inner = *slot;
		*slot = (void *)eval2;
		return 0;
	}
	if (!pt_py.GetEvalFrameFunc || !pt_py.SetEvalFrameFunc || !interp)
		return -1;
	cur = pt_py.GetEvalFrameFunc(interp);
	if (!cur || (fl.inner && cur != fl.inner))
		return -1;
	fl.inner = cur;
	pt_py.SetEvalFrameFunc(interp, (void *)eval);
	return 0;
}

int pt_follow_start(pt_tracefunc trace)
{
	const struct pt_layout *l = pt_py.layout;

	if (!l->tracefunc || !l->code)
		return -1;	/* a version following does not know */
	fl.l = l;
	fl.trace = trace;
	/* The thread starting the trace keeps the trace function, for the
	 * frames already running; following corrects it from the next call. */
	pt_py.SetTrace(trace, NULL);
	tls_on = 1;
	if (AT(pt_py.ThreadStateGet(), l->tracefunc) != (void *)trace)
		return -1;	/* not the layout of this build: plain tracing */
	if (l->major == 2) {
		pt_py.SetProfile(profile, NULL);
		pt_follow_mode = PT_FOLLOW_PROFILE;
		return 0;
	}
	fl.first = pt_interp_current();
	if (!fl.first)
		fl.first = pt_py.InterpreterStateHead();
	if (wrap_eval_frame(fl.first) < 0)
		return -1;
	pt_follow_mode = PT_FOLLOW_EVAL;
	return 0;
}

int pt_follow_interp(void)
{
	if (pt_follow_mode == PT_FOLLOW_PROFILE) {
		pt_follow_thread();
		return 0;
	}
	if (pt_follow_mode != PT_FOLLOW_EVAL)
		return -1;
	/* this thread's state now is the new interpreter's: no trace
	 * function yet, which the next frame corrects as needed */
	return wrap_eval_frame(pt_interp_current());
}

void pt_follow_thread(void)
{
	pt_py.SetProfile(profile, NULL);
	pt_py.SetTrace(NULL, NULL);
	tls_on = 0;
}

int pt_follow_settrace_event(void)
{
	if (tls_setting)
		return 1;
	tls_foreign = 1;
	return 0;
}

void pt_follow_audit_hook_added(void)
{
	fl.only_on = 1;
}
