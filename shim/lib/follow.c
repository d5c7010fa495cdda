/* SPDX-License-Identifier: MIT */
/*
 * follow.c - line events only in traced frames, on 2.7-3.11: the
 * frame evaluation back end (pt_backend_eval) and the profile back end
 * (pt_backend_profile), both setting settrace.c's trace function.
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
 * When the settings ignore nothing (pt_state.traces_all) there is no code
 * to skip: the frame evaluation function only gives the trace function to
 * threads that lack it (started without threading, or by C code), and 2.7
 * does without the profile function where tracing does not start inside
 * start-up code.  On 3.11 a frame evaluation function also costs what it
 * does not do: while one is set the interpreter stops running Python
 * calls inline (a C call per Python call, about 5% of a full trace of
 * coroutines).  So where it could only serve threads yet to come (one
 * interpreter, no thread but the one that starts tracing and pytrace's
 * own, pthread_create interposed), it is not put in place until a thread
 * is about to be created (unarmed, pt_eval_thread_starts): before that
 * thread can run any Python code, and for good.
 *
 * The state is per thread (pt_thread.on).  A thread whose trace function is
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
 * stack_floor), pytrace stops following, for good, and hands every thread
 * to the trace function everywhere (settrace.c).
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

/* Frame evaluation functions: 3.6-3.8, and 3.9+ (with the thread state). */
typedef PyObject *(*pt_eval2)(void *frame, int exc);
typedef PyObject *(*pt_eval3)(void *tstate, void *frame, int exc);

/* How frames are followed: by eval() (3.6-3.11), by profile() (2.7), or
 * not (never started, stopped, or given up for deep recursion). */
enum { FOLLOW_NONE, FOLLOW_EVAL, FOLLOW_PROFILE };

static struct {
	const struct pt_layout *l;
	int mode;		/* FOLLOW_* */
	void *inner;		/* the evaluation function pytrace wraps */
	void *first;		/* the interpreter following started in */
	volatile int only_on;	/* never clear the trace function again */
	/* every frame is traced (pt_state.traces_all) and nothing needs a
	 * frame's code at its call (no timeline): a thread that has the
	 * trace function keeps it (eval) */
	int all;
	/* 3.11, fl.all: the evaluation function is not in place, and is put
	 * there before the program's next thread starts (atomic) */
	int unarmed;
} fl;

/* The per-thread state is state.h's pt_thread: on, foreign, setting,
 * tstate and gen, stack_floor. */

#define AT(base, off) (*(void **)((char *)(base) + (off)))

/* frame_code past the cache: the first frame of a code object decides
 * from its globals. */
static __attribute__((noinline)) struct pt_code *decide(void *frame,
							PyObject *code)
{
	PyObject *globals = AT(frame, fl.l->globals);
	if (!pt_trace_ready(globals))
		return NULL;
	return pt_trace_decide(globals, code);
}

/* What the code of `frame` is (NULL: ignored).  A cache hit is one
 * lookup, inline: every call starts here. */
static inline __attribute__((always_inline)) struct pt_code *
frame_code(void *frame)
{
	PyObject *code = AT(frame, fl.l->code);
	struct pt_code *c;

	if (__builtin_expect(!pt_state.waiting, 1) && pt_codemap_find(code, &c))
		return c;
	return decide(frame, code);
}

/* `frame`, of code `c`, starts in thread `tstate` (NULL: the calling
 * one): its depth in a scope (scoped.h), or 1 when no scope is set;
 * *caller its caller's place. */
static int frame_enters(void *frame, const struct pt_code *c, void *tstate,
			PyObject *self, struct pt_scoped_place *caller)
{
	/* a place for pt_scoped_return, whatever tracing does meanwhile */
	*caller = (struct pt_scoped_place){ 0, pt_thread.on, NULL,
					    pt_scoped.gen };
	if (!pt_scoped.on)
		return 1;
	if (!pt_scoped.n && !(c && (c->scope || c->role)))
		return 0;	/* the cheap answer, as pt_scoped_call's */
	return pt_scoped_call(frame, c, pt_frame_eval_caller(tstate, frame),
			      self, caller);
}

/* Are the lines of the running frame `frame` written? */
static int frame_traced(void *frame)
{
	const struct pt_code *c = frame_code(frame);

	return c && c->traced &&
	       (!pt_scoped.on || pt_scoped_shown(pt_scoped_depth(frame)));
}

