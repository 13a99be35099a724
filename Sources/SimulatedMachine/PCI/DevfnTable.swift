/// The devices of one bus by devfn (`slot << 3 | function`): a table of all 256 addresses rather
/// than a dictionary. It is looked up on every hot-plug and guest register access, where indexing
/// beats hashing, and it costs nothing at start-up (a `[UInt8: Device]` is generic metadata the
/// runtime instantiates, and a `Hashable` conformance it searches for, on first use: ~0.1 ms).
/// As a sequence it yields the devices in ascending devfn order (iterate a copy, `Array(table)`,
/// when removing while iterating: otherwise the 256 entries are copied).
public struct DevfnTable: Sequence {
    private var entries = [Device?](repeating: nil, count: 256)
    /// How many devfns hold a device (an empty table answers ``first`` without a scan: the guest
    /// writes the slot registers of empty slots too).
    public private(set) var count = 0

    /// The device at `devfn`, if any.
    public subscript(devfn: UInt8) -> Device? {
        get { entries[Int(devfn)] }
        set {
            count += (newValue == nil ? 0 : 1) - (entries[Int(devfn)] == nil ? 0 : 1)
            entries[Int(devfn)] = newValue
        }
    }

    /// The device at the lowest devfn, if any.
    public var first: Device? {
        guard count > 0 else { return nil }
        for case let device? in entries { return device }
        return nil
    }

    /// The same table with every device replaced by `transform(device)` (for ``Machine/copy(hostClock:)``).
    func map(_ transform: (Device) -> Device) -> DevfnTable {
        var table = self
        for index in entries.indices { table.entries[index] = entries[index].map(transform) }
        return table
    }

    public func makeIterator() -> some IteratorProtocol<Device> { entries.lazy.compactMap { $0 }.makeIterator() }
}
