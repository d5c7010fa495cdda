/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - the sys.monitoring back end (PEP 669, 3.12+).
 *
 * pytrace takes a free tool id and registers one C callback for LINE
 * events, enabled globally, so every thread of the interpreter (those
 * already running, those started later by threading or _thread, greenlets)
 * is covered without per-thread work.  The callback returns
 * sys.monitoring.DISABLE for a line of ignored code: the interpreter then
 * stops reporting that line, so ignored code runs at full speed after its
 * first pass.  Lines run before the main program starts are not disabled:
 * the same code may run again later, traced.
 *
 * A program's own sys.settrace (a debugger, coverage) uses other tool ids
 * and does not displace pytrace here.
 */
#include <string.h>

#include "backend.h"
#include "codemap.h"
#include "frames.h"
#include "layout.h"
#include "pytrace.h"
#include "scoped.h"
#include "state.h"
#include "trace.h"

/* Tool ids in the order tried: the ones PEP 669 leaves unnamed first. */
static const int pt_tool_ids[] = { 4, 3, 5, 2, 1, 0 };

/* The events pytrace uses, by name. */
enum { EV_LINE, EV_START, EV_RESUME, EV_RETURN, EV_YIELD, EV_UNWIND,
       EV_THROW, EV_COUNT };
static const char *const ev_names[EV_COUNT] = {
	"LINE", "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD",
	"PY_UNWIND", "PY_THROW",
};

/* A tool id pytrace holds in the interpreter tracing started in, and the
 * events it has callbacks for (stop takes them back); id -1: none. */
struct tool {
	int id;
	long events[EV_COUNT];
	int nevents;
};

static struct {
	PyObject *disable;	/* sys.monitoring.DISABLE */
	long bit[EV_COUNT];	/* sys.monitoring.events.* */
	/* without scopes: the one tool.  With: `main` watches the scope
	 * functions start; `scope`, with every event, is on while a frame
	 * is in a scope (see "Scopes" below). */
	struct tool main, scope;
	void *interp;		/* the interpreter they are in */
	int active;		/* `scope` has its events there */
	/* the frame main told of as it set scope's events on, which scope
	 * may be told of too, in the same event (its first event after) */
	void *entered;
	unsigned quiet;		/* its events since no frame is in a scope */
} mon = { .main.id = -1, .scope.id = -1 };

/* A callback's result: None or DISABLE, both immortal from 3.12 on (PEP
 * 683), so no reference is taken: one call into libpython less a line. */
static PyObject *ret(PyObject *o)
{
	return o;
}

/* What `code` is, NULL when ignored or before the program starts.
 * Inline: a line's hot path is its first test. */
static inline __attribute__((always_inline)) struct pt_code *
code_of(PyObject *code, int *waiting)
{
	struct pt_code *c;

	*waiting = 0;
	if (!pt_state.waiting && pt_codemap_find(code, &c))
		return c;
	PyObject *globals = pt_py.EvalGetGlobals();	/* borrowed */
	if (!pt_trace_ready(globals)) {
		*waiting = 1;
		return NULL;
	}
	return pt_trace_decide(globals, code);
}

/* What a LINE event's code (args: code, line_number) is when its line
 * is traced; else NULL, and *r what the callback returns. */
static inline __attribute__((always_inline)) struct pt_code *
line_code(PyObject *const *args, Py_ssize_t nargs, PyObject **r)
{
	struct pt_code *c;
	int waiting;

	*r = pt_py.None;
	if (nargs < 2)
		return NULL;
	if (pt_state.stopped) {
		*r = mon.disable;
		return NULL;
	}
	c = code_of(args[0], &waiting);
	if (!c || !c->traced) {
		*r = waiting ? pt_py.None : mon.disable;
		return NULL;
	}
	return c;
}

