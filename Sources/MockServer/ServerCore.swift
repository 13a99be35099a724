public import HotplugMachine
public import Logging
public import QMPWire

/// Everything the QMP server does, free of sockets and threads: the machine, the command table,
/// the sessions, event fan-out and the transcript.
///
/// The daemon drives it from one serial queue (QEMU's big lock); tests drive it directly. It is a
/// plain class: whoever owns it confines it to one thread.
public final class ServerCore {
    /// The simulated machine.
    public let machine: Machine
    /// The registered commands (command mode).
    public private(set) var commands: CommandTable
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
    private let logMessages: Bool

    /// - Parameters:
    ///   - machine: the VM to serve.
    ///   - logger: where diagnostics go; at `debug` every QMP message is logged.
    ///   - clock: the wall clock for event timestamps.
    ///   - limits: the JSON parser's limits per message.
    public init(
        machine: Machine,
        logger: Logger,
        clock: WallClock = .system,
        limits: JSONStreamParser.Limits = .qemu
    ) {
        self.machine = machine
        self.logger = logger
        self.clock = clock
        self.limits = limits
        self.logMessages = logger.logLevel <= .debug
        self.commands = CommandTable()
        BuiltinCommands.register(in: &commands)
        MachineCommands.register(in: &commands)
        machine.sink = self
    }

    /// Adds or replaces a command.
    public func register(_ command: QMPCommand) { commands.register(command) }

    /// The sessions currently open, oldest first.
    public var openSessions: [QMPSession] { sessions }

    /// Opens a session for a new connection on `monitor` and queues its greeting.
    public func openSession(monitor: String, transport: (any SessionTransport)?) -> QMPSession {
        sessionCount += 1
        let session = QMPSession(number: sessionCount, monitor: monitor, core: self, limits: limits)
        session.transport = transport
        sessions.append(session)
        logger.info("session \(session.number) connected on \(monitor)")
        session.greet()
        return session
    }

    /// Forgets a session whose connection ended.
    public func closeSession(_ session: QMPSession, reason: String) {
        sessions.removeAll { $0 === session }
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

    func recordOutbound(_ session: QMPSession, _ line: ArraySlice<UInt8>) {
        guard logMessages || transcript != nil else { return }
        let text = line.count >= 2 ? line.dropLast(2) : line  // without CRLF
        if logMessages {
            logger.debug("session \(session.number) <- \(String(decoding: text, as: UTF8.self))")
        }
        transcript?.record(direction: .serverToClient, session: session.number, socket: session.monitor, text: text)
    }
}

extension ServerCore: MachineEventSink {
    /// Stamps an event and queues it, rendered once, to every negotiated session on every monitor.
    public func emit(_ event: MachineEvent) {
        let (seconds, microseconds) = clock.now()
        var line: [UInt8] = []
        QMPMessage.appendLine(
            QMPMessage.event(event.name, data: event.data, seconds: seconds, microseconds: microseconds),
            to: &line
        )
        for session in sessions where session.mode == .command {
            session.sendRendered(line)
        }
    }
}
