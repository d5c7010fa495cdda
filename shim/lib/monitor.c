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
#include "pytrace.h"
#include "state.h"
#include "trace.h"

/* Tool ids in the order tried: the ones PEP 669 leaves unnamed first. */
static const int pt_tool_ids[] = { 4, 3, 5, 2, 1, 0 };

static struct {
	PyObject *disable;	/* sys.monitoring.DISABLE */
	/* in the interpreter tracing started in: the tool id claimed, and
	 * the events with a callback (stop takes them back); id -1: none */
	int id;
	long events[6];
	int nevents;
} mon = { .id = -1 };

/* A callback's result: None or DISABLE, both immortal from 3.12 on (PEP
 * 683), so no reference is taken: one call into libpython less a line. */
static PyObject *ret(PyObject *o)
{
	return o;
}

/* What `code` is, NULL when ignored or before the program starts. */
static struct pt_code *code_of(PyObject *code, int *waiting)
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

/* The LINE callback: (code, line_number). */
static PyObject *on_line(PyObject *self, PyObject *const *args,
			 Py_ssize_t nargs)
{
	struct pt_code *c;
	int waiting;

	(void)self;
	if (nargs < 2)
		return ret(pt_py.None);
	if (pt_state.stopped)
		return ret(mon.disable);
	c = code_of(args[0], &waiting);
	if (!c)
		return ret(waiting ? pt_py.None : mon.disable);
	pt_trace_emit(c, (int)pt_py.LongAsLong(args[1]), pt_thread.depth - 1);
	return ret(pt_py.None);
}

/* PY_START and PY_RESUME: (code, offset).  A call line for traced code;
 * the depth grows. */
static PyObject *on_start(PyObject *self, PyObject *const *args,
			  Py_ssize_t nargs)
{
	struct pt_code *c = NULL;
	int waiting = 0;

	(void)self;
	pt_thread_enter();
	if (nargs >= 1 && pt_state.call_lines && !pt_state.stopped &&
	    (c = code_of(args[0], &waiting)))
		pt_trace_call(c);
	/* without {indent}, ignored code need not report its calls again */
	if (!c && !waiting && !pt_state.needs_depth)
		return ret(mon.disable);
	return ret(pt_py.None);
}

/* PY_RETURN, PY_YIELD, PY_UNWIND: the depth shrinks. */
static PyObject *on_leave(PyObject *self, PyObject *const *args,
			  Py_ssize_t nargs)
{
	(void)self;
	(void)args;
	(void)nargs;
	pt_thread_leave();
	return ret(pt_py.None);
}

static struct pt_methoddef on_line_def = {
	"pytrace_line", (pt_cfunction)(void (*)(void))on_line,
	PT_METH_FASTCALL, "pytrace's sys.monitoring LINE callback."
};

static struct pt_methoddef on_start_def = {
	"pytrace_start", (pt_cfunction)(void (*)(void))on_start,
	PT_METH_FASTCALL, "pytrace's sys.monitoring PY_START callback."
};

static struct pt_methoddef on_leave_def = {
	"pytrace_leave", (pt_cfunction)(void (*)(void))on_leave,
	PT_METH_FASTCALL, "pytrace's sys.monitoring PY_RETURN callback."
};

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

/* sys.monitoring.events.NAME, or -1. */
static long event_bit(PyObject *events, const char *name)
{
	PyObject *o = pt_py.GetAttrString(events, name);
	long v = o ? pt_py.LongAsLong(o) : -1;

	if (o)
		pt_py.DecRef(o);
	else
		pt_py.ErrClear();
	return v;
}

/* register_callback(id, event, a new C function from def); 0 or -1. */
static int callback(PyObject *m, int id, long ev, struct pt_methoddef *def)
{
	PyObject *cb = pt_py.CFunctionNewEx(def, NULL, NULL);

	return cb ? CALL(m, "register_callback", "ilO", id, ev, cb) : -1;
}

/* Start in the calling thread's interpreter; `first`: the interpreter
 * tracing starts in, whose tool and events stop() takes back. */
static int start_in(int first)
{
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */

	if (!m)
		return -1;	/* before 3.12 */
	PyObject *events = pt_py.GetAttrString(m, "events");
	mon.disable = pt_py.GetAttrString(m, "DISABLE");
	if (!events || !mon.disable) {
		pt_py.ErrClear();
		return -1;
	}
	long line = event_bit(events, "LINE");
	long starts[2] = { event_bit(events, "PY_START"),
			   event_bit(events, "PY_RESUME") };
	long leaves[3] = { event_bit(events, "PY_RETURN"),
			   event_bit(events, "PY_YIELD"),
			   event_bit(events, "PY_UNWIND") };
	pt_py.DecRef(events);
	if (line < 0 || starts[0] < 0 || starts[1] < 0 || leaves[0] < 0 ||
	    leaves[1] < 0 || leaves[2] < 0)
		return -1;

	int id = claim_tool(m);
	if (id < 0) {
		pt_notice("every sys.monitoring tool id is in use; tracing with "
		          "PyEval_SetTrace instead");
		return -1;
	}
	long set = line, used[6] = { line };
	int nused = 1;
	int rc = callback(m, id, line, &on_line_def);
	/* calls only when call_lines or {indent} need them */
	for (int i = 0; i < 2 && (pt_state.call_lines || pt_state.needs_depth); i++) {
		rc |= callback(m, id, starts[i], &on_start_def);
		set |= used[nused++] = starts[i];
	}
	for (int i = 0; i < 3 && pt_state.needs_depth; i++) {
		rc |= callback(m, id, leaves[i], &on_leave_def);
		set |= used[nused++] = leaves[i];
	}
	if (rc == 0)
		rc = CALL(m, "set_events", "il", id, set);
	if (rc < 0) {
		pt_py.ErrClear();
		pt_notice("cannot use sys.monitoring; tracing with PyEval_SetTrace "
		          "instead");
		CALL(m, "free_tool_id", "i", id);
		pt_py.ErrClear();
		return -1;
	}
	if (first) {
		mon.id = id;
		mon.nevents = nused;
		memcpy(mon.events, used, sizeof(used));
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
 * and the tool id free again, so that the interpreter runs as if pytrace
 * had never monitored it.  Every other interpreter's lines are disabled
 * one by one as they next run (on_line, once pt_state.stopped is set).
 */
static void stop(void)
{
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */

	if (!m || mon.id < 0)
		return;
	CALL(m, "set_events", "ii", mon.id, 0);
	for (int i = 0; i < mon.nevents; i++)
		CALL(m, "register_callback", "ilO", mon.id, mon.events[i],
		     pt_py.None);
	CALL(m, "free_tool_id", "i", mon.id);
	pt_py.ErrClear();
	mon.id = -1;
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
