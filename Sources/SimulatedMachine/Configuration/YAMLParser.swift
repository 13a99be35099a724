/// Parses the block-style subset of YAML that qmp-mock's configuration files use, without Foundation.
///
/// Supported: block mappings and sequences nested by space indentation (`- key: value` items, and a
/// sequence under a key at the key's own indentation); plain, single-quoted and double-quoted scalars
/// on one line; flow sequences and mappings on one line; literal block scalars (`|`, `|-`, `|+`);
/// comments; a leading `---` and a trailing `...`.
///
/// Rejected with an error naming the line and column: anchors, aliases, tags, directives, complex
/// keys, folded scalars, multi-line plain or quoted scalars, a second document, tabs in indentation,
/// and duplicate keys.
public struct YAMLParser {
    /// The document's lines, as Unicode scalars, without their line breaks.
    private let lines: [[Unicode.Scalar]]
    /// The 0-based line being parsed; after a node is parsed, the last line the node used.
    private var row = 0

    private init(_ text: String) {
        var lines: [[Unicode.Scalar]] = [[]]
        for scalar in text.unicodeScalars {
            if scalar == "\n" { lines.append([]) } else { lines[lines.count - 1].append(scalar) }
        }
        if lines.count > 1, lines[lines.count - 1].isEmpty { lines.removeLast() }
        if lines[0].first == "\u{FEFF}" { lines[0].removeFirst() }
        self.lines = lines.map { $0.last == "\r" ? Array($0.dropLast()) : $0 }
    }

