/// A printed picture of everything a value holds, found by reflection (`Mirror`): every stored
/// property of every struct, enum and class reachable from it. Class instances are numbered in the
/// order first met, so two object graphs of the same shape and values print the same text, and
/// ``objects`` says which instances were met (to check that two graphs share none). Dictionary
/// entries are walked in the order of their keys and set members printed sorted (their storage order
/// may differ between equal values); closures print as `(Function)`.
struct GraphDump {
    private(set) var text = ""
    private(set) var objects: [ObjectIdentifier: Int] = [:]
    /// Stored properties left out, by name.
    let skipping: Set<String>

    init(_ value: Any, skipping: Set<String> = []) {
        self.skipping = skipping
        text = describe(value)
    }

    private mutating func describe(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .class:
            let object = value as AnyObject
            let key = ObjectIdentifier(object)
            if let number = objects[key] { return "@\(number)" }
            let number = objects.count
            objects[key] = number
            return "\(type(of: value))#\(number)" + members(mirror)
        case .optional:
            return mirror.children.first.map { describe($0.value) } ?? "nil"
        case .dictionary:
            // Keys first, then the values in key order: objects are numbered in the order met, and
            // the storage order of two equal dictionaries may differ.
            let pairs = mirror.children.map { entry -> (key: String, value: Any) in
                let pair = Mirror(reflecting: entry.value).children.map(\.value)
                return (describe(pair[0]), pair[1])
            }
            let entries = pairs.sorted { $0.key < $1.key }.map { $0.key + ": " + describe($0.value) }
            return "[" + entries.joined(separator: ", ") + "]"
        case .set:
            return "{" + mirror.children.map { describe($0.value) }.sorted().joined(separator: ", ") + "}"
        case .collection:
            return "[" + mirror.children.map { describe($0.value) }.joined(separator: ", ") + "]"
        case .enum where !mirror.children.isEmpty:
            return "." + members(mirror)
        case .struct, .tuple:
            return "\(type(of: value))" + members(mirror)
        default:
            return String(describing: value)
        }
    }

    private mutating func members(_ mirror: Mirror) -> String {
        var parts: [String] = []
        for child in mirror.children where !skipping.contains(child.label ?? "") {
            parts.append((child.label ?? "_") + ": " + describe(child.value))
        }
        return "(" + parts.joined(separator: ", ") + ")"
    }
}
