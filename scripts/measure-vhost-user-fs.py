#!/usr/bin/env python3
"""Measures vhost-user-fs-pci's PCI identity on a real QEMU, which realizes the device only when a
vhost-user back-end answers on its chardev. The back-end here is the least that lets realize pass:
it answers GET_FEATURES (VERSION_1 and PROTOCOL_FEATURES), GET_PROTOCOL_FEATURES
(CONFIGURE_MEM_SLOTS), GET_QUEUE_NUM and GET_MAX_MEM_SLOTS, and takes every other message
(SET_OWNER, SET_VRING_CALL, ...) without a word. Nothing runs the device; only query-pci is read.

    scripts/measure-vhost-user-fs.py [QEMU]      # default qemu-system-x86_64; prints query-pci's entry

(vhost-vsock-pci cannot be measured so: it needs the kernel's /dev/vhost-vsock.)"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# message id -> the u64 answer (vhost-user protocol: GET_FEATURES 1, GET_PROTOCOL_FEATURES 15,
# GET_QUEUE_NUM 17, GET_MAX_MEM_SLOTS 36)
ANSWERS = {1: 1 << 32 | 1 << 30, 15: 1 << 15, 17: 1, 36: 509}


def back_end(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    while True:
        header, fds, _, _ = socket.recv_fds(conn, 12, 8)
        if not header:
            return
        while len(header) < 12:
            header += conn.recv(12 - len(header))
        request, _, size = struct.unpack("<III", header)
        payload = b""
        while len(payload) < size:
            payload += conn.recv(size - len(payload))
        for fd in fds:
            os.close(fd)
        if request in ANSWERS:
            conn.sendall(struct.pack("<IIIQ", request, 0x5, 8, ANSWERS[request]))  # version 1, reply


def main() -> None:
    qemu = sys.argv[1] if len(sys.argv) > 1 else "qemu-system-x86_64"
    with tempfile.TemporaryDirectory() as tmp:
        vu, qmp = os.path.join(tmp, "vu.sock"), os.path.join(tmp, "qmp.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(vu)
        listener.listen(1)
        threading.Thread(target=back_end, args=(listener,), daemon=True).start()
        proc = subprocess.Popen([
            qemu, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-display", "none", "-S", "-m", "256M",
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-numa", "node,memdev=mem",
            "-qmp", "unix:%s,server=on,wait=off" % qmp, "-chardev", "socket,id=c0,path=%s" % vu,
            "-device", "vhost-user-fs-pci,id=fs0,chardev=c0,tag=t,bus=pcie.0,addr=06.0"])
        try:
            for _ in range(500):
                if os.path.exists(qmp):
                    break
                time.sleep(0.01)
            s = socket.socket(socket.AF_UNIX)
            s.connect(qmp)
            f = s.makefile("rw")
            f.readline()
            for command in ("qmp_capabilities", "query-pci"):
                f.write(json.dumps({"execute": command}) + "\n")
                f.flush()
                reply = json.loads(f.readline())
            for device in reply["return"][0]["devices"]:
                if device.get("qdev_id") == "fs0":
                    device.pop("regions", None)
                    print(json.dumps(device, sort_keys=True))
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
