public import Logging
public import QMPWire
public import SimulatedMachine
import Synchronization

/// Everything the QMP server does, free of sockets and threads: the machine, the command table,
/// the sessions, event fan-out and the transcript.
///
/// The daemon drives it from one serial queue (QEMU's big lock); tests drive it directly. It is a
/// plain class: whoever owns it confines it to one thread.
public final class ServerCore {
    /// The simulated machine.
    public let machine: Machine
    /// The registered commands (command mode) of the QMP monitors.
    public private(set) var commands: CommandTable
    /// The commands of the control plane.
    public private(set) var controlCommands: CommandTable
    /// Faults armed by the control plane for monitor commands.
    public var faults = FaultInjector()
    /// How time moves.
    public let clockMode: ClockMode
    /// The guest persona of a controller (and SHPC slot), for `machine-state`; set by the guest wiring.
    public var personaName: ((String, Int?) -> String?)?
    /// Runs after `system_reset` reset the devices (the guest sets its drivers up again).
    public var afterSystemReset: (() -> Void)?
    /// A session whose unsent output passes this many bytes is disconnected (`--max-outbound`).
    public var maxOutboundBytes = 8 << 20
    /// Objects that live as long as the core (the guest).
    public var attachments: [AnyObject] = []
    /// The release being played.
    public var profile: QEMUProfile { machine.profile }
    public let logger: Logger
    public var transcript: Transcript?
    /// Set when the daemon should write out pending output and exit.
    public private(set) var shutdownRequest: ShutdownRequest?

    private let clock: WallClock
    private let limits: JSONStreamParser.Limits
    private var sessions: [QMPSession] = []
    private var sessionCount = 0
    /// Open control sessions with at least one opt-in subscription (``ControlSubscription``): while
    /// it is 0, nothing of `MONITOR_EVENT`, `MONITOR_COMMAND` or `CLOCK_ADVANCED` is built.
    private var subscribedSessions = 0
    private let logMessages: Bool
    /// Scratch buffer for rendering event lines (``stampedLine(_:)``).
    private var eventLine: [UInt8] = []
    /// The greeting lines, rendered on first use: they never change (the profile is fixed), and
    /// rendering one costs ~14k instructions (QDict order of five objects) per connection.
    private lazy var monitorGreeting = renderGreeting(for: .monitor)
    private lazy var controlGreeting = renderGreeting(for: .control)
    /// `query-qmp-schema`'s answer and the command names it was restricted to: built on the first
    /// `query-qmp-schema` (never at start-up), again only when the command table changed since.
    private var schemaCache: (commands: [String], schema: QMPSchema)?
    /// The capability probe's answers (``ProbeAnswers``): made on the first probe command.
    private var probeCache: ProbeAnswers?
    /// `migrate-set-capabilities`' state (made from the recording on first use).
    var migrationCapabilities: MigrationCapabilities?

    /// - Parameters:
    ///   - machine: the VM to serve.
    ///   - logger: where diagnostics go; at `debug` every QMP message is logged.
    ///   - clock: the wall clock for event timestamps.
    ///   - limits: the JSON parser's limits per message.
    ///   - clockMode: the machine's time source (manual for `clock-advance`).
    public init(
        machine: Machine,
        logger: Logger,
        clock: WallClock = .system,
        limits: JSONStreamParser.Limits = .qemu,
        clockMode: ClockMode = .realtime(scale: 1)
    ) {
        self.clockMode = clockMode
        self.machine = machine
        self.logger = logger
        self.clock = clock
        self.limits = limits
        self.logMessages = logger.logLevel <= .debug
        self.commands = Self.monitorCommands(for: machine.profile)
        controlCommands = Self.standardControlCommands
        machine.sink = self
        if machine.observer == nil { machine.observer = self }
    }

    /// The monitor commands every core of `profile`'s release starts with, registered once per process
    /// and release (the table is a value: what a core registers later stays its own).
    private static func monitorCommands(for profile: QEMUProfile) -> CommandTable {
        if let table = monitorTables.withLock({ $0[profile.version] }) { return table }
        var table = CommandTable()
        BuiltinCommands.register(in: &table)
        MachineCommands.register(in: &table)
        DescriptorCommands.register(in: &table)
        NetCommands.register(in: &table)
        BlockCommands.register(in: &table)
        ChardevCommands.register(in: &table)
        ObjectCommands.register(in: &table)
        ProbeCommands.register(in: &table, profile: profile)
        HMPQMPCommand.register(in: &table)
        monitorTables.withLock { $0[profile.version] = table }
        return table
    }

