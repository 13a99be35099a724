import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// A configuration file read through libyaml: the YAML that the hand-written subset refused gives the
/// machine a file written out in full gives.
@Suite struct ConfigurationFileTests {
    /// What a configuration's devices amount to, without the lines they were declared on.
    private func devices(_ configuration: MachineConfiguration) -> [String] {
        configuration.devices.map { spec in
            let properties = spec.properties.members.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "\(spec.driver) id=\(spec.id ?? "-") bus=\(spec.bus ?? "-") \(properties)"
        }
    }

    @Test func anchorsAliasesMergeKeysAndTagsGiveTheSameMachine() throws {
        let plain = try MachineConfiguration.load(
            yaml: """
                machine: q35
                controllers:
                  - {driver: pcie-root-port, id: rp1, bus: pcie.0, chassis: 1, slot: 1, hotplug: true}
                  - {driver: pcie-root-port, id: rp2, bus: pcie.0, chassis: 2, slot: 2, hotplug: false}
                devices:
                  - {driver: virtio-net-pci, id: net0, bus: rp1, addr: "0x0"}
                """
        )
        let written = try MachineConfiguration.load(
            yaml: """
                # Shared settings under a key nobody reads would be an error: they live in the first
                # controller, and the others merge them.
                machine: !!str q35
                controllers:
                  - &port
                    driver: pcie-root-port
                    id: rp1
                    bus: pcie.0
                    chassis: 1
                    slot: 1
                    hotplug: on
                  - <<: *port
                    id: rp2
                    chassis: !!int "2"
                    slot: 2
                    hotplug: !!bool "false"
                devices: [
                  {driver: virtio-net-pci, id: net0,
                   bus: rp1, addr: !!str 0x0},
                ]
                """
        )
        #expect(devices(written) == devices(plain))
        #expect(written.machineType == .q35)
    }

    @Test func tagsDecideTheDevicePropertyType() throws {
        let configuration = try MachineConfiguration.load(
            yaml: "devices:\n  - {driver: e1000, chassis: !!str 10, slot: !!int '3', x: '4', y: 5, z: !!bool 'on'}\n"
        )
        let properties = try #require(configuration.devices.first).properties
        #expect(properties["chassis"] == .string("10"))
        #expect(properties["slot"] == .int(3))
        #expect(properties["x"] == .string("4"))
        #expect(properties["y"] == .int(5))
        #expect(properties["z"] == .bool(true))
    }

    @Test func guestSectionIsLeftToTheGuestLayer() throws {
        let file = try ConfigurationFile.load(yaml: "machine: pc\nguest: {persona: manual}\n")
        #expect(file.machine.machineType == .pc)
        let guest = try #require(file.guestSection)
        #expect((guest.line, guest.column) == (2, 8))
        #expect(try ConfigurationFile.load(yaml: "machine: pc\n").guestSection == nil)
        #expect(try ConfigurationFile.load(yaml: "").machine.devices.isEmpty)
    }

    @Test func errorsKeepLineAndColumn() {
        func error(_ text: String) -> String? {
            do {
                _ = try ConfigurationFile.load(yaml: text)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error("machine: q35\n---\nmachine: pc\n") == "line 2, column 1: multiple documents are not supported")
        #expect(
            error("machine: q35\ndevices:\n  - {driver: e1000, id: !custom x}\n")
                == """
                line 3, column 25: unknown tag '!custom' \
                (expected one of: !!str, !!int, !!float, !!bool, !!null, !!map, !!seq)
                """
        )
        #expect(error("devices:\n  - *nic\n")?.hasPrefix("line 2, column 5: unknown alias '*nic'") == true)
        #expect(
            error("machine: [q35\n")
                == "line 2, column 1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 10)"
        )
    }
}
