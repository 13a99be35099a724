"""User-creatable objects over real sockets: the OS side of `object-add`. A `memory-backend-file`
opens its file when it is added, creating a missing one and extending an empty one (sparsely: no
disk blocks, and no memory is mapped) to the backend's size, as QEMU does; a directory gets a
temporary file that is unlinked at once; a missing directory fails with QEMU's text; a memfd is
created and sized; an `rng-random` device is opened; a `secret`'s file is read. Nothing stays open:
after many add/del cycles the daemon's /proc/PID/fd is back at its baseline.

Texts are compared with real QEMU by the `object-*` conformance scenarios."""
from __future__ import annotations

import json
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CYCLES = 300


def fd_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def add(conn, arguments: dict) -> dict:
    return json.loads(conn.cmd("object-add", arguments))


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_memory_backend_file_opens_and_creates(start_daemon, workdir, version):
    d = start_daemon("--qemu-version", version)
    conn = d.negotiated(version=version)
    path = os.path.join(workdir, "mem")
    assert add(conn, {"qom-type": "memory-backend-file", "id": "f0", "size": 1 << 20, "mem-path": path}) == {"return": {}}
    info = os.stat(path)
    assert info.st_size == 1 << 20
    assert info.st_blocks == 0, "the file is extended sparsely"
    missing = os.path.join(workdir, "nodir", "mem")
    assert add(conn, {"qom-type": "memory-backend-file", "id": "f1", "size": 1 << 20, "mem-path": missing}) == {
        "error": {"class": "GenericError",
                  "desc": "can't open backing store %s for guest RAM: No such file or directory" % missing}}
    small = os.path.join(workdir, "small")
    with open(small, "wb") as f:
        f.write(b"abc")
    reply = add(conn, {"qom-type": "memory-backend-file", "id": "f1", "size": 1 << 20, "mem-path": small})
    assert "backing store size 0x3" in reply["error"]["desc"]
    before = sorted(os.listdir(workdir))
    assert add(conn, {"qom-type": "memory-backend-file", "id": "f1", "size": 1 << 20, "mem-path": workdir}) == {"return": {}}
    assert sorted(os.listdir(workdir)) == before, "the temporary file in a directory is unlinked"
    readonly_missing = os.path.join(workdir, "ro")
    reply = add(conn, {"qom-type": "memory-backend-file", "id": "f2", "size": 4096, "mem-path": readonly_missing,
                       "readonly": True})
    # 7.2 creates the file even for a read-only backend; 10.0 wants it to exist.
    assert ("return" in reply) == (version == "7.2.0"), reply
    assert os.path.exists(readonly_missing) == (version == "7.2.0")
    assert add(conn, {"qom-type": "memory-backend-memfd", "id": "mf0", "size": 1 << 20}) == {"return": {}}
    assert add(conn, {"qom-type": "rng-random", "id": "rng0", "filename": "/dev/urandom"}) == {"return": {}}
    reply = add(conn, {"qom-type": "rng-random", "id": "rng1", "filename": os.path.join(workdir, "nope")})
    assert reply["error"]["desc"].endswith("No such file or directory")
    secret = os.path.join(workdir, "secret")
    with open(secret, "w") as f:
        f.write("hunter2")
    assert add(conn, {"qom-type": "secret", "id": "s0", "file": secret}) == {"return": {}}
    ids = [m["id"] for m in json.loads(conn.cmd("query-memdev"))["return"]]
    assert ids == ["pc.ram", "f0", "f1", "mf0"] if version == "10.0.0" else ["pc.ram", "f0", "f1", "f2", "mf0"]


def test_object_cycles_leak_no_descriptor(start_daemon, workdir):
    d = start_daemon()
    conn = d.negotiated()
    secret = os.path.join(workdir, "secret")
    with open(secret, "w") as f:
        f.write("hunter2")
    baseline = fd_count(d.pid)
    for i in range(CYCLES):
        for arguments in (
            {"qom-type": "memory-backend-file", "id": "f", "size": 4096, "mem-path": os.path.join(workdir, "m%d" % (i % 3))},
            {"qom-type": "memory-backend-file", "id": "d", "size": 4096, "mem-path": workdir},
            {"qom-type": "memory-backend-memfd", "id": "mf", "size": 4096},
            {"qom-type": "rng-random", "id": "r"},
            {"qom-type": "secret", "id": "s", "file": secret},
            {"qom-type": "iothread", "id": "io"},
        ):
            assert add(conn, arguments) == {"return": {}}, arguments
        # A failing one too.
        reply = add(conn, {"qom-type": "memory-backend-file", "id": "x", "size": 4096, "mem-path": "/nonexistent/x"})
        assert "error" in reply
        for oid in ("f", "d", "mf", "r", "s", "io"):
            assert json.loads(conn.cmd("object-del", {"id": oid})) == {"return": {}}
    assert fd_count(d.pid) == baseline


def test_configuration_objects_and_chardevs(start_daemon, workdir):
    """config/objects.yaml with its socket moved into the test's directory: the objects, the
    chardev (a real listening socket) and the links exist when the daemon is ready."""
    sock = os.path.join(workdir, "vhost0.sock")
    with open(os.path.join(REPO, "config", "objects.yaml")) as f:
        text = f.read().replace("/run/vhost0.sock", sock)
    path = os.path.join(workdir, "objects.yaml")
    with open(path, "w") as f:
        f.write(text)
    d = start_daemon("--config", path)
    conn = d.negotiated()
    assert [m["id"] for m in json.loads(conn.cmd("query-memdev"))["return"]] == ["pc.ram", "mem0"]
    assert [t["id"] for t in json.loads(conn.cmd("query-iothreads"))["return"]] == ["iothread0"]
    assert json.loads(conn.cmd("qom-get", {"path": "/machine/peripheral/rng-dev", "property": "rng"})) == {
        "return": "/objects/rng0"}
    assert json.loads(conn.cmd("qom-get", {"path": "/machine/peripheral/scsi0", "property": "iothread"})) == {
        "return": "/objects/iothread0"}
    assert os.path.exists(sock)
    assert json.loads(conn.cmd("chardev-remove", {"id": "vhost0"})) == {
        "error": {"class": "GenericError", "desc": "Chardev 'vhost0' is busy"}}
    assert json.loads(conn.cmd("object-del", {"id": "mem0"})) == {"return": {}}
