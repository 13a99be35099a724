/// Builds the ``YAMLNode`` tree of one document from libyaml's events (``YAMLEvent``), adding the rules
/// libyaml's event API leaves to its user: aliases resolved, merge keys (`<<`) merged, tags checked
/// against the core schema, keys that are scalars and appear once, and a single document.
///
/// Aliases are copies (cheap: nodes are values sharing their storage), but a document that nests
/// aliases of aliases could still expand exponentially ("billion laughs"), so the expanded tree is
/// limited to ``nodeLimit`` nodes.
struct YAMLTreeBuilder {
    /// The largest tree, in nodes with every alias expanded, that a document may describe.
    static let nodeLimit = 100_000

    /// A collection being read: its items so far (for a mapping, keys and values alternating).
    private struct Frame {
        var isMapping: Bool
        var anchor: String?
        var mark: YAMLEvent.Mark
        var items: [YAMLNode] = []
        /// Nodes in the collection so far, itself included, with aliases expanded.
        var size = 1
    }

    private var stack: [Frame] = []
    /// Every anchored node so far and its expanded size: a later anchor of the same name replaces it.
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var documents = 0
    /// The document's root once its last event is read (nil for an empty stream).
    private(set) var root: YAMLNode?

    /// Consumes one event.
    mutating func consume(_ event: YAMLEvent) throws(YAMLError) {
        switch event {
        case .documentStart(let mark):
            documents += 1
            if documents > 1 { throw Self.error("multiple documents are not supported", mark) }
        case .scalar(let text, let style, let anchor, let tag, let mark):
            let scalar = YAMLScalar(
                text: text,
                style: style,
                tag: try Self.scalarTag(tag, text: text, style: style, mark),
                line: mark.line,
                column: mark.column
            )
            try complete(YAMLNode(scalar), size: 1, anchor: anchor)
        case .sequenceStart(let anchor, let tag, let mark):
            try Self.checkCollectionTag(tag, expected: "seq", mark)
            stack.append(Frame(isMapping: false, anchor: anchor, mark: mark))
        case .mappingStart(let anchor, let tag, let mark):
            try Self.checkCollectionTag(tag, expected: "map", mark)
            stack.append(Frame(isMapping: true, anchor: anchor, mark: mark))
        case .sequenceEnd, .mappingEnd:
            guard let frame = stack.popLast() else { return }
            let kind: YAMLNode.Kind = frame.isMapping ? .mapping(try Self.entries(frame.items)) : .sequence(frame.items)
            try complete(
                YAMLNode(kind: kind, line: frame.mark.line, column: frame.mark.column),
                size: frame.size,
                anchor: frame.anchor
            )
        case .alias(let name, let mark):
            guard let anchored = anchors[name] else {
                throw Self.error("unknown alias '*\(name)' (an alias must come after its anchor '&\(name)')", mark)
            }
            try complete(Self.moved(anchored.node, to: mark), size: anchored.size, anchor: nil)
        case .other, .streamEnd:
            break
        }
    }

    /// Adds a finished node to the collection being read (or makes it the root).
    private mutating func complete(_ node: YAMLNode, size: Int, anchor: String?) throws(YAMLError) {
        if let anchor { anchors[anchor] = (node, size) }
        guard var frame = stack.popLast() else {
            root = node
            return
        }
        if frame.isMapping && frame.items.count.isMultiple(of: 2) {
            guard case .scalar(let key) = node.kind else {
                throw YAMLError(line: node.line, column: node.column, message: "a mapping key must be a scalar")
            }
            if key.isNull && key.style == .plain && key.tag == nil {
                throw YAMLError(line: node.line, column: node.column, message: "missing mapping key")
            }
        }
        frame.items.append(node)
        frame.size += size
        if frame.size > Self.nodeLimit {
            throw YAMLError(
                line: node.line,
                column: node.column,
                message: "the document expands to more than \(Self.nodeLimit) nodes (aliases of aliases?)"
            )
        }
        stack.append(frame)
    }

    // MARK: Mappings and merge keys

