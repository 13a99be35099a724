#!/usr/bin/env python3
"""Records what a management stack's capability probe asks QEMU, from real binaries, into probe/:
one file per release qmp-mockd plays; the daemon answers the probe's commands from these files.

    scripts/record-probe.py record QEMU     one binary (the file is named after its release)
    scripts/record-probe.py all             7.2 (Debian's /usr/bin/qemu-system-x86_64) and 10.0
                                            (.build-qemu10, scripts/get-qemu10.sh); 8.2 is derived

Afterwards run scripts/generate-probe.py (the Swift source the daemon embeds).

Recording: QEMU runs as libvirt 9.0 probes it (`-S -no-user-config -nodefaults -nographic
-machine none,accel=tcg -qmp unix:SOCK,server=on,wait=off`; tcg, as the libvirt recording in
../shared/oracle/libvirt ran without KVM), and is asked every command of libvirt's probe
(qmp-probe.jsonl) with its arguments, plus `device-list-properties` for every device model
qmp-mockd's catalog has and `qom-list-properties` for every object type it implements (the lists
below), so that the daemon can answer those for its own models. Each answer is kept exactly as QEMU
sent it (member order included), with the command and arguments that produced it.

The 8.2 profile: no QEMU 8.2 binary is at hand (Debian has 7.2 and, in backports, 10.0). Its file
is the 7.2 recording with its version changed; docs/probe.md says what that means.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qmp_monitor import QEMU10, QEMU72, REPO, Monitor  # noqa: E402

PROBE_DIR = REPO / "probe"

# libvirt 9.0's probe, in its order (../shared/oracle/libvirt/qmp-probe.jsonl), without the
# commands qmp-mockd answers from its own state (qmp_capabilities, query-version, query-qmp-schema,
# query-commands).
LIBVIRT_DEVICE_TYPES = [
    "virtio-blk-pci", "virtio-net-pci", "virtio-scsi-pci", "virtio-net-ccw", "virtio-scsi-ccw", "vfio-pci",
    "scsi-hd", "ide-hd", "PIIX4_PM", "usb-redir", "usb-storage", "kvm-pit", "VGA", "vmware-svga", "qxl",
    "virtio-gpu-pci", "virtio-gpu-device", "ICH9-LPC", "virtio-balloon-pci", "virtio-balloon-ccw",
    "virtio-balloon-device", "intel-iommu", "mch", "nvdimm", "pcie-root-port", "usb-host",
    "vhost-user-fs-device", "virtio-mem-pci", "virtio-iommu-pci",
]
LIBVIRT_OBJECT_TYPES = ["memory-backend-file", "memory-backend-memfd", "max-x86_64-cpu", "none-machine"]
# Device models of qmp-mockd's catalog (Tests check that the catalog and this list agree).
CATALOG_DEVICE_TYPES = [
    "pcie-root-port", "x3130-upstream", "xio3130-downstream", "pcie-pci-bridge", "pci-bridge",
    "virtio-net-pci", "virtio-blk-pci", "virtio-scsi-pci", "virtio-rng-pci", "virtio-serial-pci",
    "virtio-balloon-pci", "e1000", "e1000e", "rtl8139", "nvme", "pci-testdev", "pci-serial",
    "vhost-vsock-pci", "vhost-user-blk-pci", "vhost-user-fs-pci", "scsi-hd", "scsi-cd",
    "virtserialport", "virtconsole", "qemu64-x86_64-cpu", "pc-dimm",
    # the fixed forms of virtio proxies (DeviceCatalog.virtioVariants)
    *[f"{generic}-{form}" for generic in ["virtio-net-pci", "virtio-blk-pci", "virtio-scsi-pci", "virtio-rng-pci",
                                          "virtio-serial-pci", "vhost-user-blk-pci"]
      for form in ["transitional", "non-transitional"]],
    "vhost-vsock-pci-non-transitional",
    # the boards' built-in PCI functions (ProbeAnswers.builtinTypes)
    "mch", "ICH9-LPC", "ich9-ahci", "ICH9-SMB", "i440FX", "PIIX3", "piix3-ide", "PIIX4_PM",
]
CATALOG_OBJECT_TYPES = [
    "memory-backend-ram", "memory-backend-file", "memory-backend-memfd", "iothread", "rng-random",
    "rng-builtin", "secret", "pc-q35-7.2-machine", "pc-i440fx-7.2-machine",
]


def probe_commands() -> list[dict]:
    commands = [
        {"execute": "query-target"},
        {"execute": "query-kvm"},
        {"execute": "qom-list-types"},
        # The whole type tree (abstract types too): what qmp-mockd needs to answer `implements` and
        # to know which types are devices.
        {"execute": "qom-list-types", "arguments": {"abstract": True}},
        {"execute": "device-list-properties", "arguments": {"typename": "no-such-type"}},
        {"execute": "qom-list-properties", "arguments": {"typename": "no-such-type"}},
    ]
    for name in dict.fromkeys(LIBVIRT_DEVICE_TYPES + CATALOG_DEVICE_TYPES):
        commands.append({"execute": "device-list-properties", "arguments": {"typename": name}})
    for name in dict.fromkeys(LIBVIRT_OBJECT_TYPES + CATALOG_OBJECT_TYPES):
        commands.append({"execute": "qom-list-properties", "arguments": {"typename": name}})
    commands += [
        {"execute": "query-machines"},
        {"execute": "query-cpu-definitions"},
        {"execute": "query-tpm-models"},
        {"execute": "query-tpm-types"},
        {"execute": "query-command-line-options"},
        {"execute": "query-migrate-capabilities"},
        {"execute": "query-sev-capabilities"},
        {"execute": "query-sgx-capabilities"},
        {"execute": "query-cpu-model-expansion", "arguments": {"type": "static", "model": {"name": "host"}}},
        {"execute": "query-cpu-model-expansion",
         "arguments": {"type": "static", "model": {"name": "host", "props": {"migratable": False}}}},
        {"execute": "query-cpu-model-expansion",
         "arguments": {"type": "full", "model": {"name": "host", "props": {"migratable": False, "hv-passthrough": True}}}},
    ]
    for model in ("max", "qemu64"):
        for kind in ("static", "full"):
            commands.append({"execute": "query-cpu-model-expansion",
                             "arguments": {"type": kind, "model": {"name": model}}})
    commands.append({"execute": "query-cpu-model-expansion",
                     "arguments": {"type": "static", "model": {"name": "no-such-cpu"}}})
    return commands


def record(qemu: Path) -> tuple[str, dict]:
    banner = subprocess.run([str(qemu), "--version"], capture_output=True, text=True, check=True).stdout
    greeting, answers = run(qemu, ["-machine", "none,accel=tcg"], lambda monitor: ask(monitor, probe_commands()))
    _, cpu = run(qemu, ["-machine", "q35,accel=tcg", "-cpu", "qemu64"], boot_cpu_properties)
    version = greeting["QMP"]["version"]["qemu"]
    profile = f"{version['major']}.{version['minor']}.0"
    return profile, {"recorded-from": banner.splitlines()[0], "answers": answers + cpu}


def ask(monitor: "Monitor", commands: list[dict]) -> list[dict]:
    answers = []
    for command in commands:
        reply = monitor.send(command)
        entry = dict(command)
        if "return" in reply:
            entry["return"] = reply["return"]
        else:
            entry["error"] = reply["error"]
        answers.append(entry)
    return answers


def boot_cpu_properties(monitor: "Monitor") -> list[dict]:
    """What libvirt reads of the boot CPU while it starts a domain (qmp-start.jsonl: qom-list of
    /machine/unattached/device[0], then qom-get of its properties), for `-cpu qemu64` on q35 with TCG:
    qom-list, and qom-get of every property that is not a link or a child."""
    path = "/machine/unattached/device[0]"
    listing = ask(monitor, [{"execute": "qom-list", "arguments": {"path": path}}])
    gets = []
    for prop in listing[0]["return"]:
        if not prop["type"].startswith(("link<", "child<")):
            gets.append({"execute": "qom-get", "arguments": {"path": path, "property": prop["name"]}})
    return listing + ask(monitor, gets)


def run(qemu: Path, machine: list[str], body) -> tuple[dict, list[dict]]:
    """Runs `qemu` as libvirt's probe does with `machine`, and `body(monitor)`."""
    with tempfile.TemporaryDirectory(prefix="qmp-probe-", dir="/tmp") as tmp:
        path = os.path.join(tmp, "qmp.sock")
        argv = [str(qemu), "-S", "-no-user-config", "-nodefaults", "-nographic", *machine,
             "-qmp", f"unix:{path},server=on,wait=off"]
        modules = qemu.parents[1] / "lib" / "x86_64-linux-gnu" / "qemu"
        if qemu != QEMU72 and modules.is_dir():
            # An unpacked QEMU must see its own modules where it looks for them: qom-list-types loads
            # every module, and one of the installed release's aborts it. A private mount namespace
            # (root only) puts the unpacked folder over the installed one.
            argv = ["unshare", "--mount", "sh", "-c",
                    'mount --bind "$0" /usr/lib/x86_64-linux-gnu/qemu && exec "$@"', str(modules)] + argv
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            monitor = Monitor.wait_for(path, process, str(qemu))
            monitor.send({"execute": "qmp_capabilities"})
            answers = body(monitor)
            monitor.send({"execute": "quit"})
        finally:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return monitor.greeting, answers


def write(path: Path, content: dict) -> None:
    """One answer per line, as QEMU wrote it (readable diffs)."""
    lines = ["{", f'"recorded-from": {json.dumps(content["recorded-from"])},', '"answers": [']
    answers = content["answers"]
    for i, answer in enumerate(answers):
        lines.append(json.dumps(answer, separators=(",", ":")) + ("," if i + 1 < len(answers) else ""))
    lines += ["]", "}"]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)
    one = sub.add_parser("record")
    one.add_argument("qemu", type=Path)
    sub.add_parser("all")
    args = parser.parse_args()
    PROBE_DIR.mkdir(exist_ok=True)
    binaries = [args.qemu] if args.verb == "record" else [QEMU72, QEMU10]
    for qemu in binaries:
        if not qemu.exists():
            print(f"record-probe: {qemu} not found (scripts/get-qemu10.sh fetches 10.0)", file=sys.stderr)
            return 1
        profile, content = record(qemu)
        write(PROBE_DIR / f"qemu-{profile}.json", content)
        print(f"probe/qemu-{profile}.json: {len(content['answers'])} answers from {content['recorded-from']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
