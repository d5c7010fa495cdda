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
#include "codemap.h"
#include "pytrace.h"
#include "trace.h"

/* Tool ids in the order tried: the ones PEP 669 leaves unnamed first. */
static const int pt_tool_ids[] = { 4, 3, 5, 2, 1, 0 };

static struct {
	PyObject *disable;	/* sys.monitoring.DISABLE */
} mon;

static PyObject *ret(PyObject *o)
{
	pt_py.IncRef(o);
	return o;
}

/* The LINE callback: (code, line_number). */
static PyObject *on_line(PyObject *self, PyObject *const *args,
			 Py_ssize_t nargs)
{
	struct pt_file *f;

	(void)self;
	if (nargs < 2)
		return ret(pt_py.None);
	if (pt_trace_stopped)
		return ret(mon.disable);
	if (pt_trace_waiting || !pt_codemap_find(args[0], &f)) {
		PyObject *globals = pt_py.EvalGetGlobals();	/* borrowed */
		if (!pt_trace_ready(globals))
			return ret(pt_py.None);
		f = pt_trace_decide(globals, args[0]);
	}
	if (!f)
		return ret(mon.disable);
	pt_trace_emit(f, (int)pt_py.LongAsLong(args[1]));
	return ret(pt_py.None);
}

static struct pt_methoddef on_line_def = {
	"pytrace_line", (pt_cfunction)(void (*)(void))on_line,
	PT_METH_FASTCALL, "pytrace's sys.monitoring LINE callback."
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

int pt_monitor_start(void)
{
	PyObject *m = pt_py.SysGetObject("monitoring");	/* borrowed */

	if (!m)
		return -1;	/* before 3.12 */
	PyObject *events = pt_py.GetAttrString(m, "events");
	PyObject *line = events ? pt_py.GetAttrString(events, "LINE") : NULL;
	long line_ev = line ? pt_py.LongAsLong(line) : -1;
	mon.disable = pt_py.GetAttrString(m, "DISABLE");
	if (events)
		pt_py.DecRef(events);
	if (line)
		pt_py.DecRef(line);
	if (line_ev < 0 || !mon.disable) {
		pt_py.ErrClear();
		return -1;
	}

	int id = claim_tool(m);
	if (id < 0) {
		pt_log("every sys.monitoring tool id is in use; tracing with "
		       "PyEval_SetTrace instead");
		return -1;
	}
	PyObject *cb = pt_py.CFunctionNewEx(&on_line_def, NULL, NULL);
	if (!cb || CALL(m, "register_callback", "ilO", id, line_ev, cb) < 0 ||
	    CALL(m, "set_events", "il", id, line_ev) < 0) {
		pt_py.ErrClear();
		pt_log("cannot use sys.monitoring; tracing with PyEval_SetTrace "
		       "instead");
		CALL(m, "free_tool_id", "i", id);
		pt_py.ErrClear();
		return -1;
	}
	return 0;
}
