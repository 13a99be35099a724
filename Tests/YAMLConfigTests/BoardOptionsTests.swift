import SimulatedMachine
import Testing
import YAMLConfig

/// The board keys of a configuration file (`accel`, `smp`, `memory`, `globals`): QEMU's vocabulary,
/// QEMU's size suffixes, and a clear error naming the line for what QEMU's options would not take.
@Suite struct BoardOptionsTests {
    @Test func boardKeysReadAsQEMUsOptions() throws {
        let configuration = try MachineConfiguration.load(
            yaml: """
                machine: pc
                accel: tcg
                smp: {cpus: 2, maxcpus: 8, sockets: 2, cores: 4, threads: 1}
                memory: {size: 512M, slots: 4, maxmem: 4G}
                globals:
                  - PIIX4_PM.acpi-root-pci-hotplug=off
                  - PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off
                """
        )
        let board = configuration.board
        #expect(board.accel == .tcg)
        #expect(board.smp == SMPOptions(cpus: 2, maxcpus: 8, sockets: 2, cores: 4, threads: 1))
        #expect(board.memory == MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30))
        #expect(
            board.globals.map(\.description) == [
                "PIIX4_PM.acpi-root-pci-hotplug=off", "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off",
            ]
        )
        let settings = try PCIHotplugSettings(machineType: .pc, board: board)
        #expect(!settings.rootHotplug && !settings.bridgeSupport && !settings.hasRegisterBlock)
    }

    @Test func absentKeysAreQEMUsDefaultsExceptTheAccelerator() throws {
        let board = try MachineConfiguration.load(yaml: "machine: q35\n").board
        #expect(board == BoardOptions())
        #expect(board.accel == .kvm)
        #expect(board.memory.size == 128 << 20 && board.memory.slots == 0 && board.memory.maxmem == nil)
        let settings = try PCIHotplugSettings(machineType: .q35, board: board)
        #expect(settings.bridgeSupport && !settings.rootHotplug && settings.hasRegisterBlock)
    }

    @Test func sizesTakeSuffixesAndABareSizeIsMiBAsInDashM() throws {
        func memory(_ text: String) throws -> MemoryOptions {
            try MachineConfiguration.load(yaml: "memory: \(text)\n").board.memory
        }
        #expect(try memory("{size: 1024}").size == 1 << 30)
        #expect(try memory("{size: 1.5G}").size == 3 << 29)
        #expect(try memory("{size: 64k}").size == 64 << 10)
        #expect(try memory("{size: 2T, maxmem: 4294967296}").maxmem == 4 << 30)
    }

    @Test func badBoardValuesNameTheirLine() {
        let cases: [(String, String)] = [
            ("accel: hvf\n", "line 1, column 8: unknown accelerator 'hvf' (expected kvm or tcg)"),
            ("smp: {cpus: 0}\n", "line 1, column 13: 'cpus' must be a positive number"),
            ("smp: {cpus: 1, sockts: 2}\n", "sockts"),
            ("memory: {size: 12Q}\n", "'12Q' is not a size (a number with K, M, G or T)"),
            ("memory: {slots: -1}\n", "'slots' must not be negative"),
            ("globals: [ICH9-LPC]\n", "a global is DRIVER.PROPERTY=VALUE, not 'ICH9-LPC'"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try MachineConfiguration.load(yaml: text)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
