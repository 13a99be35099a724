#!/usr/bin/env python3
"""libvirt 9.0 driving qmp-mockd and real QEMU 7.2, side by side in one run (part of `make bench`).

For each emulator, in a private session libvirtd (scripts/libvirt_session.py), medians of N runs:

- probe: `virsh domcapabilities` from a libvirtd just restarted on an emptied capability cache
  (libvirt starts the emulator with `-machine none,accel=kvm:tcg`, asks its ~50 probe questions,
  stops it with SIGTERM and waits for it to go);
- create: `virsh create` until it returns (the domain running: libvirt's start ends with `cont`),
  with the cache warm; then `virsh destroy` (SIGTERM, libvirt waits for the process to go);
- attach + detach of a raw-file virtio disk on a native-hot-plug domain (`-global
  ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off`). Real QEMU's SeaBIOS never powers a
  hot-added slot, so its `device_del` unplugs at once; qmp-mockd runs its `never-ack` guest, which
  leaves slots alone the same way, so both do the same work;
- detach on the default (ACPI hot-plug) domain: qmp-mockd's simulated Linux guest ejects the
  device; QEMU without a guest OS never does, and libvirt gives up after its 5 s wait (shown for
  what a stack sees, not as a speed-up).

    bench/libvirt-bench.py --mockd .build/release/qmp-mockd [--qemu /usr/bin/qemu-system-x86_64]
                           [--runs 5] [--out bench/results] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from libvirt_session import LibvirtSession, disk_xml, domain_xml  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def measure(lv: LibvirtSession, label: str, emulator: Path, runs: int, mock: bool) -> dict:
    never_ack = lv.write(f"{label}-never-ack.yaml", "guest: {persona: never-ack}\n") if mock else None
    linux = lv.write(f"{label}-linux.yaml", "guest: {persona: linux}\n") if mock else None
    disk = lv.write(f"{label}-disk.raw", "")
    os.truncate(disk, 1 << 20)
    disk_file = lv.write(f"{label}-disk.xml", disk_xml(disk))
    cache = lv.cache / "libvirt" / "qemu" / "cache"
    result: dict[str, list[float]] = {"probe": [], "create": [], "destroy": [], "attach": [], "detach": [],
                                      "detach-acpi": []}
    for run in range(runs):
        # A cold probe: libvirt keeps capabilities in memory too, so a fresh daemon on an empty
        # cache (not timed).
        shutil.rmtree(cache, ignore_errors=True)
        lv.restart()
        result["probe"].append(timed(lambda: lv.virsh("domcapabilities", "--emulatorbin", str(emulator),
                                                      "--virttype", "qemu", "--machine", "q35")))
        name = f"{label}-n{run}"
        xml = lv.write(f"{name}.xml", domain_xml(name, emulator, native=True, mock_config=never_ack))
        result["create"].append(timed(lambda: lv.virsh("create", str(xml))))
        result["attach"].append(timed(lambda: lv.virsh("attach-device", name, str(disk_file))))
        result["detach"].append(timed(lambda: lv.virsh("detach-device", name, str(disk_file))))
        assert lv.virsh("domblklist", name).split() == [], f"{label}: the native detach left the disk"
        result["destroy"].append(timed(lambda: lv.virsh("destroy", name)))
    # One ACPI detach each: QEMU's takes libvirt's whole 5 s wait.
    name = f"{label}-acpi"
    xml = lv.write(f"{name}.xml", domain_xml(name, emulator, mock_config=linux))
    lv.virsh("create", str(xml))
    lv.virsh("attach-device", name, str(disk_file))
    result["detach-acpi"].append(timed(lambda: lv.virsh("detach-device", name, str(disk_file))))
    left = lv.virsh("domblklist", name).split()
    lv.virsh("destroy", name)
    summary = {key: round(statistics.median(values), 1) for key, values in result.items()}
    summary["detach-acpi-device-removed"] = left == []
    summary["runs"] = runs
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mockd", type=Path, required=True)
    parser.add_argument("--qemu", type=Path, default=Path("/usr/bin/qemu-system-x86_64"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with LibvirtSession(prefix="lvb-") as lv:
        rows = {"qmp-mockd": measure(lv, "mockd", lv.emulator(args.mockd.resolve()), args.runs, mock=True)}
        if args.qemu.exists():
            rows["qemu"] = measure(lv, "qemu", args.qemu, args.runs, mock=False)
    report = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "libvirt": rows}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / ("libvirt-%s.json" % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        path.write_text(json.dumps(report, indent=1) + "\n")
        shutil.copy(path, args.out / "libvirt-latest.json")
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    mock, qemu = rows["qmp-mockd"], rows.get("qemu")
    print(f"libvirt 9.0, medians of {args.runs} runs (ms)")
    print(f"{'step':<34}{'qmp-mockd':>12}{'QEMU 7.2':>12}{'QEMU/mockd':>12}")
    labels = [("probe", "probe (domcapabilities, cold cache)"), ("create", "virsh create -> running"),
              ("attach", "attach-device disk (native)"), ("detach", "detach-device disk (native)"),
              ("destroy", "virsh destroy"), ("detach-acpi", "detach-device disk (ACPI)")]
    for key, label in labels:
        q = qemu[key] if qemu else None
        ratio = f"{q / mock[key]:.1f}x" if q and mock[key] else ""
        print(f"{label:<34}{mock[key]:>12.1f}{(q if q is not None else float('nan')):>12.1f}{ratio:>12}")
    if qemu:
        print(f"ACPI detach removed the disk: qmp-mockd {mock['detach-acpi-device-removed']}, "
              f"QEMU {qemu['detach-acpi-device-removed']} (no guest OS: libvirt's 5 s wait ran out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
