"""The machine of a scenario, in the vocabulary of qmp-mockd's configuration files, turned into a
QEMU command line and a qmp-mockd configuration file."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import yaml

ROOT_BUS = {"q35": "pcie.0", "pc": "pci.0"}
# The board's options, as both sides spell them: globals decide ACPI or native PCI hot-plug (a
# machine without `globals` gets QEMU's default, ACPI), smp and memory shape CPU and DIMM hot-plug.
BOARD_KEYS = ("accel", "smp", "memory", "globals")


def kvm_usable() -> bool:
    """Whether this host can run QEMU with -accel kvm (CPU scenarios prefer it; TCG otherwise)."""
    return os.access("/dev/kvm", os.R_OK | os.W_OK)
_PLAIN = re.compile(r"^[A-Za-z0-9_.:/+-]+$")


class MachineError(Exception):
    pass


@dataclass
class Node:
    """A cold-plugged controller or device: its id, driver, parent bus and properties (as text)."""

    id: str | None
    driver: str
    bus: str
    props: dict
    controller: bool


@dataclass
class MachineSpec:
    kind: str
    nodes: list[Node]
    guest: dict | None
    source: dict

    @staticmethod
    def from_yaml(value, machines_dir: str, where: str) -> "MachineSpec":
        if isinstance(value, str):
            path = os.path.join(machines_dir, value + ".yaml")
            if not os.path.exists(path):
                raise MachineError("%s: machine %r: no file %s" % (where, value, path))
            with open(path, encoding="utf-8") as f:
                value = yaml.load(f, Loader=yaml.BaseLoader)
        if not isinstance(value, dict):
            raise MachineError("%s: machine is a name in config/ or a mapping" % where)
        unknown = set(value) - {"machine", "controllers", "devices", "guest", *BOARD_KEYS}
        if unknown:
            raise MachineError("%s: machine: unknown keys %s (catalog additions exist only in qmp-mockd)"
                               % (where, ", ".join(sorted(unknown))))
        kind = value.get("machine", "q35")
        if kind not in ROOT_BUS:
            raise MachineError("%s: machine type %r (q35 or pc)" % (where, kind))
        nodes = []
        for section, controller in (("controllers", True), ("devices", False)):
            for entry in value.get(section, []) or []:
                if not isinstance(entry, dict) or "driver" not in entry:
                    raise MachineError("%s: every %s entry has a driver" % (where, section))
                props = {k: v for k, v in entry.items() if k not in ("driver", "id", "bus")}
                nodes.append(Node(entry.get("id"), entry["driver"], entry.get("bus", ROOT_BUS[kind]), props,
                                  controller))
        globals_ = value.get("globals") or []
        if not isinstance(globals_, list) or not all(isinstance(g, str) for g in globals_):
            raise MachineError("%s: globals is a list of DRIVER.PROPERTY=VALUE" % where)
        for key in ("smp", "memory"):
            if key in value and not isinstance(value[key], dict):
                raise MachineError("%s: %s is a mapping of -%s's options" % (where, key, "m" if key == "memory" else key))
        if value.get("accel", "kvm") not in ("kvm", "tcg"):
            raise MachineError("%s: accel is kvm or tcg" % where)
        return MachineSpec(kind, nodes, value.get("guest"), value)

    @property
    def accel(self) -> str:
        """The accelerator both sides run: the machine's (kvm unless it says tcg), but tcg where this
        host cannot run KVM — the scenario then compares TCG behaviour (the runner reports which)."""
        wanted = self.source.get("accel", "kvm")
        return "kvm" if wanted == "kvm" and kvm_usable() else "tcg"

    @property
    def root_bus(self) -> str:
        return ROOT_BUS[self.kind]

    def qemu_args(self) -> list[str]:
        args = ["-machine", self.kind]
        for n in self.nodes:
            opts = [n.driver] + (["id=" + n.id] if n.id else []) + ["bus=" + n.bus]
            opts += ["%s=%s" % (k, v) for k, v in n.props.items()]
            args += ["-device", ",".join(opts)]
        if "smp" in self.source:
            args += ["-smp", ",".join("%s=%s" % kv for kv in self.source["smp"].items())]
        if "memory" in self.source:
            args += ["-m", ",".join("%s=%s" % kv for kv in self.source["memory"].items())]
        for g in self.source.get("globals") or []:
            args += ["-global", g]
        return args

    def mockd_config(self) -> str:
        """The machine as a qmp-mockd configuration file (scalars kept as written)."""
        lines = ["machine: " + self.kind, "accel: " + self.accel]
        for key in ("smp", "memory", "globals"):
            if key in self.source:
                lines.append(key + ": " + _flow(self.source[key]))
        for section in ("controllers", "devices"):
            entries = self.source.get(section) or []
            if entries:
                lines.append(section + ":")
                lines += ["  - " + _flow(e) for e in entries]
        # Without a guest section the runner is the guest: the simulated one does nothing at all.
        lines.append("guest: " + _flow(self.guest if self.guest is not None else {"persona": "manual"}))
        return "\n".join(lines) + "\n"

    def bridges(self) -> list[Node]:
        return [n for n in self.nodes if n.controller and n.id]


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (k, _flow(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
