/// A block driver `blockdev-add` can create a node with: QEMU's protocol drivers that reach storage
/// (`file`, `host_device`, `null-co`) and the format drivers that interpret a child (`raw`, `qcow2`).
///
/// The others of QEMU's `BlockdevDriver` enum are known by name only (``qapiNames``), so that an
/// unknown name gets QEMU's enum error and a known but unsimulated one says so.
public enum BlockDriver: String, Sendable, CaseIterable {
    case file
    case hostDevice = "host_device"
    case nullCo = "null-co"
    case raw
    case qcow2

    /// A format driver: it needs a `file` child and takes its image from it.
    public var isFormat: Bool { self == .raw || self == .qcow2 }

    /// A `file-posix` driver: it opens a path (or an fd set) through the host.
    public var isPosix: Bool { self == .file || self == .hostDevice }

    /// Every value of QEMU 7.2's `BlockdevDriver` enum (10.0 has the same ones that matter here).
    public static let qapiNames: Set<String> = [
        "blkdebug", "blklogwrites", "blkreplay", "blkverify", "bochs", "cloop", "compress", "copy-before-write",
        "copy-on-read", "dmg", "file", "snapshot-access", "ftp", "ftps", "gluster", "host_cdrom", "host_device",
        "http", "https", "iscsi", "luks", "nbd", "nfs", "null-aio", "null-co", "nvme", "parallels", "preallocate",
        "qcow", "qcow2", "qed", "quorum", "raw", "rbd", "replication", "ssh", "throttle", "vdi", "vhdx", "vmdk",
        "vpc", "vvfat",
    ]
}
