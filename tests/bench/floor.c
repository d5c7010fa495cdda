/* SPDX-License-Identifier: MIT */
/*
 * The "floor" of the benchmark: the cheapest C callback the interpreter
 * allows for every line, so that a tracer's cost can be read against what
 * no tracer can go below.  Built by tests/bench/bench into a shared object
 * (gcc -shared -fPIC, no Python headers: the few CPython types used are
 * plain C signatures here) and installed from the workloads through ctypes
 * by tests/bench/floor.py when BENCH_FLOOR is set.
 *
 * Up to 3.11: floor_trace is a Py_tracefunc given to PyEval_SetTrace in
 * every thread; it returns 0 at once, for every event (call, line, return,
 * exception), as pytrace's trace function receives them.
 * 3.12 and newer: floor_line_def is a METH_FASTCALL PyMethodDef, the calling
 * convention pytrace's own sys.monitoring LINE callback uses; the function
 * returns None at once.  None is immortal from 3.12, so it is returned
 * without a reference count, as the header macro Py_RETURN_NONE would.
 * The *_count variants count what they receive, to check once, untimed,
 * that the floor really fires.
 */
#include <stddef.h>

/* The layout of CPython's PyMethodDef, the same in every version. */
struct floor_methoddef {
	const char *ml_name;
	void *ml_meth;
	int ml_flags;
	const char *ml_doc;
};

#define FLOOR_METH_FASTCALL 0x0080
#define FLOOR_PYTRACE_LINE 2

/* Events and line events received by the counting variants. */
unsigned long long floor_events, floor_lines;

/* Py_None of the running interpreter, set by floor.py before first use. */
static void *floor_none;

void floor_set_none(void *none)
{
	floor_none = none;
}

int floor_trace(void *obj, void *frame, int what, void *arg)
{
	(void)obj, (void)frame, (void)what, (void)arg;
	return 0;
}

int floor_trace_count(void *obj, void *frame, int what, void *arg)
{
	(void)obj, (void)frame, (void)arg;
	floor_events++;
	floor_lines += what == FLOOR_PYTRACE_LINE;
	return 0;
}

static void *floor_line(void *self, void *const *args, ptrdiff_t nargs)
{
	(void)self, (void)args, (void)nargs;
	return floor_none;
}

static void *floor_line_count(void *self, void *const *args, ptrdiff_t nargs)
{
	(void)self, (void)args, (void)nargs;
	floor_events++;
	floor_lines++;
	return floor_none;
}

struct floor_methoddef floor_line_def = {
	"floor_line", (void *)floor_line, FLOOR_METH_FASTCALL, NULL
};
struct floor_methoddef floor_line_count_def = {
	"floor_line_count", (void *)floor_line_count, FLOOR_METH_FASTCALL, NULL
};
