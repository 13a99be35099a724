"""The raw limit `make bench` puts beside qmp-mockd's hot-plug cycles is `qmp-bench cycle-server`, a
responder that sends a cycle's bytes canned. It is only a floor for *this* cycle if it sends what
qmp-mockd sends: the same lines on the same sockets in the same order, timestamps and virtual time
aside. When the simulated guest changes its register writes, this test says the responder must
follow."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import Client, Daemon, base_env, return_line

TIMESTAMP = re.compile(r'^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, ')
NOW_NS = re.compile(r'"now-ns": \d+')


def normalised(line: str) -> str:
    return NOW_NS.sub('"now-ns": N', TIMESTAMP.sub('{"timestamp": T, ', line))


def send(client: Client, command: str, arguments: dict | None = None) -> None:
    """A request as qmp-bench writes it: default JSON separators, one line."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    client.send(json.dumps(msg) + "\n")


def until_reply(client: Client) -> list[str]:
    """Lines up to and including the next reply."""
    lines = []
    while True:
        lines.append(client.line())
        if not lines[-1].startswith('{"timestamp"'):
            return lines


def cycle(qmp: Client, ctl: Client, device: str) -> list[str]:
    """One cycle as qmp-bench drives it; every line read, tagged with its socket."""
    seen = []

    def record(tag, lines):
        seen.extend("%s %s" % (tag, normalised(line)) for line in lines)

    send(qmp, "device_add", {"driver": "virtio-net-pci", "id": device, "bus": "pci.1"})
    record("qmp", until_reply(qmp))
    send(ctl, "clock-advance", {"ms": 1000})
    record("ctl", until_reply(ctl))
    send(qmp, "device_del", {"id": device})
    record("qmp", until_reply(qmp))  # X_DEVICE_ON first, then the reply
    send(ctl, "clock-advance", {"ms": 7000})
    record("ctl", until_reply(ctl))
    record("qmp", [qmp.line(), qmp.line()])  # the two DEVICE_DELETED
    qmp.assert_silent(0.05)
    return seen


def run_cycles(d: Daemon, paths) -> list[str]:
    """Two cycles on a started server listening on `paths` (QMP, control); the second one's lines."""
    d.wait_listening(paths)
    qmp, ctl = d.connect(paths[0]), d.connect(paths[1])
    for client in (qmp, ctl):
        assert client.line().startswith('{"QMP": ')
        send(client, "qmp_capabilities")
        assert client.line() == return_line()
    cycle(qmp, ctl, "hp0")  # the second cycle is the steady state qmp-bench times
    return cycle(qmp, ctl, "hp1")


def test_cycle_responder_sends_what_qmp_mockd_sends(start_daemon, mockd_binary, workdir):
    mockd_paths = [start_daemon.path("m.sock"), start_daemon.path("m.ctl")]
    mockd = run_cycles(
        start_daemon("--control", mockd_paths[1], "--clock", "manual", qmp=(mockd_paths[0],), wait=False),
        mockd_paths,
    )
    assert len([line for line in mockd if "GUEST_REGISTER_WRITE" in line]) == 17

    bench = Path(mockd_binary).parent / "qmp-bench"
    paths = [start_daemon.path("r.sock"), start_daemon.path("r.ctl")]
    responder = Daemon(
        [str(bench), "cycle-server", "--qmp", paths[0], "--control", paths[1]],
        cwd=workdir,
        env=base_env(),
        sockets=paths,
        log_prefix=start_daemon.path("responder"),
    )
    start_daemon.started.append(responder)  # torn down (and a crash reported) with the daemons
    assert run_cycles(responder, paths) == mockd
