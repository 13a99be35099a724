#!/usr/bin/env python3
"""Generates Sources/MockServer/RecordedSchema+Releases.swift, the QMP schemas qmp-mockd embeds,
from the recordings in schema/ (scripts/record-qmp-schema.py) and schema/v8-additions.json.

    scripts/generate-qmp-schema.py           (re)writes the Swift file
    scripts/generate-qmp-schema.py --check   exits 1 when the checked-in Swift file is stale (make lint)

Per release, the whole recorded schema is embedded, so that the daemon can restrict it at run time
to its real command table (a command added to qmp-mockd later appears in `query-qmp-schema` without
regenerating anything, when the release has it): one string literal, one entity per line in compact
JSON with `name` first (the daemon finds an entity's line without parsing the others; it parses only
what the restriction keeps, on the first `query-qmp-schema`). 8.2 is stored as 7.2's text plus the
entities its derivation replaces, not as a second copy.

The v8 additions (`x-query-hotplug`, `X_DEVICE_ON` and their types) are written in introspection
vocabulary in schema/v8-additions.json, with `@Name` for the types they define. Each release gets
them as its own QEMU would have numbered them if the series had been merged: `@DeviceAndPath` is
the type `DEVICE_DELETED` already uses (v8's patch 1 made both events use that struct); new types
get the numbers after the release's highest, in order of first use as QEMU's introspect.py assigns
them (a command's arg-type, then its ret-type, then each type's members and variants, breadth first);
the command and the event follow DEVICE_UNPLUG_GUEST_ERROR (the end of qapi/qdev.json, where the series
put them) and the new types go last. Type numbers of a real v8 build would differ: they are opaque.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "schema"
OUTPUT = REPO / "Sources" / "MockServer" / "RecordedSchema+Releases.swift"
RECORDED = ["7.2.0", "10.0.0"]  # embedded in full
DERIVED = {"8.2.0": "7.2.0"}  # embedded as the base's text plus replaced entities


def load(version: str) -> dict:
    return json.loads((SCHEMA_DIR / f"qemu-{version}.json").read_text())


def qdict_bucket(key: str) -> int:
    """QEMU's tdb_hash % 512: a QDict iterates its buckets in ascending order (QMPWire's QDictOrder)."""
    value = (0x238F13AF * len(key.encode())) & 0xFFFFFFFF
    shift = 0
    for byte in key.encode():
        value = (value + (byte << shift)) & 0xFFFFFFFF
        shift = (shift + 5) % 24
    return ((1103515243 * value + 12345) & 0xFFFFFFFF) % 512


def qemu_order(value):
    """`value` with its objects' members in the order QEMU writes them (for the hand-written additions;
    no two keys of the introspection vocabulary share a bucket, so insertion order does not matter)."""
    if isinstance(value, dict):
        return {k: qemu_order(value[k]) for k in sorted(value, key=qdict_bucket)}
    if isinstance(value, list):
        return [qemu_order(v) for v in value]
    return value


def with_additions(entities: list[dict], additions: dict) -> list[dict]:
    """The release's entities with the v8 additions merged in (see the module doc)."""
    by_name = {e["name"]: e for e in entities}
    names: dict[str, str] = {}
    for placeholder, where in additions["existing-types"].items():
        names[placeholder] = by_name[where["entity"]][where["key"]]
    next_number = 1 + max(int(e["name"]) for e in entities if e["name"].isdigit())
    written = [qemu_order(e) for e in additions["entities"]]
    definitions = {e["name"]: e for e in written if e["name"].startswith("@")}
    top = [e for e in written if not e["name"].startswith("@")]
    types: list[dict] = []

    def use(name: str) -> str:
        nonlocal next_number
        if not name.startswith("@"):
            return name
        if name not in names:
            names[name] = str(next_number)
            next_number += 1
            types.append(definitions[name])
        return names[name]

    def resolve(entity: dict) -> dict:
        out = dict(entity)
        out["name"] = use(entity["name"]) if entity["name"].startswith("@") else entity["name"]
        for key in ("arg-type", "ret-type", "element-type"):
            if key in out:
                out[key] = use(out[key])
        if "members" in out:
            out["members"] = [{**m, "type": use(m["type"])} if "type" in m else m for m in out["members"]]
        if "variants" in out:
            out["variants"] = [{**v, "type": use(v["type"])} for v in out["variants"]]
        return out

    resolved_top = [resolve(e) for e in top]
    resolved_types = []
    i = 0
    while i < len(types):  # `types` grows while its entries are resolved (breadth first)
        resolved_types.append(resolve(types[i]))
        i += 1
    unused = set(definitions) - {t["name"] for t in types}
    if unused:
        raise SystemExit(f"generate-qmp-schema: unused definitions in v8-additions.json: {sorted(unused)}")
    at = next(i for i, e in enumerate(entities) if e["name"] == additions["insert-after"]) + 1
    merged = entities[:at] + resolved_top + entities[at:] + resolved_types
    text = json.dumps(merged)
    if "@" in text:
        raise SystemExit("generate-qmp-schema: an @name in v8-additions.json is not defined")
    return merged


