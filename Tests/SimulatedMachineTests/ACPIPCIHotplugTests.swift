import QMPWire
import SimulatedMachine
import Testing

/// ACPI PCI hot-plug (`acpi-hotplug.md` §4): the register block, bsel numbers, the flows, each rule as the
/// transcripts `acpi-q35-pci-*` and `acpi-pc-pci-*` of QEMU 7.2 and 10.0 show it.
@Suite struct ACPIPCIHotplugTests {
    static let q35Base: UInt16 = 0xCC0
    static let pcBase: UInt16 = 0xAE00

    /// The spec's q35 topology: rp1, rp2, rp3 (hotplug=off), rp4 with cold1; QEMU's default board.
    static let q35 = MachineConfiguration(
        machineType: .q35,
        devices: [
            DeviceSpec(driver: "pcie-root-port", id: "rp1", bus: "pcie.0", properties: ["chassis": 1, "addr": "0x2"]),
            DeviceSpec(driver: "pcie-root-port", id: "rp2", bus: "pcie.0", properties: ["chassis": 2, "addr": "0x3"]),
            DeviceSpec(
                driver: "pcie-root-port",
                id: "rp3",
                bus: "pcie.0",
                properties: ["chassis": 3, "addr": "0x4", "hotplug": false]
            ),
            DeviceSpec(driver: "pcie-root-port", id: "rp4", bus: "pcie.0", properties: ["chassis": 4, "addr": "0x5"]),
            DeviceSpec(driver: "virtio-rng-pci", id: "cold1", bus: "rp4"),
        ]
    )

    /// The spec's pc topology: pb1 on pci.0 slot 7 with cold2 at slot 3.
    static func pc(_ globals: [GlobalProperty] = []) -> MachineConfiguration {
        var configuration = MachineConfiguration(
            machineType: .pc,
            devices: [
                DeviceSpec(
                    driver: "pci-bridge",
                    id: "pb1",
                    bus: "pci.0",
                    properties: ["chassis_nr": 1, "addr": "0x7"]
                ),
                DeviceSpec(driver: "virtio-rng-pci", id: "cold2", bus: "pb1", properties: ["addr": "0x3"]),
            ]
        )
        configuration.board = BoardOptions(globals: globals)
        return configuration
    }

    func add(_ h: MachineHarness, _ args: JSONObject) -> String? {
        h.error { () throws(QMPError) in try h.machine.deviceAdd(args) }
    }

    func del(_ h: MachineHarness, _ id: String) -> String? {
        h.error { () throws(QMPError) in try h.machine.deviceDel(id) }
    }

    func bsel(_ h: MachineHarness, _ path: String) -> String {
        do throws(QMPError) {
            return try h.machine.qomGet(path, property: "acpi-pcihp-bsel").jsonText
        } catch {
            return error.desc
        }
    }

    /// SEL = bsel, then a register.
    func read(_ h: MachineHarness, base: UInt16, bsel: UInt32, _ offset: UInt16) -> UInt32 {
        h.machine.ioWrite(port: base + 0x10, size: 4, value: bsel)
        return h.machine.ioRead(port: base + offset, size: 4)
    }

    func eject(_ h: MachineHarness, base: UInt16, bsel: UInt32, slot: Int) {
        h.machine.ioWrite(port: base + 0x10, size: 4, value: bsel)
        h.machine.ioWrite(port: base + 0x8, size: 4, value: 1 << UInt32(slot))
    }

    static let hp1Deleted = [
        #"DEVICE_DELETED {"path": "/machine/peripheral/hp1/virtio-backend"}"#,
        #"DEVICE_DELETED {"device": "hp1", "path": "/machine/peripheral/hp1"}"#,
    ]

