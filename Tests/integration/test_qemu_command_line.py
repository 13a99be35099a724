"""qmp-mockd as a drop-in ``qemu-system-x86_64`` (docs/qemu-command-line.md).

The binary is started through a link named ``qemu-system-x86_64`` (made here, in the test's own
directory, to whatever ``$QMP_MOCKD`` is) with the command lines libvirt 9.0 gave real QEMU 7.2
(``/work/shared/oracle/libvirt/argv-*.txt``, copied below so the test does not depend on that
folder): the capability probe (``-daemonize``, ``-pidfile``, ``-qmp unix:...``) and the domain
(an inherited listening socket as ``-chardev socket,fd=N`` + ``-mon``, ``-S``, JSON ``-device``).
Where it is cheap, the same command line runs against the real QEMU 7.2 too, and the two must
agree: the probe's process contract, the error lines and exit statuses, ``-version``'s format.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import Client, assert_event, base_env, mockd_binary_path, short_tmpdir, wait_until

REAL_QEMU = shutil.which("qemu-system-x86_64") or ("/usr/bin/qemu-system-x86_64"
                                                     if os.access("/usr/bin/qemu-system-x86_64", os.X_OK) else None)

PROBE_ARGV = [
    "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=kvm:tcg",
    "-qmp", "unix:{dir}/qmp.monitor,server=on,wait=off", "-pidfile", "{dir}/qmp.pid", "-daemonize",
]

DOMAIN_ARGV = [
    "-name", "guest=lvcheck,debug-threads=on", "-S",
    "-object", '{"qom-type":"secret","id":"masterKey0","format":"raw","file":"{dir}/master-key.aes"}',
    "-machine", "pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
    "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
    "-object", '{"qom-type":"memory-backend-ram","id":"pc.ram","size":268435456}',
    "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
    "-uuid", "f333d0f8-4d2c-4f75-af57-f2237f32be46", "-display", "none", "-no-user-config", "-nodefaults",
    "-chardev", "socket,id=charmonitor,fd={fd},server=on,wait=off",
    "-mon", "chardev=charmonitor,id=monitor,mode=control",
    "-rtc", "base=utc", "-no-shutdown", "-no-acpi", "-boot", "strict=on",
    "-device", '{"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1","bus":"pcie.0","multifunction":true,"addr":"0x1"}',
    "-device", '{"driver":"pcie-root-port","port":9,"chassis":2,"id":"pci.2","bus":"pcie.0","addr":"0x1.0x1"}',
    "-device", '{"driver":"pcie-root-port","port":10,"chassis":3,"id":"pci.3","bus":"pcie.0","addr":"0x1.0x2"}',
    "-device", '{"driver":"pcie-root-port","port":11,"chassis":4,"id":"pci.4","bus":"pcie.0","addr":"0x1.0x3"}',
    "-audiodev", '{"id":"audio1","driver":"none"}',
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-msg", "timestamp=on",
]

GREETING_72 = re.compile(r'\{"QMP": \{"version": \{"qemu": \{"micro": \d+, "minor": 2, "major": 7\}, '
                         r'"package": "[^"]*"\}, "capabilities": \["oob"\]\}\}')


def fill(argv: list[str], **values) -> list[str]:
    return [a.replace("{dir}", values.get("dir", "")).replace("{fd}", str(values.get("fd", ""))) for a in argv]


@pytest.fixture(scope="module")
def qemu_link() -> str:
    """A ``qemu-system-x86_64`` link to the binary under test."""
    binary = os.path.abspath(mockd_binary_path())
    d = short_tmpdir("qemul-")
    link = os.path.join(d, "qemu-system-x86_64")
    os.symlink(binary, link)
    yield link
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def tmp():
    d = short_tmpdir("qemut-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def process_gone(pid: int) -> bool:
    """Ended: no such process, or a zombie (a daemonized process is not our child to reap)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def run_probe(binary: str, d: str) -> subprocess.CompletedProcess:
    """Start ``binary`` with the probe's command line as libvirt does: stdin /dev/null, stdout and
    stderr pipes read until EOF (a daemon that kept them would hang this, as it hangs libvirt)."""
    return subprocess.run([binary, *fill(PROBE_ARGV, dir=d)], stdin=subprocess.DEVNULL, capture_output=True,
                          env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": d}, cwd=d, timeout=30)


def check_probe_contract(binary: str, d: str, version_check) -> None:
    done = run_probe(binary, d)
    assert done.returncode == 0, "probe start failed: %r" % done.stderr
    assert done.stdout == b"" and done.stderr == b""
    text = open(os.path.join(d, "qmp.pid")).read()
    assert re.fullmatch(r"[1-9][0-9]*\n", text), repr(text)
    pid = int(text)
    try:
        assert not process_gone(pid), "the pidfile names no live process"
        # The daemon: a new session, umask 027, cwd /, stdio on /dev/null; the pidfile mode 0600 and locked.
        assert os.readlink("/proc/%d/cwd" % pid) == "/"
        for fd in (0, 1, 2):
            assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"
        status = open("/proc/%d/status" % pid).read()
        assert re.search(r"^Umask:\s+0027$", status, re.M), status
        assert os.getsid(pid) == int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[3]) != os.getsid(0)
        assert stat.S_IMODE(os.stat(os.path.join(d, "qmp.pid")).st_mode) == 0o600
        assert stat.S_IMODE(os.lstat(os.path.join(d, "qmp.monitor")).st_mode) == 0o750
        with open(os.path.join(d, "qmp.pid"), "r+") as f:
            with pytest.raises(OSError):
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        c = Client(os.path.join(d, "qmp.monitor"))
        version_check(c.line())
        c.send('{"execute":"qmp_capabilities"}')
        assert c.line() == '{"return": {}}'
        c.send('{"execute":"query-status"}')
        assert json.loads(c.line())["return"]["status"] == "prelaunch"
        c.send('{"execute":"quit"}')
        assert_event(c.line(), "SHUTDOWN", '{"guest": false, "reason": "host-qmp-quit"}')
        assert c.line() == '{"return": {}}'
        c.read_to_eof()
        c.close()
        wait_until(lambda: process_gone(pid), 10, "the daemon to exit after quit")
        # QEMU removes its pidfile and the monitor socket it created.
        wait_until(lambda: not os.path.exists(os.path.join(d, "qmp.pid")), 5, "the pidfile to be removed")
        assert not os.path.exists(os.path.join(d, "qmp.monitor"))
    finally:
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_probe_daemonizes_writes_locked_pidfile_and_greets(qemu_link, tmp):
    def version(line):
        assert GREETING_72.fullmatch(line), line
        assert '"micro": 0,' in line and '"package": "qmp-mock ' in line
    check_probe_contract(qemu_link, tmp, version)


