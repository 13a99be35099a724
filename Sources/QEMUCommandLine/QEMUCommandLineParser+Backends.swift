import QMPWire
import SimulatedMachine

/// `-device`, `-object`, `-blockdev`, `-netdev`, `-drive` and `-chardev`: each becomes the entry a
/// configuration file's `devices:`, `objects:`, ... list would hold, with the option's text for
/// errors. Values written as `key=value` stay text (``BackendEntry/textOptions``) and are read by the
/// machine as QEMU's options visitor reads them; JSON keeps its types.
extension QEMUCommandLineParser {
    /// QEMU's chardev backends (`is not a valid char driver name` for others).
    static let chardevDrivers: Set<String> = [
        "null", "socket", "udp", "file", "pipe", "pty", "stdio", "serial", "tty", "parallel", "parport",
        "ringbuf", "memory", "vc", "msmouse", "wctablet", "braille", "testdev", "spicevmc", "spiceport",
        "qemu-vdagent", "dbus", "mux",
    ]

    /// `-blockdev` members QEMU's keyval visitor reads as booleans and integers (the rest are text).
    static let blockdevBooleans: Set<String> = [
        "read-only", "auto-read-only", "force-share", "direct", "no-flush", "read-zeroes", "x-check-cache-dropped",
    ]
    static let blockdevIntegers: Set<String> = ["size", "latency-ns"]

    mutating func readDevice(_ value: String, written: String) throws(QEMUOptionError) {
        let arguments: JSONObject
        if let json = try QEMUCommandLine.jsonObject(value, written: written) {
            arguments = json
        } else {
            let options = QemuOptions.parse(value, impliedKey: "driver")
            try Self.checkIdentifier(options, written: written)
            arguments = QemuOptions.object(options)
        }
        guard let driverValue = arguments["driver"] else {
            throw QEMUOptionError(option: written, "Parameter 'driver' is missing")
        }
        guard case .string(let driver) = driverValue else {
            throw QEMUOptionError(option: written, "Parameter 'driver' expects string")
        }
        var spec = DeviceSpec(driver: driver, option: value)
        for member in arguments.members {
            switch member.key {
            case "driver": continue
            case "id" where member.value.stringValue != nil: spec.id = member.value.stringValue
            case "bus" where member.value.stringValue != nil: spec.bus = member.value.stringValue
            default: spec.properties.append(member.key, member.value)
            }
        }
        invocation.machine.devices.append(spec)
    }

    mutating func readObject(_ value: String, written: String) throws(QEMUOptionError) {
        invocation.machine.objects.append(try backendEntry(value, written: written, impliedKey: "qom-type"))
    }

    /// A `-object` or `-netdev` value: its JSON form, or QemuOpts text whose `id` must be an identifier.
    private func backendEntry(
        _ value: String,
        written: String,
        impliedKey: String
    ) throws(QEMUOptionError) -> BackendEntry {
        if let json = try QEMUCommandLine.jsonObject(value, written: written) {
            return BackendEntry(json, option: value)
        }
        let options = QemuOptions.parse(value, impliedKey: impliedKey)
        try Self.checkIdentifier(options, written: written)
        return BackendEntry(QemuOptions.object(options), option: value, textOptions: options)
    }

    mutating func readBlockdev(_ value: String, written: String) throws(QEMUOptionError) {
        if let json = try QEMUCommandLine.jsonObject(value, written: written) {
            invocation.machine.blockdevs.append(BackendEntry(json, option: value))
            return
        }
        let options = QemuOptions.parse(value, impliedKey: nil)
        var converted: [(key: String, value: JSONValue)] = []
        for option in options {
            let member = String(option.key.split(separator: ".").last ?? "")
            if Self.blockdevBooleans.contains(member) {
                guard let flag = Self.onOff(option.value) else {
                    throw QEMUOptionError(option: written, "Parameter '\(option.key)' expects 'on' or 'off'")
                }
                converted.append((option.key, .bool(flag)))
            } else if Self.blockdevIntegers.contains(member), let number = Int64(option.value) {
                converted.append((option.key, .int(number)))
            } else {
                converted.append((option.key, .string(option.value)))
            }
        }
        invocation.machine.blockdevs.append(BackendEntry(QemuOptions.keyvalObject(converted), option: value))
    }

