import QMPWire
import SimulatedMachine
import YAMLConfig

/// A configuration value read from YAML (with its position) or from a control-plane JSON argument (without):
/// the one shape the persona and configuration parsers read, so both sources share their rules and texts.
struct OptionNode {
    /// One `key: value` pair of a mapping, the key with its own position.
    struct Entry {
        var key: String
        var line: Int?
        var column: Int?
        var value: OptionNode
    }

    enum Kind {
        case null
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case string(String)
        case list([OptionNode])
        case map([Entry])
    }

    var kind: Kind
    var line: Int?
    var column: Int?

    init(kind: Kind, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// A YAML node: plain scalars are typed (integer, boolean, number, null), quoted ones are strings,
    /// and tagged ones (`!!str 10`, `!!int "10"`) what their tag says.
    init(yaml node: YAMLNode) {
        switch node.kind {
        case .scalar(let scalar):
            if scalar.isNull {
                kind = .null
            } else if let value = scalar.intValue {
                kind = .int(Int64(value))
            } else if let value = scalar.boolValue {
                kind = .bool(value)
            } else if let value = scalar.doubleValue {
                kind = .double(value)
            } else {
                kind = .string(scalar.text)
            }
        case .sequence(let items):
            kind = .list(items.map { OptionNode(yaml: $0) })
        case .mapping(let entries):
            kind = .map(
                entries.map {
                    Entry(key: $0.key.text, line: $0.key.line, column: $0.key.column, value: OptionNode(yaml: $0.value))
                }
            )
        }
        line = node.line
        column = node.column
    }

    /// A JSON value (control plane); errors carry no position.
    init(json value: JSONValue) {
        switch value {
        case .null: kind = .null
        case .bool(let b): kind = .bool(b)
        case .int(let i): kind = .int(i)
        case .uint(let u): kind = u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): kind = .double(d)
        case .string(let s): kind = .string(s)
        case .array(let items): kind = .list(items.map { OptionNode(json: $0) })
        case .object(let object):
            kind = .map(object.members.map { Entry(key: $0.key, value: OptionNode(json: $0.value)) })
        }
    }

    /// A JSON object as a mapping node.
    init(json object: JSONObject) {
        self.init(json: .object(object))
    }

    /// An error at this node's position (if it has one).
    func error(_ message: String) -> MachineConfigurationError {
        MachineConfigurationError(line: line, column: column, message: message)
    }

    var isNull: Bool {
        if case .null = kind { return true }
        return false
    }

    /// An integer; a string spelling one (decimal or `0x` hex) is accepted too, as JSON has no hex.
    func integer(_ what: String) throws(MachineConfigurationError) -> Int64 {
        switch kind {
        case .int(let value): return value
        case .string(let text):
            if let value = Self.parseInteger(text) { return value }
        default: break
        }
        throw error("\(what) must be an integer")
    }

    /// An integer within `range`.
    func integer(_ what: String, in range: ClosedRange<Int64>) throws(MachineConfigurationError) -> Int64 {
        let value = try integer(what)
        guard range.contains(value) else {
            throw error("\(what) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))")
        }
        return value
    }

    /// A finite number (integer or decimal).
    func number(_ what: String) throws(MachineConfigurationError) -> Double {
        switch kind {
        case .int(let value): return Double(value)
        case .double(let value) where value.isFinite: return value
        case .string(let text):
            if let value = Double(text), value.isFinite { return value }
        default: break
        }
        throw error("\(what) must be a number")
    }

    /// A boolean.
    func boolean(_ what: String) throws(MachineConfigurationError) -> Bool {
        if case .bool(let value) = kind { return value }
        throw error("\(what) must be true or false")
    }

    /// The text of a scalar.
    func text(_ what: String) throws(MachineConfigurationError) -> String {
        switch kind {
        case .string(let text): return text
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .double(let value): return String(value)
        default: throw error("\(what) must be a string")
        }
    }

    /// The items of a list.
    func items(_ what: String) throws(MachineConfigurationError) -> [OptionNode] {
        if case .list(let items) = kind { return items }
        throw error("\(what) must be a list")
    }

    /// A reader over a mapping.
    func mapping(_ what: String) throws(MachineConfigurationError) -> OptionMap {
        if case .map(let entries) = kind { return OptionMap(entries: entries, line: line, column: column) }
        throw error("\(what) must be a mapping")
    }

    /// Decimal, `0x` hex or `0o` octal, optionally signed.
    static func parseInteger(_ text: String) -> Int64? {
        IntegerLiteral.parse(text.trimmingSpaces())
    }
}

extension String {
    /// The text without leading and trailing spaces.
    func trimmingSpaces() -> String {
        let characters = Array(self)
        guard let start = characters.firstIndex(where: { $0 != " " }),
            let end = characters.lastIndex(where: { $0 != " " })
        else { return "" }
        return String(characters[start...end])
    }
}
