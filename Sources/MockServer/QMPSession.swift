public import QMPWire
import SimulatedMachine

/// One client connection's QMP protocol state, free of I/O: bytes in, bytes out.
///
/// It parses the stream with QEMU's JSON dialect, runs capabilities negotiation, checks and
/// dispatches requests in order, and queues replies and events in ``outbound`` as CRLF-terminated
/// lines. The socket layer feeds it what it reads and writes out what it queues.
public final class QMPSession {
    /// Negotiation state of a connection.
    public enum Mode: Sendable, Equatable {
        /// Only `qmp_capabilities` exists; events are not sent.
        case negotiating
        /// All commands are available and events flow.
        case command
    }

    /// Number of this session in the daemon's life (1, 2, ...), used in logs and transcripts.
    public let number: Int
    /// The monitor socket the session came in on (its path, or a label).
    public let monitor: String
    public private(set) var mode: Mode = .negotiating
    /// Whether the client enabled the `oob` capability.
    public private(set) var outOfBandEnabled = false
    /// Bytes waiting to be written to the client.
    public var outbound: [UInt8] = []
    /// Set once the session must not take more input (after `quit` or a shutdown).
    public private(set) var isClosing = false
    /// Where output goes (the connection). `unowned`, not `weak`: the transport owns the session
    /// and clears this when it closes, and a weak reference would give every connection a side
    /// table, sending each retain and release of it down the runtime's slow path (fan-out to 1,000
    /// sessions touches each connection several times).
    public unowned var transport: (any SessionTransport)?
    /// Monitor or control plane.
    public let role: SessionRole
    /// The opt-in control events this control session subscribed to (`subscribe-events`); always
    /// empty on a monitor. Changed only through ``ServerCore/subscribe(_:to:)``, which counts them.
    public internal(set) var subscriptions: ControlSubscription = []
    /// Capabilities offered in the greeting (`oob` on monitors, none on the control plane).
    public var offeredCapabilities: [String] { role.offeredCapabilities }

    private var parser: JSONStreamParser
    /// The line editor of a human monitor session (``SessionRole/humanMonitor``).
    private var editor = LineEditor()
    private unowned let core: ServerCore

    init(number: Int, monitor: String, role: SessionRole, core: ServerCore, limits: JSONStreamParser.Limits) {
        self.number = number
        self.role = role
        self.monitor = monitor
        self.core = core
        self.parser = JSONStreamParser(limits: limits)
        outbound.reserveCapacity(4096)
    }

    /// Whether a message was partly received (for logging a disconnect mid-message).
    public var isMidMessage: Bool { role == .humanMonitor ? editor.isMidLine : parser.isMidMessage }

    /// Queues the greeting. Called once, when the connection is accepted.
    public func greet() {
        sendRendered(core.greetingLine(for: role))
    }

