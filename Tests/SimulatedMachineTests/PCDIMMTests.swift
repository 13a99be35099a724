import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// `pc-dimm` on the machine, as recorded from QEMU 7.2.22 and 10.0.2 (`acpi-hotplug.md` §6;
/// transcripts `q35-mem-flow`, `q35-mem-errors`, `pc-mem-noslots`, plus probes of the same QEMUs for
/// the errors the transcripts do not show): the memory map, placement, every error in QEMU's order,
/// the register block through the machine's I/O ports, `device_del`, eject and the queries.
@Suite struct PCDIMMTests {
    /// `-m 512M,slots=4,maxmem=4G` on `machineType`, no PCI devices.
    static func harness(
        _ machineType: MachineType = .q35,
        memory: MemoryOptions = MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30),
        version: String = "7.2.0"
    ) throws -> MachineHarness {
        var configuration = MachineConfiguration(machineType: machineType)
        configuration.board.memory = memory
        return try MachineHarness(version: version, configuration: configuration)
    }

    static func backend(_ id: String, _ size: Int64, type: String = "memory-backend-ram") -> JSONObject {
        ["qom-type": .string(type), "id": .string(id), "size": .int(size)]
    }

    static func dimm(_ id: String?, _ memdev: String?, _ extra: [(String, JSONValue)] = []) -> JSONObject {
        var arguments: JSONObject = ["driver": "pc-dimm"]
        if let id { arguments.append("id", .string(id)) }
        if let memdev { arguments.append("memdev", .string(memdev)) }
        for (key, value) in extra { arguments.append(key, value) }
        return arguments
    }

    static func add(_ h: MachineHarness, _ arguments: JSONObject) -> String? {
        h.error { () throws(QMPError) in try h.machine.deviceAdd(arguments) }
    }

    static func object(_ h: MachineHarness, _ arguments: JSONObject) throws {
        try h.machine.objectAdd(arguments)
    }

    /// `(slot, addr, id)` of every DIMM `query-memory-devices` lists.
    static func placed(_ h: MachineHarness) -> [String] {
        (h.machine.queryMemoryDevices().arrayValue ?? []).compactMap { entry in
            guard let data = entry.objectValue?["data"]?.objectValue else { return nil }
            let addr = data["addr"]?.unsigned ?? 0
            return "\(data["slot"]?.int64Value ?? -1)@0x\(String(addr, radix: 16)) \(data["id"]?.stringValue ?? "-")"
        }
    }

    // MARK: Memory map

    @Test func memoryMapFollowsQEMUsSplit() {
        let q35 = MemoryMap(machineType: .q35, memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30))
        #expect(q35.deviceMemoryBase == 0x1_0000_0000)
        #expect(q35.hotpluggableSize == 0xE000_0000)
        #expect(q35.deviceMemoryRegionSize == 0x1_E000_0000)
        // 3 GiB on q35: 2 GiB low, 1 GiB high, device memory from 5 GiB (probed on 7.2 and 10.0).
        let big = MemoryMap(machineType: .q35, memory: MemoryOptions(size: 3 << 30, slots: 2, maxmem: 8 << 30))
        #expect(big.belowFourGiB == 0x8000_0000)
        #expect(big.deviceMemoryBase == 0x1_4000_0000)
        // 4 GiB on pc: 3 GiB low, 1 GiB high.
        let pc = MemoryMap(machineType: .pc, memory: MemoryOptions(size: 4 << 30, slots: 2, maxmem: 8 << 30))
        #expect(pc.deviceMemoryBase == 0x1_4000_0000)
        // 100K is rounded to 8 KiB; 0 is the default.
        #expect(MemoryMap(machineType: .pc, memory: MemoryOptions(size: 100 << 10)).ramSize == 106496)
        #expect(MemoryMap(machineType: .pc, memory: MemoryOptions(size: 0)).ramSize == 128 << 20)
        #expect(MemoryMap(machineType: .pc, memory: MemoryOptions()).deviceMemoryBase == nil)
    }

    @Test(arguments: [
        (MemoryOptions(size: 512 << 20, slots: 4), "slots specified but no max-size"),
        (
            MemoryOptions(size: 512 << 20, maxmem: 256 << 20),
            "invalid value of maxmem: maximum memory size (0x10000000) must be at least the initial memory size (0x20000000)"
        ),
        (
            MemoryOptions(size: 512 << 20, slots: 4, maxmem: 512 << 20),
            "invalid value of maxmem: memory slots were specified but maximum memory size (0x20000000) is equal to the initial memory size (0x20000000)"
        ),
        (MemoryOptions(size: 512 << 20, slots: 300, maxmem: 4 << 30), "unsupported amount of memory slots: 300"),
        (
            MemoryOptions(size: 512 << 20, slots: 4, maxmem: (4 << 30) + 1),
            "maximum memory size must by aligned to multiple of 4096 bytes"
        ),
    ])
    func startUpRefusals(memory: MemoryOptions, text: String) throws {
        #expect(MemoryMap.refusal(of: memory) == text)
        var configuration = MachineConfiguration()
        configuration.board.memory = memory
        #expect(throws: MachineConfigurationError(message: text)) { try MachineHarness(configuration: configuration) }
    }

    /// Sizes QEMU would refuse for the address width (not modelled) neither trap nor misplace.
    @Test func absurdMaxmemDoesNotOverflow() throws {
        let h = try Self.harness(memory: MemoryOptions(size: 512 << 20, slots: 256, maxmem: UInt64.max & ~0xFFF))
        #expect(h.machine.memoryMap.deviceMemoryRegionSize == UInt64.max)
        try Self.object(h, Self.backend("m1", 256 << 20))
        #expect(Self.add(h, Self.dimm("d1", "m1", [("addr", .uint(UInt64.max & ~0x1F_FFFF))])) != nil)
        #expect(Self.add(h, Self.dimm("d1", "m1")) == nil)
        #expect(Self.placed(h) == ["0@0x100000000 d1"])
    }

    @Test func ramSizeIsPCRAMsSize() throws {
        let h = try Self.harness()
        let sizes = (h.machine.queryMemdev().arrayValue ?? []).compactMap { $0.objectValue?["size"]?.unsigned }
        #expect(sizes == [512 << 20])
    }

    // MARK: device_add

    @Test func hotAddPlacesFirstFitAndRaisesTheMemoryGPE() throws {
        let h = try Self.harness()
        try Self.object(h, Self.backend("mem1", 256 << 20))
        try Self.object(h, Self.backend("mem2", 256 << 20))
        #expect(Self.add(h, Self.dimm("dimm1", "mem1")) == nil)
        #expect(Self.add(h, Self.dimm(nil, "mem2")) == nil)
        #expect(Self.placed(h) == ["0@0x100000000 dimm1", "1@0x110000000 -"])
        #expect(h.machine.acpi.gpe.status0 == GPE0Block.memoryHotplug)
        #expect(h.takeEvents().isEmpty)
        let first = h.machine.queryMemoryDevices().arrayValue?.first ?? .null
        #expect(
            first.jsonText
                == #"{"type": "dimm", "data": {"memdev": "/objects/mem1", "hotplugged": true, "addr": 4294967296, "hotpluggable": true, "size": 268435456, "slot": 0, "node": 0, "id": "dimm1"}}"#
        )
        #expect(try h.machine.qomGet("/machine/peripheral/dimm1", property: "addr").unsigned == 0x1_0000_0000)
        #expect(try h.machine.qomGet("/machine/peripheral/dimm1", property: "memdev").stringValue == "/objects/mem1")
        #expect(try h.machine.qomGet("/machine/peripheral/dimm1", property: "size").unsigned == 256 << 20)
    }

    /// `q35-mem-errors`, in the transcript's order, then the probed errors.
    @Test(arguments: ["7.2.0", "10.0.0"]) func errorsInQEMUsOrder(version: String) throws {
        let h = try Self.harness(version: version)
        try Self.object(h, Self.backend("m1", 256 << 20))
        try Self.object(h, Self.backend("m2", 1 << 20))
        try Self.object(h, Self.backend("m3", 4 << 30))
        try Self.object(h, Self.backend("m4", 256 << 20))
        #expect(Self.add(h, Self.dimm("d0", nil)) == "'memdev' property must be set")
        #expect(Self.add(h, Self.dimm("d0", "nope")) == "Device 'nope' not found")
        #expect(Self.add(h, Self.dimm("d1", "m1", [("slot", 4)])) == "invalid slot number 4, valid range is [0-3]")
        #expect(
            Self.add(h, Self.dimm("d1", "m3"))
                == "not enough space, currently 0x0 in use of total space for memory devices 0xe0000000"
        )
        #expect(Self.add(h, Self.dimm("d1", "m1", [("slot", 2)])) == nil)
        #expect(Self.add(h, Self.dimm("d2", "m1")) == "can't use already busy memdev: m1")
        #expect(Self.add(h, Self.dimm("d2", "m4", [("slot", 2)])) == "slot 2 is busy")
        #expect(
            Self.add(h, Self.dimm("d2", "m4", [("addr", .int(0x1_0000_0000))]))
                == "address range conflicts with memory device id='d1'"
        )
        #expect(Self.add(h, Self.dimm("d2", "m2")) == "backend memory size must be multiple of 0x200000")
        #expect(Self.add(h, Self.dimm("d2", "m4")) == nil)
        #expect(Self.placed(h) == ["2@0x100000000 d1", "0@0x110000000 d2"])
        // Probed on both versions.
        #expect(Self.add(h, Self.dimm("x", nil, [("slot", 4)])) == "invalid slot number 4, valid range is [0-3]")
        #expect(Self.add(h, Self.dimm("x", "m1", [("slot", -2)])) == "invalid slot number -2, valid range is [0-3]")
        #expect(Self.add(h, Self.dimm("x", "pc.ram")) == "can't use already busy memdev: pc.ram")
        try Self.object(h, Self.backend("m5", 256 << 20))
        #expect(
            Self.add(h, Self.dimm("x", "m5", [("addr", .int(0x1_0010_0000))]))
                == "address must be aligned to 0x200000 bytes"
        )
        #expect(
            Self.add(h, Self.dimm("x", "m5", [("addr", .int(0x1000_0000))]))
                == "can't add memory device [0x10000000:0x10000000], usable range for memory devices [0x100000000:0x1e0000000]"
        )
        // An unaligned size and an unaligned address: 10.0 names the size first.
        #expect(
            Self.add(h, Self.dimm("x", "m2", [("addr", .int(0x1_0010_0000))]))
                == (version == "7.2.0"
                    ? "address must be aligned to 0x200000 bytes" : "backend memory size must be multiple of 0x200000")
        )
        #expect(
            Self.add(h, Self.dimm("x", "m5", [("node", 1)]))
                == "'DIMM property node has value 1' which exceeds the number of numa nodes: 1"
        )
        #expect(Self.add(h, Self.dimm("x", "m5", [("bus", "pcie.0")])) == "Device 'pc-dimm' can't go on PCIE bus")
        #expect(Self.add(h, Self.dimm("d1", "m5")) == "Duplicate device ID 'd1'")
        #expect(Self.add(h, Self.dimm("x", "m5", [("foo", 1)])) == "Property 'pc-dimm.foo' not found")
        try h.machine.objectAdd(["qom-type": "iothread", "id": "io1"])
        #expect(Self.add(h, Self.dimm("x", "io1")) == "Invalid parameter type for 'memdev', expected: memory-backend")
        try Self.object(h, Self.backend("m6", 2 << 20))
        try Self.object(h, Self.backend("m7", 2 << 20))
        #expect(Self.add(h, Self.dimm("d5", "m5")) == nil)
        #expect(Self.add(h, Self.dimm("d6", "m6")) == nil)
        #expect(Self.add(h, Self.dimm("d7", "m7")) == "no free slots available")
        // A failed device_add lets its backend go.
        #expect(h.error { () throws(QMPError) in try h.machine.objectDel(id: "m7") } == nil)
    }

    @Test func withoutSlots() throws {
        for memory in [MemoryOptions(), MemoryOptions(size: 512 << 20, maxmem: 4 << 30)] {
            let h = try Self.harness(.pc, memory: memory)
            try Self.object(h, Self.backend("m1", 256 << 20))
            let noSlots = "no slots where allocated, please specify the 'slots' option"
            #expect(Self.add(h, Self.dimm("d1", "m1")) == noSlots)
            #expect(Self.add(h, Self.dimm("d1", nil)) == noSlots)
            #expect(
                Self.add(h, Self.dimm("d1", nil, [("slot", 0)]))
                    == "invalid slot number 0, valid range is [0-18446744073709551615]"
            )
            // No block at 0xa00, no DIMM slots in query-acpi-ospm-status.
            h.machine.ioWrite(port: 0xA00, size: 4, value: 0)
            #expect(h.machine.ioRead(port: 0xA14, size: 1) == 0xFF)
            #expect(h.machine.acpiOSPMStatus().isEmpty)
        }
    }

    @Test func fileAndMemfdBackendsAlignToPages() throws {
        let h = try Self.harness()
        try Self.object(h, ["qom-type": "memory-backend-file", "id": "f1", "size": .int(1 << 20), "mem-path": "/x"])
        try Self.object(h, Self.backend("f2", 3 << 20, type: "memory-backend-memfd"))
        try Self.object(h, Self.backend("r1", 4 << 20))
        #expect(Self.add(h, Self.dimm("a", "f1")) == nil)
        #expect(Self.add(h, Self.dimm("b", "f2")) == nil)
        #expect(Self.add(h, Self.dimm("c", "r1")) == nil)
        #expect(Self.placed(h) == ["0@0x100000000 a", "1@0x100100000 b", "2@0x100400000 c"])
    }

    // MARK: Registers, device_del, eject

    @Test func guestSeesTheDIMMAndEjectsIt() throws {
        let h = try Self.harness()
        try Self.object(h, Self.backend("mem1", 256 << 20))
        #expect(Self.add(h, Self.dimm("dimm1", "mem1")) == nil)
        let m = h.machine
        m.ioWrite(port: 0xA00, size: 4, value: 0)
        #expect(m.ioRead(port: 0xA14, size: 1) == 0x3)
        #expect(m.ioRead(port: 0xA04, size: 4) == 1)
        #expect(m.ioRead(port: 0xA08, size: 4) == 0x1000_0000)
        m.ioWrite(port: 0xA14, size: 1, value: 2)
        m.ioWrite(port: 0xA04, size: 4, value: 1)
        m.ioWrite(port: 0xA08, size: 4, value: 0)
        #expect(
            h.takeEvents() == [
                #"ACPI_DEVICE_OST {"info": {"device": "dimm1", "source": 1, "status": 0, "slot": "0", "slot-type": "DIMM"}}"#
            ]
        )
        #expect(
            h.error { () throws(QMPError) in try m.objectDel(id: "mem1") }
                == "object 'mem1' is in use, can not be deleted"
        )
        // device_del: REMOVING and the GPE, every time, never refused (q35: GPE0 at 0x620 once mapped).
        m.configWrite(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4, value: 0x600)
        m.configWrite(bus: 0, slot: 31, function: 0, offset: 0x44, size: 1, value: 0x80)
        m.ioWrite(port: 0x620, size: 1, value: 0xFF)
        for _ in 0..<2 {
            #expect(h.error { () throws(QMPError) in try m.deviceDel("dimm1") } == nil)
            #expect(m.ioRead(port: 0x620, size: 1) == UInt32(GPE0Block.memoryHotplug))
            m.ioWrite(port: 0x620, size: 1, value: 0xFF)
        }
        #expect(m.ioRead(port: 0xA14, size: 1) == 0x5)
        #expect(h.takeEvents().isEmpty)
        // system_reset changes nothing.
        m.systemReset()
        _ = h.takeEvents()
        #expect(m.ioRead(port: 0xA14, size: 1) == 0x5)
        m.ioWrite(port: 0xA14, size: 1, value: 8)
        #expect(h.takeEvents() == [#"DEVICE_DELETED {"device": "dimm1", "path": "/machine/peripheral/dimm1"}"#])
        #expect(m.ioRead(port: 0xA14, size: 1) == 0x4)  // the uncleared REMOVING stays
        m.ioWrite(port: 0xA04, size: 4, value: 3)
        m.ioWrite(port: 0xA08, size: 4, value: 0)
        #expect(
            h.takeEvents() == [
                #"ACPI_DEVICE_OST {"info": {"source": 3, "status": 0, "slot": "0", "slot-type": "DIMM"}}"#
            ]
        )
        #expect(Self.placed(h).isEmpty)
        #expect(h.error { () throws(QMPError) in try m.deviceDel("dimm1") } == "Device 'dimm1' not found")
        #expect(h.error { () throws(QMPError) in try m.objectDel(id: "mem1") } == nil)
        #expect(
            m.acpiOSPMStatus().map(\.json).map { JSONValue.object($0).jsonText }.first
                == #"{"source": 3, "status": 0, "slot": "0", "slot-type": "DIMM"}"#
        )
    }

    /// config/acpi-memory.yaml: 512 MiB, 4 slots, 4 GiB, dimm0 cold-plugged on mem0, mem1 free.
    @Test func exampleConfigurationLoads() throws {
        let text = try ConfigurationTests.read("\(ConfigurationTests.configDirectory)/acpi-memory.yaml")
        let h = try MachineHarness(configuration: try MachineConfiguration.load(yaml: text))
        #expect(
            h.machine.memoryMap
                == MemoryMap(machineType: .q35, memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30))
        )
        #expect(Self.placed(h) == ["0@0x100000000 dimm0"])
        #expect(Self.add(h, Self.dimm("dimm1", "mem1")) == nil)
        #expect(Self.placed(h) == ["0@0x100000000 dimm0", "1@0x110000000 dimm1"])
        let file = try ConfigurationFile.load(yaml: text)
        #expect(file.guestSection != nil)
    }

    @Test func coldPluggedDIMMFromTheConfiguration() throws {
        var configuration = MachineConfiguration(
            machineType: .pc,
            devices: [DeviceSpec(driver: "pc-dimm", id: "dimm0", bus: nil, properties: ["memdev": "mem0"])]
        )
        configuration.board.memory = MemoryOptions(size: 512 << 20, slots: 2, maxmem: 2 << 30)
        configuration.objects = [BackendEntry(Self.backend("mem0", 256 << 20), line: 1)]
        let h = try MachineHarness(configuration: configuration)
        #expect(Self.placed(h) == ["0@0x100000000 dimm0"])
        let data = h.machine.queryMemoryDevices().arrayValue?.first?.objectValue?["data"]?.objectValue
        #expect(data?["hotplugged"]?.boolValue == false)
        #expect(h.machine.acpi.gpe.status0 == 0)
        h.machine.ioWrite(port: 0xA00, size: 4, value: 0)
        #expect(h.machine.ioRead(port: 0xA14, size: 1) == 0x1)
    }
}

extension JSONValue {
    /// A non-negative integer, whichever case holds it.
    fileprivate var unsigned: UInt64? {
        switch self {
        case .int(let n) where n >= 0: UInt64(n)
        case .uint(let n): n
        default: nil
        }
    }
}
