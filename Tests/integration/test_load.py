"""Load and faults, loopback only, bounded in count and time: 1,000 concurrent shared-mode
sessions with event fan-out, connection churn with fd/RSS back to baseline, SIGTERM under load,
SIGKILL then restart on the stale socket, and a transcript that cannot be written."""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import time

from conftest import assert_event, return_line, socket_fd_count, wait_until


def raise_fd_limit(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(n, soft), hard), hard))


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Peer:
    """A non-blocking client in a selector loop."""

    def __init__(self, path: str, index: int):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.index = index
        self.buf = b""
        self.lines: list[bytes] = []

    def pump(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            raise AssertionError("session %d closed unexpectedly" % self.index)
        self.buf += data
        while b"\r\n" in self.buf:
            line, self.buf = self.buf.split(b"\r\n", 1)
            self.lines.append(line)


def pump_until(sel, peers, done, deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        for key, _ in sel.select(timeout=0.5):
            key.data.pump()


def test_thousand_shared_sessions_with_fan_out(start_daemon):
    n = 1000
    raise_fd_limit(n + 200)
    d = start_daemon("--monitor-mode", "shared")
    path = start_daemon.path("qmp.sock")
    sel = selectors.DefaultSelector()
    peers = [Peer(path, i) for i in range(n)]
    for p in peers:
        sel.register(p.sock, selectors.EVENT_READ, p)
    pump_until(sel, peers, lambda: all(len(p.lines) >= 1 for p in peers), 30, "greetings")
    for p in peers:
        p.lines.clear()
        p.sock.sendall(b'{"execute":"qmp_capabilities","id":"caps-%d"}' % p.index)
    pump_until(sel, peers, lambda: all(len(p.lines) >= 1 for p in peers), 30, "negotiation")
    for p in peers:
        assert p.lines == [b'{"return": {}, "id": "caps-%d"}' % p.index]
        p.lines.clear()
    # Every session runs three commands while one of them makes the machine raise events for all.
    for p in peers:
        p.sock.sendall(b''.join(b'{"execute":"query-status","id":[%d,%d]}' % (p.index, k) for k in range(3)))
    peers[0].sock.sendall(b'{"execute":"stop","id":"s"}{"execute":"cont","id":"c"}')

    def complete(p):
        replies = [l for l in p.lines if not l.startswith(b'{"timestamp"')]
        events = [l for l in p.lines if l.startswith(b'{"timestamp"')]
        return len(replies) >= (5 if p.index == 0 else 3) and len(events) >= 2
    pump_until(sel, peers, lambda: all(complete(p) for p in peers), 60, "replies and events in every session")
    for p in peers:
        replies = [json.loads(l) for l in p.lines if not l.startswith(b'{"timestamp"')]
        ids = [r["id"] for r in replies if isinstance(r["id"], list)]
        assert ids == [[p.index, k] for k in range(3)], "session %d got %r" % (p.index, ids)
        events = [json.loads(l)["event"] for l in p.lines if l.startswith(b'{"timestamp"')]
        assert events == ["STOP", "RESUME"], "session %d events %r" % (p.index, events)
    for p in peers:
        p.sock.close()


def test_connection_churn_returns_fds_and_rss_to_baseline(start_daemon):
    d = start_daemon()
    path = start_daemon.path("qmp.sock")
    c = d.negotiated()
    c.close()
    wait_until(lambda: socket_fd_count(d.pid) == 1, 30, "the first session to close")
    fds0, rss0 = socket_fd_count(d.pid), rss_kib(d.pid)
    count = 100_000
    for i in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        assert s.recv(4096).startswith(b'{"QMP"')
        if i % 3 == 0:
            s.sendall(b'{"execute":"qmp_capabilities"}{"execute":"query-status"')  # leaves mid-message
        s.close()
    last = d.negotiated()
    assert last.cmd("query-name") == return_line()
    last.close()
    slow = 6 if os.environ.get("QMP_MOCKD_SANITIZER") else 1  # sanitized daemons are several times slower
    wait_until(lambda: socket_fd_count(d.pid) == fds0, 10 * slow, "socket fds back to baseline (%d)" % fds0)
    grown = rss_kib(d.pid) - rss0
    # Sanitizer runtimes keep freed memory in quarantine and histories of their own (ASan: hundreds
    # of MiB here): RSS says nothing about our leaks there, only the fd count does.
    if not os.environ.get("QMP_MOCKD_SANITIZER"):
        assert grown < 4096, "RSS grew by %d KiB over %d connections" % (grown, count)


def test_sigterm_under_load(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    clients = [d.negotiated() for _ in range(20)]
    for c in clients:
        c.send(b'{"execute":"query-status"}' * 200)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert not os.path.exists(start_daemon.path("qmp.sock"))
    for c in clients:
        tail = c.read_to_eof()
        assert b'"SHUTDOWN"' in tail and b'"host-signal"' in tail


def test_sigkill_then_restart_on_the_stale_socket(start_daemon):
    d = start_daemon()
    d.negotiated()
    d.expect_exit = True  # killed on purpose
    d.signal(signal.SIGKILL)
    d.wait_exit()
    assert os.path.exists(start_daemon.path("qmp.sock"))  # left behind
    d2 = start_daemon()
    assert d2.negotiated().cmd("query-name") == return_line()


def test_transcript_that_cannot_be_written(start_daemon):
    d = start_daemon("--transcript", "/dev/full")
    c = d.negotiated()
    for _ in range(3):
        assert c.cmd("query-name") == return_line()
    wait_until(lambda: "transcript" in d.stderr_text() and "write failed" in d.stderr_text(), 5, "the failure to be logged")
    assert d.stderr_text().count("write failed") == 1  # reported once
    assert c.cmd("query-status").startswith('{"return"')


def test_reader_that_never_reads_is_capped_and_dropped(start_daemon):
    d = start_daemon("--monitor-mode", "shared", "--max-outbound", "64K")
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(start_daemon.path("qmp.sock"))
    slow.sendall(b'{"execute":"qmp_capabilities"}')  # and never reads again
    good = d.negotiated()
    dropped = lambda: "output buffer overflow" in d.stderr_text()
    rounds = 0
    while not dropped():
        rounds += 1
        assert rounds < 20000, "the slow reader was never disconnected"
        good.send(b'{"execute":"stop"}{"execute":"cont"}')
        for _ in range(4):
            good.line()
    assert "does not read" in d.stderr_text()
    assert good.cmd("query-name") == return_line()  # the others are unaffected
    slow.close()
