public import Dispatch
import Logging
import SimulatedMachine

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
    /// The list ``flushPending()`` is working through.
    private var flushing: [Connection] = []
    /// Set by ``start(onStopping:onExit:)``, on the thread that starts the server.
    private var isStarted = false
    /// Reads the client sockets (on a thread of its own, running the reads on ``queue``).
    private(set) lazy var poller = ConnectionPoller(queue: queue) { [unowned self] in finishTurn() }
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

    /// Starts accepting on every monitor (on the queue). `onStopping` runs, on the queue, as soon
    /// as a shutdown begins (with a line saying why); `onExit` once output was written out and the
    /// sockets are closed; it must not return.
    public func start(
        onStopping: (@Sendable (String) -> Void)? = nil,
        onExit: @escaping @Sendable (ShutdownRequest) -> Never
    ) {
        isStarted = true
        queue.async { [self] in
            self.onStopping = onStopping
            self.onExit = onExit
            poller.start()  // before the first connection: a failure shows at start, not mid-service
            for monitor in monitors { monitor.start() }
        }
    }

    // MARK: Service status (`STATUS=`)

    /// What the status line reports.
    struct StatusSummary: Equatable {
        var sockets: Int
        var sessions: Int
        var devices: Int
        var pendingUnplugs: Int

        var line: String {
            func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
            return [
                count(sockets, "socket"), count(sessions, "session"), count(devices, "device"),
                count(pendingUnplugs, "pending unplug"),
            ].joined(separator: ", ")
        }
    }

    private var onStopping: (@Sendable (String) -> Void)?
    private var statusHandler: (@Sendable (String) -> Void)?
    private var statusIntervalNanoseconds: UInt64 = 250_000_000
    private var lastStatus: StatusSummary?
    private var lastStatusUptime: UInt64 = 0
    private var statusTimer: (any DispatchSourceTimer)?
    /// When ``statusTimer`` fires next (uptime nanoseconds), if armed.
    private var statusTimerDeadline: UInt64?

    /// The current summary: listening sockets, open sessions, user devices (`/machine/peripheral*`)
    /// and devices whose unplug request is pending; and the virtual time the first pending unplug
    /// stops being pending.
    func statusSummary() -> (StatusSummary, nextExpiry: Int64?) {
        let pending = core.machine.pendingUnplugs()
        let summary = StatusSummary(
            sockets: monitors.count,
            sessions: core.openSessions.count,
            devices: core.machine.userDeviceCount,
            pendingUnplugs: pending.count
        )
        return (summary, pending.nextExpiry)
    }

    /// The status line for `READY=1`; from now on changes go to `handler` (when given), at most every
    /// `intervalMilliseconds`, the last change always reported. Call before ``start(onStopping:onExit:)``
    /// (the daemon sends `READY=1` from its main thread), or on the queue.
    public func beginStatusReports(
        to handler: (@Sendable (String) -> Void)?,
        intervalMilliseconds: Int
    ) -> String {
        if isStarted { dispatchPrecondition(condition: .onQueue(queue)) }
        let (summary, _) = statusSummary()
        statusHandler = handler
        statusIntervalNanoseconds = UInt64(max(intervalMilliseconds, 0)) * 1_000_000
        lastStatus = summary
        lastStatusUptime = DispatchTime.now().uptimeNanoseconds
        return summary.line
    }

    /// At the end of a turn (and when the status timer fires): reports a changed summary now, or
    /// arms the timer for when the rate limit allows it. With the realtime clock the timer is also
    /// armed for when a pending unplug expires, which no turn marks. Costs a walk of the device
    /// list, and no system call unless something changed.
    private func updateStatus() {
        guard statusHandler != nil else { return }
        let (summary, nextExpiry) = statusSummary()
        let now = DispatchTime.now().uptimeNanoseconds
        if summary != lastStatus {
            let due = lastStatusUptime &+ statusIntervalNanoseconds
            if now >= due {
                lastStatus = summary
                lastStatusUptime = now
                statusHandler?(summary.line)
            } else {
                armStatusTimer(at: due)
            }
        }
        if let nextExpiry, case .realtime(let scale) = core.clockMode, core.machine.runState.isRunning {
            let real = Double(max(0, nextExpiry - core.machine.clock.now)) / max(scale, 1e-9)
            armStatusTimer(at: now &+ UInt64(min(real, 1e15)) &+ 1_000_000)
        }
    }

    private func armStatusTimer(at deadline: UInt64) {
        if let armed = statusTimerDeadline, armed <= deadline &+ 1_000_000 { return }
        statusTimerDeadline = deadline
        let timer = statusTimer ?? makeStatusTimer()
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline), leeway: .milliseconds(10))
    }

    private func makeStatusTimer() -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [unowned self] in
            statusTimerDeadline = nil
            guard core.shutdownRequest == nil else { return }
            updateStatus()
        }
        timer.resume()
        statusTimer = timer
        return timer
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

    /// Writes out what was queued for any session so far in this turn.
    func flushPending() {
        guard !flushList.isEmpty else { return }
        // Swapped with a spare list rather than copied: no allocation per turn. (Not re-entered:
        // `Connection.flush` writes and may close its own connection, never flushes others.)
        swap(&flushList, &flushing)
        for connection in flushing { connection.flush() }
        flushing.removeAll(keepingCapacity: true)
    }

    /// Writes out what this turn queued, then carries out a pending shutdown.
    func finishTurn() {
        flushPending()
        if let request = core.shutdownRequest { shutDown(request) }
        armMachineTimer()
        updateStatus()
    }

    private func shutDown(_ request: ShutdownRequest) -> Never {
        switch request {
        case .quit: onStopping?("shutting down: quit")
        case .signal(let number): onStopping?("shutting down: signal \(number)")
        case .guestShutdown: onStopping?("shutting down: the guest powered off")
        }
        let connections = monitors.flatMap(\.connections)
        for connection in connections { connection.drain(timeoutMilliseconds: 1000) }
        for connection in connections {
            Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
            connection.close(reason: "shutting down")
        }
        for monitor in monitors { monitor.closeListener() }
        core.machine.closeAllChardevs()
        core.logger.info("exiting")
        if let onExit { onExit(request) }
        exit(0)
    }
}
