/// The argument list of a command, validated the way QEMU's generated QAPI input visitor does:
/// members in schema order (missing and mistyped members reported as met), then any member left
/// over is `Parameter 'x' is unexpected`. All errors are `GenericError`.
///
/// When several members are left over, QEMU names the first in GLib hash-table order, and so does
/// this (``QObjectInputOrder``).
public struct QAPIArguments: Sendable, Equatable {
    public var members: [QAPIArgument]
    /// Whether members outside the schema are accepted (commands with `'gen': false`, like `device_add`).
    public var allowsExtraMembers: Bool

    public init(_ members: [QAPIArgument] = [], allowsExtraMembers: Bool = false) {
        self.members = members
        self.allowsExtraMembers = allowsExtraMembers
    }

    /// A command without arguments.
    public static let none = QAPIArguments()

    /// Checks `arguments` against the schema. `prefix` names the member they are nested in
    /// (`addr`): missing, mistyped and unexpected members are then reported by their path (`addr.port`).
    public func validate(_ arguments: JSONObject, prefix: String? = nil) throws(QMPError) {
        func path(_ name: String) -> String { prefix.map { "\($0).\(name)" } ?? name }
        for member in members {
            guard let value = arguments[member.name] else {
                if member.isOptional { continue }
                throw QMPError.missingParameter(path(member.name))
            }
            try Self.check(value, as: member.type, name: member.name, fullName: path(member.name))
        }
        // The usual case (no member left over) is found without building anything: this runs for
        // every command.
        if !allowsExtraMembers,
            arguments.members.contains(where: { member in !members.contains { $0.name == member.key } }),
            let name = QObjectInputOrder.unexpectedMember(in: arguments, schemaOrder: members.map(\.name))
        {
            throw QMPError.unexpectedParameter(path(name))
        }
    }

    /// Checks one value. `name` is what enum errors print (QEMU prints `null` for list elements);
    /// `fullName` is the path type errors print (`enable[0]`).
    static func check(_ value: JSONValue, as type: QAPIType, name: String?, fullName: String) throws(QMPError) {
        switch type {
        case .any:
            return
        case .string:
            guard case .string = value else { throw .invalidParameterType(fullName, expected: "string") }
        case .enumeration(let allowed):
            guard case .string(let s) = value else { throw .invalidParameterType(fullName, expected: "string") }
            guard allowed.contains(s) else { throw .invalidParameterValue(name ?? "null", value: s) }
        case .int:
            guard case .int = value else { throw .invalidParameterType(fullName, expected: "integer") }
        case .unsigned(let bits):
            switch value {
            case .int(let i):
                // QEMU's input visitor reads a negative int into uint64 by wrapping; narrower types then range-check.
                if bits < 64 && (i < 0 || UInt64(i) >> UInt64(bits) != 0) {
                    throw .parameterExpects(fullName, "uint\(bits)_t")
                }
            case .uint(let u):
                if bits < 64 && u >> UInt64(bits) != 0 { throw .parameterExpects(fullName, "uint\(bits)_t") }
            default:
                throw .invalidParameterType(fullName, expected: "integer")
            }
        case .bool:
            guard case .bool = value else { throw .invalidParameterType(fullName, expected: "boolean") }
        case .number:
            switch value {
            case .int, .uint, .double: return
            default: throw .invalidParameterType(fullName, expected: "number")
            }
        case .object:
            guard case .object = value else { throw .invalidParameterType(fullName, expected: "object") }
        case .array(let element):
            guard case .array(let elements) = value else { throw .invalidParameterType(fullName, expected: "array") }
            for (i, e) in elements.enumerated() {
                try check(e, as: element, name: nil, fullName: "\(fullName)[\(i)]")
            }
        }
    }
}
