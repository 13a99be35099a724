import QMPWire

/// The members of QEMU's `BlockdevOptions` union for the drivers qmp-mockd simulates, checked the
/// way QEMU's QAPI input visitor does: base members, then the driver's, in schema order (missing and
/// mistyped members reported as met), then the first member left over is unexpected. Nested objects
/// (`file: {...}`, `cache: {...}`) report their members by full name (`file.driver`).
enum BlockdevSchema {
    static let base: [QAPIArgument] = [
        QAPIArgument("driver", .enumeration(Array(BlockDriver.qapiNames))),
        QAPIArgument("node-name", .string, optional: true),
        QAPIArgument("discard", .enumeration(["ignore", "unmap"]), optional: true),
        QAPIArgument("cache", .object, optional: true),
        QAPIArgument("read-only", .bool, optional: true),
        QAPIArgument("auto-read-only", .bool, optional: true),
        QAPIArgument("force-share", .bool, optional: true),
        QAPIArgument("detect-zeroes", .enumeration(["off", "on", "unmap"]), optional: true),
    ]

    static func members(of driver: BlockDriver) -> [QAPIArgument] {
        switch driver {
        case .file, .hostDevice:
            return [
                QAPIArgument("filename", .string), QAPIArgument("pr-manager", .string, optional: true),
                QAPIArgument("locking", .enumeration(["off", "on", "auto"]), optional: true),
                QAPIArgument("aio", .enumeration(["threads", "native", "io_uring"]), optional: true),
                QAPIArgument("aio-max-batch", .int, optional: true),
                QAPIArgument("drop-cache", .bool, optional: true),
                QAPIArgument("x-check-cache-dropped", .bool, optional: true),
            ]
        case .nullCo:
            return [
                QAPIArgument("size", .int, optional: true),
                QAPIArgument("latency-ns", .unsigned(bits: 64), optional: true),
                QAPIArgument("read-zeroes", .bool, optional: true),
            ]
        case .raw:
            return [
                QAPIArgument("file", .any), QAPIArgument("offset", .int, optional: true),
                QAPIArgument("size", .int, optional: true),
            ]
        case .qcow2:
            return [
                QAPIArgument("file", .any), QAPIArgument("backing", .any, optional: true),
                QAPIArgument("lazy-refcounts", .bool, optional: true),
                QAPIArgument("pass-discard-request", .bool, optional: true),
                QAPIArgument("pass-discard-snapshot", .bool, optional: true),
                QAPIArgument("pass-discard-other", .bool, optional: true),
                QAPIArgument("cache-size", .int, optional: true), QAPIArgument("l2-cache-size", .int, optional: true),
                QAPIArgument("refcount-cache-size", .int, optional: true),
                QAPIArgument("cache-clean-interval", .int, optional: true),
            ]
        }
    }

    /// Validates a `BlockdevOptions` object (the command's arguments, or an inline child at `prefix`).
    static func validate(_ options: JSONObject, prefix: String = "") throws(QMPError) -> BlockDriver {
        try check(options, base, prefix: prefix, partial: true)
        guard let name = options["driver"]?.stringValue else { throw .missingParameter(prefix + "driver") }
        guard let driver = BlockDriver(rawValue: name) else {
            throw .generic("Block driver '\(name)' is not simulated by qmp-mockd")
        }
        if let cache = options["cache"]?.objectValue {
            try check(
                cache,
                [QAPIArgument("direct", .bool, optional: true), QAPIArgument("no-flush", .bool, optional: true)],
                prefix: prefix + "cache.",
                partial: false
            )
        }
        let variant = members(of: driver)
        try check(options, variant, prefix: prefix, partial: true)
        for role in ["file", "backing"] {
            guard variant.contains(where: { $0.name == role }), let value = options[role] else { continue }
            switch value {
            case .object(let child): _ = try validate(child, prefix: prefix + role + ".")
            case .string: break
            case .null where role == "backing": break
            default:
                throw .invalidParameterType(
                    prefix + role,
                    expected: role == "file" ? "BlockdevRef" : "BlockdevRefOrNull"
                )
            }
        }
        let known = base.map(\.name) + variant.map(\.name)
        if let name = QObjectInputOrder.unexpectedMember(in: options, schemaOrder: known) {
            throw .unexpectedParameter(prefix + name)
        }
        return driver
    }

    private static func check(
        _ object: JSONObject,
        _ members: [QAPIArgument],
        prefix: String,
        partial: Bool
    ) throws(QMPError) {
        for member in members {
            guard let value = object[member.name] else {
                if member.isOptional { continue }
                throw .missingParameter(prefix + member.name)
            }
            switch member.type {
            case .any: continue
            case .enumeration(let allowed):
                guard case .string(let text) = value else {
                    throw .invalidParameterType(prefix + member.name, expected: "string")
                }
                guard allowed.contains(text) else { throw .invalidParameterValue(member.name, value: text) }
            default:
                try checkScalar(value, member.type, fullName: prefix + member.name)
            }
        }
        if !partial {
            if let name = QObjectInputOrder.unexpectedMember(in: object, schemaOrder: members.map(\.name)) {
                throw .unexpectedParameter(prefix + name)
            }
        }
    }

    /// QEMU's type errors for a scalar member.
    private static func checkScalar(_ value: JSONValue, _ type: QAPIType, fullName: String) throws(QMPError) {
        switch (type, value) {
        case (.string, .string), (.bool, .bool), (.int, .int), (.unsigned, .int), (.unsigned, .uint),
            (.object, .object):
            return
        default:
            throw .invalidParameterType(fullName, expected: type.expectedName)
        }
    }
}
