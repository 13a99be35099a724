/// Parses a duration for `clock advance`: `5s`, `250ms`, `1.5s`, `2m`, `100us`, or a bare number of
/// milliseconds. Returns milliseconds.
enum Duration {
    static func milliseconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 1), ("us", 0.001), ("ns", 0.000001), ("s", 1000), ("m", 60000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0 else { return nil }
            return value * factor
        }
        guard let value = Double(text), value >= 0 else { return nil }
        return value
    }
}
