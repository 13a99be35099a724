/// Reads a mapping the way configuration code wants it: fetch keys by name with ``required(_:)`` and
/// ``optional(_:)``, then call ``finish()`` to reject every key nobody asked for.
///
/// ```swift
/// var controller = try node.mapping()
/// let driver = try controller.required("driver").string()
/// let chassis = try controller.optional("chassis")?.int()
/// try controller.finish()  // line 7, column 5: unknown key 'chasis' (expected one of: driver, chassis)
/// ```
public struct YAMLMapping: Sendable {
    /// The entries, in document order.
    public let entries: [YAMLNode.Entry]
    /// The 1-based line of the mapping (its first key, or the `{` of a flow mapping).
    public let line: Int
    /// The 1-based column of the mapping.
    public let column: Int
    /// Every key asked for so far, in the order asked: the list an unknown-key error offers.
    public private(set) var expectedKeys: [String] = []

    /// Makes a reader over a mapping's entries.
    public init(_ entries: [YAMLNode.Entry], line: Int, column: Int) {
        self.entries = entries
        self.line = line
        self.column = column
    }

    /// The value of `key`, or nil when the mapping lacks it. A key present with an empty value
    /// gives a null node (check ``YAMLNode/isNull``).
    public mutating func optional(_ key: String) -> YAMLNode? {
        if !expectedKeys.contains(key) { expectedKeys.append(key) }
        return entries.first { $0.key.text == key }?.value
    }

    /// The value of `key`, or `missing required key 'key'` at the mapping's position.
    public mutating func required(_ key: String) throws(YAMLError) -> YAMLNode {
        guard let value = optional(key) else {
            throw YAMLError(line: line, column: column, message: "missing required key '\(key)'")
        }
        return value
    }

    /// Throws `unknown key 'k' (expected one of: …)` at the first key that was never asked for.
    public func finish() throws(YAMLError) {
        guard let unknown = entries.first(where: { !expectedKeys.contains($0.key.text) })?.key else { return }
        let list = expectedKeys.joined(separator: ", ")
        let expected = expectedKeys.isEmpty ? "no keys expected" : "expected one of: \(list)"
        let message = "unknown key '\(unknown.text)' (\(expected))"
        throw YAMLError(line: unknown.line, column: unknown.column, message: message)
    }
}
