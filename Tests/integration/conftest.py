"""Shared helpers for the qmp-mockd integration tests.

* ``start_daemon`` (function scope) / ``module_daemon`` (module scope): start
  ``$QMP_MOCKD`` (default ``<repo>/.build/debug/qmp-mockd``) in a short temp
  directory under /tmp, wait until every QMP socket is *listening* (checked in
  /proc/net/unix against the daemon's own fds, so readiness never opens a QMP
  session), capture stderr/stdout to files, and kill the daemon in teardown.
* ``Client``: a tiny raw QMP client over a Unix socket: send bytes, read one
  CRLF-terminated line with a timeout, negotiate.
* ``qemu_json``: QEMU's JSON writer (compact ", "/": " separators, QDict member
  order, uppercase \\uXXXX escapes, %.17g doubles) to build expected lines.

No test sleeps to "wait a bit": waits are for a condition with a deadline
(a line arrives, a socket listens, a process exits). The only bounded
negative checks ("nothing arrives") use ``Client.assert_silent`` after a
round trip that proves the daemon has already processed what came before.
"""

from __future__ import annotations

import ctypes
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_BINARY = REPO / ".build" / "debug" / "qmp-mockd"

LINE_TIMEOUT = 5.0  # max wait for one expected line
START_TIMEOUT = 10.0  # daemon start until all its QMP sockets listen
EXIT_TIMEOUT = 10.0  # daemon exit after quit / a signal / a usage error
SILENCE_WINDOW = 0.3  # negative checks only, after a synchronising round trip

# Exit codes of the daemon's contract (sysexits.h).
EX_OK = 0
EX_USAGE = 64
EX_CANTCREAT = 73
EX_TEMPFAIL = 75
EX_CONFIG = 78

NEGOTIATION_REQUIRED = (
    '{"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}'
)


# ---------------------------------------------------------------------------
# QEMU's JSON writer (for expected lines)
# ---------------------------------------------------------------------------
def qdict_bucket(key: str) -> int:
    """QEMU's tdb_hash(key) % 512 (qobject/qdict.c)."""
    data = key.encode("utf-8")
    v = (0x238F13AF * len(data)) & 0xFFFFFFFF
    for i, b in enumerate(data):
        v = (v + (b << ((i * 5) % 24))) & 0xFFFFFFFF
    return ((1103515243 * v + 12345) & 0xFFFFFFFF) % 512