@pytest.mark.skipif(REAL_QEMU is None, reason="qemu-system-x86_64 not installed")
def test_probe_contract_holds_for_real_qemu_too(tmp):
    """The same checks against QEMU 7.2 itself: the contract above is QEMU's, not ours."""
    check_probe_contract(REAL_QEMU, tmp, lambda line: GREETING_72.fullmatch(line) or pytest.fail(line))


def test_second_probe_with_the_same_pidfile_fails_on_its_lock(qemu_link, tmp):
    first = run_probe(qemu_link, tmp)
    assert first.returncode == 0, first.stderr
    pid = int(open(os.path.join(tmp, "qmp.pid")).read())
    try:
        argv = fill(PROBE_ARGV, dir=tmp)
        argv[argv.index("unix:%s/qmp.monitor,server=on,wait=off" % tmp)] = "unix:%s/q2,server=on,wait=off" % tmp
        second = subprocess.run([qemu_link, *argv], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        assert second.returncode == 1
        assert second.stderr == (b"qemu-system-x86_64: cannot create PID file: Cannot lock pid file: "
                                 b"Resource temporarily unavailable\n")
        assert int(open(os.path.join(tmp, "qmp.pid")).read()) == pid
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: process_gone(pid), 10, "the probe daemon to exit on SIGTERM")


def free_fd(fd: int) -> bool:
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError:
        return True
    return False


def start_domain(link: str, d: str, extra=(), env_extra=None, argv=DOMAIN_ARGV, fd: int | None = None):
    """The domain's command line (``argv``, ``{dir}`` and ``{fd}`` filled in) with a listening socket passed
    as its monitor, as libvirt passes it: at descriptor ``fd`` when it is given and free here (libvirt's
    recorded number), else wherever the socket was opened."""
    with open(os.path.join(d, "master-key.aes"), "wb") as f:
        f.write(os.urandom(32))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(d, "monitor.sock"))
    listener.listen(8)
    if fd is not None and free_fd(fd):
        os.dup2(listener.fileno(), fd, inheritable=False)
        listener.close()
        listener = socket.socket(fileno=fd)
    fd = listener.fileno()
    log = open(os.path.join(d, "domain.log"), "ab")
    env = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": d, "XDG_CACHE_HOME": d + "/.cache"}
    env.update(env_extra or {})
    try:
        proc = subprocess.Popen([link, *fill(argv, dir=d, fd=fd), *extra], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, pass_fds=(fd,), env=env, cwd="/")
    finally:
        log.close()
        listener.close()  # the emulator holds it now
    return proc


