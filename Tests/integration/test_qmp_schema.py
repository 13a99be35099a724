"""query-qmp-schema against the recordings in schema/, probed the way clients do.

* The answer is, byte for byte, the recording of the profile's release (plus the v8 additions
  merged by scripts/generate-qmp-schema.py) restricted to what query-commands lists and the events
  qmp-mockd raises, recomputed here independently of the Swift code.
* A libvirt-style probe (libvirt's virQEMUQAPISchemaPathGet: `command/arg-type/member`,
  `^enum-value`) finds what qmp-mockd implements and nothing else.
* The real qemu.qmp client reads it.
* The embedded Swift source is what the generator makes of the checked-in data.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys

import pytest

from qemu.qmp import QMPClient

from conftest import LINE_TIMEOUT, REPO

VERSIONS = ["7.2.0", "8.2.0", "10.0.0"]
EVENTS = {"SHUTDOWN", "POWERDOWN", "SUSPEND_DISK", "STOP", "RESUME", "RESET", "DEVICE_DELETED", "X_DEVICE_ON",
          "ACPI_DEVICE_OST"}


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_script("generate-qmp-schema")
RECORDER = load_script("record-qmp-schema")


def merged(version: str) -> list[dict]:
    additions = json.loads((REPO / "schema" / "v8-additions.json").read_text())
    return GENERATOR.with_additions(GENERATOR.load(version)["query-qmp-schema"], additions)


def answer(start_daemon, version: str) -> tuple[str, list[dict], list[str]]:
    d = start_daemon("--qemu-version", version)
    c = d.negotiated(version=version)
    line = c.cmd("query-qmp-schema")
    commands = [e["name"] for e in json.loads(c.cmd("query-commands"))["return"]]
    return line, json.loads(line)["return"], commands


@pytest.mark.parametrize("version", VERSIONS)
def test_answer_is_the_restricted_recording(start_daemon, version):
    line, schema, commands = answer(start_daemon, version)
    expected = RECORDER.restrict(merged(version), commands, sorted(EVENTS))
    # json.dumps with its default separators writes what QEMU writes (ASCII, ", " and ": ",
    # members in the order the recording has them, which is QEMU's).
    assert line == '{"return": ' + json.dumps(expected) + "}"
    names = {e["name"] for e in schema if e["meta-type"] == "command"}
    assert names == set(commands) and len(names) == len(commands)
    assert {e["name"] for e in schema if e["meta-type"] == "event"} == EVENTS


@pytest.mark.parametrize("version", VERSIONS)
def test_query_events_is_not_a_command(start_daemon, version):
    """QEMU 7.2 and 10.0 answer CommandNotFound (the recordings say so): so do we."""
    d = start_daemon("--qemu-version", version)
    c = d.negotiated(version=version)
    assert GENERATOR.load(version)["has-query-events"] is False
    assert c.cmd("query-events") == (
        '{"error": {"class": "CommandNotFound", "desc": "The command query-events has not been found"}}'
    )


def schema_path_exists(schema: list[dict], path: str) -> bool:
    """libvirt's query strings, the subset its capability probes use: `entity/arg-type|ret-type/member...`,
    a last step `^value` for an enum value and `+feature` for a feature of the entity reached."""
    by_name = {e["name"]: e for e in schema}
    steps = path.split("/")
    entity = by_name.get(steps[0])
    for step in steps[1:]:
        if entity is None:
            return False
        if step.startswith("+"):
            return step[1:] in entity.get("features", [])
        if step.startswith("^"):
            return entity["meta-type"] == "enum" and step[1:] in entity["values"]
        if step in ("arg-type", "ret-type", "element-type"):
            entity = by_name.get(entity.get(step))
            continue
        if entity["meta-type"] == "array":
            entity = by_name.get(entity["element-type"])
        member = next((m for m in entity.get("members", []) if m.get("name") == step), None)
        if member is None:
            return False
        entity = by_name.get(member["type"], {"meta-type": "builtin", "name": member["type"]})
    return entity is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_libvirt_style_probes(start_daemon, version):
    _, schema, _ = answer(start_daemon, version)
    present = [
        "device_add/arg-type/driver",
        "device_add/+json-cli-hotplug",
        "device_del/arg-type/id",
        "qom-get/arg-type/property",
        "qmp_capabilities/arg-type/enable",
        "query-status/ret-type/status/^prelaunch",
        "x-query-hotplug/arg-type/id",
        "x-query-hotplug/ret-type/device-on",
        "x-query-hotplug/ret-type/type/^pcie-native",
        "X_DEVICE_ON/arg-type/path",
        "DEVICE_DELETED/arg-type/device",
        "query-pci/ret-type/devices/qdev_id",
        "blockdev-add/arg-type/node-name",  # libvirt's probe for -blockdev support
        "query-named-block-nodes/arg-type/flat",
        "query-kvm/ret-type/enabled",  # the capability probe (docs/probe.md)
        "qom-list-types/arg-type/implements",
        "device-list-properties/arg-type/typename",
        "system_powerdown",  # libvirt's virsh shutdown and reboot
        "POWERDOWN",
        "block_resize",  # virsh blockresize
        "query-blockstats/arg-type/query-nodes",  # virsh domblkstat, domblkinfo
    ]
    absent = [
        "query-balloon",  # not implemented
        "block-stream",
        "WAKEUP",  # not raised (S3 is not modelled)
        "device_del/arg-type/force",
        "x-query-hotplug/ret-type/type/^acpi",
    ]
    for path in present:
        assert schema_path_exists(schema, path), f"{version}: {path}"
    for path in absent:
        assert not schema_path_exists(schema, path), f"{version}: {path}"
    singlestep = schema_path_exists(schema, "query-status/ret-type/singlestep")
    assert singlestep == (version != "10.0.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_qemu_qmp_reads_the_schema(start_daemon, version):
    d = start_daemon("--qemu-version", version)

    async def main():
        qmp = QMPClient("schema-probe")
        await asyncio.wait_for(qmp.connect(d.sockets[0]), LINE_TIMEOUT)
        try:
            schema = await asyncio.wait_for(qmp.execute("query-qmp-schema"), LINE_TIMEOUT)
            commands = await asyncio.wait_for(qmp.execute("query-commands"), LINE_TIMEOUT)
        finally:
            await qmp.disconnect()
        return schema, commands

    schema, commands = asyncio.run(asyncio.wait_for(main(), 30))
    listed = {c["name"] for c in commands}
    assert {e["name"] for e in schema if e["meta-type"] == "command"} == listed
    assert {"query-qmp-schema", "x-query-hotplug", "device_add"} <= listed
    by_name = {e["name"]: e for e in schema}
    for entity in schema:
        for ref in RECORDER.references(entity):
            assert ref in by_name, f"{entity['name']} refers to missing {ref}"


def test_generated_swift_is_fresh():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate-qmp-schema.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