def qdict_order(keys) -> list[str]:
    """Keys (given in insertion order) in QDict iteration order: bucket
    ascending, newest entry first inside a bucket."""
    keys = list(keys)
    return [k for _, _, k in sorted((qdict_bucket(k), -i, k) for i, k in enumerate(keys))]


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def qemu_json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif c < 0x20 or c >= 0x7F:
            if c >= 0x10000:
                c -= 0x10000
                out.append("\\u%04X\\u%04X" % (0xD800 | (c >> 10), 0xDC00 | (c & 0x3FF)))
            else:
                out.append("\\u%04X" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def qemu_json(value) -> str:
    """Serialise like QEMU's qobject JSON writer (non-pretty)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "%.17g" % value
    if isinstance(value, str):
        return qemu_json_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(qemu_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(
            "%s: %s" % (qemu_json_string(k), qemu_json(value[k])) for k in qdict_order(value.keys())
        ) + "}"
    raise TypeError(type(value))


def error_line(desc_json: str, cls: str = "GenericError", id_json: str | None = None) -> str:
    """An error reply as QEMU prints it. ``desc_json`` is the desc exactly as
    it appears on the wire *inside* the quotes (already JSON-escaped)."""
    err = '{"class": "%s", "desc": "%s"}' % (cls, desc_json)
    if id_json is None:
        return '{"error": %s}' % err
    return '{"id": %s, "error": %s}' % (id_json, err)


def return_line(value_json: str = "{}", id_json: str | None = None) -> str:
    if id_json is None:
        return '{"return": %s}' % value_json
    return '{"return": %s, "id": %s}' % (value_json, id_json)


def greeting_regex(major: int, minor: int, micro: int) -> re.Pattern:
    return re.compile(
        r'\{"QMP": \{"version": \{"qemu": \{"micro": %d, "minor": %d, "major": %d\}, '
        r'"package": "qmp-mock [^"\\\s]+"\}, "capabilities": \["oob"\]\}\}' % (micro, minor, major)
    )


VERSION_PROFILES = {
    "7.2.0": (7, 2, 0),
    "8.2.0": (8, 2, 0),
    "10.0.0": (10, 0, 0),
}
DEFAULT_VERSION = "8.2.0"

EVENT_RE = re.compile(r'\{"timestamp": \{"seconds": (-?\d+), "microseconds": (-?\d+)\}, "event": "([A-Z_]+)"(.*)\}')


def assert_event(line: str, name: str, data_json: str | None = None) -> float:
    """Check one event line's exact shape; return its timestamp as a float."""
    m = EVENT_RE.fullmatch(line)
    assert m, "expected a %s event line, got %r" % (name, line)
    assert m.group(3) == name, "expected event %s, got %r" % (name, line)
    rest = "" if data_json is None else ', "data": %s' % data_json
    assert m.group(4) == rest, "event %s: expected data %r, got line %r" % (name, data_json, line)
    secs, usecs = int(m.group(1)), int(m.group(2))
    assert 0 <= usecs < 1_000_000, line
    now = time.time()
    assert abs(secs - now) < 300, "event timestamp %d is not wall-clock time (now %.0f): %r" % (secs, now, line)
    return secs + usecs / 1e6


# ---------------------------------------------------------------------------
# Raw client
# ---------------------------------------------------------------------------
class Client:
    """A raw QMP client: bytes in, CRLF-terminated lines out."""

    def __init__(self, path: str, daemon: "Daemon | None" = None, connect_timeout: float = LINE_TIMEOUT):
        self.path = path
        self.daemon = daemon
        self.buf = b""
        self.eof = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(connect_timeout)
        self.sock.connect(path)
        self.sock.settimeout(None)

    # -- diagnostics -------------------------------------------------------
    def _ctx(self) -> str:
        return self.daemon.describe() if self.daemon is not None else ""

    # -- sending -----------------------------------------------------------
    def send(self, data) -> None:
        if isinstance(data, dict):
            data = json.dumps(data, separators=(",", ":"))
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    # -- receiving ---------------------------------------------------------
    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False on timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return False
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return True

    def raw_line(self, timeout: float = LINE_TIMEOUT) -> bytes:
        """The next line including its terminator (the bytes up to and including \\n)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                raise AssertionError(
                    "connection %s closed by the daemon while waiting for a line (pending bytes %r)%s"
                    % (self.path, self.buf[:300], self._ctx())
                )
            if not self._fill(deadline):
                raise AssertionError(
                    "no complete line from %s within %.1f s (pending bytes %r)%s"
                    % (self.path, timeout, self.buf[:300], self._ctx())
                )
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def line(self, timeout: float = LINE_TIMEOUT) -> str:
        """The next line without its CRLF; checks QEMU's framing: one line,
        CRLF-terminated, pure ASCII, no bare CR inside."""
        raw = self.raw_line(timeout)
        assert raw.endswith(b"\r\n"), "line not terminated by CRLF: %r" % raw[:300]
        body = raw[:-2]
        assert b"\r" not in body, "bare CR inside a line: %r" % body[:300]
        assert body.isascii(), "non-ASCII bytes in output line: %r" % body[:300]
        return body.decode("ascii")

    def lines(self, n: int, timeout: float = LINE_TIMEOUT) -> list[str]:
        return [self.line(timeout) for _ in range(n)]

    def msg(self, timeout: float = LINE_TIMEOUT):
        text = self.line(timeout)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise AssertionError("daemon sent a line that is not JSON: %r (%s)" % (text, exc))

    def greeting(self, version: str = DEFAULT_VERSION) -> str:
        text = self.line()
        assert greeting_regex(*VERSION_PROFILES[version]).fullmatch(text), (
            "unexpected greeting for %s: %r" % (version, text)
        )
        return text

    def negotiate(self, version: str = DEFAULT_VERSION, read_greeting: bool = True) -> "Client":
        if read_greeting:
            self.greeting(version)
        self.send('{"execute":"qmp_capabilities"}')
        reply = self.line()
        assert reply == '{"return": {}}', "qmp_capabilities failed: %r" % reply
        return self

    def cmd(self, command: str, arguments: dict | None = None, id=None) -> str:
        """Send one command, return the next line (the caller knows whether
        events come first)."""
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        if id is not None:
            msg["id"] = id
        self.send(msg)
        return self.line()

    def expect_eof(self, timeout: float = LINE_TIMEOUT) -> None:
        """The daemon closes the connection with nothing more to say."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline):
                raise AssertionError(
                    "daemon did not close connection %s within %.1f s (pending %r)%s"
                    % (self.path, timeout, self.buf[:300], self._ctx())
                )
        assert self.buf == b"", "unexpected bytes before EOF on %s: %r" % (self.path, self.buf[:300])

    def read_to_eof(self, timeout: float = EXIT_TIMEOUT) -> bytes:
        """Everything the daemon sends until it closes the connection."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline):
                raise AssertionError(
                    "daemon did not close connection %s within %.1f s (got %r)%s"
                    % (self.path, timeout, self.buf[:300], self._ctx())
                )
        data, self.buf = self.buf, b""
        return data

    def assert_silent(self, window: float = SILENCE_WINDOW) -> None:
        """Nothing (not even EOF) arrives within ``window``. Only meaningful
        after a round trip that proves the daemon processed earlier input."""
        assert self.buf == b"", "unexpected data on %s: %r" % (self.path, self.buf[:300])
        ready, _, _ = select.select([self.sock], [], [], window)
        if ready:
            data = self.sock.recv(65536)
            raise AssertionError(
                "expected silence on %s, got %r" % (self.path, data[:300] if data else "EOF")
            )

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------
def _child_setup():  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    # A normal foreground environment even when pytest itself runs with
    # SIGINT ignored (background jobs of non-interactive shells).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _listening_unix_inodes(names) -> set[int]:
    inodes = set()
    try:
        with open("/proc/net/unix") as f:
            next(f, None)
            for line in f:
                parts = line.split()
                # Num RefCount Protocol Flags Type St Inode Path
                if len(parts) >= 8 and parts[7] in names and int(parts[3], 16) & 0x10000:
                    inodes.add(int(parts[6]))
    except OSError:
        pass
    return inodes


def _process_socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def is_listening(pid: int, path: str, cwd: str | None = None) -> bool:
    """The process ``pid`` holds a listening Unix socket bound to ``path`` and
    the socket file exists there. /proc/net/unix shows the name as bound, so a
    daemon running in ``cwd`` may have bound a relative name."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    names = {path}
    if cwd is not None:
        rel = os.path.relpath(path, cwd)
        names |= {rel, "./" + rel}
    return bool(_listening_unix_inodes(names) & _process_socket_inodes(pid))


def socket_fd_count(pid: int) -> int:
    """How many sockets the process has open (listeners, sessions, notify...)."""
    return len(_process_socket_inodes(pid)) if os.path.isdir("/proc/%d/fd" % pid) else -1


def base_env() -> dict:
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(k, None)
    return env


class Daemon:
    def __init__(self, argv: list[str], cwd: str, env: dict, sockets: list[str], log_prefix: str):
        self.argv = argv
        self.cwd = cwd
        self.sockets = sockets  # the paths it is expected to listen on
        self.stderr_path = log_prefix + ".stderr"
        self.stdout_path = log_prefix + ".stdout"
        self.clients: list[Client] = []
        self.expect_exit = False  # set by tests that make it exit on purpose
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            preexec_fn=_child_setup,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_text(self) -> str:
        try:
            return Path(self.stderr_path).read_text(errors="backslashreplace")
        except OSError:
            return ""

    def describe(self) -> str:
        rc = self.proc.poll()
        state = "running" if rc is None else "exited with status %s" % rc
        lines = self.stderr_text().splitlines()
        # A crash report (Swift's backtracer) starts with its reason and the crashing thread's frames,
        # and ends with registers and images: keep its head, not only the tail.
        crash = next((i for i, line in enumerate(lines) if "crashed" in line or "Fatal error" in line), None)
        head = lines[crash:crash + 60] + ["[...]"] if crash is not None else []
        tail = "\n".join(head + lines[-25:])
        return "\n[qmp-mockd %s: %s]\n[stderr tail]\n%s" % (" ".join(self.argv[1:]), state, tail or "(empty)")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_listening(self, paths: list[str] | None = None, timeout: float = START_TIMEOUT) -> None:
        paths = self.sockets if paths is None else paths
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise AssertionError("qmp-mockd exited before listening on %s%s" % (paths, self.describe()))
            if all(is_listening(self.pid, p, self.cwd) for p in paths):
                return
            if time.monotonic() > deadline:
                raise AssertionError("qmp-mockd not listening on %s after %.0f s%s" % (paths, timeout, self.describe()))
            time.sleep(0.01)  # polling a condition with a deadline

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("qmp-mockd still running after %.0f s%s" % (timeout, self.describe()))

    def connect(self, index_or_path=0, connect_timeout: float = LINE_TIMEOUT) -> Client:
        path = self.sockets[index_or_path] if isinstance(index_or_path, int) else index_or_path
        c = Client(path, self, connect_timeout)
        self.clients.append(c)
        return c

    def negotiated(self, index_or_path=0, version: str = DEFAULT_VERSION) -> Client:
        return self.connect(index_or_path).negotiate(version)

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def teardown(self) -> str | None:
        """Kill the daemon; return a problem description if it crashed."""
        for c in self.clients:
            c.close()
        problem = None
        rc = self.proc.poll()
        if rc is not None and rc < 0 and not self.expect_exit:
            problem = "qmp-mockd was killed by signal %d during the test%s" % (-rc, self.describe())
        if rc is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()
        self._out.close()
        return problem


def mockd_binary_path() -> str:
    env = os.environ.get("QMP_MOCKD")
    binary = env or str(DEFAULT_BINARY)
    if not os.access(binary, os.X_OK):
        if env:
            pytest.fail("QMP_MOCKD=%s is not an executable file" % env)
        pytest.skip("qmp-mockd not built (%s); set QMP_MOCKD or run swift build" % binary)
    return binary


def short_tmpdir(prefix: str = "qmpt-") -> str:
    # /tmp keeps Unix socket paths far below the 108-byte sun_path limit.
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


class DaemonFactory:
    def __init__(self, binary: str, workdir: str):
        self.binary = binary
        self.workdir = workdir
        self.started: list[Daemon] = []

    def path(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.workdir, name)

    def __call__(
        self,
        *args: str,
        qmp=("qmp.sock",),
        cwd: str | None = None,
        env: dict | None = None,
        wait: bool = True,
    ) -> Daemon:
        """Start qmp-mockd with ``--qmp`` for each name in ``qmp`` (relative
        names live in the work dir) plus ``args``. ``qmp=()`` passes no
        ``--qmp``: the daemon is then expected on ``<cwd>/qmp.sock``."""
        cwd = cwd or self.workdir
        paths = [self.path(q) for q in qmp]
        argv = [self.binary]
        for p in paths:
            argv += ["--qmp", p]
        argv += list(args)
        listen = paths or [os.path.join(cwd, "qmp.sock")]
        d = Daemon(argv, cwd, env if env is not None else base_env(), listen,
                   os.path.join(self.workdir, "daemon%d" % len(self.started)))
        self.started.append(d)
        if wait:
            d.wait_listening()
        return d

    def run_to_exit(self, *args: str, timeout: float = EXIT_TIMEOUT, cwd: str | None = None) -> tuple[int, str]:
        """Run the binary with exactly ``args`` (no implicit --qmp) and wait for it to exit."""
        d = Daemon([self.binary, *args], cwd or self.workdir, base_env(), [],
                   os.path.join(self.workdir, "daemon%d" % len(self.started)))
        d.expect_exit = True
        self.started.append(d)
        rc = d.wait_exit(timeout)
        return rc, d.stderr_text()

    def teardown(self) -> list[str]:
        problems = []
        for d in self.started:
            p = d.teardown()
            if p:
                problems.append(p)
        return problems


@pytest.fixture(scope="session")
def mockd_binary() -> str:
    return mockd_binary_path()


@pytest.fixture
def workdir():
    d = short_tmpdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_daemon(mockd_binary, workdir):
    factory = DaemonFactory(mockd_binary, workdir)
    yield factory
    problems = factory.teardown()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def module_daemon(mockd_binary):
    """One default-mode (exclusive) daemon per test module, for tests that
    only need their own fresh connection and do not change the run state."""
    d = short_tmpdir()
    factory = DaemonFactory(mockd_binary, d)
    daemon = factory()
    yield daemon
    problems = factory.teardown()
    shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def fresh(module_daemon):
    """A new connection to the module daemon, greeting read, not negotiated."""
    assert module_daemon.alive(), "module daemon died earlier%s" % module_daemon.describe()
    c = Client(module_daemon.sockets[0], module_daemon)
    try:
        c.greeting()
        yield c
    finally:
        c.close()


@pytest.fixture
def conn(fresh):
    """A new negotiated connection to the module daemon."""
    return fresh.negotiate(read_greeting=False)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.01):
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)
