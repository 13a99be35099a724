/// QEMU's ACPI memory hot-plug register block (`hw/acpi/memory_hotplug.c`): 24 bytes at 0xa00 on both
/// machines, present only with DIMM slots (`acpi-hotplug.md` §6.2). The guest's `MSCN`, `_STA`, `_CRS`,
/// `_OST` and `_EJ0` methods act through it; it is the only way a guest learns of a hot-added DIMM or
/// a removal request, and the only way it can give a DIMM back.
///
/// | off | read | write |
/// |---|---|---|
/// | 0x00 | address low 32 | SELECTOR |
/// | 0x04 | address high 32 | `_OST` event |
/// | 0x08 | size low 32 | `_OST` status (then `ACPI_DEVICE_OST`) |
/// | 0x0c | size high 32 | ignored |
/// | 0x10 | proximity (node) | ignored |
/// | 0x14 | FLAGS (ENABLED, INSERTING, REMOVING) | bit 1 clears INSERTING, else bit 2 clears REMOVING, else bit 3 ejects |
///
/// Accesses of 1 to 4 bytes are dispatched on their exact offset, as QEMU's memory core does for this
/// region: any other offset reads all ones (truncated to the access) and ignores writes. While the
/// selector is not a slot, every read is 0 and only SELECTOR writes count. Empty slots read 0.
public struct ACPIMemoryHotplug: Sendable, Equatable {
    /// The block's base.
    public static let base: UInt16 = 0x0A00
    /// The block's length.
    public static let length = 0x18

    /// FLAGS write bit 1: clear INSERTING.
    public static let clearInserting: UInt32 = 0x2
    /// FLAGS write bit 2: clear REMOVING.
    public static let clearRemoving: UInt32 = 0x4
    /// FLAGS write bit 3: eject.
    public static let eject: UInt32 = 0x8

    /// The slots, 0 to `slots - 1`.
    public private(set) var slots: [ACPIMemorySlot]
    /// The slot the guest selected (any 32-bit value).
    public private(set) var selector: UInt32 = 0

    /// A block of `slots` empty slots (none: no block).
    public init(slots: Int = 0) {
        self.slots = Array(repeating: ACPIMemorySlot(), count: max(0, slots))
    }

    /// The selected slot, if the selector names one.
    var selected: Int? { Int(selector) < slots.count ? Int(selector) : nil }

    /// A guest read of `size` bytes at `offset` (no side effects).
    public func read(offset: Int, size: Int) -> UInt32 {
        guard let index = selected else { return 0 }
        let slot = slots[index]
        let value: UInt64
        switch offset {
        case 0x00: value = slot.dimm?.address ?? 0
        case 0x04: value = (slot.dimm?.address ?? 0) >> 32
        case 0x08: value = slot.dimm?.size ?? 0
        case 0x0C: value = (slot.dimm?.size ?? 0) >> 32
        case 0x10: value = UInt64(slot.dimm?.node ?? 0)
        case 0x14: value = UInt64(slot.flags)
        default: value = UInt64.max
        }
        let mask: UInt64 = size >= 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1
        return UInt32(truncatingIfNeeded: value & mask)
    }

    /// A guest write of `size` bytes at `offset`; what the machine must do beyond the block.
    public mutating func write(offset: Int, size: Int, value: UInt32) -> ACPIMemoryWriteEffect {
        guard !slots.isEmpty else { return .none }
        if offset == 0 {
            selector = value
            return .none
        }
        guard let index = selected else { return .none }
        switch offset {
        case 0x04:
            slots[index].ostEvent = value
        case 0x08:
            slots[index].ostStatus = value
            return .ost(slot: index)
        case 0x14:
            if value & Self.clearInserting != 0 {
                slots[index].isInserting = false
            } else if value & Self.clearRemoving != 0 {
                slots[index].isRemoving = false
            } else if value & Self.eject != 0 && slots[index].isEnabled {
                return .eject(slot: index)
            }
        default:
            break
        }
        return .none
    }

    /// The `_OST` record of a slot: its last event and status, and the DIMM's id while one with an id
    /// is plugged.
    public func ostInfo(slot index: Int) -> ACPIOSTInfo {
        let slot = slots[index]
        return ACPIOSTInfo(
            device: slot.dimm?.id,
            slot: String(index),
            slotType: .dimm,
            source: slot.ostEvent,
            status: slot.ostStatus
        )
    }

    /// The slot that holds the DIMM at `path`, if any.
    public func slot(ofDIMMAt path: String) -> Int? { slots.firstIndex { $0.dimm?.path == path } }

    /// Every plugged DIMM, by address (QEMU's `memory_device_build_list` order).
    public var dimms: [PCDIMM] { slots.compactMap(\.dimm).sorted { $0.address < $1.address } }

    /// A DIMM plugged into its slot: ENABLED, and INSERTING when hot-added (QEMU's
    /// `acpi_memory_plug_cb`). The caller raises the GPE for a hot-add.
    public mutating func plug(_ dimm: PCDIMM) {
        slots[dimm.slot].dimm = dimm
        slots[dimm.slot].isEnabled = true
        if dimm.isHotplugged { slots[dimm.slot].isInserting = true }
    }

    /// `device_del`: REMOVING set (again). The caller raises the GPE.
    public mutating func requestUnplug(slot index: Int) {
        slots[index].isRemoving = true
    }

    /// The DIMM is gone: ENABLED cleared; INSERTING, REMOVING and the `_OST` values stay.
    public mutating func unplug(slot index: Int) {
        slots[index].dimm = nil
        slots[index].isEnabled = false
    }
}
