"""ACPI CPU hot-plug through the daemon (docs/cpus.md): config/acpi-cpu.yaml with --clock manual,
a client on the QMP socket, time and registers on the control socket, the CPUs in machine-state,
and -smp refusals at start."""

from __future__ import annotations

import json
import os

from conftest import EX_CONFIG, assert_event, error_line, return_line
from test_control import call, control
from test_guest import advance

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CPU1 = {"driver": "qemu64-x86_64-cpu", "id": "cpu1", "socket-id": 0, "core-id": 1, "thread-id": 0}


def start(start_daemon, config):
    d = start_daemon("--control", start_daemon.path("control.sock"), "--clock", "manual", "--config", config)
    d.wait_listening([start_daemon.path("control.sock")])
    m = d.negotiated()
    c = control(d, start_daemon)
    advance(c, 10)  # the guest boots: modern CPU interface, GPEs enabled
    return d, m, c


def test_cpu_hot_plug_cycle_with_the_linux_guest(start_daemon):
    d, m, c = start(start_daemon, os.path.join(REPO, "config", "acpi-cpu.yaml"))
    hotpluggable = json.loads(m.cmd("query-hotpluggable-cpus"))["return"]
    assert [cpu.get("qom-path") for cpu in hotpluggable] == [None, None, None, "/machine/unattached/device[0]"]
    assert m.cmd("device_add", CPU1) == return_line()
    advance(c, 5)
    assert_event(m.line(), "ACPI_DEVICE_OST", '{"info": {"device": "cpu1", "source": 1, "status": 0, "slot": "1", "slot-type": "CPU"}}')
    cpus = json.loads(m.cmd("query-cpus-fast"))["return"]
    assert [(cpu["cpu-index"], cpu["qom-path"]) for cpu in cpus] == [(0, "/machine/unattached/device[0]"), (1, "/machine/peripheral/cpu1")]
    state = json.loads(call(c, "machine-state"))["return"]
    assert state["cpu-interface"] == "modern"
    assert [cpu["flags"] for cpu in state["cpus"]] == ["enabled", "enabled", "none", "none"]
    assert m.cmd("device_del", {"id": "cpu1"}) == return_line()
    assert_event(m.line(), "ACPI_DEVICE_OST", '{"info": {"device": "cpu1", "source": 3, "status": 132, "slot": "1", "slot-type": "CPU"}}')
    advance(c, 30)
    assert_event(m.line(), "DEVICE_DELETED", '{"path": "/machine/peripheral/cpu1/lapic"}')
    assert_event(m.line(), "DEVICE_DELETED", '{"device": "cpu1", "path": "/machine/peripheral/cpu1"}')
    assert_event(m.line(), "ACPI_DEVICE_OST", '{"info": {"source": 3, "status": 0, "slot": "1", "slot-type": "CPU"}}')
    assert m.cmd("device_del", {"id": "cpu1"}) == error_line("Device 'cpu1' not found", "DeviceNotFound")
    assert m.cmd("device_del", {"id": "/machine/unattached/device[0]"}) == error_line("Boot CPU is unpluggable")


def test_registers_through_the_control_plane(start_daemon, workdir):
    path = os.path.join(workdir, "cpu.yaml")
    with open(path, "w") as f:
        f.write("machine: pc\nsmp: {cpus: 2, maxcpus: 3}\nguest: {persona: manual}\n")
    d, m, c = start(start_daemon, path)
    base = 0xAF00
    assert json.loads(call(c, "guest-read", {"port": base, "size": 1}))["return"]["value"] == 0x3
    assert m.cmd("device_del", {"id": "/machine/unattached/device[2]"}) == error_line(
        "acpi: device unplug request for not supported device type: qemu64-x86_64-cpu")
    call(c, "guest-write", {"port": base, "size": 4, "value": 0})
    assert m.cmd("device_del", {"id": "/machine/unattached/device[2]"}) == return_line()
    call(c, "guest-write", {"port": base, "size": 4, "value": 1})
    assert json.loads(call(c, "guest-read", {"port": base + 4, "size": 1}))["return"]["value"] == 0x5
    call(c, "guest-write", {"port": base + 4, "size": 1, "value": 8})
    assert_event(m.line(), "DEVICE_DELETED", '{"path": "/machine/unattached/device[2]/lapic"}')
    assert_event(m.line(), "DEVICE_DELETED", '{"path": "/machine/unattached/device[2]"}')


def test_bad_smp_exits_78_with_qemus_text(start_daemon, workdir):
    path = os.path.join(workdir, "bad.yaml")
    with open(path, "w") as f:
        f.write("machine: q35\nsmp: {cpus: 4, maxcpus: 2}\n")
    rc, err = start_daemon.run_to_exit("--qmp", os.path.join(workdir, "x.sock"), "--config", path)
    assert rc == EX_CONFIG
    assert "maxcpus must be equal to or greater than smp" in err, err
