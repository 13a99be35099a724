"""The simulated Linux guest end to end: qmp-mockd with --clock manual, a management-stack
client on the QMP socket, the test steering time and personas on the control socket. Every
assertion about time is on virtual time, so the tests are deterministic."""

from __future__ import annotations

import json
import os

from conftest import assert_event, error_line, return_line
from test_control import call, control

NET0 = '{"device": "net0", "path": "/machine/peripheral/net0"}'
NET0_BACKEND = '{"path": "/machine/peripheral/net0/virtio-backend"}'
BUSY = "Hot-unplug failed: guest is busy (power indicator blinking)"


def start(start_daemon, *extra):
    d = start_daemon("--control", start_daemon.path("control.sock"), "--clock", "manual", *extra)
    d.wait_listening([start_daemon.path("control.sock")])
    m = d.negotiated()
    c = control(d, start_daemon)
    call(c, "clock-advance", {"ms": 0})  # the guest's drivers initialise at time 0
    return d, m, c


def advance(c, ms):
    return json.loads(call(c, "clock-advance", {"ms": ms}))["return"]["now-ns"]


def test_pcie_hot_add_acknowledged_after_link_latency(start_daemon):
    d, m, c = start(start_daemon)
    assert m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}) == return_line()
    advance(c, 99)
    m.assert_silent(0.05)  # the link comes up after 100 ms
    advance(c, 1)
    assert_event(m.line(), "X_DEVICE_ON", NET0)
    info = json.loads(m.cmd("x-query-hotplug", {"id": "net0"}))["return"]
    assert info["device-on"] is True and info["power-led"] == "on" and info["power-on"] is True


def test_pcie_hot_remove_busy_then_deleted_at_six_seconds(start_daemon):
    d, m, c = start(start_daemon)
    m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"})
    advance(c, 200)
    assert_event(m.line(), "X_DEVICE_ON", NET0)
    assert m.cmd("device_del", {"id": "net0"}) == return_line()
    advance(c, 10)  # the guest blinks the power indicator
    assert m.cmd("device_del", {"id": "net0"}) == error_line("Device net0 is already in the process of unplug")
    advance(c, 5000)  # the 5 s pending guard is over, the indicator still blinks
    assert m.cmd("device_del", {"id": "net0"}) == error_line(BUSY)
    advance(c, 989)
    m.assert_silent(0.05)
    advance(c, 1)  # 5 s abort window + 1 s after power-off
    assert_event(m.line(), "DEVICE_DELETED", NET0_BACKEND)
    assert_event(m.line(), "DEVICE_DELETED", NET0)


def test_never_ack_then_second_press_after_five_seconds(start_daemon):
    d, m, c = start(start_daemon)
    call(c, "guest-set-persona", {"persona": "never-ack", "controller": "pci.8"})
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == return_line()
    advance(c, 4999)
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == error_line("Device virtio-disk0 is already in the process of unplug")
    advance(c, 1)
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == return_line()  # pressed again
    advance(c, 60000)
    m.assert_silent(0.05)
    regs = json.loads(call(c, "guest-read", {"controller": "pci.8"}))["return"]
    assert regs["decoded"]["attention-button-pressed"] is True


def test_paused_vm_freezes_the_guest_and_the_expiry(start_daemon):
    d, m, c = start(start_daemon)
    m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"})
    advance(c, 200)
    assert_event(m.line(), "X_DEVICE_ON", NET0)
    m.cmd("device_del", {"id": "net0"})
    m.send({"execute": "stop"})
    assert_event(m.line(), "STOP")
    assert m.line() == return_line()
    advance(c, 60000)
    m.assert_silent(0.05)
    state = json.loads(call(c, "machine-state"))["return"]
    assert [x for x in state["devices"] if x.get("id") == "net0"][0]["pending-unplug-ns"] > 0
    m.send({"execute": "cont"})
    assert_event(m.line(), "RESUME")
    assert m.line() == return_line()
    advance(c, 6000)
    assert_event(m.line(), "DEVICE_DELETED", NET0_BACKEND)
    assert_event(m.line(), "DEVICE_DELETED", NET0)


def test_persona_switched_at_run_time(start_daemon):
    d, m, c = start(start_daemon)
    call(c, "guest-set-persona", {"persona": "never-ack"})
    m.cmd("device_add", {"driver": "e1000e", "id": "nic", "bus": "pci.2"})
    advance(c, 10000)
    m.assert_silent(0.05)
    state = json.loads(call(c, "machine-state"))["return"]
    assert [s for s in state["slots"] if s["controller"] == "pci.2"][0]["persona"] == "never-ack"
    assert call(c, "guest-set-persona", {"persona": "linux"}) == return_line()
    # The new driver finds the latched events when it takes over and brings the card up.
    advance(c, 200)
    assert_event(m.line(), "X_DEVICE_ON", '{"device": "nic", "path": "/machine/peripheral/nic"}')
    assert call(c, "guest-set-persona", {"persona": "bogus"}).startswith('{"error"')


def test_shpc_flows(start_daemon):
    d, m, c = start(start_daemon)
    nic = '{"device": "nic", "path": "/machine/peripheral/nic"}'
    assert m.cmd("device_add", {"driver": "e1000", "id": "nic", "bus": "pci.7", "addr": "3"}) == return_line()
    advance(c, 5999)
    m.assert_silent(0.05)
    advance(c, 1)  # button window 5 s + enable settle 1 s
    assert_event(m.line(), "X_DEVICE_ON", nic)
    assert m.cmd("device_del", {"id": "nic"}) == return_line()
    advance(c, 10)
    assert m.cmd("device_del", {"id": "nic"}) == error_line(BUSY)
    advance(c, 5000)
    assert_event(m.line(), "DEVICE_DELETED", nic)
    slot = json.loads(call(c, "guest-read", {"controller": "pci.7", "slot": 3}))["return"]
    assert slot["mrl-open"] is True and slot["attention-led"] == "off"


def test_script_persona_from_configuration(start_daemon, workdir):
    path = os.path.join(workdir, "guest.yaml")
    with open(path, "w") as f:
        f.write(
            "machine: q35\n"
            "globals: [ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off]\n"
            "controllers:\n"
            "  - {driver: pcie-root-port, id: rp1, chassis: 1, slot: 1}\n"
            "guest:\n"
            "  persona: linux\n"
            "  slots:\n"
            "    - controller: rp1\n"
            "      persona: script\n"
            "      steps: [{wait-ms: 300}, {write-slot-control: 0x2c0}, {wait-for: presence}, {wait-ms: 200},"
            " {write-slot-control: 0x1c0}]\n"
        )
    d, m, c = start(start_daemon, "--config", path)
    assert m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "rp1"}) == return_line()
    advance(c, 499)
    m.assert_silent(0.05)
    advance(c, 1)
    assert_event(m.line(), "X_DEVICE_ON", NET0)


def test_guest_register_writes_are_reported(start_daemon):
    d, m, c = start(start_daemon)
    m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"})
    c.send({"execute": "clock-advance", "arguments": {"ms": 200}})
    writes = []
    while True:
        line = c.line()
        if not line.startswith('{"timestamp"'):
            break
        writes.append(json.loads(line)["data"])
    controls = [w["value"] for w in writes if w["register"] == "slot-control" and w["controller"] == "pci.1"]
    assert controls and controls[-1] & 0x3C0 == 0x1C0  # ends with power indicator on, attention off
    assert_event(m.line(), "X_DEVICE_ON", NET0)
