import QMPWire
import SimulatedMachine

/// The control plane's commands: a stable contract for tests outside the project.
///
/// `clock-advance`, `clock-query`, `guest-write`, `guest-read`, `machine-state`, `subscribe-events`,
/// `inject-fault` (and `guest-set-persona`, registered with the guest). Errors are `GenericError` with a
/// plain-language text, or `DeviceNotFound` for an unknown controller.
enum ControlCommands {
    static func register(in table: inout CommandTable) {
        let msArgument = QAPIArguments([QAPIArgument("ms", .number)])
        table.register(
            QMPCommand("clock-advance", arguments: msArgument) { call throws(QMPError) in
                guard case .manual(let host) = call.core.clockMode else {
                    throw .generic("clock-advance needs the manual clock (--clock manual)")
                }
                let ms: Double
                switch call.arguments["ms"] {
                case .int(let i): ms = Double(i)
                case .uint(let u): ms = Double(u)
                case .double(let d): ms = d
                default: ms = 0
                }
                guard ms >= 0, ms.isFinite else { throw .generic("Parameter 'ms' must be a non-negative number") }
                call.machine.advance(host: host, by: Int64(ms * 1_000_000))
                call.core.clockAdvanced()
                return .object(JSONObject([("now-ns", .int(call.machine.clock.now))]))
            }
        )
        table.register(
            QMPCommand("clock-query") { call throws(QMPError) in
                var info = JSONObject()
                info.append("now-ns", .int(call.machine.clock.now))
                info.append("mode", .string(call.core.clockMode.name))
                if case .realtime(let scale) = call.core.clockMode { info.append("time-scale", .double(scale)) }
                info.append("running", .bool(call.machine.runState.isRunning))
                if let next = call.machine.nextTimerDeadline { info.append("next-timer-ns", .int(next)) }
                return .object(info)
            }
        )
        let writeArguments = QAPIArguments(
            [
                QAPIArgument("controller", .string, optional: true),
                QAPIArgument("port", .unsigned(bits: 16), optional: true),
                QAPIArgument("config", .string, optional: true),
                QAPIArgument("register", .enumeration(["slot-control", "slot-status"]), optional: true),
                QAPIArgument("value", .unsigned(bits: 32), optional: true),
                QAPIArgument("command", .unsigned(bits: 8), optional: true),
                QAPIArgument("target", .unsigned(bits: 8), optional: true),
                QAPIArgument("offset", .unsigned(bits: 16), optional: true),
                QAPIArgument("size", .unsigned(bits: 8), optional: true),
            ]
        )
        table.register(
            QMPCommand("guest-write", arguments: writeArguments) { call throws(QMPError) in
                try guestWrite(call)
                return .object(JSONObject())
            }
        )
        let readArguments = QAPIArguments([
            QAPIArgument("controller", .string, optional: true), QAPIArgument("slot", .int, optional: true),
            QAPIArgument("offset", .unsigned(bits: 16), optional: true),
            QAPIArgument("size", .unsigned(bits: 8), optional: true),
            QAPIArgument("device", .string, optional: true),
            QAPIArgument("port", .unsigned(bits: 16), optional: true),
            QAPIArgument("config", .string, optional: true),
        ])
        table.register(
            QMPCommand("guest-read", arguments: readArguments) { call throws(QMPError) in
                try guestRead(call)
            }
        )
        table.register(
            QMPCommand("machine-state") { call throws(QMPError) in
                MachineStateView.render(call.core)
            }
        )
        table.register(
            QMPCommand(
                "subscribe-events",
                arguments: QAPIArguments([QAPIArgument("events", .array(.string))])
            ) { call throws(QMPError) in
                try subscribe(call)
            }
        )
        let faultArguments = QAPIArguments(
            [
                QAPIArgument("command", .string), QAPIArgument("count", .int, optional: true),
                QAPIArgument("error", .object, optional: true), QAPIArgument("delay-ms", .int, optional: true),
                QAPIArgument("close", .bool, optional: true),
            ]
        )
        table.register(
            QMPCommand("inject-fault", arguments: faultArguments) { call throws(QMPError) in
                try injectFault(call)
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("inject-fault-clear") { call throws(QMPError) in
                call.core.faults.clear()
                return .object(JSONObject())
            }
        )
    }

    /// `subscribe-events {events: [NAME...]}`: adds the opt-in control events named to the
    /// session's; answers `{"events": [...]}`, everything the session now receives beyond
    /// `GUEST_REGISTER_WRITE`. An unknown name is an error and subscribes nothing.
    private static func subscribe(_ call: QMPCall) throws(QMPError) -> JSONValue {
        var requested: ControlSubscription = []
        for value in call.arguments["events"]?.arrayValue ?? [] {
            let name = value.stringValue ?? ""
            guard let subscription = ControlSubscription(eventName: name) else {
                let known = ControlSubscription.events.map(\.name).joined(separator: ", ")
                throw .generic("'\(name)' is not an event to subscribe to (\(known))")
            }
            requested.formUnion(subscription)
        }
        call.core.subscribe(call.session, to: requested)
        let names = call.session.subscriptions.eventNames.map { JSONValue.string($0) }
        return .object(JSONObject([("events", .array(names))]))
    }

    private static func guestWrite(_ call: QMPCall) throws(QMPError) {
        let a = call.arguments
        if let target = try ioOrConfigTarget(a, verb: "guest-write") {
            guard let value = a["value"]?.int64Value else { throw .generic("guest-write needs 'value'") }
            let size = try accessSize(a)
            let word = UInt32(truncatingIfNeeded: value)
            switch target {
            case .port(let port): call.machine.ioWrite(port: port, size: size, value: word)
            case .config(let bus, let slot, let function):
                call.machine.configWrite(
                    bus: bus,
                    slot: slot,
                    function: function,
                    offset: Int(a["offset"]?.int64Value ?? 0),
                    size: size,
                    value: word
                )
            }
            return
        }
        guard let controller = a["controller"]?.stringValue else {
            throw .generic("guest-write needs 'controller', 'port' or 'config'")
        }
        if let register = a["register"]?.stringValue {
            guard let value = a["value"]?.int64Value, value <= 0xFFFF else {
                throw .generic("guest-write of \(register) needs 'value' (16 bits)")
            }
            if register == "slot-control" {
                try call.machine.writeSlotControl(port: controller, value: UInt16(value))
            } else {
                try call.machine.writeSlotStatus(port: controller, value: UInt16(value))
            }
        } else if let command = a["command"]?.int64Value {
            guard let target = a["target"]?.int64Value else {
                throw .generic("guest-write of an SHPC command needs 'target'")
            }
            try call.machine.shpcCommand(bridge: controller, code: UInt8(command), target: UInt8(target))
        } else if let offset = a["offset"]?.int64Value, let value = a["value"]?.int64Value {
            let size = try accessSize(a)
            try call.machine.shpcWrite(
                bridge: controller,
                offset: Int(offset),
                size: size,
                value: UInt32(truncatingIfNeeded: value)
            )
        } else {
            throw .generic(
                "guest-write needs 'register' and 'value' (PCIe port), 'command' and 'target' (SHPC command), or 'offset' and 'value' (SHPC register)"
            )
        }
    }

    /// The `size` of an SHPC register access: 1, 2 or 4 bytes (4 when omitted).
    private static func accessSize(_ arguments: JSONObject) throws(QMPError) -> Int {
        let size = Int(arguments["size"]?.int64Value ?? 4)
        guard [1, 2, 4].contains(size) else { throw .generic("'size' must be 1, 2 or 4") }
        return size
    }

    /// Where an I/O-port (`port`) or configuration-space (`config: "BB:DD.F"`, with `offset`) access
    /// goes, or nil for a controller access; refuses mixing them.
    private enum AccessTarget {
        case port(UInt16)
        case config(bus: Int, slot: Int, function: Int)
    }

    private static func ioOrConfigTarget(_ a: JSONObject, verb: String) throws(QMPError) -> AccessTarget? {
        let port = a["port"]?.int64Value
        let config = a["config"]?.stringValue
        guard port != nil || config != nil else { return nil }
        if a["controller"] != nil || a["device"] != nil || (port != nil && config != nil) {
            throw .generic("\(verb) takes one of 'controller', 'device', 'port' or 'config'")
        }
        if let port {
            if a["offset"] != nil { throw .generic("\(verb) of an I/O port takes no 'offset'") }
            return .port(UInt16(port))
        }
        guard let address = config.flatMap(PCIFunctionAddress.init) else {
            throw .generic("'config' is a PCI address BB:DD.F in hexadecimal (00:1f.0), not '\(config ?? "")'")
        }
        guard let offset = a["offset"]?.int64Value, offset < 4096 else {
            throw .generic("\(verb) of configuration space needs 'offset' (0 to 4095)")
        }
        if offset % Int64(try accessSize(a)) != 0 { throw .generic("'offset' must be aligned to 'size'") }
        return .config(bus: address.bus, slot: address.slot, function: address.function)
    }

    private static func guestRead(_ call: QMPCall) throws(QMPError) -> JSONValue {
        if let target = try ioOrConfigTarget(call.arguments, verb: "guest-read") {
            let size = try accessSize(call.arguments)
            let value: UInt32
            switch target {
            case .port(let port): value = call.machine.ioRead(port: port, size: size)
            case .config(let bus, let slot, let function):
                value = call.machine.configRead(
                    bus: bus,
                    slot: slot,
                    function: function,
                    offset: Int(call.arguments["offset"]?.int64Value ?? 0),
                    size: size
                )
            }
            return .object(JSONObject([("value", .int(Int64(value)))]))
        }
        if let id = call.arguments["device"]?.stringValue {
            guard call.arguments["controller"] == nil else {
                throw .generic("guest-read takes 'controller' or 'device', not both")
            }
            let value = call.machine.vendorDeviceRead(of: id)
            return .object(JSONObject([("vendor-device", .int(Int64(value)))]))
        }
        guard let name = call.arguments["controller"]?.stringValue else {
            throw .generic("guest-read needs 'controller' (a hotplug controller) or 'device' (an endpoint)")
        }
        if let offset = call.arguments["offset"]?.int64Value {
            let size = try accessSize(call.arguments)
            let value = try call.machine.shpcRead(bridge: name, offset: Int(offset), size: size)
            return .object(JSONObject([("value", .int(Int64(value)))]))
        }
        let device = try call.machine.findController(name)
        if let slot = device.pcieSlot {
            return .object(MachineStateView.pcieRegisters(slot))
        }
        guard let shpc = device.shpc else { throw .generic("'\(name)' is not a hotplug controller") }
        if let n = call.arguments["slot"]?.int64Value {
            guard SHPCController.isValidSlot(Int(n)) else { throw .generic("SHPC slots are 1 to 31, not \(n)") }
            return .object(MachineStateView.shpcSlot(shpc, slot: Int(n)))
        }
        return .object(MachineStateView.shpcRegisters(shpc))
    }

    private static func injectFault(_ call: QMPCall) throws(QMPError) {
        let a = call.arguments
        let command = a["command"]?.stringValue ?? ""
        let count = Int(a["count"]?.int64Value ?? 1)
        var actions: [FaultInjector.Action] = []
        if let error = a["error"]?.objectValue {
            let errorClass = error["class"]?.stringValue ?? "GenericError"
            guard let desc = error["desc"]?.stringValue else { throw .generic("inject-fault 'error' needs 'desc'") }
            actions.append(.fail(QMPError(QMPErrorClass(rawValue: errorClass), desc)))
        }
        if let delay = a["delay-ms"]?.int64Value {
            guard delay >= 0 else { throw .generic("'delay-ms' must not be negative") }
            actions.append(.delay(milliseconds: Int(delay)))
        }
        if a["close"]?.boolValue == true { actions.append(.close) }
        guard actions.count == 1, let action = actions.first else {
            throw .generic("inject-fault needs exactly one of 'error', 'delay-ms' or 'close'")
        }
        guard count >= 1 else { throw .generic("'count' must be at least 1") }
        call.core.faults.add(command: command, count: count, action: action)
    }
}
