"""A QMP connection as a test client sees it: every line the server sends, in order, parsed where
possible; waiting is always for something (a number of replies, named events, the end of the
connection) with a deadline, never for a fixed time."""
from __future__ import annotations

import fcntl
import json
import os
import select
import socket
import struct
import termios
import threading
import time
from collections import Counter

WAIT_SECONDS = 15.0


class StreamTimeout(Exception):
    pass


def parse_line(text: str):
    """The message of one line, or None when it is not JSON (QEMU writes `inf` for 1e400)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def connect_unix(path: str, alive=None, timeout: float = WAIT_SECONDS) -> socket.socket:
    """A stream connection to `path`, retried while the server is still coming up (`alive()` says
    whether it still can): QEMU says nowhere when its sockets listen."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if alive is not None and not alive():
                raise StreamTimeout("the server exited before %s accepted connections" % path) from None
            if time.monotonic() > deadline:
                raise StreamTimeout("%s never accepted a connection" % path) from None
            time.sleep(0.001)  # nothing to wait on but the socket itself


class Message:
    """One line from the server."""

    __slots__ = ("raw", "msg")

    def __init__(self, raw: str):
        self.raw = raw
        self.msg = parse_line(raw)

    @property
    def is_reply(self) -> bool:
        return isinstance(self.msg, dict) and ("return" in self.msg or "error" in self.msg)

    @property
    def is_greeting(self) -> bool:
        return isinstance(self.msg, dict) and "QMP" in self.msg

    @property
    def event(self) -> str | None:
        if isinstance(self.msg, dict) and isinstance(self.msg.get("event"), str):
            return self.msg["event"]
        if self.msg is None and '"event": "' in self.raw:
            return self.raw.split('"event": "', 1)[1].split('"', 1)[0]
        return None

    @property
    def is_reply_like(self) -> bool:
        """A reply, or an unparseable line that is not an event (QEMU's `"id": inf` replies)."""
        return self.is_reply or (self.msg is None and self.event is None)


class QMPStream:
    """Reads one QMP socket on a thread; `messages` grows in arrival order."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.messages: list[Message] = []
        self.eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @staticmethod
    def connect(path: str, alive=None, timeout: float = WAIT_SECONDS) -> "QMPStream":
        return QMPStream(connect_unix(path, alive, timeout))

    @staticmethod
    def negotiated(path: str, alive=None) -> "QMPStream":
        """A connection to `path` past the greeting and `qmp_capabilities`."""
        stream = QMPStream.connect(path, alive)
        try:
            stream.greeting()
            stream.command("qmp_capabilities")
        except BaseException:
            stream.close()
            raise
        return stream

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                select.select([self.sock], [], [])
            except (OSError, ValueError):
                pass  # closed: recv says so
            with self._cond:
                # Received and kept under the lock, so `drain` finds every byte in one place or the other.
                try:
                    chunk = self.sock.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    if buf.strip():
                        self.messages.append(Message(buf.decode("utf-8", "backslashreplace")))
                    self.eof = True
                    self._cond.notify_all()
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    text = line.decode("utf-8", "backslashreplace")
                    if text.endswith("\r"):
                        text = text[:-1]
                    self.messages.append(Message(text))
                self._cond.notify_all()

    def send(self, data: bytes, fds: int = 0, files: tuple = ()) -> None:
        """Sends `data`; with `fds`, that many new descriptors of /dev/null go with its first byte
        (SCM_RIGHTS), or with `files` ((path, flags) pairs) a descriptor of each file opened so;
        they are closed here once sent."""
        if not fds and not files:
            self.sock.sendall(data)
            return
        if files:
            passed = [os.open(path, flags | os.O_CLOEXEC) for path, flags in files]
        else:
            passed = [os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC) for _ in range(fds)]
        try:
            sent = socket.send_fds(self.sock, [data], passed)
        finally:
            for fd in passed:
                os.close(fd)
        self.sock.sendall(data[sent:])

    def wait(self, predicate, what: str, timeout: float = WAIT_SECONDS) -> None:
        """Blocks until `predicate(messages, eof)` holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages, self.eof):
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    got = [m.raw[:120] for m in self.messages[-5:]]
                    raise StreamTimeout("waiting for %s%s; last lines: %s" % (
                        what, " (connection closed)" if self.eof else "", got))
                self._cond.wait(left)

    def drain(self) -> None:
        """Blocks until the bytes the socket already received are in `messages` (the server has
        written them: it said so on another connection)."""

        def unread() -> int:
            return struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]

        self.wait(lambda msgs, eof: eof or unread() == 0, "the lines already sent")

    def greeting(self) -> None:
        """Blocks until the first message (the greeting) arrived."""
        self.wait(lambda msgs, eof: len(msgs) >= 1, "greeting")

    def wait_for(self, start: int, replies: int, events: list[str], eof: bool, any_order: bool = False) -> None:
        """Waits until, counting from message `start`, `replies` replies and the named events (in
        that order, or in any order with `any_order`) arrived, and the connection closed if `eof`."""

        def done(msgs: list[Message], closed: bool) -> bool:
            new = msgs[start:]
            if sum(1 for m in new if m.is_reply_like) < replies:
                return False
            if any_order:
                # A step whose events may come in any order (QEMU's order moves with its timing, as
                # the comparison allows) waits for all of them, whatever came first.
                arrived = Counter(m.event for m in new if m.event)
                if any(arrived[name] < count for name, count in Counter(events).items()):
                    return False
            else:
                it = iter(m.event for m in new if m.event)
                if not all(any(e == name for e in it) for name in events):
                    return False
            return closed or not eof

        what = "%d repl%s%s%s" % (replies, "y" if replies == 1 else "ies",
                                  (" and " + ", ".join(events)) if events else "", " and EOF" if eof else "")
        self.wait(done, what)

    def request(self, execute: str, arguments: dict | None = None) -> dict:
        """Sends a command and returns its reply (events on the way are kept but skipped)."""
        start = len(self.messages)
        msg = {"execute": execute}
        if arguments is not None:
            msg["arguments"] = arguments
        self.send((json.dumps(msg) + "\n").encode())
        self.wait_for(start, 1, [], False)
        reply = next(m for m in self.messages[start:] if m.is_reply)
        return reply.msg

    def command(self, execute: str, arguments: dict | None = None):
        reply = self.request(execute, arguments)
        if "error" in reply:
            raise RuntimeError("%s: %s" % (execute, reply["error"].get("desc")))
        return reply["return"]

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(2)
