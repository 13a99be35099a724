"""Ganeti's QMP monitor class (Debian's ganeti-3.0, unpacked by ``scripts/bootstrap.sh ganeti``)
running its hot-plug methods against one QMP socket, as Ganeti's KVM hypervisor calls them. One JSON
line per call: ``{"flow", "call", "error", "result"}``, ``error`` being the text of the exception
Ganeti raises. Run by Tests/integration/test_govmm.py with Debian's python3 (Ganeti needs
python3-bitarray, python3-simplejson and python3-openssl, which the venv does not have):

    python3 driver.py SOCKET HMP_SOCKET FLOW WORKDIR

HMP_SOCKET is a second QMP monitor: Ganeti sends ``drive_add``/``drive_del`` as HMP text to the
instance's human monitor through socat; the driver sends the same text through that monitor's
``human-monitor-command``.
"""

import fcntl
import json
import os
import socket
import struct
import sys

from ganeti.hypervisor.hv_kvm.monitor import QmpConnection


class Device:
    """What Ganeti's objects.NIC / objects.Disk give the monitor: ``mac`` and ``hvinfo`` (the
    device_add members _GenerateDeviceHVInfo makes)."""

    def __init__(self, hvinfo, mac=None):
        self.hvinfo = hvinfo
        self.mac = mac


def tap_or_socket():
    """A tap when this process may make one (root, or a user and network namespace), else one end
    of a socketpair."""
    if not os.environ.get("GOVMM_DRIVER_NO_TAP"):
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR)
            try:
                fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", b"gnt%d" % (os.getpid() % 100000), 0x0002 | 0x1000))
                return fd, "tap"
            except OSError:
                os.close(fd)
        except OSError:
            pass
    a, b = socket.socketpair()
    b.close()
    return a.detach(), "socketpair"


class HMP:
    """HMP text through a QMP monitor's human-monitor-command."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.f = self.sock.makefile("rb")
        self.events = []
        self.f.readline()  # greeting
        self.command("qmp_capabilities")

    def command(self, name, arguments=None):
        msg = {"execute": name}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                return reply
            self.events.append(reply)

    def wait_deleted(self, device):
        """Until DEVICE_DELETED for the device id has come (this monitor gets every event)."""
        while not any(e.get("event") == "DEVICE_DELETED" and e.get("data", {}).get("device") == device
                      for e in self.events):
            self.events.append(json.loads(self.f.readline()))

    def __call__(self, text):
        reply = self.command("human-monitor-command", {"command-line": text})
        if "error" in reply:
            raise RuntimeError(reply["error"]["desc"])
        return reply["return"]

    def close(self):
        self.f.close()
        self.sock.close()


def main():
    sock, hmp_path, flow, workdir = sys.argv[1:5]
    qmp = QmpConnection(sock)

    def step(call, fn):
        line = {"flow": flow, "call": call, "error": None}
        try:
            result = fn()
            if result is not None:
                line["result"] = result
        except Exception as e:  # Ganeti's HypervisorError, HotplugError, QmpCommandNotSupported...
            line["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(line, sort_keys=True), flush=True)

    def session(fn):
        """An undecorated method (Execute) in a connection of its own, as
        the decorated ones (@_ensure_connection) make for themselves: Ganeti's hypervisor never
        keeps one open (each call is greeting, qmp_capabilities, query-commands, the command)."""
        def run():
            qmp.connect()
            try:
                return fn()
            finally:
                qmp.close()
        return run

    step("QmpConnection.connect() version", session(lambda: list(qmp.version[:2])))
    hmp = HMP(hmp_path)
    hmp_out = []

    def hmp_cmd(text):
        out = hmp(text)
        hmp_out.append(out)

    if flow == "probe":
        step("CheckNicHotAddSupport()", qmp.CheckNicHotAddSupport)
        step("CheckDiskHotAddSupport()", qmp.CheckDiskHotAddSupport)
        step("HasDynamicAutoReadOnly()", qmp.HasDynamicAutoReadOnly)
        step("GetFreePCISlot()", qmp.GetFreePCISlot)
        step('HasDevice("hotnic-1")', lambda: qmp.HasDevice("hotnic-1"))

    elif flow == "nic":
        fd, kind = tap_or_socket()
        nic = Device({"driver": "virtio-net-pci", "id": "hotnic-1", "bus": "rp3", "addr": "0x0"}, mac="aa:00:00:12:34:56")
        step("HotAddNic(nic, \"hotnic-1\", tapfds=[%s])" % kind, lambda: qmp.HotAddNic(nic, "hotnic-1", tapfds=[fd]))
        os.close(fd)
        step('HasDevice("hotnic-1")', lambda: qmp.HasDevice("hotnic-1"))
        step('Execute("query-pci") on rp3', session(lambda: [
            d.get("qdev_id") for bus in qmp.Execute("query-pci") for p in bus["devices"] if p.get("qdev_id") == "rp3"
            for d in (p.get("pci_bridge") or {}).get("devices", [])]))
        step('HotDelNic("hotnic-1")', lambda: qmp.HotDelNic("hotnic-1"))
        step('HotDelNic("hotnic-1") again', lambda: qmp.HotDelNic("hotnic-1"))

    elif flow == "disk":
        img = os.path.join(workdir, "gnt-disk.img")
        with open(img, "wb") as f:
            f.truncate(1 << 20)
        disk = Device({"driver": "virtio-blk-pci", "id": "hotdisk-1", "bus": "rp1", "addr": "0x0"})
        # Without Ganeti's HMP callback the monitor falls back to its pre-2.9 blockdev-add "options".
        step('HotAddDisk(disk, "hotdisk-0", IMG) (blockdev-add fallback)',
             lambda: qmp.HotAddDisk(Device(dict(disk.hvinfo, id="hotdisk-0")), "hotdisk-0", img))
        auto_ro = qmp.HasDynamicAutoReadOnly()

        def drive_add_fn(filename):  # hv_kvm's HotAddDevice: cache and aio as its defaults give them
            cmd = "drive_add dummy file=%s,if=none,id=hotdisk-1,format=raw" % filename
            if auto_ro:
                cmd += ",auto-read-only=off"
            hmp_cmd(cmd + ",cache=none,aio=threads")

        step('HotAddDisk(disk, "hotdisk-1", IMG, drive_add_fn)', lambda: qmp.HotAddDisk(disk, "hotdisk-1", img, drive_add_fn))
        step("HMP drive_add output", lambda: hmp_out[-1] if hmp_out else None)
        step('HasDevice("hotdisk-1")', lambda: qmp.HasDevice("hotdisk-1"))
        step('Execute("query-fdsets")', session(lambda: [
            {"fdset-id": s["fdset-id"], "fds": len(s["fds"])} for s in qmp.Execute("query-fdsets")]))
        step('HotDelDisk("hotdisk-1")', lambda: qmp.HotDelDisk("hotdisk-1"))
        # Ganeti sends drive_del right after device_del returns. On QEMU the drive goes when the
        # device is finalized, which may come later (RCU): drive_del then either finds it ("") or
        # not, depending on timing. The driver waits for DEVICE_DELETED first, so that both
        # targets are compared in the same, settled state.
        hmp.wait_deleted("hotdisk-1")
        step("HMP drive_del hotdisk-1", lambda: hmp("drive_del hotdisk-1"))
        step('HasDevice("hotdisk-1")', lambda: qmp.HasDevice("hotdisk-1"))

    else:
        sys.exit("ganeti driver: unknown flow %r" % flow)
    hmp.close()


if __name__ == "__main__":
    main()
