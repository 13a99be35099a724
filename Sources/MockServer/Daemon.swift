import Dispatch
public import Logging
import QMPWire
import SimulatedMachine

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Runs the daemon: sockets, signals, readiness, serving, exit.
///
/// All Dispatch set-up happens here, in nonisolated library code: handlers written inside `@main`
/// would inherit MainActor isolation and trap when Dispatch runs them on its threads.
public enum Daemon {
    /// Objects that must live as long as the process (the main thread never returns, and in `-O`
    /// builds `withExtendedLifetime` around it does not keep them alive).
    nonisolated(unsafe) private static var keepAlive: [AnyObject] = []

    /// Raises the soft limit of open files to the hard one (the daemon waits with epoll, never
    /// `select`, so descriptors above 1,023 are fine: systemd's advice for services), and returns how
    /// many passed descriptors the machine may hold: 1,024, or fewer when the process may not open
    /// 128 more than that (kept for sessions and sockets).
    /// How a socket of `role` treats several clients: the control plane is shared; a human monitor is
    /// one client at a time (a QEMU chardev has one frontend connection), whatever `--monitor-mode`.
    private static func mode(of role: SessionRole, _ configuration: DaemonConfiguration) -> MonitorMode {
        switch role {
        case .monitor: configuration.monitorMode
        case .control: .shared
        case .humanMonitor: .exclusive
        }
    }

    private static func describe(_ role: SessionRole, _ mode: MonitorMode) -> String {
        switch role {
        case .monitor: "\(mode.rawValue) monitor"
        case .control: "control"
        case .humanMonitor: "human monitor"
        }
    }

