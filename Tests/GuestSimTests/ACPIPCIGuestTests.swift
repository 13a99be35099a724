import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The simulated guest's ACPI PCI side (`acpi-hotplug.md` §4.7, §9): the GPE handler's PCNT scan and
/// acpiphp's eject, per persona.
@Suite struct ACPIPCIGuestTests {
    /// The standard topology with QEMU's default board: every cold port and bridge is ACPI's.
    static var acpiStandard: MachineConfiguration {
        var configuration = MachineConfiguration.standard
        configuration.board = BoardOptions()
        return configuration
    }

    static func harness(_ persona: GuestPersona = .linux, paused: Bool = false) throws -> GuestHarness {
        try GuestHarness(configuration: GuestConfiguration(persona: persona), paused: paused, machine: acpiStandard)
    }

    @Test func linuxEjectsTwentyMillisecondsAfterTheRequest() throws {
        let h = try Self.harness()
        #expect(h.guest.acpiState == "booted")
        #expect(h.machine.acpi.gpe.enable0 == 0x06)  // PCI and CPU (no DIMM slots)
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        #expect(h.machine.acpi.gpe.status0 == 0)  // the handler ran and cleared it
        #expect(h.machine.acpiPCI.up.allSatisfy { $0 == 0 })  // the scan read UP
        #expect(try h.slotControl("pci.1") == 0x3C0)
        h.advance(ms: 5)
        #expect(h.del("hp1") == nil)
        h.advance(ms: 19)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp1", at: "25"))
        #expect(h.machine.acpiPCI.down.allSatisfy { $0 == 0 })
        #expect(h.machine.pendingUnplugs().count == 0)
    }

    @Test func severalRemovalsAreHandledOneAtATime() throws {
        let h = try Self.harness()
        _ = h.add(rng("a", bus: "pci.1"))
        _ = h.add(rng("b", bus: "pci.2"))
        h.advance(ms: 1)
        _ = h.del("a")
        _ = h.del("b")
        h.advance(ms: 100)
        let events = h.takeEvents()
        #expect(events.count == 4)
        #expect(events.last?.hasSuffix("@41") == true)
    }

    @Test func slowScalesTheEject() throws {
        let h = try Self.harness(.slow(factor: 4))
        _ = h.add(rng("hp1", bus: "pci.1"))
        _ = h.del("hp1")
        h.advance(ms: 79)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp1", at: "80"))
    }

    @Test func neverAckNeverEjects() throws {
        let h = try Self.harness(.neverAck)
        #expect(h.guest.acpiState == "never-ack")
        _ = h.add(rng("hp1", bus: "pci.1"))
        _ = h.del("hp1")
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        #expect(h.machine.isACPIRemovalPending(try #require(h.machine.device(id: "hp1"))))
        // The request was made at virtual 0 ms: its pending-delete mark holds until eject or reset.
        #expect(h.del("hp1") == "Device hp1 is already in the process of unplug")
    }

    @Test func aRequestBeforeBootLosesItsEdgeAndARepeatWorks() throws {
        let h = try Self.harness(.booting(untilNanoseconds: 1_000_000_000, scanTreatsNewDeviceAsRemoval: false))
        h.advance(ms: 10)
        _ = h.add(rng("hp1", bus: "pci.1"))
        _ = h.del("hp1")
        h.advance(ms: 2_000)
        #expect(h.guest.acpiState == "booted")
        #expect(h.takeEvents() == [])  // ACPICA cleared the GPE status at boot
        #expect(h.del("hp1") == nil)  // requested at 10 ms: expired
        h.advance(ms: 20)
        #expect(h.takeEvents() == deleted("hp1", at: "2030"))
    }

    @Test func manualAndScriptLeaveEverythingToTheTest() throws {
        for persona in [GuestPersona.manual, .script([.wait(1)])] {
            let h = try Self.harness(persona)
            _ = h.add(rng("hp1", bus: "pci.1"))
            _ = h.del("hp1")
            h.advance(ms: 1_000)
            #expect(h.takeEvents() == [])
            #expect(h.machine.acpi.gpe.status0 == 0x02)
        }
    }

    @Test func theACPIPersonaAloneAndAGuestReset() throws {
        let h = try Self.harness()
        #expect(h.setPersona(.neverAck, controller: "acpi") == nil)
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 1)
        _ = h.del("hp1")
        h.advance(ms: 100)
        #expect(h.takeEvents() == [])
        #expect(h.setPersona(.linux, controller: "acpi") == nil)
        h.advance(ms: 1)
        #expect(h.del("hp1") == nil)
        h.advance(ms: 20)
        #expect(h.takeEvents() == deleted("hp1", at: "122"))
        // system_reset: the guest reboots and handles the next request.
        h.machine.systemReset()
        h.guest.guestReset()
        h.machine.runDueTimers()
        _ = h.takeEvents()
        _ = h.add(rng("hp2", bus: "pci.2"))
        _ = h.del("hp2")
        h.advance(ms: 20)
        #expect(h.takeEvents() == deleted("hp2", at: "142"))
    }

    @Test(arguments: ["7.2.0", "10.0.0"])
    func pcLegacyModeScansOnlyTheRootBus(version: String) throws {
        var configuration = MachineConfiguration(
            machineType: .pc,
            devices: [
                DeviceSpec(driver: "pci-bridge", id: "pb1", bus: "pci.0", properties: ["chassis_nr": 1, "addr": "0x7"])
            ]
        )
        configuration.board = BoardOptions(globals: [
            GlobalProperty(driver: "PIIX4_PM", property: "acpi-pci-hotplug-with-bridge-support", value: "off")
        ])
        let h = try GuestHarness(version: version, machine: configuration)
        _ = h.add(rng("r0", bus: "pci.0", addr: "0x5"))
        h.advance(ms: 1)
        _ = h.del("r0")
        h.advance(ms: 20)
        #expect(h.takeEvents() == deleted("r0", at: "21"))
        let writes = h.takeWrites().filter { $0.register == "acpi-pci-hotplug" && $0.target == 0xAE08 }
        #expect(writes.count == 1)  // one eject: pb1's bsel (7.2) has no PCNT
    }

    @Test func noNativeDriverOnACPIBuses() throws {
        let h = try Self.harness()
        #expect(h.guest.state(controller: "pci.1") == "not-probed")
        #expect(try h.slotControl("pci.1") == 0x7C0)  // pciehp never touched it
    }
}
