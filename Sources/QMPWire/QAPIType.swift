/// The type of a command argument as QEMU's QAPI schema declares it, enough to validate arguments
/// with the texts of QEMU's generated input visitor.
public indirect enum QAPIType: Sendable, Equatable {
    case string
    /// A signed 64-bit integer (`int`).
    case int
    /// An unsigned integer of the given bit width (`uint8` … `uint64`).
    case unsigned(bits: Int)
    case bool
    /// A double (`number`); integers are accepted too.
    case number
    /// Any JSON value (`any`).
    case any
    /// An enum with its values.
    case enumeration([String])
    /// A list of elements of one type.
    case array(QAPIType)
    /// A JSON object, taken as it is (`dict`-typed arguments).
    case object

    /// The word QEMU uses in `Invalid parameter type for 'x', expected: WORD`.
    public var expectedName: String {
        switch self {
        case .string, .enumeration: return "string"
        case .int, .unsigned: return "integer"
        case .bool: return "boolean"
        case .number: return "number"
        case .any: return "any"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
