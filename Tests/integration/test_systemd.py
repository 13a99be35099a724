"""qmp-mockd as a systemd service, proven against real systemd tools, not stand-ins:

* the unit files in systemd/ pass ``systemd-analyze verify`` (any output fails);
* socket activation through the real ``/usr/bin/systemd-socket-activate``: the first connection
  starts the daemon and is greeted; named fds take their roles; ``--qmp fd:N`` / ``--control fd:N``
  serve inherited sockets, which are never unlinked;
* the sd_notify protocol as a service manager receives it (READY=1 with STATUS= and MAINPID=,
  STATUS= updates rate-limited, WATCHDOG=1, STOPPING=1) and syslog priority prefixes when stderr
  is the journal;
* a real systemd user manager (``systemd --user``) started by these tests in private mount and PID
  namespaces (``systemd_user_manager.sh``): ``systemd-run --user -p Type=notify`` returns once the
  QMP socket accepts, ``systemctl --user status`` shows the STATUS= line, ``systemctl --user stop``
  sends SHUTDOWN, the .socket units activate the service on the first connection, the template
  units run one VM per instance, and with ``WatchdogSec=`` the service stays up.

Where namespaces are not permitted (not root, a locked-down container) the manager tests are
skipped with the reason, never passed. Waits are for conditions with deadlines; the only windows
are in the watchdog test, which waits for a number of watchdog pings observed by systemd itself.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (
    EX_CONFIG,
    EX_OK,
    EX_USAGE,
    EXIT_TIMEOUT,
    HERE,
    LINE_TIMEOUT,
    REPO,
    START_TIMEOUT,
    Client,
    _child_setup,
    assert_event,
    base_env,
    error_line,
    is_listening,
    return_line,
    short_tmpdir,
)

UNIT_DIR = REPO / "systemd"
UNITS = [
    "qmp-mockd.service",
    "qmp-mockd.socket",
    "qmp-mockd-control.socket",
    "qmp-mockd@.service",
    "qmp-mockd@.socket",
    "qmp-mockd-control@.socket",
]
INSTALLED_BINARY = "/usr/local/bin/qmp-mockd"
INSTALLED_CONFIG_DIR = "/etc/qmp-mock/"
SOCKET_ACTIVATE = "/usr/bin/systemd-socket-activate"
USER_MANAGER = "/lib/systemd/systemd"
HELPER = HERE / "systemd_user_manager.sh"
SHUTDOWN_SIGNAL = '{"guest": false, "reason": "host-signal"}'
INITIAL_STATUS = "%d socket%s, 0 sessions, 9 devices, 0 pending unplugs"


def status_line(sockets: int, sessions: int, devices: int, pending: int) -> str:
    def n(count, noun):
        return "%d %s%s" % (count, noun, "" if count == 1 else "s")

    return ", ".join([n(sockets, "socket"), n(sessions, "session"), n(devices, "device"),
                      n(pending, "pending unplug")])


def need(path: str) -> str:
    if not (os.path.exists(path) and os.access(path, os.X_OK)):
        pytest.skip("%s is not installed (Debian package systemd)" % path)
    return path


def control_client(path: str, daemon=None) -> Client:
    """A negotiated client on a control socket (greeting without capabilities)."""
    c = Client(path, daemon)
    greeting = json.loads(c.line())
    assert greeting["QMP"]["capabilities"] == [], greeting
    c.send({"execute": "qmp_capabilities"})
    assert c.line() == return_line()
    return c


def reply(client: Client, command: str, arguments: dict | None = None) -> str:
    """Send a command and return its reply line, skipping the events that come before it."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    client.send(msg)
    while True:
        line = client.line()
        if line.startswith(('{"return"', '{"error"')):
            return line


