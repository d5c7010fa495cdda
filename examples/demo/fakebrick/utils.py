"""Command execution, the way connectors call out to tools (simulated)."""
from fakebrick import iscsi


def execute(*cmd):
    if cmd[:3] == ("iscsiadm", "-m", "discovery"):
        return iscsi.DISCOVERY
    return "Login to %s successful." % cmd[4]
