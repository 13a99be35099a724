#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

enum Startup {
    /// Exec to `READY=1` on a `NOTIFY_SOCKET` bound here (nanoseconds).
    static func execToReady(_ argv: [String], directory: String, run: Int) throws -> UInt64 {
        let notifyPath = "\(directory)/notify-\(run).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer {
            close(fd)
            unlink(notifyPath)
        }
        let bound = withUnixAddress(notifyPath) { bind(fd, $0, $1) }
        guard bound == 0 else { throw BenchError.errno("bind \(notifyPath)") }
        var t0: UInt64 = 0
        let pid = try spawnProcess(argv, environment: ["NOTIFY_SOCKET": notifyPath]) { t0 = monotonicNow() }
        defer { stopProcess(pid) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10_000) > 0 else { throw BenchError("no READY=1 within 10 s from \(argv[0])") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress.unsafelyUnwrapped, $0.count, 0) }
            if n > 0 && contains(buffer[0..<n], Array("READY=1".utf8)) { return monotonicNow() - t0 }
        }
    }

    /// Exec to the QMP greeting line (connect retried every 50 µs), in nanoseconds.
    static func execToGreeting(_ argv: (String) -> [String], directory: String, run: Int) throws -> UInt64 {
        let path = "\(directory)/startup-\(run).sock"
        var t0: UInt64 = 0
        let pid = try spawnProcess(argv(path)) { t0 = monotonicNow() }
        defer {
            stopProcess(pid)
            unlink(path)
        }
        let deadline = t0 + 20_000_000_000
        while true {
            if let connection = LineConnection.connect(path: path) {
                let greeting = try connection.readLine()
                let t = monotonicNow() - t0
                guard contains(greeting, Array("\"QMP\"".utf8)) else {
                    throw BenchError("no greeting from \(argv(path)[0])")
                }
                return t
            }
            if monotonicNow() > deadline { throw BenchError("\(argv(path)[0]) did not listen within 20 s") }
            usleep(50)
        }
    }
}
