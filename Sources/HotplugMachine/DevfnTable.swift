/// The devices of one bus by devfn (`slot << 3 | function`): a table of all 256 addresses rather
/// than a dictionary. It is looked up on every hot-plug and guest register access, where indexing
/// beats hashing, and it costs nothing at start-up (a `[UInt8: Device]` is generic metadata the
/// runtime instantiates, and a `Hashable` conformance it searches for, on first use: ~0.1 ms).
public struct DevfnTable {
    private var entries = [Device?](repeating: nil, count: 256)

    /// The device at `devfn`, if any.
    public subscript(devfn: UInt8) -> Device? {
        get { entries[Int(devfn)] }
        set { entries[Int(devfn)] = newValue }
    }
}