    /// ``monitorCommands(for:)``'s tables, by release.
    private static let monitorTables = Mutex<[QEMUVersion: CommandTable]>([:])

    /// The control-plane commands every core starts with.
    private static let standardControlCommands: CommandTable = {
        var table = CommandTable()
        ControlCommands.register(in: &table)
        return table
    }()

    /// Adds or replaces a control-plane command.
    public func registerControl(_ command: QMPCommand) { controlCommands.register(command) }

    /// After a command's reply: events of objects QEMU finalises later, then whatever the guest
    /// does right away (zero-delay timers, e.g. its interrupt handler).
    func commandCompleted() {
        machine.flushDeferredEvents()
        machine.runDueTimers()
    }

    /// Adds or replaces a command.
    public func register(_ command: QMPCommand) { commands.register(command) }

    /// The capability probe's answers for the profile's release, restricted to the machine's catalog;
    /// nil when no recording is embedded for the release.
    func probeAnswers() -> ProbeAnswers? {
        if let cache = probeCache { return cache }
        let answers = ProbeAnswers(release: profile.description, catalog: machine.catalog)
        probeCache = answers
        return answers
    }

    /// The release's schema restricted to the registered monitor commands and the events
    /// monitors can receive (``MachineEvent/Name``), as `query-qmp-schema` answers it.
    public func qmpSchema() -> QMPSchema {
        let names = commands.names
        if let cache = schemaCache, cache.commands == names { return cache.schema }
        let schema = QMPSchema.shared(
            release: profile.description,
            commands: names,
            events: MachineEvent.Name.allCases.map(\.rawValue)
        )
        for name in schema.missingCommands {
            logger.warning("query-qmp-schema: QEMU \(schema.release) has no command \(name); it is registered anyway")
        }
        for name in schema.missingEvents {
            logger.warning("query-qmp-schema: QEMU \(schema.release) has no event \(name)")
        }
        schemaCache = (names, schema)
        return schema
    }

    /// The sessions currently open, oldest first.
    public var openSessions: [QMPSession] { sessions }

    /// Opens a session for a new connection on `monitor` and queues its greeting.
    public func openSession(
        monitor: String,
        role: SessionRole = .monitor,
        transport: (any SessionTransport)?
    ) -> QMPSession {
        sessionCount += 1
        let session = QMPSession(number: sessionCount, monitor: monitor, role: role, core: self, limits: limits)
        session.transport = transport
        sessions.append(session)
        if role == .monitor { machine.monitorClientOpened(on: monitor) }
        logger.info("session \(session.number) connected on \(monitor)")
        session.greet()
        return session
    }

    /// Forgets a session whose connection ended.
    public func closeSession(_ session: QMPSession, reason: String) {
        // One removal, found by identity (not a filter over every session: closing 1,000 sessions
        // at once made that quadratic, ~70k instructions a close).
        guard let index = sessions.firstIndex(where: { $0 === session }) else { return }
        sessions.remove(at: index)
        if session.role == .monitor { machine.monitorClientClosed(on: session.monitor) }
        if !session.subscriptions.isEmpty { subscribedSessions -= 1 }
        session.markClosing()
        let note = session.isMidMessage ? " (mid-message)" : ""
        logger.info("session \(session.number) closed: \(reason)\(note)")
    }

    /// Asks the daemon to exit after the current output is written.
    public func requestShutdown(_ request: ShutdownRequest) {
        if shutdownRequest == nil { shutdownRequest = request }
        for session in sessions { session.markClosing() }
    }

    /// The `qmp_capabilities` command of negotiation mode.
    static let negotiationCommand = QMPCommand(
        "qmp_capabilities",
        arguments: QAPIArguments([QAPIArgument("enable", .array(.enumeration(["oob"])), optional: true)])
    ) { call throws(QMPError) in
        let enable = call.arguments["enable"]?.arrayValue?.compactMap(\.stringValue) ?? []
        try call.session.completeNegotiation(enable: enable)
        return .object(JSONObject())
    }

    // MARK: Transcript and message log