/* Give this thread the trace function (on) or none, unless it has
 * somebody else's.  The caller knows `on` differs from pt_thread.on. */
static __attribute__((noinline)) void set_trace(void *tstate, int on)
{
	PyObject *et, *ev, *etb;
	void *cur;

	if (!on && fl.only_on)
		return;
	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	cur = AT(tstate, fl.l->tracefunc);
	if (cur && cur != (void *)pt_settrace_func) {
		pt_thread.foreign = 1;
		return;
	}
	pt_py.ErrFetch(&et, &ev, &etb);
	pt_thread.setting = 1;
	pt_py.SetTrace(on ? pt_settrace_func : NULL, NULL);
	pt_thread.setting = 0;
	pt_py.ErrRestore(et, ev, etb);
	pt_thread.on = on;
}

/* With several interpreters: make pt_thread.on and pt_thread.foreign describe
 * `tstate` (NULL: the running one), which is returned. */
static __attribute__((noinline)) void *resync(void *tstate)
{
	unsigned gen = __atomic_load_n(&pt_interp_gen, __ATOMIC_ACQUIRE);

	if (!tstate)
		tstate = pt_py.ThreadStateGet();
	if (tstate == pt_thread.tstate && gen == pt_thread.gen)
		return tstate;
	void *cur = AT(tstate, fl.l->tracefunc);
	pt_thread.tstate = tstate;
	pt_thread.gen = gen;
	pt_thread.on = cur == (void *)pt_settrace_func;
	pt_thread.foreign = cur && !pt_thread.on;
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
	fl.mode = FOLLOW_NONE;
	__atomic_store_n(&fl.unarmed, 0, __ATOMIC_RELEASE);
	unwrap_eval_frame(fl.first);
	pt_interp_each(unwrap_eval_frame);	/* every other one */
	if (!pt_thread.on)
		set_trace(tstate, 1);
	pt_settrace_everywhere();
	pt_notice("deep recursion: pytrace now sets its trace function for "
	          "every frame, ignored ones too (slower, same output)");
}

/* The evaluation function pytrace wraps, on `frame`. */
static inline __attribute__((always_inline)) PyObject *
inner(void *tstate, void *frame, int exc)
{
	return fl.l->major == 3 && fl.l->minor < 9 ?
		((pt_eval2)fl.inner)(frame, exc) :
		((pt_eval3)fl.inner)(tstate, frame, exc);
}

/* The frame has run, in a followed thread: set the trace function as
 * its caller wants (`back`: the caller; NULL: none). */
static PyObject *returned(void *tstate, void *back, PyObject *r)
{
	/* the frame may have run code of another interpreter */
	if (pt_interp_many)
		resync(tstate);
	if (pt_thread.foreign || pt_thread.setting || pt_state.stopped)
		return r;
	if (fl.mode != FOLLOW_EVAL) {
		/* following stopped meanwhile: a thread on its way out of
		 * frames it entered before gets the trace function back */
		if (!pt_thread.on)
			set_trace(tstate, 1);
		return r;
	}
	int on = back && frame_traced(back);
	if (on != pt_thread.on)
		set_trace(tstate, on);
	return r;
}

/* Run `frame` with the trace function set as its code wants, then set it
 * as its caller wants.  The caller is looked up afresh, rather than the
 * state restored: a greenlet switch inside the frame may have left the
 * state of another stack. */
