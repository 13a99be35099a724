import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The `script` persona on the guest's ACPI side: a guest that programs the firmware registers, takes the
/// SCI and ejects through the PCI block only as its steps say.
@Suite struct ACPIScriptGuestTests {
    /// q35's PCI block (SEL, UP, DOWN, EJ), GPE0 after PMBASE 0x600, and the CPU interface.
    static let pciBase = 0x0CC0
    static let gpe = 0x620

    /// The bsel of a root port's bus in ``ACPIPCIGuestTests/acpiStandard``.
    static func bsel(of port: String) throws -> Int {
        let h = try GuestHarness(
            configuration: GuestConfiguration(persona: .manual),
            machine: ACPIPCIGuestTests.acpiStandard
        )
        return try #require(h.machine.acpiPCIDescription().first { $0.bus.owner?.id == port }?.bsel)
    }

    /// The script as a configuration file spells it: firmware, the CPU switch, GPE bit 1, then one SCI for
    /// the hot-add (UP read and cleared) and one for the removal (SEL, DOWN, EJ).
    static func yaml(bsel: Int) -> String {
        """
        guest:
          persona: linux
          slots:
            - controller: acpi
              persona: script
              steps:
                - {config-write: {address: "00:1f.0", offset: 0x40, size: 4, value: 0x600}}
                - {config-write: {address: "00:1f.0", offset: 0x44, size: 1, value: 0x80}}
                - {io-write: {port: 0xcd8, size: 4, value: 0}}
                - {io-write: {port: 0x620, size: 1, value: 0xff}}
                - {io-write: {port: 0x628, size: 1, value: 0x02}}
                - {wait-for: sci}
                - {io-write: {port: 0x620, size: 1, value: 0x02}}
                - {io-write: {port: 0xcd0, size: 4, value: \(bsel)}}
                - {wait-for-io: {port: 0xcc0, size: 4, mask: 1, value: 1}}
                - {io-read: {port: 0xcc4, size: 4}}
                - {wait-for: sci}
                - {io-write: {port: 0x620, size: 1, value: 0x02}}
                - {io-write: {port: 0xcd0, size: 4, value: \(bsel)}}
                - {wait-for-io: {port: 0xcc4, size: 4, mask: 1, value: 1}}
                - {io-write: {port: 0xcc8, size: 4, value: 1}}
        """
    }

    @Test func aScriptProgramsTheFirmwareTakesTheSCIAndEjects() throws {
        let bsel = try Self.bsel(of: "pci.1")
        let configuration = try GuestHarness.configuration(yaml: Self.yaml(bsel: bsel))
        let h = try GuestHarness(configuration: configuration, machine: ACPIPCIGuestTests.acpiStandard)
        // The script ran at once up to its first wait: PMBASE, ACPI_EN, the CPU switch, GPE bit 1 only.
        #expect(h.machine.acpi.gpeBase == UInt16(Self.gpe))
        #expect(h.machine.cpuHotplug.isModern)
        #expect(h.machine.acpi.gpe.enable0 == 0x02)
        #expect(h.guest.acpiState == "script-step-6")
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        // The SCI wakes `wait-for: sci` at that instant (no poll): status cleared, UP read (and cleared),
        // then the script waits for the next SCI.
        #expect(!h.machine.acpi.sciLevel)
        #expect(h.machine.acpiPCI.up.allSatisfy { $0 == 0 })
        #expect(h.guest.acpiState == "script-step-11")
        h.advance(ms: 15)
        #expect(h.del("hp1") == nil)
        // The removal's SCI: DOWN is set already, so the eject follows at the same virtual instant.
        #expect(h.takeEvents() == deleted("hp1", at: "15"))
        #expect(h.machine.device(id: "hp1") == nil)
        #expect(h.guest.acpiState == "script-done")
        // No GPE handler ran: the Linux side never booted (the machine-wide persona is linux).
        #expect(h.machine.acpi.gpe.enable0 == 0x02)
        h.advance(ms: 1_000)
        #expect(h.guest.acpiState == "script-done")
    }

    @Test func settingTheScriptAgainReArmsItAndAMachineWideScriptLeavesACPIManual() throws {
        let h = try GuestHarness(
            configuration: GuestConfiguration(persona: .manual),
            machine: ACPIPCIGuestTests.acpiStandard
        )
        #expect(h.machine.acpi.gpeBase == nil)
        let steps: [GuestScriptStep] = [
            .configWrite(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4, value: 0x600),
            .configWrite(bus: 0, slot: 31, function: 0, offset: 0x44, size: 1, value: 0x80), .wait(5_000_000),
            .writeSlotControl(0x3C0),  // another side's step built in code: skipped
            .ioWrite(port: 0x628, size: 1, value: 0x02),
        ]
        #expect(h.setPersona(.script(steps), controller: "acpi") == nil)
        #expect(h.guest.acpiState == "script-step-3")
        #expect(h.machine.acpi.gpeBase == UInt16(Self.gpe))
        h.advance(ms: 5)
        #expect(h.guest.acpiState == "script-done")
        #expect(h.machine.acpi.gpe.enable0 == 0x02)
        #expect(h.setPersona(.script([.ioWrite(port: 0x628, size: 1, value: 0)]), controller: "acpi") == nil)
        #expect(h.guest.acpiState == "script-done")
        #expect(h.machine.acpi.gpe.enable0 == 0)
        // A machine-wide script is the native controllers': the ACPI side acts as manual.
        #expect(h.setPersona(.script([.wait(1)])) == nil)
        #expect(h.guest.acpiState == "manual")
    }

    @Test func aPollReadsAsTheGuestDoes() throws {
        // Polling UP for a bit that is never set reads (and clears) UP each time; the slot bit set by a
        // hot-add is consumed by the poll that sees it.
        let bsel = try Self.bsel(of: "pci.1")
        let h = try GuestHarness(
            configuration: GuestConfiguration(persona: .manual),
            machine: ACPIPCIGuestTests.acpiStandard
        )
        let steps: [GuestScriptStep] = [
            .configWrite(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4, value: 0x600),
            .ioWrite(port: 0xCD0, size: 4, value: UInt32(bsel)),
            .waitForIO(port: 0xCC0, size: 4, mask: 1, value: 1),
        ]
        #expect(h.setPersona(.script(steps), controller: "acpi") == nil)
        #expect(h.guest.acpiState == "script-step-3")
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        #expect(h.machine.acpiPCI.up.contains { $0 != 0 })
        h.advance(ms: 10)
        #expect(h.guest.acpiState == "script-done")
        #expect(h.machine.acpiPCI.up.allSatisfy { $0 == 0 })
    }
}