/* The LINE callback (on_line), but for its hot path. */
static __attribute__((noinline)) PyObject *line_slow(PyObject *const *args,
						     Py_ssize_t nargs)
{
	PyObject *r;
	struct pt_code *c = line_code(args, nargs, &r);

	if (!c)
		return ret(r);
	long depth = pt_thread.depth - 1;
	if (pt_scoped.on) {
		void *f = pt_scoped.n ? pt_frame_running(NULL) : NULL;
		int d = f ? pt_scoped_depth(f) : 0;
		if (!pt_scoped_shown(d))
			return ret(pt_py.None);
		depth = d - 1;
	}
	pt_trace_line(c, (int)pt_py_small_int(args[1]), depth);
	return ret(pt_py.None);
}

/* The LINE callback: (code, line_number).  With scopes, it is scope's
 * in another interpreter than tracing started in (see "Scopes" below),
 * and writes the lines of frames in a scope.  Its hot path (a traced
 * line of code found inline (pt_codemap_recent), no scope, written
 * by pt_trace_quick) is inline: the rest is line_slow's. */
static PyObject *on_line(PyObject *self, PyObject *const *args,
			 Py_ssize_t nargs)
{
	struct pt_code *c;
	long lineno;

	(void)self;
	if (__builtin_expect(nargs >= 2 && pt_codemap_recent(args[0], &c) &&
			     c && c->traced && !pt_state.stopped &&
			     !pt_state.waiting && !pt_scoped.on, 1) &&
	    pt_py_small_int_read(args[1], &lineno) &&
	    pt_trace_quick(c, (int)lineno))
		return ret(pt_py.None);
	return line_slow(args, nargs);
}

/* A frame of `code` starts, resumes or has an exception thrown in: a
 * call line for traced code, its ENTER (timeline); the depth grows.
 * Whether the code is ignored (not to be told again, without {indent});
 * a waiting start is not. */
static int starts_code(PyObject *code)
{
	struct pt_code *c = NULL;
	int waiting = 0;

	pt_thread_enter();
	if ((pt_state.call_lines || pt_state.timeline) && !pt_state.stopped &&
	    (c = code_of(code, &waiting))) {
		if (pt_state.call_lines)
			pt_trace_call(c);
		if (pt_state.timeline && c->traced)
			pt_trace_enter(c);
	}
	return !c && !waiting;
}

/* PY_START and PY_RESUME: (code, offset). */
static PyObject *on_start(PyObject *self, PyObject *const *args,
			  Py_ssize_t nargs)
{
	(void)self;
	/* without {indent}, ignored code need not report its calls again */
	if (nargs >= 1 && starts_code(args[0]) && !pt_state.needs_depth)
		return ret(mon.disable);
	if (nargs < 1)
		pt_thread_enter();
	return ret(pt_py.None);
}

/* PY_THROW (timeline): (code, offset, exception), a generator resumed by
 * throw(), which PY_RESUME does not tell; not an event DISABLE may stop.
 * Its ENTER only: {indent} and call lines stay as without the timeline. */
static PyObject *on_throw(PyObject *self, PyObject *const *args,
			  Py_ssize_t nargs)
{
	struct pt_code *c;
	int waiting;

	(void)self;
	if (nargs >= 1 && !pt_state.stopped && (c = code_of(args[0], &waiting)) &&
	    c->traced)
		pt_trace_enter(c);
	return ret(pt_py.None);
}

/* A frame of `code` returns, yields or unwinds: its LEAVE (timeline);
 * whether its code is ignored (not to be told again, without {indent}). */
static int leaves_code(PyObject *code)
{
	struct pt_code *c;
	int waiting;

	if (!pt_state.timeline || pt_state.stopped)
		return 0;
	if ((c = code_of(code, &waiting)) && c->traced)
		pt_trace_leave();
	return !c && !waiting;
}

/* PY_UNWIND (timeline, which cannot be disabled): (code, offset,
 * exception). */
static PyObject *on_unwind(PyObject *self, PyObject *const *args,
			   Py_ssize_t nargs)
{
	(void)self;
	pt_thread_leave();
	if (nargs >= 1)
		leaves_code(args[0]);
	return ret(pt_py.None);
}

/* PY_RETURN, PY_YIELD, PY_UNWIND: the depth shrinks, a LEAVE (timeline:
 * then not PY_UNWIND's); with scopes (it is scope's), the frame leaves
 * its scope. */