static __attribute__((noinline)) PyObject *followed(void *tstate, void *frame,
						    int exc)
{
	PyObject *r;

	if (pt_interp_many)
		tstate = resync(tstate);
	/* pt_thread.setting: Python code (an audit hook) run by PyEval_SetTrace */
	if (pt_thread.foreign || pt_thread.setting || pt_state.stopped ||
	    fl.mode != FOLLOW_EVAL)
		goto plain;
	/* The frame address, not a local's: eval() keeps no addressable
	 * local (the helpers that have some are not inlined), so greenlet,
	 * which copies stacks, never copies a sanitizer's redzone of it. */
	if ((uintptr_t)__builtin_frame_address(0) < pt_thread.stack_floor) {
		stop_following(tstate);
		goto plain;
	}
	if (!pt_thread.stack_floor)
		pt_thread.stack_floor = stack_floor();
	const struct pt_code *c = frame_code(frame);
	struct pt_scoped_place caller;
	int d = frame_enters(frame, c, tstate,
			     c && c->role ? pt_frame_self(frame) : NULL, &caller);
	int on = c && c->traced && pt_scoped_shown(d);
	if (on != pt_thread.on)
		set_trace(tstate, on);
	/* timeline: a LEAVE for each ENTER, however the frame ends */
	int timeline = pt_state.timeline && c && c->traced;
	if (__builtin_expect(timeline, 0))
		pt_trace_enter(c);
	pt_thread_enter();
	r = inner(tstate, frame, exc);
	pt_thread_leave();
	/* once following stopped (deep recursion), the trace function set in
	 * this thread told the frame's return (settrace.c) */
	if (__builtin_expect(timeline, 0) &&
	    (fl.mode == FOLLOW_EVAL || !pt_thread.on))
		pt_trace_leave();
	void *back = AT(frame, fl.l->back);
	if (pt_scoped.n)
		pt_scoped_return(frame, back, &caller);
	return returned(tstate, back, r);
plain:
	return inner(tstate, frame, exc);
}

/* Run `frame` with the trace function as it is; when it is still set at
 * the end, the caller keeps it too, else returned() looks. */
static inline __attribute__((always_inline)) PyObject *
kept(void *tstate, void *frame, int exc)
{
	pt_thread_enter();
	PyObject *r = inner(tstate, frame, exc);
	pt_thread_leave();
	if (__builtin_expect(pt_thread.on && !pt_interp_many, 1))
		return r;
	return returned(tstate, AT(frame, fl.l->back), r);
}

/* The end of a frame that stays_on() ran, when its caller's place is
 * not simply put back: pt_scoped_return's other cases, then returned(). */
static __attribute__((noinline)) PyObject *
stayed_on(void *tstate, void *frame, int cdepth, const void *croot,
	  unsigned gen, PyObject *r)
{
	struct pt_scoped_place caller = { cdepth, 1, croot, gen };
	void *back = AT(frame, fl.l->back);

	pt_scoped_return(frame, back, &caller);
	return returned(tstate, back, r);
}

/*
 * stays_on - eval()'s usual case where not every frame is traced: the
 * thread has the trace function (its running frame is shown), and the
 * frame called is of traced code, no scope function's nor threading's,
 * in the scope (if any) one deeper than the caller it was called by:
 * it is shown too, as followed() would find.  The trace function stays
 * as it is, and the frame's place in the scope is kept as
 * pt_scoped_call and pt_scoped_return keep it, in the same few stores,
 * with the caller's place in locals (no addressable one, as eval()).
 * At its end the caller, shown before the call, is shown again, unless
 * something in between took the trace function away: then returned()
 * looks.  Any other frame: followed().
 */
static inline __attribute__((always_inline)) PyObject *
stays_on(void *tstate, void *frame, int exc)
{
	const struct pt_code *c = frame_code(frame);
	PyObject *r;

	if (!c || !c->traced || pt_state.timeline)
		return followed(tstate, frame, exc);
	if (!pt_scoped.on)
		return kept(tstate, frame, exc);
	void *back = pt_frame_eval_caller(tstate, frame);
	int cdepth = pt_thread.sdepth;
	unsigned gen = pt_scoped.gen;
	if (c->scope || c->role || !back || back != pt_thread.skey ||
	    pt_thread.sgen != gen || !cdepth)
		return followed(tstate, frame, exc);
	int depth = pt_scoped.max && cdepth > pt_scoped.max ? cdepth :
		    cdepth + 1;
	if (!pt_scoped_shown(depth))
		return followed(tstate, frame, exc);
	const void *croot = pt_thread.sroot;
	pt_thread.skey = frame;
	pt_thread.sdepth = depth;
	pt_thread_enter();
	r = inner(tstate, frame, exc);
	pt_thread_leave();
	if (__builtin_expect(pt_scoped.gen != gen || pt_interp_many ||
			     pt_scoped.bloom &
			     (1ull << pt_scoped_bloom_bit(frame)), 0))
		return stayed_on(tstate, frame, cdepth, croot, gen, r);
	pt_thread.skey = back;
	pt_thread.sdepth = cdepth;
	pt_thread.sroot = croot;
	pt_thread.sgen = gen;
	if (__builtin_expect(pt_thread.on, 1))
		return r;
	return returned(tstate, back, r);
}

