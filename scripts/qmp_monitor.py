"""A minimal blocking QMP client (stdlib only), and where the QEMU binaries are, shared by the
scripts that record answers from real QEMU binaries (record-qmp-schema.py, record-probe.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The releases recorded from: Debian's 7.2, and 10.0 unpacked by scripts/get-qemu10.sh.
QEMU72 = Path("/usr/bin/qemu-system-x86_64")
QEMU10 = REPO / ".build-qemu10" / "usr" / "bin" / "qemu-system-x86_64"


class Monitor:
    """One negotiated-or-not QMP connection; replies are read past any events."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.greeting = self.read()

    @classmethod
    def wait_for(cls, path: str, process: subprocess.Popen, name: str, seconds: float = 30) -> "Monitor":
        """Connects once `process` listens on `path` (QEMU creates it with wait=off)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                return cls(path)
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{name} did not open its monitor")
                time.sleep(0.02)  # QEMU offers no readiness signal before the socket exists

    def read(self) -> dict:
        line = self.reader.readline()
        if not line:
            raise RuntimeError("QEMU closed the monitor")
        return json.loads(line)

    def send(self, message: dict) -> dict:
        """Sends one request and returns its reply (`return` or `error`)."""
        self.sock.sendall(json.dumps(message).encode())
        while True:
            reply = self.read()
            if "return" in reply or "error" in reply:
                return reply

    def execute(self, command: str) -> dict:
        return self.send({"execute": command})
