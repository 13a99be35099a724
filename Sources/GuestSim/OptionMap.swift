import SimulatedMachine

/// Reads a mapping ``OptionNode`` key by key and then rejects the keys nobody asked for, like the machine
/// configuration's `YAMLMapping`.
struct OptionMap {
    let entries: [OptionNode.Entry]
    let line: Int?
    let column: Int?
    /// Every key asked for so far, in the order asked (the list an unknown-key error offers).
    private(set) var expectedKeys: [String] = []
    /// Keys that are accepted without being read (the control plane's own arguments).
    var ignoredKeys: Set<String> = []

    init(entries: [OptionNode.Entry], line: Int?, column: Int?) {
        self.entries = entries
        self.line = line
        self.column = column
    }

    /// Whether the mapping has the key (without asking for it).
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key`, or nil.
    mutating func optional(_ key: String) -> OptionNode? {
        if !expectedKeys.contains(key) { expectedKeys.append(key) }
        return entries.first { $0.key == key }?.value
    }

    /// The value of `key`, or `missing required key 'key'` at the mapping's position.
    mutating func required(_ key: String, context: String = "") throws(MachineConfigurationError) -> OptionNode {
        guard let value = optional(key) else {
            let suffix = context.isEmpty ? "" : " \(context)"
            throw MachineConfigurationError(
                line: line,
                column: column,
                message: "missing required key '\(key)'\(suffix)"
            )
        }
        return value
    }

    /// Throws `unknown key 'k' (expected one of: …)` at the first key never asked for.
    func finish(context: String = "") throws(MachineConfigurationError) {
        guard let unknown = entries.first(where: { !expectedKeys.contains($0.key) && !ignoredKeys.contains($0.key) })
        else {
            return
        }
        let list = expectedKeys.joined(separator: ", ")
        let expected = expectedKeys.isEmpty ? "no keys expected" : "expected one of: \(list)"
        let suffix = context.isEmpty ? "" : " \(context)"
        throw MachineConfigurationError(
            line: unknown.line,
            column: unknown.column,
            message: "unknown key '\(unknown.key)'\(suffix) (\(expected))"
        )
    }
}
