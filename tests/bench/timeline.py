#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The cost of the timeline: wall time of W1 (w1.py) in record mode with
# timeline off and on, as ratios to the untraced run, median of RUNS runs
# taking turns (the order reversed every other run); with BENCH_BASE_LIB,
# also another build of the library (the one before a change) in record
# mode, for the cost of a change when the timeline is off.  Prints the
# record file's size of each mode.
#   tests/bench/timeline.py PYTHON[,PYTHON...] RUNS SCALE
import os, subprocess, sys, time, statistics
W = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.environ.get("BENCH_BASE_LIB")
if len(sys.argv) != 4:
    sys.exit("usage: timeline.py PYTHON[,PYTHON...] RUNS SCALE")
out = os.path.join(os.environ.get("TMPDIR", "/tmp"), "pytrace-timeline-bench.%d.rec" % os.getpid())
pys = sys.argv[1].split(",")
runs = int(sys.argv[2])
scale = sys.argv[3]
for py in pys:
    ign = subprocess.check_output([py, "-c", "import sysconfig,site; p=sysconfig.get_paths(); print(':'.join(sorted(set([p['stdlib'],p['platstdlib'],p['purelib'],p['platlib']]))))"]).decode().strip()
    modes = {
        "untraced": {},
        "record(base)": {"LD_PRELOAD": BASE, "PYTRACE_OUTPUT_MODE": "record"},
        "record": {"LD_PRELOAD": W + "/libpytrace.so", "PYTRACE_OUTPUT_MODE": "record"},
        "record+timeline": {"LD_PRELOAD": W + "/libpytrace.so", "PYTRACE_OUTPUT_MODE": "record", "PYTRACE_TIMELINE": "1"},
    }
    if not BASE:
        del modes["record(base)"]
    t = {m: [] for m in modes}
    sizes = {}
    names = list(modes)
    for r in range(runs):
        for m in (names if r % 2 == 0 else names[::-1]):
            env = dict(os.environ, PYTRACE_IGNORE_DIRS=ign, PYTRACE_OUTPUT=out, **modes[m])
            if os.path.exists(out):
                os.unlink(out)
            s = time.perf_counter()
            subprocess.run([py, "w1.py", scale], cwd=W + "/tests/bench", env=env, stdout=subprocess.DEVNULL, check=True)
            t[m].append(time.perf_counter() - s)
            if os.path.exists(out):
                sizes[m] = os.path.getsize(out)
                os.unlink(out)
    u = statistics.median(t["untraced"])
    print("%s (W1 scale %s, %d runs, median):" % (py, scale, runs))
    for m in names:
        med = statistics.median(t[m])
        print("  %-16s %6.3f s  x%5.2f  %s" % (m, med, med / u, ("%d bytes" % sizes[m]) if m in sizes else ""))
    sys.stdout.flush()
