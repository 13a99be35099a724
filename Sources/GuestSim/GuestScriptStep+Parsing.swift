import SimulatedMachine

extension GuestScriptStep {
    /// The step keys a script for `side` accepts (``Side/native``: a PCIe port, an SHPC slot or the whole
    /// machine; ``Side/acpi``: the controller named `acpi`).
    static func names(for side: Side) -> [String] {
        switch side {
        case .acpi: ["wait-ms", "io-write", "io-read", "config-write", "wait-for", "wait-for-io"]
        default: ["wait-ms", "write-slot-control", "write-slot-status", "shpc-command", "wait-for", "ack-events"]
        }
    }

    /// Every step key, of both sides.
    static let allNames = [
        "wait-ms", "write-slot-control", "write-slot-status", "shpc-command", "wait-for", "ack-events",
        "io-write", "io-read", "config-write", "wait-for-io",
    ]

    /// One script step for a script given for `side`: a one-key mapping (`{wait-ms: 200}`), or the bare word
    /// `ack-events`. A step of the other side is refused with an error naming it.
    static func parse(_ node: OptionNode, for side: Side) throws(MachineConfigurationError) -> GuestScriptStep {
        let expected = "(expected one of: \(names(for: side).joined(separator: ", ")))"
        let step: GuestScriptStep
        var position = (line: node.line, column: node.column)
        if case .string(let word) = node.kind, word == "ack-events" {
            step = .acknowledgeEvents
        } else {
            guard case .map(let entries) = node.kind else {
                throw node.error("a script step must be a mapping with one key \(expected)")
            }
            guard entries.count == 1, let entry = entries.first else {
                throw node.error("a script step must have exactly one key \(expected)")
            }
            guard allNames.contains(entry.key) else {
                throw MachineConfigurationError(
                    line: entry.line,
                    column: entry.column,
                    message: "unknown script step '\(entry.key)' \(expected)"
                )
            }
            position = (entry.line, entry.column)
            step = try parse(key: entry.key, value: entry.value)
        }
        try check(step, for: side, line: position.line, column: position.column)
        return step
    }

    /// Refuses a step that does not apply to `side`.
    private static func check(
        _ step: GuestScriptStep,
        for side: Side,
        line: Int?,
        column: Int?
    ) throws(MachineConfigurationError) {
        let message: String
        switch (step.side, side) {
        case (.native, .acpi):
            if case .waitFor(let condition) = step {
                message =
                    "condition '\(condition.name)' reads slot registers and does not apply to the ACPI side "
                    + "(controller 'acpi'): use 'wait-for: sci' or 'wait-for-io'"
            } else {
                message =
                    "script step '\(step.name)' does not apply to the ACPI side (controller 'acpi'): its steps are "
                    + names(for: .acpi).joined(separator: ", ")
            }
        case (.acpi, .native), (.acpi, .any):
            message =
                step == .waitForSCI
                ? "condition 'sci' applies only to a script for the ACPI side (controller 'acpi')"
                : "script step '\(step.name)' applies only to a script for the ACPI side (controller 'acpi')"
        default:
            return
        }
        throw MachineConfigurationError(line: line, column: column, message: message)
    }

