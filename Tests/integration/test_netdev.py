"""Network backends over real sockets: the NIC flow management stacks run (getfd with a tap
descriptor sent with SCM_RIGHTS, netdev_add type=tap fd=/fds=/vhostfds=, device_add virtio-net-pci
netdev=..., device_del, DEVICE_DELETED after the simulated guest powers the slot off, netdev_del),
with the daemon's descriptors counted in /proc/PID/fd. The texts and orders are compared with real
QEMU by the conformance scenarios `net-*`; here: ownership (no leak, nothing closed early) over many
cycles and disconnects, and the argument shapes of Kata govmm's NIC flow."""
from __future__ import annotations

import json

import pytest

from conftest import assert_event, return_line
from test_descriptors import Passer, marker, marker_count, total_count  # noqa: F401 (fixture)
from test_control import call, control
from test_guest import NET0, NET0_BACKEND, advance

# 10,000 full NIC cycles on the 7.2 profile (about 40 s on a debug build), fewer on 10.0 (the same
# code path; its netdev_del rule for a NIC's netdev has its own test below).
CYCLES = {"7.2.0": 10_000, "10.0.0": 600}


def start(start_daemon, version: str):
    """A running VM with the Linux guest on a manual clock, a negotiated monitor client and the control client."""
    d = start_daemon("--control", start_daemon.path("control.sock"), "--clock", "manual", "--qemu-version", version)
    d.wait_listening([start_daemon.path("control.sock")])
    m = d.negotiated(version=version)
    c = control(d, start_daemon)
    call(c, "clock-advance", {"ms": 0})  # the guest's drivers initialise at time 0
    return d, m, c


