import QMPWire

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking QMP client for the control socket: connect, negotiate, run one command at a time.
/// Events that arrive before a reply are collected in ``events``. `watch` also sends without
/// waiting and reads what arrived (``send(_:_:)``, ``receiveAvailable()``).
final class ControlClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        let exitCode: Int32
    }

    private let fd: Int32
    private var parser = JSONStreamParser()
    private var pending: [JSONValue] = []
    private(set) var events: [JSONValue] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw Failure(description: "control socket path too long: \(path)", exitCode: 64)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot connect to \(path): \(reason)", exitCode: 69)
        }
        _ = try next()  // greeting
        _ = try execute("qmp_capabilities")
    }

    deinit { close(fd) }

    /// The connected socket, for `poll` (``receiveAvailable()`` reads it).
    var fileDescriptor: Int32 { fd }

    /// Runs a command; returns its `return` value or throws its error.
    func execute(_ command: String, _ arguments: JSONObject? = nil) throws -> JSONValue {
        try send(command, arguments)
        while true {
            let message = try next()
            guard case .object(let object) = message else { continue }
            if object.contains("event") {
                events.append(message)
                continue
            }
            if let value = object["return"] { return value }
            if let error = object["error"]?.objectValue {
                let errorClass = error["class"]?.stringValue ?? "GenericError"
                let desc = error["desc"]?.stringValue ?? ""
                throw Failure(description: "\(errorClass): \(desc)", exitCode: 1)
            }
        }
    }

    /// Hands over the events collected so far, oldest first.
    func takeEvents() -> [JSONValue] {
        defer { events.removeAll() }
        return events
    }

    /// Sends a request without waiting for its reply (`watch` reads replies and events as they come).
    func send(_ command: String, _ arguments: JSONObject? = nil) throws {
        var request = JSONObject()
        request.append("execute", .string(command))
        if let arguments { request.append("arguments", .object(arguments)) }
        var out: [UInt8] = []
        JSONWriter.writeObject(request, into: &out)
        out.append(0x0A)
        var offset = 0
        while offset < out.count {
            let n = out.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.map { $0 + offset }, out.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw Failure(description: "control socket closed", exitCode: 69) }
            offset += n
        }
    }

    /// Every message received so far that ``execute(_:_:)`` has not taken, reading the socket once
    /// if there is none (it blocks until bytes come: call it when `poll` says the socket is
    /// readable). Throws when the daemon closed the socket.
    func receiveAvailable() throws -> [JSONValue] {
        if pending.isEmpty { try fill() }
        defer { pending.removeAll() }
        return pending
    }

    private func next() throws -> JSONValue {
        while pending.isEmpty { try fill() }
        return pending.removeFirst()
    }

    /// One `recv`, parsed into ``pending``.
    private func fill() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var n: Int
        repeat {
            n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        } while n < 0 && errno == EINTR
        guard n > 0 else { throw Failure(description: "control socket closed", exitCode: 69) }
        buffer.withUnsafeBytes { raw in
            let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
            var position = 0
            while let result = parser.next(from: chunk, position: &position) {
                if case .success(let value) = result { pending.append(value) }
            }
        }
    }
}
