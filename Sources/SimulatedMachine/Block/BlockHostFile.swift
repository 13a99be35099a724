/// What the host says about a file a `file` or `host_device` node opens: enough to answer the
/// queries (sizes) and to read a qcow2 header, never the disk's contents.
public struct BlockHostFile: Sendable, Equatable {
    /// The size in bytes (`st_size`, or the device's size).
    public var size: Int64
    /// Bytes allocated on the host (`st_blocks * 512`): QEMU's `actual-size`.
    public var allocated: Int64
    /// A character or block device (what `host_device` requires).
    public var isDevice: Bool
    /// The first bytes of the file (up to 112): the format header, for qcow2 and format probing.
    public var header: [UInt8]

    public init(size: Int64, allocated: Int64 = 0, isDevice: Bool = false, header: [UInt8] = []) {
        self.size = size
        self.allocated = allocated
        self.isDevice = isDevice
        self.header = header
    }
}