    private static func parse(key: String, value: OptionNode) throws(MachineConfigurationError) -> GuestScriptStep {
        switch key {
        case "wait-ms":
            let ms = try value.number("'wait-ms'")
            guard ms >= 0, ms < 9e12 else { throw value.error("'wait-ms' must be between 0 and 9e12 (got \(ms))") }
            return .wait(Int64((ms * 1e6).rounded()))
        case "write-slot-control":
            return .writeSlotControl(UInt16(try value.integer("'write-slot-control'", in: 0...0xFFFF)))
        case "write-slot-status":
            return .writeSlotStatus(UInt16(try value.integer("'write-slot-status'", in: 0...0xFFFF)))
        case "shpc-command":
            return .shpcCommand(code: UInt8(try value.integer("'shpc-command'", in: 0...0xFF)))
        case "wait-for":
            let name = try value.text("'wait-for'")
            if name == "sci" { return .waitForSCI }
            guard let condition = GuestCondition(name: name) else {
                let names = (GuestCondition.names + ["sci"]).joined(separator: ", ")
                throw value.error("unknown condition '\(name)' (expected one of: \(names))")
            }
            return .waitFor(condition)
        case "ack-events":
            guard try value.boolean("'ack-events'") else { throw value.error("'ack-events' must be true") }
            return .acknowledgeEvents
        case "io-write":
            var map = try value.mapping("'io-write'")
            let (port, size) = try portAndSize(&map, "io-write")
            let word = try word(&map, "value", size: size, "io-write")
            try map.finish(context: "in 'io-write'")
            return .ioWrite(port: port, size: size, value: word)
        case "io-read":
            var map = try value.mapping("'io-read'")
            let (port, size) = try portAndSize(&map, "io-read")
            try map.finish(context: "in 'io-read'")
            return .ioRead(port: port, size: size)
        case "wait-for-io":
            var map = try value.mapping("'wait-for-io'")
            let (port, size) = try portAndSize(&map, "wait-for-io")
            let all = UInt32(truncatingIfNeeded: (UInt64(1) << (size * 8)) - 1)
            var mask = all
            if let node = map.optional("mask") {
                mask = UInt32(try node.integer("'mask' in 'wait-for-io'", in: 0...Int64(all)))
            }
            let word = try word(&map, "value", size: size, "wait-for-io")
            try map.finish(context: "in 'wait-for-io'")
            return .waitForIO(port: port, size: size, mask: mask, value: word)
        default:
            return try configWrite(value)
        }
    }

    /// `config-write: {address: "00:1f.0", offset: 0x40, size: 4, value: 0x600}`.
    private static func configWrite(_ value: OptionNode) throws(MachineConfigurationError) -> GuestScriptStep {
        var map = try value.mapping("'config-write'")
        let addressNode = try map.required(
            "address",
            context: "in 'config-write' (bus:slot.function, e.g. \"00:1f.0\")"
        )
        let text = try addressNode.text("'address' in 'config-write'")
        guard let (bus, slot, function) = pciAddress(text) else {
            throw addressNode.error(
                "'address' in 'config-write' must be bus:slot.function in hex, e.g. \"00:1f.0\" (got '\(text)')"
            )
        }
        let size = try accessSize(&map, "config-write")
        let offsetNode = try map.required("offset", context: "in 'config-write'")
        let offset = Int(try offsetNode.integer("'offset' in 'config-write'", in: 0...Int64(4096 - size)))
        let word = try word(&map, "value", size: size, "config-write")
        try map.finish(context: "in 'config-write'")
        return .configWrite(bus: bus, slot: slot, function: function, offset: offset, size: size, value: word)
    }

    /// `bb:ss.f` in hex (bus 0–ff, slot 0–1f, function 0–7).
    static func pciAddress(_ text: String) -> (bus: Int, slot: Int, function: Int)? {
        let colon = text.split(separator: ":", omittingEmptySubsequences: false)
        guard colon.count == 2 else { return nil }
        let dot = colon[1].split(separator: ".", omittingEmptySubsequences: false)
        guard dot.count == 2, colon[0].count <= 2, dot[0].count <= 2, dot[1].count == 1,
            let bus = Int(colon[0], radix: 16), let slot = Int(dot[0], radix: 16),
            let function = Int(dot[1], radix: 16),
            bus >= 0, slot >= 0, slot < 32, function >= 0, function < 8
        else { return nil }
        return (bus, slot, function)
    }

    private static func portAndSize(
        _ map: inout OptionMap,
        _ step: String
    ) throws(MachineConfigurationError) -> (UInt16, Int) {
        let size = try accessSize(&map, step)
        let port = try map.required("port", context: "in '\(step)'").integer("'port' in '\(step)'", in: 0...0xFFFF)
        return (UInt16(port), size)
    }

    private static func accessSize(_ map: inout OptionMap, _ step: String) throws(MachineConfigurationError) -> Int {
        let node = try map.required("size", context: "in '\(step)' (1, 2 or 4)")
        let size = Int(try node.integer("'size' in '\(step)'"))
        guard [1, 2, 4].contains(size) else { throw node.error("'size' in '\(step)' must be 1, 2 or 4 (got \(size))") }
        return size
    }

    private static func word(
        _ map: inout OptionMap,
        _ key: String,
        size: Int,
        _ step: String
    ) throws(MachineConfigurationError) -> UInt32 {
        let limit = Int64((UInt64(1) << (size * 8)) - 1)
        let node = try map.required(key, context: "in '\(step)'")
        return UInt32(try node.integer("'\(key)' in '\(step)'", in: 0...limit))
    }
}
