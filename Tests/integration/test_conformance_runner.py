"""The conformance runner (conformance/) judges its own way: a difference it should catch is
caught, a documented one is accepted, stale or malformed inputs are refused, and a missing QEMU
fails loudly. These run the real runner against the real qmp-mockd (and real QEMU where the
difference is between the two)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "conformance"))
from qmpconf import deviations as deviations_mod  # noqa: E402
from qmpconf.compare import Normaliser  # noqa: E402
from qmpconf.scenario import Scenario  # noqa: E402
from qmpconf.stream import Message  # noqa: E402

RUNNER = REPO / "conformance" / "run.py"
DEVIATIONS = REPO / "docs" / "deviations.md"
QEMU = shutil.which(os.environ.get("QEMU", "qemu-system-x86_64"))
needs_qemu = pytest.mark.skipif(QEMU is None, reason="real QEMU not installed (make conformance fails loudly for this)")


@pytest.fixture
def run(tmp_path: Path, mockd_binary: str):
    """Runs the runner on these scenarios (name -> text), with docs/deviations.md or this text."""

    def run(scenarios: dict[str, str], deviations: str | None = None, args: tuple[str, ...] = ()):
        sdir = tmp_path / "scenarios"
        sdir.mkdir(exist_ok=True)
        for name, text in scenarios.items():
            (sdir / (name + ".yaml")).write_text(text)
        dev = DEVIATIONS
        if deviations is not None:
            dev = tmp_path / "deviations.md"
            dev.write_text(deviations)
        cmd = [sys.executable, str(RUNNER), "--scenarios", str(sdir), "--deviations", str(dev),
               "--mockd", mockd_binary, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    return run


DEVICE_ON = """\
description: x
machine: oracle-q35
targets: [mockd]
steps:
  - qmp: {execute: device_add, arguments: {driver: virtio-rng-pci, id: hp1, bus: rp1}}
    expect: [{return: {}}]
  - write: {port: rp1, register: slot-control, value: 0x1c0}
    expect: [{event: X_DEVICE_ON, data: {device: %s, path: /machine/peripheral/hp1}}]
  - read: {port: rp1, register: slot-control}
    expect: 0x1c0
"""


def test_expectations_hold_for_qmp_mockd(run):
    r = run({"on": DEVICE_ON % "hp1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok   on" in r.stdout
    assert "3 expectations checked" in r.stdout


def test_a_wrong_expectation_fails_with_a_side_by_side_diff(run):
    r = run({"on": DEVICE_ON % "hp2"})
    assert r.returncode == 1, r.stdout
    assert "FAIL on" in r.stdout
    assert "step 2 (line 7): write" in r.stdout
    header = next(line for line in r.stdout.splitlines() if "expected" in line and "qmp-mockd" in line)
    assert header.index("qmp-mockd") > header.index("expected")
    assert '"device": "hp2"' in r.stdout and '"device": "hp1"' in r.stdout


QUERY_HOTPLUG = """\
description: the v8 command, which QEMU 7.2 does not have
machine: oracle-q35
steps:
  - qmp: {execute: query-status}
  - qmp: {execute: x-query-hotplug, arguments: {id: rp1}}
