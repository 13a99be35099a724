/// A node of the block graph (QEMU's `BlockDriverState`): a protocol node that reaches storage or a
/// format node over a child. It records what the queries report; no image I/O is simulated.
public struct BlockNode: Sendable, Equatable {
    /// The node name: given, or generated (`#blockNNN`).
    public let name: String
    public let driver: BlockDriver
    /// Created by `blockdev-add` as its root (or by a configuration's `blockdevs`): only such nodes
    /// can be deleted with `blockdev-del` (QEMU's monitor-owned nodes).
    public var isMonitorOwned: Bool
    public var children: [BlockChild] = []
    /// QEMU's `filename`: the path, `null-co://`, or the protocol child's for a format node.
    public var filename: String
    /// The image's size as the guest would see it (`virtual-size`).
    public var virtualSize: Int64
    /// Bytes allocated on the host (`actual-size`).
    public var allocated: Int64 = 0
    public var options: BlockNodeOptions
    /// The fd set the node was opened through (`/dev/fdset/N`): the node counts as a user of the set.
    public var fdset: Int64?
    /// A `file-posix` node holds a read-write descriptor (QEMU's `O_RDWR` in `open_flags`): false
    /// while a node under `auto-read-only` has no writer, or when it is read-only.
    public var isOpenWritable = false
    /// Writers above a `file-posix` node: devices and read-write qcow2 nodes whose chain ends here.
    public var writers = 0
    /// The first bytes of the file, for `file-posix` nodes (a format node over it reads its header).
    public var header: [UInt8] = []
    /// The qcow2 header, for qcow2 nodes.
    public var qcow2: QCOW2Header?
    /// A `raw` node given a `size`: QEMU refuses to resize it (`Cannot resize fixed-size raw disks`).
    public var hasFixedSize = false
    /// Whether QEMU's `bdrv_get_info` succeeds for the node (a `file-posix` leaf): `dirty-flag` is then reported.
    public var hasInfo: Bool

    public init(
        name: String,
        driver: BlockDriver,
        isMonitorOwned: Bool,
        filename: String,
        virtualSize: Int64,
        options: BlockNodeOptions,
        hasInfo: Bool
    ) {
        self.name = name
        self.driver = driver
        self.isMonitorOwned = isMonitorOwned
        self.filename = filename
        self.virtualSize = virtualSize
        self.options = options
        self.hasInfo = hasInfo
    }
}
