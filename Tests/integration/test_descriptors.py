"""Descriptor passing over real sockets: `getfd`/`closefd`, `add-fd`/`remove-fd`/`query-fdsets`, and
the daemon's own accounting. Every descriptor a client passes is counted in the daemon's
/proc/PID/fd by what it points at (a marker file of the test's), so a leak of one shows.

The rules themselves (texts, orders, lifetimes on 7.2 and 10.0) are compared with real QEMU by
the conformance scenarios `descriptors-*`; here: no leak over many cycles and disconnects, a flood
of descriptors stays bounded, the limit answers and leaves other sessions alone."""
from __future__ import annotations

import json
import os
import socket

import pytest

from conftest import error_line, return_line

CYCLES = 10_000
BATCH = 100  # cycles whose commands go out in one burst (each message with its own descriptors)


def marker_count(pid: int, marker: str) -> int:
    """How many of the daemon's descriptors point at `marker`."""
    count = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == marker:
                count += 1
        except OSError:
            pass  # closed while we looked
    return count


def total_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


class Passer:
    """Sends QMP messages with descriptors of the marker file (closed here once sent)."""

    def __init__(self, client, marker: str):
        self.client = client
        self.marker = marker

    def send(self, command: str, arguments: dict | None = None, fds: int = 0) -> None:
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        data = json.dumps(msg).encode()
        if not fds:
            self.client.sock.sendall(data)
            return
        passed = [os.open(self.marker, os.O_RDONLY | os.O_CLOEXEC) for _ in range(fds)]
        try:
            assert socket.send_fds(self.client.sock, [data], passed) == len(data)
        finally:
            for fd in passed:
                os.close(fd)

    def cmd(self, command: str, arguments: dict | None = None, fds: int = 0) -> str:
        self.send(command, arguments, fds)
        return self.client.line()


@pytest.fixture
def marker(workdir):
    path = os.path.join(workdir, "passed-descriptor")
    with open(path, "w") as f:
        f.write("a descriptor a client passes\n")
    return path


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_cycles_and_disconnects_return_to_baseline(start_daemon, marker, version):
    """10,000 cycles of getfd/closefd and add-fd/remove-fd, with descriptors passed and never used,
    and clients that leave midway holding names, fd sets and unused descriptors: the daemon's
    descriptors come back to their baseline once the leftovers are closed."""
    d = start_daemon("--qemu-version", version)
    c = Passer(d.negotiated(version=version), marker)
    baseline = total_count(d.pid)
    assert marker_count(d.pid, marker) == 0
    left_names: list[str] = []
    done = 0
    while done < CYCLES:
        for i in range(done, done + BATCH):
            c.send("getfd", {"fdname": "n%d" % i}, fds=1)
            c.send("closefd", {"fdname": "n%d" % i})
            c.send("add-fd", {"fdset-id": 1000, "opaque": "cycle"}, fds=1)
            c.send("remove-fd", {"fdset-id": 1000})
        c.send("query-status", fds=3)  # passed and never used: closed with the connection
        replies = c.client.lines(4 * BATCH + 1)
        assert replies[:2] == [return_line(), return_line()], replies[:2]
        assert all('"error"' not in r for r in replies), [r for r in replies if '"error"' in r][:3]
        done += BATCH
        if done % (10 * BATCH) == 0:
            # Leave midway, holding a name, an fd set and three unused descriptors.
            name = "left%d" % done
            assert c.cmd("getfd", {"fdname": name}, fds=1) == return_line()
            assert json.loads(c.cmd("add-fd", {"opaque": name}, fds=1))["return"]["fdset-id"] >= 0
            left_names.append(name)
            assert c.cmd("query-status", fds=3).startswith('{"return"')  # passed, never used
            c.client.close()
            # Exclusive monitor: the next client is greeted only once the old one is gone.
            c = Passer(d.negotiated(version=version), marker)
    held_sets = json.loads(c.client.cmd("query-fdsets"))["return"]
    # Names live with the monitor; fd sets go with the last client on 7.2 (running VM), not on 10.0.
    assert len(held_sets) == (0 if version == "7.2.0" else len(left_names))
    assert marker_count(d.pid, marker) == len(left_names) + len(held_sets)
    for name in left_names:
        assert c.cmd("closefd", {"fdname": name}) == return_line()
    for fdset in held_sets:
        assert c.cmd("remove-fd", {"fdset-id": fdset["fdset-id"]}) == return_line()
    assert marker_count(d.pid, marker) == 0
    assert total_count(d.pid) == baseline


def test_a_flood_of_unused_descriptors_stays_bounded(start_daemon, marker):
    """Each read with descriptors replaces the unused ones before it (as QEMU's chardev does), and
    one read keeps at most 16 (the rest are closed by the kernel): a client passing thousands holds
    at most 16 in the daemon, and none once it leaves."""
    d = start_daemon()
    c = Passer(d.negotiated(), marker)
    for _ in range(2_000):
        c.send("query-status", fds=8)
    c.send("query-status", fds=40)  # more than one read takes
    c.client.lines(2_001)
    assert marker_count(d.pid, marker) == 16
    assert c.cmd("getfd", {"fdname": "one"}) == return_line()  # the first of the 16; 15 closed
    assert marker_count(d.pid, marker) == 1
    c.client.close()
    c = Passer(d.negotiated(), marker)
    assert c.cmd("closefd", {"fdname": "one"}) == return_line()
    assert marker_count(d.pid, marker) == 0


def test_the_limit_refuses_and_other_sessions_go_on(start_daemon, marker):
    d = start_daemon(qmp=("qmp.sock", "second.sock"))
    c = Passer(d.negotiated(0), marker)
    other = d.negotiated(1)
    for i in range(1024):
        c.send("getfd", {"fdname": "h%d" % i}, fds=1)
    assert c.client.lines(1024) == [return_line()] * 1024
    refused = c.cmd("getfd", {"fdname": "one-too-many"}, fds=1)
    assert refused == error_line(
        "qmp-mockd holds 1024 passed file descriptors already (its limit): close some with closefd or remove-fd")
    assert c.cmd("add-fd", fds=1).startswith('{"error"')
    assert marker_count(d.pid, marker) == 1024
    assert other.cmd("query-status").startswith('{"return"')
    assert c.cmd("closefd", {"fdname": "h0"}) == return_line()
    assert c.cmd("getfd", {"fdname": "h0"}, fds=1) == return_line()
    for i in range(1024):
        c.send("closefd", {"fdname": "h%d" % i})
    assert c.client.lines(1024) == [return_line()] * 1024
    assert marker_count(d.pid, marker) == 0


def test_errors_without_a_descriptor(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    none = error_line("No file descriptor supplied via SCM_RIGHTS")
    assert c.cmd("getfd", {"fdname": "x"}) == none
    assert c.cmd("add-fd") == none
    assert c.cmd("closefd", {"fdname": "x"}) == error_line("File descriptor named 'x' not found")
    assert c.cmd("query-fdsets") == return_line("[]")
