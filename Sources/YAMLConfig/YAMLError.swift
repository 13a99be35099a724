/// A YAML syntax error (libyaml's, or one of the rules ``YAMLParser`` adds), or a configuration value of
/// the wrong shape, at a 1-based line and column.
///
/// Columns count Unicode scalars, so a tab or a multi-byte character counts as one column.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column.
    public var column: Int
    /// What is wrong, without the position: `duplicate key 'id'`.
    public var message: String

    /// Makes an error at a position.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line 3, column 5: message`.
    public var description: String { "line \(line), column \(column): \(message)" }
}
