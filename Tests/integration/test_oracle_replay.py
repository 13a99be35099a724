"""Replay real-QEMU 7.2 golden QMP transcripts against qmp-mockd.

The transcripts in fixtures/ were recorded from QEMU 7.2 (Debian 12,
``-machine q35 -S``) by the oracle harness; see fixtures/README.md. Every
``c2s`` entry is sent to qmp-mockd byte for byte, in order, on one connection,
and the lines the daemon answers are compared with the ``s2c`` lines QEMU
answered between that ``c2s`` entry and the next one. The comparison is
byte-exact (including QEMU's member order) after a few documented
normalisations (see ``normalise``) and the explicit allowlist of commands the
mock does not implement yet (see ``NOT_YET_IMPLEMENTED``).

Self-contained: the ``mockd`` fixture below starts its own daemon
(``$QMP_MOCKD``, default ``<repo>/.build/debug/qmp-mockd``) as
``qmp-mockd --qmp SOCK --qemu-version 7.2.0 --paused`` -- ``--paused`` gives run
state ``prelaunch`` like QEMU's ``-S`` used for the recording.

Both transcripts use a single QMP connection and end with ``quit``: QEMU sends
the SHUTDOWN event and ``{"return": {}}``, closes the connection and exits with
status 0. The replay checks all three (EOF on the socket, daemon exit, exit
status). A transcript that reconnects is rejected by the loader.

On failure the test prints every mismatching step (what was sent, what QEMU
answered, what qmp-mockd answered), grouped by kind in a summary; run with
``-s`` to also see the per-transcript line counts of passing runs.
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
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import qemu_json_string  # QEMU's string spelling, shared with the other tests

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parents[1]
DEFAULT_BINARY = REPO / ".build" / "debug" / "qmp-mockd"

# One test per transcript (fixtures/NAME.jsonl).
TRANSCRIPTS = ["a1_qmp_protocol", "a2_qmp_oob"]

LINE_TIMEOUT = 5.0  # max wait for each expected line (no blind sleeps: we read exactly N lines)
START_TIMEOUT = 10.0  # daemon start until the QMP socket accepts
EXIT_TIMEOUT = 5.0  # daemon exit after quit / after SIGTERM in teardown
DRAIN_QUIET = 0.3  # only after a mismatching step: collect surplus lines until quiet (resync)
DRAIN_LIMIT = 5.0

# ---------------------------------------------------------------------------
# Allowlist: commands qmp-mockd does not implement in this (first) milestone.
#
# For these, in *command mode* (after qmp_capabilities succeeded), the mock
# answers exactly what QEMU answers for a command that does not exist:
#     {"error": {"class": "CommandNotFound", "desc": "The command NAME has not been found"}}
# or, with an id, QEMU's member order  {"id": ID, "error": {...}}.
# A step whose c2s entry executes (``execute`` or ``exec-oob``) one of these
# names and for which QEMU answered with exactly one reply line that comes from
# the command itself (a return, or an error that is not one of the dispatcher's
# "QMP input ..." checks, which run before the command lookup) gets that
# CommandNotFound line as its expected reply instead of QEMU's. In negotiation
# mode QEMU answers every command with "Expecting capabilities negotiation with
# 'qmp_capabilities'" before looking the command up, so nothing is substituted
# there -- the mock must match QEMU unchanged.
#
# THIS LIST MUST SHRINK as commands get implemented: delete an entry in the
# same change that implements the command, so the transcript's real QEMU reply
# is compared again. device_add, device_del and qom-list come in the next
# milestone. (query-uuid etc. are not in these transcripts, so not listed;
# test_allowlist_entries_are_used fails for entries no transcript uses.)
# ---------------------------------------------------------------------------
NOT_YET_IMPLEMENTED = {
    # a2 (exec-oob): "migrate-pause is currently only supported during postcopy-active state"
    "migrate-pause": "not scheduled",
    # a2 (exec-oob): QEMU 7.2 (no test build) answers CommandNotFound itself, so
    # the substitution yields QEMU's own line; listed for completeness.
    "x-oob-test": "test-only command, not in QEMU release builds",
}


def _v8_query_hotplug(sent: dict) -> str:
    """x-query-hotplug exists only in the unmerged v8 series, which qmp-mock implements: real QEMU
    answers CommandNotFound, the mock answers as v8's generated argument checks do."""
    args = sent.get("arguments") or {}
    if "id" not in args:
        return '{"error": {"class": "GenericError", "desc": "Parameter \'id\' is missing"}}'
    raise AssertionError("no expected v8 reply written for %r" % sent)


