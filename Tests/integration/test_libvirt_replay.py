"""libvirt 9.0's domain start, hot-plug, pause/resume/destroy and native-mode hot-plug, replayed against
qmp-mockd started as libvirt starts QEMU (issue 16, "Proof").

The transcripts are copies of ``../shared/oracle/libvirt`` (fixtures/README.md): what libvirt 9.0 sent
real QEMU 7.2.22 and what QEMU answered. qmp-mockd runs through its ``qemu-system-x86_64`` link with the
recorded command line (``argv-domain.txt``, ``argv-domain-native.txt``; ``<domain-dir>`` and ``<uuid>``
filled in, the monitor an inherited listening Unix socket at the recorded descriptor 21, the master-key
file present) and gets every ``c2s`` message in order on one connection, each ending with ``\\r\\n`` as
libvirt sends it. As in the recording, the default domain plays ``qmp-start`` then ``qmp-hotplug`` then
``qmp-lifecycle`` on one connection, and the native domain ``qmp-start`` then ``qmp-native``.
``virsh destroy`` sends no command: where the recording shows ``SHUTDOWN`` with ``host-signal`` after
the last reply, the replay sends SIGTERM and expects the event, EOF and exit status 0.

Time is libvirt's: the daemon runs with ``clock: manual`` and a control socket, and after each reply
the replay advances the virtual clock by the time the recording shows until libvirt's next request
(``clock-advance``: the guest's timers run and their events are on the monitor before it returns), so
libvirt's 5 s waits for ``DEVICE_DELETED`` are played in full and the test still takes about a second.
The time between two transcripts was not recorded and is not played.

Comparison, per command window (what qmp-mockd sent between one request and the next):

* the reply exactly, id and member order included. A reply that differs must be made equal by an
  entry of ``ALLOWED``, which applies a ```deviation block of docs/deviations.md to both sides; the
  section "libvirt's domain transcripts" there names each block used here, and each entry must be
  needed by every transcript it is listed for, so the list stays true;
* the events as a multiset without their timestamps (whose shape and place are checked):
  ``DEVICE_DELETED`` may come before or after the ``device_del`` reply (QEMU 7.2 sent it after the
  reply when running, before it when paused; libvirt accepts either, README "Detach"), so only the
  window counts. Order matters in one place, and is checked: a device's ``virtio-backend`` is deleted
  before the device itself.

Lines with ``"origin": "qemu-monitor-command"`` (the recording's own ``query-pci`` and ``qom-list``
checks) are replayed and compared like libvirt's.

The simulated guest (``QMP_MOCK_CONFIG``: ``guest: {persona: never-ack}``): the recording ran SeaBIOS
and no guest OS. qmp-mockd's default persona, ``linux``, plays Linux's drivers: on the native domain
pciehp powers the hot-added slot (``X_DEVICE_ON`` 100 ms later), so ``device_del`` 30 ms after the
add is refused as "guest is busy (power indicator blinking)" and a later one takes a 5 s button window
and 1 s power-off; on the default domain its ACPI side ejects 20 ms after ``device_del``. Neither is
what QEMU 7.2 did: on the default (ACPI hot-plug) domain ``device_del`` was answered ``{}`` and
nothing followed for 5 s, and on the native domain the firmware never powered the hot-added slot
(Slot Control 0x07c0), so QEMU unplugged at once. ``never-ack`` is the guest that does both: the
firmware has run (the ACPI side booted, GPEs enabled) but no driver handles a notification, so ACPI
unplug requests stay pending and native slots stay as the machine left them, powered off, which makes
``device_del`` an immediate unplug as on QEMU. (``manual`` passes too, but leaves the ACPI side
unbooted, GPEs disabled, which is not what SeaBIOS leaves behind; ``linux`` fails the hot-plug and
native transcripts.)
"""

from __future__ import annotations

import collections
import copy
import json
import os
import re
import select
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pytest

from conftest import HERE, LINE_TIMEOUT, REPO, Client, mockd_binary_path, short_tmpdir, wait_until
from test_qemu_command_line import free_fd, start_domain

sys.path.insert(0, str(REPO / "conformance"))
from qmpconf import deviations as deviations_mod  # noqa: E402
from qmpconf.compare import PROJECTIONS, _mask_path  # noqa: E402

FIXTURES = HERE / "fixtures" / "libvirt"
DEVIATIONS = REPO / "docs" / "deviations.md"
MONITOR_FD = 21  # the descriptor libvirt passed the monitor at (argv-domain.txt)
EVENT_TIMEOUT = 0.5  # for an event the recording has, once the clock has been advanced (a safety margin)
TIMESTAMP_KEYS = {"seconds", "microseconds"}


