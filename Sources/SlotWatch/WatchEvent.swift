public import QMPWire

/// One control event as `watch` logs it: its one-line summary and whether the machine may have
/// changed because of it (then `watch` reads `machine-state` again).
///
/// `GUEST_REGISTER_WRITE` (every control session gets it), and the opt-in `MONITOR_EVENT`,
/// `MONITOR_COMMAND` and `CLOCK_ADVANCED` (`subscribe-events`). Monitor commands that only read
/// (`query-*`, `x-query-*`, `qom-list`, `qom-get`) change nothing: they are neither logged nor
/// followed by a refresh, so a stack polling `query-status` does not flood the view.
public struct WatchEvent: Sendable, Equatable {
    /// The summary, without a time: `guest pci.1 slot-control 0x2c0 -> 0x1c0 (wrote 0x1c0)`,
    /// `event X_DEVICE_ON device=hp1 path=/machine/peripheral/hp1`, `monitor device_del id=hp1`,
    /// `clock advanced`.
    public var text: String
    /// Whether the machine may have changed.
    public var refreshes: Bool

    /// The opt-in control events `watch` subscribes to (`subscribe-events`).
    public static let subscriptions = ["MONITOR_EVENT", "MONITOR_COMMAND", "CLOCK_ADVANCED"]

    public init(text: String, refreshes: Bool) {
        self.text = text
        self.refreshes = refreshes
    }

    /// Reads an event message; nil for a message that is not an event, or one `watch` ignores.
    public init?(message: JSONValue) {
        guard let object = message.objectValue, let name = object["event"]?.stringValue else { return nil }
        let data = object["data"]?.objectValue ?? JSONObject()
        switch name {
        case "GUEST_REGISTER_WRITE":
            let controller = data["controller"]?.stringValue ?? "?"
            let register = data["register"]?.stringValue ?? "?"
            let target = data["target"]?.int64Value.map { "[\($0)]" } ?? ""
            let old = Self.hex(data["old"]), new = Self.hex(data["new"]), value = Self.hex(data["value"])
            self.init(
                text: "guest \(controller) \(register)\(target) \(old) -> \(new) (wrote \(value))",
                refreshes: true
            )
        case "MONITOR_EVENT":
            let event = data["event"]?.stringValue ?? "?"
            let details = Self.pairs(data["data"]?.objectValue)
            self.init(text: "event \(event)" + (details.isEmpty ? "" : " " + details), refreshes: true)
        case "MONITOR_COMMAND":
            let command = data["command"]?.stringValue ?? "?"
            guard !Self.onlyReads(command) else { return nil }
            let details = Self.pairs(data["arguments"]?.objectValue)
            self.init(text: "monitor \(command)" + (details.isEmpty ? "" : " " + details), refreshes: true)
        case "CLOCK_ADVANCED":
            self.init(text: "clock advanced", refreshes: true)
        default:
            self.init(text: "control \(name)", refreshes: false)
        }
    }

    /// Monitor commands that read and never change the machine.
    static func onlyReads(_ command: String) -> Bool {
        command.hasPrefix("query-") || command.hasPrefix("x-query-") || command == "qom-list" || command == "qom-get"
            || command == "qmp_capabilities"
    }

    /// `0x1c0` (lower-case hex), or `?`.
    static func hex(_ value: JSONValue?) -> String {
        guard let number = value?.int64Value, number >= 0 else { return "?" }
        return "0x" + String(number, radix: 16)
    }

    /// `key=value` for each member, in the message's order; containers as compact JSON.
    static func pairs(_ object: JSONObject?) -> String {
        guard let object else { return "" }
        return object.members.map { member in
            let value: String
            switch member.value {
            case .string(let text): value = text
            default: value = member.value.jsonText
            }
            return "\(member.key)=\(value)"
        }.joined(separator: " ")
    }
}
