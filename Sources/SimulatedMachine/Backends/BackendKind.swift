/// What a device property that names a backend points at: QEMU's `drive`, `netdev` and `chardev`
/// properties, and its `link<TYPE>` properties to user-created objects (`rng`, `memdev`, `iothread`).
///
/// The machine resolves such a property when `device_add` sets it (before realize, so its errors
/// come before the address's), holds the backend while the device exists, and lets it go when the
/// device's `DEVICE_DELETED` is sent, as QEMU releases it when the device is finalized.
public enum BackendKind: Sendable, Equatable {
    /// A block backend or node (`drive=`).
    case block
    /// A network backend (`netdev=`).
    case netdev
    /// A character device (`chardev=`).
    case chardev
    /// A user-created object of (a subtype of) that QOM type (`link<rng-backend>`).
    case object(type: String)
}
