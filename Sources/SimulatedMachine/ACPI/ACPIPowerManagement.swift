/// The machine's ACPI PM function as the guest reaches it: q35's LPC bridge (`ICH9-LPC`, 00:1f.0) or
/// pc's `PIIX4_PM` (00:01.3). It owns the PM1 registers (``PM1Block``), the GPE0 block and the SCI,
/// and the configuration registers that map the PM I/O block, which firmware programs at every boot:
/// q35's PMBASE (0x40) and ACPI_CNTL (0x44), pc's PMBA (0x40) and PMREGMISC (0x80). Until it does,
/// the PM block's ports (and q35's GPE0) are unassigned (`acpi-hotplug.md` §3); pc's GPE0 is fixed.
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
    /// PM1 status, enable and control, and the PM timer.
    public var pm1 = PM1Block()
    /// pc's PIIX4_PM configuration dword at 0x40 (PMBA: bits 15:6 the PM block's base; bit 0 set at
    /// reset). Every byte is writable, as QEMU's default write mask of a function's device-specific
    /// configuration.
    public private(set) var pcPMBA: UInt32 = 0x1
    /// pc's PIIX4_PM configuration byte at 0x80 (PMREGMISC: bit 0 maps the PM block at ``pcPMBA``).
    public private(set) var pcPMRegMisc: UInt8 = 0
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
        return pmBase.map { $0 &+ 0x20 }
    }

    /// Where the PM I/O block (PM1 at +0, +2, +4, the timer at +8) is decoded now: q35 at PMBASE once
    /// ACPI_EN is set, pc at PMBA once PMREGMISC's bit 0 is set; nil before.
    public var pmBase: UInt16? {
        switch machineType {
        case .q35:
            guard UInt8(truncatingIfNeeded: lpcConfig >> 32) & Self.acpiEnable != 0 else { return nil }
            return UInt16(truncatingIfNeeded: lpcConfig & 0xFF80)
        case .pc:
            guard pcPMRegMisc & 1 != 0 else { return nil }
            return UInt16(truncatingIfNeeded: pcPMBA & 0xFFC0)
        }
    }

    /// The SCI level: a GPE0 event or a PM1 event (at PM timer tick `ticks`) whose enable bit is set.
    public func sci(atTicks ticks: Int64) -> Bool { gpe.sci || pm1.raisesSCI(atTicks: ticks) }

    /// A configuration read of the PM function's registers that map the PM block: q35's LPC bytes
    /// 0x40...0x47, pc's PIIX4_PM bytes 0x40...0x43 and 0x80; nil for other offsets.
    public func pmConfigRead(offset: Int, size: Int) -> UInt32? {
        let mask: UInt64 = size == 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1
        if machineType == .pc {
            if offset >= 0x40, offset + size <= 0x44 {
                return UInt32(truncatingIfNeeded: (UInt64(pcPMBA) >> (UInt64(offset - 0x40) * 8)) & mask)
            }
            return offset == 0x80 && size == 1 ? UInt32(pcPMRegMisc) : nil
        }
        guard offset >= 0x40, offset + size <= 0x48 else { return nil }
        return UInt32(truncatingIfNeeded: (lpcConfig >> (UInt64(offset - 0x40) * 8)) & mask)
    }

    /// A configuration write to the registers ``pmConfigRead(offset:size:)`` reads: on q35 only the
    /// writable bits change. Returns false for other offsets.
    public mutating func pmConfigWrite(offset: Int, size: Int, value: UInt32) -> Bool {
        if machineType == .pc {
            if offset >= 0x40, offset + size <= 0x44 {
                let shift = UInt32(offset - 0x40) * 8
                let mask: UInt32 = (size == 4 ? 0xFFFF_FFFF : (1 << (UInt32(size) * 8)) - 1) << shift
                pcPMBA = pcPMBA & ~mask | (value << shift) & mask
                return true
            }
            guard offset == 0x80, size == 1 else { return false }
            pcPMRegMisc = UInt8(truncatingIfNeeded: value)
            return true
        }
        guard offset >= 0x40, offset + size <= 0x48 else { return false }
        let shift = UInt64(offset - 0x40) * 8
        let mask: UInt64 = (size == 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1) << shift
        let writable = mask & Self.lpcConfigWritable
        lpcConfig = lpcConfig & ~writable | (UInt64(value) << shift) & writable
        return true
    }

    /// `system_reset`: PM1 and GPE0 cleared (the timer's status set again) and the PM block unmapped
    /// until firmware programs it again.
    public mutating func reset() {
        gpe.reset()
        pm1 = PM1Block()
        lpcConfig = Self.lpcConfigAtReset
        // PIIX4's reset rewrites byte 0x40 only: the base's upper byte (0x41) survives it.
        pcPMBA = pcPMBA & ~0xFF | 0x1
        pcPMRegMisc = 0
    }
}
