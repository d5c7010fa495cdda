# SPDX-License-Identifier: MIT
# Benchmark workload W4: W1's work (w1.py: calls, loops, recursion, a
# generator, an exception path) shared among 8 threads started with
# threading, thread T doing the rounds i with i % 8 == T, so that the total
# is W1's at the same SCALE.  Each thread hashes into its own accumulator;
# the checksum combines them in thread order, so it is the same whatever
# the scheduling.  Usage: w4.py [SCALE] (default 2500).  Python 2.7 and 3.x.
import sys
import threading

sys.dont_write_bytecode = True  # no floor.pyc left in the source tree
import floor  # noqa: E402

floor.install()
THREADS = 8


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


class Acc(object):
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


def worker(t, scale, results):
    """Thread T's share of the rounds; stores (hash, caught) in results[t]."""
    floor.install_thread()
    acc = Acc()
    caught = 0
    for i in range(t, scale * 2, THREADS):
        caught += round_(i, acc)
    results[t] = (acc.h, caught)


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 2500
    results = [None] * THREADS
    threads = [threading.Thread(target=worker, args=(t, scale, results))
               for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    h = 0
    caught = 0
    for th_h, th_caught in results:
        h = mix(h, th_h)
        caught += th_caught
    print("w4 scale=%d threads=%d checksum=%08x caught=%d" % (scale, THREADS, h, caught))


main()
