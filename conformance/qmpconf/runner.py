"""Runs scenarios against the targets and reports."""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

from . import deviations as deviations_mod
from .compare import Difference, Recording, StepRecord, check_expectations, compare
from .machine import MachineError, kvm_usable
from .scenario import Scenario, ScenarioError, load
from .stream import Message, StreamTimeout
from .targets import MockdTarget, QEMUTarget, Target, TargetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# `{tmp}` in a step's bytes stands for the target's own temporary directory (socket and file paths
# of chardev-add and the like); in what the target sends back, that directory reads `{tmp}` again.
TMP = b"{tmp}"


def untmp(m: Message, directory: str) -> Message:
    """The message with the target's temporary directory written `{tmp}`."""
    return Message(m.raw.replace(directory, "{tmp}")) if directory in m.raw else m


def record(target: Target, scenario: Scenario) -> Recording:
    """Starts the target, runs every step, and keeps what the client saw and the guest read."""
    rec = Recording([])
    target.make_files()
    target.start()
    try:
        qmp = target.qmp
        first = StepRecord(None)
        qmp.greeting()
        if scenario.negotiate:
            qmp.send(b'{"execute": "qmp_capabilities"}\n')
            qmp.wait_for(1, 1, [], False)
        target.settle()
        first.messages = list(qmp.messages)
        rec.steps.append(first)
        for step in scenario.steps:
            start = len(qmp.messages)
            r = StepRecord(step)
            if step.kind in ("qmp", "raw"):
                files = tuple((os.path.join(target.dir, name), flags) for name, flags in step.fd_files)
                qmp.send(step.data.replace(TMP, target.dir.encode()), step.fds, files)
            elif step.kind == "reconnect":
                qmp = target.reconnect()
                start = 0
                qmp.greeting()
                qmp.send(b'{"execute": "qmp_capabilities"}\n')
            elif step.kind == "read":
                r.value = target.guest_read(step.access)
            elif step.kind == "write":
                target.guest_write(step.access)
            elif step.kind == "advance":
                target.advance(step.ms)
            qmp.wait_for(start, step.replies, step.events, step.eof, any_order=step.any_order)
            if not step.eof:
                target.settle()
            r.messages = [untmp(m, target.dir) for m in qmp.messages[start:]]
            rec.steps.append(r)
            if any(m.event == "RESET" for m in r.messages):
                target.after_reset()
        if scenario.steps[-1].eof:
            rec.exit_status = target.exit_status()
    except StreamTimeout as e:
        raise TargetError("%s, step %d: %s\n%s" % (target.name, len(rec.steps), e, target.stderr_tail())) from None
    finally:
        target.close()
    return rec


# The qmp-mockd profile of scenarios that real QEMU does not take part in (unless they choose one).
DEFAULT_PROFILE = "7.2.0"


def qemu_version(binary: str) -> tuple[str, str]:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True)
    out = done.stdout
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", out) if done.returncode == 0 else None
    if not m:
        # A QEMU that is there but does not run (missing libraries) is no QEMU to compare with.
        print("conformance: cannot read the version of %s: %r" % (binary, (out + done.stderr).strip()), file=sys.stderr)
        raise SystemExit(3)
    return out.splitlines()[0], "%s.%s.0" % (m.group(1), m.group(2))


