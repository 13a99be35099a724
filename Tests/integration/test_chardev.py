"""Character devices over real sockets: the OS side of `chardev-add`. A `socket` server really
listens and accepts, a client really connects to a listener the test opened, a `pty` is a real
terminal, a `file` is created; `chardev-remove` closes everything and removes a server's socket file
(as QEMU does), and after many add/remove cycles the daemon's /proc/PID/fd is back at its baseline.

Texts and filename forms are compared with real QEMU by the `chardev-*` conformance scenarios."""
from __future__ import annotations

import json
import os
import socket

import pytest

CYCLES = 300


def fd_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def add(conn, cid: str, backend: dict) -> dict:
    reply = json.loads(conn.cmd("chardev-add", {"id": cid, "backend": backend}))
    assert "return" in reply, reply
    return reply["return"]


def remove(conn, cid: str) -> None:
    assert json.loads(conn.cmd("chardev-remove", {"id": cid})) == {"return": {}}


def unix(path: str, server: bool) -> dict:
    return {"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": path}}, "server": server}}


def filename(conn, cid: str) -> str:
    listing = json.loads(conn.cmd("query-chardev"))["return"]
    return next(c["filename"] for c in listing if c["label"] == cid)


def wait_filename(conn, cid: str, expected: str, attempts: int = 2000) -> None:
    """Asks query-chardev until the daemon's queue has seen the peer come or go (each answer is a
    round trip through that queue: no sleeping)."""
    for _ in range(attempts):
        if filename(conn, cid) == expected:
            return
    assert filename(conn, cid) == expected


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_server_accepts_and_client_connects(start_daemon, workdir, version):
    d = start_daemon("--qemu-version", version)
    conn = d.negotiated(version=version)
    path = os.path.join(workdir, "srv.sock")
    add(conn, "srv", unix(path, True))
    assert filename(conn, "srv") == "disconnected:unix:%s,server=on" % path
    peer = socket.socket(socket.AF_UNIX)
    peer.settimeout(5)
    peer.connect(path)
    wait_filename(conn, "srv", "unix:%s,server=on" % path)
    peer.sendall(b"x" * 100_000)  # read and discarded; never blocks the daemon
    assert json.loads(conn.cmd("query-status"))["return"]["running"] is True
    peer.close()
    wait_filename(conn, "srv", "disconnected:unix:%s,server=on" % path)

    listener = socket.socket(socket.AF_UNIX)
    lpath = os.path.join(workdir, "ours.sock")
    listener.bind(lpath)
    listener.listen(1)
    listener.settimeout(5)
    add(conn, "cli", unix(lpath, False))
    accepted, _ = listener.accept()
    assert filename(conn, "cli") == ("unix:%s" % lpath if version == "10.0.0" else "unix:")
    accepted.close()
    wait_filename(conn, "cli", "disconnected:unix:%s" % lpath)
    remove(conn, "cli")
    listener.close()

    remove(conn, "srv")
    assert not os.path.exists(path)  # QEMU removes the server's socket file too


def test_pty_is_a_terminal_and_file_is_created(start_daemon, workdir):
    d = start_daemon()
    conn = d.negotiated()
    pty = add(conn, "p1", {"type": "pty", "data": {}})["pty"]
    assert pty.startswith("/dev/pts/")
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    try:
        assert os.isatty(fd)
    finally:
        os.close(fd)
    assert filename(conn, "p1") == "pty:" + pty
    out = os.path.join(workdir, "serial.log")
    add(conn, "f1", {"type": "file", "data": {"out": out}})
    assert os.path.isfile(out)
    remove(conn, "p1")
    remove(conn, "f1")


def test_cycles_return_to_baseline_and_exit_removes_sockets(start_daemon, workdir):
    d = start_daemon()
    conn = d.negotiated()
    baseline = fd_count(d.pid)
    srv = os.path.join(workdir, "cyc.sock")
    out = os.path.join(workdir, "cyc.log")
    for i in range(CYCLES):
        add(conn, "s", unix(srv, True))
        add(conn, "c", unix(srv, False))  # connects to our own server, which accepts it
        add(conn, "p", {"type": "pty", "data": {}})
        add(conn, "f", {"type": "file", "data": {"out": out, "append": True}})
        add(conn, "r", {"type": "ringbuf", "data": {"size": 16}})
        bad = json.loads(conn.cmd("chardev-add", {"id": "b", "backend": unix(srv + ".missing", False)}))
        assert "error" in bad
        if i % 50 == 0:
            peer = socket.socket(socket.AF_UNIX)
            peer.connect(srv)  # waits in the backlog: the chardev holds one client at a time
            peer.close()
        for cid in ("c", "s", "p", "f", "r"):
            remove(conn, cid)
        assert not os.path.exists(srv)
    assert fd_count(d.pid) == baseline
    add(conn, "last", unix(srv, True))
    assert os.path.exists(srv)
    conn.cmd("quit")
    assert d.wait_exit() == 0
    assert not os.path.exists(srv)  # closed and removed at exit, as QEMU does