static PyObject *on_leave(PyObject *self, PyObject *const *args,
			  Py_ssize_t nargs)
{
	(void)self;
	if (!pt_scoped.on) {
		pt_thread_leave();
		if (nargs >= 1 && leaves_code(args[0]) && !pt_state.needs_depth)
			return ret(mon.disable);
		return ret(pt_py.None);
	}
	mon.entered = NULL;	/* its frame may be freed: see on_scope_fn */
	if (pt_scoped.n) {
		void *f = pt_frame_running(NULL);
		if (f)
			pt_scoped_leave(f);
	}
	return ret(pt_py.None);
}

/* Call monitoring.NAME(fmt, ...) and drop the result; 0 or -1. */
#define CALL(mod, name, ...)                                               \
	({                                                                 \
		PyObject *fn_ = pt_py.GetAttrString(mod, name);            \
		PyObject *r_ = fn_ ? pt_py.CallFunction(fn_, __VA_ARGS__)  \
				   : NULL;                                 \
		if (fn_)                                                   \
			pt_py.DecRef(fn_);                                 \
		if (r_)                                                    \
			pt_py.DecRef(r_);                                  \
		r_ ? 0 : -1;                                               \
	})

/*
 * Scopes.  The interpreter tells a C callback of every call only at the
 * cost of a call into pytrace per call, which ignored code must not pay
 * (monitoring's DISABLE stops an event at one place in the code for good,
 * and scopes need the calls of every frame beneath a scope function).
 * So pytrace holds two tools, in the interpreter tracing starts in:
 *  - main: PY_START, PY_RESUME, PY_RETURN and PY_YIELD everywhere,
 *    disabled at once in every function but the scope functions (and
 *    threading's, for scope_threads), and PY_THROW and PY_UNWIND, which
 *    cannot be: idle, it costs nothing but a test per frame unwound;
 *  - scope: LINE (and the calls, for call_lines), set on by main when a
 *    scope function starts, and off again once no frame has been in a
 *    scope for SCOPE_QUIET of its events (so that a scope function run in
 *    a loop does not turn the events on and off at each call: each change
 *    re-instruments the code that runs next).  Its LINE events are
 *    disabled in ignored code.  A line finds its frame's place from the
 *    scope functions' frames (scoped.h: pt_scoped_here, pt_scoped_walk).
 * In another interpreter scope alone has every event for good, and the
 * table holds every frame in a scope.  Frames are known by their keys
 * (frames.h): no frame object is made.
 */
enum { SCOPE_QUIET = 10000 };

/* `scope` on or off, in the interpreter the tools are in. */
static void scope_events(int on)
{
	long set = 0;

	for (int i = 0; on && i < mon.scope.nevents; i++)
		set |= mon.scope.events[i];
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */

	if (m && CALL(m, "set_events", "il", mon.scope.id, set) == 0)
		mon.active = on;
	else
		pt_py.ErrClear();
	mon.quiet = 0;
}

/* The key of the frame running (frames.h) and what its code (args[0])
 * is, `c` NULL when ignored and nothing to a scope, or before the
 * program; NULL when there is nothing to do (tracing stopped). */
static void *running(PyObject *const *args, Py_ssize_t nargs,
		     struct pt_code **c)
{
	int waiting;

	*c = NULL;
	if (nargs < 1 || pt_state.stopped)
		return NULL;
	*c = code_of(args[0], &waiting);
	return pt_frame_running(NULL);
}

/* Frame `f` (a key), of code `c`, starts or resumes: in a scope or not,
 * and its call line. */
static void starts(void *f, const struct pt_code *c)
{
	int d = pt_scoped_enter(f, c, pt_frame_caller(f),
				c && c->role ? pt_frame_self(f) : NULL);

	if (pt_state.call_lines && c && c->traced && pt_scoped_shown(d))
		pt_trace_call(c);
}

