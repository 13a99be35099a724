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
    public func addMonitor(path: String, fd: Int32, mode: MonitorMode, role: SessionRole = .monitor, ownsPath: Bool) {
        monitors.append(MonitorListener(path: path, fd: fd, mode: mode, role: role, ownsPath: ownsPath, server: self))
    }

    /// A timer for the machine's next due timer (realtime clock only).
    private var machineTimer: (any DispatchSourceTimer)?
    private var machineTimerDeadline: Int64?

    /// Arms (or re-arms) the Dispatch timer for the machine's earliest timer. With the realtime clock
    /// virtual time runs `scale` times faster than real time; with the manual clock only
    /// `clock-advance` moves it, so no timer is armed.
    private func armMachineTimer() {
        guard case .realtime(let scale) = core.clockMode else { return }
        let deadline = core.machine.runState.isRunning ? core.machine.nextTimerDeadline : nil
        guard deadline != machineTimerDeadline else { return }
        machineTimerDeadline = deadline
        guard let deadline else {
            machineTimer?.schedule(deadline: .distantFuture)
            return
        }
        let timer = machineTimer ?? makeMachineTimer()
        let realNanoseconds = Double(max(0, deadline - core.machine.clock.now)) / max(scale, 1e-9)
        timer.schedule(deadline: .now() + .nanoseconds(Int(min(realNanoseconds, 1e15))), leeway: .microseconds(100))
    }

    private func makeMachineTimer() -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [unowned self] in
            machineTimerDeadline = nil
            core.machine.runDueTimers()
            finishTurn()
        }
        timer.resume()
        machineTimer = timer
        return timer
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
        armMachineTimer()
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
