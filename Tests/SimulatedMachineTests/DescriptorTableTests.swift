import QMPWire
import SimulatedMachine
import Testing

/// The descriptor rules (`getfd`, `closefd`, `add-fd`, `remove-fd`, `query-fdsets`, monitor clients)
/// as measured on QEMU 7.2.22 and 10.0.2, and the ownership contract: every descriptor handed to
/// the machine is given back exactly once, through `release`, when QEMU would close it.
@Suite struct DescriptorTableTests {
    /// A machine whose released descriptors are recorded.
    final class Harness {
        let machine: Machine
        var released: [Int32] = []
        var nextFD: Int32 = 100

        init(_ version: String = "7.2.0", paused: Bool = true) throws {
            machine = Machine(profile: try #require(QEMUProfile(version, package: "")), startPaused: paused)
            machine.descriptors.release = { [unowned self] in released.append($0) }
        }

        func fd() -> Int32 {
            defer { nextFD += 1 }
            return nextFD
        }

        /// `query-fdsets` as `[id: [fd]]` in the listed order.
        var sets: [String] {
            (machine.queryFDSets().arrayValue ?? []).map { set in
                let object = set.objectValue ?? JSONObject()
                let fds = (object["fds"]?.arrayValue ?? []).map { String($0.objectValue?["fd"]?.int64Value ?? -1) }
                return "\(object["fdset-id"]?.int64Value ?? -1):\(fds.joined(separator: ","))"
            }
        }
    }

    @Test func getfdNamesPerMonitorReplacesAndCloses() throws {
        let h = try Harness()
        try h.machine.getfd(name: "a", fd: h.fd(), monitor: "m1")  // 100
        try h.machine.getfd(name: "a", fd: h.fd(), monitor: "m1")  // 101 replaces 100
        #expect(h.released == [100])
        try h.machine.getfd(name: "a", fd: h.fd(), monitor: "m2")  // 102: another monitor's name
        #expect(throws: QMPError.generic("Parameter 'fdname' expects a name not starting with a digit")) {
            try h.machine.getfd(name: "1a", fd: h.fd(), monitor: "m1")  // 103 released at once
        }
        #expect(h.released == [100, 103])
        try h.machine.closefd(name: "a", monitor: "m1")
        #expect(h.released == [100, 103, 101])
        #expect(throws: QMPError.generic("File descriptor named 'a' not found")) {
            try h.machine.closefd(name: "a", monitor: "m1")
        }
        #expect(h.machine.descriptors.descriptor(named: "a", monitor: "m2") == 102)
        #expect(try h.machine.takeNamedDescriptor("a", monitor: "m2") == 102)
        #expect(throws: QMPError.generic("File descriptor named 'a' has not been found")) {
            try h.machine.takeNamedDescriptor("a", monitor: "m2")
        }
        #expect(h.machine.descriptors.count == 0)
        #expect(h.released == [100, 103, 101])  // 102 went to its new owner, not released
    }

    @Test func fdsetIDsAndListingOrder() throws {
        let h = try Harness()
        #expect(try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil) == ["fdset-id": .int(0), "fd": .int(100)])
        _ = try h.machine.addFD(h.fd(), fdsetID: 5, opaque: "x")
        _ = try h.machine.addFD(h.fd(), fdsetID: 5, opaque: "y")
        _ = try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil)  // 1
        _ = try h.machine.addFD(h.fd(), fdsetID: 3, opaque: nil)
        #expect(try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil)["fdset-id"] == .int(2))
        #expect(throws: QMPError.generic("Parameter 'fdset-id' expects a non-negative value")) {
            try h.machine.addFD(h.fd(), fdsetID: -1, opaque: nil)  // 106
        }
        #expect(h.released == [106])
        #expect(h.sets == ["5:101,102", "3:104", "2:105", "1:103", "0:100"])
        let opaque = h.machine.queryFDSets().arrayValue?.first?.objectValue?["fds"]?.arrayValue?.first
        #expect(opaque == .object(["fd": .int(101), "opaque": .string("x")]))
    }

    @Test func removeFDWaitsForARunningVMOnQEMU7() throws {
        let h = try Harness("7.2.0")
        h.machine.monitorClientOpened(on: "m1")  // the client sending the commands (7.2 cleans more without one)
        _ = try h.machine.addFD(h.fd(), fdsetID: 0, opaque: nil)
        _ = try h.machine.addFD(h.fd(), fdsetID: 5, opaque: nil)
        _ = try h.machine.addFD(h.fd(), fdsetID: 5, opaque: nil)
        try h.machine.removeFD(fdsetID: 0, fd: nil)
        #expect(h.sets == ["5:101,102", "0:100"])  // paused: marked, still listed, not closed
        #expect(h.released.isEmpty)
        try h.machine.cont()
        #expect(h.released.isEmpty)  // resuming alone cleans nothing
        try h.machine.removeFD(fdsetID: 5, fd: 101)
        #expect(h.sets == ["5:102", "0:100"])  // each remove-fd cleans only its own set
        #expect(h.released == [101])
        try h.machine.removeFD(fdsetID: 0, fd: nil)
        #expect(h.sets == ["5:102"])
        #expect(h.released == [101, 100])
        #expect(throws: QMPError.generic("File descriptor named 'fdset-id:5, fd:9' not found")) {
            try h.machine.removeFD(fdsetID: 5, fd: 9)
        }
        #expect(throws: QMPError.generic("File descriptor named 'fdset-id:77' not found")) {
            try h.machine.removeFD(fdsetID: 77, fd: nil)
        }
    }

    @Test func removeFDClosesAtOnceFromQEMU9Point1() throws {
        let h = try Harness("10.0.0")
        _ = try h.machine.addFD(h.fd(), fdsetID: 0, opaque: nil)
        try h.machine.removeFD(fdsetID: 0, fd: nil)
        #expect(h.sets.isEmpty)
        #expect(h.released == [100])
    }

    @Test(arguments: [("7.2.0", false, true), ("7.2.0", true, false), ("8.2.0", false, true), ("10.0.0", false, false)])
    func lastMonitorClientLeaving(version: String, paused: Bool, closes: Bool) throws {
        let h = try Harness(version, paused: paused)
        h.machine.monitorClientOpened(on: "m1")
        h.machine.monitorClientOpened(on: "m2")
        _ = try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil)
        try h.machine.getfd(name: "kept", fd: h.fd(), monitor: "m1")
        h.machine.monitorClientClosed(on: "m1")
        #expect(h.released.isEmpty)  // a client of another monitor is still there
        h.machine.monitorClientClosed(on: "m2")
        #expect(h.released == (closes ? [100] : []))
        #expect(h.sets == (closes ? [] : ["0:100"]))
        #expect(h.machine.descriptors.descriptor(named: "kept", monitor: "m1") == 101)  // names stay
    }

    @Test func theLimitRefusesAndReleases() throws {
        let h = try Harness()
        h.machine.descriptors.limit = 2
        try h.machine.getfd(name: "a", fd: h.fd(), monitor: "m")
        _ = try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil)
        #expect(throws: QMPError.self) { try h.machine.addFD(h.fd(), fdsetID: nil, opaque: nil) }
        #expect(throws: QMPError.self) { try h.machine.getfd(name: "b", fd: h.fd(), monitor: "m") }
        try h.machine.getfd(name: "a", fd: h.fd(), monitor: "m")  // replacing holds no more
        #expect(h.released == [102, 103, 100])
        #expect(h.machine.descriptors.count == 2)
    }
}