# ---------------------------------------------------------------------------
# The recordings
# ---------------------------------------------------------------------------
def load(name: str, subs: dict) -> list[dict]:
    """A transcript's entries with the temporary paths substituted."""
    out = []
    with open(FIXTURES / name, encoding="utf-8") as f:
        for line in f:
            for key, value in subs.items():
                line = line.replace(key, value)
            out.append(json.loads(line))
    return out


def recorded_argv(name: str) -> list[str]:
    """argv-domain*.txt as start_domain's template: ``{dir}`` for the domain directory, ``{fd}`` for the
    monitor's descriptor, a fresh UUID."""
    with open(FIXTURES / name, encoding="utf-8") as f:
        argv = f.read().splitlines()
    assert argv[0] == "<emulator>"
    assert "socket,id=charmonitor,fd=%d,server=on,wait=off" % MONITOR_FD in argv
    fill = {"<domain-dir>": "{dir}", "fd=%d," % MONITOR_FD: "fd={fd},", "<uuid>": str(uuid.uuid4())}
    out = []
    for arg in argv[1:]:
        for key, value in fill.items():
            arg = arg.replace(key, value)
        assert "<" not in arg, arg
        out.append(arg)
    return out


@dataclass
class Window:
    """One request and what QEMU sent until the next one (``request`` None: the greeting; "destroy": the
    SIGTERM of virsh destroy)."""

    request: dict | str | None
    reply: dict | None
    events: list[dict]
    origin: str | None = None
    t: float = 0.0  # when libvirt sent the request
    gap: float = 0.0  # until the next request (or the end of the transcript)


def windows(entries: list[dict]) -> list[Window]:
    out: list[Window] = []
    for e in entries:
        m = e["message"]
        if e["dir"] == "c2s":
            out.append(Window(m, None, [], e.get("origin"), e["t"]))
        elif "QMP" in m:
            out.append(Window(None, m, [], None, e["t"]))
        elif "event" in m:
            out[-1].events.append(m)
        else:
            assert out[-1].reply is None, e
            out[-1].reply = m
    last = out[-1]
    trailing = [ev for ev in last.events if ev["event"] == "SHUTDOWN"]
    if trailing:  # virsh destroy: SIGTERM after the last reply
        assert trailing == last.events[-1:] and trailing[0]["data"] == {"guest": False, "reason": "host-signal"}
        last.events = last.events[:-1]
        out.append(Window("destroy", None, trailing, None, entries[-1]["t"]))
    for w, following in zip(out, out[1:]):
        w.gap = following.t - w.t
    return out


# ---------------------------------------------------------------------------
# The explanations
# ---------------------------------------------------------------------------
def strip_event(ev: dict) -> dict:
    """An event without its time stamp, whose shape and place (first member) are checked."""
    assert next(iter(ev)) == "timestamp", ev
    ev = dict(ev)
    stamp = ev.pop("timestamp", None)
    assert isinstance(stamp, dict) and set(stamp) == TIMESTAMP_KEYS and 0 <= stamp["microseconds"] < 1_000_000, ev
    return ev


@dataclass
class Allowed:
    """A difference the replay accepts: where (``command``, optional ``arguments`` regular expressions over
    argument values, ``greeting``), how the two sides are made comparable (``normalise``, applied to
    both, as the ```deviation block ``doc`` of docs/deviations.md describes), why (``category``), and in
    which transcripts it must be needed."""

    doc: str
    category: str
    normalise: Callable[[dict], dict]
    transcripts: set[str]
    command: str | None = None
    arguments: dict = field(default_factory=dict)
    greeting: bool = False

    def applies(self, w: Window) -> bool:
        if w.request is None:
            return self.greeting
        if not isinstance(w.request, dict) or w.request.get("execute") != self.command:
            return False
        args = w.request.get("arguments") or {}
        return all(isinstance(args.get(k), str) and re.fullmatch(p, args[k]) for k, p in self.arguments.items())


BLOCKS = {d.id: d for d in deviations_mod.load(str(DEVIATIONS))}
SECTION = "## libvirt's domain transcripts"
LIBVIRT_SECTION = DEVIATIONS.read_text(encoding="utf-8").partition(SECTION)[2].partition("\n## ")[0]


def from_block(block_id: str) -> Callable[[dict], dict]:
    """The comparison a ```deviation block of docs/deviations.md describes, for one message."""
    d = BLOCKS[block_id]

    def normalise(msg: dict) -> dict:
        msg = copy.deepcopy(msg)
        if d.kind == "mask":
            for path in d.spec["paths"]:
                _mask_path(msg, path.split("."))
        elif d.kind == "unordered-reply":
            msg["return"] = sorted(msg["return"], key=lambda x: json.dumps(x, sort_keys=True))
        elif d.kind == "reply-projection":
            msg["return"] = PROJECTIONS[d.spec["projection"]](msg["return"])
        else:
            raise AssertionError("block %s: kind %s is not used by this replay" % (block_id, d.kind))
        return msg

    return normalise


