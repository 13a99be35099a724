import Dispatch
import Logging
import QMPWire
import SimulatedMachine
import Synchronization
import Testing

@testable import MockServer

#if canImport(Glibc)
    import Glibc
#endif

/// Full hot-add and hot-remove over a real Unix socket: the server runs in-process on its queue, a
/// blocking client speaks QMP, and the guest's register writes go through the machine's register
/// API on the server queue (the scripted guest and control plane come later).
@Suite(.serialized) struct SocketEndToEndTests {
    final class Fixture: @unchecked Sendable {
        let server: QMPServer
        let path: String
        var hostNow: Int64 = 0

        init(version: String = "8.2.0") throws {
            let profile = try QEMUProfile(version, package: "e2e").unwrap()
            let box = HostBox()
            let machine = Machine(
                profile: profile,
                startPaused: true,
                machineType: .q35,
                board: MachineConfiguration.standard.board
            ) { box.now }
            try machine.coldPlug(MachineConfiguration.standard)
            let core = ServerCore(machine: machine, logger: Logger(label: "e2e") { _ in SwiftLogNoOpLogHandler() })
            server = QMPServer(core: core, queue: DispatchQueue(label: "e2e"))
            path = "/tmp/qmp-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            let fd = try UnixSocket.listen(path: path, mode: 0o600, backlog: 8)
            server.addMonitor(path: path, fd: fd, mode: .shared, ownsPath: true)
            server.start { _ in fatalError("the test never shuts the server down") }
            // Dispatch sources of the server's sockets hold unowned references to it: it must
            // outlive every event still in flight, so test servers live as long as the process.
            Self.servers.withLock { $0.append(server) }
        }

        static let servers = Mutex<[QMPServer]>([])

