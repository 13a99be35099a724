"""Every documented example works: the ``console``/``sh``/``shell``/``bash`` blocks of README.md and
docs/**/*.md that mention ``qmp-mockd``, ``qmp-mockctl``, ``qmp-bench``, ``socat`` or ``qmp-shell``
are run for real against a daemon started for them, and what a ``console`` block shows is compared
with what the programs print.

How a block is read:

* ``console``: a line starting with ``$ `` is a command (a trailing ``\\`` continues it on the next
  line); the lines up to the next command are its output (stdout and stderr, as a terminal shows
  them). A command must exit 0: to document a failure, show it as ``$ cmd; echo "exit $?"``.
  Interactive commands are driven: under ``socat - UNIX-CONNECT:...`` the lines that are QMP
  commands (``{"execute": ...}``) are typed into it one at a time, each after the lines shown before
  it arrived; under ``qmp-shell`` a ``(QEMU) cmd`` line is typed at its prompt.
* ``sh``/``shell``/``bash``: every line that is not blank or a comment is a command (continued by a
  trailing ``\\``); each must exit 0; output is not compared.

Every such block is either in ``RUNNABLE`` (how to run it: which daemon, with which flags) or in
``NOT_RUNNABLE`` (why it cannot run here), keyed by the block's first command line as written. A
block in neither list fails the test, and so does an entry that matches no block any more.

Substitutions (``substitute``), applied to each command before it runs in a fresh work directory:

* BINARIES: ``qmp-mockd``, ``qmp-mockctl``, ``qmp-bench``, bare or with any directory
  (``/usr/local/bin/``, ``.build/release/``), become the binaries under test ($QMP_MOCKD and its
  siblings); ``qmp-shell`` (bare or ``.venv/bin/qmp-shell``) becomes the venv's; a bare
  ``qemu-system-x86_64`` (docs/qemu-command-line.md) becomes a link of that name to $QMP_MOCKD (a
  path to one, such as ``/usr/bin/qemu-system-x86_64``, is a real QEMU and makes no tool block).
* TMP_PATHS: an absolute ``/tmp/NAME`` becomes ``<work dir>/NAME`` (and back in the output
  compared); ``$XDG_RUNTIME_DIR`` is the work dir. Relative paths (``./qmp.sock``, ``q.sock``) are used as written: commands run in the
  work dir, where the block's daemon listens.
* A plan's ``rewrites``: explicit per-block edits (smaller benchmark counts), each with its reason.

Output normalisation (``normalise``), applied to both sides:

* TIMESTAMPS: an event's ``"seconds": N, "microseconds": N`` (wall-clock time).
* PACKAGE_VERSION: the greeting's ``"package": "qmp-mock X"``.
* ELISION: an output line ``...`` in the documentation matches any number of lines.
* Trailing blanks on each line.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, DaemonFactory, base_env, is_listening, mockd_binary_path, short_tmpdir

TOOLS = ("qmp-mockd", "qmp-mockctl", "qmp-bench", "socat", "qmp-shell")
TOOL_RE = re.compile(r"(?<![\w-])(%s)(?![\w-])" % "|".join(map(re.escape, TOOLS)))
# qmp-mockd invoked as QEMU: only the bare name (a path names a real QEMU, as in docs/conformance.md).
QEMU_RE = re.compile(r"(?<![\w/.$-])qemu-system-x86_64(?![\w.-])")
LANGS = {"console", "sh", "shell", "bash"}
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
COMMAND_TIMEOUT = 30.0
LINE_TIMEOUT = 5.0


def doc_files() -> list[Path]:
    """README.md and every Markdown page under docs/, found anew on every run."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]


# ---------------------------------------------------------------------------
# What to do with each block
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonSpec:
    """A qmp-mockd started for a block (or one command of it); paths relative to the work dir."""

    qmp: str = "qmp.sock"
    control: str | None = None
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Server:
    """The command is itself a server: start it, wait until it listens on ``sockets``, stop it."""

    sockets: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """How to run a block: one daemon for all its commands, or one setup per command (``per_command``,
    in order: a DaemonSpec, a Server, or None for nothing)."""

    why: str
    daemon: DaemonSpec | None = DaemonSpec()
    per_command: tuple[DaemonSpec | Server | None, ...] | None = None
    rewrites: tuple[tuple[str, str], ...] = ()


