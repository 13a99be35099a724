public import Logging
import QMPWire

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The `--transcript` file: every QMP message either way as one JSON line
/// `{"time": 1795633987.488563, "dir": "c2s"|"s2c", "session": 1, "socket": "/run/qmp.sock", "message": "..."}`.
///
/// `message` is the text as received (client to server) or as sent without its CRLF (server to
/// client). A write failure is logged once; the daemon then goes on serving without a transcript.
public final class Transcript {
    /// Which way a message went.
    public enum Direction: String, Sendable {
        case clientToServer = "c2s"
        case serverToClient = "s2c"
    }

    private var fd: Int32
    private let path: String
    private let logger: Logger
    private let clock: WallClock
    private var line: [UInt8] = []

    /// Opens (creating or truncating) the transcript file.
    /// - Throws: the `errno` text when the file cannot be opened.
    public init(path: String, logger: Logger, clock: WallClock = .system) throws(TranscriptError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0o600)
        guard fd >= 0 else { throw TranscriptError(path: path, errno: errno) }
        self.fd = fd
        self.path = path
        self.logger = logger
        self.clock = clock
        line.reserveCapacity(512)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Appends one entry.
    public func record(direction: Direction, session: Int, socket: String, text: ArraySlice<UInt8>) {
        guard fd >= 0 else { return }
        let (seconds, microseconds) = clock.now()
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: "{\"time\": ".utf8)
        JSONWriter.writeInteger(seconds, into: &line)
        line.append(UInt8(ascii: "."))
        let micros = String(microseconds)
        line.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, 6 - micros.count)))
        line.append(contentsOf: micros.utf8)
        line.append(contentsOf: ", \"dir\": \"\(direction.rawValue)\", \"session\": ".utf8)
        JSONWriter.writeInteger(Int64(session), into: &line)
        line.append(contentsOf: ", \"socket\": ".utf8)
        JSONWriter.writeString(socket, into: &line)
        line.append(contentsOf: ", \"message\": ".utf8)
        JSONWriter.writeString(QEMUUTF8.lossyString(text), into: &line)
        line.append(contentsOf: "}\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != line.count {
            let reason = written < 0 ? String(cString: strerror(errno)) : "short write"
            logger.error("transcript \(path): write failed (\(reason)); transcript disabled, serving goes on")
            close(fd)
            fd = -1
        }
    }
}

/// The transcript file could not be opened.
public struct TranscriptError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot open transcript \(path): \(String(cString: strerror(errno)))" }
}
