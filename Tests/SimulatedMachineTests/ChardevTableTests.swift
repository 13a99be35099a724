import QMPWire
import SimulatedMachine
import Testing

/// The character device rules (`chardev-add`, `chardev-remove`, `query-chardev`, `chardev=` links)
/// as measured on QEMU 7.2.22 and 10.0.2, and the ownership contract with the OS side: every handle
/// a ``ChardevHost`` opens is given back exactly once, on `chardev-remove` or at exit.
@Suite struct ChardevTableTests {
    /// A host that records what it was asked to open and close; sockets are connected as told.
    final class RecordingHost: ChardevHost {
        var opened: [Int: ChardevBackend] = [:]
        var closed: [Int] = []
        var connected: Set<Int> = []
        var failure: QMPError?
        private var next = 1

        func open(_ backend: ChardevBackend) throws(QMPError) -> ChardevOpening {
            if let failure { throw failure }
            defer { next += 1 }
            opened[next] = backend
            if case .socket(_, server: false) = backend { connected.insert(next) }
            if case .pty = backend { return ChardevOpening(handle: next, ptyPath: "/dev/pts/\(next)") }
            return ChardevOpening(handle: next)
        }

        func isConnected(_ handle: Int) -> Bool { connected.contains(handle) }
        func close(_ handle: Int) { closed.append(handle) }
    }

    final class Harness {
        let harness: MachineHarness
        let host = RecordingHost()
        var machine: Machine { harness.machine }

        init(_ version: String = "7.2.0") throws {
            harness = try MachineHarness(version: version)
            machine.addMonitorChardev(path: "/run/qmp.sock")
            machine.chardevs.host = host
        }

        func add(_ id: String, _ backend: String) throws(QMPError) -> String {
            let value = JSONValue(parsing: backend)
            return JSONValue.object(try machine.chardevAdd(id: id, backend: value)).jsonText
        }

        func error(_ body: () throws(QMPError) -> Void) -> String? { harness.error(body) }

        /// `query-chardev` as `label=filename(open)` lines.
        var listing: [String] {
            (machine.queryChardev().arrayValue ?? []).map { value in
                let info = value.objectValue ?? JSONObject()
                let open = info["frontend-open"]?.boolValue == true ? " open" : ""
                return "\(info["label"]?.stringValue ?? "")=\(info["filename"]?.stringValue ?? "")\(open)"
            }
        }
    }

    static let server = #"{"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "/t/s.sock"}}}}"#
    static let client =
        #"{"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "/t/s.sock"}}, "server": false}}"#