# ---------------------------------------------------------------------------
# The unit files
# ---------------------------------------------------------------------------
def install_units(dest: Path, binary: str, config_dir: str) -> list[Path]:
    """Copies of the units with ExecStart= pointing at the built binary (systemd-analyze verify
    checks that it exists) and the configuration directory moved to ``config_dir``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in UNITS:
        text = (UNIT_DIR / name).read_text()
        if name.endswith(".service"):
            assert "ExecStart=%s " % INSTALLED_BINARY in text, "%s: ExecStart= should run %s" % (name, INSTALLED_BINARY)
            assert INSTALLED_CONFIG_DIR in text, "%s: no configuration from %s" % (name, INSTALLED_CONFIG_DIR)
        text = text.replace(INSTALLED_BINARY, binary).replace(INSTALLED_CONFIG_DIR, config_dir.rstrip("/") + "/")
        path = dest / name
        path.write_text(text)
        out.append(path)
    return out


def analyze_verify(files) -> tuple[int, str]:
    p = subprocess.run([need("/usr/bin/systemd-analyze"), "verify", "--man=no", *map(str, files)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def test_units_pass_systemd_analyze_verify(mockd_binary, tmp_path):
    files = install_units(tmp_path / "units", mockd_binary, INSTALLED_CONFIG_DIR)
    rc, out = analyze_verify(files)
    # Unknown keys and bad values are only warnings with exit status 0: fail on any output.
    assert rc == 0 and out == "", "systemd-analyze verify (exit %d):\n%s" % (rc, out)


def test_verify_check_catches_typos(mockd_binary, tmp_path):
    """The verify test above would notice a mistake (it is not vacuous)."""
    files = install_units(tmp_path / "units", mockd_binary, INSTALLED_CONFIG_DIR)
    service = tmp_path / "units" / "qmp-mockd@.service"
    service.write_text(service.read_text().replace("WatchdogSec=", "WatchdogSecc="))
    rc, out = analyze_verify(files)
    assert "WatchdogSecc" in out, out


@pytest.mark.parametrize("name", ["qmp-mockd.service", "qmp-mockd@.service"])
def test_service_units_are_notify_and_hardened(mockd_binary, tmp_path, name):
    text = (UNIT_DIR / name).read_text()
    settings = set(line.strip() for line in text.splitlines() if "=" in line and not line.startswith("#"))
    for required in ["Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                     "PrivateTmp=yes", "PrivateDevices=yes", "RestrictAddressFamilies=AF_UNIX",
                     "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"]:
        assert required in settings, "%s lacks %s" % (name, required)
    for key in ["WatchdogSec=", "RuntimeDirectory=", "ExecStart="]:
        assert any(s.startswith(key) for s in settings), "%s lacks %s" % (name, key)
    install_units(tmp_path / "units", mockd_binary, INSTALLED_CONFIG_DIR)
    p = subprocess.run([need("/usr/bin/systemd-analyze"), "security", "--offline=true", "--no-pager",
                        str(tmp_path / "units" / name)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout)
    assert m, p.stdout + p.stderr
    # What is left: root (clients must reach the sockets; see the unit), AF_UNIX itself, and the
    # few settings that need a root directory image or a device ACL.
    assert float(m.group(1)) <= 1.0, p.stdout


# ---------------------------------------------------------------------------
# Socket activation through systemd-socket-activate
# ---------------------------------------------------------------------------
class Activator:
    """``systemd-socket-activate`` holding listening sockets; it execs qmp-mockd (same pid) on the
    first connection and passes them as LISTEN_FDS, with LISTEN_FDNAMES from ``--fdname``."""

    def __init__(self, binary: str, workdir: str, listen: list[tuple[str, str | None]], args=(), env=None):
        self.workdir = workdir
        self.paths = [p for p, _ in listen]
        argv = [need(SOCKET_ACTIVATE)]
        for path, name in listen:
            argv += ["-l", path]
            if name is not None:
                argv.append("--fdname=" + name)
        for key in (env or {}):
            argv += ["-E", key]  # it passes on nothing else of the environment
        for key in ("ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if key in os.environ and key not in (env or {}):
                argv += ["-E", key]  # sanitizer runs (make check-asan/check-tsan)
        argv += [binary, *args]
        self.stderr_path = os.path.join(workdir, "activate.stderr")
        self._err = open(self.stderr_path, "wb")
        full_env = base_env()
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, cwd=workdir, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err, preexec_fn=_child_setup)
        self.clients: list[Client] = []
        deadline = time.monotonic() + START_TIMEOUT
        while not all(is_listening(self.proc.pid, p) for p in self.paths):
            assert self.proc.poll() is None, "systemd-socket-activate exited: %s" % self.stderr()
            assert time.monotonic() < deadline, "systemd-socket-activate not listening: %s" % self.stderr()
            time.sleep(0.01)  # polling a condition with a deadline

    def stderr(self) -> str:
        return Path(self.stderr_path).read_text(errors="backslashreplace")

    def connect(self, path: str) -> Client:
        c = Client(path)
        self.clients.append(c)
        return c

    def close(self):
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()


@pytest.fixture
def activate(mockd_binary, workdir):
    started = []

    def start(listen, args=(), env=None):
        a = Activator(mockd_binary, workdir, listen, args, env)
        started.append(a)
        return a

    yield start
    for a in started:
        a.close()


def test_socket_activation_first_connection_starts_the_daemon_and_is_greeted(activate, workdir):
    qmp = os.path.join(workdir, "vm.sock")
    a = activate([(qmp, None)])
    assert "Execing" not in a.stderr()  # nothing runs before the first client
    c = a.connect(qmp).negotiate()  # this connection is what starts the daemon
    assert json.loads(c.cmd("query-status"))["return"]["status"] == "running"
    err = a.stderr()
    assert "listening on %s (exclusive monitor, inherited fd 3)" % qmp in err, err
    # Activated without --qmp: no ./qmp.sock besides the inherited socket.
    assert not os.path.exists(os.path.join(workdir, "qmp.sock"))
    a.proc.send_signal(signal.SIGTERM)
    assert_event(c.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    c.expect_eof()
    assert a.proc.wait(EXIT_TIMEOUT) == EX_OK
    # The socket is systemd's (here: systemd-socket-activate's): never unlinked.
    assert stat.S_ISSOCK(os.lstat(qmp).st_mode)


def test_named_fds_take_their_roles(activate, workdir):
    ctl, qmp, qmp2 = (os.path.join(workdir, n) for n in ("c.sock", "q.sock", "q2.sock"))
    # The control socket comes first (fd 3): roles follow names, not positions.
    a = activate([(ctl, "control"), (qmp, "qmp"), (qmp2, "qmp-2")], args=["--clock", "manual"])
    m = a.connect(qmp).negotiate()
    assert m.cmd("clock-query") == error_line("The command clock-query has not been found", "CommandNotFound")
    m2 = a.connect(qmp2).negotiate()
    m2.send({"execute": "stop"})
    assert_event(m2.line(), "STOP")
    assert m2.line() == return_line()
    assert_event(m.line(), "STOP")  # both monitors belong to one VM
    c = control_client(ctl)
    a.clients.append(c)
    assert json.loads(c.cmd("clock-query"))["return"]["mode"] == "manual"
    assert c.cmd("query-status") == error_line("The command query-status has not been found", "CommandNotFound")
    err = a.stderr()
    assert "listening on %s (control, inherited fd 3)" % ctl in err, err
    assert "listening on %s (exclusive monitor, inherited fd 4)" % qmp in err, err
    assert "listening on %s (exclusive monitor, inherited fd 5)" % qmp2 in err, err


def test_explicit_path_of_an_activated_socket_is_served_not_recreated(activate, workdir):
    """A unit's ExecStart= names its sockets' paths so it also works without the .socket unit:
    with it, those paths mean the inherited sockets (no 'in use' refusal, nothing unlinked)."""
    qmp, ctl = os.path.join(workdir, "q.sock"), os.path.join(workdir, "c.sock")
    a = activate([(qmp, "qmp"), (ctl, "control")], args=["--qmp", qmp, "--control", ctl])
    a.connect(qmp).negotiate()
    control_client(ctl).close()
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(EXIT_TIMEOUT) == EX_OK
    err = a.stderr()
    assert "%s (exclusive monitor, inherited fd 3)" % qmp in err and "%s (control, inherited fd 4)" % ctl in err, err
    assert stat.S_ISSOCK(os.lstat(qmp).st_mode) and stat.S_ISSOCK(os.lstat(ctl).st_mode)


def test_socket_unit_default_name_counts_as_unnamed(activate, workdir):
    """A .socket unit without FileDescriptorName= names its fds after itself: a QMP monitor."""
    path = os.path.join(workdir, "vm.sock")
    a = activate([(path, "qmp-mock-vm.socket")])
    a.connect(path).negotiate()
    assert "listening on %s (exclusive monitor, inherited fd 3)" % path in a.stderr()


def test_unknown_fd_name_is_a_configuration_error(activate, workdir):
    path = os.path.join(workdir, "x.sock")
    a = activate([(path, "bogus")])
    c = a.connect(path)
    c.expect_eof()
    assert a.proc.wait(EXIT_TIMEOUT) == EX_CONFIG
    assert "socket-activated fd 3 has the name 'bogus'" in a.stderr(), a.stderr()


# ---------------------------------------------------------------------------
# --qmp fd:N / --control fd:N (inherited without socket activation, as libvirt does)
# ---------------------------------------------------------------------------
def _spawn(binary, args, workdir, pass_fds=(), env=None, stderr_name="daemon.stderr"):
    err = open(os.path.join(workdir, stderr_name), "wb")
    proc = subprocess.Popen([binary, *args], cwd=workdir, env=env or base_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=err, pass_fds=pass_fds, preexec_fn=_child_setup)
    err.close()
    return proc


def _listener(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # blocking, as a parent may hand it over
    s.bind(path)
    s.listen(8)
    return s


def test_qmp_and_control_fd_serve_inherited_sockets(mockd_binary, workdir):
    qpath, cpath = os.path.join(workdir, "in.sock"), os.path.join(workdir, "ctl.sock")
    q, c = _listener(qpath), _listener(cpath)
    transcript = os.path.join(workdir, "t.jsonl")
    proc = _spawn(mockd_binary, ["--qmp", "fd:%d" % q.fileno(), "--control", "fd:%d" % c.fileno(),
                                 "--monitor-mode", "shared", "--transcript", transcript],
                  workdir, pass_fds=(q.fileno(), c.fileno()))
    q.close()
    c.close()  # the daemon holds the only copies now
    clients = []
    try:
        a = Client(qpath).negotiate()
        b = Client(qpath).negotiate()  # a second accept: the inherited fd was made non-blocking
        clients += [a, b]
        ctl = control_client(cpath)
        clients.append(ctl)
        assert json.loads(ctl.cmd("clock-query"))["return"]["mode"] == "realtime"
        proc.send_signal(signal.SIGTERM)
        assert_event(a.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
        assert_event(b.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
        assert proc.wait(EXIT_TIMEOUT) == EX_OK
    finally:
        for cl in clients:
            cl.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Never unlinked: the daemon did not create them.
    assert stat.S_ISSOCK(os.lstat(qpath).st_mode) and stat.S_ISSOCK(os.lstat(cpath).st_mode)
    # Logs and transcripts name the socket by its bound path.
    sockets = {json.loads(line)["socket"] for line in Path(transcript).read_text().splitlines()}
    assert sockets == {qpath, cpath}, sockets
    err = Path(workdir, "daemon.stderr").read_text()
    assert "listening on %s (shared monitor, inherited fd" % qpath in err, err


@pytest.mark.parametrize("kind", ["closed", "pipe", "not-listening", "datagram"])
def test_fd_that_is_not_a_listening_unix_stream_socket_is_refused(mockd_binary, workdir, kind):
    keep = []
    if kind == "closed":
        fd = 250  # not open in the child
    elif kind == "pipe":
        r, w = os.pipe()
        keep += [r, w]
        fd = r
    elif kind == "not-listening":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(workdir, "nl.sock"))
        keep.append(s)
        fd = s.fileno()
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(os.path.join(workdir, "dg.sock"))
        keep.append(s)
        fd = s.fileno()
    pass_fds = () if kind == "closed" else (fd,)
    proc = _spawn(mockd_binary, ["--qmp", "fd:%d" % fd], workdir, pass_fds=pass_fds)
    assert proc.wait(EXIT_TIMEOUT) == EX_CONFIG
    err = Path(workdir, "daemon.stderr").read_text()
    expected = "no such open file descriptor" if kind == "closed" else "not a listening Unix stream socket"
    assert "--qmp fd:%d: %s" % (fd, expected) in err, err
    assert not os.path.exists(os.path.join(workdir, "qmp.sock"))
    for k in keep:
        k.close() if isinstance(k, socket.socket) else os.close(k)


def test_fd_argument_needs_a_number(mockd_binary, workdir):
    proc = _spawn(mockd_binary, ["--control", "fd:three"], workdir)
    assert proc.wait(EXIT_TIMEOUT) == EX_USAGE
    assert "fd: must be followed by a file descriptor number" in Path(workdir, "daemon.stderr").read_text()


# ---------------------------------------------------------------------------
# sd_notify as a service manager receives it (a NOTIFY_SOCKET of our own)
# ---------------------------------------------------------------------------
class NotifyReceiver:
    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages: list[tuple[float, dict]] = []

    def receive(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        data = self.sock.recv(65536).decode()
        fields = dict(line.split("=", 1) for line in data.split("\n") if line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, predicate, what: str, timeout: float = LINE_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no notification with %s within %.0f s; got %r" % (
                what, timeout, [m for _, m in self.messages][-10:])
            fields = self.receive(left)
            if fields is not None and predicate(fields):
                return fields

    def close(self):
        self.sock.close()


@pytest.fixture
def notify(workdir):
    r = NotifyReceiver(os.path.join(workdir, "notify.sock"))
    yield r
    r.close()


def test_notify_ready_status_and_stopping(start_daemon, workdir, notify):
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    ctl_path = start_daemon.path("ctl.sock")
    d = start_daemon("--control", ctl_path, "--clock", "manual", env=env, wait=False)
    ready = notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    assert ready == {"READY": "1", "STATUS": status_line(2, 0, 9, 0), "MAINPID": str(d.pid)}, ready
    m = d.negotiated()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(2, 1, 9, 0), "1 session")
    ctl = control_client(ctl_path, d)
    d.clients.append(ctl)
    notify.wait_for(lambda f: f.get("STATUS") == status_line(2, 2, 9, 0), "2 sessions")
    assert reply(m, "device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}) == return_line()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(2, 2, 10, 0), "10 devices")
    # The slot is powered on (a raw register write, whatever the simulated guest did already), so
    # device_del presses the attention button and the unplug is pending while virtual time stands.
    assert reply(ctl, "guest-write", {"controller": "pci.1", "register": "slot-control", "value": 0x1C0}) == (
        return_line())
    assert reply(m, "device_del", {"id": "net0"}) == return_line()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(2, 2, 10, 1), "1 pending unplug")
    # Past the 5 s window the unplug is no longer pending (the guest may also have completed it).
    assert json.loads(reply(ctl, "clock-advance", {"ms": 6000}))["return"]["now-ns"] == 6_000_000_000
    notify.wait_for(lambda f: f.get("STATUS") in (status_line(2, 2, 10, 0), status_line(2, 2, 9, 0)),
                    "no pending unplug")
    d.signal(signal.SIGTERM)
    stopping = notify.wait_for(lambda f: "STOPPING" in f, "STOPPING=1")
    assert stopping == {"STOPPING": "1", "STATUS": "shutting down: signal 15"}, stopping
    assert d.wait_exit() == EX_OK
    assert not any("WATCHDOG" in f for _, f in notify.messages)  # no WATCHDOG_USEC, no pings


def _maps_libsystemd(pid: int) -> bool:
    with open("/proc/%d/maps" % pid) as maps:
        return any("libsystemd.so" in line for line in maps)


def test_libsystemd_is_loaded_only_for_a_service_manager(start_daemon, notify):
    """libsystemd is dlopen()ed on first need: a daemon started without NOTIFY_SOCKET, LISTEN_FDS or
    WATCHDOG_USEC never maps it (start-up without it is ~1 ms shorter); one with NOTIFY_SOCKET has
    it mapped by the time READY=1 arrives, and READY=1 came through it."""
    plain = start_daemon()
    plain.negotiated()
    assert not _maps_libsystemd(plain.pid), "libsystemd mapped without a service manager"
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    managed = start_daemon(qmp=("managed.sock",), env=env, wait=False)
    notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    assert _maps_libsystemd(managed.pid), "READY=1 arrived but libsystemd is not mapped"


def test_status_follows_a_pending_unplug_expiring_in_realtime(start_daemon, notify):
    """With the realtime clock nothing on a socket marks the end of the 5 s (virtual) unplug
    window; the status is updated anyway (here 5 s of guest time take 1 s)."""
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    ctl_path = start_daemon.path("ctl.sock")
    d = start_daemon("--control", ctl_path, "--time-scale", "5", env=env, wait=False)
    notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    m = d.negotiated()
    ctl = control_client(ctl_path, d)
    d.clients.append(ctl)
    assert reply(m, "device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}) == return_line()
    assert reply(ctl, "guest-write", {"controller": "pci.1", "register": "slot-control", "value": 0x1C0}) == (
        return_line())
    assert reply(m, "device_del", {"id": "net0"}) == return_line()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(2, 2, 10, 1), "1 pending unplug")
    notify.wait_for(lambda f: f.get("STATUS") in (status_line(2, 2, 10, 0), status_line(2, 2, 9, 0)),
                    "the pending unplug expired or completed")


def test_status_updates_are_rate_limited_with_a_trailing_update(start_daemon, notify):
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    d = start_daemon("--monitor-mode", "shared", env=env, wait=False)
    notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    begin = time.monotonic()
    for _ in range(40):
        c = Client(d.sockets[0], d)
        c.greeting()  # the daemon has opened the session
        c.close()
    last = d.connect()
    last.greeting()
    # The last change is always reported, even when it falls inside the rate limit's interval.
    final = status_line(1, 1, 9, 0)
    notify.wait_for(lambda f: f.get("STATUS") == final, "the trailing 1-session status")
    elapsed = time.monotonic() - begin
    updates = [f for _, f in notify.messages if "STATUS" in f and "READY" not in f]
    # 81 changes (40 sessions opened and closed, one opened); at most one report per 250 ms.
    assert len(updates) <= elapsed / 0.25 + 1, (len(updates), elapsed)
    assert updates[-1]["STATUS"] == final


def test_watchdog_pings_when_the_manager_asks(start_daemon, notify):
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    env["WATCHDOG_USEC"] = "200000"
    d = start_daemon(env=env, wait=False)
    notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    for i in range(5):
        notify.wait_for(lambda f: f.get("WATCHDOG") == "1", "WATCHDOG=1 (ping %d)" % (i + 1), 2.0)
    assert d.alive()


def test_watchdog_of_another_process_is_not_ours(start_daemon, notify):
    env = base_env()
    env["NOTIFY_SOCKET"] = notify.path
    env["WATCHDOG_USEC"] = "100000"
    env["WATCHDOG_PID"] = "1"  # meant for someone else (sd_watchdog_enabled says no)
    d = start_daemon(env=env, wait=False)
    notify.wait_for(lambda f: "READY" in f, "READY=1", START_TIMEOUT)
    c = d.negotiated()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(1, 1, 9, 0), "1 session")
    c.close()
    notify.wait_for(lambda f: f.get("STATUS") == status_line(1, 0, 9, 0), "0 sessions")
    assert not any("WATCHDOG" in f for _, f in notify.messages)


# ---------------------------------------------------------------------------
# Logging to the journal: syslog priority prefixes
# ---------------------------------------------------------------------------
def _run_logged(binary, args, workdir, journal: bool | str, signal_after_start: bool):
    path = os.path.join(workdir, "log%d.stderr" % len(os.listdir(workdir)))
    with open(path, "wb") as err:
        st = os.fstat(err.fileno())
        env = base_env()
        env.pop("JOURNAL_STREAM", None)
        if journal is True:
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)  # what systemd sets for the journal
        elif journal:
            env["JOURNAL_STREAM"] = journal
        proc = subprocess.Popen([binary, *args], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_child_setup)
    try:
        if signal_after_start:
            sock = os.path.join(workdir, "qmp.sock")
            deadline = time.monotonic() + START_TIMEOUT
            while not is_listening(proc.pid, sock, workdir):
                assert proc.poll() is None and time.monotonic() < deadline, Path(path).read_text()
                time.sleep(0.01)  # polling a condition with a deadline
            c = Client(sock)
            c.greeting()
            c.send('{"execute": "qmp_capabilities"}')
            c.line()
            c.close()
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(EXIT_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return rc, Path(path).read_text().splitlines()


def test_journal_stream_lines_carry_syslog_priorities(mockd_binary, workdir):
    # No --qmp (a notice), debug lines, info lines, and on SIGTERM a notice again.
    rc, lines = _run_logged(mockd_binary, ["--log-level", "debug"], workdir, True, True)
    assert rc == EX_OK
    assert lines and all(re.match(r"<[0-7]>", line) for line in lines), lines
    assert "<5>notice: no --qmp given: serving ./qmp.sock" in lines, lines
    assert "<6>info: listening on ./qmp.sock (exclusive monitor)" in lines, lines
    assert any(line.startswith("<7>debug: session 1 -> ") for line in lines), lines
    assert "<5>notice: received signal 15, shutting down" in lines, lines
    rc, lines = _run_logged(mockd_binary, ["--config", "/nonexistent/vm.yaml"], workdir, True, False)
    assert rc == EX_CONFIG
    assert "<3>error: /nonexistent/vm.yaml: cannot open: No such file or directory" in lines, lines


@pytest.mark.parametrize("journal", [False, "1:2", "garbage"])
def test_plain_lines_when_stderr_is_not_the_journal(mockd_binary, workdir, journal):
    """JOURNAL_STREAM inherited by a process whose stderr goes elsewhere does not count."""
    rc, lines = _run_logged(mockd_binary, [], workdir, journal, True)
    assert rc == EX_OK
    assert "qmp-mockd: notice: no --qmp given: serving ./qmp.sock" in lines, lines
    assert not any(line.startswith("<") for line in lines), lines


# ---------------------------------------------------------------------------
# A real systemd user manager
# ---------------------------------------------------------------------------
HIDDEN_BY_HARDENING = ("/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/")


class UserManager:
    """``systemd --user`` in private mount and PID namespaces (systemd_user_manager.sh). Commands
    that talk to it (systemctl, systemd-run) run inside the namespaces through nsenter: its
    private bus refuses peers from another PID namespace. Sockets live in the runtime directory,
    which is shared with the host, so clients connect from here."""

    def __init__(self, runtime: str):
        self.runtime = runtime
        self.log_path = os.path.join(runtime, "manager.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(HELPER), runtime], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, preexec_fn=_child_setup)
        self.inner = None
        deadline = time.monotonic() + 20
        while True:
            rc = self.proc.poll()
            if rc == 77:
                raise NamespacesNotPermitted(self.log().strip())
            assert rc is None, "user manager helper exited with %s: %s" % (rc, self.log())
            if self.inner is None:
                self.inner = self._namespace_init()
            if self.inner is not None and os.path.exists(os.path.join(runtime, "systemd", "private")):
                state = self.run(["systemctl", "--user", "is-system-running"], check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            assert time.monotonic() < deadline, "systemd --user did not come up: %s" % self.log()
            time.sleep(0.02)  # polling a condition with a deadline

    def _namespace_init(self) -> int | None:
        """The helper's second stage, PID 1 of the new namespaces (unshare's child), once it runs."""
        try:
            children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)).read_text().split()
            for pid in children:
                if b"--inside" in Path("/proc/%s/cmdline" % pid).read_bytes().split(b"\0"):
                    return int(pid)
        except OSError:
            pass
        return None

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="backslashreplace")

    def run(self, argv, check=True, timeout=30) -> subprocess.CompletedProcess:
        env = base_env()
        env["XDG_RUNTIME_DIR"] = self.runtime
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        p = subprocess.run(["nsenter", "-t", str(self.inner), "-m", "-p", "--", *argv], env=env,
                           capture_output=True, text=True, timeout=timeout)
        if check:
            assert p.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr)
        return p

    def systemctl(self, *args, check=True) -> subprocess.CompletedProcess:
        return self.run(["systemctl", "--user", "--no-pager", *args], check=check)

    def show(self, unit: str, *props: str) -> dict:
        out = self.systemctl("show", unit, "-p", ",".join(props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_for(self, unit: str, what: str, predicate, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        props = ("ActiveState", "SubState", "Result", "StatusText", "MainPID", "NRestarts")
        while True:
            state = self.show(unit, *props)
            if predicate(state):
                return state
            assert time.monotonic() < deadline, "%s: no %s within %.0f s; last %r" % (unit, what, timeout, state)
            time.sleep(0.02)  # polling a condition with a deadline

    def stop(self):
        """Graceful: the manager stops its units and exits, then the namespaces end. Otherwise
        unshare is killed, which kills the namespace's init and with it everything inside."""
        if self.proc.poll() is None and self.inner is not None:
            try:
                os.kill(self.inner, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class NamespacesNotPermitted(Exception):
    pass


def _needs_relaxed_hardening(binary: str) -> list[str]:
    """Paths the hardened units hide (ProtectHome=, PrivateTmp=) that the built binary or its
    libraries live in (a checkout in a home directory): the test drop-in then relaxes exactly those."""
    paths = [os.path.realpath(binary)]
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True)
    paths += re.findall(r"=> (/\S+)", ldd.stdout)
    relax = set()
    for p in paths:
        if p.startswith(("/home/", "/root/", "/run/user/")):
            relax.add("ProtectHome=no")
        if p.startswith(("/tmp/", "/var/tmp/")):
            relax.add("PrivateTmp=no")
    return sorted(relax)