    private static func passedDescriptorLimit() -> Int {
        var limit = rlimit()
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return DescriptorTable.defaultLimit }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        let open = limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
        return max(16, min(DescriptorTable.defaultLimit, open - 128))
    }

    /// Starts serving and never returns; exits with a ``DaemonExitCode``.
    public static func run(_ configuration: DaemonConfiguration, logger: Logger, hooks: LifecycleHooks) -> Never {
        signal(SIGPIPE, SIG_IGN)
        // Block the shutdown signals before any Dispatch thread exists; signal sources receive them.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)

        let clockMode: ClockMode
        let hostClock: () -> Int64
        if configuration.manualClock {
            let manual = ManualHostClock()
            clockMode = .manual(manual)
            hostClock = { manual.nanoseconds }
        } else {
            let scale = configuration.timeScale
            let start = monotonicNanoseconds()
            clockMode = .realtime(scale: scale)
            hostClock = { Int64(Double(monotonicNanoseconds() - start) * scale) }
        }
        let queue = DispatchQueue(label: "qmp-mockd.machine")
        let machine = Machine(
            profile: configuration.profile,
            name: configuration.name,
            startPaused: configuration.startPaused,
            machineType: configuration.machine.machineType,
            board: configuration.machine.board,
            hostClock: hostClock
        )
        if let uuid = configuration.uuid { machine.uuid = uuid }
        machine.exitsOnGuestShutdown = !configuration.noShutdown
        // The machine owns passed descriptors as numbers and gives each back once; here they are real.
        machine.descriptors.release = { fd in _ = Glibc.close(fd) }
        machine.descriptors.isOpen = { fd in Glibc.fcntl(fd, F_GETFD) != -1 }
        machine.descriptors.limit = passedDescriptorLimit()
        machine.blockHost = PosixBlockHost.host
        machine.objects.host = PosixObjectHost.host
        // Each monitor socket is a chardev (compat_monitorN) as each -qmp is on QEMU; chardevs the
        // machine creates get a real OS side, run on the machine's queue.
        let ids = configuration.monitorChardevIDs
        for path in configuration.qmpSockets + configuration.hmpSockets {
            machine.addMonitorChardev(path: path, id: ids[path])
        }
        for socket in configuration.inheritedQMPSockets + configuration.inheritedHMPSockets {
            machine.addMonitorChardev(path: socket.name, id: ids[socket.name])
        }
        machine.chardevs.host = HostChardevs(queue: queue)
        do {
            try machine.coldPlug(configuration.machine)
        } catch {
            let prefix = configuration.startupFailureStatus == nil ? "machine configuration: " : ""
            fail(logger, "\(prefix)\(error)", .configuration, configuration.startupFailureStatus)
        }
        let core = ServerCore(machine: machine, logger: logger, limits: configuration.limits, clockMode: clockMode)
        core.maxOutboundBytes = configuration.maxOutboundBytes
        GuestWiring.attach(core: core, guest: configuration.guest)
        if let path = configuration.transcriptPath {
            do {
                core.transcript = try Transcript(path: path, logger: logger)
            } catch {
                fail(logger, "\(error)", .configuration, configuration.startupFailureStatus)
            }
        }
        let server = QMPServer(core: core, queue: queue)
        var created: [String] = []
        var sockets = configuration.qmpSockets.map { ($0, SessionRole.monitor) }
        sockets += configuration.hmpSockets.map { ($0, SessionRole.humanMonitor) }
        if let control = configuration.controlSocket { sockets.append((control, .control)) }
        for (path, role) in sockets {
            do {
                let fd = try UnixSocket.listen(
                    path: path,
                    mode: configuration.socketMode,
                    backlog: configuration.backlog
                )
                created.append(path)
                let mode = Self.mode(of: role, configuration)
                server.addMonitor(path: path, fd: fd, mode: mode, role: role, ownsPath: true)
                logger.info("listening on \(path) (\(Self.describe(role, mode)))")
            } catch {
                for p in created { unlink(p) }
                let code: DaemonExitCode = if case .inUse = error { .socketInUse } else { .cannotCreate }
                var message = error.description
                if let option = configuration.socketOptions[path] {
                    // As QEMU words it: `-qmp unix:/x/q.sock,...: Failed to bind socket to /x/q.sock: ...`.
                    if case .system("bind", let p, let e) = error {
                        message = "Failed to bind socket to \(p): \(String(cString: strerror(e)))"
                    }
                    message = "\(option): \(message)"
                }
                fail(logger, message, code, configuration.startupFailureStatus)
            }
        }
        // Inherited sockets (socket activation, `fd:N`) already listen: serve them as they are, never
        // unlink them (unless QEMU's behaviour is asked for). A connection already pending on one (socket activation starts the daemon on
        // the first connect) is accepted as soon as the queue runs.
        var inherited = configuration.inheritedQMPSockets.map { ($0, SessionRole.monitor) }
        inherited += configuration.inheritedHMPSockets.map { ($0, SessionRole.humanMonitor) }
        if let control = configuration.inheritedControlSocket { inherited.append((control, .control)) }
        for (socket, role) in inherited {
            UnixSocket.setNonBlockingCloseOnExec(socket.fd)
            let mode = Self.mode(of: role, configuration)
            let isPath = !socket.name.hasPrefix("fd:") && !socket.name.hasPrefix("@")
            let owns = configuration.unlinksInheritedSockets && isPath
            server.addMonitor(path: socket.name, fd: socket.fd, mode: mode, role: role, ownsPath: owns)
            logger.info("listening on \(socket.name) (\(Self.describe(role, mode)), inherited fd \(socket.fd))")
        }

        keepAlive = [server, core, machine]
        // The status line is taken before the queue runs anything: nothing else touches the server yet.
        let status = server.beginStatusReports(
            to: hooks.status,
            intervalMilliseconds: hooks.statusIntervalMilliseconds
        )
        let monitorCount = configuration.qmpSockets.count + configuration.inheritedQMPSockets.count
        // READY=1 once the sockets listen: they did before this point, and a client that connects now
        // waits in the backlog until the queue accepts it. Sent from this thread before the queue
        // starts, so that it waits neither for Dispatch to start its threads nor beside them.
        // SIGTERM and SIGINT are blocked in every thread and taken by `sigwaitinfo` below, so one that
        // arrives at any moment after start-up is handled, never lost and never fatal.
        logger.info("ready: QEMU \(configuration.profile) profile, \(monitorCount) monitor(s); \(status)")
        hooks.ready(status)
        server.start(onStopping: hooks.stopping) { _ in
            exit(DaemonExitCode.success.rawValue)
        }
        if let usec = hooks.watchdogIntervalMicroseconds, usec > 0 {
            queue.async { startWatchdog(every: usec / 2, on: queue, ping: hooks.watchdog) }
        }
        // Not `dispatchMain()`: on Linux it unblocks every signal on the main thread and waits in
        // `sigsuspend`, so a SIGTERM arriving before a Dispatch signal source is registered took the
        // default action and killed the daemon (seen: 1 start in 30). The main thread waits here instead.
        while true {
            var info = siginfo_t()
            let signal = sigwaitinfo(&blocked, &info)
            guard signal > 0 else { continue }
            hooks.signal?(signal, info._sifields._kill.si_pid)
            queue.async { server.handleSignal(signal) }
        }
    }

    /// Sends `ping` every `microseconds` from the server queue: a stuck queue stops the pings and
    /// the service manager's watchdog fires. Call on the queue.
    private static func startWatchdog(
        every microseconds: UInt64,
        on queue: DispatchQueue,
        ping: @escaping @Sendable () -> Void
    ) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.microseconds(Int(min(microseconds, UInt64(Int32.max))))
        timer.setEventHandler { ping() }
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(5))
        timer.resume()
        ping()
        keepAlive.append(timer as AnyObject)
    }

    /// CLOCK_MONOTONIC in nanoseconds: the host time behind the virtual clock.
    @Sendable static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private static func fail(
        _ logger: Logger,
        _ message: String,
        _ code: DaemonExitCode,
        _ status: Int32? = nil
    ) -> Never {
        logger.error("\(message)")
        exit(status ?? code.rawValue)
    }
}
