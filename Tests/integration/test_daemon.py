"""qmp-mockd as a daemon: monitor modes, several monitors, lifecycle (quit,
signals), socket handling, command line, transcript, sd_notify readiness,
robustness against misbehaving clients."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import (
    EX_CANTCREAT,
    EX_CONFIG,
    EX_OK,
    EX_TEMPFAIL,
    EX_USAGE,
    EXIT_TIMEOUT,
    START_TIMEOUT,
    Client,
    base_env,
    assert_event,
    error_line,
    greeting_regex,
    is_listening,
    socket_fd_count,
    return_line,
    wait_until,
)

RUNNING = '{"return": {"status": "running", "singlestep": false, "running": true}}'
PAUSED = '{"return": {"status": "paused", "singlestep": false, "running": false}}'
SHUTDOWN_QUIT = '{"guest": false, "reason": "host-qmp-quit"}'
SHUTDOWN_SIGNAL = '{"guest": false, "reason": "host-signal"}'


def with_id(line: str, id_json: str) -> str:
    """A return line with an id appended (QEMU order: return, id)."""
    return line[:-1] + ', "id": %s}' % id_json


# ---------------------------------------------------------------------------
# Monitor modes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode_args", [(), ("--monitor-mode", "exclusive")], ids=["default", "explicit"])
def test_exclusive_second_client_waits_for_first(start_daemon, mode_args):
    d = start_daemon(*mode_args)
    a = d.negotiated()
    # B connects at kernel level while A is attached and sends right away.
    b = d.connect()
    b.send('{"execute":"qmp_capabilities","id":"b1"}{"execute":"query-status","id":"b2"}')
    # A keeps working; an event raised now must not reach B later (B is not
    # negotiated, not even greeted, at this point).
    a.send('{"execute":"stop","id":"a1"}')
    assert_event(a.line(), "STOP")
    assert a.line() == return_line("{}", '"a1"')
    assert a.cmd("query-name", id="a2") == return_line("{}", '"a2"')
    b.assert_silent()  # no greeting, no reply while A is connected
    a.close()
    # Now B gets its greeting, then the answers to what it had already sent.
    b.greeting()
    assert b.line() == return_line("{}", '"b1"')
    assert b.line() == with_id(PAUSED, '"b2"')
    b.send('{"execute":"cont","id":"b3"}')
    assert_event(b.line(), "RESUME")
    assert b.line() == return_line("{}", '"b3"')


def test_exclusive_reconnect_gets_fresh_session(start_daemon):
    d = start_daemon()
    a = d.negotiated()
    a.close()
    b = d.connect()
    b.greeting()
    # a new connection starts in negotiation mode again
    b.send('{"execute":"query-name","id":1}')
    assert b.line() == error_line(
        "Expecting capabilities negotiation with 'qmp_capabilities'", "CommandNotFound", "1"
    )
    b.negotiate(read_greeting=False)


RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {1, 0}: close() sends a reset


def _misbehave(c: Client, style: str, greeting_read: bool = False) -> None:
    """Make client ``c`` leave in one of several ways (it is closed after)."""
    def negotiate():
        c.negotiate(read_greeting=not greeting_read)

    if style == "silent-close":
        pass  # greeting never read
    elif style == "after-negotiation":
        negotiate()
    elif style == "partial-message":
        negotiate()
        c.send(b'{"execute":"stop","id":')  # unfinished message, then gone
    elif style == "partial-message-negotiation-mode":
        c.send(b'{"execute":"qmp_capa')
    elif style == "unread-replies":
        c.send(b'{"execute":"qmp_capabilities"}' + b'{"execute":"query-commands"}' * 50)
    elif style == "reset":
        negotiate()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST)
    elif style == "partial-message-reset":
        negotiate()
        c.send(b'{"execute":"query-name","arguments":{"x":"')
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST)
    else:
        raise ValueError(style)
    c.close()


LEAVE_STYLES = [
    "silent-close",
    "after-negotiation",
    "partial-message",
    "partial-message-negotiation-mode",
    "unread-replies",
    "reset",
    "partial-message-reset",
]


@pytest.mark.parametrize("style", LEAVE_STYLES)
def test_exclusive_next_client_served_after_disconnect(start_daemon, style):
    """However the first client leaves, the waiting one gets its greeting
    and a fresh session (pending input of the old one is discarded)."""
    d = start_daemon()
    for i in range(20):  # repeated: how EOF and data interleave is timing-dependent
        a = d.connect()
        b = d.connect()  # queued behind A
        _misbehave(a, style)
        b.greeting()
        b.send(b'{"execute":"qmp_capabilities","id":"fresh"}')
        assert b.line() == return_line("{}", '"fresh"'), "round %d" % i
        assert b.cmd("query-status") == RUNNING  # a half-sent stop never ran
        b.close()


def test_shared_mode_closed_sessions_are_released(start_daemon):
    """Every way of leaving frees the session (no leaked sockets)."""
    d = start_daemon("--monitor-mode", "shared")
    good = d.negotiated()
    assert good.cmd("query-name") == return_line()
    baseline = socket_fd_count(d.pid)
    for style in LEAVE_STYLES * 3:  # repeated: the interleaving of data and EOF varies
        c = d.connect()
        c.greeting()  # shared mode: greeted at once
        _misbehave(c, style, greeting_read=True)
    assert good.cmd("query-name", id=1) == return_line("{}", "1")
    wait_until(
        lambda: socket_fd_count(d.pid) == baseline,
        5.0,
        "qmp-mockd to release the %d closed sessions (socket fds %d, baseline %d)"
        % (3 * len(LEAVE_STYLES), socket_fd_count(d.pid), baseline),
    )
    assert good.cmd("query-status") == RUNNING


def test_shared_mode_concurrent_sessions_all_get_events(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    a = d.connect()
    b = d.connect()
    c = d.connect()
    for x in (a, b, c):
        x.greeting()  # all greeted at once
    for x in (c, b, a):
        x.negotiate(read_greeting=False)
    a.send('{"execute":"stop","id":"a"}')
    assert_event(a.line(), "STOP")
    assert a.line() == return_line("{}", '"a"')
    assert_event(b.line(), "STOP")
    assert_event(c.line(), "STOP")
    # run state is shared
    assert b.cmd("query-status") == PAUSED
    c.send('{"execute":"cont","id":"c"}')
    assert_event(c.line(), "RESUME")
    assert c.line() == return_line("{}", '"c"')
    assert_event(a.line(), "RESUME")
    assert_event(b.line(), "RESUME")
    # sessions are independent: a closed session does not affect the others
    b.close()
    assert a.cmd("query-name", id=1) == return_line("{}", "1")
    assert c.cmd("query-name", id=2) == return_line("{}", "2")


def test_shared_mode_replies_go_only_to_the_requester(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    a = d.negotiated()
    b = d.negotiated()
    a.send('{"execute":"query-name","id":"for-a"}')
    b.send('{"execute":"query-name","id":"for-b"}')
    assert a.line() == return_line("{}", '"for-a"')
    assert b.line() == return_line("{}", '"for-b"')
    a.send(b"\x01")  # parse error on A only
    assert a.line() == error_line(r"JSON parse error, stray '\u0001'")
    assert b.cmd("query-name", id="b2") == return_line("{}", '"b2"')
    a.assert_silent(0.05)
    b.assert_silent(0.05)


# ---------------------------------------------------------------------------
# Several monitors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["exclusive", "shared"])
def test_two_monitors_are_independent_and_share_events(start_daemon, mode):
    d = start_daemon("--monitor-mode", mode, qmp=("a.sock", "b.sock"))
    a = d.connect(0)
    b = d.connect(1)
    a.greeting()
    b.greeting()  # each monitor greets its own client, even in exclusive mode
    a.negotiate(read_greeting=False)
    # B is still in negotiation mode: its own state, and no event for it
    b.send('{"execute":"query-status","id":"b0"}')
    assert b.line() == error_line(
        "Expecting capabilities negotiation with 'qmp_capabilities'", "CommandNotFound", '"b0"'
    )
    a.send('{"execute":"stop","id":"a1"}')
    assert_event(a.line(), "STOP")
    assert a.line() == return_line("{}", '"a1"')
    b.send('{"execute":"qmp_capabilities","id":"b1"}')
    assert b.line() == return_line("{}", '"b1"')  # STOP was not queued for B
    assert b.cmd("query-status") == PAUSED  # one VM behind both monitors
    # an event caused on B reaches A
    b.send('{"execute":"cont","id":"b2"}')
    assert_event(b.line(), "RESUME")
    assert b.line() == return_line("{}", '"b2"')
    assert_event(a.line(), "RESUME")
    # closing one monitor's client does not affect the other
    b.close()
    assert a.cmd("query-status") == RUNNING


# ---------------------------------------------------------------------------
# quit, signals
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("id_json", [None, '"q"'], ids=["no-id", "id"])
def test_quit(start_daemon, id_json):
    d = start_daemon("--monitor-mode", "shared", qmp=("a.sock", "b.sock"))
    d.expect_exit = True
    a = d.negotiated(0)
    b = d.negotiated(1)
    pending = d.connect(0)  # connected, not negotiated
    pending.greeting()
    a.send('{"execute":"quit"%s}' % ("" if id_json is None else ',"id":' + id_json))
    assert_event(a.line(), "SHUTDOWN", SHUTDOWN_QUIT)
    assert a.line() == return_line("{}", id_json)
    a.expect_eof()
    assert_event(b.line(), "SHUTDOWN", SHUTDOWN_QUIT)
    b.expect_eof()
    pending.expect_eof()  # no event for a session in negotiation mode
    assert d.wait_exit() == EX_OK
    for p in d.sockets:
        assert not os.path.exists(p), "socket file %s left behind after quit" % p


def test_quit_exclusive_with_waiting_client(start_daemon):
    d = start_daemon()
    d.expect_exit = True
    a = d.negotiated()
    waiting = d.connect()
    a.send('{"execute":"quit"}')
    assert_event(a.line(), "SHUTDOWN", SHUTDOWN_QUIT)
    assert a.line() == return_line()
    a.expect_eof()
    assert d.wait_exit() == EX_OK
    assert not os.path.exists(d.sockets[0])
    # the queued client is never served: at most a greeting, then EOF
    rest = waiting.read_to_eof()
    if rest:
        lines = rest.split(b"\r\n")
        assert len(lines) == 2 and lines[1] == b"", rest
        assert greeting_regex(8, 2, 0).fullmatch(lines[0].decode("ascii")), rest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shutdown_shared(start_daemon, sig):
    d = start_daemon("--monitor-mode", "shared")
    d.expect_exit = True
    a = d.negotiated()
    b = d.negotiated()
    pending = d.connect()
    pending.greeting()
    # synchronise: all three sessions are known to the daemon
    assert a.cmd("query-name") == return_line()
    pending.send('{"execute":"query-name","id":"p"}')
    assert pending.line().startswith('{"id": "p", "error"')
    d.signal(sig)
    assert_event(a.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    a.expect_eof()
    assert_event(b.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    b.expect_eof()
    pending.expect_eof()
    assert d.wait_exit() == EX_OK
    assert not os.path.exists(d.sockets[0]), "socket file left behind after %s" % sig.name


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shutdown_two_monitors(start_daemon, sig):
    d = start_daemon(qmp=("a.sock", "b.sock"))
    d.expect_exit = True
    a = d.negotiated(0)
    b = d.negotiated(1)
    d.signal(sig)
    assert_event(a.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    a.expect_eof()
    assert_event(b.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    b.expect_eof()
    assert d.wait_exit() == EX_OK
    for p in d.sockets:
        assert not os.path.exists(p), "socket file %s left behind after %s" % (p, sig.name)


def test_sigterm_without_clients(start_daemon):
    d = start_daemon(qmp=("a.sock", "b.sock"))
    d.expect_exit = True
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == EX_OK
    for p in d.sockets:
        assert not os.path.exists(p)


# ---------------------------------------------------------------------------
# Socket files
# ---------------------------------------------------------------------------
def test_live_socket_of_other_daemon_is_not_replaced(start_daemon):
    first = start_daemon("--name", "first")
    path = first.sockets[0]
    inode = os.stat(path).st_ino
    second = start_daemon("--name", "second", wait=False)
    second.expect_exit = True
    assert second.wait_exit() == EX_TEMPFAIL
    assert os.stat(path).st_ino == inode, "socket file was replaced"
    assert first.alive()
    assert is_listening(first.pid, path)
    c = first.negotiated()
    assert c.cmd("query-name") == return_line('{"name": "first"}')


def test_live_socket_of_foreign_listener_is_not_replaced(start_daemon, workdir):
    path = os.path.join(workdir, "foreign.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    try:
        inode = os.stat(path).st_ino
        d = start_daemon(qmp=("foreign.sock",), wait=False)
        d.expect_exit = True
        assert d.wait_exit() == EX_TEMPFAIL
        assert os.stat(path).st_ino == inode
        # the foreign listener still gets connections
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(5)
        probe.connect(path)
        listener.settimeout(5)
        peer, _ = listener.accept()
        peer.close()
        probe.close()
    finally:
        listener.close()


def test_stale_socket_file_is_replaced(start_daemon, workdir):
    path = os.path.join(workdir, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays, nobody listens
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    with pytest.raises(ConnectionRefusedError):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        finally:
            probe.close()
    d = start_daemon(qmp=("stale.sock",))
    c = d.negotiated()
    assert c.cmd("query-status") == RUNNING


def test_default_socket_in_cwd(start_daemon, workdir):
    d = start_daemon(qmp=())  # no --qmp at all
    expected = os.path.join(workdir, "qmp.sock")
    assert d.sockets == [expected]
    wait_until(lambda: "qmp.sock" in d.stderr_text(), START_TIMEOUT, "stderr to mention qmp.sock")
    c = d.negotiated()
    assert c.cmd("query-status") == RUNNING
    d.expect_exit = True
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == EX_OK
    assert not os.path.exists(expected)


def test_socket_mode_default_0600(start_daemon):
    d = start_daemon()
    mode = stat.S_IMODE(os.stat(d.sockets[0]).st_mode)
    assert mode == 0o600, oct(mode)


@pytest.mark.parametrize("mode", ["0660", "0640", "660", "0666"])
def test_socket_mode_option(start_daemon, mode):
    d = start_daemon("--socket-mode", mode, qmp=("a.sock", "b.sock"))
    for p in d.sockets:
        got = stat.S_IMODE(os.stat(p).st_mode)
        assert got == int(mode, 8), "%s: %s" % (p, oct(got))
    d.negotiated()


# ---------------------------------------------------------------------------
# Command line and exit codes
# ---------------------------------------------------------------------------
USAGE_ERRORS = [
    ["--bogus"],
    ["--paused=yes"],
    ["--time-scale", "0"],
    ["--max-outbound", "lots"],
    ["--clock", "--paused"],
    ["--qemu-version", "9.9.9"],
    ["--qemu-version", "8.2"],
    ["--qemu-version"],
    ["--monitor-mode", "bogus"],
    ["--log-level", "verbose"],
    ["--socket-mode", "0999"],
    ["--socket-mode", "rw"],
    ["--qmp"],
    ["extra-positional-argument"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a) for a in USAGE_ERRORS])
def test_usage_errors_exit_64(start_daemon, workdir, args):
    sock = os.path.join(workdir, "u.sock")
    argv = args if args == ["--qmp"] else ["--qmp", sock, *args]
    rc, err = start_daemon.run_to_exit(*argv)
    assert rc == EX_USAGE, "exit status %s for %s; stderr:\n%s" % (rc, argv, err)
    assert err.strip(), "usage error without a message on stderr"
    assert not os.path.exists(sock), "socket created despite a usage error"
    assert not os.path.exists(os.path.join(workdir, "qmp.sock"))


def test_transcript_cannot_be_opened_exit_78(start_daemon, workdir):
    sock = os.path.join(workdir, "t.sock")
    rc, err = start_daemon.run_to_exit(
        "--qmp", sock, "--transcript", os.path.join(workdir, "no-such-dir", "t.jsonl")
    )
    assert rc == EX_CONFIG, "exit status %s; stderr:\n%s" % (rc, err)
    assert err.strip()
    assert not os.path.exists(sock), "socket left behind after a configuration error"


def test_bind_failure_exit_73(start_daemon, workdir):
    missing = os.path.join(workdir, "no-such-dir", "x.sock")
    rc, err = start_daemon.run_to_exit("--qmp", missing)
    assert rc == EX_CANTCREAT, "exit status %s; stderr:\n%s" % (rc, err)
    assert err.strip()


@pytest.mark.parametrize("level", ["trace", "debug", "info", "notice", "warning", "error", "critical"])
def test_log_levels_accepted(start_daemon, level):
    d = start_daemon("--log-level", level)
    c = d.negotiated()
    assert c.cmd("query-status") == RUNNING


def _clean_run_stderr(start_daemon, level: str) -> tuple[str, str]:
    d = start_daemon("--log-level", level, qmp=("log-%s.sock" % level,))
    d.expect_exit = True
    c = d.negotiated()
    c.send('{"execute":"stop"}')
    c.lines(2)
    c.close()
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == EX_OK
    with open(d.stdout_path, errors="replace") as f:
        return d.stderr_text(), f.read()


def test_logs_go_to_stderr_and_follow_the_level(start_daemon):
    err = {}
    for level in ("debug", "info", "critical"):
        err[level], out = _clean_run_stderr(start_daemon, level)
        assert out == "", "qmp-mockd wrote to stdout with --log-level %s: %r" % (level, out[:500])
    assert err["info"].strip(), "nothing logged on stderr at the default-ish level info"
    assert len(err["debug"].splitlines()) > len(err["info"].splitlines()), (err["debug"], err["info"])
    assert err["critical"] == "", "a clean run logged at --log-level critical: %r" % err["critical"]


# ---------------------------------------------------------------------------
# Transcript
# ---------------------------------------------------------------------------
def _read_transcript(path: str) -> list[dict]:
    entries = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), "transcript line %d not newline-terminated" % n
            e = json.loads(line)
            assert isinstance(e, dict), line
            for key in ("time", "dir", "session", "socket", "message"):
                assert key in e, "transcript line %d lacks %r: %r" % (n, key, line)
            assert isinstance(e["time"], float), line
            assert e["dir"] in ("c2s", "s2c"), line
            assert isinstance(e["session"], int) and not isinstance(e["session"], bool) and e["session"] >= 1, line
            assert isinstance(e["socket"], str), line
            assert isinstance(e["message"], str), line
            entries.append(e)
    return entries


def _check_session(entries: list[dict], expected: list[tuple[str, object]]):
    """expected: ("s2c", exact line) or ("c2s", parsed JSON value)."""
    got = []
    for e in entries:
        if e["dir"] == "s2c":
            assert not e["message"].endswith(("\r\n", "\n")), e
            got.append(("s2c", e["message"]))
        else:
            got.append(("c2s", json.loads(e["message"])))
    assert got == expected
    times = [e["time"] for e in entries]
    assert times == sorted(times), "transcript times go backwards within a session"


def test_transcript_file(start_daemon, workdir):
    tpath = os.path.join(workdir, "transcript.jsonl")
    t0 = time.time()
    d = start_daemon("--transcript", tpath)
    d.expect_exit = True
    sock = d.sockets[0]

    c1 = d.connect()
    greeting1 = c1.greeting()
    c1.send('{"execute":"qmp_capabilities"}')
    r1 = c1.line()
    c1.send('{"execute":"query-name","id":1}{"execute":"query-status","id":2}')  # one write, two messages
    r2, r3 = c1.lines(2)
    c1.send('{"execute":"stop","id":"s"}')
    ev, r4 = c1.lines(2)
    c1.close()

    c2 = d.connect()
    greeting2 = c2.greeting()
    c2.send('{"execute":"qmp_capabilities","id":"two"}')
    r5 = c2.line()
    c2.send('{"execute":"quit"}')
    ev2, r6 = c2.lines(2)
    c2.expect_eof()
    assert d.wait_exit() == EX_OK
    t1 = time.time()

    entries = _read_transcript(tpath)
    for e in entries:
        assert e["socket"] == sock, e
        assert t0 - 1 <= e["time"] <= t1 + 1, e
    sessions = sorted({e["session"] for e in entries})
    assert sessions == [1, 2], sessions
    _check_session([e for e in entries if e["session"] == 1], [
        ("s2c", greeting1),
        ("c2s", {"execute": "qmp_capabilities"}),
        ("s2c", r1),
        ("c2s", {"execute": "query-name", "id": 1}),
        ("s2c", r2),
        ("c2s", {"execute": "query-status", "id": 2}),
        ("s2c", r3),
        ("c2s", {"execute": "stop", "id": "s"}),
        ("s2c", ev),
        ("s2c", r4),
    ])
    _check_session([e for e in entries if e["session"] == 2], [
        ("s2c", greeting2),
        ("c2s", {"execute": "qmp_capabilities", "id": "two"}),
        ("s2c", r5),
        ("c2s", {"execute": "quit"}),
        ("s2c", ev2),
        ("s2c", r6),
    ])
    # session 1 ended before session 2 began (exclusive mode)
    last1 = max(e["time"] for e in entries if e["session"] == 1)
    first2 = min(e["time"] for e in entries if e["session"] == 2)
    assert last1 <= first2


def test_transcript_two_monitors(start_daemon, workdir):
    tpath = os.path.join(workdir, "t2.jsonl")
    d = start_daemon("--transcript", tpath, qmp=("a.sock", "b.sock"))
    d.expect_exit = True
    a = d.connect(0)
    ga = a.greeting()
    a.negotiate(read_greeting=False)
    b = d.connect(1)
    gb = b.greeting()
    b.negotiate(read_greeting=False)
    a.send('{"execute":"stop"}')
    ev_a, ret_a = a.lines(2)
    ev_b = b.line()
    d.signal(signal.SIGTERM)
    sa = a.line()
    sb = b.line()
    assert_event(sa, "SHUTDOWN", SHUTDOWN_SIGNAL)
    assert_event(sb, "SHUTDOWN", SHUTDOWN_SIGNAL)
    a.expect_eof()
    b.expect_eof()
    assert d.wait_exit() == EX_OK

    entries = _read_transcript(tpath)
    by_socket = {}
    for e in entries:
        by_socket.setdefault(e["socket"], []).append(e)
    assert sorted(by_socket) == sorted(d.sockets)
    for path in d.sockets:
        assert len({e["session"] for e in by_socket[path]}) == 1, by_socket[path]
    _check_session(by_socket[d.sockets[0]], [
        ("s2c", ga), ("c2s", {"execute": "qmp_capabilities"}), ("s2c", '{"return": {}}'),
        ("c2s", {"execute": "stop"}), ("s2c", ev_a), ("s2c", ret_a), ("s2c", sa),
    ])
    _check_session(by_socket[d.sockets[1]], [
        ("s2c", gb), ("c2s", {"execute": "qmp_capabilities"}), ("s2c", '{"return": {}}'),
        ("s2c", ev_b), ("s2c", sb),
    ])


# ---------------------------------------------------------------------------
# sd_notify readiness
# ---------------------------------------------------------------------------
def test_notify_socket_ready_only_when_all_sockets_accept(start_daemon, workdir):
    npath = os.path.join(workdir, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(npath)
    try:
        env = base_env()
        env["NOTIFY_SOCKET"] = npath
        d = start_daemon("--monitor-mode", "exclusive", qmp=("a.sock", "b.sock"), env=env, wait=False)
        deadline = time.monotonic() + START_TIMEOUT
        datagrams = []
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no READY=1 within %.0f s; got %r%s" % (START_TIMEOUT, datagrams, d.describe())
            ready, _, _ = select.select([notify], [], [], left)
            if not ready:
                continue
            data = notify.recv(65536)
            datagrams.append(data)
            if b"READY=1" in data.split(b"\n"):
                break
        # At this very moment every QMP socket must accept and greet.
        for i in range(len(d.sockets)):
            c = Client(d.sockets[i], d, connect_timeout=1.0)
            d.clients.append(c)
            c.greeting()
        assert d.alive()
    finally:
        notify.close()


# ---------------------------------------------------------------------------
# Misbehaving clients
# ---------------------------------------------------------------------------
def _blast(sock: socket.socket, payload: bytes, timeout: float = 20.0) -> None:
    """Send payload while draining whatever the daemon answers (so neither
    side blocks), then return without reading the rest."""
    sock.setblocking(False)
    view = memoryview(payload)
    deadline = time.monotonic() + timeout
    while view:
        left = deadline - time.monotonic()
        assert left > 0, "could not send %d bytes within %.0f s" % (len(payload), timeout)
        r, w, _ = select.select([sock], [sock], [], left)
        if r:
            try:
                if not sock.recv(1 << 16):
                    return  # daemon closed on us: acceptable
            except (BlockingIOError, InterruptedError):
                pass
            except (ConnectionResetError, BrokenPipeError):
                return
        if w:
            try:
                n = sock.send(view[: 1 << 16])
                view = view[n:]
            except (BlockingIOError, InterruptedError):
                pass
            except (ConnectionResetError, BrokenPipeError):
                return


def test_misbehaving_clients_do_not_disturb_a_shared_session(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    good = d.negotiated()
    assert good.cmd("query-status", id=0) == with_id(RUNNING, "0")

    # 1. a client that disconnects in the middle of a message
    x = d.connect()
    x.greeting()
    x.negotiate(read_greeting=False)
    x.send(b'{"execute":"stop","arguments":{"a":"half')
    x.close()
    assert good.cmd("query-status", id=1) == with_id(RUNNING, "1")

    # 2. a client that sends 1 MiB of random bytes, reads some of the noise,
    #    then closes with replies still pending
    y = d.connect()
    y.greeting()
    y.negotiate(read_greeting=False)
    payload = random.Random(20241125).randbytes(1 << 20)
    _blast(y.sock, payload)
    assert good.cmd("query-name", id=2) == return_line("{}", "2")
    y.close()

    # 3. the same, in negotiation mode, with an abrupt reset (SO_LINGER 0)
    z = d.connect()
    z.greeting()
    _blast(z.sock, random.Random(7).randbytes(1 << 18))
    z.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    z.close()

    # the good session is intact: exact replies, events still flow, nothing stray
    good.send('{"execute":"stop","id":3}')
    assert_event(good.line(), "STOP")
    assert good.line() == return_line("{}", "3")
    good.send('{"execute":"cont","id":4}')
    assert_event(good.line(), "RESUME")
    assert good.line() == return_line("{}", "4")
    assert good.cmd("query-status", id=5) == with_id(RUNNING, "5")
    good.assert_silent(0.05)
    assert d.alive(), d.describe()
    # and new clients are still served
    n = d.negotiated()
    assert n.cmd("query-name", id=6) == return_line("{}", "6")


def test_client_vanishing_without_reading_greeting(start_daemon):
    d = start_daemon()
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.sockets[0])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    c = d.negotiated()
    assert c.cmd("query-status") == RUNNING
    assert d.alive()


def test_help_and_version_exit_0(mockd_binary):
    out = subprocess.run([mockd_binary, "--help"], capture_output=True, text=True, timeout=EXIT_TIMEOUT)
    assert out.returncode == 0 and out.stdout.startswith("OVERVIEW: ")
    for flag in ("--qmp", "--control", "--monitor-mode", "--qemu-version", "--max-message-size", "EXIT CODES"):
        assert flag in out.stdout
    out = subprocess.run([mockd_binary, "--version"], capture_output=True, text=True, timeout=EXIT_TIMEOUT)
    assert out.returncode == 0 and out.stdout.strip()


def test_option_equals_value_form(start_daemon):
    d = start_daemon("--name=vm-eq", "--monitor-mode=shared")
    c = d.negotiated()
    assert c.cmd("query-name") == return_line('{"name": "vm-eq"}')