@pytest.fixture(scope="module")
def manager(mockd_binary):
    for tool in (USER_MANAGER, "/usr/bin/systemd-run", "/usr/bin/systemctl"):
        need(tool)
    if shutil.which("nsenter") is None or shutil.which("unshare") is None:
        pytest.skip("nsenter/unshare (util-linux) not installed")
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
                            "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("namespaces not permitted, no private systemd user manager: unshare --mount --pid: %s"
                    % (probe.stderr.strip() or "exit %d" % probe.returncode))
    try:
        # Under /run as on a systemd host (/run/user/UID): outside /tmp, which PrivateTmp= hides.
        runtime = tempfile.mkdtemp(prefix="qmpt-sd-", dir="/run")
    except OSError as exc:
        pytest.skip("cannot create a runtime directory in /run for the user manager (%s)" % exc)
    os.chmod(runtime, 0o700)
    os.mkdir(os.path.join(runtime, "logs"))
    os.mkdir(os.path.join(runtime, "etc"))
    shutil.copy(REPO / "config" / "oracle-q35.yaml", os.path.join(runtime, "etc", "vm1.yaml"))
    shutil.copy(REPO / "config" / "default.yaml", os.path.join(runtime, "etc", "vm2.yaml"))
    shutil.copy(REPO / "config" / "default.yaml", os.path.join(runtime, "etc", "default.yaml"))
    units = Path(runtime, "systemd", "user")
    install_units(units, mockd_binary, os.path.join(runtime, "etc"))
    # Test-only drop-ins: the daemon's stderr to a file (there is no journald here), and what the
    # hardening would hide of this checkout, if anything.
    relax = _needs_relaxed_hardening(mockd_binary)
    for service in ("qmp-mockd.service", "qmp-mockd@.service"):
        d = units / (service + ".d")
        d.mkdir()
        (d / "test.conf").write_text("[Service]\nStandardError=append:%s/logs/%%n.err\n%s\n"
                                     % (runtime, "\n".join(relax)))
    m = None
    try:
        m = UserManager(runtime)
    except NamespacesNotPermitted as exc:
        shutil.rmtree(runtime, ignore_errors=True)
        pytest.skip(str(exc))
    except BaseException:
        shutil.rmtree(runtime, ignore_errors=True)
        raise
    try:
        yield m
    finally:
        m.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def _unit_log(manager: UserManager, unit: str) -> str:
    try:
        return Path(manager.runtime, "logs", unit + ".err").read_text(errors="backslashreplace")
    except OSError:
        return "(no log)"