    /// Parses and executes everything in `bytes`, in order.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        if role == .humanMonitor {
            receiveTyped(bytes)
            return
        }
        var position = 0
        while !isClosing, let result = parser.next(from: bytes, position: &position) {
            core.recordInbound(self, parser.lastMessageText)
            switch result {
            case .failure(let error):
                send(error.response(id: nil))
            case .success(let message):
                handle(message)
            }
        }
    }

    private func handle(_ message: JSONValue) {
        switch QMPRequest.parse(message, allowOutOfBand: outOfBandEnabled) {
        case .failure(let failure):
            send(failure.error.response(id: failure.id))
        case .success(let request):
            do throws(QMPError) {
                if role == .monitor, mode == .command, let fault = core.faults.take(request.command) {
                    switch fault {
                    case .fail(let error): throw error
                    case .close:
                        markClosing()
                        transport?.sessionRequestsClose(self)
                        return
                    case .delay(let milliseconds):
                        transport?.sessionHoldsOutput(self, milliseconds: milliseconds)
                    }
                }
                let inCommandMode = mode == .command
                switch try dispatch(request) {
                case .value(let value):
                    send(QMPMessage.success(value, id: request.id))
                case .rendered(let text):
                    sendSuccess(renderedReturn: text, id: request.id)
                }
                if role == .monitor, inCommandMode, core.hasSubscribers {
                    // After the reply, before what the command set in motion (deferred events, the guest).
                    core.monitorCommandSucceeded(request, session: self)
                }
                core.commandCompleted()
            } catch {
                var error = error
                if mode == .negotiating && error.errorClass == .commandNotFound {
                    // QEMU rewrites the text of every CommandNotFound before negotiation.
                    error.desc = "Expecting capabilities negotiation with 'qmp_capabilities'"
                }
                send(error.response(id: request.id))
            }
        }
    }

    /// A human monitor's input: QEMU's line editor echoes it, and each finished line runs as an HMP
    /// command whose output, and then the prompt, follow the echo of the line's end.
    private func receiveTyped(_ bytes: UnsafeRawBufferPointer) {
        var echo: [UInt8] = []
        for byte in bytes where !isClosing {
            guard let line = editor.feed(byte, echo: &echo) else { continue }
            core.recordInbound(self, Array(line.utf8)[...])
            let output = HumanMonitor.shared.execute(
                line,
                call: QMPCall(arguments: JSONObject(), session: self, core: core)
            )
            echo.append(contentsOf: output.utf8)
            echo.append(contentsOf: HumanMonitor.prompt.utf8)
            sendRendered(echo)
            echo.removeAll(keepingCapacity: true)
            core.commandCompleted()
        }
        if !echo.isEmpty { sendRendered(echo) }
    }

    /// QEMU's `qmp_dispatch` after the shape checks: look-up, OOB permission, arguments, handler.
    private enum Answer {
        case value(JSONValue)
        /// The JSON text of the value (``QMPCommand/rendered``).
        case rendered([UInt8])
    }

    private func dispatch(_ request: QMPRequest) throws(QMPError) -> Answer {
        let command: QMPCommand?
        if mode == .negotiating {
            command = request.command == "qmp_capabilities" ? ServerCore.negotiationCommand : nil
        } else {
            command = (role == .monitor ? core.commands : core.controlCommands).lookup(request.command)
        }
        guard let command else {
            throw QMPError(.commandNotFound, "The command \(request.command) has not been found")
        }
        if request.isOutOfBand && !command.allowsOutOfBand {
            throw .generic("The command \(request.command) does not support OOB")
        }
        try command.arguments.validate(request.arguments)
        let call = QMPCall(arguments: request.arguments, session: self, core: core)
        if let rendered = command.rendered, let text = try rendered(call) { return .rendered(text) }
        return .value(try command.handler(call))
    }

    /// `qmp_capabilities` in negotiation mode: accept the requested capabilities and switch modes.
    func completeNegotiation(enable: [String]) throws(QMPError) {
        var missing: [String] = []
        for capability in enable where !offeredCapabilities.contains(capability) && !missing.contains(capability) {
            missing.append(capability)
        }
        if !missing.isEmpty {
            throw .generic("Capability \(missing.joined(separator: ", ")) not available")
        }
        outOfBandEnabled = enable.contains("oob")
        mode = .command
    }

    /// Queues one message object as a line.
    public func send(_ object: JSONObject) {
        let start = outbound.count
        QMPMessage.appendLine(object, to: &outbound)
        didAppend(from: start)
    }

    /// Queues an already rendered line (events are rendered once for all sessions).
    public func sendRendered(_ line: [UInt8]) {
        let start = outbound.count
        outbound.append(contentsOf: line)
        didAppend(from: start)
    }

    /// Queues a success reply whose return value is already rendered (``QMPCommand/rendered``).
    private func sendSuccess(renderedReturn text: [UInt8], id: JSONValue?) {
        let start = outbound.count
        QMPMessage.appendSuccessLine(renderedReturn: text, id: id, to: &outbound)
        didAppend(from: start)
    }

    private func didAppend(from start: Int) {
        if core.recordsOutbound { core.recordOutbound(self, outbound[start...]) }
        if start == 0 {
            transport?.sessionHasOutput(self)
        } else if outbound.count > core.maxOutboundBytes && !isClosing {
            // Counted with what is already written still in the buffer: a few KiB of slack.
            markClosing()
            transport?.sessionOverflowed(self)
        }
    }

    /// Stops taking input; queued output is still written.
    public func markClosing() { isClosing = true }
}
