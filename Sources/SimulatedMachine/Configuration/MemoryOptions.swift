/// QEMU's `-m` option: RAM at start, DIMM slots and the most memory the machine may have. Sizes in
/// bytes. Memory hot-plug (`pc-dimm`) needs `slots` > 0 and `maxmem` above `size`.
public struct MemoryOptions: Sendable, Equatable {
    /// QEMU's default RAM size: 128 MiB.
    public static let defaultSize: UInt64 = 128 << 20

    /// Boot RAM (`size`, `pc.ram`).
    public var size: UInt64
    /// DIMM slots (`slots`, default 0: no memory hot-plug and no register block at 0xa00).
    public var slots: Int
    /// The most memory, boot RAM included (`maxmem`); nil when not given (then equal to `size`).
    public var maxmem: UInt64?

    /// Makes the option.
    public init(size: UInt64 = MemoryOptions.defaultSize, slots: Int = 0, maxmem: UInt64? = nil) {
        self.size = size
        self.slots = slots
        self.maxmem = maxmem
    }
}
