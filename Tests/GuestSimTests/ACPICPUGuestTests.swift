import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The simulated guest's ACPI CPU hot-plug: CSCN as each profile's DSDT does it and the processor
/// driver's Device Check and Eject Request handling (`acpi-hotplug.md` §5.4, §9).
@Suite struct ACPICPUGuestTests {
    /// A q35 (or pc) machine with `-smp 1,maxcpus=4`, native PCI hot-plug, a running VM and a booted guest.
    final class Harness: MachineEventSink {
        let clock = ManualHostClock()
        let machine: Machine
        let guest: GuestOS
        var events: [(ms: Double, text: String)] = []
        var writes: [GuestRegisterWrite] = []

        init(
            version: String = "7.2.0",
            machineType: MachineType = .q35,
            accel: Accelerator = .kvm,
            configuration: GuestConfiguration = GuestConfiguration()
        ) throws {
            let profile = try #require(QEMUProfile(version, package: "test"))
            var board = BoardOptions.nativePCIHotplug(machineType)
            board.accel = accel
            board.smp = SMPOptions(cpus: 1, maxcpus: 4)
            let clock = clock
            machine = Machine(profile: profile, machineType: machineType, board: board) { clock.nanoseconds }
            var config = MachineConfiguration(machineType: machineType)
            config.board = board
            try machine.coldPlug(config)
            guest = GuestOS(machine: machine, configuration: configuration)
            machine.sink = self
            guest.onRegisterWrite = { [weak self] in self?.writes.append($0) }
            machine.runDueTimers()
        }

        func emit(_ event: MachineEvent) {
            let data = event.data.map { JSONValue.object($0).jsonText } ?? ""
            events.append((Double(machine.clock.now) / 1e6, "\(event.name) \(data)"))
        }

        func advance(ms: Double) { machine.advance(host: clock, by: Int64((ms * 1e6).rounded())) }

        func command(_ body: () throws(QMPError) -> Void) -> String? {
            var result: String?
            do throws(QMPError) { try body() } catch { result = error.desc }
            machine.flushDeferredEvents()
            machine.runDueTimers()
            return result
        }

        func addCPU(_ id: String, core: Int) -> String? {
            command { () throws(QMPError) in
                try machine.deviceAdd(
                    JSONObject([
                        ("driver", .string("qemu64-x86_64-cpu")), ("id", .string(id)), ("socket-id", .int(0)),
                        ("core-id", .int(Int64(core))), ("thread-id", .int(0)),
                    ])
                )
            }
        }

        func del(_ id: String) -> String? { command { () throws(QMPError) in try machine.deviceDel(id) } }

        func takeEvents() -> [String] {
            defer { events.removeAll() }
            return events.map { "\($0.text)@\($0.ms)" }
        }

        /// The CPU block's accesses the guest made (writes only), as `offset=value`.
        func takeCPUWrites() -> [String] {
            defer { writes.removeAll() }
            let base = Int(machine.machineType == .q35 ? ACPICPUHotplug.q35Base : ACPICPUHotplug.pcBase)
            return writes.filter { $0.register == "acpi-cpu-hotplug" }.map {
                "\(($0.target ?? 0) - base)=\($0.written)"
            }
        }
    }

    @Test func bootSwitchesToModern() throws {
        let h = try Harness()
        #expect(h.machine.cpuHotplug.isModern)
        #expect(h.machine.acpi.gpe.enable0 == GPE0Block.cpuHotplug)
    }

