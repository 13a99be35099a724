public import QMPWire

/// The operating-system side of character devices, which the daemon installs into the machine
/// (``ChardevTable/host``) so that the machine stays pure: a socket that really listens on its path
/// and accepts, a connection to a listener, a file opened for output, a pseudo-terminal.
///
/// The machine asks it to open a backend when `chardev-add` has passed every check, and gives each
/// handle back exactly once through ``close(_:)`` (`chardev-remove`, or the daemon's exit). Tests
/// install a recording fake; without a host the machine simulates the backends without any OS object.
public protocol ChardevHost: AnyObject {
    /// Opens `backend` (never `.null`, `.ringbuf` or `.monitor`, which need no OS object). Throws
    /// QEMU's text for the failure without the `Failed to add chardev 'ID': ` prefix the machine adds.
    func open(_ backend: ChardevBackend) throws(QMPError) -> ChardevOpening
    /// Whether the socket behind `handle` has a peer now (a server: a client it accepted; a client:
    /// its connection is still up). `query-chardev` reports a socket without one as `disconnected:`.
    func isConnected(_ handle: Int) -> Bool
    /// Closes everything `handle` holds; a server's socket file is removed, as QEMU removes it.
    func close(_ handle: Int)
}

/// What a ``ChardevHost`` opened: the handle the machine gives back, and a pty's slave path.
public struct ChardevOpening: Sendable, Equatable {
    /// The host's number for what it opened.
    public var handle: Int
    /// The pseudo-terminal's path (`/dev/pts/N`) for a `pty` backend.
    public var ptyPath: String?

    public init(handle: Int, ptyPath: String? = nil) {
        self.handle = handle
        self.ptyPath = ptyPath
    }
}
