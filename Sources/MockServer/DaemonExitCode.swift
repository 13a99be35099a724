/// The daemon's exit statuses (sysexits.h values), listed in `--help` and the README.
public enum DaemonExitCode: Int32, Sendable, CaseIterable {
    /// Clean exit: `quit`, SIGTERM or SIGINT.
    case success = 0
    /// Bad command line (unknown option, bad value).
    case usage = 64
    /// Internal error.
    case software = 70
    /// A socket could not be created, bound or listened on (bad directory, path too long, not a socket).
    case cannotCreate = 73
    /// Another process is listening on a socket path: its socket is never replaced.
    case socketInUse = 75
    /// The configuration (a file or value it names, or an inherited socket) is not usable.
    case configuration = 78

    /// A line of `--help`.
    public var summary: String {
        switch self {
        case .success: return "clean exit (quit, SIGTERM, SIGINT)"
        case .usage: return "usage error (unknown option, bad value)"
        case .software: return "internal error"
        case .cannotCreate: return "a socket could not be created or bound"
        case .socketInUse: return "a live process already listens on a socket path"
        case .configuration:
            return
                "configuration error (--config file, transcript file, or an inherited socket that is not a listening Unix stream socket)"
        }
    }
}
