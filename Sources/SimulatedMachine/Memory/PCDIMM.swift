/// One plugged `pc-dimm`: the facts QEMU's memory hot-plug block and `query-memory-devices` report
/// about it (`acpi-hotplug.md` §6.1, §6.2).
///
/// A value kept in its ``ACPIMemorySlot`` so that register reads stay pure; the ``Device`` itself
/// (its QOM path, id and `memdev` link) lives with the machine's other user devices and is found by
/// ``path``.
public struct PCDIMM: Sendable, Equatable {
    /// The driver name.
    public static let driver = "pc-dimm"

    /// The device's id, if it has one.
    public var id: String?
    /// Its canonical QOM path (`/machine/peripheral/ID` or `/machine/peripheral-anon/device[N]`).
    public var path: String
    /// Guest-physical address of its memory.
    public var address: UInt64
    /// Its size, the backend's.
    public var size: UInt64
    /// Its NUMA node (proximity domain).
    public var node: UInt32
    /// The slot it occupies.
    public var slot: Int
    /// The backend's QOM path (`/objects/mem1`).
    public var memdev: String
    /// Added by `device_add` (true) or by the configuration at start (false).
    public var isHotplugged: Bool

    /// Makes the record.
    public init(
        id: String?,
        path: String,
        address: UInt64,
        size: UInt64,
        node: UInt32,
        slot: Int,
        memdev: String,
        isHotplugged: Bool
    ) {
        self.id = id
        self.path = path
        self.address = address
        self.size = size
        self.node = node
        self.slot = slot
        self.memdev = memdev
        self.isHotplugged = isHotplugged
    }

    /// The address range it covers.
    var range: ClosedRange<UInt64> { address...max(address, address &+ size &- 1) }
}
