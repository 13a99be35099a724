import Logging
import MockServer
import QMPWire
import SimulatedMachine

/// Drives a ``ServerCore`` with in-memory sessions, no sockets: the pure engine under test.
final class SessionHarness {
    final class Buffer: SessionTransport {
        func sessionHasOutput(_ session: QMPSession) {}
    }

    let core: ServerCore

    let transport = Buffer()

    /// `board`: the machine's `-accel`/`-smp`/`-m`/`-global` (pass the configuration's when cold-plugging one).
    init(version: String = "8.2.0", paused: Bool = false, name: String? = nil, board: BoardOptions = BoardOptions()) {
        // Tests pass supported versions only.
        // swift-format-ignore: NeverForceUnwrap
        let profile = QEMUProfile(version, package: "qmp-mock test")!
        let machine = Machine(profile: profile, name: name, startPaused: paused, board: board)
        core = ServerCore(
            machine: machine,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            clock: .fixed(seconds: 100, microseconds: 5)
        )
    }

    func open(_ monitor: String = "m") -> QMPSession {
        core.openSession(monitor: monitor, transport: transport)
    }

    /// Sends `text` and returns the lines the session queued (without CRLF), emptying its buffer.
    @discardableResult
    func send(_ session: QMPSession, _ text: String) -> [String] {
        Array(text.utf8).withUnsafeBytes { session.receive($0) }
        return take(session)
    }

    func take(_ session: QMPSession) -> [String] {
        let text = String(decoding: session.outbound, as: UTF8.self)
        session.outbound.removeAll()
        var lines = text.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    func negotiated(_ monitor: String = "m", oob: Bool = false) -> QMPSession {
        let s = open(monitor)
        _ = take(s)
        send(
            s,
            oob ? #"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"# : #"{"execute":"qmp_capabilities"}"#
        )
        return s
    }
}

extension String {
    /// Splits on a separator without Foundation.
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
