#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The measurements, each against one socket. They use only blocking sockets and `poll`, one
/// thread, and no allocation in the timed part beyond the reply line.
enum Measure {
    static func request(_ command: String, id: Int? = nil, arguments: String? = nil) -> [UInt8] {
        var text = "{\"execute\": \"\(command)\""
        if let arguments { text += ", \"arguments\": \(arguments)" }
        if let id { text += ", \"id\": \(id)" }
        return Array((text + "}\n").utf8)
    }

    /// Sequential round trips of one request after `warmup` unmeasured ones (nanoseconds).
    static func roundTrips(_ connection: LineConnection, request: [UInt8], warmup: Int, count: Int) throws -> [UInt64] {
        for _ in 0..<warmup { _ = try connection.command(request) }
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let t0 = monotonicNow()
            let reply = try connection.command(request)
            samples.append(monotonicNow() - t0)
            if samples.count == 1 && contains(reply, Array("\"error\"".utf8)) {
                throw BenchError("request failed: \(String(decoding: reply, as: UTF8.self))")
            }
        }
        return samples
    }

    /// `count` requests with ids, at most `window` in flight (all of them by default): commands per
    /// second from the first byte sent to the last reply received.
    static func pipelined(_ connection: LineConnection, command: String, count: Int, window: Int) throws -> Double {
        var payload: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(count)
        for i in 0..<count {
            payload.append(contentsOf: request(command, id: i))
            ends.append(payload.count)
        }
        let fd = connection.fd
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        var sent = 0
        var replies = 0
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        let t0 = monotonicNow()
        while replies < count {
            let allowed = ends[min(count, replies + max(window, 1)) - 1]
            var fds = pollfd(fd: fd, events: Int16(POLLIN) | (sent < allowed ? Int16(POLLOUT) : 0), revents: 0)
            guard poll(&fds, 1, 10_000) > 0 else { throw BenchError("pipelined: no progress for 10 s") }
            if sent < allowed && fds.revents & Int16(POLLOUT) != 0 {
                let n = payload.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress.unsafelyUnwrapped + sent, allowed - sent, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent += n
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    throw BenchError.errno("send")
                }
            }
            if fds.revents & (Int16(POLLIN) | Int16(POLLHUP)) != 0 {
                let n = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress.unsafelyUnwrapped, $0.count) }
                if n == 0 { throw BenchError("pipelined: connection closed") }
                if n > 0 {
                    for i in 0..<n where scratch[i] == 0x0A { replies += 1 }
                } else if errno != EAGAIN && errno != EINTR {
                    throw BenchError.errno("read")
                }
            }
        }
        return Double(count) / (Double(monotonicNow() - t0) / 1e9)
    }

    /// Connect, greeting and negotiation latencies (from the start of `connect`), one fresh
    /// connection each, closed before the next.
    static func connects(
        path: String,
        count: Int
    ) throws -> (connect: [UInt64], greeting: [UInt64], negotiated: [UInt64]) {
        var connect: [UInt64] = []
        var greeting: [UInt64] = []
        var negotiated: [UInt64] = []
        let capabilities = request("qmp_capabilities")
        for _ in 0..<count {
            let t0 = monotonicNow()
            guard let connection = LineConnection.connect(path: path) else { throw BenchError.errno("connect \(path)") }
            let t1 = monotonicNow()
            _ = try connection.readLine()
            let t2 = monotonicNow()
            try LineConnection.expectReturn(try connection.command(capabilities), "qmp_capabilities")
            let t3 = monotonicNow()
            connect.append(t1 - t0)
            greeting.append(t2 - t0)
            negotiated.append(t3 - t0)
        }
        return (connect, greeting, negotiated)
    }

    /// `device_add` then `device_del` of a device on `bus` whose slot was never powered (VM paused,
    /// so no guest acknowledges): the unplug completes at once; waits for its `DEVICE_DELETED`.
    static func deviceAddDel(
        _ connection: LineConnection,
        bus: String,
        driver: String,
        warmup: Int,
        count: Int
    ) throws -> (add: [UInt64], del: [UInt64]) {
        var add: [UInt64] = []
        var del: [UInt64] = []
        for i in 0..<(warmup + count) {
            let id = "bench\(i)"
            let addRequest = request(
                "device_add",
                arguments: "{\"driver\": \"\(driver)\", \"id\": \"\(id)\", \"bus\": \"\(bus)\"}"
            )
            let delRequest = request("device_del", arguments: "{\"id\": \"\(id)\"}")
            let t0 = monotonicNow()
            let addReply = try connection.command(addRequest)
            let t1 = monotonicNow()
            try LineConnection.expectReturn(addReply, "device_add")
            let t2 = monotonicNow()
            let delReply = try connection.command(delRequest)
            let t3 = monotonicNow()
            try LineConnection.expectReturn(delReply, "device_del")
            try connection.waitForEvent(Array("\"device\": \"\(id)\"".utf8))
            if i >= warmup {
                add.append(t1 - t0)
                del.append(t3 - t2)
            }
        }
        return (add, del)
    }

    /// Full hotplug cycles on the manual clock: `device_add`, advance until `X_DEVICE_ON` (a DIMM:
    /// `ACPI_DEVICE_OST`),
    /// `device_del`, advance until `DEVICE_DELETED`. Returns per-cycle durations; `sample` is
    /// called after `warmup` cycles and at the end.
    static func hotplugCycles(
        qmp: LineConnection,
        control: LineConnection,
        bus: String,
        flow: HotplugFlow,
        warmup: Int,
        count: Int,
        sample: (Bool) -> Void
    ) throws -> [UInt64] {
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        let advanceOn = request("clock-advance", arguments: "{\"ms\": 1000}")
        let advanceOff = request("clock-advance", arguments: "{\"ms\": 7000}")
        let deviceOn = flow.addedEvent
        for i in 0..<(warmup + count) {
            if i == warmup { sample(false) }
            let id = "hp\(i)"
            let t0 = monotonicNow()
            for backend in flow.before(id) { try LineConnection.expectReturn(try qmp.command(backend), "backend") }
            try LineConnection.expectReturn(
                try qmp.command(request("device_add", arguments: flow.device(id, bus: bus))),
                "device_add"
            )
            try LineConnection.expectReturn(try control.command(advanceOn), "clock-advance")
            try qmp.waitForEvent(deviceOn)
            try LineConnection.expectReturn(
                try qmp.command(request("device_del", arguments: "{\"id\": \"\(id)\"}")),
                "device_del"
            )
            try LineConnection.expectReturn(try control.command(advanceOff), "clock-advance")
            try qmp.waitForEvent(flow.removedEvent(id))
            for backend in flow.after(id) {
                try LineConnection.expectReturn(try qmp.command(backend), "backend removal")
            }
            if i >= warmup { samples.append(monotonicNow() - t0) }
        }
        sample(true)
        return samples
    }

    /// Event fan-out: `sessions` negotiated connections; one of them sends `stop` / `cont`, and the
    /// time from sending until each session has read its `STOP` / `RESUME` is one sample.
    /// Returns per-session samples and per-round "last session served" samples.
    static func fanout(
        path: String,
        sessions: Int,
        rounds: Int,
        connected: () -> Void
    ) throws -> (perSession: [UInt64], lastSession: [UInt64]) {
        var connections: [LineConnection] = []
        for _ in 0..<sessions {
            let connection = try LineConnection.connect(path: path, timeoutSeconds: 5)
            try connection.negotiate()
            connections.append(connection)
        }
        connected()
        var perSession: [UInt64] = []
        var lastSession: [UInt64] = []
        var pollSet = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var carry = [[UInt8]](repeating: [], count: sessions)
        for round in 0..<(rounds * 2) {
            let stop = round % 2 == 0
            let marker = Array((stop ? "\"STOP\"" : "\"RESUME\"").utf8)
            var got = [Bool](repeating: false, count: sessions)
            var remaining = sessions
            let t0 = monotonicNow()
            try connections[0].send(request(stop ? "stop" : "cont"))
            var last: UInt64 = 0
            while remaining > 0 {
                guard poll(&pollSet, nfds_t(pollSet.count), 10_000) > 0 else {
                    throw BenchError("fan-out: \(remaining) sessions got no event within 10 s")
                }
                let now = monotonicNow()
                for i in 0..<sessions where pollSet[i].revents != 0 {
                    pollSet[i].revents = 0
                    let n = scratch.withUnsafeMutableBytes {
                        read(pollSet[i].fd, $0.baseAddress.unsafelyUnwrapped, $0.count)
                    }
                    guard n > 0 else { throw BenchError("fan-out: session \(i) closed") }
                    var data = carry[i]
                    data.append(contentsOf: scratch[0..<n])
                    var lineStart = 0
                    for j in 0..<data.count where data[j] == 0x0A {
                        if !got[i] && contains(data[lineStart..<j], marker) {
                            got[i] = true
                            remaining -= 1
                            perSession.append(now - t0)
                            last = now - t0
                        }
                        lineStart = j + 1
                    }
                    carry[i] = Array(data[lineStart...])
                }
            }
            lastSession.append(last)
            // The sender's reply follows its event; it is drained by the next poll rounds.
        }
        return (perSession, lastSession)
    }
}

/// The physical limit: a blocking echo server that answers each newline-terminated line with
/// a fixed line of the size of a QMP `query-status` reply. One connection at a time.
enum EchoServer {
    static let reply = Array(
        "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}\r\n".utf8
    )

    static func serve(path: String) throws -> Never {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let bound = withUnixAddress(path) { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 16) == 0 else { throw BenchError.errno("echo server: bind \(path)") }
        var input = [UInt8](repeating: 0, count: 1 << 16)
        var output: [UInt8] = []
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { continue }
            while true {
                let n = input.withUnsafeMutableBytes { read(client, $0.baseAddress.unsafelyUnwrapped, $0.count) }
                if n <= 0 { break }
                output.removeAll(keepingCapacity: true)
                for i in 0..<n where input[i] == 0x0A { output.append(contentsOf: reply) }
                var offset = 0
                while offset < output.count {
                    let w = output.withUnsafeBytes {
                        Glibc.send(
                            client,
                            $0.baseAddress.unsafelyUnwrapped + offset,
                            $0.count - offset,
                            Int32(MSG_NOSIGNAL)
                        )
                    }
                    if w <= 0 { break }
                    offset += w
                }
            }
            close(client)
        }
    }
}
