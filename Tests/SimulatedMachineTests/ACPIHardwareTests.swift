import QMPWire
import Testing

@testable import SimulatedMachine

/// The ACPI hardware every machine has: the PM function's globals, GPE0 and the SCI, q35's LPC
/// registers that map GPE0, and unassigned I/O ports (`acpi-hotplug.md` §2, §3).
@Suite struct ACPIHardwareTests {
    private func machine(_ type: MachineType, globals: [String] = []) throws -> Machine {
        let profile = try #require(QEMUProfile("7.2.0", package: "test"))
        let board = BoardOptions(globals: globals.compactMap(GlobalProperty.init))
        return Machine(profile: profile, startPaused: true, machineType: type, board: board)
    }

    @Test func globalsOfThePMDeviceAreCheckedAsQEMUChecksThem() throws {
        func settings(_ type: MachineType, _ global: String) throws(QMPError) -> PCIHotplugSettings {
            try PCIHotplugSettings(machineType: type, board: BoardOptions(globals: [GlobalProperty(global)!]))
        }
        #expect(
            throws: QMPError.generic(
                "can't apply global ICH9-LPC.acpi-root-pci-hotplug=on: Property 'ICH9-LPC.acpi-root-pci-hotplug' not found"
            )
        ) { try settings(.q35, "ICH9-LPC.acpi-root-pci-hotplug=on") }
        #expect(
            throws: QMPError.generic(
                "can't apply global PIIX4_PM.acpi-root-pci-hotplug=nah: Parameter 'acpi-root-pci-hotplug' expects 'on' or 'off'"
            )
        ) { try settings(.pc, "PIIX4_PM.acpi-root-pci-hotplug=nah") }
        #expect(try !settings(.q35, "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=no").hasRegisterBlock)
        #expect(try settings(.pc, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off").isPIIXLegacy)
        // Globals of other drivers are not the PM device's business.
        #expect(try settings(.q35, "PIIX4_PM.acpi-root-pci-hotplug=maybe").bridgeSupport)
        #expect(GlobalProperty("no-dot=1") == nil && GlobalProperty("a.b") == nil)
        #expect(GlobalProperty("e1000.mac=52:54:00:00:00:01.x")?.value == "52:54:00:00:00:01.x")
    }

    @Test func q35MapsGPE0OnlyOnceFirmwareSetsPMBASEAndACPIEnable() throws {
        let m = try machine(.q35)
        #expect(m.ioRead(port: 0x620, size: 1) == 0xFF)
        #expect(m.configRead(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4) == 0x1)
        m.configWrite(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4, value: 0x600)
        #expect(m.configRead(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4) == 0x600)
        #expect(m.ioRead(port: 0x620, size: 1) == 0xFF)
        m.configWrite(bus: 0, slot: 31, function: 0, offset: 0x44, size: 1, value: 0xFF)
        #expect(m.configRead(bus: 0, slot: 31, function: 0, offset: 0x44, size: 1) == 0x87)
        #expect(m.ioRead(port: 0x620, size: 4) == 0)
        #expect(m.ioRegion(0x62F) == .gpe(offset: 15))
        // Other functions take no configuration writes; a missing function reads all ones.
        m.configWrite(bus: 0, slot: 0, function: 0, offset: 0x40, size: 4, value: 0x600)
        #expect(m.configRead(bus: 0, slot: 0, function: 0, offset: 0x40, size: 4) == 0)
        #expect(m.configRead(bus: 0, slot: 0, function: 0, offset: 0, size: 4) == 0x29C0_8086)
        #expect(m.configRead(bus: 0, slot: 0, function: 0, offset: 2, size: 2) == 0x29C0)
        #expect(m.configRead(bus: 0, slot: 30, function: 0, offset: 0, size: 2) == 0xFFFF)
        m.systemReset()
        #expect(m.ioRead(port: 0x620, size: 1) == 0xFF)
        #expect(m.configRead(bus: 0, slot: 31, function: 0, offset: 0x44, size: 1) == 0)
    }

    @Test func gpeStatusIsWriteOneToClearEnableIsPlainAndTheSCIFollowsByteZero() throws {
        let m = try machine(.pc)
        final class Watcher: MachineObserver {
            var levels: [Bool] = []
            func sciLevelChanged(_ level: Bool) { levels.append(level) }
        }
        let watcher = Watcher()
        m.observer = watcher
        #expect(m.ioRegion(0xAFE0) == .gpe(offset: 0) && m.ioRegion(0xAFE4) != .gpe(offset: 4))
        m.ioWrite(port: 0xAFE2, size: 1, value: 0x0E)
        m.ioWrite(port: 0xAFE0, size: 2, value: 0xFFFF)
        #expect(m.ioRead(port: 0xAFE0, size: 4) == 0x000E_0000)
        #expect(watcher.levels.isEmpty)
        m.raiseGPE(GPE0Block.cpuHotplug)
        #expect(watcher.levels == [true])
        #expect(m.ioRead(port: 0xAFE0, size: 1) == 0x04)
        m.ioWrite(port: 0xAFE0, size: 1, value: 0x02)
        #expect(m.ioRead(port: 0xAFE0, size: 1) == 0x04 && watcher.levels == [true])
        m.ioWrite(port: 0xAFE2, size: 1, value: 0x0A)
        #expect(watcher.levels == [true, false])
        m.ioWrite(port: 0xAFE2, size: 1, value: 0x0E)
        #expect(watcher.levels == [true, false, true])
        m.ioWrite(port: 0xAFE0, size: 1, value: 0x04)
        #expect(watcher.levels == [true, false, true, false])
        m.systemReset()
        #expect(m.ioRead(port: 0xAFE0, size: 4) == 0)
    }

    @Test func unassignedPortsReadAllOnesInTheirSize() throws {
        let m = try machine(.q35, globals: ["ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"])
        #expect(m.ioRegion(0xCC0) == .unassigned)
        #expect(m.ioRead(port: 0xCC0, size: 4) == 0xFFFF_FFFF)
        #expect(m.ioRead(port: 0x1234, size: 2) == 0xFFFF)
        #expect(m.ioRead(port: 0xA00, size: 1) == 0xFF)
        m.ioWrite(port: 0x1234, size: 4, value: 0)
        #expect(try self.machine(.q35).ioRegion(0xCC0) == .acpiPCI(offset: 0))
    }
}
