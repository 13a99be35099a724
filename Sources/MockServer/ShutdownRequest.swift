/// Why the daemon is going to exit once the current work is written out.
public enum ShutdownRequest: Sendable, Equatable {
    /// A client ran `quit`.
    case quit
    /// SIGTERM or SIGINT.
    case signal(Int32)
}