def hot_plug_cycle(p: Passer, c, i: int, arguments: dict, names: list[str]) -> None:
    """getfd each name, netdev_add, device_add, the guest accepts, device_del, the guest removes,
    DEVICE_DELETED (backend, then NIC), netdev_del."""
    for name in names:
        assert p.cmd("getfd", {"fdname": name}, fds=1) == return_line()
    assert p.cmd("netdev_add", arguments) == return_line()
    nic = {"driver": "virtio-net-pci", "netdev": arguments["id"], "id": "net%d" % i,
           "mac": "52:54:00:6c:76:01", "bus": "pci.1", "addr": "0x0"}
    assert p.cmd("device_add", nic) == return_line()
    path = "/machine/peripheral/%s" % nic["id"]
    advance(c, 100)
    assert_event(p.client.line(), "X_DEVICE_ON", '{"device": "%s", "path": "%s"}' % (nic["id"], path))
    assert p.cmd("device_del", {"id": nic["id"]}) == return_line()
    advance(c, 6000)
    assert_event(p.client.line(), "DEVICE_DELETED", '{"path": "%s/virtio-backend"}' % path)
    assert_event(p.client.line(), "DEVICE_DELETED", '{"device": "%s", "path": "%s"}' % (nic["id"], path))
    assert p.cmd("netdev_del", {"id": arguments["id"]}) == return_line()


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_nic_cycles_and_disconnects_return_to_baseline(start_daemon, marker, version):  # noqa: F811
    d, m, c = start(start_daemon, version)
    m.close()
    p = Passer(d.negotiated(version=version), marker)
    baseline = total_count(d.pid)
    left: list[str] = []
    for i in range(CYCLES[version]):
        if i % 3 == 0:
            hot_plug_cycle(p, c, i, {"type": "tap", "id": "hostnet%d" % i, "fd": "tap%d" % i}, ["tap%d" % i])
        elif i % 3 == 1:  # libvirt/govmm multi-queue with vhost descriptors
            names = ["q%d.%d" % (i, q) for q in range(2)] + ["v%d.%d" % (i, q) for q in range(2)]
            arguments = {"type": "tap", "id": "hostnet%d" % i, "fds": "%s:%s" % tuple(names[:2]),
                         "vhost": True, "vhostfds": "%s:%s" % tuple(names[2:])}
            hot_plug_cycle(p, c, i, arguments, names)
        else:
            hot_plug_cycle(p, c, i, {"type": "user", "id": "hostnet%d" % i}, [])
        assert marker_count(d.pid, marker) == len(left)
        if i % 500 == 49:
            # Leave midway holding a netdev with a descriptor: it stays until netdev_del, as on QEMU.
            assert p.cmd("getfd", {"fdname": "left%d" % i}, fds=1) == return_line()
            assert p.cmd("netdev_add", {"type": "tap", "id": "left%d" % i, "fd": "left%d" % i}) == return_line()
            assert p.cmd("query-status", fds=2).startswith('{"return"')  # passed, never used
            left.append("left%d" % i)
            p.client.close()
            p = Passer(d.negotiated(version=version), marker)
            assert marker_count(d.pid, marker) == len(left)
    # A failed netdev_add consumes what it took (QEMU closes it).
    assert p.cmd("getfd", {"fdname": "bad"}, fds=1) == return_line()
    assert '"error"' in p.cmd("netdev_add", {"type": "tap", "id": "bad", "fd": "bad", "vhost": False,
                                              "vhostfd": "nope"})
    assert marker_count(d.pid, marker) == len(left)
    for name in left:
        assert p.cmd("netdev_del", {"id": name}) == return_line()
    assert marker_count(d.pid, marker) == 0
    assert total_count(d.pid) == baseline


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_netdev_del_of_a_nics_netdev(start_daemon, marker, version):  # noqa: F811
    """netdev_del while the NIC exists: 7.2 closes the tap at once, 10.0 when the NIC is gone."""
    d, m, c = start(start_daemon, version)
    p = Passer(m, marker)
    assert p.cmd("getfd", {"fdname": "tap0"}, fds=1) == return_line()
    assert p.cmd("netdev_add", {"type": "tap", "id": "hostnet0", "fd": "tap0"}) == return_line()
    nic = {"driver": "virtio-net-pci", "netdev": "hostnet0", "id": "net0", "bus": "pci.1"}
    assert p.cmd("device_add", nic) == return_line()
    advance(c, 100)
    assert_event(m.line(), "X_DEVICE_ON", NET0)
    assert p.cmd("netdev_del", {"id": "hostnet0"}) == return_line()
    assert marker_count(d.pid, marker) == (0 if version == "7.2.0" else 1)
    assert p.cmd("device_del", {"id": "net0"}) == return_line()
    advance(c, 6000)
    assert_event(m.line(), "DEVICE_DELETED", NET0_BACKEND)
    assert_event(m.line(), "DEVICE_DELETED", NET0)
    assert marker_count(d.pid, marker) == 0


def test_govmm_nic_flow_arguments(start_daemon, marker):  # noqa: F811
    """Kata govmm's ExecuteNetdevAddByFds (fds, vhost, vhostfds), ExecuteNetdevAdd (ifname, script,
    downscript, queues) and ExecuteNetPCIDeviceAdd (mq, vectors, romfile, disable-modern)."""
    d = start_daemon()
    p = Passer(d.negotiated(), marker)
    for name in ("fd0", "fd1", "vhostfd0", "vhostfd1"):
        assert p.cmd("getfd", {"fdname": name}, fds=1) == return_line()
    assert p.cmd("netdev_add", {"type": "tap", "id": "br0", "fds": "fd0:fd1", "vhost": True,
                                "vhostfds": "vhostfd0:vhostfd1"}) == return_line()
    assert p.cmd("netdev_add", {"type": "tap", "id": "br1", "ifname": "tap1", "downscript": "no",
                                "script": "no", "queues": 4}) == return_line()
    assert p.cmd("device_add", {"id": "virtio-br0", "driver": "virtio-net-pci", "netdev": "br0",
                                "mac": "01:02:de:ad:be:ef", "bus": "pci.1", "addr": "0x0", "romfile": "",
                                "mq": "on", "vectors": 6, "disable-modern": False}) == return_line()
    assert marker_count(d.pid, marker) == 4
    assert json.loads(p.cmd("qom-get", {"path": "/machine/peripheral/virtio-br0", "property": "netdev"})) == {
        "return": "br0"}
