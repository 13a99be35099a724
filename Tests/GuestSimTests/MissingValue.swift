/// A value a test needed was absent.
struct MissingValue: Error {}

extension Optional {
    /// The value, or a thrown ``MissingValue``.
    func unwrap() throws -> Wrapped {
        guard let self else { throw MissingValue() }
        return self
    }
}
