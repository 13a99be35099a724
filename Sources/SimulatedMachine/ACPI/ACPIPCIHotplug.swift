/// QEMU's ACPI PCI hot-plug register block (`hw/acpi/pcihp.c`): 24 bytes at 0xcc0 (q35) or 0xae00
/// (pc), per-bus UP/DOWN/EJ/RMV/SEL/AIDX selected by bus number (bsel) (`acpi-hotplug.md` §4).
///
/// Not implemented yet: reads as zeros, writes ignored.
public struct ACPIPCIHotplug: Sendable, Equatable {
    /// The block's base on q35.
    public static let q35Base: UInt16 = 0x0CC0
    /// The block's base on pc.
    public static let pcBase: UInt16 = 0xAE00
    /// The block's length.
    public static let length = 0x18

    /// An empty block.
    public init() {}
}