/* main's PY_START, PY_RESUME: (code, offset). */
static PyObject *on_scope_fn(PyObject *self, PyObject *const *args,
			     Py_ssize_t nargs)
{
	struct pt_code *c;
	void *f = running(args, nargs, &c);

	(void)self;
	if (!c || !c->scope)
		return ret(pt_state.waiting || pt_state.stopped ? pt_py.None :
			   mon.disable);
	/* with scope's events on, scope's callback is told of it */
	if (!f || mon.active || pt_py_thread_interp() != mon.interp)
		return ret(pt_py.None);
	scope_events(1);
	starts(f, c);
	mon.entered = f;
	return ret(pt_py.None);
}

/* scope's PY_START, PY_RESUME, PY_THROW: (code, offset[, exception]). */
static PyObject *on_scoped_start(PyObject *self, PyObject *const *args,
				 Py_ssize_t nargs)
{
	struct pt_code *c;
	void *f = running(args, nargs, &c);

	(void)self;
	if (!pt_scoped.n && mon.active && ++mon.quiet >= SCOPE_QUIET &&
	    pt_py_thread_interp() == mon.interp)
		scope_events(0);
	if (f && f != mon.entered)
		starts(f, c);
	mon.entered = NULL;	/* see on_scope_fn */
	return ret(pt_py.None);
}

/*
 * Where tracing starts, scope's callbacks are told no call at all: main
 * tells the frames of scope functions (and of threading's, scope_threads)
 * starting, resuming and ending, all its events disabled in other code,
 * and a line finds its frame's place by walking up to the nearest of them
 * (pt_scoped_walk).  Every call in a scope then costs nothing, and a line
 * a few pointer reads.
 */

/* main's PY_START, PY_RESUME, PY_THROW: a scope function (or threading's)
 * starts or resumes, and the scope may begin; `can_disable`: the event is
 * one DISABLE stops (not PY_THROW). */
static PyObject *scope_fn_starts(PyObject *const *args, Py_ssize_t nargs,
				 int can_disable)
{
	struct pt_code *c;
	const void *croot = NULL;
	void *f = running(args, nargs, &c);

	if (!c || !(c->scope || c->role))
		return ret(!can_disable || pt_state.waiting || pt_state.stopped ?
			   pt_py.None : mon.disable);
	if (!f)
		return ret(pt_py.None);
	void *back = pt_scoped.n ? pt_frame_caller(f) : NULL;
	int cdepth = back ? pt_scoped_walk(back, &croot) : 0;
	int d = pt_scoped_enter_at(f, c, cdepth, croot,
				   c->role ? pt_frame_self(f) : NULL,
				   pt_frame_stack(NULL));
	if (d && !mon.active)
		scope_events(1);
	if (pt_state.call_lines && c->traced && pt_scoped_shown(d))
		pt_trace_call(c);
	return ret(pt_py.None);
}

static PyObject *on_walk_fn(PyObject *self, PyObject *const *args,
			    Py_ssize_t nargs)
{
	(void)self;
	return scope_fn_starts(args, nargs, 1);
}

static PyObject *on_walk_throw(PyObject *self, PyObject *const *args,
			       Py_ssize_t nargs)
{
	(void)self;
	return scope_fn_starts(args, nargs, 0);
}

/* main's PY_RETURN, PY_YIELD: (code, offset, value); a frame of a scope
 * function (or threading's) ends or suspends. */
static PyObject *on_walk_end(PyObject *self, PyObject *const *args,
			     Py_ssize_t nargs)
{
	struct pt_code *c;
	void *f = running(args, nargs, &c);

	(void)self;
	if (!c || !(c->scope || c->role))
		return ret(pt_state.waiting || pt_state.stopped ? pt_py.None :
			   mon.disable);
	if (f && pt_scoped.n)
		pt_scoped_leave(f);
	return ret(pt_py.None);
}

/* main's PY_UNWIND, which cannot be disabled: any frame ends with an
 * exception, a scope's among them. */
static PyObject *on_walk_unwind(PyObject *self, PyObject *const *args,
				Py_ssize_t nargs)
{
	(void)self;
	(void)args;
	(void)nargs;
	if (pt_scoped.n && !pt_state.stopped) {
		void *f = pt_frame_running(NULL);
		if (f)
			pt_scoped_leave(f);
	}
	return ret(pt_py.None);
}