    mutating func readNetdev(_ value: String, written: String) throws(QEMUOptionError) {
        invocation.machine.netdevs.append(try backendEntry(value, written: written, impliedKey: "type"))
    }

    /// `-drive if=none,id=ID,file=...`: a legacy drive, as HMP's `drive_add` makes one.
    mutating func readDrive(_ value: String, written: String) throws(QEMUOptionError) {
        let options = QemuOptions.parse(value, impliedKey: nil)
        try Self.checkIdentifier(options, written: written)
        let interface = options.last { $0.key == "if" }?.value ?? "ide"
        guard interface == "none" else {
            throw QEMUOptionError(option: written, "qmp-mockd simulates -drive if=none only, not if=\(interface)")
        }
        invocation.machine.drives.append(BackendEntry(QemuOptions.object(options), option: value, textOptions: options))
    }

    /// `-chardev BACKEND,id=ID,...`: kept until the monitors are resolved (a monitor's socket is not a
    /// machine chardev here); the rest become `chardev-add` arguments.
    mutating func readChardev(_ value: String, written: String) throws(QEMUOptionError) {
        let options = QemuOptions.parse(value, impliedKey: "backend")
        guard let backend = options.last(where: { $0.key == "backend" })?.value else {
            throw QEMUOptionError(option: written, "chardev: \"\" missing backend")
        }
        guard Self.chardevDrivers.contains(backend) else {
            throw QEMUOptionError(option: written, "'\(backend)' is not a valid char driver name")
        }
        guard let id = options.last(where: { $0.key == "id" })?.value else {
            throw QEMUOptionError(option: written, "Parameter 'id' is missing")
        }
        try Self.checkIdentifier(options, written: written)
        if chardevs.contains(where: { $0.id == id }) {
            throw QEMUOptionError(option: written, "Duplicate ID '\(id)' for chardev")
        }
        chardevs.append((id, options, value, written))
    }

    /// A `-chardev`'s `chardev-add` arguments (`{"id": ..., "backend": {"type": ..., "data": ...}}`).
    static func chardevArguments(
        id: String,
        _ options: [(key: String, value: String)],
        written: String
    ) throws(QEMUOptionError) -> JSONObject {
        let type = options.last { $0.key == "backend" }?.value ?? ""
        func text(_ key: String) -> String? { options.last { $0.key == key }?.value }
        func flag(_ key: String, default value: Bool) throws(QEMUOptionError) -> Bool {
            guard let raw = text(key) else { return value }
            guard let on = onOff(raw) else {
                throw QEMUOptionError(option: written, "Parameter '\(key)' expects 'on' or 'off'")
            }
            return on
        }
        var data = JSONObject()
        switch type {
        case "socket":
            guard let path = text("path") else {
                if text("fd") != nil {
                    throw QEMUOptionError(option: written, "qmp-mockd serves inherited sockets as QMP monitors only")
                }
                throw QEMUOptionError(option: written, "qmp-mockd simulates Unix socket chardevs only (give path=)")
            }
            data.append("addr", .object(["type": "unix", "data": .object(["path": .string(path)])]))
            data.append("server", .bool(try flag("server", default: false)))
            data.append("wait", .bool(try flag("wait", default: true)))
        case "file":
            guard let path = text("path") else {
                throw QEMUOptionError(option: written, "chardev: file: no filename given")
            }
            data.append("out", .string(path))
            if text("append") != nil { data.append("append", .bool(try flag("append", default: false))) }
        case "ringbuf", "memory":
            if let sizeText = text("size") {
                guard let bytes = Machine.parseSize(sizeText, bareUnit: 1) else {
                    throw QEMUOptionError(option: written, "Parameter 'size' expects a size", continuation: sizeHint)
                }
                data.append("size", .int(Int64(bytes)))
            }
        default: break
        }
        return ["id": .string(id), "backend": .object(["type": .string(type), "data": .object(data)])]
    }
}
