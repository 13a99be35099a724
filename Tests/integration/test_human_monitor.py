"""Human monitor sockets (`-monitor unix:PATH,server=on,wait=off`, `-mon mode=readline`, `--hmp`):
the bytes QEMU 7.2's readline echoes, its banner and prompts, and HMP's output, compared byte for
byte with QEMU itself on the same typing; Ganeti's way of calling it (`echo CMD | socat STDIO
UNIX-CONNECT:...`, with its `server,nowait` command line); a human monitor's commands reaching the
QMP monitor's events."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import Client, assert_event, mockd_binary_path, return_line, short_tmpdir, wait_until

REAL_QEMU = shutil.which("qemu-system-x86_64", path="/usr/bin")

# What a person (or a script) types, in chunks: plain commands, an unknown one, CR LF (two lines),
# backspaces, the arrows through the history, Ctrl-W, Home/Delete/End, a device_add into a port
# and its device_del (no guest: immediate on a never-powered native slot).
TYPING = [
    b"info status\n", b"bogus\n", b"info name\r\n", b"ab\x7fc\x08\n", b"info\x1b[A status\n",
    b"info  nosuch\n", b"foo bar\x17\x17info sta\x1b[D\x1b[Dxx\x1b[C\x1b[C\x01\x05\n",
    b"xinfo version\x1b[1~\x1b[3~\x1b[4~\n",
    b"device_add virtio-rng-pci,id=r1,bus=rp1\n", b"device_del r1\n", b"\n", b"\x1b[A\x1b[A\x1b[B\n",
    b"cont\n", b"info status\n",
]


def qemu_link() -> str:
    link = os.path.join(os.path.dirname(mockd_binary_path()), "qemu-system-x86_64")
    if not os.path.exists(link):
        pytest.skip("no qemu-system-x86_64 link beside $QMP_MOCKD (make build makes it)")
    return link


def read_quiet(sock: socket.socket, until: bytes, timeout: float = 10, count: int = 1) -> bytes:
    """Reads until the output holds `count` times `until` (the prompt) and ends with it: no fixed wait."""
    out = b""
    sock.settimeout(timeout)
    while not (out.endswith(until) and out.count(until) >= count):
        chunk = sock.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def session(binary: str, d: str, typing: list[bytes]) -> list[bytes]:
    path = os.path.join(d, "hmp-%s.sock" % os.path.basename(binary))
    qmp = os.path.join(d, "qmp-%s.sock" % os.path.basename(binary))
    proc = subprocess.Popen(
        [binary, "-S", "-display", "none", "-nodefaults", "-machine", "q35", "-name", "vm1",
         "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
         "-device", "pcie-root-port,id=rp1,chassis=1", "-qmp", "unix:%s,server=on,wait=off" % qmp,
         "-monitor", "unix:%s,server=on,wait=off" % path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: os.path.exists(path), 10, "the human monitor socket")
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        out = [read_quiet(sock, b"(qemu) ")]
        for chunk in typing:
            sock.sendall(chunk)
            out.append(read_quiet(sock, b"(qemu) ", count=chunk.count(b"\n") + chunk.count(b"\r")))
        sock.close()
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def normalise(chunk: bytes) -> bytes:
    """The documented deviations: the release's micro version and package (version-build), and
    what `info pci` shows of resources the firmware assigns (query-pci-resources)."""
    chunk = re.sub(rb"QEMU 7\.2\.\d+ monitor", b"QEMU 7.2.x monitor", chunk)
    chunk = re.sub(rb"\r\n7\.2\.\d+[^\r]*\r\n", b"\r\n7.2.x\r\n", chunk)
    return chunk


@pytest.mark.skipif(REAL_QEMU is None, reason="qemu-system-x86_64 not installed")
def test_typing_gets_qemus_exact_bytes():
    d = short_tmpdir("hmp-")
    try:
        mock = session(qemu_link(), d, TYPING)
        real = session(REAL_QEMU, d, TYPING)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert len(mock) == len(real)
    differing = [(i, real[i], mock[i]) for i in range(len(real)) if normalise(real[i]) != normalise(mock[i])]
    assert differing == [], "\n".join("step %d\n  QEMU %r\n  mock %r" % x for x in differing)


def test_ganeti_calls_it_through_socat(tmp_path):
    """Ganeti's _CallMonitorCommand: `echo CMD | socat STDIO UNIX-CONNECT:MONITOR`, against the
    `-monitor unix:PATH,server,nowait` its command line has."""
    d = short_tmpdir("hmpg-")
    path, qmp = os.path.join(d, "mon"), os.path.join(d, "qmp")
    proc = subprocess.Popen([qemu_link(), "-S", "-display", "none", "-nodefaults", "-monitor",
                             "unix:%s,server,nowait" % path, "-qmp", "unix:%s,server,nowait" % qmp],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: os.path.exists(path), 10, "the human monitor socket")
        result = subprocess.run("echo 'info status' | socat STDIO UNIX-CONNECT:%s" % path, shell=True,
                                capture_output=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ")
        assert result.stdout.endswith(b"info status\x1b[K\r\nVM status: paused (prelaunch)\r\n(qemu) ")
        # One client at a time, as QEMU's chardev: the next one after the first has gone.
        again = subprocess.run("echo cont | socat STDIO UNIX-CONNECT:%s" % path, shell=True,
                               capture_output=True, timeout=30)
        assert again.stdout.endswith(b"cont\x1b[K\r\n(qemu) ")
        m = Client(qmp)
        m.line()
        m.send('{"execute":"qmp_capabilities"}')
        assert m.line() == return_line()
        assert m.cmd("query-status") == return_line('{"status": "running", "singlestep": false, "running": true}')
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def test_hmp_option_of_the_daemon_and_events_on_the_qmp_monitor(start_daemon):
    hmp = start_daemon.path("hmp.sock")
    d = start_daemon("--hmp", hmp, "--paused")
    d.wait_listening([hmp])
    m = d.negotiated()
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(hmp)
    assert re.match(rb"QEMU \d+\.\d+\.\d+ monitor - type .help. for more information\r\n\(qemu\) $", read_quiet(sock, b"(qemu) "))
    sock.sendall(b"cont\n")
    assert read_quiet(sock, b"(qemu) ").endswith(b"cont\x1b[K\r\n(qemu) ")
    assert_event(m.line(), "RESUME")  # the human monitor's command, seen on QMP
    chardevs = m.cmd("query-chardev")
    assert hmp in chardevs
    sock.close()
    assert d.alive()