BENCH_SMALL = " --count 20 --warmup 5 --pipelined 200 --runs 1 --connects 5"

RUNNABLE: dict[str, Plan] = {
    # README "Talking to it": a default daemon on ./qmp.sock; the session is typed into socat.
    "socat - UNIX-CONNECT:./qmp.sock": Plan("default daemon on ./qmp.sock"),
    # README "Talking to it": qmp-shell at its prompt.
    ".venv/bin/qmp-shell ./qmp.sock": Plan("default daemon on ./qmp.sock"),
    # docs/command-line.md "Exit codes": the daemon's own usage and socket errors; no daemon beforehand.
    'qmp-mockd --bogus; echo "exit $?"': Plan("no daemon: the commands are failing daemon starts", daemon=None),
    # docs/qemu-command-line.md: the link's version and error lines; no daemon.
    "qemu-system-x86_64 -version": Plan("no daemon: qemu-system-x86_64's -version and refused command lines",
                                        daemon=None),
    # docs/qemu-command-line.md "The process contract": libvirt's probe daemonizes its own daemon, which
    # socat drives and quit ends.
    'qemu-system-x86_64 -S -no-user-config -nodefaults -nographic -machine none,accel=kvm:tcg -qmp '
    'unix:/tmp/probe.qmp,server=on,wait=off -pidfile /tmp/probe.pid -daemonize; echo "exit $?"': Plan(
        "no daemon beforehand: the first command daemonizes one on /tmp/probe.qmp; quit ends it", daemon=None),
    # docs/control-plane.md "qmp-mockctl": the control plane; the shown now-ns needs the manual clock.
    "qmp-mockctl --control /tmp/vm1.ctl clock advance 5s": Plan(
        "daemon with --control /tmp/vm1.ctl and the manual clock (now-ns: 5000000000)",
        daemon=DaemonSpec(qmp="vm1.sock", control="vm1.ctl", args=("--clock", "manual")),
    ),
    # README "A hot-plug, step by step": the daemon the text starts (manual clock, control socket).
    "socat - UNIX-CONNECT:/tmp/vm1.sock": Plan(
        "daemon with --qmp /tmp/vm1.sock --control /tmp/vm1.ctl and the manual clock, as the text starts it",
        daemon=DaemonSpec(qmp="vm1.sock", control="vm1.ctl", args=("--clock", "manual")),
    ),
    # README "ACPI hot-plug, step by step": the daemon the text starts (config/acpi-q35.yaml).
    "qmp-mockctl --control /tmp/vm2.ctl clock advance 1s": Plan(
        "daemon with --qmp /tmp/vm2.sock --control /tmp/vm2.ctl, the manual clock and config/acpi-q35.yaml",
        daemon=DaemonSpec(qmp="vm2.sock", control="vm2.ctl",
                          args=("--clock", "manual", "--config", str(REPO / "config" / "acpi-q35.yaml"))),
    ),
    # docs/hmp.md "Human monitor sockets": Ganeti's socat call on the daemon the text names.
    "echo 'info status' | socat STDIO UNIX-CONNECT:/tmp/vm1.hmp | tr -d '\\r\\033' | tail -n 2": Plan(
        "daemon with --hmp /tmp/vm1.hmp --paused, as the text starts it",
        daemon=DaemonSpec(qmp="vm1.sock", args=("--hmp", "vm1.hmp", "--paused")),
    ),
    # docs/control-plane.md "qmp-mockctl watch": the state once, from a fresh daemon on the manual clock (t=0.000s).
    "qmp-mockctl --control /tmp/vm1.ctl watch --once": Plan(
        "daemon with --control /tmp/vm1.ctl and the manual clock (t=0.000s)",
        daemon=DaemonSpec(qmp="vm1.sock", control="vm1.ctl", args=("--clock", "manual")),
    ),
    # docs/benchmarks.md: each line names the daemon it needs in its comment.
    "qmp-bench target --qmp ./qmp.sock                                    # qmp-mockd --paused, or QEMU -S (--bus rp1)": Plan(
        "one daemon per command, as each comment says; cycle-server is a server",
        daemon=None,
        per_command=(
            DaemonSpec(args=("--paused",)),
            DaemonSpec(qmp="q.sock", control="c.sock", args=("--clock", "manual")),
            Server(("f.sock", "f.ctl")),
            DaemonSpec(qmp="q.sock", args=("--monitor-mode", "shared")),
        ),
        # Benchmark sizes cut so that the block runs in well under a second on a debug build; the
        # flags shown are all still given.
        rewrites=(
            (r"--cycles \d+", "--cycles 10"),
            (r"--fanout \d+", "--fanout 20"),
            (r"^(\S+ target .*?)(\s+#.*)?$", r"\1" + BENCH_SMALL),
        ),
    ),
}