    /// Parses one YAML document; an empty document is a null scalar at line 1, column 1.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode {
        var parser = YAMLParser(text)
        return try parser.parseDocument()
    }

    // MARK: Block structure

    private mutating func parseDocument() throws(YAMLError) -> YAMLNode {
        var start = nextContentRow(after: -1)
        if let first = start, lines[first].first == "%" { throw error("directives are not supported", first, 0) }
        if let first = start, marker(first) == "---" {
            guard atLineEnd(first, skipSpaces(first, 3)) else {
                throw error("content after '---' is not supported", first, skipSpaces(first, 3))
            }
            start = nextContentRow(after: first)
        }
        var root = YAMLNode(YAMLScalar(text: "", style: .plain, line: 1, column: 1))
        if let first = start, marker(first) == nil {
            row = first
            root = try parseNode(first, try indent(first), parent: -1, block: true)
        } else {
            row = (start ?? lines.count) - 1
        }
        guard let next = nextContentRow(after: row) else { return root }
        switch marker(next) {
        case "...":
            guard atLineEnd(next, skipSpaces(next, 3)), let extra = nextContentRow(after: next) else { return root }
            throw error("multiple documents are not supported", extra, 0)
        case "---": throw error("multiple documents are not supported", next, 0)
        default: throw error("expected the end of the document", next, try indent(next))
        }
    }

    /// Parses the node whose first character is at `col` of line `r`. `parent` is the indentation of
    /// the enclosing collection; `block` says whether a block collection may start here.
    private mutating func parseNode(_ r: Int, _ col: Int, parent: Int, block: Bool) throws(YAMLError) -> YAMLNode {
        let first = lines[r][col]
        if isSequenceItem(r, col) {
            guard block else { throw error("a block sequence cannot start here; start it on the next line", r, col) }
            return try parseSequence(r, col)
        }
        if first == "|" { return try parseLiteral(r, col, parent: parent) }
        if first == ">" { throw error("folded block scalars ('>') are not supported; use '|'", r, col) }
        if first == "[" || first == "{" {
            var end = col
            let node = try parseFlow(r, &end)
            try expectLineEnd(r, end)
            return node
        }
        let (scalar, end) = try scanScalar(r, col, flow: false)
        let colon = skipSpaces(r, end)
        if isValueIndicator(r, colon, flow: false) {
            guard block else {
                throw error("mapping values are not allowed here (quote the value if it contains ': ')", r, colon)
            }
            return try parseMapping(r, col)
        }
        try expectLineEnd(r, end)
        return YAMLNode(scalar)
    }

    private mutating func parseSequence(_ r: Int, _ indent: Int) throws(YAMLError) -> YAMLNode {
        var items: [YAMLNode] = []
        row = r
        while true {
            let start = skipSpaces(row, indent + 1)
            if atLineEnd(row, start) {
                items.append(try parseBlockValue(parent: indent, sequenceAtParent: false, nullAt: indent + 1))
            } else {
                items.append(try parseNode(row, start, parent: indent, block: true))
            }
            guard let next = try peek(), next.indent >= indent else { break }
            if next.indent > indent { throw error("bad indentation", next.row, next.indent) }
            guard isSequenceItem(next.row, indent) else { break }
            row = next.row
        }
        return YAMLNode(kind: .sequence(items), line: r + 1, column: indent + 1)
    }

    private mutating func parseMapping(_ r: Int, _ indent: Int) throws(YAMLError) -> YAMLNode {
        var entries: [YAMLNode.Entry] = []
        row = r
        while true {
            let (key, end) = try scanScalar(row, indent, flow: false)
            let colon = skipSpaces(row, end)
            guard isValueIndicator(row, colon, flow: false) else {
                throw error("expected ':' after the mapping key", row, colon)
            }
            try checkDuplicate(key, in: entries)
            let start = skipSpaces(row, colon + 1)
            let value: YAMLNode
            if atLineEnd(row, start) {
                value = try parseBlockValue(parent: indent, sequenceAtParent: true, nullAt: colon + 1)
            } else {
                value = try parseNode(row, start, parent: indent, block: false)
            }
            entries.append(YAMLNode.Entry(key: key, value: value))
            guard let next = try peek(), next.indent >= indent else { break }
            if next.indent > indent { throw error("bad indentation", next.row, next.indent) }
            row = next.row
        }
        return YAMLNode(kind: .mapping(entries), line: r + 1, column: indent + 1)
    }

    /// The value after a `key:` or `-` that ends its line: the node on the following lines when it is
    /// indented deeper than `parent` (or is a sequence at `parent`'s indentation after a key), else a
    /// null scalar at column `nullAt` of the current line.
    private mutating func parseBlockValue(
        parent: Int,
        sequenceAtParent: Bool,
        nullAt: Int
    ) throws(YAMLError)
        -> YAMLNode
    {
        if let next = try peek(),
            next.indent > parent || (sequenceAtParent && next.indent == parent && isSequenceItem(next.row, parent))
        {
            row = next.row
            return try parseNode(next.row, next.indent, parent: parent, block: true)
        }
        return YAMLNode(YAMLScalar(text: "", style: .plain, line: row + 1, column: nullAt + 1))
    }

    /// A literal block scalar whose `|` is at `col`; its lines must be indented deeper than `parent`.
    private mutating func parseLiteral(_ r: Int, _ col: Int, parent: Int) throws(YAMLError) -> YAMLNode {
        var end = col + 1
        let chomp = char(r, end)
        if chomp == "-" || chomp == "+" { end += 1 }
        if let digit = char(r, end), ("1"..."9").contains(digit) {
            throw error("block scalar indentation indicators are not supported", r, end)
        }
        try expectLineEnd(r, end)
        row = r
        var body: [String] = []
        var contentLines = 0
        var contentIndent: Int?
        var n = r + 1
        while n < lines.count, marker(n) == nil {
            let spaces = lines[n].prefix { $0 == " " }.count
            if spaces == lines[n].count {
                body.append(text(n, min(contentIndent ?? spaces, spaces)..<spaces))
            } else {
                let indent = contentIndent ?? spaces
                guard spaces > parent, spaces >= indent else { break }
                contentIndent = indent
                body.append(text(n, indent..<lines[n].count))
                contentLines = body.count
                row = n
            }
            n += 1
        }
        var value = body[..<contentLines].joined(separator: "\n")
        if chomp != "-" && contentLines > 0 { value += "\n" }
        if chomp == "+" { value += String(repeating: "\n", count: body.count - contentLines) }
        return YAMLNode(YAMLScalar(text: value, style: .literal, line: r + 1, column: col + 1))
    }

    private func checkDuplicate(_ key: YAMLScalar, in entries: [YAMLNode.Entry]) throws(YAMLError) {
        if entries.contains(where: { $0.key.text == key.text }) {
            throw YAMLError(line: key.line, column: key.column, message: "duplicate key '\(key.text)'")
        }
    }

    // MARK: Flow collections and scalars

    /// A flow sequence or mapping starting at `i`, which ends up just past the closing bracket.
    private func parseFlow(_ r: Int, _ i: inout Int) throws(YAMLError) -> YAMLNode {
        let open = i
        let isMapping = lines[r][i] == "{"
        let close: Unicode.Scalar = isMapping ? "}" : "]"
        let unterminated = error(
            "unterminated flow \(isMapping ? "mapping" : "sequence") (flow collections must fit on one line)",
            r,
            open
        )
        var items: [YAMLNode] = []
        var entries: [YAMLNode.Entry] = []
        i += 1
        while true {
            i = skipSpaces(r, i)
            if atLineEnd(r, i) { throw unterminated }
            if char(r, i) == close { break }
            if isMapping {
                let (key, end) = try scanScalar(r, i, flow: true)
                i = skipSpaces(r, end)
                guard char(r, i) == ":" else { throw error("expected ':' after the mapping key", r, i) }
                try checkDuplicate(key, in: entries)
                i = skipSpaces(r, i + 1)
                let value: YAMLNode
                if char(r, i) == "," || char(r, i) == close {
                    value = YAMLNode(YAMLScalar(text: "", style: .plain, line: r + 1, column: i + 1))
                } else {
                    value = try parseFlowNode(r, &i)
                }
                entries.append(YAMLNode.Entry(key: key, value: value))
            } else {
                items.append(try parseFlowNode(r, &i))
            }
            i = skipSpaces(r, i)
            if char(r, i) == "," {
                i += 1
            } else if char(r, i) != close {
                throw atLineEnd(r, i) ? unterminated : error("expected ',' or '\(close)'", r, i)
            }
        }
        i += 1
        let kind: YAMLNode.Kind = isMapping ? .mapping(entries) : .sequence(items)
        return YAMLNode(kind: kind, line: r + 1, column: open + 1)
    }

    private func parseFlowNode(_ r: Int, _ i: inout Int) throws(YAMLError) -> YAMLNode {
        if char(r, i) == "[" || char(r, i) == "{" { return try parseFlow(r, &i) }
        let (scalar, end) = try scanScalar(r, i, flow: true)
        i = end
        return YAMLNode(scalar)
    }

    /// A quoted or plain scalar starting at `col`, and the column just past it (trailing spaces excluded).
    private func scanScalar(_ r: Int, _ col: Int, flow: Bool) throws(YAMLError) -> (YAMLScalar, Int) {
        let first = lines[r][col]
        if first == "\"" || first == "'" { return try scanQuoted(r, col) }
        try checkPlainStart(r, col, flow: flow)
        var i = col
        while let c = char(r, i) {
            if isValueIndicator(r, i, flow: flow) || (c == "#" && isSpace(char(r, i - 1))) { break }
            if flow && isFlowIndicator(c) { break }
            i += 1
        }
        while i > col && isSpace(lines[r][i - 1]) { i -= 1 }
        return (YAMLScalar(text: text(r, col..<i), style: .plain, line: r + 1, column: col + 1), i)
    }

    private func checkPlainStart(_ r: Int, _ col: Int, flow: Bool) throws(YAMLError) {
        let first = lines[r][col]
        let next = char(r, col + 1)
        let endsHere = next == nil || isSpace(next) || (flow && next.map(isFlowIndicator) == true)
        let message: String
        switch first {
        case "&": message = "anchors are not supported"
        case "*": message = "aliases are not supported"
        case "!": message = "tags are not supported"
        case "?" where endsHere: message = "complex keys ('? ') are not supported"
        case "-" where endsHere: message = "a sequence item is not allowed here"
        case ":" where endsHere: message = "missing mapping key before ':'"
        case "|", ">": message = "a block scalar is not allowed here"
        case "[", "]", "{", "}", ",", "%", "@", "`":
            message = "'\(first)' cannot start a plain scalar; quote the value"
        default: return
        }
        throw error(message, r, col)
    }

    private func scanQuoted(_ r: Int, _ col: Int) throws(YAMLError) -> (YAMLScalar, Int) {
        let quote = lines[r][col]
        var value = ""
        var i = col + 1
        while let c = char(r, i) {
            if c == quote {
                if quote == "'" && char(r, i + 1) == "'" {
                    value.unicodeScalars.append("'")
                    i += 2
                    continue
                }
                let style: YAMLScalar.Style = quote == "'" ? .singleQuoted : .doubleQuoted
                return (YAMLScalar(text: value, style: style, line: r + 1, column: col + 1), i + 1)
            }
            if c == "\\" && quote == "\"" {
                value.unicodeScalars.append(try unescape(r, &i))
            } else {
                value.unicodeScalars.append(c)
                i += 1
            }
        }
        let kind = quote == "'" ? "single" : "double"
        throw error("unterminated \(kind)-quoted scalar (quoted scalars must fit on one line)", r, col)
    }

    /// The character a `\` escape at `i` stands for; `i` ends up just past the escape.
    private func unescape(_ r: Int, _ i: inout Int) throws(YAMLError) -> Unicode.Scalar {
        let start = i
        guard let c = char(r, i + 1) else { throw error("incomplete escape sequence", r, start) }
        i += 2
        let digits: Int
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "0": return "\0"
        case "\"", "\\", "/": return c
        case "x": digits = 2
        case "u": digits = 4
        case "U": digits = 8
        default: throw error("unknown escape sequence '\\\(c)'", r, start)
        }
        let hex = lines[r][i..<min(i + digits, lines[r].count)]
        guard hex.count == digits, hex.allSatisfy(\.properties.isASCIIHexDigit),
            let code = UInt32(text(r, i..<i + digits), radix: 16), let scalar = Unicode.Scalar(code)
        else { throw error("invalid escape sequence '\\\(c)\(text(r, hex.indices))'", r, start) }
        i += digits
        return scalar
    }

    // MARK: Lines and characters

    private func error(_ message: String, _ r: Int, _ col: Int) -> YAMLError {
        YAMLError(line: r + 1, column: col + 1, message: message)
    }

    private func char(_ r: Int, _ col: Int) -> Unicode.Scalar? {
        col >= 0 && col < lines[r].count ? lines[r][col] : nil
    }

    private func text(_ r: Int, _ range: Range<Int>) -> String {
        var text = ""
        text.unicodeScalars.append(contentsOf: lines[r][range])
        return text
    }

    private func isSpace(_ c: Unicode.Scalar?) -> Bool { c == " " || c == "\t" }

    private func isFlowIndicator(_ c: Unicode.Scalar) -> Bool { ",[]{}".unicodeScalars.contains(c) }

    private func skipSpaces(_ r: Int, _ col: Int) -> Int {
        var i = col
        while isSpace(char(r, i)) { i += 1 }
        return i
    }

    /// True at the end of the line or at a comment.
    private func atLineEnd(_ r: Int, _ col: Int) -> Bool {
        guard let c = char(r, col) else { return true }
        return c == "#" && (col == 0 || isSpace(char(r, col - 1)))
    }

    private func expectLineEnd(_ r: Int, _ col: Int) throws(YAMLError) {
        let i = skipSpaces(r, col)
        if !atLineEnd(r, i) { throw error("unexpected text after the value", r, i) }
    }

    /// True when `col` holds a `:` that separates a key from its value.
    private func isValueIndicator(_ r: Int, _ col: Int, flow: Bool) -> Bool {
        guard char(r, col) == ":" else { return false }
        guard let next = char(r, col + 1) else { return true }
        return isSpace(next) || (flow && isFlowIndicator(next))
    }

    private func isSequenceItem(_ r: Int, _ col: Int) -> Bool {
        char(r, col) == "-" && (char(r, col + 1) == nil || isSpace(char(r, col + 1)))
    }

    /// `---` or `...` when line `r` is a document marker.
    private func marker(_ r: Int) -> String? {
        let line = lines[r]
        guard line.count >= 3, line[0] == "-" || line[0] == ".", line[1] == line[0], line[2] == line[0],
            line.count == 3 || isSpace(line[3])
        else { return nil }
        return line[0] == "-" ? "---" : "..."
    }

    /// The next line after `r` that is neither blank nor a comment.
    private func nextContentRow(after r: Int) -> Int? {
        var n = r + 1
        while n < lines.count && atLineEnd(n, skipSpaces(n, 0)) { n += 1 }
        return n < lines.count ? n : nil
    }

    /// The number of leading spaces of line `r`, or -1 for a document marker (which ends every block).
    private func indent(_ r: Int) throws(YAMLError) -> Int {
        if marker(r) != nil { return -1 }
        let spaces = lines[r].prefix { $0 == " " }.count
        if char(r, spaces) == "\t" { throw error("tabs are not allowed in indentation", r, spaces) }
        return spaces
    }

    /// The next content line after the current one and its indentation.
    private func peek() throws(YAMLError) -> (row: Int, indent: Int)? {
        guard let next = nextContentRow(after: row) else { return nil }
        return (next, try indent(next))
    }
}
