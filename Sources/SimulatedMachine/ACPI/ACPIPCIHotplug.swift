/// QEMU's ACPI PCI hot-plug register block (`hw/acpi/pcihp.c`): 24 bytes at 0xcc0 (q35) or 0xae00
/// (pc), per-bus UP/DOWN/EJ/RMV/SEL/AIDX selected by bus number (bsel) (`acpi-hotplug.md` §4.1).
///
/// The registers only: which bus a bsel names, and what an eject or an acpi-index look-up does to the
/// devices, is the machine's part (``Machine`` acts on the ``WriteAction`` a write returns). Only
/// aligned 4-byte accesses are valid: other reads return 0 and other writes are ignored, as QEMU's
/// memory core refuses them. Whenever SEL is 256 or more, every read returns 0.
public struct ACPIPCIHotplug: Sendable, Equatable {
    /// The block's base on q35.
    public static let q35Base: UInt16 = 0x0CC0
    /// The block's base on pc.
    public static let pcBase: UInt16 = 0xAE00
    /// The block's length.
    public static let length = 0x18
    /// How many buses the block can select (`ACPI_PCIHP_MAX_HOTPLUG_BUS`).
    public static let maxBuses = 256

    /// Register offsets.
    public enum Offset {
        /// PCIU: pending inserts of bus SEL (read-to-clear outside PIIX legacy mode).
        public static let up = 0x00
        /// PCID: pending removals of bus SEL.
        public static let down = 0x04
        /// B0EJ: eject the lowest slot set in the written value; reads 0.
        public static let eject = 0x08
        /// RMV: removable slots of bus SEL (computed at reset).
        public static let removable = 0x0C
        /// BNUM: the bus selector.
        public static let select = 0x10
        /// PIDX: a slot bitmap written, that slot's `acpi-index` read back once.
        public static let acpiIndex = 0x14
    }

    /// What a write asks the machine to do.
    public enum WriteAction: Sendable, Equatable {
        /// Nothing beyond the registers.
        case none
        /// Eject `slot` (0...31) of the bus selected by `bsel` (< 256): clear its UP and DOWN bits and
        /// unplug its devices.
        case eject(bsel: Int, slot: Int)
        /// Latch the `acpi-index` of the first device at `slot` of the bus selected by `bsel` (< 256).
        case fetchACPIIndex(bsel: Int, slot: Int)
    }

    /// Pending inserts per bsel (bit n = slot n).
    public private(set) var up = [UInt32](repeating: 0, count: maxBuses)
    /// Pending removals per bsel.
    public private(set) var down = [UInt32](repeating: 0, count: maxBuses)
    /// Removable slots per bsel (all ones until the machine clears those of non-removable devices).
    public private(set) var removable = [UInt32](repeating: ~0, count: maxBuses)
    /// The bus selector (32 bits as written).
    public private(set) var select: UInt32 = 0
    /// The acpi-index latched by the last AIDX write.
    public private(set) var latchedIndex: UInt32 = 0
    /// PIIX "legacy" mode (pc with bridge support off): SEL is forced to 0 and reading UP does not
    /// clear it.
    public let isPIIXLegacy: Bool

    /// The block at power-on.
    public init(isPIIXLegacy: Bool = false) {
        self.isPIIXLegacy = isPIIXLegacy
    }

    /// The selected bsel when it is in range.
    var selectedBus: Int? { select < UInt32(Self.maxBuses) ? Int(select) : nil }

    /// A guest read: UP is cleared by reading (not in legacy mode) and AIDX gives its latch once.
    public mutating func read(offset: Int, size: Int) -> UInt32 {
        let value = peek(offset: offset, size: size)
        guard size == 4, let bsel = selectedBus else { return value }
        switch offset {
        case Offset.up where !isPIIXLegacy: up[bsel] = 0
        case Offset.acpiIndex: latchedIndex = 0
        default: break
        }
        return value
    }

    /// What a read would return, without its side effects.
    public func peek(offset: Int, size: Int) -> UInt32 {
        guard size == 4, offset & 3 == 0, let bsel = selectedBus else { return 0 }
        switch offset {
        case Offset.up: return up[bsel]
        case Offset.down: return down[bsel]
        case Offset.removable: return removable[bsel]
        case Offset.select: return select
        case Offset.acpiIndex: return latchedIndex
        default: return 0
        }
    }

    /// A guest write: every valid write first clears the acpi-index latch.
    public mutating func write(offset: Int, size: Int, value: UInt32) -> WriteAction {
        guard size == 4, offset & 3 == 0 else { return .none }
        latchedIndex = 0
        switch offset {
        case Offset.select:
            select = isPIIXLegacy ? 0 : value
        case Offset.eject:
            let slot = value.trailingZeroBitCount
            if let bsel = selectedBus, slot < 32 { return .eject(bsel: bsel, slot: slot) }
        case Offset.acpiIndex:
            let slot = value.trailingZeroBitCount
            if let bsel = selectedBus, slot < 32 { return .fetchACPIIndex(bsel: bsel, slot: slot) }
        default:
            break
        }
        return .none
    }

    /// Latches the acpi-index a ``WriteAction/fetchACPIIndex(bsel:slot:)`` found.
    public mutating func latch(index: UInt32) {
        latchedIndex = index
    }

    /// A hot-add on bus `bsel`: UP gains the slot.
    public mutating func plugged(bsel: Int, slot: Int) {
        up[bsel] |= 1 << UInt32(slot)
    }

    /// A removal request on bus `bsel`: DOWN gains the slot.
    public mutating func unplugRequested(bsel: Int, slot: Int) {
        down[bsel] |= 1 << UInt32(slot)
    }

    /// An eject (or a reset carrying out a removal): the slot's UP and DOWN bits are cleared.
    public mutating func ejected(bsel: Int, slot: Int) {
        let mask = ~(UInt32(1) << UInt32(slot))
        up[bsel] &= mask
        down[bsel] &= mask
    }

    /// Reset: RMV of bus `bsel` becomes `mask` (UP, SEL and the latch survive a reset).
    public mutating func setRemovable(bsel: Int, mask: UInt32) {
        removable[bsel] = mask
    }
}
