/// QEMU's `RunState` enum (identical in 7.2–10.0): the VM's run state as `query-status` reports it.
public enum RunState: String, Sendable, CaseIterable {
    case debug
    case inmigrate
    case internalError = "internal-error"
    case ioError = "io-error"
    case paused
    case postmigrate
    case prelaunch
    case finishMigrate = "finish-migrate"
    case restoreVM = "restore-vm"
    case running
    case saveVM = "save-vm"
    case shutdown
    case suspended
    case watchdog
    case guestPanicked = "guest-panicked"
    case colo

    /// Whether vCPUs run (`runstate_is_running`).
    public var isRunning: Bool { self == .running }

    /// States from which only a reset leads back (`runstate_needs_reset`).
    public var needsReset: Bool { self == .internalError || self == .shutdown || self == .guestPanicked }
}
