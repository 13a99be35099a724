/// What a guest write to the memory hot-plug block asks of the machine beyond the block's own state
/// (``ACPIMemoryHotplug/write(offset:size:value:)``).
public enum ACPIMemoryWriteEffect: Sendable, Equatable {
    /// Nothing more.
    case none
    /// `_OST` status written: send `ACPI_DEVICE_OST` for the slot.
    case ost(slot: Int)
    /// `_EJ0`: unplug the DIMM of the slot now.
    case eject(slot: Int)
}
