import QMPWire
import SimulatedMachine
import Testing

/// The ACPI CPU hot-plug block's register rules, one test per rule (`acpi-hotplug.md` §5.2, §5.3).
@Suite struct ACPICPUHotplugTests {
    /// Four possible CPUs (APIC ids 0–3), the boot CPU present, modern unless `legacy`.
    static func block(legacy: Bool = false) -> ACPICPUHotplug {
        var block = ACPICPUHotplug(apicIDs: [0, 1, 2, 3])
        _ = block.plug(index: 0, hotplugged: false)
        if !legacy { _ = block.write(offset: 0, size: 4, value: 0) }
        return block
    }

    @Test func legacyBitmapShowsPresentAPICIDs() {
        var b = Self.block(legacy: true)
        #expect(b.length == 32)
        #expect(b.read(offset: 0, size: 1) == 0x1)
        do {
            let r = b.plug(index: 1, hotplugged: true)
            #expect(r)
        }
        #expect(b.read(offset: 0, size: 1) == 0x3)
        #expect(b.read(offset: 1, size: 1) == 0)
        #expect(b.read(offset: 0, size: 4) == 0x3)
        // Legacy hot-adds are not "inserting".
        #expect(!b.slots[1].isInserting)
    }

    @Test func onlyZeroAtByteZeroSwitches() {
        var b = Self.block(legacy: true)
        do {
            let r = b.write(offset: 0, size: 1, value: 5)
            #expect(r == .none)
        }
        do {
            let r = b.write(offset: 1, size: 1, value: 0)
            #expect(r == .none)
        }
        #expect(!b.isModern)
        do {
            let r = b.write(offset: 0, size: 4, value: 0x100)
            #expect(r == .switchedToModern)
        }
        #expect(b.isModern && b.length == 12)
    }

    @Test func modernFlagsAndCPUID() {
        var b = Self.block()
        do {
            let r = b.plug(index: 2, hotplugged: true)
            #expect(r)
        }
        _ = b.write(offset: 0, size: 4, value: 2)
        #expect(b.read(offset: 4, size: 1) == 0x3)
        #expect(b.read(offset: 4, size: 4) == 0x3)
        _ = b.write(offset: 5, size: 1, value: 3)
        #expect(b.read(offset: 8, size: 4) == 2)
        #expect(b.read(offset: 0, size: 4) == 0)
        // INSERTING is cleared by writing bit 1; bit 1 wins over the others.
        _ = b.write(offset: 4, size: 1, value: 0x0A)
        #expect(b.read(offset: 4, size: 1) == 0x1)
    }

    @Test func flagWritesTakeTheFirstMatchingBit() {
        var b = Self.block()
        _ = b.plug(index: 1, hotplugged: true)
        b.requestUnplug(index: 1)
        _ = b.write(offset: 0, size: 4, value: 1)
        #expect(b.read(offset: 4, size: 1) == 0x7)
        do {
            let r = b.write(offset: 4, size: 1, value: 0x0C)
            #expect(r == .none)
        }
        #expect(b.read(offset: 4, size: 1) == 0x3)
        do {
            let r = b.write(offset: 4, size: 1, value: 0x08)
            #expect(r == .eject(index: 1))
        }
        do {
            let r = b.write(offset: 4, size: 1, value: 0x10)
            #expect(r == .none)
        }
        #expect(b.read(offset: 4, size: 1) == 0x13)
    }

    @Test func ejectIgnoresTheBootCPUAndEmptySlots() {
        var b = Self.block()
        _ = b.write(offset: 0, size: 4, value: 0)
        do {
            let r = b.write(offset: 4, size: 1, value: 8)
            #expect(r == .none)
        }
        _ = b.write(offset: 0, size: 4, value: 3)
        do {
            let r = b.write(offset: 4, size: 1, value: 8)
            #expect(r == .none)
        }
        do {
            let r = b.write(offset: 4, size: 1, value: 0x10)
            #expect(r == .none)
        }
        #expect(b.read(offset: 4, size: 1) == 0)
    }

    @Test func getNextCPUWithEventWraps() {
        var b = Self.block()
        _ = b.plug(index: 1, hotplugged: true)
        _ = b.write(offset: 0, size: 4, value: 2)
        _ = b.write(offset: 5, size: 1, value: 0)
        #expect(b.read(offset: 8, size: 4) == 1)
        #expect(b.selector == 1)
        // No event anywhere: the selector stays.
        _ = b.write(offset: 4, size: 1, value: 2)
        _ = b.write(offset: 0, size: 4, value: 3)
        _ = b.write(offset: 5, size: 1, value: 0)
        #expect(b.read(offset: 8, size: 4) == 3)
    }

    @Test func ostReportsOnStatus() {
        var b = Self.block()
        _ = b.write(offset: 0, size: 4, value: 2)
        _ = b.write(offset: 5, size: 1, value: 1)
        do {
            let r = b.write(offset: 8, size: 4, value: 3)
            #expect(r == .none)
        }
        _ = b.write(offset: 5, size: 1, value: 2)
        do {
            let r = b.write(offset: 8, size: 4, value: 0x84)
            #expect(r == .ost(index: 2))
        }
        #expect(b.slots[2].ostEvent == 3 && b.slots[2].ostStatus == 0x84)
        // Commands 4 and up are ignored: the command stays OST_STATUS.
        _ = b.write(offset: 5, size: 1, value: 4)
        #expect(b.command == 2)
    }

    @Test func selectorBeyondThePossibleCPUs() {
        var b = Self.block()
        _ = b.write(offset: 0, size: 4, value: 4)
        #expect(b.read(offset: 4, size: 1) == 0)
        #expect(b.read(offset: 8, size: 4) == 0)
        do {
            let r = b.write(offset: 4, size: 1, value: 8)
            #expect(r == .none)
        }
        do {
            let r = b.write(offset: 5, size: 1, value: 3)
            #expect(r == .none)
        }
        #expect(b.command == 0)
    }

    @Test func ejectKeepsTheOtherFlags() {
        var b = Self.block()
        _ = b.plug(index: 1, hotplugged: true)
        b.requestUnplug(index: 1)
        b.unplugged(index: 1)
        #expect(b.slots[1].flags == 0x6)
    }
}
