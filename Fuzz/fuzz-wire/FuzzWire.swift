import FuzzSupport
import QMPWire

// libFuzzer target: QEMU's JSON pipeline on raw bytes. Invariants: no crash; every error is one of
// the parser's GenericError texts; every parsed value survives a write and a re-parse unchanged
// (numbers compared by value: QEMU writes -0.0 as "-0", which reads back as the integer 0).

@_cdecl("fuzz_wire_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
    func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
    if let x = number(a), let y = number(b) { return x == y || (x.isNaN && y.isNaN) }
    switch (a, b) {
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.members.allSatisfy { m in y[m.key].map { sameValue(m.value, $0) } ?? false }
    default:
        return a == b
    }
}

func containsInfinity(_ v: JSONValue) -> Bool {
    switch v {
    case .double(let d): return !d.isFinite
    case .array(let a): return a.contains(where: containsInfinity)
    case .object(let o): return o.members.contains { containsInfinity($0.value) }
    default: return false
    }
}

let allowedErrorPrefixes = [
    "JSON parse error, ", "JSON nesting depth limit exceeded", "JSON token count limit exceeded",
    "JSON token size limit exceeded",
]

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var parser = JSONStreamParser(limits: .init(maxMessageBytes: 1 << 16, maxTokens: 4096, maxNesting: 64))
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    var position = 0
    while let result = parser.next(from: buffer, position: &position) {
        switch result {
        case .failure(let error):
            require(error.errorClass == .genericError, "error class \(error.errorClass)")
            // Bytes, not Characters: `hasPrefix` walks grapheme clusters, and garbage input makes an
            // error per stray byte.
            require(
                allowedErrorPrefixes.contains { error.desc.utf8.starts(with: $0.utf8) },
                "unexpected text: \(error.desc)"
            )
        case .success(let value):
            if containsInfinity(value) { continue }  // QEMU writes inf, which is not JSON
            var text: [UInt8] = []
            JSONWriter.write(value, into: &text)
            require(text.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "writer emitted a non-ASCII or control byte")
            text.append(0x20)
            var again = JSONStreamParser()
            var reparsed: JSONValue?
            text.withUnsafeBytes { raw in
                var p = 0
                if case .success(let v) = again.next(from: raw, position: &p) { reparsed = v }
            }
            require(reparsed.map { sameValue($0, value) } ?? false, "round trip changed \(value.jsonText)")
        }
    }
    return 0
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
