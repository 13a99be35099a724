"""Real stacks' hot-plug code against qmp-mockd and against QEMU 7.2, step for step (issue 14).

Two stacks nobody here wrote: Kata Containers' govmm (Go, below) and Ganeti's QMP monitor class
(``ganeti.hypervisor.hv_kvm.monitor.QmpConnection``, Python, from Debian's ``ganeti-3.0`` unpacked
into ``.build-ganeti`` by ``scripts/bootstrap.sh ganeti``; ``Tests/integration/ganeti/driver.py``
runs its ``HotAddNic``/``HotDelNic``/``HotAddDisk``/``HotDelDisk`` and probes with Debian's python3).

The stack is Kata Containers' govmm, from Debian's ``golang-github-kata-containers-govmm-dev``
(installed with ``golang-go`` by ``scripts/bootstrap.sh govmm``, which ``make test`` runs). The
session fixture builds ``Tests/integration/govmm/driver.go`` against Debian's sources in GOPATH mode,
offline (``GOPROXY=off``, cache under ``.build``), and the driver runs govmm's own API: one JSON line
per call, with govmm's error text or a shape of its result, and the events govmm's event channel
delivered. Each flow runs once against each target, on a fresh VM of the same topology:

* q35, native PCIe hot-plug (``-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off``), four
  empty ``pcie-root-port``s ``rp1``..``rp4``, a second monitor for the test's own queries (on QEMU a
  qtest socket too, through which the test numbers the ports' buses as firmware would);
* the VM not started (QEMU ``-S``, qmp-mockd ``--paused`` with the ``manual`` guest persona): no guest
  ever powers a slot on, so an empty port's slot is off, and ``device_del`` of a device added to it
  removes it at once on both (QEMU's "slot is powered off -> unplug without round-trip to the
  guest"): the reply, then ``DEVICE_DELETED``, which govmm's ``ExecuteDeviceDel`` waits for. No clock
  is needed, nothing sleeps, and both complete the same way deterministically. (A running guest
  would power the slot on; QEMU without a guest would then never complete the unplug and govmm's
  wait would run into its timeout, while qmp-mockd's simulated Linux would complete it after 6 s of
  virtual time: not the same, so not compared.)

After every flow the test asks the second monitor for ``query-pci`` (device identities) and
``query-block``; those count as steps too. Every step must behave as on QEMU except the ones listed
in ``KNOWN_DIFFERENCES`` (each explained in docs/deviations.md); an unexplained difference fails, and
so does an explanation no step needs. The count ("N of M steps behave as on QEMU") is printed in the
test output and recorded in docs/real-clients.md.

Go, govmm, Ganeti and QEMU missing is a failure, never a skip: ``make test`` installs them. The
whole module takes under 10 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, Client, DaemonFactory, base_env, is_listening, mockd_binary_path, short_tmpdir

GOVMM_SRC = Path("/usr/share/gocode/src/github.com/kata-containers/govmm/qemu")
DRIVER_SRC = Path(__file__).resolve().parent / "govmm"
DRIVER_BIN = REPO / ".build" / "govmm-driver"
QEMU = os.environ.get("QEMU", "/usr/bin/qemu-system-x86_64")

GANETI_ROOT = REPO / ".build-ganeti" / "usr" / "share" / "ganeti" / "3.0"
GANETI_DRIVER = Path(__file__).resolve().parent / "ganeti" / "driver.py"
GANETI_FLOWS = ["probe", "nic", "disk"]
FLOWS = ["probe", "schema-default-buffer", "disk", "disk-hostdev", "nic", "chardev", "errors"]
ROOT_PORTS = [("rp%d" % i, i, "0x%x" % (i + 1)) for i in range(1, 5)]  # id, chassis/slot, addr
FLOW_TIMEOUT = 30.0

# (flow, call) -> reason, for steps that do not behave as on QEMU. Each is in docs/deviations.md
# ("Real clients: govmm"). A tap descriptor can only be made by root or inside a user namespace;
# without one the driver passes a socketpair, which QEMU refuses and qmp-mockd holds.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}
_NO_TAP = "QEMU refuses a descriptor that is not a tap; qmp-mockd holds any (deviations: tap-descriptor)"
NO_TAP_DIFFERENCES: dict[tuple[str, str], str] = {
    ("nic", 'ExecuteNetdevAddByFds("tap", "hostnet0", ["fd-tap0"], nil)'): _NO_TAP,
    ("nic", 'ExecuteNetPCIDeviceAdd("hostnet0", "net0", "52:54:00:12:34:56", addr="00", bus="rp3", romfile="", queues=0)'):
        "follows: no netdev on QEMU",
    ("nic", 'ExecuteDeviceDel("net0")'): "follows: no NIC on QEMU",
    ("nic", 'ExecuteNetdevDel("hostnet0")'): "follows: no netdev on QEMU",
}


# Ganeti: none (HMP drive_add and drive_del, which its disk hot-plug needs, are served).
GANETI_KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------
# The drivers
# ---------------------------------------------------------------------------
def go_env() -> dict:
    env = base_env()
    env.update(GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
               GOCACHE=str(REPO / ".build" / "go-cache"), CGO_ENABLED="0")
    return env


@pytest.fixture(scope="session")
def govmm_driver() -> str:
    go = shutil.which("go") or "/usr/lib/go/bin/go"
    if not os.access(go, os.X_OK):
        pytest.fail("go is not installed (Debian golang-go): run scripts/bootstrap.sh govmm", pytrace=False)
    if not (GOVMM_SRC / "qmp.go").is_file():
        pytest.fail("govmm's sources are not at %s (Debian golang-github-kata-containers-govmm-dev): "
                    "run scripts/bootstrap.sh govmm" % GOVMM_SRC, pytrace=False)
    DRIVER_BIN.parent.mkdir(exist_ok=True)
    r = subprocess.run([go, "build", "-o", str(DRIVER_BIN), "."], cwd=DRIVER_SRC, env=go_env(),
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail("building the govmm driver failed:\n%s%s" % (r.stdout, r.stderr), pytrace=False)
    return str(DRIVER_BIN)


@pytest.fixture(scope="session")
def ganeti_driver() -> list[str]:
    """Debian's python3 (Ganeti needs its bitarray, simplejson and OpenSSL) on Ganeti's sources."""
    if not (GANETI_ROOT / "ganeti" / "hypervisor" / "hv_kvm" / "monitor.py").is_file():
        pytest.fail("Ganeti is not unpacked at %s: run scripts/bootstrap.sh ganeti" % GANETI_ROOT, pytrace=False)
    env = dict(base_env(), PYTHONPATH=str(GANETI_ROOT))
    r = subprocess.run(["/usr/bin/python3", "-c", "import ganeti.hypervisor.hv_kvm.monitor"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("Ganeti's monitor does not import (run scripts/bootstrap.sh ganeti):\n" + r.stderr, pytrace=False)
    return ["/usr/bin/python3", str(GANETI_DRIVER)]


def driver_argv(binary) -> list[str]:
    """The driver runs as root directly; otherwise in a user and network namespace of its own, where
    it may create the tap it passes (the sockets it talks to are files: unaffected)."""
    argv = [binary] if isinstance(binary, str) else list(binary)
    if os.geteuid() == 0 or not shutil.which("unshare"):
        return argv
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    return ["unshare", "-rn"] + argv if probe.returncode == 0 else argv


# ---------------------------------------------------------------------------
# The two targets
# ---------------------------------------------------------------------------
class QemuVM:
    name = "qemu"

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.qmp = os.path.join(workdir, "qmp.sock")
        self.aux = os.path.join(workdir, "aux.sock")
        self.qtest_path = os.path.join(workdir, "qtest.sock")
        argv = [QEMU, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-display", "none", "-S",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp, "-qmp", "unix:%s,server=on,wait=off" % self.aux,
                "-qtest", "unix:%s,server=on,wait=off" % self.qtest_path, "-qtest-log", "/dev/null",
                "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"]
        for pid, n, addr in ROOT_PORTS:
            argv += ["-device", "pcie-root-port,id=%s,bus=pcie.0,chassis=%d,slot=%d,addr=%s" % (pid, n, n, addr)]
        self.log = open(os.path.join(workdir, "qemu.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while not all(is_listening(self.proc.pid, p) for p in (self.qmp, self.aux)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("QEMU did not start: %s" % Path(self.log.name).read_text(errors="replace"), pytrace=False)
            time.sleep(0.01)  # polling a condition with a deadline
        self.number_buses()

    def number_buses(self):
        """What firmware does before a guest runs, and what qmp-mockd's query-pci shows: each root
        port's secondary and subordinate bus numbers (rpN -> bus N), written through qtest into
        configuration space (type 1 accesses at 0xcf8/0xcfc). Without them QEMU's query-pci of a
        -S machine lists nothing behind a port."""
        deadline = time.monotonic() + 10
        while not is_listening(self.proc.pid, self.qtest_path):
            assert time.monotonic() < deadline and self.proc.poll() is None, "QEMU's qtest socket never listened"
            time.sleep(0.01)  # polling a condition with a deadline
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.qtest_path)
        f = s.makefile("rb")
        for _, n, addr in ROOT_PORTS:
            devfn = int(addr, 16) << 3
            for line in ("outl 0xcf8 0x%x" % (0x80000000 | devfn << 8 | 0x18), "outl 0xcfc 0x%x" % (n << 16 | n << 8)):
                s.sendall((line + "\n").encode())
                reply = f.readline()
                assert reply.startswith(b"OK"), "qtest: %r -> %r" % (line, reply)
        self.qtest = (s, f)

    def stop(self):
        if getattr(self, "qtest", None):
            self.qtest[1].close()
            self.qtest[0].close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


class MockVM:
    name = "mockd"

    def __init__(self, workdir: str, factory: DaemonFactory):
        self.workdir = workdir
        config = os.path.join(workdir, "machine.yaml")
        with open(config, "w") as f:
            # Native PCIe hot-plug, as the govmm flows drive the root ports' slot registers.
            f.write("machine: q35\nglobals: [ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off]\ncontrollers:\n")
            for pid, n, addr in ROOT_PORTS:
                f.write('  - {driver: pcie-root-port, id: %s, bus: pcie.0, chassis: %d, slot: %d, addr: "%s"}\n'
                        % (pid, n, n, addr))
            f.write("guest: {persona: manual}\n")
        self.qmp = os.path.join(workdir, "qmp.sock")
        self.aux = os.path.join(workdir, "aux.sock")
        self.daemon = factory("--config", config, "--qemu-version", "7.2.0", "--paused", qmp=(self.qmp, self.aux))

    def stop(self):
        pass  # the factory's teardown


def aux_command(c: Client, command: str, arguments: dict | None = None):
    """One command on the test's monitor; events (broadcast to every monitor) are skipped."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    c.send(msg)
    while True:
        m = c.msg(timeout=10)
        if "return" in m or "error" in m:
            return m


