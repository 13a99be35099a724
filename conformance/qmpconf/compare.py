"""What a client saw, normalised, and compared: QEMU against qmp-mockd under the deviations, or one
target against a scenario's expectations."""
from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass, field

from .deviations import Deviation
from .scenario import Scenario, Step
from .stream import Message

MASK = "<masked>"
# QEMU's generated node names end in two random digits (id_generate): only the counter before them is compared.
GENERATED_NAME_RE = re.compile(r'#block(\d+)\d\d(?!\d)')  # in JSON strings and in HMP text
TIMESTAMP_RE = re.compile(r'"timestamp": \{"seconds": -?\d+, "microseconds": -?\d+\}')


@dataclass
class StepRecord:
    """What one target showed during one step (step 0 is connecting: greeting and negotiation)."""

    step: Step | None
    messages: list[Message] = field(default_factory=list)
    value: int | None = None


@dataclass
class Recording:
    steps: list[StepRecord]
    exit_status: int | None = None


def _project_pci(buses) -> list:
    out = []

    def walk(devices):
        for d in devices or []:
            entry = {k: d.get(k) for k in ("bus", "slot", "function", "qdev_id", "irq_pin", "id")}
            entry["class"] = (d.get("class_info") or {}).get("class")
            entry["has-irq"] = "irq" in d
            bridge = d.get("pci_bridge")
            if bridge is not None:
                entry["bridge-buses"] = {k: bridge.get("bus", {}).get(k) for k in ("number", "secondary", "subordinate")}
            out.append(entry)
            walk((bridge or {}).get("devices"))

    for bus in buses if isinstance(buses, list) else []:
        walk(bus.get("devices"))
    return out


PROJECTIONS = {
    # Every listed device, depth first: bus, slot, function, qdev_id, ids, class, interrupt pin, IRQ presence, a
    # bridge's bus numbers; not regions, IRQ lines or bridge windows.
    "pci-identity": _project_pci,
}


def _member_order(raw: str) -> str:
    """The member names of every object of a message, in wire order."""
    names: list[str] = []

    def hook(pairs):
        names.extend(k for k, _ in pairs)
        return dict(pairs)

    try:
        json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return "?"
    return ",".join(names)


def _mask_path(obj, path: list[str]) -> bool:
    """Masks the values at `path` (dotted keys; `*` stands for every member of an object or every
    element of a list); true if any was there."""
    if not path:
        return False
    key, rest = path[0], path[1:]
    if key == "*":
        children = list(obj.keys()) if isinstance(obj, dict) else range(len(obj)) if isinstance(obj, list) else []
    else:
        children = [key] if isinstance(obj, dict) and key in obj else []
    found = False
    for child in children:
        if rest:
            found = _mask_path(obj[child], rest) or found
        else:
            obj[child] = MASK
            found = True
    return found