def systemd_run(manager: UserManager, unit: str, *args: str, props=()) -> subprocess.CompletedProcess:
    argv = ["systemd-run", "--user", "--unit", unit, "-p", "Type=notify", "-p", "TimeoutStartSec=20s",
            "-p", "TimeoutStopSec=10s", "-p", "StandardOutput=null",
            "-p", "StandardError=append:%s/logs/%s.service.err" % (manager.runtime, unit)]
    # systemd's own verdict on how the service ended, written after it stopped (a transient
    # unit that ended cleanly is unloaded at once, so its properties cannot be read afterwards).
    argv += ["-p", "ExecStopPost=/bin/sh -c 'echo \"$$SERVICE_RESULT $$EXIT_CODE $$EXIT_STATUS\" > %s'"
             % exit_record(manager, unit)]
    for p in props:
        argv += ["-p", p]
    return manager.run(argv + list(args))


def exit_record(manager: UserManager, unit: str) -> str:
    return os.path.join(manager.runtime, "logs", unit + ".exit")


def test_systemd_run_returns_once_the_qmp_socket_accepts(manager, mockd_binary):
    path = os.path.join(manager.runtime, "run1.sock")
    systemd_run(manager, "qmpt-run1", mockd_binary, "--qmp", path)
    # No retry, no wait: Type=notify made systemd-run wait for READY=1, which comes only once
    # the socket listens.
    c = Client(path, connect_timeout=1.0)
    try:
        c.negotiate()
        assert json.loads(c.cmd("query-status"))["return"]["running"] is True
    finally:
        c.close()
    state = manager.show("qmpt-run1.service", "ActiveState", "SubState", "StatusText")
    assert state["ActiveState"] == "active" and state["SubState"] == "running", state
    manager.systemctl("stop", "qmpt-run1.service")


