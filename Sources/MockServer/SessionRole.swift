/// Which plane a session belongs to.
public enum SessionRole: Sendable, Equatable {
    /// A QMP monitor (`--qmp`): QEMU's commands and events.
    case monitor
    /// The test control plane (`--control`): clock, guest and fault commands, control events. It
    /// speaks QMP framing but never appears on the monitors.
    case control
    /// A human monitor (QEMU's `-monitor unix:PATH,server=on,wait=off`, `-mon mode=readline`, or
    /// `--hmp`): HMP command lines through QEMU's line editor (``LineEditor``), text out, a banner and
    /// `(qemu) ` prompts, no events.
    case humanMonitor

    /// The capabilities its greeting offers: `oob` on monitors (as QEMU), none on the control plane
    /// (and no QMP greeting at all on a human monitor).
    public var offeredCapabilities: [String] {
        switch self {
        case .monitor: ["oob"]
        case .control, .humanMonitor: []
        }
    }
}
