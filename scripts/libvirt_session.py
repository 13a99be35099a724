#!/usr/bin/env python3
"""A private libvirt 9.0 daemon in session mode, for running real libvirt against an emulator
(qmp-mockd's qemu-system-x86_64 link, or QEMU itself): used by Tests/integration/test_libvirt.py
and bench/libvirt-bench.py.

The set-up is the one ../shared/oracle/libvirt/README.md recorded libvirt with:

- `qemu:///session` under an unprivileged user (`nobody` when run as root, else the caller): no
  cgroups, namespaces, security driver or KVM needed. Everything lives in one temporary directory
  through HOME and the XDG variables; `qemu.conf` says `stdio_handler = "file"` (no virtlogd).
- libvirtd runs in the foreground under a **subreaper** (`PR_SET_CHILD_SUBREAPER`, this file's
  `subreaper` mode): libvirt double-forks its emulators, and where they are re-parented to an
  init that does not reap, a dead emulator stays a zombie that libvirt polls for 40 s.
- virsh connects with `qemu+unix:///session?socket=...`, so no second daemon is auto-started.

    scripts/libvirt_session.py subreaper -- COMMAND...   (internal: run COMMAND, reap orphans)
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
NOBODY = (65534, 65534)
PACKAGES = "libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon"


class LibvirtError(RuntimeError):
    """A virsh command or the daemon failed; the text says what it printed."""


def subreaper(argv: list[str]) -> int:
    """Runs argv as a child, reaps every orphan re-parented here, forwards SIGTERM/SIGINT to the
    child and exits with its status once it and all adopted processes are gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("subreaper: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
        return 70
    child = os.fork()
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while True:
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            return status
        except InterruptedError:
            continue
        if pid == child:
            status = os.waitstatus_to_exitcode(raw)


def missing_tools() -> str | None:
    """What is missing to run libvirt, or None."""
    for tool in ("libvirtd", "virsh", "setpriv"):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return f"{tool} not found (scripts/bootstrap.sh libvirt installs {PACKAGES})"
    return None


class LibvirtSession:
    """One private libvirtd and the virsh that talks to it. Use as a context manager; `virsh(...)`
    runs a command and returns its stdout, raising LibvirtError on failure."""

    def __init__(self, prefix: str = "lv-"):
        problem = missing_tools()
        if problem:
            raise LibvirtError(problem)
        self.as_root = os.geteuid() == 0
        # Short: the domains' monitor sockets live below it (108-byte limit of sun_path).
        self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        self.config = self.dir / "config"
        self.cache = self.dir / "cache"
        self.runtime = self.dir / "run"
        for folder in (self.config / "libvirt", self.cache, self.runtime):
            folder.mkdir(parents=True)
        self.runtime.chmod(0o700)
        (self.config / "libvirt" / "qemu.conf").write_text('stdio_handler = "file"\n')
        self.log = self.dir / "libvirtd.log"
        (self.config / "libvirt" / "libvirtd.conf").write_text(
            'log_filters = "1:qemu.qemu_monitor 1:qemu.qemu_process 3:*"\n'
            f'log_outputs = "1:file:{self.log}"\n'
        )
        self.socket = self.runtime / "libvirt" / "libvirt-sock"
        self.uri = f"qemu+unix:///session?socket={self.socket}"
        self.daemon: subprocess.Popen | None = None
        self._give_away(self.dir)
        self.dir.chmod(0o755)

    # -- the unprivileged user ------------------------------------------------------------------

    def _give_away(self, path: Path) -> None:
        """Makes path (recursively) the session user's."""
        if not self.as_root:
            return
        os.chown(path, *NOBODY, follow_symlinks=False)
        for root, dirs, files in os.walk(path):
            os.chown(root, *NOBODY)
            for name in dirs + files:
                os.chown(os.path.join(root, name), *NOBODY, follow_symlinks=False)

    def _as_user(self, argv: list[str], path: str = "/usr/sbin:/usr/bin:/sbin:/bin") -> list[str]:
        env = [
            "env", "-i", f"PATH={path}", f"HOME={self.dir}",
            f"XDG_CONFIG_HOME={self.config}", f"XDG_CACHE_HOME={self.cache}", f"XDG_RUNTIME_DIR={self.runtime}",
            "LC_ALL=C",
        ]
        if self.as_root:
            return ["setpriv", f"--reuid={NOBODY[0]}", f"--regid={NOBODY[1]}", "--clear-groups", *env, *argv]
        return [*env, *argv]

    def write(self, name: str, text: str) -> Path:
        """A file in the session folder that the session user owns."""
        path = self.dir / name
        path.write_text(text)
        self._give_away(path)
        return path

    def executable(self, binary: Path) -> Path:
        """binary itself when the session user may run it where it is; else a copy in the
        session folder (a checkout under a private home)."""
        probe = subprocess.run(self._as_user(["test", "-x", str(binary)]), check=False)
        if probe.returncode == 0:
            return binary
        copy = self.dir / "bin" / binary.name
        copy.parent.mkdir(exist_ok=True)
        shutil.copy2(binary, copy)
        self._give_away(copy.parent)
        return copy

    def emulator(self, qmp_mockd: Path) -> Path:
        """The qemu-system-x86_64 link beside qmp_mockd (made by make build), as the session user
        can run it."""
        link = qmp_mockd.parent / "qemu-system-x86_64"
        if not link.exists():
            link.symlink_to(qmp_mockd.name)
        runnable = self.executable(qmp_mockd)
        if runnable == qmp_mockd:
            return link
        copy_link = runnable.parent / "qemu-system-x86_64"
        copy_link.symlink_to(runnable.name)
        return copy_link

    # -- the daemon and virsh -------------------------------------------------------------------

    def start(self, timeout: float = 30) -> None:
        # This file runs the subreaper, from a copy the session user can read, with a Python the
        # user can run (the caller's may live in a private home).
        script = self.dir / "libvirt_session.py"
        shutil.copy2(Path(__file__).resolve(), script)
        self._give_away(script)
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        argv = [python, str(script), "subreaper", "--",
                "libvirtd", "-f", str(self.config / "libvirt" / "libvirtd.conf")]
        out = open(self.dir / "libvirtd.out", "wb")
        # libvirtd probes every qemu-system-* on its PATH when it starts; without /usr/bin it probes
        # only the emulators domains name (which is all it needs), so that no probe of an installed
        # QEMU runs behind the caller's back (and a benchmark times each probe where it happens).
        self.daemon = subprocess.Popen(self._as_user(argv, path="/usr/sbin:/sbin"), stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise LibvirtError(f"libvirtd exited with {self.daemon.returncode}: {self.daemon_output()}")
            if self.socket.exists() and self.run("list").returncode == 0:
                return
            time.sleep(0.05)  # the daemon gives no readiness signal in the foreground
        raise LibvirtError(f"libvirtd did not answer within {timeout} s: {self.daemon_output()}")

    def stop(self, timeout: float = 30) -> None:
        """Stops libvirtd (its domains keep running, as under a real libvirtd restart)."""
        if self.daemon and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.socket.unlink(missing_ok=True)

    def restart(self) -> None:
        """A fresh libvirtd on the same folders: what it knew in memory (the capability cache of
        every emulator) is gone; the on-disk cache stays unless the caller removes it."""
        self.stop()
        self.start()

    def daemon_output(self) -> str:
        path = self.dir / "libvirtd.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(self._as_user(["virsh", "-q", "-c", self.uri, *args]), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def popen(self, *args: str) -> subprocess.Popen:
        """virsh in the background (a detach the test completes by steering the clock)."""
        return subprocess.Popen(self._as_user(["virsh", "-q", "-c", self.uri, *args]), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def virsh(self, *args: str, timeout: float = 120) -> str:
        result = self.run(*args, timeout=timeout)
        if result.returncode != 0:
            raise LibvirtError(f"virsh {' '.join(args)} failed ({result.returncode}): "
                               f"{result.stderr.strip()} {result.stdout.strip()}".strip())
        return result.stdout

    def monitor_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        if self.daemon and self.daemon.poll() is None:
            for name in self.run("list", "--name").stdout.split():
                self.run("destroy", name)
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "LibvirtSession":
        try:
            self.start()
        except BaseException:
            self.close()  # a daemon that never answered is not left behind
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def domain_xml(name: str, emulator: Path, *, native: bool = False, mock_config: Path | None = None,
               root_ports: int = 4) -> str:
    """The recordings' q35 domain: 256 MiB, one vCPU, no USB or balloon, `root_ports`
    pcie-root-ports; `native` adds libvirt's way to native PCIe hot-plug (the -global through
    <qemu:commandline>), `mock_config` the QMP_MOCK_CONFIG environment variable."""
    extra = []
    if native:
        extra += ["    <qemu:arg value='-global'/>",
                  "    <qemu:arg value='ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'/>"]
    if mock_config:
        extra.append(f"    <qemu:env name='QMP_MOCK_CONFIG' value='{mock_config}'/>")
    commandline = ("  <qemu:commandline>\n" + "\n".join(extra) + "\n  </qemu:commandline>\n") if extra else ""
    ports = "".join("    <controller type='pci' model='pcie-root-port'/>\n" for _ in range(root_ports))
    return (
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        f"  <name>{name}</name>\n"
        "  <memory unit='MiB'>256</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        f"    <emulator>{emulator}</emulator>\n"
        "    <controller type='usb' model='none'/>\n"
        "    <controller type='pci' model='pcie-root'/>\n"
        f"{ports}"
        "    <memballoon model='none'/>\n"
        "  </devices>\n"
        f"{commandline}"
        "</domain>\n"
    )


def disk_xml(source: Path, target: str = "vdb") -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{source}'/>"
            f"<target dev='{target}' bus='virtio'/></disk>\n")


NIC_XML = "<interface type='user'><model type='virtio'/></interface>\n"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "subreaper" and sys.argv[2] == "--":
        sys.exit(subreaper(sys.argv[3:]))
    print(__doc__, file=sys.stderr)
    sys.exit(64)
