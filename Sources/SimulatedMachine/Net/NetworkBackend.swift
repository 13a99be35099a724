public import QMPWire

/// One network backend (`-netdev`, `netdev_add`): what a NIC's `netdev=` names.
///
/// Nothing is simulated behind it: no packet moves, no socket is opened, no tap is touched. It keeps
/// what a management stack can observe or rely on: its id and type, the options as given, whether a
/// NIC uses it (a netdev has at most one peer), and the passed descriptors it owns (tap and vhost
/// descriptors taken from `getfd` names), which go back through ``DescriptorTable/release`` when QEMU
/// would close them.
public struct NetworkBackend: Sendable, Equatable {
    /// The netdev id.
    public let id: String
    /// The `type` member (`user`, `tap`, `socket`, `stream`, `dgram`, `vhost-user`, `hubport`).
    public let type: String
    /// The `netdev_add` arguments as given (QEMU's `-netdev` options in JSON form).
    public let options: JSONObject
    /// Descriptors the backend owns (passed ones it took from `getfd` names), released with it.
    public internal(set) var descriptors: [Int32] = []
    /// The chardev a `vhost-user` netdev holds (busy until the netdev goes).
    public internal(set) var chardev: String?
    /// Whether a NIC's `netdev` property points at it (QEMU: the net client has a peer).
    public internal(set) var inUse = false
    /// Left behind by a multi-queue tap whose later queue failed (QEMU keeps the queues it made,
    /// under the id, without its `-netdev` options): the id stays taken and `netdev_del` answers
    /// `Device 'ID' is not a netdev`, as on QEMU 7.2 and 10.0.
    public internal(set) var isIncomplete = false

    public init(id: String, type: String, options: JSONObject) {
        self.id = id
        self.type = type
        self.options = options
    }
}
