import QMPWire

/// Feeds bytes to a ``JSONStreamParser`` and renders what comes out: `ok <json>` or `err <desc>`.
struct StreamHarness {
    var parser: JSONStreamParser

    init(limits: JSONStreamParser.Limits = .qemu) {
        parser = JSONStreamParser(limits: limits)
    }

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        var out: [String] = []
        bytes.withUnsafeBytes { raw in
            var position = 0
            while let result = parser.next(from: raw, position: &position) {
                switch result {
                case .success(let value): out.append("ok \(value.jsonText)")
                case .failure(let error): out.append("err \(error.desc)")
                }
            }
        }
        return out
    }

    mutating func feed(_ text: String) -> [String] { feed(Array(text.utf8)) }

    /// Outputs of `bytes` fed whole, byte by byte, and in chunks of 3, which must agree (the way
    /// swift-nio's ByteToMessageDecoderVerifier drip-feeds decoders).
    static func allFeedings(_ bytes: [UInt8], limits: JSONStreamParser.Limits = .qemu) -> [[String]] {
        var whole = StreamHarness(limits: limits)
        var drip = StreamHarness(limits: limits)
        var chunked = StreamHarness(limits: limits)
        let a = whole.feed(bytes)
        var b: [String] = []
        for byte in bytes { b += drip.feed([byte]) }
        var c: [String] = []
        var i = 0
        while i < bytes.count {
            c += chunked.feed(Array(bytes[i..<min(i + 3, bytes.count)]))
            i += 3
        }
        return [a, b, c]
    }
}