def pci_identity(reply) -> list:
    """query-pci as a client identifies devices: bus, slot, function, qdev_id, ids, class, a port's
    bus numbers (not resources: BARs, IRQ lines, windows; docs/deviations.md)."""
    out = []

    def walk(devices):
        for d in devices or []:
            entry = {"bus": d.get("bus"), "slot": d.get("slot"), "function": d.get("function"),
                     "qdev_id": d.get("qdev_id"), "id": d.get("id"), "class": (d.get("class_info") or {}).get("class")}
            if d.get("pci_bridge"):
                entry["buses"] = {k: d["pci_bridge"]["bus"].get(k) for k in ("number", "secondary", "subordinate")}
            out.append(entry)
            walk((d.get("pci_bridge") or {}).get("devices"))

    if "error" in reply:
        return reply
    for bus in reply["return"]:
        walk(bus.get("devices"))
    return out


def run_flow(target, flow: str, driver: list[str], ganeti: bool = False) -> list[dict]:
    if ganeti:
        argv = driver + [target.qmp, target.aux, flow, target.workdir]
        env = dict(base_env(), PYTHONPATH=str(GANETI_ROOT))
    else:
        argv, env = driver + [target.qmp, flow, target.workdir], base_env()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=FLOW_TIMEOUT, env=env)
    steps = []
    for line in r.stdout.splitlines():
        try:
            steps.append(json.loads(line))
        except ValueError:
            raise AssertionError("govmm driver (%s, %s) printed a line that is not JSON: %r\nstderr: %s"
                                 % (flow, target.name, line, r.stderr))
    assert r.returncode == 0 and steps and (ganeti or steps[-1]["call"] == "Shutdown()"), (
        "%s driver (%s against %s) exited %d\nstdout:\n%s\nstderr:\n%s"
        % ("ganeti" if ganeti else "govmm", flow, target.name, r.returncode, r.stdout, r.stderr))
    c = Client(target.aux)
    try:
        c.line()  # greeting
        assert aux_command(c, "qmp_capabilities") == {"return": {}}
        steps.append({"flow": flow, "call": "query-pci (test monitor)", "result": pci_identity(aux_command(c, "query-pci"))})
        steps.append({"flow": flow, "call": "query-block (test monitor)", "result": aux_command(c, "query-block")})
    finally:
        c.close()
    return [normalise(s, target.workdir) for s in steps]


