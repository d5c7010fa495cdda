"""A tiny long-running service for the systemd example: every second it
"starts an instance", which attaches a volume through fakebrick."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakebrick import iscsi  # noqa: E402


def tick(n):
    sessions = iscsi.connect_volume("iqn.2010-10.org.openstack:volume-1")
    return n + len(sessions)


def main():
    n = 0
    while True:
        n = tick(n)
        time.sleep(1)


main()