/* scope's LINE where tracing starts: (code, line_number). */
static PyObject *on_walk_line(PyObject *self, PyObject *const *args,
			      Py_ssize_t nargs)
{
	PyObject *r;
	const void *root;
	struct pt_code *c = line_code(args, nargs, &r);

	(void)self;
	if (!c)
		return ret(r);
	if (!pt_scoped.n) {
		if (mon.active && ++mon.quiet >= SCOPE_QUIET)
			scope_events(0);
		return ret(pt_py.None);
	}
	void *ts = pt_py.ThreadStateGet();
	int d;
	/* the depth matters only to scope_depth and {indent} */
	if (!pt_scoped.max && !pt_state.needs_depth &&
	    pt_scoped_here(pt_frame_stack(ts), &root))
		d = 1;
	else {
		void *f = pt_frame_running(ts);
		d = f ? pt_scoped_walk(f, &root) : 0;
	}
	if (pt_scoped_shown(d))
		pt_trace_line(c, (int)pt_py_small_int(args[1]), d - 1);
	return ret(pt_py.None);
}

/* scope's PY_START, PY_RESUME, PY_THROW where tracing starts, only for
 * call_lines: the call line of a frame in a scope (main tells those of
 * scope functions). */
static PyObject *on_walk_call(PyObject *self, PyObject *const *args,
			      Py_ssize_t nargs)
{
	struct pt_code *c;
	const void *root;
	void *f = running(args, nargs, &c);

	(void)self;
	if (f && c && c->traced && !c->scope && !c->role && pt_scoped.n &&
	    pt_scoped_shown(pt_scoped_walk(f, &root)))
		pt_trace_call(c);
	return ret(pt_py.None);
}

/* The C functions given to sys.monitoring, one per callback above. */
enum { CB_LINE, CB_START, CB_LEAVE, CB_SCOPE_FN, CB_SCOPED_START,
       CB_THROW, CB_UNWIND, CB_WALK_FN, CB_WALK_THROW, CB_WALK_END,
       CB_WALK_UNWIND, CB_WALK_LINE, CB_WALK_CALL, CB_COUNT };

#define DEF(fn, doc) { "pytrace_" #fn, (pt_cfunction)(void (*)(void))fn, \
		       PT_METH_FASTCALL, "pytrace's sys.monitoring callback: " doc }

static struct pt_methoddef defs[CB_COUNT] = {
	[CB_LINE] = DEF(on_line, "a line"),
	[CB_START] = DEF(on_start, "a frame starts"),
	[CB_LEAVE] = DEF(on_leave, "a frame ends"),
	[CB_SCOPE_FN] = DEF(on_scope_fn, "a scope may begin"),
	[CB_SCOPED_START] = DEF(on_scoped_start, "a frame starts (scopes)"),
	[CB_THROW] = DEF(on_throw, "a frame resumes with an exception"),
	[CB_UNWIND] = DEF(on_unwind, "a frame ends with an exception"),
	[CB_WALK_FN] = DEF(on_walk_fn, "a scope function starts"),
	[CB_WALK_THROW] = DEF(on_walk_throw, "a scope function resumes"),
	[CB_WALK_END] = DEF(on_walk_end, "a scope function ends"),
	[CB_WALK_UNWIND] = DEF(on_walk_unwind, "a frame ends with an exception"),
	[CB_WALK_LINE] = DEF(on_walk_line, "a line (scopes)"),
	[CB_WALK_CALL] = DEF(on_walk_call, "a frame starts (scopes)"),
};


/* A free tool id, claimed for pytrace, or -1. */
static int claim_tool(PyObject *m)
{
	for (size_t i = 0; i < sizeof(pt_tool_ids) / sizeof(pt_tool_ids[0]); i++) {
		int id = pt_tool_ids[i];
		if (CALL(m, "use_tool_id", "is", id, "pytrace") == 0)
			return id;
		pt_py.ErrClear();	/* ValueError: in use */
	}
	return -1;
}

