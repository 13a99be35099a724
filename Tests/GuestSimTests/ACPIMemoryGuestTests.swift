import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The simulated guest's memory hot-plug side (`acpi-hotplug.md` §6.3, §9): MSCN, the Device Check's
/// `_STA`/`_CRS`/`_OST(1, 0)`, the Eject Request's `_OST(3, 0x84)`, offline, `_EJ0` and `_OST(3, 0)`,
/// and a guest that cannot offline memory (`memory-removal: refuse`).
@Suite struct ACPIMemoryGuestTests {
    /// q35 (or pc) with `-m 512M,slots=4,maxmem=4G`, backends mem1 and mem2 of 256 MiB.
    static func harness(
        _ machineType: MachineType = .q35,
        guest: GuestConfiguration = GuestConfiguration()
    ) throws -> GuestHarness {
        var machine = MachineConfiguration(machineType: machineType)
        machine.board.memory = MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
        for id in ["mem1", "mem2"] {
            machine.objects.append(
                BackendEntry(["qom-type": "memory-backend-ram", "id": .string(id), "size": .int(256 << 20)])
            )
        }
        let h = try GuestHarness(configuration: guest, machine: machine)
        _ = h.takeEvents()
        _ = h.takeWrites()
        return h
    }

    static func dimm(_ id: String, _ memdev: String) -> JSONObject {
        ["driver": "pc-dimm", "id": .string(id), "memdev": .string(memdev)]
    }

    /// The guest's writes to the memory block as `offset<-value`.
    static func memoryWrites(_ h: GuestHarness) -> [String] {
        h.takeWrites().filter { $0.register == "acpi-memory-hotplug" }.map {
            "\(String(($0.target ?? 0) - 0xA00, radix: 16))<-\(String($0.written, radix: 16))"
        }
    }

    @Test(arguments: [MachineType.q35, .pc]) func hotAddIsScannedAndAcknowledged(machineType: MachineType) throws {
        let h = try Self.harness(machineType)
        #expect(h.guest.acpiState == "booted")
        #expect(h.add(Self.dimm("dimm1", "mem1")) == nil)
        // MSCN ran right after the reply: SEL=0, INSERTING cleared, SEL=1..3.
        #expect(Self.memoryWrites(h) == ["0<-0", "14<-2", "0<-1", "0<-2", "0<-3"])
        #expect(h.machine.memoryHotplug.slots[0].flags == 0x1)
        h.advance(ms: 19)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm1@20"])
        #expect(Self.memoryWrites(h) == ["0<-0", "0<-0", "0<-0", "4<-1", "8<-0"])
        #expect(h.machine.memoryHotplug.ostInfo(slot: 0).source == 1)
    }

    @Test func removalReportsEjectsAndReportsAgain() throws {
        let h = try Self.harness()
        _ = h.add(Self.dimm("dimm1", "mem1"))
        h.advance(ms: 100)
        _ = h.takeEvents()
        _ = h.takeWrites()
        #expect(h.del("dimm1") == nil)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm1@100"])  // _OST(3, 0x84) at once
        #expect(h.machine.memoryHotplug.ostInfo(slot: 0).status == 0x84)
        #expect(h.del("dimm1") == nil)  // a repeat: never refused, joins the removal under way
        #expect(h.takeEvents() == [])
        h.advance(ms: 199)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["DEVICE_DELETED dimm1@300", "ACPI_DEVICE_OST @300"])
        #expect(h.machine.queryMemoryDevices().arrayValue?.isEmpty == true)
        #expect(
            h.machine.memoryHotplug.ostInfo(slot: 0)
                == ACPIOSTInfo(device: nil, slot: "0", slotType: .dimm, source: 3, status: 0)
        )
        #expect(h.command { () throws(QMPError) in try h.machine.objectDel(id: "mem1") } == nil)
        // The slot is free for the next DIMM.
        #expect(h.add(Self.dimm("dimm2", "mem2")) == nil)
        h.advance(ms: 20)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm2@320"])
    }

    @Test func refusingGuestKeepsTheDIMM() throws {
        var guest = GuestConfiguration()
        guest.memoryRemoval = .refuse
        let h = try Self.harness(guest: guest)
        _ = h.add(Self.dimm("dimm1", "mem1"))
        h.advance(ms: 100)
        _ = h.takeEvents()
        #expect(h.del("dimm1") == nil)
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm1@100", "ACPI_DEVICE_OST dimm1@300"])
        #expect(h.machine.memoryHotplug.ostInfo(slot: 0).status == 0x82)
        #expect(h.machine.memoryHotplug.slots[0].flags == 0x1)
        #expect(h.machine.queryMemoryDevices().arrayValue?.count == 1)
        // A later request is refused again.
        #expect(h.del("dimm1") == nil)
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm1@1100", "ACPI_DEVICE_OST dimm1@1300"])
    }

    @Test func memoryRemovalIsReadFromTheGuestSection() throws {
        let yaml = "guest:\n  memory-removal: refuse\n  latencies: {memory-add-ms: 5, memory-offline-ms: 2000}\n"
        let configuration = try GuestHarness.configuration(yaml: yaml)
        #expect(configuration.memoryRemoval == .refuse)
        #expect(configuration.latencies.memoryAdd == 5_000_000)
        #expect(configuration.latencies.memoryOffline == 2_000_000_000)
        #expect(throws: MachineConfigurationError.self) {
            try GuestHarness.configuration(yaml: "guest:\n  memory-removal: never\n")
        }
    }

    @Test func slowGuestScalesTheMemoryLatencies() throws {
        let h = try Self.harness(guest: GuestConfiguration(persona: .slow(factor: 4)))
        _ = h.add(Self.dimm("dimm1", "mem1"))
        h.advance(ms: 79)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["ACPI_DEVICE_OST dimm1@80"])
    }

    @Test func manualGuestNeverTouchesTheBlock() throws {
        let h = try Self.harness(guest: GuestConfiguration(persona: .manual))
        _ = h.add(Self.dimm("dimm1", "mem1"))
        _ = h.del("dimm1")
        h.advance(ms: 10_000)
        #expect(h.takeEvents() == [])
        #expect(h.machine.memoryHotplug.slots[0].flags == 0x7)
    }
}
