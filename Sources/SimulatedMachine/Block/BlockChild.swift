/// An edge of the block graph: a node's child under its role (`file` for a format's protocol node).
public struct BlockChild: Sendable, Equatable {
    /// The role, as QEMU names it in permission texts (`file`).
    public var role: String
    /// The child's node name.
    public var node: String
}
