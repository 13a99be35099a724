/// The machine's character devices in creation order: its monitors' own chardevs first
/// (`compat_monitor0`, ...), then those `chardev-add` and the configuration created.
///
/// QEMU lists `/chardevs` in GLib hash-table order; qmp-mockd keeps creation order (a documented
/// deviation). The OS side lives behind ``host``: the table stores handles and gives each back once.
public struct ChardevTable {
    /// The character devices, oldest first.
    public internal(set) var chardevs: [Chardev] = []
    /// The OS side, set by the daemon; nil in tests that need none (then sockets count as
    /// disconnected servers and connected clients, and a pty reports `/dev/pts/0`).
    public var host: (any ChardevHost)?

    init() {}

    /// The index of chardev `id`.
    func index(of id: String) -> Int? { chardevs.firstIndex { $0.id == id } }

    /// The chardev `id`, if any.
    public subscript(id: String) -> Chardev? { index(of: id).map { chardevs[$0] } }
}