class Normaliser:
    """Turns messages into comparable text, applying the deviations (and counting their use)."""

    def __init__(self, scenario: Scenario, deviations: list[Deviation]):
        self.scenario = scenario
        self.deviations = deviations
        self.step = 0  # the step being compared (a deviation counts once per step it applies in)
        self.request: tuple[str | None, dict | None] = (None, None)  # its command and arguments
        self.arguments: dict | None = None  # the arguments of the step's request, if any

    def use(self, d: Deviation) -> None:
        """Records that `d` applied in the step being compared."""
        d.steps.add((self.scenario.name, self.step))

    def view(self, m: Message, command: str | None) -> str:
        """The comparable text of a message under the deviations. By default member order is not
        compared; with `exact: true` a message no deviation touches is compared byte for byte (event
        timestamps masked), and a touched one by its values and its member order."""
        masked_raw = GENERATED_NAME_RE.sub(r'#block\1??', TIMESTAMP_RE.sub('"timestamp": "%s"' % MASK, m.raw))
        if m.msg is None:
            return "(not JSON) " + masked_raw
        obj = json.loads(GENERATED_NAME_RE.sub(r'#block\1??', json.dumps(m.msg)))  # json keeps 1 and 1.0 apart, as they are on the wire
        event = m.event
        if event and isinstance(obj, dict) and "timestamp" in obj:
            obj["timestamp"] = MASK
        greeting = m.is_greeting
        reply_command = None if (event or greeting) else command
        touched, keep_order = False, True
        for d in self.deviations:
            s = d.spec
            if d.kind == "mask":
                if any(d.selects(sel, reply_command, event, greeting) for sel in s["messages"]):
                    if [p for p in s["paths"] if _mask_path(obj, p.split("."))]:
                        self.use(d)
                        touched = True
            elif d.kind in ("unordered-reply", "reply-projection", "reply") and reply_command == s["command"]:
                if not isinstance(obj, dict):
                    continue
                if d.kind == "reply":
                    if "arguments" in s and not d.matches_request(reply_command, self.arguments):
                        continue
                    self.use(d)
                    return "(reply to %s: deviation %s)" % (s["command"], d.id)
                if isinstance(obj.get("return"), list):
                    self.use(d)
                    touched, keep_order = True, False
                    if d.kind == "unordered-reply":
                        obj["return"] = sorted(obj["return"], key=lambda v: json.dumps(v, sort_keys=True))
                    else:
                        obj["return"] = {"projection " + s["projection"]: PROJECTIONS[s["projection"]](obj["return"])}
        if reply_command is not None and isinstance(obj, dict) and isinstance(obj.get("return"), str):
            for d in self.deviations:
                if d.kind == "reply-text" and d.matches_request(*self.request):
                    text = obj["return"]
                    for pattern, replacement in d.spec["substitutions"]:
                        text = pattern.sub(replacement, text)
                    if text != obj["return"]:
                        self.use(d)
                        touched = True
                        obj["return"] = text
        if self.scenario.exact and not touched:
            return masked_raw
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
        if self.scenario.exact and keep_order:
            text += "  (member order: %s)" % _member_order(m.raw)
        return text

    def subset(self, q: StepRecord, k: StepRecord) -> list[Message]:
        """QEMU's messages of a step, with the members of a returned list that qmp-mockd leaves out
        removed, where a `reply-subset` deviation names the request."""
        step = q.step
        rules = [d for d in self.deviations if d.kind == "reply-subset" and step is not None
                 and d.matches_request(step.command, step.arguments)]
        mock_lists = [m.msg["return"] for m in k.messages if m.is_reply and isinstance(m.msg.get("return"), list)]
        if not rules or len(mock_lists) != 1:
            return q.messages
        kept = {json.dumps(v, sort_keys=True) for v in mock_lists[0]}
        out = []
        for m in q.messages:
            if m.is_reply and isinstance(m.msg.get("return"), list):
                values = m.msg["return"]
                subset = [v for v in values if json.dumps(v, sort_keys=True) in kept]
                if len(subset) != len(values):
                    self.use(rules[0])
                    m = Message(json.dumps(dict(m.msg, **{"return": subset})))
            out.append(m)
        return out

    def mock_only(self, m: Message) -> bool:
        for d in self.deviations:
            if d.kind == "mock-only-event" and m.event == d.spec["event"]:
                self.use(d)
                return True
        return False

    def register_deviation(self, step: Step) -> Deviation | None:
        for d in self.deviations:
            if d.kind == "register" and d.spec["scenario"] == self.scenario.name and d.spec["step"] == step.index:
                return d
        return None


def step_command(record: StepRecord) -> str | None:
    return "qmp_capabilities" if record.step is None else record.step.command


@dataclass
class Difference:
    """One step that differs: a title and the lines to print."""

    step: Step | None
    lines: list[str]


def side_by_side(left: list[str], right: list[str], left_name: str, right_name: str, width: int = 78) -> list[str]:
    def cut(s: str) -> str:
        return s if len(s) <= width else s[: width - 1] + "…"

    rows = ["    %-*s   %s" % (width, left_name, right_name)]
    sm = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        n = max(a1 - a0, b1 - b0)
        for i in range(n):
            lv = left[a0 + i] if a0 + i < a1 else ""
            rv = right[b0 + i] if b0 + i < b1 else ""
            mark = " " if op == "equal" else ("<" if not rv else (">" if not lv else "|"))
            rows.append("  %s %-*s %s %s" % (mark, width, cut(lv), mark, cut(rv)))
            if op != "equal" and lv and rv and (len(lv) > width or len(rv) > width):
                rows += _detail(lv, rv, left_name, right_name)
    return rows


