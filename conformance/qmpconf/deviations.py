"""docs/deviations.md: every intended difference between qmp-mockd and real QEMU, each as a fenced
```deviation block (YAML) under a heading that explains it. The runner applies exactly these; a
difference no block explains fails, and a block that no scenario needs fails too (the list stays true).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

BLOCK_RE = re.compile(r"^```deviation\s*\n(.*?)^```\s*$", re.S | re.M)
KINDS = {
    "mask": {"messages", "paths"},  # values at these paths are not compared
    "mock-only-event": {"event"},  # an event QEMU does not have (it is checked against expectations instead)
    "unordered-reply": {"command"},  # the returned list is compared as a multiset
    "reply-projection": {"command", "projection"},  # only a named projection of the reply is compared
    "reply": {"command"},  # the whole reply differs (commands qmp-mockd does not implement)
    "reply-subset": {"command", "arguments"},  # qmp-mockd returns a sub-multiset of QEMU's list
    "reply-text": {"command", "arguments", "substitutions"},  # a returned text, rewritten on both sides
    "register": {"scenario", "step"},  # the value the guest reads at that step differs
}
OPTIONAL = {"reply": {"arguments"}}  # reply: only for requests whose arguments match (as reply-subset)


class DeviationError(Exception):
    pass


@dataclass
class Deviation:
    id: str
    kind: str
    reason: str
    spec: dict
    line: int
    steps: set = field(default_factory=set)  # (scenario, step) pairs it applied in

    @property
    def applied(self) -> int:
        """The number of steps it applied in."""
        return len(self.steps)

    @property
    def scenarios(self) -> set:
        return {scenario for scenario, _ in self.steps}

    def matches_request(self, command: str | None, arguments: dict | None) -> bool:
        """Whether a request is the one this deviation names (`arguments`: a regular expression
        per argument, matched against its whole text)."""
        if command != self.spec.get("command"):
            return False
        for name, pattern in (self.spec.get("arguments") or {}).items():
            value = (arguments or {}).get(name)
            if not isinstance(value, str) or not re.fullmatch(str(pattern), value):
                return False
        return True

    @staticmethod
    def selects(selector: str, command: str | None, event: str | None, greeting: bool) -> bool:
        if selector == "greeting":
            return greeting
        if selector.startswith("reply:"):
            return command == selector[6:] and event is None and not greeting
        if selector.startswith("event:"):
            return event == selector[6:]
        return False


def load(path: str) -> list[Deviation]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out, ids = [], set()
    for m in BLOCK_RE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        where = "%s:%d" % (path, line)
        try:
            spec = yaml.safe_load(m.group(1))
        except yaml.YAMLError as e:
            raise DeviationError("%s: %s" % (where, e)) from None
        if not isinstance(spec, dict):
            raise DeviationError("%s: a deviation block is a mapping" % where)
        for key in ("id", "kind", "reason"):
            if not spec.get(key):
                raise DeviationError("%s: a deviation has %s" % (where, key))
        kind = spec["kind"]
        if kind not in KINDS:
            raise DeviationError("%s: kind %r is not one of %s" % (where, kind, ", ".join(KINDS)))
        extra = set(spec) - KINDS[kind] - OPTIONAL.get(kind, set()) - {"id", "kind", "reason"}
        missing = KINDS[kind] - set(spec)
        if extra or missing:
            raise DeviationError("%s: %s takes %s" % (where, kind, ", ".join(sorted(KINDS[kind]))))
        if kind == "reply-text":
            subs = spec["substitutions"]
            if not isinstance(subs, list) or not all(isinstance(p, list) and len(p) == 2 for p in subs):
                raise DeviationError("%s: substitutions is a list of [pattern, replacement] pairs" % where)
            try:
                spec["substitutions"] = [(re.compile(str(p), re.M), str(r)) for p, r in subs]
            except re.error as e:
                raise DeviationError("%s: substitutions: %s" % (where, e)) from None
        if spec["id"] in ids:
            raise DeviationError("%s: duplicate id %s" % (where, spec["id"]))
        ids.add(spec["id"])
        out.append(Deviation(spec["id"], kind, str(spec["reason"]).strip(), spec, line))
    if not out:
        raise DeviationError("%s: no ```deviation blocks" % path)
    return out
