/// The machine's network backends, by id, and those deleted while a NIC still used them.
///
/// QEMU lets `netdev_del` remove a backend a NIC is using: the id is free at once (a new netdev may
/// take it), the NIC keeps its `netdev` property and loses its peer. The backend's descriptors are
/// closed at once up to 9.x (7.2 measured) and only when the NIC is destroyed on 10.0 (measured;
/// ``QEMUProfile/netdevDelKeepsBackendOfNIC``). Such a backend moves to ``orphans`` under a key
/// that is never a valid netdev id, and the NIC's link is renamed to that key, so the NIC's release
/// finds exactly that backend, never a new one of the same id.
public struct NetdevTable: Sendable {
    /// Live backends by id.
    public internal(set) var backends: [String: NetworkBackend] = [:]
    /// Ids in creation order.
    public internal(set) var order: [String] = []
    /// Backends deleted while a NIC held them, by orphan key (`ID#N`).
    var orphans: [String: NetworkBackend] = [:]
    var orphanSerial = 0

    public init() {}

    /// How many descriptors the backends (live and orphaned) hold.
    public var descriptorCount: Int {
        backends.values.reduce(0) { $0 + $1.descriptors.count } + orphans.values.reduce(0) { $0 + $1.descriptors.count }
    }

    mutating func insert(_ backend: NetworkBackend) {
        backends[backend.id] = backend
        order.append(backend.id)
    }

    mutating func remove(_ id: String) -> NetworkBackend? {
        guard let backend = backends.removeValue(forKey: id) else { return nil }
        order.removeAll { $0 == id }
        return backend
    }
}