"""


def deviation_blocks(*ids: str) -> str:
    """These blocks of docs/deviations.md, as they are written there (the runner's own block syntax)."""
    blocks = [
        m.group(0)
        for m in deviations_mod.BLOCK_RE.finditer(DEVIATIONS.read_text())
        if re.search(r"^id: (%s)$" % "|".join(map(re.escape, ids)), m.group(1), re.M)
    ]
    assert len(blocks) == len(ids), ids
    return "# d\n" + "\n".join(blocks) + "\n"


@needs_qemu
def test_a_documented_difference_is_accepted_and_counted(run):
    # Only the blocks this scenario needs (a full run also fails on blocks nobody needs).
    r = run({"q": QUERY_HOTPLUG}, deviation_blocks("version-build", "x-query-hotplug"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"deviation x-query-hotplug +applied in +1 steps: q", r.stdout), r.stdout


@needs_qemu
def test_an_undocumented_difference_fails(run):
    r = run({"q": QUERY_HOTPLUG}, deviation_blocks("version-build"))
    assert r.returncode == 1, r.stdout
    assert "FAIL q" in r.stdout
    assert "CommandNotFound" in r.stdout and "x-query-hotplug" in r.stdout


def test_a_deviation_no_scenario_needs_fails_a_full_run(run):
    deviations = """```deviation
id: stale
kind: reply
command: no-such-command
reason: nothing shows it any more
```
"""
    r = run({"on": DEVICE_ON % "hp1"}, deviations, args=("--all-deviations-needed",))
    assert r.returncode == 1
    assert "deviation stale" in r.stdout and "was never needed" in r.stdout


@pytest.mark.parametrize(
    "text, message",
    [
        ("machine: oracle-q35\nstep: []\n", "unknown key step"),
        ("steps:\n  - qmp: {execute: query-status}\n    replys: 2\n", "step 1 (line 2): unknown key replys"),
        ("steps:\n  - write: {port: rp1, register: slot-capabilities, value: 1}\n", "a guest writes slot-control or slot-status"),
        ("steps:\n  - advance: soon\n", "is not like 250ms"),
        ("targets: [mockd]\nsteps:\n  - qmp: {execute: query-status}\n", "says what each message step expects"),
        ("machine: nope\nsteps:\n  - advance: 1s\n", "machine 'nope': no file"),
        ("qemu-version: '8.2.0'\nsteps:\n  - advance: 1s\n", "qemu-version chooses"),
        ("steps:\n  - qmp: {execute: add-fd}\n    fds: [{file: a/b}]\n", "NAME a plain file name"),
        ("steps:\n  - qmp: {execute: add-fd}\n    fds: [{file: d.img, access: rx}]\n", "fds access is one of rw, ro, wo"),
    ],
)
def test_malformed_scenarios_are_refused_with_file_and_step(run, text, message):
    r = run({"bad": text})
    assert r.returncode == 2
    assert message in r.stderr and "bad.yaml" in r.stderr


def test_malformed_deviations_are_refused(run):
    r = run({"on": DEVICE_ON % "hp1"}, "```deviation\nid: x\nkind: register\nreason: r\n```\n")
    assert r.returncode == 2
    assert "register takes scenario, step" in r.stderr


def test_a_missing_qemu_fails_loudly(run):
    r = run({"q": QUERY_HOTPLUG}, args=("--qemu", "/nonexistent/no-qemu-here"))
    assert r.returncode == 3
    assert "FAILED: real QEMU" in r.stderr and "scripts/bootstrap.sh qemu" in r.stderr


def test_a_qemu_that_does_not_run_fails_as_missing(run, tmp_path: Path):
    broken = tmp_path / "qemu-system-x86_64"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries: libfoo.so' >&2\nexit 127\n")
    broken.chmod(0o755)
    r = run({"q": QUERY_HOTPLUG}, args=("--qemu", str(broken)))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "cannot read the version" in r.stderr and "libfoo.so" in r.stderr


def _normaliser(exact: bool):
    scenario = Scenario(name="n", path="n.yaml", description="", machine=None, targets=("qemu", "mockd"),
                        running=False, negotiate=True, exact=exact, steps=[])
    return Normaliser(scenario, deviations_mod.load(str(DEVIATIONS)))


@pytest.mark.parametrize("exact", [False, True])
def test_member_order_counts_only_in_exact_mode(exact):
    n = _normaliser(exact)
    a = n.view(Message('{"return": {}, "id": 1}'), "query-status")
    b = n.view(Message('{"id": 1, "return": {}}'), "query-status")
    assert (a != b) == exact


def test_numbers_keep_their_kind_and_timestamps_are_masked():
    n = _normaliser(False)
    assert n.view(Message('{"return": {}, "id": 1}'), None) != n.view(Message('{"return": {}, "id": 1.0}'), None)
    e1 = '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}'
    e2 = '{"timestamp": {"seconds": 9, "microseconds": 8}, "event": "STOP"}'
    assert n.view(Message(e1), None) == n.view(Message(e2), None)
    exact = _normaliser(True)
    assert exact.view(Message(e1), None) == exact.view(Message(e2), None)
