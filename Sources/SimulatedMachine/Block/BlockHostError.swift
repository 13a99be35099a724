/// Why the host could not open a path: the `errno` (QEMU's retry rules depend on it) and its
/// `strerror` text, which QEMU puts into `Could not open 'PATH': TEXT`.
public struct BlockHostError: Error, Sendable, Equatable {
    public var errno: Int32
    public var text: String

    public init(errno: Int32, text: String) {
        self.errno = errno
        self.text = text
    }

    /// `ENOENT`, as the default host (no operating system) answers every path.
    public static let noSuchFile = BlockHostError(errno: 2, text: "No such file or directory")
    /// `EACCES`: QEMU's answer when an fd set has no descriptor of the access mode wanted.
    public static let permissionDenied = BlockHostError(errno: 13, text: "Permission denied")

    /// The errors after which `auto-read-only` retries read-only (QEMU's `raw_open_common`).
    var allowsReadOnlyRetry: Bool { errno == 13 || errno == 30 || errno == 1 }  // EACCES, EROFS, EPERM
}
