/// What ``BlockHost/truncate`` resizes: a path the host opens read-write for it, or a descriptor the
/// machine holds (a member of an fd set, for a node opened through `/dev/fdset/N`).
public enum BlockHostTarget: Sendable, Equatable {
    /// A path, opened read-write, resized and closed at once.
    case path(String)
    /// A descriptor the machine holds; it stays open.
    case descriptor(Int32)
}
