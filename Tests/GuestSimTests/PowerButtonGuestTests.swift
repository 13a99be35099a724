import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// `system_powerdown` with the simulated guest: the Linux guest enables the power button at boot,
/// takes its fixed event from the SCI and powers off after `shutdown-ms`; guests that never handle
/// it (never-ack, manual) leave the VM running, as QEMU without an OS does.
struct PowerButtonGuestTests {
    private static func harness(
        _ persona: GuestPersona = .linux,
        machine: MachineType = .q35,
        exits: Bool = false
    ) throws -> GuestHarness {
        var configuration = ACPIPCIGuestTests.acpiStandard
        if machine == .pc {
            configuration = MachineConfiguration()
            configuration.machineType = .pc
        }
        let h = try GuestHarness(configuration: GuestConfiguration(persona: persona), machine: configuration)
        h.machine.exitsOnGuestShutdown = exits
        return h
    }

    @Test(arguments: [MachineType.q35, .pc])
    func theLinuxGuestPowersOffAfterItsLatency(machine: MachineType) throws {
        let h = try Self.harness(machine: machine)
        let pm = try #require(h.machine.acpi.pmBase)
        #expect(pm == 0x600)  // the firmware mapped the PM block
        #expect(h.machine.ioRead(port: pm + 2, size: 2) & UInt32(PM1Block.powerButton) != 0)
        _ = h.takeEvents()
        h.machine.powerdown()
        #expect(h.takeEvents() == ["POWERDOWN @0"])
        h.advance(ms: 999)
        #expect(h.takeEvents() == [])
        #expect(h.machine.ioRead(port: pm, size: 2) & UInt32(PM1Block.powerButton) == 0)  // handled, cleared
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["SHUTDOWN @1000", "STOP @1000"])
        #expect(h.machine.runState == .shutdown)
        #expect(throws: QMPError.generic("Resetting the Virtual Machine is required")) { try h.machine.cont() }
        // system_reset: prelaunch, the guest boots again and enables the button again.
        h.machine.systemReset()
        h.guest.guestReset()  // as the daemon does after system_reset
        #expect(h.machine.runState == .prelaunch)
        try h.machine.cont()
        h.advance(ms: 0)
        #expect(h.machine.acpi.pm1.enable & PM1Block.powerButton != 0)
    }

    @Test func withoutNoShutdownTheMachineAsksToExit() throws {
        let h = try Self.harness(exits: true)
        h.machine.powerdown()
        h.advance(ms: 1000)
        #expect(h.takeEvents() == ["POWERDOWN @0", "SHUTDOWN @1000"])
        #expect(h.machine.exitRequested)
        #expect(h.machine.runState == .running)
    }

    @Test(arguments: [GuestPersona.neverAck, .manual])
    func aGuestThatIgnoresTheButtonStaysRunning(persona: GuestPersona) throws {
        let h = try Self.harness(persona)
        h.machine.powerdown()
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == ["POWERDOWN @0"])
        #expect(h.machine.runState == .running)
    }

    @Test func aSlowGuestTakesLonger() throws {
        let h = try Self.harness(.slow(factor: 3))
        h.machine.powerdown()
        h.advance(ms: 2_999)
        #expect(h.takeEvents() == ["POWERDOWN @0"])
        h.advance(ms: 100)
        #expect(h.takeEvents().first?.hasPrefix("SHUTDOWN @") == true)
    }
}
