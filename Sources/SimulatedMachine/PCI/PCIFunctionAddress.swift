/// A PCI function's address as firmware and `lspci` write it: `BB:DD.F` in hexadecimal (`00:1f.0`),
/// the bus numbered as a booted guest numbers it (see ``Machine/busNumbers()``).
public struct PCIFunctionAddress: Sendable, Equatable {
    public var bus: Int
    public var slot: Int
    public var function: Int

    /// Reads `BB:DD.F`; nil unless bus ≤ 0xff, device ≤ 0x1f and function ≤ 7.
    public init?(_ text: String) {
        let colon = text.split(separator: ":", omittingEmptySubsequences: false)
        guard colon.count == 2 else { return nil }
        let dot = colon[1].split(separator: ".", omittingEmptySubsequences: false)
        guard dot.count == 2, let bus = Int(colon[0], radix: 16), let slot = Int(dot[0], radix: 16),
            let function = Int(dot[1], radix: 16), (0...0xFF).contains(bus), (0...0x1F).contains(slot),
            (0...7).contains(function)
        else { return nil }
        self.bus = bus
        self.slot = slot
        self.function = function
    }
}
