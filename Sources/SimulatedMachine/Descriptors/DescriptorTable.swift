import QMPWire

/// The file descriptors the machine holds for its monitors' clients, with QEMU's rules: the names
/// `getfd` gives per monitor, and the fd sets of `add-fd`, which belong to the whole VM.
///
/// Descriptors arrive as numbers the server received with `SCM_RIGHTS`; from then on the table owns
/// them and gives each back exactly once, through ``release``, when QEMU would close it. It never
/// calls the operating system itself, so the machine stays pure: the server's release closes, a
/// test's records. Lifetimes, as measured on QEMU 7.2.22 and 10.0.2:
/// - a `getfd` name lives with its monitor, not with the client connection: it survives a reconnect,
///   until `closefd`, a `getfd` of the same name (which replaces and closes the old descriptor), or a
///   backend that takes the descriptor;
/// - up to 9.0 (``cleanupFollowsRunState``), an fd set's descriptors are closed by `remove-fd` only
///   while the VM runs (paused, a removed descriptor stays listed by `query-fdsets`), and every fd set
///   nobody uses is emptied when the last monitor client disconnects while the VM runs; from 9.1 on,
///   `remove-fd` always closes and disconnects close nothing.
///
/// A limit (``limit``) caps the descriptors held at once, so that a client passing descriptors in a
/// loop cannot exhaust the daemon's; QEMU has none (it fails once the process runs out).
public struct DescriptorTable {
    /// Named descriptors (`getfd`) per monitor (the monitor's socket path or label).
    var named: [String: [String: Int32]] = [:]
    /// Fd sets by ascending id, as QEMU keeps them.
    public internal(set) var fdsets: [FDSet] = []
    /// Block nodes opened through each fd set (QEMU's `dup_fds`: a set in use is not emptied by the
    /// last client's disconnect, and not dropped while a node uses it). qmp-mockd does not duplicate
    /// the descriptor: nothing reads the disk, so counting the users is all QEMU's rule needs.
    var users: [Int64: Int] = [:]
    /// How many descriptors may be held at once (named and in fd sets).
    public var limit: Int
    /// Whether fd-set clean-up waits for a running VM and empties unused sets when the last monitor
    /// client leaves (QEMU up to 9.0).
    let cleanupFollowsRunState: Bool
    /// Gives a descriptor back to its owner, which closes it. Called once per descriptor.
    public var release: (Int32) -> Void
    /// Whether a descriptor number is open in the daemon (the server's `fcntl`), for options that name
    /// a descriptor by number, as QEMU reads `fd=23`. Nothing is open by default.
    public var isOpen: (Int32) -> Bool = { _ in false }
    /// Descriptors taken from this table by backends (network backends' `fd=NAME`), still held by
    /// them: they count against ``limit`` until released.
    public internal(set) var heldByBackends = 0

    /// The default ``limit``.
    public static let defaultLimit = 1024

    init(cleanupFollowsRunState: Bool, limit: Int = Self.defaultLimit, release: @escaping (Int32) -> Void = { _ in }) {
        self.cleanupFollowsRunState = cleanupFollowsRunState
        self.limit = limit
        self.release = release
    }

    /// Descriptors held now.
    public var count: Int {
        named.values.reduce(0) { $0 + $1.count } + fdsets.reduce(0) { $0 + $1.members.count } + heldByBackends
    }

    /// The descriptor `getfd` named `name` on `monitor`, if any.
    public func descriptor(named name: String, monitor: String) -> Int32? { named[monitor]?[name] }

    /// Refuses a new descriptor (and gives it back) when the table is full.
    func admit(_ fd: Int32) throws(QMPError) {
        guard count < limit else {
            release(fd)
            throw .generic(
                "qmp-mockd holds \(limit) passed file descriptors already (its limit): close some with closefd or remove-fd"
            )
        }
    }

    /// Closes what QEMU's `monitor_fdset_cleanup` closes in `fdsets[index]`, and drops the set once empty.
    /// Only the closing waits for a running VM (up to 9.0): a set already emptied goes as soon as its
    /// last user does, paused or not (7.2.22, measured). `clients` is the number of monitor client
    /// connections open now (QEMU's `mon_refcount`, ``Machine/monitorClientCount``).
    mutating func cleanUp(at index: Int, running: Bool, clients: Int) {
        var set = fdsets[index]
        let inUse = (users[set.id] ?? 0) > 0
        if running || !cleanupFollowsRunState {
            let unused = cleanupFollowsRunState && clients == 0 && !inUse
            set.members.removeAll { member in
                guard member.isRemoved || unused else { return false }
                release(member.fd)
                return true
            }
        }
        if set.members.isEmpty && !inUse {
            fdsets.remove(at: index)
        } else {
            fdsets[index] = set
        }
    }

    /// A block node opened a descriptor of fd set `id`.
    mutating func fdsetUsed(_ id: Int64) { users[id, default: 0] += 1 }

    /// A block node that used fd set `id` was closed; the last one cleans the set up (QEMU's
    /// `monitor_fdset_dup_fd_remove`).
    mutating func fdsetReleased(_ id: Int64, running: Bool, clients: Int) {
        guard let count = users[id] else { return }
        if count > 1 {
            users[id] = count - 1
            return
        }
        users[id] = nil
        if let index = fdsets.firstIndex(where: { $0.id == id }) {
            cleanUp(at: index, running: running, clients: clients)
        }
    }
}
