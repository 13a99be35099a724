/// The registry of QMP commands: the one place where commands are added, and what
/// `query-commands` reports. QEMU lists commands in reverse registration order; so do we.
public struct CommandTable: Sendable {
    private var commands: [QMPCommand] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Adds a command; a later registration of the same name replaces the earlier one.
    public mutating func register(_ command: QMPCommand) {
        if let i = index[command.name] {
            commands[i] = command
        } else {
            index[command.name] = commands.count
            commands.append(command)
        }
    }

    /// The command of that name, if registered.
    public func lookup(_ name: String) -> QMPCommand? {
        index[name].map { commands[$0] }
    }

    /// Command names as `query-commands` lists them.
    public var names: [String] { commands.reversed().map(\.name) }

    public var count: Int { commands.count }
}
