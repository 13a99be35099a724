/// The transition table of QEMU's JSON lexer (`qobject/json-lexer.c`), rebuilt from its rules.
///
/// Each entry is the next state, or a finished token kind, possibly flagged ``lookahead`` (the
/// byte is not consumed and is looked at again from the start state). A missing transition is
/// ``JSONLexerTable/error``: the byte is consumed into the token, which is reported as stray.
/// QEMU's monitor lexer has no interpolation, so `%` is an ordinary stray byte.
enum JSONLexerTable {
    // Token kinds (what a finished token is).
    static let error: UInt8 = 0
    static let leftBrace: UInt8 = 1
    static let rightBrace: UInt8 = 2
    static let leftBracket: UInt8 = 3
    static let rightBracket: UInt8 = 4
    static let colon: UInt8 = 5
    static let comma: UInt8 = 6
    static let integer: UInt8 = 7
    static let float: UInt8 = 8
    static let keyword: UInt8 = 9
    static let string: UInt8 = 10
    static let lastToken: UInt8 = 10

    // Lexer states.
    static let start: UInt8 = 11
    static let recovery: UInt8 = 12
    static let doubleQuoted: UInt8 = 13
    static let doubleQuotedEscape: UInt8 = 14
    static let singleQuoted: UInt8 = 15
    static let singleQuotedEscape: UInt8 = 16
    static let zero: UInt8 = 17
    static let sign: UInt8 = 18
    static let digits: UInt8 = 19
    static let mantissa: UInt8 = 20
    static let mantissaDigits: UInt8 = 21
    static let exponentE: UInt8 = 22
    static let exponentSign: UInt8 = 23
    static let exponentDigits: UInt8 = 24
    static let inKeyword: UInt8 = 25
    static let stateCount = 26

    /// Whether `entry` consumes its byte into a state inside a token (nothing finished, not the start
    /// or recovery state): the states from ``doubleQuoted`` to ``inKeyword``, without ``lookahead``.
    @inline(__always)
    static func isInner(_ entry: UInt8) -> Bool { entry &- doubleQuoted <= inKeyword - doubleQuoted }

    /// Set on an entry whose byte is not consumed.
    static let lookahead: UInt8 = 0x80

    /// `table[state * 256 + byte]`.
    static let table: [UInt8] = {
        var t = [UInt8](repeating: error, count: stateCount * 256)
        func set(_ state: UInt8, _ bytes: ClosedRange<UInt8>, _ next: UInt8) {
            for b in bytes { t[Int(state) * 256 + Int(b)] = next }
        }
        func set(_ state: UInt8, _ byte: Character, _ next: UInt8) {
            t[Int(state) * 256 + Int(byte.asciiValue ?? 0)] = next
        }
        func terminal(_ state: UInt8, _ token: UInt8) { set(state, 0...0xFF, token | lookahead) }
        let digit: ClosedRange<UInt8> = 0x30...0x39

        // Skip until a structural byte, a control byte other than TAB, or 0xFE/0xFF.
        set(recovery, 0...0x1F, start | lookahead)
        set(recovery, 0x20...0xFD, recovery)
        set(recovery, 0xFE...0xFF, start | lookahead)
        set(recovery, "\t", recovery)
        for c: Character in ["[", "]", "{", "}", ":", ","] { set(recovery, c, start | lookahead) }

        for (inString, escape, quote) in [
            (doubleQuoted, doubleQuotedEscape, "\""), (singleQuoted, singleQuotedEscape, "'"),
        ] {
            set(escape, 0x20...0xFD, inString)
            set(inString, 0x20...0xFD, inString)
            set(inString, "\\", escape)
            set(inString, Character(quote), string)
        }

        terminal(zero, integer)
        set(zero, digit, error)
        set(zero, ".", mantissa)
        set(zero, "e", exponentE)
        set(zero, "E", exponentE)

        terminal(digits, integer)
        set(digits, digit, digits)
        set(digits, "e", exponentE)
        set(digits, "E", exponentE)
        set(digits, ".", mantissa)

        set(mantissa, digit, mantissaDigits)
        terminal(mantissaDigits, float)
        set(mantissaDigits, digit, mantissaDigits)
        set(mantissaDigits, "e", exponentE)
        set(mantissaDigits, "E", exponentE)

        set(exponentE, "-", exponentSign)
        set(exponentE, "+", exponentSign)
        set(exponentE, digit, exponentDigits)
        set(exponentSign, digit, exponentDigits)
        terminal(exponentDigits, float)
        set(exponentDigits, digit, exponentDigits)

        set(sign, "0", zero)
        set(sign, 0x31...0x39, digits)

        terminal(inKeyword, keyword)
        set(inKeyword, 0x61...0x7A, inKeyword)

        set(start, "\"", doubleQuoted)
        set(start, "'", singleQuoted)
        set(start, "0", zero)
        set(start, 0x31...0x39, digits)
        set(start, "-", sign)
        set(start, "{", leftBrace)
        set(start, "}", rightBrace)
        set(start, "[", leftBracket)
        set(start, "]", rightBracket)
        set(start, ":", colon)
        set(start, ",", comma)
        set(start, 0x61...0x7A, inKeyword)
        for c: Character in [" ", "\t", "\r", "\n"] { set(start, c, start) }
        return t
    }()
}