def line(entity: dict) -> str:
    """One entity in compact JSON with `name` first, members in QEMU's order."""
    if next(iter(entity)) != "name":
        entity = {"name": entity["name"], **{k: v for k, v in entity.items() if k != "name"}}
    text = json.dumps(entity, separators=(",", ":"), ensure_ascii=True)
    if "\\" in text or '"#' in text or "\n" in text:
        raise SystemExit(f"generate-qmp-schema: {entity['name']} cannot go into a raw string literal")
    return text


def identifier(version: str) -> str:
    major, minor, _ = version.split(".")
    return f"qemu{major}_{minor}"


def render() -> str:
    additions = json.loads((SCHEMA_DIR / "v8-additions.json").read_text())
    merged = {}
    sources = {}
    for version in RECORDED + list(DERIVED):
        content = load(version)
        merged[version] = with_additions(content["query-qmp-schema"], additions)
        sources[version] = content["recorded-from"]
    out = [
        "// swift-format-ignore-file",
        "// Generated by scripts/generate-qmp-schema.py from schema/qemu-*.json and schema/v8-additions.json:",
        "// do not edit. `make lint` fails when this file is stale.",
        "",
        "extension RecordedSchema {",
    ]
    for version in RECORDED:
        entities = merged[version]
        out += [
            f"    /// {sources[version]}, with the v8 additions: {len(entities)} entities.",
            f"    static let {identifier(version)} = RecordedSchema(",
            f'        release: "{version}",',
            '        text: #"""',
            *(line(e) for e in entities),
            '"""#',
            "    )",
            "",
        ]
    for version, base in DERIVED.items():
        old, new = merged[base], merged[version]
        if [e["name"] for e in old] != [e["name"] for e in new]:
            raise SystemExit(f"generate-qmp-schema: {version} adds or removes entities of {base}; embed it in full")
        replaced = [(b["name"], line(b)) for a, b in zip(old, new) if line(a) != line(b)]
        out += [
            f"    /// {version}: {sources[version]}; {len(replaced)} entities replaced.",
            f"    static let {identifier(version)} = RecordedSchema(",
            f'        release: "{version}",',
            f"        text: {identifier(base)}.text,",
            "        replacements: [",
            *(f'            "{name}": #"{text}"#,' for name, text in replaced),
            "        ]",
            "    )",
            "",
        ]
    releases = ", ".join(f'"{v}": {identifier(v)}' for v in RECORDED + list(DERIVED))
    out += [
        "    /// Every embedded release, by profile version (`QEMUProfile.supported`).",
        f"    static let releases: [String: RecordedSchema] = [{releases}]",
        "}",
        "",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the checked-in file is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(
                f"{OUTPUT.relative_to(REPO)} is stale: run scripts/generate-qmp-schema.py and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"{OUTPUT.relative_to(REPO)}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