# Intended divergences from real QEMU 7.2 (documented in README): command -> expected reply.
MOCK_EXTENSIONS = {"x-query-hotplug": _v8_query_hotplug}

# Dispatcher-level errors, raised before the command is looked up; never substituted.
DISPATCH_ERROR_PREFIXES = ("QMP input ",)


# ---------------------------------------------------------------------------
# Transcript loading
# ---------------------------------------------------------------------------
class TranscriptError(Exception):
    pass


@dataclass
class Step:
    index: int
    seq: int | None  # transcript seq of the c2s entry (None: connect/greeting)
    t: float | None
    notes: list[str]
    sent: bytes | None  # None: step 0, the connection itself (greeting)
    command: str | None  # execute / exec-oob name when the c2s parsed as an object
    expected: list[str]  # lines (without "\r\n") the client must receive
    qemu_expected: list[str] | None = None  # QEMU's lines when replaced by the allowlist

    def title(self) -> str:
        if self.sent is None:
            return "step 0 (connect: greeting)"
        return "step %d (transcript seq %s, t=%.4f)" % (self.index, self.seq, self.t or 0.0)


@dataclass
class Transcript:
    name: str
    steps: list[Step]
    expect_eof: bool  # QEMU closed the QMP connection after the last step (quit)
    exit_rc: int | None  # QEMU's exit status, when it exited


def load_transcript(path: Path) -> Transcript:
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    spawns = [e for e in entries if e["dir"] == "proc" and e.get("event") == "spawn"]
    if len(spawns) != 1:
        raise TranscriptError("%s: expected exactly one spawn, found %d" % (path.name, len(spawns)))
    steps = [Step(0, None, None, [], None, None, [])]
    notes: list[str] = []
    eof = False
    exit_rc = None
    for e in entries:
        d = e["dir"]
        if d == "note":
            notes.append(e["text"])
        elif d == "c2s":
            if eof:
                raise TranscriptError(
                    "%s seq %s: client sends after qmp-eof (reconnect); the replayer "
                    "does not support reconnects" % (path.name, e.get("seq"))
                )
            data = bytes.fromhex(e["raw_hex"]) if "raw_hex" in e else e["raw"].encode("utf-8")
            msg = e.get("msg")
            command = None
            if isinstance(msg, dict):
                for key in ("execute", "exec-oob"):
                    if isinstance(msg.get(key), str):
                        command = msg[key]
                        break
            steps.append(Step(len(steps), e.get("seq"), e.get("t"), notes, data, command, []))
            notes = []
        elif d == "s2c":
            if eof:
                raise TranscriptError("%s seq %s: s2c after qmp-eof" % (path.name, e.get("seq")))
            steps[-1].expected.append(e["raw"])
        elif d == "proc":
            if e.get("event") == "qmp-eof":
                eof = True
            elif e.get("event") == "exit":
                exit_rc = e.get("rc")
        elif d == "guest":
            raise TranscriptError("%s: guest entries are not supported by this replayer" % path.name)
    return Transcript(path.stem, steps, eof, exit_rc)


