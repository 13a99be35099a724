"""Descriptor accounting of the disk flow stacks run with passed descriptors: add-fd (an image
descriptor sent with SCM_RIGHTS), blockdev-add of a file node on /dev/fdset/N and a raw node over
it, device_add virtio-blk-pci drive=..., the simulated guest accepts, device_del, the guest removes,
DEVICE_DELETED, blockdev-del, remove-fd; with clients that leave midway holding fd sets. The daemon's
/proc/PID/fd must come back to its baseline (the NIC flow's twin is in test_netdev.py)."""
from __future__ import annotations

import json

import pytest

from conftest import assert_event, return_line
from test_descriptors import Passer, marker, marker_count, total_count  # noqa: F401 (fixture)
from test_netdev import start
from test_guest import advance

# 10,000 full disk cycles on the 7.2 profile (about 40 s on a debug build), fewer on 10.0, whose fd
# sets outlive their clients (the same code path, with one rule less).
CYCLES = {"7.2.0": 10_000, "10.0.0": 600}


def disk_cycle(p: Passer, c, i: int) -> None:
    info = json.loads(p.cmd("add-fd", {"opaque": "disk%d" % i}, fds=1))["return"]
    fdset = info["fdset-id"]
    storage = {"driver": "file", "node-name": "s%d" % i, "filename": "/dev/fdset/%d" % fdset, "read-only": True}
    assert p.cmd("blockdev-add", storage) == return_line()
    assert p.cmd("blockdev-add", {"driver": "raw", "node-name": "f%d" % i, "file": "s%d" % i, "read-only": True}) == return_line()
    disk = {"driver": "virtio-blk-pci", "drive": "f%d" % i, "id": "disk%d" % i, "bus": "pci.2", "addr": "0x0"}
    assert p.cmd("device_add", disk) == return_line()
    path = "/machine/peripheral/disk%d" % i
    advance(c, 100)
    assert_event(p.client.line(), "X_DEVICE_ON", '{"device": "disk%d", "path": "%s"}' % (i, path))
    assert p.cmd("device_del", {"id": "disk%d" % i}) == return_line()
    advance(c, 6000)
    assert_event(p.client.line(), "DEVICE_DELETED", '{"path": "%s/virtio-backend"}' % path)
    assert_event(p.client.line(), "DEVICE_DELETED", '{"device": "disk%d", "path": "%s"}' % (i, path))
    assert p.cmd("blockdev-del", {"node-name": "f%d" % i}) == return_line()
    assert p.cmd("blockdev-del", {"node-name": "s%d" % i}) == return_line()
    assert p.cmd("remove-fd", {"fdset-id": fdset}) == return_line()


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_disk_cycles_and_disconnects_return_to_baseline(start_daemon, marker, version):  # noqa: F811
    d, m, c = start(start_daemon, version)
    m.close()
    p = Passer(d.negotiated(version=version), marker)
    baseline = total_count(d.pid)
    held = 0
    for i in range(CYCLES[version]):
        disk_cycle(p, c, i)
        assert marker_count(d.pid, marker) == held
        if i % 500 == 499:
            # Leave midway holding an fd set a node uses, and one nobody uses: on 7.2 the running
            # VM's last client leaving closes the unused set only; on 10.0 both stay.
            info = json.loads(p.cmd("add-fd", {"opaque": "used%d" % i}, fds=1))["return"]
            node = {"driver": "file", "node-name": "left%d" % i, "filename": "/dev/fdset/%d" % info["fdset-id"],
                    "read-only": True}
            assert p.cmd("blockdev-add", node) == return_line()
            assert p.cmd("add-fd", {"opaque": "unused%d" % i}, fds=1).startswith('{"return"')
            p.client.close()
            p = Passer(d.negotiated(version=version), marker)
            held += 1 if version == "7.2.0" else 2
            assert marker_count(d.pid, marker) == held
    # Clean up what the departed clients left: nodes, then their fd sets.
    for fdset in json.loads(p.cmd("query-fdsets"))["return"]:
        for member in fdset["fds"]:
            node = "left" + member.get("opaque", "")[len("used"):] if member.get("opaque", "").startswith("used") else None
            if node:
                assert p.cmd("blockdev-del", {"node-name": node}) == return_line()
        assert p.cmd("remove-fd", {"fdset-id": fdset["fdset-id"]}) == return_line()
    assert marker_count(d.pid, marker) == 0
    assert total_count(d.pid) == baseline
