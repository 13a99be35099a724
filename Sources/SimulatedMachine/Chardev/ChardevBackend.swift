public import QMPWire

/// A character device backend as `chardev-add` describes it (QAPI's `ChardevBackend` union): the
/// kinds qmp-mockd simulates, each with the options that change what a client can observe.
///
/// QEMU validates the union with its generated input visitor before it opens anything; ``parse(_:)``
/// reproduces those texts (`Parameter 'backend.data.addr' is missing`, `Parameter 'type' does not
/// accept value 'x'`). The backend's operating-system side (a listening socket, a connection, a file,
/// a pseudo-terminal) is opened by the ``ChardevHost`` the daemon installs, never by the machine.
public enum ChardevBackend: Sendable, Equatable {
    /// `socket` with a `unix` address: a listening socket (`server: true`) or a connection to one.
    case socket(path: String, server: Bool)
    /// `file`: output appended to (or truncating) `out`.
    case file(out: String, append: Bool)
    /// `null`: discards output, never has input.
    case null
    /// `pty`: a pseudo-terminal; the host reports its slave's path (`/dev/pts/N`).
    case pty
    /// `ringbuf`: a ring buffer in memory of `size` bytes (a power of two; 64 KiB by default).
    case ringbuf(size: Int64)
    /// A monitor's own socket (`-qmp unix:PATH,server=on`, label `compat_monitorN`): not created by
    /// `chardev-add`; listed by `query-chardev` and busy for ever.
    case monitor(path: String)

    /// Every kind of QEMU's `ChardevBackendKind` enum (7.2.22 and 10.0.2, which adds `hub`).
    static func kinds(_ profile: QEMUProfile) -> [String] {
        var kinds = [
            "file", "serial", "parallel", "pipe", "socket", "udp", "pty", "null", "mux", "msmouse", "wctablet",
            "braille", "testdev", "stdio", "console", "spicevmc", "spiceport", "qemu-vdagent", "dbus", "vc", "ringbuf",
            "memory",
        ]
        if profile.version.isAtLeast(10, 0) { kinds.insert("hub", at: 9) }
        return kinds
    }

    /// The common members of every backend's data (`ChardevCommon`).
    private static let common = [
        QAPIArgument("logfile", .string, optional: true), QAPIArgument("logappend", .bool, optional: true),
    ]

    /// Parses the `backend` argument of `chardev-add` with QEMU's visitor texts.
    public static func parse(_ value: JSONValue?, profile: QEMUProfile) throws(QMPError) -> ChardevBackend {
        let backend = try object(value, "backend")
        guard let typeValue = backend["type"] else { throw .missingParameter("backend.type") }
        guard case .string(let type) = typeValue else {
            throw .invalidParameterType("backend.type", expected: "string")
        }
        guard kinds(profile).contains(type) else { throw .invalidParameterValue("type", value: type) }
        let data = try object(backend["data"], "backend.data")
        try rejectExtra(backend, known: ["type", "data"], path: "backend")
        switch type {
        case "socket":
            try check(
                data,
                common + [
                    QAPIArgument("addr", .object), QAPIArgument("tls-creds", .string, optional: true),
                    QAPIArgument("tls-authz", .string, optional: true), QAPIArgument("server", .bool, optional: true),
                    QAPIArgument("wait", .bool, optional: true), QAPIArgument("nodelay", .bool, optional: true),
                    QAPIArgument("telnet", .bool, optional: true), QAPIArgument("tn3270", .bool, optional: true),
                    QAPIArgument("websocket", .bool, optional: true), QAPIArgument("reconnect", .int, optional: true),
                ] + (profile.version.isAtLeast(9, 2) ? [QAPIArgument("reconnect-ms", .int, optional: true)] : []),
                path: "backend.data"
            )
            let addr = try object(data["addr"], "backend.data.addr")
            guard let addrType = addr["type"] else { throw .missingParameter("backend.data.addr.type") }
            guard case .string(let kind) = addrType else {
                throw .invalidParameterType("backend.data.addr.type", expected: "string")
            }
            guard ["inet", "unix", "vsock", "fd"].contains(kind) else {
                throw .invalidParameterValue("type", value: kind)
            }
            let addrData = try object(addr["data"], "backend.data.addr.data")
            try rejectExtra(addr, known: ["type", "data"], path: "backend.data.addr")
            guard kind == "unix" else { throw notSimulated("socket address type '\(kind)'") }
            try check(
                addrData,
                [
                    QAPIArgument("path", .string), QAPIArgument("abstract", .bool, optional: true),
                    QAPIArgument("tight", .bool, optional: true),
                ],
                path: "backend.data.addr.data"
            )
            // QMP's `server` defaults to true (QEMU 7.2.22 and 10.0.2 listen when it is left out).
            return .socket(path: addrData["path"]?.stringValue ?? "", server: data["server"]?.boolValue ?? true)
        case "file":
            try check(
                data,
                common + [
                    QAPIArgument("in", .string, optional: true), QAPIArgument("out", .string),
                    QAPIArgument("append", .bool, optional: true),
                ],
                path: "backend.data"
            )
            return .file(out: data["out"]?.stringValue ?? "", append: data["append"]?.boolValue ?? false)
        case "null":
            try check(data, common, path: "backend.data")
            return .null
        case "pty":
            try check(
                data,
                common + (profile.version.isAtLeast(9, 2) ? [QAPIArgument("path", .string, optional: true)] : []),
                path: "backend.data"
            )
            return .pty
        case "ringbuf", "memory":
            try check(data, common + [QAPIArgument("size", .int, optional: true)], path: "backend.data")
            return .ringbuf(size: data["size"]?.int64Value ?? 65536)
        default:
            throw notSimulated("chardev backend '\(type)'")
        }
    }

    /// The error for a valid backend qmp-mockd does not simulate.
    static func notSimulated(_ what: String) -> QMPError {
        .generic("qmp-mockd does not simulate \(what)")
    }

    private static func object(_ value: JSONValue?, _ path: String) throws(QMPError) -> JSONObject {
        guard let value else { throw .missingParameter(path) }
        guard case .object(let object) = value else { throw .invalidParameterType(path, expected: "object") }
        return object
    }

    private static func check(_ data: JSONObject, _ members: [QAPIArgument], path: String) throws(QMPError) {
        for member in members {
            guard let value = data[member.name] else {
                if member.isOptional { continue }
                throw .missingParameter("\(path).\(member.name)")
            }
            switch member.type {
            case .string:
                guard case .string = value else {
                    throw .invalidParameterType("\(path).\(member.name)", expected: "string")
                }
            case .bool:
                guard case .bool = value else {
                    throw .invalidParameterType("\(path).\(member.name)", expected: "boolean")
                }
            case .int:
                guard case .int = value else {
                    throw .invalidParameterType("\(path).\(member.name)", expected: "integer")
                }
            default:
                guard case .object = value else {
                    throw .invalidParameterType("\(path).\(member.name)", expected: "object")
                }
            }
        }
        try rejectExtra(data, known: members.map(\.name), path: path)
    }

    private static func rejectExtra(_ object: JSONObject, known: [String], path: String) throws(QMPError) {
        if let name = QObjectInputOrder.unexpectedMember(in: object, schemaOrder: known) {
            throw .unexpectedParameter("\(path).\(name)")
        }
    }
}
