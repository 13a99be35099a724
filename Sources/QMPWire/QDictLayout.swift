/// The QDict iteration order of a fixed list of keys, computed once: for small objects that are
/// rendered again and again with the same keys (events), so that writing one costs no hashing and
/// no sorting. ``JSONWriter/writeObject(layout:into:value:)`` writes such an object.
public struct QDictLayout: Sendable {
    /// The keys in insertion order.
    public let keys: [String]
    /// Indices into ``keys`` in QDict iteration order (``QDictOrder``).
    public let order: [Int]
    /// `"KEY": ` as the writer renders it, by index into ``keys``.
    let renderedKeys: [[UInt8]]

    /// - Parameter keys: the member keys in the order the object is built (unique).
    public init(keys: [String]) {
        self.keys = keys
        var object = JSONObject(capacity: keys.count)
        for key in keys { object.append(key, .null) }
        order = QDictOrder.withOrderedIndices(of: object) { Array($0) }
        renderedKeys = keys.map { key in
            var bytes: [UInt8] = []
            JSONWriter.writeString(key, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(UInt8(ascii: " "))
            return bytes
        }
    }
}