DEFAULT = {"start", "hotplug", "lifecycle"}
ALL = DEFAULT | {"native"}
ALLOWED = [
    Allowed("version-build", "build identity", from_block("version-build"), {"start"}, greeting=True),
    Allowed("vcpu-thread-id", "host identity", from_block("vcpu-thread-id"), {"start"}, command="query-cpus-fast"),
    Allowed("qom-list-order", "hash-table order", from_block("qom-list-order"), ALL - {"lifecycle"},
            command="qom-list", arguments={"path": "/machine/peripheral"}),
    Allowed("query-pci-resources", "not modelled", from_block("query-pci-resources"), {"hotplug"},
            command="query-pci"),
]


# ---------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------
@dataclass
class Tally:
    identical: int = 0
    explained: collections.Counter = field(default_factory=collections.Counter)  # doc -> replies
    events_identical: int = 0  # windows whose events are the recorded ones
    unexplained: list[str] = field(default_factory=list)

    def figures(self) -> str:
        return "%d identical, %d explained (%s), %d event windows identical" % (
            self.identical, sum(self.explained.values()),
            ", ".join("%s %d" % kv for kv in sorted(self.explained.items())) or "-", self.events_identical)


def compare_reply(name: str, w: Window, got: dict | None, tally: Tally) -> None:
    if json.dumps(got) == json.dumps(w.reply):  # member order included
        tally.identical += 1
        return
    for a in ALLOWED:
        if (name in a.transcripts and a.applies(w) and got is not None
                and json.dumps(a.normalise(got)) == json.dumps(a.normalise(w.reply))):
            tally.explained[a.doc] += 1
            return
    tally.unexplained.append("%s: reply to %s\n  QEMU:      %s\n  qmp-mockd: %s" % (
        name, json.dumps(w.request), json.dumps(w.reply), json.dumps(got)))


def compare_events(name: str, w: Window, got: list[dict], tally: Tally) -> None:
    expected = [strip_event(e) for e in w.events]
    actual = [strip_event(e) for e in got]
    key = json.dumps  # member order included
    if sorted(map(key, expected)) == sorted(map(key, actual)):
        tally.events_identical += 1
    else:
        tally.unexplained.append("%s: events after %s\n  QEMU:      %s\n  qmp-mockd: %s" % (
            name, json.dumps(w.request), [key(e) for e in expected], [key(e) for e in actual]))
    # The order that matters: a proxy's virtio-backend goes before the device.
    deleted = [e["data"].get("path") for e in actual if e["event"] == "DEVICE_DELETED"]
    for path in deleted:
        if path and path.endswith("/virtio-backend"):
            parent = path.rsplit("/", 1)[0]
            if parent in deleted:
                assert deleted.index(path) < deleted.index(parent), deleted


def drain(c: Client) -> list[dict]:
    """The messages already on the monitor connection, without waiting for more."""
    out = []
    while True:
        if b"\n" in c.buf:
            out.append(c.msg())
            continue
        if c.eof or not select.select([c.sock], [], [], 0)[0]:
            return out
        c._fill(time.monotonic() + LINE_TIMEOUT)


class Clock:
    """The daemon's manual clock, moved through its control socket by the time libvirt let pass."""

    def __init__(self, path: str):
        self.ctl = Client(path)
        self.ctl.line()
        self.ctl.send('{"execute":"qmp_capabilities"}')
        assert self.ctl.line() == '{"return": {}}'

    def advance(self, seconds: float) -> None:
        """Runs every guest timer due within ``seconds``; the events they raise are on the monitor
        connection before the reply (docs/control-plane.md, clock-advance)."""
        ms = round(seconds * 1000)
        if ms <= 0:
            return
        self.ctl.send(json.dumps({"execute": "clock-advance", "arguments": {"ms": ms}}))
        while True:
            m = self.ctl.msg()
            if "event" not in m:  # the guest's register writes come as control events
                assert "return" in m, m
                return


def read_window(c: Client, clock: Clock, w: Window) -> tuple[dict | None, list[dict]]:
    """The reply and the events of one window: up to the reply, then what the guest does while the
    recorded time until the next request passes. An event the recording has and that has not come
    yet gets EVENT_TIMEOUT (a missing one shows in the comparison)."""
    events, reply = [], None
    while reply is None:
        m = c.msg()
        if "event" in m:
            events.append(m)
        else:
            reply = m
    clock.advance(w.gap)
    events += drain(c)
    while len(events) < len(w.events):
        try:
            events.append(c.msg(EVENT_TIMEOUT))
        except AssertionError:
            break
    return reply, events