/*
 * eval - the frame evaluation function: followed() runs the frame.  But
 * in a thread that has the trace function, the frames it goes on for
 * run with no change to it: when every frame is traced (fl.all), every
 * frame, frames of code ignored anyway (no module file) included, whose
 * lines it answers with nothing, with no look-up; else those stays_on()
 * finds.  When the trace function is still set at a frame's end, its
 * caller keeps it too.  The tests are followed()'s, in one line.
 */
static PyObject *eval(void *tstate, void *frame, int exc)
{
	uintptr_t floor = pt_thread.stack_floor;

	if (!(!pt_interp_many && pt_thread.on && !pt_thread.foreign &&
	      !pt_thread.setting && !pt_state.stopped && !pt_state.waiting &&
	      fl.mode == FOLLOW_EVAL && floor &&
	      (uintptr_t)__builtin_frame_address(0) >= floor))
		return followed(tstate, frame, exc);
	return fl.all ? kept(tstate, frame, exc) : stays_on(tstate, frame, exc);
}

static PyObject *eval2(void *frame, int exc)
{
	return eval(NULL, frame, exc);
}

/* 2.7's profile function: calls (generator resumes included) and
 * returns (unwinding included) of Python frames.  Once tracing stopped,
 * each thread takes it out at its next event. */
static int profile(PyObject *obj, PyFrameObject *frame, int what,
		   PyObject *arg)
{
	int on;

	(void)obj;
	(void)arg;
	if (pt_interp_many)
		resync(NULL);
	if (pt_thread.foreign)
		return 0;
	if (pt_state.stopped) {
		/* this thread's part of stopping (profile_stop) */
		pt_py.SetProfile(NULL, NULL);
		pt_settrace_clear();
		return 0;
	}
	if (what == PT_TRACE_CALL) {
		pt_thread_enter();
		const struct pt_code *c = frame_code(frame);
		struct pt_scoped_place caller;
		int d = frame_enters(frame, c, NULL,
				     c && c->role ? pt_frame_self(frame) : NULL,
				     &caller);
		if (pt_scoped.n)
			pt_scoped_push(frame, &caller);
		on = c && c->traced && pt_scoped_shown(d);
		if (on && pt_state.call_lines)
			pt_trace_call(c);
		if (pt_state.timeline && c && c->traced)
			pt_trace_enter(c);
	} else if (what == PT_TRACE_RETURN) {
		pt_thread_leave();
		if (pt_state.timeline) {
			const struct pt_code *c = frame_code(frame);
			if (c && c->traced)
				pt_trace_leave();
		}
		void *back = AT(frame, fl.l->back);
		struct pt_scoped_place caller;
		int popped = pt_scoped.n && pt_scoped_pop(frame, &caller);
		if (pt_scoped.n)
			pt_scoped_return(frame, back, popped ? &caller : NULL);
		/* a caller that had the trace function at the call has it
		 * again (if that was stale, its lines still find they are not
		 * written); else it is looked up */
		on = back && ((popped && caller.on &&
			       caller.gen == pt_scoped.gen) ||
			      frame_traced(back));
	} else {
		return 0;	/* calls of C functions */
	}
	if (on != pt_thread.on)
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
	if (cur == (void *)eval && fl.inner)
		return 0;	/* put back by a late pt_eval_thread_starts */
	if (!cur || (fl.inner && cur != fl.inner))
		return -1;
	fl.inner = cur;
	pt_py.SetEvalFrameFunc(interp, (void *)eval);
	return 0;
}

/*
 * unarmed_ok - may following start in the main interpreter without the
 * evaluation function in place (see fl.unarmed), the interpreter's own
 * being there (no other wrapper's, no JIT's)?  Where every frame is
 * traced and nothing counts calls ({indent}), a thread that has the
 * trace function needs nothing of it; so when no other thread runs
 * Python code now (the one thread of the program's is the calling one)
 * and every later one is told before it starts (the process's
 * pthread_create is threadstart.c's), it is needed from the first
 * pthread_create on.  3.11
 * only: its main interpreter is part of the runtime's static state and
 * is never freed, so that pt_eval_thread_starts may store into it from
 * any thread, at any time.
 */
