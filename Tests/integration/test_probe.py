"""The capability probe of libvirt 9.0 (fixtures/libvirt/qmp-probe.jsonl, from ../shared/oracle/libvirt, recorded against
QEMU 7.2.22) replayed against qmp-mockd's 7.2 profile: every answer is the recorded one, except where
qmp-mockd restricts what it advertises (docs/probe.md), and those differences are exactly the
documented ones. The other profiles answer from their own recordings (probe/)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import error_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Copies of ../shared/oracle/libvirt's transcripts (fixtures/README.md), so that a clone alone runs the test.
PROBE = os.path.join(ROOT, "Tests", "integration", "fixtures", "libvirt", "qmp-probe.jsonl")
OWN_STATE = {"qmp_capabilities", "query-version", "query-qmp-schema", "query-commands"}


def recorded_probe():
    """(request, reply) pairs of libvirt's probe, ids removed."""
    pending, pairs = {}, []
    with open(PROBE, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            message = dict(entry["message"])
            if entry["dir"] == "c2s":
                pending[message.pop("id", None)] = message
            elif message.get("id") in pending:
                request = pending.pop(message.pop("id"))
                pairs.append((request, message))
    return pairs


def recording(version):
    with open(os.path.join(ROOT, "probe", "qemu-%s.json" % version), encoding="utf-8") as f:
        return json.load(f)["answers"]


def start(start_daemon, version, accel="tcg"):
    config = start_daemon.path("machine.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("machine: q35\naccel: %s\n" % accel)
    d = start_daemon("--qemu-version", version, "--config", config)
    return d.negotiated(version=version)


def ask(m, request):
    return json.loads(m.cmd(request["execute"], request.get("arguments")))


def test_libvirt_probe_answers_are_the_recorded_ones_or_the_documented_restriction(start_daemon):
    m = start(start_daemon, "7.2.0")
    pairs = [(q, a) for q, a in recorded_probe() if q["execute"] not in OWN_STATE]
    assert len(pairs) == 47
    same, restricted = 0, []
    for request, expected in pairs:
        reply = ask(m, request)
        if reply == expected:
            same += 1
            continue
        restricted.append(request["execute"] + ":" + json.dumps(request.get("arguments", {}).get("typename", "")))
        if request["execute"] == "qom-list-types":
            kept = [t["name"] for t in reply["return"]]
            everything = [t["name"] for t in expected["return"]]
            hidden = set(everything) - set(kept)
            assert [n for n in everything if n in set(kept)] == kept, "order kept"
            assert {"pcie-root-port", "virtio-blk-pci", "virtio-net-pci", "ICH9-LPC", "qemu64-x86_64-cpu"} <= set(kept)
            assert {"VGA", "qxl", "virtio-gpu-pci", "microvm-machine"} <= hidden
        elif request["execute"] == "query-machines":
            names = [x["name"] for x in reply["return"]]
            assert names == [x["name"] for x in expected["return"]
                             if x["name"] == "none" or x["name"].startswith(("pc-q35-", "pc-i440fx-"))]
            assert "microvm" not in names and "pc-q35-7.2" in names
        else:
            assert request["execute"] == "device-list-properties", request
            name = request["arguments"]["typename"]
            assert reply == {"error": {"class": "DeviceNotFound", "desc": "Device '%s' not found" % name}}
    assert same == 38
    assert sorted(restricted) == sorted([
        'qom-list-types:""', 'query-machines:""',
        *('device-list-properties:"%s"' % n for n in
          ["VGA", "vmware-svga", "qxl", "virtio-gpu-pci", "virtio-balloon-pci", "virtio-mem-pci", "virtio-iommu-pci"]),
    ])


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_every_profile_answers_from_its_own_recording(start_daemon, version):
    m = start(start_daemon, version)
    for entry in recording(version):
        if entry["execute"] in ("qom-list-types", "query-machines", "query-kvm", "device-list-properties"):
            continue  # restricted or live (the test above)
        request = {k: entry[k] for k in ("execute", "arguments") if k in entry}
        reply = ask(m, request)
        expected = {"return": entry["return"]} if "return" in entry else {"error": entry["error"]}
        assert reply == expected, request


def test_every_pci_model_the_probe_lists_has_its_properties(start_daemon):
    """qom-list-types names the catalog's PCI models; each answers device-list-properties from the
    recording (scripts/record-probe.py records every catalog model)."""
    m = start(start_daemon, "10.0.0")
    models = [t["name"] for t in ask(m, {"execute": "qom-list-types", "arguments": {"implements": "pci-device"}})["return"]]
    assert "pcie-root-port" in models and "VGA" not in models
    for name in models:
        reply = ask(m, {"execute": "device-list-properties", "arguments": {"typename": name}})
        assert "return" in reply, (name, reply)


def test_kvm_follows_the_accelerator_and_unrecorded_requests_say_so(start_daemon):
    m = start(start_daemon, "8.2.0", accel="kvm")
    assert ask(m, {"execute": "query-kvm"}) == {"return": {"enabled": True, "present": True}}
    machines = [x["name"] for x in ask(m, {"execute": "query-machines"})["return"]]
    assert "pc-q35-8.2" in machines and "pc-i440fx-8.0" in machines
    q35 = [x for x in ask(m, {"execute": "query-machines"})["return"] if x.get("alias") == "q35"]
    assert [x["name"] for x in q35] == ["pc-q35-8.2"]
    assert m.cmd("query-cpu-model-expansion", {"type": "full", "model": {"name": "Haswell"}}) == error_line(
        "qmp-mockd has no recorded answer to query-cpu-model-expansion with these arguments "
        "(docs/probe.md lists what the probe recording holds)")
    assert m.cmd("device-list-properties", {"typename": "no-such-type"}) == error_line(
        "Device 'no-such-type' not found", "DeviceNotFound")
    assert m.cmd("qom-list-properties", {"typename": "VGA"}) == error_line("Class 'VGA' not found", "DeviceNotFound")
    assert m.cmd("query-command-line-options", {"option": "nope"}) == error_line("Invalid parameter 'nope'")
    sandbox = json.loads(m.cmd("query-command-line-options", {"option": "sandbox"}))["return"]
    assert [o["option"] for o in sandbox] == ["sandbox"]


def test_libvirt_reads_the_boot_cpu_as_from_qemu(start_daemon):
    """At domain start libvirt lists the boot CPU's properties and reads ~400 of them (qmp-start.jsonl,
    recorded against QEMU 7.2 with -cpu qemu64, TCG): every answer is QEMU's."""
    m = start(start_daemon, "7.2.0")
    pending, compared = {}, 0
    with open(os.path.join(os.path.dirname(PROBE), "qmp-start.jsonl"), encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            message = dict(entry["message"])
            if entry["dir"] == "c2s":
                pending[message.pop("id", None)] = message
                continue
            request = pending.pop(message.pop("id", None), None)
            if not request or request["execute"] not in ("qom-list", "qom-get"):
                continue
            if request["arguments"]["path"] != "/machine/unattached/device[0]":
                continue
            assert ask(m, request) == message, request
            compared += 1
    assert compared == 399  # qom-list and 398 qom-get: every read of the boot CPU