/* The events' bits (mon.bit); 0, or -1 before 3.12. */
static int event_bits(PyObject *m)
{
	PyObject *events = pt_py.GetAttrString(m, "events");

	mon.disable = pt_py.GetAttrString(m, "DISABLE");
	if (!events || !mon.disable) {
		pt_py.ErrClear();
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < EV_COUNT; i++) {
		PyObject *o = pt_py.GetAttrString(events, ev_names[i]);
		mon.bit[i] = o ? pt_py.LongAsLong(o) : -1;
		if (o)
			pt_py.DecRef(o);
		else
			pt_py.ErrClear();
		rc |= mon.bit[i] < 0 ? -1 : 0;
	}
	pt_py.DecRef(events);
	return rc;
}

/* register_callback(id, event, a new C function from def); 0 or -1. */
static int callback(PyObject *m, struct tool *t, int ev,
		    struct pt_methoddef *def)
{
	PyObject *cb = pt_py.CFunctionNewEx(def, NULL, NULL);

	t->events[t->nevents++] = mon.bit[ev];
	return cb ? CALL(m, "register_callback", "ilO", t->id, mon.bit[ev], cb) : -1;
}

/* Events `t` has callbacks for, as one set. */
static long all_events(const struct tool *t)
{
	long set = 0;

	for (int i = 0; i < t->nevents; i++)
		set |= t->events[i];
	return set;
}

/* Give tool `t` back: no events, no callbacks, the id free. */
static void release(PyObject *m, struct tool *t)
{
	if (t->id < 0)
		return;
	CALL(m, "set_events", "ii", t->id, 0);
	for (int i = 0; i < t->nevents; i++)
		CALL(m, "register_callback", "ilO", t->id, t->events[i],
		     pt_py.None);
	CALL(m, "free_tool_id", "i", t->id);
	pt_py.ErrClear();
	t->id = -1;
	t->nevents = 0;
}

/* The callbacks of the one tool without scopes; 0 or -1. */
static int plain_tool(PyObject *m, struct tool *t)
{
	int rc = callback(m, t, EV_LINE, &defs[CB_LINE]);

	/* calls only when call_lines, {indent} or timeline need them */
	if (pt_state.call_lines || pt_state.needs_depth || pt_state.timeline) {
		rc |= callback(m, t, EV_START, &defs[CB_START]);
		rc |= callback(m, t, EV_RESUME, &defs[CB_START]);
	}
	if (pt_state.timeline)
		rc |= callback(m, t, EV_THROW, &defs[CB_THROW]);
	if (pt_state.needs_depth || pt_state.timeline) {
		rc |= callback(m, t, EV_RETURN, &defs[CB_LEAVE]);
		rc |= callback(m, t, EV_YIELD, &defs[CB_LEAVE]);
		rc |= callback(m, t, EV_UNWIND, &defs[pt_state.timeline ?
							CB_UNWIND : CB_LEAVE]);
	}
	return rc == 0 ? CALL(m, "set_events", "il", t->id, all_events(t)) : -1;
}

/* The callbacks of main and scope where tracing starts (see "Scopes"):
 * scope's events off until a scope function starts. */
static int walk_tools(PyObject *m, struct tool *main, struct tool *scope)
{
	int rc = 0;

	pt_scoped.walk = 1;
	rc |= callback(m, main, EV_START, &defs[CB_WALK_FN]);
	rc |= callback(m, main, EV_RESUME, &defs[CB_WALK_FN]);
	rc |= callback(m, main, EV_THROW, &defs[CB_WALK_THROW]);
	rc |= callback(m, main, EV_RETURN, &defs[CB_WALK_END]);
	rc |= callback(m, main, EV_YIELD, &defs[CB_WALK_END]);
	rc |= callback(m, main, EV_UNWIND, &defs[CB_WALK_UNWIND]);
	if (rc == 0)
		rc = CALL(m, "set_events", "il", main->id, all_events(main));
	rc |= callback(m, scope, EV_LINE, &defs[CB_WALK_LINE]);
	if (pt_state.call_lines) {
		rc |= callback(m, scope, EV_START, &defs[CB_WALK_CALL]);
		rc |= callback(m, scope, EV_RESUME, &defs[CB_WALK_CALL]);
		rc |= callback(m, scope, EV_THROW, &defs[CB_WALK_CALL]);
	}
	return rc;
}