static int unarmed_ok(void)
{
	return pt_py.major == 3 && pt_py.minor == 11 && fl.all &&
	       !pt_state.needs_depth && !pt_interp_many &&
	       pt_py.GetEvalFrameFunc && pt_py.SetEvalFrameFunc &&
	       pt_py.EvalFrameDefault &&
	       pt_py.GetEvalFrameFunc(fl.first) == pt_py.EvalFrameDefault &&
	       (!fl.inner || fl.inner == pt_py.EvalFrameDefault) &&
	       pt_py.InterpreterStateMain &&
	       fl.first == pt_py.InterpreterStateMain() &&
	       !pt_py.InterpreterStateNext(pt_py.InterpreterStateHead()) &&
	       pt_pthread_create_interposed() && pt_threads_only_own();
}

void pt_eval_thread_starts(void)
{
	if (!__atomic_load_n(&fl.unarmed, __ATOMIC_ACQUIRE))
		return;
	/* every caller stores, then clears: none returns before it is in
	 * place; one stored after eval_stop's unwrap leaves eval() in place,
	 * where it finds tracing stopped and runs frames plainly.  An
	 * evaluation function the program set meanwhile (a JIT's) is left
	 * alone, as eval_start would. */
	if (pt_py.GetEvalFrameFunc(fl.first) == fl.inner)
		pt_py.SetEvalFrameFunc(fl.first, (void *)eval);
	__atomic_store_n(&fl.unarmed, 0, __ATOMIC_RELEASE);
}

/* In a new thread (2.7, threading's hook): the profile function, and
 * the trace function from the first traced frame on. */
static void follow_thread(void)
{
	pt_py.SetProfile(profile, NULL);
	pt_py.SetTrace(NULL, NULL);
	pt_thread.on = 0;
}

/*
 * begin - set the trace function in this thread, for the frames already
 * running (following corrects it from the next call), and check that the
 * layout says where this build keeps it.  0, or -1 with nothing left set.
 */
static int begin(int major, enum pt_settrace_calls calls, void (*in_thread)(void))
{
	const struct pt_layout *l = pt_py.layout;

	if (l->major != major || !l->tracefunc || !l->code)
		return -1;	/* a version following does not know */
	if (pt_settrace_prepare(calls, in_thread) < 0)
		return -1;
	fl.l = l;
	pt_py.SetTrace(pt_settrace_func, NULL);
	pt_thread.on = 1;
	pt_thread.traced = 1;
	if (AT(pt_py.ThreadStateGet(), l->tracefunc) != (void *)pt_settrace_func) {
		pt_settrace_clear();	/* not this build's layout */
		return -1;
	}
	return 0;
}

static int eval_start(void)
{
	if (begin(3, PT_CALLS_LINES, NULL) < 0)
		return -1;
	fl.first = pt_interp_current();
	if (!fl.first)
		fl.first = pt_py.InterpreterStateHead();
	fl.all = pt_state.traces_all && !pt_state.timeline;
	if (unarmed_ok()) {
		fl.inner = pt_py.EvalFrameDefault;
		__atomic_store_n(&fl.unarmed, 1, __ATOMIC_RELEASE);
	} else if (wrap_eval_frame(fl.first) < 0) {
		pt_settrace_clear();
		return -1;
	}
	fl.mode = FOLLOW_EVAL;
	pt_scoped.light = 1;
	/* frames running now, in every thread, from their next line; each
	 * thread's next call puts it on the followed path */
	pt_settrace_others(pt_settrace_func);
	return 0;
}

/* A new interpreter, the calling thread's: its thread state has no trace
 * function yet, which the next frame corrects as needed. */
static int eval_interp(void)
{
	if (fl.mode != FOLLOW_EVAL)
		return pt_backend_settrace.interp();	/* deep recursion */
	pt_eval_thread_starts();	/* the first one's too, from now on */
	if (wrap_eval_frame(pt_interp_current()) < 0)
		return -1;
	pt_thread.traced = 1;
	return 0;
}

/* Every interpreter gets its own evaluation function back; the trace
 * function goes as settrace.c takes it out. */
static void eval_stop(void)
{
	if (fl.mode == FOLLOW_EVAL) {
		fl.mode = FOLLOW_NONE;
		__atomic_store_n(&fl.unarmed, 0, __ATOMIC_RELEASE);
		unwrap_eval_frame(fl.first);
		pt_interp_each(unwrap_eval_frame);
	}
	pt_backend_settrace.stop();
}

