"""ACPI PCI hot-plug end to end (docs/acpi.md): the example configurations config/acpi-q35.yaml and
config/acpi-pc.yaml, a management client on the QMP socket, the simulated Linux guest's acpiphp, and
the test steering virtual time on the control socket (--clock manual)."""

from __future__ import annotations

import json
import os

from conftest import REPO, assert_event, error_line, return_line
from test_control import call
from test_guest import advance, start

NET1 = '{"device": "net1", "path": "/machine/peripheral/net1"}'
NET1_BACKEND = '{"path": "/machine/peripheral/net1/virtio-backend"}'


def config(name):
    return os.path.join(REPO, "config", name)


def test_q35_example_hot_add_and_remove_through_acpi(start_daemon):
    d, m, c = start(start_daemon, "--config", config("acpi-q35.yaml"))
    assert json.loads(m.cmd("qom-get", {"path": "/machine/peripheral/rp1/rp1", "property": "acpi-pcihp-bsel"})) == {
        "return": 2}
    assert m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net1", "bus": "rp1"}) == return_line()
    assert m.cmd("x-query-hotplug", {"id": "net1"}) == error_line("Hotplug state is not available for 'net1'")
    state = json.loads(call(c, "machine-state"))["return"]["acpi"]
    assert state["guest"] == "booted" and state["gpe0-enable"] == 0x06
    assert {"bus": "rp1", "bsel": 2, "slot": 0, "device": "net1", "up": False, "down": False} in state["pci-slots"]
    advance(c, 1)
    assert m.cmd("device_del", {"id": "net1"}) == return_line()
    advance(c, 19)
    m.assert_silent(0.05)
    advance(c, 1)  # acpiphp ejects 20 ms after its scan
    assert_event(m.line(), "DEVICE_DELETED", NET1_BACKEND)
    assert_event(m.line(), "DEVICE_DELETED", NET1)
    assert m.cmd("device_del", {"id": "net1"}) == error_line("Device 'net1' not found", "DeviceNotFound")


def test_pc_example_root_bus_bridge_and_the_cold_bridge(start_daemon):
    d, m, c = start(start_daemon, "--config", config("acpi-pc.yaml"))
    assert m.cmd("device_add", {"driver": "e1000", "id": "net1", "bus": "pci.0"}) == return_line()
    advance(c, 1)
    assert m.cmd("device_del", {"id": "nic0"}) == return_line()
    advance(c, 20)
    assert_event(m.line(), "DEVICE_DELETED", '{"device": "nic0", "path": "/machine/peripheral/nic0"}')
    # The cold-plugged bridge: accepted, never ejected by the guest.
    assert m.cmd("device_del", {"id": "pb1"}) == return_line()
    advance(c, 1000)
    m.assert_silent(0.05)
    slots = json.loads(call(c, "machine-state"))["return"]["acpi"]["pci-slots"]
    assert {"bus": "pci.0", "bsel": 0, "slot": 7, "device": "pb1", "up": False, "down": True} in slots


def test_q35_scripted_guest_example(start_daemon):
    """config/acpi-q35-script.yaml: the ACPI side's script programs the firmware, takes the hot-add's
    SCI, and ejects 50 ms after the removal request's SCI (`wait-for: sci` wakes at the SCI, unpolled)."""
    d, m, c = start(start_daemon, "--config", config("acpi-q35-script.yaml"))
    state = json.loads(call(c, "machine-state"))["return"]["acpi"]
    assert state["guest"] == "script-step-6" and state["gpe0-enable"] == 0x02
    assert m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net1", "bus": "rp1"}) == return_line()
    advance(c, 0)  # the script takes the SCI at the instant of the request
    state = json.loads(call(c, "machine-state"))["return"]["acpi"]
    assert state["guest"] == "script-step-10" and state["sci"] is False
    assert {"bus": "rp1", "bsel": 2, "slot": 0, "device": "net1", "up": False, "down": False} in state["pci-slots"]
    assert m.cmd("device_del", {"id": "net1"}) == return_line()
    advance(c, 49)  # the removal's SCI wakes the script at once; the eject is 50 ms later
    m.assert_silent(0.05)
    advance(c, 1)
    assert_event(m.line(), "DEVICE_DELETED", NET1_BACKEND)
    assert_event(m.line(), "DEVICE_DELETED", NET1)
    assert json.loads(call(c, "machine-state"))["return"]["acpi"]["guest"] == "script-done"


def test_scripts_are_checked_against_their_controller(start_daemon):
    d, m, c = start(start_daemon, "--config", config("acpi-q35.yaml"))
    reply = call(c, "guest-set-persona", {"persona": "script", "controller": "acpi", "steps": ["ack-events"]})
    assert "script step 'ack-events' does not apply to the ACPI side (controller 'acpi')" in reply
    reply = call(c, "guest-set-persona", {"persona": "script", "controller": "rp1",
                                          "steps": [{"io-read": {"port": 0xcc0, "size": 4}}]})
    assert "script step 'io-read' applies only to a script for the ACPI side (controller 'acpi')" in reply
    steps = [{"io-write": {"port": 0x628, "size": 1, "value": 0}}]
    assert call(c, "guest-set-persona", {"persona": "script", "controller": "acpi", "steps": steps}) == return_line()
    advance(c, 0)
    state = json.loads(call(c, "machine-state"))["return"]["acpi"]
    assert state["guest"] == "script-done" and state["gpe0-enable"] == 0