    @Test func backendsAreOpenedListedAndClosedOnce() throws {
        let h = try Harness()
        #expect(try h.add("s1", Self.server) == "{}")
        #expect(try h.add("c1", Self.client) == "{}")
        #expect(try h.add("f1", #"{"type": "file", "data": {"out": "/t/f"}}"#) == "{}")
        #expect(try h.add("n1", #"{"type": "null", "data": {}}"#) == "{}")
        #expect(try h.add("p1", #"{"type": "pty", "data": {}}"#) == #"{"pty": "/dev/pts/4"}"#)
        #expect(try h.add("r1", #"{"type": "ringbuf", "data": {"size": 1024}}"#) == "{}")
        #expect(h.host.opened.count == 4)  // null and ringbuf need no OS object
        h.machine.monitorClientOpened(on: "/run/qmp.sock")
        #expect(
            h.listing == [
                "compat_monitor0=unix:/run/qmp.sock,server=on open", "s1=disconnected:unix:/t/s.sock,server=on",
                "c1=unix:", "f1=file", "n1=null", "p1=pty:/dev/pts/4", "r1=ringbuf",
            ]
        )
        h.host.connected = [1]
        h.machine.monitorClientClosed(on: "/run/qmp.sock")
        #expect(
            Array(h.listing.prefix(3)) == [
                "compat_monitor0=disconnected:unix:/run/qmp.sock,server=on open", "s1=unix:/t/s.sock,server=on",
                "c1=disconnected:unix:/t/s.sock",
            ]
        )
        try h.machine.chardevRemove(id: "s1")
        #expect(h.host.closed == [1])
        try h.machine.chardevRemove(id: "n1")
        #expect(h.host.closed == [1])
        h.machine.closeAllChardevs()
        #expect(h.host.closed.sorted() == [1, 2, 3, 4])
    }

    @Test func clientFilenameFollowsTheProfile() throws {
        let h = try Harness("10.0.0")
        _ = try h.add("c1", Self.client)
        #expect(h.listing.last == "c1=unix:/t/s.sock")
    }

    @Test func textsOfAddAndRemove() throws {
        let h = try Harness()
        _ = try h.add("n1", #"{"type": "null", "data": {}}"#)
        let cases: [(String, String, String)] = [
            ("n1", #"{"type": "null", "data": {}}"#, "Chardev with id 'n1' already exists"),
            ("compat_monitor0", #"{"type": "null", "data": {}}"#, "Chardev with id 'compat_monitor0' already exists"),
            ("x", #"{"type": "bogus", "data": {}}"#, "Parameter 'type' does not accept value 'bogus'"),
            ("x", #"{"type": "null"}"#, "Parameter 'backend.data' is missing"),
            ("x", #"{}"#, "Parameter 'backend.type' is missing"),
            ("x", "1", "Invalid parameter type for 'backend', expected: object"),
            ("x", #"{"type": "socket", "data": {}}"#, "Parameter 'backend.data.addr' is missing"),
            ("x", #"{"type": "null", "data": {"bogus": 1}}"#, "Parameter 'backend.data.bogus' is unexpected"),
            (
                "x", #"{"type": "socket", "data": {"addr": {"type": "unix", "data": {}}}}"#,
                "Parameter 'backend.data.addr.data.path' is missing"
            ),
            (
                "x", #"{"type": "ringbuf", "data": {"size": 1000}}"#,
                "Failed to add chardev 'x': size of ringbuf chardev must be power of two"
            ),
        ]
        for (id, backend, text) in cases {
            #expect(h.error { () throws(QMPError) in _ = try h.add(id, backend) } == text, "\(backend)")
        }
        h.host.failure = .generic("Failed to connect to '/t/s.sock': No such file or directory")
        #expect(
            h.error { () throws(QMPError) in _ = try h.add("c1", Self.client) }
                == "Failed to add chardev 'c1': Failed to connect to '/t/s.sock': No such file or directory"
        )
        #expect(h.machine.chardevs["c1"] == nil)
        #expect(
            h.error { () throws(QMPError) in try h.machine.chardevRemove(id: "nope") } == "Chardev 'nope' not found"
        )
        #expect(
            h.error { () throws(QMPError) in try h.machine.chardevRemove(id: "compat_monitor0") }
                == "Chardev 'compat_monitor0' is busy"
        )
    }

    @Test(arguments: ["7.2.0", "10.0.0"]) func aDeviceHoldsItsChardevUntilDeleted(version: String) throws {
        let h = try Harness(version)
        _ = try h.add("s1", Self.server)
        let add: (String, String) -> String? = { id, chardev in
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(
                    JSONObject([
                        ("driver", "pci-serial"), ("id", .string(id)), ("bus", "rp1"), ("chardev", .string(chardev)),
                    ])
                )
            }
        }
        #expect(add("ser0", "nope") == "Property 'serial.chardev' can't find value 'nope'")
        #expect(add("ser0", "s1") == nil)
        #expect(h.listing.last == "s1=disconnected:unix:/t/s.sock,server=on open")
        let inUse = version == "7.2.0" ? "Device 's1' is in use" : "chardev 's1' is already in use"
        #expect(add("ser1", "s1") == "Property 'serial.chardev' can't take value 's1': \(inUse)")
        #expect(h.error { () throws(QMPError) in try h.machine.chardevRemove(id: "s1") } == "Chardev 's1' is busy")
        _ = h.harness.takeEvents()
        try h.machine.deviceDel("ser0")
        h.machine.flushDeferredEvents()
        #expect(h.harness.takeEvents().count == 2)  // serial child, then the device
        try h.machine.chardevRemove(id: "s1")
        #expect(h.host.closed == [1])
    }
}