/*
 * eval_audit - "sys.addaudithook": stop clearing the trace function (each
 * change would be an event for that hook).  "sys.settrace": pytrace's own
 * (pt_thread.setting), or the program's, and this thread is left alone
 * from now on.
 */
static void eval_audit(const char *event)
{
	if (strcmp(event, "sys.addaudithook") == 0) {
		fl.only_on = 1;
		return;
	}
	if (strcmp(event, "sys.settrace") != 0)
		return;
	if (fl.mode != FOLLOW_EVAL) {
		pt_settrace_replaced();	/* deep recursion */
		return;
	}
	if (pt_thread.setting)
		return;
	pt_thread.foreign = 1;
	pt_settrace_tell_replaced();
}

/* Frame evaluation reaches every thread: threading's hook is needed only
 * once following gave way to the trace function everywhere. */
static void eval_module(const char *name, PyObject *globals)
{
	if (fl.mode != FOLLOW_EVAL)
		pt_settrace_module(name, globals);
}

const struct pt_backend pt_backend_eval = {
	.name = "frame evaluation",
	.start = eval_start,
	.interp = eval_interp,
	.stop = eval_stop,
	.leave = pt_settrace_clear,
	.audit = eval_audit,
	.module = eval_module,
};

/* Where PyThreadState keeps c_profilefunc: right before c_tracefunc
 * (Include/pystate.h of 2.7). */
#define PROFILEFUNC(l) ((l)->tracefunc - sizeof(void *))

/* As another thread (pt_py_as_thread): its profile and trace functions,
 * pytrace's (`on`) or none. */
static void follow_as_thread(void *on)
{
	pt_thread.setting = 1;
	pt_py.SetProfile(on ? profile : NULL, NULL);
	pt_py.SetTrace(on ? pt_settrace_func : NULL, NULL);
	pt_thread.setting = 0;
}

/* Another thread: followed from its next line (`arg` non-NULL), or no
 * longer; one with somebody else's functions is left alone. */
static void follow_other(void *tstate, void *arg)
{
	void *prof = AT(tstate, PROFILEFUNC(fl.l));
	void *trace = AT(tstate, fl.l->tracefunc);

	if ((prof && prof != (void *)profile) ||
	    (trace && trace != (void *)pt_settrace_func))
		return;
	if (arg || prof)
		pt_py_as_thread(tstate, follow_as_thread, arg);
}

/* With every frame traced (pt_state.traces_all) there is no ignored code
 * to skip: the profile function would only cost a call per call and
 * return, and the trace function alone serves (settrace.c, the next back
 * end), in the same threads.  Unless start-up code runs now, waiting for
 * __main__ (the pending call's start, inside site): the trace function
 * would ask every line of it whether the program began, which took
 * `python2.7 -c pass` from 21.9 to 34.4 million instructions. */
static int profile_start(void)
{
	if (pt_state.traces_all && (!pt_state.waiting || !pt_py.EvalGetFrame()))
		return -1;
	if (begin(2, PT_CALLS_NONE, follow_thread) < 0)
		return -1;
	pt_py.SetProfile(profile, NULL);
	if (AT(pt_py.ThreadStateGet(), PROFILEFUNC(fl.l)) != (void *)profile) {
		pt_py.SetProfile(NULL, NULL);	/* not this build's layout */
		pt_settrace_clear();
		return -1;
	}
	fl.mode = FOLLOW_PROFILE;
	pt_scoped.light = 1;
	pt_py_each_other_thread(follow_other, (void *)1);
	pt_settrace_hook_threading();
	return 0;
}

static int profile_interp(void)
{
	follow_thread();
	pt_thread.traced = 1;
	pt_settrace_hook_threading();
	return 0;
}

/* The calling thread (see backend.h, leave). */
static void profile_leave(void)
{
	pt_py.SetProfile(NULL, NULL);
	pt_settrace_clear();
}

/* Every thread now; any pytrace could not reach at its next call or
 * return (profile). */
static void profile_stop(void)
{
	fl.mode = FOLLOW_NONE;
	pt_py_each_other_thread(follow_other, NULL);
	pt_py.SetProfile(NULL, NULL);
	pt_backend_settrace.stop();
}

const struct pt_backend pt_backend_profile = {
	.name = "profile function",
	.start = profile_start,
	.interp = profile_interp,
	.stop = profile_stop,
	.leave = profile_leave,
	.audit = NULL,		/* 2.7 has no audit hooks */
	.module = pt_settrace_module,
};
