public import QMPWire

/// A QMP event raised by the machine, before it is stamped and sent: its name and optional data.
public struct MachineEvent: Sendable, Equatable {
    public var name: String
    public var data: JSONObject?

    public init(_ name: String, data: JSONObject? = nil) {
        self.name = name
        self.data = data
    }

    /// `SHUTDOWN` with `guest` and `reason` (a `ShutdownCause`).
    public static func shutdown(guest: Bool, reason: String) -> MachineEvent {
        var data = JSONObject()
        data.append("guest", .bool(guest))
        data.append("reason", .string(reason))
        return MachineEvent("SHUTDOWN", data: data)
    }
}
