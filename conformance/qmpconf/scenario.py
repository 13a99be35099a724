"""Scenario files: loading and validation (the format is documented in README.md)."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

import yaml

from .machine import MachineSpec


class ScenarioError(Exception):
    """A scenario file that cannot be run as written."""


class _StepLoader(yaml.SafeLoader):
    """YAML with JSON-like scalars: only true/false are booleans (`on`, `off`, `yes` stay strings),
    so QMP arguments mean what they say."""


_StepLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

TARGETS = ("qemu", "mockd")
PCIE_REGISTERS = {  # name -> (offset from the PCI Express capability, size)
    "slot-capabilities": (0x14, 4),
    "slot-control": (0x18, 2),
    "slot-status": (0x1A, 2),
    "link-status": (0x12, 2),
}
SHPC_STATES = {None: 0, "power-only": 1, "enabled": 2, "disabled": 3}
SHPC_LEDS = {None: 0, "on": 1, "blink": 2, "off": 3}
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


@dataclass
class Step:
    """One step: what is done, and what is waited for and checked."""

    index: int
    kind: str  # qmp | raw | read | write | advance | reconnect
    line: int
    data: bytes = b""  # qmp, raw: the bytes sent
    fds: int = 0  # qmp, raw: descriptors (of /dev/null) passed with the bytes (SCM_RIGHTS)
    fd_files: tuple = ()  # qmp, raw: or instead (name, os.open flags): files of the target's directory to pass
    command: str | None = None  # qmp: the command name (selectors of deviations)
    arguments: dict | None = None  # qmp: the command's arguments
    replies: int = 0  # replies (return/error) the step waits for
    events: list[str] = field(default_factory=list)  # events the step waits for, in order
    eof: bool = False  # the step waits for the server to close the connection
    any_order: bool = False  # QEMU sends the reply before or after the step's events: it may stand anywhere
    floating: list[str] = field(default_factory=list)  # with any-order: events that, like the reply, may stand anywhere
    access: dict = field(default_factory=dict)  # read / write: the guest access
    ms: float = 0.0  # advance
    expect: list | None = None  # messages the step must see (mockd-only scenarios, or a check on both)
    expect_value: int | None = None  # read: the value
    note: str = ""

    def title(self) -> str:
        if self.kind in ("qmp", "raw"):
            text = self.data.decode("utf-8", "backslashreplace")
            if len(text) > 90:
                text = text[:87] + "..."
            return "%s %s" % ("send" if self.kind == "qmp" else "raw ", text.rstrip("\n").replace("\n", "\\n"))
        if self.kind == "advance":
            return "advance %g ms" % self.ms
        if self.kind == "reconnect":
            return "reconnect (close, connect, greeting, qmp_capabilities)"
        return "%s %s" % (self.kind, json.dumps(self.access, sort_keys=True))


@dataclass
class Scenario:
    """A scenario file: the machine, how it starts, and the steps."""

    name: str
    path: str
    description: str
    machine: MachineSpec
    targets: tuple[str, ...]
    running: bool
    negotiate: bool
    exact: bool
    steps: list[Step]
    qemu_version: str | None = None  # qmp-mockd's profile when QEMU does not take part
    second_monitor: bool = True  # the runner's own monitor client stays connected beside the scenario's
    no_shutdown: bool = False  # QEMU -no-shutdown, qmp-mockd --no-shutdown: a guest power-off stops the VM
    files: tuple = ()  # (name, kind, size): files made in each target's directory before it starts


def duration_ms(value, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = DURATION_RE.match(str(value))
    if not m:
        raise ScenarioError("%s: duration %r is not like 250ms, 5s or 1.5s" % (where, value))
    return float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


def _int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ScenarioError("%s: %r is not an integer" % (where, value))
    try:
        return value if isinstance(value, int) else int(value, 0)
    except ValueError:
        raise ScenarioError("%s: %r is not an integer" % (where, value)) from None


def _only(mapping: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(mapping) - allowed)
    if extra:
        raise ScenarioError("%s: unknown key%s %s (allowed: %s)" % (
            where, "s" if len(extra) > 1 else "", ", ".join(extra), ", ".join(sorted(allowed))))


STEP_KINDS = ("qmp", "raw", "raw-hex", "read", "write", "shpc-command", "advance", "reconnect")
COMMON_KEYS = {"replies", "events", "eof", "expect", "note", "fds", "any-order", "floating"}


def _guest_access(kind: str, spec, where: str) -> dict:
    if not isinstance(spec, dict):
        raise ScenarioError("%s: %s needs a mapping" % (where, kind))
    if kind == "shpc-command":
        _only(spec, {"bridge", "slot", "state", "power-led", "attention-led", "code"}, where)
        if "bridge" not in spec or "slot" not in spec:
            raise ScenarioError("%s: shpc-command needs bridge and slot" % where)
        if "code" in spec:
            code = _int(spec["code"], where)
        else:
            for key, table in (("state", SHPC_STATES), ("power-led", SHPC_LEDS), ("attention-led", SHPC_LEDS)):
                if spec.get(key) not in table:
                    raise ScenarioError("%s: %s must be one of %s" % (where, key, ", ".join(k for k in table if k)))
            code = (SHPC_STATES[spec.get("state")] | SHPC_LEDS[spec.get("power-led")] << 2
                    | SHPC_LEDS[spec.get("attention-led")] << 4)
        return {"op": "shpc-command", "bridge": str(spec["bridge"]), "slot": _int(spec["slot"], where),
                "code": code}
    if "io" in spec or "config" in spec:
        # An I/O port (qtest inb/outl; guest-read/guest-write with port) or configuration space by
        # address (0xcf8/0xcfc; guest-read/guest-write with config), as firmware and ACPI guests use.
        keys = {"io", "size", "value"} if "io" in spec else {"config", "offset", "size", "value"}
        _only(spec, keys, where)
        access = {"op": kind, "size": _int(spec.get("size", 4), where)}
        if access["size"] not in (1, 2, 4):
            raise ScenarioError("%s: size must be 1, 2 or 4" % where)
        if "io" in spec:
            access["io"] = _int(spec["io"], where)
            if not 0 <= access["io"] <= 0xFFFF:
                raise ScenarioError("%s: io is a port 0 to 0xffff" % where)
        else:
            parts = str(spec["config"]).replace(".", ":").split(":")
            try:
                bus, slot, function = (int(p, 16) for p in parts)
            except ValueError:
                bus = -1
            if len(parts) != 3 or not (0 <= bus <= 255 and 0 <= slot <= 31 and 0 <= function <= 7):
                raise ScenarioError("%s: config is a PCI address BB:DD.F (00:1f.0)" % where)
            access["config"] = (bus, slot << 3 | function)
            access["config_text"] = "%02x:%02x.%x" % (bus, slot, function)
            access["offset"] = _int(spec.get("offset", 0), where)
    elif "port" in spec:
        _only(spec, {"port", "register", "value"}, where)
        reg = spec.get("register")
        if reg not in PCIE_REGISTERS:
            raise ScenarioError("%s: register must be one of %s" % (where, ", ".join(PCIE_REGISTERS)))
        if kind == "write" and reg not in ("slot-control", "slot-status"):
            raise ScenarioError("%s: a guest writes slot-control or slot-status" % where)
        access = {"op": kind, "port": str(spec["port"]), "register": reg}
    elif "bridge" in spec:
        _only(spec, {"bridge", "slot", "offset", "size", "window", "value"}, where)
        access = {"op": kind, "bridge": str(spec["bridge"])}
        chosen = [k for k in ("slot", "offset", "window") if k in spec]
        if len(chosen) != 1:
            raise ScenarioError("%s: an SHPC access names exactly one of slot, offset, window" % where)
        if "slot" in spec:
            if kind == "write":
                raise ScenarioError("%s: write a slot register with offset (0x24 + 4 x (slot - 1))" % where)
            access["offset"], access["size"] = 0x24 + 4 * (_int(spec["slot"], where) - 1), 4
        elif "offset" in spec:
            access["offset"], access["size"] = _int(spec["offset"], where), _int(spec.get("size", 4), where)
            if access["size"] not in (1, 2, 4):
                raise ScenarioError("%s: size must be 1, 2 or 4" % where)
        else:
            access["window"] = _int(spec["window"], where)
    elif "device" in spec:
        if kind == "write":
            raise ScenarioError("%s: endpoints are only read (their vendor/device dword)" % where)
        _only(spec, {"device"}, where)
        access = {"op": kind, "device": str(spec["device"])}
    else:
        raise ScenarioError("%s: a guest access names io, config, a port, a bridge or a device" % where)
    if kind == "write":
        if "value" not in spec:
            raise ScenarioError("%s: write needs value" % where)
        access["value"] = _int(spec["value"], where)
    elif "value" in spec:
        raise ScenarioError("%s: a read has no value (use expect)" % where)
    return access


FD_ACCESS = {"rw": os.O_RDWR, "ro": os.O_RDONLY, "wo": os.O_WRONLY}


def _fd_file(spec, where: str) -> tuple[str, int]:
    """One entry of a list `fds`: `{file: NAME, access: rw|ro|wo, direct: true}`, a file of the
    scenario's `files` (in the target's directory), opened with that access mode (read-write by
    default), and with O_DIRECT when `direct` is true."""
    if not isinstance(spec, dict) or not isinstance(spec.get("file"), str) or "/" in spec["file"]:
        raise ScenarioError("%s: an fds entry is {file: NAME, access: rw|ro|wo}, NAME a plain file name" % where)
    _only(spec, {"file", "access", "direct"}, where + ": fds")
    access = spec.get("access", "rw")
    if access not in FD_ACCESS:
        raise ScenarioError("%s: fds access is one of %s" % (where, ", ".join(FD_ACCESS)))
    if not isinstance(spec.get("direct", False), bool):
        raise ScenarioError("%s: fds direct is true or false" % where)
    return spec["file"], FD_ACCESS[access] | (os.O_DIRECT if spec.get("direct") else 0)


def _step(index: int, raw, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError("%s: a step is a mapping" % where)
    kinds = [k for k in STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise ScenarioError("%s: a step has exactly one of %s" % (where, ", ".join(STEP_KINDS)))
    kind = kinds[0]
    _only(raw, {kind} | COMMON_KEYS, where)
    line = getattr(raw, "line", 0)
    step = Step(index=index, kind=kind, line=line, note=str(raw.get("note", "")))
    if kind == "qmp":
        msg = raw["qmp"]
        if not isinstance(msg, dict):
            raise ScenarioError("%s: qmp is a JSON object (use raw for anything else)" % where)
        step.data = (json.dumps(msg) + "\n").encode()
        step.command = msg.get("execute") or msg.get("exec-oob")
        step.arguments = msg.get("arguments") if isinstance(msg.get("arguments"), dict) else None
        step.replies = 1
    elif kind in ("raw", "raw-hex"):
        if kind == "raw":
            step.data = str(raw["raw"]).encode("utf-8")
        else:
            try:
                step.data = bytes.fromhex(str(raw["raw-hex"]).replace(" ", ""))
            except ValueError:
                raise ScenarioError("%s: raw-hex is not hexadecimal" % where) from None
        step.kind = "raw"
        try:
            obj = json.loads(step.data)
            if isinstance(obj, dict):
                name = obj.get("execute", obj.get("exec-oob"))
                step.command = name if isinstance(name, str) else None
        except (ValueError, RecursionError):
            pass
        step.replies = 1
    elif kind == "advance":
        step.ms = duration_ms(raw["advance"], where)
    elif kind == "reconnect":
        if raw["reconnect"] is not True:
            raise ScenarioError("%s: reconnect takes true" % where)
        step.replies = 1  # the reply to qmp_capabilities on the new connection
    else:
        step.kind = "write" if kind == "shpc-command" else kind
        step.access = _guest_access(kind, raw[kind], where)
    if "fds" in raw:
        if kind not in ("qmp", "raw", "raw-hex"):
            raise ScenarioError("%s: fds belongs to qmp and raw steps" % where)
        if isinstance(raw["fds"], list):
            step.fd_files = tuple(_fd_file(f, where) for f in raw["fds"])
            step.fds = len(step.fd_files)
        else:
            step.fds = _int(raw["fds"], where)
        if not 0 <= step.fds <= 16:
            raise ScenarioError("%s: fds is 0 to 16" % where)
    if "replies" in raw:
        if kind not in ("qmp", "raw", "raw-hex"):
            raise ScenarioError("%s: replies belongs to qmp and raw steps" % where)
        step.replies = _int(raw["replies"], where)
    events = raw.get("events", [])
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ScenarioError("%s: events is a list of event names" % where)
    step.events = events
    step.eof = bool(raw.get("eof", False))
    step.any_order = bool(raw.get("any-order", False))
    floating = raw.get("floating", [])
    if not isinstance(floating, list) or not all(isinstance(e, str) for e in floating):
        raise ScenarioError("%s: floating is a list of event names" % where)
    if floating and not step.any_order:
        raise ScenarioError("%s: floating needs any-order" % where)
    step.floating = floating
    if "expect" in raw:
        if step.kind == "read":
            step.expect_value = _int(raw["expect"], where)
        else:
            exp = raw["expect"]
            if not isinstance(exp, list):
                raise ScenarioError("%s: expect is the list of messages the step sees" % where)
            step.expect = exp
    return step


class _LineLoader(_StepLoader):
    """Remembers the line of every mapping (for error messages)."""


class _LineDict(dict):
    line = 0


def _construct_mapping(loader, node):
    d = _LineDict(loader.construct_mapping(node, deep=True))
    d.line = node.start_mark.line + 1
    return d


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

TOP_KEYS = {"description", "machine", "targets", "run", "negotiate", "exact", "qemu-version", "second-monitor", "steps", "files",
            "no-shutdown"}


def load(path: str, machines_dir: str) -> Scenario:
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        doc = yaml.load(text, Loader=_LineLoader)
        text_doc = yaml.load(text, Loader=yaml.BaseLoader)  # the machine, with every scalar as written
    except yaml.YAMLError as e:
        raise ScenarioError("%s: %s" % (path, e)) from None
    if not isinstance(doc, dict):
        raise ScenarioError("%s: a scenario is a mapping" % path)
    _only(doc, TOP_KEYS, path)
    targets = doc.get("targets", list(TARGETS))
    if not isinstance(targets, list) or not targets or any(t not in TARGETS for t in targets):
        raise ScenarioError("%s: targets is a list of %s" % (path, ", ".join(TARGETS)))
    run = doc.get("run", "paused")
    if run not in ("paused", "running"):
        raise ScenarioError("%s: run is paused (QEMU -S, qmp-mockd --paused) or running" % path)
    machine = MachineSpec.from_yaml(text_doc.get("machine", "oracle-q35"), machines_dir, path)
    if machine.guest is not None and "qemu" in targets:
        raise ScenarioError("%s: a guest section (simulated guest) only works with targets: [mockd]" % path)
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError("%s: steps is a non-empty list" % path)
    steps = []
    for i, raw in enumerate(raw_steps, 1):
        where = "%s: step %d%s" % (path, i, " (line %d)" % raw.line if getattr(raw, "line", 0) else "")
        steps.append(_step(i, raw, where))
    for s in steps[:-1]:
        if s.eof:
            raise ScenarioError("%s: step %d waits for the end of the connection; nothing may follow" % (path, s.index))
    if targets == ["mockd"]:
        for s in steps:
            if s.kind in ("qmp", "raw") and s.expect is None and not s.eof:
                raise ScenarioError(
                    "%s: step %d: a scenario without QEMU says what each message step expects" % (path, s.index))
    files = []
    for f in doc.get("files") or []:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or "/" in f["name"]:
            raise ScenarioError("%s: each files entry has a plain name" % path)
        _only(f, {"name", "size", "qcow2"}, path + ": files")
        kind = "qcow2" if "qcow2" in f else "raw"
        files.append((f["name"], kind, _int(f.get("qcow2", f.get("size", 0)), path + ": files")))
    version = doc.get("qemu-version")
    if version is not None and "qemu" in targets:
        raise ScenarioError("%s: qemu-version chooses qmp-mockd's profile for targets: [mockd] only "
                            "(against QEMU the profile follows the QEMU binary)" % path)
    return Scenario(name=name, path=path, qemu_version=None if version is None else str(version), description=str(doc.get("description", "")).strip(), machine=machine,
                    targets=tuple(targets), running=run == "running", negotiate=bool(doc.get("negotiate", True)),
                    exact=bool(doc.get("exact", False)), steps=steps,
                    second_monitor=bool(doc.get("second-monitor", True)), files=tuple(files),
                    no_shutdown=bool(doc.get("no-shutdown", False)))
