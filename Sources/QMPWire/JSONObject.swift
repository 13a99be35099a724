/// A JSON object whose members keep the order in which they were inserted.
///
/// QEMU's `QDict` is a hash table; ``JSONWriter`` reproduces its iteration order from the insertion
/// order, so an object built in QEMU's order (schema order for replies, input order for parsed
/// client JSON) serialises byte-for-byte like QEMU. Lookup is linear: QMP objects are small.
/// Equality is member-order sensitive.
public struct JSONObject: Sendable, Equatable {
    /// One member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        @inlinable public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in insertion order. Keys are unique.
    public private(set) var members: [Member]

    public init() { members = [] }

    /// An empty object with room for `capacity` members (saves regrowing while building one).
    public init(capacity: Int) {
        members = []
        members.reserveCapacity(capacity)
    }

    /// Builds an object from key/value pairs; a later duplicate key replaces the earlier value.
    public init(_ pairs: [(String, JSONValue)]) {
        members = []
        members.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// Builds an object from members already known to have unique keys (the parser checks).
    init(uniqueMembers: [Member]) { members = uniqueMembers }

    @inlinable public var count: Int { members.count }
    @inlinable public var isEmpty: Bool { members.isEmpty }
    @inlinable public var keys: [String] { members.map(\.key) }

    /// Reads or writes a member. Writing `nil` removes it; writing a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Appends a member without checking for a duplicate key (callers building fresh objects).
    public mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    @inlinable public func contains(_ key: String) -> Bool {
        members.contains { $0.key == key }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
