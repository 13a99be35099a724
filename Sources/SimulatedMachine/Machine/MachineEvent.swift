public import QMPWire

/// A QMP event raised by the machine, before it is stamped and sent: its name and optional data.
///
/// Every event is built from a ``Name``: that enumeration is the one list of the events a QMP
/// monitor can receive from qmp-mockd, which `query-qmp-schema` keeps.
public struct MachineEvent: Sendable, Equatable {
    /// The events qmp-mockd raises on its QMP monitors, by their QMP names. The control plane's
    /// `GUEST_REGISTER_WRITE` is not one of them: monitors never see it.
    public enum Name: String, Sendable, CaseIterable {
        /// `quit`, SIGTERM/SIGINT, and the guest's soft-off.
        case shutdown = "SHUTDOWN"
        /// `system_powerdown`: the power button was pressed.
        case powerdown = "POWERDOWN"
        /// The guest entered S4 (suspend to disk), just before its shutdown.
        case suspendDisk = "SUSPEND_DISK"
        /// `stop` of a running VM.
        case stop = "STOP"
        /// `cont` of a paused or prelaunch VM.
        case resume = "RESUME"
        /// `system_reset`.
        case reset = "RESET"
        /// A device (or a device's child) was destroyed.
        case deviceDeleted = "DEVICE_DELETED"
        /// The guest powered a hot-plugged device on (the v8 series' event).
        case deviceOn = "X_DEVICE_ON"
        /// The guest reported progress of a CPU or DIMM hot-plug through `_OST`.
        case acpiDeviceOST = "ACPI_DEVICE_OST"
    }

    /// The event's name.
    public var kind: Name
    public var data: JSONObject?

    /// The QMP name (`SHUTDOWN`, ...).
    public var name: String { kind.rawValue }

    public init(_ kind: Name, data: JSONObject? = nil) {
        self.kind = kind
        self.data = data
    }

    /// `SHUTDOWN` with `guest` and `reason` (a `ShutdownCause`).
    public static func shutdown(guest: Bool, reason: String) -> MachineEvent {
        var data = JSONObject()
        data.append("guest", .bool(guest))
        data.append("reason", .string(reason))
        return MachineEvent(.shutdown, data: data)
    }
}
