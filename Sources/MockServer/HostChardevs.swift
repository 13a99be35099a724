import CLinux
import Dispatch
import QMPWire
import SimulatedMachine

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The operating-system side of the machine's character devices (``ChardevHost``): a `socket`
/// server really listens on its path and accepts one client at a time (as QEMU's chardev does:
/// it stops accepting while connected), a client really connects, a `file` is opened for output, a
/// `pty` is a real pseudo-terminal. Data that arrives is read and discarded (no frontend consumes
/// it); nothing is written. Everything is closed on `chardev-remove` and at exit, and a server's
/// socket file is removed then, as QEMU removes it.
///
/// Its Dispatch sources run on the server queue, the one that owns the machine, so nothing here
/// races with a command; nothing blocks (a unix `connect` completes at once or fails).
final class HostChardevs: ChardevHost, @unchecked Sendable {
    /// One opened backend.
    private final class Entry {
        /// The listening socket, the client socket, the file or the pty master.
        var fd: Int32
        /// A server's socket path, removed on close.
        var socketPath: String?
        /// A server's accepted client, or a client's own connection while it is up.
        var peer: (any DispatchSourceRead)?
        var peerFD: Int32 = -1
        var acceptSource: (any DispatchSourceRead)?
        var acceptSuspended = false

        init(fd: Int32) { self.fd = fd }
    }

    private let queue: DispatchQueue
    private var entries: [Int: Entry] = [:]
    private var nextHandle = 1

    init(queue: DispatchQueue) { self.queue = queue }

    func open(_ backend: ChardevBackend) throws(QMPError) -> ChardevOpening {
        let entry: Entry
        var ptyPath: String?
        switch backend {
        case .socket(let path, server: true):
            entry = try listen(path)
        case .socket(let path, server: false):
            entry = try connect(path)
        case .file(let out, let append):
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
            let fd = Glibc.open(out, flags, 0o666)
            guard fd >= 0 else { throw .generic("Could not open '\(out)': \(Self.describe(errno))") }
            entry = Entry(fd: fd)
        case .pty:
            let (fd, path) = try openPTY()
            entry = Entry(fd: fd)
            ptyPath = path
        case .null, .ringbuf, .monitor:
            throw .generic("no OS object for this backend")
        }
        let handle = nextHandle
        nextHandle += 1
        entries[handle] = entry
        return ChardevOpening(handle: handle, ptyPath: ptyPath)
    }

    func isConnected(_ handle: Int) -> Bool { entries[handle]?.peer != nil }

    func close(_ handle: Int) {
        guard let entry = entries.removeValue(forKey: handle) else { return }
        dropPeer(entry)
        if let source = entry.acceptSource {
            if entry.acceptSuspended { source.resume() }
            source.cancel()  // its cancel handler closes the listening socket
        } else if entry.fd >= 0 {
            _ = Glibc.close(entry.fd)
        }
        if let path = entry.socketPath { unlink(path) }
    }

    // MARK: Sockets

    private func listen(_ path: String) throws(QMPError) -> Entry {
        guard path.utf8.count < 108 else { throw .generic("UNIX socket path '\(path)' is too long") }
        unlink(path)  // QEMU replaces whatever is at the path
        let fd = socket(
            AF_UNIX,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0
        )
        guard fd >= 0 else { throw .generic("Failed to create socket: \(Self.describe(errno))") }
        let bound = (try? UnixSocket.withAddress(path) { bind(fd, $0, $1) }) ?? -1
        guard bound == 0 else {
            let error = errno
            _ = Glibc.close(fd)
            throw .generic("Failed to bind socket to \(path): \(Self.describe(error))")
        }
        guard Glibc.listen(fd, 1) == 0 else {
            let error = errno
            _ = Glibc.close(fd)
            unlink(path)
            throw .generic("Failed to listen on socket: \(Self.describe(error))")
        }
        let entry = Entry(fd: fd)
        entry.socketPath = path
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self, weak entry] in
            if let self, let entry { accept(entry) }
        }
        source.setCancelHandler { _ = Glibc.close(fd) }
        entry.acceptSource = source
        source.resume()
        return entry
    }

    /// Takes one pending client; while it is connected the socket accepts no other (QEMU's chardev).
    private func accept(_ entry: Entry) {
        guard entry.peer == nil, let source = entry.acceptSource, let client = UnixSocket.accept(entry.fd) else {
            return
        }
        entry.acceptSuspended = true
        source.suspend()
        hold(client, in: entry)
    }

    private func connect(_ path: String) throws(QMPError) -> Entry {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .generic("Failed to create socket: \(Self.describe(errno))") }
        let connected: Int32
        do {
            connected = try UnixSocket.withAddress(path) { Glibc.connect(fd, $0, $1) }
        } catch {
            _ = Glibc.close(fd)
            throw .generic("UNIX socket path '\(path)' is too long")
        }
        guard connected == 0 else {
            let error = errno
            _ = Glibc.close(fd)
            throw .generic("Failed to connect to '\(path)': \(Self.describe(error))")
        }
        UnixSocket.setNonBlockingCloseOnExec(fd)
        let entry = Entry(fd: -1)
        hold(fd, in: entry)
        return entry
    }

    /// Reads and discards what `fd` receives until its peer leaves; then closes it (a server accepts again).
    private func hold(_ fd: Int32, in entry: Entry) {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self, weak entry] in
            guard let self, let entry else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 { continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
                dropPeer(entry)  // end of file or an error: the peer left
                if entry.acceptSuspended, let accept = entry.acceptSource {
                    entry.acceptSuspended = false
                    accept.resume()
                }
                return
            }
        }
        source.setCancelHandler { _ = Glibc.close(fd) }
        entry.peer = source
        entry.peerFD = fd
        source.resume()
    }

    private func dropPeer(_ entry: Entry) {
        entry.peer?.cancel()
        entry.peer = nil
        entry.peerFD = -1
    }

    // MARK: Pseudo-terminals

    private func openPTY() throws(QMPError) -> (Int32, String) {
        var name = [CChar](repeating: 0, count: 128)
        let fd = clinux_open_pty(&name, name.count)
        guard fd >= 0 else { throw .generic("Failed to create PTY: \(Self.describe(errno))") }
        return (fd, String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}
