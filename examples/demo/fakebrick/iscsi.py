"""Discover iSCSI portals and log in to them (simulated: no real iSCSI)."""
import json

from fakebrick import utils

DISCOVERY = """\
10.0.0.1:3260,1 iqn.2010-10.org.openstack:volume-1 10.0.0.1:3260 iqn.2010-10.org.openstack:volume-1
10.0.0.2:3260,1 iqn.2010-10.org.openstack:volume-1 10.0.0.2:3260 iqn.2010-10.org.openstack:volume-1
"""


def discover(target_iqn):
    lines = utils.execute("iscsiadm", "-m", "discovery").splitlines()
    portals = [{'portal': p.split(" ")[2], 'iqn': p.split(" ")[3]}
               for p in lines if target_iqn in p]
    return portals


def login(portal):
    out = utils.execute("iscsiadm", "-m", "node", "-p", portal["portal"], "--login")
    return json.dumps({"portal": portal["portal"], "result": out})


def connect_volume(target_iqn):
    sessions = []
    for portal in discover(target_iqn):
        sessions.append(login(portal))
    return sessions