def _pretty(text: str) -> list[str]:
    try:
        return json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    except ValueError:
        return [text]


def _detail(left: str, right: str, left_name: str, right_name: str) -> list[str]:
    """Where two long messages differ: a unified diff of their indented forms."""
    diff = difflib.unified_diff(_pretty(left), _pretty(right), left_name, right_name, n=3, lineterm="")
    return ["      " + line for line in diff]


def compare(scenario: Scenario, qemu: Recording, mock: Recording, deviations: list[Deviation]) -> tuple[list[Difference], dict]:
    """Step by step: messages (in order) and register values. Returns the differences and counts."""
    norm = Normaliser(scenario, deviations)
    diffs: list[Difference] = []
    counts = {"steps": 0, "messages": 0, "reads": 0}
    for q, k in zip(qemu.steps, mock.steps):
        counts["steps"] += 1
        norm.step = q.step.index if q.step else 0
        norm.request = (q.step.command, q.step.arguments) if q.step else (None, None)
        norm.arguments = q.step.arguments if q.step else None
        command = step_command(q)
        q_messages = norm.subset(q, k)
        left_msgs = list(q_messages)
        right_msgs = [m for m in k.messages if not norm.mock_only(m)]
        if q.step is not None and q.step.any_order:
            # The reply (and the step's floating events) may stand anywhere among the step's events;
            # the other events keep their order.
            floating = set(q.step.floating)

            def settle(msgs):
                loose = [m for m in msgs if m.is_reply or m.event in floating]
                kept = [m for m in msgs if not (m.is_reply or m.event in floating)]
                return kept + sorted(loose, key=lambda m: (m.is_reply, m.event or ""))

            left_msgs, right_msgs = settle(left_msgs), settle(right_msgs)
        left = [norm.view(m, command) for m in left_msgs]
        right = [norm.view(m, command) for m in right_msgs]
        counts["messages"] += max(len(left), len(right))
        lines = []
        if left != right:
            lines += side_by_side(left, right, "QEMU", "qmp-mockd")
        if q.value is not None or k.value is not None:
            counts["reads"] += 1
            if q.value != k.value:
                d = norm.register_deviation(q.step)
                if d is not None:
                    norm.use(d)
                else:
                    lines.append("    guest read: QEMU 0x%x, qmp-mockd 0x%x" % (q.value or 0, k.value or 0))
        if lines:
            diffs.append(Difference(q.step, lines))
    if qemu.exit_status != mock.exit_status:
        diffs.append(Difference(None, ["    exit status: QEMU %s, qmp-mockd %s" % (qemu.exit_status, mock.exit_status)]))
    return diffs, counts


def check_expectations(scenario: Scenario, rec: Recording, who: str) -> tuple[list[Difference], int]:
    """A target against the `expect` of each step (events without their timestamp)."""
    diffs, checked = [], 0
    for r in rec.steps:
        step = r.step
        if step is None:
            continue
        if step.expect is not None:
            checked += 1
            got = []
            for m in r.messages:
                obj = copy.deepcopy(m.msg) if m.msg is not None else "(not JSON) " + m.raw
                if isinstance(obj, dict) and m.event:
                    obj.pop("timestamp", None)
                got.append(json.dumps(obj, sort_keys=True, ensure_ascii=False))
            want = [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in step.expect]
            if got != want:
                diffs.append(Difference(step, side_by_side(want, got, "expected", who)))
        if step.expect_value is not None:
            checked += 1
            if r.value != step.expect_value:
                diffs.append(Difference(step, ["    guest read: expected 0x%x, %s 0x%x" % (
                    step.expect_value, who, r.value or 0)]))
    if rec.steps and rec.steps[-1].step is not None and rec.steps[-1].step.eof and rec.exit_status != 0:
        diffs.append(Difference(None, ["    exit status: %s %s, expected 0" % (who, rec.exit_status)]))
    return diffs, checked
