/// QEMU's ACPI CPU hot-plug interface (`hw/acpi/cpu_hotplug.c`, `hw/acpi/cpu.c`): the legacy 32-byte
/// bitmap of present APIC ids at 0xcd8 (q35) or 0xaf00 (pc), switched for good to the modern 12-byte
/// block by a write of 0 to its first byte (`acpi-hotplug.md` §5.2, §5.3).
///
/// Modelled at register level because the guest (and a test through `guest-read`/`guest-write`) drives
/// CPU hot-plug only through these registers: selector, FLAGS, COMMAND and DATA per possible CPU. The
/// block keeps the per-slot flags; the machine owns the CPU devices and acts on the block's
/// ``ACPICPUHotplugEffect``s (unplug on `_EJ0`, `ACPI_DEVICE_OST` on `_OST`). Reads have no side effects.
public struct ACPICPUHotplug: Sendable, Equatable {
    /// The block's base on q35.
    public static let q35Base: UInt16 = 0x0CD8
    /// The block's base on pc.
    public static let pcBase: UInt16 = 0xAF00
    /// The legacy bitmap's length.
    public static let legacyLength = 32
    /// The modern block's length.
    public static let modernLength = 12

    /// Modern offset 0x0: SELECTOR (write), DATA2 (read).
    public static let selectorOffset = 0
    /// Modern offset 0x4: FLAGS.
    public static let flagsOffset = 4
    /// Modern offset 0x5: COMMAND (write).
    public static let commandOffset = 5
    /// Modern offset 0x8: DATA.
    public static let dataOffset = 8

    /// COMMAND 0: move the selector to the next CPU with an event.
    public static let getNextCPUWithEvent: UInt8 = 0
    /// COMMAND 1: DATA writes set the `_OST` event.
    public static let ostEventCommand: UInt8 = 1
    /// COMMAND 2: DATA writes set the `_OST` status and report it.
    public static let ostStatusCommand: UInt8 = 2
    /// COMMAND 3: DATA and DATA2 read the selected CPU's APIC id.
    public static let getCPUID: UInt8 = 3

    /// Whether the guest switched to the modern interface (survives `system_reset`).
    public var isModern = false
    /// Every possible CPU, by index (APIC-id order).
    public internal(set) var slots: [ACPICPUSlot]
    /// The possible-CPU index the modern registers address.
    public internal(set) var selector: UInt32 = 0
    /// The last accepted COMMAND.
    public internal(set) var command: UInt8 = 0

    /// The block's length now.
    public var length: Int { isModern ? Self.modernLength : Self.legacyLength }

    /// A block in legacy mode for possible CPUs with these APIC ids, none present.
    public init(apicIDs: [UInt32] = [0]) {
        slots = apicIDs.map { ACPICPUSlot(apicID: $0) }
    }

    // MARK: Registers

    /// A read of `size` bytes at `offset`.
    public func read(offset: Int, size: Int) -> UInt32 {
        let mask: UInt64 = size >= 4 ? 0xFFFF_FFFF : (1 << UInt64(size * 8)) - 1
        guard isModern else {
            // Byte accesses: a wider read gathers consecutive bitmap bytes.
            var value: UInt32 = 0
            for i in 0..<size { value |= UInt32(legacyByte(offset + i)) << (i * 8) }
            return value
        }
        guard Int(selector) < slots.count else { return 0 }
        let slot = slots[Int(selector)]
        let value: UInt64
        switch offset {
        // DATA2: the APIC id's high half under GET_CPU_ID, which is 0 for x86's 32-bit APIC ids.
        case Self.selectorOffset: value = 0
        case Self.flagsOffset: value = UInt64(slot.flags)
        case Self.dataOffset:
            switch command {
            case Self.getNextCPUWithEvent: value = UInt64(selector)
            case Self.getCPUID: value = UInt64(slot.apicID)
            default: value = 0
            }
        default: value = 0
        }
        return UInt32(truncatingIfNeeded: value & mask)
    }

    /// Legacy byte `i`: bit j set when the CPU with APIC id 8i+j is present.
    func legacyByte(_ i: Int) -> UInt8 {
        var byte: UInt8 = 0
        for slot in slots where slot.isPresent && Int(slot.apicID) / 8 == i { byte |= 1 << (slot.apicID % 8) }
        return byte
    }

    /// A guest write of `size` bytes at `offset`; returns what the machine must do beyond the registers.
    public mutating func write(offset: Int, size: Int, value: UInt32) -> ACPICPUHotplugEffect {
        let mask: UInt32 = size >= 4 ? 0xFFFF_FFFF : (1 << UInt32(size * 8)) - 1
        let data = value & mask
        guard isModern else {
            // Split into bytes; only a 0 written to byte 0 does anything.
            if offset == 0 && data & 0xFF == 0 {
                isModern = true
                return .switchedToModern
            }
            return .none
        }
        if offset == Self.selectorOffset {
            selector = data
            return .none
        }
        let index = Int(selector)
        guard index < slots.count else { return .none }
        switch offset {
        case Self.flagsOffset:
            if data & UInt32(ACPICPUSlot.insertingFlag) != 0 {
                slots[index].isInserting = false
            } else if data & UInt32(ACPICPUSlot.removingFlag) != 0 {
                slots[index].isRemoving = false
            } else if data & UInt32(ACPICPUSlot.ejectFlag) != 0 {
                guard slots[index].isPresent, index != 0 else { return .none }
                return .eject(index: index)
            } else if data & UInt32(ACPICPUSlot.firmwareRemoveFlag) != 0 {
                guard slots[index].isPresent, index != 0 else { return .none }
                slots[index].isFirmwareRemoving = true
            }
        case Self.commandOffset:
            guard data < 4 else { return .none }
            command = UInt8(data)
            if command == Self.getNextCPUWithEvent {
                // From the selector upward, wrapping; the selector stays when no CPU has an event.
                var i = index
                repeat {
                    if slots[i].hasEvent {
                        selector = UInt32(i)
                        break
                    }
                    i = i + 1 < slots.count ? i + 1 : 0
                } while i != index
            }
        case Self.dataOffset:
            switch command {
            case Self.ostEventCommand: slots[index].ostEvent = data
            case Self.ostStatusCommand:
                slots[index].ostStatus = data
                return .ost(index: index)
            default: break
            }
        default: break
        }
        return .none
    }

    // MARK: The machine's side

    /// A CPU was plugged at `index`: present; a hot-plugged one in modern mode is also inserting.
    /// Returns whether QEMU raises the CPU hot-plug GPE (every hot-plug, legacy or modern).
    public mutating func plug(index: Int, hotplugged: Bool) -> Bool {
        guard index < slots.count else { return false }
        slots[index].isPresent = true
        if hotplugged && isModern { slots[index].isInserting = true }
        return hotplugged
    }

    /// `device_del` of the CPU at `index` (modern mode): removing, and the GPE is raised.
    public mutating func requestUnplug(index: Int) {
        guard index < slots.count else { return }
        slots[index].isRemoving = true
    }

    /// The CPU at `index` is gone: not present; its other flags stay as they were (QEMU's eject).
    public mutating func unplugged(index: Int) {
        guard index < slots.count else { return }
        slots[index].isPresent = false
        slots[index].isFirmwareRemoving = false
    }
}
