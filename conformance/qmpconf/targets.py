"""The two targets a scenario runs against. Each starts its server in a private directory, exposes
the monitor a client talks to (`qmp`), and plays the guest: real QEMU through a qtest socket
(configuration space through ports 0xcf8/0xcfc, SHPC registers through the bridge's BAR0), qmp-mockd
through its control socket. Guest accesses name controllers and devices by id."""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .scenario import PCIE_REGISTERS, Scenario
from .stream import QMPStream, StreamTimeout, WAIT_SECONDS, connect_unix

SHPC_BAR_BASE = 0xFE000000
SHPC_BAR_STEP = 0x100000  # one 1 MiB bridge-window granule per SHPC BAR


class TargetError(Exception):
    """The target could not be started or driven (not a behaviour difference)."""


def _die_with_parent() -> None:
    # A crashed runner never leaves a server behind (PR_SET_PDEATHSIG).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Target:
    """What the runner needs of a server under test."""

    name = "target"
    qmp: QMPStream

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        # Under /tmp, not $TMPDIR: a socket path must fit sun_path's 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="qmp-conformance-", dir="/tmp")
        self.proc: subprocess.Popen | None = None
        self.stderr_path = os.path.join(self.dir, "stderr.txt")

    def make_files(self) -> None:
        """The scenario's `files`, in this target's directory: sparse raw files, or qcow2 images made
        by qemu-img (the same bytes on both sides)."""
        for name, kind, size in self.scenario.files:
            path = os.path.join(self.dir, name)
            if kind == "qcow2":
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)], check=True)
            else:
                with open(path, "wb") as f:
                    f.truncate(size)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def spawn(self, argv: list[str], env: dict | None = None) -> None:
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         env=env, preexec_fn=_die_with_parent)

    def exit_status(self) -> int | None:
        """Waits for the server to exit by itself (after quit)."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        for attr in ("qmp", "setup", "control", "second"):
            stream = getattr(self, attr, None)
            if stream is not None:
                stream.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def after_reset(self) -> None:
        """What firmware does after a system reset, before the guest acts again."""

    def reconnect(self) -> QMPStream:
        """Closes the scenario's client connection and opens a new one (not yet greeted)."""
        self.qmp.close()
        self.qmp = QMPStream.connect(self.qmp_path, self.alive)
        return self.qmp

    # what every target implements
    def start(self) -> None: raise NotImplementedError
    def guest_read(self, access: dict) -> int: raise NotImplementedError
    def guest_write(self, access: dict) -> None: raise NotImplementedError
    def advance(self, ms: float) -> None: raise NotImplementedError
    def settle(self) -> None: raise NotImplementedError


