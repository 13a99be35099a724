/// The guest-physical memory layout QEMU derives from `-m` on q35 and pc: boot RAM split below and
/// above 4 GiB, and the device-memory region where `pc-dimm`s are mapped (`acpi-hotplug.md` §6.1).
///
/// Modelled because management stacks read the DIMM addresses back (`query-memory-devices`) and the
/// guest finds them through the ACPI registers; both must be where QEMU puts them. The rules are those
/// of `hw/i386/pc_piix.c`, `pc_q35.c` and `pc.c` (7.2.22 and 10.0.2 agree for machine types that
/// enforce aligned DIMMs, which every current one does):
///
/// - RAM is rounded up to 8 KiB (`-m 100K` is 106496 bytes); 0 means the 128 MiB default.
/// - pc keeps up to 3.5 GiB below 4 GiB (3 GiB once RAM reaches 3.5 GiB); q35 keeps up to 2.75 GiB
///   (2 GiB once RAM reaches 2.75 GiB); the rest sits from 4 GiB.
/// - With `maxmem` above the RAM, device memory starts at the first GiB boundary after the high RAM
///   and spans `maxmem - RAM` plus 1 GiB per slot; DIMMs may use at most `maxmem - RAM` of it.
public struct MemoryMap: Sendable, Equatable {
    /// Boot RAM, `pc.ram`'s size.
    public let ramSize: UInt64
    /// RAM below 4 GiB.
    public let belowFourGiB: UInt64
    /// RAM from 4 GiB.
    public let aboveFourGiB: UInt64
    /// DIMM slots.
    public let slots: Int
    /// `maxmem` (the RAM size when not given).
    public let maxmem: UInt64
    /// Where device memory starts; nil when `maxmem` leaves no room beside the RAM.
    public let deviceMemoryBase: UInt64?
    /// The device-memory region's length (`maxmem - RAM` + 1 GiB per slot).
    public let deviceMemoryRegionSize: UInt64

    /// One GiB.
    static let gibibyte: UInt64 = 1 << 30
    /// 4 GiB, where the high RAM starts.
    static let fourGiB: UInt64 = 4 << 30
    /// QEMU's `ACPI_MAX_RAM_SLOTS`.
    public static let maximumSlots = 256

    /// The layout of `memory` on `machineType`.
    public init(machineType: MachineType, memory: MemoryOptions) {
        let requested = memory.size == 0 ? MemoryOptions.defaultSize : memory.size
        let ram = Self.alignUp(requested, 8192)
        ramSize = ram
        var lowmem: UInt64
        switch machineType {
        case .q35: lowmem = ram >= 0xB000_0000 ? 0x8000_0000 : 0xB000_0000
        case .pc: lowmem = ram >= 0xE000_0000 ? 0xC000_0000 : 0xE000_0000
        }
        lowmem = min(lowmem, ram)
        belowFourGiB = lowmem
        aboveFourGiB = ram - lowmem
        slots = memory.slots
        maxmem = memory.maxmem ?? ram
        if maxmem > ram {
            // Saturating: absurd sizes reach the start-up refusals instead of trapping here.
            let perSlot = Self.gibibyte.multipliedReportingOverflow(by: UInt64(max(0, slots)))
            deviceMemoryBase = Self.alignUp(Self.saturatingSum(Self.fourGiB, aboveFourGiB), Self.gibibyte)
            deviceMemoryRegionSize = Self.saturatingSum(
                maxmem - ram,
                perSlot.overflow ? UInt64.max : perSlot.partialValue
            )
        } else {
            deviceMemoryBase = nil
            deviceMemoryRegionSize = 0
        }
    }

    /// How much memory DIMMs may add in all (`maxmem - RAM`).
    public var hotpluggableSize: UInt64 { maxmem > ramSize ? maxmem - ramSize : 0 }

    /// QEMU's start-up refusals of `-m` (`hw/core/machine.c`, `hw/i386/pc.c`), in QEMU's order, as
    /// the text QEMU prints after `qemu-system-x86_64: `; nil when QEMU starts. The physical address
    /// width limit (`Address space limit ... phys-bits too low`) is not modelled.
    public static func refusal(of memory: MemoryOptions) -> String? {
        let size = alignUp(memory.size == 0 ? MemoryOptions.defaultSize : memory.size, 8192)
        let hex = { (n: UInt64) in "0x" + String(n, radix: 16) }
        guard let maxmem = memory.maxmem else {
            return memory.slots > 0 ? "slots specified but no max-size" : nil
        }
        if maxmem < size {
            return
                "invalid value of maxmem: maximum memory size (\(hex(maxmem))) must be at least the initial memory size (\(hex(size)))"
        }
        if memory.slots > 0 && maxmem == size {
            return
                "invalid value of maxmem: memory slots were specified but maximum memory size (\(hex(maxmem))) is equal to the initial memory size (\(hex(size)))"
        }
        guard maxmem > size else { return nil }
        if memory.slots > maximumSlots { return "unsupported amount of memory slots: \(memory.slots)" }
        if maxmem % 4096 != 0 { return "maximum memory size must by aligned to multiple of 4096 bytes" }
        return nil
    }

    /// `a + b`, or the largest value when that overflows.
    static func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? UInt64.max : sum
    }

    /// `value` rounded up to a multiple of `alignment` (a power of two), saturating at the largest one.
    static func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
        let mask = alignment - 1
        let (sum, overflow) = value.addingReportingOverflow(mask)
        return overflow ? UInt64.max & ~mask : sum & ~mask
    }
}