    /// A mapping's entries from its alternating keys and values: duplicate keys refused, and each `<<`
    /// entry replaced by the entries of the mapping (or mappings) it names that no explicit key of this
    /// mapping and no earlier merged entry already sets (YAML 1.1's merge key, as PyYAML reads it).
    private static func entries(_ items: [YAMLNode]) throws(YAMLError) -> [YAMLNode.Entry] {
        var explicit: [YAMLNode.Entry] = []
        var hasMerge = false
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard case .scalar(let key) = items[index].kind else { continue }
            if isMergeKey(key) {
                hasMerge = true
                continue
            }
            if explicit.contains(where: { $0.key.text == key.text }) {
                throw YAMLError(line: key.line, column: key.column, message: "duplicate key '\(key.text)'")
            }
            explicit.append(YAMLNode.Entry(key: key, value: items[index + 1]))
        }
        guard hasMerge else { return explicit }
        var result: [YAMLNode.Entry] = []
        var taken = Set(explicit.map(\.key.text))
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard case .scalar(let key) = items[index].kind else { continue }
            guard isMergeKey(key) else {
                result.append(YAMLNode.Entry(key: key, value: items[index + 1]))
                continue
            }
            for source in try mergeSources(items[index + 1]) {
                for entry in source where !taken.contains(entry.key.text) {
                    taken.insert(entry.key.text)
                    result.append(entry)
                }
            }
        }
        return result
    }

    /// A plain, untagged `<<` key.
    private static func isMergeKey(_ key: YAMLScalar) -> Bool {
        key.text == "<<" && key.style == .plain && key.tag == nil
    }

    /// The mappings a merge key's value names: one mapping, or a sequence of them (earlier ones win).
    private static func mergeSources(_ value: YAMLNode) throws(YAMLError) -> [[YAMLNode.Entry]] {
        switch value.kind {
        case .mapping(let entries): return [entries]
        case .sequence(let items):
            var sources: [[YAMLNode.Entry]] = []
            for item in items {
                guard case .mapping(let entries) = item.kind else {
                    throw item.error("a merge key '<<' takes a mapping or a sequence of mappings")
                }
                sources.append(entries)
            }
            return sources
        case .scalar:
            throw value.error("a merge key '<<' takes a mapping or a sequence of mappings")
        }
    }

    // MARK: Aliases

    /// An anchored node as an alias repeats it: at the alias's position (its insides where the anchor was).
    private static func moved(_ node: YAMLNode, to mark: YAMLEvent.Mark) -> YAMLNode {
        var copy = node
        copy.line = mark.line
        copy.column = mark.column
        if case .scalar(var scalar) = copy.kind {
            scalar.line = mark.line
            scalar.column = mark.column
            copy.kind = .scalar(scalar)
        }
        return copy
    }

    // MARK: Tags

    private static let coreTagPrefix = "tag:yaml.org,2002:"

    /// The tags a document may use, as an error lists them.
    private static let knownTags = (YAMLScalar.Tag.allCases.map(\.rawValue) + ["map", "seq"]).map { "!!\($0)" }
        .joined(separator: ", ")

    /// `!!str` for a core tag, the tag as written otherwise.
    private static func display(_ tag: String) -> String {
        tag.hasPrefix(coreTagPrefix) ? "!!" + tag.dropFirst(coreTagPrefix.count) : tag
    }

    private static func unknownTag(_ tag: String, _ mark: YAMLEvent.Mark) -> YAMLError {
        error("unknown tag '\(display(tag))' (expected one of: \(knownTags))", mark)
    }

    /// The core tag of a scalar, checked against its text: `!!int abc` is an error, not a string.
    private static func scalarTag(
        _ tag: String?,
        text: String,
        style: YAMLScalar.Style,
        _ mark: YAMLEvent.Mark
    ) throws(YAMLError) -> YAMLScalar.Tag? {
        guard let tag else { return nil }
        if tag == "!" { return .string }  // the non-specific tag: a string (YAML 1.1, 10.1)
        guard tag.hasPrefix(coreTagPrefix) else { throw unknownTag(tag, mark) }
        let name = String(tag.dropFirst(coreTagPrefix.count))
        if name == "map" || name == "seq" { throw error("tag '!!\(name)' on a scalar", mark) }
        guard let resolved = YAMLScalar.Tag(rawValue: name) else { throw unknownTag(tag, mark) }
        let scalar = YAMLScalar(text: text, style: style, tag: resolved, line: mark.line, column: mark.column)
        let fits: Bool
        switch resolved {
        case .string: fits = true
        case .int: fits = scalar.intValue != nil
        case .float: fits = scalar.doubleValue != nil
        case .bool: fits = scalar.boolValue != nil
        case .null: fits = ["", "~", "null", "Null", "NULL"].contains(text)
        }
        guard fits else { throw error("'\(text)' is not a valid !!\(name)", mark) }
        return resolved
    }

    /// Accepts no tag, `!` or the collection's own core tag (`!!map`, `!!seq`).
    private static func checkCollectionTag(_ tag: String?, expected: String, _ mark: YAMLEvent.Mark) throws(YAMLError) {
        guard let tag, tag != "!", tag != coreTagPrefix + expected else { return }
        let isCore = tag.hasPrefix(coreTagPrefix)
        let name = tag.dropFirst(coreTagPrefix.count)
        if isCore && (name == "map" || name == "seq" || YAMLScalar.Tag(rawValue: String(name)) != nil) {
            throw error("tag '!!\(name)' on a \(expected == "map" ? "mapping" : "sequence")", mark)
        }
        throw unknownTag(tag, mark)
    }

    private static func error(_ message: String, _ mark: YAMLEvent.Mark) -> YAMLError {
        YAMLError(line: mark.line, column: mark.column, message: message)
    }
}
