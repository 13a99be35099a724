/// Which plane a session belongs to.
public enum SessionRole: Sendable, Equatable {
    /// A QMP monitor (`--qmp`): QEMU's commands and events.
    case monitor
    /// The test control plane (`--control`): clock, guest and fault commands, control events. It
    /// speaks QMP framing but never appears on the monitors.
    case control

    /// The capabilities its greeting offers: `oob` on monitors (as QEMU), none on the control plane.
    public var offeredCapabilities: [String] {
        switch self {
        case .monitor: ["oob"]
        case .control: []
        }
    }
}
