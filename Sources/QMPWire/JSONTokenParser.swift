/// QEMU's recursive-descent JSON parser (`qobject/json-parser.c`) over the tokens of one message.
///
/// The first error found is the one reported, with QEMU's texts: `expecting value`, `expected
/// separator in dict`, `duplicate key`, `invalid keyword 'x'`, `\ud800 is not a valid Unicode
/// character`, `invalid UTF-8 sequence in string`, and the rest.
struct JSONTokenParser {
    private let tokens: [JSONStreamParser.Token]
    private let bytes: [UInt8]
    private var index = 0

    init(tokens: [JSONStreamParser.Token], bytes: [UInt8]) {
        self.tokens = tokens
        self.bytes = bytes
    }

    private typealias T = JSONLexerTable

    private static func error(_ text: String) -> QMPError { .generic("JSON parse error, \(text)") }

    mutating func parseMessage() throws(QMPError) -> JSONValue {
        try parseValue()
    }

    private func peek() -> JSONStreamParser.Token? { index < tokens.count ? tokens[index] : nil }

    private mutating func pop() -> JSONStreamParser.Token? {
        guard index < tokens.count else { return nil }
        defer { index += 1 }
        return tokens[index]
    }

    private mutating func parseValue() throws(QMPError) -> JSONValue {
        guard let token = peek() else { throw Self.error("premature EOI") }
        switch token.kind {
        case T.leftBrace: return try parseObject()
        case T.leftBracket: return try parseArray()
        case T.string:
            index += 1
            return .string(try parseString(token))
        case T.integer:
            index += 1
            return parseInteger(token)
        case T.float:
            index += 1
            return .double(parseDouble(token))
        case T.keyword:
            index += 1
            return try parseKeyword(token)
        default:
            throw Self.error("expecting value")
        }
    }

    private mutating func parseObject() throws(QMPError) -> JSONValue {
        index += 1  // the '{'
        var members: [JSONObject.Member] = []
        guard let first = peek() else { throw Self.error("premature EOI") }
        if first.kind == T.rightBrace {
            index += 1
            return .object(JSONObject(uniqueMembers: members))
        }
        members.reserveCapacity(4)  // QMP objects are small: one allocation instead of growing 1, 2, 4
        try parsePair(into: &members)
        guard var token = pop() else { throw Self.error("premature EOI") }
        while token.kind != T.rightBrace {
            guard token.kind == T.comma else { throw Self.error("expected separator in dict") }
            try parsePair(into: &members)
            guard let next = pop() else { throw Self.error("premature EOI") }
            token = next
        }
        return .object(JSONObject(uniqueMembers: members))
    }

    private mutating func parsePair(into members: inout [JSONObject.Member]) throws(QMPError) {
        guard peek() != nil else { throw Self.error("premature EOI") }
        guard case .string(let key) = try parseValue() else {
            throw Self.error("key is not a string in object")
        }
        guard let colon = pop() else { throw Self.error("premature EOI") }
        guard colon.kind == T.colon else { throw Self.error("missing : in object pair") }
        let value = try parseValue()
        if members.contains(where: { $0.key == key }) { throw Self.error("duplicate key") }
        members.append(JSONObject.Member(key: key, value: value))
    }

    private mutating func parseArray() throws(QMPError) -> JSONValue {
        index += 1  // the '['
        var elements: [JSONValue] = []
        guard let first = peek() else { throw Self.error("premature EOI") }
        if first.kind == T.rightBracket {
            index += 1
            return .array(elements)
        }
        elements.reserveCapacity(4)  // as for objects: one allocation for a small array
        elements.append(try parseValue())
        guard var token = pop() else { throw Self.error("premature EOI") }
        while token.kind != T.rightBracket {
            guard token.kind == T.comma else { throw Self.error("expected separator in list") }
            elements.append(try parseValue())
            guard let next = pop() else { throw Self.error("premature EOI") }
            token = next
        }
        return .array(elements)
    }

    private func text(_ token: JSONStreamParser.Token) -> ArraySlice<UInt8> {
        bytes[Int(token.start)..<Int(token.end)]
    }