        /// Runs a guest register access on the server queue, then writes out what it queued.
        func guest(_ body: @escaping (Machine) throws(QMPError) -> Void) throws {
            let result: Result<Void, QMPError> = server.queue.sync {
                defer { server.finishTurn() }
                do throws(QMPError) {
                    try body(server.core.machine)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try result.get()
        }

        deinit { unlink(path) }
    }

    final class HostBox: @unchecked Sendable { var now: Int64 = 0 }

    /// A blocking QMP client.
    final class Client {
        let fd: Int32
        var buffer: [UInt8] = []

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let result = try UnixSocket.withAddress(path) { connect(fd, $0, $1) }
            guard result == 0 else { throw MissingValue() }
        }

        deinit { close(fd) }

        func send(_ text: String) {
            var bytes = Array(text.utf8)
            _ = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        }

        /// The next line (without CRLF), waiting up to 5 s.
        func line() throws -> String {
            while true {
                if let i = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[..<i].dropLast(buffer[..<i].last == 0x0D ? 1 : 0)
                    buffer.removeSubrange(...i)
                    return String(decoding: line, as: UTF8.self)
                }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 5000) == 1 else { throw MissingValue() }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw MissingValue() }
                buffer += chunk[0..<n]
            }
        }

        /// A line with the event timestamp replaced by `T`.
        func masked() throws -> String {
            let text = try line()
            guard text.hasPrefix("{\"timestamp\": {"), let end = text.firstRange(of: "}, ") else { return text }
            return "{\"timestamp\": T, " + text[end.upperBound...]
        }

        func negotiate() throws {
            _ = try line()
            send(#"{"execute":"qmp_capabilities"}"#)
            #expect(try line() == #"{"return": {}}"#)
        }
    }

    @Test func pcieHotAddAndHotRemove() throws {
        let f = try Fixture()
        let c = try Client(path: f.path)
        try c.negotiate()
        c.send(#"{"execute":"device_add","arguments":{"driver":"virtio-net-pci","id":"net0","bus":"pci.1"},"id":1}"#)
        #expect(try c.line() == #"{"return": {}, "id": 1}"#)
        // The guest (pciehp): acknowledge, power on with the indicator blinking, then indicator on.
        try f.guest { m throws(QMPError) in try m.writeSlotStatus(port: "pci.1", value: 0x9) }
        try f.guest { m throws(QMPError) in try m.writeSlotControl(port: "pci.1", value: 0x2C0) }
        try f.guest { m throws(QMPError) in try m.writeSlotControl(port: "pci.1", value: 0x1C0) }
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "X_DEVICE_ON", "data": {"device": "net0", "path": "/machine/peripheral/net0"}}"#
        )
        c.send(#"{"execute":"x-query-hotplug","arguments":{"id":"net0"}}"#)
        #expect(
            try c.line()
                == #"{"return": {"device-on": true, "bus": {"device": "pci.1", "path": "/machine/peripheral/pci.1"}, "child": {"device": "net0", "path": "/machine/peripheral/net0"}, "power-led": "on", "type": "pcie-native", "power-on": true, "attention-led": "off"}}"#
        )
        c.send(#"{"execute":"device_del","arguments":{"id":"net0"}}"#)
        #expect(try c.line() == #"{"return": {}}"#)
        try f.guest { m throws(QMPError) in try m.writeSlotControl(port: "pci.1", value: 0x2C0) }
        c.send(#"{"execute":"device_del","arguments":{"id":"net0"}}"#)
        #expect(
            try c.line()
                == #"{"error": {"class": "GenericError", "desc": "Device net0 is already in the process of unplug"}}"#
        )
        try f.guest { m throws(QMPError) in try m.writeSlotControl(port: "pci.1", value: 0x6C0) }
        try f.guest { m throws(QMPError) in try m.writeSlotControl(port: "pci.1", value: 0x7C0) }
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "DEVICE_DELETED", "data": {"path": "/machine/peripheral/net0/virtio-backend"}}"#
        )
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "DEVICE_DELETED", "data": {"device": "net0", "path": "/machine/peripheral/net0"}}"#
        )
    }

    @Test func shpcHotAddAndImmediateRemoval() throws {
        let f = try Fixture()
        let c = try Client(path: f.path)
        try c.negotiate()
        c.send(#"{"execute":"device_add","arguments":{"driver":"e1000","id":"nic","bus":"pci.7","addr":"0x2"}}"#)
        #expect(try c.line() == #"{"return": {}}"#)
        // shpchp enables slot 2: power-only, enabled + blinking, then power LED on.
        try f.guest { m throws(QMPError) in try m.shpcCommand(bridge: "pci.7", code: 0x01, target: 2) }
        try f.guest { m throws(QMPError) in try m.shpcCommand(bridge: "pci.7", code: 0x3A, target: 2) }
        try f.guest { m throws(QMPError) in try m.shpcCommand(bridge: "pci.7", code: 0x04, target: 2) }
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "X_DEVICE_ON", "data": {"device": "nic", "path": "/machine/peripheral/nic"}}"#
        )
        // Removal: button, then the guest disables the slot with the LED off.
        c.send(#"{"execute":"device_del","arguments":{"id":"nic"}}"#)
        #expect(try c.line() == #"{"return": {}}"#)
        try f.guest { m throws(QMPError) in try m.shpcCommand(bridge: "pci.7", code: 0x1F, target: 2) }
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "DEVICE_DELETED", "data": {"device": "nic", "path": "/machine/peripheral/nic"}}"#
        )
        // A never-enabled slot is emptied at once: the reply first, then the event.
        c.send(#"{"execute":"device_add","arguments":{"driver":"e1000","id":"nic2","bus":"pci.7","addr":"0x3"}}"#)
        #expect(try c.line() == #"{"return": {}}"#)
        c.send(#"{"execute":"device_del","arguments":{"id":"nic2"}}"#)
        #expect(try c.line() == #"{"return": {}}"#)
        #expect(
            try c.masked()
                == #"{"timestamp": T, "event": "DEVICE_DELETED", "data": {"device": "nic2", "path": "/machine/peripheral/nic2"}}"#
        )
    }
}

struct MissingValue: Error {}

extension Optional {
    func unwrap() throws -> Wrapped {
        guard let self else { throw MissingValue() }
        return self
    }
}
