public import QMPWire

/// Faults the control plane injects into QMP monitor commands (`inject-fault`): the next N
/// matching commands fail with a given error, have their reply delayed, or lose their connection
/// instead of a reply.
public struct FaultInjector: Sendable {
    /// What happens to a matching command.
    public enum Action: Sendable, Equatable {
        /// The command is not executed; the reply is this error.
        case fail(QMPError)
        /// The command runs; its reply (and everything after it on that connection) is held back.
        case delay(milliseconds: Int)
        /// The command is not executed; the connection is closed instead of replying.
        case close
    }

    /// One armed fault.
    public struct Rule: Sendable, Equatable {
        public var command: String
        public var remaining: Int
        public var action: Action
    }

    public private(set) var rules: [Rule] = []

    public init() {}

    /// Arms a fault for the next `count` commands named `command` (`*` for any command).
    public mutating func add(command: String, count: Int, action: Action) {
        rules.append(Rule(command: command, remaining: count, action: action))
    }

    /// Disarms every fault.
    public mutating func clear() { rules.removeAll() }

    /// The action for a command about to run, consuming one use of the first matching rule.
    public mutating func take(_ command: String) -> Action? {
        guard let i = rules.firstIndex(where: { $0.command == command || $0.command == "*" }) else { return nil }
        rules[i].remaining -= 1
        let action = rules[i].action
        if rules[i].remaining <= 0 { rules.remove(at: i) }
        return action
    }
}
