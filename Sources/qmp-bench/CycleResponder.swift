#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The physical limit of a hot-plug cycle: a single-threaded responder that answers the cycle's
/// requests on a QMP socket and a control socket with the bytes qmp-mockd sends for them (the
/// replies, the 17 `GUEST_REGISTER_WRITE` lines, `X_DEVICE_ON` and the two `DEVICE_DELETED`),
/// canned, with no machine behind them. What it measures is the cost of the cycle's sockets and
/// system calls on this machine: the floor any implementation of the cycle stands on.
///
/// It knows only the requests `qmp-bench` sends in a cycle (`qmp_capabilities`, `device_add`,
/// `device_del`, `clock-advance`), plus `query-status` so that `qmp-bench target`'s round trips
/// and pipelining run against it unchanged; anything else gets an `{"error": ...}` line.
enum CycleResponder {
    private static let greeting = Array(
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
            .utf8
    )
    private static let controlGreeting = Array("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n".utf8)
    private static let empty = Array("{\"return\": {}}\r\n".utf8)
    private static let status = EchoServer.reply
    private static let unknown = Array(
        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"not part of a cycle\"}}\r\n".utf8
    )
    private static let stamp = "{\"timestamp\": {\"seconds\": 1795665921, \"microseconds\": 313194}, "

    /// `(register, new, old, value)` of the guest's register writes in a cycle, grouped by the request
    /// after which qmp-mockd sends them (seen with strace; the test in `test_bench.py` checks the
    /// lines): the Linux guest handles the presence change at once after `device_add` (the server
    /// runs zero-delay timers after a command), powers the slot on after the link delay (the first
    /// `clock-advance`), takes the attention button of `device_del` at once, and powers off after
    /// its 5 s wait (the second `clock-advance`).
    private static let writesAfterAdd: [(String, Int, Int, Int)] = [
        ("slot-status", 64, 73, 9), ("slot-control", 1785, 2041, 1785), ("slot-status", 64, 80, 16),
        ("slot-control", 761, 1785, 761), ("slot-status", 64, 80, 16), ("slot-control", 761, 761, 761),
        ("slot-status", 64, 80, 16),
    ]
    private static let writesPoweringOn: [(String, Int, Int, Int)] = [
        ("slot-control", 505, 761, 505), ("slot-status", 64, 80, 16),
    ]
    private static let writesAfterDel: [(String, Int, Int, Int)] = [
        ("slot-status", 64, 65, 1), ("slot-control", 761, 505, 761), ("slot-status", 64, 80, 16),
    ]
    private static let writesPoweringOff: [(String, Int, Int, Int)] = [
        ("slot-control", 1785, 761, 1785), ("slot-status", 64, 80, 16), ("slot-control", 2041, 1785, 2041),
        ("slot-status", 8, 24, 16), ("slot-status", 0, 8, 8),
    ]

    private static func registerWrites(_ writes: [(String, Int, Int, Int)]) -> [UInt8] {
        var text = ""
        for (register, new, old, value) in writes {
            text += stamp + "\"event\": \"GUEST_REGISTER_WRITE\", \"data\": {\"register\": \"\(register)\", "
            text += "\"controller\": \"pci.1\", \"new\": \(new), \"old\": \(old), \"value\": \(value)}}\r\n"
        }
        return Array(text.utf8)
    }

    /// One accepted connection and the bytes of its unfinished line.
    private struct Client {
        var fd: Int32
        var pending: [UInt8] = []
    }

