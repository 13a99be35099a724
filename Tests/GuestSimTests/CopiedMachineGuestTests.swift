import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The Linux guest on a copy of a cold-plugged machine (``Machine/copy(hostClock:)``, what the
/// fuzz targets start every input from) behaves exactly as on a freshly built one: the same
/// register writes, events and instants, through boot, hot-plug on PCIe and SHPC, and unplug.
@Suite struct CopiedMachineGuestTests {
    static func prototype(_ version: String) throws -> Machine {
        let profile = try QEMUProfile(version, package: "test").unwrap()
        let machine = Machine(profile: profile, board: MachineConfiguration.standard.board)
        try machine.coldPlug(.standard)
        return machine
    }

    static func run(_ h: GuestHarness) -> ([String], [String], [String?]) {
        var errors: [String?] = []
        errors.append(h.add(rng("hp1", bus: "pci.1")))
        errors.append(h.add(rng("hp2", bus: "pci.7", addr: "3")))
        h.advance(ms: 6_000)
        errors.append(h.del("hp1"))
        errors.append(h.del("hp2"))
        h.advance(ms: 10_000)
        errors.append(h.add(rng("hp1", bus: "pci.1")))
        h.advance(ms: 2_000)
        let writes = h.takeWrites().map { "\($0.controller) \($0.register) \($0.written)" }
        return (h.takeEvents(), writes, errors)
    }

    @Test(arguments: ["7.2.0", "8.2.0", "10.0.0"])
    func guestOnACopyDoesWhatItDoesOnAFreshMachine(version: String) throws {
        let fresh = try GuestHarness(version: version)
        let prototype = try Self.prototype(version)
        let copied = try GuestHarness(version: version, copying: prototype)
        let (events, writes, errors) = Self.run(fresh)
        #expect(events.count >= 4, "\(events)")
        #expect(writes.count > 20)
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
        let copy = Self.run(copied)
        #expect(copy.0 == events)
        #expect(copy.1 == writes)
        #expect(copy.2 == errors)
        // The prototype was never touched: a second copy does it all again.
        let again = Self.run(try GuestHarness(version: version, copying: prototype))
        #expect(again.0 == events)
        #expect(prototype.armedTimerCount == 0)
        #expect(prototype.userDeviceCount == fresh.machine.userDeviceCount - 1)
    }

    /// The standard machine's devices on an ACPI board (ACPI PCI hot-plug, CPUs and DIMMs).
    static let acpiBoard: MachineConfiguration = {
        var configuration = MachineConfiguration.standard
        configuration.board = BoardOptions(
            accel: .kvm,
            smp: SMPOptions(cpus: 1, maxcpus: 4),
            memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
        )
        return configuration
    }()

    /// Hot-plug and unplug through whichever controllers the board has, a CPU and a DIMM on the
    /// ACPI board: events, register writes, errors and the drivers' states.
    static func exercise(_ h: GuestHarness) -> [String] {
        var log: [String?] = []
        log.append(h.add(rng("hp1", bus: "pci.1")))
        log.append(h.add(rng("hp2", bus: "pci.7", addr: "3")))
        log.append(h.add(["driver": "qemu64-x86_64-cpu", "id": "cpu1", "socket-id": 0, "core-id": 1, "thread-id": 0]))
        h.advance(ms: 6_000)
        log.append(h.del("hp1"))
        log.append(h.del("hp2"))
        log.append(h.del("cpu1"))
        h.advance(ms: 10_000)
        log.append(h.guest.state(controller: "pci.1") + " " + h.guest.state(controller: "pci.7", slot: 3))
        log.append(h.guest.acpiState)
        let writes = h.takeWrites().map { "\($0.controller) \($0.register) \($0.written)" }
        return log.map { $0 ?? "ok" } + h.takeEvents() + writes
    }

    /// A booted guest copied with its machine (``GuestOS/copy(onto:)``) carries on exactly as the
    /// original does from there, on native and ACPI boards; the original is not disturbed.
    @Test(arguments: ["7.2.0", "10.0.0"], [false, true])
    func bootedGuestCopyCarriesOnAsTheOriginal(version: String, acpi: Bool) throws {
        let original = try GuestHarness(version: version, machine: acpi ? Self.acpiBoard : .standard)
        original.advance(ms: 5_000)  // boot done: no timer armed
        #expect(original.machine.armedTimerCount == 0)
        _ = original.takeEvents()
        _ = original.takeWrites()
        let copy = GuestHarness(copying: original)
        let second = GuestHarness(copying: original)
        let expected = Self.exercise(original)
        #expect(expected.count > 12, "\(expected)")
        #expect(Self.exercise(copy) == expected)
        #expect(Self.exercise(second) == expected)
    }
}
