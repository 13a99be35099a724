public import QMPWire

/// QEMU's parsing of a PCI device's `addr` property (`set_pci_devfn`): `SLOT[.FUNCTION]` in hex
/// (`"4"`, `"0x4.0x1"`, `"04.1"`), or a devfn number; slot 0–31, function 0–7.
public enum PCIAddress {
    /// The devfn, or nil when QEMU would refuse the value.
    public static func parse(_ value: JSONValue) -> UInt8? {
        switch value {
        case .int(let i): return (0...255).contains(i) ? UInt8(i) : nil
        case .string(let s): return parse(s)
        default: return nil
        }
    }

    /// Parses the string form.
    public static func parse(_ text: String) -> UInt8? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let slot = hex(parts[0]), slot <= 31 else { return nil }
        var function = 0
        if parts.count == 2 {
            guard let f = hex(parts[1]), f <= 7 else { return nil }
            function = f
        }
        return UInt8(slot << 3 | function)
    }

    private static func hex(_ text: Substring) -> Int? {
        var digits = text
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        return Int(digits, radix: 16)
    }

    /// `SLOT.FUNCTION` in QEMU's `%x.%x` style.
    public static func text(_ devfn: UInt8) -> String {
        "\(String(devfn >> 3, radix: 16)).\(String(devfn & 7, radix: 16))"
    }
}
