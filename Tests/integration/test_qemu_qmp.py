"""The real client library, qemu.qmp 0.0.6 (async QMPClient, the legacy
synchronous QEMUMonitorProtocol, and the qmp-shell tool), against qmp-mockd.

qemu.qmp negotiates with ``enable: ["oob"]``, sends no newline after its
messages, uses ids like "__qmp#00000" and tears the session down on any line
it cannot route -- so these tests also catch framing and routing bugs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qemu.qmp import EventListener, ExecuteError, QMPClient
from qemu.qmp.legacy import QEMUMonitorProtocol

from conftest import EX_OK, LINE_TIMEOUT, base_env

TIMEOUT = LINE_TIMEOUT


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


@pytest.fixture
def qmp_errors(caplog):
    """Fail on qemu.qmp warnings/errors (unroutable replies, bad messages)."""
    caplog.set_level(logging.WARNING, logger="qemu.qmp")
    yield caplog
    bad = [r for r in caplog.records if r.name.startswith("qemu.qmp") and r.levelno >= logging.WARNING]
    assert not bad, "qemu.qmp complained: %s" % [r.getMessage() for r in bad]


# ---------------------------------------------------------------------------
# async QMPClient
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["7.2.0", "8.2.0", "10.0.0"])
def test_qmpclient_query_status_and_stop_event(start_daemon, qmp_errors, version):
    d = start_daemon("--qemu-version", version)
    major, minor, micro = (int(x) for x in version.split("."))

    async def main():
        qmp = QMPClient("mock-test")
        await asyncio.wait_for(qmp.connect(d.sockets[0]), TIMEOUT)
        try:
            greeting = qmp.greeting
            assert greeting is not None
            assert dict(greeting.QMP.version["qemu"]) == {"micro": micro, "minor": minor, "major": major}
            assert list(greeting.QMP.capabilities) == ["oob"]

            status = await asyncio.wait_for(qmp.execute("query-status"), TIMEOUT)
            expected = {"status": "running", "running": True}
            if version != "10.0.0":
                expected["singlestep"] = False
            assert status == expected

            listener = EventListener(("STOP", "RESUME"))
            with qmp.listen(listener):
                assert await asyncio.wait_for(qmp.execute("stop"), TIMEOUT) == {}
                event = await asyncio.wait_for(listener.get(), TIMEOUT)
                assert event["event"] == "STOP"
                assert "data" not in event
                assert set(event["timestamp"]) == {"seconds", "microseconds"}
                assert await asyncio.wait_for(qmp.execute("cont"), TIMEOUT) == {}
                event = await asyncio.wait_for(listener.get(), TIMEOUT)
                assert event["event"] == "RESUME"
            # the default all-events listener saw both as well
            seen = [e["event"] for e in qmp.events.clear()]
            assert seen == ["STOP", "RESUME"]
            status = await asyncio.wait_for(qmp.execute("query-status"), TIMEOUT)
            assert status["status"] == "running"
        finally:
            await qmp.disconnect()

    run(main())


def test_qmpclient_errors_and_other_commands(start_daemon, qmp_errors):
    d = start_daemon("--name", "lib-vm")

    async def main():
        qmp = QMPClient("mock-test")
        await asyncio.wait_for(qmp.connect(d.sockets[0]), TIMEOUT)
        try:
            assert await qmp.execute("query-name") == {"name": "lib-vm"}
            version = await qmp.execute("query-version")
            assert version["qemu"] == {"major": 8, "minor": 2, "micro": 0}
            assert version["package"].startswith("qmp-mock ")
            names = {c["name"] for c in await qmp.execute("query-commands")}
            assert {"query-status", "stop", "cont", "quit"} <= names

            with pytest.raises(ExecuteError) as exc:
                await qmp.execute("no-such-command")
            assert exc.value.error_class == "CommandNotFound"
            assert str(exc.value) == "The command no-such-command has not been found"

            with pytest.raises(ExecuteError) as exc:
                await qmp.execute("query-status", {"x": 1})
            assert exc.value.error_class == "GenericError"
            assert str(exc.value) == "Parameter 'x' is unexpected"

            # several commands in flight at once (qemu.qmp routes by id)
            results = await asyncio.wait_for(
                asyncio.gather(*(qmp.execute("query-name") for _ in range(8))), TIMEOUT
            )
            assert results == [{"name": "lib-vm"}] * 8
        finally:
            await qmp.disconnect()

    run(main())


def test_qmpclient_quit(start_daemon, qmp_errors):
    d = start_daemon()
    d.expect_exit = True

    async def main():
        qmp = QMPClient("mock-test")
        await asyncio.wait_for(qmp.connect(d.sockets[0]), TIMEOUT)
        try:
            assert await asyncio.wait_for(qmp.execute("quit"), TIMEOUT) == {}
            event = await asyncio.wait_for(qmp.events.get(), TIMEOUT)
            assert event["event"] == "SHUTDOWN"
            assert event["data"] == {"guest": False, "reason": "host-qmp-quit"}
        finally:
            try:
                await qmp.disconnect()
            except EOFError:
                pass  # the server hung up first, as QEMU does after quit

    run(main())
    assert d.wait_exit() == EX_OK
    assert not os.path.exists(d.sockets[0])


# ---------------------------------------------------------------------------
# legacy QEMUMonitorProtocol
# ---------------------------------------------------------------------------
def test_legacy_monitor_protocol(start_daemon, qmp_errors):
    d = start_daemon()
    qmp = QEMUMonitorProtocol(d.sockets[0])
    qmp.settimeout(TIMEOUT)
    try:
        greeting = qmp.connect()
        assert greeting["QMP"]["version"]["qemu"] == {"micro": 0, "minor": 2, "major": 8}
        assert greeting["QMP"]["capabilities"] == ["oob"]

        assert qmp.cmd("query-status") == {"status": "running", "singlestep": False, "running": True}
        assert qmp.cmd_obj({"execute": "query-name"}) == {"return": {}}
        assert qmp.cmd_obj({"execute": "query-name", "id": "abc"}) == {"return": {}, "id": "abc"}
        assert qmp.cmd_obj({"execute": "query-status", "arguments": {}}) == {
            "return": {"status": "running", "singlestep": False, "running": True}
        }
        assert qmp.cmd_raw("no-such-cmd") == {
            "error": {"class": "CommandNotFound", "desc": "The command no-such-cmd has not been found"}
        }
        assert qmp.pull_event() is None  # nothing yet, no wait

        assert qmp.cmd("stop") == {}
        event = qmp.pull_event(wait=float(TIMEOUT))
        assert event is not None and event["event"] == "STOP"
        assert qmp.cmd_obj({"execute": "cont"}) == {"return": {}}
        events = qmp.get_events(wait=float(TIMEOUT))
        assert [e["event"] for e in events] == ["RESUME"]
        assert qmp.cmd("query-status")["status"] == "running"
    finally:
        qmp.close()


def test_legacy_monitor_protocol_paused_vm(start_daemon, qmp_errors):
    d = start_daemon("--paused", "--qemu-version", "7.2.0")
    with QEMUMonitorProtocol(d.sockets[0]) as qmp:
        qmp.settimeout(TIMEOUT)
        qmp.connect()
        assert qmp.cmd("query-status") == {"status": "prelaunch", "singlestep": False, "running": False}
        qmp.cmd("cont")
        assert qmp.pull_event(wait=float(TIMEOUT))["event"] == "RESUME"
        assert qmp.cmd("query-status")["running"] is True


# ---------------------------------------------------------------------------
# qmp-shell
# ---------------------------------------------------------------------------
def qmp_shell_path() -> str:
    p = Path(sys.executable).parent / "qmp-shell"
    if not p.exists():
        p = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "qmp-shell"
    return str(p)


def test_qmp_shell(start_daemon):
    d = start_daemon("--name", "shell-vm")
    stdin = "\n".join([
        "query-status",
        "query-name",
        "stop",
        "",  # an empty line prints the pending events
        "query-status",
        "cont",
        "query-version",
        "no-such-cmd",
    ]) + "\n"
    proc = subprocess.run(
        [qmp_shell_path(), d.sockets[0]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env=base_env(),
    )
    out = proc.stdout
    assert proc.returncode == 0, "qmp-shell failed (%s):\n%s\n%s" % (proc.returncode, out, proc.stderr)
    assert "Connected to QEMU 8.2.0" in out, out
    assert '{"return": {"status": "running", "singlestep": false, "running": true}}' in out, out
    assert '{"return": {"name": "shell-vm"}}' in out, out
    assert "'event': 'STOP'" in out, out
    assert '{"return": {"status": "paused", "singlestep": false, "running": false}}' in out, out
    assert '"package": "qmp-mock ' in out, out
    assert (
        '{"error": {"class": "CommandNotFound", "desc": "The command no-such-cmd has not been found"}}' in out
    ), out
    # the order of the replies follows the commands
    order = [
        out.index('"status": "running"'),
        out.index('"name": "shell-vm"'),
        out.index("'event': 'STOP'"),
        out.index('"status": "paused"'),
    ]
    assert order == sorted(order), out
    assert d.alive()


def test_qmp_shell_version_banner_per_profile(start_daemon):
    d = start_daemon("--qemu-version", "10.0.0")
    proc = subprocess.run(
        [qmp_shell_path(), d.sockets[0]],
        input="query-status\n",
        capture_output=True,
        text=True,
        timeout=30,
        env=base_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Connected to QEMU 10.0.0" in proc.stdout, proc.stdout
    assert '{"return": {"status": "running", "running": true}}' in proc.stdout, proc.stdout
