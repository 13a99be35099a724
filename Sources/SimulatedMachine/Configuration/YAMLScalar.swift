/// A scalar as written: its text (unquoted and unescaped), how it was written, and where it starts.
///
/// The style decides the type: a plain `1` is an integer, a quoted `"1"` is always a string.
public struct YAMLScalar: Sendable, Equatable {
    /// How a scalar was written.
    public enum Style: Sendable, Equatable {
        /// Unquoted: `q35`, `1`, `on`, or nothing at all (null).
        case plain
        /// `'text'`, with `''` standing for one quote.
        case singleQuoted
        /// `"text"`, with backslash escapes.
        case doubleQuoted
        /// A literal block scalar (`|`, `|-`, `|+`).
        case literal
    }

    /// The text after unquoting and unescaping.
    public var text: String
    /// How the scalar was written.
    public var style: Style
    /// The 1-based line of its first character (the opening quote or `|`).
    public var line: Int
    /// The 1-based column of its first character.
    public var column: Int

    /// Makes a scalar.
    public init(text: String, style: Style, line: Int, column: Int) {
        self.text = text
        self.style = style
        self.line = line
        self.column = column
    }

    /// True for a plain empty value, `~`, `null`, `Null` or `NULL`.
    public var isNull: Bool {
        style == .plain && ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The integer a plain scalar spells (decimal, `0x` hex or `0o` octal, optionally signed), or nil.
    public var intValue: Int? {
        guard style == .plain else { return nil }
        return IntegerLiteral.parse(text).flatMap { Int(exactly: $0) }
    }

    /// The boolean a plain scalar spells (`true`/`false`, `yes`/`no`, `on`/`off`, any case), or nil.
    public var boolValue: Bool? {
        guard style == .plain else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }
}
