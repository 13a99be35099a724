/// The ACPI general-purpose event block 0 (GPE0) of the machine's PM device: a status half and an
/// enable half, and the SCI level they make (`acpi-hotplug.md` §3).
///
/// q35's block is 16 bytes at PMBASE + 0x20 (8 status bytes, then 8 enable bytes), pc's is 4 bytes at
/// 0xafe0. Accesses are per byte (wider ones are split by the caller). Status bytes are
/// write-1-to-clear, enable bytes plain read/write. Only byte 0 carries hot-plug bits, and the SCI
/// (GSI 9) is `status[0] & enable[0] != 0`, as QEMU computes it.
public struct GPE0Block: Sendable, Equatable {
    /// Status bit 1: ACPI PCI hot-plug (`\_GPE._E01`).
    public static let pciHotplug: UInt8 = 0x02
    /// Status bit 2: CPU hot-plug (`\_GPE._E02`).
    public static let cpuHotplug: UInt8 = 0x04
    /// Status bit 3: memory hot-plug (`\_GPE._E03`).
    public static let memoryHotplug: UInt8 = 0x08

    /// The block's length in bytes: 16 on q35, 4 on pc.
    public let length: Int
    /// Status bytes, byte 0 in the low bits.
    public private(set) var status: UInt64 = 0
    /// Enable bytes, byte 0 in the low bits.
    public private(set) var enable: UInt64 = 0

    /// An all-clear block of `length` bytes (an even number up to 16).
    public init(length: Int) {
        self.length = length
    }

    /// The level of the SCI this block drives.
    public var sci: Bool { UInt8(truncatingIfNeeded: status & enable) != 0 }

    /// Status byte 0 (the hot-plug bits).
    public var status0: UInt8 { UInt8(truncatingIfNeeded: status) }
    /// Enable byte 0 (the hot-plug bits).
    public var enable0: UInt8 { UInt8(truncatingIfNeeded: enable) }

    /// The byte at `offset` (status half first); 0 outside the block.
    public func read(offset: Int) -> UInt8 {
        let half = length / 2
        guard offset >= 0, offset < length else { return 0 }
        let word = offset < half ? status : enable
        return UInt8(truncatingIfNeeded: word >> (UInt64(offset % half) * 8))
    }

    /// A guest byte write: status bits written as 1 are cleared, enable bytes take the value.
    public mutating func write(offset: Int, value: UInt8) {
        let half = length / 2
        guard offset >= 0, offset < length else { return }
        let shift = UInt64(offset % half) * 8
        if offset < half {
            status &= ~(UInt64(value) << shift)
        } else {
            enable = enable & ~(0xFF << shift) | UInt64(value) << shift
        }
    }

    /// A hot-plug event: ORs `bits` into status byte 0, enabled or not.
    public mutating func raise(_ bits: UInt8) {
        status |= UInt64(bits)
    }

    /// `system_reset`: every status and enable byte cleared.
    public mutating func reset() {
        status = 0
        enable = 0
    }
}
