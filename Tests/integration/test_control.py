"""The control plane (--control) and qmp-mockctl, against the built daemon over real sockets:
QMP framing any client library can drive, the manual clock, raw guest register access, machine
state, injected faults, and the CLI round trips."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess

from qemu.qmp import QMPClient

from conftest import assert_event, error_line, mockd_binary_path, qemu_json, return_line

MOCKCTL = os.path.join(os.path.dirname(mockd_binary_path()), "qmp-mockctl")
X_DEVICE_ON_NET0 = '{"device": "net0", "path": "/machine/peripheral/net0"}'


def start(start_daemon, *extra):
    d = start_daemon("--control", start_daemon.path("control.sock"), "--clock", "manual", *extra)
    d.wait_listening([start_daemon.path("control.sock")])
    return d


def control(d, start_daemon):
    c = d.connect(start_daemon.path("control.sock"))
    greeting = json.loads(c.line())
    assert greeting["QMP"]["capabilities"] == []
    c.send({"execute": "qmp_capabilities"})
    assert c.line() == return_line()
    return c


def call(c, command, arguments=None):
    """Run a control command, skipping control events (the guest's register writes), and return the
    reply line."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    c.send(msg)
    while True:
        line = c.line()
        if not line.startswith('{"timestamp"'):
            return line


def ctl(start_daemon, *args, check=True):
    p = subprocess.run([MOCKCTL, *args, "--control", start_daemon.path("control.sock")],
                       capture_output=True, text=True, timeout=10)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_control_socket_is_separate_and_private(start_daemon):
    d = start(start_daemon)
    assert stat.S_IMODE(os.stat(start_daemon.path("control.sock")).st_mode) == 0o600
    m = d.negotiated()
    assert m.cmd("clock-query") == error_line("The command clock-query has not been found", "CommandNotFound")
    c = control(d, start_daemon)
    assert call(c, "query-status") == error_line("The command query-status has not been found", "CommandNotFound")
    assert json.loads(call(c, "clock-query"))["return"] == {"now-ns": 0, "mode": "manual", "running": True}


def test_qemu_qmp_library_drives_the_control_socket(start_daemon):
    d = start(start_daemon)

    async def main():
        client = QMPClient("control-test")
        await client.connect(start_daemon.path("control.sock"))
        reply = await client.execute("clock-advance", {"ms": 1500})
        await client.disconnect()
        return reply
    assert asyncio.run(main()) == {"now-ns": 1_500_000_000}


def test_guest_write_yields_qmp_events_and_a_control_event(start_daemon):
    d = start(start_daemon, "--paused")
    m = d.negotiated()
    c = control(d, start_daemon)
    call(c, "guest-set-persona", {"persona": "manual"})  # no automatic guest (ignored if no guest yet)
    assert m.cmd("device_add", {"driver": "virtio-net-pci", "id": "net0", "bus": "pci.1"}) == return_line()
    regs = json.loads(call(c, "guest-read", {"controller": "pci.1"}))["return"]
    assert regs["slot-status"] & 0x49 == 0x49 and regs["decoded"]["present"] is True
    c.send({"execute": "guest-write", "arguments": {"controller": "pci.1", "register": "slot-control", "value": 0x1C0}})
    assert_event(c.line(), "GUEST_REGISTER_WRITE",
                 '{"register": "slot-control", "controller": "pci.1", "new": 448, "old": %d, "value": 448}' % regs["slot-control"])
    assert c.line() == return_line()
    assert_event(m.line(), "X_DEVICE_ON", X_DEVICE_ON_NET0)
    state = json.loads(call(c, "machine-state"))["return"]
    net0 = [x for x in state["devices"] if x.get("id") == "net0"][0]
    assert net0["device-on"] is True and net0["bus"] == "pci.1"
    assert call(c, "guest-write", {"controller": "nope", "register": "slot-control", "value": 1}) == error_line(
        "Device 'nope' not found", "DeviceNotFound")
    assert call(c, "guest-write", {"controller": "pci.1"}).startswith('{"error"')


def test_guest_port_and_configuration_space_access(start_daemon):
    """The firmware's and an ACPI guest's accesses: q35's LPC PMBASE/ACPI_EN in configuration space map
    GPE0, whose ports then read and write with their register rules; each write is a control event."""
    d = start(start_daemon, "--paused")
    d.negotiated()
    c = control(d, start_daemon)
    call(c, "guest-set-persona", {"persona": "manual"})
    lpc = "00:1f.0"
    assert json.loads(call(c, "guest-read", {"port": 0x620, "size": 1}))["return"] == {"value": 0xFF}
    assert json.loads(call(c, "guest-read", {"config": lpc, "offset": 0x40}))["return"] == {"value": 1}
    assert call(c, "guest-write", {"config": lpc, "offset": 0x40, "value": 0x600}) == return_line()
    c.send({"execute": "guest-write", "arguments": {"config": lpc, "offset": 0x44, "size": 1, "value": 0x80}})
    event = json.loads(c.line())
    assert event["event"] == "GUEST_REGISTER_WRITE"
    assert event["data"] == {"register": "config", "controller": "/machine/unattached/device[2]", "target": 0x44,
                             "new": 0x80, "old": 0, "value": 0x80}
    assert c.line() == return_line()
    c.send({"execute": "guest-write", "arguments": {"port": 0x628, "size": 1, "value": 0x0E}})
    event = json.loads(c.line())
    assert event["data"]["register"] == "gpe0" and event["data"]["target"] == 0x628 and event["data"]["new"] == 0x0E
    assert c.line() == return_line()
    assert json.loads(call(c, "guest-read", {"port": 0x628, "size": 2}))["return"] == {"value": 0x0E}
    assert json.loads(call(c, "guest-read", {"config": lpc, "offset": 0, "size": 2}))["return"] == {"value": 0x8086}
    assert call(c, "guest-read", {"port": 0x620, "controller": "pci.1"}) == error_line(
        "guest-read takes one of 'controller', 'device', 'port' or 'config'")
    assert call(c, "guest-read", {"config": "0:1f", "offset": 0}) == error_line(
        "'config' is a PCI address BB:DD.F in hexadecimal (00:1f.0), not '0:1f'")
    assert call(c, "guest-read", {"port": 0x620, "size": 3}) == error_line("'size' must be 1, 2 or 4")
    assert call(c, "guest-write", {"port": 0x620}) == error_line("guest-write needs 'value'")


def test_manual_clock_expires_pending_unplug_only_while_running(start_daemon):
    d = start(start_daemon)
    m = d.negotiated()
    c = control(d, start_daemon)
    call(c, "guest-set-persona", {"persona": "never-ack"})
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == return_line()
    busy = error_line("Device virtio-disk0 is already in the process of unplug")
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == busy
    m.send({"execute": "stop"})
    assert_event(m.line(), "STOP")
    assert m.line() == return_line()
    call(c, "clock-advance", {"ms": 60000})
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == busy  # paused: virtual time stood still
    m.send({"execute": "cont"})
    assert_event(m.line(), "RESUME")
    assert m.line() == return_line()
    assert json.loads(call(c, "clock-advance", {"ms": 5000}))["return"]["now-ns"] >= 5_000_000_000
    assert m.cmd("device_del", {"id": "virtio-disk0"}) == return_line()  # the button is pressed again


def test_inject_fault_error_close_and_delay(start_daemon):
    d = start(start_daemon)
    m = d.negotiated()
    c = control(d, start_daemon)
    assert call(c, "inject-fault", {"command": "device_add", "error": {"class": "DeviceNotFound", "desc": "injected"}, "count": 2}) == return_line()
    args = {"driver": "e1000e", "id": "n1", "bus": "pci.2"}
    assert m.cmd("device_add", args, id=1) == error_line("injected", "DeviceNotFound", "1")
    assert m.cmd("device_add", args, id=2) == error_line("injected", "DeviceNotFound", "2")
    assert m.cmd("device_add", args, id=3) == return_line("{}", "3")
    # delay: the reply (and what follows it) is held back; order is kept
    call(c, "inject-fault", {"command": "query-name", "delay-ms": 300})
    m.send({"execute": "query-name", "id": "slow"})
    m.send({"execute": "query-status", "id": "after"})
    m.assert_silent(0.15)
    assert m.line() == return_line("{}", '"slow"')
    assert json.loads(m.line())["id"] == "after"
    # close: the connection ends instead of the reply; the daemon keeps serving
    call(c, "inject-fault", {"command": "query-status", "close": True})
    m.send({"execute": "query-status"})
    m.expect_eof()
    assert d.negotiated().cmd("query-status").startswith('{"return"')
    assert call(c, "inject-fault", {"command": "x"}) == error_line("inject-fault needs exactly one of 'error', 'delay-ms' or 'close'")


def test_mockctl_round_trips(start_daemon):
    d = start(start_daemon)
    m = d.negotiated()
    assert ctl(start_daemon, "clock", "advance", "250ms").stdout.strip() == "now-ns: 250000000"
    out = json.loads(ctl(start_daemon, "clock", "query", "--json").stdout)
    assert out["now-ns"] == 250_000_000 and out["mode"] == "manual"
    state = json.loads(ctl(start_daemon, "state", "--json").stdout)
    assert any(x.get("id") == "virtio-disk0" for x in state["devices"])
    ctl(start_daemon, "persona", "set", "manual")
    assert m.cmd("device_add", {"driver": "e1000", "id": "nic", "bus": "pci.7", "addr": "3"}) == return_line()
    for code in ("0x01", "0x3a", "0x04"):
        ctl(start_daemon, "write", "--controller", "pci.7", "--command", code, "--target", "3")
    assert_event(m.line(), "X_DEVICE_ON", '{"device": "nic", "path": "/machine/peripheral/nic"}')
    read = json.loads(ctl(start_daemon, "read", "--controller", "pci.7", "--slot", "3", "--json").stdout)
    assert read["slot-state"] == "enabled" and read["power-led"] == "on"
    ctl(start_daemon, "fault", "--command", "device_del", "--error", "GenericError: not today")
    assert m.cmd("device_del", {"id": "nic"}) == error_line("not today")
    bad = ctl(start_daemon, "read", "--controller", "nope", check=False)
    assert bad.returncode == 1 and "Device 'nope' not found" in bad.stderr
    gone = subprocess.run([MOCKCTL, "state", "--control", start_daemon.path("missing.sock")], capture_output=True, text=True)
    assert gone.returncode == 69


def run_mockctl(*args):
    return subprocess.run([MOCKCTL, *args], capture_output=True, text=True, timeout=10)


def test_mockctl_global_options_before_or_after_the_subcommand(start_daemon):
    start(start_daemon)
    path = start_daemon.path("control.sock")
    before = run_mockctl("--control", path, "clock", "advance", "5s")
    assert (before.returncode, before.stdout) == (0, "now-ns: 5000000000\n"), before.stderr
    after = run_mockctl("clock", "advance", "5s", "--control", path)
    assert (after.returncode, after.stdout) == (0, "now-ns: 10000000000\n"), after.stderr
    joined = run_mockctl("--control=" + path, "clock", "query")
    assert joined.returncode == 0 and "now-ns: 10000000000" in joined.stdout, joined.stderr
    # --json before the subcommand, before --control, and after it: the same JSON reply
    for argv in (["--json", "--control", path, "state"], ["--control", path, "state", "--json"],
                 ["state", "--json", "--control", path]):
        p = run_mockctl(*argv)
        assert p.returncode == 0, (argv, p.stderr)
        assert json.loads(p.stdout)["now-ns"] == 10_000_000_000, argv
    # a default subcommand (fault = fault add) after global options
    assert run_mockctl("--control", path, "fault", "--command", "query-name", "--error", "x").stdout == "ok\n"
    # the same path twice is one path
    same = run_mockctl("--control", path, "clock", "query", "--control", path)
    assert same.returncode == 0, same.stderr


def test_mockctl_conflicting_or_missing_control_is_a_usage_error(start_daemon):
    start(start_daemon)
    path = start_daemon.path("control.sock")
    twice = run_mockctl("--control", path, "clock", "advance", "5s", "--control", path + ".other")
    assert twice.returncode == 64
    assert "--control given more than once with different paths: '%s', '%s.other'" % (path, path) in twice.stderr
    assert twice.stdout == ""
    missing = run_mockctl("clock", "advance", "5s")
    assert missing.returncode == 64 and "Missing expected argument '--control <path>'" in missing.stderr
    missing_json = run_mockctl("--json", "state")
    assert missing_json.returncode == 64 and "--control" in missing_json.stderr
    # nothing ran: the clock did not move
    assert run_mockctl("--control", path, "clock", "query").stdout.startswith("mode: manual\nnow-ns: 0\n")


def events_until_reply(c, names):
    """Reads up to the next reply; returns the event lines among ``names`` (others are skipped)."""
    seen = []
    while True:
        line = c.line()
        if not line.startswith('{"timestamp"'):
            return seen, line
        if any('"event": "%s"' % name in line for name in names):
            seen.append(line)


def test_subscribed_control_sessions_see_monitor_events_commands_and_clock_advances(start_daemon):
    d = start(start_daemon)
    watcher, other = control(d, start_daemon), control(d, start_daemon)
    assert call(watcher, "subscribe-events", {"events": ["NOPE"]}) == error_line(
        "'NOPE' is not an event to subscribe to (MONITOR_EVENT, MONITOR_COMMAND, CLOCK_ADVANCED)")
    assert call(watcher, "subscribe-events", {"events": []}) == return_line('{"events": []}')
    assert call(watcher, "subscribe-events", {"events": ["CLOCK_ADVANCED", "MONITOR_EVENT"]}) == return_line(
        '{"events": ["MONITOR_EVENT", "CLOCK_ADVANCED"]}')
    assert call(watcher, "subscribe-events", {"events": ["MONITOR_COMMAND"]}) == return_line(
        '{"events": ["MONITOR_EVENT", "MONITOR_COMMAND", "CLOCK_ADVANCED"]}')
    names = ("MONITOR_EVENT", "MONITOR_COMMAND", "CLOCK_ADVANCED")
    m = d.negotiated()  # session 3
    args = {"driver": "e1000e", "id": "hp1", "bus": "pci.1"}
    assert m.cmd("device_add", args) == return_line()
    assert m.cmd("query-status").startswith('{"return": {"status": "running"')
    # A copy of every monitor command that succeeded, after its reply, with its arguments as received.
    watcher.send({"execute": "clock-query"})
    seen, _ = events_until_reply(watcher, names)
    assert len(seen) == 2, seen
    assert_event(seen[0], "MONITOR_COMMAND", qemu_json({"command": "device_add", "arguments": args, "session": 3}))
    assert_event(seen[1], "MONITOR_COMMAND", qemu_json({"command": "query-status", "session": 3}))
    # Monitor events, with or without data, and the manual clock's advances (after the events they caused).
    watcher.send({"execute": "clock-advance", "arguments": {"ms": 100}})
    seen, reply = events_until_reply(watcher, names)
    assert reply == return_line('{"now-ns": 100000000}')
    assert len(seen) == 2, seen
    assert_event(seen[0], "MONITOR_EVENT",
                 qemu_json({"event": "X_DEVICE_ON", "data": {"device": "hp1", "path": "/machine/peripheral/hp1"}}))
    assert_event(seen[1], "CLOCK_ADVANCED", '{"now-ns": 100000000}')
    assert_event(m.line(), "X_DEVICE_ON", '{"device": "hp1", "path": "/machine/peripheral/hp1"}')
    m.send({"execute": "stop"})
    assert_event(m.line(), "STOP")
    assert m.line() == return_line()
    watcher.send({"execute": "clock-query"})
    seen, _ = events_until_reply(watcher, names)
    assert len(seen) == 2, seen
    assert_event(seen[0], "MONITOR_EVENT", '{"event": "STOP"}')
    assert_event(seen[1], "MONITOR_COMMAND", qemu_json({"command": "stop", "session": 3}))
    # The session that did not subscribe saw none of them.
    other.send({"execute": "clock-query"})
    seen, reply = events_until_reply(other, names)
    assert seen == [] and '"now-ns": 100000000' in reply
