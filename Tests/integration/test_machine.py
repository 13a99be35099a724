"""The simulated machine through the daemon: device_add/device_del, x-query-hotplug,
query-pci, qom-list/qom-get, system_reset, the default machine and --config files.

Guest register writes need the control plane (a later milestone); flows that need a
guest are covered by the Swift end-to-end tests. Here: everything a client alone sees."""

from __future__ import annotations

import json
import os

from conftest import EX_CONFIG, assert_event, error_line, return_line

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NET0 = '{"device": "net0", "path": "/machine/peripheral/net0"}'


def test_default_machine_hot_add_then_immediate_unplug(start_daemon):
    d = start_daemon("--paused")
    c = d.negotiated()
    assert c.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}, id=1) == return_line("{}", "1")
    info = json.loads(c.cmd("x-query-hotplug", {"id": "net0"}))["return"]
    assert info == {
        "type": "pcie-native", "bus": {"device": "pci.1", "path": "/machine/peripheral/pci.1"},
        "child": json.loads(NET0), "device-on": False, "power-led": "off", "attention-led": "off", "power-on": False,
    }
    # The guest never powered the slot: QEMU empties it at once, reply first, then the events.
    assert c.cmd("device_del", {"id": "net0"}, id=2) == return_line("{}", "2")
    assert_event(c.line(), "DEVICE_DELETED", '{"path": "/machine/peripheral/net0/virtio-backend"}')
    assert_event(c.line(), "DEVICE_DELETED", NET0)
    assert c.cmd("device_del", {"id": "net0"}) == error_line("Device 'net0' not found", "DeviceNotFound")


def test_cold_plugged_disk_goes_pending_and_id_stays_taken(start_daemon):
    d = start_daemon("--paused")
    c = d.negotiated()
    assert c.cmd("device_del", {"id": "virtio-disk0"}) == return_line()
    assert c.cmd("device_del", {"id": "virtio-disk0"}) == error_line("Device virtio-disk0 is already in the process of unplug")
    assert c.cmd("device_add", {"driver": "virtio-blk-pci", "id": "virtio-disk0", "bus": "pci.2"}) == error_line("Duplicate device ID 'virtio-disk0'")
    c.assert_silent()


def test_errors_of_the_default_machine(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    assert c.cmd("device_add", {"driver": "virtio-net-pci", "id": "n", "bus": "pci.5"}) == error_line("Bus 'pci.5' does not support hotplugging")
    # QEMU realizes the virtio backend before the SHPC refuses slot 0: its DEVICE_DELETED comes first.
    c.send({"execute": "device_add", "arguments": {"driver": "virtio-net-pci", "id": "n", "bus": "pci.7"}})
    assert_event(c.line(), "DEVICE_DELETED", '{"path": "/machine/peripheral/n/virtio-backend"}')
    assert c.line() == error_line(
        "Unsupported PCI slot 0 for standard hotplug controller. Valid slots are between 1 and 31.")
    assert c.cmd("device_add", {"driver": "nope"}) == error_line("'nope' is not a valid device model name")
    assert c.cmd("device_del", {"id": "pci.1"}) == error_line("Bus 'pcie.0' does not support hotplugging")
    assert c.cmd("x-query-hotplug", {"id": "nope"}) == error_line("Device 'nope' not found", "DeviceNotFound")
    assert c.cmd("x-query-hotplug", {}) == error_line("Parameter 'id' is missing")


def test_version_profiles(start_daemon):
    for version, text in [("7.2.0", "Hot-plug failed: unsupported by the port device 'pci.5'"),
                          ("10.0.0", "Bus 'pci.5' does not support hotplugging")]:
        d = start_daemon("--qemu-version", version, qmp=("q%s.sock" % version,))
        c = d.negotiated(version=version)
        assert c.cmd("device_add", {"driver": "e1000e", "id": "n", "bus": "pci.5"}) == error_line(text)


def test_shpc_device_and_queries(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    assert c.cmd("device_add", {"driver": "e1000", "id": "nic", "bus": "pci.7", "addr": "0x3"}) == return_line()
    info = json.loads(c.cmd("x-query-hotplug", {"id": "nic"}))["return"]
    assert info["type"] == "shpc" and info["addr"] == "3" and info["slot-state"] == "disabled"
    pci = json.loads(c.cmd("query-pci"))["return"]

    def find(devices, qdev_id):
        for dev in devices:
            if dev["qdev_id"] == qdev_id:
                return dev
            found = find(dev.get("pci_bridge", {}).get("devices", []), qdev_id)
            if found:
                return found
    nic = find(pci[0]["devices"], "nic")
    assert nic and nic["slot"] == 3 and nic["id"]["vendor"] == 0x8086
    assert json.loads(c.cmd("qom-get", {"path": "/machine/peripheral/nic", "property": "type"}))["return"] == "e1000"
    names = [m["name"] for m in json.loads(c.cmd("qom-list", {"path": "/machine/peripheral"}))["return"]]
    assert "nic" in names and "virtio-disk0" in names
    assert c.cmd("qom-get", {"path": "/machine/peripheral/nic", "property": "nope"}) == error_line("Property 'e1000.nope' not found")


def test_system_reset_event_before_reply(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    c.send({"execute": "system_reset", "id": "r"})
    assert_event(c.line(), "RESET", '{"guest": false, "reason": "host-qmp-system-reset"}')
    assert c.line() == return_line("{}", '"r"')


def test_config_file_builds_the_machine(start_daemon):
    d = start_daemon("--config", os.path.join(REPO, "config", "switch-and-catalog.yaml"))
    c = d.negotiated()
    info = json.loads(c.cmd("x-query-hotplug", {"id": "nic0"}))["return"]
    assert info["bus"] == {"device": "dn1", "path": "/machine/peripheral/dn1"}
    assert c.cmd("device_add", {"driver": "acme-nic", "id": "n2", "bus": "dn2"}) == return_line()


def test_bad_config_exits_78_naming_the_line(start_daemon, workdir):
    path = os.path.join(workdir, "bad.yaml")
    with open(path, "w") as f:
        f.write("machine: q35\ncontrollers:\n  - {driver: pcie-root-port, id: rp1, chasis: 1}\n")
    rc, err = start_daemon.run_to_exit("--qmp", os.path.join(workdir, "x.sock"), "--config", path)
    assert rc == EX_CONFIG
    assert "line 3" in err and "Property 'pcie-root-port.chasis' not found" in err, err
    rc, err = start_daemon.run_to_exit("--qmp", os.path.join(workdir, "x.sock"), "--config", os.path.join(workdir, "missing.yaml"))
    assert rc == EX_CONFIG and "missing.yaml" in err