    @Test(arguments: ["7.2.0", "10.0.0"])
    func q35BusNumbersDepthFirstNewestFirst(version: String) throws {
        let h = try MachineHarness(version: version, configuration: Self.q35)
        #expect(bsel(h, "/machine/q35/pcie.0") == "Property 'PCIE.acpi-pcihp-bsel' not found")
        #expect(bsel(h, "/machine/peripheral/rp4/rp4") == "0")
        #expect(bsel(h, "/machine/peripheral/rp3/rp3") == "Property 'PCIE.acpi-pcihp-bsel' not found")
        #expect(bsel(h, "/machine/peripheral/rp2/rp2") == "1")
        #expect(bsel(h, "/machine/peripheral/rp1/rp1") == "2")
        #expect(try h.machine.qomGet("/machine", property: "acpi-device") == "/machine/unattached/device[2]")
        #expect(try h.machine.qomGet("/machine/unattached/device[2]", property: "acpi-pcihp-io-base") == 3264)
        #expect(try h.machine.qomGet("/machine/unattached/device[2]", property: "gpe0_blk") == 32)
    }

    @Test func registersAtRestAndAccessRules() throws {
        let h = try MachineHarness(configuration: Self.q35)
        let b = Self.q35Base
        #expect([0, 4, 8, 0xC, 0x10, 0x14].map { h.machine.ioRead(port: b + $0, size: 4) } == [0, 0, 0, ~0, 0, 0])
        #expect(read(h, base: b, bsel: 2, 0x10) == 2)
        // SEL >= 256: every read is 0, SEL itself included.
        #expect(read(h, base: b, bsel: 0x100, 0x10) == 0)
        #expect(h.machine.ioRead(port: b + 0xC, size: 4) == 0)
        // Only 4-byte accesses: narrower reads give 0, a byte write is ignored.
        h.machine.ioWrite(port: b + 0x10, size: 4, value: 2)
        #expect(h.machine.ioRead(port: b + 0x10, size: 1) == 0)
        #expect(h.machine.ioRead(port: b + 0x10, size: 2) == 0)
        h.machine.ioWrite(port: b + 0x10, size: 1, value: 7)
        #expect(h.machine.ioRead(port: b + 0x10, size: 4) == 2)
    }

    @Test func nativeGlobalLeavesNoBlock() throws {
        var configuration = Self.q35
        configuration.board = .nativePCIHotplug(.q35)
        let h = try MachineHarness(configuration: configuration)
        #expect(h.machine.ioRead(port: Self.q35Base, size: 4) == 0xFFFF_FFFF)
        #expect(bsel(h, "/machine/peripheral/rp1/rp1") == "Property 'PCIE.acpi-pcihp-bsel' not found")
    }