NOT_RUNNABLE: dict[str, str] = {
    # README "Quick start".
    "make run      # builds and starts qmp-mockd on ./qmp.sock (Ctrl-C stops it)":
        "make run builds the release binaries and runs the daemon in the foreground until Ctrl-C; "
        "make test is the whole suite, this test included",
    # docs/systemd.md "Transient fixtures with systemd-run".
    "systemd-run --user --collect --unit qmp-vm1 -p Type=notify -p TimeoutStartSec=10s \\":
        "needs a running systemd user manager (systemd-run --user, systemctl --user); "
        "test_systemd.py runs the same invocations under a private manager",
    # docs/control-plane.md "qmp-mockctl watch", the live session.
    "qmp-mockctl --control /tmp/vm1.ctl watch | tee watch.log":
        "runs until the daemon goes away, while another client hot-plugs; test_watch.py drives this very "
        "session through a pipe and asserts these lines in order",
    # docs/systemd.md "Unit files".
    "install -m 0755 .build/release/qmp-mockd /usr/local/bin/qmp-mockd":
        "installs into /usr/local and /etc and starts system units (root, a system manager); "
        "test_systemd.py verifies the units and runs them under a user manager",
}


# ---------------------------------------------------------------------------
# Finding the blocks
# ---------------------------------------------------------------------------
@dataclass
class Command:
    text: str  # as written (continuations joined)
    line: int  # 1-based line in the file
    output: list[str] = field(default_factory=list)


@dataclass
class Block:
    file: str  # relative to the repository
    line: int  # the opening fence
    lang: str
    lines: list[str]

    @property
    def where(self) -> str:
        return "%s:%d" % (self.file, self.line)

    def commands(self) -> list[Command]:
        out: list[Command] = []
        body = self.lines
        i = 0
        while i < len(body):
            raw = body[i]
            n = self.line + 1 + i
            i += 1
            if self.lang == "console":
                if not raw.startswith("$ "):
                    if out:
                        out[-1].output.append(raw)
                    continue
                text = raw[2:]
            else:
                if not raw.strip() or raw.lstrip().startswith("#"):
                    continue
                text = raw
            while text.endswith("\\") and i < len(body):
                text = text[:-1] + " " + body[i].strip()
                i += 1
            out.append(Command(text, n))
        return out

    @property
    def key(self) -> str:
        for raw in self.lines:
            if self.lang == "console":
                if raw.startswith("$ "):
                    return raw[2:].strip()
            elif raw.strip() and not raw.lstrip().startswith("#"):
                return raw.strip()
        return ""

    @property
    def uses_tools(self) -> bool:
        return any(TOOL_RE.search(raw) or QEMU_RE.search(raw) for raw in self.lines)


def find_blocks() -> list[Block]:
    blocks = []
    for path in doc_files():
        rel = str(path.relative_to(REPO))
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = FENCE_RE.match(lines[i])
            if not m:
                i += 1
                continue
            fence, lang, start = m.group(1), m.group(2).lower(), i
            i += 1
            body = []
            while i < len(lines) and not re.match(r"^ {0,3}%s%s*\s*$" % (re.escape(fence), fence[0]), lines[i]):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            if lang in LANGS:
                blocks.append(Block(rel, start + 1, lang, body))
    return blocks


