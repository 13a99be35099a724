/// Why an ``ObjectHost`` call failed: the text QEMU puts in its message (`strerror`'s, or for a
/// memfd QEMU's whole sentence).
public struct ObjectHostError: Error, Sendable, Equatable {
    public var text: String

    public init(_ text: String) { self.text = text }
}