def domain_log(d: str) -> str:
    return open(os.path.join(d, "domain.log"), errors="replace").read()


def check_domain(binary: str, d: str) -> None:
    """libvirt's start of the domain, reduced to what this slice serves: the greeting on the inherited
    socket, -S, the monitor's chardev, the root ports, cont, and virsh destroy's SIGTERM."""
    proc = start_domain(binary, d)
    try:
        c = Client(os.path.join(d, "monitor.sock"))
        assert GREETING_72.fullmatch(c.line())
        c.send('{"execute":"qmp_capabilities","id":"libvirt-1"}')
        assert c.line() == '{"return": {}, "id": "libvirt-1"}'
        c.send('{"execute":"query-status","id":"libvirt-2"}')
        assert json.loads(c.line())["return"]["status"] == "prelaunch"
        assert json.loads(c.cmd("query-name")) == {"return": {"name": "lvcheck"}}
        assert json.loads(c.cmd("query-uuid")) == {"return": {"UUID": "f333d0f8-4d2c-4f75-af57-f2237f32be46"}}
        # libvirt's query-chardev: the monitor under the id the command line gave it.
        assert c.cmd("query-chardev") == ('{"return": [{"frontend-open": true, "filename": "unix:%s/monitor.sock,'
                                          'server=on", "label": "charmonitor"}]}' % d)
        pci = json.loads(c.cmd("query-pci"))["return"]
        ports = [dev for bus in pci for dev in bus["devices"] if dev.get("qdev_id", "").startswith("pci.")]
        assert [(p["qdev_id"], p["bus"], p["slot"], p["function"]) for p in ports] == [
            ("pci.1", 0, 1, 0), ("pci.2", 0, 1, 1), ("pci.3", 0, 1, 2), ("pci.4", 0, 1, 3)]
        c.send('{"execute":"cont","id":"libvirt-3"}')
        assert_event(c.line(), "RESUME")
        assert c.line() == '{"return": {}, "id": "libvirt-3"}'
        assert json.loads(c.cmd("query-status"))["return"]["status"] == "running"
        proc.send_signal(signal.SIGTERM)  # virsh destroy
        assert_event(c.line(), "SHUTDOWN", '{"guest": false, "reason": "host-signal"}')
        c.read_to_eof()
        assert proc.wait(10) == 0
        # QEMU removes the path of every listening socket it closes, the inherited one included.
        assert not os.path.exists(os.path.join(d, "monitor.sock"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # QEMU's line in libvirt's domain log, time-stamped by -msg timestamp=on, naming the sender as QEMU does.
    sender = open("/proc/self/cmdline", "rb").read().split(b"\0")[0].decode()
    log = "".join(line for line in domain_log(d).splitlines(True) if ": warning: " not in line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z qemu-system-x86_64: terminating on signal 15 "
                        r"from pid %d \(%s\)\n" % (os.getpid(), re.escape(sender)), log), domain_log(d)


def test_domain_accepts_on_the_inherited_socket_paused_with_the_root_ports(qemu_link, tmp):
    check_domain(qemu_link, tmp)


@pytest.mark.skipif(REAL_QEMU is None, reason="qemu-system-x86_64 not installed")
def test_domain_contract_holds_for_real_qemu_too(tmp):
    """The same start against QEMU 7.2 (TCG; its warnings about host CPU features are left out)."""
    check_domain(REAL_QEMU, tmp)


def test_native_domain_takes_the_global(qemu_link, tmp):
    """The native-mode domain: the same command line plus libvirt's <qemu:commandline> -global."""
    proc = start_domain(qemu_link, tmp, extra=["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"])
    try:
        c = Client(os.path.join(tmp, "monitor.sock"))
        assert GREETING_72.fullmatch(c.line())
        c.negotiate(read_greeting=False)
        c.send('{"execute":"cont"}')
        assert_event(c.line(), "RESUME")
        assert c.line() == '{"return": {}}'
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, domain_log(tmp)


def test_mock_config_sets_version_clock_and_control(qemu_link, tmp):
    config = os.path.join(tmp, "mock.yaml")
    with open(config, "w") as f:
        f.write("qemu-version: 8.2.0\nclock: manual\ncontrol: %s/control.sock\nguest:\n  persona: linux\n" % tmp)
    proc = start_domain(qemu_link, tmp, env_extra={"QMP_MOCK_CONFIG": config})
    try:
        c = Client(os.path.join(tmp, "monitor.sock"))
        assert '"minor": 2, "major": 8' in c.line()
        c.negotiate(read_greeting=False)
        ctl = Client(os.path.join(tmp, "control.sock"))
        ctl.line()
        ctl.send('{"execute":"qmp_capabilities"}')
        assert ctl.line() == '{"return": {}}'
        ctl.send('{"execute":"clock-query"}')
        assert json.loads(ctl.line())["return"]["mode"] == "manual"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, domain_log(tmp)


def test_mock_config_refuses_a_machine(qemu_link, tmp):
    config = os.path.join(tmp, "mock.yaml")
    with open(config, "w") as f:
        f.write("clock: manual\ndevices:\n  - {driver: e1000e, id: n0}\n")
    env = dict(base_env(), QMP_MOCK_CONFIG=config)
    done = subprocess.run([qemu_link, "-nodefaults", "-S"], capture_output=True, env=env, timeout=30)
    assert done.returncode == 1
    assert done.stderr.decode().startswith(
        "qemu-system-x86_64: QMP_MOCK_CONFIG=%s: line 2, column 1: 'devices' describes the machine" % config)


# Command lines QEMU refuses before it starts: the mock must print the same lines and exit 1.
ERRORS = [
    (["-bogus"], "qemu-system-x86_64: -bogus: invalid option\n"),
    (["--bogus"], "qemu-system-x86_64: --bogus: invalid option\n"),
    (["-device"], "qemu-system-x86_64: -device: requires an argument\n"),
    (["-device", "foo"], "qemu-system-x86_64: -device foo: 'foo' is not a valid device model name\n"),
    (["-device", '{"driver":"foo"}'],
     "qemu-system-x86_64: -device {\"driver\":\"foo\"}: 'foo' is not a valid device model name\n"),
    (["-machine", "q35", "-device", "pcie-root-port,chasis=1"],
     "qemu-system-x86_64: -device pcie-root-port,chasis=1: Property 'pcie-root-port.chasis' not found\n"),
    (["-machine", "none", "-device", "pcie-root-port"],
     "qemu-system-x86_64: -device pcie-root-port: No 'PCI' bus found for device 'pcie-root-port'\n"),
    (["-machine", "foo"], "qemu-system-x86_64: unsupported machine type\nUse -machine help to list supported machines\n"),
    (["-m", "foo"], "qemu-system-x86_64: -m foo: Parameter 'size' expects a non-negative number below 2^64\n"
     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n"),
    (["-smp", "foo"], "qemu-system-x86_64: Parameter 'smp.cpus' expects integer\n"),
    (["-accel", "foo"], "qemu-system-x86_64: -accel foo: invalid accelerator foo\n"),
    (["-machine", "none,accel=foo"], "qemu-system-x86_64: invalid accelerator foo\n"),
    (["-accel", "tcg", "-machine", "q35,accel=tcg"],
     "qemu-system-x86_64: The -accel and \"-machine accel=\" options are incompatible\n"),
    (["-uuid", "xyz"], "qemu-system-x86_64: -uuid xyz: failed to parse UUID string: wrong format\n"),
    (["-cpu", "foo", "-machine", "none"], "qemu-system-x86_64: unable to find CPU model 'foo'\n"),
    (["-cpu", "Nehalem2,+x2apic"], "qemu-system-x86_64: unable to find CPU model 'Nehalem2'\n"),
    (["-accel", "tcg", "-cpu", "host"], "qemu-system-x86_64: CPU model 'host' requires KVM or HVF\n"),
    (["-chardev", "foo,id=x"], "qemu-system-x86_64: -chardev foo,id=x: 'foo' is not a valid char driver name\n"),
    (["-mon", "chardev=nope,mode=control"],
     "qemu-system-x86_64: -mon chardev=nope,mode=control: chardev \"nope\" not found\n"),
    (["-chardev", "null,id=c0", "-mon", "chardev=c0,mode=bogus"],
     "qemu-system-x86_64: -mon chardev=c0,mode=bogus: Parameter 'mode' does not accept value 'bogus'\n"),
    (["-qmp", "foo"], "qemu-system-x86_64: -qmp foo: 'foo' is not a valid char driver\n"
     "qemu-system-x86_64: -qmp foo: parse error: foo\n"),
    (["-machine", "q35,memory-backend=nope"], "qemu-system-x86_64: Memory backend 'nope' not found\n"),
    (["-m", "64", "-machine", "q35,memory-backend=m0", "-object", "memory-backend-ram,id=m0,size=128M"],
     "qemu-system-x86_64: Machine memory size does not match the size of the memory backend\n"),
    (["-machine", "q35,usb=off,bogus=1"], "qemu-system-x86_64: Property 'pc-q35-7.2-machine.bogus' not found\n"),
    (["-machine", "none,vmport=off"], "qemu-system-x86_64: Property 'none-machine.vmport' not found\n"),
    (["-qmp", "unix:/nonexistent/q.sock,server=on,wait=off"],
     "qemu-system-x86_64: -qmp unix:/nonexistent/q.sock,server=on,wait=off: Failed to bind socket to "
     "/nonexistent/q.sock: No such file or directory\n"),
    (["-chardev", "socket,id=m0,path=/nonexistent/m.sock,server=on,wait=off", "-mon", "chardev=m0,mode=control"],
     "qemu-system-x86_64: -chardev socket,id=m0,path=/nonexistent/m.sock,server=on,wait=off: Failed to bind socket "
     "to /nonexistent/m.sock: No such file or directory\n"),
    (["-device", "e1000,id=1x"], "qemu-system-x86_64: -device e1000,id=1x: Parameter 'id' expects an identifier\n"
     "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"),
    (["-chardev", "null,id=1x"], "qemu-system-x86_64: -chardev null,id=1x: Parameter 'id' expects an identifier\n"
     "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"),
    (["-netdev", "user,id=1x"], "qemu-system-x86_64: -netdev user,id=1x: Parameter 'id' expects an identifier\n"
     "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"),
    (["-object", "iothread,id=1x"], "qemu-system-x86_64: -object iothread,id=1x: Parameter 'id' expects an identifier\n"
     "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"),
    (["-msg", "timestamp=maybe"], "qemu-system-x86_64: -msg timestamp=maybe: Parameter 'timestamp' expects 'on' or 'off'\n"),
    (["-blockdev", "driver=null-co,node-name=n0,read-only=maybe"],
     "qemu-system-x86_64: -blockdev driver=null-co,node-name=n0,read-only=maybe: "
     "Parameter 'read-only' expects 'on' or 'off'\n"),
]


def run_errors(binary: str, args: list[str]) -> tuple[int, str]:
    done = subprocess.run([binary, "-display", "none", "-nodefaults", "-S", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, env=base_env(), timeout=30)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize("args,expected", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_are_qemus(qemu_link, args, expected):
    assert run_errors(qemu_link, args) == (1, expected)


@pytest.mark.skipif(REAL_QEMU is None, reason="qemu-system-x86_64 not installed")
@pytest.mark.parametrize("args,expected", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_match_real_qemu(args, expected):
    """The expected lines above are QEMU 7.2's own."""
    assert run_errors(REAL_QEMU, args) == (1, expected)


def test_version_has_qemus_format(qemu_link):
    ours = subprocess.run([qemu_link, "-version"], capture_output=True, timeout=30)
    assert ours.returncode == 0
    assert ours.stdout.decode() == (
        "QEMU emulator version 7.2.0 (qmp-mock 0.1.0)\n"
        "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n")
    if REAL_QEMU:
        real = subprocess.run([REAL_QEMU, "-version"], capture_output=True, timeout=30).stdout.decode()
        pattern = r"QEMU emulator version 7\.2\.\d+ \([^)]*\)\nCopyright \(c\) 2003-2022 Fabrice Bellard and the QEMU Project developers\n"
        assert re.fullmatch(pattern, real), real
        assert re.fullmatch(pattern, ours.stdout.decode())


def test_help_starts_like_qemus(qemu_link):
    done = subprocess.run([qemu_link, "-help"], capture_output=True, timeout=30)
    assert done.returncode == 0
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "QEMU emulator version 7.2.0 (qmp-mock 0.1.0)"
    assert lines[1].startswith("Copyright (c) 2003-2022 ")
    assert lines[2] == "usage: qemu-system-x86_64 [options] [disk_image]"
    if REAL_QEMU:
        real = subprocess.run([REAL_QEMU, "-help"], capture_output=True, timeout=30).stdout.decode().splitlines()
        assert real[1:3] == lines[1:3]


def test_a_bad_device_of_a_daemonized_start_fails_the_starting_process(qemu_link, tmp):
    """A machine error comes after the fork, as in QEMU: the child prints it on the shared stderr and
    the waiting process exits 1."""
    done = subprocess.run([qemu_link, "-machine", "q35", "-nodefaults", "-daemonize",
                           "-qmp", "unix:%s/q.sock,server=on,wait=off" % tmp, "-device", "pcie-root-port,chasis=1"],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert done.returncode == 1
    assert done.stderr == b"qemu-system-x86_64: -device pcie-root-port,chasis=1: Property 'pcie-root-port.chasis' not found\n"
    assert not os.path.exists(os.path.join(tmp, "q.sock"))


def test_backends_of_every_form_reach_the_machine(qemu_link, tmp):
    """-drive if=none, -netdev with repeated hostfwd, -blockdev in both forms, -chardev file/null/pty,
    -object, -device over them: the machine has each, under its id."""
    disk = os.path.join(tmp, "disk.raw")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    qmp = os.path.join(tmp, "q.sock")
    done = subprocess.run([
        qemu_link, "-machine", "q35", "-nodefaults", "-S", "-daemonize", "-pidfile", os.path.join(tmp, "pid"),
        "-qmp", "unix:%s,server=on,wait=off" % qmp,
        "-device", "pcie-root-port,id=rp1,chassis=1,addr=0x2", "-device", "pcie-root-port,id=rp2,chassis=2,addr=0x3",
        "-device", "pcie-root-port,id=rp3,chassis=3,addr=0x4",
        "-drive", "if=none,id=d0,file=%s,format=raw" % disk, "-device", "virtio-blk-pci,drive=d0,id=vd0,bus=rp1",
        "-netdev", "user,id=n0,hostfwd=tcp::2222-:22,hostfwd=tcp::2223-:23",
        "-device", "virtio-net-pci,netdev=n0,id=nic0,bus=rp2,mac=52:54:00:12:34:56",
        "-blockdev", "driver=file,node-name=f1,filename=%s,read-only=on" % disk,
        "-blockdev", '{"driver":"raw","node-name":"r1","file":"f1","read-only":true}',
        "-device", "virtio-blk-pci,drive=r1,id=vd1,bus=rp3",
        "-chardev", "file,id=log0,path=%s" % os.path.join(tmp, "serial.log"), "-chardev", "null,id=null0",
        "-object", "iothread,id=io0", "-m", "512M,slots=2,maxmem=2G",
    ], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    pid = int(open(os.path.join(tmp, "pid")).read())
    try:
        c = Client(qmp)
        c.negotiate(version="7.2.0")
        blocks = json.loads(c.cmd("query-block"))["return"]
        # The legacy drive by its id; the -blockdev disk's anonymous backend by its device, as on QEMU.
        assert [(b["device"], b["qdev"]) for b in blocks] == [
            ("d0", "/machine/peripheral/vd0/virtio-backend"), ("", "/machine/peripheral/vd1/virtio-backend")]
        nodes = {n["node-name"] for n in json.loads(c.cmd("query-named-block-nodes", {"flat": True}))["return"]}
        assert {"f1", "r1"} <= nodes
        labels = [x["label"] for x in json.loads(c.cmd("query-chardev"))["return"]]
        assert sorted(labels) == ["compat_monitor0", "log0", "null0"]
        assert [t["id"] for t in json.loads(c.cmd("query-iothreads"))["return"]] == ["io0"]
        peripherals = {p["name"] for p in json.loads(c.cmd("qom-list", {"path": "/machine/peripheral"}))["return"]}
        assert {"rp1", "rp2", "rp3", "vd0", "vd1", "nic0"} <= peripherals
        assert "Duplicate ID 'n0'" in c.cmd("netdev_add", {"type": "user", "id": "n0"})
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: process_gone(pid), 10, "the daemon to exit on SIGTERM")