    func recordInbound(_ session: QMPSession, _ text: ArraySlice<UInt8>) {
        if logMessages {
            logger.debug("session \(session.number) -> \(String(decoding: text, as: UTF8.self))")
        }
        transcript?.record(direction: .clientToServer, session: session.number, socket: session.monitor, text: text)
    }

    /// Whether ``recordOutbound(_:_:)`` does anything (checked before slicing the output for it).
    var recordsOutbound: Bool { logMessages || transcript != nil }

    func recordOutbound(_ session: QMPSession, _ line: ArraySlice<UInt8>) {
        guard recordsOutbound else { return }
        // Without the CRLF of a QMP line (a human monitor's output need not end in one).
        let text = line.count >= 2 && line[line.endIndex - 2] == 13 && line.last == 10 ? line.dropLast(2) : line
        if logMessages {
            logger.debug("session \(session.number) <- \(String(decoding: text, as: UTF8.self))")
        }
        transcript?.record(direction: .serverToClient, session: session.number, socket: session.monitor, text: text)
    }
}

extension ServerCore: MachineEventSink {
    /// Stamps a QMP event and queues it, rendered once, to every negotiated monitor session; and,
    /// with the same timestamp, as `MONITOR_EVENT` to the control sessions that subscribed.
    public func emit(_ event: MachineEvent) {
        // The guest's soft-off ends the process once this SHUTDOWN is out (without -no-shutdown).
        if event.kind == .shutdown, machine.exitRequested { requestShutdown(.guestShutdown) }
        let monitors = hasListeners(.monitor)
        guard monitors || subscribedSessions > 0 else { return }
        let (seconds, microseconds) = clock.now()
        if monitors {
            let line = stampedLine(seconds, microseconds) {
                QMPMessage.appendEventLine(event.name, data: event.data, seconds: $1, microseconds: $2, to: &$0)
            }
            queue(line, to: .monitor)
        }
        if subscribedSessions > 0 {
            var copy = JSONObject(capacity: 2)
            copy.append("event", .string(event.name))
            if let data = event.data { copy.append("data", .object(data)) }
            controlEvent("MONITOR_EVENT", copy, for: .monitorEvents, seconds: seconds, microseconds: microseconds)
        }
    }

    /// Whether any negotiated session of `role` would receive an event (nothing is rendered otherwise).
    private func hasListeners(_ role: SessionRole) -> Bool {
        sessions.contains { $0.role == role && $0.mode == .command }
    }

    /// An event line stamped now: `build(&line, seconds, microseconds)` writes it, into a buffer the
    /// core reuses (no allocation per event; the line is copied into each session's output).
    private func stampedLine(_ build: (inout [UInt8], Int64, Int64) -> Void) -> [UInt8] {
        let (seconds, microseconds) = clock.now()
        return stampedLine(seconds, microseconds, build)
    }

    /// An event line stamped with a given time (an event and its control-plane copy share one).
    private func stampedLine(
        _ seconds: Int64,
        _ microseconds: Int64,
        _ build: (inout [UInt8], Int64, Int64) -> Void
    ) -> [UInt8] {
        eventLine.removeAll(keepingCapacity: true)
        build(&eventLine, seconds, microseconds)
        return eventLine
    }

    /// The greeting line for a session of `role`: QMP's, or a human monitor's banner and first prompt
    /// (QEMU's `monitor_init_hmp` and `readline_show_prompt`).
    func greetingLine(for role: SessionRole) -> [UInt8] {
        switch role {
        case .monitor: monitorGreeting
        case .control: controlGreeting
        case .humanMonitor:
            Array(
                "QEMU \(profile.version.major).\(profile.version.minor).\(profile.version.micro) monitor - type 'help' for more information\r\n\(HumanMonitor.prompt)"
                    .utf8
            )
        }
    }

    private func renderGreeting(for role: SessionRole) -> [UInt8] {
        var line: [UInt8] = []
        QMPMessage.appendLine(
            QMPMessage.greeting(version: profile.version, capabilities: role.offeredCapabilities),
            to: &line
        )
        return line
    }

    /// Queues a line, rendered once, to every negotiated session of `role`.
    private func queue(_ line: [UInt8], to role: SessionRole) {
        for session in sessions where session.role == role && session.mode == .command {
            session.sendRendered(line)
        }
    }
}

