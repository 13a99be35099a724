/// Integer literals as configuration files and control commands write them: decimal, `0x` hex or
/// `0o` octal, optionally signed.
public enum IntegerLiteral {
    /// The value, or nil when `text` is not such a literal (or does not fit 64 bits).
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var digits = Substring(text)
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") || digits.hasPrefix("0O") {
            radix = 8
            digits = digits.dropFirst(2)
        }
        guard let first = digits.first, first != "-", first != "+", let magnitude = Int64(digits, radix: radix) else {
            return nil
        }
        return negative ? -magnitude : magnitude
    }
}
