# SPDX-License-Identifier: MIT
# Two worker threads, each fed its own queue of requests by the main
# thread; each writes its own output and log file in WORKDIR, so that the
# checksum does not depend on the scheduling.
import threading
import zlib

try:
    import queue
except ImportError:  # Python 2
    import Queue as queue

import floor
from app import orders, service

WORKERS = 2


def _work(q, svc):
    floor.install_thread()
    while True:
        url = q.get()
        if url is None:
            break
        svc.handle(url)
    svc.close()


def run(requests, workdir):
    """Serves REQUESTS requests; returns (checksum, values checked)."""
    svcs = [service.Service("worker%d" % i, workdir) for i in range(WORKERS)]
    queues = [queue.Queue(maxsize=64) for _ in range(WORKERS)]
    threads = [threading.Thread(target=_work, args=(queues[i], svcs[i]))
               for i in range(WORKERS)]
    for th in threads:
        th.start()
    for n in range(requests):
        queues[n % WORKERS].put(orders.request(n))
    for q in queues:
        q.put(None)
    for th in threads:
        th.join()
    crc = 0
    for svc in svcs:
        for path in (svc.path, svc.logpath):
            with open(path, "rb") as f:
                crc = zlib.crc32(f.read(), crc)
    return crc & 0xFFFFFFFF, sum(svc.checked for svc in svcs)
