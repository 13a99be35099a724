/// A BlockBackend: what a device holds to reach a node. Named ones are legacy drives (`-drive`,
/// HMP `drive_add`), which the monitor owns; anonymous ones are made when a device's `drive=`
/// names a node, and live exactly as long as that device's link.
public struct BlockBackend: Sendable, Equatable {
    /// The drive id, or "" for an anonymous backend (`drive_del` of a drive a device holds makes it one).
    public var name: String
    /// The root node's name; "" once `drive_del` took the medium away.
    public var root: String
    /// The name the device's `drive=` gave (the drive id or the node name): how its link finds it.
    public var linkName: String
    /// Attached to a device (set when `drive=` names it, before realize).
    public var isAttached = false
    /// The device as `query-block` names it (`qdev`), once realized: its id, or the QOM path of the
    /// virtio backend that holds the drive.
    public var qdev: String?
    /// Whether the device enables I/O status reporting (`io-status` in `query-block`): virtio-blk does.
    public var reportsIOStatus = false
    /// A removable-medium device holds it (`scsi-cd`): `removable` and `tray_open` in `query-block`.
    public var hasRemovableMedium = false
    /// The realized device took write permission through it (``Machine/acquireWrite(below:)``).
    public var holdsWrite = false
    /// The device shares the resize permission (QEMU's `resizable` in `blkconf_apply_backend_options`):
    /// virtio-blk and the SCSI disks do, nvme does not, so `block_resize` of its node is a
    /// permission conflict.
    public var sharesResize = true
    /// A legacy drive that goes away with its device (QEMU's `DriveInfo.auto_del`, see `Machine.driveAdd`).
    public var deletesWithDevice = false

    public init(name: String, root: String) {
        self.name = name
        self.root = root
        self.linkName = name.isEmpty ? root : name
    }
}
