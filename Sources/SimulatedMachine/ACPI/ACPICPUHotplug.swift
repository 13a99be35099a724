/// QEMU's ACPI CPU hot-plug interface (`hw/acpi/cpu_hotplug.c`, `hw/acpi/cpu.c`): the legacy 32-byte
/// bitmap of present APIC ids at 0xcd8 (q35) or 0xaf00 (pc), switched for good to the modern 12-byte
/// block by a write of 0 to its first byte (`acpi-hotplug.md` §5).
///
/// Not implemented yet: reads as zeros, writes ignored.
public struct ACPICPUHotplug: Sendable, Equatable {
    /// The block's base on q35.
    public static let q35Base: UInt16 = 0x0CD8
    /// The block's base on pc.
    public static let pcBase: UInt16 = 0xAF00
    /// The legacy bitmap's length.
    public static let legacyLength = 32
    /// The modern block's length.
    public static let modernLength = 12

    /// Whether the guest switched to the modern interface.
    public var isModern = false

    /// The block's length now.
    public var length: Int { isModern ? Self.modernLength : Self.legacyLength }

    /// An empty block in legacy mode.
    public init() {}
}
