import SimulatedMachine
import Testing

/// The memory hot-plug block's register rules (`acpi-hotplug.md` §6.2), on the block alone.
@Suite struct ACPIMemoryHotplugTests {
    static func dimm(slot: Int = 0, id: String? = "dimm1", hotplugged: Bool = true) -> PCDIMM {
        PCDIMM(
            id: id,
            path: id.map { "/machine/peripheral/\($0)" } ?? "/machine/peripheral-anon/device[0]",
            address: 0x1_0000_0000,
            size: 0x1000_0000,
            node: 0,
            slot: slot,
            memdev: "/objects/mem1",
            isHotplugged: hotplugged
        )
    }

    /// A block of four slots with `dimm1` hot-added in slot 0.
    static func plugged() -> ACPIMemoryHotplug {
        var block = ACPIMemoryHotplug(slots: 4)
        block.plug(dimm())
        return block
    }

    @Test func emptySlotReadsZerosAndOtherOffsetsAllOnes() {
        let block = ACPIMemoryHotplug(slots: 4)
        for offset in [0x0, 0x4, 0x8, 0xC, 0x10] { #expect(block.read(offset: offset, size: 4) == 0) }
        #expect(block.read(offset: 0x14, size: 1) == 0)
        #expect(block.read(offset: 0x15, size: 1) == 0xFF)
        #expect(block.read(offset: 0x16, size: 2) == 0xFFFF)
        #expect(block.read(offset: 0x2, size: 4) == 0xFFFF_FFFF)
    }

    @Test func occupiedSlotReportsAddressSizeNodeAndFlags() {
        let block = Self.plugged()
        #expect(block.read(offset: 0x0, size: 4) == 0)
        #expect(block.read(offset: 0x4, size: 4) == 1)
        #expect(block.read(offset: 0x8, size: 4) == 0x1000_0000)
        #expect(block.read(offset: 0xC, size: 4) == 0)
        #expect(block.read(offset: 0x10, size: 4) == 0)
        #expect(block.read(offset: 0x14, size: 1) == 0x3)  // ENABLED | INSERTING
        #expect(block.read(offset: 0x8, size: 1) == 0)  // truncated to the access
    }

    @Test func coldPluggedDIMMIsEnabledOnly() {
        var block = ACPIMemoryHotplug(slots: 2)
        block.plug(Self.dimm(slot: 1, hotplugged: false))
        _ = block.write(offset: 0, size: 4, value: 1)
        #expect(block.read(offset: 0x14, size: 1) == 0x1)
    }

    @Test func flagsWriteClearsInsertingFirstThenRemovingThenEjects() {
        var block = Self.plugged()
        block.requestUnplug(slot: 0)
        #expect(block.read(offset: 0x14, size: 1) == 0x7)
        // Bits 1 and 2 together: only INSERTING is cleared.
        #expect(block.write(offset: 0x14, size: 1, value: 0x6) == .none)
        #expect(block.read(offset: 0x14, size: 1) == 0x5)
        // Bits 2 and 3: REMOVING cleared, no eject.
        #expect(block.write(offset: 0x14, size: 1, value: 0xC) == .none)
        #expect(block.read(offset: 0x14, size: 1) == 0x1)
        #expect(block.write(offset: 0x14, size: 1, value: 0x8) == .eject(slot: 0))
    }

    @Test func ejectOfAnEmptySlotIsIgnoredAndUnplugKeepsTheOtherFlags() {
        var block = Self.plugged()
        _ = block.write(offset: 0, size: 4, value: 1)
        #expect(block.write(offset: 0x14, size: 1, value: 0x8) == .none)
        _ = block.write(offset: 0, size: 4, value: 0)
        block.requestUnplug(slot: 0)
        block.unplug(slot: 0)
        #expect(block.read(offset: 0x14, size: 1) == 0x6)  // INSERTING and REMOVING stay
        #expect(block.read(offset: 0x4, size: 4) == 0)
        #expect(block.slots[0].dimm == nil)
    }

    @Test func ostStatusWriteReportsTheStoredEventAndTheDevice() {
        var block = Self.plugged()
        #expect(block.write(offset: 0x4, size: 4, value: 1) == .none)
        #expect(block.write(offset: 0x8, size: 4, value: 0) == .ost(slot: 0))
        #expect(
            block.ostInfo(slot: 0) == ACPIOSTInfo(device: "dimm1", slot: "0", slotType: .dimm, source: 1, status: 0)
        )
        block.unplug(slot: 0)
        // `device` only while a DIMM is there; the values stay.
        #expect(block.ostInfo(slot: 0) == ACPIOSTInfo(device: nil, slot: "0", slotType: .dimm, source: 1, status: 0))
        var anonymous = ACPIMemoryHotplug(slots: 1)
        anonymous.plug(Self.dimm(id: nil))
        #expect(anonymous.ostInfo(slot: 0).device == nil)
    }

    @Test func selectorBeyondTheSlotsReadsZeroAndIgnoresWrites() {
        var block = Self.plugged()
        _ = block.write(offset: 0, size: 4, value: 4)
        #expect(block.selector == 4)
        for offset in [0x0, 0x4, 0x14, 0x15, 0x16] { #expect(block.read(offset: offset, size: 1) == 0) }
        #expect(block.write(offset: 0x8, size: 4, value: 0) == .none)
        #expect(block.write(offset: 0x14, size: 1, value: 0x8) == .none)
        _ = block.write(offset: 0, size: 4, value: 0)
        #expect(block.slots[0].ostStatus == 0)
        #expect(block.read(offset: 0x14, size: 1) == 0x3)
    }

    @Test func blockWithoutSlotsIgnoresEverything() {
        var block = ACPIMemoryHotplug(slots: 0)
        #expect(block.write(offset: 0, size: 4, value: 0) == .none)
        #expect(block.read(offset: 0x14, size: 1) == 0)
    }

    @Test func otherOffsetsIgnoreWrites() {
        var block = Self.plugged()
        for offset in [0x1, 0xC, 0x10, 0x15] { #expect(block.write(offset: offset, size: 1, value: 0xFF) == .none) }
        #expect(block == Self.plugged())
    }
}
