/// The plain, one-line-per-change format of `qmp-mockctl watch` (stdout not a terminal, or
/// `--plain`): stable and grep-able, documented in README ("qmp-mockctl watch").
///
/// Every line starts with `t=SECONDS.MILLISs ` (virtual time). Then one of:
/// - `machine: name vm1, run-state running, clock manual` (name only when the VM has one);
/// - `pci.1: device hp1, present yes, power on, power-led ● on, attention-led ○ off, pending 4.000s, persona linux`
///   (a slot: `device -` when empty, `pending` only during an unplug's guard, `persona` only with a
///   simulated guest; an SHPC slot is named `pci.7 slot 3` and shows `slot enabled` instead of `power on`);
/// - an event's summary (``WatchEvent``): `guest ...`, `event ...`, `monitor ...`, `clock advanced`;
/// - `watch: ...`, the last line (why it stopped).
public enum PlainFormat {
    /// `5.000s`: nanoseconds as seconds with milliseconds (truncated).
    public static func seconds(_ nanoseconds: Int64) -> String {
        let milliseconds = max(0, nanoseconds) / 1_000_000
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }

    /// The line prefix, `t=5.000s `.
    public static func stamp(_ nanoseconds: Int64) -> String { "t=\(seconds(nanoseconds)) " }

    /// The machine line, without the stamp.
    public static func machine(_ snapshot: MachineSnapshot) -> String {
        var fields: [String] = []
        if let name = snapshot.name { fields.append("name \(name)") }
        fields.append("run-state \(snapshot.runState)")
        fields.append("clock \(snapshot.clock)")
        return "machine: " + fields.joined(separator: ", ")
    }

    /// A slot's line, without the stamp.
    public static func slot(_ slot: SlotView) -> String {
        var fields = [
            "device \(slot.device ?? "-")",
            "present \(slot.present ? "yes" : "no")",
            slot.isSHPC ? "slot \(slot.power)" : "power \(slot.power)",
            "power-led \(slot.powerLED.drawn)",
            "attention-led \(slot.attentionLED.drawn)",
        ]
        if let pending = slot.pendingNanoseconds { fields.append("pending \(seconds(pending))") }
        if let persona = slot.persona { fields.append("persona \(persona)") }
        return "\(slot.name): " + fields.joined(separator: ", ")
    }

    /// Every line of a first snapshot: the machine, then each slot.
    public static func snapshot(_ snapshot: MachineSnapshot) -> [String] {
        let stamp = stamp(snapshot.nowNanoseconds)
        return [stamp + machine(snapshot)] + snapshot.slots.map { stamp + slot($0) }
    }

    /// The lines that tell what changed from `old` to `new`: the machine line when it reads
    /// differently, and the line of every slot that reads differently or is new (a hot-plugged
    /// bridge's slots), in `new`'s order; `slot-name: gone` for a slot that disappeared (an
    /// unplugged bridge's). Time alone is no change: a slot's countdown is, it is part of its line.
    public static func changes(from old: MachineSnapshot, to new: MachineSnapshot) -> [String] {
        let stamp = stamp(new.nowNanoseconds)
        var lines: [String] = []
        if machine(old) != machine(new) { lines.append(stamp + machine(new)) }
        let before = Dictionary(old.slots.map { ($0.name, slot($0)) }, uniquingKeysWith: { first, _ in first })
        for view in new.slots {
            let line = slot(view)
            if before[view.name] != line { lines.append(stamp + line) }
        }
        let names = Set(new.slots.map(\.name))
        for view in old.slots where !names.contains(view.name) {
            lines.append(stamp + "\(view.name): gone")
        }
        return lines
    }
}