def replay(c: Client, clock: Clock, proc, name: str, entries: list[dict], tally: Tally) -> None:
    for w in windows(entries):
        if w.request is None:
            compare_reply(name, w, c.msg(), tally)
            continue
        if w.request == "destroy":
            proc.send_signal(signal.SIGTERM)  # virsh destroy sends no command
            rest = [json.loads(line) for line in c.read_to_eof().decode().split("\r\n") if line]
            compare_events(name, w, rest, tally)
            assert proc.wait(10) == 0
            continue
        c.send(json.dumps(w.request, separators=(",", ":")) + "\r\n")
        reply, events = read_window(c, clock, w)
        compare_reply(name, w, reply, tally)
        compare_events(name, w, events, tally)


MOCK_CONFIG = "guest:\n  persona: %s\nclock: manual\ncontrol: %s\n"
PERSONA = "never-ack"  # the guest the recording had (module docstring)


def run_domain(argv_name: str, transcripts: list[str], persona: str = PERSONA) -> dict[str, Tally]:
    link = os.path.join(os.path.dirname(os.path.abspath(mockd_binary_path())), "qemu-system-x86_64")
    if not os.path.exists(link):
        pytest.skip("no qemu-system-x86_64 link beside %s (make build makes it)" % mockd_binary_path())
    d = short_tmpdir("lvr-")
    proc = None
    try:
        disk = os.path.join(d, "disk.raw")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        config = os.path.join(d, "mock.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(MOCK_CONFIG % (persona, os.path.join(d, "control.sock")))
        at_recorded_fd = free_fd(MONITOR_FD)
        proc = start_domain(link, d, argv=recorded_argv(argv_name), fd=MONITOR_FD,
                            env_extra={"QMP_MOCK_CONFIG": config})
        if at_recorded_fd:  # else (the number is taken here) the socket is passed where it was opened
            assert os.readlink("/proc/%d/fd/%d" % (proc.pid, MONITOR_FD)).startswith("socket:[")
        c = Client(os.path.join(d, "monitor.sock"))
        wait_until(lambda: os.path.exists(os.path.join(d, "control.sock")), 10, "the control socket")
        clock = Clock(os.path.join(d, "control.sock"))
        subs = {"<domain-dir>": d, "<disk>": disk}
        tallies = {}
        for name in transcripts:
            tallies[name] = Tally()
            entries = load("qmp-%s.jsonl" % name, subs)
            replay(c, clock, proc, name, entries, tallies[name])
        c.close()
        clock.ctl.close()
        return tallies
    except BaseException:
        log = os.path.join(d, "domain.log")
        if os.path.exists(log):  # the daemon's stderr, as libvirt would quote it
            sys.stderr.write(open(log, errors="replace").read())
        raise
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def default_domain():
    return run_domain("argv-domain.txt", ["start", "hotplug", "lifecycle"])


@pytest.fixture(scope="module")
def native_domain():
    return run_domain("argv-domain-native.txt", ["start", "native"])


def check(name: str, tally: Tally) -> None:
    print("%s: %s" % (name, tally.figures()))
    assert not tally.unexplained, "unexplained differences:\n" + "\n".join(tally.unexplained)
    needed = {a.doc for a in ALLOWED if name in a.transcripts}
    assert needed == set(tally.explained), "allowlist entries for %s not needed: %s" % (
        name, needed - set(tally.explained))
    for doc in needed:
        assert doc in BLOCKS, doc
        assert "`%s`" % doc in LIBVIRT_SECTION, "docs/deviations.md, %s: name %s" % (SECTION, doc)


def test_start(default_domain, native_domain):
    check("start", default_domain["start"])
    check("start", native_domain["start"])


def test_hotplug(default_domain):
    check("hotplug", default_domain["hotplug"])


def test_lifecycle(default_domain):
    check("lifecycle", default_domain["lifecycle"])


def test_native(native_domain):
    check("native", native_domain["native"])


def test_a_linux_guest_is_not_the_recorded_one():
    """Why the persona: with qmp-mockd's default guest (Linux's drivers) the native slot is powered by
    the time libvirt detaches, so the unplug is refused and no DEVICE_DELETED comes."""
    native = run_domain("argv-domain-native.txt", ["start", "native"], persona="linux")["native"]
    assert any("libvirt-418" in u and "guest is busy" in u for u in native.unexplained), native.unexplained
    assert any(u.startswith("native: events after") and "libvirt-418" in u for u in native.unexplained)
