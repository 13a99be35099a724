#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Monotonic clock in nanoseconds.
func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    static func errno(_ what: String) -> BenchError {
        BenchError("\(what): \(String(cString: strerror(Glibc.errno)))")
    }
}

/// Pins the calling thread (and every process and thread it creates from now on) to `cpus`.
/// `sched_setaffinity` is not visible through Swift's Glibc module (it needs `_GNU_SOURCE`).
func setAffinity(_ cpus: [Int]) -> Bool {
    typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sched_setaffinity") else { return false }
    let function = unsafeBitCast(symbol, to: SetAffinity.self)
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { raw in
        for i in 0..<raw.count { raw[i] = 0 }
        for cpu in cpus where cpu / 8 < raw.count { raw[cpu / 8] |= UInt8(1 << (cpu % 8)) }
    }
    return withUnsafeBytes(of: &set) { function(0, MemoryLayout<cpu_set_t>.size, $0.baseAddress.unsafelyUnwrapped) }
        == 0
}

/// The CPUs this process may run on (`Cpus_allowed_list`).
func allowedCPUs() -> String {
    (readFile("/proc/self/status") ?? "").split(separator: "\n")
        .first { $0.hasPrefix("Cpus_allowed_list:") }
        .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters() } ?? "?"
}

extension Substring {
    func trimmingCharacters() -> String {
        String(
            self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed()
        )
    }
}

/// Raises the soft limit of open files to the hard limit (1,000 sessions need more than 1,024).
func raiseFileLimit() {
    var limit = rlimit()
    let resource = Int32(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `text` to a new file at `path` (mode 0644), replacing one that exists.
func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BenchError.errno("open \(path)") }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    guard write(fd, &bytes, bytes.count) == bytes.count else { throw BenchError.errno("write \(path)") }
}

/// `VmRSS` (or another `Vm*` field) of a process, in KiB.
func processMemoryKiB(_ pid: pid_t, field: String = "VmRSS") -> Int? {
    guard let status = readFile("/proc/\(pid)/status") else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
    return nil
}

/// Whether `haystack` contains `needle`.
func contains(_ haystack: some Collection<UInt8>, _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
    var i = haystack.startIndex
    let lastStart = haystack.index(haystack.endIndex, offsetBy: -needle.count)
    while i <= lastStart {
        if haystack[i] == first {
            var j = haystack.index(after: i)
            var k = 1
            while k < needle.count && haystack[j] == needle[k] {
                j = haystack.index(after: j)
                k += 1
            }
            if k == needle.count { return true }
        }
        i = haystack.index(after: i)
    }
    return false
}

// MARK: Statistics

/// Distribution of a set of samples (nanoseconds in, reported in a chosen unit).
struct Summary: Sendable {
    var n: Int
    var min: Double
    var median: Double
    var p99: Double
    var max: Double
    var mean: Double

    init(nanoseconds samples: [UInt64], unit: Double = 1_000) {
        let sorted = samples.sorted()
        n = sorted.count
        func at(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let k = Double(sorted.count - 1) * p
            let f = Int(k)
            let c = Swift.min(f + 1, sorted.count - 1)
            return (Double(sorted[f]) + (Double(sorted[c]) - Double(sorted[f])) * (k - Double(f))) / unit
        }
        min = at(0)
        median = at(0.5)
        p99 = at(0.99)
        max = at(1)
        mean = sorted.isEmpty ? .nan : Double(sorted.reduce(0, &+)) / Double(sorted.count) / unit
    }

    init(values: [Double]) {
        self.init(nanoseconds: values.map { UInt64(($0 * 1000).rounded()) }, unit: 1000)
    }

    var json: JSON {
        .object([
            ("n", .number(Double(n))), ("min", .number(min)), ("median", .number(median)),
            ("p99", .number(p99)), ("max", .number(max)), ("mean", .number(mean)),
        ])
    }
}

// MARK: JSON output (ordered, pretty)

enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    func render(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent + 1)
        let end = String(repeating: " ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            if d.isNaN || d.isInfinite { return "null" }
            if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
            return String((d * 1000).rounded() / 1000)
        case .string(let s): return Self.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n"
                + members.map { pad + Self.quote($0.0) + ": " + $0.1.render(indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(end)}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }
}

func formatNumber(_ value: Double, decimals: Int = 1) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if decimals == 0 { return String(Int64(rounded)) }
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let fraction = text.distance(from: dot, to: text.endIndex) - 1
        if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
    }
    return text
}

func writeText(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BenchError.errno("open \(path)") }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress.unsafelyUnwrapped + offset, $0.count - offset) }
        guard n > 0 else { throw BenchError.errno("write \(path)") }
        offset += n
    }
    bytes.removeAll()
}

/// Output of a shell command (first line), or nil.
func commandOutput(_ argv: [String]) -> String? {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    guard let pid = try? spawnProcess(argv, stdoutFD: fds[1]) else {
        close(fds[0])
        close(fds[1])
        return nil
    }
    close(fds[1])
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = String(decoding: bytes, as: UTF8.self)
    return text.split(separator: "\n").first.map(String.init)
}

// MARK: Processes

/// Starts `argv[0]` (searched on PATH) with extra environment variables; stdout and stderr go to
/// /dev/null unless given.
func spawnProcess(
    _ argv: [String],
    environment extra: [String: String] = [:],
    stdoutFD: Int32? = nil,
    stderrFD: Int32? = nil,
    atExec: () -> Void = {}
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if let stdoutFD {
        posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    if let stderrFD {
        posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    var env: [String] = []
    var index = 0
    while let entry = environ[index] {
        let text = String(cString: entry)
        let name = String(text.prefix { $0 != "=" })
        if extra[name] == nil && name != "NOTIFY_SOCKET" && name != "LISTEN_FDS" && name != "LISTEN_PID" {
            env.append(text)
        }
        index += 1
    }
    for (k, v) in extra { env.append("\(k)=\(v)") }
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup($0) } + [nil]
    defer {
        for p in cArgs { free(p) }
        for p in cEnv { free(p) }
    }
    var pid: pid_t = 0
    atExec()  // start-up is timed from here, not from building the arguments and environment
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv)
    guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
    return pid
}

/// SIGTERM, then SIGKILL after a second; reaps the process.
func stopProcess(_ pid: pid_t) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<200 {
        if waitpid(pid, &status, WNOHANG) == pid { return }
        usleep(5000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
}

func temporaryDirectory() throws -> String {
    var template = Array("/tmp/qmp-bench-XXXXXX".utf8CString)
    guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress.unsafelyUnwrapped) }) else {
        throw BenchError.errno("mkdtemp")
    }
    return String(cString: result)
}

func removeDirectory(_ path: String) {
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(dir)
    }
    rmdir(path)
}
