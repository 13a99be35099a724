/// How a QMP socket treats several clients (`--monitor-mode`).
public enum MonitorMode: String, Sendable, CaseIterable {
    /// QEMU's behaviour: one client at a time; the next waits, un-greeted, until it leaves.
    case exclusive
    /// Not QEMU's behaviour, offered for tests: every client negotiates at once and all receive events.
    case shared
}