def test_systemctl_status_shows_the_status_line(manager, mockd_binary):
    path = os.path.join(manager.runtime, "run2.sock")
    systemd_run(manager, "qmpt-run2", mockd_binary, "--qmp", path, "--monitor-mode", "shared")
    c = Client(path).negotiate()
    try:
        assert c.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}) == return_line()
        expected = status_line(1, 1, 10, 0)
        manager.wait_for("qmpt-run2.service", "StatusText=%s" % expected, lambda s: s["StatusText"] == expected)
        status = manager.systemctl("status", "qmpt-run2.service", check=False).stdout
        assert 'Status: "%s"' % expected in status, status
    finally:
        c.close()
    manager.systemctl("stop", "qmpt-run2.service")


def test_systemctl_stop_sends_shutdown_and_exits_cleanly(manager, mockd_binary):
    path = os.path.join(manager.runtime, "run3.sock")
    systemd_run(manager, "qmpt-run3", mockd_binary, "--qmp", path)
    c = Client(path).negotiate()
    try:
        manager.systemctl("stop", "qmpt-run3.service")
        assert_event(c.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
        c.expect_eof()
    finally:
        c.close()
    # $SERVICE_RESULT $EXIT_CODE $EXIT_STATUS: it exited by itself with status 0 (not killed).
    record = Path(exit_record(manager, "qmpt-run3")).read_text().strip()
    assert record == "success exited 0", (record, _unit_log(manager, "qmpt-run3.service"))
    assert not os.path.exists(path)  # the daemon created it, so it removed it


def test_mainpid_names_the_daemon_behind_a_wrapper(manager, mockd_binary):
    """MAINPID= with READY=1: started through a shell that does not exec it, the daemon still
    becomes the unit's main process (with NotifyAccess=all the manager accepts it)."""
    path = os.path.join(manager.runtime, "run4.sock")
    systemd_run(manager, "qmpt-run4", "/bin/sh", "-c", '"$0" --qmp "$1"; exit $?', mockd_binary, path,
                props=["NotifyAccess=all"])
    pid = manager.show("qmpt-run4.service", "MainPID")["MainPID"]
    comm = manager.run(["cat", "/proc/%s/comm" % pid]).stdout.strip()
    assert comm == "qmp-mockd", (pid, comm)
    manager.systemctl("stop", "qmpt-run4.service")


def test_watchdog_keeps_the_service_up_and_is_enforced(manager, mockd_binary):
    path = os.path.join(manager.runtime, "wd.sock")
    unit = "qmpt-wd.service"
    systemd_run(manager, "qmpt-wd", mockd_binary, "--qmp", path,
                props=["WatchdogSec=1s", "WatchdogSignal=SIGKILL"])
    first = manager.show(unit, "MainPID", "WatchdogUSec")
    assert first["WatchdogUSec"] == "1s", first
    # An event window: collect the manager's own record of pings (WatchdogTimestampMonotonic moves
    # on every WATCHDOG=1) until they span more than 3 intervals; a daemon that did not ping
    # would have been killed after 1 s.
    stamps = []
    deadline = time.monotonic() + 15
    while not stamps or stamps[-1] - stamps[0] < 3_000_000:
        s = manager.show(unit, "ActiveState", "MainPID", "NRestarts", "WatchdogTimestampMonotonic")
        assert s["ActiveState"] == "active" and s["MainPID"] == first["MainPID"] and s["NRestarts"] == "0", (
            s, _unit_log(manager, unit))
        stamp = int(s["WatchdogTimestampMonotonic"])
        if stamp and (not stamps or stamp != stamps[-1]):
            stamps.append(stamp)
        assert time.monotonic() < deadline, "watchdog pings seen: %r" % stamps
        time.sleep(0.05)  # polling the manager's state with a deadline
    assert len(stamps) >= 6, stamps  # about two pings per interval
    c = Client(path, connect_timeout=1.0)
    c.greeting()
    c.close()
    # And the watchdog is real: a daemon that stops pinging is killed by the manager.
    manager.systemctl("kill", "-s", "SIGSTOP", unit)
    manager.wait_for(unit, "Result=watchdog, failed",
                     lambda s: s["Result"] == "watchdog" and s["ActiveState"] == "failed", timeout=10)
    record = Path(exit_record(manager, "qmpt-wd")).read_text().strip()
    assert record == "watchdog killed KILL", record
    manager.systemctl("reset-failed", unit, check=False)


def test_systemd_run_with_a_transient_socket_unit(manager, mockd_binary):
    """The socket-activated fixture without unit files (README): systemd-run creates the .socket
    unit too, and the first connection starts the daemon."""
    path = os.path.join(manager.runtime, "vm5.qmp")
    manager.run(["systemd-run", "--user", "--unit", "qmpt-vm5", "--socket-property=ListenStream=" + path,
                 "--socket-property=FileDescriptorName=qmp", "-p", "Type=notify",
                 "-p", "StandardError=append:%s/logs/qmpt-vm5.service.err" % manager.runtime,
                 mockd_binary, "--name", "vm5"])
    assert manager.show("qmpt-vm5.service", "ActiveState")["ActiveState"] == "inactive"
    c = Client(path)
    try:
        c.negotiate()
        assert c.cmd("query-name") == return_line('{"name": "vm5"}')
        assert manager.show("qmpt-vm5.service", "ActiveState")["ActiveState"] == "active"
    finally:
        c.close()
        manager.systemctl("stop", "qmpt-vm5.socket", "qmpt-vm5.service", check=False)


def test_socket_units_activate_the_service_on_first_connection(manager):
    qmp = os.path.join(manager.runtime, "qmp-mock", "qmp.sock")
    ctl = os.path.join(manager.runtime, "qmp-mock", "control.sock")
    manager.systemctl("start", "qmp-mockd.socket")  # Wants= brings qmp-mockd-control.socket
    for unit in ("qmp-mockd.socket", "qmp-mockd-control.socket"):
        assert manager.show(unit, "ActiveState")["ActiveState"] == "active"
    assert manager.show("qmp-mockd.service", "ActiveState")["ActiveState"] == "inactive"
    assert stat.S_IMODE(os.stat(qmp).st_mode) == 0o600
    clients = []
    try:
        m = Client(qmp)
        clients.append(m)
        m.negotiate()  # the first connection started the (hardened) service and was greeted
        c = control_client(ctl)
        clients.append(c)
        assert json.loads(c.cmd("clock-query"))["return"]["mode"] == "realtime"
        expected = status_line(2, 2, 9, 0)
        manager.wait_for("qmp-mockd.service", expected, lambda s: s["StatusText"] == expected)
        log = _unit_log(manager, "qmp-mockd.service")
        assert "%s (exclusive monitor, inherited fd" % qmp in log and "%s (control, inherited fd" % ctl in log, log
        # Stopping the service leaves the sockets to systemd; the next client starts it again.
        manager.systemctl("stop", "qmp-mockd.service")
        assert_event(m.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
        m.expect_eof()
        assert stat.S_ISSOCK(os.lstat(qmp).st_mode) and stat.S_ISSOCK(os.lstat(ctl).st_mode)
        again = Client(qmp)
        clients.append(again)
        again.negotiate()
        assert manager.show("qmp-mockd.service", "ActiveState")["ActiveState"] == "active"
    finally:
        for cl in clients:
            cl.close()
        manager.systemctl("stop", "qmp-mockd.socket", "qmp-mockd-control.socket", "qmp-mockd.service", check=False)


def test_template_units_run_one_vm_per_instance(manager):
    def path(instance, name):
        return os.path.join(manager.runtime, "qmp-mock", instance, name)

    manager.systemctl("start", "qmp-mockd@vm1.socket", "qmp-mockd@vm2.socket")
    clients = []
    try:
        vm1 = Client(path("vm1", "qmp.sock"))
        vm2 = Client(path("vm2", "qmp.sock"))
        clients += [vm1, vm2]
        vm1.negotiate()
        vm2.negotiate()
        assert vm1.cmd("query-name") == return_line('{"name": "vm1"}')
        assert vm2.cmd("query-name") == return_line('{"name": "vm2"}')
        # Each instance has its own configuration: /etc/qmp-mock/%i.yaml.
        assert json.loads(vm1.cmd("x-query-hotplug", {"id": "cold1"}))["return"]["bus"]["device"] == "rp4"
        assert json.loads(vm2.cmd("x-query-hotplug", {"id": "virtio-disk0"}))["return"]["bus"]["device"] == "pci.8"
        assert "error" in json.loads(vm2.cmd("x-query-hotplug", {"id": "cold1"}))
        ctl = control_client(path("vm1", "control.sock"))
        clients.append(ctl)
        assert "now-ns" in json.loads(ctl.cmd("clock-query"))["return"]
        for vm in ("vm1", "vm2"):
            assert manager.show("qmp-mockd@%s.service" % vm, "ActiveState")["ActiveState"] == "active"
    finally:
        for cl in clients:
            cl.close()
        manager.systemctl("stop", "qmp-mockd@vm1.socket", "qmp-mockd-control@vm1.socket", "qmp-mockd@vm1.service",
                          "qmp-mockd@vm2.socket", "qmp-mockd-control@vm2.socket", "qmp-mockd@vm2.service",
                          check=False)


def test_services_run_without_their_socket_units(manager):
    """Started alone, the hardened service creates its sockets in its RuntimeDirectory= and
    removes them when it stops."""
    manager.systemctl("start", "qmp-mockd.service")  # returns after READY=1
    qmp = os.path.join(manager.runtime, "qmp-mock", "qmp.sock")
    c = Client(qmp, connect_timeout=1.0)
    try:
        c.negotiate()
        manager.systemctl("stop", "qmp-mockd.service")
        assert_event(c.line(), "SHUTDOWN", SHUTDOWN_SIGNAL)
    finally:
        c.close()
    assert not os.path.exists(qmp)
    manager.systemctl("start", "qmp-mockd@default.service")
    c = Client(os.path.join(manager.runtime, "qmp-mock", "default", "qmp.sock"), connect_timeout=1.0)
    try:
        c.negotiate()
        assert c.cmd("query-name") == return_line('{"name": "default"}')
    finally:
        c.close()
        manager.systemctl("stop", "qmp-mockd@default.service", check=False)