    private func parseKeyword(_ token: JSONStreamParser.Token) throws(QMPError) -> JSONValue {
        let word = text(token)
        if word.elementsEqual("true".utf8) { return .bool(true) }
        if word.elementsEqual("false".utf8) { return .bool(false) }
        if word.elementsEqual("null".utf8) { return .null }
        throw Self.error("invalid keyword '\(QEMUUTF8.lossyString(word))'")
    }

    /// int64 if it fits, else uint64 if non-negative and it fits, else double (as QEMU).
    private func parseInteger(_ token: JSONStreamParser.Token) -> JSONValue {
        let digits = text(token)
        let negative = digits.first == UInt8(ascii: "-")
        var magnitude: UInt64 = 0
        var overflow = false
        // Indices, not `dropFirst`: a generic slice operation per integer token.
        for i in (digits.startIndex + (negative ? 1 : 0))..<digits.endIndex {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(digits[i] &- 0x30))
            if o1 || o2 {
                overflow = true
                break
            }
            magnitude = m2
        }
        if !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else {
                return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .uint(magnitude)
            }
        }
        return .double(parseDouble(token))
    }

    private func parseDouble(_ token: JSONStreamParser.Token) -> Double {
        Double(String(decoding: text(token), as: UTF8.self)) ?? .nan
    }

    private static func hexValue(_ b: UInt8) -> Int32? {
        switch b {
        case 0x30...0x39: return Int32(b - 0x30)
        case 0x41...0x46: return Int32(b - 0x41 + 10)
        case 0x61...0x66: return Int32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// QEMU's `cvt4hex`: four hex digits, or -1.
    private func fourHex(_ at: Int, end: Int) -> Int32 {
        var cp: Int32 = 0
        for i in at..<(at + 4) {
            guard i < end, let v = Self.hexValue(bytes[i]) else { return -1 }
            cp = (cp << 4) | v
        }
        return cp
    }

    private func parseString(_ token: JSONStreamParser.Token) throws(QMPError) -> String {
        let start = Int(token.start) + 1
        let end = Int(token.end) - 1  // the closing quote
        // Fast path: printable ASCII without escapes.
        var simple = true
        for i in start..<end where bytes[i] == UInt8(ascii: "\\") || bytes[i] >= 0x80 {
            simple = false
            break
        }
        if simple { return String(decoding: bytes[start..<end], as: UTF8.self) }

        var scalars = String.UnicodeScalarView()
        var p = start
        while p < end {
            let b = bytes[p]
            if b == UInt8(ascii: "\\") {
                let escapeStart = p
                p += 1
                let e = bytes[p]
                p += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "'"): scalars.append("'")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var cp = fourHex(p, end: Int(token.end))
                    p += 4
                    if cp >= 0xD800 && cp <= 0xDBFF && p + 1 < Int(token.end) && bytes[p] == UInt8(ascii: "\\")
                        && bytes[p + 1] == UInt8(ascii: "u")
                    {
                        let trailing = fourHex(p + 2, end: Int(token.end))
                        if trailing >= 0xDC00 && trailing <= 0xDFFF {
                            cp = 0x10000 + ((cp & 0x3FF) << 10) | (trailing & 0x3FF)
                            p += 6
                        } else {
                            cp = -1
                        }
                    }
                    guard QEMUUTF8.isValid(cp), let scalar = Unicode.Scalar(UInt32(cp)) else {
                        // QEMU prints what it read, up to the end of the token text.
                        let shown = bytes[escapeStart..<min(p, Int(token.end))]
                        throw Self.error("\(QEMUUTF8.lossyString(shown)) is not a valid Unicode character")
                    }
                    scalars.append(scalar)
                    if p > end { return String(scalars) }
                default:
                    throw Self.error("invalid escape sequence in string")
                }
            } else if b < 0x80 {
                scalars.append(Unicode.Scalar(b))
                p += 1
            } else {
                let (cp, next) = bytes.withUnsafeBufferPointer { buffer in
                    QEMUUTF8.decode(UnsafeBufferPointer(rebasing: buffer[0..<end]), at: p)
                }
                guard cp >= 0, let scalar = Unicode.Scalar(UInt32(cp)) else {
                    throw Self.error("invalid UTF-8 sequence in string")
                }
                scalars.append(scalar)
                p = next
            }
        }
        return String(scalars)
    }
}
