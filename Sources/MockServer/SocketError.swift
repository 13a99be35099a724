#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Why a listening socket could not be set up; each case maps to a distinct exit code.
public enum SocketError: Error, CustomStringConvertible, Equatable {
    /// The path does not fit `sockaddr_un` (107 bytes).
    case pathTooLong(String)
    /// A live process already accepts connections on the path; it is never replaced.
    case inUse(String)
    /// Something other than a socket exists at the path; it is never replaced.
    case notASocket(String)
    /// A system call failed.
    case system(call: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .pathTooLong(let p): return "socket path is too long (max 107 bytes): \(p)"
        case .inUse(let p): return "another process is listening on \(p); refusing to replace its socket"
        case .notASocket(let p): return "\(p) exists and is not a socket; refusing to replace it"
        case .system(let call, let p, let e): return "\(call) \(p): \(String(cString: strerror(e)))"
        }
    }
}