GENERATED = re.compile(r"#block(\d+)\d\d")


def normalise(step: dict, workdir: str) -> dict:
    text = json.dumps(step, sort_keys=True).replace(workdir, "WORKDIR")
    text = GENERATED.sub(r"#block\1NN", text)  # QEMU's random two digits (deviations: block layer)
    out = json.loads(text)
    out.pop("step", None)
    return out


# ---------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------
def run_all(flows: list[str], driver: list[str], ganeti: bool = False) -> dict:
    if not os.access(QEMU, os.X_OK):
        pytest.fail("QEMU 7.2 (%s) is not installed: run scripts/bootstrap.sh qemu" % QEMU, pytrace=False)
    results = {}
    for flow in flows:
        for kind in ("qemu", "mockd"):
            wd = short_tmpdir("govmm-")
            factory = DaemonFactory(mockd_binary_path(), wd)
            target = QemuVM(wd) if kind == "qemu" else MockVM(wd, factory)
            try:
                results[(flow, kind)] = run_flow(target, flow, driver, ganeti)
            finally:
                target.stop()
                problems = factory.teardown()
                shutil.rmtree(wd, ignore_errors=True)
            assert not problems, "\n".join(problems)
    return results


@pytest.fixture(scope="module")
def runs(govmm_driver):
    return run_all(FLOWS, driver_argv(govmm_driver))