def print_differences(diffs: list[Difference]) -> None:
    for d in diffs:
        if d.step is None:
            title = "connect (greeting, negotiation) / exit"
        else:
            title = "step %d%s: %s" % (d.step.index, " (line %d)" % d.step.line if d.step.line else "", d.step.title())
            if d.step.note:
                title += "  # " + d.step.note
        print("  %s" % title)
        for line in d.lines:
            print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="conformance", description=__doc__)
    ap.add_argument("names", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-x86_64"))
    ap.add_argument("--mockd", default=os.environ.get("QMP_MOCKD", os.path.join(ROOT, ".build/debug/qmp-mockd")))
    ap.add_argument("--scenarios", default=os.path.join(ROOT, "conformance/scenarios"))
    ap.add_argument("--machines", default=os.path.join(ROOT, "config"))
    ap.add_argument("--deviations", default=os.path.join(ROOT, "docs/deviations.md"))
    ap.add_argument("--list", action="store_true", help="list the scenarios and stop")
    ap.add_argument("--all-deviations-needed", action="store_true",
                    help="fail when a deviation applies nowhere (always on for a run of the whole suite)")
    a = ap.parse_args(argv)

    try:
        devs = deviations_mod.load(a.deviations)
        paths = sorted(glob.glob(os.path.join(a.scenarios, "*.yaml")))
        scenarios = [load(p, a.machines) for p in paths]
    except (ScenarioError, MachineError, deviations_mod.DeviationError) as e:
        print("conformance: %s" % e, file=sys.stderr)
        return 2
    if a.names:
        unknown = set(a.names) - {s.name for s in scenarios}
        if unknown:
            print("conformance: no scenario %s" % ", ".join(sorted(unknown)), file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if s.name in a.names]
    if a.list:
        for s in scenarios:
            print("%-36s %-12s %3d steps  %s" % (s.name, "+".join(s.targets), len(s.steps), s.description.split("\n")[0]))
        return 0

    qemu = shutil.which(a.qemu) or (a.qemu if os.access(a.qemu, os.X_OK) else None)
    if qemu is None and any("qemu" in s.targets for s in scenarios):
        print("\n" + "!" * 78 + "\nconformance: FAILED: real QEMU (%s) is not installed, so nothing can be compared.\n"
              "Install it with scripts/bootstrap.sh qemu (Debian's qemu-system-x86), or set QEMU=/path.\n"
              % a.qemu + "!" * 78, file=sys.stderr)
        return 3
    if not os.access(a.mockd, os.X_OK):
        print("conformance: qmp-mockd not found at %s (swift build, or set QMP_MOCKD)" % a.mockd, file=sys.stderr)
        return 3
    qemu_banner, profile = qemu_version(qemu) if qemu else ("(no QEMU)", DEFAULT_PROFILE)
    print("conformance: %d scenarios; %s vs qmp-mockd --qemu-version %s; deviations: %d in %s" % (
        len(scenarios), qemu_banner, profile, len(devs), os.path.relpath(a.deviations)))
    # Scenarios whose machine says (or defaults to) accel kvm run with KVM on both sides where this host
    # can (QEMU -accel kvm), else with TCG on both sides: say which, since CPU unplug differs (acpi-cpu-*).
    wants_kvm = [s.name for s in scenarios if s.machine.source.get("accel", "kvm") == "kvm"]
    if wants_kvm:
        print("conformance: accelerator of the %d scenarios that ask for kvm: %s" % (
            len(wants_kvm), "kvm (/dev/kvm is usable)" if kvm_usable() else
            "tcg (no usable /dev/kvm here: they compare TCG behaviour, e.g. a CPU's DEVICE_DELETED never comes)"))

    t0 = time.monotonic()
    failed, totals = [], {"steps": 0, "messages": 0, "reads": 0, "expectations": 0}
    for s in scenarios:
        t = time.monotonic()
        diffs: list[Difference] = []
        try:
            recs = {}
            if "qemu" in s.targets:
                recs["qemu"] = record(QEMUTarget(s, qemu), s)
            # Against QEMU the profile follows the binary; alone, 7.2 unless the scenario chooses.
            mock_profile = s.qemu_version or (profile if "qemu" in s.targets else DEFAULT_PROFILE)
            recs["mockd"] = record(MockdTarget(s, a.mockd, mock_profile), s)
            if "qemu" in s.targets:
                d, counts = compare(s, recs["qemu"], recs["mockd"], devs)
                diffs += d
                for k, v in counts.items():
                    totals[k] += v
                d, n = check_expectations(s, recs["qemu"], "QEMU")
            else:
                d, n = check_expectations(s, recs["mockd"], "qmp-mockd")
                totals["steps"] += len(recs["mockd"].steps)
            diffs += d
            totals["expectations"] += n
        except TargetError as e:
            diffs.append(Difference(None, ["    " + line for line in str(e).splitlines()]))
        status = "ok" if not diffs else "FAIL"
        print("%-4s %-36s %-10s %3d steps  %5.2f s" % (status, s.name, "+".join(s.targets), len(s.steps),
                                                       time.monotonic() - t))
        if diffs:
            failed.append(s.name)
            print_differences(diffs)

    default_dir = os.path.join(ROOT, "conformance/scenarios")
    full_run = a.all_deviations_needed or (not a.names and os.path.realpath(a.scenarios) == os.path.realpath(default_dir))
    unused = [d for d in devs if d.applied == 0]
    print("\nconformance: %d scenarios, %d steps compared (%d messages, %d guest reads), %d expectations checked, "
          "%.1f s" % (len(scenarios), totals["steps"], totals["messages"], totals["reads"], totals["expectations"],
                      time.monotonic() - t0))
    for d in devs:
        if d.applied:
            names = sorted(d.scenarios)
            where = ", ".join(names) if len(names) <= 3 else "%s and %d more scenarios" % (", ".join(names[:3]), len(names) - 3)
            print("  deviation %-34s applied in %3d steps: %s" % (d.id, d.applied, where))
    if full_run and unused:
        for d in unused:
            print("conformance: deviation %s (%s:%d) was never needed: remove it or add the scenario that shows it"
                  % (d.id, os.path.relpath(a.deviations), d.line))
    if failed:
        print("conformance: FAILED: %s" % ", ".join(failed))
        return 1
    if full_run and unused:
        return 1
    print("conformance: all scenarios behave alike (or as docs/deviations.md says)")
    return 0
