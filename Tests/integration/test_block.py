"""The block layer over real sockets: libvirt 9.0's recorded disk hot-plug (qmp-hotplug.jsonl,
against QEMU 7.2.22) replayed against qmp-mockd, every reply checked for the shape libvirt parses;
then the node and device queries in QEMU 7.2's members, and no descriptor left open by file nodes.

The rules and texts themselves are compared with real QEMU by the `block-*` conformance scenarios."""
from __future__ import annotations

import json
import os

import pytest

ORACLE = "/work/shared/oracle/libvirt/qmp-hotplug.jsonl"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# BlockDeviceInfo and BlockInfo members as QEMU 7.2.22 reports them (block-* scenarios, 7.2).
NODE_KEYS = {"iops_rd", "detect_zeroes", "image", "iops_wr", "ro", "node-name", "backing_file_depth", "drv",
             "iops", "bps_wr", "write_threshold", "encrypted", "bps", "bps_rd", "cache", "file"}
BLOCK_KEYS = {"io-status", "device", "locked", "removable", "inserted", "qdev", "type"}


def machine_without_disk(workdir: str) -> str:
    """The default machine without its cold-plugged disk and its nodes (libvirt adds its own)."""
    with open(os.path.join(ROOT, "config", "default.yaml")) as f:
        lines = [l for l in f if "libvirt-1" not in l and "virtio-disk0" not in l]
    text = "".join(lines).replace("blockdevs:\n", "")
    path = os.path.join(workdir, "machine.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def shape(value):
    """What libvirt relies on: types, and the members of objects (recursively)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def recorded_disk_flow() -> list[tuple[dict, dict]]:
    """libvirt's disk requests (blockdev-add, device_add, device_del of the disk) with QEMU's replies."""
    pairs, pending = [], {}
    with open(ORACLE) as f:
        for line in f:
            entry = json.loads(line)
            m = entry["message"]
            if entry["dir"] == "c2s":
                if m.get("execute") in ("blockdev-add", "device_add", "device_del") and (
                        m["execute"] != "device_add" or m["arguments"].get("driver") == "virtio-blk-pci") and (
                        m["execute"] != "device_del" or m["arguments"].get("id") == "virtio-disk1"):
                    pending[m["id"]] = m
            elif "id" in m and m["id"] in pending:
                pairs.append((pending.pop(m["id"]), m))
    return pairs


@pytest.mark.skipif(not os.path.exists(ORACLE), reason="libvirt recording not on this machine")
def test_libvirt_disk_hotplug_flow(start_daemon, workdir):
    disk = os.path.join(workdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(10 << 20)
    # The 8.2 profile (the replies replayed are 7.2's and 8.2's alike): its X_DEVICE_ON says when the
    # guest has taken the disk, as it had in libvirt's run before its device_del.
    d = start_daemon("--qemu-version", "8.2.0", "--config", machine_without_disk(workdir))
    c = d.negotiated(version="8.2.0")
    flow = recorded_disk_flow()
    assert [m["execute"] for m, _ in flow] == ["blockdev-add", "blockdev-add", "device_add", "device_del"]
    for request, reply in flow:
        text = json.dumps(request).replace("<disk>", disk)
        c.send(text.encode())
        line, events = c.line(), []
        while '"event"' in line:  # the guest's events may come before the reply
            events.append(line)
            line = c.line()
        ours = json.loads(line)
        assert shape(ours) == shape(reply), (request, line)
        if request["execute"] == "device_add":
            while not any("X_DEVICE_ON" in e for e in events):
                events.append(c.line())
    # libvirt waits for the disk's DEVICE_DELETED (the default guest powers the slot off after its 5 s
    # abort window and 1 s more), then deletes the nodes.
    seen = []
    while not any('"device": "virtio-disk1"' in l for l in seen):
        seen.append(c.line(timeout=15))
    assert json.loads(c.cmd("query-block")) == {"return": []}
    assert json.loads(c.cmd("blockdev-del", {"node-name": "libvirt-1-format"})) == {"return": {}}
    assert json.loads(c.cmd("blockdev-del", {"node-name": "libvirt-1-storage"})) == {"return": {}}
    assert json.loads(c.cmd("query-named-block-nodes", {"flat": True})) == {"return": []}


def test_query_members_and_no_descriptor_kept(start_daemon, workdir):
    disk = os.path.join(workdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    d = start_daemon("--qemu-version", "7.2.0")
    c = d.negotiated(version="7.2.0")
    nodes = json.loads(c.cmd("query-named-block-nodes", {"flat": True}))["return"]
    assert [n["node-name"] for n in nodes] == ["libvirt-1-format", "libvirt-1-storage"]
    assert all(set(n) == NODE_KEYS for n in nodes)
    blocks = json.loads(c.cmd("query-block"))["return"]
    assert len(blocks) == 1 and set(blocks[0]) == BLOCK_KEYS
    baseline = len(os.listdir("/proc/%d/fd" % d.pid))
    for i in range(200):
        assert json.loads(c.cmd("blockdev-add", {"driver": "file", "filename": disk, "node-name": "f%d" % i})) == {"return": {}}
    assert len(os.listdir("/proc/%d/fd" % d.pid)) == baseline
    node = json.loads(c.cmd("query-named-block-nodes"))["return"][0]
    assert node["image"]["virtual-size"] == 1 << 20 and node["image"]["dirty-flag"] is False
    for i in range(200):
        assert json.loads(c.cmd("blockdev-del", {"node-name": "f%d" % i})) == {"return": {}}
    missing = json.loads(c.cmd("blockdev-add", {"driver": "file", "filename": disk + ".no", "node-name": "x"}))
    assert missing["error"]["desc"] == "Could not open '%s': No such file or directory" % (disk + ".no")


def test_blockstats_and_resize_of_the_host_file(start_daemon, workdir):
    """libvirt's domblkstat/domblkinfo (query-blockstats) and blockresize (block_resize by node name):
    the file really takes the new length, as QEMU's file-posix truncates it, and the queries report it."""
    disk = os.path.join(workdir, "grow.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    d = start_daemon("--qemu-version", "7.2.0")
    c = d.negotiated(version="7.2.0")
    stats = json.loads(c.cmd("query-blockstats"))["return"]
    assert [(s["device"], s["qdev"], s["node-name"]) for s in stats] == [
        ("", "/machine/peripheral/virtio-disk0/virtio-backend", "libvirt-1-format")]
    assert stats[0]["stats"]["rd_bytes"] == 0 and stats[0]["stats"]["account_invalid"] is True
    assert stats[0]["parent"]["node-name"] == "libvirt-1-storage"
    nodes = json.loads(c.cmd("query-blockstats", {"query-nodes": True}))["return"]
    assert [n["node-name"] for n in nodes] == ["libvirt-1-storage", "libvirt-1-format"]
    ok = {"return": {}}
    assert json.loads(c.cmd("blockdev-add", {"driver": "file", "filename": disk, "node-name": "g0"})) == ok
    assert json.loads(c.cmd("blockdev-add", {"driver": "raw", "file": "g0", "node-name": "g1"})) == ok
    assert json.loads(c.cmd("block_resize", {"node-name": "g1", "size": 2 << 20})) == ok
    assert os.path.getsize(disk) == 2 << 20
    assert json.loads(c.cmd("block_resize", {"node-name": "g1", "size": 1000})) == ok
    assert os.path.getsize(disk) == 1000
    sizes = {n["node-name"]: n["image"]["virtual-size"]
             for n in json.loads(c.cmd("query-named-block-nodes"))["return"]}
    assert sizes["g0"] == 1024 and sizes["g1"] == 1024
    missing = json.loads(c.cmd("block_resize", {"device": "vdc", "size": 512}))
    assert missing["error"] == {"class": "GenericError", "desc": "Cannot find device='vdc' nor node-name=''"}
