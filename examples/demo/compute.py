"""A tiny "compute service": starts an instance, which attaches a volume."""
import sys
import threading

from fakebrick import iscsi


def start_instance(name, results):
    sessions = iscsi.connect_volume("iqn.2010-10.org.openstack:volume-1")
    results.append((name, len(sessions)))


results = []
worker = threading.Thread(target=start_instance, args=("instance-1", results))
worker.start()
worker.join()
print("started %s with %d iSCSI sessions" % results[0])
sys.exit(0)
