/// Why the daemon is going to exit once the current work is written out.
public enum ShutdownRequest: Sendable, Equatable {
    /// A client ran `quit`.
    case quit
    /// SIGTERM or SIGINT.
    case signal(Int32)
    /// The guest powered the machine off, without `-no-shutdown` (QEMU exits with status 0).
    case guestShutdown
}
