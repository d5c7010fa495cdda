# SPDX-License-Identifier: MIT
# Benchmark workload WC: one Python construct at a time, so that what a
# tracer costs per line can be read construct by construct.  Usage:
#   wc.py CONSTRUCT SCALE
# CONSTRUCT is one of
#   calls       recursion: many short calls and returns
#   generators  a generator resumed for every value
#   exceptions  an exception raised and caught in every iteration
#   loop        a tight loop with a branch, in one frame
#   coroutines  asyncio with many tasks awaiting each other (3.5+)
#   codeobjs    a few thousand small generated functions, each run a few
#               times (every code object new to the tracer)
#   longfuncs   generated functions of many distinct lines each
# and SCALE an integer the work grows with linearly.  Prints a checksum
# line "wc CONSTRUCT scale=N checksum=..." so that runs under different
# tracers can be checked to have done the same work.  With BENCH_FLOOR set
# it installs the benchmark's floor callback first (floor.py).  Python 2.7
# and 3.x (coroutines: 3.5+).
import sys

sys.dont_write_bytecode = True  # no floor.pyc left in the source tree
import floor  # noqa: E402

floor.install()


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def calls(scale):
    total = 0
    for _ in range(scale):
        total += fib(15)
    return total


def numbers(n):
    i = 0
    while i < n:
        yield i * 7 % 13
        i += 1


def generators(scale):
    total = 0
    for _ in range(scale):
        for x in numbers(1000):
            total += x
    return total


class Odd(Exception):
    pass


def check(x):
    if x % 2:
        raise Odd(x)
    return x


def exceptions(scale):
    total = 0
    for i in range(scale * 1000):
        try:
            total += check(i)
        except Odd:
            total -= 1
    return total


def loop(scale):
    total = 0
    i = 0
    n = scale * 1000
    while i < n:
        if i % 3 == 0:
            total += i
        else:
            total -= 1
        i += 1
    return total


COROUTINES = '''
import asyncio


async def leaf(q, i):
    await asyncio.sleep(0)
    return i % 11


async def worker(q, i):
    total = 0
    for j in range(10):
        total += await leaf(q, i + j)
    return total


async def main(scale):
    q = None
    total = 0
    for _ in range(scale):
        results = await asyncio.gather(*[worker(q, i) for i in range(100)])
        total += sum(results)
    return total


def coroutines(scale):
    return asyncio.run(main(scale)) if hasattr(asyncio, "run") else \\
        asyncio.get_event_loop().run_until_complete(main(scale))
'''


def coroutines(scale):
    if sys.version_info < (3, 5):
        return 0  # no async def: the bench skips this construct on 2.7
    return load("coroutines", COROUTINES)["coroutines"](scale)


def generated(name, nfuncs, nlines):
    """Source of NFUNCS functions f0..f<NFUNCS-1>, each NLINES distinct
    lines, and a list FUNCS of them."""
    out = []
    for f in range(nfuncs):
        out.append("def f%d(x):" % f)
        for k in range(nlines):
            out.append("    x = (x * %d + %d) & 0xFFFF" % (k % 7 + 3, f + k))
        out.append("    return x")
    out.append("FUNCS = [%s]" % ", ".join("f%d" % f for f in range(nfuncs)))
    return "\n".join(out) + "\n"


def load(tag, src):
    """The namespace of module SRC, run from the file wc_TAG.py in the
    directory the bench gives (BENCH_WC_DIR; else the temporary
    directory), written when missing, so that the trace has its source
    lines."""
    import os
    import tempfile
    d = os.environ.get("BENCH_WC_DIR") or tempfile.gettempdir()
    path = os.path.join(d, "wc_%s.py" % tag)
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(src)
    ns = {"__name__": "wc_%s" % tag, "__file__": path}
    exec(compile(src, path, "exec"), ns)
    return ns


def run_generated(scale, nfuncs, nlines, tag):
    """NFUNCS generated functions of NLINES lines (load), each called SCALE
    times, in turn."""
    funcs = load(tag, generated(tag, nfuncs, nlines))["FUNCS"]
    total = 0
    for r in range(scale):
        for fn in funcs:
            total = (total + fn(r)) & 0xFFFFFFFF
    return total


def codeobjs(scale):
    return run_generated(scale, 2000, 3, "codeobjs")


def longfuncs(scale):
    return run_generated(scale, 8, 400, "longfuncs")


CONSTRUCTS = {"calls": calls, "generators": generators, "exceptions": exceptions,
              "loop": loop, "coroutines": coroutines, "codeobjs": codeobjs,
              "longfuncs": longfuncs}


def main():
    what = sys.argv[1]
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    total = CONSTRUCTS[what](scale)
    print("wc %s scale=%d checksum=%d" % (what, scale, total))


main()
