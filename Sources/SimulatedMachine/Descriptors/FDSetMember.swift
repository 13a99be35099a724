/// One descriptor of an fd set (`add-fd`): QEMU's `MonFdsetFd`.
public struct FDSetMember: Sendable, Equatable {
    /// The descriptor, a number the server owns (the daemon's own descriptor, as `add-fd` reports it).
    public let fd: Int32
    /// The `opaque` text given to `add-fd`, shown by `query-fdsets`.
    public let opaque: String?
    /// Marked by `remove-fd`; QEMU 7.2 closes a marked descriptor only once the VM runs (see
    /// ``DescriptorTable``), and until then `query-fdsets` still lists it.
    public var isRemoved = false

    public init(fd: Int32, opaque: String?) {
        self.fd = fd
        self.opaque = opaque
    }
}