/* The callbacks of scope following every frame, the table holding each
 * one in a scope: in another interpreter, on for good; where tracing
 * starts but frames cannot be walked (no layout known: 3.14+), `main`
 * telling the scope functions' starts and scope's events off until one
 * starts. */
static int scope_tools(PyObject *m, struct tool *main, struct tool *scope)
{
	int rc = 0;

	if (main) {
		rc |= callback(m, main, EV_START, &defs[CB_SCOPE_FN]);
		rc |= callback(m, main, EV_RESUME, &defs[CB_SCOPE_FN]);
		if (rc == 0)
			rc = CALL(m, "set_events", "il", main->id, all_events(main));
	}
	rc |= callback(m, scope, EV_LINE, &defs[CB_LINE]);
	rc |= callback(m, scope, EV_START, &defs[CB_SCOPED_START]);
	rc |= callback(m, scope, EV_RESUME, &defs[CB_SCOPED_START]);
	rc |= callback(m, scope, EV_THROW, &defs[CB_SCOPED_START]);
	rc |= callback(m, scope, EV_RETURN, &defs[CB_LEAVE]);
	rc |= callback(m, scope, EV_YIELD, &defs[CB_LEAVE]);
	rc |= callback(m, scope, EV_UNWIND, &defs[CB_LEAVE]);
	if (rc == 0 && !main)
		rc = CALL(m, "set_events", "il", scope->id, all_events(scope));
	return rc;
}

/* Start in the calling thread's interpreter; `first`: the interpreter
 * tracing starts in, whose tools stop() takes back.  With scopes,
 * another interpreter has scope's events on for good (the events of its
 * tools are its own). */
static int start_in(int first)
{
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */
	struct tool main = { .id = -1 }, scope = { .id = -1 };
	int rc = -1;

	if (!m || event_bits(m) < 0)
		return -1;	/* before 3.12 */
	/* the tools of "Scopes": main only where tracing starts */
	if (!pt_scoped.on || first)
		main.id = claim_tool(m);
	if (pt_scoped.on && (main.id >= 0 || !first))
		scope.id = claim_tool(m);
	if ((!pt_scoped.on || first) ? main.id < 0 || (pt_scoped.on && scope.id < 0)
				      : scope.id < 0) {
		release(m, &main);
		pt_notice("every sys.monitoring tool id is in use; tracing with "
		          "PyEval_SetTrace instead");
		return -1;
	}
	if (!pt_scoped.on)
		rc = plain_tool(m, &main);
	else
		rc = !first ? scope_tools(m, NULL, &scope) :
		     pt_py.layout->iprevious ? walk_tools(m, &main, &scope) :
		     scope_tools(m, &main, &scope);
	if (rc < 0) {
		pt_py.ErrClear();
		pt_notice("cannot use sys.monitoring; tracing with PyEval_SetTrace "
		          "instead");
		release(m, &main);
		release(m, &scope);
		return -1;
	}
	if (first) {
		mon.main = main;
		mon.scope = scope;
		mon.interp = pt_py_thread_interp();
		mon.active = 0;
	}
	return 0;
}

static int start(void)
{
	return start_in(1);
}

static int interp(void)
{
	return start_in(0);
}

/*
 * stop - in the interpreter tracing started in: no events, no callbacks,
 * and the tool ids free again, so that the interpreter runs as if pytrace
 * had never monitored it.  Every other interpreter's lines are disabled
 * one by one as they next run (on_line, once pt_state.stopped is set).
 */
static void stop(void)
{
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */

	if (!m)
		return;
	release(m, &mon.main);
	release(m, &mon.scope);
	mon.active = 0;
}

const struct pt_backend pt_backend_monitor = {
	.name = "sys.monitoring",
	.start = start,
	.interp = interp,
	.stop = stop,
	.leave = NULL,		/* events are per interpreter */
	.audit = NULL,		/* other tools take other ids */
	.module = NULL,
};