BLOCKS = [b for b in find_blocks() if b.uses_tools]


# ---------------------------------------------------------------------------
# Substitution and normalisation
# ---------------------------------------------------------------------------
def binaries() -> dict[str, str]:
    mockd = mockd_binary_path()
    here = os.path.dirname(mockd)
    shell = Path(sys.executable).parent / "qmp-shell"
    if not shell.exists():
        shell = REPO / ".venv" / "bin" / "qmp-shell"
    return {
        "qmp-mockd": mockd,
        "qmp-mockctl": os.path.join(here, "qmp-mockctl"),
        "qmp-bench": os.path.join(here, "qmp-bench"),
        "qmp-shell": str(shell),
    }


BINARY_RE = re.compile(r"(?<![\w/.$-])(?:[\w.$/-]*/)?(qmp-mockd|qmp-mockctl|qmp-bench|qmp-shell)(?![\w.-])")
TMP_RE = re.compile(r"(?<![\w/.-])/tmp/")


_QEMU_LINK: list[str] = []


def qemu_link() -> str:
    """A ``qemu-system-x86_64`` link to $QMP_MOCKD, made once per session in its own directory."""
    if not _QEMU_LINK:
        d = short_tmpdir("qmpdoc-qemu-")
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        link = os.path.join(d, "qemu-system-x86_64")
        os.symlink(os.path.abspath(mockd_binary_path()), link)
        _QEMU_LINK.append(link)
    return _QEMU_LINK[0]


def substitute(text: str, workdir: str, plan: Plan) -> str:
    bins = binaries()
    # TMP_PATHS before BINARIES: a checkout under /tmp must keep its binaries' paths.
    text = TMP_RE.sub(workdir + "/", text)  # TMP_PATHS
    text = BINARY_RE.sub(lambda m: bins[m.group(1)], text)  # BINARIES
    # After TMP_PATHS: the link itself lives under /tmp.
    text = QEMU_RE.sub(lambda m: qemu_link(), text)  # BINARIES (qemu-system-x86_64)
    for pattern, replacement in plan.rewrites:
        text = re.sub(pattern, replacement, text)
    return text


TIMESTAMP_RE = re.compile(r'"seconds": \d+, "microseconds": \d+')
PACKAGE_RE = re.compile(r'"package": "qmp-mock [^"]*"')