class QEMUTarget(Target):
    """Real QEMU: `-accel tcg -nodefaults -display none`, a HLT-only BIOS (so `cont` or a running VM
    never lets firmware touch PCI), native hotplug, the client's monitor, a second monitor for the
    runner's own look-ups, and a qtest socket for the guest."""

    name = "qemu"

    def __init__(self, scenario: Scenario, binary: str):
        super().__init__(scenario)
        self.binary = binary
        self.setup: QMPStream | None = None
        self.qtest: socket.socket | None = None
        self.qtest_file = None
        self.bus_numbers: dict[str, int] = {}  # bus name -> number the runner's "firmware" gave it
        self.bdf: dict[str, tuple[int, int]] = {}  # id -> (bus number, devfn), last known
        self.bars: dict[str, int] = {}  # SHPC bridge id -> BAR0 address
        self.caps: dict[tuple[str, int], int] = {}

    def start(self) -> None:
        bios = os.path.join(self.dir, "hlt.bin")
        with open(bios, "wb") as f:
            f.write(b"\xf4" * 65536)  # HLT at the reset vector, interrupts off: the vCPU sleeps
        qmp, setup, qt = (os.path.join(self.dir, n) for n in ("qmp.sock", "setup.sock", "qtest.sock"))
        argv = [self.binary, "-accel", self.scenario.machine.accel, "-nodefaults", "-display", "none", "-bios", bios,
                "-qmp", "unix:%s,server=on,wait=off" % qmp, "-qmp", "unix:%s,server=on,wait=off" % setup,
                "-qtest", "unix:%s,server=on,wait=off" % qt, "-qtest-log", "/dev/null"]
        if not self.scenario.running:
            argv.append("-S")
        if self.scenario.no_shutdown:
            argv.append("-no-shutdown")
        argv += self.scenario.machine.qemu_args()
        self.spawn(argv)
        try:
            self.setup = QMPStream.negotiated(setup, self.alive)
            self.qtest = connect_unix(qt, self.alive)
            self.qtest_file = self.qtest.makefile("rb")
            self._firmware()
            if not self.scenario.second_monitor:
                self.setup.close()  # one monitor client: the scenario's
                self.setup = None
            self.qmp_path = qmp
            self.qmp = QMPStream.connect(qmp, self.alive)
        except (StreamTimeout, RuntimeError, OSError) as e:
            raise TargetError("QEMU did not start: %s\n%s" % (e, self.stderr_tail())) from None

    # -- qtest ---------------------------------------------------------------------------------
    def _qt(self, line: str) -> int | None:
        assert self.qtest is not None and self.qtest_file is not None
        self.qtest.sendall((line + "\n").encode())
        while True:
            resp = self.qtest_file.readline()
            if not resp:
                raise TargetError("qtest closed\n" + self.stderr_tail())
            text = resp.decode().strip()
            if text.startswith("IRQ"):
                continue  # interrupt lines: the scripted guest polls instead
            if not text.startswith("OK"):
                raise TargetError("qtest %r -> %r" % (line, text))
            parts = text.split()
            return int(parts[1], 16) if len(parts) > 1 else None

    _IN = {1: "inb", 2: "inw", 4: "inl"}
    _OUT = {1: "outb", 2: "outw", 4: "outl"}
    _READ = {1: "readb", 2: "readw", 4: "readl"}
    _WRITE = {1: "writeb", 2: "writew", 4: "writel"}

    def cfg_read(self, bus: int, devfn: int, off: int, size: int) -> int:
        self._qt("outl 0xcf8 0x%x" % (0x80000000 | bus << 16 | devfn << 8 | (off & 0xFC)))
        return self._qt("%s 0x%x" % (self._IN[size], 0xCFC + (off & 3))) or 0

    def cfg_write(self, bus: int, devfn: int, off: int, size: int, value: int) -> None:
        self._qt("outl 0xcf8 0x%x" % (0x80000000 | bus << 16 | devfn << 8 | (off & 0xFC)))
        self._qt("%s 0x%x 0x%x" % (self._OUT[size], 0xCFC + (off & 3), value))

    # -- the runner's firmware: bus numbers and SHPC BARs, as a BIOS would set them up ----------
    def _devfn(self, dev_id: str) -> int:
        return self.setup.command("qom-get", {"path": "/machine/peripheral/" + dev_id, "property": "addr"})

    def _firmware(self) -> None:
        machine = self.scenario.machine
        bridges = machine.bridges()
        children: dict[str, list] = {}
        for n in bridges:
            children.setdefault(n.bus, []).append((self._devfn(n.id), n.id))
        self.bus_numbers[machine.root_bus] = 0
        plan = []  # (id, bus, devfn, primary, secondary, subordinate)
        counter = [0]

        def number(bus: str) -> int:
            highest = self.bus_numbers[bus]
            for devfn, dev_id in sorted(children.get(bus, [])):
                counter[0] += 1
                secondary = counter[0]
                self.bus_numbers[dev_id] = secondary
                self.bdf[dev_id] = (self.bus_numbers[bus], devfn)
                entry = [dev_id, self.bus_numbers[bus], devfn, self.bus_numbers[bus], secondary, None]
                plan.append(entry)
                entry[5] = number(dev_id)
                highest = max(highest, entry[5])
            return highest

        number(machine.root_bus)
        for dev_id, bus, devfn, primary, secondary, subordinate in plan:
            old = self.cfg_read(bus, devfn, 0x18, 4)
            self.cfg_write(bus, devfn, 0x18, 4, (old & 0xFF000000) | primary | secondary << 8 | subordinate << 16)
        parents = {n.id: n.bus for n in bridges}
        shpc_bridges = [e[0] for e in plan if self._cap(e[0], 0x0C) is not None]
        windows: dict[str, list[int]] = {}
        for i, dev_id in enumerate(shpc_bridges):
            bar = SHPC_BAR_BASE + i * SHPC_BAR_STEP
            self.bars[dev_id] = bar
            up = parents[dev_id]
            while up in parents:  # every bridge between the root bus and this one forwards the window
                windows.setdefault(up, []).append(bar)
                up = parents[up]
        for dev_id, bars in windows.items():
            bus, devfn = self.bdf[dev_id]
            base, limit = min(bars), max(bars) + SHPC_BAR_STEP - 1
            self.cfg_write(bus, devfn, 0x20, 4, (base >> 16 & 0xFFF0) | (limit >> 16 & 0xFFF0) << 16)
            self.cfg_write(bus, devfn, 0x04, 2, self.cfg_read(bus, devfn, 0x04, 2) | 0x2)
        for dev_id, bar in self.bars.items():
            bus, devfn = self.bdf[dev_id]
            self.cfg_write(bus, devfn, 0x10, 4, bar & 0xFFFFFFF0)
            self.cfg_write(bus, devfn, 0x14, 4, bar >> 32)
            self.cfg_write(bus, devfn, 0x04, 2, self.cfg_read(bus, devfn, 0x04, 2) | 0x2)

    def after_reset(self) -> None:
        # A reset clears bus numbers, BARs and COMMAND: the runner's firmware runs again, as a BIOS would.
        self.bus_numbers.clear()
        self.bars.clear()
        self._firmware()

    def _cap(self, dev_id: str, cap_id: int) -> int | None:
        key = (dev_id, cap_id)
        if key not in self.caps:
            bus, devfn = self._locate(dev_id)
            found = None
            if self.cfg_read(bus, devfn, 0x06, 2) & 0x10:
                ptr, seen = self.cfg_read(bus, devfn, 0x34, 1) & 0xFC, 0
                while ptr and seen < 48:
                    if self.cfg_read(bus, devfn, ptr, 1) == cap_id:
                        found = ptr
                        break
                    ptr, seen = self.cfg_read(bus, devfn, ptr + 1, 1) & 0xFC, seen + 1
            self.caps[key] = found
        return self.caps[key]

    def _locate(self, dev_id: str) -> tuple[int, int]:
        """Bus number and devfn of a device, looked up on the runner's monitor (last known position
        once the device is gone, so a guest can read the empty slot)."""
        path = "/machine/peripheral/" + dev_id
        reply = self.setup.request("qom-get", {"path": path, "property": "parent_bus"})
        if "return" in reply:
            bus_name = reply["return"].rstrip("/").rsplit("/", 1)[-1]
            if bus_name not in self.bus_numbers:
                raise TargetError("%s sits on bus %s, which the runner's firmware did not number "
                                  "(guest access behind hot-added bridges is not supported)" % (dev_id, bus_name))
            self.bdf[dev_id] = (self.bus_numbers[bus_name], self._devfn(dev_id))
        if dev_id not in self.bdf:
            planned = self._planned(dev_id)
            if planned is None:
                raise TargetError("no device %r to access, and no device_add step says where it would be" % dev_id)
            return planned
        return self.bdf[dev_id]

    def _planned(self, dev_id: str) -> tuple[int, int] | None:
        """Where a device that does not exist yet will sit, from the scenario's device_add steps
        (a port's slot has device 0 only; elsewhere the step must give addr)."""
        for step in self.scenario.steps:
            args = step.arguments or {}
            if step.command != "device_add" or args.get("id") != dev_id or args.get("bus") not in self.bus_numbers:
                continue
            addr = args.get("addr", "0")
            if isinstance(addr, int):
                devfn = addr
            else:
                slot, _, fn = str(addr).partition(".")
                devfn = int(slot, 16) << 3 | int(fn or "0", 16)
            return self.bus_numbers[args["bus"]], devfn
        return None

    # -- guest accesses ----------------------------------------------------------------------
    def _port_register(self, access: dict) -> tuple[int, int, int, int]:
        port = access["port"]
        cap = self._cap(port, 0x10)
        if cap is None:
            raise TargetError("%s has no PCI Express capability" % port)
        off, size = PCIE_REGISTERS[access["register"]]
        bus, devfn = self._locate(port)
        return bus, devfn, cap + off, size

    def _bar(self, bridge: str) -> int:
        if bridge not in self.bars:
            raise TargetError("%s is not a cold-plugged bridge with an SHPC" % bridge)
        return self.bars[bridge]

    def _select_window(self, access: dict) -> tuple[int, int, int]:
        """Selects the dword of the SHPC capability's window (DWORD_SELECT at cap+2); returns the
        bridge's bus, devfn and the offset of DWORD_DATA (cap+4)."""
        bus, devfn = self._locate(access["bridge"])
        cap = self._cap(access["bridge"], 0x0C)
        self.cfg_write(bus, devfn, cap + 2, 1, access["window"])
        return bus, devfn, cap + 4

    def guest_read(self, access: dict) -> int:
        if "io" in access:
            return self._qt("%s 0x%x" % (self._IN[access["size"]], access["io"])) or 0
        if "config" in access:
            bus, devfn = access["config"]
            return self.cfg_read(bus, devfn, access["offset"], access["size"])
        if "port" in access:
            bus, devfn, off, size = self._port_register(access)
            return self.cfg_read(bus, devfn, off, size)
        if "device" in access:
            bus, devfn = self._locate(access["device"])
            return self.cfg_read(bus, devfn, 0, 4)
        if "window" in access:
            bus, devfn, data = self._select_window(access)
            return self.cfg_read(bus, devfn, data, 4)
        size = access["size"]
        return self._qt("%s 0x%x" % (self._READ[size], self._bar(access["bridge"]) + access["offset"])) or 0

    def guest_write(self, access: dict) -> None:
        if access["op"] == "shpc-command":
            self._qt("writew 0x%x 0x%x" % (self._bar(access["bridge"]) + 0x14, access["code"] | access["slot"] << 8))
        elif "io" in access:
            self._qt("%s 0x%x 0x%x" % (self._OUT[access["size"]], access["io"], access["value"]))
        elif "config" in access:
            bus, devfn = access["config"]
            self.cfg_write(bus, devfn, access["offset"], access["size"], access["value"])
        elif "port" in access:
            bus, devfn, off, size = self._port_register(access)
            self.cfg_write(bus, devfn, off, size, access["value"])
        elif "window" in access:
            bus, devfn, data = self._select_window(access)
            self.cfg_write(bus, devfn, data, 4, access["value"])
        else:
            size = access["size"]
            self._qt("%s 0x%x 0x%x" % (self._WRITE[size], self._bar(access["bridge"]) + access["offset"],
                                       access["value"]))

    def advance(self, ms: float) -> None:
        # Debian's QEMU has no qtest clock_step: the virtual clock only moves with real time while
        # the VM runs (a paused VM, like qmp-mockd's, does not move at all).
        if self.scenario.running:
            time.sleep(ms / 1000.0)

    def settle(self) -> None:
        pass  # qtest accesses and QMP replies are synchronous; late events are declared by the step


