/// The state QEMU keeps per DIMM slot in its memory hot-plug block (`MemStatus` in
/// `hw/acpi/memory_hotplug.c`): the status flags the guest reads at 0x14, the last `_OST` it reported,
/// and the DIMM plugged there.
///
/// QEMU sets ENABLED and INSERTING on a hot-add and REMOVING on an unplug request; only the guest clears
/// INSERTING and REMOVING (so an eject leaves an uncleared REMOVING set on the empty slot), and nothing
/// here is reset by `system_reset` (`acpi-hotplug.md` §6.2).
public struct ACPIMemorySlot: Sendable, Equatable {
    /// FLAGS bit 0: a DIMM is plugged.
    public var isEnabled = false
    /// FLAGS bit 1: a hot-added DIMM the guest has not acknowledged.
    public var isInserting = false
    /// FLAGS bit 2: an unplug request the guest has not acknowledged.
    public var isRemoving = false
    /// The last `_OST` source event the guest wrote (0x04).
    public var ostEvent: UInt32 = 0
    /// The last `_OST` status the guest wrote (0x08).
    public var ostStatus: UInt32 = 0
    /// The DIMM in the slot.
    public var dimm: PCDIMM?

    /// An empty slot.
    public init() {}

    /// The FLAGS byte: ENABLED (1), INSERTING (2), REMOVING (4).
    public var flags: UInt8 {
        (isEnabled ? 1 : 0) | (isInserting ? 2 : 0) | (isRemoving ? 4 : 0)
    }
}
