/// One backend a device holds: which property named it, what kind of backend, and its name.
public struct BackendLink: Sendable, Equatable {
    /// The device property (`drive`, `netdev`, `chardev`, `rng`).
    public var property: String
    public var kind: BackendKind
    /// The backend's name as the property gave it (a drive id, node name, netdev or chardev id, an object id).
    public var name: String

    public init(property: String, kind: BackendKind, name: String) {
        self.property = property
        self.kind = kind
        self.name = name
    }
}
