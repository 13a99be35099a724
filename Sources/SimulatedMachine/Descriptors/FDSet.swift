/// An fd set: descriptors grouped under one id by `add-fd`, which a file name `/dev/fdset/ID` refers to
/// (QEMU's `MonFdset`).
public struct FDSet: Sendable, Equatable {
    /// The set's id (`fdset-id`), never negative.
    public let id: Int64
    /// The set's descriptors, oldest first (the order `query-fdsets` lists them in, on 7.2 and 10.0).
    public var members: [FDSetMember] = []

    public init(id: Int64) { self.id = id }
}
