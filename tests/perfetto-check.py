#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# perfetto-check.py FILE [--tree]: check a trace-event JSON file (gzip too)
# as `pytrace export --perfetto` writes it, and as Perfetto UI and
# chrome://tracing need it: valid JSON, {"traceEvents": [...]}, every
# event well-formed (B and X with a name and args {file, line}, E, M),
# per thread (pid, tid) the B and E events nest perfectly with timestamps
# that never go back, X events nest by their times, and every process
# and thread with a slice has its process_name and thread_name event.
# Prints "ok: N slices, P processes, T threads" and exits 0, or prints
# each problem and exits 1.  With --tree, also prints each thread's calls
# as a tree, one line per slice: "PID TID" then two spaces per depth and
# the name, threads in the order of their first slice.
import gzip
import json
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data.decode("utf-8"))


def main():
    args = sys.argv[1:]
    tree = "--tree" in args
    args = [a for a in args if a != "--tree"]
    if len(args) != 1:
        sys.exit("usage: perfetto-check.py FILE [--tree]")
    problems = []

    def bad(i, ev, what):
        if len(problems) < 20:
            problems.append("event %d %s: %s" % (i, json.dumps(ev)[:200], what))
        else:
            problems.append("")

    try:
        doc = load(args[0])
    except (OSError, ValueError, EOFError) as e:
        print("not a JSON trace: %s" % e)
        return 1
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        print('not {"traceEvents": [...]}')
        return 1
    stacks = {}     # (pid, tid) -> open B events
    last_ts = {}    # (pid, tid) -> ts of its last B or E
    xs = {}         # (pid, tid) -> [(ts, dur, name)]
    order = []      # threads in the order of their first slice
    lines = {}      # (pid, tid) -> tree lines
    named_procs, named_threads = set(), set()
    slices = 0
    for i, ev in enumerate(doc["traceEvents"]):
        if not isinstance(ev, dict):
            bad(i, ev, "not an object")
            continue
        ph = ev.get("ph")
        pid, tid = ev.get("pid"), ev.get("tid")
        if not isinstance(pid, int) or (ph != "M" and not isinstance(tid, int)):
            bad(i, ev, "no integer pid and tid")
            continue
        key = (pid, tid)
        if ph == "M":
            name = ev.get("args", {}).get("name")
            if not isinstance(name, str) or not name:
                bad(i, ev, "metadata without args.name")
            if ev.get("name") == "process_name":
                named_procs.add(pid)
            elif ev.get("name") == "thread_name":
                named_threads.add(key)
            continue
        ts = ev.get("ts")
        if not isinstance(ts, (int, float)) or isinstance(ts, bool) or ts < 0:
            bad(i, ev, "no timestamp")
            continue
        if ph in ("B", "X"):
            a = ev.get("args")
            if not isinstance(ev.get("name"), str) or not ev["name"]:
                bad(i, ev, "no name")
            if (not isinstance(a, dict) or not isinstance(a.get("file"), str)
                    or not isinstance(a.get("line"), int)):
                bad(i, ev, "no args {file, line}")
            slices += 1
            if key not in lines:
                order.append(key)
                lines[key] = []
        if ph in ("B", "E"):
            if ts < last_ts.get(key, -1):
                bad(i, ev, "goes back in time on its thread (last %s)" % last_ts[key])
            last_ts[key] = ts
            st = stacks.setdefault(key, [])
            if ph == "B":
                lines[key].append("%d %d %s%s" % (pid, tid, "  " * len(st), ev.get("name")))
                st.append(ev)
            elif not st:
                bad(i, ev, "E with no B open on its thread")
            else:
                st.pop()
        elif ph == "X":
            dur = ev.get("dur")
            if not isinstance(dur, (int, float)) or dur < 0:
                bad(i, ev, "X without a duration")
                continue
            xs.setdefault(key, []).append((ts, dur, ev.get("name")))
        else:
            bad(i, ev, "unknown phase %r" % ph)
    for key, st in stacks.items():
        if st:
            problems.append("thread %s: %d B events never closed (first: %s)"
                            % (key, len(st), st[0].get("name")))
    for key, evs in xs.items():
        evs.sort(key=lambda e: (e[0], -e[1]))
        open_ends = []
        for ts, dur, name in evs:
            while open_ends and open_ends[-1] <= ts:
                open_ends.pop()
            if open_ends and ts + dur > open_ends[-1]:
                problems.append("thread %s: X %s at %s overlaps its parent" % (key, name, ts))
            lines[key].append("%d %d %s%s" % (key[0], key[1], "  " * len(open_ends), name))
            open_ends.append(ts + dur)
    for key in order:
        if key[0] not in named_procs:
            problems.append("process %d has no process_name event" % key[0])
        if key not in named_threads:
            problems.append("thread %s has no thread_name event" % (key,))
    if doc.get("displayTimeUnit") not in (None, "ns", "ms"):
        problems.append("displayTimeUnit %r" % doc.get("displayTimeUnit"))
    if problems:
        for p in problems:
            if p:
                print(p)
        return 1
    if tree:
        for key in order:
            for line in lines[key]:
                print(line)
    print("ok: %d slices, %d processes, %d threads"
          % (slices, len({k[0] for k in order}), len(order)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