def normalise(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = TIMESTAMP_RE.sub('"seconds": S, "microseconds": U', line)  # TIMESTAMPS
        line = PACKAGE_RE.sub('"package": "qmp-mock VERSION"', line)  # PACKAGE_VERSION
        out.append(line.rstrip())
    return out


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; an expected ``...`` matches any number of actual lines (ELISION)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and output_matches(expected[1:], actual[1:])


def assert_output(block: Block, cmd: Command, expected: list[str], actual: list[str], workdir: str) -> None:
    actual = [line.replace(workdir + "/", "/tmp/") for line in actual]  # TMP_PATHS, back
    exp, act = normalise(expected), normalise(actual)
    while exp and not exp[-1]:
        exp.pop()
    while act and not act[-1]:
        act.pop()
    assert output_matches(exp, act), (
        "%s: the output of `%s` (line %d) differs from the documentation\n--- documented\n%s\n--- actual\n%s"
        % (block.where, cmd.text, cmd.line, "\n".join(exp), "\n".join(act))
    )


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------
class LineReader:
    """Lines from a pipe, each awaited with a deadline (no sleeps)."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buf = b""
        self.eof = False

    def line(self, timeout: float = LINE_TIMEOUT) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if self.eof or left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="backslashreplace").rstrip("\r")

    def rest(self) -> list[str]:
        while not self.eof:
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buf += chunk
        text, self.buf = self.buf.decode(errors="backslashreplace"), b""
        return [x.rstrip("\r") for x in text.splitlines()]


def is_qmp_input(line: str) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and ("execute" in value or "exec-oob" in value)


class Runner:
    def __init__(self, block: Block, plan: Plan, factory: DaemonFactory, workdir: str):
        self.block, self.plan, self.factory, self.workdir = block, plan, factory, workdir
        self.env = base_env()
        self.env["XDG_RUNTIME_DIR"] = workdir

    def fail(self, cmd: Command, what: str) -> None:
        pytest.fail("%s: `%s` (line %d): %s" % (self.block.where, cmd.text, cmd.line, what), pytrace=False)

    def start(self, spec: DaemonSpec) -> None:
        # A command's own daemon replaces the previous command's (they may share socket paths).
        for d in self.factory.started:
            problem = d.teardown()
            if problem:
                pytest.fail("%s: %s" % (self.block.where, problem), pytrace=False)
        args = list(spec.args)
        if spec.control:
            args += ["--control", self.factory.path(spec.control)]
        d = self.factory(*args, qmp=(spec.qmp,))
        if spec.control:
            d.wait_listening([self.factory.path(spec.control)])

    def run(self) -> None:
        commands = self.block.commands()
        if self.plan.daemon is not None:
            self.start(self.plan.daemon)
        if self.plan.per_command is not None:
            assert len(self.plan.per_command) == len(commands), (
                "%s: RUNNABLE's plan has %d per-command setups for %d commands"
                % (self.block.where, len(self.plan.per_command), len(commands))
            )
        for i, cmd in enumerate(commands):
            setup = self.plan.per_command[i] if self.plan.per_command is not None else None
            if isinstance(setup, DaemonSpec):
                self.start(setup)
            text = substitute(cmd.text, self.workdir, self.plan)
            if isinstance(setup, Server):
                self.run_server(cmd, text, setup)
            elif re.match(r"socat\s", text) and any(is_qmp_input(x) for x in cmd.output):
                self.run_socat(cmd, text)
            elif re.match(r"\S*qmp-shell\s", text):
                self.run_qmp_shell(cmd, text)
            else:
                self.run_plain(cmd, text)

    def run_plain(self, cmd: Command, text: str) -> None:
        p = subprocess.run(["bash", "-c", text], cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT)
        if p.returncode != 0:
            self.fail(cmd, "exit status %d (ran: %s)\n%s" % (p.returncode, text, p.stdout))
        if self.block.lang == "console":
            assert_output(self.block, cmd, cmd.output, p.stdout.splitlines(), self.workdir)

    def run_server(self, cmd: Command, text: str, server: Server) -> None:
        argv = shlex.split(text, comments=True)
        p = subprocess.Popen(argv, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            paths = [self.factory.path(s) for s in server.sockets]
            deadline = time.monotonic() + LINE_TIMEOUT
            while not all(is_listening(p.pid, s, self.workdir) for s in paths):
                if p.poll() is not None:
                    self.fail(cmd, "exited with %s before listening on %s:\n%s" % (p.returncode, paths, p.stdout.read().decode()))
                if time.monotonic() > deadline:
                    self.fail(cmd, "not listening on %s after %.0f s" % (paths, LINE_TIMEOUT))
                time.sleep(0.01)  # polling a condition with a deadline
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(LINE_TIMEOUT)
            p.stdout.close()

    def run_socat(self, cmd: Command, text: str) -> None:
        # The doc's lines between two typed lines are what arrives after the first of them.
        segments: list[tuple[str | None, list[str]]] = [(None, [])]
        for line in cmd.output:
            if is_qmp_input(line):
                segments.append((line, []))
            else:
                segments[-1][1].append(line)
        p = subprocess.Popen(["bash", "-c", "exec " + text], cwd=self.workdir, env=self.env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        reader = LineReader(p.stdout)
        transcript: list[str] = []
        try:
            for typed, shown in segments:
                if typed is not None:
                    transcript.append(typed)
                    p.stdin.write(typed.encode() + b"\n")
                    p.stdin.flush()
                for _ in shown:
                    got = reader.line()
                    if got is None:
                        break
                    transcript.append(got)
            p.stdin.close()
            rc = p.wait(COMMAND_TIMEOUT)
            transcript += reader.rest()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        if rc != 0:
            self.fail(cmd, "exit status %d\n%s" % (rc, "\n".join(transcript)))
        assert_output(self.block, cmd, cmd.output, transcript, self.workdir)

    def run_qmp_shell(self, cmd: Command, text: str) -> None:
        prompt = "(QEMU) "
        typed = [line[len(prompt):] for line in cmd.output if line.startswith(prompt)]
        p = subprocess.run(["bash", "-c", text], cwd=self.workdir, env=self.env, input="".join(t + "\n" for t in typed),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT)
        if p.returncode != 0:
            self.fail(cmd, "exit status %d\n%s" % (p.returncode, p.stdout))
        # Without a terminal qmp-shell does not echo what is typed: put each command after its prompt,
        # and drop the last prompt (the one that read end-of-file).
        actual: list[str] = []
        pending = list(typed)
        for line in p.stdout.splitlines():
            if line.startswith(prompt):
                if not pending:
                    rest = line[len(prompt):]
                    if rest.strip():
                        actual.append(rest)
                    continue
                actual.append(prompt + pending.pop(0))
                line = line[len(prompt):]
                if not line:
                    continue
            actual.append(line)
        assert_output(self.block, cmd, cmd.output, actual, self.workdir)


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------
def test_every_example_block_is_runnable_or_listed():
    assert BLOCKS, "no documentation block mentions %s: is the block finder broken?" % ", ".join(TOOLS)
    problems = []
    for b in BLOCKS:
        if b.key in RUNNABLE and b.key in NOT_RUNNABLE:
            problems.append("%s: block %r is in both RUNNABLE and NOT_RUNNABLE" % (b.where, b.key))
        elif b.key not in RUNNABLE and b.key not in NOT_RUNNABLE:
            problems.append(
                "%s: a %s block using %s is neither runnable nor listed as not runnable: add its first "
                "command line %r to RUNNABLE (with the daemon it needs) or to NOT_RUNNABLE (with the reason)"
                % (b.where, b.lang, ", ".join(sorted(set(TOOL_RE.findall("\n".join(b.lines))))), b.key)
            )
    keys = {b.key for b in BLOCKS}
    for table, name in ((RUNNABLE, "RUNNABLE"), (NOT_RUNNABLE, "NOT_RUNNABLE")):
        for key in table:
            if key not in keys:
                problems.append("%s entry %r matches no block in README.md or docs/ any more (stale)" % (name, key))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_example_block(block, mockd_binary):
    if block.key in NOT_RUNNABLE:
        pytest.skip("%s: not runnable by design: %s" % (block.where, NOT_RUNNABLE[block.key]))
    plan = RUNNABLE.get(block.key)
    if plan is None:
        pytest.fail("%s: neither runnable nor listed (see test_every_example_block_is_runnable_or_listed)"
                    % block.where, pytrace=False)
    workdir = short_tmpdir("qmpdoc-")
    factory = DaemonFactory(mockd_binary, workdir)
    try:
        Runner(block, plan, factory, workdir).run()
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        if block.where in str(exc):
            raise
        # A daemon that did not start, a command that hung: still name the block.
        pytest.fail("%s: %s" % (block.where, exc), pytrace=False)
    finally:
        problems = factory.teardown()
        shutil.rmtree(workdir, ignore_errors=True)
    assert not problems, "%s: %s" % (block.where, "\n".join(problems))


# ---------------------------------------------------------------------------
# Links between the pages
# ---------------------------------------------------------------------------
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings (outside code fences)."""
    anchors, fence = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def test_links_between_pages_resolve():
    """Every relative link of README.md and docs/ names a file that exists, and a heading of it
    when it has an anchor (the README was split into docs/ pages; a moved section must not leave a
    dead link behind)."""
    problems = []
    for page in doc_files():
        fence = False
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                fence = not fence
            if fence:
                continue
            for target in LINK_RE.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # an absolute URL
                file_part, _, anchor = target.partition("#")
                dest = (page.parent / file_part).resolve() if file_part else page
                where = "%s:%d" % (page.relative_to(REPO), n)
                if not dest.exists():
                    problems.append("%s: %s does not exist" % (where, target))
                elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                    problems.append("%s: %s has no heading #%s" % (where, file_part or page.name, anchor))
    assert not problems, "\n".join(problems)