@pytest.fixture(scope="module")
def ganeti_runs(ganeti_driver):
    return run_all(GANETI_FLOWS, driver_argv(ganeti_driver), ganeti=True)


def compare(runs, flows=FLOWS) -> tuple[list, int, int]:
    """Every step of every flow: (flow, call, same?, qemu, mockd)."""
    rows = []
    for flow in flows:
        q, m = runs[(flow, "qemu")], runs[(flow, "mockd")]
        seen: dict[str, int] = {}
        for i in range(max(len(q), len(m))):
            qs = q[i] if i < len(q) else None
            ms = m[i] if i < len(m) else None
            call = (qs or ms)["call"]
            seen[call] = seen.get(call, 0) + 1
            label = call if seen[call] == 1 else "%s (#%d)" % (call, seen[call])
            rows.append((flow, label, qs == ms, qs, ms))
    same = sum(1 for r in rows if r[2])
    return rows, same, len(rows)


def used_tap(runs) -> bool:
    return all('tap)' in s["call"] for k in (("nic", "qemu"), ("nic", "mockd")) for s in runs[k][:3]
               if s["call"].startswith("ExecuteGetFD"))


def used_tap_ganeti(runs) -> bool:
    return all("tapfds=[tap]" in s["call"] for k in (("nic", "qemu"), ("nic", "mockd")) for s in runs[k]
               if s["call"].startswith("HotAddNic"))


def check_flow(rows, known, flow):
    unexplained = [r for r in rows if r[0] == flow and not r[2] and (r[0], r[1]) not in known]
    unneeded = [k for k in known if k[0] == flow and any(r[0] == flow and r[1] == k[1] and r[2] for r in rows)]
    msg = []
    for _, call, _, qs, ms in unexplained:
        msg.append("%s: %s\n  QEMU 7.2:  %s\n  qmp-mockd: %s" % (flow, call, json.dumps(qs), json.dumps(ms)))
    for k in unneeded:
        msg.append("%s: %s behaves as on QEMU now: drop it from KNOWN_DIFFERENCES and docs/deviations.md" % k)
    assert not msg, "\n".join(msg)


@pytest.mark.parametrize("flow", FLOWS)
def test_flow_steps_behave_as_on_qemu(runs, flow):
    known = dict(KNOWN_DIFFERENCES)
    if not used_tap(runs):
        known.update(NO_TAP_DIFFERENCES)
    check_flow(compare(runs)[0], known, flow)


@pytest.mark.parametrize("flow", GANETI_FLOWS)
def test_ganeti_flow_steps_behave_as_on_qemu(ganeti_runs, flow):
    known = dict(GANETI_KNOWN_DIFFERENCES)
    if not used_tap_ganeti(ganeti_runs):
        known[("nic", "HotAddNic(nic, \"hotnic-1\", tapfds=[socketpair])")] = _NO_TAP
        for call in ('Execute("query-pci") on rp3', 'HotDelNic("hotnic-1")'):
            known[("nic", call)] = "follows: no NIC on QEMU"
    check_flow(compare(ganeti_runs, GANETI_FLOWS)[0], known, flow)


def report(title, rows, same, total, flows) -> list[str]:
    lines = ["%s: %d of %d steps behave as on QEMU" % (title, same, total)]
    for flow in flows:
        fr = [r for r in rows if r[0] == flow]
        lines.append("  %-22s %d of %d" % (flow, sum(1 for r in fr if r[2]), len(fr)))
        for r in fr:
            if not r[2]:
                lines.append("      differs: %s" % r[1])
    return lines


def test_report_steps(runs, ganeti_runs, capsys):
    rows, same, total = compare(runs)
    tap = "tap" if used_tap(runs) else "no tap, a socketpair"
    lines = report("govmm (%s) against qmp-mockd and QEMU 7.2" % tap, rows, same, total, FLOWS)
    grows, gsame, gtotal = compare(ganeti_runs, GANETI_FLOWS)
    lines += report("Ganeti's QmpConnection against qmp-mockd and QEMU 7.2", grows, gsame, gtotal, GANETI_FLOWS)
    lines.append("together: %d of %d steps behave as on QEMU" % (same + gsame, total + gtotal))
    with capsys.disabled():  # in the test output even under -q, and with the run's log
        print("\n" + "\n".join(lines))
    assert total >= 40, "fewer steps than the flows define: %d" % total