    private static let capabilitiesRequest = Array("qmp_capabilities".utf8)
    private static let statusRequest = Array("query-status".utf8)
    private static let addRequest = Array("device_add".utf8)
    private static let delRequest = Array("device_del".utf8)
    private static let advanceRequest = Array("clock-advance".utf8)
    private static let advanceOn = Array("1000}".utf8)
    private static let idMember = Array("\"id\": \"".utf8)
    private static let deviceOn = Array((stamp + "\"event\": \"X_DEVICE_ON\", \"data\": {\"device\": \"").utf8)
    private static let backendDeleted = Array(
        (stamp + "\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/").utf8
    )
    private static let backendDeletedEnd = Array("/virtio-backend\"}}\r\n".utf8)
    private static let deviceDeleted = Array((stamp + "\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"").utf8)
    private static let pathMember = Array("\", \"path\": \"/machine/peripheral/".utf8)
    private static let eventEnd = Array("\"}}\r\n".utf8)

    /// Serves until killed. Lean on purpose (no allocation per request, one `poll` set rebuilt only
    /// when a client comes or goes): its own cost is part of the floor it measures.
    static func serve(qmpPath: String, controlPath: String) throws -> Never {
        let listeners = [try listen(qmpPath), try listen(controlPath)]
        let afterAdd = registerWrites(writesAfterAdd)
        let afterDel = registerWrites(writesAfterDel)
        let poweringOn = registerWrites(writesPoweringOn) + Array("{\"return\": {\"now-ns\": 1000000000}}\r\n".utf8)
        let poweringOff =
            registerWrites(writesPoweringOff) + Array("{\"return\": {\"now-ns\": 8000000000}}\r\n".utf8)
        var clients: [Client] = []
        var qmpClient: Int32 = -1
        var controlClient: Int32 = -1
        var deviceID: [UInt8] = []
        var input = [UInt8](repeating: 0, count: 1 << 16)
        var output: [UInt8] = []
        var qmpOutput: [UInt8] = []
        var controlOutput: [UInt8] = []
        var fds = listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }

        /// An event line for the device: `head`, then `{"device": id, "path": ...}`'s values.
        func appendDeviceEvent(_ head: [UInt8]) {
            qmpOutput += head
            qmpOutput += deviceID
            qmpOutput += pathMember
            qmpOutput += deviceID
            qmpOutput += eventEnd
        }

        /// Answers one request line (without its newline).
        func answer(_ line: ArraySlice<UInt8>) {
            if contains(line, capabilitiesRequest) {
                output += empty
            } else if contains(line, statusRequest) {
                output += status
            } else if contains(line, addRequest) {
                deviceID = value(after: idMember, in: line)
                output += empty
                controlOutput += afterAdd
            } else if contains(line, delRequest) {
                output += empty
                controlOutput += afterDel
            } else if contains(line, advanceRequest) && contains(line, advanceOn) {
                appendDeviceEvent(deviceOn)
                output += poweringOn
            } else if contains(line, advanceRequest) {
                qmpOutput += backendDeleted
                qmpOutput += deviceID
                qmpOutput += backendDeletedEnd
                appendDeviceEvent(deviceDeleted)
                output += poweringOff
            } else {
                output += unknown
            }
        }

        while true {
            guard poll(&fds, nfds_t(fds.count), -1) > 0 else { continue }
            let polled = fds.count - listeners.count  // clients accepted below are polled next time
            var changed = false
            for (i, listener) in listeners.enumerated() where fds[i].revents != 0 {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { continue }
                clients.append(Client(fd: fd))
                if i == 0 { qmpClient = fd } else { controlClient = fd }
                write(fd, i == 1 ? controlGreeting : greeting)
                changed = true
            }
            for c in 0..<polled where fds[listeners.count + c].revents != 0 {
                let fd = clients[c].fd
                let n = input.withUnsafeMutableBytes { read(fd, $0.baseAddress.unsafelyUnwrapped, $0.count) }
                if n <= 0 {
                    close(fd)
                    clients[c].fd = -1
                    if fd == qmpClient { qmpClient = -1 }
                    if fd == controlClient { controlClient = -1 }
                    changed = true
                    continue
                }
                output.removeAll(keepingCapacity: true)
                qmpOutput.removeAll(keepingCapacity: true)
                controlOutput.removeAll(keepingCapacity: true)
                clients[c].pending += input[0..<n]
                var start = 0
                for j in clients[c].pending.indices where clients[c].pending[j] == 0x0A {
                    answer(clients[c].pending[start..<j])
                    start = j + 1
                }
                clients[c].pending.removeFirst(start)
                // The writes in qmp-mockd's order: a command's reply (with the events on its own
                // socket) first, then the events for the other socket.
                write(fd, output)
                if !qmpOutput.isEmpty && qmpClient >= 0 { write(qmpClient, qmpOutput) }
                if !controlOutput.isEmpty && controlClient >= 0 { write(controlClient, controlOutput) }
            }
            if changed {
                clients.removeAll { $0.fd < 0 }
                fds = (listeners + clients.map(\.fd)).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            }
        }
    }

    private static func listen(_ path: String) throws -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let bound = withUnixAddress(path) { bind(fd, $0, $1) }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else { throw BenchError.errno("cycle responder: bind \(path)") }
        return fd
    }

    /// The bytes of the string that follows `marker` in a request line (no escapes: the ids are `hpN`).
    private static func value(after marker: [UInt8], in line: ArraySlice<UInt8>) -> [UInt8] {
        guard marker.count <= line.count else { return [] }
        for i in line.startIndex...(line.endIndex - marker.count)
        where line[i..<(i + marker.count)].elementsEqual(marker) {
            let start = i + marker.count
            return Array(line[start..<(line[start...].firstIndex(of: 0x22) ?? line.endIndex)])
        }
        return []
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let w = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.unsafelyUnwrapped + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if w <= 0 { return }
            offset += w
        }
    }
}
