import SimulatedMachine
import Testing
import YAMLConfig

/// `QMP_MOCK_CONFIG`'s file: the mock's own settings over a QEMU command line's machine, and a clear
/// error at the line of any key that would describe the machine again.
@Suite struct MockSettingsFileTests {
    @Test func settingsAreRead() throws {
        let settings = try MockSettingsFile.load(
            yaml: """
                qemu-version: 8.2.0
                clock: manual
                time-scale: 2
                control: /run/vm1.ctl
                transcript: /tmp/vm1.jsonl
                log-level: info
                catalog:
                  - {name: acme-nic, based-on: e1000e, device-id: 0x0042}
                guest:
                  persona: linux
                """
        )
        #expect(settings.qemuVersion == "8.2.0")
        #expect(settings.manualClock == true)
        #expect(settings.timeScale == 2)
        #expect(settings.control == "/run/vm1.ctl")
        #expect(settings.transcript == "/tmp/vm1.jsonl")
        #expect(settings.logLevel == "info")
        #expect(settings.catalogAdditions.map(\.name) == ["acme-nic"])
        #expect(settings.guestSection != nil)
    }

    @Test func anEmptyFileChangesNothing() throws {
        let settings = try MockSettingsFile.load(yaml: "")
        #expect(settings.qemuVersion == nil && settings.manualClock == nil && settings.guestSection == nil)
    }

    @Test func machineKeysAreErrorsAtTheirLine() {
        for key in MockSettingsFile.machineKeys {
            #expect(throws: MachineConfigurationError.self) {
                try MockSettingsFile.load(yaml: "clock: manual\n\(key): []\n")
            }
        }
        do {
            _ = try MockSettingsFile.load(yaml: "clock: manual\ndevices:\n  - {driver: e1000e}\n")
            Issue.record("a machine key was accepted")
        } catch {
            #expect(error.line == 2 && error.column == 1)
            #expect(error.message.hasPrefix("'devices' describes the machine"))
        }
    }

    @Test func badValuesAndUnknownKeys() {
        #expect(throws: MachineConfigurationError.self) { try MockSettingsFile.load(yaml: "clock: fast\n") }
        #expect(throws: MachineConfigurationError.self) { try MockSettingsFile.load(yaml: "time-scale: -1\n") }
        #expect(throws: MachineConfigurationError.self) { try MockSettingsFile.load(yaml: "qmp: /x\n") }
    }
}
