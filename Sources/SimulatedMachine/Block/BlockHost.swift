/// The operating system questions of the block layer, answered by the server: the machine stays pure.
///
/// QEMU's `file-posix` opens the path when the node is created (and fails then); qmp-mockd asks
/// ``open`` to do the same `open()` with the same access mode, look at the file (`fstat`, the first
/// bytes), and close it at once: nothing is kept open and the guest never reads the disk. A path
/// `/dev/fdset/N` is not opened: the machine picks a descriptor of the fd set itself (by
/// ``descriptorFlags``) and asks ``inspect`` about it.
public struct BlockHost: Sendable {
    /// x86-64's `O_DIRECT`, the value QEMU prints in its fd-set errors; ``descriptorFlags`` reports a
    /// descriptor opened for direct I/O with it, whatever the daemon's own architecture calls it.
    public static let directFlag: Int32 = 0x4000

    /// Opens `path` read-write or read-only, looks, closes. `directory` paths fail as `open` does.
    public var open: @Sendable (_ path: String, _ writable: Bool) -> Result<BlockHostFile, BlockHostError>
    /// The access mode (`O_RDONLY` 0, `O_WRONLY` 1, `O_RDWR` 2) of a descriptor the machine holds,
    /// plus ``directFlag`` when it has `O_DIRECT`: what QEMU's fd sets match a wanted mode against.
    public var descriptorFlags: @Sendable (_ fd: Int32) -> Int32?
    /// Looks at a descriptor the machine holds, without closing it.
    public var inspect: @Sendable (_ fd: Int32) -> Result<BlockHostFile, BlockHostError>
    /// Sets a file's length (`ftruncate`), as QEMU's `file-posix` does for `block_resize`, and looks
    /// at it again. The default refuses, as a host without files would (`ENOENT`).
    public var truncate: @Sendable (_ target: BlockHostTarget, _ size: Int64) -> Result<BlockHostFile, BlockHostError>

    /// A host answering with these closures.
    public init(
        open: @escaping @Sendable (String, Bool) -> Result<BlockHostFile, BlockHostError>,
        descriptorFlags: @escaping @Sendable (Int32) -> Int32?,
        inspect: @escaping @Sendable (Int32) -> Result<BlockHostFile, BlockHostError>,
        truncate: @escaping @Sendable (BlockHostTarget, Int64) -> Result<BlockHostFile, BlockHostError> = { _, _ in
            .failure(.noSuchFile)
        }
    ) {
        self.open = open
        self.descriptorFlags = descriptorFlags
        self.inspect = inspect
        self.truncate = truncate
    }

    /// No operating system: every path is missing (a machine in a unit test, until the test gives one).
    public static let none = BlockHost(
        open: { _, _ in .failure(.noSuchFile) },
        descriptorFlags: { _ in nil },
        inspect: { _ in .failure(.noSuchFile) }
    )
}