class MockdTarget(Target):
    """qmp-mockd with the scenario's machine, the manual clock and the `manual` guest persona (the
    runner is the guest), reporting readiness on a NOTIFY_SOCKET."""

    name = "mockd"

    def __init__(self, scenario: Scenario, binary: str, qemu_version: str):
        super().__init__(scenario)
        self.binary = binary
        self.qemu_version = qemu_version
        self.control: QMPStream | None = None
        self.second: QMPStream | None = None

    def start(self) -> None:
        config = os.path.join(self.dir, "machine.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(self.scenario.machine.mockd_config())
        qmp, control, notify, second = (os.path.join(self.dir, n)
                                         for n in ("qmp.sock", "control.sock", "notify.sock", "second.sock"))
        argv = [self.binary, "--qmp", qmp, "--control", control, "--clock", "manual", "--config", config,
                "--qemu-version", self.qemu_version]
        if self.scenario.second_monitor:
            argv += ["--qmp", second]  # a monitor client beside the scenario's, as QEMU's runner look-ups
        if not self.scenario.running:
            argv.append("--paused")
        if self.scenario.no_shutdown:
            argv.append("--no-shutdown")
        ready = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ready.bind(notify)
        ready.settimeout(WAIT_SECONDS)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        self.spawn(argv, env)
        try:
            while b"READY=1" not in ready.recv(4096).split(b"\n"):
                pass
        except socket.timeout:
            raise TargetError("qmp-mockd never reported READY=1\n" + self.stderr_tail()) from None
        finally:
            ready.close()
        try:
            self.control = QMPStream.negotiated(control, self.alive)
            if self.scenario.second_monitor:
                self.second = QMPStream.negotiated(second, self.alive)
            self.qmp_path = qmp
            self.qmp = QMPStream.connect(qmp, self.alive)
        except (StreamTimeout, RuntimeError) as e:
            raise TargetError("qmp-mockd did not start: %s\n%s" % (e, self.stderr_tail())) from None

    def _control(self, command: str, arguments: dict):
        try:
            return self.control.command(command, arguments)
        except RuntimeError as e:
            raise TargetError("control %s %s: %s" % (command, json.dumps(arguments), e)) from None

    def guest_read(self, access: dict) -> int:
        if "io" in access:
            return self._control("guest-read", {"port": access["io"], "size": access["size"]})["value"]
        if "config" in access:
            return self._control("guest-read", {"config": access["config_text"], "offset": access["offset"],
                                                "size": access["size"]})["value"]
        if "port" in access:
            return self._control("guest-read", {"controller": access["port"]})[access["register"]]
        if "device" in access:
            return self._control("guest-read", {"device": access["device"]})["vendor-device"]
        offset, size = (4 * access["window"], 4) if "window" in access else (access["offset"], access["size"])
        return self._control("guest-read", {"controller": access["bridge"], "offset": offset, "size": size})["value"]

    def guest_write(self, access: dict) -> None:
        if access["op"] == "shpc-command":
            self._control("guest-write", {"controller": access["bridge"], "command": access["code"],
                                          "target": access["slot"]})
        elif "io" in access:
            self._control("guest-write", {"port": access["io"], "size": access["size"], "value": access["value"]})
        elif "config" in access:
            self._control("guest-write", {"config": access["config_text"], "offset": access["offset"],
                                          "size": access["size"], "value": access["value"]})
        elif "port" in access:
            self._control("guest-write", {"controller": access["port"], "register": access["register"],
                                          "value": access["value"]})
        elif "window" in access:
            pass  # qmp-mockd has no config-space path to the SHPC registers (docs/deviations.md)
        else:
            self._control("guest-write", {"controller": access["bridge"], "offset": access["offset"],
                                          "size": access["size"], "value": access["value"]})

    def advance(self, ms: float) -> None:
        self._control("clock-advance", {"ms": ms})

    def settle(self) -> None:
        # One control round trip: everything the machine did so far is on the monitor socket; then
        # it is in the runner's hands too.
        self._control("clock-query", {})
        self.qmp.drain()
