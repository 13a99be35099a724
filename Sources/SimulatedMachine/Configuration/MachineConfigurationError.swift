/// A configuration file (or embedded configuration) that cannot be used, with the line it names.
public struct MachineConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(line: Int? = nil, column: Int? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        switch (line, column) {
        case (let l?, let c?): return "line \(l), column \(c): \(message)"
        case (let l?, nil): return "line \(l): \(message)"
        default: return message
        }
    }
}
