/// The machine's ACPI PM function as the guest reaches it: q35's LPC bridge (`ICH9-LPC`, 00:1f.0) or
/// pc's `PIIX4_PM` (00:01.3). It owns the GPE0 block and the SCI, and on q35 the two LPC configuration
/// registers that map the PM I/O block (PMBASE at 0x40, ACPI_CNTL at 0x44), which firmware programs at
/// every boot: until it does, q35's GPE0 ports are unassigned (`acpi-hotplug.md` §3).
///
/// The hot-plug register blocks live beside it: ``ACPIPCIHotplug``, ``ACPICPUHotplug`` and
/// ``ACPIMemoryHotplug``; ``Machine`` routes the guest's I/O-port accesses to all of them.
public struct ACPIPowerManagement: Sendable, Equatable {
    /// q35's LPC configuration offset of PMBASE (a dword; bits 15:7 the base, bit 0 hard-wired 1).
    public static let pmBaseOffset = 0x40
    /// q35's LPC configuration offset of ACPI_CNTL (a byte; bit 7 ACPI_EN maps the PM block).
    public static let acpiControlOffset = 0x44
    /// ACPI_CNTL's ACPI_EN bit.
    public static let acpiEnable: UInt8 = 0x80
    /// pc's fixed GPE0 base.
    public static let pcGPEBase: UInt16 = 0xAFE0
    /// Where SeaBIOS puts q35's PM block (GPE0 then at 0x620).
    public static let firmwarePMBase: UInt16 = 0x600

    /// The machine type (q35: ICH9; pc: PIIX4).
    public let machineType: MachineType
    /// GPE0 and the SCI level it drives.
    public var gpe: GPE0Block
    /// The SCI level last reported to the guest.
    public var sciLevel = false
    /// q35's LPC configuration bytes 0x40...0x47 (PMBASE, ACPI_CNTL and their neighbours).
    public private(set) var lpcConfig: UInt64 = Self.lpcConfigAtReset

    /// LPC bytes 0x40...0x47 at reset: PMBASE's bit 0 (I/O space) set, everything else clear.
    static let lpcConfigAtReset: UInt64 = 0x1
    /// Writable bits of LPC bytes 0x40...0x47: PMBASE bits 15:7 and 0 (the I/O-space bit, set at reset) and ACPI_CNTL's ACPI_EN and SCI_IRQ_SEL.
    static let lpcConfigWritable: UInt64 = 0x87_0000_FF81

    /// The PM function of a machine type, at reset.
    public init(machineType: MachineType) {
        self.machineType = machineType
        gpe = GPE0Block(length: machineType == .q35 ? 16 : 4)
    }

    /// Where the GPE0 block is decoded now: pc always at 0xafe0; q35 at PMBASE + 0x20 once ACPI_EN is
    /// set, nil before.
    public var gpeBase: UInt16? {
        guard machineType == .q35 else { return Self.pcGPEBase }
        guard UInt8(truncatingIfNeeded: lpcConfig >> 32) & Self.acpiEnable != 0 else { return nil }
        return UInt16(truncatingIfNeeded: lpcConfig & 0xFF80) &+ 0x20
    }

    /// A configuration read of the LPC bridge's bytes 0x40...0x47 (q35); nil for other offsets.
    public func lpcConfigRead(offset: Int, size: Int) -> UInt32? {
        guard machineType == .q35, offset >= 0x40, offset + size <= 0x48 else { return nil }
        let mask: UInt64 = size == 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1
        return UInt32(truncatingIfNeeded: (lpcConfig >> (UInt64(offset - 0x40) * 8)) & mask)
    }

    /// A configuration write to the LPC bridge's bytes 0x40...0x47 (q35): only the writable bits change.
    /// Returns false for other offsets.
    public mutating func lpcConfigWrite(offset: Int, size: Int, value: UInt32) -> Bool {
        guard machineType == .q35, offset >= 0x40, offset + size <= 0x48 else { return false }
        let shift = UInt64(offset - 0x40) * 8
        let mask: UInt64 = (size == 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1) << shift
        let writable = mask & Self.lpcConfigWritable
        lpcConfig = lpcConfig & ~writable | (UInt64(value) << shift) & writable
        return true
    }

    /// `system_reset`: GPE0 cleared and (q35) the PM block unmapped until firmware programs it again.
    public mutating func reset() {
        gpe.reset()
        lpcConfig = Self.lpcConfigAtReset
    }
}
