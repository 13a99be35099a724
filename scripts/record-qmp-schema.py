#!/usr/bin/env python3
"""Records QEMU's QMP schema (`query-qmp-schema`) from real binaries into schema/, one file per
release qmp-mockd plays; the daemon's `query-qmp-schema` is built from these files.

    scripts/record-qmp-schema.py record QEMU [--out FILE]   one binary (the file is named after its release)
    scripts/record-qmp-schema.py derive-8.2                 schema/qemu-8.2.0.json from schema/qemu-7.2.0.json
    scripts/record-qmp-schema.py all                        7.2 (Debian's /usr/bin/qemu-system-x86_64),
                                                            10.0 (.build-qemu10, scripts/get-qemu10.sh), 8.2

Afterwards run scripts/generate-qmp-schema.py (the Swift source the daemon embeds).

Recording: QEMU runs as `-machine none -nodefaults -display none -qmp unix:SOCK,server=on,wait=off`;
after `qmp_capabilities` it is asked `query-qmp-schema` and `query-commands`, then `quit`. The file
keeps the schema exactly as QEMU sent it (entity order, member order, QEMU's numbered type names),
one entity per line so that diffs stay readable. The recording also checks that `query-commands`
lists exactly the schema's commands (it does on 7.2.22 and 10.0.2: 216 and 233) and writes any
command outside the schema to "query-commands-outside-schema" (empty on both). `query-events` is
asked as well: both releases answer CommandNotFound (the command was removed from QEMU long before
7.2), and the file says so in "has-query-events".

The 8.2 profile (derive-8.2): no QEMU 8.2 binary is at hand (Debian has 7.2 and, in backports,
10.0). Its file is the 7.2 recording with the one change between 7.2 and 8.2 that is documented
and that touches what qmp-mockd implements: 8.1 marked StatusInfo's `singlestep` member
(`query-status`) `features: ["deprecated"]` (qapi/run-state.json; 9.0 removed the member, which
the 10.0 recording shows). The restricted schemas of 7.2 and 10.0 differ in nothing else (checked
by this script: `derive-8.2` fails if they start to differ elsewhere, so that the derivation is
looked at again). What the derivation cannot know: the type numbers a real 8.2 assigns (they are
opaque and shift with every schema change; 8.2 keeps 7.2's), and every entity 8.0-8.2 added,
changed or removed outside the commands and events qmp-mockd implements today. A command added to
qmp-mockd later therefore gets its 7.2 shape in the 8.2 profile; check it against the 7.2 and 10.0
recordings (and QEMU's changelog) before trusting it there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qmp_monitor import QEMU10, QEMU72, REPO, Monitor  # noqa: E402

SCHEMA_DIR = REPO / "schema"

# What qmp-mockd implements, for derive-8.2's check that 7.2 and 10.0 differ only where the
# derivation knows. (The daemon restricts by its real command table; this list only guards the
# derivation and may lag behind without harm: generate-qmp-schema.py's tests check the daemon.)
IMPLEMENTED_COMMANDS = [
    "qmp_capabilities", "query-version", "query-commands", "query-qmp-schema", "query-status",
    "query-name", "stop", "cont", "quit", "device_add", "device_del", "query-pci", "qom-list",
    "qom-get", "system_reset", "query-blockstats", "block_resize",
]
EMITTED_EVENTS = ["SHUTDOWN", "STOP", "RESUME", "RESET", "DEVICE_DELETED"]


def record(qemu: Path) -> tuple[str, dict]:
    """Runs `qemu` and returns (profile version, the file's content)."""
    banner = subprocess.run([str(qemu), "--version"], capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="qmp-schema-", dir="/tmp") as tmp:
        path = os.path.join(tmp, "qmp.sock")
        process = subprocess.Popen(
            [str(qemu), "-machine", "none", "-nodefaults", "-display", "none",
             "-qmp", f"unix:{path},server=on,wait=off"],
            stdin=subprocess.DEVNULL,
        )
        try:
            monitor = Monitor.wait_for(path, process, str(qemu))
            monitor.execute("qmp_capabilities")
            schema = monitor.execute("query-qmp-schema")["return"]
            commands = [entry["name"] for entry in monitor.execute("query-commands")["return"]]
            events = monitor.execute("query-events")
            monitor.execute("quit")
        finally:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    version = monitor.greeting["QMP"]["version"]
    qemu_version = version["qemu"]
    profile = f"{qemu_version['major']}.{qemu_version['minor']}.0"
    schema_commands = {e["name"] for e in schema if e["meta-type"] == "command"}
    missing = sorted(schema_commands - set(commands))
    if missing:
        raise RuntimeError(f"schema commands missing from query-commands: {missing}")
    content = {
        "recorded-from": banner.splitlines()[0],
        "version": version,
        "has-query-events": "return" in events,
        "query-commands-outside-schema": sorted(set(commands) - schema_commands),
        "query-qmp-schema": schema,
    }
    return profile, content


def write(path: Path, content: dict) -> None:
    """Writes a schema file: the header members, then one schema entity per line, as QEMU wrote them."""
    lines = ["{"]
    for key, value in content.items():
        if key != "query-qmp-schema":
            lines.append(f"{json.dumps(key)}: {json.dumps(value)},")
    lines.append('"query-qmp-schema": [')
    entities = content["query-qmp-schema"]
    for i, entity in enumerate(entities):
        lines.append(json.dumps(entity) + ("," if i + 1 < len(entities) else ""))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n")
    print(f"{path.relative_to(REPO)}: {len(entities)} entities, {path.stat().st_size} bytes")


def load(version: str) -> dict:
    """A checked-in schema file (`7.2.0`, `8.2.0`, `10.0.0`) with its member order."""
    return json.loads((SCHEMA_DIR / f"qemu-{version}.json").read_text())


def references(entity: dict):
    """The type names an introspection entity refers to."""
    for key in ("arg-type", "ret-type", "element-type"):
        if key in entity:
            yield entity[key]
    for member in entity.get("members", []):
        if "type" in member:
            yield member["type"]
    for variant in entity.get("variants", []):
        yield variant["type"]


def restrict(entities: list[dict], commands: list[str], events: list[str]) -> list[dict]:
    """The entities of those commands and events and the types reachable from them, in order."""
    by_name = {e["name"]: e for e in entities}
    keep = {n for n in commands + events if n in by_name}
    work = list(keep)
    while work:
        for name in references(by_name[work.pop()]):
            if name not in keep:
                keep.add(name)
                work.append(name)
    return [e for e in entities if e["name"] in keep]


def shape(entities: list[dict]) -> dict:
    """Each command and event with its types inlined (type numbers differ between releases)."""
    by_name = {e["name"]: e for e in entities}

    def inline(name: str, seen: tuple) -> object:
        entity = by_name[name]
        if entity["meta-type"] == "builtin":
            return name
        if name in seen:
            return "<recursive>"
        seen += (name,)
        out = {k: v for k, v in entity.items() if k != "name"}
        for key in ("arg-type", "ret-type", "element-type"):
            if key in out:
                out[key] = inline(out[key], seen)
        if "members" in out:
            out["members"] = [
                {**m, "type": inline(m["type"], seen)} if "type" in m else m for m in out["members"]
            ]
        if "variants" in out:
            out["variants"] = [{**v, "type": inline(v["type"], seen)} for v in out["variants"]]
        return out

    return {e["name"]: inline(e["name"], ()) for e in entities if e["meta-type"] in ("command", "event")}


def deprecate_singlestep(entities: list[dict]) -> None:
    """8.1: `'singlestep': { 'type': 'bool', 'features': [ 'deprecated' ] }` in StatusInfo."""
    by_name = {e["name"]: e for e in entities}
    status_info = by_name[by_name["query-status"]["ret-type"]]
    for member in status_info["members"]:
        if member["name"] == "singlestep":
            member["features"] = ["deprecated"]
            return
    raise RuntimeError("7.2's StatusInfo has no singlestep member")


def add_zone_append(entities: list[dict], recent: list[dict]) -> None:
    """8.1 (zoned storage): the `zone_append_*` members of BlockDeviceStats (counters and
    `zone_append_latency_histogram`) and of BlockDeviceTimedStats, "Since 8.1" in
    qapi/block-core.json. Each struct takes the 10.0 recording's member list; a member 7.2 lacks
    gets the 7.2 type of a 10.0 member of the same type (types are numbered per release)."""
    by_name = {e["name"]: e for e in entities}
    recent_by_name = {e["name"]: e for e in recent}

    def stats_types(index: dict) -> tuple[dict, dict]:
        block_stats = index[index[index["query-blockstats"]["ret-type"]]["element-type"]]
        device_stats = index[next(m["type"] for m in block_stats["members"] if m["name"] == "stats")]
        timed = index[index[next(m["type"] for m in device_stats["members"] if m["name"] == "timed_stats")]["element-type"]]
        return device_stats, timed

    for old, new in zip(stats_types(by_name), stats_types(recent_by_name)):
        old_members = {m["name"]: m for m in old["members"]}
        if not set(old_members) <= {m["name"] for m in new["members"]}:
            raise RuntimeError(f"{old['name']}: 10.0 dropped members of 7.2")
        translate = {n["type"]: old_members[n["name"]]["type"] for n in new["members"] if n["name"] in old_members}
        members = []
        for member in new["members"]:
            if member["name"] in old_members:
                members.append(old_members[member["name"]])
            elif member["name"].find("zone_append") >= 0:
                members.append({**member, "type": translate.get(member["type"], member["type"])})
            else:
                raise RuntimeError(f"{old['name']}: 10.0 adds {member['name']}, not known to 8.2's derivation")
        old["members"] = members


def undeprecate_gluster(entities: list[dict]) -> list[dict]:
    """A copy of `entities` with the `deprecated` feature of BlockdevDriver's `gluster` removed
    (added after 8.2), for derive-8.2's comparison."""
    copy = json.loads(json.dumps(entities))
    for entity in copy:
        if entity["meta-type"] == "enum":
            for member in entity.get("members", []):
                if member.get("name") == "gluster":
                    member.pop("features", None)
    return copy


def derive_82() -> None:
    """schema/qemu-8.2.0.json: the 7.2 recording plus 8.1's deprecation of `singlestep` and 8.1's
    zoned-append statistics (`query-blockstats`)."""
    base = load("7.2.0")
    recent = load("10.0.0")["query-qmp-schema"]
    entities = json.loads(json.dumps(base["query-qmp-schema"]))
    deprecate_singlestep(entities)
    add_zone_append(entities, recent)
    # Guard: the implemented part of the derived 8.2 and of 10.0 may differ only in query-status
    # (singlestep removed in 9.0) and, in query-blockstats, by 10.0's deprecation of the gluster
    # driver (9.2); anything else is a change whose release the derivation would have to learn.
    old = shape(restrict(entities, IMPLEMENTED_COMMANDS, EMITTED_EVENTS))
    new = shape(restrict(undeprecate_gluster(recent), IMPLEMENTED_COMMANDS, EMITTED_EVENTS))
    changed = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    if changed != ["query-status"]:
        raise RuntimeError(f"8.2 (derived) and 10.0 differ in {changed}: decide which of it 8.2 has")
    content = {
        "recorded-from": f"derived from qemu-7.2.0.json by scripts/record-qmp-schema.py derive-8.2 (no 8.2 binary)",
        "version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""},
        "has-query-events": base["has-query-events"],
        "query-commands-outside-schema": base["query-commands-outside-schema"],
        "query-qmp-schema": entities,
    }
    write(SCHEMA_DIR / "qemu-8.2.0.json", content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    one = sub.add_parser("record", help="record one QEMU binary")
    one.add_argument("qemu", type=Path)
    one.add_argument("--out", type=Path, help="default: schema/qemu-<release>.json")
    sub.add_parser("derive-8.2", help="derive schema/qemu-8.2.0.json from the 7.2 recording")
    sub.add_parser("all", help="record 7.2 and 10.0, derive 8.2")
    args = parser.parse_args()
    SCHEMA_DIR.mkdir(exist_ok=True)
    if args.action == "record":
        profile, content = record(args.qemu)
        write(args.out or SCHEMA_DIR / f"qemu-{profile}.json", content)
    elif args.action == "derive-8.2":
        derive_82()
    else:
        for qemu, expected in ((QEMU72, "7.2.0"), (QEMU10, "10.0.0")):
            if not qemu.exists():
                sys.exit(f"record-qmp-schema: {qemu} is missing (10.0: scripts/get-qemu10.sh .build-qemu10)")
            profile, content = record(qemu)
            if profile != expected:
                sys.exit(f"record-qmp-schema: {qemu} is QEMU {profile}, expected {expected}")
            write(SCHEMA_DIR / f"qemu-{profile}.json", content)
        derive_82()
    return 0


if __name__ == "__main__":
    sys.exit(main())
