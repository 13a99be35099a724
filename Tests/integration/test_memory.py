"""ACPI memory hot-plug end to end (docs/memory.md): qmp-mockd started with config/acpi-memory.yaml
(512 MiB, 4 DIMM slots, maxmem 4 GiB, dimm0 cold-plugged on mem0, mem1 free) on the manual clock; a
stack's client hot-adds and removes a pc-dimm while the simulated Linux guest acknowledges through
the 0xa00 register block; machine-state shows the DIMM slots; a bad -m is refused at start with
QEMU's text. Texts and register traffic are compared with real QEMU by the acpi-mem-* conformance
scenarios."""
from __future__ import annotations

import json
import os

from conftest import assert_event, return_line
from test_control import call, control

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, "config", "acpi-memory.yaml")
DIMM1 = '{"device": "dimm1", "path": "/machine/peripheral/dimm1"}'


def start(start_daemon, config=CONFIG):
    d = start_daemon("--control", start_daemon.path("control.sock"), "--clock", "manual", "--config", config)
    d.wait_listening([start_daemon.path("control.sock")])
    m = d.negotiated()
    c = control(d, start_daemon)
    call(c, "clock-advance", {"ms": 0})  # the guest's ACPI comes up at time 0
    return d, m, c


def advance(c, ms):
    return json.loads(call(c, "clock-advance", {"ms": ms}))["return"]["now-ns"]


def ost(line: str) -> dict:
    message = json.loads(line)
    assert message["event"] == "ACPI_DEVICE_OST", line
    return message["data"]["info"]


def dimm_slots(c) -> list[dict]:
    state = json.loads(call(c, "machine-state"))["return"]
    return [s for s in state["slots"] if s["type"] == "acpi-dimm"]


def test_dimm_hot_add_and_removal_with_the_linux_guest(start_daemon):
    d, m, c = start(start_daemon)
    devices = json.loads(m.cmd("query-memory-devices"))["return"]
    assert [(x["data"]["id"], x["data"]["slot"], x["data"]["addr"], x["data"]["hotplugged"]) for x in devices] == [
        ("dimm0", 0, 0x100000000, False)]
    assert m.cmd("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "mem1"}) == return_line()
    state = json.loads(call(c, "machine-state"))["return"]
    assert [(x["id"], x["bus"], x["addr"]) for x in state["devices"] if x["driver"] == "pc-dimm"] == [
        ("dimm0", "", "0x100000000"), ("dimm1", "", "0x110000000")]
    slots = dimm_slots(c)
    assert [s["slot"] for s in slots] == [0, 1, 2, 3]
    assert slots[1]["device"] == "dimm1" and slots[1]["enabled"] and not slots[1]["inserting"]  # scanned
    advance(c, 20)
    assert ost(m.line()) == {"device": "dimm1", "source": 1, "status": 0, "slot": "1", "slot-type": "DIMM"}
    assert m.cmd("device_del", {"id": "dimm1"}) == return_line()
    assert ost(m.line())["status"] == 0x84
    assert m.cmd("object-del", {"id": "mem1"}) == (
        '{"error": {"class": "GenericError", "desc": "object \'mem1\' is in use, can not be deleted"}}')
    advance(c, 199)
    m.assert_silent(0.05)
    advance(c, 1)
    assert_event(m.line(), "DEVICE_DELETED", DIMM1)
    assert ost(m.line()) == {"source": 3, "status": 0, "slot": "1", "slot-type": "DIMM"}
    assert m.cmd("object-del", {"id": "mem1"}) == return_line()
    slots = dimm_slots(c)
    assert "device" not in slots[1] and not slots[1]["enabled"]
    assert (slots[1]["ost-source"], slots[1]["ost-status"]) == (3, 0)
    summary = json.loads(m.cmd("query-memory-size-summary"))["return"]
    assert summary == {"base-memory": 512 << 20, "plugged-memory": 256 << 20}


def test_refusing_guest_keeps_the_dimm(start_daemon, workdir):
    with open(CONFIG) as f:
        text = f.read().replace("memory-removal: offline", "memory-removal: refuse")
    path = os.path.join(workdir, "refuse.yaml")
    with open(path, "w") as f:
        f.write(text)
    d, m, c = start(start_daemon, path)
    assert m.cmd("device_del", {"id": "dimm0"}) == return_line()
    assert ost(m.line())["status"] == 0x84
    advance(c, 200)
    assert ost(m.line()) == {"device": "dimm0", "source": 3, "status": 0x82, "slot": "0", "slot-type": "DIMM"}
    advance(c, 5000)
    m.assert_silent(0.05)
    assert len(json.loads(m.cmd("query-memory-devices"))["return"]) == 1


def test_bad_memory_options_are_refused_at_start(start_daemon, workdir):
    path = os.path.join(workdir, "bad.yaml")
    with open(path, "w") as f:
        f.write("machine: q35\nmemory: {size: 512M, slots: 4}\n")
    status, output = start_daemon.run_to_exit("--config", path)
    assert status != 0
    assert "slots specified but no max-size" in output