extension ServerCore: MachineObserver {
    /// Reports a guest register write on the control plane (`GUEST_REGISTER_WRITE`).
    public func guestRegisterWrite(_ write: GuestRegisterWrite) {
        // Nothing to build when no test watches (the guest writes registers on every hot-plug).
        guard hasListeners(.control) else { return }
        let (fields, template) = write.target == nil ? Self.registerWrite : Self.registerWriteWithTarget
        let line = stampedLine { line, seconds, microseconds in
            template.append(seconds: seconds, microseconds: microseconds, to: &line) { index, out in
                switch fields[index] {
                case .controller: JSONWriter.writeString(write.controller, into: &out)
                case .register: JSONWriter.writeString(write.register, into: &out)
                case .target: JSONWriter.writeInteger(Int64(write.target ?? 0), into: &out)
                case .value: JSONWriter.writeInteger(Int64(write.written), into: &out)
                case .old: JSONWriter.writeInteger(Int64(write.old), into: &out)
                case .new: JSONWriter.writeInteger(Int64(write.new), into: &out)
                }
            }
        }
        queue(line, to: .control)
    }

    /// The members of `GUEST_REGISTER_WRITE`'s data, `{controller, register, [target,] value, old,
    /// new}` (the order the object is built in, which decides its QDict order).
    private enum RegisterWriteField: String, CaseIterable {
        case controller, register, target, value, old, new
    }

    /// The event's members and its line cut into literal runs once (the guest writes registers 17
    /// times per hot-plug cycle): without and with `target` (SHPC commands).
    private static let registerWrite = registerWriteLine(RegisterWriteField.allCases.filter { $0 != .target })
    private static let registerWriteWithTarget = registerWriteLine(RegisterWriteField.allCases)

    private static func registerWriteLine(
        _ fields: [RegisterWriteField]
    ) -> (fields: [RegisterWriteField], template: EventLineTemplate) {
        (fields, EventLineTemplate(name: "GUEST_REGISTER_WRITE", dataKeys: fields.map(\.rawValue)))
    }
}

// MARK: Opt-in control events (`subscribe-events`)

extension ServerCore {
    /// Whether any control session subscribed to an opt-in event (one integer compare: the check
    /// on the paths every monitor command and event takes).
    var hasSubscribers: Bool { subscribedSessions > 0 }

    /// Adds `subscription` to a control session's (`subscribe-events`); counted once per session.
    func subscribe(_ session: QMPSession, to subscription: ControlSubscription) {
        if session.subscriptions.isEmpty && !subscription.isEmpty { subscribedSessions += 1 }
        session.subscriptions.formUnion(subscription)
    }

    /// `MONITOR_COMMAND {command, arguments?, session}` to the subscribed control sessions, after
    /// the reply of a monitor command that succeeded.
    func monitorCommandSucceeded(_ request: QMPRequest, session: QMPSession) {
        var data = JSONObject(capacity: 3)
        data.append("command", .string(request.command))
        if !request.arguments.isEmpty { data.append("arguments", .object(request.arguments)) }
        data.append("session", .int(Int64(session.number)))
        let (seconds, microseconds) = clock.now()
        controlEvent("MONITOR_COMMAND", data, for: .monitorCommands, seconds: seconds, microseconds: microseconds)
    }

    /// `CLOCK_ADVANCED {now-ns}` to the subscribed control sessions, once `clock-advance` has run
    /// every timer it reached (so after the events those timers caused, before the reply).
    func clockAdvanced() {
        guard subscribedSessions > 0 else { return }
        let (seconds, microseconds) = clock.now()
        controlEvent(
            "CLOCK_ADVANCED",
            JSONObject([("now-ns", .int(machine.clock.now))]),
            for: .clockAdvances,
            seconds: seconds,
            microseconds: microseconds
        )
    }

    /// Queues an opt-in control event, rendered once, to the control sessions subscribed to it.
    private func controlEvent(
        _ name: String,
        _ data: JSONObject,
        for subscription: ControlSubscription,
        seconds: Int64,
        microseconds: Int64
    ) {
        let line = stampedLine(seconds, microseconds) {
            QMPMessage.appendEventLine(name, data: data, seconds: $1, microseconds: $2, to: &$0)
        }
        for session in sessions
        where session.role == .control && session.mode == .command && session.subscriptions.contains(subscription) {
            session.sendRendered(line)
        }
    }
}