def _parse(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return None


def command_not_found_line(name: str, qemu_line: str, qemu_msg: dict) -> str:
    err = '{"class": "CommandNotFound", "desc": %s}' % qemu_json_string(
        "The command %s has not been found" % name
    )
    if "id" not in qemu_msg:
        return '{"error": %s}' % err
    # Reuse QEMU's own spelling of the id (QEMU reformats numbers, e.g. 1.0 -> 1).
    prefix = '{"id": '
    id_text = None
    if qemu_line.startswith(prefix):
        try:
            _, end = json.JSONDecoder().raw_decode(qemu_line, len(prefix))
            id_text = qemu_line[len(prefix) : end]
        except ValueError:
            id_text = None
    if id_text is None:
        id_text = json.dumps(qemu_msg["id"])
    return '{"id": %s, "error": %s}' % (id_text, err)


def apply_allowlist(transcript: Transcript) -> list[Step]:
    """Replace QEMU's reply by CommandNotFound for allowlisted commands (see NOT_YET_IMPLEMENTED)."""
    negotiated = False
    substituted = []
    for step in transcript.steps[1:]:
        if not negotiated:
            # Negotiation mode: no substitution. Command mode starts once
            # qmp_capabilities got a successful reply from QEMU.
            if step.command == "qmp_capabilities" and len(step.expected) == 1:
                m = _parse(step.expected[0])
                if isinstance(m, dict) and "return" in m:
                    negotiated = True
            continue
        sent_msg = (
            _parse(step.sent.decode("utf-8", "replace")) if step.command in MOCK_EXTENSIONS and step.sent else None
        )
        if len(step.expected) == 1 and isinstance(sent_msg, dict):
            step.qemu_expected = step.expected
            step.expected = [MOCK_EXTENSIONS[step.command](sent_msg)]
            substituted.append(step)
            continue
        if step.command not in NOT_YET_IMPLEMENTED or len(step.expected) != 1:
            continue
        m = _parse(step.expected[0])
        if not isinstance(m, dict):
            continue
        if "error" in m:
            desc = (m["error"] or {}).get("desc", "")
            if desc.startswith(DISPATCH_ERROR_PREFIXES):
                continue
        elif "return" not in m:
            continue
        step.qemu_expected = step.expected
        step.expected = [command_not_found_line(step.command, step.expected[0], m)]
        substituted.append(step)
    return substituted


# ---------------------------------------------------------------------------
# Normalisation and comparison
# ---------------------------------------------------------------------------
# (1) Events: the "timestamp" member is wall-clock time; its value is masked,
#     its shape and position are not (must be QEMU's
#     {"seconds": N, "microseconds": N}, as the first member).
TIMESTAMP_RE = re.compile(r'"timestamp": \{"seconds": -?\d+, "microseconds": -?\d+\}')
# (2) Greeting and query-version: "package" is the build string (QEMU:
#     "Debian 1:7.2+dfsg-7+deb12u18+b3", mock: "qmp-mock X"): masked.
PACKAGE_RE = re.compile(r'"package": "(?:[^"\\]|\\.)*"')
# (3) Greeting and query-version: the version must be 7.2.x -- "major" and
#     "minor" are compared, "micro" is masked (QEMU 7.2.22 vs mock 7.2.0).
MICRO_RE = re.compile(r'"micro": -?\d+')


def _is_version_line(line: str) -> bool:
    m = _parse(line)
    if not isinstance(m, dict):
        return False
    if isinstance(m.get("QMP"), dict):
        return True
    r = m.get("return")
    return isinstance(r, dict) and "qemu" in r and "package" in r


def normalise(line: str) -> str:
    line = TIMESTAMP_RE.sub('"timestamp": "<masked>"', line)
    if _is_version_line(line):
        line = PACKAGE_RE.sub('"package": "<masked>"', line)
        line = MICRO_RE.sub('"micro": "<masked>"', line)
    return line


def _canonical(line: str):
    """Order-insensitive, type-strict form of a JSON line (None if not JSON)."""
    try:
        return json.loads(
            line,
            object_pairs_hook=lambda pairs: ("obj", tuple(sorted(pairs, key=lambda kv: kv[0]))),
            parse_int=lambda s: ("int", s),
            parse_float=lambda s: ("float", s),
            parse_constant=lambda s: ("const", s),
        )
    except (ValueError, RecursionError):
        return None


def classify(expected: str, got: str) -> str | None:
    e, g = normalise(expected), normalise(got)
    if e == g:
        return None
    ce = _canonical(e)
    if ce is not None and ce == _canonical(g):
        return "member-order"  # same members and values, different order: still a failure
    return "content"


# ---------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------
class LineReader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def readline(self, timeout: float) -> bytes | None:
        """Next line including its terminator; partial bytes at EOF; None at EOF.

        Raises TimeoutError when no complete line arrives within `timeout`.
        """
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def drain(self, quiet: float, limit: float) -> list[bytes]:
        out = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self.readline(min(quiet, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                break
            if line is None:
                break
            out.append(line)
        return out


@dataclass
class Got:
    text: str  # decoded line without terminator
    terminator_ok: bool  # ended in "\r\n" like QEMU's monitor output
    raw: bytes

    @staticmethod
    def of(line: bytes) -> "Got":
        ok = line.endswith(b"\r\n")
        body = line[:-2] if ok else line.rstrip(b"\n")
        return Got(body.decode("utf-8", "backslashreplace"), ok, line)


def _set_pdeathsig():  # runs in the child: die with the test process
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class Daemon:
    proc: subprocess.Popen
    sock_path: str
    log_path: str
    sock: socket.socket | None = None

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = Path(self.log_path).read_text(errors="backslashreplace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:]) or "(empty)"

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "qmp-mockd exited with %s before its QMP socket accepted:\n%s"
                    % (self.proc.returncode, self.log_tail())
                )
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock_path)
                self.sock = s
                return
            except OSError as exc:
                s.close()
                last = exc
            if time.monotonic() > deadline:
                raise TimeoutError("QMP socket %s never accepted: %r" % (self.sock_path, last))
            time.sleep(0.02)  # polling for the socket to appear, not for a reply


@pytest.fixture
def mockd():
    env = os.environ.get("QMP_MOCKD")
    binary = env or str(DEFAULT_BINARY)
    if not os.access(binary, os.X_OK):
        if env:
            pytest.fail("QMP_MOCKD=%s is not an executable file" % env)
        pytest.skip("qmp-mockd not built (%s); set QMP_MOCKD or run swift build" % binary)
    tmp = tempfile.mkdtemp(prefix="qmp-replay-", dir="/tmp")
    sock_path = os.path.join(tmp, "qmp.sock")  # well below the 108-byte sun_path limit
    log_path = os.path.join(tmp, "qmp-mockd.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [binary, "--qmp", sock_path, "--qemu-version", "7.2.0", "--paused"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
        preexec_fn=_set_pdeathsig,
    )
    daemon = Daemon(proc, sock_path, log_path)
    try:
        daemon.connect(START_TIMEOUT)
        yield daemon
    finally:
        if daemon.sock is not None:
            daemon.sock.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Replay
# ---------------------------------------------------------------------------
@dataclass
class LineDiff:
    index: int  # position within the step
    kind: str  # content | member-order | terminator | missing | extra
    expected: str | None
    got: str | None
    note: str | None = None


@dataclass
class StepResult:
    step: Step | None  # None: after the last step (EOF / exit checks)
    got: list[Got]
    diffs: list[LineDiff]
    problem: str | None = None  # timeout / connection closed / exit status text
    problem_kind: str | None = None


@dataclass
class ReplayResult:
    transcript: Transcript
    results: list[StepResult] = field(default_factory=list)
    compared_lines: int = 0
    identical_lines: int = 0
    not_replayed_steps: int = 0

    @property
    def failures(self) -> list[StepResult]:
        return [r for r in self.results if r.diffs or r.problem]


def compare_step(expected: list[str], got: list[Got]) -> list[LineDiff]:
    diffs = []
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if g is None:
            diffs.append(LineDiff(i, "missing", e, None))
        elif e is None:
            diffs.append(LineDiff(i, "extra", None, g.text))
        else:
            kind = classify(e, g.text)
            note = None
            if not g.terminator_ok:
                note = "line not terminated by \\r\\n like QEMU's (raw end: %r)" % g.raw[-12:]
                if kind is None:
                    kind = "terminator"  # QEMU ends every line with "\r\n"
            if kind is not None:
                diffs.append(LineDiff(i, kind, e, g.text, note))
    return diffs


def replay(daemon: Daemon, transcript: Transcript) -> ReplayResult:
    res = ReplayResult(transcript)
    reader = LineReader(daemon.sock)
    steps = transcript.steps
    for pos, step in enumerate(steps):
        if step.sent is not None:
            try:
                daemon.sock.sendall(step.sent)
            except OSError as exc:
                res.results.append(
                    StepResult(step, [], [], "send failed: %r (daemon %s)" % (exc, _status(daemon)),
                               "connection-closed")
                )
                res.not_replayed_steps = len(steps) - pos
                return res
        got: list[Got] = []
        problem = kind = None
        for _ in step.expected:
            try:
                line = reader.readline(LINE_TIMEOUT)
            except TimeoutError:
                problem, kind = "no line within %.0f s" % LINE_TIMEOUT, "missing"
                break
            if line is None:
                problem = "connection closed by qmp-mockd (daemon %s)" % _status(daemon)
                kind = "connection-closed"
                break
            got.append(Got.of(line))
        diffs = compare_step(step.expected, got)
        if diffs and kind is None:
            # Resync after a mismatch: pick up what else the daemon sent for
            # this step, so one surplus line does not shift every later step.
            for line in reader.drain(DRAIN_QUIET, DRAIN_LIMIT):
                got.append(Got.of(line))
            diffs = compare_step(step.expected, got)
        res.compared_lines += len(step.expected)
        res.identical_lines += len(step.expected) - sum(1 for d in diffs if d.kind != "extra")
        res.results.append(StepResult(step, got, diffs, problem, kind if problem else None))
        if kind == "connection-closed":
            res.not_replayed_steps = len(steps) - pos - 1
            if pos == len(steps) - 1 and transcript.expect_eof:
                break  # closed during the last step: reported above, then check the exit below
            return res

    if transcript.expect_eof:
        tail = StepResult(None, [], [])
        if not reader.eof:
            # QEMU closed the connection after the last reply (quit): anything
            # else before EOF is surplus output.
            extra = []
            closed = False
            deadline = time.monotonic() + LINE_TIMEOUT
            while time.monotonic() < deadline:
                try:
                    line = reader.readline(max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    break
                if line is None:
                    closed = True
                    break
                extra.append(Got.of(line))
            tail.got = extra
            tail.diffs = [LineDiff(i, "extra", None, g.text) for i, g in enumerate(extra)]
            if not closed:
                tail.problem = "QEMU closed the QMP connection here; qmp-mockd kept it open for %.0f s" % LINE_TIMEOUT
                tail.problem_kind = "no-eof"
        if transcript.exit_rc is not None and not tail.problem:
            try:
                rc = daemon.proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                rc = None
            if rc is None:
                tail.problem = "QEMU exited (status %d) after quit; qmp-mockd still running after %.0f s" % (
                    transcript.exit_rc, EXIT_TIMEOUT)
                tail.problem_kind = "exit"
            elif rc != transcript.exit_rc:
                tail.problem = "qmp-mockd exited with status %d, QEMU with %d (daemon %s)" % (
                    rc, transcript.exit_rc, _status(daemon))
                tail.problem_kind = "exit"
        res.results.append(tail)
    return res


def _status(daemon: Daemon) -> str:
    """Daemon state for failure messages (waits up to 1 s so a crash gets reaped)."""
    try:
        rc = daemon.proc.wait(1.0)
    except subprocess.TimeoutExpired:
        rc = None
    state = "still running" if rc is None else "exited with status %d" % rc
    tail = "\n".join("        | " + line for line in daemon.log_tail().splitlines())
    return "%s; its output (last lines):\n%s" % (state, tail)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
MAX_SHOWN = 600  # characters per line in the report
MAX_DIFFS_PER_STEP = 12


def _cut(s: str | None) -> str:
    if s is None:
        return "(nothing)"
    return s if len(s) <= MAX_SHOWN else s[:MAX_SHOWN] + "... [%d chars]" % len(s)


def _sent_repr(data: bytes) -> str:
    try:
        s = json.dumps(data.decode("utf-8"), ensure_ascii=False)
    except UnicodeDecodeError:
        s = repr(data)
    return _cut(s)


def render_report(res: ReplayResult) -> str:
    t = res.transcript
    failures = res.failures
    kinds: Counter = Counter()
    for r in failures:
        for d in r.diffs:
            kinds[d.kind] += 1
        if r.problem_kind and r.problem_kind not in ("missing",):
            kinds[r.problem_kind] += 1
    out = [
        "%s: %d of %d steps (+ end-of-session checks) differ from QEMU 7.2 "
        "(%d expected lines compared, %d identical)"
        % (t.name, len(failures), len(t.steps), res.compared_lines, res.identical_lines),
        "by kind: " + ", ".join("%s=%d" % kv for kv in sorted(kinds.items())),
    ]
    if res.not_replayed_steps:
        out.append("%d steps were not replayed (connection gone)" % res.not_replayed_steps)
    for r in failures:
        out.append("")
        if r.step is None:
            out.append("=== after the last step [%s]" % (r.problem_kind or "extra"))
        else:
            s = r.step
            kinds_here = sorted({d.kind for d in r.diffs} | ({r.problem_kind} if r.problem_kind else set()))
            out.append("=== %s [%s]" % (s.title(), ", ".join(kinds_here)))
            for n in s.notes:
                out.append("    note:     %s" % n)
            if s.sent is not None:
                out.append("    sent:     %s" % _sent_repr(s.sent))
            if s.qemu_expected is not None:
                out.append("    allowlist: %r not implemented yet; QEMU's reply replaced by CommandNotFound" % s.command)
                for q in s.qemu_expected:
                    out.append("    (QEMU said: %s)" % _cut(q))
            out.append("    lines: %d expected, %d received" % (len(s.expected), len(r.got)))
        if r.problem:
            out.append("    problem:  %s" % r.problem)
        for d in r.diffs[:MAX_DIFFS_PER_STEP]:
            out.append("    [%d] %s" % (d.index + 1, d.kind))
            out.append("        expected: %s" % _cut(d.expected))
            out.append("        got:      %s" % _cut(d.got))
            if d.note:
                out.append("        (%s)" % d.note)
        if len(r.diffs) > MAX_DIFFS_PER_STEP:
            more = Counter(d.kind for d in r.diffs[MAX_DIFFS_PER_STEP:])
            out.append("    ... %d more differing lines in this step (%s)" % (
                len(r.diffs) - MAX_DIFFS_PER_STEP, ", ".join("%s=%d" % kv for kv in sorted(more.items()))))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_oracle_replay(name, mockd):
    transcript = load_transcript(FIXTURES / ("%s.jsonl" % name))
    substituted = apply_allowlist(transcript)
    res = replay(mockd, transcript)
    print(
        "\n%s: %d steps, %d lines compared (%d identical), %d replies substituted by the "
        "not-yet-implemented allowlist (%s)"
        % (name, len(transcript.steps), res.compared_lines, res.identical_lines, len(substituted),
           ", ".join(sorted({s.command for s in substituted})) or "none")
    )
    if res.failures:
        pytest.fail(render_report(res), pytrace=False)


def test_allowlist_entries_are_used():
    """Every NOT_YET_IMPLEMENTED entry must still replace some QEMU reply; stale entries go."""
    used = set()
    for name in TRANSCRIPTS:
        used |= {s.command for s in apply_allowlist(load_transcript(FIXTURES / ("%s.jsonl" % name)))}
    assert set(NOT_YET_IMPLEMENTED) - used == set()
