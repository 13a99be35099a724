"""Real libvirt 9.0 (Debian 12) runs qmp-mockd as its emulator: a private libvirtd in session mode
(scripts/libvirt_session.py: an unprivileged user, a subreaper, everything in one temporary folder)
with the domains' <emulator> set to the qemu-system-x86_64 link beside $QMP_MOCKD.

What libvirt does here is what it did to real QEMU 7.2 in ../shared/oracle/libvirt: the capability
probe (`virsh domcapabilities`), `virsh create`, `attach-device` of a raw-file virtio disk and a
`type='user'` virtio NIC, `domblklist`/`domiflist`, `domblkstat`/`domblkinfo`/`blockresize`,
`detach-device` of both, `suspend`/`resume`, `shutdown`/`reboot` (the power button),
`qemu-monitor-command`, `destroy`; and a native-mode domain (`-global
ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off` through <qemu:commandline>).

A detach is proven complete by libvirt itself: it drops a device from the live XML (domblklist,
domiflist) only when `DEVICE_DELETED` with the alias arrived within its 5 s wait; on a timeout it
still prints "Device detached successfully" and keeps the device listed. The QMP transcript each
emulator writes (QMP_MOCK_CONFIG's `transcript:`) then shows the order: device_del, DEVICE_DELETED,
and libvirt's blockdev-del/netdev_del that follow it.

libvirt must be installed (scripts/bootstrap.sh libvirt, which make test runs); without it every
test here fails, loudly, rather than skipping.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import Client, mockd_binary_path, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from libvirt_session import NIC_XML, LibvirtSession, disk_xml, domain_xml  # noqa: E402

VIRSH_TIMEOUT = 60


@pytest.fixture(scope="module")
def lv():
    with LibvirtSession() as session:
        session.emulator_path = session.emulator(Path(mockd_binary_path()))
        yield session


def commands_and_events(path: Path) -> list[str]:
    """A compact view of a transcript (docs/command-line.md's format): `> command args` for what
    libvirt sent, `< EVENT data` for events; replies left out."""
    view = []
    for line in path.read_text().splitlines():
        message = json.loads(json.loads(line)["message"])
        if "execute" in message:
            view.append("> %s %s" % (message["execute"], json.dumps(message.get("arguments", {}), sort_keys=True)))
        elif "event" in message:
            view.append("< %s %s" % (message["event"], json.dumps(message.get("data", {}), sort_keys=True)))
    return view


def position(view: list[str], prefix: str) -> int:
    matches = [i for i, line in enumerate(view) if line.startswith(prefix)]
    assert matches, "%r not in the transcript:\n%s" % (prefix, "\n".join(view))
    return matches[0]


def start_domain(lv: LibvirtSession, name: str, settings: str, **kwargs) -> Path:
    """Creates the domain with a QMP_MOCK_CONFIG holding `settings` plus a transcript; returns the
    transcript's path."""
    log = lv.dir / ("%s.jsonl" % name)
    config = lv.write("%s-mock.yaml" % name, settings + "transcript: %s\n" % log)
    xml = lv.write("%s.xml" % name, domain_xml(name, lv.emulator_path, mock_config=config, **kwargs))
    lv.virsh("create", str(xml), timeout=VIRSH_TIMEOUT)
    assert lv.virsh("domstate", name).strip() == "running"
    return log


def test_capability_probe_gives_a_q35_with_pcie_virtio(lv):
    caps = lv.virsh("domcapabilities", "--emulatorbin", str(lv.emulator_path), "--virttype", "qemu",
                    "--machine", "q35")
    assert "<path>%s</path>" % lv.emulator_path in caps
    assert "<machine>pc-q35-7.2</machine>" in caps  # q35 resolved through query-machines' alias
    # The non-transitional virtio types in qom-list-types: without them libvirt places virtio
    # devices on conventional PCI only, and a q35 with root ports has no slot for them.
    assert "<value>virtio-non-transitional</value>" in caps


def test_default_domain_hotplug_cycle_with_acpi_guest(lv):
    name = "acpi1"
    log = start_domain(lv, name, "guest: {persona: linux}\n")
    disk = lv.write("acpi1-disk.raw", "")
    os.truncate(disk, 1 << 20)
    disk_file = lv.write("acpi1-disk.xml", disk_xml(disk))
    nic_file = lv.write("acpi1-nic.xml", NIC_XML)

    lv.virsh("attach-device", name, str(disk_file))
    lv.virsh("attach-device", name, str(nic_file))
    assert lv.virsh("domblklist", name).split() == ["vdb", str(disk)]
    nics = lv.virsh("domiflist", name).split()
    assert nics[:4] == ["-", "user", "-", "virtio"] and nics[4].startswith("52:54:00:")
    pci = json.loads(lv.virsh("qemu-monitor-command", name, '{"execute":"query-pci"}'))
    on_ports = [d["qdev_id"] for bus in pci["return"] for d in bus["devices"]
                for d in d.get("pci_bridge", {}).get("devices", [])]
    assert sorted(on_ports) == ["net0", "virtio-disk1"]

    # Block statistics and a resize (query-blockstats, block_resize): the host file grows as under QEMU.
    assert "vdb rd_req 0" in lv.virsh("domblkstat", name, "vdb")
    assert "Capacity:       1048576" in lv.virsh("domblkinfo", name, "vdb")
    lv.virsh("blockresize", name, "vdb", "2M")
    assert "Capacity:       2097152" in lv.virsh("domblkinfo", name, "vdb")
    assert os.path.getsize(disk) == 2 << 20

    # The simulated Linux guest ejects through ACPI within libvirt's 5 s wait: libvirt drops each
    # device from the live XML only when its DEVICE_DELETED came in time.
    lv.virsh("detach-device", name, str(disk_file))
    lv.virsh("detach-device", name, str(nic_file))
    assert lv.virsh("domblklist", name).split() == []
    assert lv.virsh("domiflist", name).split() == []

    view = commands_and_events(log)
    deleted_disk = position(view, '< DEVICE_DELETED {"device": "virtio-disk1"')
    assert position(view, '> device_del {"id": "virtio-disk1"}') < deleted_disk
    assert deleted_disk < position(view, '> blockdev-del {"node-name": "libvirt-1-format"}')
    assert position(view, '> blockdev-del {"node-name": "libvirt-1-format"}') < position(
        view, '> blockdev-del {"node-name": "libvirt-1-storage"}')
    deleted_nic = position(view, '< DEVICE_DELETED {"device": "net0"')
    assert position(view, '> device_del {"id": "net0"}') < deleted_nic < position(
        view, '> netdev_del {"id": "hostnet0"}')
    # Nothing is left behind in the machine either.
    nodes = json.loads(lv.virsh("qemu-monitor-command", name, '{"execute":"query-named-block-nodes"}'))
    assert nodes["return"] == []

    # suspend / resume: stop and cont with their events
    lv.virsh("suspend", name)
    assert lv.virsh("domstate", name).strip() == "paused"
    lv.virsh("resume", name)
    assert lv.virsh("domstate", name).strip() == "running"
    view = commands_and_events(log)
    stops = [line for line in view if line.startswith("< STOP") or line.startswith("< RESUME")]
    assert stops[-2:] == ["< STOP {}", "< RESUME {}"]

    # destroy: SIGTERM, SHUTDOWN host-signal, and the process gone before virsh returns
    lv.virsh("destroy", name)
    assert name not in lv.virsh("list", "--all", "--name").split()
    assert commands_and_events(log)[-1] == '< SHUTDOWN {"guest": false, "reason": "host-signal"}'


def test_native_domain_detach_completes_on_the_steered_clock(lv):
    """Native PCIe hot-plug: Linux pciehp blinks 5 s before it powers a slot off, longer than
    libvirt waits. With the manual clock the test moves the guest's time while `virsh
    detach-device` waits, and the detach completes inside libvirt's wait in real time."""
    name = "native1"
    control = lv.dir / "native1.ctl"
    log = start_domain(lv, name, "clock: manual\ncontrol: %s\n" % control, native=True)
    ctl = Client(str(control))
    assert json.loads(ctl.line())["QMP"]["capabilities"] == []
    ctl.send({"execute": "qmp_capabilities"})
    ctl_call(ctl)
    ctl.send({"execute": "subscribe-events", "arguments": {"events": ["MONITOR_EVENT", "MONITOR_COMMAND"]}})
    ctl_call(ctl)

    disk = lv.write("native1-disk.raw", "")
    os.truncate(disk, 1 << 20)
    disk_file = lv.write("native1-disk.xml", disk_xml(disk))
    lv.virsh("attach-device", name, str(disk_file))
    # pciehp powers the new slot after its link and power-on latencies: X_DEVICE_ON.
    ctl.send({"execute": "clock-advance", "arguments": {"ms": 3000}})
    events = ctl_call(ctl)
    assert ("X_DEVICE_ON", {"device": "virtio-disk1", "path": "/machine/peripheral/virtio-disk1"}) in [
        (e["data"]["event"], e["data"].get("data")) for e in events if e["event"] == "MONITOR_EVENT"
    ]

    detach = lv.popen("detach-device", name, str(disk_file))
    try:
        # libvirt's device_del has been answered once the control plane reports the command.
        while True:
            event = ctl.msg(timeout=VIRSH_TIMEOUT)
            if event.get("event") == "MONITOR_COMMAND" and event["data"]["command"] == "device_del":
                break
        # The guest's 5 s abort window and the power-off, in virtual time.
        ctl.send({"execute": "clock-advance", "arguments": {"ms": 7000}})
        ctl_call(ctl)
        out, err = detach.communicate(timeout=VIRSH_TIMEOUT)
    finally:
        if detach.poll() is None:
            detach.kill()
    assert detach.returncode == 0, err + out
    assert lv.virsh("domblklist", name).split() == []
    view = commands_and_events(log)
    assert position(view, '< DEVICE_DELETED {"device": "virtio-disk1"') < position(
        view, '> blockdev-del {"node-name": "libvirt-1-format"}')
    ctl.close()
    lv.virsh("destroy", name)


def ctl_call(ctl: Client) -> list[dict]:
    """Reads control lines up to the reply; returns the events before it (or raises on an error)."""
    events = []
    while True:
        message = ctl.msg(timeout=VIRSH_TIMEOUT)
        if "return" in message:
            return events
        assert "error" not in message, message
        events.append(message)


def control_session(path: Path) -> Client:
    ctl = Client(str(path))
    assert json.loads(ctl.line())["QMP"]["capabilities"] == []
    ctl.send({"execute": "qmp_capabilities"})
    ctl_call(ctl)
    return ctl


def advance(ctl: Client, ms: int) -> None:
    ctl.send({"execute": "clock-advance", "arguments": {"ms": ms}})
    ctl_call(ctl)


def test_shutdown_and_reboot_through_the_power_button(lv):
    """`virsh shutdown` and `virsh reboot` press the ACPI power button (system_powerdown); the
    simulated Linux guest powers off after `shutdown-ms` (here on the manual clock). libvirt then
    destroys the domain (on_poweroff destroy), or for a reboot resets and continues it."""
    name = "pwr1"
    control = lv.dir / "pwr1.ctl"
    log = start_domain(lv, name, "clock: manual\ncontrol: %s\n" % control)
    ctl = control_session(control)
    advance(ctl, 100)  # the guest boots: it enables the power button
    lv.virsh("shutdown", name)
    assert lv.virsh("domstate", name).strip() == "running"  # the guest has not acted yet
    advance(ctl, 2000)  # the SCI handler, then shutdown-ms (1 s)
    wait_until(lambda: name not in lv.virsh("list", "--all", "--name").split(), VIRSH_TIMEOUT,
               "libvirt to destroy the powered-off domain")
    view = commands_and_events(log)
    assert position(view, "> system_powerdown") < position(view, "< POWERDOWN") < position(
        view, '< SHUTDOWN {"guest": true, "reason": "guest-shutdown"}') < position(view, "< STOP")
    ctl.close()

    name = "pwr2"
    control = lv.dir / "pwr2.ctl"
    log = start_domain(lv, name, "clock: manual\ncontrol: %s\n" % control)
    ctl = control_session(control)
    advance(ctl, 100)
    lv.virsh("reboot", name)
    advance(ctl, 2000)  # the SCI handler, then shutdown-ms (1 s)

    def rebooted() -> bool:
        view = commands_and_events(log)
        return "< RESUME {}" in view[position(view, "< STOP"):]
    wait_until(rebooted, VIRSH_TIMEOUT, "libvirt's system_reset and cont after the guest's power-off")
    view = commands_and_events(log)
    shutdown = position(view, '< SHUTDOWN {"guest": true, "reason": "guest-shutdown"}')
    reset = position(view, "> system_reset")
    assert shutdown < reset and "> cont {}" in view[reset:]  # libvirt's fake reboot: reset, then cont
    assert lv.virsh("domstate", name).strip() == "running"
    ctl.close()
    lv.virsh("destroy", name)
