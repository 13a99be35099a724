"""``qmp-mockctl watch``, the live view of the slots, against the built daemon: through a pipe (plain
lines, one per change, in order, with the LEDs drawn) and through a pseudo-terminal (the full-screen
table drawn with escapes, the countdown ticking with the realtime clock, the terminal restored on
Ctrl-C). No sleeps: every wait is for output with a deadline."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

from conftest import assert_event, return_line
from test_control import MOCKCTL, ctl, start

WAIT = 10.0
SLOT_EMPTY = "pci.1: device -, present no, power off, power-led ○ off, attention-led ○ off, persona linux"
SLOT_BLINKING = "pci.1: device hp1, present yes, power on, power-led ◐ blinking, attention-led ○ off"
SLOT_ON = "pci.1: device hp1, present yes, power on, power-led ● on, attention-led ○ off, persona linux"


class PipeWatch:
    """``qmp-mockctl watch`` with stdout on a pipe: read its lines as they come."""

    def __init__(self, control: str, *args: str):
        self.proc = subprocess.Popen([MOCKCTL, "--control", control, "watch", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        self.lines: list[str] = []

    def _read(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [line.decode() for line in done]
        return True

    def wait_for(self, text: str, start: int = 0) -> int:
        """The index of the first line from ``start`` on that ends with ``text`` (after ``t=... ``)."""
        deadline = time.monotonic() + WAIT
        while True:
            for index in range(start, len(self.lines)):
                if self.lines[index].split(" ", 1)[-1] == text:
                    return index
            if not self._read(deadline):
                raise AssertionError("watch never printed %r; it printed:\n%s" % (text, "\n".join(self.lines)))

    def finish(self) -> int:
        out, err = self.proc.communicate(timeout=WAIT)
        self.lines += (self.buf + out).decode().splitlines()
        assert err == b"", err
        return self.proc.returncode


def test_watch_through_a_pipe_prints_one_line_per_change_in_order(start_daemon):
    d = start(start_daemon, "--name", "vm1")
    w = PipeWatch(start_daemon.path("control.sock"))
    # The first snapshot: the machine, then every slot (the default machine's seven ports).
    first = w.wait_for("machine: name vm1, run-state running, clock manual")
    assert w.lines[first].startswith("t=0.000s ")
    w.wait_for(SLOT_EMPTY, first)
    w.wait_for("pci.8: device virtio-disk0, present yes, power on, power-led ○ off, attention-led ○ off, persona linux")

    m = d.negotiated()
    assert m.cmd("device_add", {"driver": "e1000e", "id": "hp1", "bus": "pci.1"}) == return_line()
    at = w.wait_for("monitor device_add bus=pci.1 driver=e1000e id=hp1")
    # The guest's interrupt handler at once: event lines, then the slot as they left it.
    at = w.wait_for("guest pci.1 slot-control 0x6f9 -> 0x2f9 (wrote 0x2f9)", at)
    at = w.wait_for(SLOT_BLINKING + ", persona linux", at)
    assert w.lines[at].startswith("t=0.000s ")

    ctl(start_daemon, "clock", "advance", "100ms")
    at = w.wait_for("event X_DEVICE_ON device=hp1 path=/machine/peripheral/hp1", at)
    assert_event(m.line(), "X_DEVICE_ON", '{"device": "hp1", "path": "/machine/peripheral/hp1"}')
    at = w.wait_for("clock advanced", at)
    at = w.wait_for(SLOT_ON, at)
    assert w.lines[at].startswith("t=0.100s ")

    assert m.cmd("device_del", {"id": "hp1"}) == return_line()
    at = w.wait_for("monitor device_del id=hp1", at)
    at = w.wait_for(SLOT_BLINKING + ", pending 5.000s, persona linux", at)
    ctl(start_daemon, "clock", "advance", "1s")
    at = w.wait_for(SLOT_BLINKING + ", pending 4.000s, persona linux", at)
    assert w.lines[at].startswith("t=1.100s ")
    ctl(start_daemon, "clock", "advance", "6s")
    at = w.wait_for("event DEVICE_DELETED device=hp1 path=/machine/peripheral/hp1", at)
    at = w.wait_for(SLOT_EMPTY, at)
    assert w.lines[at].startswith("t=7.100s ")

    # Reading commands are neither logged nor followed by a refresh.
    m.cmd("query-status")
    # The daemon killed outright: watch says so and exits 0.
    d.expect_exit = True
    d.signal(signal.SIGKILL)
    assert w.finish() == 0
    assert w.lines[-1] == "t=7.100s watch: the daemon closed the control socket", w.lines[-3:]
    assert not any("query-status" in line for line in w.lines)
    # Every line after the snapshot is an event or a change, each stamped with virtual time.
    assert all(line.startswith("t=") for line in w.lines)


def test_watch_once_and_usage(start_daemon):
    start(start_daemon)
    path = start_daemon.path("control.sock")
    once = subprocess.run([MOCKCTL, "watch", "--once", "--control", path], capture_output=True, text=True, timeout=WAIT)
    assert once.returncode == 0 and once.stderr == ""
    assert once.stdout.splitlines()[:2] == ["t=0.000s machine: run-state running, clock manual", "t=0.000s " + SLOT_EMPTY]
    gone = subprocess.run([MOCKCTL, "watch", "--control", start_daemon.path("missing.sock")],
                          capture_output=True, text=True, timeout=WAIT)
    assert gone.returncode == 69 and "cannot connect" in gone.stderr
    json = subprocess.run([MOCKCTL, "--json", "watch", "--control", path], capture_output=True, text=True, timeout=WAIT)
    assert json.returncode == 64 and "not JSON" in json.stderr


class PtyWatch:
    """``qmp-mockctl watch`` on a pseudo-terminal of 120×30 that is its controlling terminal."""

    def __init__(self, control: str):
        pid, fd = pty.fork()
        if pid == 0:  # the child: stdin, stdout and stderr are the terminal
            try:
                os.execv(MOCKCTL, [MOCKCTL, "--control", control, "watch"])
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.resize(120, 30)
        self.screen = b""

    def resize(self, columns: int, rows: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def _read(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.screen += chunk
        return bool(chunk)

    def wait_for(self, text: str, start: int = 0) -> int:
        needle = text.encode()
        deadline = time.monotonic() + WAIT
        while (index := self.screen.find(needle, start)) < 0:
            if not self._read(deadline):
                raise AssertionError("the screen never showed %r; it got:\n%r" % (text, self.screen[-3000:]))
        return index

    def finish(self) -> int:
        deadline = time.monotonic() + WAIT
        while self._read(deadline):
            pass
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def test_watch_on_a_terminal_draws_the_table_and_restores_the_terminal(start_daemon):
    d = start(start_daemon, "--name", "vm1")
    w = PtyWatch(start_daemon.path("control.sock"))
    before = termios.tcgetattr(w.fd)
    # Alternate screen, cursor hidden, then a frame from the top left with the header in reverse video.
    start_at = w.wait_for("\x1b[?1049h\x1b[?25l")
    header = w.wait_for("\x1b[1;1H\x1b[7mvm1  running  t=0.000s  clock manual  (qmp-mockctl watch)\x1b[0m", start_at)
    w.wait_for("\x1b[3;1HSLOT   DEVICE        PRESENT  POWER  POWER-LED  ATTENTION  PENDING  PERSONA\x1b[K", header)
    w.wait_for("\x1b[4;1Hpci.1  -             no       off    ○ off      ○ off               linux\x1b[K", header)
    # Echo and line mode are off while it draws; Ctrl-C still interrupts.
    drawing = termios.tcgetattr(w.fd)
    assert before[3] & termios.ECHO and not drawing[3] & termios.ECHO and drawing[3] & termios.ISIG

    m = d.negotiated()
    assert m.cmd("device_add", {"driver": "e1000e", "id": "hp1", "bus": "pci.1"}) == return_line()
    at = w.wait_for("\x1b[4;1Hpci.1  hp1           yes      on     ◐ blinking", header)
    ctl(start_daemon, "clock", "advance", "100ms")
    at = w.wait_for("t=0.100s", at)
    at = w.wait_for("\x1b[4;1Hpci.1  hp1           yes      on     ● on", at)
    # The events beneath the table, newest last.
    w.wait_for("last events:", at)
    w.wait_for("t=0.100s event X_DEVICE_ON device=hp1 path=/machine/peripheral/hp1", at)

    # A resize redraws the whole frame at the new width.
    w.resize(40, 12)
    os.kill(w.pid, signal.SIGWINCH)
    at = w.wait_for("\x1b[1;1H\x1b[7mvm1  running  t=0.100s  clock manual  (q\x1b[0m", at)
    w.wait_for("\x1b[4;1Hpci.1  hp1           yes      on     ● o\x1b[K", at)

    os.write(w.fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
    assert w.finish() == 0
    tail = w.screen[at:]
    restore = tail.rfind(b"\x1b[?25h\x1b[?1049l")
    assert restore >= 0, tail[-500:]
    assert tail[restore:].endswith(b"t=0.100s watch: stopped (SIGINT)\r\n")
    assert termios.tcgetattr(w.fd)[3] & termios.ECHO


def test_watch_on_a_terminal_counts_a_pending_unplug_down_with_the_realtime_clock(start_daemon):
    d = start_daemon("--control", start_daemon.path("control.sock"))
    d.wait_listening([start_daemon.path("control.sock")])
    w = PtyWatch(start_daemon.path("control.sock"))
    w.wait_for("clock realtime")
    m = d.negotiated()
    assert m.cmd("device_add", {"driver": "e1000e", "id": "hp1", "bus": "pci.1"}) == return_line()
    at = w.wait_for("event X_DEVICE_ON device=hp1")
    assert_event(m.line(), "X_DEVICE_ON", '{"device": "hp1", "path": "/machine/peripheral/hp1"}')
    # A guest that never answers: the 5 s guard runs with no event at all, and the screen counts it down.
    ctl(start_daemon, "persona", "set", "never-ack", "--controller", "pci.1")
    assert m.cmd("device_del", {"id": "hp1"}) == return_line()
    at = w.wait_for("monitor device_del id=hp1", at)
    # pciehp blinks nothing here (never-ack): the power indicator stays on, the PENDING column ticks.
    countdown = re.compile(r"pci\.1 +hp1 +yes +on +● on +○ off +(\d\.\d{3})s")
    seen: set[str] = set()
    deadline = time.monotonic() + WAIT
    while len(seen) < 3:
        assert w._read(deadline), "the countdown did not tick: %r" % w.screen[at:][-2000:]
        seen = set(countdown.findall(w.screen[at:].decode(errors="replace")))
    assert all(float(value) <= 5.0 for value in seen), seen
    os.kill(w.pid, signal.SIGTERM)
    assert w.finish() == 0
    assert b"watch: stopped (SIGTERM)" in w.screen
