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
}
