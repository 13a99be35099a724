import QMPWire
import SlotWatch

#if canImport(Glibc)
    import Glibc
#endif

/// `qmp-mockctl watch` at work: one control session, a `poll` loop over it and the signals, and
/// the view (a full-screen terminal frame, or plain lines).
///
/// How it stays current without polling the daemon: it subscribes to `MONITOR_EVENT`,
/// `MONITOR_COMMAND` and `CLOCK_ADVANCED` (`subscribe-events`; `GUEST_REGISTER_WRITE` comes
/// anyway) and reads `machine-state` again after an event that may have changed the machine. The
/// daemon runs everything on one queue and writes a session's events before a reply, so every
/// event that arrives before the reply of a `machine-state` is already reflected in it: those need
/// no further request, and at most one request is in flight. Events are shown with the virtual
/// time of the state that follows them. The only timer is the terminal's countdown tick (4 Hz,
/// and only while the realtime clock runs), which extrapolates locally and asks the daemon nothing.
final class WatchLoop {
    /// What the loop ended with: the last line for the user.
    enum Ending {
        case daemonGone
        case signal(Int32)

        var text: String {
            switch self {
            case .daemonGone: "watch: the daemon closed the control socket"
            case .signal(SIGINT): "watch: stopped (SIGINT)"
            case .signal(SIGTERM): "watch: stopped (SIGTERM)"
            case .signal(SIGHUP): "watch: stopped (SIGHUP)"
            case .signal(let number): "watch: stopped (signal \(number))"
            }
        }
    }

    /// Events kept for the terminal's event pane (it shows as many of the newest as fit).
    static let keptEvents = 500
    /// The countdown tick of the terminal view with the realtime clock, in milliseconds.
    static let tickMilliseconds: Int32 = 250

    private let client: ControlClient
    private let screen: TerminalScreen?
    private let signals: SignalDescriptor?
    private var snapshot: MachineSnapshot
    /// Monotonic nanoseconds when ``snapshot`` was read (for the terminal's countdown).
    private var snapshotTakenAt: Int64
    /// `--time-scale` of a realtime clock (virtual nanoseconds per host nanosecond).
    private let timeScale: Double
    /// Events not shown yet: they wait for the state that reflects them.
    private var unshown: [WatchEvent] = []
    /// The terminal's event pane, stamped lines, oldest first.
    private var eventLines: [String] = []
    private var requestInFlight = false
    private var refreshWanted = false

    /// Subscribes, reads the clock and the first state, and shows it.
    /// - Parameter terminal: draw the full-screen view (else plain lines).
    init(client: ControlClient, terminal: Bool) throws {
        self.client = client
        let names = WatchEvent.subscriptions.map { JSONValue.string($0) }
        _ = try client.execute("subscribe-events", ["events": .array(names)])
        let clock = try client.execute("clock-query")
        timeScale = clock.objectValue?["time-scale"].flatMap(Self.number) ?? 1
        let state = try client.execute("machine-state")
        guard let first = MachineSnapshot(state: state) else {
            throw ControlClient.Failure(description: "machine-state: unexpected reply", exitCode: 1)
        }
        _ = client.takeEvents()  // before the first state: reflected in it
        snapshot = first
        snapshotTakenAt = Self.monotonicNow()
        signals = SignalDescriptor()
        if terminal {
            let screen = TerminalScreen()
            self.screen = screen
            redraw(force: true)
        } else {
            screen = nil
            StandardOutput.write(PlainFormat.snapshot(first).map { $0 + "\n" }.joined())
        }
    }

    /// Runs until the daemon closes the socket or a signal ends it; leaves the terminal as it was.
    func run() -> Ending {
        let ending = loop()
        switch ending {
        case .daemonGone where !unshown.isEmpty:
            // What came before the end (SHUTDOWN, last register writes): with the last known time.
            show(unshown, at: snapshot.nowNanoseconds)
            unshown.removeAll()
        default: break
        }
        let last = PlainFormat.stamp(present.nowNanoseconds) + ending.text + "\n"
        screen?.restore()
        StandardOutput.write(last)
        return ending
    }

    private func loop() -> Ending {
        var fds = [pollfd(fd: client.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        if let signals { fds.append(pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        while true {
            let timeout = screen != nil && snapshot.timeFlows ? Self.tickMilliseconds : -1
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return .daemonGone
            }
            if ready == 0 {
                redraw()
                continue
            }
            if fds.count > 1, fds[1].revents != 0, let signals {
                for signal in signals.take() {
                    if signal == SIGWINCH { redraw(force: true) } else { return .signal(signal) }
                }
            }
            if fds[0].revents != 0 {
                do {
                    for message in try client.receiveAvailable() { take(message) }
                    if refreshWanted && !requestInFlight {
                        try client.send("machine-state")
                        requestInFlight = true
                        refreshWanted = false
                    }
                } catch {
                    return .daemonGone
                }
            }
        }
    }

    /// One message from the daemon, in order: an event, or the reply of the `machine-state` in flight.
    private func take(_ message: JSONValue) {
        guard let object = message.objectValue else { return }
        if object.contains("event") {
            guard let event = WatchEvent(message: message) else { return }
            unshown.append(event)
            // With a request in flight the reply to come already reflects the event.
            if event.refreshes && !requestInFlight { refreshWanted = true }
            return
        }
        guard object.contains("return") || object.contains("error") else { return }
        requestInFlight = false
        guard let state = object["return"], let next = MachineSnapshot(state: state) else { return }
        let previous = snapshot
        snapshot = next
        snapshotTakenAt = Self.monotonicNow()
        show(unshown, at: next.nowNanoseconds)
        unshown.removeAll()
        if screen != nil {
            redraw()
        } else {
            StandardOutput.write(PlainFormat.changes(from: previous, to: next).map { $0 + "\n" }.joined())
        }
    }

    /// Logs events: lines on stdout (plain), or into the event pane (terminal; drawn by the caller).
    private func show(_ events: [WatchEvent], at nanoseconds: Int64) {
        guard !events.isEmpty else { return }
        let stamp = PlainFormat.stamp(nanoseconds)
        if screen != nil {
            eventLines += events.map { stamp + $0.text }
            if eventLines.count > Self.keptEvents { eventLines.removeFirst(eventLines.count - Self.keptEvents) }
        } else {
            StandardOutput.write(events.map { stamp + $0.text + "\n" }.joined())
        }
    }

    /// The snapshot as it stands now: advanced by the host time since it was read when virtual
    /// time flows by itself (realtime clock, VM running), else as read.
    private var present: MachineSnapshot {
        guard snapshot.timeFlows else { return snapshot }
        let elapsed = Double(Self.monotonicNow() - snapshotTakenAt) * timeScale
        return snapshot.advanced(by: Int64(elapsed))
    }

    private func redraw(force: Bool = false) {
        guard let screen else { return }
        let size = screen.size
        screen.draw(
            ScreenFrame(snapshot: present, events: eventLines, columns: size.columns, rows: size.rows),
            force: force
        )
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .double(let d): d
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        default: nil
        }
    }

    private static func monotonicNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
