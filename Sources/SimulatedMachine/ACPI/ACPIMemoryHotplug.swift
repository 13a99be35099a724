/// QEMU's ACPI memory hot-plug register block (`hw/acpi/memory_hotplug.c`): 24 bytes at 0xa00 on both
/// machines, present only with DIMM slots (`acpi-hotplug.md` §6).
///
/// Not implemented yet: reads as zeros, writes ignored.
public struct ACPIMemoryHotplug: Sendable, Equatable {
    /// The block's base.
    public static let base: UInt16 = 0x0A00
    /// The block's length.
    public static let length = 0x18

    /// An empty block.
    public init() {}
}