    @Test func hotAddPowersTheSlotSetsUpAndGPEWithoutEvents() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        #expect(try h.machine.slotRegisters(port: "rp1").slotControl == 0x7C0)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"]) == nil)
        let slot = try h.machine.slotRegisters(port: "rp1")
        #expect(slot.slotControl == 0x3C0)
        #expect(slot.slotStatus == 0)
        #expect(h.machine.acpi.gpe.status0 == 0x02)
        #expect(h.takeEvents() == [])
        // UP is read-to-clear.
        #expect(read(h, base: Self.q35Base, bsel: 2, 0) == 1)
        #expect(h.machine.ioRead(port: Self.q35Base, size: 4) == 0)
        #expect(
            h.error { () throws(QMPError) in _ = try h.machine.queryHotplug("hp1") }
                == "Hotplug state is not available for 'hp1'"
        )
    }

    @Test func removalWaitsForTheEjectAndIsGuardedAtClockZero() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        h.machine.ioWrite(port: Self.q35Base + 0x10, size: 4, value: 2)
        _ = h.machine.ioRead(port: Self.q35Base, size: 4)
        #expect(del(h, "hp1") == nil)
        #expect(del(h, "hp1") == "Device hp1 is already in the process of unplug")
        #expect(
            del(h, "/machine/peripheral/hp1") == "Device /machine/peripheral/hp1 is already in the process of unplug"
        )
        #expect(read(h, base: Self.q35Base, bsel: 2, 4) == 1)
        #expect(h.machine.ioRead(port: Self.q35Base + 4, size: 4) == 1)  // not cleared by reading
        #expect(h.machine.pendingUnplugs().count == 1)
        #expect(h.takeEvents() == [])
        eject(h, base: Self.q35Base, bsel: 2, slot: 0)
        #expect(h.takeEvents() == Self.hp1Deleted)
        #expect(h.machine.ioRead(port: Self.q35Base + 4, size: 4) == 0)
        #expect(del(h, "hp1") == "Device 'hp1' not found")
        // Re-add, then the guest ejects on its own; a cold-plugged device goes the same way.
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"]) == nil)
        eject(h, base: Self.q35Base, bsel: 2, slot: 0)
        #expect(h.takeEvents() == Self.hp1Deleted)
        eject(h, base: Self.q35Base, bsel: 0, slot: 0)
        #expect(h.takeEvents().count == 2)
    }

    @Test func onceTheVMRanARepeatedRequestIsAccepted() throws {
        let h = try MachineHarness(version: "10.0.0", paused: false, configuration: Self.q35)
        h.advance(seconds: 0.5)
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        #expect(del(h, "hp1") == nil)
        h.machine.ioWrite(port: 0x620, size: 1, value: 0)  // GPE0 unmapped: nothing happens
        #expect(del(h, "hp1") == nil)
        h.machine.stop()
        #expect(del(h, "hp1") == nil)
        #expect(h.machine.pendingUnplugs().count == 1)
    }

    @Test func ejectRules() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        eject(h, base: Self.q35Base, bsel: 2, slot: 0)  // empty slot
        eject(h, base: Self.q35Base, bsel: 200, slot: 0)  // no such bus
        eject(h, base: Self.q35Base, bsel: 0x100, slot: 0)
        #expect(h.takeEvents() == [])
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp2", "bus": "rp2"])
        h.machine.ioWrite(port: Self.q35Base + 0x10, size: 4, value: 2)
        h.machine.ioWrite(port: Self.q35Base + 0x8, size: 4, value: 3)  // lowest bit only
        #expect(h.takeEvents() == Self.hp1Deleted)
        h.machine.ioWrite(port: Self.q35Base + 0x10, size: 4, value: 1)
        h.machine.ioWrite(port: Self.q35Base + 0x8, size: 4, value: 0x8000_0000)
        h.machine.ioWrite(port: Self.q35Base + 0x8, size: 4, value: 0)
        #expect(h.takeEvents() == [])
    }

    @Test func resetCarriesOutPendingRemovalsAfterTheReply() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp1", "bus": "rp1"])
        _ = add(h, ["driver": "virtio-rng-pci", "id": "hp2", "bus": "rp2"])
        _ = del(h, "hp1")
        h.machine.systemReset()
        #expect(h.takeEvents() == [#"RESET {"guest": false, "reason": "host-qmp-system-reset"}"#])
        h.machine.flushDeferredEvents()
        #expect(h.takeEvents() == Self.hp1Deleted)
        #expect(h.machine.acpi.gpe.status0 == 0)
        #expect(read(h, base: Self.q35Base, bsel: 2, 4) == 0)
        #expect(read(h, base: Self.q35Base, bsel: 1, 0) == 1)  // hp2's insert survives
        #expect(bsel(h, "/machine/peripheral/rp1/rp1") == "2")
    }

    @Test func multifunctionSlotAndHotAddedBridge() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        _ = add(h, ["driver": "virtio-rng-pci", "id": "f1", "bus": "rp2", "addr": "0.1"])
        _ = add(h, ["driver": "pci-testdev", "id": "f0", "bus": "rp2", "addr": "0.0", "multifunction": true])
        #expect(read(h, base: Self.q35Base, bsel: 1, 0) == 1)
        #expect(del(h, "f1") == nil)
        #expect(h.machine.ioRead(port: Self.q35Base + 4, size: 4) == 1)
        eject(h, base: Self.q35Base, bsel: 1, slot: 0)
        #expect(
            h.takeEvents() == [
                #"DEVICE_DELETED {"device": "f0", "path": "/machine/peripheral/f0"}"#,
                #"DEVICE_DELETED {"path": "/machine/peripheral/f1/virtio-backend"}"#,
                #"DEVICE_DELETED {"device": "f1", "path": "/machine/peripheral/f1"}"#,
            ]
        )
        #expect(add(h, ["driver": "pcie-pci-bridge", "id": "hb", "bus": "rp1"]) == nil)
        #expect(bsel(h, "/machine/peripheral/hb/hb") == "Property 'PCI.acpi-pcihp-bsel' not found")
        #expect(add(h, ["driver": "pci-testdev", "id": "hb_c3", "bus": "hb", "addr": "3"]) == nil)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "hb_c1", "bus": "hb", "addr": "1"]) == nil)
        _ = h.takeEvents()
        #expect(del(h, "hb") == nil)
        eject(h, base: Self.q35Base, bsel: 2, slot: 0)
        #expect(
            h.takeEvents() == [
                #"DEVICE_DELETED {"path": "/machine/peripheral/hb_c1/virtio-backend"}"#,
                #"DEVICE_DELETED {"device": "hb_c1", "path": "/machine/peripheral/hb_c1"}"#,
                #"DEVICE_DELETED {"device": "hb_c3", "path": "/machine/peripheral/hb_c3"}"#,
                #"DEVICE_DELETED {"device": "hb", "path": "/machine/peripheral/hb"}"#,
            ]
        )
    }

    @Test func errors() throws {
        for version in ["7.2.0", "10.0.0"] {
            let h = try MachineHarness(version: version, configuration: Self.q35)
            #expect(
                add(h, ["driver": "virtio-rng-pci", "id": "e1", "bus": "pcie.0"])
                    == "Bus 'pcie.0' does not support hotplugging"
            )
            #expect(
                add(h, ["driver": "virtio-rng-pci", "id": "e2", "bus": "rp3"])
                    == "Bus 'rp3' does not support hotplugging"
            )
            #expect(del(h, "rp1") == "Bus 'pcie.0' does not support hotplugging")
            let second = add(h, ["driver": "virtio-rng-pci", "id": "e4", "bus": "rp4"])
            if version == "7.2.0" {
                #expect(second == nil)
                #expect(read(h, base: Self.q35Base, bsel: 0, 0) == 2)  // slot 1
            } else {
                #expect(
                    second
                        == "PCI: slot 0 function 0 already occupied by virtio-rng-pci, new func virtio-rng-pci cannot be exposed to guest."
                )
            }
        }
    }

    @Test func acpiIndexChecksAndTheAIDXLatch() throws {
        let h = try MachineHarness(version: "7.2.0", configuration: Self.q35)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "n1", "bus": "rp1", "acpi-index": 5]) == nil)
        #expect(
            add(h, ["driver": "virtio-rng-pci", "id": "n2", "bus": "rp2", "acpi-index": 5])
                == "a PCI device with acpi-index = 5 already exist"
        )
        #expect(
            add(h, ["driver": "virtio-rng-pci", "id": "n3", "bus": "rp2", "acpi-index": 16384])
                == "acpi-index should be less or equal to 16383"
        )
        let b = Self.q35Base
        h.machine.ioWrite(port: b + 0x10, size: 4, value: 2)
        h.machine.ioWrite(port: b + 0x14, size: 4, value: 1)
        #expect(h.machine.ioRead(port: b + 0x14, size: 4) == 5)
        #expect(h.machine.ioRead(port: b + 0x14, size: 4) == 0)
        h.machine.ioWrite(port: b + 0x14, size: 4, value: 1)
        h.machine.ioWrite(port: b + 0x10, size: 4, value: 2)  // any write clears the latch
        #expect(h.machine.ioRead(port: b + 0x14, size: 4) == 0)
        _ = del(h, "n1")
        eject(h, base: b, bsel: 2, slot: 0)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "n2", "bus": "rp2", "acpi-index": 5]) == nil)
    }

    @Test(arguments: ["7.2.0", "10.0.0"])
    func pcRootBusAndColdBridge(version: String) throws {
        let h = try MachineHarness(version: version, configuration: Self.pc())
        #expect(bsel(h, "/machine/i440fx/pci.0") == "0")
        #expect(bsel(h, "/machine/peripheral/pb1/pb1") == "1")
        #expect(read(h, base: Self.pcBase, bsel: 0, 0xC) == 0xFFFF_FF7C)
        #expect(read(h, base: Self.pcBase, bsel: 1, 0xC) == 0xFFFF_FFFF)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "r0", "bus": "pci.0"]) == nil)
        #expect(try h.machine.qomGet("/machine/peripheral/r0", property: "addr") == 16)
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "s1", "bus": "pb1", "addr": "1"]) == nil)
        #expect(h.machine.ioRead(port: 0xAFE0, size: 1) == 0x02)
        #expect(read(h, base: Self.pcBase, bsel: 0, 0) == 0x4)
        #expect(read(h, base: Self.pcBase, bsel: 1, 0) == 0x2)
        // The cold-plugged bridge: its removal is requested, but an eject only clears DOWN.
        #expect(del(h, "pb1") == nil)
        #expect(read(h, base: Self.pcBase, bsel: 0, 4) == 0x80)
        eject(h, base: Self.pcBase, bsel: 0, slot: 7)
        #expect(h.takeEvents() == [])
        #expect(h.machine.ioRead(port: Self.pcBase + 4, size: 4) == 0)
        #expect(del(h, "pb1") == "Device pb1 is already in the process of unplug")
    }

    @Test func pcBridgeSupportOffIsPIIXLegacyMode() throws {
        let off = [GlobalProperty(driver: "PIIX4_PM", property: "acpi-pci-hotplug-with-bridge-support", value: "off")]
        for version in ["7.2.0", "10.0.0"] {
            let h = try MachineHarness(version: version, configuration: Self.pc(off))
            #expect(bsel(h, "/machine/i440fx/pci.0") == "0")
            #expect(
                bsel(h, "/machine/peripheral/pb1/pb1")
                    == (version == "7.2.0" ? "1" : "Property 'PCI.acpi-pcihp-bsel' not found")
            )
            #expect(add(h, ["driver": "virtio-rng-pci", "id": "r0", "bus": "pci.0", "addr": "0x5"]) == nil)
            #expect(read(h, base: Self.pcBase, bsel: 3, 0x10) == 0)  // SEL forced to 0
            #expect(h.machine.ioRead(port: Self.pcBase, size: 4) == 0x20)
            #expect(h.machine.ioRead(port: Self.pcBase, size: 4) == 0x20)  // UP not cleared by reading
            // Behind pb1: its SHPC (a slot never enabled is emptied at once).
            #expect(add(h, ["driver": "virtio-rng-pci", "id": "s1", "bus": "pb1", "addr": "1"]) == nil)
            #expect(try h.machine.shpcRegisters(bridge: "pb1").slotState(1) != nil)
        }
    }

    @Test func pcRootHotplugOff() throws {
        let off = [GlobalProperty(driver: "PIIX4_PM", property: "acpi-root-pci-hotplug", value: "off")]
        let h = try MachineHarness(version: "7.2.0", configuration: Self.pc(off))
        #expect(bsel(h, "/machine/i440fx/pci.0") == "Property 'PCI.acpi-pcihp-bsel' not found")
        #expect(bsel(h, "/machine/peripheral/pb1/pb1") == "0")
        #expect(
            add(h, ["driver": "virtio-rng-pci", "id": "r0", "bus": "pci.0"])
                == "Bus 'pci.0' does not support hotplugging"
        )
        #expect(add(h, ["driver": "virtio-rng-pci", "id": "s1", "bus": "pb1", "addr": "1"]) == nil)
        #expect(del(h, "pb1") == "Bus 'pci.0' does not support hotplugging")
        #expect(del(h, "s1") == nil)
        #expect(read(h, base: Self.pcBase, bsel: 0, 0) == 2)
        #expect(h.machine.ioRead(port: Self.pcBase + 4, size: 4) == 2)
        eject(h, base: Self.pcBase, bsel: 0, slot: 1)
        #expect(h.takeEvents().count == 2)
    }
}
