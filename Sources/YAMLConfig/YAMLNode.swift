/// A parsed YAML node and where it starts: the 1-based line and column of its first character (for a
/// block mapping its first key, for a sequence its first `-`, for a flow collection its bracket).
///
/// The throwing accessors turn a wrongly shaped value into a ``YAMLError`` at the node's position,
/// so configuration code gets `line 4, column 12: expected a string` for free.
///
/// A node is what ``YAMLParser`` leaves of libyaml's events: aliases are already copies of their
/// anchored node (the copy at the alias's position, its insides where the anchor was), merge keys
/// (`<<`) are already merged, and tags are kept on scalars (``YAMLScalar/tag``).
public struct YAMLNode: Sendable, Equatable {
    /// What a node holds.
    public enum Kind: Sendable, Equatable {
        /// A scalar (a null value is a plain scalar, see ``YAMLScalar/isNull``).
        case scalar(YAMLScalar)
        /// A block or flow sequence.
        case sequence([YAMLNode])
        /// A block or flow mapping, its entries in document order.
        case mapping([Entry])
    }

    /// One `key: value` pair of a mapping; the key keeps its own position.
    public struct Entry: Sendable, Equatable {
        /// The key.
        public var key: YAMLScalar
        /// The value.
        public var value: YAMLNode

        /// Makes an entry.
        public init(key: YAMLScalar, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// What the node holds.
    public var kind: Kind
    /// The 1-based line of the node's first character.
    public var line: Int
    /// The 1-based column of the node's first character.
    public var column: Int

    /// Makes a node.
    public init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// Makes a scalar node at the scalar's position.
    public init(_ scalar: YAMLScalar) {
        self.init(kind: .scalar(scalar), line: scalar.line, column: scalar.column)
    }

    /// An error at this node's position, for checks the accessors below do not cover.
    public func error(_ message: String) -> YAMLError {
        YAMLError(line: line, column: column, message: message)
    }

    /// True when the node is a null scalar (an empty value, `~` or `null`).
    public var isNull: Bool {
        if case .scalar(let scalar) = kind { return scalar.isNull }
        return false
    }

    /// The scalar, or `expected a scalar`.
    public func scalar() throws(YAMLError) -> YAMLScalar {
        guard case .scalar(let scalar) = kind else { throw error("expected a scalar") }
        return scalar
    }

    /// The text of any non-null scalar (a plain `1` reads as `"1"`), or `expected a string`.
    public func string() throws(YAMLError) -> String {
        guard case .scalar(let scalar) = kind, !scalar.isNull else { throw error("expected a string") }
        return scalar.text
    }

    /// The value of a plain integer scalar (see ``YAMLScalar/intValue``), or `expected an integer`.
    public func int() throws(YAMLError) -> Int {
        guard case .scalar(let scalar) = kind, let value = scalar.intValue else { throw error("expected an integer") }
        return value
    }

    /// The value of a plain boolean scalar (see ``YAMLScalar/boolValue``), or `expected a boolean`.
    public func bool() throws(YAMLError) -> Bool {
        guard case .scalar(let scalar) = kind, let value = scalar.boolValue else { throw error("expected a boolean") }
        return value
    }

    /// The items of a sequence, or `expected a sequence`.
    public func sequence() throws(YAMLError) -> [YAMLNode] {
        guard case .sequence(let items) = kind else { throw error("expected a sequence") }
        return items
    }

    /// A reader over a mapping's entries, or `expected a mapping`.
    public func mapping() throws(YAMLError) -> YAMLMapping {
        guard case .mapping(let entries) = kind else { throw error("expected a mapping") }
        return YAMLMapping(entries, line: line, column: column)
    }
}
