# SPDX-License-Identifier: MIT
# Benchmark workload W1: deterministic, CPU-bound, pure Python.  It mixes
# plain calls, loops, a recursive function, a generator and an exception
# path, then prints a checksum so that runs under different tracers can be
# checked to have done the same work.  Usage: w1.py [SCALE], SCALE an integer
# (default 2500) that the work grows with linearly; about 0.3 s untraced on
# python3.11 at the default.  With BENCH_FLOOR set it installs the
# benchmark's floor callback first (floor.py).
import sys

sys.dont_write_bytecode = True  # no floor.pyc left in the source tree
import floor  # noqa: E402
import switch  # noqa: E402

floor.install()
switch.install()


def mix(h, x):
    """One step of a small multiplicative hash."""
    h = (h * 31 + x) & 0xFFFFFFFF
    return h ^ (h >> 13)


def fib(n):
    """Naive recursion: many short calls."""
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def collatz(n):
    """Generator: the Collatz sequence from n down to 1."""
    while n != 1:
        yield n
        n = n // 2 if n % 2 == 0 else 3 * n + 1
    yield 1


def checked_div(a, b):
    """Raises ValueError for a zero divisor, so callers take the except path."""
    if b == 0:
        raise ValueError("zero divisor")
    return a // b


class Acc:
    """A method call and an attribute update per step."""

    def __init__(self):
        self.h = 0

    def add(self, x):
        self.h = mix(self.h, x)


def round_(i, acc):
    """One unit of work; returns the number of exceptions caught."""
    caught = 0
    for x in collatz(i + 27):
        acc.add(x)
    acc.add(fib(8 + i % 4))
    for j in range(8):
        try:
            acc.add(checked_div(i, j % 7))
        except ValueError:
            caught += 1
    k = 0
    while k < 10:
        acc.h = mix(acc.h, i * k)
        k += 1
    return caught


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 2500
    acc = Acc()
    caught = 0
    for i in range(scale * 2):
        caught += round_(i, acc)
    print("w1 scale=%d checksum=%08x caught=%d" % (scale, acc.h, caught))


main()
