import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// The machine's CPUs: cold plug from `-smp`, `device_add`/`device_del` of CPUs, the QMP views, and the
/// example configuration (`acpi-hotplug.md` §5).
@Suite struct MachineCPUTests {
    final class Recorder: MachineEventSink {
        var events: [MachineEvent] = []
        func emit(_ event: MachineEvent) { events.append(event) }
    }

    static func machine(
        _ yaml: String,
        version: String = "7.2.0"
    ) throws -> (Machine, Recorder) {
        let configuration = try ConfigurationFile.load(yaml: yaml).machine
        let profile = try #require(QEMUProfile(version, package: "test"))
        let machine = Machine(
            profile: profile,
            startPaused: true,
            machineType: configuration.machineType,
            board: configuration.board
        )
        let recorder = Recorder()
        machine.sink = recorder
        try machine.coldPlug(configuration)
        return (machine, recorder)
    }

    static func error(_ body: () throws(QMPError) -> Void) -> String? {
        do throws(QMPError) {
            try body()
            return nil
        } catch {
            return error.desc
        }
    }

    @Test func exampleConfigurationLoads() throws {
        let text = try ConfigurationTests.read("\(ConfigurationTests.configDirectory)/acpi-cpu.yaml")
        let file = try ConfigurationFile.load(yaml: text)
        #expect(file.machine.board.smp == SMPOptions(cpus: 1, maxcpus: 4))
        let (machine, _) = try Self.machine(text)
        #expect(machine.cpuTopology.maxcpus == 4)
        #expect(machine.presentCPUs.count == 1)
        #expect(file.guestSection != nil)
    }

    @Test func coldCPUsAndViews() throws {
        let (machine, _) = try Self.machine(
            "machine: q35\nsmp: {cpus: 2, maxcpus: 3}\nmemory: {size: 512M, slots: 2, maxmem: 4G}\n"
        )
        #expect(
            machine.presentCPUs.map(\.device.path) == [
                "/machine/unattached/device[0]", "/machine/unattached/device[2]",
            ]
        )
        #expect(
            machine.hotpluggableCPUs().jsonText
                == #"[{"props": {"core-id": 2, "thread-id": 0, "node-id": 0, "socket-id": 0}, "vcpus-count": 1, "type": "qemu64-x86_64-cpu"}, {"props": {"core-id": 1, "thread-id": 0, "node-id": 0, "socket-id": 0}, "vcpus-count": 1, "qom-path": "/machine/unattached/device[2]", "type": "qemu64-x86_64-cpu"}, {"props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 0}, "vcpus-count": 1, "qom-path": "/machine/unattached/device[0]", "type": "qemu64-x86_64-cpu"}]"#
        )
        #expect(
            machine.cpusFast(threadIDBase: 100).jsonText
                == #"[{"thread-id": 100, "props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}, {"thread-id": 101, "props": {"core-id": 1, "thread-id": 0, "node-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[2]", "cpu-index": 1, "target": "x86_64"}]"#
        )
    }

    @Test func invalidSMPIsRefusedAtStart() throws {
        #expect(throws: MachineConfigurationError.self) {
            _ = try Self.machine("machine: q35\nsmp: {cpus: 4, maxcpus: 2}\n")
        }
    }

    @Test func legacyRefusesUnplugAndModernNeverDoes() throws {
        let (machine, recorder) = try Self.machine("machine: pc\nsmp: {cpus: 1, maxcpus: 4}\n")
        let add: JSONObject = [
            "driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0,
        ]
        #expect(Self.error { () throws(QMPError) in try machine.deviceAdd(add) } == nil)
        #expect(machine.acpi.gpe.status0 == GPE0Block.cpuHotplug)
        #expect(
            Self.error { () throws(QMPError) in try machine.deviceDel("c1") }
                == "acpi: device unplug request for not supported device type: qemu64-x86_64-cpu"
        )
        machine.ioWrite(port: ACPICPUHotplug.pcBase, size: 4, value: 0)
        #expect(Self.error { () throws(QMPError) in try machine.deviceDel("c1") } == nil)
        #expect(Self.error { () throws(QMPError) in try machine.deviceDel("c1") } == nil)
        #expect(
            Self.error { () throws(QMPError) in try machine.deviceDel("/machine/unattached/device[0]") }
                == "Boot CPU is unpluggable"
        )
        machine.systemReset()
        #expect(machine.cpuHotplug.isModern)
        #expect(machine.cpuHotplug.slots[1].flags == 0x5)
        machine.ioWrite(port: ACPICPUHotplug.pcBase, size: 4, value: 1)
        machine.ioWrite(port: ACPICPUHotplug.pcBase + 4, size: 1, value: 8)
        let deleted = recorder.events.filter { $0.name == "DEVICE_DELETED" }.map {
            JSONValue.object($0.data ?? [:]).jsonText
        }
        #expect(
            deleted == [
                #"{"path": "/machine/peripheral/c1/lapic"}"#, #"{"device": "c1", "path": "/machine/peripheral/c1"}"#,
            ]
        )
        #expect(Self.error { () throws(QMPError) in try machine.deviceDel("c1") } == "Device 'c1' not found")
        #expect(machine.acpiOSPMStatus().count == 4)
    }

    @Test func tenZeroNamesTheModule() throws {
        let (machine, _) = try Self.machine("machine: q35\nsmp: {cpus: 1, maxcpus: 4}\n", version: "10.0.0")
        #expect(
            Self.error { () throws(QMPError) in
                try machine.deviceAdd(["driver": "qemu64-x86_64-cpu", "apic-id": 9])
            }
                == "Invalid CPU [socket: 2, die: 0, module: 0, core: 1, thread: 0] with APIC ID 9, valid index range 0:3"
        )
        #expect(
            Self.error { () throws(QMPError) in
                try machine.deviceAdd(["driver": "EPYC-Genoa-x86_64-cpu", "apic-id": 1])
            } == "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'"
        )
    }
}
