# SPDX-License-Identifier: MIT
# Benchmark workload W2, service-like: the application package "app"
# (tests/bench/w2/app) serves SCALE order requests with two worker threads,
# spending most of its time in the standard library (urllib, fractions,
# logging, textwrap, shlex, queue, threading) and in the pure-Python
# third-party-style package "thirdparty" (tests/bench/w2/vendor), writing
# its output and logs to files in a temporary directory, removed at the
# end.  It prints a checksum of those files.  Usage: w2.py [SCALE] (default
# 1500).  Python 2.7 and 3.x.
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no .pyc left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[1:1] = [os.path.join(HERE, "w2"), os.path.join(HERE, "w2", "vendor")]
import floor  # noqa: E402
import switch  # noqa: E402

floor.install()
switch.install()
from app import workers  # noqa: E402


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    workdir = tempfile.mkdtemp(prefix="pytrace-w2.")
    try:
        crc, checked = workers.run(scale, workdir)
    finally:
        shutil.rmtree(workdir)
    print("w2 scale=%d checksum=%08x checked=%d" % (scale, crc, checked))


main()
