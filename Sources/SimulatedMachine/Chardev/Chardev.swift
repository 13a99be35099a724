/// One character device of the machine (QEMU's `Chardev` under `/chardevs`): its id, backend, what
/// the host opened for it, and whether a frontend (a device, or a monitor) holds it.
public struct Chardev: Sendable, Equatable {
    /// The id (`label` in `query-chardev`).
    public let id: String
    public let backend: ChardevBackend
    /// The ``ChardevHost`` handle of its OS side, if it has one.
    public var handle: Int?
    /// The pty slave's path, for a `pty` backend.
    public var ptyPath: String?
    /// The device property holding it (`serial.chardev`), if a device does: QEMU's `be`, which makes
    /// the chardev busy. Monitors hold their own chardev for ever.
    public var holder: String?
    /// Whether a frontend opened it (QEMU's `fe_open`, `frontend-open`): a device that realized and
    /// still holds it; monitors always.
    public var frontendOpen: Bool

    public init(id: String, backend: ChardevBackend) {
        self.id = id
        self.backend = backend
        if case .monitor = backend {
            holder = "monitor"
            frontendOpen = true
        } else {
            frontendOpen = false
        }
    }

    /// Whether `chardev-remove` refuses it (`Chardev 'x' is busy`) and `chardev=` may not take it.
    public var isBusy: Bool { holder != nil }
}
