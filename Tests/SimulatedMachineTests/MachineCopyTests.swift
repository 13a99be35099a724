import QMPWire
import SimulatedMachine
import Testing

/// ``Machine/copy(hostClock:)``: a copy holds exactly the original's state, shares no device or bus
/// with it, and from then on answers every operation as a freshly built machine in that state does,
/// while the original stays as it was.
@Suite struct MachineCopyTests {
    /// What differs between a machine and its copy by design: the attachments (not copied) and a
    /// cache (rebuilt on use).
    /// The clock's representation differs too (the copy counts from its own time source); its
    /// time is compared instead.
    static let notCopied: Set<String> = ["sink", "observer", "controllerCache", "accumulated", "runningSince"]

    /// The oracle's machine with some of everything: a hot-plugged device powered on by "guest"
    /// register writes, a block node, a netdev, a chardev, a memory backend.
    static func busyMachine(version: String = "8.2.0") throws -> MachineHarness {
        let h = try MachineHarness(version: version, paused: false)
        try h.machine.deviceAdd(["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        try h.machine.writeSlotStatus(port: "rp1", value: 0x9)
        try h.machine.writeSlotControl(port: "rp1", value: 0x2C0)
        try h.machine.writeSlotControl(port: "rp1", value: 0x1C0)
        try h.machine.deviceAdd(["driver": "e1000", "id": "nic1", "bus": "pb1", "addr": "3"])
        try h.machine.blockdevAdd(["driver": "null-co", "node-name": "n0"])
        try h.machine.netdevAdd(["type": "user", "id": "net0"], monitor: "m")
        _ = try h.machine.chardevAdd(id: "c0", backend: ["type": "null", "data": .object([:])])
        try h.machine.objectAdd(["qom-type": "memory-backend-ram", "id": "mem0", "size": .int(128 << 20)])
        h.advance(seconds: 2)
        return h
    }

    /// An ACPI board with hot-plugged CPUs and a DIMM (ACPI PCI, CPU and memory hot-plug).
    static func acpiMachine() throws -> MachineHarness {
        var configuration = MachineHarness.oracleTopology
        configuration.board = BoardOptions(
            accel: .kvm,
            smp: SMPOptions(cpus: 1, maxcpus: 4),
            memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
        )
        let h = try MachineHarness(version: "10.0.0", paused: false, configuration: configuration)
        try h.machine.deviceAdd([
            "driver": "qemu64-x86_64-cpu", "id": "cpu1", "socket-id": 0, "core-id": 1, "thread-id": 0,
        ])
        try h.machine.objectAdd(["qom-type": "memory-backend-ram", "id": "mem0", "size": .int(128 << 20)])
        try h.machine.deviceAdd(["driver": "pc-dimm", "id": "dimm0", "memdev": "mem0"])
        try h.machine.deviceAdd(["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        h.machine.ioWrite(port: 0x620, size: 1, value: 0xFF)
        return h
    }

    /// Where two dumps part, with some context of each, or nil when they are equal.
    static func firstDifference(_ a: String, _ b: String) -> String? {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x != y else { return nil }
        let index = zip(x, y).prefix { $0 == $1 }.count
        func around(_ bytes: [UInt8]) -> String {
            String(decoding: bytes[max(0, index - 300)..<min(bytes.count, index + 200)], as: UTF8.self)
        }
        return "at byte \(index):\n\(around(x))\n---\n\(around(y))"
    }

    @Test(arguments: [0, 1])
    func copyHoldsTheSameStateAndSharesNoObject(which: Int) throws {
        let original = try which == 0 ? Self.busyMachine() : Self.acpiMachine()
        #expect(original.machine.armedTimerCount == 0)
        let copy = MachineHarness(copying: original)
        #expect(copy.machine.clock.now == original.machine.clock.now)
        let before = GraphDump(original.machine, skipping: Self.notCopied)
        let copied = GraphDump(copy.machine, skipping: Self.notCopied)
        #expect(Self.firstDifference(before.text, copied.text) == nil)
        #expect(before.objects.count > 20)
        let shared = Set(before.objects.keys).intersection(copied.objects.keys)
        #expect(shared.isEmpty, "\(shared.count) objects are in both machines")
    }

    /// The same commands, register writes and time on a fresh machine and on a copy of one in the
    /// same state: the same events and answers; the copy's original sees none of it.
    @Test(arguments: ["7.2.0", "8.2.0", "10.0.0"])
    func copyAnswersAsAFreshMachine(version: String) throws {
        let fresh = try MachineHarness(version: version, paused: false)
        let prototype = try MachineHarness(version: version, paused: false)
        let pristine = GraphDump(prototype.machine, skipping: Self.notCopied).text
        let copy = MachineHarness(copying: prototype)
        var results: [[String?]] = []
        for h in [fresh, copy] {
            var errors: [String?] = []
            func run(_ body: () throws(QMPError) -> Void) { errors.append(h.error(body)) }
            run { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-net-pci", "id": "hp1", "bus": "rp1"])
            }
            run { () throws(QMPError) in try h.machine.writeSlotStatus(port: "rp1", value: 0x9) }
            run { () throws(QMPError) in try h.machine.writeSlotControl(port: "rp1", value: 0x2C0) }
            run { () throws(QMPError) in try h.machine.writeSlotControl(port: "rp1", value: 0x1C0) }
            run { () throws(QMPError) in try h.machine.deviceAdd(["driver": "e1000", "bus": "pb1", "addr": "5"]) }
            run { () throws(QMPError) in try h.machine.deviceDel("hp1") }
            h.advance(seconds: 6)
            h.machine.runDueTimers()
            run { () throws(QMPError) in try h.machine.deviceDel("hp1") }
            run { () throws(QMPError) in try h.machine.writeSlotControl(port: "rp1", value: 0x7C0) }
            run { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "pcie-pci-bridge", "id": "br9", "bus": "rp1"])
            }
            run { () throws(QMPError) in try h.machine.deviceAdd(["driver": "e1000", "id": "x", "bus": "pcie.0"]) }
            results.append(errors)
        }
        #expect(results[0] == results[1])
        #expect(results[0].compactMap { $0 }.count == 1, "\(results[0])")
        #expect(copy.takeEvents() == fresh.takeEvents())
        #expect(copy.machine.queryPCI() == fresh.machine.queryPCI())
        #expect(
            try copy.machine.qomList("/machine/peripheral-anon") == fresh.machine.qomList("/machine/peripheral-anon")
        )
        #expect(try copy.machine.queryHotplug("br9") == fresh.machine.queryHotplug("br9"))
        #expect(copy.machine.clock.now == fresh.machine.clock.now)
        #expect(prototype.takeEvents() == [])
        #expect(Self.firstDifference(GraphDump(prototype.machine, skipping: Self.notCopied).text, pristine) == nil)
    }

    @Test func copyKeepsVirtualTimeAndRunState() throws {
        let h = try MachineHarness(paused: false)
        h.advance(seconds: 3)
        h.machine.stop()
        let copy = MachineHarness(copying: h)
        #expect(copy.machine.clock.now == 3_000_000_000)
        #expect(copy.machine.runState == .paused)
        copy.advance(seconds: 1)
        #expect(copy.machine.clock.now == 3_000_000_000)
        try copy.machine.cont()
        copy.advance(seconds: 1)
        #expect(copy.machine.clock.now == 4_000_000_000)
        #expect(h.machine.clock.now == 3_000_000_000)
    }
}
