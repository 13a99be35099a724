#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A blocking Unix-socket connection that reads newline-terminated lines.
///
/// Lines are found in place in one receive buffer; only reply lines (and event lines kept with
/// ``keepsEvents``) are copied out, so that the tool's own work per message stays small next to
/// the server's: a hot-plug cycle brings ~20 event lines that nobody looks at.
final class LineConnection {
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    /// Whether event lines read while waiting for a reply are kept in ``events`` (for
    /// ``waitForEvent(_:)``); a connection whose events are never awaited drops them.
    var keepsEvents = true
    /// Event lines read while waiting for a reply, oldest first.
    var events: [[UInt8]] = []

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Connects once; nil (with errno set) when the socket does not accept.
    static func connect(path: String) -> LineConnection? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let rc = withUnixAddress(path) { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let saved = errno
            close(fd)
            errno = saved
            return nil
        }
        return LineConnection(fd: fd)
    }

    /// Connects, retrying until `timeoutSeconds` while the socket is missing or refuses.
    static func connect(path: String, timeoutSeconds: Double) throws -> LineConnection {
        let deadline = monotonicNow() + UInt64(timeoutSeconds * 1e9)
        while true {
            if let connection = connect(path: path) { return connection }
            if monotonicNow() > deadline { throw BenchError.errno("connect \(path)") }
            usleep(100)
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.unsafelyUnwrapped + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError.errno("send") }
            offset += n
        }
    }

    /// The bounds in ``buffer`` of the next line (without its line end), reading as needed; valid
    /// until the next call. Throws at end of file.
    private func nextLine() throws -> Range<Int> {
        while true {
            let found = buffer.withUnsafeBytes { raw -> Int? in
                let base = raw.baseAddress.unsafelyUnwrapped
                guard end > start, let hit = memchr(base + start, 0x0A, end - start) else { return nil }
                return UnsafeRawPointer(hit) - base
            }
            if let newline = found {
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = start..<lineEnd
                start = newline + 1
                return line
            }
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(
                        raw.baseAddress.unsafelyUnwrapped,
                        raw.baseAddress.unsafelyUnwrapped + start,
                        end - start
                    )
                }
                end -= start
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress.unsafelyUnwrapped + end, $0.count - end) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw BenchError.errno("read") }
            if n == 0 { throw BenchError("connection closed by the server") }
            end += n
        }
    }

    /// The next line (without its line end); throws at end of file.
    func readLine() throws -> [UInt8] {
        Array(buffer[try nextLine()])
    }

    /// An event line begins with one of the envelope's members: QEMU writes `{"timestamp": ...`,
    /// and `{"event": ...` is the other order a server may choose. Replies begin otherwise.
    private func isEvent(_ line: Range<Int>) -> Bool {
        hasPrefix(line, Self.timestampPrefix) || hasPrefix(line, Self.eventPrefix)
    }

    private func hasPrefix(_ line: Range<Int>, _ prefix: [UInt8]) -> Bool {
        line.count >= prefix.count && buffer[line.lowerBound..<(line.lowerBound + prefix.count)].elementsEqual(prefix)
    }

    private static let timestampPrefix = Array("{\"timestamp\"".utf8)
    private static let eventPrefix = Array("{\"event\"".utf8)

    /// Sends a request and returns its reply line; events read meanwhile go to ``events`` (when
    /// ``keepsEvents``).
    func command(_ request: [UInt8]) throws -> [UInt8] {
        try send(request)
        while true {
            let line = try nextLine()
            if isEvent(line) {
                if keepsEvents { events.append(Array(buffer[line])) }
                continue
            }
            return Array(buffer[line])
        }
    }

    /// Reads until an event line containing `pattern` (already received ones first).
    func waitForEvent(_ pattern: [UInt8]) throws {
        if let i = events.firstIndex(where: { contains($0, pattern) }) {
            events.removeSubrange(0...i)
            return
        }
        events.removeAll(keepingCapacity: true)
        while true {
            let line = try nextLine()
            if contains(buffer[line], pattern) { return }
        }
    }

    /// Reads the greeting and negotiates capabilities.
    func negotiate() throws {
        let greeting = try readLine()
        guard contains(greeting, Array("\"QMP\"".utf8)) else {
            throw BenchError("no QMP greeting: \(String(decoding: greeting, as: UTF8.self))")
        }
        let reply = try command(Array("{\"execute\": \"qmp_capabilities\"}\n".utf8))
        try Self.expectReturn(reply, "qmp_capabilities")
    }

    static let returnMarker = Array("\"return\"".utf8)

    static func expectReturn(_ reply: [UInt8], _ what: String) throws {
        guard contains(reply, returnMarker) else {
            throw BenchError("\(what) failed: \(String(decoding: reply, as: UTF8.self))")
        }
    }
}
