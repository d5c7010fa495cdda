# SPDX-License-Identifier: MIT
# The benchmark's switch: with BENCH_SWITCH set, the workload switches
# pytrace on (and off) in its own process, through the process's control
# socket as `pytrace on` does (the process runs with start = "standby").
#   BENCH_SWITCH=cycle      on, then off, before the work: what a process
#                           costs after one on/off cycle
#   BENCH_SWITCH=after:S    on after S seconds, from a thread: a service
#                           switched on while it works
# Without BENCH_SWITCH it does nothing and imports nothing, so the
# workloads can import it in every mode.  Python 2.7 and 3.x.
import os

MODE = os.environ.get("BENCH_SWITCH", "")


def _ask(request):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0pytrace/%d" % os.getpid())
    s.sendall(request.encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        data = s.recv(4096)
        if not data:
            break
        reply += data
    s.close()
    if not reply.startswith(b"ok"):
        raise SystemExit("switch.py: %s: %r" % (request, reply))


def install():
    """Call once, from the main thread, before the work."""
    if MODE == "cycle":
        _ask("on")
        _ask("off")
    elif MODE.startswith("after:"):
        import threading
        import time
        delay = float(MODE[6:])

        def later():
            time.sleep(delay)
            _ask("on")

        t = threading.Thread(target=later)
        t.daemon = True
        t.start()
