/// One argument of a command: its name, type and whether it may be omitted.
public struct QAPIArgument: Sendable, Equatable {
    public var name: String
    public var type: QAPIType
    public var isOptional: Bool

    public init(_ name: String, _ type: QAPIType, optional: Bool = false) {
        self.name = name
        self.type = type
        self.isOptional = optional
    }
}
