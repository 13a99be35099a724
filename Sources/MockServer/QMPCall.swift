public import QMPWire
public import SimulatedMachine

/// One invocation of a command: what a ``QMPCommand`` handler can see and act on.
public struct QMPCall {
    /// The validated arguments.
    public let arguments: JSONObject
    /// The session the request came from.
    public let session: QMPSession
    /// The server core (machine, command table, events, shutdown).
    public let core: ServerCore

    /// The simulated machine.
    public var machine: Machine { core.machine }
}
