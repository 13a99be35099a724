import Dispatch

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// One QMP monitor socket (one `--qmp`), like one `-qmp` of QEMU: it accepts clients and, in
/// exclusive mode, serves one at a time.
///
/// Exclusive mode reproduces QEMU's chardev: while a client is attached the socket stops accepting,
/// so a second client's `connect()` succeeds in the kernel but it gets no greeting and its input is
/// not read until the first client leaves; then it is accepted, greeted, and what it already sent
/// is processed. Confined to the server queue.
final class MonitorListener: @unchecked Sendable {
    /// The socket path (also the monitor's name in logs and transcripts).
    let path: String
    let fd: Int32
    let mode: MonitorMode
    /// QMP monitor or control plane.
    let role: SessionRole
    /// Whether this process created the socket file (and so removes it on exit).
    let ownsPath: Bool
    unowned let server: QMPServer
    private let acceptSource: any DispatchSourceRead
    private var acceptSuspended = false
    private(set) var connections: [Connection] = []

    init(path: String, fd: Int32, mode: MonitorMode, role: SessionRole, ownsPath: Bool, server: QMPServer) {
        self.path = path
        self.fd = fd
        self.mode = mode
        self.role = role
        self.ownsPath = ownsPath
        self.server = server
        acceptSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: server.queue)
    }

    func start() {
        acceptSource.setEventHandler { [unowned self] in
            acceptPending()
            server.finishTurn()
        }
        acceptSource.resume()
    }

    private func acceptPending() {
        while !acceptSuspended, server.core.shutdownRequest == nil, let clientFD = UnixSocket.accept(fd) {
            let connection = Connection(fd: clientFD, server: server, monitor: self)
            connections.append(connection)
            if mode == .exclusive {
                acceptSuspended = true
                acceptSource.suspend()
            }
            connection.start()
        }
    }

    /// Called once a connection's fd is closed.
    func connectionClosed(_ connection: Connection) {
        connections.removeAll { $0 === connection }
        if acceptSuspended && connections.isEmpty && server.core.shutdownRequest == nil {
            acceptSuspended = false
            acceptSource.resume()
        }
    }

    /// Stops accepting and removes the socket file if this process created it.
    func closeListener() {
        if acceptSuspended {
            acceptSuspended = false
            acceptSource.resume()
        }
        acceptSource.cancel()
        Glibc.close(fd)
        if ownsPath { unlink(path) }
    }
}
