public import Dispatch
import HotplugMachine
import Logging

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The socket side of the daemon: the monitor sockets, their connections, and the serial queue
/// that owns them and the ``ServerCore`` (QEMU's big lock).
///
/// Every Dispatch handler ends its turn with ``finishTurn()``, which writes out what the turn
/// queued for any session (replies, and events fanned out to other sessions) and carries out a
/// pending shutdown.
public final class QMPServer: @unchecked Sendable {
    public let queue: DispatchQueue
    public let core: ServerCore
    /// One read buffer for every connection: they all run on ``queue``.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var monitors: [MonitorListener] = []
    private var flushList: [Connection] = []
    private var onExit: (@Sendable (ShutdownRequest) -> Never)?

    /// - Parameters:
    ///   - core: the protocol engine to serve.
    ///   - queue: the serial queue that will own everything.
    public init(core: ServerCore, queue: DispatchQueue) {
        self.core = core
        self.queue = queue
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    /// Adds a monitor on an already listening, non-blocking socket. Call before ``start(onExit:)``.
    public func addMonitor(path: String, fd: Int32, mode: MonitorMode, ownsPath: Bool) {
        monitors.append(MonitorListener(path: path, fd: fd, mode: mode, ownsPath: ownsPath, server: self))
    }

    /// Starts accepting on every monitor (on the queue). `onExit` runs, on the queue, once a
    /// shutdown was requested and output was written out; it must not return.
    public func start(onExit: @escaping @Sendable (ShutdownRequest) -> Never) {
        queue.async { [self] in
            self.onExit = onExit
            for monitor in monitors { monitor.start() }
        }
    }

    /// Handles SIGTERM/SIGINT (on the queue): `SHUTDOWN` to negotiated sessions, then exit.
    public func handleSignal(_ signal: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard core.shutdownRequest == nil else { return }
        core.logger.notice("received signal \(signal), shutting down")
        core.emit(.shutdown(guest: false, reason: "host-signal"))
        core.requestShutdown(.signal(signal))
        finishTurn()
    }

    func scheduleFlush(_ connection: Connection) {
        flushList.append(connection)
    }

    /// Writes out what this turn queued, then carries out a pending shutdown.
    func finishTurn() {
        if !flushList.isEmpty {
            let list = flushList
            flushList.removeAll(keepingCapacity: true)
            for connection in list { connection.flush() }
        }
        if let request = core.shutdownRequest { shutDown(request) }
    }

    private func shutDown(_ request: ShutdownRequest) -> Never {
        let connections = monitors.flatMap(\.connections)
        for connection in connections { connection.drain(timeoutMilliseconds: 1000) }
        for connection in connections {
            Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
            connection.close(reason: "shutting down")
        }
        for monitor in monitors { monitor.closeListener() }
        core.logger.info("exiting")
        if let onExit { onExit(request) }
        exit(0)
    }
}
