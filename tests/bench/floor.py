# SPDX-License-Identifier: MIT
# The benchmark's "floor" (see floor.c): installs the cheapest C callback
# the interpreter allows for every event, and nothing else, when BENCH_FLOOR
# is set (BENCH_FLOOR=1; BENCH_FLOOR=count also prints "floor events=N
# lines=N" at exit), loading the shared object named by BENCH_FLOOR_LIB.
# Without BENCH_FLOOR it does nothing and imports nothing, so the workloads
# can import it in every mode.  Python 2.7 and 3.x.
#
# install(): call once, from the main thread, before the work.  Up to 3.11
#   it sets the C trace function in the calling thread (PyEval_SetTrace);
#   from 3.12 it registers a sys.monitoring LINE callback, which covers
#   every thread.
# install_thread(): call first thing in every thread the workload starts;
#   up to 3.11 it sets the trace function in that thread, from 3.12 it does
#   nothing.
import os
import sys

MODE = os.environ.get("BENCH_FLOOR", "")
_lib = None


def _load():
    global _lib
    import ctypes
    path = os.environ.get("BENCH_FLOOR_LIB")
    if not path:
        raise SystemExit("floor.py: BENCH_FLOOR is set but BENCH_FLOOR_LIB is not")
    _lib = ctypes.CDLL(path)
    _lib.floor_set_none(ctypes.c_void_p(id(None)))
    if MODE == "count":
        import atexit
        atexit.register(_report)
    return ctypes


def _report():
    import ctypes
    events = ctypes.c_ulonglong.in_dll(_lib, "floor_events").value
    lines = ctypes.c_ulonglong.in_dll(_lib, "floor_lines").value
    sys.stdout.write("floor events=%d lines=%d\n" % (events, lines))
    sys.stdout.flush()


def _settrace():
    import ctypes
    name = "floor_trace_count" if MODE == "count" else "floor_trace"
    func = ctypes.cast(getattr(_lib, name), ctypes.c_void_p)
    settrace = ctypes.pythonapi.PyEval_SetTrace
    settrace.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    settrace.restype = None
    settrace(func, None)


def install():
    if not MODE:
        return
    ctypes = _load()
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        _settrace()
        return
    name = "floor_line_count_def" if MODE == "count" else "floor_line_def"
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    new.restype = ctypes.py_object
    callback = new(ctypes.addressof(ctypes.c_char.in_dll(_lib, name)), None, None)
    tool = [i for i in range(6) if mon.get_tool(i) is None][0]
    mon.use_tool_id(tool, "bench-floor")
    mon.register_callback(tool, mon.events.LINE, callback)
    mon.set_events(tool, mon.events.LINE)


def install_thread():
    if MODE and getattr(sys, "monitoring", None) is None:
        _settrace()
