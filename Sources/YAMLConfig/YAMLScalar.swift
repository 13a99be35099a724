import SimulatedMachine

/// A scalar as written: its text (unquoted and unescaped), how it was written, its tag if it had one,
/// and where it starts.
///
/// The style decides the type, as the configuration files always read it: a plain `1` is an integer,
/// a quoted `"1"` is always a string, and a plain `true`/`false`, `yes`/`no` or `on`/`off` (any case)
/// is a boolean. A tag overrides the style: `!!str 10` is a string, `!!int "10"` an integer.
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
        /// A folded block scalar (`>`, `>-`, `>+`): line breaks become spaces.
        case folded
    }

    /// The YAML core tags a scalar may carry (`!!str`, `!!int`, ...); any other tag is refused when the
    /// document is parsed. The plain `!` (non-specific) tag reads as ``string``.
    public enum Tag: String, Sendable, Equatable, CaseIterable {
        /// `!!str`: a string whatever it spells.
        case string = "str"
        /// `!!int`: an integer (the text must spell one).
        case int
        /// `!!float`: a number (the text must spell one).
        case float
        /// `!!bool`: a boolean (the text must spell one).
        case bool
        /// `!!null`: null whatever it spells.
        case null
    }

    /// The text after unquoting and unescaping.
    public var text: String
    /// How the scalar was written.
    public var style: Style
    /// The tag it was written with, if any.
    public var tag: Tag?
    /// The 1-based line of its first character (the opening quote, `|`, or its anchor or tag).
    public var line: Int
    /// The 1-based column of its first character.
    public var column: Int

    /// Makes a scalar.
    public init(text: String, style: Style, tag: Tag? = nil, line: Int, column: Int) {
        self.text = text
        self.style = style
        self.tag = tag
        self.line = line
        self.column = column
    }

    /// True for an untagged plain scalar that reads as its text's type (the untagged quoted ones are strings).
    private var isImplicit: Bool { tag == nil && style == .plain }

    /// True for a plain empty value, `~`, `null`, `Null` or `NULL`, and for anything tagged `!!null`.
    public var isNull: Bool {
        tag == .null || (isImplicit && ["", "~", "null", "Null", "NULL"].contains(text))
    }

    /// The integer a plain (or `!!int`) scalar spells (decimal, `0x` hex or `0o` octal, optionally
    /// signed), or nil.
    public var intValue: Int? {
        guard isImplicit || tag == .int else { return nil }
        return IntegerLiteral.parse(text).flatMap { Int(exactly: $0) }
    }

    /// The boolean a plain (or `!!bool`) scalar spells (`true`/`false`, `yes`/`no`, `on`/`off`, any
    /// case), or nil.
    public var boolValue: Bool? {
        guard isImplicit || tag == .bool else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// The finite number a plain (or `!!float` or `!!int`) scalar spells, or nil.
    public var doubleValue: Double? {
        guard isImplicit || tag == .float || tag == .int else { return nil }
        if let value = intValue { return Double(value) }
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