    @Test func hotAddIsAcknowledgedWithOST() throws {
        let h = try Harness()
        h.advance(ms: 10)
        _ = h.takeEvents()
        #expect(h.addCPU("cpu1", core: 1) == nil)
        h.advance(ms: 5)
        #expect(
            h.takeEvents() == [
                #"ACPI_DEVICE_OST {"info": {"device": "cpu1", "source": 1, "status": 0, "slot": "1", "slot-type": "CPU"}}@11.0"#
            ]
        )
        #expect(h.machine.cpuHotplug.slots[1].flags == ACPICPUSlot.enabledFlag)
    }

    @Test func removalFollowsLinux() throws {
        let h = try Harness()
        h.advance(ms: 10)
        _ = h.addCPU("cpu1", core: 1)
        h.advance(ms: 5)
        _ = h.takeEvents()
        #expect(h.del("cpu1") == nil)
        h.advance(ms: 1)
        #expect(
            h.takeEvents() == [
                #"ACPI_DEVICE_OST {"info": {"device": "cpu1", "source": 3, "status": 132, "slot": "1", "slot-type": "CPU"}}@15.0"#
            ]
        )
        h.advance(ms: 30)
        #expect(
            h.takeEvents() == [
                #"DEVICE_DELETED {"path": "/machine/peripheral/cpu1/lapic"}@35.0"#,
                #"DEVICE_DELETED {"device": "cpu1", "path": "/machine/peripheral/cpu1"}@35.0"#,
                #"ACPI_DEVICE_OST {"info": {"source": 3, "status": 0, "slot": "1", "slot-type": "CPU"}}@35.0"#,
            ]
        )
        #expect(h.machine.presentCPUs.count == 1)
    }

    /// CSCN's writes for a hot-add then a removal, per profile (the transcripts' sequences).
    @Test(arguments: ["7.2.0", "10.0.0"]) func scanFollowsTheProfilesAML(version: String) throws {
        let h = try Harness(version: version)
        h.advance(ms: 10)
        _ = h.takeCPUWrites()
        _ = h.addCPU("cpu2", core: 2)
        h.advance(ms: 5)
        let ost1 = ["0=2", "0=2", "5=1", "8=1", "5=2", "8=0"]
        #expect(h.takeCPUWrites() == ["0=0", "5=0", "0=3", "5=0", "0=2", "4=2"] + ost1)
        _ = h.del("cpu2")
        h.advance(ms: 1)
        let scan =
            version == "7.2.0"
            ? ["0=0", "5=0", "4=4", "0=3", "5=0"]
            : ["0=0", "5=0", "0=3", "5=0", "0=2", "4=4"]
        #expect(h.takeCPUWrites() == scan + ["0=2", "5=1", "8=3", "5=2", "8=132"])
        h.advance(ms: 30)
        #expect(h.takeCPUWrites() == ["0=2", "4=8", "0=2", "0=2", "5=1", "8=3", "5=2", "8=0"])
    }

    @Test func tcgNeverFinalisesTheCPU() throws {
        let h = try Harness(accel: .tcg)
        h.advance(ms: 10)
        _ = h.addCPU("cpu1", core: 1)
        _ = h.del("cpu1")
        h.advance(ms: 50)
        let events = h.takeEvents().filter { $0.hasPrefix("DEVICE_DELETED") }
        #expect(events == [#"DEVICE_DELETED {"path": "/machine/peripheral/cpu1/lapic"}@31.0"#])
        #expect(h.del("cpu1") == "Device 'cpu1' not found")
    }

    @Test func aGuestThatCannotOfflineReportsBusy() throws {
        var configuration = GuestConfiguration()
        configuration.refusesCPUOffline = true
        let h = try Harness(configuration: configuration)
        h.advance(ms: 10)
        _ = h.addCPU("cpu1", core: 1)
        h.advance(ms: 5)
        _ = h.takeEvents()
        _ = h.del("cpu1")
        h.advance(ms: 50)
        #expect(
            h.takeEvents() == [
                #"ACPI_DEVICE_OST {"info": {"device": "cpu1", "source": 3, "status": 132, "slot": "1", "slot-type": "CPU"}}@15.0"#,
                #"ACPI_DEVICE_OST {"info": {"device": "cpu1", "source": 3, "status": 130, "slot": "1", "slot-type": "CPU"}}@35.0"#,
            ]
        )
        #expect(h.machine.presentCPUs.count == 2)
    }

    @Test func aRequestBeforeBootLosesItsEdge() throws {
        let h = try Harness(
            configuration: GuestConfiguration(
                persona: .booting(untilNanoseconds: 100_000_000, scanTreatsNewDeviceAsRemoval: false)
            )
        )
        _ = h.addCPU("cpu1", core: 1)
        h.advance(ms: 200)
        // Added in legacy mode: at the switch it is a present CPU like the boot CPU, never announced.
        #expect(h.takeEvents().isEmpty)
        #expect(h.machine.cpuHotplug.slots[1].flags == ACPICPUSlot.enabledFlag)
        _ = h.addCPU("cpu2", core: 2)
        h.advance(ms: 5)
        #expect(h.takeEvents().count == 1)
    }

    /// A hung guest: booted (the interface is modern, so QEMU takes CPU requests), but it never
    /// handles the GPE: `device_del` answers `{}` and nothing ever follows.
    @Test func aNeverAckGuestBootsButNeverAnswers() throws {
        let h = try Harness(configuration: GuestConfiguration(persona: .neverAck))
        #expect(h.machine.cpuHotplug.isModern)
        #expect(h.guest.acpiState == "never-ack")
        #expect(h.addCPU("cpu1", core: 1) == nil)
        h.advance(ms: 1000)
        #expect(h.takeEvents().isEmpty)
        #expect(h.del("cpu1") == nil)
        #expect(h.del("cpu1") == nil)
        h.advance(ms: 10_000)
        #expect(h.takeEvents().isEmpty)
        #expect(h.machine.device(id: "cpu1") != nil)
        #expect(h.machine.acpi.gpe.status0 & GPE0Block.cpuHotplug != 0)
    }
}
